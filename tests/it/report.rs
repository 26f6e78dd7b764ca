//! `whatap report`: real `doctor --json` documents of several "hosts" (fixture trees, each
//! document given another host name) merged as text, JSON and one HTML page, which Debian's
//! headless Chromium renders to a screenshot and whose DOM text lists the hosts and findings.

use crate::common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

/// `doctor --json` of `home` as host `host`, saved in `dir` as `<host>.json`.
fn doctor_as(dir: &Path, state: &Path, args: &[&str], host: &str) -> PathBuf {
    let out = whatap(state)
        .args(["doctor", "--no-network", "--json"])
        .args(args)
        .output()
        .unwrap();
    let mut doc = json(&out.stdout);
    doc["host"] = host.into();
    let file = dir.join(format!("{host}.json"));
    fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    file
}

/// Four hosts: an agent jar gone (error), nothing configured (info only), a good install,
/// and one whose doctor failed (an error document).
fn fleet(dir: &Path) -> (PathBuf, tempfile::TempDir, tempfile::TempDir) {
    let docs = dir.join("docs");
    fs::create_dir(&docs).unwrap();
    let (broken, broken_home, broken_state) = installed("tomcat9");
    fs::remove_file(broken_home.join("whatap/whatap.agent.tracer-0.0.1.jar")).unwrap();
    let home = broken_home.display().to_string();
    doctor_as(&docs, &broken_state, &["--home", &home], "web-01");
    let (plain, plain_home) = fixture("tomcat9");
    let home = plain_home.display().to_string();
    doctor_as(&docs, &dir.join("state"), &["--home", &home], "web-02");
    doctor_as(
        &docs,
        &dir.join("state"),
        &["--log", "/nonexistent/catalina.out"],
        "db-01",
    );
    fs::write(
        docs.join("web-03.json"),
        serde_json::json!({"command": "doctor", "ok": true, "findings": [], "host": "web-03",
            "schema_version": 2, "generated_at": "2026-12-01T00:00:00Z"})
        .to_string(),
    )
    .unwrap();
    (docs, broken, plain)
}

/// Chromium on `page` with a profile of its own, killed if it has not finished in a minute.
fn chromium(profile: &Path, page: &Path, args: &[&str]) -> std::process::Output {
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish in 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn many_hosts_as_text_json_and_a_page_chromium_renders() {
    let dir = tempfile::tempdir().unwrap();
    let (docs, _broken, _plain) = fleet(dir.path());
    let state = dir.path().join("state");
    let page = dir.path().join("fleet.html");

    let out = whatap(&state)
        .args(["report", "--json", "--html"])
        .arg(&page)
        .arg(&docs)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report = json(&out.stdout);
    let hosts = column(&report["hosts"], "host");
    assert_eq!(
        hosts,
        ["db-01", "web-01", "web-02", "web-03"],
        "worst first"
    );
    assert_eq!(report["first"], serde_json::json!(["db-01", "web-01"]));
    assert_eq!(report["totals"]["failed"], 1);
    assert_eq!(report["totals"]["with_errors"], 1);
    assert_eq!(report["totals"]["clean"], 2);
    let ids = column(&report["findings"], "id");
    assert_eq!(ids, ["agent-jar-missing", "agent-not-configured"]);

    let text = whatap(&state).arg("report").arg(&docs).output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    for expected in [
        "4 hosts",
        "db-01",
        "web-01",
        "agent-jar-missing",
        "doctor failed",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }

    // One self-contained page: nothing loaded from anywhere, no script.
    let html = fs::read_to_string(&page).unwrap();
    for outside in ["<script", "<link", "src=", "url(", "@import", "href=\"http"] {
        assert!(!html.contains(outside), "{outside} in the page");
    }
    if !must_have("chromium (Debian package)", Path::new(CHROMIUM).exists()) {
        return;
    }
    let profile = tempfile::tempdir().unwrap();
    let shot = dir.path().join("fleet.png");
    let out = chromium(
        profile.path(),
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1600",
        ],
    );
    assert!(out.status.success(), "chromium --screenshot failed");
    let png = fs::read(&shot).expect("screenshot");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 20_000,
        "{}",
        png.len()
    );
    if let Some(keep) = std::env::var_os("WHATAP_KEEP_SCREENSHOT") {
        fs::copy(&shot, keep).unwrap();
    }
    let dom = chromium(profile.path(), &page, &["--dump-dom"]);
    let dom = String::from_utf8(dom.stdout).unwrap();
    for expected in hosts.iter().chain(&ids) {
        assert!(dom.contains(expected), "{expected} not in the page");
    }
    assert!(
        dom.contains("The -javaagent jar does not exist"),
        "a finding's title"
    );
}
