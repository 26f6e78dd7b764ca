//! Eclipse Jetty 9 to 12: Debian's `jetty9` package (`/usr/share/jetty9`, options in
//! `/etc/default/jetty9`, which both systemd and jetty.sh read), tarball layouts started by
//! `bin/jetty.sh`, and bases started with `java -jar start.jar` (`start.ini` / `start.d/*.ini`
//! with `--exec`). The guide asks for `-Dwhatap.port` beside `-javaagent`.

use crate::detect::process::Process;
use crate::detect::{Host, files_in};
use crate::edit::eol::{line_body, split_lines};
use crate::edit::marker::{InsertAt, MarkerStyle};
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::target::canonical;
use crate::runtimes::instance::{Entry, InstallPlan, JAVA_SELECTORS, boxed};
use crate::runtimes::java::agent::{self, AgentSpec, BlockInstall};
use crate::runtimes::java::{self, Description, JavaServer};
use crate::runtimes::kind::RuntimeKind;
use crate::settings::{InstallSettings, TargetSettings};
use std::fs;
use std::path::{Path, PathBuf};

pub const ENTRY: Entry = Entry {
    kind: RuntimeKind::Jetty,
    detect: |host| boxed(detect(host)),
    resolve: |target, host| Ok(Box::new(resolve(target, host)?)),
    runs_in: Some(|p| from_process(p).is_some()),
    is_home: Some(is_home),
    needs_no_target: false,
    selectors: JAVA_SELECTORS,
};

const START_MAIN: &str = "org.eclipse.jetty.start.Main";

/// Where installs look for Jetty homes when nothing is running and no flag is given.
const SEARCH_DIRS: &[&str] = &["/usr/share", "/opt", "/usr/local", "/srv"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Debian: `/etc/default/jettyN`, read by jetty.sh (and by systemd as an EnvironmentFile).
    Default,
    /// `$JETTY_HOME/bin/jetty.sh`: the guide's place for tarball installs.
    JettySh,
    /// `$JETTY_BASE/start.ini` (or a new `start.d/whatap.ini`) with `--exec`: for
    /// `java -jar start.jar` without a script.
    StartIni,
}

const METHODS: &[(&str, Method)] = &[
    ("default", Method::Default),
    ("jetty-sh", Method::JettySh),
    ("start-ini", Method::StartIni),
];

#[derive(Debug, Clone)]
pub struct Jetty {
    pub home: PathBuf,
    pub base: PathBuf,
    pub process: Option<Process>,
}

impl Jetty {
    /// Debian's `/etc/default/jettyN` for `/usr/share/jettyN`.
    pub fn debian_default(&self) -> Option<PathBuf> {
        let name = self.home.file_name()?.to_str()?;
        let n = name.strip_prefix("jetty")?;
        (self.home.parent()? == Path::new("/usr/share") && n.parse::<u32>().is_ok())
            .then(|| PathBuf::from(format!("/etc/default/jetty{n}")))
    }

    fn jetty_sh(&self) -> PathBuf {
        self.home.join("bin/jetty.sh")
    }

    /// The ini the `start-ini` method writes: start.ini when the base uses one, else our own
    /// file in start.d (removed whole on uninstall).
    fn start_ini(&self) -> PathBuf {
        let ini = self.base.join("start.ini");
        if ini.exists() {
            ini
        } else {
            self.base.join("start.d/whatap.ini")
        }
    }

