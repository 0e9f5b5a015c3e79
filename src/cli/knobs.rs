//! Option groups shared by the pipeline subcommands: selection knobs with upstream's
//! defaults and spellings (underscore forms are aliases), run control, residual source.

use std::path::PathBuf;

use clap::Args;

use crate::analysis::ResidualSource;
use crate::pipeline::shard::Shard;
use crate::select::{FuseMode, MvCompensate, PaddingPolicy, Stage1Params};

/// The energy knobs shared by stage 1 and the offline precompute.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Energy")]
pub struct EnergyKnobs {
    /// Motion vectors are divided by this (upstream stores quarter-pel as whole pixels / 4).
    #[arg(long, default_value_t = 4.0, alias = "mv_unit_div")]
    pub mv_unit_div: f64,
    /// Percentile that normalises motion magnitude per frame.
    #[arg(long, default_value_t = 95.0, alias = "mv_pct")]
    pub mv_pct: f64,
    /// Percentile that normalises residual energy per frame.
    #[arg(long, default_value_t = 95.0, alias = "res_pct")]
    pub res_pct: f64,
    /// Weight of motion energy in the weighted fusion.
    #[arg(long, default_value_t = 1.0, alias = "w_mv")]
    pub w_mv: f64,
    /// Weight of residual energy (0 = motion only).
    #[arg(long, default_value_t = 1.0, alias = "w_res")]
    pub w_res: f64,
    /// Camera-motion compensation: subtract the per-frame median (or mean) vector.
    #[arg(
        long,
        default_value = "median",
        alias = "mv_compensate",
        value_name = "none|median|mean"
    )]
    pub mv_compensate: MvCompensate,
    /// Score residual gradients instead of magnitudes.
    #[arg(long, alias = "res_use_grad")]
    pub res_use_grad: bool,
    /// Residual source: exact (own decoder), emulate (stock FFmpeg estimate), frame-diff, none.
    /// Default: exact where available, else emulate.
    #[arg(long, value_name = "exact|emulate|frame-diff|none")]
    pub residual: Option<ResidualSource>,
}

impl EnergyKnobs {
    /// The residual source to use and why (recorded in every output).
    pub fn residual_source(&self) -> (ResidualSource, String) {
        match self.residual {
            Some(ResidualSource::None) => (ResidualSource::None, "asked for: motion only (w_res forced to 0)".into()),
            Some(r) => (r, format!("asked for: {}", r.as_str())),
            None if self.w_res == 0.0 => (ResidualSource::None, "w_res is 0: the residual is not decoded".into()),
            None => (
                ResidualSource::Exact,
                "default: exact (the project's H.264 decoder in residual mode); streams it does not support fall back to the emulator, per video".into(),
            ),
        }
    }
}

/// Stage 1's knobs (SPEC 4, stage1.py).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Selection")]
pub struct Stage1Knobs {
    /// Frames sampled uniformly over the video (T).
    #[arg(long, default_value_t = 64, alias = "sequence_length")]
    pub sequence_length: usize,
    /// First frame index sampled.
    #[arg(
        long,
        default_value_t = 0,
        alias = "sample_start_offset",
        allow_negative_numbers = true
    )]
    pub sample_start_offset: i64,
    #[arg(long, default_value_t = 16, alias = "patch_size")]
    pub patch_size: usize,
    #[arg(long, default_value_t = 576, alias = "square_size")]
    pub square_size: usize,
    /// Budget in frames' worth of patches (K = this x patches per frame).
    #[arg(long, default_value_t = 8, alias = "keep_frames_equiv")]
    pub keep_frames_equiv: usize,
    /// exclude: never pick padding patches; zero: pick them only when nothing else is left.
    #[arg(
        long,
        default_value = "exclude",
        alias = "padding_policy",
        value_name = "exclude|zero"
    )]
    pub padding_policy: PaddingPolicy,
    /// Keep every content patch of the first sampled frame.
    #[arg(long, alias = "keep_uniform_first")]
    pub keep_uniform_first: bool,
    /// Keep the whole first sampled frame, padding included (upstream's run script does).
    #[arg(long, alias = "keep_first_full_frame")]
    pub keep_first_full_frame: bool,
    /// How motion and residual energies combine.
    #[arg(
        long,
        default_value = "weighted",
        alias = "fuse_mode",
        value_name = "weighted|max|sum|geomean"
    )]
    pub fuse_mode: FuseMode,
    #[command(flatten)]
    pub energy: EnergyKnobs,
}

