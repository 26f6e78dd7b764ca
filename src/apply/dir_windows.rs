//! The Windows port of `dir.rs`'s small API, by path: Windows has no `openat`, and a file
//! that is open cannot be renamed or deleted by default, which already keeps what apply holds
//! from being swapped. Each entry is checked not to be a symlink (reparse point) where it is
//! opened; a directory's identity is its volume serial + file index; an existing file is
//! replaced with `ReplaceFileW` (its ACL, owner and attributes kept). A directory cannot be
//! locked there, so its lock is a file named after it under `%ProgramData%\whatap\locks`
//! (nothing of ours in the operator's tree); locks are `LockFileEx`, dropped by the kernel when
//! the process dies.

use super::dir_shared::{self, now_symlink};
use crate::error::{Error, Result};
use crate::msg;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::windows::ffi::OsStrExt;
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::AsRawHandle;
use std::path::{Path, PathBuf};
use windows_sys::Win32::Storage::FileSystem as win;

/// What a directory entry is, across renames: volume serial number and file index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId {
    volume: u32,
    index: u64,
}

impl FileId {
    pub fn of(file: &File) -> io::Result<FileId> {
        Ok(Meta::of(file)?.id)
    }
}

/// An entry as far as apply needs it, in Unix terms (see `crate::os::MetadataExt`).
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    pub id: FileId,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u64,
    pub len: u64,
    symlink: bool,
}

impl Meta {
    pub fn of(file: &File) -> io::Result<Meta> {
        // SAFETY: a zeroed out-structure filled by the call for a handle we own.
        let info = unsafe {
            let mut info: win::BY_HANDLE_FILE_INFORMATION = std::mem::zeroed();
            if win::GetFileInformationByHandle(file.as_raw_handle(), &mut info) == 0 {
                return Err(io::Error::last_os_error());
            }
            info
        };
        let attributes = info.dwFileAttributes;
        let dir = attributes & win::FILE_ATTRIBUTE_DIRECTORY != 0;
        let mut mode = if dir { 0o040_755 } else { 0o100_644 };
        if attributes & win::FILE_ATTRIBUTE_READONLY != 0 && !dir {
            mode &= !0o222;
        }
        Ok(Meta {
            id: FileId {
                volume: info.dwVolumeSerialNumber,
                index: (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow),
            },
            mode,
            uid: 0,
            gid: 0,
            nlink: u64::from(info.nNumberOfLinks),
            len: (u64::from(info.nFileSizeHigh) << 32) | u64::from(info.nFileSizeLow),
            symlink: attributes & win::FILE_ATTRIBUTE_REPARSE_POINT != 0,
        })
    }

    pub fn is_dir(&self) -> bool {
        self.mode & 0o170_000 == 0o040_000 && !self.symlink
    }

    pub fn is_file(&self) -> bool {
        self.mode & 0o170_000 == 0o100_000 && !self.symlink
    }

    pub fn is_symlink(&self) -> bool {
        self.symlink
    }

    pub fn perm(&self) -> u32 {
        self.mode & 0o7777
    }
}

/// A directory by path, held open (so it cannot be renamed or removed meanwhile).
#[derive(Debug)]
pub struct Dir {
    handle: File,
    path: PathBuf,
    lock: std::sync::OnceLock<File>,
}

fn io_error(path: &Path, error: io::Error) -> Error {
    Error::io(path, error)
}

/// Opens `path` itself (a directory too, a reparse point not followed).
fn open_entry(path: &Path, write: bool) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(write)
        .custom_flags(win::FILE_FLAG_BACKUP_SEMANTICS | win::FILE_FLAG_OPEN_REPARSE_POINT)
        .open(path)
}

impl Dir {
    pub fn open(path: &Path) -> Result<Dir> {
        Dir::open_checked(path, |_, _| Ok(()))
    }

    /// Opens `path`, refusing a symlink (junction) at any component; `check` sees each
    /// directory on the way.
    pub fn open_checked(
        path: &Path,
        mut check: impl FnMut(&Path, &Meta) -> Result<()>,
    ) -> Result<Dir> {
        dir_shared::require_absolute(path)?;
        let mut dir = None;
        for ancestor in path.ancestors().collect::<Vec<_>>().into_iter().rev() {
            let opened = Dir::open_path(ancestor)?;
            check(ancestor, &opened.meta()?)?;
            dir = Some(opened);
        }
        dir.ok_or_else(|| Error::Internal(format!("{}: no directory", path.display())))
    }

