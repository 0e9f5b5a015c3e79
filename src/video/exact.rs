//! The exact residual (SPEC 2.2, 2.7): the project's own H.264 decoder (`codecscope-h264`)
//! in upstream's residual mode, fed the demuxed packets as bytes (AVCC with the `avcC`
//! record from MP4-style containers, Annex B otherwise). Pictures leave it in display order
//! and are numbered as FFmpeg numbers its output frames (stage 1's `N`).
//!
//! Every picture up to the last wanted one is decoded: the patched pictures propagate through
//! the references, and FFmpeg's carried-over coded-block state crosses pictures, so a picture
//! left out (even a non-reference one) changes what later ones output. Measured on the
//! fixture: leaving out the unsampled non-reference pictures made 24 of the 64 sampled
//! frames differ from upstream (28 to 3425 pixels each). Those pictures are parsed but not
//! reconstructed instead: their syntax is all the carried state depends on. Decoding stops
//! once the last wanted picture is out.

use std::collections::{BTreeSet, HashMap};

use ffmpeg_next as ff;
use h264::{Decoder, Mode, Picture};

use super::analyze::{PatchedLuma, PatchedStore};
use super::early::ScoreJoin;
use super::nal::NalFraming;
use super::plan::timestamp_ranks;
use super::source::{PacketInfo, Source};
use super::yuv::YuvFrame;
use crate::analysis::ResidualPlane;

/// Why the exact path gave up.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExactFail {
    /// The stream uses something the project's decoder does not implement.
    Unsupported(String),
    /// The decoder (or the demuxer) failed before every wanted picture was out.
    Failed(String),
}

impl ExactFail {
    pub fn reason(&self) -> &str {
        match self {
            ExactFail::Unsupported(m) | ExactFail::Failed(m) => m,
        }
    }
}

/// The wanted pictures of one exact decode.
#[derive(Debug, Default)]
pub(crate) struct ExactResult {
    /// Per presentation index: the mapped luma (stage 1's view or the raw Y plane), as the
    /// analysis keeps it (whole or sampled).
    pub planes: HashMap<usize, ResidualPlane>,
    /// Per presentation index: the picture type the decoder reports.
    pub types: HashMap<usize, char>,
    /// Frames output (excluding pictures the demuxer marked for discard).
    pub outputs: usize,
    /// The whole stream was decoded (so `outputs` is the stream's frame count).
    pub reached_end: bool,
}

/// Why an opened stream cannot take the exact path, judged from the container and the
/// parameter sets in the extradata (`None`: try it; the decode may still refuse later).
pub(crate) fn unsupported_reason(src: &Source) -> Option<String> {
    let info = &src.info;
    if info.codec != "h264" {
        return Some(format!(
            "codec {} (the project's decoder reads H.264 only)",
            info.codec
        ));
    }
    let pf = info.pixel_format.as_str();
    if !pf.is_empty() && pf != "yuv420p" && pf != "yuvj420p" {
        return Some(format!(
            "pixel format {pf} (the project's decoder reads 8-bit 4:2:0 only)"
        ));
    }
    if let NalFraming::LengthPrefixed(_) = src.framing {
        // Only the parameter sets are read: no picture, no reconstruction thread.
        let mut d = Decoder::single_threaded(Mode::UpstreamResidual);
        if let Err(h264::Error::Unsupported(m)) = d.set_avcc(&src.extradata) {
            return Some(m);
        }
    }
    None
}

/// The project's decoder for an opened H.264 stream: parameter sets from the `avcC` record
/// when packets are length-prefixed, and pictures no larger than the container's (rounded
/// up to whole macroblocks), so a hostile parameter set cannot make the picture buffer huge.
/// `threaded`: reconstruction on a thread of its own (worth it where a core would idle).
pub(crate) fn open_decoder(
    src: &Source,
    mode: Mode,
    threaded: bool,
) -> Result<Decoder, h264::Error> {
    let mut dec = if threaded {
        Decoder::new(mode)
    } else {
        Decoder::single_threaded(mode)
    };
    let (w, h) = (src.info.width.div_ceil(16), src.info.height.div_ceil(16));
    if w > 0 && h > 0 {
        dec.set_max_macroblocks(w * h);
    }
    if let NalFraming::LengthPrefixed(_) = src.framing {
        dec.set_avcc(&src.extradata)?;
    }
    Ok(dec)
}

