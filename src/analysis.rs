//! What decoding a video yields for selection: per sampled frame, the raw motion grid and
//! the residual picture. It is a plain value so that fusion and top-k can be redone with
//! other parameters without decoding again (the TUI's background engine does exactly that).

use serde::{Deserialize, Serialize};

/// Where the residual energy came from (SPEC 2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResidualSource {
    /// The project's own H.264 decoder in residual mode: upstream's patched picture, exactly.
    Exact,
    /// The propagation emulator on stock FFmpeg (SPEC 2.2).
    Emulate,
    /// |Y_t - Y_(t-1)|.
    FrameDiff,
    /// Motion only; forces `w_res = 0`.
    None,
}

impl std::str::FromStr for ResidualSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "exact" => Ok(ResidualSource::Exact),
            "emulate" => Ok(ResidualSource::Emulate),
            "frame-diff" | "framediff" => Ok(ResidualSource::FrameDiff),
            "none" | "motion-only" => Ok(ResidualSource::None),
            other => Err(format!(
                "unknown residual source `{other}` (exact, emulate, frame-diff, none)"
            )),
        }
    }
}

impl ResidualSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ResidualSource::Exact => "exact",
            ResidualSource::Emulate => "emulate",
            ResidualSource::FrameDiff => "frame-diff",
            ResidualSource::None => "none",
        }
    }
}

/// L0 motion per 4x4 cell: `(mvx, mvy)` = `(src_x - dst_x, src_y - dst_y)` in whole pixels,
/// exactly as upstream's reader fills it (SPEC 2.2). Row-major, `rows = H0/4`, `cols = W0/4`.
///
/// A vector covers a whole block (8 or 16 pixels high in H.264), so neighbouring rows
/// mostly repeat: each run of equal rows is stored once, which keeps 64 grids of a 1080p
/// video to a few MB instead of 33.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MotionGrid {
    pub rows: usize,
    pub cols: usize,
    /// The distinct rows, in order, `cols` cells each.
    distinct: Vec<[i16; 2]>,
    /// For each row, which distinct row it is.
    row_of: Vec<u32>,
}

impl MotionGrid {
    pub fn zeros(rows: usize, cols: usize) -> Self {
        MotionGrid::from_cells(rows, cols, vec![[0, 0]; rows * cols])
    }

    /// The grid of `rows x cols` cells given row-major (`cells.len()` must be `rows * cols`).
    pub fn from_cells(rows: usize, cols: usize, cells: Vec<[i16; 2]>) -> Self {
        assert_eq!(
            cells.len(),
            rows * cols,
            "a motion grid needs rows x cols cells"
        );
        let mut distinct: Vec<[i16; 2]> = Vec::new();
        let mut row_of = Vec::with_capacity(rows);
        for (r, row) in cells.chunks_exact(cols.max(1)).take(rows).enumerate() {
            let same = r > 0 && distinct[distinct.len() - cols..] == *row;
            if !same {
                distinct.extend_from_slice(row);
            }
            row_of.push((distinct.len() / cols.max(1)) as u32 - 1);
        }
        if cols == 0 {
            row_of = vec![0; rows];
        }
        distinct.shrink_to_fit();
        MotionGrid {
            rows,
            cols,
            distinct,
            row_of,
        }
    }

    /// Cells in the grid.
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `r`'s cells.
    pub fn row(&self, r: usize) -> &[[i16; 2]] {
        let d = self.row_of[r] as usize * self.cols;
        &self.distinct[d..d + self.cols]
    }

    /// Whether row `r` (r >= 1) repeats row `r - 1`.
    pub fn repeats_previous(&self, r: usize) -> bool {
        r > 0 && self.row_of[r] == self.row_of[r - 1]
    }

    /// The cell at row `r`, column `c`.
    pub fn at(&self, r: usize, c: usize) -> [i16; 2] {
        self.row(r)[c]
    }

    /// Every cell, row-major.
    pub fn cells(&self) -> impl Iterator<Item = &[i16; 2]> + '_ {
        (0..self.rows).flat_map(move |r| self.row(r).iter())
    }
}

