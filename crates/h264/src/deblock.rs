//! Deblocking filter (8.7), applied to a whole picture after its slices.

use crate::frame::{MbInfo, PicData, Samples, SliceDeblock};
use crate::tables::{chroma_qp, ALPHA, BETA, RASTER_TO_BLK, TC0};

/// What deblocking reads of a parsed picture: its macroblocks, slices and motion.
pub struct Parsed<'a> {
    pub mb_w: usize,
    pub mb_h: usize,
    pub mbs: &'a [MbInfo],
    pub slices: &'a [SliceDeblock],
    pub mv: &'a [Vec<[i16; 2]>; 2],
    pub ref_id: &'a [Vec<i32>; 2],
}

impl<'a> Parsed<'a> {
    pub fn new(pic: &'a PicData, mbs: &'a [MbInfo], slices: &'a [SliceDeblock]) -> Self {
        Parsed {
            mb_w: pic.mb_w,
            mb_h: pic.mb_h,
            mbs,
            slices,
            mv: &pic.mv,
            ref_id: &pic.ref_id,
        }
    }
}

/// Bit (y4 * 4 + x4) set for every 4x4 block of a macroblock with coded
/// coefficients (whole 8x8 blocks when the 8x8 transform is used).
fn coded_mask(info: &MbInfo) -> u16 {
    let mut m = 0u16;
    if info.transform8x8 {
        for q in 0..4 {
            let n = &info.nnz[q * 4..q * 4 + 4];
            if n.iter().any(|&c| c != 0) {
                let bit = (q >> 1) * 8 + (q & 1) * 2;
                m |= 0x33 << bit;
            }
        }
    } else {
        for (r, &b) in RASTER_TO_BLK.iter().enumerate() {
            m |= ((info.nnz[b] != 0) as u16) << r;
        }
    }
    m
}

fn mv_differs(a: [i16; 2], b: [i16; 2]) -> bool {
    (a[0] as i32 - b[0] as i32).abs() >= 4 || (a[1] as i32 - b[1] as i32).abs() >= 4
}

/// Motion of one 4x4 block as the strength derivation compares it:
/// reference picture ids (-1 unused) and vectors of both lists.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Motion {
    r: [i32; 2],
    m: [[i16; 2]; 2],
}

impl Motion {
    fn at(fs: &Parsed, i: usize) -> Motion {
        Motion {
            r: [fs.ref_id[0][i], fs.ref_id[1][i]],
            m: [fs.mv[0][i], fs.mv[1][i]],
        }
    }
}

/// bS 1 or 0 from the motion on both sides of an edge (8.7.2.1).
#[inline]
fn motion_bs(p: &Motion, q: &Motion) -> u8 {
    // the usual case: the same motion on both sides
    if p == q {
        0
    } else {
        motion_differs(p, q) as u8
    }
}

fn motion_differs(p: &Motion, q: &Motion) -> bool {
    let (rp, rq, mp, mq) = (p.r, q.r, p.m, q.m);
    let np = rp.iter().filter(|&&r| r >= 0).count();
    let nq = rq.iter().filter(|&&r| r >= 0).count();
    if np != nq {
        return true;
    }
    if np == 1 {
        let lp = if rp[0] >= 0 { 0 } else { 1 };
        let lq = if rq[0] >= 0 { 0 } else { 1 };
        return rp[lp] != rq[lq] || mv_differs(mp[lp], mq[lq]);
    }
    if np == 0 {
        return false;
    }
    let same_set = (rp[0] == rq[0] && rp[1] == rq[1]) || (rp[0] == rq[1] && rp[1] == rq[0]);
    if !same_set {
        return true;
    }
    if rp[0] != rp[1] {
        if rp[0] == rq[0] {
            mv_differs(mp[0], mq[0]) || mv_differs(mp[1], mq[1])
        } else {
            mv_differs(mp[0], mq[1]) || mv_differs(mp[1], mq[0])
        }
    } else {
        let straight = mv_differs(mp[0], mq[0]) || mv_differs(mp[1], mq[1]);
        let crossed = mv_differs(mp[0], mq[1]) || mv_differs(mp[1], mq[0]);
        straight && crossed
    }
}

/// Boundary strengths of one macroblock: `[dir][edge][segment]`, dir 0 for
/// the vertical edges (x4 = edge), 1 for the horizontal ones (y4 = edge).
/// Edges that are not filtered keep strength 0.
type Strengths = [[[u8; 4]; 4]; 2];

