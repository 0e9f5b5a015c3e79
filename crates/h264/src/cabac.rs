//! CABAC: arithmetic decoding engine (9.3.1.2, 9.3.3.2) and the macroblock
//! layer syntax decoded with it.

use crate::cabac_tables::{CABAC_INIT_MN, RANGE_LPS, TRANS_LPS, TRANS_MPS};
use crate::error::{Error, Result};
use crate::frame::FrameState;
use crate::mb::{sub_count, MbKind, MbRecord, Part, PRED_L0, PRED_L1, SUB_4X8, SUB_8X4, SUB_8X8};
use crate::slice::SliceType;
use crate::syntax::{self, MbSyntaxCtx};
use crate::tables::{BLK_XY, RASTER_TO_BLK, ZIGZAG4, ZIGZAG8};

const NUM_CTX: usize = 460;

#[rustfmt::skip]
const SIG8_FRAME: [u8; 63] = [
    0, 1, 2, 3, 4, 5, 5, 4, 4, 3, 3, 4, 4, 4, 5, 5, 4, 4, 4, 4, 3, 3, 6, 7, 7, 7, 8, 9, 10, 9, 8, 7,
    7, 6, 11, 12, 13, 11, 6, 7, 8, 9, 14, 10, 9, 8, 6, 11, 12, 13, 11, 6, 9, 14, 10, 9, 11, 12, 13,
    11, 14, 10, 12,
];
#[rustfmt::skip]
const LAST8: [u8; 63] = [
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 8, 8, 8,
];

/// Arithmetic decoding engine with its context states.
///
/// The standard's `codIOffset` is read a bit at a time; here the next bits of the stream
/// wait below it in `value` (`codIOffset = value >> bits`), loaded a byte at a time, so a
/// renormalisation is one shift and a comparison with `codIRange` is one with
/// `range << bits`. Past the end of the data the stream reads as zero bits.
pub struct SliceCabac<'a> {
    data: &'a [u8],
    /// The next byte to load into `value`.
    next_byte: usize,
    value: u64,
    /// How many loaded bits wait below the offset.
    bits: u32,
    range: u32,
    /// (pStateIdx, valMPS) per context.
    state: [(u8, u8); NUM_CTX],
}

impl<'a> SliceCabac<'a> {
    pub fn new(data: &'a [u8], st: SliceType, idc: u32, qp: i32) -> Result<Self> {
        let col = if st == SliceType::I {
            0
        } else {
            idc as usize + 1
        };
        let mut state = [(0u8, 0u8); NUM_CTX];
        let qp = qp.clamp(0, 51);
        for (i, s) in state.iter_mut().enumerate() {
            let (m, n) = CABAC_INIT_MN[i][col];
            let pre = (((m as i32 * qp) >> 4) + n as i32).clamp(1, 126);
            *s = if pre <= 63 {
                ((63 - pre) as u8, 0)
            } else {
                ((pre - 64) as u8, 1)
            };
        }
        let mut c = SliceCabac {
            data,
            next_byte: 0,
            value: 0,
            bits: 0,
            range: 510,
            state,
        };
        c.init_engine(0)?;
        Ok(c)
    }

    /// Starts the engine (9.3.1.2) at byte `at` of the data.
    fn init_engine(&mut self, at: usize) -> Result<()> {
        self.next_byte = at;
        self.value = 0;
        self.bits = 0;
        self.range = 510;
        self.fill();
        // The first 9 bits are the offset.
        self.bits -= 9;
        if self.value >> self.bits >= 510 {
            return Err(Error::invalid("bad CABAC initialisation"));
        }
        Ok(())
    }

    /// Loads bytes below the offset until more than 47 bits wait there (at most 55). The
    /// offset stays under the range (2^9), so `value` never needs more than 64 bits.
    #[inline(never)]
    fn fill(&mut self) {
        while self.bits <= 47 {
            let b = self.data.get(self.next_byte).copied().unwrap_or(0);
            self.next_byte += 1;
            self.value = (self.value << 8) | u64::from(b);
            self.bits += 8;
        }
    }

    /// Moves `n` waiting bits into the offset.
    #[inline(always)]
    fn consume(&mut self, n: u32) {
        if self.bits < n {
            self.fill();
        }
        self.bits -= n;
    }

