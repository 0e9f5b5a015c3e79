//! The residual propagation emulator (SPEC 2.2, "Residual, stock FFmpeg"): an estimate of
//! the picture upstream's patched decoder would output, built from the stock decode and
//! its exported motion vectors. Pure: no FFmpeg types.
//!
//! Frames must be pushed in decode order; only references and the frames whose estimate
//! is wanted need to be pushed.

mod inter;
mod intra;
mod mc;

use std::collections::VecDeque;

use super::motion::MotionVector;
use super::yuv::YuvFrame;

pub use intra::Padded;

/// How many reference pictures are kept (decode positions).
const KEEP_REFS: usize = 8;

/// One decoded picture as the emulator sees it.
#[derive(Debug, Clone)]
pub struct EmuFrame {
    pub decode_index: usize,
    /// Presentation position (any monotonic display order works).
    pub display_index: usize,
    pub is_reference: bool,
    pub is_idr: bool,
    /// Return the estimate of this frame.
    pub wanted: bool,
    pub picture: YuvFrame,
    pub vectors: Vec<MotionVector>,
}

/// A reference picture: the stock decode and its patched estimate.
#[derive(Debug, Clone)]
pub struct RefPic {
    pub decode_index: usize,
    pub display_index: usize,
    pub stock: YuvFrame,
    pub patched: YuvFrame,
}

/// Walks frames in decode order and keeps the patched estimates of recent references.
#[derive(Debug, Default)]
pub struct Emulator {
    refs: VecDeque<RefPic>,
    last_decode_index: Option<usize>,
}

impl Emulator {
    pub fn new() -> Emulator {
        Emulator::default()
    }

    /// Processes the next frame (decode order); when the frame is wanted, `wanted` is given
    /// its patched estimate and its answer returned.
    pub fn push<R>(&mut self, f: EmuFrame, wanted: impl FnOnce(&YuvFrame) -> R) -> Option<R> {
        if f.is_idr {
            self.refs.clear();
        }
        if let Some(last) = self.last_decode_index {
            debug_assert!(f.decode_index > last, "frames must arrive in decode order");
        }
        self.last_decode_index = Some(f.decode_index);
        let refs = self.refs.make_contiguous();
        let patched = if f.vectors.is_empty() || refs.is_empty() {
            intra_estimate(&f.picture)
        } else {
            inter::inter_estimate(&f.picture, &f.vectors, f.display_index, refs)
        };
        let out = f.wanted.then(|| wanted(&patched));
        if f.is_reference {
            self.refs.push_back(RefPic {
                decode_index: f.decode_index,
                display_index: f.display_index,
                stock: f.picture,
                patched,
            });
            while self.refs.len() > KEEP_REFS {
                self.refs.pop_front();
            }
        }
        out
    }
}

/// The intra estimate of a whole picture (I frames, frames without vectors).
pub fn intra_estimate(f: &YuvFrame) -> YuvFrame {
    let y = intra::intra_plane(&Padded::new(&f.y, f.width, f.height), false)
        .into_cropped(f.width, f.height);
    let (cw, ch) = (f.chroma_width(), f.chroma_height());
    let u = intra::intra_plane(&Padded::new(&f.u, cw, ch), true).into_cropped(cw, ch);
    let v = intra::intra_plane(&Padded::new(&f.v, cw, ch), true).into_cropped(cw, ch);
    YuvFrame {
        width: f.width,
        height: f.height,
        y,
        u,
        v,
    }
}
