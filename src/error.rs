//! Exit codes. A policy violation is not an error (it is a finding, exit 1);
//! every error the library returns is a usage or input problem (exit 2). The
//! binary maps errors to these codes; the library only names them.

/// All rules passed (warnings allowed).
pub const EXIT_PASS: u8 = 0;
/// A rule with severity `fail` was crossed.
pub const EXIT_POLICY: u8 = 1;
/// Bad usage or input: the message names the thing.
pub const EXIT_ERROR: u8 = 2;
