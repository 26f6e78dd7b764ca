//! The systemd unit a runtime's `--unit` names, read as files (no running systemd is asked;
//! `detect::systemd` finds them): the unit and its drop-ins in reading order with their bytes,
//! and the environment they give the service. The drop-in a runtime writes is
//! `<unit>.d/whatap.conf`, left out of what is read back.

use crate::detect::systemd::{UNIT_DIRS, drop_ins, unit_file, unit_name};
use crate::edit::unit;
use crate::error::{Error, Result};
use crate::msg;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The drop-in whatap writes for a unit.
pub const DROPIN_NAME: &str = "whatap.conf";

/// A unit file and its drop-ins.
pub struct UnitFiles {
    pub name: String,
    /// Our drop-in: `<dir>/<name>.d/whatap.conf`.
    pub dropin: PathBuf,
    /// Unit file then drop-ins, in the order systemd reads them (ours left out).
    pub sources: Vec<(PathBuf, Vec<u8>)>,
}

/// Where install puts the drop-in for `--unit`: beside a unit file given as a path, else in
/// /etc/systemd/system.
pub fn dropin_dir(unit: &str) -> PathBuf {
    if unit.contains('/') {
        PathBuf::from(format!("{unit}.d"))
    } else {
        Path::new(UNIT_DIRS[0]).join(format!("{}.d", unit_name(unit)))
    }
}

/// The unit `--unit` names: a name looked up in `UNIT_DIRS` (`.service` added when it has no
/// type), or a unit file's path (our drop-in then goes beside it, and drop-ins there count).
pub fn unit_files(unit: &str) -> Result<UnitFiles> {
    let mut dirs: Vec<PathBuf> = UNIT_DIRS.iter().map(PathBuf::from).collect();
    let unit_file = if unit.contains('/') {
        let path = PathBuf::from(unit);
        dirs.insert(0, path.parent().unwrap_or(Path::new("/")).to_path_buf());
        path
    } else {
        unit_file(&unit_name(unit), &dirs).ok_or_else(|| {
            Error::usage(
                msg!(
                    "python-unit-missing",
                    unit = unit,
                    dirs = UNIT_DIRS.join(", ")
                ),
                msg!("python-unit-missing-hint"),
            )
        })?
    };
    let name = unit_file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let main = crate::plan::target::peek(&unit_file).map_err(|e| {
        Error::usage(
            format!("--unit {}: {e}", unit_file.display()),
            msg!("python-unit-unreadable-hint"),
        )
    })?;
    let mut sources = vec![(unit_file, main)];
    for path in drop_ins(&name, &dirs) {
        if path.file_name().is_some_and(|n| n == DROPIN_NAME) {
            continue;
        }
        if let Ok(bytes) = crate::plan::target::peek(&path) {
            sources.push((path, bytes));
        }
    }
    Ok(UnitFiles {
        name,
        dropin: dropin_dir(unit).join(DROPIN_NAME),
        sources,
    })
}

/// The variables `Environment=` lines set, the last assignment winning; an empty
/// `Environment=` clears them all, as in systemd.
pub fn environment(files: &[(PathBuf, Vec<u8>)]) -> BTreeMap<String, String> {
    unit::list(files, "Environment")
        .iter()
        .flat_map(|s| unit::words(&s.value))
        .filter_map(|word| {
            word.split_once('=')
                .map(|(name, value)| (name.to_string(), value.to_string()))
        })
        .collect()
}

/// The files `EnvironmentFile=` lines name (a leading `-` only marks one as optional); an
/// empty `EnvironmentFile=` clears the list.
pub fn environment_files(files: &[(PathBuf, Vec<u8>)]) -> Vec<PathBuf> {
    unit::list(files, "EnvironmentFile")
        .iter()
        .flat_map(|s| unit::words(&s.value))
        .map(|w| PathBuf::from(w.trim_start_matches('-')))
        .collect()
}

/// Does an environment file (`NAME=value` lines, `#` comments, `export` tolerated) set `name`?
pub fn file_sets(path: &Path, name: &str) -> bool {
    let Ok(bytes) = crate::plan::target::peek(path) else {
        return false;
    };
    String::from_utf8_lossy(&bytes).lines().any(|line| {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line);
        line.split_once('=').is_some_and(|(k, _)| k.trim() == name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn unit(text: &str) -> (PathBuf, Vec<u8>) {
        (PathBuf::from("u.service"), text.as_bytes().to_vec())
    }

    #[test]
    fn environment_lines_in_order_with_quotes_and_resets() {
        let main = unit(
            "[Unit]\nEnvironment=NOT=service\n[Service]\nEnvironment=\"NODE_OPTIONS=--max-old-space-size=512 --trace-warnings\" PORT=80\n\
             Environment=A=1 \\\n  B=2\nEnvironmentFile=-/etc/default/app\n",
        );
        let env = environment(std::slice::from_ref(&main));
        assert_eq!(
            env.get("NODE_OPTIONS").map(String::as_str),
            Some("--max-old-space-size=512 --trace-warnings")
        );
        assert_eq!(env.get("PORT").map(String::as_str), Some("80"));
        assert_eq!(env.get("B").map(String::as_str), Some("2"));
        assert!(!env.contains_key("NOT"));
        assert_eq!(
            environment_files(std::slice::from_ref(&main)),
            [PathBuf::from("/etc/default/app")]
        );
        let reset = unit("[Service]\nEnvironment=\nEnvironment='C=x y'\n");
        let env = environment(&[main, reset]);
        assert_eq!(env.len(), 1);
        assert_eq!(env.get("C").map(String::as_str), Some("x y"));
    }

    #[test]
    fn an_environment_file_is_read_for_one_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("app");
        fs::write(&file, "# options\nexport NODE_OPTIONS=--inspect\nPORT=1\n").unwrap();
        assert!(file_sets(&file, "NODE_OPTIONS"));
        assert!(!file_sets(&file, "WHATAP_HOME"));
        assert!(!file_sets(&dir.path().join("missing"), "PORT"));
    }
}
