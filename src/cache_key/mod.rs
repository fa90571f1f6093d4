//! `cache-key`: a build cache key for every download, so a changed remote file
//! invalidates exactly the step that downloads it.
//!
//! The classic builder and BuildKit cache a `RUN curl …`/`RUN wget …` step on its command
//! text, never on what the URL serves. The fix teams apply by hand: ask the server for a
//! validator (a HEAD request: the ETag, else Last-Modified and Content-Length, else the
//! sha256 of the body), keep it in a small file in the build context, and `COPY` that file
//! right before the download. A changed validator changes the COPY's cache key, which
//! invalidates the download and nothing before it; an unchanged one leaves the file, its
//! content and its mtime untouched.
//!
//! Pure parts live here (validators, key file names and content, the Dockerfile rewrite);
//! `fetch.rs` asks the servers and `store.rs` writes the key files: the two edges.

pub(crate) mod fetch;
mod rewrite;
pub(crate) mod run;
pub(crate) mod store;

pub(crate) use fetch::FetchOptions;
pub(crate) use fetch::Fetcher;
pub(crate) use rewrite::{copy_line, plan, rewrite, unified_diff, DownloadKind};
pub(crate) use store::write_key;
pub(crate) use store::Written;

use sha2::{Digest as _, Sha256};

/// What identifies the content behind a URL without downloading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Validator {
    /// The server's entity tag, verbatim (weak `W/` tags included).
    ETag(String),
    /// No ETag: the last modification date and the length together.
    LastModified { date: String, length: Option<u64> },
    /// `--hash`: the sha256 of the body, for servers that give neither.
    Sha256(String),
}

impl Validator {
    /// The validator from a response's headers; `None` when it carries neither an ETag
    /// nor a Last-Modified date.
    pub(crate) fn from_headers(
        etag: Option<&str>,
        last_modified: Option<&str>,
        length: Option<u64>,
    ) -> Option<Validator> {
        let clean = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        if let Some(tag) = clean(etag) {
            return Some(Validator::ETag(tag));
        }
        clean(last_modified).map(|date| Validator::LastModified { date, length })
    }

    /// The key file's content: one line naming the validator's kind and value.
    pub(crate) fn line(&self) -> String {
        match self {
            Validator::ETag(tag) => format!("etag {tag}"),
            Validator::LastModified {
                date,
                length: Some(n),
            } => {
                format!("last-modified {date}; length {n}")
            }
            Validator::LastModified { date, length: None } => format!("last-modified {date}"),
            Validator::Sha256(hex) => format!("sha256 {hex}"),
        }
    }
}

/// The content of the key file for `url`: the URL as a comment (so a reader knows what
/// the file stands for) and the validator. Stable: the same validator gives the same bytes.
pub(crate) fn key_content(url: &str, validator: &Validator) -> String {
    // The key file is COPYed into the image: never the URL's user:password.
    format!("# {}\n{}\n", crate::redact::url(url), validator.line())
}

/// The key file's name for `url`: a readable slug of its last path segment and the first
/// 12 hex digits of the URL's sha256, so two URLs never share a file and the name never
/// changes for the same URL.
pub(crate) fn key_name(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or(url);
    let last = without_query
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("");
    let slug: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    let slug = slug.trim_matches(|c| c == '.' || c == '-');
    let hash = hex::encode(Sha256::digest(url.as_bytes()));
    if slug.is_empty() {
        format!("url-{}", &hash[..12])
    } else {
        format!("{slug}-{}", &hash[..12])
    }
}

/// What can go wrong for one URL. Each is one line; the URL's previous key file is left
/// as it was.
#[derive(Debug, thiserror::Error)]
pub enum CacheKeyError {
    #[error("{url}: not an http(s) URL")]
    NotHttp { url: String },
    #[error("{url}: the server answered {status}")]
    Status { url: String, status: u16 },
    #[error(
        "{url}: the server gives no ETag and no Last-Modified; pass --hash to key on the sha256 of the body"
    )]
    NoValidator { url: String },
    #[error("{url}: no answer within {seconds} s")]
    Timeout { url: String, seconds: f64 },
    #[error("{url}: {message}")]
    Request { url: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_wins_over_last_modified() {
        let v = Validator::from_headers(
            Some("\"abc\""),
            Some("Tue, 01 Dec 2026 10:00:00 GMT"),
            Some(5),
        );
        assert_eq!(v, Some(Validator::ETag("\"abc\"".into())));
    }

    #[test]
    fn last_modified_carries_the_length() {
        let v =
            Validator::from_headers(None, Some("Tue, 01 Dec 2026 10:00:00 GMT"), Some(5)).unwrap();
        assert_eq!(
            v.line(),
            "last-modified Tue, 01 Dec 2026 10:00:00 GMT; length 5"
        );
    }

    #[test]
    fn no_header_is_no_validator() {
        assert_eq!(Validator::from_headers(Some("  "), None, Some(5)), None);
    }

    #[test]
    fn key_names_are_stable_readable_and_distinct() {
        let a = key_name("https://example.invalid/tools/tool-latest.tar.gz?x=1");
        assert_eq!(
            a,
            key_name("https://example.invalid/tools/tool-latest.tar.gz?x=1")
        );
        assert!(a.starts_with("tool-latest.tar.gz-"), "{a}");
        assert_eq!(a.len(), "tool-latest.tar.gz-".len() + 12);
        assert_ne!(
            a,
            key_name("https://example.invalid/other/tool-latest.tar.gz?x=1")
        );
        assert!(key_name("https://example.invalid/").starts_with("example.invalid-"));
        let hostile = key_name("http://h/..%2F..%2Fetc%2Fpasswd");
        assert!(
            !hostile.contains('/') && !hostile.starts_with('.'),
            "{hostile}"
        );
    }

    #[test]
    fn key_content_is_one_validator_line_after_the_url() {
        let v = Validator::Sha256("ab".repeat(32));
        assert_eq!(
            key_content("http://h/f", &v),
            format!("# http://h/f\nsha256 {}\n", "ab".repeat(32))
        );
    }
}
