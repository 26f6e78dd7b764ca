//! The uninstall plan, built from the ledger and the files as they are now:
//! - a file that is exactly what we wrote gets its original bytes back (or is deleted);
//! - a file a person edited since loses only our part (block or keys) and keeps their edits;
//! - a block that was itself altered is refused, naming the file and line.

use super::{
    Edit, KeyValue, ModeChange, Ownership, Plan, RegChange, RegValue, RunStep, Undo, Validation,
};
use crate::apply::atomic::sha256_hex;
use crate::apply::ledger::{FileRecord, InstallRecord, Ledger, RegRecord, seal_text};
use crate::apply::registry;
use crate::apply::state::StateDir;
use crate::edit::{conf, lines, marker, xml};
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::Action;
use std::fs;
use std::path::Path;

pub struct Reversal {
    pub plan: Plan,
    pub warnings: Vec<String>,
}

pub fn plan_uninstall(
    ledger: &Ledger,
    install: &InstallRecord,
    state: &StateDir,
) -> Result<Reversal> {
    // Run before the files go back: npm removing its package still sees the package.json that
    // lists it. A system package goes after: it owns files the ledger restores.
    let (after, before): (Vec<&Undo>, Vec<&Undo>) = install
        .on_uninstall
        .iter()
        .partition(|u| matches!(u, Undo::RunAfter { .. }));
    let mut plan = Plan {
        run: before.into_iter().filter_map(undo_step).collect(),
        run_after: after.into_iter().filter_map(undo_step).collect(),
        ..Plan::default()
    };
    let mut warnings = Vec::new();
    for path in install.paths.iter().rev() {
        let others = ledger.other_users(path, &install.id);
        if !others.is_empty() {
            warnings.push(msg!(
                "uninstall-kept-shared",
                path = path.display(),
                others = others.join(", ")
            ));
            continue;
        }
        let Some(record) = ledger.file(path) else {
            continue;
        };
        if let Some(edit) = reverse_file(record, state, &mut warnings)? {
            plan.edits.push(edit);
        }
    }
    for change in &install.modes {
        use crate::os::MetadataExt;
        // Only a mode still as we set it goes back; a person's later chmod is theirs.
        if fs::metadata(&change.path).is_ok_and(|m| m.mode() & 0o7777 == change.after) {
            plan.modes.push(ModeChange {
                path: change.path.clone(),
                before: change.after,
                after: change.before,
            });
        }
    }
    for record in &install.registry {
        plan.registry
            .extend(reverse_registry(record, &mut warnings)?);
    }
    plan.remove_links = install
        .links_created
        .iter()
        .filter(|l| l.is_in_place())
        .cloned()
        .collect();
    plan.remove_dirs = install.dirs_created.iter().rev().cloned().collect();
    Ok(Reversal { plan, warnings })
}

/// What uninstall runs for a recorded undo step; None when there is nothing to do (the agent
/// no longer runs). Stopping is best effort: a process gone by then is not a failure.
fn undo_step(undo: &Undo) -> Option<RunStep> {
    match undo {
        Undo::Run { step } | Undo::RunAfter { step } => Some(step.clone()),
        Undo::StopAgent { name, cwd } => {
            let pids = crate::detect::process::running_in(name, cwd);
            if pids.is_empty() {
                return None;
            }
            let mut args = vec!["-TERM".to_string()];
            args.extend(pids.iter().map(u32::to_string));
            Some(RunStep {
                args,
                ..RunStep::new("/bin/kill", &[]).best_effort()
            })
        }
    }
}

/// A registry value back to its original, exactly (type and bytes; deleted when it was
/// absent) while it is what install wrote; when a person changed it since, only the strings
/// install added come out.
fn reverse_registry(record: &RegRecord, warnings: &mut Vec<String>) -> Result<Option<RegChange>> {
    let change = |after: Option<RegValue>, now: RegValue| RegChange {
        key: record.key.clone(),
        name: record.name.clone(),
        before: Some(now),
        after,
    };
    let path = format!("{}\\{}", record.key, record.name);
    let Some(now) = registry::read(&record.key, &record.name)? else {
        if record.original.is_some() {
            warnings.push(msg!("uninstall-file-gone", path = path));
        }
        return Ok(None);
    };
    if now == record.written {
        return Ok(Some(change(record.original.clone(), now)));
    }
    let Some(strings) = now.strings() else {
        warnings.push(msg!("uninstall-file-changed", path = path));
        return Ok(None);
    };
    let kept: Vec<String> = strings
        .iter()
        .filter(|s| !record.added.contains(s))
        .cloned()
        .collect();
    if kept == strings {
        return Ok(None);
    }
    Ok(Some(change(Some(RegValue::multi_sz(&kept)), now)))
}