    /// Every file Jetty reads JVM options from, in the order it reads them.
    pub fn startup_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = self.debian_default().into_iter().collect();
        files.push(self.jetty_sh());
        files.push(self.base.join("start.ini"));
        files.extend(files_in(&self.base.join("start.d"), |n| {
            n.ends_with(".ini")
        }));
        files
    }

    fn default_method(&self) -> Method {
        if self.debian_default().is_some() {
            Method::Default
        } else if self.jetty_sh().is_file() {
            Method::JettySh
        } else {
            Method::StartIni
        }
    }

    fn method(&self, value: Option<&str>) -> Result<(Method, &'static str)> {
        let unknown = |other: &str| {
            Error::usage(
                msg!("jetty-method", method = other),
                msg!("jetty-method-hint"),
            )
        };
        let found = java::method(METHODS, value, self.default_method(), unknown)?;
        match found.0 {
            Method::Default if self.debian_default().is_none() => {
                Err(unknown(value.unwrap_or_default()))
            }
            Method::JettySh if !self.jetty_sh().is_file() => Err(Error::usage(
                msg!("jetty-sh-missing", path = self.jetty_sh().display()),
                msg!("jetty-sh-missing-hint"),
            )),
            _ => Ok(found),
        }
    }

    fn version(&self) -> Option<String> {
        // Tarballs: VERSION.txt starts `jetty-9.4.57.v20241219 - ...`.
        if let Ok(text) = fs::read_to_string(self.home.join("VERSION.txt")) {
            if let Some(v) = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("jetty-"))
                .and_then(|l| l.split_whitespace().next())
            {
                return Some(v.to_string());
            }
        }
        let name = self.home.file_name()?.to_str()?;
        name.strip_prefix("jetty")
            .filter(|n| n.parse::<u32>().is_ok())
            .map(str::to_string)
    }

    fn owner(&self) -> (u32, u32) {
        let mut candidates = vec![self.base.join("logs"), self.base.clone()];
        if let Some(n) = self.debian_default().and_then(|_| self.home.file_name()) {
            candidates.insert(0, Path::new("/var/lib").join(n));
        }
        agent::runtime_owner(self.process.as_ref(), &candidates)
    }

    /// Debian's unit may only write below /var/lib/jettyN (ProtectSystem=strict).
    fn default_whatap_home(&self) -> PathBuf {
        match (self.debian_default(), self.home.file_name()) {
            (Some(_), Some(n)) => Path::new("/var/lib").join(n).join("whatap"),
            _ => self.base.join("whatap"),
        }
    }
}

fn is_jetty_home(dir: &Path) -> bool {
    dir.join("start.jar").exists()
}

fn build(home: &Path, base: &Path, process: Option<Process>) -> Jetty {
    Jetty {
        home: canonical(home),
        base: canonical(base),
        process,
    }
}

/// A Jetty JVM (start.jar, or the JVM it forked with `--exec`) from its command line.
pub fn from_process(p: &Process) -> Option<Jetty> {
    let home = PathBuf::from(p.system_property("jetty.home")?);
    let is_jetty = p.args.iter().any(|a| {
        a == START_MAIN || a.ends_with("/start.jar") || a.starts_with("org.eclipse.jetty.")
    });
    if !is_jetty {
        return None;
    }
    let base = p
        .system_property("jetty.base")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.clone());
    Some(build(&home, &base, Some(p.clone())))
}

pub fn detect(host: &Host) -> Vec<Jetty> {
    let mut found: Vec<Jetty> = Vec::new();
    for jetty in host.java_processes().filter_map(from_process) {
        if !found.iter().any(|j| j.base == jetty.base) {
            found.push(jetty);
        }
    }
    for home in java::homes_in(SEARCH_DIRS, &["jetty"], is_jetty_home) {
        let candidate = build(&home, &home, None);
        if !found.iter().any(|j| j.base == candidate.base) {
            found.push(candidate);
        }
    }
    found
}

fn is_home(dir: &Path) -> bool {
    is_jetty_home(dir)
}

const POINTING: java::Pointing = java::Pointing {
    holds: || msg!("holds-jetty-home"),
    pid_not_it: |pid| {
        Error::usage(
            msg!("jetty-pid-not-it", pid = pid),
            msg!("jetty-pid-not-it-hint"),
        )
    },
    not_home: |home| {
        Error::usage(
            msg!("jetty-not-home", path = home.display()),
            msg!("jetty-not-home-hint"),
        )
    },
    home_required: None,
};

pub fn resolve(target: &TargetSettings, host: &Host) -> Result<Jetty> {
    let home = match java::pointed(host, target, from_process, is_home, &POINTING)? {
        Ok(running) => return Ok(running),
        Err(home) => home,
    };
    let base = match &target.base {
        Some(base) => {
            java::check_dir("--base", base, &msg!("holds-jetty-base"))?;
            base.as_path()
        }
        None => home,
    };
    let base_real = canonical(base);
    let process =
        java::running(host, from_process, |j| j.base == base_real).and_then(|j| j.process);
    Ok(build(home, base, process))
}

/// jetty.sh appends its own options to JAVA_OPTIONS here; ours must be in before that line
/// (config files it sources earlier may reset JAVA_OPTIONS).
fn jetty_sh_insert_at(content: &[u8]) -> InsertAt {
    split_lines(content)
        .iter()
        .position(|l| {
            String::from_utf8_lossy(line_body(l))
                .trim_start()
                .starts_with("JAVA_OPTIONS=(")
        })
        .map_or(InsertAt::AfterHeader, InsertAt::BeforeLine)
}

