//! Where the agent distribution comes from: a directory, a local `.zip` / `.tar.gz` (or the
//! vendor's `.deb` / `.rpm`), or a URL.
//! Archives are checked (sha256), unpacked safely into the cache in the state dir, and the
//! unpacked directory is what the runtimes install from, through the plan like any file.
//!
//! Cache layout under `<state>/cache/agents`: `<sha256>/` one unpacked archive (renamed into
//! place only when complete), `urls/<sha256 of URL>` the archive hash a URL gave (for
//! `--offline`), `downloads/<sha256 of URL>.part` an unfinished download.

pub mod download;
mod package;
pub mod unpack;

use crate::error::{Error, Result};
use crate::msg;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentSource {
    Dir(PathBuf),
    Archive(PathBuf),
    Url(String),
}

impl AgentSource {
    pub fn parse(raw: &Path) -> AgentSource {
        let text = raw.to_string_lossy();
        if text.starts_with("https://") || text.starts_with("http://") {
            AgentSource::Url(text.into_owned())
        } else if raw.is_dir() {
            AgentSource::Dir(raw.to_path_buf())
        } else {
            AgentSource::Archive(raw.to_path_buf())
        }
    }
}

/// Download progress. The core reports bytes; `ui::progress` draws (or stays silent).
pub trait Progress {
    fn start(&self, total: Option<u64>, done: u64);
    fn advance(&self, bytes: u64);
    fn finish(&self);
}

pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: Option<u64>, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

pub struct Fetch<'a> {
    /// Expected sha256 (lowercase hex), from --sha256.
    pub sha256: Option<&'a str>,
    pub offline: bool,
    /// `--cacert`: trusted for downloads beside the OS trust store.
    pub cacert: Option<&'a Path>,
    /// The state dir's agent cache (`StateDir::agent_cache`).
    pub cache: &'a Path,
    pub progress: &'a dyn Progress,
}

/// The directory holding the unpacked distribution for `source`.
pub fn unpacked(source: &AgentSource, fetch: &Fetch) -> Result<PathBuf> {
    let cache = fetch.cache;
    let dir = match source {
        AgentSource::Dir(dir) => return Ok(dir.clone()),
        AgentSource::Archive(path) => from_file(path, fetch, cache)?,
        AgentSource::Url(url) if fetch.offline => from_cache(url, fetch, cache)?,
        AgentSource::Url(url) => from_url(url, fetch, cache)?,
    };
    Ok(distribution_root(dir))
}

