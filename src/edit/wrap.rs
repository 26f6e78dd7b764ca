//! Wrapping a Python app's start command with `whatap-start-agent`, as text: find the one line
//! that starts the app (a shell/upstart script, a supervisor `command =`, a systemd
//! `ExecStart=`), insert `env WHATAP_HOME=<home> <agent> ` before the command word, and
//! recognise our own wrapping again so a reinstall rewrites it and an uninstall can undo it.

use super::eol::{line_body, split_lines};
use regex::Regex;
use std::path::Path;
use std::sync::OnceLock;

/// The vendor's wrapper script (a console script of whatap-python).
pub const START_AGENT: &str = "whatap-start-agent";

/// Programs that serve a Python web app (the guide's examples and their peers).
const APP_SERVERS: &[&str] = &[
    "gunicorn",
    "uwsgi",
    "uvicorn",
    "daphne",
    "hypercorn",
    "waitress-serve",
    "flask",
];

/// Servers that run Python apps in an interpreter of their own (Apache's mod_wsgi): their start
/// lines in start files are wrapped so the agent runs beside them and the bootstrap reaches
/// that interpreter, but their processes are not Python apps for detection.
const EMBEDDING_SERVERS: &[&str] = &["apache2", "httpd", "apachectl", "apache2ctl"];

/// Words that may come before the command word on a start line.
const PREFIX_WORDS: &[&str] = &["exec", "nohup", "setsid", "command", "env"];

/// The shell variables a script assigns (`DAEMON=/usr/local/bin/gunicorn`), last one wins.
pub type Vars = std::collections::BTreeMap<String, String>;

/// What a start line runs: the app server it recognised and where its command word starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartCommand {
    pub server: String,
    /// Byte offset of the command word inside the text that was searched.
    pub offset: usize,
    /// The program it runs (`/srv/venv/bin/gunicorn`, `python3`), `$DAEMON` resolved.
    pub program: String,
    pub form: StartForm,
}

/// How the start line runs the program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartForm {
    /// The command itself: our prefix goes before its command word.
    Command,
    /// `start-stop-daemon --start ... --exec $DAEMON -- ARGS` (an init.d script's do_start):
    /// `env WHATAP_HOME=` before it, `--startas <agent>` after the exec value (byte offset
    /// `exec_end`), and the exec value again right after the `--` separator (`separator_end`).
    Daemon {
        exec_end: usize,
        separator_end: usize,
        exec: String,
    },
}

/// The wrapping we write: `env WHATAP_HOME=<home> <agent> `.
pub fn prefix(home: &str, agent: &str) -> String {
    format!("env WHATAP_HOME={home} {agent} ")
}

fn ours() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"env WHATAP_HOME=\S+ \S*whatap-start-agent ").expect("valid regex")
    })
}

/// Our start-stop-daemon wrapping: the environment before it, `--startas <agent>`.
fn ours_daemon() -> &'static (Regex, Regex) {
    static RE: OnceLock<(Regex, Regex)> = OnceLock::new();
    RE.get_or_init(|| {
        (
            Regex::new(r"env WHATAP_HOME=\S+ (\S*start-stop-daemon )").expect("valid regex"),
            Regex::new(r" --startas \S*whatap-start-agent").expect("valid regex"),
        )
    })
}

/// The WHATAP_HOME a start file names: our `env WHATAP_HOME=<home>`, a supervisor
/// `environment = WHATAP_HOME=`, a drop-in's `Environment=WHATAP_HOME=`, the guide's init.d
/// `WHATAP_HOME=` line. Absolute paths only (`$VAR` forms name nothing we can read).
pub fn named_home(text: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r#"(?m)^[^#;\n]*\bWHATAP_HOME(?:=|\s+)["']?(/[^\s"',]+)"#).expect("valid regex")
    });
    re.captures(text).map(|c| c[1].to_string())
}

/// The text with our wrapping taken out (the original start command), if it has it.
pub fn unwrap(text: &str) -> String {
    let (env, startas) = ours_daemon();
    if env.is_match(text) && startas.is_match(text) {
        let text = env.replacen(text, 1, "$1");
        let text = startas.replacen(&text, 1, "").into_owned();
        // The exec value we repeated after the `--` separator.
        if let Some((_, _, separator_end, exec)) = daemon_layout(&text) {
            let again = format!(" {exec}");
            if text[separator_end..].starts_with(&again) {
                return format!(
                    "{}{}",
                    &text[..separator_end],
                    &text[separator_end + again.len()..]
                );
            }
        }
        return text;
    }
    ours().replacen(text, 1, "").into_owned()
}

