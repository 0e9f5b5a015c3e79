//! The colour round trip upstream's stage 1 applies to the residual picture (SPEC 2.2):
//! swscale's C-path yuv420p to rgb24 (BT.601 limited range, integer tables of
//! `libswscale/yuv2rgb.c`, each chroma sample serving its 2x2 block), then OpenCV's
//! `BGR2YUV` on that data with the channels swapped, whose integer luma is
//! `y = (R*1868 + G*9617 + B*4899 + 8192) >> 14`.

use rayon::prelude::*;
use std::sync::OnceLock;

use super::yuv::YuvFrame;
use crate::analysis::Plane;

const LUMA_HEADROOM: i64 = 512;
const TABLE_PLANE_SIZE: usize = 1024 + 2 * LUMA_HEADROOM as usize;
/// `ff_yuv2rgb_coeffs[SWS_CS_DEFAULT]` (ITU-R BT.601).
const INV_TABLE: [i64; 4] = [104597, 132201, 25675, 53279];

/// The lookup tables swscale builds for 24-bit RGB output from limited-range YUV.
struct Tables {
    y_table: Vec<u8>,
    /// Offsets into `y_table` per chroma value (already including `yoffs`).
    rv: [i64; 256],
    gu: [i64; 256],
    gv: [i64; 256],
    bu: [i64; 256],
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(build_tables)
}

fn clip_u8(x: i64) -> u8 {
    x.clamp(0, 255) as u8
}

/// The luma table's step and the value its entry 0 rounds from: entry `i` is
/// `clip((base + i * step) >> 16)`.
fn luma_line() -> (i64, i64) {
    let cy = ((1i64 << 16) * 255) / 219;
    let oy: i64 = 16 << 16;
    (cy, -(384i64 << 16) - LUMA_HEADROOM * cy - oy + 0x8000)
}

fn build_tables() -> Tables {
    // ff_yuv2rgb_c_init_tables with fullRange = 0, brightness 0, contrast and saturation 1<<16.
    let contrast: i64 = 1 << 16;
    let saturation: i64 = 1 << 16;
    let yoffs: i64 = 326 + LUMA_HEADROOM;
    let mut crv = INV_TABLE[0];
    let mut cbu = INV_TABLE[1];
    let mut cgu = -INV_TABLE[2];
    let mut cgv = -INV_TABLE[3];
    let mut cy: i64 = 1 << 16;
    let oy: i64 = 16 << 16;
    cy = (cy * 255) / 219;
    cy = (cy * contrast) >> 16;
    crv = (crv * contrast * saturation) >> 32;
    cbu = (cbu * contrast * saturation) >> 32;
    cgu = (cgu * contrast * saturation) >> 32;
    cgv = (cgv * contrast * saturation) >> 32;
    let d = cy.max(1);
    crv = ((crv * (1 << 16)) + 0x8000) / d;
    cbu = ((cbu * (1 << 16)) + 0x8000) / d;
    cgu = ((cgu * (1 << 16)) + 0x8000) / d;
    cgv = ((cgv * (1 << 16)) + 0x8000) / d;

    let mut y_table = vec![0u8; TABLE_PLANE_SIZE];
    let mut yb = -(384i64 << 16) - LUMA_HEADROOM * cy - oy;
    for e in y_table.iter_mut() {
        *e = clip_u8((yb + 0x8000) >> 16);
        yb += cy;
    }
    debug_assert_eq!(
        (cy, -(384i64 << 16) - LUMA_HEADROOM * cy - oy + 0x8000),
        luma_line()
    );
    // fill_table: table[c] = y_table + yoffs - (inc >> 9) + ((c * inc) >> 16).
    let fill = |inc: i64| {
        let mut t = [0i64; 256];
        for (c, e) in t.iter_mut().enumerate() {
            *e = yoffs - (inc >> 9) + ((c as i64 * inc) >> 16);
        }
        t
    };
    // fill_gv_table: table[c] = -(inc >> 9) + ((c * inc) >> 16), no base offset.
    let mut gv = [0i64; 256];
    for (c, e) in gv.iter_mut().enumerate() {
        *e = -(cgv >> 9) + ((c as i64 * cgv) >> 16);
    }
    Tables {
        y_table,
        rv: fill(crv),
        gu: fill(cgu),
        gv,
        bu: fill(cbu),
    }
}

#[inline]
fn table_rgb(t: &Tables, y: u8, u: u8, v: u8) -> [u8; 3] {
    let y = y as i64;
    let at = |i: i64| t.y_table[i.clamp(0, TABLE_PLANE_SIZE as i64 - 1) as usize];
    let r = at(t.rv[v as usize] + y);
    let g = at(t.gu[u as usize] + t.gv[v as usize] + y);
    let b = at(t.bu[u as usize] + y);
    [r, g, b]
}

