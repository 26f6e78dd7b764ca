//! Python web apps with the vendor's `whatap-python` package (PyPI): whatap.conf in
//! `WHATAP_HOME`, the start command wrapped with `whatap-start-agent` (a systemd drop-in, a
//! supervisor `command =`, a start script), the package installed into the app's own
//! interpreter with its `-m pip`.

use super::{AgentState, Detection, InstallPlan, Runtime};
use crate::detect::Host;
use crate::detect::process::{self, Process};
use crate::doctor::{self, Inspection};
use crate::edit::conf;
use crate::edit::marker::MarkerStyle;
use crate::edit::wrap::{self, START_AGENT};
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::{DirCreate, Plan, RunStep, Validation, edits, target};
use crate::runtimes::java::check_plain;
use crate::settings::{InstallSettings, TargetSettings};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

pub const NAME: &str = "python";
/// The native agent process `whatap-start-agent` starts (cwd = WHATAP_HOME).
pub const AGENT_PROCESS: &str = "whatap_python";
const PACKAGE: &str = "whatap-python";
/// Where systemd looks for units, most specific first.
const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/run/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
];
const DROPIN_NAME: &str = "whatap.conf";

/// A running Python app process (the master, not its workers).
#[derive(Debug, Clone)]
pub struct AppProcess {
    pub process: Process,
    pub server: String,
    /// Its environment (empty when another user's and we are not root).
    pub environ: BTreeMap<String, String>,
    pub cwd: Option<PathBuf>,
    /// The systemd unit it runs in, from its cgroup.
    pub unit: Option<String>,
    /// The supervisor program file and program name, when supervisord started it.
    pub supervisor: Option<(PathBuf, String)>,
}

impl AppProcess {
    /// Started through `whatap-start-agent`: it puts whatap's bootstrap on PYTHONPATH.
    pub fn wrapped(&self) -> Option<bool> {
        if self.environ.is_empty() {
            return None;
        }
        Some(
            self.environ
                .get("PYTHONPATH")
                .is_some_and(|p| p.contains("whatap/bootstrap")),
        )
    }

    /// The interpreter as the app names it (a venv's `bin/python3`, not the resolved binary).
    pub fn interpreter(&self) -> Option<PathBuf> {
        let first = self.process.args.first()?;
        let name = Path::new(first).file_name()?.to_string_lossy().into_owned();
        if !name.starts_with("python") {
            return None;
        }
        if first.starts_with('/') {
            return Some(PathBuf::from(first));
        }
        fs::read_link(format!("/proc/{}/exe", self.process.pid)).ok()
    }
}

#[derive(Debug, Clone)]
pub struct PythonApp {
    pub whatap_home: PathBuf,
    pub app: Option<AppProcess>,
    /// PIDs of `whatap_python` agents running from this WHATAP_HOME.
    pub agents: Vec<u32>,
}

fn read_environ(pid: u32) -> BTreeMap<String, String> {
    let Ok(raw) = fs::read(format!("/proc/{pid}/environ")) else {
        return BTreeMap::new();
    };
    process::parse_cmdline(&raw)
        .into_iter()
        .filter_map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

fn parent_pid(pid: u32) -> Option<u32> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .and_then(|v| v.trim().parse().ok())
}

/// `.../system.slice/app.service` in `/proc/PID/cgroup` names the unit.
fn cgroup_unit(pid: u32) -> Option<String> {
    let cgroup = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    cgroup.lines().find_map(|line| {
        line.rsplit('/')
            .next()
            .filter(|u| u.ends_with(".service") && !u.starts_with("user@"))
            .map(str::to_string)
    })
}

/// Where supervisord reads its configuration when not given `-c`.
const SUPERVISOR_CONFS: &[&str] = &[
    "/etc/supervisor/supervisord.conf",
    "/etc/supervisord.conf",
    "/usr/local/etc/supervisord.conf",
];

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `-c FILE`, `-cFILE`, `--configuration FILE`, `--configuration=FILE`.
fn config_arg(args: &[String]) -> Option<String> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "-c" || arg == "--configuration" {
            return iter.next().cloned();
        }
        if let Some(value) = arg
            .strip_prefix("--configuration=")
            .or_else(|| arg.strip_prefix("-c").filter(|v| !v.is_empty()))
        {
            return Some(value.to_string());
        }
    }
    None
}

