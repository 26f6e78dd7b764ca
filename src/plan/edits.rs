//! Constructors for the edits every runtime needs: a marker block in a script, keys in a
//! `key=value` config, a copied file. Each reads the current file and computes the new bytes.

use super::target::{self, TargetFile};
use super::{Edit, KeyRecord, KeyValue, LineRecord, Ownership, Validation};
use crate::edit::Eol;
use crate::edit::conf;
use crate::edit::marker::{self, InsertAt, MarkerStyle};
use crate::error::{Error, Result};
use crate::msg;
use std::path::{Path, PathBuf};

fn edit_for(file: TargetFile, after: Vec<u8>, ownership: Ownership) -> Edit {
    Edit {
        path: file.real,
        via: file.via,
        before: file.content,
        after: Some(after),
        create_mode: 0o644,
        create_owner: None,
        validation: Validation::None,
        ownership,
        binary: false,
    }
}

/// Inserts or replaces the WHATAP block in a script.
pub fn block(
    path: &Path,
    roots: &[PathBuf],
    style: MarkerStyle,
    inner: &[String],
    at: InsertAt,
) -> Result<Edit> {
    let file = target::read(path, roots)?;
    let (after, ownership) = block_bytes(file.content.as_deref(), style, inner, at)
        .map_err(|e| broken_block(&file.real, &e))?;
    let mut edit = edit_for(file, after, ownership);
    if style == MarkerStyle::Shell {
        edit.validation = Validation::Shell;
        edit.create_mode = 0o755;
    }
    Ok(edit)
}

/// The bytes a script has with the block in place (`current` None: a new file), and what the
/// ledger keeps to take it out again. Pure: the round-trip property tests drive it directly.
pub fn block_bytes(
    current: Option<&[u8]>,
    style: MarkerStyle,
    inner: &[String],
    at: InsertAt,
) -> std::result::Result<(Vec<u8>, Ownership), marker::MarkerError> {
    let after = match current {
        None => {
            // A new file gets the style's native ending (CRLF for .bat) and a final newline.
            let eol = if style == MarkerStyle::Bat {
                Eol::Crlf
            } else {
                Eol::Lf
            };
            let mut bytes = marker::render_block(style, inner, eol);
            bytes.extend_from_slice(eol.as_bytes());
            bytes
        }
        Some(current) => match marker::find_block(current, style)? {
            Some(span) => marker::replace_block(current, span, style, inner),
            None => marker::insert_block(current, style, inner, at),
        },
    };
    // The block must be found again where it was put: not, say, inside a here-document the
    // file leaves open at its end. Otherwise the next run could neither update nor remove it.
    marker::find_block(&after, style)?;
    let eol = Eol::detect(&after, Eol::Lf);
    let text =
        String::from_utf8_lossy(&marker::render_block(style, inner, eol)).replace("\r\n", "\n");
    Ok((after, Ownership::Block { style, text }))
}

pub fn broken_block(path: &Path, error: &marker::MarkerError) -> Error {
    Error::refused(
        format!("{}:{}: {error}", path.display(), error.line()),
        msg!("marker-broken-hint"),
    )
}

/// Sets keys in a `key=value` file (whatap.conf); created with `mode` when absent.
pub fn keys(
    path: &Path,
    roots: &[PathBuf],
    changes: &[(String, String)],
    mode: u32,
) -> Result<Edit> {
    let file = target::read(path, roots)?;
    let (after, ownership) = keys_bytes(file.content.as_deref().unwrap_or_default(), changes);
    let mut edit = edit_for(file, after, ownership);
    edit.create_mode = mode;
    Ok(edit)
}

/// The bytes a `key=value` file has with `changes` set, and each key's value before (exactly
/// as written, so uninstall puts back the same bytes). Pure, like `block_bytes`.
pub fn keys_bytes(current: &[u8], changes: &[(String, String)]) -> (Vec<u8>, Ownership) {
    let existing = conf::parse_raw(current);
    let keys: Vec<KeyRecord> = changes
        .iter()
        .map(|(key, value)| KeyRecord {
            key: key.clone(),
            before: existing.get(key).cloned().map(KeyValue::Text),
            after: Some(KeyValue::Text(value.clone())),
        })
        .collect();
    let pairs: Vec<conf::KeyChange<'_>> = changes
        .iter()
        .map(|(k, v)| (k.as_str(), Some(v.as_str())))
        .collect();
    (conf::merge(current, &pairs), Ownership::Keys { keys })
}

