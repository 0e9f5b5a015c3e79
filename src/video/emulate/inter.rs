//! The inter estimate (SPEC 2.2 steps 2-4): vectors rasterised over 4x4 cells, candidate
//! references and prediction options, a least-SAD choice per 8x8 block, the coded test, and
//! the patched picture (residual where coded, otherwise a copy of the patched references).

use rayon::prelude::*;

use super::block::store;
use super::intra::{intra_block, residual4x4, residual_sample, sad, Padded};
use super::mc::{
    average, average8x8, copy8x8, mc_chroma, mc_chroma_uv, mc_luma, mc_luma8_view, prefetch_band,
    quarter_sads8x8, residual8x8, sad8x8, weighted, weighted8x8, PlaneRef, View,
};
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
    // The two lists are independent: each is filled on its own thread.
    let (l0, l1) = rayon::join(
        || rasterise_list(vectors, gw, gh, |s| s < 0),
        || rasterise_list(vectors, gw, gh, |s| s > 0),
    );
    Cells { l0, l1 }
}

/// The cells of the vectors whose `source` passes `list`, later vectors over earlier ones.
fn rasterise_list(
    vectors: &[MotionVector],
    gw: usize,
    gh: usize,
    list: impl Fn(i32) -> bool,
) -> Vec<Option<(i32, i32)>> {
    let mut cells = vec![None; gw * gh];
    for mv in vectors {
        if !list(mv.source) || mv.w == 0 || mv.h == 0 {
            continue;
        }
        let q = mv.quarter_pel();
        let x0 = i32::from(mv.dst_x) - i32::from(mv.w) / 2;
        let y0 = i32::from(mv.dst_y) - i32::from(mv.h) / 2;
        let cx0 = x0.div_euclid(4).max(0);
        let cy0 = y0.div_euclid(4).max(0);
        let cx1 = (x0 + i32::from(mv.w) - 1).div_euclid(4).min(gw as i32 - 1);
        let cy1 = (y0 + i32::from(mv.h) - 1).div_euclid(4).min(gh as i32 - 1);
        if cx0 > cx1 {
            continue;
        }
        for cy in cy0..=cy1 {
            let row = cy as usize * gw;
            cells[row + cx0 as usize..=row + cx1 as usize].fill(Some(q));
        }
    }
    cells
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

/// The prediction under `opt`: `one(l0, i)` is candidate `i` of list 0 (`l0` true) or of
/// list 1 compensated, `mix` averages two of them (weighted by `w1` where given).
#[inline(always)]
fn by_option<T>(
    opt: Opt,
    one: impl Fn(bool, usize) -> T,
    mix: impl Fn(&T, &T, Option<u32>) -> T,
) -> T {
    match opt {
        Opt::L0(i) => one(true, i),
        Opt::L1(j) => one(false, j),
        Opt::Avg(i, j) => mix(&one(true, i), &one(false, j), None),
        Opt::Weighted(i, j, w1) => mix(&one(true, i), &one(false, j), Some(w1)),
    }
}

impl Refs<'_> {
    /// Candidate `i` of list 0 (`l0` true) or list 1, and the vector that list uses.
    #[inline(always)]
    fn pick(&self, l0: bool, i: usize, mv0: (i32, i32), mv1: (i32, i32)) -> (&RefPic, (i32, i32)) {
        if l0 {
            (self.l0[i], mv0)
        } else {
            (self.l1[i], mv1)
        }
    }
}

/// The first `n` samples of `a` and `b` averaged, or weighted by `w1` where given.
#[inline(always)]
fn mix16(a: &[u8; 16], b: &[u8; 16], w1: Option<u32>, n: usize) -> [u8; 16] {
    let mut out = [0u8; 16];
    match w1 {
        Some(w1) => weighted(&a[..n], &b[..n], w1, &mut out),
        None => average(&a[..n], &b[..n], &mut out),
    }
    out
}

