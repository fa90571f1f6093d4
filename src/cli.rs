//! Command-line surface (part of the binary, not the library): clap structs,
//! validated into one request (`gate::Request`, `OpenOptions`) before anything
//! runs, dispatched to the library, and the only place that prints or writes
//! output. The library returns typed errors; `main.rs` maps them to exit codes.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use crate::error::{EXIT_ERROR, EXIT_PASS};
use crate::gate::{Request, Template};
use crate::image::Platform;
use crate::load::load_reports;
use crate::policy::{Policy, PolicyError};
use crate::source::OpenOptions;

pub mod comment_args;

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
    /// Compare a base image with a pull request's image and gate on a policy.
    Diff(DiffArgs),
    /// Check one image against a policy's absolute limits (like dive's CI mode).
    Check(CheckArgs),
    /// Post a prepared Markdown file as the sticky PR/MR comment (and job summary).
    Comment(CommentCmdArgs),
    /// Write a build cache key file per download URL (ETag, Last-Modified, or sha256), and
    /// with --dockerfile add a COPY of it before each download step.
    CacheKey(CacheKeyArgs),
    /// One verdict from the JSON verdicts of several diff/check runs (a CI matrix).
    Merge(crate::fleet_cli::MergeArgs),
    /// The size history file: `history append` records analysed commits.
    #[command(subcommand)]
    History(crate::fleet_cli::HistoryCmd),
    /// Every platform of a multi-arch image: parity, and a base compared per platform.
    Platforms(crate::fleet_cli::PlatformsArgs),
    /// Write a commented starter policy for an ecosystem (never overwrites a file).
    Init(InitArgs),
}

#[derive(Debug, clap::Args)]
pub struct CacheKeyArgs {
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

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The ecosystem whose caches and package lists the policy forbids.
    #[arg(long, alias = "flavor", value_enum, default_value = "generic")]
    pub flavour: crate::policy::Flavour,
    /// Where to write the policy.
    #[arg(default_value = ".layergate.yml", value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
    /// A self-contained HTML page with a treemap (`render::html`).
    Html,
}

