//! The intra estimate (SPEC 2.2 step 1): per 4x4 block of the decoded picture, the best of
//! the DC, vertical and horizontal predictors from its decoded neighbours, and the
//! patched value `128 + (Y - prediction)`.

use std::borrow::Cow;

use rayon::prelude::*;

use super::block::{load, store};

/// A plane whose sides are multiples of 4: borrowed when they already are, else copied with
/// its edges repeated.
#[derive(Debug, Clone)]
pub struct Padded<'a> {
    pub data: Cow<'a, [u8]>,
    pub width: usize,
    pub height: usize,
}

impl<'a> Padded<'a> {
    pub fn new(src: &'a [u8], width: usize, height: usize) -> Padded<'a> {
        let pw = width.div_ceil(4).max(1) * 4;
        let ph = height.div_ceil(4).max(1) * 4;
        if (pw, ph) == (width, height) {
            return Padded {
                data: Cow::Borrowed(&src[..width * height]),
                width,
                height,
            };
        }
        let mut data = vec![0u8; pw * ph];
        for y in 0..ph {
            let sy = y.min(height.saturating_sub(1));
            let srow = &src[sy * width..sy * width + width];
            let drow = &mut data[y * pw..(y + 1) * pw];
            drow[..width].copy_from_slice(srow);
            let last = srow[width - 1];
            drow[width..].fill(last);
        }
        Padded {
            data: Cow::Owned(data),
            width: pw,
            height: ph,
        }
    }

    /// A zeroed plane of padded size `width x height`.
    pub fn zeroed(width: usize, height: usize) -> Padded<'static> {
        Padded {
            data: Cow::Owned(vec![0; width * height]),
            width,
            height,
        }
    }

    /// The visible `width x height` part (no copy when nothing was padded).
    pub fn into_cropped(self, width: usize, height: usize) -> Vec<u8> {
        if (width, height) == (self.width, self.height) {
            return self.data.into_owned();
        }
        let mut out = Vec::with_capacity(width * height);
        for y in 0..height {
            out.extend_from_slice(&self.data[y * self.width..y * self.width + width]);
        }
        out
    }

    #[inline]
    pub fn block(&self, bx: usize, by: usize) -> [u8; 16] {
        load::<4, 16>(&self.data, self.width, by * 4 * self.width + bx * 4)
    }

    /// The 8x8 block whose top-left sample is (8 bx, 8 by).
    #[inline]
    pub fn block8(&self, bx: usize, by: usize) -> [u8; 64] {
        load::<8, 64>(&self.data, self.width, by * 8 * self.width + bx * 8)
    }
}

/// Sum of absolute differences of two 4x4 blocks.
#[inline]
pub fn sad(a: &[u8; 16], b: &[u8; 16]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of x86_64; both loads read exactly the 16 bytes of an array.
        unsafe {
            let s = _mm_sad_epu8(
                _mm_loadu_si128(a.as_ptr().cast()),
                _mm_loadu_si128(b.as_ptr().cast()),
            );
            (_mm_cvtsi128_si32(s) + _mm_cvtsi128_si32(_mm_srli_si128::<8>(s))) as u32
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    a.iter().zip(b).map(|(&x, &y)| x.abs_diff(y) as u32).sum()
}

/// The patched estimate of block (bx, by): `clip(128 + Y - pred)` with the least-SAD
/// predictor (strictly smaller wins, order DC, V, H; chroma uses DC alone).
pub fn intra_block(p: &Padded, bx: usize, by: usize, dc_only: bool) -> [u8; 16] {
    let cur = p.block(bx, by);
    let w = p.width;
    let above: Option<[u8; 4]> = (by > 0).then(|| {
        let o = (by * 4 - 1) * w + bx * 4;
        [p.data[o], p.data[o + 1], p.data[o + 2], p.data[o + 3]]
    });
    let left: Option<[u8; 4]> = (bx > 0).then(|| {
        let mut l = [0u8; 4];
        for (r, e) in l.iter_mut().enumerate() {
            *e = p.data[(by * 4 + r) * w + bx * 4 - 1];
        }
        l
    });
    let sum = |v: &[u8; 4]| v.iter().map(|&x| x as u32).sum::<u32>();
    let dc = match (&above, &left) {
        (Some(a), Some(l)) => ((sum(a) + sum(l) + 4) >> 3) as u8,
        (Some(a), None) => ((sum(a) + 2) >> 2) as u8,
        (None, Some(l)) => ((sum(l) + 2) >> 2) as u8,
        (None, None) => 128,
    };
    let mut best = [dc; 16];
    if !dc_only {
        let mut best_sad = sad(&cur, &best);
        if let Some(a) = above {
            let mut v = [0u8; 16];
            for r in 0..4 {
                v[r * 4..r * 4 + 4].copy_from_slice(&a);
            }
            let s = sad(&cur, &v);
            if s < best_sad {
                best = v;
                best_sad = s;
            }
        }
        if let Some(l) = left {
            let mut h = [0u8; 16];
            for r in 0..4 {
                h[r * 4..r * 4 + 4].fill(l[r]);
            }
            if sad(&cur, &h) < best_sad {
                best = h;
            }
        }
    }
    residual4x4(&cur, &best)
}

/// The patched value of a sample: `clip(128 + cur - pred)`.
#[inline]
pub fn residual_sample(cur: u8, pred: u8) -> u8 {
    (128 + cur as i32 - pred as i32).clamp(0, 255) as u8
}

/// [`residual_sample`] over a 4x4 block.
#[inline]
pub fn residual4x4(cur: &[u8; 16], pred: &[u8; 16]) -> [u8; 16] {
    std::array::from_fn(|i| residual_sample(cur[i], pred[i]))
}

/// The intra estimate of a whole plane (padded dimensions).
pub fn intra_plane(p: &Padded, dc_only: bool) -> Padded<'static> {
    let mut out = Padded::zeroed(p.width, p.height);
    let width = p.width;
    // Blocks predict from the stock picture, never from each other: rows are independent.
    out.data
        .to_mut()
        .par_chunks_mut(4 * width)
        .enumerate()
        .for_each(|(by, band)| {
            for bx in 0..width / 4 {
                store::<4, 16>(band, width, bx * 4, &intra_block(p, bx, by, dc_only));
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_picture_is_grey() {
        let p = Padded::new(&[77u8; 6 * 5], 6, 5);
        assert_eq!((p.width, p.height), (8, 8));
        let e = intra_plane(&p, false);
        // The first block has no neighbours: 128 + 77 - 128; all others predict exactly.
        assert_eq!(e.data[0], 77);
        assert!(e.data[4..8].iter().all(|&v| v == 128));
        assert!(e.data[8 * 4..].iter().all(|&v| v == 128));
    }

    #[test]
    fn sad_of_extremes() {
        let a: [u8; 16] = std::array::from_fn(|i| if i % 2 == 0 { 0 } else { 255 });
        let b: [u8; 16] = std::array::from_fn(|i| (i * 17) as u8);
        let want: u32 = a.iter().zip(&b).map(|(&x, &y)| x.abs_diff(y) as u32).sum();
        assert_eq!(sad(&a, &b), want);
        assert_eq!(sad(&a, &a), 0);
    }

    #[test]
    fn vertical_stripes_pick_v() {
        let mut src = vec![0u8; 8 * 8];
        for y in 0..8 {
            for x in 0..8 {
                src[y * 8 + x] = (x * 30) as u8;
            }
        }
        let p = Padded::new(&src, 8, 8);
        let b = intra_block(&p, 1, 1, false);
        assert!(b.iter().all(|&v| v == 128));
    }
}