/// A single-channel 8-bit picture, row-major, no padding.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plane {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

/// The picture whose energy is scored as residual.
#[derive(Debug, Clone, PartialEq)]
pub enum ResidualPlane {
    /// Upstream-style luma `128 + residual` (exact or emulated): energy is `|y - 128|`.
    Patched(Plane),
    /// An unsigned magnitude already (frame difference): energy is the value itself.
    Magnitude(Plane),
    /// Either of the above reduced to what scoring at one geometry reads ([`ResidualKeep`]).
    Sampled(ResidualSamples),
    /// The frame's patch scores, worked out from either of the above and its motion as soon
    /// as the picture was made (batch runs; see [`crate::select::EarlyScores`]).
    Scored(Box<crate::select::EarlyScores>),
}

/// How much of each residual picture an analysis keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResidualKeep {
    /// The whole picture: every square geometry and energy knob can be scored later (what
    /// the inspector's engine needs).
    #[default]
    Whole,
    /// Only what scoring at this square geometry reads, with plain or gradient energy (batch
    /// runs, whose parameters are known before decoding): about 0.75 MB per frame whatever
    /// the video's size, instead of the whole picture.
    ForScoring {
        square_size: usize,
        patch: usize,
        grad: bool,
    },
}

/// Energy codes at the kept pixels, row-major over `rows x cols`.
#[derive(Debug, Clone, PartialEq)]
pub enum SampledCodes {
    /// The picture's bytes (plain energy).
    Bytes(Vec<u8>),
    /// `gx + gy` of the wrapped central differences (`res_use_grad`).
    Grad(Vec<u16>),
}

/// A residual picture reduced to what scoring reads: the histogram of its energy codes over
/// the whole picture (for the percentile and the sums) and the codes at the source pixels
/// the resize to the square reads.
#[derive(Debug, Clone, PartialEq)]
pub struct ResidualSamples {
    /// Size of the whole picture.
    pub width: usize,
    pub height: usize,
    /// Taken from a patched picture (energy `|y - 128|`), else from a magnitude.
    pub patched: bool,
    /// Kept source rows and columns, ascending.
    pub rows: Vec<usize>,
    pub cols: Vec<usize>,
    /// Histogram of the codes over the whole picture (256 bins, 511 for gradients).
    pub histogram: Vec<u64>,
    pub codes: SampledCodes,
}

impl ResidualPlane {
    /// Size of the whole picture.
    pub fn size(&self) -> (usize, usize) {
        match self {
            ResidualPlane::Patched(p) | ResidualPlane::Magnitude(p) => (p.width, p.height),
            ResidualPlane::Sampled(s) => (s.width, s.height),
            ResidualPlane::Scored(s) => (s.key.geometry.w0, s.key.geometry.h0),
        }
    }
}

/// Picture type as FFmpeg reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FrameType {
    I,
    P,
    B,
    Other,
}

impl FrameType {
    pub fn as_char(self) -> char {
        match self {
            FrameType::I => 'I',
            FrameType::P => 'P',
            FrameType::B => 'B',
            FrameType::Other => '?',
        }
    }
}

/// One of the T sampled frames.
#[derive(Debug, Clone, PartialEq)]
pub struct SampledFrame {
    /// Index of the frame in presentation (decode-output) order.
    pub frame_index: usize,
    pub frame_type: FrameType,
    /// Number of motion vectors exported for this frame (0 for I frames).
    pub vector_count: usize,
    pub motion: MotionGrid,
    /// `None` when the residual source is `None`.
    pub residual: Option<ResidualPlane>,
}

/// Everything selection needs from one video.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// The video path string as given (not normalised).
    pub video: String,
    pub codec: String,
    pub width: usize,
    pub height: usize,
    /// Frames decoded (stage 1's `N`).
    pub frame_count: usize,
    /// Sampled frame indices (stage 1's `frame_ids`).
    pub frame_ids: Vec<i32>,
    /// One entry per `frame_ids` entry (duplicates allowed when N < T).
    pub frames: Vec<SampledFrame>,
    pub residual_source: ResidualSource,
    /// Why this residual source was used, and anything else a user should know
    /// (HEVC without vectors, truncated decode, ...).
    pub notes: Vec<String>,
}

