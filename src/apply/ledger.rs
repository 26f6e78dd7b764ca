//! The ledger: what each install changed, so uninstall can reverse exactly that.
//! Files shared by several installs (one whatap.conf for two Tomcats) are restored only
//! when the last install that uses them is removed.

use super::Rewritten;
use super::atomic::sha256_hex;
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::{Action, KeyRecord, KeyValue, Link, ModeChange, Ownership, Plan, RegValue, Undo};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// 2: secrets sealed (see `Ledger::to_bytes`). Version 1 ledgers (values in plain text) are
/// read as they are and sealed when next saved.
const VERSION: u32 = 2;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Ledger {
    pub version: u32,
    pub installs: Vec<InstallRecord>,
    pub files: Vec<FileRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstallRecord {
    /// `<runtime>:<target>`: one record per runtime instance.
    pub id: String,
    pub runtime: String,
    pub target: PathBuf,
    pub method: String,
    pub installed_at: u64,
    pub paths: Vec<PathBuf>,
    pub dirs_created: Vec<PathBuf>,
    /// Symlinks this install created; absent in ledgers written before links existed.
    #[serde(default)]
    pub links_created: Vec<Link>,
    /// Permission changes (doctor --fix), each with the mode it had first.
    #[serde(default)]
    pub modes: Vec<ModeChange>,
    /// The target flags that picked it (`--start-script=/srv/app/start.sh`): `uninstall`
    /// finds the record by any of them, even when the app is gone.
    #[serde(default)]
    pub selectors: Vec<String>,
    /// Programs `uninstall` runs before restoring the files: stop the agent service or the
    /// Python agent, remove a package this install added (pip's, npm's).
    #[serde(default)]
    pub on_uninstall: Vec<Undo>,
    /// Registry values this install set (a Procrun service's JVM options).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registry: Vec<RegRecord>,
}

/// A registry value an install set: its value before the first install, exactly (None:
/// absent), what the last install wrote, and the strings it added (taken out again when a
/// person changed the value since).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegRecord {
    pub key: String,
    pub name: String,
    pub original: Option<RegValue>,
    pub written: RegValue,
    pub added: Vec<String>,
}

/// What names an install record.
#[derive(Debug, Clone, Copy)]
pub struct InstallKey<'a> {
    pub id: &'a str,
    pub runtime: &'a str,
    pub target: &'a Path,
    pub method: &'a str,
    pub selectors: &'a [String],
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileRecord {
    pub path: PathBuf,
    /// `created` (did not exist before the first install) or `modified`.
    pub action: Action,
    pub original_sha256: Option<String>,
    /// File name under `<state>/backups/` holding the original bytes.
    pub backup: Option<String>,
    pub written_sha256: String,
    pub ownership: Ownership,
}

impl FileRecord {
    /// A file's record at the first install that changes it: its original (None: absent
    /// before) backed up under its hash.
    fn first(
        path: &Path,
        before: Option<&[u8]>,
        written_sha256: String,
        ownership: Ownership,
    ) -> FileRecord {
        let original = before.map(sha256_hex);
        FileRecord {
            path: path.to_path_buf(),
            action: if before.is_some() {
                Action::Modified
            } else {
                Action::Created
            },
            backup: original.clone(),
            original_sha256: original,
            written_sha256,
            ownership,
        }
    }
}

impl Ledger {
    pub fn new() -> Ledger {
        Ledger {
            version: VERSION,
            ..Ledger::default()
        }
    }

