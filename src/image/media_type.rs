//! Media types of the documents and blobs we meet, with an `Other` fallback so an
//! unknown type is a value we can name in an error, not a parse failure.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum MediaType {
    OciIndex,
    OciManifest,
    OciConfig,
    OciLayer,
    OciLayerGzip,
    OciLayerZstd,
    OciLayerNondistributable,
    OciLayerNondistributableGzip,
    OciLayerNondistributableZstd,
    DockerManifestList,
    DockerManifest,
    DockerConfig,
    DockerLayer,
    DockerForeignLayer,
    Other(String),
}

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Sniffs the compression from a blob's first bytes. Only used when the media type
    /// does not say (docker-save archives carry no media types).
    pub(crate) fn sniff(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
            || (head.len() >= 4 && head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18])
        {
            // A zstd frame, or a skippable frame (0x184D2A5?) that may precede one.
            Some(Compression::Zstd)
        } else if head.len() >= 262 && &head[257..262] == b"ustar" {
            Some(Compression::None)
        } else if head.len() >= 512 && head[..512].iter().all(|&b| b == 0) {
            // An empty tar (two zero blocks) is a valid, empty layer.
            Some(Compression::None)
        } else {
            None
        }
    }
}

impl MediaType {
    pub(crate) fn parse(s: &str) -> MediaType {
        use MediaType::*;
        match s {
            "application/vnd.oci.image.index.v1+json" => OciIndex,
            "application/vnd.oci.image.manifest.v1+json" => OciManifest,
            "application/vnd.oci.image.config.v1+json" => OciConfig,
            "application/vnd.oci.image.layer.v1.tar" => OciLayer,
            "application/vnd.oci.image.layer.v1.tar+gzip" => OciLayerGzip,
            "application/vnd.oci.image.layer.v1.tar+zstd" => OciLayerZstd,
            "application/vnd.oci.image.layer.nondistributable.v1.tar" => OciLayerNondistributable,
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip" => {
                OciLayerNondistributableGzip
            }
            "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd" => {
                OciLayerNondistributableZstd
            }
            "application/vnd.docker.distribution.manifest.list.v2+json" => DockerManifestList,
            "application/vnd.docker.distribution.manifest.v2+json" => DockerManifest,
            "application/vnd.docker.container.image.v1+json" => DockerConfig,
            "application/vnd.docker.image.rootfs.diff.tar.gzip" => DockerLayer,
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => DockerForeignLayer,
            other => Other(other.to_string()),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        use MediaType::*;
        match self {
            OciIndex => "application/vnd.oci.image.index.v1+json",
            OciManifest => "application/vnd.oci.image.manifest.v1+json",
            OciConfig => "application/vnd.oci.image.config.v1+json",
            OciLayer => "application/vnd.oci.image.layer.v1.tar",
            OciLayerGzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            OciLayerZstd => "application/vnd.oci.image.layer.v1.tar+zstd",
            OciLayerNondistributable => "application/vnd.oci.image.layer.nondistributable.v1.tar",
            OciLayerNondistributableGzip => {
                "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
            }
            OciLayerNondistributableZstd => {
                "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
            }
            DockerManifestList => "application/vnd.docker.distribution.manifest.list.v2+json",
            DockerManifest => "application/vnd.docker.distribution.manifest.v2+json",
            DockerConfig => "application/vnd.docker.container.image.v1+json",
            DockerLayer => "application/vnd.docker.image.rootfs.diff.tar.gzip",
            DockerForeignLayer => "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
            Other(s) => s,
        }
    }

    pub(crate) fn is_index(&self) -> bool {
        matches!(self, MediaType::OciIndex | MediaType::DockerManifestList)
    }

    /// The compression a layer media type declares. `Ok(None)` means "not declared,
    /// sniff it"; `Err` means a layer type we know we cannot read (e.g. bzip2).
    pub(crate) fn layer_compression(&self) -> Result<Option<Compression>, UnsupportedLayer> {
        use MediaType::*;
        match self {
            OciLayer | OciLayerNondistributable => Ok(Some(Compression::None)),
            OciLayerGzip | OciLayerNondistributableGzip | DockerLayer | DockerForeignLayer => {
                Ok(Some(Compression::Gzip))
            }
            OciLayerZstd | OciLayerNondistributableZstd => Ok(Some(Compression::Zstd)),
            // Docker's legacy tar layers and some tools' spellings carry no useful type.
            Other(s) if s.is_empty() || s == "application/vnd.docker.image.rootfs.diff.tar" => {
                Ok(None)
            }
            _ => Err(UnsupportedLayer),
        }
    }
}

/// A layer media type we know and cannot read (bzip2, a config, a manifest…).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UnsupportedLayer;

impl Serialize for MediaType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MediaType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(MediaType::parse(&String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_known_and_unknown_types() {
        for s in [
            "application/vnd.oci.image.layer.v1.tar+zstd",
            "application/x-bzip2",
        ] {
            assert_eq!(MediaType::parse(s).as_str(), s);
        }
    }

    #[test]
    fn bzip2_layers_are_refused_not_sniffed() {
        let t = MediaType::parse("application/vnd.oci.image.layer.v1.tar+bzip2");
        assert!(t.layer_compression().is_err());
    }

    #[test]
    fn sniffs_magic_bytes() {
        assert_eq!(
            Compression::sniff(&[0x1f, 0x8b, 8, 0]),
            Some(Compression::Gzip)
        );
        assert_eq!(
            Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd]),
            Some(Compression::Zstd)
        );
        assert_eq!(
            Compression::sniff(&[0x50, 0x2a, 0x4d, 0x18]),
            Some(Compression::Zstd)
        );
        assert_eq!(Compression::sniff(b"BZh9"), None);
    }
}
