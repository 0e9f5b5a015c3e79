//! `codecscope pack`: stage 2 (pack mosaics and write the training JSONL) or rewrite mode.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::knobs::{input_path, RunControl};
use super::output::print_json;
use super::progress::Progress;
use crate::pipeline::stage2::{self, Mode, Outcome, Stage2Run};
use crate::select::Layout;

#[derive(Debug, Args)]
#[command(after_long_help = "\
Stage 2 of the codec pipeline. Pack mode: for each record, find its stage 1 output under
--visidx-root, decode the sampled frames, pack the selected patches into --num-images square
mosaics ({stem}_{i:03d}.jpg in OUT_IMAGE_ROOT/sample_{id}__{stem}__{h8(video)}/), and write one
training JSONL line (the first <video> becomes <image> lines). Rewrite mode: only the JSONL, for
packs that already exist under --out-image-root.

Upstream's stage2.py flags work as they are (--input_dataset, --first_full, --write_positions,
--force_shard_out, ...). Existing packs are reused unless --overwrite.

Examples:
  codecscope pack data.json --visidx-root out/stage1 --out-jsonl out/train.jsonl \\
      --out-image-root out/stage2 --first-full --write-positions
  codecscope pack data.json --mode rewrite --out-jsonl train.jsonl --out-image-root out/stage2

Exit status: 0 all records done, 1 some failed (see {out_jsonl}.fail.txt), 2 usage or I/O error.")]
pub struct PackArgs {
    /// Raw video dataset (JSON array or JSONL), as given to `select`.
    #[arg(value_name = "DATASET")]
    pub dataset: Option<PathBuf>,
    #[arg(long = "input-dataset", alias = "input_dataset", hide = true)]
    pub input_dataset: Option<PathBuf>,
    /// pack: make mosaics; rewrite: only write the JSONL for existing packs.
    #[arg(long, default_value = "pack", value_parser = ["pack", "rewrite"])]
    pub mode: String,
    /// Stage 1 output folder (searched recursively).
    #[arg(long, alias = "visidx_root")]
    pub visidx_root: Option<PathBuf>,
    /// Training JSONL to write.
    #[arg(long, alias = "out_jsonl", required = true)]
    pub out_jsonl: PathBuf,
    /// Where the per-sample mosaic folders go (or are, in rewrite mode).
    #[arg(long, alias = "out_image_root", required = true)]
    pub out_image_root: PathBuf,
    #[arg(long, default_value_t = 8, alias = "num_images")]
    pub num_images: usize,
    #[arg(long, default_value_t = 576, alias = "square_size")]
    pub square_size: usize,
    /// Sampled frames of the stage 1 outputs to look for.
    #[arg(long = "T", default_value_t = 64)]
    pub t: usize,
    #[arg(long, default_value_t = 16)]
    pub patch: usize,
    /// time_spatial: dense packing in (t,h,w) order; spatial: each patch at its own place.
    #[arg(
        long,
        default_value = "time_spatial",
        value_name = "time_spatial|spatial"
    )]
    pub layout: Layout,
    /// Image 0 is the whole first sampled frame.
    #[arg(long, alias = "first_full")]
    pub first_full: bool,
    /// Write positions_thw.npy beside the mosaics (training needs it).
    #[arg(long, alias = "write_positions")]
    pub write_positions: bool,
    /// Skip records without a stage 1 output instead of failing them.
    #[arg(long, alias = "skip_missing")]
    pub skip_missing: bool,
    /// One JPEG per patch under patches/ instead of mosaics.
    #[arg(long, alias = "export_patches")]
    pub export_patches: bool,
    /// Rewrite mode: add positions_thw when the pack has one.
    #[arg(long, alias = "include_positions")]
    pub include_positions: bool,
    /// Rewrite mode: skip records without a pack.
    #[arg(long, alias = "skip_missing_packs")]
    pub skip_missing_packs: bool,
    /// Always name the JSONL per shard ({out_jsonl}.shardXXofYY.jsonl).
    #[arg(long, alias = "force_shard_out")]
    pub force_shard_out: bool,
    /// Failure log (default: {jsonl}.fail.txt).
    #[arg(long, alias = "fail_txt")]
    pub fail_txt: Option<PathBuf>,
    /// JPEG quality.
    #[arg(long, default_value_t = 95, alias = "jpg_quality")]
    pub jpg_quality: u8,
    #[command(flatten)]
    pub run: RunControl,
}

pub fn run(args: PackArgs) -> anyhow::Result<ExitCode> {
    let dataset = input_path(&args.dataset, &args.input_dataset, "--input_dataset")?;
    let mode = if args.mode == "rewrite" {
        Mode::Rewrite
    } else {
        Mode::Pack
    };
    if mode == Mode::Pack && args.visidx_root.is_none() {
        anyhow::bail!("pack mode needs --visidx-root (the stage 1 output folder)");
    }
    let shard = args.run.shard()?;
    let quiet = args.run.quiet || args.run.json;
    let run = Stage2Run {
        mode,
        dataset,
        out_jsonl: args.out_jsonl.clone(),
        out_image_root: args.out_image_root.clone(),
        visidx_root: args.visidx_root.clone(),
        num_images: args.num_images,
        square_size: args.square_size,
        t: args.t,
        patch: args.patch,
        layout: args.layout,
        first_full: args.first_full,
        write_positions: args.write_positions,
        skip_missing: args.skip_missing,
        export_patches: args.export_patches,
        include_positions: args.include_positions,
        skip_missing_packs: args.skip_missing_packs,
        force_shard_out: args.force_shard_out,
        fail_txt: args.fail_txt.clone(),
        shard,
        max_samples: args.run.max_samples,
        threads: crate::pipeline::runner::threads(args.run.threads),
        overwrite: args.run.overwrite,
        jpg_quality: args.jpg_quality,
    };
    if !quiet {
        for f in args.run.ignored_flags() {
            eprintln!("note: {f} is accepted for compatibility and ignored");
        }
    }
    let progress = Progress::new("pack", None, quiet);
    let mut stdout = std::io::stdout().lock();
    let json = args.run.json;
    let summary = stage2::run(&run, |job, outcome| {
        progress.inc(1);
        if json {
            let o = match outcome {
                Outcome::Line { packed, .. } => {
                    serde_json::json!({"status": if *packed {"packed"} else {"reused"}})
                }
                Outcome::Skipped { reason } => {
                    serde_json::json!({"status": "skipped", "reason": reason})
                }
                Outcome::Failed { message } => {
                    serde_json::json!({"status": "failed", "error": message})
                }
            };
            let _ = print_json(
                &mut stdout,
                "record",
                &serde_json::json!({"line": job.line, "id": job.id, "video": job.video, "outcome": o}),
            );
        } else if let Outcome::Failed { message } = outcome {
            progress.println(&format!("failed: {} ({}): {message}", job.id, job.video));
        }
    })?;
    progress.finish();
    if json {
        print_json(&mut stdout, "summary", &summary)?;
    } else {
        eprintln!(
            "pack: {} lines ({} packed, {} reused), {} skipped, {} failed, {} malformed records; wrote {}",
            summary.lines,
            summary.packed,
            summary.reused,
            summary.skipped,
            summary.failed,
            summary.not_jobs.malformed,
            summary.jsonl.display()
        );
        if summary.failed + summary.not_jobs.malformed > 0 {
            eprintln!("failure log: {}", summary.fail_log.display());
        }
    }
    stdout.flush()?;
    Ok(if summary.failed + summary.not_jobs.malformed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
