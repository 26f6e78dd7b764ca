//! What probing a program told (`php -i`), kept between runs in the state dir
//! (`StateDir::probe_cache`) so a read-only `detect` or `doctor` need not start it again. An
//! entry is valid while every file it depended on (the binary, the ini files it read) has the
//! same size, inode, mtime and ctime; any change and it is probed again. No state dir, one we
//! cannot write, or a cache file another user owns: nothing is cached, nothing fails.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Far more than any host's PHPs need; a bigger file is ignored.
#[cfg(unix)]
const MAX_FILE: u64 = 4 << 20;

/// A file as it was when a probe depended on it; `seen: None` means it did not exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    path: PathBuf,
    seen: Option<[i64; 6]>,
}

/// `path` as it is now (symlinks followed: the file a program really reads).
pub fn stamp(path: &Path) -> Stamp {
    #[cfg(windows)]
    let seen = fs::metadata(path).ok().map(|m| {
        let modified = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .unwrap_or_default();
        [
            m.len() as i64,
            0,
            modified.as_secs() as i64,
            modified.subsec_nanos() as i64,
            0,
            0,
        ]
    });
    #[cfg(unix)]
    let seen = fs::metadata(path).ok().map(|m| {
        [
            m.size() as i64,
            m.ino() as i64,
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
        ]
    });
    Stamp {
        path: path.to_path_buf(),
        seen,
    }
}

/// A directory's own stamp (entries added, removed, renamed) and every entry's.
pub fn stamp_dir(dir: &Path) -> Vec<Stamp> {
    let mut stamps = vec![stamp(dir)];
    stamps.extend(
        crate::detect::files_in(dir, |_| true)
            .iter()
            .map(|p| stamp(p)),
    );
    stamps
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    stamps: Vec<Stamp>,
    value: serde_json::Value,
}

/// Only the entries that still hold: one whose binary is gone or changed (an upgraded or
/// removed PHP, a PHP under a new path) would otherwise stay in the file for ever, since no
/// probe looks it up again. True when any was dropped (the file is then written).
#[cfg(unix)]
fn prune(mut entries: BTreeMap<String, Entry>) -> (BTreeMap<String, Entry>, bool) {
    let before = entries.len();
    entries.retain(|_, e| e.stamps.iter().all(|s| stamp(&s.path) == *s));
    let pruned = entries.len() != before;
    (entries, pruned)
}

#[derive(Debug, Default)]
pub struct ProbeCache {
    /// None: caching is off for this run.
    file: Option<PathBuf>,
    entries: Mutex<BTreeMap<String, Entry>>,
    changed: AtomicBool,
}

impl ProbeCache {
    /// No caching (install probes afresh: it writes where the probe says).
    pub fn off() -> ProbeCache {
        ProbeCache::default()
    }

    /// The cache kept in `file`, used only when `state_root` exists (a read-only command never
    /// creates the state dir) and is ours, as install requires (`ensure_private_dir`): whoever
    /// owns it could swap the file under us.
    #[cfg(windows)]
    pub fn open(_file: PathBuf, _state_root: &Path) -> ProbeCache {
        // PHP is probed on Unix hosts only: nothing to keep.
        ProbeCache::off()
    }

