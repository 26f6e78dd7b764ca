//! Generated documentation: shell completions (clap_complete) and man pages (clap_mangen).

use crate::cli::Cli;
use crate::error::{Error, Result};
use clap::CommandFactory;
use std::path::Path;

pub fn run(shell: clap_complete::Shell) -> u8 {
    clap_complete::generate(shell, &mut Cli::command(), "whatap", &mut std::io::stdout());
    0
}

/// The top page on stdout, or every page (whatap.1, whatap-install.1, ...) into `dir`.
pub fn man(dir: Option<&Path>) -> Result<u8> {
    // The pages are committed and shipped for every target: they name the version only.
    let mut command = Cli::command().long_version(None::<&str>);
    // Built as generate_to builds it, so both list the same subcommands.
    command.build();
    match dir {
        Some(dir) => clap_mangen::generate_to(command, dir).map_err(|e| Error::io(dir, e))?,
        None => clap_mangen::Man::new(command)
            .render(&mut std::io::stdout())
            .map_err(|e| Error::io("stdout", e))?,
    }
    Ok(0)
}
