//! The on-disk form of one cached layer scan: a fixed header, then the scan as
//! postcard (serde, varint integers) compressed with zstd. The header carries the
//! format version, the lengths and a keyed blake3 MAC of the payload (the key is the
//! cache's own secret, `DIR/secret`, readable by its owner only), so a torn,
//! truncated or foreign file is recognised before a byte of it is decoded, and an
//! entry written by anyone who does not hold the secret is never used: a forged
//! scan cannot make a failing image pass.
//!
//! Adding a field to [`LayerScan`] (or anything it holds) needs only its serde
//! derive and a bump of [`FORMAT`]: the `format_fingerprint_is_pinned` test fails
//! until the bump is made, so an old entry is never decoded by a new layout.

use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::image::Digest;
use crate::scan::LayerScan;

/// The cache format. Part of the directory name and of every header; an entry of
/// any other version is ignored (and rewritten in this version's directory).
/// Also bumped when what the scan captures changes (5: rpm databases), so an
/// older entry never stands in for a scan that would have kept more; 6: records
/// held compactly (`scan/records.rs`: front-coded paths, no hash for an empty file).
pub const FORMAT: u32 = 6;

const MAGIC: &[u8; 8] = b"LGSCAN\0\x01";
/// magic, format, payload length, decoded length, keyed blake3 MAC of the payload.
const HEADER: usize = 8 + 4 + 8 + 8 + 32;

/// Largest decoded scan accepted: the scanner's own entry limit (2 million
/// members) at a few hundred bytes each stays well below this.
const MAX_DECODED: u64 = 1 << 30;

/// Why an entry was not used.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    #[error("not a layergate cache entry")]
    Foreign,
    #[error("written by cache format {0} (this layergate reads {FORMAT})")]
    Version(u32),
    #[error("truncated, corrupt or not written by this cache's owner (MAC mismatch)")]
    Corrupt,
    #[error("undecodable: {0}")]
    Decode(String),
    #[error("holds the scan of {found}, not of {wanted}")]
    WrongKey { wanted: String, found: String },
}

#[derive(Serialize)]
struct Payload<'a> {
    key: &'a Digest,
    scan: &'a LayerScan,
}

#[derive(Deserialize)]
struct Owned {
    key: Digest,
    scan: LayerScan,
}

/// The cache's secret: what binds an entry to the cache that wrote it.
pub(crate) type Secret = [u8; 32];

/// Encodes the scan of the blob `key`, sealed with `secret`.
pub fn encode(key: &Digest, scan: &LayerScan, secret: &Secret) -> Result<Vec<u8>, EntryError> {
    let plain = postcard::to_allocvec(&Payload { key, scan })
        .map_err(|e| EntryError::Decode(e.to_string()))?;
    // Level 1: paths compress well even at the fastest level; the content hashes
    // do not compress at any level.
    let packed = zstd::bulk::compress(&plain, 1).map_err(|e| EntryError::Decode(e.to_string()))?;
    let mut out = Vec::with_capacity(HEADER + packed.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&(packed.len() as u64).to_le_bytes());
    out.extend_from_slice(&(plain.len() as u64).to_le_bytes());
    out.extend_from_slice(blake3::keyed_hash(secret, &packed).as_bytes());
    out.extend_from_slice(&packed);
    Ok(out)
}

