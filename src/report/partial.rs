//! The report of an image known only from its manifest and config (`--manifest-only`):
//! compressed sizes, diffIDs and commands, with every figure that needs the layer
//! contents `None` (not measured, JSON `null`) and the report marked partial. Pure.

use crate::image::{Compression, Digest, History, MediaType};

use super::{Files, ImageInfo, LayerReport, Report, Totals, SCHEMA};

/// One layer as its manifest and config describe it.
pub(crate) struct DescribedLayer {
    pub digest: Digest,
    pub diff_id: Digest,
    pub media_type: MediaType,
    pub compression: Compression,
    pub created_by: Option<String>,
    /// The descriptor's size; 0 when the source declares none (legacy docker save).
    pub compressed_bytes: u64,
}

pub(crate) fn manifest_only(
    mut image: ImageInfo,
    history: Vec<History>,
    layers: Vec<DescribedLayer>,
) -> Report {
    image.partial = true;
    let layer_reports: Vec<LayerReport> = layers
        .into_iter()
        .enumerate()
        .map(|(index, l)| LayerReport::described(index, l))
        .collect();
    Report {
        schema: SCHEMA,
        image,
        totals: Totals {
            layers: layer_reports.len() as u64,
            compressed_bytes: layer_reports.iter().map(|l| l.compressed_bytes).sum(),
            uncompressed_bytes: None,
            live_bytes: None,
            wasted_bytes: None,
            efficiency: None,
            files: None,
            same_content_bytes: None,
        },
        layers: layer_reports,
        history,
        duplicates: Vec::new(),
        merge_savings: Vec::new(),
        advice: Vec::new(),
        files: Files::default(),
        packages: Vec::new(),
        package_totals: None,
        owners: Default::default(),
        warnings: vec![
            "manifest only: no layer was read; uncompressed, live, wasted, efficiency and file figures are not measured".into(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> ImageInfo {
        ImageInfo::new("r".into(), "oci", Digest::sha256_of(b""))
    }

    #[test]
    fn partial_report_sums_compressed_sizes_and_nothing_else() {
        let layer = |n: u64| DescribedLayer {
            digest: Digest::parse(&format!("sha256:{}", "a".repeat(64))).unwrap(),
            diff_id: Digest::parse(&format!("sha256:{}", "b".repeat(64))).unwrap(),
            media_type: MediaType::OciLayerGzip,
            compression: Compression::Gzip,
            created_by: Some("RUN x".into()),
            compressed_bytes: n,
        };
        let r = manifest_only(image(), Vec::new(), vec![layer(10), layer(32)]);
        assert!(r.image.partial);
        assert_eq!(r.totals.compressed_bytes, 42);
        assert_eq!(r.totals.layers, 2);
        assert_eq!(r.totals.uncompressed_bytes, None);
        assert_eq!(r.totals.efficiency, None);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["image"]["partial"], true);
        assert!(
            json["totals"]["efficiency"].is_null(),
            "not measured is null, never 1.0"
        );
        assert!(json["totals"]["files"].is_null());
        assert!(json["layers"][0]["uncompressed_bytes"].is_null());
    }

    #[test]
    fn full_reports_do_not_serialise_the_partial_flag() {
        let json = serde_json::to_value(image()).unwrap();
        assert!(json.get("partial").is_none());
        let back: ImageInfo = serde_json::from_value(json).unwrap();
        assert!(!back.partial);
    }
}
