//! whatap-python checks: everything the vendor's `whatap-doctor` checks (whatap.conf and its
//! keys, the package, the agent process) and more: the app is started through
//! `whatap-start-agent`, `apm_enabled=true` (without it the wrapper starts no agent), and the
//! errors the package writes to `whatap-hook.log`, the native agent's `whatap-boot-*.log` /
//! `whatap_python.log`, or the app's own stdout (`--log`).

use super::app::{AGENT_PROCESS, PythonApp};
use crate::doctor::{Fact, Inspection};
use crate::edit::conf;
use crate::os::MetadataExt;
use std::fs;
use std::path::{Path, PathBuf};

/// The agent's default `net_udp_port`.
const DEFAULT_UDP_PORT: u16 = 6600;

/// The package's logs in `WHATAP_HOME/logs`: the hook log, the newest boot log, the native log.
pub fn agent_logs(whatap_home: &Path) -> Vec<PathBuf> {
    let dir = whatap_home.join("logs");
    let mut logs = vec![dir.join("whatap-hook.log")];
    logs.extend(crate::doctor::logs::newest_boot_log(&dir));
    logs.push(dir.join(format!("{AGENT_PROCESS}.log")));
    logs.into_iter().filter(|p| p.is_file()).collect()
}

/// Who a process is for file access: effective uid, effective gid and supplementary groups.
struct Identity {
    uid: u32,
    groups: Vec<u32>,
}

fn identity(pid: u32) -> Option<Identity> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|rest| {
                rest.split_whitespace()
                    .filter_map(|v| v.parse::<u32>().ok())
                    .collect::<Vec<_>>()
            })
    };
    let uid = *field("Uid:")?.get(1)?;
    let mut groups = vec![*field("Gid:")?.get(1)?];
    groups.extend(field("Groups:").unwrap_or_default());
    Some(Identity { uid, groups })
}

/// May `who` access `path` with `want` (r=4, w=2, x=1), including search on every ancestor?
fn may(who: &Identity, path: &Path, want: u32) -> bool {
    if who.uid == 0 {
        return true;
    }
    let bits = |p: &Path, want: u32| {
        fs::metadata(p).is_ok_and(|m| {
            let mode = m.mode();
            let granted = if m.uid() == who.uid {
                mode >> 6
            } else if who.groups.contains(&m.gid()) {
                mode >> 3
            } else {
                mode
            };
            granted & want == want
        })
    };
    path.ancestors().skip(1).all(|dir| bits(dir, 1)) && bits(path, want)
}

/// The guide's "Permission denied" cases, checked before the package has to log them: the
/// app's user must read whatap.conf and write `logs/` (or create it).
fn permissions(label: &str, home: &Path, pid: u32, out: &mut Inspection) {
    let Some(who) = identity(pid) else {
        return;
    };
    let conf = home.join("whatap.conf");
    if conf.exists() && !may(&who, &conf, 4) {
        out.facts.push(
            Fact::new(
                "python-conf-error",
                label,
                crate::msg!(
                    "evidence-python-conf-unreadable",
                    file = conf.display(),
                    uid = who.uid,
                    pid = pid
                ),
            )
            .with("file", conf.display().to_string()),
        );
    }
    let logs = home.join("logs");
    let (dir, what) = if logs.is_dir() {
        (
            logs.as_path(),
            crate::msg!("evidence-python-logs-not-writable"),
        )
    } else {
        (home, crate::msg!("evidence-python-logs-not-creatable"))
    };
    if home.exists() && !may(&who, dir, 2 | 1) {
        out.facts.push(
            Fact::new(
                "python-log-error",
                label,
                crate::msg!(
                    "evidence-python-logs",
                    dir = dir.display(),
                    what = what,
                    uid = who.uid,
                    pid = pid
                ),
            )
            .with("file", dir.display().to_string()),
        );
    }
}

/// Is whatap-python importable from the app's interpreter? Looked up on disk (no interpreter
/// started): `<prefix>/lib/python*/site-packages/whatap`.
fn package_installed(interpreter: &Path) -> Option<bool> {
    let prefix = interpreter.parent()?.parent()?;
    let lib = fs::read_dir(prefix.join("lib")).ok()?;
    let mut looked = false;
    for entry in lib.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with("python") {
            continue;
        }
        for site in ["site-packages", "dist-packages"] {
            let dir = entry.path().join(site);
            if dir.is_dir() {
                looked = true;
                if dir.join("whatap").is_dir() {
                    return Some(true);
                }
            }
        }
    }
    looked.then_some(false)
}

/// The agent listens for the app's data on UDP `net_udp_port` (6600): another owner breaks it
/// (checked with every other runtime's ports by `doctor::network::udp_conflicts`).
fn udp_port(label: &str, keys: &std::collections::BTreeMap<String, String>, out: &mut Inspection) {
    let port = keys
        .get("net_udp_port")
        .and_then(|p| p.trim().parse::<u16>().ok())
        .unwrap_or(DEFAULT_UDP_PORT);
    out.udp_ports.push((label.to_string(), port));
}

