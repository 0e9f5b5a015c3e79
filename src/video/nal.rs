//! NAL unit walking for H.264 and HEVC packets: pure byte parsing, no FFmpeg.
//!
//! MP4/MKV store length-prefixed NAL units (the prefix size comes from the `avcC` or
//! `hvcC` extradata); MPEG-TS and raw streams use Annex B start codes. Only the NAL
//! header of the first slice of a packet is needed: whether the picture is used for
//! reference (H.264 `nal_ref_idc > 0`; HEVC: not a sub-layer non-reference type) and
//! whether it is an IDR picture.

/// Which codec's NAL header layout to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NalCodec {
    H264,
    Hevc,
}

/// How NAL units are delimited inside a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NalFraming {
    /// Each unit is preceded by a big-endian length of this many bytes (1, 2 or 4).
    LengthPrefixed(usize),
    /// Units are separated by `00 00 01` / `00 00 00 01` start codes.
    AnnexB,
}

impl NalFraming {
    /// The framing implied by the codec extradata: `avcC` starts with version 1 and keeps
    /// `lengthSizeMinusOne` in byte 4; `hvcC` starts with version 1 and keeps it in byte 21.
    /// Anything else (no extradata, or extradata in Annex B form) means start codes.
    pub fn from_extradata(codec: NalCodec, extradata: &[u8]) -> NalFraming {
        match codec {
            NalCodec::H264 if extradata.len() >= 7 && extradata[0] == 1 => {
                NalFraming::LengthPrefixed(((extradata[4] & 3) + 1) as usize)
            }
            NalCodec::Hevc if extradata.len() >= 23 && extradata[0] == 1 => {
                NalFraming::LengthPrefixed(((extradata[21] & 3) + 1) as usize)
            }
            _ => NalFraming::AnnexB,
        }
    }
}

/// What the first slice NAL unit of a packet says about its picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SliceNalInfo {
    /// A slice NAL unit was found at all.
    pub has_slice: bool,
    /// The picture may be used as a reference (H.264 `nal_ref_idc > 0`).
    pub is_reference: bool,
    /// An IDR picture (the decoder forgets every earlier reference).
    pub is_idr: bool,
    /// H.264 `nal_ref_idc` (0..3) or, for HEVC, 1 for reference types and 0 otherwise.
    pub nal_ref_idc: u8,
    /// The NAL unit type of that slice.
    pub nal_type: u8,
}

/// Iterates the NAL unit payloads of one packet.
pub fn nal_units(data: &[u8], framing: NalFraming) -> Vec<&[u8]> {
    match framing {
        NalFraming::LengthPrefixed(n) => length_prefixed_units(data, n),
        NalFraming::AnnexB => annexb_units(data),
    }
}

fn length_prefixed_units(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos + n <= data.len() {
        let mut len = 0usize;
        for &b in &data[pos..pos + n] {
            len = (len << 8) | b as usize;
        }
        pos += n;
        if len == 0 {
            continue;
        }
        let end = pos.saturating_add(len).min(data.len());
        out.push(&data[pos..end]);
        pos = end;
    }
    // Some muxers put Annex B data in MP4 anyway: if the length walk found nothing
    // sensible, fall back to start codes.
    if out.is_empty() && data.len() >= 4 && (data[..3] == [0, 0, 1] || data[..4] == [0, 0, 0, 1]) {
        return annexb_units(data);
    }
    out
}

fn annexb_units(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0usize;
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut out = Vec::with_capacity(starts.len());
    for (k, &s) in starts.iter().enumerate() {
        let mut end = if k + 1 < starts.len() {
            starts[k + 1] - 3
        } else {
            data.len()
        };
        // Trailing zero bytes belong to the next start code (00 00 00 01) or are padding.
        while end > s && data[end - 1] == 0 {
            end -= 1;
        }
        if end > s {
            out.push(&data[s..end]);
        }
    }
    out
}

/// HEVC sub-layer non-reference picture types: TRAIL_N, TSA_N, STSA_N, RADL_N, RASL_N and
/// the reserved even types up to 14.
pub fn hevc_sub_layer_non_ref(nal_type: u8) -> bool {
    nal_type <= 14 && nal_type.is_multiple_of(2)
}

/// The header of the first slice NAL unit of a packet.
pub fn first_slice_info(data: &[u8], framing: NalFraming, codec: NalCodec) -> SliceNalInfo {
    first_slice_info_of(&nal_units(data, framing), codec)
}

/// [`first_slice_info`] of a packet already split into its NAL units.
pub fn first_slice_info_of(units: &[&[u8]], codec: NalCodec) -> SliceNalInfo {
    for &nal in units {
        if nal.is_empty() {
            continue;
        }
        match codec {
            NalCodec::H264 => {
                let nal_type = nal[0] & 0x1f;
                let ref_idc = (nal[0] >> 5) & 3;
                if nal_type == 1 || nal_type == 5 {
                    return SliceNalInfo {
                        has_slice: true,
                        is_reference: ref_idc > 0,
                        is_idr: nal_type == 5,
                        nal_ref_idc: ref_idc,
                        nal_type,
                    };
                }
            }
            NalCodec::Hevc => {
                let nal_type = (nal[0] >> 1) & 0x3f;
                if nal_type <= 31 {
                    let non_ref = hevc_sub_layer_non_ref(nal_type);
                    return SliceNalInfo {
                        has_slice: true,
                        is_reference: !non_ref,
                        is_idr: nal_type == 19 || nal_type == 20,
                        nal_ref_idc: u8::from(!non_ref),
                        nal_type,
                    };
                }
            }
        }
    }
    SliceNalInfo::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avcc_and_annexb() {
        let avcc = [0u8, 0, 0, 2, 0x09, 0xf0, 0, 0, 0, 3, 0x41, 0x9a, 0x00];
        let info = first_slice_info(&avcc, NalFraming::LengthPrefixed(4), NalCodec::H264);
        assert!(info.has_slice && info.is_reference && !info.is_idr);
        assert_eq!(info.nal_ref_idc, 2);
        let annexb = [
            0u8, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x01, 0x9e, 0x00, 0, 0, 0, 1, 0x65, 0x88,
        ];
        let info = first_slice_info(&annexb, NalFraming::AnnexB, NalCodec::H264);
        assert!(info.has_slice && !info.is_reference);
        assert_eq!(nal_units(&annexb, NalFraming::AnnexB).len(), 3);
        let hevc = [0u8, 0, 1, 0x00, 0x01, 0xaf];
        let info = first_slice_info(&hevc, NalFraming::AnnexB, NalCodec::Hevc);
        assert!(info.has_slice && !info.is_reference);
        let ext = [1u8, 0x4d, 0x40, 0x1e, 0xff, 0xe1, 0];
        assert_eq!(
            NalFraming::from_extradata(NalCodec::H264, &ext),
            NalFraming::LengthPrefixed(4)
        );
    }
}
