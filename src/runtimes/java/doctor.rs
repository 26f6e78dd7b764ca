//! Checks every Java runtime shares: the block, the jar it names, whatap.conf beside the jar,
//! and the running JVM's `-javaagent` options.

use super::agent::{self, BlockScan};
use super::attach;
use crate::detect::files_in;
use crate::detect::process::{self, Process};
use crate::doctor::conf::inspect_conf;
use crate::doctor::{Fact, Inspection, Remedy};
use crate::plan::target::canonical;
use std::fs;
use std::path::{Path, PathBuf};

pub struct JavaTarget<'a> {
    pub label: String,
    pub blocks: Vec<BlockScan>,
    /// Every `-javaagent` for WhaTap the startup chain sets.
    pub settings: Vec<agent::AgentSetting>,
    pub process: Option<&'a Process>,
    pub restart: String,
}

/// The jar a `-javaagent` value or block refers to, resolving the `--latest-jar` pattern.
fn resolve_jar(value: &str) -> (PathBuf, bool) {
    if let Some(dir) = value.strip_suffix(&format!("/{}*.jar", agent::JAR_PREFIX)) {
        return match agent::newest_jar_in(Path::new(dir)) {
            Some(jar) => (jar, true),
            None => (PathBuf::from(value), false),
        };
    }
    let path = PathBuf::from(value.split('=').next().unwrap_or(value));
    let exists = path.is_file();
    (path, exists)
}

/// The WhaTap agents a running JVM has: its `-javaagent` options, and the tracer jars open in
/// it that no option names (loaded by attach).
#[derive(Default)]
pub struct Loaded {
    pub options: Vec<String>,
    pub attached: Vec<PathBuf>,
}

impl Loaded {
    pub fn of(process: &Process) -> Loaded {
        let options: Vec<String> = process
            .javaagents()
            .into_iter()
            .filter(|a| process::is_whatap_agent(a))
            .map(str::to_string)
            .collect();
        let cwd = process::proc_root()
            .join(process.pid.to_string())
            .join("cwd");
        let named: Vec<PathBuf> = options
            .iter()
            .map(|o| canonical(&cwd.join(o.split('=').next().unwrap_or(o))))
            .collect();
        let attached = attach::open_tracer_jars(process.pid)
            .into_iter()
            .filter(|jar| !named.contains(&canonical(jar)))
            .collect();
        Loaded { options, attached }
    }

    pub fn count(&self) -> usize {
        self.options.len() + self.attached.len()
    }

    fn describe(&self) -> String {
        self.options
            .iter()
            .map(|a| format!("-javaagent:{a}"))
            .chain(
                self.attached
                    .iter()
                    .map(|j| format!("{} (attached)", j.display())),
            )
            .collect::<Vec<_>>()
            .join(" ")
    }
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
        let Some(value) = agent::jar_in_block(&block.inner) else {
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
    let loaded = target.process.map(Loaded::of).unwrap_or_default();
    let agents = &loaded.options;
    // Two settings in the startup chain load the agent twice at the next start, whatever the
    // running JVM has now (unless it already shows both).
    if target.settings.len() > 1 && loaded.count() < 2 {
        out.facts.push(Fact::new(
            "agent-duplicate",
            label,
            target
                .settings
                .iter()
                .map(agent::AgentSetting::describe)
                .collect::<Vec<_>>()
                .join("; "),
        ));
    }
    if let Some(process) = target.process {
        match loaded.count() {
            0 if configured => out.facts.push(
                Fact::new(
                    "agent-not-loaded",
                    label,
                    crate::msg!("evidence-agent-not-loaded", pid = process.pid),
                )
                .with("restart", target.restart.clone()),
            ),
            0 | 1 => {}
            _ => out.facts.push(Fact::new(
                "agent-duplicate",
                label,
                format!("PID {}: {}", process.pid, loaded.describe()),
            )),
        }
        // Attached now, but nothing in the startup files brings it back after a restart.
        if !configured && agents.is_empty() && !loaded.attached.is_empty() {
            out.facts.push(Fact::new(
                "agent-attached-only",
                label,
                format!("PID {}: {}", process.pid, loaded.describe()),
            ));
        }
        out.facts.extend(crate::doctor::jvm::inspect(
            label,
            process,
            loaded.count() > 0,
            configured,
        ));
        for agent in agents {
            let (jar, _) = resolve_jar(agent);
            if let Some(dir) = jar.parent() {
                confs.push(dir.join("whatap.conf"));
            }
        }
        for jar in &loaded.attached {
            if let Some(dir) = jar.parent() {
                confs.push(dir.join("whatap.conf"));
            }
        }
    }
    // IBM J9/OpenJ9 without -javaagent: any agent there came by attach, which collects no
    // transactions on IBM JDKs (the guide: use javaagent).
    if let Some(process) = target
        .process
        .filter(|p| agents.is_empty() && attach::is_j9(p.pid))
    {
        out.facts.push(Fact::new(
            "ibm-jdk-attach",
            label,
            crate::msg!("evidence-j9-without-javaagent", pid = process.pid),
        ));
    }
    if !configured && loaded.count() == 0 {
        out.facts.push(Fact::new(
            "agent-not-configured",
            label,
            crate::msg!("evidence-agent-not-configured"),
        ));
    }
    confs.sort();
    confs.dedup();
    for path in confs {
        if let Some(home) = path.parent() {
            let logs = agent_logs(home);
            // The agent names itself with the PID where it found no port: the guide's sign.
            let reported = out.facts.iter().any(|f| f.id == "port-not-detected");
            if let (Some(process), Some(newest), false) = (target.process, logs.first(), reported) {
                if let Some(line) = oname_ends_with_pid(newest, process.pid) {
                    out.facts.push(Fact::new(
                        "port-not-detected",
                        label,
                        format!("{}: {line}", newest.display()),
                    ));
                }
            }
            out.logs
                .extend(logs.into_iter().map(|log| (label.clone(), log)));
            out.facts.extend(sigar_not_executable(label, home));
        }
        inspect_conf(label, &path, &["license", "whatap.server.host"], &mut out);
    }
    out
}

/// How much of the newest agent log is read for the agent's name.
const ONAME_TAIL: u64 = 256 * 1024;

/// The last line of the agent log naming the agent (`ONAME=TOMCAT-10-21-4242`, `oname :
/// ...`) when that name ends with `-<pid>`: the agent found no service port.
fn oname_ends_with_pid(log: &Path, pid: u32) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = fs::File::open(log).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(ONAME_TAIL)))
        .ok()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let name = |line: &str| -> Option<String> {
        let lower = line.to_ascii_lowercase();
        let at = lower.find("oname")? + "oname".len();
        let rest = line[at..]
            .trim_start()
            .strip_prefix(['=', ':'])?
            .trim_start();
        let name: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != ',' && *c != ']')
            .collect();
        (!name.is_empty()).then_some(name)
    };
    let (line, name) = text
        .lines()
        .filter_map(|l| name(l).map(|n| (l, n)))
        .next_back()?;
    (name.rsplit('-').next()? == pid.to_string()).then(|| line.trim().to_string())
}

