//! RGB frames for packing: decoded pictures at the source size, rgb24.

use std::cell::Cell;

use super::decode::{decode_stream, Decoding, Flow, FrameSink, FrameView, PacketAction};
use super::error::VideoError;
use super::plan::{timestamp_ranks, Indexing, Plan};
use super::source::{PacketInfo, Source};
use crate::analysis::pick_items;
use crate::select::{SquareContent, SquareGeometry};

/// One picture, rgb24, row-major, no padding.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RgbFrame {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl RgbFrame {
    /// The picture mapped to the `square_size` canvas (its own size decides the geometry),
    /// as stage 2 and the offline precompute map it (SPEC 2.3), padding left out.
    pub fn to_square(&self, square_size: usize, patch: usize) -> SquareContent {
        let g = SquareGeometry::new(self.height, self.width, square_size, patch);
        SquareContent::new(&self.data, self.width, self.height, 3, &g)
    }
}

struct RgbSink<'a, 'm, T> {
    plan: &'a Plan,
    wanted_last: usize,
    /// Per presentation index, the mapped picture when wanted.
    got: Vec<Option<T>>,
    map: &'m mut dyn FnMut(RgbFrame) -> T,
    /// Keep the most recent frame whatever it is (to stand in for ids past the end).
    keep_last: bool,
    last: Option<(usize, RgbFrame)>,
    mismatch: bool,
    last_p: Option<usize>,
    error: Option<String>,
}

impl<T> FrameSink for RgbSink<'_, '_, T> {
    fn packet_action(&mut self, index: usize, info: &PacketInfo) -> PacketAction {
        if self.keep_last {
            PacketAction::Decode
        } else {
            self.plan.action(index, info)
        }
    }

    fn frame(&mut self, f: &mut FrameView) -> Flow {
        let Some(p) = self.plan.presentation_index(f.decode_index, f.output_index) else {
            self.mismatch = true;
            return Flow::Stop;
        };
        if self.last_p.is_some_and(|l| p <= l) {
            self.mismatch = true;
            return Flow::Stop;
        }
        self.last_p = Some(p);
        let wanted = p < self.got.len() && self.plan.is_needed(p);
        if wanted || self.keep_last {
            match f.rgb() {
                Ok(rgb) if self.keep_last => {
                    if wanted {
                        self.got[p] = Some((self.map)(rgb.clone()));
                    }
                    self.last = Some((p, rgb));
                }
                Ok(rgb) => self.got[p] = Some((self.map)(rgb)),
                Err(e) => self.error = Some(e.to_string()),
            }
        }
        if p >= self.wanted_last {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }
}

fn rgb_pass<'a, 'm, T>(
    path: &str,
    plan: &'a Plan,
    wanted_last: usize,
    keep_last: bool,
    threads: usize,
    map: &'m mut dyn FnMut(RgbFrame) -> T,
) -> Result<RgbSink<'a, 'm, T>, VideoError> {
    let mut sink = RgbSink {
        plan,
        wanted_last,
        got: (0..plan.n).map(|_| None).collect(),
        map,
        keep_last,
        last: None,
        mismatch: false,
        last_p: None,
        error: None,
    };
    let mut src = Source::open(path)?;
    decode_stream(&mut src, Decoding::Pictures { threads }, &mut sink)?;
    if let Some(e) = &sink.error {
        return Err(VideoError::Corrupt {
            path: path.into(),
            reason: format!("cannot convert a frame to RGB: {e}"),
        });
    }
    Ok(sink)
}

thread_local! {
    /// How many videos this thread's batch decodes at once (1 outside a batch).
    static JOB_WORKERS: Cell<usize> = const { Cell::new(1) };
}

/// Tells picture reads on this thread how many videos its batch decodes at once.
pub fn set_job_workers(n: usize) {
    JOB_WORKERS.with(|w| w.set(n.max(1)));
}

/// Frame threads for a pass that reads pictures only: the cores the other videos of the
/// batch leave idle (a batch with a worker per core decodes each video on one thread, a
/// single worker gets the other cores), at most 4, past which memory grows for little.
fn picture_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / JOB_WORKERS.with(Cell::get)).clamp(1, 4)
}

/// Whether the batch this thread works for leaves a core idle, for a second thread of a
/// decoder (the project's decoder reconstructs on one).
pub(crate) fn spare_core() -> bool {
    picture_threads() > 1
}

/// The pictures at `frame_ids` (presentation order, counted from 0), rgb24 at the source
/// size through swscale. This is what OpenCV's `CAP_PROP_POS_FRAMES` seeks give on
/// constant-frame-rate video. Ids past the last decodable frame take the last frame (as
/// upstream's offline reader steps back to the last good frame); negative ids take frame 0.
/// Decodes sequentially and keeps only the requested pictures (a second pass runs only
/// when some ids lie past the end).
pub fn read_frames_rgb(path: &str, frame_ids: &[i64]) -> Result<Vec<RgbFrame>, VideoError> {
    read_frames_mapped(path, frame_ids, |f| f)
}

