//! The output order of an HEVC stream's pictures from parameter sets and slice headers
//! alone (H.265 8.3.1, picture order count), without decoding slice data: the HEVC
//! counterpart of `h264::OutputOrder`, a cheap check that timestamps agree with the order a
//! decoder outputs pictures in. Pure byte parsing, no FFmpeg.

use h264::{unescape_rbsp, BitReader};

use super::nal::{hevc_sub_layer_non_ref, nal_units, NalFraming};

/// Bytes of a slice NAL unit read: the header fields up to the POC come first and are
/// short.
const HEADER_PREFIX: usize = 256;

/// What the POC needs from a sequence parameter set.
#[derive(Debug, Clone, Copy)]
struct SpsPoc {
    log2_max_poc_lsb: u32,
    separate_colour_plane: bool,
}

/// What the slice header prefix needs from a picture parameter set.
#[derive(Debug, Clone, Copy)]
struct PpsHeader {
    sps_id: usize,
    output_flag_present: bool,
    extra_slice_header_bits: u32,
}

/// Where a picture comes in a decoder's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PictureOrder {
    /// Output with key `(period, POC)`: every picture of a period comes out before the
    /// next period's, and within a period in increasing POC.
    Shown(u32, i32),
    /// Decoded, or skipped, but never output.
    NotShown,
    /// No slice, or a header that cannot be read, or a case where the decoder may discard
    /// pictures not yet output: nothing can be said (and, when a header could not be read,
    /// later keys mean nothing either).
    Unknown,
}

/// Tracks picture order counts across a stream fed one access unit at a time (decode
/// order), as FFmpeg's HEVC decoder does (whose output upstream counts): a period is its
/// sequence counter (moved on by IDR and BLA pictures and end-of-sequence units), the POC
/// follows H.265 8.3.1 with FFmpeg's arithmetic, and RASL pictures of a CRA or BLA picture
/// that starts decoding are skipped.
pub struct HevcOutputOrder {
    sps: [Option<SpsPoc>; 16],
    pps: Vec<Option<PpsHeader>>,
    /// POC of the previous picture with TemporalId 0 that is no RASL, RADL or sub-layer
    /// non-reference picture.
    prev_tid0_poc: i32,
    period: u32,
    started: bool,
    /// An end-of-sequence NAL unit came since the last picture.
    after_eos: bool,
    /// FFmpeg's `max_ra`: RASL pictures with a POC up to it are skipped (`i32::MAX`: the
    /// next random access picture sets it).
    max_ra: i32,
}

impl Default for HevcOutputOrder {
    fn default() -> Self {
        HevcOutputOrder::new()
    }
}

/// NAL unit types (H.265 table 7-1).
const RADL_N: u8 = 6;
const RASL_N: u8 = 8;
const RASL_R: u8 = 9;
const BLA_W_LP: u8 = 16;
const BLA_N_LP: u8 = 18;
const IDR_W_RADL: u8 = 19;
const IDR_N_LP: u8 = 20;
const CRA_NUT: u8 = 21;
const RSV_IRAP_23: u8 = 23;
const SPS_NUT: u8 = 33;
const PPS_NUT: u8 = 34;
const EOS_NUT: u8 = 36;
const EOB_NUT: u8 = 37;

impl HevcOutputOrder {
    pub fn new() -> HevcOutputOrder {
        HevcOutputOrder {
            sps: [None; 16],
            pps: vec![None; 64],
            prev_tid0_poc: 0,
            period: 0,
            started: false,
            after_eos: false,
            max_ra: i32::MAX,
        }
    }

    /// Loads the parameter sets of codec extradata: an `hvcC` record or Annex B units.
    pub fn set_extradata(&mut self, extradata: &[u8]) {
        match hvcc_units(extradata) {
            Some(units) => units.iter().for_each(|n| self.parameter_set(n)),
            None => nal_units(extradata, NalFraming::AnnexB)
                .iter()
                .for_each(|n| self.parameter_set(n)),
        }
    }

    fn parameter_set(&mut self, n: &[u8]) {
        let Some((nal_type, 0, _)) = nal_header(n) else {
            return;
        };
        let rbsp = unescape_rbsp(&n[2..]);
        match nal_type {
            SPS_NUT => {
                if let Some((id, s)) = parse_sps(&rbsp) {
                    self.sps[id] = Some(s);
                }
            }
            PPS_NUT => {
                if let Some((id, p)) = parse_pps(&rbsp) {
                    self.pps[id] = Some(p);
                }
            }
            _ => {}
        }
    }