/// Output position -> presentation index (`None`: a picture the demuxer marked for discard,
/// which FFmpeg decodes but never outputs). Built from the packets' timestamps when every
/// slice packet has a distinct one; otherwise output order is presentation order.
fn output_map(packets: &[PacketInfo]) -> Option<Vec<Option<usize>>> {
    let mut keyed = Vec::new();
    for p in packets.iter().filter(|p| p.slice.has_slice) {
        keyed.push((p.pts?, p.discard));
    }
    if !keyed.iter().any(|k| k.1) {
        return None;
    }
    keyed.sort_unstable();
    if keyed.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    let mut next = 0;
    Some(
        keyed
            .iter()
            .map(|&(_, discard)| {
                (!discard).then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect(),
    )
}

fn to_yuv(p: Picture) -> YuvFrame {
    YuvFrame {
        width: p.width,
        height: p.height,
        y: p.y,
        u: p.u,
        v: p.v,
    }
}

struct Collector<'a, 's, 'scope> {
    wanted: &'a BTreeSet<usize>,
    map: Option<Vec<Option<usize>>>,
    raw_outputs: usize,
    store: PatchedStore,
    /// Storing a wanted picture runs on the pool while the decoder goes on.
    scope: &'s rayon::Scope<'scope>,
    planes: &'scope ScoreJoin,
    /// `types` names every wanted picture handed to storing so far.
    result: ExactResult,
    /// A wanted picture came out unreconstructed (the timestamp ranks were wrong).
    lost_wanted: bool,
}

impl Collector<'_, '_, '_> {
    fn take(&mut self, pic: Picture) {
        let k = self.raw_outputs;
        self.raw_outputs += 1;
        let p = match &self.map {
            Some(m) => match m.get(k).copied().flatten() {
                Some(p) => p,
                None if k < m.len() => return,
                None => self.result.outputs,
            },
            None => k,
        };
        self.result.outputs += 1;
        if self.wanted.contains(&p) {
            if !pic.reconstructed {
                self.lost_wanted = true;
                return;
            }
            self.result.types.insert(p, pic.pict_type);
            self.store.store_on(self.scope, p, to_yuv(pic), self.planes);
        }
    }

    fn done(&self) -> bool {
        self.result.types.len() == self.wanted.len()
    }
}

/// Decodes `path` with the project's decoder in residual mode until every `wanted`
/// presentation index is out, returning those pictures as `store` keeps them. `packets` is the
/// demux-only scan of the same file (for discard marks and timestamps). `threaded` as for
/// [`open_decoder`].
pub(crate) fn decode_exact(
    path: &str,
    packets: &[PacketInfo],
    wanted: &BTreeSet<usize>,
    store: PatchedStore,
    threaded: bool,
) -> Result<ExactResult, ExactFail> {
    let planes = ScoreJoin::new(None);
    let mut result = decode_exact_into(path, packets, wanted, store, threaded, &planes)?;
    result.planes = planes.take_residuals();
    Ok(result)
}

/// [`decode_exact`] handing each stored picture to `into` as it is made (the result's
/// `planes` stay empty).
pub(crate) fn decode_exact_into(
    path: &str,
    packets: &[PacketInfo],
    wanted: &BTreeSet<usize>,
    store: PatchedStore,
    threaded: bool,
    into: &ScoreJoin,
) -> Result<ExactResult, ExactFail> {
    let skippable = unwanted_non_reference(packets, wanted);
    let pass = |parse_only| decode_pass(path, packets, wanted, store, parse_only, threaded, into);
    let result = match pass(skippable.as_deref()) {
        // The scan named a wanted picture wrongly: make every picture's pixels.
        Err(PassFail::LostWanted) => pass(None),
        other => other,
    };
    result.map_err(|e| match e {
        PassFail::Exact(e) => e,
        PassFail::LostWanted => {
            ExactFail::Failed("a sampled picture was left unreconstructed".into())
        }
    })
}

/// Per video packet: a non-reference picture whose presentation index (the rank of its
/// timestamp) is not wanted, so its pixels need not be made. `None` when frames cannot be
/// named before decoding.
fn unwanted_non_reference(packets: &[PacketInfo], wanted: &BTreeSet<usize>) -> Option<Vec<bool>> {
    let ranks = timestamp_ranks(packets)?;
    Some(
        packets
            .iter()
            .zip(ranks)
            .map(|(p, rank)| {
                p.slice.has_slice
                    && !p.slice.is_reference
                    && rank.is_some_and(|r| !wanted.contains(&r))
            })
            .collect(),
    )
}

