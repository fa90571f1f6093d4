//! The export read from archives the testkit builds: streamed members scanned as they
//! pass, kept ones read back, every figure equal to the same archive read from a file.

use super::*;
use crate::analyze::{analyze, Job};
use crate::scan::Limits;
use crate::source::docker_archive;
use layergate_testkit::{docker25, docker_legacy, Compression, Entry, Image, ImageBuilder, Layer};

/// Layers over the keep-in-memory size (scanned as they stream), a repeated
/// gzipped empty layer (named several times, stored once) and a tiny one.
fn image() -> Image {
    let big = |seed: u8| vec![seed; 300 * 1024];
    let empty = || Layer::build(&[], Compression::Gzip).unwrap();
    ImageBuilder::new("app:pr")
        .layer(
            Layer::build(&[Entry::file("a.bin", big(1))], Compression::Gzip).unwrap(),
            "COPY a.bin /",
        )
        .layer(empty(), "RUN true")
        .layer(
            Layer::build(&[Entry::file("b.bin", big(2))], Compression::None).unwrap(),
            "COPY b.bin /",
        )
        .layer(empty(), "RUN true")
        .layer(
            Layer::build(&[Entry::file("t", "tiny")], Compression::Gzip).unwrap(),
            "COPY t /",
        )
        .build()
        .unwrap()
}

fn report_of(bytes: &[u8]) -> crate::report::Report {
    let export = Export::read(bytes, "docker-daemon:app:pr", &StreamScan::default())
        .map_err(|e| format!("{e:?}"))
        .unwrap();
    let image = docker_archive::resolve(&export, None, "x").unwrap();
    let jobs = [Job {
        image: &image,
        blobs: &export,
    }];
    analyze(&jobs, &Limits::default()).unwrap().remove(0)
}

#[test]
fn both_export_shapes_stream_to_the_archive_figures() {
    let img = image();
    let dir = tempfile::tempdir().unwrap();
    for bytes in [
        docker25(&img, Vec::new()).unwrap(),
        docker_legacy(&img, Vec::new()).unwrap(),
    ] {
        let streamed = report_of(&bytes);
        let path = dir.path().join("a.tar");
        std::fs::write(&path, &bytes).unwrap();
        let store = crate::source::TarStore::open(&path).unwrap();
        let opened = docker_archive::open(store, None, "x").unwrap();
        let jobs = [Job {
            image: &opened.image,
            blobs: opened.blobs.as_ref(),
        }];
        let from_file = analyze(&jobs, &Limits::default()).unwrap().remove(0);
        assert_eq!(
            serde_json::to_value(&streamed).unwrap(),
            serde_json::to_value(&from_file).unwrap()
        );
        assert_eq!(streamed.layers.len(), 5);
    }
}

#[test]
fn a_cut_export_is_an_error_not_a_smaller_image() {
    let img = image();
    for bytes in [
        docker25(&img, Vec::new()).unwrap(),
        docker_legacy(&img, Vec::new()).unwrap(),
    ] {
        // Every cut: inside a member, at a member boundary, before manifest.json.
        for cut in (0..bytes.len() - 1024).step_by(bytes.len() / 97 + 1) {
            let r = Export::read(&bytes[..cut], "x", &StreamScan::default());
            assert!(
                matches!(r, Err(StreamError::Truncated(_))),
                "cut at {cut} of {}",
                bytes.len()
            );
        }
        // The engine's error JSON where the tar should go on.
        let mut broken = bytes[..bytes.len() / 2 / 512 * 512].to_vec();
        broken.extend_from_slice(br#"{"message":"no space left on device"}"#);
        assert!(matches!(
            Export::read(broken.as_slice(), "x", &StreamScan::default()),
            Err(StreamError::Truncated(_))
        ));
    }
}
