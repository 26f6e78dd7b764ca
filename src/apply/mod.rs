//! The only code that writes files: backup, atomic writes in plan order, rollback on failure.
//! Modeled on rustup's transaction: every change is remembered as it is made and undone in
//! reverse order if a later one fails.

pub mod atomic;
pub mod ledger;
pub mod lock;

use crate::error::{Error, Result};
use crate::plan::{Action, Edit, Link, ModeChange, Plan, RunStep, Validation};
use atomic::{WriteSpec, sha256_hex};
use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Creates the state dir (and backups/) as 0700: backups hold license keys.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
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

/// Records the plan in the ledger first (a crash mid-apply still leaves a way back), then
/// applies it; on failure the ledger goes back to what it was.
pub fn apply_recorded(
    plan: &Plan,
    state_dir: &Path,
    ledger: &mut ledger::Ledger,
    install: &ledger::InstallKey<'_>,
) -> Result<()> {
    let before = ledger.clone();
    ledger.record_install(install, plan);
    ledger.save(state_dir)?;
    if let Err(error) = apply(plan, state_dir) {
        before.save(state_dir)?;
        return Err(error);
    }
    Ok(())
}

/// Applies the plan; on any failure, restores what was already written and returns
/// `ApplyFailed` (exit 4), or the refusal that stopped it (exit 3).
pub fn apply(plan: &Plan, state_dir: &Path) -> Result<()> {
    // Programs first: when one fails, no file has been touched yet.
    for step in &plan.run {
        run_step(step)?;
    }
    for edit in &plan.edits {
        if edit.action() != Action::Unchanged {
            if let Some(before) = &edit.before {
                write_backup(state_dir, before)?;
            }
        }
    }
    let mut created_dirs: Vec<&Path> = Vec::new();
    let mut done: Vec<&Edit> = Vec::new();
    let mut modes_done: Vec<&ModeChange> = Vec::new();
    let mut removed_links: Vec<&Link> = Vec::new();
    let mut created_links: Vec<&Link> = Vec::new();
    let result = (|| {
        for dir in &plan.dirs {
            fs::DirBuilder::new()
                .mode(dir.mode)
                .create(&dir.path)
                .map_err(|e| Error::io(&dir.path, e))?;
            created_dirs.push(&dir.path);
            // The mode is filtered by the umask on creation; set it exactly.
            fs::set_permissions(&dir.path, fs::Permissions::from_mode(dir.mode))
                .map_err(|e| Error::io(&dir.path, e))?;
            if let Some(owner) = dir.owner {
                atomic::chown_path(&dir.path, owner)?;
            }
        }
        for link in &plan.remove_links {
            if link.is_in_place() {
                fs::remove_file(&link.path).map_err(|e| Error::io(&link.path, e))?;
                removed_links.push(link);
            }
        }
        for edit in &plan.edits {
            apply_edit(edit)?;
            done.push(edit);
        }
        for change in &plan.modes {
            set_mode(change, change.before, change.after)?;
            modes_done.push(change);
        }
        for link in &plan.links {
            std::os::unix::fs::symlink(&link.target, &link.path)
                .map_err(|e| Error::io(&link.path, e))?;
            created_links.push(link);
        }
        for dir in &plan.remove_dirs {
            // Only empty directories go; anything the runtime wrote there stays.
            let _ = fs::remove_dir(dir);
        }
        Ok(())
    })();
    if let Err(error) = result {
        for change in modes_done.iter().rev() {
            let _ = set_mode(change, change.after, change.before);
        }
        for link in created_links.iter().rev() {
            let _ = fs::remove_file(&link.path);
        }
        for edit in done.iter().rev() {
            undo_edit(edit);
        }
        for dir in created_dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
        for link in removed_links.iter().rev() {
            let _ = std::os::unix::fs::symlink(&link.target, &link.path);
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
            format!(
                "{}: mode is {now:04o}, the plan expected {from:04o}",
                path.display()
            ),
            "run the command again to plan against the current mode",
        ));
    }
    fs::set_permissions(path, fs::Permissions::from_mode(to)).map_err(|e| Error::io(path, e))
}

fn run_step(step: &RunStep) -> Result<()> {
    let output = std::process::Command::new(&step.program)
        .args(&step.args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| Error::ApplyFailed {
            message: format!("{}: {e}", step.display()),
        })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
    Err(Error::ApplyFailed {
        message: format!(
            "`{}` failed ({}): {}; no file was changed",
            step.display(),
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ),
    })
}

fn apply_edit(edit: &Edit) -> Result<()> {
    match (&edit.before, &edit.after) {
        (before, Some(after)) if before.as_ref() != Some(after) => atomic::write(
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
        _ => Ok(()),
    }
}

/// Best effort: puts back what `apply_edit` replaced.
fn undo_edit(edit: &Edit) {
    let current = fs::read(&edit.path).ok();
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
