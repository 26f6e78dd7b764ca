use crate::error::Result;
use crate::msg;
use crate::runtimes::Detection;
use crate::runtimes::instance::AgentState;
use crate::settings::Settings;
use crate::ui::Printer;
use serde::Serialize;

#[derive(Serialize)]
struct DetectReport<'a> {
    command: &'static str,
    runtimes: &'a [Detection],
}

pub fn run(settings: &Settings, printer: &Printer) -> Result<u8> {
    let host = crate::detect::Host::scan_cached(settings.state.probe_cache());
    let runtimes = found(&host);
    host.cache.save();
    printer.document(&DetectReport {
        command: "detect",
        runtimes: &runtimes,
    });
    if printer.json {
        return Ok(0);
    }
    if runtimes.is_empty() {
        printer.report(&format!("{}\n", msg!("detect-none")));
        return Ok(0);
    }
    let rows: Vec<Vec<String>> = runtimes.iter().map(|d| columns(printer, d)).collect();
    let mut text = String::new();
    for line in crate::ui::table::align(&rows) {
        text.push_str(&line);
        text.push('\n');
    }
    printer.report(&text);
    Ok(0)
}

fn found(host: &crate::detect::Host) -> Vec<Detection> {
    crate::runtimes::detect(host, None)
        .iter()
        .map(|r| r.detection())
        .collect()
}

/// `detect --json`'s document, for the support bundle.
pub fn document(printer: &Printer, host: &crate::detect::Host) -> String {
    printer.stamped(&DetectReport {
        command: "detect",
        runtimes: &found(host),
    })
}

/// One runtime as the cells of a table row, each saying what it is: kind, version, where,
/// whether it runs (PID, user), whether the agent is there.
pub fn columns(printer: &Printer, d: &Detection) -> Vec<String> {
    let kind = match d.details.get("sapi").and_then(|v| v.as_str()) {
        Some(sapi) => format!("{} ({sapi})", d.runtime.name()),
        None => d.runtime.name().to_string(),
    };
    let version = d
        .version
        .clone()
        .unwrap_or_else(|| msg!("detect-version-unknown"));
    let place = match d.base.as_ref().filter(|b| **b != d.home) {
        Some(base) => msg!(
            "detect-base-of-home",
            base = base.display(),
            home = d.home.display()
        ),
        None => d.home.display().to_string(),
    };
    let state = match (d.pid, &d.user) {
        (Some(pid), Some(user)) => msg!("detect-running-as", pid = pid, user = user),
        (Some(pid), None) => msg!("detect-running", pid = pid),
        (None, _) => msg!("detect-not-running"),
    };
    let agent = match d.agent {
        AgentState::None => msg!("detect-agent-none"),
        AgentState::Configured => msg!("detect-agent-configured"),
        AgentState::Loaded => msg!("detect-agent-loaded"),
    };
    vec![printer.bold(&kind), version, place, state, agent]
}
