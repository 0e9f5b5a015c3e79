//! Packing (SPEC 2.6): selected rows to cells of `num_images` square images, and the pixels.
//!
//! Placement is pure; pixel packing takes the frames from a caller-supplied source (a closure
//! returning the square-mapped frame `t`, see [`super::square::square_frame_u8`]), since
//! frames come from the video module.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::params::{Layout, PackParams, PaddingPolicy};
use super::square::ValidRanges;

/// Why rows cannot be packed (each is an exception upstream).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum PackError {
    BadGeometry(String),
    KNotDivisible { k: usize, num_images: usize },
    ZeroGridMismatch { s_img: usize, expected: usize },
    ValidGridMismatch { s_img: usize, vh: usize, vw: usize },
    MissingValidRanges,
    RowOutOfRange { row: [i32; 3] },
    Frame { t: usize, message: String },
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackError::BadGeometry(m) => write!(f, "bad geometry: {m}"),
            PackError::KNotDivisible { k, num_images } => {
                write!(f, "K={k} not divisible by num_images={num_images}")
            }
            PackError::ZeroGridMismatch { s_img, expected } => write!(
                f,
                "padding_policy=zero expects S_img=={expected}, got S_img={s_img}; check stage1 K"
            ),
            PackError::ValidGridMismatch { s_img, vh, vw } => write!(
                f,
                "S_img={s_img} does not match valid grid vh*vw={}; check stage1 K/valid_ranges",
                vh * vw
            ),
            PackError::MissingValidRanges => write!(f, "meta missing or bad valid_ranges"),
            PackError::RowOutOfRange { row } => write!(f, "row {row:?} lies outside the grid"),
            PackError::Frame { t, message } => write!(f, "frame t={t}: {message}"),
        }
    }
}

impl std::error::Error for PackError {}

/// Where one patch goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Placement {
    pub image: usize,
    /// Destination cell (patch row, patch column) in the image.
    pub cell: [usize; 2],
    /// Source `(t, h, w)`.
    pub src: [i32; 3],
}

/// The layout of a pack: which cells receive which patches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackPlan {
    pub num_images: usize,
    pub square_size: usize,
    pub patch: usize,
    /// Image 0 is the whole square frame t=0 (`--first_full`).
    pub first_full: bool,
    /// Patch placements in placement order (images after the first-full one).
    pub placements: Vec<Placement>,
    /// `positions_thw` in placement order (first-full: the t=0 raster first).
    pub positions: Vec<[i32; 3]>,
}

impl PackPlan {
    /// Distinct frames the images need, ascending.
    pub fn frames_needed(&self) -> Vec<usize> {
        let mut ts: Vec<usize> = self.placements.iter().map(|p| p.src[0] as usize).collect();
        if self.first_full {
            ts.push(0);
        }
        ts.sort_unstable();
        ts.dedup();
        ts
    }
}

/// Sorts rows by `(t, h, w)` as `np.lexsort((w, h, t))` does (stable; equal rows are
/// indistinguishable).
pub fn sort_thw(rows: &mut [[i32; 3]]) {
    rows.sort();
}

