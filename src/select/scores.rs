//! Patch scores (SPEC 2.3): the fused energy of each sampled frame, mapped to the square and
//! summed per patch, padding included. Frames are scored in parallel.
//!
//! The square map is never materialised: fused source rows are produced on demand (only the
//! rows the resize reads), resized with OpenCV's float path, and each output row is added to
//! its patches at once. Patch sums are accumulated in f64 and rounded to f32 once; upstream
//! sums 256 float32 values with torch, so scores can differ from upstream in the last bits
//! (the fixture test measures it).

use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::{Analysis, SampledFrame};

use super::energy::{self, EnergyComponent, Fuser, MotionNorm, ResidualNorm, RowCodes};
use super::params::EnergyParams;
use super::square::{nearest_map, FloatResizePlan, SquareGeometry};

/// Per-frame energy summary, for charts.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct FrameEnergy {
    /// Sum of compensated motion magnitudes over the grid (pixels).
    pub motion_raw_sum: f64,
    /// The motion divisor (95th percentile, floored).
    pub motion_scale: f32,
    /// Sum of normalised motion energy over the `H0 x W0` map.
    pub motion_norm_sum: f64,
    /// Sum of raw residual energy over the picture (0 without residual).
    pub residual_raw_sum: f64,
    /// The residual divisor (percentile floored at 1), 0 without residual.
    pub residual_scale: f32,
    /// Sum of normalised residual energy over the `H0 x W0` map.
    pub residual_norm_sum: f64,
    /// Sum of the scored energy in the square (the frame's patch scores added up).
    pub score_sum: f64,
}

/// Scores of one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameScores {
    /// `hb x wb` patch sums, row-major, padding patches included (raw, before any policy).
    pub scores: Vec<f32>,
    pub energy: FrameEnergy,
}

/// Scores of every sampled frame of an analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredFrames {
    pub geometry: SquareGeometry,
    /// `T * hb * wb` scores, frame after frame.
    pub scores: Vec<f32>,
    pub energy: Vec<FrameEnergy>,
    /// Whether residual energy entered the scores.
    pub residual_used: bool,
    pub notes: Vec<String>,
}

/// Shared, parameter-independent per-geometry tables.
struct Tables {
    plan: FloatResizePlan,
    /// Patch column of each resized column.
    col_patch: Vec<usize>,
}

/// Scores every frame of `analysis`. `use_residual = false` scores as if the residual were 0
/// everywhere (upstream never does this; callers force `w_res = 0` with it).
pub fn score_frames(
    analysis: &Analysis,
    g: &SquareGeometry,
    e: &EnergyParams,
    component: EnergyComponent,
    use_residual: bool,
) -> ScoredFrames {
    let mut notes = Vec::new();
    let (h0, w0) = (analysis.height, analysis.width);
    let s_total = g.s_total();
    let t = analysis.frames.len();
    if h0 == 0 || w0 == 0 || s_total == 0 {
        notes.push(format!(
            "nothing to score: picture {w0}x{h0}, {s_total} patches"
        ));
        return ScoredFrames {
            geometry: *g,
            scores: vec![0.0; t * s_total],
            energy: vec![FrameEnergy::default(); t],
            residual_used: false,
            notes,
        };
    }
    let plan = FloatResizePlan::new(w0, h0, g.wn, g.hn);
    let col_patch = (0..g.wn)
        .map(|dx| ((g.pad_left + dx) / g.patch).min(g.wb - 1))
        .collect();
    let tables = Tables { plan, col_patch };
    let fuser = Fuser::new(e, component);
    let mismatched = analysis
        .frames
        .iter()
        .filter(|f| match &f.residual {
            Some(r) => {
                let p = plane_of(r);
                p.width != w0 || p.height != h0
            }
            None => false,
        })
        .count();
    if use_residual && mismatched > 0 {
        notes.push(format!(
            "{mismatched} residual pictures do not match the {w0}x{h0} video size and count as zero"
        ));
    }
    let missing = analysis
        .frames
        .iter()
        .filter(|f| f.residual.is_none())
        .count();
    if use_residual && missing > 0 {
        notes.push(format!(
            "{missing} frames have no residual picture and count as zero"
        ));
    }
    let per_frame: Vec<FrameScores> = analysis
        .frames
        .par_iter()
        .map(|f| score_frame(f, h0, w0, g, &tables, e, &fuser, use_residual))
        .collect();
    let mut scores = Vec::with_capacity(t * s_total);
    let mut energy = Vec::with_capacity(t);
    for f in per_frame {
        scores.extend_from_slice(&f.scores);
        energy.push(f.energy);
    }
    ScoredFrames {
        geometry: *g,
        scores,
        energy,
        residual_used: use_residual && missing + mismatched < t,
        notes,
    }
}

