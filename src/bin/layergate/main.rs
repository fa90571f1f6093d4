//! The `layergate` binary: a plain consumer of the library. `cli.rs` names the
//! subcommands, one file each (`analyze.rs`, `diff.rs`, …) holds its flags and its
//! call into the library, and `flags/` holds the flag groups several share. Only
//! the binary prints; the library returns typed errors, which `main` prints on one
//! line and maps to exit code 2.
//!
//! Adding a subcommand: a file `NAME.rs` with `Args` and `run(&Args) -> Result<Exit>`,
//! one `mod NAME;` below, one arm in `cli::Command` and one in `cli::run`.

mod analyze;
mod cache_key;
mod check;
mod cli;
mod comment;
mod diff;
mod fix;
mod flags;
mod history;
mod init;
mod merge;
mod platforms;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::main() {
        Ok(exit) => exit.code().into(),
        Err(err) => {
            let mut msg = format!("layergate: {err}");
            for cause in err.chain().skip(1) {
                let c = cause.to_string();
                if !msg.contains(&c) {
                    msg.push_str(": ");
                    msg.push_str(&c);
                }
            }
            // One line, whatever the causes carried.
            // Tokens and URL passwords never reach the log, whatever a server echoed.
            eprintln!("{}", layergate::scrub(&msg.replace('\n', " ")));
            // Every error that reaches `main` is a usage or input problem; a crossed
            // rule is not an error and never gets here (exit 1 comes from the verdict).
            ExitCode::from(layergate::Exit::Error.code())
        }
    }
}
