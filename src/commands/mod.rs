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
        for warning in &self.warnings {
            text.push_str(&format!("{} {warning}\n", printer.yellow("warning:")));
        }
        for step in &self.next_steps {
            text.push_str(&format!("{} {step}\n", printer.bold("next:")));
        }
        printer.report(&text);
    }
}

/// Shows the plan, asks (or requires --yes), applies through `apply`, verifies, reports.
pub fn confirm_and_apply(
    settings: &Settings,
    printer: &Printer,
    plan: &Plan,
    mut report: ChangeReport,
    apply: impl FnOnce(&Plan) -> Result<()>,
) -> Result<u8> {
    // Held from here to the end: a second whatap on the same files is refused (exit 3), and
    // temp files a killed run left next to them are swept even when nothing is left to change.
    let _targets = if settings.dry_run {
        None
    } else {
        Some(crate::apply::lock::acquire_targets(plan)?)
    };
    if !plan.changes_anything() {
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
