//! Inter prediction (8.4.2): fractional sample interpolation and weighting.

/// One reference plane.
#[derive(Clone, Copy)]
pub struct Plane<'a> {
    pub data: &'a [u8],
    pub stride: usize,
    pub width: usize,
    pub height: usize,
}

#[inline]
fn tap6(a: i32, b: i32, c: i32, d: i32, e: i32, f: i32) -> i32 {
    a - 5 * b + 20 * c + 20 * d - 5 * e + f
}

#[inline]
fn clip8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// Luma prediction of a w x h block whose top-left full-sample position is
/// (x, y) (may lie outside the picture) with quarter-sample fraction (fx, fy).
#[allow(clippy::too_many_arguments)]
pub fn luma(p: Plane, x: i32, y: i32, fx: i32, fy: i32, w: usize, h: usize, out: &mut [u8]) {
    const PAD: usize = 2;
    let ww = w + 5;
    let wh = h + 5;
    let mut win = [0i32; 21 * 21];
    let maxx = p.width as i32 - 1;
    let maxy = p.height as i32 - 1;
    for j in 0..wh {
        let sy = (y + j as i32 - PAD as i32).clamp(0, maxy) as usize * p.stride;
        for i in 0..ww {
            let sx = (x + i as i32 - PAD as i32).clamp(0, maxx) as usize;
            win[j * ww + i] = p.data[sy + sx] as i32;
        }
    }
    let g = |i: usize, j: usize| -> i32 { win[(j + PAD) * ww + i + PAD] };
    // raw horizontal half-sample value between (i, j) and (i+1, j); j may be -2..h+2
    let b1 = |i: usize, jj: usize| -> i32 {
        let r = jj * ww + i + PAD;
        tap6(
            win[r - 2],
            win[r - 1],
            win[r],
            win[r + 1],
            win[r + 2],
            win[r + 3],
        )
    };
    let h1 = |ii: usize, j: usize| -> i32 {
        let c = ii;
        let r = |k: usize| win[(j + k) * ww + c];
        tap6(r(0), r(1), r(2), r(3), r(4), r(5))
    };
    for j in 0..h {
        for i in 0..w {
            let gv = || g(i, j);
            let bv = |dj: usize| clip8((b1(i, j + PAD + dj) + 16) >> 5) as i32;
            let hv = |di: usize| clip8((h1(i + PAD + di, j) + 16) >> 5) as i32;
            let jv = || {
                let t = |k: usize| b1(i, j + k);
                let v = tap6(t(0), t(1), t(2), t(3), t(4), t(5));
                clip8((v + 512) >> 10) as i32
            };
            let v = match (fx, fy) {
                (0, 0) => gv(),
                (1, 0) => (gv() + bv(0) + 1) >> 1,
                (2, 0) => bv(0),
                (3, 0) => (g(i + 1, j) + bv(0) + 1) >> 1,
                (0, 1) => (gv() + hv(0) + 1) >> 1,
                (0, 2) => hv(0),
                (0, 3) => (g(i, j + 1) + hv(0) + 1) >> 1,
                (1, 1) => (bv(0) + hv(0) + 1) >> 1,
                (3, 1) => (bv(0) + hv(1) + 1) >> 1,
                (1, 3) => (hv(0) + bv(1) + 1) >> 1,
                (3, 3) => (hv(1) + bv(1) + 1) >> 1,
                (2, 1) => (bv(0) + jv() + 1) >> 1,
                (2, 3) => (jv() + bv(1) + 1) >> 1,
                (1, 2) => (hv(0) + jv() + 1) >> 1,
                (3, 2) => (jv() + hv(1) + 1) >> 1,
                _ => jv(),
            };
            out[j * w + i] = v as u8;
        }
    }
}

/// Chroma prediction of a w x h block at full-sample (x, y) with eighth-sample
/// fraction (fx, fy).
#[allow(clippy::too_many_arguments)]
pub fn chroma(p: Plane, x: i32, y: i32, fx: i32, fy: i32, w: usize, h: usize, out: &mut [u8]) {
    let maxx = p.width as i32 - 1;
    let maxy = p.height as i32 - 1;
    let s = |i: i32, j: i32| -> i32 {
        p.data[j.clamp(0, maxy) as usize * p.stride + i.clamp(0, maxx) as usize] as i32
    };
    for j in 0..h as i32 {
        for i in 0..w as i32 {
            let (xx, yy) = (x + i, y + j);
            let v = ((8 - fx) * (8 - fy) * s(xx, yy)
                + fx * (8 - fy) * s(xx + 1, yy)
                + (8 - fx) * fy * s(xx, yy + 1)
                + fx * fy * s(xx + 1, yy + 1)
                + 32)
                >> 6;
            out[(j * w as i32 + i) as usize] = v as u8;
        }
    }
}

/// Weighting of one or two predictions.
#[derive(Clone, Copy, Debug)]
pub enum Weighting {
    /// Plain copy / rounded average.
    Default,
    /// Explicit or implicit weights: log2 denominator, (w0, o0), (w1, o1).
    Weighted {
        log_wd: i32,
        w: [i32; 2],
        o: [i32; 2],
    },
}

/// Combine predictions into `dst` (w x h, with stride).
#[allow(clippy::too_many_arguments)]
pub fn combine(
    dst: &mut [u8],
    stride: usize,
    p0: Option<&[u8]>,
    p1: Option<&[u8]>,
    w: usize,
    h: usize,
    wt: Weighting,
) {
    for j in 0..h {
        for i in 0..w {
            let k = j * w + i;
            let v = match (p0, p1, wt) {
                (Some(a), Some(b), Weighting::Default) => (a[k] as i32 + b[k] as i32 + 1) >> 1,
                (Some(a), None, Weighting::Default) | (None, Some(a), Weighting::Default) => {
                    a[k] as i32
                }
                (Some(a), Some(b), Weighting::Weighted { log_wd, w, o }) => {
                    ((a[k] as i32 * w[0] + b[k] as i32 * w[1] + (1 << log_wd)) >> (log_wd + 1))
                        + ((o[0] + o[1] + 1) >> 1)
                }
                (Some(a), None, Weighting::Weighted { log_wd, w, o }) => {
                    single(a[k], log_wd, w[0], o[0])
                }
                (None, Some(b), Weighting::Weighted { log_wd, w, o }) => {
                    single(b[k], log_wd, w[1], o[1])
                }
                (None, None, _) => 0,
            };
            dst[j * stride + i] = clip8(v);
        }
    }
}

#[inline]
fn single(p: u8, log_wd: i32, w: i32, o: i32) -> i32 {
    if log_wd >= 1 {
        ((p as i32 * w + (1 << (log_wd - 1))) >> log_wd) + o
    } else {
        p as i32 * w + o
    }
}
