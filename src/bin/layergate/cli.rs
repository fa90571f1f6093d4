//! The command line's shape: the subcommands and where each one runs. Flags live
//! with their subcommand (`analyze.rs`, `diff.rs`, …) or, when several share them,
//! in `flags/`.

use anyhow::Result;
use clap::{Parser, Subcommand};
use layergate::Exit;

#[derive(Debug, Parser)]
#[command(
    name = "layergate",
    version,
    about = "Keep container images lean and cache-friendly, enforced in CI"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report one image: layers, waste, duplicate files, merge savings.
    Analyze(crate::analyze::Args),
    /// Compare a base image with a pull request's image and gate on a policy.
    Diff(crate::diff::Args),
    /// Check one image against a policy's absolute limits (like dive's CI mode).
    Check(crate::check::Args),
    /// Post a prepared Markdown file as the sticky PR/MR comment (and job summary).
    Comment(crate::comment::Args),
    /// Write a build cache key file per download URL (ETag, Last-Modified, or sha256), and
    /// with --dockerfile add a COPY of it before each download step.
    CacheKey(crate::cache_key::Args),
    /// One verdict from the JSON verdicts of several diff/check runs (a CI matrix).
    Merge(crate::merge::Args),
    /// The size history file: `history append` records analysed commits.
    #[command(subcommand)]
    History(crate::history::Command),
    /// Every platform of a multi-arch image: parity, and a base compared per platform.
    Platforms(crate::platforms::Args),
    /// Rewrite the Dockerfile an image was built from so the advice is applied (a diff,
    /// --write, --prove).
    Fix(crate::fix::Args),
    /// Write a commented starter policy for an ecosystem (never overwrites a file).
    Init(crate::init::Args),
}

pub fn main() -> Result<Exit> {
    // Empty means unset; a bad number is one line and exit 2, before anything runs.
    layergate::prepare_environment()?;
    run(Cli::parse())
}

/// Runs one subcommand; the `u8` is the process's exit code.
pub fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Analyze(args) => crate::analyze::run(&args),
        Command::Diff(args) => crate::diff::run(args),
        Command::Check(args) => crate::check::run(args),
        Command::Comment(args) => crate::comment::run(&args),
        Command::CacheKey(args) => crate::cache_key::run(args),
        Command::Fix(args) => crate::fix::run(args),
        Command::Merge(args) => crate::merge::run(&args),
        Command::History(cmd) => crate::history::run(&cmd),
        Command::Platforms(args) => crate::platforms::run(&args),
        Command::Init(args) => crate::init::run(&args),
    }
}
