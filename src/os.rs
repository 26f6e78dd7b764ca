//! What the host OS does differently, in one place: file modes and owners (Unix) against ACLs
//! (Windows, kept by `ReplaceFileW`), directory fsync, the atomic replace itself. Everything
//! else is written once against these names.

use std::fs::{self, File};
use std::io;
use std::path::Path;

#[cfg(unix)]
pub use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};

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

/// Sets an open file's permission bits exactly.
pub fn set_file_mode(file: &File, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode))
    }
    #[cfg(windows)]
    {
        let _ = (file, mode);
        Ok(())
    }
}

/// Gives an open file to `uid:gid`; no-op when it already matches (and on Windows).
pub fn fchown(file: &File, uid: u32, gid: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        let meta = file.metadata()?;
        if meta.uid() == uid && meta.gid() == gid {
            return Ok(());
        }
        // SAFETY: fchown on a descriptor we own.
        if unsafe { libc::fchown(file.as_raw_fd(), uid, gid) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
    #[cfg(windows)]
    {
        let _ = (file, uid, gid);
        Ok(())
    }
}

/// Gives a path to `uid:gid` (no-op when it already matches, and on Windows).
pub fn chown(path: &Path, uid: u32, gid: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        fchown(&File::open(path)?, uid, gid)
    }
    #[cfg(windows)]
    {
        let _ = (path, uid, gid);
        Ok(())
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

/// Makes a rename in `dir` durable. NTFS journals its metadata and a directory cannot be
/// opened as a file there, so this is Unix-only.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir).and_then(|d| d.sync_all())
    }
    #[cfg(windows)]
    {
        let _ = dir;
        Ok(())
    }
}

/// Puts `temp` in the place of `target` in one step. On Windows an existing target is
/// replaced with `ReplaceFileW`, which keeps the target's ACL, owner and attributes (a plain
/// rename would give it the temp file's inherited ACL); a new one is moved with MoveFileEx.
pub fn replace(temp: &Path, target: &Path) -> io::Result<()> {
    #[cfg(windows)]
    {
        if target.is_file() {
            return windows::replace_file(temp, target);
        }
    }
    fs::rename(temp, target)
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

/// Takes an exclusive lock on `file` without waiting: false when another process holds it.
/// Released when `file` closes (flock on Unix, LockFileEx on Windows), so a killed run leaves
/// no stale lock.
pub fn try_lock(file: &File) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EWOULDBLOCK) => Ok(false),
            _ => Err(err),
        }
    }
    #[cfg(windows)]
    {
        windows::try_lock(file)
    }
}

/// The file whose lock stands for directory `dir`: the directory itself on Unix; on Windows,
/// where a directory cannot be locked, a file named after it under
/// `%ProgramData%\whatap\locks` (never a file of ours in the operator's tree).
pub fn dir_lock_file(dir: &Path) -> io::Result<File> {
    #[cfg(unix)]
    {
        File::open(dir)
    }
    #[cfg(windows)]
    {
        let locks = program_data().join("whatap").join("locks");
        fs::create_dir_all(&locks)?;
        let key = dir.to_string_lossy().to_lowercase();
        let name = &crate::apply::atomic::sha256_hex(key.as_bytes())[..16];
        fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(locks.join(format!("{name}.lock")))
    }
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

/// Creates a symbolic link at `link` pointing at `target` (a file link on Windows).
pub fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(target, link)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::symlink_file(target, link)
    }
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

#[cfg(windows)]
pub trait DirBuilderExt {
    fn mode(&mut self, mode: u32) -> &mut Self;
}

#[cfg(windows)]
impl DirBuilderExt for fs::DirBuilder {
    fn mode(&mut self, _: u32) -> &mut Self {
        self
    }
}

#[cfg(windows)]
mod windows {
    use std::io;
    use std::os::windows::ffi::OsStrExt;
    use std::path::Path;

    fn wide(path: &Path) -> Vec<u16> {
        path.as_os_str().encode_wide().chain(Some(0)).collect()
    }

    pub fn try_lock(file: &std::fs::File) -> io::Result<bool> {
        use std::os::windows::io::AsRawHandle;
        use windows_sys::Win32::Foundation::ERROR_LOCK_VIOLATION;
        use windows_sys::Win32::Storage::FileSystem::{
            LOCKFILE_EXCLUSIVE_LOCK, LOCKFILE_FAIL_IMMEDIATELY, LockFileEx,
        };
        use windows_sys::Win32::System::IO::OVERLAPPED;
        // SAFETY: a zeroed OVERLAPPED (offset 0) for a synchronous call on our own handle.
        let ok = unsafe {
            let mut overlapped: OVERLAPPED = std::mem::zeroed();
            LockFileEx(
                file.as_raw_handle(),
                LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY,
                0,
                u32::MAX,
                u32::MAX,
                &mut overlapped,
            )
        };
        if ok != 0 {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(code) if code == ERROR_LOCK_VIOLATION as i32 => Ok(false),
            _ => Err(err),
        }
    }

    pub fn replace_file(temp: &Path, target: &Path) -> io::Result<()> {
        use windows_sys::Win32::Storage::FileSystem::{
            REPLACEFILE_IGNORE_MERGE_ERRORS, ReplaceFileW,
        };
        let (target, temp) = (wide(target), wide(temp));
        // SAFETY: both are NUL-terminated wide strings that outlive the call; no backup file.
        let ok = unsafe {
            ReplaceFileW(
                target.as_ptr(),
                temp.as_ptr(),
                std::ptr::null(),
                REPLACEFILE_IGNORE_MERGE_ERRORS,
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}
