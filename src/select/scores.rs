//! Patch scores (SPEC 2.3): the fused energy of each sampled frame, mapped to the square and
//! summed per patch, padding included. Frames are scored in parallel.
//!
//! The square map is never materialised: fused source rows are produced on demand (only the
//! rows the resize reads), resized as `cv2.resize` does for float32 maps, and each output row
//! is added to its patches at once.
//!
//! Patch sums are float32, in one of two orders (bit-level differences only, but they decide
//! ties and near-ties):
//! - [`PatchSum::Torch`] (default): upstream's `scores.reshape(T, hb, P, wb, P).sum(dim=(2, 4))`
//!   as torch's CPU kernel computes it with AVX2 (`cascade_sum`, `vectorized_inner_sum`): per
//!   patch row, 8 lane sums `x[l] + x[l + 8]` (for P = 16) added in lane order to 0, and the
//!   rows added top to bottom to a float32 accumulator. With it, stage 1 on the fixture
//!   reproduces upstream's `visidx_thw.npy` row for row, order included.
//! - [`PatchSum::NumPy`]: `np.sum(axis=(2, 4))` (each row by NumPy's pairwise sum), which is
//!   how `fixtures/upstream-residual/patch_score_*.npy` were computed; reproduced bit for bit.

use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::{
    Analysis, MotionGrid, ResidualKeep, ResidualPlane, ResidualSamples, SampledCodes, SampledFrame,
};

use super::energy::{self, EnergyComponent, Fuser, MotionNorm, ResidualNorm, RowCodes};
use super::numeric::{pairwise_sum_16, pairwise_sum_f32};
use super::params::EnergyParams;
use super::square::{nearest_map, FloatResizePlan, SquareGeometry};
use super::stats::{AnalysisStats, FrameStats};

/// The float32 summation order of patch scores (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub enum PatchSum {
    /// torch's CPU kernel (AVX2), as upstream's selection ranks.
    #[default]
    Torch,
    /// NumPy's `sum(axis=(2, 4))`.
    NumPy,
}

/// torch's float32 sum of one contiguous patch row (`vectorized_inner_sum` with 8-lane
/// vectors for `n >= 8`, `scalar_inner_sum` below), to be added to the patch accumulator.
#[inline]
pub fn torch_row_sum(x: &[f32]) -> f32 {
    const V: usize = 8;
    let n = x.len();
    if n == 16 {
        // The common case, unrolled: one tail-added pair of vectors.
        let mut f = 0f32;
        for l in 0..V {
            f += x[l] + x[l + V];
        }
        return f;
    }
    if n >= V {
        let vec_size = n / V;
        let ilp = vec_size / 4;
        // row_sum: four vector accumulators over groups of four vectors (multi_row_sum; its
        // cascade levels only start after 16 groups, i.e. patches wider than 512), the
        // remaining vectors into the first, then the first absorbs the others.
        let mut acc = [[0f32; V]; 4];
        for i in 0..ilp {
            for (k, a) in acc.iter_mut().enumerate() {
                let v = &x[(4 * i + k) * V..][..V];
                for (al, &t) in a.iter_mut().zip(v) {
                    *al += t;
                }
            }
        }
        for i in ilp * 4..vec_size {
            let v = &x[i * V..][..V];
            for (a, &t) in acc[0].iter_mut().zip(v) {
                *a += t;
            }
        }
        for k in 1..4 {
            let other = acc[k];
            for (a, t) in acc[0].iter_mut().zip(other) {
                *a += t;
            }
        }
        let mut f = 0f32;
        for &t in &x[vec_size * V..] {
            f += t;
        }
        for t in acc[0] {
            f += t;
        }
        f
    } else {
        let ilp = n / 4;
        let mut acc = [0f32; 4];
        for i in 0..ilp {
            for (k, a) in acc.iter_mut().enumerate() {
                *a += x[4 * i + k];
            }
        }
        for &t in &x[ilp * 4..] {
            acc[0] += t;
        }
        acc[0] + acc[1] + acc[2] + acc[3]
    }
}

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
    sum: PatchSum,
    plan: FloatResizePlan,
    /// The source pixels scoring reads ([`scored_lattice`]).
    rows: Vec<usize>,
    cols: Vec<usize>,
    /// Source columns to compute when far fewer than all are read (strong reductions).
    sparse_cols: Option<Vec<usize>>,
}

impl Tables {
    fn new(w0: usize, h0: usize, g: &SquareGeometry, sum: PatchSum) -> Self {
        let plan = FloatResizePlan::new(w0, h0, g.wn, g.hn);
        let (rows, cols) = lattice_of(&plan);
        let sparse_cols = (cols.len() < w0).then(|| cols.clone());
        Tables {
            sum,
            plan,
            rows,
            cols,
            sparse_cols,
        }
    }

