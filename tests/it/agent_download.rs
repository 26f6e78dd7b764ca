//! `--agent-archive` from a URL served by a tiny HTTP server on 127.0.0.1 (in this file), and
//! from local archives: download + sha256 + safe unpack + install into a fixture Tomcat tree,
//! resume after a dropped connection, wrong checksums and hostile archives refused with
//! nothing written, the offline cache, HTTP_PROXY / NO_PROXY.

use crate::common::http::*;
use crate::common::*;
use std::collections::BTreeMap;
use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The vendor layout: one top dir with the tracer jar, whatap.conf and the sigar libraries.
fn distribution_tar_gz() -> Vec<u8> {
    let jar = fs::read(stub_jar()).unwrap();
    let mut padding = vec![0u8; 256 << 10];
    for (i, b) in padding.iter_mut().enumerate() {
        *b = (i * 7 % 251) as u8;
    }
    let file = |name, data, mode| -> TarEntry { (name, tar::EntryType::Regular, data, mode, None) };
    let dir = |name| -> TarEntry { (name, tar::EntryType::Directory, &b""[..], 0o755, None) };
    tar_gz(&[
        dir("whatap/"),
        file("whatap/whatap.agent.tracer-2.2.0.jar", &jar[..], 0o644),
        file("whatap/whatap.conf", b"license=\n", 0o644),
        dir("whatap/lib1/"),
        file("whatap/lib1/libsigar-amd64-linux.so", &padding[..], 0o755),
    ])
}

type TarEntry<'a> = (&'a str, tar::EntryType, &'a [u8], u32, Option<&'a str>);

fn tar_gz(entries: &[TarEntry]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), Default::default());
    let mut builder = tar::Builder::new(gz);
    for (name, kind, data, mode, link) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(*kind);
        header.set_size(data.len() as u64);
        header.set_mode(*mode);
        if let Some(link) = link {
            header.set_link_name(link).unwrap();
        }
        // Raw name bytes: `set_path` would refuse the hostile ones this test needs.
        let raw = &mut header.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        header.set_cksum();
        builder.append(&header, *data).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

fn run(state: &Path, home: &Path, extra: &[&str]) -> std::process::Output {
    whatap(state)
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .args(install_args_without_agent(home))
        .args(extra)
        .output()
        .unwrap()
}

