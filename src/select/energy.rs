//! Energy maps (SPEC 2.2): normalised motion from the motion grid, normalised residual from
//! the residual picture, and their fusion, with NumPy's float32 arithmetic.
//!
//! Nothing here allocates a full-resolution float map: the motion map is kept at grid
//! resolution (upsampling is an index map), and the residual map is a lookup table indexed by
//! the 8-bit pixel (or by the integer gradient sum with `res_use_grad`), because every
//! residual energy value is a function of a small integer.

use std::borrow::Cow;

use crate::analysis::{MotionGrid, Plane, ResidualPlane, SampledCodes};

use super::numeric::{self, PERCENTILE_FLAVOR};
use super::params::{EnergyParams, FuseMode, MvCompensate};

/// Normalised motion energy at grid resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct MotionNorm {
    pub rows: usize,
    pub cols: usize,
    /// `clip(|v - c| / a, 0, 1)`, row-major.
    pub norm: Vec<f32>,
    /// The divisor `a` (the percentile, floored at 1e-6), as the float32 NumPy divides by.
    pub scale: f32,
    /// Sum of the compensated magnitudes over the grid (pixels).
    pub raw_sum: f64,
}

impl MotionNorm {
    fn empty(rows: usize, cols: usize) -> Self {
        MotionNorm {
            rows,
            cols,
            norm: vec![0.0; rows * cols],
            scale: 1e-6,
            raw_sum: 0.0,
        }
    }

    /// Sum of the upsampled map at `h0 x w0` (OpenCV nearest rule).
    pub fn upsampled_sum(&self, h0: usize, w0: usize) -> f64 {
        if self.rows == 0 || self.cols == 0 {
            return 0.0;
        }
        let mut rc = vec![0u64; self.rows];
        for r in super::square::nearest_map(self.rows, h0) {
            rc[r] += 1;
        }
        let mut cc = vec![0u64; self.cols];
        for c in super::square::nearest_map(self.cols, w0) {
            cc[c] += 1;
        }
        let mut s = 0.0;
        for (r, &nr) in rc.iter().enumerate() {
            if nr == 0 {
                continue;
            }
            let row = &self.norm[r * self.cols..(r + 1) * self.cols];
            let rs: f64 = row
                .iter()
                .zip(&cc)
                .map(|(&v, &n)| v as f64 * n as f64)
                .sum();
            s += rs * nr as f64;
        }
        s
    }
}

/// The `(n/2 - 1)`-th and `n/2`-th smallest `mvx` and `mvy` of a grid: all the median needs,
/// and independent of every parameter.
pub fn motion_middle_pairs(grid: &MotionGrid) -> ((i16, i16), (i16, i16)) {
    let mut buf: Vec<i16> = grid.cells().map(|m| m[0]).collect();
    if buf.is_empty() {
        return ((0, 0), (0, 0));
    }
    let px = numeric::middle_pair_i16(&mut buf);
    buf.iter_mut()
        .zip(grid.cells())
        .for_each(|(b, m)| *b = m[1]);
    let py = numeric::middle_pair_i16(&mut buf);
    (px, py)
}

/// Upstream's `_mv_energy_norm` up to (not including) the upsampling.
pub fn motion_norm(grid: &MotionGrid, e: &EnergyParams) -> MotionNorm {
    motion_norm_with(grid, e, None)
}

