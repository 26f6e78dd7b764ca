//! Node.js apps and how each is started: running `node` processes (entry script, cwd,
//! package.json), pm2-managed apps (the ecosystem file that declares them), systemd units
//! whose ExecStart runs node. An app is known by its directory, the one with package.json;
//! its WhaTap home is the WHATAP_HOME it runs or is configured with, else `<app-dir>/whatap`.

use super::package;
use crate::detect::Host;
use crate::detect::process::{self, Process};
use crate::detect::systemd::{UNIT_DIRS, services_in};
use crate::edit::{ecosystem, unit, wrap};
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::target::{absolute, canonical_lenient};
use crate::runtimes::instance::AgentState;
use crate::runtimes::systemd;
use crate::settings::TargetSettings;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The agent's native daemon, started by the package from WHATAP_HOME.
pub const DAEMON: &str = "whatap_nodejs";
const NODE_NAMES: &[&str] = &["node", "nodejs"];
/// Scripts node runs that are tools, not the app (the app is their child).
const TOOLS: &[&str] = &[
    "npm",
    "npm-cli.js",
    "npx",
    "npx-cli.js",
    "yarn",
    "yarn.js",
    "yarn.cjs",
    "pnpm",
    "pnpm.cjs",
    "corepack",
    "pm2",
    "pm2-runtime",
];
/// Node options that take the next word as their value.
const VALUE_OPTIONS: &[&str] = &[
    "-r",
    "--require",
    "--import",
    "--loader",
    "--experimental-loader",
    "--title",
    "-C",
    "--conditions",
    "--env-file",
    "--disable-warning",
    "--watch-path",
    "--inspect-port",
    "--redirect-warnings",
    "--input-type",
];
/// Node options after which no app script runs.
const NO_SCRIPT: &[&str] = &[
    "-e",
    "--eval",
    "-p",
    "--print",
    "-c",
    "--check",
    "-i",
    "--interactive",
    "-v",
    "--version",
    "-h",
    "--help",
    "--test",
    "--run",
];
/// The names pm2's documentation gives ecosystem files.
pub const ECOSYSTEM_NAMES: &[&str] = &[
    "ecosystem.config.js",
    "ecosystem.config.cjs",
    "ecosystem.json",
    "ecosystem.config.json",
    "process.json",
    "pm2.json",
];

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A node command line: its options and the script it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeArgs {
    pub options: Vec<String>,
    pub script: Option<String>,
}

impl NodeArgs {
    /// The words after the node binary; None when node runs no script (`-e`, the REPL).
    pub fn parse(args: &[String]) -> Option<NodeArgs> {
        let mut options = Vec::new();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            if arg == "--" {
                break;
            }
            if !arg.starts_with('-') || arg == "-" {
                return Some(NodeArgs {
                    options,
                    script: Some(arg.clone()),
                });
            }
            let name = arg.split('=').next().unwrap_or(arg);
            if NO_SCRIPT.contains(&name) {
                return None;
            }
            options.push(arg.clone());
            if VALUE_OPTIONS.contains(&arg.as_str()) {
                options.extend(iter.next().cloned());
            }
        }
        let script = iter.next().cloned();
        script.is_some().then_some(NodeArgs { options, script })
    }

    /// Does one of the options preload the agent (`--require whatap`, `-r /x/node_modules/whatap`)?
    pub fn requires_agent(&self) -> bool {
        preloads_agent(&self.options)
    }
}

/// Is `value` the agent package (by name or by its directory)?
pub fn is_agent_module(value: &str) -> bool {
    let value = value.trim_end_matches('/');
    let value = value.strip_suffix("/index.js").unwrap_or(value);
    value == package::PACKAGE || value.ends_with("/node_modules/whatap")
}

/// Do these node options (a command line's or NODE_OPTIONS' words) preload the agent?
pub fn preloads_agent(options: &[String]) -> bool {
    let mut iter = options.iter();
    while let Some(option) = iter.next() {
        let value = match option.as_str() {
            "-r" | "--require" => iter.next().map(String::as_str),
            other => other
                .strip_prefix("--require=")
                .or_else(|| other.strip_prefix("-r=")),
        };
        if value.is_some_and(is_agent_module) {
            return true;
        }
    }
    false
}

