//! The TUI's background engine: decode a video once (cached), then re-select on every
//! parameter change. Jobs go in, small notifications come out; the latest request wins and
//! a running decode stops early when a newer request arrives.
//!
//! Each answer carries two selections from the same analysis, the new parameters and the
//! on-disk ones, so the view can show a knob's effect apart from the residual proxy's
//! agreement with the files on disk (ARCHITECTURE.md, "Honest what-if").

pub mod diff;
pub mod worker;

use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::analysis::{Analysis, FrameType, ResidualKeep, ResidualSource};
use crate::formats::npy::Thw;
use crate::select::{
    self, AnalysisStats, EnergyComponent, EnergyParams, FrameEnergy, FuseMode, OfflineParams,
    PackParams, PatchSum, SquareGeometry, Stage1Params,
};
use crate::video::{self, RgbFrame};

pub use diff::{diff_rows, CellSet, RowDiff};
pub use worker::{Control, Mode, Notification, ProgressState, Worker};

/// Which selection the sample was made with, and its knobs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "pipeline", rename_all = "kebab-case")]
pub enum Pipeline {
    Stage1(Stage1Params),
    Offline(OfflineParams),
}

impl Pipeline {
    pub fn frames(&self) -> usize {
        match self {
            Pipeline::Stage1(p) => p.sequence_length,
            Pipeline::Offline(p) => p.seq_len_frames,
        }
    }

    pub fn square_patch(&self) -> (usize, usize) {
        match self {
            Pipeline::Stage1(p) => (p.square_size, p.patch_size),
            Pipeline::Offline(p) => (p.square_size, p.patch_size),
        }
    }

    pub fn energy(&self) -> EnergyParams {
        match self {
            Pipeline::Stage1(p) => p.energy(),
            Pipeline::Offline(p) => p.energy(),
        }
    }

    /// What decoding depends on: two pipelines with the same key share one analysis.
    fn analysis_key(&self, video: &str, residual: ResidualSource) -> String {
        match self {
            Pipeline::Stage1(p) => format!(
                "s1|{video}|{}|{}|{}",
                residual.as_str(),
                p.sequence_length,
                p.sample_start_offset
            ),
            Pipeline::Offline(p) => format!(
                "off|{video}|{}|{}|{}|{}",
                residual.as_str(),
                p.seq_len_frames,
                p.window_len,
                p.window_pick.as_str()
            ),
        }
    }

    fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// One re-selection request.
#[derive(Debug, Clone)]
pub struct Request {
    pub video: PathBuf,
    pub residual: ResidualSource,
    pub new: Pipeline,
    pub disk: Pipeline,
    /// The rows on disk (selection order or positions), to measure agreement with.
    pub disk_rows: Option<Arc<Vec<Thw>>>,
    pub num_images: usize,
}

impl Hash for Request {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.video.hash(state);
        self.residual.as_str().hash(state);
        self.new.json().hash(state);
        self.disk.json().hash(state);
        self.num_images.hash(state);
        if let Some(r) = &self.disk_rows {
            // Length and a spread of rows: cheap, and enough to tell samples apart.
            r.len().hash(state);
            let step = (r.len() / 64).max(1);
            for row in r.iter().step_by(step) {
                row.hash(state);
            }
        }
    }
}

/// What the video looked like.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoSummary {
    pub video: String,
    pub codec: String,
    pub width: usize,
    pub height: usize,
    pub frame_count: usize,
    pub frame_ids: Vec<i32>,
    pub frame_types: Vec<FrameType>,
    pub vectors: Vec<usize>,
    pub residual_source: ResidualSource,
    pub notes: Vec<String>,
}

/// One selection, in the shape views need.
#[derive(Debug, Clone, PartialEq)]
pub struct Picked {
    pub rows: Vec<Thw>,
    pub t: usize,
    pub hb: usize,
    pub wb: usize,
    /// `t * hb * wb` fused patch scores.
    pub scores: Vec<f32>,
    pub energy: Vec<FrameEnergy>,
    /// `hb * wb`: patch fully inside the content box.
    pub valid: Vec<bool>,
    pub w_res_used: f64,
    pub notes: Vec<String>,
    pub upstream_failure: Option<String>,
}

impl Picked {
    pub fn rows_per_frame(&self) -> Vec<usize> {
        let mut c = vec![0usize; self.t];
        for r in &self.rows {
            if let Some(x) = usize::try_from(r[0]).ok().and_then(|t| c.get_mut(t)) {
                *x += 1;
            }
        }
        c
    }
}

