//! What both API clients share: one answer type, what is worth a retry (429,
//! rate-limited 403, 5xx, dropped connections; the loop is [`crate::retry`]'s), `Link`
//! pagination, and the
//! reduction of an error body to one line that never echoes a credential.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::retry::{Attempt, RetryPolicy};

use super::PublishError;

/// An API answer, fully read.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub status: u16,
    /// Lower-case header names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// An HTTP client's error on one line (they can span lines; ours never do). They
/// never contain a token: octocrab keeps it in a `SecretString` and marks the header
/// sensitive, and reqwest's URL is dropped by the caller. With RUST_BACKTRACE set
/// (some CI images set it), octocrab appends a captured backtrace after "Found at":
/// that is cut, the warning stays one line.
pub(crate) fn one_line(e: &dyn std::fmt::Display) -> String {
    let text = e.to_string();
    let text = match text.find("Found at") {
        Some(at) if at > 0 => &text[..at],
        _ => &text[..],
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Header pairs with lower-case names, as [`Answer`] keeps them; values that are
/// not UTF-8 are kept lossily (they are only read for retry hints).
pub(crate) fn header_pairs(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

impl Answer {
    /// A response's status and headers; its body is read after (and set).
    pub(super) fn head(status: http::StatusCode, headers: &http::HeaderMap) -> Answer {
        Answer {
            status: status.as_u16(),
            headers: header_pairs(headers),
            body: String::new(),
        }
    }

    /// The body as JSON when the status says success; otherwise the status as the
    /// error, with the forge's `hint` for it (what a 401 or 404 means there).
    pub(super) fn json<T: serde::de::DeserializeOwned>(
        self,
        method: &'static str,
        url: &str,
        hint: impl FnOnce(u16) -> String,
    ) -> Result<T, PublishError> {
        if !self.is_success() {
            return Err(PublishError::Status {
                method,
                url: url.to_string(),
                status: self.status,
                message: self.message(),
                hint: hint(self.status),
            });
        }
        serde_json::from_str(&self.body).map_err(|e| PublishError::Answer {
            url: url.to_string(),
            reason: e.to_string(),
        })
    }

    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A GitHub rate limit: 429, or 403 with the rate-limit headers saying so
    /// (a plain 403 is a permission problem, e.g. a fork's read-only token).
    pub(super) fn is_rate_limited(&self) -> bool {
        self.status == 429
            || (self.status == 403
                && (self.header("retry-after").is_some()
                    || self.header("x-ratelimit-remaining") == Some("0")))
    }

    /// The API's own explanation, on one line: the JSON `message` (GitHub and
    /// GitLab both use it) or `error`, else the status's reason.
    pub(super) fn message(&self) -> String {
        let from_json = serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| {
                let m = v.get("message").or_else(|| v.get("error"))?;
                Some(match m {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            });
        let msg = from_json.unwrap_or_else(|| match self.status {
            401 => "unauthorized".into(),
            403 => "forbidden".into(),
            404 => "not found".into(),
            422 => "unprocessable".into(),
            429 => "too many requests".into(),
            s if s >= 500 => "server error".into(),
            _ => "unexpected status".into(),
        });
        let one_line: String = msg.split_whitespace().collect::<Vec<_>>().join(" ");
        one_line.chars().take(300).collect()
    }
}

/// The wait a rate-limited or failing answer asks for: `retry-after` (seconds)
/// first, then GitHub's `x-ratelimit-reset` (epoch seconds).
fn server_wait(answer: &Answer, now: SystemTime) -> Option<Duration> {
    if let Some(wait) = answer
        .header("retry-after")
        .and_then(crate::retry::retry_after_secs)
    {
        return Some(wait);
    }
    let reset = answer
        .header("x-ratelimit-reset")
        .and_then(|v| v.trim().parse::<u64>().ok())?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    // One extra second: the reset instant is truncated to whole seconds.
    Some(Duration::from_secs(reset.saturating_sub(now) + 1))
}

/// Why an attempt at an API call did not give a usable answer.
enum Miss {
    Answer(Answer),
    Transport(String),
}

/// Runs `send` under the shared retry policy until it gives a final answer. Rate
/// limits, 5xx and transport failures are retried; the final answer may still be
/// an error status (a 403, 404 or 422 is the caller's to explain).
pub(crate) async fn with_retries<F, Fut>(
    policy: &RetryPolicy,
    method: &'static str,
    url: &str,
    mut send: F,
) -> Result<Answer, PublishError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Answer, String>>,
{
    let result = crate::retry::run(policy, || {
        let next = send();
        async move {
            match next.await {
                Ok(answer) if answer.is_rate_limited() || answer.status >= 500 => {
                    let wait = server_wait(&answer, SystemTime::now());
                    Attempt::Transient {
                        error: Miss::Answer(answer),
                        wait,
                    }
                }
                Ok(answer) => Attempt::Done(answer),
                Err(reason) => Attempt::Transient {
                    error: Miss::Transport(reason),
                    wait: None,
                },
            }
        }
    })
    .await;
    result.map_err(|failed| match failed.error {
        Miss::Answer(answer) => PublishError::GaveUp {
            method,
            url: url.to_string(),
            attempts: failed.attempts,
            status: answer.status,
            last: format!("HTTP {}: {}", answer.status, answer.message()),
        },
        Miss::Transport(reason) => PublishError::Transport {
            method,
            url: url.to_string(),
            reason,
        },
    })
}

/// The `rel="next"` target of a `Link` header.
pub(crate) fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let mut pieces = part.split(';');
        let url = pieces.next()?.trim();
        let is_next = pieces.any(|p| {
            let p = p.trim();
            p == "rel=\"next\"" || p == "rel=next"
        });
        let url = url.strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| url.to_string())
    })
}

