//! Motion compensation on edge-extended reference planes: bilinear quarter-pel luma and
//! H.264's eighth-pel bilinear chroma, for one small block at a time.

/// A borrowed 8-bit plane; reads outside it repeat the nearest edge sample.
#[derive(Clone, Copy)]
pub struct PlaneRef<'a> {
    pub data: &'a [u8],
    pub width: usize,
    pub height: usize,
}

impl PlaneRef<'_> {
    #[inline]
    fn at_clamped(&self, x: i32, y: i32) -> u32 {
        let x = x.clamp(0, self.width as i32 - 1) as usize;
        let y = y.clamp(0, self.height as i32 - 1) as usize;
        self.data[y * self.width + x] as u32
    }

    /// True when the `bw+1 x bh+1` window at (x, y) lies inside the plane.
    #[inline]
    fn inside(&self, x: i32, y: i32, bw: usize, bh: usize) -> bool {
        x >= 0 && y >= 0 && (x as usize + bw) < self.width && (y as usize + bh) < self.height
    }
}

/// One output row of the bilinear kernel (`BW` known at compile time so it vectorises).
#[inline(always)]
fn kernel_row<const BW: usize>(row0: &[u8], row1: &[u8], w: [u16; 4], shift: u32, out: &mut [u8]) {
    let row0 = &row0[..BW + 1];
    let row1 = &row1[..BW + 1];
    let out = &mut out[..BW];
    let round = 1u16 << (shift - 1);
    // Weights sum to 16 (luma) or 64 (chroma): no sum exceeds 64 * 255, so wrapping
    // arithmetic never wraps; it only spares the overflow checks of test builds.
    for c in 0..BW {
        let v = w[0]
            .wrapping_mul(row0[c] as u16)
            .wrapping_add(w[1].wrapping_mul(row0[c + 1] as u16))
            .wrapping_add(w[2].wrapping_mul(row1[c] as u16))
            .wrapping_add(w[3].wrapping_mul(row1[c + 1] as u16));
        out[c] = (v.wrapping_add(round) >> shift) as u8;
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn kernel<const BW: usize>(
    data: &[u8],
    stride: usize,
    base: usize,
    w: [u16; 4],
    shift: u32,
    bh: usize,
    full: bool,
    out: &mut [u8],
) {
    for r in 0..bh {
        let o = &mut out[r * BW..(r + 1) * BW];
        let row0 = &data[base + r * stride..];
        if full {
            o.copy_from_slice(&row0[..BW]);
        } else {
            let row1 = &data[base + (r + 1) * stride..];
            kernel_row::<BW>(row0, row1, w, shift, o);
        }
    }
}

/// Bilinear interpolation of a `bw x bh` block whose top-left full-pel sample is (x, y),
/// with fractional offsets `fx, fy` in units of `1/scale` (`scale` = 4 for luma quarter
/// pels, 8 for chroma eighth pels); rounds to nearest. `bw` is 2, 4 or 8.
#[inline]
#[allow(clippy::too_many_arguments)]
fn bilinear(
    p: PlaneRef,
    x: i32,
    y: i32,
    fx: u32,
    fy: u32,
    scale: u32,
    bw: usize,
    bh: usize,
    out: &mut [u8],
) {
    if p.inside(x, y, bw, bh) {
        let base = y as usize * p.width + x as usize;
        if fx == 0 && fy == 0 {
            // Whole-pel: a copy.
            for (r, o) in out[..bw * bh].chunks_exact_mut(bw).enumerate() {
                o.copy_from_slice(&p.data[base + r * p.width..][..bw]);
            }
            return;
        }
        interpolate(p.data, p.width, base, fx, fy, scale, bw, bh, out);
    } else {
        // Outside the plane: gather the edge-extended window first.
        let mut window = [0u8; 9 * 9];
        for r in 0..=bh {
            for c in 0..=bw {
                window[r * 9 + c] = p.at_clamped(x + c as i32, y + r as i32) as u8;
            }
        }
        interpolate(&window, 9, 0, fx, fy, scale, bw, bh, out);
    }
}

/// The bilinear kernel over a `bw+1 x bh+1` window of `data` starting at `base`.
#[inline]
#[allow(clippy::too_many_arguments)]
fn interpolate(
    data: &[u8],
    stride: usize,
    base: usize,
    fx: u32,
    fy: u32,
    scale: u32,
    bw: usize,
    bh: usize,
    out: &mut [u8],
) {
    let shift = 2 * scale.trailing_zeros();
    let w = [
        (scale - fx) * (scale - fy),
        fx * (scale - fy),
        (scale - fx) * fy,
        fx * fy,
    ]
    .map(|v| v as u16);
    let full = fx == 0 && fy == 0;
    match bw {
        8 => kernel::<8>(data, stride, base, w, shift, bh, full, out),
        4 => kernel::<4>(data, stride, base, w, shift, bh, full, out),
        _ => kernel::<2>(data, stride, base, w, shift, bh, full, out),
    }
}

/// Asks the cache for rows `y0..y1` of a plane (clamped to it), a line at a time: a hint
/// that changes no result.
#[inline]
pub fn prefetch_band(p: PlaneRef, y0: usize, y1: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        let (a, b) = (y0.min(p.height) * p.width, y1.min(p.height) * p.width);
        for i in (a..b).step_by(64) {
            // SAFETY: `i` is inside the plane, and a prefetch never faults anyway.
            unsafe {
                use std::arch::x86_64::*;
                _mm_prefetch::<_MM_HINT_T1>(p.data.as_ptr().add(i).cast());
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (p, y0, y1);
}

/// A block of samples inside a larger buffer: row `r` starts at `data[r * stride]`.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub data: &'a [u8],
    pub stride: usize,
}

impl<'a> View<'a> {
    /// A whole 8x8 block.
    pub fn of8x8(b: &'a [u8; 64]) -> View<'a> {
        View { data: b, stride: 8 }
    }

    /// An 8-wide row.
    #[inline(always)]
    pub fn row8(&self, r: usize) -> &'a [u8; 8] {
        self.data[r * self.stride..r * self.stride + 8]
            .try_into()
            .expect("8 samples")
    }
}

/// The 8x8 luma prediction at (x, y) moved by a quarter-pel vector, as a view: straight into
/// the reference plane when the vector is whole-pel and the block stays inside (the common
/// case, no copy), else interpolated into `buf`.
#[inline]
pub fn mc_luma8_view<'a>(
    p: PlaneRef<'a>,
    x: usize,
    y: usize,
    mvx: i32,
    mvy: i32,
    buf: &'a mut [u8; 64],
) -> View<'a> {
    let sx = x as i32 + (mvx >> 2);
    let sy = y as i32 + (mvy >> 2);
    if (mvx | mvy) & 3 == 0 && p.inside(sx, sy, 8, 8) {
        let base = sy as usize * p.width + sx as usize;
        return View {
            data: &p.data[base..],
            stride: p.width,
        };
    }
    mc_luma(p, x, y, mvx, mvy, 8, 8, buf);
    View {
        data: &buf[..],
        stride: 8,
    }
}

/// Sum of absolute differences between an 8x8 block and a view.
#[inline]
pub fn sad8x8(cur: &[u8; 64], v: View) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // The last row's bounds, checked once: every other row lies before it.
        let _ = v.row8(7);
        // SAFETY: SSE2 is part of x86_64; the loads stay inside `cur` (64 bytes) and inside
        // `v.data` (row 7 checked above); unaligned loads are used throughout.
        unsafe {
            let mut acc = _mm_setzero_si128();
            for r in (0..8).step_by(2) {
                let c = _mm_loadu_si128(cur.as_ptr().add(r * 8).cast());
                let a = _mm_loadl_epi64(v.data.as_ptr().add(r * v.stride).cast());
                let b = _mm_loadl_epi64(v.data.as_ptr().add((r + 1) * v.stride).cast());
                acc = _mm_add_epi64(acc, _mm_sad_epu8(c, _mm_unpacklo_epi64(a, b)));
            }
            (_mm_cvtsi128_si32(acc) + _mm_cvtsi128_si32(_mm_srli_si128::<8>(acc))) as u32
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    sad8x8_scalar(cur, v)
}

/// [`sad8x8`] in plain arithmetic.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn sad8x8_scalar(cur: &[u8; 64], v: View) -> u32 {
    let mut s = 0u32;
    for r in 0..8 {
        let b = v.row8(r);
        for c in 0..8 {
            s += cur[r * 8 + c].abs_diff(b[c]) as u32;
        }
    }
    s
}

