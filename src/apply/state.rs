//! The state dir (`--state-dir`, default /var/lib/whatap): one type owns its layout, and one
//! transaction (locks, plan, ledger, apply-and-record, forget) serves install, uninstall and
//! `doctor --fix`.
//!
//! ```text
//! <state>/lock           flock: one whatap at a time per state dir
//! <state>/ledger.json    what each install changed (apply::ledger)
//! <state>/backups/<sha>  the original bytes of every file an install modified
//! <state>/temp-journal   temp files a run is creating (apply::atomic::Temps)
//! <state>/cache/agents/  downloaded and unpacked agent archives (agent::unpacked)
//! <state>/cache/probes.json  what `php -i` told, per binary (detect::cache; read-only runs)
//! <state>/history.jsonl  every change applied, appended (apply::history)
//! ```
//!
//! Root trusts nothing in it that someone else could have written: the state dir and every
//! directory above it must belong to root or the running user and not be writable by others
//! (a sticky directory such as /tmp is fine above it); the state dir itself, the ledger, the
//! lock and every backup must belong to the running user and not be group- or world-writable.
//! Anything else is refused (exit 3) with its path; nothing whatap did not create is chmodded.
//! State files are opened without following symlinks, and read only up to a size cap.

use super::atomic::{self, Temps, WriteSpec};
use super::dir::{Dir, Meta};
use super::history;
use super::ledger::{InstallKey, Ledger};
use super::lock::{self, LockScope, TargetLocks};
use super::{apply, checkpoint, failed};
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::{Plan, Validation};
use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};

