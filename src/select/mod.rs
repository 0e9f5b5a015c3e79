//! Selection and packing, pure: parameters, energy normalisation and fusion, square mapping
//! and valid mask, patch scores, selection policies, packing layouts (SPEC 2.2-2.6).
//!
//! The two entry points the engine calls on every parameter change are [`select_stage1`] and
//! [`select_offline`]; both take a decoded [`Analysis`] and return rows plus everything a
//! view needs (per-frame score grids, geometry, per-frame energy sums). Keeping the
//! analysis' [`AnalysisStats`] beside it and calling the `_with` variants gives the same
//! result with less work.
//!
//! Everything reproduces upstream's arithmetic, not just its formulas: NumPy 1.x percentiles
//! and medians in float32, OpenCV's nearest rule, the Intel IPP float resize OpenCV delegates
//! to, torch's float32 patch sums and torch's top-k order among ties. On the fixture video,
//! stage 1 from the true motion grid and residual gives upstream's `visidx_thw.npy` row for
//! row, and the offline precompute its `positions_thw.npy` (see `tests/select_fixture.rs`).

pub mod energy;
pub mod numeric;
pub mod pack;
pub mod params;
pub mod policy;
pub mod scores;
pub mod square;
pub mod stats;
pub mod topk;

use serde::Serialize;

use crate::analysis::{Analysis, ResidualSource};

pub use energy::EnergyComponent;
pub use pack::{plan_offline, plan_stage2, render, PackError, PackPlan, PackedImages, Placement};
pub use params::{
    EnergyParams, FuseMode, Layout, MvCompensate, OfflineParams, PackParams, PaddingPolicy,
    ParamProblem, Stage1Params, TopkMode, WindowPick,
};
pub use policy::{
    offline_rows, stage1_rows, topk_desc, OfflineOutcome, OfflinePlan, Stage1Outcome,
};
pub use scores::{
    keep_residual, score_frames, score_frames_with, scored_lattice, EarlyScores, FrameEnergy,
    FrameScorer, FrameScores, PatchSum, ScoreKey, ScoredFrames,
};
pub use square::{square_frame_u8, PadInfo, SquareContent, SquareGeometry, ValidRanges};
pub use stats::AnalysisStats;

/// Stage 1's result for one analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Selection {
    /// `(t, h, w)` in selection order (`visidx_thw.npy`).
    pub rows: Vec<[i32; 3]>,
    /// Number of sampled frames scored.
    pub t: usize,
    pub k: usize,
    pub padding_patch_filtered: usize,
    /// Rows forced in before ranking (t=0).
    pub mandatory: usize,
    pub hb: usize,
    pub wb: usize,
    pub s_total: usize,
    pub s_valid: usize,
    pub pad_info: PadInfo,
    pub valid_ranges: ValidRanges,
    /// `T * hb * wb` raw patch scores (padding included, before the policy's overrides).
    #[serde(skip)]
    pub scores: Vec<f32>,
    pub energy: Vec<FrameEnergy>,
    /// `w_res` actually used (0 when the analysis has no residual).
    pub w_res_used: f64,
    pub residual_source: ResidualSource,
    /// Things a user should know (residual forced off, size mismatches, ...).
    pub notes: Vec<String>,
    /// Set when upstream would fail on these parameters.
    pub upstream_failure: Option<String>,
}

impl Selection {
    /// The `hb x wb` score grid of frame `t`.
    pub fn frame_scores(&self, t: usize) -> &[f32] {
        &self.scores[t * self.s_total..(t + 1) * self.s_total]
    }

    /// Selected rows per frame.
    pub fn rows_per_frame(&self) -> Vec<usize> {
        let mut c = vec![0usize; self.t];
        for r in &self.rows {
            if let Some(x) = c.get_mut(r[0] as usize) {
                *x += 1;
            }
        }
        c
    }
}

/// The offline precompute's result for one analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfflineSelection {
    /// Sorted `(t, h, w)` (`positions_thw.npy`).
    pub rows: Vec<[i32; 3]>,
    /// `visible_indices.npy`.
    pub visible_indices: Vec<i64>,
    pub plan: OfflinePlan,
    pub t: usize,
    pub hb: usize,
    pub wb: usize,
    pub s_total: usize,
    pub s_valid: usize,
    pub pad_info: PadInfo,
    #[serde(skip)]
    pub scores: Vec<f32>,
    pub energy: Vec<FrameEnergy>,
    pub w_res_used: f64,
    pub residual_source: ResidualSource,
    pub notes: Vec<String>,
}

impl OfflineSelection {
    pub fn frame_scores(&self, t: usize) -> &[f32] {
        &self.scores[t * self.s_total..(t + 1) * self.s_total]
    }
}

