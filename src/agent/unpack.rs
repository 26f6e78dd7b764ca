//! Unpacks a zip, a tar.gz or the vendor's `.deb` / `.rpm` into a fresh directory, refusing
//! anything that could write outside it: absolute paths, `..`, device files, and archives too
//! big to be an agent distribution. Links are refused in a zip or tar.gz; a system package may
//! hold some (its /usr/bin entries), and they are left out: only plain files and directories
//! are written, never with setuid/setgid bits. Any refusal leaves nothing behind (the caller's
//! staging dir is dropped).

use super::package;
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
    Deb,
    Rpm,
}

/// The format from the first bytes, whatever the file is called.
pub fn sniff(path: &Path) -> Result<Option<Format>> {
    let mut magic = Vec::with_capacity(8);
    let file = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    file.take(8)
        .read_to_end(&mut magic)
        .map_err(|e| Error::io(path, e))?;
    Ok(match magic.as_slice() {
        [b'P', b'K', 3, 4, ..] | [b'P', b'K', 5, 6, ..] => Some(Format::Zip),
        [0x1f, 0x8b, ..] => Some(Format::TarGz),
        b"!<arch>\n" => Some(Format::Deb),
        [0xed, 0xab, 0xee, 0xdb, ..] => Some(Format::Rpm),
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
        Format::TarGz => unpack_tar(flate2::read::GzDecoder::new(file), dest, &mut budget, false),
        Format::Deb => {
            let data = package::decoded(archive, &package::deb_data(archive)?)?;
            unpack_tar(data, dest, &mut budget, true)
        }
        Format::Rpm => {
            let payload = package::decoded(archive, &package::rpm_payload(archive)?)?;
            unpack_cpio(payload, dest, &mut budget)
        }
    }
}

pub(super) fn damaged(archive: &Path, e: impl std::fmt::Display) -> Error {
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

/// `package`: links are left out rather than refused (see the module comment).
fn unpack_tar(stream: impl Read, dest: &Path, budget: &mut Budget, package: bool) -> Result<()> {
    use tar::EntryType;
    let archive = budget.archive;
    let mut tar = tar::Archive::new(stream);
    for entry in tar.entries().map_err(|e| damaged(archive, e))? {
        let mut entry = entry.map_err(|e| damaged(archive, e))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        budget.entry(&name)?;
        let kind = entry.header().entry_type();
        let why = match kind {
            EntryType::Symlink | EntryType::Link if package => continue,
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

/// An rpm's cpio payload: plain files and directories written, links left out, anything else
/// refused. A hard link's earlier names carry no data (size 0, nlink > 1): refused like a
/// tar's hard link, as an empty file would be a wrong one.
fn unpack_cpio(mut stream: Box<dyn Read>, dest: &Path, budget: &mut Budget) -> Result<()> {
    let archive = budget.archive;
    while let Some(entry) = package::cpio_next(&mut stream, archive)? {
        let name = entry.name;
        budget.entry(&name)?;
        let kind = entry.mode & S_IFMT;
        let relative = safe_relative(&name).map_err(|why| refused(archive, &name, why))?;
        let mut data = (&mut stream).take(entry.size);
        match (kind, relative) {
            (S_IFLNK, _) | (_, None) => {}
            (S_IFDIR, Some(relative)) => {
                let path = dest.join(relative);
                fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
            }
            (S_IFREG, Some(_)) if entry.size == 0 && entry.nlink > 1 => {
                return Err(refused(archive, &name, msg!("entry-why-hardlink")));
            }
            (S_IFREG, Some(relative)) => {
                let executable = entry.mode & 0o111 != 0;
                budget.write(&name, &dest.join(relative), executable, &mut data)?;
            }
            _ => return Err(refused(archive, &name, msg!("entry-why-special"))),
        }
        // What was not written (a link's target) is read past, then the padding.
        io::copy(&mut data, &mut io::sink()).map_err(|e| damaged(archive, e))?;
        package::skip_padding(&mut stream, archive, entry.size)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cpio "newc" stream of (name, mode, nlink, data).
    fn cpio(entries: &[(&str, u32, u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let trailer = ("TRAILER!!!", 0, 1, &b""[..]);
        for (name, mode, nlink, data) in entries.iter().copied().chain([trailer]) {
            let fields = [0, mode, 0, 0, nlink, 0, data.len() as u32, 0, 0, 0, 0];
            out.extend_from_slice(b"070701");
            for field in fields.iter().chain(&[name.len() as u32 + 1, 0]) {
                out.extend_from_slice(format!("{field:08x}").as_bytes());
            }
            out.extend_from_slice(name.as_bytes());
            out.push(0);
            out.resize(out.len().div_ceil(4) * 4, 0);
            out.extend_from_slice(data);
            out.resize(out.len().div_ceil(4) * 4, 0);
        }
        out
    }

    fn unpack_rpm_payload(payload: Vec<u8>) -> (tempfile::TempDir, Result<()>) {
        let dest = tempfile::tempdir().unwrap();
        let archive = Path::new("a.rpm");
        let mut budget = Budget {
            archive,
            entries: 0,
            total: 0,
        };
        let result = unpack_cpio(Box::new(io::Cursor::new(payload)), dest.path(), &mut budget);
        (dest, result)
    }

    /// An rpm's files come out as plain files without setuid, its links are left out; a
    /// device node, a `..` name or a hard link's empty name refuse the whole package.
    #[test]
    fn rpm_payloads_give_plain_files_only() {
        let (dest, result) = unpack_rpm_payload(cpio(&[
            ("./usr/whatap/php", S_IFDIR | 0o755, 2, b""),
            ("./usr/whatap/php/whatap_php", S_IFREG | 0o4755, 1, b"agent"),
            (
                "./usr/bin/whatap_php",
                S_IFLNK | 0o777,
                1,
                b"../whatap/php/whatap_php",
            ),
        ]));
        result.unwrap();
        let agent = dest.path().join("usr/whatap/php/whatap_php");
        assert_eq!(fs::read(&agent).unwrap(), b"agent");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&agent).unwrap().permissions().mode();
            assert_eq!(mode & 0o7777, 0o755);
        }
        assert!(!dest.path().join("usr/bin/whatap_php").exists());
        for (name, mode, nlink) in [
            ("./dev/sda", 0o060_000 | 0o600, 1),
            ("../../etc/cron.d/x", S_IFREG | 0o644, 1),
            ("./usr/whatap/php/other", S_IFREG | 0o755, 2),
        ] {
            let (_, result) = unpack_rpm_payload(cpio(&[(name, mode, nlink, b"")]));
            assert!(matches!(result, Err(Error::Refused { .. })), "{name}");
        }
    }

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
