//! Reconstruction of a macroblock from its record: prediction, then residual.

use crate::error::{Error, Result};
use crate::frame::{FrameState, PicData, RefPic, Samples};
use crate::inter::{self, Plane, Weighting};
use crate::intra::{self, Avail};
use crate::mb::{MbKind, MbRecord};
use crate::slice::Weight;
use crate::tables::{chroma_qp, BLK_XY};
use crate::transform::{add_residual, idct4, idct8, Dequant, Mode};

/// Slice-level data used by reconstruction.
pub struct ReconEnv<'a> {
    pub mode: Mode,
    pub chroma_qp_offset: [i32; 2],
    pub dequant: &'a Dequant,
    pub refs: &'a [Vec<RefPic>; 2],
    /// Explicit weights (per list, per reference index) when used.
    pub explicit: Option<(&'a [Vec<Weight>; 2], u32, u32)>,
    /// Implicit bi-prediction weights w0 indexed [ref0 * 32 + ref1].
    pub implicit: Option<&'a [i32]>,
    /// For skipped macroblocks: the coded block pattern and coefficient
    /// counts left by the previous coded macroblock. The reference decoder
    /// runs its inverse transform over those (all-zero) blocks again.
    pub skip_residue: Option<(u8, [u8; 24])>,
}

/// Availability of the neighbouring macroblocks for intra prediction:
/// (left, top, top-right, top-left). Known once the neighbours are parsed, so
/// the parsing side works it out for reconstruction.
pub fn mb_avail(
    fs: &FrameState,
    slice: u32,
    constrained_intra_pred: bool,
    rec: &MbRecord,
) -> [bool; 4] {
    if !rec.kind.is_intra() {
        return [false; 4];
    }
    let ok = |dx, dy| -> bool {
        match fs.neighbour(rec.mbx, rec.mby, dx, dy, slice) {
            Some(a) => !constrained_intra_pred || fs.mbs[a].kind.is_intra(),
            None => false,
        }
    };
    [ok(-1, 0), ok(0, -1), ok(1, -1), ok(-1, -1)]
}

/// Availability for a sub-block at (bx, by) of size `n` 4x4 units, blocks of
/// the current macroblock being decoded in z-order.
fn block_avail(
    m: [bool; 4],
    bx: usize,
    by: usize,
    n: usize,
    blk_order: &dyn Fn(usize, usize) -> usize,
) -> Avail {
    let left = bx > 0 || m[0];
    let top = by > 0 || m[1];
    let top_left = match (bx > 0, by > 0) {
        (true, true) => true,
        (false, true) => m[0],
        (true, false) => m[1],
        (false, false) => m[3],
    };
    let tx = bx + n;
    let top_right = if by == 0 {
        if tx < 4 {
            m[1]
        } else {
            m[2]
        }
    } else if tx >= 4 {
        false
    } else {
        blk_order(tx, by - 1) < blk_order(bx, by)
    };
    Avail {
        left,
        top,
        top_right,
        top_left,
    }
}

fn z4(x: usize, y: usize) -> usize {
    crate::tables::RASTER_TO_BLK[y * 4 + x]
}

fn z8(x: usize, y: usize) -> usize {
    (y / 2) * 2 + x / 2
}

