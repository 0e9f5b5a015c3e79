//! Scaling (dequantisation) and inverse transforms (8.5), and the single place
//! where a residual meets its prediction.

use crate::params::ScalingMatrices;
use crate::tables::{norm4, norm8};

/// What the inverse-transform-and-add writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// `clip(pred + residual)`: the normal decode.
    #[default]
    Normal,
    /// `clip(128 + residual)`: the residual picture of the upstream decoder.
    UpstreamResidual,
}

/// Add a residual block to the picture. This is the only function that knows
/// the output mode.
#[inline]
pub fn add_residual(mode: Mode, dst: &mut [u8], off: usize, stride: usize, n: usize, res: &[i32]) {
    for y in 0..n {
        let row = &mut dst[off + y * stride..off + y * stride + n];
        let r = &res[y * n..y * n + n];
        match mode {
            Mode::Normal => {
                for (d, &v) in row.iter_mut().zip(r) {
                    *d = (*d as i32 + v).clamp(0, 255) as u8;
                }
            }
            Mode::UpstreamResidual => {
                for (d, &v) in row.iter_mut().zip(r) {
                    *d = (128 + v).clamp(0, 255) as u8;
                }
            }
        }
    }
}

/// Level scale tables for a slice: LevelScale4x4 for the six 4x4 lists and
/// LevelScale8x8 for the two 8x8 lists, per qP % 6.
pub struct Dequant {
    pub ls4: [[[i32; 16]; 6]; 6],
    pub ls8: [[[i32; 64]; 6]; 2],
}

impl Dequant {
    pub fn new(m: &ScalingMatrices) -> Box<Dequant> {
        let mut d = Box::new(Dequant {
            ls4: [[[0; 16]; 6]; 6],
            ls8: [[[0; 64]; 6]; 2],
        });
        for l in 0..6 {
            for q in 0..6 {
                for p in 0..16 {
                    d.ls4[l][q][p] = m.m4[l][p] as i32 * norm4(q, p);
                }
            }
        }
        for l in 0..2 {
            for q in 0..6 {
                for p in 0..64 {
                    d.ls8[l][q][p] = m.m8[l][p] as i32 * norm8(q, p);
                }
            }
        }
        d
    }

    /// Scale a 4x4 block in place (positions `start..16`).
    pub fn scale4(&self, list: usize, qp: i32, c: &mut [i32], start: usize) {
        let ls = &self.ls4[list][(qp % 6) as usize];
        let sh = qp / 6;
        for p in start..16 {
            if c[p] != 0 {
                c[p] = (((c[p] as i64 * ls[p] as i64) << sh) + 8).wrapping_shr(4) as i32;
            }
        }
    }

    pub fn scale8(&self, list: usize, qp: i32, c: &mut [i32]) {
        let ls = &self.ls8[list][(qp % 6) as usize];
        let sh = qp / 6;
        for p in 0..64 {
            if c[p] != 0 {
                c[p] = (((c[p] as i64 * ls[p] as i64) << sh) + 32).wrapping_shr(6) as i32;
            }
        }
    }

    /// Intra16x16 luma DC: Hadamard transform and scaling; `c` raster 4x4.
    pub fn luma_dc(&self, qp: i32, c: &mut [i32; 16]) {
        let mut t = [0i64; 16];
        for i in 0..4 {
            let r = &c[i * 4..i * 4 + 4];
            let (a, b, cc, d) = (r[0] as i64, r[1] as i64, r[2] as i64, r[3] as i64);
            t[i * 4] = a + b + cc + d;
            t[i * 4 + 1] = a + b - cc - d;
            t[i * 4 + 2] = a - b - cc + d;
            t[i * 4 + 3] = a - b + cc - d;
        }
        let ls = self.ls4[0][(qp % 6) as usize][0] as i64;
        let sh = qp / 6;
        for j in 0..4 {
            let (a, b, cc, d) = (t[j], t[4 + j], t[8 + j], t[12 + j]);
            let f = [
                a + b + cc + d,
                a + b - cc - d,
                a - b - cc + d,
                a - b + cc - d,
            ];
            for i in 0..4 {
                c[i * 4 + j] = (((f[i] * ls) << sh) + 32).wrapping_shr(6) as i32;
            }
        }
    }

    /// Chroma DC (2x2) transform and scaling; `list` is the 4x4 list index.
    pub fn chroma_dc(&self, list: usize, qpc: i32, c: &mut [i32; 4]) {
        let (a, b, cc, d) = (c[0] as i64, c[1] as i64, c[2] as i64, c[3] as i64);
        let f = [
            a + b + cc + d,
            a - b + cc - d,
            a + b - cc - d,
            a - b - cc + d,
        ];
        let ls = self.ls4[list][(qpc % 6) as usize][0] as i64;
        for i in 0..4 {
            c[i] = ((f[i] * ls) << (qpc / 6)).wrapping_shr(5) as i32;
        }
    }
}

