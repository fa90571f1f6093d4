//! An image: its layers, the config that names their diffIDs and history, and the
//! OCI manifest that ties them together. Documents are serialised once, so their
//! digests are fixed.

use serde_json::{json, Value};

use super::{sha256_of, Layer, Result, TestkitError, CREATED};
use layergate::Digest;

const MT_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const MT_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// One `history` entry of the config.
#[derive(Debug, Clone)]
struct Step {
    created_by: String,
    empty_layer: bool,
}

/// Assembles an [`Image`]: layers with the command that made each, empty steps
/// (`ENV`, `CMD`) between them, and a platform.
#[derive(Debug, Clone)]
pub struct ImageBuilder {
    name: String,
    layers: Vec<Layer>,
    steps: Vec<Step>,
    os: String,
    architecture: String,
    variant: Option<String>,
}

impl ImageBuilder {
    /// `name` is the tag recorded in archives (`app:latest`).
    pub fn new(name: &str) -> ImageBuilder {
        ImageBuilder {
            name: name.to_string(),
            layers: Vec::new(),
            steps: Vec::new(),
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        }
    }

    /// Adds a layer and the history entry of the command that made it.
    pub fn layer(mut self, layer: Layer, created_by: &str) -> ImageBuilder {
        self.layers.push(layer);
        self.steps.push(Step {
            created_by: created_by.into(),
            empty_layer: false,
        });
        self
    }

    /// Adds a history entry that made no layer (`empty_layer: true`).
    pub fn empty_step(mut self, created_by: &str) -> ImageBuilder {
        self.steps.push(Step {
            created_by: created_by.into(),
            empty_layer: true,
        });
        self
    }

    pub fn platform(mut self, os: &str, architecture: &str, variant: Option<&str>) -> ImageBuilder {
        self.os = os.into();
        self.architecture = architecture.into();
        self.variant = variant.map(str::to_string);
        self
    }

    pub fn build(self) -> Result<Image> {
        let history: Vec<Value> = self
            .steps
            .iter()
            .map(|s| {
                let mut h = json!({"created": CREATED, "created_by": s.created_by});
                if s.empty_layer {
                    h["empty_layer"] = json!(true);
                }
                h
            })
            .collect();
        let diff_ids: Vec<String> = self
            .layers
            .iter()
            .map(|l| l.info.diff_id.to_string())
            .collect();
        let mut config = json!({
            "architecture": self.architecture,
            "os": self.os,
            "created": CREATED,
            "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        });
        if let Some(v) = &self.variant {
            config["variant"] = json!(v);
        }
        let config = to_bytes(&config)?;
        let config_digest = sha256_of(&config)?;
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|l| {
                json!({
                    "mediaType": l.info.media_type(),
                    "digest": l.info.digest.to_string(),
                    "size": l.info.size,
                })
            })
            .collect();
        let manifest = to_bytes(&json!({
            "schemaVersion": 2,
            "mediaType": MT_MANIFEST,
            "config": {"mediaType": MT_CONFIG, "digest": config_digest.to_string(), "size": config.len()},
            "layers": layers,
        }))?;
        let manifest_digest = sha256_of(&manifest)?;
        Ok(Image {
            name: self.name,
            os: self.os,
            architecture: self.architecture,
            variant: self.variant,
            layers: self.layers,
            config,
            config_digest,
            manifest,
            manifest_digest,
        })
    }
}

fn to_bytes(v: &Value) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| TestkitError::Invalid(format!("JSON: {e}")))
}

/// A finished image: layers plus serialised config and manifest.
#[derive(Debug, Clone)]
pub struct Image {
    pub name: String,
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    pub layers: Vec<Layer>,
    pub config: Vec<u8>,
    pub config_digest: Digest,
    pub manifest: Vec<u8>,
    pub manifest_digest: Digest,
}

impl Image {
    /// The platform object of an index entry.
    pub(super) fn platform_json(&self) -> Value {
        let mut p = json!({"architecture": self.architecture, "os": self.os});
        if let Some(v) = &self.variant {
            p["variant"] = json!(v);
        }
        p
    }

    /// The descriptor of this image's manifest.
    pub(super) fn manifest_descriptor(&self) -> Value {
        json!({
            "mediaType": MT_MANIFEST,
            "digest": self.manifest_digest.to_string(),
            "size": self.manifest.len(),
        })
    }
}
