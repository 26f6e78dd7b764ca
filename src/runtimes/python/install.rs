//! Planning a Python app's install: whatap.conf in its WHATAP_HOME, the start command
//! wrapped with `whatap-start-agent` (a systemd drop-in, a supervisor `command =`, a start
//! script), and whatap-python installed into the app's own interpreter with its `-m pip`.

use super::app::{AGENT_PROCESS, AppProcess, PythonApp, absolute};
use super::embedded::{self, ConfKind};
use crate::detect::process;
use crate::edit::conf;
use crate::edit::marker::MarkerStyle;
use crate::edit::wrap::{self, START_AGENT};
use crate::error::{Error, Result};
use crate::msg;
use crate::os::MetadataExt;
use crate::plan::target::canonical_lenient;
use crate::plan::{DirCreate, Plan, RunStep, Undo, Validation, edits, target};
use crate::runtimes::instance::InstallPlan;
use crate::runtimes::java::agent::check_plain;
use crate::runtimes::systemd::{UnitFiles, unit_files};
use crate::settings::InstallSettings;
use std::fs;
use std::path::{Path, PathBuf};

const PACKAGE: &str = "whatap-python";

/// What `--python` (or the app) tells about the interpreter: where its console scripts go,
/// whether whatap-python is importable.
#[derive(Debug, Clone)]
pub struct Interpreter {
    pub path: PathBuf,
    pub scripts: PathBuf,
    /// Where pure-Python packages go (whatap's bootstrap is `<purelib>/whatap/bootstrap`).
    pub purelib: PathBuf,
    pub has_whatap: bool,
    /// PEP 668: the distribution manages this interpreter's packages (its stdlib holds an
    /// EXTERNALLY-MANAGED file and it is not a virtualenv); pip refuses it.
    pub externally_managed: bool,
}

const PROBE: &str = "import os, sys, sysconfig, importlib.util\n\
print(sysconfig.get_path('scripts'))\n\
print(sysconfig.get_path('purelib'))\n\
print(importlib.util.find_spec('whatap') is not None)\n\
print(sys.prefix == sys.base_prefix and os.path.isfile(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')))";

/// Asks the interpreter itself (run directly, never through a shell).
pub fn probe(path: &Path) -> Result<Interpreter> {
    let output = std::process::Command::new(path)
        .args(["-c", PROBE])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            Error::usage(
                msg!("python-cannot-run", path = path.display(), error = e),
                msg!("python-interpreter-hint"),
            )
        })?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    match (
        output.status.success(),
        lines.next(),
        lines.next(),
        lines.next(),
        lines.next(),
    ) {
        (true, Some(scripts), Some(purelib), Some(found), Some(managed)) => Ok(Interpreter {
            path: path.to_path_buf(),
            scripts: PathBuf::from(scripts.trim()),
            purelib: PathBuf::from(purelib.trim()),
            has_whatap: found.trim() == "True",
            externally_managed: managed.trim() == "True",
        }),
        _ => Err(Error::usage(
            msg!("python-not-working", path = path.display()),
            msg!("python-interpreter-hint"),
        )),
    }
}

/// `--python` may name a virtualenv directory.
fn interpreter_flag(path: &Path) -> Result<PathBuf> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    ["bin/python3", "bin/python"]
        .iter()
        .map(|p| path.join(p))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Error::usage(
                msg!("python-dir-no-python3", path = path.display()),
                msg!("python-dir-no-python3-hint"),
            )
        })
}

/// Where the start command gets wrapped.
enum WrapTarget {
    /// A script or supervisor file; for supervisor, the program when known.
    Script(PathBuf, Option<String>),
    /// A uWSGI ini or an Apache mod_wsgi conf (`embedded`), with its bytes.
    Conf(PathBuf, ConfKind, Vec<u8>),
    Unit(UnitFiles),
    /// Nothing we can edit: print the command.
    Print,
}

fn check_value(flag: &str, value: &str) -> Result<()> {
    check_plain(flag, value, MarkerStyle::Shell)
}

