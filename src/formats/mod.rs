//! On-disk formats and nothing else: arrays, meta files, datasets, names, discovery.

pub mod atomic;
pub mod dataset;
pub mod discover;
pub mod jpeg;
pub mod meta;
pub mod naming;
pub mod npy;
pub mod pyjson;
