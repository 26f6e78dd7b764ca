//! The fleet report as one self-contained HTML page: inline CSS, no script, no external asset,
//! so it opens as it is from a file share or a mail attachment. Every text is escaped.

use super::{Fleet, HostReport, Status};
use crate::doctor::catalog::Severity;
use crate::msg;
use std::fmt::Write;

const STYLE: &str = r#"
:root{--error:#c62828;--warning:#b45f06;--info:#1565c0;--clean:#2e7d32;--failed:#6a1b9a;
--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans KR","Malgun Gothic",sans-serif;color:var(--ink);background:#fff}
main{max-width:1200px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:17px;margin:32px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}
.meta,.muted{color:var(--muted)}
code{font:12.5px/1.4 ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;background:var(--soft);border:1px solid var(--line);border-radius:4px;padding:0 4px;word-break:break-all}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin-top:18px}
.card{border:1px solid var(--line);border-left:6px solid var(--muted);border-radius:8px;padding:10px 14px;background:#fff}
.card b{display:block;font-size:28px;line-height:1.2}
.card.failed{border-left-color:var(--failed)}.card.error{border-left-color:var(--error)}
.card.warning{border-left-color:var(--warning)}.card.clean{border-left-color:var(--clean)}
.card.zero{opacity:.55}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:6px 10px;border-bottom:1px solid var(--line)}
thead th{background:var(--soft);font-weight:600;white-space:nowrap}
td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.badge{display:inline-block;min-width:64px;text-align:center;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;color:#fff;background:var(--muted)}
.badge.error{background:var(--error)}.badge.warning{background:var(--warning)}
.badge.info{background:var(--info)}.badge.clean{background:var(--clean)}.badge.failed{background:var(--failed)}
.bar{height:8px;background:var(--soft);border:1px solid var(--line);border-radius:4px;min-width:120px}
.bar i{display:block;height:100%;border-radius:3px}
.bar i.error{background:var(--error)}.bar i.warning{background:var(--warning)}.bar i.info{background:var(--info)}
.title{color:var(--muted);margin-top:2px}
.hostlist{margin-top:4px;font-size:12.5px}
.matrix-wrap{display:inline-block;max-width:100%;overflow:auto;max-height:80vh;border:1px solid var(--line);border-radius:6px}
.matrix{width:auto}
.matrix th,.matrix td{border:1px solid var(--line);padding:4px 6px}
.matrix thead th{position:sticky;top:0;z-index:1}
.matrix tbody th{position:sticky;left:0;background:#fff;font-weight:500;white-space:nowrap}
.matrix .id{writing-mode:vertical-rl;transform:rotate(180deg);font:12px ui-monospace,Menlo,Consolas,monospace;max-height:220px}
.matrix td{text-align:center;min-width:26px;font-weight:700;color:#fff}
.matrix td.error{background:var(--error)}.matrix td.warning{background:var(--warning)}.matrix td.info{background:var(--info)}
.matrix td.failed{background:repeating-linear-gradient(45deg,#eee,#eee 4px,#fff 4px,#fff 8px);color:var(--failed)}
details{border:1px solid var(--line);border-radius:8px;margin:8px 0;background:#fff}
details>summary{cursor:pointer;padding:8px 12px;list-style-position:inside}
details[open]>summary{border-bottom:1px solid var(--line);background:var(--soft)}
.finding{padding:10px 14px;border-left:4px solid var(--muted);margin:10px 12px}
.finding.error{border-left-color:var(--error)}.finding.warning{border-left-color:var(--warning)}.finding.info{border-left-color:var(--info)}
.finding.failed{border-left-color:var(--failed)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:8px 0 0}
dt{color:var(--muted)}dd{margin:0;word-break:break-word}
a{color:#0b5cad;text-decoration:none}a:hover{text-decoration:underline}
@media print{.matrix-wrap{max-height:none;overflow:visible}details{break-inside:avoid}}
"#;

/// Text for HTML: `&`, `<`, `>` and quotes escaped.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn severity_class(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

fn status_class(status: Status) -> &'static str {
    match status {
        Status::Failed => "failed",
        Status::Error => "error",
        Status::Warning => "warning",
        Status::Info => "info",
        Status::Clean => "clean",
    }
}

fn badge(class: &str) -> String {
    format!(r#"<span class="badge {class}">{class}</span>"#)
}

/// The anchor of a host's details: by position, since a host name may hold anything.
fn anchor(index: usize) -> String {
    format!("host-{}", index + 1)
}

/// The whole page. `generated_at` and `version` say when and by what it was made.
pub fn render(fleet: &Fleet, generated_at: &str, version: &str) -> String {
    let t = &fleet.totals;
    let lang = match crate::ui::i18n::lang() {
        crate::ui::i18n::Lang::Ko => "ko",
        crate::ui::i18n::Lang::En => "en",
    };
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} · {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        esc(&msg!("report-title")),
        esc(&msg!("report-summary-hosts", hosts = t.hosts)),
    );
    let _ = writeln!(
        page,
        "<header><h1>{}</h1><p class=\"meta\">{}</p></header>",
        esc(&msg!("report-title")),
        esc(&msg!(
            "report-generated",
            at = generated_at,
            version = version
        )),
    );
    cards(&mut page, fleet);
    first(&mut page, fleet);
    by_id(&mut page, fleet);
    matrix(&mut page, fleet);
    hosts(&mut page, fleet);
    page.push_str("</main>\n</body>\n</html>\n");
    page
}

fn cards(page: &mut String, fleet: &Fleet) {
    let t = &fleet.totals;
    page.push_str("<section class=\"cards\">\n");
    let f = t.findings;
    for (class, count, label) in [
        ("", t.hosts, msg!("report-card-hosts")),
        ("failed", t.failed, msg!("report-card-failed")),
        ("error", t.with_errors, msg!("report-card-errors")),
        ("warning", t.with_warnings, msg!("report-card-warnings")),
        ("clean", t.clean, msg!("report-card-clean")),
    ] {
        let zero = if count == 0 && !class.is_empty() {
            " zero"
        } else {
            ""
        };
        let _ = writeln!(
            page,
            "<div class=\"card {class}{zero}\"><b>{count}</b><span>{}</span></div>",
            esc(&label)
        );
    }
    let _ = writeln!(
        page,
        "<div class=\"card\"><b>{} / {} / {}</b><span>{}</span></div>",
        f.error,
        f.warning,
        f.info,
        esc(&msg!("report-card-findings"))
    );
    page.push_str("</section>\n");
}

/// The host's distinct finding ids as code chips, or its failure.
fn what(host: &HostReport) -> String {
    if let Some(failure) = &host.failure {
        return esc(&msg!("report-doctor-failed", message = failure.message));
    }
    host.ids()
        .iter()
        .map(|id| format!("<code>{}</code>", esc(id)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A section's heading, then the table head of `columns` (label, numeric?), or `empty`
/// as a paragraph when there are no rows. False when there are none.
fn section(
    page: &mut String,
    title: &str,
    rows: bool,
    empty: &str,
    columns: &[(String, bool)],
) -> bool {
    let _ = writeln!(page, "<h2>{}</h2>", esc(title));
    if !rows {
        let _ = writeln!(page, "<p>{}</p>", esc(empty));
        return false;
    }
    page.push_str("<table><thead><tr>");
    for (label, numeric) in columns {
        let class = if *numeric { " class=\"num\"" } else { "" };
        let _ = write!(page, "<th{class}>{}</th>", esc(label));
    }
    page.push_str("</tr></thead><tbody>\n");
    true
}

fn first(page: &mut String, fleet: &Fleet) {
    let columns = [
        (msg!("report-col-host"), false),
        (msg!("report-col-status"), false),
        (msg!("report-col-errors"), true),
        (msg!("report-col-warnings"), true),
        (msg!("report-col-findings"), false),
    ];
    let rows = !fleet.first.is_empty();
    if !section(
        page,
        &msg!("report-first"),
        rows,
        &msg!("report-nothing-first"),
        &columns,
    ) {
        return;
    }
    for (index, host) in fleet.hosts.iter().enumerate() {
        if !fleet.first.contains(&host.host) {
            continue;
        }
        let _ = writeln!(
            page,
            "<tr><td><a href=\"#{}\">{}</a></td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td>{}</td></tr>",
            anchor(index),
            esc(&host.host),
            badge(status_class(host.status)),
            host.counts.error,
            host.counts.warning,
            what(host),
        );
    }
    page.push_str("</tbody></table>\n");
}

fn by_id(page: &mut String, fleet: &Fleet) {
    let columns = [
        (msg!("report-col-severity"), false),
        (msg!("report-col-finding"), false),
        (msg!("report-col-hosts"), true),
        (String::new(), false),
    ];
    let rows = !fleet.findings.is_empty();
    if !section(
        page,
        &msg!("report-by-id"),
        rows,
        &msg!("report-no-findings"),
        &columns,
    ) {
        return;
    }
    let total = fleet.totals.hosts.max(1);
    for id in &fleet.findings {
        let class = severity_class(id.severity);
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td><code>{}</code><div class=\"title\">{}</div></td>\
             <td class=\"num\">{} / {}</td><td><div class=\"bar\"><i class=\"{class}\" \
             style=\"width:{}%\"></i></div><div class=\"hostlist\">{}</div></td></tr>",
            badge(class),
            esc(&id.id),
            esc(&id.title),
            id.hosts.len(),
            fleet.totals.hosts,
            id.hosts.len() * 100 / total,
            esc(&id.hosts.join(", ")),
        );
    }
    page.push_str("</tbody></table>\n");
}

fn matrix(page: &mut String, fleet: &Fleet) {
    if fleet.findings.is_empty() && fleet.totals.failed == 0 {
        return;
    }
    let _ = writeln!(page, "<h2>{}</h2>", esc(&msg!("report-matrix")));
    let _ = write!(
        page,
        "<div class=\"matrix-wrap\"><table class=\"matrix\"><thead><tr><th>{}</th>",
        esc(&msg!("report-col-host"))
    );
    for id in &fleet.findings {
        let _ = write!(page, "<th><div class=\"id\">{}</div></th>", esc(&id.id));
    }
    page.push_str("</tr></thead><tbody>\n");
    for (index, host) in fleet.hosts.iter().enumerate() {
        if host.status == Status::Clean {
            continue;
        }
        let _ = write!(
            page,
            "<tr><th><a href=\"#{}\">{}</a></th>",
            anchor(index),
            esc(&host.host)
        );
        for id in &fleet.findings {
            let count = host.count(&id.id);
            match (&host.failure, count) {
                (Some(_), _) => {
                    let _ = write!(
                        page,
                        "<td class=\"failed\" title=\"{}\">?</td>",
                        esc(&msg!("report-card-failed"))
                    );
                }
                (None, 0) => page.push_str("<td></td>"),
                (None, n) => {
                    let _ = write!(
                        page,
                        "<td class=\"{}\" title=\"{} · {}\">{n}</td>",
                        severity_class(id.severity),
                        esc(&host.host),
                        esc(&id.id)
                    );
                }
            }
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody></table></div>\n");
}

fn hosts(page: &mut String, fleet: &Fleet) {
    let _ = writeln!(page, "<h2>{}</h2>", esc(&msg!("report-hosts")));
    for (index, host) in fleet.hosts.iter().enumerate() {
        let open = if fleet.first.contains(&host.host) {
            " open"
        } else {
            ""
        };
        let when = msg!(
            "report-doctor-at",
            at = host.generated_at.as_deref().unwrap_or("?"),
            version = host.whatap_version.as_deref().unwrap_or("?")
        );
        let _ = writeln!(
            page,
            "<details id=\"{}\"{open}><summary>{} <b>{}</b> <span class=\"muted\">{} · {}</span>\
             </summary>",
            anchor(index),
            badge(status_class(host.status)),
            esc(&host.host),
            esc(&msg!(
                "report-host-counts",
                error = host.counts.error,
                warning = host.counts.warning,
                info = host.counts.info
            )),
            esc(&when),
        );
        if let Some(failure) = &host.failure {
            let _ = writeln!(
                page,
                "<div class=\"finding failed\"><div>{}</div>{}</div>",
                esc(&msg!("report-doctor-failed", message = failure.message)),
                failure
                    .hint
                    .as_deref()
                    .map(|h| format!("<div class=\"muted\">{}</div>", esc(h)))
                    .unwrap_or_default(),
            );
        }
        if host.failure.is_none() && host.findings.is_empty() {
            let _ = writeln!(
                page,
                "<div class=\"finding\">{}</div>",
                esc(&msg!("doctor-no-errors"))
            );
        }
        for f in &host.findings {
            let class = severity_class(f.severity);
            let _ = writeln!(
                page,
                "<div class=\"finding {class}\"><div>{} <code>{}</code> {}</div><dl>\
                 <dt>{}</dt><dd>{}</dd><dt>{}</dt><dd><code>{}</code></dd><dt>{}</dt><dd>{}</dd>\
                 </dl></div>",
                badge(class),
                esc(&f.id),
                esc(&f.title),
                esc(msg!("doctor-label-target").trim()),
                esc(&f.target),
                esc(msg!("doctor-label-evidence").trim()),
                esc(&f.evidence),
                esc(msg!("doctor-label-fix").trim()),
                esc(&f.fix),
            );
        }
        page.push_str("</details>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc(r#"<script>"a" & 'b'</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }
}
