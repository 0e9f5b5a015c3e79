//! Derivation of prediction modes and motion from decoded syntax:
//! intra mode prediction, motion vector prediction, P_Skip and B direct modes.

use crate::error::{Error, Result};
use crate::frame::{FrameState, RefPic};
use crate::mb::{MbKind, MbRecord, Part, PRED_L0, PRED_L1, SUB_4X4, SUB_4X8, SUB_8X4, SUB_8X8};
use crate::tables::{BLK_XY, RASTER_TO_BLK};

/// Slice-level information used by the motion derivation.
pub struct MotionEnv<'a> {
    pub fs: &'a FrameState,
    pub slice: u32,
    pub refs: &'a [Vec<RefPic>; 2],
    pub cur_poc: i32,
    pub direct_spatial: bool,
    pub direct_8x8_inference: bool,
    pub constrained_intra_pred: bool,
}

/// Derive Intra4x4 / Intra8x8 prediction modes.
pub fn intra_modes(env: &MotionEnv, rec: &mut MbRecord) {
    let fs = env.fs;
    let left_mb = fs.neighbour(rec.mbx, rec.mby, -1, 0, env.slice);
    let top_mb = fs.neighbour(rec.mbx, rec.mby, 0, -1, env.slice);
    let nb_mode = |mb: Option<usize>, x: usize, y: usize| -> Option<u8> {
        let a = mb?;
        let info = &fs.mbs[a];
        match info.kind {
            MbKind::I4x4 | MbKind::I8x8 => Some(info.modes[RASTER_TO_BLK[y * 4 + x]]),
            k if !k.is_intra() && env.constrained_intra_pred => None,
            _ => Some(2),
        }
    };
    let is8 = rec.kind == MbKind::I8x8;
    let n = if is8 { 4 } else { 16 };
    for i in 0..n {
        let (bx, by) = if is8 {
            ((i & 1) * 2, (i >> 1) * 2)
        } else {
            BLK_XY[i]
        };
        let a = if bx > 0 {
            Some(rec.intra_modes[RASTER_TO_BLK[by * 4 + bx - 1]])
        } else {
            nb_mode(left_mb, 3, by)
        };
        let b = if by > 0 {
            Some(rec.intra_modes[RASTER_TO_BLK[(by - 1) * 4 + bx]])
        } else {
            nb_mode(top_mb, bx, 3)
        };
        let pred = match (a, b) {
            (Some(a), Some(b)) => a.min(b),
            _ => 2,
        };
        let rem = rec.rem_modes[i];
        let mode = if rem < 0 {
            pred
        } else if (rem as u8) < pred {
            rem as u8
        } else {
            rem as u8 + 1
        };
        if is8 {
            for k in 0..4 {
                rec.intra_modes[i * 4 + k] = mode;
            }
        } else {
            rec.intra_modes[i] = mode;
        }
    }
}

type Mv = [i16; 2];

struct Nb {
    avail: bool,
    r: i8,
    mv: Mv,
}

const NA: Nb = Nb {
    avail: false,
    r: -1,
    mv: [0, 0],
};

struct Ctx<'a, 'b> {
    env: &'a MotionEnv<'b>,
    /// 4x4 blocks (raster) of the current macroblock already predicted.
    done: u16,
}

impl Ctx<'_, '_> {
    fn fetch(&self, rec: &MbRecord, l: usize, x: isize, y: isize) -> Nb {
        if (0..16).contains(&x) && (0..16).contains(&y) {
            let i = (y as usize / 4) * 4 + x as usize / 4;
            if self.done & (1 << i) == 0 {
                return NA;
            }
            let q = (y as usize / 8) * 2 + x as usize / 8;
            let r = rec.ref_idx[l][q];
            return Nb {
                avail: true,
                r,
                mv: if r >= 0 { rec.mv[l][i] } else { [0, 0] },
            };
        }
        if y >= 16 || (x >= 16 && y >= 0) {
            return NA;
        }
        let dx = if x < 0 {
            -1
        } else if x >= 16 {
            1
        } else {
            0
        };
        let dy = if y < 0 { -1 } else { 0 };
        let fs = self.env.fs;
        let Some(nb) = fs.neighbour(rec.mbx, rec.mby, dx, dy, self.env.slice) else {
            return NA;
        };
        if fs.mbs[nb].kind.is_intra() {
            return Nb {
                avail: true,
                r: -1,
                mv: [0, 0],
            };
        }
        let gx = (rec.mbx * 16) as isize + x;
        let gy = (rec.mby * 16) as isize + y;
        let i = fs.idx4(gx as usize / 4, gy as usize / 4);
        let r = fs.ref_idx[l][i];
        Nb {
            avail: true,
            r,
            mv: if r >= 0 { fs.mv[l][i] } else { [0, 0] },
        }
    }