fn edit(record: &FileRecord, before: Vec<u8>, after: Option<Vec<u8>>) -> Edit {
    Edit {
        path: record.path.clone(),
        via: None,
        before: Some(before),
        after,
        create_mode: 0o644,
        create_owner: None,
        validation: Validation::None,
        ownership: record.ownership.clone(),
        binary: matches!(record.ownership, Ownership::Whole),
    }
}

fn reverse_file(
    record: &FileRecord,
    state: &StateDir,
    warnings: &mut Vec<String>,
) -> Result<Option<Edit>> {
    let path = &record.path;
    let Some(current) = super::target::read_regular(path, Some(super::target::MAX_BINARY_FILE))?
    else {
        if record.action == Action::Modified {
            warnings.push(msg!("uninstall-file-gone", path = path.display()));
        }
        // Nothing to write, but its directory is locked and swept like the others'.
        let mut absent = edit(record, Vec::new(), None);
        absent.before = None;
        return Ok(Some(absent));
    };
    let sha = sha256_hex(&current);
    if Some(&sha) == record.original_sha256.as_ref() {
        // Already as it was; kept in the plan so its directory is locked and swept of any
        // temp file a killed install left next to it.
        return Ok(Some(edit(record, current.clone(), Some(current))));
    }
    if sha == record.written_sha256 {
        let original = match &record.backup {
            Some(name) => Some(state.read_backup(name)?),
            None => None,
        };
        return Ok(Some(edit(record, current, original)));
    }
    // A person changed the file after we wrote it: take out only what is ours.
    if record.ownership == Ownership::Whole {
        warnings.push(msg!("uninstall-file-changed", path = path.display()));
        return Ok(None);
    }
    // A sealed value from before install (the license) comes back from the backup.
    let original = match (&record.backup, has_sealed_before(&record.ownership)) {
        (Some(name), true) => Some(state.read_backup(name)?),
        _ => None,
    };
    let Some(after) = remove_ours(
        path,
        &current,
        &record.ownership,
        original.as_deref(),
        warnings,
    )?
    else {
        return Ok(None);
    };
    let after = if after.is_empty() && record.action == Action::Created {
        None
    } else {
        Some(after)
    };
    Ok(Some(edit(record, current, after)))
}

fn has_sealed_before(ownership: &Ownership) -> bool {
    matches!(ownership, Ownership::Keys { keys }
        if keys.iter().any(|k| matches!(k.before, Some(KeyValue::Sealed { .. }))))
}

/// Where the block at `span` in `current` differs from the one recorded (`text`, secrets
/// compared by hash): the 1-based line, or None when it is exactly ours.
pub fn block_edited_at(
    current: &[u8],
    span: marker::BlockSpan,
    style: marker::MarkerStyle,
    text: &str,
) -> Option<usize> {
    let eol = crate::edit::Eol::detect(current, crate::edit::Eol::Lf);
    let inner = marker::block_inner(current, span);
    let ours =
        String::from_utf8_lossy(&marker::render_block(style, &inner, eol)).replace("\r\n", "\n");
    let (ours, text) = (seal_text(&ours), seal_text(text));
    (ours != text).then(|| span.start + 1 + first_difference(&text, &ours))
}