/// OpenCV's integer `BGR2YUV` luma applied to RGB data read as BGR.
#[inline]
pub fn opencv_luma_swapped(rgb: [u8; 3]) -> u8 {
    let (r, g, b) = (rgb[0] as u32, rgb[1] as u32, rgb[2] as u32);
    ((r * 1868 + g * 9617 + b * 4899 + 8192) >> 14) as u8
}

/// swscale's C table converter, yuv420p to rgb24 at the same size (valid for even heights,
/// where swscale uses it; for odd heights swscale runs its general scaler instead).
pub fn yuv420p_to_rgb24_tables(f: &YuvFrame) -> Vec<u8> {
    let t = tables();
    let cw = f.chroma_width();
    let mut out = vec![0u8; f.width * f.height * 3];
    for yy in 0..f.height {
        let crow = (yy / 2) * cw;
        for xx in 0..f.width {
            let c = crow + xx / 2;
            let px = table_rgb(t, f.y[yy * f.width + xx], f.u[c], f.v[c]);
            out[(yy * f.width + xx) * 3..][..3].copy_from_slice(&px);
        }
    }
    out
}

/// A float BT.601 limited-range conversion (used where swscale's exact path is not
/// reproduced, i.e. odd heights): close, not bit-exact.
fn float_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let yf = 1.164_383_6 * (y as f64 - 16.0);
    let uf = u as f64 - 128.0;
    let vf = v as f64 - 128.0;
    let r = yf + 1.596_026_8 * vf;
    let g = yf - 0.391_762_3 * uf - 0.812_968 * vf;
    let b = yf + 2.017_232_1 * uf;
    let c = |x: f64| x.round().clamp(0.0, 255.0) as u8;
    [c(r), c(g), c(b)]
}

/// Whether [`stage1_luma`] is bit-exact for a picture of this height.
pub fn round_trip_is_exact(height: usize) -> bool {
    height.is_multiple_of(2)
}

/// The luma stage 1 scores for a patched picture: RGB round trip as upstream does it
/// (exact for even heights, a float approximation for odd ones).
pub fn stage1_luma(f: &YuvFrame) -> Plane {
    let (w, cw) = (f.width, f.chroma_width());
    let mut data = vec![0u8; w * f.height];
    if w == 0 {
        return Plane {
            width: w,
            height: f.height,
            data,
        };
    }
    if !round_trip_is_exact(f.height) {
        data.par_chunks_mut(w).enumerate().for_each(|(yy, row)| {
            for (xx, o) in row.iter_mut().enumerate() {
                let c = (yy / 2) * cw + xx / 2;
                *o = opencv_luma_swapped(float_rgb(f.y[yy * w + xx], f.u[c], f.v[c]));
            }
        });
        return Plane {
            width: w,
            height: f.height,
            data,
        };
    }
    let t = tables();
    data.par_chunks_mut(2 * w)
        .enumerate()
        .for_each(|(cy, rows)| exact_row_pair(t, f, cy, rows));
    Plane {
        width: w,
        height: f.height,
        data,
    }
}

/// The exact round trip of the luma rows `2 cy` and `2 cy + 1` (those that exist), which
/// share chroma row `cy`.
fn exact_row_pair(t: &Tables, f: &YuvFrame, cy: usize, rows: &mut [u8]) {
    let (w, cw) = (f.width, f.chroma_width());
    #[cfg(target_arch = "x86_64")]
    let done = linear::row_pair_sse2(linear(), f, cy, rows);
    #[cfg(not(target_arch = "x86_64"))]
    let done = 0;
    // The rest, one chroma sample (2x2 luma) at a time. Every table offset plus a luma
    // value stays inside the table (checked in the tests), so no clamping is needed.
    let yt = &t.y_table;
    for cx in done..cw {
        let c = cy * cw + cx;
        let (u, v) = (f.u[c] as usize, f.v[c] as usize);
        // The three 256-entry windows of the table this chroma sample reads: indexed with
        // a byte, they need no bounds checks.
        let window = |o: i64| -> &[u8; 256] {
            yt[o as usize..o as usize + 256]
                .try_into()
                .expect("256 entries")
        };
        let (r, g, b) = (window(t.rv[v]), window(t.gu[u] + t.gv[v]), window(t.bu[u]));
        for dy in 0..rows.len() / w {
            for xx in [2 * cx, 2 * cx + 1] {
                if xx < w {
                    let y = f.y[(2 * cy + dy) * w + xx] as usize;
                    rows[dy * w + xx] = opencv_luma_swapped([r[y], g[y], b[y]]);
                }
            }
        }
    }
}