    /// A ledger from the bytes of `path`; refused when it is not one this version can read.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Ledger> {
        let ledger: Ledger = serde_json::from_slice(bytes).map_err(|e| {
            Error::refused(
                msg!("ledger-invalid", path = path.display(), error = e),
                msg!("ledger-invalid-hint"),
            )
        })?;
        if ledger.version > VERSION {
            return Err(Error::refused(
                msg!(
                    "ledger-newer",
                    path = path.display(),
                    version = ledger.version
                ),
                msg!("ledger-newer-hint"),
            ));
        }
        Ok(ledger)
    }

    /// The ledger as saved: no secret in it. The license (any key named `license` or
    /// `*.license`, and `license=` values in the blocks we keep) is replaced by its sha256;
    /// uninstall compares hashes, and takes a value from before install from the file's
    /// backup (0600 in the private state dir), which holds the original bytes anyway.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut sealed = self.clone();
        sealed.version = VERSION;
        for file in &mut sealed.files {
            seal(&mut file.ownership);
        }
        serde_json::to_vec_pretty(&sealed).map_err(|e| Error::Internal(e.to_string()))
    }

    pub fn install(&self, id: &str) -> Option<&InstallRecord> {
        self.installs.iter().find(|i| i.id == id)
    }

    pub fn file(&self, path: &Path) -> Option<&FileRecord> {
        self.files.iter().find(|f| f.path == path)
    }

    /// Other installs that also use `path`.
    pub fn other_users(&self, path: &Path, except_id: &str) -> Vec<&str> {
        self.installs
            .iter()
            .filter(|i| i.id != except_id && i.paths.iter().any(|p| p == path))
            .map(|i| i.id.as_str())
            .collect()
    }

    /// Records an install plan about to be applied; keeps the first original of every file.
    pub fn record_install(&mut self, key: &InstallKey<'_>, plan: &Plan) {
        let InstallKey {
            id,
            runtime,
            target,
            method,
            selectors,
        } = *key;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let index = match self.installs.iter().position(|i| i.id == id) {
            Some(index) => index,
            None => {
                self.installs.push(InstallRecord {
                    id: id.to_string(),
                    runtime: runtime.to_string(),
                    target: target.to_path_buf(),
                    method: method.to_string(),
                    installed_at: now,
                    paths: Vec::new(),
                    dirs_created: Vec::new(),
                    modes: Vec::new(),
                    links_created: Vec::new(),
                    selectors: Vec::new(),
                    on_uninstall: Vec::new(),
                    registry: Vec::new(),
                });
                self.installs.len() - 1
            }
        };
        for step in &plan.undo {
            if !self.installs[index].on_uninstall.contains(step) {
                self.installs[index].on_uninstall.push(step.clone());
            }
        }
        for word in selectors {
            if !self.installs[index].selectors.contains(word) {
                self.installs[index].selectors.push(word.clone());
            }
        }
        self.installs[index].method = method.to_string();
        self.installs[index].installed_at = now;
        let created = plan.dirs.iter().map(|d| &d.path);
        for dir in created.chain(plan.run.iter().flat_map(|s| &s.creates)) {
            if !self.installs[index].dirs_created.contains(dir) {
                self.installs[index].dirs_created.push(dir.clone());
            }
        }
        for change in &plan.modes {
            let modes = &mut self.installs[index].modes;
            match modes.iter_mut().find(|m| m.path == change.path) {
                Some(existing) => existing.after = change.after,
                None => modes.push(change.clone()),
            }
        }
        for link in &plan.links {
            if !self.installs[index].links_created.contains(link) {
                self.installs[index].links_created.push(link.clone());
            }
        }
        for change in &plan.registry {
            let Some(written) = &change.after else {
                continue;
            };
            let added = added_strings(change.before.as_ref(), written);
            let records = &mut self.installs[index].registry;
            match records
                .iter_mut()
                .find(|r| r.key == change.key && r.name == change.name)
            {
                Some(record) => {
                    record.written = written.clone();
                    for s in added {
                        if !record.added.contains(&s) {
                            record.added.push(s);
                        }
                    }
                }
                None => records.push(RegRecord {
                    key: change.key.clone(),
                    name: change.name.clone(),
                    original: change.before.clone(),
                    written: written.clone(),
                    added,
                }),
            }
        }
        // What a program will write is not known yet: recorded as unchanged until
        // `record_rewritten` says what it wrote.
        for rewrite in plan.run.iter().flat_map(|s| &s.rewrites) {
            if !self.installs[index].paths.contains(&rewrite.path) {
                self.installs[index].paths.push(rewrite.path.clone());
            }
            if self.file(&rewrite.path).is_none() {
                let before = rewrite.before.as_deref();
                let unchanged = before.map(sha256_hex).unwrap_or_default();
                self.files.push(FileRecord::first(
                    &rewrite.path,
                    before,
                    unchanged,
                    Ownership::Whole,
                ));
            }
        }
        for edit in &plan.edits {
            let Some(after) = &edit.after else { continue };
            if !self.installs[index].paths.contains(&edit.path) {
                self.installs[index].paths.push(edit.path.clone());
            }
            let written = sha256_hex(after);
            match self.files.iter_mut().find(|f| f.path == edit.path) {
                Some(record) => {
                    record.written_sha256 = written;
                    record.ownership = merge_ownership(&record.ownership, &edit.ownership);
                }
                None => self.files.push(FileRecord::first(
                    &edit.path,
                    edit.before.as_deref(),
                    written,
                    edit.ownership.clone(),
                )),
            }
        }
    }

    /// What the plan's programs wrote into the files they rewrite (after `record_install`).
    pub fn record_rewritten(&mut self, rewritten: &[Rewritten]) {
        for file in rewritten {
            if let Some(record) = self.files.iter_mut().find(|f| f.path == file.path) {
                record.written_sha256 = file.after.as_deref().map(sha256_hex).unwrap_or_default();
            }
        }
    }

    /// Forgets an install and every file no other install uses.
    pub fn forget_install(&mut self, id: &str) {
        self.installs.retain(|i| i.id != id);
        let used: Vec<PathBuf> = self.installs.iter().flat_map(|i| i.paths.clone()).collect();
        self.files.retain(|f| used.contains(&f.path));
    }

    pub fn referenced_backups(&self) -> Vec<String> {
        self.files.iter().filter_map(|f| f.backup.clone()).collect()
    }
}

