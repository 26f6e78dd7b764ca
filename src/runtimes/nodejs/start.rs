//! Where the agent's `--require` goes, per launcher: a shell script's node line
//! (`env WHATAP_HOME=<home> node --require <agent> ...`), a systemd drop-in whose NODE_OPTIONS
//! keeps what the unit already sets, or the app's `node_args` and `env` in a pm2 ecosystem
//! file. Each is an edit the ledger can take back byte for byte.

use super::app::{NodeArgs, preloads_agent, split_node_options};
use crate::edit::ecosystem::{self, SpliceError};
use crate::edit::eol::{line_body, split_lines};
use crate::edit::{template, wrap};
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::{Edit, Ownership, Validation, edits};
use crate::runtimes::systemd::{self, UnitFiles};
use regex::Regex;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const DROPIN: &str = include_str!("../../../templates/nodejs/systemd-dropin.conf");

/// What loads the agent: `--require <agent>`, as node options.
pub fn require_args(agent: &Path) -> [String; 2] {
    ["--require".to_string(), agent.display().to_string()]
}

/// Our wrapping of a node line: the env prefix, and the option after the node word.
fn ours() -> &'static [Regex; 2] {
    static RE: OnceLock<[Regex; 2]> = OnceLock::new();
    RE.get_or_init(|| {
        [
            Regex::new(r"env WHATAP_HOME=\S+ ").expect("valid regex"),
            Regex::new(r" --require \S*node_modules/whatap\b").expect("valid regex"),
        ]
    })
}

/// A line without our wrapping (the line as it was before install).
fn unwrap(line: &str) -> String {
    let [prefix, option] = ours();
    option
        .replacen(&prefix.replacen(line, 1, ""), 1, "")
        .into_owned()
}

/// The offsets of the node word of a shell line that runs node.
fn node_word(line: &str) -> Option<(usize, usize, Vec<String>)> {
    let (offset, program, args) = wrap::command_word(line)?;
    let name = program.trim_matches(['"', '\'']).rsplit('/').next()?;
    matches!(name, "node" | "nodejs").then(|| {
        (
            offset,
            offset + program.len(),
            args.iter().map(|a| a.to_string()).collect(),
        )
    })
}

/// The script's node line wrapped: None when its node already preloads the agent by hand.
pub fn script_edit(
    path: &Path,
    roots: &[PathBuf],
    home: &Path,
    agent: &Path,
) -> Result<Option<Edit>> {
    let content = crate::plan::target::peek(path).map_err(|e| {
        Error::usage(
            format!("--start-script {}: {e}", path.display()),
            msg!("nodejs-start-script-hint"),
        )
    })?;
    let mut starts = Vec::new();
    for (index, raw) in split_lines(&content).iter().enumerate() {
        let Ok(now) = std::str::from_utf8(line_body(raw)) else {
            continue;
        };
        let original = unwrap(now);
        if let Some((at, end, args)) = node_word(&original) {
            starts.push((index + 1, now.to_string(), original.clone(), at, end, args));
        }
    }
    let (_, now, original, at, end, args) = match starts.len() {
        1 => starts.remove(0),
        0 => {
            return Err(Error::usage(
                msg!("nodejs-script-no-node", path = path.display()),
                msg!("nodejs-start-script-hint"),
            ));
        }
        _ => {
            let lines: Vec<String> = starts.iter().map(|s| s.0.to_string()).collect();
            return Err(Error::usage(
                msg!(
                    "nodejs-script-many-nodes",
                    path = path.display(),
                    lines = lines.join(", ")
                ),
                msg!("nodejs-manual-hint"),
            ));
        }
    };
    if NodeArgs::parse(&args).is_some_and(|n| n.requires_agent()) {
        return Ok(None);
    }
    let after = format!(
        "{}env WHATAP_HOME={} {} {}{}",
        &original[..at],
        home.display(),
        &original[at..end],
        require_args(agent).join(" "),
        &original[end..]
    );
    let mut edit = edits::lines(
        path,
        roots,
        vec![edits::LineSwap {
            now,
            original,
            after,
        }],
    )?;
    let shebang = content.starts_with(b"#!")
        && content
            .split(|&b| b == b'\n')
            .next()
            .is_some_and(|l| l.windows(2).any(|w| w == b"sh"));
    if shebang || path.extension().is_some_and(|e| e == "sh") {
        edit.validation = Validation::Shell;
    }
    Ok(Some(edit))
}

