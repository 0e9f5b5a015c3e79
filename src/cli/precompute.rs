//! `codecscope precompute`: offline eval assets (upstream's
//! offline_precompute_llava_codec_assets.py).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::knobs::{input_path, EnergyKnobs, RunControl};
use super::output::print_json;
use super::progress::Progress;
use crate::pipeline::offline::{self, OfflineRun, Outcome};
use crate::select::{OfflineParams, TopkMode, WindowPick};

#[derive(Debug, Args)]
#[command(after_long_help = "\
Writes the eval assets that LLaVA-OneVision-Encoder's evaluation loads instead of plain frames:
OUT_ROOT/assets/{key}/ with mosaic_000..007.jpg, positions_thw.npy, visible_indices.npy,
frame_ids.npy and meta.json. Point LLAVA_CODEC_OFFLINE_ROOT at OUT_ROOT/assets.

The input is the precompute JSONL ({\"video\", \"key\", \"exists\"?, \"task\"?, ...}) or a folder of
videos (keys = file stems). Each folder is built aside and renamed into place; finished folders
are skipped unless --overwrite. `codecscope doctor` then says whether eval will find them.

Examples:
  codecscope precompute eval_videos.jsonl --out-root /data/eval_assets
  codecscope precompute videos/ --out-root assets_out --keep-mid-full-frame --topk-mode time_bucket

Exit status: 0 all videos done, 1 some failed (see OUT_ROOT/precompute_failed.*.txt), 2 usage or I/O error.")]
pub struct PrecomputeArgs {
    /// Precompute input JSONL, or a folder of videos.
    #[arg(value_name = "JSONL|VIDEO_DIR")]
    pub input: Option<PathBuf>,
    #[arg(long, hide = true)]
    pub jsonl: Option<PathBuf>,
    /// Output root; assets go to OUT_ROOT/assets/{key}/.
    #[arg(long, alias = "out_root", required = true)]
    pub out_root: PathBuf,
    /// Frames sampled per video.
    #[arg(long, default_value_t = 64, alias = "seq_len_frames")]
    pub seq_len_frames: usize,
    /// Mosaics per video.
    #[arg(long, default_value_t = 8, alias = "num_images")]
    pub num_images: usize,
    #[arg(long, default_value_t = 576, alias = "square_size")]
    pub square_size: usize,
    #[arg(long, default_value_t = 16, alias = "patch_size")]
    pub patch_size: usize,
    /// Also keep one whole middle frame.
    #[arg(long, alias = "keep_mid_full_frame")]
    pub keep_mid_full_frame: bool,
    /// Which sampled frame is the middle one (-1: T/2).
    #[arg(long, default_value_t = -1, alias = "mid_full_frame_index", allow_negative_numbers = true)]
    pub mid_full_frame_index: i64,
    /// global: one top-k over all frames; time_bucket: one mosaic's worth per time bucket.
    #[arg(
        long,
        default_value = "global",
        alias = "topk_mode",
        value_name = "global|time_bucket"
    )]
    pub topk_mode: TopkMode,
    /// Buckets for time_bucket (-1: one per remaining mosaic).
    #[arg(long, default_value_t = -1, alias = "time_bucket_count", allow_negative_numbers = true)]
    pub time_bucket_count: i64,
    /// Only look at a window of this many frames (0: whole video).
    #[arg(long, default_value_t = 0, alias = "window_len")]
    pub window_len: i64,
    /// Which window: begin, mid, end, or energy3 (the one with the most bytes).
    #[arg(
        long,
        default_value = "none",
        alias = "window_pick",
        value_name = "none|begin|mid|end|energy3"
    )]
    pub window_pick: WindowPick,
    #[arg(long, default_value_t = 95, alias = "jpg_quality")]
    pub jpg_quality: u8,
    #[command(flatten)]
    pub energy: EnergyKnobs,
    #[command(flatten)]
    pub run: RunControl,
    /// Accepted for upstream compatibility (records with a falsy `exists` are always skipped).
    #[arg(long, hide = true, alias = "only_exists")]
    pub only_exists: bool,
}

