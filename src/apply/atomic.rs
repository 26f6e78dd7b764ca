//! Atomic file replacement through a directory handle: a temp file created `O_EXCL` under a
//! run-unique name in the same directory (journaled first, see `Temps`), given the owner, mode
//! and extended attributes of the file it replaces, validated, fsynced, re-checked against the
//! plan, renamed over the target; then the directory is fsynced.

use super::checkpoint;
use super::dir::{self, Dir, FileId, Meta};
use crate::error::{Error, Result};
use crate::msg;
use crate::os::MetadataExt;
use crate::plan::Validation;
use std::cell::Cell;
use std::ffi::{OsStr, OsString};
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Write};
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

/// The current bytes of `name` in `dir` (None: absent), refused when it is not a regular file.
pub fn read_current(dir: &Dir, name: &OsStr) -> Result<Option<(Vec<u8>, Meta)>> {
    dir.read(name, crate::plan::target::MAX_BINARY_FILE)
}

/// Refuses when the file is no longer what the plan was built from; returns what is there.
pub fn check_unchanged(dir: &Dir, name: &OsStr, expect: Option<&[u8]>) -> Result<Option<Meta>> {
    let current = read_current(dir, name)?;
    if current.as_ref().map(|(bytes, _)| bytes.as_slice()) != expect {
        return Err(Error::refused(
            msg!("apply-changed-since-plan", path = dir.join(name).display()),
            msg!("apply-changed-since-plan-hint"),
        ));
    }
    Ok(current.map(|(_, meta)| meta))
}

const TEMP_PREFIX: &str = ".whatap-";
const TEMP_SUFFIX: &str = ".tmp";
/// In the state dir: every temp name a run is about to create, one per line (hex of the path).
const JOURNAL: &str = "temp-journal";

/// The temp files (and directories) of this run. Each name is unique to the run
/// (`.whatap-<pid>-<random>.tmp`) and is written to the state dir's journal before the file is
/// created `O_EXCL`, so only whatap's own temp files are ever removed: by this run when a step
/// fails, or by the next run with the same state dir after a kill. A person's own
/// `.whatap-*.tmp` is never touched.
pub struct Temps {
    /// The state dir holding the journal; None outside a transaction (`replace`).
    state: Option<Dir>,
    count: Cell<u64>,
}

impl Temps {
    /// Removes what the journal lists from a run that was killed, then starts a new journal.
    /// The caller holds the state dir's lock.
    pub fn recover(state: Dir) -> Result<Temps> {
        if let Some((text, _)) = state.read(OsStr::new(JOURNAL), 1 << 20)? {
            for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                if let Some(path) = unhex(line) {
                    remove_leftover(&path);
                }
            }
            state.remove_file(OsStr::new(JOURNAL))?;
        }
        Ok(Temps {
            state: Some(state),
            count: Cell::new(0),
        })
    }

    /// Temp names for a write outside any transaction: unique, not journaled.
    fn unjournaled() -> Temps {
        Temps {
            state: None,
            count: Cell::new(0),
        }
    }

    /// A new temp name in `dir`, journaled before the caller creates it.
    pub fn name(&self, dir: &Dir) -> Result<OsString> {
        self.count.set(self.count.get() + 1);
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(self.count.get());
        let name = OsString::from(format!(
            "{TEMP_PREFIX}{}-{:016x}{TEMP_SUFFIX}",
            std::process::id(),
            hasher.finish()
        ));
        if let Some(state) = &self.state {
            let mut line = hex(&crate::os::path_bytes(&dir.join(&name)));
            line.push('\n');
            let mut journal = state.append(OsStr::new(JOURNAL), 0o600)?;
            journal
                .write_all(line.as_bytes())
                .map_err(|e| Error::io(state.join(OsStr::new(JOURNAL)), e))?;
        }
        Ok(name)
    }
}

