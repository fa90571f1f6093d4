//! `layergate cache-key`: a build cache key file per download URL, and with
//! `--dockerfile` the rewrite that COPYs each key before its download step.

use std::io::Write;
use std::path::PathBuf;

use std::fmt::Write as _;

use anyhow::Result;
use layergate::Exit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// URLs to key (with --dockerfile: taken from the Dockerfile's download steps).
    #[arg(required_unless_present = "dockerfile", conflicts_with = "dockerfile")]
    pub urls: Vec<String>,
    /// Folder of the key files (with --dockerfile: relative to the Dockerfile's folder,
    /// the build context).
    #[arg(long, default_value = ".cache-keys", value_name = "DIR")]
    pub dir: PathBuf,
    /// Find the downloads in this Dockerfile and print the rewrite that keys them.
    #[arg(long, value_name = "FILE")]
    pub dockerfile: Option<PathBuf>,
    /// Apply the Dockerfile rewrite (default: print it as a diff).
    #[arg(long, requires = "dockerfile")]
    pub write: bool,
    /// Key on the sha256 of the body (servers with no ETag or Last-Modified); pins
    /// `ADD <url>` steps with --checksum.
    #[arg(long)]
    pub hash: bool,
    /// Seconds to wait for each server.
    #[arg(long, default_value = "30", value_name = "SECONDS", value_parser = parse_seconds)]
    pub timeout: std::time::Duration,
}

/// A positive, finite number of seconds below a day: anything else is a usage error,
/// never a panic in `Duration`.
fn parse_seconds(text: &str) -> std::result::Result<std::time::Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= 86_400.0) {
        return Err(format!("{text}: seconds must be above 0 and at most 86400"));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

pub fn run(args: Args) -> Result<Exit> {
    use layergate::{CacheKeyLine as Line, CacheKeyWritten as Written};
    let netrc_path = std::env::var_os("NETRC")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".netrc")));
    let request = layergate::CacheKeyRequest {
        urls: args.urls,
        dir: args.dir,
        dockerfile: args.dockerfile,
        write: args.write,
        fetch: layergate::FetchOptions {
            timeout: args.timeout,
            retry: layergate::RetryPolicy::from_process()?,
            hash: args.hash,
            netrc: netrc_path.and_then(|p| std::fs::read_to_string(p).ok()),
        },
    };
    let outcome = layergate::run_cache_key(&request)?;
    // Built whole, then scrubbed: a URL may carry user:password.
    let mut stdout = String::new();
    for line in &outcome.lines {
        match line {
            Line::Key { url, written } => {
                let path = written.path().display();
                match written {
                    Written::New { .. } => writeln!(stdout, "new        {path}  {url}")?,
                    Written::Unchanged { .. } => writeln!(stdout, "unchanged  {path}  {url}")?,
                    Written::Changed { old, new, .. } => {
                        writeln!(stdout, "changed    {path}  {url}  ({old} → {new})")?
                    }
                }
            }
            Line::Failed(e) => eprintln!(
                "layergate: cache-key: {}",
                layergate::scrub(&e.to_string())
            ),
            Line::Unresolvable { line, url, variable } => writeln!(
                stdout,
                "skipped    line {line}: {url}: ${variable} has no ARG default, so the URL cannot be resolved"
            )?,
            Line::Pinned { line, url, sha256 } => writeln!(
                stdout,
                "pinned     line {line}: ADD --checksum=sha256:{sha256} {url} (no key file needed; needs BuildKit)"
            )?,
            Line::AddUnpinned { line, url } => writeln!(
                stdout,
                "unpinned   line {line}: ADD {url} is revalidated by the builder; --hash pins it with --checksum"
            )?,
        }
    }
    if let Some(diff) = &outcome.diff {
        if outcome.applied {
            writeln!(stdout, "applied the rewrite below")?;
        }
        write!(stdout, "{diff}")?;
    }
    std::io::stdout()
        .lock()
        .write_all(layergate::scrub(&stdout).as_bytes())?;
    Ok(if outcome.failed() {
        Exit::Error
    } else {
        Exit::Pass
    })
}
