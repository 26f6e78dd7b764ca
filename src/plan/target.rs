//! Reading a file we are about to plan an edit for, with the safety checks that must pass
//! before any plan is shown: symlinks resolved and contained, no hard links, regular files only,
//! writable.

use crate::error::{Error, Result};
use crate::msg;
use crate::os::{self, MetadataExt};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Larger files are not startup scripts or configs; refuse rather than load them.
pub const MAX_TEXT_FILE: u64 = 16 * 1024 * 1024;
/// Agent jars are a few MiB; a file this large is not one (and would not fit in memory).
pub const MAX_BINARY_FILE: u64 = 512 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct TargetFile {
    /// The file that is really edited.
    pub real: PathBuf,
    /// The path as given, when it is a symlink to `real`.
    pub via: Option<PathBuf>,
    /// None: the file does not exist yet.
    pub content: Option<Vec<u8>>,
}

/// Canonical forms of the directories a runtime owns, plus what their symlinked children
/// point at (Debian's `/var/lib/tomcat10/conf -> /etc/tomcat10`).
pub fn owned_roots(dirs: &[&Path]) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    for dir in dirs {
        // A directory the plan creates (a new --whatap-home) is owned as well.
        roots.push(canonical_lenient(dir));
        if let Ok(entries) = fs::read_dir(dir) {
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_symlink()) {
                    if let Ok(real) = crate::os::canonicalize(entry.path()) {
                        if real.is_dir() {
                            roots.push(real);
                        }
                    }
                }
            }
        }
    }
    roots
}

/// A text file (script, config): refused above 16 MiB.
pub fn read(path: &Path, roots: &[PathBuf]) -> Result<TargetFile> {
    read_limited(path, roots, Some(MAX_TEXT_FILE))
}

/// A binary file we replace whole (the agent jar).
pub fn read_binary(path: &Path, roots: &[PathBuf]) -> Result<TargetFile> {
    read_limited(path, roots, Some(MAX_BINARY_FILE))
}

fn read_limited(path: &Path, roots: &[PathBuf], limit: Option<u64>) -> Result<TargetFile> {
    let link = fs::symlink_metadata(path);
    let (real, via) = match &link {
        Ok(meta) if meta.file_type().is_symlink() => {
            let real = crate::os::canonicalize(path).map_err(|_| {
                Error::refused(
                    msg!("target-symlink-dangling", path = path.display()),
                    msg!("target-symlink-dangling-hint"),
                )
            })?;
            (real, Some(path.to_path_buf()))
        }
        _ => (absolute_parent(path), None),
    };
    if !roots.iter().any(|root| real.starts_with(root)) {
        return Err(Error::refused(
            msg!(
                "target-outside-runtime",
                path = path.display(),
                real = real.display()
            ),
            msg!("target-outside-runtime-hint"),
        ));
    }
    let meta = match fs::metadata(&real) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(TargetFile {
                real,
                via,
                content: None,
            });
        }
        Err(e) => return Err(Error::io(&real, e)),
    };
    check_regular(&real, &meta, limit)?;
    if meta.mode() & 0o222 == 0 {
        return Err(Error::refused(
            msg!(
                "target-read-only",
                path = real.display(),
                mode = format!("{:o}", meta.mode() & 0o7777)
            ),
            msg!("target-read-only-hint"),
        ));
    }
    let content = read_regular(&real, limit)?;
    Ok(TargetFile { real, via, content })
}

/// Reads a file whatap wrote before (a ledger path, a file about to be replaced): it must
/// still be a regular file with one link, not a symlink, FIFO or device put there since; None
/// when it is gone. Opened without following symlinks and without blocking, checked on the
/// open descriptor, so a swap between the check and the read cannot fool it.
pub fn read_regular(path: &Path, limit: Option<u64>) -> Result<Option<Vec<u8>>> {
    let file = match os::open_no_follow(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if os::is_symlink_refusal(&e) => {
            return Err(Error::refused(
                msg!("target-now-symlink", path = path.display()),
                msg!("target-now-symlink-hint"),
            ));
        }
        Err(e) => return Err(Error::io(path, e)),
    };
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    check_regular(path, &meta, limit)?;
    let mut content = Vec::with_capacity(meta.len() as usize);
    (&file)
        .take(limit.unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut content)
        .map_err(|e| Error::io(path, e))?;
    if limit.is_some_and(|limit| content.len() as u64 > limit) {
        return Err(too_large(path, content.len() as u64));
    }
    Ok(Some(content))
}

