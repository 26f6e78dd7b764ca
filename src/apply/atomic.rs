//! Atomic file replacement: temp file in the same directory, same mode and owner, validated,
//! fsynced, re-checked against the plan, renamed over the target, directory fsynced.

use crate::error::{Error, Result};
use crate::plan::Validation;
use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::Path;
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

fn read_current(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Refuses when the file is no longer what the plan was built from.
pub fn check_unchanged(path: &Path, expect: Option<&[u8]>) -> Result<()> {
    let current = read_current(path)?;
    if current.as_deref() != expect {
        return Err(Error::refused(
            format!("{}: changed since the plan was made", path.display()),
            "run the command again to plan against the new content",
        ));
    }
    Ok(())
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
    let mut temp = tempfile::Builder::new()
        .prefix(".whatap-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    let temp_path = temp.path().to_path_buf();
    let io = |e| Error::io(&temp_path, e);
    temp.write_all(spec.bytes).map_err(io)?;
    temp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
        .map_err(io)?;
    if let Some((uid, gid)) = owner {
        fchown(temp.as_file(), uid, gid).map_err(io)?;
    }
    temp.as_file().sync_all().map_err(io)?;
    match spec.validation {
        Validation::Shell => validate_shell(&temp_path, path, shell_for(spec.bytes))?,
        Validation::Xml => crate::edit::xml::check(spec.bytes).map_err(|e| Error::ApplyFailed {
            message: format!(
                "{}: the edited file is not well-formed XML: {e}",
                path.display()
            ),
        })?,
        Validation::None => {}
    }
    check_unchanged(path, spec.expect)?;
    temp.persist(path).map_err(|e| Error::io(path, e.error))?;
    sync_dir(dir)
}

pub fn remove(path: &Path, expect: &[u8]) -> Result<()> {
    check_unchanged(path, Some(expect))?;
    fs::remove_file(path).map_err(|e| Error::io(path, e))?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(())
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
            message: format!(
                "{}: the edited script does not pass `{shell} -n`: {}",
                target.display(),
                detail
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
