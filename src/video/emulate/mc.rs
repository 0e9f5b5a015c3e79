//! Motion compensation on edge-extended reference planes: bilinear quarter-pel luma and
//! H.264's eighth-pel bilinear chroma, for one small block at a time.

use super::block::copy_rows;

/// A borrowed 8-bit plane; reads outside it repeat the nearest edge sample.
#[derive(Clone, Copy)]
pub struct PlaneRef<'a> {
    pub data: &'a [u8],
    pub width: usize,
    pub height: usize,
}

impl PlaneRef<'_> {
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
    if full {
        return copy_rows::<BW>(data, stride, base, bh, out);
    }
    #[cfg(target_arch = "x86_64")]
    {
        match BW {
            8 => return kernel8_sse2(data, stride, base, w, shift, bh, out),
            4 if bh.is_multiple_of(2) => {
                return kernel_pairs_sse2::<4>(data, stride, base, w, shift, bh, out)
            }
            2 if bh.is_multiple_of(2) => {
                return kernel_pairs_sse2::<2>(data, stride, base, w, shift, bh, out)
            }
            _ => {}
        }
    }
    kernel_scalar::<BW>(data, stride, base, w, shift, bh, out);
}

/// [`kernel`] one sample at a time, for fractional offsets.
#[inline(always)]
fn kernel_scalar<const BW: usize>(
    data: &[u8],
    stride: usize,
    base: usize,
    w: [u16; 4],
    shift: u32,
    bh: usize,
    out: &mut [u8],
) {
    for r in 0..bh {
        let row0 = &data[base + r * stride..];
        let row1 = &data[base + (r + 1) * stride..];
        kernel_row::<BW>(row0, row1, w, shift, &mut out[r * BW..(r + 1) * BW]);
    }
}

/// The bilinear kernel on 16-bit lanes: weights, rounding term and shift as registers.
#[cfg(target_arch = "x86_64")]
struct Sse2Kernel {
    w: [std::arch::x86_64::__m128i; 4],
    round: std::arch::x86_64::__m128i,
    count: std::arch::x86_64::__m128i,
}

#[cfg(target_arch = "x86_64")]
impl Sse2Kernel {
    #[inline(always)]
    fn new(w: [u16; 4], shift: u32) -> Sse2Kernel {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of x86_64; this only builds registers.
        unsafe {
            Sse2Kernel {
                w: w.map(|x| _mm_set1_epi16(x as i16)),
                round: _mm_set1_epi16(1 << (shift - 1)),
                count: _mm_cvtsi32_si128(shift as i32),
            }
        }
    }

    /// `(w0 a + w1 b + w2 c + w3 d + round) >> shift` per lane (top-left, top-right,
    /// bottom-left, bottom-right samples), with 16-bit wrapping arithmetic, packed to bytes
    /// in the low half.
    #[inline(always)]
    fn apply(
        &self,
        a: std::arch::x86_64::__m128i,
        b: std::arch::x86_64::__m128i,
        c: std::arch::x86_64::__m128i,
        d: std::arch::x86_64::__m128i,
    ) -> std::arch::x86_64::__m128i {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of x86_64; register arithmetic only.
        unsafe {
            let [w0, w1, w2, w3] = self.w;
            let top = _mm_add_epi16(_mm_mullo_epi16(w0, a), _mm_mullo_epi16(w1, b));
            let bottom = _mm_add_epi16(_mm_mullo_epi16(w2, c), _mm_mullo_epi16(w3, d));
            let sum = _mm_add_epi16(_mm_add_epi16(top, bottom), self.round);
            _mm_packus_epi16(_mm_srl_epi16(sum, self.count), _mm_setzero_si128())
        }
    }
}

