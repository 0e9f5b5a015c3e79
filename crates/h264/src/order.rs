//! The output order of a stream's pictures from parameter sets and slice headers alone,
//! without decoding slice data: a cheap check that timestamps agree with the order a
//! decoder outputs pictures in. It also reads streams the decoder refuses for their chroma
//! format, bit depth or lossless coding (their header syntax is the same); interlaced
//! (MBAFF) sequence parameter sets and field pictures give no key.

use crate::bits::unescape_rbsp;
use crate::dpb::{compute_poc, PocState};
use crate::nal;
use crate::params::{parse_pps, parse_sps, Pps, Sps};
use crate::slice::{parse_slice_header, peek_pps_id};

/// Bytes of a slice NAL unit read first: enough for any header but those with long
/// weight tables or reordering commands, which are read whole.
const HEADER_PREFIX: usize = 1024;

/// Tracks picture order counts across a stream fed one access unit at a time (decode
/// order). A picture's output key is `(period, poc)`: a decoder outputs every picture of a
/// period before the next period's (an IDR picture or a memory reset starts a period), and
/// within a period in increasing POC.
pub struct OutputOrder {
    sps: Vec<Option<Sps>>,
    pps: Vec<Option<Pps>>,
    poc: PocState,
    period: u32,
    started: bool,
}

impl Default for OutputOrder {
    fn default() -> Self {
        OutputOrder::new()
    }
}

impl OutputOrder {
    pub fn new() -> OutputOrder {
        OutputOrder {
            sps: vec![None; 32],
            pps: vec![None; 256],
            poc: PocState::default(),
            period: 0,
            started: false,
        }
    }

    /// Loads the parameter sets of codec extradata: an `avcC` record or Annex B units.
    pub fn set_extradata(&mut self, extradata: &[u8]) {
        if let Ok((_, nals)) = nal::parse_avcc(extradata) {
            for n in &nals {
                self.parameter_set(n);
            }
        } else {
            for n in nal::split_annexb(extradata) {
                self.parameter_set(n);
            }
        }
    }

    fn parameter_set(&mut self, n: &[u8]) {
        match n.first().map(|b| b & 0x1f) {
            Some(7) => {
                if let Ok(s) = parse_sps(&unescape_rbsp(&n[1..])) {
                    let id = s.id as usize;
                    self.sps[id] = Some(s);
                }
            }
            Some(8) => {
                if let Ok(p) = parse_pps(&unescape_rbsp(&n[1..]), &self.sps) {
                    let id = p.id as usize;
                    self.pps[id] = Some(p);
                }
            }
            _ => {}
        }
    }

    /// The NAL units of one access unit (without start codes or length prefixes). Returns
    /// the output key of its picture, or `None` when it holds no slice or a header cannot
    /// be read (the state then no longer follows the stream: later keys mean nothing).
    pub fn push(&mut self, nals: &[&[u8]]) -> Option<(u32, i32)> {
        let mut key = None;
        for n in nals {
            let Some(&b) = n.first() else { continue };
            let nal_type = b & 0x1f;
            match nal_type {
                7 | 8 => self.parameter_set(n),
                1 | 5 if key.is_none() => {
                    let nal_ref_idc = u32::from(b >> 5) & 3;
                    key = Some(self.picture(n, nal_type, nal_ref_idc)?);
                }
                _ => {}
            }
        }
        key
    }

    fn picture(&mut self, n: &[u8], nal_type: u8, nal_ref_idc: u32) -> Option<(u32, i32)> {
        let header = |rbsp: &[u8]| {
            let pps = self.pps[peek_pps_id(rbsp).ok()? as usize].as_ref()?;
            let sps = self.sps[pps.sps_id as usize].as_ref()?;
            let (h, _) = parse_slice_header(rbsp, nal_type, nal_ref_idc, sps, pps).ok()?;
            Some((h, sps.clone()))
        };
        let prefix = unescape_rbsp(&n[1..n.len().min(HEADER_PREFIX)]);
        let (h, sps) = match header(&prefix) {
            Some(x) => x,
            None if n.len() > HEADER_PREFIX => header(&unescape_rbsp(&n[1..]))?,
            None => return None,
        };
        let started = std::mem::replace(&mut self.started, true);
        if h.idr && started {
            self.period += 1;
        }
        // A frame_num gap is filled with stand-ins (once a picture came), as the decoder
        // does.
        if started && !h.idr && self.poc.frame_num_gap(&sps, h.frame_num) > 0 {
            self.poc.bridge_gap(&sps, h.frame_num);
        }
        let (poc, fno, msb) = compute_poc(&sps, &h, &self.poc);
        self.poc.advance(&h, fno, msb);
        if h.has_mmco5() {
            // Everything before is output first; this picture counts as POC 0 after it.
            self.period += 1;
            return Some((self.period, 0));
        }
        Some((self.period, poc))
    }
}