    /// Whether a residual picture can be scored with these tables and energy kind (`grad`):
    /// its size is the video's and, for samples, they were kept for this geometry and kind.
    fn fits(&self, r: &ResidualPlane, grad: bool) -> bool {
        let size_ok = r.size() == (self.plan.src_w, self.plan.src_h);
        match r {
            ResidualPlane::Sampled(s) => {
                size_ok
                    && matches!(s.codes, SampledCodes::Grad(_)) == grad
                    && s.rows == self.rows
                    && s.cols == self.cols
            }
            ResidualPlane::Scored(_) => false,
            _ => size_ok,
        }
    }
}

/// Everything a frame's patch scores depend on besides its own motion and residual.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreKey {
    pub geometry: SquareGeometry,
    pub energy: EnergyParams,
    pub component: EnergyComponent,
    pub use_residual: bool,
    pub sum: PatchSum,
}

impl ScoreKey {
    /// The scores `r` holds when they were worked out under this key.
    fn scores_of<'a>(&self, r: &'a ResidualPlane) -> Option<&'a FrameScores> {
        match r {
            ResidualPlane::Scored(s) if s.key == *self => Some(&s.frame),
            _ => None,
        }
    }
}

/// A frame's scores, worked out as soon as its residual picture was made, in place of the
/// picture: a batch run knows its knobs before decoding, and 1296 scores take far less
/// memory than the samples they come from. Scoring under another key counts it as absent.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlyScores {
    pub key: ScoreKey,
    pub frame: FrameScores,
}

/// Scores single frames under one key, as [`score_frames`] would score them in an analysis
/// whose frames all carry a residual.
pub struct FrameScorer {
    key: ScoreKey,
    tables: Tables,
    fuser: Fuser,
}

impl FrameScorer {
    /// Fused scores of a `w0 x h0` video in a `square_size` square of `patch` patches, with
    /// the batch runs' patch sum order; `None` when there is nothing to score.
    pub fn new(
        w0: usize,
        h0: usize,
        square_size: usize,
        patch: usize,
        energy: EnergyParams,
    ) -> Option<FrameScorer> {
        let geometry = SquareGeometry::new(h0, w0, square_size, patch);
        if h0 == 0 || w0 == 0 || geometry.s_total() == 0 {
            return None;
        }
        let component = EnergyComponent::Fused;
        let sum = PatchSum::Torch;
        Some(FrameScorer {
            key: ScoreKey {
                geometry,
                energy,
                component,
                use_residual: super::uses_residual(&energy),
                sum,
            },
            tables: Tables::new(w0, h0, &geometry, sum),
            fuser: Fuser::new(&energy, component),
        })
    }

    /// The frame's scores in place of `residual`, or `residual` itself where scoring could
    /// not read it (another size, or samples kept for other knobs).
    pub fn score(&self, motion: &MotionGrid, residual: ResidualPlane) -> ResidualPlane {
        let k = &self.key;
        if !self.tables.fits(&residual, k.energy.res_use_grad) {
            return residual;
        }
        let g = &k.geometry;
        let frame = score_frame(
            motion,
            Some(&residual),
            None,
            g.h0,
            g.w0,
            g,
            &self.tables,
            &k.energy,
            &self.fuser,
            k.use_residual,
        );
        ResidualPlane::Scored(Box::new(EarlyScores { key: *k, frame }))
    }
}

/// The source pixels scoring reads of a `w0 x h0` picture mapped to `g`: the rows the
/// resize's taps reference, and the columns they reference when that is well under all of
/// them (else every column, which a dense row loop reads faster).
pub fn scored_lattice(w0: usize, h0: usize, g: &SquareGeometry) -> (Vec<usize>, Vec<usize>) {
    lattice_of(&FloatResizePlan::new(w0, h0, g.wn, g.hn))
}

fn lattice_of(plan: &FloatResizePlan) -> (Vec<usize>, Vec<usize>) {
    let needed = plan.needed_cols();
    let cols = if needed.len() * 4 < plan.src_w * 3 {
        needed
    } else {
        (0..plan.src_w).collect()
    };
    (plan.needed_rows(), cols)
}

