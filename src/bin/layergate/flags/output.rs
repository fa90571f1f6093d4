//! `--format` and `--output`, and the one place output is written.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::ValueEnum;

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
    /// A self-contained HTML page with a treemap (`render::html`).
    Html,
}

impl From<Format> for layergate::Format {
    fn from(f: Format) -> Self {
        match f {
            Format::Text => layergate::Format::Text,
            Format::Json => layergate::Format::Json,
            Format::Markdown => layergate::Format::Markdown,
            Format::Html => layergate::Format::Html,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the output to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Writes `value` as pretty JSON and a newline, the bytes `to_string_pretty`
/// gives, streamed as it is serialised instead of built as one string first (a
/// report of a million files is about 100 MB of JSON): to standard output, or to
/// FILE through the one writer.
pub fn write_json(path: Option<&Path>, value: &impl serde::Serialize) -> Result<()> {
    match path {
        None => {
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            serde_json::to_writer_pretty(&mut out, value)?;
            out.write_all(b"\n")?;
            out.flush()?;
        }
        Some(path) => {
            layergate::write_file_with(path, |w| {
                serde_json::to_writer_pretty(&mut *w, value)?;
                w.write_all(b"\n")
            })
            .with_context(|| format!("{}", path.display()))?;
        }
    }
    Ok(())
}

/// Writes to standard output, or to FILE through the one writer (`write.rs`: devices
/// written through, regular files replaced whole with their mode kept).
pub fn write_output(path: Option<&Path>, body: &str) -> Result<()> {
    match path {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(body.as_bytes())?;
            out.flush()?;
        }
        Some(path) => {
            layergate::write_file(path, body.as_bytes())
                .with_context(|| format!("{}", path.display()))?;
        }
    }
    Ok(())
}
