//! One printer renders every report as text (stdout, styled) or one JSON document (stdout),
//! and every line passes through secret redaction on its way out.

use crate::error::Error;
use crate::settings::Settings;
use console::Style;
use serde::Serialize;
use std::cell::RefCell;
use std::io::Write;

pub struct Printer {
    pub json: bool,
    pub quiet: bool,
    color: bool,
    secrets: RefCell<Vec<String>>,
}

impl Printer {
    pub fn new(settings: &Settings) -> Printer {
        Printer {
            json: settings.json,
            quiet: settings.quiet,
            color: settings.color,
            secrets: RefCell::new(Vec::new()),
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
        if self.color {
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

    /// The command's result: JSON on stdout, or nothing here for text (use `report`).
    pub fn json<T: Serialize>(&self, value: &T) {
        let text = serde_json::to_string_pretty(value)
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", self.redact(&text));
    }

    /// Human report text: stdout, or stderr in JSON mode.
    pub fn report(&self, text: &str) {
        if self.quiet {
            return;
        }
        let text = self.redact(text);
        if self.json {
            let _ = write!(std::io::stderr().lock(), "{text}");
        } else {
            let _ = write!(std::io::stdout().lock(), "{text}");
        }
    }

    /// Progress and notes: always stderr, silent with -q.
    pub fn note(&self, text: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "{}", self.redact(text));
        }
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

    /// The one-line error (and its hint), as text on stderr or as the JSON document.
    pub fn error(&self, command: &str, error: &Error) {
        if self.json {
            self.json(&serde_json::json!({
                "command": command,
                "error": {
                    "message": error.to_string(),
                    "hint": error.hint(),
                    "exit_code": error.exit_code(),
                },
            }));
            return;
        }
        // One line each: a path or value with a line break or escape sequence in it is shown
        // escaped, not emitted raw.
        let line = |text: &str| self.redact(&super::mask::visible(text));
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "{} {}",
            self.red(&crate::msg!("label-error")),
            line(&error.to_string())
        );
        if let Some(hint) = error.hint() {
            let label = crate::msg!("label-hint");
            let _ = writeln!(err, "  {} {}", self.yellow(&label), line(hint));
        }
    }
}