/// NODE_OPTIONS as node reads it: blank-separated, `"..."` quotes a word.
pub fn split_node_options(value: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut in_word = false;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => current.extend(chars.next()),
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                }
                in_word = false;
            }
            c => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
}

/// The package directory of a script: the nearest directory with package.json above it, not
/// counting packages inside `node_modules`.
pub fn package_root(start: &Path) -> Option<PathBuf> {
    let start = match start
        .ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "node_modules"))
    {
        Some(modules) => modules.parent()?,
        None => start,
    };
    start
        .ancestors()
        .find(|dir| dir.join(package::MANIFEST).is_file())
        .map(Path::to_path_buf)
}

/// A running node process that runs an app.
#[derive(Debug, Clone)]
pub struct NodeProcess {
    pub process: Process,
    /// Its node command line, when the process title still shows it.
    pub node: Option<NodeArgs>,
    /// The script, absolute.
    pub entry: Option<PathBuf>,
    pub cwd: Option<PathBuf>,
    pub environ: BTreeMap<String, String>,
    /// The node binary (`/proc/PID/exe`).
    pub exe: Option<PathBuf>,
    /// The systemd unit it runs in, from its cgroup.
    pub unit: Option<String>,
    /// The pm2 app it is (`name` in pm2's environment).
    pub pm2: Option<String>,
}

impl NodeProcess {
    /// Started with the agent: `--require` of it on the command line or in NODE_OPTIONS.
    pub fn requires_agent(&self) -> bool {
        self.node.as_ref().is_some_and(NodeArgs::requires_agent)
            || self
                .environ
                .get("NODE_OPTIONS")
                .is_some_and(|o| preloads_agent(&split_node_options(o)))
    }

    /// The app's directory: its script's package, else its working directory's.
    pub fn app_dir(&self) -> Option<PathBuf> {
        self.entry
            .as_ref()
            .and_then(|e| package_root(e.parent()?))
            .or_else(|| package_root(self.cwd.as_ref()?))
    }
}

/// A node process that runs an app (not npm, not a tool, not `node -e`).
pub fn node_process(p: &Process) -> Option<NodeProcess> {
    // pm2 (and apps setting process.title) overwrite argv: one string of blank-joined words.
    let args: Vec<String> = match p.args.as_slice() {
        [title] if title.contains(' ') => title.split_whitespace().map(String::from).collect(),
        args => args.to_vec(),
    };
    // Only node's own processes are read further: detection stays cheap on a busy host.
    if !args
        .first()
        .is_some_and(|a| NODE_NAMES.contains(&basename(a)))
    {
        return None;
    }
    let node = NodeArgs::parse(&args[1..]);
    let environ = process::environ(p.pid);
    let script = node
        .as_ref()
        .and_then(|n| n.script.clone())
        .or_else(|| environ.get("pm_exec_path").cloned())?;
    if TOOLS.contains(&basename(&script)) {
        return None;
    }
    let cwd = fs::read_link(format!("/proc/{}/cwd", p.pid)).ok();
    let entry = match (Path::new(&script).is_absolute(), &cwd) {
        (true, _) => Some(PathBuf::from(&script)),
        (false, Some(cwd)) => Some(cwd.join(&script)),
        (false, None) => None,
    };
    Some(NodeProcess {
        node,
        entry,
        cwd,
        exe: fs::read_link(format!("/proc/{}/exe", p.pid)).ok(),
        unit: crate::detect::systemd::unit_of(p.pid),
        pm2: environ
            .contains_key("pm_id")
            .then(|| environ.get("name").cloned())
            .flatten(),
        environ,
        process: p.clone(),
    })
}

