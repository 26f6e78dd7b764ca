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
    /// The file must still be a well-formed XML document.
    Xml,
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
    /// Lines we rewrote in place (a wrapped start command): each line's text before and after.
    Lines { lines: Vec<LineRecord> },
    /// Texts we spliced into a file (XML elements, attribute words, a value's tail): removing
    /// each (found exactly once) gives back the original. `swaps`: self-closing elements we
    /// expanded, put back. `replaces`: this plan took out what an earlier install spliced
    /// (a reinstall with other options), so these are all of ours, not more of them.
    Fragments {
        fragments: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        swaps: Vec<crate::edit::xml::Swap>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        replaces: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRecord {
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub key: String,
    pub before: Option<KeyValue>,
    pub after: Option<KeyValue>,
}

/// A key's value as a plan holds it, or as the ledger keeps it: a secret (the license) is
/// kept only as its hash, and its text before install comes back from the file's backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeyValue {
    Text(String),
    Sealed { sha256: String },
}

impl KeyValue {
    /// Whether `text` is this value.
    pub fn matches(&self, text: &str) -> bool {
        match self {
            KeyValue::Text(value) => value == text,
            KeyValue::Sealed { sha256 } => {
                *sha256 == crate::apply::atomic::sha256_hex(text.as_bytes())
            }
        }
    }
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

/// A permission change on an existing file (content untouched).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeChange {
    pub path: PathBuf,
    pub before: u32,
    pub after: u32,
}

impl DirCreate {
    /// Directories to create for `dir`, parents first; the leaf gets `owner`.
    pub fn missing(dir: &std::path::Path, owner: Option<(u32, u32)>) -> Vec<DirCreate> {
        // By its real path (`..` and symlinks above it resolved): where it will really be.
        let dir = &target::canonical_lenient(dir);
        let mut missing = Vec::new();
        let mut current = Some(dir.as_path());
        while let Some(d) = current {
            if d.exists() {
                break;
            }
            missing.push(d.to_path_buf());
            current = d.parent();
        }
        missing
            .into_iter()
            .rev()
            .map(|path| DirCreate {
                owner: if path == *dir { owner } else { None },
                path,
                mode: 0o755,
            })
            .collect()
    }
}

/// A program the plan runs on apply, outside the file edits (pip into the app's own
/// interpreter, npm into a Node.js app, the agent's service started). Run directly, never
/// through a shell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStep {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// A failure does not stop the plan (stopping an agent that already stopped).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub best_effort: bool,
    /// Files the program rewrites itself (npm: package.json and its lock file), with their
    /// bytes when planned: re-checked and backed up before it runs, put back when the apply
    /// fails, and recorded with what the program wrote, so uninstall restores them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rewrites: Vec<Rewrite>,
    /// Directories the program creates (npm's `node_modules/.bin`): recorded like the plan's
    /// own, so uninstall removes them when they are empty again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub creates: Vec<PathBuf>,
}

/// A file a `RunStep` rewrites, and its bytes before (None: it does not exist yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rewrite {
    pub path: PathBuf,
    #[serde(skip)]
    pub before: Option<Vec<u8>>,
}

impl RunStep {
    pub fn new(program: impl Into<PathBuf>, args: &[&str]) -> RunStep {
        RunStep {
            program: program.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            best_effort: false,
            rewrites: Vec::new(),
            creates: Vec::new(),
        }
    }

    pub fn best_effort(self) -> RunStep {
        RunStep {
            best_effort: true,
            ..self
        }
    }

    /// The command as an operator would type it.
    pub fn display(&self) -> String {
        let mut words = vec![self.program.display().to_string()];
        words.extend(self.args.iter().cloned());
        words.join(" ")
    }
}

/// A step `uninstall` takes before restoring the files, recorded by install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Undo {
    /// Run a program (stop the service install started, `pip uninstall` or `npm uninstall`
    /// what it added).
    Run { step: RunStep },
    /// Run a program once the files are restored: remove the package install put in place
    /// (`apt-get purge whatap-php`), whose files were given back their package bytes first.
    RunAfter { step: RunStep },
    /// Stop (SIGTERM) the processes named `name` whose working directory is `cwd`: one app's
    /// agent, not every agent of that name (`whatap-stop-agent` is `killall whatap_python`).
    StopAgent { name: String, cwd: PathBuf },
}

/// A symlink a plan creates (Debian's `conf.d/20-whatap.ini -> ../../mods-available/whatap.ini`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub path: PathBuf,
    pub target: PathBuf,
}

