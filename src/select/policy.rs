//! Selection policies: stage 1 (SPEC 2.4) and the offline precompute (SPEC 2.5), as pure
//! functions of the per-patch scores.
//!
//! **Ties.** Upstream ranks with `torch.topk(largest=True, sorted=True)`. Its order among
//! equal scores is not specified by torch, but its CPU kernel is deterministic (libstdc++'s
//! `nth_element`/`sort`/`partial_sort` on `(value, index)` pairs in index order), and
//! [`super::topk::topk_torch`] ports it, so ties come out as upstream's: on the fixtures even
//! the order of equal-score rows matches. Static patches (score 0) and padding (-1e-4) tie in
//! bulk, so this matters for which of them fill a budget and, offline, for which row is
//! repeated to pad the target.

use serde::Serialize;

use super::params::{OfflineParams, PaddingPolicy, Stage1Params, TopkMode};
use super::square::SquareGeometry;

/// Score given to padding patches that must never be chosen (and to excluded frames).
pub const SCORE_EXCLUDED: f32 = -1e6;
/// Score given to padding patches that may be chosen when nothing else is left.
pub const SCORE_PADDING_LOW: f32 = -1e-4;

/// Upstream's ranking: indices of the `k` largest scores as `torch.topk` returns them.
pub fn topk_desc(scores: &[f32], k: usize) -> Vec<usize> {
    super::topk::topk_torch(scores, k)
}

fn row_of(flat: usize, s_total: usize, wb: usize) -> [i32; 3] {
    let t = flat / s_total;
    let s = flat % s_total;
    [t as i32, (s / wb) as i32, (s % wb) as i32]
}

fn full_frame(t: usize, g: &SquareGeometry) -> impl Iterator<Item = [i32; 3]> + '_ {
    (0..g.hb).flat_map(move |h| (0..g.wb).map(move |w| [t as i32, h as i32, w as i32]))
}

/// The rows of stage 1 and what upstream writes beside them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stage1Outcome {
    /// `(t, h, w)` in selection order: mandatory rows first, then ranked rows.
    pub rows: Vec<[i32; 3]>,
    /// `K` as written in the file name and meta (the row count).
    pub k: usize,
    /// Selected rows lying on padding patches (counted before `exclude` drops them).
    pub padding_patch_filtered: usize,
    /// Rows of t=0 forced in before ranking.
    pub mandatory: usize,
    /// Set when upstream itself would fail on these parameters (the rows are still the best
    /// this project can give).
    pub upstream_failure: Option<String>,
}

/// Stage 1's selection (`global_topk_thw_square576` plus the worker's padding filter).
/// `scores` holds `t * S_total` raw patch scores (padding included).
pub fn stage1_rows(
    scores: &[f32],
    t: usize,
    g: &SquareGeometry,
    p: &Stage1Params,
) -> Stage1Outcome {
    let s_total = g.s_total();
    assert_eq!(scores.len(), t * s_total, "scores must be T x S_total");
    let s_valid = g.s_valid();
    let mask = g.valid_mask();
    let mut out = Stage1Outcome {
        rows: Vec::new(),
        k: 0,
        padding_patch_filtered: 0,
        mandatory: 0,
        upstream_failure: None,
    };
    let pol = p.padding_policy;
    if pol == PaddingPolicy::Exclude && s_valid == 0 {
        return out;
    }
    let pad_score = if p.keep_first_full_frame || pol == PaddingPolicy::Zero {
        SCORE_PADDING_LOW
    } else {
        SCORE_EXCLUDED
    };
    let mut sc: Vec<f32> = scores.to_vec();
    for (i, s) in sc.iter_mut().enumerate() {
        if !mask[i % s_total] {
            *s = pad_score;
        }
    }
    let kfe = p.keep_frames_equiv;
    let k = match pol {
        PaddingPolicy::Exclude => (kfe * s_valid).min(t * s_valid),
        PaddingPolicy::Zero => (kfe * s_total).min(t * s_total),
    };
    if k == 0 {
        return out;
    }
    let mut rows: Vec<[i32; 3]>;
    if p.keep_first_full_frame && t > 0 {
        let k_total = kfe * s_total;
        if k_total <= s_total {
            rows = full_frame(0, g).take(k_total).collect();
            out.mandatory = rows.len();
        } else {
            let k_rem = k_total - s_total;
            if k_rem > t * s_total {
                out.upstream_failure = Some(format!(
                    "top-k of {k_rem} patches from {} fails upstream (k out of range)",
                    t * s_total
                ));
            }
            sc[..s_total].fill(SCORE_EXCLUDED);
            rows = full_frame(0, g).collect();
            out.mandatory = s_total;
            rows.extend(
                topk_desc(&sc, k_rem)
                    .into_iter()
                    .map(|i| row_of(i, s_total, g.wb)),
            );
        }
    } else if p.keep_uniform_first && t > 0 {
        let mand: Vec<[i32; 3]> = full_frame(0, g)
            .filter(|r| mask[r[1] as usize * g.wb + r[2] as usize])
            .collect();
        if k <= mand.len() {
            rows = mand[..k].to_vec();
            out.mandatory = k;
        } else {
            let k_rem = k - mand.len();
            out.mandatory = mand.len();
            sc[..s_total].fill(SCORE_EXCLUDED);
            rows = mand;
            rows.extend(
                topk_desc(&sc, k_rem)
                    .into_iter()
                    .map(|i| row_of(i, s_total, g.wb)),
            );
        }
    } else {
        rows = topk_desc(&sc, k)
            .into_iter()
            .map(|i| row_of(i, s_total, g.wb))
            .collect();
    }
    let bad = rows
        .iter()
        .filter(|r| !mask[r[1] as usize * g.wb + r[2] as usize])
        .count();
    if pol == PaddingPolicy::Exclude && bad > 0 {
        rows.retain(|r| mask[r[1] as usize * g.wb + r[2] as usize]);
    }
    out.padding_patch_filtered = bad;
    out.k = rows.len();
    out.rows = rows;
    out
}