/// How the app is started: where the agent's `--require` goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launcher {
    /// An app of a pm2 ecosystem file (`node_args`, `env`).
    Pm2 { ecosystem: PathBuf, name: String },
    /// A systemd unit, by name or unit file path (a drop-in with NODE_OPTIONS).
    Systemd { unit: String },
    /// A shell script whose node line gets `--require`.
    Script(PathBuf),
    /// Nothing we can edit (a pm2 app without its ecosystem file, started by hand): the
    /// command is printed.
    Manual,
}

/// A `whatap_nodejs` daemon and the app it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Daemon {
    pub pid: u32,
    /// NODEJS_PARENT_APP_PID of its environment, else its parent.
    pub app: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct NodeApp {
    pub app_dir: PathBuf,
    pub process: Option<NodeProcess>,
    pub launcher: Launcher,
    pub whatap_home: PathBuf,
    /// Daemons running from the WhaTap home.
    pub daemons: Vec<Daemon>,
    /// Where doctor keeps `node --version` between runs.
    pub cache: std::sync::Arc<crate::detect::cache::ProbeCache>,
}

/// Daemons whose working directory is `home` (the package starts them there).
pub fn daemons(host: &Host, home: &Path) -> Vec<Daemon> {
    let home = canonical_lenient(home);
    host.processes
        .iter()
        .filter(|p| p.args.first().is_some_and(|a| basename(a) == DAEMON))
        .filter(|p| fs::read_link(format!("/proc/{}/cwd", p.pid)).is_ok_and(|cwd| cwd == home))
        .map(|p| Daemon {
            pid: p.pid,
            app: process::environ(p.pid)
                .get("NODEJS_PARENT_APP_PID")
                .and_then(|v| v.parse().ok())
                .or_else(|| process::parent_pid(p.pid)),
        })
        .collect()
}

/// The app a pm2 ecosystem file declares for `app_dir` (or by `name`): (file, app name).
pub fn ecosystem_app(file: &Path, name: Option<&str>, app_dir: &Path) -> Option<String> {
    let text = String::from_utf8(crate::plan::target::peek(file).ok()?).ok()?;
    let apps = ecosystem::apps(&text)?;
    let dir = file.parent()?;
    let name_of = |app: &ecosystem::App| {
        app.string(&text, "name").map(str::to_string).or_else(|| {
            let script = app.string(&text, "script")?;
            let stem = Path::new(script).file_stem()?;
            Some(stem.to_string_lossy().into_owned())
        })
    };
    if let Some(name) = name {
        return apps
            .iter()
            .find(|a| name_of(a).as_deref() == Some(name))
            .and_then(name_of);
    }
    let in_app_dir = |app: &&ecosystem::App| {
        let cwd = app
            .string(&text, "cwd")
            .map_or(dir.to_path_buf(), |c| dir.join(c));
        let script = app.string(&text, "script").unwrap_or_default();
        canonical_lenient(&cwd.join(script)).starts_with(app_dir)
    };
    let mine: Vec<&ecosystem::App> = apps.iter().filter(in_app_dir).collect();
    match mine.as_slice() {
        [one] => name_of(one),
        _ => None,
    }
}

/// The ecosystem file among `dirs` that declares the app.
fn find_ecosystem(dirs: &[PathBuf], name: Option<&str>, app_dir: &Path) -> Option<Launcher> {
    let mut seen: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        for file in ECOSYSTEM_NAMES.iter().map(|n| dir.join(n)) {
            if seen.contains(&file) || !file.is_file() {
                continue;
            }
            seen.push(file.clone());
            if let Some(name) = ecosystem_app(&file, name, app_dir) {
                return Some(Launcher::Pm2 {
                    ecosystem: file,
                    name,
                });
            }
        }
    }
    None
}

/// What a systemd unit runs: the node binary and the app's directory.
pub struct UnitApp {
    pub node: PathBuf,
    pub app_dir: Option<PathBuf>,
}

