//! The decoder: NAL dispatch, picture boundaries, slice decoding loop and
//! output of pictures in display order.

use crate::bits::{unescape_rbsp, BitReader};
use crate::carry::CarryState;
use crate::cavlc;
use crate::derive::{self, MotionEnv};
use crate::dpb::{compute_poc, Dpb, DpbEntry, PocState};
use crate::error::{Error, Result};
use crate::frame::{FrameState, PicData, RefPic, Samples, SliceDeblock};
use crate::mb::MbKind;
use crate::nal;
use crate::params::{parse_pps, parse_sps, Pps, Sps};
use crate::pipe::{Pipe, SliceRecon};
use crate::recon;
use crate::slice::{parse_slice_header, SliceHeader, SliceType};
use crate::syntax::MbSyntaxCtx;
use crate::transform::{Dequant, Mode};
use std::sync::Arc;

/// A decoded picture in display order (cropped, 4:2:0, no padding).
#[derive(Clone, Debug)]
pub struct Picture {
    pub width: usize,
    pub height: usize,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
    pub pict_type: char,
    pub poc: i32,
    pub is_reference: bool,
    /// False for a picture that was parsed but not reconstructed (see
    /// [`Decoder::set_parse_only_non_reference`]): its planes are empty.
    pub reconstructed: bool,
}

impl Picture {
    /// MD5 of the Y, U and V planes as `ffmpeg -f framemd5` prints it.
    pub fn md5(&self) -> String {
        picture_md5(self)
    }
}

/// MD5 of a picture's planes (Y, then U, then V, rows without padding).
pub fn picture_md5(p: &Picture) -> String {
    let mut m = crate::md5::Md5::new();
    m.update(&p.y);
    m.update(&p.u);
    m.update(&p.v);
    m.hex()
}

struct CurPic {
    fs: FrameState,
    sps: Sps,
    first: SliceHeader,
    poc: i32,
    frame_num_offset: i32,
    poc_msb: i32,
    pict_type: SliceType,
    next_slice: u32,
    mmco5: bool,
    /// Pixels are produced (false: syntax only, see `parse_only_non_ref`).
    reconstruct: bool,
}

/// A finished picture waiting for its turn in display order.
pub(crate) struct Pending {
    pic: Arc<PicData>,
    sps: Sps,
    poc: i32,
    pict_type: char,
    is_ref: bool,
    reconstructed: bool,
}

/// H.264 decoder.
pub struct Decoder {
    mode: Mode,
    sps: Vec<Option<Sps>>,
    pps: Vec<Option<Pps>>,
    cur: Option<CurPic>,
    dpb: Dpb,
    poc_state: PocState,
    pending: Vec<Pending>,
    next_id: i32,
    frames: u64,
    nal_length_size: usize,
    /// Parsed macroblocks go to reconstruction, pictures come back from it.
    pipe: Pipe,
    /// Coded-block state carried between macroblocks (residual output rules).
    carry: CarryState,
    /// Why the last refused sequence parameter set is unsupported.
    unsupported: Option<String>,
    /// Non-reference pictures started while set are parsed but not reconstructed.
    parse_only_non_ref: bool,
    luma_only: bool,
    /// Largest picture (in macroblocks) a slice may start.
    max_mbs: usize,
}

impl Decoder {
    /// A decoder that reconstructs on a thread of its own while it parses.
    pub fn new(mode: Mode) -> Self {
        Self::with_threads(mode, true)
    }

    /// A decoder that parses and reconstructs on the caller's thread only
    /// (the same pictures, one core).
    pub fn single_threaded(mode: Mode) -> Self {
        Self::with_threads(mode, false)
    }

    fn with_threads(mode: Mode, threaded: bool) -> Self {
        Decoder {
            mode,
            sps: vec![None; 32],
            pps: vec![None; 256],
            cur: None,
            dpb: Dpb::default(),
            poc_state: PocState::default(),
            pending: Vec::new(),
            next_id: 0,
            frames: 0,
            nal_length_size: 4,
            pipe: Pipe::new(threaded),
            carry: CarryState::default(),
            unsupported: None,
            parse_only_non_ref: false,
            luma_only: false,
            max_mbs: crate::params::MAX_MBS_TOTAL as usize,
        }
    }