/// Reads a text file only to look at it (detection, doctor, scans for blocks): a regular file
/// within the text limit, opened without blocking, so a FIFO or device put in its place
/// cannot hang the command.
pub fn peek(path: &Path) -> std::io::Result<Vec<u8>> {
    let file = os::open_no_block(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() || meta.len() > MAX_TEXT_FILE {
        return Err(std::io::Error::other("not a regular file of text size"));
    }
    let mut content = Vec::with_capacity(meta.len() as usize);
    (&file).take(MAX_TEXT_FILE).read_to_end(&mut content)?;
    Ok(content)
}

/// Like `read_regular`, for a path the operator gave (a symlink to the file is fine).
pub fn read_regular_follow(path: &Path, limit: u64) -> Result<Option<Vec<u8>>> {
    match crate::os::canonicalize(path) {
        Ok(real) => read_regular(&real, Some(limit)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

pub(crate) fn too_large(path: &Path, len: u64) -> Error {
    Error::refused(
        msg!("target-too-large", path = path.display(), len = len),
        msg!("target-too-large-hint"),
    )
}

/// A regular file, with no other hard link (an atomic rename would split them), within `limit`.
fn check_regular(path: &Path, meta: &fs::Metadata, limit: Option<u64>) -> Result<()> {
    check_kind(
        path,
        meta.file_type().is_file(),
        meta.nlink(),
        meta.len(),
        limit,
    )
}

/// `check_regular` on what `fstat` said (apply reads through directory handles).
pub(crate) fn check_kind(
    path: &Path,
    is_file: bool,
    nlink: u64,
    len: u64,
    limit: Option<u64>,
) -> Result<()> {
    if !is_file {
        return Err(Error::refused(
            msg!("target-not-regular", path = path.display()),
            msg!("target-not-regular-hint"),
        ));
    }
    if nlink > 1 {
        return Err(Error::refused(
            msg!("target-hard-links", path = path.display(), links = nlink),
            msg!("target-hard-links-hint"),
        ));
    }
    if limit.is_some_and(|limit| len > limit) {
        return Err(too_large(path, len));
    }
    Ok(())
}

/// `file`'s bytes after `check_kind`, refused past `limit` (it may have grown since `fstat`).
pub(crate) fn read_checked(
    path: &Path,
    file: &fs::File,
    is_file: bool,
    nlink: u64,
    len: u64,
    limit: u64,
) -> Result<Vec<u8>> {
    check_kind(path, is_file, nlink, len, Some(limit))?;
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(path, bytes.len() as u64));
    }
    Ok(bytes)
}

/// Windows has no mode bits to ask: a read-only target fails at its write and is rolled back.
#[cfg(windows)]
pub fn check_dir_writable(_: &Path) -> Result<()> {
    Ok(())
}

/// Refuses when the directory a file will be written in is not writable (read-only mount).
#[cfg(unix)]
pub fn check_dir_writable(dir: &Path) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return Err(Error::usage(
            msg!("path-nul-byte", path = dir.display()),
            msg!("path-nul-byte-hint"),
        ));
    };
    // SAFETY: access() reads a NUL-terminated path we own.
    if unsafe { libc::access(c_path.as_ptr(), libc::W_OK) } != 0 {
        let err = std::io::Error::last_os_error();
        return Err(Error::refused(
            msg!("dir-not-writable", path = dir.display(), err = err),
            msg!("dir-not-writable-hint"),
        ));
    }
    Ok(())
}

/// `path` with its parent canonicalized, so `..` and symlinked directories are resolved.
fn absolute_parent(path: &Path) -> PathBuf {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => canonical_lenient(parent).join(name),
        _ => path.to_path_buf(),
    }
}

/// A path flag made absolute against the current directory.
pub fn absolute(flag: &str, path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .map_err(|e| {
            Error::usage(
                format!("{flag} {}: {e}", path.display()),
                msg!("python-absolute-hint"),
            )
        })
}

/// `path` with symlinks resolved, or as given when it does not exist.
pub fn canonical(path: &Path) -> PathBuf {
    crate::os::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `path` canonicalized as far as it exists; the missing rest (a WhaTap home still to be
/// created) appended as given, so an id is the same before and after install creates it.
pub fn canonical_lenient(path: &Path) -> PathBuf {
    for existing in path.ancestors() {
        if let Ok(real) = crate::os::canonicalize(existing) {
            let rest = path.strip_prefix(existing).unwrap_or(Path::new(""));
            // Joining "" would add a trailing slash to a path that exists whole.
            return if rest.as_os_str().is_empty() {
                real
            } else {
                real.join(rest)
            };
        }
    }
    path.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_the_plan_creates_is_owned() {
        let dir = tempfile::tempdir().unwrap();
        let real = crate::os::canonicalize(dir.path()).unwrap();
        let new_home = dir.path().join("whatap/agent");
        assert_eq!(canonical_lenient(&new_home), real.join("whatap/agent"));
        let roots = owned_roots(&[&new_home]);
        let jar = new_home.join("whatap.agent.tracer-1.jar");
        let file = read(&jar, &roots).expect("inside the new whatap-home");
        assert!(file.content.is_none());
        let outside = read(&dir.path().join("other.jar"), &roots);
        assert!(outside.is_err());
    }
}
