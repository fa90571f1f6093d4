//! A tiny HTTP/1.1 server on 127.0.0.1 for the publishing tests: every request is
//! recorded (method, path with query, lower-cased headers, body) and answered by the
//! test's handler. One request per connection (`connection: close`), which both
//! hyper (octocrab) and reqwest honour.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

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
    pub body: String,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    pub fn with_header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
}

type Handler = dyn Fn(&Request, &str) -> Reply + Send + Sync;

pub struct Server {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    log: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    /// Serves until the test process ends; `handler` gets the request and the base URL.
    pub fn start(handler: impl Fn(&Request, &str) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let (log2, url2) = (log.clone(), url.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (log, handler, url) = (log2.clone(), handler.clone(), url2.clone());
                std::thread::spawn(move || serve(stream, &log, &*handler, &url));
            }
        });
        Server { url, log }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    /// Requests other than GETs: the ones that change something.
    pub fn writes(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .collect()
    }
}

fn serve(stream: TcpStream, log: &Mutex<Vec<Request>>, handler: &Handler, url: &str) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
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
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    let request = Request {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    log.lock().unwrap().push(request.clone());
    let reply = handler(&request, url);
    let mut out = format!("HTTP/1.1 {} X\r\n", reply.status);
    for (k, v) in &reply.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n{}",
        reply.body.len(),
        reply.body
    ));
    let mut stream = stream;
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.flush();
}

/// Scripted failures served before the normal answer: each matches a method and a
/// path prefix and is used once.
#[derive(Default)]
pub struct Faults(Mutex<Vec<(String, String, Reply)>>);

impl Faults {
    pub fn push(&self, method: &str, path_prefix: &str, reply: Reply) {
        self.0
            .lock()
            .unwrap()
            .push((method.into(), path_prefix.into(), reply));
    }

    pub fn take(&self, r: &Request) -> Option<Reply> {
        let mut faults = self.0.lock().unwrap();
        let i = faults
            .iter()
            .position(|(m, p, _)| *m == r.method && r.path.starts_with(p.as_str()))?;
        Some(faults.remove(i).2)
    }
}

/// The page size the fakes use, whatever `per_page` says, so a handful of comments
/// already spans several pages.
pub const PAGE: usize = 2;

/// `page` query parameter, 1 when absent.
pub fn page_of(path: &str) -> usize {
    path.split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("page="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// The same URL at another page.
pub fn with_page(base: &str, path: &str, page: usize) -> String {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let mut params: Vec<&str> = q
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("page="))
        .collect();
    let page = format!("page={page}");
    params.push(&page);
    format!("{base}{p}?{}", params.join("&"))
}

/// Writes a comment body for `layergate comment FILE` and gives its path.
pub fn body_file(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}
