//! Many hosts' `doctor --json` documents merged into one summary (`whatap report`): which
//! finding ids fire on which hosts, counts by severity, and the hosts to look at first. Data
//! only; `commands::report` prints it as text or JSON and `html` renders it as one page.

pub mod html;

use crate::doctor::Finding;
use crate::doctor::catalog::Severity;
use crate::error::{Error, Result};
use crate::msg;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A document larger than this is not a doctor report.
const MAX_DOCUMENT: u64 = 64 << 20;

/// How many hosts "look at first" names.
const FIRST: usize = 10;

/// One host's `doctor --json`, as read back: schema 2 (with metadata) or 1 (without); keys
/// beyond these are ignored.
#[derive(Deserialize)]
struct Input {
    command: String,
    host: Option<String>,
    generated_at: Option<String>,
    whatap_version: Option<String>,
    findings: Option<Vec<Finding>>,
    error: Option<Failure>,
}

/// A host whose doctor run failed: its error document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    pub message: String,
    #[serde(default)]
    pub hint: Option<String>,
}

/// What to do about a host, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// doctor itself failed there: nothing is known.
    Failed,
    Error,
    Warning,
    Info,
    Clean,
}

#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Counts {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

impl Counts {
    fn add(&mut self, severity: Severity) {
        match severity {
            Severity::Error => self.error += 1,
            Severity::Warning => self.warning += 1,
            Severity::Info => self.info += 1,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct HostReport {
    pub host: String,
    /// The file it was read from.
    pub file: PathBuf,
    pub generated_at: Option<String>,
    pub whatap_version: Option<String>,
    pub status: Status,
    pub counts: Counts,
    pub findings: Vec<Finding>,
    /// When doctor failed on the host.
    pub failure: Option<Failure>,
}

impl HostReport {
    /// The distinct finding ids, in the host's order (worst first).
    pub fn ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        for f in &self.findings {
            if !ids.contains(&f.id.as_str()) {
                ids.push(&f.id);
            }
        }
        ids
    }

    /// How many findings of `id` the host has.
    pub fn count(&self, id: &str) -> usize {
        self.findings.iter().filter(|f| f.id == id).count()
    }
}

/// One finding id across the fleet.
#[derive(Debug, Serialize)]
pub struct IdReport {
    pub id: String,
    pub severity: Severity,
    /// As the first host that has it words it.
    pub title: String,
    pub hosts: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Totals {
    pub hosts: usize,
    pub failed: usize,
    pub with_errors: usize,
    pub with_warnings: usize,
    pub clean: usize,
    /// Findings of every host, by severity.
    pub findings: Counts,
}

/// The `report --json` document (docs/schemas/report.schema.json).
#[derive(Debug, Serialize)]
pub struct Fleet {
    pub command: &'static str,
    pub totals: Totals,
    /// The hosts to look at first: doctor failed, errors, then warnings; at most ten.
    pub first: Vec<String>,
    /// Every finding id seen, worst and most widespread first.
    pub findings: Vec<IdReport>,
    /// Every host, worst first.
    pub hosts: Vec<HostReport>,
}

/// Reads every document and merges them. A host found in several files counts once, with
/// its newest document.
pub fn read(files: &[PathBuf]) -> Result<Fleet> {
    let mut hosts: BTreeMap<String, HostReport> = BTreeMap::new();
    for file in files {
        let host = read_one(file)?;
        let newer = hosts
            .get(&host.host)
            .is_none_or(|old| host.generated_at >= old.generated_at);
        if newer {
            hosts.insert(host.host.clone(), host);
        }
    }
    Ok(merge(hosts.into_values().collect()))
}

fn read_one(file: &Path) -> Result<HostReport> {
    let bad = |why: String| {
        Error::usage(
            msg!("report-bad-file", path = file.display(), why = why),
            msg!("report-bad-file-hint"),
        )
    };
    let bytes = match std::fs::metadata(file) {
        Ok(meta) if !meta.is_file() || meta.len() > MAX_DOCUMENT => {
            return Err(bad(msg!("report-why-not-doctor")));
        }
        Ok(_) => std::fs::read(file).map_err(|e| Error::io(file, e))?,
        Err(e) => return Err(bad(e.to_string())),
    };
    let input: Input = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
    let (findings, failure) = match (input.command.as_str(), input.findings, input.error) {
        ("doctor", _, Some(failure)) => (Vec::new(), Some(failure)),
        ("doctor", Some(findings), None) => (findings, None),
        _ => return Err(bad(msg!("report-why-not-doctor"))),
    };
    let mut counts = Counts::default();
    for f in &findings {
        counts.add(f.severity);
    }
    let status = match (&failure, counts) {
        (Some(_), _) => Status::Failed,
        (_, c) if c.error > 0 => Status::Error,
        (_, c) if c.warning > 0 => Status::Warning,
        (_, c) if c.info > 0 => Status::Info,
        _ => Status::Clean,
    };
    // A document of schema 1 has no host: the file is named after it.
    let host = input.host.filter(|h| !h.is_empty()).unwrap_or_else(|| {
        file.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    Ok(HostReport {
        host,
        file: file.to_path_buf(),
        generated_at: input.generated_at,
        whatap_version: input.whatap_version,
        status,
        counts,
        findings,
        failure,
    })
}

fn merge(mut hosts: Vec<HostReport>) -> Fleet {
    hosts.sort_by(|a, b| {
        (
            a.status,
            b.counts.error,
            b.counts.warning,
            b.counts.info,
            &a.host,
        )
            .cmp(&(
                b.status,
                a.counts.error,
                a.counts.warning,
                a.counts.info,
                &b.host,
            ))
    });
    let mut totals = Totals {
        hosts: hosts.len(),
        ..Totals::default()
    };
    let mut ids: Vec<IdReport> = Vec::new();
    for host in &hosts {
        match host.status {
            Status::Failed => totals.failed += 1,
            Status::Error => totals.with_errors += 1,
            Status::Warning => totals.with_warnings += 1,
            Status::Info | Status::Clean => totals.clean += 1,
        }
        for f in &host.findings {
            totals.findings.add(f.severity);
            match ids.iter_mut().find(|i| i.id == f.id) {
                Some(seen) if seen.hosts.last() == Some(&host.host) => {}
                Some(seen) => seen.hosts.push(host.host.clone()),
                None => ids.push(IdReport {
                    id: f.id.clone(),
                    severity: f.severity,
                    title: f.title.clone(),
                    hosts: vec![host.host.clone()],
                }),
            }
        }
    }
    ids.sort_by(|a, b| (a.severity, b.hosts.len(), &a.id).cmp(&(b.severity, a.hosts.len(), &b.id)));
    let first = hosts
        .iter()
        .filter(|h| h.status <= Status::Warning)
        .take(FIRST)
        .map(|h| h.host.clone())
        .collect();
    Fleet {
        command: "report",
        totals,
        first,
        findings: ids,
        hosts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(dir: &Path, host: &str, body: serde_json::Value) -> PathBuf {
        let path = dir.join(format!("{host}.json"));
        let mut body = body;
        body["command"] = "doctor".into();
        body["host"] = host.into();
        std::fs::write(&path, body.to_string()).unwrap();
        path
    }

    fn finding(id: &str, severity: &str) -> serde_json::Value {
        serde_json::json!({"id": id, "severity": severity, "target": "tomcat /t",
            "title": format!("title of {id}"), "evidence": "e", "fix": "f"})
    }

    #[test]
    fn worst_hosts_first_and_ids_by_spread() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let files = vec![
            doc(d, "clean", serde_json::json!({"findings": []})),
            doc(
                d,
                "warn",
                serde_json::json!({"findings": [finding("udp-port-conflict", "warning")]}),
            ),
            doc(
                d,
                "one-error",
                serde_json::json!({"findings": [finding("agent-not-loaded", "error")]}),
            ),
            doc(
                d,
                "two-errors",
                serde_json::json!({"findings": [finding("agent-not-loaded", "error"),
                    finding("collector-unreachable", "error")]}),
            ),
            doc(
                d,
                "failed",
                serde_json::json!({"error": {"message": "m", "hint": null}}),
            ),
        ];
        let fleet = read(&files).unwrap();
        let order: Vec<&str> = fleet.hosts.iter().map(|h| h.host.as_str()).collect();
        assert_eq!(
            order,
            ["failed", "two-errors", "one-error", "warn", "clean"]
        );
        assert_eq!(fleet.first, ["failed", "two-errors", "one-error", "warn"]);
        let ids: Vec<&str> = fleet.findings.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "agent-not-loaded",
                "collector-unreachable",
                "udp-port-conflict"
            ]
        );
        assert_eq!(fleet.findings[0].hosts, ["two-errors", "one-error"]);
        assert_eq!(fleet.totals.findings.error, 3);
        assert_eq!(
            (
                fleet.totals.failed,
                fleet.totals.with_errors,
                fleet.totals.clean
            ),
            (1, 2, 1)
        );
    }

    #[test]
    fn a_host_counts_once_with_its_newest_document() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("a.json");
        let new = dir.path().join("b.json");
        let body = |at: &str, findings: serde_json::Value| {
            serde_json::json!({"command": "doctor", "host": "web", "generated_at": at,
                "findings": findings})
            .to_string()
        };
        std::fs::write(&new, body("2026-12-02T00:00:00Z", serde_json::json!([]))).unwrap();
        std::fs::write(
            &old,
            body(
                "2026-12-01T00:00:00Z",
                serde_json::json!([finding("agent-not-loaded", "error")]),
            ),
        )
        .unwrap();
        let fleet = read(&[new, old]).unwrap();
        assert_eq!(fleet.hosts.len(), 1);
        assert_eq!(fleet.hosts[0].status, Status::Clean);
    }

    #[test]
    fn other_documents_are_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let detect = dir.path().join("detect.json");
        std::fs::write(&detect, r#"{"command":"detect","runtimes":[]}"#).unwrap();
        let broken = dir.path().join("broken.json");
        std::fs::write(&broken, "{\"command\":").unwrap();
        for file in [detect, broken, dir.path().join("missing.json")] {
            let error = read(std::slice::from_ref(&file)).unwrap_err();
            assert_eq!(error.exit_code(), 2);
            assert!(error.to_string().contains(&file.display().to_string()));
        }
    }
}
