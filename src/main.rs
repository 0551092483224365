//! The `callrec` binary: parse the command line, run, turn the outcome into an exit code.

use callrec::cli::{Cli, Command};
use callrec::exit::ExitCode;
use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code.into(),
        Err(e) => {
            eprintln!("callrec: error: {e:#}");
            ExitCode::Fatal.into()
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Schema => {
            print!("{}", callrec::schema::schema_markdown());
            Ok(ExitCode::Success)
        }
        Command::Flatten(args) => {
            let (cfg, quiet) = args.resolve()?;
            let manifest = callrec::run::flatten(&cfg)?;
            if !quiet {
                eprintln!("{}", manifest.summary());
            }
            Ok(if manifest.has_rejections() {
                ExitCode::Rejected
            } else {
                ExitCode::Success
            })
        }
    }
}
