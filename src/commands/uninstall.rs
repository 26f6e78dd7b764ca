use super::{ChangeReport, confirm_and_apply, finish};
use crate::apply::ledger::{InstallRecord, Ledger};
use crate::detect::Host;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::plan::reverse::{self, Reversal};
use crate::runtimes::{self, RuntimeKind};
use crate::settings::{Settings, TargetSettings};
use crate::ui::Printer;

pub fn run(settings: &Settings, target: &TargetSettings, printer: &Printer) -> Result<u8> {
    let named = if target.is_empty() && target.runtime != Some(RuntimeKind::Php) {
        None
    } else {
        Some(runtimes::resolve(target, &Host::scan())?.id())
    };
    // Which install and its reversal, from the ledger: planned again under the locks. No
    // state dir means nothing was ever installed; none is created to find that out.
    let (mut transaction, chosen) = settings.state.transaction(
        settings.dry_run,
        |ledger| choose(ledger, target, named.as_deref(), settings),
        |chosen| chosen.as_ref().map(|(_, reversal)| &reversal.plan),
    )?;
    let Some((install, reversal)) = chosen else {
        let report = ChangeReport::new(
            "uninstall",
            target.runtime.map(RuntimeKind::name).unwrap_or_default(),
            Default::default(),
            settings,
            &Plan::default(),
            printer,
        );
        printer.note(&crate::msg!(
            "uninstall-nothing",
            state = settings.state.path().display()
        ));
        report_nothing(printer, report);
        return Ok(0);
    };
    let mut report = ChangeReport::new(
        "uninstall",
        &install.runtime,
        install.target.clone(),
        settings,
        &reversal.plan,
        printer,
    );
    report.warnings = reversal.warnings;
    report.next_steps = vec![crate::msg!("uninstall-next", runtime = install.runtime)];
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

/// The install to remove (the one `named`, else the only one recorded) and its reversal.
fn choose(
    ledger: &Ledger,
    target: &TargetSettings,
    named: Option<&str>,
    settings: &Settings,
) -> Result<Option<(InstallRecord, Reversal)>> {
    let id = match named {
        Some(id) => Some(id.to_string()),
        None => {
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
        }
    };
    let Some(install) = id.as_deref().and_then(|id| ledger.install(id)).cloned() else {
        return Ok(None);
    };
    let reversal = reverse::plan_uninstall(ledger, &install, &settings.state)?;
    Ok(Some((install, reversal)))
}

fn report_nothing(printer: &Printer, report: ChangeReport) {
    if printer.json {
        printer.json(&report);
    }
}
