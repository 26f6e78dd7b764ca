//! One file per runtime: where its options live and what block goes there. The engine
//! (`edit`, `plan`, `apply`) does the writing.

pub mod attach;
pub mod infra;
pub mod java;
pub mod jboss;
pub mod jetty;
pub mod jeus;
pub mod php;
pub mod python;
pub mod resin;
pub mod springboot;
pub mod tomcat;
pub mod weblogic;
pub mod websphere;

use crate::cli::RuntimeKind;
use crate::detect::Host;
use crate::doctor::Inspection;
use crate::error::{Error, Result};
use crate::msg;
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
    found.extend(
        jboss::detect(host)
            .into_iter()
            .map(|j| Box::new(j) as Box<dyn Runtime>),
    );
    found.extend(
        jeus::detect(host)
            .into_iter()
            .map(|j| Box::new(j) as Box<dyn Runtime>),
    );
    found.extend(
        resin::detect(host)
            .into_iter()
            .map(|r| Box::new(r) as Box<dyn Runtime>),
    );
    found.extend(
        weblogic::detect(host)
            .into_iter()
            .map(|w| Box::new(w) as Box<dyn Runtime>),
    );
    found.extend(
        websphere::detect(host)
            .into_iter()
            .map(|w| Box::new(w) as Box<dyn Runtime>),
    );
    found.extend(
        springboot::detect(host)
            .into_iter()
            .map(|s| Box::new(s) as Box<dyn Runtime>),
    );
    found.extend(
        jetty::detect(host)
            .into_iter()
            .map(|j| Box::new(j) as Box<dyn Runtime>),
    );
    found
}