/// The block for `/etc/default/jettyN`. systemd reads the file too (EnvironmentFile), without
/// shell expansion: a plain `JAVA_OPTIONS="${JAVA_OPTIONS} ..."` would reach jetty.sh with a
/// literal `${JAVA_OPTIONS}` and the agent twice. systemd ignores the guarded `case` line (not
/// an assignment); jetty.sh's bash runs it once.
fn default_file_block(spec: &AgentSpec, latest: bool) -> Result<Vec<String>> {
    let mut lines = agent::agent_block(
        MarkerStyle::Shell,
        "JAVA_OPTIONS",
        &spec.whatap_home,
        &spec.jar_name,
        latest,
        &spec.options,
    )?;
    if let Some(last) = lines.last_mut() {
        *last = format!("case \"${{JAVA_OPTIONS}}\" in *whatap.agent*) ;; *) {last} ;; esac");
    }
    Ok(lines)
}

/// start.ini lines: `--exec` makes start.jar fork a JVM with the JVM options that follow.
fn ini_block(spec: &AgentSpec) -> Vec<String> {
    let mut lines = vec![
        "# Added by `whatap install`; remove with `whatap uninstall`.".to_string(),
        "--exec".to_string(),
        format!("-javaagent:{}", spec.jar().display()),
    ];
    lines.extend(spec.options.split_whitespace().map(str::to_string));
    lines
}

impl JavaServer for Jetty {
    const KIND: RuntimeKind = RuntimeKind::Jetty;

    fn target(&self) -> PathBuf {
        self.base.clone()
    }

    fn process(&self) -> Option<&Process> {
        self.process.as_ref()
    }

    fn describe(&self) -> Description {
        let layout = if self.debian_default().is_some() {
            "debian"
        } else {
            "tarball"
        };
        Description {
            base: Some(self.base.clone()),
            version: self.version(),
            details: [("layout".to_string(), layout.to_string())].into(),
            ..Description::home(&self.home)
        }
    }

    fn startup_chain(&self) -> agent::Chain {
        self.startup_files()
            .into_iter()
            .map(|f| (f, MarkerStyle::Shell))
            .collect()
    }

    /// `$JETTY_BASE/logs` (`yyyy_mm_dd.jetty.log`, `jetty.out`), Debian's `/var/log/jettyN`.
    fn log_files(&self) -> Vec<PathBuf> {
        let mut dirs = vec![self.base.join("logs")];
        if let (Some(_), Some(n)) = (self.debian_default(), self.home.file_name()) {
            dirs.push(Path::new("/var/log").join(n));
        }
        java::logs_in(&dirs, |n| n.ends_with(".log") || n.ends_with(".out"))
    }

    fn restart_hint(&self) -> String {
        let how = match (self.debian_default(), self.home.file_name()) {
            (Some(_), Some(n)) => format!("systemctl restart {}", n.to_string_lossy()),
            _ if self.jetty_sh().is_file() => format!(
                "JETTY_HOME={} JETTY_BASE={} {} restart",
                self.home.display(),
                self.base.display(),
                self.jetty_sh().display()
            ),
            _ => format!(
                "cd {} && java -jar {}/start.jar",
                self.base.display(),
                self.home.display()
            ),
        };
        match &self.process {
            Some(p) => msg!("runtime-restart", runtime = "Jetty", pid = p.pid, how = how),
            None => msg!("runtime-start", runtime = "Jetty", how = how),
        }
    }

