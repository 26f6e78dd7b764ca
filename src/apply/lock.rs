//! One whatap at a time per state dir: an advisory `flock` on `<state>/lock`.

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::os::unix::io::AsRawFd;
use std::path::Path;

pub struct LockGuard {
    _file: File,
}

/// Takes the lock or refuses at once (exit 3): two installs must never both write.
pub fn acquire(state_dir: &Path) -> Result<LockGuard> {
    super::ensure_private_dir(state_dir)?;
    let path = state_dir.join("lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    // SAFETY: flock on a file descriptor we own; the lock is released when `file` closes.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Err(Error::refused(
                crate::msg!("lock-held", path = path.display()),
                crate::msg!("lock-held-hint"),
            ));
        }
        return Err(Error::io(&path, err));
    }
    Ok(LockGuard { _file: file })
}
