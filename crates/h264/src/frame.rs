//! State of the picture being decoded: per-macroblock information used by
//! neighbouring macroblocks and motion fields (the parsing side), and its
//! samples (the reconstruction side).

use crate::mb::{MbKind, MbRecord};
use std::sync::{Arc, OnceLock};

/// Information kept for every decoded macroblock of the current picture.
#[derive(Clone, Copy, Default)]
pub struct MbInfo {
    /// Slice number + 1 (0 = not decoded yet).
    pub slice: u32,
    pub kind: MbKind,
    pub transform8x8: bool,
    pub qp: i8,
    pub cbp: u8,
    pub chroma_mode: u8,
    /// Intra 4x4 / 8x8 prediction modes per 4x4 block (z-order).
    pub modes: [u8; 16],
    /// Coefficient counts (luma 0..16 z-order, Cb 16..20, Cr 20..24).
    pub nnz: [u8; 24],
    /// CABAC coded_block_flag of the DC blocks: bit 0 luma, bit 1 Cb, bit 2 Cr.
    pub cbf_dc: u8,
    /// Direct-predicted 8x8 quadrants (bit mask), B_Skip / B_Direct_16x16 = 0xf.
    pub direct: u8,
    /// B_Skip or B_Direct_16x16.
    pub direct16: bool,
    /// Absolute motion vector differences per 4x4 block (raster), clamped.
    pub mvd: [[[u8; 2]; 16]; 2],
}

/// Parameters of one slice needed after all slices are decoded (deblocking).
#[derive(Clone, Copy, Default)]
pub struct SliceDeblock {
    pub disable: u32,
    pub alpha_offset: i32,
    pub beta_offset: i32,
    pub chroma_qp_offset: [i32; 2],
}

/// The samples of a picture (4:2:0, whole macroblocks, rows without padding).
#[derive(Clone)]
pub struct Samples {
    pub mb_w: usize,
    pub mb_h: usize,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
}

impl Samples {
    /// A picture before reconstruction: black luma, neutral chroma (no chroma planes at all
    /// when `chroma` is false: see [`crate::Decoder::set_luma_only`]).
    pub fn new(mb_w: usize, mb_h: usize, chroma: bool) -> Self {
        let n = mb_w * mb_h;
        let c = if chroma { n * 64 } else { 0 };
        Samples {
            mb_w,
            mb_h,
            y: vec![0; n * 256],
            u: vec![128; c],
            v: vec![128; c],
        }
    }

    /// Whether the chroma planes are made.
    pub fn has_chroma(&self) -> bool {
        !self.u.is_empty()
    }

    pub fn stride(&self) -> usize {
        self.mb_w * 16
    }
}

/// A finished picture with what later pictures need from it. The motion
/// fields are known once it is parsed; its samples arrive when reconstruction
/// has finished it (never for a picture that is only parsed). A stand-in for
/// a missing frame shares the samples of the picture it copies.
#[derive(Clone)]
pub struct PicData {
    pub id: i32,
    pub mb_w: usize,
    pub mb_h: usize,
    pub samples: Arc<OnceLock<Samples>>,
    pub mv: [Vec<[i16; 2]>; 2],
    pub ref_idx: [Vec<i8>; 2],
    pub ref_id: [Vec<i32>; 2],
    pub mb_intra: Vec<bool>,
}

/// A reference picture as seen from a slice.
#[derive(Clone)]
pub struct RefPic {
    pub pic: Arc<PicData>,
    pub poc: i32,
    pub long_term: bool,
}

pub struct FrameState {
    pub id: i32,
    pub mb_w: usize,
    pub mb_h: usize,
    pub mbs: Vec<MbInfo>,
    pub mv: [Vec<[i16; 2]>; 2],
    pub ref_idx: [Vec<i8>; 2],
    pub ref_id: [Vec<i32>; 2],
    pub slices: Vec<SliceDeblock>,
}

