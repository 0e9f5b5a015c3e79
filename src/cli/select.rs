//! `codecscope select`: stage 1 over a dataset.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::knobs::{input_path, RunControl, Stage1Knobs};
use super::output::print_json;
use super::progress::Progress;
use crate::pipeline::stage1::{self, Outcome, Stage1Run};

#[derive(Debug, Args)]
#[command(after_long_help = "\
Stage 1 of the codec pipeline: for each record of a raw video dataset (JSON array or JSONL with
`id`, `video`, `conversations`), decode the video once, score 16x16 patches of T sampled frames by
motion and residual energy, keep the top-K, and write upstream's three files per record:
  sample_{id}__{stem}__{h8(video)}__{h8(sample_key)}_T{T}_square{S}_p{P}_K{K}.{visidx_thw.npy,frame_ids.npy,meta.json}

Upstream's stage1.py flags work as they are (e.g. --dataset_path, --keep_first_full_frame,
--num_shards); finished outputs are skipped on a rerun unless --overwrite.

Examples:
  codecscope select data.json --out-root out/stage1 --padding-policy zero --keep-first-full-frame
  codecscope select --dataset_path data.json --out_root out/stage1 --num_shards 8 --shard_id 3

Exit status: 0 all records done, 1 some failed (see the failure log), 2 usage or I/O error.")]
pub struct SelectArgs {
    /// Raw video dataset (JSON array or JSONL).
    #[arg(value_name = "DATASET")]
    pub dataset: Option<PathBuf>,
    #[arg(long = "dataset-path", alias = "dataset_path", hide = true)]
    pub dataset_path: Option<PathBuf>,
    /// Output folder.
    #[arg(long, alias = "out_root", required = true)]
    pub out_root: PathBuf,
    #[command(flatten)]
    pub knobs: Stage1Knobs,
    #[command(flatten)]
    pub run: RunControl,
    /// Failure log (default: OUT_ROOT/stage1_failed.shardXXofYY.txt).
    #[arg(long, alias = "fail_txt")]
    pub fail_txt: Option<PathBuf>,
    /// Unsupported-codec log (default: OUT_ROOT/stage1_unsupported.shardXXofYY.txt).
    #[arg(long, alias = "unsupported_txt")]
    pub unsupported_txt: Option<PathBuf>,
    /// Accepted for upstream compatibility: the codec is always probed here.
    #[arg(long, alias = "check_codec", hide = true)]
    pub check_codec: bool,
    /// Accepted for upstream compatibility: H.264 and HEVC are analysed, other codecs are
    /// logged as unsupported.
    #[arg(long, alias = "allowed_codecs", hide = true)]
    pub allowed_codecs: Option<String>,
}

pub fn run(args: SelectArgs) -> anyhow::Result<ExitCode> {
    let dataset = input_path(&args.dataset, &args.dataset_path, "--dataset_path")?;
    let params = args.knobs.params();
    let problems = params.validate();
    for p in &problems {
        eprintln!("{p}");
    }
    if problems
        .iter()
        .any(|p| p.severity == crate::diagnose::Severity::Error)
    {
        anyhow::bail!("the parameters above would make upstream fail");
    }
    let (residual, why) = args.knobs.energy.residual_source();
    let shard = args.run.shard()?;
    let quiet = args.run.quiet || args.run.json;
    if !quiet {
        eprintln!("residual source: {} ({why})", residual.as_str());
        if shard.count > 1 {
            let from = if shard.from_slurm {
                " (from the Slurm array)"
            } else {
                ""
            };
            eprintln!("shard {} of {}{from}", shard.id, shard.count);
        }
        for f in args.run.ignored_flags() {
            eprintln!("note: {f} is accepted for compatibility and ignored");
        }
    }
    let run = Stage1Run {
        dataset,
        out_root: args.out_root.clone(),
        params,
        residual,
        shard,
        max_samples: args.run.max_samples,
        threads: crate::pipeline::runner::threads(args.run.threads),
        overwrite: args.run.overwrite,
        fail_txt: args.fail_txt.clone(),
        unsupported_txt: args.unsupported_txt.clone(),
    };
    let progress = Progress::new("select", None, quiet);
    let mut stdout = std::io::stdout().lock();
    let json = args.run.json;
    let summary = stage1::run(&run, |job, outcome| {
        progress.inc(1);
        if json {
            let _ = print_json(
                &mut stdout,
                "record",
                &serde_json::json!({"line": job.line, "id": job.id, "video": job.video, "outcome": outcome_json(outcome)}),
            );
        } else if let Outcome::Failed { message } = outcome {
            progress.println(&format!("failed: {} ({}): {message}", job.id, job.video));
        } else if let Outcome::Unsupported { codec } = outcome {
            progress.println(&format!(
                "unsupported codec {codec}: {} ({})",
                job.id, job.video
            ));
        }
    })?;
    progress.finish();
    if json {
        print_json(&mut stdout, "summary", &summary)?;
    } else {
        eprintln!(
            "select: {} written, {} already done, {} failed, {} unsupported, {} malformed records, {} without id or video, {} in other shards",
            summary.written, summary.existing, summary.failed, summary.unsupported, summary.skipped.malformed, summary.skipped.skipped_no_id_or_video, summary.skipped.other_shard
        );
        if summary.failed + summary.skipped.malformed > 0 {
            eprintln!("failure log: {}", summary.fail_log.display());
        }
        if summary.unsupported > 0 {
            eprintln!("unsupported log: {}", summary.unsupported_log.display());
        }
    }
    stdout.flush()?;
    Ok(
        if summary.failed + summary.unsupported + summary.skipped.malformed > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        },
    )
}

fn outcome_json(o: &Outcome) -> serde_json::Value {
    match o {
        Outcome::Written { prefix, k, notes } => {
            serde_json::json!({"status": "written", "prefix": prefix, "K": k, "notes": notes})
        }
        Outcome::Existing { prefix } => serde_json::json!({"status": "existing", "prefix": prefix}),
        Outcome::Unsupported { codec } => {
            serde_json::json!({"status": "unsupported", "codec": codec})
        }
        Outcome::Failed { message } => serde_json::json!({"status": "failed", "error": message}),
    }
}
