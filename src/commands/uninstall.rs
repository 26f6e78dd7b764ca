use super::{ChangeReport, confirm_and_apply, finish};
use crate::apply::{self, ledger::Ledger, lock};
use crate::detect::Host;
use crate::error::{Error, Result};
use crate::plan::{Plan, reverse};
use crate::runtimes;
use crate::settings::{Settings, TargetSettings};
use crate::ui::Printer;

pub fn run(settings: &Settings, target: &TargetSettings, printer: &Printer) -> Result<u8> {
    // No state dir means nothing was ever installed; do not create one to find that out.
    let _lock = if settings.dry_run || !settings.state_dir.exists() {
        None
    } else {
        Some(lock::acquire(&settings.state_dir)?)
    };
    let mut ledger = Ledger::load(&settings.state_dir)?;
    let id = if target.is_empty() && target.runtime != Some(crate::cli::RuntimeKind::Php) {
        let wanted = target.runtime.map(runtimes::kind_name);
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
        Some(runtimes::resolve(target, &Host::scan())?.id())
    };
    let Some(install) = id.as_deref().and_then(|id| ledger.install(id)).cloned() else {
        let report = ChangeReport::new(
            "uninstall",
            target.runtime.map(runtimes::kind_name).unwrap_or_default(),
            Default::default(),
            settings,
            &Plan::default(),
            printer,
        );
        printer.note(&crate::msg!("uninstall-nothing"));
        report_nothing(printer, report);
        return Ok(0);
    };
    let reversal = reverse::plan_uninstall(&ledger, &install, &settings.state_dir)?;
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
    let state_dir = settings.state_dir.clone();
    let forget = |ledger: &mut Ledger| -> Result<()> {
        let before = ledger.clone();
        ledger.forget_install(&install.id);
        if let Err(error) = ledger.save(&state_dir) {
            // Even a save that failed after its rename: the record must stay while the
            // files are being put back as installed.
            before.save(&state_dir)?;
            *ledger = before;
            return Err(error);
        }
        apply::collect_garbage(&state_dir, &ledger.referenced_backups());
        Ok(())
    };
    if !reversal.plan.changes_anything() && !settings.dry_run {
        // Every file is already back to its original: just forget the record.
        forget(&mut ledger)?;
    }
    let outcome = confirm_and_apply(settings, printer, &reversal.plan, report, |plan| {
        // Forgetting the install is the commit: if it fails, the files are put back too.
        apply::apply(plan, &state_dir, || forget(&mut ledger))
    });
    finish(outcome, printer)
}

fn report_nothing(printer: &Printer, report: ChangeReport) {
    if printer.json {
        printer.json(&report);
    }
}