/// [`motion_norm`] with the grid's middle pairs already known ([`motion_middle_pairs`]).
pub fn motion_norm_with(
    grid: &MotionGrid,
    e: &EnergyParams,
    middle_pairs: Option<((i16, i16), (i16, i16))>,
) -> MotionNorm {
    let n = grid.len();
    if n == 0 {
        return MotionNorm::empty(grid.rows, grid.cols);
    }
    let div = e.mv_unit_div as f32;
    let (cx, cy) = match e.mv_compensate {
        MvCompensate::Median => {
            let (px, py) = middle_pairs.unwrap_or_else(|| motion_middle_pairs(grid));
            let cx = numeric::median_from_pair(px, n, div);
            let cy = numeric::median_from_pair(py, n, div);
            (Some(cx), Some(cy))
        }
        MvCompensate::Mean => {
            let mut buf: Vec<f32> = grid.cells().map(|m| m[0] as f32 / div).collect();
            let cx = numeric::mean_f32(&buf);
            buf.iter_mut()
                .zip(grid.cells())
                .for_each(|(b, m)| *b = m[1] as f32 / div);
            let cy = numeric::mean_f32(&buf);
            (Some(cx), Some(cy))
        }
        MvCompensate::None => (None, None),
    };
    // `None` subtracts nothing: `x - 0.0 == x` for every float, -0.0 included.
    let (cx, cy) = (cx.unwrap_or(0.0), cy.unwrap_or(0.0));
    // Dividing by a power of two is multiplying by its reciprocal, exactly.
    let inv = 1.0 / div;
    let pow2 = div.is_normal() && inv.is_normal() && div.to_bits() & 0x007f_ffff == 0;
    let mut mag = vec![0f32; n];
    let cols = grid.cols;
    for r in 0..grid.rows {
        let (above, rest) = mag.split_at_mut(r * cols);
        let out = &mut rest[..cols];
        if grid.repeats_previous(r) {
            // A repeated row has the same magnitudes as the row above.
            out.copy_from_slice(&above[(r - 1) * cols..]);
            continue;
        }
        let row = grid.row(r);
        if pow2 {
            for (o, m) in out.iter_mut().zip(row) {
                let (x, y) = (m[0] as f32 * inv - cx, m[1] as f32 * inv - cy);
                *o = (x * x + y * y).sqrt();
            }
        } else {
            for (o, m) in out.iter_mut().zip(row) {
                let (x, y) = (m[0] as f32 / div - cx, m[1] as f32 / div - cy);
                *o = (x * x + y * y).sqrt();
            }
        }
    }
    let raw_sum: f64 = mag.iter().map(|&v| v as f64).sum();
    // Magnitudes are +0.0 or positive (or NaN): their bit patterns sort like their values,
    // with NaN last as in NumPy.
    let mut bits: Vec<u32> = mag.iter().map(|v| v.to_bits()).collect();
    let idx = numeric::percentile_index(n, e.mv_pct, PERCENTILE_FLAVOR);
    let (_, &mut lo, right) = bits.select_nth_unstable(idx.lower);
    let hi = if idx.upper == idx.lower {
        lo
    } else {
        right.iter().copied().min().unwrap_or(lo)
    };
    let p = numeric::percentile_lerp(
        f32::from_bits(lo),
        f32::from_bits(hi),
        &idx,
        PERCENTILE_FLAVOR,
    );
    let scale = p.max(1e-6) as f32;
    let mut norm = mag;
    for v in norm.iter_mut() {
        *v = (*v / scale).clamp(0.0, 1.0);
    }
    MotionNorm {
        rows: grid.rows,
        cols: grid.cols,
        norm,
        scale,
        raw_sum,
    }
}

/// Per-pixel residual energy codes: the value at a pixel is `lut[code]`.
#[derive(Debug, Clone, PartialEq)]
pub enum ResidualCodes<'a> {
    /// The plane's own bytes are the codes (plain energy).
    Bytes(&'a [u8]),
    /// `gx + gy` of the wrapped central differences (0..=510), for `res_use_grad`.
    Grad(Cow<'a, [u16]>),
}

/// Normalised residual energy of one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct ResidualNorm<'a> {
    pub width: usize,
    pub height: usize,
    pub codes: ResidualCodes<'a>,
    pub lut: Vec<f32>,
    /// The divisor `a` (percentile floored at 1.0) as float32.
    pub scale: f32,
    /// Sum of the raw energy `x` over the plane.
    pub raw_sum: f64,
    /// Sum of the normalised energy over the plane.
    pub norm_sum: f64,
    /// The kept source rows and columns when the codes are a picture's samples
    /// ([`ResidualPlane::Sampled`]); `None`: the codes cover the whole picture.
    pub kept: Option<(&'a [usize], &'a [usize])>,
}

impl ResidualNorm<'_> {
    /// The codes of source row `y` (a kept row, for samples).
    #[inline]
    pub fn row_codes(&self, y: usize) -> RowCodes<'_> {
        let (r, w) = match self.kept {
            None => (y, self.width),
            Some((rows, cols)) => (
                rows.binary_search(&y)
                    .expect("scoring reads the rows the samples kept"),
                cols.len(),
            ),
        };
        match &self.codes {
            ResidualCodes::Bytes(b) => RowCodes::Bytes(&b[r * w..(r + 1) * w]),
            ResidualCodes::Grad(g) => RowCodes::Grad(&g[r * w..(r + 1) * w]),
        }
    }

    /// Whether a row's codes are packed over the kept columns (index them by the column's
    /// position in the kept list) rather than laid over the whole width.
    pub fn packed_cols(&self) -> bool {
        self.kept.is_some_and(|(_, cols)| cols.len() < self.width)
    }
}

