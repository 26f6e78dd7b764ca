//! Hostile input, one case per row of docs/safety.md: each gets a clear one-line error
//! (`error: ...` + `hint: ...`, exit 2 or 3) or is handled correctly; nothing outside the plan
//! is touched and nothing is executed (a canary file that an injected command would create
//! never appears). Also: the permissions of what install creates, and the license masked in
//! every output.

use crate::common::*;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

/// A fixture copy with a state dir and a canary path beside it.
struct Case {
    dir: tempfile::TempDir,
    home: PathBuf,
}

impl Case {
    fn new(fixture_name: &str) -> Case {
        let (dir, home) = fixture(fixture_name);
        Case { dir, home }
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn canary(&self) -> PathBuf {
        self.dir.path().join("PWNED")
    }

    /// Install with some of the standard flags replaced (a flag may be given only once).
    fn install_with(&self, flag: &str, value: &str) -> Output {
        whatap(&self.state())
            .args(with_flag(install_args(&self.home), flag, value))
            .arg("--yes")
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap()
    }

    fn install(&self, extra: &[&str]) -> Output {
        self.install_at(&self.home, extra)
    }

    fn install_at(&self, home: &Path, extra: &[&str]) -> Output {
        whatap(&self.state())
            .args(install_args(home))
            .args(extra)
            .arg("--yes")
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit `code`, `error: <one line naming what>` then `hint:`, the license never in full.
fn assert_clear_error(out: &Output, code: i32, names: &str) {
    let text = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    let error = lines
        .iter()
        .position(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {text}"));
    assert!(lines[error].contains(names), "{names:?} not in {text}");
    assert!(
        lines
            .get(error + 1)
            .is_some_and(|l| l.trim_start().starts_with("hint: ")),
        "{text}"
    );
    let all = format!("{}{text}", String::from_utf8_lossy(&out.stdout));
    assert!(!all.contains(LICENSE), "license printed: {all}");
}

#[test]
fn symlinks_out_of_the_tree_hard_links_fifos_and_directories_are_refused() {
    let shadow_before = fs::read("/etc/shadow").ok();
    let outside = |case: &Case| {
        let path = case.dir.path().join("outside.conf");
        fs::write(&path, "keep me\n").unwrap();
        path
    };
    type Setup = fn(&Case, &Path);
    let cases: [(&str, Setup, &str); 6] = [
        (
            "symlink to /etc/shadow",
            |_, t| {
                std::os::unix::fs::symlink("/etc/shadow", t.join("bin/setenv.sh")).unwrap();
            },
            "outside the runtime",
        ),
        (
            "symlink out of the tree",
            |c, t| {
                let path = c.dir.path().join("outside.sh");
                fs::write(&path, "# outside\n").unwrap();
                std::os::unix::fs::symlink(&path, t.join("bin/setenv.sh")).unwrap();
            },
            "outside the runtime",
        ),
        (
            "whatap.conf symlinked to /etc/shadow",
            |_, t| {
                fs::create_dir(t.join("whatap")).unwrap();
                std::os::unix::fs::symlink("/etc/shadow", t.join("whatap/whatap.conf")).unwrap();
            },
            "outside the runtime",
        ),
        (
            "hard link",
            |c, t| {
                fs::write(t.join("bin/setenv.sh"), "# shared\n").unwrap();
                fs::hard_link(t.join("bin/setenv.sh"), c.dir.path().join("link")).unwrap();
            },
            "hard links",
        ),
        (
            "FIFO",
            |_, t| {
                let path = std::ffi::CString::new(
                    t.join("bin/setenv.sh")
                        .into_os_string()
                        .into_encoded_bytes(),
                )
                .unwrap();
                // SAFETY: mkfifo on a NUL-terminated path we own.
                assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o644) }, 0);
            },
            "not a regular file",
        ),
        (
            "directory",
            |_, t| fs::create_dir(t.join("bin/setenv.sh")).unwrap(),
            "not a regular file",
        ),
    ];
    for (what, setup, message) in cases {
        let case = Case::new("tomcat9");
        let kept = outside(&case);
        setup(&case, &case.home);
        let tree = tree_bytes(&case.home);
        let out = case.install(&[]);
        assert_clear_error(&out, 3, message);
        assert_eq!(tree_bytes(&case.home), tree, "{what}: the tree changed");
        assert_eq!(fs::read_to_string(&kept).unwrap(), "keep me\n", "{what}");
        assert!(
            !case.state().join("ledger.json").exists(),
            "{what}: ledger written"
        );
    }
    assert_eq!(fs::read("/etc/shadow").ok(), shadow_before);
}

#[test]
fn huge_sparse_files_are_refused_without_being_read() {
    let case = Case::new("tomcat9");
    let setenv = case.home.join("bin/setenv.sh");
    fs::File::create(&setenv).unwrap().set_len(2 << 30).unwrap();
    let start = std::time::Instant::now();
    assert_clear_error(&case.install(&[]), 3, "too large");
    assert_eq!(fs::metadata(&setenv).unwrap().len(), 2 << 30);
    assert!(!case.home.join("whatap").exists());
    fs::remove_file(&setenv).unwrap();

    // A 2 GB "jar" given as the agent: refused as bad input before anything is read whole.
    let big = case.dir.path().join("whatap.agent.tracer-9.9.9.jar");
    let mut file = fs::File::create(&big).unwrap();
    std::io::Write::write_all(&mut file, b"PK\x03\x04").unwrap();
    file.set_len(2 << 30).unwrap();
    let tree = tree_bytes(&case.home);
    let out = case.install_with("--agent-jar", big.to_str().unwrap());
    assert_clear_error(&out, 2, "too large");
    assert_eq!(tree_bytes(&case.home), tree);
    assert!(start.elapsed().as_secs() < 30, "a huge file was read");
}

#[test]
fn a_fifo_given_as_the_agent_jar_does_not_hang() {
    let case = Case::new("tomcat9");
    let fifo = case.dir.path().join("whatap.agent.tracer-1.0.0.jar");
    let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a NUL-terminated path we own.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o644) }, 0);
    let out = case.install_with("--agent-jar", fifo.to_str().unwrap());
    assert_clear_error(&out, 2, "not a jar file");
}

