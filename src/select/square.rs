//! The square mapping (SPEC 2.3): scale the longer side to `S`, pad centred with zeros, and
//! `cv2.resize` reproduced exactly for the three cases upstream uses.
//!
//! - **float32 `INTER_LINEAR`** (the energy map). OpenCV hands this case to Intel IPP
//!   (`ipp_resize` in `modules/imgproc/src/resize.cpp` runs before OpenCV's own code and only
//!   declines 8-bit linear and nearest), so the arithmetic is IPP's, not OpenCV's generic path:
//!   source coordinate `(d + 0.5) * src / dst - 0.5` in double, weight `frac` rounded to
//!   float, neighbours clamped (replicated border), horizontal pass then vertical pass, each
//!   `fma(b - a, w, a)` in float32. This reproduces upstream's float maps bit for bit (the
//!   fixture test checks every patch score), where OpenCV's generic float path
//!   (`a * (1 - fx) + b * fx` with a float coordinate) differs by up to 1e-5 relative.
//!   Upstream ran on an FMA-capable CPU; IPP without FMA would round differently.
//! - **uint8 `INTER_LINEAR`** (frames for packing): OpenCV's own fixed-point path, since IPP
//!   is declined there. Per destination column `fx = (float)((dx + 0.5) * scale_x - 0.5)` with
//!   `scale_x = 1 / (dst / src)`; `sx = floor(fx)`, `fx -= sx`; left of the image `sx = 0,
//!   fx = 0`; from the first column whose right tap falls outside on, the single pixel
//!   `S[sx] * 2048`. Rows are clamped without changing weights. Weights are
//!   `saturate_cast<short>(w * 2048)`; horizontal sums in int; the vertical pass is OpenCV's
//!   SIMD formula `((((S0 >> 4) * b0) >> 16) + (((S1 >> 4) * b1) >> 16) + 2) >> 2` for every
//!   byte (OpenCV 4.10 gives it for the row's tail too; its scalar
//!   `(S0 * b0 + S1 * b1 + (1 << 21)) >> 22` can be one higher). An exact 2x reduction on both
//!   axes switches to `INTER_AREA`'s fast path (rounded 2x2 means).
//!
//! Checked against `cv2.resize` of opencv-python-headless 4.10.0.84 (`tests/select_opencv.rs`):
//! uint8 and nearest bit-exact on every case; float32 bit-exact for every reduction (the
//! square mapping of any video larger than `S`), while enlargements differ by one ulp in
//! some rows of the last two or three interpolated columns before the right border, a corner
//! of IPP's arithmetic not reproduced here.
//! - **`INTER_NEAREST`** (motion grid upsampling): OpenCV's `resizeNN`,
//!   `min(floor(d * (1 / (dst / src))), src - 1)` in double.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::numeric::{fma_f32, round_half_even};

pub use crate::formats::meta::{PadInfo, ValidRanges};

/// Where a `h0 x w0` picture lands in the `out_size` square and its patch grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SquareGeometry {
    pub h0: usize,
    pub w0: usize,
    pub out_size: usize,
    pub patch: usize,
    /// `out_size / max(h0, w0)` in f64.
    pub scale: f64,
    pub hn: usize,
    pub wn: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    pub pad_bottom: usize,
    pub pad_right: usize,
    /// Patch rows and columns (`out_size / patch`).
    pub hb: usize,
    pub wb: usize,
}

impl SquareGeometry {
    /// `h0`, `w0`, `out_size` and `patch` must be positive.
    pub fn new(h0: usize, w0: usize, out_size: usize, patch: usize) -> Self {
        let scale = out_size as f64 / h0.max(w0).max(1) as f64;
        let hn = (round_half_even(h0 as f64 * scale) as usize).max(1);
        let wn = (round_half_even(w0 as f64 * scale) as usize).max(1);
        // Rounding cannot exceed out_size for the longer side; the shorter one is smaller.
        let hn_c = hn.min(out_size);
        let wn_c = wn.min(out_size);
        let pad_top = (out_size - hn_c) / 2;
        let pad_left = (out_size - wn_c) / 2;
        let patch = patch.max(1);
        SquareGeometry {
            h0,
            w0,
            out_size,
            patch,
            scale,
            hn,
            wn,
            pad_top,
            pad_left,
            pad_bottom: out_size - hn_c - pad_top,
            pad_right: out_size - wn_c - pad_left,
            hb: out_size / patch,
            wb: out_size / patch,
        }
    }

