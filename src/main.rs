//! parse -> resolve settings -> dispatch -> exit code. The only place that exits.

mod agent;
mod apply;
mod cli;
mod commands;
mod detect;
mod doctor;
mod edit;
mod error;
mod fleet;
#[cfg(test)]
mod fuzz;
mod net;
mod plan;
mod runtimes;
mod settings;
mod ui;

use clap::Parser;
use cli::{Cli, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let env = settings::Environment::from_process();
            ui::i18n::set_lang(settings::lang(None, &env));
            let raw = settings::RawArgs::from_process();
            return ExitCode::from(commands::bad_command_line(error, &raw));
        }
    };
    let settings = settings::resolve(&cli, &settings::Environment::from_process());
    ui::i18n::set_lang(settings.lang);
    let printer = ui::Printer::new(&settings);
    let (name, result) = match &cli.command {
        Command::Detect => ("detect", commands::detect::run(&settings, &printer)),
        Command::Install(args) if settings.wizard && commands::wizard::wanted(args) => {
            ("install", commands::wizard::run(&settings, args, &printer))
        }
        Command::Install(args) => (
            "install",
            settings::install(args)
                .and_then(|install| commands::install::run(&settings, &install, &printer)),
        ),
        Command::Uninstall(args) => (
            "uninstall",
            commands::uninstall::run(&settings, &settings::target(args), &printer),
        ),
        Command::Doctor(args) => (
            "doctor",
            settings::doctor(args)
                .and_then(|doctor| commands::doctor::run(&settings, &doctor, &printer)),
        ),
        Command::Report(args) => (
            "report",
            settings::report(args).and_then(|report| commands::report::run(&report, &printer)),
        ),
        Command::Completions { shell } => ("completions", Ok(commands::completions::run(*shell))),
        Command::Man { dir } => ("man", commands::completions::man(dir.as_deref())),
    };
    ExitCode::from(commands::conclude(&settings, &printer, name, result))
}
