//! Secrets kept out of every line layergate prints or writes. Two kinds:
//! - the tokens and passwords it was configured with (registered once, when a
//!   setting chose them), replaced wherever they appear, even inside a server's
//!   answer that echoes the request headers back;
//! - the userinfo of any `http(s)://`/`ftp://` URL (`user:password@`), replaced by
//!   `***@`, so a URL that carries its own credentials is never shown whole.
//!
//! A server's error text and a URL given by the user both reach messages; scrubbing
//! at the few places text leaves the process (the binary's error line, warnings,
//! key files) is what makes "never prints a token" true whatever the server says.

use std::sync::RwLock;

/// What a secret is replaced with.
pub(crate) const MASK: &str = "***";

/// Secrets shorter than this are not registered: replacing every `a` of a message
/// would hide it without protecting anything.
const MIN_SECRET: usize = 4;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a token or password to be replaced from now on.
pub(crate) fn register(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_SECRET {
        return;
    }
    if let Ok(mut s) = SECRETS.write() {
        if !s.iter().any(|k| k == secret) {
            s.push(secret.to_string());
            // Longest first, so a secret containing another is replaced whole.
            s.sort_by_key(|k| std::cmp::Reverse(k.len()));
        }
    }
}

/// `text` with every registered secret and every URL's userinfo replaced.
pub fn scrub(text: &str) -> String {
    let mut out = url_userinfo(text);
    if let Ok(s) = SECRETS.read() {
        for secret in s.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
    }
    out
}

/// `url` without its userinfo (`https://***@host/…`): what a URL may show.
pub(crate) fn url(url: &str) -> String {
    url_userinfo(url)
}

/// Replaces the userinfo of every `http://`, `https://` and `ftp://` URL in `text`.
/// Other schemes (`docker://name@sha256:…`) carry no credentials and are left alone.
fn url_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let scheme_start = rest[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '.' || c == '-'))
            .map_or(0, |i| i + 1);
        let scheme = rest[scheme_start..at].to_ascii_lowercase();
        let after = at + 3;
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        if !matches!(scheme.as_str(), "http" | "https" | "ftp" | "ftps") {
            continue;
        }
        // The authority ends at the first of these; userinfo is what precedes its last '@'.
        let end = rest
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '"')
            .unwrap_or(rest.len());
        if let Some(at_sign) = rest[..end].rfind('@') {
            out.push_str(MASK);
            rest = &rest[at_sign..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_replaced_in_web_urls_only() {
        assert_eq!(
            url("http://alice:PASSWORD@host/f?x=1"),
            "http://***@host/f?x=1"
        );
        assert_eq!(
            scrub("GET https://u:p@a.example/x: failed; see http://b/y"),
            "GET https://***@a.example/x: failed; see http://b/y"
        );
        assert_eq!(
            url("docker://alpine@sha256:abc"),
            "docker://alpine@sha256:abc"
        );
        assert_eq!(url("https://host/a@b"), "https://host/a@b");
        assert_eq!(url("no url here"), "no url here");
        assert_eq!(url("HTTPS://x:y@h"), "HTTPS://***@h");
    }

    #[test]
    fn registered_secrets_are_replaced_wherever_they_appear() {
        register("ghp_redact_test_token_123");
        register("ab");
        assert_eq!(
            scrub("HTTP 401: echo: Bearer ghp_redact_test_token_123, ab"),
            "HTTP 401: echo: Bearer ***, ab"
        );
    }
}