    pub fn s_total(&self) -> usize {
        self.hb * self.wb
    }

    /// Patch rows `[start, end)` lying fully inside the content box.
    pub fn valid_rows(&self) -> (usize, usize) {
        valid_span(self.pad_top, self.hn, self.patch, self.hb)
    }

    /// Patch columns `[start, end)` lying fully inside the content box.
    pub fn valid_cols(&self) -> (usize, usize) {
        valid_span(self.pad_left, self.wn, self.patch, self.wb)
    }

    pub fn is_valid(&self, h: usize, w: usize) -> bool {
        let (h0, h1) = self.valid_rows();
        let (w0, w1) = self.valid_cols();
        (h0..h1).contains(&h) && (w0..w1).contains(&w)
    }

    /// Row-major `hb x wb` mask of valid patches.
    pub fn valid_mask(&self) -> Vec<bool> {
        let mut m = vec![false; self.s_total()];
        for h in 0..self.hb {
            for w in 0..self.wb {
                m[h * self.wb + w] = self.is_valid(h, w);
            }
        }
        m
    }

    pub fn s_valid(&self) -> usize {
        let (h0, h1) = self.valid_rows();
        let (w0, w1) = self.valid_cols();
        (h1 - h0) * (w1 - w0)
    }

    pub fn pad_info(&self) -> PadInfo {
        PadInfo {
            scale: self.scale,
            hn: self.hn,
            wn: self.wn,
            pad_top: self.pad_top,
            pad_left: self.pad_left,
            pad_bottom: self.pad_bottom,
            pad_right: self.pad_right,
            out_size: self.out_size,
            h0: self.h0,
            w0: self.w0,
        }
    }

    pub fn valid_ranges(&self) -> ValidRanges {
        let s_valid = self.s_valid();
        let (h0, h1) = self.valid_rows();
        let (w0, w1) = self.valid_cols();
        let some = |v| if s_valid > 0 { Some(v) } else { None };
        ValidRanges {
            s_valid,
            hb_total: self.hb,
            wb_total: self.wb,
            valid_h_start: some(h0),
            valid_h_end: some(h1),
            valid_w_start: some(w0),
            valid_w_end: some(w1),
        }
    }
}

fn valid_span(pad: usize, len: usize, patch: usize, n: usize) -> (usize, usize) {
    let lo = pad;
    let hi = pad + len;
    let start = lo.div_ceil(patch).min(n);
    let end = (hi / patch).min(n).max(start);
    (start, end)
}

/// OpenCV `INTER_NEAREST` source index for every destination index:
/// `min(floor(d * (1 / (dst / src))), src - 1)` in double.
pub fn nearest_map(src: usize, dst: usize) -> Vec<usize> {
    if src == 0 {
        return vec![0; dst];
    }
    let inv_scale = dst as f64 / src as f64;
    let ifx = 1.0 / inv_scale;
    (0..dst)
        .map(|d| ((d as f64 * ifx).floor() as usize).min(src - 1))
        .collect()
}

/// One destination column of OpenCV's linear resize.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tap {
    /// Left source index.
    pub sx: usize,
    /// Weights of `sx` and `sx + 1` (float path).
    pub a0: f32,
    pub a1: f32,
    /// Fixed-point weights (uint8 path).
    pub ia0: i16,
    pub ia1: i16,
    /// Past `xmax`: the value is the single source pixel `sx` (times ONE).
    pub single: bool,
}

