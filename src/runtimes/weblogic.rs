//! Oracle WebLogic: the domain's `bin/startWebLogic.sh` (`.cmd` on Windows trees), the block
//! placed right after it sources setDomainEnv (which rebuilds JAVA_OPTIONS), or
//! `bin/setDomainEnv.sh` when asked (`--method set-domain-env`: every server of the domain,
//! node manager starts included).

use super::java::{self, AgentSpec, BlockInstall};
use super::{Detection, InstallPlan, Runtime};
use crate::detect::Host;
use crate::detect::process::Process;
use crate::doctor::{self, Inspection};
use crate::edit::eol::{line_body, split_lines};
use crate::edit::marker::{InsertAt, MarkerStyle};
use crate::error::{Error, Result};
use crate::msg;
use crate::settings::{InstallSettings, TargetSettings};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const NAME: &str = "weblogic";
const MAIN: &str = "weblogic.Server";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    StartWebLogic,
    SetDomainEnv,
}

#[derive(Debug, Clone)]
pub struct Weblogic {
    /// DOMAIN_HOME.
    pub domain: PathBuf,
    pub style: MarkerStyle,
    pub process: Option<Process>,
}

impl Weblogic {
    fn script(&self, stem: &str) -> PathBuf {
        let ext = if self.style == MarkerStyle::Bat {
            "cmd"
        } else {
            "sh"
        };
        self.domain.join("bin").join(format!("{stem}.{ext}"))
    }

    fn startup_files(&self) -> Vec<PathBuf> {
        vec![self.script("setDomainEnv"), self.script("startWebLogic")]
    }

    fn scan_blocks(&self) -> Vec<java::BlockScan> {
        java::scan_blocks(&self.startup_files(), self.style)
    }

    fn restart_hint(&self) -> String {
        let how = msg!(
            "weblogic-restart-how",
            script = self.script("startWebLogic").display()
        );
        match &self.process {
            Some(p) => msg!(
                "runtime-restart",
                runtime = "WebLogic",
                pid = p.pid,
                how = how
            ),
            None => msg!("runtime-start", runtime = "WebLogic", how = how),
        }
    }
}

pub fn is_home(dir: &Path) -> bool {
    dir.join("bin/startWebLogic.sh").is_file() || dir.join("bin/startWebLogic.cmd").is_file()
}

fn build(domain: &Path, process: Option<Process>) -> Weblogic {
    let domain = java::canonical(domain);
    let style = if domain.join("bin/startWebLogic.sh").is_file() {
        MarkerStyle::Shell
    } else {
        MarkerStyle::Bat
    };
    Weblogic {
        domain,
        style,
        process,
    }
}

/// A WebLogic server JVM; its domain from `-Ddomain.home` / `-DINSTANCE_HOME` when given.
pub fn from_process(p: &Process) -> Option<Weblogic> {
    if !p.args.iter().any(|a| a == MAIN) {
        return None;
    }
    let domain = p
        .system_property("domain.home")
        .or_else(|| p.system_property("INSTANCE_HOME"))?;
    Some(build(Path::new(domain), Some(p.clone())))
}

pub fn detect(host: &Host) -> Vec<Weblogic> {
    let mut found: Vec<Weblogic> = Vec::new();
    for w in host.java_processes().filter_map(from_process) {
        if !found.iter().any(|f| f.domain == w.domain) {
            found.push(w);
        }
    }
    found
}

pub fn resolve(target: &TargetSettings, host: &Host) -> Result<Weblogic> {
    if let Some(pid) = target.pid {
        return java::by_pid(pid, from_process, |pid| {
            Error::usage(
                msg!("weblogic-pid-not-it", pid = pid),
                msg!("weblogic-pid-not-it-hint"),
            )
        });
    }
    let Some(domain) = target.home.as_ref().or(target.base.as_ref()) else {
        return Err(Error::Internal(
            "resolve without a target: use runtimes::resolve".into(),
        ));
    };
    java::check_dir("--home", domain, &msg!("holds-weblogic"))?;
    if !is_home(domain) {
        return Err(Error::usage(
            msg!("weblogic-not-home", path = domain.display()),
            msg!("weblogic-not-home-hint"),
        ));
    }
    let mut w = build(domain, None);
    w.process = host
        .java_processes()
        .filter_map(from_process)
        .find(|f| f.domain == w.domain)
        .and_then(|f| f.process);
    Ok(w)
}

