//! The plain per-macroblock record produced by the syntax decoders.

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum MbKind {
    #[default]
    I4x4,
    I8x8,
    I16x16,
    IPcm,
    PSkip,
    BSkip,
    /// Any inter macroblock that is not skipped (P or B, incl. B_Direct_16x16).
    Inter,
}

impl MbKind {
    pub fn is_intra(self) -> bool {
        matches!(
            self,
            MbKind::I4x4 | MbKind::I8x8 | MbKind::I16x16 | MbKind::IPcm
        )
    }
    pub fn is_skip(self) -> bool {
        matches!(self, MbKind::PSkip | MbKind::BSkip)
    }
}

/// Macroblock partitioning of inter macroblocks.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Part {
    #[default]
    P16x16,
    P16x8,
    P8x16,
    P8x8,
}

pub const PRED_L0: u8 = 1;
pub const PRED_L1: u8 = 2;

/// Sub-macroblock shapes.
pub const SUB_8X8: u8 = 0;
pub const SUB_8X4: u8 = 1;
pub const SUB_4X8: u8 = 2;
pub const SUB_4X4: u8 = 3;

pub fn sub_count(shape: u8) -> usize {
    match shape {
        SUB_8X8 => 1,
        SUB_8X4 | SUB_4X8 => 2,
        _ => 4,
    }
}

/// Decoded macroblock: types, modes, motion, coded-block information and
/// coefficient levels (not yet scaled).
#[derive(Clone)]
pub struct MbRecord {
    pub addr: usize,
    pub mbx: usize,
    pub mby: usize,
    pub kind: MbKind,
    pub part: Part,
    /// Prediction lists (PRED_L0 | PRED_L1) of the 1 or 2 partitions.
    pub part_pred: [u8; 2],
    /// B_Direct_16x16 (also set for B_Skip).
    pub direct16: bool,
    /// P_8x8ref0.
    pub ref0: bool,
    pub sub_shape: [u8; 4],
    /// Prediction lists of each 8x8 sub-macroblock; 0 = direct.
    pub sub_pred: [u8; 4],
    pub transform8x8: bool,
    pub i16_mode: u8,
    pub chroma_mode: u8,
    /// Final Intra4x4 modes per block (z-order), or Intra8x8 modes at 0..4.
    pub intra_modes: [u8; 16],
    /// rem_intra_pred_mode per block, -1 when the predicted mode is used.
    pub rem_modes: [i8; 16],
    pub cbp: u8,
    pub qp_delta: i32,
    pub qp: i32,
    /// Reference indices per 8x8 quadrant (-1 = list unused).
    pub ref_idx: [[i8; 4]; 2],
    /// Motion vector differences per partition (index 8x8 * 4 + sub, or partition index).
    pub mvd: [[[i32; 2]; 16]; 2],
    /// Final motion vectors per 4x4 block in raster order.
    pub mv: [[[i16; 2]; 16]; 2],
    /// Luma levels: 4x4 block b at [b*16..], 8x8 block k at [k*64..], raster within the block.
    pub luma: [i32; 256],
    /// Intra16x16 DC levels, raster 4x4.
    pub luma_dc: [i32; 16],
    pub chroma_dc: [[i32; 4]; 2],
    /// Chroma AC: block (plane * 4 + blk) at [.. * 16], raster.
    pub chroma_ac: [i32; 128],
    /// Number of coded coefficients: luma blocks 0..16 (z-order), Cb 16..20, Cr 20..24.
    pub nnz: [u8; 24],
    /// Coefficient count of each 8x8 block when the 8x8 transform is used.
    pub nnz8: [u8; 4],
    pub pcm: [u8; 384],
    /// Absolute mvd per 4x4 block (raster), clamped, for CABAC contexts.
    pub mvd_abs: [[[u8; 2]; 16]; 2],
    /// CABAC coded_block_flag of the DC blocks (bit 0 luma, 1 Cb, 2 Cr).
    pub cbf_dc: u8,
}

impl Default for MbRecord {
    fn default() -> Self {
        MbRecord {
            addr: 0,
            mbx: 0,
            mby: 0,
            kind: MbKind::I4x4,
            part: Part::P16x16,
            part_pred: [0; 2],
            direct16: false,
            ref0: false,
            sub_shape: [0; 4],
            sub_pred: [0; 4],
            transform8x8: false,
            i16_mode: 0,
            chroma_mode: 0,
            intra_modes: [0; 16],
            rem_modes: [-1; 16],
            cbp: 0,
            qp_delta: 0,
            qp: 0,
            ref_idx: [[-1; 4]; 2],
            mvd: [[[0; 2]; 16]; 2],
            mv: [[[0; 2]; 16]; 2],
            luma: [0; 256],
            luma_dc: [0; 16],
            chroma_dc: [[0; 4]; 2],
            chroma_ac: [0; 128],
            nnz: [0; 24],
            nnz8: [0; 4],
            pcm: [0; 384],
            mvd_abs: [[[0; 2]; 16]; 2],
            cbf_dc: 0,
        }
    }
}

impl MbRecord {
    /// Reset for a new macroblock.
    pub fn reset(&mut self, addr: usize, mbx: usize, mby: usize) {
        self.addr = addr;
        self.mbx = mbx;
        self.mby = mby;
        self.kind = MbKind::I4x4;
        self.part = Part::P16x16;
        self.part_pred = [0; 2];
        self.direct16 = false;
        self.ref0 = false;
        self.sub_shape = [0; 4];
        self.sub_pred = [0; 4];
        self.transform8x8 = false;
        self.i16_mode = 0;
        self.chroma_mode = 0;
        self.rem_modes = [-1; 16];
        self.cbp = 0;
        self.qp_delta = 0;
        self.ref_idx = [[-1; 4]; 2];
        self.mvd = [[[0; 2]; 16]; 2];
        self.mv = [[[0; 2]; 16]; 2];
        self.luma = [0; 256];
        self.luma_dc = [0; 16];
        self.chroma_dc = [[0; 4]; 2];
        self.chroma_ac = [0; 128];
        self.nnz = [0; 24];
        self.nnz8 = [0; 4];
        self.mvd_abs = [[[0; 2]; 16]; 2];
        self.cbf_dc = 0;
    }

    pub fn num_parts(&self) -> usize {
        match self.part {
            Part::P16x16 => 1,
            Part::P16x8 | Part::P8x16 => 2,
            Part::P8x8 => 4,
        }
    }
}