    fn open_path(path: &Path) -> Result<Dir> {
        let handle = open_entry(path, false).map_err(|e| io_error(path, e))?;
        let meta = Meta::of(&handle).map_err(|e| io_error(path, e))?;
        if meta.is_symlink() {
            return Err(now_symlink(path));
        }
        if !meta.is_dir() {
            return Err(io_error(path, io::Error::other("not a directory")));
        }
        Ok(Dir {
            handle,
            path: path.to_path_buf(),
            lock: std::sync::OnceLock::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, name: &OsStr) -> PathBuf {
        self.path.join(name)
    }

    pub fn meta(&self) -> Result<Meta> {
        Meta::of(&self.handle).map_err(|e| io_error(&self.path, e))
    }

    pub fn id(&self) -> Result<FileId> {
        Ok(self.meta()?.id)
    }

    pub fn entry(&self, name: &OsStr) -> Result<Option<Meta>> {
        let path = self.join(name);
        match open_entry(&path, false) {
            Ok(file) => Meta::of(&file).map(Some).map_err(|e| io_error(&path, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&path, e)),
        }
    }

    pub fn open_dir(&self, name: &OsStr) -> Result<Dir> {
        Dir::open_path(&self.join(name))
    }

    pub fn open_read(&self, name: &OsStr) -> Result<Option<(File, Meta)>> {
        let path = self.join(name);
        match open_entry(&path, false) {
            Ok(file) => {
                let meta = Meta::of(&file).map_err(|e| io_error(&path, e))?;
                if meta.is_symlink() {
                    return Err(now_symlink(&path));
                }
                Ok(Some((file, meta)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&path, e)),
        }
    }

    pub fn read(&self, name: &OsStr, limit: u64) -> Result<Option<(Vec<u8>, Meta)>> {
        let Some((file, meta)) = self.open_read(name)? else {
            return Ok(None);
        };
        let path = self.join(name);
        let (is_file, nlink, len) = (meta.is_file(), meta.nlink, meta.len);
        let bytes = crate::plan::target::read_checked(&path, &file, is_file, nlink, len, limit)?;
        Ok(Some((bytes, meta)))
    }

    pub fn create_new(&self, name: &OsStr, _mode: u32) -> Result<File> {
        let path = self.join(name);
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| io_error(&path, e))
    }

    pub fn open_or_create(&self, name: &OsStr, _mode: u32) -> Result<(File, bool)> {
        let path = self.join(name);
        if let Some(meta) = self.entry(name)? {
            if meta.is_symlink() {
                return Err(now_symlink(&path));
            }
        }
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io_error(&path, e))?;
        Ok((file, !existed))
    }

    pub fn append(&self, name: &OsStr, _mode: u32) -> Result<File> {
        let path = self.join(name);
        if self.entry(name)?.is_some_and(|m| m.is_symlink()) {
            return Err(now_symlink(&path));
        }
        OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| io_error(&path, e))
    }

    pub fn mkdir(&self, name: &OsStr, _mode: u32) -> Result<()> {
        let path = self.join(name);
        fs::create_dir(&path).map_err(|e| io_error(&path, e))
    }

    /// Renames `from` over `to`: `ReplaceFileW` when `to` is a file (its ACL, owner and
    /// attributes stay), else MoveFileEx.
    pub fn rename(&self, from: &OsStr, to: &OsStr) -> Result<()> {
        let (from, to) = (self.join(from), self.join(to));
        let result = match self.entry(to.file_name().unwrap_or_default())? {
            Some(meta) if meta.is_file() => replace_file(&from, &to),
            _ => fs::rename(&from, &to),
        };
        result.map_err(|e| io_error(&to, e))
    }

    pub fn rename_new(&self, from: &OsStr, to: &OsStr) -> Result<()> {
        let target = self.join(to);
        let wide = |p: &Path| -> Vec<u16> { p.as_os_str().encode_wide().chain(Some(0)).collect() };
        let (from_w, to_w) = (wide(&self.join(from)), wide(&target));
        // SAFETY: NUL-terminated wide strings that outlive the call; without
        // MOVEFILE_REPLACE_EXISTING the move fails when `to` exists.
        if unsafe { win::MoveFileExW(from_w.as_ptr(), to_w.as_ptr(), 0) } != 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if target.exists() {
            return Err(Error::refused(
                msg!("apply-appeared-since-plan", path = target.display()),
                msg!("apply-appeared-since-plan-hint"),
            ));
        }
        Err(io_error(&target, error))
    }

