//! Atomic file replacement: temp file in the same directory, same mode and owner, validated,
//! fsynced, re-checked against the plan, renamed over the target, directory fsynced.

use super::checkpoint;
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::Validation;
use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct WriteSpec<'a> {
    pub bytes: &'a [u8],
    /// What the target must hold right before the rename (None: must not exist).
    pub expect: Option<&'a [u8]>,
    pub create_mode: u32,
    pub create_owner: Option<(u32, u32)>,
    pub validation: Validation,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn read_current(path: &Path) -> Result<Option<Vec<u8>>> {
    crate::plan::target::read_regular(path, Some(crate::plan::target::MAX_BINARY_FILE))
}

/// Refuses when the file is no longer what the plan was built from.
pub fn check_unchanged(path: &Path, expect: Option<&[u8]>) -> Result<()> {
    let current = read_current(path)?;
    if current.as_deref() != expect {
        return Err(Error::refused(
            msg!("apply-changed-since-plan", path = path.display()),
            msg!("apply-changed-since-plan-hint"),
        ));
    }
    Ok(())
}

/// The temp file (or directory) that `path` is built in before its rename: in the same
/// directory, named after the target so a run killed half-way leaves a name the next run
/// recognises (and removes, see `sweep_stale`).
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.as_encoded_bytes())
        .unwrap_or_default();
    let tag = &sha256_hex(name)[..16];
    path.with_file_name(format!("{TEMP_PREFIX}{tag}{TEMP_SUFFIX}"))
}

const TEMP_PREFIX: &str = ".whatap-";
const TEMP_SUFFIX: &str = ".tmp";

/// Removes temp files and (empty) temp directories a killed run left in `dir`. Callers hold
/// the lock that covers `dir`, so no live whatap is writing them.
pub fn sweep_stale(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
            continue;
        }
        let _ = match entry.file_type() {
            Ok(kind) if kind.is_dir() => fs::remove_dir(entry.path()),
            _ => fs::remove_file(entry.path()),
        };
    }
}

/// Removes the temp file on every early return; a completed rename disarms it.
struct TempGuard<'a> {
    path: &'a Path,
    armed: bool,
}

impl Drop for TempGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(self.path);
        }
    }
}

fn remove_if_present(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir(path).map_err(|e| Error::io(path, e)),
        Ok(_) => fs::remove_file(path).map_err(|e| Error::io(path, e)),
        Err(_) => Ok(()),
    }
}

pub fn write(path: &Path, spec: &WriteSpec<'_>) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::Internal(format!("{}: no parent directory", path.display())))?;
    check_unchanged(path, spec.expect)?;
    let (mode, owner) = match fs::metadata(path) {
        Ok(meta) => (meta.mode() & 0o7777, Some((meta.uid(), meta.gid()))),
        Err(_) => (spec.create_mode, spec.create_owner),
    };
    let temp_path = temp_path(path);
    remove_if_present(&temp_path)?;
    // O_EXCL: never follows a symlink planted under the temp name; 0600 until the real mode.
    let mut temp = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp_path)
        .map_err(|e| Error::io(&temp_path, e))?;
    let mut guard = TempGuard {
        path: &temp_path,
        armed: true,
    };
    let io = |e| Error::io(&temp_path, e);
    checkpoint::step("write: temp file created")?;
    temp.write_all(spec.bytes).map_err(io)?;
    checkpoint::step("write: temp file written")?;
    // chown before chmod: chown clears set-id bits.
    if let Some((uid, gid)) = owner {
        fchown(&temp, uid, gid).map_err(io)?;
    }
    temp.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(io)?;
    temp.sync_all().map_err(io)?;
    drop(temp);
    checkpoint::step("write: temp file synced")?;
    match spec.validation {
        Validation::Shell => validate_shell(&temp_path, path, shell_for(spec.bytes))?,
        Validation::Xml => crate::edit::xml::check(spec.bytes).map_err(|e| Error::ApplyFailed {
            message: msg!("apply-xml-invalid", path = path.display(), error = e),
        })?,
        Validation::None => {}
    }
    if spec.validation != Validation::None {
        checkpoint::step("write: validated")?;
    }
    check_unchanged(path, spec.expect)?;
    fs::rename(&temp_path, path).map_err(|e| Error::io(path, e))?;
    guard.armed = false;
    checkpoint::step("write: renamed")?;
    sync_dir(dir)
}

/// A whole file that is ours to overwrite (a report named by `--output`, `report --html`):
/// whatever it held is replaced atomically, so a reader never sees half a document.
pub fn replace(path: &Path, bytes: &[u8]) -> Result<()> {
    replace_with_mode(path, bytes, 0o644)
}