    /// The NAL units of one access unit (without start codes or length prefixes): where its
    /// picture comes in the output.
    pub fn push(&mut self, nals: &[&[u8]]) -> PictureOrder {
        let mut picture = PictureOrder::Unknown;
        for n in nals {
            let Some((nal_type, layer, tid)) = nal_header(n) else {
                continue;
            };
            if layer != 0 {
                continue;
            }
            match nal_type {
                SPS_NUT | PPS_NUT => self.parameter_set(n),
                EOS_NUT | EOB_NUT => self.end_of_sequence(),
                0..=31 if picture == PictureOrder::Unknown => {
                    picture = self
                        .picture(n, nal_type, tid)
                        .unwrap_or(PictureOrder::Unknown);
                }
                _ => {}
            }
        }
        picture
    }

    fn end_of_sequence(&mut self) {
        if self.started {
            self.period += 1;
        }
        self.max_ra = i32::MAX;
        self.after_eos = true;
    }

    fn picture(&mut self, n: &[u8], nal_type: u8, tid: u8) -> Option<PictureOrder> {
        // Reserved types: their decoding is not defined.
        if matches!(nal_type, 10..=15 | 22..=31) {
            return None;
        }
        let rbsp = unescape_rbsp(&n[2..n.len().min(HEADER_PREFIX)]);
        let mut r = BitReader::new(&rbsp);
        let irap = (BLA_W_LP..=RSV_IRAP_23).contains(&nal_type);
        // The first slice segment of a picture leads its access unit.
        if !r.flag().ok()? {
            return None;
        }
        let no_output_of_prior_pics = irap && r.flag().ok()?;
        let pps = (*self.pps.get(r.ue().ok()? as usize)?)?;
        let sps = self.sps[pps.sps_id]?;
        r.skip(pps.extra_slice_header_bits as usize).ok()?;
        let _slice_type = r.ue().ok()?;
        let output = !pps.output_flag_present || r.flag().ok()?;
        if sps.separate_colour_plane {
            r.skip(2).ok()?;
        }
        let idr = nal_type == IDR_W_RADL || nal_type == IDR_N_LP;
        let bla = (BLA_W_LP..=BLA_N_LP).contains(&nal_type);
        let lsb = if idr {
            0
        } else {
            r.u(sps.log2_max_poc_lsb).ok()? as i32
        };

        let started = std::mem::replace(&mut self.started, true);
        let after_eos = std::mem::take(&mut self.after_eos);
        if idr || bla {
            if started {
                self.period += 1;
            }
            self.max_ra = i32::MAX;
        }
        let poc = if idr {
            0
        } else {
            // C's remainder, as FFmpeg computes it; BLA pictures restart the MSB.
            let max = 1i32 << sps.log2_max_poc_lsb;
            let prev_lsb = self.prev_tid0_poc % max;
            let prev_msb = self.prev_tid0_poc.wrapping_sub(prev_lsb);
            // Wrapping: a damaged stream may walk the MSB without bound.
            let msb = if bla {
                0
            } else if lsb < prev_lsb && prev_lsb - lsb >= max / 2 {
                prev_msb.wrapping_add(max)
            } else if lsb > prev_lsb && lsb - prev_lsb > max / 2 {
                prev_msb.wrapping_sub(max)
            } else {
                prev_msb
            };
            msb.wrapping_add(lsb)
        };
        let leading = (RADL_N..=RASL_R).contains(&nal_type);
        if tid == 0 && !hevc_sub_layer_non_ref(nal_type) && !leading {
            self.prev_tid0_poc = poc;
        }
        if self.max_ra == i32::MAX {
            if nal_type == CRA_NUT || bla {
                self.max_ra = poc;
            } else if idr {
                self.max_ra = i32::MIN;
            }
        }
        let rasl = nal_type == RASL_N || nal_type == RASL_R;
        if rasl && poc <= self.max_ra {
            return Some(PictureOrder::NotShown);
        }
        if nal_type == RASL_R {
            self.max_ra = i32::MIN;
        }
        // FFmpeg discards pictures not yet output when this flag is set, and sets it for
        // a CRA picture after an end of sequence: which ones depends on its output timing.
        if started && irap && (no_output_of_prior_pics || (nal_type == CRA_NUT && after_eos)) {
            return None;
        }
        Some(if output {
            PictureOrder::Shown(self.period, poc)
        } else {
            PictureOrder::NotShown
        })
    }
}

