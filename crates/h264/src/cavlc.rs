//! CAVLC macroblock layer: mb_type, prediction syntax and residual blocks.

use crate::bits::BitReader;
use crate::error::{Error, Result};
use crate::frame::FrameState;
use crate::mb::{MbKind, MbRecord, Part, PRED_L0, PRED_L1, SUB_8X8};
use crate::slice::SliceType;
use crate::syntax::{self, MbSyntaxCtx};
use crate::tables::{cavlc_tables, Vlc, BLK_XY, CBP_INTER, CBP_INTRA, ZIGZAG4, ZIGZAG8};

#[inline]
fn read_vlc(r: &mut BitReader, vlc: &Vlc) -> Result<usize> {
    let e = vlc.table[r.peek(vlc.bits) as usize];
    if e == 0 {
        return Err(Error::invalid("invalid VLC code"));
    }
    r.skip((e >> 8) as usize)?;
    Ok((e & 0xff) as usize)
}

/// Decode one residual block. `coef` receives levels in scan order starting at
/// `start`; returns total_coeff.
pub fn residual_block(
    r: &mut BitReader,
    n_c: i32,
    start: usize,
    max_coeff: usize,
    coef: &mut [i32],
) -> Result<u8> {
    let t = cavlc_tables();
    let (total, t1s) = if n_c == -1 {
        let v = read_vlc(r, &t.chroma_dc_token)?;
        (v >> 2, v & 3)
    } else if n_c >= 8 {
        let code = r.u(6)? as usize;
        if code == 3 {
            (0, 0)
        } else {
            ((code >> 2) + 1, code & 3)
        }
    } else {
        let idx = if n_c < 2 {
            0
        } else if n_c < 4 {
            1
        } else {
            2
        };
        let v = read_vlc(r, &t.coeff_token[idx])?;
        (v >> 2, v & 3)
    };
    if total == 0 {
        return Ok(0);
    }
    if total > max_coeff || t1s > total {
        return Err(Error::invalid("corrupt coeff_token"));
    }
    let mut levels = [0i32; 16];
    let mut suffix_len: u32 = if total > 10 && t1s < 3 { 1 } else { 0 };
    for (i, lv) in levels.iter_mut().enumerate().take(total) {
        if i < t1s {
            *lv = if r.u(1)? == 1 { -1 } else { 1 };
            continue;
        }
        let mut prefix = 0u32;
        while r.u(1)? == 0 {
            prefix += 1;
            if prefix > 32 {
                return Err(Error::invalid("level_prefix too long"));
            }
        }
        let mut level_code: i64 = (prefix.min(15) as i64) << suffix_len;
        let suffix_size = if prefix == 14 && suffix_len == 0 {
            4
        } else if prefix >= 15 {
            prefix - 3
        } else {
            suffix_len
        };
        if suffix_size > 0 {
            if suffix_size > 28 {
                return Err(Error::invalid("level_suffix too long"));
            }
            level_code += r.u(suffix_size)? as i64;
        }
        if prefix >= 15 && suffix_len == 0 {
            level_code += 15;
        }
        if prefix >= 16 {
            level_code += (1i64 << (prefix - 3)) - 4096;
        }
        if i == t1s && t1s < 3 {
            level_code += 2;
        }
        let level = if level_code % 2 == 0 {
            (level_code + 2) >> 1
        } else {
            (-level_code - 1) >> 1
        };
        if level.abs() > (1 << 20) {
            return Err(Error::invalid("coefficient level out of range"));
        }
        *lv = level as i32;
        if suffix_len == 0 {
            suffix_len = 1;
        }
        if level.abs() > (3i64 << (suffix_len - 1)) && suffix_len < 6 {
            suffix_len += 1;
        }
    }
    let mut zeros_left = if total < max_coeff {
        if max_coeff == 4 {
            read_vlc(r, &t.chroma_dc_total_zeros[total - 1])?
        } else {
            read_vlc(r, &t.total_zeros[total - 1])?
        }
    } else {
        0
    };
    if zeros_left + total > max_coeff {
        return Err(Error::invalid("corrupt total_zeros"));
    }
    let mut runs = [0usize; 16];
    for run in runs.iter_mut().take(total - 1) {
        if zeros_left > 0 {
            let v = read_vlc(r, &t.run[zeros_left.min(7) - 1])?;
            if v > zeros_left {
                return Err(Error::invalid("corrupt run_before"));
            }
            *run = v;
            zeros_left -= v;
        }
    }
    runs[total - 1] = zeros_left;
    let mut pos: isize = -1;
    for i in (0..total).rev() {
        pos += runs[i] as isize + 1;
        coef[start + pos as usize] = levels[i];
    }
    Ok(total as u8)
}

