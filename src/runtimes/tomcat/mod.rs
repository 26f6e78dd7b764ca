//! Apache Tomcat 7 to 11: tarball layouts (CATALINA_HOME = CATALINA_BASE or a separate base),
//! Debian's split layout (`/usr/share/tomcatN` + `/var/lib/tomcatN`), Windows trees (.bat).

mod procrun;

use crate::detect::Host;
use crate::detect::process::Process;
use crate::edit::marker::{InsertAt, MarkerStyle};
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::target::{self, canonical};
use crate::runtimes::instance::{Entry, InstallPlan, JAVA_SELECTORS, boxed};
use crate::runtimes::java::{self, Description, JavaServer, agent};
use crate::runtimes::kind::RuntimeKind;
use crate::settings::{InstallSettings, TargetSettings};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Tomcat is what a bare `--home`/`--pid` means when no other runtime recognises it.
pub const ENTRY: Entry = Entry {
    kind: RuntimeKind::Tomcat,
    detect: |host| boxed(detect(host)),
    resolve: |target, host| Ok(Box::new(resolve(target, host)?)),
    runs_in: None,
    is_home: None,
    needs_no_target: false,
    selectors: JAVA_SELECTORS,
};

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

const METHODS: &[(&str, Method)] = &[("setenv", Method::Setenv), ("catalina", Method::Catalina)];

#[derive(Debug, Clone)]
pub struct Tomcat {
    pub home: PathBuf,
    pub base: PathBuf,
    pub version: Option<String>,
    pub process: Option<Process>,
    pub style: MarkerStyle,
    /// The Procrun service it runs as (Windows), when detection found one.
    pub service: Option<String>,
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

    /// The user the JVM runs as: the live process, else the owner of `logs/`, else the base.
    pub fn runtime_owner(&self) -> (u32, u32) {
        agent::runtime_owner(
            self.process.as_ref(),
            &[self.base.join("logs"), self.base.clone()],
        )
    }
}

fn is_tomcat_home(dir: &Path) -> bool {
    dir.join("bin/catalina.sh").is_file() || dir.join("bin/catalina.bat").is_file()
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
        service: None,
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
    // Buffered: the zip reader walks the central directory in reads of a few bytes.
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(jar)).ok()?;
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

/// A Procrun service's Tomcat, from its `-Dcatalina.home` / `-Dcatalina.base` options.
fn from_service(service: &procrun::Service) -> Option<Tomcat> {
    let home = PathBuf::from(service.system_property("catalina.home")?);
    let base = service
        .system_property("catalina.base")
        .map_or_else(|| home.clone(), PathBuf::from);
    Some(Tomcat {
        service: Some(service.name.clone()),
        ..build(&home, &base, None)
    })
}

/// Running Tomcats first, then Procrun services (Windows), then trees in the usual places
/// that none of those covers.
pub fn detect(host: &Host) -> Vec<Tomcat> {
    let mut found: Vec<Tomcat> = host.java_processes().filter_map(from_process).collect();
    for tomcat in procrun::services().iter().filter_map(from_service) {
        match found.iter_mut().find(|t| t.base == tomcat.base) {
            Some(running) => running.service = tomcat.service,
            None => found.push(tomcat),
        }
    }
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
    java::check_dir(flag, dir, &msg!("holds-tomcat"))
}

/// The Tomcat the target flags name: `--pid`, `--home` (with `--base`, else Debian's base or
/// the home itself), or `--base` of a running or self-contained Tomcat.
pub fn resolve(target: &TargetSettings, host: &Host) -> Result<Tomcat> {
    if let Some(pid) = target.pid {
        return java::by_pid(host, pid, from_process, |pid| {
            Error::usage(
                msg!("tomcat-pid-not-it", pid = pid, class = BOOTSTRAP_CLASS),
                msg!("tomcat-pid-not-it-hint"),
            )
        });
    }
    let running_for = |base: &Path| {
        let base = canonical(base);
        java::running(host, from_process, |t| t.base == base).and_then(|t| t.process)
    };
    match (&target.home, &target.base) {
        (Some(home), base) => {
            check_dir("--home", home)?;
            if !is_tomcat_home(home) {
                return Err(Error::usage(
                    msg!("tomcat-not-home", path = home.display()),
                    msg!("tomcat-not-home-hint"),
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
                msg!("tomcat-base-alone", path = base.display()),
                msg!("tomcat-base-alone-hint"),
            ))
        }
        (None, None) => Err(Error::Internal(
            "resolve without a target: use runtimes::resolve".into(),
        )),
    }
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
        Some(p) => crate::msg!("tomcat-restart", pid = p.pid, how = how),
        None => crate::msg!("tomcat-start", how = how),
    }
}

impl JavaServer for Tomcat {
    const KIND: RuntimeKind = RuntimeKind::Tomcat;

    fn target(&self) -> PathBuf {
        self.base.clone()
    }

    fn process(&self) -> Option<&Process> {
        self.process.as_ref()
    }

