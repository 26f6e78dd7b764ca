//! TCP connects to every collector in parallel, under one short deadline overall, so a host
//! with several unreachable collectors still answers within about a second.

use serde::Serialize;
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const DEFAULT_PORT: u16 = 6600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Probe {
    pub host: String,
    pub port: u16,
    /// The address tried or connected to, once resolved.
    pub address: Option<SocketAddr>,
    /// None when connected; else `refused`, `timed out`, `no route`, `DNS` or the OS error.
    pub error: Option<String>,
}

fn classify(error: &std::io::Error) -> String {
    match error.kind() {
        ErrorKind::ConnectionRefused => "refused".into(),
        ErrorKind::TimedOut | ErrorKind::WouldBlock => "timed out".into(),
        ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => "no route".into(),
        _ => error.to_string(),
    }
}

fn probe(host: &str, port: u16, deadline: Instant) -> Probe {
    let mut result = Probe {
        host: host.to_string(),
        port,
        address: None,
        error: None,
    };
    let addrs: Vec<SocketAddr> = match (host, port).to_socket_addrs() {
        Ok(addrs) => addrs.collect(),
        Err(_) => {
            result.error = Some("DNS".into());
            return result;
        }
    };
    if addrs.is_empty() {
        result.error = Some("DNS".into());
        return result;
    }
    for addr in addrs {
        result.address = Some(addr);
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            result.error = Some("timed out".into());
            return result;
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(_) => {
                result.error = None;
                return result;
            }
            Err(e) => result.error = Some(classify(&e)),
        }
    }
    result
}

/// Probes every `(host, port)`; answers within `timeout` whatever the network does.
pub fn probe_all(targets: &[(String, u16)], timeout: Duration) -> Vec<Probe> {
    let deadline = Instant::now() + timeout;
    let (tx, rx) = mpsc::channel();
    for (index, (host, port)) in targets.iter().enumerate() {
        let tx = tx.clone();
        let (host, port) = (host.clone(), *port);
        // Detached: a DNS lookup that hangs must not hold the answer back.
        std::thread::spawn(move || {
            let _ = tx.send((index, probe(&host, port, deadline)));
        });
    }
    drop(tx);
    let mut results: Vec<Option<Probe>> = vec![None; targets.len()];
    while results.iter().any(Option::is_none) {
        let left = deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(50);
        match rx.recv_timeout(left) {
            Ok((index, probe)) => results[index] = Some(probe),
            Err(_) => break,
        }
    }
    results
        .into_iter()
        .zip(targets)
        .map(|(probe, (host, port))| {
            probe.unwrap_or_else(|| Probe {
                host: host.clone(),
                port: *port,
                address: None,
                error: Some("timed out".into()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn reports_open_and_refused_ports() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap().port();
        let closed = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let probes = probe_all(
            &[
                ("127.0.0.1".into(), open),
                ("127.0.0.1".into(), closed),
                ("name.invalid".into(), 1),
            ],
            Duration::from_secs(2),
        );
        assert_eq!(probes[0].error, None);
        assert_eq!(probes[1].error.as_deref(), Some("refused"));
        // Without a resolver this may also run out of time; it must never connect.
        assert!(matches!(
            probes[2].error.as_deref(),
            Some("DNS") | Some("timed out")
        ));
    }
}