/// [`read_frames_rgb`] handing each picture to `map` as it is decoded and keeping only what
/// `map` returns (such as the picture mapped to the square), so that one full-size picture
/// is alive at a time rather than one per id. A repeated id gets a copy of its result.
pub fn read_frames_mapped<T: Clone>(
    path: &str,
    frame_ids: &[i64],
    map: impl FnMut(RgbFrame) -> T,
) -> Result<Vec<T>, VideoError> {
    read_frames_on(path, frame_ids, picture_threads(), map)
}

/// [`read_frames_mapped`] on `threads` frame threads.
fn read_frames_on<T: Clone>(
    path: &str,
    frame_ids: &[i64],
    threads: usize,
    mut map: impl FnMut(RgbFrame) -> T,
) -> Result<Vec<T>, VideoError> {
    if frame_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut src = Source::open(path)?;
    let scan = src.scan(&mut |_| true)?;
    drop(src);
    let ids: Vec<usize> = frame_ids.iter().map(|&f| f.max(0) as usize).collect();
    let max_id = ids.iter().copied().max().unwrap_or(0);
    let n = max_id + 1;
    let mut needed = vec![false; n];
    for &i in &ids {
        needed[i] = true;
    }
    let by_ts = timestamp_ranks(&scan.packets).map(Indexing::ByTimestamp);
    let mut plan = Plan {
        n,
        frame_ids: Vec::new(),
        sampled: needed.clone(),
        needed,
        indexing: Indexing::ByOutputOrder,
        droppable: Vec::new(),
        skip_nonref: false,
        // No emulator on this pass.
        later_rank_floor: Vec::new(),
    };
    let mut got = None;
    if let Some(ix) = by_ts {
        plan.indexing = ix;
        plan.compute_drops(&scan.packets);
        let sink = rgb_pass(path, &plan, max_id, false, threads, &mut map)?;
        if !sink.mismatch {
            got = Some(sink.got);
        }
        plan.indexing = Indexing::ByOutputOrder;
        plan.droppable.clear();
        plan.skip_nonref = false;
    }
    let mut got = match got {
        Some(g) => g,
        None => rgb_pass(path, &plan, max_id, false, threads, &mut map)?.got,
    };
    if ids.iter().any(|&i| got[i].is_none()) {
        drop(got);
        let sink = rgb_pass(path, &plan, usize::MAX, true, threads, &mut map)?;
        let Some((last_p, last)) = sink.last else {
            return Err(VideoError::Corrupt {
                path: path.into(),
                reason: "no frame could be decoded".into(),
            });
        };
        got = sink.got;
        let last = map(last);
        for i in ids.iter().copied() {
            if got[i].is_none() && i >= last_p {
                got[i] = Some(last.clone());
            }
        }
        if let Some(&bad) = ids.iter().find(|&&i| got[i].is_none()) {
            return Err(VideoError::Corrupt {
                path: path.into(),
                reason: format!("frame {bad} could not be decoded"),
            });
        }
    }
    Ok(pick_items(got, &ids).into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frame threads change no picture: a B-pyramid clip with an odd size, read on one
    /// thread and on three, ids in any order, repeated, and past the end.
    #[test]
    fn frame_threads_read_the_same_pictures() {
        let dir = tempfile::tempdir().unwrap();
        let clip = dir.path().join("pyramid.mp4");
        let made = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .args(["testsrc2=size=202x114:rate=25", "-frames:v", "40"])
            .args(["-c:v", "libx264", "-pix_fmt", "yuv420p"])
            .args(["-x264-params", "bframes=3:b-pyramid=normal:keyint=16"])
            .arg(&clip)
            .status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("NOTICE: ffmpeg with libx264 not found; frame-thread reading not checked");
            return;
        }
        let path = clip.to_str().unwrap();
        let ids = [39, 0, 5, 6, 7, 17, 17, 33, 45];
        let one = read_frames_on(path, &ids, 1, |f| f).unwrap();
        let three = read_frames_on(path, &ids, 3, |f| f).unwrap();
        assert_eq!(one.len(), ids.len());
        assert_eq!((one[0].width, one[0].height), (202, 114));
        assert_ne!(one[1], one[2], "different frames differ");
        assert_eq!(one[ids.len() - 1], one[0], "past the end: the last frame");
        for (k, (a, b)) in one.iter().zip(&three).enumerate() {
            assert!(a == b, "frame id {} differs with frame threads", ids[k]);
        }
    }
}
