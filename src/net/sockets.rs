//! Sockets from `/proc/net/{tcp,udp}{,6}` and the processes that own them (through the
//! `socket:[inode]` links in `/proc/PID/fd`).

use std::fs;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    fn tables(self) -> [&'static str; 2] {
        match self {
            Proto::Tcp => ["net/tcp", "net/tcp6"],
            Proto::Udp => ["net/udp", "net/udp6"],
        }
    }
}

/// TCP state LISTEN in /proc/net/tcp.
const TCP_LISTEN: &str = "0A";

/// (local port, inode) of every bound UDP socket or listening TCP socket.
fn bound(proc_root: &Path, proto: Proto) -> Vec<(u16, u64)> {
    let mut found = Vec::new();
    for table in proto.tables() {
        let Ok(text) = fs::read_to_string(proc_root.join(table)) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state), Some(inode)) =
                (fields.get(1), fields.get(3), fields.get(9))
            else {
                continue;
            };
            if proto == Proto::Tcp && *state != TCP_LISTEN {
                continue;
            }
            let port = local
                .rsplit(':')
                .next()
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            if let (Some(port), Ok(inode)) = (port, inode.parse::<u64>()) {
                found.push((port, inode));
            }
        }
    }
    found
}

/// Socket inodes a process holds open.
fn socket_inodes_of(proc_root: &Path, pid: u32) -> Vec<u64> {
    let Ok(fds) = fs::read_dir(proc_root.join(pid.to_string()).join("fd")) else {
        return Vec::new();
    };
    fds.flatten()
        .filter_map(|fd| fs::read_link(fd.path()).ok())
        .filter_map(|link| {
            let link = link.to_str()?;
            link.strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect()
}

/// PIDs of the processes holding local `port`.
pub fn owners(proc_root: &Path, proto: Proto, port: u16) -> Vec<u32> {
    let inodes: Vec<u64> = bound(proc_root, proto)
        .into_iter()
        .filter(|(p, _)| *p == port)
        .map(|(_, i)| i)
        .collect();
    if inodes.is_empty() {
        return Vec::new();
    }
    let Ok(entries) = fs::read_dir(proc_root) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            socket_inodes_of(proc_root, *pid)
                .iter()
                .any(|i| inodes.contains(i))
        })
        .collect()
}

/// Ports a process listens on (TCP) or is bound to (UDP), sorted.
pub fn ports_of(proc_root: &Path, proto: Proto, pid: u32) -> Vec<u16> {
    let mine = socket_inodes_of(proc_root, pid);
    let mut ports: Vec<u16> = bound(proc_root, proto)
        .into_iter()
        .filter(|(_, inode)| mine.contains(inode))
        .map(|(port, _)| port)
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_this_process_holding_a_udp_port() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        assert_eq!(
            owners(Path::new("/proc"), Proto::Udp, port),
            vec![std::process::id()]
        );
        drop(socket);
        assert!(owners(Path::new("/proc"), Proto::Udp, port).is_empty());
    }

    #[test]
    fn lists_listening_tcp_ports_of_a_process() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(ports_of(Path::new("/proc"), Proto::Tcp, std::process::id()).contains(&port));
    }
}
