//! `layergate diff BASE HEAD`: compare a pull request's image with its base and gate
//! on the policy (the same path as `check`, with a base).

use anyhow::Result;
use layergate::Exit;

use crate::flags::gate::VerdictArgs;
use crate::flags::image::PLATFORM_HELP;

#[derive(Debug, clap::Args)]
#[command(mut_arg("platform", |a| a
    .help(PLATFORM_HELP)
    .value_name("all|OS/ARCH[/VARIANT]")))]
pub struct Args {
    /// The base image, or a saved report (`report:FILE` or `FILE.json`).
    pub base: String,
    /// The pull request's image, or a saved report.
    pub head: String,
    #[command(flatten)]
    pub verdict: VerdictArgs,
}

pub fn run(args: Args) -> Result<Exit> {
    args.verdict.run(Some(args.base), args.head)
}
