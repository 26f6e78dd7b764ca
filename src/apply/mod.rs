//! The only code that writes files: backup, atomic writes in plan order, rollback on failure.
//! Modeled on rustup's transaction: every change is remembered as it is made and undone in
//! reverse order if a later one fails.

pub mod atomic;
pub mod checkpoint;
pub mod ledger;
pub mod lock;

use crate::error::{Error, Result};
use crate::plan::{Action, Edit, Plan, Validation};
use atomic::{WriteSpec, sha256_hex};
use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Creates the state dir (and backups/) as 0700, and tightens one that is looser: backups and
/// the ledger hold license keys.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io(dir, e))?;
    }
    let meta = fs::metadata(dir).map_err(|e| Error::io(dir, e))?;
    if meta.mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(dir, e))?;
    }
    Ok(())
}

fn backups_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("backups")
}

pub fn read_backup(state_dir: &Path, name: &str) -> Result<Vec<u8>> {
    let path = backups_dir(state_dir).join(name);
    let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
    if sha256_hex(&bytes) != name {
        return Err(Error::refused(
            format!("{}: backup does not match its checksum", path.display()),
            "the state dir was altered; restore the file by hand from a known copy",
        ));
    }
    Ok(bytes)
}

fn write_backup(state_dir: &Path, bytes: &[u8]) -> Result<()> {
    let dir = backups_dir(state_dir);
    ensure_private_dir(&dir)?;
    let name = sha256_hex(bytes);
    let path = dir.join(&name);
    if path.exists() && read_backup(state_dir, &name).is_ok() {
        return Ok(());
    }
    atomic::write(
        &path,
        &WriteSpec {
            bytes,
            expect: fs::read(&path).ok().as_deref(),
            create_mode: 0o600,
            create_owner: None,
            validation: Validation::None,
        },
    )
}

/// Deletes backups no ledger entry points at any more.
pub fn collect_garbage(state_dir: &Path, keep: &[String]) {
    let Ok(entries) = fs::read_dir(backups_dir(state_dir)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !keep.contains(&name) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Applies the plan, then runs `commit` (the ledger update that makes it final). On any
/// failure, including `commit`'s, restores what was already changed and returns `ApplyFailed`
/// (exit 4), or the refusal that stopped it (exit 3).
pub fn apply(plan: &Plan, state_dir: &Path, commit: impl FnOnce() -> Result<()>) -> Result<()> {
    let changing: Vec<&Edit> = plan
        .edits
        .iter()
        .filter(|e| e.action() != Action::Unchanged)
        .collect();
    let mut created_dirs: Vec<&Path> = Vec::new();
    let mut removed_dirs: Vec<(&Path, fs::Metadata)> = Vec::new();
    let mut done: Vec<&Edit> = Vec::new();
    let result = (|| {
        for edit in &changing {
            if let Some(before) = &edit.before {
                write_backup(state_dir, before)?;
            }
        }
        checkpoint::step("apply: backups written")?;
        for dir in &plan.dirs {
            atomic::create_dir(&dir.path, dir.mode, dir.owner)?;
            created_dirs.push(&dir.path);
        }
        for edit in &changing {
            // Listed first: a step failing after the rename must still be undone.
            done.push(edit);
            apply_edit(edit)?;
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
        commit()
    })();
    if let Err(error) = result {
        for (dir, meta) in removed_dirs.iter().rev() {
            let _ = atomic::create_dir(dir, meta.mode() & 0o7777, Some((meta.uid(), meta.gid())));
        }
        for edit in done.iter().rev() {
            undo_edit(edit);
        }
        for dir in created_dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
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

/// Best effort: puts back what `apply_edit` replaced, only while the file still holds what we
/// wrote (a step that failed before the rename, or a person's change, is left alone).
fn undo_edit(edit: &Edit) {
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
                create_mode: edit.create_mode,
                create_owner: edit.create_owner,
                validation: Validation::None,
            },
        ),
        None => fs::remove_file(&edit.path).map_err(|e| Error::io(&edit.path, e)),
    };
}