/// Wrapped by someone else (by hand): `whatap-start-agent` is there, but not our form.
pub fn wrapped_by_hand(text: &str) -> bool {
    text.contains(START_AGENT) && unwrap(text) == text
}

fn basename(word: &str) -> &str {
    let word = word.trim_matches(['"', '\'']);
    word.rsplit('/').next().unwrap_or(word)
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// Words of `text` with their byte offsets (whitespace-separated, no shell parsing).
fn words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

/// The Python app server a command runs, from its command word and arguments.
fn server_of(program: &str, args: &[&str]) -> Option<String> {
    let name = basename(program);
    if APP_SERVERS.contains(&name) {
        return Some(name.to_string());
    }
    if !name.starts_with("python") {
        return None;
    }
    let mut args = args.iter().map(|a| a.trim_matches(['"', '\'']));
    while let Some(arg) = args.next() {
        if arg == "-m" {
            return args
                .next()
                .filter(|m| APP_SERVERS.contains(m))
                .map(str::to_string);
        }
        if arg.starts_with('-') {
            continue;
        }
        let script = basename(arg);
        if APP_SERVERS.contains(&script) {
            return Some(script.to_string());
        }
        if script == "manage.py" {
            return Some("django".to_string());
        }
        return script.ends_with(".py").then(|| "python".to_string());
    }
    None
}

/// The command word of a line of shell (after `exec`, `nohup`, `env`, `VAR=value`
/// prefixes): its byte offset, the word, and the words after it; None for blank and comment
/// lines.
pub fn command_word(text: &str) -> Option<(usize, &str, Vec<&str>)> {
    let trimmed = text.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
        return None;
    }
    let words = words(text);
    let first = words
        .iter()
        .position(|(_, w)| !PREFIX_WORDS.contains(w) && !is_assignment(w))?;
    let (offset, program) = words[first];
    let args: Vec<&str> = words[first + 1..].iter().map(|(_, w)| *w).collect();
    Some((offset, program, args))
}

/// The start command on one line of text, if the line runs a Python app.
pub fn find_start(text: &str) -> Option<StartCommand> {
    find_start_in(text, &Vars::new())
}

/// `$NAME`, `${NAME}` and `"$NAME"` resolved from a script's assignments.
fn resolve<'a>(word: &'a str, vars: &'a Vars) -> &'a str {
    let bare = word.trim_matches(['"', '\'']);
    let name = bare
        .strip_prefix("${")
        .and_then(|n| n.strip_suffix('}'))
        .or_else(|| bare.strip_prefix('$'));
    match name.and_then(|n| vars.get(n)) {
        Some(value) => value,
        None => bare,
    }
}

/// Where a `start-stop-daemon --start` line names its program: (offset of the
/// start-stop-daemon word, end of the `--exec` value, end of the `--` separator, the value as
/// written). None for `--test` runs, lines without `--exec` or `--` (nothing to put the agent
/// in front of), or with `--startas` already.
fn daemon_layout(text: &str) -> Option<(usize, usize, usize, &str)> {
    let words = words(text);
    let at = words
        .iter()
        .position(|(_, w)| basename(w) == "start-stop-daemon")?;
    let rest = &words[at + 1..];
    let has = |flags: &[&str]| rest.iter().any(|(_, w)| flags.contains(w));
    if !has(&["--start", "-S"]) || has(&["--test", "-t", "--startas", "-a"]) {
        return None;
    }
    let exec_at = rest
        .iter()
        .position(|(_, w)| *w == "--exec" || *w == "-x")?;
    let (exec_offset, exec) = *rest.get(exec_at + 1)?;
    let (separator, _) = *rest[exec_at + 2..].iter().find(|(_, w)| *w == "--")?;
    Some((words[at].0, exec_offset + exec.len(), separator + 2, exec))
}

