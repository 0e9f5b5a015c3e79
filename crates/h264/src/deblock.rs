//! Deblocking filter (8.7), applied to a whole picture after its slices.

use crate::frame::FrameState;
use crate::tables::{chroma_qp, ALPHA, BETA, RASTER_TO_BLK, TC0};

fn coded(fs: &FrameState, mb: usize, x4: usize, y4: usize) -> bool {
    let info = &fs.mbs[mb];
    if info.transform8x8 {
        let q = (y4 / 2) * 2 + x4 / 2;
        let b = q * 4;
        info.nnz[b] | info.nnz[b + 1] | info.nnz[b + 2] | info.nnz[b + 3] != 0
    } else {
        info.nnz[RASTER_TO_BLK[y4 * 4 + x4]] != 0
    }
}

fn mv_differs(a: [i16; 2], b: [i16; 2]) -> bool {
    (a[0] as i32 - b[0] as i32).abs() >= 4 || (a[1] as i32 - b[1] as i32).abs() >= 4
}

fn motion_bs(fs: &FrameState, p: usize, q: usize) -> u8 {
    let rp = [fs.ref_id[0][p], fs.ref_id[1][p]];
    let rq = [fs.ref_id[0][q], fs.ref_id[1][q]];
    let np = rp.iter().filter(|&&r| r >= 0).count();
    let nq = rq.iter().filter(|&&r| r >= 0).count();
    if np != nq {
        return 1;
    }
    let mp = [fs.mv[0][p], fs.mv[1][p]];
    let mq = [fs.mv[0][q], fs.mv[1][q]];
    if np == 1 {
        let lp = if rp[0] >= 0 { 0 } else { 1 };
        let lq = if rq[0] >= 0 { 0 } else { 1 };
        if rp[lp] != rq[lq] {
            return 1;
        }
        return mv_differs(mp[lp], mq[lq]) as u8;
    }
    if np == 0 {
        return 0;
    }
    let same_set = (rp[0] == rq[0] && rp[1] == rq[1]) || (rp[0] == rq[1] && rp[1] == rq[0]);
    if !same_set {
        return 1;
    }
    if rp[0] != rp[1] {
        if rp[0] == rq[0] {
            (mv_differs(mp[0], mq[0]) || mv_differs(mp[1], mq[1])) as u8
        } else {
            (mv_differs(mp[0], mq[1]) || mv_differs(mp[1], mq[0])) as u8
        }
    } else {
        let straight = mv_differs(mp[0], mq[0]) || mv_differs(mp[1], mq[1]);
        let crossed = mv_differs(mp[0], mq[1]) || mv_differs(mp[1], mq[0]);
        (straight && crossed) as u8
    }
}

/// Boundary strengths of the 4 segments of an edge. `vertical`: edge at
/// x4 = e (else y4 = e) inside macroblock `mb`.
fn edge_bs(fs: &FrameState, mb: usize, e: usize, vertical: bool) -> [u8; 4] {
    let mbx = mb % fs.mb_w;
    let mby = mb / fs.mb_w;
    let pmb = if e > 0 {
        mb
    } else if vertical {
        mb - 1
    } else {
        mb - fs.mb_w
    };
    let intra = fs.mbs[mb].kind.is_intra() || fs.mbs[pmb].kind.is_intra();
    let mut bs = [0u8; 4];
    for (k, b) in bs.iter_mut().enumerate() {
        if intra {
            *b = if e == 0 { 4 } else { 3 };
            continue;
        }
        let (qx, qy) = if vertical { (e, k) } else { (k, e) };
        let (px, py, pm) = if e > 0 {
            if vertical {
                (e - 1, k, mb)
            } else {
                (k, e - 1, mb)
            }
        } else if vertical {
            (3, k, pmb)
        } else {
            (k, 3, pmb)
        };
        if coded(fs, mb, qx, qy) || coded(fs, pm, px, py) {
            *b = 2;
            continue;
        }
        let gq = fs.idx4(mbx * 4 + qx, mby * 4 + qy);
        let (pmx, pmy) = (pm % fs.mb_w, pm / fs.mb_w);
        let gp = fs.idx4(pmx * 4 + px, pmy * 4 + py);
        *b = motion_bs(fs, gp, gq);
    }
    bs
}

