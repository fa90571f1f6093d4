//! The image model: digests, media types, platforms, and the JSON documents
//! (OCI index/manifest, Docker `manifest.json`, image config) that describe an
//! image. Parsing only: nothing here reads files or talks to a registry.

mod config;
pub(crate) mod digest;
pub(crate) mod info;
mod manifest;
pub(crate) mod media_type;
pub(crate) mod platform;

pub(crate) use config::{History, ImageConfig};
pub(crate) use digest::Digest;
pub(crate) use digest::{Algorithm, Hasher};
pub(crate) use info::ImageInfo;
pub(crate) use manifest::{Descriptor, DockerSaveEntry, Index, Manifest};
pub(crate) use media_type::Compression;
pub(crate) use media_type::MediaType;
pub(crate) use platform::Platform;

/// Largest JSON document (index, manifest, config) we accept. Real configs are
/// a few KiB; anything this big is hostile or broken. Enforced by the sources
/// (`Store::read_small`) before a byte is parsed; saved reports are not bound by it.
pub(crate) const MAX_JSON_BYTES: u64 = 16 * 1024 * 1024;

/// Deepest JSON nesting we accept, checked before handing a document to serde.
pub(crate) const MAX_JSON_DEPTH: usize = 64;

/// Most layers an image may have. Docker and overlayfs stop near 128; this leaves
/// room for any real image while bounding the work a hostile manifest can ask for.
pub(crate) const MAX_LAYERS: usize = 4096;

/// Parses a JSON document after checking its nesting depth, so absurd nesting is a
/// clean error instead of a stack overflow.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(format!("JSON nested deeper than {MAX_JSON_DEPTH} levels"));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    serde_json::from_slice(bytes).map_err(|e| format!("invalid JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_json_is_refused_not_overflowed() {
        let doc = "[".repeat(100_000) + &"]".repeat(100_000);
        let err = parse_json::<serde_json::Value>(doc.as_bytes()).unwrap_err();
        assert!(err.contains("nested deeper"), "{err}");
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        let doc = format!("{{\"a\": \"{}\"}}", "[".repeat(1000));
        assert!(parse_json::<serde_json::Value>(doc.as_bytes()).is_ok());
    }
}
