//! The state dir (`--state-dir`, default /var/lib/whatap): one type owns its layout, and one
//! transaction (lock, ledger, apply-and-record, forget) serves install, uninstall and
//! `doctor --fix`.
//!
//! ```text
//! <state>/lock           flock: one whatap at a time per state dir
//! <state>/ledger.json    what each install changed (apply::ledger)
//! <state>/backups/<sha>  the original bytes of every file an install modified
//! <state>/cache/agents/  downloaded and unpacked agent archives (agent::unpacked)
//! <state>/cache/probes.json  what `php -i` told, per binary (detect::cache; read-only runs)
//! ```

use super::ledger::{InstallKey, Ledger};
use super::lock::{self, LockGuard};
use super::{apply, atomic};
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::{Plan, Validation};
use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    pub fn new(root: PathBuf) -> StateDir {
        StateDir { root }
    }

    pub fn exists(&self) -> bool {
        self.root.exists()
    }

    pub fn lock_file(&self) -> PathBuf {
        self.root.join("lock")
    }

    pub fn ledger_file(&self) -> PathBuf {
        self.root.join("ledger.json")
    }

    pub fn backups(&self) -> PathBuf {
        self.root.join("backups")
    }

    /// Where the original `bytes` of a modified file are kept.
    pub fn backup_of(&self, bytes: &[u8]) -> PathBuf {
        self.backups().join(atomic::sha256_hex(bytes))
    }

    pub fn agent_cache(&self) -> PathBuf {
        self.root.join("cache/agents")
    }

    /// Probe results for `detect` and `doctor`: used while the state dir exists, never
    /// creating it (a read-only run leaves no state dir behind).
    pub fn probe_cache(&self) -> crate::detect::cache::ProbeCache {
        crate::detect::cache::ProbeCache::open(self.root.join("cache/probes.json"), &self.root)
    }

    /// Creates the state dir as 0700, and tightens one that is looser: backups and the ledger
    /// hold license keys.
    pub fn ensure_private(&self) -> Result<()> {
        ensure_private_dir(&self.root)
    }

    pub fn load_ledger(&self) -> Result<Ledger> {
        Ledger::load(&self.ledger_file())
    }

    pub fn save_ledger(&self, ledger: &Ledger) -> Result<()> {
        self.ensure_private()?;
        ledger.save(&self.ledger_file())
    }

    /// A backup's bytes, refused when they no longer hash to its name.
    pub fn read_backup(&self, name: &str) -> Result<Vec<u8>> {
        let path = self.backups().join(name);
        let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
        if atomic::sha256_hex(&bytes) != name {
            return Err(Error::refused(
                msg!("backup-checksum-mismatch", path = path.display()),
                msg!("backup-checksum-mismatch-hint"),
            ));
        }
        Ok(bytes)
    }

    pub fn write_backup(&self, bytes: &[u8]) -> Result<()> {
        ensure_private_dir(&self.backups())?;
        let path = self.backup_of(bytes);
        let name = atomic::sha256_hex(bytes);
        if path.exists() && self.read_backup(&name).is_ok() {
            return Ok(());
        }
        atomic::write(
            &path,
            &atomic::WriteSpec {
                bytes,
                expect: fs::read(&path).ok().as_deref(),
                create_mode: 0o600,
                create_owner: None,
                validation: Validation::None,
            },
        )
    }

    /// Deletes backups no ledger entry points at any more.
    fn collect_garbage(&self, keep: &[String]) {
        let Ok(entries) = fs::read_dir(self.backups()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !keep.contains(&name) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// Starts a transaction: the lock when `changing` (a dry run or a no-op takes none and
    /// writes nothing), then the ledger.
    pub fn begin(&self, changing: bool) -> Result<Transaction<'_>> {
        let lock = if changing {
            self.ensure_private()?;
            let sweep = [self.root.clone(), self.backups()];
            Some(lock::acquire(&self.lock_file(), &sweep)?)
        } else {
            None
        };
        Ok(Transaction {
            state: self,
            _lock: lock,
            ledger: self.load_ledger()?,
        })
    }
}

