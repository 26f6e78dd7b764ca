use super::{ChangeReport, Outcome, confirm_and_apply};
use crate::apply::{self, ledger::InstallKey, ledger::Ledger, lock};
use crate::detect::Host;
use crate::doctor::{self, Fact, Finding, catalog::Severity};
use crate::error::Result;
use crate::runtimes::{self, Runtime};
use crate::settings::{DoctorSettings, Settings};
use crate::ui::Printer;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One short deadline for every collector together: doctor must feel instant.
const NETWORK_TIMEOUT: Duration = Duration::from_millis(1500);

#[derive(Serialize)]
struct DoctorReport {
    command: &'static str,
    ok: bool,
    findings: Vec<Finding>,
    /// With --fix: the plan of safe fixes and what was done with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<ChangeReport>,
}

/// Record for the fixes in the ledger, so `whatap uninstall` can take them back.
const FIX_ID: &str = "doctor-fix";

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
        let wanted = doctor.target.runtime.map(runtimes::kind_name);
        runtimes::detect_all(&host)
            .into_iter()
            .filter(|r| wanted.is_none_or(|w| w == r.kind()))
            .collect()
    } else {
        vec![runtimes::resolve(&doctor.target, &host)?]
    };
    let mut facts: Vec<Fact> = Vec::new();
    let mut collectors = Vec::new();
    let mut udp_ports = Vec::new();
    let mut logs: Vec<(String, PathBuf)> = doctor
        .logs
        .iter()
        .map(|l| (format!("log {}", l.display()), l.clone()))
        .collect();
    for t in &targets {
        let inspection = t.inspect();
        facts.extend(inspection.facts);
        collectors.extend(inspection.collectors);
        logs.extend(inspection.logs);
        udp_ports.extend(inspection.udp_ports);
    }
    let tail = if doctor.full {
        None
    } else {
        Some(doctor::logs::DEFAULT_TAIL)
    };
    // Logs and network are independent and each may take a moment: run them side by side.
    let (log_facts, network_facts) = std::thread::scope(|scope| {
        let network = scope.spawn(|| {
            if doctor.network {
                let mut facts = doctor::network::inspect(&collectors, NETWORK_TIMEOUT);
                facts.extend(doctor::network::udp_conflicts(&udp_ports));
                facts
            } else {
                Vec::new()
            }
        });
        let logs = doctor::logs::facts(&logs, tail);
        (logs, network.join().unwrap_or_default())
    });
    facts.extend(log_facts);
    facts.extend(network_facts);
    let fix = if doctor.fix {
        Some(fix(settings, printer, &facts)?)
    } else {
        None
    };
    let mut findings: Vec<Finding> = facts
        .into_iter()
        .map(|f| f.into_finding(settings.lang))
        .collect();
    doctor::sort(&mut findings);
    let ok = !findings.iter().any(|f| f.severity == Severity::Error);
    let code = if ok { 0 } else { 1 };
    if printer.json {
        let fix_code = fix.as_ref().map_or(0, |o| o.code);
        printer.json(&DoctorReport {
            command: "doctor",
            ok,
            findings,
            fix: fix.map(|o| o.report),
        });
        return Ok(code.max(fix_code));
    }
    printer.report(&render(printer, &targets, &findings));
    match fix {
        Some(outcome) => {
            printer.report("\n");
            outcome.print(printer);
            Ok(code.max(outcome.code))
        }
        None => Ok(code),
    }
}

/// Plans the safe fixes, confirms, applies and records them like an install.
fn fix(settings: &Settings, printer: &Printer, facts: &[Fact]) -> Result<Outcome> {
    let plan = doctor::fix_plan(facts);
    let _lock = if settings.dry_run || !plan.changes_anything() {
        None
    } else {
        Some(lock::acquire(&settings.state_dir)?)
    };
    let mut ledger = Ledger::load(&settings.state_dir)?;
    let report = ChangeReport::new(
        "fix",
        "doctor",
        PathBuf::from("/"),
        settings,
        &plan,
        printer,
    );
    let key = InstallKey {
        id: FIX_ID,
        runtime: "doctor",
        target: Path::new("/"),
        method: "fix",
    };
    confirm_and_apply(settings, printer, &plan, report, |plan| {
        apply::apply_recorded(plan, &settings.state_dir, &mut ledger, &key)
    })
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