    pub fn remove_file(&self, name: &OsStr) -> Result<()> {
        let path = self.join(name);
        fs::remove_file(&path).map_err(|e| io_error(&path, e))
    }

    pub fn remove_dir(&self, name: &OsStr) -> Result<()> {
        let path = self.join(name);
        fs::remove_dir(&path).map_err(|e| io_error(&path, e))
    }

    pub fn symlink(&self, target: &Path, name: &OsStr) -> Result<()> {
        let path = self.join(name);
        std::os::windows::fs::symlink_file(target, &path).map_err(|e| io_error(&path, e))
    }

    pub fn read_link(&self, name: &OsStr) -> Option<PathBuf> {
        fs::read_link(self.join(name)).ok()
    }

    /// NTFS journals its metadata; a directory handle cannot be flushed.
    pub fn sync(&self) -> Result<()> {
        Ok(())
    }

    pub fn names(&self) -> Result<Vec<OsString>> {
        let io = |e| io_error(&self.path, e);
        fs::read_dir(&self.path)
            .map_err(io)?
            .map(|entry| entry.map(|e| e.file_name()).map_err(io))
            .collect()
    }

    pub fn try_clone(&self) -> Result<Dir> {
        Ok(Dir {
            handle: self
                .handle
                .try_clone()
                .map_err(|e| Error::io(&self.path, e))?,
            path: self.path.clone(),
            lock: std::sync::OnceLock::new(),
        })
    }

    /// What locking this directory locks: its lock file under `%ProgramData%\whatap\locks`.
    pub fn as_fd(&self) -> &File {
        if let Some(file) = self.lock.get() {
            return file;
        }
        let file = lock_file(&self.path).unwrap_or_else(|_| {
            // No lock file (ProgramData not writable): the directory handle, whose lock
            // fails, so the run is refused rather than left unlocked.
            self.handle.try_clone().expect("a handle we hold")
        });
        self.lock.get_or_init(|| file)
    }
}

fn lock_file(dir: &Path) -> io::Result<File> {
    let locks = crate::os::program_data().join("whatap").join("locks");
    fs::create_dir_all(&locks)?;
    let key = dir.to_string_lossy().to_lowercase();
    let name = &crate::apply::atomic::sha256_hex(key.as_bytes())[..16];
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(locks.join(format!("{name}.lock")))
}

/// Modes and owners are Unix's; a file keeps the ACL it inherits or, replaced, had.
pub fn set_owner_and_mode(_: &File, _: Option<(u32, u32)>, _: u32) -> io::Result<()> {
    Ok(())
}

/// The ACL and attributes go with `ReplaceFileW`; there are no extended attributes to copy.
pub fn copy_xattrs(_: &File, _: &File) -> io::Result<()> {
    Ok(())
}

/// What a lock is taken on: an open file (a directory's is its lock file, `Dir::as_fd`).
pub trait Lockable {
    fn file(&self) -> &File;
}

impl Lockable for &File {
    fn file(&self) -> &File {
        self
    }
}

/// An exclusive lock without waiting: false when another process holds it.
pub fn try_lock(fd: &impl Lockable) -> io::Result<bool> {
    let file = fd.file();
    use windows_sys::Win32::Foundation::ERROR_LOCK_VIOLATION;
    use windows_sys::Win32::System::IO::OVERLAPPED;
    // SAFETY: a zeroed OVERLAPPED (offset 0) for a synchronous call on our own handle.
    let ok = unsafe {
        let mut overlapped: OVERLAPPED = std::mem::zeroed();
        win::LockFileEx(
            file.as_raw_handle(),
            win::LOCKFILE_EXCLUSIVE_LOCK | win::LOCKFILE_FAIL_IMMEDIATELY,
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

fn replace_file(temp: &Path, target: &Path) -> io::Result<()> {
    let wide = |p: &Path| -> Vec<u16> { p.as_os_str().encode_wide().chain(Some(0)).collect() };
    let (target, temp) = (wide(target), wide(temp));
    // SAFETY: NUL-terminated wide strings that outlive the call; no backup file.
    let ok = unsafe {
        win::ReplaceFileW(
            target.as_ptr(),
            temp.as_ptr(),
            std::ptr::null(),
            win::REPLACEFILE_IGNORE_MERGE_ERRORS,
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
