//! End to end on Debian's real tomcat10 (installed by .ci/run): a private CATALINA_BASE,
//! the stub agent built with javac, `whatap install`, a real start, the agent's marker,
//! `doctor` against the live JVM, a stop by PID, `whatap uninstall`, byte-for-byte compare.

use crate::common::tomcat::*;
use crate::common::*;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

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
