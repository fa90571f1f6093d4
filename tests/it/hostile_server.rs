//! A small, deliberately misbehaving registry on 127.0.0.1 for the registry client's
//! failure paths: each test gives it a handler that decides, per request, what to
//! answer (wrong bytes, a short body, a status, a stall). It serves a one-layer image
//! built in memory, so a well-behaved handler gives a working registry.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const REPO: &str = "hostile";

pub use crate::support::raw::sha256;
use crate::support::raw::{blob_path, layer, oci, Comp, Tar};

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
                .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                .header("Docker-Content-Digest", &sha256(&self.manifest));
        }
        for blob in [&self.config, &self.layer] {
            if path == format!("/v2/{REPO}/blobs/{}", sha256(blob)) {
                return Reply::ok(blob.clone());
            }
        }
        Reply::status(404)
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Send only this many body bytes, then close (the head still says the full length
    /// unless `close_delimited`).
    pub cut_at: Option<usize>,
    /// No Content-Length: the body ends when the connection closes.
    pub close_delimited: bool,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Close the connection without answering (a reset, to the client).
    pub hang_up: bool,
    /// Honour `Range: bytes=N-` with a 206 (distribution does; some proxies do not).
    pub ranges: bool,
}

impl Reply {
    pub fn ok(body: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body,
            cut_at: None,
            close_delimited: false,
            delay: Duration::ZERO,
            hang_up: false,
            ranges: false,
        }
    }
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            ..Reply::ok(Vec::new())
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
}

type Handler = dyn Fn(&str, usize) -> Reply + Send + Sync;

/// The server: `handler(path, nth)` answers the `nth` (0-based) request for `path`.
pub struct Hostile {
    pub port: u16,
    stop: Arc<AtomicBool>,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Hostile {
    pub fn start(handler: impl Fn(&str, usize) -> Reply + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let (stop2, reqs2) = (Arc::clone(&stop), Arc::clone(&requests));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (handler, reqs) = (Arc::clone(&handler), Arc::clone(&reqs2));
                std::thread::spawn(move || serve(conn, &*handler, &reqs));
            }
        });
        Hostile {
            port,
            stop,
            requests,
        }
    }

    pub fn reference(&self) -> String {
        format!("docker://127.0.0.1:{}/{REPO}:latest", self.port)
    }

    pub fn count(&self, path_prefix: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.starts_with(path_prefix))
            .count()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One request per connection, answered with `Connection: close`.
fn serve(conn: TcpStream, handler: &Handler, reqs: &Mutex<Vec<String>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split(' ').nth(1).unwrap_or("").to_string();
    let mut range_from: Option<usize> = None;
    loop {
        let mut h = String::new();
        match reader.read_line(&mut h) {
            Ok(0) | Err(_) => return,
            Ok(_) if h == "\r\n" || h == "\n" => break,
            Ok(_) => {
                let lower = h.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("range: bytes=") {
                    range_from = v.trim().trim_end_matches('-').parse().ok();
                }
            }
        }
    }
    let nth = {
        let mut r = reqs.lock().unwrap();
        let nth = r.iter().filter(|p| **p == path).count();
        r.push(path.clone());
        nth
    };
    let mut reply = handler(&path, nth);
    if let (true, Some(from), 200) = (reply.ranges, range_from, reply.status) {
        let total = reply.body.len();
        reply.body = reply.body.split_off(from.min(total));
        reply.status = 206;
        reply.headers.push((
            "Content-Range".into(),
            format!("bytes {from}-{}/{total}", total.saturating_sub(1)),
        ));
    }
    std::thread::sleep(reply.delay);
    if reply.hang_up {
        let _ = conn.shutdown(std::net::Shutdown::Both);
        return;
    }
    let mut head = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", reply.status);
    if !reply.close_delimited {
        head += &format!("Content-Length: {}\r\n", reply.body.len());
    }
    for (k, v) in &reply.headers {
        head += &format!("{k}: {v}\r\n");
    }
    head += "\r\n";
    let mut conn = conn;
    let body = &reply.body[..reply
        .cut_at
        .unwrap_or(reply.body.len())
        .min(reply.body.len())];
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body);
    let _ = conn.flush();
    let _ = conn.shutdown(std::net::Shutdown::Both);
}