impl Drop for Temps {
    /// Every temp file of the run is renamed into place or removed by now.
    fn drop(&mut self) {
        if let Some(state) = &self.state {
            let _ = state.remove_file(OsStr::new(JOURNAL));
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &[u8]) -> Option<PathBuf> {
    let text = std::str::from_utf8(text).ok()?;
    let bytes = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    crate::os::path_from_bytes(bytes)
}

/// Removes a killed run's temp file or (empty) temp directory, reached without following
/// symlinks; anything else under that name is left alone.
fn remove_leftover(path: &Path) {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let is_temp = name
        .to_str()
        .is_some_and(|n| n.starts_with(TEMP_PREFIX) && n.ends_with(TEMP_SUFFIX));
    let Ok(dir) = Dir::open(parent) else {
        return;
    };
    match dir.entry(name) {
        Ok(Some(meta)) if is_temp && meta.is_file() => {
            let _ = dir.remove_file(name);
        }
        Ok(Some(meta)) if is_temp && meta.is_dir() => {
            let _ = dir.remove_dir(name);
        }
        _ => {}
    }
}

/// Removes the temp file on every early return; a completed rename disarms it.
struct TempGuard<'a> {
    dir: &'a Dir,
    name: &'a OsStr,
    armed: bool,
}

impl Drop for TempGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.dir.remove_file(self.name);
        }
    }
}

/// Replaces `name` in `dir` with `spec.bytes`. `written` gets the identity of the new file as
/// soon as it exists: whatever fails later, a rollback can tell the file this run put in
/// place from one someone else did.
pub fn write(
    dir: &Dir,
    name: &OsStr,
    spec: &WriteSpec<'_>,
    temps: &Temps,
    written: &mut Option<FileId>,
) -> Result<()> {
    let path = dir.join(name);
    let current = check_unchanged(dir, name, spec.expect)?;
    let (mode, owner) = match &current {
        Some(meta) => (meta.perm(), Some((meta.uid, meta.gid))),
        None => (spec.create_mode, spec.create_owner),
    };
    let temp_name = temps.name(dir)?;
    let temp_path = dir.join(&temp_name);
    // O_EXCL under a fresh name: never follows or reuses anything; 0600 until the real mode.
    let mut temp = dir.create_new(&temp_name, 0o600)?;
    let mut guard = TempGuard {
        dir,
        name: &temp_name,
        armed: true,
    };
    let io = |e| Error::io(&temp_path, e);
    *written = Some(FileId::of(&temp).map_err(io)?);
    checkpoint::step("write: temp file created")?;
    temp.write_all(spec.bytes).map_err(io)?;
    checkpoint::step("write: temp file written")?;
    dir::set_owner_and_mode(&temp, owner, mode).map_err(io)?;
    if current.is_some() {
        // ACLs, SELinux label, user.* attributes: the new file is read by whom the old one was.
        if let Some((old, _)) = dir.open_read(name)? {
            dir::copy_xattrs(&old, &temp).map_err(|e| Error::ApplyFailed {
                message: msg!("apply-xattrs-failed", path = path.display(), error = e),
            })?;
        }
    }
    temp.sync_all().map_err(io)?;
    drop(temp);
    checkpoint::step("write: temp file synced")?;
    match spec.validation {
        Validation::Shell => validate_shell(spec.bytes, &path)?,
        Validation::Xml => crate::edit::xml::check(spec.bytes).map_err(|e| Error::ApplyFailed {
            message: msg!("apply-xml-invalid", path = path.display(), error = e),
        })?,
        Validation::None => {}
    }
    if spec.validation != Validation::None {
        checkpoint::step("write: validated")?;
    }
    check_unchanged(dir, name, spec.expect)?;
    dir.rename(&temp_name, name)?;
    guard.armed = false;
    checkpoint::step("write: renamed")?;
    dir.sync()
}

/// A whole file that is ours to overwrite (a report named by `--output`, `report --html`):
/// whatever it held is replaced atomically, so a reader never sees half a document. Written
/// through its directory's handle like any other; outside a transaction, so its temp name is
/// not journaled (a kill leaves it; nothing ever removes what it cannot prove is its own).
pub fn replace(path: &Path, bytes: &[u8]) -> Result<()> {
    replace_with_mode(path, bytes, 0o644)
}

