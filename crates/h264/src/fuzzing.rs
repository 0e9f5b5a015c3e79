//! Entry points for the fuzz targets in `crates/h264/fuzz`.
//!
//! Not part of the public API: each function runs one parser layer over
//! arbitrary bytes and discards the result. None of them may panic or
//! allocate without bound, whatever the input.

use crate::bits::{unescape_rbsp, BitReader};
use crate::cabac::SliceCabac;
use crate::cavlc::residual_block;
use crate::decoder::Decoder;
use crate::nal::{parse_avcc, split_annexb, split_avcc};
use crate::params::{parse_pps, parse_sps, Sps};
use crate::slice::{parse_slice_header, SliceType};
use crate::transform::Mode;

/// SPS of a 64x48 High-profile libx264 stream (emulation prevention kept).
pub const SPS_64X48: &[u8] = &[
    0x67, 0x64, 0x00, 0x0a, 0xac, 0xd9, 0x44, 0x7b, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00,
    0x00, 0x03, 0x03, 0x20, 0xf1, 0x22, 0x59, 0x60,
];
/// PPS for [`SPS_64X48`] with CAVLC entropy coding.
pub const PPS_CAVLC: &[u8] = &[0x68, 0xca, 0xe3, 0xcb, 0x22, 0xc0];
/// PPS for [`SPS_64X48`] with CABAC entropy coding.
pub const PPS_CABAC: &[u8] = &[0x68, 0xea, 0xe3, 0xcb, 0x22, 0xc0];

/// Exercise the bit reader: the first byte picks how the rest is read
/// (raw or unescaped), the following bytes are a program of reads run
/// against the tail. Also runs the NAL splitters over the whole input.
pub fn bit_reader(data: &[u8]) {
    let _ = split_annexb(data);
    let _ = parse_avcc(data);
    if let Some(&b) = data.first() {
        let _ = split_avcc(data, 1 + (b as usize & 3));
    }
    if data.len() < 2 {
        return;
    }
    let n_ops = (data[0] as usize & 31).min(data.len() - 1);
    let ops = &data[1..1 + n_ops];
    let tail = &data[1 + n_ops..];
    let owned;
    let body: &[u8] = if data[0] & 0x80 != 0 {
        owned = unescape_rbsp(tail);
        &owned
    } else {
        tail
    };
    let mut r = BitReader::new(body);
    // Bounded: every round consumes at least one op; ops repeat while the
    // reader advances, and stop when it errors or reaches the end.
    for round in 0..64 {
        let before = r.pos();
        for &op in ops {
            let ok = match op & 7 {
                0 => r.ue().is_ok(),
                1 => r.se().is_ok(),
                2 => r.u((op >> 3) as u32 % 33).is_ok(),
                3 => r.flag().is_ok(),
                4 => r.ue_max((op >> 3) as u32, "fuzz").is_ok(),
                5 => r
                    .se_range(-((op >> 3) as i32), (op >> 3) as i32, "fuzz")
                    .is_ok(),
                6 => {
                    r.align();
                    true
                }
                _ => {
                    let _ = r.peek((op >> 3) as u32 % 33);
                    r.skip((op >> 3) as usize).is_ok()
                }
            };
            let _ = r.more_rbsp_data();
            if !ok {
                return;
            }
        }
        if r.pos() == before || round == 63 {
            return;
        }
    }
}

/// Parse an SPS, a PPS and a slice header. The first byte selects the NAL
/// header bits for the slice; the rest is split by Annex B start codes into
/// SPS, PPS and slice RBSPs. Missing parameter sets fall back to the
/// built-in 64x48 ones.
pub fn params_and_header(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let nals = split_annexb(rest);
    let mut sps_table: Vec<Option<Sps>> = vec![None; 32];
    let default_sps = parse_sps(&unescape_rbsp(&SPS_64X48[1..])).ok();
    let own_sps = nals.first().and_then(|n| parse_sps(&unescape_rbsp(n)).ok());
    let sps = match (own_sps, &default_sps) {
        (Some(s), _) => s,
        (None, Some(s)) => s.clone(),
        (None, None) => return,
    };
    let id = sps.id as usize;
    sps_table[id] = Some(sps.clone());
    if sps.id != 0 {
        sps_table[0] = default_sps;
    }
    let pps_bytes = nals.get(1).copied().unwrap_or(if sel & 1 != 0 {
        &PPS_CABAC[1..]
    } else {
        &PPS_CAVLC[1..]
    });
    let Ok(pps) = parse_pps(&unescape_rbsp(pps_bytes), &sps_table) else {
        return;
    };
    let Some(Some(sps)) = sps_table.get(pps.sps_id as usize) else {
        return;
    };
    let slice = unescape_rbsp(nals.get(2).copied().unwrap_or(&[]));
    let nal_type = if sel & 2 != 0 { 5 } else { 1 };
    let _ = parse_slice_header(&slice, nal_type, (sel as u32 >> 2) & 3, sps, &pps);
}

