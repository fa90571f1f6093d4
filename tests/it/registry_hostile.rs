//! The registry client against hostile servers (`hostile_server`): wrong bytes, short
//! bodies, missing manifests, endless 401s, rate limits, stalls and resets. Each ends
//! in the documented one-line error with exit 2, or recovers; none hangs or panics.

use std::process::Output;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::hostile_registry::{sha256, Hostile, Reply, TinyImage, REPO};
use crate::support::registry::isolated;
use crate::support::stderr;

/// Runs `analyze REF --format json` with a 500 ms timeout and no machine credentials;
/// returns how long it took (only a lower bound is ever asserted: Retry-After honoured).
fn analyze(h: &Hostile) -> (Output, Duration) {
    let home = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let out = isolated(home.path())
        .args(["analyze", &h.reference(), "--format", "json"])
        .env("LAYERGATE_REGISTRY_TIMEOUT", "0.5")
        .output()
        .unwrap();
    (out, start.elapsed())
}

/// Exit 2 with exactly one line of error containing `want`.
fn assert_fails_with(out: &Output, want: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(want), "expected {want:?} in {err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn live_bytes(out: &Output) -> u64 {
    assert!(out.status.success(), "{}", stderr(out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["totals"]["live_bytes"].as_u64().unwrap()
}

fn manifests() -> String {
    format!("/v2/{REPO}/manifests/")
}

/// Guards the fixture itself: a faithful server gives a full report.
#[test]
fn faithful_test_server_gives_a_report() {
    let img = TinyImage::new();
    let h = Hostile::start(move |p, _| img.serve(p));
    let (out, _) = analyze(&h);
    assert_eq!(live_bytes(&out), 64 * 30);
}

/// A registry (or a proxy) serving other bytes under a digest must never be believed.
#[test]
fn layer_bytes_that_do_not_match_their_digest_are_refused() {
    let img = TinyImage::new();
    let layer_digest = sha256(&img.layer);
    let mut forged = img.layer.clone();
    forged[512] ^= 1; // first byte of hello.txt: same size, still a valid tar
    let path = format!("/v2/{REPO}/blobs/{layer_digest}");
    let h = Hostile::start(move |p, _| {
        if p == path {
            Reply::ok(forged.clone())
        } else {
            img.serve(p)
        }
    });
    let (out, _) = analyze(&h);
    assert_fails_with(
        &out,
        &format!(
            "127.0.0.1:{}/{REPO}: blob {layer_digest}: digest mismatch: expected {layer_digest}",
            h.port
        ),
    );
}

/// A manifest whose bytes are not what the registry says they are is refused before
/// anything is built on it.
#[test]
fn manifest_not_matching_its_announced_digest_is_refused() {
    let img = TinyImage::new();
    let lie = sha256(b"another manifest");
    let lie2 = lie.clone();
    let h = Hostile::start(move |p, _| {
        let mut r = img.serve(p);
        for (k, v) in r.headers.iter_mut() {
            if k == "Docker-Content-Digest" {
                *v = lie2.clone();
            }
        }
        r
    });
    let (out, _) = analyze(&h);
    assert_fails_with(
        &out,
        &format!(
            "127.0.0.1:{}/{REPO}:latest: manifest latest: digest mismatch: expected {lie}",
            h.port
        ),
    );
}

/// A connection cut mid-blob must fail the run, whether or not the server announced
/// the length it then did not send.
#[test]
fn truncated_blobs_fail_naming_the_blob() {
    for close_delimited in [false, true] {
        let img = TinyImage::new();
        let layer_digest = sha256(&img.layer);
        let layer_len = img.layer.len();
        let path = format!("/v2/{REPO}/blobs/{layer_digest}");
        let h = Hostile::start(move |p, _| {
            let mut r = img.serve(p);
            if p == path {
                r.cut_at = Some(1024);
                r.close_delimited = close_delimited;
            }
            r
        });
        let (out, _) = analyze(&h);
        let want = if close_delimited {
            format!("blob {layer_digest}: truncated: the registry sent 1024 of {layer_len} bytes")
        } else {
            format!("blob {layer_digest}")
        };
        assert_fails_with(&out, &want);
    }
}

/// A layer download broken mid-way resumes where it broke (with or without range
/// support on the server) instead of failing a long CI pull.
#[test]
fn a_blob_cut_mid_way_is_resumed_from_where_it_broke() {
    for ranges in [true, false] {
        let img = TinyImage::new();
        let path = format!("/v2/{REPO}/blobs/{}", sha256(&img.layer));
        let p2 = path.clone();
        let h = Hostile::start(move |p, nth| {
            let mut r = img.serve(p);
            r.ranges = ranges;
            if p == p2 && nth == 0 {
                r.cut_at = Some(1024);
            }
            r
        });
        let (out, _) = analyze(&h);
        assert_eq!(live_bytes(&out), 64 * 30, "ranges={ranges}");
        assert_eq!(h.count(&path), 2, "ranges={ranges}");
    }
}

/// A typo in a tag is the most common registry error: say which tag, where.
#[test]
fn missing_manifest_is_a_404_naming_registry_repository_and_tag() {
    let h = Hostile::start(|p, _| {
        if p == "/v2/" {
            Reply::ok(b"{}".to_vec())
        } else {
            Reply::status(404)
        }
    });
    let (out, _) = analyze(&h);
    assert_fails_with(
        &out,
        &format!(
            "127.0.0.1:{}/{REPO}: manifest latest: not found (HTTP 404)",
            h.port
        ),
    );
}

/// A token that the registry keeps refusing must end in the credentials hint after
/// one round, not loop between the token endpoint and the manifest.
#[test]
fn endless_401_ends_in_the_authentication_hint_without_looping() {
    let port = Arc::new(AtomicU16::new(0));
    let p2 = Arc::clone(&port);
    let h = Hostile::start(move |p, _| {
        let challenge = format!(
            r#"Bearer realm="http://127.0.0.1:{}/token",service="hostile""#,
            p2.load(Ordering::SeqCst)
        );
        if p.starts_with("/token") {
            Reply::ok(br#"{"token":"not-good-enough"}"#.to_vec())
        } else {
            Reply::status(401).with_header("WWW-Authenticate", &challenge)
        }
    });
    port.store(h.port, Ordering::SeqCst);
    let (out, _) = analyze(&h);
    assert_fails_with(
        &out,
        &format!(
            "127.0.0.1:{}/{REPO}: manifest latest: HTTP 401: authentication required — pass --creds USER:PASS",
            h.port
        ),
    );
    assert!(
        h.count("/token") <= 2,
        "token requests: {}",
        h.count("/token")
    );
    assert_eq!(h.count(&manifests()), 1);
}

/// Docker Hub rate-limits anonymous pulls: honour Retry-After and carry on.
#[test]
fn rate_limit_with_retry_after_is_waited_out() {
    let img = TinyImage::new();
    let m = manifests();
    let h = Hostile::start(move |p, nth| {
        if p.starts_with(&m) && nth == 0 {
            Reply::status(429).with_header("Retry-After", "1")
        } else {
            img.serve(p)
        }
    });
    let (out, elapsed) = analyze(&h);
    assert_eq!(live_bytes(&out), 64 * 30);
    assert_eq!(h.count(&manifests()), 2);
    assert!(
        elapsed >= Duration::from_secs(1),
        "Retry-After ignored: {elapsed:?}"
    );
}

/// Retries are bounded: a registry that stays down fails the run in seconds.
#[test]
fn persistent_503_gives_up_after_bounded_retries() {
    let h = Hostile::start(|p, _| {
        if p == "/v2/" {
            Reply::ok(b"{}".to_vec())
        } else {
            Reply::status(503)
        }
    });
    let (out, _) = analyze(&h);
    assert_fails_with(
        &out,
        &format!(
            "127.0.0.1:{}/{REPO}: manifest latest: HTTP 503 (after 4 attempts)",
            h.port
        ),
    );
    assert_eq!(h.count(&manifests()), 4);
}

/// One slow answer or one reset connection is weather, not failure.
#[test]
fn a_stalled_answer_or_a_reset_connection_is_retried() {
    for stall in [true, false] {
        let img = TinyImage::new();
        let m = manifests();
        let h = Hostile::start(move |p, nth| {
            let mut r = img.serve(p);
            if p.starts_with(&m) && nth == 0 {
                if stall {
                    r.delay = Duration::from_secs(3);
                } else {
                    r.hang_up = true;
                }
            }
            r
        });
        let (out, _) = analyze(&h);
        assert_eq!(live_bytes(&out), 64 * 30, "stall={stall}");
        // The first answer stalls past the 500 ms timeout (or is reset): the image came
        // from a second request, not from waiting the stall out.
        assert_eq!(h.count(&manifests()), 2, "stall={stall}");
    }
}

/// A blob that never comes must end in a timeout error, never a hung CI job.
#[test]
fn a_blob_that_never_arrives_times_out() {
    let img = TinyImage::new();
    let layer_digest = sha256(&img.layer);
    let path = format!("/v2/{REPO}/blobs/{layer_digest}");
    let path_of_blob = path.clone();
    let h = Hostile::start(move |p, _| {
        let mut r = img.serve(p);
        if p == path {
            r.delay = Duration::from_secs(5);
        }
        r
    });
    let (out, _) = analyze(&h);
    assert_fails_with(
        &out,
        &format!("blob {layer_digest}: no answer within 500ms (after 4 attempts)"),
    );
    assert_eq!(h.count(&path_of_blob), 4);
}