/// One row of residual codes.
pub enum RowCodes<'a> {
    Bytes(&'a [u8]),
    Grad(&'a [u16]),
}

pub(crate) fn byte_histogram(data: &[u8]) -> [u64; 256] {
    // Eight interleaved histograms avoid store-to-load stalls on runs of equal bytes (residual
    // pictures are mostly near 128). Each counts an eighth of the plane, so u32 cannot wrap
    // below 2^35 pixels.
    let mut h = [[0u32; 256]; 8];
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        for (lane, hl) in h.iter_mut().enumerate() {
            let b = ((w >> (8 * lane)) & 0xff) as usize;
            hl[b] = hl[b].wrapping_add(1);
        }
    }
    for &b in chunks.remainder() {
        h[0][b as usize] = h[0][b as usize].wrapping_add(1);
    }
    let mut out = [0u64; 256];
    for (i, o) in out.iter_mut().enumerate() {
        *o = h.iter().map(|hh| hh[i] as u64).sum();
    }
    out
}

/// Histogram of gradient codes (0..=510).
pub(crate) fn grad_histogram(codes: &[u16]) -> Vec<u64> {
    let mut c = vec![0u64; 511];
    for &v in codes {
        c[v as usize] += 1;
    }
    c
}

/// `gx + gy` with `np.roll` semantics (borders wrap around).
pub(crate) fn grad_codes(p: &Plane) -> Vec<u16> {
    let (w, h) = (p.width, p.height);
    let d = &p.data;
    let mut out = vec![0u16; w * h];
    for y in 0..h {
        let up = if y == 0 { h - 1 } else { y - 1 };
        let down = if y + 1 == h { 0 } else { y + 1 };
        for x in 0..w {
            let left = if x == 0 { w - 1 } else { x - 1 };
            let right = if x + 1 == w { 0 } else { x + 1 };
            let gx = (d[y * w + right] as i32 - d[y * w + left] as i32).unsigned_abs();
            let gy = (d[down * w + x] as i32 - d[up * w + x] as i32).unsigned_abs();
            out[y * w + x] = (gx + gy) as u16;
        }
    }
    out
}

/// A code's raw energy `x`.
type ValueOf = Box<dyn Fn(usize) -> f32>;

/// Upstream's `_residual_energy_norm` (plain: `|y - 128|` for a patched picture, the value
/// itself for a magnitude picture; `res_use_grad`: the mean of the wrapped central
/// differences of the picture), returned as codes plus a lookup table.
pub fn residual_norm<'a>(res: &'a ResidualPlane, e: &EnergyParams) -> Option<ResidualNorm<'a>> {
    residual_norm_with(res, e, None)
}

/// The byte histogram of a whole residual picture (independent of every parameter); `None`
/// for samples, which carry their histogram.
pub fn residual_histogram(res: &ResidualPlane) -> Option<[u64; 256]> {
    match res {
        ResidualPlane::Patched(p) | ResidualPlane::Magnitude(p) => Some(byte_histogram(&p.data)),
        ResidualPlane::Sampled(_) | ResidualPlane::Scored(_) => None,
    }
}

/// [`residual_norm`] with the picture's byte histogram already known
/// ([`residual_histogram`]; unused with `res_use_grad`).
pub fn residual_norm_with<'a>(
    res: &'a ResidualPlane,
    e: &EnergyParams,
    histogram: Option<&[u64; 256]>,
) -> Option<ResidualNorm<'a>> {
    let PictureCodes {
        codes,
        counts,
        patched,
        size: (width, height),
        kept,
    } = residual_codes(res, e, histogram)?;
    let value_of: ValueOf = if e.res_use_grad {
        Box::new(|s| 0.5f32 * s as f32)
    } else {
        Box::new(|v| v as f32)
    };
    // x per code, and the histogram of x in increasing order of x.
    let x_of_code: Vec<f32> = if !e.res_use_grad && patched {
        (0..256).map(|y| (y as f32 - 128.0).abs()).collect()
    } else {
        (0..counts.len()).map(&value_of).collect()
    };
    let p = if !e.res_use_grad && patched {
        let mut hx = vec![0u64; 129];
        for (y, &c) in counts.iter().enumerate() {
            hx[(y as i32 - 128).unsigned_abs() as usize] += c;
        }
        numeric::percentile_hist(&hx, |k| k as f32, e.res_pct, PERCENTILE_FLAVOR)
    } else {
        numeric::percentile_hist(&counts, &value_of, e.res_pct, PERCENTILE_FLAVOR)
    }
    .unwrap_or(0.0);
    let scale = p.max(1.0) as f32;
    let lut: Vec<f32> = x_of_code
        .iter()
        .map(|&x| (x / scale).clamp(0.0, 1.0))
        .collect();
    let raw_sum = counts
        .iter()
        .zip(&x_of_code)
        .map(|(&c, &x)| c as f64 * x as f64)
        .sum();
    let norm_sum = counts
        .iter()
        .zip(&lut)
        .map(|(&c, &v)| c as f64 * v as f64)
        .sum();
    Some(ResidualNorm {
        width,
        height,
        codes,
        lut,
        scale,
        raw_sum,
        norm_sum,
        kept,
    })
}