impl Link {
    /// The link is on disk and points where we made it point.
    pub fn is_in_place(&self) -> bool {
        std::fs::read_link(&self.path).is_ok_and(|t| t == self.target)
    }
}

/// A Windows registry value exactly as read: its type (`REG_MULTI_SZ` is 7) and raw bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegValue {
    pub kind: u32,
    pub data: Vec<u8>,
}

impl RegValue {
    pub const MULTI_SZ: u32 = 7;

    /// A `REG_MULTI_SZ` of `strings`: UTF-16LE, each ended by a NUL, the list by one more.
    pub fn multi_sz(strings: &[String]) -> RegValue {
        let mut units: Vec<u16> = Vec::new();
        for s in strings {
            units.extend(s.encode_utf16());
            units.push(0);
        }
        units.push(0);
        RegValue {
            kind: RegValue::MULTI_SZ,
            data: units.iter().flat_map(|u| u.to_le_bytes()).collect(),
        }
    }

    /// The strings of a `REG_MULTI_SZ` (an empty one has none); None for any other type.
    pub fn strings(&self) -> Option<Vec<String>> {
        if self.kind != RegValue::MULTI_SZ {
            return None;
        }
        let units: Vec<u16> = self
            .data
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        Some(
            units
                .split(|u| *u == 0)
                .filter(|s| !s.is_empty())
                .map(String::from_utf16_lossy)
                .collect(),
        )
    }
}

/// A registry value a plan sets or deletes (a Procrun service's JVM options): `key` is the
/// full key (`HKLM\SOFTWARE\...`), `name` the value's; None is absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegChange {
    pub key: String,
    pub name: String,
    pub before: Option<RegValue>,
    pub after: Option<RegValue>,
}

impl RegChange {
    /// `key\name`, as the plan and the report show it.
    pub fn display(&self) -> String {
        format!("{}\\{}", self.key, self.name)
    }

    pub fn action(&self) -> Action {
        match (&self.before, &self.after) {
            (None, Some(_)) => Action::Created,
            (Some(_), None) => Action::Deleted,
            (before, after) if before == after => Action::Unchanged,
            _ => Action::Modified,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Programs run before any file is written.
    pub run: Vec<RunStep>,
    /// Programs run once every file is in place (the agent's service started); a failure
    /// rolls the files back too.
    pub run_after: Vec<RunStep>,
    /// What `uninstall` runs before it restores the files (stop the agent, remove a package
    /// install added): kept in the ledger, never run by this plan.
    pub undo: Vec<Undo>,
    pub dirs: Vec<DirCreate>,
    pub edits: Vec<Edit>,
    pub modes: Vec<ModeChange>,
    /// Symlinks created after the edits (their targets exist by then).
    pub links: Vec<Link>,
    /// Symlinks removed before the edits, only while they still point at their target.
    pub remove_links: Vec<Link>,
    /// Directories to remove (if empty) after the edits, deepest first.
    pub remove_dirs: Vec<PathBuf>,
    /// Registry values set after the files (Windows only).
    pub registry: Vec<RegChange>,
}

impl Plan {
    pub fn changes_anything(&self) -> bool {
        !self.run.is_empty()
            || !self.run_after.is_empty()
            || !self.dirs.is_empty()
            || !self.remove_dirs.is_empty()
            || !self.modes.is_empty()
            || !self.links.is_empty()
            || !self.remove_links.is_empty()
            || self.edits.iter().any(|e| e.action() != Action::Unchanged)
            || self
                .registry
                .iter()
                .any(|r| r.action() != Action::Unchanged)
    }
}

#[cfg(test)]
mod tests {
    use super::RegValue;

    /// The bytes `reg add /t REG_MULTI_SZ /d "a\0b"` stores, both ways.
    #[test]
    fn multi_sz_is_utf16_strings_each_nul_ended_then_one_more() {
        let strings = vec!["-Xss4m".to_string(), "-Dx=C:\\é".to_string()];
        let value = RegValue::multi_sz(&strings);
        let mut expected: Vec<u8> = Vec::new();
        for unit in "-Xss4m\0-Dx=C:\\é\0\0".encode_utf16() {
            expected.extend(unit.to_le_bytes());
        }
        assert_eq!(value.data, expected);
        assert_eq!(value.strings(), Some(strings));
        assert_eq!(RegValue::multi_sz(&[]).strings(), Some(Vec::new()));
        let text = RegValue { kind: 1, ..value };
        assert_eq!(text.strings(), None);
    }
}