/// `*` and `?` in one path component, as supervisor's `[include] files =` globs use them.
fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.split_first(), name.split_first()) {
        (None, None) => true,
        (Some((b'*', rest)), _) => {
            wildcard(rest, name) || (!name.is_empty() && wildcard(pattern, &name[1..]))
        }
        (Some((b'?', rest)), Some((_, name_rest))) => wildcard(rest, name_rest),
        (Some((p, rest)), Some((n, name_rest))) if p == n => wildcard(rest, name_rest),
        _ => false,
    }
}

/// supervisord's main file and every file its `[include] files =` names.
fn supervisor_files(main: &Path) -> Vec<PathBuf> {
    let mut files = vec![main.to_path_buf()];
    let Ok(text) = fs::read_to_string(main) else {
        return files;
    };
    let dir = main.parent().unwrap_or(Path::new("/"));
    let mut in_include = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_include = trimmed == "[include]";
            continue;
        }
        let Some(("files", patterns)) = trimmed.split_once('=').map(|(k, v)| (k.trim(), v)) else {
            continue;
        };
        if !in_include {
            continue;
        }
        for pattern in patterns.split_whitespace() {
            let pattern = dir.join(pattern);
            let (Some(parent), Some(name)) = (pattern.parent(), pattern.file_name()) else {
                continue;
            };
            let mut matched: Vec<PathBuf> = fs::read_dir(parent)
                .map(|entries| {
                    entries
                        .flatten()
                        .filter(|e| {
                            wildcard(name.as_encoded_bytes(), e.file_name().as_encoded_bytes())
                        })
                        .map(|e| e.path())
                        .collect()
                })
                .unwrap_or_default();
            matched.sort();
            files.extend(matched);
        }
    }
    files
}

/// Does a `command =` value start this argv (directly, or through its `#!` interpreter)?
fn same_command(command: &str, argv: &[String]) -> bool {
    let words: Vec<&str> = command
        .split_whitespace()
        .map(|w| w.trim_matches(['"', '\'']))
        .collect();
    let matches = |argv: &[String]| {
        words.len() == argv.len()
            && words
                .iter()
                .zip(argv)
                .enumerate()
                .all(|(i, (w, a))| w == a || (i == 0 && basename(w) == basename(a)))
    };
    matches(argv) || argv.split_first().is_some_and(|(_, rest)| matches(rest))
}

/// The supervisor program that started `p`: found through its parent supervisord's config.
fn supervisor_program(p: &Process) -> Option<(PathBuf, String)> {
    let parent = process::read(&process::proc_root(), parent_pid(p.pid)?)?;
    if !parent
        .args
        .iter()
        .take(2)
        .any(|a| basename(a) == "supervisord")
    {
        return None;
    }
    let main = match config_arg(&parent.args) {
        Some(conf) if conf.starts_with('/') => PathBuf::from(conf),
        Some(conf) => fs::read_link(format!("/proc/{}/cwd", parent.pid))
            .ok()?
            .join(conf),
        None => SUPERVISOR_CONFS
            .iter()
            .map(PathBuf::from)
            .find(|c| c.is_file())?,
    };
    supervisor_files(&main).into_iter().find_map(|file| {
        let content = crate::plan::target::peek(&file).ok()?;
        let scan = wrap::scan_start_file(&content);
        scan.starts.into_iter().find_map(|(line, offset)| {
            let program = line.program.clone()?;
            same_command(&line.original[offset..], &p.args).then(|| (file.clone(), program))
        })
    })
}

fn app_process(p: &Process) -> Option<AppProcess> {
    let server = wrap::server_of_argv(&p.args)?;
    Some(AppProcess {
        server,
        environ: read_environ(p.pid),
        cwd: fs::read_link(format!("/proc/{}/cwd", p.pid)).ok(),
        unit: cgroup_unit(p.pid),
        supervisor: supervisor_program(p),
        process: p.clone(),
    })
}

