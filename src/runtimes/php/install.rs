//! Planning PHP's install: `whatap.so` into each PHP's extension_dir, `whatap.ini` into each
//! SAPI's scan dir (Debian: `mods-available` + a `conf.d` symlink, as phpenmod makes it) or a
//! marked `[whatap]` section at the end of php.ini, the whatap-php service's exports; and
//! `--pause`/`--resume`, which comment `extension=whatap.so` out and back in.

use super::agent::{self, AgentPlan, ServiceEnv};
use super::sapi::{IniTarget, MODULE_FILE, PhpSapi, Sapi, extension_line, file_name};
use crate::detect::files_in;
use crate::edit::eol::{line_body, split_lines};
use crate::edit::marker::{self, InsertAt, MarkerStyle};
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::{Edit, Link, Plan, edits, target};
use crate::runtimes::instance::InstallPlan;
use crate::settings::{InstallSettings, Toggle};
use std::fs;
use std::path::{Path, PathBuf};

/// The install (or `--pause`/`--resume`) plan for every chosen PHP at once.
pub fn plan(
    sapis: &[PhpSapi],
    settings: &InstallSettings,
    dist: Option<&Path>,
) -> Result<InstallPlan> {
    let mut plan = Plan::default();
    let mut warnings = Vec::new();
    let mut agent = AgentPlan::default();
    match settings.toggle {
        None => {
            refuse_meaningless(settings)?;
            // A broken PHP among the chosen ones stops everything before anything is written.
            for sapi in sapis {
                sapi.info()?;
            }
            for sapi in sapis {
                plan_sapi(sapi, settings, dist, &mut plan, &mut warnings)?;
            }
            agent = plan_agent(sapis, settings, dist, &mut plan)?;
            warnings.append(&mut agent.warnings);
        }
        Some(toggle) => {
            // Switching the agent off must work even when another PHP is broken or was
            // never set up: those are skipped with a warning.
            let mut first_error = None;
            for sapi in sapis {
                if let Err(error) = plan_toggle(sapi, toggle, &mut plan, &mut warnings) {
                    warnings.push(msg!(
                        "php-sapi-skipped",
                        label = sapi.label(),
                        error = error
                    ));
                    first_error.get_or_insert(error);
                }
            }
            if plan.edits.is_empty() {
                if let Some(error) = first_error {
                    return Err(error);
                }
            }
        }
    }
    let mut next_steps: Vec<String> = sapis.iter().filter_map(restart_hint).collect();
    next_steps.dedup();
    next_steps.append(&mut agent.next_steps);
    // The agent's service (re)starts only when this install changes something: a second
    // identical install changes nothing.
    if plan.changes_anything() {
        plan.run_after.append(&mut agent.start);
    }
    Ok(InstallPlan {
        plan,
        method: settings
            .toggle
            .map(|t| t.flag().to_string())
            .unwrap_or_else(|| "ini".to_string()),
        next_steps,
        warnings,
    })
}

/// The same line switched on or off, keeping its indentation and spelling.
fn toggled(line: &str, toggle: Toggle) -> String {
    match (extension_line(line), toggle) {
        (Some(true), Toggle::Pause) => {
            let indent = line.len() - line.trim_start().len();
            format!("{};{}", &line[..indent], &line[indent..])
        }
        (Some(false), Toggle::Resume) => {
            let indent = line.len() - line.trim_start().len();
            let body = line[indent..].strip_prefix(';').unwrap_or(&line[indent..]);
            format!("{}{}", &line[..indent], body.trim_start())
        }
        _ => line.to_string(),
    }
}

fn toggle_bytes(content: &[u8], toggle: Toggle) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 1);
    for line in split_lines(content) {
        let body = line_body(line);
        let text = String::from_utf8_lossy(body);
        out.extend_from_slice(toggled(&text, toggle).as_bytes());
        out.extend_from_slice(&line[body.len()..]);
    }
    out
}

