use super::{AttachReport, ChangeReport, confirm_and_apply};
use crate::apply::ledger::{InstallKey, Ledger};
use crate::apply::state::StateDir;
use crate::detect::Host;
use crate::edit::marker;
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::{Ownership, Plan, RunStep, Undo, reverse};
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
    if !matches!(source, agent::AgentSource::Dir(_)) {
        // The cache lives in the state dir: created private, used only when trusted.
        settings.state.ensure_private()?;
    }
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
    if install.service.is_some() && target.kind() != runtimes::RuntimeKind::Tomcat {
        return Err(Error::usage(
            msg!("service-tomcat-only", runtime = target.kind().name()),
            msg!("service-tomcat-only-hint"),
        ));
    }
    let mut dist = if target.kind().takes_archive_as_is() {
        None
    } else {
        agent_files(settings, install)?
    };
    let mut remove = None;
    match prepare(settings, install, target.as_ref(), printer)? {
        Prepare::Nothing => {}
        Prepare::Dist(prepared, removal) => (dist, remove) = (Some(prepared), removal),
        Prepare::Shown => return Ok(0),
    }
    let id = target.id();
    // Planned first without locks: every input is validated before anything, even the state
    // dir, is created; then again under the locks of every directory it writes in, with what
    // the ledger recorded for an earlier install of this target.
    let (mut transaction, planned) = settings.state.transaction(
        settings.dry_run,
        |ledger| {
            let install = InstallSettings {
                recorded: recorded(ledger, &id),
                recorded_registry: ledger
                    .install(&id)
                    .map(|i| i.registry.iter().flat_map(|r| r.added.clone()).collect())
                    .unwrap_or_default(),
                ..install.clone()
            };
            let mut planned = target.plan_install(&install, dist.as_deref())?;
            // The package these commands installed goes again with the install.
            if let Some(step) = &remove {
                planned
                    .plan
                    .undo
                    .push(Undo::RunAfter { step: step.clone() });
            }
            refuse_blocks_not_ours(&planned.plan, ledger, &settings.state)?;
            Ok(planned)
        },
        |planned| planned.plan.changes_anything().then_some(&planned.plan),
    )?;
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

enum Prepare {
    Nothing,
    /// The distribution to install from, and what removes the package that was just put in
    /// place (None when it was there before).
    Dist(PathBuf, Option<RunStep>),
    /// A dry run: the commands were shown; the rest cannot be planned without the package.
    Shown,
}

/// `--install-package`: the runtime's package commands, shown and confirmed like a plan, then
/// run (argument vectors, stopping at the first failure with its stderr) before the install
/// is planned from the distribution they leave.
fn prepare(
    settings: &Settings,
    install: &InstallSettings,
    target: &dyn runtimes::instance::Runtime,
    printer: &Printer,
) -> Result<Prepare> {
    let Some(prepared) = target.prepare_install(install, &settings.state.package_cache())? else {
        return Ok(Prepare::Nothing);
    };
    if prepared.steps.is_empty() {
        return Ok(Prepare::Dist(prepared.dist, None));
    }
    let mut text = format!("{}\n", msg!("install-package-plan"));
    for (url, path) in &prepared.downloads {
        let line = msg!("install-package-download", url = url, path = path.display());
        text.push_str(&format!("  {line}\n"));
    }
    for step in &prepared.steps {
        text.push_str(&format!("  $ {}\n", step.display()));
    }
    printer.report(&text);
    if settings.dry_run {
        printer.note(&msg!("install-package-dry-run"));
        let steps: Vec<String> = prepared.steps.iter().map(|s| s.display()).collect();
        printer.document(&serde_json::json!({
            "command": "install",
            "dry_run": true,
            "changed": false,
            "package_steps": steps,
        }));
        return Ok(Prepare::Shown);
    }
    if !settings.yes && (!settings.interactive || settings.json) {
        return Err(Error::refused(
            msg!("refused-no-terminal"),
            msg!("refused-no-terminal-hint"),
        ));
    }
    if !settings.yes && !super::asked_to_apply() {
        return Err(Error::refused(
            msg!("refused-not-confirmed"),
            msg!("refused-not-confirmed-hint"),
        ));
    }
    settings.state.ensure_private()?;
    let write = |path: &std::path::Path, bytes: &[u8]| -> Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
    };
    for dir in &prepared.dirs {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    for (path, bytes) in &prepared.files {
        write(path, bytes)?;
    }
    if !prepared.downloads.is_empty() {
        let client = agent::download::client(install.cacert.as_deref())?;
        for (url, path) in &prepared.downloads {
            let text = agent::download::fetch_text(&client, url)?.ok_or_else(|| {
                Error::usage(
                    msg!("install-package-not-found", url = url),
                    msg!("install-package-not-found-hint"),
                )
            })?;
            write(path, text.as_bytes())?;
        }
    }
    for step in &prepared.steps {
        printer.note(&format!("$ {}", step.display()));
        crate::apply::run_step(step)?;
    }
    Ok(Prepare::Dist(prepared.dist, prepared.remove))
}

/// A WHATAP block the plan would replace must be the one this state dir's ledger recorded,
/// exactly: replacing a block a person edited would lose the edit, and one nobody recorded
/// (added by hand, or by an install with another state dir) could not be uninstalled.
fn refuse_blocks_not_ours(plan: &Plan, ledger: &Ledger, state: &StateDir) -> Result<()> {
    for edit in &plan.edits {
        let (Some(before), Ownership::Block { style, .. }) = (&edit.before, &edit.ownership) else {
            continue;
        };
        let Ok(Some(span)) = marker::find_block(before, *style) else {
            continue;
        };
        let path = edit.path.display();
        match ledger.file(&edit.path).map(|f| &f.ownership) {
            Some(Ownership::Block { text, .. }) => {
                if let Some(line) = reverse::block_edited_at(before, span, *style, text) {
                    return Err(Error::refused(
                        msg!("install-block-edited", path = path, line = line),
                        msg!("install-block-edited-hint"),
                    ));
                }
            }
            _ => {
                return Err(Error::refused(
                    msg!(
                        "install-block-unrecorded",
                        path = path,
                        line = span.start + 1,
                        state = state.path().display()
                    ),
                    msg!("install-block-unrecorded-hint"),
                ));
            }
        }
    }
    Ok(())
}

/// What the ledger recorded for an earlier install of `id`, per file.
fn recorded(ledger: &Ledger, id: &str) -> Vec<(PathBuf, Ownership)> {
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
