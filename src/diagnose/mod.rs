//! Findings: what `check`, `doctor` and the TUI report about data on disk.

pub mod asset_root;
pub mod doctor;
pub mod eval_log;
pub mod eval_lookup;
pub mod finding;

pub use finding::{Finding, Severity};
