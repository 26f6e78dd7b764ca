//! `<state>/history.jsonl`: one JSON line per change applied on this host (install,
//! uninstall, `doctor --fix`), appended under the state dir's lock and never rewritten, so an
//! operator can tell later what this tool did, when, by which command line and with what
//! result. The ledger says what is installed now; the history says what happened.

use crate::error::{Error, Result};
use crate::plan::{Action, Plan};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// RFC 3339, UTC.
    pub time: String,
    pub version: String,
    /// The command line, the license masked.
    pub command: Vec<String>,
    /// The install the change belongs to (the ledger's id).
    pub install: String,
    /// `applied`, or `rolled-back` (nothing stayed changed; `error` says why).
    pub result: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: PathBuf,
    pub action: Action,
}

impl Entry {
    /// What applying `plan` for `install` did, `outcome` being the apply's result.
    pub fn of(install: &str, plan: &Plan, outcome: &Result<()>) -> Entry {
        let args: Vec<String> = std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        Entry {
            time: crate::ui::printer::now_rfc3339(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            command: masked_command_line(&args),
            install: install.to_string(),
            result: match outcome {
                Ok(()) => "applied",
                Err(_) => "rolled-back",
            }
            .to_string(),
            error: outcome.as_ref().err().map(ToString::to_string),
            files: plan
                .edits
                .iter()
                .filter(|e| e.action() != Action::Unchanged)
                .map(|e| FileEntry {
                    path: e.path.clone(),
                    action: e.action(),
                })
                // A registry value by its `HKLM\...\name`, as the report lists it.
                .chain(
                    plan.registry
                        .iter()
                        .filter(|r| r.action() != Action::Unchanged)
                        .map(|r| FileEntry {
                            path: r.display().into(),
                            action: r.action(),
                        }),
                )
                .collect(),
        }
    }
}

/// `args` with the value of `--license` masked (`--license KEY`, `--license=KEY`); `-`
/// (stdin) stays as typed.
fn masked_command_line(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut license_next = false;
    for arg in args {
        let masked = match arg.strip_prefix("--license=") {
            _ if license_next && arg != "-" => crate::ui::mask::mask(arg),
            Some(key) if key != "-" => format!("--license={}", crate::ui::mask::mask(key)),
            _ => arg.clone(),
        };
        license_next = arg == "--license";
        out.push(masked);
    }
    out
}

/// Writes `entry` as one line to `out` (opened for appending) and syncs it.
pub fn write_line(out: &mut std::fs::File, path: &Path, entry: &Entry) -> Result<()> {
    let mut line = serde_json::to_vec(entry).map_err(|e| Error::Internal(e.to_string()))?;
    line.push(b'\n');
    out.write_all(&line)
        .and_then(|()| out.sync_data())
        .map_err(|e| Error::io(path, e))
}

/// Every entry of the history's bytes, oldest first; a line that does not parse (a torn last
/// write) is skipped.
pub fn parse(bytes: &[u8]) -> Vec<Entry> {
    bytes
        .split(|b| *b == b'\n')
        .filter_map(|line| serde_json::from_slice(line).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_license_is_masked_in_the_command_line() {
        let args: Vec<String> = [
            "whatap",
            "install",
            "--license",
            "abcdefghij1234",
            "--license=zyxwvutsrq9876",
            "--license",
            "-",
            "--host",
            "10.0.0.1",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            masked_command_line(&args),
            [
                "whatap",
                "install",
                "--license",
                "**********1234",
                "--license=**********9876",
                "--license",
                "-",
                "--host",
                "10.0.0.1"
            ]
        );
    }
}