/// The module for this PHP from `--agent-archive DIR`: `whatap_<API>.so` or `whatap_zts_<API>.so`.
fn module_source(archive: Option<&Path>, sapi: &PhpSapi) -> Result<PathBuf> {
    let info = sapi.info()?;
    let name = if info.zts {
        format!("whatap_zts_{}.so", info.api)
    } else {
        format!("whatap_{}.so", info.api)
    };
    let Some(archive) = archive else {
        return Err(Error::usage(
            msg!("php-archive-required", module = name, label = sapi.label()),
            msg!("php-archive-required-hint"),
        ));
    };
    if !archive.is_dir() {
        return Err(Error::usage(
            msg!("agent-archive-not-dir", path = archive.display()),
            msg!("php-archive-not-dir-hint"),
        ));
    }
    // The vendor's packages keep the modules in a subdirectory (modules/x64).
    let found = crate::detect::find_below(archive, &name, 3);
    found.ok_or_else(|| {
        let mut others = Vec::new();
        walkdir_collect(archive, 3, &mut others);
        let list = if others.is_empty() {
            msg!("php-modules-none")
        } else {
            others.join(", ")
        };
        Error::usage(
            msg!(
                "php-archive-no-module",
                path = archive.display(),
                module = name,
                label = sapi.label(),
                api = info.api,
                thread = if info.zts { "ZTS" } else { "NTS" },
                list = list
            ),
            msg!("php-archive-no-module-hint"),
        )
    })
}

fn walkdir_collect(dir: &Path, depth: usize, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let name = file_name(&path);
        if path.is_dir() && depth > 0 {
            walkdir_collect(&path, depth - 1, out);
        } else if name.starts_with("whatap_") && name.ends_with(".so") {
            out.push(name);
        }
    }
}

/// The lines of whatap.ini (or of the php.ini section) for one SAPI.
fn ini_lines(settings: &InstallSettings, sapi: Option<&PhpSapi>, shared: bool) -> Vec<String> {
    let mut lines = vec![
        "; WhaTap PHP agent (written by `whatap install --runtime php`)".to_string(),
        format!("extension={MODULE_FILE}"),
        format!("whatap.license={}", settings.license),
        format!("whatap.server.host={}", settings.hosts.join("/")),
    ];
    if !shared {
        lines.extend(sapi.map(|s| app_lines(s, settings)).unwrap_or_default());
    }
    let keys = ini_keys(settings);
    lines.extend(keys.iter().map(|(k, v)| format!("{k}={v}")));
    lines
}

/// The guide's whatap.ini switches (errors, exceptions, user tracing), then `--cypher-level`
/// and `--set` keys; the extension reads only `whatap.`-prefixed keys, so a bare
/// `cypher_level` becomes `whatap.cypher_level`. A `--set` of a guide key replaces it.
fn ini_keys(settings: &InstallSettings) -> Vec<(String, String)> {
    let given: Vec<(String, String)> = settings
        .conf
        .iter()
        .map(|(k, v)| {
            let key = if k.starts_with("whatap.") {
                k.clone()
            } else {
                format!("whatap.{k}")
            };
            (key, v.clone())
        })
        .collect();
    let mut keys: Vec<(String, String)> = GUIDE_KEYS
        .iter()
        .filter(|(k, _)| !given.iter().any(|(g, _)| g == k))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    keys.extend(given);
    keys
}

/// The keys the guide's manual setup adds to whatap.ini.
const GUIDE_KEYS: &[(&str, &str)] = &[
    ("whatap.ext.error_enabled", "true"),
    ("whatap.ext.exception_enabled", "true"),
    ("whatap.trace_user_enabled", "true"),
    ("whatap.trace_user_using_ip", "false"),
];

