//! Pure-Rust H.264 decoder for progressive 8-bit 4:2:0 streams (Constrained
//! Baseline, Main, High).
//!
//! One decoder, two outputs: [`Mode::Normal`] reconstructs pictures as a
//! standard decoder does; [`Mode::UpstreamResidual`] writes `clip(128 +
//! residual)` wherever an inverse transform is added to a prediction.

#![allow(clippy::needless_range_loop, clippy::too_many_arguments)]

mod bits;
mod cabac;
mod cabac_tables;
mod carry;
mod cavlc;
mod deblock;
mod decoder;
mod derive;
mod dpb;
mod error;
mod frame;
mod inter;
mod intra;
mod mb;
pub mod md5;
mod nal;
mod params;
mod recon;
mod slice;
mod syntax;
mod tables;
mod transform;

pub use decoder::{picture_md5, Decoder, Picture};
pub use error::{Error, Result};
pub use nal::{parse_avcc, split_annexb, split_avcc};
pub use transform::Mode;