const LOCK: &str = "lock";
pub const LEDGER: &str = "ledger.json";
/// Every change applied, one JSON line each, appended (`apply::history`).
pub const HISTORY: &str = "history.jsonl";
/// The history grows by a line per change: this is decades of changes.
const MAX_HISTORY: u64 = 64 * 1024 * 1024;
const BACKUPS: &str = "backups";
/// A ledger is a few KiB per install: anything near this is not one.
const MAX_LEDGER: u64 = 16 * 1024 * 1024;
/// How many times a plan is made again because it needed a directory not locked yet.
const PLAN_ROUNDS: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// `root` is absolute (settings made it so): the same state dir from any working directory.
    pub fn new(root: PathBuf) -> StateDir {
        StateDir { root }
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Where the original `bytes` of a modified file are kept.
    pub fn backup_of(&self, bytes: &[u8]) -> PathBuf {
        self.root.join(BACKUPS).join(atomic::sha256_hex(bytes))
    }

    pub fn history_file(&self) -> PathBuf {
        self.root.join(HISTORY)
    }

    /// The ledger as it is now, read without the lock; empty when there is no state dir.
    pub fn read_ledger(&self) -> Result<Ledger> {
        self.peek_ledger()
    }

    /// The bytes of a state file (`LEDGER`, `HISTORY`) read as the ledger is (a private
    /// regular file of ours, no symlink followed, size capped); None when it does not exist.
    pub fn read_file(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let Some(root) = self.open(false)? else {
            return Ok(None);
        };
        let path = root.join(OsStr::new(name));
        match root.read(OsStr::new(name), MAX_HISTORY.max(MAX_LEDGER))? {
            Some((bytes, meta)) => {
                check_private_file(&path, &meta)?;
                Ok(Some(bytes))
            }
            None => Ok(None),
        }
    }

    pub fn agent_cache(&self) -> PathBuf {
        self.root.join("cache/agents")
    }

    /// What `--install-package` gives the package manager (sources list, key, package lists).
    pub fn package_cache(&self) -> PathBuf {
        self.root.join("cache/packages")
    }

    /// Probe results for `detect` and `doctor`: used while the state dir exists and passes the
    /// same checks as for install (see above), never creating it (a read-only run leaves no
    /// state dir behind).
    pub fn probe_cache(&self) -> crate::detect::cache::ProbeCache {
        match self.open(false) {
            Ok(Some(_)) => crate::detect::cache::ProbeCache::open(
                self.root.join("cache/probes.json"),
                &self.root,
            ),
            _ => crate::detect::cache::ProbeCache::off(),
        }
    }

    /// Creates the state dir (0700) if it is missing, and checks that it can be trusted.
    pub fn ensure_private(&self) -> Result<()> {
        self.open(true).map(drop)
    }

    /// The state dir, opened without following symlinks after checking every directory above
    /// it; created 0700 (with any missing parents) when `create`, else None when absent.
    fn open(&self, create: bool) -> Result<Option<Dir>> {
        let (Some(parent), Some(name)) = (self.root.parent(), self.root.file_name()) else {
            return Err(Error::usage(
                msg!("state-dir-invalid", path = self.root.display()),
                msg!("state-dir-invalid-hint"),
            ));
        };
        let existing = parent
            .ancestors()
            .find(|a| a.exists())
            .unwrap_or(Path::new("/"));
        // Symlinks above the state dir are resolved first, then every real directory on the
        // way is checked: one someone else owns is refused, wherever a link pointed.
        let real = std::fs::canonicalize(existing).map_err(|e| Error::io(existing, e))?;
        let mut dir = Dir::open_checked(&real, check_ancestor)?;
        let missing = parent.strip_prefix(existing).unwrap_or(Path::new(""));
        if !create && !missing.as_os_str().is_empty() {
            return Ok(None);
        }
        for component in missing.iter() {
            dir = make_private_dir(&dir, component, check_ancestor)?;
        }
        if !create && dir.entry(name)?.is_none() {
            return Ok(None);
        }
        // The state dir itself is never a symlink: `open_dir` refuses one.
        make_private_dir(&dir, name, check_private).map(Some)
    }

    /// A backup's bytes (uninstall plans from them), refused unless they still hash to its
    /// name. Read without the lock: a backup is never changed once written.
    pub fn read_backup(&self, name: &str) -> Result<Vec<u8>> {
        let root = self
            .open(false)?
            .ok_or_else(|| Error::io(&self.root, std::io::ErrorKind::NotFound.into()))?;
        let backups = root.open_dir(OsStr::new(BACKUPS))?;
        check_private(backups.path(), &backups.meta()?)?;
        read_backup(&backups, name)
    }

    /// The ledger without taking the lock (a dry run, or the first plan before the locks);
    /// an empty one when the state dir does not exist, which is not created.
    fn peek_ledger(&self) -> Result<Ledger> {
        match self.open(false)? {
            Some(root) => load_ledger(&root),
            None => Ok(Ledger::new()),
        }
    }

    /// Plans under the locks: `make` builds a plan from the ledger, `writes` says what it
    /// writes (None: nothing, not even the ledger). The first plan is made without locks, so
    /// bad input is refused before anything, the state dir included, is created; a dry run or a
    /// plan that writes nothing stops there. Otherwise every directory the plan writes in is
    /// locked, then the state dir, and the plan is made again from the ledger under those
    /// locks (again, if it now writes somewhere else): two runs on the same files serialize
    /// whatever state dir each uses, and the plan applied never predates another run's writes.
    pub fn transaction<T>(
        &self,
        dry_run: bool,
        mut make: impl FnMut(&Ledger) -> Result<T>,
        writes: impl Fn(&T) -> Option<&Plan>,
    ) -> Result<(Transaction<'_>, T)> {
        let ledger = self.peek_ledger()?;
        let mut value = make(&ledger)?;
        let mut transaction = Transaction {
            state: self,
            ledger,
            locked: None,
        };
        if dry_run || writes(&value).is_none() {
            return Ok((transaction, value));
        }
        let first = writes(&value).map(files_written).unwrap_or_default();
        let mut targets = TargetLocks::default();
        let nothing = Plan::default();
        for _ in 0..PLAN_ROUNDS {
            let plan = match writes(&value) {
                Some(plan) => plan,
                None if transaction.locked.is_some() => return Ok((transaction, value)),
                None => &nothing,
            };
            // A file the first plan did not name: a directory on its way was swapped (for a
            // symlink, say) while this run waited for the locks.
            if let Some(moved) = files_written(plan).into_iter().find(|p| !first.contains(p)) {
                let dir = moved.parent().unwrap_or(&moved).to_path_buf();
                return Err(Error::refused(
                    msg!("apply-dir-replaced", path = dir.display()),
                    msg!("apply-dir-replaced-hint"),
                ));
            }
            let grew = targets.acquire(plan)?;
            if let (false, Some(locked)) = (grew, transaction.locked.as_mut()) {
                locked.targets = targets;
                return Ok((transaction, value));
            }
            if transaction.locked.is_none() {
                let locked = self.lock()?;
                transaction.ledger = load_ledger(&locked.root)?;
                transaction.locked = Some(locked);
            }
            value = make(&transaction.ledger)?;
        }
        Err(Error::refused(
            msg!("plan-unstable", path = self.root.display()),
            msg!("plan-unstable-hint"),
        ))
    }

    /// Takes the state dir's lock (creating the state dir) and removes a killed run's temp files.
    fn lock(&self) -> Result<Locked> {
        let root = self.open(true)?.expect("created");
        let (lock, created) = root.open_or_create(OsStr::new(LOCK), 0o600)?;
        let path = root.join(OsStr::new(LOCK));
        if created {
            super::dir::set_owner_and_mode(&lock, None, 0o600).map_err(|e| Error::io(&path, e))?;
        }
        let meta = Meta::of(&lock).map_err(|e| Error::io(&path, e))?;
        check_private_file(&path, &meta)?;
        lock::wait_for(&lock, &path, LockScope::Host)?;
        let temps = Temps::recover(root.try_clone()?)?;
        Ok(Locked {
            root,
            _lock: lock,
            targets: TargetLocks::default(),
            temps,
        })
    }
}

