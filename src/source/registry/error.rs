//! Errors of the registry edge. Each names the registry, the repository and what was
//! being fetched, plus the HTTP status when there was one, on one line.

/// What to do when a registry wants credentials we did not have (or refused them).
pub(super) const AUTH_HINT: &str = "pass --creds USER:PASS, set LAYERGATE_REGISTRY_USER and \
LAYERGATE_REGISTRY_PASSWORD, or run docker login";

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{registry}/{repository}: {what}: HTTP {status}: authentication required — {AUTH_HINT} {registry}")]
    AuthRequired {
        registry: String,
        repository: String,
        what: String,
        status: u16,
    },
    #[error("{registry}/{repository}: {what}: HTTP 403: access denied for these credentials")]
    Denied {
        registry: String,
        repository: String,
        what: String,
    },
    #[error("{registry}/{repository}: {what}: not found (HTTP 404)")]
    NotFound {
        registry: String,
        repository: String,
        what: String,
    },
    #[error("{registry}/{repository}: {what}: HTTP {status}{}", attempts_note(*attempts))]
    Status {
        registry: String,
        repository: String,
        what: String,
        status: u16,
        attempts: u32,
    },
    #[error("{registry}/{repository}: {what}: {msg}{}", attempts_note(*attempts))]
    Transport {
        registry: String,
        repository: String,
        what: String,
        msg: String,
        attempts: u32,
    },
    #[error("{registry}/{repository}: {what}: no answer within {timeout:?}{}", attempts_note(*attempts))]
    Timeout {
        registry: String,
        repository: String,
        what: String,
        timeout: std::time::Duration,
        attempts: u32,
    },
    #[error("{registry}/{repository}: {what}: {msg}")]
    Protocol {
        registry: String,
        repository: String,
        what: String,
        msg: String,
    },
    #[error("credentials for {registry}: {msg}")]
    Credentials { registry: String, msg: String },
    #[error("registry client: {0}")]
    Runtime(String),
    #[error(transparent)]
    Setting(#[from] crate::environment::SettingError),
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}
