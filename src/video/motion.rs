//! Motion vectors as FFmpeg exports them (`AVMotionVector`, copied into a plain struct)
//! and upstream's rule for filling the per-4x4-cell grid (SPEC 2.2).

use crate::analysis::MotionGrid;

/// One exported motion vector, field for field as in FFmpeg's `AVMotionVector`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MotionVector {
    /// Negative: the block predicts from the past (list 0 for H.264); positive: the future.
    pub source: i32,
    pub w: u8,
    pub h: u8,
    pub src_x: i16,
    pub src_y: i16,
    /// Centre of the block in the current picture.
    pub dst_x: i16,
    pub dst_y: i16,
    pub motion_x: i32,
    pub motion_y: i32,
    pub motion_scale: u16,
}

impl MotionVector {
    /// Past-referencing (upstream's L0 channel: `source == 0 || source < 0`).
    pub fn is_l0(&self) -> bool {
        self.source <= 0
    }

    /// The vector in quarter pixels, `motion_x * 4 // motion_scale` (floor division).
    pub fn quarter_pel(&self) -> (i32, i32) {
        let s = i32::from(self.motion_scale.max(1));
        (
            (self.motion_x * 4).div_euclid(s),
            (self.motion_y * 4).div_euclid(s),
        )
    }
}

/// Fills the L0 grid exactly as upstream's H.264 reader does: for each vector in export
/// order, every cell `(dst_y/4 + dy, dst_x/4 + dx)` with `dx` in `-w/8 .. w/8` and `dy` in
/// `-h/8 .. h/8` (C integer division) that lies inside `(height/4, width/4)` gets
/// `(src_x - dst_x, src_y - dst_y)`; later vectors overwrite earlier ones.
pub fn fill_grid_l0(vectors: &[MotionVector], width: usize, height: usize) -> MotionGrid {
    let rows = height / 4;
    let cols = width / 4;
    let mut grid = vec![[0i16; 2]; rows * cols];
    for mv in vectors {
        if !mv.is_l0() {
            continue;
        }
        let mvx = i32::from(mv.src_x) - i32::from(mv.dst_x);
        let mvy = i32::from(mv.src_y) - i32::from(mv.dst_y);
        let value = [mvx as i16, mvy as i16];
        let hw = i32::from(mv.w) / 8;
        let hh = i32::from(mv.h) / 8;
        // C's `/` truncates toward zero, like Rust's on i32.
        let cx = i32::from(mv.dst_x) / 4;
        let cy = i32::from(mv.dst_y) / 4;
        for dx in -hw..hw {
            for dy in -hh..hh {
                let px = cx + dx;
                let py = cy + dy;
                if py >= 0 && (py as usize) < rows && px >= 0 && (px as usize) < cols {
                    grid[py as usize * cols + px as usize] = value;
                }
            }
        }
    }
    MotionGrid::from_cells(rows, cols, grid)
}

/// Upstream's HEVC rule (only meaningful with its patched decoder; stock FFmpeg exports no
/// HEVC vectors): one cell at `(dst_y/4, dst_x/4)`, `source < 0` is "no vector", `0..15` L0.
pub fn fill_grid_l0_hevc(vectors: &[MotionVector], width: usize, height: usize) -> MotionGrid {
    let rows = height / 4;
    let cols = width / 4;
    let mut grid = vec![[0i16; 2]; rows * cols];
    for mv in vectors {
        if mv.source < 0 || mv.source >= 16 {
            continue;
        }
        let px = i32::from(mv.dst_x) / 4;
        let py = i32::from(mv.dst_y) / 4;
        if py >= 0 && (py as usize) < rows && px >= 0 && (px as usize) < cols {
            let mvx = i32::from(mv.src_x) - i32::from(mv.dst_x);
            let mvy = i32::from(mv.src_y) - i32::from(mv.dst_y);
            grid[py as usize * cols + px as usize] = [mvx as i16, mvy as i16];
        }
    }
    MotionGrid::from_cells(rows, cols, grid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(source: i32, w: u8, h: u8, dst: (i16, i16), d: (i16, i16)) -> MotionVector {
        MotionVector {
            source,
            w,
            h,
            dst_x: dst.0,
            dst_y: dst.1,
            src_x: dst.0 + d.0,
            src_y: dst.1 + d.1,
            motion_x: i32::from(d.0) * 4,
            motion_y: i32::from(d.1) * 4,
            motion_scale: 4,
        }
    }

    #[test]
    fn cells_covered() {
        // 16x16 block centred at (8, 8) covers cells 0..4 x 0..4; an 8x8 at (20, 4) covers
        // cells x 4..6, y 0..2; L1 vectors are ignored.
        let v = [
            mv(-1, 16, 16, (8, 8), (3, -2)),
            mv(-1, 8, 8, (20, 4), (-1, 1)),
            mv(1, 16, 16, (8, 8), (9, 9)),
        ];
        let g = fill_grid_l0(&v, 24, 12);
        assert_eq!((g.rows, g.cols), (3, 6));
        assert_eq!(g.at(0, 0), [3, -2]);
        assert_eq!(g.at(2, 3), [3, -2]);
        assert_eq!(g.at(0, 4), [-1, 1]);
        assert_eq!(g.at(1, 5), [-1, 1]);
        assert_eq!(g.at(2, 4), [0, 0]);
    }

    #[test]
    fn quarter_pel_floors() {
        let mut v = mv(-1, 16, 16, (8, 8), (0, 0));
        v.motion_x = -5;
        v.motion_scale = 2;
        assert_eq!(v.quarter_pel().0, -10);
        v.motion_x = -3;
        v.motion_scale = 8;
        assert_eq!(v.quarter_pel().0, -2);
    }
}