/// `(a + b + 1) >> 1` of two 8x8 views.
#[inline]
pub fn average8x8(a: View, b: View, out: &mut [u8; 64]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        let _ = (a.row8(7), b.row8(7));
        // SAFETY: SSE2 is part of x86_64; rows 0..8 of both views are in bounds (row 7
        // checked above) and the stores stay inside `out` (64 bytes).
        unsafe {
            for r in (0..8).step_by(2) {
                let row =
                    |v: View, r: usize| _mm_loadl_epi64(v.data.as_ptr().add(r * v.stride).cast());
                let x = _mm_unpacklo_epi64(row(a, r), row(a, r + 1));
                let y = _mm_unpacklo_epi64(row(b, r), row(b, r + 1));
                _mm_storeu_si128(out.as_mut_ptr().add(r * 8).cast(), _mm_avg_epu8(x, y));
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    average8x8_scalar(a, b, out)
}

/// [`average8x8`] in plain arithmetic.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn average8x8_scalar(a: View, b: View, out: &mut [u8; 64]) {
    for r in 0..8 {
        let (x, y) = (a.row8(r), b.row8(r));
        for c in 0..8 {
            out[r * 8 + c] = ((x[c] as u16 + y[c] as u16 + 1) >> 1) as u8;
        }
    }
}

/// `(a*(64-w1) + b*w1 + 32) >> 6` of two 8x8 views (`w1` in 1..63: no sum exceeds 16 bits
/// and the result never exceeds 255).
#[inline]
pub fn weighted8x8(a: View, b: View, w1: u32, out: &mut [u8; 64]) {
    let (w0, w1) = ((64 - w1) as u16, w1 as u16);
    for r in 0..8 {
        let (x, y) = (a.row8(r), b.row8(r));
        let o = &mut out[r * 8..r * 8 + 8];
        for c in 0..8 {
            o[c] = ((x[c] as u16 * w0 + y[c] as u16 * w1 + 32) >> 6) as u8;
        }
    }
}

/// Copies a view into an 8x8 block.
#[inline]
pub fn copy8x8(v: View, out: &mut [u8; 64]) {
    for r in 0..8 {
        out[r * 8..r * 8 + 8].copy_from_slice(v.row8(r));
    }
}

/// Luma prediction of the `bw x bh` block at (x, y) moved by a quarter-pel vector.
#[inline]
#[allow(clippy::too_many_arguments)]
pub fn mc_luma(
    p: PlaneRef,
    x: usize,
    y: usize,
    mvx: i32,
    mvy: i32,
    bw: usize,
    bh: usize,
    out: &mut [u8],
) {
    let sx = x as i32 + (mvx >> 2);
    let sy = y as i32 + (mvy >> 2);
    bilinear(
        p,
        sx,
        sy,
        (mvx & 3) as u32,
        (mvy & 3) as u32,
        4,
        bw,
        bh,
        out,
    );
}

/// Chroma prediction (4:2:0) of the `bw x bh` block at chroma (x, y) for a luma
/// quarter-pel vector, which is an eighth-pel chroma vector.
#[inline]
#[allow(clippy::too_many_arguments)]
pub fn mc_chroma(
    p: PlaneRef,
    x: usize,
    y: usize,
    mvx: i32,
    mvy: i32,
    bw: usize,
    bh: usize,
    out: &mut [u8],
) {
    let sx = x as i32 + (mvx >> 3);
    let sy = y as i32 + (mvy >> 3);
    bilinear(
        p,
        sx,
        sy,
        (mvx & 7) as u32,
        (mvy & 7) as u32,
        8,
        bw,
        bh,
        out,
    );
}

/// `(a + b + 1) >> 1` per sample.
#[inline]
pub fn average(a: &[u8], b: &[u8], out: &mut [u8]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = ((x as u32 + y as u32 + 1) >> 1) as u8;
    }
}

