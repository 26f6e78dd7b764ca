use crate::error::Result;
use crate::runtimes::Detection;
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
    let runtimes: Vec<Detection> = crate::runtimes::detect(&host, None)
        .iter()
        .map(|r| r.detection())
        .collect();
    host.cache.save();
    printer.document(&DetectReport {
        command: "detect",
        runtimes: &runtimes,
    });
    if printer.json {
        return Ok(0);
    }
    if runtimes.is_empty() {
        printer.report(&format!("{}\n", crate::msg!("detect-none")));
        return Ok(0);
    }
    let mut text = String::new();
    for d in &runtimes {
        text.push_str(&describe(printer, d));
        text.push('\n');
    }
    printer.report(&text);
    Ok(0)
}

/// One line per runtime: kind, version, home, base, PID, user, agent state.
pub fn describe(printer: &Printer, d: &Detection) -> String {
    let mut text = format!(
        "{} {}  home {}",
        printer.bold(d.runtime.name()),
        d.version
            .clone()
            .unwrap_or_else(|| crate::msg!("detect-version-unknown")),
        d.home.display()
    );
    if let Some(base) = d.base.as_ref().filter(|b| **b != d.home) {
        text.push_str(&format!("  base {}", base.display()));
    }
    if let Some(pid) = d.pid {
        text.push_str(&format!("  pid {pid}"));
    }
    if let Some(user) = &d.user {
        text.push_str(&format!("  user {user}"));
    }
    text.push_str(&format!(
        "  agent {}",
        format!("{:?}", d.agent).to_lowercase()
    ));
    text
}
