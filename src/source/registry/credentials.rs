//! Where credentials for a registry come from, first match wins: `--creds`, the
//! `LAYERGATE_REGISTRY_USER`/`_PASSWORD` environment, Docker's config (`auths`,
//! `credsStore`, `credHelpers`, through the `docker_credential` crate), then podman's
//! `auth.json`. Nothing found means anonymous, which still earns a bearer token from
//! registries that allow public pulls (Docker Hub, GHCR).

use docker_credential::DockerCredential;

use super::RegistryError;

pub(super) const USER_ENV: &str = "LAYERGATE_REGISTRY_USER";
pub(super) const PASSWORD_ENV: &str = "LAYERGATE_REGISTRY_PASSWORD";

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub(crate) user: String,
    pub(crate) password: String,
}

// Never print a password, not even in a debug dump.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}:***)", self.user)
    }
}

impl Credentials {
    /// `USER:PASS`; the password may itself hold colons.
    pub fn parse(s: &str) -> Option<Credentials> {
        let (user, password) = s.split_once(':')?;
        // Never shown again, whatever a registry echoes back.
        crate::redact::register(password);
        (!user.is_empty()).then(|| Credentials {
            user: user.to_string(),
            password: password.to_string(),
        })
    }
}

/// The credentials to use for `registry`, or `None` for anonymous access.
pub(super) fn resolve(
    registry: &str,
    given: Option<&Credentials>,
) -> Result<Option<Credentials>, RegistryError> {
    if let Some(c) = given {
        return Ok(Some(c.clone()));
    }
    match (std::env::var(USER_ENV), std::env::var(PASSWORD_ENV)) {
        (Ok(user), Ok(password)) if !user.is_empty() => {
            crate::redact::register(&password);
            return Ok(Some(Credentials { user, password }));
        }
        (Ok(user), Err(_)) if !user.is_empty() => {
            return Err(RegistryError::Credentials {
                registry: registry.to_string(),
                msg: format!("{USER_ENV} is set but {PASSWORD_ENV} is not"),
            })
        }
        _ => {}
    }
    for key in config_keys(registry) {
        if let Some(c) = from_store(docker_credential::get_credential(&key)) {
            return Ok(Some(c));
        }
    }
    for key in config_keys(registry) {
        if let Some(c) = from_store(docker_credential::get_podman_credential(&key)) {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

/// The spellings `docker login` stores a registry under.
fn config_keys(registry: &str) -> Vec<String> {
    if matches!(
        registry,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    ) {
        return vec![
            "https://index.docker.io/v1/".into(),
            "docker.io".into(),
            "index.docker.io".into(),
        ];
    }
    vec![
        registry.to_string(),
        format!("https://{registry}"),
        format!("http://{registry}"),
    ]
}

/// A missing config, an unconfigured registry or a broken credential helper all mean
/// "try the next place": the registry's 401 then says how to pass credentials.
fn from_store(
    found: Result<DockerCredential, docker_credential::CredentialRetrievalError>,
) -> Option<Credentials> {
    match found.ok()? {
        DockerCredential::UsernamePassword(user, password) => Some(Credentials { user, password }),
        // Registries that issue identity tokens (ACR, Harbor robots) take them as the
        // password of the placeholder user Docker itself uses.
        DockerCredential::IdentityToken(token) => Some(Credentials {
            user: "<token>".into(),
            password: token,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creds_split_at_the_first_colon() {
        let c = Credentials::parse("bot:pa:ss").unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str()), ("bot", "pa:ss"));
        assert!(Credentials::parse("nocolon").is_none());
        assert!(Credentials::parse(":pw").is_none());
        assert_eq!(format!("{c:?}"), "Credentials(bot:***)");
    }

    #[test]
    fn docker_hub_is_looked_up_under_its_legacy_key() {
        assert_eq!(config_keys("docker.io")[0], "https://index.docker.io/v1/");
        assert_eq!(config_keys("ghcr.io")[0], "ghcr.io");
    }
}
