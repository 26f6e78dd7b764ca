use super::{ChangeReport, Outcome, confirm_and_apply};
use crate::apply::ledger::InstallKey;
use crate::detect::Host;
use crate::doctor::{self, Fact, Finding, catalog::Severity};
use crate::error::Result;
use crate::plan::Plan;
use crate::runtimes::{self, Runtime};
use crate::settings::{DoctorSettings, Settings};
use crate::ui::Printer;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

/// One short deadline for every collector together: doctor must feel instant.
const NETWORK_TIMEOUT: Duration = Duration::from_millis(1500);
/// An agent's own check program (it may try the collector itself).
const PROGRAM_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Serialize)]
struct DoctorReport {
    command: &'static str,
    ok: bool,
    findings: Vec<Finding>,
    /// With --fix: per runtime, the plan of safe fixes and what was done with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    fixes: Option<Vec<ChangeReport>>,
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
    // Read-only unless --fix: probe results may come from (and go to) the state dir's cache.
    let host = if doctor.fix {
        Host::scan()
    } else {
        Host::scan_cached(settings.state.probe_cache())
    };
    let targets = if doctor.target.is_empty() {
        runtimes::detect(&host, doctor.target.runtime)
    } else {
        vec![runtimes::resolve(&doctor.target, &host)?]
    };
    let mut facts: Vec<Fact> = Vec::new();
    let mut collectors = Vec::new();
    let mut udp_ports = Vec::new();
    let mut programs = Vec::new();
    let mut logs: Vec<(String, PathBuf)> = doctor
        .logs
        .iter()
        .map(|l| (format!("log {}", l.display()), l.clone()))
        .collect();
    let mut fix_plans = Vec::new();
    for t in &targets {
        let inspection = t.inspect();
        let plan = doctor::fix_plan(&inspection.facts);
        if plan.changes_anything() {
            fix_plans.push((t, plan));
        }
        facts.extend(inspection.facts);
        collectors.extend(inspection.collectors);
        logs.extend(inspection.logs);
        udp_ports.extend(inspection.udp_ports);
        programs.extend(inspection.programs);
    }
    if doctor.target.is_empty() {
        let covered: Vec<u32> = targets.iter().filter_map(|t| t.detection().pid).collect();
        let others = runtimes::java::doctor::inspect_other_jvms(&host, &covered);
        facts.extend(others.facts);
        collectors.extend(others.collectors);
        logs.extend(others.logs);
    }
    let tail = if doctor.full {
        None
    } else {
        Some(doctor::logs::DEFAULT_TAIL)
    };
    // Logs and network are independent and each may take a moment: run them side by side.
    let (log_facts, network_facts) = std::thread::scope(|scope| {
        let network = scope.spawn(|| {
            // The UDP port is local, so it is checked even with --no-network.
            let mut facts = doctor::network::udp_conflicts(&udp_ports);
            if doctor.network {
                facts.extend(doctor::network::inspect(&collectors, NETWORK_TIMEOUT));
                facts.extend(doctor::program::run(&programs, PROGRAM_TIMEOUT));
            }
            facts
        });
        let logs = doctor::logs::facts(&logs, tail);
        (logs, network.join().unwrap_or_default())
    });
    // A runtime that already read its own logs (JBoss, Python) reported that cause: one
    // finding each, per target and per log file.
    let log_facts: Vec<Fact> = log_facts
        .into_iter()
        .filter(|l| {
            let file = l.evidence.split(':').next().unwrap_or_default();
            !facts
                .iter()
                .any(|f| f.id == l.id && (f.target == l.target || f.evidence.starts_with(file)))
        })
        .collect();
    host.cache.save();
    facts.extend(log_facts);
    facts.extend(network_facts);
    // One cause several instances share (the PHP agent every SAPI talks to) is one finding.
    let mut seen = std::collections::HashSet::new();
    facts.retain(|f| seen.insert((f.id, f.target.clone(), f.evidence.clone())));
    let fixes = if doctor.fix {
        let mut outcomes = Vec::new();
        for (target, plan) in &fix_plans {
            outcomes.push(fix(settings, printer, target.as_ref(), plan)?);
        }
        Some(outcomes)
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
    let code = fixes.iter().flatten().map(|o| o.code).fold(code, u8::max);
    if printer.json {
        printer.json(&DoctorReport {
            command: "doctor",
            ok,
            findings,
            fixes: fixes.map(|outcomes| outcomes.into_iter().map(|o| o.report).collect()),
        });
        return Ok(code);
    }
    printer.report(&render(printer, &targets, &findings));
    match fixes {
        Some(outcomes) if outcomes.is_empty() => {
            printer.report(&format!("\n{}\n", crate::msg!("doctor-fix-nothing")))
        }
        Some(outcomes) => {
            for outcome in outcomes {
                printer.report("\n");
                outcome.print(printer);
            }
        }
        None => {}
    }
    Ok(code)
}

/// Confirms, applies and records a runtime's safe fixes like an install, in the same ledger
/// record, so `whatap uninstall` of that runtime also takes them back.
fn fix(
    settings: &Settings,
    printer: &Printer,
    target: &dyn Runtime,
    plan: &Plan,
) -> Result<Outcome> {
    let mut transaction = settings.state.begin(!settings.dry_run)?;
    let report = ChangeReport::new(
        "fix",
        target.kind().name(),
        target.target(),
        settings,
        plan,
        printer,
    );
    let id = target.id();
    let base = target.target();
    // An existing install keeps its method; a runtime never installed by us gets "fix".
    let method = transaction
        .ledger()
        .install(&id)
        .map_or("fix".to_string(), |i| i.method.clone());
    let selectors = runtimes::selector_words(&target.selection(), target.kind());
    let key = InstallKey {
        id: &id,
        runtime: target.kind().name(),
        target: &base,
        method: &method,
        selectors: &selectors,
    };
    confirm_and_apply(settings, printer, plan, report, |plan| {
        transaction.apply_recorded(plan, &key)
    })
}

fn render(printer: &Printer, targets: &[Box<dyn Runtime>], findings: &[Finding]) -> String {
    let mut text = String::new();
    if targets.is_empty() {
        text.push_str(&format!("{}\n", crate::msg!("doctor-no-runtime")));
    }
    for t in targets {
        let d = t.detection();
        let pid = d.pid.map(|p| format!(", PID {p}")).unwrap_or_default();
        let version = d
            .version
            .clone()
            .unwrap_or_else(|| crate::msg!("doctor-version-unknown"));
        text.push_str(&format!(
            "{} {} ({version}{pid})\n",
            printer.bold(t.kind().name()),
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
        for (label, value) in [
            (crate::msg!("doctor-label-target"), &f.target),
            (crate::msg!("doctor-label-evidence"), &f.evidence),
            (crate::msg!("doctor-label-fix"), &f.fix),
        ] {
            text.push_str(&format!("  {label} {value}\n"));
        }
    }
    if findings.iter().all(|f| f.severity != Severity::Error) && !targets.is_empty() {
        text.push_str(&format!(
            "\n{}\n",
            printer.green(&crate::msg!("doctor-no-errors"))
        ));
    }
    text
}
