use super::{AttachReport, ChangeReport, confirm_and_apply};
use crate::apply::{self, ledger::InstallKey, ledger::Ledger, lock};
use crate::detect::Host;
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::Plan;
use crate::runtimes::{self, attach, java};
use crate::settings::{InstallSettings, Settings};
use crate::ui::Printer;
use crate::{agent, ui};
use std::path::PathBuf;

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
    // A JVM that cannot be attached to is refused before anything is written.
    let attach_to = if install.attach {
        let pid = target.detection().pid.ok_or_else(|| {
            Error::usage(
                msg!("attach-not-running", target = target.target().display()),
                msg!("attach-not-running-hint"),
            )
        })?;
        let jvm = attach::Jvm::open(pid)?;
        jvm.check_jvm()?;
        let jar = agent_jar(&planned.plan)
            .ok_or_else(|| Error::Internal("install plan without an agent jar".into()))?;
        Some((jvm, jar))
    } else {
        None
    };
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
    let mut outcome = confirm_and_apply(settings, printer, &planned.plan, report, |plan| {
        apply::apply_recorded(plan, &settings.state_dir, &mut ledger, &key)
    })?;
    // Attach once the javaagent option is in place (or already was); never on a dry run or
    // a refused confirmation. The install stands whatever attach does: its outcome is
    // reported and the restart hint still holds.
    if outcome.code == 0 && !settings.dry_run {
        outcome.report.attach = attach_to.as_ref().map(|(jvm, jar)| {
            let loaded = jvm.load_agent(jar, None);
            AttachReport {
                pid: jvm.pid,
                ok: loaded.is_ok(),
                message: match loaded {
                    Ok(_) => format!("agent {} loaded", jar.display()),
                    Err(e) => format!("{e} ({})", e.hint().unwrap_or_default()),
                },
            }
        });
    }
    outcome.print(printer);
    Ok(outcome.code)
}

/// The jar an install puts in place: the copied one, else the newest beside whatap.conf.
fn agent_jar(plan: &Plan) -> Option<PathBuf> {
    if let Some(copy) = plan
        .edits
        .iter()
        .find(|e| e.binary && e.path.extension().is_some_and(|x| x == "jar"))
    {
        return Some(copy.path.clone());
    }
    plan.edits
        .iter()
        .find(|e| e.path.file_name().is_some_and(|n| n == "whatap.conf"))
        .and_then(|conf| java::newest_jar_in(conf.path.parent()?))
}
