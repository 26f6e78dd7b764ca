//! One file per runtime: where its options live and what block goes there. The engine
//! (`edit`, `plan`, `apply`) does the writing.

pub mod infra;
pub mod java;
pub mod php;
pub mod python;
pub mod tomcat;

use crate::cli::RuntimeKind;
use crate::detect::Host;
use crate::doctor::Inspection;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::settings::{InstallSettings, TargetSettings};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One runtime instance on this host (a Tomcat base, a PHP SAPI, ...): what every command
/// needs from it. Each runtime file implements this; the commands never name a runtime.
pub trait Runtime {
    /// `tomcat`, `php`, ... as in `--runtime`.
    fn kind(&self) -> &'static str;
    /// The ledger id: stable for the same instance across runs.
    fn id(&self) -> String;
    /// The directory reported as `target` (CATALINA_BASE, ...).
    fn target(&self) -> PathBuf;
    fn detection(&self) -> Detection;
    fn plan_install(&self, settings: &InstallSettings) -> Result<InstallPlan>;
    /// What doctor finds for this instance (no network: the command probes collectors).
    fn inspect(&self) -> Inspection;
    /// `inspect`, also reading the logs given with `doctor --log`.
    fn inspect_logs(&self, _logs: &[PathBuf]) -> Inspection {
        self.inspect()
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

/// An install plan with what to tell the operator around it.
pub struct InstallPlan {
    pub plan: Plan,
    /// The `--method` used, recorded in the ledger.
    pub method: String,
    pub next_steps: Vec<String>,
    pub warnings: Vec<String>,
}

/// Every runtime instance detection finds, in a stable order.
pub fn detect_all(host: &Host) -> Vec<Box<dyn Runtime>> {
    let mut found: Vec<Box<dyn Runtime>> = Vec::new();
    found.extend(
        tomcat::detect(host)
            .into_iter()
            .map(|t| Box::new(t) as Box<dyn Runtime>),
    );
    found.extend(
        python::detect(host)
            .into_iter()
            .map(|p| Box::new(p) as Box<dyn Runtime>),
    );
    found.extend(
        infra::detect(host)
            .into_iter()
            .map(|i| Box::new(i) as Box<dyn Runtime>),
    );
    found.extend(
        php::detect(host)
            .into_iter()
            .map(|p| Box::new(p) as Box<dyn Runtime>),
    );
    found
}

/// The instance the target flags name, or the only one detection finds.
pub fn resolve(target: &TargetSettings, host: &Host) -> Result<Box<dyn Runtime>> {
    let kind = target.runtime;
    // PHP installs every PHP found (or each --php-bin) together.
    if kind == Some(RuntimeKind::Php) || !target.php_bins.is_empty() {
        return Ok(Box::new(php::resolve(target, host)?));
    }
    // Infra has one fixed home: no detection needed to pick it.
    if target.is_empty() && kind != Some(RuntimeKind::Infra) {
        let wanted = kind.map(kind_name);
        let found: Vec<Box<dyn Runtime>> = detect_all(host)
            .into_iter()
            .filter(|r| wanted.is_none_or(|w| w == r.kind()))
            .collect();
        return pick_one(found);
    }
    match kind {
        None | Some(RuntimeKind::Tomcat) => Ok(Box::new(tomcat::resolve(target, host)?)),
        Some(RuntimeKind::Python) => Ok(Box::new(python::resolve(target, host)?)),
        Some(RuntimeKind::Infra) => Ok(Box::new(infra::resolve(target, host)?)),
        Some(other) => Err(unsupported(other)),
    }
}

pub fn kind_name(kind: RuntimeKind) -> &'static str {
    match kind {
        RuntimeKind::Tomcat => "tomcat",
        RuntimeKind::Jboss => "jboss",
        RuntimeKind::Wildfly => "wildfly",
        RuntimeKind::Weblogic => "weblogic",
        RuntimeKind::Websphere => "websphere",
        RuntimeKind::Jeus => "jeus",
        RuntimeKind::Jetty => "jetty",
        RuntimeKind::Resin => "resin",
        RuntimeKind::Springboot => "springboot",
        RuntimeKind::Php => "php",
        RuntimeKind::Python => "python",
        RuntimeKind::Infra => "infra",
    }
}

/// Runtimes whose support is not built yet get a clear refusal, not a guess.
pub fn unsupported(kind: RuntimeKind) -> Error {
    Error::usage(
        format!(
            "--runtime {}: not supported by this version yet",
            kind_name(kind)
        ),
        "supported now: --runtime tomcat, php, python, infra",
    )
}

fn pick_one(mut found: Vec<Box<dyn Runtime>>) -> Result<Box<dyn Runtime>> {
    match found.len() {
        0 => Err(Error::usage(
            "no supported runtime found (none running, no Tomcat in /usr/share, /opt, /usr/local, /srv, no PHP)",
            "give --home (and --base if it differs), or --pid of the running server",
        )),
        1 => Ok(found.remove(0)),
        _ => {
            let mut list: Vec<String> = Vec::new();
            for selector in found.iter().map(|r| r.selector()) {
                if !list.contains(&selector) {
                    list.push(selector);
                }
            }
            Err(Error::usage(
                format!(
                    "{} runtimes found; choose one: {}",
                    found.len(),
                    list.join(" | ")
                ),
                "add --runtime/--home/--base (or --pid) to pick the one to change",
            ))
        }
    }
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
    pub runtime: String,
    pub version: Option<String>,
    pub home: PathBuf,
    pub base: Option<PathBuf>,
    pub pid: Option<u32>,
    pub user: Option<String>,
    pub agent: AgentState,
    pub details: BTreeMap<String, serde_json::Value>,
}