/// The luma table in closed form: `y_table[i]` is `clip((base + i * cy) >> 16)`, so each
/// colour channel is `clip((K + y * cy) >> 16)` with `K` fixed by the chroma sample. That
/// takes no table lookups per pixel, so eight pixels go through SSE2 at once.
struct Linear {
    cy: i32,
    /// `K` of red per V, of blue per U; green's is `g_u[U] + g_v[V]`.
    r_v: [i32; 256],
    g_u: [i32; 256],
    g_v: [i32; 256],
    b_u: [i32; 256],
}

fn linear() -> &'static Linear {
    static L: OnceLock<Linear> = OnceLock::new();
    L.get_or_init(|| {
        let (cy, base) = luma_line();
        let t = tables();
        let k = |o: i64| i32::try_from(base + o * cy).expect("offsets fit 32 bits");
        Linear {
            cy: i32::try_from(cy).expect("the luma step fits 32 bits"),
            r_v: t.rv.map(k),
            g_u: t.gu.map(k),
            g_v: t
                .gv
                .map(|o| i32::try_from(o * cy).expect("offsets fit 32 bits")),
            b_u: t.bu.map(k),
        }
    })
}

#[cfg(target_arch = "x86_64")]
mod linear {
    use super::{Linear, YuvFrame};
    use std::arch::x86_64::*;

    /// Rows `2 cy` and `2 cy + 1` (those that exist) for the chroma samples `0..n`, four
    /// at a time while each has two luma columns; returns `n`.
    pub(super) fn row_pair_sse2(l: &Linear, f: &YuvFrame, cy: usize, rows: &mut [u8]) -> usize {
        let (w, cw) = (f.width, f.chroma_width());
        let n_rows = rows.len() / w;
        let n = (w / 2) / 4 * 4;
        // SAFETY: SSE2 is part of x86_64. For chroma samples cx..cx + 4 (cx + 4 <= n <= w / 2)
        // the loads read luma columns 2 cx..2 cx + 8 <= w of rows that exist (row
        // 2 cy + dy < height for dy < n_rows) and the stores write the same columns of
        // `rows` (n_rows rows of w); chroma reads use checked indexing.
        unsafe {
            let zero = _mm_setzero_si128();
            let cy_lo = _mm_set1_epi32(l.cy & 0xffff);
            let cy_hi = l.cy >> 16;
            let rg = _mm_set_epi16(9617, 1868, 9617, 1868, 9617, 1868, 9617, 1868);
            let b1 = _mm_set_epi16(8192, 4899, 8192, 4899, 8192, 4899, 8192, 4899);
            let ones = _mm_set1_epi16(1);
            let max = _mm_set1_epi16(255);
            for cx in (0..n).step_by(4) {
                let c = cy * cw + cx;
                let (u, v) = (&f.u[c..c + 4], &f.v[c..c + 4]);
                let kr = gather4(&l.r_v, v);
                let kg = _mm_add_epi32(gather4(&l.g_u, u), gather4(&l.g_v, v));
                let kb = gather4(&l.b_u, u);
                // Each chroma sample serves two luma columns.
                let dup = |x: __m128i| (_mm_unpacklo_epi32(x, x), _mm_unpackhi_epi32(x, x));
                let (kr, kg, kb) = (dup(kr), dup(kg), dup(kb));
                for dy in 0..n_rows {
                    let src = f.y.as_ptr().add((2 * cy + dy) * w + 2 * cx);
                    let y16 = _mm_unpacklo_epi8(_mm_loadl_epi64(src.cast()), zero);
                    let y32 = (_mm_unpacklo_epi16(y16, zero), _mm_unpackhi_epi16(y16, zero));
                    // y * cy, with cy split at 16 bits: madd multiplies the low halves.
                    let times_cy = |y: __m128i| {
                        let lo = _mm_madd_epi16(y, cy_lo);
                        _mm_add_epi32(
                            lo,
                            _mm_slli_epi32::<16>(_mm_mullo_epi16(y, _mm_set1_epi32(cy_hi))),
                        )
                    };
                    let ycy = (times_cy(y32.0), times_cy(y32.1));
                    let channel = |k: (__m128i, __m128i)| {
                        let a = _mm_srai_epi32::<16>(_mm_add_epi32(k.0, ycy.0));
                        let b = _mm_srai_epi32::<16>(_mm_add_epi32(k.1, ycy.1));
                        _mm_min_epi16(_mm_max_epi16(_mm_packs_epi32(a, b), zero), max)
                    };
                    let (r, g, b) = (channel(kr), channel(kg), channel(kb));
                    let luma = |rg_pairs: __m128i, b_pairs: __m128i| {
                        let sum = _mm_add_epi32(
                            _mm_madd_epi16(rg_pairs, rg),
                            _mm_madd_epi16(b_pairs, b1),
                        );
                        _mm_srai_epi32::<14>(sum)
                    };
                    let lo = luma(_mm_unpacklo_epi16(r, g), _mm_unpacklo_epi16(b, ones));
                    let hi = luma(_mm_unpackhi_epi16(r, g), _mm_unpackhi_epi16(b, ones));
                    let out = _mm_packus_epi16(_mm_packs_epi32(lo, hi), zero);
                    _mm_storel_epi64(rows.as_mut_ptr().add(dy * w + 2 * cx).cast(), out);
                }
            }
        }
        n
    }