/// Archives usually wrap everything in one top directory (`whatap/`): step into it. A system
/// package holds the agent's home as `usr/whatap/<agent>/` beside its service files: that home
/// is the distribution, as the vendor's tar gives it.
fn distribution_root(mut dir: PathBuf) -> PathBuf {
    let homes = crate::detect::files_in(&dir.join("usr/whatap"), |_| true);
    if let [home] = homes.as_slice() {
        if home.is_dir() {
            dir = home.clone();
        }
    }
    loop {
        let entries: Vec<_> = match fs::read_dir(&dir) {
            Ok(entries) => entries.flatten().collect(),
            Err(_) => return dir,
        };
        match entries.as_slice() {
            [only] if only.file_type().is_ok_and(|t| t.is_dir()) => dir = only.path(),
            _ => return dir,
        }
    }
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn url_key(url: &str) -> String {
    hex(&Sha256::digest(url.as_bytes()))
}

/// The first 64-hex-digit word: `sha256sum` output, a bare hash, or BSD `SHA256 (f) = h`.
pub fn parse_sha256_text(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || c == '=')
        .find(|word| word.len() == 64 && word.chars().all(|c| c.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
}

fn mismatch(what: &str, expected: &str, actual: &str) -> Error {
    Error::usage(
        msg!(
            "agent-checksum-mismatch",
            what = what,
            actual = actual,
            expected = expected
        ),
        msg!("agent-checksum-mismatch-hint"),
    )
}

fn from_file(path: &Path, fetch: &Fetch, cache: &Path) -> Result<PathBuf> {
    if !path.is_file() {
        return Err(Error::usage(
            msg!("agent-no-such-path", path = path.display()),
            msg!("agent-no-such-path-hint"),
        ));
    }
    let actual = verify_file(path, fetch.sha256)?;
    unpack_cached(path, &actual, cache)
}

/// A local archive's sha256, checked against `--sha256` when one was given.
pub fn verify_file(path: &Path, expected: Option<&str>) -> Result<String> {
    let actual = sha256_file(path)?;
    match expected {
        Some(expected) if expected != actual => {
            Err(mismatch(&path.display().to_string(), expected, &actual))
        }
        _ => Ok(actual),
    }
}

fn from_url(url: &str, fetch: &Fetch, cache: &Path) -> Result<PathBuf> {
    let client = download::client(fetch.cacert)?;
    let expected = match fetch.sha256 {
        Some(sha) => sha.to_string(),
        None => {
            let sum_url = format!("{url}.sha256");
            download::fetch_text(&client, &sum_url)?
                .as_deref()
                .and_then(parse_sha256_text)
                .ok_or_else(|| {
                    Error::usage(
                        msg!("agent-no-checksum", url = url, sum_url = sum_url),
                        msg!("agent-no-checksum-hint"),
                    )
                })?
        }
    };
    let unpacked = cache.join(&expected);
    if unpacked.is_dir() {
        remember_url(cache, url, &expected)?;
        return Ok(unpacked);
    }
    let downloads = cache.join("downloads");
    fs::create_dir_all(&downloads).map_err(|e| Error::io(&downloads, e))?;
    let part = downloads.join(format!("{}.part", url_key(url)));
    download::download(&client, url, &part, fetch.progress)?;
    let actual = sha256_file(&part)?;
    if actual != expected {
        // A damaged part must not be resumed next time.
        let _ = fs::remove_file(&part);
        return Err(mismatch(url, &expected, &actual));
    }
    let dir = unpack_cached(&part, &actual, cache);
    let _ = fs::remove_file(&part);
    let dir = dir?;
    remember_url(cache, url, &actual)?;
    Ok(dir)
}

fn from_cache(url: &str, fetch: &Fetch, cache: &Path) -> Result<PathBuf> {
    let known = fs::read_to_string(cache.join("urls").join(url_key(url)))
        .ok()
        .and_then(|t| parse_sha256_text(&t));
    let dir = fetch
        .sha256
        .map(str::to_string)
        .or(known)
        .map(|sha| cache.join(sha))
        .filter(|dir| dir.is_dir());
    dir.ok_or_else(|| {
        Error::usage(
            msg!("agent-offline-miss", url = url, cache = cache.display()),
            msg!("agent-offline-miss-hint"),
        )
    })
}

fn remember_url(cache: &Path, url: &str, sha: &str) -> Result<()> {
    let urls = cache.join("urls");
    fs::create_dir_all(&urls).map_err(|e| Error::io(&urls, e))?;
    let path = urls.join(url_key(url));
    fs::write(&path, format!("{sha}  {url}\n")).map_err(|e| Error::io(&path, e))
}

/// `cache/<sha>`: unpacked into a staging dir and renamed into place, so a cached entry is
/// always complete and a refused archive leaves nothing.
fn unpack_cached(archive: &Path, sha: &str, cache: &Path) -> Result<PathBuf> {
    let dest = cache.join(sha);
    if dest.is_dir() {
        return Ok(dest);
    }
    let format = unpack::sniff(archive)?.ok_or_else(|| {
        Error::usage(
            msg!("agent-not-archive", path = archive.display()),
            msg!("agent-not-archive-hint"),
        )
    })?;
    fs::create_dir_all(cache).map_err(|e| Error::io(cache, e))?;
    let stage = tempfile::Builder::new()
        .prefix(".unpack-")
        .tempdir_in(cache)
        .map_err(|e| Error::io(cache, e))?;
    unpack::unpack(archive, format, stage.path())?;
    let staged = stage.keep();
    let _ = crate::os::set_mode(&staged, 0o755);
    if let Err(e) = fs::rename(&staged, &dest) {
        let _ = fs::remove_dir_all(&staged);
        if !dest.is_dir() {
            return Err(Error::io(&dest, e));
        }
    }
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_files_in_common_shapes() {
        let h = "a".repeat(64);
        assert_eq!(
            parse_sha256_text(&format!("{h}  agent.zip\n")),
            Some(h.clone())
        );
        assert_eq!(
            parse_sha256_text(&format!("SHA256 (agent.zip) = {h}")),
            Some(h.clone())
        );
        assert_eq!(parse_sha256_text(&h.to_uppercase()), Some(h));
        assert_eq!(parse_sha256_text("<html>not found</html>"), None);
    }

    #[test]
    fn sources_by_shape() {
        assert_eq!(
            AgentSource::parse(Path::new("https://x.example/a.zip")),
            AgentSource::Url("https://x.example/a.zip".into())
        );
        assert_eq!(
            AgentSource::parse(Path::new("/tmp")),
            AgentSource::Dir("/tmp".into())
        );
        assert_eq!(
            AgentSource::parse(Path::new("/nonexistent/a.tar.gz")),
            AgentSource::Archive("/nonexistent/a.tar.gz".into())
        );
    }

    #[test]
    fn single_top_dir_is_stepped_into() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("whatap/lib1")).unwrap();
        fs::write(dir.path().join("whatap/a.jar"), b"").unwrap();
        assert_eq!(
            distribution_root(dir.path().to_path_buf()),
            dir.path().join("whatap")
        );
    }
}