/// The strings `after` holds that `before` did not (both `REG_MULTI_SZ`; none otherwise).
fn added_strings(before: Option<&RegValue>, after: &RegValue) -> Vec<String> {
    let before = before.and_then(RegValue::strings).unwrap_or_default();
    after
        .strings()
        .unwrap_or_default()
        .into_iter()
        .filter(|s| !before.contains(s))
        .collect()
}

/// `text` with every `license=` value replaced by `sha256:<hex of the value>`; a value sealed
/// already stays as it is, so sealing twice changes nothing.
pub fn seal_text(text: &str) -> String {
    crate::ui::mask::replace_license_values(text, |value| {
        if value.starts_with("sha256:") {
            value.to_string()
        } else {
            format!("sha256:{}", sha256_hex(value.as_bytes()))
        }
    })
}

fn seal_value(value: &mut Option<KeyValue>) {
    if let Some(KeyValue::Text(text)) = value {
        *value = Some(KeyValue::Sealed {
            sha256: sha256_hex(text.as_bytes()),
        });
    }
}

fn seal(ownership: &mut Ownership) {
    match ownership {
        Ownership::Keys { keys } => {
            for key in keys
                .iter_mut()
                .filter(|k| crate::ui::mask::is_secret_key(&k.key))
            {
                seal_value(&mut key.before);
                seal_value(&mut key.after);
            }
        }
        Ownership::Block { text, .. } => *text = seal_text(text),
        Ownership::Whole | Ownership::Lines { .. } | Ownership::Fragments { .. } => {}
    }
}

