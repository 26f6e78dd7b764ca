//! Detection: running processes and install trees -> what runtimes this host has.

pub mod cache;
pub mod process;
pub mod systemd;

use process::Process;
use std::path::{Path, PathBuf};

/// One look at the host, taken once per command and shared by every runtime's detection.
pub struct Host {
    pub processes: Vec<Process>,
    /// Probe results kept between runs; off unless the command is read-only.
    pub cache: std::sync::Arc<cache::ProbeCache>,
}

impl Host {
    pub fn scan() -> Host {
        Host::scan_cached(cache::ProbeCache::off())
    }

    /// A look that reuses (and keeps) probe results: for `detect` and `doctor`, which only read.
    pub fn scan_cached(cache: cache::ProbeCache) -> Host {
        Host {
            processes: process::all(&process::proc_root()),
            cache: std::sync::Arc::new(cache),
        }
    }

    pub fn java_processes(&self) -> impl Iterator<Item = &Process> {
        self.processes.iter().filter(|p| p.is_java())
    }
}

/// The file `name` in `dir` or in its subdirectories down to `depth` levels, the shallowest
/// first and by name within a level (an archive's `modules/x64/whatap_20220829.so`).
pub fn find_below(dir: &Path, name: &str, depth: usize) -> Option<PathBuf> {
    let direct = dir.join(name);
    if direct.is_file() {
        return Some(direct);
    }
    if depth == 0 {
        return None;
    }
    files_in(dir, |_| true)
        .into_iter()
        .filter(|p| p.is_dir())
        .find_map(|d| find_below(&d, name, depth - 1))
}

/// The entries of `dir` whose file name `keep` accepts, sorted by name; none when `dir` cannot
/// be read.
pub fn files_in(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(&keep))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}