/// Install flags that mean nothing for PHP are refused, not ignored.
fn refuse_meaningless(settings: &InstallSettings) -> Result<()> {
    let given = [
        ("--port", settings.port.is_some()),
        ("--name", settings.name.is_some()),
        ("--oname", settings.oname.is_some()),
        ("--agent-jar", settings.agent_jar.is_some()),
        ("--latest-jar", settings.latest_jar),
        ("--attach", settings.attach),
        ("--method", settings.method.is_some()),
        ("--python", settings.python.interpreter.is_some()),
        (
            "--break-system-packages",
            settings.python.break_system_packages,
        ),
    ];
    match given.iter().find(|(_, on)| *on) {
        Some((flag, _)) => Err(Error::usage(
            msg!("php-flag-meaningless", flag = flag),
            msg!("php-flag-meaningless-hint"),
        )),
        None => Ok(()),
    }
}

/// The per-SAPI keys: app name and the process whose memory the agent reports (the guide's
/// APHP/FPHP and httpd/php-fpm, unless `--app-name` / `--app-process-name` say otherwise).
fn app_lines(sapi: &PhpSapi, settings: &InstallSettings) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(name) = sapi.sapi.app_name() {
        let name = settings.python.app_name.as_deref().unwrap_or(name);
        lines.push(format!("whatap.app_name={name}"));
        let process = match (&settings.python.app_process_name, &sapi.server) {
            (Some(process), _) => process.clone(),
            (None, Some((httpd, _))) => file_name(httpd),
            (None, None) => file_name(&sapi.binary),
        };
        lines.push(format!("whatap.app_process_name={process}"));
    }
    lines
}

fn with_newlines(lines: &[String]) -> Vec<u8> {
    let mut text = lines.join("\n");
    text.push('\n');
    text.into_bytes()
}

/// Adds `edit` unless the plan already writes that file; the same file planned twice with
/// different bytes (two SAPIs sharing a scan dir) keeps the first and says so.
fn push_edit(plan: &mut Plan, edit: Edit, warnings: &mut Vec<String>, who: &str) {
    match plan.edits.iter().find(|e| e.path == edit.path) {
        Some(existing) if existing.after != edit.after => warnings.push(msg!(
            "php-shared-file",
            path = edit.path.display(),
            who = who
        )),
        Some(_) => {}
        None => plan.edits.push(edit),
    }
}