/// `(nal_unit_type, nuh_layer_id, TemporalId)` of a NAL unit.
fn nal_header(n: &[u8]) -> Option<(u8, u8, u8)> {
    let (&b0, &b1) = (n.first()?, n.get(1)?);
    let tid_plus1 = b1 & 7;
    if b0 & 0x80 != 0 || tid_plus1 == 0 {
        return None;
    }
    Some(((b0 >> 1) & 0x3f, ((b0 & 1) << 5) | (b1 >> 3), tid_plus1 - 1))
}

/// The NAL units of an `hvcC` record (version 1), or `None` when it is not one.
fn hvcc_units(d: &[u8]) -> Option<Vec<&[u8]>> {
    if d.len() < 23 || d[0] != 1 {
        return None;
    }
    let mut units = Vec::new();
    let mut pos = 23;
    for _ in 0..d[22] {
        let count = u16::from_be_bytes([*d.get(pos + 1)?, *d.get(pos + 2)?]);
        pos += 3;
        for _ in 0..count {
            let len = u16::from_be_bytes([*d.get(pos)?, *d.get(pos + 1)?]) as usize;
            units.push(d.get(pos + 2..pos + 2 + len)?);
            pos += 2 + len;
        }
    }
    Some(units)
}

/// Skips `profile_tier_level(1, max_sub_layers_minus1)` (H.265 7.3.3).
fn skip_profile_tier_level(r: &mut BitReader, max_sub_layers_minus1: u32) -> Option<()> {
    // General profile space, tier, profile, compatibility and constraint flags, level.
    r.skip(96).ok()?;
    let mut present = Vec::new();
    for _ in 0..max_sub_layers_minus1 {
        present.push((r.flag().ok()?, r.flag().ok()?));
    }
    if max_sub_layers_minus1 > 0 {
        r.skip(2 * (8 - max_sub_layers_minus1 as usize)).ok()?;
    }
    for (profile, level) in present {
        r.skip(if profile { 88 } else { 0 } + if level { 8 } else { 0 })
            .ok()?;
    }
    Some(())
}

/// The id and POC fields of a sequence parameter set (H.265 7.3.2.2).
fn parse_sps(rbsp: &[u8]) -> Option<(usize, SpsPoc)> {
    let mut r = BitReader::new(rbsp);
    r.skip(4).ok()?; // sps_video_parameter_set_id
    let max_sub_layers_minus1 = r.u(3).ok()?;
    r.skip(1).ok()?; // sps_temporal_id_nesting_flag
    skip_profile_tier_level(&mut r, max_sub_layers_minus1)?;
    let id = r.ue().ok()? as usize;
    let chroma_format_idc = r.ue().ok()?;
    let separate_colour_plane = chroma_format_idc == 3 && r.flag().ok()?;
    r.ue().ok()?; // pic_width_in_luma_samples
    r.ue().ok()?; // pic_height_in_luma_samples
    if r.flag().ok()? {
        for _ in 0..4 {
            r.ue().ok()?; // conformance window offsets
        }
    }
    r.ue().ok()?; // bit_depth_luma_minus8
    r.ue().ok()?; // bit_depth_chroma_minus8
    let log2_max_poc_lsb = r.ue().ok()? + 4;
    (id < 16 && log2_max_poc_lsb <= 16).then_some((
        id,
        SpsPoc {
            log2_max_poc_lsb,
            separate_colour_plane,
        },
    ))
}