    fn describe(&self) -> Description {
        let layout = if self.style == MarkerStyle::Bat {
            "windows"
        } else {
            "unix"
        };
        let mut details: std::collections::BTreeMap<String, String> =
            [("layout".to_string(), layout.to_string())].into();
        if let Some(service) = &self.service {
            details.insert("service".to_string(), service.clone());
        }
        Description {
            base: Some(self.base.clone()),
            version: self.version.clone(),
            details,
            ..Description::home(&self.home)
        }
    }

    /// catalina.sh, then the one setenv it sources (the base's, else the home's).
    fn startup_chain(&self) -> agent::Chain {
        vec![
            (self.catalina_script(), self.style),
            (self.setenv_script(), self.style),
        ]
    }

    fn restart_hint(&self) -> String {
        restart_hint(self)
    }

    fn plan_install(&self, settings: &InstallSettings, dist: Option<&Path>) -> Result<InstallPlan> {
        if let Some(service) = &settings.service {
            return plan_service(self, service, settings, dist);
        }
        let (method, method_name) = java::method(
            METHODS,
            settings.method.as_deref(),
            Method::Setenv,
            |other| {
                Error::usage(
                    msg!("tomcat-method", method = other),
                    msg!("tomcat-method-hint"),
                )
            },
        )?;
        let style = self.style;
        let spec = agent::AgentSpec::resolve(settings, dist, &self.base.join("whatap"), style)?;
        let script = match method {
            Method::Setenv => self.setenv_script(),
            Method::Catalina => self.catalina_script(),
        };
        let chain = self.startup_chain();
        let install = agent::BlockInstall {
            script,
            chain: &chain,
            style,
            at: match method {
                Method::Setenv => InsertAt::End,
                Method::Catalina => InsertAt::AfterHeader,
            },
            dirs: &[&self.home, &self.base],
            owner: self.runtime_owner(),
            shell: style == MarkerStyle::Shell,
        };
        let plan = agent::plan_block_install(&install, &spec, settings, dist, |spec| {
            agent::agent_block(
                style,
                "JAVA_OPTS",
                &spec.whatap_home,
                &spec.jar_name,
                settings.latest_jar,
                &spec.options,
            )
        })?;
        let mut warnings = Vec::new();
        // Said only where a Windows tree is edited from Linux (a mount, an image being built).
        if style == MarkerStyle::Bat && cfg!(unix) {
            warnings.push(crate::msg!("tomcat-windows-tree"));
        }
        // catalina.sh belongs to the home: every base started from it gets this base's jar.
        if method == Method::Catalina && self.base != self.home {
            warnings.push(crate::msg!(
                "tomcat-catalina-shared",
                home = self.home.display(),
                jar = spec.jar().display(),
                base = self.base.display()
            ));
        }
        let next_steps = vec![restart_hint(self)];
        Ok(InstallPlan {
            plan,
            method: method_name.to_string(),
            next_steps,
            warnings,
        })
    }

    /// catalina.out and the dated catalina.YYYY-MM-DD.log files.
    fn log_files(&self) -> Vec<PathBuf> {
        java::logs_in(&[self.base.join("logs")], |n| {
            n == "catalina.out" || (n.starts_with("catalina.") && n.ends_with(".log"))
        })
    }
}

/// `--service NAME`: the agent files as for a tree, and -javaagent (then the `-D` options) in
/// the Procrun service's JVM options instead of a start script, which the service never runs.
fn plan_service(
    tomcat: &Tomcat,
    name: &str,
    settings: &InstallSettings,
    dist: Option<&Path>,
) -> Result<InstallPlan> {
    let service = procrun::find(name)?;
    if settings.method.is_some() || settings.latest_jar {
        // The registry holds one fixed option: no script picks a method or the newest jar.
        return Err(Error::usage(
            msg!("service-no-method"),
            msg!("service-no-method-hint"),
        ));
    }
    let spec = agent::AgentSpec::resolve(
        settings,
        dist,
        &tomcat.base.join("whatap"),
        MarkerStyle::Bat,
    )?;
    let roots = target::owned_roots(&[&tomcat.home, &tomcat.base, &spec.whatap_home]);
    if let Some(dir) = spec.whatap_home.ancestors().find(|d| d.is_dir()) {
        target::check_dir_writable(dir)?;
    }
    let mut plan = crate::plan::Plan::default();
    spec.plan_files(settings, dist, &roots, tomcat.runtime_owner(), &mut plan)?;
    let mut options = vec![format!("-javaagent:{}", spec.jar().display())];
    options.extend(spec.options.split_whitespace().map(str::to_string));
    plan.registry.push(procrun::plan_options(
        &service,
        &options,
        &settings.recorded_registry,
    )?);
    let how = format!("net stop {0}, then net start {0}", service.name);
    Ok(InstallPlan {
        plan,
        method: "service".to_string(),
        next_steps: vec![crate::msg!("tomcat-start", how = how)],
        warnings: Vec::new(),
    })
}
