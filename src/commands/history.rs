//! `whatap history`: the state dir's append-only log of every change applied on this host
//! (`apply::history`), oldest first, each with the files it changed.

use crate::apply::history::{self, Entry};
use crate::error::Result;
use crate::msg;
use crate::settings::Settings;
use crate::ui::Printer;
use serde::Serialize;

#[derive(Serialize)]
struct HistoryReport<'a> {
    command: &'static str,
    file: std::path::PathBuf,
    entries: &'a [Entry],
}

pub fn run(settings: &Settings, printer: &Printer) -> Result<u8> {
    let file = settings.state.history_file();
    let entries = history::parse(
        &settings
            .state
            .read_file(crate::apply::state::HISTORY)?
            .unwrap_or_default(),
    );
    printer.document(&HistoryReport {
        command: "history",
        file: file.clone(),
        entries: &entries,
    });
    if printer.json {
        return Ok(0);
    }
    if entries.is_empty() {
        printer.report(&format!(
            "{}\n",
            msg!("history-none", file = file.display())
        ));
        return Ok(0);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let result = match e.error {
                None => printer.green(&msg!("history-applied")),
                Some(_) => printer.red(&msg!("history-rolled-back")),
            };
            vec![
                e.time.clone(),
                result,
                e.install.clone(),
                e.command.join(" "),
            ]
        })
        .collect();
    let mut text = String::new();
    for (line, entry) in crate::ui::table::align(&rows).iter().zip(&entries) {
        text.push_str(line);
        text.push('\n');
        if let Some(error) = &entry.error {
            text.push_str(&format!("    {error}\n"));
        }
        for file in &entry.files {
            let action = super::action_word(file.action);
            text.push_str(&format!("    {action:<9} {}\n", file.path.display()));
        }
    }
    printer.report(&text);
    Ok(0)
}