/// The files (and symlinks) a plan writes, by their real paths.
fn files_written(plan: &Plan) -> Vec<PathBuf> {
    plan.edits
        .iter()
        .map(|e| e.path.clone())
        .chain(plan.links.iter().map(|l| l.path.clone()))
        .collect()
}

/// The directory `name` in `parent`: created 0700 (exactly, whatever the umask: ours to set),
/// or, when it exists, opened without following a symlink and checked with `check`.
fn make_private_dir(
    parent: &Dir,
    name: &OsStr,
    check: fn(&Path, &Meta) -> Result<()>,
) -> Result<Dir> {
    if parent.entry(name)?.is_none() {
        match parent.mkdir(name, 0o700) {
            Ok(()) => {
                let dir = parent.open_dir(name)?;
                super::dir::set_owner_and_mode(dir.as_fd(), None, 0o700)
                    .map_err(|e| Error::io(dir.path(), e))?;
                return Ok(dir);
            }
            // Created meanwhile: checked like any existing one.
            Err(_) if parent.entry(name)?.is_some() => {}
            Err(e) => return Err(e),
        }
    }
    let dir = parent.open_dir(name)?;
    check(dir.path(), &dir.meta()?)?;
    Ok(dir)
}

/// What a transaction holds while it may write: the locks and the state dir's handle.
pub struct Locked {
    root: Dir,
    _lock: File,
    pub(super) targets: TargetLocks,
    pub(super) temps: Temps,
}

impl Locked {
    /// `backups/`, created 0700 when missing.
    fn backups(&self) -> Result<Dir> {
        make_private_dir(&self.root, OsStr::new(BACKUPS), check_private)
    }

    /// Writes the original bytes of every file the plan changes, before anything records or
    /// changes them.
    fn write_backups(&self, plan: &Plan) -> Result<()> {
        let originals: Vec<&[u8]> = plan
            .edits
            .iter()
            .filter(|e| e.action() != crate::plan::Action::Unchanged)
            .filter_map(|e| e.before.as_deref())
            .chain(
                plan.run
                    .iter()
                    .flat_map(|s| &s.rewrites)
                    .filter_map(|r| r.before.as_deref()),
            )
            .collect();
        if !originals.is_empty() {
            let backups = self.backups()?;
            for bytes in originals {
                self.write_backup(&backups, bytes)?;
            }
        }
        checkpoint::step("apply: backups written")
    }

