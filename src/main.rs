//! parse -> resolve settings -> dispatch -> exit code. The only place that exits.

mod apply;
mod cli;
mod commands;
mod detect;
mod doctor;
mod edit;
mod error;
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
    let cli = Cli::parse();
    let settings = settings::resolve(&cli, &settings::Environment::from_process());
    let printer = ui::Printer::new(&settings);
    let (name, result) = match &cli.command {
        Command::Detect => ("detect", commands::detect::run(&printer)),
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
            commands::doctor::run(&settings, &settings::doctor(args), &printer),
        ),
        Command::Completions { shell } => ("completions", Ok(commands::completions::run(*shell))),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            printer.error(name, &error);
            ExitCode::from(error.exit_code())
        }
    }
}