impl Stage1Knobs {
    pub fn params(&self) -> Stage1Params {
        let e = &self.energy;
        Stage1Params {
            sequence_length: self.sequence_length,
            sample_start_offset: self.sample_start_offset,
            patch_size: self.patch_size,
            square_size: self.square_size,
            keep_frames_equiv: self.keep_frames_equiv,
            padding_policy: self.padding_policy,
            keep_uniform_first: self.keep_uniform_first,
            keep_first_full_frame: self.keep_first_full_frame,
            mv_unit_div: e.mv_unit_div,
            mv_pct: e.mv_pct,
            res_pct: e.res_pct,
            fuse_mode: self.fuse_mode,
            w_mv: e.w_mv,
            w_res: e.w_res,
            mv_compensate: e.mv_compensate,
            res_use_grad: e.res_use_grad,
        }
    }
}

/// Sharding, parallelism, resuming (upstream's spellings accepted).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Run control")]
pub struct RunControl {
    /// Split the records into this many shards (default: Slurm array size, else 1).
    #[arg(long, alias = "num_shards")]
    pub num_shards: Option<u32>,
    /// Which shard this run takes (default: Slurm array task id, else 0).
    #[arg(long, alias = "shard_id")]
    pub shard_id: Option<u32>,
    /// Stop after this many records (0 = all).
    #[arg(long, default_value_t = 0, alias = "max_samples")]
    pub max_samples: u64,
    /// Videos worked on at once, one thread each (default: all cores). With fewer workers
    /// than cores the idle cores still help each video: scoring, colour conversion and the
    /// residual run on every core, and passes that only read pictures decode on them too.
    #[arg(long, short = 'j', alias = "num_workers")]
    pub threads: Option<usize>,
    /// Redo outputs that already exist (default: skip them, so a rerun resumes).
    #[arg(long)]
    pub overwrite: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// JSON Lines on stdout: one object per record, then a summary.
    #[arg(long)]
    pub json: bool,
    /// Accepted for upstream compatibility; ignored (each video runs in one thread here).
    #[arg(long, hide = true, alias = "maxtasks_per_child")]
    pub maxtasks_per_child: Option<String>,
    /// Accepted for upstream compatibility; ignored.
    #[arg(long, hide = true, alias = "log_every")]
    pub log_every: Option<String>,
    /// Accepted for upstream compatibility; ignored.
    #[arg(long, hide = true)]
    pub chunksize: Option<String>,
    /// Accepted for upstream compatibility; ignored.
    #[arg(long, hide = true, alias = "opencv_threads")]
    pub opencv_threads: Option<String>,
}

impl RunControl {
    pub fn shard(&self) -> anyhow::Result<Shard> {
        Shard::resolve(self.num_shards, self.shard_id).map_err(anyhow::Error::msg)
    }

    /// Says which upstream-only flags were ignored.
    pub fn ignored_flags(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.maxtasks_per_child.is_some() {
            v.push("--maxtasks_per_child");
        }
        if self.log_every.is_some() {
            v.push("--log_every");
        }
        if self.chunksize.is_some() {
            v.push("--chunksize");
        }
        if self.opencv_threads.is_some() {
            v.push("--opencv_threads");
        }
        v
    }
}

/// A positional input or upstream's flag for it.
pub fn input_path(
    positional: &Option<PathBuf>,
    flag: &Option<PathBuf>,
    flag_name: &str,
) -> anyhow::Result<PathBuf> {
    match (positional, flag) {
        (Some(p), None) | (None, Some(p)) => Ok(p.clone()),
        (Some(_), Some(_)) => {
            anyhow::bail!("give the input once: as a positional path or with {flag_name}")
        }
        (None, None) => anyhow::bail!("no input: give the dataset path (or {flag_name})"),
    }
}
