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
    product_fixture("tomcat", name)
}

/// A fresh copy of `fixtures/<product>/<name>` in a temp dir.
pub fn product_fixture(product: &str, name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join(name);
    copy_tree(&repo().join("fixtures").join(product).join(name), &home);
    (dir, home)
}

/// A stand-in `java` that prints each argument on its own line: proves the command line a
/// start script builds without starting a JVM.
pub fn stub_java(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let java = dir.join("stub-java");
    fs::write(
        &java,
        "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n",
    )
    .unwrap();
    fs::set_permissions(&java, fs::Permissions::from_mode(0o755)).unwrap();
    java
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
            } else {
                map.insert(rel, fs::read(&path).unwrap());
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
        // The directory name changes with the manifest, so an old build is never reused.
        let out = repo().join("target/stub-agent-2");
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
                "Premain-Class: WhatapStub\nAgent-Class: WhatapStub\nMain-Class: WhatapStub\n",
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

pub fn json(output: &[u8]) -> serde_json::Value {
    serde_json::from_slice(output)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(output)))
}

/// Every file of `../shared/corpus/<dir>` (real upstream configs), sorted.
pub fn corpus(dir: &str) -> Vec<PathBuf> {
    let root = repo().join("../shared/corpus").join(dir);
    let mut files: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files
}

/// `install` (with --yes --json), `check` on the installed tree, the same install again (must
/// change nothing), then `uninstall` (with --yes): `tree` must have every original byte back.
/// Returns the install's diff with `tmp` shown as [TMP].
pub fn round_trip(
    tmp: &Path,
    tree: &Path,
    install: &[String],
    uninstall: &[String],
    check: impl FnOnce(),
) -> String {
    let state = tmp.join("state");
    let before = tree_bytes(tree);
    let out = whatap(&state)
        .args(install)
        .args(["--yes", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        tree.display(),
        String::from_utf8_lossy(&out.stdout)
    );
    let diff = json(&out.stdout)["diff"]
        .as_str()
        .unwrap()
        .replace(&tmp.display().to_string(), "[TMP]");
    assert_ne!(tree_bytes(tree), before, "install changed nothing");
    check();
    let again = whatap(&state)
        .args(install)
        .args(["--yes", "--json"])
        .output()
        .unwrap();
    assert_eq!(json(&again.stdout)["changed"], false, "{}", tree.display());
    whatap(&state)
        .args(uninstall)
        .arg("--yes")
        .assert()
        .success();
    assert_same_tree(&tree_bytes(tree), &before, "after uninstall");
    diff
}

/// `install --runtime KIND --port PORT` args for a fixture home.
pub fn runtime_install(home: &Path, runtime: &str, port: u16, extra: &[&str]) -> Vec<String> {
    let mut args = install_args(home);
    args.extend(["--runtime".to_string(), runtime.to_string()]);
    args.extend(["--port".to_string(), port.to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// `uninstall --runtime KIND --home HOME` (+ extra).
pub fn runtime_uninstall(home: &Path, runtime: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["uninstall", "--runtime", runtime, "--home"]
        .map(String::from)
        .to_vec();
    args.push(home.display().to_string());
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// A TCP port free on loopback right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh `fixtures/<product>/<name>` through `round_trip` with `--runtime runtime`.
pub fn fixture_round_trip(
    product: &str,
    name: &str,
    runtime: &str,
    port: u16,
    extra: &[&str],
) -> String {
    let (dir, home) = product_fixture(product, name);
    round_trip(
        dir.path(),
        &home,
        &runtime_install(&home, runtime, port, extra),
        &runtime_uninstall(&home, runtime, &[]),
        || {},
    )
}
