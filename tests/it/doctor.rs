//! Doctor on fixture trees installed through the binary, and on real JVMs started with the
//! stub agent: each rule made to fire and kept quiet, JSON pinned with insta.

use crate::common::*;
use std::fs;
use std::net::TcpListener;
use std::path::PathBuf;

struct Setup {
    dir: tempfile::TempDir,
    home: PathBuf,
    state: PathBuf,
    _collector: TcpListener,
}

/// A tarball Tomcat installed by `whatap install`, its collector a loopback listener.
fn installed() -> Setup {
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let collector = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = collector.local_addr().unwrap().port();
    whatap(&state)
        .args(install_args(&home))
        .args(["--set", &format!("whatap.server.port={port}"), "--yes"])
        .assert()
        .success();
    Setup {
        dir,
        home,
        state,
        _collector: collector,
    }
}

fn doctor(setup: &Setup) -> (i32, serde_json::Value) {
    let out = whatap(&setup.state)
        .args(["doctor", "--json", "--home"])
        .arg(&setup.home)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), report)
}

/// The findings as pinned: checks[] (one per catalog rule, its own test) left out.
fn filtered(report: &serde_json::Value, setup: &Setup) -> String {
    let mut report = without_metadata(report);
    report.as_object_mut().unwrap().remove("checks");
    serde_json::to_string_pretty(&report)
        .unwrap()
        .replace(&setup.dir.path().display().to_string(), "[TMP]")
        .replace(
            &stub_jar().parent().unwrap().display().to_string(),
            "[STUB]",
        )
}

#[test]
fn a_good_install_is_quiet() {
    let setup = installed();
    let (code, report) = doctor(&setup);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["ok"], true);
    assert!(finding_ids(&report).is_empty(), "{report}");
}

#[test]
fn nothing_configured_is_only_info() {
    let (dir, home) = fixture("tomcat9");
    let out = whatap(&dir.path().join("state"))
        .args(["doctor", "--json", "--home"])
        .arg(&home)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(finding_ids(&report), ["agent-not-configured"]);
}

#[test]
fn agent_jar_missing() {
    let setup = installed();
    fs::remove_file(setup.home.join("whatap/whatap.agent.tracer-0.0.1.jar")).unwrap();
    let (code, report) = doctor(&setup);
    assert_eq!(code, 1);
    assert_eq!(finding_ids(&report), ["agent-jar-missing"]);
    insta::assert_snapshot!("agent-jar-missing", filtered(&report, &setup));
}

#[test]
fn conf_missing_key() {
    let setup = installed();
    let conf = setup.home.join("whatap/whatap.conf");
    let text = fs::read_to_string(&conf).unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("license="))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(&conf, without).unwrap();
    let (code, report) = doctor(&setup);
    assert_eq!(code, 1);
    assert_eq!(finding_ids(&report), ["conf-missing-key"]);
    assert!(
        report["findings"][0]["title"]
            .as_str()
            .unwrap()
            .contains("license")
    );
}

