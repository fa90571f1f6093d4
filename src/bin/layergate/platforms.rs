//! `layergate platforms IMAGE`: every platform of a multi-arch image, their parity,
//! and with `--base` each compared with the base's same platform.

use std::path::PathBuf;

use anyhow::{Context, Result};
use layergate::fleet::platforms;
use layergate::{EXIT_ERROR, EXIT_PASS, EXIT_POLICY};

use crate::flags::output::{write_output, Format, OutputArgs};
use crate::flags::publish::{deliver, publication, CommentArgs};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The (multi-arch) image: docker-archive:PATH, oci-archive:PATH, oci:DIR[:TAG], docker://REF.
    pub image: String,
    /// Compare with this base image, platform by platform (paired by os/arch/variant).
    #[arg(long, value_name = "IMAGE")]
    pub base: Option<String>,
    /// `all`, or a list: linux/amd64,linux/arm64.
    #[arg(long, default_value = "all", value_name = "all|OS/ARCH[/VARIANT],…")]
    pub platform: String,
    /// Policy whose `platforms.max_ratio` bounds largest/smallest.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The image's name in the output (default: the reference).
    #[arg(long, value_name = "NAME")]
    pub label: Option<String>,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Registry credentials (else LAYERGATE_REGISTRY_USER/_PASSWORD, docker or podman login).
    #[arg(long, value_name = "USER:PASS")]
    pub creds: Option<String>,
    /// Talk plain HTTP to this registry (repeatable).
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registry: Vec<String>,
    #[command(flatten)]
    pub cache: crate::flags::run::CacheArgs,
    #[command(flatten)]
    pub progress: crate::flags::run::ProgressArgs,
    #[command(flatten)]
    pub publish: CommentArgs,
}

/// The platforms an image offers, asked of the source itself: a request for a
/// platform no image has is answered with the list of those present (an image
/// without an index has exactly its own).
fn platforms_of(r: &layergate::ImageRef, opts: &layergate::OpenOptions) -> Result<Vec<String>> {
    use layergate::Platform;
    use layergate::SourceError;
    let mut probe = opts.clone();
    probe.platform = Some(Platform {
        os: "layergate-probe".into(),
        architecture: "none".into(),
        variant: None,
    });
    probe.manifest_only = true;
    match layergate::open_image(r, &probe) {
        Ok(o) => Ok(vec![platform_name(&o.image.info)]),
        Err(SourceError::NoPlatform { present, .. }) => {
            let mut out: Vec<String> = Vec::new();
            for p in present.split(", ").filter(|p| !p.is_empty()) {
                let parsed = Platform::parse(p)?;
                // BuildKit attestations are `unknown/unknown`: not a platform.
                if parsed.os != "unknown" && !out.contains(&parsed.to_string()) {
                    out.push(parsed.to_string());
                }
            }
            Ok(out)
        }
        Err(e) => Err(e.into()),
    }
}

fn platform_name(i: &layergate::ImageInfo) -> String {
    match &i.variant {
        Some(v) => format!("{}/{}/{v}", i.os, i.architecture),
        None => format!("{}/{}", i.os, i.architecture),
    }
}

/// The platforms to analyse on one side: all, or those of the list it has
/// (`strict`: a listed platform it lacks is an error rather than one-sided).
fn chosen(present: Vec<String>, want: &str, strict: bool, image: &str) -> Result<Vec<String>> {
    if want == "all" {
        return Ok(present);
    }
    let mut out = Vec::new();
    for w in want.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let w = layergate::Platform::parse(w)?;
        match present
            .iter()
            .find(|p| layergate::Platform::parse(p).is_ok_and(|p| w.matches(&p)))
        {
            Some(p) => out.push(p.clone()),
            None if strict => anyhow::bail!(
                "{image}: no image for platform {w}; present: {}",
                present.join(", ")
            ),
            None => {}
        }
    }
    Ok(out)
}