/// `replace`, a new file created with `create_mode` (0600 for what only root should read).
pub fn replace_with_mode(path: &Path, bytes: &[u8], create_mode: u32) -> Result<()> {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(Error::Internal(format!(
            "{}: not a file path",
            path.display()
        )));
    };
    let dir = Dir::open(&crate::plan::target::canonical(parent))?;
    let current = read_current(&dir, name)?.map(|(bytes, _)| bytes);
    let spec = WriteSpec {
        bytes,
        expect: current.as_deref(),
        create_mode,
        create_owner: None,
        validation: Validation::None,
    };
    write(&dir, name, &spec, &Temps::unjournaled(), &mut None)
}

/// Removes `name` from `dir`, refused unless it still holds `expect`.
pub fn remove(dir: &Dir, name: &OsStr, expect: &[u8]) -> Result<()> {
    check_unchanged(dir, name, Some(expect))?;
    checkpoint::step("remove: checked")?;
    dir.remove_file(name)?;
    checkpoint::step("remove: removed")?;
    dir.sync()
}

/// Creates the directory `name` in `parent` whole: built under a temp name with its mode and
/// owner, then renamed into place only if nothing appeared there meanwhile, so a killed run
/// never leaves it half set up (root-owned where the runtime's user must write). Returns it
/// opened.
pub fn create_dir(
    parent: &Dir,
    name: &OsStr,
    mode: u32,
    owner: Option<(u32, u32)>,
    temps: &Temps,
) -> Result<Dir> {
    let temp = temps.name(parent)?;
    parent.mkdir(&temp, 0o700)?;
    let result = (|| {
        checkpoint::step("mkdir: temp dir created")?;
        let handle = parent.open_dir(&temp)?;
        // Set exactly: the mode given at creation is filtered by the umask.
        dir::set_owner_and_mode(handle.as_fd(), owner, mode)
            .map_err(|e| Error::io(handle.path(), e))?;
        parent.rename_new(&temp, name)
    })();
    if result.is_err() {
        let _ = parent.remove_dir(&temp);
    }
    result?;
    let synced = checkpoint::step("mkdir: renamed").and_then(|()| parent.sync());
    if let Err(error) = synced {
        // Not reported as created, so the caller's rollback would not remove it.
        let _ = parent.remove_dir(name);
        return Err(error);
    }
    parent.open_dir(name)
}

/// The checker a script's shebang asks for, by absolute path: never looked up on PATH, where
/// any `sh` first in line would run as root and could pass a broken script. Bash scripts
/// (jetty.sh) use syntax `sh -n` rejects.
fn shell_for(bytes: &[u8]) -> &'static str {
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    if first.starts_with(b"#!") && first.windows(4).any(|w| w == b"bash") {
        "/bin/bash"
    } else {
        "/bin/sh"
    }
}

/// `sh -n` (or `bash -n`) on the new bytes, fed on stdin: the check parses exactly what is
/// about to be renamed into place, not a path someone could swap.
fn validate_shell(bytes: &[u8], target: &Path) -> Result<()> {
    let shell = shell_for(bytes);
    trusted_program(Path::new(shell))?;
    let mut child = Command::new(shell)
        .arg("-n")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::io(shell, e))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A checker that stops at the first error closes its end early: that is its verdict.
        let _ = stdin.write_all(bytes);
    }
    let mut detail = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut detail);
    }
    let status = child.wait().map_err(|e| Error::io(shell, e))?;
    if !status.success() {
        return Err(Error::ApplyFailed {
            message: msg!(
                "apply-shell-check-failed",
                path = target.display(),
                shell = shell,
                detail = detail.trim()
            ),
        });
    }
    Ok(())
}

/// Whether this process may run `path`: anything for an ordinary user, a trusted program
/// (see `trusted_program`) for root.
pub fn may_run(path: &Path) -> bool {
    crate::os::euid() != 0 || trusted_program(path).is_ok()
}

