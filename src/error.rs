//! Exit codes. A policy violation is not an error (it is a finding, exit 1);
//! every error that reaches `main` is a usage or input problem (exit 2).

/// All rules passed (warnings allowed).
pub const EXIT_PASS: u8 = 0;
/// A rule with severity `fail` was crossed.
pub const EXIT_POLICY: u8 = 1;
/// Bad usage or input: the message names the thing.
pub const EXIT_ERROR: u8 = 2;

pub fn exit_code(_err: &anyhow::Error) -> u8 {
    EXIT_ERROR
}
