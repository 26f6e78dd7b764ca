use super::{ChangeReport, confirm_and_apply};
use crate::apply::{self, ledger::Ledger, lock};
use crate::detect::Host;
use crate::error::Result;
use crate::runtimes;
use crate::settings::{InstallSettings, Settings};
use crate::ui::Printer;

pub fn run(settings: &Settings, install: &InstallSettings, printer: &Printer) -> Result<u8> {
    printer.add_secret(&install.license);
    let host = Host::scan();
    let target = runtimes::resolve(&install.target, &host)?;
    // Planning validates every input before anything, even the state dir, is created.
    let planned = target.plan_install(install)?;
    // A dry run or a no-op changes nothing: no lock, no ledger write. Apply re-checks every
    // file against the plan, so a change made between planning and locking is refused.
    let _lock = if settings.dry_run || !planned.plan.changes_anything() {
        None
    } else {
        Some(lock::acquire(&settings.state_dir)?)
    };
    let mut ledger = Ledger::load(&settings.state_dir)?;
    let mut report = ChangeReport::new(
        "install",
        target.kind(),
        target.target(),
        settings,
        &planned.plan,
        printer,
    );
    report.next_steps = planned.next_steps.clone();
    report.warnings = planned.warnings.clone();
    let state_dir = settings.state_dir.clone();
    confirm_and_apply(settings, printer, &planned.plan, report, |plan| {
        let before = ledger.clone();
        // The ledger is written first: a crash mid-apply still leaves a way back.
        ledger.record_install(
            &target.id(),
            target.kind(),
            &target.target(),
            &planned.method,
            plan,
        );
        let result = ledger
            .save(&state_dir)
            .and_then(|()| apply::apply(plan, &state_dir, || Ok(())));
        if let Err(error) = result {
            // Also when the save itself failed after its rename: the ledger must not keep
            // an install whose files were not written.
            before.save(&state_dir)?;
            return Err(error);
        }
        Ok(())
    })
}