/// A program whatap runs as root must be owned by root and writable by no one else.
pub fn trusted_program(path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.uid() != 0 || meta.mode() & 0o022 != 0 {
        return Err(Error::refused(
            msg!(
                "program-untrusted",
                path = path.display(),
                owner = meta.uid(),
                mode = format!("{:04o}", meta.mode() & 0o7777)
            ),
            msg!("program-untrusted-hint"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn bash_scripts_are_checked_with_bash() {
        assert_eq!(shell_for(b"#!/usr/bin/env bash\nA=(1 2)\n"), "/bin/bash");
        assert_eq!(shell_for(b"#!/bin/bash"), "/bin/bash");
        assert_eq!(shell_for(b"#!/bin/sh\n# bash\n"), "/bin/sh");
        assert_eq!(shell_for(b""), "/bin/sh");
    }

    /// A state dir and a target dir, both opened.
    fn dirs() -> (tempfile::TempDir, Dir, Dir) {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        fs::create_dir(root.join("state")).unwrap();
        fs::create_dir(root.join("t")).unwrap();
        let state = Dir::open(&root.join("state")).unwrap();
        let target = Dir::open(&root.join("t")).unwrap();
        (tmp, state, target)
    }

    fn spec<'a>(bytes: &'a [u8], expect: Option<&'a [u8]>) -> WriteSpec<'a> {
        WriteSpec {
            bytes,
            expect,
            create_mode: 0o644,
            create_owner: None,
            validation: Validation::Shell,
        }
    }

    #[test]
    fn keeps_mode_and_replaces_content() {
        let (_tmp, state, target) = dirs();
        let temps = Temps::recover(state.try_clone().unwrap()).unwrap();
        let path = target.join(OsStr::new("f.sh"));
        fs::write(&path, b"a=1\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o751)).unwrap();
        let name = OsStr::new("f.sh");
        let spec = spec(b"a=2\n", Some(b"a=1\n"));
        write(&target, name, &spec, &temps, &mut None).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"a=2\n");
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o7777, 0o751);
        // The plan is stale now: the same spec must be refused.
        let stale = write(&target, name, &spec, &temps, &mut None);
        assert!(matches!(stale, Err(Error::Refused { .. })));
    }

    #[test]
    fn invalid_shell_is_not_written() {
        let (_tmp, state, target) = dirs();
        let temps = Temps::recover(state.try_clone().unwrap()).unwrap();
        let result = write(
            &target,
            OsStr::new("f.sh"),
            &spec(b"if then\n", None),
            &temps,
            &mut None,
        );
        assert!(matches!(result, Err(Error::ApplyFailed { .. })));
        assert_eq!(
            fs::read_dir(target.path()).unwrap().count(),
            0,
            "no temp file left"
        );
    }

    #[test]
    fn only_journaled_temp_files_are_swept() {
        let (_tmp, state, target) = dirs();
        let temps = Temps::recover(state.try_clone().unwrap()).unwrap();
        // A killed run's temp file: journaled, then created, never renamed.
        let leftover = temps.name(&target).unwrap();
        target.create_new(&leftover, 0o600).unwrap();
        // A person's own files that merely look like ours.
        let theirs = target.path().join(".whatap-mine.tmp");
        fs::write(&theirs, b"keep").unwrap();
        let lookalike = target.path().join(format!(
            ".whatap-{}-0000000000000000.tmp",
            std::process::id()
        ));
        fs::write(&lookalike, b"keep").unwrap();
        // Killed: the journal stays behind.
        std::mem::forget(temps);
        Temps::recover(state.try_clone().unwrap()).unwrap();
        assert!(!target.join(&leftover).exists(), "the leftover stays");
        assert!(
            theirs.exists() && lookalike.exists(),
            "a person's file was removed"
        );
        assert!(!state.join(OsStr::new(JOURNAL)).exists());
    }
}
