//! The offline precompute's view of a video (SPEC 2.1, 1.4): `N` from the container's
//! frame count, an optional window, frame numbers from timestamps
//! (`av_rescale_q(best_effort_timestamp, time_base, 1/fps)`, rounded to nearest), missing
//! ids filled from a neighbour, and the raw patched Y plane as residual.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;

use ff::ffi;
use ffmpeg_next as ff;

use super::analyze::{fallback_note, finish_emulator, run_emulator, PatchedLuma, PatchedStore};
use super::decode::{decode_stream, Decoding, Flow, FrameSink, FrameView, PacketAction};
use super::early::{EarlyKnobs, ScoreJoin};
use super::emulate::EmuFrame;
use super::error::VideoError;
use super::exact;
use super::frames::{read_frames_rgb, spare_core, RgbFrame};
use super::motion::fill_grid_l0;
use super::plan::{later_rank_floors, output_order_read, timestamp_ranks};
use super::reorder::ReorderQueue;
use super::source::{PacketInfo, PacketScan, Source, VideoInfo};
use super::yuv::YuvFrame;
use crate::analysis::{
    pick_items, sample_frame_ids, Analysis, FrameType, MotionGrid, Plane, ResidualKeep,
    ResidualPlane, ResidualSource, SampledFrame,
};
use crate::select::{keep_residual, SquareContent, SquareGeometry};

/// Upstream's `--window_pick` (one definition, shared with the selection parameters).
pub use crate::select::WindowPick;

/// The offline precompute's knobs that reach the decoder.
#[derive(Debug, Clone, PartialEq)]
pub struct OfflineOptions {
    /// `--seq_len_frames`.
    pub seq_len_frames: usize,
    /// `--window_len` (0 = whole video).
    pub window_len: usize,
    pub window_pick: WindowPick,
    pub residual: ResidualSource,
    /// Also read the RGB pictures the way upstream does (OpenCV seeks, clamped).
    pub with_rgb: bool,
    /// How much of each residual picture to keep (see `AnalyzeOptions::residual_keep`).
    pub residual_keep: ResidualKeep,
    /// Also keep the mosaic pictures (ids as [`OfflineAnalysis::rgb_frame_ids`]) mapped to a
    /// `(square_size, patch)` square, taken from the analysis' own decode.
    pub squares: Option<(usize, usize)>,
    /// Keep those pictures only when the analysis' estimated peak memory with them
    /// ([`peak_with_squares`]) stays within this many bytes (`None`: always).
    pub squares_peak_budget: Option<usize>,
    /// Score each sampled frame with these energy knobs as soon as its emulated or exact
    /// residual is made, at `residual_keep`'s geometry (which must be `ForScoring`), and keep
    /// the scores instead of the residual's samples ([`crate::select::EarlyScores`]).
    pub score_early: Option<crate::select::EnergyParams>,
}

impl Default for OfflineOptions {
    fn default() -> Self {
        OfflineOptions {
            seq_len_frames: 64,
            window_len: 0,
            window_pick: WindowPick::None,
            residual: ResidualSource::Emulate,
            with_rgb: false,
            residual_keep: ResidualKeep::Whole,
            squares: None,
            squares_peak_budget: None,
            score_early: None,
        }
    }
}

impl OfflineOptions {
    /// The decoder's part of the offline precompute's parameters.
    pub fn for_params(
        p: &crate::select::OfflineParams,
        residual: ResidualSource,
        with_rgb: bool,
    ) -> Self {
        OfflineOptions {
            seq_len_frames: p.seq_len_frames,
            window_len: p.window_len.max(0) as usize,
            window_pick: p.window_pick,
            residual,
            with_rgb,
            residual_keep: ResidualKeep::Whole,
            squares: None,
            squares_peak_budget: None,
            score_early: None,
        }
    }
}

/// Which window was used and why.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowChoice {
    /// `None` when no window applies (`window_len` 0 or not shorter than the video).
    pub chosen: Option<&'static str>,
    pub start: usize,
    pub end: usize,
    /// Packet byte sums of the begin, mid and end windows (energy3 only).
    pub energy: Option<[u64; 3]>,
    /// Frame rate used to turn frames into seconds for energy3 (OpenCV's, else 30).
    pub fps_used: f64,
}