/// 4x4 inverse transform; returns the residual (raster).
pub fn idct4(c: &[i32], out: &mut [i32; 16]) {
    let mut t = [0i32; 16];
    for i in 0..4 {
        let d = &c[i * 4..i * 4 + 4];
        let e0 = d[0].wrapping_add(d[2]);
        let e1 = d[0].wrapping_sub(d[2]);
        let e2 = (d[1] >> 1).wrapping_sub(d[3]);
        let e3 = d[1].wrapping_add(d[3] >> 1);
        t[i * 4] = e0.wrapping_add(e3);
        t[i * 4 + 1] = e1.wrapping_add(e2);
        t[i * 4 + 2] = e1.wrapping_sub(e2);
        t[i * 4 + 3] = e0.wrapping_sub(e3);
    }
    for j in 0..4 {
        let (f0, f1, f2, f3) = (t[j], t[4 + j], t[8 + j], t[12 + j]);
        let g0 = f0.wrapping_add(f2);
        let g1 = f0.wrapping_sub(f2);
        let g2 = (f1 >> 1).wrapping_sub(f3);
        let g3 = f1.wrapping_add(f3 >> 1);
        out[j] = g0.wrapping_add(g3).wrapping_add(32) >> 6;
        out[4 + j] = g1.wrapping_add(g2).wrapping_add(32) >> 6;
        out[8 + j] = g1.wrapping_sub(g2).wrapping_add(32) >> 6;
        out[12 + j] = g0.wrapping_sub(g3).wrapping_add(32) >> 6;
    }
}

fn idct8_1d(d: [i32; 8]) -> [i32; 8] {
    let e0 = d[0].wrapping_add(d[4]);
    let e1 = 0i32
        .wrapping_sub(d[3])
        .wrapping_add(d[5])
        .wrapping_sub(d[7])
        .wrapping_sub(d[7] >> 1);
    let e2 = d[0].wrapping_sub(d[4]);
    let e3 = d[1]
        .wrapping_add(d[7])
        .wrapping_sub(d[3])
        .wrapping_sub(d[3] >> 1);
    let e4 = (d[2] >> 1).wrapping_sub(d[6]);
    let e5 = 0i32
        .wrapping_sub(d[1])
        .wrapping_add(d[7])
        .wrapping_add(d[5])
        .wrapping_add(d[5] >> 1);
    let e6 = d[2].wrapping_add(d[6] >> 1);
    let e7 = d[3]
        .wrapping_add(d[5])
        .wrapping_add(d[1])
        .wrapping_add(d[1] >> 1);
    let f0 = e0.wrapping_add(e6);
    let f1 = e1.wrapping_add(e7 >> 2);
    let f2 = e2.wrapping_add(e4);
    let f3 = e3.wrapping_add(e5 >> 2);
    let f4 = e2.wrapping_sub(e4);
    let f5 = (e3 >> 2).wrapping_sub(e5);
    let f6 = e0.wrapping_sub(e6);
    let f7 = e7.wrapping_sub(e1 >> 2);
    [
        f0.wrapping_add(f7),
        f2.wrapping_add(f5),
        f4.wrapping_add(f3),
        f6.wrapping_add(f1),
        f6.wrapping_sub(f1),
        f4.wrapping_sub(f3),
        f2.wrapping_sub(f5),
        f0.wrapping_sub(f7),
    ]
}

/// 8x8 inverse transform; returns the residual (raster).
pub fn idct8(c: &[i32], out: &mut [i32; 64]) {
    let mut t = [0i32; 64];
    for i in 0..8 {
        let mut d = [0i32; 8];
        d.copy_from_slice(&c[i * 8..i * 8 + 8]);
        let r = idct8_1d(d);
        t[i * 8..i * 8 + 8].copy_from_slice(&r);
    }
    for j in 0..8 {
        let mut d = [0i32; 8];
        for i in 0..8 {
            d[i] = t[i * 8 + j];
        }
        let r = idct8_1d(d);
        for i in 0..8 {
            out[i * 8 + j] = r[i].wrapping_add(32) >> 6;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dc_only_idct_is_flat() {
        let mut c = [0i32; 16];
        c[0] = 100;
        let mut o = [0; 16];
        idct4(&c, &mut o);
        assert!(o.iter().all(|&v| v == (100 + 32) >> 6));
        let mut c8 = [0i32; 64];
        c8[0] = 1000;
        let mut o8 = [0; 64];
        idct8(&c8, &mut o8);
        assert!(o8.iter().all(|&v| v == (1000 + 32) >> 6));
    }

    #[test]
    fn residual_mode_ignores_prediction() {
        let mut p = vec![200u8; 16];
        add_residual(Mode::UpstreamResidual, &mut p, 0, 4, 4, &[-3; 16]);
        assert!(p.iter().all(|&v| v == 125));
        let mut p = vec![200u8; 16];
        add_residual(Mode::Normal, &mut p, 0, 4, 4, &[100; 16]);
        assert!(p.iter().all(|&v| v == 255));
    }
}
