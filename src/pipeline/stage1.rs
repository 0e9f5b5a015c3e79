//! Stage 1 (`codecscope select`): for every record, decode the video once, select patches,
//! and write `visidx_thw.npy`, `frame_ids.npy` and `meta.json` as upstream names them.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::jobs::{Job, JobStream, SkipCounts, Stage};
use super::logs::{failure_line, python_repr_error, AppendLog};
use super::names;
use super::runner::run_ordered;
use super::shard::Shard;
use crate::analysis::{Analysis, ResidualSource};
use crate::formats::meta::{self, Stage1Meta};
use crate::formats::naming::{self, Stage1Geometry};
use crate::formats::npy;
use crate::select::{self, Selection, Stage1Params};
use crate::video::{self, AnalyzeOptions, VideoError};

/// Everything a stage 1 run needs.
#[derive(Debug, Clone)]
pub struct Stage1Run {
    pub dataset: PathBuf,
    pub out_root: PathBuf,
    pub params: Stage1Params,
    pub residual: ResidualSource,
    pub shard: Shard,
    pub max_samples: u64,
    pub threads: usize,
    pub overwrite: bool,
    pub fail_txt: Option<PathBuf>,
    pub unsupported_txt: Option<PathBuf>,
}

/// What happened to one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Written {
        prefix: PathBuf,
        k: usize,
        notes: Vec<String>,
    },
    Existing {
        prefix: PathBuf,
    },
    Unsupported {
        codec: String,
    },
    Failed {
        message: String,
    },
}

/// Counts for the closing line and the exit status.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    pub records: u64,
    pub written: u64,
    pub existing: u64,
    pub failed: u64,
    pub unsupported: u64,
    #[serde(flatten)]
    pub skipped: SkipCounts,
    pub fail_log: PathBuf,
    pub unsupported_log: PathBuf,
}

/// Outputs already in `out_root`, by prefix without `_K{K}`: a rerun skips them.
fn existing_outputs(out_root: &Path) -> HashSet<String> {
    let mut set = HashSet::new();
    let Ok(rd) = std::fs::read_dir(out_root) else {
        return set;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(prefix) = name.strip_suffix(".meta.json") else {
            continue;
        };
        let complete = [".visidx_thw.npy", ".frame_ids.npy"]
            .iter()
            .all(|s| out_root.join(format!("{prefix}{s}")).is_file());
        if let (true, Some(cut)) = (complete, prefix.rfind("_K")) {
            set.insert(prefix[..cut].to_string());
        }
    }
    set
}

fn geometry(p: &Stage1Params, k: usize) -> Stage1Geometry {
    Stage1Geometry {
        t: p.sequence_length,
        square: p.square_size,
        patch: p.patch_size,
        k,
    }
}

/// Runs stage 1 over a dataset; `on_record` is told of each record's outcome (for progress).
pub fn run(run: &Stage1Run, mut on_record: impl FnMut(&Job, &Outcome)) -> std::io::Result<Summary> {
    std::fs::create_dir_all(&run.out_root)?;
    let suffix = run.shard.suffix();
    let fail_log = AppendLog::new(
        run.fail_txt
            .clone()
            .unwrap_or_else(|| run.out_root.join(format!("stage1_failed.{suffix}.txt"))),
    );
    let unsup_log = AppendLog::new(run.unsupported_txt.clone().unwrap_or_else(|| {
        run.out_root
            .join(format!("stage1_unsupported.{suffix}.txt"))
    }));
    let existing = if run.overwrite {
        HashSet::new()
    } else {
        existing_outputs(&run.out_root)
    };
    let mut summary = Summary {
        fail_log: fail_log.path().to_path_buf(),
        unsupported_log: unsup_log.path().to_path_buf(),
        ..Default::default()
    };
    let mut jobs = JobStream::open(&run.dataset, Stage::Select, run.shard, run.max_samples)?;
    let work = |job: &Job| process(job, run, &existing);
    let mut io_error = None;
    run_ordered(&mut jobs, run.threads, work, |job, outcome| {
        summary.records += 1;
        let logged = match &outcome {
            Outcome::Written { .. } => {
                summary.written += 1;
                Ok(())
            }
            Outcome::Existing { .. } => {
                summary.existing += 1;
                Ok(())
            }
            Outcome::Unsupported { codec } => {
                summary.unsupported += 1;
                unsup_log.line(&failure_line(&job.id, &job.video, codec))
            }
            Outcome::Failed { message } => {
                summary.failed += 1;
                fail_log.line(&failure_line(
                    &job.id,
                    &job.video,
                    &python_repr_error("RuntimeError", message),
                ))
            }
        };
        if let Err(e) = logged {
            io_error.get_or_insert(e);
        }
        on_record(&job, &outcome);
    })?;
    if let Some(e) = io_error {
        return Err(e);
    }
    summary.skipped = jobs.finish(&run.dataset, &fail_log)?;
    Ok(summary)
}

