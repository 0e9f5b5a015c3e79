//! Coded-block state that the reference decoder carries from one macroblock
//! to the next.
//!
//! The reference decoder keeps the coded block pattern and the per-block
//! coefficient counts of the last coded macroblock in slice-level scratch
//! state, and its deblocking pass (run after every macroblock row) reloads
//! that scratch state from the macroblocks it filters. A skipped macroblock
//! does not reset the state, so the inverse transform runs again over the
//! (all-zero) blocks that the state marks as coded. In the normal output
//! this adds nothing; in the residual output those blocks become flat 128.
//! This module reproduces which blocks are affected.

use crate::frame::FrameState;
use crate::mb::{MbKind, MbRecord};

#[derive(Default)]
pub struct CarryState {
    cbp: u16,
    nnz: [u8; 24],
    /// Last coded block pattern written at each macroblock position
    /// (persists across pictures, as in the reference decoder).
    cbp_table: Vec<u16>,
}

impl CarryState {
    pub fn ensure_size(&mut self, n: usize) {
        if self.cbp_table.len() != n {
            self.cbp_table = vec![0; n];
        }
    }

    /// State for a skipped macroblock: (coded block pattern, counts).
    pub fn residue(&self) -> (u8, [u8; 24]) {
        (self.cbp as u8, self.nnz)
    }

    /// After a coded (non-skipped) macroblock.
    pub fn coded(&mut self, rec: &MbRecord, cabac: bool) {
        if rec.kind == MbKind::IPcm {
            if cabac {
                if let Some(c) = self.cbp_table.get_mut(rec.addr) {
                    *c = 0xf7ef;
                }
            }
            return;
        }
        let mut nnz = rec.nnz;
        let mut bits8 = 0u16;
        if rec.transform8x8 && !cabac {
            for q in 0..4 {
                nnz[q * 4] = rec.nnz8[q];
                if rec.nnz8[q] != 0 {
                    bits8 |= 1 << (12 + q);
                }
            }
        }
        self.cbp = rec.cbp as u16;
        self.nnz = nnz;
        if let Some(c) = self.cbp_table.get_mut(rec.addr) {
            *c = rec.cbp as u16 | bits8;
        }
    }

    /// After a skipped macroblock.
    pub fn skipped(&mut self, addr: usize, cabac: bool) {
        if cabac {
            if let Some(c) = self.cbp_table.get_mut(addr) {
                *c = 0;
            }
        }
    }

    /// The deblocking pass over macroblocks `from..to` of the current picture.
    pub fn filter_pass(
        &mut self,
        fs: &FrameState,
        from: usize,
        to: usize,
        qp_thresh: i32,
        cavlc_8x8: bool,
    ) {
        for mb in from..to {
            let info = &fs.mbs[mb];
            let qp = info.qp as i32;
            let mbx = mb % fs.mb_w;
            let left_ok = if mb == 0 {
                true
            } else {
                let lq = if mbx == 0 {
                    0
                } else {
                    fs.mbs[mb - 1].qp as i32
                };
                (qp + lq + 1) >> 1 <= qp_thresh
            };
            let top_ok =
                mb < fs.mb_w || (qp + fs.mbs[mb - fs.mb_w].qp as i32 + 1) >> 1 <= qp_thresh;
            if qp <= qp_thresh && left_ok && top_ok {
                continue;
            }
            if info.kind.is_intra() {
                continue;
            }
            let cbp = self.cbp_table.get(mb).copied().unwrap_or(0);
            self.cbp = cbp;
            self.nnz[..16].copy_from_slice(&info.nnz[..16]);
            if cavlc_8x8 && info.transform8x8 {
                for q in 0..4 {
                    let v = ((cbp >> (12 + q)) & 1) as u8;
                    for k in 0..4 {
                        self.nnz[q * 4 + k] = v;
                    }
                }
            }
        }
    }
}
