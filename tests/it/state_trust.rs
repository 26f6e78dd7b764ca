//! Root's trust boundary: the state dir, ledger, backups and lock must be the running user's
//! and writable by no one else, or the run is refused (exit 3) with the path and nothing is
//! chmodded; state files that are FIFOs, directories or huge are refused at once; a full disk
//! is exit 4 with a consistent ledger; the state dir is absolute; the ledger keeps no license.

use crate::common::*;
use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

/// Exit 3, the one-line error naming `names`.
fn assert_refused(out: &Output, names: &str) {
    let text = stderr(out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    let error = text
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or("");
    assert!(error.contains(names), "{names:?} not in {text}");
}

fn run(state: &Path, args: &[&str]) -> Output {
    whatap(state)
        .args(args)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap()
}

fn install(state: &Path, home: &Path) -> Output {
    whatap(state)
        .args(install_args(home))
        .arg("--yes")
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap()
}

#[test]
fn a_state_dir_others_can_write_is_refused_and_never_chmodded() {
    let (dir, home) = fixture("tomcat9");
    let tree = tree_bytes(&home);
    // One that is merely loose, and a shared sticky one like /tmp given as --state-dir.
    for mode in [0o777, 0o1777, 0o775] {
        let state = dir.path().join(format!("state-{mode:o}"));
        fs::create_dir(&state).unwrap();
        fs::set_permissions(&state, fs::Permissions::from_mode(mode)).unwrap();
        assert_refused(&install(&state, &home), &state.display().to_string());
        let now = fs::metadata(&state).unwrap().mode() & 0o7777;
        assert_eq!(now, mode, "the state dir was chmodded");
        assert_eq!(fs::read_dir(&state).unwrap().count(), 0, "written into");
        assert_eq!(tree_bytes(&home), tree);
    }
}

#[test]
fn state_files_that_are_not_the_users_own_are_refused() {
    if !must_have("root (to hand files to another user)", is_root()) {
        return;
    }
    let (_dir, home, state) = installed("tomcat9-setenv-no-newline");
    let installed_tree = tree_bytes(&home);
    let ledger = state.join("ledger.json");
    let backup = fs::read_dir(state.join("backups"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let chown =
        |path: &Path, uid: u32| std::os::unix::fs::chown(path, Some(uid), Some(uid)).unwrap();
    let chmod = |path: &Path, mode: u32| {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap()
    };
    for (path, how) in [
        (&ledger, "owner"),
        (&ledger, "mode"),
        (&backup, "owner"),
        (&backup, "mode"),
    ] {
        match how {
            "owner" => chown(path, 4242),
            _ => chmod(path, 0o666),
        }
        let out = run(&state, &["uninstall", "--yes"]);
        assert_refused(&out, &path.display().to_string());
        assert_eq!(
            tree_bytes(&home),
            installed_tree,
            "{} {how}",
            path.display()
        );
        chown(path, 0);
        chmod(path, 0o600);
    }
    // A symlink planted as the lock is never followed (nor created through).
    let lock = state.join("lock");
    let target = state.with_file_name("planted");
    fs::remove_file(&lock).unwrap();
    std::os::unix::fs::symlink(&target, &lock).unwrap();
    assert_refused(&run(&state, &["uninstall", "--yes"]), "lock");
    assert!(!target.exists(), "the lock symlink was followed");
    fs::remove_file(&lock).unwrap();
    let out = run(&state, &["uninstall", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A ledger someone else wrote, claiming `victim` was modified and its original is
/// attacker bytes: as root, uninstall would have written them over it.
#[test]
fn a_planted_ledger_never_makes_uninstall_write_over_a_file() {
    if !must_have("root (to plant a file as another user)", is_root()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.conf");
    fs::write(&victim, b"precious\n").unwrap();
    let evil = b"attacker bytes\n";
    let sha = |b: &[u8]| {
        use sha2::Digest;
        sha2::Sha256::digest(b)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<String>()
    };
    let state = dir.path().join("state");
    fs::create_dir_all(state.join("backups")).unwrap();
    fs::write(state.join("backups").join(sha(evil)), evil).unwrap();
    let ledger = serde_json::json!({
        "version": 1,
        "installs": [{"id": "tomcat:/x", "runtime": "tomcat", "target": "/x", "method": "setenv",
            "installed_at": 0, "paths": [victim], "dirs_created": []}],
        "files": [{"path": victim, "action": "modified", "original_sha256": sha(evil),
            "backup": sha(evil), "written_sha256": sha(b"precious\n"), "ownership": {"kind": "whole"}}]
    });
    fs::write(state.join("ledger.json"), ledger.to_string()).unwrap();
    for path in [
        state.join("ledger.json"),
        state.join("backups").join(sha(evil)),
    ] {
        std::os::unix::fs::chown(&path, Some(4242), Some(4242)).unwrap();
    }
    assert_refused(&run(&state, &["uninstall", "--yes"]), "ledger.json");
    assert_eq!(fs::read(&victim).unwrap(), b"precious\n");
}

#[test]
fn ledgers_that_are_fifos_directories_or_huge_are_refused_at_once() {
    type Plant = fn(&Path);
    let cases: [(&str, Plant, &str); 3] = [
        (
            "FIFO",
            |p| {
                let c = CString::new(p.as_os_str().as_bytes()).unwrap();
                // SAFETY: mkfifo on a NUL-terminated path we own.
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
            },
            "not a regular file",
        ),
        (
            "directory",
            |p| fs::create_dir(p).unwrap(),
            "not a regular file",
        ),
        (
            "2 GB sparse file",
            |p| fs::File::create(p).unwrap().set_len(2 << 30).unwrap(),
            "too large",
        ),
    ];
    for (what, plant, message) in cases {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        fs::create_dir(&state).unwrap();
        fs::set_permissions(&state, fs::Permissions::from_mode(0o700)).unwrap();
        plant(&state.join("ledger.json"));
        let start = Instant::now();
        let out = run(&state, &["uninstall", "--yes"]);
        assert_refused(&out, message);
        assert!(
            stderr(&out).contains("ledger.json"),
            "{what}: {}",
            stderr(&out)
        );
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what}: took long"
        );
    }
}

/// A small tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Tmpfs {
        fs::create_dir_all(path).unwrap();
        let c = |s: &[u8]| CString::new(s).unwrap();
        let (target, options) = (
            c(path.as_os_str().as_bytes()),
            c(format!("size={size}").as_bytes()),
        );
        let fstype = c(b"tmpfs");
        // SAFETY: mount(2) with NUL-terminated strings we own, on a directory we created.
        let rc = unsafe {
            libc::mount(
                fstype.as_ptr(),
                target.as_ptr(),
                fstype.as_ptr(),
                0,
                options.as_ptr().cast(),
            )
        };
        assert_eq!(rc, 0, "mount tmpfs: {}", std::io::Error::last_os_error());
        Tmpfs(path.to_path_buf())
    }

    /// Writes a file until the filesystem is full.
    fn fill(&self) -> PathBuf {
        let filler = self.0.join("filler");
        let mut file = fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 4096];
        while std::io::Write::write_all(&mut file, &chunk).is_ok() {}
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let path = CString::new(self.0.as_os_str().as_bytes()).unwrap();
        // SAFETY: umount2(2) on the mount point this test created.
        unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) };
    }
}

