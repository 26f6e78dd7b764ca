//! PHP checks, per SAPI: a PHP that shows no API, one with nowhere to put whatap.ini, a SAPI
//! that does not load the module another SAPI of the same PHP loads, a module built for
//! another API or thread safety, and an ini newer than the running FPM / Apache master.

use super::{Fact, Inspection};
use crate::runtimes::php::{IniTarget, MODULE_FILE, PhpSapi};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn inspect(sapi: &PhpSapi) -> Inspection {
    let mut out = Inspection::default();
    let label = sapi.label();
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
        if let Some(holder) = udp_port_holder(AGENT_UDP_PORT) {
            if !is_whatap_agent(&holder.1) {
                out.facts.push(
                    Fact::new(
                        "udp-port-conflict",
                        &label,
                        format!(
                            "UDP {AGENT_UDP_PORT} is held by PID {} ({}), not by whatap_php",
                            holder.0, holder.1
                        ),
                    )
                    .with("port", AGENT_UDP_PORT.to_string()),
                );
            }
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
                    format!(
                        "{} changed {}s after the master (PID {pid}) started",
                        file.display(),
                        changed
                            .duration_since(started)
                            .unwrap_or_default()
                            .as_secs()
                    ),
                ));
            }
        }
    }
    out
}

/// The port the whatap-php agent listens on for what the extension sends (the guide's
/// "Net UDP: Listener localhost:6600").
const AGENT_UDP_PORT: u16 = 6600;

fn is_whatap_agent(command: &str) -> bool {
    let name = command.rsplit('/').next().unwrap_or(command);
    name.starts_with("whatap_php") || name.starts_with("whatap-php")
}

/// The process (PID, command name) bound to local UDP `port`, from /proc/net/udp{,6}.
fn udp_port_holder(port: u16) -> Option<(u32, String)> {
    let inodes: Vec<String> = ["/proc/net/udp", "/proc/net/udp6"]
        .iter()
        .filter_map(|table| fs::read_to_string(table).ok())
        .flat_map(|text| udp_inodes(&text, port))
        .collect();
    if inodes.is_empty() {
        return None;
    }
    let wanted: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            fs::read_link(fd.path())
                .is_ok_and(|link| wanted.iter().any(|w| link.as_os_str() == w.as_str()))
        });
        if holds {
            let comm = fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
            return Some((pid, comm.trim().to_string()));
        }
    }
    // Bound, but by a process we cannot see (another user without privileges).
    Some((0, "unknown".to_string()))
}

/// Socket inodes bound to local `port` in a /proc/net/udp table.
fn udp_inodes(table: &str, port: u16) -> Vec<String> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields.get(1)?.rsplit_once(':')?.1;
            (u16::from_str_radix(local_port, 16).ok()? == port)
                .then(|| fields.get(9).map(|s| s.to_string()))
                .flatten()
        })
        .collect()
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
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = u64::try_from(hz).ok().filter(|h| *h > 0)?;
    Some(UNIX_EPOCH + Duration::from_secs(boot) + Duration::from_millis(ticks * 1000 / hz))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_udp_socket_on_a_port() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n  12: 0100007F:19C8 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 0\n  13: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 77 2 0000000000000000 0\n";
        assert_eq!(udp_inodes(table, 6600), ["4242"]);
        assert!(udp_inodes(table, 6601).is_empty());
        assert!(is_whatap_agent("whatap_php"));
        assert!(!is_whatap_agent("python3"));
    }

    #[test]
    fn sees_its_own_udp_socket() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        let (pid, _) = udp_port_holder(port).unwrap();
        assert_eq!(pid, std::process::id());
    }

    #[test]
    fn own_process_started_in_the_past() {
        let started = process_start(std::process::id()).unwrap();
        assert!(started <= SystemTime::now() + Duration::from_secs(1));
        assert!(SystemTime::now().duration_since(started).unwrap() < Duration::from_secs(86400));
    }
}