#[allow(clippy::too_many_arguments)]
fn filter_edge(
    plane: &mut [u8],
    stride: usize,
    off: usize,
    vertical: bool,
    len: usize,
    bs: &[u8; 4],
    alpha: i32,
    beta: i32,
    index_a: usize,
    chroma: bool,
) {
    if alpha == 0 || beta == 0 {
        return;
    }
    let (step, along) = if vertical {
        (1isize, stride)
    } else {
        (stride as isize, 1)
    };
    for k in 0..len {
        let b = bs[if chroma { k / 2 } else { k / 4 }];
        if b == 0 {
            continue;
        }
        let o = (off + k * along) as isize;
        let at = |i: isize| (o + i * step) as usize;
        let p0 = plane[at(-1)] as i32;
        let q0 = plane[at(0)] as i32;
        let p1 = plane[at(-2)] as i32;
        let q1 = plane[at(1)] as i32;
        if (p0 - q0).abs() >= alpha || (p1 - p0).abs() >= beta || (q1 - q0).abs() >= beta {
            continue;
        }
        if chroma {
            if b < 4 {
                let tc = TC0[index_a][b as usize - 1] as i32 + 1;
                let d = ((((q0 - p0) << 2) + (p1 - q1) + 4) >> 3).clamp(-tc, tc);
                plane[at(-1)] = (p0 + d).clamp(0, 255) as u8;
                plane[at(0)] = (q0 - d).clamp(0, 255) as u8;
            } else {
                plane[at(-1)] = ((2 * p1 + p0 + q1 + 2) >> 2) as u8;
                plane[at(0)] = ((2 * q1 + q0 + p1 + 2) >> 2) as u8;
            }
            continue;
        }
        let p2 = plane[at(-3)] as i32;
        let q2 = plane[at(2)] as i32;
        let ap = (p2 - p0).abs();
        let aq = (q2 - q0).abs();
        if b < 4 {
            let tc0 = TC0[index_a][b as usize - 1] as i32;
            let tc = tc0 + (ap < beta) as i32 + (aq < beta) as i32;
            let d = ((((q0 - p0) << 2) + (p1 - q1) + 4) >> 3).clamp(-tc, tc);
            plane[at(-1)] = (p0 + d).clamp(0, 255) as u8;
            plane[at(0)] = (q0 - d).clamp(0, 255) as u8;
            if ap < beta {
                plane[at(-2)] =
                    (p1 + ((p2 + ((p0 + q0 + 1) >> 1) - (p1 << 1)) >> 1).clamp(-tc0, tc0)) as u8;
            }
            if aq < beta {
                plane[at(1)] =
                    (q1 + ((q2 + ((p0 + q0 + 1) >> 1) - (q1 << 1)) >> 1).clamp(-tc0, tc0)) as u8;
            }
        } else {
            let p3 = plane[at(-4)] as i32;
            let q3 = plane[at(3)] as i32;
            let strong = (p0 - q0).abs() < ((alpha >> 2) + 2);
            if ap < beta && strong {
                plane[at(-1)] = ((p2 + 2 * p1 + 2 * p0 + 2 * q0 + q1 + 4) >> 3) as u8;
                plane[at(-2)] = ((p2 + p1 + p0 + q0 + 2) >> 2) as u8;
                plane[at(-3)] = ((2 * p3 + 3 * p2 + p1 + p0 + q0 + 4) >> 3) as u8;
            } else {
                plane[at(-1)] = ((2 * p1 + p0 + q1 + 2) >> 2) as u8;
            }
            if aq < beta && strong {
                plane[at(0)] = ((p1 + 2 * p0 + 2 * q0 + 2 * q1 + q2 + 4) >> 3) as u8;
                plane[at(1)] = ((p0 + q0 + q1 + q2 + 2) >> 2) as u8;
                plane[at(2)] = ((2 * q3 + 3 * q2 + q1 + q0 + p0 + 4) >> 3) as u8;
            } else {
                plane[at(0)] = ((2 * q1 + q0 + p1 + 2) >> 2) as u8;
            }
        }
    }
}

/// Deblock the whole picture.
pub fn deblock_picture(fs: &mut FrameState) {
    let ys = fs.mb_w * 16;
    let cs = fs.mb_w * 8;
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
        for vertical in [true, false] {
            for e in 0..4 {
                if e == 0 && !(if vertical { left_ok } else { top_ok }) {
                    continue;
                }
                let bs = edge_bs(fs, mb, e, vertical);
                if bs == [0; 4] {
                    continue;
                }
                let pmb = if e > 0 {
                    mb
                } else if vertical {
                    mb - 1
                } else {
                    mb - fs.mb_w
                };
                let pinfo = fs.mbs[pmb];
                if !(info.transform8x8 && e & 1 == 1) {
                    let qpav = (info.qp as i32 + pinfo.qp as i32 + 1) >> 1;
                    let ia = (qpav + sl.alpha_offset).clamp(0, 51) as usize;
                    let ib = (qpav + sl.beta_offset).clamp(0, 51) as usize;
                    let off = if vertical {
                        mby * 16 * ys + mbx * 16 + e * 4
                    } else {
                        (mby * 16 + e * 4) * ys + mbx * 16
                    };
                    filter_edge(
                        &mut fs.y,
                        ys,
                        off,
                        vertical,
                        16,
                        &bs,
                        ALPHA[ia] as i32,
                        BETA[ib] as i32,
                        ia,
                        false,
                    );
                }
                if e & 1 == 0 {
                    for c in 0..2 {
                        let qa = chroma_qp(info.qp as i32, sl.chroma_qp_offset[c]);
                        let qb = chroma_qp(pinfo.qp as i32, sl.chroma_qp_offset[c]);
                        let qpav = (qa + qb + 1) >> 1;
                        let ia = (qpav + sl.alpha_offset).clamp(0, 51) as usize;
                        let ib = (qpav + sl.beta_offset).clamp(0, 51) as usize;
                        let off = if vertical {
                            mby * 8 * cs + mbx * 8 + e * 2
                        } else {
                            (mby * 8 + e * 2) * cs + mbx * 8
                        };
                        let plane = if c == 0 { &mut fs.u } else { &mut fs.v };
                        filter_edge(
                            plane,
                            cs,
                            off,
                            vertical,
                            8,
                            &bs,
                            ALPHA[ia] as i32,
                            BETA[ib] as i32,
                            ia,
                            true,
                        );
                    }
                }
            }
        }
    }
}