    /// Neighbours A, B, C (C replaced by D when unavailable).
    fn abc(&self, rec: &MbRecord, l: usize, x: usize, y: usize, w: usize) -> (Nb, Nb, Nb) {
        let (x, y, w) = (x as isize, y as isize, w as isize);
        let a = self.fetch(rec, l, x - 1, y);
        let b = self.fetch(rec, l, x, y - 1);
        let mut c = self.fetch(rec, l, x + w, y - 1);
        if !c.avail {
            c = self.fetch(rec, l, x - 1, y - 1);
        }
        (a, b, c)
    }

    fn median_pred(a: Nb, b: Nb, c: Nb, r: i8) -> Mv {
        let (b, c) = if !b.avail && !c.avail && a.avail {
            (
                Nb {
                    avail: true,
                    r: a.r,
                    mv: a.mv,
                },
                Nb {
                    avail: true,
                    r: a.r,
                    mv: a.mv,
                },
            )
        } else {
            (b, c)
        };
        let ma = a.r == r;
        let mb = b.r == r;
        let mc = c.r == r;
        match (ma, mb, mc) {
            (true, false, false) => a.mv,
            (false, true, false) => b.mv,
            (false, false, true) => c.mv,
            _ => [
                median(a.mv[0], b.mv[0], c.mv[0]),
                median(a.mv[1], b.mv[1], c.mv[1]),
            ],
        }
    }

    /// Motion vector predictor for a partition. `shape`: 0 generic, 1 16x8, 2 8x16.
    fn mvp(&self, rec: &MbRecord, l: usize, x: usize, y: usize, w: usize, shape: u8, r: i8) -> Mv {
        let (a, b, c) = self.abc(rec, l, x, y, w);
        if shape == 1 {
            if y == 0 && b.r == r {
                return b.mv;
            }
            if y == 8 && a.r == r {
                return a.mv;
            }
        } else if shape == 2 {
            if x == 0 && a.r == r {
                return a.mv;
            }
            if x == 8 && c.r == r {
                return c.mv;
            }
        }
        Self::median_pred(a, b, c, r)
    }

    fn mark(&mut self, x: usize, y: usize, w: usize, h: usize) {
        for yy in (y / 4)..((y + h) / 4) {
            for xx in (x / 4)..((x + w) / 4) {
                self.done |= 1 << (yy * 4 + xx);
            }
        }
    }
}

fn median(a: i16, b: i16, c: i16) -> i16 {
    a.max(b).min(a.min(b).max(c))
}

fn fill_mv(rec: &mut MbRecord, l: usize, x: usize, y: usize, w: usize, h: usize, mv: Mv) {
    for yy in (y / 4)..((y + h) / 4) {
        for xx in (x / 4)..((x + w) / 4) {
            rec.mv[l][yy * 4 + xx] = mv;
        }
    }
}

fn add_mvd(p: Mv, d: [i32; 2]) -> Result<Mv> {
    let x = p[0] as i32 + d[0];
    let y = p[1] as i32 + d[1];
    if !(-32768..=32767).contains(&x) || !(-32768..=32767).contains(&y) {
        return Err(Error::invalid("motion vector out of range"));
    }
    Ok([x as i16, y as i16])
}

/// Colocated motion for 4x4 block (bx, by) of the current macroblock.
struct Col {
    mv: Mv,
    r: i8,
    id: i32,
}

