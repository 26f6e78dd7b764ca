//! Resin 4: jvm_args merged into resin.properties (a fixture without a final newline, and every
//! real upstream resin.properties in ../shared/corpus), `<jvm-arg>` in resin.xml's
//! `<server-default>` (every real resin.xml: the old layouts take it, the new ones are refused
//! untouched with a hint to use resin.properties). Uninstall gives back the exact bytes.

use crate::common::*;
use std::fs;
use std::path::Path;

/// The `jvm_args` value Resin reads (the last active line).
fn jvm_args(content: &str) -> Option<String> {
    content
        .lines()
        .filter(|l| l.trim_start().starts_with("jvm_args"))
        .filter_map(|l| l.split_once([':', '=']).map(|(_, v)| v.trim().to_string()))
        .next_back()
}

/// A Resin home holding `file` as conf/<name>; install, reinstall, uninstall. Returns the
/// diff and the installed bytes, or None when install was refused (nothing may have changed).
fn resin_round_trip(file: &Path, name: &str, extra: &[&str]) -> Option<(String, Vec<u8>)> {
    let (dir, home) = product_fixture("resin", "resin-4.0.66");
    let config = home.join("conf").join(name);
    fs::write(&config, fs::read(file).unwrap()).unwrap();
    let install = runtime_install(&home, "resin", 8080, extra);
    let before = tree_bytes(&home);
    let plan = whatap(&dir.path().join("plan"))
        .args(&install)
        .arg("--dry-run")
        .output()
        .unwrap();
    if plan.status.code() == Some(3) {
        assert_same_tree(&tree_bytes(&home), &before, "refused install");
        return None;
    }
    let mut installed = Vec::new();
    let diff = round_trip(
        dir.path(),
        &home,
        &install,
        &runtime_uninstall(&home, "resin", &[]),
        || installed = fs::read(&config).unwrap(),
    );
    Some((diff, installed))
}

#[test]
fn fixture_jvm_args_merge_without_final_newline() {
    let fixture = repo().join("fixtures/resin/resin-4.0.66/conf/resin.properties");
    let (diff, installed) = resin_round_trip(&fixture, "resin.properties", &[]).unwrap();
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
        let (_, installed) = resin_round_trip(&file, "resin.properties", &[]).unwrap();
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
        match resin_round_trip(&file, "resin.xml", &["--method", "xml"]) {
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
