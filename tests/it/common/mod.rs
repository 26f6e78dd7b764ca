//! Helpers shared by the integration tests: the binary, fixture copies, the stub agent jar.

pub mod host;
pub mod http;
pub mod node;
pub mod tomcat;

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub const LICENSE: &str = "x41pl22ek7jhv-z43cebasdv4il7-z62p3l35fj5502";
pub const LICENSE_TAIL: &str = "5502";
/// The tail of a non-interactive install: the license, a loopback collector, --yes --json.
pub const LICENSED_YES_JSON: [&str; 6] = [
    "--license",
    LICENSE,
    "--host",
    "127.0.0.1",
    "--yes",
    "--json",
];

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

/// The binary as a `std::process::Command` (to spawn runs side by side, to kill one): the same
/// environment as `whatap`, no stdin, output discarded unless the caller pipes it.
pub fn whatap_process(state: &Path, args: &[String]) -> process::Command {
    let mut cmd = process::Command::new(env!("CARGO_BIN_EXE_whatap"));
    cmd.args(args)
        .env("WHATAP_STATE_DIR", state)
        .env_remove("WHATAP_LICENSE")
        .env_remove("WHATAP_HOST")
        .env_remove("WHATAP_LANG")
        .env("LANG", "C")
        .env("NO_COLOR", "1")
        .stdin(process::Stdio::null())
        .stdout(process::Stdio::null())
        .stderr(process::Stdio::null());
    cmd
}

/// The ledger of `state` must hold no license key (only hashes; the backups hold bytes).
pub fn assert_no_license_in_ledger(state: &Path) {
    let ledger = fs::read_to_string(state.join("ledger.json")).unwrap_or_default();
    assert!(
        !ledger.contains(LICENSE),
        "the ledger holds the license: {ledger}"
    );
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

/// The tomcat9 fixture with a WhaTap home of its own (`<tmp>/agent`) whose whatap.conf holds
/// `conf`: (temp dir, home, whatap.conf, install args with `--whatap-home`).
pub fn fixture_with_whatap_conf(conf: &str) -> (tempfile::TempDir, PathBuf, PathBuf, Vec<String>) {
    let (dir, home) = fixture("tomcat9");
    let whatap_home = dir.path().join("agent");
    fs::create_dir_all(&whatap_home).unwrap();
    let path = whatap_home.join("whatap.conf");
    fs::write(&path, conf).unwrap();
    let args = with_flag(
        install_args(&home),
        "--whatap-home",
        &whatap_home.display().to_string(),
    );
    (dir, home, path, args)
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

/// `install` + `--dry-run --json`, which must succeed: the plan's warnings, as JSON text.
pub fn plan_warnings(state: &Path, install: &[String]) -> String {
    let out = whatap(state)
        .args(install)
        .args(["--dry-run", "--json"])
        .output()
        .unwrap();
    let report = json(&out.stdout);
    assert!(out.status.success(), "{report}");
    report["warnings"].to_string()
}

/// `install` + `--server unknown --yes`: exit 2, one line naming the servers there are
/// (`servers`, as listed), nothing under `tree` touched.
pub fn refuses_unknown_server(state: &Path, tree: &Path, install: &[String], servers: &str) {
    let before = tree_bytes(tree);
    let out = whatap(state)
        .args(install)
        .args(["--server", "unknown", "--yes"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--server unknown") && err.contains(&format!("servers: {servers})")),
        "{err}"
    );
    assert_same_tree(&tree_bytes(tree), &before, "unknown server");
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
        built_jar(
            "whatap.agent.tracer-0.0.1.jar",
            "WhatapStub",
            Some("Premain-Class: WhatapStub\nAgent-Class: WhatapStub\nMain-Class: WhatapStub\n"),
        )
    })
    .clone()
}

/// `IdleMain` (tests/stub-agent/IdleMain.java) in a jar of its own, for a JVM's class path:
/// the agent's classes then come only from the agent jar, as the real tracer's do (doctor
/// finds an attached agent by its jar open in the JVM).
pub fn stub_app_jar() -> PathBuf {
    static JAR: OnceLock<PathBuf> = OnceLock::new();
    JAR.get_or_init(|| built_jar("stub-app.jar", "IdleMain", None))
        .clone()
}