    /// Refuses pictures larger than `mbs` macroblocks (the default is the largest any
    /// level allows). A caller that knows the picture size from the container bounds the
    /// memory a hostile parameter set can make the decoder take (every picture in the
    /// buffer has that size).
    pub fn set_max_macroblocks(&mut self, mbs: usize) {
        self.max_mbs = mbs.min(crate::params::MAX_MBS_TOTAL as usize);
    }

    /// While `on`, a non-reference picture that starts is parsed but not reconstructed: no
    /// prediction, transform or deblocking runs, and it leaves the decoder with
    /// `reconstructed == false` and empty planes. Nothing else refers to a non-reference
    /// picture's pixels, and its syntax is still read, so the coded-block state it carries
    /// to later pictures (which the residual output depends on) is what a full decode
    /// leaves. Set it per packet to skip the pictures nobody will look at.
    pub fn set_parse_only_non_reference(&mut self, on: bool) {
        self.parse_only_non_ref = on;
    }

    /// While `on`, pictures that start are reconstructed without chroma: no chroma
    /// prediction, transform or deblocking runs, and they leave the decoder with empty
    /// chroma planes. Luma never reads chroma, so the luma planes are what a full decode
    /// gives. Keep it the same for a whole stream: a picture without chroma cannot serve
    /// as a reference for one with it.
    pub fn set_luma_only(&mut self, on: bool) {
        self.luma_only = on;
    }

    /// Decode an Annex B byte stream chunk containing whole NAL units.
    pub fn decode_annexb(&mut self, data: &[u8]) -> Result<()> {
        for n in nal::split_annexb(data) {
            self.decode_nal(n)?;
        }
        Ok(())
    }

