//! One runtime instance on this host (a Tomcat base, a PHP SAPI, a Python app): what every
//! command needs from it. The commands never name a runtime; they hold `Box<dyn Runtime>`.

use super::kind::RuntimeKind;
use crate::detect::Host;
use crate::detect::process::Process;
use crate::doctor::Inspection;
use crate::error::Result;
use crate::plan::Plan;
use crate::settings::{InstallSettings, TargetSettings};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub trait Runtime {
    fn kind(&self) -> RuntimeKind;
    /// The ledger id: stable for the same instance across runs.
    fn id(&self) -> String;
    /// The directory reported as `target` (CATALINA_BASE, ...).
    fn target(&self) -> PathBuf;
    fn detection(&self) -> Detection;
    /// The plan that installs the agent; `dist` is the agent distribution `--agent-archive`
    /// resolved to (an unpacked directory), if one was given.
    fn plan_install(&self, settings: &InstallSettings, dist: Option<&Path>) -> Result<InstallPlan>;
    /// What doctor finds for this instance (no network: the command probes collectors).
    fn inspect(&self) -> Inspection;

    /// What `--install-package` puts in place before the install can be planned (PHP: the
    /// vendor's package); `cache` is the state dir's cache. Only PHP has a package to install.
    fn prepare_install(
        &self,
        settings: &InstallSettings,
        _cache: &Path,
    ) -> Result<Option<Prepared>> {
        if settings.install_package {
            return Err(crate::error::Error::usage(
                crate::msg!("install-package-php-only", runtime = self.kind()),
                crate::msg!("install-package-php-only-hint"),
            ));
        }
        Ok(None)
    }

    /// What to do once uninstall has put the files back.
    fn uninstall_next_steps(&self) -> Vec<String> {
        vec![crate::msg!("uninstall-next", runtime = self.kind())]
    }

    /// The safe fix this instance offers for a finding `id`, whatever the evidence came from
    /// (its own files, or a `--log` the operator passed).
    fn remedy_for(&self, _id: &str) -> Option<crate::doctor::Remedy> {
        None
    }

    /// The target flags that pick this instance again (what the wizard installs).
    fn selection(&self) -> TargetSettings {
        default_selection(self)
    }

    /// The flags that pick this instance, for "several found; choose one" messages.
    fn selector(&self) -> String {
        let d = self.detection();
        let base = d
            .base
            .map(|b| format!(" --base {}", b.display()))
            .unwrap_or_default();
        format!(
            "--runtime {} --home {}{base}",
            self.kind(),
            d.home.display()
        )
    }
}

/// The package commands `--install-package` runs before planning, shown and confirmed like a
/// plan: the files they read (written into the state dir's cache first), the small text
/// files they need downloaded there (a repository key), the programs run (absolute paths,
/// argument vectors), and the agent distribution they leave.
#[derive(Debug, Default)]
pub struct Prepared {
    pub files: Vec<(PathBuf, Vec<u8>)>,
    pub dirs: Vec<PathBuf>,
    pub downloads: Vec<(String, PathBuf)>,
    pub steps: Vec<crate::plan::RunStep>,
    /// What removes what `steps` installed (`apt-get purge`): recorded for `uninstall`, which
    /// runs it once the files are back, only when `steps` ran.
    pub remove: Option<crate::plan::RunStep>,
    pub dist: PathBuf,
}

/// `--runtime`, `--home`, `--base` and `--pid` of what `detection` reports.
pub fn default_selection<R: Runtime + ?Sized>(runtime: &R) -> TargetSettings {
    let d = runtime.detection();
    TargetSettings {
        runtime: Some(runtime.kind()),
        base: d.base.filter(|b| *b != d.home),
        home: Some(d.home),
        pid: d.pid,
        ..TargetSettings::default()
    }
}

/// One runtime kind's row in the registry (`runtimes::REGISTRY`): how its instances are found.
pub struct Entry {
    pub kind: RuntimeKind,
    /// Every instance on the host, in a stable order.
    pub detect: fn(&Host) -> Vec<Box<dyn Runtime>>,
    /// The instance the target flags name.
    pub resolve: fn(&TargetSettings, &Host) -> Result<Box<dyn Runtime>>,
    /// Recognises the runtime in a process: names the kind of a bare `--pid`.
    pub runs_in: Option<fn(&Process) -> bool>,
    /// Recognises the runtime's home: names the kind of a bare `--home`/`--base`.
    pub is_home: Option<fn(&Path) -> bool>,
    /// Resolved even when no target flag is given (every PHP; the infra agent's fixed home).
    pub needs_no_target: bool,
    /// The target flags that pick an instance of this kind: the same for install, uninstall
    /// and doctor; any other is refused before resolving.
    pub selectors: &'static [Selector],
}

/// A target flag that picks an instance (`--pid` too, though the ledger never keeps it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector {
    Home,
    Base,
    Pid,
    PhpBin,
    Unit,
    StartScript,
    /// Python only: the app is known by its WHATAP_HOME (elsewhere it is an install setting).
    WhatapHome,
    /// Node.js: the app's directory (its package.json).
    AppDir,
}

impl Selector {
    pub fn flag(self) -> &'static str {
        match self {
            Selector::Home => "--home",
            Selector::Base => "--base",
            Selector::Pid => "--pid",
            Selector::PhpBin => "--php-bin",
            Selector::Unit => "--unit",
            Selector::StartScript => "--start-script",
            Selector::WhatapHome => "--whatap-home",
            Selector::AppDir => "--app-dir",
        }
    }
}

/// The Java servers' selectors: a home (some call their instance dir `--base`) or a process.
pub const JAVA_SELECTORS: &[Selector] = &[Selector::Home, Selector::Base, Selector::Pid];

/// Detected instances as runtimes.
pub fn boxed<T: Runtime + 'static>(found: Vec<T>) -> Vec<Box<dyn Runtime>> {
    found
        .into_iter()
        .map(|r| Box::new(r) as Box<dyn Runtime>)
        .collect()
}

/// An install plan with what to tell the operator around it.
pub struct InstallPlan {
    pub plan: Plan,
    /// The `--method` used, recorded in the ledger.
    pub method: String,
    pub next_steps: Vec<String>,
    pub warnings: Vec<String>,
}

/// Whether the WhaTap agent is set up for a runtime: in its startup files, in its process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentState {
    None,
    Configured,
    Loaded,
}

/// One runtime instance found on the host (`whatap detect`).
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    pub runtime: RuntimeKind,
    pub version: Option<String>,
    pub home: PathBuf,
    pub base: Option<PathBuf>,
    pub pid: Option<u32>,
    pub user: Option<String>,
    pub agent: AgentState,
    pub details: BTreeMap<String, serde_json::Value>,
}

impl Detection {
    /// An app runtime's (Node.js, Python): known by its directory, with the process that runs
    /// it when one does; no version, no base.
    pub fn app(
        runtime: RuntimeKind,
        home: PathBuf,
        process: Option<&Process>,
        agent: AgentState,
        details: BTreeMap<String, serde_json::Value>,
    ) -> Detection {
        Detection {
            runtime,
            version: None,
            home,
            base: None,
            pid: process.map(|p| p.pid),
            user: process.and_then(|p| crate::detect::process::user_name(p.uid)),
            agent,
            details,
        }
    }
}
