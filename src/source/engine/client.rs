//! A small HTTP/1.1 client for the Engine API over a unix socket or plain TCP, on
//! hyper's connection API (one connection per request, as the Docker CLI does for
//! long streams). The API version is negotiated once from the unversioned `/_ping`:
//! an engine refuses paths above its own version (dockerd 20.10 answers 400 above
//! v1.41), and one below ours is used as it is.
//!
//! tokio stays inside: response bodies reach the synchronous scanner through a bounded
//! channel, so the socket is read on the runtime's thread while the caller hashes and
//! parses, and memory is bounded by the channel depth whatever the export's size.

use std::io::{self, Read};

use bytes::{Buf, Bytes};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use tokio::sync::mpsc;

use super::{Endpoint, EngineError};

/// The newest API version we ask for; an older engine's own version is used instead.
/// Everything layergate calls (`/_ping`, `/images/{name}/json`, `/images/{name}/get`)
/// exists since v1.24.
pub(super) const MAX_API_VERSION: (u32, u32) = (1, 45);

/// Body chunks buffered between the socket and the scanner.
const CHANNEL_CHUNKS: usize = 32;

/// Largest JSON answer read into memory (an inspect is a few KiB).
const MAX_JSON_ANSWER: usize = 16 << 20;

pub(super) struct Client {
    rt: tokio::runtime::Runtime,
    endpoint: Endpoint,
    /// The variable that points at another engine (`DOCKER_HOST`, `CONTAINER_HOST`).
    env: &'static str,
    /// `/v1.NN` once negotiated; empty when the engine named no version.
    prefix: String,
    /// The version the engine announced in `Api-Version`.
    pub(crate) api_version: Option<String>,
}

/// A response whose body has not been read yet.
pub(super) struct Response {
    pub status: u16,
    body: Incoming,
}

impl Client {
    /// Connects and negotiates the API version (`GET /_ping`).
    pub(super) fn connect(endpoint: Endpoint, env: &'static str) -> Result<Client, EngineError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("layergate-engine")
            .enable_all()
            .build()
            .map_err(|e| EngineError::Transport {
                address: endpoint.address(),
                what: "runtime".into(),
                msg: e.to_string(),
            })?;
        let mut client = Client {
            rt,
            endpoint,
            env,
            prefix: String::new(),
            api_version: None,
        };
        let ping = client.get("/_ping", "ping")?;
        let version = ping.1;
        let status = ping.0.status;
        if status != 200 {
            let message = client.read_error(ping.0);
            return Err(EngineError::Status {
                address: client.address(),
                what: "ping".into(),
                status,
                message,
            });
        }
        if let Some(prefix) = version.as_deref().and_then(api_prefix) {
            client.prefix = prefix;
        }
        client.api_version = version;
        Ok(client)
    }

    pub(super) fn address(&self) -> String {
        self.endpoint.address()
    }

    /// `GET PATH` under the negotiated version prefix.
    pub(super) fn get_api(&self, path: &str, what: &str) -> Result<Response, EngineError> {
        Ok(self.get(&format!("{}{path}", self.prefix), what)?.0)
    }

    /// A JSON answer, bounded; a non-200 status is returned with its message.
    pub(super) fn get_json(
        &self,
        path: &str,
        what: &str,
    ) -> Result<Result<serde_json::Value, (u16, String)>, EngineError> {
        let resp = self.get_api(path, what)?;
        if resp.status != 200 {
            let status = resp.status;
            return Ok(Err((status, self.read_error(resp))));
        }
        let bytes = self.read_all(resp, what)?;
        serde_json::from_slice(&bytes)
            .map(Ok)
            .map_err(|e| self.transport(what, format!("not JSON: {e}")))
    }

