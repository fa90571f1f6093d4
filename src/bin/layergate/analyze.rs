//! `layergate analyze IMAGE`: the report of one image, in the format asked.

use std::path::PathBuf;

use anyhow::{Context, Result};
use layergate::Exit;

use crate::flags::image::ImageArgs;
use crate::flags::output::{write_json, write_output, Format, OutputArgs};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// docker-archive:PATH, oci-archive:PATH, oci:DIR[:TAG], docker://REF, `-`, or a path.
    pub image: String,
    #[command(flatten)]
    pub image_args: ImageArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    /// The Dockerfile the image was built from: advice then names its lines.
    #[arg(long, value_name = "FILE")]
    pub dockerfile: Option<PathBuf>,
}

pub fn run(args: &Args) -> Result<Exit> {
    let opts = args.image_args.open_options()?;
    let run = args.image_args.run_options();
    let loaded = layergate::load_reports(&[args.image.as_str()], &opts, &run);
    crate::flags::run::warn_once(&run);
    let mut report = loaded?.pop().context("internal: no report")?;
    if let Some(path) = &args.dockerfile {
        let text = layergate::read_text_capped(path, layergate::MAX_TEXT_BYTES)
            .with_context(|| format!("{}: cannot read Dockerfile", path.display()))?;
        layergate::locate_advice(&mut report, &text);
    }
    let body = match args.out.format {
        Format::Json => {
            return write_json(args.out.output.as_deref(), &report).map(|()| Exit::Pass)
        }
        Format::Text => layergate::analyze_text(&report),
        Format::Markdown => layergate::analyze_markdown(&report),
        Format::Html => layergate::analyze_html(&report),
    };
    write_output(args.out.output.as_deref(), &body)?;
    Ok(Exit::Pass)
}
