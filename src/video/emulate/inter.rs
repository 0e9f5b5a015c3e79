//! The inter estimate (SPEC 2.2 steps 2-4): vectors rasterised over 4x4 cells, candidate
//! references and prediction options, a least-SAD choice per 8x8 block, the coded test, and
//! the patched picture (residual where coded, otherwise a copy of the patched references).

use super::intra::{intra_block, Padded};
use super::mc::{average, mc_chroma, mc_luma, weighted, PlaneRef};
use super::RefPic;
use crate::video::motion::MotionVector;
use crate::video::yuv::YuvFrame;

/// How a cell is predicted.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Opt {
    L0(usize),
    L1(usize),
    Avg(usize, usize),
    Weighted(usize, usize, u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cat {
    Intra,
    L0,
    L1,
    Bi,
}

/// Per-cell vectors after rasterising, in quarter pels.
struct Cells {
    l0: Vec<Option<(i32, i32)>>,
    l1: Vec<Option<(i32, i32)>>,
}

fn rasterise(vectors: &[MotionVector], gw: usize, gh: usize) -> Cells {
    let mut c = Cells {
        l0: vec![None; gw * gh],
        l1: vec![None; gw * gh],
    };
    for mv in vectors {
        if mv.source == 0 || mv.w == 0 || mv.h == 0 {
            continue;
        }
        let q = mv.quarter_pel();
        let x0 = i32::from(mv.dst_x) - i32::from(mv.w) / 2;
        let y0 = i32::from(mv.dst_y) - i32::from(mv.h) / 2;
        let cx0 = x0.div_euclid(4).max(0);
        let cy0 = y0.div_euclid(4).max(0);
        let cx1 = (x0 + i32::from(mv.w) - 1).div_euclid(4).min(gw as i32 - 1);
        let cy1 = (y0 + i32::from(mv.h) - 1).div_euclid(4).min(gh as i32 - 1);
        let list = if mv.source < 0 { &mut c.l0 } else { &mut c.l1 };
        for cy in cy0..=cy1 {
            for cx in cx0..=cx1 {
                list[cy as usize * gw + cx as usize] = Some(q);
            }
        }
    }
    c
}

#[derive(Clone, Copy)]
enum Layer {
    Stock,
    Patched,
}

struct Refs<'a> {
    l0: Vec<&'a RefPic>,
    l1: Vec<&'a RefPic>,
}

fn plane<'a>(r: &'a RefPic, layer: Layer, idx: usize) -> PlaneRef<'a> {
    let f = match layer {
        Layer::Stock => &r.stock,
        Layer::Patched => &r.patched,
    };
    match idx {
        0 => PlaneRef {
            data: &f.y,
            width: f.width,
            height: f.height,
        },
        1 => PlaneRef {
            data: &f.u,
            width: f.chroma_width(),
            height: f.chroma_height(),
        },
        _ => PlaneRef {
            data: &f.v,
            width: f.chroma_width(),
            height: f.chroma_height(),
        },
    }
}

/// Prediction of a `bw x bh` block at (x, y) of plane `idx` under `opt`.
#[allow(clippy::too_many_arguments)]
fn predict(
    refs: &Refs,
    opt: Opt,
    layer: Layer,
    idx: usize,
    x: usize,
    y: usize,
    mv0: (i32, i32),
    mv1: (i32, i32),
    bw: usize,
    bh: usize,
    out: &mut [u8],
) {
    let one = |r: &RefPic, mv: (i32, i32), o: &mut [u8]| {
        let p = plane(r, layer, idx);
        if idx == 0 {
            mc_luma(p, x, y, mv.0, mv.1, bw, bh, o)
        } else {
            mc_chroma(p, x, y, mv.0, mv.1, bw, bh, o)
        }
    };
    match opt {
        Opt::L0(i) => one(refs.l0[i], mv0, out),
        Opt::L1(j) => one(refs.l1[j], mv1, out),
        Opt::Avg(i, j) | Opt::Weighted(i, j, _) => {
            let n = bw * bh;
            let mut a = [0u8; 64];
            let mut b = [0u8; 64];
            one(refs.l0[i], mv0, &mut a[..n]);
            one(refs.l1[j], mv1, &mut b[..n]);
            match opt {
                Opt::Weighted(_, _, w1) => weighted(&a[..n], &b[..n], w1, out),
                _ => average(&a[..n], &b[..n], out),
            }
        }
    }
}