/// What the offline policy will do, known before any score (row counts only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OfflinePlan {
    /// `num_images * S_total`.
    pub target: usize,
    pub keep_mid: bool,
    /// The resolved middle frame (`debug.mid_full_t`), -1 when not kept.
    pub mid_t: i64,
    /// Rows still to choose after the full frames (may be negative upstream; 0 here).
    pub k_rem: usize,
    /// Buckets used (time_bucket mode), after clamping.
    pub bucket_count: usize,
    /// Whether `time_bucket_count` was clamped.
    pub bucket_count_clamped: bool,
    /// Rows chosen before padding to the target.
    pub chosen_rows: usize,
    /// Copies of the last row appended to reach the target (SPEC 2.5).
    pub repeated_rows: usize,
}

/// `np.array_split(ts, n)` (the first `len % n` parts are one longer).
pub fn array_split<T: Clone>(ts: &[T], n: usize) -> Vec<Vec<T>> {
    let n = n.max(1);
    let base = ts.len() / n;
    let extra = ts.len() % n;
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    for b in 0..n {
        let len = base + usize::from(b < extra);
        out.push(ts[i..i + len].to_vec());
        i += len;
    }
    out
}

fn resolve_mid(t: usize, num_images: usize, p: &OfflineParams) -> (bool, i64) {
    let mut keep_mid = p.keep_mid_full_frame && num_images >= 2 && t >= 2;
    let mut mid_t = p.mid_full_frame_index;
    if keep_mid {
        if mid_t < 0 {
            mid_t = (t / 2) as i64;
        }
        mid_t = mid_t.clamp(0, t as i64 - 1);
        if mid_t == 0 {
            keep_mid = false;
        }
    }
    if !keep_mid {
        mid_t = -1;
    }
    (keep_mid, mid_t)
}

fn remaining_ts(t: usize, mid_t: i64) -> Vec<usize> {
    let ts: Vec<usize> = (1..t).filter(|&x| x as i64 != mid_t).collect();
    if ts.is_empty() {
        vec![0]
    } else {
        ts
    }
}

fn bucket_count(t: usize, num_images: usize, keep_mid: bool, p: &OfflineParams) -> (usize, bool) {
    let num_full = 1 + usize::from(keep_mid);
    let num_rest = num_images.saturating_sub(num_full) as i64;
    let mut cnt = p.time_bucket_count;
    if cnt <= 0 {
        cnt = num_rest;
    }
    let hi = (t as i64 - num_full as i64).max(1);
    let clamped = cnt.min(hi).max(1);
    (
        clamped as usize,
        p.time_bucket_count > 0 && clamped != p.time_bucket_count,
    )
}