fn plan_sapi(
    sapi: &PhpSapi,
    settings: &InstallSettings,
    dist: Option<&Path>,
    plan: &mut Plan,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let info = sapi.info()?;
    let target = sapi.ini_target()?;
    let roots = sapi.roots();
    let label = sapi.label();
    let source = module_source(dist, sapi)?;
    sapi.check_module(&source).map_err(|why| {
        Error::usage(
            msg!(
                "php-module-does-not-load",
                path = source.display(),
                label = label,
                api = info.api,
                thread = if info.zts { "ZTS" } else { "NTS" },
                why = why
            ),
            msg!("php-module-does-not-load-hint"),
        )
    })?;
    let extension_dir = info.extension_dir.as_ref().ok_or_else(|| {
        Error::usage(
            msg!("php-no-extension-dir", label = label),
            msg!("php-no-extension-dir-hint"),
        )
    })?;
    if !extension_dir.is_dir() {
        return Err(Error::usage(
            msg!(
                "php-extension-dir-missing",
                label = label,
                path = extension_dir.display()
            ),
            msg!("php-extension-dir-missing-hint"),
        ));
    }
    let dest = extension_dir.join(MODULE_FILE);
    if let Some(other) = plan.edits.iter().find(|e| e.path == dest) {
        if other.after.as_deref() != crate::plan::target::peek(&source).ok().as_deref() {
            return Err(Error::usage(
                msg!("php-extension-dir-shared", path = dest.display()),
                msg!("php-extension-dir-shared-hint"),
            ));
        }
    }
    let stray = stray_extension_lines(sapi, &target);
    if !stray.is_empty() {
        return Err(Error::refused(
            msg!(
                "php-module-enabled-elsewhere",
                label = label,
                module = MODULE_FILE,
                places = stray.join("; ")
            ),
            msg!("php-module-enabled-elsewhere-hint"),
        ));
    }
    let link_dir = match &target {
        IniTarget::Debian { link, .. } => link.parent(),
        _ => None,
    };
    let dirs: Vec<&Path> = [
        Some(extension_dir.as_path()),
        target.extension_file().parent(),
        link_dir,
    ]
    .into_iter()
    .flatten()
    .collect();
    for dir in dirs {
        target::check_dir_writable(dir)?;
    }
    push_edit(plan, edits::copy(&source, &dest, &roots)?, warnings, &label);
    match &target {
        IniTarget::ScanDir { file } => {
            let lines = ini_lines(settings, Some(sapi), false);
            push_edit(
                plan,
                edits::whole(file, &roots, with_newlines(&lines), 0o644)?,
                warnings,
                &label,
            );
        }
        IniTarget::Debian { shared, link, app } => {
            let lines = ini_lines(settings, None, true);
            push_edit(
                plan,
                edits::whole(shared, &roots, with_newlines(&lines), 0o644)?,
                warnings,
                &label,
            );
            plan_link(link, shared, plan)?;
            let app_lines = app_lines(sapi, settings);
            if !app_lines.is_empty() {
                push_edit(
                    plan,
                    edits::whole(app, &roots, with_newlines(&app_lines), 0o644)?,
                    warnings,
                    &label,
                );
            }
        }
        IniTarget::PhpIni { file } => {
            let mut inner = vec!["[whatap]".to_string()];
            inner.extend(ini_lines(settings, Some(sapi), false));
            let edit = edits::block(file, &roots, MarkerStyle::Ini, &inner, InsertAt::End)?;
            push_edit(plan, edit, warnings, &label);
        }
    }
    Ok(())
}

/// Active `extension=whatap.so` lines PHP reads outside the files this install manages
/// (a vendor install.sh's whatap.ini, a hand edit of php.ini): `file:line: text`.
fn stray_extension_lines(sapi: &PhpSapi, target: &IniTarget) -> Vec<String> {
    let Ok(info) = &sapi.info else {
        return Vec::new();
    };
    let ours: Vec<PathBuf> = match target {
        IniTarget::ScanDir { file } => vec![file.clone()],
        IniTarget::Debian { shared, link, app } => vec![shared.clone(), link.clone(), app.clone()],
        IniTarget::PhpIni { .. } => Vec::new(),
    };
    let mut files: Vec<PathBuf> = info.ini_file.iter().cloned().collect();
    if let Some(scan_dir) = &info.scan_dir {
        files.extend(files_in(scan_dir, |n| n.ends_with(".ini")));
    }
    let mut found = Vec::new();
    for file in files.iter().filter(|f| !ours.contains(f)) {
        let Ok(content) = crate::plan::target::peek(file) else {
            continue;
        };
        let block = marker::find_block(&content, MarkerStyle::Ini)
            .ok()
            .flatten();
        for (i, line) in split_lines(&content).iter().enumerate() {
            let text = String::from_utf8_lossy(line_body(line));
            let inside = block.is_some_and(|b| i >= b.start && i <= b.end);
            if !inside && extension_line(&text) == Some(true) {
                found.push(format!("{}:{}: {}", file.display(), i + 1, text.trim()));
            }
        }
    }
    found
}

/// Debian's conf.d symlink to mods-available, as phpenmod makes it.
fn plan_link(link: &Path, target_file: &Path, plan: &mut Plan) -> Result<()> {
    let wanted = Link {
        path: link.to_path_buf(),
        target: target_file.to_path_buf(),
    };
    if wanted.is_in_place() || plan.links.contains(&wanted) {
        return Ok(());
    }
    if fs::symlink_metadata(link).is_ok() {
        return Err(Error::refused(
            msg!(
                "php-link-foreign",
                path = link.display(),
                target = target_file.display()
            ),
            msg!("php-link-foreign-hint"),
        ));
    }
    plan.links.push(wanted);
    Ok(())
}