/// `analyze_offline`'s answer.
#[derive(Debug, Clone)]
pub struct OfflineAnalysis {
    /// `frame_count` is the container's count (upstream's `T_all`); `frames[t]` belongs to
    /// `frame_ids[t]`, its residual is the raw Y plane of the (estimated) patched picture.
    pub analysis: Analysis,
    pub info: VideoInfo,
    pub window: WindowChoice,
    /// Frame the decoder was positioned at (keyframe at or before it), when a window starts
    /// past frame 0.
    pub seek_to: Option<usize>,
    /// Per `frame_ids` entry, the timestamp frame number of the picture actually used
    /// (differs where an id never arrived and a neighbour filled in).
    pub used_frame: Vec<i64>,
    /// RGB pictures per `frame_ids` entry when asked for (OpenCV-style reads).
    pub rgb: Vec<RgbFrame>,
    /// With `OfflineOptions::squares`: mosaic pictures by frame id, mapped to the square.
    /// Ids the pass could not name with certainty are absent: read them with
    /// `read_frames_mapped`, whose rules these pictures follow.
    pub squares: HashMap<i64, SquareContent>,
}

impl OfflineAnalysis {
    /// The frames whose pictures go into the mosaics, as upstream's OpenCV seeks take them
    /// (for reading them later, e.g. with `read_frames_mapped`).
    pub fn rgb_frame_ids(&self) -> Vec<i64> {
        rgb_frame_ids(&self.analysis.frame_ids, self.analysis.frame_count)
    }
}

/// Frame ids for the pictures: clamped to the container's `total` frames when it is known.
fn rgb_frame_ids(frame_ids: &[i32], total: usize) -> Vec<i64> {
    frame_ids
        .iter()
        .map(|&f| {
            if total > 0 {
                (f as i64).clamp(0, total as i64 - 1)
            } else {
                f as i64
            }
        })
        .collect()
}

/// Sum of packet sizes ffprobe reports for `-read_intervals START%+DUR`: it seeks to the
/// keyframe at or before START, then counts packets until one's timestamp reaches the
/// first packet's timestamp plus DUR.
fn interval_bytes(scan: &PacketScan, tb: (i32, i32), start_sec: f64, dur_sec: f64) -> u64 {
    let us = |ts: i64| -> i64 {
        // SAFETY: pure arithmetic helper of libavutil.
        unsafe {
            ffi::av_rescale_q(
                ts,
                ffi::AVRational {
                    num: tb.0,
                    den: tb.1,
                },
                ffi::AVRational {
                    num: 1,
                    den: 1_000_000,
                },
            )
        }
    };
    let target = (start_sec.max(0.0) * 1e6).round() as i64;
    let dur = (dur_sec.max(0.0) * 1e6).round() as i64;
    let pkts = &scan.packets;
    let time_of = |p: &PacketInfo| p.dts.or(p.pts).map(us);
    let mut first = 0usize;
    if target > 0 {
        for (i, p) in pkts.iter().enumerate() {
            if p.key && time_of(p).is_some_and(|t| t <= target) {
                first = i;
            }
        }
    }
    let mut sum = 0u64;
    let mut end: Option<i64> = None;
    for p in &pkts[first.min(pkts.len())..] {
        let cur = p.pts.or(p.dts).map(us);
        if end.is_none() {
            if let Some(c) = cur {
                end = Some(c + dur);
            }
        }
        if let (Some(e), Some(c)) = (end, cur) {
            if c >= e {
                break;
            }
        }
        sum += p.size as u64;
    }
    sum
}