/// Row counts of the offline policy for `t` frames (see [`OfflinePlan`]).
pub fn offline_plan(
    t: usize,
    num_images: usize,
    s_total: usize,
    s_valid: usize,
    p: &OfflineParams,
) -> OfflinePlan {
    let target = num_images * s_total;
    let (keep_mid, mid_t) = resolve_mid(t, num_images, p);
    let full = s_total * (1 + usize::from(keep_mid));
    let k_rem_signed = target as i64 - full as i64;
    let mut plan = OfflinePlan {
        target,
        keep_mid,
        mid_t,
        k_rem: k_rem_signed.max(0) as usize,
        bucket_count: 0,
        bucket_count_clamped: false,
        chosen_rows: 0,
        repeated_rows: 0,
    };
    if target == 0 {
        return plan;
    }
    let chosen = if k_rem_signed <= 0 {
        full.min(target)
    } else {
        let k_rem = k_rem_signed as usize;
        let rest = match p.topk_mode {
            TopkMode::Global => {
                let avail = (t as i64 - 1 - i64::from(keep_mid)).max(0) as usize * s_valid;
                k_rem.min(avail)
            }
            TopkMode::TimeBucket => {
                let (cnt, clamped) = bucket_count(t, num_images, keep_mid, p);
                plan.bucket_count = cnt;
                plan.bucket_count_clamped = clamped;
                let ts = remaining_ts(t, mid_t);
                let sum: usize = array_split(&ts, cnt)
                    .iter()
                    .map(|b| s_total.min(b.len() * s_valid))
                    .sum();
                sum.min(k_rem)
            }
        };
        full + rest
    };
    plan.chosen_rows = chosen;
    plan.repeated_rows = target.saturating_sub(chosen);
    plan
}

/// The offline selection and what the asset folder stores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfflineOutcome {
    /// `(num_images * S_total, 3)` rows sorted by `(t, h, w)` (`positions_thw.npy`).
    pub rows: Vec<[i32; 3]>,
    /// `t * S_total + h * wb + w` (`visible_indices.npy`).
    pub visible_indices: Vec<i64>,
    pub plan: OfflinePlan,
}

/// The offline precompute's selection (`_compute_visible_indices_pack_topk_time_spatial`).
pub fn offline_rows(
    scores: &[f32],
    t: usize,
    g: &SquareGeometry,
    p: &OfflineParams,
) -> OfflineOutcome {
    let s_total = g.s_total();
    assert_eq!(scores.len(), t * s_total, "scores must be T x S_total");
    let s_valid = g.s_valid();
    let plan = offline_plan(t, p.num_images, s_total, s_valid, p);
    let mask = g.valid_mask();
    let mut sc: Vec<f32> = scores.to_vec();
    for (i, s) in sc.iter_mut().enumerate() {
        if !mask[i % s_total] {
            *s = SCORE_EXCLUDED;
        }
    }
    let target = plan.target;
    let mut rows: Vec<[i32; 3]> = Vec::with_capacity(target);
    if target > 0 {
        rows.extend(full_frame(0, g));
        if plan.keep_mid {
            rows.extend(full_frame(plan.mid_t as usize, g));
        }
        if plan.k_rem == 0 {
            rows.truncate(target);
        } else if t > 0 {
            sc[..s_total].fill(SCORE_EXCLUDED);
            if plan.keep_mid {
                let m = plan.mid_t as usize;
                sc[m * s_total..(m + 1) * s_total].fill(SCORE_EXCLUDED);
            }
            match p.topk_mode {
                TopkMode::Global => {
                    let take = plan.chosen_rows - rows.len();
                    rows.extend(
                        topk_desc(&sc, take)
                            .into_iter()
                            .map(|i| row_of(i, s_total, g.wb)),
                    );
                }
                TopkMode::TimeBucket => {
                    let ts = remaining_ts(t, plan.mid_t);
                    let mut rest = Vec::new();
                    for b in array_split(&ts, plan.bucket_count) {
                        let take = s_total.min(b.len() * s_valid);
                        if b.is_empty() || take == 0 {
                            continue;
                        }
                        let mut sb = Vec::with_capacity(b.len() * s_total);
                        for &tt in &b {
                            sb.extend_from_slice(&sc[tt * s_total..(tt + 1) * s_total]);
                        }
                        for i in topk_desc(&sb, take) {
                            let r = row_of(i, s_total, g.wb);
                            rest.push([b[r[0] as usize] as i32, r[1], r[2]]);
                        }
                    }
                    rest.truncate(plan.k_rem);
                    rows.extend(rest);
                }
            }
        }
        if rows.len() < target {
            let last = *rows.last().unwrap_or(&[0, 0, 0]);
            rows.resize(target, last);
        }
        rows.truncate(target);
        rows.sort(); // lexicographic (t, h, w); equal rows are indistinguishable
    }
    let visible_indices = rows
        .iter()
        .map(|r| r[0] as i64 * s_total as i64 + r[1] as i64 * g.wb as i64 + r[2] as i64)
        .collect();
    OfflineOutcome {
        rows,
        visible_indices,
        plan,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_split_like_numpy() {
        let v: Vec<usize> = (0..10).collect();
        let parts = array_split(&v, 4);
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            vec![3, 3, 2, 2]
        );
        let parts = array_split(&v[..2], 3);
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            vec![1, 1, 0]
        );
    }
}