/// The drop-in for a unit: WHATAP_HOME, and NODE_OPTIONS as the unit sets it plus the agent.
pub fn dropin_text(unit: &UnitFiles, home: &Path, agent: &Path) -> Result<String> {
    // EnvironmentFile= wins over Environment=: a NODE_OPTIONS there would drop ours.
    if let Some(file) = systemd::environment_files(&unit.sources)
        .into_iter()
        .find(|f| systemd::file_sets(f, "NODE_OPTIONS"))
    {
        return Err(Error::refused(
            msg!(
                "nodejs-unit-environment-file",
                unit = unit.name,
                file = file.display()
            ),
            msg!("nodejs-unit-environment-file-hint", agent = agent.display()),
        ));
    }
    let existing = systemd::environment(&unit.sources)
        .remove("NODE_OPTIONS")
        .unwrap_or_default();
    let mut words = split_node_options(&existing);
    if !preloads_agent(&words) {
        words.extend(require_args(agent));
    }
    let value = words.join(" ");
    if value.contains(['"', '\\', '\n', '%', '\'']) || existing.contains('"') {
        return Err(Error::refused(
            msg!(
                "nodejs-unit-node-options-unsafe",
                unit = unit.name,
                value = existing
            ),
            msg!("nodejs-unit-node-options-unsafe-hint"),
        ));
    }
    let lines = template::render(
        "nodejs/systemd-dropin.conf",
        DROPIN,
        &[
            ("whatap_home", &home.display().to_string()),
            ("node_options", &value),
        ],
    )?;
    Ok(lines.join("\n") + "\n")
}

/// A pm2 app's `node_args` and `env.WHATAP_HOME` spliced into its ecosystem file (what an
/// earlier install spliced, `recorded`, replaced: a reinstall with another home rewrites it).
pub fn ecosystem_edit(
    path: &Path,
    roots: &[PathBuf],
    recorded: &[(PathBuf, Ownership)],
    name: &str,
    home: &Path,
    agent: &Path,
    node: &Path,
) -> Result<Edit> {
    let json = path.extension().is_some_and(|e| e == "json");
    let edit = edits::splice(
        path,
        roots,
        recorded,
        |current| {
            let text = String::from_utf8_lossy(current);
            let apps = ecosystem::apps(&text).unwrap_or_default();
            let app = apps
                .iter()
                .find(|a| a.string(&text, "name") == Some(name))
                .ok_or_else(|| {
                    Error::usage(
                        msg!(
                            "nodejs-ecosystem-no-app",
                            path = path.display(),
                            name = name
                        ),
                        msg!("nodejs-ecosystem-which-app-hint"),
                    )
                })?;
            let args = require_args(agent);
            let wanted: Vec<&str> = if preloads_agent(&ecosystem::args_of(&text, app)) {
                Vec::new()
            } else {
                args.iter().map(String::as_str).collect()
            };
            let home_text = home.display().to_string();
            let env = ecosystem::env_of(&text, app, "WHATAP_HOME")
                .is_none()
                .then_some(("WHATAP_HOME", home_text.as_str()));
            ecosystem::insertions(&text, app, &wanted, env, json).map_err(|e| match e {
                SpliceError::NotLiteral { key, line } => Error::refused(
                    msg!(
                        "nodejs-ecosystem-not-literal",
                        path = path.display(),
                        line = line,
                        key = key
                    ),
                    msg!(
                        "nodejs-ecosystem-not-literal-hint",
                        args = args.join(" "),
                        home = home.display()
                    ),
                ),
            })
        },
        Validation::None,
    )?;
    if let Some(after) = &edit.after {
        check_ecosystem(path, edit.before.as_deref(), after, json, node)?;
    }
    Ok(edit)
}

/// The edited ecosystem file must still parse: JSON as JSON, JavaScript by `node --check`
/// (which only compiles it, never runs it). A file node cannot check as it was (an ES module)
/// is not checked.
fn check_ecosystem(
    path: &Path,
    before: Option<&[u8]>,
    after: &[u8],
    json: bool,
    node: &Path,
) -> Result<()> {
    let broken = |why: String| {
        Error::Internal(msg!(
            "nodejs-ecosystem-broken",
            path = path.display(),
            why = why
        ))
    };
    if json {
        return serde_json::from_slice::<serde_json::Value>(after)
            .map(|_| ())
            .map_err(|e| broken(e.to_string()));
    }
    let compiles = |bytes: &[u8]| -> Option<std::result::Result<(), String>> {
        use std::io::Write;
        let mut child = Command::new(node)
            .args(["--check", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .ok()?;
        child.stdin.take()?.write_all(bytes).ok()?;
        let output = child.wait_with_output().ok()?;
        Some(if output.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&output.stderr)
                .lines()
                .find(|l| l.contains("Error"))
                .unwrap_or_default()
                .to_string())
        })
    };
    match (compiles(after), before.map(compiles)) {
        (Some(Err(why)), Some(Some(Ok(())))) => Err(broken(why)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_line_is_wrapped_and_unwrapped() {
        let line = "exec /usr/bin/node --enable-source-maps server.js --port 80";
        let (at, end, args) = node_word(line).unwrap();
        assert_eq!(&line[at..end], "/usr/bin/node");
        assert_eq!(args[0], "--enable-source-maps");
        let wrapped = format!(
            "{}env WHATAP_HOME=/srv/app/whatap {} --require /srv/app/node_modules/whatap{}",
            &line[..at],
            &line[at..end],
            &line[end..]
        );
        assert_eq!(unwrap(&wrapped), line);
        assert!(node_word("# node server.js").is_none());
        assert!(node_word("cd /srv/app && echo node").is_none());
        assert_eq!(
            node_word("NODE_ENV=production nohup nodejs app.js &").map(|w| w.0),
            Some(26)
        );
    }
}
