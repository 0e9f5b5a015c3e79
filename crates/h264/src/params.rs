//! Sequence and picture parameter sets.

use crate::bits::BitReader;
use crate::error::{Error, Result};
use crate::tables::{DEFAULT_4X4_INTER, DEFAULT_4X4_INTRA, DEFAULT_8X8_INTER, DEFAULT_8X8_INTRA};
use crate::tables::{ZIGZAG4, ZIGZAG8};

/// Largest picture accepted, in macroblocks per dimension (8192 pixels).
pub const MAX_MBS_DIM: u32 = 512;
/// Largest picture accepted, in macroblocks in total (~ 8K UHD).
pub const MAX_MBS_TOTAL: u32 = 139264;

/// Scaling matrices in raster order: 6 4x4 lists (Y/Cb/Cr intra, Y/Cb/Cr inter)
/// and 2 8x8 lists (Y intra, Y inter).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalingMatrices {
    pub m4: [[u8; 16]; 6],
    pub m8: [[u8; 64]; 2],
}

impl ScalingMatrices {
    pub fn flat() -> Self {
        ScalingMatrices {
            m4: [[16; 16]; 6],
            m8: [[16; 64]; 2],
        }
    }
}

#[derive(Clone, Debug)]
#[allow(dead_code)] // parsed for completeness
pub struct Sps {
    pub profile_idc: u8,
    pub level_idc: u8,
    pub id: u32,
    pub scaling: ScalingMatrices,
    pub scaling_present: bool,
    pub log2_max_frame_num: u32,
    pub poc_type: u32,
    pub log2_max_poc_lsb: u32,
    pub delta_pic_order_always_zero: bool,
    pub offset_for_non_ref_pic: i32,
    pub offset_for_top_to_bottom_field: i32,
    pub offset_for_ref_frame: Vec<i32>,
    pub max_num_ref_frames: u32,
    pub gaps_allowed: bool,
    pub mb_width: u32,
    pub mb_height: u32,
    pub direct_8x8_inference: bool,
    pub crop_left: u32,
    pub crop_right: u32,
    pub crop_top: u32,
    pub crop_bottom: u32,
    pub frame_mbs_only: bool,
    pub num_reorder_frames: Option<u32>,
    pub max_dec_frame_buffering: Option<u32>,
    /// `ChromaArrayType`: 0 for monochrome or separately coded planes, else the chroma
    /// format (1 = 4:2:0).
    pub chroma_array_type: u32,
    /// 4:4:4 with its three colour planes coded separately (`colour_plane_id` per slice).
    pub separate_colour_plane: bool,
    /// Why this decoder cannot decode the stream (chroma format, bit depth, lossless), if
    /// so. The rest of the syntax is still read, so that the order of the stream's pictures
    /// can be worked out from its headers ([`crate::OutputOrder`]).
    pub unsupported: Option<String>,
}

impl Sps {
    pub fn width(&self) -> u32 {
        self.mb_width * 16 - 2 * (self.crop_left + self.crop_right)
    }
    pub fn height(&self) -> u32 {
        self.mb_height * 16 - self.crop_unit_y() * (self.crop_top + self.crop_bottom)
    }
    /// Vertical cropping unit in luma lines (4:2:0).
    pub fn crop_unit_y(&self) -> u32 {
        if self.frame_mbs_only {
            2
        } else {
            4
        }
    }
}

#[derive(Clone, Debug)]
pub struct Pps {
    pub id: u32,
    pub sps_id: u32,
    pub cabac: bool,
    pub bottom_field_pic_order_in_frame_present: bool,
    pub num_ref_idx_default: [u32; 2],
    pub weighted_pred: bool,
    pub weighted_bipred_idc: u32,
    pub pic_init_qp: i32,
    pub chroma_qp_offset: [i32; 2],
    pub deblocking_filter_control_present: bool,
    pub constrained_intra_pred: bool,
    pub redundant_pic_cnt_present: bool,
    pub transform_8x8_mode: bool,
    /// Scaling lists signalled in the PPS (resolved against the SPS when used).
    pub scaling: Option<ScalingMatrices>,
}

