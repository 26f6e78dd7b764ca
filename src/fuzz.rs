//! Fuzzing without cargo-fuzz: proptest throws arbitrary bytes at every parser the product
//! has and checks that none panics and that each keeps its invariants. A new parser gets its
//! own `proptest!` case here.

use crate::detect::process::parse_cmdline;
use crate::edit::eol::{Eol, split_lines};
use crate::edit::{MarkerStyle, conf, heredoc, marker};
use crate::plan::{Edit, Ownership, Plan, Validation, diff};
use proptest::prelude::*;
use std::path::PathBuf;

/// Bytes biased towards what the parsers look for: markers, `=`, `<<`, NULs, line breaks.
fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..16),
        Just(marker::MARKER.as_bytes().to_vec()),
        Just(b"rem ".to_vec()),
        Just(b"cat <<EOF\n".to_vec()),
        Just(b"EOF\n".to_vec()),
        Just(b"license=".to_vec()),
        Just(b" = ".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"\xef\xbb\xbf".to_vec()),
        Just(b"-javaagent:".to_vec()),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|p| p.concat())
}

/// Text shaped like XML configs: tags, attributes, comments, CDATA, broken pieces.
fn hostile_xml() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"<domain>".to_vec()),
        Just(b"</domain>".to_vec()),
        Just(b"<server a=\"1\">".to_vec()),
        Just(b"</server>".to_vec()),
        Just(b"<jvm-option>-Xmx1g</jvm-option>".to_vec()),
        Just(b"<empty/>".to_vec()),
        Just(b"<!-- <server> -->".to_vec()),
        Just(b"<![CDATA[</server>]]>".to_vec()),
        Just(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"  ".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..8),
    ];
    proptest::collection::vec(piece, 0..30).prop_map(|p| p.concat())
}

const SECRET: &str = "x41pl22ek7jhv-z43cebasdv4il7-z62p3l35fj5502";

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn line_splitting_keeps_every_byte(bytes in hostile_bytes()) {
        prop_assert_eq!(split_lines(&bytes).concat(), bytes.clone());
        let _ = Eol::detect(&bytes, Eol::Lf);
    }

    #[test]
    fn marker_finder(bytes in hostile_bytes()) {
        let lines = split_lines(&bytes).len();
        prop_assert_eq!(heredoc::body_lines(&split_lines(&bytes)).len(), lines);
        for style in [MarkerStyle::Shell, MarkerStyle::Bat] {
            match marker::find_block(&bytes, style) {
                Ok(Some(span)) => {
                    prop_assert!(span.start < span.end && span.end < lines);
                    prop_assert_eq!(marker::block_inner(&bytes, span).len(), span.end - span.start - 1);
                    let removed = marker::remove_block(&bytes, span);
                    prop_assert!(removed.len() < bytes.len());
                    prop_assert_eq!(marker::find_block(&removed, style), Ok(None));
                    let inner = vec!["A=1".to_string()];
                    let replaced = marker::replace_block(&bytes, span, style, &inner);
                    let again = marker::find_block(&replaced, style);
                    prop_assert!(matches!(again, Ok(Some(_))), "{:?}", again);
                }
                Ok(None) => {}
                Err(e) => prop_assert!(e.line() >= 1 && e.line() <= lines),
            }
        }
    }

    #[test]
    fn whatap_conf_reader(bytes in hostile_bytes(), value in "[A-Za-z0-9./_-]{1,20}") {
        let keys = conf::parse(&bytes);
        for (key, v) in &keys {
            prop_assert!(!key.is_empty() && !key.contains('\n') && !v.contains('\n'));
        }
        prop_assert_eq!(conf::merge(&bytes, &[]), bytes.clone());
        let merged = conf::merge(&bytes, &[("whatap.server.host", Some(&value))]);
        prop_assert_eq!(conf::parse(&merged).get("whatap.server.host").cloned(), Some(value.clone()));
        if !keys.contains_key("whatap.server.host") {
            let removed = conf::merge(&merged, &[("whatap.server.host", None)]);
            prop_assert_eq!(removed, bytes.clone());
        }
    }

    #[test]
    fn proc_cmdline_parser(bytes in hostile_bytes()) {
        let args = parse_cmdline(&bytes);
        prop_assert!(args.len() <= bytes.split(|b| *b == 0).count());
        prop_assert!(args.iter().all(|a| !a.is_empty() && !a.contains('\0')));
        let _ = crate::detect::process::java_property(&args, "catalina.base");
        let _ = crate::detect::process::javaagents(&args);
    }

    #[test]
    fn diff_renderer(before in hostile_bytes(), after in hostile_bytes(), binary in any::<bool>()) {
        let mut after = after;
        after.extend_from_slice(format!("\nlicense={SECRET}\n").as_bytes());
        let plan = Plan {
            edits: vec![Edit {
                path: PathBuf::from("/t/whatap.conf"),
                via: None,
                before: Some(before),
                after: Some(after),
                create_mode: 0o600,
                create_owner: None,
                validation: Validation::None,
                ownership: Ownership::Whole,
                binary,
            }],
            ..Plan::default()
        };
        let secrets = vec![SECRET.to_string()];
        let text = diff::render(&plan, &|s| crate::ui::mask::redact(s, &secrets));
        prop_assert!(!text.contains(SECRET), "the license leaked into the diff");
        for line in text.lines() {
            let known = ["-", "+", " ", "@@ ", "\\ No newline", "# ", "Binary file "];
            prop_assert!(line.is_empty() || known.iter().any(|k| line.starts_with(k)), "{:?}", line);
        }
    }

    #[test]
    fn xml_locator(bytes in hostile_xml()) {
        // Whatever it finds lies inside the file, in order; a well-formed file stays so after
        // a splice of an element at a found offset.
        if let Ok(elements) = crate::edit::xml::elements(&bytes) {
            for e in &elements {
                prop_assert!(e.start < e.open_end && e.open_end <= e.close_start);
                prop_assert!(e.close_start <= bytes.len());
            }
            if crate::edit::xml::check(&bytes).is_ok() {
                // A child goes into an element with an end tag; `<empty/>` has no room for one.
                if let Some(first) = elements.iter().find(|e| e.open_end < e.close_start) {
                    let insert = crate::edit::xml::first_children(
                        &bytes,
                        first,
                        &["<jvm-option>-Dwhatap=1</jvm-option>".to_string()],
                    );
                    let spliced = crate::edit::xml::splice(&bytes, &[insert]);
                    prop_assert!(crate::edit::xml::check(&spliced).is_ok());
                }
            }
        }
    }

    #[test]
    fn php_info_parser(text in "(\\PC|\n){0,200}", api in "[0-9]{8}") {
        let _ = crate::runtimes::php::sapi::parse_info(&text);
        let with_api = format!("{text}\nPHP API => {api}\nThread Safety => enabled\n");
        if let Some(info) = crate::runtimes::php::sapi::parse_info(&with_api) {
            prop_assert!(!info.api.is_empty());
        }
    }

    #[test]
    fn flag_validators(raw in "\\PC{0,40}") {
        if let Ok(hosts) = crate::settings::parse_hosts(&raw) {
            for host in hosts {
                prop_assert!(host.chars().all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c)), "{}", host);
            }
        }
        if crate::runtimes::java::agent::check_plain("--name", &raw, MarkerStyle::Shell).is_ok() {
            prop_assert!(!raw.contains(['"', '\'', '$', '`', ' ', ';', '\\', '\n', '%']));
        }
    }
}