/// Reconstructs one macroblock into `fs`, its neighbours' availability for
/// intra prediction being `m` ([`mb_avail`]). Fails only where
/// [`check_refs`] does, having written what comes before the failing block.
pub fn reconstruct(env: &ReconEnv, fs: &mut Samples, rec: &MbRecord, m: [bool; 4]) -> Result<()> {
    let ys = fs.mb_w * 16;
    let cs = fs.mb_w * 8;
    let lx = rec.mbx * 16;
    let ly = rec.mby * 16;
    let cx = rec.mbx * 8;
    let cy = rec.mby * 8;
    if rec.kind == MbKind::IPcm {
        for j in 0..16 {
            fs.y[(ly + j) * ys + lx..(ly + j) * ys + lx + 16]
                .copy_from_slice(&rec.pcm[j * 16..j * 16 + 16]);
        }
        let chroma_rows = if fs.has_chroma() { 8 } else { 0 };
        for j in 0..chroma_rows {
            fs.u[(cy + j) * cs + cx..(cy + j) * cs + cx + 8]
                .copy_from_slice(&rec.pcm[256 + j * 8..256 + j * 8 + 8]);
            fs.v[(cy + j) * cs + cx..(cy + j) * cs + cx + 8]
                .copy_from_slice(&rec.pcm[320 + j * 8..320 + j * 8 + 8]);
        }
        return Ok(());
    }
    let intra = rec.kind.is_intra();
    let qp = rec.qp;
    let mode = env.mode;
    let dq = env.dequant;
    match rec.kind {
        MbKind::I4x4 => {
            let mut res = [0i32; 16];
            for blk in 0..16 {
                let (bx, by) = BLK_XY[blk];
                let a = block_avail(m, bx, by, 1, &z4);
                let (px, py) = (lx + bx * 4, ly + by * 4);
                intra::pred4x4(&mut fs.y, ys, px, py, rec.intra_modes[blk], a);
                if rec.nnz[blk] > 0 {
                    let mut c = [0i32; 16];
                    c.copy_from_slice(&rec.luma[blk * 16..blk * 16 + 16]);
                    dq.scale4(0, qp, &mut c, 0);
                    idct4(&c, &mut res);
                    add_residual(mode, &mut fs.y, py * ys + px, ys, 4, &res);
                }
            }
        }
        MbKind::I8x8 => {
            let mut res = [0i32; 64];
            for q in 0..4 {
                let (bx, by) = ((q & 1) * 2, (q >> 1) * 2);
                let a = block_avail(m, bx, by, 2, &z8);
                let (px, py) = (lx + bx * 4, ly + by * 4);
                intra::pred8x8(&mut fs.y, ys, px, py, rec.intra_modes[q * 4], a);
                if rec.nnz8[q] > 0 {
                    let mut c = [0i32; 64];
                    c.copy_from_slice(&rec.luma[q * 64..q * 64 + 64]);
                    dq.scale8(0, qp, &mut c);
                    idct8(&c, &mut res);
                    add_residual(mode, &mut fs.y, py * ys + px, ys, 8, &res);
                }
            }
        }
        MbKind::I16x16 => {
            let a = Avail {
                left: m[0],
                top: m[1],
                top_right: false,
                top_left: m[3],
            };
            intra::pred16x16(&mut fs.y, ys, lx, ly, rec.i16_mode, a);
            let mut dc = rec.luma_dc;
            dq.luma_dc(qp, &mut dc);
            let mut res = [0i32; 16];
            for blk in 0..16 {
                let (bx, by) = BLK_XY[blk];
                let d = dc[by * 4 + bx];
                if rec.nnz[blk] == 0 && d == 0 {
                    continue;
                }
                let mut c = [0i32; 16];
                c.copy_from_slice(&rec.luma[blk * 16..blk * 16 + 16]);
                dq.scale4(0, qp, &mut c, 1);
                c[0] = d;
                idct4(&c, &mut res);
                let (px, py) = (lx + bx * 4, ly + by * 4);
                add_residual(mode, &mut fs.y, py * ys + px, ys, 4, &res);
            }
        }
        _ => {
            inter_pred(env, fs, rec)?;
            if rec.kind.is_skip() {
                if let Some((cbp, nnz)) = env.skip_residue {
                    skip_residue(mode, fs, rec, cbp, &nnz);
                }
                return Ok(());
            }
            if rec.transform8x8 {
                let mut res = [0i32; 64];
                for q in 0..4 {
                    if rec.nnz8[q] == 0 {
                        continue;
                    }
                    let mut c = [0i32; 64];
                    c.copy_from_slice(&rec.luma[q * 64..q * 64 + 64]);
                    dq.scale8(1, qp, &mut c);
                    idct8(&c, &mut res);
                    let (px, py) = (lx + (q & 1) * 8, ly + (q >> 1) * 8);
                    add_residual(mode, &mut fs.y, py * ys + px, ys, 8, &res);
                }
            } else {
                let mut res = [0i32; 16];
                for blk in 0..16 {
                    if rec.nnz[blk] == 0 {
                        continue;
                    }
                    let mut c = [0i32; 16];
                    c.copy_from_slice(&rec.luma[blk * 16..blk * 16 + 16]);
                    dq.scale4(3, qp, &mut c, 0);
                    idct4(&c, &mut res);
                    let (bx, by) = BLK_XY[blk];
                    let (px, py) = (lx + bx * 4, ly + by * 4);
                    add_residual(mode, &mut fs.y, py * ys + px, ys, 4, &res);
                }
            }
        }
    }
    // chroma
    if !fs.has_chroma() {
        return Ok(());
    }
    if intra {
        let a = Avail {
            left: m[0],
            top: m[1],
            top_right: false,
            top_left: m[3],
        };
        intra::pred_chroma(&mut fs.u, cs, cx, cy, rec.chroma_mode, a);
        intra::pred_chroma(&mut fs.v, cs, cx, cy, rec.chroma_mode, a);
    }
    if rec.cbp & 0x30 != 0 {
        for p in 0..2 {
            let list = if intra { 1 + p } else { 4 + p };
            let qpc = chroma_qp(qp, env.chroma_qp_offset[p]);
            let mut dc = rec.chroma_dc[p];
            dq.chroma_dc(list, qpc, &mut dc);
            let plane = if p == 0 { &mut fs.u } else { &mut fs.v };
            let mut res = [0i32; 16];
            for b in 0..4 {
                if rec.nnz[16 + p * 4 + b] == 0 && dc[b] == 0 {
                    continue;
                }
                let mut c = [0i32; 16];
                let k = (p * 4 + b) * 16;
                c.copy_from_slice(&rec.chroma_ac[k..k + 16]);
                dq.scale4(list, qpc, &mut c, 1);
                c[0] = dc[b];
                idct4(&c, &mut res);
                let (px, py) = (cx + (b & 1) * 4, cy + (b >> 1) * 4);
                add_residual(mode, plane, py * cs + px, cs, 4, &res);
            }
        }
    }
    Ok(())
}