/// Column taps of OpenCV's `INTER_LINEAR` for `src -> dst`.
pub fn linear_x_taps(src: usize, dst: usize) -> Vec<Tap> {
    let inv_scale = dst as f64 / src as f64;
    let scale = 1.0 / inv_scale;
    let mut xmax = dst;
    let mut taps = Vec::with_capacity(dst);
    for dx in 0..dst {
        let mut fx = ((dx as f64 + 0.5) * scale - 0.5) as f32;
        let mut sx = fx.floor() as i64;
        fx -= sx as f32;
        if sx < 0 {
            fx = 0.0;
            sx = 0;
        }
        if sx + 1 >= src as i64 {
            xmax = xmax.min(dx);
            if sx >= src as i64 - 1 {
                fx = 0.0;
                sx = src as i64 - 1;
            }
        }
        let (a0, a1) = (1.0f32 - fx, fx);
        taps.push(Tap {
            sx: sx as usize,
            a0,
            a1,
            ia0: fixed_coef(a0),
            ia1: fixed_coef(a1),
            single: false,
        });
    }
    for t in taps.iter_mut().skip(xmax) {
        t.single = true;
    }
    taps
}

/// One destination row: clamped source rows and weights (not adjusted at the borders).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowTap {
    pub r0: usize,
    pub r1: usize,
    pub b0: f32,
    pub b1: f32,
    pub ib0: i16,
    pub ib1: i16,
}

/// Row taps of OpenCV's `INTER_LINEAR` for `src -> dst`.
pub fn linear_y_taps(src: usize, dst: usize) -> Vec<RowTap> {
    let inv_scale = dst as f64 / src as f64;
    let scale = 1.0 / inv_scale;
    let last = src as i64 - 1;
    (0..dst)
        .map(|dy| {
            let mut fy = ((dy as f64 + 0.5) * scale - 0.5) as f32;
            let sy = fy.floor() as i64;
            fy -= sy as f32;
            let (b0, b1) = (1.0f32 - fy, fy);
            RowTap {
                r0: sy.clamp(0, last) as usize,
                r1: (sy + 1).clamp(0, last) as usize,
                b0,
                b1,
                ib0: fixed_coef(b0),
                ib1: fixed_coef(b1),
            }
        })
        .collect()
}

/// `saturate_cast<short>(w * INTER_RESIZE_COEF_SCALE)`: float product, round half to even.
fn fixed_coef(w: f32) -> i16 {
    (w * 2048.0f32)
        .round_ties_even()
        .clamp(i16::MIN as f32, i16::MAX as f32) as i16
}

/// OpenCV's `is_area_fast` with scale 2 on both axes (`INTER_LINEAR` becomes `INTER_AREA`).
pub fn is_exact_half(src_w: usize, src_h: usize, dst_w: usize, dst_h: usize) -> bool {
    let sx = 1.0 / (dst_w as f64 / src_w as f64);
    let sy = 1.0 / (dst_h as f64 / src_h as f64);
    let ix = sx.round_ties_even();
    let iy = sy.round_ties_even();
    (sx - ix).abs() < f64::EPSILON && (sy - iy).abs() < f64::EPSILON && ix == 2.0 && iy == 2.0
}

/// One destination index of the float resize: clamped neighbours and the weight of `i1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloatTap {
    pub i0: usize,
    pub i1: usize,
    pub w: f32,
}

/// Taps of the float32 linear resize `src -> dst` (IPP's coordinates, see the module docs).
pub fn float_linear_taps(src: usize, dst: usize) -> Vec<FloatTap> {
    let scale = src as f64 / dst as f64;
    let last = src as i64 - 1;
    (0..dst)
        .map(|d| {
            let c = (d as f64 + 0.5) * scale - 0.5;
            let f = c.floor();
            let i = f as i64;
            FloatTap {
                i0: i.clamp(0, last) as usize,
                i1: (i + 1).clamp(0, last) as usize,
                w: (c - f) as f32,
            }
        })
        .collect()
}