/// A residual picture as an analysis keeps it: whole, or reduced to its samples for one
/// geometry and energy kind ([`ResidualKeep::ForScoring`]), which score exactly as the
/// whole picture does at that geometry.
pub fn keep_residual(res: ResidualPlane, keep: ResidualKeep) -> ResidualPlane {
    let ResidualKeep::ForScoring {
        square_size,
        patch,
        grad,
    } = keep
    else {
        return res;
    };
    let (plane, patched) = match &res {
        ResidualPlane::Patched(p) => (p, true),
        ResidualPlane::Magnitude(p) => (p, false),
        ResidualPlane::Sampled(_) | ResidualPlane::Scored(_) => return res,
    };
    let (w, h) = (plane.width, plane.height);
    if w == 0 || h == 0 || plane.data.len() != w * h || patch == 0 {
        // Scoring cannot use it either way; keep it as it is.
        return res;
    }
    let (rows, cols) = scored_lattice(w, h, &SquareGeometry::new(h, w, square_size, patch));
    let (histogram, codes) = if grad {
        let all = energy::grad_codes(plane);
        let kept = gather(&all, w, &rows, &cols);
        (energy::grad_histogram(&all), SampledCodes::Grad(kept))
    } else {
        let kept = gather(&plane.data, w, &rows, &cols);
        (
            energy::byte_histogram(&plane.data).to_vec(),
            SampledCodes::Bytes(kept),
        )
    };
    ResidualPlane::Sampled(ResidualSamples {
        width: w,
        height: h,
        patched,
        rows,
        cols,
        histogram,
        codes,
    })
}

/// `data[y * w + x]` for every kept row `y` and column `x`, row-major.
fn gather<T: Copy>(data: &[T], w: usize, rows: &[usize], cols: &[usize]) -> Vec<T> {
    let mut out = Vec::with_capacity(rows.len() * cols.len());
    for &y in rows {
        let row = &data[y * w..(y + 1) * w];
        out.extend(cols.iter().map(|&x| row[x]));
    }
    out
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
    score_frames_with(
        analysis,
        None,
        g,
        e,
        component,
        use_residual,
        PatchSum::Torch,
    )
}