    fn write_backup(&self, backups: &Dir, bytes: &[u8]) -> Result<()> {
        let sha = atomic::sha256_hex(bytes);
        let name = OsStr::new(&sha);
        let current = match read_backup(backups, &sha) {
            Ok(_) => return Ok(()),
            Err(_) => backups
                .read(name, crate::plan::target::MAX_BINARY_FILE)
                .ok()
                .flatten(),
        };
        let current = current.as_ref().map(|(b, _)| b.as_slice());
        self.write_private(backups, name, bytes, current)
    }

    fn save_ledger(&self, ledger: &Ledger) -> Result<()> {
        let name = OsStr::new(LEDGER);
        let current = self.root.read(name, MAX_LEDGER)?;
        let mut bytes = ledger.to_bytes()?;
        bytes.push(b'\n');
        let current = current.as_ref().map(|(b, _)| b.as_slice());
        self.write_private(&self.root, name, &bytes, current)
    }

    /// Appends `entry` to the history (created 0600), opened without following a symlink and
    /// checked like the ledger before a byte is written.
    fn append_history(&self, entry: &history::Entry) -> Result<()> {
        let name = OsStr::new(HISTORY);
        let path = self.root.join(name);
        let mut file = self.root.append(name, 0o600)?;
        check_private_file(&path, &Meta::of(&file).map_err(|e| Error::io(&path, e))?)?;
        history::write_line(&mut file, &path, entry)
    }

    /// A state file written whole (0600 when new), replacing `current`.
    fn write_private(
        &self,
        dir: &Dir,
        name: &OsStr,
        bytes: &[u8],
        current: Option<&[u8]>,
    ) -> Result<()> {
        let spec = WriteSpec {
            bytes,
            expect: current,
            create_mode: 0o600,
            create_owner: None,
            validation: Validation::None,
        };
        atomic::write(dir, name, &spec, &self.temps, &mut None)
    }

    /// Deletes backups no ledger entry points at any more.
    fn collect_garbage(&self, ledger: &Ledger) {
        let keep = ledger.referenced_backups();
        let Ok(backups) = self.root.open_dir(OsStr::new(BACKUPS)) else {
            return;
        };
        for name in backups.names().unwrap_or_default() {
            let is_backup = name.to_str().is_some_and(is_backup_name);
            if is_backup && !keep.iter().any(|k| OsStr::new(k) == name) {
                let _ = backups.remove_file(&name);
            }
        }
    }
}

