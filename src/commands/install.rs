use super::{ChangeReport, confirm_and_apply};
use crate::apply::{self, ledger::Ledger, lock};
use crate::cli::RuntimeKind;
use crate::detect::process;
use crate::error::{Error, Result};
use crate::runtimes::tomcat;
use crate::settings::{InstallSettings, Settings};
use crate::ui::Printer;

/// Runtimes whose install is not built yet get a clear refusal, not a guess.
pub fn require_supported(runtime: Option<RuntimeKind>) -> Result<()> {
    match runtime {
        None | Some(RuntimeKind::Tomcat) => Ok(()),
        Some(other) => Err(Error::usage(
            format!(
                "--runtime {}: not supported by this version yet",
                format!("{other:?}").to_lowercase()
            ),
            "supported now: --runtime tomcat",
        )),
    }
}

pub fn run(settings: &Settings, install: &InstallSettings, printer: &Printer) -> Result<u8> {
    printer.add_secret(&install.license);
    require_supported(install.target.runtime)?;
    let processes = process::java_processes(&process::proc_root());
    let target = tomcat::resolve(&install.target, &processes)?;
    // Planning validates every input before anything, even the state dir, is created.
    let planned = tomcat::plan_install(&target, install)?;
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
        tomcat::NAME,
        target.base.clone(),
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
            tomcat::NAME,
            &target.base,
            planned.method.name(),
            plan,
        );
        ledger.save(&state_dir)?;
        if let Err(error) = apply::apply(plan, &state_dir) {
            before.save(&state_dir)?;
            return Err(error);
        }
        Ok(())
    })
}
