//! Doctor: inspect targets against the catalog and return findings (data); the printer
//! renders them. Checks are functions from what they inspect to findings.

pub mod catalog;
pub mod java;
pub mod php;

use catalog::Severity;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::settings::Lang;

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: String,
    pub severity: Severity,
    pub target: String,
    pub title: String,
    pub evidence: String,
    pub fix: String,
}

/// A finding before it is put into words: the id and the facts the words are filled from.
#[derive(Debug, Clone)]
pub struct Fact {
    pub id: &'static str,
    pub target: String,
    pub evidence: String,
    pub details: BTreeMap<String, String>,
}

impl Fact {
    pub fn new(id: &'static str, target: &str, evidence: impl Into<String>) -> Fact {
        Fact {
            id,
            target: target.to_string(),
            evidence: evidence.into(),
            details: BTreeMap::new(),
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> Fact {
        self.details.insert(key.to_string(), value.into());
        self
    }

    pub fn into_finding(self, lang: Lang) -> Finding {
        let rule = catalog::rule(self.id);
        Finding {
            id: self.id.to_string(),
            severity: rule.severity,
            target: self.target,
            title: catalog::fill(rule.title.get(lang), &self.details),
            evidence: self.evidence,
            fix: catalog::fill(rule.fix.get(lang), &self.details),
        }
    }
}

/// A collector an agent will talk to, with the whatap.conf that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectorRef {
    pub target: String,
    pub conf: PathBuf,
    pub host: String,
    pub port: u16,
}

/// What inspecting one runtime instance found: facts, and collectors to probe.
#[derive(Default)]
pub struct Inspection {
    pub facts: Vec<Fact>,
    pub collectors: Vec<CollectorRef>,
}

/// Errors first, then warnings, then info; stable within each.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by_key(|f| f.severity);
}
