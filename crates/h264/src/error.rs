//! Error type of the decoder.

use std::fmt;

/// Errors returned by the decoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The stream uses a feature this decoder does not implement.
    Unsupported(String),
    /// The bitstream is malformed.
    Invalid(String),
}

impl Error {
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }
    pub(crate) fn unsupported(msg: impl Into<String>) -> Self {
        Error::Unsupported(msg.into())
    }
    /// Prefix the message with a location (frame / macroblock).
    pub(crate) fn at(self, what: impl fmt::Display) -> Self {
        match self {
            Error::Unsupported(m) => Error::Unsupported(format!("{what}: {m}")),
            Error::Invalid(m) => Error::Invalid(format!("{what}: {m}")),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unsupported(m) => write!(f, "unsupported H.264 stream: {m}"),
            Error::Invalid(m) => write!(f, "invalid H.264 stream: {m}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
