//! End to end on Debian's real tomcat10 (installed by .ci/run): a private CATALINA_BASE,
//! the stub agent built with javac, `whatap install`, a real start, the agent's marker,
//! `doctor` against the live JVM, a stop by PID, `whatap uninstall`, byte-for-byte compare.

use crate::common::*;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const DEBIAN_HOME: &str = "/usr/share/tomcat10";
const DEBIAN_CONF: &str = "/etc/tomcat10";

/// A CATALINA_BASE of our own: Debian's conf, a loopback HTTP port, one page.
fn make_base(root: &Path, port: u16) -> PathBuf {
    let base = root.join("base");
    for dir in ["conf", "logs", "temp", "work", "webapps/ROOT"] {
        fs::create_dir_all(base.join(dir)).unwrap();
    }
    for file in [
        "catalina.properties",
        "context.xml",
        "logging.properties",
        "tomcat-users.xml",
        "web.xml",
    ] {
        fs::copy(
            Path::new(DEBIAN_CONF).join(file),
            base.join("conf").join(file),
        )
        .unwrap();
    }
    let server = fs::read_to_string(Path::new(DEBIAN_CONF).join("server.xml")).unwrap();
    let server = server.replace(
        "port=\"8080\"",
        &format!("port=\"{port}\" address=\"127.0.0.1\""),
    );
    fs::write(base.join("conf/server.xml"), server).unwrap();
    fs::write(base.join("webapps/ROOT/index.html"), "hello from tomcat\n").unwrap();
    base
}

struct Tomcat {
    home: PathBuf,
    base: PathBuf,
    port: u16,
    marker: PathBuf,
}

impl Tomcat {
    fn pid_file(&self) -> PathBuf {
        self.base.join("temp/tomcat.pid")
    }

