//! `whatap report FILES... [--html OUT]`: many hosts' `doctor --json` documents as one
//! summary (text or JSON), and optionally as one self-contained HTML page.

use crate::error::Result;
use crate::fleet::{self, Fleet};
use crate::msg;
use crate::settings::ReportSettings;
use crate::ui::Printer;

pub fn run(report: &ReportSettings, printer: &Printer) -> Result<u8> {
    let fleet = fleet::read(&report.files)?;
    if let Some(out) = &report.html {
        let page = fleet::html::render(
            &fleet,
            &crate::ui::printer::now_rfc3339(),
            env!("CARGO_PKG_VERSION"),
        );
        crate::apply::atomic::replace(out, page.as_bytes())?;
        printer.note(&msg!("report-html-written", path = out.display()));
    }
    printer.document(&fleet);
    if !printer.json {
        printer.report(&render(printer, &fleet));
    }
    Ok(0)
}

fn render(printer: &Printer, fleet: &Fleet) -> String {
    let t = &fleet.totals;
    let mut text = format!(
        "{}: {}\n{}\n",
        printer.bold(&msg!("report-title")),
        msg!(
            "report-summary",
            hosts = t.hosts,
            failed = t.failed,
            errors = t.with_errors,
            warnings = t.with_warnings,
            clean = t.clean
        ),
        msg!(
            "report-findings-total",
            error = t.findings.error,
            warning = t.findings.warning,
            info = t.findings.info
        ),
    );
    text.push_str(&format!("\n{}\n", printer.bold(&msg!("report-first"))));
    if fleet.first.is_empty() {
        text.push_str(&format!("  {}\n", msg!("report-nothing-first")));
    }
    let width = fleet.hosts.iter().map(|h| h.host.len()).max().unwrap_or(0);
    for host in fleet.hosts.iter().filter(|h| fleet.first.contains(&h.host)) {
        let what = match &host.failure {
            Some(failure) => msg!("report-doctor-failed", message = failure.message),
            None => format!(
                "{}  {}",
                msg!(
                    "report-host-counts",
                    error = host.counts.error,
                    warning = host.counts.warning,
                    info = host.counts.info
                ),
                host.ids().join(" ")
            ),
        };
        let status = format!("{:?}", host.status).to_lowercase();
        text.push_str(&format!("  {status:<8} {:<width$}  {what}\n", host.host));
    }
    if !fleet.findings.is_empty() {
        text.push_str(&format!("\n{}\n", printer.bold(&msg!("report-by-id"))));
    }
    let id_width = fleet.findings.iter().map(|i| i.id.len()).max().unwrap_or(0);
    for id in &fleet.findings {
        let severity = format!("{:?}", id.severity).to_lowercase();
        text.push_str(&format!(
            "  {severity:<8} {:<id_width$}  {}/{}  {}\n",
            id.id,
            id.hosts.len(),
            t.hosts,
            id.hosts.join(", ")
        ));
    }
    text
}
