//! One printer renders every report as text (stdout, styled) or one JSON document (stdout),
//! and every line passes through secret redaction on its way out. Every document gets the
//! same metadata here, and a failure replaces it with the error document: the document is
//! held until the command is over (`take_document`), so stdout never holds two.

use crate::error::Error;
use crate::settings::Settings;
use console::Style;
use serde::Serialize;
use std::cell::RefCell;
use std::io::Write;

pub struct Printer {
    pub json: bool,
    pub quiet: bool,
    /// Colour per stream: text is styled when either takes colour, and the styles are taken
    /// out again on the way to a stream that takes none.
    color: crate::settings::Colors,
    /// The terminal's character set: every text line is written in it (JSON stays UTF-8).
    codeset: super::codeset::Codeset,
    /// `--output FILE`: the document is wanted even when stdout gets text.
    to_file: bool,
    secrets: RefCell<Vec<String>>,
    /// The command's one document (metadata added, secrets masked), once it has one.
    document: RefCell<Option<String>>,
}

/// `../shared/docs/cli.md`, "Additions": the version of the documents' shape.
pub const SCHEMA_VERSION: u32 = 2;

/// Every document, success or failure, carries these at its top level.
#[derive(Serialize)]
struct Stamped<'a, T: Serialize + ?Sized> {
    #[serde(flatten)]
    document: &'a T,
    schema_version: u32,
    whatap_version: &'static str,
    host: String,
    generated_at: String,
}

#[derive(Serialize)]
struct ErrorDocument<'a, P: Serialize> {
    command: &'a str,
    error: ErrorBody<'a>,
    /// A refused change: what it would have done.
    #[serde(skip_serializing_if = "Option::is_none")]
    plan: Option<&'a P>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    kind: &'static str,
    message: String,
    hint: Option<&'a str>,
    exit_code: u8,
}

impl Printer {
    pub fn new(settings: &Settings) -> Printer {
        Printer {
            json: settings.json,
            quiet: settings.quiet,
            color: settings.color,
            codeset: settings.codeset,
            to_file: settings.output.is_some(),
            secrets: RefCell::new(Vec::new()),
            document: RefCell::new(None),
        }
    }

    /// A printer for a command line that did not parse: only its error document.
    pub fn bare(json: bool) -> Printer {
        Printer {
            json,
            quiet: false,
            color: crate::settings::Colors::default(),
            codeset: super::codeset::Codeset::Utf8,
            to_file: false,
            secrets: RefCell::new(Vec::new()),
            document: RefCell::new(None),
        }
    }

    /// Text for stdout/stderr with secrets masked.
    pub fn redact(&self, text: &str) -> String {
        super::mask::redact(text, &self.secrets.borrow())
    }

    pub fn add_secret(&self, secret: &str) {
        self.secrets.borrow_mut().push(secret.to_string());
    }