/// Pages of a list walked at most (100 items each): a bound on what a hostile or
/// broken API can make a run fetch.
pub(crate) const MAX_PAGES: usize = 30;

/// Every item of a paginated list, from `first` on: `fetch(url, more)` gets one page
/// and, when `more` (fewer than [`MAX_PAGES`] fetched), the URL of the next one.
pub(crate) async fn every_page<T, F, Fut>(first: &str, mut fetch: F) -> Result<Vec<T>, PublishError>
where
    F: FnMut(String, bool) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), PublishError>>,
{
    let mut out = Vec::new();
    let mut next = Some(first.to_string());
    let mut n = 0;
    while let Some(url) = next.take() {
        n += 1;
        let (items, following) = fetch(url, n < MAX_PAGES).await?;
        out.extend(items);
        next = following.filter(|_| n < MAX_PAGES);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&str, &str)]) -> Answer {
        Answer {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: String::new(),
        }
    }

    /// Retry-After is obeyed to the second rather than guessed.
    #[test]
    fn retry_after_sets_the_wait() {
        let a = answer(429, &[("retry-after", "7")]);
        assert!(a.is_rate_limited());
        assert_eq!(
            server_wait(&a, SystemTime::now()),
            Some(Duration::from_secs(7))
        );
    }

    /// A primary rate limit says when it resets; waiting until then is the only fix.
    #[test]
    fn ratelimit_reset_sets_the_wait() {
        let now = UNIX_EPOCH + Duration::from_secs(1000);
        let a = answer(
            403,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "1010"),
            ],
        );
        assert!(a.is_rate_limited());
        assert_eq!(server_wait(&a, now), Some(Duration::from_secs(11)));
    }

    /// A fork's read-only token gets a plain 403: retrying it would only waste time.
    #[test]
    fn plain_403_is_final() {
        assert!(!answer(403, &[]).is_rate_limited());
    }

    /// GitHub's and GitLab's Link headers list several relations in any order.
    #[test]
    fn next_link_is_found_among_relations() {
        let link = "<https://x/api?page=1>; rel=\"prev\", <https://x/api?page=3>; rel=\"next\", <https://x/api?page=9>; rel=\"last\"";
        assert_eq!(next_link(link).as_deref(), Some("https://x/api?page=3"));
        assert_eq!(next_link("<https://x/api?page=1>; rel=\"first\""), None);
    }

    /// Error bodies are reduced to the API's message on one line.
    #[test]
    fn message_comes_from_the_json_body() {
        let mut a = answer(422, &[]);
        a.body = r#"{"message":"Validation\nFailed","errors":[]}"#.into();
        assert_eq!(a.message(), "Validation Failed");
    }
}
