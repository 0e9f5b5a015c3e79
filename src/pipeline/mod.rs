//! Batch runners for stage 1, stage 2 and the offline eval assets: sharded, parallel,
//! resumable, with atomic writes and failure logs.

pub mod jobs;
pub mod logs;
pub mod names;
pub mod offline;
pub mod runner;
pub mod shard;
pub mod stage1;
pub mod stage2;