/// Every backup the ledger names exists, and the ledger is valid JSON.
fn ledger_is_consistent(state: &Path) -> serde_json::Value {
    let ledger: serde_json::Value =
        serde_json::from_slice(&fs::read(state.join("ledger.json")).unwrap()).unwrap();
    for file in ledger["files"].as_array().unwrap() {
        if let Some(backup) = file["backup"].as_str() {
            assert!(
                state.join("backups").join(backup).is_file(),
                "missing backup {backup}"
            );
        }
    }
    ledger
}

#[test]
fn a_full_disk_anywhere_is_exit_4_with_a_consistent_ledger() {
    if !must_have("root (to mount a small tmpfs)", is_root()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The state dir fills up: a first install fits, the second does not.
    let fs_state = Tmpfs::mount(&dir.path().join("statefs"), "512k");
    let state = fs_state.0.join("state");
    let (_a, first) = fixture("tomcat9-setenv-no-newline");
    let out = install(&state, &first);
    assert!(out.status.success(), "{}", stderr(&out));
    let ledger_before = ledger_is_consistent(&state);
    let filler = fs_state.fill();
    let (_b, second) = fixture("tomcat9-setenv-no-newline");
    let tree = tree_bytes(&second);
    let out = install(&state, &second);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(tree_bytes(&second), tree, "the second tree changed");
    assert_eq!(ledger_is_consistent(&state), ledger_before);
    fs::remove_file(filler).unwrap();
    let out = run(
        &state,
        &["uninstall", "--yes", "--home", first.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));

    // The target's filesystem fills up.
    let fs_tree = Tmpfs::mount(&dir.path().join("treefs"), "4m");
    let home = fs_tree.0.join("tomcat9");
    copy_tree(
        &repo().join("fixtures/tomcat/tomcat9-setenv-no-newline"),
        &home,
    );
    let tree = tree_bytes(&home);
    fs_tree.fill();
    let state = dir.path().join("state2");
    let out = install(&state, &home);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(tree_bytes(&home), tree, "the tree changed");
    if state.join("ledger.json").exists() {
        let ledger = ledger_is_consistent(&state);
        assert_eq!(ledger["installs"].as_array().unwrap().len(), 0, "{ledger}");
    }
}

#[test]
fn a_relative_state_dir_is_made_absolute() {
    let (dir, home) = fixture("tomcat9-setenv-no-newline");
    let (here, elsewhere) = (dir.path().join("here"), dir.path().join("elsewhere"));
    fs::create_dir(&here).unwrap();
    fs::create_dir(&elsewhere).unwrap();
    let relative = Path::new("state");
    let out = whatap(relative)
        .current_dir(&here)
        .args(install_args(&home))
        .args(["--yes", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out.stdout);
    let backup = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|f| f["backup"].as_str())
        .expect("setenv.sh was backed up");
    assert!(
        backup.starts_with(&here.join("state/backups").display().to_string()),
        "{backup}"
    );
    // From elsewhere the same relative value is another state dir, and the note says which.
    let out = whatap(relative)
        .current_dir(&elsewhere)
        .args(["uninstall", "--yes"])
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains(&elsewhere.join("state").display().to_string()),
        "{}",
        stderr(&out)
    );
    whatap(relative)
        .current_dir(&here)
        .args(["uninstall", "--yes"])
        .assert()
        .success();
}

#[test]
fn the_ledger_keeps_no_license_and_uninstall_still_restores_the_old_one() {
    let old = "old-license-key-0000-abcdefgh";
    let (dir, _home, conf, install) =
        fixture_with_whatap_conf(&format!("license={old}\nprofile_sql=true\n"));
    let state = dir.path().join("state");
    whatap(&state).args(install).arg("--yes").assert().success();
    let ledger = fs::read_to_string(state.join("ledger.json")).unwrap();
    assert!(
        !ledger.contains(LICENSE) && !ledger.contains(old),
        "{ledger}"
    );
    // An edit after install: uninstall puts back key by key, the old license from the backup.
    let mut text = fs::read_to_string(&conf).unwrap();
    text.push_str("# tuned by hand\n");
    fs::write(&conf, &text).unwrap();
    whatap(&state)
        .args(["uninstall", "--yes"])
        .assert()
        .success();
    assert_eq!(
        fs::read_to_string(&conf).unwrap(),
        format!("license={old}\nprofile_sql=true\n# tuned by hand\n")
    );
}
