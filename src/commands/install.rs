use super::{AttachReport, ChangeReport, confirm_and_apply};
use crate::apply::ledger::InstallKey;
use crate::detect::Host;
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::Plan;
use crate::runtimes;
use crate::runtimes::java::{agent::newest_jar_in, attach};
use crate::settings::{InstallSettings, Settings};
use crate::ui::Printer;
use crate::{agent, ui};
use std::path::PathBuf;

/// The agent distribution `--agent-archive` names, as the directory runtimes copy from: a
/// directory as given, an archive or URL unpacked into the state dir's cache.
fn agent_files(settings: &Settings, install: &InstallSettings) -> Result<Option<PathBuf>> {
    let Some(source) = &install.agent_source else {
        return Ok(None);
    };
    let progress = ui::progress::reporter(settings, "agent");
    let cache = settings.state.agent_cache();
    let fetch = agent::Fetch {
        sha256: install.sha256.as_deref(),
        offline: install.offline,
        cacert: install.cacert.as_deref(),
        cache: &cache,
        progress: progress.as_ref(),
    };
    agent::unpacked(source, &fetch).map(Some)
}

pub fn run(settings: &Settings, install: &InstallSettings, printer: &Printer) -> Result<u8> {
    printer.add_secret(&install.license);
    let host = Host::scan();
    let target = runtimes::resolve(&install.target, &host)?;
    let dist = if target.kind().takes_archive_as_is() {
        None
    } else {
        agent_files(settings, install)?
    };
    let install = &InstallSettings {
        recorded: recorded(settings, &target.id()),
        ..install.clone()
    };
    // Planning validates every input before anything, even the state dir, is created.
    let planned = target.plan_install(install, dist.as_deref())?;
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
    let mut transaction = settings
        .state
        .begin(!settings.dry_run && planned.plan.changes_anything())?;
    let mut report = ChangeReport::new(
        "install",
        target.kind().name(),
        target.target(),
        settings,
        &planned.plan,
        printer,
    );
    report.next_steps = planned.next_steps.clone();
    report.warnings = planned.warnings.clone();
    let id = target.id();
    let base = target.target();
    let mut selectors = runtimes::selector_words(&install.target, target.kind());
    selectors.extend(runtimes::selector_words(&target.selection(), target.kind()));
    let key = InstallKey {
        id: &id,
        runtime: target.kind().name(),
        target: &base,
        method: &planned.method,
        selectors: &selectors,
    };
    let mut outcome = confirm_and_apply(settings, printer, &planned.plan, report, |plan| {
        transaction.apply_recorded(plan, &key)
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

/// What the ledger recorded for an earlier install of `id`, per file (read without the lock:
/// apply re-checks every file against the plan).
fn recorded(settings: &Settings, id: &str) -> Vec<(PathBuf, crate::plan::Ownership)> {
    let Ok(ledger) = settings.state.load_ledger() else {
        return Vec::new();
    };
    let Some(install) = ledger.install(id) else {
        return Vec::new();
    };
    install
        .paths
        .iter()
        .filter_map(|p| ledger.file(p))
        .map(|f| (f.path.clone(), f.ownership.clone()))
        .collect()
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
        .and_then(|conf| newest_jar_in(conf.path.parent()?))
}
