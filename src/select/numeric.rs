//! NumPy's arithmetic, reproduced where upstream's results depend on it: the default
//! (`linear`) percentile, the median and the float32 mean.
//!
//! Dtypes matter. Upstream calls `np.percentile(x, 95.0)` on float32 arrays. NumPy 2 divides
//! `q` by `float32(100)` and so interpolates in float32; NumPy 1.x interpolates in float64.
//! Either way the result is then used as `x / a` with `a` a Python float, which NumPy casts
//! to float32 first. Upstream's fixtures were made with NumPy 1.x: with the float64 flavour
//! every patch score of `fixtures/upstream-residual` is reproduced bit for bit, with the
//! float32 one about 2% of them differ (`tests/select_fixture.rs`).

/// How NumPy computes the linear percentile of a float32 array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PercentileFlavor {
    /// NumPy 1.22-1.26: virtual index, gamma and interpolation in float64.
    Float64,
    /// NumPy >= 2.0: `q` becomes float32, so does everything after it.
    Float32,
}

/// The flavour that reproduces upstream (NumPy 1.x; see the module docs).
pub const PERCENTILE_FLAVOR: PercentileFlavor = PercentileFlavor::Float64;

/// Where the interpolation happens: two order statistics (0-based, sorted ascending) and the
/// weight of the upper one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PercentileIndex {
    pub lower: usize,
    pub upper: usize,
    gamma64: f64,
    gamma32: f32,
}

/// NumPy's `linear` method: virtual index `(n - 1) * q / 100`, neighbours `floor` and
/// `floor + 1`, both clamped to `n - 1`. `n` must be at least 1.
pub fn percentile_index(n: usize, pct: f64, flavor: PercentileFlavor) -> PercentileIndex {
    debug_assert!(n > 0);
    let last = n - 1;
    match flavor {
        PercentileFlavor::Float64 => {
            let q = pct / 100.0;
            let vi = last as f64 * q;
            index_from(
                vi.floor(),
                vi >= last as f64,
                vi < 0.0,
                last,
                |prev| vi - prev,
                vi,
            )
        }
        PercentileFlavor::Float32 => {
            let q = pct as f32 / 100.0f32;
            let vi = last as f32 * q;
            let vi64 = vi as f64;
            index_from(
                vi64.floor(),
                vi64 >= last as f64,
                vi < 0.0,
                last,
                |prev| vi64 - prev,
                vi64,
            )
        }
    }
}

fn index_from(
    prev: f64,
    above: bool,
    below: bool,
    last: usize,
    gamma: impl Fn(f64) -> f64,
    vi: f64,
) -> PercentileIndex {
    // NumPy sets both indexes to -1 (the last element) above the range and to 0 below it,
    // but computes gamma from the unclamped floor.
    let g = if vi.is_nan() { 0.0 } else { gamma(prev) };
    let (lower, upper) = if above || vi.is_nan() {
        (last, last)
    } else if below {
        (0, 0)
    } else {
        let p = prev as usize;
        (p, (p + 1).min(last))
    };
    PercentileIndex {
        lower,
        upper,
        gamma64: g,
        gamma32: g as f32,
    }
}

/// NumPy's `_lerp(a, b, t)`: `a + (b - a) * t`, or `b - (b - a) * (1 - t)` when `t >= 0.5`.
/// Returns the value Python sees (`float(np.percentile(...))`).
pub fn percentile_lerp(a: f32, b: f32, idx: &PercentileIndex, flavor: PercentileFlavor) -> f64 {
    let d = b - a; // float32 subtraction in both generations
    match flavor {
        PercentileFlavor::Float64 => {
            let t = idx.gamma64;
            if t >= 0.5 {
                b as f64 - d as f64 * (1.0 - t)
            } else {
                a as f64 + d as f64 * t
            }
        }
        PercentileFlavor::Float32 => {
            let t = idx.gamma32;
            let r = if t >= 0.5 {
                b - d * (1.0f32 - t)
            } else {
                a + d * t
            };
            r as f64
        }
    }
}