/// The agent's own logs: `$WHATAP_HOME/logs/whatap-*.log`, newest first.
pub fn agent_logs(whatap_home: &Path) -> Vec<PathBuf> {
    crate::doctor::logs::newest_first(files_in(&whatap_home.join("logs"), |n| {
        n.starts_with("whatap") && n.ends_with(".log")
    }))
}

/// Sigar's native libraries in `$WHATAP_HOME/lib1` must be executable to load.
fn sigar_not_executable(label: &str, whatap_home: &Path) -> Vec<Fact> {
    use crate::os::MetadataExt;
    files_in(&whatap_home.join("lib1"), |n| n.ends_with(".so"))
        .into_iter()
        .filter_map(|lib| {
            let mode = fs::metadata(&lib).ok()?.mode() & 0o7777;
            (mode & 0o111 == 0).then_some((lib, mode))
        })
        .map(|(lib, mode)| {
            let mut fact = Fact::new(
                "sigar-not-executable",
                label,
                crate::msg!(
                    "evidence-file-mode",
                    file = lib.display(),
                    mode = format!("{mode:04o}")
                ),
            )
            .with("file", lib.display().to_string());
            // The guide's `chmod +x`: execute for whoever may read.
            fact.remedy = Some(Remedy::Mode(crate::plan::ModeChange {
                path: lib,
                before: mode,
                after: mode | ((mode & 0o444) >> 2),
            }));
            fact
        })
        .collect()
}

/// JVMs running the WhaTap agent that no detected runtime covers (a `java -jar` app, a server
/// this version does not know): their agent options are still checked.
pub fn inspect_other_jvms(host: &crate::detect::Host, covered: &[u32]) -> Inspection {
    let mut out = Inspection::default();
    for process in host.java_processes().filter(|p| !covered.contains(&p.pid)) {
        if Loaded::of(process).count() == 0 {
            continue;
        }
        let found = inspect(&JavaTarget {
            label: format!("java PID {}", process.pid),
            blocks: Vec::new(),
            settings: Vec::new(),
            process: Some(process),
            restart: "restart the JVM".to_string(),
        });
        out.facts.extend(found.facts);
        out.collectors.extend(found.collectors);
        out.logs.extend(found.logs);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oname_ending_in_the_pid_means_no_port() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("whatap-tomcat-20261127.log");
        fs::write(
            &log,
            "20261127 10:00:00.001 [WA001] ONAME=TOMCAT-10-21-4242\nother\n",
        )
        .unwrap();
        assert!(
            oname_ends_with_pid(&log, 4242)
                .unwrap()
                .contains("ONAME=TOMCAT-10-21-4242")
        );
        assert_eq!(oname_ends_with_pid(&log, 8080), None);
        fs::write(&log, "oname : TOMCAT-10-21-8080\n").unwrap();
        assert_eq!(oname_ends_with_pid(&log, 4242), None);
    }
}