/// Parse one scaling list into `out` (raster order); returns whether the
/// default list must be used instead.
fn scaling_list(r: &mut BitReader, out: &mut [u8], zigzag: &[usize]) -> Result<bool> {
    let mut last = 8i32;
    let mut next = 8i32;
    for (j, &pos) in zigzag.iter().enumerate() {
        if next != 0 {
            let delta = r.se_range(-128, 127, "delta_scale")?;
            next = (last + delta + 256) % 256;
            if j == 0 && next == 0 {
                return Ok(true);
            }
        }
        let v = if next == 0 { last } else { next };
        out[pos] = v as u8;
        last = v;
    }
    Ok(false)
}

/// Parse the scaling lists of an SPS (`fallback` = None) or PPS (`fallback` =
/// the SPS matrices, fall-back rule B).
fn parse_matrices(
    r: &mut BitReader,
    n8: usize,
    fallback: Option<&ScalingMatrices>,
) -> Result<ScalingMatrices> {
    let mut m = ScalingMatrices::flat();
    for i in 0..6 {
        let present = r.flag()?;
        let mut use_default = false;
        if present {
            let mut l = [0u8; 16];
            use_default = scaling_list(r, &mut l, &ZIGZAG4)?;
            if !use_default {
                m.m4[i] = l;
                continue;
            }
        }
        let intra = i < 3;
        m.m4[i] = if use_default {
            if intra {
                DEFAULT_4X4_INTRA
            } else {
                DEFAULT_4X4_INTER
            }
        } else if i == 0 || i == 3 {
            match fallback {
                Some(f) => f.m4[i],
                None if intra => DEFAULT_4X4_INTRA,
                None => DEFAULT_4X4_INTER,
            }
        } else {
            m.m4[i - 1]
        };
    }
    for i in 0..2 {
        if i >= n8 {
            m.m8[i] = match fallback {
                Some(f) => f.m8[i],
                None => [16; 64],
            };
            continue;
        }
        let present = r.flag()?;
        let mut use_default = false;
        if present {
            let mut l = [0u8; 64];
            use_default = scaling_list(r, &mut l, &ZIGZAG8)?;
            if !use_default {
                m.m8[i] = l;
                continue;
            }
        }
        let def = if i == 0 {
            DEFAULT_8X8_INTRA
        } else {
            DEFAULT_8X8_INTER
        };
        m.m8[i] = if use_default {
            def
        } else {
            match fallback {
                Some(f) => f.m8[i],
                None => def,
            }
        };
    }
    Ok(m)
}

fn skip_hrd(r: &mut BitReader) -> Result<()> {
    let cnt = r.ue_max(31, "cpb_cnt")? + 1;
    r.u(4)?;
    r.u(4)?;
    for _ in 0..cnt {
        r.ue()?;
        r.ue()?;
        r.flag()?;
    }
    r.u(5)?;
    r.u(5)?;
    r.u(5)?;
    r.u(5)?;
    Ok(())
}

/// Parse the VUI, returning (num_reorder_frames, max_dec_frame_buffering).
fn parse_vui(r: &mut BitReader) -> Result<(Option<u32>, Option<u32>)> {
    if r.flag()? {
        let idc = r.u(8)?;
        if idc == 255 {
            r.u(16)?;
            r.u(16)?;
        }
    }
    if r.flag()? {
        r.flag()?;
    }
    if r.flag()? {
        r.u(3)?;
        r.flag()?;
        if r.flag()? {
            r.u(8)?;
            r.u(8)?;
            r.u(8)?;
        }
    }
    if r.flag()? {
        r.ue()?;
        r.ue()?;
    }
    if r.flag()? {
        r.u(32)?;
        r.u(32)?;
        r.flag()?;
    }
    let nal_hrd = r.flag()?;
    if nal_hrd {
        skip_hrd(r)?;
    }
    let vcl_hrd = r.flag()?;
    if vcl_hrd {
        skip_hrd(r)?;
    }
    if nal_hrd || vcl_hrd {
        r.flag()?;
    }
    r.flag()?; // pic_struct_present
    if r.flag()? {
        r.flag()?;
        r.ue()?;
        r.ue()?;
        r.ue()?;
        r.ue()?;
        let reorder = r.ue()?;
        let max_dec = r.ue()?;
        return Ok((Some(reorder.min(16)), Some(max_dec.min(16))));
    }
    Ok((None, None))
}

