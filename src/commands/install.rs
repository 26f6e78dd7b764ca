use super::{ChangeReport, confirm_and_apply, finish};
use crate::apply::{self, ledger::InstallKey, ledger::Ledger, lock};
use crate::detect::Host;
use crate::error::Result;
use crate::runtimes;
use crate::settings::{InstallSettings, Settings};
use crate::ui::Printer;
use crate::{agent, ui};

/// An archive or URL becomes the unpacked directory the runtimes copy from.
fn with_agent_unpacked(settings: &Settings, install: &InstallSettings) -> Result<InstallSettings> {
    let mut install = install.clone();
    if let Some(source) = &install.agent_source {
        let progress = ui::progress::reporter(settings, "agent");
        let fetch = agent::Fetch {
            sha256: install.sha256.as_deref(),
            offline: install.offline,
            state_dir: &settings.state_dir,
            progress: progress.as_ref(),
        };
        install.agent_archive = Some(agent::unpacked(source, &fetch)?);
    }
    Ok(install)
}

pub fn run(settings: &Settings, install: &InstallSettings, printer: &Printer) -> Result<u8> {
    printer.add_secret(&install.license);
    let host = Host::scan();
    let target = runtimes::resolve(&install.target, &host)?;
    let install = &with_agent_unpacked(settings, install)?;
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
    let id = target.id();
    let base = target.target();
    let key = InstallKey {
        id: &id,
        runtime: target.kind(),
        target: &base,
        method: &planned.method,
    };
    let outcome = confirm_and_apply(settings, printer, &planned.plan, report, |plan| {
        apply::apply_recorded(plan, &settings.state_dir, &mut ledger, &key)
    });
    finish(outcome, printer)
}