/// A start-stop-daemon line that starts a Python app server (its `--exec` resolved).
fn daemon_start(text: &str, vars: &Vars) -> Option<StartCommand> {
    let (offset, exec_end, separator_end, exec) = daemon_layout(text)?;
    let program = resolve(exec, vars).to_string();
    let args: Vec<&str> = words(&text[separator_end..])
        .into_iter()
        .map(|(_, w)| w)
        .collect();
    let server = server_of(&program, &args).or_else(|| embedding(&program))?;
    Some(StartCommand {
        server,
        offset,
        program,
        form: StartForm::Daemon {
            exec_end,
            separator_end,
            exec: exec.to_string(),
        },
    })
}

/// Apache started in a start file: mod_wsgi runs the Python app inside it.
fn embedding(program: &str) -> Option<String> {
    EMBEDDING_SERVERS
        .contains(&basename(program))
        .then(|| "mod_wsgi".to_string())
}

/// The start command on one line of a script whose variables are `vars`.
pub fn find_start_in(text: &str, vars: &Vars) -> Option<StartCommand> {
    let (offset, word, args) = command_word(text)?;
    if let Some(daemon) = daemon_start(text, vars) {
        return Some(daemon);
    }
    let program = resolve(word, vars);
    let server = server_of(program, &args).or_else(|| embedding(program))?;
    Some(StartCommand {
        server,
        offset,
        program: program.to_string(),
        form: StartForm::Command,
    })
}

/// `NAME=value` lines of a shell script (quotes taken off; no expansion).
fn assignments(lines: &[&[u8]]) -> Vars {
    let mut vars = Vars::new();
    for line in lines {
        let text = String::from_utf8_lossy(line_body(line));
        let text = text.trim();
        let text = text.strip_prefix("export ").unwrap_or(text).trim_start();
        if let Some((name, value)) = text.split_once('=') {
            let value = value.trim();
            let quoted = value.starts_with('"') || value.starts_with('\'');
            if is_assignment(text) && (quoted || !value.contains(' ')) {
                vars.insert(
                    name.to_string(),
                    value.trim_matches(['"', '\'']).to_string(),
                );
            }
        }
    }
    vars
}

/// The same command as a process's argv (`/proc/PID/cmdline`): which server it is.
pub fn server_of_argv(args: &[String]) -> Option<String> {
    let (program, rest) = args.split_first()?;
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    server_of(program, &rest)
}

/// A line of a start file that runs the app, with its text now and without our wrapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartLine {
    /// 1-based.
    pub line: usize,
    pub now: String,
    pub original: String,
    pub start: StartCommand,
    /// For supervisor files: the `[program:NAME]` the line belongs to.
    pub program: Option<String>,
    /// For supervisor files: the program's `user =`, the user the app runs as.
    pub user: Option<String>,
}

impl StartLine {
    /// The line wrapped to start through `agent` with `home` (computed from the original, so
    /// reinstalling rewrites).
    pub fn wrapped(&self, home: &str, agent: &str, value_offset: usize) -> String {
        let text = &self.original;
        let at = value_offset + self.start.offset;
        match &self.start.form {
            StartForm::Command => {
                format!("{}{}{}", &text[..at], prefix(home, agent), &text[at..])
            }
            StartForm::Daemon {
                exec_end,
                separator_end,
                exec,
            } => {
                let (exec_end, separator_end) =
                    (value_offset + exec_end, value_offset + separator_end);
                format!(
                    "{}env WHATAP_HOME={home} {} --startas {agent}{} {exec}{}",
                    &text[..at],
                    &text[at..exec_end],
                    &text[exec_end..separator_end],
                    &text[separator_end..]
                )
            }
        }
    }
}

/// What a start file holds: the lines that start the app, and lines wrapped by hand.
#[derive(Debug, Default)]
pub struct StartScan {
    /// (line, value offset inside the line: 0 for scripts, after `command =` for supervisor).
    pub starts: Vec<(StartLine, usize)>,
    pub by_hand: Vec<usize>,
    pub supervisor: bool,
}

fn supervisor_command(body: &str) -> Option<usize> {
    let (key, _) = body.split_once('=')?;
    if key.trim() != "command" {
        return None;
    }
    let eq = body.find('=')?;
    let rest = &body[eq + 1..];
    Some(eq + 1 + (rest.len() - rest.trim_start().len()))
}