    /// Decode a sequence of NAL units (each without start code or length).
    pub fn decode_nals<'a>(&mut self, nals: impl IntoIterator<Item = &'a [u8]>) -> Result<()> {
        for n in nals {
            self.decode_nal(n)?;
        }
        Ok(())
    }

    /// Load the parameter sets and NAL length size of an `avcC` record.
    pub fn set_avcc(&mut self, extradata: &[u8]) -> Result<()> {
        let (len, nals) = nal::parse_avcc(extradata)?;
        self.nal_length_size = len;
        for n in nals {
            self.decode_nal(&n)?;
        }
        Ok(())
    }

    /// Set the NAL length size used by [`Decoder::push_avcc_packet`].
    pub fn set_nal_length_size(&mut self, n: usize) -> Result<()> {
        if !(1..=4).contains(&n) {
            return Err(Error::invalid("NAL length size must be 1..=4"));
        }
        self.nal_length_size = n;
        Ok(())
    }

    /// Decode one length-prefixed (AVCC) packet.
    pub fn push_avcc_packet(&mut self, packet: &[u8]) -> Result<()> {
        for n in nal::split_avcc(packet, self.nal_length_size)? {
            self.decode_nal(n)?;
        }
        Ok(())
    }

    /// Next picture in display order, if one is ready. Pictures are handed out
    /// once reconstructed, which may be some packets after they were due.
    pub fn next_frame(&mut self) -> Option<Picture> {
        self.pipe.try_picture()
    }

    /// Finish the stream: returns all remaining pictures in display order.
    pub fn flush(&mut self) -> Result<Vec<Picture>> {
        self.finish_picture()?;
        self.bump_all()?;
        self.pipe.sync()?;
        Ok(std::iter::from_fn(|| self.pipe.try_picture()).collect())
    }

    /// Decode one NAL unit (without start code or length prefix).
    pub fn decode_nal(&mut self, nal: &[u8]) -> Result<()> {
        if nal.is_empty() {
            return Ok(());
        }
        if nal[0] & 0x80 != 0 {
            return Err(Error::invalid("forbidden_zero_bit set"));
        }
        let nal_ref_idc = (nal[0] >> 5) as u32 & 3;
        let nal_type = nal[0] & 0x1f;
        match nal_type {
            1 | 5 => {
                let rbsp = unescape_rbsp(&nal[1..]);
                let frame = self.frames;
                self.decode_slice(&rbsp, nal_type, nal_ref_idc)
                    .map_err(|e| e.at(format!("frame {frame}")))
            }
            2..=4 => Err(Error::unsupported("data partitioning")),
            7 => {
                let rbsp = unescape_rbsp(&nal[1..]);
                let sps = parse_sps(&rbsp).inspect_err(|e| {
                    if let Error::Unsupported(m) = e {
                        self.unsupported = Some(m.clone());
                    }
                })?;
                if let Some(m) = &sps.unsupported {
                    self.unsupported = Some(m.clone());
                    return Err(Error::unsupported(m.clone()));
                }
                let id = sps.id as usize;
                self.sps[id] = Some(sps);
                Ok(())
            }
            8 => {
                let rbsp = unescape_rbsp(&nal[1..]);
                let pps = parse_pps(&rbsp, &self.sps).map_err(|e| self.explain_missing(e))?;
                let id = pps.id as usize;
                self.pps[id] = Some(pps);
                Ok(())
            }
            11 => {
                self.finish_picture()?;
                self.bump_all()
            }
            14 | 20 => Err(Error::unsupported("SVC/MVC extension NAL units")),
            _ => Ok(()),
        }
    }

    fn decode_slice(&mut self, rbsp: &[u8], nal_type: u8, nal_ref_idc: u32) -> Result<()> {
        let pps_id = crate::slice::peek_pps_id(rbsp)? as usize;
        let pps = self.pps[pps_id].clone().ok_or_else(|| {
            self.explain_missing(Error::invalid(format!(
                "slice refers to missing PPS {pps_id}"
            )))
        })?;
        let sps = self.sps[pps.sps_id as usize]
            .clone()
            .ok_or_else(|| self.explain_missing(Error::invalid("missing SPS")))?;
        let (h, r) = parse_slice_header(rbsp, nal_type, nal_ref_idc, &sps, &pps)?;
        if h.redundant_pic_cnt > 0 {
            return Ok(());
        }
        let new_pic = match &self.cur {
            None => true,
            Some(c) => {
                h.first_mb == 0
                    || c.first.frame_num != h.frame_num
                    || c.first.pps_id != h.pps_id
                    || c.first.idr != h.idr
                    || (c.first.nal_ref_idc == 0) != (h.nal_ref_idc == 0)
                    || c.first.poc_lsb != h.poc_lsb
                    || c.first.idr_pic_id != h.idr_pic_id
            }
        };
        if new_pic {
            self.finish_picture()?;
            self.start_picture(&h, &sps)?;
        }
        let cur = self
            .cur
            .as_mut()
            .ok_or_else(|| Error::invalid("no picture"))?;
        if cur.fs.mb_w != sps.mb_width as usize || cur.fs.mb_h != sps.mb_height as usize {
            return Err(Error::invalid("slice of another picture size"));
        }
        cur.pict_type = h.slice_type;
        let poc = cur.poc;
        let refs = self.dpb.build_lists(&h, &sps, poc)?;
        let cur = self
            .cur
            .as_mut()
            .ok_or_else(|| Error::invalid("no picture"))?;
        cur.next_slice += 1;
        let slice_num = cur.next_slice;
        cur.fs.slices.push(SliceDeblock {
            disable: h.disable_deblocking,
            alpha_offset: h.alpha_offset,
            beta_offset: h.beta_offset,
            chroma_qp_offset: pps.chroma_qp_offset,
        });
        if cur.reconstruct {
            let matrices = pps.scaling.clone().unwrap_or_else(|| sps.scaling.clone());
            let implicit = (h.slice_type == SliceType::B && pps.weighted_bipred_idc == 2)
                .then(|| implicit_weights(&refs, poc));
            self.pipe.slice(SliceRecon {
                mode: self.mode,
                chroma_qp_offset: pps.chroma_qp_offset,
                dequant: Dequant::new(&matrices),
                refs: refs.clone(),
                explicit: h
                    .explicit_weights
                    .then(|| (h.weights.clone(), h.luma_log2_denom, h.chroma_log2_denom)),
                implicit,
            })?;
        }
        let sctx = SliceCtx {
            h: &h,
            sps: &sps,
            pps: &pps,
            slice_num,
            refs: &refs,
            poc,
            reconstruct: cur.reconstruct,
        };
        decode_slice_data(&sctx, r, &mut cur.fs, &mut self.pipe, &mut self.carry)
    }

    /// A missing parameter set is most likely one that was refused as
    /// unsupported: report that instead.
    fn explain_missing(&self, e: Error) -> Error {
        match (&e, &self.unsupported) {
            (Error::Invalid(msg), Some(m)) if msg.contains("missing") => {
                Error::Unsupported(m.clone())
            }
            _ => e,
        }
    }

    fn start_picture(&mut self, h: &SliceHeader, sps: &Sps) -> Result<()> {
        let mbs = sps.mb_width as usize * sps.mb_height as usize;
        if mbs > self.max_mbs {
            return Err(Error::invalid(format!(
                "picture of {}x{} macroblocks is larger than the {} allowed",
                sps.mb_width, sps.mb_height, self.max_mbs
            )));
        }
        if h.idr {
            // all earlier pictures precede this one in output order
            self.bump_all()?;
            self.dpb.clear();
        }
        if !h.idr && !self.dpb.refs.is_empty() {
            self.fill_frame_num_gap(h, sps);
        }
        let (poc, fno, msb) = compute_poc(sps, h, &self.poc_state);
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let reconstruct = h.nal_ref_idc != 0 || !self.parse_only_non_ref;
        if reconstruct {
            let (w, h) = (sps.mb_width as usize, sps.mb_height as usize);
            self.pipe.start(w, h, !self.luma_only)?;
        }
        self.cur = Some(CurPic {
            fs: FrameState::new(id, sps.mb_width as usize, sps.mb_height as usize),
            sps: sps.clone(),
            first: h.clone(),
            poc,
            frame_num_offset: fno,
            poc_msb: msb,
            pict_type: h.slice_type,
            next_slice: 0,
            mmco5: h.has_mmco5(),
            reconstruct,
        });
        Ok(())
    }

    /// Frames missing from a gap in frame_num are replaced by copies of the
    /// latest reference (they are used for reference only, never output).
    fn fill_frame_num_gap(&mut self, h: &SliceHeader, sps: &Sps) {
        let max = 1u32 << sps.log2_max_frame_num;
        let gap = self.poc_state.frame_num_gap(sps, h.frame_num);
        if gap == 0 {
            return;
        }
        // only the last few stand-ins can survive the sliding window
        let keep = gap.min(sps.max_num_ref_frames.clamp(1, 16));
        let mut fnum = (h.frame_num + max - keep) % max;
        for _ in 0..keep {
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            if !self.dpb.insert_gap_frame(sps, fnum, id) {
                break;
            }
            fnum = (fnum + 1) % max;
        }
        self.poc_state.bridge_gap(sps, h.frame_num);
    }

    fn finish_picture(&mut self) -> Result<()> {
        let Some(cur) = self.cur.take() else {
            return Ok(());
        };
        self.frames += 1;
        let (pic, mbs, slices) = cur.fs.into_parts();
        let pic = Arc::new(pic);
        if cur.reconstruct {
            self.pipe.finish(pic.clone(), mbs, slices)?;
        }
        let h = &cur.first;
        let mut poc = cur.poc;
        if cur.mmco5 {
            self.bump_all()?;
            poc = 0;
        }
        // POC state for the next picture
        self.poc_state.advance(h, cur.frame_num_offset, cur.poc_msb);
        if h.nal_ref_idc != 0 {
            let entry = DpbEntry {
                pic: pic.clone(),
                poc,
                frame_num: if cur.mmco5 { 0 } else { h.frame_num },
                frame_num_wrap: 0,
                long_term_idx: None,
            };
            self.dpb.mark(h, &cur.sps, entry);
        }
        self.pending.push(Pending {
            pic,
            sps: cur.sps.clone(),
            poc,
            pict_type: cur.pict_type.as_char(),
            is_ref: h.nal_ref_idc != 0,
            reconstructed: cur.reconstruct,
        });
        let depth = cur
            .sps
            .num_reorder_frames
            .or(cur.sps.max_dec_frame_buffering)
            .unwrap_or(16) as usize;
        while self.pending.len() > depth {
            self.bump_one()?;
        }
        Ok(())
    }

    fn bump_one(&mut self) -> Result<()> {
        let Some(i) = (0..self.pending.len()).min_by_key(|&i| self.pending[i].poc) else {
            return Ok(());
        };
        let p = self.pending.remove(i);
        self.pipe.output(p)
    }

    fn bump_all(&mut self) -> Result<()> {
        while !self.pending.is_empty() {
            self.bump_one()?;
        }
        Ok(())
    }
}

