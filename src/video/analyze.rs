//! Stage 1's view of a video in one decode: the sampled frames' motion grids, their
//! residual pictures from the chosen source, and optionally their RGB pictures.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::ScopedJoinHandle;
use std::time::Instant;

use super::decode::{decode_stream, DecodeRun, Decoding, Flow, FrameSink, FrameView, PacketAction};
use super::early::{EarlyKnobs, ScoreJoin};
use super::emulate::{EmuFrame, Emulator};
use super::error::VideoError;
use super::exact;
use super::frames::{spare_core, RgbFrame};
use super::motion::{fill_grid_l0, MotionVector};
use super::plan::{picture_packets, timestamp_ranks, Indexing, Plan};
use super::reorder::ReorderQueue;
use super::rgb::{round_trip_is_exact, stage1_luma};
use super::source::{PacketInfo, PacketScan, Source, VideoInfo};
use super::yuv::YuvFrame;
use crate::analysis::{
    pick_items, Analysis, FrameType, MotionGrid, Plane, ResidualKeep, ResidualPlane,
    ResidualSource, SampledFrame,
};
use crate::select::keep_residual;

/// What `analyze` should produce.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzeOptions {
    /// Frames sampled (stage 1's `--sequence_length`, T).
    pub sequence_length: usize,
    /// Stage 1's `--sample_start_offset`.
    pub sample_start_offset: i64,
    pub residual: ResidualSource,
    /// Also return the sampled frames as RGB (for packing) from the same decode.
    pub with_rgb: bool,
    /// Drop non-reference pictures nobody needs (`skip_frame` noref per packet) when frames
    /// can be named by timestamp. Off: decode every frame.
    pub skip_unneeded: bool,
    /// How much of each residual picture to keep (whole by default; a batch run that knows
    /// its geometry keeps only what scoring reads).
    pub residual_keep: ResidualKeep,
    /// Score each sampled frame with these energy knobs as soon as its emulated or exact
    /// residual is made, at `residual_keep`'s geometry (which must be `ForScoring`), and keep
    /// the scores instead of the residual's samples ([`crate::select::EarlyScores`]).
    pub score_early: Option<crate::select::EnergyParams>,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            sequence_length: 64,
            sample_start_offset: 0,
            residual: ResidualSource::Emulate,
            with_rgb: false,
            skip_unneeded: true,
            residual_keep: ResidualKeep::Whole,
            score_early: None,
        }
    }
}

/// Which part of the work a progress report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading packets without decoding.
    Scan,
    /// Decoding (`pass` counts from 1; a second pass runs when the first one's frame count
    /// prediction was wrong).
    Decode { pass: usize },
}

/// Progress: `done` of `total` packets of the current stage (while scanning, `total` is the
/// container's frame count, an estimate that may be 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub stage: Stage,
    pub done: usize,
    pub total: usize,
}

/// How the decode went.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecodeStats {
    pub passes: usize,
    pub packets: usize,
    /// Frames that left the decoder (last pass).
    pub frames_output: usize,
    /// Non-reference pictures dropped without decoding (last pass).
    pub frames_skipped: usize,
    /// `"timestamps"` or `"output order"`.
    pub indexing: &'static str,
    pub scan_seconds: f64,
    pub decode_seconds: f64,
}

/// `analyze_with`'s full answer.
#[derive(Debug, Clone)]
pub struct VideoAnalysis {
    pub analysis: Analysis,
    pub info: VideoInfo,
    /// One RGB picture per `analysis.frame_ids` entry when asked for, else empty.
    pub rgb: Vec<RgbFrame>,
    pub stats: DecodeStats,
}

/// What the emulator's estimate becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatchedLuma {
    /// Stage 1: through the RGB round trip (SPEC 2.2).
    Stage1,
    /// Offline precompute: the raw Y plane.
    Raw,
}

impl PatchedLuma {
    pub fn map(self, f: &YuvFrame) -> Plane {
        match self {
            PatchedLuma::Stage1 => stage1_luma(f),
            PatchedLuma::Raw => Plane {
                width: f.width,
                height: f.height,
                data: f.y.clone(),
            },
        }
    }
}

/// What a patched picture becomes in the analysis: its luma as the tool reads it, kept whole
/// or as the samples scoring reads. Applied where each picture is made, so that a run never
/// holds more than one whole picture per thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PatchedStore {
    pub luma: PatchedLuma,
    pub keep: ResidualKeep,
}

