//! The image configuration: platform, creation time, history and the diffIDs of
//! the root filesystem.

use serde::{Deserialize, Serialize};

use super::Digest;

#[derive(Debug, Clone, Deserialize, Default)]
pub(crate) struct ImageConfig {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub history: Vec<History>,
    #[serde(default)]
    pub rootfs: RootFs,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub(crate) struct RootFs {
    #[serde(default)]
    pub diff_ids: Vec<Digest>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub(crate) struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default)]
    pub created_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

impl ImageConfig {
    /// The `created_by` of each non-empty history entry, in layer order. When the
    /// history does not line up with the layers (hand-made images), the missing
    /// entries are `None` rather than shifted onto the wrong layer.
    pub(crate) fn layer_commands(&self, layers: usize) -> Vec<Option<String>> {
        let cmds: Vec<&History> = self.history.iter().filter(|h| !h.empty_layer).collect();
        if cmds.len() == layers {
            cmds.iter().map(|h| Some(h.created_by.clone())).collect()
        } else {
            vec![None; layers]
        }
    }
}