/// Prediction of the `N x N` block at (x, y) of plane `idx` under `opt` (`N` is 2 or 4;
/// row-major in the first `N * N` samples).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn predict<const N: usize>(
    refs: &Refs,
    opt: Opt,
    layer: Layer,
    idx: usize,
    x: usize,
    y: usize,
    mv0: (i32, i32),
    mv1: (i32, i32),
) -> [u8; 16] {
    let one = |l0, i| {
        let (r, mv) = refs.pick(l0, i, mv0, mv1);
        let mut o = [0u8; 16];
        let p = plane(r, layer, idx);
        if idx == 0 {
            mc_luma::<N>(p, x, y, mv.0, mv.1, &mut o)
        } else {
            mc_chroma::<N>(p, x, y, mv.0, mv.1, &mut o)
        }
        o
    };
    by_option(opt, one, |a, b, w1| mix16(a, b, w1, N * N))
}

/// Prediction of the `N x N` block at chroma (x, y) of both chroma planes under `opt`
/// (`N` is 2 or 4; row-major in the first `N * N` samples of each array).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn predict_uv<const N: usize>(
    refs: &Refs,
    opt: Opt,
    layer: Layer,
    x: usize,
    y: usize,
    mv0: (i32, i32),
    mv1: (i32, i32),
) -> [[u8; 16]; 2] {
    let one = |l0, i| {
        let (r, mv) = refs.pick(l0, i, mv0, mv1);
        let mut o = [[0u8; 16]; 2];
        let (u, v) = (plane(r, layer, 1), plane(r, layer, 2));
        let [ou, ov] = &mut o;
        mc_chroma_uv::<N>(u, v, x, y, mv.0, mv.1, ou, ov);
        o
    };
    let mix =
        |a: &[[u8; 16]; 2], b: &[[u8; 16]; 2], w1| [0, 1].map(|c| mix16(&a[c], &b[c], w1, N * N));
    by_option(opt, one, mix)
}

/// Luma prediction of the 8x8 block at (x, y) under `opt`.
#[allow(clippy::too_many_arguments)]
fn predict8(
    refs: &Refs,
    opt: Opt,
    layer: Layer,
    x: usize,
    y: usize,
    mv0: (i32, i32),
    mv1: (i32, i32),
    out: &mut [u8; 64],
) {
    let (mut ba, mut bb) = ([0u8; 64], [0u8; 64]);
    fn view<'a>(
        r: &'a RefPic,
        layer: Layer,
        x: usize,
        y: usize,
        mv: (i32, i32),
        buf: &'a mut [u8; 64],
    ) -> View<'a> {
        mc_luma8_view(plane(r, layer, 0), x, y, mv.0, mv.1, buf)
    }
    match opt {
        Opt::L0(i) => copy8x8(view(refs.l0[i], layer, x, y, mv0, &mut ba), out),
        Opt::L1(j) => copy8x8(view(refs.l1[j], layer, x, y, mv1, &mut ba), out),
        Opt::Avg(i, j) => average8x8(
            view(refs.l0[i], layer, x, y, mv0, &mut ba),
            view(refs.l1[j], layer, x, y, mv1, &mut bb),
            out,
        ),
        Opt::Weighted(i, j, w1) => weighted8x8(
            view(refs.l0[i], layer, x, y, mv0, &mut ba),
            view(refs.l1[j], layer, x, y, mv1, &mut bb),
            w1,
            out,
        ),
    }
}

/// Everything one block row needs, shared read-only between threads.
struct Ctx<'a> {
    refs: Refs<'a>,
    py: Padded<'a>,
    pu: Padded<'a>,
    pv: Padded<'a>,
    gw: usize,
    gh: usize,
    cat: Vec<Cat>,
    cells: Cells,
    opts_l0: Vec<Opt>,
    opts_l1: Vec<Opt>,
    opts_bi: Vec<Opt>,
}

