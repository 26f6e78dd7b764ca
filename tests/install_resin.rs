//! Resin 4: jvm_args merged into resin.properties (a fixture without a final newline, and every
//! real upstream resin.properties in ../shared/corpus), `<jvm-arg>` in resin.xml's
//! `<server-default>` (every real resin.xml: the old layouts take it, the new ones are refused
//! untouched with a hint to use resin.properties). Uninstall gives back the exact bytes.

mod common;

use common::*;
use std::fs;
use std::path::{Path, PathBuf};

fn json(output: &[u8]) -> serde_json::Value {
    serde_json::from_slice(output)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(output)))
}

fn corpus(dir: &str) -> Vec<PathBuf> {
    let root = repo().join("../shared/corpus").join(dir);
    let mut files: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files
}

fn resin_install(home: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = install_args(home);
    args.extend(["--runtime", "resin", "--port", "8080"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// The `jvm_args` value Resin reads (the last active line).
fn jvm_args(content: &str) -> Option<String> {
    content
        .lines()
        .filter(|l| l.trim_start().starts_with("jvm_args"))
        .filter_map(|l| l.split_once([':', '=']).map(|(_, v)| v.trim().to_string()))
        .next_back()
}

/// A Resin home holding `file` as conf/<name>; install, reinstall, uninstall. Returns the
/// installed bytes, or None when install was refused (then nothing may have changed).
fn round_trip(file: &Path, name: &str, extra: &[&str]) -> Option<(String, Vec<u8>)> {
    let (dir, home) = product_fixture("resin", "resin-4.0.66");
    let config = home.join("conf").join(name);
    fs::write(&config, fs::read(file).unwrap()).unwrap();
    let before = tree_bytes(&home);
    let state = dir.path().join("state");
    let out = whatap(&state)
        .args(resin_install(&home, extra))
        .args(["--yes", "--json"])
        .output()
        .unwrap();
    if out.status.code() == Some(3) {
        assert_same_tree(&tree_bytes(&home), &before, "refused install");
        return None;
    }
    assert!(
        out.status.success(),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let diff = json(&out.stdout)["diff"]
        .as_str()
        .unwrap()
        .replace(&dir.path().display().to_string(), "[TMP]");
    let installed = fs::read(&config).unwrap();
    let again = whatap(&state)
        .args(resin_install(&home, extra))
        .args(["--yes", "--json"])
        .output()
        .unwrap();
    assert_eq!(json(&again.stdout)["changed"], false, "{}", file.display());
    whatap(&state)
        .args(["uninstall", "--yes", "--runtime", "resin", "--home"])
        .arg(&home)
        .assert()
        .success();
    assert_same_tree(&tree_bytes(&home), &before, &file.display().to_string());
    Some((diff, installed))
}

#[test]
fn fixture_jvm_args_merge_without_final_newline() {
    let fixture = repo().join("fixtures/resin/resin-4.0.66/conf/resin.properties");
    let (diff, installed) = round_trip(&fixture, "resin.properties", &[]).unwrap();
    let text = String::from_utf8(installed).unwrap();
    let value = jvm_args(&text).unwrap();
    assert!(
        value.starts_with("-Xmx1024m -XX:+UseG1GC -javaagent:"),
        "{value}"
    );
    assert!(value.ends_with("-Dwhatap.port=8080"), "{value}");
    insta::assert_snapshot!("resin-properties", diff);
}

#[test]
fn every_real_resin_properties_merges() {
    let files = corpus("resin-properties");
    assert!(files.len() >= 10, "corpus not found");
    for file in files {
        let original = fs::read_to_string(&file).unwrap();
        let (_, installed) = round_trip(&file, "resin.properties", &[]).unwrap();
        let value = jvm_args(&String::from_utf8(installed).unwrap()).unwrap();
        if let Some(old) = jvm_args(&original) {
            assert!(value.starts_with(&old), "{}: {value}", file.display());
        }
        assert!(value.contains("-javaagent:"), "{}", file.display());
    }
}

#[test]
fn every_real_resin_xml_takes_jvm_arg_or_is_refused_untouched() {
    let files = corpus("resin-xml");
    assert!(files.len() >= 10, "corpus not found");
    let mut changed = 0;
    for file in files {
        let original = fs::read_to_string(&file).unwrap();
        let old_layout = original.contains("<server-default>");
        match round_trip(&file, "resin.xml", &["--method", "xml"]) {
            Some((_, installed)) => {
                assert!(old_layout, "{}", file.display());
                let text = String::from_utf8(installed).unwrap();
                assert!(text.contains("<jvm-arg>-Dwhatap.port=8080</jvm-arg>"));
                let mut reader = quick_xml::Reader::from_str(&text);
                loop {
                    match reader.read_event() {
                        Ok(quick_xml::events::Event::Eof) => break,
                        Ok(_) => {}
                        Err(e) => panic!("{}: {e}", file.display()),
                    }
                }
                changed += 1;
            }
            None => assert!(!old_layout, "{} was refused", file.display()),
        }
    }
    assert!(changed >= 5);
}
