//! Plain 8-bit 4:2:0 pictures, owned and without row padding.

/// A yuv420p picture: full-size luma, chroma planes of `ceil(w/2) x ceil(h/2)`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct YuvFrame {
    pub width: usize,
    pub height: usize,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
}

impl YuvFrame {
    /// A picture of one flat colour.
    pub fn filled(width: usize, height: usize, y: u8, u: u8, v: u8) -> YuvFrame {
        let (cw, ch) = chroma_size(width, height);
        YuvFrame {
            width,
            height,
            y: vec![y; width * height],
            u: vec![u; cw * ch],
            v: vec![v; cw * ch],
        }
    }

    /// The luma plane alone (chroma planes empty): for work that never reads chroma.
    pub fn luma_only(width: usize, height: usize, y: Vec<u8>) -> YuvFrame {
        YuvFrame {
            width,
            height,
            y,
            u: Vec::new(),
            v: Vec::new(),
        }
    }

    /// Whether the chroma planes are there (see [`YuvFrame::luma_only`]).
    pub fn has_chroma(&self) -> bool {
        !self.u.is_empty() || !self.v.is_empty()
    }

    pub fn chroma_width(&self) -> usize {
        self.width.div_ceil(2)
    }

    pub fn chroma_height(&self) -> usize {
        self.height.div_ceil(2)
    }

    /// Reads one frame from raw yuv420p bytes (as written by `ffmpeg -f rawvideo`).
    pub fn from_raw(width: usize, height: usize, bytes: &[u8]) -> Option<YuvFrame> {
        let (cw, ch) = chroma_size(width, height);
        let (ny, nc) = (width * height, cw * ch);
        if bytes.len() < ny + 2 * nc {
            return None;
        }
        Some(YuvFrame {
            width,
            height,
            y: bytes[..ny].to_vec(),
            u: bytes[ny..ny + nc].to_vec(),
            v: bytes[ny + nc..ny + 2 * nc].to_vec(),
        })
    }
}

/// Chroma plane size of a 4:2:0 picture.
pub fn chroma_size(width: usize, height: usize) -> (usize, usize) {
    (width.div_ceil(2), height.div_ceil(2))
}
