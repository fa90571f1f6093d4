//! Command-line surface: clap structs, validated into options, dispatched to the
//! library. This is an edge: it reads files and writes output; the work is elsewhere.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use crate::analyze::{analyze, Job};
use crate::error::EXIT_PASS;
use crate::image::Platform;
use crate::report::Report;
use crate::scan::Limits;
use crate::source::{open_local, ImageRef, OpenOptions};

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
    Analyze(AnalyzeArgs),
    /// Post a prepared Markdown file as the sticky PR/MR comment (and job summary).
    Comment(CommentCmdArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    /// Platform to pick from a multi-arch image: OS/ARCH[/VARIANT] (default: the host's).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the output to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// docker-archive:PATH, oci-archive:PATH, oci:DIR[:TAG], docker://REF, `-`, or a path.
    pub image: String,
    #[command(flatten)]
    pub image_args: ImageArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Debug, clap::Args)]
pub struct CommentCmdArgs {
    /// The Markdown body to post.
    pub file: PathBuf,
    #[command(flatten)]
    pub publish: crate::publish::CommentArgs,
}

pub fn main() -> Result<u8> {
    let cli = Cli::parse();
    run(cli)
}

pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Analyze(args) => {
            let opts = open_options(&args.image_args)?;
            let report = load_reports(&[args.image.as_str()], &opts)?.remove(0);
            let body = match args.out.format {
                Format::Json => serde_json::to_string_pretty(&report)? + "\n",
                Format::Text => crate::render::analyze_text(&report),
                Format::Markdown => crate::render::analyze_markdown(&report),
            };
            write_output(args.out.output.as_deref(), &body)?;
            Ok(EXIT_PASS)
        }
        Command::Comment(args) => {
            let markdown = std::fs::read_to_string(&args.file)
                .with_context(|| format!("{}", args.file.display()))?;
            let publication = crate::publish::Publication {
                key: args.publish.comment_key.clone(),
                markdown,
                passed: None,
                headline: String::new(),
                rules: Vec::new(),
                findings: Vec::new(),
                metrics: Vec::new(),
                report_path: None,
            };
            let env = crate::publish::Env::from_process();
            let delivery = crate::publish::deliver(&args.publish, &publication, &env)?;
            print_delivery(&delivery)?;
            Ok(EXIT_PASS)
        }
    }
}

/// Annotations go to standard output (GitHub Actions reads workflow commands
/// there), warnings and what happened to the comment to standard error.
pub fn print_delivery(delivery: &crate::publish::Delivery) -> Result<()> {
    use crate::publish::CommentOutcome;
    if !delivery.annotations.is_empty() {
        write_output(None, &(delivery.annotations.join("\n") + "\n"))?;
    }
    for w in &delivery.warnings {
        eprintln!("layergate: warning: {w}");
    }
    match &delivery.comment {
        CommentOutcome::Created { url, .. } => eprintln!("layergate: comment created: {url}"),
        CommentOutcome::Updated { url, .. } => eprintln!("layergate: comment updated: {url}"),
        CommentOutcome::NotRequested | CommentOutcome::Skipped { .. } => {}
    }
    Ok(())
}

pub fn open_options(args: &ImageArgs) -> Result<OpenOptions> {
    let platform = args.platform.as_deref().map(Platform::parse).transpose()?;
    Ok(OpenOptions { platform })
}

/// Reads every reference (images or saved reports) and analyses the images
/// together, so layers they share are scanned once.
pub fn load_reports(refs: &[&str], opts: &OpenOptions) -> Result<Vec<Report>> {
    let parsed: Vec<ImageRef> = refs
        .iter()
        .map(|r| ImageRef::parse(r))
        .collect::<Result<_, _>>()?;
    let mut opened = Vec::new();
    for r in &parsed {
        if let ImageRef::Report(path) = r {
            opened.push(Err(read_report(path)?));
        } else {
            opened.push(Ok(open_local(r, opts)?));
        }
    }
    let jobs: Vec<Job<'_>> = opened
        .iter()
        .filter_map(|o| o.as_ref().ok())
        .map(|o| Job {
            image: &o.image,
            blobs: o.blobs.as_ref(),
        })
        .collect();
    let mut scanned = analyze(&jobs, &Limits::default())?.into_iter();
    let mut out = Vec::new();
    for o in opened {
        match o {
            Ok(_) => out.push(scanned.next().context("internal: report count")?),
            Err(report) => out.push(report),
        }
    }
    Ok(out)
}

fn read_report(path: &Path) -> Result<Report> {
    let bytes = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
    let report: Report = crate::image::parse_json(&bytes)
        .map_err(|msg| anyhow::anyhow!("{}: not a layergate report: {msg}", path.display()))?;
    if report.schema != crate::report::SCHEMA {
        bail!(
            "{}: report schema {} (this layergate reads schema {})",
            path.display(),
            report.schema,
            crate::report::SCHEMA
        );
    }
    Ok(report)
}

/// Writes to standard output, or to FILE through a temporary file renamed into
/// place, so a failed run never leaves a half-written file behind.
pub fn write_output(path: Option<&Path>, body: &str) -> Result<()> {
    match path {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(body.as_bytes())?;
            out.flush()?;
        }
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let mut tmp = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("{}", path.display()))?;
            tmp.write_all(body.as_bytes())?;
            tmp.persist(path)
                .with_context(|| format!("{}", path.display()))?;
        }
    }
    Ok(())
}