fn ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn unpacked_in_cache(state: &Path) -> Vec<PathBuf> {
    fs::read_dir(state.join("cache/agents"))
        .map(|e| {
            e.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().is_some_and(|n| {
                        n.len() == 64 || n.to_string_lossy().starts_with(".unpack")
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Uninstall returns every byte, the distribution's files included.
fn assert_uninstall_restores(state: &Path, home: &Path, before: &BTreeMap<PathBuf, Vec<u8>>) {
    whatap(state)
        .args(["uninstall", "--yes", "--home"])
        .arg(home)
        .assert()
        .success();
    assert_same_tree(&tree_bytes(home), before, "after uninstall");
}

fn assert_no_partial_download(state: &Path) {
    let downloads = state.join("cache/agents/downloads");
    assert!(
        !downloads.read_dir().unwrap().any(|_| true),
        "a .part was left"
    );
}

#[test]
fn download_installs_the_whole_distribution_then_offline_reuses_the_cache() {
    let server = Server::start();
    let archive = distribution_tar_gz();
    server.put("/agent/whatap.tar.gz", &archive, None);
    server.put_sum("/agent/whatap.tar.gz", &sha256(&archive));
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let before = tree_bytes(&home);
    let url = server.url("/agent/whatap.tar.gz");

    ok(&run(&state, &home, &["--agent-archive", &url, "--yes"]));
    let whatap_home = home.join("whatap");
    assert_eq!(
        fs::read(whatap_home.join("whatap.agent.tracer-2.2.0.jar")).unwrap(),
        fs::read(stub_jar()).unwrap()
    );
    let so = whatap_home.join("lib1/libsigar-amd64-linux.so");
    assert_eq!(
        fs::metadata(&so).unwrap().permissions().mode() & 0o777,
        0o755
    );
    let conf = fs::read_to_string(whatap_home.join("whatap.conf")).unwrap();
    assert!(conf.contains(&format!("license={LICENSE}")), "{conf}");
    let setenv = fs::read_to_string(home.join("bin/setenv.sh")).unwrap();
    assert!(setenv.contains("whatap.agent.tracer-2.2.0.jar"), "{setenv}");
    let requests = server.requests().len();

    // Offline, the same URL comes from the cache: no request, nothing to change.
    let out = run(
        &state,
        &home,
        &["--agent-archive", &url, "--offline", "--yes", "--json"],
    );
    ok(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["changed"], false, "{report}");
    assert_eq!(
        server.requests().len(),
        requests,
        "--offline used the network"
    );

    assert_uninstall_restores(&state, &home, &before);
}

#[test]
fn a_dropped_connection_resumes_with_range() {
    let server = Server::start();
    let archive = distribution_tar_gz();
    let cut = archive.len() / 3;
    server.put("/a.tar.gz", &archive, Some(cut));
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let out = run(
        &state,
        &home,
        &[
            "--agent-archive",
            &server.url("/a.tar.gz"),
            "--sha256",
            &sha256(&archive),
            "--yes",
        ],
    );
    ok(&out);
    let ranges: Vec<_> = server
        .requests()
        .into_iter()
        .filter_map(|(_, range)| range)
        .collect();
    assert_eq!(ranges, [format!("bytes={cut}-")]);
    assert!(home.join("whatap/lib1/libsigar-amd64-linux.so").is_file());
    assert_no_partial_download(&state);
}

#[test]
fn a_wrong_checksum_is_refused_and_nothing_is_written() {
    let server = Server::start();
    let archive = distribution_tar_gz();
    server.put("/a.tar.gz", &archive, None);
    server.put_sum("/a.tar.gz", &"0".repeat(64));
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let before = tree_bytes(&home);
    for extra in [
        vec!["--agent-archive".to_string(), server.url("/a.tar.gz")],
        vec![
            "--agent-archive".to_string(),
            server.url("/a.tar.gz"),
            "--sha256".to_string(),
            "1".repeat(64),
        ],
    ] {
        let mut args: Vec<&str> = extra.iter().map(String::as_str).collect();
        args.push("--yes");
        let out = run(&state, &home, &args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("sha256") && stderr.contains("hint:"),
            "{stderr}"
        );
        assert_same_tree(&tree_bytes(&home), &before, "after a bad checksum");
        assert!(unpacked_in_cache(&state).is_empty());
        assert_no_partial_download(&state);
    }
    // No checksum at all (no --sha256, no .sha256 beside it): refused too.
    server.put("/b.tar.gz", &archive, None);
    let out = run(
        &state,
        &home,
        &["--agent-archive", &server.url("/b.tar.gz"), "--yes"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--sha256"));
}

#[test]
fn hostile_archives_are_refused_and_nothing_is_written() {
    let jar = fs::read(stub_jar()).unwrap();
    let good: TarEntry = (
        "whatap.agent.tracer-2.2.0.jar",
        tar::EntryType::Regular,
        &jar,
        0o644,
        None,
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "dotdot.tar.gz",
            tar_gz(&[
                good,
                ("../../escaped", tar::EntryType::Regular, b"x", 0o644, None),
            ]),
        ),
        (
            "absolute.tar.gz",
            tar_gz(&[
                good,
                (
                    "/tmp/whatap-escaped",
                    tar::EntryType::Regular,
                    b"x",
                    0o644,
                    None,
                ),
            ]),
        ),
        (
            "symlink.tar.gz",
            tar_gz(&[
                good,
                ("lib1", tar::EntryType::Symlink, b"", 0o777, Some("/etc")),
            ]),
        ),
        (
            "hardlink.tar.gz",
            tar_gz(&[
                good,
                (
                    "passwd",
                    tar::EntryType::Link,
                    b"",
                    0o644,
                    Some("/etc/passwd"),
                ),
            ]),
        ),
        ("dotdot.zip", zip_with("../../escaped", b"x")),
        ("absolute.zip", zip_with("/tmp/whatap-escaped", b"x")),
    ];
    let server = Server::start();
    for (name, bytes) in &cases {
        let (dir, home) = fixture("tomcat9");
        let state = dir.path().join("state");
        let home_before = tree_bytes(&home);
        let file = dir.path().join(name);
        fs::write(&file, bytes).unwrap();
        let before_with_file = tree_bytes(dir.path());
        let out = run(
            &state,
            &home,
            &["--agent-archive", file.to_str().unwrap(), "--yes"],
        );
        assert_eq!(
            out.status.code(),
            Some(3),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("refused"),
            "{name}"
        );
        let mut after = tree_bytes(dir.path());
        after.retain(|p, _| !p.starts_with("state"));
        assert_same_tree(&after, &before_with_file, name);
        assert!(
            unpacked_in_cache(&state).is_empty(),
            "{name}: left in the cache"
        );
        assert!(!Path::new("/tmp/whatap-escaped").exists());

        // The same archive from a URL: refused after the download, nothing written.
        let path = format!("/{name}");
        server.put(&path, bytes, None);
        let out = run(
            &state,
            &home,
            &[
                "--agent-archive",
                &server.url(&path),
                "--sha256",
                &sha256(bytes),
                "--yes",
            ],
        );
        assert_eq!(out.status.code(), Some(3), "{name} by URL");
        assert!(
            unpacked_in_cache(&state).is_empty(),
            "{name}: left in the cache"
        );
        assert_same_tree(&tree_bytes(&home), &home_before, name);
    }
}

#[test]
fn local_zip_and_offline_without_cache() {
    let jar = fs::read(stub_jar()).unwrap();
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let zip = dir.path().join("whatap.zip");
    fs::write(&zip, zip_with("whatap/whatap.agent.tracer-2.3.0.jar", &jar)).unwrap();
    ok(&run(
        &state,
        &home,
        &[
            "--agent-archive",
            zip.to_str().unwrap(),
            "--offline",
            "--yes",
        ],
    ));
    assert!(home.join("whatap/whatap.agent.tracer-2.3.0.jar").is_file());

    let before = tree_bytes(&home);
    let out = run(
        &state,
        &home,
        &[
            "--agent-archive",
            "https://agent.invalid/whatap.zip",
            "--offline",
            "--yes",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not in the cache"));
    assert_same_tree(&tree_bytes(&home), &before, "offline miss");
}

#[test]
fn http_proxy_is_used_and_no_proxy_bypasses_it() {
    let proxy = Server::start();
    let archive = distribution_tar_gz();
    proxy.put("/p.tar.gz", &archive, None);
    let sum = sha256(&archive);
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let out = whatap(&state)
        .env("HTTP_PROXY", proxy.url(""))
        .env("http_proxy", proxy.url(""))
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .args(install_args_without_agent(&home))
        .args([
            "--agent-archive",
            "http://agent.invalid/p.tar.gz",
            "--sha256",
            &sum,
        ])
        .args(["--dry-run"])
        .output()
        .unwrap();
    ok(&out);
    assert_eq!(proxy.requests()[0].0, "http://agent.invalid/p.tar.gz");

    // NO_PROXY: the direct server is reached although the proxy is a dead port.
    let direct = Server::start();
    direct.put("/d.tar.gz", &archive, None);
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let out = whatap(dir.path().join("state2").as_path())
        .env("HTTP_PROXY", &dead_url)
        .env("http_proxy", &dead_url)
        .env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1")
        .args(install_args_without_agent(&home))
        .args([
            "--agent-archive",
            &direct.url("/d.tar.gz"),
            "--sha256",
            &sum,
            "--dry-run",
        ])
        .output()
        .unwrap();
    ok(&out);
    assert_eq!(direct.requests().len(), 1);
}

#[test]
fn an_unpacked_directory_installs_the_same_way_and_twice_changes_nothing() {
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let dist = dir.path().join("dist");
    fs::create_dir_all(dist.join("lib1")).unwrap();
    fs::copy(stub_jar(), dist.join("whatap.agent.tracer-2.2.0.jar")).unwrap();
    fs::write(dist.join("whatap.conf"), "license=from-the-archive\n").unwrap();
    let so = dist.join("lib1/libsigar-amd64-linux.so");
    fs::write(&so, b"\x7fELF").unwrap();
    fs::set_permissions(&so, fs::Permissions::from_mode(0o755)).unwrap();
    let before = tree_bytes(&home);
    let dist_arg = dist.display().to_string();

    ok(&run(
        &state,
        &home,
        &["--agent-archive", &dist_arg, "--yes"],
    ));
    let installed = home.join("whatap/lib1/libsigar-amd64-linux.so");
    assert_eq!(
        fs::metadata(&installed).unwrap().permissions().mode() & 0o777,
        0o755
    );
    let conf = fs::read_to_string(home.join("whatap/whatap.conf")).unwrap();
    assert!(!conf.contains("from-the-archive"), "{conf}");
    let out = run(
        &state,
        &home,
        &["--agent-archive", &dist_arg, "--yes", "--json"],
    );
    ok(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["changed"], false, "{report}");

    assert_uninstall_restores(&state, &home, &before);
}

#[test]
fn an_archive_with_too_many_entries_is_refused() {
    let jar = fs::read(stub_jar()).unwrap();
    let names: Vec<String> = (0..20_001).map(|i| format!("whatap/f{i}")).collect();
    let mut entries: Vec<TarEntry> = vec![(
        "whatap/whatap.agent.tracer-2.2.0.jar",
        tar::EntryType::Regular,
        &jar,
        0o644,
        None,
    )];
    entries.extend(
        names
            .iter()
            .map(|n| -> TarEntry { (n, tar::EntryType::Regular, b"", 0o644, None) }),
    );
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let file = dir.path().join("many.tar.gz");
    fs::write(&file, tar_gz(&entries)).unwrap();
    let before = tree_bytes(&home);
    let out = run(
        &state,
        &home,
        &["--agent-archive", file.to_str().unwrap(), "--yes"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("too many entries"));
    assert!(unpacked_in_cache(&state).is_empty());
    assert_same_tree(&tree_bytes(&home), &before, "too many entries");
}

/// `openssl s_server -WWW` on 127.0.0.1 serving `root`, with a certificate signed by a CA
/// made here (a TLS-inspecting proxy's or an internal mirror's stand-in); killed on drop.
struct TlsServer {
    child: std::process::Child,
    port: u16,
    ca: PathBuf,
}

impl TlsServer {
    fn start(root: &Path) -> TlsServer {
        let openssl = |args: &[&str]| {
            let out = std::process::Command::new("openssl")
                .args(args)
                .current_dir(root)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let key = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        openssl(
            &[
                &["req", "-x509"],
                &key[..],
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=whatap test CA",
                ],
            ]
            .concat(),
        );
        openssl(
            &[
                &["req"],
                &key[..],
                &[
                    "-keyout",
                    "srv.key",
                    "-out",
                    "srv.csr",
                    "-subj",
                    "/CN=127.0.0.1",
                ],
            ]
            .concat(),
        );
        fs::write(
            root.join("ext"),
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "srv.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "srv.pem",
            "-days",
            "2",
            "-extfile",
            "ext",
        ]);
        let mut child = std::process::Command::new("openssl")
            .args([
                "s_server",
                "-accept",
                "127.0.0.1:0",
                "-cert",
                "srv.pem",
                "-key",
                "srv.key",
                "-WWW",
            ])
            .current_dir(root)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // It prints `ACCEPT 127.0.0.1:PORT` once it listens on the port it was given.
        let mut lines =
            std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
        let port = lines
            .by_ref()
            .map_while(|l| l.ok())
            .find_map(|l| {
                l.strip_prefix("ACCEPT 127.0.0.1:")
                    .and_then(|p| p.trim().parse().ok())
            })
            .expect("openssl s_server did not listen");
        std::thread::spawn(move || lines.for_each(drop));
        TlsServer {
            child,
            port,
            ca: root.join("ca.pem"),
        }
    }

    fn url(&self, file: &str) -> String {
        format!("https://127.0.0.1:{}/{file}", self.port)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_mirror_signed_by_a_private_ca_needs_cacert_or_ssl_cert_file() {
    let openssl = std::process::Command::new("openssl")
        .arg("version")
        .output();
    if !must_have("openssl", openssl.is_ok_and(|o| o.status.success())) {
        return;
    }
    let (dir, home) = fixture("tomcat9");
    let root = dir.path().join("mirror");
    fs::create_dir_all(&root).unwrap();
    let archive = distribution_tar_gz();
    fs::write(root.join("whatap.tar.gz"), &archive).unwrap();
    fs::write(root.join("whatap.tar.gz.sha256"), sha256(&archive)).unwrap();
    let server = TlsServer::start(&root);
    let url = server.url("whatap.tar.gz");
    let before = tree_bytes(&home);
    let state = dir.path().join("state");

    // The bundled roots and the OS store do not know the CA: refused, the hint names --cacert.
    let out = run(&state, &home, &["--agent-archive", &url, "--yes"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("certificate") && err.contains("--cacert"),
        "{err}"
    );
    assert_same_tree(&tree_bytes(&home), &before, "untrusted mirror");

    let ca = server.ca.to_str().unwrap();
    ok(&run(
        &state,
        &home,
        &["--agent-archive", &url, "--cacert", ca, "--dry-run"],
    ));
    // SSL_CERT_FILE, as OpenSSL and curl read it.
    let out = whatap(&dir.path().join("state2"))
        .env("SSL_CERT_FILE", ca)
        .args(install_args_without_agent(&home))
        .args(["--agent-archive", &url, "--dry-run"])
        .output()
        .unwrap();
    ok(&out);
    assert_same_tree(&tree_bytes(&home), &before, "dry runs");

    // A --cacert that is no PEM file: exit 2 naming it, nothing fetched.
    let out = run(
        &state,
        &home,
        &[
            "--agent-archive",
            &url,
            "--cacert",
            "/etc/hostname",
            "--yes",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cacert /etc/hostname"));
}
