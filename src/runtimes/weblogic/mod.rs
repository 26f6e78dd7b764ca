//! Oracle WebLogic: the domain's `bin/startWebLogic.sh` (`.cmd` on Windows trees), the block
//! placed right after it sources setDomainEnv (which rebuilds JAVA_OPTIONS), or
//! `bin/setDomainEnv.sh` when asked (`--method set-domain-env`: every server of the domain,
//! node manager starts included).

use crate::detect::Host;
use crate::detect::process::Process;
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
use std::path::{Path, PathBuf};

pub const ENTRY: Entry = Entry {
    kind: RuntimeKind::Weblogic,
    detect: |host| boxed(detect(host)),
    resolve: |target, host| Ok(Box::new(resolve(target, host)?)),
    runs_in: Some(|p| from_process(p).is_some()),
    is_home: Some(is_home),
    needs_no_target: false,
    selectors: JAVA_SELECTORS,
};

const MAIN: &str = "weblogic.Server";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    StartWebLogic,
    SetDomainEnv,
    /// `bin/setUserOverrides.sh`, which setDomainEnv sources (12.1.2+): Oracle's place for a
    /// domain's own options, kept across domain upgrades and pack/unpack.
    SetUserOverrides,
}

const METHODS: &[(&str, Method)] = &[
    ("start-weblogic", Method::StartWebLogic),
    ("set-domain-env", Method::SetDomainEnv),
    ("set-user-overrides", Method::SetUserOverrides),
];

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
        vec![
            self.script("startWebLogic"),
            self.script("setDomainEnv"),
            self.script("setUserOverrides"),
        ]
    }

    /// The servers config.xml names, and its admin server (`AdminServer` when it says none).
    fn servers(&self) -> (Vec<String>, String) {
        let file = self.domain.join("config/config.xml");
        let content = crate::plan::target::peek(&file).unwrap_or_default();
        let all = crate::edit::xml::elements(&content).unwrap_or_default();
        let text = |e: &crate::edit::xml::Element| {
            String::from_utf8_lossy(e.text(&content)).trim().to_string()
        };
        let names = all
            .iter()
            .filter(|e| e.name == "server" && e.ancestors.len() == 1)
            .filter_map(|s| {
                crate::edit::xml::children(&all, s, "name")
                    .first()
                    .map(|n| text(n))
            })
            .collect();
        let admin = all
            .iter()
            .find(|e| e.name == "admin-server-name")
            .map(text)
            .unwrap_or_else(|| "AdminServer".to_string());
        (names, admin)
    }
}

fn is_home(dir: &Path) -> bool {
    dir.join("bin/startWebLogic.sh").is_file() || dir.join("bin/startWebLogic.cmd").is_file()
}