/// Inverse transform of all-zero blocks selected by the previous macroblock's
/// coded block pattern and counts (see `ReconEnv::skip_residue`).
fn skip_residue(mode: Mode, fs: &mut Samples, rec: &MbRecord, cbp: u8, nnz: &[u8; 24]) {
    let ys = fs.mb_w * 16;
    let cs = fs.mb_w * 8;
    let zero = [0i32; 16];
    if cbp & 15 != 0 {
        for (blk, &(bx, by)) in BLK_XY.iter().enumerate() {
            if nnz[blk] != 0 {
                let (px, py) = (rec.mbx * 16 + bx * 4, rec.mby * 16 + by * 4);
                add_residual(mode, &mut fs.y, py * ys + px, ys, 4, &zero);
            }
        }
    }
    if cbp & 0x30 != 0 && fs.has_chroma() {
        for p in 0..2 {
            let plane = if p == 0 { &mut fs.u } else { &mut fs.v };
            for b in 0..4 {
                if nnz[16 + p * 4 + b] != 0 {
                    let (px, py) = (rec.mbx * 8 + (b & 1) * 4, rec.mby * 8 + (b >> 1) * 4);
                    add_residual(mode, plane, py * cs + px, cs, 4, &zero);
                }
            }
        }
    }
}

fn weighting(env: &ReconEnv, r0: i8, r1: i8, use0: bool, use1: bool, comp: usize) -> Weighting {
    if let Some((w, ld, cd)) = env.explicit {
        let log_wd = if comp == 0 { ld } else { cd } as i32;
        let get = |l: usize, r: i8| -> (i32, i32) {
            match w[l].get(r.max(0) as usize) {
                Some(x) => (x.w[comp], x.o[comp]),
                None => (1 << log_wd, 0),
            }
        };
        let (w0, o0) = if use0 { get(0, r0) } else { (0, 0) };
        let (w1, o1) = if use1 { get(1, r1) } else { (0, 0) };
        return Weighting::Weighted {
            log_wd,
            w: [w0, w1],
            o: [o0, o1],
        };
    }
    if let (Some(t), true, true) = (env.implicit, use0, use1) {
        let w0 = t[r0 as usize * 32 + r1 as usize];
        return Weighting::Weighted {
            log_wd: 5,
            w: [w0, 64 - w0],
            o: [0, 0],
        };
    }
    Weighting::Default
}