    /// RenormD: doubles the range until it is at least 256, taking a bit per doubling.
    #[inline(always)]
    fn renormalise(&mut self) {
        // The range is 2..=510: 9 significant bits when at least 256.
        let n = self.range.leading_zeros().saturating_sub(23);
        self.range <<= n;
        self.consume(n);
    }

    /// Bits of the data taken into the offset so far.
    fn position(&self) -> usize {
        self.next_byte * 8 - self.bits as usize
    }

    fn overrun(&self) -> bool {
        self.position() > self.data.len() * 8 + 64
    }

    #[inline]
    pub fn decision(&mut self, ctx: usize) -> u32 {
        let (s, mps) = self.state[ctx];
        let lps = RANGE_LPS[s as usize][((self.range >> 6) & 3) as usize] as u32;
        self.range -= lps;
        let bin;
        let scaled = u64::from(self.range) << self.bits;
        if self.value >= scaled {
            bin = 1 - mps as u32;
            self.value -= scaled;
            self.range = lps;
            let nmps = if s == 0 { 1 - mps } else { mps };
            self.state[ctx] = (TRANS_LPS[s as usize], nmps);
        } else {
            bin = mps as u32;
            self.state[ctx] = (TRANS_MPS[s as usize], mps);
        }
        self.renormalise();
        bin
    }

    #[inline]
    fn bypass(&mut self) -> u32 {
        self.consume(1);
        let scaled = u64::from(self.range) << self.bits;
        if self.value >= scaled {
            self.value -= scaled;
            1
        } else {
            0
        }
    }

    fn terminate(&mut self) -> u32 {
        self.range -= 2;
        if self.value >= u64::from(self.range) << self.bits {
            1
        } else {
            self.renormalise();
            0
        }
    }

    pub fn end_of_slice(&mut self) -> Result<bool> {
        if self.overrun() {
            return Err(Error::invalid("CABAC data overrun"));
        }
        Ok(self.terminate() == 1)
    }

    pub fn skip_flag(&mut self, fs: &FrameState, c: &MbSyntaxCtx, addr: usize) -> Result<bool> {
        let (mbx, mby) = (addr % fs.mb_w, addr / fs.mb_w);
        let cond = |n: Option<usize>| -> usize {
            match n {
                Some(a) => !fs.mbs[a].kind.is_skip() as usize,
                None => 0,
            }
        };
        let inc = cond(fs.neighbour(mbx, mby, -1, 0, c.slice_num))
            + cond(fs.neighbour(mbx, mby, 0, -1, c.slice_num));
        let base = if c.slice_type == SliceType::B { 24 } else { 11 };
        if self.overrun() {
            return Err(Error::invalid("CABAC data overrun"));
        }
        Ok(self.decision(base + inc) == 1)
    }

    fn intra_mb_type(&mut self, base: usize, islice: bool, inc: usize) -> u32 {
        let mut b = base;
        if islice {
            if self.decision(b + inc) == 0 {
                return 0;
            }
            b += 2;
        } else if self.decision(b) == 0 {
            return 0;
        }
        if self.terminate() == 1 {
            return 25;
        }
        let i = islice as usize;
        let mut t = 1 + 12 * self.decision(b + 1);
        if self.decision(b + 2) == 1 {
            t += 4 + 4 * self.decision(b + 2 + i);
        }
        t += 2 * self.decision(b + 3 + i);
        t += self.decision(b + 3 + 2 * i);
        t
    }

