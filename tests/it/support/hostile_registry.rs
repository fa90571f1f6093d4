//! A small, deliberately misbehaving registry on the shared test server
//! (`support::http`): each test gives it a handler that decides, per request, what to
//! answer (wrong bytes, a short body, a status, a stall). It serves a one-layer image
//! built with `support::raw`, so a well-behaved handler gives a working registry.

pub use super::http::{Reply, Server};

pub const REPO: &str = "hostile";

pub use super::raw::sha256;
use super::raw::{blob_path, layer, oci, Comp, Tar};

/// One uncompressed layer holding `/hello.txt`, its config and manifest.
pub struct TinyImage {
    pub layer: Vec<u8>,
    pub config: Vec<u8>,
    pub manifest: Vec<u8>,
}

impl TinyImage {
    pub fn new() -> TinyImage {
        let data = b"hello from a hostile registry\n".repeat(64);
        let blob = layer(&Tar::new().file("hello.txt", &data).end(), Comp::Plain);
        let files = oci(std::slice::from_ref(&blob));
        let file = |name: &str| -> Vec<u8> {
            let found: Option<&(String, Vec<u8>)> = files.iter().find(|(n, _)| n == name);
            found.expect("file of the one-image layout").1.clone()
        };
        let index: serde_json::Value = serde_json::from_slice(&file("index.json")).unwrap();
        let manifest = file(&blob_path(
            index["manifests"][0]["digest"].as_str().unwrap(),
        ));
        let doc: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
        let config = file(&blob_path(doc["config"]["digest"].as_str().unwrap()));
        TinyImage {
            layer: blob.bytes,
            config,
            manifest,
        }
    }

    /// What a faithful registry answers.
    pub fn serve(&self, path: &str) -> Reply {
        if path == "/v2/" {
            return Reply::ok(b"{}".to_vec());
        }
        if path == format!("/v2/{REPO}/manifests/latest") {
            return Reply::ok(self.manifest.clone())
                .with_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                .with_header("Docker-Content-Digest", &sha256(&self.manifest));
        }
        for blob in [&self.config, &self.layer] {
            if path == format!("/v2/{REPO}/blobs/{}", sha256(blob)) {
                return Reply::ok(blob.clone());
            }
        }
        Reply::status(404)
    }
}

/// The server: `handler(path, nth)` answers the `nth` (0-based) request for `path`.
pub struct Hostile {
    pub port: u16,
    server: Server,
}

impl Hostile {
    pub fn start(handler: impl Fn(&str, usize) -> Reply + Send + Sync + 'static) -> Hostile {
        let server = Server::start_counting(move |req, _, nth| handler(&req.path, nth));
        Hostile {
            port: server.port,
            server,
        }
    }

    pub fn reference(&self) -> String {
        format!("docker://127.0.0.1:{}/{REPO}:latest", self.port)
    }

    pub fn count(&self, path_prefix: &str) -> usize {
        self.server.count(path_prefix)
    }
}