/// Stage 2's placement of stage-1 rows. `valid` is the meta's `valid_ranges` (needed for
/// `exclude` with `time_spatial`).
pub fn plan_stage2(
    rows: &[[i32; 3]],
    p: &PackParams,
    valid: Option<&ValidRanges>,
) -> Result<PackPlan, PackError> {
    if p.patch == 0
        || p.square_size == 0
        || !p.square_size.is_multiple_of(p.patch)
        || p.num_images == 0
    {
        return Err(PackError::BadGeometry(format!(
            "square {} patch {} num_images {}",
            p.square_size, p.patch, p.num_images
        )));
    }
    let (hb, wb) = (p.square_size / p.patch, p.square_size / p.patch);
    // valid grid: rows, cols, starts
    let vgrid = valid.and_then(|v| v.grid());
    if p.padding_policy != PaddingPolicy::Zero {
        match vgrid {
            Some((_, vh, _, vw)) if vh > 0 && vw > 0 => {}
            _ => return Err(PackError::MissingValidRanges),
        }
    }
    let k = rows.len();
    if !k.is_multiple_of(p.num_images) {
        return Err(PackError::KNotDivisible {
            k,
            num_images: p.num_images,
        });
    }
    for r in rows {
        if r[0] < 0 || r[1] < 0 || r[2] < 0 || r[1] as usize >= hb || r[2] as usize >= wb {
            return Err(PackError::RowOutOfRange { row: *r });
        }
    }
    let s_img = k / p.num_images;
    let mut sorted = rows.to_vec();
    sort_thw(&mut sorted);
    let mut plan = PackPlan {
        num_images: p.num_images,
        square_size: p.square_size,
        patch: p.patch,
        first_full: p.first_full,
        placements: Vec::with_capacity(k),
        positions: Vec::with_capacity(k),
    };
    for i in 0..p.num_images {
        let chunk = &sorted[i * s_img..(i + 1) * s_img];
        if p.first_full && i == 0 {
            for h in 0..hb {
                for w in 0..wb {
                    plan.positions.push([0, h as i32, w as i32]);
                }
            }
            continue;
        }
        match p.layout {
            Layout::Spatial => {
                for r in chunk {
                    plan.placements.push(Placement {
                        image: i,
                        cell: [r[1] as usize, r[2] as usize],
                        src: *r,
                    });
                    plan.positions.push(*r);
                }
            }
            Layout::TimeSpatial => {
                let cell_of: Box<dyn Fn(usize) -> [usize; 2]> =
                    if p.padding_policy == PaddingPolicy::Zero {
                        if s_img != hb * wb {
                            return Err(PackError::ZeroGridMismatch {
                                s_img,
                                expected: hb * wb,
                            });
                        }
                        Box::new(move |j| [j / wb, j % wb])
                    } else {
                        let (vhs, vh, vws, vw) = vgrid.expect("checked above");
                        if s_img != vh * vw {
                            return Err(PackError::ValidGridMismatch { s_img, vh, vw });
                        }
                        Box::new(move |j| [vhs + j / vw, vws + j % vw])
                    };
                for (j, r) in chunk.iter().enumerate() {
                    plan.placements.push(Placement {
                        image: i,
                        cell: cell_of(j),
                        src: *r,
                    });
                    plan.positions.push(*r);
                }
            }
        }
    }
    Ok(plan)
}

/// The offline precompute's placement: rows (already sorted, `num_images * S_total`) fill the
/// images densely in order, cell `(j / wb, j % wb)`.
pub fn plan_offline(
    rows: &[[i32; 3]],
    num_images: usize,
    square_size: usize,
    patch: usize,
) -> Result<PackPlan, PackError> {
    if patch == 0 || !square_size.is_multiple_of(patch) || num_images == 0 {
        return Err(PackError::BadGeometry(format!(
            "square {square_size} patch {patch}"
        )));
    }
    let wb = square_size / patch;
    let s_img = wb * wb;
    if rows.len() != num_images * s_img {
        return Err(PackError::ZeroGridMismatch {
            s_img: rows.len() / num_images.max(1),
            expected: s_img,
        });
    }
    let placements = rows
        .iter()
        .enumerate()
        .map(|(n, r)| Placement {
            image: n / s_img,
            cell: [(n % s_img) / wb, n % wb],
            src: *r,
        })
        .collect();
    Ok(PackPlan {
        num_images,
        square_size,
        patch,
        first_full: false,
        placements,
        positions: rows.to_vec(),
    })
}

/// Packed images: `num_images` interleaved 8-bit square images (`cn` channels each).
#[derive(Debug, Clone, PartialEq)]
pub struct PackedImages {
    pub size: usize,
    pub cn: usize,
    pub images: Vec<Vec<u8>>,
}