fn merge_ownership(old: &Ownership, new: &Ownership) -> Ownership {
    match (old, new) {
        (Ownership::Keys { keys: old_keys }, Ownership::Keys { keys: new_keys }) => {
            let mut keys: Vec<KeyRecord> = old_keys.clone();
            for new_key in new_keys {
                match keys.iter_mut().find(|k| k.key == new_key.key) {
                    Some(existing) => existing.after = new_key.after.clone(),
                    None => keys.push(new_key.clone()),
                }
            }
            Ownership::Keys { keys }
        }
        // A reinstall with other options took ours out and spliced them anew: these are all.
        (
            Ownership::Fragments { .. },
            Ownership::Fragments {
                fragments,
                swaps,
                replaces: true,
            },
        ) => Ownership::Fragments {
            fragments: fragments.clone(),
            swaps: swaps.clone(),
            replaces: false,
        },
        // A reinstall splices only what is missing: what the first one inserted stays ours.
        (
            Ownership::Fragments {
                fragments: old,
                swaps: old_swaps,
                ..
            },
            Ownership::Fragments {
                fragments: new,
                swaps: new_swaps,
                ..
            },
        ) => Ownership::Fragments {
            fragments: old.iter().chain(new).cloned().collect(),
            swaps: old_swaps.iter().chain(new_swaps).cloned().collect(),
            replaces: false,
        },
        _ => new.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::marker::MARKER;
    use crate::plan::reverse::remove_ours;

    const LICENSE: &str = "x41pl22ek7jhv-z43cebasdv4il7-z62p3l35fj5502";

    /// What version 1 wrote: every value in plain text.
    fn version_1() -> String {
        serde_json::json!({
            "version": 1,
            "installs": [],
            "files": [
                {"path": "/w/whatap.conf", "action": "modified", "original_sha256": "a",
                 "backup": "a", "written_sha256": "b", "ownership": {"kind": "keys", "keys": [
                    {"key": "license", "before": "old-license-0000", "after": LICENSE},
                    {"key": "whatap.server.host", "before": null, "after": "127.0.0.1"}]}},
                {"path": "/etc/php.ini", "action": "modified", "original_sha256": "c",
                 "backup": "c", "written_sha256": "d", "ownership": {"kind": "block",
                    "style": "ini", "text": format!("; {MARKER}\nwhatap.license={LICENSE}\n; {MARKER}")}}
            ]
        })
        .to_string()
    }

    #[test]
    fn a_version_1_ledger_is_read_and_saved_without_the_license() {
        let ledger = Ledger::parse(version_1().as_bytes(), Path::new("ledger.json")).unwrap();
        let saved = String::from_utf8(ledger.to_bytes().unwrap()).unwrap();
        assert!(!saved.contains(LICENSE), "{saved}");
        assert!(!saved.contains("old-license-0000"), "{saved}");
        assert!(saved.contains("\"version\": 2"), "{saved}");
        assert!(saved.contains("whatap.server.host") && saved.contains("127.0.0.1"));
        // Sealing twice changes nothing.
        let again = Ledger::parse(saved.as_bytes(), Path::new("ledger.json")).unwrap();
        assert_eq!(String::from_utf8(again.to_bytes().unwrap()).unwrap(), saved);
    }

    #[test]
    fn sealed_keys_are_taken_back_with_the_value_from_the_backup() {
        let ledger = Ledger::parse(version_1().as_bytes(), Path::new("l")).unwrap();
        let sealed = Ledger::parse(&ledger.to_bytes().unwrap(), Path::new("l")).unwrap();
        let original = b"license=old-license-0000\n";
        let current = format!("license={LICENSE}\n# edited\nwhatap.server.host=127.0.0.1\n");
        for ledger in [&ledger, &sealed] {
            let ownership = &ledger.files[0].ownership;
            let back = remove_ours(
                Path::new("/w/whatap.conf"),
                current.as_bytes(),
                ownership,
                Some(original),
                &mut Vec::new(),
            )
            .unwrap()
            .unwrap();
            assert_eq!(back, b"license=old-license-0000\n# edited\n");
        }
        // The sealed block still tells our block from an edited one.
        let block = &sealed.files[1].ownership;
        let ours = format!("[PHP]\n; {MARKER}\nwhatap.license={LICENSE}\n; {MARKER}\n");
        let theirs = ours.replace(LICENSE, "someone-elses-key-1234");
        for (file, intact) in [(ours, true), (theirs, false)] {
            let result = remove_ours(
                Path::new("p"),
                file.as_bytes(),
                block,
                None,
                &mut Vec::new(),
            );
            assert_eq!(result.is_ok(), intact, "{file}");
        }
    }
}
