//! `docker save` archives: the legacy form (`manifest.json`, `<hex>.json` config,
//! `<diffid>.tar` or `<id>/layer.tar` layers) and the Docker 25+ form, where the same
//! `manifest.json` points into an OCI `blobs/` tree.

use crate::image::ImageInfo;
use crate::image::{parse_json, Digest, DockerSaveEntry, Manifest, MediaType};

use super::{
    read_document, scan_path, LayerSource, Opened, ResolvedImage, SourceError, Store, StoreBlobs,
};

pub(super) fn open<S: Store + 'static>(
    store: S,
    name: Option<&str>,
    shown: &str,
) -> Result<Opened, SourceError> {
    let image = resolve(&store, name, shown)?;
    Ok(Opened {
        image,
        blobs: Box::new(StoreBlobs(store)),
    })
}

/// The image `name` (or the only one) of a `docker save` archive, from its
/// `manifest.json` and config; layers are located, not read. Engines' exports
/// (`engine/export.rs`) come through here too.
pub(super) fn resolve(
    store: &dyn Store,
    name: Option<&str>,
    shown: &str,
) -> Result<ResolvedImage, SourceError> {
    let entries = entries(store)?;
    let entry = select(&entries, name, &store.describe())?;
    resolve_entry(store, entry, shown)
}

/// The image an engine exported under `name` (its ID `id_hex`) from an export of
/// several names: the entry whose config is that ID (legacy stores and podman name
/// the config by it), or whose config the manifest of that ID names (Docker's
/// containerd store gives an image its manifest's digest as ID, and exports that
/// manifest), else the one tagged `name`. `None` when none is there (an image asked
/// for by the ID of a multi-platform index has no tag): the caller exports it alone.
pub(super) fn resolve_exported(
    store: &dyn Store,
    id_hex: &str,
    name: &str,
    shown: &str,
) -> Result<Option<ResolvedImage>, SourceError> {
    let entries = entries(store)?;
    let tagged = |exact: bool| {
        entries.iter().find(move |e| {
            e.repo_tags.iter().flatten().any(|t| {
                if exact {
                    t == name
                } else {
                    tag_matches(t, name)
                }
            })
        })
    };
    let config_is = |hex: &str| {
        entries
            .iter()
            .find(move |e| digest_from_path(&e.config).is_some_and(|d| d.hex() == hex))
    };
    let manifest_config = || -> Option<String> {
        let id = Digest::parse(&format!("sha256:{id_hex}")).ok()?;
        let bytes = store
            .read_small(&super::blob_path(&id), crate::image::MAX_JSON_BYTES)
            .ok()?;
        let manifest: Manifest = parse_json(&bytes).ok()?;
        Some(manifest.config.digest.hex().to_string())
    };
    config_is(id_hex)
        .or_else(|| manifest_config().and_then(|hex| config_is(&hex)))
        .or_else(|| tagged(true))
        .or_else(|| tagged(false))
        .map(|entry| resolve_entry(store, entry, shown))
        .transpose()
}

/// The entries of the archive's `manifest.json`.
fn entries(store: &dyn Store) -> Result<Vec<DockerSaveEntry>, SourceError> {
    let raw = read_document(store, "manifest.json", "manifest.json", None)?;
    parse_json(&raw).map_err(|msg| SourceError::BadDocument {
        what: format!("{}: manifest.json", store.describe()),
        msg,
    })
}

