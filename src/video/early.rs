//! Frame scores worked out while a batch run decodes ([`crate::select::EarlyScores`]). A
//! sampled frame's motion comes from the decoding thread and its residual picture from the
//! emulator or the project's decoder, in either order; whichever arrives second scores the
//! pair, so the residual's samples are dropped at once instead of being held to the end of
//! the video (about 0.75 MB per sampled frame at 1080p).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::analysis::{MotionGrid, ResidualKeep, ResidualPlane};
use crate::select::{EnergyParams, FrameScorer};

/// Where residual pictures go once made, by frame key.
pub(crate) trait Residuals: Sync {
    fn put(&self, key: usize, plane: ResidualPlane);
}

impl Residuals for Mutex<HashMap<usize, ResidualPlane>> {
    fn put(&self, key: usize, plane: ResidualPlane) {
        self.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, plane);
    }
}

#[derive(Default)]
struct Pending {
    motion: HashMap<usize, MotionGrid>,
    residual: HashMap<usize, ResidualPlane>,
    scored: HashMap<usize, ResidualPlane>,
}

/// Pairs each frame's motion with its residual and scores the pair.
pub(crate) struct ScoreJoin {
    knobs: EarlyKnobs,
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
    /// The knobs to score early with, when a run gives energy knobs and keeps residual
    /// samples for one geometry (batch runs); `None` otherwise.
    pub fn of(energy: Option<EnergyParams>, keep: ResidualKeep) -> Option<EarlyKnobs> {
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
    pub fn new(knobs: EarlyKnobs) -> ScoreJoin {
        ScoreJoin {
            knobs,
            scorer: OnceLock::new(),
            pending: Mutex::new(Pending::default()),
        }
    }

    /// The picture size the analysis will have (the first call wins): frames are scored as
    /// selection will score them at that size.
    pub fn set_size(&self, width: usize, height: usize) {
        let k = self.knobs;
        self.scorer
            .get_or_init(|| FrameScorer::new(width, height, k.square_size, k.patch, k.energy));
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

    /// The motion of frame `key`: scores it now if its residual is in, else keeps a copy.
    pub fn offer_motion(&self, key: usize, motion: &MotionGrid) {
        let waiting = self.lock().residual.remove(&key);
        match waiting {
            Some(plane) => {
                let scored = self.score(motion, plane);
                self.lock().scored.insert(key, scored);
            }
            None => {
                self.lock().motion.insert(key, motion.clone());
            }
        }
    }

    /// Every frame's residual as the analysis takes it: scored where both halves came, the
    /// picture as it was made where its motion never did.
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

impl Residuals for ScoreJoin {
    /// The residual of frame `key`: scores it now if its motion is in, else keeps it.
    fn put(&self, key: usize, plane: ResidualPlane) {
        let motion = self.lock().motion.remove(&key);
        match motion {
            Some(m) => {
                let scored = self.score(&m, plane);
                self.lock().scored.insert(key, scored);
            }
            None => {
                self.lock().residual.insert(key, plane);
            }
        }
    }
}