    /// Parse a non-skipped macroblock.
    pub fn parse_mb(
        &mut self,
        c: &MbSyntaxCtx,
        fs: &FrameState,
        rec: &mut MbRecord,
        prev_dqp: bool,
    ) -> Result<()> {
        if self.overrun() {
            return Err(Error::invalid("CABAC data overrun"));
        }
        let slice = c.slice_num;
        let a = fs.neighbour(rec.mbx, rec.mby, -1, 0, slice);
        let b = fs.neighbour(rec.mbx, rec.mby, 0, -1, slice);
        // mb_type
        let imb = match c.slice_type {
            SliceType::I => {
                let cond = |n: Option<usize>| -> usize {
                    n.map(|x| matches!(fs.mbs[x].kind, MbKind::I16x16 | MbKind::IPcm) as usize)
                        .unwrap_or(0)
                };
                Some(self.intra_mb_type(3, true, cond(a) + cond(b)))
            }
            SliceType::P => {
                if self.decision(14) == 0 {
                    let t = if self.decision(15) == 0 {
                        3 * self.decision(16)
                    } else {
                        2 - self.decision(17)
                    };
                    syntax::set_p_type(rec, t);
                    None
                } else {
                    Some(self.intra_mb_type(17, false, 0))
                }
            }
            SliceType::B => {
                let cond = |n: Option<usize>| -> usize {
                    n.map(|x| !fs.mbs[x].direct16 as usize).unwrap_or(0)
                };
                let inc = cond(a) + cond(b);
                let t;
                if self.decision(27 + inc) == 0 {
                    t = Some(0);
                } else if self.decision(27 + 3) == 0 {
                    t = Some(1 + self.decision(27 + 5));
                } else {
                    let mut bits = self.decision(27 + 4) << 3;
                    bits |= self.decision(27 + 5) << 2;
                    bits |= self.decision(27 + 5) << 1;
                    bits |= self.decision(27 + 5);
                    t = if bits < 8 {
                        Some(bits + 3)
                    } else if bits == 13 {
                        None
                    } else if bits == 14 {
                        Some(11)
                    } else if bits == 15 {
                        Some(22)
                    } else {
                        bits = (bits << 1) | self.decision(27 + 5);
                        Some(bits - 4)
                    };
                }
                match t {
                    Some(t) => {
                        syntax::set_b_type(rec, t);
                        None
                    }
                    None => Some(self.intra_mb_type(32, false, 0)),
                }
            }
        };
        if let Some(imb) = imb {
            syntax::set_i_type(rec, imb);
        }
        if rec.kind == MbKind::IPcm {
            // PCM samples start at the next byte boundary
            let start = self.position().div_ceil(8);
            let bytes = self
                .data
                .get(start..start + 384)
                .ok_or_else(|| Error::invalid("truncated PCM samples"))?;
            rec.pcm.copy_from_slice(bytes);
            self.init_engine(start + 384)?;
            return Ok(());
        }
        let intra = rec.kind.is_intra();
        if intra {
            if rec.kind == MbKind::I4x4 {
                if c.transform_8x8_mode {
                    let inc = self.t8_inc(fs, a, b);
                    if self.decision(399 + inc) == 1 {
                        rec.kind = MbKind::I8x8;
                        rec.transform8x8 = true;
                    }
                }
                let n = if rec.transform8x8 { 4 } else { 16 };
                for i in 0..n {
                    if self.decision(68) == 1 {
                        rec.rem_modes[i] = -1;
                    } else {
                        let v =
                            self.decision(69) | (self.decision(69) << 1) | (self.decision(69) << 2);
                        rec.rem_modes[i] = v as i8;
                    }
                }
            }
            let cond = |n: Option<usize>| -> usize {
                n.map(|x| {
                    let m = &fs.mbs[x];
                    (m.kind.is_intra() && m.kind != MbKind::IPcm && m.chroma_mode != 0) as usize
                })
                .unwrap_or(0)
            };
            let inc = cond(a) + cond(b);
            rec.chroma_mode = if self.decision(64 + inc) == 0 {
                0
            } else if self.decision(67) == 0 {
                1
            } else if self.decision(67) == 0 {
                2
            } else {
                3
            };
        } else if rec.part == Part::P8x8 && !rec.direct16 {
            let isb = c.slice_type == SliceType::B;
            for i in 0..4 {
                let t = if isb {
                    self.b_sub_type()
                } else {
                    self.p_sub_type()
                };
                syntax::set_sub_type(rec, i, t, isb);
            }
            for l in 0..2 {
                let lf = if l == 0 { PRED_L0 } else { PRED_L1 };
                for i in 0..4 {
                    if rec.sub_pred[i] & lf != 0 {
                        rec.ref_idx[l][i] = if c.num_ref_idx[l] > 1 && !rec.ref0 {
                            self.ref_idx(fs, rec, c, l, (i & 1) * 2, (i >> 1) * 2)?
                        } else {
                            0
                        };
                    }
                }
            }
            for l in 0..2 {
                let lf = if l == 0 { PRED_L0 } else { PRED_L1 };
                for i in 0..4 {
                    if rec.sub_pred[i] & lf == 0 {
                        continue;
                    }
                    let (ox, oy) = ((i & 1) * 2, (i >> 1) * 2);
                    for s in 0..sub_count(rec.sub_shape[i]) {
                        let (x, y, w, h) = match rec.sub_shape[i] {
                            SUB_8X8 => (0, 0, 2, 2),
                            SUB_8X4 => (0, s, 2, 1),
                            SUB_4X8 => (s, 0, 1, 2),
                            _ => (s & 1, s >> 1, 1, 1),
                        };
                        let d = self.mvd_pair(fs, rec, c, l, ox + x, oy + y, w, h)?;
                        rec.mvd[l][i * 4 + s] = d;
                    }
                }
            }
        } else if !rec.direct16 {
            let np = rec.num_parts();
            let geom: &[(usize, usize, usize, usize)] = match rec.part {
                Part::P16x16 => &[(0, 0, 4, 4)],
                Part::P16x8 => &[(0, 0, 4, 2), (0, 2, 4, 2)],
                _ => &[(0, 0, 2, 4), (2, 0, 2, 4)],
            };
            for l in 0..2 {
                let lf = if l == 0 { PRED_L0 } else { PRED_L1 };
                for p in 0..np {
                    if rec.part_pred[p] & lf != 0 {
                        let (x, y, _, _) = geom[p];
                        let v = if c.num_ref_idx[l] > 1 {
                            self.ref_idx(fs, rec, c, l, x, y)?
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
                        let (x, y, w, h) = geom[p];
                        rec.mvd[l][p] = self.mvd_pair(fs, rec, c, l, x, y, w, h)?;
                    }
                }
            }
        }
        if rec.kind != MbKind::I16x16 {
            rec.cbp = self.cbp(fs, a, b, intra);
            if rec.cbp & 15 != 0 && c.transform_8x8_mode && !intra && syntax::can_use_8x8(rec, c) {
                let inc = self.t8_inc(fs, a, b);
                rec.transform8x8 = self.decision(399 + inc) == 1;
            }
        }
        if rec.cbp != 0 || rec.kind == MbKind::I16x16 {
            rec.qp_delta = self.qp_delta(prev_dqp)?;
            self.residual(c, fs, rec, a, b)?;
        }
        Ok(())
    }

    fn t8_inc(&self, fs: &FrameState, a: Option<usize>, b: Option<usize>) -> usize {
        let cond = |n: Option<usize>| n.map(|x| fs.mbs[x].transform8x8 as usize).unwrap_or(0);
        cond(a) + cond(b)
    }

    fn p_sub_type(&mut self) -> u32 {
        if self.decision(21) == 1 {
            return 0;
        }
        if self.decision(22) == 0 {
            return 1;
        }
        if self.decision(23) == 1 {
            2
        } else {
            3
        }
    }

    fn b_sub_type(&mut self) -> u32 {
        if self.decision(36) == 0 {
            return 0;
        }
        if self.decision(37) == 0 {
            return 1 + self.decision(39);
        }
        let mut t = 3;
        if self.decision(38) == 1 {
            if self.decision(39) == 1 {
                return 11 + self.decision(39);
            }
            t += 4;
        }
        t += 2 * self.decision(39);
        t += self.decision(39);
        t
    }

    /// refIdx of list `l` at 4x4 position (x4, y4) of a neighbour, for context selection.
    fn nb_ref_gt0(
        &self,
        fs: &FrameState,
        rec: &MbRecord,
        c: &MbSyntaxCtx,
        l: usize,
        x: isize,
        y: isize,
    ) -> bool {
        let isb = c.slice_type == SliceType::B;
        if x >= 0 && y >= 0 {
            let q = (y as usize / 2) * 2 + x as usize / 2;
            if isb && rec.part == Part::P8x8 && rec.sub_pred[q] == 0 {
                return false;
            }
            return rec.ref_idx[l][q] > 0;
        }
        let dx = if x < 0 { -1 } else { 0 };
        let dy = if y < 0 { -1 } else { 0 };
        let Some(n) = fs.neighbour(rec.mbx, rec.mby, dx, dy, c.slice_num) else {
            return false;
        };
        let info = &fs.mbs[n];
        if info.kind.is_intra() || info.kind.is_skip() {
            return false;
        }
        let nx = (x + 4) as usize % 4;
        let ny = (y + 4) as usize % 4;
        let q = (ny / 2) * 2 + nx / 2;
        if isb && info.direct & (1 << q) != 0 {
            return false;
        }
        let i = fs.idx4((n % fs.mb_w) * 4 + nx, (n / fs.mb_w) * 4 + ny);
        fs.ref_idx[l][i] > 0
    }

    fn ref_idx(
        &mut self,
        fs: &FrameState,
        rec: &MbRecord,
        c: &MbSyntaxCtx,
        l: usize,
        x: usize,
        y: usize,
    ) -> Result<i8> {
        let (x, y) = (x as isize, y as isize);
        let mut ctx = self.nb_ref_gt0(fs, rec, c, l, x - 1, y) as usize
            + 2 * self.nb_ref_gt0(fs, rec, c, l, x, y - 1) as usize;
        let mut r = 0;
        while self.decision(54 + ctx) == 1 {
            r += 1;
            ctx = (ctx >> 2) + 4;
            if r >= 32 {
                return Err(Error::invalid("ref_idx too large"));
            }
        }
        if r >= c.num_ref_idx[l] as i32 {
            return Err(Error::invalid(format!("ref_idx {r} out of range")));
        }
        Ok(r as i8)
    }

    fn nb_mvd(
        &self,
        fs: &FrameState,
        rec: &MbRecord,
        c: &MbSyntaxCtx,
        l: usize,
        comp: usize,
        x: isize,
        y: isize,
    ) -> u32 {
        if x >= 0 && y >= 0 {
            return rec.mvd_abs[l][y as usize * 4 + x as usize][comp] as u32;
        }
        let dx = if x < 0 { -1 } else { 0 };
        let dy = if y < 0 { -1 } else { 0 };
        let Some(n) = fs.neighbour(rec.mbx, rec.mby, dx, dy, c.slice_num) else {
            return 0;
        };
        let nx = (x + 4) as usize % 4;
        let ny = (y + 4) as usize % 4;
        fs.mbs[n].mvd[l][ny * 4 + nx][comp] as u32
    }

    #[allow(clippy::too_many_arguments)]
    fn mvd_pair(
        &mut self,
        fs: &FrameState,
        rec: &mut MbRecord,
        c: &MbSyntaxCtx,
        l: usize,
        x: usize,
        y: usize,
        w: usize,
        h: usize,
    ) -> Result<[i32; 2]> {
        let mut out = [0i32; 2];
        for (comp, o) in out.iter_mut().enumerate() {
            let (xi, yi) = (x as isize, y as isize);
            let sum = self.nb_mvd(fs, rec, c, l, comp, xi - 1, yi)
                + self.nb_mvd(fs, rec, c, l, comp, xi, yi - 1);
            let base = if comp == 0 { 40 } else { 47 };
            let inc = if sum < 3 {
                0
            } else if sum <= 32 {
                1
            } else {
                2
            };
            let mut v: i32 = 0;
            if self.decision(base + inc) == 1 {
                v = 1;
                let mut ctx = base + 3;
                while v < 9 && self.decision(ctx) == 1 {
                    if v < 4 {
                        ctx += 1;
                    }
                    v += 1;
                }
                if v >= 9 {
                    let mut k = 3;
                    while self.bypass() == 1 {
                        v += 1 << k;
                        k += 1;
                        if k > 24 {
                            return Err(Error::invalid("mvd too large"));
                        }
                    }
                    while k > 0 {
                        k -= 1;
                        v += (self.bypass() as i32) << k;
                    }
                }
                if self.bypass() == 1 {
                    v = -v;
                }
            }
            *o = v;
            let a = v.unsigned_abs().min(70) as u8;
            for yy in y..y + h {
                for xx in x..x + w {
                    rec.mvd_abs[l][yy * 4 + xx][comp] = a;
                }
            }
        }
        Ok(out)
    }

    fn cbp(&mut self, fs: &FrameState, a: Option<usize>, b: Option<usize>, _intra: bool) -> u8 {
        // luma bits of neighbours: unavailable or PCM count as coded
        let nb = |n: Option<usize>| -> u8 {
            match n {
                None => 0x2f,
                Some(x) => {
                    let m = &fs.mbs[x];
                    match m.kind {
                        MbKind::IPcm => 0x2f,
                        MbKind::PSkip | MbKind::BSkip => 0,
                        _ => m.cbp,
                    }
                }
            }
        };
        let ca = nb(a);
        let cb = nb(b);
        let mut cbp = 0u8;
        let bit = |v: u8, m: u8| (v & m == 0) as usize;
        let ctx = bit(ca, 2) + 2 * bit(cb, 4);
        cbp |= self.decision(73 + ctx) as u8;
        let ctx = bit(cbp, 1) + 2 * bit(cb, 8);
        cbp |= (self.decision(73 + ctx) as u8) << 1;
        let ctx = bit(ca, 8) + 2 * bit(cbp, 1);
        cbp |= (self.decision(73 + ctx) as u8) << 2;
        let ctx = bit(cbp, 4) + 2 * bit(cbp, 2);
        cbp |= (self.decision(73 + ctx) as u8) << 3;
        // chroma: unavailable counts as 0, PCM as 2
        let chroma = |n: Option<usize>| -> u8 {
            match n {
                None => 0,
                Some(x) => {
                    let m = &fs.mbs[x];
                    match m.kind {
                        MbKind::IPcm => 2,
                        MbKind::PSkip | MbKind::BSkip => 0,
                        _ => m.cbp >> 4,
                    }
                }
            }
        };
        let (xa, xb) = (chroma(a), chroma(b));
        let ctx = (xa > 0) as usize + 2 * (xb > 0) as usize;
        if self.decision(77 + ctx) == 0 {
            return cbp;
        }
        let ctx = 4 + (xa == 2) as usize + 2 * (xb == 2) as usize;
        cbp | ((1 + self.decision(77 + ctx) as u8) << 4)
    }

    fn qp_delta(&mut self, prev: bool) -> Result<i32> {
        if self.decision(60 + prev as usize) == 0 {
            return Ok(0);
        }
        let mut v = 1;
        let mut ctx = 62;
        while self.decision(ctx) == 1 {
            ctx = 63;
            v += 1;
            if v > 102 {
                return Err(Error::invalid("mb_qp_delta too large"));
            }
        }
        Ok(if v & 1 == 1 { (v + 1) / 2 } else { -(v / 2) })
    }

    /// Decode one residual block of category `cat` (0..=5). `coef` receives
    /// levels in scan order; returns the number of nonzero coefficients.
    fn block(
        &mut self,
        cat: usize,
        cbf_inc: Option<usize>,
        max: usize,
        coef: &mut [i32],
    ) -> Result<u8> {
        const CBF_OFF: [usize; 5] = [0, 4, 8, 12, 16];
        const SIG_OFF: [usize; 6] = [105, 120, 134, 149, 152, 402];
        const LAST_OFF: [usize; 6] = [166, 181, 195, 210, 213, 417];
        const ABS_OFF: [usize; 6] = [227, 237, 247, 257, 266, 426];
        if let Some(inc) = cbf_inc {
            if self.decision(85 + CBF_OFF[cat] + inc) == 0 {
                return Ok(0);
            }
        }
        let mut sig = [false; 64];
        let mut num = max;
        let mut i = 0;
        while i < max - 1 {
            let (si, li) = match cat {
                3 => (i.min(2), i.min(2)),
                5 => (SIG8_FRAME[i] as usize, LAST8[i] as usize),
                _ => (i, i),
            };
            if self.decision(SIG_OFF[cat] + si) == 1 {
                sig[i] = true;
                if self.decision(LAST_OFF[cat] + li) == 1 {
                    num = i + 1;
                    break;
                }
            }
            i += 1;
        }
        if num == max {
            sig[max - 1] = true;
        }
        let mut eq1 = 0usize;
        let mut gt1 = 0usize;
        let mut count = 0u8;
        for k in (0..num).rev() {
            if !sig[k] {
                continue;
            }
            count += 1;
            let base = ABS_OFF[cat];
            let inc0 = if gt1 != 0 { 0 } else { (1 + eq1).min(4) };
            let mut prefix = 0u32;
            if self.decision(base + inc0) == 1 {
                prefix = 1;
                let inc = 5 + gt1.min(4 - (cat == 3) as usize);
                while prefix < 14 && self.decision(base + inc) == 1 {
                    prefix += 1;
                }
            }
            let mut abs = prefix as i64 + 1;
            if prefix >= 14 {
                let mut kk = 0;
                while self.bypass() == 1 {
                    abs += 1 << kk;
                    kk += 1;
                    if kk > 30 {
                        return Err(Error::invalid("coefficient level too large"));
                    }
                }
                while kk > 0 {
                    kk -= 1;
                    abs += (self.bypass() as i64) << kk;
                }
            }
            if abs == 1 {
                eq1 += 1;
            } else {
                gt1 += 1;
            }
            let v = if self.bypass() == 1 { -abs } else { abs };
            coef[k] = v.clamp(-(1 << 24), 1 << 24) as i32;
        }
        Ok(count)
    }

    fn residual(
        &mut self,
        c: &MbSyntaxCtx,
        fs: &FrameState,
        rec: &mut MbRecord,
        a: Option<usize>,
        b: Option<usize>,
    ) -> Result<()> {
        let intra = rec.kind.is_intra();
        let slice = c.slice_num;
        // coded_block_flag condition from a neighbour macroblock's property
        let nb_cond = |n: Option<usize>, f: &dyn Fn(&crate::frame::MbInfo) -> bool| -> usize {
            match n {
                None => intra as usize,
                Some(x) => {
                    let m = &fs.mbs[x];
                    if m.kind == MbKind::IPcm {
                        1
                    } else {
                        f(m) as usize
                    }
                }
            }
        };
        let mut coef = [0i32; 64];
        if rec.kind == MbKind::I16x16 {
            let inc = nb_cond(a, &|m| m.cbf_dc & 1 != 0) + 2 * nb_cond(b, &|m| m.cbf_dc & 1 != 0);
            coef.fill(0);
            let n = self.block(0, Some(inc), 16, &mut coef)?;
            if n > 0 {
                rec.cbf_dc |= 1;
            }
            for (k, &pos) in ZIGZAG4.iter().enumerate() {
                rec.luma_dc[pos] = coef[k];
            }
        }
        for i8 in 0..4 {
            if rec.cbp & (1 << i8) == 0 {
                continue;
            }
            if rec.transform8x8 {
                coef.fill(0);
                let n = self.block(5, None, 64, &mut coef)?;
                for (k, &pos) in ZIGZAG8.iter().enumerate() {
                    rec.luma[i8 * 64 + pos] = coef[k];
                }
                rec.nnz8[i8] = n;
                for k in 0..4 {
                    rec.nnz[i8 * 4 + k] = n;
                }
                continue;
            }
            for i4 in 0..4 {
                let blk = i8 * 4 + i4;
                let (bx, by) = BLK_XY[blk];
                let left = if bx > 0 {
                    (rec.nnz[RASTER_TO_BLK[by * 4 + bx - 1]] > 0) as usize
                } else {
                    let nb = fs.neighbour(rec.mbx, rec.mby, -1, 0, slice);
                    nb_cond(nb, &|m| m.nnz[RASTER_TO_BLK[by * 4 + 3]] > 0)
                };
                let top = if by > 0 {
                    (rec.nnz[RASTER_TO_BLK[(by - 1) * 4 + bx]] > 0) as usize
                } else {
                    let nb = fs.neighbour(rec.mbx, rec.mby, 0, -1, slice);
                    nb_cond(nb, &|m| m.nnz[RASTER_TO_BLK[12 + bx]] > 0)
                };
                coef.fill(0);
                let n = if rec.kind == MbKind::I16x16 {
                    let n = self.block(1, Some(left + 2 * top), 15, &mut coef)?;
                    for k in 0..15 {
                        rec.luma[blk * 16 + ZIGZAG4[k + 1]] = coef[k];
                    }
                    n
                } else {
                    let n = self.block(2, Some(left + 2 * top), 16, &mut coef)?;
                    for k in 0..16 {
                        rec.luma[blk * 16 + ZIGZAG4[k]] = coef[k];
                    }
                    n
                };
                rec.nnz[blk] = n;
            }
        }
        let cbp_c = rec.cbp >> 4;
        if cbp_c != 0 {
            for p in 0..2 {
                let bitm = 2u8 << p;
                let inc = nb_cond(a, &|m| m.cbf_dc & bitm != 0)
                    + 2 * nb_cond(b, &|m| m.cbf_dc & bitm != 0);
                coef.fill(0);
                let n = self.block(3, Some(inc), 4, &mut coef)?;
                if n > 0 {
                    rec.cbf_dc |= bitm;
                }
                rec.chroma_dc[p].copy_from_slice(&coef[..4]);
            }
        }
        if cbp_c == 2 {
            for p in 0..2 {
                for bk in 0..4 {
                    let (bx, by) = (bk & 1, bk >> 1);
                    let base = 16 + p * 4;
                    let left = if bx > 0 {
                        (rec.nnz[base + by * 2] > 0) as usize
                    } else {
                        let nb = fs.neighbour(rec.mbx, rec.mby, -1, 0, slice);
                        nb_cond(nb, &|m| m.nnz[base + by * 2 + 1] > 0)
                    };
                    let top = if by > 0 {
                        (rec.nnz[base + bx] > 0) as usize
                    } else {
                        let nb = fs.neighbour(rec.mbx, rec.mby, 0, -1, slice);
                        nb_cond(nb, &|m| m.nnz[base + 2 + bx] > 0)
                    };
                    coef.fill(0);
                    let n = self.block(4, Some(left + 2 * top), 15, &mut coef)?;
                    for k in 0..15 {
                        rec.chroma_ac[(p * 4 + bk) * 16 + ZIGZAG4[k + 1]] = coef[k];
                    }
                    rec.nnz[base + bk] = n;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The standard's engine read literally, a bit at a time (9.3.1.2, 9.3.3.2).
    struct Literal<'a> {
        data: &'a [u8],
        pos: usize,
        range: u32,
        offset: u32,
        state: [(u8, u8); NUM_CTX],
    }

    impl Literal<'_> {
        fn bit(&mut self) -> u32 {
            let b = self
                .data
                .get(self.pos >> 3)
                .map_or(0, |&v| (v >> (7 - (self.pos & 7))) as u32 & 1);
            self.pos += 1;
            b
        }

        fn init(&mut self, at_byte: usize) {
            self.pos = at_byte * 8;
            self.range = 510;
            self.offset = 0;
            for _ in 0..9 {
                self.offset = (self.offset << 1) | self.bit();
            }
        }

        fn renorm(&mut self) {
            while self.range < 256 {
                self.range <<= 1;
                self.offset = (self.offset << 1) | self.bit();
            }
        }

        fn decision(&mut self, ctx: usize) -> u32 {
            let (s, mps) = self.state[ctx];
            let lps = RANGE_LPS[s as usize][((self.range >> 6) & 3) as usize] as u32;
            self.range -= lps;
            let bin = if self.offset >= self.range {
                self.offset -= self.range;
                self.range = lps;
                let nmps = if s == 0 { 1 - mps } else { mps };
                self.state[ctx] = (TRANS_LPS[s as usize], nmps);
                1 - mps as u32
            } else {
                self.state[ctx] = (TRANS_MPS[s as usize], mps);
                mps as u32
            };
            self.renorm();
            bin
        }

        fn bypass(&mut self) -> u32 {
            self.offset = (self.offset << 1) | self.bit();
            if self.offset >= self.range {
                self.offset -= self.range;
                1
            } else {
                0
            }
        }

        fn terminate(&mut self) -> u32 {
            self.range -= 2;
            if self.offset >= self.range {
                return 1;
            }
            self.renorm();
            0
        }
    }

    /// The engine with preloaded bits answers every decision, bypass and terminate as the
    /// literal one, at the same bit position, through the end of the data and past it, and
    /// after a restart at a byte (as after PCM samples).
    #[test]
    fn engine_equals_the_standard_read_bit_by_bit() {
        let mut seed = 0x1234_5678u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            seed >> 8
        };
        for len in [0usize, 1, 2, 7, 64, 300] {
            // Mostly skewed bytes so that both likely and unlikely symbols come up.
            let data: Vec<u8> = (0..len)
                .map(|i| {
                    if i % 3 == 0 {
                        next() as u8
                    } else {
                        (next() % 7) as u8
                    }
                })
                .collect();
            let Ok(mut fast) = SliceCabac::new(&data, SliceType::P, 0, 26) else {
                continue;
            };
            let mut slow = Literal {
                data: &data,
                pos: 0,
                range: 0,
                offset: 0,
                state: fast.state,
            };
            slow.init(0);
            for step in 0..len * 12 + 200 {
                if step == len * 6 && len > 4 {
                    let at = len / 2;
                    slow.init(at);
                    if fast.init_engine(at).is_err() {
                        assert!(slow.offset >= 510);
                        break;
                    }
                }
                let (a, b) = match next() % 16 {
                    0 => (fast.bypass(), slow.bypass()),
                    1 if step % 5 == 0 => (fast.terminate(), slow.terminate()),
                    k => {
                        let ctx = (k as usize * 37 + step % 11) % NUM_CTX;
                        (fast.decision(ctx), slow.decision(ctx))
                    }
                };
                assert_eq!(a, b, "length {len}, step {step}");
                assert_eq!(fast.position(), slow.pos, "length {len}, step {step}");
                assert_eq!(fast.range, slow.range);
                assert_eq!(fast.value >> fast.bits, u64::from(slow.offset));
            }
        }
    }
}
