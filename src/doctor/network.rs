//! Network facts: collectors that cannot be reached, and why.

use super::{CollectorRef, Fact};
use crate::detect::process;
use crate::net::sockets::{self, Proto};
use crate::net::{collector, firewall};
use std::path::Path;
use std::time::Duration;

/// Probes every distinct collector once, in parallel, under `timeout` overall.
pub fn inspect(collectors: &[CollectorRef], timeout: Duration) -> Vec<Fact> {
    let mut endpoints: Vec<(String, u16)> = collectors
        .iter()
        .map(|c| (c.host.clone(), c.port))
        .collect();
    endpoints.sort();
    endpoints.dedup();
    if endpoints.is_empty() {
        return Vec::new();
    }
    let probes = collector::probe_all(&endpoints, timeout);
    let mut facts = Vec::new();
    let firewalls = firewall::Firewalls::read();
    for c in collectors {
        let Some(probe) = probes.iter().find(|p| p.host == c.host && p.port == c.port) else {
            continue;
        };
        // Windows Defender Firewall's rules are read through netsh where it lists them in
        // English; where not, the report says so rather than implying none block.
        if !firewalls.checked() && probe.error.is_some() {
            facts.push(
                Fact::new(
                    "firewall-not-checked",
                    &c.target,
                    format!("TCP to {}:{} (from {})", c.host, c.port, c.conf.display()),
                )
                .with("host", c.host.clone())
                .with("port", c.port.to_string()),
            );
        }
        if let Some(addr) = probe.address {
            for block in firewalls.blocks(addr.ip(), c.port) {
                facts.push(
                    Fact::new(
                        "firewall-blocks-collector",
                        &c.target,
                        crate::msg!(
                            "evidence-firewall",
                            rule = block,
                            addr = addr,
                            file = c.conf.display()
                        ),
                    )
                    .with("host", c.host.clone())
                    .with("port", c.port.to_string())
                    .with("rule", block),
                );
            }
        }
        let Some(error) = &probe.error else { continue };
        let address = probe.address.map(|a| format!(" ({a})")).unwrap_or_default();
        facts.push(
            Fact::new(
                "collector-unreachable",
                &c.target,
                format!(
                    "{}:{}{address}: {error} (from {})",
                    c.host,
                    c.port,
                    c.conf.display()
                ),
            )
            .with("host", c.host.clone())
            .with("port", c.port.to_string()),
        );
    }
    facts
}

/// A UDP port an agent needs (`net_udp_port`, default 6600) held by a process that is not a
/// WhaTap agent.
pub fn udp_conflicts(ports: &[(String, u16)]) -> Vec<Fact> {
    let proc_root = process::proc_root();
    let mut facts = Vec::new();
    for (target, port) in ports {
        for pid in sockets::owners(&proc_root, Proto::Udp, *port) {
            let Some(owner) = process::read(&proc_root, pid) else {
                continue;
            };
            if is_agent(&owner) {
                continue;
            }
            let command = owner.args.join(" ");
            facts.push(
                Fact::new(
                    "udp-port-conflict",
                    target,
                    crate::msg!(
                        "evidence-udp-held",
                        port = port,
                        pid = pid,
                        command = command
                    ),
                )
                .with("port", port.to_string()),
            );
        }
    }
    facts
}

/// The agents' own daemons (named in the guide) or a JVM running the Java agent.
const AGENT_DAEMONS: &[&str] = &[
    "whatap_php",
    "whatap-php",
    "whatap_python",
    "whatap_infrad",
    "whatap_nodejs",
];

fn is_agent(p: &process::Process) -> bool {
    let name = p
        .args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    AGENT_DAEMONS.contains(&name.as_str()) || p.has_whatap_agent()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_agent_holding_the_udp_port_is_a_conflict() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        let facts = udp_conflicts(&[("php".into(), port)]);
        assert_eq!(facts.len(), 1);
        assert!(
            facts[0]
                .evidence
                .contains(&format!("PID {}", std::process::id()))
        );
        drop(socket);
        assert!(udp_conflicts(&[("php".into(), port)]).is_empty());
    }
}
