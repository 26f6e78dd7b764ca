//! Apache Tomcat 7 to 11: tarball layouts (CATALINA_HOME = CATALINA_BASE or a separate base),
//! Debian's split layout (`/usr/share/tomcatN` + `/var/lib/tomcatN`), Windows trees (.bat).

use super::java::{self, FoundBlock};
use super::{AgentState, Detection, InstallPlan, Runtime};
use crate::detect::Host;
use crate::detect::process::{self, Process};
use crate::doctor::{self, Inspection};
use crate::edit::marker::{self, InsertAt, MarkerStyle};
use crate::error::{Error, Result};
use crate::plan::{DirCreate, Plan, edits, target};
use crate::settings::{InstallSettings, TargetSettings};
use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

pub const NAME: &str = "tomcat";
const BOOTSTRAP_CLASS: &str = "org.apache.catalina.startup.Bootstrap";

/// Where installs look for Tomcat trees when nothing is running and no flag is given.
const SEARCH_GLOBS: &[(&str, &str)] = &[
    ("/usr/share", "tomcat"),
    ("/opt", "tomcat"),
    ("/opt", "apache-tomcat"),
    ("/usr/local", "tomcat"),
    ("/usr/local", "apache-tomcat"),
    ("/srv", "tomcat"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `$CATALINA_BASE/bin/setenv.sh`: survives Tomcat upgrades.
    Setenv,
    /// The guide's block at the top of `$CATALINA_HOME/bin/catalina.sh`.
    Catalina,
}

impl Method {
    pub fn parse(value: Option<&str>) -> Result<Method> {
        match value {
            None | Some("setenv") => Ok(Method::Setenv),
            Some("catalina") => Ok(Method::Catalina),
            Some(other) => Err(Error::usage(
                format!("--method {other}: Tomcat offers `setenv` or `catalina`"),
                "use --method setenv (default, survives upgrades) or --method catalina (the guide's catalina.sh block)",
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Method::Setenv => "setenv",
            Method::Catalina => "catalina",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Tomcat {
    pub home: PathBuf,
    pub base: PathBuf,
    pub version: Option<String>,
    pub process: Option<Process>,
    pub style: MarkerStyle,
}

impl Tomcat {
    fn script(&self, dir: &Path, stem: &str) -> PathBuf {
        let ext = if self.style == MarkerStyle::Bat {
            "bat"
        } else {
            "sh"
        };
        dir.join("bin").join(format!("{stem}.{ext}"))
    }

    pub fn catalina_script(&self) -> PathBuf {
        self.script(&self.home, "catalina")
    }

    /// The setenv file catalina.sh will source: the base's, else the home's, else a new one
    /// in the base (creating one in the base would hide an existing one in the home).
    pub fn setenv_script(&self) -> PathBuf {
        let in_base = self.script(&self.base, "setenv");
        let in_home = self.script(&self.home, "setenv");
        if !in_base.exists() && in_home.exists() {
            in_home
        } else {
            in_base
        }
    }

    /// Every file catalina.sh reads options from, in the order it reads them.
    pub fn startup_files(&self) -> Vec<PathBuf> {
        let mut files = vec![self.catalina_script(), self.script(&self.base, "setenv")];
        let home_setenv = self.script(&self.home, "setenv");
        if !files.contains(&home_setenv) {
            files.push(home_setenv);
        }
        files
    }

    pub fn owned_roots(&self, whatap_home: Option<&Path>) -> Vec<PathBuf> {
        let mut dirs = vec![self.home.as_path(), self.base.as_path()];
        dirs.extend(whatap_home);
        target::owned_roots(&dirs)
    }

    /// Every WHATAP block in the startup files, or why one is broken.
    pub fn scan_blocks(&self) -> Vec<java::BlockScan> {
        java::scan_blocks(&self.startup_files(), self.style)
    }

    /// The WHATAP blocks in the startup files; a broken one is a refusal.
    pub fn blocks(&self) -> Result<Vec<FoundBlock>> {
        self.scan_blocks()
            .into_iter()
            .map(|scan| scan.map_err(|(file, e)| edits::broken_block(&file, &e)))
            .collect()
    }

    /// The user the JVM runs as: the live process, else the owner of `logs/`, else the base.
    pub fn runtime_owner(&self) -> (u32, u32) {
        if let Some(p) = &self.process {
            return (p.uid, p.gid);
        }
        [self.base.join("logs"), self.base.clone()]
            .iter()
            .find_map(|p| fs::metadata(p).ok())
            .map(|m| (m.uid(), m.gid()))
            .unwrap_or((0, 0))
    }

    pub fn detection(&self) -> Detection {
        let agent = if self
            .process
            .as_ref()
            .is_some_and(|p| p.javaagents().iter().any(|a| java::is_whatap_agent(a)))
        {
            AgentState::Loaded
        } else if self.blocks().map(|b| !b.is_empty()).unwrap_or(false) {
            AgentState::Configured
        } else {
            AgentState::None
        };
        let mut details = std::collections::BTreeMap::new();
        details.insert(
            "layout".to_string(),
            if self.style == MarkerStyle::Bat {
                "windows"
            } else {
                "unix"
            }
            .to_string(),
        );
        Detection {
            runtime: NAME.to_string(),
            version: self.version.clone(),
            home: self.home.clone(),
            base: Some(self.base.clone()),
            pid: self.process.as_ref().map(|p| p.pid),
            user: self
                .process
                .as_ref()
                .and_then(|p| process::user_name(p.uid)),
            agent,
            details,
        }
    }
}

fn is_tomcat_home(dir: &Path) -> bool {
    dir.join("bin/catalina.sh").is_file() || dir.join("bin/catalina.bat").is_file()
}

fn canonical(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Debian keeps the instance in `/var/lib/tomcatN` beside `/usr/share/tomcatN`.
fn debian_base(home: &Path) -> Option<PathBuf> {
    let name = home.file_name()?.to_str()?;
    let version = name.strip_prefix("tomcat")?;
    if home.parent()? != Path::new("/usr/share") || version.parse::<u32>().is_err() {
        return None;
    }
    let base = PathBuf::from(format!("/var/lib/tomcat{version}"));
    base.join("conf").exists().then_some(base)
}

fn build(home: &Path, base: &Path, process: Option<Process>) -> Tomcat {
    let home = canonical(home);
    let base = canonical(base);
    let style = if home.join("bin/catalina.sh").is_file() {
        MarkerStyle::Shell
    } else {
        MarkerStyle::Bat
    };
    Tomcat {
        version: version(&home),
        home,
        base,
        process,
        style,
    }
}

/// From RELEASE-NOTES (tarballs), else `lib/catalina.jar`'s ServerInfo.properties (Debian).
pub fn version(home: &Path) -> Option<String> {
    if let Ok(Ok(notes)) = target::peek(&home.join("RELEASE-NOTES")).map(String::from_utf8) {
        if let Some(v) = notes
            .lines()
            .find_map(|l| l.trim().strip_prefix("Apache Tomcat Version "))
        {
            return Some(v.trim().to_string());
        }
    }
    let jar = fs::File::open(home.join("lib/catalina.jar")).ok()?;
    let mut archive = zip::ZipArchive::new(jar).ok()?;
    let mut entry = archive
        .by_name("org/apache/catalina/util/ServerInfo.properties")
        .ok()?;
    let mut text = String::new();
    entry.read_to_string(&mut text).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("server.number="))
        .map(|v| v.trim().to_string())
}

/// A Tomcat JVM's home and base from its command line.
fn from_process(p: &Process) -> Option<Tomcat> {
    if !p.args.iter().any(|a| a == BOOTSTRAP_CLASS) {
        return None;
    }
    let home = PathBuf::from(p.system_property("catalina.home")?);
    let base = p
        .system_property("catalina.base")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.clone());
    Some(build(&home, &base, Some(p.clone())))
}

/// Running Tomcats first, then trees in the usual places that no running one covers.
pub fn detect(host: &Host) -> Vec<Tomcat> {
    let mut found: Vec<Tomcat> = host.java_processes().filter_map(from_process).collect();
    for (parent, prefix) in SEARCH_GLOBS {
        let Ok(entries) = fs::read_dir(parent) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
            .map(|e| e.path())
            .filter(|p| is_tomcat_home(p))
            .collect();
        dirs.sort();
        for home in dirs {
            let base = debian_base(&home).unwrap_or_else(|| home.clone());
            let candidate = build(&home, &base, None);
            if !found.iter().any(|t| t.base == candidate.base) {
                found.push(candidate);
            }
        }
    }
    found
}

fn check_dir(flag: &str, dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        return Err(Error::usage(
            format!("{flag} {}: no such directory", dir.display()),
            format!("give {flag} the Tomcat directory that holds bin/ and conf/"),
        ));
    }
    Ok(())
}

/// The Tomcat the target flags name, or the only one detection finds.
pub fn resolve(target: &TargetSettings, host: &Host) -> Result<Tomcat> {
    if let Some(pid) = target.pid {
        let p = process::read(&process::proc_root(), pid).ok_or_else(|| {
            Error::usage(
                format!("--pid {pid}: no such process"),
                "check the PID with `ps -ef | grep java`",
            )
        })?;
        return from_process(&p).ok_or_else(|| {
            Error::usage(
                format!(
                    "--pid {pid}: not a Tomcat JVM (no {BOOTSTRAP_CLASS} with -Dcatalina.home)"
                ),
                "give --home/--base for a Tomcat that is not running",
            )
        });
    }
    let running_for = |base: &Path| {
        let base = canonical(base);
        host.java_processes()
            .filter_map(from_process)
            .find(|t| t.base == base)
            .and_then(|t| t.process)
    };
    match (&target.home, &target.base) {
        (Some(home), base) => {
            check_dir("--home", home)?;
            if !is_tomcat_home(home) {
                return Err(Error::usage(
                    format!(
                        "--home {}: not a Tomcat home (no bin/catalina.sh or bin/catalina.bat)",
                        home.display()
                    ),
                    "give --home the CATALINA_HOME directory (the one with bin/catalina.sh)",
                ));
            }
            let base = match base {
                Some(base) => {
                    check_dir("--base", base)?;
                    base.clone()
                }
                None => debian_base(&canonical(home)).unwrap_or_else(|| home.clone()),
            };
            let process = running_for(&base);
            Ok(build(home, &base, process))
        }
        (None, Some(base)) => {
            check_dir("--base", base)?;
            if let Some(process) = running_for(base) {
                return from_process(&process)
                    .ok_or_else(|| Error::Internal("process vanished".into()));
            }
            if is_tomcat_home(base) {
                return Ok(build(base, base, None));
            }
            Err(Error::usage(
                format!(
                    "--base {}: Tomcat is not running from it and it has no bin/catalina.sh",
                    base.display()
                ),
                "also give --home CATALINA_HOME",
            ))
        }
        (None, None) => Err(Error::Internal(
            "resolve without a target: use runtimes::resolve".into(),
        )),
    }
}

/// The agent jar to install: --agent-jar, else the newest in --agent-archive, else the newest
/// already in whatap-home.
fn agent_jar_source(settings: &InstallSettings, whatap_home: &Path) -> Result<PathBuf> {
    if let Some(jar) = &settings.agent_jar {
        java::check_jar("--agent-jar", jar)?;
        return Ok(jar.clone());
    }
    if let Some(archive) = &settings.agent_archive {
        if !archive.is_dir() {
            return Err(Error::usage(
                format!("--agent-archive {}: not a directory", archive.display()),
                "unpack the agent archive and pass its directory, or pass --agent-jar",
            ));
        }
        let jar = java::newest_jar_in(archive).ok_or_else(|| {
            Error::usage(
                format!(
                    "--agent-archive {}: no whatap.agent.tracer-*.jar inside",
                    archive.display()
                ),
                "pass the directory the agent archive was unpacked into",
            )
        })?;
        java::check_jar("--agent-archive", &jar)?;
        return Ok(jar);
    }
    let jar = java::newest_jar_in(whatap_home).ok_or_else(|| {
        Error::usage(
            format!(
                "no agent jar: --agent-jar not given and none in {}",
                whatap_home.display()
            ),
            "pass --agent-jar whatap.agent.tracer-X.Y.Z.jar (or --agent-archive DIR)",
        )
    })?;
    java::check_jar("--whatap-home", &jar)?;
    Ok(jar)
}

/// Directories to create for `dir`, parents first; the leaf gets `owner`.
fn missing_dirs(dir: &Path, owner: Option<(u32, u32)>) -> Vec<DirCreate> {
    let mut missing = Vec::new();
    let mut current = Some(dir);
    while let Some(d) = current {
        if d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        current = d.parent();
    }
    missing
        .into_iter()
        .rev()
        .map(|path| DirCreate {
            owner: if path == dir { owner } else { None },
            path,
            mode: 0o755,
        })
        .collect()
}

/// Another `-javaagent` for WhaTap outside the block we manage would load the agent twice.
fn stray_agent_lines(tomcat: &Tomcat, managed: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for block in tomcat.blocks()? {
        if block.file != managed {
            found.push(format!(
                "{}:{}: a WHATAP block",
                block.file.display(),
                block.line
            ));
        }
    }
    for file in tomcat.startup_files() {
        let Ok(content) = target::peek(&file) else {
            continue;
        };
        let span = marker::find_block(&content, tomcat.style).ok().flatten();
        for (i, line) in String::from_utf8_lossy(&content).lines().enumerate() {
            let inside = span.is_some_and(|s| i >= s.start && i <= s.end);
            let comment = line.trim_start().starts_with('#')
                || line.trim_start().to_ascii_lowercase().starts_with("rem");
            if !inside
                && !comment
                && line.contains("-javaagent:")
                && line.to_ascii_lowercase().contains("whatap")
            {
                found.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    Ok(found)
}

fn plan_install(tomcat: &Tomcat, settings: &InstallSettings) -> Result<InstallPlan> {
    let method = Method::parse(settings.method.as_deref())?;
    let style = tomcat.style;
    let whatap_home = match &settings.whatap_home {
        Some(dir) if dir.is_relative() => {
            return Err(Error::usage(
                format!("--whatap-home {}: must be an absolute path", dir.display()),
                "the path is written into the startup script; give it from /",
            ));
        }
        Some(dir) => dir.clone(),
        None => tomcat.base.join("whatap"),
    };
    if whatap_home.exists() && !whatap_home.is_dir() {
        return Err(Error::usage(
            format!(
                "--whatap-home {}: exists and is not a directory",
                whatap_home.display()
            ),
            "give a directory for the agent files",
        ));
    }
    java::check_plain(
        "--whatap-home",
        &whatap_home.to_string_lossy(),
        MarkerStyle::Shell,
    )?;
    let source = agent_jar_source(settings, &whatap_home)?;
    let jar_name = source
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    if settings.latest_jar && !java::is_tracer_jar_name(&jar_name) {
        return Err(Error::usage(
            format!("--latest-jar: {jar_name} is not named whatap.agent.tracer-*.jar"),
            "keep the vendor's jar name so the newest can be picked at start",
        ));
    }
    java::check_plain("--agent-jar", &jar_name, style)?;
    let options = java::agent_options(settings, style)?;

    let script = match method {
        Method::Setenv => tomcat.setenv_script(),
        Method::Catalina => tomcat.catalina_script(),
    };
    let stray = stray_agent_lines(tomcat, &script)?;
    if !stray.is_empty() {
        return Err(Error::refused(
            format!(
                "the agent is already set elsewhere, it would load twice: {}",
                stray.join("; ")
            ),
            "remove that line or block (or install with the --method that manages it), then run again",
        ));
    }
    let roots = tomcat.owned_roots(Some(&whatap_home));
    let owner = tomcat.runtime_owner();
    let mut plan = Plan::default();
    plan.dirs.extend(missing_dirs(&whatap_home, Some(owner)));
    if let Some(bin) = script.parent() {
        plan.dirs.extend(missing_dirs(bin, None));
    }
    let dest = whatap_home.join(&jar_name);
    if canonical(&source) != canonical(&dest) {
        let mut copy = edits::copy(&source, &dest, &roots)?;
        copy.create_owner = Some(owner);
        plan.edits.push(copy);
    }
    let mut conf = edits::keys(
        &whatap_home.join("whatap.conf"),
        &roots,
        &settings.conf_keys(),
        0o600,
    )?;
    conf.create_owner = Some(owner);
    plan.edits.push(conf);

    let inner = java::agent_block(
        style,
        "JAVA_OPTS",
        &whatap_home,
        &jar_name,
        settings.latest_jar,
        &options,
    )?;
    let at = match method {
        Method::Setenv => InsertAt::End,
        Method::Catalina => InsertAt::AfterHeader,
    };
    for path in [&script, &whatap_home] {
        if let Some(dir) = path.ancestors().find(|d| d.is_dir()) {
            target::check_dir_writable(dir)?;
        }
    }
    plan.edits
        .push(edits::block(&script, &roots, style, &inner, at)?);

    let mut warnings = Vec::new();
    if style == MarkerStyle::Bat {
        warnings.push(
            "Windows tree: the .bat block takes effect when Tomcat starts on Windows".to_string(),
        );
    }
    let next_steps = vec![restart_hint(tomcat)];
    Ok(InstallPlan {
        plan,
        method: method.name().to_string(),
        next_steps,
        warnings,
    })
}

pub fn restart_hint(tomcat: &Tomcat) -> String {
    let debian = tomcat.home.starts_with("/usr/share") && tomcat.base.starts_with("/var/lib");
    let how = if debian {
        let unit = tomcat
            .home
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("systemctl restart {unit}")
    } else if tomcat.style == MarkerStyle::Bat {
        format!(
            "{}\\bin\\shutdown.bat, then startup.bat",
            tomcat.home.display()
        )
    } else if tomcat.process.is_some() {
        let env = format!(
            "CATALINA_HOME={} CATALINA_BASE={}",
            tomcat.home.display(),
            tomcat.base.display()
        );
        format!(
            "{env} {home}/bin/shutdown.sh, then {env} {home}/bin/startup.sh",
            home = tomcat.home.display()
        )
    } else {
        let env = format!(
            "CATALINA_HOME={} CATALINA_BASE={}",
            tomcat.home.display(),
            tomcat.base.display()
        );
        format!("{env} {}/bin/startup.sh", tomcat.home.display())
    };
    match &tomcat.process {
        Some(p) => format!("restart Tomcat (PID {}) so the agent loads: {how}", p.pid),
        None => format!("start Tomcat so the agent loads: {how}"),
    }
}

impl Runtime for Tomcat {
    fn kind(&self) -> &'static str {
        NAME
    }

    fn id(&self) -> String {
        format!("{NAME}:{}", self.base.display())
    }

    fn target(&self) -> PathBuf {
        self.base.clone()
    }

    fn detection(&self) -> Detection {
        Tomcat::detection(self)
    }

    fn plan_install(&self, settings: &InstallSettings) -> Result<InstallPlan> {
        plan_install(self, settings)
    }

    fn inspect(&self) -> Inspection {
        doctor::java::inspect(&doctor::java::JavaTarget {
            label: format!("{NAME} {}", self.base.display()),
            blocks: self.scan_blocks(),
            process: self.process.as_ref(),
            restart: restart_hint(self),
        })
    }
}
