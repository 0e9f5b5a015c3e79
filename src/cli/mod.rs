//! One module per subcommand; each parses its own arguments (clap derive) and calls the
//! library.

pub mod check;
pub mod env;
pub mod open;
pub mod output;
pub mod progress;
pub mod show;