/// The ledger under the state dir's lock. Every change to it is saved, or the ledger on disk
/// and in memory is put back as it was.
pub struct Transaction<'a> {
    state: &'a StateDir,
    _lock: Option<LockGuard>,
    ledger: Ledger,
}

impl Transaction<'_> {
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Records the plan under `key`, then applies it; on failure nothing stays changed, the
    /// ledger included. The ledger is written first: a crash mid-apply still leaves a way back.
    pub fn apply_recorded(&mut self, plan: &Plan, key: &InstallKey<'_>) -> Result<()> {
        let state = self.state;
        self.change_ledger(
            |ledger| ledger.record_install(key, plan),
            |_| apply(plan, state, || Ok(())),
        )
    }

    /// Applies an uninstall's reversal; forgetting the install is its commit, so when the
    /// ledger cannot be saved the files are put back as installed.
    pub fn apply_forgetting(&mut self, plan: &Plan, id: &str) -> Result<()> {
        let state = self.state;
        let ledger = &mut self.ledger;
        apply(plan, state, || {
            save_changed(state, ledger, |l| l.forget_install(id), |_| Ok(()))
        })?;
        state.collect_garbage(&self.ledger.referenced_backups());
        Ok(())
    }

    /// Forgets an install whose files are all back to their originals already.
    pub fn forget(&mut self, id: &str) -> Result<()> {
        self.change_ledger(|l| l.forget_install(id), |_| Ok(()))?;
        self.state
            .collect_garbage(&self.ledger.referenced_backups());
        Ok(())
    }

    fn change_ledger(
        &mut self,
        change: impl FnOnce(&mut Ledger),
        then: impl FnOnce(&Ledger) -> Result<()>,
    ) -> Result<()> {
        save_changed(self.state, &mut self.ledger, change, then)
    }
}

/// Changes the ledger, saves it and runs `then`; when the save or `then` fails, the old
/// ledger is saved again (also after a save that failed past its rename) and kept in memory.
fn save_changed(
    state: &StateDir,
    ledger: &mut Ledger,
    change: impl FnOnce(&mut Ledger),
    then: impl FnOnce(&Ledger) -> Result<()>,
) -> Result<()> {
    let before = ledger.clone();
    change(ledger);
    let result = state.save_ledger(ledger).and_then(|()| then(ledger));
    if let Err(error) = result {
        state.save_ledger(&before)?;
        *ledger = before;
        return Err(error);
    }
    Ok(())
}

/// Creates `dir` as 0700 (and its parents), and tightens one that is looser; refuses one
/// owned by someone else.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io(dir, e))?;
    }
    let meta = fs::metadata(dir).map_err(|e| Error::io(dir, e))?;
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        // Whoever owns it could plant a ledger that makes uninstall "restore" any file.
        return Err(Error::refused(
            msg!(
                "state-dir-foreign-owner",
                path = dir.display(),
                owner = meta.uid(),
                me = me
            ),
            msg!("state-dir-foreign-owner-hint"),
        ));
    }
    if meta.mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(dir, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_dir_owned_by_someone_else_is_refused() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return; // only root can hand a directory to another user
        }
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("state");
        let state = StateDir::new(root.clone());
        fs::create_dir(&root).unwrap();
        std::os::unix::fs::chown(&root, Some(4242), Some(4242)).unwrap();
        assert!(matches!(state.ensure_private(), Err(Error::Refused { .. })));
        assert!(state.begin(true).is_err());
    }

    #[test]
    fn state_dir_is_tightened_to_0700() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("state");
        let state = StateDir::new(root.clone());
        fs::create_dir(&root).unwrap();
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
        state.ensure_private().unwrap();
        state.write_backup(b"license=x\n").unwrap();
        for path in [root, state.backups()] {
            assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o700);
        }
        let backup = state.backup_of(b"license=x\n");
        assert_eq!(fs::metadata(backup).unwrap().mode() & 0o777, 0o600);
    }
}
