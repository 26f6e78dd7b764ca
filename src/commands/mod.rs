//! One module per subcommand: typed settings in, exit status out. The shared tail of every
//! command that changes files (show -> confirm -> apply -> verify -> report) lives here.

pub mod bundle;
pub mod completions;
pub mod detect;
pub mod doctor;
pub mod history;
pub mod install;
pub mod report;
pub mod uninstall;
pub mod wizard;

use crate::error::{Error, Result};
use crate::msg;
use crate::plan::{Action, Plan, diff};
use crate::settings::Settings;
use crate::ui::Printer;
use serde::Serialize;
use std::path::PathBuf;

/// The JSON document of install / uninstall (`../shared/docs/cli.md`).
#[derive(Debug, Serialize)]
pub struct ChangeReport {
    pub command: &'static str,
    pub runtime: String,
    pub target: PathBuf,
    pub changed: bool,
    pub dry_run: bool,
    pub files: Vec<FileReport>,
    /// Programs the plan runs on apply (pip into the app's interpreter), as typed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub run: Vec<String>,
    pub diff: String,
    pub next_steps: Vec<String>,
    pub warnings: Vec<String>,
    /// `install --attach`: what loading the agent into the running JVM did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach: Option<AttachReport>,
}

#[derive(Debug, Serialize)]
pub struct AttachReport {
    pub pid: u32,
    pub ok: bool,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct FileReport {
    pub path: PathBuf,
    pub action: Action,
    pub backup: Option<PathBuf>,
}

impl ChangeReport {
    pub fn new(
        command: &'static str,
        runtime: &str,
        target: PathBuf,
        settings: &Settings,
        plan: &Plan,
        printer: &Printer,
    ) -> ChangeReport {
        let links = plan
            .links
            .iter()
            .map(|l| (l, Action::Created))
            .chain(plan.remove_links.iter().map(|l| (l, Action::Deleted)))
            .map(|(l, action)| FileReport {
                path: l.path.clone(),
                action,
                backup: None,
            });
        let files = plan
            .edits
            .iter()
            .map(|e| FileReport {
                path: e.path.clone(),
                action: e.action(),
                backup: match (e.action(), &e.before) {
                    (Action::Modified | Action::Deleted, Some(before)) if command == "install" => {
                        Some(settings.state.backup_of(before))
                    }
                    _ => None,
                },
            })
            .chain(links)
            // A registry value is listed by its `HKLM\...\name`; the ledger keeps its original.
            .chain(plan.registry.iter().map(|r| FileReport {
                path: PathBuf::from(r.display()),
                action: r.action(),
                backup: None,
            }))
            .collect();
        ChangeReport {
            command,
            runtime: runtime.to_string(),
            target,
            // A dry run says what the real run would change (Ansible's check mode reads it).
            changed: settings.dry_run && plan.changes_anything(),
            dry_run: settings.dry_run,
            files,
            run: plan
                .run
                .iter()
                .chain(&plan.run_after)
                .map(|s| printer.redact(&s.display()))
                .collect(),
            diff: diff::render(plan, &|s| printer.redact(s)),
            next_steps: Vec::new(),
            warnings: Vec::new(),
            attach: None,
        }
    }

    fn print_text(&self, printer: &Printer, show_diff: bool) {
        let mut text = String::new();
        if show_diff && !self.diff.is_empty() {
            text.push_str(&printer.diff_text(&self.diff));
            text.push('\n');
        }
        // One whole-sentence template per outcome: Korean puts the verb elsewhere than English.
        let (runtime, target) = (&self.runtime, self.target.display());
        let header = match (self.command, self.dry_run, self.changed) {
            (_, true, _) => msg!("report-dry-run", runtime = runtime, target = target),
            ("install", _, true) => msg!("report-installed", runtime = runtime, target = target),
            ("uninstall", _, true) => {
                msg!("report-uninstalled", runtime = runtime, target = target)
            }
            (_, _, false) if self.files.iter().any(|f| f.action != Action::Unchanged) => {
                msg!("report-not-applied", runtime = runtime, target = target)
            }
            (_, _, false) => msg!("report-nothing", runtime = runtime, target = target),
            _ => msg!("report-done", runtime = runtime, target = target),
        };
        text.push_str(&format!("{}\n", printer.bold(&header)));
        for step in &self.run {
            text.push_str(&format!("  {:<9} {step}\n", "run"));
        }
        for file in &self.files {
            let action = action_word(file.action);
            text.push_str(&format!("  {action:<9} {}\n", file.path.display()));
        }
        if let Some(attach) = &self.attach {
            let outcome = if attach.ok {
                printer.green("attached:")
            } else {
                printer.yellow("attach failed:")
            };
            text.push_str(&format!(
                "{outcome} PID {}: {}\n",
                attach.pid, attach.message
            ));
        }
        for warning in &self.warnings {
            text.push_str(&format!(
                "{} {warning}\n",
                printer.yellow(&msg!("label-warning"))
            ));
        }
        for step in &self.next_steps {
            text.push_str(&format!("{} {step}\n", printer.bold(&msg!("label-next"))));
        }
        printer.report(&text);
    }
}

/// What `confirm_and_apply` did, for the caller to print alone or inside its own report.
pub struct Outcome {
    pub code: u8,
    pub report: ChangeReport,
    show_diff: bool,
    /// Set when the change needed a confirmation nobody could give.
    refusal: Option<Error>,
}

impl Outcome {
    /// As the command's whole output: the report (text and document), or the refusal with the
    /// plan nobody confirmed (the error document, never a success shape).
    pub fn print(&self, printer: &Printer) {
        self.print_text(printer);
        match &self.refusal {
            Some(refusal) => {
                printer.refusal(self.report.command, refusal, &PlanDoc::of([&self.report]))
            }
            None => printer.document(&self.report),
        }
    }