/// [`score_frames`] reusing precomputed statistics (which must come from `analysis`; see
/// [`AnalysisStats::fits`]).
pub fn score_frames_with(
    analysis: &Analysis,
    stats: Option<&AnalysisStats>,
    g: &SquareGeometry,
    e: &EnergyParams,
    component: EnergyComponent,
    use_residual: bool,
    sum: PatchSum,
) -> ScoredFrames {
    let stats = stats.filter(|s| s.fits(analysis));
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
    let tables = Tables::new(w0, h0, g, sum);
    let fuser = Fuser::new(e, component);
    let key = ScoreKey {
        geometry: *g,
        energy: *e,
        component,
        use_residual,
        sum,
    };
    let unfit = |f: &&SampledFrame| {
        f.residual
            .as_ref()
            .is_some_and(|r| key.scores_of(r).is_none() && !tables.fits(r, e.res_use_grad))
    };
    let (sampled, whole): (Vec<&SampledFrame>, Vec<&SampledFrame>) =
        analysis.frames.iter().filter(unfit).partition(|f| {
            matches!(
                f.residual,
                Some(ResidualPlane::Sampled(_) | ResidualPlane::Scored(_))
            )
        });
    let mismatched = sampled.len() + whole.len();
    if use_residual && !whole.is_empty() {
        notes.push(format!(
            "{} residual pictures do not match the {w0}x{h0} video size and count as zero",
            whole.len()
        ));
    }
    if use_residual && !sampled.is_empty() {
        notes.push(format!(
            "{} residual pictures were kept for other scoring knobs and count as zero",
            sampled.len()
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
        .enumerate()
        .map(|(i, f)| {
            if let Some(early) = f.residual.as_ref().and_then(|r| key.scores_of(r)) {
                return early.clone();
            }
            let st = stats.map(|s| &s.frames[i]);
            let residual = f.residual.as_ref();
            score_frame(
                &f.motion,
                residual,
                st,
                h0,
                w0,
                g,
                &tables,
                e,
                &fuser,
                use_residual,
            )
        })
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

#[allow(clippy::too_many_arguments)]
fn score_frame(
    motion: &MotionGrid,
    residual: Option<&ResidualPlane>,
    st: Option<&FrameStats>,
    h0: usize,
    w0: usize,
    g: &SquareGeometry,
    tables: &Tables,
    e: &EnergyParams,
    fuser: &Fuser,
    use_residual: bool,
) -> FrameScores {
    let motion = energy::motion_norm_with(motion, e, st.map(|s| s.mv_middle));
    let residual: Option<ResidualNorm> = if use_residual {
        residual
            .filter(|r| tables.fits(r, e.res_use_grad))
            .and_then(|r| {
                energy::residual_norm_with(r, e, st.and_then(|s| s.residual_hist.as_ref()))
            })
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

/// Dispatches once per frame to a loop specialised for the fusion formula.
fn patch_scores(
    motion: &MotionNorm,
    residual: Option<&ResidualNorm>,
    h0: usize,
    w0: usize,
    g: &SquareGeometry,
    tables: &Tables,
    fuser: &Fuser,
) -> Vec<f32> {
    use super::params::FuseMode;
    let f = *fuser;
    macro_rules! go {
        ($k:expr) => {
            patch_scores_with(motion, residual, h0, w0, g, tables, $k)
        };
    }
    match (f.component, f.mode) {
        (EnergyComponent::Motion, _) => go!(|m: f32, _r: f32| m),
        (EnergyComponent::Residual, _) => go!(|_m: f32, r: f32| r),
        (EnergyComponent::Fused, FuseMode::Weighted) => {
            let (wm, wr, den) = (f.w_mv, f.w_res, f.denom);
            let inv = 1.0 / den;
            // Dividing by a power of two is multiplying by its reciprocal, exactly.
            let pow2 = den.is_normal() && inv.is_normal() && den.to_bits() & 0x007f_ffff == 0;
            if pow2 {
                go!(move |m: f32, r: f32| ((wm * m + wr * r) * inv).clamp(0.0, 1.0))
            } else {
                go!(move |m: f32, r: f32| ((wm * m + wr * r) / den).clamp(0.0, 1.0))
            }
        }
        _ => go!(move |m: f32, r: f32| f.fuse(m, r)),
    }
}

fn patch_scores_with(
    motion: &MotionNorm,
    residual: Option<&ResidualNorm>,
    h0: usize,
    w0: usize,
    g: &SquareGeometry,
    tables: &Tables,
    fuse: impl Fn(f32, f32) -> f32,
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
    let mut mrow_of: Option<usize> = None;
    let src_row = |y: usize, buf: &mut [f32]| {
        if has_motion && mrow_of != Some(ry[y]) {
            let grow = &motion.norm[ry[y] * motion.cols..(ry[y] + 1) * motion.cols];
            for (m, &c) in mrow.iter_mut().zip(&rx) {
                *m = grow[c];
            }
            mrow_of = Some(ry[y]);
        }
        if let Some(cols) = &tables.sparse_cols {
            // Samples hold the kept columns only: the j-th kept column's code is `c[j]`.
            let packed = residual.is_some_and(|r| r.packed_cols());
            let at = |j: usize, x: usize| if packed { j } else { x };
            match residual.map(|r| (r.row_codes(y), &r.lut)) {
                Some((RowCodes::Bytes(c), lut)) => {
                    let lut: &[f32; 256] = lut[..256].try_into().expect("byte table");
                    for (j, &x) in cols.iter().enumerate() {
                        buf[x] = fuse(mrow[x], lut[c[at(j, x)] as usize]);
                    }
                }
                Some((RowCodes::Grad(c), lut)) => {
                    for (j, &x) in cols.iter().enumerate() {
                        buf[x] = fuse(mrow[x], lut[c[at(j, x)] as usize]);
                    }
                }
                None => {
                    for &x in cols {
                        buf[x] = fuse(mrow[x], 0.0);
                    }
                }
            }
            return;
        }
        match residual.map(|r| (r.row_codes(y), &r.lut)) {
            Some((RowCodes::Bytes(codes), lut)) => {
                let lut: &[f32; 256] = lut[..256].try_into().expect("byte table");
                for ((o, &m), &c) in buf.iter_mut().zip(&mrow).zip(codes) {
                    *o = fuse(m, lut[c as usize]);
                }
            }
            Some((RowCodes::Grad(codes), lut)) => {
                for ((o, &m), &c) in buf.iter_mut().zip(&mrow).zip(codes) {
                    *o = fuse(m, lut[c as usize]);
                }
            }
            None => {
                for (o, &m) in buf.iter_mut().zip(&mrow) {
                    *o = fuse(m, 0.0);
                }
            }
        }
    };
    let (p, wb, size) = (g.patch, g.wb, g.out_size);
    let mut acc = vec![0f32; g.s_total()];
    // One square row: zero padding left and right of the resized content.
    let mut sq = vec![0f32; size];
    let content = g.wn.min(size - g.pad_left.min(size));
    let emit = |dy: usize, row: &[f32]| {
        let y = g.pad_top + dy;
        if y >= g.hb * p {
            return;
        }
        sq[g.pad_left..g.pad_left + content].copy_from_slice(&row[..content]);
        let accrow = &mut acc[(y / p) * wb..(y / p + 1) * wb];
        match (tables.sum, p) {
            (PatchSum::Torch, _) => {
                for (a, seg) in accrow.iter_mut().zip(sq.chunks_exact(p)) {
                    *a += torch_row_sum(seg);
                }
            }
            (PatchSum::NumPy, 16) => {
                for (a, seg) in accrow.iter_mut().zip(sq.chunks_exact(16)) {
                    *a += pairwise_sum_16(seg.try_into().expect("16 values"));
                }
            }
            (PatchSum::NumPy, _) => {
                for (a, seg) in accrow.iter_mut().zip(sq.chunks_exact(p)) {
                    *a += pairwise_sum_f32(seg);
                }
            }
        }
    };
    tables.plan.run(src_row, emit);
    acc
}
