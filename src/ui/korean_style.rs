//! The Korean house style, checked over every Korean text (messages and the doctor catalog):
//! the vendor guide's glossary, particles attached to the word before, no particle whose form
//! depends on a `{placeholder}`'s last sound right after it, and every backticked command,
//! flag or path of the English present in the Korean.

use regex::Regex;
use std::collections::BTreeSet;

/// Words the guide spells otherwise (the right one after the arrow).
pub const FORBIDDEN: [(&str, &str); 11] = [
    ("에러", "오류"),
    ("디렉토리", "디렉터리"),
    ("파이썬", "Python"),
    ("라이센스", "라이선스"),
    ("콜렉터", "수집 서버"),
    ("컬렉터", "수집 서버"),
    ("설정파일", "설정 파일"),
    ("기동스크립트", "기동 스크립트"),
    ("증거", "근거"),
    ("도움말", "조치 (a hint)"),
    ("dry run", "시험 실행"),
];

const PARTICLES: &str = "은|는|이|가|을|를|에|에서|의|로|으로|와|과|도|만|까지|부터|로의|으로의|에는|에서는|로는|으로는|이나|나|라는|이라는";

/// What is wrong with `ko` as the Korean of `en`, one line each.
pub fn problems(en: &str, ko: &str) -> Vec<String> {
    static SPACED: std::sync::OnceLock<(Regex, Regex, Regex)> = std::sync::OnceLock::new();
    let (spaced, after_placeholder, ticks) = SPACED.get_or_init(|| {
        (
            Regex::new(&format!(r"[A-Za-z0-9`)\]}}] ({PARTICLES})([\s.,:;)(]|$)")).unwrap(),
            // Only the particles whose form follows the last sound (을/를, 이/가, ...).
            Regex::new(r"\}\s?(은|는|이|가|을|를|와|과|로|으로)([^가-힣]|$)").unwrap(),
            Regex::new(r"`[^`]+`").unwrap(),
        )
    });
    let mut out = Vec::new();
    if let Some(m) = spaced.find(ko) {
        out.push(format!("a space before a particle: {:?}", m.as_str()));
    }
    if let Some(m) = after_placeholder.find(ko) {
        out.push(format!(
            "a particle right after a placeholder: {:?}",
            m.as_str()
        ));
    }
    for (wrong, right) in FORBIDDEN {
        if ko.contains(wrong) {
            out.push(format!("{wrong:?}: the guide says {right}"));
        }
    }
    let tokens = |text| -> BTreeSet<&str> { ticks.find_iter(text).map(|m| m.as_str()).collect() };
    if tokens(en) != tokens(ko) {
        out.push(format!(
            "backticked tokens differ: en {:?}, ko {:?}",
            tokens(en),
            tokens(ko)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checker_catches_each_kind_of_slip() {
        assert!(problems("a", "whatap.conf 에 없습니다").len() == 1);
        assert!(problems("a", "{key}를 설정하세요").len() == 1);
        assert!(problems("a", "{key}이(가) 없습니다").len() == 1);
        assert!(problems("a", "디렉토리").len() == 1);
        assert!(problems("`whatap install`", "설치하세요").len() == 1);
        for fine in [
            "{key} 값을 설정하세요",
            "{host}까지",
            "{file}에 있습니다",
            "이 파일. 이 값",
            "{count} 이상",
        ] {
            assert_eq!(problems("", fine), Vec::<String>::new(), "{fine}");
        }
    }

    /// Every rule of the doctor catalog reads like the vendor guide; JVMs are 재기동, PHP,
    /// Python and the infra agent 재시작.
    #[test]
    fn the_doctor_catalog_reads_like_the_guide() {
        let mut bad = Vec::new();
        for rule in crate::doctor::catalog::rules() {
            for (part, words) in [("title", &rule.title), ("fix", &rule.fix)] {
                let mut found = problems(&words.en, &words.ko);
                let runtimes: Vec<&str> = rule.runtimes.iter().map(String::as_str).collect();
                let jvm_only = !runtimes.is_empty()
                    && runtimes
                        .iter()
                        .all(|r| !matches!(*r, "php" | "python" | "infra" | "nodejs"));
                let services_only = !runtimes.is_empty()
                    && runtimes
                        .iter()
                        .all(|r| matches!(*r, "php" | "python" | "infra" | "nodejs"));
                if jvm_only && words.ko.contains("재시작") {
                    found.push("a JVM is 재기동, not 재시작".into());
                }
                if services_only && words.ko.contains("재기동") {
                    found.push("PHP, Python and services are 재시작, not 재기동".into());
                }
                bad.extend(
                    found
                        .into_iter()
                        .map(|p| format!("{}.{part}: {p}", rule.id)),
                );
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    /// Every message reads like the vendor guide too.
    #[test]
    fn every_message_reads_like_the_guide() {
        let messages: std::collections::BTreeMap<
            String,
            std::collections::BTreeMap<String, String>,
        > = toml::from_str(include_str!("../../messages/messages.toml")).unwrap();
        let bad: Vec<String> = messages
            .iter()
            .flat_map(|(id, m)| {
                problems(&m["en"], &m["ko"])
                    .into_iter()
                    .map(move |p| format!("{id}: {p}"))
            })
            .collect();
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}
