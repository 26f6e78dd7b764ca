//! JBoss: AS 5 and older (`bin/run.conf`), and the modular servers — JBoss AS 7+, EAP 6+,
//! WildFly — (`bin/standalone.conf`, `bin/domain.conf`; `.bat` and `.ps1` twins on Windows
//! trees). On the modular servers deployments see the agent's classes only when `whatap` is in
//! `jboss.modules.system.pkgs`; the JVM uses the LAST `-Djboss.modules.system.pkgs=`, so the
//! block merges into the value already set instead of appending a second one that would drop
//! `org.jboss.byteman` and the rest.

use crate::detect::process::{self, Process};
use crate::detect::{Host, files_in};
use crate::doctor::{Fact, Inspection, Remedy};
use crate::edit::marker::{self, InsertAt, MarkerStyle};
use crate::edit::xml::{self, Element, Insertion};
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::target::canonical;
use crate::plan::{Validation, edits, target};
use crate::runtimes::instance::{Entry, InstallPlan, JAVA_SELECTORS, boxed};
use crate::runtimes::java::agent::{self, AgentSpec, BlockInstall, BlockScan, FoundBlock};
use crate::runtimes::java::{self, Description, JavaServer};
use crate::runtimes::kind::RuntimeKind;
use crate::settings::{InstallSettings, TargetSettings};
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

pub const ENTRY: Entry = Entry {
    kind: RuntimeKind::Jboss,
    detect: |host| boxed(detect(host)),
    resolve: |target, host| Ok(Box::new(resolve(target, host)?)),
    runs_in: Some(|p| from_process(p).is_some()),
    is_home: Some(is_home),
    needs_no_target: false,
    selectors: JAVA_SELECTORS,
};

const PKGS: &str = "jboss.modules.system.pkgs";
const LEGACY_MAIN: &str = "org.jboss.Main";
/// How much of the end of each log doctor reads: recent errors, instantly.
const LOG_TAIL: u64 = 1024 * 1024;

const SEARCH_DIRS: &[&str] = &["/opt", "/usr/local", "/srv", "/usr/share"];
const SEARCH_PREFIXES: &[&str] = &["jboss", "wildfly", "eap"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// JBoss AS 5 and older: `run.sh` sources `run.conf`.
    Legacy,
    /// JBoss AS 7+, EAP 6+, WildFly: jboss-modules.
    Modular,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Standalone,
    Domain,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Standalone => "standalone",
            Mode::Domain => "domain",
        }
    }
}

/// Where `--method` puts the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The mode's conf file (run.conf, standalone.conf, domain.conf): the JVM its script starts.
    Conf(Mode),
    /// `<jvm-options>` of every `<jvm>` in the host controller's host.xml: the managed servers
    /// of a domain (domain.conf reaches only the process and host controllers).
    HostXml,
}

#[derive(Debug, Clone)]
pub struct Jboss {
    pub home: PathBuf,
    pub flavor: Flavor,
    /// A tree with only the Windows scripts (`.bat`, `.ps1`).
    pub windows: bool,
    pub mode: Mode,
    pub process: Option<Process>,
}

fn conf_stem(flavor: Flavor, mode: Mode) -> &'static str {
    match (flavor, mode) {
        (Flavor::Legacy, _) => "run.conf",
        (Flavor::Modular, Mode::Standalone) => "standalone.conf",
        (Flavor::Modular, Mode::Domain) => "domain.conf",
    }
}

impl Jboss {
    fn bin(&self, name: &str) -> PathBuf {
        self.home.join("bin").join(name)
    }

    /// The files the chosen mode's start script reads options from, each with its marker style.
    fn conf_files(&self, mode: Mode) -> Vec<(PathBuf, MarkerStyle)> {
        let stem = conf_stem(self.flavor, mode);
        if !self.windows {
            return vec![(self.bin(stem), MarkerStyle::Shell)];
        }
        let mut files = vec![(self.bin(&format!("{stem}.bat")), MarkerStyle::Bat)];
        let ps1 = self.bin(&format!("{stem}.ps1"));
        if ps1.exists() {
            files.push((ps1, MarkerStyle::Shell));
        }
        files
    }

    /// The start script of a mode: standalone.sh, domain.sh, AS 5's run.sh (`.bat` on Windows).
    fn start_script(&self, mode: Mode) -> (PathBuf, MarkerStyle) {
        let stem = match (self.flavor, mode) {
            (Flavor::Legacy, _) => "run",
            (_, Mode::Standalone) => "standalone",
            (_, Mode::Domain) => "domain",
        };
        if self.windows {
            (self.bin(&format!("{stem}.bat")), MarkerStyle::Bat)
        } else {
            (self.bin(&format!("{stem}.sh")), MarkerStyle::Shell)
        }
    }

    /// What a mode's start reads JVM options from: its script (where the guide puts its
    /// block), then the conf it sources. The PowerShell twin is another start, not this one.
    fn chain(&self, mode: Mode) -> agent::Chain {
        let mut chain = vec![self.start_script(mode)];
        chain.extend(self.conf_files(mode).into_iter().take(1));
        chain
    }

