//! Findings: what `check`, `doctor` and the TUI report about data on disk.

pub mod asset_root;
pub mod doctor;
pub mod eval_log;
pub mod eval_lookup;
pub mod finding;
pub mod images;
pub mod paths;
pub mod positions;
pub mod records;
pub mod stage1;

pub use finding::{Finding, Severity};
