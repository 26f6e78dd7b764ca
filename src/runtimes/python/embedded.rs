//! Start forms where the app runs in a server's own interpreter, named by a config file rather
//! than a start command: a uWSGI ini (`[uwsgi]`) gets `env = WHATAP_HOME=` and the package's
//! bootstrap on `PYTHONPATH` (the app's interpreter then starts the agent itself,
//! `whatap_code_start=true`); an Apache conf with mod_wsgi gets the guide's
//! `SetEnv WHATAP_HOME` in the scope of its WSGI directives (Apache itself is started through
//! whatap-start-agent: its script or unit is wrapped like any start command).

use crate::edit::eol::{line_body, split_lines};
use crate::edit::marker::{InsertAt, MarkerStyle};
use crate::error::Result;
use crate::plan::{Edit, Validation, edits};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfKind {
    UwsgiIni,
    ApacheWsgi,
}

impl ConfKind {
    /// The server name reported and written as `app_process_name`.
    pub fn server(self) -> &'static str {
        match self {
            ConfKind::UwsgiIni => "uwsgi",
            ConfKind::ApacheWsgi => "mod_wsgi",
        }
    }

    /// The method the ledger records.
    pub fn method(self) -> &'static str {
        match self {
            ConfKind::UwsgiIni => "uwsgi-ini",
            ConfKind::ApacheWsgi => "apache-wsgi",
        }
    }
}

fn lines(content: &[u8]) -> Vec<String> {
    split_lines(content)
        .iter()
        .map(|l| String::from_utf8_lossy(line_body(l)).into_owned())
        .collect()
}

fn is_wsgi_directive(line: &str) -> bool {
    let word = line.split_whitespace().next().unwrap_or_default();
    word.eq_ignore_ascii_case("WSGIScriptAlias") || word.eq_ignore_ascii_case("WSGIDaemonProcess")
}

/// What a `--start-script` file is, when it is one of these config files.
pub fn kind_of(content: &[u8]) -> Option<ConfKind> {
    let lines = lines(content);
    if lines.iter().any(|l| l.trim() == "[uwsgi]") {
        return Some(ConfKind::UwsgiIni);
    }
    lines
        .iter()
        .any(|l| is_wsgi_directive(l.trim()))
        .then_some(ConfKind::ApacheWsgi)
}

/// The virtualenv the file runs the app with: uWSGI's `virtualenv` / `venv` / `home` /
/// `pyhome`, mod_wsgi's `python-home=`.
pub fn virtualenv(kind: ConfKind, content: &[u8]) -> Option<PathBuf> {
    lines(content).iter().find_map(|line| {
        let line = line.trim();
        match kind {
            ConfKind::UwsgiIni => {
                let (key, value) = line.split_once('=')?;
                ["virtualenv", "venv", "home", "pyhome"]
                    .contains(&key.trim())
                    .then(|| PathBuf::from(value.trim()))
            }
            ConfKind::ApacheWsgi => line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("python-home="))
                .map(|v| PathBuf::from(v.trim_matches('"'))),
        }
    })
}

/// The user the app runs as, who must write WHATAP_HOME/logs: uWSGI's `uid`, mod_wsgi's
/// `WSGIDaemonProcess ... user=`, else Apache's `User` (not a `${VAR}`).
pub fn user(kind: ConfKind, content: &[u8]) -> Option<String> {
    let lines = lines(content);
    let plain = |v: &str| Some(v.trim_matches('"').to_string()).filter(|v| !v.contains('$'));
    match kind {
        ConfKind::UwsgiIni => lines.iter().find_map(|l| {
            let (key, value) = l.split_once('=')?;
            (key.trim() == "uid").then(|| plain(value.trim()))?
        }),
        ConfKind::ApacheWsgi => lines
            .iter()
            .find_map(|l| {
                l.split_whitespace()
                    .find_map(|w| w.strip_prefix("user="))
                    .and_then(plain)
            })
            .or_else(|| {
                lines
                    .iter()
                    .find_map(|l| match l.split_whitespace().collect::<Vec<_>>()[..] {
                        [key, value] if key.eq_ignore_ascii_case("User") => plain(value),
                        _ => None,
                    })
            }),
    }
}

/// The file with our block: uWSGI's right after its `[uwsgi]` line, Apache's right before its
/// first WSGI directive (inside the same VirtualHost).
pub fn edit(
    kind: ConfKind,
    path: &Path,
    content: &[u8],
    roots: &[PathBuf],
    home: &str,
    bootstrap: &Path,
) -> Result<Edit> {
    let lines = lines(content);
    let (style, inner, at) = match kind {
        ConfKind::UwsgiIni => {
            let header = lines
                .iter()
                .position(|l| l.trim() == "[uwsgi]")
                .unwrap_or(0);
            (
                MarkerStyle::Ini,
                vec![
                    format!("env = WHATAP_HOME={home}"),
                    format!("env = PYTHONPATH={}", bootstrap.display()),
                ],
                InsertAt::BeforeLine(header + 1),
            )
        }
        ConfKind::ApacheWsgi => {
            let first = lines
                .iter()
                .position(|l| is_wsgi_directive(l.trim()))
                .unwrap_or(lines.len());
            let indent: String = lines
                .get(first)
                .map(|l| l.chars().take_while(|c| c.is_whitespace()).collect())
                .unwrap_or_default();
            (
                MarkerStyle::Shell,
                vec![format!("{indent}SetEnv WHATAP_HOME {home}")],
                InsertAt::BeforeLine(first),
            )
        }
    };
    let mut edit = edits::block(path, roots, style, &inner, at)?;
    // Neither is a shell script: the block's `#` / `;` lines are comments to both.
    edit.validation = Validation::None;
    Ok(edit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_kinds_and_their_virtualenvs() {
        let ini = b"[uwsgi]\nmodule = app:application\nvirtualenv = /srv/venv\n";
        assert_eq!(kind_of(ini), Some(ConfKind::UwsgiIni));
        assert_eq!(
            virtualenv(ConfKind::UwsgiIni, ini),
            Some(PathBuf::from("/srv/venv"))
        );
        let conf = b"<VirtualHost *:80>\n    WSGIDaemonProcess app python-home=/srv/venv\n    WSGIScriptAlias / /srv/app.wsgi\n</VirtualHost>\n";
        assert_eq!(kind_of(conf), Some(ConfKind::ApacheWsgi));
        assert_eq!(
            virtualenv(ConfKind::ApacheWsgi, conf),
            Some(PathBuf::from("/srv/venv"))
        );
        assert_eq!(kind_of(b"#!/bin/sh\nexec gunicorn app\n"), None);
        assert_eq!(
            user(
                ConfKind::ApacheWsgi,
                b"User www-data\nWSGIScriptAlias / /a.wsgi\n"
            )
            .as_deref(),
            Some("www-data")
        );
        assert_eq!(
            user(ConfKind::ApacheWsgi, b"User ${APACHE_RUN_USER}\n"),
            None
        );
    }
}
