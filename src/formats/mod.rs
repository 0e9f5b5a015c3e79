//! On-disk formats and nothing else: arrays, meta files, datasets, names, discovery.

pub mod naming;
