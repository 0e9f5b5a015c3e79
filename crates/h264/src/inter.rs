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
    const S: usize = 21;
    if fx == 0
        && fy == 0
        && x >= 0
        && y >= 0
        && x as usize + w <= p.width
        && y as usize + h <= p.height
    {
        for j in 0..h {
            let o = (y as usize + j) * p.stride + x as usize;
            out[j * w..j * w + w].copy_from_slice(&p.data[o..o + w]);
        }
        return;
    }
    let ww = w + 5;
    let wh = h + 5;
    // reference window with 2 samples before and 3 after in each direction
    let mut win = [0u8; S * S];
    let (x0, y0) = (x - 2, y - 2);
    if x0 >= 0 && y0 >= 0 && x0 + ww as i32 <= p.width as i32 && y0 + wh as i32 <= p.height as i32 {
        for j in 0..wh {
            let o = (y0 as usize + j) * p.stride + x0 as usize;
            win[j * S..j * S + ww].copy_from_slice(&p.data[o..o + ww]);
        }
    } else {
        let maxx = p.width as i32 - 1;
        let maxy = p.height as i32 - 1;
        for j in 0..wh {
            let o = (y0 + j as i32).clamp(0, maxy) as usize * p.stride;
            for i in 0..ww {
                win[j * S + i] = p.data[o + (x0 + i as i32).clamp(0, maxx) as usize];
            }
        }
    }
    let g = |i: usize, j: usize| -> i32 { win[(j + 2) * S + i + 2] as i32 };
    if fx == 0 && fy == 0 {
        for j in 0..h {
            for i in 0..w {
                out[j * w + i] = g(i, j) as u8;
            }
        }
        return;
    }
    let need_b = fx != 0 && fy != 2;
    let need_h = fy != 0 && fx != 2;
    let need_j = (fx == 2 && fy != 0) || (fy == 2 && fx != 0);
    // raw horizontal half-sample values between columns i+2 and i+3 of window row jj
    let mut braw = [0i32; S * 16];
    if need_b || need_j {
        let rows = if need_j { 0..wh } else { 2..h + 4 };
        for jj in rows {
            let r = &win[jj * S..jj * S + ww];
            let dst = &mut braw[jj * 16..jj * 16 + w];
            for (d, t) in dst.iter_mut().zip(r.windows(6)) {
                *d = tap6(
                    t[0] as i32,
                    t[1] as i32,
                    t[2] as i32,
                    t[3] as i32,
                    t[4] as i32,
                    t[5] as i32,
                );
            }
        }
    }
    // clipped vertical half-sample values below sample (i, j), i in 0..=w
    let mut hv = [0u8; 16 * 17];
    if need_h {
        for j in 0..h {
            for i in 0..=w.min(ww - 3) {
                let c = i + 2;
                let v = tap6(
                    win[j * S + c] as i32,
                    win[(j + 1) * S + c] as i32,
                    win[(j + 2) * S + c] as i32,
                    win[(j + 3) * S + c] as i32,
                    win[(j + 4) * S + c] as i32,
                    win[(j + 5) * S + c] as i32,
                );
                hv[j * 17 + i] = clip8((v + 16) >> 5);
            }
        }
    }
    let mut jv = [0u8; 16 * 16];
    if need_j {
        for j in 0..h {
            for i in 0..w {
                let t = |k: usize| braw[(j + k) * 16 + i];
                let v = tap6(t(0), t(1), t(2), t(3), t(4), t(5));
                jv[j * 16 + i] = clip8((v + 512) >> 10);
            }
        }
    }
    let b = |i: usize, j: usize| -> i32 { clip8((braw[(j + 2) * 16 + i] + 16) >> 5) as i32 };
    let hh = |i: usize, j: usize| -> i32 { hv[j * 17 + i] as i32 };
    let jj = |i: usize, j: usize| -> i32 { jv[j * 16 + i] as i32 };
    match (fx, fy) {
        (1, 0) => fill2(out, w, h, &|i, j| (g(i, j) + b(i, j) + 1) >> 1),
        (2, 0) => fill2(out, w, h, &b),
        (3, 0) => fill2(out, w, h, &|i, j| (g(i + 1, j) + b(i, j) + 1) >> 1),
        (0, 1) => fill2(out, w, h, &|i, j| (g(i, j) + hh(i, j) + 1) >> 1),
        (0, 2) => fill2(out, w, h, &hh),
        (0, 3) => fill2(out, w, h, &|i, j| (g(i, j + 1) + hh(i, j) + 1) >> 1),
        (1, 1) => fill2(out, w, h, &|i, j| (b(i, j) + hh(i, j) + 1) >> 1),
        (3, 1) => fill2(out, w, h, &|i, j| (b(i, j) + hh(i + 1, j) + 1) >> 1),
        (1, 3) => fill2(out, w, h, &|i, j| (hh(i, j) + b(i, j + 1) + 1) >> 1),
        (3, 3) => fill2(out, w, h, &|i, j| (hh(i + 1, j) + b(i, j + 1) + 1) >> 1),
        (2, 1) => fill2(out, w, h, &|i, j| (b(i, j) + jj(i, j) + 1) >> 1),
        (2, 3) => fill2(out, w, h, &|i, j| (jj(i, j) + b(i, j + 1) + 1) >> 1),
        (1, 2) => fill2(out, w, h, &|i, j| (hh(i, j) + jj(i, j) + 1) >> 1),
        (3, 2) => fill2(out, w, h, &|i, j| (jj(i, j) + hh(i + 1, j) + 1) >> 1),
        _ => fill2(out, w, h, &jj),
    }
}