/// The node app a unit's one ExecStart runs, if it runs node.
pub fn unit_app(sources: &[(PathBuf, Vec<u8>)]) -> Option<UnitApp> {
    let starts = wrap::exec_starts(sources);
    let [start] = starts.as_slice() else {
        return None;
    };
    let (_, command) = wrap::exec_prefix(&start.value);
    let mut words = unit::words(command);
    if words.first().is_some_and(|w| basename(w) == "env") {
        words.remove(0);
    }
    let program = words.first()?;
    if !NODE_NAMES.contains(&basename(program)) {
        return None;
    }
    let node = wrap::which(program).unwrap_or_else(|| PathBuf::from(program));
    let working = unit::service_settings(sources)
        .into_iter()
        .rfind(|s| s.key == "WorkingDirectory")
        .map(|s| PathBuf::from(s.value.trim_start_matches('-')))
        .filter(|d| d.is_absolute());
    let script = NodeArgs::parse(&words[1..]).and_then(|n| n.script);
    let entry = script.map(|s| {
        working
            .clone()
            .unwrap_or_else(|| PathBuf::from("/"))
            .join(s)
    });
    let app_dir = entry
        .as_ref()
        .and_then(|e| package_root(e.parent()?))
        .or_else(|| package_root(working.as_ref()?));
    Some(UnitApp { node, app_dir })
}

/// Units in systemd's directories whose ExecStart runs node, with their app directories.
fn node_units() -> Vec<(String, PathBuf)> {
    let dirs: Vec<PathBuf> = UNIT_DIRS.iter().map(PathBuf::from).collect();
    services_in(&dirs)
        .into_iter()
        .filter(|path| {
            crate::plan::target::peek(path).is_ok_and(|b| b.windows(4).any(|w| w == b"node"))
        })
        .filter_map(|path| {
            let name = path.file_name()?.to_string_lossy().into_owned();
            let files = systemd::unit_files(&name).ok()?;
            let app_dir = unit_app(&files.sources)?.app_dir?;
            Some((name, canonical_lenient(&app_dir)))
        })
        .collect()
}

/// The app `name` of an ecosystem file, read by `f` with the file's text.
fn with_ecosystem_app<T>(
    file: &Path,
    name: &str,
    f: impl FnOnce(&str, &ecosystem::App) -> Option<T>,
) -> Option<T> {
    let text = String::from_utf8(crate::plan::target::peek(file).ok()?).ok()?;
    let apps = ecosystem::apps(&text)?;
    let app = apps
        .iter()
        .find(|a| a.string(&text, "name") == Some(name))?;
    f(&text, app)
}

/// The environment a unit gives its service, our drop-in included.
fn unit_environment(unit: &str) -> Option<BTreeMap<String, String>> {
    let files = systemd::unit_files(unit).ok()?;
    let mut sources = files.sources;
    if let Ok(ours) = crate::plan::target::peek(&files.dropin) {
        sources.push((files.dropin, ours));
    }
    Some(systemd::environment(&sources))
}

/// WHATAP_HOME as the launcher sets it (our own drop-in included).
fn configured_home(launcher: &Launcher) -> Option<PathBuf> {
    let home = match launcher {
        Launcher::Systemd { unit } => unit_environment(unit)?.remove("WHATAP_HOME")?,
        Launcher::Pm2 { ecosystem, name } => with_ecosystem_app(ecosystem, name, |text, app| {
            ecosystem::env_of(text, app, "WHATAP_HOME").map(str::to_string)
        })?,
        Launcher::Script(path) => {
            let text = String::from_utf8(crate::plan::target::peek(path).ok()?).ok()?;
            text.split_whitespace()
                .find_map(|w| w.strip_prefix("WHATAP_HOME="))
                .map(|v| v.trim_matches(['"', '\'']).to_string())?
        }
        Launcher::Manual => return None,
    };
    Some(PathBuf::from(home)).filter(|h| h.is_absolute())
}

fn build(
    app_dir: PathBuf,
    process: Option<NodeProcess>,
    launcher: Launcher,
    host: &Host,
) -> NodeApp {
    let running = process
        .as_ref()
        .and_then(|p| p.environ.get("WHATAP_HOME"))
        .map(PathBuf::from)
        .filter(|h| h.is_absolute());
    let whatap_home = canonical_lenient(
        &running
            .or_else(|| configured_home(&launcher))
            .unwrap_or_else(|| app_dir.join("whatap")),
    );
    NodeApp {
        daemons: daemons(host, &whatap_home),
        cache: host.cache.clone(),
        app_dir,
        process,
        launcher,
        whatap_home,
    }
}

