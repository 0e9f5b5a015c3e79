//! Slice header parsing.

use crate::bits::BitReader;
use crate::error::{Error, Result};
use crate::params::{Pps, Sps};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SliceType {
    P,
    B,
    I,
}

impl SliceType {
    pub fn as_char(self) -> char {
        match self {
            SliceType::P => 'P',
            SliceType::B => 'B',
            SliceType::I => 'I',
        }
    }
}

/// One reference picture list modification operation.
#[derive(Clone, Copy, Debug)]
pub struct RefMod {
    pub idc: u32,
    pub value: u32,
}

/// Memory management control operation.
#[derive(Clone, Copy, Debug)]
pub struct Mmco {
    pub op: u32,
    pub diff_pic_nums_minus1: u32,
    pub long_term_pic_num: u32,
    pub long_term_frame_idx: u32,
    pub max_long_term_frame_idx_plus1: u32,
}

/// Explicit weighted prediction parameters for one reference.
#[derive(Clone, Copy, Debug, Default)]
pub struct Weight {
    /// Weights for Y, Cb, Cr.
    pub w: [i32; 3],
    /// Offsets for Y, Cb, Cr.
    pub o: [i32; 3],
    /// Whether luma / chroma weights were signalled.
    pub flag: [bool; 2],
}

#[derive(Clone, Debug)]
#[allow(dead_code)] // parsed for completeness
pub struct SliceHeader {
    pub first_mb: u32,
    pub slice_type: SliceType,
    pub pps_id: u32,
    pub frame_num: u32,
    pub idr: bool,
    pub nal_ref_idc: u32,
    pub idr_pic_id: u32,
    pub poc_lsb: u32,
    pub delta_poc_bottom: i32,
    pub delta_poc: [i32; 2],
    pub redundant_pic_cnt: u32,
    pub direct_spatial: bool,
    pub num_ref_idx: [u32; 2],
    pub ref_mods: [Vec<RefMod>; 2],
    pub luma_log2_denom: u32,
    pub chroma_log2_denom: u32,
    pub weights: [Vec<Weight>; 2],
    pub explicit_weights: bool,
    pub no_output_of_prior_pics: bool,
    pub long_term_reference: bool,
    pub adaptive_marking: bool,
    pub mmcos: Vec<Mmco>,
    pub cabac_init_idc: u32,
    pub qp: i32,
    pub disable_deblocking: u32,
    pub alpha_offset: i32,
    pub beta_offset: i32,
}

impl SliceHeader {
    pub fn has_mmco5(&self) -> bool {
        self.mmcos.iter().any(|m| m.op == 5)
    }
}

/// Parse the first fields only (first_mb, slice type, pps id).
pub fn peek_pps_id(rbsp: &[u8]) -> Result<u32> {
    let mut r = BitReader::new(rbsp);
    r.ue()?;
    r.ue()?;
    r.ue_max(255, "pic_parameter_set_id")
}

/// `chroma`: the stream has chroma weights (`ChromaArrayType` is not 0).
fn parse_weights(
    r: &mut BitReader,
    n: u32,
    luma_denom: u32,
    chroma_denom: u32,
    chroma: bool,
) -> Result<Vec<Weight>> {
    let mut v = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let mut w = Weight {
            w: [1 << luma_denom, 1 << chroma_denom, 1 << chroma_denom],
            o: [0; 3],
            flag: [false; 2],
        };
        if r.flag()? {
            w.flag[0] = true;
            w.w[0] = r.se_range(-128, 127, "luma_weight")?;
            w.o[0] = r.se_range(-128, 127, "luma_offset")?;
        }
        if chroma && r.flag()? {
            w.flag[1] = true;
            for c in 1..3 {
                w.w[c] = r.se_range(-128, 127, "chroma_weight")?;
                w.o[c] = r.se_range(-128, 127, "chroma_offset")?;
            }
        }
        v.push(w);
    }
    Ok(v)
}