/// Stage 1's frame sampling (SPEC 2.1): NumPy `linspace(start, n-1, t, dtype=int)`, which
/// floors, with the last id exactly `n-1`. A negative start clamps to 0 and a start past the
/// end falls back to 0. Duplicates are allowed when `n < t`.
pub fn sample_frame_ids(n: usize, t: usize, start_offset: i64) -> Vec<i32> {
    if n == 0 || t == 0 {
        return Vec::new();
    }
    let start = if start_offset < 0 || start_offset as usize >= n {
        0
    } else {
        start_offset as usize
    };
    if t == 1 {
        return vec![start as i32];
    }
    let stop = (n - 1) as f64;
    let step = (stop - start as f64) / (t - 1) as f64;
    let mut ids: Vec<i32> = (0..t)
        .map(|k| (start as f64 + k as f64 * step).floor() as i32)
        .collect();
    ids[t - 1] = (n - 1) as i32;
    ids
}

/// `items[i]` for each `i` of `picks`, in order: each item is moved out at its last pick and
/// cloned for the earlier ones, so repeated picks (duplicate frame ids) cost a copy each and
/// no item is ever held twice beyond that. Panics if a pick is out of range.
pub fn pick_items<T: Clone>(items: Vec<T>, picks: &[usize]) -> Vec<T> {
    let mut last = vec![usize::MAX; items.len()];
    for (k, &i) in picks.iter().enumerate() {
        last[i] = k;
    }
    let mut items: Vec<Option<T>> = items.into_iter().map(Some).collect();
    picks
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let item = if last[i] == k {
                items[i].take()
            } else {
                items[i].clone()
            };
            item.expect("each item is moved out at its last pick only")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{pick_items, sample_frame_ids, MotionGrid};

    #[test]
    fn motion_grid_stores_repeated_rows_once() {
        // Rows 0-1 equal, 2 different, 3 equal to 2, 4 equal to 0 (not adjacent: kept).
        let rows: [[i16; 2]; 5] = [[1, 2], [1, 2], [3, -4], [3, -4], [1, 2]];
        let cells: Vec<[i16; 2]> = rows.iter().flat_map(|&c| [c, c, [0, 0]]).collect();
        let g = MotionGrid::from_cells(5, 3, cells.clone());
        assert_eq!(g.cells().copied().collect::<Vec<_>>(), cells);
        assert_eq!(g.distinct.len(), 3 * 3);
        assert!(g.repeats_previous(1) && g.repeats_previous(3) && !g.repeats_previous(4));
        assert_eq!((g.at(3, 0), g.at(4, 2)), ([3, -4], [0, 0]));
        assert_eq!(g, MotionGrid::from_cells(5, 3, cells));
        let empty = MotionGrid::from_cells(4, 0, Vec::new());
        assert!(empty.is_empty() && empty.cells().next().is_none());
        assert_eq!(MotionGrid::zeros(3, 2).cells().count(), 6);
    }

    #[test]
    fn picks_move_at_last_use() {
        let items = vec!["a".to_string(), "b".into(), "c".into()];
        assert_eq!(
            pick_items(items, &[0, 0, 2, 1, 0]),
            ["a", "a", "c", "b", "a"]
        );
        assert!(pick_items(Vec::<u8>::new(), &[]).is_empty());
    }

    #[test]
    fn linspace_floor() {
        assert_eq!(sample_frame_ids(10, 4, 0), vec![0, 3, 6, 9]);
        assert_eq!(sample_frame_ids(3, 5, 0), vec![0, 0, 1, 1, 2]);
        assert_eq!(sample_frame_ids(10, 3, 20), vec![0, 4, 9]);
        assert_eq!(sample_frame_ids(10, 3, -5), vec![0, 4, 9]);
        assert_eq!(sample_frame_ids(10, 1, 2), vec![2]);
        assert!(sample_frame_ids(0, 64, 0).is_empty());
    }
}
