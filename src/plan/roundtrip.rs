//! The round-trip property every writer must keep, over generated files of every kind
//! (shell, .bat, ini, properties, whatap.conf; LF, CRLF, mixed or bare-CR endings, no final
//! newline, a byte order mark, Latin-1 and EUC-KR bytes, very long lines, tabs, here-documents,
//! existing or broken marker blocks):
//! - install(install(f)) == install(f);
//! - uninstall(install(f)) == f, byte for byte, where f holds no block of ours already;
//! - edits a person makes after install survive uninstall.
//!
//! A new writer (a runtime's own file format) is one line in `WRITERS`.

use super::Ownership;
use super::edits::{block_bytes, keys_bytes};
use super::reverse::remove_ours;
use crate::edit::MarkerStyle;
use crate::edit::marker::{self, InsertAt};
use proptest::prelude::*;
use std::path::Path;

/// A file's current bytes (None: absent) -> its bytes after install, and what the ledger keeps.
type Writer = fn(Option<&[u8]>) -> Result<(Vec<u8>, Ownership), String>;

fn agent_block(style: MarkerStyle) -> Vec<String> {
    crate::runtimes::java::agent::agent_block(
        style,
        "JAVA_OPTS",
        Path::new("/opt/whatap"),
        "whatap.agent.tracer-2.2.33.jar",
        false,
        " -Dwhatap.port=8080",
    )
    .expect("template renders")
}

