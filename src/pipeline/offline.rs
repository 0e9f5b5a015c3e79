//! The offline eval assets (`codecscope precompute`): for each video, select and pack
//! `num_images * S_total` patches and write `assets/{key}/` as evaluation reads it. Each folder
//! is built aside and renamed into place, so eval never sees a half-written one.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Value};

use super::logs::{failure_line, python_repr_error, AppendLog};
use super::names::safe_name;
use super::runner::run_ordered;
use super::shard::Shard;
use crate::analysis::ResidualSource;
use crate::diagnose::records::truthy;
use crate::formats::dataset::{python_str, RecordStream};
use crate::formats::discover::is_video_path;
use crate::formats::{jpeg, meta, naming, npy};
use crate::select::{self, OfflineParams};
use crate::video::{self, OfflineOptions};

/// One video to precompute.
#[derive(Debug, Clone, PartialEq)]
pub struct OfflineJob {
    /// Where it came from (`file:line`, or the video path for a folder).
    pub origin: String,
    pub task: String,
    pub split: String,
    pub doc_id: i64,
    pub n: i64,
    pub video: String,
    pub key: String,
}

/// Reading the job list: what was skipped and why.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct JobList {
    #[serde(skip)]
    pub jobs: Vec<OfflineJob>,
    pub not_existing: u64,
    /// Lines that could not be used (malformed, no `video`), with the reason.
    pub rejected: Vec<(String, String)>,
    /// Duplicate stems in a folder of videos (the first is used).
    pub duplicate_stems: Vec<(String, String)>,
}

fn int_like(v: Option<&Value>, default: i64) -> i64 {
    match v {
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f.trunc() as i64))
            .unwrap_or(default),
        Some(Value::Bool(b)) => *b as i64,
        Some(Value::String(s)) => s.trim().parse().unwrap_or(default),
        _ => default,
    }
}

/// Jobs from the precompute input JSONL (always read as JSONL, as upstream does).
pub fn jobs_from_jsonl(path: &Path) -> std::io::Result<JobList> {
    let mut list = JobList::default();
    let file = std::fs::File::open(path)?;
    let reader = std::io::BufReader::new(file);
    for (i, line) in std::io::BufRead::lines(reader).enumerate() {
        let line = line?;
        let origin = format!("{}:{}", path.display(), i + 1);
        if line.trim().is_empty() {
            continue;
        }
        let d: Value = match serde_json::from_str(line.trim()) {
            Ok(d) => d,
            Err(e) => {
                list.rejected.push((origin, format!("not valid JSON: {e}")));
                continue;
            }
        };
        if d.get("exists").is_some_and(|v| !truthy(v)) {
            list.not_existing += 1;
            continue;
        }
        let Some(video) = d.get("video").filter(|v| !v.is_null()).map(python_str) else {
            list.rejected.push((
                origin,
                "no `video` (upstream aborts the whole run here)".into(),
            ));
            continue;
        };
        let key = match d.get("key") {
            Some(v) if truthy(v) => python_str(v),
            _ => String::new(),
        };
        list.jobs.push(OfflineJob {
            origin,
            task: d.get("task").map(python_str).unwrap_or_default(),
            split: d.get("split").map(python_str).unwrap_or_default(),
            doc_id: int_like(d.get("doc_id"), -1),
            n: int_like(d.get("n"), 0),
            video,
            key,
        });
    }
    Ok(list)
}

/// Jobs for every video in a folder (not recursive), keyed by stem.
pub fn jobs_from_folder(dir: &Path) -> std::io::Result<JobList> {
    let mut list = JobList::default();
    let mut videos: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && is_video_path(p))
        .collect();
    videos.sort();
    let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for v in videos {
        let video = v.to_string_lossy().into_owned();
        let key = naming::stem(&video).to_string();
        if let Some(first) = seen.get(&key) {
            list.duplicate_stems.push((video.clone(), first.clone()));
            continue;
        }
        seen.insert(key.clone(), video.clone());
        list.jobs.push(OfflineJob {
            origin: video.clone(),
            task: String::new(),
            split: String::new(),
            doc_id: -1,
            n: 0,
            video,
            key,
        });
    }
    Ok(list)
}

