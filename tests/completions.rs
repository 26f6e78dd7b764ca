//! The committed completion scripts in completions/ match what the binary generates.

mod common;

use common::*;
use std::fs;

#[test]
fn committed_completions_are_current() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, file) in [
        ("bash", "whatap.bash"),
        ("zsh", "_whatap"),
        ("fish", "whatap.fish"),
    ] {
        let out = whatap(dir.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        let path = repo().join("completions").join(file);
        if std::env::var("WHATAP_UPDATE_COMPLETIONS").is_ok() {
            fs::write(&path, &out.stdout).unwrap();
        }
        let committed = fs::read(&path).unwrap_or_default();
        assert!(
            committed == out.stdout,
            "{} is stale: run WHATAP_UPDATE_COMPLETIONS=1 cargo test --test completions",
            path.display()
        );
    }
}