/// The engine's answer.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub summary: VideoSummary,
    pub new: Picked,
    pub disk: Picked,
    /// The knob's effect: engine at the new parameters vs engine at the on-disk ones.
    pub effect: RowDiff,
    /// The proxy's agreement: engine at the on-disk parameters vs the files.
    pub agreement: Option<RowDiff>,
    /// `t * hb * wb` patch sums of normalised motion and residual alone (new parameters).
    pub motion_scores: Vec<f32>,
    pub residual_scores: Vec<f32>,
    /// The new selection packed (positions in placement order, images).
    pub repacked_positions: Vec<Thw>,
    pub repacked: Vec<image::RgbImage>,
    pub pack_error: Option<String>,
    pub decode_seconds: f64,
    pub select_seconds: f64,
    /// Whether this answer reused a cached analysis.
    pub cached: bool,
}

pub type EngineResult = Result<Arc<Outcome>, String>;

struct Cached {
    key: String,
    analysis: Analysis,
    /// The analysis' per-frame statistics, so that no re-selection works them out again.
    stats: AnalysisStats,
    rgb: Vec<RgbFrame>,
    seconds: f64,
}

/// The state the engine job keeps between requests.
#[derive(Default)]
pub struct Job {
    cache: Vec<Cached>,
}

impl Job {
    fn analysis(
        &mut self,
        video: &str,
        residual: ResidualSource,
        p: &Pipeline,
        ctl: &Control<'_>,
    ) -> Option<Result<(usize, bool), String>> {
        let key = p.analysis_key(video, residual);
        if let Some(i) = self.cache.iter().position(|c| c.key == key) {
            return Some(Ok((i, true)));
        }
        let t0 = Instant::now();
        ctl.progress("decoding", 0, 0);
        let res = match p {
            Pipeline::Stage1(s) => {
                let opts = video::AnalyzeOptions {
                    sequence_length: s.sequence_length,
                    sample_start_offset: s.sample_start_offset,
                    residual,
                    with_rgb: true,
                    skip_unneeded: true,
                    // Any knob may change, the square size included: keep whole pictures.
                    residual_keep: ResidualKeep::Whole,
                    score_early: None,
                };
                let mut cancelled = false;
                let r = video::analyze_with(video, &opts, &mut |pr| {
                    let label = match pr.stage {
                        video::Stage::Scan => "scanning packets",
                        video::Stage::Decode { .. } => "decoding",
                    };
                    ctl.progress(label, pr.done, pr.total);
                    cancelled = ctl.cancelled();
                    !cancelled
                });
                if cancelled {
                    return None;
                }
                r.map(|v| (v.analysis, v.rgb))
            }
            Pipeline::Offline(o) => {
                let opts = video::OfflineOptions::for_params(o, residual, true);
                video::analyze_offline(video, &opts).map(|v| (v.analysis, v.rgb))
            }
        };
        if ctl.cancelled() {
            return None;
        }
        match res {
            Ok((analysis, rgb)) => {
                if self.cache.len() >= 2 {
                    self.cache.remove(0);
                }
                let stats = AnalysisStats::new(&analysis);
                self.cache.push(Cached {
                    key,
                    analysis,
                    stats,
                    rgb,
                    seconds: t0.elapsed().as_secs_f64(),
                });
                Some(Ok((self.cache.len() - 1, false)))
            }
            Err(e) => Some(Err(format!("{video}: {e}"))),
        }
    }

    /// Runs one request (the worker's job function).
    pub fn run(&mut self, req: Request, ctl: &Control<'_>) -> Option<EngineResult> {
        let video = req.video.to_string_lossy().into_owned();
        let (i_new, cached) = match self.analysis(&video, req.residual, &req.new, ctl)? {
            Ok(x) => x,
            Err(e) => return Some(Err(e)),
        };
        let i_disk = match self.analysis(&video, req.residual, &req.disk, ctl)? {
            Ok((i, _)) => i,
            Err(e) => return Some(Err(e)),
        };
        // The cache may have evicted i_new while loading i_disk.
        let key_new = req.new.analysis_key(&video, req.residual);
        let i_new = self
            .cache
            .iter()
            .position(|c| c.key == key_new)
            .unwrap_or(i_new);
        ctl.progress("selecting", 0, 2);
        let t0 = Instant::now();
        let a_new = &self.cache[i_new];
        let new = pick(&a_new.analysis, &a_new.stats, &req.new);
        if ctl.cancelled() {
            return None;
        }
        ctl.progress("selecting", 1, 2);
        let a_disk = &self.cache[i_disk];
        let disk = pick(&a_disk.analysis, &a_disk.stats, &req.disk);
        let (motion_scores, residual_scores) = components(&a_new.analysis, &a_new.stats, &req.new);
        let effect = diff_rows(&new.rows, &disk.rows, new.t.max(disk.t));
        let agreement = req
            .disk_rows
            .as_ref()
            .map(|files| diff_rows(&disk.rows, files, disk.t));
        ctl.progress("packing", 0, 1);
        let (repacked_positions, repacked, pack_error) =
            match repack(&a_new.analysis, &a_new.rgb, &req.new, &new, req.num_images) {
                Ok((p, i)) => (p, i, None),
                Err(e) => (Vec::new(), Vec::new(), Some(e)),
            };
        let a = &a_new.analysis;
        let summary = VideoSummary {
            video: a.video.clone(),
            codec: a.codec.clone(),
            width: a.width,
            height: a.height,
            frame_count: a.frame_count,
            frame_ids: a.frame_ids.clone(),
            frame_types: a.frames.iter().map(|f| f.frame_type).collect(),
            vectors: a.frames.iter().map(|f| f.vector_count).collect(),
            residual_source: a.residual_source,
            notes: a.notes.clone(),
        };
        Some(Ok(Arc::new(Outcome {
            summary,
            new,
            disk,
            effect,
            agreement,
            motion_scores,
            residual_scores,
            repacked_positions,
            repacked,
            pack_error,
            decode_seconds: a_new.seconds,
            select_seconds: t0.elapsed().as_secs_f64(),
            cached,
        })))
    }
}