    /// Starts it and waits until it answers; stopped when the `Running` is dropped.
    fn start(&self) -> Running<'_> {
        let detectable = host::DETECTABLE.shared();
        let status = Command::new(self.home.join("bin/catalina.sh"))
            .arg("start")
            .env("CATALINA_HOME", &self.home)
            .env("CATALINA_BASE", &self.base)
            .env("CATALINA_PID", self.pid_file())
            .env(
                "JAVA_OPTS",
                format!("-Dwhatap.stub.marker={}", self.marker.display()),
            )
            .status()
            .unwrap();
        assert!(status.success(), "catalina.sh start failed");
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Some(body) = http_get(self.port) {
                assert!(body.contains("hello from tomcat"), "{body}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "Tomcat did not answer: {}",
                self.catalina_out()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        let pid = fs::read_to_string(self.pid_file())
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        Running {
            tomcat: self,
            pid,
            _detectable: detectable,
        }
    }

    /// Debian's server.xml disables the shutdown port: stop by PID.
    fn stop(&self, pid: u32) {
        Command::new("kill").arg(pid.to_string()).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Path::new(&format!("/proc/{pid}")).exists() {
            if Instant::now() > deadline {
                Command::new("kill")
                    .args(["-9", &pid.to_string()])
                    .status()
                    .unwrap();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = fs::remove_file(self.pid_file());
    }

    fn catalina_out(&self) -> String {
        fs::read_to_string(self.base.join("logs/catalina.out")).unwrap_or_default()
    }
}

/// Stops Tomcat even when an assertion fails half way. `whatap detect` lists it while it runs.
struct Running<'a> {
    tomcat: &'a Tomcat,
    pid: u32,
    _detectable: host::Shared,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.tomcat.stop(self.pid);
    }
}

fn http_get(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut body = String::new();
    stream.read_to_string(&mut body).ok()?;
    body.starts_with("HTTP/1.1 200").then_some(body)
}

fn doctor(state: &Path, tomcat: &Tomcat) -> (i32, serde_json::Value) {
    let out = whatap(state)
        .args(["doctor", "--json", "--home"])
        .arg(&tomcat.home)
        .arg("--base")
        .arg(&tomcat.base)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

/// Everything we compare after uninstall: the base minus what Tomcat itself writes.
fn config_bytes(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    tree_bytes(dir)
        .into_iter()
        .filter(|(p, _)| {
            !["logs", "temp", "work", "conf/Catalina"]
                .iter()
                .any(|skip| p.starts_with(skip))
        })
        .collect()
}

fn have_tomcat10() -> bool {
    must_have(
        "tomcat10 (Debian package)",
        Path::new(DEBIAN_HOME).join("bin/catalina.sh").exists(),
    )
}

#[test]
fn setenv_install_on_a_running_debian_tomcat() {
    if !have_tomcat10() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let collector = TcpListener::bind("127.0.0.1:0").unwrap();
    let tomcat = Tomcat {
        home: PathBuf::from(DEBIAN_HOME),
        port: free_port(),
        base: PathBuf::new(),
        marker: dir.path().join("agent.marker"),
    };
    let tomcat = Tomcat {
        base: make_base(dir.path(), tomcat.port),
        ..tomcat
    };
    let original = config_bytes(&tomcat.base);
    let install = |extra: &[&str]| {
        whatap(&state)
            .args(install_args(&tomcat.home))
            .arg("--base")
            .arg(&tomcat.base)
            .args([
                "--set",
                &format!(
                    "whatap.server.port={}",
                    collector.local_addr().unwrap().port()
                ),
            ])
            .args(extra)
            .output()
            .unwrap()
    };

    // Running without the agent; install while it runs, as operators do.
    let running = tomcat.start();
    let pid = running.pid;
    let out = install(&["--yes", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["next_steps"][0]
            .as_str()
            .unwrap()
            .contains(&format!("PID {pid}")),
        "{report}"
    );
    let (code, findings) = doctor(&state, &tomcat);
    assert_eq!(code, 1, "{findings}");
    assert_eq!(finding_ids(&findings), ["agent-not-loaded"], "{findings}");
    assert!(!tomcat.marker.exists(), "the agent loaded before a restart");

    // javaagent + onetime attach: the same install with --attach changes no file and loads
    // the agent into the running Tomcat now (the stub's agentmain writes the marker).
    let out = install(&["--attach", "--yes", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["changed"], false, "{report}");
    assert_eq!(report["attach"]["ok"], true, "{report}");
    let attached = fs::read_to_string(&tomcat.marker).expect("agentmain marker");
    assert!(
        attached.contains(&format!("agentmain pid={pid}")),
        "{attached}"
    );
    drop(running);

    // After a restart the real JVM loads the agent from the new setenv.sh.
    let running = tomcat.start();
    let pid = running.pid;
    let marker = fs::read_to_string(&tomcat.marker).expect("stub agent marker");
    assert!(marker.contains(&format!("pid={pid}")), "{marker}");
    let (code, findings) = doctor(&state, &tomcat);
    assert_eq!(code, 0, "{findings}");
    assert_eq!(findings["ok"], true);
    let detect = whatap(&state).args(["detect", "--json"]).output().unwrap();
    let detect: serde_json::Value = serde_json::from_slice(&detect.stdout).unwrap();
    let me = detect["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["pid"] == pid)
        .unwrap_or_else(|| panic!("PID {pid} not detected: {detect}"));
    assert_eq!(me["agent"], "loaded");
    assert_eq!(me["base"], tomcat.base.display().to_string());
    drop(running);

    whatap(&state)
        .args(["uninstall", "--yes", "--home"])
        .arg(&tomcat.home)
        .arg("--base")
        .arg(&tomcat.base)
        .assert()
        .success();
    assert_same_tree(
        &config_bytes(&tomcat.base),
        &original,
        "base after uninstall",
    );
}

#[test]
fn catalina_method_on_a_copy_of_catalina_home() {
    if !have_tomcat10() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let home = dir.path().join("home");
    copy_tree(Path::new(DEBIAN_HOME), &home);
    let port = free_port();
    let tomcat = Tomcat {
        base: make_base(dir.path(), port),
        home,
        port,
        marker: dir.path().join("agent.marker"),
    };
    let original_home = tree_bytes(&tomcat.home);
    let original_base = config_bytes(&tomcat.base);
    whatap(&state)
        .args(install_args(&tomcat.home))
        .arg("--base")
        .arg(&tomcat.base)
        .args(["--method", "catalina", "--latest-jar", "--yes"])
        .assert()
        .success();
    assert!(
        fs::read_to_string(tomcat.home.join("bin/catalina.sh"))
            .unwrap()
            .contains("########## WHATAP ############")
    );
    let running = tomcat.start();
    let pid = running.pid;
    let marker = fs::read_to_string(&tomcat.marker).expect("stub agent marker");
    assert!(marker.contains(&format!("pid={pid}")), "{marker}");
    drop(running);
    whatap(&state)
        .args(["uninstall", "--yes"])
        .assert()
        .success();
    assert_same_tree(
        &tree_bytes(&tomcat.home),
        &original_home,
        "home after uninstall",
    );
    assert_same_tree(
        &config_bytes(&tomcat.base),
        &original_base,
        "base after uninstall",
    );
}

/// Many installs and uninstalls at once on one real CATALINA_BASE, with three state dirs:
/// every run ends 0 or 3 (refused, nothing changed), the base ends exactly installed or
/// exactly original, at most one state dir records it; then Debian's Tomcat starts with the
/// agent and uninstall gives back every byte.
#[test]
fn parallel_installs_and_uninstalls_then_tomcat_starts_with_the_agent() {
    if !have_tomcat10() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let tomcat = Tomcat {
        home: PathBuf::from(DEBIAN_HOME),
        base: make_base(dir.path(), port),
        port,
        marker: dir.path().join("agent.marker"),
    };
    let mut install = install_args(&tomcat.home);
    install.extend([
        "--base".into(),
        tomcat.base.display().to_string(),
        "--yes".into(),
    ]);
    let uninstall: Vec<String> = vec![
        "uninstall".into(),
        "--yes".into(),
        "--home".into(),
        tomcat.home.display().to_string(),
        "--base".into(),
        tomcat.base.display().to_string(),
    ];
    // What one install gives, for comparison.
    let original = config_bytes(&tomcat.base);
    let reference = dir.path().join("reference-state");
    whatap(&reference).args(&install).assert().success();
    let installed = config_bytes(&tomcat.base);
    whatap(&reference).args(&uninstall).assert().success();
    assert_same_tree(
        &config_bytes(&tomcat.base),
        &original,
        "reference uninstall",
    );

    let states: Vec<PathBuf> = (0..3).map(|i| dir.path().join(format!("s{i}"))).collect();
    for wave in 0..2 {
        let children: Vec<_> = (0..12)
            .map(|i| {
                let args = if (i + wave) % 3 == 2 {
                    &uninstall
                } else {
                    &install
                };
                whatap_process(&states[i % states.len()], args)
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                matches!(out.status.code(), Some(0 | 3)),
                "wave {wave}: {:?} {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let now = config_bytes(&tomcat.base);
        assert!(
            now == installed || now == original,
            "wave {wave}: the base is neither installed nor original"
        );
    }
    let recorded: Vec<&PathBuf> = states
        .iter()
        .filter(|s| {
            fs::read_to_string(s.join("ledger.json")).is_ok_and(|l| l.contains("\"tomcat:"))
        })
        .collect();
    assert!(recorded.len() <= 1, "two state dirs record one base");
    let owner = match recorded.first() {
        Some(state) => {
            assert_same_tree(&config_bytes(&tomcat.base), &installed, "recorded");
            (*state).clone()
        }
        None => {
            assert_same_tree(&config_bytes(&tomcat.base), &original, "not recorded");
            whatap(&states[0]).args(&install).assert().success();
            states[0].clone()
        }
    };
    let running = tomcat.start();
    let marker = fs::read_to_string(&tomcat.marker).expect("stub agent marker");
    assert!(marker.contains(&format!("pid={}", running.pid)), "{marker}");
    drop(running);
    whatap(&owner).args(&uninstall).assert().success();
    assert_same_tree(&config_bytes(&tomcat.base), &original, "after uninstall");
}
