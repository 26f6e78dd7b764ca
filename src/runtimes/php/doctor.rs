//! PHP checks, per SAPI: a PHP that shows no API, one with nowhere to put whatap.ini, a SAPI
//! that does not load the module another SAPI of the same PHP loads, a module built for
//! another API or thread safety, and an ini newer than the running FPM / Apache master.

use super::agent;
use super::sapi::{IniTarget, MODULE_FILE, PhpSapi};
use crate::doctor::{Fact, Inspection};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn inspect(sapi: &PhpSapi) -> Inspection {
    let mut out = Inspection::default();
    let label = sapi.label();
    // Where the agent writes (the guide: `/usr/whatap/php/logs/whatap-boot-*.log`), scanned
    // with the catalog's log rules (license rejected, ...) like every agent log.
    let home = agent::agent_home();
    out.scan_logs(
        &label,
        crate::doctor::logs::newest_boot_log(&home.join("logs")),
    );
    let info = match &sapi.info {
        Ok(info) => info,
        Err(why) => {
            out.facts
                .push(Fact::new("php-api-not-found", &label, why.clone()));
            return out;
        }
    };
    let target = match sapi.ini_target() {
        Ok(target) => target,
        Err(_) => {
            out.facts.push(Fact::new(
                "php-ini-dir-not-found",
                &label,
                "Scan this dir for additional .ini files => (none); Loaded Configuration File => (none)",
            ));
            return out;
        }
    };
    let module = info.extension_dir.as_ref().map(|d| d.join(MODULE_FILE));
    let installed = module.as_ref().is_some_and(|m| m.is_file());
    let state = sapi.extension_state();
    if let Some(module) = module.as_ref().filter(|_| installed) {
        if let Err(why) = sapi.check_module(module) {
            out.facts.push(
                Fact::new(
                    "php-api-mismatch",
                    &label,
                    format!("{}: {why}", module.display()),
                )
                .with("api", info.api.clone()),
            );
        }
    }
    // Paused on purpose (`;extension=whatap.so`) is not a failure.
    if (installed || state.is_some()) && state != Some(false) && sapi.loads_whatap() == Some(false)
    {
        let why = match state {
            None => format!(
                "no whatap settings in {}",
                target.extension_file().display()
            ),
            Some(_) => format!(
                "{} enables {MODULE_FILE} but this SAPI does not list the module",
                target.extension_file().display()
            ),
        };
        out.facts
            .push(Fact::new("php-module-not-loaded", &label, why));
    }
    if state.is_some() {
        // Checked with every other runtime's ports by `doctor::network::udp_conflicts`.
        out.udp_ports.push((label.clone(), udp_port(&target)));
    }
    if state == Some(true) {
        let running = crate::detect::process::all(&crate::detect::process::proc_root())
            .iter()
            .any(|p| {
                p.args
                    .first()
                    .and_then(|a| Path::new(a).file_name())
                    .is_some_and(|n| n == agent::AGENT_BINARY || n == "whatap-php")
            });
        if !running {
            // One agent serves every SAPI: one finding, whichever SAPI finds it.
            out.facts.push(Fact::new(
                "php-agent-not-running",
                "whatap-php",
                crate::msg!(
                    "evidence-php-agent-not-running",
                    module = MODULE_FILE,
                    agent = agent::AGENT_BINARY,
                    service = agent::SERVICE_SCRIPT
                ),
            ));
        }
    }
    if let (Some(pid), Some(_)) = (sapi.master, state) {
        if let Some(started) = process_start(pid) {
            let newest = config_files(&target, module.as_deref())
                .into_iter()
                .filter_map(|f| Some((fs::metadata(&f).ok()?.modified().ok()?, f)))
                .max();
            // /proc's boot time has whole seconds: the start time is early by up to one.
            let slack = Duration::from_secs(1);
            if let Some((changed, file)) = newest.filter(|(t, _)| *t > started + slack) {
                out.facts.push(Fact::new(
                    "php-restart-needed",
                    &label,
                    crate::msg!(
                        "evidence-php-changed-after-start",
                        file = file.display(),
                        seconds = changed
                            .duration_since(started)
                            .unwrap_or_default()
                            .as_secs(),
                        pid = pid
                    ),
                ));
            }
        }
    }
    out
}

/// The port the whatap-php agent listens on for what the extension sends (the guide's
/// "Net UDP: Listener localhost:6600"), or `whatap.net_udp_port` of the SAPI's whatap.ini.
const AGENT_UDP_PORT: u16 = 6600;

fn udp_port(target: &IniTarget) -> u16 {
    crate::plan::target::peek(target.extension_file())
        .ok()
        .and_then(|b| {
            crate::edit::conf::parse(&b)
                .get("whatap.net_udp_port")
                .and_then(|p| p.trim().parse().ok())
        })
        .unwrap_or(AGENT_UDP_PORT)
}

/// Every file whose change the running master has not read yet.
fn config_files(target: &IniTarget, module: Option<&Path>) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = module.map(Path::to_path_buf).into_iter().collect();
    match target {
        IniTarget::ScanDir { file } | IniTarget::PhpIni { file } => files.push(file.clone()),
        IniTarget::Debian { shared, app, .. } => {
            files.push(shared.clone());
            files.push(app.clone());
        }
    }
    files
}

/// When a process started: boot time plus its start tick from /proc.
fn process_start(pid: u32) -> Option<SystemTime> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at `) `.
    let rest = stat.rsplit_once(") ")?.1;
    let ticks: u64 = rest.split_whitespace().nth(19)?.parse().ok()?;
    let boot: u64 = fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    #[cfg(unix)]
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    // /proc is Linux's; a Windows build never gets this far, its value is only a type's.
    #[cfg(windows)]
    let hz = 100;
    let hz = u64::try_from(hz).ok().filter(|h| *h > 0)?;
    Some(UNIX_EPOCH + Duration::from_secs(boot) + Duration::from_millis(ticks * 1000 / hz))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_started_in_the_past() {
        let started = process_start(std::process::id()).unwrap();
        assert!(started <= SystemTime::now() + Duration::from_secs(1));
        assert!(SystemTime::now().duration_since(started).unwrap() < Duration::from_secs(86400));
    }
}
