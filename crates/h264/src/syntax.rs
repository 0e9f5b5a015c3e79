//! Macroblock type tables and helpers shared by the CAVLC and CABAC parsers.

use crate::mb::{MbKind, MbRecord, Part, PRED_L0, PRED_L1, SUB_4X4, SUB_4X8, SUB_8X4, SUB_8X8};
use crate::slice::SliceType;

/// What the macroblock syntax parsers need to know about the slice.
#[derive(Clone, Copy, Debug)]
pub struct MbSyntaxCtx {
    pub slice_type: SliceType,
    pub num_ref_idx: [u32; 2],
    pub transform_8x8_mode: bool,
    pub direct_8x8_inference: bool,
    /// Slice number + 1 (matches `MbInfo::slice`).
    pub slice_num: u32,
}

const L0: u8 = PRED_L0;
const L1: u8 = PRED_L1;
const BI: u8 = PRED_L0 | PRED_L1;

/// B mb_type 1..=21: (partition, pred of part 0, pred of part 1).
const B_TYPES: [(Part, u8, u8); 21] = [
    (Part::P16x16, L0, 0),
    (Part::P16x16, L1, 0),
    (Part::P16x16, BI, 0),
    (Part::P16x8, L0, L0),
    (Part::P8x16, L0, L0),
    (Part::P16x8, L1, L1),
    (Part::P8x16, L1, L1),
    (Part::P16x8, L0, L1),
    (Part::P8x16, L0, L1),
    (Part::P16x8, L1, L0),
    (Part::P8x16, L1, L0),
    (Part::P16x8, L0, BI),
    (Part::P8x16, L0, BI),
    (Part::P16x8, L1, BI),
    (Part::P8x16, L1, BI),
    (Part::P16x8, BI, L0),
    (Part::P8x16, BI, L0),
    (Part::P16x8, BI, L1),
    (Part::P8x16, BI, L1),
    (Part::P16x8, BI, BI),
    (Part::P8x16, BI, BI),
];

/// B sub_mb_type 1..=12: (shape, pred).
const B_SUB: [(u8, u8); 12] = [
    (SUB_8X8, L0),
    (SUB_8X8, L1),
    (SUB_8X8, BI),
    (SUB_8X4, L0),
    (SUB_4X8, L0),
    (SUB_8X4, L1),
    (SUB_4X8, L1),
    (SUB_8X4, BI),
    (SUB_4X8, BI),
    (SUB_4X4, L0),
    (SUB_4X4, L1),
    (SUB_4X4, BI),
];

/// Intra mb_type (0..=25, I-slice numbering).
pub fn set_i_type(rec: &mut MbRecord, imb: u32) {
    match imb {
        0 => rec.kind = MbKind::I4x4,
        25 => rec.kind = MbKind::IPcm,
        t => {
            let t = t - 1;
            rec.kind = MbKind::I16x16;
            rec.i16_mode = (t % 4) as u8;
            rec.cbp = (((t / 4) % 3) << 4) as u8 | if t >= 12 { 15 } else { 0 };
        }
    }
}

/// P mb_type 0..=4.
pub fn set_p_type(rec: &mut MbRecord, t: u32) {
    rec.kind = MbKind::Inter;
    match t {
        0 => {
            rec.part = Part::P16x16;
            rec.part_pred = [L0, 0];
        }
        1 => {
            rec.part = Part::P16x8;
            rec.part_pred = [L0, L0];
        }
        2 => {
            rec.part = Part::P8x16;
            rec.part_pred = [L0, L0];
        }
        _ => {
            rec.part = Part::P8x8;
            rec.ref0 = t == 4;
        }
    }
}

/// B mb_type 0..=22.
pub fn set_b_type(rec: &mut MbRecord, t: u32) {
    rec.kind = MbKind::Inter;
    match t {
        0 => {
            rec.direct16 = true;
            rec.part = Part::P8x8;
            rec.sub_pred = [0; 4];
        }
        22 => rec.part = Part::P8x8,
        t => {
            let (p, a, b) = B_TYPES[t as usize - 1];
            rec.part = p;
            rec.part_pred = [a, b];
        }
    }
}

pub fn set_sub_type(rec: &mut MbRecord, i: usize, t: u32, b: bool) {
    if b {
        if t == 0 {
            rec.sub_shape[i] = SUB_8X8;
            rec.sub_pred[i] = 0;
        } else {
            let (s, p) = B_SUB[t as usize - 1];
            rec.sub_shape[i] = s;
            rec.sub_pred[i] = p;
        }
    } else {
        rec.sub_shape[i] = t as u8;
        rec.sub_pred[i] = L0;
    }
}

/// 8x8 quadrants covered by partition `p`.
pub fn part_quadrants(part: Part, p: usize) -> &'static [usize] {
    match (part, p) {
        (Part::P16x16, _) => &[0, 1, 2, 3],
        (Part::P16x8, 0) => &[0, 1],
        (Part::P16x8, _) => &[2, 3],
        (Part::P8x16, 0) => &[0, 2],
        (Part::P8x16, _) => &[1, 3],
        (Part::P8x8, q) => [&[0usize][..], &[1][..], &[2][..], &[3][..]][q & 3],
    }
}

pub fn set_part_ref(rec: &mut MbRecord, l: usize, p: usize, v: i8) {
    for &q in part_quadrants(rec.part, p) {
        rec.ref_idx[l][q] = v;
    }
}

/// Whether transform_size_8x8_flag may be present for an inter macroblock.
pub fn can_use_8x8(rec: &MbRecord, c: &MbSyntaxCtx) -> bool {
    if rec.direct16 {
        return c.direct_8x8_inference;
    }
    if rec.part == Part::P8x8 {
        for i in 0..4 {
            if rec.sub_pred[i] == 0 {
                if !c.direct_8x8_inference {
                    return false;
                }
            } else if rec.sub_shape[i] != SUB_8X8 {
                return false;
            }
        }
    }
    true
}