#[test]
fn collector_unreachable_names_the_address_and_the_error() {
    let setup = installed();
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = setup.home.join("whatap/whatap.conf");
    let text = fs::read_to_string(&conf).unwrap();
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("whatap.server.port=") {
                format!("whatap.server.port={closed}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    fs::write(&conf, text).unwrap();
    let (code, report) = doctor(&setup);
    assert_eq!(code, 1);
    assert_eq!(finding_ids(&report), ["collector-unreachable"]);
    let evidence = report["findings"][0]["evidence"].as_str().unwrap();
    assert!(
        evidence.contains(&format!("127.0.0.1:{closed}")) && evidence.contains("refused"),
        "{evidence}"
    );
    // --no-network skips the probe entirely.
    let out = whatap(&setup.state)
        .args(["doctor", "--no-network", "--home"])
        .arg(&setup.home)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn block_malformed_names_file_and_line() {
    let setup = installed();
    let setenv = setup.home.join("bin/setenv.sh");
    let text = fs::read_to_string(&setenv).unwrap();
    let cut = text.rfind("########## WHATAP").unwrap();
    fs::write(&setenv, &text[..cut]).unwrap();
    let (code, report) = doctor(&setup);
    assert_eq!(code, 1);
    assert!(
        finding_ids(&report).iter().any(|i| i == "block-malformed"),
        "{report}"
    );
    let evidence = report["findings"][0]["evidence"].as_str().unwrap();
    assert!(
        evidence.starts_with(&format!("{}:1:", setenv.display())),
        "{evidence}"
    );
}

#[test]
fn korean_words_come_from_the_catalog() {
    let setup = installed();
    fs::remove_file(setup.home.join("whatap/whatap.agent.tracer-0.0.1.jar")).unwrap();
    let out = whatap(&setup.state)
        .args(["doctor", "--lang", "ko", "--home"])
        .arg(&setup.home)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("jar 파일이 없습니다"), "{text}");
}

#[test]
fn live_jvm_without_the_configured_agent_is_agent_not_loaded() {
    let setup = installed();
    let jvm = Jvm::start(Some(&setup.home), &setup.home.join("marker"), &[], &[]);
    let (code, report) = doctor(&setup);
    assert_eq!(code, 1);
    assert_eq!(finding_ids(&report), ["agent-not-loaded"], "{report}");
    let evidence = report["findings"][0]["evidence"].as_str().unwrap();
    assert!(
        evidence.contains(&format!("PID {}", jvm.pid())),
        "{evidence}"
    );
    // --pid finds the same Tomcat from the process's command line.
    let out = whatap(&setup.state)
        .args(["doctor", "--json", "--pid", &jvm.pid().to_string()])
        .output()
        .unwrap();
    let by_pid: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(by_pid["findings"], report["findings"]);
}

#[test]
fn live_jvm_with_the_agent_twice_is_agent_duplicate() {
    let setup = installed();
    let installed_jar = setup.home.join("whatap/whatap.agent.tracer-0.0.1.jar");
    let jvm = Jvm::start(
        Some(&setup.home),
        &setup.home.join("marker"),
        &[&installed_jar, &stub_jar()],
        &[],
    );
    let (code, report) = doctor(&setup);
    assert_eq!(code, 1);
    // The second jar has no whatap.conf beside it: reported too, as it should be.
    assert_eq!(finding_ids(&report)[0], "agent-duplicate", "{report}");
    assert!(
        report["findings"][0]["evidence"]
            .as_str()
            .unwrap()
            .contains(&format!("PID {}", jvm.pid()))
    );
    drop(jvm);
    let jvm = Jvm::start(
        Some(&setup.home),
        &setup.home.join("marker"),
        &[&installed_jar],
        &[],
    );
    let (code, report) = doctor(&setup);
    assert_eq!(code, 0, "{report}");
    drop(jvm);
}

#[test]
fn catalog_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let out = whatap(dir.path())
        .args(["doctor", "--list-rules", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    insta::assert_snapshot!("rule-ids", ids.join("\n"));
}

fn check<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}: {report}"))
}

fn doctor_with(setup: &Setup, extra: &[&str]) -> (i32, serde_json::Value) {
    let out = whatap(&setup.state)
        .args(["doctor", "--json", "--home"])
        .arg(&setup.home)
        .args(extra)
        .output()
        .unwrap();
    (out.status.code().unwrap(), json(&out.stdout))
}

/// An install with an error (the jar gone) and a warning (Sigar's library not executable),
/// seen through checks[], --only, --skip and --fail-on.
#[test]
fn checks_say_pass_fail_skip_and_why_and_the_filters_choose_them() {
    use std::os::unix::fs::PermissionsExt;
    let setup = installed();
    fs::remove_file(setup.home.join("whatap/whatap.agent.tracer-0.0.1.jar")).unwrap();
    let lib1 = setup.home.join("whatap/lib1");
    fs::create_dir_all(&lib1).unwrap();
    fs::write(lib1.join("libsigar-amd64-linux.so"), b"\x7fELF").unwrap();
    fs::set_permissions(
        lib1.join("libsigar-amd64-linux.so"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();

    let (code, report) = doctor(&setup);
    assert_eq!(code, 1, "{report}");
    let rules = report["checks"].as_array().unwrap().len();
    assert!(rules >= 36, "{report}");
    assert_eq!(check(&report, "agent-jar-missing")["status"], "fail");
    assert_eq!(check(&report, "sigar-not-executable")["status"], "fail");
    assert_eq!(check(&report, "conf-missing-key")["status"], "pass");
    // The collector listens: the probe ran and passed.
    assert_eq!(check(&report, "collector-unreachable")["status"], "pass");
    let php = check(&report, "php-api-not-found");
    assert_eq!(php["status"], "skip");
    assert!(php["why"].as_str().unwrap().contains("php"), "{php}");
    for c in report["checks"].as_array().unwrap() {
        assert!(!c["why"].as_str().unwrap().is_empty(), "{c}");
    }

    // --skip: the error is left out, the warning alone does not fail the run...
    let (code, report) = doctor_with(&setup, &["--skip", "agent-jar-missing"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(finding_ids(&report), ["sigar-not-executable"]);
    assert_eq!(check(&report, "agent-jar-missing")["status"], "skip");
    // ...unless --fail-on warning says it does.
    let (code, _) = doctor_with(
        &setup,
        &["--skip", "agent-jar-missing", "--fail-on", "warning"],
    );
    assert_eq!(code, 1);
    // --fail-on never: the error is still reported, the exit code is 0.
    let (code, report) = doctor_with(&setup, &["--fail-on", "never"]);
    assert_eq!(code, 0);
    assert_eq!(report["ok"], false);
    assert!(finding_ids(&report).contains(&"agent-jar-missing".to_string()));

    // --only (comma-separated): one check runs, every other is skipped with that reason.
    let (code, report) = doctor_with(&setup, &["--only", "conf-missing-key,agent-duplicate"]);
    assert_eq!(code, 0, "{report}");
    assert!(finding_ids(&report).is_empty(), "{report}");
    assert_eq!(check(&report, "conf-missing-key")["status"], "pass");
    let skipped = check(&report, "agent-jar-missing");
    assert_eq!(skipped["status"], "skip");
    assert!(skipped["why"].as_str().unwrap().contains("--only"));
    // --no-network: the network's checks are skipped, not passed.
    let (_, report) = doctor_with(&setup, &["--no-network"]);
    let network = check(&report, "collector-unreachable");
    assert_eq!(network["status"], "skip");
    assert!(network["why"].as_str().unwrap().contains("--no-network"));

    // An id that is no check: exit 2, nothing run.
    let out = whatap(&setup.state)
        .args(["doctor", "--only", "agent-jar-mising", "--home"])
        .arg(&setup.home)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("agent-jar-mising") && err.contains("--list-rules"),
        "{err}"
    );
}

/// `-v` lists what passed and what was skipped, and why; without it only the findings.
#[test]
fn verbose_lists_the_checks_that_passed() {
    let setup = installed();
    let text = |extra: &[&str]| {
        let out = whatap(&setup.state)
            .args(["doctor", "--no-network", "--home"])
            .arg(&setup.home)
            .args(extra)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let quiet = text(&[]);
    assert!(!quiet.contains("Checks passed"), "{quiet}");
    let verbose = text(&["-v"]);
    assert!(verbose.contains("Checks passed"), "{verbose}");
    let line = verbose
        .lines()
        .find(|l| l.trim_start().starts_with("agent-jar-missing"))
        .unwrap_or_else(|| panic!("{verbose}"));
    assert!(line.contains("nothing found"), "{line}");
    assert!(verbose.contains("Checks skipped"), "{verbose}");
    assert!(
        verbose.contains("needs the network (--no-network)"),
        "{verbose}"
    );
}