enum PassFail {
    Exact(ExactFail),
    LostWanted,
}

impl From<ExactFail> for PassFail {
    fn from(e: ExactFail) -> Self {
        PassFail::Exact(e)
    }
}

fn decode_pass(
    path: &str,
    packets: &[PacketInfo],
    wanted: &BTreeSet<usize>,
    store: PatchedStore,
    parse_only: Option<&[bool]>,
    threaded: bool,
    into: &ScoreJoin,
) -> Result<ExactResult, PassFail> {
    rayon::in_place_scope(|scope| {
        decode_pictures(
            path, packets, wanted, parse_only, store, threaded, scope, into,
        )
    })
}

/// [`decode_pass`] up to the handing of the wanted pictures to storing in `scope`.
#[allow(clippy::too_many_arguments)]
fn decode_pictures<'scope>(
    path: &str,
    packets: &[PacketInfo],
    wanted: &BTreeSet<usize>,
    parse_only: Option<&[bool]>,
    store: PatchedStore,
    threaded: bool,
    scope: &rayon::Scope<'scope>,
    planes: &'scope ScoreJoin,
) -> Result<ExactResult, PassFail> {
    let fail = |e: String| ExactFail::Failed(e);
    let mut src = Source::open(path).map_err(|e| fail(e.to_string()))?;
    if let Some(why) = unsupported_reason(&src) {
        return Err(ExactFail::Unsupported(why).into());
    }
    let h264_err = |e: h264::Error| match e {
        h264::Error::Unsupported(m) => ExactFail::Unsupported(m),
        h264::Error::Invalid(m) => ExactFail::Failed(format!("invalid H.264 data: {m}")),
    };
    let mut dec = open_decoder(&src, Mode::UpstreamResidual, threaded).map_err(h264_err)?;
    // The raw patched Y plane never reads chroma.
    dec.set_luma_only(store.luma == PatchedLuma::Raw);
    let mut col = Collector {
        wanted,
        map: output_map(packets),
        raw_outputs: 0,
        store,
        scope,
        planes,
        result: ExactResult::default(),
        lost_wanted: false,
    };
    let idx = src.info.stream_index;
    let mut video_packets = 0;
    let mut ended_by_error = None;
    loop {
        let mut packet = ff::Packet::empty();
        match packet.read(&mut src.input) {
            Ok(()) => {}
            Err(ff::Error::Eof) => break,
            Err(e) => {
                // Upstream's reader stops at the first demuxer error too.
                ended_by_error = Some(format!("demuxer error: {e}"));
                break;
            }
        }
        if packet.stream() != idx {
            continue;
        }
        let k = video_packets;
        video_packets += 1;
        let Some(data) = packet.data() else { continue };
        dec.set_parse_only_non_reference(
            parse_only.is_some_and(|s| s.get(k).copied().unwrap_or(false)),
        );
        let r = match src.framing {
            NalFraming::LengthPrefixed(_) => dec.push_avcc_packet(data),
            NalFraming::AnnexB => dec.decode_annexb(data),
        };
        if let Err(e) = r {
            let e = h264_err(e);
            if matches!(e, ExactFail::Unsupported(_)) {
                return Err(e.into());
            }
            ended_by_error = Some(e.reason().to_string());
            break;
        }
        while let Some(pic) = dec.next_frame() {
            col.take(pic);
        }
        if col.lost_wanted {
            return Err(PassFail::LostWanted);
        }
        if col.done() {
            return Ok(col.result);
        }
    }
    match dec.flush() {
        Ok(rest) => {
            for pic in rest {
                col.take(pic);
            }
        }
        Err(e) => {
            let e = h264_err(e);
            if matches!(e, ExactFail::Unsupported(_)) {
                return Err(e.into());
            }
            ended_by_error.get_or_insert(e.reason().to_string());
        }
    }
    if col.lost_wanted {
        return Err(PassFail::LostWanted);
    }
    col.result.reached_end = ended_by_error.is_none();
    if col.done() {
        return Ok(col.result);
    }
    let missing = wanted
        .iter()
        .filter(|p| !col.result.types.contains_key(p))
        .count();
    Err(PassFail::Exact(ExactFail::Failed(match ended_by_error {
        Some(e) => format!(
            "the project's decoder stopped after {} frames ({e}) with {missing} sampled frames still missing",
            col.result.outputs
        ),
        None => format!(
            "the project's decoder output {} frames, {missing} sampled frames missing",
            col.result.outputs
        ),
    })))
}
