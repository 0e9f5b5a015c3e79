//! Pure-Rust H.264 decoder for progressive 8-bit 4:2:0 streams (Constrained
//! Baseline, Main, High): CAVLC and CABAC, all intra and inter macroblock
//! types, spatial and temporal direct, explicit and implicit weighted
//! prediction, 8x8 transform, scaling matrices, multiple slices, cropping,
//! all POC types, reordering and memory management.
//!
//! One decoder, two outputs:
//!
//! - [`Mode::Normal`] reconstructs pictures bit-exactly as FFmpeg does.
//! - [`Mode::UpstreamResidual`] writes `clip(128 + residual)` where an inverse
//!   transform is added to its prediction (and nothing else changes: intra
//!   and inter prediction read the patched pictures, deblocking runs on them).
//!   Which blocks reach the inverse transform follows FFmpeg: blocks without
//!   coded coefficients keep their prediction, and skipped macroblocks rerun
//!   the transform over the all-zero blocks that FFmpeg's carried-over coded
//!   block state marks (see the `carry` module).
//!
//! The output mode is only known to `transform::add_residual`.
//!
//! [`Decoder::new`] parses on the caller's thread and reconstructs (prediction,
//! transform, deblocking) on a thread of its own, so [`Decoder::next_frame`]
//! may hand a picture out some packets after it was due; [`Decoder::flush`]
//! waits for the rest. [`Decoder::single_threaded`] gives the same pictures on
//! one thread.
//!
//! ```no_run
//! use h264::{Decoder, Mode};
//! let data = std::fs::read("clip.h264").unwrap(); // Annex B
//! let mut dec = Decoder::new(Mode::Normal);
//! dec.decode_annexb(&data).unwrap();
//! for pic in dec.flush().unwrap() {
//!     println!("{} {} {}", pic.poc, pic.pict_type, pic.md5());
//! }
//! ```
//!
//! For MP4-style input, load the `avcC` record with [`Decoder::set_avcc`]
//! (or split it yourself with [`parse_avcc`]) and feed samples with
//! [`Decoder::push_avcc_packet`].
//!
//! Interlaced coding (MBAFF, field pictures), 4:0:0/4:2:2/4:4:4, bit depths
//! above 8, lossless coding, FMO/ASO, SP/SI slices and data partitioning give
//! [`Error::Unsupported`]. Damaged streams give [`Error::Invalid`] naming the
//! frame and macroblock.

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
#[doc(hidden)]
pub mod fuzzing;
mod inter;
mod intra;
mod mb;
pub mod md5;
mod nal;
mod order;
mod params;
mod pipe;
mod recon;
mod slice;
mod syntax;
mod tables;
mod transform;

/// The RBSP bit reader and emulation-prevention removal, which HEVC syntax shares.
pub use bits::{unescape_rbsp, BitReader};
pub use decoder::{picture_md5, Decoder, Picture};
pub use error::{Error, Result};
pub use nal::{parse_avcc, split_annexb, split_avcc};
pub use order::OutputOrder;
pub use transform::Mode;
