//! Running Python apps (gunicorn, uwsgi, uvicorn, `manage.py runserver`, ...) and the WhaTap
//! home each is known by: its WHATAP_HOME, else `whatap/` in its working directory.

use crate::detect::Host;
use crate::detect::process::{self, Process};
use crate::detect::systemd::{UNIT_DIRS, unit_name};
use crate::edit::wrap;
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::target::canonical_lenient;
use crate::runtimes::instance::AgentState;
use crate::runtimes::systemd::{DROPIN_NAME, dropin_dir};
use crate::settings::TargetSettings;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The native agent process `whatap-start-agent` starts (cwd = WHATAP_HOME).
pub const AGENT_PROCESS: &str = "whatap_python";

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
    let parent = process::read(&process::proc_root(), process::parent_pid(p.pid)?)?;
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

/// uWSGI's `env = KEY=VALUE` options of the `--ini` file it runs: set inside the process, so
/// `/proc/PID/environ` never shows them.
fn ini_environ(args: &[String], cwd: Option<&Path>) -> BTreeMap<String, String> {
    let Some(ini) = args
        .iter()
        .position(|a| a == "--ini")
        .and_then(|i| args.get(i + 1))
    else {
        return BTreeMap::new();
    };
    let path = cwd.map_or_else(|| PathBuf::from(ini), |cwd| cwd.join(ini));
    let text = fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (key, value) = l.split_once('=')?;
            (key.trim() == "env")
                .then_some(value)?
                .trim()
                .split_once('=')
        })
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn app_process(p: &Process) -> Option<AppProcess> {
    let server = wrap::server_of_argv(&p.args)?;
    let cwd = fs::read_link(format!("/proc/{}/cwd", p.pid)).ok();
    let mut environ = process::environ(p.pid);
    if server == "uwsgi" && !environ.is_empty() {
        environ.extend(ini_environ(&p.args, cwd.as_deref()));
    }
    Some(AppProcess {
        server,
        environ,
        cwd,
        unit: crate::detect::systemd::unit_of(p.pid),
        supervisor: supervisor_program(p),
        process: p.clone(),
    })
}

/// Running agents: `./whatap_python -t 3` with its cwd in WHATAP_HOME.
pub fn agent_pids(host: &Host, whatap_home: &Path) -> Vec<u32> {
    let home = canonical_lenient(whatap_home);
    host.processes
        .iter()
        .filter(|p| process::named_in(p, AGENT_PROCESS, &home))
        .map(|p| p.pid)
        .collect()
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
    let whatap_home = canonical_lenient(&whatap_home);
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
        let parent = process::parent_pid(a.process.pid);
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

pub use crate::plan::target::absolute;

/// The WHATAP_HOME the flags name: `--home`, or install's `--whatap-home` (the same directory).
fn named_home(target: &TargetSettings) -> Result<Option<&PathBuf>> {
    match (&target.home, &target.whatap_home) {
        (Some(home), Some(whatap_home)) if home != whatap_home => Err(Error::usage(
            msg!("python-home-differs"),
            msg!("python-home-differs-hint"),
        )),
        (home, whatap_home) => Ok(home.as_ref().or(whatap_home.as_ref())),
    }
}

/// `--home WHATAP_HOME` (or `--whatap-home`) or `--pid PID` of the app.
pub fn resolve(target: &TargetSettings, host: &Host) -> Result<PythonApp> {
    let named = named_home(target)?;
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
        let home = match named {
            Some(home) => absolute("--home", home)?,
            None => home_of(&app),
        };
        return Ok(build(home, Some(app), host));
    }
    let home = match named {
        Some(home) => home.clone(),
        None => home_of_start(target)?,
    };
    let home = &home;
    let home = canonical_lenient(&absolute("--home", home)?);
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

/// The WHATAP_HOME `--start-script` or `--unit` names (our wrapping, the guide's
/// `WHATAP_HOME=` line, supervisor's `environment =`, our drop-in's `Environment=`).
fn home_of_start(target: &TargetSettings) -> Result<PathBuf> {
    let (flag, files) = match (&target.start_script, &target.unit) {
        (Some(script), _) => ("--start-script", vec![absolute("--start-script", script)?]),
        (None, Some(unit)) => {
            let mut files = vec![dropin_dir(unit).join(DROPIN_NAME)];
            files.extend(UNIT_DIRS.iter().map(|d| Path::new(d).join(unit_name(unit))));
            files.push(PathBuf::from(unit));
            ("--unit", files)
        }
        (None, None) => {
            return Err(Error::Internal(
                "resolve without a target: use runtimes::resolve".into(),
            ));
        }
    };
    files
        .iter()
        .filter_map(|f| crate::plan::target::peek(f).ok())
        .find_map(|bytes| wrap::named_home(&String::from_utf8_lossy(&bytes)))
        .map(PathBuf::from)
        .ok_or_else(|| {
            Error::usage(
                msg!(
                    "python-start-names-no-home",
                    flag = flag,
                    path = files[0].display()
                ),
                msg!("python-start-names-no-home-hint"),
            )
        })
}

impl PythonApp {
    pub fn agent_state(&self) -> AgentState {
        match self.app.as_ref().and_then(AppProcess::wrapped) {
            Some(true) if !self.agents.is_empty() => AgentState::Loaded,
            Some(true) => AgentState::Configured,
            _ if self.whatap_home.join("whatap.conf").is_file() => AgentState::Configured,
            _ => AgentState::None,
        }
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
