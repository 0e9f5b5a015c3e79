//! Inter prediction (8.4.2): fractional sample interpolation and weighting.

/// One reference plane.
#[derive(Clone, Copy)]
pub struct Plane<'a> {
    pub data: &'a [u8],
    pub stride: usize,
    pub width: usize,
    pub height: usize,
}

#[inline(always)]
fn tap6(a: i32, b: i32, c: i32, d: i32, e: i32, f: i32) -> i32 {
    a - 5 * b + 20 * c + 20 * d - 5 * e + f
}

/// The 6-tap filter on samples, in 16 bits (the result is in -2550..=10710).
#[inline(always)]
fn tap6_16(a: u8, b: u8, c: u8, d: u8, e: u8, f: u8) -> i16 {
    let [a, b, c, d, e, f] = [a, b, c, d, e, f].map(i16::from);
    (a + f) - 5 * (b + e) + 20 * (c + d)
}

#[inline]
fn clip8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// Edge of the largest luma window: a 16x16 block with 2 samples before and
/// 3 after it in each direction.
const WIN: usize = 21;

/// `W` samples of `s` from `o` as a fixed-size array reference, so that the
/// loops over it need no bounds checks.
#[inline(always)]
fn row<const W: usize>(s: &[u8], o: usize) -> &[u8; W] {
    s[o..o + W].try_into().unwrap()
}

/// One of the sample arrays that quarter-sample positions average (8.4.2.2.1):
/// full samples shifted by (dx, dy), horizontal half samples `b` shifted down
/// by dy, vertical half samples `h` shifted right by dx, centre samples `j`.
#[derive(Clone, Copy)]
enum Src {
    Full(usize, usize),
    Hor(usize),
    Ver(usize),
    Centre,
}

/// The one or two arrays whose rounded average gives position (fx, fy).
fn sources(fx: i32, fy: i32) -> (Src, Option<Src>) {
    use Src::*;
    match (fx, fy) {
        (0, 0) => (Full(0, 0), None),
        (1, 0) => (Full(0, 0), Some(Hor(0))),
        (2, 0) => (Hor(0), None),
        (3, 0) => (Full(1, 0), Some(Hor(0))),
        (0, 1) => (Full(0, 0), Some(Ver(0))),
        (0, 2) => (Ver(0), None),
        (0, 3) => (Full(0, 1), Some(Ver(0))),
        (1, 1) => (Hor(0), Some(Ver(0))),
        (3, 1) => (Hor(0), Some(Ver(1))),
        (1, 3) => (Hor(1), Some(Ver(0))),
        (3, 3) => (Hor(1), Some(Ver(1))),
        (2, 1) => (Hor(0), Some(Centre)),
        (2, 3) => (Hor(1), Some(Centre)),
        (1, 2) => (Ver(0), Some(Centre)),
        (3, 2) => (Ver(1), Some(Centre)),
        _ => (Centre, None),
    }
}

/// Luma samples around a block: sample (i, j) of the block is
/// `data[base + j * stride + i]`, with 2 samples before and 3 after the block
/// readable in each direction.
#[derive(Clone, Copy)]
struct Window<'a> {
    data: &'a [u8],
    stride: usize,
    base: usize,
}

