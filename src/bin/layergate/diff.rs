//! `layergate diff BASE HEAD`: compare a pull request's image with its base and gate
//! on the policy (the same path as `check`, with a base).

use anyhow::Result;
use layergate::Exit;

use crate::flags::gate::GateArgs;
use crate::flags::image::{ImageArgs, PLATFORM_HELP};
use crate::flags::output::OutputArgs;
use crate::flags::publish::CommentArgs;

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
    pub gate: GateArgs,
    #[command(flatten)]
    pub image_args: ImageArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Where to post the verdict (sticky comment, job summary, CI reports).
    #[command(flatten)]
    pub publish: CommentArgs,
}

pub fn run(args: Args) -> Result<Exit> {
    crate::flags::gate::run(
        Some(args.base),
        args.head,
        &args.gate,
        &args.image_args,
        &args.out,
        &args.publish,
    )
}
