//! Terminals of every kind: colour decided per stream (a report redirected to a file from a
//! terminal gets no escape codes; `NO_COLOR`, `TERM=dumb`, `CLICOLOR_FORCE`), and the legacy
//! Korean codesets (`LANG=ko_KR.eucKR`): text re-encoded, English where Hangul cannot be shown.
//! util-linux `script` runs the binary on a real pseudo-terminal.

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

fn hangul(text: &str) -> bool {
    text.chars().any(|c| ('가'..='힣').contains(&c))
}

/// The legacy Korean terminals of JEUS and WebLogic hosts: every line in EUC-KR, readable as
/// such (and not as UTF-8), errors and hints included; the JSON document stays UTF-8.
#[test]
fn an_euc_kr_terminal_gets_euc_kr() {
    let (_dir, home, state) = installed("tomcat9");
    for locale in ["ko_KR.eucKR", "ko_KR.EUC-KR", "ko_KR.CP949"] {
        let out = whatap(&state)
            .env("LANG", locale)
            .args(["doctor", "--no-network", "--home"])
            .arg(&home)
            .output()
            .unwrap();
        assert!(
            std::str::from_utf8(&out.stdout).is_err(),
            "{locale}: still UTF-8: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let (text, had_errors) = encoding_rs::EUC_KR.decode_without_bom_handling(&out.stdout);
        assert!(!had_errors, "{locale}: not EUC-KR: {text}");
        assert!(hangul(&text), "{locale}: no Hangul: {text}");

        let refused = whatap(&state)
            .env("LANG", locale)
            .args(["install", "--host", "127.0.0.1"])
            .output()
            .unwrap();
        let (text, had_errors) = encoding_rs::EUC_KR.decode_without_bom_handling(&refused.stderr);
        assert!(!had_errors && text.contains("--license"), "{text}");
        assert!(hangul(&text), "{text}");
    }
    let json = whatap(&state)
        .env("LANG", "ko_KR.eucKR")
        .args(["doctor", "--no-network", "--json", "--home"])
        .arg(&home)
        .output()
        .unwrap();
    let document = json_of(&json.stdout);
    assert!(
        hangul(&document["findings"].to_string()) || document["findings"] == serde_json::json!([]),
        "{document}"
    );
}

fn json_of(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("a UTF-8 JSON document")
}

/// A codeset that has no Hangul (ISO-8859-1): Korean asked for, English shown.
#[test]
fn a_codeset_without_hangul_gets_english() {
    let dir = tempfile::tempdir().unwrap();
    let out = whatap(dir.path())
        .env("LC_ALL", "ko_KR.ISO-8859-1")
        .args(["--lang", "ko", "install", "--host", "127.0.0.1"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stderr).unwrap();
    assert!(text.contains("--license is required"), "{text}");
}

/// `doctor --bundle` counts its steps on a terminal, and says where the bundle went.
#[test]
fn the_bundle_shows_its_progress_on_a_terminal() {
    if !have_script() {
        return;
    }
    let (dir, home, state) = installed("tomcat9");
    let bundle = dir.path().join("b.tar.gz");
    let line = format!(
        "{} --bundle {}",
        doctor_line(&state, &home),
        quoted(&bundle.display().to_string())
    );
    let shown = String::from_utf8_lossy(&on_a_terminal(&line, "xterm")).into_owned();
    let counted = regex::Regex::new(r"bundle .* \d+/\d+").unwrap();
    assert!(counted.is_match(&shown), "{shown:?}");
    assert!(shown.contains("Support bundle written"), "{shown}");
    assert!(bundle.is_file());
}
