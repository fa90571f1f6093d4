//! The HTTP side of the registry edge: one tokio runtime for the whole process (the
//! core stays synchronous), authentication through oci-client's challenge handling,
//! and GETs that retry on 429/5xx, connection resets and timeouts through the
//! shared [`crate::retry`] engine (the publisher uses the same one). Every wait is
//! bounded, so a silent server ends in an error, never a hang.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::RegistryOperation;
use reqwest::header::{HeaderMap, ACCEPT, RETRY_AFTER};
use reqwest::{Response, StatusCode};
use tokio::sync::Semaphore;

use super::credentials::Credentials;
use super::target::Target;
use super::RegistryError;

/// Layer pulls in flight at once, across every image of a run.
pub(super) const MAX_CONCURRENT_PULLS: usize = 4;
/// Overrides the per-read timeout, in seconds (tests use a short one).
pub(super) const TIMEOUT_ENV: &str = "LAYERGATE_REGISTRY_TIMEOUT";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A blob whose connection breaks mid-way is resumed from where it broke this often.
pub(super) const BLOB_RESUMES: u32 = 3;

/// The process-wide async runtime and the pull limit it enforces.
pub(super) struct Edge {
    pub(crate) rt: tokio::runtime::Runtime,
    pub pulls: Arc<Semaphore>,
}

static EDGE: OnceLock<Result<Edge, String>> = OnceLock::new();

pub(super) fn edge() -> Result<&'static Edge, RegistryError> {
    EDGE.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("layergate-registry")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Edge {
            rt,
            pulls: Arc::new(Semaphore::new(MAX_CONCURRENT_PULLS)),
        })
    })
    .as_ref()
    .map_err(|e| RegistryError::Runtime(e.clone()))
}

/// `LAYERGATE_REGISTRY_TIMEOUT` (seconds, unset or empty: 30). A read timeout over
/// an hour is no timeout in CI; a value that is not a usable number is an error.
fn timeout_setting() -> Result<Duration, RegistryError> {
    // Not Unicode: lossy, so the replacement character makes it a bad number.
    match std::env::var_os(TIMEOUT_ENV).map(|v| v.to_string_lossy().into_owned()) {
        Some(raw) if !raw.trim().is_empty() => Ok(crate::environment::seconds(
            TIMEOUT_ENV,
            &raw,
            0.001..=3600.0,
        )?),
        _ => Ok(DEFAULT_TIMEOUT),
    }
}

#[derive(Clone)]
enum Auth {
    Anonymous,
    Basic(Credentials),
    Bearer(String),
}

/// Why one attempt failed: worth another try, or final.
enum Failure {
    Transient {
        kind: Transient,
        retry_after: Option<Duration>,
    },
    Fatal(RegistryError),
}

enum Transient {
    Status(u16),
    Transport(String),
    Timeout,
}

/// A client for one repository of one registry, authenticated once.
pub(super) struct Client {
    pub target: Target,
    http: reqwest::Client,
    auth: Auth,
    timeout: Duration,
}