impl From<Format> for crate::gate::Format {
    fn from(f: Format) -> Self {
        match f {
            Format::Text => crate::gate::Format::Text,
            Format::Json => crate::gate::Format::Json,
            Format::Markdown => crate::gate::Format::Markdown,
            Format::Html => crate::gate::Format::Html,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    /// Platform to pick from a multi-arch image: OS/ARCH[/VARIANT] (default: the host's).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Registry credentials (else LAYERGATE_REGISTRY_USER/_PASSWORD, docker or podman login).
    #[arg(long, value_name = "USER:PASS")]
    pub creds: Option<String>,
    /// Talk plain HTTP to this registry (repeatable; localhost and 127.0.0.1 always are).
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registry: Vec<String>,
    /// Read manifests and configs only: compressed sizes and layer matching, no layer pulled.
    #[arg(long)]
    pub manifest_only: bool,
    #[command(flatten)]
    pub cache: crate::run_options::CacheArgs,
    #[command(flatten)]
    pub progress: crate::run_options::ProgressArgs,
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
    /// The Dockerfile the image was built from: advice then names its lines.
    #[arg(long, value_name = "FILE")]
    pub dockerfile: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct GateArgs {
    /// Policy file (layergate YAML or dive's .dive-ci), or `none` for no rules; default:
    /// ./.layergate.yml (or layergate.yml, .yaml) if present, else the default policy.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Report failed rules but exit 0.
    #[arg(long)]
    pub warn_only: bool,
    /// Replaces the Markdown template (minijinja) for `--format markdown`.
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// Also write the HTML report (as `--format html`) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Link the comment to the HTML report published at URL (e.g. the CI run's artifacts).
    #[arg(long, value_name = "URL", env = "LAYERGATE_HTML_URL", value_parser = crate::render::escape::link_url)]
    pub html_url: Option<String>,
    /// Name of this image in `--format json`, for `layergate merge` (e.g. the service).
    #[arg(long, value_name = "NAME")]
    pub label: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
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
    pub publish: comment_args::CommentArgs,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The image, or a saved report (`report:FILE` or `FILE.json`).
    pub image: String,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub image_args: ImageArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Where to post the verdict (sticky comment, job summary, CI reports).
    #[command(flatten)]
    pub publish: comment_args::CommentArgs,
}

#[derive(Debug, clap::Args)]
pub struct CommentCmdArgs {
    /// The Markdown body to post.
    pub file: PathBuf,
    #[command(flatten)]
    pub publish: comment_args::CommentArgs,
}

pub fn main() -> Result<u8> {
    let cli = Cli::parse();
    run(cli)
}

pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Analyze(args) => {
            let opts = open_options(&args.image_args)?;
            let loaded = load_reports(&[args.image.as_str()], &opts);
            crate::run_options::warn_once(&opts.run);
            let mut report = loaded?.pop().context("internal: no report")?;
            if let Some(path) = &args.dockerfile {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("{}: cannot read Dockerfile", path.display()))?;
                crate::advice::locate(&mut report, &text);
            }
            let body = match args.out.format {
                Format::Json => serde_json::to_string_pretty(&report)? + "\n",
                Format::Text => crate::render::analyze_text(&report),
                Format::Markdown => crate::render::analyze_markdown(&report),
                Format::Html => crate::render::html::analyze_html(&report),
            };
            write_output(args.out.output.as_deref(), &body)?;
            Ok(EXIT_PASS)
        }
        Command::Diff(args) => gate(
            Some(args.base),
            args.head,
            &args.gate,
            &args.image_args,
            &args.out,
            &args.publish,
        ),
        Command::Check(args) => gate(
            None,
            args.image,
            &args.gate,
            &args.image_args,
            &args.out,
            &args.publish,
        ),
        Command::Init(args) => init(&args),
        Command::Comment(args) => {
            let markdown = std::fs::read_to_string(&args.file)
                .with_context(|| format!("{}", args.file.display()))?;
            let publication = crate::publish::Publication {
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
            let env = crate::publish::Env::from_process();
            // Posting is this command's whole job: a comment not posted is an error.
            let settings = crate::publish::Settings {
                comment_required: true,
                ..args.publish.settings()
            };
            let delivery = crate::publish::deliver(&settings, &publication, &env)?;
            print_delivery(&delivery)?;
            Ok(EXIT_PASS)
        }
        Command::CacheKey(args) => cache_key(args),
        Command::Merge(args) => crate::fleet_cli::run_merge(&args),
        Command::History(cmd) => crate::fleet_cli::run_history(&cmd),
        Command::Platforms(args) => crate::fleet_cli::run_platforms(&args),
    }
}

fn cache_key(args: CacheKeyArgs) -> Result<u8> {
    use crate::cache_key::{Line, Written};
    let netrc_path = std::env::var_os("NETRC")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".netrc")));
    let request = crate::cache_key::Request {
        urls: args.urls,
        dir: args.dir,
        dockerfile: args.dockerfile,
        write: args.write,
        fetch: crate::cache_key::FetchOptions {
            timeout: args.timeout,
            retry: layergate::retry::RetryPolicy::from_process(),
            hash: args.hash,
            netrc: netrc_path.and_then(|p| std::fs::read_to_string(p).ok()),
        },
    };
    let outcome = crate::cache_key::run(&request)?;
    let mut stdout = std::io::stdout().lock();
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
            Line::Failed(e) => eprintln!("layergate: cache-key: {e}"),
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
    Ok(if outcome.failed() {
        EXIT_ERROR
    } else {
        EXIT_PASS
    })
}

/// `diff` (with a base) and `check` (without): one request, one path.
fn gate(
    base: Option<String>,
    head: String,
    args: &GateArgs,
    image_args: &ImageArgs,
    out: &OutputArgs,
    publish: &comment_args::CommentArgs,
) -> Result<u8> {
    let Some(policy) = policy_or_exit(args, image_args)? else {
        return Ok(EXIT_ERROR);
    };
    let template = args
        .template
        .as_deref()
        .map(|p| {
            std::fs::read_to_string(p)
                .with_context(|| format!("{}: cannot read template", p.display()))
                .map(|text| Template {
                    name: p.display().to_string(),
                    text,
                })
        })
        .transpose()?;
    let request = Request {
        base,
        head,
        policy,
        open: open_options(image_args)?,
        format: out.format.into(),
        template,
        key: publish.comment_key.clone(),
        html: args.html.is_some(),
        html_url: args.html_url.clone(),
        label: args.label.clone(),
    };
    let outcome = crate::gate::run(&request);
    crate::run_options::warn_once(&request.open.run);
    let outcome = outcome?;
    if let (Some(path), Some(html)) = (&args.html, &outcome.html) {
        write_output(Some(path), html)?;
    }
    let publication = outcome.publication(&request.policy, out.output.as_deref());
    conclude(out, publish, &outcome.body, &publication)?;
    Ok(outcome.exit_code(args.warn_only))
}