impl PrecomputeArgs {
    pub fn params(&self) -> OfflineParams {
        let e = &self.energy;
        OfflineParams {
            seq_len_frames: self.seq_len_frames,
            num_images: self.num_images,
            square_size: self.square_size,
            patch_size: self.patch_size,
            mv_unit_div: e.mv_unit_div,
            mv_pct: e.mv_pct,
            res_pct: e.res_pct,
            w_mv: e.w_mv,
            w_res: e.w_res,
            mv_compensate: e.mv_compensate,
            res_use_grad: e.res_use_grad,
            window_len: self.window_len,
            window_pick: self.window_pick,
            keep_mid_full_frame: self.keep_mid_full_frame,
            mid_full_frame_index: self.mid_full_frame_index,
            topk_mode: self.topk_mode,
            time_bucket_count: self.time_bucket_count,
        }
    }
}

pub fn run(args: PrecomputeArgs) -> anyhow::Result<ExitCode> {
    let input = input_path(&args.input, &args.jsonl, "--jsonl")?;
    let params = args.params();
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
    let (residual, why) = args.energy.residual_source();
    let shard = args.run.shard()?;
    let quiet = args.run.quiet || args.run.json;
    let list =
        offline::load_jobs(&input).map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
    for (origin, why) in &list.rejected {
        eprintln!("skipped {origin}: {why}");
    }
    for (dup, first) in &list.duplicate_stems {
        eprintln!("warning: {dup} has the same stem as {first}; only the first is precomputed (eval looks assets up by stem)");
    }
    let jobs = offline::pick_jobs(list.jobs, shard, args.run.max_samples);
    if !quiet {
        eprintln!("residual source: {} ({why})", residual.as_str());
        eprintln!(
            "{} videos to precompute into {}",
            jobs.len(),
            args.out_root.join("assets").display()
        );
    }
    let run = OfflineRun {
        out_root: args.out_root.clone(),
        params,
        residual,
        residual_why: why,
        jpg_quality: args.jpg_quality,
        threads: crate::pipeline::runner::threads(args.run.threads),
        overwrite: args.run.overwrite,
    };
    let progress = Progress::new("precompute", Some(jobs.len() as u64), quiet);
    let mut stdout = std::io::stdout().lock();
    let json = args.run.json;
    let summary = offline::run(&run, jobs, shard, |job, outcome| {
        progress.inc(1);
        if json {
            let o = match outcome {
                Outcome::Written { dir, notes } => {
                    serde_json::json!({"status": "written", "dir": dir, "notes": notes})
                }
                Outcome::Existing { dir } => serde_json::json!({"status": "existing", "dir": dir}),
                Outcome::Failed { message } => {
                    serde_json::json!({"status": "failed", "error": message})
                }
            };
            let _ = print_json(
                &mut stdout,
                "video",
                &serde_json::json!({"origin": job.origin, "video": job.video, "key": job.key, "outcome": o}),
            );
        } else if let Outcome::Failed { message } = outcome {
            progress.println(&format!("failed: {} ({}): {message}", job.key, job.video));
        }
    })?;
    progress.finish();
    let rejected = list.rejected.len() as u64;
    if json {
        let mut s = serde_json::to_value(&summary)?;
        s["rejected_lines"] = rejected.into();
        s["not_existing"] = list.not_existing.into();
        print_json(&mut stdout, "summary", &s)?;
    } else {
        eprintln!(
            "precompute: {} written, {} already done, {} failed, {} input lines rejected, {} marked not existing",
            summary.written, summary.existing, summary.failed, rejected, list.not_existing
        );
        if summary.failed > 0 {
            eprintln!("failure log: {}", summary.fail_log.display());
        }
    }
    stdout.flush()?;
    Ok(if summary.failed + rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