impl Window<'_> {
    /// Unrounded horizontal 6-tap values of row j (j may be -2..h+3).
    /// They lie in -2550..=10710, so 16-bit lanes hold them (twice as many
    /// per vector as 32-bit ones).
    #[inline(always)]
    fn hor_raw<const W: usize>(&self, j: isize) -> [i16; W] {
        let o = (self.base as isize + j * self.stride as isize) as usize - 2;
        let r = &self.data[o..o + W + 5];
        let t: [&[u8; W]; 6] = [
            row(r, 0),
            row(r, 1),
            row(r, 2),
            row(r, 3),
            row(r, 4),
            row(r, 5),
        ];
        let mut v = [0i16; W];
        for i in 0..W {
            let [a, b, c, d, e, f] = [t[0][i], t[1][i], t[2][i], t[3][i], t[4][i], t[5][i]];
            v[i] = tap6_16(a, b, c, d, e, f);
        }
        v
    }

    /// Row j of one source array.
    #[inline(always)]
    fn src_row<const W: usize>(&self, s: Src, j: usize, centre: &[[i16; W]]) -> [u8; W] {
        match s {
            Src::Full(dx, dy) => *row(self.data, self.base + (j + dy) * self.stride + dx),
            Src::Hor(dy) => self
                .hor_raw::<W>((j + dy) as isize)
                .map(|v| ((v + 16) >> 5).clamp(0, 255) as u8),
            Src::Ver(dx) => {
                let o = self.base + dx + j * self.stride - 2 * self.stride;
                let s = self.stride;
                let t: [&[u8; W]; 6] = [
                    row(self.data, o),
                    row(self.data, o + s),
                    row(self.data, o + 2 * s),
                    row(self.data, o + 3 * s),
                    row(self.data, o + 4 * s),
                    row(self.data, o + 5 * s),
                ];
                let mut v = [0u8; W];
                for i in 0..W {
                    let [a, b, c, d, e, f] = [t[0][i], t[1][i], t[2][i], t[3][i], t[4][i], t[5][i]];
                    let s = tap6_16(a, b, c, d, e, f);
                    v[i] = ((s + 16) >> 5).clamp(0, 255) as u8;
                }
                v
            }
            Src::Centre => {
                let t: &[[i16; W]; 6] = centre[j..j + 6].try_into().unwrap();
                let mut v = [0u8; W];
                for i in 0..W {
                    let [a, b, c, d, e, f] = [t[0][i], t[1][i], t[2][i], t[3][i], t[4][i], t[5][i]];
                    let s = tap6(a as i32, b as i32, c as i32, d as i32, e as i32, f as i32);
                    v[i] = clip8((s + 512) >> 10);
                }
                v
            }
        }
    }

    /// Prediction of a W x h block at quarter-sample fraction (fx, fy) into
    /// `out` (row stride `os`).
    #[inline(always)]
    fn predict<const W: usize>(&self, fx: i32, fy: i32, h: usize, out: &mut [u8], os: usize) {
        let (a, b) = sources(fx, fy);
        // unrounded horizontal values of rows -2..h+3 for the centre samples
        let mut centre = [[0i16; W]; WIN];
        if matches!(a, Src::Centre) || matches!(b, Some(Src::Centre)) {
            for (j, c) in centre[..h + 5].iter_mut().enumerate() {
                *c = self.hor_raw::<W>(j as isize - 2);
            }
        }
        for j in 0..h {
            let d: &mut [u8; W] = (&mut out[j * os..j * os + W]).try_into().unwrap();
            let ra = self.src_row::<W>(a, j, &centre);
            match b {
                None => *d = ra,
                Some(b) => {
                    let rb = self.src_row::<W>(b, j, &centre);
                    for i in 0..W {
                        d[i] = ((ra[i] as u16 + rb[i] as u16 + 1) >> 1) as u8;
                    }
                }
            }
        }
    }
}

/// Luma prediction of a w x h block (w = 4, 8 or 16, h <= 16) whose top-left
/// full-sample position is (x, y) (may lie outside the picture) with
/// quarter-sample fraction (fx, fy), into `out` with row stride `os`.
#[allow(clippy::too_many_arguments)]
pub fn luma(
    p: Plane,
    x: i32,
    y: i32,
    fx: i32,
    fy: i32,
    w: usize,
    h: usize,
    out: &mut [u8],
    os: usize,
) {
    // samples the filters reach before and after the block
    let (before, after) = if fx == 0 && fy == 0 { (0, 0) } else { (2, 3) };
    let inside = x >= before
        && y >= before
        && x as usize + w + after <= p.width
        && y as usize + h + after <= p.height;
    let mut buf = [0u8; WIN * WIN];
    let win = if inside {
        Window {
            data: p.data,
            stride: p.stride,
            base: y as usize * p.stride + x as usize,
        }
    } else {
        // edge-clamped copy of the (w + 5) x (h + 5) window
        let maxx = p.width as i32 - 1;
        let maxy = p.height as i32 - 1;
        for j in 0..h + 5 {
            let o = (y - 2 + j as i32).clamp(0, maxy) as usize * p.stride;
            for i in 0..w + 5 {
                buf[j * WIN + i] = p.data[o + (x - 2 + i as i32).clamp(0, maxx) as usize];
            }
        }
        Window {
            data: &buf,
            stride: WIN,
            base: 2 * WIN + 2,
        }
    };
    match w {
        16 => win.predict::<16>(fx, fy, h, out, os),
        8 => win.predict::<8>(fx, fy, h, out, os),
        4 => win.predict::<4>(fx, fy, h, out, os),
        _ => unreachable!("luma block width {w}"),
    }
}

/// Chroma prediction of a w x h block (w = 2, 4 or 8, h <= 8) at full-sample
/// (x, y) with eighth-sample fraction (fx, fy), into `out` with row stride `os`.
#[allow(clippy::too_many_arguments)]
pub fn chroma(
    p: Plane,
    x: i32,
    y: i32,
    fx: i32,
    fy: i32,
    w: usize,
    h: usize,
    out: &mut [u8],
    os: usize,
) {
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
    let wt = [
        ((8 - fx) * (8 - fy)) as u16,
        (fx * (8 - fy)) as u16,
        ((8 - fx) * fy) as u16,
        (fx * fy) as u16,
    ];
    match w {
        8 => chroma_w::<8>(src, stride, wt, h, out, os),
        4 => chroma_w::<4>(src, stride, wt, h, out, os),
        2 => chroma_w::<2>(src, stride, wt, h, out, os),
        _ => unreachable!("chroma block width {w}"),
    }
}

