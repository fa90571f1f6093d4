//! What identifies an image in a report: the reference, the source's name and
//! format, its digests and platform. The sources fill it in while resolving, so it
//! lives with the image model rather than with the report that carries it.

use serde::{Deserialize, Serialize};

use super::Digest;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImageInfo {
    /// The reference as the user gave it (e.g. `oci-archive:app.tar`).
    pub reference: String,
    /// The name recorded in the source (RepoTags, ref name), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    /// Which reader understood the source: `docker-archive`, `oci-archive`, `oci`, `registry`.
    pub(crate) format: String,
    pub(crate) config_digest: Digest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) manifest_digest: Option<Digest>,
    /// The registry digests a local engine knows the image by (`RepoDigests`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) repo_digests: Vec<String>,
    pub(crate) os: String,
    pub(crate) architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) created: Option<String>,
    /// Built from manifests and configs only (`--manifest-only`): figures that need
    /// the layer contents are `null` (not measured), and the file, duplicate,
    /// merge-saving and advice lists are empty because nothing was read.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) partial: bool,
}

impl ImageInfo {
    /// An image `format` read from `reference`, known so far by its config's digest;
    /// the source fills in the rest as it resolves.
    pub(crate) fn new(reference: String, format: &str, config_digest: Digest) -> ImageInfo {
        ImageInfo {
            reference,
            name: None,
            format: format.to_string(),
            config_digest,
            manifest_digest: None,
            repo_digests: Vec::new(),
            os: String::new(),
            architecture: String::new(),
            variant: None,
            created: None,
            partial: false,
        }
    }
}