impl PatchedStore {
    pub fn store(&self, f: &YuvFrame) -> ResidualPlane {
        keep_residual(ResidualPlane::Patched(self.luma.map(f)), self.keep)
    }

    /// Stores picture `f` (presentation index `p`) into `into` as a job of `scope`, so
    /// that the decoder handing it over goes on meanwhile.
    pub fn store_on<'scope>(
        self,
        scope: &rayon::Scope<'scope>,
        p: usize,
        f: impl Borrow<YuvFrame> + Send + 'scope,
        into: &'scope ScoreJoin,
    ) {
        scope.spawn(move |_| into.put(p, self.store(f.borrow())));
    }
}

/// Per sampled frame, what the sink keeps.
#[derive(Debug, Clone)]
pub(crate) struct SampledOut {
    pub frame_type: FrameType,
    pub vectors: usize,
    pub motion: MotionGrid,
    pub rgb: Option<RgbFrame>,
    pub residual: Option<ResidualPlane>,
    pub width: usize,
    pub height: usize,
}

/// What one pass needs to know besides the plan.
pub(crate) struct PassConfig<'a> {
    pub packets: &'a [PacketInfo],
    pub residual: ResidualSource,
    pub with_rgb: bool,
    /// The codec exports no vectors (HEVC on stock FFmpeg): references are useless to the
    /// emulator, which then estimates each sampled frame on its own.
    pub no_vectors: bool,
    pub store: PatchedStore,
    pub pass: usize,
    /// Upstream offline semantics: stop once the last sampled frame is out.
    pub stop_after_last: bool,
    /// Collects the residual pictures (scoring them with their motion in batch runs).
    pub join: &'a ScoreJoin,
}

/// The result of one pass.
pub(crate) struct PassResult {
    pub run: DecodeRun,
    pub frames: BTreeMap<usize, SampledOut>,
    /// Presentation index of every frame that left the decoder.
    pub outputs: Vec<usize>,
    pub skipped_pictures: usize,
    pub mismatch: Option<String>,
    pub sizes_changed: bool,
}

struct Sink<'a, 'p> {
    plan: &'a Plan,
    cfg: &'a PassConfig<'a>,
    pic: Vec<bool>,
    skipped: Vec<bool>,
    produced: Vec<bool>,
    emu_tx: Option<SyncSender<EmuFrame>>,
    queue: ReorderQueue<EmuFrame>,
    frames: BTreeMap<usize, SampledOut>,
    outputs: Vec<usize>,
    prev_luma: Option<(usize, Vec<u8>)>,
    last_p: Option<usize>,
    last_sampled: usize,
    mismatch: Option<String>,
    first_size: Option<(usize, usize)>,
    sizes_changed: bool,
    error: Option<String>,
    progress: &'p mut dyn FnMut(Progress) -> bool,
}

impl Sink<'_, '_> {
    fn send_ready(&mut self) {
        let ready = self.queue.release();
        if let Some(tx) = &self.emu_tx {
            for f in ready {
                let _ = tx.send(f);
            }
        }
    }

    fn is_reference(&self, d: usize) -> bool {
        self.cfg
            .packets
            .get(d)
            .is_none_or(|p| !p.slice.has_slice || p.slice.is_reference)
    }

