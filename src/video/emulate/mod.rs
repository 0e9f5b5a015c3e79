//! The residual propagation emulator (SPEC 2.2, "Residual, stock FFmpeg"): an estimate of
//! the picture upstream's patched decoder would output, built from the stock decode and
//! its exported motion vectors. Pure: no FFmpeg types.
//!
//! Frames must be pushed in decode order; only references and the frames whose estimate
//! is wanted need to be pushed. Pictures without chroma planes ([`YuvFrame::luma_only`])
//! get luma-only estimates: the patched luma never reads chroma, so it is the same.

mod block;
mod inter;
mod intra;
mod mc;

use std::collections::VecDeque;
use std::sync::Arc;

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
    /// No frame after this one in decode order is shown before this position, when known
    /// (frames named by timestamp rank; `usize::MAX` when none follows). It lets the
    /// emulator free references no later frame can pick.
    pub later_display_floor: Option<usize>,
}

/// A reference picture: the stock decode and its patched estimate. A reference no later
/// frame can pick keeps its place (so the others leave the store when they would have) but
/// not its pictures. The estimate is shared with whoever was handed it as a wanted frame.
#[derive(Debug, Clone)]
pub struct RefPic {
    pub decode_index: usize,
    pub display_index: usize,
    pub live: bool,
    pub stock: YuvFrame,
    pub patched: Arc<YuvFrame>,
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

    /// Processes the next frame (decode order) and returns its patched estimate when the
    /// frame is wanted.
    pub fn push(&mut self, f: EmuFrame) -> Option<Arc<YuvFrame>> {
        if f.is_idr {
            self.refs.clear();
        }
        if let Some(last) = self.last_decode_index {
            debug_assert!(f.decode_index > last, "frames must arrive in decode order");
        }
        self.last_decode_index = Some(f.decode_index);
        let refs = self.refs.make_contiguous();
        let patched = Arc::new(if f.vectors.is_empty() || refs.is_empty() {
            intra_estimate(&f.picture)
        } else {
            inter::inter_estimate(&f.picture, &f.vectors, f.display_index, refs)
        });
        let out = f.wanted.then(|| Arc::clone(&patched));
        if f.is_reference {
            self.refs.push_back(RefPic {
                decode_index: f.decode_index,
                display_index: f.display_index,
                live: true,
                stock: f.picture,
                patched,
            });
            while self.refs.len() > KEEP_REFS {
                self.refs.pop_front();
            }
        }
        if let Some(floor) = f.later_display_floor {
            self.free_unpickable(floor);
        }
        out
    }

    /// Frees the pictures of references no later frame can pick. Every later frame is shown
    /// at `floor` or after, so a reference shown before `floor` can only be one of its four
    /// nearest earlier references, never a later one; four newer references shown between
    /// it and `floor` (they leave the store after it) rule even that out.
    fn free_unpickable(&mut self, floor: usize) {
        for i in 0..self.refs.len() {
            let d = self.refs[i].display_index;
            if !self.refs[i].live || d >= floor {
                continue;
            }
            let between = self
                .refs
                .iter()
                .skip(i + 1)
                .filter(|r| r.display_index > d && r.display_index < floor)
                .count();
            if between >= 4 {
                let r = &mut self.refs[i];
                r.live = false;
                r.stock = YuvFrame::default();
                r.patched = Arc::default();
            }
        }
    }
}