/// `a + (b - a) * w` with one rounding of the product-sum, as IPP computes it. `HW` uses the
/// FMA instruction (only inside functions compiled with it), otherwise the portable emulation.
#[inline(always)]
fn lerp_fma<const HW: bool>(a: f32, b: f32, w: f32) -> f32 {
    if HW {
        (b - a).mul_add(w, a)
    } else {
        fma_f32(b - a, w, a)
    }
}

#[inline(always)]
fn h_pass_impl<const HW: bool>(taps: &[FloatTap], row: &[f32], out: &mut [f32]) {
    for (o, t) in out.iter_mut().zip(taps) {
        *o = lerp_fma::<HW>(row[t.i0], row[t.i1], t.w);
    }
}

#[inline(always)]
fn v_pass_impl<const HW: bool>(d0: &[f32], d1: &[f32], w: f32, out: &mut [f32]) {
    for ((o, &a), &b) in out.iter_mut().zip(d0).zip(d1) {
        *o = lerp_fma::<HW>(a, b, w);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
unsafe fn h_pass_fma(taps: &[FloatTap], row: &[f32], out: &mut [f32]) {
    h_pass_impl::<true>(taps, row, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
unsafe fn v_pass_fma(d0: &[f32], d1: &[f32], w: f32, out: &mut [f32]) {
    v_pass_impl::<true>(d0, d1, w, out)
}

fn has_hw_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// A separable plan for resizing a float32 map given row by row: which source rows are
/// needed, and the taps. Used by scoring, which produces source rows on demand.
#[derive(Debug, Clone)]
pub struct FloatResizePlan {
    pub src_w: usize,
    pub src_h: usize,
    pub dst_w: usize,
    pub dst_h: usize,
    pub x: Vec<FloatTap>,
    pub y: Vec<FloatTap>,
    /// The CPU has FMA: same results, faster.
    hw_fma: bool,
}

impl FloatResizePlan {
    pub fn new(src_w: usize, src_h: usize, dst_w: usize, dst_h: usize) -> Self {
        FloatResizePlan {
            src_w,
            src_h,
            dst_w,
            dst_h,
            x: float_linear_taps(src_w, dst_w),
            y: float_linear_taps(src_h, dst_h),
            hw_fma: has_hw_fma(),
        }
    }

    /// The same plan computing without the FMA instruction (for tests).
    pub fn without_hw_fma(mut self) -> Self {
        self.hw_fma = false;
        self
    }

    fn v_pass(&self, d0: &[f32], d1: &[f32], w: f32, out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if self.hw_fma {
            // SAFETY: the CPU supports FMA (checked at run time in `new`).
            unsafe { v_pass_fma(d0, d1, w, out) };
            return;
        }
        v_pass_impl::<false>(d0, d1, w, out)
    }

    /// Source columns the horizontal pass reads, ascending.
    pub fn needed_cols(&self) -> Vec<usize> {
        if self.is_copy() {
            return (0..self.src_w).collect();
        }
        let mut v: Vec<usize> = self.x.iter().flat_map(|t| [t.i0, t.i1]).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Source rows [`Self::run`] reads, ascending.
    pub fn needed_rows(&self) -> Vec<usize> {
        if self.is_copy() {
            return (0..self.src_h).collect();
        }
        let mut v: Vec<usize> = self.y.iter().flat_map(|t| [t.i0, t.i1]).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Whether OpenCV copies instead of resizing (`dsize == ssize`).
    pub fn is_copy(&self) -> bool {
        self.src_w == self.dst_w && self.src_h == self.dst_h
    }

    /// Horizontal pass of one source row into `out` (`dst_w` values).
    #[inline]
    pub fn h_pass(&self, row: &[f32], out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if self.hw_fma {
            // SAFETY: the CPU supports FMA (checked at run time in `new`).
            unsafe { h_pass_fma(&self.x, row, out) };
            return;
        }
        h_pass_impl::<false>(&self.x, row, out)
    }

    /// Runs the resize; `src_row(y, buf)` fills `buf` (`src_w` values) with source row `y`,
    /// `emit(dy, row)` receives each destination row. Source rows are produced at most once
    /// each, in increasing order, and only those the taps reference.
    pub fn run(
        &self,
        mut src_row: impl FnMut(usize, &mut [f32]),
        mut emit: impl FnMut(usize, &[f32]),
    ) {
        let mut src = vec![0f32; self.src_w];
        if self.is_copy() {
            for y in 0..self.src_h {
                src_row(y, &mut src);
                emit(y, &src);
            }
            return;
        }
        let mut out = vec![0f32; self.dst_w];
        // Horizontal results of the two most recent source rows.
        let mut h = [vec![0f32; self.dst_w], vec![0f32; self.dst_w]];
        let mut have: [Option<usize>; 2] = [None, None];
        for (dy, t) in self.y.iter().enumerate() {
            for r in [t.i0, t.i1] {
                if have.contains(&Some(r)) {
                    continue;
                }
                src_row(r, &mut src);
                // Replace the older (smaller) row.
                let slot = match have {
                    [None, _] => 0,
                    [_, None] => 1,
                    [Some(a), Some(b)] => usize::from(a >= b),
                };
                self.h_pass(&src, &mut h[slot]);
                have[slot] = Some(r);
            }
            let d0 = if have[0] == Some(t.i0) { &h[0] } else { &h[1] };
            let d1 = if have[0] == Some(t.i1) { &h[0] } else { &h[1] };
            self.v_pass(d0, d1, t.w, &mut out);
            emit(dy, &out);
        }
    }
}

/// Resizes a whole float32 map (row-major `src_h x src_w`) to `dst_h x dst_w`.
pub fn resize_linear_f32(
    src: &[f32],
    src_w: usize,
    src_h: usize,
    dst_w: usize,
    dst_h: usize,
) -> Vec<f32> {
    let plan = FloatResizePlan::new(src_w, src_h, dst_w, dst_h);
    let mut out = vec![0f32; dst_w * dst_h];
    plan.run(
        |y, buf| buf.copy_from_slice(&src[y * src_w..(y + 1) * src_w]),
        |dy, row| out[dy * dst_w..(dy + 1) * dst_w].copy_from_slice(row),
    );
    out
}

/// OpenCV's `INTER_LINEAR` on an interleaved 8-bit image with `cn` channels.
pub fn resize_linear_u8(
    src: &[u8],
    src_w: usize,
    src_h: usize,
    cn: usize,
    dst_w: usize,
    dst_h: usize,
) -> Vec<u8> {
    assert_eq!(src.len(), src_w * src_h * cn, "source size");
    if src_w == dst_w && src_h == dst_h {
        return src.to_vec();
    }
    let width = dst_w * cn;
    let mut out = vec![0u8; width * dst_h];
    if is_exact_half(src_w, src_h, dst_w, dst_h) {
        let stride = src_w * cn;
        for dy in 0..dst_h {
            let r0 = &src[2 * dy * stride..(2 * dy + 1) * stride];
            let r1 = &src[(2 * dy + 1) * stride..(2 * dy + 2) * stride];
            let o = &mut out[dy * width..(dy + 1) * width];
            for dx in 0..dst_w {
                for c in 0..cn {
                    let i = 2 * dx * cn + c;
                    let s = r0[i] as u32 + r0[i + cn] as u32 + r1[i] as u32 + r1[i + cn] as u32;
                    o[dx * cn + c] = ((s + 2) >> 2) as u8;
                }
            }
        }
        return out;
    }
    let xt = linear_x_taps(src_w, dst_w);
    let yt = linear_y_taps(src_h, dst_h);
    let stride = src_w * cn;
    let h_pass = |r: usize, buf: &mut [i32]| {
        let row = &src[r * stride..(r + 1) * stride];
        match cn {
            1 => h_pass_u8::<1>(row, &xt, buf),
            3 => h_pass_u8::<3>(row, &xt, buf),
            _ => h_pass_any(row, &xt, cn, buf),
        }
    };
    // Bands of output rows in parallel, each with its own two-row cache of horizontal
    // passes: a row shared by two bands is computed twice, identically.
    const BAND: usize = 16;
    out.par_chunks_mut(width * BAND)
        .enumerate()
        .for_each(|(band, rows)| {
            let mut cache: [(Option<usize>, Vec<i32>); 2] =
                [(None, vec![0; width]), (None, vec![0; width])];
            for (k, o) in rows.chunks_mut(width).enumerate() {
                let t = &yt[band * BAND + k];
                for r in [t.r0, t.r1] {
                    if cache[0].0 == Some(r) || cache[1].0 == Some(r) {
                        continue;
                    }
                    let slot = match (cache[0].0, cache[1].0) {
                        (None, _) => 0,
                        (_, None) => 1,
                        (Some(a), Some(b)) => usize::from(a >= b),
                    };
                    h_pass(r, &mut cache[slot].1);
                    cache[slot].0 = Some(r);
                }
                let pick = |r: usize| {
                    if cache[0].0 == Some(r) {
                        &cache[0].1
                    } else {
                        &cache[1].1
                    }
                };
                vresize_row_u8(pick(t.r0), pick(t.r1), t.ib0 as i32, t.ib1 as i32, o);
            }
        });
    out
}

/// OpenCV's horizontal uint8 pass over one row of `CN`-channel pixels (fixed-point
/// weights; past `xmax` the single pixel times 2048).
fn h_pass_u8<const CN: usize>(row: &[u8], xt: &[Tap], buf: &mut [i32]) {
    for (t, o) in xt.iter().zip(buf.chunks_exact_mut(CN)) {
        let s = t.sx * CN;
        if t.single {
            for c in 0..CN {
                o[c] = row[s + c] as i32 * 2048;
            }
        } else {
            let px: &[u8] = &row[s..s + 2 * CN];
            let (a0, a1) = (t.ia0 as i32, t.ia1 as i32);
            for c in 0..CN {
                o[c] = px[c] as i32 * a0 + px[CN + c] as i32 * a1;
            }
        }
    }
}

/// [`h_pass_u8`] for any channel count.
fn h_pass_any(row: &[u8], xt: &[Tap], cn: usize, buf: &mut [i32]) {
    for (t, o) in xt.iter().zip(buf.chunks_exact_mut(cn)) {
        let s = t.sx * cn;
        for c in 0..cn {
            o[c] = if t.single {
                row[s + c] as i32 * 2048
            } else {
                row[s + c] as i32 * t.ia0 as i32 + row[s + cn + c] as i32 * t.ia1 as i32
            };
        }
    }
}

/// One byte of OpenCV's vertical uint8 pass (`VResizeLinearVec_32s8u`): operands shifted
/// right by 4 and packed to int16, `mulhi` with the 11-bit weights, saturating add, then
/// `(x + 2) >> 2` packed to uint8. OpenCV 4.10 produces this for every byte of the row.
#[inline(always)]
fn vresize_u8(s0: i32, s1: i32, b0: i32, b1: i32) -> u8 {
    let p0 = sat16(s0 >> 4) as i32;
    let p1 = sat16(s1 >> 4) as i32;
    let v = sat16(((p0 * b0) >> 16) + ((p1 * b1) >> 16)) as i32;
    let v = sat16(v + 2) as i32 >> 2;
    v.clamp(0, 255) as u8
}

/// [`vresize_u8`] over a row, eight bytes at a time with the SSE2 instructions OpenCV
/// itself uses (`packs`, `mulhi`, `adds`, `packus`), which compute exactly the same.
fn vresize_row_u8(s0: &[i32], s1: &[i32], b0: i32, b1: i32, out: &mut [u8]) {
    let n = out.len().min(s0.len()).min(s1.len());
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of x86_64; every load reads 4 of the first `n` entries of
        // `s0` or `s1` and every store writes 8 of the first `n` bytes of `out`. The
        // weights are 11-bit, so they fit the 16-bit lanes.
        unsafe {
            let (w0, w1) = (_mm_set1_epi16(b0 as i16), _mm_set1_epi16(b1 as i16));
            let two = _mm_set1_epi16(2);
            let half = |s: &[i32], x: usize| {
                let lo = _mm_srai_epi32::<4>(_mm_loadu_si128(s.as_ptr().add(x).cast()));
                let hi = _mm_srai_epi32::<4>(_mm_loadu_si128(s.as_ptr().add(x + 4).cast()));
                _mm_packs_epi32(lo, hi)
            };
            while done + 8 <= n {
                let v = _mm_adds_epi16(
                    _mm_mulhi_epi16(half(s0, done), w0),
                    _mm_mulhi_epi16(half(s1, done), w1),
                );
                let v = _mm_srai_epi16::<2>(_mm_adds_epi16(v, two));
                _mm_storel_epi64(out.as_mut_ptr().add(done).cast(), _mm_packus_epi16(v, v));
                done += 8;
            }
        }
    }
    for i in done..n {
        out[i] = vresize_u8(s0[i], s1[i], b0, b1);
    }
}

fn sat16(v: i32) -> i16 {
    v.clamp(i16::MIN as i32, i16::MAX as i32) as i16
}

/// A frame mapped to the square as upstream's stage 2 and offline precompute do it:
/// `INTER_LINEAR` to `Hn x Wn` (uint8 path), then zero padding. `src` is interleaved 8-bit
/// with `cn` channels (RGB or BGR; the channel order passes through).
pub fn square_frame_u8(src: &[u8], w: usize, h: usize, cn: usize, g: &SquareGeometry) -> Vec<u8> {
    SquareContent::new(src, w, h, cn, g).to_square()
}

/// A picture resized to its place on the square canvas, without the zero padding around
/// it: what [`square_frame_u8`] makes, in a fraction of the memory for pictures far from
/// square (a 16:9 picture fills 56% of the canvas).
#[derive(Debug, Clone, PartialEq)]
pub struct SquareContent {
    pub geometry: SquareGeometry,
    pub channels: usize,
    /// `geometry.hn` rows of `geometry.wn` pixels (empty for an empty source).
    pub data: Vec<u8>,
}

impl SquareContent {
    pub fn new(src: &[u8], w: usize, h: usize, cn: usize, g: &SquareGeometry) -> Self {
        let data = if w == 0 || h == 0 {
            Vec::new()
        } else {
            resize_linear_u8(src, w, h, cn, g.wn, g.hn)
        };
        SquareContent {
            geometry: *g,
            channels: cn,
            data,
        }
    }

    /// The whole `out_size` square, padding included.
    pub fn to_square(&self) -> Vec<u8> {
        let (g, cn) = (&self.geometry, self.channels);
        let s = g.out_size;
        let mut out = vec![0u8; s * s * cn];
        if self.data.is_empty() {
            return out;
        }
        let hn = g.hn.min(s);
        let wn = g.wn.min(s);
        for y in 0..hn {
            let dst = &mut out[((g.pad_top + y) * s + g.pad_left) * cn..][..wn * cn];
            dst.copy_from_slice(&self.data[y * g.wn * cn..][..wn * cn]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vertical_row_pass_equals_the_scalar_rule() {
        // Sums across the whole i32 range the horizontal pass can make and beyond it
        // (saturation), weights across 0..=2048, odd lengths (the scalar tail).
        let mut next = crate::testing::xorshift32(0x9e37_79b9);
        for len in [1usize, 7, 8, 9, 23, 64, 973] {
            let mut row = || -> Vec<i32> {
                (0..len)
                    .map(|i| match i % 5 {
                        0 => (next() % (255 * 2048 + 1)) as i32,
                        1 => 255 * 2048,
                        2 => 0,
                        3 => next() as i32,
                        _ => -((next() % 600_000) as i32),
                    })
                    .collect()
            };
            let (s0, s1) = (row(), row());
            for (b0, b1) in [(2048, 0), (0, 2048), (1024, 1024), (1, 2047), (1500, 548)] {
                let mut out = vec![0u8; len];
                vresize_row_u8(&s0, &s1, b0, b1, &mut out);
                let want: Vec<u8> = (0..len).map(|i| vresize_u8(s0[i], s1[i], b0, b1)).collect();
                assert_eq!(out, want, "len {len}, weights {b0},{b1}");
            }
        }
    }

    #[test]
    fn fixture_geometry() {
        let g = SquareGeometry::new(640, 360, 576, 16);
        assert_eq!(
            (g.hn, g.wn, g.pad_top, g.pad_left, g.pad_bottom, g.pad_right),
            (576, 324, 0, 126, 0, 126)
        );
        assert_eq!(g.scale, 0.9);
        assert_eq!(g.s_valid(), 720);
        let vr = g.valid_ranges();
        assert_eq!(vr.grid(), Some((0, 36, 8, 20)));
        assert_eq!(vr.valid_w_end, Some(28));
    }

    #[test]
    fn odd_and_tiny_geometry() {
        let g = SquareGeometry::new(17, 33, 576, 16);
        // 17 * 576/33 = 296.7 -> 297
        assert_eq!((g.hn, g.wn), (297, 576));
        assert_eq!(g.pad_top, 139);
        assert_eq!(g.valid_rows(), (9, 27));
        let g = SquareGeometry::new(1, 1000, 576, 16);
        assert_eq!(g.hn, 1);
        assert_eq!(g.s_valid(), 0);
        assert!(g.valid_ranges().grid().is_none());
        // Python: round(2.5) == 2 (half to even). 5 * 576/1152 = 2.5.
        let g = SquareGeometry::new(5, 1152, 576, 16);
        assert_eq!(g.hn, 2);
    }

    #[test]
    fn nearest_matches_opencv_rule() {
        assert_eq!(nearest_map(8, 33)[..9], [0, 0, 0, 0, 0, 1, 1, 1, 1]);
        assert_eq!(nearest_map(90, 360)[..8], [0, 0, 0, 0, 1, 1, 1, 1]);
        assert_eq!(*nearest_map(8, 33).last().unwrap(), 7);
    }

    #[test]
    fn linear_identity_like_cases() {
        // Upscale of a constant stays (almost) constant; borders replicate.
        let src = vec![0.5f32; 4 * 3];
        let out = resize_linear_f32(&src, 4, 3, 9, 7);
        assert!(out.iter().all(|&v| (v - 0.5).abs() < 1e-6));
        // uint8 constant stays exactly constant.
        let src = vec![200u8; 10 * 7 * 3];
        let out = resize_linear_u8(&src, 10, 7, 3, 23, 5);
        assert!(out.iter().all(|&v| v == 200));
        // 2x reduction is the 2x2 mean.
        let src: Vec<u8> = vec![0, 10, 20, 30, 4, 8, 12, 16];
        let out = resize_linear_u8(&src, 4, 2, 1, 2, 1);
        assert_eq!(out, vec![(10 + 4 + 8 + 2) / 4, (20 + 30 + 12 + 16 + 2) / 4]);
    }

    #[test]
    fn hardware_and_portable_fma_agree() {
        let src: Vec<f32> = (0..37 * 23)
            .map(|i| ((i * 7919) % 1000) as f32 / 997.0)
            .collect();
        for (dw, dh) in [(20, 11), (50, 40), (37, 23), (36, 23)] {
            let plan = FloatResizePlan::new(37, 23, dw, dh);
            let sw = FloatResizePlan::new(37, 23, dw, dh).without_hw_fma();
            let run = |p: &FloatResizePlan| {
                let mut out = Vec::new();
                p.run(
                    |y, b| b.copy_from_slice(&src[y * 37..(y + 1) * 37]),
                    |_, r| out.extend_from_slice(r),
                );
                out
            };
            let (a, b) = (run(&plan), run(&sw));
            assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
        }
    }

    #[test]
    fn taps_downscale_09() {
        let t = linear_x_taps(360, 324);
        assert_eq!(t[0].sx, 0);
        assert!(!t[0].single);
        assert!(t[323].sx <= 359);
        let y = linear_y_taps(640, 576);
        assert_eq!(y[575].r1, 639);
    }
}
