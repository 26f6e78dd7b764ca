//! Directory handles: every write, rename and removal `apply/` makes goes through a directory
//! opened one component at a time without following symlinks, and names a single entry in
//! it, opened `O_NOFOLLOW`. A directory swapped for a symlink is refused, never followed; a
//! directory replaced by another one is told apart by its identity (device + inode).
//!
//! Built on `rustix` (already in the tree through `tempfile`): the exact syscalls
//! (openat, renameat2, mkdirat, unlinkat, fstat, f*xattr) with no path resolution of its own
//! to reason about. `cap-std` would add a sandbox we do not need and no xattr calls.
//! This is the unix implementation; a Windows port provides the same small API.

use super::dir_shared::{self, now_symlink};
use crate::error::{Error, Result};
use crate::msg;
use rustix::fs::{self as rfs, AtFlags, Mode, OFlags};
use rustix::io::Errno;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Component, Path, PathBuf};

/// What a directory entry is, across renames: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    /// The identity of an open file.
    pub fn of(file: impl AsFd) -> std::io::Result<FileId> {
        Ok(Meta::of(file)?.id)
    }
}

/// `fstat` of an entry, as far as apply needs it.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    pub id: FileId,
    /// `st_mode`: file type and permission bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u64,
    pub len: u64,
}

impl Meta {
    /// `fstat` of an open file.
    pub fn of(file: impl AsFd) -> std::io::Result<Meta> {
        Ok(Meta::from_stat(&rfs::fstat(file)?))
    }

    // The field types differ between architectures (st_nlink is u32 on some).
    #[allow(clippy::useless_conversion)]
    fn from_stat(stat: &rfs::Stat) -> Meta {
        Meta {
            id: FileId {
                dev: u64::from(stat.st_dev),
                ino: u64::from(stat.st_ino),
            },
            mode: u32::from(stat.st_mode),
            uid: stat.st_uid,
            gid: stat.st_gid,
            nlink: u64::from(stat.st_nlink),
            len: u64::try_from(stat.st_size).unwrap_or(0),
        }
    }

    fn kind(&self) -> u32 {
        self.mode & libc::S_IFMT
    }

    pub fn is_dir(&self) -> bool {
        self.kind() == libc::S_IFDIR
    }

    pub fn is_file(&self) -> bool {
        self.kind() == libc::S_IFREG
    }

    pub fn is_symlink(&self) -> bool {
        self.kind() == libc::S_IFLNK
    }

    /// Permission bits (with set-id and sticky).
    pub fn perm(&self) -> u32 {
        self.mode & 0o7777
    }
}

/// An open directory and the path it was opened by (for messages).
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