/// Decodes an entry that should hold the scan of `key`. Nothing in it is used
/// unless header, MAC, decoding and key all agree.
pub fn decode(key: &Digest, bytes: &[u8], secret: &Secret) -> Result<LayerScan, EntryError> {
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return Err(EntryError::Foreign);
    }
    let word = |at: usize, n: usize| -> u64 {
        bytes[at..at + n]
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    };
    let version = word(8, 4) as u32;
    if version != FORMAT {
        return Err(EntryError::Version(version));
    }
    let packed_len = word(12, 8);
    let plain_len = word(20, 8);
    let packed = &bytes[HEADER..];
    // `blake3::Hash` compares in constant time.
    let mac = blake3::Hash::from_slice(&bytes[28..60]).map_err(|_| EntryError::Corrupt)?;
    if packed.len() as u64 != packed_len || blake3::keyed_hash(secret, packed) != mac {
        return Err(EntryError::Corrupt);
    }
    if plain_len > MAX_DECODED {
        return Err(EntryError::Decode(format!("{plain_len} bytes decoded")));
    }
    let mut plain = Vec::new();
    zstd::stream::read::Decoder::new(packed)
        .map_err(|e| EntryError::Decode(e.to_string()))?
        .take(plain_len + 1)
        .read_to_end(&mut plain)
        .map_err(|e| EntryError::Decode(e.to_string()))?;
    if plain.len() as u64 != plain_len {
        return Err(EntryError::Corrupt);
    }
    let owned: Owned =
        postcard::from_bytes(&plain).map_err(|e| EntryError::Decode(e.to_string()))?;
    if &owned.key != key {
        return Err(EntryError::WrongKey {
            wanted: key.to_string(),
            found: owned.key.to_string(),
        });
    }
    Ok(owned.scan)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::image::{Algorithm, Compression, Hasher};
    use crate::scan::{Kind, Record};

    pub(crate) const SECRET: Secret = [3; 32];

    fn digest(s: &[u8]) -> Digest {
        let mut h = Hasher::new(Algorithm::Sha256);
        h.update(s);
        h.finish()
    }

    /// A scan with one record of every kind.
    pub(crate) fn sample() -> LayerScan {
        let rec = |p: &[u8], kind| Record {
            path: p.into(),
            kind,
        };
        LayerScan {
            blob_digest: digest(b"blob"),
            diff_id: digest(b"tar"),
            compression: Compression::Gzip,
            compressed_bytes: 1234,
            tar_bytes: 10_240,
            regular_bytes: 5,
            entries: 7,
            records: [
                rec(b"", Kind::Dir),
                rec(
                    b"etc/caf\xe9",
                    Kind::File {
                        size: 5,
                        hash: [7; 32],
                        mode: 0o644,
                    },
                ),
                rec(b"l", Kind::Symlink { target: b"/x" }),
                rec(
                    b"h",
                    Kind::Hardlink {
                        target: b"etc/caf\xe9",
                    },
                ),
                rec(b"dev/null", Kind::Special),
                rec(b"gone", Kind::Whiteout),
                rec(b"opq", Kind::Opaque),
            ]
            .into_iter()
            .collect(),
            captured: vec![crate::scan::Captured {
                path: b"var/lib/dpkg/status".as_slice().into(),
                content: b"Package: caf\xe9\n".as_slice().into(),
            }],
            notes: vec!["a note".into()],
            gzip_estimate: Some(99),
        }
    }

    #[test]
    fn round_trips_every_kind() {
        let scan = sample();
        let key = scan.blob_digest.clone();
        let back = decode(&key, &encode(&key, &scan, &SECRET).unwrap(), &SECRET).unwrap();
        assert_eq!(format!("{back:?}"), format!("{scan:?}"));
    }

    /// The encoding of the sample scan, pinned. When this fails you changed what
    /// a cached scan holds: bump `FORMAT`, then update the fingerprint.
    #[test]
    fn format_fingerprint_is_pinned() {
        let scan = sample();
        let plain = postcard::to_allocvec(&Payload {
            key: &scan.blob_digest,
            scan: &scan,
        })
        .unwrap();
        let fingerprint = blake3::hash(&plain).to_hex().to_string();
        assert_eq!(
            (FORMAT, &fingerprint[..16]),
            (6, "2e0929e37c075910"),
            "the cached scan layout changed: bump cache::entry::FORMAT and update this pin"
        );
    }

    #[test]
    fn every_damage_is_refused() {
        let scan = sample();
        let key = scan.blob_digest.clone();
        let good = encode(&key, &scan, &SECRET).unwrap();
        // Truncated anywhere.
        for cut in [0, 7, HEADER - 1, HEADER, good.len() - 1] {
            assert!(decode(&key, &good[..cut], &SECRET).is_err(), "cut at {cut}");
        }
        // One flipped bit in the payload.
        let mut bad = good.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(matches!(
            decode(&key, &bad, &SECRET),
            Err(EntryError::Corrupt)
        ));
        // A future format.
        let mut future = good.clone();
        future[8] = (FORMAT + 1) as u8;
        assert!(
            matches!(decode(&key, &future, &SECRET), Err(EntryError::Version(v)) if v == FORMAT + 1)
        );
        // Random bytes.
        assert!(matches!(
            decode(&key, &[0x5a; 200], &SECRET),
            Err(EntryError::Foreign)
        ));
        // Sealed with another cache's secret (a forged entry).
        assert!(matches!(
            decode(&key, &good, &[4; 32]),
            Err(EntryError::Corrupt)
        ));
        // A valid entry under another blob's name.
        assert!(matches!(
            decode(&digest(b"other"), &good, &SECRET),
            Err(EntryError::WrongKey { .. })
        ));
    }

    /// The records dominate: a path, a 32-byte hash and a few varints each.
    #[test]
    fn a_record_costs_little_more_than_its_path_and_hash() {
        let mut scan = sample();
        scan.records = (0..20_000u32)
            .map(|i| Record {
                path: format!("usr/share/doc/package-{i:05}/copyright")
                    .into_bytes()
                    .into(),
                kind: Kind::File {
                    size: u64::from(i) * 37,
                    hash: *blake3::hash(&i.to_le_bytes()).as_bytes(),
                    mode: 0o644,
                },
            })
            .collect();
        let key = scan.blob_digest.clone();
        let bytes = encode(&key, &scan, &SECRET).unwrap();
        assert!(bytes.len() < 20_000 * 48, "{} bytes", bytes.len());
    }
}
