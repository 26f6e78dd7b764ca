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

    /// `uninstall --yes` succeeds and gives the home back exactly as `tree`.
    fn assert_uninstall_restores(&self, tree: &std::collections::BTreeMap<PathBuf, Vec<u8>>) {
        whatap(&self.state())
            .args(["uninstall", "--yes"])
            .assert()
            .success();
        assert_eq!(&tree_bytes(&self.home), tree);
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
    case.assert_uninstall_restores(&tree);
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
    // A state dir others may write is refused, never chmodded (state_trust has the rest).
    fs::set_permissions(&state, fs::Permissions::from_mode(0o775)).unwrap();
    let out = whatap(&state)
        .args(["uninstall", "--yes"])
        .output()
        .unwrap();
    assert_clear_error(&out, 3, "writable by other users");
    assert_eq!(meta(&state).mode() & 0o777, 0o775);
    fs::set_permissions(&state, fs::Permissions::from_mode(0o700)).unwrap();
    whatap(&state)
        .args(["uninstall", "--yes"])
        .assert()
        .success();
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

#[test]
fn a_fake_sh_first_on_path_is_never_run() {
    let case = Case::new("tomcat9-setenv-no-newline");
    // A setenv.sh that does not parse: the check must catch it, whatever PATH says.
    let setenv = case.home.join("bin/setenv.sh");
    let mut broken = fs::read(&setenv).unwrap();
    broken.extend_from_slice(b"\nif then\n");
    fs::write(&setenv, &broken).unwrap();
    let fake = case.dir.path().join("fakebin");
    fs::create_dir(&fake).unwrap();
    for name in ["sh", "bash", "dash"] {
        let path = fake.join(name);
        fs::write(
            &path,
            format!("#!/bin/sh\ntouch {}\nexit 0\n", case.canary().display()),
        )
        .unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        fake.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let tree = tree_bytes(&case.home);
    let out = whatap(&case.state())
        .args(install_args(&case.home))
        .arg("--yes")
        .env("PATH", path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("-n"), "{}", stderr(&out));
    assert!(!case.canary().exists(), "a program was found through PATH");
    assert_eq!(tree_bytes(&case.home), tree);
}

#[test]
fn an_edited_or_unrecorded_block_is_refused_by_install() {
    let case = Case::new("tomcat9");
    assert!(case.install(&[]).status.success());
    let setenv = case.home.join("bin/setenv.sh");
    let edited = fs::read_to_string(&setenv)
        .unwrap()
        .replace("-javaagent:", "-Dsite.tuned=1 -javaagent:");
    fs::write(&setenv, &edited).unwrap();
    let tree = tree_bytes(&case.home);
    let out = case.install(&["--port", "8080"]);
    assert_clear_error(&out, 3, "setenv.sh:");
    assert_eq!(tree_bytes(&case.home), tree, "the edit was overwritten");

    // A guide block added by hand: no install recorded it.
    let case = Case::new("tomcat9");
    let by_hand = "#!/bin/sh\n########## WHATAP ############\nexport CATALINA_OPTS=\"$CATALINA_OPTS -javaagent:/opt/whatap/whatap.agent.tracer-2.2.0.jar\"\n########## WHATAP ############\n";
    fs::write(case.home.join("bin/setenv.sh"), by_hand).unwrap();
    let tree = tree_bytes(&case.home);
    let out = case.install(&[]);
    assert_clear_error(&out, 3, "setenv.sh:2");
    assert_eq!(tree_bytes(&case.home), tree);
    assert!(!case.state().join("ledger.json").exists());
}

/// `getfacl` of `path` without the header comments.
fn acl(path: &Path) -> String {
    let out = std::process::Command::new("getfacl")
        .args(["--omit-header", "--numeric"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// A path and an attribute name as C strings.
fn c_strings(path: &Path, name: &str) -> (std::ffi::CString, std::ffi::CString) {
    let c = |bytes: &[u8]| std::ffi::CString::new(bytes).unwrap();
    (c(path.as_os_str().as_encoded_bytes()), c(name.as_bytes()))
}

fn xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let (c_path, c_name) = c_strings(path, name);
    let mut buf = vec![0u8; 256];
    // SAFETY: getxattr into a buffer of the given length, NUL-terminated strings we own.
    let len = unsafe {
        libc::getxattr(
            c_path.as_ptr(),
            c_name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    (len >= 0).then(|| buf[..len as usize].to_vec())
}

fn set_xattr(path: &Path, name: &str, value: &[u8]) -> std::io::Result<()> {
    let (c_path, c_name) = c_strings(path, name);
    // SAFETY: setxattr with NUL-terminated strings and a value slice we own.
    let rc = unsafe {
        libc::setxattr(
            c_path.as_ptr(),
            c_name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[test]
fn acls_and_extended_attributes_survive_install_and_uninstall() {
    let have_acl = std::process::Command::new("setfacl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !must_have("setfacl/getfacl (Debian package acl)", have_acl) {
        return;
    }
    let case = Case::new("tomcat9-setenv-no-newline");
    let setenv = case.home.join("bin/setenv.sh");
    fs::set_permissions(&setenv, fs::Permissions::from_mode(0o640)).unwrap();
    // catalina.sh runs as the daemon user here: it reads setenv.sh through the ACL.
    let status = std::process::Command::new("setfacl")
        .args(["-m", "u:daemon:r"])
        .arg(&setenv)
        .status()
        .unwrap();
    assert!(status.success());
    set_xattr(&setenv, "user.origin", b"site config").unwrap();
    // An SELinux label, where the kernel lets root set one without a policy.
    let label = b"system_u:object_r:bin_t:s0".as_slice();
    let selinux = set_xattr(&setenv, "security.selinux", label).is_ok();
    if !selinux {
        eprintln!("SKIPPED (part): security.selinux cannot be set on this kernel");
    }
    let before = (
        acl(&setenv),
        xattr(&setenv, "user.origin"),
        fs::read(&setenv).unwrap(),
    );
    assert!(before.0.contains("user:1:r--"), "{}", before.0);
    let check = |when: &str| {
        assert_eq!(acl(&setenv), before.0, "{when}: ACL");
        assert_eq!(
            xattr(&setenv, "user.origin"),
            before.1,
            "{when}: user.origin"
        );
        if selinux {
            assert_eq!(
                xattr(&setenv, "security.selinux").as_deref(),
                Some(label),
                "{when}"
            );
        }
        assert_eq!(
            fs::metadata(&setenv).unwrap().mode() & 0o777,
            0o640,
            "{when}: mode"
        );
    };
    let out = case.install(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(fs::read(&setenv).unwrap(), before.2);
    check("after install");
    whatap(&case.state())
        .args(["uninstall", "--yes"])
        .assert()
        .success();
    assert_eq!(fs::read(&setenv).unwrap(), before.2);
    check("after uninstall");
}

#[test]
fn doctor_masks_licenses_in_log_lines_and_shows_control_characters() {
    let case = Case::new("tomcat9");
    assert!(case.install(&[]).status.success());
    let other = "zyxwvutsrq0987654321abcd";
    let logs = [
        (
            case.dir.path().join("a.log"),
            format!(
                "12:00 [WA172] invalid license key error. license={other} \x1b[2J\x1b]0;owned\x07\n"
            ),
        ),
        (
            case.dir.path().join("b.log"),
            format!("12:01 WHATAP: license or whatap.server.host error ({LICENSE})\u{9b}31m\n"),
        ),
    ];
    let mut args = vec![
        "doctor".to_string(),
        "--no-network".into(),
        "--home".into(),
        case.home.display().to_string(),
    ];
    for (path, line) in &logs {
        fs::write(path, line).unwrap();
        args.extend(["--log".to_string(), path.display().to_string()]);
    }
    for json in [false, true] {
        let mut args = args.clone();
        if json {
            args.push("--json".into());
        }
        let out = whatap(&case.state()).args(&args).output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        assert!(text.contains("a.log") && text.contains("b.log"), "{text}");
        assert!(
            !text.contains(other) && !text.contains(LICENSE),
            "license shown: {text}"
        );
        assert!(text.contains(&other[other.len() - 4..]), "{text}");
        for raw in ['\x1b', '\x07', '\u{9b}'] {
            assert!(!text.contains(raw), "raw {raw:?} emitted (json: {json})");
        }
        if !json {
            assert!(text.contains("\\x1b[2J"), "{text}");
        }
    }
}

#[test]
fn flag_values_that_would_break_a_file_or_the_system_are_refused() {
    let case = Case::new("tomcat9");
    let tree = tree_bytes(&case.home);
    let runs: [(&str, &str); 11] = [
        ("--set", "whatap.name=value\\"),
        ("--set", "whatap.name=a\\u12"),
        ("--set", "whatap.name=a\x1b[2Jb"),
        ("--base", "/"),
        ("--base", "/etc"),
        ("--home", "/usr/local/"),
        ("--whatap-home", "/var/lib/../lib"),
        ("--host", "1.2.3.999"),
        ("--host", "0.0.0.0"),
        ("--host", "224.0.0.1"),
        ("--port", "0"),
    ];
    for (flag, value) in runs {
        let out = case.install_with(flag, value);
        assert_clear_error(&out, 2, flag);
        assert_eq!(tree_bytes(&case.home), tree, "{flag} {value:?}");
    }
    // A backslash written as Java properties spells it is fine, and reaches whatap.conf.
    let out = case.install_with("--set", "log_dir=C:\\\\whatap\\\\logs");
    assert!(out.status.success(), "{}", stderr(&out));
    let conf = fs::read_to_string(case.home.join("whatap/whatap.conf")).unwrap();
    assert!(conf.contains("log_dir=C:\\\\whatap\\\\logs\n"), "{conf}");
}

#[test]
fn a_block_never_lands_after_a_final_return() {
    let case = Case::new("tomcat9");
    let setenv = case.home.join("bin/setenv.sh");
    fs::write(&setenv, "#!/bin/sh\nUMASK=0027\nreturn 0\n").unwrap();
    let tree = tree_bytes(&case.home);
    assert!(case.install(&[]).status.success());
    // catalina.sh sources setenv.sh: the options must be set when it returns.
    let out = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg("f() { . \"$1\"; }; f \"$1\"; printf '%s' \"$CATALINA_OPTS $JAVA_OPTS\"")
        .arg("sh")
        .arg(&setenv)
        .output()
        .unwrap();
    let options = String::from_utf8_lossy(&out.stdout);
    assert!(options.contains("-javaagent:"), "{options:?}");
    case.assert_uninstall_restores(&tree);
}

#[test]
fn a_whatap_home_named_through_dot_dot_or_a_symlink_is_written_where_it_resolves() {
    let case = Case::new("tomcat9");
    let real = case.dir.path().join("real");
    fs::create_dir(&real).unwrap();
    std::os::unix::fs::symlink(&real, case.dir.path().join("link")).unwrap();
    let tree = tree_bytes(&case.home);
    for given in ["real/../real/agent", "link/agent"] {
        let whatap_home = case.dir.path().join(given);
        let out = case.install(&["--whatap-home", whatap_home.to_str().unwrap()]);
        assert!(out.status.success(), "{given}: {}", stderr(&out));
        assert!(real.join("agent/whatap.conf").is_file(), "{given}");
        case.assert_uninstall_restores(&tree);
        assert!(!real.join("agent").exists(), "{given}");
    }
}