/// [`kernel`] for 8-wide blocks with SSE2, a row at a time: the same 16-bit wrapping
/// products and sums, the same rounding shift.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn kernel8_sse2(
    data: &[u8],
    stride: usize,
    base: usize,
    w: [u16; 4],
    shift: u32,
    bh: usize,
    out: &mut [u8],
) {
    use std::arch::x86_64::*;
    // The window's last sample (row bh, column 8) is the furthest any load reaches.
    assert!(base + bh * stride + 8 < data.len() && out.len() >= bh * 8);
    // SAFETY: SSE2 is part of x86_64. Row r's loads read columns 0..8 and 1..=8 of row r
    // (r <= bh), all at or before the sample checked above; stores write row r < bh of
    // `out`, inside the length checked above. Unaligned loads and stores throughout.
    unsafe {
        let p = data.as_ptr().add(base);
        let zero = _mm_setzero_si128();
        let load = |r: usize, c: usize| {
            _mm_unpacklo_epi8(_mm_loadl_epi64(p.add(r * stride + c).cast()), zero)
        };
        let k = Sse2Kernel::new(w, shift);
        let (mut a0, mut b0) = (load(0, 0), load(0, 1));
        for r in 0..bh {
            let (a1, b1) = (load(r + 1, 0), load(r + 1, 1));
            let v = k.apply(a0, b0, a1, b1);
            _mm_storel_epi64(out.as_mut_ptr().add(r * 8).cast(), v);
            (a0, b0) = (a1, b1);
        }
    }
}

/// [`kernel`] for 2- and 4-wide blocks with SSE2, two output rows at a time (`bh` even):
/// the same 16-bit wrapping products and sums, the same rounding shift.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn kernel_pairs_sse2<const BW: usize>(
    data: &[u8],
    stride: usize,
    base: usize,
    w: [u16; 4],
    shift: u32,
    bh: usize,
    out: &mut [u8],
) {
    use std::arch::x86_64::*;
    const { assert!(BW == 2 || BW == 4) };
    debug_assert!(bh.is_multiple_of(2));
    // The window's last sample (row bh, column BW) is the furthest any load reaches.
    assert!(base + bh * stride + BW < data.len() && out.len() >= bh * BW);
    // SAFETY: SSE2 is part of x86_64. Row r's loads read columns 0..BW and 1..=BW of row r
    // (r <= bh), all at or before the sample checked above; stores write rows r, r + 1 < bh
    // of `out`, inside the length checked above. Unaligned loads and stores throughout.
    unsafe {
        let p = data.as_ptr().add(base);
        let zero = _mm_setzero_si128();
        // Columns c..c + BW of row r, as bytes in the low lanes.
        let load = |r: usize, c: usize| {
            let q = p.add(r * stride + c);
            if BW == 4 {
                _mm_cvtsi32_si128(std::ptr::read_unaligned(q.cast::<i32>()))
            } else {
                _mm_cvtsi32_si128(i32::from(std::ptr::read_unaligned(q.cast::<u16>())))
            }
        };
        // Rows r and r + 1 side by side, widened to 16 bits.
        let pair = |a: __m128i, b: __m128i| {
            let joined = if BW == 4 {
                _mm_unpacklo_epi32(a, b)
            } else {
                _mm_unpacklo_epi16(a, b)
            };
            _mm_unpacklo_epi8(joined, zero)
        };
        let k = Sse2Kernel::new(w, shift);
        let (mut a0, mut b0) = (load(0, 0), load(0, 1));
        for r in (0..bh).step_by(2) {
            let (a1, b1) = (load(r + 1, 0), load(r + 1, 1));
            let (a2, b2) = (load(r + 2, 0), load(r + 2, 1));
            let v = k.apply(pair(a0, a1), pair(b0, b1), pair(a1, a2), pair(b1, b2));
            let o = out.as_mut_ptr().add(r * BW);
            if BW == 4 {
                _mm_storel_epi64(o.cast(), v);
            } else {
                std::ptr::write_unaligned(o.cast::<i32>(), _mm_cvtsi128_si32(v));
            }
            (a0, b0) = (a2, b2);
        }
    }
}

/// Bilinear interpolation of an `N x N` block whose top-left full-pel sample is (x, y),
/// with fractional offsets `fx, fy` in units of `1/scale` (`scale` = 4 for luma quarter
/// pels, 8 for chroma eighth pels); rounds to nearest. `N` is 2, 4 or 8.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn bilinear<const N: usize>(
    p: PlaneRef,
    x: i32,
    y: i32,
    fx: u32,
    fy: u32,
    scale: u32,
    out: &mut [u8],
) {
    if p.inside(x, y, N, N) {
        let base = y as usize * p.width + x as usize;
        interpolate::<N>(p.data, p.width, base, fx, fy, scale, out);
    } else {
        bilinear_outside::<N>(p, x, y, fx, fy, scale, out);
    }
}