/// Reads either input form; records are kept whatever their count (eval lists are small).
pub fn load_jobs(input: &Path) -> std::io::Result<JobList> {
    if input.is_dir() {
        jobs_from_folder(input)
    } else {
        // Validate it streams as JSON Lines at all before the line-by-line read.
        RecordStream::open(input)?;
        jobs_from_jsonl(input)
    }
}

/// Upstream's sharding (job index modulo, only with more than one shard) and `max_samples`.
pub fn pick_jobs(jobs: Vec<OfflineJob>, shard: Shard, max_samples: u64) -> Vec<OfflineJob> {
    let mut picked: Vec<OfflineJob> = if shard.count > 1 {
        jobs.into_iter()
            .enumerate()
            .filter(|(i, _)| (*i as u32) % shard.count == shard.id)
            .map(|(_, j)| j)
            .collect()
    } else {
        jobs
    };
    if max_samples > 0 {
        picked.truncate(max_samples as usize);
    }
    picked
}

#[derive(Debug, Clone)]
pub struct OfflineRun {
    pub out_root: PathBuf,
    pub params: OfflineParams,
    pub residual: ResidualSource,
    pub residual_why: String,
    pub jpg_quality: u8,
    pub threads: usize,
    pub overwrite: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Written { dir: PathBuf, notes: Vec<String> },
    Existing { dir: PathBuf },
    Failed { message: String },
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    pub jobs: u64,
    pub written: u64,
    pub existing: u64,
    pub failed: u64,
    pub fail_log: PathBuf,
}

/// Upstream's "finished" test: meta, the three arrays and every mosaic present.
pub fn is_done(dir: &Path, num_images: usize) -> bool {
    [
        "meta.json",
        "frame_ids.npy",
        "visible_indices.npy",
        "positions_thw.npy",
    ]
    .iter()
    .all(|f| dir.join(f).is_file())
        && (0..num_images).all(|i| dir.join(format!("mosaic_{i:03}.jpg")).is_file())
}