    /// The host controller's host.xml: `--host-config` on its command line, else host.xml.
    fn host_xml(&self) -> PathBuf {
        let args = self
            .process
            .as_ref()
            .map(|p| p.args.as_slice())
            .unwrap_or_default();
        let named = args.iter().enumerate().find_map(|(i, a)| {
            a.strip_prefix("--host-config=")
                .map(str::to_string)
                .or_else(|| (a == "--host-config").then(|| args.get(i + 1).cloned())?)
        });
        self.home
            .join("domain/configuration")
            .join(named.unwrap_or_else(|| "host.xml".to_string()))
    }

    /// Every conf file of every mode (for doctor and the second-agent check).
    fn all_conf_files(&self) -> Vec<(PathBuf, MarkerStyle)> {
        let mut files = self.conf_files(Mode::Standalone);
        if self.flavor == Flavor::Modular {
            files.extend(self.conf_files(Mode::Domain));
        }
        files
    }

    /// The `--method` chosen (default: standalone.conf, or host.xml for a domain) and its
    /// ledger name.
    fn method(&self, value: Option<&str>) -> Result<(Method, &'static str)> {
        match self.flavor {
            Flavor::Legacy => java::method(
                &[("run-conf", Method::Conf(Mode::Standalone))],
                value,
                Method::Conf(Mode::Standalone),
                |other| {
                    Error::usage(
                        msg!("jboss-method-legacy", method = other),
                        msg!("jboss-method-legacy-hint"),
                    )
                },
            ),
            Flavor::Modular => java::method(
                &[
                    ("standalone", Method::Conf(Mode::Standalone)),
                    ("domain", Method::Conf(Mode::Domain)),
                    ("host-xml", Method::HostXml),
                ],
                value,
                match self.mode {
                    Mode::Standalone => Method::Conf(Mode::Standalone),
                    Mode::Domain => Method::HostXml,
                },
                |other| {
                    Error::usage(
                        msg!("jboss-method", method = other),
                        msg!("jboss-method-hint"),
                    )
                },
            ),
        }
    }

    fn owner(&self) -> (u32, u32) {
        let logs = match self.flavor {
            Flavor::Legacy => self.home.join("server/default/log"),
            Flavor::Modular => self.home.join("standalone/log"),
        };
        agent::runtime_owner(self.process.as_ref(), &[logs, self.home.clone()])
    }

    fn version(&self) -> Option<String> {
        // version.txt (EAP: "Red Hat JBoss Enterprise Application Platform - Version 7.4.0.GA")
        // or the product's name in the directory (wildfly-26.1.3.Final, jboss-5.1.0.GA).
        if let Ok(text) = fs::read_to_string(self.home.join("version.txt")) {
            if let Some(v) = text.split("Version").nth(1) {
                return Some(v.trim().to_string());
            }
        }
        let name = self.home.file_name()?.to_str()?;
        let digit = name.find(|c: char| c.is_ascii_digit())?;
        Some(name[digit..].to_string())
    }

    /// jboss-logmanager jars in the tree, for the `-Xbootclasspath/a` fix.
    fn logmanager_jar(&self) -> Option<PathBuf> {
        let mut found = Vec::new();
        find_files(&self.home.join("modules"), 12, &mut |p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with("jboss-logmanager-") && name.ends_with(".jar") {
                found.push(p.to_path_buf());
            }
        });
        found.sort();
        found.pop()
    }

    /// Server logs doctor reads.
    fn server_logs(&self) -> Vec<PathBuf> {
        let mut logs = Vec::new();
        match self.flavor {
            Flavor::Legacy => {
                if let Ok(servers) = fs::read_dir(self.home.join("server")) {
                    for s in servers.flatten() {
                        logs.push(s.path().join("log/server.log"));
                    }
                }
            }
            Flavor::Modular => {
                logs.push(self.home.join("standalone/log/server.log"));
                if let Ok(servers) = fs::read_dir(self.home.join("domain/servers")) {
                    for s in servers.flatten() {
                        logs.push(s.path().join("log/server.log"));
                    }
                }
            }
        }
        logs.sort();
        logs.retain(|l| l.is_file());
        logs
    }
}

fn find_files(dir: &Path, depth: usize, visit: &mut dyn FnMut(&Path)) {
    if depth == 0 {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => find_files(&path, depth - 1, visit),
            Ok(t) if t.is_file() => visit(&path),
            _ => {}
        }
    }
}

fn flavor_of(home: &Path) -> Option<(Flavor, bool)> {
    let has = |name: &str| home.join(name).is_file();
    if has("jboss-modules.jar") {
        let windows = !has("bin/standalone.conf")
            && !has("bin/domain.conf")
            && (has("bin/standalone.conf.bat") || has("bin/domain.conf.bat"));
        return Some((Flavor::Modular, windows));
    }
    if has("bin/run.jar") || has("bin/run.sh") || has("bin/run.bat") {
        let windows = !has("bin/run.conf") && !has("bin/run.sh") && has("bin/run.conf.bat");
        return Some((Flavor::Legacy, windows));
    }
    None
}

fn is_home(dir: &Path) -> bool {
    flavor_of(dir).is_some()
}