/// `(a*(64-w1) + b*w1 + 32) >> 6` per sample.
#[inline]
pub fn weighted(a: &[u8], b: &[u8], w1: u32, out: &mut [u8]) {
    let w0 = 64 - w1;
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = ((x as u32 * w0 + y as u32 * w1 + 32) >> 6).min(255) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_and_half_pel() {
        let data: Vec<u8> = (0..64).map(|i| (i % 8 * 10) as u8).collect();
        let p = PlaneRef {
            data: &data,
            width: 8,
            height: 8,
        };
        let mut out = [0u8; 4];
        mc_luma(p, 2, 2, 4, 0, 2, 2, &mut out);
        assert_eq!(out, [30, 40, 30, 40]);
        mc_luma(p, 2, 2, 2, 0, 2, 2, &mut out);
        assert_eq!(out, [25, 35, 25, 35]);
        // Far outside: edge extension.
        mc_luma(p, 0, 0, -400, -400, 2, 2, &mut out);
        assert_eq!(out, [0, 0, 0, 0]);
        mc_luma(p, 6, 0, 400, 0, 2, 2, &mut out);
        assert_eq!(out, [70, 70, 70, 70]);
    }

    #[test]
    fn vector_kernels_equal_plain_arithmetic() {
        // A pseudo-random plane with extreme values; views at every offset of a 16-wide row.
        let mut state = 0x2545_f491u32;
        let data: Vec<u8> = (0..24 * 12)
            .map(|i| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                match i % 7 {
                    0 => 0,
                    1 => 255,
                    _ => (state >> 16) as u8,
                }
            })
            .collect();
        let cur: [u8; 64] = std::array::from_fn(|i| data[i * 3 % data.len()]);
        for off in 0..16 {
            let a = View {
                data: &data[off..],
                stride: 24,
            };
            let b = View {
                data: &data[24 * 3 + off / 2..],
                stride: 24,
            };
            assert_eq!(sad8x8(&cur, a), sad8x8_scalar(&cur, a));
            let (mut x, mut y) = ([0u8; 64], [0u8; 64]);
            average8x8(a, b, &mut x);
            average8x8_scalar(a, b, &mut y);
            assert_eq!(x, y);
        }
    }
}