fn plan_toggle(
    sapi: &PhpSapi,
    toggle: Toggle,
    plan: &mut Plan,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let target = sapi.ini_target()?;
    let roots = sapi.roots();
    let roots = roots.as_slice();
    let file = target.extension_file();
    let not_installed = || {
        Error::usage(
            msg!(
                "php-toggle-not-installed",
                flag = toggle.flag(),
                label = sapi.label(),
                module = MODULE_FILE,
                path = file.display()
            ),
            msg!("php-toggle-not-installed-hint"),
        )
    };
    if sapi.extension_state().is_none() {
        return Err(not_installed());
    }
    let edit = match &target {
        IniTarget::PhpIni { file } => {
            let content = crate::plan::target::peek(file).map_err(|e| Error::io(file, e))?;
            let span = marker::find_block(&content, MarkerStyle::Ini)
                .map_err(|e| edits::broken_block(file, &e))?
                .ok_or_else(not_installed)?;
            let inner: Vec<String> = marker::block_inner(&content, span)
                .iter()
                .map(|l| toggled(l, toggle))
                .collect();
            edits::block(file, roots, MarkerStyle::Ini, &inner, InsertAt::End)?
        }
        _ => {
            let content = crate::plan::target::peek(file).map_err(|e| Error::io(file, e))?;
            edits::whole(file, roots, toggle_bytes(&content, toggle), 0o644)?
        }
    };
    push_edit(plan, edit, warnings, &sapi.label());
    Ok(())
}

/// The whatap-php agent for this install: its service gets the guide's environment from
/// the CLI among the chosen PHPs (else the first one) and the ini dir of its whatap.ini.
fn plan_agent(
    sapis: &[PhpSapi],
    settings: &InstallSettings,
    dist: Option<&Path>,
    plan: &mut Plan,
) -> Result<AgentPlan> {
    let Some(php) = sapis
        .iter()
        .find(|s| s.sapi == Sapi::Cli && s.server.is_none())
        .or(sapis.first())
    else {
        return Ok(AgentPlan::default());
    };
    let info = php.info()?;
    let home = match &settings.target.whatap_home {
        Some(home) => std::path::absolute(home).map_err(|e| Error::io(home, e))?,
        None => PathBuf::from(agent::DEFAULT_HOME),
    };
    // PHP without a scan dir keeps its settings in php.ini: the agent gets a whatap.ini of its
    // own in its home (the guide's /usr/whatap/php/whatap.ini).
    let (config_home, agent_ini) = match php.ini_target()? {
        IniTarget::PhpIni { .. } => (
            home.clone(),
            Some(with_newlines(&ini_lines(settings, Some(php), false))),
        ),
        target => (
            target
                .extension_file()
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
            None,
        ),
    };
    let env = ServiceEnv {
        php_bin: php.binary.clone(),
        ext_home: info.extension_dir.clone().unwrap_or_default(),
        ext_src: module_source(dist, php)?,
        config_home,
    };
    agent::plan(&home, &env, agent_ini, dist, plan)
}