pub fn run(args: &Args) -> Result<u8> {
    use layergate::{open_image, ImageRef};
    let creds = match args.creds.as_deref() {
        Some(c) => Some(layergate::Credentials::parse(c).context("--creds: expected USER:PASS")?),
        None => None,
    };
    let opts = layergate::OpenOptions {
        platform: None,
        registry: layergate::RegistryOptions {
            creds,
            insecure: args.insecure_registry.clone(),
        },
        manifest_only: false,
        run: crate::flags::run::run_options(&args.cache, &args.progress),
    };
    let parity_rule = match &args.policy {
        None => None,
        Some(path) => match layergate::load_policy_file(path) {
            Ok(p) => p.parity,
            Err(layergate::PolicyError::Invalid(errors)) => {
                eprintln!("{errors}");
                return Ok(EXIT_ERROR);
            }
            Err(e) => return Err(e.into()),
        },
    };
    let head_ref = ImageRef::parse(&args.image)?;
    let base_ref = args.base.as_deref().map(ImageRef::parse).transpose()?;
    for r in std::iter::once(&head_ref).chain(base_ref.as_ref()) {
        if matches!(r, ImageRef::Report(_)) {
            anyhow::bail!("{r}: `platforms` reads images, not saved reports");
        }
    }
    let strict = base_ref.is_none();
    let head_platforms = chosen(
        platforms_of(&head_ref, &opts)?,
        &args.platform,
        strict,
        &args.image,
    )?;
    let base_platforms = match (&base_ref, &args.base) {
        (Some(r), Some(name)) => chosen(platforms_of(r, &opts)?, &args.platform, false, name)?,
        _ => Vec::new(),
    };
    // Open every platform of both sides, then analyse them in one run: a layer
    // blob several platforms (or base and head) share is read once.
    let mut opened = Vec::new();
    for (r, platforms) in [(&head_ref, &head_platforms)]
        .into_iter()
        .chain(base_ref.as_ref().map(|b| (b, &base_platforms)))
    {
        for p in platforms {
            let mut o = opts.clone();
            o.platform = Some(layergate::Platform::parse(p)?);
            opened.push(open_image(r, &o)?);
        }
    }
    let jobs: Vec<layergate::Job<'_>> = opened
        .iter()
        .map(|o| layergate::Job {
            image: &o.image,
            blobs: o.blobs.as_ref(),
        })
        .collect();
    let reports = layergate::analyze_with(&jobs, &layergate::Limits::default(), &opts.run);
    crate::flags::run::warn_once(&opts.run);
    let reports = reports?;
    let (head_reports, base_reports) = reports.split_at(head_platforms.len());
    let head: Vec<(String, &layergate::Report)> =
        head_platforms.iter().cloned().zip(head_reports).collect();
    let base: Vec<(String, &layergate::Report)> =
        base_platforms.iter().cloned().zip(base_reports).collect();
    let platforms::Pairing {
        pairs,
        only_base,
        only_head,
    } = platforms::pair(&base, &head);
    let rows: Vec<platforms::PlatformReport<'_>> = pairs
        .iter()
        .map(|(p, b, h)| platforms::PlatformReport {
            platform: p,
            head: h,
            base: b.copied(),
        })
        .collect();
    let label = args.label.clone().unwrap_or_else(|| args.image.clone());
    let view = platforms::parity(
        &label,
        &rows,
        only_base,
        only_head,
        parity_rule.as_ref(),
        &args.publish.comment_key,
    );
    let markdown =
        layergate::render_template("platforms.md.j2", platforms::PARITY_TEMPLATE, &view)?;
    let body = match args.out.format {
        Format::Markdown => markdown.clone(),
        Format::Text => platforms::text(&view),
        Format::Html => {
            anyhow::bail!("platforms: --format html is not available (text, markdown or json)")
        }
        Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "schema": layergate::SCHEMA,
                "layergate": env!("CARGO_PKG_VERSION"),
                "label": label,
                "verdict": view.verdict,
                "platforms": view.platforms,
                "ratio": view.ratio,
                "layer_gaps": view.gaps,
                "only_base": view.only_base,
                "only_head": view.only_head,
                "distinct_blobs": view.distinct_blobs,
                "layers": view.layer_count,
                "findings": view.findings,
            }))? + "\n"
        }
    };
    write_output(args.out.output.as_deref(), &body)?;
    let publication = publication(
        &view.verdict,
        &view.findings,
        None,
        markdown,
        &args.publish.comment_key,
    );
    deliver(&args.publish, &publication)?;
    Ok(if view.verdict.passed {
        EXIT_PASS
    } else {
        EXIT_POLICY
    })
}
