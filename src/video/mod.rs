//! The only module that touches FFmpeg (through `ffmpeg-next`): opening containers,
//! decoding in presentation order, motion-vector export, residual sources and RGB frames.
//! No FFmpeg type crosses this module's boundary.
//!
//! Entry points: [`probe`], [`scan_packets`], [`analyze`] / [`analyze_with`] (stage 1),
//! [`analyze_offline`] (the offline precompute's frame mapping) and [`read_frames_rgb`].

mod analyze;
mod decode;
pub mod emulate;
pub mod error;
mod frames;
pub mod motion;
pub mod nal;
mod offline;
mod plan;
mod reorder;
pub mod rgb;
mod source;
pub mod yuv;

pub use analyze::{
    analyze, analyze_with, AnalyzeOptions, DecodeStats, Progress, Stage, VideoAnalysis,
};
pub use error::VideoError;
pub use frames::{read_frames_rgb, RgbFrame};
pub use offline::{analyze_offline, OfflineAnalysis, OfflineOptions, WindowChoice, WindowPick};
pub use source::{
    linked_versions, probe, scan_packets, set_ffmpeg_logging, PacketInfo, PacketScan, VideoInfo,
};