fn build(home: &Path, mode: Mode, process: Option<Process>) -> Option<Jboss> {
    let home = canonical(home);
    let (flavor, windows) = flavor_of(&home)?;
    Some(Jboss {
        home,
        flavor,
        windows,
        mode,
        process,
    })
}

/// The home a JBoss command line names: `-Djboss.home.dir`, the jboss-modules.jar it runs, or
/// (AS 5) the bin/run.jar on its class path.
fn home_from_args(args: &[String]) -> Option<PathBuf> {
    if let Some(home) = process::java_property(args, "jboss.home.dir") {
        return Some(PathBuf::from(home));
    }
    for arg in args {
        for entry in arg.split(':') {
            let path = Path::new(entry);
            if entry.ends_with("/jboss-modules.jar") {
                return path.parent().map(Path::to_path_buf);
            }
            if entry.ends_with("/bin/run.jar") {
                return path.parent()?.parent().map(Path::to_path_buf);
            }
        }
    }
    None
}

fn from_process(p: &Process) -> Option<Jboss> {
    let is_jboss = p.args.iter().any(|a| {
        a == LEGACY_MAIN
            || a.starts_with("org.jboss.as.")
            || a.ends_with("/jboss-modules.jar")
            || a.ends_with("/bin/run.jar")
    });
    if !is_jboss {
        return None;
    }
    let domain = p.args.iter().any(|a| {
        a == "org.jboss.as.host-controller"
            || a == "org.jboss.as.process-controller"
            || a == "org.jboss.as.server"
    });
    let mode = if domain {
        Mode::Domain
    } else {
        Mode::Standalone
    };
    build(&home_from_args(&p.args)?, mode, Some(p.clone()))
}

pub fn detect(host: &Host) -> Vec<Jboss> {
    let mut found: Vec<Jboss> = Vec::new();
    for jboss in host.java_processes().filter_map(from_process) {
        if !found.iter().any(|j| j.home == jboss.home) {
            found.push(jboss);
        }
    }
    for home in java::homes_in(SEARCH_DIRS, SEARCH_PREFIXES, is_home) {
        if let Some(candidate) = build(&home, Mode::Standalone, None) {
            if !found.iter().any(|j| j.home == candidate.home) {
                found.push(candidate);
            }
        }
    }
    found
}

const POINTING: java::Pointing = java::Pointing {
    holds: || msg!("holds-jboss"),
    pid_not_it: |pid| {
        Error::usage(
            msg!("jboss-pid-not-it", pid = pid),
            msg!("jboss-pid-not-it-hint"),
        )
    },
    not_home: |home| {
        Error::usage(
            msg!("jboss-not-home", path = home.display()),
            msg!("jboss-not-home-hint"),
        )
    },
    home_required: None,
};

/// `--pid` or `--home`: the running server of that home (its mode), else the home standalone.
pub fn resolve(target: &TargetSettings, host: &Host) -> Result<Jboss> {
    let home = match java::pointed(host, target, from_process, is_home, &POINTING)? {
        Ok(running) => return Ok(running),
        Err(home) => home,
    };
    let real = canonical(home);
    if let Some(running) = java::running(host, from_process, |j| j.home == real) {
        return Ok(running);
    }
    build(home, Mode::Standalone, None).ok_or_else(|| (POINTING.not_home)(home))
}

/// The shell block: the last `-Djboss.modules.system.pkgs=` in JAVA_OPTS (the one the JVM uses)
/// or else JBOSS_MODULES_SYSTEM_PKGS, with whatap added; pure POSIX sh, no subprocess.
fn shell_block(spec: &AgentSpec, latest: bool, modular: bool) -> Result<Vec<String>> {
    let mut lines = agent::agent_block(
        MarkerStyle::Shell,
        "JAVA_OPTS",
        &spec.whatap_home,
        &spec.jar_name,
        latest,
        &spec.options,
    )?;
    if !modular {
        return Ok(lines);
    }
    let agent = lines.pop().expect("the template ends with the assignment");
    // The template's assignment ends `... "`: the merged value goes last, before the quote.
    let open = agent.strip_suffix('"').unwrap_or(&agent);
    lines.extend([
        format!("# whatap joins the last -D{PKGS}= (the one the JVM uses); what is there stays."),
        "case \"${JAVA_OPTS}\" in".to_string(),
        format!("  *-D{PKGS}=*) WHATAP_PKGS=${{JAVA_OPTS##*-D{PKGS}=}}; WHATAP_PKGS=${{WHATAP_PKGS%% *}} ;;"),
        "  *) WHATAP_PKGS=${JBOSS_MODULES_SYSTEM_PKGS} ;;".to_string(),
        "esac".to_string(),
        format!("{open}-D{PKGS}=${{WHATAP_PKGS:+${{WHATAP_PKGS}},}}whatap \""),
    ]);
    Ok(lines)
}

