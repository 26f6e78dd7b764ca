//! End to end on Debian's real jetty9 (installed by .ci/run): `whatap install` writes the
//! guarded block into the real /etc/default/jetty9 (restored byte for byte afterwards, even
//! when an assertion fails), the package's own jetty.sh starts Jetty on a free loopback port,
//! the stub agent's premain writes its marker, then `whatap uninstall` restores the file.

use crate::common::*;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DEBIAN_HOME: &str = "/usr/share/jetty9";
const DEFAULT_FILE: &str = "/etc/default/jetty9";

/// Puts the host's /etc/default/jetty9 back as it was, whatever happens in the test.
struct RestoreFile {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl Drop for RestoreFile {
    fn drop(&mut self) {
        if fs::read(&self.path).ok().as_deref() != Some(&self.bytes[..]) {
            fs::write(&self.path, &self.bytes).unwrap();
        }
    }
}

/// jetty.sh run in its own process group, stopped (group and all) when dropped. `whatap
/// detect` lists it while it runs.
struct Running {
    child: Child,
    _detectable: host::Shared,
}

impl Drop for Running {
    fn drop(&mut self) {
        let group = self.child.id() as i32;
        // SAFETY: signals the process group this test created (setpgid in `start`).
        unsafe { libc::kill(-group, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                // SAFETY: as above.
                unsafe { libc::kill(-group, libc::SIGKILL) };
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn start(work: &Path, port: u16) -> Running {
    let detectable = host::DETECTABLE.shared();
    let child = Command::new("bash")
        .arg(Path::new(DEBIAN_HOME).join("bin/jetty.sh"))
        .arg("run")
        .current_dir(work)
        .env(
            "JETTY_ARGS",
            format!("jetty.http.port={port} jetty.http.host=127.0.0.1"),
        )
        .env("JETTY_STATE", work.join("jetty.state"))
        .env("JETTY_RUN", work)
        .env("TMPDIR", work)
        .env_remove("JAVA_OPTIONS")
        .stdout(fs::File::create(work.join("jetty.out")).unwrap())
        .stderr(Stdio::from(
            fs::File::create(work.join("jetty.err")).unwrap(),
        ))
        .process_group(0)
        .spawn()
        .unwrap();
    Running {
        child,
        _detectable: detectable,
    }
}

fn http_status(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut body = String::new();
    stream.read_to_string(&mut body).ok()?;
    body.lines().next().map(str::to_string)
}

fn jetty_args(whatap_home: &Path, port: u16) -> Vec<String> {
    let whatap_home = whatap_home.display().to_string();
    runtime_install(
        Path::new(DEBIAN_HOME),
        "jetty",
        port,
        &["--whatap-home", &whatap_home],
    )
}

#[test]
fn default_file_install_on_a_running_debian_jetty9() {
    if !must_have(
        "jetty9 (Debian package)",
        Path::new(DEBIAN_HOME).join("bin/jetty.sh").exists() && Path::new(DEFAULT_FILE).exists(),
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let work = dir.path().join("run");
    fs::create_dir_all(&work).unwrap();
    let whatap_home = dir.path().join("whatap");
    let port = free_port();
    // Dropped after `_restore` put the file back.
    let _etc = host::hold(&host::ETC_DEFAULT_JETTY9);
    let _restore = RestoreFile {
        path: PathBuf::from(DEFAULT_FILE),
        bytes: fs::read(DEFAULT_FILE).unwrap(),
    };
    let original = fs::read(DEFAULT_FILE).unwrap();

    let out = whatap(&state)
        .args(jetty_args(&whatap_home, port))
        .args(["--yes", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out.stdout);
    assert_eq!(report["runtime"], "jetty");
    assert_eq!(report["target"], DEBIAN_HOME);
    let files: Vec<(String, String)> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        files.contains(&(DEFAULT_FILE.to_string(), "modified".to_string())),
        "{files:?}"
    );
    let patched = fs::read_to_string(DEFAULT_FILE).unwrap();
    assert!(
        patched.contains(&format!("-Dwhatap.port={port}")),
        "{patched}"
    );

    // Installing the same again changes nothing.
    let again = whatap(&state)
        .args(jetty_args(&whatap_home, port))
        .args(["--yes", "--json"])
        .output()
        .unwrap();
    assert_eq!(json(&again.stdout)["changed"], false);

    let running = start(&work, port);
    let marker = whatap_home.join("stub-agent.loaded");
    let deadline = Instant::now() + Duration::from_secs(90);
    while http_status(port).is_none() {
        assert!(
            Instant::now() < deadline,
            "Jetty did not answer: {}",
            fs::read_to_string(work.join("jetty.err")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let loaded = fs::read_to_string(&marker).expect("the stub agent's premain ran");
    assert_eq!(loaded.lines().count(), 1, "agent loaded once: {loaded}");
    let pid: u32 = loaded
        .trim()
        .strip_prefix("pid=")
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    assert!(
        cmdline.contains(&format!("-Dwhatap.port={port}")),
        "{cmdline}"
    );
    assert_eq!(cmdline.matches("-javaagent:").count(), 1, "{cmdline}");

    let detect = whatap(&state).args(["detect", "--json"]).output().unwrap();
    let detected = json(&detect.stdout);
    let jetty = detected["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["runtime"] == "jetty" && r["pid"] == pid)
        .unwrap_or_else(|| panic!("running jetty not detected: {detected}"))
        .clone();
    assert_eq!(jetty["agent"], "loaded");

    let doctor = whatap(&state)
        .args(["doctor", "--json", "--no-network", "--runtime", "jetty"])
        .args(["--home", DEBIAN_HOME])
        .output()
        .unwrap();
    let findings = json(&doctor.stdout);
    // By finding id: `checks[]` names every rule, passed ones too.
    let ids = finding_ids(&findings);
    for id in ["agent-not-loaded", "agent-duplicate", "agent-jar-missing"] {
        assert!(!ids.iter().any(|f| f == id), "{id} reported: {findings}");
    }
    drop(running);

    uninstall_runtime(&state, "jetty", Path::new(DEBIAN_HOME));
    assert_eq!(
        fs::read(DEFAULT_FILE).unwrap(),
        original,
        "uninstall did not restore /etc/default/jetty9 byte for byte"
    );
}