fn process(job: &Job, run: &Stage1Run, existing: &HashSet<String>) -> Outcome {
    let p = &run.params;
    let probe_name = names::stage1_prefix(&job.id, &job.video, job.row_idx, geometry(p, 0));
    let base = probe_name
        .name
        .rsplit_once("_K")
        .map(|(b, _)| b.to_string())
        .unwrap_or_default();
    if existing.contains(&base) {
        return Outcome::Existing {
            prefix: run.out_root.join(base),
        };
    }
    let opts = AnalyzeOptions {
        sequence_length: p.sequence_length,
        sample_start_offset: p.sample_start_offset,
        residual: run.residual,
        with_rgb: false,
        skip_unneeded: true,
        residual_keep: p.residual_keep(),
        score_early: Some(p.energy()),
    };
    let analysis = match video::analyze(&job.video, &opts) {
        Ok(a) => a,
        Err(VideoError::UnsupportedCodec { codec, .. }) => return Outcome::Unsupported { codec },
        Err(e) => {
            return Outcome::Failed {
                message: e.to_string(),
            }
        }
    };
    let sel = select::select_stage1(&analysis, p);
    match write_outputs(job, run, &analysis, &sel) {
        Ok(written) => written,
        Err(e) => Outcome::Failed {
            message: format!("writing outputs: {e}"),
        },
    }
}

/// Stage 1's meta for a selection, field for field as upstream writes it, plus this
/// project's `codecscope` block (residual source, notes).
pub fn stage1_meta(
    job: &Job,
    p: &Stage1Params,
    analysis: &Analysis,
    sel: &Selection,
    notes: &[String],
) -> Stage1Meta {
    Stage1Meta {
        sample_id: job.id.clone(),
        sample_key: job.sample_key(),
        video: naming::pathlib_normalise(&job.video),
        t: p.sequence_length,
        frame_ids: None,
        preprocess: "square576".into(),
        square_size: p.square_size,
        patch: p.patch_size,
        keep_frames_equiv: p.keep_frames_equiv,
        padding_policy: p.padding_policy.as_str().into(),
        keep_uniform_first: p.keep_uniform_first,
        keep_first_full_frame: p.keep_first_full_frame,
        h0: analysis.height,
        w0: analysis.width,
        pad_info: sel.pad_info,
        hb: sel.hb,
        wb: sel.wb,
        s_total: sel.s_total,
        s_valid: sel.s_valid,
        k: sel.k,
        padding_patch_filtered: sel.padding_patch_filtered,
        valid_ranges: sel.valid_ranges,
        codecscope: Some(json!({
            "version": env!("CARGO_PKG_VERSION"),
            "residual_source": analysis.residual_source.as_str(),
            "w_res_used": sel.w_res_used,
            "frames_decoded": analysis.frame_count,
            "codec": analysis.codec,
            "notes": notes,
        })),
    }
}

fn write_outputs(
    job: &Job,
    run: &Stage1Run,
    analysis: &Analysis,
    sel: &Selection,
) -> std::io::Result<Outcome> {
    let p = &run.params;
    let name = names::stage1_prefix(&job.id, &job.video, job.row_idx, geometry(p, sel.k));
    let mut notes: Vec<String> = analysis.notes.iter().chain(&sel.notes).cloned().collect();
    if let Some(e) = &name.escaped {
        notes.push(e.clone());
    }
    if let Some(f) = &sel.upstream_failure {
        notes.push(format!("upstream would fail here: {f}"));
    }
    let prefix = run.out_root.join(&name.name);
    let with = |s: &str| PathBuf::from(format!("{}{s}", prefix.display()));
    npy::write_rows(&with(".visidx_thw.npy"), &sel.rows)?;
    npy::write_frame_ids(&with(".frame_ids.npy"), &analysis.frame_ids)?;
    // The meta goes last: its presence marks a complete output for resuming.
    meta::write_json(
        &with(".meta.json"),
        &stage1_meta(job, p, analysis, sel, &notes),
    )?;
    Ok(Outcome::Written {
        prefix,
        k: sel.k,
        notes,
    })
}