pub fn parse_sps(rbsp: &[u8]) -> Result<Sps> {
    let mut r = BitReader::new(rbsp);
    let profile_idc = r.u(8)? as u8;
    r.u(8)?; // constraint flags
    let level_idc = r.u(8)? as u8;
    let id = r.ue_max(31, "seq_parameter_set_id")?;
    let mut scaling = ScalingMatrices::flat();
    let mut scaling_present = false;
    // The first reason this decoder cannot decode the stream; the syntax is read on.
    let mut unsupported: Option<String> = None;
    let mut chroma_format_idc = 1;
    let mut separate_colour_plane = false;
    if matches!(
        profile_idc,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    ) {
        chroma_format_idc = r.ue_max(3, "chroma_format_idc")?;
        if chroma_format_idc != 1 {
            let name =
                ["4:0:0 (monochrome)", "4:2:0", "4:2:2", "4:4:4"][chroma_format_idc as usize];
            unsupported.get_or_insert(format!("chroma format {name} (only 4:2:0 is supported)"));
        }
        if chroma_format_idc == 3 {
            separate_colour_plane = r.flag()?;
        }
        let bd_luma = r.ue_max(6, "bit_depth_luma")? + 8;
        let bd_chroma = r.ue_max(6, "bit_depth_chroma")? + 8;
        if bd_luma != 8 || bd_chroma != 8 {
            unsupported.get_or_insert(format!(
                "bit depth {bd_luma}/{bd_chroma} (only 8-bit is supported)"
            ));
        }
        if r.flag()? {
            unsupported.get_or_insert("lossless (qpprime_y_zero_transform_bypass)".into());
        }
        if r.flag()? {
            scaling = parse_matrices(&mut r, 2, None)?;
            scaling_present = true;
            if chroma_format_idc == 3 {
                // The 4:4:4 chroma 8x8 lists: read past, never used.
                for _ in 0..4 {
                    if r.flag()? {
                        scaling_list(&mut r, &mut [0u8; 64], &ZIGZAG8)?;
                    }
                }
            }
        }
    }
    let log2_max_frame_num = r.ue_max(12, "log2_max_frame_num_minus4")? + 4;
    let poc_type = r.ue_max(2, "pic_order_cnt_type")?;
    let mut log2_max_poc_lsb = 0;
    let mut delta_pic_order_always_zero = false;
    let mut offset_for_non_ref_pic = 0;
    let mut offset_for_top_to_bottom_field = 0;
    let mut offset_for_ref_frame = Vec::new();
    if poc_type == 0 {
        log2_max_poc_lsb = r.ue_max(12, "log2_max_pic_order_cnt_lsb_minus4")? + 4;
    } else if poc_type == 1 {
        delta_pic_order_always_zero = r.flag()?;
        offset_for_non_ref_pic = r.se()?;
        offset_for_top_to_bottom_field = r.se()?;
        let n = r.ue_max(255, "num_ref_frames_in_pic_order_cnt_cycle")?;
        for _ in 0..n {
            offset_for_ref_frame.push(r.se()?);
        }
    }
    let max_num_ref_frames = r.ue_max(16, "max_num_ref_frames")?;
    let gaps_allowed = r.flag()?;
    let mb_width = r.ue_max(MAX_MBS_DIM - 1, "pic_width_in_mbs_minus1")? + 1;
    let map_height = r.ue_max(MAX_MBS_DIM - 1, "pic_height_in_map_units_minus1")? + 1;
    let frame_mbs_only = r.flag()?;
    if !frame_mbs_only && r.flag()? {
        return Err(Error::unsupported("interlaced coding (MBAFF)"));
    }
    // Without MBAFF, field-capable streams are decoded as long as every
    // picture is coded as a frame (checked per slice).
    let mb_height = if frame_mbs_only {
        map_height
    } else {
        map_height * 2
    };
    if mb_width * mb_height > MAX_MBS_TOTAL {
        return Err(Error::unsupported(format!(
            "picture of {mb_width}x{mb_height} macroblocks is too large"
        )));
    }
    let direct_8x8_inference = r.flag()?;
    let (mut crop_left, mut crop_right, mut crop_top, mut crop_bottom) = (0, 0, 0, 0);
    if r.flag()? {
        crop_left = r.ue()?;
        crop_right = r.ue()?;
        crop_top = r.ue()?;
        crop_bottom = r.ue()?;
        let unit_y = if frame_mbs_only { 2 } else { 4 };
        if (crop_left as u64 + crop_right as u64) * 2 >= mb_width as u64 * 16
            || (crop_top as u64 + crop_bottom as u64) * unit_y >= mb_height as u64 * 16
        {
            return Err(Error::invalid("cropping window larger than the picture"));
        }
    }
    let mut num_reorder_frames = None;
    let mut max_dec_frame_buffering = None;
    if r.flag()? {
        // A damaged VUI is not fatal: it only carries output hints.
        if let Ok((a, b)) = parse_vui(&mut r) {
            num_reorder_frames = a;
            max_dec_frame_buffering = b;
        }
    }
    Ok(Sps {
        profile_idc,
        level_idc,
        id,
        scaling,
        scaling_present,
        log2_max_frame_num,
        poc_type,
        log2_max_poc_lsb,
        delta_pic_order_always_zero,
        offset_for_non_ref_pic,
        offset_for_top_to_bottom_field,
        offset_for_ref_frame,
        max_num_ref_frames,
        gaps_allowed,
        mb_width,
        mb_height,
        direct_8x8_inference,
        crop_left,
        crop_right,
        crop_top,
        crop_bottom,
        frame_mbs_only,
        num_reorder_frames,
        max_dec_frame_buffering,
        chroma_array_type: if separate_colour_plane {
            0
        } else {
            chroma_format_idc
        },
        separate_colour_plane,
        unsupported,
    })
}

