//! What a `docker://REGISTRY/REPO[:TAG|@DIGEST]` reference points at, in the form the
//! HTTP layer needs: host, repository, tag or digest, and whether to speak plain HTTP.
//! Parsing (and Docker Hub's `library/` and `index.docker.io` rules) is oci-client's.

use std::str::FromStr;

use oci_client::Reference;

use super::super::SourceError;
use crate::image::Digest;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    /// The registry as named (`docker.io`, `ghcr.io`, `127.0.0.1:5000`): credentials key.
    pub registry: String,
    /// Where requests go (`index.docker.io` for Docker Hub).
    pub host: String,
    pub repository: String,
    /// What to ask `/manifests/` for: the digest when given, else the tag.
    pub reference: String,
    pub digest: Option<Digest>,
    /// Plain HTTP: the registry is loopback or listed with `--insecure-registry`.
    pub(crate) plain_http: bool,
    /// The reference oci-client parsed, handed back to it for authentication.
    pub parsed: Reference,
}

impl Target {
    pub(super) fn parse(rest: &str, insecure: &[String]) -> Result<Target, SourceError> {
        let bad = |why: String| SourceError::BadReference(format!("docker://{rest}"), why);
        let parsed = Reference::from_str(rest).map_err(|e| bad(e.to_string()))?;
        let digest = parsed
            .digest()
            .map(Digest::parse)
            .transpose()
            .map_err(|e| bad(e.to_string()))?;
        let reference = match (&digest, parsed.tag()) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.to_string(),
            (None, None) => "latest".to_string(),
        };
        let registry = parsed.registry().to_string();
        let host = parsed.resolve_registry().to_string();
        Ok(Target {
            plain_http: is_insecure(&registry, insecure),
            repository: parsed.repository().to_string(),
            registry,
            host,
            reference,
            digest,
            parsed,
        })
    }

    /// `registry/repository:tag` or `@digest`, as people write it.
    pub(super) fn name(&self) -> String {
        let sep = if self.digest.is_some() { '@' } else { ':' };
        format!(
            "{}/{}{sep}{}",
            self.registry, self.repository, self.reference
        )
    }

    pub(super) fn base_url(&self) -> String {
        let scheme = if self.plain_http { "http" } else { "https" };
        format!("{scheme}://{}/v2/{}", self.host, self.repository)
    }
}

/// Loopback registries speak plain HTTP by default (as Docker's daemon allows);
/// anything else only when listed, by host or host:port.
fn is_insecure(registry: &str, insecure: &[String]) -> bool {
    let host = match registry.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => registry,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    matches!(host, "localhost" | "127.0.0.1" | "::1")
        || insecure
            .iter()
            .any(|i| i.eq_ignore_ascii_case(registry) || i.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_names_get_library_and_the_index_host() {
        let t = Target::parse("alpine", &[]).unwrap();
        assert_eq!(t.registry, "docker.io");
        assert_eq!(t.host, "index.docker.io");
        assert_eq!(t.repository, "library/alpine");
        assert_eq!(t.reference, "latest");
        assert!(!t.plain_http);
        assert_eq!(t.base_url(), "https://index.docker.io/v2/library/alpine");
    }

    #[test]
    fn loopback_is_plain_http_and_others_only_when_listed() {
        let t = Target::parse("127.0.0.1:5000/app-pr:latest", &[]).unwrap();
        assert!(t.plain_http);
        assert_eq!(t.base_url(), "http://127.0.0.1:5000/v2/app-pr");
        assert_eq!(t.name(), "127.0.0.1:5000/app-pr:latest");
        assert!(Target::parse("localhost:5000/a", &[]).unwrap().plain_http);
        assert!(!Target::parse("reg.lan:5000/a", &[]).unwrap().plain_http);
        assert!(
            Target::parse("reg.lan:5000/a", &["reg.lan:5000".into()])
                .unwrap()
                .plain_http
        );
        assert!(
            Target::parse("reg.lan:5000/a", &["reg.lan".into()])
                .unwrap()
                .plain_http
        );
        assert!(
            !Target::parse("reg.lan:5000/a", &["reg.lan:6000".into()])
                .unwrap()
                .plain_http
        );
    }

    #[test]
    fn digest_references_ask_for_the_digest() {
        let d = format!("sha256:{}", "a".repeat(64));
        let t = Target::parse(&format!("ghcr.io/o/app@{d}"), &[]).unwrap();
        assert_eq!(t.reference, d);
        assert_eq!(t.name(), format!("ghcr.io/o/app@{d}"));
        assert!(Target::parse("ghcr.io/o/app@sha256:zz", &[]).is_err());
        assert!(Target::parse("UPPER/Case", &[]).is_err());
    }
}