    /// Only the text, for a command that prints this inside its own report (doctor --fix).
    fn print_text(&self, printer: &Printer) {
        if !printer.json {
            self.report.print_text(printer, self.show_diff);
        }
    }
}

/// A change that was refused: what it would have done, as the error document's `plan`.
#[derive(Serialize)]
pub struct PlanDoc<'a> {
    files: Vec<&'a FileReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    run: Vec<&'a str>,
    diff: String,
}

impl<'a> PlanDoc<'a> {
    fn of(reports: impl IntoIterator<Item = &'a ChangeReport>) -> PlanDoc<'a> {
        let mut plan = PlanDoc {
            files: Vec::new(),
            run: Vec::new(),
            diff: String::new(),
        };
        for report in reports {
            plan.files.extend(&report.files);
            plan.run.extend(report.run.iter().map(String::as_str));
            plan.diff.push_str(&report.diff);
        }
        plan
    }
}

/// A command line clap refused: clap's own message and exit code, or with `--json` the error
/// document (bad input, exit 2). `--help` and `--version` print as always.
pub fn bad_command_line(error: clap::Error, raw: &crate::settings::RawArgs) -> u8 {
    if !raw.json || !error.use_stderr() {
        error.exit();
    }
    let rendered = error.to_string();
    let message = rendered
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ");
    let hint = rendered
        .lines()
        .find_map(|l| l.trim().strip_prefix("tip: "))
        .map(str::to_string)
        .unwrap_or_else(|| msg!("usage-see-help", command = raw.command));
    let error = Error::usage(message, hint);
    let printer = Printer::bare(true);
    printer.error(&raw.command, &error);
    printer.print_document(&printer.take_document().unwrap_or_default());
    error.exit_code()
}

/// The end of every command: a failure becomes the error (text, and the document that
/// replaces any other); the document is written to `--output` and printed with `--json`.
/// Returns the exit code.
pub fn conclude(settings: &Settings, printer: &Printer, command: &str, result: Result<u8>) -> u8 {
    let mut code = match result {
        Ok(code) => code,
        Err(error) => {
            printer.error(command, &error);
            error.exit_code()
        }
    };
    let Some(mut document) = printer.take_document() else {
        return code;
    };
    if let Some(path) = &settings.output {
        if let Err(error) = crate::apply::atomic::replace(path, document.as_bytes()) {
            printer.error(command, &error);
            code = error.exit_code();
            document = printer.take_document().unwrap_or_default();
        }
    }
    printer.print_document(&document);
    code
}

/// What happened to a file, as the reports say it.
pub fn action_word(action: Action) -> String {
    match action {
        Action::Created => msg!("action-created"),
        Action::Modified => msg!("action-modified"),
        Action::Deleted => msg!("action-deleted"),
        Action::Unchanged => msg!("action-unchanged"),
    }
}

/// Prints the outcome as the command's whole output and returns its exit code.
pub fn finish(outcome: Result<Outcome>, printer: &Printer) -> Result<u8> {
    let outcome = outcome?;
    outcome.print(printer);
    Ok(outcome.code)
}

/// Shows the plan, asks (or requires --yes), applies through `apply`, verifies.
pub fn confirm_and_apply(
    settings: &Settings,
    printer: &Printer,
    plan: &Plan,
    mut report: ChangeReport,
    apply: impl FnOnce(&Plan) -> Result<()>,
) -> Result<Outcome> {
    // The caller's transaction holds the locks from before the plan was made to the end.
    let outcome = |code, report, show_diff, refusal| Outcome {
        code,
        report,
        show_diff,
        refusal,
    };
    if !plan.changes_anything() {
        return Ok(outcome(0, report, false, None));
    }
    if settings.dry_run {
        return Ok(outcome(0, report, true, None));
    }
    if !settings.yes {
        if settings.interactive && !settings.json {
            printer.report(&printer.diff_text(&report.diff));
            if !asked_to_apply() {
                return Err(Error::refused(
                    msg!("refused-not-confirmed"),
                    msg!("refused-not-confirmed-hint"),
                ));
            }
        } else {
            let refusal = Error::refused(
                msg!("refused-no-terminal"),
                msg!("refused-no-terminal-hint"),
            );
            return Ok(outcome(refusal.exit_code(), report, true, Some(refusal)));
        }
    }
    {
        // Ctrl-C now would leave the plan half applied: it waits until apply is done.
        let _held = crate::ui::interrupt::hold();
        apply(plan)?;
    }
    verify(plan)?;
    report.changed = true;
    Ok(outcome(0, report, settings.verbose, None))
}

/// "Apply these changes?" on the terminal; no answer is no.
pub fn asked_to_apply() -> bool {
    dialoguer::Confirm::new()
        .with_prompt(msg!("prompt-apply"))
        .default(false)
        .interact()
        .unwrap_or(false)
}

/// After apply: every file holds exactly the planned bytes.
fn verify(plan: &Plan) -> Result<()> {
    for edit in &plan.edits {
        let limit = Some(crate::plan::target::MAX_BINARY_FILE);
        let now = crate::plan::target::read_regular(&edit.path, limit)
            .ok()
            .flatten();
        // A program run after the files may delete one it owns (uninstall's package
        // removal takes the service script it was given back); one still there is as planned.
        if now.is_none() && !plan.run_after.is_empty() {
            continue;
        }
        if now != edit.after {
            return Err(Error::ApplyFailed {
                message: msg!("verify-differs", path = edit.path.display()),
            });
        }
    }
    Ok(())
}
