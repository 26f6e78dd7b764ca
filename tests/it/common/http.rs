//! A tiny HTTP/1.1 server on 127.0.0.1 for download tests: fixed routes, `Range` answered
//! with 206, a first response that can be cut short (a dropped connection), absolute-form
//! requests served too (it doubles as an HTTP proxy), every request logged.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// (request target as sent, Range header).
pub type Request = (String, Option<String>);

#[derive(Clone)]
pub struct Route {
    body: Vec<u8>,
    /// The first full (non-Range) response stops after this many bytes and drops the socket.
    cut_first_at: Option<usize>,
}

#[derive(Clone, Default)]
pub struct Server {
    routes: Arc<Mutex<HashMap<String, Route>>>,
    log: Arc<Mutex<Vec<Request>>>,
    port: u16,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server = Server {
            port: listener.local_addr().unwrap().port(),
            ..Server::default()
        };
        let shared = server.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                shared.serve(stream);
            }
        });
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn put(&self, path: &str, body: &[u8], cut_first_at: Option<usize>) {
        self.routes.lock().unwrap().insert(
            path.to_string(),
            Route {
                body: body.to_vec(),
                cut_first_at,
            },
        );
    }

    /// `<path>.sha256` in sha256sum's format.
    pub fn put_sum(&self, path: &str, sum: &str) {
        let name = path.rsplit('/').next().unwrap_or(path);
        self.put(
            &format!("{path}.sha256"),
            format!("{sum}  {name}\n").as_bytes(),
            None,
        );
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    fn serve(&self, mut stream: TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
        let mut range = None;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap() == 0 || header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("range") {
                    range = Some(value.trim().to_string());
                }
            }
        }
        self.log
            .lock()
            .unwrap()
            .push((target.clone(), range.clone()));
        // A proxy gets the absolute URL: serve its path.
        let path = match target.strip_prefix("http://") {
            Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]).to_string(),
            None => target,
        };
        let mut routes = self.routes.lock().unwrap();
        let Some(route) = routes.get_mut(&path) else {
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            return;
        };
        let len = route.body.len();
        let start = range
            .as_deref()
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok());
        let response = match start {
            Some(start) if start < len => {
                let mut head = format!(
                    "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{len}\r\nConnection: close\r\n\r\n",
                    len - start,
                    len - 1
                )
                .into_bytes();
                head.extend_from_slice(&route.body[start..]);
                head
            }
            _ => {
                let mut head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
                )
                .into_bytes();
                let end = route.cut_first_at.take().unwrap_or(len);
                head.extend_from_slice(&route.body[..end]);
                head
            }
        };
        let _ = stream.write_all(&response);
        let _ = stream.flush();
        // Drain nothing more: closing now is the "dropped connection" for a cut response.
        let _ = stream.shutdown(std::net::Shutdown::Both);
        let _ = reader.read(&mut [0u8; 1]);
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A zip holding one file, under any name (hostile ones included).
pub fn zip_with(name: &str, data: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(data).unwrap();
    zip.finish().unwrap().into_inner()
}