/// Predicted coefficient count nC for luma block `blk` (or chroma block with
/// `plane` 1/2).
fn n_c(fs: &FrameState, rec: &MbRecord, slice: u32, plane: usize, blk: usize) -> i32 {
    let (bx, by, size) = if plane == 0 {
        let (x, y) = BLK_XY[blk];
        (x, y, 4)
    } else {
        (blk & 1, blk >> 1, 2)
    };
    let idx = |x: usize, y: usize| -> usize {
        if plane == 0 {
            crate::tables::RASTER_TO_BLK[y * 4 + x]
        } else {
            16 + (plane - 1) * 4 + y * 2 + x
        }
    };
    let get = |mb: Option<usize>, x: usize, y: usize| -> Option<i32> {
        let a = mb?;
        let info = &fs.mbs[a];
        Some(match info.kind {
            MbKind::PSkip | MbKind::BSkip => 0,
            MbKind::IPcm => 16,
            _ => info.nnz[idx(x, y)] as i32,
        })
    };
    let left = if bx > 0 {
        Some(rec.nnz[idx(bx - 1, by)] as i32)
    } else {
        get(fs.neighbour(rec.mbx, rec.mby, -1, 0, slice), size - 1, by)
    };
    let top = if by > 0 {
        Some(rec.nnz[idx(bx, by - 1)] as i32)
    } else {
        get(fs.neighbour(rec.mbx, rec.mby, 0, -1, slice), bx, size - 1)
    };
    match (left, top) {
        (Some(a), Some(b)) => (a + b + 1) >> 1,
        (Some(a), None) => a,
        (None, Some(b)) => b,
        (None, None) => 0,
    }
}

fn te(r: &mut BitReader, max: u32) -> Result<i8> {
    let v = if max == 1 {
        1 - r.u(1)?
    } else {
        r.ue_max(max, "ref_idx")?
    };
    Ok(v as i8)
}

/// Parse a (non-skipped) macroblock with CAVLC.
pub fn parse_mb(
    r: &mut BitReader,
    c: &MbSyntaxCtx,
    fs: &FrameState,
    rec: &mut MbRecord,
) -> Result<()> {
    let mb_type = r.ue_max(48, "mb_type")?;
    let imb = match c.slice_type {
        SliceType::I => Some(mb_type),
        SliceType::P => {
            if mb_type < 5 {
                syntax::set_p_type(rec, mb_type);
                None
            } else {
                Some(mb_type - 5)
            }
        }
        SliceType::B => {
            if mb_type < 23 {
                syntax::set_b_type(rec, mb_type);
                None
            } else {
                Some(mb_type - 23)
            }
        }
    };
    if let Some(imb) = imb {
        if imb > 25 {
            return Err(Error::invalid(format!("bad intra mb_type {imb}")));
        }
        syntax::set_i_type(rec, imb);
    }
    if rec.kind == MbKind::IPcm {
        r.align();
        for i in 0..384 {
            rec.pcm[i] = r.u(8)? as u8;
        }
        return Ok(());
    }
    let intra = rec.kind.is_intra();
    if intra {
        if rec.kind == MbKind::I4x4 {
            if c.transform_8x8_mode && r.flag()? {
                rec.kind = MbKind::I8x8;
                rec.transform8x8 = true;
            }
            let n = if rec.transform8x8 { 4 } else { 16 };
            for i in 0..n {
                if r.flag()? {
                    rec.rem_modes[i] = -1;
                } else {
                    rec.rem_modes[i] = r.u(3)? as i8;
                }
            }
        }
        rec.chroma_mode = r.ue_max(3, "intra_chroma_pred_mode")? as u8;
    } else if rec.part == Part::P8x8 && !rec.direct16 {
        for i in 0..4 {
            let st = r.ue_max(
                if c.slice_type == SliceType::B { 12 } else { 3 },
                "sub_mb_type",
            )?;
            syntax::set_sub_type(rec, i, st, c.slice_type == SliceType::B);
        }
        for l in 0..2 {
            let lf = if l == 0 { PRED_L0 } else { PRED_L1 };
            for i in 0..4 {
                if rec.sub_pred[i] & lf != 0 {
                    rec.ref_idx[l][i] = if c.num_ref_idx[l] > 1 && !rec.ref0 {
                        te(r, c.num_ref_idx[l] - 1)?
                    } else {
                        0
                    };
                }
            }
        }
        for l in 0..2 {
            let lf = if l == 0 { PRED_L0 } else { PRED_L1 };
            for i in 0..4 {
                if rec.sub_pred[i] & lf != 0 {
                    for s in 0..crate::mb::sub_count(rec.sub_shape[i]) {
                        rec.mvd[l][i * 4 + s] = [r.se()?, r.se()?];
                    }
                }
            }
        }
    } else if !rec.direct16 {
        let np = rec.num_parts();
        for l in 0..2 {
            let lf = if l == 0 { PRED_L0 } else { PRED_L1 };
            for p in 0..np {
                if rec.part_pred[p] & lf != 0 {
                    let v = if c.num_ref_idx[l] > 1 {
                        te(r, c.num_ref_idx[l] - 1)?
                    } else {
                        0
                    };
                    syntax::set_part_ref(rec, l, p, v);
                }
            }
        }
        for l in 0..2 {
            let lf = if l == 0 { PRED_L0 } else { PRED_L1 };
            for p in 0..np {
                if rec.part_pred[p] & lf != 0 {
                    rec.mvd[l][p] = [r.se()?, r.se()?];
                }
            }
        }
    }
    if rec.kind != MbKind::I16x16 {
        let code = r.ue_max(47, "coded_block_pattern")? as usize;
        rec.cbp = if intra {
            CBP_INTRA[code]
        } else {
            CBP_INTER[code]
        };
        if rec.cbp & 15 != 0 && c.transform_8x8_mode && !intra && syntax::can_use_8x8(rec, c) {
            rec.transform8x8 = r.flag()?;
        }
    }
    if rec.cbp != 0 || rec.kind == MbKind::I16x16 {
        rec.qp_delta = r.se_range(-26, 25, "mb_qp_delta")?;
        residual(r, c, fs, rec)?;
    }
    Ok(())
}