    fn plan_install(&self, settings: &InstallSettings, dist: Option<&Path>) -> Result<InstallPlan> {
        let (method, method_name) = self.method(settings.method.as_deref())?;
        if method == Method::StartIni && settings.latest_jar {
            return Err(Error::usage(
                msg!("jetty-latest-jar-start-ini"),
                msg!("jetty-latest-jar-start-ini-hint"),
            ));
        }
        // start.ini is no shell: a line is one argument as written, so a Windows path's
        // backslashes are safe there (checked as for a .bat file).
        let checked_as = if method == Method::StartIni {
            MarkerStyle::Bat
        } else {
            MarkerStyle::Shell
        };
        let spec = AgentSpec::resolve(settings, dist, &self.default_whatap_home(), checked_as)?;
        let (script, at) = match method {
            Method::Default => (
                self.debian_default().expect("method checked"),
                InsertAt::End,
            ),
            Method::JettySh => {
                let script = self.jetty_sh();
                let content =
                    crate::plan::target::peek(&script).map_err(|e| Error::io(&script, e))?;
                (script, jetty_sh_insert_at(&content))
            }
            Method::StartIni => (self.start_ini(), InsertAt::End),
        };
        let chain = self.startup_chain();
        let default_dir = self
            .debian_default()
            .and_then(|d| d.parent().map(Path::to_path_buf));
        let mut dirs: Vec<&Path> = vec![&self.home, &self.base];
        dirs.extend(default_dir.as_deref());
        let install = BlockInstall {
            script,
            chain: &chain,
            style: MarkerStyle::Shell,
            at,
            dirs: &dirs,
            owner: self.owner(),
            shell: method != Method::StartIni,
        };
        let plan =
            agent::plan_block_install(&install, &spec, settings, dist, |spec| match method {
                Method::Default => default_file_block(spec, settings.latest_jar),
                Method::JettySh => agent::agent_block(
                    MarkerStyle::Shell,
                    "JAVA_OPTIONS",
                    &spec.whatap_home,
                    &spec.jar_name,
                    settings.latest_jar,
                    &spec.options,
                ),
                Method::StartIni => Ok(ini_block(spec)),
            })?;
        let mut warnings = Vec::new();
        if settings.port.is_none() {
            warnings.push(msg!("jetty-no-port"));
        }
        Ok(InstallPlan {
            plan,
            method: method_name.to_string(),
            next_steps: vec![self.restart_hint()],
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(args: &[&str]) -> Process {
        Process {
            pid: 42,
            uid: 0,
            gid: 0,
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    #[test]
    fn detects_debian_jetty9_command_line() {
        let p = process(&[
            "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
            "-Djava.awt.headless=true",
            "-Djetty.home=/nonexistent/jetty9",
            "-Djetty.base=/nonexistent/base",
            "-Djava.io.tmpdir=/tmp",
            "-jar",
            "/nonexistent/jetty9/start.jar",
            "jetty.state=/var/lib/jetty9/jetty.state",
            "jetty-started.xml",
        ]);
        let jetty = from_process(&p).expect("a Jetty");
        assert_eq!(jetty.home, Path::new("/nonexistent/jetty9"));
        assert_eq!(jetty.base, Path::new("/nonexistent/base"));
        assert_eq!(jetty.process.map(|p| p.pid), Some(42));
    }

    #[test]
    fn detects_the_jvm_forked_by_exec() {
        let p = process(&[
            "java",
            "-javaagent:/w/whatap.agent.tracer-2.2.jar",
            "-Djetty.home=/opt/jetty",
            "-Djetty.base=/srv/base",
            "-cp",
            "/opt/jetty/lib/jetty-server.jar",
            "org.eclipse.jetty.xml.XmlConfiguration",
        ]);
        assert_eq!(from_process(&p).unwrap().base, Path::new("/srv/base"));
        let tomcat = process(&[
            "java",
            "-Dcatalina.home=/t",
            "org.apache.catalina.startup.Bootstrap",
        ]);
        assert!(from_process(&tomcat).is_none());
        let other = process(&["java", "-Djetty.home=/x", "-jar", "app.jar"]);
        assert!(from_process(&other).is_none());
    }

    #[test]
    fn jetty_sh_block_goes_before_its_options_line() {
        let script = b"#!/usr/bin/env bash\n# doc\nNAME=jetty\nJAVA_OPTIONS=(${JAVA_OPTIONS[*]} \"-Djetty.home=$JETTY_HOME\")\n";
        assert_eq!(jetty_sh_insert_at(script), InsertAt::BeforeLine(3));
        assert_eq!(
            jetty_sh_insert_at(b"#!/bin/sh\nrun\n"),
            InsertAt::AfterHeader
        );
    }

    #[test]
    fn debian_default_block_is_guarded() {
        let spec = AgentSpec {
            whatap_home: PathBuf::from("/var/lib/jetty9/whatap"),
            source: PathBuf::from("/x.jar"),
            jar_name: "whatap.agent.tracer-2.2.jar".into(),
            options: " -Dwhatap.port=8080".into(),
        };
        let lines = default_file_block(&spec, false).unwrap();
        assert_eq!(
            lines.last().unwrap(),
            "case \"${JAVA_OPTIONS}\" in *whatap.agent*) ;; *) JAVA_OPTIONS=\"${JAVA_OPTIONS} -javaagent:/var/lib/jetty9/whatap/whatap.agent.tracer-2.2.jar -Dwhatap.port=8080 \" ;; esac"
        );
        assert_eq!(
            ini_block(&spec)[1..],
            [
                "--exec",
                "-javaagent:/var/lib/jetty9/whatap/whatap.agent.tracer-2.2.jar",
                "-Dwhatap.port=8080"
            ]
        );
    }
}