impl Ctx<'_> {
    fn options(&self, c: Cat) -> &[Opt] {
        match c {
            Cat::L0 => &self.opts_l0,
            Cat::L1 => &self.opts_l1,
            _ => &self.opts_bi,
        }
    }

    fn mv_of(&self, k: usize) -> ((i32, i32), (i32, i32)) {
        (
            self.cells.l0[k].unwrap_or((0, 0)),
            self.cells.l1[k].unwrap_or((0, 0)),
        )
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
    let (cw, ch) = (cur.chroma_width(), cur.chroma_height());
    let chroma = cur.has_chroma();
    let (pu, pv) = if chroma {
        (Padded::new(&cur.u, cw, ch), Padded::new(&cur.v, cw, ch))
    } else {
        (Padded::zeroed(0, 0), Padded::zeroed(0, 0))
    };
    let (gw, gh) = (py.width / 4, py.height / 4);
    let cells = rasterise(vectors, gw, gh);

    // Candidate references: L0 = up to 4 shown before (nearest first), L1 = up to 2 after.
    let mut before: Vec<&RefPic> = store
        .iter()
        .filter(|r| r.live && r.display_index < display)
        .collect();
    before.sort_by_key(|r| std::cmp::Reverse(r.display_index));
    before.truncate(4);
    let mut after: Vec<&RefPic> = store
        .iter()
        .filter(|r| r.live && r.display_index > display)
        .collect();
    after.sort_by_key(|r| r.display_index);
    after.truncate(2);

    let opts_l0: Vec<Opt> = (0..before.len()).map(Opt::L0).collect();
    let opts_l1: Vec<Opt> = (0..after.len()).map(Opt::L1).collect();
    let mut opts_bi = Vec::new();
    for (i, r0) in before.iter().enumerate() {
        for (j, r1) in after.iter().enumerate() {
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
    // Category of each cell, given which candidate lists exist; bands of cell rows on the
    // pool, each a plain loop.
    let (any0, any1) = (!opts_l0.is_empty(), !opts_l1.is_empty());
    let band = gw.max(1) * 16;
    let mut cat = vec![Cat::Intra; gw * gh];
    cat.par_chunks_mut(band)
        .zip(cells.l0.par_chunks(band).zip(cells.l1.par_chunks(band)))
        .for_each(|(out, (l0, l1))| {
            for ((c, m0), m1) in out.iter_mut().zip(l0).zip(l1) {
                *c = match (any0 && m0.is_some(), any1 && m1.is_some()) {
                    (true, true) => Cat::Bi,
                    (true, false) => Cat::L0,
                    (false, true) => Cat::L1,
                    _ => Cat::Intra,
                };
            }
        });
    let ctx = Ctx {
        refs: Refs {
            l0: before,
            l1: after,
        },
        py,
        pu,
        pv,
        gw,
        gh,
        cat,
        cells,
        opts_l0,
        opts_l1,
        opts_bi,
    };
    let bgh = gh.div_ceil(2);
    // Each block row writes its own rows of the output planes: up to 8 padded luma rows
    // and 4 of each chroma plane.
    let mut out_y = Padded::zeroed(ctx.py.width, ctx.py.height);
    let luma_rows = out_y.data.to_mut().par_chunks_mut(8 * ctx.py.width);
    if !chroma {
        luma_rows.enumerate().for_each_init(
            || RowChoice::new(gw),
            |row, (by, y)| block_row(&ctx, by, y, None, row),
        );
        return YuvFrame::luma_only(w, h, out_y.into_cropped(w, h));
    }
    let mut out_u = Padded::zeroed(ctx.pu.width, ctx.pu.height);
    let mut out_v = Padded::zeroed(ctx.pv.width, ctx.pv.height);
    debug_assert_eq!(ctx.pu.height, 4 * bgh);
    luma_rows
        .zip(out_u.data.to_mut().par_chunks_mut(4 * ctx.pu.width))
        .zip(out_v.data.to_mut().par_chunks_mut(4 * ctx.pv.width))
        .enumerate()
        .for_each_init(
            || RowChoice::new(gw),
            |row, (by, ((y, u), v))| block_row(&ctx, by, y, Some([u, v]), row),
        );
    YuvFrame {
        width: w,
        height: h,
        y: out_y.into_cropped(w, h),
        u: out_u.into_cropped(cw, ch),
        v: out_v.into_cropped(cw, ch),
    }
}

/// The choices made for one row of 8x8 blocks (two rows of 4x4 cells).
struct RowChoice {
    /// Per cell of the row pair: the chosen option (`None`: intra).
    chosen: Vec<Option<Opt>>,
    /// Per cell of a non-uniform block: its stock prediction under the chosen option.
    pred: Vec<[u8; 16]>,
    /// Per 8x8 block: chosen and patched as one block.
    uniform: Vec<bool>,
}

impl RowChoice {
    /// Buffers for rows `gw` cells wide, reused from row to row.
    fn new(gw: usize) -> RowChoice {
        RowChoice {
            chosen: vec![None; 2 * gw],
            pred: vec![[0u8; 16]; 2 * gw],
            uniform: vec![false; gw.div_ceil(2)],
        }
    }

    /// Forgets the previous row's choices. `pred` keeps stale samples: it is read only
    /// where this row chose an option for a cell of a non-uniform block, which writes it.
    fn clear(&mut self) {
        self.chosen.fill(None);
        self.uniform.fill(false);
    }

    /// The index of cell (cx, cy) in this row pair.
    fn local(&self, by: usize, cx: usize, cy: usize) -> usize {
        (cy - by * 2) * (self.chosen.len() / 2) + cx
    }
}

/// One row of 8x8 blocks: least-SAD option per block and category, the patched luma
/// (residual where coded, else the same option on the patched references), and the
/// matching row of chroma 4x4 blocks where the picture has chroma.
fn block_row(
    ctx: &Ctx,
    by: usize,
    y: &mut [u8],
    chroma: Option<[&mut [u8]; 2]>,
    row: &mut RowChoice,
) {
    let (gw, gh) = (ctx.gw, ctx.gh);
    let bgw = gw.div_ceil(2);
    row.clear();
    let mut mc_bufs = [[0u8; 64]; 6];
    // The next block row's band of every candidate reference (stock luma, which every
    // option reads), asked for now so that it arrives while this row is worked on.
    for r in ctx.refs.l0.iter().chain(&ctx.refs.l1) {
        prefetch_band(plane(r, Layer::Stock, 0), by * 8 + 6, by * 8 + 18);
    }
    for bx in 0..bgw {
        let mut members = [(0, 0, 0); 4];
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
        let members = &members[..n];
        let k0 = members[0].2;
        let is_uniform = n == 4
            && ctx.cat[k0] != Cat::Intra
            && members
                .iter()
                .all(|m| ctx.cat[m.2] == ctx.cat[k0] && ctx.mv_of(m.2) == ctx.mv_of(k0));
        if !is_uniform {
            choose_cells(ctx, by, members, row);
            continue;
        }
        row.uniform[bx] = true;
        let (m0, m1) = ctx.mv_of(k0);
        let u = Uniform8 {
            bx,
            by,
            cat: ctx.cat[k0],
            m0,
            m1,
            cur: ctx.py.block8(bx, by),
        };
        if let Some((opt, best)) = choose8(ctx, &u, &mut mc_bufs) {
            for &(cx, cy, _) in members {
                let l = row.local(by, cx, cy);
                row.chosen[l] = Some(opt);
            }
            patched_luma8(ctx, &u, opt, &best, &mut y[bx * 8..]);
        }
    }
    patched_luma_cells(ctx, by, row, y);
    if let Some(chroma) = chroma {
        patched_chroma_row(ctx, by, row, chroma);
    }
}

/// The stock predictions of one cell from every candidate reference its category uses.
struct CellMc {
    l0: [[u8; 16]; 4],
    l1: [[u8; 16]; 2],
}

impl CellMc {
    /// The prediction under `opt`: the options only combine the compensated references.
    fn combine(&self, opt: Opt) -> [u8; 16] {
        let one = |l0, i| if l0 { self.l0[i] } else { self.l1[i] };
        by_option(opt, one, |a, b, w1| mix16(a, b, w1, 16))
    }
}

/// The least-SAD option per category over the inter cells of a block that is not uniform
/// (SADs summed over the block's cells of that category), and each cell's prediction.
fn choose_cells(ctx: &Ctx, by: usize, members: &[(usize, usize, usize)], row: &mut RowChoice) {
    let mut cur = [[0u8; 16]; 4];
    let mut mc = [const {
        CellMc {
            l0: [[0; 16]; 4],
            l1: [[0; 16]; 2],
        }
    }; 4];
    for (mi, &(cx, cy, k)) in members.iter().enumerate() {
        let c = ctx.cat[k];
        if c == Cat::Intra {
            continue;
        }
        cur[mi] = ctx.py.block(cx, cy);
        let (m0, m1) = ctx.mv_of(k);
        let (x, y) = (cx * 4, cy * 4);
        if c != Cat::L1 {
            for (r, out) in ctx.refs.l0.iter().zip(&mut mc[mi].l0) {
                mc_luma::<4>(plane(r, Layer::Stock, 0), x, y, m0.0, m0.1, out);
            }
        }
        if c != Cat::L0 {
            for (r, out) in ctx.refs.l1.iter().zip(&mut mc[mi].l1) {
                mc_luma::<4>(plane(r, Layer::Stock, 0), x, y, m1.0, m1.1, out);
            }
        }
    }
    for c in [Cat::L0, Cat::L1, Cat::Bi] {
        let of_c = || {
            members
                .iter()
                .enumerate()
                .filter(move |(_, m)| ctx.cat[m.2] == c)
        };
        if of_c().next().is_none() {
            continue;
        }
        let mut best: Option<(u32, Opt)> = None;
        for &opt in ctx.options(c) {
            let total: u32 = of_c()
                .map(|(mi, _)| sad(&cur[mi], &mc[mi].combine(opt)))
                .sum();
            if best.is_none_or(|(s, _)| total < s) {
                best = Some((total, opt));
            }
        }
        if let Some((_, opt)) = best {
            for (mi, &(cx, cy, _)) in of_c() {
                let l = row.local(by, cx, cy);
                row.chosen[l] = Some(opt);
                row.pred[l] = mc[mi].combine(opt);
            }
        }
    }
}

/// Writes `b` as the 4x4 block at column `bx4` of 4-row band `row4` of `dst`.
fn put4x4(dst: &mut [u8], stride: usize, bx4: usize, row4: usize, b: &[u8; 16]) {
    store::<4, 16>(dst, stride, row4 * 4 * stride + bx4 * 4, b);
}

/// The patched luma of the cells of this row's non-uniform blocks: intra where no option
/// was chosen, the residual where coded, else the option on the patched references.
fn patched_luma_cells(ctx: &Ctx, by: usize, row: &RowChoice, y: &mut [u8]) {
    let gw = ctx.gw;
    let cell_rows = (ctx.gh - by * 2).min(2);
    for dy in 0..cell_rows {
        let cy = by * 2 + dy;
        for cx in (0..gw).filter(|cx| !row.uniform[cx / 2]) {
            let l = dy * gw + cx;
            let block = match row.chosen[l] {
                None => intra_block(&ctx.py, cx, cy, false),
                Some(opt) => {
                    let cur = ctx.py.block(cx, cy);
                    if sad(&cur, &row.pred[l]) > 16 {
                        residual4x4(&cur, &row.pred[l])
                    } else {
                        let (m0, m1) = ctx.mv_of(cy * gw + cx);
                        let (x, y) = (cx * 4, cy * 4);
                        predict::<4>(&ctx.refs, opt, Layer::Patched, 0, x, y, m0, m1)
                    }
                }
            };
            put4x4(y, ctx.py.width, cx, dy, &block);
        }
    }
}

/// The patched rows of 4x4 blocks of both chroma planes. Each chroma 2x2 unit follows the
/// luma cell at (2y, 2x); a chroma 4x4 block is one luma 8x8 block. Both planes share
/// every vector, so each is compensated for both at once.
fn patched_chroma_row(ctx: &Ctx, by: usize, row: &RowChoice, out: [&mut [u8]; 2]) {
    let gw = ctx.gw;
    let bgw = row.uniform.len();
    let planes = [&ctx.pu, &ctx.pv];
    let cw = ctx.pu.width;
    let [out_u, out_v] = out;
    for bx in 0..cw / 4 {
        let cur = planes.map(|p| p.block(bx, by));
        let blocks = if bx < bgw && row.uniform[bx] {
            let k = (by * 2) * gw + bx * 2;
            let opt = row.chosen[row.local(by, bx * 2, by * 2)].unwrap_or(Opt::L0(0));
            let (m0, m1) = ctx.mv_of(k);
            let (x, y) = (bx * 4, by * 4);
            let stock = predict_uv::<4>(&ctx.refs, opt, Layer::Stock, x, y, m0, m1);
            let coded = [0, 1].map(|i| sad(&cur[i], &stock[i]) > 16);
            let patched = if coded.contains(&false) {
                predict_uv::<4>(&ctx.refs, opt, Layer::Patched, x, y, m0, m1)
            } else {
                [[0u8; 16]; 2]
            };
            [0, 1].map(|i| {
                if coded[i] {
                    residual4x4(&cur[i], &stock[i])
                } else {
                    patched[i]
                }
            })
        } else {
            mixed_chroma_block(ctx, by, bx, row, &cur, planes)
        };
        put4x4(out_u, cw, bx, 0, &blocks[0]);
        put4x4(out_v, cw, bx, 0, &blocks[1]);
    }
}

/// The patched chroma 4x4 block `bx` of this row, both planes, where the luma block is not
/// uniform: per 2x2 unit the choice of its luma cell, intra (DC) for units without one,
/// and the coded test over the block's inter units.
fn mixed_chroma_block(
    ctx: &Ctx,
    by: usize,
    bx: usize,
    row: &RowChoice,
    cur: &[[u8; 16]; 2],
    planes: [&Padded; 2],
) -> [[u8; 16]; 2] {
    let (gw, gh) = (ctx.gw, ctx.gh);
    // Sample `i` of unit `u` within the 4x4 block.
    let pos = |u: usize, i: usize| ((u >> 1) * 2 + (i >> 1)) * 4 + (u & 1) * 2 + (i & 1);
    // Stock prediction of the inter units of this block, per plane.
    let mut pr = [[0u8; 16]; 2];
    let mut inter = [false; 16];
    let mut units: [(usize, usize, usize, Option<Opt>); 4] = [(0, 0, 0, None); 4];
    for (u, unit) in units.iter_mut().enumerate() {
        let (ux, uy) = (bx * 2 + (u & 1), by * 2 + (u >> 1));
        let (cx, cy) = (ux.min(gw - 1), uy.min(gh - 1));
        let k = cy * gw + cx;
        // The cell's choice lives in this row's buffer unless the unit was clamped into
        // the row above (bottom edge), where only intra is assumed.
        let opt = if cy >= by * 2 {
            row.chosen[row.local(by, cx, cy)]
        } else {
            None
        };
        *unit = (ux, uy, k, opt);
        if let Some(opt) = opt {
            let (m0, m1) = ctx.mv_of(k);
            let p2 = predict_uv::<2>(&ctx.refs, opt, Layer::Stock, ux * 2, uy * 2, m0, m1);
            for i in 0..4 {
                inter[pos(u, i)] = true;
                for c in 0..2 {
                    pr[c][pos(u, i)] = p2[c][i];
                }
            }
        }
    }
    let coded = [0, 1].map(|c| {
        let (sum, count) = (0..16)
            .filter(|&i| inter[i])
            .fold((0i32, 0i32), |(s, n), i| {
                (s + (cur[c][i] as i32 - pr[c][i] as i32).abs(), n + 1)
            });
        sum > count
    });
    let all_inter = inter.iter().all(|&x| x);
    let mut out = [[0u8; 16]; 2];
    for c in 0..2 {
        let intra = (!all_inter).then(|| intra_block(planes[c], bx, by, true));
        for (u, &(ux, uy, k, opt)) in units.iter().enumerate() {
            let mut copy = [0u8; 4];
            if let (Some(opt), false) = (opt, coded[c]) {
                let (m0, m1) = ctx.mv_of(k);
                let (x, y) = (ux * 2, uy * 2);
                let p = predict::<2>(&ctx.refs, opt, Layer::Patched, c + 1, x, y, m0, m1);
                copy.copy_from_slice(&p[..4]);
            }
            for (i, &v) in copy.iter().enumerate() {
                let p = pos(u, i);
                out[c][p] = if !inter[p] {
                    intra.as_ref().map_or(128, |ib| ib[p])
                } else if coded[c] {
                    residual_sample(cur[c][p], pr[c][p])
                } else {
                    v
                };
            }
        }
    }
    out
}

/// A uniform 8x8 block: every cell of one category and one vector pair.
struct Uniform8 {
    bx: usize,
    by: usize,
    cat: Cat,
    m0: (i32, i32),
    m1: (i32, i32),
    /// The decoded samples.
    cur: [u8; 64],
}

/// The least-SAD option of a uniform 8x8 block and its stock prediction. Each reference is
/// motion-compensated once; the options only combine them.
fn choose8(ctx: &Ctx, u: &Uniform8, mc_bufs: &mut [[u8; 64]; 6]) -> Option<(Opt, [u8; 64])> {
    let Uniform8 {
        bx,
        by,
        cat,
        m0,
        m1,
        ref cur,
    } = *u;
    let n0 = if cat == Cat::L1 { 0 } else { ctx.refs.l0.len() };
    let n1 = if cat == Cat::L0 { 0 } else { ctx.refs.l1.len() };
    let (bufs0, bufs1) = mc_bufs.split_at_mut(4);
    let empty = View {
        data: &[],
        stride: 0,
    };
    let mut v0 = [empty; 4];
    for ((v, buf), r) in v0.iter_mut().zip(bufs0).zip(&ctx.refs.l0).take(n0) {
        *v = mc_luma8_view(plane(r, Layer::Stock, 0), bx * 8, by * 8, m0.0, m0.1, buf);
    }
    let mut v1 = [empty; 2];
    for ((v, buf), r) in v1.iter_mut().zip(bufs1).zip(&ctx.refs.l1).take(n1) {
        *v = mc_luma8_view(plane(r, Layer::Stock, 0), bx * 8, by * 8, m1.0, m1.1, buf);
    }
    let mut tmp = [0u8; 64];
    let mut best: Option<(u32, Opt)> = None;
    for &opt in ctx.options(cat) {
        let s = match opt {
            Opt::L0(i) => sad8x8(cur, v0[i]),
            Opt::L1(j) => sad8x8(cur, v1[j]),
            Opt::Avg(i, j) => {
                average8x8(v0[i], v1[j], &mut tmp);
                sad8x8(cur, View::of8x8(&tmp))
            }
            Opt::Weighted(i, j, w1) => {
                weighted8x8(v0[i], v1[j], w1, &mut tmp);
                sad8x8(cur, View::of8x8(&tmp))
            }
        };
        if best.is_none_or(|(b, _)| s < b) {
            best = Some((s, opt));
        }
    }
    let (_, opt) = best?;
    match opt {
        Opt::L0(i) => copy8x8(v0[i], &mut tmp),
        Opt::L1(j) => copy8x8(v1[j], &mut tmp),
        Opt::Avg(i, j) => average8x8(v0[i], v1[j], &mut tmp),
        Opt::Weighted(i, j, w1) => weighted8x8(v0[i], v1[j], w1, &mut tmp),
    }
    Some((opt, tmp))
}

/// The patched luma of a uniform 8x8 block, written to `out` (stride: the padded width):
/// per 4x4 cell, `128 + Y - prediction` where coded (mean |r| > 1), else the same option
/// applied to the patched references.
fn patched_luma8(ctx: &Ctx, u: &Uniform8, opt: Opt, pred: &[u8; 64], out: &mut [u8]) {
    let Uniform8 {
        bx,
        by,
        m0,
        m1,
        ref cur,
        ..
    } = *u;
    let coded = quarter_sads8x8(cur, pred).map(|s| s > 16);
    let mut copy = [0u8; 64];
    if coded.contains(&false) {
        // Views straight into the patched reference where the vector is whole-pel.
        predict8(
            &ctx.refs,
            opt,
            Layer::Patched,
            bx * 8,
            by * 8,
            m0,
            m1,
            &mut copy,
        );
    }
    let residual = residual8x8(cur, pred);
    let mut block = [0u8; 64];
    for r in 0..8 {
        for h in 0..2 {
            let i = r * 8 + h * 4;
            let src = if coded[(r >> 2) * 2 + h] {
                &residual
            } else {
                &copy
            };
            block[i..i + 4].copy_from_slice(&src[i..i + 4]);
        }
    }
    store::<8, 64>(out, ctx.py.width, 0, &block);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(source: i32, w: u8, h: u8, dst_x: i16, dst_y: i16, motion_x: i32) -> MotionVector {
        MotionVector {
            source,
            w,
            h,
            src_x: dst_x,
            src_y: dst_y,
            dst_x,
            dst_y,
            motion_x,
            motion_y: -motion_x,
            motion_scale: 4,
        }
    }

    /// Vectors inside, across the edges of and wholly off a 5x3 cell grid, in both lists
    /// and overlapping, rasterise as a cell-by-cell test of the covered pixels says: the
    /// last vector of a list covering a cell wins, source 0 and empty blocks count nowhere.
    #[test]
    fn rasterising_covers_the_cells_each_block_touches() {
        let (gw, gh) = (5, 3);
        let vectors = [
            mv(-1, 16, 16, 8, 8, 4),
            mv(-1, 8, 8, 12, 4, 8),
            mv(1, 16, 8, 18, 8, 12),
            mv(-1, 16, 16, -8, 4, 16),
            mv(1, 8, 16, 40, 30, 20),
            mv(-1, 8, 8, -30, -30, 24),
            mv(0, 16, 16, 8, 8, 28),
            mv(1, 0, 8, 8, 8, 32),
            mv(-1, 4, 4, 19, 11, 36),
        ];
        let cells = rasterise(&vectors, gw, gh);
        for (list, got) in [(-1, &cells.l0), (1, &cells.l1)] {
            for cy in 0..gh as i32 {
                for cx in 0..gw as i32 {
                    // The last vector of the list that covers the cell.
                    let want = vectors
                        .iter()
                        .rev()
                        .filter(|v| v.source.signum() == list && v.w > 0 && v.h > 0)
                        .find(|v| {
                            let x0 = i32::from(v.dst_x) - i32::from(v.w) / 2;
                            let y0 = i32::from(v.dst_y) - i32::from(v.h) / 2;
                            let (x1, y1) = (x0 + i32::from(v.w) - 1, y0 + i32::from(v.h) - 1);
                            // Cells out of range are clamped onto the grid's edge.
                            let (ex0, ey0) = (x0.div_euclid(4).max(0), y0.div_euclid(4).max(0));
                            let ex1 = x1.div_euclid(4).min(gw as i32 - 1);
                            let ey1 = y1.div_euclid(4).min(gh as i32 - 1);
                            (ex0..=ex1).contains(&cx) && (ey0..=ey1).contains(&cy)
                        })
                        .map(|v| v.quarter_pel());
                    assert_eq!(
                        got[cy as usize * gw + cx as usize],
                        want,
                        "list {list} cell ({cx}, {cy})"
                    );
                }
            }
        }
        assert!(cells.l0.iter().any(Option::is_some) && cells.l1.iter().any(Option::is_some));
    }
}
