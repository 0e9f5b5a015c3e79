//! One module per subcommand; each parses its own arguments (clap derive) and calls the
//! library.

pub mod analyze;
pub mod check;
pub mod decode;
pub mod doctor;
pub mod env;
pub mod knobs;
pub mod open;
pub mod output;
pub mod pack;
pub mod precompute;
pub mod progress;
pub mod select;
pub mod show;