impl FrameState {
    pub fn new(id: i32, mb_w: usize, mb_h: usize) -> Self {
        let n = mb_w * mb_h;
        let n4 = n * 16;
        FrameState {
            id,
            mb_w,
            mb_h,
            mbs: vec![MbInfo::default(); n],
            mv: [vec![[0; 2]; n4], vec![[0; 2]; n4]],
            ref_idx: [vec![-1; n4], vec![-1; n4]],
            ref_id: [vec![-1; n4], vec![-1; n4]],
            slices: Vec::new(),
        }
    }

    /// Index of the 4x4 block at (x4, y4) in 4x4 units.
    #[inline]
    pub fn idx4(&self, x4: usize, y4: usize) -> usize {
        y4 * self.mb_w * 4 + x4
    }

    /// Macroblock at offset (dx, dy) from (mbx, mby) if it exists and belongs
    /// to slice `slice` (already decoded).
    #[inline]
    pub fn neighbour(
        &self,
        mbx: usize,
        mby: usize,
        dx: isize,
        dy: isize,
        slice: u32,
    ) -> Option<usize> {
        let x = mbx as isize + dx;
        let y = mby as isize + dy;
        if x < 0 || y < 0 || x >= self.mb_w as isize || y >= self.mb_h as isize {
            return None;
        }
        let a = y as usize * self.mb_w + x as usize;
        if self.mbs[a].slice == slice {
            Some(a)
        } else {
            None
        }
    }

    /// Store the information of a decoded macroblock.
    pub fn store_mb(&mut self, rec: &MbRecord, slice: u32, ref_ids: &[Vec<i32>; 2]) {
        let info = &mut self.mbs[rec.addr];
        info.slice = slice;
        info.kind = rec.kind;
        info.transform8x8 = rec.transform8x8;
        info.qp = if rec.kind == MbKind::IPcm {
            0
        } else {
            rec.qp as i8
        };
        info.cbp = rec.cbp;
        info.chroma_mode = rec.chroma_mode;
        info.modes = rec.intra_modes;
        info.nnz = rec.nnz;
        info.mvd = rec.mvd_abs;
        info.cbf_dc = rec.cbf_dc;
        info.direct = 0;
        info.direct16 = rec.direct16 || rec.kind == MbKind::BSkip;
        if rec.kind == MbKind::IPcm {
            info.cbf_dc = 7;
        }
        if rec.kind == MbKind::IPcm {
            info.nnz = [16; 24];
        }
        let w4 = self.mb_w * 4;
        let intra = rec.kind.is_intra();
        for l in 0..2 {
            // Reference index and picture id per 8x8 quadrant, as two 4x4 blocks each.
            let (mut idx, mut id) = ([-1i8; 4], [-1i32; 4]);
            if !intra {
                for q in 0..4 {
                    let r = rec.ref_idx[l][q];
                    idx[q] = r;
                    if r >= 0 {
                        id[q] = ref_ids[l].get(r as usize).copied().unwrap_or(-1);
                    }
                }
            }
            for by in 0..4 {
                let i = (rec.mby * 4 + by) * w4 + rec.mbx * 4;
                let (q0, q1) = ((by / 2) * 2, (by / 2) * 2 + 1);
                let mv = &mut self.mv[l][i..i + 4];
                if intra {
                    mv.fill([0, 0]);
                } else {
                    mv.copy_from_slice(&rec.mv[l][by * 4..by * 4 + 4]);
                }
                self.ref_idx[l][i..i + 4].copy_from_slice(&[idx[q0], idx[q0], idx[q1], idx[q1]]);
                self.ref_id[l][i..i + 4].copy_from_slice(&[id[q0], id[q0], id[q1], id[q1]]);
            }
        }
    }

    /// The finished picture (its samples to come), and what deblocking reads
    /// besides its motion: the macroblocks and the slices.
    pub fn into_parts(self) -> (PicData, Vec<MbInfo>, Vec<SliceDeblock>) {
        let mb_intra = self.mbs.iter().map(|m| m.kind.is_intra()).collect();
        let pic = PicData {
            id: self.id,
            mb_w: self.mb_w,
            mb_h: self.mb_h,
            samples: Arc::default(),
            mv: self.mv,
            ref_idx: self.ref_idx,
            ref_id: self.ref_id,
            mb_intra,
        };
        (pic, self.mbs, self.slices)
    }
}
