//! The rule catalog from `rules/catalog.toml`: ids, severities, words. Data, not code.

use crate::ui::i18n::Lang;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const CATALOG: &str = include_str!("../../rules/catalog.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Words {
    pub en: String,
    pub ko: String,
}

impl Words {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Ko => &self.ko,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    pub severity: Severity,
    pub looks_at: Vec<String>,
    pub implemented: bool,
    /// The runtime kinds the rule is about (`java`: every Java server); empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runtimes: Vec<String>,
    /// The check needs the network (skipped with `--no-network`).
    #[serde(default)]
    pub network: bool,
    pub title: Words,
    pub fix: Words,
    /// Log lines that show this failure; scanned by `doctor::logs`.
    #[serde(default)]
    pub log: Vec<LogPattern>,
    /// Words for placeholders a finding may not know (a log alone does not name the tree).
    #[serde(default)]
    pub defaults: BTreeMap<String, Words>,
}

/// A log pattern: `literal` is a substring every match contains (the fast prefilter),
/// `example` a real-format line that must match (checked by a unit test).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogPattern {
    pub literal: String,
    pub regex: String,
    pub example: String,
}

#[derive(Debug, Deserialize)]
struct File {
    rule: Vec<Rule>,
}

pub fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        toml::from_str::<File>(CATALOG)
            .expect("rules/catalog.toml is valid (checked by a unit test)")
            .rule
    })
}

pub fn rule(id: &str) -> &'static Rule {
    rules()
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("doctor rule {id} is not in rules/catalog.toml"))
}

/// Fills `{name}` placeholders from `details`; unknown ones stay as written.
pub fn fill(text: &str, details: &BTreeMap<String, String>) -> String {
    let mut out = text.to_string();
    for (key, value) in details {
        out = out.replace(&format!("{{{key}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_parses_with_unique_ids() {
        let ids: Vec<&str> = rules().iter().map(|r| r.id.as_str()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len(), "duplicate ids");
        for rule in rules() {
            assert!(
                !rule.title.en.is_empty() && !rule.title.ko.is_empty(),
                "{}",
                rule.id
            );
            assert!(
                !rule.fix.en.is_empty() && !rule.fix.ko.is_empty(),
                "{}",
                rule.id
            );
        }
    }

    #[test]
    fn every_contract_id_is_in_the_catalog() {
        let contract = "collector-unreachable conf-missing-key license-invalid firewall-blocks-collector \
            udp-port-conflict agent-not-loaded agent-duplicate agent-jar-missing jboss-modules-system-pkgs \
            jboss-logmanager jboss-mbeanserver port-not-detected osgi-bootdelegation websphere-allowed-packages \
            java-policy-permission jce-illegal-key-size sigar-not-executable sigar-aix7-missing ibm-jdk-attach \
            php-api-not-found php-ini-dir-not-found php-module-not-loaded php-api-mismatch php-restart-needed \
            python-conf-error python-log-error python-agent-not-running python-not-wrapped infra-not-running";
        for id in contract.split_whitespace() {
            rule(id);
        }
    }
}
