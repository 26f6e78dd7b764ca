//! The download progress bar (indicatif), on stderr, only for a person watching a terminal.

use crate::agent::{Progress, Silent};
use crate::settings::Settings;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, total: Option<u64>, done: u64) {
        if let Some(total) = total {
            self.0.set_length(total);
        }
        self.0.set_position(done);
    }

    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// A bar when stderr is a terminal and neither --json nor -q is set; otherwise silence.
pub fn reporter(settings: &Settings, label: &str) -> Box<dyn Progress> {
    if settings.json || settings.quiet || !std::io::stderr().is_terminal() {
        return Box::new(Silent);
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{msg} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(label.to_string());
    Box::new(Bar(bar))
}

/// Counts steps (`label 3/12`) on stderr for a person watching a terminal; silent otherwise.
pub struct Counter(Option<ProgressBar>);

impl Counter {
    pub fn step(&self, what: &str) {
        if let Some(bar) = &self.0 {
            bar.set_message(what.to_string());
            bar.inc(1);
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.0 {
            bar.finish_and_clear();
        }
    }
}

pub fn counter(settings: &Settings, label: &str, total: u64) -> Counter {
    if settings.json || settings.quiet || !std::io::stderr().is_terminal() {
        return Counter(None);
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let template = format!("{label} {{bar:30}} {{pos}}/{{len}} {{wide_msg}}");
    bar.set_style(
        ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Counter(Some(bar))
}

pub struct Spinner(Option<ProgressBar>);

impl Spinner {
    pub fn finish(self) {
        if let Some(bar) = self.0 {
            bar.finish_and_clear();
        }
    }
}

/// A spinner on stderr while something is waited for (a terminal only).
pub fn spinner(label: &str) -> Spinner {
    if !std::io::stderr().is_terminal() {
        return Spinner(None);
    }
    let bar = ProgressBar::new_spinner();
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar.set_message(label.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    Spinner(Some(bar))
}