/// The blocks an inter macroblock is predicted in, in order: (x, y) in 4x4
/// units and size in samples. 4x4 blocks are grouped into the largest uniform
/// squares (pointwise results are identical whatever the grouping).
fn pred_blocks(rec: &MbRecord) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let same = |a: usize, b: usize| -> bool {
        (0..2).all(|l| rec.mv[l][a] == rec.mv[l][b])
            && (0..2).all(|l| rec.ref_idx[l][q_of(a)] == rec.ref_idx[l][q_of(b)])
    };
    let all16 = (1..16).all(|i| same(0, i));
    let quads = if all16 { 0..0 } else { 0..4 };
    let whole = all16.then_some((0, 0, 16));
    whole.into_iter().chain(quads.flat_map(move |q| {
        let (qx, qy) = ((q & 1) * 2, (q >> 1) * 2);
        let b0 = qy * 4 + qx;
        let uniform = same(b0, b0 + 1) && same(b0, b0 + 4) && same(b0, b0 + 5);
        let blocks = if uniform {
            &[(0, 0)][..]
        } else {
            &[(0, 0), (1, 0), (0, 1), (1, 1)][..]
        };
        let n = if uniform { 8 } else { 4 };
        blocks.iter().map(move |&(dx, dy)| (qx + dx, qy + dy, n))
    }))
}

/// Motion-compensated prediction of an inter macroblock into the picture.
fn inter_pred(env: &ReconEnv, fs: &mut Samples, rec: &MbRecord) -> Result<()> {
    for (bx, by, n) in pred_blocks(rec) {
        pred_block(env, fs, rec, bx, by, n)?;
    }
    Ok(())
}

/// The error reconstruction of an inter macroblock of a `mb_w x mb_h` picture
/// meets, if any: a missing reference or one of another size. The parsing side
/// asks before handing the macroblock over, so that the error is reported
/// where decoding stops.
pub fn check_refs(refs: &[Vec<RefPic>; 2], mb_w: usize, mb_h: usize, rec: &MbRecord) -> Result<()> {
    if rec.kind.is_intra() {
        return Ok(());
    }
    for (bx, by, _) in pred_blocks(rec) {
        block_refs(refs, mb_w, mb_h, rec, by * 4 + bx)?;
    }
    Ok(())
}

/// The reference pictures block `b` (raster 4x4 index) predicts from.
fn block_refs<'r>(
    refs: &'r [Vec<RefPic>; 2],
    mb_w: usize,
    mb_h: usize,
    rec: &MbRecord,
    b: usize,
) -> Result<[Option<&'r PicData>; 2]> {
    let q = q_of(b);
    let mut pics = [None, None];
    for l in 0..2 {
        let r = rec.ref_idx[l][q];
        if r < 0 {
            continue;
        }
        let rp = refs[l]
            .get(r as usize)
            .ok_or_else(|| Error::invalid(format!("reference index {r} of list {l} is missing")))?;
        if rp.pic.mb_w != mb_w || rp.pic.mb_h != mb_h {
            return Err(Error::invalid("reference picture has another size"));
        }
        pics[l] = Some(&*rp.pic);
    }
    Ok(pics)
}

#[inline]
fn q_of(i: usize) -> usize {
    ((i >> 3) << 1) | ((i & 3) >> 1)
}

