//! Who holds a local UDP port: `/proc/net/udp{,6}` gives the socket inode, `/proc/PID/fd`
//! links give the process that owns it.

use std::fs;
use std::path::Path;

/// Inodes of sockets bound to local `port` (any address).
fn socket_inodes(proc_root: &Path, port: u16) -> Vec<u64> {
    let mut inodes = Vec::new();
    for table in ["net/udp", "net/udp6"] {
        let Ok(text) = fs::read_to_string(proc_root.join(table)) else { continue };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(inode)) = (fields.get(1), fields.get(9)) else { continue };
            let Some(local_port) = local.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok()) else {
                continue;
            };
            if local_port == port {
                if let Ok(inode) = inode.parse::<u64>() {
                    inodes.push(inode);
                }
            }
        }
    }
    inodes
}

/// PIDs of the processes holding UDP `port`.
pub fn owners(proc_root: &Path, port: u16) -> Vec<u32> {
    let inodes = socket_inodes(proc_root, port);
    if inodes.is_empty() {
        return Vec::new();
    }
    let wanted: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    let mut pids = Vec::new();
    let Ok(entries) = fs::read_dir(proc_root) else { return pids };
    for pid in entries.flatten().filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok()) {
        let Ok(fds) = fs::read_dir(proc_root.join(pid.to_string()).join("fd")) else { continue };
        let holds = fds
            .flatten()
            .filter_map(|fd| fs::read_link(fd.path()).ok())
            .any(|link| wanted.iter().any(|w| link.as_os_str() == w.as_str()));
        if holds {
            pids.push(pid);
        }
    }
    pids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_this_process_holding_a_udp_port() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        assert_eq!(owners(Path::new("/proc"), port), vec![std::process::id()]);
        drop(socket);
        assert!(owners(Path::new("/proc"), port).is_empty());
    }
}