/// Chroma prediction of a w x h block at full-sample (x, y) with eighth-sample
/// fraction (fx, fy).
#[allow(clippy::too_many_arguments)]
pub fn chroma(p: Plane, x: i32, y: i32, fx: i32, fy: i32, w: usize, h: usize, out: &mut [u8]) {
    let mut win = [0u8; 9 * 9];
    let (ww, wh) = (w + 1, h + 1);
    // Rows of the (w + 1) x (h + 1) source window: read straight from the
    // plane when it lies inside, else from an edge-clamped copy.
    let (src, stride): (&[u8], usize) = if x >= 0
        && y >= 0
        && x + ww as i32 <= p.width as i32
        && y + wh as i32 <= p.height as i32
    {
        (&p.data[y as usize * p.stride + x as usize..], p.stride)
    } else {
        let maxx = p.width as i32 - 1;
        let maxy = p.height as i32 - 1;
        for j in 0..wh {
            let o = (y + j as i32).clamp(0, maxy) as usize * p.stride;
            for i in 0..ww {
                win[j * 9 + i] = p.data[o + (x + i as i32).clamp(0, maxx) as usize];
            }
        }
        (&win[..], 9)
    };
    // weights sum to 64, so every intermediate fits in u16
    let a = ((8 - fx) * (8 - fy)) as u16;
    let b = (fx * (8 - fy)) as u16;
    let c = ((8 - fx) * fy) as u16;
    let d = (fx * fy) as u16;
    for (j, orow) in out[..w * h].chunks_exact_mut(w).enumerate() {
        let r0 = &src[j * stride..j * stride + ww];
        let r1 = &src[(j + 1) * stride..(j + 1) * stride + ww];
        let (r0a, r0b) = (&r0[..w], &r0[1..]);
        let (r1a, r1b) = (&r1[..w], &r1[1..]);
        for i in 0..w {
            let v = a * r0a[i] as u16 + b * r0b[i] as u16 + c * r1a[i] as u16 + d * r1b[i] as u16;
            orow[i] = ((v + 32) >> 6) as u8;
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
    match (p0, p1, wt) {
        (Some(a), None, Weighting::Default) | (None, Some(a), Weighting::Default) => {
            for j in 0..h {
                dst[j * stride..j * stride + w].copy_from_slice(&a[j * w..j * w + w]);
            }
        }
        (Some(a), Some(b), Weighting::Default) => {
            for j in 0..h {
                let row = &mut dst[j * stride..j * stride + w];
                let ra = &a[j * w..j * w + w];
                let rb = &b[j * w..j * w + w];
                for ((d, &x), &y) in row.iter_mut().zip(ra).zip(rb) {
                    *d = ((x as u16 + y as u16 + 1) >> 1) as u8;
                }
            }
        }
        (Some(a), Some(b), Weighting::Weighted { log_wd, w: wts, o }) => {
            let off = (o[0] + o[1] + 1) >> 1;
            let (w0, w1, rnd, sh) = (wts[0], wts[1], 1 << log_wd, log_wd + 1);
            let rows = dst.chunks_mut(stride).take(h);
            for ((row, ra), rb) in rows.zip(a.chunks_exact(w)).zip(b.chunks_exact(w)) {
                for ((d, &x), &y) in row[..w].iter_mut().zip(ra).zip(rb) {
                    *d = clip8(((x as i32 * w0 + y as i32 * w1 + rnd) >> sh) + off);
                }
            }
        }
        (Some(a), None, Weighting::Weighted { log_wd, w: wts, o }) => {
            single(dst, stride, a, w, h, log_wd, wts[0], o[0])
        }
        (None, Some(b), Weighting::Weighted { log_wd, w: wts, o }) => {
            single(dst, stride, b, w, h, log_wd, wts[1], o[1])
        }
        (None, None, _) => {}
    }
}

#[inline(always)]
fn fill2<F: Fn(usize, usize) -> i32 + ?Sized>(out: &mut [u8], w: usize, h: usize, f: &F) {
    for j in 0..h {
        for i in 0..w {
            out[j * w + i] = f(i, j) as u8;
        }
    }
}

/// Explicit weighting of one prediction (8-270):
/// `((p * w + 2^(log_wd - 1)) >> log_wd) + o`, or `p * w + o` when log_wd is 0.
fn single(
    dst: &mut [u8],
    stride: usize,
    p: &[u8],
    w: usize,
    h: usize,
    log_wd: i32,
    wt: i32,
    o: i32,
) {
    let rnd = if log_wd >= 1 { 1 << (log_wd - 1) } else { 0 };
    for (row, rp) in dst.chunks_mut(stride).take(h).zip(p.chunks_exact(w)) {
        for (d, &x) in row[..w].iter_mut().zip(rp) {
            *d = clip8(((x as i32 * wt + rnd) >> log_wd) + o);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_sample_and_edge_clamping() {
        let data: Vec<u8> = (0..64).map(|v| v as u8).collect();
        let p = Plane {
            data: &data,
            stride: 8,
            width: 8,
            height: 8,
        };
        let mut out = [0u8; 16];
        luma(p, 2, 2, 0, 0, 4, 4, &mut out);
        assert_eq!(&out[..4], &[18, 19, 20, 21]);
        // far outside: every sample is the nearest corner
        luma(p, -20, -20, 2, 2, 4, 4, &mut out);
        assert!(out.iter().all(|&v| v == 0));
        let mut c = [0u8; 4];
        chroma(p, 100, 100, 3, 5, 2, 2, &mut c);
        assert!(c.iter().all(|&v| v == 63));
    }

    #[test]
    fn half_sample_of_flat_area_is_flat() {
        let data = vec![77u8; 32 * 32];
        let p = Plane {
            data: &data,
            stride: 32,
            width: 32,
            height: 32,
        };
        for fx in 0..4 {
            for fy in 0..4 {
                let mut out = [0u8; 64];
                luma(p, 5, 7, fx, fy, 8, 8, &mut out);
                assert!(out.iter().all(|&v| v == 77), "({fx},{fy})");
            }
        }
    }
}