fn build(domain: &Path, process: Option<Process>) -> Weblogic {
    let domain = canonical(domain);
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

const POINTING: java::Pointing = java::Pointing {
    holds: || msg!("holds-weblogic"),
    pid_not_it: |pid| {
        Error::usage(
            msg!("weblogic-pid-not-it", pid = pid),
            msg!("weblogic-pid-not-it-hint"),
        )
    },
    not_home: |domain| {
        Error::usage(
            msg!("weblogic-not-home", path = domain.display()),
            msg!("weblogic-not-home-hint"),
        )
    },
    home_required: None,
};

pub fn resolve(target: &TargetSettings, host: &Host) -> Result<Weblogic> {
    let domain = match java::pointed(host, target, from_process, is_home, &POINTING)? {
        Ok(running) => return Ok(running),
        Err(domain) => domain,
    };
    let mut w = build(domain, None);
    w.process = java::running(host, from_process, |f| f.domain == w.domain).and_then(|f| f.process);
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

impl JavaServer for Weblogic {
    const KIND: RuntimeKind = RuntimeKind::Weblogic;

    fn target(&self) -> PathBuf {
        self.domain.clone()
    }

    fn process(&self) -> Option<&Process> {
        self.process.as_ref()
    }

    fn describe(&self) -> Description {
        Description::home(&self.domain)
    }

    fn startup_chain(&self) -> agent::Chain {
        self.startup_files()
            .into_iter()
            .map(|f| (f, self.style))
            .collect()
    }

    /// `servers/*/logs/`: each server's log and its stdout (`.out`, where the agent prints).
    fn log_files(&self) -> Vec<PathBuf> {
        java::logs_in(&[self.domain.join("servers/*/logs")], |n| {
            n.ends_with(".log") || n.ends_with(".out")
        })
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

    fn plan_install(&self, settings: &InstallSettings, dist: Option<&Path>) -> Result<InstallPlan> {
        let (method, method_name) = java::method(
            METHODS,
            settings.method.as_deref(),
            Method::StartWebLogic,
            |other| {
                Error::usage(
                    msg!("weblogic-method", method = other),
                    msg!("weblogic-method-hint"),
                )
            },
        )?;
        let spec = AgentSpec::resolve(settings, dist, &self.domain.join("whatap"), self.style)?;
        // Which servers: --server, else the managed ones (every server when the domain has
        // only its admin server); SERVER_NAME tells them apart when the scripts run.
        let (mut names, admin) = self.servers();
        if !names.contains(&admin) {
            names.push(admin.clone());
        }
        let chosen = java::chosen_servers(&names, Some(&admin), &settings.target.servers)?;
        let guard = (chosen.len() < names.len()).then_some(&chosen);
        // The names go into a script: nothing the shell or cmd.exe would read as syntax.
        let unsafe_name = |n: &&String| {
            !n.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        };
        if let Some(name) = guard.into_iter().flatten().find(unsafe_name) {
            return Err(Error::refused(
                msg!("weblogic-server-name-unsafe", server = name),
                msg!("weblogic-server-name-unsafe-hint"),
            ));
        }
        let (script, at) = match method {
            Method::StartWebLogic => {
                let script = self.script("startWebLogic");
                let content =
                    crate::plan::target::peek(&script).map_err(|e| Error::io(&script, e))?;
                (script, after_set_domain_env(&content))
            }
            Method::SetDomainEnv => (self.script("setDomainEnv"), InsertAt::End),
            Method::SetUserOverrides => {
                let env = self.script("setDomainEnv");
                let sources = crate::plan::target::peek(&env)
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains("setUserOverrides"));
                if !sources {
                    return Err(Error::refused(
                        msg!("weblogic-no-user-overrides", path = env.display()),
                        msg!("weblogic-no-user-overrides-hint"),
                    ));
                }
                (self.script("setUserOverrides"), InsertAt::End)
            }
        };
        let chain = self.startup_chain();
        let install = BlockInstall {
            script,
            chain: &chain,
            style: self.style,
            at,
            dirs: &[&self.domain],
            owner: agent::runtime_owner(
                self.process.as_ref(),
                &[self.domain.join("servers"), self.domain.clone()],
            ),
            shell: self.style == MarkerStyle::Shell,
        };
        let plan = agent::plan_block_install(&install, &spec, settings, dist, |spec| {
            let mut lines = agent::agent_block(
                self.style,
                "JAVA_OPTIONS",
                &spec.whatap_home,
                &spec.jar_name,
                settings.latest_jar,
                &spec.options,
            )?;
            if let Some(servers) = guard {
                server_guard(self.style, servers, &mut lines);
            }
            Ok(lines)
        })?;
        let mut warnings = vec![msg!("servers-chosen", servers = chosen.join(", "))];
        // Node Manager starts servers without the scripts unless StartScriptEnabled=true.
        let nm = self.domain.join("nodemanager/nodemanager.properties");
        if crate::plan::target::peek(&nm)
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains("StartScriptEnabled=false"))
        {
            warnings.push(msg!("weblogic-node-manager", path = nm.display()));
        }
        Ok(InstallPlan {
            plan,
            method: method_name.to_string(),
            next_steps: vec![self.restart_hint()],
            warnings,
        })
    }
}

/// Only the chosen servers run the block, told apart by SERVER_NAME: sh wraps its last line
/// in a `case`; cmd.exe (no `case`, and a parenthesized guard would expand JAVA_OPTIONS before
/// the block defines it) jumps over the block for any other server.
fn server_guard(style: MarkerStyle, servers: &[String], lines: &mut Vec<String>) {
    if style == MarkerStyle::Bat {
        let others: String = servers
            .iter()
            .map(|s| format!("if not \"%SERVER_NAME%\"==\"{s}\" "))
            .collect();
        lines.insert(1, format!("{others}goto whatap_other_server"));
        lines.push(":whatap_other_server".to_string());
    } else if let Some(last) = lines.last_mut() {
        *last = format!(
            "case \"${{SERVER_NAME}}\" in {}) {last} ;; esac",
            servers.join("|")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmd_guard_skips_the_block_for_other_servers() {
        let mut lines = vec!["rem ours".to_string(), "set X=1".to_string()];
        server_guard(
            MarkerStyle::Bat,
            &["ms1".to_string(), "ms2".to_string()],
            &mut lines,
        );
        assert_eq!(
            lines,
            [
                "rem ours",
                "if not \"%SERVER_NAME%\"==\"ms1\" if not \"%SERVER_NAME%\"==\"ms2\" goto whatap_other_server",
                "set X=1",
                ":whatap_other_server",
            ]
        );
    }

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
