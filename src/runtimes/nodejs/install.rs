//! Planning a Node.js app's install: the `whatap` package into the app with the app's own npm
//! (from the registry, or an npm tarball given with `--agent-archive`; package.json and the
//! lock file recorded so uninstall puts their bytes back), whatap.conf in the WhaTap home, and
//! `--require` of the agent where the app is started.

use super::app::{Launcher, NodeApp};
use super::package::{self, AgentPackage};
use super::start;
use crate::agent::AgentSource;
use crate::detect::process;
use crate::edit::conf;
use crate::edit::marker::MarkerStyle;
use crate::error::{Error, Result};
use crate::msg;
use crate::os::MetadataExt;
use crate::plan::target::{self, absolute, canonical_lenient};
use crate::plan::{DirCreate, Plan, Rewrite, RunStep, Undo, edits};
use crate::runtimes::instance::InstallPlan;
use crate::runtimes::java::agent::check_plain;
use crate::runtimes::systemd;
use crate::settings::InstallSettings;
use std::path::Path;

/// npm flags for every run: no audit or funding calls, and no package's install scripts run
/// as root (the agent has none).
const NPM_QUIET: &[&str] = &["--no-audit", "--no-fund", "--ignore-scripts"];

/// The agent package `--agent-archive` names (a tarball, or a directory holding one), the one
/// already installed, or the registry's.
fn agent_package(
    app: &NodeApp,
    settings: &InstallSettings,
    npm: &Path,
    listed: bool,
) -> Result<AgentPackage> {
    let tarball = match &settings.agent_source {
        Some(AgentSource::Archive(path)) => Some(absolute("--agent-archive", path)?),
        Some(AgentSource::Dir(dir)) => Some(package::tarball_in(dir).ok_or_else(|| {
            Error::usage(
                msg!("nodejs-no-tarball", path = dir.display()),
                msg!("nodejs-tarball-bad-hint"),
            )
        })?),
        Some(AgentSource::Url(url)) => {
            return Err(Error::usage(
                msg!("nodejs-archive-url", url = url),
                msg!("nodejs-archive-url-hint"),
            ));
        }
        None => None,
    };
    if let Some(tarball) = tarball {
        if !tarball.is_file() {
            return Err(Error::usage(
                msg!("agent-no-such-path", path = tarball.display()),
                msg!("nodejs-tarball-bad-hint"),
            ));
        }
        crate::agent::verify_file(&tarball, settings.sha256.as_deref())?;
        return package::from_tarball(&tarball);
    }
    let installed = package::installed_agent(&app.app_dir)
        .and_then(|dir| package::manifest(&dir))
        .filter(|_| listed);
    match installed {
        Some(manifest) => Ok(AgentPackage {
            spec: package::PACKAGE.to_string(),
            version: manifest["version"].as_str().unwrap_or_default().to_string(),
            engines: manifest["engines"]["node"].as_str().map(str::to_string),
        }),
        None => package::from_registry(npm, &app.app_dir, settings.offline),
    }
}

/// The user the app runs as: the process's, the unit's `User=`, else the app directory's
/// owner. The WhaTap home and whatap.conf are theirs: the agent writes its logs there.
fn app_owner(app: &NodeApp) -> Option<(u32, u32)> {
    if let Some(p) = &app.process {
        return Some((p.process.uid, p.process.gid));
    }
    if let Launcher::Systemd { unit } = &app.launcher {
        if let Some(ids) = systemd::unit_files(unit)
            .ok()
            .and_then(|f| crate::edit::wrap::unit_user(&f.sources))
            .and_then(|user| process::user_ids(&user))
        {
            return Some(ids);
        }
    }
    std::fs::metadata(&app.app_dir)
        .ok()
        .map(|m| (m.uid(), m.gid()))
}

/// package.json and the lock file npm writes (npm-shrinkwrap.json when the app has one).
fn rewrites(app_dir: &Path) -> Result<Vec<Rewrite>> {
    let roots = [canonical_lenient(app_dir)];
    let lock = package::LOCK_FILES
        .iter()
        .map(|name| app_dir.join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| app_dir.join(package::LOCK_FILES[0]));
    [app_dir.join(package::MANIFEST), lock]
        .into_iter()
        .map(|path| {
            let file = target::read(&path, &roots)?;
            Ok(Rewrite {
                path: file.real,
                before: file.content,
            })
        })
        .collect()
}

