//! Generated files kept in the repo match what the binary generates: completion scripts in
//! completions/, man pages in man/. Regenerate after changing the CLI with
//! `WHATAP_UPDATE_COMPLETIONS=1 cargo test --test it completions`. Also: `--help` of every
//! command as insta snapshots.

use crate::common::*;
use std::fs;
use std::path::Path;

fn updating() -> bool {
    std::env::var("WHATAP_UPDATE_COMPLETIONS").is_ok()
}

fn assert_committed(path: &Path, generated: &[u8]) {
    if updating() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, generated).unwrap();
    }
    let committed = fs::read(path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: run WHATAP_UPDATE_COMPLETIONS=1 cargo test --test it completions",
        path.display()
    );
}

#[test]
fn committed_completions_are_current() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, file) in [
        ("bash", "whatap.bash"),
        ("zsh", "_whatap"),
        ("fish", "whatap.fish"),
        ("powershell", "_whatap.ps1"),
        ("elvish", "whatap.elv"),
    ] {
        let out = whatap(dir.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_committed(&repo().join("completions").join(file), &out.stdout);
    }
}

#[test]
fn committed_man_pages_are_current() {
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("man");
    fs::create_dir(&pages).unwrap();
    whatap(dir.path())
        .args(["man", "--dir"])
        .arg(&pages)
        .assert()
        .success();
    let mut names: Vec<_> = fs::read_dir(&pages)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert!(names.iter().any(|n| n == "whatap.1"), "{names:?}");
    for name in &names {
        assert_committed(
            &repo().join("man").join(name),
            &fs::read(pages.join(name)).unwrap(),
        );
    }
    // No page left behind for a command that is gone.
    let committed = fs::read_dir(repo().join("man")).unwrap().count();
    assert_eq!(
        committed,
        names.len(),
        "man/ has pages no command generates"
    );
    let top = whatap(dir.path()).arg("man").output().unwrap();
    assert_eq!(top.stdout, fs::read(pages.join("whatap.1")).unwrap());
}

#[test]
fn help_of_every_command() {
    let dir = tempfile::tempdir().unwrap();
    for command in [""].into_iter().chain(COMMANDS) {
        let mut cmd = whatap(dir.path());
        if !command.is_empty() {
            cmd.arg(command);
        }
        // The state dir's [env: ...] value is a temp path: leave it out of the snapshot.
        let out = cmd
            .arg("--help")
            .env_remove("WHATAP_STATE_DIR")
            .output()
            .unwrap();
        assert!(out.status.success(), "{command} --help");
        let name = if command.is_empty() {
            "whatap"
        } else {
            command
        };
        insta::assert_snapshot!(
            format!("help-{name}"),
            String::from_utf8(out.stdout).unwrap()
        );
    }
}

const COMMANDS: [&str; 8] = [
    "detect",
    "install",
    "uninstall",
    "doctor",
    "report",
    "history",
    "completions",
    "man",
];

fn help(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = whatap(dir.path())
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Every `--help` ends with examples of that command; install's flags come under headings;
/// a global flag that means nothing for a command is not offered there, yet still accepted.
#[test]
fn help_has_examples_headings_and_only_the_flags_that_matter() {
    for command in COMMANDS {
        let text = help(&[command]);
        let examples = text.split("Examples:\n").nth(1).unwrap_or_default();
        assert!(
            examples.contains(&format!("whatap {command}")),
            "{command} --help has no example of itself:\n{text}"
        );
    }
    let install = help(&["install"]);
    for heading in [
        "Target (which runtime):",
        "License and collector:",
        "Agent files:",
        "Agent options:",
        "Python and PHP:",
        "Global options:",
    ] {
        assert!(install.contains(heading), "{heading}\n{install}");
    }
    let detect = help(&["detect"]);
    assert!(
        !detect.contains("--yes") && !detect.contains("--dry-run"),
        "{detect}"
    );
    assert!(help(&["doctor"]).contains("--yes"));
    let dir = tempfile::tempdir().unwrap();
    whatap(dir.path())
        .args(["detect", "--yes", "--dry-run", "--json"])
        .assert()
        .success();
}

/// Man pages carry EXAMPLES, ENVIRONMENT, FILES and EXIT STATUS.
#[test]
fn man_pages_have_examples_environment_files_and_exit_status() {
    for page in COMMANDS
        .iter()
        .map(|c| format!("whatap-{c}.1"))
        .chain(["whatap.1".to_string()])
    {
        let text = fs::read_to_string(repo().join("man").join(&page)).unwrap();
        for section in [
            ".SH EXAMPLES",
            ".SH ENVIRONMENT",
            ".SH FILES",
            ".SH \"EXIT STATUS\"",
        ] {
            assert!(text.contains(section), "{page} lacks {section}");
        }
        assert!(!text.contains(".SH EXTRA"), "{page}");
    }
}