/// Finds the start lines in a shell/upstart script or a supervisor program file.
pub fn scan_start_file(content: &[u8]) -> StartScan {
    let mut scan = StartScan::default();
    let lines = split_lines(content);
    scan.supervisor = lines.iter().any(|l| {
        String::from_utf8_lossy(line_body(l))
            .trim_start()
            .starts_with("[program:")
    });
    let vars = if scan.supervisor {
        Vars::new()
    } else {
        assignments(&lines)
    };
    let mut section: Option<String> = None;
    let mut users: std::collections::BTreeMap<String, String> = Default::default();
    for (index, raw) in lines.iter().enumerate() {
        let Ok(now) = std::str::from_utf8(line_body(raw)) else {
            continue;
        };
        let trimmed = now.trim();
        if scan.supervisor && trimmed.starts_with('[') {
            section = trimmed
                .strip_prefix("[program:")
                .and_then(|s| s.strip_suffix(']'))
                .map(str::to_string);
            continue;
        }
        if let (Some(program), Some(("user", user))) = (
            &section,
            trimmed.split_once('=').map(|(k, v)| (k.trim(), v.trim())),
        ) {
            users.insert(program.clone(), user.to_string());
        }
        let original = unwrap(now);
        let value_offset = if scan.supervisor {
            match (&section, supervisor_command(&original)) {
                (Some(_), Some(offset)) => offset,
                _ => continue,
            }
        } else {
            0
        };
        if wrapped_by_hand(&original) {
            scan.by_hand.push(index + 1);
            continue;
        }
        if let Some(start) = find_start_in(&original[value_offset..], &vars) {
            scan.starts.push((
                StartLine {
                    line: index + 1,
                    now: now.to_string(),
                    original,
                    start,
                    program: section.clone(),
                    user: None,
                },
                value_offset,
            ));
        }
    }
    for (line, _) in &mut scan.starts {
        line.user = line.program.as_ref().and_then(|p| users.get(p).cloned());
    }
    scan
}

/// One `ExecStart=` of a unit, where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecStart {
    /// The value with continuation lines joined.
    pub value: String,
    pub file: std::path::PathBuf,
    pub line: usize,
}

/// The `ExecStart=` values in effect after reading the unit and its drop-ins in order
/// (an empty `ExecStart=` resets the list, as systemd does).
pub fn exec_starts(files: &[(std::path::PathBuf, Vec<u8>)]) -> Vec<ExecStart> {
    super::unit::list(files, "ExecStart")
        .into_iter()
        .map(|s| ExecStart {
            value: s.value,
            file: s.file,
            line: s.line,
        })
        .collect()
}

/// The unit's `User=` (the last assignment wins, as in systemd).
pub fn unit_user(files: &[(std::path::PathBuf, Vec<u8>)]) -> Option<String> {
    super::unit::service_settings(files)
        .into_iter()
        .rfind(|s| s.key == "User")
        .map(|s| s.value)
        .filter(|v| !v.is_empty())
}

/// Splits systemd's special executable prefixes (`-`, `+`, `!`, `!!`, `:`, `@`) off a value.
pub fn exec_prefix(value: &str) -> (&str, &str) {
    let end = value
        .find(|c: char| !matches!(c, '-' | '+' | '!' | ':' | '@'))
        .unwrap_or(value.len());
    (&value[..end], &value[end..])
}

/// The drop-in that starts a unit through the agent wrapper.
pub fn systemd_dropin(home: &str, agent: &str, exec_start: &str) -> String {
    let (special, command) = exec_prefix(exec_start);
    format!(
        "# Written by `whatap install --runtime python`: starts the app through {START_AGENT}.\n\
         # `whatap uninstall` removes it; then run `systemctl daemon-reload`.\n\
         [Service]\n\
         Environment=WHATAP_HOME={home}\n\
         ExecStart=\n\
         ExecStart={special}{agent} {command}\n"
    )
}

