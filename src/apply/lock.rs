//! Two locks keep two whatap runs from ever both writing:
//! - `<state>/lock`: one whatap at a time per state dir (ledger and backups);
//! - every directory a plan writes in: one whatap at a time per target, whatever its state dir.
//!
//! Both are `flock`s, which the kernel drops when a process dies: a killed run leaves no stale
//! lock. Holding one also makes it safe to sweep the temp files a killed run left behind.

use super::atomic::sweep_stale;
use crate::error::{Error, Result};
use crate::plan::Plan;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct LockGuard {
    _files: Vec<File>,
}

/// How long to wait for a lock before refusing. Short, but long enough for the lock of a run
/// that was just killed to go: a child it was forking (`sh -n`) holds a copy until it execs.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// What a lock protects, for the message when another whatap holds it.
#[derive(Clone, Copy)]
enum LockScope {
    /// The state dir: ledger and backups.
    Host,
    /// A directory the plan writes files in.
    Files,
}

fn try_flock(file: &File, path: &Path, scope: LockScope) -> Result<()> {
    let deadline = Instant::now() + LOCK_WAIT;
    let err = loop {
        // SAFETY: flock on a file descriptor we own; the lock is released when `file` closes.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EWOULDBLOCK) || Instant::now() > deadline {
            break err;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        return Err(Error::refused(
            match scope {
                LockScope::Host => crate::msg!("lock-held", path = path.display()),
                LockScope::Files => crate::msg!("lock-held-files", path = path.display()),
            },
            crate::msg!("lock-held-hint"),
        ));
    }
    Err(Error::io(path, err))
}

/// Takes the state dir's lock (`path`) or refuses (exit 3), then removes what a killed run
/// left in each of `sweep`.
pub fn acquire(path: &Path, sweep: &[PathBuf]) -> Result<LockGuard> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    try_flock(&file, path, LockScope::Host)?;
    for dir in sweep {
        sweep_stale(dir);
    }
    Ok(LockGuard { _files: vec![file] })
}

/// Locks every directory the plan writes in (the nearest existing one for a directory still to
/// be created), in a fixed order, and sweeps stale temp files there; refuses (exit 3) when
/// another whatap holds one.
pub fn acquire_targets(plan: &Plan) -> Result<LockGuard> {
    let mut files = Vec::new();
    for dir in target_dirs(plan) {
        let file = File::open(&dir).map_err(|e| Error::io(&dir, e))?;
        try_flock(&file, &dir, LockScope::Files)?;
        sweep_stale(&dir);
        files.push(file);
    }
    Ok(LockGuard { _files: files })
}

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
        .map(Path::to_path_buf)
        .collect();
    // A directory to remove is written in too: a killed run's temp file there would keep it.
    dirs.extend(plan.remove_dirs.iter().filter(|d| d.is_dir()).cloned());
    dirs.sort();
    dirs.dedup();
    dirs
}