/// The launcher of a running process: its pm2 app's ecosystem file, its unit.
fn launcher_of(p: &NodeProcess, app_dir: &Path) -> Launcher {
    if let Some(name) = &p.pm2 {
        let dirs: Vec<PathBuf> = [
            Some(app_dir.to_path_buf()),
            p.environ.get("pm_cwd").map(PathBuf::from),
            p.environ.get("PWD").map(PathBuf::from),
        ]
        .into_iter()
        .flatten()
        .collect();
        return find_ecosystem(&dirs, Some(name), app_dir).unwrap_or(Launcher::Manual);
    }
    match &p.unit {
        Some(unit) => Launcher::Systemd { unit: unit.clone() },
        None => Launcher::Manual,
    }
}

/// Running node apps, one per app directory (the lowest PID: a cluster's master), then the
/// systemd units that run node and are not running.
pub fn detect(host: &Host) -> Vec<NodeApp> {
    let mut found: Vec<NodeApp> = Vec::new();
    for p in host.processes.iter().filter_map(node_process) {
        let Some(app_dir) = p.app_dir().map(|d| canonical_lenient(&d)) else {
            continue;
        };
        if found.iter().any(|f| f.app_dir == app_dir) {
            continue;
        }
        let launcher = launcher_of(&p, &app_dir);
        found.push(build(app_dir, Some(p), launcher, host));
    }
    for (unit, app_dir) in node_units() {
        if !found.iter().any(|f| f.app_dir == app_dir) {
            found.push(build(app_dir, None, Launcher::Systemd { unit }, host));
        }
    }
    found
}

/// `--start-script`: a pm2 ecosystem file (by name, or an `apps` list inside) or a script.
fn launcher_of_file(path: &Path, name: Option<&str>, app_dir: Option<&Path>) -> Result<Launcher> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = crate::plan::target::peek(path).map_err(|e| {
        Error::usage(
            format!("--start-script {}: {e}", path.display()),
            msg!("nodejs-start-script-hint"),
        )
    })?;
    let text = String::from_utf8_lossy(&text);
    let is_ecosystem = ECOSYSTEM_NAMES.contains(&file_name.as_str())
        || (file_name.ends_with(".json") || file_name.ends_with("js"))
            && ecosystem::apps(&text).is_some();
    if !is_ecosystem {
        return Ok(Launcher::Script(path.to_path_buf()));
    }
    let apps = ecosystem::apps(&text).unwrap_or_default();
    let names: Vec<String> = apps
        .iter()
        .filter_map(|a| a.string(&text, "name").map(str::to_string))
        .collect();
    // A name given must be there; without one, the app in `--app-dir`, or the only one.
    let chosen = match (name, app_dir) {
        (Some(name), _) => ecosystem_app(path, Some(name), Path::new("/")),
        (None, dir) => dir
            .and_then(|dir| ecosystem_app(path, None, dir))
            .or_else(|| (names.len() == 1).then(|| names[0].clone())),
    };
    let name = chosen.ok_or_else(|| {
        Error::usage(
            msg!(
                "nodejs-ecosystem-which-app",
                path = path.display(),
                names = names.join(", ")
            ),
            msg!("nodejs-ecosystem-which-app-hint"),
        )
    })?;
    Ok(Launcher::Pm2 {
        ecosystem: path.to_path_buf(),
        name,
    })
}

/// The app directory a launcher names when `--app-dir` is not given.
fn app_dir_of_launcher(launcher: &Launcher) -> Option<PathBuf> {
    match launcher {
        Launcher::Systemd { unit } => unit_app(&systemd::unit_files(unit).ok()?.sources)?.app_dir,
        Launcher::Pm2 { ecosystem, name } => with_ecosystem_app(ecosystem, name, |text, app| {
            let dir = ecosystem.parent()?;
            let cwd = app
                .string(text, "cwd")
                .map_or(dir.to_path_buf(), |c| dir.join(c));
            let script = cwd.join(app.string(text, "script")?);
            package_root(script.parent()?)
        }),
        Launcher::Script(path) => package_root(path.parent()?),
        Launcher::Manual => None,
    }
}

