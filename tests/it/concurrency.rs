//! Concurrent runs on one tree: they serialize whatever state dir each uses, a run rolls back
//! only what it wrote itself, a refusal touches nothing, a directory swapped for a symlink
//! while a run waits for its lock is never written through, and only a run's own temp files
//! are ever removed. (The stress test with the real Tomcat is in `real_tomcat`.)

use crate::common::*;
use std::fs;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

fn spawn(state: &Path, args: &[String], delay_us: u32) -> Child {
    whatap_process(state, args)
        .env("WHATAP_TEST_STEP_DELAY_US", delay_us.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn install_yes(home: &Path) -> Vec<String> {
    let mut args = install_args(home);
    args.push("--yes".into());
    args
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// The tomcat9 fixture fully installed: the jar, whatap.conf and exactly one block.
fn assert_complete(home: &Path, what: &str) {
    let jar = home.join("whatap").join(stub_jar().file_name().unwrap());
    assert_eq!(
        fs::read(&jar).ok(),
        fs::read(stub_jar()).ok(),
        "{what}: jar"
    );
    assert!(
        home.join("whatap/whatap.conf").is_file(),
        "{what}: whatap.conf"
    );
    let setenv = fs::read_to_string(home.join("bin/setenv.sh")).unwrap_or_default();
    assert_eq!(setenv.matches("-javaagent:").count(), 1, "{what}: {setenv}");
}

/// Polls until `check` holds (10 s at most).
fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_run_that_planned_before_another_wrote_removes_none_of_its_files() {
    let (dir, home) = fixture("tomcat9");
    let original = tree_bytes(&home);
    let (first_state, second_state) = (dir.path().join("a"), dir.path().join("b"));
    let log = dir.path().join("steps.log");
    // The first run is slowed; the second starts once the WhaTap home exists and its jar is
    // not written yet: it plans that jar as its own to create.
    let first = whatap_process(&first_state, &install_yes(&home))
        .env("WHATAP_TEST_STEP_LOG", &log)
        .env("WHATAP_TEST_STEP_DELAY_US", "40000")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the first run created the WhaTap home", || {
        fs::read_to_string(&log).is_ok_and(|l| l.contains("mkdir: renamed"))
    });
    let second = spawn(&second_state, &install_yes(&home), 0);
    let (first, second) = (
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    );
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    // The second run waited for the first, then found a block its state dir never recorded.
    assert_eq!(code(&second), 3, "{}", stderr(&second));
    assert_complete(&home, "after both runs");
    whatap(&first_state)
        .args(["uninstall", "--yes"])
        .assert()
        .success();
    assert_same_tree(&tree_bytes(&home), &original, "after uninstall");
}

#[test]
fn ten_parallel_installs_end_complete_and_one_uninstall_restores_the_tree() {
    let (dir, home) = fixture("tomcat9");
    let original = tree_bytes(&home);
    let states: Vec<_> = (0..5).map(|i| dir.path().join(format!("s{i}"))).collect();
    let children: Vec<Child> = (0..10)
        .map(|i| {
            spawn(
                &states[i % states.len()],
                &install_yes(&home),
                500 * (i as u32 % 3),
            )
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            matches!(code(&out), 0 | 3),
            "exit {}: {}",
            code(&out),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_complete(&home, "after ten installs");
    let recorded: Vec<_> = states
        .iter()
        .filter(|s| {
            fs::read_to_string(s.join("ledger.json")).is_ok_and(|l| l.contains("\"tomcat:"))
        })
        .collect();
    assert_eq!(recorded.len(), 1, "one state dir records the install");
    whatap(recorded[0])
        .args(["uninstall", "--yes"])
        .assert()
        .success();
    assert_same_tree(&tree_bytes(&home), &original, "after uninstall");
}

/// Whether `pid` is asleep in a timed wait (the lock's retry loop), from /proc.
fn sleeping(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/wchan")).is_ok_and(|w| w.contains("sleep"))
}

#[test]
fn a_directory_swapped_for_a_symlink_while_a_run_waits_is_never_written_through() {
    let (dir, home) = fixture("tomcat9-setenv-no-newline");
    let bin = home.join("bin");
    let outside = dir.path().join("outside");
    copy_tree(&bin, &outside);
    let outside_before = tree_bytes(&outside);
    // Another whatap holds the lock on bin/ while this run starts.
    let held = fs::File::open(&bin).unwrap();
    // SAFETY: flock on our own descriptor; released when `held` drops.
    assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX) }, 0);
    let state = dir.path().join("state");
    let run = spawn(&state, &install_yes(&home), 0);
    wait_until("the run waits for the lock", || sleeping(run.id()));
    fs::rename(&bin, home.join("bin.moved")).unwrap();
    std::os::unix::fs::symlink(&outside, &bin).unwrap();
    drop(held);
    let out = run.wait_with_output().unwrap();
    assert_eq!(code(&out), 3, "{}", String::from_utf8_lossy(&out.stderr));
    assert_same_tree(&tree_bytes(&outside), &outside_before, "outside the tree");
    assert!(!home.join("whatap").exists(), "something was written");
}

#[test]
fn only_temp_files_a_run_created_are_ever_removed() {
    let (dir, home) = fixture("tomcat9-setenv-no-newline");
    let state = dir.path().join("state");
    // A person's own files that look like temp files, among them the exact name earlier
    // versions used for setenv.sh's temp file.
    let theirs = [
        home.join("bin/.whatap-mine.tmp"),
        home.join("bin/.whatap-5e6ba787ffa16b86.tmp"),
        home.join(".whatap-1-0123456789abcdef.tmp"),
    ];
    for path in &theirs {
        fs::write(path, b"mine\n").unwrap();
    }
    fs::create_dir_all(&state).unwrap();
    fs::write(state.join(".whatap-notes.tmp"), b"mine\n").unwrap();
    // A failed run (rolled back), a run that completes, an uninstall.
    let failed = whatap_process(&state, &install_yes(&home))
        .env("WHATAP_TEST_FAIL_STEP", "6")
        .status()
        .unwrap();
    assert!(matches!(failed.code(), Some(4 | 5)), "{failed:?}");
    whatap(&state).args(install_yes(&home)).assert().success();
    whatap(&state)
        .args(["uninstall", "--yes"])
        .assert()
        .success();
    for path in theirs.iter().chain([&state.join(".whatap-notes.tmp")]) {
        assert_eq!(
            fs::read(path).ok().as_deref(),
            Some(&b"mine\n"[..]),
            "{} was removed",
            path.display()
        );
    }
}
