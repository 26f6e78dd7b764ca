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
mod os;
mod plan;
mod runtimes;
mod settings;
mod ui;

use cli::{Cli, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    use clap::FromArgMatches;
    // `--help` speaks the language the run would: `--lang` as typed, else the environment;
    // English on a terminal whose codeset is not UTF-8 (clap writes UTF-8 itself).
    let env = settings::Environment::from_process();
    let raw = settings::RawArgs::from_process();
    let korean = settings::lang(raw.lang, &env) == ui::i18n::Lang::Ko
        && settings::codeset(&env) == ui::codeset::Codeset::Utf8;
    let parsed = cli::command_in(korean)
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches).map(|cli| (cli, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            ui::i18n::set_lang(settings::lang(raw.lang, &env));
            return ExitCode::from(commands::bad_command_line(error, &raw));
        }
    };
    let settings = settings::resolve(&cli, &env);
    ui::i18n::set_lang(settings.lang);
    let printer = ui::Printer::new(&settings);
    let (name, result) = match &cli.command {
        Command::Detect => ("detect", commands::detect::run(&settings, &printer)),
        Command::Install(args) => {
            let sub = matches.subcommand_matches("install").unwrap_or(&matches);
            let run =
                |args: cli::InstallArgs| match settings.wizard && commands::wizard::wanted(&args) {
                    true => commands::wizard::run(&settings, &args, &printer),
                    false => settings::install(&args)
                        .and_then(|install| commands::install::run(&settings, &install, &printer)),
                };
            ("install", settings::install_args(args, sub).and_then(run))
        }
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
        Command::History => ("history", commands::history::run(&settings, &printer)),
        Command::Completions { shell } => ("completions", Ok(commands::completions::run(*shell))),
        Command::Man { dir } => ("man", commands::completions::man(dir.as_deref())),
    };
    ExitCode::from(commands::conclude(&settings, &printer, name, result))
}
