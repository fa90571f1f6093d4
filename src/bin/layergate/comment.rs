//! `layergate comment FILE`: post a prepared Markdown file as the sticky comment.

use std::path::PathBuf;

use anyhow::{Context, Result};
use layergate::publish::{deliver, Env, Publication, Settings};
use layergate::Exit;

use crate::flags::publish::{print_delivery, CommentArgs};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Markdown body to post.
    pub file: PathBuf,
    #[command(flatten)]
    pub publish: CommentArgs,
}

pub fn run(args: &Args) -> Result<Exit> {
    let markdown = layergate::read_text_capped(&args.file, layergate::MAX_TEXT_BYTES)
        .with_context(|| format!("{}", args.file.display()))?;
    let publication = Publication {
        marker: args.publish.comment_key.clone(),
        markdown,
        passed: None,
        headline: String::new(),
        rules: Vec::new(),
        findings: Vec::new(),
        outputs: Vec::new(),
        size_kind: None,
        report_path: None,
    };
    let env = Env::from_process();
    // Posting is this command's whole job: a comment not posted is an error.
    let settings = Settings {
        comment_required: true,
        ..args.publish.settings()
    };
    let delivery = deliver(&settings, &publication, &env)?;
    print_delivery(&delivery)?;
    Ok(Exit::Pass)
}