    /// The cache kept in `file` (see the Windows twin above).
    #[cfg(unix)]
    pub fn open(file: PathBuf, state_root: &Path) -> ProbeCache {
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        if !fs::metadata(state_root).is_ok_and(|m| m.is_dir() && m.uid() == me) {
            return ProbeCache::off();
        }
        let entries = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&file)
            .ok()
            // Another user's file could make doctor see a PHP that is not there; a FIFO or a
            // huge file is not one we wrote.
            .filter(|f| {
                f.metadata()
                    .is_ok_and(|m| m.uid() == me && m.is_file() && m.len() <= MAX_FILE)
            })
            .and_then(|f| serde_json::from_reader(std::io::BufReader::new(f)).ok())
            .unwrap_or_default();
        let (entries, pruned) = prune(entries);
        ProbeCache {
            file: Some(file),
            entries: Mutex::new(entries),
            changed: AtomicBool::new(pruned),
        }
    }

    /// The value kept under `key`, if every file it depended on is unchanged.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.file.as_ref()?;
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(key)?;
        if entry.stamps.iter().any(|s| stamp(&s.path) != *s) {
            return None;
        }
        serde_json::from_value(entry.value.clone()).ok()
    }

    /// Keeps `value` under `key` while the files `stamps` describe stay as they are.
    pub fn put<T: Serialize>(&self, key: &str, stamps: Vec<Stamp>, value: &T) {
        if self.file.is_none() {
            return;
        }
        let Ok(value) = serde_json::to_value(value) else {
            return;
        };
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(key.to_string(), Entry { stamps, value });
            self.changed.store(true, Ordering::Relaxed);
        }
    }

    /// Writes the cache if anything was added (temp file + rename; failures are ignored: a
    /// cache that cannot be written is only a slower next run).
    pub fn save(&self) {
        let Some(file) = &self.file else {
            return;
        };
        if !self.changed.load(Ordering::Relaxed) {
            return;
        }
        let Some(dir) = file.parent() else {
            return;
        };
        #[cfg(unix)]
        let create = |dir| fs::DirBuilder::new().mode(0o700).create(dir);
        #[cfg(windows)]
        let create = |dir| fs::DirBuilder::new().create(dir);
        if !dir.is_dir() && create(dir).is_err() {
            return;
        }
        let Ok(entries) = self.entries.lock() else {
            return;
        };
        let Ok(mut temp) = tempfile::NamedTempFile::new_in(dir) else {
            return;
        };
        if serde_json::to_writer(&mut temp, &*entries).is_ok() && temp.flush().is_ok() {
            let _ = temp.persist(file);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_lives_while_its_files_are_unchanged() {
        let state = tempfile::tempdir().unwrap();
        let file = state.path().join("cache/probes.json");
        let dep = state.path().join("php.ini");
        fs::write(&dep, "a=1\n").unwrap();
        let cache = ProbeCache::open(file.clone(), state.path());
        cache.put("k", vec![stamp(&dep)], &42u32);
        cache.save();
        let again = ProbeCache::open(file.clone(), state.path());
        assert_eq!(again.get::<u32>("k"), Some(42));
        fs::write(&dep, "a=2\n").unwrap();
        assert_eq!(again.get::<u32>("k"), None, "a changed file invalidates");
        let gone = state.path().join("absent.ini");
        again.put("k2", vec![stamp(&gone)], &7u32);
        assert_eq!(again.get::<u32>("k2"), Some(7));
        fs::write(&gone, "").unwrap();
        assert_eq!(
            again.get::<u32>("k2"),
            None,
            "a file that appeared invalidates"
        );
    }

    #[test]
    fn entries_of_gone_or_changed_files_are_dropped_from_the_file() {
        let state = tempfile::tempdir().unwrap();
        let file = state.path().join("cache/probes.json");
        let php = state.path().join("php");
        let old_php = state.path().join("php7.4");
        fs::write(&php, "v1").unwrap();
        fs::write(&old_php, "v1").unwrap();
        let cache = ProbeCache::open(file.clone(), state.path());
        cache.put("php -i", vec![stamp(&php)], &1u8);
        cache.put("php7.4 -i", vec![stamp(&old_php)], &2u8);
        cache.put("none", vec![stamp(&state.path().join("absent"))], &3u8);
        cache.save();
        // The old PHP removed, the other upgraded: a run that asks for neither still drops both.
        fs::remove_file(&old_php).unwrap();
        fs::write(&php, "v2").unwrap();
        ProbeCache::open(file.clone(), state.path()).save();
        let kept: BTreeMap<String, serde_json::Value> =
            serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
        assert_eq!(kept.keys().collect::<Vec<_>>(), ["none"]);
    }

    #[test]
    fn no_state_dir_no_cache_and_nothing_created() {
        let parent = tempfile::tempdir().unwrap();
        let root = parent.path().join("state");
        let cache = ProbeCache::open(root.join("cache/probes.json"), &root);
        cache.put("k", Vec::new(), &1u8);
        cache.save();
        assert_eq!(cache.get::<u8>("k"), None);
        assert!(!root.exists());
    }

    #[test]
    fn the_file_is_private_and_nobody_elses_file_or_state_dir_is_used() {
        let state = tempfile::tempdir().unwrap();
        let file = state.path().join("cache/probes.json");
        let cache = ProbeCache::open(file.clone(), state.path());
        cache.put("k", Vec::new(), &1u8);
        cache.save();
        assert_eq!(fs::metadata(&file).unwrap().mode() & 0o777, 0o600);
        assert_eq!(
            fs::metadata(file.parent().unwrap()).unwrap().mode() & 0o777,
            0o700
        );
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIPPED: only root can hand a file to another user");
            return;
        }
        std::os::unix::fs::chown(&file, Some(4242), Some(4242)).unwrap();
        assert_eq!(
            ProbeCache::open(file.clone(), state.path()).get::<u8>("k"),
            None
        );
        std::os::unix::fs::chown(&file, Some(0), Some(0)).unwrap();
        assert_eq!(
            ProbeCache::open(file.clone(), state.path()).get::<u8>("k"),
            Some(1)
        );
        std::os::unix::fs::chown(state.path(), Some(4242), Some(4242)).unwrap();
        let foreign = ProbeCache::open(file.clone(), state.path());
        assert_eq!(foreign.get::<u8>("k"), None);
        foreign.put("k2", Vec::new(), &2u8);
        foreign.save();
        assert!(!fs::read_to_string(&file).unwrap().contains("k2"));
    }
}