/// `tests/stub-agent/<class>.java` compiled into `target/stub-agent-3/<name>` (with
/// `manifest`), once: a file lock keeps parallel runs from building it twice.
fn built_jar(name: &str, class: &str, manifest: Option<&str>) -> PathBuf {
    // The directory name changes with the jars' contents, so an old build is never reused.
    let out = repo().join("target/stub-agent-3");
    fs::create_dir_all(&out).unwrap();
    let jar = out.join(name);
    let lock = fs::File::create(out.join(".lock")).unwrap();
    // SAFETY: flock on our own descriptor; released when `lock` drops.
    unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
    if !jar.exists() {
        let build = tempfile::tempdir_in(&out).unwrap();
        run(process::Command::new("javac")
            .args(["--release", "11", "-d"])
            .arg(build.path())
            .arg(repo().join(format!("tests/stub-agent/{class}.java"))));
        let tmp_jar = build.path().join("built.jar");
        let mut cmd = process::Command::new("jar");
        match manifest {
            Some(text) => {
                fs::write(build.path().join("MANIFEST.MF"), text).unwrap();
                cmd.arg("cfm")
                    .arg(&tmp_jar)
                    .arg(build.path().join("MANIFEST.MF"));
            }
            None => {
                cmd.arg("cf").arg(&tmp_jar);
            }
        }
        run(cmd
            .arg("-C")
            .arg(build.path())
            .arg(format!("{class}.class")));
        fs::rename(&tmp_jar, &jar).unwrap();
    }
    jar
}

fn run(cmd: &mut process::Command) {
    let status = cmd.status().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(status.success(), "{cmd:?} failed");
}

/// A fresh copy of `fixtures/tomcat/<name>` with the stub agent installed by the binary:
/// (temp dir, home, state dir).
pub fn installed(name: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (dir, home) = fixture(name);
    let state = dir.path().join("state");
    whatap(&state)
        .args(install_args(&home))
        .arg("--yes")
        .assert()
        .success();
    assert_no_license_in_ledger(&state);
    (dir, home, state)
}

pub fn install_args(home: &Path) -> Vec<String> {
    install_args_for(["--home".to_string(), home.display().to_string()])
}

/// `install` for the target the flags name (`--pid P --unit U`, `--start-script S`, ...) with
/// the license, a loopback collector and the stub agent jar.
pub fn install_args_for(target: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut args = vec!["install".to_string()];
    args.extend(target);
    args.extend([
        "--license".into(),
        LICENSE.into(),
        "--host".into(),
        "127.0.0.1".into(),
        "--agent-jar".into(),
        stub_jar().display().to_string(),
    ]);
    args
}

/// `args` with the value of `flag` replaced, or `flag value` added when `flag` is not there (a
/// flag may be given only once).
pub fn with_flag(mut args: Vec<String>, flag: &str, value: &str) -> Vec<String> {
    match args.iter().position(|a| a == flag) {
        Some(i) => args[i + 1] = value.to_string(),
        None => args.extend([flag.to_string(), value.to_string()]),
    }
    args
}

/// `args` without `flag` and its value.
pub fn without_flag(mut args: Vec<String>, flag: &str) -> Vec<String> {
    if let Some(i) = args.iter().position(|a| a == flag) {
        args.drain(i..i + 2);
    }
    args
}

