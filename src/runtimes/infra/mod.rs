//! The infrastructure agent (`whatap-infra` from the vendor's apt/yum repository): this
//! product writes its `conf/whatap.conf` (license, whatap.server.host, createdtime) the way the
//! guide's `echo ... | tee` lines do, keeping every other key; the package step is printed.

use crate::detect::Host;
use crate::doctor::{Fact, Inspection, ProgramCheck, conf::inspect_conf};
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::{DirCreate, Plan, edits, target};
use crate::runtimes::instance::{
    AgentState, Detection, Entry, InstallPlan, Runtime, Selector, boxed,
};
use crate::runtimes::kind::RuntimeKind;
use crate::settings::{InstallSettings, TargetSettings};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const ENTRY: Entry = Entry {
    kind: RuntimeKind::Infra,
    detect: |host| boxed(detect(host)),
    resolve: |target, host| Ok(Box::new(resolve(target, host)?)),
    runs_in: None,
    is_home: None,
    needs_no_target: true,
    selectors: &[Selector::Home],
};

pub const DEFAULT_HOME: &str = "/usr/whatap/infra";
/// The daemon the package runs (`/usr/whatap/infra/whatap_infrad`).
pub const DAEMON: &str = "whatap_infrad";

#[derive(Debug, Clone)]
pub struct Infra {
    pub home: PathBuf,
    pub pid: Option<u32>,
}

impl Infra {
    pub fn conf(&self) -> PathBuf {
        self.home.join("conf/whatap.conf")
    }

    pub fn installed(&self) -> bool {
        self.home.join(DAEMON).is_file()
    }
}

fn daemon_pid(host: &Host) -> Option<u32> {
    host.processes
        .iter()
        .find(|p| {
            p.args
                .first()
                .and_then(|a| Path::new(a).file_name())
                .is_some_and(|n| n == DAEMON)
        })
        .map(|p| p.pid)
}

/// The package's home when it is installed or its daemon runs.
pub fn detect(host: &Host) -> Vec<Infra> {
    let pid = daemon_pid(host);
    let home = PathBuf::from(DEFAULT_HOME);
    if pid.is_none() && !home.is_dir() {
        return Vec::new();
    }
    vec![Infra { home, pid }]
}

/// `--home DIR` (default /usr/whatap/infra).
pub fn resolve(target: &TargetSettings, host: &Host) -> Result<Infra> {
    if target.pid.is_some() || target.base.is_some() {
        return Err(Error::usage(
            msg!("infra-only-home"),
            msg!("infra-only-home-hint"),
        ));
    }
    let home = match &target.home {
        Some(home) if home.is_relative() => {
            return Err(Error::usage(
                msg!("home-relative", path = home.display()),
                msg!("infra-home-relative-hint"),
            ));
        }
        Some(home) => home.clone(),
        None => PathBuf::from(DEFAULT_HOME),
    };
    if home.exists() && !home.is_dir() {
        return Err(Error::usage(
            msg!("home-not-dir", path = home.display()),
            msg!("infra-home-not-dir-hint"),
        ));
    }
    Ok(Infra {
        home,
        pid: daemon_pid(host),
    })
}

fn now_nanos() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos().to_string())
        .unwrap_or_else(|_| "0".to_string())
}