fn io_error(path: &Path, errno: Errno) -> Error {
    Error::io(path, std::io::Error::from(errno))
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

impl Dir {
    /// Opens the absolute `path` from `/`, one component at a time, following no symlink:
    /// a component that is one is refused (exit 3).
    pub fn open(path: &Path) -> Result<Dir> {
        Dir::open_checked(path, |_, _| Ok(()))
    }

    /// Like `open`, calling `check` with each directory on the way (`/` included) and its
    /// metadata: the state dir's ancestors must be trusted.
    pub fn open_checked(
        path: &Path,
        mut check: impl FnMut(&Path, &Meta) -> Result<()>,
    ) -> Result<Dir> {
        dir_shared::require_absolute(path)?;
        let root = Path::new("/");
        let fd =
            rfs::openat(rfs::CWD, root, DIR_FLAGS, Mode::empty()).map_err(|e| io_error(root, e))?;
        let mut dir = Dir {
            fd,
            path: root.to_path_buf(),
        };
        check(&dir.path, &dir.meta()?)?;
        for component in path.components() {
            match component {
                Component::RootDir | Component::CurDir => {}
                Component::Normal(name) => {
                    dir = dir.open_dir(name)?;
                    check(&dir.path, &dir.meta()?)?;
                }
                Component::ParentDir | Component::Prefix(_) => {
                    return Err(Error::Internal(format!(
                        "{}: `..` in a path to write",
                        path.display()
                    )));
                }
            }
        }
        Ok(dir)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The full path of an entry, for messages.
    pub fn join(&self, name: &OsStr) -> PathBuf {
        self.path.join(name)
    }

    pub fn meta(&self) -> Result<Meta> {
        rfs::fstat(&self.fd)
            .map(|s| Meta::from_stat(&s))
            .map_err(|e| io_error(&self.path, e))
    }

    pub fn id(&self) -> Result<FileId> {
        Ok(self.meta()?.id)
    }

    /// The entry `name` as it is (a symlink is not followed); None when absent.
    pub fn entry(&self, name: &OsStr) -> Result<Option<Meta>> {
        match rfs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(Some(Meta::from_stat(&stat))),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(io_error(&self.join(name), e)),
        }
    }

    /// The subdirectory `name`, not followed when it is a symlink (refused).
    pub fn open_dir(&self, name: &OsStr) -> Result<Dir> {
        let path = self.join(name);
        match rfs::openat(&self.fd, name, DIR_FLAGS, Mode::empty()) {
            Ok(fd) => Ok(Dir { fd, path }),
            Err(e @ (Errno::LOOP | Errno::NOTDIR)) => match self.entry(name)? {
                Some(meta) if meta.is_symlink() => Err(now_symlink(&path)),
                _ => Err(io_error(&path, e)),
            },
            Err(e) => Err(io_error(&path, e)),
        }
    }

    /// Opens the entry `name` for reading without following a symlink (refused) and without
    /// blocking on a FIFO; None when absent. The caller checks the kind on the descriptor.
    pub fn open_read(&self, name: &OsStr) -> Result<Option<(File, Meta)>> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        match rfs::openat(&self.fd, name, flags, Mode::empty()) {
            Ok(fd) => {
                let file = File::from(fd);
                let meta = rfs::fstat(&file)
                    .map(|s| Meta::from_stat(&s))
                    .map_err(|e| io_error(&self.join(name), e))?;
                Ok(Some((file, meta)))
            }
            Err(Errno::NOENT) => Ok(None),
            Err(Errno::LOOP) => Err(now_symlink(&self.join(name))),
            Err(e) => Err(io_error(&self.join(name), e)),
        }
    }

    /// A regular file's bytes (refused when it is anything else, has other hard links, or
    /// exceeds `limit`), with its metadata; None when absent.
    pub fn read(&self, name: &OsStr, limit: u64) -> Result<Option<(Vec<u8>, Meta)>> {
        let Some((file, meta)) = self.open_read(name)? else {
            return Ok(None);
        };
        let path = self.join(name);
        let (is_file, nlink, len) = (meta.is_file(), meta.nlink, meta.len);
        let bytes = crate::plan::target::read_checked(&path, &file, is_file, nlink, len, limit)?;
        Ok(Some((bytes, meta)))
    }

    /// Creates `name` exclusively (never follows or reuses what is there), for writing.
    pub fn create_new(&self, name: &OsStr, mode: u32) -> Result<File> {
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        rfs::openat(&self.fd, name, flags, Mode::from_raw_mode(mode))
            .map(File::from)
            .map_err(|e| io_error(&self.join(name), e))
    }

    /// Opens (or creates with `mode`) `name` for reading and writing, never following a
    /// symlink; returns whether this call created it.
    pub fn open_or_create(&self, name: &OsStr, mode: u32) -> Result<(File, bool)> {
        let flags = OFlags::RDWR | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        loop {
            match rfs::openat(&self.fd, name, flags, Mode::empty()) {
                Ok(fd) => return Ok((File::from(fd), false)),
                Err(Errno::NOENT) => {}
                Err(Errno::LOOP) => return Err(now_symlink(&self.join(name))),
                Err(e) => return Err(io_error(&self.join(name), e)),
            }
            match rfs::openat(
                &self.fd,
                name,
                flags | OFlags::CREATE | OFlags::EXCL,
                Mode::from_raw_mode(mode),
            ) {
                Ok(fd) => return Ok((File::from(fd), true)),
                // Someone created it in between: open what is there.
                Err(Errno::EXIST) => continue,
                Err(e) => return Err(io_error(&self.join(name), e)),
            }
        }
    }

    /// Opens `name` for appending (created with `mode`), never following a symlink.
    pub fn append(&self, name: &OsStr, mode: u32) -> Result<File> {
        let flags = OFlags::WRONLY
            | OFlags::APPEND
            | OFlags::CREATE
            | OFlags::NOFOLLOW
            | OFlags::NONBLOCK
            | OFlags::CLOEXEC;
        rfs::openat(&self.fd, name, flags, Mode::from_raw_mode(mode))
            .map(File::from)
            .map_err(|e| match e {
                Errno::LOOP => now_symlink(&self.join(name)),
                e => io_error(&self.join(name), e),
            })
    }

    pub fn mkdir(&self, name: &OsStr, mode: u32) -> Result<()> {
        rfs::mkdirat(&self.fd, name, Mode::from_raw_mode(mode))
            .map_err(|e| io_error(&self.join(name), e))
    }

    /// Renames `from` over `to`, both in this directory.
    pub fn rename(&self, from: &OsStr, to: &OsStr) -> Result<()> {
        rfs::renameat(&self.fd, from, &self.fd, to).map_err(|e| io_error(&self.join(to), e))
    }

    /// Renames `from` to `to` only when `to` does not exist (atomically: RENAME_NOREPLACE).
    pub fn rename_new(&self, from: &OsStr, to: &OsStr) -> Result<()> {
        match rfs::renameat_with(&self.fd, from, &self.fd, to, rfs::RenameFlags::NOREPLACE) {
            Ok(()) => Ok(()),
            Err(Errno::EXIST) | Err(Errno::NOTEMPTY) => Err(Error::refused(
                msg!("apply-appeared-since-plan", path = self.join(to).display()),
                msg!("apply-appeared-since-plan-hint"),
            )),
            Err(e) => Err(io_error(&self.join(to), e)),
        }
    }

    pub fn remove_file(&self, name: &OsStr) -> Result<()> {
        rfs::unlinkat(&self.fd, name, AtFlags::empty()).map_err(|e| io_error(&self.join(name), e))
    }

    pub fn remove_dir(&self, name: &OsStr) -> Result<()> {
        rfs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR).map_err(|e| io_error(&self.join(name), e))
    }

    pub fn symlink(&self, target: &Path, name: &OsStr) -> Result<()> {
        rfs::symlinkat(target, &self.fd, name).map_err(|e| io_error(&self.join(name), e))
    }

    /// Where the symlink `name` points; None when it is absent or not a symlink.
    pub fn read_link(&self, name: &OsStr) -> Option<PathBuf> {
        let target = rfs::readlinkat(&self.fd, name, Vec::new()).ok()?;
        Some(PathBuf::from(OsString::from_vec(target.into_bytes())))
    }

    /// fsync of the directory: a rename in it is durable once this returns.
    pub fn sync(&self) -> Result<()> {
        rfs::fsync(&self.fd).map_err(|e| io_error(&self.path, e))
    }

    /// The names in this directory (`.` and `..` left out).
    pub fn names(&self) -> Result<Vec<OsString>> {
        let io = |e| io_error(&self.path, e);
        let mut names = Vec::new();
        for entry in rfs::Dir::read_from(&self.fd).map_err(io)? {
            let name = entry.map_err(io)?.file_name().to_bytes().to_vec();
            if name != b"." && name != b".." {
                names.push(OsString::from_vec(name));
            }
        }
        Ok(names)
    }

    /// A second handle on the same directory.
    pub fn try_clone(&self) -> Result<Dir> {
        Ok(Dir {
            fd: self.fd.try_clone().map_err(|e| Error::io(&self.path, e))?,
            path: self.path.clone(),
        })
    }

    /// The descriptor, for `flock`.
    pub fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Sets owner then mode on an open file (chown clears set-id bits, so it goes first); a
