//! The only code that writes files: backup, atomic writes in plan order, rollback on failure.
//! Modeled on rustup's transaction: every change is remembered as it is made and undone in
//! reverse order if a later one fails.

pub mod atomic;
pub mod checkpoint;
#[cfg(unix)]
pub mod dir;
#[cfg(windows)]
#[path = "dir_windows.rs"]
pub mod dir;
mod dir_shared;
pub mod history;
pub mod ledger;
pub mod lock;
pub mod registry;
pub mod state;

use crate::error::{Error, Result};
use crate::msg;
use crate::plan::{Action, Edit, Link, ModeChange, Plan, RegChange, Rewrite, RunStep, Validation};
use atomic::WriteSpec;
use dir::{Dir, FileId, Meta};
use state::Locked;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// A file a program of the plan rewrote, with what it holds after the whole apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    pub path: PathBuf,
    pub after: Option<Vec<u8>>,
}

/// Any failure while applying is a failed apply (exit 4), except a refusal (exit 3).
pub(crate) fn failed(error: Error) -> Error {
    match error {
        Error::Refused { .. } | Error::ApplyFailed { .. } => error,
        other => Error::ApplyFailed {
            message: other.to_string(),
        },
    }
}

/// One change apply made, remembered so a later failure can take it back: only ever what
/// this run did itself, told by identity (a file or directory another run or a person put
/// there since is left alone).
enum Done<'a> {
    CreatedDir {
        path: &'a Path,
        id: FileId,
    },
    RemovedLink(&'a Link),
    /// `original`: the file before (its mode and owner come back with a deleted one);
    /// `written`: the file this run renamed into place, once it existed.
    Edit {
        edit: &'a Edit,
        original: Option<Meta>,
        written: Option<FileId>,
    },
    CreatedLink {
        link: &'a Link,
        id: FileId,
    },
    Mode(&'a ModeChange),
    Registry(&'a RegChange),
    RemovedDir {
        path: &'a Path,
        meta: Meta,
    },
}

/// The directory `path` is in, opened now and verified to be the one the plan was made for
/// (locked, or created by this apply), and the name of `path` in it.
fn parent<'p>(locked: &Locked, created: &[FileId], path: &'p Path) -> Result<(Dir, &'p OsStr)> {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => Ok((locked.targets.verified(parent, created)?, name)),
        _ => Err(Error::Internal(format!(
            "{}: no parent directory",
            path.display()
        ))),
    }
}