/// [`bilinear`] where the window leaves the plane: the edge-extended window is gathered
/// first.
#[cold]
#[inline(never)]
fn bilinear_outside<const N: usize>(
    p: PlaneRef,
    x: i32,
    y: i32,
    fx: u32,
    fy: u32,
    scale: u32,
    out: &mut [u8],
) {
    let mut window = [0u8; 9 * 9];
    let clamp = |v: i32, len: usize| v.clamp(0, len as i32 - 1) as usize;
    // Above or below the plane only (the common case at the top and bottom edges): each
    // window row is nine samples of a plane row, a fixed-size copy.
    let cols_inside = x >= 0 && x as usize + 9 <= p.width;
    let cols: [usize; 9] = std::array::from_fn(|c| clamp(x + c as i32, p.width));
    for r in 0..=N {
        let row = &p.data[clamp(y + r as i32, p.height) * p.width..][..p.width];
        let dst: &mut [u8; 9] = (&mut window[r * 9..r * 9 + 9])
            .try_into()
            .expect("nine samples");
        if cols_inside {
            let x = x as usize;
            *dst = row[x..x + 9].try_into().expect("nine samples");
        } else {
            for c in 0..=N {
                dst[c] = row[cols[c]];
            }
        }
    }
    interpolate::<N>(&window, 9, 0, fx, fy, scale, out);
}

/// The bilinear kernel over an `N+1 x N+1` window of `data` starting at `base` (whole-pel
/// offsets are copies of a width known at compile time).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn interpolate<const N: usize>(
    data: &[u8],
    stride: usize,
    base: usize,
    fx: u32,
    fy: u32,
    scale: u32,
    out: &mut [u8],
) {
    let (w, shift, full) = weights(fx, fy, scale);
    kernel::<N>(data, stride, base, w, shift, N, full, out)
}

/// The bilinear weights of fractional offsets `fx, fy` (units of `1/scale`), the rounding
/// shift, and whether the offset is whole.
#[inline(always)]
fn weights(fx: u32, fy: u32, scale: u32) -> ([u16; 4], u32, bool) {
    let w = [
        (scale - fx) * (scale - fy),
        fx * (scale - fy),
        (scale - fx) * fy,
        fx * fy,
    ]
    .map(|v| v as u16);
    (w, 2 * scale.trailing_zeros(), fx == 0 && fy == 0)
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
#[inline(always)]
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
    mc_luma::<8>(p, x, y, mvx, mvy, buf);
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
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        let _ = (a.row8(7), b.row8(7));
        // SAFETY: SSE2 is part of x86_64; rows 0..8 of both views are in bounds (row 7
        // checked above) and the stores stay inside `out` (64 bytes).
        unsafe {
            let zero = _mm_setzero_si128();
            let (w0, w1) = (_mm_set1_epi16((64 - w1) as i16), _mm_set1_epi16(w1 as i16));
            let round = _mm_set1_epi16(32);
            for r in 0..8 {
                let row = |v: View| {
                    let x = _mm_loadl_epi64(v.data.as_ptr().add(r * v.stride).cast());
                    _mm_unpacklo_epi8(x, zero)
                };
                let sum = _mm_add_epi16(
                    _mm_add_epi16(_mm_mullo_epi16(row(a), w0), _mm_mullo_epi16(row(b), w1)),
                    round,
                );
                let v = _mm_packus_epi16(_mm_srli_epi16::<6>(sum), zero);
                _mm_storel_epi64(out.as_mut_ptr().add(r * 8).cast(), v);
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    weighted8x8_scalar(a, b, w1, out)
}

/// [`weighted8x8`] in plain arithmetic.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn weighted8x8_scalar(a: View, b: View, w1: u32, out: &mut [u8; 64]) {
    let (w0, w1) = ((64 - w1) as u16, w1 as u16);
    for r in 0..8 {
        let (x, y) = (a.row8(r), b.row8(r));
        let o = &mut out[r * 8..r * 8 + 8];
        for c in 0..8 {
            o[c] = ((x[c] as u16 * w0 + y[c] as u16 * w1 + 32) >> 6) as u8;
        }
    }
}

/// Sum of absolute differences over each 4x4 quarter of two 8x8 blocks, quarters in
/// raster order (top left, top right, bottom left, bottom right).
#[inline]
pub fn quarter_sads8x8(a: &[u8; 64], b: &[u8; 64]) -> [u32; 4] {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of x86_64; every load reads 16 of the 64 bytes of an array.
        unsafe {
            // Bytes 0..4 and 8..12 of a pair of rows are left halves, the rest right halves.
            let left = _mm_set_epi32(0, -1, 0, -1);
            let mut out = [0u32; 4];
            for (half, rows) in [0usize, 32].into_iter().enumerate() {
                let (mut l, mut r) = (_mm_setzero_si128(), _mm_setzero_si128());
                for pair in [rows, rows + 16] {
                    let x = _mm_loadu_si128(a.as_ptr().add(pair).cast());
                    let y = _mm_loadu_si128(b.as_ptr().add(pair).cast());
                    let d = _mm_or_si128(_mm_subs_epu8(x, y), _mm_subs_epu8(y, x));
                    let zero = _mm_setzero_si128();
                    l = _mm_add_epi64(l, _mm_sad_epu8(_mm_and_si128(d, left), zero));
                    r = _mm_add_epi64(r, _mm_sad_epu8(_mm_andnot_si128(left, d), zero));
                }
                let total = |v: __m128i| {
                    (_mm_cvtsi128_si32(v) + _mm_cvtsi128_si32(_mm_srli_si128::<8>(v))) as u32
                };
                out[half * 2] = total(l);
                out[half * 2 + 1] = total(r);
            }
            out
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    quarter_sads8x8_scalar(a, b)
}

/// [`quarter_sads8x8`] in plain arithmetic.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn quarter_sads8x8_scalar(a: &[u8; 64], b: &[u8; 64]) -> [u32; 4] {
    let mut sums = [0u32; 4];
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        sums[(i / 32) * 2 + (i % 8) / 4] += x.abs_diff(y) as u32;
    }
    sums
}