/// Parse a PPS. The SPS table is needed for the scaling-list fall-back.
pub fn parse_pps(rbsp: &[u8], sps_table: &[Option<Sps>]) -> Result<Pps> {
    let mut r = BitReader::new(rbsp);
    let id = r.ue_max(255, "pic_parameter_set_id")?;
    let sps_id = r.ue_max(31, "seq_parameter_set_id")?;
    let sps = sps_table
        .get(sps_id as usize)
        .and_then(|s| s.as_ref())
        .ok_or_else(|| Error::invalid(format!("PPS {id} refers to missing SPS {sps_id}")))?;
    let cabac = r.flag()?;
    let bottom_field_pic_order_in_frame_present = r.flag()?;
    let num_slice_groups = r.ue_max(7, "num_slice_groups_minus1")? + 1;
    if num_slice_groups > 1 {
        return Err(Error::unsupported("slice groups (FMO)"));
    }
    let l0 = r.ue_max(31, "num_ref_idx_l0_default_active_minus1")? + 1;
    let l1 = r.ue_max(31, "num_ref_idx_l1_default_active_minus1")? + 1;
    let weighted_pred = r.flag()?;
    let weighted_bipred_idc = r.u(2)?;
    if weighted_bipred_idc == 3 {
        return Err(Error::invalid("weighted_bipred_idc 3"));
    }
    let pic_init_qp = 26 + r.se_range(-26, 25, "pic_init_qp_minus26")?;
    r.se()?; // pic_init_qs
    let cqo = r.se_range(-12, 12, "chroma_qp_index_offset")?;
    let deblocking_filter_control_present = r.flag()?;
    let constrained_intra_pred = r.flag()?;
    let redundant_pic_cnt_present = r.flag()?;
    let mut transform_8x8_mode = false;
    let mut scaling = None;
    let mut second = cqo;
    if r.more_rbsp_data() {
        transform_8x8_mode = r.flag()?;
        if r.flag()? {
            let n8 = if transform_8x8_mode { 2 } else { 0 };
            let fallback = if sps.scaling_present {
                Some(&sps.scaling)
            } else {
                None
            };
            scaling = Some(parse_matrices(&mut r, n8, fallback)?);
        }
        second = r.se_range(-12, 12, "second_chroma_qp_index_offset")?;
    }
    Ok(Pps {
        id,
        sps_id,
        cabac,
        bottom_field_pic_order_in_frame_present,
        num_ref_idx_default: [l0, l1],
        weighted_pred,
        weighted_bipred_idc,
        pic_init_qp,
        chroma_qp_offset: [cqo, second],
        deblocking_filter_control_present,
        constrained_intra_pred,
        redundant_pic_cnt_present,
        transform_8x8_mode,
        scaling,
    })
}