/// Applies the plan, then runs `commit` (the ledger update that makes it final) with what the
/// plan's programs rewrote. On any failure, including `commit`'s, takes back what this run
/// changed and returns `ApplyFailed` (exit 4), or the refusal that stopped it (exit 3). Every
/// write goes through a directory handle verified against the locks
/// (`lock::TargetLocks::verified`).
pub fn apply(
    plan: &Plan,
    locked: &Locked,
    commit: impl FnOnce(&[Rewritten]) -> Result<()>,
) -> Result<()> {
    let changing: Vec<&Edit> = plan
        .edits
        .iter()
        .filter(|e| e.action() != Action::Unchanged)
        .collect();
    let mut created: Vec<FileId> = Vec::new();
    let mut done: Vec<Done<'_>> = Vec::new();
    // Files programs rewrite, as planned (backed up with the plan's originals): put back
    // whatever a later step does.
    let mut rewrites: Vec<&Rewrite> = Vec::new();
    let result = (|| {
        // Programs first: when one fails, no file of the plan has been touched yet, and the
        // files it rewrote are put back.
        for step in &plan.run {
            for rewrite in &step.rewrites {
                let (parent, name) = parent(locked, &created, &rewrite.path)?;
                atomic::check_unchanged(&parent, name, rewrite.before.as_deref())?;
                rewrites.push(rewrite);
            }
            run_step(step)?;
            checkpoint::step("apply: program run")?;
        }
        for dir in &plan.dirs {
            let (parent, name) = parent(locked, &created, &dir.path)?;
            let made = atomic::create_dir(&parent, name, dir.mode, dir.owner, &locked.temps)?;
            let id = made.id()?;
            created.push(id);
            done.push(Done::CreatedDir {
                path: &dir.path,
                id,
            });
        }
        for link in &plan.remove_links {
            let (parent, name) = parent(locked, &created, &link.path)?;
            if parent.read_link(name).as_deref() == Some(link.target.as_path()) {
                parent.remove_file(name)?;
                done.push(Done::RemovedLink(link));
            }
        }
        for edit in &changing {
            let (parent, name) = parent(locked, &created, &edit.path)?;
            let original = parent.entry(name)?;
            let mut written = None;
            let result = apply_edit(&parent, name, edit, locked, &mut written);
            // Listed whatever happened: a step failing after the rename must still be undone.
            done.push(Done::Edit {
                edit,
                original,
                written,
            });
            result?;
        }
        for link in &plan.links {
            let (parent, name) = parent(locked, &created, &link.path)?;
            parent.symlink(&link.target, name)?;
            if let Some(meta) = parent.entry(name)? {
                done.push(Done::CreatedLink { link, id: meta.id });
            }
        }
        for change in &plan.modes {
            set_mode(locked, &created, change, change.before, change.after)?;
            done.push(Done::Mode(change));
        }
        // Before run_after: a service started then already reads its new options.
        for change in plan
            .registry
            .iter()
            .filter(|r| r.action() != Action::Unchanged)
        {
            let result = registry::write(change);
            // Listed whatever happened, as edits are: taken back only while it is ours.
            done.push(Done::Registry(change));
            result?;
        }
        for step in &plan.run_after {
            run_step(step)?;
        }
        for path in &plan.remove_dirs {
            // Only empty directories go; anything the runtime wrote there stays.
            let (parent, name) = parent(locked, &created, path)?;
            if let Some(meta) = parent.entry(name)?.filter(Meta::is_dir) {
                if parent.remove_dir(name).is_ok() {
                    done.push(Done::RemovedDir { path, meta });
                    checkpoint::step("apply: directory removed")?;
                }
            }
        }
        let rewritten = rewrites
            .iter()
            .map(|r| {
                let (parent, name) = parent(locked, &created, &r.path)?;
                Ok(Rewritten {
                    path: r.path.clone(),
                    after: atomic::read_current(&parent, name)?.map(|(bytes, _)| bytes),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        commit(&rewritten)
    })();
    if let Err(error) = result {
        for step in done.iter().rev() {
            take_back(step, locked, &mut created);
        }
        for rewrite in rewrites.iter().rev() {
            put_back(rewrite, locked, &created);
        }
        return Err(failed(error));
    }
    Ok(())
}

/// Best effort: takes back one change of this run (see `Done`). A directory it puts back is
/// added to `created`: what was in it comes back next.
fn take_back(step: &Done<'_>, locked: &Locked, created: &mut Vec<FileId>) {
    let _ = (|| -> Result<()> {
        match step {
            Done::CreatedDir { path, id } => {
                let (parent, name) = parent(locked, created, path)?;
                if parent.entry(name)?.is_some_and(|m| m.id == *id) {
                    parent.remove_dir(name)?;
                }
            }
            Done::RemovedLink(link) => {
                let (parent, name) = parent(locked, created, &link.path)?;
                if parent.entry(name)?.is_none() {
                    parent.symlink(&link.target, name)?;
                }
            }
            Done::Edit {
                edit,
                original,
                written,
            } => undo_edit(locked, created, edit, *original, *written)?,
            Done::CreatedLink { link, id } => {
                let (parent, name) = parent(locked, created, &link.path)?;
                if parent.entry(name)?.is_some_and(|m| m.id == *id) {
                    parent.remove_file(name)?;
                }
            }
            Done::Mode(change) => set_mode(locked, created, change, change.after, change.before)?,
            Done::Registry(change) => registry::take_back(change)?,
            Done::RemovedDir { path, meta } => {
                let (parent, name) = parent(locked, created, path)?;
                if parent.entry(name)?.is_none() {
                    let owner = Some((meta.uid, meta.gid));
                    let made =
                        atomic::create_dir(&parent, name, meta.perm(), owner, &locked.temps)?;
                    created.push(made.id()?);
                }
            }
        }
        Ok(())
    })();
}

/// Changes a file's mode from `from` to `to`, refusing if it is no longer `from`.
fn set_mode(
    locked: &Locked,
    created: &[FileId],
    change: &ModeChange,
    from: u32,
    to: u32,
) -> Result<()> {
    let path = &change.path;
    let (parent, name) = parent(locked, created, path)?;
    let (file, meta) = parent
        .open_read(name)?
        .ok_or_else(|| Error::io(path, std::io::ErrorKind::NotFound.into()))?;
    if meta.perm() != from {
        return Err(Error::refused(
            msg!(
                "apply-mode-changed",
                path = path.display(),
                now = format!("{:04o}", meta.perm()),
                expected = format!("{from:04o}")
            ),
            msg!("apply-mode-changed-hint"),
        ));
    }
    dir::set_owner_and_mode(&file, None, to).map_err(|e| Error::io(path, e))
}

/// Best effort: a file a program rewrote gets its planned bytes back (or goes, when it did not
/// exist). The program's other effects (npm's node_modules) stay: it undoes its own failures.
fn put_back(rewrite: &Rewrite, locked: &Locked, created: &[FileId]) {
    let _ = (|| -> Result<()> {
        let (dir, name) = parent(locked, created, &rewrite.path)?;
        let current = atomic::read_current(&dir, name)?;
        let now = current.as_ref().map(|(bytes, _)| bytes.as_slice());
        if now == rewrite.before.as_deref() {
            return Ok(());
        }
        match (&rewrite.before, now) {
            (Some(before), _) => write_back(&dir, name, before, now, 0o644, None, locked),
            (None, Some(now)) => atomic::remove(&dir, name, now),
            (None, None) => Ok(()),
        }
    })();
}

pub fn run_step(step: &RunStep) -> Result<()> {
    // Never looked up on PATH: the plan names the program (the app's own interpreter).
    if !step.program.is_absolute() {
        return Err(Error::Internal(format!(
            "{}: a plan runs programs by absolute path only",
            step.display()
        )));
    }
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

fn apply_edit(
    dir: &Dir,
    name: &OsStr,
    edit: &Edit,
    locked: &Locked,
    written: &mut Option<FileId>,
) -> Result<()> {
    match (&edit.before, &edit.after) {
        (before, Some(after)) => atomic::write(
            dir,
            name,
            &WriteSpec {
                bytes: after,
                expect: before.as_deref(),
                create_mode: edit.create_mode,
                create_owner: edit.create_owner,
                validation: edit.validation,
            },
            &locked.temps,
            written,
        ),
        (Some(before), None) => atomic::remove(dir, name, before),
        (None, None) => Ok(()),
    }
}

/// Puts back what `apply_edit` replaced, only while the file there is the one this run wrote
/// (a step that failed before the rename, or a file someone else wrote since, is left alone);
/// a file this run deleted comes back with its own mode and owner.
fn undo_edit(
    locked: &Locked,
    created: &[FileId],
    edit: &Edit,
    original: Option<Meta>,
    written: Option<FileId>,
) -> Result<()> {
    let (dir, name) = parent(locked, created, &edit.path)?;
    let now = dir.entry(name)?;
    let ours = matches!((now, written), (Some(now), Some(written)) if now.id == written);
    let deleted_by_us = edit.after.is_none() && now.is_none() && original.is_some();
    if !ours && !deleted_by_us {
        return Ok(());
    }
    match &edit.before {
        Some(before) => {
            let current = atomic::read_current(&dir, name)?.map(|(bytes, _)| bytes);
            write_back(
                &dir,
                name,
                before,
                current.as_deref(),
                original.map_or(edit.create_mode, |m| m.perm()),
                original.map(|m| (m.uid, m.gid)),
                locked,
            )
        }
        None => dir.remove_file(name),
    }
}

/// Puts `bytes` back as `name` while it still holds `current`, without the script check: what
/// a rollback restores is what the file held before (or what a program's rewrite replaced).
fn write_back(
    dir: &Dir,
    name: &OsStr,
    bytes: &[u8],
    current: Option<&[u8]>,
    create_mode: u32,
    create_owner: Option<(u32, u32)>,
    locked: &Locked,
) -> Result<()> {
    let spec = WriteSpec {
        bytes,
        expect: current,
        create_mode,
        create_owner,
        validation: Validation::None,
    };
    atomic::write(dir, name, &spec, &locked.temps, &mut None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{DirCreate, Ownership};
    use state::StateDir;
    use std::collections::BTreeMap;
    use std::fs;
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

    /// Runs `f` with the locks a real run would hold for `plan`.
    fn with_locks(state: &StateDir, plan: &Plan, f: impl FnOnce(&Locked)) {
        let (transaction, _) = state
            .transaction(false, |_| Ok(plan.clone()), |p: &Plan| Some(p))
            .unwrap();
        f(transaction.locked().unwrap());
    }

    #[test]
    fn a_failure_at_any_step_leaves_nothing_changed() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        let (tree, state) = (root.join("tree"), StateDir::new(root.join("state")));
        fs::create_dir(&tree).unwrap();
        let plan = every_kind_of_step(&tree);
        let before = snapshot(&tree);
        let mut failed = 0;
        for n in 1.. {
            // Each attempt is a run of its own: a rollback may have put back a directory
            // (a new one, not the one the last run locked).
            let mut result = Ok(());
            with_locks(&state, &plan, |locked| {
                checkpoint::fail_at(Some(n));
                result = apply(&plan, locked, |_| checkpoint::step("commit"));
                checkpoint::fail_at(None);
            });
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
        let root = fs::canonicalize(dir.path()).unwrap();
        let state = StateDir::new(root.join("state"));
        let manifest = root.join("package.json");
        let lock = root.join("package-lock.json");
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
        let conf = root.join("whatap.conf");
        // The conf is planned as absent but exists: the apply fails after the program ran.
        fs::write(&conf, b"someone else's\n").unwrap();
        let failing = Plan {
            run: vec![step.clone()],
            edits: vec![edit(conf.clone(), None, Some(b"license=x\n"))],
            ..Plan::default()
        };
        with_locks(&state, &failing, |locked| {
            let result = apply(&failing, locked, |_| Ok(()));
            assert!(matches!(result, Err(Error::Refused { .. })), "{result:?}");
        });
        assert_eq!(fs::read(&manifest).unwrap(), b"{}\n");
        assert!(!lock.exists());

        fs::remove_file(&conf).unwrap();
        let mut seen = Vec::new();
        let ok = Plan {
            run: vec![step],
            ..Plan::default()
        };
        with_locks(&state, &ok, |locked| {
            apply(&ok, locked, |rewritten| {
                seen = rewritten.to_vec();
                Ok(())
            })
            .unwrap();
        });
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
    fn a_directory_swapped_for_a_symlink_after_planning_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        let (bin, outside) = (root.join("tree/bin"), root.join("outside"));
        fs::create_dir_all(&bin).unwrap();
        fs::create_dir(&outside).unwrap();
        fs::write(bin.join("setenv.sh"), b"A=1\n").unwrap();
        fs::write(outside.join("setenv.sh"), b"A=1\n").unwrap();
        let plan = Plan {
            edits: vec![edit(bin.join("setenv.sh"), Some(b"A=1\n"), Some(b"A=2\n"))],
            ..Plan::default()
        };
        with_locks(&StateDir::new(root.join("state")), &plan, |locked| {
            // Swapped while the run holds its locks: the write must not follow the link.
            fs::rename(&bin, root.join("tree/bin.real")).unwrap();
            std::os::unix::fs::symlink(&outside, &bin).unwrap();
            let result = apply(&plan, locked, |_| Ok(()));
            assert!(matches!(result, Err(Error::Refused { .. })), "{result:?}");
            // A real directory put in its place is not the one locked either.
            fs::remove_file(&bin).unwrap();
            fs::create_dir(&bin).unwrap();
            fs::write(bin.join("setenv.sh"), b"A=1\n").unwrap();
            let result = apply(&plan, locked, |_| Ok(()));
            assert!(matches!(result, Err(Error::Refused { .. })), "{result:?}");
        });
        assert_eq!(fs::read(outside.join("setenv.sh")).unwrap(), b"A=1\n");
        assert_eq!(fs::read(bin.join("setenv.sh")).unwrap(), b"A=1\n");
    }

    #[test]
    fn a_rollback_leaves_a_file_another_run_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        let tree = root.join("tree");
        fs::create_dir(&tree).unwrap();
        // The plan creates a jar, then fails; meanwhile the same bytes were written by
        // another run (the case content-based rollback got wrong).
        let plan = Plan {
            edits: vec![
                edit(tree.join("agent.jar"), None, Some(b"PK")),
                edit(tree.join("setenv.sh"), None, Some(b"A=1\n")),
            ],
            ..Plan::default()
        };
        with_locks(&StateDir::new(root.join("state")), &plan, |locked| {
            fs::write(tree.join("agent.jar"), b"PK").unwrap();
            let result = apply(&plan, locked, |_| Ok(()));
            assert!(matches!(result, Err(Error::Refused { .. })), "{result:?}");
        });
        assert_eq!(fs::read(tree.join("agent.jar")).unwrap(), b"PK");
        assert!(!tree.join("setenv.sh").exists());
    }
}
