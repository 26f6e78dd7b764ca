//! Constructors for the edits every runtime needs: a marker block in a script, keys in a
//! `key=value` config, a copied file. Each reads the current file and computes the new bytes.

use super::target::{self, TargetFile};
use super::{Edit, KeyRecord, LineRecord, Ownership, Validation};
use crate::edit::Eol;
use crate::edit::conf;
use crate::edit::marker::{self, InsertAt, MarkerStyle};
use crate::error::{Error, Result};
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
    let current = file.content.clone().unwrap_or_default();
    let after =
        match marker::find_block(&current, style).map_err(|e| broken_block(&file.real, &e))? {
            Some(span) => marker::replace_block(&current, span, style, inner),
            None if file.content.is_none() => {
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
            None => marker::insert_block(&current, style, inner, at),
        };
    let eol = Eol::detect(&after, Eol::Lf);
    let text =
        String::from_utf8_lossy(&marker::render_block(style, inner, eol)).replace("\r\n", "\n");
    let mut edit = edit_for(file, after, Ownership::Block { style, text });
    if style == MarkerStyle::Shell {
        edit.validation = Validation::Shell;
        edit.create_mode = 0o755;
    }
    Ok(edit)
}

pub fn broken_block(path: &Path, error: &marker::MarkerError) -> Error {
    Error::refused(
        format!("{}:{}: {error}", path.display(), error.line()),
        "fix or remove the WHATAP marker lines by hand, then run again",
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
    let current = file.content.clone().unwrap_or_default();
    let existing = conf::parse(&current);
    let records: Vec<KeyRecord> = changes
        .iter()
        .map(|(key, value)| KeyRecord {
            key: key.clone(),
            before: existing.get(key).cloned(),
            after: Some(value.clone()),
        })
        .collect();
    let pairs: Vec<conf::KeyChange<'_>> = changes
        .iter()
        .map(|(k, v)| (k.as_str(), Some(v.as_str())))
        .collect();
    let after = conf::merge(&current, &pairs);
    let mut edit = edit_for(file, after, Ownership::Keys { keys: records });
    edit.create_mode = mode;
    Ok(edit)
}

/// Splices texts into an existing file (XML, properties): the ledger keeps the texts so
/// uninstall can take them out again.
pub fn splice(
    path: &Path,
    roots: &[PathBuf],
    insertions: impl FnOnce(&[u8]) -> Result<Vec<crate::edit::xml::Insertion>>,
    validation: Validation,
) -> Result<Edit> {
    let file = target::read(path, roots)?;
    let Some(current) = file.content.clone() else {
        return Err(Error::usage(
            format!("{}: no such file", path.display()),
            "check --home; this file is part of the runtime's configuration",
        ));
    };
    let insertions = insertions(&current)?;
    let after = crate::edit::xml::splice(&current, &insertions);
    let fragments = insertions.into_iter().map(|i| i.text).collect();
    let mut edit = edit_for(file, after, Ownership::Fragments { fragments });
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
    let bytes = std::fs::read(source).map_err(|e| Error::io(source, e))?;
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
