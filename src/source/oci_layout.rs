//! OCI image layouts, as a directory or inside a tar: `index.json` → (index →)*
//! manifest → config and layers, every document verified against its digest.

use std::collections::HashSet;

use crate::image::ImageInfo;
use crate::image::{parse_json, Descriptor, Digest, Index, Manifest, MediaType, Platform};

use super::{
    blob_path, read_document, DocumentNames, OpenOptions, Opened, ResolvedImage, SourceError,
    Store, StoreBlobs,
};

/// Nested indexes deeper than this are refused (real ones nest once).
const MAX_INDEX_DEPTH: usize = 8;

pub(super) fn open<S: Store + 'static>(
    store: S,
    name: Option<&str>,
    opts: &OpenOptions,
    shown: &str,
    format: &str,
) -> Result<Opened, SourceError> {
    let src = store.describe();
    let top = read_top(&store, &src)?;
    let chosen = match select(&top, name, &src)? {
        Top::One(d) => d,
        Top::Variants(many) => pick_platform(many, opts, &src)?,
    };
    let ref_name = chosen
        .ref_name()
        .or(chosen.image_name())
        .map(str::to_string);

    let mut seen = HashSet::new();
    let (manifest_desc, manifest) = resolve(&store, chosen.clone(), opts, &src, &mut seen, 0)?;

    let config_bytes = read_document(
        &store,
        &blob_path(&manifest.config.digest),
        "config",
        Some(&manifest.config.digest),
    )?;
    check_size(&manifest.config, config_bytes.len() as u64, "config")?;
    let info = ImageInfo {
        name: ref_name,
        manifest_digest: Some(manifest_desc.digest.clone()),
        ..ImageInfo::new(shown.to_string(), format, manifest.config.digest.clone())
    };
    let names = DocumentNames {
        manifest: format!("manifest {}", manifest_desc.digest),
        config: format!("config {}", manifest.config.digest),
    };
    let image = ResolvedImage::from_manifest(info, &manifest, &names, &config_bytes, |d| {
        check_not_negative(d, "layer")?;
        let locator = blob_path(&d.digest);
        if !store.exists(&locator) {
            return Err(SourceError::NotFound(format!(
                "{src}: layer blob {}",
                d.digest
            )));
        }
        Ok(locator)
    })?;
    Ok(Opened {
        image,
        blobs: Box::new(StoreBlobs(store)),
    })
}

fn check_size(d: &Descriptor, actual: u64, what: &str) -> Result<(), SourceError> {
    check_not_negative(d, what)?;
    match d.declared_size() {
        Some(declared) if declared != actual => Err(SourceError::SizeMismatch {
            what: format!("{what} {}", d.digest),
            declared,
            actual,
        }),
        _ => Ok(()),
    }
}

/// A negative size is a lie too; `declared_size` would read it as "not given".
fn check_not_negative(d: &Descriptor, what: &str) -> Result<(), SourceError> {
    match d.size {
        Some(size) if size < 0 => Err(SourceError::BadDocument {
            what: format!("{what} {}", d.digest),
            msg: format!("descriptor size {size} is negative"),
        }),
        _ => Ok(()),
    }
}

/// The platforms of the image `name` picks (see [`select`]): the entries of the
/// index it is, or points to; `None` for an image without an index, whose one
/// platform its config names (the caller opens it to learn which).
pub(super) fn platforms(
    store: &dyn Store,
    name: Option<&str>,
) -> Result<Option<Vec<Platform>>, SourceError> {
    let src = store.describe();
    let top = read_top(store, &src)?;
    let chosen = match select(&top, name, &src)? {
        Top::Variants(many) => return Ok(Some(listed(many))),
        Top::One(d) => d,
    };
    let value = read_node(store, chosen, &src)?;
    if !is_index_node(chosen, &value) {
        return Ok(None);
    }
    let index: Index = serde_json::from_value(value).map_err(|e| SourceError::BadDocument {
        what: format!("manifest {}", chosen.digest),
        msg: e.to_string(),
    })?;
    Ok(Some(listed(&index.manifests)))
}

