//! Seed corpora for the fuzz targets that need the library to make them
//! (`fuzz/run-seeds.sh` runs this): the real rpm databases of
//! `tests/data/packages/rpm/` unpacked for the three backend targets, the header
//! blobs those databases hold for `rpm_header`, and a cache entry sealed with
//! the `cache_entry` target's key and secret. A fuzzer cannot forge a keyed MAC,
//! so without a genuine entry it would never get past the header check.
//!
//! Usage: cargo run --example fuzz-seeds -- OUTDIR

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

use layergate::rpm::{bdb, ndb, sqlite};
use layergate::{encode_cache_entry, scan_layer, Digest, Limits};

/// The `cache_entry` target's key and secret (fuzz/fuzz_targets/cache_entry.rs).
const CACHE_KEY: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
const CACHE_SECRET: [u8; 32] = [7; 32];

/// Header blobs kept per database: enough variety (small and large packages,
/// both byte orders of the Berkeley DB) without a corpus of thousands.
const HEADERS_PER_DB: usize = 12;

fn main() -> Result<(), Box<dyn Error>> {
    let out = PathBuf::from(std::env::args().nth(1).ok_or("usage: fuzz-seeds OUTDIR")?);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rpm = repo.join("tests/data/packages/rpm");
    let unzst = |name: &str| -> Result<Vec<u8>, Box<dyn Error>> {
        let path = rpm.join(name);
        let packed = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(zstd::decode_all(&packed[..])?)
    };
    let put = |target: &str, name: &str, bytes: &[u8]| -> Result<(), Box<dyn Error>> {
        let dir = out.join(target);
        fs::create_dir_all(&dir)?;
        fs::write(dir.join(name), bytes)?;
        Ok(())
    };

    let mut headers: Vec<(String, Vec<Vec<u8>>)> = Vec::new();
    for name in [
        "layer1.rpmdb.sqlite.zst",
        "layer2.rpmdb.sqlite.zst",
        "mariner.rpmdb.sqlite.zst",
    ] {
        let db = unzst(name)?;
        put("rpm_sqlite", name, &db)?;
        let rows = sqlite::read(&db, None).map_err(|e| format!("{name}: {e:?}"))?;
        headers.push((name.into(), rows.blobs));
    }
    // Layer 3's packages are partly in its uncommitted-to-the-database WAL: the
    // target's input is the database, `--WAL--`, then the WAL.
    let mut with_wal = unzst("layer3.rpmdb.sqlite.zst")?;
    let wal = unzst("layer3.rpmdb.sqlite-wal.zst")?;
    headers.push((
        "layer3.rpmdb.sqlite".into(),
        sqlite::read(&with_wal, Some(&wal))
            .map_err(|e| format!("layer3 with its WAL: {e:?}"))?
            .blobs,
    ));
    with_wal.extend_from_slice(b"--WAL--");
    with_wal.extend_from_slice(&wal);
    put("rpm_sqlite", "layer3.rpmdb.sqlite+wal", &with_wal)?;
    for name in [
        "Packages.1234.zst",
        "Packages.4321.zst",
        "centos8.Packages.zst",
    ] {
        let db = unzst(name)?;
        put("rpm_bdb", name, &db)?;
        let read = bdb::read(&db).map_err(|e| format!("{name}: {e:?}"))?;
        headers.push((name.into(), read.blobs));
    }
    let db = unzst("sle15.Packages.db.zst")?;
    put("rpm_ndb", "sle15.Packages.db", &db)?;
    let read = ndb::read(&db).map_err(|e| format!("sle15.Packages.db: {e:?}"))?;
    headers.push(("sle15.Packages.db".into(), read.blobs));
    for (db, blobs) in &headers {
        if blobs.is_empty() {
            return Err(format!("{db}: no header read (a seed source went bad)").into());
        }
        // Spread over the database, not just its first packages.
        let step = blobs.len().div_ceil(HEADERS_PER_DB);
        for (i, blob) in blobs.iter().step_by(step).enumerate() {
            put("rpm_header", &format!("{db}.{i}"), blob)?;
        }
    }

    // A real scan to seal: the first layer of a real test image.
    let image = repo.join("tests/data/images/whiteouts.oci.tar");
    let mut archive = tar::Archive::new(fs::File::open(&image)?);
    let mut scanned = 0;
    for entry in archive.entries()? {
        let mut entry = entry?;
        if !entry.path()?.starts_with("blobs/sha256/") {
            continue;
        }
        let mut blob = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut blob)?;
        // Layers are the gzip blobs; the JSON documents do not scan as layers.
        if let Ok(scan) = scan_layer(&blob[..], None, &Limits::default()) {
            if scan.entries == 0 {
                continue;
            }
            let sealed = encode_cache_entry(&Digest::parse(CACHE_KEY)?, &scan, &CACHE_SECRET)?;
            put("cache_entry", &format!("layer{scanned}"), &sealed)?;
            scanned += 1;
        }
    }
    if scanned == 0 {
        return Err(format!("{}: no layer scanned", image.display()).into());
    }
    Ok(())
}
