//! IBM WebSphere Application Server (traditional). The Generic JVM arguments are the
//! `genericJvmArguments` attribute of `jvmEntries` in each server's
//! `config/cells/*/nodes/*/servers/*/server.xml`: edited in place (the attribute's other bytes,
//! every other attribute and line stay), with `-Dwhatap.port`, the class loader's
//! `alwaysAllowedPackages` and (when the server sets one) the OSGi boot delegation merged.
//! `properties/server.policy` gets the guide's grant block. The equivalent wsadmin command is
//! printed for operators who must go through the console.

use crate::detect::Host;
use crate::detect::process::{self, Process};
use crate::edit::xml::{self, Insertion};
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::target::canonical;
use crate::plan::{Validation, edits};
use crate::runtimes::instance::{Entry, InstallPlan, JAVA_SELECTORS, boxed};
use crate::runtimes::java::agent::{self, BlockScan, FoundBlock};
use crate::runtimes::java::{self, Description, JavaServer};
use crate::runtimes::kind::RuntimeKind;
use crate::settings::{InstallSettings, TargetSettings};
use std::fs;
use std::path::{Path, PathBuf};

pub const ENTRY: Entry = Entry {
    kind: RuntimeKind::Websphere,
    detect: |host| boxed(detect(host)),
    resolve: |target, host| Ok(Box::new(resolve(target, host)?)),
    runs_in: Some(|p| from_process(p).is_some()),
    is_home: Some(is_home),
    needs_no_target: false,
    selectors: JAVA_SELECTORS,
};

const ALLOWED: &str = "-Dcom.ibm.ws.classloader.server.alwaysAllowedPackages=";
const BOOTDELEGATION: &str = "-Dorg.osgi.framework.bootdelegation=";
/// Server processes that are not application servers.
const NOT_APP_SERVERS: &[&str] = &["nodeagent", "dmgr"];

/// One application server of the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub cell: String,
    pub node: String,
    pub name: String,
    pub xml: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Websphere {
    /// The profile directory (USER_INSTALL_ROOT).
    pub profile: PathBuf,
    pub servers: Vec<Server>,
    pub process: Option<Process>,
}

fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Every application server's server.xml in a profile.
fn servers(profile: &Path) -> Vec<Server> {
    let mut found = Vec::new();
    let cells = profile.join("config/cells");
    for cell in dir_names(&cells) {
        let nodes = cells.join(&cell).join("nodes");
        for node in dir_names(&nodes) {
            let dir = nodes.join(&node).join("servers");
            for name in dir_names(&dir) {
                let xml = dir.join(&name).join("server.xml");
                if xml.is_file() && !NOT_APP_SERVERS.contains(&name.as_str()) {
                    found.push(Server {
                        cell: cell.clone(),
                        node: node.clone(),
                        name,
                        xml,
                    });
                }
            }
        }
    }
    found
}

fn is_home(dir: &Path) -> bool {
    !servers(dir).is_empty()
}

fn build(profile: &Path, server: Option<&str>, process: Option<Process>) -> Result<Websphere> {
    let profile = canonical(profile);
    let mut all = servers(&profile);
    if let Some(name) = server {
        all.retain(|s| s.name == name);
    }
    if all.is_empty() {
        return Err(no_server(&profile));
    }
    Ok(Websphere {
        profile,
        servers: all,
        process,
    })
}

/// A WebSphere server JVM: `-Duser.install.root` is the profile; the server name is the last
/// argument of `com.ibm.ws.runtime.WsServer CONFIG CELL NODE SERVER`.
pub fn from_process(p: &Process) -> Option<Websphere> {
    let at = p
        .args
        .iter()
        .position(|a| a == "com.ibm.ws.runtime.WsServer")?;
    let profile = p.system_property("user.install.root")?;
    let server = p.args.get(at + 4).map(String::as_str);
    build(Path::new(profile), server, Some(p.clone())).ok()
}

pub fn detect(host: &Host) -> Vec<Websphere> {
    host.java_processes().filter_map(from_process).collect()
}

const POINTING: java::Pointing = java::Pointing {
    holds: || msg!("holds-websphere"),
    pid_not_it: |pid| {
        Error::usage(
            msg!("websphere-pid-not-it", pid = pid),
            msg!("websphere-pid-not-it-hint"),
        )
    },
    not_home: |profile| no_server(profile),
    home_required: Some(|| {
        Error::usage(
            msg!("websphere-home-required"),
            msg!("websphere-home-required-hint"),
        )
    }),
};

fn no_server(profile: &Path) -> Error {
    Error::usage(
        msg!("websphere-no-server", path = profile.display()),
        msg!("websphere-no-server-hint"),
    )
}