/// Scores an analysis with the energy knobs, forcing `w_res = 0` when it has no residual.
fn score(
    analysis: &Analysis,
    stats: Option<&AnalysisStats>,
    square: usize,
    patch: usize,
    mut e: EnergyParams,
    notes: &mut Vec<String>,
) -> (ScoredFrames, EnergyParams) {
    let has_residual = analysis.residual_source != ResidualSource::None
        && analysis.frames.iter().any(|f| f.residual.is_some());
    if !has_residual && e.w_res != 0.0 {
        notes.push(format!(
            "no residual in this analysis (source {}): w_res {} forced to 0",
            analysis.residual_source.as_str(),
            e.w_res
        ));
        e.w_res = 0.0;
    }
    let g = SquareGeometry::new(analysis.height, analysis.width, square, patch);
    let use_residual = has_residual && uses_residual(&e);
    let stats = match stats {
        Some(st) if !st.fits(analysis) => {
            notes.push("precomputed statistics do not fit this analysis: ignored".into());
            None
        }
        other => other,
    };
    let s = score_frames_with(
        analysis,
        stats,
        &g,
        &e,
        EnergyComponent::Fused,
        use_residual,
        PatchSum::Torch,
    );
    notes.extend(s.notes.iter().cloned());
    (s, e)
}

/// Whether the residual can change a fused value under these knobs.
pub(crate) fn uses_residual(e: &EnergyParams) -> bool {
    match e.fuse_mode {
        FuseMode::Weighted => e.w_res != 0.0,
        _ => true,
    }
}

/// Stage 1 from a cached analysis: scores with `p`'s energy knobs, then `p`'s policy.
pub fn select_stage1(analysis: &Analysis, p: &Stage1Params) -> Selection {
    select_stage1_with(analysis, None, p)
}

/// [`select_stage1`] reusing the analysis' [`AnalysisStats`] (same result, less work).
pub fn select_stage1_with(
    analysis: &Analysis,
    stats: Option<&AnalysisStats>,
    p: &Stage1Params,
) -> Selection {
    let mut notes = Vec::new();
    let (sc, e) = score(
        analysis,
        stats,
        p.square_size,
        p.patch_size,
        p.energy(),
        &mut notes,
    );
    let g = sc.geometry;
    let t = analysis.frames.len();
    if t != p.sequence_length {
        notes.push(format!(
            "the analysis holds {t} sampled frames; sequence_length is {}",
            p.sequence_length
        ));
    }
    let out = stage1_rows(&sc.scores, t, &g, p);
    Selection {
        rows: out.rows,
        t,
        k: out.k,
        padding_patch_filtered: out.padding_patch_filtered,
        mandatory: out.mandatory,
        hb: g.hb,
        wb: g.wb,
        s_total: g.s_total(),
        s_valid: g.s_valid(),
        pad_info: g.pad_info(),
        valid_ranges: g.valid_ranges(),
        scores: sc.scores,
        energy: sc.energy,
        w_res_used: e.w_res,
        residual_source: analysis.residual_source,
        notes,
        upstream_failure: out.upstream_failure,
    }
}

/// The offline precompute's selection from a cached analysis.
pub fn select_offline(analysis: &Analysis, p: &OfflineParams) -> OfflineSelection {
    select_offline_with(analysis, None, p)
}

/// [`select_offline`] reusing the analysis' [`AnalysisStats`] (same result, less work).
pub fn select_offline_with(
    analysis: &Analysis,
    stats: Option<&AnalysisStats>,
    p: &OfflineParams,
) -> OfflineSelection {
    let mut notes = Vec::new();
    let (sc, e) = score(
        analysis,
        stats,
        p.square_size,
        p.patch_size,
        p.energy(),
        &mut notes,
    );
    let g = sc.geometry;
    let t = analysis.frames.len();
    if t != p.seq_len_frames {
        notes.push(format!(
            "the analysis holds {t} sampled frames; seq_len_frames is {}",
            p.seq_len_frames
        ));
    }
    let out = offline_rows(&sc.scores, t, &g, p);
    if out.plan.repeated_rows > 0 {
        notes.push(format!(
            "{} rows short of {}: the last row is repeated {} times, as upstream does",
            out.plan.repeated_rows, out.plan.target, out.plan.repeated_rows
        ));
    }
    OfflineSelection {
        rows: out.rows,
        visible_indices: out.visible_indices,
        plan: out.plan,
        t,
        hb: g.hb,
        wb: g.wb,
        s_total: g.s_total(),
        s_valid: g.s_valid(),
        pad_info: g.pad_info(),
        scores: sc.scores,
        energy: sc.energy,
        w_res_used: e.w_res,
        residual_source: analysis.residual_source,
        notes,
    }
}

/// Offline frame ids for `n` frames (container count) over `[start, end]`:
/// `np.linspace(start, end, seq_len, dtype=np.int32)`, which truncates toward zero.
pub fn offline_frame_ids(start: i64, end: i64, seq_len: usize) -> Vec<i32> {
    if seq_len == 0 {
        return Vec::new();
    }
    let end = end.max(start);
    if seq_len == 1 {
        return vec![start as i32];
    }
    let step = (end - start) as f64 / (seq_len - 1) as f64;
    let mut v: Vec<i32> = (0..seq_len)
        .map(|k| (start as f64 + k as f64 * step) as i32)
        .collect();
    v[seq_len - 1] = end as i32;
    v
}
