//! Mosaic JPEGs as upstream writes them with OpenCV: baseline, 4:2:0, the IJG (Annex K)
//! tables scaled by quality (95 by default).

use std::path::Path;

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

/// Upstream's JPEG quality (`cv2.imwrite` default, `--jpg_quality`).
pub const QUALITY: u8 = 95;

/// Encodes interleaved RGB to JPEG bytes.
pub fn encode_rgb(
    rgb: &[u8],
    width: usize,
    height: usize,
    quality: u8,
) -> std::io::Result<Vec<u8>> {
    let (w, h) = (
        u16::try_from(width).map_err(std::io::Error::other)?,
        u16::try_from(height).map_err(std::io::Error::other)?,
    );
    let mut out = Vec::with_capacity(width * height / 4);
    let mut enc = Encoder::new(&mut out, quality);
    enc.set_sampling_factor(SamplingFactor::R_4_2_0);
    enc.encode(rgb, w, h, ColorType::Rgb)
        .map_err(std::io::Error::other)?;
    Ok(out)
}

/// Writes interleaved RGB as a JPEG file, atomically.
pub fn write_rgb(
    path: &Path,
    rgb: &[u8],
    width: usize,
    height: usize,
    quality: u8,
) -> std::io::Result<()> {
    let bytes = encode_rgb(rgb, width, height, quality)?;
    super::atomic::write_bytes_atomic(path, &bytes)
}