fn pred_block(
    env: &ReconEnv,
    fs: &mut Samples,
    rec: &MbRecord,
    bx: usize,
    by: usize,
    n: usize,
) -> Result<()> {
    let b = by * 4 + bx;
    let q = q_of(b);
    let r = [rec.ref_idx[0][q], rec.ref_idx[1][q]];
    let used = [r[0] >= 0, r[1] >= 0];
    let mut pics = [None, None];
    for (l, pic) in block_refs(env.refs, fs.mb_w, fs.mb_h, rec, b)?
        .into_iter()
        .enumerate()
    {
        if let Some(p) = pic {
            // References are reconstructed before the pictures that use them.
            let s = p
                .samples
                .get()
                .ok_or_else(|| Error::invalid("reference picture without samples"))?;
            pics[l] = Some(s);
        }
    }
    let px = rec.mbx * 16 + bx * 4;
    let py = rec.mby * 16 + by * 4;
    let ys = fs.mb_w * 16;
    let cs = fs.mb_w * 8;
    let wl = weighting(env, r[0], r[1], used[0], used[1], 0);
    let wc = [1, 2].map(|c| weighting(env, r[0], r[1], used[0], used[1], c));
    // An unweighted single prediction goes straight into the picture.
    let direct = used[0] != used[1]
        && matches!(wl, Weighting::Default)
        && wc.iter().all(|w| matches!(w, Weighting::Default));
    let cn = n / 2;
    let (cx, cy) = (px / 2, py / 2);
    let chroma = fs.has_chroma();
    if direct {
        let (l, pic) = if used[0] { (0, pics[0]) } else { (1, pics[1]) };
        let o = cy * cs + cx;
        let Samples { y, u, v, .. } = fs;
        predict_one(
            pic.unwrap(),
            rec.mv[l][b],
            (px, py, n),
            (&mut y[py * ys + px..], ys),
            chroma.then(|| ([&mut u[o..], &mut v[o..]], cs)),
        );
        return Ok(());
    }
    let mut lbuf = [[0u8; 256]; 2];
    let mut cbuf = [[[0u8; 64]; 2]; 2];
    for l in 0..2 {
        let Some(pic) = pics[l] else { continue };
        let [cb0, cb1] = &mut cbuf[l];
        predict_one(
            pic,
            rec.mv[l][b],
            (px, py, n),
            (&mut lbuf[l], n),
            chroma.then(|| ([&mut cb0[..], &mut cb1[..]], cn)),
        );
    }
    inter::combine(
        &mut fs.y[py * ys + px..],
        ys,
        if used[0] { Some(&lbuf[0][..]) } else { None },
        if used[1] { Some(&lbuf[1][..]) } else { None },
        n,
        n,
        wl,
    );
    for c in (0..2).filter(|_| chroma) {
        let dst = if c == 0 { &mut fs.u } else { &mut fs.v };
        inter::combine(
            &mut dst[cy * cs + cx..],
            cs,
            if used[0] { Some(&cbuf[0][c][..]) } else { None },
            if used[1] { Some(&cbuf[1][c][..]) } else { None },
            cn,
            cn,
            wc[c],
        );
    }
    Ok(())
}

/// Luma and chroma prediction of the n x n block at luma (px, py) from one
/// reference picture, each plane written with its own row stride (luma alone
/// without chroma outputs).
fn predict_one(
    pic: &Samples,
    mv: [i16; 2],
    (px, py, n): (usize, usize, usize),
    (y_out, ys): (&mut [u8], usize),
    chroma: Option<([&mut [u8]; 2], usize)>,
) {
    let (mx, my) = (mv[0] as i32, mv[1] as i32);
    let yp = Plane {
        data: &pic.y,
        stride: pic.stride(),
        width: pic.mb_w * 16,
        height: pic.mb_h * 16,
    };
    let (x, y) = (px as i32 + (mx >> 2), py as i32 + (my >> 2));
    inter::luma(yp, x, y, mx & 3, my & 3, n, n, y_out, ys);
    let Some((c_out, cs)) = chroma else {
        return;
    };
    let cn = n / 2;
    let (cx, cy) = (px as i32 / 2 + (mx >> 3), py as i32 / 2 + (my >> 3));
    for (data, out) in [&pic.u, &pic.v].into_iter().zip(c_out) {
        let cp = Plane {
            data,
            stride: pic.mb_w * 8,
            width: pic.mb_w * 8,
            height: pic.mb_h * 8,
        };
        inter::chroma(cp, cx, cy, mx & 7, my & 7, cn, cn, out, cs);
    }
}
