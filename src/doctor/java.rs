//! Checks every Java runtime shares: the block, the jar it names, whatap.conf beside the jar,
//! and the running JVM's `-javaagent` options.

use super::{CollectorRef, Fact, Inspection};
use crate::detect::process::Process;
use crate::edit::conf;
use crate::net::collector::DEFAULT_PORT;
use crate::runtimes::java::{self, BlockScan};
use std::path::{Path, PathBuf};

pub struct JavaTarget<'a> {
    pub label: String,
    pub blocks: Vec<BlockScan>,
    pub process: Option<&'a Process>,
    pub restart: String,
}

/// The jar a `-javaagent` value or block refers to, resolving the `--latest-jar` pattern.
fn resolve_jar(value: &str) -> (PathBuf, bool) {
    if let Some(dir) = value.strip_suffix(&format!("/{}*.jar", java::JAR_PREFIX)) {
        return match java::newest_jar_in(Path::new(dir)) {
            Some(jar) => (jar, true),
            None => (PathBuf::from(value), false),
        };
    }
    let path = PathBuf::from(value.split('=').next().unwrap_or(value));
    let exists = path.is_file();
    (path, exists)
}

pub fn inspect(target: &JavaTarget<'_>) -> Inspection {
    let mut out = Inspection::default();
    let label = &target.label;
    let mut confs: Vec<PathBuf> = Vec::new();
    let mut configured = false;
    for scan in &target.blocks {
        let block = match scan {
            Ok(block) => block,
            Err((file, error)) => {
                out.facts.push(
                    Fact::new(
                        "block-malformed",
                        label,
                        format!("{}:{}: {error}", file.display(), error.line()),
                    )
                    .with("file", file.display().to_string()),
                );
                continue;
            }
        };
        configured = true;
        let Some(value) = java::jar_in_block(&block.inner) else {
            continue;
        };
        let (jar, exists) = resolve_jar(&value);
        if !exists {
            out.facts.push(
                Fact::new(
                    "agent-jar-missing",
                    label,
                    format!(
                        "{}:{}: -javaagent:{value}",
                        block.file.display(),
                        block.line
                    ),
                )
                .with("jar", value.clone()),
            );
        }
        if let Some(dir) = jar.parent() {
            confs.push(dir.join("whatap.conf"));
        }
    }
    let agents: Vec<&str> = target
        .process
        .map(|p| {
            p.javaagents()
                .into_iter()
                .filter(|a| java::is_whatap_agent(a))
                .collect()
        })
        .unwrap_or_default();
    if let Some(process) = target.process {
        match agents.len() {
            0 if configured => out.facts.push(
                Fact::new(
                    "agent-not-loaded",
                    label,
                    format!(
                        "PID {}: no -javaagent for WhaTap on its command line",
                        process.pid
                    ),
                )
                .with("restart", target.restart.clone()),
            ),
            0 | 1 => {}
            _ => out.facts.push(Fact::new(
                "agent-duplicate",
                label,
                format!(
                    "PID {}: {}",
                    process.pid,
                    agents
                        .iter()
                        .map(|a| format!("-javaagent:{a}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            )),
        }
        for agent in &agents {
            let (jar, _) = resolve_jar(agent);
            if let Some(dir) = jar.parent() {
                confs.push(dir.join("whatap.conf"));
            }
        }
    }
    if !configured && agents.is_empty() {
        out.facts.push(Fact::new(
            "agent-not-configured",
            label,
            "no WHATAP block in the startup files, no -javaagent for WhaTap",
        ));
    }
    confs.sort();
    confs.dedup();
    for path in confs {
        inspect_conf(label, &path, &mut out);
    }
    out
}

fn inspect_conf(label: &str, path: &Path, out: &mut Inspection) {
    let keys = match crate::plan::target::peek(path) {
        Ok(bytes) => conf::parse(&bytes),
        Err(e) => {
            for key in ["license", "whatap.server.host"] {
                out.facts.push(
                    Fact::new(
                        "conf-missing-key",
                        label,
                        format!("{}: {e}", path.display()),
                    )
                    .with("key", key)
                    .with("file", path.display().to_string()),
                );
            }
            return;
        }
    };
    for key in ["license", "whatap.server.host"] {
        if keys.get(key).is_none_or(|v| v.trim().is_empty()) {
            out.facts.push(
                Fact::new(
                    "conf-missing-key",
                    label,
                    format!("{}: no {key}=", path.display()),
                )
                .with("key", key)
                .with("file", path.display().to_string()),
            );
        }
    }
    let port = keys
        .get("whatap.server.port")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(DEFAULT_PORT);
    if let Some(hosts) = keys.get("whatap.server.host") {
        for host in hosts
            .split(['/', ','])
            .map(str::trim)
            .filter(|h| !h.is_empty())
        {
            out.collectors.push(CollectorRef {
                target: label.to_string(),
                conf: path.to_path_buf(),
                host: host.to_string(),
                port,
            });
        }
    }
}
