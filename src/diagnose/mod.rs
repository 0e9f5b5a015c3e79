//! Findings: what `check`, `doctor` and the TUI report about data on disk.

pub mod finding;

pub use finding::{Finding, Severity};