/// `clip(128 + a - b)` per sample of two 8x8 blocks.
#[inline]
pub fn residual8x8(a: &[u8; 64], b: &[u8; 64]) -> [u8; 64] {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        let mut out = [0u8; 64];
        // SAFETY: SSE2 is part of x86_64; loads and stores cover 16 of the 64 bytes of
        // an array each.
        unsafe {
            let zero = _mm_setzero_si128();
            let bias = _mm_set1_epi16(128);
            for i in (0..64).step_by(16) {
                let x = _mm_loadu_si128(a.as_ptr().add(i).cast());
                let y = _mm_loadu_si128(b.as_ptr().add(i).cast());
                // 128 + x - y lies in -127..=383 as a 16-bit value; packing clips it.
                let lo = _mm_sub_epi16(
                    _mm_add_epi16(_mm_unpacklo_epi8(x, zero), bias),
                    _mm_unpacklo_epi8(y, zero),
                );
                let hi = _mm_sub_epi16(
                    _mm_add_epi16(_mm_unpackhi_epi8(x, zero), bias),
                    _mm_unpackhi_epi8(y, zero),
                );
                let v = _mm_packus_epi16(lo, hi);
                _mm_storeu_si128(out.as_mut_ptr().add(i).cast(), v);
            }
        }
        out
    }
    #[cfg(not(target_arch = "x86_64"))]
    residual8x8_scalar(a, b)
}

/// [`residual8x8`] in plain arithmetic.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn residual8x8_scalar(a: &[u8; 64], b: &[u8; 64]) -> [u8; 64] {
    std::array::from_fn(|i| super::intra::residual_sample(a[i], b[i]))
}

/// Copies a view into an 8x8 block.
#[inline]
pub fn copy8x8(v: View, out: &mut [u8; 64]) {
    for r in 0..8 {
        out[r * 8..r * 8 + 8].copy_from_slice(v.row8(r));
    }
}

/// Luma prediction of the `N x N` block at (x, y) moved by a quarter-pel vector.
#[inline(always)]
pub fn mc_luma<const N: usize>(
    p: PlaneRef,
    x: usize,
    y: usize,
    mvx: i32,
    mvy: i32,
    out: &mut [u8],
) {
    let sx = x as i32 + (mvx >> 2);
    let sy = y as i32 + (mvy >> 2);
    bilinear::<N>(p, sx, sy, (mvx & 3) as u32, (mvy & 3) as u32, 4, out);
}