#[inline(always)]
fn chroma_w<const W: usize>(
    src: &[u8],
    stride: usize,
    [a, b, c, d]: [u16; 4],
    h: usize,
    out: &mut [u8],
    os: usize,
) {
    for j in 0..h {
        let r0a: &[u8; W] = row(src, j * stride);
        let r0b: &[u8; W] = row(src, j * stride + 1);
        let r1a: &[u8; W] = row(src, (j + 1) * stride);
        let r1b: &[u8; W] = row(src, (j + 1) * stride + 1);
        let orow: &mut [u8; W] = (&mut out[j * os..j * os + W]).try_into().unwrap();
        for i in 0..W {
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

/// Combine predictions into `dst` (w x h, w = 2, 4, 8 or 16, with stride);
/// the predictions have row stride w.
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
    match w {
        16 => combine_w::<16>(dst, stride, p0, p1, h, wt),
        8 => combine_w::<8>(dst, stride, p0, p1, h, wt),
        4 => combine_w::<4>(dst, stride, p0, p1, h, wt),
        2 => combine_w::<2>(dst, stride, p0, p1, h, wt),
        _ => unreachable!("prediction block width {w}"),
    }
}

/// `combine` for a fixed width, so that the row loops vectorise.
#[inline(always)]
fn combine_w<const W: usize>(
    dst: &mut [u8],
    stride: usize,
    p0: Option<&[u8]>,
    p1: Option<&[u8]>,
    h: usize,
    wt: Weighting,
) {
    let rows = |j: usize| -> (&[u8; W], &[u8; W]) {
        (row(p0.unwrap_or(&[]), j * W), row(p1.unwrap_or(&[]), j * W))
    };
    for j in 0..h {
        let d: &mut [u8; W] = (&mut dst[j * stride..j * stride + W]).try_into().unwrap();
        match (p0, p1, wt) {
            (Some(a), None, Weighting::Default) | (None, Some(a), Weighting::Default) => {
                *d = *row(a, j * W);
            }
            (Some(_), Some(_), Weighting::Default) => {
                let (a, b) = rows(j);
                for i in 0..W {
                    d[i] = ((a[i] as u16 + b[i] as u16 + 1) >> 1) as u8;
                }
            }
            (Some(_), Some(_), Weighting::Weighted { log_wd, w: wts, o }) => {
                let (a, b) = rows(j);
                let off = (o[0] + o[1] + 1) >> 1;
                let (w0, w1, rnd, sh) = (wts[0], wts[1], 1 << log_wd, log_wd + 1);
                for i in 0..W {
                    let v = ((a[i] as i32 * w0 + b[i] as i32 * w1 + rnd) >> sh) + off;
                    d[i] = v.clamp(0, 255) as u8;
                }
            }
            (Some(a), None, Weighting::Weighted { log_wd, w: wts, o }) => {
                single(d, row(a, j * W), log_wd, wts[0], o[0])
            }
            (None, Some(b), Weighting::Weighted { log_wd, w: wts, o }) => {
                single(d, row(b, j * W), log_wd, wts[1], o[1])
            }
            (None, None, _) => {}
        }
    }
}

/// Explicit weighting of one prediction row (8-270):
/// `((p * w + 2^(log_wd - 1)) >> log_wd) + o`, or `p * w + o` when log_wd is 0.
#[inline(always)]
fn single<const W: usize>(d: &mut [u8; W], p: &[u8; W], log_wd: i32, wt: i32, o: i32) {
    let rnd = if log_wd >= 1 { 1 << (log_wd - 1) } else { 0 };
    for i in 0..W {
        d[i] = (((p[i] as i32 * wt + rnd) >> log_wd) + o).clamp(0, 255) as u8;
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
        luma(p, 2, 2, 0, 0, 4, 4, &mut out, 4);
        assert_eq!(&out[..4], &[18, 19, 20, 21]);
        // far outside: every sample is the nearest corner
        luma(p, -20, -20, 2, 2, 4, 4, &mut out, 4);
        assert!(out.iter().all(|&v| v == 0));
        let mut c = [0u8; 4];
        chroma(p, 100, 100, 3, 5, 2, 2, &mut c, 2);
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
                luma(p, 5, 7, fx, fy, 8, 8, &mut out, 8);
                assert!(out.iter().all(|&v| v == 77), "({fx},{fy})");
            }
        }
    }
}