fn colocated(env: &MotionEnv, rec: &MbRecord, bx: usize, by: usize) -> Result<Col> {
    let col = env.refs[1]
        .first()
        .ok_or_else(|| Error::invalid("direct prediction without list 1 reference"))?;
    let pic = &col.pic;
    if pic.mb_w != env.fs.mb_w || pic.mb_h != env.fs.mb_h {
        return Err(Error::invalid("colocated picture has another size"));
    }
    let (bx, by) = if env.direct_8x8_inference {
        ((bx / 2) * 3, (by / 2) * 3)
    } else {
        (bx, by)
    };
    let mb = rec.mby * pic.mb_w + rec.mbx;
    if pic.mb_intra[mb] {
        return Ok(Col {
            mv: [0, 0],
            r: -1,
            id: -1,
        });
    }
    let i = (rec.mby * 4 + by) * pic.mb_w * 4 + rec.mbx * 4 + bx;
    let l = if pic.ref_idx[0][i] >= 0 { 0 } else { 1 };
    Ok(Col {
        mv: pic.mv[l][i],
        r: pic.ref_idx[l][i],
        id: pic.ref_id[l][i],
    })
}

fn min_positive(a: i8, b: i8) -> i8 {
    if a >= 0 && b >= 0 {
        a.min(b)
    } else {
        a.max(b)
    }
}

/// Direct-mode motion for the 8x8 quadrants in `quads`.
fn direct(env: &MotionEnv, ctx: &Ctx, rec: &mut MbRecord, quads: &[usize]) -> Result<()> {
    if env.direct_spatial {
        let mut refs = [-1i8; 2];
        let mut mvp = [[0i16; 2]; 2];
        for (l, rf) in refs.iter_mut().enumerate() {
            // neighbours of the whole macroblock, ignoring the current one
            let empty = Ctx {
                env: ctx.env,
                done: 0,
            };
            let (a, b, c) = empty.abc(rec, l, 0, 0, 16);
            *rf = min_positive(a.r, min_positive(b.r, c.r));
            if *rf >= 0 {
                mvp[l] = Ctx::median_pred(a, b, c, *rf);
            }
        }
        let zero = refs[0] < 0 && refs[1] < 0;
        if zero {
            refs = [0, 0];
        }
        let col_short = !env.refs[1].first().map(|r| r.long_term).unwrap_or(true);
        for &q in quads {
            for l in 0..2 {
                rec.ref_idx[l][q] = refs[l];
            }
            let (qx, qy) = ((q & 1) * 2, (q >> 1) * 2);
            for by in qy..qy + 2 {
                for bx in qx..qx + 2 {
                    let col_zero = if !zero && col_short {
                        let c = colocated(env, rec, bx, by)?;
                        c.r == 0 && (-1..=1).contains(&c.mv[0]) && (-1..=1).contains(&c.mv[1])
                    } else {
                        false
                    };
                    for l in 0..2 {
                        let mv = if zero || refs[l] < 0 || (refs[l] == 0 && col_zero) {
                            [0, 0]
                        } else {
                            mvp[l]
                        };
                        rec.mv[l][by * 4 + bx] = mv;
                    }
                }
            }
        }
    } else {
        for &q in quads {
            let (qx, qy) = ((q & 1) * 2, (q >> 1) * 2);
            for by in qy..qy + 2 {
                for bx in qx..qx + 2 {
                    let c = colocated(env, rec, bx, by)?;
                    let r0 = if c.r < 0 {
                        0
                    } else {
                        env.refs[0]
                            .iter()
                            .position(|r| r.pic.id == c.id)
                            .unwrap_or(0) as i8
                    };
                    rec.ref_idx[0][q] = r0;
                    rec.ref_idx[1][q] = 0;
                    let ref0 = env.refs[0]
                        .get(r0 as usize)
                        .ok_or_else(|| Error::invalid("missing list 0 reference"))?;
                    let ref1 = &env.refs[1][0];
                    let tb = env.cur_poc.wrapping_sub(ref0.poc).clamp(-128, 127);
                    let td = ref1.poc.wrapping_sub(ref0.poc).clamp(-128, 127);
                    let (m0, m1) = if td == 0 || ref0.long_term {
                        (c.mv, [0, 0])
                    } else {
                        let tx = (16384 + (td / 2).abs()) / td;
                        let dsf = ((tb * tx + 32) >> 6).clamp(-1024, 1023);
                        let s = |v: i16| -> i16 { ((dsf * v as i32 + 128) >> 8) as i16 };
                        let m0 = [s(c.mv[0]), s(c.mv[1])];
                        (
                            m0,
                            [m0[0].wrapping_sub(c.mv[0]), m0[1].wrapping_sub(c.mv[1])],
                        )
                    };
                    rec.mv[0][by * 4 + bx] = m0;
                    rec.mv[1][by * 4 + bx] = m1;
                }
            }
        }
    }
    Ok(())
}