fn residual(r: &mut BitReader, c: &MbSyntaxCtx, fs: &FrameState, rec: &mut MbRecord) -> Result<()> {
    let slice = c.slice_num;
    let mut coef = [0i32; 16];
    if rec.kind == MbKind::I16x16 {
        coef.fill(0);
        let nc = n_c(fs, rec, slice, 0, 0);
        residual_block(r, nc, 0, 16, &mut coef)?;
        for (k, &pos) in ZIGZAG4.iter().enumerate() {
            rec.luma_dc[pos] = coef[k];
        }
    }
    for i8 in 0..4 {
        for i4 in 0..4 {
            let blk = i8 * 4 + i4;
            if rec.cbp & (1 << i8) == 0 {
                rec.nnz[blk] = 0;
                continue;
            }
            coef.fill(0);
            let nc = n_c(fs, rec, slice, 0, blk);
            let n = if rec.kind == MbKind::I16x16 {
                residual_block(r, nc, 1, 15, &mut coef)?
            } else {
                residual_block(r, nc, 0, 16, &mut coef)?
            };
            rec.nnz[blk] = n;
            if rec.transform8x8 {
                for (k, &v) in coef.iter().enumerate() {
                    rec.luma[i8 * 64 + ZIGZAG8[4 * k + i4]] = v;
                }
            } else {
                for (k, &pos) in ZIGZAG4.iter().enumerate() {
                    rec.luma[blk * 16 + pos] = coef[k];
                }
            }
        }
        if rec.transform8x8 {
            rec.nnz8[i8] = rec.nnz[i8 * 4..i8 * 4 + 4].iter().sum();
        }
    }
    let cbp_c = rec.cbp >> 4;
    if cbp_c != 0 {
        for p in 0..2 {
            coef.fill(0);
            residual_block(r, -1, 0, 4, &mut coef)?;
            rec.chroma_dc[p].copy_from_slice(&coef[..4]);
        }
    }
    if cbp_c == 2 {
        for p in 0..2 {
            for b in 0..4 {
                coef.fill(0);
                let nc = n_c(fs, rec, slice, p + 1, b);
                let n = residual_block(r, nc, 1, 15, &mut coef)?;
                rec.nnz[16 + p * 4 + b] = n;
                for (k, &pos) in ZIGZAG4.iter().enumerate() {
                    rec.chroma_ac[(p * 4 + b) * 16 + pos] = coef[k];
                }
            }
        }
    }
    let _ = SUB_8X8;
    Ok(())
}