/// Splices texts into an existing file (XML, properties): the ledger keeps the texts so
/// uninstall can take them out again. `recorded` is what an earlier install recorded for its
/// files: our earlier fragments are taken out first, so a reinstall with other options
/// replaces them instead of meeting them as someone else's agent.
pub fn splice(
    path: &Path,
    roots: &[PathBuf],
    recorded: &[(PathBuf, Ownership)],
    insertions: impl FnOnce(&[u8]) -> Result<Vec<crate::edit::xml::Insertion>>,
    validation: Validation,
) -> Result<Edit> {
    let file = target::read(path, roots)?;
    let Some(current) = file.content.clone() else {
        return Err(Error::usage(
            msg!("no-such-file", path = path.display()),
            msg!("no-such-file-config-hint"),
        ));
    };
    let earlier = recorded.iter().find_map(|(p, o)| match o {
        Ownership::Fragments {
            fragments, swaps, ..
        } if *p == file.real => Some((fragments, swaps)),
        _ => None,
    });
    // Only when every earlier text is still there, exactly: otherwise the file is left to the
    // runtime's own checks as it is.
    let cleaned = earlier.and_then(|(fragments, swaps)| {
        match crate::edit::xml::remove_ours(&current, fragments, swaps) {
            Ok((cleaned, missing)) if missing.is_empty() => Some(cleaned),
            _ => None,
        }
    });
    let base = cleaned.as_deref().unwrap_or(&current);
    let insertions = insertions(base)?;
    let after = crate::edit::xml::splice(base, &insertions);
    let ownership = if after == current {
        // Nothing changes: what is recorded stays ours.
        Ownership::Fragments {
            fragments: Vec::new(),
            swaps: Vec::new(),
            replaces: false,
        }
    } else {
        let (swapped, inserted): (Vec<_>, Vec<_>) =
            insertions.into_iter().partition(|i| i.replace > 0);
        Ownership::Fragments {
            fragments: inserted.into_iter().map(|i| i.text).collect(),
            swaps: swapped
                .into_iter()
                .map(|i| crate::edit::xml::Swap {
                    before: String::from_utf8_lossy(&base[i.at..i.at + i.replace]).into_owned(),
                    after: i.text,
                })
                .collect(),
            replaces: cleaned.is_some(),
        }
    };
    let mut edit = edit_for(file, after, ownership);
    edit.validation = validation;
    Ok(edit)
}

/// A text file that is ours whole (a systemd drop-in): created, or unchanged when it already
/// holds exactly `bytes`.
pub fn whole(path: &Path, roots: &[PathBuf], bytes: Vec<u8>, mode: u32) -> Result<Edit> {
    let file = target::read(path, roots)?;
    let mut edit = edit_for(file, bytes, Ownership::Whole);
    edit.create_mode = mode;
    Ok(edit)
}

/// Copies `source` to `dest` (the agent jar); unchanged when the bytes already match.
pub fn copy(source: &Path, dest: &Path, roots: &[PathBuf]) -> Result<Edit> {
    let file = target::read_binary(dest, roots)?;
    // The source is the operator's file, anywhere: it must be a regular file of sane size
    // (a FIFO would block, a 2 GB file would be loaded whole).
    let bytes = match target::read_regular_follow(source, target::MAX_BINARY_FILE) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return Err(Error::usage(
                msg!("no-such-file", path = source.display()),
                msg!("no-such-file-source-hint"),
            ));
        }
        Err(Error::Refused { message, hint }) => return Err(Error::Usage { message, hint }),
        Err(e) => return Err(e),
    };
    let mut edit = edit_for(file, bytes, Ownership::Whole);
    edit.binary = true;
    Ok(edit)
}

/// One line to rewrite: its text now, its text before we ever touched it, its new text.
pub struct LineSwap {
    pub now: String,
    pub original: String,
    pub after: String,
}

/// Rewrites whole lines in place (a wrapped start command); the ledger keeps each original.
pub fn lines(path: &Path, roots: &[PathBuf], swaps: Vec<LineSwap>) -> Result<Edit> {
    let file = target::read(path, roots)?;
    let current = file.content.clone().unwrap_or_default();
    let pairs: Vec<(&str, &str)> = swaps
        .iter()
        .map(|s| (s.now.as_str(), s.after.as_str()))
        .collect();
    let after = crate::edit::lines::replace_lines(&current, &pairs).ok_or_else(|| {
        Error::Internal(format!("{}: line to rewrite vanished", file.real.display()))
    })?;
    let records = swaps
        .into_iter()
        .map(|s| LineRecord {
            before: s.original,
            after: s.after,
        })
        .collect();
    Ok(edit_for(file, after, Ownership::Lines { lines: records }))
}
