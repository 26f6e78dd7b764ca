//! One module per subcommand: typed settings in, exit status out. The shared tail of every
//! command that changes files (show -> confirm -> apply -> verify -> report) lives here.

pub mod completions;
pub mod detect;
pub mod doctor;
pub mod install;
pub mod uninstall;

use crate::apply::atomic::sha256_hex;
use crate::error::{Error, Result};
use crate::plan::{Action, Plan, diff};
use crate::settings::Settings;
use crate::ui::Printer;
use serde::Serialize;
use std::path::PathBuf;

/// The JSON document of install / uninstall (docs/cli.md).
#[derive(Debug, Serialize)]
pub struct ChangeReport {
    pub command: &'static str,
    pub runtime: String,
    pub target: PathBuf,
    pub changed: bool,
    pub dry_run: bool,
    pub files: Vec<FileReport>,
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
        let files = plan
            .edits
            .iter()
            .map(|e| FileReport {
                path: e.path.clone(),
                action: e.action(),
                backup: match (e.action(), &e.before) {
                    (Action::Modified | Action::Deleted, Some(before)) if command == "install" => {
                        Some(settings.state_dir.join("backups").join(sha256_hex(before)))
                    }
                    _ => None,
                },
            })
            .collect();
        ChangeReport {
            command,
            runtime: runtime.to_string(),
            target,
            changed: false,
            dry_run: settings.dry_run,
            files,
            diff: diff::render(plan, &|s| printer.redact(s)),
            next_steps: Vec::new(),
            warnings: Vec::new(),
            attach: None,
        }
    }

    fn print(&self, printer: &Printer, show_diff: bool) {
        if printer.json {
            printer.json(self);
            return;
        }
        let mut text = String::new();
        if show_diff && !self.diff.is_empty() {
            text.push_str(&printer.diff_text(&self.diff));
            text.push('\n');
        }
        let verb = match (self.command, self.dry_run, self.changed) {
            (_, true, _) => "Plan (dry run, nothing changed)",
            ("install", _, true) => "Installed",
            ("uninstall", _, true) => "Uninstalled",
            (_, _, false) if self.files.iter().any(|f| f.action != Action::Unchanged) => {
                "Plan (not applied)"
            }
            (_, _, false) => "Nothing to change",
            _ => "Done",
        };
        text.push_str(&format!(
            "{} {} {}\n",
            printer.bold(verb),
            self.runtime,
            self.target.display()
        ));
        for file in &self.files {
            let action = format!("{:?}", file.action).to_lowercase();
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
            text.push_str(&format!("{} {warning}\n", printer.yellow("warning:")));
        }
        for step in &self.next_steps {
            text.push_str(&format!("{} {step}\n", printer.bold("next:")));
        }
        printer.report(&text);
    }
}

/// Shows the plan, asks (or requires --yes), applies through `apply`, verifies, runs `after`
/// (also when there was nothing to change, never on a dry run), reports.
pub fn confirm_and_apply(
    settings: &Settings,
    printer: &Printer,
    plan: &Plan,
    mut report: ChangeReport,
    apply: impl FnOnce(&Plan) -> Result<()>,
    after: impl FnOnce() -> Option<AttachReport>,
) -> Result<u8> {
    if !plan.changes_anything() {
        if !settings.dry_run {
            report.attach = after();
        }
        report.print(printer, false);
        return Ok(0);
    }
    if settings.dry_run {
        report.print(printer, true);
        return Ok(0);
    }
    if !settings.yes {
        if settings.interactive && !settings.json {
            printer.report(&printer.diff_text(&report.diff));
            let go = dialoguer::Confirm::new()
                .with_prompt("Apply these changes?")
                .default(false)
                .interact()
                .unwrap_or(false);
            if !go {
                return Err(Error::refused(
                    "not confirmed; nothing was changed",
                    "answer yes, or pass --yes",
                ));
            }
        } else {
            report.print(printer, true);
            let refusal = Error::refused(
                "confirmation needed: no terminal to ask on (or CI=true); nothing was changed",
                "review the plan above, then run the same command with --yes",
            );
            if !printer.json {
                printer.error(report.command, &refusal);
            }
            return Ok(refusal.exit_code());
        }
    }
    apply(plan)?;
    verify(plan)?;
    report.changed = true;
    report.attach = after();
    report.print(printer, settings.verbose);
    Ok(0)
}

/// After apply: every file holds exactly the planned bytes.
fn verify(plan: &Plan) -> Result<()> {
    for edit in &plan.edits {
        let now = std::fs::read(&edit.path).ok();
        if now != edit.after {
            return Err(Error::ApplyFailed {
                message: format!(
                    "{}: content differs from the plan after writing",
                    edit.path.display()
                ),
            });
        }
    }
    Ok(())
}