fn choose_window(
    info: &VideoInfo,
    scan: &PacketScan,
    total: usize,
    opts: &OfflineOptions,
) -> WindowChoice {
    let fps_used = if info.opencv_fps > 0.0 {
        info.opencv_fps
    } else {
        30.0
    };
    let w = opts.window_len;
    let mut choice = WindowChoice {
        chosen: None,
        start: 0,
        end: total.saturating_sub(1),
        energy: None,
        fps_used,
    };
    if w == 0 || total <= w {
        return choice;
    }
    let begin = 0;
    let end = total - w;
    let mid = (total - w) / 2;
    let (name, start) = match opts.window_pick {
        WindowPick::None => ("none", 0),
        WindowPick::Begin => ("begin", begin),
        WindowPick::Mid => ("mid", mid),
        WindowPick::End => ("end", end),
        WindowPick::Energy3 => {
            let dur = w as f64 / fps_used;
            let e = [begin, mid, end]
                .map(|s| interval_bytes(scan, info.time_base, s as f64 / fps_used, dur));
            choice.energy = Some(e);
            if e.iter().all(|&x| x == 0) {
                ("mid", mid)
            } else {
                // Python's max() keeps the first of equal maxima.
                let mut best = 0;
                for k in 1..3 {
                    if e[k] > e[best] {
                        best = k;
                    }
                }
                [("begin", begin), ("mid", mid), ("end", end)][best]
            }
        }
    };
    choice.chosen = Some(name);
    choice.start = start;
    choice.end = (total - 1).min(start + w - 1);
    choice
}

/// Upstream's frame number of a timestamp: `av_rescale_q(ts, time_base, 1/fps)`, rounded
/// to nearest (`None` without a usable frame rate).
fn frame_number(ts: i64, tb: ffi::AVRational, fr: ffi::AVRational) -> Option<i64> {
    if fr.num <= 0 || fr.den <= 0 {
        return None;
    }
    let per_frame = ffi::AVRational {
        num: fr.den,
        den: fr.num,
    };
    // SAFETY: pure arithmetic helper of libavutil.
    Some(unsafe { ffi::av_rescale_q(ts, tb, per_frame) } as i32 as i64)
}

/// Non-reference pictures a pass need not decode (`skip_frame` noref per packet), when
/// frames can be named by timestamp rank: none is a wanted frame, by rank or by the frame
/// number of its timestamp, nor a mosaic picture. Frames are then numbered by rank, and
/// each frame out must come next in rank order once the dropped pictures before it are
/// counted; when one does not, the pass is decoded again without dropping.
#[derive(Clone)]
struct Dropping {
    ranks: Vec<Option<usize>>,
    /// Packet of each rank.
    by_rank: Vec<usize>,
    droppable: Vec<bool>,
    next_rank: usize,
}

impl Dropping {
    fn new(
        packets: &[PacketInfo],
        ranks: Vec<Option<usize>>,
        number: impl Fn(i64) -> Option<i64>,
        wanted_numbers: &HashMap<i64, usize>,
        wanted_ranks: &BTreeSet<usize>,
    ) -> Dropping {
        let mut by_rank = vec![0; ranks.iter().flatten().count()];
        for (i, r) in ranks.iter().enumerate() {
            if let Some(r) = *r {
                by_rank[r] = i;
            }
        }
        let droppable = packets
            .iter()
            .zip(&ranks)
            .map(|(p, r)| {
                let number = p.pts.and_then(&number);
                p.slice.has_slice
                    && !p.slice.is_reference
                    && !p.discard
                    && r.is_some_and(|r| {
                        !wanted_ranks.contains(&r) && !wanted_numbers.contains_key(&(r as i64))
                    })
                    && number.is_some_and(|n| !wanted_numbers.contains_key(&n))
            })
            .collect();
        Dropping {
            ranks,
            by_rank,
            droppable,
            next_rank: 0,
        }
    }

    /// The number (rank) of the frame from packet `d`, if it comes next in rank order.
    fn number(&mut self, d: Option<usize>) -> Option<usize> {
        let r = self.ranks.get(d?).copied().flatten()?;
        while self.next_rank < r && self.droppable[self.by_rank[self.next_rank]] {
            self.next_rank += 1;
        }
        (r == self.next_rank).then(|| {
            self.next_rank += 1;
            r
        })
    }
}

struct Slot {
    frame_idx: i64,
    decoded_idx: usize,
    frame_type: FrameType,
    vectors: usize,
    motion: MotionGrid,
    residual: Option<ResidualPlane>,
}

/// The mosaic pictures taken from the analysis pass: the pictures at presentation index
/// `p` for each wanted id, as [`super::frames::read_frames_mapped`] would read them. That
/// reader names frames by timestamp rank (output order when the ranks are unusable); here
/// a picture is kept only when its output position and its rank agree, and nothing is kept
/// once they disagree, so a picture kept is the one the reader gives.
struct SquareCapture {
    ids: BTreeSet<usize>,
    square_size: usize,
    patch: usize,
    ranks: Option<Vec<Option<usize>>>,
    got: HashMap<i64, SquareContent>,
    broken: bool,
    /// The RGB picture being mapped, its buffer reused from frame to frame.
    scratch: RgbFrame,
}

