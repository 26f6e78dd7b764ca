//! Helpers shared by the integration tests: the binary, fixture copies, the stub agent jar.
#![allow(dead_code)]

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process;
use std::sync::OnceLock;

pub const LICENSE: &str = "x41pl22ek7jhv-z43cebasdv4il7-z62p3l35fj5502";
pub const LICENSE_TAIL: &str = "5502";

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary with a private state dir and no inherited CI/locale surprises.
pub fn whatap(state: &Path) -> Command {
    let mut cmd = Command::cargo_bin("whatap").expect("binary built");
    cmd.env("WHATAP_STATE_DIR", state)
        .env_remove("WHATAP_LICENSE")
        .env_remove("WHATAP_HOST")
        .env_remove("WHATAP_LANG")
        .env("LANG", "C")
        .env("NO_COLOR", "1");
    cmd
}

pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        let dest = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &dest);
        } else if kind.is_symlink() {
            // Relative links (Debian's bin/tomcat-juli.jar -> ../../java/...) would dangle in
            // the copy: point at what the original resolves to.
            let target = fs::canonicalize(entry.path())
                .unwrap_or_else(|_| fs::read_link(entry.path()).unwrap());
            std::os::unix::fs::symlink(target, &dest).unwrap();
        } else {
            fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// A fresh copy of `fixtures/tomcat/<name>` in a temp dir.
pub fn fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join(name);
    copy_tree(&repo().join("fixtures/tomcat").join(name), &home);
    (dir, home)
}

/// Every regular file under `root` with its bytes (symlinks as their target text).
pub fn tree_bytes(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut map = BTreeMap::new();
    fn walk(dir: &Path, root: &Path, map: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let kind = entry.file_type().unwrap();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            if kind.is_symlink() {
                map.insert(
                    rel,
                    fs::read_link(&path)
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes(),
                );
            } else if kind.is_dir() {
                map.insert(rel.join(""), Vec::new());
                walk(&path, root, map);
            } else if kind.is_file() {
                map.insert(rel, fs::read(&path).unwrap());
            } else {
                // A FIFO or socket: reading it would block.
                map.insert(rel, b"<special file>".to_vec());
            }
        }
    }
    walk(root, root, &mut map);
    map
}

/// Asserts two trees are equal, naming the paths that differ (not dumping bytes).
pub fn assert_same_tree(
    found: &BTreeMap<PathBuf, Vec<u8>>,
    expected: &BTreeMap<PathBuf, Vec<u8>>,
    what: &str,
) {
    let differing: Vec<String> = found
        .keys()
        .chain(expected.keys())
        .filter(|p| found.get(*p) != expected.get(*p))
        .map(|p| p.display().to_string())
        .collect();
    assert!(differing.is_empty(), "{what}: these differ: {differing:?}");
}

/// (path, mtime) of every file under `root`: proves that nothing was even rewritten.
pub fn tree_mtimes(root: &Path) -> BTreeMap<PathBuf, std::time::SystemTime> {
    tree_bytes(root)
        .keys()
        .map(|rel| {
            (
                rel.clone(),
                fs::symlink_metadata(root.join(rel))
                    .unwrap()
                    .modified()
                    .unwrap(),
            )
        })
        .collect()
}

/// The stub agent jar, built once per `cargo test` run with javac and shared by every test
/// binary (a file lock keeps parallel test binaries from building it twice).
pub fn stub_jar() -> PathBuf {
    static JAR: OnceLock<PathBuf> = OnceLock::new();
    JAR.get_or_init(|| {
        let out = repo().join("target/stub-agent");
        fs::create_dir_all(&out).unwrap();
        let jar = out.join("whatap.agent.tracer-0.0.1.jar");
        let lock = fs::File::create(out.join(".lock")).unwrap();
        // SAFETY: flock on our own descriptor; released when `lock` drops.
        unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
        if !jar.exists() {
            let build = tempfile::tempdir_in(&out).unwrap();
            let src = repo().join("tests/stub-agent/WhatapStub.java");
            run(process::Command::new("javac")
                .args(["--release", "11", "-d"])
                .arg(build.path())
                .arg(&src));
            fs::write(
                build.path().join("MANIFEST.MF"),
                "Premain-Class: WhatapStub\n",
            )
            .unwrap();
            let tmp_jar = build.path().join("stub.jar");
            run(process::Command::new("jar")
                .arg("cfm")
                .arg(&tmp_jar)
                .arg(build.path().join("MANIFEST.MF"))
                .arg("-C")
                .arg(build.path())
                .arg("WhatapStub.class"));
            fs::rename(&tmp_jar, &jar).unwrap();
        }
        jar
    })
    .clone()
}

fn run(cmd: &mut process::Command) {
    let status = cmd.status().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(status.success(), "{cmd:?} failed");
}

pub fn install_args(home: &Path) -> Vec<String> {
    vec![
        "install".into(),
        "--home".into(),
        home.display().to_string(),
        "--license".into(),
        LICENSE.into(),
        "--host".into(),
        "127.0.0.1".into(),
        "--agent-jar".into(),
        stub_jar().display().to_string(),
    ]
}

/// Is this run required to have every real part (CI), or may it skip loudly?
pub fn must_have(part: &str, present: bool) -> bool {
    if present {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{part} is missing but CI=true: .ci/run must install it");
    }
    eprintln!("SKIPPED: {part} is not installed (run .ci/run to install it)");
    false
}
