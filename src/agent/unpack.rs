//! Unpacks a zip or tar.gz into a fresh directory, refusing anything that could write outside
//! it: absolute paths, `..`, links of any kind, device files, and archives too big to be an
//! agent distribution. Any refusal leaves nothing behind (the caller's staging dir is dropped).

use crate::error::{Error, Result};
use crate::msg;
use crate::os::OpenOptionsExt;
use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

// The file-type bits of a zip entry's Unix mode: an archive's, whatever the host OS.
const S_IFMT: u32 = 0o170_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;

/// Limits far above any agent distribution (tens of MiB), far below a zip bomb.
pub struct Limits {
    pub entries: usize,
    pub file_bytes: u64,
    pub total_bytes: u64,
}

pub const LIMITS: Limits = Limits {
    entries: 20_000,
    file_bytes: 512 << 20,
    total_bytes: 1 << 30,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Zip,
    TarGz,
}

/// The format from the first bytes, whatever the file is called.
pub fn sniff(path: &Path) -> Result<Option<Format>> {
    let mut magic = [0u8; 4];
    let mut file = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let n = file.read(&mut magic).map_err(|e| Error::io(path, e))?;
    Ok(match &magic[..n] {
        [b'P', b'K', 3, 4] | [b'P', b'K', 5, 6] => Some(Format::Zip),
        [0x1f, 0x8b, ..] => Some(Format::TarGz),
        _ => None,
    })
}

/// `name` from the archive as a relative path below the destination, or why it is refused.
fn safe_relative(name: &str) -> std::result::Result<Option<PathBuf>, String> {
    if name.contains('\0') {
        return Err(msg!("entry-why-nul"));
    }
    if name.starts_with('/') || name.starts_with('\\') || name.get(1..2) == Some(":") {
        return Err(msg!("entry-why-absolute"));
    }
    let mut out = PathBuf::new();
    for component in Path::new(&name.replace('\\', "/")).components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(msg!("entry-why-parent")),
            Component::RootDir | Component::Prefix(_) => return Err(msg!("entry-why-absolute")),
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

fn refused(archive: &Path, entry: &str, why: String) -> Error {
    Error::refused(
        msg!(
            "agent-entry-refused",
            path = archive.display(),
            entry = format!("{entry:?}"),
            why = why
        ),
        msg!("agent-entry-refused-hint"),
    )
}

struct Budget<'a> {
    archive: &'a Path,
    entries: usize,
    total: u64,
}

impl Budget<'_> {
    fn entry(&mut self, name: &str) -> Result<()> {
        self.entries += 1;
        if self.entries > LIMITS.entries {
            return Err(refused(self.archive, name, msg!("entry-why-count")));
        }
        Ok(())
    }

    /// Copies at most the limits' worth of bytes, counting what was really written.
    fn write(
        &mut self,
        name: &str,
        dest: &Path,
        executable: bool,
        data: &mut dyn Read,
    ) -> Result<()> {
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(if executable { 0o755 } else { 0o644 })
            .open(dest)
            .map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => {
                    refused(self.archive, name, msg!("entry-why-duplicate"))
                }
                _ => Error::io(dest, e),
            })?;
        let allowed = LIMITS.file_bytes.min(LIMITS.total_bytes - self.total);
        let written = io::copy(&mut data.take(allowed + 1), &mut file)
            .map_err(|e| damaged(self.archive, format!("{name}: {e}")))?;
        if written > allowed {
            return Err(refused(self.archive, name, msg!("agent-too-large")));
        }
        self.total += written;
        Ok(())
    }
}

/// Unpacks `archive` into `dest` (an empty directory the caller discards on error).
pub fn unpack(archive: &Path, format: Format, dest: &Path) -> Result<()> {
    let file = fs::File::open(archive).map_err(|e| Error::io(archive, e))?;
    let mut budget = Budget {
        archive,
        entries: 0,
        total: 0,
    };
    match format {
        Format::Zip => unpack_zip(file, dest, &mut budget),
        Format::TarGz => unpack_tar(file, dest, &mut budget),
    }
}

fn damaged(archive: &Path, e: impl std::fmt::Display) -> Error {
    Error::usage(
        msg!("agent-damaged", path = archive.display(), why = e),
        msg!("agent-damaged-hint"),
    )
}

fn unpack_zip(file: fs::File, dest: &Path, budget: &mut Budget) -> Result<()> {
    let archive = budget.archive;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| damaged(archive, e))?;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| damaged(archive, e))?;
        let name = entry.name().map_err(|e| damaged(archive, e))?.into_owned();
        budget.entry(&name)?;
        let relative = safe_relative(&name).map_err(|why| refused(archive, &name, why))?;
        let mode = entry.unix_mode().unwrap_or(0);
        let kind = mode & S_IFMT;
        if kind == S_IFLNK {
            return Err(refused(archive, &name, msg!("entry-why-symlink")));
        }
        if kind != 0 && kind != S_IFREG && kind != S_IFDIR {
            return Err(refused(archive, &name, msg!("entry-why-special")));
        }
        let Some(relative) = relative else { continue };
        let path = dest.join(&relative);
        if entry.is_dir() || kind == S_IFDIR {
            fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        } else {
            budget.write(&name, &path, mode & 0o111 != 0, &mut entry)?;
        }
    }
    Ok(())
}

fn unpack_tar(file: fs::File, dest: &Path, budget: &mut Budget) -> Result<()> {
    use tar::EntryType;
    let archive = budget.archive;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in tar.entries().map_err(|e| damaged(archive, e))? {
        let mut entry = entry.map_err(|e| damaged(archive, e))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        budget.entry(&name)?;
        let kind = entry.header().entry_type();
        let why = match kind {
            EntryType::Symlink => Some(msg!("entry-why-symlink")),
            EntryType::Link => Some(msg!("entry-why-hardlink")),
            EntryType::Regular | EntryType::Directory | EntryType::Continuous => None,
            EntryType::XGlobalHeader => continue,
            _ => Some(msg!("entry-why-special")),
        };
        if let Some(why) = why {
            return Err(refused(archive, &name, why));
        }
        let relative = safe_relative(&name).map_err(|why| refused(archive, &name, why))?;
        let Some(relative) = relative else { continue };
        let path = dest.join(&relative);
        if kind == EntryType::Directory {
            fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        } else {
            let executable = entry.header().mode().unwrap_or(0) & 0o111 != 0;
            budget.write(&name, &path, executable, &mut entry)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_names_only() {
        assert_eq!(
            safe_relative("whatap/./lib1/a.so").unwrap(),
            Some(PathBuf::from("whatap/lib1/a.so"))
        );
        assert_eq!(safe_relative("./").unwrap(), None);
        for bad in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "C:\\x",
            "\\x",
            "a\\..\\..\\x",
            "a\0b",
        ] {
            assert!(safe_relative(bad).is_err(), "{bad:?}");
        }
    }
}