impl SquareCapture {
    /// The same capture for another pass, with nothing taken yet.
    fn restart(self) -> SquareCapture {
        SquareCapture {
            got: HashMap::new(),
            broken: false,
            ..self
        }
    }

    fn offer(&mut self, f: &mut FrameView, p: usize) -> Result<(), String> {
        if self.broken || !self.ids.contains(&p) {
            return Ok(());
        }
        if let Some(ranks) = &self.ranks {
            let rank = f.decode_index.and_then(|d| ranks.get(d).copied().flatten());
            if rank != Some(p) {
                self.broken = true;
                self.got.clear();
                return Ok(());
            }
        }
        f.rgb_into(&mut self.scratch)
            .map_err(|e| format!("RGB copy: {e}"))?;
        self.got.insert(
            p as i64,
            self.scratch.to_square(self.square_size, self.patch),
        );
        Ok(())
    }
}

struct OfflineSink {
    /// Timestamp ranks and, per packet, the earliest rank of any later packet: with them
    /// the emulator frees references no later frame can pick, which is exact while every
    /// frame's output position equals its rank (`rank_mismatch` says when one did not).
    floors: Option<(Vec<Option<usize>>, Vec<usize>)>,
    rank_mismatch: bool,
    /// Pictures left undecoded, with frames numbered by rank.
    dropping: Option<Dropping>,
    path: String,
    residual: ResidualSource,
    tb: ffi::AVRational,
    fr: ffi::AVRational,
    decode_len: usize,
    max_frames: usize,
    times: HashMap<i64, usize>,
    max_uniq: i64,
    positions: HashMap<i64, VecDeque<usize>>,
    remaining: usize,
    slots: Vec<Option<usize>>,
    filled: Vec<Slot>,
    packets: Vec<PacketInfo>,
    queue: ReorderQueue<EmuFrame>,
    emu_tx: Option<SyncSender<EmuFrame>>,
    keep: ResidualKeep,
    prev_luma: Option<Vec<u8>>,
    capture: Option<SquareCapture>,
    /// Collects the residual pictures (scoring them with their motion in batch runs).
    join: Arc<ScoreJoin>,
    error: Option<String>,
}