/// `current` without the part `ownership` describes (our block, or our keys put back to their
/// values before install, a sealed one taken from `original`, the file's backup); None when
/// our part is no longer there. Pure apart from `warnings`.
pub fn remove_ours(
    path: &Path,
    current: &[u8],
    ownership: &Ownership,
    original: Option<&[u8]>,
    warnings: &mut Vec<String>,
) -> Result<Option<Vec<u8>>> {
    match ownership {
        Ownership::Whole => Ok(None),
        Ownership::Block { style, text } => {
            let span = match marker::find_block(current, *style) {
                Ok(Some(span)) => span,
                Ok(None) => return Ok(None),
                Err(e) => return Err(altered(path, e.line())),
            };
            if let Some(line) = block_edited_at(current, span, *style, text) {
                return Err(altered(path, line));
            }
            Ok(Some(marker::remove_block(current, span)))
        }
        Ownership::Keys { keys } => {
            let now = conf::parse_raw(current);
            let then = original.map(conf::parse_raw).unwrap_or_default();
            let mut changes = Vec::new();
            for key in keys {
                let still_ours = match (&key.after, now.get(&key.key)) {
                    (Some(after), Some(value)) => after.matches(value),
                    (None, None) => true,
                    _ => false,
                };
                if !still_ours {
                    warnings.push(msg!(
                        "uninstall-key-changed",
                        path = path.display(),
                        key = key.key
                    ));
                    continue;
                }
                let before = match &key.before {
                    None => None,
                    Some(KeyValue::Text(text)) => Some(text.as_str()),
                    Some(sealed) => match then.get(&key.key) {
                        Some(text) if sealed.matches(text) => Some(text.as_str()),
                        _ => {
                            warnings.push(msg!(
                                "uninstall-key-unknown",
                                path = path.display(),
                                key = key.key
                            ));
                            continue;
                        }
                    },
                };
                changes.push((key.key.as_str(), before));
            }
            Ok(Some(conf::merge(current, &changes)))
        }
        Ownership::Lines { lines: records } => {
            let swaps: Vec<(&str, &str)> = records
                .iter()
                .map(|r| (r.after.as_str(), r.before.as_str()))
                .collect();
            match lines::replace_lines(current, &swaps) {
                Some(after) => Ok(Some(after)),
                None => Err(Error::refused(
                    msg!("uninstall-command-edited", path = path.display()),
                    msg!("uninstall-command-edited-hint"),
                )),
            }
        }
        Ownership::Fragments {
            fragments, swaps, ..
        } => {
            let (after, missing) = xml::remove_ours(current, fragments, swaps).map_err(|e| {
                Error::refused(
                    format!("{}:{e}", path.display()),
                    msg!("uninstall-fragments-broken-hint"),
                )
            })?;
            if !missing.is_empty() {
                warnings.push(msg!(
                    "uninstall-fragments-missing",
                    path = path.display(),
                    count = missing.len()
                ));
            }
            Ok(Some(after))
        }
    }
}

fn first_difference(expected: &str, found: &str) -> usize {
    expected
        .lines()
        .zip(found.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| expected.lines().count().min(found.lines().count()))
}

fn altered(path: &Path, line: usize) -> Error {
    Error::refused(
        msg!("uninstall-block-edited", path = path.display(), line = line),
        msg!("uninstall-block-edited-hint"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A package install put in place is removed after the files it owns are restored; the
    /// agent is stopped before.
    #[test]
    fn a_package_goes_after_the_files_come_back() {
        let stop = RunStep::new("/etc/init.d/whatap-php", &["stop"]).best_effort();
        let purge = RunStep::new("/usr/bin/env", &["apt-get", "purge", "whatap-php"]);
        let install = InstallRecord {
            id: "php:/usr/bin/php".into(),
            runtime: "php".into(),
            target: "/usr/bin/php".into(),
            method: String::new(),
            installed_at: 0,
            paths: Vec::new(),
            dirs_created: Vec::new(),
            links_created: Vec::new(),
            modes: Vec::new(),
            selectors: Vec::new(),
            on_uninstall: vec![
                Undo::RunAfter {
                    step: purge.clone(),
                },
                Undo::Run { step: stop.clone() },
            ],
            registry: Vec::new(),
        };
        let state = StateDir::new("/nonexistent/state".into());
        let reversal = plan_uninstall(&Ledger::default(), &install, &state).unwrap();
        assert_eq!(reversal.plan.run, [stop]);
        assert_eq!(reversal.plan.run_after, [purge]);
    }
}
