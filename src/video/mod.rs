//! The only module that touches FFmpeg (through `ffmpeg-next`): opening containers,
//! decoding in presentation order, motion-vector export, residual sources and RGB frames.
//! No FFmpeg type crosses this module's boundary; errors are [`VideoError`].
//!
//! Entry points: [`probe`] and [`scan_packets`] (container facts, per-packet sizes and
//! timestamps), [`analyze`] / [`analyze_with`] (stage 1: `N` decoded frames, frame ids,
//! motion grids, residual pictures, optionally the sampled RGB pictures from the same
//! decode), [`analyze_offline`] (the offline precompute's timestamp-based frame mapping and
//! window pick) and [`read_frames_rgb`] / [`read_frames_mapped`].
//!
//! How `analyze` decodes once: a demux-only scan lists the packets (cheap next to
//! decoding), reads the decoder's output order from the H.264 and HEVC slice headers (POCs
//! and the points where the decoder outputs everything held, as FFmpeg's decoders do; HEVC
//! pictures FFmpeg never outputs are no frames) and predicts `N` as the number of picture
//! packets. When every picture packet has its own timestamp and timestamps order the
//! pictures as the headers do, a packet's presentation index is its timestamp's rank, so
//! the sampled frames are known before decoding and non-reference pictures that no output
//! needs are dropped with `skip_frame` per packet (the offline precompute drops them too).
//! Where the headers cannot be read (interlaced H.264), ranks still name the frames but
//! every picture is decoded, so a timestamp out of order shows in the decode. The decode
//! checks the prediction (every frame leaves the decoder in rank order, frames out plus
//! frames dropped equals `N`); if it fails, the video is decoded again counting frames in
//! output order, as upstream does. Decoding
//! is single-threaded (frame threading exports wrong vectors at the flush) and stops at the
//! first demuxer or decoder error like upstream's reader, with a note in `Analysis.notes`.
//! The residual emulator runs on its own thread (its block rows on rayon), fed in decode
//! order. Batch runs give their scoring knobs (`score_early`): each sampled frame is then
//! scored as soon as both its motion and its residual are in, and only its patch scores are
//! kept, not the residual's samples.

mod analyze;
mod decode;
mod early;
pub mod emulate;
pub mod error;
mod exact;
mod frames;
mod hevc_order;
pub mod motion;
pub mod nal;
mod offline;
mod own;
mod plan;
mod reorder;
pub mod rgb;
mod source;
pub mod yuv;

pub use analyze::{
    analyze, analyze_with, AnalyzeOptions, DecodeStats, Progress, Stage, VideoAnalysis,
};
pub use error::VideoError;
pub use frames::{read_frames_mapped, read_frames_rgb, set_job_workers, RgbFrame};
pub use offline::{
    analyze_offline, peak_with_squares, OfflineAnalysis, OfflineOptions, WindowChoice, WindowPick,
};
pub use own::{decode_own, OwnPicture};
pub use source::{
    linked_versions, probe, scan_packets, set_ffmpeg_logging, PacketInfo, PacketScan, VideoInfo,
};