fn wrap_target(app: &PythonApp, settings: &InstallSettings) -> Result<WrapTarget> {
    let target = &settings.target;
    if target.start_script.is_some()
        && target.unit.is_some()
        && !is_supervisor(target.start_script.as_deref())
    {
        return Err(Error::usage(
            msg!("python-unit-and-script"),
            msg!("python-unit-and-script-hint"),
        ));
    }
    if let Some(script) = &target.start_script {
        let path = absolute("--start-script", script)?;
        let content = crate::plan::target::peek(&path).ok();
        if let Some(kind) = content.as_deref().and_then(embedded::kind_of) {
            return Ok(WrapTarget::Conf(path, kind, content.unwrap_or_default()));
        }
        let program = is_supervisor(Some(&path))
            .then(|| target.unit.clone())
            .flatten();
        return Ok(WrapTarget::Script(path, program));
    }
    if let Some(unit) = &target.unit {
        return Ok(WrapTarget::Unit(unit_files(unit)?));
    }
    let Some(found) = &app.app else {
        return Ok(WrapTarget::Print);
    };
    if let Some((file, program)) = &found.supervisor {
        return Ok(WrapTarget::Script(file.clone(), Some(program.clone())));
    }
    match &found.unit {
        Some(unit) => Ok(WrapTarget::Unit(unit_files(unit)?)),
        None => Ok(WrapTarget::Print),
    }
}

fn is_supervisor(path: Option<&Path>) -> bool {
    path.and_then(|p| crate::plan::target::peek(p).ok())
        .is_some_and(|bytes| wrap::scan_start_file(&bytes).supervisor)
}