/// The last literal `-Djboss.modules.system.pkgs=` value on an active line of a conf file
/// (None when there is none or it is built from a variable).
fn literal_pkgs(content: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(content);
    let key = format!("-D{PKGS}=");
    let value = text
        .lines()
        .filter(|l| {
            let t = l.trim_start().to_ascii_lowercase();
            !t.starts_with('#') && !t.starts_with("rem") && !t.starts_with("::")
        })
        .filter_map(|l| l.rfind(&key).map(|at| l[at + key.len()..].to_string()))
        .next_back()?;
    let value: String = value
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '\'')
        .collect();
    (!value.is_empty() && !value.contains(['%', '$']) && !pkgs_has_whatap(&value)).then_some(value)
}

/// The `.bat` block: JBOSS_MODULES_SYSTEM_PKGS when the conf sets it, else the literal value
/// the conf passes, with whatap added, last on the line.
fn bat_block(
    spec: &AgentSpec,
    latest: bool,
    modular: bool,
    existing: Option<&str>,
) -> Result<Vec<String>> {
    let options = if modular {
        format!("{} -D{PKGS}=%WHATAP_PKGS%", spec.options)
    } else {
        spec.options.clone()
    };
    let mut lines = agent::agent_block(
        MarkerStyle::Bat,
        "JAVA_OPTS",
        &spec.whatap_home,
        &spec.jar_name,
        latest,
        &options,
    )?;
    if modular {
        let at = lines
            .iter()
            .position(|l| l.starts_with("if x%"))
            .unwrap_or(1);
        lines.splice(
            at..at,
            [
                format!(
                    "set \"WHATAP_PKGS={}whatap\"",
                    existing.map(|e| format!("{e},")).unwrap_or_default()
                ),
                "if defined JBOSS_MODULES_SYSTEM_PKGS set \"WHATAP_PKGS=%JBOSS_MODULES_SYSTEM_PKGS%,whatap\"".to_string(),
            ],
        );
    }
    Ok(lines)
}

/// The `.ps1` block (JAVA_OPTS is an array there).
fn ps1_block(spec: &AgentSpec, modular: bool) -> Vec<String> {
    let mut lines = vec![
        "# Added by `whatap install`; remove with `whatap uninstall`.".to_string(),
        "if (-Not (\"$JAVA_OPTS\" -match 'whatap')) {".to_string(),
        format!("  $JAVA_OPTS += '-javaagent:{}'", spec.jar().display()),
    ];
    for option in spec.options.split_whitespace() {
        lines.push(format!("  $JAVA_OPTS += '{option}'"));
    }
    if modular {
        lines.extend([
            format!("  $WHATAP_PKGS = @($JAVA_OPTS | Where-Object {{ $_ -like '-D{PKGS}=*' }} | Select-Object -Last 1) -replace '^-D{PKGS}=', ''"),
            "  if (-Not \"$WHATAP_PKGS\") { $WHATAP_PKGS = $JBOSS_MODULES_SYSTEM_PKGS }".to_string(),
            format!("  if (\"$WHATAP_PKGS\") {{ $JAVA_OPTS += \"-D{PKGS}=$WHATAP_PKGS,whatap\" }} else {{ $JAVA_OPTS += '-D{PKGS}=whatap' }}"),
        ]);
    }
    lines.push("}".to_string());
    lines
}

