//! The `codecscope` command: argument parsing and dispatch only.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use codecscope::cli;

#[derive(Parser)]
#[command(
    name = "codecscope",
    version,
    about = "Inspect, check and reproduce codec-based video training data",
    long_about = "codecscope inspects and debugs the data of codec-based video LLM pipelines \
(OneVision-Encoder / LLaVA-Next codec mode): motion/residual-selected patches packed into mosaics, \
their positions_thw, and the eval asset folders that evaluation silently misses.",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Without a subcommand: open PATH in the inspector (`codecscope open PATH`).
    #[command(flatten)]
    open: cli::open::OpenArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Lint datasets, stage 1/2 outputs and eval assets before training and evaluation.
    Check(cli::check::CheckArgs),
    /// Stage 1: select patches by motion and residual energy (upstream's stage1.py).
    Select(cli::select::SelectArgs),
    /// Stage 2: pack selected patches into mosaics and write the training JSONL (stage2.py).
    Pack(cli::pack::PackArgs),
    /// Offline eval assets: mosaics and positions per video, as evaluation loads them.
    Precompute(cli::precompute::PrecomputeArgs),
    /// Per sampled frame: type, vectors, motion/residual/fused energy, patches kept.
    Analyze(cli::analyze::AnalyzeArgs),
    /// Why evaluation HITs or MISSes offline assets, video by video, and how to fix it.
    Doctor(cli::doctor::DoctorArgs),
    /// Decode H.264 with the project's own decoder (normal or upstream's residual mode).
    Decode(cli::decode::DecodeArgs),
    /// Open a sample, dataset or asset folder in the inspector (no PATH: the demo).
    Open(cli::open::OpenArgs),
    /// Print a sample's mosaics (and a frame's patch grid) once, without the inspector.
    Show(cli::show::ShowArgs),
    /// Self-check: terminal, picture protocol, linked FFmpeg, motion-vector export.
    Env(cli::env::EnvArgs),
}

fn main() -> ExitCode {
    let parsed = match Cli::try_parse() {
        Ok(p) => p,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match parsed.command {
        Some(Command::Check(args)) => cli::check::run(args),
        Some(Command::Select(args)) => cli::select::run(args),
        Some(Command::Pack(args)) => cli::pack::run(args),
        Some(Command::Precompute(args)) => cli::precompute::run(args),
        Some(Command::Analyze(args)) => cli::analyze::run(args),
        Some(Command::Doctor(args)) => cli::doctor::run(args),
        Some(Command::Decode(args)) => cli::decode::run(args),
        Some(Command::Open(args)) => cli::open::run(args),
        Some(Command::Show(args)) => cli::show::run(args),
        Some(Command::Env(args)) => cli::env::run(args),
        None => cli::open::run(parsed.open),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // A reader that went away (`| head`) is not an error worth a message.
            let broken_pipe = e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
