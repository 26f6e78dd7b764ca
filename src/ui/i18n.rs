//! Every user-facing sentence, in English and Korean, from `messages/messages.toml`.
//! `msg!("id", name = value)` renders one in the language chosen once in `main` (--lang,
//! WHATAP_LANG, LANG). Doctor findings keep their words in `rules/catalog.toml`.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Display;
use std::sync::atomic::{AtomicBool, Ordering};

const CATALOG: &str = include_str!("../../messages/messages.toml");

#[derive(Debug, PartialEq, Deserialize)]
struct Entry {
    en: String,
    ko: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ko,
}

static KOREAN: AtomicBool = AtomicBool::new(false);

/// The entry `id`: only its own `[id]` table is parsed (up to the next table header), not the
/// whole catalog, whose parse was the largest allocation of a doctor run. The catalog is
/// compiled in, and a test checks that every table read this way equals the full parse.
fn entry(id: &str) -> Option<Entry> {
    let header = format!("\n[{id}]\n");
    let start = CATALOG.find(&header)? + 1;
    let end = CATALOG[start + header.len() - 1..]
        .find("\n[")
        .map_or(CATALOG.len(), |at| start + header.len() - 1 + at);
    let mut table: BTreeMap<String, Entry> = toml::from_str(&CATALOG[start..end]).ok()?;
    table.remove(id)
}

pub fn set_lang(lang: Lang) {
    KOREAN.store(lang == Lang::Ko, Ordering::Relaxed);
}

pub fn lang() -> Lang {
    if KOREAN.load(Ordering::Relaxed) {
        Lang::Ko
    } else {
        Lang::En
    }
}

/// The message `id` with each `{name}` replaced; the id itself when unknown (tests forbid it).
pub fn render(id: &str, args: &[(&str, &dyn Display)]) -> String {
    let Some(entry) = entry(id) else {
        return id.to_string();
    };
    let mut text = match lang() {
        Lang::En => entry.en,
        Lang::Ko => entry.ko,
    };
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), &value.to_string());
    }
    text
}

#[macro_export]
macro_rules! msg {
    ($id:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::ui::i18n::render($id, &[$((stringify!($name), &$value as &dyn std::fmt::Display)),*])
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn catalog() -> &'static BTreeMap<String, Entry> {
        static PARSED: std::sync::OnceLock<BTreeMap<String, Entry>> = std::sync::OnceLock::new();
        PARSED.get_or_init(|| toml::from_str(CATALOG).expect("messages.toml parses"))
    }

    #[test]
    fn each_entry_read_alone_is_the_full_parses() {
        for (id, full) in catalog() {
            assert_eq!(entry(id).as_ref(), Some(full), "{id}");
        }
        assert_eq!(entry("no-such-id"), None);
    }

    fn placeholders(text: &str) -> BTreeSet<String> {
        regex::Regex::new(r"\{([a-z_]+)\}")
            .unwrap()
            .captures_iter(text)
            .map(|c| c[1].to_string())
            .collect()
    }

    #[test]
    fn every_message_has_both_languages_with_the_same_placeholders() {
        let parsed: BTreeMap<String, Entry> = toml::from_str(CATALOG).expect("messages.toml");
        assert!(!parsed.is_empty());
        for (id, entry) in &parsed {
            assert!(!entry.en.trim().is_empty(), "{id}: no English");
            assert!(!entry.ko.trim().is_empty(), "{id}: no Korean");
            assert_eq!(
                placeholders(&entry.en),
                placeholders(&entry.ko),
                "{id}: placeholders differ"
            );
        }
    }

    /// Every `msg!("id"...)` in the source names a catalog entry, and every entry is used.
    #[test]
    fn ids_in_code_and_catalog_match() {
        let call = regex::Regex::new(r#"msg!\(\s*"([a-z0-9.-]+)""#).unwrap();
        let mut used = BTreeSet::new();
        let mut pending = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let code: Vec<&str> = text
                        .lines()
                        .filter(|l| !l.trim_start().starts_with("//"))
                        .collect();
                    let code = code.join("\n");
                    used.extend(call.captures_iter(&code).map(|c| c[1].to_string()));
                }
            }
        }
        let known: BTreeSet<String> = catalog().keys().cloned().collect();
        let missing: Vec<_> = used.difference(&known).collect();
        assert!(missing.is_empty(), "not in messages.toml: {missing:?}");
        let unused: Vec<_> = known.difference(&used).collect();
        assert!(
            unused.is_empty(),
            "in messages.toml but never used: {unused:?}"
        );
    }

    #[test]
    fn renders_in_the_chosen_language() {
        assert_eq!(render("no-such-id", &[]), "no-such-id");
        let en = catalog().get("report-installed").unwrap();
        assert_ne!(en.en, en.ko);
    }
}
