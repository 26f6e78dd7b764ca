//! A plan is data: the exact bytes each file has now and will have. Built without touching
//! disk; rendered as a unified diff; applied only by `apply`.

pub mod diff;
pub mod edits;
pub mod reverse;
#[cfg(test)]
mod roundtrip;
pub mod target;

use crate::edit::MarkerStyle;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Created,
    Modified,
    Deleted,
    Unchanged,
}

/// How a file must be checked before it replaces the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Validation {
    None,
    /// `sh -n`: the file must still parse as a shell script.
    Shell,
}

/// What the ledger keeps about our part of a file, so uninstall can remove only that part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Ownership {
    /// The whole file is ours (a copied jar, a file we created whole).
    Whole,
    /// A marker block; `text` is the exact block we wrote, markers included, joined by `\n`.
    Block { style: MarkerStyle, text: String },
    /// Keys we set in a `key=value` file: each with the value it had before (None: absent).
    Keys { keys: Vec<KeyRecord> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub key: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Edit {
    /// The real file (symlinks already resolved).
    pub path: PathBuf,
    /// The path as the user knows it, when it differs (a symlink).
    pub via: Option<PathBuf>,
    pub before: Option<Vec<u8>>,
    pub after: Option<Vec<u8>>,
    /// Mode for a file we create; an existing file keeps its own.
    pub create_mode: u32,
    /// Owner for a file we create; an existing file keeps its own.
    pub create_owner: Option<(u32, u32)>,
    pub validation: Validation,
    pub ownership: Ownership,
    /// Secret files (whatap.conf) show masked values in diffs.
    pub binary: bool,
}

impl Edit {
    pub fn action(&self) -> Action {
        match (&self.before, &self.after) {
            (None, Some(_)) => Action::Created,
            (Some(_), None) => Action::Deleted,
            (Some(a), Some(b)) if a == b => Action::Unchanged,
            (None, None) => Action::Unchanged,
            _ => Action::Modified,
        }
    }
}

/// Directories a plan creates, each with its owner, created before any file is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirCreate {
    pub path: PathBuf,
    pub mode: u32,
    pub owner: Option<(u32, u32)>,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub dirs: Vec<DirCreate>,
    pub edits: Vec<Edit>,
    /// Directories to remove (if empty) after the edits, deepest first.
    pub remove_dirs: Vec<PathBuf>,
}

impl Plan {
    pub fn changes_anything(&self) -> bool {
        !self.dirs.is_empty()
            || !self.remove_dirs.is_empty()
            || self.edits.iter().any(|e| e.action() != Action::Unchanged)
    }
}