/// Just after the line that sources setDomainEnv: it sets JAVA_OPTIONS, ours must come later.
fn after_set_domain_env(content: &[u8]) -> InsertAt {
    split_lines(content)
        .iter()
        .position(|l| {
            let text = String::from_utf8_lossy(line_body(l));
            let t = text.trim_start().to_ascii_lowercase();
            t.contains("setdomainenv")
                && (t.starts_with(". ") || t.starts_with("call ") || t.starts_with("source "))
        })
        .map_or(InsertAt::AfterHeader, |i| InsertAt::BeforeLine(i + 1))
}

fn plan_install(w: &Weblogic, settings: &InstallSettings) -> Result<InstallPlan> {
    let method = match settings.method.as_deref() {
        None | Some("start-weblogic") => Method::StartWebLogic,
        Some("set-domain-env") => Method::SetDomainEnv,
        Some(other) => {
            return Err(Error::usage(
                msg!("weblogic-method", method = other),
                msg!("weblogic-method-hint"),
            ));
        }
    };
    let spec = AgentSpec::resolve(settings, &w.domain.join("whatap"), w.style)?;
    let (script, at) = match method {
        Method::StartWebLogic => {
            let script = w.script("startWebLogic");
            let content = crate::plan::target::peek(&script).map_err(|e| Error::io(&script, e))?;
            (script, after_set_domain_env(&content))
        }
        Method::SetDomainEnv => (w.script("setDomainEnv"), InsertAt::End),
    };
    let startup_files = w.startup_files();
    let install = BlockInstall {
        script,
        startup_files: &startup_files,
        style: w.style,
        at,
        dirs: &[&w.domain],
        owner: java::runtime_owner(
            w.process.as_ref(),
            &[w.domain.join("servers"), w.domain.clone()],
        ),
        shell: w.style == MarkerStyle::Shell,
    };
    let plan = java::plan_block_install(&install, &spec, settings, |spec| {
        java::agent_block(
            w.style,
            "JAVA_OPTIONS",
            &spec.whatap_home,
            &spec.jar_name,
            settings.latest_jar,
            &spec.options,
        )
    })?;
    Ok(InstallPlan {
        plan,
        method: match method {
            Method::StartWebLogic => "start-weblogic",
            Method::SetDomainEnv => "set-domain-env",
        }
        .to_string(),
        next_steps: vec![w.restart_hint()],
        warnings: Vec::new(),
    })
}

impl Runtime for Weblogic {
    fn kind(&self) -> &'static str {
        NAME
    }

    fn id(&self) -> String {
        format!("{NAME}:{}", self.domain.display())
    }

    fn target(&self) -> PathBuf {
        self.domain.clone()
    }

    fn detection(&self) -> Detection {
        java::detection(
            NAME,
            &self.domain,
            None,
            None,
            self.process.as_ref(),
            &self.scan_blocks(),
            BTreeMap::new(),
        )
    }

    fn plan_install(&self, settings: &InstallSettings) -> Result<InstallPlan> {
        plan_install(self, settings)
    }

    fn inspect(&self) -> Inspection {
        doctor::java::inspect(&doctor::java::JavaTarget {
            label: format!("{NAME} {}", self.domain.display()),
            blocks: self.scan_blocks(),
            process: self.process.as_ref(),
            restart: self.restart_hint(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_goes_after_set_domain_env() {
        let sh = b"#!/bin/sh\n# doc\nDOMAIN_HOME=/d\n. ${DOMAIN_HOME}/bin/setDomainEnv.sh $*\nSAVE_JAVA_OPTIONS=\"${JAVA_OPTIONS}\"\n";
        assert_eq!(after_set_domain_env(sh), InsertAt::BeforeLine(4));
        let cmd = b"@ECHO OFF\r\ncall \"%DOMAIN_HOME%\\bin\\setDomainEnv.cmd\" %*\r\n";
        assert_eq!(after_set_domain_env(cmd), InsertAt::BeforeLine(2));
    }

    #[test]
    fn detects_a_server_with_its_domain() {
        let p = Process {
            pid: 3,
            uid: 0,
            gid: 0,
            args: [
                "/jdk/bin/java",
                "-Dweblogic.Name=AdminServer",
                "-Ddomain.home=/nonexistent/base_domain",
                "weblogic.Server",
            ]
            .map(String::from)
            .to_vec(),
        };
        let w = from_process(&p).unwrap();
        assert_eq!(w.domain, Path::new("/nonexistent/base_domain"));
    }
}