/// `float(np.percentile(values, pct))` for float32 values, by partial selection (the order
/// statistics equal a full sort's). `values` is reordered. Returns `None` when empty.
pub fn percentile_f32(values: &mut [f32], pct: f64, flavor: PercentileFlavor) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let idx = percentile_index(values.len(), pct, flavor);
    let (a, b) = two_order_stats(values, idx.lower, idx.upper);
    Some(percentile_lerp(a, b, &idx, flavor))
}

/// The `lo`-th and `hi`-th smallest values (`hi` is `lo` or `lo + 1`), NaN sorting last as
/// in NumPy.
fn two_order_stats(values: &mut [f32], lo: usize, hi: usize) -> (f32, f32) {
    let (_, &mut a, right) = values.select_nth_unstable_by(lo, f32::total_cmp);
    let a = if a.is_nan() { f32::NAN } else { a };
    if hi == lo {
        return (a, a);
    }
    let b = right.iter().copied().min_by(f32::total_cmp).unwrap_or(a);
    (a, b)
}

/// `float(np.percentile(x, pct))` when `x` takes the values `value_of(i)` with
/// `counts[i]` occurrences, `value_of` increasing in `i` (a histogram of small integers).
pub fn percentile_hist(
    counts: &[u64],
    value_of: impl Fn(usize) -> f32,
    pct: f64,
    flavor: PercentileFlavor,
) -> Option<f64> {
    let n: u64 = counts.iter().sum();
    if n == 0 {
        return None;
    }
    let idx = percentile_index(n as usize, pct, flavor);
    let kth = |k: usize| -> f32 {
        let mut seen = 0u64;
        for (i, &c) in counts.iter().enumerate() {
            seen += c;
            if seen > k as u64 {
                return value_of(i);
            }
        }
        value_of(counts.len() - 1)
    };
    Some(percentile_lerp(
        kth(idx.lower),
        kth(idx.upper),
        &idx,
        flavor,
    ))
}

/// `np.median` of `vals / div` in float32, where `vals` are integers and `div` a float32
/// divisor: the two middle values of the scaled array are the scaled middle values of `vals`
/// (scaling is monotone), averaged as NumPy does (`(a + b) / 2` in float32).
/// `vals` is reordered. Returns 0 for an empty slice.
pub fn median_scaled_i16(vals: &mut [i16], div: f32) -> f32 {
    let n = vals.len();
    if n == 0 {
        return 0.0;
    }
    median_from_pair(middle_pair_i16(vals), n, div)
}

/// The median from the middle pair (see [`middle_pair_i16`]) of `n` integers.
pub fn median_from_pair((m_lo, m_hi): (i16, i16), n: usize, div: f32) -> f32 {
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        return m_hi as f32 / div;
    }
    let (a, b) = (m_lo as f32 / div, m_hi as f32 / div);
    // Sorted order of the scaled values follows the sign of `div`; the sum does not care.
    (a + b) / 2.0
}

