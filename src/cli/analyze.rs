//! `codecscope analyze VIDEO`: what stage 1 sees in one video, frame by frame.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use serde_json::json;

use super::knobs::Stage1Knobs;
use super::output::print_json;
use crate::analysis::ResidualKeep;
use crate::select;
use crate::video::{self, AnalyzeOptions};

#[derive(Debug, Args)]
#[command(after_long_help = "\
Decodes one video as stage 1 does and prints, per sampled frame: the frame number, its type
(I/P/B), how many motion vectors it exports, its motion and residual energy before and after the
per-frame normalisation, the fused score, and how many patches the selection keeps from it.
I frames export no vectors, so their motion energy is zero; each frame is normalised on its own
(by its 95th percentile) before the global top-k, so a quiet frame's busiest patch still scores.

Examples:
  codecscope analyze clip.mp4
  codecscope analyze clip.mp4 --keep-first-full-frame --padding-policy zero --json")]
pub struct AnalyzeArgs {
    /// The video.
    pub video: PathBuf,
    #[command(flatten)]
    pub knobs: Stage1Knobs,
    /// JSON Lines: one `frame` object per sampled frame, then a `summary`.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let params = args.knobs.params();
    let (residual, why) = args.knobs.energy.residual_source();
    let video_str = args.video.to_string_lossy().into_owned();
    let opts = AnalyzeOptions {
        sequence_length: params.sequence_length,
        sample_start_offset: params.sample_start_offset,
        residual,
        with_rgb: false,
        skip_unneeded: true,
        residual_keep: ResidualKeep::Whole,
        score_early: None,
    };
    let t0 = Instant::now();
    let va = video::analyze_with(&video_str, &opts, &mut |_| true)?;
    let decode_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let sel = select::select_stage1(&va.analysis, &params);
    let select_s = t1.elapsed().as_secs_f64();
    let kept = sel.rows_per_frame();
    let a = &va.analysis;
    let mut out = std::io::stdout().lock();
    if !args.json {
        writeln!(
            out,
            "{}: {} {}x{}, {} frames decoded, T={} sampled, residual {} ({why})",
            video_str,
            a.codec,
            a.width,
            a.height,
            a.frame_count,
            a.frames.len(),
            a.residual_source.as_str()
        )?;
        writeln!(
            out,
            "{:>3} {:>6} {:>4} {:>7} {:>12} {:>8} {:>12} {:>8} {:>10} {:>5}",
            "t",
            "frame",
            "type",
            "vectors",
            "motion raw",
            "mv norm",
            "residual raw",
            "res norm",
            "score",
            "kept"
        )?;
    }
    for (t, f) in a.frames.iter().enumerate() {
        let e = sel.energy.get(t).copied().unwrap_or_default();
        if args.json {
            print_json(
                &mut out,
                "frame",
                &json!({
                    "t": t, "frame": f.frame_index, "type": f.frame_type.as_char().to_string(),
                    "vectors": f.vector_count, "energy": e, "kept": kept.get(t).copied().unwrap_or(0),
                }),
            )?;
        } else {
            writeln!(
                out,
                "{:>3} {:>6} {:>4} {:>7} {:>12.1} {:>8.1} {:>12.1} {:>8.1} {:>10.1} {:>5}",
                t,
                f.frame_index,
                f.frame_type.as_char(),
                f.vector_count,
                e.motion_raw_sum,
                e.motion_norm_sum,
                e.residual_raw_sum,
                e.residual_norm_sum,
                e.score_sum,
                kept.get(t).copied().unwrap_or(0)
            )?;
        }
    }
    let notes: Vec<&String> = a.notes.iter().chain(&sel.notes).collect();
    let summary = json!({
        "video": video_str, "codec": a.codec, "width": a.width, "height": a.height,
        "frames_decoded": a.frame_count, "frame_ids": a.frame_ids, "K": sel.k,
        "residual_source": a.residual_source.as_str(), "residual_why": why,
        "padding_patch_filtered": sel.padding_patch_filtered,
        "timings_sec": {"decode": decode_s, "select": select_s, "scan": va.stats.scan_seconds},
        "frames_skipped_undecoded": va.stats.frames_skipped,
        "notes": notes,
    });
    if args.json {
        print_json(&mut out, "summary", &summary)?;
    } else {
        writeln!(
            out,
            "K={} ({} on padding); decode {:.3} s ({} non-reference frames skipped), selection {:.1} ms",
            sel.k,
            sel.padding_patch_filtered,
            decode_s,
            va.stats.frames_skipped,
            select_s * 1000.0
        )?;
        for n in notes {
            writeln!(out, "note: {n}")?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
