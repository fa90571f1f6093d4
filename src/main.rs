//! The thin binary: parse, run, print the error chain, map to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    match layergate::cli::main() {
        Ok(code) => code.into(),
        Err(err) => {
            let code = layergate::error::exit_code(&err);
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