/// The picture as it leaves the decoder (its samples, when reconstructed, are
/// complete by the time it leaves).
pub(crate) fn crop(p: &Pending) -> Picture {
    let s = &p.sps;
    let (width, height) = (s.width() as usize, s.height() as usize);
    // A picture parsed only has no pixels to hand out.
    let (y, u, v) = match p.pic.samples.get() {
        Some(s) if p.reconstructed => crop_planes(p, s, width, height),
        _ => Default::default(),
    };
    Picture {
        width,
        height,
        y,
        u,
        v,
        pict_type: p.pict_type,
        poc: p.poc,
        is_reference: p.is_ref,
        reconstructed: p.reconstructed,
    }
}

/// The `w x h` picture inside the coded one (4:2:0 planes, rows without padding).
fn crop_planes(p: &Pending, s: &Samples, w: usize, h: usize) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let sps = &p.sps;
    let (x0, y0) = (
        2 * sps.crop_left as usize,
        (sps.crop_unit_y() * sps.crop_top) as usize,
    );
    let ys = s.mb_w * 16;
    let cs = s.mb_w * 8;
    let mut y = Vec::with_capacity(w * h);
    for j in 0..h {
        y.extend_from_slice(&s.y[(y0 + j) * ys + x0..(y0 + j) * ys + x0 + w]);
    }
    let (cw, ch) = if s.has_chroma() {
        (w / 2, h / 2)
    } else {
        (0, 0)
    };
    let mut u = Vec::with_capacity(cw * ch);
    let mut v = Vec::with_capacity(cw * ch);
    for j in 0..ch {
        let o = (y0 / 2 + j) * cs + x0 / 2;
        u.extend_from_slice(&s.u[o..o + cw]);
        v.extend_from_slice(&s.v[o..o + cw]);
    }
    (y, u, v)
}