/// `npm <words...>` in the app; on install, what it rewrites and the directories it makes.
fn npm_step(npm: &Path, app_dir: &Path, words: &[&str], rewrites: Vec<Rewrite>) -> RunStep {
    let mut args: Vec<String> = vec![
        words[0].to_string(),
        "--prefix".to_string(),
        app_dir.display().to_string(),
    ];
    args.extend(NPM_QUIET.iter().chain(&words[1..]).map(|w| w.to_string()));
    // npm links the packages' commands into node_modules/.bin; uninstall empties it again.
    let creates = if rewrites.is_empty() {
        Vec::new()
    } else {
        let modules = app_dir.join("node_modules");
        [modules.clone(), modules.join(".bin")]
            .into_iter()
            .filter(|d| !d.exists())
            .collect()
    };
    RunStep {
        args,
        rewrites,
        creates,
        ..RunStep::new(npm, &[])
    }
}

/// whatap.conf keys: license and collectors, then app_name (the package's name) and
/// app_process_name (`node`) unless already set, then `--set` keys.
fn conf_keys(
    settings: &InstallSettings,
    existing: &std::collections::BTreeMap<String, String>,
    app_name: &str,
) -> Vec<(String, String)> {
    let mut keys = vec![
        ("license".to_string(), settings.license.clone()),
        ("whatap.server.host".to_string(), settings.hosts.join("/")),
    ];
    let defaults = [
        ("app_name", &settings.python.app_name, app_name),
        (
            "app_process_name",
            &settings.python.app_process_name,
            "node",
        ),
    ];
    for (key, flag, default) in defaults {
        let unset = existing.get(key).is_none_or(|v| v.trim().is_empty());
        match flag {
            Some(value) => keys.push((key.to_string(), value.clone())),
            None if unset => keys.push((key.to_string(), default.to_string())),
            None => {}
        }
    }
    keys.extend(settings.conf.iter().cloned());
    keys
}