/// `--app-dir`, `--pid`, `--unit`, `--start-script` (an ecosystem file, `--unit` then naming
/// its app when it declares several).
pub fn resolve(target: &TargetSettings, host: &Host) -> Result<NodeApp> {
    let process = match target.pid {
        Some(pid) => {
            let p = process::read(&process::proc_root(), pid).ok_or_else(|| {
                Error::usage(
                    msg!("pid-no-such-process", pid = pid),
                    msg!("nodejs-pid-hint"),
                )
            })?;
            Some(node_process(&p).ok_or_else(|| {
                Error::usage(
                    msg!("nodejs-pid-not-it", pid = pid),
                    msg!("nodejs-pid-hint"),
                )
            })?)
        }
        None => None,
    };
    let named_dir = match &target.app_dir {
        Some(dir) => Some(canonical_lenient(&absolute("--app-dir", dir)?)),
        None => None,
    };
    let flagged = match (&target.start_script, &target.unit) {
        (Some(script), name) => Some(launcher_of_file(
            &absolute("--start-script", script)?,
            name.as_deref(),
            named_dir.as_deref(),
        )?),
        (None, Some(unit)) => Some(Launcher::Systemd { unit: unit.clone() }),
        (None, None) => None,
    };
    let app_dir = named_dir
        .or_else(|| process.as_ref().and_then(NodeProcess::app_dir))
        .or_else(|| flagged.as_ref().and_then(app_dir_of_launcher))
        .map(|d| canonical_lenient(&d))
        .ok_or_else(|| Error::usage(msg!("nodejs-app-dir-unknown"), msg!("nodejs-app-dir-hint")))?;
    if !app_dir.join(package::MANIFEST).is_file() {
        return Err(Error::usage(
            msg!("nodejs-no-manifest", path = app_dir.display()),
            msg!("nodejs-no-manifest-hint"),
        ));
    }
    let process = process.or_else(|| {
        host.processes.iter().filter_map(node_process).find(|p| {
            p.app_dir()
                .is_some_and(|d| canonical_lenient(&d) == app_dir)
        })
    });
    let launcher = match (flagged, &process) {
        (Some(launcher), _) => launcher,
        (None, Some(p)) => launcher_of(p, &app_dir),
        (None, None) => find_ecosystem(std::slice::from_ref(&app_dir), None, &app_dir)
            .or_else(|| {
                node_units()
                    .into_iter()
                    .find(|(_, dir)| *dir == app_dir)
                    .map(|(unit, _)| Launcher::Systemd { unit })
            })
            .unwrap_or(Launcher::Manual),
    };
    Ok(build(app_dir, process, launcher, host))
}