/// All boundary strengths of macroblock `mb` (8.7.2.1), computed once from
/// its coded masks, intra flags and motion. Internal edges 1 and 3 of an
/// 8x8-transform macroblock are not filtered and are left at 0.
fn mb_strengths(fs: &Parsed, mb: usize, left_ok: bool, top_ok: bool) -> Strengths {
    let mut bs = [[[0u8; 4]; 4]; 2];
    let info = &fs.mbs[mb];
    let intra = info.kind.is_intra();
    let qmask = if intra { 0 } else { coded_mask(info) };
    let (mbx, mby) = (mb % fs.mb_w, mb / fs.mb_w);
    let w4 = fs.mb_w * 4;
    let base = mby * 4 * w4 + mbx * 4;
    let step = if info.transform8x8 { 2 } else { 1 };
    // motion of the macroblock's 16 blocks (raster), loaded once
    let mut mq = [Motion {
        r: [-1; 2],
        m: [[0; 2]; 2],
    }; 16];
    if !intra {
        for (j, m) in mq.iter_mut().enumerate() {
            *m = Motion::at(fs, base + (j / 4) * w4 + j % 4);
        }
    }
    for (dir, (ok, pmb)) in [
        (left_ok, mb.wrapping_sub(1)),
        (top_ok, mb.wrapping_sub(fs.mb_w)),
    ]
    .into_iter()
    .enumerate()
    {
        // 4x4 block (edge e, segment k) of this macroblock, as (x4, y4)
        let pos = |e: usize, k: usize| if dir == 0 { (e, k) } else { (k, e) };
        if ok {
            let pinfo = &fs.mbs[pmb];
            if intra || pinfo.kind.is_intra() {
                bs[dir][0] = [4; 4];
            } else {
                let pmask = coded_mask(pinfo);
                for k in 0..4 {
                    let (qx, qy) = pos(0, k);
                    // the neighbour's block across the edge, in its own macroblock
                    let (px, py) = if dir == 0 { (3, k) } else { (k, 3) };
                    bs[dir][0][k] =
                        if (qmask >> (qy * 4 + qx)) & 1 != 0 || (pmask >> (py * 4 + px)) & 1 != 0 {
                            2
                        } else {
                            let gq = base + qy * w4 + qx;
                            let gp = if dir == 0 { gq - 1 } else { gq - w4 };
                            motion_bs(&Motion::at(fs, gp), &mq[qy * 4 + qx])
                        };
                }
            }
        }
        for e in (step..4).step_by(step) {
            if intra {
                bs[dir][e] = [3; 4];
                continue;
            }
            for k in 0..4 {
                let (qx, qy) = pos(e, k);
                let (px, py) = pos(e - 1, k);
                bs[dir][e][k] =
                    if (qmask >> (qy * 4 + qx)) & 1 != 0 || (qmask >> (py * 4 + px)) & 1 != 0 {
                        2
                    } else {
                        motion_bs(&mq[py * 4 + px], &mq[qy * 4 + qx])
                    };
            }
        }
    }
    bs
}

/// Filter thresholds of an edge.
#[derive(Clone, Copy)]
struct Thresholds {
    alpha: i32,
    beta: i32,
    /// tC0 for bS 1..3.
    tc0: [u8; 3],
}

impl Thresholds {
    /// None when the filter is off for this average qP (alpha or beta 0).
    fn new(qpav: i32, sl: &SliceDeblock) -> Option<Thresholds> {
        let ia = (qpav + sl.alpha_offset).clamp(0, 51) as usize;
        let ib = (qpav + sl.beta_offset).clamp(0, 51) as usize;
        let t = Thresholds {
            alpha: ALPHA[ia] as i32,
            beta: BETA[ib] as i32,
            tc0: TC0[ia],
        };
        (t.alpha != 0 && t.beta != 0).then_some(t)
    }
}

/// Samples across one edge, transposed: `s[n][k]` is sample n of line k
/// (luma p3 p2 p1 p0 q0 q1 q2 q3, chroma p1 p0 q0 q1). Working on whole
/// edges without branches lets the compiler vectorise over the lines.
type Lines<const L: usize, const N: usize> = [[i16; L]; N];

/// Per-line filter enable and tC0 from the segment strengths (`seg` lines
/// per segment); tC0 is -1 where bS is 0 so that no line is filtered there.
#[inline(always)]
fn line_tc0<const L: usize>(bs: &[u8; 4], seg: usize, t: &Thresholds) -> [i16; L] {
    let seg_tc0 = bs.map(|b| match b {
        0 => -1,
        1..=3 => t.tc0[b as usize - 1] as i16,
        _ => 0,
    });
    let mut tc0 = [0i16; L];
    for k in 0..L {
        tc0[k] = seg_tc0[k / seg];
    }
    tc0
}