/// `replace`, a new file created with `create_mode` (0600 for what only root should read).
pub fn replace_with_mode(path: &Path, bytes: &[u8], create_mode: u32) -> Result<()> {
    let current = read_current(path)?;
    write(
        path,
        &WriteSpec {
            bytes,
            expect: current.as_deref(),
            create_mode,
            create_owner: None,
            validation: Validation::None,
        },
    )
}

pub fn remove(path: &Path, expect: &[u8]) -> Result<()> {
    check_unchanged(path, Some(expect))?;
    checkpoint::step("remove: checked")?;
    fs::remove_file(path).map_err(|e| Error::io(path, e))?;
    checkpoint::step("remove: removed")?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Creates a directory whole: built under a temp name with its mode and owner, then renamed,
/// so a killed run never leaves it half set up (root-owned where the runtime's user must write).
pub fn create_dir(path: &Path, mode: u32, owner: Option<(u32, u32)>) -> Result<()> {
    let temp = temp_path(path);
    remove_if_present(&temp)?;
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&temp)
        .map_err(|e| Error::io(&temp, e))?;
    let result = (|| {
        checkpoint::step("mkdir: temp dir created")?;
        if let Some(owner) = owner {
            chown_path(&temp, owner)?;
        }
        // Set exactly: the mode given at creation is filtered by the umask.
        fs::set_permissions(&temp, fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io(&temp, e))?;
        if fs::symlink_metadata(path).is_ok() {
            return Err(Error::refused(
                msg!("apply-appeared-since-plan", path = path.display()),
                msg!("apply-appeared-since-plan-hint"),
            ));
        }
        fs::rename(&temp, path).map_err(|e| Error::io(path, e))
    })();
    if result.is_err() {
        let _ = fs::remove_dir(&temp);
    }
    result?;
    let synced = checkpoint::step("mkdir: renamed")
        .and_then(|()| sync_dir(path.parent().unwrap_or(Path::new("/"))));
    if synced.is_err() {
        // Not reported as created, so the caller's rollback would not remove it.
        let _ = fs::remove_dir(path);
    }
    synced
}

fn fchown(file: &File, uid: u32, gid: u32) -> std::io::Result<()> {
    let meta = file.metadata()?;
    if meta.uid() == uid && meta.gid() == gid {
        return Ok(());
    }
    // SAFETY: fchown on a descriptor we own.
    if unsafe { libc::fchown(file.as_raw_fd(), uid, gid) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Changes the owner of a path we created (a directory); no-op when it already matches.
pub fn chown_path(path: &Path, owner: (u32, u32)) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    fchown(&file, owner.0, owner.1).map_err(|e| Error::io(path, e))
}

pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// The checker a script's shebang asks for: bash scripts (jetty.sh) use syntax `sh -n` rejects.
fn shell_for(bytes: &[u8]) -> &'static str {
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    if first.starts_with(b"#!") && first.windows(4).any(|w| w == b"bash") {
        "bash"
    } else {
        "sh"
    }
}

fn validate_shell(temp: &Path, target: &Path, shell: &str) -> Result<()> {
    let output = Command::new(shell)
        .arg("-n")
        .arg(temp)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io("sh", e))?;
    if !output.status.success() {
        let detail = String::from_utf8_lossy(&output.stderr);
        return Err(Error::ApplyFailed {
            message: msg!(
                "apply-shell-check-failed",
                path = target.display(),
                shell = shell,
                detail = detail
                    .trim()
                    .replace(&temp.display().to_string(), &target.display().to_string())
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bash_scripts_are_checked_with_bash() {
        assert_eq!(shell_for(b"#!/usr/bin/env bash\nA=(1 2)\n"), "bash");
        assert_eq!(shell_for(b"#!/bin/bash"), "bash");
        assert_eq!(shell_for(b"#!/bin/sh\n# bash\n"), "sh");
        assert_eq!(shell_for(b""), "sh");
    }

    #[test]
    fn keeps_mode_and_replaces_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.sh");
        fs::write(&path, b"a=1\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o751)).unwrap();
        let spec = WriteSpec {
            bytes: b"a=2\n",
            expect: Some(b"a=1\n"),
            create_mode: 0o644,
            create_owner: None,
            validation: Validation::Shell,
        };
        write(&path, &spec).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"a=2\n");
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o7777, 0o751);
        // The plan is stale now: the same spec must be refused.
        assert!(matches!(write(&path, &spec), Err(Error::Refused { .. })));
    }

    #[test]
    fn invalid_shell_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.sh");
        let spec = WriteSpec {
            bytes: b"if then\n",
            expect: None,
            create_mode: 0o644,
            create_owner: None,
            validation: Validation::Shell,
        };
        assert!(matches!(
            write(&path, &spec),
            Err(Error::ApplyFailed { .. })
        ));
        assert!(!path.exists());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no temp file left"
        );
    }
}
