//! What every Java server shares. A server says only what differs (where its options live,
//! how it is found, what to restart); `JavaServer` turns that into a `Runtime`: the ledger id,
//! `detect`'s report, doctor's shared checks (block, jar, whatap.conf, the live JVM).

pub mod agent;

pub use crate::doctor::logs::logs_in;
pub mod attach;
pub mod doctor;

use crate::detect::Host;
use crate::detect::process::{self, Process};
use crate::doctor::Inspection;
use crate::error::{Error, Result};
use crate::msg;
use crate::runtimes::instance::{Detection, InstallPlan, Runtime, default_selection};
use crate::runtimes::kind::RuntimeKind;
use crate::settings::{InstallSettings, TargetSettings};
use agent::BlockScan;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub trait JavaServer {
    const KIND: RuntimeKind;
    /// The directory (or file) that names this instance: `target` in reports.
    fn target(&self) -> PathBuf;
    /// How doctor names it; the ledger id is the same with `:` for the first space.
    fn label(&self) -> String {
        format!("{} {}", Self::KIND, self.target().display())
    }
    fn process(&self) -> Option<&Process>;
    /// What `whatap detect` reports besides the process and the agent state.
    fn describe(&self) -> Description;
    /// Every file its start reads JVM options from, in the order it reads them (start script
    /// -> conf -> setenv): where any `-javaagent` that reaches the JVM is set. Servers whose
    /// options live in XML or properties scan those themselves and have no chain.
    fn startup_chain(&self) -> agent::Chain {
        Vec::new()
    }
    /// The WHATAP blocks (or agent options) its startup files hold.
    fn scan_blocks(&self) -> Vec<BlockScan> {
        agent::scan_chain(&self.startup_chain())
    }
    fn restart_hint(&self) -> String;
    fn plan_install(&self, settings: &InstallSettings, dist: Option<&Path>) -> Result<InstallPlan>;
    /// Its own logs (server.log, catalina.out, SystemOut.log, ...): doctor reads them by
    /// default, newest first (`logs_in` lists them).
    fn log_files(&self) -> Vec<PathBuf> {
        Vec::new()
    }
    /// Checks of its own beyond the shared Java ones (its rules).
    fn inspect_more(&self, _label: &str, _out: &mut Inspection) {}
    /// The safe fix it offers for a finding, whatever the evidence came from.
    fn remedy_for(&self, _id: &str) -> Option<crate::doctor::Remedy> {
        None
    }
    /// The flags that pick it again, where home and base do not (Spring Boot: its unit).
    fn selection(&self) -> Option<TargetSettings> {
        None
    }
}

/// What `whatap detect` reports of a Java server.
pub struct Description {
    pub home: PathBuf,
    pub base: Option<PathBuf>,
    pub version: Option<String>,
    pub details: BTreeMap<String, String>,
}

impl Description {
    pub fn home(home: &Path) -> Description {
        Description {
            home: home.to_path_buf(),
            base: None,
            version: None,
            details: BTreeMap::new(),
        }
    }
}

impl<T: JavaServer> Runtime for T {
    fn kind(&self) -> RuntimeKind {
        T::KIND
    }

    fn id(&self) -> String {
        self.label().replacen(' ', ":", 1)
    }

    fn target(&self) -> PathBuf {
        JavaServer::target(self)
    }

    fn detection(&self) -> Detection {
        let d = self.describe();
        let process = self.process();
        Detection {
            runtime: T::KIND,
            version: d.version,
            home: d.home,
            base: d.base,
            pid: process.map(|p| p.pid),
            user: process.and_then(|p| process::user_name(p.uid)),
            agent: agent::agent_state(process, &self.scan_blocks()),
            details: d.details.into_iter().map(|(k, v)| (k, v.into())).collect(),
        }
    }

    fn plan_install(&self, settings: &InstallSettings, dist: Option<&Path>) -> Result<InstallPlan> {
        JavaServer::plan_install(self, settings, dist)
    }

    fn inspect(&self) -> Inspection {
        let label = self.label();
        let mut out = doctor::inspect(&doctor::JavaTarget {
            label: label.clone(),
            blocks: self.scan_blocks(),
            settings: agent::agent_settings(&self.startup_chain()),
            process: self.process(),
            restart: self.restart_hint(),
        });
        out.scan_logs(&label, crate::doctor::logs::newest_first(self.log_files()));
        self.inspect_more(&label, &mut out);
        out
    }

    fn selection(&self) -> TargetSettings {
        JavaServer::selection(self).unwrap_or_else(|| default_selection(self))
    }

    fn remedy_for(&self, id: &str) -> Option<crate::doctor::Remedy> {
        JavaServer::remedy_for(self, id)
    }
}

/// The servers of a domain that get the agent: the `--server` names (each must be one of
/// `all`), else every server but the admin server (which gets it only when it is alone).
pub fn chosen_servers(
    all: &[String],
    admin: Option<&str>,
    wanted: &[String],
) -> Result<Vec<String>> {
    if let Some(unknown) = wanted.iter().find(|w| !all.contains(w)) {
        return Err(Error::usage(
            msg!("server-unknown", server = unknown, servers = all.join(", ")),
            msg!("server-unknown-hint"),
        ));
    }
    if !wanted.is_empty() {
        return Ok(wanted.to_vec());
    }
    let managed: Vec<String> = all
        .iter()
        .filter(|s| Some(s.as_str()) != admin)
        .cloned()
        .collect();
    Ok(if managed.is_empty() {
        all.to_vec()
    } else {
        managed
    })
}