fn plane_of(r: &crate::analysis::ResidualPlane) -> &crate::analysis::Plane {
    match r {
        crate::analysis::ResidualPlane::Patched(p)
        | crate::analysis::ResidualPlane::Magnitude(p) => p,
    }
}

#[allow(clippy::too_many_arguments)]
fn score_frame(
    f: &SampledFrame,
    h0: usize,
    w0: usize,
    g: &SquareGeometry,
    tables: &Tables,
    e: &EnergyParams,
    fuser: &Fuser,
    use_residual: bool,
) -> FrameScores {
    let motion = energy::motion_norm(&f.motion, e);
    let residual: Option<ResidualNorm> = if use_residual {
        f.residual
            .as_ref()
            .filter(|r| {
                let p = plane_of(r);
                p.width == w0 && p.height == h0
            })
            .and_then(|r| energy::residual_norm(r, e))
    } else {
        None
    };
    let mut en = FrameEnergy {
        motion_raw_sum: motion.raw_sum,
        motion_scale: motion.scale,
        motion_norm_sum: motion.upsampled_sum(h0, w0),
        ..FrameEnergy::default()
    };
    if let Some(r) = &residual {
        en.residual_raw_sum = r.raw_sum;
        en.residual_scale = r.scale;
        en.residual_norm_sum = r.norm_sum;
    }
    let scores = patch_scores(&motion, residual.as_ref(), h0, w0, g, tables, fuser);
    en.score_sum = scores.iter().map(|&v| v as f64).sum();
    FrameScores { scores, energy: en }
}

fn patch_scores(
    motion: &MotionNorm,
    residual: Option<&ResidualNorm>,
    h0: usize,
    w0: usize,
    g: &SquareGeometry,
    tables: &Tables,
    fuser: &Fuser,
) -> Vec<f32> {
    let has_motion = motion.rows > 0 && motion.cols > 0;
    let rx = if has_motion {
        nearest_map(motion.cols, w0)
    } else {
        Vec::new()
    };
    let ry = if has_motion {
        nearest_map(motion.rows, h0)
    } else {
        Vec::new()
    };
    let mut mrow = vec![0f32; w0];
    let mut acc = vec![0f64; g.s_total()];
    let src_row = |y: usize, buf: &mut [f32]| {
        if has_motion {
            let grow = &motion.norm[ry[y] * motion.cols..(ry[y] + 1) * motion.cols];
            for (m, &c) in mrow.iter_mut().zip(&rx) {
                *m = grow[c];
            }
        }
        match residual.map(|r| (r.row_codes(y), &r.lut)) {
            Some((RowCodes::Bytes(codes), lut)) => {
                for ((o, &m), &c) in buf.iter_mut().zip(&mrow).zip(codes) {
                    *o = fuser.fuse(m, lut[c as usize]);
                }
            }
            Some((RowCodes::Grad(codes), lut)) => {
                for ((o, &m), &c) in buf.iter_mut().zip(&mrow).zip(codes) {
                    *o = fuser.fuse(m, lut[c as usize]);
                }
            }
            None => {
                for (o, &m) in buf.iter_mut().zip(&mrow) {
                    *o = fuser.fuse(m, 0.0);
                }
            }
        }
    };
    let wb = g.wb;
    let emit = |dy: usize, row: &[f32]| {
        let y = g.pad_top + dy;
        if y >= g.out_size {
            return;
        }
        let base = (y / g.patch).min(g.hb - 1) * wb;
        let accrow = &mut acc[base..base + wb];
        let limit = g.out_size.saturating_sub(g.pad_left).min(row.len());
        for (&v, &pc) in row[..limit].iter().zip(&tables.col_patch) {
            accrow[pc] += v as f64;
        }
    };
    tables.plan.run(src_row, emit);
    acc.into_iter().map(|v| v as f32).collect()
}