impl OfflineSink {
    fn handle(&mut self, f: &mut FrameView) -> Result<Flow, String> {
        let decoded_idx = match &mut self.dropping {
            Some(d) => match d.number(f.decode_index) {
                Some(r) => r,
                None => {
                    // Numbering by rank does not hold: this pass is decoded again.
                    self.rank_mismatch = true;
                    return Ok(Flow::Stop);
                }
            },
            None => f.output_index,
        };
        if (self.decode_len > 0 && decoded_idx >= self.decode_len)
            || (self.max_frames > 0 && decoded_idx >= self.max_frames)
        {
            return Ok(Flow::Stop);
        }
        if let Some((ranks, _)) = &self.floors {
            let rank = f.decode_index.and_then(|d| ranks.get(d).copied().flatten());
            self.rank_mismatch |= rank != Some(decoded_idx);
        }
        if let Some(c) = &mut self.capture {
            c.offer(f, decoded_idx)?;
        }
        let frame_idx = f
            .best_effort_timestamp
            .and_then(|ts| frame_number(ts, self.tb, self.fr))
            .unwrap_or(decoded_idx as i64);
        let wanted = self
            .positions
            .get(&frame_idx)
            .is_some_and(|q| !q.is_empty());
        let (w, h) = (f.width(), f.height());
        let mut diff = None;
        if self.residual == ResidualSource::FrameDiff {
            let y = f.luma().map_err(|e| format!("luma copy: {e}"))?;
            if wanted {
                let data = match &self.prev_luma {
                    Some(prev) if prev.len() == y.len() => {
                        y.iter().zip(prev).map(|(&a, &b)| a.abs_diff(b)).collect()
                    }
                    _ => vec![0u8; y.len()],
                };
                let plane = ResidualPlane::Magnitude(Plane {
                    width: w,
                    height: h,
                    data,
                });
                diff = Some(keep_residual(plane, self.keep));
            }
            self.prev_luma = Some(y);
        }
        if self.residual == ResidualSource::Emulate {
            if let Some(d) = f.decode_index {
                let info = self.packets.get(d).copied();
                let is_ref = info.is_none_or(|p| !p.slice.has_slice || p.slice.is_reference);
                let payload = if is_ref || wanted {
                    Some(EmuFrame {
                        decode_index: d,
                        display_index: decoded_idx,
                        is_reference: is_ref,
                        is_idr: info.is_some_and(|p| p.slice.is_idr),
                        wanted,
                        // The raw patched Y plane never reads chroma: luma alone.
                        picture: YuvFrame::luma_only(
                            w,
                            h,
                            f.luma().map_err(|e| format!("picture copy: {e}"))?,
                        ),
                        vectors: f.vectors(),
                        // Frames are named by output position here: no floor is known.
                        later_display_floor: match &self.floors {
                            Some((_, floor)) if !self.rank_mismatch => floor.get(d).copied(),
                            _ => None,
                        },
                    })
                } else {
                    None
                };
                self.queue.arrive(d, payload);
                let ready = self.queue.release();
                if let Some(tx) = &self.emu_tx {
                    for r in ready {
                        let _ = tx.send(r);
                    }
                }
            }
        }
        if !wanted {
            return Ok(Flow::Continue);
        }
        let vectors = f.vectors();
        let slot = self.filled.len();
        let motion = fill_grid_l0(&vectors, w, h);
        self.join.offer_motion(decoded_idx, &motion);
        self.filled.push(Slot {
            frame_idx,
            decoded_idx,
            frame_type: f.frame_type(),
            vectors: vectors.len(),
            motion,
            residual: diff,
        });
        // Upstream calls back once per occurrence of the id; each call fills one position.
        let times = self.times.get(&frame_idx).copied().unwrap_or(0);
        if let Some(q) = self.positions.get_mut(&frame_idx) {
            for _ in 0..times {
                if let Some(t) = q.pop_front() {
                    self.slots[t] = Some(slot);
                    self.remaining -= 1;
                }
                if self.remaining == 0 {
                    return Ok(Flow::Stop);
                }
            }
        }
        if frame_idx >= self.max_uniq {
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
    }
}

impl FrameSink for OfflineSink {
    fn packet_action(&mut self, index: usize, _info: &PacketInfo) -> PacketAction {
        match &self.dropping {
            Some(d) if d.droppable.get(index) == Some(&true) => PacketAction::SkipNonRef,
            _ => PacketAction::Decode,
        }
    }

    fn packet_sent(&mut self, index: usize, info: &PacketInfo, skipped: bool) -> bool {
        if self.packets.len() <= index {
            self.packets.resize(index + 1, *info);
        }
        self.packets[index] = *info;
        if self.residual == ResidualSource::Emulate
            && !info.discard
            && !skipped
            && (info.slice.has_slice || info.size > 0)
        {
            self.queue.expect(index);
        }
        true
    }

