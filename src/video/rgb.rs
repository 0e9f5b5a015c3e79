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
    // Exact path, one chroma sample (2x2 luma) at a time, a pair of rows per task. Every
    // table offset plus a luma value stays inside the table (checked in the tests), so no
    // clamping is needed.
    let t = tables();
    let yt = &t.y_table;
    data.par_chunks_mut(2 * w)
        .enumerate()
        .for_each(|(cy, rows)| {
            for cx in 0..cw {
                let c = cy * cw + cx;
                let (u, v) = (f.u[c] as usize, f.v[c] as usize);
                // The three 256-entry windows of the table this chroma sample reads:
                // indexed with a byte, they need no bounds checks.
                let window = |o: i64| -> &[u8; 256] {
                    yt[o as usize..o as usize + 256]
                        .try_into()
                        .expect("256 entries")
                };
                let (r, g, b) = (window(t.rv[v]), window(t.gu[u] + t.gv[v]), window(t.bu[u]));
                for dy in 0..2 {
                    for xx in [2 * cx, 2 * cx + 1] {
                        if xx < w {
                            let y = f.y[(2 * cy + dy) * w + xx] as usize;
                            rows[dy * w + xx] = opencv_luma_swapped([r[y], g[y], b[y]]);
                        }
                    }
                }
            }
        });
    Plane {
        width: w,
        height: f.height,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