/// The id and slice-header fields of a picture parameter set (H.265 7.3.2.3).
fn parse_pps(rbsp: &[u8]) -> Option<(usize, PpsHeader)> {
    let mut r = BitReader::new(rbsp);
    let id = r.ue().ok()? as usize;
    let sps_id = r.ue().ok()? as usize;
    r.skip(1).ok()?; // dependent_slice_segments_enabled_flag
    let output_flag_present = r.flag().ok()?;
    let extra_slice_header_bits = r.u(3).ok()?;
    (id < 64 && sps_id < 16).then_some((
        id,
        PpsHeader {
            sps_id,
            output_flag_present,
            extra_slice_header_bits,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes fields MSB first and closes with the RBSP stop bit.
    #[derive(Default)]
    struct Bits {
        bits: Vec<bool>,
    }

    impl Bits {
        fn u(&mut self, n: u32, v: u32) -> &mut Self {
            for i in (0..n).rev() {
                self.bits.push(v >> i & 1 == 1);
            }
            self
        }

        fn ue(&mut self, v: u32) -> &mut Self {
            let x = v + 1;
            let len = 32 - x.leading_zeros();
            self.u(len - 1, 0).u(len, x)
        }

        /// A NAL unit of `nal_type` with TemporalId `tid` holding these bits.
        fn nal(&mut self, nal_type: u8, tid: u8) -> Vec<u8> {
            self.bits.push(true);
            while !self.bits.len().is_multiple_of(8) {
                self.bits.push(false);
            }
            let mut out = vec![nal_type << 1, tid + 1];
            for byte in self.bits.chunks(8) {
                out.push(byte.iter().fold(0, |a, &b| a << 1 | u8::from(b)));
            }
            out
        }
    }

    /// An SPS (id 0, one sub-layer, 4:2:0) with `log2_max_poc_lsb`.
    fn sps(log2_max_poc_lsb: u32) -> Vec<u8> {
        let mut b = Bits::default();
        b.u(4, 0).u(3, 0).u(1, 1);
        b.u(32, 0x0160_0000).u(32, 0).u(32, 0x5d); // profile_tier_level
        b.ue(0).ue(1).ue(64).ue(48).u(1, 0).ue(0).ue(0);
        b.ue(log2_max_poc_lsb - 4);
        b.nal(SPS_NUT, 0)
    }

    fn pps(output_flag_present: bool, extra_bits: u32) -> Vec<u8> {
        let mut b = Bits::default();
        b.ue(0)
            .ue(0)
            .u(1, 0)
            .u(1, u32::from(output_flag_present))
            .u(3, extra_bits);
        b.nal(PPS_NUT, 0)
    }

    /// The first slice segment of a picture.
    fn slice(nal_type: u8, tid: u8, lsb: u32, log2: u32, extra_bits: u32) -> Vec<u8> {
        let mut b = Bits::default();
        b.u(1, 1);
        if (BLA_W_LP..=RSV_IRAP_23).contains(&nal_type) {
            b.u(1, 0);
        }
        b.ue(0).u(extra_bits, 0).ue(1);
        if nal_type != IDR_W_RADL && nal_type != IDR_N_LP {
            b.u(log2, lsb);
        }
        b.nal(nal_type, tid)
    }

    /// POC LSBs that wrap (4 bits, so 16 values) count on across the wrap, pictures of
    /// higher temporal layers and leading pictures do not move the wrap's anchor, an IDR
    /// starts a new period, and a CRA continues one unless a sequence ends before it.
    #[test]
    fn pocs_wrap_and_sequences_start_periods() {
        // The parameter sets as an `hvcC` record (4-byte lengths) and as Annex B units.
        let units = [sps(4), pps(false, 2)];
        let mut hvcc = vec![0u8; 23];
        (hvcc[0], hvcc[21], hvcc[22]) = (1, 0xff, 2);
        for n in &units {
            hvcc.extend_from_slice(&[0x80 | (n[0] >> 1), 0, 1]);
            hvcc.extend_from_slice(&(n.len() as u16).to_be_bytes());
            hvcc.extend_from_slice(n);
        }
        let mut annexb = Vec::new();
        for n in &units {
            annexb.extend_from_slice(&[0, 0, 0, 1]);
            annexb.extend_from_slice(n);
        }
        let (mut o, mut o2) = (HevcOutputOrder::new(), HevcOutputOrder::new());
        o.set_extradata(&hvcc);
        o2.set_extradata(&annexb);
        let key = |o: &mut HevcOutputOrder, t: u8, tid: u8, lsb: u32| match o
            .push(&[&slice(t, tid, lsb, 4, 2)])
        {
            PictureOrder::Shown(period, poc) => Some((period, poc)),
            PictureOrder::NotShown => Some((u32::MAX, 0)),
            PictureOrder::Unknown => None,
        };
        for o in [&mut o, &mut o2] {
            assert_eq!(key(o, IDR_W_RADL, 0, 0), Some((0, 0)));
            assert_eq!(key(o, 1, 0, 8), Some((0, 8))); // TRAIL_R
            assert_eq!(key(o, 0, 1, 4), Some((0, 4))); // TRAIL_N, higher layer
            assert_eq!(key(o, 1, 0, 14), Some((0, 14)));
            assert_eq!(key(o, 1, 0, 4), Some((0, 20))); // wrapped past 16
            assert_eq!(key(o, 0, 0, 2), Some((0, 18))); // non-reference: no new anchor
            assert_eq!(key(o, 1, 0, 12), Some((0, 28)));
            assert_eq!(key(o, CRA_NUT, 0, 0), Some((0, 32))); // CRA mid-stream continues
            assert_eq!(key(o, RASL_R, 0, 14), Some((0, 30))); // its RASL is output
            assert_eq!(key(o, IDR_N_LP, 0, 0), Some((1, 0)));
            assert_eq!(key(o, 1, 0, 3), Some((1, 3)));
            assert_eq!(o.push(&[&[EOS_NUT << 1, 1]]), PictureOrder::Unknown);
            // After an end of sequence: a new period, and FFmpeg may discard pictures not
            // yet output when a CRA picture follows.
            assert_eq!(key(o, CRA_NUT, 0, 9), None);
            assert_eq!(key(o, RASL_R, 0, 7), Some((u32::MAX, 0))); // skipped by the decoder
            assert_eq!(key(o, 1, 0, 11), Some((2, 11)));
            assert_eq!(key(o, BLA_W_LP, 0, 13), Some((3, 13))); // MSB restarts
            assert_eq!(key(o, RASL_N, 0, 12), Some((u32::MAX, 0)));
            assert_eq!(key(o, 1, 0, 2), Some((3, 18)));
        }
    }

    /// A stream starting with a CRA (a cut from a broadcast) drops the CRA's RASL pictures,
    /// not its RADL ones; pictures with `pic_output_flag` 0 are never output.
    #[test]
    fn pictures_a_decoder_does_not_output_have_no_key() {
        let mut o = HevcOutputOrder::new();
        o.push(&[&sps(8), &pps(true, 0)]);
        let with_flag = |t: u8, lsb: u32, output: bool| {
            let mut b = Bits::default();
            b.u(1, 1);
            if (BLA_W_LP..=RSV_IRAP_23).contains(&t) {
                b.u(1, 0);
            }
            b.ue(0).ue(1).u(1, u32::from(output)).u(8, lsb);
            b.nal(t, 0)
        };
        let mut push = |t, lsb, output| o.push(&[&with_flag(t, lsb, output)]);
        assert_eq!(push(CRA_NUT, 40, true), PictureOrder::Shown(0, 40));
        assert_eq!(push(RASL_R, 38, true), PictureOrder::NotShown);
        assert_eq!(push(RADL_N, 39, true), PictureOrder::Shown(0, 39));
        assert_eq!(push(1, 44, false), PictureOrder::NotShown);
        assert_eq!(push(1, 48, true), PictureOrder::Shown(0, 48));
        // A later CRA's RASL pictures are decoded and shown.
        assert_eq!(push(CRA_NUT, 64, true), PictureOrder::Shown(0, 64));
        assert_eq!(push(RASL_N, 60, true), PictureOrder::Shown(0, 60));
    }

    /// Unknown parameter sets, slices that are not a picture's first segment and NAL units
    /// of other layers give no key; truncated units never panic.
    #[test]
    fn unreadable_headers_give_no_key() {
        let mut o = HevcOutputOrder::new();
        assert_eq!(o.push(&[&slice(1, 0, 3, 4, 0)]), PictureOrder::Unknown);
        o.push(&[&sps(4), &pps(false, 0)]);
        let mut later = Bits::default();
        later.u(1, 0).ue(0);
        assert_eq!(o.push(&[&later.nal(1, 0)]), PictureOrder::Unknown);
        let mut other_layer = slice(1, 0, 3, 4, 0);
        other_layer[1] |= 1 << 3;
        assert_eq!(o.push(&[&other_layer]), PictureOrder::Unknown);
        let whole = slice(1, 0, 3, 4, 0);
        for len in 0..whole.len() {
            let _ = o.push(&[&whole[..len]]);
        }
        assert_eq!(o.push(&[&whole]), PictureOrder::Shown(0, 3));
    }

    /// Arbitrary bytes as parameter sets, slices and extradata never panic, whatever state
    /// earlier units left behind.
    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut next = crate::testing::xorshift32(0x9e37_79b9);
        let mut o = HevcOutputOrder::new();
        let mut shown = 0;
        for i in 0..20_000 {
            let len = (next() % 40) as usize;
            let mut unit: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if len >= 2 {
                // Mostly well-formed headers of the types read here, on layer 0.
                let t = [SPS_NUT, PPS_NUT, 1, 0, CRA_NUT, IDR_W_RADL, RASL_N, EOS_NUT]
                    [(next() % 8) as usize];
                unit[0] = t << 1;
                unit[1] = 1 + (next() % 3) as u8;
            }
            if i % 1000 == 0 {
                o.set_extradata(&unit);
            }
            if matches!(o.push(&[&unit]), PictureOrder::Shown(..)) {
                shown += 1;
            }
        }
        assert!(shown > 0, "some random slices read as pictures");
    }
}
