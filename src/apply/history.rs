//! `<state>/history.jsonl`: one JSON line per change applied on this host (install,
//! uninstall, `doctor --fix`), appended under the state dir's lock and never rewritten, so an
//! operator can tell later what this tool did, when, by which command line and with what
//! result. The ledger says what is installed now; the history says what happened.

use crate::error::{Error, Result};
use crate::plan::{Action, Plan};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
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

/// Appends `entry` as one line (the file is created 0600: it names every file changed).
pub fn append(file: &Path, entry: &Entry) -> Result<()> {
    let mut line = serde_json::to_string(entry).map_err(|e| Error::Internal(e.to_string()))?;
    line.push('\n');
    let mut out = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(file)
        .map_err(|e| Error::io(file, e))?;
    out.write_all(line.as_bytes())
        .and_then(|()| out.sync_data())
        .map_err(|e| Error::io(file, e))
}

/// Every entry, oldest first; a line that does not parse (a torn last write) is skipped.
pub fn read(file: &Path) -> Result<Vec<Entry>> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(file, e)),
    };
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect())
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
