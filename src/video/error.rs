//! Typed errors of the video module: each names the file and what failed.

use thiserror::Error;

/// Everything that can go wrong while reading a video.
#[derive(Debug, Error)]
pub enum VideoError {
    /// The file does not exist or cannot be read.
    #[error("{path}: cannot read file: {reason}")]
    Io { path: String, reason: String },
    /// The file exists but holds no bytes.
    #[error("{path}: empty file (0 bytes)")]
    EmptyFile { path: String },
    /// FFmpeg does not recognise the file as a container it can read.
    #[error("{path}: not a video FFmpeg can read ({reason})")]
    NotAVideo { path: String, reason: String },
    /// A container without any video stream.
    #[error("{path}: no video stream")]
    NoVideoStream { path: String },
    /// A video stream whose codec the analysis does not handle.
    #[error("{path}: unsupported codec `{codec}` (only H.264 and HEVC are analysed)")]
    UnsupportedCodec { path: String, codec: String },
    /// The decoder (or the converter) could not be set up.
    #[error("{path}: cannot open the {codec} decoder: {reason}")]
    DecoderOpen {
        path: String,
        codec: String,
        reason: String,
    },
    /// The stream is corrupt or truncated so badly that nothing usable came out.
    #[error("{path}: corrupt or truncated stream: {reason}")]
    Corrupt { path: String, reason: String },
    /// The progress callback asked to stop.
    #[error("{path}: cancelled")]
    Cancelled { path: String },
    /// A bad argument (for example an empty frame list where one is required).
    #[error("{path}: invalid request: {reason}")]
    InvalidRequest { path: String, reason: String },
}

impl VideoError {
    /// The path this error is about, when it names one.
    pub fn path(&self) -> Option<&str> {
        match self {
            VideoError::Io { path, .. }
            | VideoError::EmptyFile { path }
            | VideoError::NotAVideo { path, .. }
            | VideoError::NoVideoStream { path }
            | VideoError::UnsupportedCodec { path, .. }
            | VideoError::DecoderOpen { path, .. }
            | VideoError::Corrupt { path, .. }
            | VideoError::Cancelled { path }
            | VideoError::InvalidRequest { path, .. } => Some(path),
        }
    }

    /// True for failures caused by the codec rather than by the file (the
    /// pipelines log these to the "unsupported" list, SPEC 1.2).
    pub fn is_unsupported_codec(&self) -> bool {
        matches!(self, VideoError::UnsupportedCodec { .. })
    }
}
