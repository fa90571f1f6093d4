//! Asking a server for a URL's validator: a HEAD request (GET when the server refuses
//! HEAD, or with `--hash`, streaming the body through sha256), redirects followed, proxy
//! variables honoured (reqwest reads `HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`), credentials
//! from the URL or `.netrc`, a timeout per request and bounded retries on transient
//! failures (connection errors, 429, 5xx).

use std::io::Read;
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::StatusCode;
use sha2::{Digest as _, Sha256};

use super::{CacheKeyError, Validator};

/// How hard to try.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Per request, connection to last byte.
    pub timeout: Duration,
    /// Attempts and waits: the project's one retry policy (`crate::retry`).
    pub retry: crate::retry::RetryPolicy,
    /// Key on the sha256 of the body instead of the headers.
    pub hash: bool,
    /// `.netrc` text (from `$NETRC` or `~/.netrc`), if any.
    pub netrc: Option<String>,
}

pub(crate) struct Fetcher {
    client: Client,
    options: FetchOptions,
}

impl Fetcher {
    pub(crate) fn new(options: FetchOptions) -> Result<Fetcher, CacheKeyError> {
        let client = Client::builder()
            .timeout(options.timeout)
            .user_agent(concat!("layergate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CacheKeyError::Request {
                url: String::new(),
                message: e.to_string(),
            })?;
        Ok(Fetcher { client, options })
    }

    /// The validator of `url`.
    pub(crate) fn validator(&self, url: &str) -> Result<Validator, CacheKeyError> {
        let parsed = reqwest::Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| CacheKeyError::NotHttp { url: url.into() })?;
        if self.options.hash {
            let response = self.send(url, || {
                self.authed(self.client.get(parsed.clone()), &parsed)
            })?;
            return self.body_digest(url, response);
        }
        let mut response = self.send(url, || {
            self.authed(self.client.head(parsed.clone()), &parsed)
        })?;
        if matches!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED
        ) {
            // Some servers refuse HEAD; a GET's headers say the same, and the body is
            // dropped unread.
            response = self.send(url, || {
                self.authed(self.client.get(parsed.clone()), &parsed)
            })?;
        }
        let headers = response.headers();
        let text = |name: reqwest::header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let length = text(reqwest::header::CONTENT_LENGTH).and_then(|v| v.parse().ok());
        Validator::from_headers(
            text(reqwest::header::ETAG).as_deref(),
            text(reqwest::header::LAST_MODIFIED).as_deref(),
            length,
        )
        .ok_or_else(|| CacheKeyError::NoValidator { url: url.into() })
    }

    /// Sends with retries; a final non-success status is an error.
    fn send(
        &self,
        url: &str,
        request: impl Fn() -> RequestBuilder,
    ) -> Result<Response, CacheKeyError> {
        let policy = &self.options.retry;
        let mut failures = 0;
        loop {
            let (error, server_wait) = match request().send() {
                Ok(r)
                    if r.status().is_success()
                        || matches!(
                            r.status(),
                            StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED
                        ) =>
                {
                    return Ok(r)
                }
                Ok(r) => {
                    let status = r.status();
                    let error = CacheKeyError::Status {
                        url: url.into(),
                        status: status.as_u16(),
                    };
                    if status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error() {
                        return Err(error);
                    }
                    let asked = r
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(crate::retry::retry_after_secs);
                    (error, asked)
                }
                Err(e) => (self.request_error(url, &e), None),
            };
            failures += 1;
            match policy.wait(failures, server_wait) {
                Some(wait) => std::thread::sleep(wait),
                None => return Err(error),
            }
        }
    }

    fn request_error(&self, url: &str, e: &reqwest::Error) -> CacheKeyError {
        if e.is_timeout() {
            return CacheKeyError::Timeout {
                url: url.into(),
                seconds: self.options.timeout.as_secs_f64(),
            };
        }
        // The innermost cause says what happened (refused, DNS, TLS); one line of it.
        let mut cause: &dyn std::error::Error = e;
        while let Some(next) = cause.source() {
            cause = next;
        }
        CacheKeyError::Request {
            url: url.into(),
            message: cause.to_string().replace('\n', " "),
        }
    }

    fn body_digest(&self, url: &str, mut response: Response) -> Result<Validator, CacheKeyError> {
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = response
                .read(&mut buf)
                .map_err(|e| CacheKeyError::Request {
                    url: url.into(),
                    message: format!("reading the body: {e}"),
                })?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(Validator::Sha256(hex::encode(hasher.finalize())))
    }

    /// Adds `.netrc` credentials for the URL's host, unless the URL carries its own.
    fn authed(&self, request: RequestBuilder, url: &reqwest::Url) -> RequestBuilder {
        if !url.username().is_empty() {
            return request;
        }
        let found = self
            .options
            .netrc
            .as_deref()
            .and_then(|text| netrc_login(text, url.host_str().unwrap_or("")));
        match found {
            Some((login, password)) => request.basic_auth(login, Some(password)),
            None => request,
        }
    }
}

/// The `(login, password)` `.netrc` gives `host`: its `machine` entry, else `default`.
pub(super) fn netrc_login(text: &str, host: &str) -> Option<(String, String)> {
    let mut tokens = text.split_whitespace();
    let mut entries: Vec<(Option<String>, Option<String>, Option<String>)> = Vec::new();
    while let Some(token) = tokens.next() {
        match token {
            "machine" => entries.push((tokens.next().map(str::to_owned), None, None)),
            "default" => entries.push((None, None, None)),
            "login" => {
                if let Some(e) = entries.last_mut() {
                    e.1 = tokens.next().map(str::to_owned);
                }
            }
            "password" => {
                if let Some(e) = entries.last_mut() {
                    e.2 = tokens.next().map(str::to_owned);
                }
            }
            "macdef" => break, // a macro body runs to the end; nothing we need follows it
            _ => {}
        }
    }
    let pick = |want: Option<&str>| {
        entries
            .iter()
            .find(|(m, _, _)| m.as_deref() == want)
            .and_then(|(_, l, p)| Some((l.clone()?, p.clone().unwrap_or_default())))
    };
    pick(Some(host)).or_else(|| pick(None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netrc_machine_then_default() {
        let text = "machine a.example login u1 password p1\ndefault login anon password x\n";
        assert_eq!(
            netrc_login(text, "a.example"),
            Some(("u1".into(), "p1".into()))
        );
        assert_eq!(
            netrc_login(text, "b.example"),
            Some(("anon".into(), "x".into()))
        );
        assert_eq!(netrc_login("machine a login u", "b"), None);
    }
}
