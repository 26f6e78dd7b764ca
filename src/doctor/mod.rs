//! Doctor: what knows no runtime. Findings (data) and their words from the catalog, the log
//! engine, whatap.conf and network checks, the live-JVM checks. Each runtime's own checks
//! live in its folder under `runtimes/` and return `Fact`s; the printer renders findings.

pub mod catalog;
pub mod checks;
pub mod conf;
pub mod jvm;
pub mod logs;
pub mod network;
pub mod program;

use catalog::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::ui::i18n::Lang;

/// Also read back from other hosts' documents by `whatap report`.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// A fix safe enough for `doctor --fix` to plan.
    pub remedy: Option<Remedy>,
}

/// Safe fixes: each becomes part of a plan (shown, confirmed, applied, recorded).
#[derive(Debug, Clone)]
pub enum Remedy {
    Mode(crate::plan::ModeChange),
    /// A file edit the runtime computed (an option added to our own block).
    Edit(Box<crate::plan::Edit>),
}

/// The plan for every remedy among `facts`.
pub fn fix_plan(facts: &[Fact]) -> crate::plan::Plan {
    let mut plan = crate::plan::Plan::default();
    for remedy in facts.iter().filter_map(|f| f.remedy.as_ref()) {
        match remedy {
            Remedy::Mode(change) if !plan.modes.contains(change) => plan.modes.push(change.clone()),
            Remedy::Mode(_) => {}
            Remedy::Edit(edit) if !plan.edits.iter().any(|e| e.path == edit.path) => {
                // A file the fix creates (a drop-in) may need its directory first.
                if let (None, Some(dir)) = (&edit.before, edit.path.parent()) {
                    for missing in crate::plan::DirCreate::missing(dir, None) {
                        if !plan.dirs.contains(&missing) {
                            plan.dirs.push(missing);
                        }
                    }
                }
                plan.edits.push((**edit).clone())
            }
            Remedy::Edit(_) => {}
        }
    }
    plan
}

impl Fact {
    pub fn new(id: &'static str, target: &str, evidence: impl Into<String>) -> Fact {
        Fact {
            id,
            target: target.to_string(),
            evidence: evidence.into(),
            details: BTreeMap::new(),
            remedy: None,
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> Fact {
        self.details.insert(key.to_string(), value.into());
        self
    }

    pub fn into_finding(self, lang: Lang) -> Finding {
        let rule = catalog::rule(self.id);
        let mut details = self.details;
        for (key, words) in &rule.defaults {
            details
                .entry(key.clone())
                .or_insert_with(|| words.get(lang).to_string());
        }
        // Logs, command lines and paths are quoted as found: never raw to a terminal.
        let visible = |text: String| crate::ui::mask::visible(&text).into_owned();
        Finding {
            id: self.id.to_string(),
            severity: rule.severity,
            target: visible(self.target),
            title: visible(catalog::fill(rule.title.get(lang), &details)),
            evidence: visible(self.evidence),
            fix: visible(catalog::fill(rule.fix.get(lang), &details)),
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
    /// Logs worth scanning for this instance (agent logs, server logs), with their target.
    pub logs: Vec<(String, PathBuf)>,
    /// UDP ports this instance's agent needs (`net_udp_port`), with their target.
    pub udp_ports: Vec<(String, u16)>,
    /// Licenses found in its whatap.conf: masked wherever doctor quotes them.
    pub secrets: Vec<String>,
    /// An agent's own check programs, run with the network checks (they reach the collector).
    pub programs: Vec<ProgramCheck>,
}

impl Inspection {
    /// Logs to scan with the catalog's log rules, as `label`'s.
    pub fn scan_logs(&mut self, label: &str, logs: impl IntoIterator<Item = PathBuf>) {
        self.logs
            .extend(logs.into_iter().map(|log| (label.to_string(), log)));
    }
}

/// A program whose own check doctor runs (the infra agent's `whatap_infrad ... test`, the
/// guide's way to find why a server does not show up): a non-zero exit is the finding `id`.
#[derive(Debug, Clone)]
pub struct ProgramCheck {
    pub id: &'static str,
    pub target: String,
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Masked wherever the output or the command line would show it (the license).
    pub secret: String,
}

/// Errors first, then warnings, then info; stable within each.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by_key(|f| f.severity);
}