/// no-op owner change is skipped (an unprivileged user may not even "change" to itself).
/// What a lock is taken on: an open file or directory.
pub trait Lockable: AsFd {}

impl<T: AsFd> Lockable for T {}

/// An exclusive `flock` without waiting: false when another process holds it.
pub fn try_lock(fd: impl AsFd) -> std::io::Result<bool> {
    match rfs::flock(fd, rfs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub fn set_owner_and_mode(
    file: impl AsFd,
    owner: Option<(u32, u32)>,
    mode: u32,
) -> std::io::Result<()> {
    if let Some((uid, gid)) = owner {
        let now = rfs::fstat(&file)?;
        if (now.st_uid, now.st_gid) != (uid, gid) {
            rfs::fchown(
                &file,
                Some(rfs::Uid::from_raw(uid)),
                Some(rfs::Gid::from_raw(gid)),
            )?;
        }
    }
    rfs::fchmod(file, Mode::from_raw_mode(mode))?;
    Ok(())
}

/// Every extended attribute of `from` (POSIX ACLs, SELinux label, `user.*`), set on `to`:
/// a rewritten file keeps them. Fails rather than dropping one silently.
pub fn copy_xattrs(from: &File, to: &File) -> std::io::Result<()> {
    let mut names = Vec::new();
    loop {
        let size = match rfs::flistxattr_query(from) {
            Ok(size) => size,
            // A filesystem without extended attributes has none to carry.
            Err(Errno::NOTSUP) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if size == 0 {
            return Ok(());
        }
        names.clear();
        names.reserve(size);
        match rfs::flistxattr(from, rustix::buffer::spare_capacity(&mut names)) {
            Ok(_) => break,
            // Grew between the two calls: ask again.
            Err(Errno::RANGE) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    for name in names.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = OsStr::from_bytes(name);
        let value = xattr_value(from, name)?;
        rfs::fsetxattr(to, name, &value, rfs::XattrFlags::empty())?;
    }
    Ok(())
}

fn xattr_value(file: &File, name: &OsStr) -> std::io::Result<Vec<u8>> {
    let mut value = Vec::new();
    loop {
        let size = rfs::fgetxattr_query(file, name)?;
        if size == 0 {
            return Ok(value);
        }
        value.clear();
        value.reserve(size);
        match rfs::fgetxattr(file, name, rustix::buffer::spare_capacity(&mut value)) {
            Ok(_) => return Ok(value),
            Err(Errno::RANGE) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlinked_component_is_refused_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(real.join("a")).unwrap();
        std::os::unix::fs::symlink(real.join("a"), real.join("link")).unwrap();
        assert!(Dir::open(&real.join("a")).is_ok());
        let refused = Dir::open(&real.join("link"));
        assert!(matches!(refused, Err(Error::Refused { .. })), "{refused:?}");
    }

    #[test]
    fn identities_tell_a_replaced_directory_apart() {
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(real.join("a")).unwrap();
        let first = Dir::open(&real.join("a")).unwrap().id().unwrap();
        std::fs::rename(real.join("a"), real.join("b")).unwrap();
        std::fs::create_dir(real.join("a")).unwrap();
        assert_ne!(Dir::open(&real.join("a")).unwrap().id().unwrap(), first);
        assert_eq!(Dir::open(&real.join("b")).unwrap().id().unwrap(), first);
    }
}
