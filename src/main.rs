use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "codecscope",
    version,
    about = "Inspect and debug codec-based video training data"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Why evaluation HITs or MISSes offline assets, video by video.
    Doctor(codecscope::cli::doctor::DoctorArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Doctor(args) => codecscope::cli::doctor::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("codecscope: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