    fn handle(&mut self, f: &mut FrameView) -> Result<Flow, String> {
        let Some(p) = self.plan.presentation_index(f.decode_index, f.output_index) else {
            self.mismatch = Some(format!("frame {} has no timestamp rank", f.output_index));
            return Ok(Flow::Stop);
        };
        if self.last_p.is_some_and(|l| p <= l) {
            self.mismatch = Some(format!("frame {} out of timestamp order", f.output_index));
            return Ok(Flow::Stop);
        }
        self.last_p = Some(p);
        self.outputs.push(p);
        if let Some(d) = f.decode_index {
            if d < self.produced.len() {
                self.produced[d] = true;
            }
        }
        let (w, h) = (f.width(), f.height());
        match self.first_size {
            None => self.first_size = Some((w, h)),
            Some(s) if s != (w, h) => self.sizes_changed = true,
            _ => {}
        }
        let sampled = self.plan.is_sampled(p);
        let mut out = if sampled {
            let vectors: Vec<MotionVector> = f.vectors();
            let rgb = if self.cfg.with_rgb {
                Some(f.rgb().map_err(|e| format!("RGB conversion: {e}"))?)
            } else {
                None
            };
            let motion = fill_grid_l0(&vectors, w, h);
            // The first sampled frame out gives the analysis its size.
            self.cfg.join.set_size(w, h);
            self.cfg.join.offer_motion(p, &motion);
            Some(SampledOut {
                frame_type: f.frame_type(),
                vectors: vectors.len(),
                motion,
                rgb,
                residual: None,
                width: w,
                height: h,
            })
        } else {
            None
        };
        match self.cfg.residual {
            ResidualSource::FrameDiff if self.plan.is_needed(p) => {
                let y = f.luma().map_err(|e| format!("luma copy: {e}"))?;
                if let Some(o) = out.as_mut() {
                    let data = match &self.prev_luma {
                        Some((q, prev)) if *q + 1 == p && prev.len() == y.len() => {
                            y.iter().zip(prev).map(|(&a, &b)| a.abs_diff(b)).collect()
                        }
                        _ => vec![0u8; y.len()],
                    };
                    let diff = ResidualPlane::Magnitude(Plane {
                        width: w,
                        height: h,
                        data,
                    });
                    o.residual = Some(keep_residual(diff, self.cfg.store.keep));
                }
                self.prev_luma = Some((p, y));
            }
            ResidualSource::Emulate => {
                if let Some(d) = f.decode_index {
                    let is_ref = self.is_reference(d) && !self.cfg.no_vectors;
                    let payload = if is_ref || sampled {
                        let picture = f.yuv().map_err(|e| format!("picture copy: {e}"))?;
                        let vectors = if self.cfg.no_vectors {
                            Vec::new()
                        } else {
                            f.vectors()
                        };
                        let is_idr = self.cfg.packets.get(d).is_some_and(|p| p.slice.is_idr);
                        Some(EmuFrame {
                            decode_index: d,
                            display_index: p,
                            is_reference: is_ref,
                            is_idr,
                            wanted: sampled,
                            picture,
                            vectors,
                            later_display_floor: self.plan.later_display_floor(d),
                        })
                    } else {
                        None
                    };
                    self.queue.arrive(d, payload);
                    self.send_ready();
                }
            }
            _ => {}
        }
        if let Some(o) = out {
            self.frames.insert(p, o);
        }
        if self.cfg.stop_after_last && p >= self.last_sampled {
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
    }
}

impl FrameSink for Sink<'_, '_> {
    fn packet_action(&mut self, index: usize, info: &PacketInfo) -> PacketAction {
        self.plan.action(index, info)
    }