/// Parse a slice header. Returns the header and the reader positioned at the
/// start of slice data.
pub fn parse_slice_header<'a>(
    rbsp: &'a [u8],
    nal_type: u8,
    nal_ref_idc: u32,
    sps: &Sps,
    pps: &Pps,
) -> Result<(SliceHeader, BitReader<'a>)> {
    let mut r = BitReader::new(rbsp);
    let total_mbs = sps.mb_width * sps.mb_height;
    let first_mb = r.ue()?;
    if first_mb >= total_mbs {
        return Err(Error::invalid(format!(
            "first_mb_in_slice {first_mb} out of range"
        )));
    }
    let st = r.ue_max(9, "slice_type")?;
    let slice_type = match st % 5 {
        0 => SliceType::P,
        1 => SliceType::B,
        2 => SliceType::I,
        3 => return Err(Error::unsupported("SP slices")),
        _ => return Err(Error::unsupported("SI slices")),
    };
    let pps_id = r.ue_max(255, "pic_parameter_set_id")?;
    if sps.separate_colour_plane {
        r.u(2)?; // colour_plane_id
    }
    let frame_num = r.u(sps.log2_max_frame_num)?;
    if !sps.frame_mbs_only && r.flag()? {
        return Err(Error::unsupported(
            "interlaced coding (field pictures, PAFF)",
        ));
    }
    let idr = nal_type == 5;
    let idr_pic_id = if idr { r.ue()? } else { 0 };
    let mut poc_lsb = 0;
    let mut delta_poc_bottom = 0;
    let mut delta_poc = [0; 2];
    if sps.poc_type == 0 {
        poc_lsb = r.u(sps.log2_max_poc_lsb)?;
        if pps.bottom_field_pic_order_in_frame_present {
            delta_poc_bottom = r.se()?;
        }
    } else if sps.poc_type == 1 && !sps.delta_pic_order_always_zero {
        delta_poc[0] = r.se()?;
        if pps.bottom_field_pic_order_in_frame_present {
            delta_poc[1] = r.se()?;
        }
    }
    let redundant_pic_cnt = if pps.redundant_pic_cnt_present {
        r.ue_max(127, "redundant_pic_cnt")?
    } else {
        0
    };
    let mut direct_spatial = false;
    if slice_type == SliceType::B {
        direct_spatial = r.flag()?;
    }
    let mut num_ref_idx = [0, 0];
    if slice_type != SliceType::I {
        num_ref_idx = pps.num_ref_idx_default;
        if r.flag()? {
            num_ref_idx[0] = r.ue_max(31, "num_ref_idx_l0_active_minus1")? + 1;
            if slice_type == SliceType::B {
                num_ref_idx[1] = r.ue_max(31, "num_ref_idx_l1_active_minus1")? + 1;
            }
        }
        if slice_type != SliceType::B {
            num_ref_idx[1] = 0;
        }
    }
    let mut ref_mods: [Vec<RefMod>; 2] = [Vec::new(), Vec::new()];
    let nlists = match slice_type {
        SliceType::I => 0,
        SliceType::P => 1,
        SliceType::B => 2,
    };
    for mods in ref_mods.iter_mut().take(nlists) {
        if r.flag()? {
            loop {
                let idc = r.ue_max(5, "modification_of_pic_nums_idc")?;
                if idc == 3 {
                    break;
                }
                if idc > 2 {
                    return Err(Error::unsupported("MVC reference list modification"));
                }
                let value = r.ue()?;
                if mods.len() > 64 {
                    return Err(Error::invalid("too many reference list modifications"));
                }
                mods.push(RefMod { idc, value });
            }
        }
    }
    let mut luma_log2_denom = 0;
    let mut chroma_log2_denom = 0;
    let mut weights: [Vec<Weight>; 2] = [Vec::new(), Vec::new()];
    let explicit_weights = (pps.weighted_pred && slice_type == SliceType::P)
        || (pps.weighted_bipred_idc == 1 && slice_type == SliceType::B);
    if explicit_weights {
        luma_log2_denom = r.ue_max(7, "luma_log2_weight_denom")?;
        let chroma = sps.chroma_array_type != 0;
        if chroma {
            chroma_log2_denom = r.ue_max(7, "chroma_log2_weight_denom")?;
        }
        for l in 0..nlists {
            weights[l] = parse_weights(
                &mut r,
                num_ref_idx[l],
                luma_log2_denom,
                chroma_log2_denom,
                chroma,
            )?;
        }
    }
    let mut no_output_of_prior_pics = false;
    let mut long_term_reference = false;
    let mut adaptive_marking = false;
    let mut mmcos = Vec::new();
    if nal_ref_idc != 0 {
        if idr {
            no_output_of_prior_pics = r.flag()?;
            long_term_reference = r.flag()?;
        } else {
            adaptive_marking = r.flag()?;
            if adaptive_marking {
                loop {
                    let op = r.ue_max(6, "memory_management_control_operation")?;
                    if op == 0 {
                        break;
                    }
                    let mut m = Mmco {
                        op,
                        diff_pic_nums_minus1: 0,
                        long_term_pic_num: 0,
                        long_term_frame_idx: 0,
                        max_long_term_frame_idx_plus1: 0,
                    };
                    if op == 1 || op == 3 {
                        m.diff_pic_nums_minus1 = r.ue()?;
                    }
                    if op == 2 {
                        m.long_term_pic_num = r.ue()?;
                    }
                    if op == 3 || op == 6 {
                        m.long_term_frame_idx = r.ue_max(31, "long_term_frame_idx")?;
                    }
                    if op == 4 {
                        m.max_long_term_frame_idx_plus1 =
                            r.ue_max(32, "max_long_term_frame_idx")?;
                    }
                    if mmcos.len() > 64 {
                        return Err(Error::invalid("too many memory management operations"));
                    }
                    mmcos.push(m);
                }
            }
        }
    }
    let mut cabac_init_idc = 0;
    if pps.cabac && slice_type != SliceType::I {
        cabac_init_idc = r.ue_max(2, "cabac_init_idc")?;
    }
    let qp = pps.pic_init_qp + r.se()?;
    if !(0..=51).contains(&qp) {
        return Err(Error::invalid(format!("slice QP {qp} out of range")));
    }
    let mut disable_deblocking = 0;
    let mut alpha_offset = 0;
    let mut beta_offset = 0;
    if pps.deblocking_filter_control_present {
        disable_deblocking = r.ue_max(2, "disable_deblocking_filter_idc")?;
        if disable_deblocking != 1 {
            alpha_offset = r.se_range(-6, 6, "slice_alpha_c0_offset_div2")? * 2;
            beta_offset = r.se_range(-6, 6, "slice_beta_offset_div2")? * 2;
        }
    }
    Ok((
        SliceHeader {
            first_mb,
            slice_type,
            pps_id,
            frame_num,
            idr,
            nal_ref_idc,
            idr_pic_id,
            poc_lsb,
            delta_poc_bottom,
            delta_poc,
            redundant_pic_cnt,
            direct_spatial,
            num_ref_idx,
            ref_mods,
            luma_log2_denom,
            chroma_log2_denom,
            weights,
            explicit_weights,
            no_output_of_prior_pics,
            long_term_reference,
            adaptive_marking,
            mmcos,
            cabac_init_idc,
            qp,
            disable_deblocking,
            alpha_offset,
            beta_offset,
        },
        r,
    ))
}