impl NodeApp {
    /// The agent runs in the app: the package's logger holds its log open in the process, or
    /// a daemon from the WhaTap home names the process as its app.
    pub fn agent_loaded(&self) -> bool {
        let Some(p) = &self.process else {
            return false;
        };
        let pid = p.process.pid;
        if self.daemons.iter().any(|d| d.app == Some(pid)) {
            return true;
        }
        let logs = self.whatap_home.join("logs");
        fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
            fds.flatten().any(|fd| {
                fs::read_link(fd.path()).is_ok_and(|target| {
                    target.starts_with(&logs)
                        && target
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with("whatap"))
                })
            })
        })
    }

    pub fn agent_state(&self) -> AgentState {
        if self.agent_loaded() {
            AgentState::Loaded
        } else if self.whatap_home.join("whatap.conf").is_file()
            || self
                .process
                .as_ref()
                .is_some_and(NodeProcess::requires_agent)
        {
            AgentState::Configured
        } else {
            AgentState::None
        }
    }

    /// Does the launcher start node with the agent (our drop-in, `node_args`, a script line)?
    pub fn launcher_requires_agent(&self) -> bool {
        match &self.launcher {
            Launcher::Systemd { unit } => unit_environment(unit)
                .and_then(|mut env| env.remove("NODE_OPTIONS"))
                .is_some_and(|o| preloads_agent(&split_node_options(&o))),
            Launcher::Pm2 { ecosystem, name } => {
                with_ecosystem_app(ecosystem, name, |text, app| {
                    Some(preloads_agent(&ecosystem::args_of(text, app)))
                }) == Some(true)
            }
            Launcher::Script(path) => crate::plan::target::peek(path).is_ok_and(|bytes| {
                String::from_utf8_lossy(&bytes).lines().any(|line| {
                    wrap::command_word(line).is_some_and(|(_, program, args)| {
                        NODE_NAMES.contains(&basename(program))
                            && preloads_agent(
                                &args.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                            )
                    })
                })
            }),
            Launcher::Manual => false,
        }
    }

    /// The node that runs the app: the running process's, the unit's, else the one on PATH.
    pub fn node_binary(&self) -> Option<PathBuf> {
        if let Some(exe) = self.process.as_ref().and_then(|p| p.exe.clone()) {
            return Some(exe);
        }
        if let Launcher::Systemd { unit } = &self.launcher {
            if let Some(found) = systemd::unit_files(unit)
                .ok()
                .and_then(|f| unit_app(&f.sources))
            {
                return Some(found.node);
            }
        }
        wrap::which("node").or_else(|| wrap::which("nodejs"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &str) -> Vec<String> {
        words.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn node_command_lines() {
        let n = NodeArgs::parse(&argv(
            "--max-old-space-size=512 -r /a/node_modules/whatap server.js --port 80",
        ))
        .unwrap();
        assert_eq!(n.script.as_deref(), Some("server.js"));
        assert!(n.requires_agent());
        let n = NodeArgs::parse(&argv("--require=whatap --inspect dist/main.js")).unwrap();
        assert!(n.requires_agent());
        assert_eq!(n.script.as_deref(), Some("dist/main.js"));
        let n = NodeArgs::parse(&argv("-r dotenv/config app.js")).unwrap();
        assert!(!n.requires_agent());
        assert!(NodeArgs::parse(&argv("-e console.log(1)")).is_none());
        assert!(NodeArgs::parse(&argv("--inspect")).is_none());
        assert_eq!(
            NodeArgs::parse(&argv("-- -weird.js"))
                .unwrap()
                .script
                .as_deref(),
            Some("-weird.js")
        );
        assert!(preloads_agent(&split_node_options(
            "--max-old-space-size=512 --require \"/srv/my app/node_modules/whatap\""
        )));
        assert!(!is_agent_module("whatap-other"));
    }

    #[test]
    fn the_app_directory_skips_node_modules() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("app");
        fs::create_dir_all(app.join("node_modules/next/dist/bin")).unwrap();
        fs::create_dir_all(app.join("src")).unwrap();
        fs::write(app.join("package.json"), "{}").unwrap();
        fs::write(app.join("node_modules/next/package.json"), "{}").unwrap();
        assert_eq!(package_root(&app.join("src")), Some(app.clone()));
        assert_eq!(
            package_root(&app.join("node_modules/next/dist/bin")),
            Some(app.clone())
        );
    }

    #[test]
    fn a_unit_that_runs_node() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("srv");
        fs::create_dir_all(app.join("dist")).unwrap();
        fs::write(app.join("package.json"), "{}").unwrap();
        let unit = format!(
            "[Service]\nWorkingDirectory={}\nExecStart=/usr/bin/env node --enable-source-maps dist/main.js\n",
            app.display()
        );
        let found = unit_app(&[("u".into(), unit.into_bytes())]).expect("runs node");
        assert_eq!(found.app_dir, Some(app));
        assert!(
            unit_app(&[(
                "u".into(),
                b"[Service]\nExecStart=/usr/bin/python3 x.py\n".to_vec()
            )])
            .is_none()
        );
    }
}
