//! Command-line faces over the library: one module per subcommand.

pub mod doctor;