    /// The engine's `{"message": …}`, or the start of whatever it sent.
    pub(super) fn read_error(&self, resp: Response) -> String {
        let bytes = self.read_all(resp, "error").unwrap_or_default();
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| {
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                    .trim()
                    .to_string()
            })
    }

    fn read_all(&self, resp: Response, what: &str) -> Result<Vec<u8>, EngineError> {
        let mut out = Vec::new();
        self.stream(resp)
            .take(MAX_JSON_ANSWER as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| self.transport(what, e.to_string()))?;
        if out.len() > MAX_JSON_ANSWER {
            return Err(self.transport(what, format!("answer over {MAX_JSON_ANSWER} bytes")));
        }
        Ok(out)
    }

    /// The body as a plain `Read`, fed by a task on the runtime's thread.
    pub(super) fn stream(&self, resp: Response) -> BodyReader {
        let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(CHANNEL_CHUNKS);
        let mut body = resp.body;
        self.rt.spawn(async move {
            loop {
                match body.frame().await {
                    None => break,
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            // Waiting for room is what bounds memory: the socket is not
                            // read again until the scanner has taken a chunk.
                            if tx.send(Ok(data)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Some(Err(e)) => {
                        let msg = format!("the engine closed the connection mid-answer ({e})");
                        let _ = tx.send(Err(io::Error::other(msg))).await;
                        return;
                    }
                }
            }
        });
        BodyReader {
            rx,
            buf: Bytes::new(),
        }
    }

    fn transport(&self, what: &str, msg: String) -> EngineError {
        EngineError::Transport {
            address: self.address(),
            what: what.to_string(),
            msg,
        }
    }

    /// One request on a fresh connection; returns the response and its `Api-Version`.
    fn get(&self, path: &str, what: &str) -> Result<(Response, Option<String>), EngineError> {
        let endpoint = self.endpoint.clone();
        let path = path.to_string();
        let address = self.address();
        let result = self.rt.block_on(async move {
            let req = http::Request::builder()
                .method("GET")
                .uri(&path)
                // Unix sockets have no host; the engine ignores it, HTTP/1.1 wants one.
                .header(http::header::HOST, "docker")
                .header(
                    http::header::USER_AGENT,
                    concat!("layergate/", env!("CARGO_PKG_VERSION")),
                )
                .body(Empty::<Bytes>::new())
                .map_err(|e| ConnectError::Other(e.to_string()))?;
            let resp = match &endpoint {
                Endpoint::Unix(p) => {
                    let s = tokio::net::UnixStream::connect(p)
                        .await
                        .map_err(ConnectError::Io)?;
                    send(s, req).await?
                }
                Endpoint::Tcp(a) => {
                    let s = tokio::net::TcpStream::connect(a)
                        .await
                        .map_err(ConnectError::Io)?;
                    send(s, req).await?
                }
            };
            Ok::<_, ConnectError>(resp)
        });
        match result {
            Ok(resp) => {
                let version = resp
                    .headers()
                    .get("api-version")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let status = resp.status().as_u16();
                Ok((
                    Response {
                        status,
                        body: resp.into_body(),
                    },
                    version,
                ))
            }
            Err(ConnectError::Io(e)) => Err(connect_error(&address, self.env, what, e)),
            Err(ConnectError::Other(msg)) => Err(EngineError::Transport {
                address,
                what: what.to_string(),
                msg,
            }),
        }
    }
}

enum ConnectError {
    Io(io::Error),
    Other(String),
}

async fn send<S>(
    stream: S,
    req: http::Request<Empty<Bytes>>,
) -> Result<http::Response<Incoming>, ConnectError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| ConnectError::Other(e.to_string()))?;
    tokio::spawn(async move {
        // Errors surface through the response body; nothing to do with them here.
        let _ = conn.await;
    });
    sender
        .send_request(req)
        .await
        .map_err(|e| ConnectError::Other(format!("no answer ({e})")))
}

fn connect_error(address: &str, env: &'static str, what: &str, e: io::Error) -> EngineError {
    match e.kind() {
        io::ErrorKind::NotFound
        | io::ErrorKind::ConnectionRefused
        | io::ErrorKind::AddrNotAvailable => EngineError::NotRunning {
            address: address.to_string(),
            env,
        },
        io::ErrorKind::PermissionDenied => EngineError::PermissionDenied {
            address: address.to_string(),
            env,
        },
        _ => EngineError::Transport {
            address: address.to_string(),
            what: what.to_string(),
            msg: e.to_string(),
        },
    }
}

/// The path prefix for an engine that says it speaks `version`: that version, capped at
/// the newest one this client knows ([`MAX_API_VERSION`]); `None` when it is not `M.N`.
fn api_prefix(version: &str) -> Option<String> {
    let v = parse_version(version)?.min(MAX_API_VERSION);
    Some(format!("/v{}.{}", v.0, v.1))
}

/// `1.41` → (1, 41).
fn parse_version(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.trim().split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The receiving end of a body stream.
pub(super) struct BodyReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    buf: Bytes,
}

impl Read for BodyReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while !self.buf.has_remaining() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.buf = chunk,
                Some(Err(e)) => return Err(e),
                // The task ended: the body is complete.
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.remaining());
        self.buf.copy_to_slice(&mut out[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_cap() {
        assert_eq!(parse_version("1.41"), Some((1, 41)));
        assert_eq!(parse_version("x"), None);
        // Newer engines are asked at our newest version, older ones at theirs.
        assert_eq!(api_prefix("1.47").as_deref(), Some("/v1.45"));
        assert_eq!(api_prefix("1.45").as_deref(), Some("/v1.45"));
        assert_eq!(api_prefix("1.41").as_deref(), Some("/v1.41"));
        assert_eq!(api_prefix("2.0").as_deref(), Some("/v1.45"));
        assert_eq!(api_prefix("x"), None);
    }
}
