//! What identifies an image in a report: the reference, the source's name and
//! format, its digests and platform. The sources fill it in while resolving, so it
//! lives with the image model rather than with the report that carries it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ImageInfo {
    /// The reference as the user gave it (e.g. `oci-archive:app.tar`).
    pub reference: String,
    /// The name recorded in the source (RepoTags, ref name), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    /// Which reader understood the source: `docker-archive`, `oci-archive`, `oci`, `registry`.
    pub(crate) format: String,
    pub(crate) config_digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) manifest_digest: Option<String>,
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