/// `--home PROFILE`, and `--base .../servers/NAME` for one server of it.
pub fn resolve(target: &TargetSettings, host: &Host) -> Result<Websphere> {
    let profile = match java::pointed(host, target, from_process, is_home, &POINTING)? {
        Ok(running) => return Ok(running),
        Err(profile) => profile,
    };
    let server = target
        .base
        .as_ref()
        .and_then(|b| b.file_name())
        .map(|n| n.to_string_lossy().into_owned());
    let mut ws = build(profile, server.as_deref(), None)?;
    // --server: those application servers of the profile (each must be one).
    let names: Vec<String> = ws.servers.iter().map(|s| s.name.clone()).collect();
    let chosen = java::chosen_servers(&names, None, &target.servers)?;
    ws.servers.retain(|s| chosen.contains(&s.name));
    ws.process =
        java::running(host, from_process, |w| w.profile == ws.profile).and_then(|w| w.process);
    Ok(ws)
}

/// A `-Dname=value` word in the generic arguments: the value's span (relative to `args`).
fn option_value(args: &str, prefix: &str) -> Option<(usize, usize)> {
    let mut offset = 0;
    let mut found = None;
    for word in args.split(' ') {
        if let Some(value) = word.strip_prefix(prefix) {
            let start = offset + prefix.len();
            found = Some((start, start + value.len()));
        }
        offset += word.len() + 1;
    }
    found
}

/// The insertions into one server.xml's `genericJvmArguments`, and the attribute's new value.
pub fn jvm_insertions(content: &[u8], agent: &str) -> Result<(Vec<Insertion>, Option<String>)> {
    let all = xml::elements(content).map_err(|e| {
        Error::refused(
            msg!("xml-not-well-formed", file = "server.xml", error = e),
            msg!("xml-not-well-formed-hint", runtime = "WebSphere"),
        )
    })?;
    let Some(jvm) = all.iter().find(|e| e.name == "jvmEntries") else {
        return Err(Error::refused(
            msg!("websphere-no-jvm-entries"),
            msg!("websphere-no-jvm-entries-hint"),
        ));
    };
    let Some(span) = xml::attribute_value(content, jvm, "genericJvmArguments") else {
        // No attribute yet: a new one at the end of the start tag.
        let tag_end = if jvm.empty {
            jvm.open_end - 2
        } else {
            jvm.open_end - 1
        };
        let value = format!("{agent} {ALLOWED}whatap");
        return Ok((
            vec![Insertion {
                at: tag_end,
                text: format!(" genericJvmArguments=\"{}\"", xml::escape(&value)),
                replace: 0,
            }],
            Some(value),
        ));
    };
    let current = String::from_utf8_lossy(&content[span.clone()]).into_owned();
    let has_agent = current
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("-javaagent:"))
        .any(process::is_whatap_agent);
    if has_agent {
        if current.contains(agent) {
            return Ok((Vec::new(), None));
        }
        return Err(Error::refused(
            msg!("websphere-agent-present", current = current),
            msg!("agent-present-hint"),
        ));
    }
    // Offsets inside the attribute value; the same splices give the new value for wsadmin.
    let mut inside = Vec::new();
    let mut added = format!(" {agent}");
    match option_value(&current, ALLOWED) {
        Some((start, end)) => {
            let packages = &current[start..end];
            if packages != "*" && !packages.split(',').any(|p| p == "whatap") {
                inside.push(Insertion {
                    at: end,
                    text: ",whatap".to_string(),
                    replace: 0,
                });
            }
        }
        None => added.push_str(&format!(" {ALLOWED}whatap")),
    }
    if let Some((start, end)) = option_value(&current, BOOTDELEGATION) {
        let packages = &current[start..end];
        if packages != "*" && !packages.split(',').any(|p| p.starts_with("whatap")) {
            inside.push(Insertion {
                at: end,
                text: ",whatap.*".to_string(),
                replace: 0,
            });
        }
    }
    if current.trim().is_empty() {
        added = added.trim_start().to_string();
    }
    // Before trailing blanks, so the value keeps its own layout.
    inside.push(Insertion {
        at: current.trim_end().len(),
        text: added,
        replace: 0,
    });
    let value = String::from_utf8_lossy(&xml::splice(current.as_bytes(), &inside)).into_owned();
    let insertions = inside
        .into_iter()
        .map(|i| Insertion {
            at: span.start + i.at,
            text: xml::escape(&i.text),
            replace: 0,
        })
        .collect();
    Ok((insertions, Some(value)))
}