/// The energy codes of one residual picture.
struct PictureCodes<'a> {
    codes: ResidualCodes<'a>,
    /// Histogram of the codes over the whole picture.
    counts: Vec<u64>,
    patched: bool,
    /// Size of the whole picture.
    size: (usize, usize),
    /// The kept rows and columns, for samples.
    kept: Option<(&'a [usize], &'a [usize])>,
}

/// The energy codes of a residual picture for plain or gradient energy (`None`: an empty or
/// malformed picture, or samples kept for the other kind).
fn residual_codes<'a>(
    res: &'a ResidualPlane,
    e: &EnergyParams,
    histogram: Option<&[u64; 256]>,
) -> Option<PictureCodes<'a>> {
    let (plane, patched) = match res {
        ResidualPlane::Patched(p) => (p, true),
        ResidualPlane::Magnitude(p) => (p, false),
        // Already scored: no picture left to read.
        ResidualPlane::Scored(_) => return None,
        ResidualPlane::Sampled(s) => {
            let codes = match (&s.codes, e.res_use_grad) {
                (SampledCodes::Bytes(b), false) => ResidualCodes::Bytes(b),
                (SampledCodes::Grad(g), true) => ResidualCodes::Grad(Cow::Borrowed(g)),
                _ => return None,
            };
            return Some(PictureCodes {
                codes,
                counts: s.histogram.clone(),
                patched: s.patched,
                size: (s.width, s.height),
                kept: Some((&s.rows, &s.cols)),
            });
        }
    };
    let n = plane.width * plane.height;
    if n == 0 || plane.data.len() != n {
        return None;
    }
    let size = (plane.width, plane.height);
    let (codes, counts) = if e.res_use_grad {
        let g = grad_codes(plane);
        let c = grad_histogram(&g);
        (ResidualCodes::Grad(Cow::Owned(g)), c)
    } else {
        let h = match histogram {
            Some(h) => *h,
            None => byte_histogram(&plane.data),
        };
        (ResidualCodes::Bytes(&plane.data), h.to_vec())
    };
    Some(PictureCodes {
        codes,
        counts,
        patched,
        size,
        kept: None,
    })
}

/// Which energy a score is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EnergyComponent {
    /// The fused energy upstream selects with.
    #[default]
    Fused,
    /// Normalised motion alone.
    Motion,
    /// Normalised residual alone.
    Residual,
}

/// Upstream's `_fuse_energy` per pixel, in float32 as NumPy evaluates it
/// (`float(w) * arr` casts the weight to float32; `arr / denom` too).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fuser {
    pub mode: FuseMode,
    pub w_mv: f32,
    pub w_res: f32,
    pub denom: f32,
    pub component: EnergyComponent,
}

impl Fuser {
    pub fn new(e: &EnergyParams, component: EnergyComponent) -> Self {
        let denom = if e.w_mv + e.w_res != 0.0 {
            e.w_mv + e.w_res
        } else {
            1.0
        };
        Fuser {
            mode: e.fuse_mode,
            w_mv: e.w_mv as f32,
            w_res: e.w_res as f32,
            denom: denom as f32,
            component,
        }
    }