/// Implicit bi-prediction weights w0 for each (ref0, ref1) pair (8.4.2.3.1).
fn implicit_weights(refs: &[Vec<RefPic>; 2], cur_poc: i32) -> Vec<i32> {
    let mut t = vec![32; 32 * 32];
    for (i, r0) in refs[0].iter().enumerate().take(32) {
        for (j, r1) in refs[1].iter().enumerate().take(32) {
            let tb = cur_poc.wrapping_sub(r0.poc).clamp(-128, 127);
            let td = r1.poc.wrapping_sub(r0.poc).clamp(-128, 127);
            let mut w = 32;
            if td != 0 && !r0.long_term && !r1.long_term {
                let tx = (16384 + (td / 2).abs()) / td;
                let dsf = ((tb * tx + 32) >> 6).clamp(-1024, 1023);
                if !(dsf >> 2 < -64 || dsf >> 2 > 128) {
                    w = 64 - (dsf >> 2);
                }
            }
            t[i * 32 + j] = w;
        }
    }
    t
}

pub(crate) struct SliceCtx<'a> {
    pub h: &'a SliceHeader,
    pub sps: &'a Sps,
    pub pps: &'a Pps,
    pub slice_num: u32,
    pub refs: &'a [Vec<RefPic>; 2],
    pub poc: i32,
    pub reconstruct: bool,
}