/// The guide's grant block for the agent's directory, appended once.
pub fn policy_insertions(content: &[u8], whatap_home: &Path) -> Vec<Insertion> {
    let code_base = format!("grant codeBase \"file:{}/-\"", whatap_home.display());
    if String::from_utf8_lossy(content).contains(&code_base) {
        return Vec::new();
    }
    let eol = xml::newline(content);
    let block = [
        "// WhaTap agent: added by `whatap install`; remove with `whatap uninstall`.",
        &code_base,
        "{",
        "   permission java.security.AllPermission;",
        "};",
    ]
    .join(eol);
    let text = if content.is_empty() || content.ends_with(b"\n") {
        format!("{block}{eol}")
    } else {
        format!("{eol}{block}")
    };
    vec![Insertion {
        at: content.len(),
        text,
        replace: 0,
    }]
}

fn wsadmin_command(profile: &Path, server: &Server, value: &str) -> String {
    format!(
        "{}/bin/wsadmin.sh -lang jython -c \"AdminConfig.modify(AdminConfig.list('JavaVirtualMachine', AdminConfig.getid('/Cell:{}/Node:{}/Server:{}/')), [['genericJvmArguments', '{}']])\" -c \"AdminConfig.save()\"",
        profile.display(),
        server.cell,
        server.node,
        server.name,
        value.replace('\'', "\\'")
    )
}

impl Websphere {
    fn scan(&self) -> Vec<BlockScan> {
        let mut found = Vec::new();
        for server in &self.servers {
            let Ok(content) = crate::plan::target::peek(&server.xml) else {
                continue;
            };
            for (i, line) in String::from_utf8_lossy(&content).lines().enumerate() {
                let has = line
                    .split(|c: char| c.is_whitespace() || c == '"')
                    .filter_map(|w| w.strip_prefix("-javaagent:"))
                    .any(process::is_whatap_agent);
                if has {
                    found.push(Ok(FoundBlock {
                        file: server.xml.clone(),
                        line: i + 1,
                        inner: line
                            .split('"')
                            .filter(|w| w.contains("-javaagent:"))
                            .map(str::to_string)
                            .collect(),
                    }));
                }
            }
        }
        found
    }
}

impl JavaServer for Websphere {
    const KIND: RuntimeKind = RuntimeKind::Websphere;

    fn target(&self) -> PathBuf {
        self.profile.clone()
    }

    fn process(&self) -> Option<&Process> {
        self.process.as_ref()
    }

    fn describe(&self) -> Description {
        let names: Vec<&str> = self.servers.iter().map(|s| s.name.as_str()).collect();
        Description {
            details: [("servers".to_string(), names.join(","))].into(),
            ..Description::home(&self.profile)
        }
    }

    fn scan_blocks(&self) -> Vec<BlockScan> {
        self.scan()
    }

    /// `logs/<server>/SystemOut.log` and `SystemErr.log` of each server.
    fn log_files(&self) -> Vec<PathBuf> {
        let dirs: Vec<PathBuf> = self
            .servers
            .iter()
            .map(|s| self.profile.join("logs").join(&s.name))
            .collect();
        java::logs_in(&dirs, |n| {
            n.starts_with("SystemOut") || n.starts_with("SystemErr")
        })
    }

    fn restart_hint(&self) -> String {
        let commands: Vec<String> = self
            .servers
            .iter()
            .map(|s| {
                let bin = self.profile.join("bin");
                format!(
                    "{stop} {name} && {start} {name}",
                    stop = bin.join("stopServer.sh").display(),
                    start = bin.join("startServer.sh").display(),
                    name = s.name
                )
            })
            .collect();
        msg!("websphere-restart", commands = commands.join("; "))
    }