fn valid_mask(a: &Analysis, p: &Pipeline) -> Vec<bool> {
    let (square, patch) = p.square_patch();
    SquareGeometry::new(a.height, a.width, square, patch).valid_mask()
}

/// Selection with `p` on `a` (whose statistics are `stats`), in the views' shape.
pub fn pick(a: &Analysis, stats: &AnalysisStats, p: &Pipeline) -> Picked {
    let valid = valid_mask(a, p);
    match p {
        Pipeline::Stage1(s) => {
            let sel = select::select_stage1_with(a, Some(stats), s);
            Picked {
                rows: sel.rows,
                t: sel.t,
                hb: sel.hb,
                wb: sel.wb,
                scores: sel.scores,
                energy: sel.energy,
                valid,
                w_res_used: sel.w_res_used,
                notes: sel.notes,
                upstream_failure: sel.upstream_failure,
            }
        }
        Pipeline::Offline(o) => {
            let sel = select::select_offline_with(a, Some(stats), o);
            Picked {
                rows: sel.rows,
                t: sel.t,
                hb: sel.hb,
                wb: sel.wb,
                scores: sel.scores,
                energy: sel.energy,
                valid,
                w_res_used: sel.w_res_used,
                notes: sel.notes,
                upstream_failure: None,
            }
        }
    }
}

/// Patch sums of normalised motion alone and residual alone.
fn components(a: &Analysis, stats: &AnalysisStats, p: &Pipeline) -> (Vec<f32>, Vec<f32>) {
    let (square, patch) = p.square_patch();
    let g = SquareGeometry::new(a.height, a.width, square, patch);
    let e = p.energy();
    let has_residual =
        a.residual_source != ResidualSource::None && a.frames.iter().any(|f| f.residual.is_some());
    let uses = has_residual && (e.fuse_mode != FuseMode::Weighted || e.w_res != 0.0);
    let score = |component, use_residual| {
        let sum = PatchSum::Torch;
        select::score_frames_with(a, Some(stats), &g, &e, component, use_residual, sum).scores
    };
    let m = score(EnergyComponent::Motion, uses);
    let r = if has_residual {
        score(EnergyComponent::Residual, true)
    } else {
        vec![0.0; m.len()]
    };
    (m, r)
}

type Repacked = (Vec<Thw>, Vec<image::RgbImage>);

fn repack(
    a: &Analysis,
    rgb: &[RgbFrame],
    p: &Pipeline,
    sel: &Picked,
    num_images: usize,
) -> Result<Repacked, String> {
    let (square, patch) = p.square_patch();
    let plan = match p {
        Pipeline::Stage1(s) => {
            let pp = PackParams {
                num_images,
                square_size: square,
                patch,
                t: s.sequence_length,
                layout: select::Layout::TimeSpatial,
                first_full: s.keep_first_full_frame,
                padding_policy: s.padding_policy,
            };
            let g = SquareGeometry::new(a.height, a.width, square, patch);
            select::plan_stage2(&sel.rows, &pp, Some(&g.valid_ranges()))
        }
        Pipeline::Offline(_) => select::plan_offline(&sel.rows, num_images, square, patch),
    }
    .map_err(|e| e.to_string())?;
    if rgb.is_empty() {
        return Err("no RGB frames were decoded".into());
    }
    let g = SquareGeometry::new(a.height, a.width, square, patch);
    let packed = select::render(&plan, 3, |t| match rgb.get(t) {
        Some(f) => Ok(select::square_frame_u8(&f.data, f.width, f.height, 3, &g)),
        None => Err(format!("frame t={t} was not decoded")),
    })
    .map_err(|e| e.to_string())?;
    let images = packed
        .images
        .into_iter()
        .filter_map(|buf| image::RgbImage::from_raw(packed.size as u32, packed.size as u32, buf))
        .collect();
    Ok((plan.positions, images))
}

/// The engine the TUI holds.
pub type Engine = Worker<Request, EngineResult>;

/// A new engine in `mode`.
pub fn engine(mode: Mode) -> Engine {
    let mut job = Job::default();
    Worker::new(mode, move |req, ctl| job.run(req, ctl))
}