fn conf_keys() -> Vec<(String, String)> {
    [
        ("license", "x41pl22ek7jhv-z43cebasdv4il7-z62p3l35fj5502"),
        ("whatap.server.host", "10.0.0.1/10.0.0.2"),
        ("cypher_level", "256"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec()
}

const WRITERS: &[(&str, Writer)] = &[
    ("sh block at end", |f| {
        block_bytes(
            f,
            MarkerStyle::Shell,
            &agent_block(MarkerStyle::Shell),
            InsertAt::End,
        )
        .map_err(|e| e.to_string())
    }),
    ("sh block after header", |f| {
        let inner = agent_block(MarkerStyle::Shell);
        block_bytes(f, MarkerStyle::Shell, &inner, InsertAt::AfterHeader).map_err(|e| e.to_string())
    }),
    ("bat block at end", |f| {
        block_bytes(
            f,
            MarkerStyle::Bat,
            &agent_block(MarkerStyle::Bat),
            InsertAt::End,
        )
        .map_err(|e| e.to_string())
    }),
    ("bat block after header", |f| {
        let inner = agent_block(MarkerStyle::Bat);
        block_bytes(f, MarkerStyle::Bat, &inner, InsertAt::AfterHeader).map_err(|e| e.to_string())
    }),
    ("ini section at end (php.ini without a scan dir)", |f| {
        let inner = vec!["[whatap]".to_string(), "extension=whatap.so".to_string()];
        block_bytes(f, MarkerStyle::Ini, &inner, InsertAt::End).map_err(|e| e.to_string())
    }),
    ("sh block before a line (jetty.sh, startWebLogic.sh)", |f| {
        let inner = agent_block(MarkerStyle::Shell);
        block_bytes(f, MarkerStyle::Shell, &inner, InsertAt::BeforeLine(1))
            .map_err(|e| e.to_string())
    }),
    ("whatap.conf keys", |f| {
        Ok(keys_bytes(f.unwrap_or_default(), &conf_keys()))
    }),
];

const SHELL: &[&str] = &[
    "#!/bin/sh",
    "# Licensed to the Apache Software Foundation",
    "JAVA_OPTS=\"$JAVA_OPTS -Xmx1g\"",
    "export CATALINA_PID=\"$CATALINA_BASE/tomcat.pid\"",
    "\tif [ -r \"$CATALINA_BASE/bin/setenv.sh\" ]; then",
    "fi",
    "cat <<EOF",
    "cat <<-'END' >> out.txt",
    "\tEND",
    "EOF",
    "echo \"<<EOF\" $((1 << 2))",
    "echo '########## WHATAP ############'",
    "#  ########## WHATAP ############",
];
const BAT: &[&str] = &[
    "@echo off",
    "rem Licensed to the Apache Software Foundation",
    "setlocal",
    "set \"JAVA_OPTS=%JAVA_OPTS% -Xmx1g\"",
    "if not \"%JAVA_OPTS:whatap=%\" == \"%JAVA_OPTS%\" goto skip",
    ":skip",
];
const INI: &[&str] = &[
    "[PHP]",
    "; About php.ini",
    "memory_limit = 128M",
    "extension=whatap.so",
    "  ;extension=bz2",
    "[whatap]",
];
const PROPERTIES: &[&str] = &[
    "! comment",
    "key: value",
    "multi = first \\",
    "    second",
    "spaced\tkey = tabbed\tvalue",
];
const CONF: &[&str] = &[
    "license=old-license-key-1234",
    "license = old  ",
    "whatap.server.host=1.2.3.4",
    "whatap.server.host =",
    "# whatap.conf",
    "=no key",
    "cypher_level=128\t",
];

fn line() -> impl Strategy<Value = Vec<u8>> {
    let pools = [SHELL, BAT, INI, PROPERTIES, CONF].concat();
    prop_oneof![
        6 => proptest::sample::select(pools).prop_map(|l| l.as_bytes().to_vec()),
        1 => Just(marker::MARKER.as_bytes().to_vec()),
        1 => Just(format!("REM {}", marker::MARKER).into_bytes()),
        1 => Just(Vec::new()),
        // A bare carriage return at the end of a line (old Mac endings, stray editors).
        1 => Just(b"trailing=cr\r".to_vec()),
        // Latin-1 and EUC-KR values.
        1 => Just(b"whatap.name=caf\xe9 \xc7\xd1\xb1\xdb".to_vec()),
        // Any bytes but a line feed; a carriage return mid-line included.
        2 => proptest::collection::vec(any::<u8>().prop_filter("no LF", |b| *b != b'\n'), 0..40),
        1 => Just(format!("LONG={}", "x\t".repeat(20_000)).into_bytes()),
    ]
}

/// A file: lines joined by LF, CRLF or a random mix, maybe a BOM, maybe no final line break.
fn file() -> impl Strategy<Value = Vec<u8>> {
    let ending = prop_oneof![Just(&b"\n"[..]), Just(&b"\r\n"[..])];
    (
        any::<bool>(),
        proptest::collection::vec((line(), ending), 0..24),
        0..3u8,
        any::<bool>(),
    )
        .prop_map(|(bom, lines, eol_mode, final_break)| {
            let mut out = Vec::new();
            if bom {
                out.extend_from_slice(b"\xef\xbb\xbf");
            }
            let count = lines.len();
            for (i, (text, mixed)) in lines.into_iter().enumerate() {
                out.extend_from_slice(&text);
                if i + 1 < count || final_break {
                    out.extend_from_slice(match eol_mode {
                        0 => b"\n",
                        1 => b"\r\n",
                        _ => mixed,
                    });
                }
            }
            out
        })
}

fn holds_block(f: &[u8], ownership: &Ownership) -> bool {
    match ownership {
        Ownership::Block { style, .. } => marker::find_block(f, *style) != Ok(None),
        _ => false,
    }
}

fn uninstall(current: &[u8], ownership: &Ownership) -> Vec<u8> {
    remove_ours(Path::new("f"), current, ownership, None, &mut Vec::new())
        .expect("our part is intact")
        .expect("our part is present")
}

fn check(name: &str, write: Writer, f: &[u8]) -> Result<(), TestCaseError> {
    // A refusal (broken markers, no safe place for the block) is a safe outcome.
    let Ok((installed, ownership)) = write(Some(f)) else {
        return Ok(());
    };
    let (again, _) = write(Some(&installed))
        .map_err(|e| TestCaseError::fail(format!("{name}: reinstall refused: {e}")))?;
    prop_assert!(again == installed, "{name}: install is not idempotent");
    if holds_block(f, &ownership) {
        return Ok(());
    }
    prop_assert!(
        uninstall(&installed, &ownership) == f,
        "{name}: uninstall(install(f)) != f"
    );
    let mut edited = b"# edited by hand after install\n".to_vec();
    edited.extend_from_slice(&installed);
    let mut expected = b"# edited by hand after install\n".to_vec();
    expected.extend_from_slice(f);
    prop_assert!(
        uninstall(&edited, &ownership) == expected,
        "{name}: a later edit was lost"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn every_writer_round_trips(f in file()) {
        for (name, write) in WRITERS {
            check(name, *write, &f)?;
        }
    }
}

#[test]
fn every_writer_creates_and_removes_a_new_file() {
    for (name, write) in WRITERS {
        let (created, ownership) = write(None).unwrap();
        assert_eq!(write(Some(&created)).unwrap().0, created, "{name}");
        assert!(uninstall(&created, &ownership).is_empty(), "{name}");
    }
}

/// Real files: the shared upstream corpus (php.ini, resin, JEUS), the fixture trees and the
/// host's Tomcat scripts. None holds a marker, so every writer must accept every one of them
/// (a refusal would be a here-document seen where there is none) and round-trip it.
#[test]
fn every_writer_round_trips_real_files() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![manifest.join("fixtures")];
    let corpus = [
        manifest.join("../shared/corpus"),
        "/work/shared/corpus".into(),
    ]
    .into_iter()
    .find(|d| d.is_dir());
    match corpus {
        Some(dir) => dirs.push(dir),
        None => eprintln!("SKIPPED: the shared corpus is not beside the repository"),
    }
    dirs.extend(
        ["/usr/share/tomcat10/bin", "/usr/share/tomcat9/bin"]
            .map(std::path::PathBuf::from)
            .into_iter()
            .filter(|d| d.is_dir()),
    );
    let mut files = Vec::new();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => dirs.push(path),
                Ok(kind) if kind.is_file() => files.push(path),
                _ => {}
            }
        }
    }
    assert!(files.len() > 10, "{} files", files.len());
    for path in files {
        let f = std::fs::read(&path).unwrap();
        if f.contains(&0) {
            continue; // a jar beside the scripts: never a target
        }
        for (name, write) in WRITERS {
            let refused = write(Some(&f)).err();
            assert!(
                refused.is_none(),
                "{name} refused {}: {refused:?}",
                path.display()
            );
            check(name, *write, &f).unwrap_or_else(|e| panic!("{name} on {}: {e}", path.display()));
        }
    }
}
