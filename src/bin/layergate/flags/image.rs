//! How to open images: platform, registry credentials, manifest-only, and the run's
//! cache and progress; turned into the library's `OpenOptions`.

use anyhow::{Context, Result};
use layergate::OpenOptions;
use layergate::Platform;

use super::run::{CacheArgs, ProgressArgs};

/// `--platform` of `diff` and `check`, which also take `all`.
pub const PLATFORM_HELP: &str = "Platform to pick from a multi-arch image: OS/ARCH[/VARIANT] \
    (default: the host's), or `all`: every platform judged, one verdict with a row each";

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
    pub cache: CacheArgs,
    #[command(flatten)]
    pub progress: ProgressArgs,
}

impl ImageArgs {
    pub fn open_options(&self) -> Result<OpenOptions> {
        let platform = self.platform.as_deref().map(Platform::parse).transpose()?;
        self.open_options_for(platform)
    }

    /// `--platform all` (`diff` and `check` only): every platform, each judged.
    pub fn all_platforms(&self) -> bool {
        self.platform.as_deref() == Some("all")
    }

    /// The options of a verdict command: `--platform all` opens no one platform
    /// (the gate lists and opens each), anything else is [`Self::open_options`].
    pub fn gate_open_options(&self) -> Result<OpenOptions> {
        if self.all_platforms() {
            self.open_options_for(None)
        } else {
            self.open_options()
        }
    }

    fn open_options_for(&self, platform: Option<Platform>) -> Result<OpenOptions> {
        Ok(OpenOptions {
            platform,
            registry: registry_options(self.creds.as_deref(), &self.insecure_registry)?,
            manifest_only: self.manifest_only,
        })
    }

    /// The layer cache and progress display the run uses.
    pub fn run_options(&self) -> layergate::RunOptions {
        super::run::run_options(&self.cache, &self.progress)
    }
}

/// `--creds USER:PASS` and `--insecure-registry`, validated.
pub fn registry_options(
    creds: Option<&str>,
    insecure: &[String],
) -> Result<layergate::RegistryOptions> {
    let creds = match creds {
        Some(c) => Some(layergate::Credentials::parse(c).context("--creds: expected USER:PASS")?),
        None => None,
    };
    Ok(layergate::RegistryOptions {
        creds,
        insecure: insecure.to_vec(),
    })
}