    /// `table[idx[i]]` for i in 0..4, as four lanes.
    #[inline(always)]
    fn gather4(table: &[i32; 256], idx: &[u8]) -> __m128i {
        let at = |i: usize| table[idx[i] as usize];
        // SAFETY: SSE2 is part of x86_64; this only builds a register.
        unsafe { _mm_setr_epi32(at(0), at(1), at(2), at(3)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The closed form equals the tables for every (Y, U, V): 64 pictures of 512x512 whose
    /// chroma samples take every (U, V) pair and whose 2x2 luma blocks take every Y.
    #[test]
    fn closed_form_equals_the_tables() {
        let t = tables();
        let (w, h) = (512usize, 512usize);
        for k in 0..64usize {
            let mut f = YuvFrame::filled(w, h, 0, 0, 0);
            for y in 0..h {
                for x in 0..w {
                    f.y[y * w + x] = ((x & 1) + 2 * (y & 1) + 4 * k) as u8;
                }
            }
            for (c, (u, v)) in f.u.iter_mut().zip(f.v.iter_mut()).enumerate() {
                (*u, *v) = ((c % 256) as u8, (c / 256) as u8);
            }
            let got = stage1_luma(&f);
            for y in 0..h {
                for x in 0..w {
                    let c = (y / 2) * 256 + x / 2;
                    let want = opencv_luma_swapped(table_rgb(t, f.y[y * w + x], f.u[c], f.v[c]));
                    assert_eq!(
                        got.data[y * w + x],
                        want,
                        "Y {} U {} V {}",
                        f.y[y * w + x],
                        f.u[c],
                        f.v[c]
                    );
                }
            }
        }
    }

    /// Widths whose rows end in a partial group of chroma samples or an odd column.
    #[test]
    fn ragged_widths_equal_the_tables() {
        let t = tables();
        for w in [1usize, 2, 7, 8, 9, 15, 16, 17, 31, 33] {
            let h = 6;
            let mut f = YuvFrame::filled(w, h, 0, 0, 0);
            for (i, y) in f.y.iter_mut().enumerate() {
                *y = (i * 37 % 256) as u8;
            }
            let cw = f.chroma_width();
            for (i, (u, v)) in f.u.iter_mut().zip(f.v.iter_mut()).enumerate() {
                (*u, *v) = ((i * 53 % 256) as u8, (i * 91 % 256) as u8);
            }
            let got = stage1_luma(&f);
            for y in 0..h {
                for x in 0..w {
                    let c = (y / 2) * cw + x / 2;
                    let want = opencv_luma_swapped(table_rgb(t, f.y[y * w + x], f.u[c], f.v[c]));
                    assert_eq!(got.data[y * w + x], want, "width {w} at ({x}, {y})");
                }
            }
        }
    }

    #[test]
    fn offsets_stay_in_the_table() {
        let t = tables();
        for c in 0..256 {
            for o in [t.rv[c], t.bu[c]] {
                assert!(o >= 0 && o + 255 < TABLE_PLANE_SIZE as i64);
            }
            for d in 0..256 {
                let o = t.gu[c] + t.gv[d];
                assert!(o >= 0 && o + 255 < TABLE_PLANE_SIZE as i64);
            }
        }
    }

    #[test]
    fn grey_levels() {
        // swscale's C tables map limited-range black to 0 and white to 253 (its luma
        // table is offset), which the fixture confirms bit for bit.
        assert_eq!(table_rgb(tables(), 16, 128, 128), [0, 0, 0]);
        assert_eq!(table_rgb(tables(), 235, 128, 128), [253, 253, 253]);
        // Mid grey with neutral chroma is grey.
        let g = table_rgb(tables(), 128, 128, 128);
        assert_eq!(g[0], g[1]);
        assert_eq!(g[1], g[2]);
    }
}