    fn plan_install(&self, settings: &InstallSettings, dist: Option<&Path>) -> Result<InstallPlan> {
        if settings.method.is_some() || settings.latest_jar {
            return Err(Error::usage(
                msg!("websphere-fixed-jar"),
                msg!("websphere-fixed-jar-hint"),
            ));
        }
        let owner = agent::runtime_owner(
            self.process.as_ref(),
            &[self.profile.join("logs"), self.profile.clone()],
        );
        let (spec, agent, roots, mut plan) =
            agent::fixed_agent_plan(settings, dist, &self.profile, owner)?;
        let mut next_steps = vec![self.restart_hint()];
        for server in &self.servers {
            let mut value = None;
            plan.edits.push(edits::splice(
                &server.xml,
                &roots,
                &settings.recorded,
                |content| {
                    let (insertions, new_value) = jvm_insertions(content, &agent)?;
                    value = new_value;
                    Ok(insertions)
                },
                Validation::Xml,
            )?);
            if let Some(value) = value {
                next_steps.push(msg!(
                    "websphere-wsadmin",
                    server = server.name,
                    command = wsadmin_command(&self.profile, server, &value)
                ));
            }
        }
        let mut warnings = Vec::new();
        // A managed node: the deployment manager owns the master configuration and the next
        // node synchronization puts its server.xml back over this one.
        for server in &self.servers {
            let node = server.xml.parent().and_then(Path::parent);
            if node.is_some_and(|servers| servers.join("nodeagent").is_dir()) {
                warnings.push(msg!(
                    "websphere-node-sync",
                    server = server.name,
                    node = server.node,
                    cell = server.cell
                ));
            }
        }
        let policy = self.profile.join("properties/server.policy");
        if policy.is_file() {
            let home = spec.whatap_home.clone();
            plan.edits.push(edits::splice(
                &policy,
                &roots,
                &settings.recorded,
                |content| Ok(policy_insertions(content, &home)),
                Validation::None,
            )?);
        } else {
            warnings.push(msg!(
                "websphere-policy-missing",
                path = policy.display(),
                home = spec.whatap_home.display()
            ));
        }
        Ok(InstallPlan {
            plan,
            method: "server-xml".to_string(),
            next_steps,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &[u8] = b"<process:Server xmi:version=\"2.0\" xmlns:xmi=\"http://www.omg.org/XMI\" xmlns:process=\"http://www.ibm.com/websphere/appserver/schemas/5.0/process.xmi\">\r\n  <processDefinitions xmi:id=\"JavaProcessDef_1\">\r\n    <jvmEntries xmi:id=\"JavaVirtualMachine_1\" verboseModeGarbageCollection=\"false\" genericJvmArguments=\"-Xquickstart -Dorg.osgi.framework.bootdelegation=com.ibm.*\" disableJIT=\"false\"/>\r\n  </processDefinitions>\r\n</process:Server>\r\n";

    #[test]
    fn generic_arguments_are_merged_in_place() {
        let (insertions, value) = jvm_insertions(
            XML,
            "-javaagent:/w/whatap.agent.tracer-1.jar -Dwhatap.port=9080",
        )
        .unwrap();
        let out = xml::splice(XML, &insertions);
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.contains("genericJvmArguments=\"-Xquickstart -Dorg.osgi.framework.bootdelegation=com.ibm.*,whatap.* -javaagent:/w/whatap.agent.tracer-1.jar -Dwhatap.port=9080 -Dcom.ibm.ws.classloader.server.alwaysAllowedPackages=whatap\" disableJIT=\"false\"/>"), "{text}");
        assert_eq!(
            value.unwrap(),
            "-Xquickstart -Dorg.osgi.framework.bootdelegation=com.ibm.*,whatap.* -javaagent:/w/whatap.agent.tracer-1.jar -Dwhatap.port=9080 -Dcom.ibm.ws.classloader.server.alwaysAllowedPackages=whatap"
        );
        let (again, _) = jvm_insertions(
            &out,
            "-javaagent:/w/whatap.agent.tracer-1.jar -Dwhatap.port=9080",
        )
        .unwrap();
        assert!(again.is_empty());
        let (back, _) = xml::remove_fragments(
            &out,
            &insertions.into_iter().map(|i| i.text).collect::<Vec<_>>(),
        )
        .unwrap();
        assert_eq!(back, XML);
    }

    #[test]
    fn star_values_are_left_alone_and_a_missing_attribute_is_added() {
        let star = b"<a><jvmEntries genericJvmArguments=\"-Dcom.ibm.ws.classloader.server.alwaysAllowedPackages=* -Dorg.osgi.framework.bootdelegation=*\"/></a>";
        let (_, value) = jvm_insertions(star, "-javaagent:/w/a.jar").unwrap();
        assert_eq!(
            value.unwrap(),
            "-Dcom.ibm.ws.classloader.server.alwaysAllowedPackages=* -Dorg.osgi.framework.bootdelegation=* -javaagent:/w/a.jar"
        );
        let none = b"<a><jvmEntries xmi:id=\"J\"></jvmEntries></a>";
        let (insertions, _) = jvm_insertions(none, "-javaagent:/w/a.jar").unwrap();
        assert_eq!(
            xml::splice(none, &insertions),
            b"<a><jvmEntries xmi:id=\"J\" genericJvmArguments=\"-javaagent:/w/a.jar -Dcom.ibm.ws.classloader.server.alwaysAllowedPackages=whatap\"></jvmEntries></a>"
        );
    }

    #[test]
    fn detects_a_server_process() {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/websphere/AppSrv01");
        let p = Process {
            pid: 5,
            uid: 0,
            gid: 0,
            args: vec![
                "/opt/IBM/WebSphere/AppServer/java/8.0/bin/java".into(),
                format!("-Duser.install.root={}", fixture.display()),
                "com.ibm.wsspi.bootstrap.WSPreLauncher".into(),
                "com.ibm.ws.runtime.WsServer".into(),
                format!("{}/config", fixture.display()),
                "cell01".into(),
                "node01".into(),
                "server1".into(),
            ],
        };
        let ws = from_process(&p).expect("a WebSphere");
        assert_eq!(ws.servers.len(), 1);
        assert_eq!(ws.servers[0].name, "server1");
    }
}