fn decode_slice_data(
    s: &SliceCtx,
    mut r: BitReader,
    fs: &mut FrameState,
    pipe: &mut Pipe,
    carry: &mut CarryState,
) -> Result<()> {
    let h = s.h;
    let total = fs.mb_w * fs.mb_h;
    let ref_ids: [Vec<i32>; 2] = [
        s.refs[0].iter().map(|r| r.pic.id).collect(),
        s.refs[1].iter().map(|r| r.pic.id).collect(),
    ];
    let syn = MbSyntaxCtx {
        slice_type: h.slice_type,
        num_ref_idx: h.num_ref_idx,
        transform_8x8_mode: s.pps.transform_8x8_mode,
        direct_8x8_inference: s.sps.direct_8x8_inference,
        slice_num: s.slice_num,
    };
    let mut qp = h.qp;
    let mut addr = h.first_mb as usize;
    let mut cabac = if s.pps.cabac {
        r.align();
        let start = r.pos() / 8;
        Some(crate::cabac::SliceCabac::new(
            &r.data()[start..],
            h.slice_type,
            h.cabac_init_idc,
            h.qp,
        )?)
    } else {
        None
    };
    let mut prev_qp_delta_nonzero = false;
    let mut rows = RowPass {
        start: addr,
        enabled: h.disable_deblocking != 1,
        qp_thresh: 15
            - h.alpha_offset.min(h.beta_offset)
            - 0.max(s.pps.chroma_qp_offset[0])
                .max(s.pps.chroma_qp_offset[1]),
        cavlc_8x8: !s.pps.cabac && s.pps.transform_8x8_mode,
    };
    carry.ensure_size(total);
    loop {
        if addr >= total {
            return Err(Error::invalid("slice runs past the end of the picture"));
        }
        // skipped macroblocks
        let mut skipped = false;
        let mut more = true;
        if let Some(cb) = cabac.as_mut() {
            if h.slice_type != SliceType::I {
                skipped = cb
                    .skip_flag(fs, &syn, addr)
                    .map_err(|e| e.at(format!("mb {addr}")))?;
            }
        } else if h.slice_type != SliceType::I {
            let run = r.ue()? as usize;
            if run > total - addr {
                return Err(Error::invalid(format!(
                    "mb {addr}: mb_skip_run {run} too long"
                )));
            }
            for _ in 0..run {
                decode_skip(s, fs, pipe, addr, qp, &ref_ids, carry)
                    .map_err(|e| e.at(format!("mb {addr}")))?;
                addr += 1;
                rows.after(addr, fs, carry);
            }
            if run > 0 {
                more = r.more_rbsp_data();
                if !more {
                    break;
                }
                if addr >= total {
                    return Err(Error::invalid("slice runs past the end of the picture"));
                }
            }
        }
        if skipped {
            decode_skip(s, fs, pipe, addr, qp, &ref_ids, carry)
                .map_err(|e| e.at(format!("mb {addr}")))?;
            prev_qp_delta_nonzero = false;
        } else if more {
            let mbx = addr % fs.mb_w;
            let mby = addr / fs.mb_w;
            let rec = &mut pipe.slot().rec;
            rec.reset(addr, mbx, mby);
            match cabac.as_mut() {
                Some(cb) => cb.parse_mb(&syn, fs, rec, prev_qp_delta_nonzero),
                None => cavlc::parse_mb(&mut r, &syn, fs, rec),
            }
            .map_err(|e| e.at(format!("mb {addr}")))?;
            prev_qp_delta_nonzero = rec.qp_delta != 0;
            qp = (qp + rec.qp_delta + 52) % 52;
            rec.qp = qp;
            carry.coded(rec, cabac.is_some());
            finish_mb(s, fs, pipe, &ref_ids, None).map_err(|e| e.at(format!("mb {addr}")))?;
        }
        addr += 1;
        rows.after(addr, fs, carry);
        match cabac.as_mut() {
            Some(cb) => {
                if cb.end_of_slice()? {
                    break;
                }
            }
            None => {
                if !r.more_rbsp_data() {
                    break;
                }
            }
        }
    }
    rows.finish(addr, fs, carry);
    Ok(())
}

