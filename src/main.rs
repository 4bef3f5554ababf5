//! `hauski`: the daemon and CLI. A thin binary in ripgrep's style: it parses
//! flags and config, loads engines from the library crates and wires them.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    hauski::init_tracing(cli.global.verbose);
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