/// What a server's resolve says when the target flags point at something else.
pub struct Pointing {
    /// What the home directory holds (for "no such directory" hints).
    pub holds: fn() -> String,
    pub pid_not_it: fn(u32) -> Error,
    pub not_home: fn(&Path) -> Error,
    /// Set when only `--home` names the server (`--base` means something else there).
    pub home_required: Option<fn() -> Error>,
}

/// The server `--pid` names (the process must be one), or else the home directory the flags
/// name: `--home` (or `--base` where the server has no base), checked to be its home.
pub fn pointed<'a, T>(
    host: &Host,
    target: &'a TargetSettings,
    from_process: fn(&Process) -> Option<T>,
    is_home: fn(&Path) -> bool,
    words: &Pointing,
) -> Result<std::result::Result<T, &'a Path>> {
    if let Some(pid) = target.pid {
        return by_pid(host, pid, from_process, words.pid_not_it).map(Ok);
    }
    let dir = match words.home_required {
        Some(required) => target.home.as_ref().ok_or_else(required)?,
        None => target
            .home
            .as_ref()
            .or(target.base.as_ref())
            .ok_or_else(|| Error::Internal("resolve without a target".into()))?,
    };
    check_dir("--home", dir, &(words.holds)())?;
    if !is_home(dir) {
        return Err((words.not_home)(dir));
    }
    Ok(Err(dir))
}

/// The running instance among the host's JVMs that `same` picks.
pub fn running<T>(
    host: &Host,
    from_process: fn(&Process) -> Option<T>,
    same: impl Fn(&T) -> bool,
) -> Option<T> {
    host.java_processes()
        .filter_map(from_process)
        .find(|found| same(found))
}

/// The runtime a `--pid` names: the process must exist (in the host's one look at its
/// processes, or started since) and `parse` must recognise it.
pub fn by_pid<T>(
    host: &Host,
    pid: u32,
    parse: impl Fn(&Process) -> Option<T>,
    not_it: impl FnOnce(u32) -> Error,
) -> Result<T> {
    let seen = host.processes.iter().find(|p| p.pid == pid).cloned();
    let p = seen
        .or_else(|| process::read(&process::proc_root(), pid))
        .ok_or_else(|| {
            Error::usage(
                msg!("pid-no-such-process", pid = pid),
                msg!("pid-no-such-process-java-hint"),
            )
        })?;
    parse(&p).ok_or_else(|| not_it(pid))
}

/// A `--home`/`--base` that must be a directory; the hint says what it should hold.
pub fn check_dir(flag: &str, dir: &Path, holds: &str) -> Result<()> {
    if !dir.is_dir() {
        return Err(Error::usage(
            msg!("dir-missing", flag = flag, path = dir.display()),
            msg!("dir-missing-hint", flag = flag, holds = holds),
        ));
    }
    Ok(())
}

/// `--method`: the entry of a server's `table` named by `value`, else `default`; returns it
/// with the name the ledger records.
pub fn method<M: Copy + PartialEq>(
    table: &[(&'static str, M)],
    value: Option<&str>,
    default: M,
    unknown: impl FnOnce(&str) -> Error,
) -> Result<(M, &'static str)> {
    let found = match value {
        None => table.iter().find(|(_, m)| *m == default),
        Some(name) => table.iter().find(|(n, _)| *n == name),
    };
    match (found, value) {
        (Some(&(name, m)), _) => Ok((m, name)),
        (None, Some(name)) => Err(unknown(name)),
        (None, None) => Err(Error::Internal("default method not in its table".into())),
    }
}

/// Directories directly in `parents` whose name starts with one of `prefixes` (any case) and
/// that `is_home` accepts, sorted per parent: where installs look when nothing runs.
pub fn homes_in(
    parents: &[&str],
    prefixes: &[&str],
    is_home: impl Fn(&Path) -> bool,
) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for parent in parents {
        let Ok(entries) = std::fs::read_dir(parent) else {
            continue;
        };
        let mut homes: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| {
                let name = e.file_name().to_string_lossy().to_ascii_lowercase();
                prefixes.iter().any(|p| name.starts_with(p))
            })
            .map(|e| e.path())
            .filter(|p| is_home(p))
            .collect();
        homes.sort();
        found.extend(homes);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum M {
        A,
        B,
    }

    #[test]
    fn method_tables() {
        let table = [("a", M::A), ("b", M::B)];
        let unknown = |n: &str| Error::usage(n.to_string(), "");
        assert_eq!(method(&table, None, M::B, unknown).unwrap(), (M::B, "b"));
        assert_eq!(
            method(&table, Some("a"), M::B, unknown).unwrap(),
            (M::A, "a")
        );
        assert!(matches!(
            method(&table, Some("c"), M::B, unknown),
            Err(Error::Usage { .. })
        ));
    }
}