/// Tracks the macroblock rows the reference decoder deblocks while decoding
/// a slice (one pass per completed row, one for the partial last row).
struct RowPass {
    start: usize,
    enabled: bool,
    qp_thresh: i32,
    cavlc_8x8: bool,
}

impl RowPass {
    fn after(&mut self, next: usize, fs: &FrameState, carry: &mut CarryState) {
        if next.is_multiple_of(fs.mb_w) {
            self.finish(next, fs, carry);
        }
    }

    fn finish(&mut self, end: usize, fs: &FrameState, carry: &mut CarryState) {
        if end > self.start && self.enabled {
            carry.filter_pass(fs, self.start, end, self.qp_thresh, self.cavlc_8x8);
        }
        self.start = end;
    }
}

fn decode_skip(
    s: &SliceCtx,
    fs: &mut FrameState,
    pipe: &mut Pipe,
    addr: usize,
    qp: i32,
    ref_ids: &[Vec<i32>; 2],
    carry: &mut CarryState,
) -> Result<()> {
    let rec = &mut pipe.slot().rec;
    rec.reset(addr, addr % fs.mb_w, addr / fs.mb_w);
    rec.kind = if s.h.slice_type == SliceType::B {
        MbKind::BSkip
    } else {
        MbKind::PSkip
    };
    rec.qp = qp;
    finish_mb(s, fs, pipe, ref_ids, Some(carry.residue()))?;
    carry.skipped(addr, s.pps.cabac);
    Ok(())
}

/// Derives the motion (or intra modes) of the macroblock parsed into the
/// pipe's slot, records it in the picture and hands it to reconstruction.
fn finish_mb(
    s: &SliceCtx,
    fs: &mut FrameState,
    pipe: &mut Pipe,
    ref_ids: &[Vec<i32>; 2],
    skip_residue: Option<(u8, [u8; 24])>,
) -> Result<()> {
    let job = pipe.slot();
    let rec = &mut job.rec;
    {
        let env = MotionEnv {
            fs,
            slice: s.slice_num,
            refs: s.refs,
            cur_poc: s.poc,
            direct_spatial: s.h.direct_spatial,
            direct_8x8_inference: s.sps.direct_8x8_inference,
            constrained_intra_pred: s.pps.constrained_intra_pred,
        };
        match rec.kind {
            MbKind::I4x4 | MbKind::I8x8 => derive::intra_modes(&env, rec),
            MbKind::I16x16 | MbKind::IPcm => {}
            _ => derive::motion(&env, rec)?,
        }
    }
    if rec.kind.is_intra() {
        rec.ref_idx = [[-1; 4]; 2];
    }
    fs.store_mb(rec, s.slice_num, ref_ids);
    if rec.direct16 || rec.kind == MbKind::BSkip {
        fs.mbs[rec.addr].direct = 0xf;
    } else if rec.kind == MbKind::Inter
        && rec.part == crate::mb::Part::P8x8
        && s.h.slice_type == SliceType::B
    {
        fs.mbs[rec.addr].direct = (0..4)
            .filter(|&q| rec.sub_pred[q] == 0)
            .fold(0, |a, q| a | (1 << q));
    }
    if !s.reconstruct {
        return Ok(());
    }
    job.avail = recon::mb_avail(fs, s.slice_num, s.pps.constrained_intra_pred, rec);
    job.skip_residue = skip_residue;
    // A macroblock that cannot be reconstructed whole still goes over: what
    // comes before the failing block is written, as when decoding stops here.
    let checked = recon::check_refs(s.refs, fs.mb_w, fs.mb_h, rec);
    pipe.commit()?;
    checked
}