/// The one start line of a script / supervisor file to wrap.
fn script_start(path: &Path, program: Option<&str>) -> Result<Option<(wrap::StartLine, usize)>> {
    let content = crate::plan::target::peek(path).map_err(|e| {
        Error::usage(
            format!("--start-script {}: {e}", path.display()),
            msg!("python-script-unreadable-hint"),
        )
    })?;
    let scan = wrap::scan_start_file(&content);
    let starts: Vec<(wrap::StartLine, usize)> = scan
        .starts
        .into_iter()
        .filter(|(l, _)| program.is_none() || l.program.as_deref() == program)
        .collect();
    match starts.len() {
        0 if !scan.by_hand.is_empty() => Ok(None),
        0 => Err(Error::usage(
            msg!("python-script-no-start", path = path.display()),
            msg!("python-script-no-start-hint", agent = START_AGENT),
        )),
        1 => Ok(starts.into_iter().next()),
        _ => Err(Error::usage(
            msg!(
                "python-script-many-starts",
                path = path.display(),
                lines = starts
                    .iter()
                    .map(|(l, _)| l.line.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            if scan.supervisor {
                msg!("python-name-supervisor-program-hint")
            } else {
                msg!("python-wrap-by-hand-hint", agent = START_AGENT)
            },
        )),
    }
}

fn owner_of(path: &Path) -> Option<(u32, u32)> {
    fs::metadata(path).ok().map(|m| (m.uid(), m.gid()))
}

/// The interpreter a start command's program runs with (`/venv/bin/gunicorn`'s `#!`).
fn interpreter_of_program(program: &str) -> Option<PathBuf> {
    let path = wrap::which(program)?;
    let name = path.file_name()?.to_string_lossy().into_owned();
    if name.starts_with("python") {
        return Some(path);
    }
    wrap::shebang_interpreter(&path)
}

pub fn plan_install(app: &PythonApp, settings: &InstallSettings) -> Result<InstallPlan> {
    let py = &settings.python;
    let home = match &settings.target.whatap_home {
        Some(dir) => absolute("--whatap-home", dir)?,
        None => app.whatap_home.clone(),
    };
    check_value("--whatap-home", &home.to_string_lossy())?;
    if home.exists() && !home.is_dir() {
        return Err(Error::usage(
            msg!("python-whatap-home-not-dir", path = home.display()),
            msg!("python-whatap-home-not-dir-hint"),
        ));
    }
    for (flag, value) in [
        ("--app-name", &py.app_name),
        ("--app-process-name", &py.app_process_name),
    ] {
        if let Some(value) = value {
            check_value(flag, value)?;
        }
    }
    let target = wrap_target(app, settings)?;
    let mut roots = vec![canonical_lenient(&home), home.clone()];
    let mut plan = Plan::default();
    let mut next_steps = Vec::new();
    let mut warnings = Vec::new();

    // What gets wrapped, and the program it starts (to find the interpreter).
    let mut program: Option<String> = None;
    let mut server: Option<String> = app.app.as_ref().map(|a| a.server.clone());
    let mut owner = app.app.as_ref().map(|a| (a.process.uid, a.process.gid));
    let mut script_line = None;
    let mut exec_start = None;
    let mut conf_venv = None;
    match &target {
        WrapTarget::Script(path, program_name) => {
            script_line = script_start(path, program_name.as_deref())?;
            match &script_line {
                Some((line, _)) => {
                    program = Some(line.start.program.clone());
                    server = server.or(Some(line.start.server.clone()));
                }
                None => warnings.push(msg!(
                    "python-already-wrapped",
                    path = path.display(),
                    agent = START_AGENT
                )),
            }
            owner = owner
                .or_else(|| {
                    let user = script_line.as_ref()?.0.user.as_deref()?;
                    process::user_ids(user)
                })
                .or_else(|| owner_of(path));
            if let Some(dir) = path.parent() {
                roots.push(canonical_lenient(dir));
            }
        }
        WrapTarget::Unit(unit) => {
            let found = wrap::exec_starts(&unit.sources);
            let start = match found.as_slice() {
                [one] => one.clone(),
                [] => {
                    return Err(Error::usage(
                        msg!("python-unit-no-exec-start", unit = unit.name),
                        msg!("python-unit-no-exec-start-hint"),
                    ));
                }
                many => {
                    return Err(Error::refused(
                        msg!(
                            "python-unit-many-exec-start",
                            unit = unit.name,
                            count = many.len(),
                            places = many
                                .iter()
                                .map(|e| format!("{}:{}", e.file.display(), e.line))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        msg!("python-unit-many-exec-start-hint"),
                    ));
                }
            };
            let (special, command) = wrap::exec_prefix(&start.value);
            if special.contains('@') {
                return Err(Error::refused(
                    msg!("python-unit-exec-start-at", unit = unit.name),
                    msg!("python-unit-exec-start-at-hint", agent = START_AGENT),
                ));
            }
            let first = command
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            server = server.or_else(|| wrap::find_start(command).map(|s| s.server));
            program = Some(first);
            if let Some(dir) = unit.dropin.parent() {
                roots.push(canonical_lenient(dir));
                plan.dirs.extend(DirCreate::missing(dir, None));
            }
            exec_start = Some(start.value.clone());
            owner = owner.or_else(|| process::user_ids(&wrap::unit_user(&unit.sources)?));
        }
        WrapTarget::Conf(path, kind, content) => {
            server = server.or(Some(kind.server().to_string()));
            conf_venv = embedded::virtualenv(*kind, content);
            owner = owner
                .or_else(|| process::user_ids(&embedded::user(*kind, content)?))
                .or_else(|| owner_of(path));
            if let Some(dir) = path.parent() {
                roots.push(canonical_lenient(dir));
            }
        }
        WrapTarget::Print => {}
    }

    let interpreter_path = match (
        &py.interpreter,
        app.app.as_ref().and_then(AppProcess::interpreter),
    ) {
        (Some(flag), _) if !flag.to_string_lossy().contains('/') => {
            wrap::which(&flag.to_string_lossy()).ok_or_else(|| {
                Error::usage(
                    msg!("python-not-in-path", path = flag.display()),
                    msg!("python-not-in-path-hint"),
                )
            })?
        }
        (Some(flag), _) => interpreter_flag(&absolute("--python", flag)?)?,
        (None, Some(found)) => found,
        (None, None) => conf_venv
            .map(|venv| interpreter_flag(&venv))
            .transpose()?
            .or_else(|| program.as_deref().and_then(interpreter_of_program))
            .ok_or_else(|| {
                Error::usage(
                    msg!("python-interpreter-unknown"),
                    msg!("python-interpreter-unknown-hint"),
                )
            })?,
    };
    let interpreter = probe(&interpreter_path)?;
    if !interpreter.has_whatap {
        if interpreter.externally_managed && !py.break_system_packages {
            return Err(Error::refused(
                msg!(
                    "python-externally-managed",
                    python = interpreter.path.display()
                ),
                msg!("python-externally-managed-hint"),
            ));
        }
        let pip = |verb: &[&str]| {
            let mut args = vec!["-m", "pip"];
            args.extend(verb);
            if interpreter.externally_managed {
                args.push("--break-system-packages");
            }
            args.push(PACKAGE);
            RunStep::new(&interpreter.path, &args)
        };
        plan.run.push(pip(&["install"]));
        // Only what this install added goes again: an operator's own whatap-python stays.
        plan.undo.push(Undo::Run {
            step: pip(&["uninstall", "-y"]).best_effort(),
        });
    }
    // The agent whatap-start-agent starts for this WHATAP_HOME (not every app's: the
    // package's whatap-stop-agent is `killall whatap_python`).
    plan.undo.push(Undo::StopAgent {
        name: AGENT_PROCESS.to_string(),
        cwd: canonical_lenient(&home),
    });
    let agent = interpreter.scripts.join(START_AGENT);
    let agent_text = agent.to_string_lossy().into_owned();
    let home_text = home.to_string_lossy().into_owned();
    check_value("the whatap-start-agent path", &agent_text)?;

    // whatap.conf as whatap-setting-config writes it; defaults never replace a set value.
    let conf_path = home.join("whatap.conf");
    let existing = crate::plan::target::peek(&conf_path)
        .map(|b| conf::parse(&b))
        .unwrap_or_default();
    let mut keys = vec![
        ("license".to_string(), settings.license.clone()),
        ("whatap.server.host".to_string(), settings.hosts.join("/")),
    ];
    let unset = |key: &str| existing.get(key).is_none_or(|v| v.is_empty() || v == key);
    let default_name = server.clone().unwrap_or_else(|| "python-app".to_string());
    match &py.app_name {
        Some(name) => keys.push(("app_name".into(), name.clone())),
        None if unset("app_name") => keys.push(("app_name".into(), default_name.clone())),
        None => {}
    }
    match (&py.app_process_name, &server) {
        (Some(name), _) => keys.push(("app_process_name".into(), name.clone())),
        (None, Some(server)) if unset("app_process_name") => {
            keys.push(("app_process_name".into(), server.clone()))
        }
        _ => {}
    }
    // whatap-start-agent starts the agent only when apm_enabled is literally `true`.
    keys.push(("apm_enabled".into(), "true".into()));
    if matches!(target, WrapTarget::Conf(_, ConfKind::UwsgiIni, _)) {
        // No whatap-start-agent in front of uWSGI: the bootstrap in the app's own
        // interpreter starts the agent, which it does only with this key.
        keys.push(("whatap_code_start".into(), "true".into()));
    }
    keys.extend(settings.conf.iter().cloned());
    plan.dirs.splice(0..0, DirCreate::missing(&home, owner));
    // 0600 like the other runtimes: it holds the license; owned by the app's user, who reads it.
    let mut conf_edit = edits::keys(&conf_path, &roots, &keys, 0o600)?;
    conf_edit.create_owner = owner;
    plan.edits.push(conf_edit);

    let prefix = wrap::prefix(&home_text, &agent_text);
    match &target {
        WrapTarget::Script(path, _) => {
            let supervisor_program = script_line.as_ref().and_then(|(l, _)| l.program.clone());
            if let Some((line, offset)) = script_line {
                let after = line.wrapped(&home_text, &agent_text, offset);
                let mut edit = edits::lines(
                    path,
                    &roots,
                    vec![edits::LineSwap {
                        now: line.now.clone(),
                        original: line.original.clone(),
                        after,
                    }],
                )?;
                if is_shell_script(path, edit.before.as_deref()) {
                    edit.validation = Validation::Shell;
                }
                plan.edits.push(edit);
            }
            next_steps.push(match supervisor_program {
                Some(program) => format!("supervisorctl update && supervisorctl restart {program}"),
                None => msg!("python-restart-script", path = path.display()),
            });
        }
        WrapTarget::Unit(unit) => {
            let content = wrap::systemd_dropin(
                &home_text,
                &agent_text,
                exec_start.as_deref().unwrap_or_default(),
            );
            plan.edits.push(edits::whole(
                &unit.dropin,
                &roots,
                content.into_bytes(),
                0o644,
            )?);
            next_steps.push(format!(
                "systemctl daemon-reload && systemctl restart {}",
                unit.name
            ));
        }
        WrapTarget::Conf(path, kind, content) => {
            let bootstrap = interpreter.purelib.join("whatap/bootstrap");
            check_value("the whatap bootstrap path", &bootstrap.to_string_lossy())?;
            plan.edits.push(embedded::edit(
                *kind, path, content, &roots, &home_text, &bootstrap,
            )?);
            next_steps.push(match kind {
                ConfKind::UwsgiIni => msg!("python-restart-script", path = path.display()),
                ConfKind::ApacheWsgi => msg!(
                    "python-apache-start-agent",
                    prefix = prefix,
                    home = home.display()
                ),
            });
        }
        WrapTarget::Print => {
            let command = app
                .app
                .as_ref()
                .map(|a| a.process.args.join(" "))
                .unwrap_or_else(|| "YOUR_APPLICATION_START_COMMAND".to_string());
            next_steps.push(msg!(
                "python-start-through-agent",
                prefix = prefix,
                command = command
            ));
        }
    }
    if let Some(dir) = home.ancestors().find(|d| d.is_dir()) {
        target::check_dir_writable(dir)?;
    }
    Ok(InstallPlan {
        plan,
        method: match &target {
            WrapTarget::Script(..) => "start-script",
            WrapTarget::Conf(_, kind, _) => kind.method(),
            WrapTarget::Unit(_) => "systemd",
            WrapTarget::Print => "manual",
        }
        .to_string(),
        next_steps,
        warnings,
    })
}

fn is_shell_script(path: &Path, content: Option<&[u8]>) -> bool {
    let shebang = content
        .and_then(|c| c.split(|&b| b == b'\n').next())
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .unwrap_or_default();
    (shebang.starts_with("#!") && shebang.contains("sh"))
        || path.extension().is_some_and(|e| e == "sh")
}
