//! The one hand-written HTTP/1.1 server for tests, on 127.0.0.1 with a free port: every
//! request is recorded (method, path with query, lower-cased headers, body) and answered by
//! the test's handler. One request per connection (`connection: close`), which hyper
//! (octocrab, oci-client) and reqwest honour. The same server plays a forge API (JSON
//! replies), a download server (ETags), and a misbehaving registry: a reply can stall, hang
//! up, send a short body, omit its length, or honour `Range`. A handler that panics (an
//! assertion about a request) answers 500 and fails the test when the server is dropped,
//! or at the next [`Server::requests`], rather than vanishing with its thread.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, e.g. `/repos/o/r/issues/1/comments?per_page=100`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("request body is JSON")
    }
}

#[derive(Debug, Clone)]
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

    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply {
            status,
            ..Reply::ok(body.to_string().into_bytes())
        }
        .with_header("content-type", "application/json")
    }

    pub fn with_header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// `handler(request, base URL, nth)`: `nth` counts earlier requests for the same path
/// (0 for the first), so a handler can fail once and then recover.
type Handler = dyn Fn(&Request, &str, usize) -> Reply + Send + Sync;

pub struct Server {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub port: u16,
    log: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    /// Panics of the handler, as messages.
    failures: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Serves until dropped; `handler` gets the request and the base URL.
    pub fn start(handler: impl Fn(&Request, &str) -> Reply + Send + Sync + 'static) -> Server {
        Server::start_counting(move |req, url, _| handler(req, url))
    }

    /// Like [`Server::start`], the handler also told how many requests for the same path
    /// came before this one.
    pub fn start_counting(
        handler: impl Fn(&Request, &str, usize) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = format!("http://127.0.0.1:{port}");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let (log2, url2, stop2, failures2) =
            (log.clone(), url.clone(), stop.clone(), failures.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (log, handler, url, failures) = (
                    log2.clone(),
                    handler.clone(),
                    url2.clone(),
                    failures2.clone(),
                );
                std::thread::spawn(move || serve(stream, &log, &*handler, &url, &failures));
            }
        });
        Server {
            url,
            port,
            log,
            stop,
            failures,
        }
    }

    /// Fails the test if the handler panicked on any request so far.
    #[track_caller]
    pub fn assert_handler_ok(&self) {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        assert!(
            failures.is_empty(),
            "the test server's handler failed: {}",
            failures.join("; ")
        );
    }

    pub fn requests(&self) -> Vec<Request> {
        self.assert_handler_ok();
        self.log.lock().unwrap().clone()
    }

    /// Requests other than GETs: the ones that change something.
    pub fn writes(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .collect()
    }

    /// How many requests had a path starting with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path.starts_with(prefix))
            .count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if !std::thread::panicking() {
            self.assert_handler_ok();
        }
    }
}

fn serve(
    stream: TcpStream,
    log: &Mutex<Vec<Request>>,
    handler: &Handler,
    url: &str,
    failures: &Mutex<Vec<String>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let len: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let range_from: Option<usize> = header("range")
        .and_then(|v| v.strip_prefix("bytes=").map(str::to_owned))
        .and_then(|v| v.trim().trim_end_matches('-').parse().ok());
    let mut body = vec![0; len];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let request = Request {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let nth = {
        let mut log = log.lock().unwrap();
        let nth = log.iter().filter(|r| r.path == request.path).count();
        log.push(request.clone());
        nth
    };
    let answered =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(&request, url, nth)));
    let mut reply = match answered {
        Ok(reply) => reply,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic".into());
            failures
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(format!("{} {}: {msg}", request.method, request.path));
            Reply::status(500)
        }
    };
    if let (true, Some(from), 200) = (reply.ranges, range_from, reply.status) {
        let total = reply.body.len();
        reply.body = reply.body.split_off(from.min(total));
        reply.status = 206;
        reply.headers.push((
            "content-range".into(),
            format!("bytes {from}-{}/{total}", total.saturating_sub(1)),
        ));
    }
    std::thread::sleep(reply.delay);
    let mut stream = stream;
    if reply.hang_up {
        let _ = stream.shutdown(std::net::Shutdown::Both);
        return;
    }
    let mut head = format!("HTTP/1.1 {} X\r\nconnection: close\r\n", reply.status);
    if !reply.close_delimited {
        head += &format!("content-length: {}\r\n", reply.body.len());
    }
    for (k, v) in &reply.headers {
        head += &format!("{k}: {v}\r\n");
    }
    head += "\r\n";
    let end = reply
        .cut_at
        .unwrap_or(reply.body.len())
        .min(reply.body.len());
    // A HEAD answer says the length but carries no body.
    let body: &[u8] = if request.method == "HEAD" {
        &[]
    } else {
        &reply.body[..end]
    };
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}