    fn packet_sent(&mut self, index: usize, _info: &PacketInfo, skipped: bool) -> bool {
        if index < self.skipped.len() {
            self.skipped[index] = skipped;
        }
        let picture = self.pic.get(index).copied().unwrap_or(true);
        if self.cfg.residual == ResidualSource::Emulate && picture && !skipped {
            self.queue.expect(index);
        }
        (self.progress)(Progress {
            stage: Stage::Decode {
                pass: self.cfg.pass,
            },
            done: index + 1,
            total: self.cfg.packets.len(),
        })
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

/// The emulator's thread: estimates the frames it is sent (decode order) and hands what
/// `store` makes of the wanted ones to `into`, by display index. Storing runs on the worker
/// pool beside the next frame's estimate: only the estimates depend on each other.
pub(crate) fn run_emulator(rx: Receiver<EmuFrame>, store: PatchedStore, into: &ScoreJoin) {
    rayon::in_place_scope(|scope| {
        let mut emu = Emulator::new();
        for f in rx {
            let p = f.display_index;
            if let Some(est) = emu.push(f) {
                store.store_on(scope, p, est, into);
            }
        }
    });
}

/// Ends a pass's emulator thread: the frames still held for reordering go to it, its
/// channel closes, and it finishes storing its estimates.
pub(crate) fn finish_emulator(
    queue: &mut ReorderQueue<EmuFrame>,
    tx: Option<SyncSender<EmuFrame>>,
    worker: Option<ScopedJoinHandle<'_, ()>>,
    path: &str,
) -> Result<(), VideoError> {
    let rest = queue.drain_all();
    if let Some(tx) = tx {
        for f in rest {
            let _ = tx.send(f);
        }
    }
    match worker {
        Some(h) => h.join().map_err(|_| VideoError::Corrupt {
            path: path.into(),
            reason: "internal error in the residual emulator".into(),
        }),
        None => Ok(()),
    }
}

/// Runs one decode pass over the file for `plan`, with the emulator on a second thread
/// (its estimates go to `cfg.join`).
pub(crate) fn run_pass(
    path: &str,
    plan: &Plan,
    cfg: &PassConfig,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<PassResult, VideoError> {
    let mut src = Source::open(path)?;
    let n_packets = cfg.packets.len();
    let store = cfg.store;
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<EmuFrame>(1);
        let join = cfg.join;
        let worker = (cfg.residual == ResidualSource::Emulate)
            .then(|| scope.spawn(move || run_emulator(rx, store, join)));
        let mut sink = Sink {
            plan,
            cfg,
            pic: picture_packets(cfg.packets),
            skipped: vec![false; n_packets],
            produced: vec![false; n_packets],
            emu_tx: worker.is_some().then_some(tx),
            queue: ReorderQueue::default(),
            frames: BTreeMap::new(),
            outputs: Vec::new(),
            prev_luma: None,
            last_p: None,
            last_sampled: plan.frame_ids.iter().copied().max().unwrap_or(0).max(0) as usize,
            mismatch: None,
            first_size: None,
            sizes_changed: false,
            error: None,
            progress,
        };
        let run = decode_stream(&mut src, Decoding::Vectors, &mut sink);
        finish_emulator(&mut sink.queue, sink.emu_tx.take(), worker, path)?;
        let run = run?;
        if let Some(e) = sink.error {
            return Err(VideoError::Corrupt {
                path: path.into(),
                reason: e,
            });
        }
        let skipped_pictures = (0..n_packets)
            .filter(|&i| sink.skipped[i] && sink.pic[i] && !sink.produced[i])
            .count();
        Ok(PassResult {
            run,
            frames: sink.frames,
            outputs: sink.outputs,
            skipped_pictures,
            mismatch: sink.mismatch,
            sizes_changed: sink.sizes_changed,
        })
    })
}

/// The analysis' frames, and their RGB pictures when decoded, per frame id, moved out of one
/// pass' results (a repeated id, N < T, gets a copy). The residual comes from the pass itself
/// (frame difference) or from `residuals` (emulator, exact decoder).
fn sampled_frames(
    frame_ids: &[i32],
    outs: BTreeMap<usize, SampledOut>,
    mut residuals: HashMap<usize, ResidualPlane>,
) -> (Vec<SampledFrame>, Vec<RgbFrame>) {
    let index: HashMap<usize, usize> = outs.keys().enumerate().map(|(i, &p)| (p, i)).collect();
    let picks: Vec<usize> = frame_ids.iter().map(|&f| index[&(f as usize)]).collect();
    let mut unique = Vec::with_capacity(outs.len());
    let mut rgb = Vec::new();
    for (p, o) in outs {
        rgb.extend(o.rgb);
        unique.push(SampledFrame {
            frame_index: p,
            frame_type: o.frame_type,
            vector_count: o.vectors,
            motion: o.motion,
            residual: o.residual.or_else(|| residuals.remove(&p)),
        });
    }
    let rgb = if rgb.len() == unique.len() {
        pick_items(rgb, &picks)
    } else {
        Vec::new()
    };
    (pick_items(unique, &picks), rgb)
}

/// Stage 1's analysis of one video: frame ids, per sampled frame the motion grid and the
/// residual picture. See [`analyze_with`] for progress, RGB pictures and statistics.
pub fn analyze(path: &str, opts: &AnalyzeOptions) -> Result<Analysis, VideoError> {
    Ok(analyze_with(path, opts, &mut |_| true)?.analysis)
}

fn residual_note(src: ResidualSource, codec: &str, height: usize) -> String {
    match src {
        ResidualSource::Emulate => {
            let mut s = "residual: propagation emulator on stock FFmpeg (SPEC 2.2), an estimate of upstream's patched picture"
                .to_string();
            if codec == "hevc" {
                s.push_str("; HEVC exports no motion vectors, so each sampled frame gets the intra estimate alone");
            }
            if !round_trip_is_exact(height) {
                s.push_str("; odd height: the RGB round trip uses a float BT.601 approximation");
            }
            s
        }
        ResidualSource::FrameDiff => {
            "residual: |Y_t - Y_(t-1)| of the decoded luma (frame 0: zero)".into()
        }
        ResidualSource::None => "residual: none (motion only; w_res = 0)".into(),
        ResidualSource::Exact => "residual: exact, from the project's H.264 decoder in upstream's residual mode (SPEC 2.2); motion vectors from FFmpeg".into(),
    }
}

/// Like [`analyze`], with a progress callback (return `false` to cancel), the RGB pictures
/// of the sampled frames when `opts.with_rgb`, and decode statistics.
///
/// With `ResidualSource::Exact`, streams the project's decoder does not handle (or on which
/// it fails) fall back to the emulator: `residual_source` says what was used and the first
/// note says why.
pub fn analyze_with(
    path: &str,
    opts: &AnalyzeOptions,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<VideoAnalysis, VideoError> {
    match analyze_pass(path, opts, progress)? {
        Ok(a) => Ok(a),
        Err(why) => {
            let o = AnalyzeOptions {
                residual: ResidualSource::Emulate,
                ..opts.clone()
            };
            let mut a = match analyze_pass(path, &o, progress)? {
                Ok(a) => a,
                Err(e) => {
                    return Err(VideoError::Corrupt {
                        path: path.into(),
                        reason: e,
                    })
                }
            };
            a.analysis.notes.insert(0, fallback_note(&why));
            Ok(a)
        }
    }
}

/// The note recorded when the exact residual is not available for a stream.
pub(crate) fn fallback_note(why: &str) -> String {
    format!("no exact residual for this stream: {why}; using the emulator")
}

/// One analysis with the requested source; `Ok(Err(why))` when the exact path is not
/// possible for this stream.
fn analyze_pass(
    path: &str,
    opts: &AnalyzeOptions,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<Result<VideoAnalysis, String>, VideoError> {
    let t0 = Instant::now();
    let mut src = Source::open(path)?;
    src.require_supported()?;
    let is_exact = opts.residual == ResidualSource::Exact;
    if is_exact {
        if let Some(why) = exact::unsupported_reason(&src) {
            return Ok(Err(why));
        }
    }
    let info = src.info.clone();
    let scan: PacketScan = src.scan(&mut |done| {
        progress(Progress {
            stage: Stage::Scan,
            done,
            total: info.container_frame_count,
        })
    })?;
    drop(src);
    let scan_seconds = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();

    let pic = picture_packets(&scan.packets);
    let mut n = pic.iter().filter(|&&b| b).count();
    let mut notes = vec![residual_note(opts.residual, &info.codec, info.height)];
    let hevc = info.codec == "hevc";
    if hevc {
        notes
            .push("HEVC: stock FFmpeg exports no motion vectors; motion grids are all zero".into());
    }
    if let Some(e) = &scan.error {
        notes.push(format!(
            "truncated: {e}; frames after it are not counted (upstream stops there too)"
        ));
    }
    if let Some(k) = scan.packets.iter().position(|p| p.corrupt) {
        notes.push(format!(
            "truncated or damaged: video packet {k} is incomplete (the demuxer marked it corrupt)"
        ));
    }
    if info.container_frame_count_exact && scan.packets.len() < info.container_frame_count {
        notes.push(format!(
            "truncated: the container announces {} frames but only {} video packets could be read",
            info.container_frame_count,
            scan.packets.len()
        ));
    }
    let mut indexing = if opts.skip_unneeded {
        timestamp_ranks(&scan.packets)
            .map(Indexing::ByTimestamp)
            .unwrap_or(Indexing::ByOutputOrder)
    } else {
        Indexing::ByOutputOrder
    };
    let t = opts.sequence_length;
    let store = PatchedStore {
        luma: PatchedLuma::Stage1,
        keep: opts.residual_keep,
    };
    // Frames are scored as their residual is made when the run's knobs are given.
    let early = EarlyKnobs::of(opts.score_early, opts.residual_keep, opts.residual);
    let mut pass = 0;
    loop {
        pass += 1;
        if n == 0 {
            return Err(VideoError::Corrupt {
                path: path.into(),
                reason: "no frame could be decoded".into(),
            });
        }
        let mut plan = Plan::new(
            n,
            t,
            opts.sample_start_offset,
            opts.residual == ResidualSource::FrameDiff,
            indexing.clone(),
        );
        if opts.skip_unneeded {
            plan.compute_drops(&scan.packets);
        }
        let join = ScoreJoin::new(early);
        let cfg = PassConfig {
            join: &join,
            packets: &scan.packets,
            residual: if is_exact {
                ResidualSource::None
            } else {
                opts.residual
            },
            with_rgb: opts.with_rgb,
            no_vectors: hevc,
            store,
            pass,
            stop_after_last: false,
        };
        // The exact residual decodes on its own thread beside FFmpeg's pass (vectors).
        let wanted: BTreeSet<usize> = plan.frame_ids.iter().map(|&f| f as usize).collect();
        let threaded = spare_core();
        let (pass_result, exact_result) = std::thread::scope(|scope| {
            let worker = is_exact.then(|| {
                let (packets, wanted, join) = (&scan.packets, &wanted, cfg.join);
                scope.spawn(move || {
                    exact::decode_exact_into(path, packets, wanted, store, threaded, join)
                })
            });
            let r = run_pass(path, &plan, &cfg, progress);
            (r, worker.map(|h| h.join()))
        });
        let mut res = pass_result?;
        // The pass' threads are done: every residual picture is in.
        let residuals = join.take_residuals();
        let by_ts = matches!(plan.indexing, Indexing::ByTimestamp(_));
        let n_actual = if by_ts {
            res.outputs.len() + res.skipped_pictures
        } else {
            res.outputs.len()
        };
        let all_sampled = plan
            .frame_ids
            .iter()
            .all(|f| res.frames.contains_key(&(*f as usize)));
        let ok = res.mismatch.is_none() && n_actual == n && all_sampled;
        if !ok {
            if pass >= 3 {
                return Err(VideoError::Corrupt {
                    path: path.into(),
                    reason: format!(
                        "frame count unstable between passes ({n} predicted, {n_actual} decoded)"
                    ),
                });
            }
            notes.push(match &res.mismatch {
                Some(m) => format!("pass {pass}: {m}; decoded again counting frames in output order"),
                None => format!("pass {pass}: {n} frames predicted from packets, {n_actual} decoded; decoded again"),
            });
            indexing = Indexing::ByOutputOrder;
            // A pass stopped by a mismatch counted only part of the video: the prediction
            // stands until a pass in output order runs to the end.
            if res.mismatch.is_none() {
                n = n_actual;
            }
            continue;
        }
        if let Some(r) = exact_result {
            let r = match r {
                Ok(Ok(r)) => r,
                Ok(Err(f)) => return Ok(Err(f.reason().to_string())),
                Err(_) => return Ok(Err("internal error in the project's decoder".into())),
            };
            if r.reached_end && r.outputs != n {
                return Ok(Err(format!(
                    "the project's decoder outputs {} frames where FFmpeg outputs {n}",
                    r.outputs
                )));
            }
            for &fid in &wanted {
                let ours = r.types.get(&fid).copied().unwrap_or('?');
                let theirs = res.frames[&fid].frame_type.as_char();
                if theirs != '?' && ours != theirs {
                    return Ok(Err(format!(
                        "frame numbering differs from FFmpeg's at frame {fid} ({ours} vs {theirs})"
                    )));
                }
            }
        }
        if let Some(e) = &res.run.error {
            if scan.error.is_none() {
                notes.push(format!(
                    "truncated: {e}; upstream stops decoding there too (N = {n})"
                ));
            }
        }
        if res.sizes_changed {
            notes.push(
                "the picture size changes within the stream; grids follow each frame's size".into(),
            );
        }
        let (width, height) = res
            .frames
            .values()
            .next()
            .map(|f| (f.width, f.height))
            .unwrap_or((info.width, info.height));
        let (frames, rgb) =
            sampled_frames(&plan.frame_ids, std::mem::take(&mut res.frames), residuals);
        let stats = DecodeStats {
            passes: pass,
            packets: scan.packets.len(),
            frames_output: res.outputs.len(),
            frames_skipped: res.skipped_pictures,
            indexing: if by_ts { "timestamps" } else { "output order" },
            scan_seconds,
            decode_seconds: t1.elapsed().as_secs_f64(),
        };
        let analysis = Analysis {
            video: path.to_string(),
            codec: info.codec.clone(),
            width,
            height,
            frame_count: n,
            frame_ids: plan.frame_ids.clone(),
            frames,
            residual_source: opts.residual,
            notes,
        };
        return Ok(Ok(VideoAnalysis {
            analysis,
            info,
            rgb,
            stats,
        }));
    }
}
