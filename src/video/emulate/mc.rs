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

/// Bilinear interpolation of a `bw x bh` block whose top-left full-pel sample is (x, y),
/// with fractional offsets `fx, fy` in units of `1/scale` (`scale` = 4 for luma quarter
/// pels, 8 for chroma eighth pels); rounds to nearest.
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
    let shift = 2 * scale.trailing_zeros();
    let round = 1u32 << (shift - 1);
    let (wa, wb, wc, wd) = (
        (scale - fx) * (scale - fy),
        fx * (scale - fy),
        (scale - fx) * fy,
        fx * fy,
    );
    if p.inside(x, y, bw, bh) {
        let stride = p.width;
        let base = y as usize * stride + x as usize;
        if fx == 0 && fy == 0 {
            for r in 0..bh {
                out[r * bw..(r + 1) * bw]
                    .copy_from_slice(&p.data[base + r * stride..base + r * stride + bw]);
            }
            return;
        }
        for r in 0..bh {
            let row0 = &p.data[base + r * stride..base + r * stride + bw + 1];
            let row1 = &p.data[base + (r + 1) * stride..base + (r + 1) * stride + bw + 1];
            let o = &mut out[r * bw..(r + 1) * bw];
            for c in 0..bw {
                let v = wa * row0[c] as u32
                    + wb * row0[c + 1] as u32
                    + wc * row1[c] as u32
                    + wd * row1[c + 1] as u32;
                o[c] = ((v + round) >> shift) as u8;
            }
        }
    } else {
        for r in 0..bh {
            for c in 0..bw {
                let (xx, yy) = (x + c as i32, y + r as i32);
                let v = wa * p.at_clamped(xx, yy)
                    + wb * p.at_clamped(xx + 1, yy)
                    + wc * p.at_clamped(xx, yy + 1)
                    + wd * p.at_clamped(xx + 1, yy + 1);
                out[r * bw + c] = ((v + round) >> shift) as u8;
            }
        }
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
}