/// Luma edge with bS < 4 (8.7.2.3); tc0 < 0 marks unfiltered lines.
#[inline(always)]
fn luma_normal(s: &mut Lines<16, 8>, tc0: &[i16; 16], t: &Thresholds) {
    let (alpha, beta) = (t.alpha as i16, t.beta as i16);
    for k in 0..16 {
        let [p2, p1, p0, q0, q1, q2] = [s[1][k], s[2][k], s[3][k], s[4][k], s[5][k], s[6][k]];
        let tc0 = tc0[k];
        let on =
            tc0 >= 0 && (p0 - q0).abs() < alpha && (p1 - p0).abs() < beta && (q1 - q0).abs() < beta;
        let ap = (p2 - p0).abs() < beta;
        let aq = (q2 - q0).abs() < beta;
        let tc = tc0 + ap as i16 + aq as i16;
        let d = ((((q0 - p0) << 2) + (p1 - q1) + 4) >> 3).max(-tc).min(tc);
        let avg = (p0 + q0 + 1) >> 1;
        let np1 = p1 + ((p2 + avg - (p1 << 1)) >> 1).max(-tc0).min(tc0);
        let nq1 = q1 + ((q2 + avg - (q1 << 1)) >> 1).max(-tc0).min(tc0);
        s[2][k] = if on && ap { np1 } else { p1 };
        s[3][k] = if on { (p0 + d).clamp(0, 255) } else { p0 };
        s[4][k] = if on { (q0 - d).clamp(0, 255) } else { q0 };
        s[5][k] = if on && aq { nq1 } else { q1 };
    }
}

/// Luma edge with bS = 4 (8.7.2.4); `on[k]` false for unfiltered lines.
#[inline(always)]
fn luma_strong(s: &mut Lines<16, 8>, t: &Thresholds) {
    let (alpha, beta) = (t.alpha as i16, t.beta as i16);
    for k in 0..16 {
        let [p3, p2, p1, p0, q0, q1, q2, q3] = std::array::from_fn(|n| s[n][k]);
        let on = (p0 - q0).abs() < alpha && (p1 - p0).abs() < beta && (q1 - q0).abs() < beta;
        let strong = (p0 - q0).abs() < ((alpha >> 2) + 2);
        let sp = on && strong && (p2 - p0).abs() < beta;
        let sq = on && strong && (q2 - q0).abs() < beta;
        let weak_p0 = (2 * p1 + p0 + q1 + 2) >> 2;
        let weak_q0 = (2 * q1 + q0 + p1 + 2) >> 2;
        s[1][k] = if sp {
            (2 * p3 + 3 * p2 + p1 + p0 + q0 + 4) >> 3
        } else {
            p2
        };
        s[2][k] = if sp { (p2 + p1 + p0 + q0 + 2) >> 2 } else { p1 };
        s[3][k] = if sp {
            (p2 + 2 * p1 + 2 * p0 + 2 * q0 + q1 + 4) >> 3
        } else if on {
            weak_p0
        } else {
            p0
        };
        s[4][k] = if sq {
            (p1 + 2 * p0 + 2 * q0 + 2 * q1 + q2 + 4) >> 3
        } else if on {
            weak_q0
        } else {
            q0
        };
        s[5][k] = if sq { (p0 + q0 + q1 + q2 + 2) >> 2 } else { q1 };
        s[6][k] = if sq {
            (2 * q3 + 3 * q2 + q1 + q0 + p0 + 4) >> 3
        } else {
            q2
        };
    }
}

/// Chroma edge (bS < 4 and bS = 4 per line); tc0 < 0 marks unfiltered lines.
#[inline(always)]
fn chroma_edge(s: &mut Lines<8, 4>, tc0: &[i16; 8], strong: bool, t: &Thresholds) {
    let (alpha, beta) = (t.alpha as i16, t.beta as i16);
    for k in 0..8 {
        let [p1, p0, q0, q1] = [s[0][k], s[1][k], s[2][k], s[3][k]];
        let on = tc0[k] >= 0
            && (p0 - q0).abs() < alpha
            && (p1 - p0).abs() < beta
            && (q1 - q0).abs() < beta;
        let (np0, nq0) = if strong {
            ((2 * p1 + p0 + q1 + 2) >> 2, (2 * q1 + q0 + p1 + 2) >> 2)
        } else {
            let tc = tc0[k] + 1;
            let d = ((((q0 - p0) << 2) + (p1 - q1) + 4) >> 3).max(-tc).min(tc);
            ((p0 + d).clamp(0, 255), (q0 - d).clamp(0, 255))
        };
        s[1][k] = if on { np0 } else { p0 };
        s[2][k] = if on { nq0 } else { q0 };
    }
}