/// Derive the motion vectors and reference indices of an inter macroblock.
pub fn motion(env: &MotionEnv, rec: &mut MbRecord) -> Result<()> {
    let mut ctx = Ctx { env, done: 0 };
    match rec.kind {
        MbKind::PSkip => {
            rec.ref_idx = [[0; 4], [-1; 4]];
            let a = ctx.fetch(rec, 0, -1, 0);
            let b = ctx.fetch(rec, 0, 0, -1);
            let mv = if !a.avail
                || !b.avail
                || (a.r == 0 && a.mv == [0, 0])
                || (b.r == 0 && b.mv == [0, 0])
            {
                [0, 0]
            } else {
                ctx.mvp(rec, 0, 0, 0, 16, 0, 0)
            };
            fill_mv(rec, 0, 0, 0, 16, 16, mv);
            return Ok(());
        }
        MbKind::BSkip => {
            rec.direct16 = true;
            return direct(env, &ctx, rec, &[0, 1, 2, 3]);
        }
        MbKind::Inter => {}
        _ => return Ok(()),
    }
    if rec.direct16 {
        return direct(env, &ctx, rec, &[0, 1, 2, 3]);
    }
    if rec.part == Part::P8x8 {
        let direct_q: Vec<usize> = (0..4).filter(|&q| rec.sub_pred[q] == 0).collect();
        if !direct_q.is_empty() {
            direct(env, &ctx, rec, &direct_q)?;
        }
        for l in 0..2 {
            let lf = if l == 0 { PRED_L0 } else { PRED_L1 };
            ctx.done = 0;
            for q in 0..4 {
                let (ox, oy) = ((q & 1) * 8, (q >> 1) * 8);
                if rec.sub_pred[q] == 0 {
                    ctx.mark(ox, oy, 8, 8);
                    continue;
                }
                if rec.sub_pred[q] & lf == 0 {
                    rec.ref_idx[l][q] = -1;
                    fill_mv(rec, l, ox, oy, 8, 8, [0, 0]);
                    ctx.mark(ox, oy, 8, 8);
                    continue;
                }
                let r = rec.ref_idx[l][q];
                let parts: &[(usize, usize, usize, usize)] = match rec.sub_shape[q] {
                    SUB_8X8 => &[(0, 0, 8, 8)],
                    SUB_8X4 => &[(0, 0, 8, 4), (0, 4, 8, 4)],
                    SUB_4X8 => &[(0, 0, 4, 8), (4, 0, 4, 8)],
                    SUB_4X4 => &[(0, 0, 4, 4), (4, 0, 4, 4), (0, 4, 4, 4), (4, 4, 4, 4)],
                    _ => &[],
                };
                for (s, &(x, y, w, h)) in parts.iter().enumerate() {
                    let p = ctx.mvp(rec, l, ox + x, oy + y, w, 0, r);
                    let mv = add_mvd(p, rec.mvd[l][q * 4 + s])?;
                    fill_mv(rec, l, ox + x, oy + y, w, h, mv);
                    ctx.mark(ox + x, oy + y, w, h);
                }
            }
        }
        return Ok(());
    }
    let parts: &[(usize, usize, usize, usize)] = match rec.part {
        Part::P16x16 => &[(0, 0, 16, 16)],
        Part::P16x8 => &[(0, 0, 16, 8), (0, 8, 16, 8)],
        _ => &[(0, 0, 8, 16), (8, 0, 8, 16)],
    };
    let shape = match rec.part {
        Part::P16x8 => 1,
        Part::P8x16 => 2,
        _ => 0,
    };
    for l in 0..2 {
        let lf = if l == 0 { PRED_L0 } else { PRED_L1 };
        ctx.done = 0;
        for (p, &(x, y, w, h)) in parts.iter().enumerate() {
            if rec.part_pred[p] & lf == 0 {
                crate::syntax::set_part_ref(rec, l, p, -1);
                fill_mv(rec, l, x, y, w, h, [0, 0]);
                ctx.mark(x, y, w, h);
                continue;
            }
            let r = rec.ref_idx[l][crate::syntax::part_quadrants(rec.part, p)[0]];
            let pr = ctx.mvp(rec, l, x, y, w, shape, r);
            let mv = add_mvd(pr, rec.mvd[l][p])?;
            fill_mv(rec, l, x, y, w, h, mv);
            ctx.mark(x, y, w, h);
        }
    }
    Ok(())
}