    fn frame(&mut self, f: &mut FrameView) -> Flow {
        match self.handle(f) {
            Ok(flow) => flow,
            Err(e) => {
                self.error = Some(e);
                Flow::Stop
            }
        }
    }
}

/// Estimated peak memory (bytes, resident) of an analysis with a residual that also keeps
/// `frames` mosaic pictures of a `width x height` video mapped to the square: a fixed part,
/// a part that grows with the picture (the residual's reference pictures and FFmpeg's), the
/// squares' content and, unless frames are scored as their residual is made
/// (`scored_early`), each frame's residual samples. Fitted to the highest peaks measured
/// with the emulator and the project's decoder, scoring early (MiB): 89.2 at 360x640, 116.8
/// at 1280x720, 149.9 at 960x960, 175.2 at 1920x1080 and 245.7 at 2560x1440.
pub fn peak_with_squares(
    width: usize,
    height: usize,
    frames: usize,
    square_size: usize,
    patch: usize,
    scored_early: bool,
) -> usize {
    let g = SquareGeometry::new(height, width, square_size, patch);
    let samples = if scored_early {
        0
    } else {
        let (rows, cols) = crate::select::scored_lattice(width, height, &g);
        frames * rows.len() * cols.len()
    };
    (45 << 20) + 51 * width * height + frames * g.hn * g.wn * 3 + samples
}

/// The offline precompute's analysis of one video: container frame count, optional window,
/// frame numbers from timestamps, raw patched luma as residual (SPEC 2.1, 2.2).
///
/// With `ResidualSource::Exact`, streams the project's decoder does not handle fall back to
/// the emulator, with the reason as the first note.
pub fn analyze_offline(path: &str, opts: &OfflineOptions) -> Result<OfflineAnalysis, VideoError> {
    match offline_pass(path, opts)? {
        Ok(a) => Ok(a),
        Err(why) => {
            let o = OfflineOptions {
                residual: ResidualSource::Emulate,
                ..opts.clone()
            };
            let mut a = offline_pass(path, &o)?.map_err(|e| VideoError::Corrupt {
                path: path.into(),
                reason: e,
            })?;
            a.analysis.notes.insert(0, fallback_note(&why));
            Ok(a)
        }
    }
}

fn offline_pass(
    path: &str,
    opts: &OfflineOptions,
) -> Result<Result<OfflineAnalysis, String>, VideoError> {
    let mut src = Source::open(path)?;
    src.require_supported()?;
    let is_exact = opts.residual == ResidualSource::Exact;
    if is_exact {
        if let Some(why) = exact::unsupported_reason(&src) {
            return Ok(Err(why));
        }
    }
    let info = src.info.clone();
    let scan = src.scan(&mut |_| true)?;
    drop(src);
    let t = opts.seq_len_frames;
    let mut notes = Vec::new();
    let total = if info.container_frame_count > 0 {
        info.container_frame_count
    } else {
        notes.push(format!(
            "the container states no frame count: N = seq_len_frames = {t} (as upstream)"
        ));
        t
    };
    let window = choose_window(&info, &scan, total, opts);
    let (start, end) = (window.start, window.end);
    let mut frame_ids = sample_frame_ids(end + 1, t, start as i64);
    if frame_ids.len() != t {
        frame_ids = vec![0; t];
    }
    let seek_to = (start > 0).then_some(start);
    if is_exact && seek_to.is_some() {
        return Ok(Err(
            "the window starts past frame 0 and the exact decode cannot start at a seek point yet"
                .into(),
        ));
    }
    let span = end - start + 1;
    let max_fid = frame_ids.iter().copied().max().unwrap_or(0) as usize;
    let (decode_len, max_frames) = match seek_to {
        Some(_) => (span, span),
        None => (0, max_fid + 1),
    };

    let mut times: HashMap<i64, usize> = HashMap::new();
    let mut positions: HashMap<i64, VecDeque<usize>> = HashMap::new();
    for (k, &f) in frame_ids.iter().enumerate() {
        *times.entry(f as i64).or_default() += 1;
        positions.entry(f as i64).or_default().push_back(k);
    }
    let fr = ffi::AVRational {
        num: info.fps_rational.0,
        den: info.fps_rational.1,
    };
    let tb = ffi::AVRational {
        num: info.time_base.0,
        den: info.time_base.1,
    };

    let mut src = Source::open(path)?;
    if let Some(s) = seek_to {
        // SAFETY: seeking an open input; arithmetic helper.
        let ret = unsafe {
            let mut ts = ffi::av_rescale_q(
                s as i64,
                ffi::AVRational {
                    num: fr.den,
                    den: fr.num,
                },
                tb,
            );
            if ts < 0 {
                ts = 0;
            }
            ffi::av_seek_frame(
                src.input.as_mut_ptr(),
                info.stream_index as i32,
                ts,
                ffi::AVSEEK_FLAG_BACKWARD,
            )
        };
        if ret < 0 {
            notes.push(format!(
                "seek to frame {s} failed ({}); decoding from the start",
                ff::Error::from(ret)
            ));
        }
    }
    let residual = opts.residual;
    let store = PatchedStore {
        luma: PatchedLuma::Raw,
        keep: opts.residual_keep,
    };
    // The mosaic pictures come from this decode too, unless it starts at a seek point
    // (positions then no longer count from the start) or they would not fit the budget.
    // Frames are scored as their residual is made when the run's knobs are given.
    let early = EarlyKnobs::of(opts.score_early, opts.residual_keep, residual);
    let scored_early = early.is_some();
    let fits = |square, patch| {
        opts.squares_peak_budget.is_none_or(|budget| {
            peak_with_squares(info.width, info.height, t, square, patch, scored_early) <= budget
        })
    };
    // Presentation ranks from timestamps, where the scan found them usable.
    let ranks = timestamp_ranks(&scan.packets);
    let mut capture = match opts.squares {
        Some((square_size, patch)) if seek_to.is_none() && fits(square_size, patch) => {
            Some(SquareCapture {
                ids: rgb_frame_ids(&frame_ids, total)
                    .into_iter()
                    .filter(|&f| f >= 0)
                    .map(|f| f as usize)
                    .collect(),
                square_size,
                patch,
                scratch: RgbFrame::default(),
                ranks: ranks.clone(),
                got: HashMap::new(),
                broken: false,
            })
        }
        _ => None,
    };
    // Frames are numbered by timestamp here; on constant-frame-rate video the output
    // position of frame id f is f, so the exact decode starts on that guess in parallel.
    let guess: BTreeSet<usize> = frame_ids.iter().map(|&f| f.max(0) as usize).collect();
    let packets = &scan.packets;
    // Emulated offline passes free unpickable references when frames can be named by
    // timestamp rank (no seek); if a frame's output position ever differs from its rank,
    // the pass runs again keeping every reference, so the estimates never depend on it.
    let floors = (residual == ResidualSource::Emulate && seek_to.is_none())
        .then(|| ranks.clone())
        .flatten()
        .map(|ranks| {
            let floor = later_rank_floors(&ranks);
            (ranks, floor)
        });
    let mut use_floors = floors.is_some();
    // Non-reference pictures nobody needs are left undecoded where frames can be named by
    // timestamp rank (no seek; frame difference needs every picture) and the scan saw the
    // decoder's output order agree with it (H.264 and HEVC slice headers). The frames out
    // then carry their own timestamps in increasing order, so the frame numbers they get
    // are those of their timestamps, and a dropped picture never held a wanted one.
    let order_known = output_order_read(&scan.packets);
    let dropping = (seek_to.is_none() && residual != ResidualSource::FrameDiff && order_known)
        .then_some(ranks)
        .flatten()
        .map(|ranks| {
            let mosaic = capture.as_ref().map(|c| c.ids.clone()).unwrap_or_default();
            let number = |ts| frame_number(ts, tb, fr);
            Dropping::new(&scan.packets, ranks, number, &times, &mosaic)
        });
    let mut use_dropping = dropping.is_some();
    let mut opened = Some(src);
    let threaded = spare_core();
    let (mut sink, join, exact_result) = loop {
        let mut src = match opened.take() {
            Some(s) => s,
            None => Source::open(path)?,
        };
        let join = Arc::new(ScoreJoin::new(early));
        join.set_size(info.width, info.height);
        let pass = std::thread::scope(|scope| -> Result<(OfflineSink, _), VideoError> {
            let exact_worker = is_exact.then(|| {
                let (guess, join) = (&guess, &*join);
                scope.spawn(move || {
                    exact::decode_exact_into(path, packets, guess, store, threaded, join)
                })
            });
            let (tx, rx) = sync_channel::<EmuFrame>(1);
            let worker = (residual == ResidualSource::Emulate).then(|| {
                let join = &*join;
                scope.spawn(move || run_emulator(rx, store, join))
            });
            let mut sink = OfflineSink {
                floors: floors.clone().filter(|_| use_floors),
                rank_mismatch: false,
                dropping: dropping.clone().filter(|_| use_dropping),
                path: path.to_string(),
                residual: if is_exact {
                    ResidualSource::None
                } else {
                    residual
                },
                tb,
                fr,
                decode_len,
                max_frames,
                times: times.clone(),
                max_uniq: max_fid as i64,
                positions: positions.clone(),
                remaining: t,
                slots: vec![None; t],
                filled: Vec::new(),
                packets: Vec::new(),
                queue: ReorderQueue::default(),
                emu_tx: worker.is_some().then_some(tx),
                keep: opts.residual_keep,
                prev_luma: None,
                capture: capture.take(),
                join: Arc::clone(&join),
                error: None,
            };
            let run = decode_stream(&mut src, Decoding::Vectors, &mut sink);
            finish_emulator(&mut sink.queue, sink.emu_tx.take(), worker, path)?;
            let exact_result = exact_worker.map(|h| h.join());
            let run = run?;
            if let Some(e) = &run.error {
                notes.push(format!("decoding stopped early: {e}"));
            }
            Ok((sink, exact_result))
        })?;
        let (mut sink, exact_result) = pass;
        if (use_floors || use_dropping) && sink.rank_mismatch {
            // Decoded again with every picture and reference, numbered as upstream does.
            notes.push(if use_floors {
                "output positions and timestamp ranks disagree: the emulator ran again keeping every reference"
            } else {
                "output positions and timestamp ranks disagree: decoded again without dropping pictures"
            }.into());
            use_floors = false;
            use_dropping = false;
            capture = sink.capture.take().map(SquareCapture::restart);
            continue;
        }
        break (sink, join, exact_result);
    };
    // The pass' threads are done: every residual picture is in.
    let residuals = join.take_residuals();
    let mut residuals = match exact_result {
        None => residuals,
        Some(r) => {
            let needed: BTreeSet<usize> = sink.filled.iter().map(|s| s.decoded_idx).collect();
            let planes = match r {
                Ok(Ok(_)) if needed.iter().all(|d| residuals.contains_key(d)) => Ok(residuals),
                Ok(Ok(_)) => {
                    exact::decode_exact(path, packets, &needed, store, threaded).map(|r| r.planes)
                }
                Ok(Err(f)) => Err(f),
                Err(_) => return Ok(Err("internal error in the project's decoder".into())),
            };
            match planes {
                Ok(planes) => {
                    notes.insert(
                        0,
                        "residual: exact, the raw Y plane of the project's H.264 decoder in upstream's residual mode (SPEC 2.2); motion vectors from FFmpeg".into(),
                    );
                    planes
                }
                Err(f) => return Ok(Err(f.reason().to_string())),
            }
        }
    };
    if let Some(e) = sink.error {
        return Err(VideoError::Corrupt {
            path: sink.path,
            reason: e,
        });
    }
    // Fill ids that never arrived: from the previous one, leading gaps from the last found.
    let mut slots = sink.slots.clone();
    let mut last = None;
    for s in slots.iter_mut() {
        match s {
            Some(v) => last = Some(*v),
            None => *s = last,
        }
    }
    let Some(last) = last else {
        return Err(VideoError::Corrupt {
            path: path.into(),
            reason: "no decoded frame matched the requested frame numbers".into(),
        });
    };
    let missing = sink.slots.iter().filter(|s| s.is_none()).count();
    if missing > 0 {
        notes.push(format!("{missing} of {t} frame ids never arrived by timestamp and were filled from a neighbour"));
    }
    let picks: Vec<usize> = slots.iter().map(|s| s.unwrap_or(last)).collect();
    let used_frame = picks.iter().map(|&s| sink.filled[s].frame_idx).collect();
    let decoded: Vec<SampledFrame> = sink
        .filled
        .into_iter()
        .map(|slot| SampledFrame {
            // Set below: a filled-in id shares its neighbour's picture, not its number.
            frame_index: 0,
            frame_type: slot.frame_type,
            vector_count: slot.vectors,
            motion: slot.motion,
            residual: match residual {
                ResidualSource::Emulate | ResidualSource::Exact => {
                    residuals.remove(&slot.decoded_idx)
                }
                ResidualSource::FrameDiff => slot.residual,
                _ => None,
            },
        })
        .collect();
    // Moved, not copied: one picture per decoded frame is held at any time.
    let mut frames = pick_items(decoded, &picks);
    for (f, &id) in frames.iter_mut().zip(&frame_ids) {
        f.frame_index = id.max(0) as usize;
    }
    let rgb = if opts.with_rgb {
        read_frames_rgb(path, &rgb_frame_ids(&frame_ids, total))?
    } else {
        Vec::new()
    };
    let squares = sink.capture.take().map(|c| c.got).unwrap_or_default();
    let analysis = Analysis {
        video: path.to_string(),
        codec: info.codec.clone(),
        width: info.width,
        height: info.height,
        frame_count: total,
        frame_ids,
        frames,
        residual_source: residual,
        notes,
    };
    Ok(Ok(OfflineAnalysis {
        analysis,
        info,
        window,
        seek_to,
        used_frame,
        rgb,
        squares,
    }))
}
