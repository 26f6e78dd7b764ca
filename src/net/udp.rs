//! Who holds a local UDP port: `/proc/net/udp{,6}` gives the socket inode, `/proc/PID/fd` the
//! process. Read directly so doctor stays instant; fds are only walked when the port is bound.

use std::fs;
use std::path::Path;

/// Inodes of UDP sockets bound to `port` (any local address), from a `/proc/net/udp` table.
pub fn inodes_on_port(table: &str, port: u16) -> Vec<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields.get(1)?.rsplit(':').next()?;
            let bound = u16::from_str_radix(local_port, 16).ok()? == port;
            bound.then(|| fields.get(9)?.parse().ok()).flatten()
        })
        .filter(|&inode| inode != 0)
        .collect()
}

/// PIDs (with their command name) owning a UDP socket bound to `port`.
pub fn port_owners(proc_root: &Path, port: u16) -> Vec<(u32, String)> {
    let inodes: Vec<u64> = ["net/udp", "net/udp6"]
        .iter()
        .filter_map(|t| fs::read_to_string(proc_root.join(t)).ok())
        .flat_map(|table| inodes_on_port(&table, port))
        .collect();
    if inodes.is_empty() {
        return Vec::new();
    }
    let wanted: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    let Ok(entries) = fs::read_dir(proc_root) else {
        return Vec::new();
    };
    let mut owners = Vec::new();
    for pid in entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
    {
        let dir = proc_root.join(pid.to_string());
        let Ok(fds) = fs::read_dir(dir.join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            fs::read_link(fd.path())
                .is_ok_and(|target| wanted.iter().any(|w| target.as_os_str() == w.as_str()))
        });
        if holds {
            let name = fs::read_to_string(dir.join("comm")).unwrap_or_default();
            owners.push((pid, name.trim().to_string()));
        }
    }
    owners
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_proc_table_and_finds_this_process() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n  123: 0100007F:19C8 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 0\n";
        assert_eq!(inodes_on_port(table, 6600), vec![4242]);
        assert!(inodes_on_port(table, 6601).is_empty());
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        let owners = port_owners(Path::new("/proc"), port);
        assert!(
            owners.iter().any(|(pid, _)| *pid == std::process::id()),
            "{owners:?}"
        );
    }
}