/// Renders a plan. `frame(t)` returns square frame `t` (`size * size * cn` bytes, e.g. from
/// [`super::square::square_frame_u8`]); each needed frame is requested once, in ascending t,
/// and dropped once its patches are placed, so one square is held at a time. Empty cells
/// stay black; a cell placed twice keeps the later placement of the plan.
pub fn render<E: fmt::Display>(
    plan: &PackPlan,
    cn: usize,
    mut frame: impl FnMut(usize) -> Result<Vec<u8>, E>,
) -> Result<PackedImages, PackError> {
    let size = plan.square_size;
    let p = plan.patch;
    let cells_per_side = size.checked_div(p).unwrap_or(0);
    let cells = cells_per_side * cells_per_side;
    let cell_index = |pl: &Placement| pl.image * cells + pl.cell[0] * cells_per_side + pl.cell[1];
    // The placement that finally owns each cell: frames are visited in t order, not in
    // the plan's order, so an overwritten placement must not be drawn at all.
    let mut owner = vec![usize::MAX; plan.num_images * cells];
    for (i, pl) in plan.placements.iter().enumerate() {
        if let Some(o) = owner.get_mut(cell_index(pl)) {
            *o = i;
        }
    }
    let mut by_frame: BTreeMap<usize, Vec<&Placement>> = BTreeMap::new();
    for (i, pl) in plan.placements.iter().enumerate() {
        if owner.get(cell_index(pl)).is_none_or(|&o| o == i) {
            by_frame.entry(pl.src[0] as usize).or_default().push(pl);
        }
    }
    let mut images = vec![vec![0u8; size * size * cn]; plan.num_images];
    let row_bytes = p * cn;
    for t in plan.frames_needed() {
        let src = frame(t).map_err(|e| PackError::Frame {
            t,
            message: e.to_string(),
        })?;
        if src.len() != size * size * cn {
            return Err(PackError::Frame {
                t,
                message: format!("expected {} bytes, got {}", size * size * cn, src.len()),
            });
        }
        // t = 0 comes first, so the full frame goes down before any patch.
        if t == 0 && plan.first_full && plan.num_images > 0 {
            images[0].copy_from_slice(&src);
        }
        for pl in by_frame.get(&t).into_iter().flatten() {
            let (sy, sx) = (pl.src[1] as usize * p, pl.src[2] as usize * p);
            let (dy, dx) = (pl.cell[0] * p, pl.cell[1] * p);
            let img = &mut images[pl.image];
            for y in 0..p {
                let s = ((sy + y) * size + sx) * cn;
                let d = ((dy + y) * size + dx) * cn;
                img[d..d + row_bytes].copy_from_slice(&src[s..s + row_bytes]);
            }
        }
    }
    Ok(PackedImages { size, cn, images })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vr(hs: usize, he: usize, ws: usize, we: usize) -> ValidRanges {
        ValidRanges {
            s_valid: (he - hs) * (we - ws),
            hb_total: 4,
            wb_total: 4,
            valid_h_start: Some(hs),
            valid_h_end: Some(he),
            valid_w_start: Some(ws),
            valid_w_end: Some(we),
        }
    }

    fn params(policy: PaddingPolicy, layout: Layout, first_full: bool) -> PackParams {
        PackParams {
            num_images: 2,
            square_size: 8,
            patch: 2,
            t: 4,
            layout,
            first_full,
            padding_policy: policy,
        }
    }

    #[test]
    fn zero_first_full() {
        let mut rows: Vec<[i32; 3]> = (0..16).map(|i| [0, i / 4, i % 4]).collect();
        rows.extend((0..16).rev().map(|i| [1 + i % 3, i / 4, i % 4]));
        let p = params(PaddingPolicy::Zero, Layout::TimeSpatial, true);
        let plan = plan_stage2(&rows, &p, None).unwrap();
        assert_eq!(plan.positions.len(), 32);
        assert_eq!(plan.positions[..16], rows[..16]);
        assert!(plan.positions[16..].windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(plan.placements.len(), 16);
        assert_eq!(plan.placements[5].cell, [1, 1]);
        // Render with frames whose pixels encode t.
        let imgs = render(&plan, 1, |t| Ok::<_, String>(vec![t as u8 * 10 + 1; 64])).unwrap();
        assert!(imgs.images[0].iter().all(|&v| v == 1));
        assert_eq!(imgs.images[1][0], plan.placements[0].src[0] as u8 * 10 + 1);
    }

    #[test]
    fn exclude_and_errors() {
        let rows: Vec<[i32; 3]> = (0..8)
            .map(|i| [i / 4, 1 + (i % 4) / 2, 1 + i % 2])
            .collect();
        let p = params(PaddingPolicy::Exclude, Layout::TimeSpatial, false);
        let plan = plan_stage2(&rows, &p, Some(&vr(1, 3, 1, 3))).unwrap();
        assert_eq!(plan.placements[0].cell, [1, 1]);
        assert_eq!(plan.placements[3].cell, [2, 2]);
        assert_eq!(
            plan_stage2(&rows, &p, None),
            Err(PackError::MissingValidRanges)
        );
        assert!(matches!(
            plan_stage2(&rows, &p, Some(&vr(0, 3, 1, 3))),
            Err(PackError::ValidGridMismatch { .. })
        ));
        assert!(matches!(
            plan_stage2(&rows[..7], &p, Some(&vr(1, 3, 1, 3))),
            Err(PackError::KNotDivisible { .. })
        ));
        let z = params(PaddingPolicy::Zero, Layout::TimeSpatial, false);
        assert!(matches!(
            plan_stage2(&rows, &z, None),
            Err(PackError::ZeroGridMismatch { .. })
        ));
    }

    #[test]
    fn a_cell_placed_twice_keeps_the_later_placement() {
        // The later placement comes from the earlier frame: frames are visited in t order,
        // yet the plan's order decides. The first-full frame lies under every patch.
        let place = |image, cell, src| Placement { image, cell, src };
        let plan = PackPlan {
            num_images: 2,
            square_size: 4,
            patch: 2,
            first_full: true,
            placements: vec![
                place(0, [0, 0], [2, 1, 1]),
                place(0, [0, 0], [1, 0, 1]),
                place(1, [1, 1], [2, 0, 0]),
                place(1, [1, 1], [1, 1, 0]),
                place(1, [0, 1], [2, 1, 1]),
            ],
            positions: Vec::new(),
        };
        let mut asked = Vec::new();
        let imgs = render(&plan, 1, |t| {
            asked.push(t);
            Ok::<_, String>(vec![t as u8 + 1; 16])
        })
        .unwrap();
        assert_eq!(asked, [0, 1, 2]);
        assert_eq!(
            imgs.images[0],
            [2, 2, 1, 1, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
        );
        assert_eq!(
            imgs.images[1],
            [0, 0, 3, 3, 0, 0, 3, 3, 0, 0, 2, 2, 0, 0, 2, 2]
        );
    }

    #[test]
    fn spatial_overwrites_but_keeps_positions() {
        let rows = vec![[2, 0, 0], [1, 0, 0], [0, 3, 3], [3, 1, 2]];
        let p = params(PaddingPolicy::Zero, Layout::Spatial, false);
        let plan = plan_stage2(&rows, &p, None).unwrap();
        assert_eq!(
            plan.positions,
            vec![[0, 3, 3], [1, 0, 0], [2, 0, 0], [3, 1, 2]]
        );
        let imgs = render(&plan, 1, |t| Ok::<_, String>(vec![t as u8; 64])).unwrap();
        // Image 1 holds rows [2,0,0] then [3,1,2]; image 0 rows [0,3,3] and [1,0,0].
        assert_eq!(imgs.images[0][0], 1);
        assert_eq!(imgs.images[1][0], 2);
        assert_eq!(imgs.images[1][2 * 8 + 4], 3);
    }
}