/// A backup's name: the sha256 of its bytes, and nothing a planted ledger could turn into a
/// path elsewhere.
fn is_backup_name(name: &str) -> bool {
    name.len() == 64
        && name
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// A backup's bytes: a private regular file of ours that still hashes to its name.
fn read_backup(backups: &Dir, name: &str) -> Result<Vec<u8>> {
    let path = backups.join(OsStr::new(name));
    if !is_backup_name(name) {
        return Err(checksum_mismatch(&path));
    }
    let (bytes, meta) = backups
        .read(OsStr::new(name), crate::plan::target::MAX_BINARY_FILE)?
        .ok_or_else(|| Error::io(&path, std::io::ErrorKind::NotFound.into()))?;
    check_private_file(&path, &meta)?;
    if atomic::sha256_hex(&bytes) != name {
        return Err(checksum_mismatch(&path));
    }
    Ok(bytes)
}

fn checksum_mismatch(path: &Path) -> Error {
    Error::refused(
        msg!("backup-checksum-mismatch", path = path.display()),
        msg!("backup-checksum-mismatch-hint"),
    )
}

/// The ledger in the state dir (empty when there is none yet): a private regular file of ours,
/// not a symlink, FIFO or directory, at most `MAX_LEDGER` bytes.
fn load_ledger(root: &Dir) -> Result<Ledger> {
    let path = root.join(OsStr::new(LEDGER));
    match root.read(OsStr::new(LEDGER), MAX_LEDGER)? {
        Some((bytes, meta)) => {
            check_private_file(&path, &meta)?;
            Ledger::parse(&bytes, &path)
        }
        None => Ok(Ledger::new()),
    }
}

fn euid() -> u32 {
    crate::os::euid()
}

fn foreign_owner(path: &Path, owner: u32) -> Error {
    Error::refused(
        msg!(
            "state-dir-foreign-owner",
            path = path.display(),
            owner = owner,
            me = euid()
        ),
        msg!("state-dir-foreign-owner-hint"),
    )
}

fn writable_by_others(path: &Path, meta: &Meta) -> Error {
    Error::refused(
        msg!(
            "state-writable-by-others",
            path = path.display(),
            mode = format!("{:04o}", meta.perm())
        ),
        msg!("state-writable-by-others-hint"),
    )
}

/// The state dir or `backups/`: ours, and no one else may add or swap entries in it.
fn check_private(path: &Path, meta: &Meta) -> Result<()> {
    if meta.uid != euid() {
        // Whoever owns it could plant a ledger that makes uninstall "restore" any file.
        return Err(foreign_owner(path, meta.uid));
    }
    if meta.perm() & 0o022 != 0 {
        return Err(writable_by_others(path, meta));
    }
    Ok(())
}

/// The ledger, the lock or a backup: a regular file that is ours and writable by us alone.
fn check_private_file(path: &Path, meta: &Meta) -> Result<()> {
    crate::plan::target::check_kind(path, meta.is_file(), meta.nlink, meta.len, None)?;
    check_private(path, meta)
}

/// A directory above the state dir: root's or ours, and writable by no one else unless it is
/// sticky (others may add entries to /tmp, but not rename or remove ours).
fn check_ancestor(path: &Path, meta: &Meta) -> Result<()> {
    if meta.uid != 0 && meta.uid != euid() {
        return Err(foreign_owner(path, meta.uid));
    }
    if meta.perm() & 0o022 != 0 && meta.perm() & 0o1000 == 0 {
        return Err(writable_by_others(path, meta));
    }
    Ok(())
}

/// The ledger, and (while it may write) the locks. Every change to the ledger is saved, or
/// the ledger on disk and in memory is put back as it was.
pub struct Transaction<'a> {
    state: &'a StateDir,
    ledger: Ledger,
    locked: Option<Locked>,
}

impl Transaction<'_> {
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    #[cfg(test)]
    pub(super) fn locked(&self) -> Result<&Locked> {
        self.locked.as_ref().ok_or_else(|| self.unlocked())
    }

    /// The locks and the ledger, to change both.
    fn parts(&mut self) -> Result<(&Locked, &mut Ledger)> {
        match &self.locked {
            Some(locked) => Ok((locked, &mut self.ledger)),
            None => Err(self.unlocked()),
        }
    }

    fn unlocked(&self) -> Error {
        Error::Internal(format!(
            "{}: writing without the lock",
            self.state.root.display()
        ))
    }

    /// Backs up the originals, records the plan under `key`, then applies it; on failure
    /// nothing stays changed, the ledger included (exit 4, or 3 for a refusal). The ledger is
    /// written before any file: a crash mid-apply still leaves a way back, and every backup it
    /// names exists.
    pub fn apply_recorded(&mut self, plan: &Plan, key: &InstallKey<'_>) -> Result<()> {
        let (locked, ledger) = self.parts()?;
        let result = locked.write_backups(plan).and_then(|()| {
            save_changed(
                locked,
                ledger,
                |ledger| ledger.record_install(key, plan),
                |ledger| {
                    apply(plan, locked, |rewritten| {
                        // What the plan's programs wrote is known only now: recorded before
                        // the apply counts as done, so uninstall can tell their work from a
                        // person's.
                        if rewritten.is_empty() {
                            return Ok(());
                        }
                        ledger.record_rewritten(rewritten);
                        locked.save_ledger(ledger)
                    })
                },
            )
        });
        if result.is_err() {
            locked.collect_garbage(ledger);
        }
        self.remember(key.id, plan, result.map_err(failed))
    }

    /// Applies an uninstall's reversal; forgetting the install is its commit, so when the
    /// ledger cannot be saved the files are put back as installed.
    pub fn apply_forgetting(&mut self, plan: &Plan, id: &str) -> Result<()> {
        let (locked, ledger) = self.parts()?;
        let outcome = apply(plan, locked, |_| {
            save_changed(locked, ledger, |l| l.forget_install(id), |_| Ok(()))
        });
        if outcome.is_ok() {
            locked.collect_garbage(ledger);
        }
        self.remember(id, plan, outcome)?;
        Ok(())
    }

    /// Appends what applying `plan` did to the history, then hands `outcome` on. The change
    /// is done (or rolled back) by now: a history that cannot be written is reported, as an
    /// I/O error naming the file, after the fact.
    fn remember(&self, id: &str, plan: &Plan, outcome: Result<()>) -> Result<()> {
        let entry = history::Entry::of(id, plan, &outcome);
        let written = match &self.locked {
            Some(locked) => locked.append_history(&entry),
            None => Err(self.unlocked()),
        };
        outcome.and(written)
    }

    /// Forgets an install whose files are all back to their originals already.
    pub fn forget(&mut self, id: &str) -> Result<()> {
        let (locked, ledger) = self.parts()?;
        save_changed(locked, ledger, |l| l.forget_install(id), |_| Ok(())).map_err(failed)?;
        locked.collect_garbage(ledger);
        Ok(())
    }
}

