//! Mosaic JPEGs as upstream writes them with OpenCV: baseline, 4:2:0, the IJG (Annex K)
//! tables scaled by quality (95 by default).

use std::path::Path;

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
use rayon::prelude::*;

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

/// Writes several `width x height` RGB images as JPEG files, each atomically, encoding them
/// on every core (a sample's mosaics are independent). The results come in the order given,
/// so the first failure reported is the same on every run.
pub fn write_rgb_each<P: AsRef<Path> + Sync, I: AsRef<[u8]> + Sync>(
    items: &[(P, I)],
    width: usize,
    height: usize,
    quality: u8,
) -> Vec<std::io::Result<()>> {
    items
        .par_iter()
        .map(|(path, rgb)| write_rgb(path.as_ref(), rgb.as_ref(), width, height, quality))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each image lands in its own file as one encode of it would, and a path that cannot
    /// be written fails in its own place without stopping the others.
    #[test]
    fn several_images_written_at_once_keep_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let (w, h) = (24, 16);
        let images: Vec<Vec<u8>> = (0..4u8)
            .map(|k| {
                (0..w * h * 3)
                    .map(|i| (i as u8).wrapping_mul(k + 3))
                    .collect()
            })
            .collect();
        let items: Vec<(std::path::PathBuf, &Vec<u8>)> = images
            .iter()
            .enumerate()
            .map(|(i, img)| (dir.path().join(format!("m{i}.jpg")), img))
            .collect();
        // A folder where the file should go: the final rename cannot replace it.
        std::fs::create_dir(&items[2].0).unwrap();
        let results = write_rgb_each(&items, w, h, QUALITY);
        assert_eq!(results.len(), 4);
        for (i, (r, (path, img))) in results.iter().zip(&items).enumerate() {
            if i == 2 {
                assert!(r.is_err(), "the unwritable path fails");
                continue;
            }
            assert!(r.is_ok(), "image {i}: {r:?}");
            let want = encode_rgb(img, w, h, QUALITY).unwrap();
            assert_eq!(std::fs::read(path).unwrap(), want, "image {i}");
        }
    }
}
