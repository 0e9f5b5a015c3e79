//! Parameter-independent statistics of an analysis, computed once and kept beside it (the
//! TUI's engine does): re-selection then skips the residual histograms and motion medians,
//! about a fifth of its work.

use rayon::prelude::*;

use crate::analysis::{Analysis, ResidualPlane};

use super::energy::{motion_middle_pairs, residual_histogram};

/// Per-frame statistics of one [`Analysis`].
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisStats {
    pub(crate) frames: Vec<FrameStats>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FrameStats {
    /// Middle pairs of `mvx` and `mvy` (see `energy::motion_middle_pairs`).
    pub(crate) mv_middle: ((i16, i16), (i16, i16)),
    /// Byte histogram of the residual picture, if it is kept whole.
    pub(crate) residual_hist: Option<[u64; 256]>,
    /// Shape the statistics were taken from, to catch a mismatched analysis.
    pub(crate) shape: (usize, usize, usize),
}

fn shape_of(f: &crate::analysis::SampledFrame) -> (usize, usize, usize) {
    let plane = f.residual.as_ref().map(|r| match r {
        ResidualPlane::Patched(p) | ResidualPlane::Magnitude(p) => p.data.len(),
        ResidualPlane::Sampled(s) => s.rows.len() * s.cols.len(),
        ResidualPlane::Scored(s) => s.frame.scores.len(),
    });
    (f.motion.rows, f.motion.cols, plane.unwrap_or(usize::MAX))
}

impl AnalysisStats {
    /// Computes the statistics of every frame (in parallel).
    pub fn new(a: &Analysis) -> Self {
        let frames = a
            .frames
            .par_iter()
            .map(|f| FrameStats {
                mv_middle: motion_middle_pairs(&f.motion),
                residual_hist: f.residual.as_ref().and_then(residual_histogram),
                shape: shape_of(f),
            })
            .collect();
        AnalysisStats { frames }
    }

    /// Whether these statistics fit `a` (same frames and shapes; contents are not compared:
    /// statistics must come from the analysis they are used with).
    pub fn fits(&self, a: &Analysis) -> bool {
        self.frames.len() == a.frames.len()
            && self
                .frames
                .iter()
                .zip(&a.frames)
                .all(|(s, f)| s.shape == shape_of(f))
    }
}
