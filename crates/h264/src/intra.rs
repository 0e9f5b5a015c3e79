//! Intra prediction (8.3): 4x4, 8x8 (with reference filtering), 16x16 and chroma.

/// Availability of the neighbouring samples of a block.
#[derive(Clone, Copy, Debug)]
pub struct Avail {
    pub left: bool,
    pub top: bool,
    pub top_right: bool,
    pub top_left: bool,
}

/// Neighbouring samples: `t[0]` is p[-1,-1], `t[1 + x]` is p[x,-1];
/// `l[y]` is p[-1,y].
struct Edge {
    t: [i32; 33],
    l: [i32; 16],
}

impl Edge {
    #[inline]
    fn top(&self, x: i32) -> i32 {
        self.t[(x + 1) as usize]
    }
    /// p[-1, y] with y = -1 meaning the corner.
    #[inline]
    fn left(&self, y: i32) -> i32 {
        if y < 0 {
            self.t[0]
        } else {
            self.l[y as usize]
        }
    }
}

fn load_edge(plane: &[u8], stride: usize, x: usize, y: usize, n: usize, a: Avail) -> Edge {
    let mut e = Edge {
        t: [0; 33],
        l: [0; 16],
    };
    if a.top {
        let row = (y - 1) * stride + x;
        for i in 0..n {
            e.t[1 + i] = plane[row + i] as i32;
        }
        for i in n..2 * n {
            e.t[1 + i] = if a.top_right {
                plane[row + i] as i32
            } else {
                plane[row + n - 1] as i32
            };
        }
    }
    if a.left {
        for i in 0..n {
            e.l[i] = plane[(y + i) * stride + x - 1] as i32;
        }
    }
    if a.top_left {
        e.t[0] = plane[(y - 1) * stride + x - 1] as i32;
    }
    e
}

/// The directional modes shared by 4x4 and 8x8 (modes 3..8) at (x, y), `n` = size.
#[inline]
fn directional(e: &Edge, mode: u8, x: i32, y: i32, n: i32) -> i32 {
    let p = |xx: i32, yy: i32| -> i32 {
        if yy == -1 {
            e.top(xx)
        } else {
            e.left(yy)
        }
    };
    match mode {
        3 => {
            if x == n - 1 && y == n - 1 {
                (p(2 * n - 2, -1) + 3 * p(2 * n - 1, -1) + 2) >> 2
            } else {
                (p(x + y, -1) + 2 * p(x + y + 1, -1) + p(x + y + 2, -1) + 2) >> 2
            }
        }
        4 => {
            if x > y {
                (p(x - y - 2, -1) + 2 * p(x - y - 1, -1) + p(x - y, -1) + 2) >> 2
            } else if x < y {
                (p(-1, y - x - 2) + 2 * p(-1, y - x - 1) + p(-1, y - x) + 2) >> 2
            } else {
                (p(0, -1) + 2 * p(-1, -1) + p(-1, 0) + 2) >> 2
            }
        }
        5 => {
            let z = 2 * x - y;
            if z >= 0 && z & 1 == 0 {
                (p(x - (y >> 1) - 1, -1) + p(x - (y >> 1), -1) + 1) >> 1
            } else if z >= 0 {
                (p(x - (y >> 1) - 2, -1) + 2 * p(x - (y >> 1) - 1, -1) + p(x - (y >> 1), -1) + 2)
                    >> 2
            } else if z == -1 {
                (p(-1, 0) + 2 * p(-1, -1) + p(0, -1) + 2) >> 2
            } else {
                (p(-1, y - 2 * x - 1) + 2 * p(-1, y - 2 * x - 2) + p(-1, y - 2 * x - 3) + 2) >> 2
            }
        }
        6 => {
            let z = 2 * y - x;
            if z >= 0 && z & 1 == 0 {
                (p(-1, y - (x >> 1) - 1) + p(-1, y - (x >> 1)) + 1) >> 1
            } else if z >= 0 {
                (p(-1, y - (x >> 1) - 2) + 2 * p(-1, y - (x >> 1) - 1) + p(-1, y - (x >> 1)) + 2)
                    >> 2
            } else if z == -1 {
                (p(-1, 0) + 2 * p(-1, -1) + p(0, -1) + 2) >> 2
            } else {
                (p(x - 2 * y - 1, -1) + 2 * p(x - 2 * y - 2, -1) + p(x - 2 * y - 3, -1) + 2) >> 2
            }
        }
        7 => {
            if y & 1 == 0 {
                (p(x + (y >> 1), -1) + p(x + (y >> 1) + 1, -1) + 1) >> 1
            } else {
                (p(x + (y >> 1), -1) + 2 * p(x + (y >> 1) + 1, -1) + p(x + (y >> 1) + 2, -1) + 2)
                    >> 2
            }
        }
        _ => {
            let z = x + 2 * y;
            let lim = 2 * n - 3;
            if z < lim && z & 1 == 0 {
                (p(-1, y + (x >> 1)) + p(-1, y + (x >> 1) + 1) + 1) >> 1
            } else if z < lim {
                (p(-1, y + (x >> 1)) + 2 * p(-1, y + (x >> 1) + 1) + p(-1, y + (x >> 1) + 2) + 2)
                    >> 2
            } else if z == lim {
                (p(-1, n - 2) + 3 * p(-1, n - 1) + 2) >> 2
            } else {
                p(-1, n - 1)
            }
        }
    }
}