/// The runtime a `--home`/`--base`/`--pid` points at when `--runtime` is not given.
fn guess_kind(target: &TargetSettings) -> RuntimeKind {
    if target.unit.is_some() || target.start_script.is_some() {
        return RuntimeKind::Springboot;
    }
    if let Some(pid) = target.pid {
        let process = crate::detect::process::read(&crate::detect::process::proc_root(), pid);
        if process.as_ref().and_then(jetty::from_process).is_some() {
            return RuntimeKind::Jetty;
        }
        if process.as_ref().and_then(jboss::from_process).is_some() {
            return RuntimeKind::Jboss;
        }
        if process.as_ref().and_then(jeus::from_process).is_some() {
            return RuntimeKind::Jeus;
        }
        if process.as_ref().and_then(resin::from_process).is_some() {
            return RuntimeKind::Resin;
        }
        if process.as_ref().and_then(weblogic::from_process).is_some() {
            return RuntimeKind::Weblogic;
        }
        if process.as_ref().and_then(websphere::from_process).is_some() {
            return RuntimeKind::Websphere;
        }
        if process.as_ref().is_some_and(springboot::is_candidate) {
            return RuntimeKind::Springboot;
        }
        return RuntimeKind::Tomcat;
    }
    match target.home.as_ref().or(target.base.as_ref()) {
        Some(dir) if jetty::is_home(dir) => RuntimeKind::Jetty,
        Some(dir) if jboss::is_home(dir) => RuntimeKind::Jboss,
        Some(dir) if jeus::is_home(dir) => RuntimeKind::Jeus,
        Some(dir) if resin::is_home(dir) => RuntimeKind::Resin,
        Some(dir) if weblogic::is_home(dir) => RuntimeKind::Weblogic,
        Some(dir) if websphere::is_home(dir) => RuntimeKind::Websphere,
        _ => RuntimeKind::Tomcat,
    }
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
        let found: Vec<Box<dyn Runtime>> = detect_all(host)
            .into_iter()
            .filter(|r| kind.is_none_or(|k| kind_matches(k, r.kind())))
            .collect();
        return pick_one(found);
    }
    match kind.unwrap_or_else(|| guess_kind(target)) {
        RuntimeKind::Tomcat => Ok(Box::new(tomcat::resolve(target, host)?)),
        RuntimeKind::Jetty => Ok(Box::new(jetty::resolve(target, host)?)),
        RuntimeKind::Jboss | RuntimeKind::Wildfly => Ok(Box::new(jboss::resolve(target, host)?)),
        RuntimeKind::Jeus => Ok(Box::new(jeus::resolve(target, host)?)),
        RuntimeKind::Resin => Ok(Box::new(resin::resolve(target, host)?)),
        RuntimeKind::Weblogic => Ok(Box::new(weblogic::resolve(target, host)?)),
        RuntimeKind::Websphere => Ok(Box::new(websphere::resolve(target, host)?)),
        RuntimeKind::Springboot => Ok(Box::new(springboot::resolve(target, host)?)),
        RuntimeKind::Python => Ok(Box::new(python::resolve(target, host)?)),
        RuntimeKind::Infra => Ok(Box::new(infra::resolve(target, host)?)),
        RuntimeKind::Php => Ok(Box::new(php::resolve(target, host)?)),
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

/// Whether a runtime's `kind()` answers `--runtime kind` (WildFly is the modular JBoss).
pub fn kind_matches(kind: RuntimeKind, name: &str) -> bool {
    match kind {
        RuntimeKind::Wildfly => name == jboss::NAME,
        other => kind_name(other) == name,
    }
}

fn pick_one(mut found: Vec<Box<dyn Runtime>>) -> Result<Box<dyn Runtime>> {
    match found.len() {
        0 => Err(Error::usage(
            msg!("no-runtime-found"),
            msg!("no-runtime-found-hint"),
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
                msg!(
                    "runtimes-choose",
                    count = found.len(),
                    list = list.join(" | ")
                ),
                msg!("runtimes-choose-hint"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::process::Process;

    fn fixture(path: &str) -> String {
        format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))
    }

    fn process(pid: u32, args: Vec<String>) -> Process {
        Process {
            pid,
            uid: 0,
            gid: 0,
            args,
        }
    }

    /// Detection takes the process list as data: one fake `/proc` command line per runtime.
    #[test]
    fn every_runtime_is_detected_from_its_command_line() {
        let java = || "/usr/lib/jvm/java-17-openjdk-amd64/bin/java".to_string();
        let host = Host {
            processes: vec![
                process(
                    101,
                    vec![
                        java(),
                        format!("-Dcatalina.home={}", fixture("tomcat/tomcat9")),
                        "org.apache.catalina.startup.Bootstrap".into(),
                        "start".into(),
                    ],
                ),
                process(
                    102,
                    vec![
                        java(),
                        format!("-Djetty.home={}", fixture("jetty/jetty-9.4-tarball")),
                        "-jar".into(),
                        format!("{}/start.jar", fixture("jetty/jetty-9.4-tarball")),
                    ],
                ),
                process(
                    103,
                    vec![
                        java(),
                        "-jar".into(),
                        format!(
                            "{}/jboss-modules.jar",
                            fixture("jboss/wildfly-26.1.3.Final")
                        ),
                        "org.jboss.as.standalone".into(),
                    ],
                ),
                process(
                    104,
                    vec![
                        java(),
                        format!("-Djeus.home={}", fixture("jeus/jeus8")),
                        "-Djeus.domain.name=jeus_domain".into(),
                        "jeus.server.Server".into(),
                    ],
                ),
                process(
                    105,
                    vec![
                        java(),
                        format!("-Dresin.home={}", fixture("resin/resin-4.0.66")),
                        "com.caucho.server.resin.Resin".into(),
                    ],
                ),
                process(
                    106,
                    vec![
                        java(),
                        format!("-Ddomain.home={}", fixture("weblogic/base_domain")),
                        "weblogic.Server".into(),
                    ],
                ),
                process(
                    107,
                    vec![
                        java(),
                        format!("-Duser.install.root={}", fixture("websphere/AppSrv01")),
                        "com.ibm.ws.runtime.WsServer".into(),
                        "config".into(),
                        "cell01".into(),
                        "node01".into(),
                        "server1".into(),
                    ],
                ),
            ],
        };
        let mut found: Vec<(u32, &str)> = detect_all(&host)
            .iter()
            .filter_map(|r| Some((r.detection().pid?, r.kind())))
            .collect();
        found.sort();
        assert_eq!(
            found,
            [
                (101, "tomcat"),
                (102, "jetty"),
                (103, "jboss"),
                (104, "jeus"),
                (105, "resin"),
                (106, "weblogic"),
                (107, "websphere"),
            ]
        );
    }
}
