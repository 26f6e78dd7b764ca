use crate::cli::Cli;
use clap::CommandFactory;

pub fn run(shell: clap_complete::Shell) -> u8 {
    clap_complete::generate(shell, &mut Cli::command(), "whatap", &mut std::io::stdout());
    0
}
