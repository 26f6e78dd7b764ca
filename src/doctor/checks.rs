//! `checks[]`: every rule of the catalog with what became of it on this run — `fail` (it found
//! something), `pass` (it looked and found nothing), `skip` (filtered out by `--only` /
//! `--skip`, needs the network under `--no-network`, is about a runtime this host does not
//! have, or is not implemented yet) — and why, in words.

use super::Finding;
use super::catalog::{self, Rule};
use crate::msg;
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: String,
    pub status: Status,
    pub why: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

/// `--only` / `--skip`: which rules run (ids checked against the catalog by `settings`).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub only: Vec<String>,
    pub skip: Vec<String>,
}

impl Filter {
    pub fn selects(&self, id: &str) -> bool {
        (self.only.is_empty() || self.only.iter().any(|o| o == id))
            && !self.skip.iter().any(|s| s == id)
    }

    /// Whether any selected rule reads logs.
    pub fn wants_logs(&self) -> bool {
        catalog::rules()
            .iter()
            .any(|r| !r.log.is_empty() && self.selects(&r.id))
    }
}

/// What this run covered: the filter, the network, the runtime kinds it inspected (their
/// names, and `java` when any JVM was), how many log files it read.
pub struct Scope<'a> {
    pub filter: &'a Filter,
    pub network: bool,
    pub present: BTreeSet<String>,
    pub logs: usize,
}

/// One check per catalog rule, in catalog order.
pub fn checks(scope: &Scope<'_>, findings: &[Finding]) -> Vec<Check> {
    catalog::rules()
        .iter()
        .map(|rule| {
            let found: Vec<&Finding> = findings.iter().filter(|f| f.id == rule.id).collect();
            let (status, why) = judge(rule, scope, &found);
            Check {
                id: rule.id.clone(),
                status,
                why,
            }
        })
        .collect()
}

fn judge(rule: &Rule, scope: &Scope<'_>, found: &[&Finding]) -> (Status, String) {
    let filter = scope.filter;
    if !filter.only.is_empty() && !filter.only.contains(&rule.id) {
        return (Status::Skip, msg!("check-skip-only"));
    }
    if filter.skip.contains(&rule.id) {
        return (Status::Skip, msg!("check-skip-skip"));
    }
    if let Some(first) = found.first() {
        return (
            Status::Fail,
            msg!("check-fail", count = found.len(), evidence = first.evidence),
        );
    }
    if !rule.implemented {
        return (Status::Skip, msg!("check-skip-planned"));
    }
    if rule.network && !scope.network {
        return (Status::Skip, msg!("check-skip-network"));
    }
    if !rule.runtimes.is_empty() && !rule.runtimes.iter().any(|r| scope.present.contains(r)) {
        return (
            Status::Skip,
            msg!("check-skip-runtime", runtimes = rule.runtimes.join(", ")),
        );
    }
    if rule.looks_at.iter().all(|l| l == "log") && scope.logs == 0 {
        return (Status::Skip, msg!("check-skip-no-logs"));
    }
    let looked: Vec<String> = rule.looks_at.iter().map(|l| looks_at(l)).collect();
    (Status::Pass, msg!("check-pass", looked = looked.join(", ")))
}

/// A catalog `looks_at` word, in the chosen language.
fn looks_at(word: &str) -> String {
    match word {
        "config" => msg!("looks-at-config"),
        "process" => msg!("looks-at-process"),
        "log" => msg!("looks-at-log"),
        "network" => msg!("looks-at-network"),
        "firewall" => msg!("looks-at-firewall"),
        "filesystem" => msg!("looks-at-filesystem"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::catalog::Severity;

    fn finding(id: &str) -> Finding {
        Finding {
            id: id.into(),
            severity: Severity::Error,
            target: "tomcat /srv".into(),
            title: String::new(),
            evidence: "PID 7".into(),
            fix: String::new(),
        }
    }

    fn status(checks: &[Check], id: &str) -> Status {
        checks.iter().find(|c| c.id == id).unwrap().status
    }

    #[test]
    fn every_rule_is_a_check_with_its_status() {
        let filter = Filter {
            only: Vec::new(),
            skip: vec!["agent-duplicate".into()],
        };
        let scope = Scope {
            filter: &filter,
            network: false,
            present: ["tomcat".to_string(), "java".to_string()].into(),
            logs: 2,
        };
        let checks = checks(&scope, &[finding("agent-not-loaded")]);
        assert_eq!(checks.len(), catalog::rules().len());
        assert_eq!(status(&checks, "agent-not-loaded"), Status::Fail);
        assert_eq!(status(&checks, "agent-duplicate"), Status::Skip);
        assert_eq!(status(&checks, "collector-unreachable"), Status::Skip);
        assert_eq!(status(&checks, "php-api-mismatch"), Status::Skip);
        assert_eq!(status(&checks, "agent-jar-missing"), Status::Pass);
        assert_eq!(status(&checks, "license-invalid"), Status::Pass);
        assert!(checks.iter().all(|c| !c.why.is_empty()));
    }

    #[test]
    fn only_selects_and_skip_wins() {
        let filter = Filter {
            only: vec!["a".into(), "b".into()],
            skip: vec!["b".into()],
        };
        assert!(filter.selects("a"));
        assert!(!filter.selects("b"));
        assert!(!filter.selects("c"));
        assert!(Filter::default().selects("c"));
    }
}
