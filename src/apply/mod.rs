//! The only code that writes files: backup, atomic writes in plan order, rollback on failure.
//! Modeled on rustup's transaction: every change is remembered as it is made and undone in
//! reverse order if a later one fails.

pub mod atomic;
pub mod checkpoint;
pub mod history;
pub mod ledger;
pub mod lock;
pub mod state;

use crate::error::{Error, Result};
use crate::msg;
use crate::plan::{Action, Edit, Link, ModeChange, Plan, Rewrite, RunStep, Validation};
use atomic::WriteSpec;
use state::StateDir;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A file a program of the plan rewrote, with what it holds after the whole apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    pub path: PathBuf,
    pub after: Option<Vec<u8>>,
}

/// Applies the plan, then runs `commit` (the ledger update that makes it final) with what the
/// plan's programs rewrote. On any failure, including `commit`'s, restores what was already
/// changed and returns `ApplyFailed` (exit 4), or the refusal that stopped it (exit 3).
pub fn apply(
    plan: &Plan,
    state: &StateDir,
    commit: impl FnOnce(&[Rewritten]) -> Result<()>,
) -> Result<()> {
    let changing: Vec<&Edit> = plan
        .edits
        .iter()
        .filter(|e| e.action() != Action::Unchanged)
        .collect();
    // Files programs rewrite, as planned: put back whatever a later step does.
    let mut rewrites: Vec<&Rewrite> = Vec::new();
    let mut created_dirs: Vec<&Path> = Vec::new();
    let mut removed_dirs: Vec<(&Path, fs::Metadata)> = Vec::new();
    let mut modes_done: Vec<&ModeChange> = Vec::new();
    let mut removed_links: Vec<&Link> = Vec::new();
    let mut created_links: Vec<&Link> = Vec::new();
    // Each edit begun, with the mode and owner its file had (a deleted one is put back so).
    let mut done: Vec<(&Edit, Option<FileMode>)> = Vec::new();
    let result = (|| {
        // Programs first: when one fails, no file of the plan has been touched yet, and the
        // files it rewrote are put back.
        for step in &plan.run {
            for rewrite in &step.rewrites {
                atomic::check_unchanged(&rewrite.path, rewrite.before.as_deref())?;
                if let Some(before) = &rewrite.before {
                    state.write_backup(before)?;
                }
                rewrites.push(rewrite);
            }
            run_step(step)?;
            checkpoint::step("apply: program run")?;
        }
        for edit in &changing {
            if let Some(before) = &edit.before {
                state.write_backup(before)?;
            }
        }
        checkpoint::step("apply: backups written")?;
        for dir in &plan.dirs {
            atomic::create_dir(&dir.path, dir.mode, dir.owner)?;
            created_dirs.push(&dir.path);
        }
        for link in &plan.remove_links {
            if link.is_in_place() {
                fs::remove_file(&link.path).map_err(|e| Error::io(&link.path, e))?;
                removed_links.push(link);
            }
        }
        for edit in &changing {
            // Listed first: a step failing after the rename must still be undone.
            let meta = fs::symlink_metadata(&edit.path).ok();
            done.push((edit, meta.map(|m| (m.mode() & 0o7777, m.uid(), m.gid()))));
            apply_edit(edit)?;
        }
        for link in &plan.links {
            std::os::unix::fs::symlink(&link.target, &link.path)
                .map_err(|e| Error::io(&link.path, e))?;
            created_links.push(link);
        }
        for change in &plan.modes {
            set_mode(change, change.before, change.after)?;
            modes_done.push(change);
        }
        for step in &plan.run_after {
            run_step(step)?;
        }
        for dir in &plan.remove_dirs {
            // Only empty directories go; anything the runtime wrote there stays.
            if let Ok(meta) = fs::symlink_metadata(dir) {
                if fs::remove_dir(dir).is_ok() {
                    removed_dirs.push((dir, meta));
                    checkpoint::step("apply: directory removed")?;
                }
            }
        }
        let rewritten = rewrites
            .iter()
            .map(|r| {
                Ok(Rewritten {
                    path: r.path.clone(),
                    after: atomic::read_current(&r.path)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        commit(&rewritten)
    })();
    if let Err(error) = result {
        for (dir, meta) in removed_dirs.iter().rev() {
            let _ = atomic::create_dir(dir, meta.mode() & 0o7777, Some((meta.uid(), meta.gid())));
        }
        for change in modes_done.iter().rev() {
            let _ = set_mode(change, change.after, change.before);
        }
        for link in created_links.iter().rev() {
            let _ = fs::remove_file(&link.path);
        }
        for (edit, meta) in done.iter().rev() {
            undo_edit(edit, *meta);
        }
        for link in removed_links.iter().rev() {
            let _ = std::os::unix::fs::symlink(&link.target, &link.path);
        }
        for dir in created_dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
        for rewrite in rewrites.iter().rev() {
            put_back(rewrite);
        }
        return Err(match error {
            Error::Refused { .. } | Error::ApplyFailed { .. } => error,
            other => Error::ApplyFailed {
                message: other.to_string(),
            },
        });
    }
    Ok(())
}

/// Changes a file's mode from `from` to `to`, refusing if it is no longer `from`.
fn set_mode(change: &ModeChange, from: u32, to: u32) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let path = &change.path;
    let now = fs::metadata(path).map_err(|e| Error::io(path, e))?.mode() & 0o7777;
    if now != from {
        return Err(Error::refused(
            msg!(
                "apply-mode-changed",
                path = path.display(),
                now = format!("{now:04o}"),
                expected = format!("{from:04o}")
            ),
            msg!("apply-mode-changed-hint"),
        ));
    }
    fs::set_permissions(path, fs::Permissions::from_mode(to)).map_err(|e| Error::io(path, e))
}

/// Best effort: a file a program rewrote gets its planned bytes back (or goes, when it did not
/// exist). The program's other effects (npm's node_modules) stay: it undoes its own failures.
fn put_back(rewrite: &Rewrite) {
    let Ok(current) = atomic::read_current(&rewrite.path) else {
        return;
    };
    if current == rewrite.before {
        return;
    }
    let _ = match (&rewrite.before, &current) {
        (Some(before), _) => atomic::write(
            &rewrite.path,
            &WriteSpec {
                bytes: before,
                expect: current.as_deref(),
                create_mode: 0o644,
                create_owner: None,
                validation: Validation::None,
            },
        ),
        (None, Some(now)) => atomic::remove(&rewrite.path, now),
        (None, None) => Ok(()),
    };
}

fn run_step(step: &RunStep) -> Result<()> {
    let output = match std::process::Command::new(&step.program)
        .args(&step.args)
        .stdin(std::process::Stdio::null())
        .output()
    {
        Ok(output) => output,
        Err(_) if step.best_effort => return Ok(()),
        Err(e) => {
            return Err(Error::ApplyFailed {
                message: format!("{}: {e}", step.display()),
            });
        }
    };
    if output.status.success() || step.best_effort {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
    Err(Error::ApplyFailed {
        message: msg!(
            "apply-step-failed",
            step = step.display(),
            status = output.status,
            tail = tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ),
    })
}

fn apply_edit(edit: &Edit) -> Result<()> {
    match (&edit.before, &edit.after) {
        (before, Some(after)) => atomic::write(
            &edit.path,
            &WriteSpec {
                bytes: after,
                expect: before.as_deref(),
                create_mode: edit.create_mode,
                create_owner: edit.create_owner,
                validation: edit.validation,
            },
        ),
        (Some(before), None) => atomic::remove(&edit.path, before),
        (None, None) => Ok(()),
    }
}

/// A file's mode, uid and gid.
type FileMode = (u32, u32, u32);

/// Best effort: puts back what `apply_edit` replaced, only while the file still holds what we
/// wrote (a step that failed before the rename, or a person's change, is left alone).
fn undo_edit(edit: &Edit, original: Option<FileMode>) {
    let current = fs::read(&edit.path).ok();
    if current != edit.after {
        return;
    }
    let _ = match &edit.before {
        Some(before) => atomic::write(
            &edit.path,
            &WriteSpec {
                bytes: before,
                expect: current.as_deref(),
                create_mode: original.map_or(edit.create_mode, |(mode, _, _)| mode),
                create_owner: original.map(|(_, uid, gid)| (uid, gid)),
                validation: Validation::None,
            },
        ),
        None => fs::remove_file(&edit.path).map_err(|e| Error::io(&edit.path, e)),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{DirCreate, Ownership};
    use std::collections::BTreeMap;
    use std::os::unix::fs::MetadataExt;
    use std::path::PathBuf;

    /// Every entry under `root` with its mode and bytes (directories with none).
    fn snapshot(root: &Path) -> BTreeMap<PathBuf, (u32, Vec<u8>)> {
        let mut map = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir).unwrap().flatten() {
                let meta = entry.metadata().unwrap();
                let bytes = if meta.is_dir() {
                    stack.push(entry.path());
                    Vec::new()
                } else {
                    fs::read(entry.path()).unwrap()
                };
                map.insert(entry.path(), (meta.mode(), bytes));
            }
        }
        map
    }

    fn edit(path: PathBuf, before: Option<&[u8]>, after: Option<&[u8]>) -> Edit {
        Edit {
            path,
            via: None,
            before: before.map(<[u8]>::to_vec),
            after: after.map(<[u8]>::to_vec),
            create_mode: 0o640,
            create_owner: None,
            validation: Validation::Shell,
            ownership: Ownership::Whole,
            binary: false,
        }
    }

    /// A plan with every kind of step: a directory created, a file created in it, a script
    /// modified, a file deleted, a directory removed.
    fn every_kind_of_step(root: &Path) -> Plan {
        fs::write(root.join("setenv.sh"), b"A=1\n").unwrap();
        fs::create_dir(root.join("old")).unwrap();
        fs::write(root.join("old/agent.jar"), b"PK").unwrap();
        Plan {
            dirs: vec![DirCreate {
                path: root.join("whatap"),
                mode: 0o755,
                owner: None,
            }],
            edits: vec![
                edit(root.join("whatap/whatap.conf"), None, Some(b"license=x\n")),
                edit(root.join("setenv.sh"), Some(b"A=1\n"), Some(b"A=1\nB=2\n")),
                edit(root.join("old/agent.jar"), Some(b"PK"), None),
            ],
            remove_dirs: vec![root.join("old")],
            ..Plan::default()
        }
    }

    #[test]
    fn a_failure_at_any_step_leaves_nothing_changed() {
        let dir = tempfile::tempdir().unwrap();
        let (tree, state) = (
            dir.path().join("tree"),
            StateDir::new(dir.path().join("state")),
        );
        fs::create_dir(&tree).unwrap();
        let plan = every_kind_of_step(&tree);
        let before = snapshot(&tree);
        let mut failed = 0;
        for n in 1.. {
            checkpoint::fail_at(Some(n));
            let result = apply(&plan, &state, |_| checkpoint::step("commit"));
            checkpoint::fail_at(None);
            if result.is_ok() {
                break;
            }
            assert!(
                matches!(result, Err(Error::ApplyFailed { .. })),
                "{result:?}"
            );
            assert_eq!(snapshot(&tree), before, "step {n} left a change behind");
            failed += 1;
            assert!(n < 100, "apply never completes");
        }
        assert!(failed >= 10, "only {failed} steps were exercised");
        assert_eq!(fs::read(tree.join("setenv.sh")).unwrap(), b"A=1\nB=2\n");
        assert!(!tree.join("old").exists());
        assert_eq!(
            fs::metadata(tree.join("whatap/whatap.conf"))
                .unwrap()
                .mode()
                & 0o777,
            0o640
        );
    }

    /// A program that rewrites a file (npm and package.json): its bytes are put back when a
    /// later step fails, and reported to the commit when all went well.
    #[test]
    fn a_file_a_program_rewrote_is_put_back_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().join("state"));
        let manifest = dir.path().join("package.json");
        let lock = dir.path().join("package-lock.json");
        fs::write(&manifest, b"{}\n").unwrap();
        let step = RunStep {
            args: vec![
                "-c".into(),
                format!(
                    "echo dep >> {0} && echo lock > {1}",
                    manifest.display(),
                    lock.display()
                ),
            ],
            rewrites: vec![
                Rewrite {
                    path: manifest.clone(),
                    before: Some(b"{}\n".to_vec()),
                },
                Rewrite {
                    path: lock.clone(),
                    before: None,
                },
            ],
            ..RunStep::new("/bin/sh", &[])
        };
        let conf = dir.path().join("whatap.conf");
        // The conf is planned as absent but exists: the apply fails after the program ran.
        fs::write(&conf, b"someone else's\n").unwrap();
        let failing = Plan {
            run: vec![step.clone()],
            edits: vec![edit(conf.clone(), None, Some(b"license=x\n"))],
            ..Plan::default()
        };
        let result = apply(&failing, &state, |_| Ok(()));
        assert!(matches!(result, Err(Error::Refused { .. })), "{result:?}");
        assert_eq!(fs::read(&manifest).unwrap(), b"{}\n");
        assert!(!lock.exists());
        assert!(state.backup_of(b"{}\n").is_file());

        fs::remove_file(&conf).unwrap();
        let mut seen = Vec::new();
        let ok = Plan {
            run: vec![step],
            ..Plan::default()
        };
        apply(&ok, &state, |rewritten| {
            seen = rewritten.to_vec();
            Ok(())
        })
        .unwrap();
        assert_eq!(
            seen,
            [
                Rewritten {
                    path: manifest,
                    after: Some(b"{}\ndep\n".to_vec()),
                },
                Rewritten {
                    path: lock,
                    after: Some(b"lock\n".to_vec()),
                },
            ]
        );
    }

    #[test]
    fn a_stale_temp_file_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("setenv.sh");
        let outside = dir.path().join("outside");
        fs::write(&target, b"A=1\n").unwrap();
        fs::write(&outside, b"secret\n").unwrap();
        // A killed run's leftover, or a planted symlink under the temp name.
        std::os::unix::fs::symlink(&outside, atomic::temp_path(&target)).unwrap();
        apply_edit(&edit(target.clone(), Some(b"A=1\n"), Some(b"A=2\n"))).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"A=2\n");
        assert_eq!(fs::read(&outside).unwrap(), b"secret\n");
        assert!(!atomic::temp_path(&target).exists());
    }
}