/// The intra estimate of a whole picture (I frames, frames without vectors).
pub fn intra_estimate(f: &YuvFrame) -> YuvFrame {
    let y = intra::intra_plane(&Padded::new(&f.y, f.width, f.height), false)
        .into_cropped(f.width, f.height);
    if !f.has_chroma() {
        return YuvFrame::luma_only(f.width, f.height, y);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A textured picture that moves with `t`.
    fn picture(t: usize, w: usize, h: usize) -> YuvFrame {
        let mut f = YuvFrame::filled(w, h, 0, 0, 0);
        for y in 0..h {
            for x in 0..w {
                f.y[y * w + x] = ((x * 7 + y * 13 + t * 5) % 251) as u8 ^ ((x * y + t) % 17) as u8;
            }
        }
        let cw = f.chroma_width();
        for (i, (u, v)) in f.u.iter_mut().zip(f.v.iter_mut()).enumerate() {
            *u = ((i % cw) * 9 + t * 3) as u8;
            *v = ((i / cw) * 11 + t) as u8;
        }
        f
    }

    /// One vector per 16x16 block and list, quarter-pel, some fractional.
    fn vectors(t: usize, w: usize, h: usize, lists: &[i32]) -> Vec<MotionVector> {
        let mut v = Vec::new();
        for (k, &source) in lists.iter().enumerate() {
            for by in 0..h / 16 {
                for bx in 0..w / 16 {
                    let s = (t * 31 + bx * 7 + by * 3 + k * 5) as i32;
                    let (mx, my) = (s % 11 - 5, (s / 3) % 9 - 4);
                    let (dx, dy) = ((bx * 16 + 8) as i16, (by * 16 + 8) as i16);
                    v.push(MotionVector {
                        source,
                        w: 16,
                        h: 16,
                        src_x: dx + (mx / 4) as i16,
                        src_y: dy + (my / 4) as i16,
                        dst_x: dx,
                        dst_y: dy,
                        motion_x: mx,
                        motion_y: my,
                        motion_scale: 4,
                    });
                }
            }
        }
        v
    }

    /// A B-pyramid stream pushed with luma alone gets luma-only estimates whose luma equals
    /// the full estimates' luma, intra and inter frames alike.
    #[test]
    fn luma_only_pictures_give_the_same_luma() {
        let (w, h) = (50, 34);
        let order = [0usize, 4, 2, 1, 3, 8, 6, 5, 7];
        let (mut full, mut luma) = (Emulator::new(), Emulator::new());
        for (d, &t) in order.iter().enumerate() {
            let frame = |picture: YuvFrame| EmuFrame {
                decode_index: d,
                display_index: t,
                is_reference: t % 2 == 0,
                is_idr: d == 0,
                wanted: true,
                picture,
                vectors: match (d, t % 4) {
                    (0, _) => Vec::new(),
                    (_, 0) => vectors(t, w, h, &[-1]),
                    _ => vectors(t, w, h, &[-1, 1]),
                },
                later_display_floor: None,
            };
            let p = picture(t, w, h);
            let only = YuvFrame::luma_only(w, h, p.y.clone());
            let a = full.push(frame(p)).unwrap();
            let b = luma.push(frame(only)).unwrap();
            assert!(a.has_chroma() && !b.has_chroma(), "frame {t}");
            assert_eq!(a.y, b.y, "frame {t}");
        }
    }

    /// Freeing unpickable references changes no estimate: a B-pyramid stream (I P B b b ...)
    /// and a P-only one, every frame wanted, against an emulator that frees nothing.
    #[test]
    fn freeing_references_changes_nothing() {
        let (w, h) = (48, 32);
        let n = 41;
        let pyramid: Vec<usize> = std::iter::once(0)
            .chain((0..n / 4).flat_map(|g| [4 * g + 4, 4 * g + 2, 4 * g + 1, 4 * g + 3]))
            .collect();
        let p_only: Vec<usize> = (0..n).collect();
        for order in [pyramid, p_only] {
            let (mut kept, mut freed) = (Emulator::new(), Emulator::new());
            let mut most_freed = 0;
            for (d, &t) in order.iter().enumerate() {
                let is_reference = t % 2 == 0 || order.len() == n;
                let bi = order.len() != n && t % 4 != 0;
                let frame = |floor| EmuFrame {
                    decode_index: d,
                    display_index: t,
                    is_reference,
                    is_idr: d == 0,
                    wanted: true,
                    picture: picture(t, w, h),
                    vectors: if d == 0 {
                        Vec::new()
                    } else {
                        vectors(t, w, h, if bi { &[-1, 1] } else { &[-1] })
                    },
                    later_display_floor: floor,
                };
                let floor = order[d + 1..].iter().copied().min().unwrap_or(usize::MAX);
                let a = kept.push(frame(None));
                let b = freed.push(frame(Some(floor)));
                assert_eq!(a, b, "frame {t}");
                most_freed = most_freed.max(freed.refs.iter().filter(|r| !r.live).count());
            }
            assert!(most_freed >= 2, "some references are freed ({most_freed})");
        }
    }
}
