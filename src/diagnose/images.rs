//! Lints for mosaic images: present, readable, 576x576.

use std::path::Path;

use super::Finding;

/// Checks one image file. Without `deep` only the header is read (dimensions); with it the
/// whole image is decoded, which catches truncated JPEGs as eval's full open would.
pub fn lint_image(path: &Path, expected_side: Option<u32>, deep: bool) -> Vec<Finding> {
    let loc = path.display().to_string();
    if !path.is_file() {
        return vec![Finding::error("missing-image", loc, "image file not found")];
    }
    let reader = match image::ImageReader::open(path).and_then(|r| r.with_guessed_format()) {
        Ok(r) => r,
        Err(e) => return vec![Finding::error("image-unreadable", loc, e.to_string())],
    };
    let dims = if deep {
        reader.decode().map(|img| (img.width(), img.height()))
    } else {
        reader.into_dimensions()
    };
    match dims {
        Err(e) => vec![Finding::error(
            "image-unreadable",
            loc,
            format!("cannot be read as an image: {e}"),
        )],
        Ok((w, h)) => match expected_side {
            Some(s) if (w, h) != (s, s) => {
                vec![
                    Finding::error("mosaic-size", loc, format!("{w}x{h}, expected {s}x{s}"))
                        .with_hint(
                            "codec samples need square mosaics of the square size (576 by default)",
                        ),
                ]
            }
            _ => Vec::new(),
        },
    }
}