/// The platforms an index offers, once each, in its order, architectures in OCI
/// spelling. BuildKit's attestation entries are not platforms.
pub(super) fn listed(entries: &[Descriptor]) -> Vec<Platform> {
    let mut out: Vec<Platform> = Vec::new();
    for p in entries
        .iter()
        .filter(|d| !is_attestation(d))
        .filter_map(|d| d.platform.as_ref())
    {
        let p = p.normalized();
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// `index.json`, parsed.
fn read_top(store: &dyn Store, src: &str) -> Result<Index, SourceError> {
    let raw = read_document(store, "index.json", "index.json", None)?;
    parse_json(&raw).map_err(|msg| SourceError::BadDocument {
        what: format!("{src}: index.json"),
        msg,
    })
}

/// What `index.json` names: one entry, or platform variants of one image (the
/// caller picks one, or lists them).
enum Top<'a> {
    One(&'a Descriptor),
    Variants(&'a [Descriptor]),
}

/// Picks the top-level entry: by ref name or digest when asked, the only one when
/// there is one, the platform variants when the entries are those of one image.
fn select<'a>(top: &'a Index, name: Option<&str>, src: &str) -> Result<Top<'a>, SourceError> {
    let names = || {
        top.manifests
            .iter()
            .map(|d| {
                d.ref_name()
                    .map(str::to_string)
                    .unwrap_or_else(|| d.digest.to_string())
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(want) = name {
        return top
            .manifests
            .iter()
            .find(|d| {
                d.ref_name().is_some_and(|r| {
                    r == want || r.rsplit_once(':').is_some_and(|(_, t)| t == want)
                }) || d.digest.to_string() == want
            })
            .map(Top::One)
            .ok_or_else(|| SourceError::NoSuchImage {
                source_name: src.into(),
                wanted: want.into(),
                names: names(),
            });
    }
    match top.manifests.as_slice() {
        [] => Err(SourceError::NotAnImage(format!(
            "{src}: index.json lists no image"
        ))),
        [one] => Ok(Top::One(one)),
        many if many
            .iter()
            .all(|d| d.platform.is_some() && d.ref_name().is_none()) =>
        {
            Ok(Top::Variants(many))
        }
        _ => Err(SourceError::Ambiguous {
            source_name: src.into(),
            hint: format!("oci:{src}:TAG"),
            names: names(),
        }),
    }
}

pub(super) fn pick_platform<'a>(
    entries: &'a [Descriptor],
    opts: &OpenOptions,
    src: &str,
) -> Result<&'a Descriptor, SourceError> {
    let want = opts.platform.clone().unwrap_or_else(Platform::host);
    entries
        .iter()
        .filter(|d| !is_attestation(d))
        .find(|d| d.platform.as_ref().is_some_and(|p| want.matches(p)))
        .ok_or_else(|| SourceError::NoPlatform {
            source_name: src.into(),
            wanted: want.to_string(),
            present: entries
                .iter()
                .filter_map(|d| d.platform.as_ref().map(|p| p.to_string()))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// BuildKit stores provenance as `unknown/unknown` manifests in the index.
fn is_attestation(d: &Descriptor) -> bool {
    d.annotations.contains_key("vnd.docker.reference.type")
        || d.platform.as_ref().is_some_and(|p| p.os == "unknown")
}

/// Reads the manifest or index `desc` names, verified against its digest and size.
fn read_node(
    store: &dyn Store,
    desc: &Descriptor,
    src: &str,
) -> Result<serde_json::Value, SourceError> {
    let path = blob_path(&desc.digest);
    if !store.exists(&path) {
        return Err(SourceError::NotFound(format!(
            "{src}: manifest blob {}",
            desc.digest
        )));
    }
    let bytes = read_document(store, &path, "manifest", Some(&desc.digest))?;
    check_size(desc, bytes.len() as u64, "manifest")?;
    parse_json(&bytes).map_err(|msg| SourceError::BadDocument {
        what: format!("manifest {}", desc.digest),
        msg,
    })
}

/// Whether a document is an index: by its own media type, its descriptor's, or
/// its shape (some writers name neither).
fn is_index_node(desc: &Descriptor, value: &serde_json::Value) -> bool {
    let declared = value
        .get("mediaType")
        .and_then(|m| m.as_str())
        .map(MediaType::parse);
    declared.as_ref().map(MediaType::is_index).unwrap_or(false)
        || desc.media_type.is_index()
        || (value.get("manifests").is_some() && value.get("layers").is_none())
}

/// Follows indexes down to one image manifest.
fn resolve(
    store: &dyn Store,
    desc: Descriptor,
    opts: &OpenOptions,
    src: &str,
    seen: &mut HashSet<Digest>,
    depth: usize,
) -> Result<(Descriptor, Manifest), SourceError> {
    if depth > MAX_INDEX_DEPTH || !seen.insert(desc.digest.clone()) {
        return Err(SourceError::BadDocument {
            what: format!("{src}: index {}", desc.digest),
            msg: "indexes refer to each other in a cycle or nest too deep".into(),
        });
    }
    let value = read_node(store, &desc, src)?;
    let is_index = is_index_node(&desc, &value);
    let bad = |e: serde_json::Error| SourceError::BadDocument {
        what: format!("manifest {}", desc.digest),
        msg: e.to_string(),
    };
    if is_index {
        let index: Index = serde_json::from_value(value).map_err(bad)?;
        let next = pick_platform(
            &index.manifests,
            opts,
            &format!("{src}: index {}", desc.digest),
        )?
        .clone();
        resolve(store, next, opts, src, seen, depth + 1)
    } else {
        let manifest: Manifest = serde_json::from_value(value).map_err(bad)?;
        Ok((desc, manifest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An index's platforms: each once, in order, in OCI spelling, BuildKit's
    /// attestation manifests (`unknown/unknown`, or marked by annotation) left out.
    #[test]
    fn listed_platforms_skip_attestations_and_repeats() {
        let entry = |n: u8, platform: &str, extra: &str| {
            format!(
                r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{}","size":1,"platform":{platform}{extra}}}"#,
                format!("{n:02x}").repeat(32)
            )
        };
        let index = format!(
            r#"{{"schemaVersion":2,"manifests":[{},{},{},{},{}]}}"#,
            entry(1, r#"{"os":"linux","architecture":"x86_64"}"#, ""),
            entry(
                2,
                r#"{"os":"linux","architecture":"arm64","variant":"v8"}"#,
                ""
            ),
            entry(3, r#"{"os":"unknown","architecture":"unknown"}"#, ""),
            entry(
                4,
                r#"{"os":"linux","architecture":"amd64"}"#,
                r#","annotations":{"vnd.docker.reference.type":"attestation-manifest"}"#
            ),
            entry(5, r#"{"os":"linux","architecture":"amd64"}"#, ""),
        );
        let index: Index = parse_json(index.as_bytes()).unwrap();
        let names: Vec<String> = listed(&index.manifests)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(names, ["linux/amd64", "linux/arm64/v8"]);
    }
}