/// The patched estimate of an inter picture.
pub fn inter_estimate(
    cur: &YuvFrame,
    vectors: &[MotionVector],
    display: usize,
    store: &[RefPic],
) -> YuvFrame {
    let (w, h) = (cur.width, cur.height);
    let py = Padded::new(&cur.y, w, h);
    let (gw, gh) = (py.width / 4, py.height / 4);
    let cells = rasterise(vectors, gw, gh);

    // Candidate references: L0 = up to 4 shown before (nearest first), L1 = up to 2 after.
    let mut before: Vec<&RefPic> = store.iter().filter(|r| r.display_index < display).collect();
    before.sort_by(|a, b| b.display_index.cmp(&a.display_index));
    before.truncate(4);
    let mut after: Vec<&RefPic> = store.iter().filter(|r| r.display_index > display).collect();
    after.sort_by(|a, b| a.display_index.cmp(&b.display_index));
    after.truncate(2);
    let refs = Refs {
        l0: before,
        l1: after,
    };

    let mut opts_l0 = Vec::new();
    let mut opts_l1 = Vec::new();
    let mut opts_bi = Vec::new();
    for i in 0..refs.l0.len() {
        opts_l0.push(Opt::L0(i));
    }
    for j in 0..refs.l1.len() {
        opts_l1.push(Opt::L1(j));
    }
    for (i, r0) in refs.l0.iter().enumerate() {
        for (j, r1) in refs.l1.iter().enumerate() {
            opts_bi.push(Opt::Avg(i, j));
            let (f, a, b) = (
                display as f64,
                r0.display_index as f64,
                r1.display_index as f64,
            );
            let w1 = (64.0 * (f - a) / (b - a)).round() as i64;
            if w1 > 0 && w1 < 64 && w1 != 32 {
                opts_bi.push(Opt::Weighted(i, j, w1 as u32));
            }
        }
    }

    // Category of each cell, given which candidate lists exist.
    let cat: Vec<Cat> = (0..gw * gh)
        .map(|k| {
            let has0 = cells.l0[k].is_some() && !opts_l0.is_empty();
            let has1 = cells.l1[k].is_some() && !opts_l1.is_empty();
            match (has0, has1) {
                (true, true) => Cat::Bi,
                (true, false) => Cat::L0,
                (false, true) => Cat::L1,
                _ => Cat::Intra,
            }
        })
        .collect();
    let mv_of = |k: usize| (cells.l0[k].unwrap_or((0, 0)), cells.l1[k].unwrap_or((0, 0)));

    // Least-SAD option per 8x8 block and category; the stock prediction per cell. Blocks
    // whose four cells share category and vectors (the usual case: H.264 exports 8x8 and
    // larger partitions) are predicted as one 8x8 block.
    let mut chosen: Vec<Option<Opt>> = vec![None; gw * gh];
    let mut pred = vec![[0u8; 16]; gw * gh];
    let (bgw, bgh) = (gw.div_ceil(2), gh.div_ceil(2));
    let mut uniform = vec![false; bgw * bgh];
    let mut tmp = [0u8; 16];
    let mut buf = [0u8; 64];
    let mut best_buf = [0u8; 64];
    let options = |c: Cat| -> &Vec<Opt> {
        match c {
            Cat::L0 => &opts_l0,
            Cat::L1 => &opts_l1,
            _ => &opts_bi,
        }
    };
    for by in 0..bgh {
        for bx in 0..bgw {
            let mut members: [(usize, usize, usize); 4] = [(0, 0, 0); 4];
            let mut n = 0;
            for dy in 0..2 {
                for dx in 0..2 {
                    let (cx, cy) = (bx * 2 + dx, by * 2 + dy);
                    if cx < gw && cy < gh {
                        members[n] = (cx, cy, cy * gw + cx);
                        n += 1;
                    }
                }
            }
            let k0 = members[0].2;
            let is_uniform = n == 4
                && cat[k0] != Cat::Intra
                && members
                    .iter()
                    .all(|m| cat[m.2] == cat[k0] && mv_of(m.2) == mv_of(k0));
            if is_uniform {
                uniform[by * bgw + bx] = true;
                let (m0, m1) = mv_of(k0);
                let mut best: Option<(u32, Opt)> = None;
                for &opt in options(cat[k0]) {
                    predict(
                        &refs,
                        opt,
                        Layer::Stock,
                        0,
                        bx * 8,
                        by * 8,
                        m0,
                        m1,
                        8,
                        8,
                        &mut buf,
                    );
                    let s = sad_at(&py, bx * 8, by * 8, 8, 8, &buf);
                    if best.is_none_or(|(b, _)| s < b) {
                        best = Some((s, opt));
                        best_buf = buf;
                    }
                }
                if let Some((_, opt)) = best {
                    for &(cx, cy, k) in &members {
                        chosen[k] = Some(opt);
                        let (ox, oy) = ((cx - bx * 2) * 4, (cy - by * 2) * 4);
                        for r in 0..4 {
                            pred[k][r * 4..r * 4 + 4].copy_from_slice(
                                &best_buf[(oy + r) * 8 + ox..(oy + r) * 8 + ox + 4],
                            );
                        }
                    }
                }
                continue;
            }
            for c in [Cat::L0, Cat::L1, Cat::Bi] {
                if !members[..n].iter().any(|m| cat[m.2] == c) {
                    continue;
                }
                let mut best: Option<(u32, Opt)> = None;
                let mut best_pred = [[0u8; 16]; 4];
                for &opt in options(c) {
                    let mut total = 0u32;
                    let mut preds = [[0u8; 16]; 4];
                    for (mi, &(cx, cy, k)) in members[..n].iter().enumerate() {
                        if cat[k] != c {
                            continue;
                        }
                        let (m0, m1) = mv_of(k);
                        predict(
                            &refs,
                            opt,
                            Layer::Stock,
                            0,
                            cx * 4,
                            cy * 4,
                            m0,
                            m1,
                            4,
                            4,
                            &mut tmp,
                        );
                        total += sad_at(&py, cx * 4, cy * 4, 4, 4, &tmp);
                        preds[mi] = tmp;
                    }
                    if best.is_none_or(|(s, _)| total < s) {
                        best = Some((total, opt));
                        best_pred = preds;
                    }
                }
                if let Some((_, opt)) = best {
                    for (mi, &(_, _, k)) in members[..n].iter().enumerate() {
                        if cat[k] == c {
                            chosen[k] = Some(opt);
                            pred[k] = best_pred[mi];
                        }
                    }
                }
            }
        }
    }

    // Patched luma: residual where coded, else the same option on the patched references.
    let mut out_y = Padded {
        data: vec![0; py.data.len()],
        width: py.width,
        height: py.height,
    };
    let mut coded = vec![false; gw * gh];
    for k in 0..gw * gh {
        if chosen[k].is_some() {
            let (cx, cy) = (k % gw, k / gw);
            let cur_b = py.block(cx, cy);
            let sum: i32 = cur_b
                .iter()
                .zip(&pred[k])
                .map(|(&a, &b)| (a as i32 - b as i32).abs())
                .sum();
            coded[k] = sum > 16;
        }
    }
    for by in 0..bgh {
        for bx in 0..bgw {
            let mut copy8: Option<[u8; 64]> = None;
            for dy in 0..2 {
                for dx in 0..2 {
                    let (cx, cy) = (bx * 2 + dx, by * 2 + dy);
                    if cx >= gw || cy >= gh {
                        continue;
                    }
                    let k = cy * gw + cx;
                    let block = match chosen[k] {
                        None => intra_block(&py, cx, cy, false),
                        Some(_) if coded[k] => {
                            let cur_b = py.block(cx, cy);
                            let p = &pred[k];
                            let mut b = [0u8; 16];
                            for i in 0..16 {
                                b[i] = (128 + cur_b[i] as i32 - p[i] as i32).clamp(0, 255) as u8;
                            }
                            b
                        }
                        Some(opt) => {
                            let (m0, m1) = mv_of(k);
                            let mut b = [0u8; 16];
                            if uniform[by * bgw + bx] {
                                let c8 = copy8.get_or_insert_with(|| {
                                    let mut c = [0u8; 64];
                                    predict(
                                        &refs,
                                        opt,
                                        Layer::Patched,
                                        0,
                                        bx * 8,
                                        by * 8,
                                        m0,
                                        m1,
                                        8,
                                        8,
                                        &mut c,
                                    );
                                    c
                                });
                                for r in 0..4 {
                                    b[r * 4..r * 4 + 4].copy_from_slice(
                                        &c8[(dy * 4 + r) * 8 + dx * 4
                                            ..(dy * 4 + r) * 8 + dx * 4 + 4],
                                    );
                                }
                            } else {
                                predict(
                                    &refs,
                                    opt,
                                    Layer::Patched,
                                    0,
                                    cx * 4,
                                    cy * 4,
                                    m0,
                                    m1,
                                    4,
                                    4,
                                    &mut b,
                                );
                            }
                            b
                        }
                    };
                    out_y.put_block(cx, cy, &block);
                }
            }
        }
    }

    // Patched chroma: each chroma 2x2 unit follows the luma cell at (2y, 2x); a chroma 4x4
    // block is one luma 8x8 block.
    let (cw, ch) = (cur.chroma_width(), cur.chroma_height());
    let mut planes_out = Vec::with_capacity(2);
    for (idx, src) in [(1usize, &cur.u), (2usize, &cur.v)] {
        let pc = Padded::new(src, cw, ch);
        let mut out = Padded {
            data: vec![0; pc.data.len()],
            width: pc.width,
            height: pc.height,
        };
        for by in 0..pc.height / 4 {
            for bx in 0..pc.width / 4 {
                let cur_b = pc.block(bx, by);
                let fast = bx < bgw && by < bgh && uniform[by * bgw + bx];
                let mut b = [0u8; 16];
                if fast {
                    let k = (by * 2) * gw + bx * 2;
                    let opt = chosen[k].unwrap_or(Opt::L0(0));
                    let (m0, m1) = mv_of(k);
                    let mut pr = [0u8; 16];
                    predict(
                        &refs,
                        opt,
                        Layer::Stock,
                        idx,
                        bx * 4,
                        by * 4,
                        m0,
                        m1,
                        4,
                        4,
                        &mut pr,
                    );
                    let sum: i32 = cur_b
                        .iter()
                        .zip(&pr)
                        .map(|(&a, &p)| (a as i32 - p as i32).abs())
                        .sum();
                    if sum > 16 {
                        for i in 0..16 {
                            b[i] = (128 + cur_b[i] as i32 - pr[i] as i32).clamp(0, 255) as u8;
                        }
                    } else {
                        predict(
                            &refs,
                            opt,
                            Layer::Patched,
                            idx,
                            bx * 4,
                            by * 4,
                            m0,
                            m1,
                            4,
                            4,
                            &mut b,
                        );
                    }
                    out.put_block(bx, by, &b);
                    continue;
                }
                // Stock prediction and residual of the inter units of this 4x4 block.
                let mut pr = [0u8; 16];
                let mut inter = [false; 16];
                let mut sum = 0i32;
                let mut count = 0i32;
                let mut units: [(usize, usize, usize); 4] = [(0, 0, 0); 4];
                for (u, unit) in units.iter_mut().enumerate() {
                    let (ux, uy) = (bx * 2 + (u & 1), by * 2 + (u >> 1));
                    let k = uy.min(gh - 1) * gw + ux.min(gw - 1);
                    *unit = (ux, uy, k);
                    if let Some(opt) = chosen[k] {
                        let (m0, m1) = mv_of(k);
                        let mut p2 = [0u8; 4];
                        predict(
                            &refs,
                            opt,
                            Layer::Stock,
                            idx,
                            ux * 2,
                            uy * 2,
                            m0,
                            m1,
                            2,
                            2,
                            &mut p2,
                        );
                        for (i, &v) in p2.iter().enumerate() {
                            let pos = ((u >> 1) * 2 + (i >> 1)) * 4 + (u & 1) * 2 + (i & 1);
                            pr[pos] = v;
                            inter[pos] = true;
                            sum += (cur_b[pos] as i32 - v as i32).abs();
                            count += 1;
                        }
                    }
                }
                let coded = sum > count;
                let intra = if inter.iter().all(|&x| x) {
                    None
                } else {
                    Some(intra_block(&pc, bx, by, true))
                };
                for (u, &(ux, uy, k)) in units.iter().enumerate() {
                    let mut copy = [0u8; 4];
                    if let (Some(opt), false) = (chosen[k], coded) {
                        let (m0, m1) = mv_of(k);
                        predict(
                            &refs,
                            opt,
                            Layer::Patched,
                            idx,
                            ux * 2,
                            uy * 2,
                            m0,
                            m1,
                            2,
                            2,
                            &mut copy,
                        );
                    }
                    for (i, &c) in copy.iter().enumerate() {
                        let pos = ((u >> 1) * 2 + (i >> 1)) * 4 + (u & 1) * 2 + (i & 1);
                        b[pos] = if !inter[pos] {
                            intra.as_ref().map_or(128, |ib| ib[pos])
                        } else if coded {
                            (128 + cur_b[pos] as i32 - pr[pos] as i32).clamp(0, 255) as u8
                        } else {
                            c
                        };
                    }
                }
                out.put_block(bx, by, &b);
            }
        }
        planes_out.push(out.crop(cw, ch));
    }
    let v = planes_out.pop().unwrap_or_default();
    let u = planes_out.pop().unwrap_or_default();
    YuvFrame {
        width: w,
        height: h,
        y: out_y.crop(w, h),
        u,
        v,
    }
}

/// SAD between the `bw x bh` block at (x, y) of a padded plane and `pred`.
fn sad_at(p: &Padded, x: usize, y: usize, bw: usize, bh: usize, pred: &[u8]) -> u32 {
    let mut s = 0u32;
    for r in 0..bh {
        let row = &p.data[(y + r) * p.width + x..(y + r) * p.width + x + bw];
        let pr = &pred[r * bw..(r + 1) * bw];
        for (&a, &b) in row.iter().zip(pr) {
            s += (a as i32 - b as i32).unsigned_abs();
        }
    }
    s
}
