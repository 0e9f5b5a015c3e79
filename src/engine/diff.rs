//! Comparing two selections as sets of `(t, h, w)` rows: per-frame added and removed counts,
//! recall and Jaccard. Selection order and duplicates do not matter (ties are broken
//! differently by every implementation, SPEC 2.4).

use std::collections::HashSet;

use crate::formats::npy::Thw;

/// `new` compared with `reference`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowDiff {
    pub new_len: usize,
    pub reference_len: usize,
    /// Distinct rows in both.
    pub common: usize,
    /// Per frame: rows in `new` and not in `reference`.
    pub added: Vec<usize>,
    /// Per frame: rows in `reference` and not in `new`.
    pub removed: Vec<usize>,
}

impl RowDiff {
    pub fn total_added(&self) -> usize {
        self.added.iter().sum()
    }

    pub fn total_removed(&self) -> usize {
        self.removed.iter().sum()
    }

    /// Share of the reference's distinct rows that `new` also holds.
    pub fn recall(&self) -> f64 {
        let r = self.common + self.total_removed();
        if r == 0 {
            1.0
        } else {
            self.common as f64 / r as f64
        }
    }

    /// |A ∩ B| / |A ∪ B| over distinct rows.
    pub fn jaccard(&self) -> f64 {
        let union = self.common + self.total_added() + self.total_removed();
        if union == 0 {
            1.0
        } else {
            self.common as f64 / union as f64
        }
    }

    pub fn is_identical(&self) -> bool {
        self.total_added() == 0 && self.total_removed() == 0
    }
}

/// Diffs two row sets over `frames` sampled frames (rows with t outside are counted in the
/// totals but not per frame).
pub fn diff_rows(new: &[Thw], reference: &[Thw], frames: usize) -> RowDiff {
    let a: HashSet<Thw> = new.iter().copied().collect();
    let b: HashSet<Thw> = reference.iter().copied().collect();
    let mut d = RowDiff {
        new_len: new.len(),
        reference_len: reference.len(),
        common: a.intersection(&b).count(),
        added: vec![0; frames],
        removed: vec![0; frames],
    };
    for r in a.difference(&b) {
        if let Some(x) = usize::try_from(r[0]).ok().and_then(|t| d.added.get_mut(t)) {
            *x += 1;
        }
    }
    for r in b.difference(&a) {
        if let Some(x) = usize::try_from(r[0])
            .ok()
            .and_then(|t| d.removed.get_mut(t))
        {
            *x += 1;
        }
    }
    d
}

/// Per frame, which cells a row set holds: `frames * hb * wb` flags.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CellSet {
    pub frames: usize,
    pub hb: usize,
    pub wb: usize,
    pub bits: Vec<bool>,
}

impl CellSet {
    pub fn from_rows(rows: &[Thw], frames: usize, hb: usize, wb: usize) -> Self {
        let mut bits = vec![false; frames * hb * wb];
        for r in rows {
            let (t, h, w) = (r[0], r[1], r[2]);
            if t >= 0
                && h >= 0
                && w >= 0
                && (t as usize) < frames
                && (h as usize) < hb
                && (w as usize) < wb
            {
                bits[(t as usize * hb + h as usize) * wb + w as usize] = true;
            }
        }
        CellSet {
            frames,
            hb,
            wb,
            bits,
        }
    }

    pub fn contains(&self, t: usize, h: usize, w: usize) -> bool {
        t < self.frames && h < self.hb && w < self.wb && self.bits[(t * self.hb + h) * self.wb + w]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_recall_jaccard() {
        let disk = vec![[0, 0, 0], [0, 0, 1], [1, 2, 3], [1, 2, 4]];
        let new = vec![[0, 0, 0], [0, 0, 1], [1, 2, 3], [2, 0, 0]];
        let d = diff_rows(&new, &disk, 3);
        assert_eq!(d.common, 3);
        assert_eq!(d.added, vec![0, 0, 1]);
        assert_eq!(d.removed, vec![0, 1, 0]);
        assert!((d.recall() - 0.75).abs() < 1e-9);
        assert!((d.jaccard() - 0.6).abs() < 1e-9);
        assert!(diff_rows(&disk, &disk, 3).is_identical());
    }
}
