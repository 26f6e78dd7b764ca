//! Terminals of every kind: colour decided per stream (a report redirected to a file from a
//! terminal gets no escape codes; `NO_COLOR`, `TERM=dumb`, `CLICOLOR_FORCE`). util-linux
//! `script` runs the binary on a real pseudo-terminal.

use crate::common::*;
use std::path::Path;
use std::process::{Command, Stdio};

const ESC: u8 = 0x1b;

fn has_escapes(bytes: &[u8]) -> bool {
    bytes.contains(&ESC)
}

/// `text` as one sh word.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `line` (sh) on a terminal of its own: what that terminal showed.
fn on_a_terminal(line: &str, term: &str) -> Vec<u8> {
    let out = Command::new("script")
        .args(["-qec", line, "/dev/null"])
        .env("TERM", term)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("WHATAP_LANG")
        .env("LANG", "C")
        .stdin(Stdio::null())
        .output()
        .expect("util-linux script");
    assert!(out.status.success(), "{line}: {out:?}");
    out.stdout
}

fn have_script() -> bool {
    must_have("util-linux script", Path::new("/usr/bin/script").exists())
}

/// `whatap doctor` of an installed fixture Tomcat, as a command line for sh.
fn doctor_line(state: &Path, home: &Path) -> String {
    format!(
        "WHATAP_STATE_DIR={} {} doctor --no-network --home {}",
        quoted(&state.display().to_string()),
        quoted(
            &assert_cmd::cargo::cargo_bin!("whatap")
                .display()
                .to_string()
        ),
        quoted(&home.display().to_string())
    )
}

#[test]
fn a_report_redirected_to_a_file_from_a_terminal_has_no_escape_codes() {
    if !have_script() {
        return;
    }
    let (dir, home, state) = installed("tomcat9");
    let report = dir.path().join("report.txt");
    let shown = on_a_terminal(&doctor_line(&state, &home), "xterm");
    assert!(
        has_escapes(&shown),
        "a terminal gets colour: {}",
        String::from_utf8_lossy(&shown)
    );
    let line = format!(
        "{} > {}",
        doctor_line(&state, &home),
        quoted(&report.display().to_string())
    );
    on_a_terminal(&line, "xterm");
    let written = std::fs::read(&report).unwrap();
    let text = String::from_utf8_lossy(&written);
    assert!(text.contains("tomcat"), "{text}");
    assert!(!has_escapes(&written), "escape codes in the file: {text:?}");
}

#[test]
fn term_dumb_and_no_color_get_none_and_clicolor_force_gets_colour() {
    if !have_script() {
        return;
    }
    let (_dir, home, state) = installed("tomcat9");
    let dumb = on_a_terminal(&doctor_line(&state, &home), "dumb");
    assert!(!has_escapes(&dumb), "{}", String::from_utf8_lossy(&dumb));
    let no_color = on_a_terminal(
        &format!("NO_COLOR=1 {}", doctor_line(&state, &home)),
        "xterm",
    );
    assert!(
        !has_escapes(&no_color),
        "{}",
        String::from_utf8_lossy(&no_color)
    );
    // No terminal at all, but asked for: CLICOLOR_FORCE colours a pipe too.
    let forced = whatap(&state)
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .args(["doctor", "--no-network", "--home"])
        .arg(&home)
        .output()
        .unwrap();
    assert!(has_escapes(&forced.stdout), "{forced:?}");
    let piped = whatap(&state)
        .env_remove("NO_COLOR")
        .args(["doctor", "--no-network", "--home"])
        .arg(&home)
        .output()
        .unwrap();
    assert!(!has_escapes(&piped.stdout), "{piped:?}");
}