/// Changes the ledger, saves it and runs `then`; when `then` fails (or the save failed past
/// its rename), the old ledger is saved again and kept in memory.
fn save_changed(
    locked: &Locked,
    ledger: &mut Ledger,
    change: impl FnOnce(&mut Ledger),
    then: impl FnOnce(&mut Ledger) -> Result<()>,
) -> Result<()> {
    let before = ledger.clone();
    change(ledger);
    let result = locked.save_ledger(ledger).and_then(|()| then(ledger));
    if let Err(error) = result {
        *ledger = before;
        // When even this fails (a full disk), the ledger on disk still names only backups
        // that exist and files that are back: the next uninstall finds them as they were.
        let _ = locked.save_ledger(ledger);
        return Err(error);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn is_root() -> bool {
        euid() == 0
    }

    fn begin(state: &StateDir) -> Result<Transaction<'_>> {
        state
            .transaction(false, |_| Ok(Plan::default()), |p: &Plan| Some(p))
            .map(|(t, _)| t)
    }

    #[test]
    fn a_state_dir_owned_by_someone_else_is_refused() {
        if !is_root() {
            return; // only root can hand a directory to another user
        }
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("state");
        let state = StateDir::new(root.clone());
        fs::create_dir(&root).unwrap();
        std::os::unix::fs::chown(&root, Some(4242), Some(4242)).unwrap();
        assert!(matches!(state.ensure_private(), Err(Error::Refused { .. })));
        assert!(begin(&state).is_err());
    }

    #[test]
    fn a_state_dir_is_created_0700_and_a_writable_one_refused_not_chmodded() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("new/state");
        let state = StateDir::new(root.clone());
        let t = begin(&state).unwrap();
        t.locked()
            .unwrap()
            .write_backup(&t.locked().unwrap().backups().unwrap(), b"license=x\n")
            .unwrap();
        for path in [root.clone(), root.join("backups")] {
            assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o700);
        }
        let backup = state.backup_of(b"license=x\n");
        assert_eq!(fs::metadata(backup).unwrap().mode() & 0o777, 0o600);
        drop(t);
        for mode in [0o770, 0o707, 0o1777] {
            fs::set_permissions(&root, fs::Permissions::from_mode(mode)).unwrap();
            assert!(
                matches!(begin(&state), Err(Error::Refused { .. })),
                "{mode:o}"
            );
            assert_eq!(fs::metadata(&root).unwrap().mode() & 0o7777, mode);
        }
        // Readable by others is theirs to decide: used as it is.
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
        begin(&state).unwrap();
        assert_eq!(fs::metadata(&root).unwrap().mode() & 0o7777, 0o755);
    }

    #[test]
    fn backup_names_from_a_ledger_never_leave_backups() {
        assert!(is_backup_name(&atomic::sha256_hex(b"x")));
        for bad in ["../../etc/shadow", "", &"A".repeat(64), &"0".repeat(63)] {
            assert!(!is_backup_name(bad), "{bad}");
        }
    }
}