#[test]
fn a_file_changed_between_plan_and_apply_is_refused() {
    let case = Case::new("tomcat9-setenv-no-newline");
    let setenv = case.home.join("bin/setenv.sh");
    let log = case.dir.path().join("steps.log");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_whatap"))
        .args(install_args(&case.home))
        .arg("--yes")
        .env("WHATAP_STATE_DIR", case.state())
        .env("WHATAP_TEST_STEP_LOG", &log)
        .env("WHATAP_TEST_STEP_DELAY_US", "300000")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The first apply step is reached only after the plan is made: edit the file then.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while fs::read(&log).map(|l| l.is_empty()).unwrap_or(true) {
        assert!(std::time::Instant::now() < deadline, "apply never started");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let mut edited = fs::read(&setenv).unwrap();
    edited.extend_from_slice(b"\nexport EDITED_DURING_APPLY=1\n");
    fs::write(&setenv, &edited).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_clear_error(&out, 3, "changed since the plan was made");
    assert_eq!(fs::read(&setenv).unwrap(), edited);
    assert!(!case.home.join("whatap").exists(), "rolled back");
    let ledger = fs::read_to_string(case.state().join("ledger.json")).unwrap_or_default();
    assert!(
        !ledger.contains("tomcat:"),
        "the ledger kept the failed install: {ledger}"
    );
}

#[test]
fn markers_in_here_documents_are_refused_and_in_comments_ignored() {
    let heredoc = "#!/bin/sh\ncat > /tmp/x.sh <<'EOF'\n########## WHATAP ############\nexport JAVA_OPTS\n########## WHATAP ############\nEOF\n";
    let case = Case::new("tomcat9");
    fs::write(case.home.join("bin/setenv.sh"), heredoc).unwrap();
    let tree = tree_bytes(&case.home);
    assert_clear_error(&case.install(&[]), 3, "here-document");
    assert_eq!(tree_bytes(&case.home), tree);

    let commented =
        "#!/bin/sh\n# ########## WHATAP ############\necho '########## WHATAP ############'\n";
    let case = Case::new("tomcat9");
    fs::write(case.home.join("bin/setenv.sh"), commented).unwrap();
    let tree = tree_bytes(&case.home);
    let out = case.install(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let setenv = fs::read_to_string(case.home.join("bin/setenv.sh")).unwrap();
    assert!(setenv.starts_with(commented), "{setenv}");
    whatap(&case.state())
        .args(["uninstall", "--yes"])
        .assert()
        .success();
    assert_eq!(tree_bytes(&case.home), tree);
}

#[test]
fn paths_with_spaces_newlines_and_shell_metacharacters() {
    let case = Case::new("tomcat9");
    let canary = case.canary();
    let evil = format!("$(touch {0}) `touch {0}`; touch {0} \"'", canary.display());
    for whatap_home in [
        "/opt/my whatap".to_string(),
        "/opt/line\nbreak".to_string(),
        format!("/opt/{evil}"),
    ] {
        let tree = tree_bytes(&case.home);
        let out = case.install(&["--whatap-home", &whatap_home]);
        assert_clear_error(&out, 2, "--whatap-home");
        assert_eq!(tree_bytes(&case.home), tree);
    }
    // A Tomcat whose own directory has such a name is handled: the block only names the
    // WhaTap home, which must be plain; the home itself never reaches a shell.
    for name in [
        "my tomcat",
        "new\nline",
        &format!("x{}", evil.replace('/', "_")),
    ] {
        let home = case.dir.path().join(name);
        copy_tree(&case.home, &home);
        let tree = tree_bytes(&home);
        let out = case.install_at(&home, &[]);
        assert_clear_error(&out, 2, "--whatap-home");
        let plain = case.dir.path().join("plain-whatap-home");
        let out = case.install_at(&home, &["--whatap-home", plain.to_str().unwrap()]);
        assert!(out.status.success(), "{name:?}: {}", stderr(&out));
        whatap(&case.state())
            .args(["uninstall", "--yes", "--home"])
            .arg(&home)
            .assert()
            .success();
        assert_eq!(tree_bytes(&home), tree, "{name:?}");
    }
    assert!(!canary.exists(), "an injected command ran");
}

#[test]
fn bad_licenses_hosts_and_values_are_refused_and_never_echoed() {
    let case = Case::new("tomcat9");
    let canary = case.canary().display().to_string();
    let tree = tree_bytes(&case.home);
    let runs: Vec<(&str, String)> = vec![
        ("--license", format!("{LICENSE}\"quote")),
        ("--license", format!("{LICENSE}\nlicense=other")),
        ("--license", format!("{LICENSE}$(touch {canary})")),
        ("--host", "https://collector.example:6600".into()),
        ("--host", format!("1.2.3.4;touch {canary}")),
        ("--host", format!("$(touch {canary})")),
        ("--host", "1.2.3.4\nlicense=evil".into()),
        ("--name", format!("x`touch {canary}`")),
        ("--oname", "a\"; touch x; \"".into()),
        ("--set", "whatap.name=a\nlicense=evil".into()),
    ];
    for (flag, value) in runs {
        let out = case.install_with(flag, &value);
        assert_clear_error(&out, 2, flag);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        if flag == "--license" {
            assert!(!text.contains(&value), "{value:?} echoed: {text}");
        }
        assert_eq!(tree_bytes(&case.home), tree, "{flag} {value:?}");
    }
    assert!(!case.canary().exists(), "an injected command ran");
}

#[test]
fn uninstall_refuses_a_recorded_file_swapped_for_a_symlink() {
    let case = Case::new("tomcat9");
    assert!(case.install(&[]).status.success());
    let conf = case.home.join("whatap/whatap.conf");
    fs::remove_file(&conf).unwrap();
    std::os::unix::fs::symlink("/etc/shadow", &conf).unwrap();
    let shadow = fs::read("/etc/shadow").ok();
    let out = whatap(&case.state())
        .args(["uninstall", "--yes"])
        .output()
        .unwrap();
    assert_clear_error(&out, 3, "symlink");
    assert_eq!(fs::read("/etc/shadow").ok(), shadow);
    assert!(
        fs::symlink_metadata(&conf)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn whatap_conf_is_0600_for_the_runtime_user_and_state_is_private() {
    if !must_have("root (to chown to the runtime's user)", is_root()) {
        return;
    }
    let case = Case::new("tomcat9-setenv-no-newline");
    // The runtime's user: the owner of logs/ when Tomcat is not running.
    let (uid, gid) = (4242, 4343);
    std::os::unix::fs::chown(case.home.join("logs"), Some(uid), Some(gid)).unwrap();
    let out = case.install(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let meta = |p: &Path| fs::metadata(p).unwrap();
    let conf = meta(&case.home.join("whatap/whatap.conf"));
    assert_eq!(conf.mode() & 0o777, 0o600);
    assert_eq!((conf.uid(), conf.gid()), (uid, gid));
    let home = meta(&case.home.join("whatap"));
    assert_eq!((home.uid(), home.gid()), (uid, gid));
    let state = case.state();
    for dir in [state.clone(), state.join("backups")] {
        assert_eq!(meta(&dir).mode() & 0o777, 0o700, "{}", dir.display());
    }
    for file in [state.join("ledger.json"), state.join("lock")] {
        assert_eq!(meta(&file).mode() & 0o777, 0o600, "{}", file.display());
    }
    for backup in fs::read_dir(state.join("backups")).unwrap() {
        assert_eq!(backup.unwrap().metadata().unwrap().mode() & 0o777, 0o600);
    }
    // A state dir someone loosened is tightened on the next run.
    fs::set_permissions(&state, fs::Permissions::from_mode(0o755)).unwrap();
    whatap(&state)
        .args(["uninstall", "--yes"])
        .assert()
        .success();
    assert_eq!(meta(&state).mode() & 0o777, 0o700);
}

#[test]
fn the_license_is_masked_in_every_output() {
    let case = Case::new("tomcat9");
    let state = case.state();
    let home = case.home.display().to_string();
    let mut runs: Vec<Vec<String>> = Vec::new();
    for extra in [
        &["--dry-run", "-v"][..],
        &["--dry-run", "--json"],
        &["--json"],
        &["--yes", "-v"],
        &["--yes", "--json"],
    ] {
        let mut args = install_args(&case.home);
        args.extend(extra.iter().map(|s| s.to_string()));
        runs.push(args);
    }
    for args in [
        vec!["detect", "--json"],
        vec!["doctor", "--no-network", "--home", &home],
        vec!["doctor", "--no-network", "--json", "--home", &home],
        vec!["uninstall", "--dry-run", "-v"],
        vec!["uninstall", "--yes", "-v", "--json"],
    ] {
        runs.push(args.into_iter().map(String::from).collect());
    }
    for args in runs {
        let out = whatap(&state).args(&args).output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        assert!(!text.contains(LICENSE), "{args:?}: {text}");
    }
}