fn dc_value(e: &Edge, a: Avail, n: usize) -> i32 {
    let shift = n.trailing_zeros();
    let st: i32 = (0..n).map(|i| e.t[1 + i]).sum();
    let sl: i32 = (0..n).map(|i| e.l[i]).sum();
    match (a.top, a.left) {
        (true, true) => (st + sl + n as i32) >> (shift + 1),
        (true, false) => (st + (n as i32 >> 1)) >> shift,
        (false, true) => (sl + (n as i32 >> 1)) >> shift,
        _ => 128,
    }
}

/// Intra 4x4 prediction of the block at (x, y).
pub fn pred4x4(plane: &mut [u8], stride: usize, x: usize, y: usize, mode: u8, a: Avail) {
    let e = load_edge(plane, stride, x, y, 4, a);
    let dc = dc_value(&e, a, 4);
    for j in 0..4 {
        for i in 0..4 {
            let v = match mode {
                0 => e.t[1 + i],
                1 => e.l[j],
                2 => dc,
                m => directional(&e, m, i as i32, j as i32, 4),
            };
            plane[(y + j) * stride + x + i] = v as u8;
        }
    }
}

/// Intra 8x8 prediction of the block at (x, y), with reference sample filtering.
pub fn pred8x8(plane: &mut [u8], stride: usize, x: usize, y: usize, mode: u8, a: Avail) {
    let e0 = load_edge(plane, stride, x, y, 8, a);
    let mut e = Edge {
        t: [0; 33],
        l: [0; 16],
    };
    // filtered corner
    if a.top_left {
        e.t[0] = match (a.top, a.left) {
            (true, true) => (e0.top(0) + 2 * e0.t[0] + e0.left(0) + 2) >> 2,
            (true, false) => (3 * e0.t[0] + e0.top(0) + 2) >> 2,
            (false, true) => (3 * e0.t[0] + e0.left(0) + 2) >> 2,
            _ => e0.t[0],
        };
    }
    if a.top {
        e.t[1] = if a.top_left {
            (e0.t[0] + 2 * e0.top(0) + e0.top(1) + 2) >> 2
        } else {
            (3 * e0.top(0) + e0.top(1) + 2) >> 2
        };
        for i in 1..15 {
            e.t[1 + i as usize] = (e0.top(i - 1) + 2 * e0.top(i) + e0.top(i + 1) + 2) >> 2;
        }
        e.t[16] = (e0.top(14) + 3 * e0.top(15) + 2) >> 2;
    }
    if a.left {
        e.l[0] = if a.top_left {
            (e0.t[0] + 2 * e0.l[0] + e0.l[1] + 2) >> 2
        } else {
            (3 * e0.l[0] + e0.l[1] + 2) >> 2
        };
        for i in 1..7 {
            e.l[i] = (e0.l[i - 1] + 2 * e0.l[i] + e0.l[i + 1] + 2) >> 2;
        }
        e.l[7] = (e0.l[6] + 3 * e0.l[7] + 2) >> 2;
    }
    let dc = dc_value(&e, a, 8);
    for j in 0..8 {
        for i in 0..8 {
            let v = match mode {
                0 => e.t[1 + i],
                1 => e.l[j],
                2 => dc,
                m => directional(&e, m, i as i32, j as i32, 8),
            };
            plane[(y + j) * stride + x + i] = v as u8;
        }
    }
}

/// Intra 16x16 prediction (luma).
pub fn pred16x16(plane: &mut [u8], stride: usize, x: usize, y: usize, mode: u8, a: Avail) {
    let a2 = Avail {
        top_right: false,
        ..a
    };
    let e = load_edge(plane, stride, x, y, 16, a2);
    match mode {
        0..=2 => {
            let dc = dc_value(&e, a, 16);
            for j in 0..16 {
                for i in 0..16 {
                    let v = match mode {
                        0 => e.t[1 + i],
                        1 => e.l[j],
                        _ => dc,
                    };
                    plane[(y + j) * stride + x + i] = v as u8;
                }
            }
        }
        _ => plane_pred(plane, stride, x, y, &e, 16),
    }
}

