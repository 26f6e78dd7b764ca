use crate::detect::Host;
use crate::doctor::{self, Fact, Finding, catalog::Severity};
use crate::error::Result;
use crate::net::collector;
use crate::runtimes::{self, Runtime};
use crate::settings::{DoctorSettings, Settings};
use crate::ui::Printer;
use serde::Serialize;
use std::time::Duration;

/// One short deadline for every collector together: doctor must feel instant.
const NETWORK_TIMEOUT: Duration = Duration::from_millis(1500);

#[derive(Serialize)]
struct DoctorReport {
    command: &'static str,
    ok: bool,
    findings: Vec<Finding>,
}

#[derive(Serialize)]
struct RulesReport {
    command: &'static str,
    rules: &'static [doctor::catalog::Rule],
}

fn list_rules(settings: &Settings, printer: &Printer) -> u8 {
    let rules = doctor::catalog::rules();
    if printer.json {
        printer.json(&RulesReport {
            command: "doctor",
            rules,
        });
        return 0;
    }
    let mut text = String::new();
    for rule in rules {
        let state = if rule.implemented { "" } else { "  (planned)" };
        text.push_str(&format!(
            "{:<28} {:<8} {:<28} {}{state}\n",
            rule.id,
            format!("{:?}", rule.severity).to_lowercase(),
            rule.looks_at.join(","),
            rule.title.get(settings.lang)
        ));
    }
    printer.report(&text);
    0
}

pub fn run(settings: &Settings, doctor: &DoctorSettings, printer: &Printer) -> Result<u8> {
    if doctor.list_rules {
        return Ok(list_rules(settings, printer));
    }
    let host = Host::scan();
    let targets = if doctor.target.is_empty() {
        let wanted = doctor.target.runtime;
        runtimes::detect_all(&host)
            .into_iter()
            .filter(|r| wanted.is_none_or(|k| runtimes::kind_matches(k, r.kind())))
            .collect()
    } else {
        vec![runtimes::resolve(&doctor.target, &host)?]
    };
    let mut facts: Vec<Fact> = Vec::new();
    let mut collectors = Vec::new();
    for t in &targets {
        let inspection = t.inspect();
        facts.extend(inspection.facts);
        collectors.extend(inspection.collectors);
    }
    if doctor.network && !collectors.is_empty() {
        let mut endpoints: Vec<(String, u16)> = collectors
            .iter()
            .map(|c| (c.host.clone(), c.port))
            .collect();
        endpoints.sort();
        endpoints.dedup();
        let probes = collector::probe_all(&endpoints, NETWORK_TIMEOUT);
        for c in &collectors {
            let Some(probe) = probes.iter().find(|p| p.host == c.host && p.port == c.port) else {
                continue;
            };
            if let Some(error) = &probe.error {
                let address = probe.address.map(|a| format!(" ({a})")).unwrap_or_default();
                facts.push(
                    Fact::new(
                        "collector-unreachable",
                        &c.target,
                        format!(
                            "{}:{}{address}: {error} (from {})",
                            c.host,
                            c.port,
                            c.conf.display()
                        ),
                    )
                    .with("host", c.host.clone())
                    .with("port", c.port.to_string()),
                );
            }
        }
    }
    let mut findings: Vec<Finding> = facts
        .into_iter()
        .map(|f| f.into_finding(settings.lang))
        .collect();
    doctor::sort(&mut findings);
    let ok = !findings.iter().any(|f| f.severity == Severity::Error);
    if printer.json {
        printer.json(&DoctorReport {
            command: "doctor",
            ok,
            findings,
        });
    } else {
        printer.report(&render(printer, &targets, &findings));
    }
    Ok(if ok { 0 } else { 1 })
}

fn render(printer: &Printer, targets: &[Box<dyn Runtime>], findings: &[Finding]) -> String {
    let mut text = String::new();
    if targets.is_empty() {
        text.push_str(
            "No supported runtime found on this host (looked for running JVMs and Tomcat trees).\n",
        );
    }
    for t in targets {
        let d = t.detection();
        let pid = d.pid.map(|p| format!(", PID {p}")).unwrap_or_default();
        let version = d.version.as_deref().unwrap_or("version unknown");
        text.push_str(&format!(
            "{} {} ({version}{pid})\n",
            printer.bold(t.kind()),
            t.target().display()
        ));
    }
    for f in findings {
        let tag = match f.severity {
            Severity::Error => printer.red("error"),
            Severity::Warning => printer.yellow("warning"),
            Severity::Info => printer.dim("info"),
        };
        text.push_str(&format!("\n{tag} [{}] {}\n", f.id, f.title));
        text.push_str(&format!("  target:   {}\n", f.target));
        text.push_str(&format!("  evidence: {}\n", f.evidence));
        text.push_str(&format!("  fix:      {}\n", f.fix));
    }
    if findings.iter().all(|f| f.severity != Severity::Error) && !targets.is_empty() {
        text.push_str(&format!("\n{}\n", printer.green("No errors found.")));
    }
    text
}
