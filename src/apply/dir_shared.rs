//! What both ports of `dir` (Unix's descriptors, Windows' handles) say alike.

use crate::error::{Error, Result};
use crate::msg;
use std::path::Path;

/// A directory on the way, or the entry itself, became a symlink (a junction) after planning.
pub fn now_symlink(path: &Path) -> Error {
    Error::refused(
        msg!("target-now-symlink", path = path.display()),
        msg!("target-now-symlink-hint"),
    )
}

/// Directories are opened from the root: a relative path here is a bug, not input.
pub fn require_absolute(path: &Path) -> Result<()> {
    if path.is_absolute() {
        return Ok(());
    }
    Err(Error::Internal(format!(
        "{}: not an absolute path",
        path.display()
    )))
}
