//! The thin binary: parse the flags into a request (`cli.rs`), run the library,
//! print the error chain on one line, map the outcome to an exit code. Printing
//! happens here and in `cli.rs` only; the library returns typed errors.

mod cli;
mod fleet_cli;
mod run_options;

use std::process::ExitCode;

// `cli.rs` names the library's modules as `crate::…` (it lived in the library
// before); these imports keep those paths valid in the binary.
#[allow(unused_imports)]
use layergate::{
    advice, analyze, cache, cache_key, compare, error, gate, image, load, policy, publish, render,
    report, scan, source, text,
};

fn main() -> ExitCode {
    match cli::main() {
        Ok(code) => code.into(),
        Err(err) => {
            let code = exit_code(&err);
            let mut msg = format!("layergate: {err}");
            for cause in err.chain().skip(1) {
                let c = cause.to_string();
                if !msg.contains(&c) {
                    msg.push_str(": ");
                    msg.push_str(&c);
                }
            }
            // One line, whatever the causes carried.
            eprintln!("{}", msg.replace('\n', " "));
            ExitCode::from(code)
        }
    }
}

/// Every error that reaches `main` is a usage or input problem (exit 2); a
/// crossed rule is not an error and never gets here (exit 1 comes from the verdict).
fn exit_code(_err: &anyhow::Error) -> u8 {
    error::EXIT_ERROR
}
