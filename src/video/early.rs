//! Where a pass's residual pictures go once made, and frame scores worked out while a batch
//! run decodes ([`crate::select::EarlyScores`]). A sampled frame's motion comes from the
//! decoding thread and its residual picture from the emulator or the project's decoder, in
//! either order; with a batch run's knobs, whichever arrives second scores the pair, so the
//! residual's samples are dropped at once instead of being held to the end of the video
//! (about 0.75 MB per sampled frame at 1080p).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::analysis::{MotionGrid, ResidualKeep, ResidualPlane, ResidualSource};
use crate::select::{EnergyParams, FrameScorer};

#[derive(Default)]
struct Pending {
    motion: HashMap<usize, MotionGrid>,
    residual: HashMap<usize, ResidualPlane>,
    scored: HashMap<usize, ResidualPlane>,
}

/// Collects a pass's residual pictures by frame key; with knobs, pairs each with its
/// frame's motion and scores the pair.
pub(crate) struct ScoreJoin {
    knobs: Option<EarlyKnobs>,
    /// Made once the analysis' picture size is known (`None`: nothing to score).
    scorer: OnceLock<Option<FrameScorer>>,
    pending: Mutex<Pending>,
}

/// The knobs early scoring uses: energy, square size and patch size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EarlyKnobs {
    pub energy: EnergyParams,
    pub square_size: usize,
    pub patch: usize,
}

impl EarlyKnobs {
    /// The knobs to score early with, when a run gives energy knobs, keeps residual samples
    /// for one geometry (batch runs) and makes its residual pictures apart from the decoding
    /// thread (emulator, the project's decoder); `None` otherwise.
    pub fn of(
        energy: Option<EnergyParams>,
        keep: ResidualKeep,
        residual: ResidualSource,
    ) -> Option<EarlyKnobs> {
        if !matches!(residual, ResidualSource::Emulate | ResidualSource::Exact) {
            return None;
        }
        match (energy, keep) {
            (
                Some(energy),
                ResidualKeep::ForScoring {
                    square_size, patch, ..
                },
            ) => Some(EarlyKnobs {
                energy,
                square_size,
                patch,
            }),
            _ => None,
        }
    }
}

impl ScoreJoin {
    /// Scores pairs with `knobs`; without, only collects the residual pictures.
    pub fn new(knobs: Option<EarlyKnobs>) -> ScoreJoin {
        ScoreJoin {
            knobs,
            scorer: OnceLock::new(),
            pending: Mutex::new(Pending::default()),
        }
    }

    /// The picture size the analysis will have (the first call wins): frames are scored as
    /// selection will score them at that size.
    pub fn set_size(&self, width: usize, height: usize) {
        if let Some(k) = self.knobs {
            self.scorer
                .get_or_init(|| FrameScorer::new(width, height, k.square_size, k.patch, k.energy));
        }
    }

    /// Scores a pair, or leaves the residual as it is before the size is known.
    fn score(&self, motion: &MotionGrid, plane: ResidualPlane) -> ResidualPlane {
        match self.scorer.get() {
            Some(Some(s)) => s.score(motion, plane),
            _ => plane,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The motion of frame `key`: scores it now if its residual is in, else keeps a copy
    /// (nothing to do without knobs).
    pub fn offer_motion(&self, key: usize, motion: &MotionGrid) {
        if self.knobs.is_none() {
            return;
        }
        // Looking for the other half and parking this one under one lock, so that two
        // halves arriving together never both wait.
        let waiting = {
            let mut p = self.lock();
            let plane = p.residual.remove(&key);
            if plane.is_none() {
                p.motion.insert(key, motion.clone());
            }
            plane
        };
        if let Some(plane) = waiting {
            let scored = self.score(motion, plane);
            self.lock().scored.insert(key, scored);
        }
    }

    /// The residual of frame `key`: scores it now if its motion is in, else keeps it.
    pub fn put(&self, key: usize, plane: ResidualPlane) {
        let (motion, plane) = {
            let mut p = self.lock();
            match p.motion.remove(&key) {
                Some(m) => (m, plane),
                None => {
                    p.residual.insert(key, plane);
                    return;
                }
            }
        };
        let scored = self.score(&motion, plane);
        self.lock().scored.insert(key, scored);
    }

    /// Every frame's residual as the analysis takes it: scored where both halves came, the
    /// picture as it was made where its motion never did (or without knobs).
    pub fn take_residuals(&self) -> HashMap<usize, ResidualPlane> {
        let Pending {
            residual,
            mut scored,
            ..
        } = std::mem::take(&mut *self.lock());
        for (key, plane) in residual {
            scored.entry(key).or_insert(plane);
        }
        scored
    }
}
