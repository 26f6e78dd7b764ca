use super::{ChangeReport, confirm_and_apply, finish};
use crate::detect::Host;
use crate::error::{Error, Result};
use crate::plan::{Plan, reverse};
use crate::runtimes::{self, RuntimeKind};
use crate::settings::{Settings, TargetSettings};
use crate::ui::Printer;

pub fn run(settings: &Settings, target: &TargetSettings, printer: &Printer) -> Result<u8> {
    // No state dir means nothing was ever installed; do not create one to find that out.
    let mut transaction = settings
        .state
        .begin(!settings.dry_run && settings.state.exists())?;
    let ledger = transaction.ledger();
    let mut resolved = None;
    let id = if target.is_empty() && target.runtime != Some(RuntimeKind::Php) {
        let wanted = target.runtime.map(RuntimeKind::name);
        let recorded: Vec<_> = ledger
            .installs
            .iter()
            .filter(|i| wanted.is_none_or(|w| i.runtime == w))
            .collect();
        match recorded.as_slice() {
            [] => None,
            [only] => Some(only.id.clone()),
            many => {
                let list: Vec<String> = many
                    .iter()
                    .map(|i| format!("--base {}", i.target.display()))
                    .collect();
                return Err(Error::usage(
                    crate::msg!(
                        "uninstall-choose",
                        count = many.len(),
                        list = list.join(" | ")
                    ),
                    crate::msg!("uninstall-choose-hint"),
                ));
            }
        }
    } else {
        let runtime = runtimes::resolve(target, &Host::scan())?;
        let id = runtime.id();
        resolved = Some(runtime);
        Some(id)
    };
    let Some(install) = id.as_deref().and_then(|id| ledger.install(id)).cloned() else {
        let report = ChangeReport::new(
            "uninstall",
            target.runtime.map(RuntimeKind::name).unwrap_or_default(),
            Default::default(),
            settings,
            &Plan::default(),
            printer,
        );
        printer.note(&crate::msg!("uninstall-nothing"));
        report_nothing(printer, report);
        return Ok(0);
    };
    let reversal = reverse::plan_uninstall(ledger, &install, &settings.state)?;
    let mut report = ChangeReport::new(
        "uninstall",
        &install.runtime,
        install.target.clone(),
        settings,
        &reversal.plan,
        printer,
    );
    report.warnings = reversal.warnings;
    report.next_steps = match &resolved {
        Some(runtime) => runtime.uninstall_next_steps(),
        None => vec![crate::msg!("uninstall-next", runtime = install.runtime)],
    };
    if !reversal.plan.changes_anything() && !settings.dry_run {
        // Every file is already back to its original: just forget the record.
        transaction.forget(&install.id)?;
    }
    let outcome = confirm_and_apply(settings, printer, &reversal.plan, report, |plan| {
        // Forgetting the install is the commit: if it fails, the files are put back too.
        transaction.apply_forgetting(plan, &install.id)
    });
    finish(outcome, printer)
}

fn report_nothing(printer: &Printer, report: ChangeReport) {
    if printer.json {
        printer.json(&report);
    }
}