pub fn restart_hint(sapi: &PhpSapi) -> Option<String> {
    let name = match &sapi.server {
        Some((httpd, _)) => file_name(httpd),
        None => file_name(&sapi.binary),
    };
    match sapi.sapi {
        Sapi::Cli | Sapi::Cgi => None,
        Sapi::Fpm => {
            let unit = name.strip_prefix("php-fpm").map(|v| format!("php{v}-fpm"));
            Some(msg!(
                "php-restart-fpm",
                binary = sapi.binary.display(),
                unit = unit.unwrap_or(name)
            ))
        }
        Sapi::Apache => Some(msg!("php-restart-apache", name = name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The guide's keys come first, `--set` replaces one of them, bare keys get `whatap.`;
    /// `--app-name` / `--app-process-name` replace FPHP and the binary's name.
    #[test]
    fn ini_keys_and_app_lines() {
        let settings = InstallSettings {
            conf: vec![
                ("cypher_level".into(), "256".into()),
                ("whatap.trace_user_using_ip".into(), "true".into()),
            ],
            ..InstallSettings::default()
        };
        let keys: Vec<String> = ini_keys(&settings)
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(
            keys,
            [
                "whatap.ext.error_enabled=true",
                "whatap.ext.exception_enabled=true",
                "whatap.trace_user_enabled=true",
                "whatap.cypher_level=256",
                "whatap.trace_user_using_ip=true",
            ]
        );
        let fpm = PhpSapi {
            binary: PathBuf::from("/usr/sbin/php-fpm8.2"),
            sapi: Sapi::Fpm,
            server: None,
            info: Ok(Default::default()),
            master: None,
            listed: Default::default(),
            cache: Default::default(),
        };
        assert_eq!(
            app_lines(&fpm, &InstallSettings::default()),
            ["whatap.app_name=FPHP", "whatap.app_process_name=php-fpm8.2"]
        );
        let mut named = InstallSettings::default();
        named.python.app_name = Some("shop".into());
        named.python.app_process_name = Some("php-fpm".into());
        assert_eq!(
            app_lines(&fpm, &named),
            ["whatap.app_name=shop", "whatap.app_process_name=php-fpm"]
        );
    }

    #[test]
    fn pause_and_resume_are_inverses() {
        let original =
            b"; c\r\nextension=whatap.so\r\nwhatap.license=x\r\n  extension = \"whatap.so\"";
        let paused = toggle_bytes(original, Toggle::Pause);
        assert_eq!(
            paused,
            b"; c\r\n;extension=whatap.so\r\nwhatap.license=x\r\n  ;extension = \"whatap.so\""
        );
        assert_eq!(toggle_bytes(&paused, Toggle::Pause), paused);
        assert_eq!(toggle_bytes(&paused, Toggle::Resume), original);
        assert_eq!(toggle_bytes(original, Toggle::Resume), original);
    }

    /// Every upstream php.ini in the shared corpus: the [whatap] section inserted, replaced,
    /// paused, resumed and removed gives back the exact bytes.
    #[test]
    fn corpus_php_ini_round_trips() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/php-ini");
        let Ok(entries) = fs::read_dir(&corpus) else {
            eprintln!("SKIPPED: no php.ini corpus at {}", corpus.display());
            return;
        };
        let inner: Vec<String> = [
            "[whatap]",
            "extension=whatap.so",
            "whatap.license=x41pl22ek7jhv",
            "whatap.server.host=127.0.0.1",
        ]
        .map(String::from)
        .to_vec();
        let mut checked = 0;
        for entry in entries.flatten() {
            let original = fs::read(entry.path()).unwrap();
            let name = entry.file_name();
            let installed =
                marker::insert_block(&original, MarkerStyle::Ini, &inner, InsertAt::End);
            let span = marker::find_block(&installed, MarkerStyle::Ini)
                .unwrap()
                .expect("block");
            assert_eq!(
                marker::replace_block(&installed, span, MarkerStyle::Ini, &inner),
                installed,
                "{name:?}: install twice != once"
            );
            let paused: Vec<String> = marker::block_inner(&installed, span)
                .iter()
                .map(|l| toggled(l, Toggle::Pause))
                .collect();
            assert!(paused.contains(&";extension=whatap.so".to_string()));
            let resumed: Vec<String> = paused.iter().map(|l| toggled(l, Toggle::Resume)).collect();
            assert_eq!(resumed, inner, "{name:?}: resume != install");
            assert_eq!(
                marker::remove_block(&installed, span),
                original,
                "{name:?}: not byte-identical"
            );
            checked += 1;
        }
        assert!(checked > 0);
    }
}