/// One entry of `manifest.json` resolved: its config read and its layers located.
fn resolve_entry(
    store: &dyn Store,
    entry: &DockerSaveEntry,
    shown: &str,
) -> Result<ResolvedImage, SourceError> {
    let archive = store.describe();
    for path in std::iter::once(&entry.config).chain(&entry.layers) {
        check_member_path(path, &archive)?;
    }
    if entry.layers.len() > crate::image::MAX_LAYERS {
        return Err(SourceError::TooManyLayers {
            what: format!("{archive}: manifest.json"),
            count: entry.layers.len(),
            limit: crate::image::MAX_LAYERS,
        });
    }

    let config_digest = digest_from_path(&entry.config);
    let config_bytes = read_document(store, &entry.config, "config", config_digest.as_ref())?;
    let config_digest = config_digest.unwrap_or_else(|| Digest::sha256_of(&config_bytes));

    let config: crate::image::ImageConfig =
        parse_json(&config_bytes).map_err(|msg| SourceError::BadDocument {
            what: format!("{archive}: config {}", entry.config),
            msg,
        })?;
    let diff_ids = &config.rootfs.diff_ids;
    if diff_ids.len() != entry.layers.len() {
        return Err(SourceError::BadDocument {
            what: format!("{archive}: manifest.json"),
            msg: format!(
                "lists {} layers but the config has {} diffIDs",
                entry.layers.len(),
                diff_ids.len()
            ),
        });
    }

    let layers = entry
        .layers
        .iter()
        .zip(diff_ids)
        .map(|(path, diff_id)| {
            let source = entry
                .layer_sources
                .as_ref()
                .and_then(|s| digest_from_path(path).and_then(|d| s.get(&d.to_string()).cloned()));
            if !store.exists(path) {
                return Err(SourceError::NotFound(format!("{archive}: layer {path}")));
            }
            Ok(LayerSource {
                // A blob path names its digest; a legacy `<diffid>.tar` does not name the blob.
                digest: digest_from_path(path).filter(|_| path.starts_with("blobs/")),
                media_type: source
                    .as_ref()
                    .map(|s| s.media_type.clone())
                    .unwrap_or(MediaType::Other(String::new())),
                // The member's size is the blob's size: known without reading it.
                size: source
                    .as_ref()
                    .and_then(|s| s.declared_size())
                    .or_else(|| store.size(path)),
                diff_id: diff_id.clone(),
                locator: scan_path(path.as_bytes()),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let info = ImageInfo {
        name: entry.repo_tags.as_ref().and_then(|t| t.first().cloned()),
        ..ImageInfo::new(shown.to_string(), "docker-archive", config_digest)
    };
    Ok(ResolvedImage::new(info, config, layers))
}

/// Paths in `manifest.json` name members of this archive. One that climbs out
/// (`../`) or starts at `/` is refused rather than normalised: it never names a
/// member a real `docker save` wrote, so the archive is hostile or broken.
fn check_member_path(path: &str, archive: &str) -> Result<(), SourceError> {
    if path.starts_with('/') || path.split(['/', '\\']).any(|c| c == "..") {
        return Err(SourceError::BadDocument {
            what: format!("{archive}: manifest.json"),
            msg: format!("path {path:?} points outside the archive"),
        });
    }
    Ok(())
}

fn select<'a>(
    entries: &'a [DockerSaveEntry],
    name: Option<&str>,
    archive: &str,
) -> Result<&'a DockerSaveEntry, SourceError> {
    let names = || {
        entries
            .iter()
            .flat_map(|e| e.repo_tags.clone().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (name, entries) {
        (_, []) => Err(SourceError::NotAnImage(format!(
            "{archive}: manifest.json lists no image"
        ))),
        (None, [one]) => Ok(one),
        (None, _) => Err(SourceError::Ambiguous {
            source_name: archive.to_string(),
            hint: format!("docker-archive:{archive}:NAME"),
            names: names(),
        }),
        (Some(want), _) => entries
            .iter()
            .find(|e| {
                e.repo_tags
                    .iter()
                    .flatten()
                    .any(|t| t == want || tag_matches(t, want))
                    || e.config.contains(want.trim_start_matches("sha256:"))
            })
            .ok_or_else(|| SourceError::NoSuchImage {
                source_name: archive.to_string(),
                wanted: want.to_string(),
                names: names(),
            }),
    }
}

/// `docker.io/library/app:latest` answers to `app:latest`, `library/app:latest` and `app`.
fn tag_matches(full: &str, want: &str) -> bool {
    let want_full = if want.contains(':') {
        want.to_string()
    } else {
        format!("{want}:latest")
    };
    full.ends_with(&format!("/{want_full}")) || full == want_full
}

/// `blobs/sha256/<hex>`, `<hex>.json` or `<hex>.tar` name their sha256 digest.
fn digest_from_path(path: &str) -> Option<Digest> {
    let file = path.rsplit('/').next()?;
    let hex = file
        .strip_suffix(".json")
        .or_else(|| file.strip_suffix(".tar"))
        .unwrap_or(file);
    let algo = if path.starts_with("blobs/sha512/") {
        "sha512"
    } else {
        "sha256"
    };
    Digest::parse(&format!("{algo}:{hex}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_paths_name_their_digest() {
        let hex = "5799fd194b747abcb2f6434976e5f36ba8e6aefaabd6e3431576ca5953434699";
        assert_eq!(
            digest_from_path(&format!("blobs/sha256/{hex}"))
                .unwrap()
                .hex(),
            hex
        );
        assert_eq!(digest_from_path(&format!("{hex}.tar")).unwrap().hex(), hex);
        assert!(digest_from_path("abc/layer.tar").is_none());
    }

    /// An export of several names: each image found by its ID (the config's digest) or
    /// its tag, and one it cannot tell apart is `None` (exported alone), never another.
    #[test]
    fn an_export_of_several_names_picks_each_by_id_or_tag() {
        let dir = tempfile::tempdir().unwrap();
        let config = |os: &str| format!(r#"{{"os":"{os}","architecture":"amd64"}}"#);
        let (a, b) = (config("linux"), config("windows"));
        let (ha, hb) = (
            Digest::sha256_of(a.as_bytes()),
            Digest::sha256_of(b.as_bytes()),
        );
        std::fs::write(dir.path().join(format!("{}.json", ha.hex())), &a).unwrap();
        std::fs::write(dir.path().join(format!("{}.json", hb.hex())), &b).unwrap();
        let manifest = format!(
            r#"[{{"Config":"{}.json","RepoTags":["app:1"],"Layers":[]}},{{"Config":"{}.json","RepoTags":["docker.io/library/app:2"],"Layers":[]}}]"#,
            ha.hex(),
            hb.hex()
        );
        std::fs::write(dir.path().join("manifest.json"), manifest).unwrap();
        let store = super::super::DirStore::open(dir.path()).unwrap();
        let os = |id: &str, name: &str| {
            resolve_exported(&store, id, name, "x")
                .unwrap()
                .map(|i| i.info.os)
        };
        assert_eq!(
            os(hb.hex(), "app:1").as_deref(),
            Some("windows"),
            "ID first"
        );
        assert_eq!(os("", "app:1").as_deref(), Some("linux"));
        assert_eq!(os("", "app:2").as_deref(), Some("windows"));
        assert_eq!(os(&"f".repeat(64), "other:1"), None);
    }

    #[test]
    fn short_tags_match_qualified_repo_tags() {
        assert!(tag_matches("docker.io/library/app:latest", "app"));
        assert!(tag_matches("docker.io/library/app:latest", "app:latest"));
        assert!(!tag_matches("docker.io/library/myapp:latest", "app"));
    }
}
