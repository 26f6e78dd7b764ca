//! Two kinds of lock keep two whatap runs from ever both writing:
//! - `<state>/lock`: one whatap at a time per state dir (ledger, backups, temp journal);
//! - every directory a plan writes in, locked by identity (the directory itself, opened
//!   without following symlinks): one whatap at a time per target, whatever its state dir.
//!
//! Both are taken before the plan that gets applied is made (`StateDir::transaction`), so a
//! plan never predates another run's writes. Both are `flock`s (`LockFileEx` on Windows),
//! which the kernel drops when a process dies: a killed run leaves no stale lock.

use super::dir::{Dir, FileId};
use crate::error::{Error, Result};
use crate::plan::Plan;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long to wait for a lock before refusing. Short, but long enough for the lock of a run
/// that was just killed to go, and for a run on the same files to finish.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// What a lock protects, for the message when another whatap holds it.
#[derive(Clone, Copy)]
pub enum LockScope {
    /// The state dir: ledger and backups.
    Host,
    /// A directory the plan writes files in.
    Files,
}

/// Takes an exclusive `flock` on `fd`, waiting up to `LOCK_WAIT`; refuses (exit 3) when
/// another whatap still holds it.
pub fn wait_for(fd: impl super::dir::Lockable, path: &Path, scope: LockScope) -> Result<()> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match super::dir::try_lock(&fd) {
            Ok(true) => return Ok(()),
            Ok(false) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(false) => {
                return Err(Error::refused(
                    match scope {
                        LockScope::Host => crate::msg!("lock-held", path = path.display()),
                        LockScope::Files => crate::msg!("lock-held-files", path = path.display()),
                    },
                    crate::msg!("lock-held-hint"),
                ));
            }
            Err(e) => return Err(Error::io(path, e)),
        }
    }
}

/// The directories a run holds locked, by identity.
#[derive(Default)]
pub struct TargetLocks {
    held: Vec<(FileId, Dir)>,
}

impl TargetLocks {
    /// Locks every directory `plan` writes in that is not locked yet, in path order; true when
    /// it took a new one (the plan must then be made again under it).
    pub fn acquire(&mut self, plan: &Plan) -> Result<bool> {
        let mut grew = false;
        for path in target_dirs(plan) {
            let (dir, path) = open_nearest(&path)?;
            let id = dir.id()?;
            if self.held.iter().any(|(held, _)| *held == id) {
                continue;
            }
            wait_for(dir.as_fd(), &path, LockScope::Files)?;
            self.held.push((id, dir));
            grew = true;
        }
        Ok(grew)
    }

    /// The directory at `path`, opened now without following symlinks, refused unless it is
    /// one this run locked or `created`: the directory the plan was made for, not one put in
    /// its place since.
    pub fn verified(&self, path: &Path, created: &[FileId]) -> Result<Dir> {
        let dir = Dir::open(&crate::plan::target::canonical(path))?;
        let id = dir.id()?;
        if self.held.iter().any(|(held, _)| *held == id) || created.contains(&id) {
            return Ok(dir);
        }
        Err(Error::refused(
            crate::msg!("apply-dir-replaced", path = path.display()),
            crate::msg!("apply-dir-replaced-hint"),
        ))
    }
}

/// The directory at `path`, or (when another run removed it since the plan) the nearest one
/// above it that exists: the plan is made again under that lock anyway.
fn open_nearest(path: &Path) -> Result<(Dir, PathBuf)> {
    for dir in path.ancestors() {
        match Dir::open(dir) {
            Ok(opened) => return Ok((opened, dir.to_path_buf())),
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Err(Error::io(path, std::io::ErrorKind::NotFound.into()))
}

/// Every directory the plan writes in (the nearest existing one for a directory still to be
/// created), symlinks on the way resolved, sorted. What gets locked is what the resolution
/// gave now; apply writes only into those very directories (`verified`), so a link changed
/// later leads nowhere.
fn target_dirs(plan: &Plan) -> Vec<PathBuf> {
    let paths = plan
        .edits
        .iter()
        .map(|e| e.path.as_path())
        .chain(plan.dirs.iter().map(|d| d.path.as_path()))
        .chain(plan.remove_dirs.iter().map(PathBuf::as_path))
        .chain(
            plan.links
                .iter()
                .chain(&plan.remove_links)
                .map(|l| l.path.as_path()),
        )
        .chain(plan.modes.iter().map(|m| m.path.as_path()))
        .chain(
            plan.run
                .iter()
                .flat_map(|s| &s.rewrites)
                .map(|r| r.path.as_path()),
        );
    let mut dirs: Vec<PathBuf> = paths
        .filter_map(|p| p.ancestors().skip(1).find(|d| d.is_dir()))
        .map(crate::plan::target::canonical)
        .collect();
    // A directory to remove is written in too: a run's temp file there would keep it.
    dirs.extend(
        plan.remove_dirs
            .iter()
            .filter(|d| d.is_dir())
            .map(|d| crate::plan::target::canonical(d)),
    );
    dirs.sort();
    dirs.dedup();
    dirs
}
