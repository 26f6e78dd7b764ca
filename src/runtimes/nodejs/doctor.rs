//! Node.js checks: the agent loaded in the running app (its log open in the process, or a
//! `whatap_nodejs` daemon naming the process as its app), the daemon running from the WhaTap
//! home, the package where the app's `--require` looks for it, node new enough for the
//! package's `engines`, whatap.conf keys, `net_udp_port` held by another process, and the
//! errors the package writes to WHATAP_HOME/logs.

use super::app::{DAEMON, NodeApp};
use super::package;
use crate::doctor::{Fact, Inspection};
use crate::edit::conf;
use std::path::{Path, PathBuf};

/// The port the package's UDP channel uses when whatap.conf names none.
const DEFAULT_UDP_PORT: u16 = 6600;

/// The package's logs in `WHATAP_HOME/logs`: today's hook log (or `whatap.log` when it does
/// not rotate) and the daemon's newest boot log.
pub fn agent_logs(whatap_home: &Path) -> Vec<PathBuf> {
    let dir = whatap_home.join("logs");
    let mut logs: Vec<PathBuf> = crate::doctor::logs::newest_dated_log(&dir, "whatap-hook-")
        .into_iter()
        .collect();
    logs.push(dir.join("whatap.log"));
    logs.extend(crate::doctor::logs::newest_boot_log(&dir));
    logs.into_iter().filter(|p| p.is_file()).collect()
}

/// The installed package's `engines.node`, and whether this node satisfies it.
fn engines_fact(label: &str, app: &NodeApp, out: &mut Inspection) {
    let Some(exe) = app.process.as_ref().and_then(|p| p.exe.clone()) else {
        return;
    };
    let Some(manifest) = package::installed_agent(&app.app_dir).and_then(|d| package::manifest(&d))
    else {
        return;
    };
    let Some(range) = manifest["engines"]["node"].as_str() else {
        return;
    };
    let Ok(version) = package::node_version_cached(&exe, &app.cache) else {
        return;
    };
    if version.satisfies(range) == Some(false) {
        out.facts.push(
            Fact::new(
                "nodejs-version-unsupported",
                label,
                format!(
                    "{} is v{version}; whatap {} needs node {range}",
                    exe.display(),
                    manifest["version"].as_str().unwrap_or("?")
                ),
            )
            .with("range", range),
        );
    }
}

pub fn inspect(app: &NodeApp) -> Inspection {
    let mut out = Inspection::default();
    let label = format!("nodejs {}", app.app_dir.display());
    let conf_path = app.whatap_home.join("whatap.conf");
    let loaded = app.agent_loaded();
    let requires = app.process.as_ref().is_some_and(|p| p.requires_agent());
    let configured = app.launcher_requires_agent();
    if conf_path.is_file() || loaded || requires || configured {
        crate::doctor::conf::inspect_conf(
            &label,
            &conf_path,
            &["license", "whatap.server.host", "app_name"],
            &mut out,
        );
        let port = crate::plan::target::peek(&conf_path)
            .ok()
            .and_then(|b| conf::parse(&b).get("net_udp_port").cloned())
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(DEFAULT_UDP_PORT);
        // Checked with every other runtime's ports by `doctor::network::udp_conflicts`.
        out.udp_ports.push((label.clone(), port));
    }
    if (requires || configured) && package::installed_agent(&app.app_dir).is_none() {
        out.facts.push(
            Fact::new(
                "nodejs-package-missing",
                &label,
                format!(
                    "node is started with --require of the agent, but {} is missing",
                    app.app_dir
                        .join("node_modules")
                        .join(package::PACKAGE)
                        .display()
                ),
            )
            .with("app_dir", app.app_dir.display().to_string()),
        );
    }
    if let Some(p) = &app.process {
        let pid = p.process.pid;
        let command = p.process.args.join(" ");
        if loaded && app.daemons.is_empty() {
            out.facts.push(Fact::new(
                "nodejs-agent-not-running",
                &label,
                format!(
                    "PID {pid} ({command}) runs the agent, but no {DAEMON} runs from {}",
                    app.whatap_home.display()
                ),
            ));
        } else if !loaded && (conf_path.is_file() || requires || configured) {
            let options = p
                .environ
                .get("NODE_OPTIONS")
                .map_or("NODE_OPTIONS is not set".to_string(), |o| {
                    format!("NODE_OPTIONS={o}")
                });
            let why = if requires {
                format!(
                    "it was started with --require of the agent, but no agent log is open in it and no {DAEMON} serves it"
                )
            } else {
                format!(
                    "no --require of the agent on its command line or in its environment ({options})"
                )
            };
            out.facts.push(Fact::new(
                "nodejs-agent-not-loaded",
                &label,
                format!("PID {pid} ({command}): {why}"),
            ));
        }
        engines_fact(&label, app, &mut out);
    }
    // Scanned with the catalog's log rules (nodejs-log-error, license-invalid) by
    // `doctor::logs`, with every other runtime's logs.
    out.scan_logs(&label, agent_logs(&app.whatap_home));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_package_messages_are_in_the_catalog() {
        // The package's logger: `YYYYMMDD hh:mm:ss[WHATAP-NNN] <pid> message`.
        let cases = [
            (
                "20261201 22:11:33[WHATAP-216] <30957> Failed to spawn agent process: spawn /srv/app/whatap/whatap_nodejs EACCES",
                Some("nodejs-log-error"),
            ),
            (
                "20261201 22:11:34[WHATAP-043] <30957> Agent process exited with code 1",
                Some("nodejs-log-error"),
            ),
            (
                "20261201 22:11:33[WHATAP-059] <30957> Permission error creating config file. Try to execute command: `sudo chmod -R 777 $WHATAP_HOME`",
                Some("nodejs-log-error"),
            ),
            (
                "20261201 22:11:33[WHATAP-047] <30957> AGENT UP! (process name: whatap_nodejs, app: 628257ee)",
                None,
            ),
            (
                "20261201 22:11:33[WHATAP-053] <30957> unable to load mysql module",
                None,
            ),
        ];
        crate::doctor::logs::assert_rules_of_lines(&cases);
    }
}