/// Running agents: `./whatap_python -t 3` with its cwd in WHATAP_HOME.
pub fn agent_pids(host: &Host, whatap_home: &Path) -> Vec<u32> {
    let home = canonical(whatap_home);
    host.processes
        .iter()
        .filter(|p| {
            p.args
                .first()
                .and_then(|a| Path::new(a).file_name())
                .is_some_and(|n| n == AGENT_PROCESS)
        })
        .filter(|p| fs::read_link(format!("/proc/{}/cwd", p.pid)).is_ok_and(|cwd| cwd == home))
        .map(|p| p.pid)
        .collect()
}

/// The path with symlinks resolved as far as it exists, so the ledger id of a WHATAP_HOME is
/// the same before install (absent) and after (created).
fn canonical(path: &Path) -> PathBuf {
    let mut missing = Vec::new();
    let mut existing = path;
    loop {
        if let Ok(real) = fs::canonicalize(existing) {
            return missing.iter().rev().fold(real, |acc, part| acc.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name.to_os_string());
                existing = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

fn home_of(app: &AppProcess) -> PathBuf {
    match app.environ.get("WHATAP_HOME") {
        Some(home) if home.starts_with('/') => PathBuf::from(home),
        _ => app
            .cwd
            .clone()
            .unwrap_or_else(|| PathBuf::from("/"))
            .join("whatap"),
    }
}

fn build(whatap_home: PathBuf, app: Option<AppProcess>, host: &Host) -> PythonApp {
    let whatap_home = canonical(&whatap_home);
    PythonApp {
        agents: agent_pids(host, &whatap_home),
        whatap_home,
        app,
    }
}

/// Running Python apps (gunicorn, uwsgi, uvicorn, `manage.py runserver`, ...), masters only.
pub fn detect(host: &Host) -> Vec<PythonApp> {
    let apps: Vec<AppProcess> = host.processes.iter().filter_map(app_process).collect();
    let masters = apps.iter().filter(|a| {
        let parent = parent_pid(a.process.pid);
        !apps
            .iter()
            .any(|other| Some(other.process.pid) == parent && other.process.args == a.process.args)
    });
    let mut found: Vec<PythonApp> = Vec::new();
    for app in masters {
        let candidate = build(home_of(app), Some(app.clone()), host);
        if !found.iter().any(|f| f.whatap_home == candidate.whatap_home) {
            found.push(candidate);
        }
    }
    found
}

fn absolute(flag: &str, path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .map_err(|e| {
            Error::usage(
                format!("{flag} {}: {e}", path.display()),
                msg!("python-absolute-hint"),
            )
        })
}

/// `--home WHATAP_HOME` or `--pid PID` of the app.
pub fn resolve(target: &TargetSettings, host: &Host) -> Result<PythonApp> {
    if let Some(pid) = target.pid {
        let p = process::read(&process::proc_root(), pid).ok_or_else(|| {
            Error::usage(
                msg!("pid-no-such-process", pid = pid),
                msg!("python-pid-hint"),
            )
        })?;
        let app = app_process(&p).ok_or_else(|| {
            Error::usage(
                msg!("python-pid-not-it", pid = pid),
                msg!("python-pid-not-it-hint"),
            )
        })?;
        let home = match &target.home {
            Some(home) => absolute("--home", home)?,
            None => home_of(&app),
        };
        return Ok(build(home, Some(app), host));
    }
    let Some(home) = &target.home else {
        return Err(Error::Internal(
            "resolve without a target: use runtimes::resolve".into(),
        ));
    };
    let home = canonical(&absolute("--home", home)?);
    if home.exists() && !home.is_dir() {
        return Err(Error::usage(
            msg!("home-not-dir", path = home.display()),
            msg!("python-home-not-dir-hint"),
        ));
    }
    let app = detect(host)
        .into_iter()
        .find(|a| a.whatap_home == home)
        .and_then(|a| a.app);
    Ok(build(home, app, host))
}

/// What `--python` (or the app) tells about the interpreter: where its console scripts go,
/// whether whatap-python is importable.
#[derive(Debug, Clone)]
pub struct Interpreter {
    pub path: PathBuf,
    pub scripts: PathBuf,
    pub has_whatap: bool,
}

const PROBE: &str = "import sys, sysconfig, importlib.util\n\
print(sysconfig.get_path('scripts'))\n\
print(importlib.util.find_spec('whatap') is not None)";

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
    match (output.status.success(), lines.next(), lines.next()) {
        (true, Some(scripts), Some(found)) => Ok(Interpreter {
            path: path.to_path_buf(),
            scripts: PathBuf::from(scripts.trim()),
            has_whatap: found.trim() == "True",
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
    Unit(UnitFiles),
    /// Nothing we can edit: print the command.
    Print,
}

struct UnitFiles {
    name: String,
    dropin: PathBuf,
    /// Unit file then drop-ins, in the order systemd reads them (ours left out).
    sources: Vec<(PathBuf, Vec<u8>)>,
}

fn unit_files(unit: &str) -> Result<UnitFiles> {
    let (unit_file, dropin_dir) = if unit.contains('/') {
        let path = PathBuf::from(unit);
        let dir = PathBuf::from(format!("{unit}.d"));
        (path, dir)
    } else {
        let name = if unit.contains('.') {
            unit.to_string()
        } else {
            format!("{unit}.service")
        };
        let file = UNIT_DIRS
            .iter()
            .map(|d| Path::new(d).join(&name))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                Error::usage(
                    msg!(
                        "python-unit-missing",
                        unit = unit,
                        dirs = UNIT_DIRS.join(", ")
                    ),
                    msg!("python-unit-missing-hint"),
                )
            })?;
        (file, Path::new(UNIT_DIRS[0]).join(format!("{name}.d")))
    };
    let name = unit_file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let main = crate::plan::target::peek(&unit_file).map_err(|e| {
        Error::usage(
            format!("--unit {}: {e}", unit_file.display()),
            msg!("python-unit-unreadable-hint"),
        )
    })?;
    let mut sources = vec![(unit_file, main)];
    let mut dropins: Vec<PathBuf> = UNIT_DIRS
        .iter()
        .map(|d| Path::new(d).join(format!("{name}.d")))
        .chain([dropin_dir.clone()])
        .filter_map(|d| fs::read_dir(d).ok())
        .flat_map(|entries| entries.flatten().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "conf")
                && p.file_name().is_some_and(|n| n != DROPIN_NAME)
        })
        .collect();
    dropins.sort_by_key(|p| p.file_name().map(|n| n.to_os_string()));
    dropins.dedup();
    for path in dropins {
        if let Ok(bytes) = crate::plan::target::peek(&path) {
            sources.push((path, bytes));
        }
    }
    Ok(UnitFiles {
        name,
        dropin: dropin_dir.join(DROPIN_NAME),
        sources,
    })
}

fn check_value(flag: &str, value: &str) -> Result<()> {
    check_plain(flag, value, MarkerStyle::Shell)
}

fn wrap_target(app: &PythonApp, settings: &InstallSettings) -> Result<WrapTarget> {
    let py = &settings.python;
    if py.start_script.is_some() && py.unit.is_some() && !is_supervisor(py.start_script.as_deref())
    {
        return Err(Error::usage(
            msg!("python-unit-and-script"),
            msg!("python-unit-and-script-hint"),
        ));
    }
    if let Some(script) = &py.start_script {
        let path = absolute("--start-script", script)?;
        let program = is_supervisor(Some(&path))
            .then(|| py.unit.clone())
            .flatten();
        return Ok(WrapTarget::Script(path, program));
    }
    if let Some(unit) = &py.unit {
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

fn plan_install(app: &PythonApp, settings: &InstallSettings) -> Result<InstallPlan> {
    let py = &settings.python;
    let home = match &settings.whatap_home {
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
    let mut roots = vec![canonical(&home), home.clone()];
    let mut plan = Plan::default();
    let mut next_steps = Vec::new();
    let mut warnings = Vec::new();

    // What gets wrapped, and the program it starts (to find the interpreter).
    let mut program: Option<String> = None;
    let mut server: Option<String> = app.app.as_ref().map(|a| a.server.clone());
    let mut owner = app.app.as_ref().map(|a| (a.process.uid, a.process.gid));
    let mut script_line = None;
    let mut exec_start = None;
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
                roots.push(canonical(dir));
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
                roots.push(canonical(dir));
                plan.dirs.extend(DirCreate::missing(dir, None));
            }
            exec_start = Some(start.value.clone());
            owner = owner.or_else(|| process::user_ids(&wrap::unit_user(&unit.sources)?));
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
        (None, None) => program
            .as_deref()
            .and_then(interpreter_of_program)
            .ok_or_else(|| {
                Error::usage(
                    msg!("python-interpreter-unknown"),
                    msg!("python-interpreter-unknown-hint"),
                )
            })?,
    };
    let interpreter = probe(&interpreter_path)?;
    if !interpreter.has_whatap {
        plan.run.push(RunStep {
            program: interpreter.path.clone(),
            args: ["-m", "pip", "install", PACKAGE].map(String::from).to_vec(),
        });
    }
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
                let after = line.wrapped(&prefix, offset);
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
        method: match target {
            WrapTarget::Script(..) => "start-script",
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

impl PythonApp {
    fn agent_state(&self) -> AgentState {
        match self.app.as_ref().and_then(AppProcess::wrapped) {
            Some(true) if !self.agents.is_empty() => AgentState::Loaded,
            Some(true) => AgentState::Configured,
            _ if self.whatap_home.join("whatap.conf").is_file() => AgentState::Configured,
            _ => AgentState::None,
        }
    }
}

impl Runtime for PythonApp {
    fn kind(&self) -> &'static str {
        NAME
    }

    fn id(&self) -> String {
        format!("{NAME}:{}", self.whatap_home.display())
    }

    fn target(&self) -> PathBuf {
        self.whatap_home.clone()
    }

    fn detection(&self) -> Detection {
        let mut details = BTreeMap::new();
        if let Some(app) = &self.app {
            details.insert("server".to_string(), app.server.clone().into());
            if let Some(interpreter) = app.interpreter() {
                details.insert(
                    "interpreter".to_string(),
                    interpreter.display().to_string().into(),
                );
            }
            if let Some(unit) = &app.unit {
                details.insert("unit".to_string(), unit.clone().into());
            }
        }
        Detection {
            runtime: NAME.to_string(),
            version: None,
            home: self.whatap_home.clone(),
            base: None,
            pid: self.app.as_ref().map(|a| a.process.pid),
            user: self
                .app
                .as_ref()
                .and_then(|a| process::user_name(a.process.uid)),
            agent: self.agent_state(),
            details,
        }
    }

    fn plan_install(&self, settings: &InstallSettings) -> Result<InstallPlan> {
        plan_install(self, settings)
    }

    fn inspect(&self) -> Inspection {
        doctor::python::inspect(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &str) -> Vec<String> {
        words.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn supervisor_config_lookup_helpers() {
        assert_eq!(
            config_arg(&argv(
                "/usr/bin/python3 /usr/bin/supervisord -n -c /etc/s.conf"
            )),
            Some("/etc/s.conf".to_string())
        );
        assert_eq!(
            config_arg(&argv("supervisord --configuration=/x.conf")),
            Some("/x.conf".to_string())
        );
        assert_eq!(config_arg(&argv("supervisord -n")), None);
        assert!(wildcard(b"*.conf", b"app.conf"));
        assert!(wildcard(b"app?.ini", b"app1.ini"));
        assert!(!wildcard(b"*.conf", b"app.ini"));
        // gunicorn's /proc cmdline carries the interpreter its #! names.
        let running = argv("/srv/venv/bin/python3 /srv/venv/bin/gunicorn -b :8000 app:app");
        assert!(same_command(
            "/srv/venv/bin/gunicorn -b :8000 app:app",
            &running
        ));
        assert!(same_command("gunicorn -b :8000 app:app", &running[1..]));
        assert!(!same_command(
            "/srv/venv/bin/gunicorn -b :9000 app:app",
            &running
        ));
    }
}