/// The interpreter a script runs with, from its `#!` line (`#!/usr/bin/env python3` included).
pub fn shebang_interpreter(script: &Path) -> Option<std::path::PathBuf> {
    use std::io::Read;
    let mut head = [0u8; 256];
    let mut file = std::fs::File::open(script).ok()?;
    let n = file.read(&mut head).ok()?;
    let text = String::from_utf8_lossy(&head[..n]);
    let line = text.lines().next()?.strip_prefix("#!")?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let interpreter = match words.as_slice() {
        [env, name, ..] if basename(env) == "env" => which(name)?,
        [path, ..] => std::path::PathBuf::from(path),
        [] => return None,
    };
    basename(&interpreter.to_string_lossy())
        .starts_with("python")
        .then_some(interpreter)
}

/// A program name looked up in PATH, as a shell would.
pub fn which(name: &str) -> Option<std::path::PathBuf> {
    if name.contains('/') {
        return Some(std::path::PathBuf::from(name));
    }
    std::env::var_os("PATH")?
        .to_string_lossy()
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_guide_start_commands() {
        for (line, server) in [
            ("exec gunicorn myapp.wsgi", "gunicorn"),
            ("  uwsgi --ini myapp.ini", "uwsgi"),
            ("python manage.py runserver", "django"),
            (
                "FOO=1 nohup /srv/venv/bin/python3 -m uvicorn app:app &",
                "uvicorn",
            ),
            (
                "command = /usr/local/bin/uwsgi --ini /home/blog/uwsgi.ini",
                "",
            ),
        ] {
            let found = find_start(line);
            if server.is_empty() {
                assert!(found.is_none(), "{line}");
            } else {
                assert_eq!(found.expect(line).server, server, "{line}");
            }
        }
        for line in [
            "# gunicorn app",
            "python3 -c 'print(1)'",
            "echo gunicorn",
            "",
        ] {
            assert!(find_start(line).is_none(), "{line}");
        }
    }

    #[test]
    fn homes_named_by_start_files() {
        for (text, home) in [
            (
                "exec env WHATAP_HOME=/srv/w /v/whatap-start-agent gunicorn app\n",
                Some("/srv/w"),
            ),
            (
                "[program:a]\nenvironment = WHATAP_HOME=\"/srv/x\",A=1\n",
                Some("/srv/x"),
            ),
            (
                "[Service]\nEnvironment=WHATAP_HOME=/srv/y\n",
                Some("/srv/y"),
            ),
            ("  SetEnv WHATAP_HOME /srv/a\n", Some("/srv/a")),
            ("[uwsgi]\nenv = WHATAP_HOME=/srv/b\n", Some("/srv/b")),
            ("NAME=gunicorn\nWHATAP_HOME=/srv/z\n", Some("/srv/z")),
            ("# WHATAP_HOME=/commented\nexec gunicorn app\n", None),
            ("WHATAP_HOME=$HOME/whatap\n", None),
        ] {
            assert_eq!(named_home(text).as_deref(), home, "{text}");
        }
    }

    #[test]
    fn wrap_and_unwrap_are_inverse() {
        let content = b"#!/bin/sh\nexec gunicorn -b 127.0.0.1:8000 app:application\n";
        let scan = scan_start_file(content);
        let (line, offset) = &scan.starts[0];
        let wrapped = line.wrapped("/srv/whatap", "/venv/bin/whatap-start-agent", *offset);
        assert_eq!(
            wrapped,
            "exec env WHATAP_HOME=/srv/whatap /venv/bin/whatap-start-agent gunicorn -b 127.0.0.1:8000 app:application"
        );
        assert_eq!(unwrap(&wrapped), line.now);
        // Scanning the wrapped text finds the same original again.
        let again = scan_start_file(format!("{wrapped}\n").as_bytes());
        assert_eq!(again.starts[0].0.original, line.now);
        assert!(wrapped_by_hand("exec whatap-start-agent gunicorn app"));
        assert!(!wrapped_by_hand(&wrapped));
    }

    /// The guide's init.d forms: `$DAEMON` run directly, and Debian's skeleton running it
    /// through start-stop-daemon (the `--test` probe left alone).
    #[test]
    fn init_d_scripts_with_daemon_variables() {
        let direct = b"NAME=\"gunicorn\"\nDAEMON=/usr/local/bin/gunicorn\ndo_start(){\n    $DAEMON -b :80 app\n}\n";
        let scan = scan_start_file(direct);
        assert_eq!(scan.starts.len(), 1, "{scan:?}");
        let (line, offset) = &scan.starts[0];
        assert_eq!(line.start.server, "gunicorn");
        assert_eq!(line.start.program, "/usr/local/bin/gunicorn");
        let wrapped = line.wrapped("/w", "/v/whatap-start-agent", *offset);
        assert_eq!(
            wrapped,
            "    env WHATAP_HOME=/w /v/whatap-start-agent $DAEMON -b :80 app"
        );
        assert_eq!(unwrap(&wrapped), line.now);

        let skeleton = b"DAEMON=/srv/venv/bin/gunicorn\nDAEMON_ARGS=\"-b 127.0.0.1:8000 app:application\"\ndo_start()\n{\n\tstart-stop-daemon --start --quiet --pidfile $PIDFILE --exec $DAEMON --test > /dev/null \\\n\t\t|| return 1\n\tstart-stop-daemon --start --quiet --background --pidfile $PIDFILE --exec $DAEMON -- \\\n\t\t$DAEMON_ARGS \\\n\t\t|| return 2\n}\n";
        let scan = scan_start_file(skeleton);
        assert_eq!(scan.starts.len(), 1, "{scan:?}");
        let (line, offset) = &scan.starts[0];
        assert_eq!(line.line, 7);
        let wrapped = line.wrapped("/w", "/v/whatap-start-agent", *offset);
        assert_eq!(
            wrapped,
            "\tenv WHATAP_HOME=/w start-stop-daemon --start --quiet --background --pidfile $PIDFILE --exec $DAEMON --startas /v/whatap-start-agent -- $DAEMON \\"
        );
        assert_eq!(unwrap(&wrapped), line.now);
        assert!(!wrapped_by_hand(&wrapped));
        assert_eq!(named_home(&wrapped).as_deref(), Some("/w"));
        // Scanning the wrapped script finds the same original line again.
        let text = String::from_utf8_lossy(skeleton).replace(&line.now, &wrapped);
        let again = scan_start_file(text.as_bytes());
        assert_eq!(again.starts[0].0.original, line.now);
    }

    #[test]
    fn supervisor_command_is_wrapped_after_the_key() {
        let content = b"[program:app-uwsgi]\ncommand = /usr/local/bin/uwsgi --ini /x.ini\n\n[program:nginx-app]\ncommand = /usr/sbin/nginx\n";
        let scan = scan_start_file(content);
        assert!(scan.supervisor);
        assert_eq!(scan.starts.len(), 1);
        let (line, offset) = &scan.starts[0];
        assert_eq!(line.program.as_deref(), Some("app-uwsgi"));
        assert_eq!(line.user, None);
        let with_user = scan_start_file(b"[program:a]\ncommand = gunicorn app\nuser = www-data\n");
        assert_eq!(with_user.starts[0].0.user.as_deref(), Some("www-data"));
        assert_eq!(
            line.wrapped("/w", "/v/whatap-start-agent", *offset),
            "command = env WHATAP_HOME=/w /v/whatap-start-agent /usr/local/bin/uwsgi --ini /x.ini"
        );
    }

    #[test]
    fn exec_start_resets_and_continuations() {
        let unit =
            b"[Unit]\nDescription=x\n[Service]\nExecStart=/usr/bin/gunicorn \\\n  -b :80 app\n"
                .to_vec();
        let dropin = b"[Service]\nExecStart=\nExecStart=-/srv/venv/bin/gunicorn app\n".to_vec();
        assert_eq!(
            unit_user(&[("u".into(), b"[Service]\nUser=app\n".to_vec())]).as_deref(),
            Some("app")
        );
        let found = exec_starts(&[("u".into(), unit.clone())]);
        assert_eq!(found[0].value, "/usr/bin/gunicorn -b :80 app");
        let found = exec_starts(&[("u".into(), unit), ("d".into(), dropin)]);
        assert_eq!(found.len(), 1);
        assert_eq!(
            exec_prefix(&found[0].value),
            ("-", "/srv/venv/bin/gunicorn app")
        );
        assert!(
            systemd_dropin("/w", "/v/whatap-start-agent", &found[0].value)
                .contains("ExecStart=-/v/whatap-start-agent /srv/venv/bin/gunicorn app\n")
        );
    }
}
