//! `layergate check IMAGE`: one image against the policy's absolute limits (the same
//! path as `diff`, without a base).

use anyhow::Result;
use layergate::Exit;

use crate::flags::gate::VerdictArgs;
use crate::flags::image::PLATFORM_HELP;

#[derive(Debug, clap::Args)]
#[command(mut_arg("platform", |a| a
    .help(PLATFORM_HELP)
    .value_name("all|OS/ARCH[/VARIANT]")))]
pub struct Args {
    /// The image, or a saved report (`report:FILE` or `FILE.json`).
    pub image: String,
    #[command(flatten)]
    pub verdict: VerdictArgs,
}

pub fn run(args: Args) -> Result<Exit> {
    args.verdict.run(None, args.image)
}