    fn style(&self, style: Style) -> Style {
        if self.color.stdout || self.color.stderr {
            style.force_styling(true)
        } else {
            style.force_styling(false)
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.style(Style::new().bold()).apply_to(text).to_string()
    }

    pub fn red(&self, text: &str) -> String {
        self.style(Style::new().red().bold())
            .apply_to(text)
            .to_string()
    }

    pub fn yellow(&self, text: &str) -> String {
        self.style(Style::new().yellow()).apply_to(text).to_string()
    }

    pub fn green(&self, text: &str) -> String {
        self.style(Style::new().green()).apply_to(text).to_string()
    }

    pub fn dim(&self, text: &str) -> String {
        self.style(Style::new().dim()).apply_to(text).to_string()
    }

    /// Is the command's JSON document wanted (`--json`, `--output`)?
    pub fn wants_document(&self) -> bool {
        self.json || self.to_file
    }

    /// The command's document, with the metadata every document carries; replaces any
    /// document set before. Delivered by `take_document` when the command is over.
    pub fn document<T: Serialize + ?Sized>(&self, value: &T) {
        *self.document.borrow_mut() = Some(self.stamped(value));
    }

    /// `value` as a document: with the metadata, secrets masked, pretty-printed.
    pub fn stamped<T: Serialize + ?Sized>(&self, value: &T) -> String {
        let stamped = Stamped {
            document: value,
            schema_version: SCHEMA_VERSION,
            whatap_version: env!("CARGO_PKG_VERSION"),
            host: hostname(),
            generated_at: now_rfc3339(),
        };
        let text = serde_json::to_string_pretty(&stamped)
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
        format!("{}\n", self.redact(&text))
    }

    /// The document set last (None when the command has none, e.g. text only).
    pub fn take_document(&self) -> Option<String> {
        self.document.borrow_mut().take()
    }

    /// The document on stdout, with `--json`.
    pub fn print_document(&self, text: &str) {
        if self.json {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    }

    /// Human report text: stdout, or stderr in JSON mode.
    pub fn report(&self, text: &str) {
        if self.quiet {
            return;
        }
        let text = self.redact(text);
        if self.json {
            self.to_stderr(&text);
        } else {
            let text = uncolored_unless(self.color.stdout, &text);
            let _ = std::io::stdout()
                .lock()
                .write_all(&self.codeset.encode(&text));
        }
    }

    /// Progress and notes: always stderr, silent with -q.
    pub fn note(&self, text: &str) {
        if !self.quiet {
            self.to_stderr(&format!("{}\n", self.redact(text)));
        }
    }

    fn to_stderr(&self, text: &str) {
        let text = uncolored_unless(self.color.stderr, text);
        let _ = std::io::stderr()
            .lock()
            .write_all(&self.codeset.encode(&text));
    }

    /// A unified diff, coloured by line.
    pub fn diff_text(&self, diff: &str) -> String {
        let mut out = String::new();
        for line in self.redact(diff).lines() {
            let styled = if line.starts_with("+++") || line.starts_with("---") {
                self.bold(line)
            } else if line.starts_with('+') {
                self.green(line)
            } else if line.starts_with('-') {
                self.red(line)
            } else if line.starts_with("@@") {
                self.style(Style::new().cyan()).apply_to(line).to_string()
            } else {
                line.to_string()
            };
            out.push_str(&styled);
            out.push('\n');
        }
        out
    }

    /// The one-line error (and its hint): text on stderr, and the error document.
    pub fn error(&self, command: &str, error: &Error) {
        self.error_with::<()>(command, error, None);
    }

    /// A refused change: the error, with the plan nobody confirmed in its document.
    pub fn refusal<P: Serialize>(&self, command: &str, error: &Error, plan: &P) {
        self.error_with(command, error, Some(plan));
    }

    fn error_with<P: Serialize>(&self, command: &str, error: &Error, plan: Option<&P>) {
        if self.wants_document() {
            self.document(&ErrorDocument {
                command,
                error: ErrorBody {
                    kind: error.kind(),
                    message: error.to_string(),
                    hint: error.hint(),
                    exit_code: error.exit_code(),
                },
                plan,
            });
        }
        if self.json {
            return;
        }
        // One line each: a path or value with a line break or escape sequence in it is shown
        // escaped, not emitted raw.
        let line = |text: &str| self.redact(&super::mask::visible(text));
        let mut text = format!(
            "{} {}\n",
            self.red(&crate::msg!("label-error")),
            line(&error.to_string())
        );
        if let Some(hint) = error.hint() {
            let label = crate::msg!("label-hint");
            text.push_str(&format!("  {} {}\n", self.yellow(&label), line(hint)));
        }
        self.to_stderr(&text);
    }
}

/// `text` as is on a stream that takes colour, else without its escape codes.
fn uncolored_unless(color: bool, text: &str) -> std::borrow::Cow<'_, str> {
    if color {
        std::borrow::Cow::Borrowed(text)
    } else {
        console::strip_ansi_codes(text)
    }
}

/// This host's name as the kernel knows it (`uname -n`).
pub fn hostname() -> String {
    crate::os::hostname().unwrap_or_else(|| "localhost".to_string())
}

/// Now, as every document's `generated_at` says it.
pub fn now_rfc3339() -> String {
    rfc3339_utc(std::time::SystemTime::now())
}

/// `2026-12-01T09:30:00Z`: RFC 3339 in UTC, whole seconds.
fn rfc3339_utc(time: std::time::SystemTime) -> String {
    let secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm, proleptic Gregorian).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn rfc3339_dates() {
        let at = |secs| rfc3339_utc(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_798_761_599), "2026-12-31T23:59:59Z");
        assert_eq!(at(4_107_542_400), "2100-03-01T00:00:00Z");
    }

    #[test]
    fn every_document_is_stamped_and_an_error_replaces_it() {
        let printer = Printer::bare(true);
        printer.document(&serde_json::json!({"command": "detect", "runtimes": []}));
        printer.error("detect", &Error::refused("no", "why"));
        let doc: serde_json::Value =
            serde_json::from_str(&printer.take_document().unwrap()).unwrap();
        assert_eq!(doc["schema_version"], 2);
        assert_eq!(doc["error"]["kind"], "refused");
        assert_eq!(doc["error"]["exit_code"], 3);
        assert!(doc.get("runtimes").is_none(), "{doc}");
        assert!(doc["generated_at"].as_str().unwrap().ends_with('Z'));
        assert!(!doc["host"].as_str().unwrap().is_empty());
    }
}