fn plan_install(infra: &Infra, settings: &InstallSettings) -> Result<InstallPlan> {
    let conf = infra.conf();
    let conf_dir = infra.home.join("conf");
    let mut keys = settings.conf_keys();
    // createdtime marks the first registration (`date +%s%N`); a reinstall keeps it.
    let existing = crate::plan::target::peek(&conf)
        .map(|b| crate::edit::conf::parse(&b))
        .unwrap_or_default();
    if !existing.contains_key("createdtime") {
        keys.push(("createdtime".to_string(), now_nanos()));
    }
    let root = infra
        .home
        .ancestors()
        .find(|d| d.is_dir())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    target::check_dir_writable(&root)?;
    let roots = if infra.home.exists() {
        target::owned_roots(&[infra.home.as_path()])
    } else {
        vec![infra.home.clone()]
    };
    let mut plan = Plan::default();
    plan.dirs.extend(DirCreate::missing(&conf_dir, None));
    plan.edits.push(edits::keys(&conf, &roots, &keys, 0o600)?);
    let mut next_steps = Vec::new();
    if !infra.installed() {
        next_steps.push(msg!("infra-install-debian"));
        next_steps.push(
            "(RHEL/CentOS/Amazon Linux): sudo rpm --import http://repo.whatap.io/centos/release.gpg && \
             sudo rpm -Uvh http://repo.whatap.io/centos/5/noarch/whatap-repo-1.0-1.noarch.rpm && \
             sudo yum install whatap-infra"
                .to_string(),
        );
    }
    next_steps.push("sudo service whatap-infra restart".to_string());
    Ok(InstallPlan {
        plan,
        method: "conf".to_string(),
        next_steps,
        warnings: Vec::new(),
    })
}

impl Runtime for Infra {
    fn kind(&self) -> RuntimeKind {
        RuntimeKind::Infra
    }

    fn id(&self) -> String {
        format!("{}:{}", RuntimeKind::Infra, self.home.display())
    }

    fn target(&self) -> PathBuf {
        self.home.clone()
    }

    fn detection(&self) -> Detection {
        let agent = match (self.pid, self.conf().is_file()) {
            (Some(_), _) => AgentState::Loaded,
            (None, true) => AgentState::Configured,
            (None, false) => AgentState::None,
        };
        Detection {
            runtime: RuntimeKind::Infra,
            version: std::fs::read_to_string(self.home.join("VERSION"))
                .ok()
                .map(|v| v.trim().to_string()),
            home: self.home.clone(),
            base: None,
            pid: self.pid,
            user: None,
            agent,
            details: BTreeMap::new(),
        }
    }

    fn plan_install(&self, settings: &InstallSettings, _: Option<&Path>) -> Result<InstallPlan> {
        plan_install(self, settings)
    }

    /// whatap.conf's keys (and collectors), and the daemon running.
    fn inspect(&self) -> Inspection {
        let mut out = Inspection::default();
        let label = format!("{} {}", RuntimeKind::Infra, self.home.display());
        inspect_conf(
            &label,
            &self.conf(),
            &["license", "whatap.server.host"],
            &mut out,
        );
        let keys = crate::plan::target::peek(&self.conf())
            .map(|b| crate::edit::conf::parse(&b))
            .unwrap_or_default();
        let value = |key: &str| keys.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
        if let (true, Some(license), Some(hosts)) = (
            self.installed(),
            value("license"),
            value("whatap.server.host"),
        ) {
            // The guide's troubleshooting: `whatap_infrad --whatapip IP --license KEY test`.
            let host = hosts.split(['/', ',']).next().unwrap_or(hosts).trim();
            out.programs.push(ProgramCheck {
                id: "infra-config-test-failed",
                target: label.clone(),
                program: self.home.join(DAEMON),
                args: ["--whatapip", host, "--license", license, "test"]
                    .map(String::from)
                    .to_vec(),
                secret: license.to_string(),
            });
        }
        if self.pid.is_none() {
            let why = if self.installed() {
                format!("no {DAEMON} process")
            } else {
                format!(
                    "no {DAEMON} process, and {} is missing (package not installed)",
                    self.home.join(DAEMON).display()
                )
            };
            out.facts.push(Fact::new("infra-not-running", &label, why));
        }
        out
    }

    /// Its fixed home, without a PID (the infra agent is not picked by process).
    fn selection(&self) -> TargetSettings {
        TargetSettings {
            runtime: Some(RuntimeKind::Infra),
            home: Some(self.home.clone()),
            ..TargetSettings::default()
        }
    }
}