pub fn run(
    run: &OfflineRun,
    jobs: Vec<OfflineJob>,
    shard: Shard,
    mut on_job: impl FnMut(&OfflineJob, &Outcome),
) -> std::io::Result<Summary> {
    let assets = run.out_root.join("assets");
    std::fs::create_dir_all(&assets)?;
    let fail_log = AppendLog::new(
        run.out_root
            .join(format!("precompute_failed.{}.txt", shard.suffix())),
    );
    let mut summary = Summary {
        fail_log: fail_log.path().to_path_buf(),
        ..Default::default()
    };
    let mut io_error = None;
    run_ordered(
        jobs.into_iter(),
        run.threads,
        |job| process(job, run, &assets),
        |job, outcome| {
            summary.jobs += 1;
            match &outcome {
                Outcome::Written { .. } => summary.written += 1,
                Outcome::Existing { .. } => summary.existing += 1,
                Outcome::Failed { message } => {
                    summary.failed += 1;
                    if let Err(e) = fail_log.line(&failure_line(
                        &job.key,
                        &job.video,
                        &python_repr_error("RuntimeError", message),
                    )) {
                        io_error.get_or_insert(e);
                    }
                }
            }
            on_job(&job, &outcome);
        },
    )?;
    match io_error {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}

fn process(job: &OfflineJob, run: &OfflineRun, assets: &Path) -> Outcome {
    if job.key.is_empty() {
        return Outcome::Failed {
            message: "empty key: upstream would write these assets straight into assets/ (a flat root that gives every video the same images at eval); give the record a key".into(),
        };
    }
    let name = safe_name(&job.key, 32, |k| k.to_string());
    let dir = assets.join(&name.name);
    if !run.overwrite && is_done(&dir, run.params.num_images) {
        return Outcome::Existing { dir };
    }
    if !Path::new(&job.video).is_file() {
        return Outcome::Failed {
            message: format!("missing video: {}", job.video),
        };
    }
    let staging = assets.join(format!(".{}.partial-{}", name.name, std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let started = Instant::now();
    let result = std::fs::create_dir_all(&staging)
        .map_err(|e| format!("{}: {e}", staging.display()))
        .and_then(|_| build(job, run, &staging, started, name.escaped.as_deref()));
    let notes = match result {
        Ok(notes) => notes,
        Err(message) => {
            // Like upstream, leave an error.json for the doctor and for people; unlike
            // upstream, never beside stale mosaics.
            let err = json!({"error": python_repr_error("RuntimeError", &message), "video": job.video, "key": job.key});
            let _ = std::fs::remove_dir_all(&staging);
            if std::fs::create_dir_all(&staging).is_ok()
                && meta::write_json(&staging.join("error.json"), &err).is_ok()
            {
                let _ = replace_dir(&staging, &dir);
            }
            let _ = std::fs::remove_dir_all(&staging);
            return Outcome::Failed { message };
        }
    };
    match replace_dir(&staging, &dir) {
        Ok(()) => Outcome::Written { dir, notes },
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Outcome::Failed {
                message: format!("moving {} into place: {e}", dir.display()),
            }
        }
    }
}

/// Renames `staging` to `dir`, replacing what was there.
fn replace_dir(staging: &Path, dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        let old = dir.with_file_name(format!(
            ".{}.old-{}",
            dir.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        std::fs::rename(dir, &old)?;
        std::fs::rename(staging, dir)?;
        let _ = std::fs::remove_dir_all(&old);
        Ok(())
    } else {
        std::fs::rename(staging, dir)
    }
}

/// Peak memory allowed for an analysis that keeps the mosaic pictures beside a residual
/// (estimated by [`video::peak_with_squares`]): under 200 MB. With frames scored as their
/// residual is made, it admits 1080p video (up to 2048x1080), 4:3 up to 1600x1200 and
/// square video up to 1300x1300; above that the pictures are read after selection instead.
const SQUARES_PEAK_BUDGET: usize = 190 << 20;

fn build(
    job: &OfflineJob,
    run: &OfflineRun,
    out: &Path,
    started: Instant,
    escaped: Option<&str>,
) -> Result<Vec<String>, String> {
    let p = &run.params;
    // The analysis' own decode keeps the mosaic pictures (one decode in all), except
    // beside a residual on pictures larger than 1080p: the residual's reference pictures
    // are held too, and 64 squares more would lift the peak memory over 200 MB. There the
    // pictures are read after selection (one more decode). Frames are scored as their
    // residual is made, so that no residual samples are held.
    let opts = OfflineOptions {
        residual_keep: p.residual_keep(),
        squares: Some((p.square_size, p.patch_size)),
        squares_peak_budget: (run.residual != ResidualSource::None).then_some(SQUARES_PEAK_BUDGET),
        score_early: Some(p.energy()),
        ..OfflineOptions::for_params(p, run.residual, false)
    };
    let mut oa = video::analyze_offline(&job.video, &opts).map_err(|e| e.to_string())?;
    let sel = select::select_offline(&oa.analysis, p);
    let plan = select::plan_offline(&sel.rows, p.num_images, p.square_size, p.patch_size)
        .map_err(|e| e.to_string())?;
    // The per-frame energy data is done with: free it before any further decoding.
    drop(std::mem::take(&mut oa.analysis.frames));
    // glibc keeps freed memory (the analysis' reference pictures, residuals) mapped; hand
    // it back before the reading pass, whose peak would otherwise sit on top of it.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: glibc's malloc_trim takes no pointers and only releases free memory.
        unsafe { malloc_trim(0) };
    }
    // The analysis' decode kept the mosaic pictures it could name with certainty (mapped
    // to the square only), when asked; the rest (a window after a seek, ids past the end,
    // unreliable timestamps) take a reading pass of their own.
    let ids = oa.rgb_frame_ids();
    let mut squares = std::mem::take(&mut oa.squares);
    let missing: Vec<i64> = ids
        .iter()
        .filter(|id| !squares.contains_key(id))
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !missing.is_empty() {
        let read = video::read_frames_mapped(&job.video, &missing, |f| {
            f.to_square(p.square_size, p.patch_size)
        })
        .map_err(|e| e.to_string())?;
        squares.extend(missing.into_iter().zip(read));
    }
    let packed = select::render(&plan, 3, |t| {
        ids.get(t)
            .and_then(|id| squares.get(id))
            .map(|c| c.to_square())
            .ok_or_else(|| format!("no picture for t={t}"))
    })
    .map_err(|e| e.to_string())?;
    let io = |what: &str, e: std::io::Error| format!("writing {what}: {e}");
    let mosaics: Vec<(PathBuf, &Vec<u8>)> = packed
        .images
        .iter()
        .enumerate()
        .map(|(i, img)| (out.join(format!("mosaic_{i:03}.jpg")), img))
        .collect();
    for r in jpeg::write_rgb_each(&mosaics, packed.size, packed.size, run.jpg_quality) {
        r.map_err(|e| io("mosaics", e))?;
    }
    npy::write_rows(&out.join("positions_thw.npy"), &sel.rows)
        .map_err(|e| io("positions_thw.npy", e))?;
    npy::write_i64(&out.join("visible_indices.npy"), &sel.visible_indices)
        .map_err(|e| io("visible_indices.npy", e))?;
    npy::write_frame_ids(&out.join("frame_ids.npy"), &oa.analysis.frame_ids)
        .map_err(|e| io("frame_ids.npy", e))?;
    let mut notes: Vec<String> = oa
        .analysis
        .notes
        .iter()
        .chain(&sel.notes)
        .cloned()
        .collect();
    if let Some(e) = escaped {
        notes.push(e.replace("id `", "key `"));
    }
    let vi_min = sel.visible_indices.iter().min().copied().unwrap_or(-1);
    let vi_max = sel.visible_indices.iter().max().copied().unwrap_or(-1);
    let unique: std::collections::BTreeSet<i32> = oa.analysis.frame_ids.iter().copied().collect();
    let w = &oa.window;
    let (pkt, best) = match w.energy {
        Some([b, m, e]) => (json!({"begin": b, "mid": m, "end": e}), json!(w.chosen)),
        None => (Value::Null, Value::Null),
    };
    let span = (w.end >= w.start).then(|| w.end - w.start + 1);
    let meta = json!({
        "version": "llava_codec_offline_precompute_v1",
        "task": job.task,
        "split": job.split,
        "doc_id": job.doc_id,
        "n": job.n,
        "video": job.video,
        "key": job.key,
        "created_at": chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string(),
        "cfg": {
            "seq_len_frames": p.seq_len_frames,
            "num_images": p.num_images,
            "square_size": p.square_size,
            "patch_size": p.patch_size,
            "mv_unit_div": p.mv_unit_div,
            "mv_pct": p.mv_pct,
            "res_pct": p.res_pct,
            "w_mv": p.w_mv,
            "w_res": p.w_res,
            "mv_compensate": p.mv_compensate.as_str(),
            "res_use_grad": p.res_use_grad,
            "window_len": p.window_len,
            "window_pick": p.window_pick.as_str(),
            "keep_mid_full_frame": p.keep_mid_full_frame,
            "mid_full_frame_index": p.mid_full_frame_index,
            "topk_mode": p.topk_mode.as_str(),
            "time_bucket_count": p.time_bucket_count,
        },
        "debug": {
            "seq_len_frames": p.seq_len_frames,
            "num_images": p.num_images,
            "square_size": p.square_size,
            "patch_size": p.patch_size,
            "hb": sel.hb,
            "wb": sel.wb,
            "S_total": sel.s_total,
            "S_valid": sel.s_valid,
            "K_total": sel.rows.len(),
            "keep_first_full": true,
            "keep_mid_full": sel.plan.keep_mid,
            "mid_full_t": sel.plan.mid_t,
            "topk_mode": p.topk_mode.as_str(),
            "time_bucket_count": p.time_bucket_count,
            "vi_min": vi_min,
            "vi_max": vi_max,
            "T_all": oa.analysis.frame_count,
            "fps": oa.info.opencv_fps,
            "window_pick": p.window_pick.as_str(),
            "window_len": p.window_len,
            "start_offset": w.start,
            "end_offset": w.end,
            "pkt_size_sum": pkt,
            "best": best,
            "seek_to": oa.seek_to,
            "decode_span": span,
            "frame_ids_unique": unique.len(),
        },
        "stats": {"elapsed_sec": started.elapsed().as_secs_f64()},
        "codecscope": {
            "version": env!("CARGO_PKG_VERSION"),
            "residual_source": oa.analysis.residual_source.as_str(),
            "residual_requested": run.residual.as_str(),
            "residual_why": run.residual_why,
            "w_res_used": sel.w_res_used,
            "notes": notes,
        },
    });
    // The meta goes last: upstream's "finished" test needs it.
    meta::write_json(&out.join("meta.json"), &meta).map_err(|e| io("meta.json", e))?;
    Ok(notes)
}
