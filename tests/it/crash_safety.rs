//! Crash safety: `whatap install` / `uninstall` killed with SIGKILL at random points, more than
//! a thousand times, on fixture trees. After every kill each file is byte-identical to its old
//! or its new content (nothing else but a temp file the next run sweeps), the ledger is valid
//! and records the install whenever a file changed, and a rerun completes to the exact result.
//! Also: two installs at once on the same target never both write.
//!
//! The debug binary's `WHATAP_TEST_STEP_DELAY_US` hook (src/apply/checkpoint.rs) slows every
//! apply step, so a kill at a random time lands on a random step.

use crate::common::*;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

type Tree = BTreeMap<PathBuf, Vec<u8>>;

const KILLS: usize = 1000;
const STEP_DELAY_US: &str = "700";

fn run_ok(state: &Path, args: &[String], what: &str) {
    let out = whatap_process(state, args)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One fixture tree at a fixed path, with its content before and after install.
struct Scenario {
    _dir: tempfile::TempDir,
    root: PathBuf,
    fixture: &'static str,
    install: Vec<String>,
    uninstall: Vec<String>,
    old: Tree,
    new: Tree,
    /// Copies of the installed tree and state dir.
    installed: PathBuf,
    /// How long a slowed-down install / uninstall takes: kills are spread over it. Measured
    /// once, then adapted to the machine's load as runs finish before or after their kill.
    install_time: Cell<Duration>,
    uninstall_time: Cell<Duration>,
}

fn reset(root: &Path, fixture: &str) {
    let _ = fs::remove_dir_all(root);
    copy_tree(&repo().join("fixtures/tomcat").join(fixture), root);
}

fn timed(state: &Path, args: &[String]) -> Duration {
    let start = Instant::now();
    let status = whatap_process(state, args)
        .env("WHATAP_TEST_STEP_DELAY_US", STEP_DELAY_US)
        .status()
        .unwrap();
    assert!(status.success());
    start.elapsed()
}

impl Scenario {
    fn new(fixture: &'static str, extra: &[&str]) -> Scenario {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("tree");
        reset(&root, fixture);
        let mut install = install_args(&root);
        install.extend(extra.iter().map(|s| s.to_string()));
        install.push("--yes".into());
        let uninstall = vec![
            "uninstall".into(),
            "--yes".into(),
            "--home".into(),
            root.display().to_string(),
        ];
        let old = tree_bytes(&root);
        let state = root.with_file_name("state");
        let install_time = timed(&state, &install);
        let new = tree_bytes(&root);
        assert_ne!(old, new);
        // The installed tree and its state dir, copied at the same paths for uninstall trials.
        let installed = dir.path().join("installed");
        copy_tree(&root, &installed.join("tree"));
        copy_tree(&state, &installed.join("state"));
        let uninstall_time = timed(&state, &uninstall);
        assert_same_tree(&tree_bytes(&root), &old, "calibration uninstall");
        Scenario {
            _dir: dir,
            root,
            fixture,
            install,
            uninstall,
            old,
            new,
            installed,
            install_time: Cell::new(install_time),
            uninstall_time: Cell::new(uninstall_time),
        }
    }

    fn state(&self) -> PathBuf {
        self.root.with_file_name("state")
    }

    /// Starts `args` slowed down, kills it after a random delay; true when it was killed.
    /// A run that ended before its kill shortens `span` (the machine got less busy than when
    /// it was measured), a killed one lengthens it a little: kills keep landing.
    fn kill_during(&self, args: &[String], span: &Cell<Duration>) -> bool {
        let mut child = whatap_process(&self.state(), args)
            .env("WHATAP_TEST_STEP_DELAY_US", STEP_DELAY_US)
            .spawn()
            .unwrap();
        let delay = span.get().mul_f64(fastrand::f64() * 1.1);
        std::thread::sleep(delay);
        let _ = child.kill();
        let killed = child.wait().unwrap().signal() == Some(libc::SIGKILL);
        span.set(span.get().mul_f64(if killed { 1.02 } else { 0.8 }));
        killed
    }

    /// Every path holds its old or its new bytes; anything else is a swept temp file.
    fn assert_old_or_new(&self, context: &str) -> bool {
        let now = tree_bytes(&self.root);
        let mut changed = false;
        for path in now.keys().chain(self.old.keys()).chain(self.new.keys()) {
            let (n, o, w) = (now.get(path), self.old.get(path), self.new.get(path));
            if n == o && n == w {
                continue;
            }
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if o.is_none() && w.is_none() && name.starts_with(".whatap-") && name.ends_with(".tmp")
            {
                continue;
            }
            assert!(
                n == o || n == w,
                "{context}: {} is neither its old nor its new content",
                path.display()
            );
            changed |= n != o;
        }
        changed
    }

    fn ledger_records_install(&self) -> bool {
        match fs::read(self.state().join("ledger.json")) {
            Ok(bytes) => {
                let ledger: serde_json::Value =
                    serde_json::from_slice(&bytes).expect("the ledger is valid JSON after a kill");
                !ledger["installs"].as_array().unwrap().is_empty()
            }
            Err(_) => false,
        }
    }

    /// Kills an install, then kills its rerun, checking after each; a last rerun completes.
    /// Returns how many kills landed.
    fn install_trial(&self, trial: usize) -> usize {
        reset(&self.root, self.fixture);
        let _ = fs::remove_dir_all(self.state());
        let mut killed = 0;
        for attempt in 0..2 {
            killed += usize::from(self.kill_during(&self.install, &self.install_time));
            let context = format!("{} install trial {trial}.{attempt}", self.fixture);
            if self.assert_old_or_new(&context) {
                assert!(
                    self.ledger_records_install(),
                    "{context}: files changed but the ledger does not record the install"
                );
            }
        }
        let context = format!("{} install trial {trial}", self.fixture);
        if trial % 4 == 0 {
            // Walking away after the crash: uninstall alone puts every byte back.
            run_ok(&self.state(), &self.uninstall, &context);
            assert_same_tree(&tree_bytes(&self.root), &self.old, &context);
        } else {
            run_ok(&self.state(), &self.install, &context);
            assert_same_tree(&tree_bytes(&self.root), &self.new, &context);
        }
        killed
    }

    /// From the installed state, kills an uninstall and then its rerun; a last rerun completes.
    fn uninstall_trial(&self, trial: usize) -> usize {
        let _ = fs::remove_dir_all(&self.root);
        let _ = fs::remove_dir_all(self.state());
        copy_tree(&self.installed.join("tree"), &self.root);
        copy_tree(&self.installed.join("state"), &self.state());
        assert_same_tree(&tree_bytes(&self.root), &self.new, "installed copy");
        let mut killed = 0;
        for attempt in 0..2 {
            killed += usize::from(self.kill_during(&self.uninstall, &self.uninstall_time));
            let context = format!("{} uninstall trial {trial}.{attempt}", self.fixture);
            self.assert_old_or_new(&context);
            if tree_bytes(&self.root) != self.old {
                assert!(
                    self.ledger_records_install(),
                    "{context}: the ledger forgot an install that is not fully removed"
                );
            }
        }
        let context = format!("{} uninstall trial {trial}", self.fixture);
        run_ok(&self.state(), &self.uninstall, &context);
        assert_same_tree(&tree_bytes(&self.root), &self.old, &context);
        assert!(
            !self.ledger_records_install(),
            "{context}: ledger not cleared"
        );
        killed
    }
}

#[test]
fn sigkill_at_random_points_never_leaves_a_half_written_file() {
    stub_jar();
    let scenarios: [(&str, &[&str]); 4] = [
        ("tomcat9", &[]),
        ("tomcat9-setenv-no-newline", &[]),
        ("tomcat9", &["--method", "catalina"]),
        ("tomcat9-windows", &[]),
    ];
    let per_worker = KILLS.div_ceil(scenarios.len());
    let kills: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = scenarios
            .iter()
            .map(|(fixture, extra)| {
                scope.spawn(move || {
                    let scenario = Scenario::new(fixture, extra);
                    let (mut kills, mut trial) = (0, 0);
                    while kills < per_worker {
                        trial += 1;
                        assert!(trial < per_worker * 2, "{fixture}: kills rarely land");
                        kills += if trial % 3 == 0 {
                            scenario.uninstall_trial(trial)
                        } else {
                            scenario.install_trial(trial)
                        };
                    }
                    kills
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    assert!(kills >= KILLS, "{kills} kills");
}

#[test]
fn two_installs_at_once_never_both_write() {
    let (dir, _) = fixture("tomcat9");
    for round in 0..12 {
        let root = dir.path().join(format!("tree{round}"));
        reset(&root, "tomcat9");
        let mut args = install_args(&root);
        args.extend(["--yes".to_string(), "--json".to_string()]);
        // Half the rounds share a state dir (its lock), half do not (the target's locks).
        let states = if round % 2 == 0 {
            [
                dir.path().join(format!("s{round}")),
                dir.path().join(format!("s{round}")),
            ]
        } else {
            [
                dir.path().join(format!("a{round}")),
                dir.path().join(format!("b{round}")),
            ]
        };
        let children: Vec<_> = states
            .iter()
            .map(|state| {
                whatap_process(state, &args)
                    .env("WHATAP_TEST_STEP_DELAY_US", "20000")
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outputs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let mut wrote = 0;
        for out in &outputs {
            let code = out.status.code();
            assert!(matches!(code, Some(0 | 3)), "round {round}: exit {code:?}");
            let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            if report["changed"] == true {
                wrote += 1;
            }
        }
        assert_eq!(wrote, 1, "round {round}: exactly one install writes");
        let setenv = fs::read_to_string(root.join("bin/setenv.sh")).unwrap();
        assert_eq!(setenv.matches("-javaagent:").count(), 1, "round {round}");
    }
}

#[test]
fn a_failure_at_every_step_changes_nothing() {
    stub_jar();
    let scenario = Scenario::new("tomcat9-setenv-no-newline", &[]);
    let fail_at = |args: &[String], n: usize| {
        whatap_process(&scenario.state(), args)
            .env("WHATAP_TEST_FAIL_STEP", n.to_string())
            .status()
            .unwrap()
    };
    for n in 1.. {
        reset(&scenario.root, scenario.fixture);
        let _ = fs::remove_dir_all(scenario.state());
        let status = fail_at(&scenario.install, n);
        if status.success() {
            assert_same_tree(&tree_bytes(&scenario.root), &scenario.new, "install");
            assert!(n > 15, "install has only {n} steps?");
            break;
        }
        assert!(
            matches!(status.code(), Some(4 | 5)),
            "install failing at step {n}"
        );
        let context = format!("install failing at step {n}");
        assert_same_tree(&tree_bytes(&scenario.root), &scenario.old, &context);
        assert!(
            !scenario.ledger_records_install(),
            "{context}: ledger kept it"
        );
    }
    for n in 1.. {
        let _ = fs::remove_dir_all(&scenario.root);
        let _ = fs::remove_dir_all(scenario.state());
        copy_tree(&scenario.installed.join("tree"), &scenario.root);
        copy_tree(&scenario.installed.join("state"), &scenario.state());
        let status = fail_at(&scenario.uninstall, n);
        if status.success() {
            assert_same_tree(&tree_bytes(&scenario.root), &scenario.old, "uninstall");
            assert!(n > 5, "uninstall has only {n} steps?");
            break;
        }
        assert!(
            matches!(status.code(), Some(4 | 5)),
            "uninstall failing at step {n}"
        );
        let context = format!("uninstall failing at step {n}");
        assert_same_tree(&tree_bytes(&scenario.root), &scenario.new, &context);
        assert!(
            scenario.ledger_records_install(),
            "{context}: ledger forgot it"
        );
    }
}
