//! `whatap history`: every change applied on this host, appended to `<state>/history.jsonl`
//! (time, version, the command line with the license masked, result, files changed); dry
//! runs and runs that change nothing add nothing, earlier lines are never rewritten.

use crate::common::*;
use std::os::unix::fs::PermissionsExt;

#[test]
fn install_and_uninstall_are_recorded_append_only_without_the_license() {
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let history = state.join("history.jsonl");
    let lines = || std::fs::read_to_string(&history).unwrap_or_default();

    // Nothing yet: the command says so, and a dry run adds nothing.
    let out = whatap(&state).arg("history").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("No change"));
    whatap(&state)
        .args(install_args(&home))
        .arg("--dry-run")
        .assert()
        .success();
    assert_eq!(lines(), "");

    // An apply that fails midway is rolled back, and says so.
    let out = whatap(&state)
        .args(install_args(&home))
        .arg("--yes")
        .env("WHATAP_TEST_FAIL_STEP", "5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let failed = json(lines().as_bytes());
    assert_eq!(failed["result"], "rolled-back", "{failed}");
    assert!(
        failed["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{failed}"
    );
    std::fs::remove_file(&history).unwrap();

    whatap(&state)
        .args(install_args(&home))
        .arg("--yes")
        .assert()
        .success();
    let first = lines();
    assert_eq!(first.lines().count(), 1, "{first}");
    assert_eq!(
        std::fs::metadata(&history).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Installing again changes nothing, so it records nothing.
    whatap(&state)
        .args(install_args(&home))
        .arg("--yes")
        .assert()
        .success();
    assert_eq!(lines(), first);
    whatap(&state)
        .args(["uninstall", "--yes", "--home"])
        .arg(&home)
        .assert()
        .success();
    let all = lines();
    assert!(all.starts_with(&first), "an earlier line was rewritten");
    assert_eq!(all.lines().count(), 2, "{all}");
    assert!(
        !all.contains(LICENSE),
        "the license is in the history: {all}"
    );

    let out = whatap(&state).args(["history", "--json"]).output().unwrap();
    assert!(out.status.success());
    let report = json(&out.stdout);
    let entries = report["entries"].as_array().unwrap();
    let (install, uninstall) = (&entries[0], &entries[1]);
    assert_eq!(install["result"], "applied");
    assert_eq!(install["version"], env!("CARGO_PKG_VERSION"));
    let command: Vec<&str> = install["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(command.contains(&"install"), "{command:?}");
    let masked = command.iter().find(|w| w.ends_with(LICENSE_TAIL)).unwrap();
    assert!(masked.starts_with("****"), "{masked}");
    let setenv = home.join("bin/setenv.sh").display().to_string();
    let file_of = |entry: &serde_json::Value| {
        entry["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == setenv.as_str())
            .map(|f| f["action"].as_str().unwrap().to_string())
    };
    assert_eq!(file_of(install).as_deref(), Some("created"), "{install}");
    assert_eq!(
        file_of(uninstall).as_deref(),
        Some("deleted"),
        "{uninstall}"
    );
    assert!(uninstall["command"].to_string().contains("uninstall"));

    // The text lists each change with its files, in the chosen language.
    let out = whatap(&state)
        .args(["history", "--lang", "ko"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("적용됨") && text.contains(&setenv), "{text}");
    assert!(!text.contains(LICENSE), "{text}");
}

/// A history.jsonl planted as a symlink is not followed: what it points at stays as it was,
/// and the run says which file it refused.
#[test]
fn a_planted_history_symlink_is_not_followed() {
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "untouched\n").unwrap();
    std::os::unix::fs::symlink(&victim, state.join("history.jsonl")).unwrap();
    let out = whatap(&state)
        .args(install_args(&home))
        .arg("--yes")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("history.jsonl"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched\n");
}