/// The `(n/2 - 1)`-th and `n/2`-th smallest values (the lower one is meaningless for odd
/// `n`). Counting when the value range is small (motion vectors usually are), else selection.
pub fn middle_pair_i16(vals: &mut [i16]) -> (i16, i16) {
    let n = vals.len();
    let mid = n / 2;
    let (mn, mx) = vals
        .iter()
        .fold((i16::MAX, i16::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let range = (mx as i32 - mn as i32) as usize;
    if range < 4096 && range < n {
        // Four interleaved count arrays avoid store-to-load stalls on runs of equal values.
        let bins = range + 1;
        let mut c4 = vec![0u32; 4 * bins];
        let off = |v: i16| (v as i32 - mn as i32) as usize;
        let mut chunks = vals.chunks_exact(4);
        for c in &mut chunks {
            for (lane, &v) in c.iter().enumerate() {
                let i = lane * bins + off(v);
                c4[i] = c4[i].wrapping_add(1);
            }
        }
        for &v in chunks.remainder() {
            c4[off(v)] = c4[off(v)].wrapping_add(1);
        }
        let counts: Vec<u32> = (0..bins)
            .map(|b| c4[b] + c4[bins + b] + c4[2 * bins + b] + c4[3 * bins + b])
            .collect();
        let kth = |k: usize| {
            let mut seen = 0usize;
            for (i, &c) in counts.iter().enumerate() {
                seen += c as usize;
                if seen > k {
                    return (mn as i32 + i as i32) as i16;
                }
            }
            mx
        };
        return (if mid > 0 { kth(mid - 1) } else { kth(0) }, kth(mid));
    }
    let (_, &mut hi, _) = vals.select_nth_unstable(mid);
    let lo = vals[..mid].iter().copied().max().unwrap_or(hi);
    (lo, hi)
}

/// NumPy's pairwise summation of float32 (`@TYPE@_pairwise_sum`, blocks of 8, 128 per leaf),
/// as `np.add.reduce` runs it over a contiguous array.
#[inline]
pub fn pairwise_sum_f32(a: &[f32]) -> f32 {
    if let Ok(x) = <&[f32; 16]>::try_from(a) {
        return pairwise_sum_16(x);
    }
    const BLOCK: usize = 128;
    let n = a.len();
    if n < 8 {
        let mut res = 0.0f32;
        for &v in a {
            res += v;
        }
        res
    } else if n <= BLOCK {
        let mut r = [0f32; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - (n % 8) {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum_f32(&a[..n2]) + pairwise_sum_f32(&a[n2..])
    }
}

/// [`pairwise_sum_f32`] for the common patch width 16 (one block of 8 accumulators).
#[inline(always)]
pub fn pairwise_sum_16(a: &[f32; 16]) -> f32 {
    let r: [f32; 8] = std::array::from_fn(|j| a[j] + a[j + 8]);
    ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
}

/// `np.mean` of a float32 array: pairwise float32 sum divided by the count in float32.
pub fn mean_f32(a: &[f32]) -> f32 {
    if a.is_empty() {
        return f32::NAN;
    }
    (0.0f32 + pairwise_sum_f32(a)) / a.len() as f32
}

/// `fmaf(x, y, z)`: `x * y + z` with a single rounding, computed through f64 and corrected
/// in the rare double-rounding case (the method of musl's `fmaf`). Portable and exact for
/// normal results, and much faster than a library call on CPUs where the FMA instruction is
/// not enabled at compile time.
#[inline]
pub fn fma_f32(x: f32, y: f32, z: f32) -> f32 {
    let xy = x as f64 * y as f64; // exact: 24 + 24 bits
    let zf = z as f64;
    let result = xy + zf;
    let bits = result.to_bits();
    let e = (bits >> 52) & 0x7ff;
    if (bits & 0x1fff_ffff) != 0x1000_0000 || e == 0x7ff || (result - xy == zf && result - zf == xy)
    {
        return result as f32;
    }
    // Exactly halfway between two floats but inexact: nudge towards the error.
    let neg = (bits >> 63) != 0;
    let err = if neg == (zf > xy) {
        xy - result + zf
    } else {
        zf - result + xy
    };
    let adjusted = if neg == (err < 0.0) {
        bits + 1
    } else {
        bits - 1
    };
    f64::from_bits(adjusted) as f32
}

/// Python's `round()` on a float (half to even), as upstream computes `Hn`, `Wn`.
pub fn round_half_even(x: f64) -> f64 {
    x.round_ties_even()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_matches_numpy_examples() {
        // np.percentile(np.arange(10, dtype=np.float32), 95) == 8.55 (float64 flavour)
        let mut v: Vec<f32> = (0..10).map(|x| x as f32).collect();
        let p = percentile_f32(&mut v, 95.0, PercentileFlavor::Float64).unwrap();
        assert!((p - 8.55).abs() < 1e-12, "{p}");
        let p32 = percentile_f32(&mut v, 95.0, PercentileFlavor::Float32).unwrap();
        assert_eq!(p32 as f32, 8.55f32);
        // Edges.
        assert_eq!(
            percentile_f32(&mut v, 100.0, PercentileFlavor::Float64),
            Some(9.0)
        );
        assert_eq!(
            percentile_f32(&mut v, 0.0, PercentileFlavor::Float32),
            Some(0.0)
        );
        assert_eq!(
            percentile_f32(&mut [3.0], 95.0, PercentileFlavor::Float32),
            Some(3.0)
        );
        assert_eq!(
            percentile_f32(&mut [], 95.0, PercentileFlavor::Float32),
            None
        );
    }

    #[test]
    fn histogram_percentile_equals_sorting() {
        let data: Vec<u8> = (0..5000u32).map(|i| ((i * 7919) % 131) as u8).collect();
        let mut counts = vec![0u64; 256];
        for &d in &data {
            counts[d as usize] += 1;
        }
        for flavor in [PercentileFlavor::Float32, PercentileFlavor::Float64] {
            for pct in [0.0, 12.5, 50.0, 95.0, 99.9, 100.0] {
                let mut v: Vec<f32> = data.iter().map(|&d| d as f32).collect();
                let a = percentile_f32(&mut v, pct, flavor).unwrap();
                let b = percentile_hist(&counts, |i| i as f32, pct, flavor).unwrap();
                assert_eq!(a, b, "pct {pct}");
            }
        }
    }

    #[test]
    fn median_even_odd() {
        assert_eq!(median_scaled_i16(&mut [4, 1, 3, 2], 4.0), 0.625);
        assert_eq!(median_scaled_i16(&mut [5, 1, 3], 4.0), 0.75);
        assert_eq!(median_scaled_i16(&mut [5, 1, 3, 8], -4.0), -1.0);
        assert_eq!(median_scaled_i16(&mut [], 4.0), 0.0);
        // Counting and selection agree.
        let mut wide: Vec<i16> = (0..1001)
            .map(|i| ((i * 7919) % 20011) as i16 - 10000)
            .collect();
        let mut narrow: Vec<i16> = (0..1000).map(|i| ((i * 31) % 17) as i16 - 8).collect();
        let sorted = |v: &[i16]| {
            let mut s = v.to_vec();
            s.sort();
            s
        };
        let (sw, sn) = (sorted(&wide), sorted(&narrow));
        assert_eq!(median_scaled_i16(&mut wide, 1.0), sw[500] as f32);
        assert_eq!(
            median_scaled_i16(&mut narrow, 1.0),
            (sn[499] as f32 + sn[500] as f32) / 2.0
        );
    }

    #[test]
    fn fma_matches_hardware_semantics() {
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            let r = next();
            let x = f32::from_bits(((r as u32) & 0x3fff_ffff) | 0x3000_0000);
            let y = f32::from_bits((((r >> 32) as u32) & 0x3fff_ffff) | 0x3000_0000);
            let z = -(x * y) * (1.0 + ((next() % 1000) as f32 - 500.0) * 1e-7);
            assert_eq!(
                fma_f32(x, y, z).to_bits(),
                x.mul_add(y, z).to_bits(),
                "{x} {y} {z}"
            );
            let z2 = f32::from_bits(next() as u32 & 0x3fff_ffff);
            assert_eq!(fma_f32(x, y, z2).to_bits(), x.mul_add(y, z2).to_bits());
        }
        // A double-rounding case: x*y+z lands exactly halfway in f64 but not exactly.
        let (x, y, z) = (1.0f32 + f32::EPSILON, 1.0f32 + 0.5 * f32::EPSILON, -1.0f32);
        assert_eq!(fma_f32(x, y, z), x.mul_add(y, z));
    }

    #[test]
    fn pairwise_sum_small_and_large() {
        let v: Vec<f32> = (0..1000).map(|i| (i % 17) as f32 * 0.25).collect();
        let exact: f64 = v.iter().map(|&x| x as f64).sum();
        assert_eq!(pairwise_sum_f32(&v) as f64, exact);
        // The width-16 fast path is the general algorithm.
        let w: Vec<f32> = (0..16).map(|i| 1.0 / (i as f32 + 3.0)).collect();
        let mut r = [0f32; 8];
        r.copy_from_slice(&w[..8]);
        for j in 0..8 {
            r[j] += w[8 + j];
        }
        let general = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        assert_eq!(pairwise_sum_f32(&w), general);
        assert_eq!(mean_f32(&[1.0, 2.0]), 1.5);
        assert_eq!(round_half_even(2.5), 2.0);
        assert_eq!(round_half_even(3.5), 4.0);
    }
}
