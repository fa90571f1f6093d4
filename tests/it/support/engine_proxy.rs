//! A pass-through proxy in front of a real engine's socket that writes down what was
//! asked of it: every byte goes to the engine and back unchanged, so the answers are
//! the real engine's; the test reads the request lines to count exports. layergate's
//! engine client opens one connection per request, so the first line of each
//! connection is its request.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

pub struct EngineProxy {
    _dir: tempfile::TempDir,
    host: String,
    paths: Arc<Mutex<Vec<String>>>,
}

impl EngineProxy {
    /// Listens on a socket in a new temp dir and forwards every connection to `engine`.
    pub fn start(engine: &Path) -> EngineProxy {
        // Unix socket paths must stay under ~100 bytes: keep it short and in /tmp.
        let dir = tempfile::Builder::new()
            .prefix("lgp")
            .tempdir_in("/tmp")
            .expect("proxy temp dir");
        let sock = dir.path().join("p.sock");
        let listener = UnixListener::bind(&sock).expect("bind the proxy socket");
        let paths = Arc::new(Mutex::new(Vec::new()));
        let seen = paths.clone();
        let engine = engine.to_path_buf();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let engine = engine.clone();
                let seen = seen.clone();
                std::thread::spawn(move || forward(client, &engine, &seen));
            }
        });
        EngineProxy {
            host: format!("unix://{}", sock.display()),
            _dir: dir,
            paths,
        }
    }

    /// `unix:///…/p.sock`, the value for `DOCKER_HOST` or `CONTAINER_HOST`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The request paths seen so far (with their query), in order.
    pub fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }

    /// The export requests seen so far (`/images/NAME/get`, `/images/get?names=…`).
    pub fn exports(&self) -> Vec<String> {
        self.paths()
            .into_iter()
            .filter(|p| {
                let path = p.split('?').next().unwrap_or_default();
                path.contains("/images/") && path.ends_with("/get")
            })
            .collect()
    }

    /// Forgets what was seen, between two runs.
    pub fn clear(&self) {
        self.paths.lock().unwrap().clear();
    }
}

/// One connection: its request line written down, then bytes copied both ways until
/// each side closes.
fn forward(client: UnixStream, engine: &Path, seen: &Mutex<Vec<String>>) {
    let Ok(mut upstream) = UnixStream::connect(engine) else {
        return;
    };
    let mut reader = BufReader::new(client.try_clone().expect("clone the client socket"));
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    seen.lock()
        .unwrap()
        .push(line.split(' ').nth(1).unwrap_or_default().to_string());
    // What the reader buffered past the line goes first, then the rest of the stream.
    let buffered = reader.buffer().to_vec();
    if upstream.write_all(line.as_bytes()).is_err() || upstream.write_all(&buffered).is_err() {
        return;
    }
    reader.consume(buffered.len());
    let mut up_read = upstream.try_clone().expect("clone the engine socket");
    let mut client_write = client.try_clone().expect("clone the client socket");
    let back = std::thread::spawn(move || {
        let _ = std::io::copy(&mut up_read, &mut client_write);
        let _ = client_write.shutdown(std::net::Shutdown::Write);
    });
    let mut client_read = reader.into_inner();
    let _ = std::io::copy(&mut client_read, &mut upstream);
    let _ = upstream.shutdown(std::net::Shutdown::Write);
    let _ = back.join();
}
