//! Flag groups several subcommands flatten into theirs, each with what turns it
//! into the library's plain values (clap stays in the binary).

pub mod gate;
pub mod image;
pub mod output;
pub mod progress;
pub mod publish;
pub mod run;
pub mod suggest;
pub mod verdicts;