/// Load the `N` samples straddling the edge at `off` (sample `N / 2` of a
/// line is the first after the edge) on `L` lines, run `f`, and store the
/// samples `first..N - first` back (the only ones a filter changes).
#[inline(always)]
fn with_lines<const L: usize, const N: usize>(
    plane: &mut [u8],
    stride: usize,
    off: usize,
    vertical: bool,
    first: usize,
    f: impl FnOnce(&mut Lines<L, N>),
) {
    let h = N / 2;
    let mut s = [[0i16; L]; N];
    if vertical {
        // lines are rows: gather transposed
        for k in 0..L {
            let o = off + k * stride - h;
            let r: &[u8; N] = plane[o..o + N].try_into().unwrap();
            for n in 0..N {
                s[n][k] = r[n] as i16;
            }
        }
        f(&mut s);
        for k in 0..L {
            let o = off + k * stride - h;
            let r: &mut [u8; N] = (&mut plane[o..o + N]).try_into().unwrap();
            for n in first..N - first {
                r[n] = s[n][k] as u8;
            }
        }
    } else {
        // lines are columns: rows load straight into the arrays
        for n in 0..N {
            let o = off + n * stride - h * stride;
            let r: &[u8; L] = plane[o..o + L].try_into().unwrap();
            for k in 0..L {
                s[n][k] = r[k] as i16;
            }
        }
        f(&mut s);
        for n in first..N - first {
            let o = off + n * stride - h * stride;
            let r: &mut [u8; L] = (&mut plane[o..o + L]).try_into().unwrap();
            for k in 0..L {
                r[k] = s[n][k] as u8;
            }
        }
    }
}

/// Filter the edges of one macroblock: vertical edges left to right, then
/// horizontal edges top to bottom, each over luma then Cb and Cr.
fn filter_mb(fs: &Parsed, px: &mut Samples, mb: usize, bs: &Strengths, sl: &SliceDeblock) {
    let ys = fs.mb_w * 16;
    let cs = fs.mb_w * 8;
    let (mbx, mby) = (mb % fs.mb_w, mb / fs.mb_w);
    let info = fs.mbs[mb];
    for (dir, edges) in bs.iter().enumerate() {
        let vertical = dir == 0;
        for (e, b) in edges.iter().enumerate() {
            if *b == [0; 4] {
                continue;
            }
            let pmb = match (e, vertical) {
                (0, true) => mb - 1,
                (0, false) => mb - fs.mb_w,
                _ => mb,
            };
            let pqp = fs.mbs[pmb].qp as i32;
            let qpav = (info.qp as i32 + pqp + 1) >> 1;
            if let Some(t) = Thresholds::new(qpav, sl) {
                let off = if vertical {
                    mby * 16 * ys + mbx * 16 + e * 4
                } else {
                    (mby * 16 + e * 4) * ys + mbx * 16
                };
                if b[0] == 4 {
                    // bS 4 only on intra macroblock edges, where all segments have it
                    with_lines::<16, 8>(&mut px.y, ys, off, vertical, 1, |s| luma_strong(s, &t));
                } else {
                    let tc0 = line_tc0::<16>(b, 4, &t);
                    with_lines::<16, 8>(&mut px.y, ys, off, vertical, 2, |s| {
                        luma_normal(s, &tc0, &t)
                    });
                }
            }
            if e & 1 != 0 || !px.has_chroma() {
                continue;
            }
            let off = if vertical {
                mby * 8 * cs + mbx * 8 + e * 2
            } else {
                (mby * 8 + e * 2) * cs + mbx * 8
            };
            for c in 0..2 {
                let qa = chroma_qp(info.qp as i32, sl.chroma_qp_offset[c]);
                let qb = chroma_qp(pqp, sl.chroma_qp_offset[c]);
                let Some(t) = Thresholds::new((qa + qb + 1) >> 1, sl) else {
                    continue;
                };
                let plane = if c == 0 { &mut px.u } else { &mut px.v };
                let tc0 = line_tc0::<8>(b, 2, &t);
                with_lines::<8, 4>(plane, cs, off, vertical, 1, |s| {
                    chroma_edge(s, &tc0, b[0] == 4, &t)
                });
            }
        }
    }
}

/// Deblock the whole picture.
pub fn deblock_picture(fs: &Parsed, px: &mut Samples) {
    for mb in 0..fs.mb_w * fs.mb_h {
        let info = fs.mbs[mb];
        if info.slice == 0 {
            continue;
        }
        let Some(&sl) = fs.slices.get((info.slice - 1) as usize) else {
            continue;
        };
        if sl.disable == 1 {
            continue;
        }
        let mbx = mb % fs.mb_w;
        let mby = mb / fs.mb_w;
        let left_ok = mbx > 0 && !(sl.disable == 2 && fs.mbs[mb - 1].slice != info.slice);
        let top_ok = mby > 0 && !(sl.disable == 2 && fs.mbs[mb - fs.mb_w].slice != info.slice);
        let bs = mb_strengths(fs, mb, left_ok, top_ok);
        filter_mb(fs, px, mb, &bs, &sl);
    }
}