/// Chroma prediction (4:2:0) of the `N x N` block at chroma (x, y) for a luma quarter-pel
/// vector, which is an eighth-pel chroma vector.
#[inline(always)]
pub fn mc_chroma<const N: usize>(
    p: PlaneRef,
    x: usize,
    y: usize,
    mvx: i32,
    mvy: i32,
    out: &mut [u8],
) {
    let (sx, sy, fx, fy) = chroma_offset(x, y, mvx, mvy);
    bilinear::<N>(p, sx, sy, fx, fy, 8, out);
}

/// Where a luma quarter-pel vector moves chroma sample (x, y): the whole-sample position
/// and the eighth-sample fractions.
#[inline(always)]
fn chroma_offset(x: usize, y: usize, mvx: i32, mvy: i32) -> (i32, i32, u32, u32) {
    let sx = x as i32 + (mvx >> 3);
    let sy = y as i32 + (mvy >> 3);
    (sx, sy, (mvx & 7) as u32, (mvy & 7) as u32)
}

/// [`mc_chroma`] for the same block of both chroma planes (`u` and `v` have one size): the
/// offset, weights and edge test are worked out once.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn mc_chroma_uv<const N: usize>(
    u: PlaneRef,
    v: PlaneRef,
    x: usize,
    y: usize,
    mvx: i32,
    mvy: i32,
    out_u: &mut [u8],
    out_v: &mut [u8],
) {
    debug_assert_eq!((u.width, u.height), (v.width, v.height));
    let (sx, sy, fx, fy) = chroma_offset(x, y, mvx, mvy);
    if u.inside(sx, sy, N, N) && v.inside(sx, sy, N, N) {
        let (w, shift, full) = weights(fx, fy, 8);
        let base = sy as usize * u.width + sx as usize;
        kernel::<N>(u.data, u.width, base, w, shift, N, full, out_u);
        kernel::<N>(v.data, v.width, base, w, shift, N, full, out_v);
    } else {
        bilinear_outside::<N>(u, sx, sy, fx, fy, 8, out_u);
        bilinear_outside::<N>(v, sx, sy, fx, fy, 8, out_v);
    }
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
        mc_luma::<2>(p, 2, 2, 4, 0, &mut out);
        assert_eq!(out, [30, 40, 30, 40]);
        mc_luma::<2>(p, 2, 2, 2, 0, &mut out);
        assert_eq!(out, [25, 35, 25, 35]);
        // Far outside: edge extension.
        mc_luma::<2>(p, 0, 0, -400, -400, &mut out);
        assert_eq!(out, [0, 0, 0, 0]);
        mc_luma::<2>(p, 6, 0, 400, 0, &mut out);
        assert_eq!(out, [70, 70, 70, 70]);
    }

    /// Windows that leave the plane on any side, by a little or entirely, equal a plain
    /// bilinear over edge-clamped samples, for every block size, fraction and scale.
    #[test]
    fn edge_extension_equals_clamped_samples() {
        fn check<const N: usize>(p: PlaneRef, scale: u32) {
            let at = |x: i32, y: i32| {
                let (cx, cy) = (
                    x.clamp(0, p.width as i32 - 1) as usize,
                    y.clamp(0, p.height as i32 - 1) as usize,
                );
                u32::from(p.data[cy * p.width + cx])
            };
            let shift = 2 * scale.trailing_zeros();
            for y in -(N as i32) - 3..p.height as i32 + 3 {
                for x in -(N as i32) - 3..p.width as i32 + 3 {
                    for (fx, fy) in [(0, 0), (1, 0), (0, scale - 1), (scale / 2, 1), (3, 3)] {
                        let mut out = [0u8; 64];
                        bilinear::<N>(p, x, y, fx, fy, scale, &mut out);
                        for r in 0..N {
                            for c in 0..N {
                                let (xx, yy) = (x + c as i32, y + r as i32);
                                let v = (scale - fx) * (scale - fy) * at(xx, yy)
                                    + fx * (scale - fy) * at(xx + 1, yy)
                                    + (scale - fx) * fy * at(xx, yy + 1)
                                    + fx * fy * at(xx + 1, yy + 1);
                                let want = (v + (1 << shift >> 1)) >> shift;
                                assert_eq!(
                                    u32::from(out[r * N + c]),
                                    want,
                                    "{N}x{N} at ({x}, {y}) + ({fx}, {fy})/{scale}, sample ({c}, {r})"
                                );
                            }
                        }
                    }
                }
            }
        }
        let mut next = crate::testing::xorshift32(0x2545_f491);
        for (w, h) in [(13, 7), (4, 4), (1, 3)] {
            let data: Vec<u8> = (0..w * h).map(|_| (next() >> 24) as u8).collect();
            let p = PlaneRef {
                data: &data,
                width: w,
                height: h,
            };
            for scale in [4, 8] {
                check::<2>(p, scale);
                check::<4>(p, scale);
                check::<8>(p, scale);
            }
        }
    }

    /// The SSE2 kernels equal the scalar one at every fractional offset of both scales,
    /// on extreme and pseudo-random samples, with the window ending on the buffer's last
    /// sample.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn sse2_kernel_equals_scalar() {
        let mut state = 0x9e37_79b9u32;
        let (stride, rows) = (13, 9);
        let data: Vec<u8> = (0..stride * rows)
            .map(|i| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                match i % 5 {
                    0 => 0,
                    1 => 255,
                    _ => (state >> 16) as u8,
                }
            })
            .collect();
        for scale in [4u32, 8] {
            for fy in 0..scale {
                for fx in 0..scale {
                    if fx == 0 && fy == 0 {
                        continue;
                    }
                    let (w, shift, _) = weights(fx, fy, scale);
                    for bh in [2, 4, 8] {
                        // Last sample of the window = last sample of `data`.
                        let base8 = data.len() - 1 - bh * stride - 8;
                        let base4 = data.len() - 1 - bh * stride - 4;
                        let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
                        kernel8_sse2(&data, stride, base8, w, shift, bh, &mut a);
                        kernel_scalar::<8>(&data, stride, base8, w, shift, bh, &mut b);
                        assert_eq!(a, b, "8 wide, scale {scale}, ({fx}, {fy}), {bh} rows");
                        for base in [0, 1, base4] {
                            let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
                            kernel_pairs_sse2::<4>(&data, stride, base, w, shift, bh, &mut a);
                            kernel_scalar::<4>(&data, stride, base, w, shift, bh, &mut b);
                            assert_eq!(a, b, "4 wide at {base}, scale {scale}, ({fx}, {fy})");
                        }
                        let base2 = data.len() - 1 - bh * stride - 2;
                        for base in [0, 3, base2] {
                            let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
                            kernel_pairs_sse2::<2>(&data, stride, base, w, shift, bh, &mut a);
                            kernel_scalar::<2>(&data, stride, base, w, shift, bh, &mut b);
                            assert_eq!(a, b, "2 wide at {base}, scale {scale}, ({fx}, {fy})");
                        }
                    }
                }
            }
        }
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
            for w1 in [1, 17, 31, 33, 63] {
                weighted8x8(a, b, w1, &mut x);
                weighted8x8_scalar(a, b, w1, &mut y);
                assert_eq!(x, y, "weight {w1}");
            }
            let (mut p, mut q) = ([0u8; 64], [0u8; 64]);
            copy8x8(a, &mut p);
            copy8x8(b, &mut q);
            assert_eq!(quarter_sads8x8(&p, &q), quarter_sads8x8_scalar(&p, &q));
            assert_eq!(residual8x8(&p, &q), residual8x8_scalar(&p, &q));
            assert_eq!(residual8x8(&q, &p), residual8x8_scalar(&q, &p));
        }
        // Extremes: every difference saturates one way or the other.
        let (zeros, full) = ([0u8; 64], [255u8; 64]);
        assert_eq!(quarter_sads8x8(&zeros, &full), [16 * 255; 4]);
        assert_eq!(
            residual8x8(&zeros, &full),
            residual8x8_scalar(&zeros, &full)
        );
        assert_eq!(
            residual8x8(&full, &zeros),
            residual8x8_scalar(&full, &zeros)
        );
    }
}
