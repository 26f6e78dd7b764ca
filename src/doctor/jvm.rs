//! Checks of a live JVM that runs (or should run) the agent: its options and its sockets.

use super::Fact;
use crate::detect::process::{self, Process};
use crate::net::sockets::{self, Proto};
use std::fs;
use std::path::{Path, PathBuf};

/// The JDK a process runs from: `/proc/PID/exe` is `<java home>/bin/java` (or `jre/bin/java`).
fn java_home(pid: u32) -> Option<PathBuf> {
    let exe = fs::read_link(process::proc_root().join(pid.to_string()).join("exe")).ok()?;
    let bin = exe.parent()?;
    let home = bin.parent()?;
    if home.file_name().is_some_and(|n| n == "jre") {
        return home.parent().map(Path::to_path_buf);
    }
    Some(home.to_path_buf())
}

/// IBM J9 / Eclipse OpenJ9, from the JDK's `release` file.
pub fn is_j9(java_home: &Path) -> bool {
    fs::read_to_string(java_home.join("release")).is_ok_and(|release| {
        let release = release.to_ascii_lowercase();
        release.contains("openj9") || release.contains("implementor=\"ibm")
    })
}

/// Option value without the `-D` prefix, and whether it names `whatap` (or is `*`).
fn allows_whatap(value: &str) -> bool {
    value
        .split(',')
        .map(str::trim)
        .any(|p| p == "*" || p.starts_with("whatap"))
}

/// Process-level facts for a JVM; `agent_on_command_line` says whether a WhaTap -javaagent is
/// there, `configured` whether the startup files set one up.
pub fn inspect(
    label: &str,
    p: &Process,
    agent_on_command_line: bool,
    configured: bool,
) -> Vec<Fact> {
    let j9 = java_home(p.pid).is_some_and(|home| is_j9(&home));
    inspect_vm(label, p, agent_on_command_line, configured, j9)
}

fn inspect_vm(
    label: &str,
    p: &Process,
    agent_on_command_line: bool,
    configured: bool,
    j9: bool,
) -> Vec<Fact> {
    let mut facts = Vec::new();
    if j9 && configured && !agent_on_command_line {
        facts.push(Fact::new(
            "ibm-jdk-attach",
            label,
            crate::msg!("evidence-j9-without-javaagent", pid = p.pid),
        ));
    }
    if !agent_on_command_line {
        return facts;
    }
    if let Some(value) = p.system_property("org.osgi.framework.bootdelegation") {
        if !allows_whatap(value) {
            facts.push(Fact::new(
                "osgi-bootdelegation",
                label,
                format!("PID {}: -Dorg.osgi.framework.bootdelegation={value}", p.pid),
            ));
        }
    }
    let websphere = p
        .args
        .iter()
        .any(|a| a.starts_with("com.ibm.ws.") || a.starts_with("com.ibm.wsspi."));
    if websphere {
        let value = p.system_property("com.ibm.ws.classloader.server.alwaysAllowedPackages");
        if !value.is_some_and(allows_whatap) {
            facts.push(Fact::new(
                "websphere-allowed-packages",
                label,
                match value {
                    Some(value) => format!(
                        "PID {}: -Dcom.ibm.ws.classloader.server.alwaysAllowedPackages={value}",
                        p.pid
                    ),
                    None => crate::msg!("evidence-websphere-packages-unset", pid = p.pid),
                },
            ));
        }
    }
    if p.system_property("whatap.port").is_none()
        && sockets::ports_of(&process::proc_root(), Proto::Tcp, p.pid).is_empty()
    {
        facts.push(Fact::new(
            "port-not-detected",
            label,
            crate::msg!("evidence-no-port", pid = p.pid),
        ));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(args: &[&str]) -> Process {
        Process {
            pid: std::process::id(),
            uid: 0,
            gid: 0,
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    fn ids(facts: &[Fact]) -> Vec<&str> {
        facts.iter().map(|f| f.id).collect()
    }

    #[test]
    fn osgi_and_websphere_options_must_let_whatap_through() {
        let _listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let ws = process(&[
            "java",
            "-Dorg.osgi.framework.bootdelegation=com.ibm.*",
            "com.ibm.ws.runtime.WsServer",
        ]);
        assert_eq!(
            ids(&inspect("t", &ws, true, true)),
            ["osgi-bootdelegation", "websphere-allowed-packages"]
        );
        let ok = process(&[
            "java",
            "-Dorg.osgi.framework.bootdelegation=com.ibm.*,whatap.*",
            "-Dcom.ibm.ws.classloader.server.alwaysAllowedPackages=*",
            "com.ibm.ws.runtime.WsServer",
        ]);
        assert!(inspect("t", &ok, true, true).is_empty());
        // Without the agent on the command line these options do not matter.
        assert!(inspect("t", &ws, false, false).is_empty());
    }

    #[test]
    fn j9_without_javaagent_is_flagged() {
        let p = process(&["java", "-Dwhatap.port=8080", "Main"]);
        assert_eq!(
            ids(&inspect_vm("t", &p, false, true, true)),
            ["ibm-jdk-attach"]
        );
        assert!(inspect_vm("t", &p, false, true, false).is_empty());
        let with_agent = process(&[
            "java",
            "-javaagent:/w/whatap.agent.tracer-2.jar",
            "-Dwhatap.port=8080",
            "Main",
        ]);
        assert!(inspect_vm("t", &with_agent, true, true, true).is_empty());
    }

    #[test]
    fn j9_is_read_from_the_release_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("release"),
            "IMPLEMENTOR=\"Eclipse OpenJ9\"\nJVM_VARIANT=\"Openj9\"\n",
        )
        .unwrap();
        assert!(is_j9(dir.path()));
        fs::write(dir.path().join("release"), "IMPLEMENTOR=\"Debian\"\n").unwrap();
        assert!(!is_j9(dir.path()));
    }
}