/// Parse CAVLC residual blocks back to back. Each block is preceded in the
/// control prefix by one byte choosing nC and the block shape.
pub fn cavlc_residual(data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let n_ctl = (data[0] as usize & 15).min(data.len() - 1);
    let ctl = &data[1..1 + n_ctl];
    let mut r = BitReader::new(&data[1 + n_ctl..]);
    let mut coef = [0i32; 16];
    for _ in 0..256 {
        for &c in ctl.iter().chain(std::iter::once(&0u8)) {
            let n_c = match c & 3 {
                0 => -1,
                1 => (c >> 2) as i32 & 1,
                2 => 2 + ((c >> 3) as i32 & 5),
                _ => 8 + (c >> 4) as i32,
            };
            let (start, max) = match (n_c, (c >> 6) & 3) {
                (-1, _) => (0, 4),
                (_, 0) => (1, 15),
                (_, 1) => (0, 15),
                _ => (0, 16),
            };
            coef.fill(0);
            if residual_block(&mut r, n_c, start, max, &mut coef).is_err() {
                return;
            }
        }
    }
}

/// Run the CABAC engine: decisions on contexts named by the control prefix,
/// then end-of-slice checks, over the remaining bytes.
pub fn cabac_engine(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let st = match data[0] % 3 {
        0 => SliceType::I,
        1 => SliceType::P,
        _ => SliceType::B,
    };
    let idc = (data[0] as u32 >> 2) % 3;
    let qp = data[1] as i32 - 64;
    let n_ctl = (data[0] as usize >> 4).min(data.len() - 2);
    let ctl = &data[2..2 + n_ctl];
    let Ok(mut c) = SliceCabac::new(&data[2 + n_ctl..], st, idc, qp) else {
        return;
    };
    for _ in 0..4096 {
        for &b in ctl.iter().chain(std::iter::once(&0u8)) {
            let ctx = (b as usize * 7) % 460;
            let _ = c.decision(ctx);
        }
        match c.end_of_slice() {
            Ok(false) => {}
            _ => return,
        }
    }
}

/// Decode slice NAL units (Annex B) after the built-in 64x48 SPS and a PPS
/// chosen by `cabac`, in one output mode: exercises the slice header, the
/// CAVLC or CABAC macroblock layer, reconstruction and deblocking.
pub fn macroblock_layer(data: &[u8], cabac: bool, mode: Mode) {
    let mut dec = Decoder::new(mode);
    let _ = dec.decode_nal(SPS_64X48);
    let _ = dec.decode_nal(if cabac { PPS_CABAC } else { PPS_CAVLC });
    for nal in split_annexb(data) {
        let t = nal.first().map_or(0, |b| b & 0x1f);
        if t == 1 || t == 5 {
            let _ = dec.decode_nal(nal);
        }
        while dec.next_frame().is_some() {}
    }
    let _ = dec.flush();
}

/// Decode a whole Annex B stream in one mode, ignoring errors NAL by NAL as
/// a player would; then in one call, with non-reference pictures parsed only.
pub fn whole_stream(data: &[u8], mode: Mode) {
    let mut dec = Decoder::new(mode);
    for nal in split_annexb(data) {
        let _ = dec.decode_nal(nal);
        while dec.next_frame().is_some() {}
    }
    let _ = dec.flush();
    let mut dec = Decoder::new(mode);
    dec.set_parse_only_non_reference(true);
    let _ = dec.decode_annexb(data);
}