pub fn plan_install(app: &NodeApp, settings: &InstallSettings) -> Result<InstallPlan> {
    if settings.method.is_some() {
        return Err(Error::usage(
            msg!("nodejs-method"),
            msg!("nodejs-method-hint"),
        ));
    }
    let app_dir = &app.app_dir;
    let manifest = package::manifest(app_dir).ok_or_else(|| {
        Error::usage(
            msg!("nodejs-no-manifest", path = app_dir.display()),
            msg!("nodejs-no-manifest-hint"),
        )
    })?;
    let home = match &settings.target.whatap_home {
        Some(dir) => canonical_lenient(&absolute("--whatap-home", dir)?),
        None => app.whatap_home.clone(),
    };
    // Both go into NODE_OPTIONS, a shell line or an ecosystem file: plain characters only.
    check_plain("--whatap-home", &home.to_string_lossy(), MarkerStyle::Shell)?;
    check_plain("--app-dir", &app_dir.to_string_lossy(), MarkerStyle::Shell)?;
    for (flag, value) in [
        ("--app-name", &settings.python.app_name),
        ("--app-process-name", &settings.python.app_process_name),
    ] {
        if let Some(value) = value {
            check_plain(flag, value, MarkerStyle::Shell)?;
        }
    }
    if home.exists() && !home.is_dir() {
        return Err(Error::usage(
            msg!("nodejs-whatap-home-not-dir", path = home.display()),
            msg!("nodejs-whatap-home-not-dir-hint"),
        ));
    }
    let node = app.node_binary().ok_or_else(|| {
        Error::usage(
            msg!("nodejs-node-missing"),
            msg!("nodejs-node-missing-hint"),
        )
    })?;
    let npm = package::npm_for(&node).ok_or_else(|| {
        Error::usage(
            msg!("nodejs-npm-missing", node = node.display()),
            msg!("nodejs-node-missing-hint"),
        )
    })?;
    let version = package::node_version(&node)?;
    let listed = package::depends_on_agent(&manifest);
    let agent_package = agent_package(app, settings, &npm, listed)?;
    let mut warnings = Vec::new();
    if let Some(range) = &agent_package.engines {
        match version.satisfies(range) {
            Some(true) => {}
            Some(false) => {
                return Err(Error::usage(
                    msg!(
                        "nodejs-too-old",
                        node = node.display(),
                        version = version,
                        package = agent_package.version,
                        range = range
                    ),
                    msg!("nodejs-too-old-hint", range = range),
                ));
            }
            None => warnings.push(msg!("nodejs-engines-unreadable", range = range)),
        }
    }

    let mut plan = Plan::default();
    let agent = app_dir.join("node_modules").join(package::PACKAGE);
    let installed_version = package::installed_agent(app_dir)
        .and_then(|dir| package::manifest(&dir))
        .and_then(|m| m["version"].as_str().map(str::to_string));
    if !(listed && installed_version.as_deref() == Some(agent_package.version.as_str())) {
        let mut words = vec!["install"];
        if settings.offline {
            words.push("--offline");
        }
        words.push(&agent_package.spec);
        plan.run
            .push(npm_step(&npm, app_dir, &words, rewrites(app_dir)?));
        // Removed again only when this install is what added it.
        if !listed {
            plan.undo.push(Undo::Run {
                step: npm_step(
                    &npm,
                    app_dir,
                    &["uninstall", "--no-save", package::PACKAGE],
                    Vec::new(),
                ),
            });
        }
    }

    let owner = app_owner(app);
    let mut roots = vec![canonical_lenient(&home)];
    let conf_path = home.join("whatap.conf");
    let existing = target::peek(&conf_path)
        .map(|b| conf::parse(&b))
        .unwrap_or_default();
    let app_name = manifest["name"]
        .as_str()
        .map(|n| n.trim_start_matches('@').replace('/', "-"))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| {
            app_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "node-app".to_string())
        });
    plan.dirs.extend(DirCreate::missing(&home, owner));
    // 0600 like the other runtimes (it holds the license), owned by the app's user: the
    // agent reads it and writes net_udp_port into it.
    let mut conf_edit = edits::keys(
        &conf_path,
        &roots,
        &conf_keys(settings, &existing, &app_name),
        0o600,
    )?;
    conf_edit.create_owner = owner;
    plan.edits.push(conf_edit);

    let require = start::require_args(&agent).join(" ");
    let mut next_steps = Vec::new();
    let method = match &app.launcher {
        Launcher::Systemd { unit } => {
            let files = systemd::unit_files(unit)?;
            let text = start::dropin_text(&files, &home, &agent)?;
            if let Some(dir) = files.dropin.parent() {
                roots.push(canonical_lenient(dir));
                plan.dirs.extend(DirCreate::missing(dir, None));
            }
            plan.edits.push(edits::whole(
                &files.dropin,
                &roots,
                text.into_bytes(),
                0o644,
            )?);
            next_steps.push(format!(
                "systemctl daemon-reload && systemctl restart {}",
                files.name
            ));
            "systemd"
        }
        Launcher::Pm2 { ecosystem, name } => {
            roots.extend(ecosystem.parent().map(canonical_lenient));
            plan.edits.push(start::ecosystem_edit(
                ecosystem,
                &roots,
                &settings.recorded,
                name,
                &home,
                &agent,
                &node,
            )?);
            next_steps.push(msg!(
                "nodejs-restart-pm2",
                file = ecosystem.display(),
                name = name
            ));
            "pm2"
        }
        Launcher::Script(script) => {
            roots.extend(script.parent().map(canonical_lenient));
            match start::script_edit(script, &roots, &home, &agent)? {
                Some(edit) => plan.edits.push(edit),
                None => warnings.push(msg!("nodejs-script-by-hand", path = script.display())),
            }
            next_steps.push(msg!("nodejs-restart-script", path = script.display()));
            "start-script"
        }
        Launcher::Manual => {
            let command = app
                .process
                .as_ref()
                .and_then(|p| p.entry.as_ref())
                .map_or("node YOUR_APP.js".to_string(), |e| {
                    format!("{} {}", node.display(), e.display())
                });
            next_steps.push(msg!(
                "nodejs-start-with-agent",
                home = home.display(),
                require = require,
                command = command
            ));
            "manual"
        }
    };
    if let Some(p) = &app.process {
        if !app.agent_loaded() {
            next_steps.push(msg!("nodejs-restart-pid", pid = p.process.pid));
        }
    }
    if let Some(dir) = home.ancestors().find(|d| d.is_dir()) {
        target::check_dir_writable(dir)?;
    }
    Ok(InstallPlan {
        plan,
        method: method.to_string(),
        next_steps,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_defaults_never_replace_a_set_value() {
        let settings = InstallSettings {
            license: "x41pl22ek7jhv-z43cebasdv4il7-z62p3l35fj5502".into(),
            hosts: vec!["127.0.0.1".into()],
            conf: vec![("net_udp_port".into(), "6610".into())],
            ..InstallSettings::default()
        };
        let mut existing = std::collections::BTreeMap::new();
        existing.insert("app_name".to_string(), "kept".to_string());
        let keys = conf_keys(&settings, &existing, "shop");
        let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "license",
                "whatap.server.host",
                "app_process_name",
                "net_udp_port"
            ]
        );
    }

    #[test]
    fn npm_runs_in_the_app_directory_without_scripts() {
        let step = npm_step(
            Path::new("/usr/bin/npm"),
            Path::new("/srv/app"),
            &["install", "whatap"],
            Vec::new(),
        );
        assert_eq!(
            step.display(),
            "/usr/bin/npm install --prefix /srv/app --no-audit --no-fund --ignore-scripts whatap"
        );
    }
}