impl Client {
    /// Builds the HTTP client and obtains a token (or settles on basic/anonymous).
    pub(super) async fn connect(
        target: Target,
        creds: Option<Credentials>,
    ) -> Result<Client, RegistryError> {
        let timeout = timeout_setting()?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(timeout)
            .user_agent(concat!("layergate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RegistryError::Runtime(chain(&e)))?;
        let mut client = Client {
            target,
            http,
            auth: Auth::Anonymous,
            timeout,
        };
        client.auth = client.authenticate(creds).await?;
        Ok(client)
    }

    /// oci-client reads the `/v2/` challenge: a bearer realm yields a token (anonymous
    /// or for the credentials), a basic realm means sending the credentials as they are.
    async fn authenticate(&self, creds: Option<Credentials>) -> Result<Auth, RegistryError> {
        let config = ClientConfig {
            protocol: if self.target.plain_http {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            read_timeout: Some(self.timeout),
            connect_timeout: Some(CONNECT_TIMEOUT),
            platform_resolver: None,
            ..ClientConfig::default()
        };
        let oci = oci_client::Client::new(config);
        let auth = match &creds {
            Some(c) => RegistryAuth::Basic(c.user.clone(), c.password.clone()),
            None => RegistryAuth::Anonymous,
        };
        let what = "authentication";
        let (oci, auth, creds) = (&oci, &auth, &creds);
        self.retrying(what, || async move {
            let step = oci.auth(&self.target.parsed, auth, RegistryOperation::Pull);
            match tokio::time::timeout(self.timeout, step).await {
                Err(_) => Err(transient(Transient::Timeout)),
                Ok(Ok(Some(token))) => Ok(Auth::Bearer(token)),
                Ok(Ok(None)) => Ok(creds.clone().map_or(Auth::Anonymous, Auth::Basic)),
                Ok(Err(OciDistributionError::AuthenticationFailure(_))) => {
                    Err(Failure::Fatal(self.auth_required(what, 401)))
                }
                Ok(Err(OciDistributionError::RequestError(e))) => Err(transport(&e)),
                Ok(Err(e)) => Err(Failure::Fatal(self.protocol(what, e.to_string()))),
            }
        })
        .await
    }

    /// GETs a small document (manifest, index, config) whole, retrying the body too.
    /// Returns the bytes and the response headers.
    pub(super) async fn document(
        &self,
        path: &str,
        accept: &[&str],
        what: &str,
        limit: u64,
    ) -> Result<(Vec<u8>, HeaderMap), RegistryError> {
        self.retrying(what, || async move {
            let mut resp = self.send_once(path, accept, what).await?;
            if resp.content_length().is_some_and(|n| n > limit) {
                return Err(Failure::Fatal(
                    self.protocol(what, format!("larger than the {limit}-byte limit")),
                ));
            }
            let headers = resp.headers().clone();
            let mut body = Vec::new();
            while let Some(chunk) = self.next_chunk(&mut resp).await? {
                body.extend_from_slice(&chunk);
                if body.len() as u64 > limit {
                    return Err(Failure::Fatal(
                        self.protocol(what, format!("larger than the {limit}-byte limit")),
                    ));
                }
            }
            Ok((body, headers))
        })
        .await
    }

    /// GETs a blob from byte `offset` on, retrying until the response starts; the body
    /// is the caller's to stream with [`Client::chunk`]. A server that ignores the range
    /// answers 200 with the whole blob: [`Response::status`] tells.
    pub(super) async fn open_blob(
        &self,
        path: &str,
        what: &str,
        offset: u64,
    ) -> Result<Response, RegistryError> {
        self.retrying(what, || self.send(path, &[], what, offset))
            .await
    }

    /// The next piece of a body; waiting longer than the timeout is an error.
    pub(super) async fn chunk(
        &self,
        resp: &mut Response,
        what: &str,
    ) -> Result<Option<bytes::Bytes>, RegistryError> {
        self.next_chunk(resp)
            .await
            .map_err(|f| self.finish(f, what, 1))
    }

    async fn next_chunk(&self, resp: &mut Response) -> Result<Option<bytes::Bytes>, Failure> {
        match tokio::time::timeout(self.timeout, resp.chunk()).await {
            Err(_) => Err(transient(Transient::Timeout)),
            Ok(Err(e)) => Err(transport(&e)),
            Ok(Ok(c)) => Ok(c),
        }
    }

    async fn send_once(
        &self,
        path: &str,
        accept: &[&str],
        what: &str,
    ) -> Result<Response, Failure> {
        self.send(path, accept, what, 0).await
    }

    async fn send(
        &self,
        path: &str,
        accept: &[&str],
        what: &str,
        offset: u64,
    ) -> Result<Response, Failure> {
        let url = format!("{}/{path}", self.target.base_url());
        let mut req = self.http.get(&url);
        if offset > 0 {
            req = req.header(reqwest::header::RANGE, format!("bytes={offset}-"));
        }
        if !accept.is_empty() {
            req = req.header(ACCEPT, accept.join(", "));
        }
        req = match &self.auth {
            Auth::Anonymous => req,
            Auth::Basic(c) => req.basic_auth(&c.user, Some(&c.password)),
            Auth::Bearer(t) => req.bearer_auth(t),
        };
        let resp = match tokio::time::timeout(self.timeout, req.send()).await {
            Err(_) => return Err(transient(Transient::Timeout)),
            Ok(Err(e)) if e.is_builder() => {
                return Err(Failure::Fatal(self.protocol(what, chain(&e))))
            }
            Ok(Err(e)) => return Err(transport(&e)),
            Ok(Ok(r)) => r,
        };
        let status = resp.status();
        match status {
            StatusCode::OK => Ok(resp),
            StatusCode::PARTIAL_CONTENT if offset > 0 => Ok(resp),
            StatusCode::TOO_MANY_REQUESTS
            | StatusCode::INTERNAL_SERVER_ERROR
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT => Err(Failure::Transient {
                kind: Transient::Status(status.as_u16()),
                retry_after: retry_after(resp.headers()),
            }),
            StatusCode::UNAUTHORIZED => Err(Failure::Fatal(self.auth_required(what, 401))),
            StatusCode::FORBIDDEN => Err(Failure::Fatal(RegistryError::Denied {
                registry: self.target.registry.clone(),
                repository: self.target.repository.clone(),
                what: what.to_string(),
            })),
            StatusCode::NOT_FOUND => Err(Failure::Fatal(RegistryError::NotFound {
                registry: self.target.registry.clone(),
                repository: self.target.repository.clone(),
                what: what.to_string(),
            })),
            other => Err(Failure::Fatal(RegistryError::Status {
                registry: self.target.registry.clone(),
                repository: self.target.repository.clone(),
                what: what.to_string(),
                status: other.as_u16(),
                attempts: 1,
            })),
        }
    }

    /// Runs `attempt` under the shared retry policy: transient failures wait (the
    /// server's `Retry-After` when it gives one, else backoff) and try again.
    async fn retrying<T, F, Fut>(&self, what: &str, mut attempt: F) -> Result<T, RegistryError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let policy = crate::retry::RetryPolicy::from_process()?;
        crate::retry::run(&policy, || {
            let next = attempt();
            async move {
                match next.await {
                    Ok(v) => crate::retry::Attempt::Done(v),
                    Err(f @ Failure::Transient { retry_after, .. }) => {
                        crate::retry::Attempt::Transient {
                            error: f,
                            wait: retry_after,
                        }
                    }
                    Err(f) => crate::retry::Attempt::Fatal(f),
                }
            }
        })
        .await
        .map_err(|failed| self.finish(failed.error, what, failed.attempts))
    }

    fn finish(&self, f: Failure, what: &str, attempts: u32) -> RegistryError {
        let (registry, repository, what) = (
            self.target.registry.clone(),
            self.target.repository.clone(),
            what.to_string(),
        );
        match f {
            Failure::Fatal(e) => e,
            Failure::Transient { kind, .. } => match kind {
                Transient::Status(status) => RegistryError::Status {
                    registry,
                    repository,
                    what,
                    status,
                    attempts,
                },
                Transient::Transport(msg) => RegistryError::Transport {
                    registry,
                    repository,
                    what,
                    msg,
                    attempts,
                },
                Transient::Timeout => RegistryError::Timeout {
                    registry,
                    repository,
                    what,
                    timeout: self.timeout,
                    attempts,
                },
            },
        }
    }

    fn auth_required(&self, what: &str, status: u16) -> RegistryError {
        RegistryError::AuthRequired {
            registry: self.target.registry.clone(),
            repository: self.target.repository.clone(),
            what: what.to_string(),
            status,
        }
    }

    pub(super) fn protocol(&self, what: &str, msg: String) -> RegistryError {
        RegistryError::Protocol {
            registry: self.target.registry.clone(),
            repository: self.target.repository.clone(),
            what: what.to_string(),
            msg,
        }
    }
}

/// The wait after the `n`th failed attempt (1-based), by the shared policy.
pub(super) fn backoff(n: u32) -> Duration {
    crate::retry::RetryPolicy::from_process()
        .unwrap_or_default()
        .backoff(n)
}

fn transient(kind: Transient) -> Failure {
    Failure::Transient {
        kind,
        retry_after: None,
    }
}

/// reqwest's own read timeout and ours are the same wait: report them alike.
fn transport(e: &reqwest::Error) -> Failure {
    if e.is_timeout() {
        transient(Transient::Timeout)
    } else {
        transient(Transient::Transport(chain(e)))
    }
}

/// `Retry-After` in seconds; the HTTP-date form falls back to our own backoff.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    crate::retry::retry_after_secs(headers.get(RETRY_AFTER)?.to_str().ok()?)
}

/// An error and its causes on one line: reqwest's own message hides the reason
/// ("connection reset", "operation timed out") in its source chain.
fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let s_msg = s.to_string();
        if !msg.contains(&s_msg) {
            msg = format!("{msg}: {s_msg}");
        }
        cur = s.source();
    }
    msg.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_ignores_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }
}