/// The last `max` bytes of a log, as lines (a cut first line is dropped).
fn log_tail(path: &Path) -> Vec<String> {
    let Ok(mut file) = fs::File::open(path) else {
        return Vec::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(LOG_TAIL);
    if file.seek(SeekFrom::Start(start)).is_err() {
        return Vec::new();
    }
    let mut bytes = Vec::new();
    if file.read_to_end(&mut bytes).is_err() {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if start > 0 && !lines.is_empty() {
        lines.remove(0);
    }
    lines
}

/// The first line of any of `logs` that contains one of `needles`, as `file:line: text`.
fn log_evidence(logs: &[PathBuf], needles: &[&str]) -> Option<String> {
    logs.iter().find_map(|log| {
        log_tail(log)
            .iter()
            .find(|l| needles.iter().any(|n| l.contains(n)))
            .map(|l| format!("{}: {}", log.display(), l.trim()))
    })
}

/// Does a pkgs value name the agent's packages?
fn pkgs_has_whatap(value: &str) -> bool {
    value.split(',').any(|p| p.trim() == "whatap")
}

impl Jboss {
    /// Agent logs: `logs/` beside the jar each block names.
    fn agent_logs(&self) -> Vec<PathBuf> {
        let mut logs = Vec::new();
        for block in self.scan_blocks().into_iter().flatten() {
            let Some(jar) = agent::jar_in_block(&block.inner) else {
                continue;
            };
            let Some(dir) = Path::new(&jar).parent() else {
                continue;
            };
            logs.extend(files_in(&dir.join("logs"), |n| n.ends_with(".log")));
        }
        logs.sort();
        logs
    }

    /// A `-javaagent` for WhaTap in a conf file without whatap in any pkgs value there: the
    /// hand-written setup the guide warns about.
    fn config_pkgs_fact(&self, label: &str) -> Option<Fact> {
        for (file, style) in self.all_conf_files() {
            let Ok(bytes) = crate::plan::target::peek(&file) else {
                continue;
            };
            if agent::scan_blocks(std::slice::from_ref(&file), style)
                .iter()
                .any(|s| s.is_ok())
            {
                continue; // our block merges whatap in
            }
            let text = String::from_utf8_lossy(&bytes);
            let active = |l: &&str| {
                let t = l.trim_start().to_ascii_lowercase();
                !t.starts_with('#') && !t.starts_with("rem ")
            };
            let agent_line = text
                .lines()
                .enumerate()
                .filter(|(_, l)| active(l))
                .find(|(_, l)| {
                    l.contains("-javaagent:") && l.to_ascii_lowercase().contains("whatap")
                });
            let Some((line, _)) = agent_line else {
                continue;
            };
            let merged = text.lines().filter(active).any(|l| {
                l.split_whitespace()
                    .filter_map(|w| w.trim_matches('"').strip_prefix(&format!("-D{PKGS}=")))
                    .any(pkgs_has_whatap)
            });
            if !merged {
                return Some(
                    Fact::new(
                        "jboss-modules-system-pkgs",
                        label,
                        format!(
                            "{}:{}: {}",
                            file.display(),
                            line + 1,
                            crate::msg!(
                                "evidence-jboss-pkgs-missing",
                                option = format!("-D{PKGS}")
                            )
                        ),
                    )
                    .with("file", file.display().to_string()),
                );
            }
        }
        None
    }

    /// `doctor --fix` for AS 5's MBeanServerBuilder error: `-Djboss.platform.mbeanserver=true`
    /// added to the `-javaagent` line of our own block in run.conf (recorded like an install).
    fn mbeanserver_remedy(&self) -> Option<Remedy> {
        const OPTION: &str = "-Djboss.platform.mbeanserver=true";
        let run_conf = self.bin("run.conf");
        let block = agent::scan_blocks(std::slice::from_ref(&run_conf), MarkerStyle::Shell)
            .into_iter()
            .find_map(|scan| scan.ok())?;
        if block
            .inner
            .iter()
            .any(|l| l.contains("jboss.platform.mbeanserver"))
        {
            return None;
        }
        let mut inner = block.inner.clone();
        let line = inner.iter_mut().find(|l| l.contains("-javaagent:"))?;
        let quote = line.rfind('"')?;
        line.insert_str(quote, &format!("{OPTION} "));
        let roots = crate::plan::target::owned_roots(&[&self.home]);
        let edit =
            crate::plan::edits::block(&run_conf, &roots, MarkerStyle::Shell, &inner, InsertAt::End)
                .ok()?;
        Some(Remedy::Edit(Box::new(edit)))
    }

    fn jboss_facts(&self, label: &str) -> Vec<Fact> {
        let mut facts = Vec::new();
        let server_logs = self.server_logs();
        let agent_logs = self.agent_logs();
        let all_logs: Vec<PathBuf> = agent_logs.iter().chain(&server_logs).cloned().collect();
        if self.flavor == Flavor::Modular {
            let process_fact = self.process.as_ref().and_then(|p| {
                let agent = p.has_whatap_agent();
                let pkgs = p.system_property(PKGS).unwrap_or("");
                (agent && !pkgs_has_whatap(pkgs)).then(|| {
                    Fact::new(
                        "jboss-modules-system-pkgs",
                        label,
                        crate::msg!(
                            "evidence-jboss-pkgs-last",
                            pid = p.pid,
                            option = format!("-D{PKGS}={pkgs}")
                        ),
                    )
                })
            });
            let log_fact = log_evidence(
                &all_logs,
                &["ClassNotFoundException: whatap.agent.trace.TraceMain"],
            )
            .map(|e| Fact::new("jboss-modules-system-pkgs", label, e));
            if let Some(fact) = process_fact
                .or_else(|| self.config_pkgs_fact(label))
                .or(log_fact)
            {
                facts.push(fact);
            }
            if let Some(evidence) = log_evidence(
                &all_logs,
                &[
                    "LogManager was not properly installed",
                    "Could not load Logmanager",
                    "ClassNotFoundException: org.jboss.logmanager.LogManager",
                ],
            ) {
                let jar = self
                    .logmanager_jar()
                    .map(|j| j.display().to_string())
                    .unwrap_or_else(|| {
                        format!("{}/modules/.../jboss-logmanager-*.jar", self.home.display())
                    });
                facts.push(Fact::new("jboss-logmanager", label, evidence).with("jar", jar));
            }
        } else if let Some(evidence) = log_evidence(&all_logs, &["MBeanServerBuilder"]) {
            let mut fact = Fact::new("jboss-mbeanserver", label, evidence)
                .with("file", self.bin("run.conf").display().to_string());
            fact.remedy = self.mbeanserver_remedy();
            facts.push(fact);
        }
        facts
    }
}

/// The `-javaagent` and `-D` options as `<option value="..."/>` tags in every host-level
/// `<jvm>` of host.xml (`<jvms>`), and `whatap` joined to an existing
/// `-Djboss.modules.system.pkgs` option (else one more option). A `<jvm>` already holding
/// exactly ours is left alone; another WhaTap agent there is a refusal.
pub fn host_xml_insertions(content: &[u8], options: &str) -> Result<Vec<Insertion>> {
    let all = xml::elements(content).map_err(|e| {
        Error::refused(
            msg!("xml-not-well-formed", file = "host.xml", error = e),
            msg!("xml-not-well-formed-hint", runtime = "JBoss"),
        )
    })?;
    let jvms: Vec<&Element> = all
        .iter()
        .filter(|e| e.name == "jvm" && e.ancestors.last().is_some_and(|a| a == "jvms"))
        .collect();
    if jvms.is_empty() {
        return Err(Error::refused(
            msg!("jboss-host-xml-no-jvm"),
            msg!("jboss-host-xml-no-jvm-hint"),
        ));
    }
    let value_of = |e: &Element| {
        xml::attribute_value(content, e, "value").map(|span| {
            (
                String::from_utf8_lossy(&content[span.clone()]).into_owned(),
                span,
            )
        })
    };
    let mut insertions = Vec::new();
    for jvm in jvms {
        let jvm_options = xml::children(&all, jvm, "jvm-options").into_iter().next();
        let existing: Vec<(&Element, String, std::ops::Range<usize>)> = jvm_options
            .map(|o| xml::children(&all, o, "option"))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| value_of(e).map(|(v, span)| (e, v, span)))
            .collect();
        let values: Vec<&str> = existing.iter().map(|(_, v, _)| v.as_str()).collect();
        if let Some(agent) = values.iter().find(|v| {
            v.strip_prefix("-javaagent:")
                .is_some_and(process::is_whatap_agent)
        }) {
            if options.split_whitespace().all(|o| values.contains(&o)) {
                continue;
            }
            return Err(Error::refused(
                msg!("jboss-host-xml-agent-present", current = agent),
                msg!("agent-present-hint"),
            ));
        }
        let mut new: Vec<String> = options.split_whitespace().map(str::to_string).collect();
        match existing
            .iter()
            .rfind(|(_, v, _)| v.starts_with(&format!("-D{PKGS}=")))
        {
            Some((_, value, span)) if !pkgs_has_whatap(&value[PKGS.len() + 3..]) => insertions
                .push(Insertion {
                    at: span.end,
                    text: ",whatap".to_string(),
                    replace: 0,
                }),
            Some(_) => {}
            None => new.push(format!("-D{PKGS}=whatap")),
        }
        let tags: Vec<String> = new
            .iter()
            .map(|o| format!("<option value=\"{}\"/>", xml::escape(o)))
            .collect();
        insertions.push(match (jvm_options, existing.last()) {
            (Some(_), Some((last, _, _))) => xml::siblings_after(content, last, &tags),
            (Some(parent), None) => xml::first_children(content, parent, &tags),
            (None, _) => {
                // A <jvm-options> of its own, one level under the <jvm> (expanded if `<jvm/>`).
                let (indent, step) = xml::indentation(content, jvm);
                let eol = xml::newline(content);
                let inner: String = tags
                    .iter()
                    .map(|t| format!("{eol}{indent}{step}{step}{t}"))
                    .collect();
                let block = format!("<jvm-options>{inner}{eol}{indent}{step}</jvm-options>");
                xml::first_children(content, jvm, &[block])
            }
        });
    }
    Ok(insertions)
}

impl Jboss {
    /// The WhaTap `-javaagent` options host.xml gives the managed servers, as found blocks.
    fn host_xml_agents(&self) -> Vec<BlockScan> {
        if self.flavor != Flavor::Modular {
            return Vec::new();
        }
        let file = self.host_xml();
        let Ok(content) = crate::plan::target::peek(&file) else {
            return Vec::new();
        };
        let Ok(all) = xml::elements(&content) else {
            return Vec::new();
        };
        all.iter()
            .filter(|e| e.name == "option")
            .filter_map(|e| {
                let span = xml::attribute_value(&content, e, "value")?;
                let value = String::from_utf8_lossy(&content[span]).into_owned();
                value
                    .strip_prefix("-javaagent:")
                    .is_some_and(process::is_whatap_agent)
                    .then(|| {
                        Ok(FoundBlock {
                            file: file.clone(),
                            line: content[..e.start].iter().filter(|&&b| b == b'\n').count() + 1,
                            inner: vec![value],
                        })
                    })
            })
            .collect()
    }

    /// `--method host-xml`: the managed servers of a domain get the agent from host.xml.
    fn plan_host_xml(
        &self,
        settings: &InstallSettings,
        dist: Option<&Path>,
        method: &str,
    ) -> Result<InstallPlan> {
        let file = self.host_xml();
        let (_, options, roots, mut plan) =
            agent::fixed_agent_plan(settings, dist, &self.home, self.owner())?;
        plan.edits.push(edits::splice(
            &file,
            &roots,
            &settings.recorded,
            |content| host_xml_insertions(content, &options),
            Validation::Xml,
        )?);
        Ok(InstallPlan {
            plan,
            method: method.to_string(),
            next_steps: vec![msg!(
                "jboss-host-xml-restart",
                script = self.start_script(Mode::Domain).0.display()
            )],
            warnings: Vec::new(),
        })
    }
}

impl JavaServer for Jboss {
    const KIND: RuntimeKind = RuntimeKind::Jboss;

    fn target(&self) -> PathBuf {
        self.home.clone()
    }

    fn process(&self) -> Option<&Process> {
        self.process.as_ref()
    }

    fn describe(&self) -> Description {
        let flavor = match self.flavor {
            Flavor::Legacy => "as5",
            Flavor::Modular => "modular",
        };
        let layout = if self.windows { "windows" } else { "unix" };
        Description {
            version: self.version(),
            details: [
                ("flavor".to_string(), flavor.to_string()),
                ("mode".to_string(), self.mode.name().to_string()),
                ("layout".to_string(), layout.to_string()),
            ]
            .into(),
            ..Description::home(&self.home)
        }
    }

    fn startup_chain(&self) -> agent::Chain {
        self.chain(self.mode)
    }

    /// Every start script and conf of every mode, and the agent options in host.xml.
    fn scan_blocks(&self) -> Vec<BlockScan> {
        let mut files = vec![self.start_script(Mode::Standalone)];
        if self.flavor == Flavor::Modular {
            files.push(self.start_script(Mode::Domain));
        }
        files.extend(self.all_conf_files());
        let mut found = agent::scan_chain(&files);
        found.extend(self.host_xml_agents());
        found
    }

    fn restart_hint(&self) -> String {
        let how = self.start_script(self.mode).0.display().to_string();
        match &self.process {
            Some(p) => msg!("runtime-restart", runtime = "JBoss", pid = p.pid, how = how),
            None => msg!("runtime-start", runtime = "JBoss", how = how),
        }
    }

    fn plan_install(&self, settings: &InstallSettings, dist: Option<&Path>) -> Result<InstallPlan> {
        let (method, method_name) = self.method(settings.method.as_deref())?;
        let mode = match method {
            Method::Conf(mode) => mode,
            Method::HostXml => return self.plan_host_xml(settings, dist, method_name),
        };
        let files = self.conf_files(mode);
        let (script, style) = files[0].clone();
        let modular = self.flavor == Flavor::Modular;
        let spec = AgentSpec::resolve(settings, dist, &self.home.join("whatap"), style)?;
        let chain = self.chain(mode);
        let install = BlockInstall {
            script,
            chain: &chain,
            style,
            // run.conf and standalone.conf set JAVA_OPTS only when it is empty: ours goes after.
            at: InsertAt::End,
            dirs: &[&self.home],
            owner: self.owner(),
            shell: style == MarkerStyle::Shell,
        };
        let mut plan =
            agent::plan_block_install(&install, &spec, settings, dist, |spec| match style {
                MarkerStyle::Shell => shell_block(spec, settings.latest_jar, modular),
                // A JBoss tree is shell or Windows; never ini.
                MarkerStyle::Bat | MarkerStyle::Ini => {
                    // Read without our own block, so a reinstall sees what the operator's lines pass.
                    let existing = crate::plan::target::peek(&files[0].0).ok().and_then(|c| {
                        let without = match marker::find_block(&c, MarkerStyle::Bat) {
                            Ok(Some(span)) => marker::remove_block(&c, span),
                            _ => c,
                        };
                        literal_pkgs(&without)
                    });
                    bat_block(spec, settings.latest_jar, modular, existing.as_deref())
                }
            })?;
        // The PowerShell twin of a Windows tree.
        for (ps1, _) in files.iter().skip(1) {
            if settings.latest_jar {
                return Err(Error::usage(
                    msg!("jboss-latest-jar-ps1"),
                    msg!("jboss-latest-jar-ps1-hint"),
                ));
            }
            let stray = agent::stray_agent_lines(&[(ps1.clone(), MarkerStyle::Shell)], ps1)?;
            if !stray.is_empty() {
                return Err(Error::refused(
                    msg!("agent-set-in", places = stray.join("; ")),
                    msg!("agent-set-in-hint"),
                ));
            }
            let roots = target::owned_roots(&[&self.home, &spec.whatap_home]);
            let mut edit = edits::block(
                ps1,
                &roots,
                MarkerStyle::Shell,
                &ps1_block(&spec, modular),
                InsertAt::End,
            )?;
            edit.validation = Validation::None;
            plan.edits.push(edit);
        }
        let mut warnings = Vec::new();
        // Said only where a Windows tree is edited from Linux (a mount, an image being built).
        if self.windows && cfg!(unix) {
            warnings.push(msg!("jboss-windows-tree"));
        }
        if mode == Mode::Domain && modular {
            warnings.push(msg!("jboss-domain-mode"));
        }
        Ok(InstallPlan {
            plan,
            method: method_name.to_string(),
            next_steps: vec![self.restart_hint()],
            warnings,
        })
    }

    fn log_files(&self) -> Vec<PathBuf> {
        self.server_logs()
    }

    /// AS 5's MBeanServerBuilder fix, also when the error came from a `--log`.
    fn remedy_for(&self, id: &str) -> Option<Remedy> {
        (id == "jboss-mbeanserver" && self.flavor == Flavor::Legacy)
            .then(|| self.mbeanserver_remedy())
            .flatten()
    }

    fn inspect_more(&self, label: &str, out: &mut Inspection) {
        out.facts.extend(self.jboss_facts(label));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn home_from_wildfly_and_as5_command_lines() {
        let wildfly = args(&[
            "/usr/bin/java",
            "-D[Standalone]",
            "-Djboss.modules.system.pkgs=org.jboss.byteman",
            "-jar",
            "/opt/wildfly-26.1.3.Final/jboss-modules.jar",
            "-mp",
            "/opt/wildfly-26.1.3.Final/modules",
            "org.jboss.as.standalone",
        ]);
        assert_eq!(
            home_from_args(&wildfly),
            Some(PathBuf::from("/opt/wildfly-26.1.3.Final"))
        );
        let guide = args(&[
            "/jdk1.7.0_79/bin/java",
            "-jar",
            "/jboss-as-7.1.1.Final/jboss-modules.jar",
            "org.jboss.as.standalone",
            "-Djboss.home.dir=/jboss-as-7.1.1.Final",
        ]);
        assert_eq!(
            home_from_args(&guide),
            Some(PathBuf::from("/jboss-as-7.1.1.Final"))
        );
        let as5 = args(&[
            "java",
            "-Dprogram.name=run.sh",
            "-classpath",
            "/opt/jboss-5.1.0.GA/bin/run.jar:/usr/lib/jvm/java/lib/tools.jar",
            "org.jboss.Main",
            "-c",
            "default",
        ]);
        assert_eq!(
            home_from_args(&as5),
            Some(PathBuf::from("/opt/jboss-5.1.0.GA"))
        );
    }

    #[test]
    fn literal_pkgs_from_a_bat_conf() {
        let bat = b"rem set \"JAVA_OPTS=-Djboss.modules.system.pkgs=old\"\r\nset \"JAVA_OPTS=%JAVA_OPTS% -Djboss.modules.system.pkgs=org.jboss.byteman\"\r\n";
        assert_eq!(literal_pkgs(bat).as_deref(), Some("org.jboss.byteman"));
        assert_eq!(
            literal_pkgs(
                b"set \"JAVA_OPTS=-Djboss.modules.system.pkgs=%JBOSS_MODULES_SYSTEM_PKGS%\"\r\n"
            ),
            None
        );
        assert_eq!(literal_pkgs(b"@echo off\r\n"), None);
    }

    fn fixture(name: &str) -> String {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/jboss")
            .join(name)
            .display()
            .to_string()
    }

    fn process(list: &[String]) -> Process {
        Process {
            pid: 11,
            uid: 0,
            gid: 0,
            args: list.to_vec(),
        }
    }

    #[test]
    fn detects_each_flavor_and_mode_from_a_command_line() {
        let wildfly = fixture("wildfly-26.1.3.Final");
        let standalone = from_process(&process(&[
            "java".into(),
            "-D[Standalone]".into(),
            "-jar".into(),
            format!("{wildfly}/jboss-modules.jar"),
            "org.jboss.as.standalone".into(),
        ]))
        .unwrap();
        assert_eq!(
            (standalone.flavor, standalone.mode),
            (Flavor::Modular, Mode::Standalone)
        );
        let server = from_process(&process(&[
            "java".into(),
            "-D[Server:server-one]".into(),
            format!("-Djboss.home.dir={wildfly}"),
            "-jar".into(),
            format!("{wildfly}/jboss-modules.jar"),
            "org.jboss.as.server".into(),
        ]))
        .unwrap();
        assert_eq!(server.mode, Mode::Domain);
        let as5 = from_process(&process(&[
            "java".into(),
            "-classpath".into(),
            format!("{}/bin/run.jar", fixture("jboss-5.1.0.GA")),
            "org.jboss.Main".into(),
        ]))
        .unwrap();
        assert_eq!(as5.flavor, Flavor::Legacy);
        assert!(!as5.windows);
        let windows = build(
            Path::new(&fixture("wildfly-windows")),
            Mode::Standalone,
            None,
        )
        .unwrap();
        assert!(windows.windows);
        assert!(
            from_process(&process(&[
                "java".into(),
                "-jar".into(),
                "/srv/app.jar".into()
            ]))
            .is_none()
        );
    }

    #[test]
    fn pkgs_membership_is_exact() {
        assert!(pkgs_has_whatap("org.jboss.byteman,whatap"));
        assert!(!pkgs_has_whatap("org.jboss.byteman,whatapx"));
        assert!(!pkgs_has_whatap(""));
    }

    #[test]
    fn shell_block_merges_into_the_last_pkgs() {
        let spec = AgentSpec {
            whatap_home: PathBuf::from("/w"),
            source: PathBuf::from("/x.jar"),
            jar_name: "whatap.agent.tracer-2.2.jar".into(),
            options: " -Dwhatap.port=8080".into(),
        };
        let lines = shell_block(&spec, false, true).unwrap();
        assert_eq!(
            lines.last().unwrap(),
            "JAVA_OPTS=\"${JAVA_OPTS} -javaagent:/w/whatap.agent.tracer-2.2.jar -Dwhatap.port=8080 -Djboss.modules.system.pkgs=${WHATAP_PKGS:+${WHATAP_PKGS},}whatap \""
        );
        let legacy = shell_block(&spec, false, false).unwrap();
        assert!(!legacy.join("\n").contains(PKGS));
    }
}
