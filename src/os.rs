//! What the host OS does differently outside `apply/` (whose directory handles have a Windows
//! port of their own, `apply/dir_windows.rs`): modes and owners (Unix) against ACLs (Windows),
//! paths without `\\?\`, the default state dir, opening without following or blocking.

use std::fs::{self, File};
use std::io;
use std::path::Path;

#[cfg(unix)]
pub use std::os::unix::fs::{MetadataExt, OpenOptionsExt};

/// Sets a path's permission bits exactly (not filtered by the umask).
pub fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
    }
    #[cfg(windows)]
    {
        // Windows has no mode bits: access is the ACL, which we never touch.
        let _ = (path, mode);
        Ok(())
    }
}

/// The effective user id (0 on Windows, where ownership is an ACL matter).
pub fn euid() -> u32 {
    #[cfg(unix)]
    {
        // SAFETY: geteuid has no preconditions.
        unsafe { libc::geteuid() }
    }
    #[cfg(windows)]
    {
        0
    }
}

/// A path's bytes, for a journal line: Unix's raw bytes, Windows' UTF-8 (WTF-8 for the odd
/// unpaired surrogate, which `path_from_bytes` then refuses).
pub fn path_bytes(path: &Path) -> Vec<u8> {
    path.as_os_str().as_encoded_bytes().to_vec()
}

/// The path `path_bytes` gave.
pub fn path_from_bytes(bytes: Vec<u8>) -> Option<std::path::PathBuf> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(std::ffi::OsString::from_vec(bytes).into())
    }
    #[cfg(windows)]
    {
        String::from_utf8(bytes).ok().map(Into::into)
    }
}

/// `fs::canonicalize` without Windows' verbatim prefix (`C:\tc`, not `\\?\C:\tc`): the
/// path is shown to people and written into .bat files that cmd.exe and java.exe read.
pub fn canonicalize(path: impl AsRef<Path>) -> io::Result<std::path::PathBuf> {
    let real = fs::canonicalize(path)?;
    #[cfg(windows)]
    {
        let text = real.to_str().unwrap_or_default();
        if let Some(unc) = text.strip_prefix(r"\\?\UNC\") {
            return Ok(format!(r"\\{unc}").into());
        }
        if let Some(disk) = text.strip_prefix(r"\\?\") {
            return Ok(disk.into());
        }
    }
    Ok(real)
}

/// Opens a file to read without following a symlink in its place (Unix: `O_NOFOLLOW`;
/// Windows: the reparse point itself, which the caller then sees is not a regular file) and
/// without blocking on a FIFO.
pub fn open_no_follow(path: &Path) -> io::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_NOFOLLOW | libc::O_NONBLOCK,
    );
    #[cfg(windows)]
    std::os::windows::fs::OpenOptionsExt::custom_flags(
        &mut options,
        windows_sys::Win32::Storage::FileSystem::FILE_FLAG_OPEN_REPARSE_POINT,
    );
    options.open(path)
}

/// `open_no_follow` failed because the path is a symlink.
pub fn is_symlink_refusal(error: &io::Error) -> bool {
    #[cfg(unix)]
    {
        error.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(windows)]
    {
        let _ = error;
        false
    }
}

/// Opens a file to read without blocking on a FIFO or device put in its place.
pub fn open_no_block(path: &Path) -> io::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    options.open(path)
}

/// Where the ledger, backups and agent cache live unless `--state-dir` says otherwise.
pub fn default_state_dir() -> std::path::PathBuf {
    #[cfg(unix)]
    {
        "/var/lib/whatap".into()
    }
    #[cfg(windows)]
    {
        program_data().join("whatap")
    }
}

/// `%ProgramData%` (C:\ProgramData when unset).
#[cfg(windows)]
pub fn program_data() -> std::path::PathBuf {
    std::env::var_os("ProgramData")
        .filter(|v| !v.is_empty())
        .map_or_else(|| "C:\\ProgramData".into(), Into::into)
}

/// Where system programs live: a program is run by absolute path, never found through PATH.
const SYSTEM_BIN: &[&str] = &["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// The system program `name` in the sbin/bin directories.
pub fn system_program(name: &str) -> Option<std::path::PathBuf> {
    SYSTEM_BIN
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// The machine's host name, for reports.
pub fn hostname() -> Option<String> {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: gethostname writes at most buf.len() bytes into buf.
        let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        (ok && end > 0).then(|| String::from_utf8_lossy(&buf[..end]).into_owned())
    }
    #[cfg(windows)]
    {
        std::env::var("COMPUTERNAME").ok().filter(|h| !h.is_empty())
    }
}

/// Unix's `mode`/`uid`/`gid` on Windows metadata: what a Unix reader of the same file would
/// see (read-only files 0444, directories 0755), owned by "root", one link.
#[cfg(windows)]
pub trait MetadataExt {
    fn mode(&self) -> u32;
    fn uid(&self) -> u32;
    fn gid(&self) -> u32;
    fn nlink(&self) -> u64;
}

#[cfg(windows)]
impl MetadataExt for fs::Metadata {
    fn mode(&self) -> u32 {
        let kind = if self.is_dir() { 0o040_755 } else { 0o100_644 };
        if self.permissions().readonly() {
            kind & !0o222
        } else {
            kind
        }
    }
    fn uid(&self) -> u32 {
        0
    }
    fn gid(&self) -> u32 {
        0
    }
    fn nlink(&self) -> u64 {
        1
    }
}

/// Creation modes are Unix-only: a new file on Windows inherits its directory's ACL.
#[cfg(windows)]
pub trait OpenOptionsExt {
    fn mode(&mut self, mode: u32) -> &mut Self;
}

#[cfg(windows)]
impl OpenOptionsExt for fs::OpenOptions {
    fn mode(&mut self, _: u32) -> &mut Self {
        self
    }
}