/// `install` for `home` with the license and a loopback collector; the agent source is left
/// to the caller.
pub fn install_args_without_agent(home: &Path) -> Vec<String> {
    vec![
        "install".into(),
        "--home".into(),
        home.display().to_string(),
        "--license".into(),
        LICENSE.into(),
        "--host".into(),
        "127.0.0.1".into(),
    ]
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A finished command's stderr as text.
pub fn stderr(out: &process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Where `tool` is: on PATH, or in /usr/sbin or /sbin (not on a non-root PATH).
pub fn find_tool(tool: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&paths)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}

pub fn which(tool: &str) -> bool {
    find_tool(tool).is_some()
}

/// Running as root (namespaces, mounts, another user's processes).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
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

/// A JVM a test started, killed on drop. `whatap detect` lists it while it runs, so it holds
/// `host::DETECTABLE` shared.
pub struct Jvm {
    child: process::Child,
    _detectable: host::Shared,
}

impl Jvm {
    /// Spawns `cmd`, a `java` command line.
    pub fn spawn(cmd: &mut process::Command) -> Jvm {
        let detectable = host::DETECTABLE.shared();
        Jvm {
            child: cmd.spawn().unwrap_or_else(|e| panic!("{cmd:?}: {e}")),
            _detectable: detectable,
        }
    }

    /// The stub agent's idle main, shaped like Tomcat when `tomcat_home` is given
    /// (`-Dcatalina.home/base` + the Bootstrap class name); returns once every agent in
    /// `agents` wrote its line to `marker`.
    pub fn start(
        tomcat_home: Option<&Path>,
        marker: &Path,
        agents: &[&Path],
        options: &[&str],
    ) -> Jvm {
        let _ = fs::remove_file(marker);
        let mut cmd = process::Command::new("java");
        if let Some(home) = tomcat_home {
            cmd.arg(format!("-Dcatalina.home={}", home.display()))
                .arg(format!("-Dcatalina.base={}", home.display()));
        }
        cmd.arg(format!("-Dwhatap.stub.marker={}", marker.display()));
        for agent in agents {
            cmd.arg(format!("-javaagent:{}", agent.display()));
        }
        cmd.args(options)
            .arg("-cp")
            .arg(stub_app_jar())
            .arg("IdleMain");
        if tomcat_home.is_some() {
            cmd.args(["org.apache.catalina.startup.Bootstrap", "start"]);
        }
        let jvm = Jvm::spawn(&mut cmd);
        wait_for_marker(marker, agents.len());
        jvm
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Jvm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (30 s at most) until the stub agent wrote `lines` lines to `marker` (one a load);
/// returns what it wrote.
pub fn wait_for_marker(marker: &Path, lines: usize) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let text = fs::read_to_string(marker).unwrap_or_default();
        if text.lines().count() >= lines {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "stub agent did not load"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The venv `.ci/run` fills with whatap-python and gunicorn from PyPI
/// (`WHATAP_TEST_VENV` overrides the path). None (after `must_have`) when it is missing.
pub fn python_venv() -> Option<PathBuf> {
    let venv = std::env::var_os("WHATAP_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/whatap-test/venv"));
    let ready =
        venv.join("bin/whatap-start-agent").is_file() && venv.join("bin/gunicorn").is_file();
    must_have(
        &format!(
            "a venv with whatap-python and gunicorn at {}",
            venv.display()
        ),
        ready,
    )
    .then_some(venv)
}

/// Processes a test started: killed (SIGKILL, whole process groups) and reaped when dropped,
/// so nothing is left running even when an assertion fails. They are apps and agents `whatap
/// detect` lists: `host::DETECTABLE` is held shared until they are gone.
#[derive(Default)]
pub struct Reaper {
    children: Vec<process::Child>,
    pids: Vec<i32>,
    detectable: Option<host::Shared>,
}

impl Reaper {
    /// Spawns `cmd` as the leader of a new process group; returns its PID.
    pub fn spawn(&mut self, cmd: &mut process::Command) -> u32 {
        use std::os::unix::process::CommandExt;
        if self.detectable.is_none() {
            self.detectable = Some(host::DETECTABLE.shared());
        }
        let child = cmd
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        let pid = child.id();
        self.children.push(child);
        pid
    }

    /// Also kill this PID (a process that left our groups, like a daemonised agent).
    pub fn pid(&mut self, pid: u32) {
        self.pids.push(pid as i32);
    }

    pub fn kill_all(&mut self) {
        for mut child in self.children.drain(..) {
            let group = -(child.id() as i32);
            // SIGTERM first: a supervisor (supervisord) then stops the children it put in
            // groups of their own. SAFETY: kill(2) on a process group this test created.
            unsafe { libc::kill(group, libc::SIGTERM) };
            let stopped = wait_for(std::time::Duration::from_secs(5), || {
                child.try_wait().is_ok_and(|s| s.is_some())
            });
            if !stopped {
                // SAFETY: as above.
                unsafe { libc::kill(group, libc::SIGKILL) };
            }
            let _ = child.wait();
        }
        for pid in self.pids.drain(..) {
            // SAFETY: kill(2) on a PID this test recorded.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        self.detectable = None;
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// PIDs whose executable name is `name` and whose working directory is `cwd`.
pub fn pids_named_in(name: &str, cwd: &Path) -> Vec<u32> {
    let cwd = fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let first = cmdline.split(|&b| b == 0).next().unwrap_or_default();
            let first = String::from_utf8_lossy(first);
            first.rsplit('/').next() == Some(name)
                && fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|d| d == cwd)
        })
        .collect()
}

/// Polls `check` until it holds or `timeout` passes.
pub fn wait_for(timeout: std::time::Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < timeout {
        if check() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    check()
}

/// The finding ids of a `doctor --json` report, in order.
pub fn finding_ids(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// A JSON document from a command's stdout.
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
    assert_no_license_in_ledger(&state);
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

/// `uninstall --runtime KIND --home HOME --yes`, which must succeed.
pub fn uninstall_runtime(state: &Path, runtime: &str, home: &Path) {
    whatap(state)
        .args(runtime_uninstall(home, runtime, &["--yes"]))
        .assert()
        .success();
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

pub fn php_api() -> String {
    let out = process::Command::new("php-config8.2")
        .arg("--phpapi")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The stub PHP module (the stand-in for the proprietary whatap.so), built by phpize from
/// tests/php-ext once per `cargo test` run (a file lock serializes concurrent runs).
pub fn php_stub_module() -> PathBuf {
    static MODULE: OnceLock<PathBuf> = OnceLock::new();
    MODULE
        .get_or_init(|| {
            let out = repo().join("target/php-ext");
            fs::create_dir_all(&out).unwrap();
            let module = out.join(format!("whatap_{}.so", php_api()));
            let lock = fs::File::create(out.join(".lock")).unwrap();
            // SAFETY: flock on our own descriptor; released when `lock` drops.
            unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
            if !module.exists() {
                let build = tempfile::tempdir_in(&out).unwrap();
                for name in ["config.m4", "whatap.c"] {
                    fs::copy(
                        repo().join("tests/php-ext").join(name),
                        build.path().join(name),
                    )
                    .unwrap();
                }
                for (cmd, args) in [
                    ("phpize8.2", vec![]),
                    ("./configure", vec!["--with-php-config=php-config8.2"]),
                    ("make", vec![]),
                ] {
                    let status = process::Command::new(cmd)
                        .args(&args)
                        .current_dir(build.path())
                        .stdout(process::Stdio::null())
                        .status()
                        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
                    assert!(status.success(), "{cmd} failed building the stub module");
                }
                fs::rename(build.path().join("modules/whatap.so"), &module).unwrap();
            }
            module
        })
        .clone()
}

/// An agent archive directory holding the stub as whatap_<API>.so.
pub fn php_stub_archive() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let module = php_stub_module();
    fs::copy(&module, dir.path().join(module.file_name().unwrap())).unwrap();
    dir
}

/// A collector stand-in: accepts and counts connections, then drops them.
pub fn collector() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stream.is_ok() {
                count.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    (port, accepted)
}

/// The response to `GET /` on a loopback port, None when nothing answers.
pub fn http_get(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

/// The stand-in for the proprietary whatap-php agent daemon (`whatap_php`), compiled with gcc
/// from tests/php-agent once per `cargo test` run (a file lock serializes concurrent runs).
pub fn php_stub_agent() -> PathBuf {
    static AGENT: OnceLock<PathBuf> = OnceLock::new();
    AGENT
        .get_or_init(|| {
            let out = repo().join("target/php-agent");
            fs::create_dir_all(&out).unwrap();
            let lock = fs::File::create(out.join(".lock")).unwrap();
            // SAFETY: flock on our own descriptor; released when `lock` drops.
            unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
            let source = repo().join("tests/php-agent/whatap_php.c");
            let agent = out.join("whatap_php");
            let stale = |a: &Path| {
                let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
                modified(a) < modified(&source)
            };
            if !agent.exists() || stale(&agent) {
                let tmp = out.join("whatap_php.tmp");
                run(process::Command::new("gcc")
                    .args(["-O2", "-Wall", "-o"])
                    .arg(&tmp)
                    .arg(&source));
                fs::rename(&tmp, &agent).unwrap();
            }
            agent
        })
        .clone()
}

/// An agent archive in the vendor's package layout: the stub module as whatap_<API>.so and the
/// stub agent daemon as usr/whatap/php/whatap_php.
pub fn php_stub_archive_with_agent() -> tempfile::TempDir {
    let dir = php_stub_archive();
    let bin = dir.path().join("usr/whatap/php");
    fs::create_dir_all(&bin).unwrap();
    fs::copy(php_stub_agent(), bin.join("whatap_php")).unwrap();
    dir
}

/// Runs `cmd`, which must succeed (`what` names it in the failure), and returns the JSON
/// document it printed.
pub fn json_ok(cmd: &mut Command, what: &str) -> serde_json::Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out.stdout)
}

/// A document without the metadata that changes from run to run and host to host
/// (`schema_version`, `whatap_version`, `host`, `generated_at`), for snapshots.
pub fn without_metadata(doc: &serde_json::Value) -> serde_json::Value {
    let mut doc = doc.clone();
    if let Some(map) = doc.as_object_mut() {
        for key in ["schema_version", "whatap_version", "host", "generated_at"] {
            map.remove(key);
        }
    }
    doc
}

/// The string `key` of every item of the array `list` (hosts of a report, ids, ...).
pub fn column(list: &serde_json::Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|item| item[key].as_str().unwrap().to_string())
        .collect()
}