fn plane_pred(plane: &mut [u8], stride: usize, x: usize, y: usize, e: &Edge, n: i32) {
    let half = n / 2;
    let mut h = 0;
    let mut v = 0;
    for k in 0..half {
        h += (k + 1) * (e.top(half + k) - e.top(half - 2 - k));
        v += (k + 1) * (e.left(half + k) - e.left(half - 2 - k));
    }
    let a = 16 * (e.left(n - 1) + e.top(n - 1));
    let (b, c) = if n == 16 {
        ((5 * h + 32) >> 6, (5 * v + 32) >> 6)
    } else {
        ((34 * h + 32) >> 6, (34 * v + 32) >> 6)
    };
    let o = half - 1;
    for j in 0..n {
        for i in 0..n {
            let val = (a + b * (i - o) + c * (j - o) + 16) >> 5;
            plane[(y + j as usize) * stride + x + i as usize] = val.clamp(0, 255) as u8;
        }
    }
}

/// Chroma intra prediction of an 8x8 block. Modes: 0 DC, 1 H, 2 V, 3 plane.
pub fn pred_chroma(plane: &mut [u8], stride: usize, x: usize, y: usize, mode: u8, a: Avail) {
    let a2 = Avail {
        top_right: false,
        ..a
    };
    let e = load_edge(plane, stride, x, y, 8, a2);
    match mode {
        0 => {
            for by in 0..2 {
                for bx in 0..2 {
                    let st: i32 = (0..4).map(|i| e.t[1 + bx * 4 + i]).sum();
                    let sl: i32 = (0..4).map(|i| e.l[by * 4 + i]).sum();
                    let dc = if (bx == 0 && by == 0) || (bx == 1 && by == 1) {
                        match (a.top, a.left) {
                            (true, true) => (st + sl + 4) >> 3,
                            (true, false) => (st + 2) >> 2,
                            (false, true) => (sl + 2) >> 2,
                            _ => 128,
                        }
                    } else if bx == 1 {
                        if a.top {
                            (st + 2) >> 2
                        } else if a.left {
                            (sl + 2) >> 2
                        } else {
                            128
                        }
                    } else if a.left {
                        (sl + 2) >> 2
                    } else if a.top {
                        (st + 2) >> 2
                    } else {
                        128
                    };
                    for j in 0..4 {
                        for i in 0..4 {
                            plane[(y + by * 4 + j) * stride + x + bx * 4 + i] = dc as u8;
                        }
                    }
                }
            }
        }
        1 | 2 => {
            for j in 0..8 {
                for i in 0..8 {
                    let v = if mode == 1 { e.l[j] } else { e.t[1 + i] };
                    plane[(y + j) * stride + x + i] = v as u8;
                }
            }
        }
        _ => plane_pred(plane, stride, x, y, &e, 8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Avail {
        Avail {
            left: true,
            top: true,
            top_right: true,
            top_left: true,
        }
    }

    #[test]
    fn dc_without_neighbours_is_128() {
        let mut p = vec![7u8; 16 * 16];
        let none = Avail {
            left: false,
            top: false,
            top_right: false,
            top_left: false,
        };
        pred4x4(&mut p, 16, 0, 0, 2, none);
        assert!((0..4).all(|y| p[y * 16..y * 16 + 4].iter().all(|&v| v == 128)));
    }

    #[test]
    fn vertical_and_horizontal_copy_neighbours() {
        let mut p = vec![0u8; 16 * 16];
        for x in 0..16 {
            p[3 * 16 + x] = x as u8 * 10;
        }
        for y in 4..8 {
            p[y * 16 + 3] = y as u8;
        }
        pred4x4(&mut p, 16, 4, 4, 0, all());
        assert_eq!(&p[5 * 16 + 4..5 * 16 + 8], &[40, 50, 60, 70]);
        pred4x4(&mut p, 16, 4, 4, 1, all());
        assert_eq!(&p[6 * 16 + 4..6 * 16 + 8], &[6, 6, 6, 6]);
    }

    #[test]
    fn flat_neighbours_give_flat_prediction_in_every_mode() {
        for mode in 0..9 {
            let mut p = vec![90u8; 32 * 32];
            pred4x4(&mut p, 32, 8, 8, mode, all());
            pred8x8(&mut p, 32, 16, 16, mode, all());
            assert!(p.iter().all(|&v| v == 90), "mode {mode}");
        }
        for mode in 0..4 {
            let mut p = vec![33u8; 48 * 48];
            pred16x16(&mut p, 48, 16, 16, mode, all());
            pred_chroma(&mut p, 48, 8, 8, mode, all());
            assert!(p.iter().all(|&v| v == 33), "mode {mode}");
        }
    }
}