pub fn inspect(app: &PythonApp) -> Inspection {
    let mut out = Inspection::default();
    let label = format!("python {}", app.whatap_home.display());
    let conf_path = app.whatap_home.join("whatap.conf");
    let wrapped = app.app.as_ref().and_then(|a| a.wrapped());
    if conf_path.is_file() || wrapped == Some(true) {
        crate::doctor::conf::inspect_conf(
            &label,
            &conf_path,
            &["license", "whatap.server.host", "app_name"],
            &mut out,
        );
        let keys = crate::plan::target::peek(&conf_path)
            .map(|b| conf::parse(&b))
            .unwrap_or_default();
        udp_port(&label, &keys, &mut out);
        if keys.get("apm_enabled").map(String::as_str) != Some("true") {
            out.facts.push(
                Fact::new(
                    "conf-missing-key",
                    &label,
                    crate::msg!(
                        "evidence-apm-enabled",
                        file = conf_path.display(),
                        value = keys
                            .get("apm_enabled")
                            .map(|v| format!("{v:?}"))
                            .unwrap_or_else(|| crate::msg!("evidence-not-set"))
                    ),
                )
                .with("key", "apm_enabled=true")
                .with("file", conf_path.display().to_string()),
            );
        }
    }
    if let Some(process) = &app.app {
        let pid = process.process.pid;
        permissions(&label, &app.whatap_home, pid, &mut out);
        match wrapped {
            Some(true) if app.agents.is_empty() => out.facts.push(Fact::new(
                "python-agent-not-running",
                &label,
                crate::msg!(
                    "evidence-python-agent-not-running",
                    pid = pid,
                    server = process.server,
                    agent = AGENT_PROCESS,
                    home = app.whatap_home.display()
                ),
            )),
            Some(false) => out.facts.push(Fact::new(
                "python-not-wrapped",
                &label,
                crate::msg!(
                    "evidence-python-not-wrapped",
                    pid = pid,
                    command = process.process.args.join(" ")
                ),
            )),
            _ => {}
        }
        if let Some(interpreter) = process.interpreter() {
            if package_installed(&interpreter) == Some(false) {
                out.facts.push(
                    Fact::new(
                        "python-package-missing",
                        &label,
                        crate::msg!(
                            "evidence-python-package-missing",
                            pid = pid,
                            python = interpreter.display()
                        ),
                    )
                    .with("python", interpreter.display().to_string()),
                );
            }
        }
    }
    // Scanned with the catalog's log rules (python-conf-error, python-log-error,
    // license-invalid) by `doctor::logs`, with every other runtime's logs.
    out.scan_logs(&label, agent_logs(&app.whatap_home));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_package_messages_are_in_the_catalog() {
        // Formats: hook.log `[%Y-%m-%d  %H:%M:%S] : <id> - <message>`, native `YYYY/MM/DD hh:mm:ss`.
        let cases = [
            (
                "WHATAP: PERMISSION ERROR: [Errno 13] Permission denied: '/srv/whatap/whatap.conf'",
                Some("python-conf-error"),
            ),
            (
                "WHATAP: LOGGING ERROR: [Errno 13] Permission denied: '/srv/whatap/logs/whatap-hook.log'",
                Some("python-log-error"),
            ),
            (
                "[2026-11-27  00:42:38] : WHATAP_AGENT_START_FAILED - WHATAP: native APM startup failed",
                Some("python-log-error"),
            ),
            (
                "2026/11/27 00:42:50 invalid license key error.",
                Some("license-invalid"),
            ),
            (
                "whatap: permission error: lower case too",
                Some("python-conf-error"),
            ),
            // The guide's own words: a bare LOGGING ERROR, its "whatp" typo, Permission
            // denied in the hook log (and not a Permission denied in any other log).
            (
                "[2026-11-27  00:43:02] : WHATAP_AGENT_ERROR - LOGGING ERROR",
                Some("python-log-error"),
            ),
            (
                "2026/11/27 00:42:50 [WA172] license or whatp.server.host error",
                Some("license-invalid"),
            ),
            (
                "[2026-11-27  00:43:02] : WHATAP_AGENT_ERROR - [Errno 13] Permission denied: '/srv/whatap/logs'",
                Some("python-log-error"),
            ),
            ("bash: /opt/app/start.sh: Permission denied", None),
            ("[2026-11-27  00:42:38] : WA000 - WHATAP AGENT START!", None),
            ("2026/11/27 00:42:38 [WA001-01] Start agent ", None),
        ];
        crate::doctor::logs::assert_rules_of_lines(&cases);
    }
}
