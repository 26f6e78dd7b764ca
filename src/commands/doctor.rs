use super::{ChangeReport, Outcome, PlanDoc, confirm_and_apply};
use crate::apply::ledger::InstallKey;
use crate::cli::FailOn;
use crate::detect::Host;
use crate::doctor::checks::{self, Check, Scope, Status};
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
struct DoctorReport<'a> {
    command: &'static str,
    ok: bool,
    findings: &'a [Finding],
    /// Every rule of the catalog: pass, fail or skip, and why.
    checks: &'a [Check],
    /// With --fix: per runtime, the plan of safe fixes and what was done with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    fixes: Option<Vec<&'a ChangeReport>>,
    /// With --bundle: the support archive written.
    #[serde(skip_serializing_if = "Option::is_none")]
    bundle: Option<super::bundle::BundleReport>,
}

#[derive(Serialize)]
struct RulesReport {
    command: &'static str,
    rules: &'static [doctor::catalog::Rule],
}

fn list_rules(settings: &Settings, printer: &Printer) -> u8 {
    let rules = doctor::catalog::rules();
    printer.document(&RulesReport {
        command: "doctor",
        rules,
    });
    if printer.json {
        return 0;
    }
    let rows: Vec<Vec<String>> = rules
        .iter()
        .map(|rule| {
            let planned = match rule.implemented {
                true => String::new(),
                false => format!("  {}", crate::msg!("doctor-rule-planned")),
            };
            vec![
                rule.id.clone(),
                severity_label(rule.severity),
                rule.looks_at.join(","),
                format!("{}{planned}", rule.title.get(settings.lang)),
            ]
        })
        .collect();
    let mut text = String::new();
    for line in crate::ui::table::align(&rows) {
        text.push_str(&line);
        text.push('\n');
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
    // Per target, its own facts that carry a fix.
    let mut own: Vec<Vec<Fact>> = Vec::new();
    for t in &targets {
        let inspection = t.inspect();
        own.push(inspection.facts.clone());
        facts.extend(inspection.facts);
        collectors.extend(inspection.collectors);
        logs.extend(inspection.logs);
        udp_ports.extend(inspection.udp_ports);
        programs.extend(inspection.programs);
        for secret in &inspection.secrets {
            printer.add_secret(secret);
        }
    }
    if doctor.target.is_empty() {
        let covered: Vec<u32> = targets.iter().filter_map(|t| t.detection().pid).collect();
        let others = runtimes::java::doctor::inspect_other_jvms(&host, &covered);
        for secret in &others.secrets {
            printer.add_secret(secret);
        }
        facts.extend(others.facts);
        collectors.extend(others.collectors);
        logs.extend(others.logs);
    }
    let tail = if doctor.full {
        None
    } else {
        Some(doctor::logs::DEFAULT_TAIL)
    };
    // What `--only` / `--skip` leave out is not even looked at (the bundle still takes logs).
    let filter = &doctor.checks;
    let log_files: Vec<PathBuf> = logs.iter().map(|(_, path)| path.clone()).collect();
    let confs: Vec<PathBuf> = collectors.iter().map(|c| c.conf.clone()).collect();
    if !filter.wants_logs() {
        logs.clear();
    }
    let probe = doctor.network
        && doctor::catalog::rules()
            .iter()
            .any(|r| r.network && filter.selects(&r.id));
    // Logs and network are independent and each may take a moment: run them side by side.
    let (log_facts, network_facts) = std::thread::scope(|scope| {
        let network = scope.spawn(|| {
            // The UDP port is local, so it is checked even with --no-network.
            let mut facts = match filter.selects("udp-port-conflict") {
                true => doctor::network::udp_conflicts(&udp_ports),
                false => Vec::new(),
            };
            if probe {
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
    let to_fix: Vec<&Box<dyn Runtime>> = targets
        .iter()
        .zip(own)
        .filter(|(t, own)| fix_plan(t.as_ref(), own.clone(), &log_facts).changes_anything())
        .map(|(t, _)| t)
        .collect();
    facts.extend(log_facts.iter().cloned());
    facts.extend(network_facts);
    // One cause several instances share (the PHP agent every SAPI talks to) is one finding.
    let mut seen = std::collections::HashSet::new();
    facts.retain(|f| seen.insert((f.id, f.target.clone(), f.evidence.clone())));
    facts.retain(|f| filter.selects(f.id));
    let fixes = if doctor.fix {
        let mut outcomes = Vec::new();
        for target in &to_fix {
            outcomes.push(fix(settings, printer, target.as_ref(), &log_facts)?);
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
    let mut present: std::collections::BTreeSet<String> = targets
        .iter()
        .map(|t| t.kind().name().to_string())
        .collect();
    let jvms = doctor.target.is_empty() && host.java_processes().next().is_some();
    if jvms || targets.iter().any(|t| t.kind().is_java()) {
        present.insert("java".to_string());
    }
    let checks = checks::checks(
        &Scope {
            filter,
            network: doctor.network,
            present,
            logs: logs.len(),
        },
        &findings,
    );
    let ok = !findings.iter().any(|f| f.severity == Severity::Error);
    let failing = |f: &Finding| match doctor.fail_on {
        FailOn::Error => f.severity == Severity::Error,
        FailOn::Warning => f.severity <= Severity::Warning,
        FailOn::Never => false,
    };
    let code = u8::from(findings.iter().any(failing));
    let code = fixes.iter().flatten().map(|o| o.code).fold(code, u8::max);
    if !printer.json {
        printer.report(&render(printer, &targets, &findings));
        if settings.verbose {
            printer.report(&render_checks(printer, &checks));
        }
        match &fixes {
            Some(outcomes) if outcomes.is_empty() => {
                printer.report(&format!("\n{}\n", crate::msg!("doctor-fix-nothing")))
            }
            Some(outcomes) => {
                for outcome in outcomes {
                    printer.report("\n");
                    outcome.print_text(printer);
                }
            }
            None => {}
        }
    }
    // Fixes nobody confirmed: the run was refused, and its document is the error's.
    match fixes.iter().flatten().find_map(|o| o.refusal.as_ref()) {
        Some(refusal) => {
            let reports = fixes.iter().flatten().map(|o| &o.report);
            printer.refusal("doctor", refusal, &PlanDoc::of(reports));
        }
        None => {
            let mut report = DoctorReport {
                command: "doctor",
                ok,
                findings: &findings,
                checks: &checks,
                fixes: fixes
                    .as_ref()
                    .map(|outcomes| outcomes.iter().map(|o| &o.report).collect()),
                bundle: None,
            };
            if let Some(out) = &doctor.bundle {
                let mut pids: Vec<u32> = targets.iter().filter_map(|t| t.detection().pid).collect();
                if doctor.target.is_empty() {
                    pids.extend(host.java_processes().map(|p| p.pid));
                }
                pids.sort();
                pids.dedup();
                let gathered = super::bundle::Gathered {
                    doctor: printer.stamped(&report),
                    detect: super::detect::document(printer, &host),
                    dirs: targets
                        .iter()
                        .flat_map(|t| [t.target(), t.detection().home])
                        .collect(),
                    confs,
                    logs: log_files,
                    pids,
                    host: &host,
                    runtimes: targets
                        .iter()
                        .map(|t| {
                            let d = t.detection();
                            let version = d.version.unwrap_or_else(|| "?".into());
                            format!("{} {version} {}", d.runtime, d.home.display())
                        })
                        .collect(),
                };
                let written = super::bundle::write(settings, printer, &gathered, out)?;
                printer.note(&crate::msg!(
                    "bundle-written",
                    path = written.path.display(),
                    entries = written.entries
                ));
                report.bundle = Some(written);
            }
            printer.document(&report);
        }
    }
    Ok(code)
}

/// A target's safe fixes: for its own facts that carry one, and for the log facts (a `--log`
/// too) it offers a remedy for: a fix does not depend on where the evidence came from.
fn fix_plan(target: &dyn Runtime, own: Vec<Fact>, log_facts: &[Fact]) -> Plan {
    let mut remedied: Vec<Fact> = own.into_iter().filter(|f| f.remedy.is_some()).collect();
    for fact in log_facts {
        if remedied.iter().any(|f| f.id == fact.id) {
            continue;
        }
        if let Some(remedy) = target.remedy_for(fact.id) {
            let mut fact = fact.clone();
            fact.remedy = Some(remedy);
            remedied.push(fact);
        }
    }
    doctor::fix_plan(&remedied)
}

/// Confirms, applies and records a runtime's safe fixes like an install, in the same ledger
/// record, so `whatap uninstall` of that runtime also takes them back. The fixes are planned
/// again (the target inspected again) under the locks of what they change.
fn fix(
    settings: &Settings,
    printer: &Printer,
    target: &dyn Runtime,
    log_facts: &[Fact],
) -> Result<Outcome> {
    let (mut transaction, plan) = settings.state.transaction(
        settings.dry_run,
        |_| Ok(fix_plan(target, target.inspect().facts, log_facts)),
        |plan: &Plan| plan.changes_anything().then_some(plan),
    )?;
    let plan = &plan;
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
        let label = severity_label(f.severity);
        let tag = match f.severity {
            Severity::Error => printer.red(&label),
            Severity::Warning => printer.yellow(&label),
            Severity::Info => printer.dim(&label),
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

/// A severity as the reader's language names it.
fn severity_label(severity: Severity) -> String {
    match severity {
        Severity::Error => crate::msg!("severity-error"),
        Severity::Warning => crate::msg!("severity-warning"),
        Severity::Info => crate::msg!("severity-info"),
    }
}

/// `-v`: what passed and what was skipped, and why (failures are the findings above).
fn render_checks(printer: &Printer, checks: &[Check]) -> String {
    let mut text = String::new();
    for (status, heading) in [
        (Status::Pass, crate::msg!("doctor-checks-passed")),
        (Status::Skip, crate::msg!("doctor-checks-skipped")),
    ] {
        let rows: Vec<Vec<String>> = checks
            .iter()
            .filter(|c| c.status == status)
            .map(|c| vec![format!("  {}", c.id), c.why.clone()])
            .collect();
        if rows.is_empty() {
            continue;
        }
        text.push_str(&format!("\n{}\n", printer.bold(&heading)));
        for line in crate::ui::table::align(&rows) {
            text.push_str(&line);
            text.push('\n');
        }
    }
    text
}
