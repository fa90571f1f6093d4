//! `layergate platforms IMAGE`: every platform of a multi-arch image, their parity,
//! and with `--base` each compared with the base's same platform.

use std::path::PathBuf;

use anyhow::Result;
use layergate::{Exit, ImageRef, Platform};
use layergate::{PlatformsRequest, Selection};

use crate::flags::gate::{finish, policy_file};
use crate::flags::image::registry_options;
use crate::flags::output::OutputArgs;
use crate::flags::publish::CommentArgs;

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

pub fn run(args: &Args) -> Result<Exit> {
    let parity = match &args.policy {
        None => None,
        Some(path) => match policy_file(path)? {
            Some(policy) => policy.parity,
            None => return Ok(Exit::Error),
        },
    };
    let platforms = if args.platform == "all" {
        Selection::All
    } else {
        Selection::Listed(
            args.platform
                .split(',')
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(Platform::parse)
                .collect::<Result<_, _>>()?,
        )
    };
    let open = layergate::OpenOptions {
        platform: None,
        registry: registry_options(args.creds.as_deref(), &args.insecure_registry)?,
        manifest_only: false,
    };
    let request = PlatformsRequest {
        image: ImageRef::parse(&args.image)?,
        base: args.base.as_deref().map(ImageRef::parse).transpose()?,
        platforms,
        parity,
        label: args.label.clone(),
        open,
        run: crate::flags::run::run_options(&args.cache, &args.progress),
        format: args.out.format.into(),
        key: args.publish.comment_key.clone(),
    };
    let outcome = layergate::run_platforms(&request);
    crate::flags::run::warn_once(&request.run);
    finish(&outcome?, &args.out, &args.publish, None)
}