    #[inline(always)]
    pub fn fuse(&self, m: f32, r: f32) -> f32 {
        match self.component {
            EnergyComponent::Motion => return m,
            EnergyComponent::Residual => return r,
            EnergyComponent::Fused => {}
        }
        let f = match self.mode {
            FuseMode::Weighted => (self.w_mv * m + self.w_res * r) / self.denom,
            FuseMode::Max => {
                if m.is_nan() || r.is_nan() {
                    f32::NAN
                } else {
                    m.max(r)
                }
            }
            FuseMode::Sum => (m + r).clamp(0.0, 1.0),
            FuseMode::Geomean => (m.clamp(0.0, 1.0) * r.clamp(0.0, 1.0)).sqrt(),
        };
        f.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(rows: usize, cols: usize, f: impl Fn(usize, usize) -> [i16; 2]) -> MotionGrid {
        let mut mv = Vec::new();
        for r in 0..rows {
            for c in 0..cols {
                mv.push(f(r, c));
            }
        }
        MotionGrid::from_cells(rows, cols, mv)
    }

    #[test]
    fn motion_uniform_shift_is_compensated() {
        let g = grid(4, 5, |_, _| [8, -4]);
        let m = motion_norm(&g, &EnergyParams::default());
        assert!(m.norm.iter().all(|&v| v == 0.0));
        assert_eq!(m.scale, 1e-6f32);
        let e = EnergyParams {
            mv_compensate: MvCompensate::None,
            ..Default::default()
        };
        let m = motion_norm(&g, &e);
        assert!(m.norm.iter().all(|&v| v == 1.0));
        // sqrt(2^2 + 1^2)
        assert_eq!(m.scale, 5f32.sqrt());
    }

    #[test]
    fn motion_single_mover() {
        let g = grid(4, 5, |r, c| if r == 1 && c == 2 { [16, 0] } else { [0, 0] });
        let m = motion_norm(&g, &EnergyParams::default());
        // 95th percentile of nineteen 0s and one 4: index 18.05 -> 0 + 4 * 0.05 = 0.2
        assert!((m.scale - 0.2).abs() < 1e-4, "{}", m.scale);
        assert_eq!(m.norm[7], 1.0);
        assert_eq!(m.norm.iter().filter(|&&v| v > 0.0).count(), 1);
        assert_eq!(m.upsampled_sum(16, 20), 16.0);
        let empty = motion_norm(&MotionGrid::zeros(0, 3), &EnergyParams::default());
        assert!(empty.norm.is_empty());
    }

    #[test]
    fn residual_plain_and_grad() {
        let data: Vec<u8> = (0..64)
            .map(|i| if i == 9 { 228 } else { 128 + (i % 3) as u8 })
            .collect();
        let res = ResidualPlane::Patched(Plane {
            width: 8,
            height: 8,
            data,
        });
        let e = EnergyParams::default();
        let r = residual_norm(&res, &e).unwrap();
        // 95th percentile of |y-128|: 2 (order stats 59.85 of values 0/1/2 and one 100) -> 2
        assert_eq!(r.scale, 2.0);
        assert_eq!(r.lut[228], 1.0);
        assert_eq!(r.lut[129], 0.5);
        let e = EnergyParams {
            res_use_grad: true,
            ..Default::default()
        };
        let g = residual_norm(&res, &e).unwrap();
        match &g.codes {
            ResidualCodes::Grad(c) => {
                // Pixel (1,0): wrapped left (1,7) = 128, right (1,1) = 228, up 128, down 129.
                assert_eq!(c[8], 101);
                assert_eq!(c.len(), 64);
            }
            _ => panic!(),
        }
        let m = ResidualPlane::Magnitude(Plane {
            width: 2,
            height: 1,
            data: vec![0, 10],
        });
        let r = residual_norm(&m, &EnergyParams::default()).unwrap();
        // 95th percentile of [0, 10] is 9.5.
        assert_eq!(r.scale, 9.5);
        assert_eq!(r.lut[10], 1.0);
        assert_eq!(r.lut[5], 5.0 / 9.5);
    }

    #[test]
    fn fusion_modes() {
        let mut e = EnergyParams::default();
        let f = Fuser::new(&e, EnergyComponent::Fused);
        assert_eq!(f.fuse(1.0, 0.0), 0.5);
        e.fuse_mode = FuseMode::Max;
        assert_eq!(Fuser::new(&e, EnergyComponent::Fused).fuse(0.2, 0.7), 0.7);
        e.fuse_mode = FuseMode::Sum;
        assert_eq!(Fuser::new(&e, EnergyComponent::Fused).fuse(0.6, 0.7), 1.0);
        e.fuse_mode = FuseMode::Geomean;
        assert_eq!(Fuser::new(&e, EnergyComponent::Fused).fuse(0.25, 1.0), 0.5);
        e.fuse_mode = FuseMode::Weighted;
        e.w_mv = 0.0;
        e.w_res = 0.0;
        assert_eq!(Fuser::new(&e, EnergyComponent::Fused).fuse(0.9, 0.9), 0.0);
        assert_eq!(Fuser::new(&e, EnergyComponent::Motion).fuse(0.9, 0.1), 0.9);
    }
}