/// Writes what `--format` asked for, then delivers the verdict where `--comment`
/// says (a delivery problem is an error; a fork's read-only token is a warning).
fn conclude(
    out: &OutputArgs,
    publish: &comment_args::CommentArgs,
    body: &str,
    publication: &crate::publish::Publication,
) -> Result<()> {
    write_output(out.output.as_deref(), body)?;
    let env = crate::publish::Env::from_process();
    print_delivery(&crate::publish::deliver(
        &publish.settings(),
        publication,
        &env,
    )?)
}

/// The policy to apply: `--policy FILE` (`none`: no rules), else a policy file in
/// the current directory, else the default policy. A policy with problems prints
/// every one as `FILE:LINE:COL: message` and gives `None` (exit 2); a file that
/// cannot be read is an ordinary error.
fn policy_or_exit(args: &GateArgs, image_args: &ImageArgs) -> Result<Option<Policy>> {
    let dir = Path::new(".");
    match crate::policy::select(args.policy.as_deref(), dir, image_args.manifest_only) {
        Ok(p) => Ok(Some(p)),
        Err(PolicyError::Invalid(errors)) => {
            eprintln!("{errors}");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// `init`: writes the starter policy, refusing to replace any file, and refusing a
/// second policy file where discovery would then find two.
fn init(args: &InitArgs) -> Result<u8> {
    let dir = args
        .file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = args.file.file_name().and_then(|n| n.to_str());
    if name.is_some_and(|n| crate::policy::DISCOVERED_FILES.contains(&n)) {
        // Discovery refuses two policy files in one directory: do not make a second.
        if let Some(other) = crate::policy::DISCOVERED_FILES
            .iter()
            .find(|f| Some(**f) != name && dir.join(f).is_file())
        {
            anyhow::bail!(
                "{}: cannot create the policy: {other} is already the policy here",
                args.file.display()
            );
        }
    }
    let text = crate::policy::starter(args.flavour);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&args.file)
        .with_context(|| {
            format!(
                "{}: cannot create the policy (init never overwrites a file)",
                args.file.display()
            )
        })?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("{}", args.file.display()))?;
    eprintln!(
        "layergate: wrote {} ({} starter policy); edit it, then run `layergate diff BASE HEAD`",
        args.file.display(),
        args.flavour
    );
    Ok(EXIT_PASS)
}

/// Annotations go to standard output (GitHub Actions reads workflow commands
/// there), warnings and what happened to the comment to standard error.
pub(crate) fn print_delivery(delivery: &crate::publish::Delivery) -> Result<()> {
    use crate::publish::CommentOutcome;
    if !delivery.annotations.is_empty() {
        write_output(None, &(delivery.annotations.join("\n") + "\n"))?;
    }
    for n in &delivery.notices {
        eprintln!("layergate: {n}");
    }
    for w in &delivery.warnings {
        eprintln!("layergate: warning: {w}");
    }
    match &delivery.comment {
        CommentOutcome::Created { url, .. } => eprintln!("layergate: comment created: {url}"),
        CommentOutcome::Updated { url, .. } => eprintln!("layergate: comment updated: {url}"),
        _ => {}
    }
    match &delivery.failure {
        Some(e) => anyhow::bail!("could not post the comment, which is required: {e}"),
        None => Ok(()),
    }
}

fn open_options(args: &ImageArgs) -> Result<OpenOptions> {
    let platform = args.platform.as_deref().map(Platform::parse).transpose()?;
    let creds = match args.creds.as_deref() {
        Some(c) => Some(
            crate::source::registry::Credentials::parse(c)
                .context("--creds: expected USER:PASS")?,
        ),
        None => None,
    };
    Ok(OpenOptions {
        platform,
        registry: crate::source::RegistryOptions {
            creds,
            insecure: args.insecure_registry.clone(),
        },
        manifest_only: args.manifest_only,
        run: crate::run_options::run_options(&args.cache, &args.progress),
    })
}

/// Writes to standard output, or to FILE through a temporary file renamed into
/// place, so a failed run never leaves a half-written file behind.
pub(crate) fn write_output(path: Option<&Path>, body: &str) -> Result<()> {
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
