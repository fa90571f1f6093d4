//! Where an engine listens: `DOCKER_HOST` / `DOCKER_CONTEXT` (or the CLI config's current
//! context) for Docker, `CONTAINER_HOST` and the rootless/rootful sockets for podman.
//! Only `unix://` and plain `tcp://` are spoken; TLS and `ssh://` are refused in one line.

use std::path::{Path, PathBuf};

use super::{EngineError, EngineKind};

/// An engine address, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Unix(PathBuf),
    /// `host:port`
    Tcp(String),
}

impl Endpoint {
    /// As a user would write it in `DOCKER_HOST`.
    pub(crate) fn address(&self) -> String {
        match self {
            Endpoint::Unix(p) => format!("unix://{}", p.display()),
            Endpoint::Tcp(a) => format!("tcp://{a}"),
        }
    }

    pub(crate) fn parse(host: &str) -> Result<Endpoint, EngineError> {
        if let Some(path) = host.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(EngineError::Config(format!("{host}: no socket path")));
            }
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        if let Some(addr) = host.strip_prefix("tcp://") {
            let addr = addr.trim_end_matches('/');
            if addr.is_empty() || addr.contains('/') {
                return Err(EngineError::Config(format!(
                    "{host}: expected tcp://HOST:PORT"
                )));
            }
            // Docker's default plain-TCP port when none is given.
            let addr = if addr
                .rsplit_once(':')
                .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
            {
                addr.to_string()
            } else {
                format!("{addr}:2375")
            };
            return Ok(Endpoint::Tcp(addr));
        }
        if host.starts_with('/') {
            return Ok(Endpoint::Unix(PathBuf::from(host)));
        }
        Err(EngineError::Config(format!(
            "{host}: unsupported engine address (layergate speaks unix:// and plain tcp://)"
        )))
    }
}

/// The environment as far as endpoint discovery needs it (injectable for tests).
pub(super) trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub(super) struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

pub(super) const DOCKER_SOCKET: &str = "/var/run/docker.sock";
pub(super) const PODMAN_ROOTFUL_SOCKET: &str = "/run/podman/podman.sock";

/// The endpoint of `kind`, and the variable a user sets to change it.
pub(super) fn discover(kind: EngineKind, env: &dyn Env) -> Result<Endpoint, EngineError> {
    match kind {
        EngineKind::Docker => {
            if env.var("DOCKER_TLS_VERIFY").is_some() {
                return Err(EngineError::Config(
                    "DOCKER_TLS_VERIFY is set: layergate does not speak TLS to an engine; use its unix socket".into(),
                ));
            }
            if let Some(host) = env.var("DOCKER_HOST") {
                return Endpoint::parse(&host);
            }
            if let Some(host) = context_host(env)? {
                return Endpoint::parse(&host);
            }
            Ok(Endpoint::Unix(DOCKER_SOCKET.into()))
        }
        EngineKind::Podman => {
            if let Some(host) = env.var("CONTAINER_HOST") {
                return Endpoint::parse(&host);
            }
            if let Some(run) = env.var("XDG_RUNTIME_DIR") {
                let rootless = Path::new(&run).join("podman/podman.sock");
                if rootless.exists() {
                    return Ok(Endpoint::Unix(rootless));
                }
            }
            Ok(Endpoint::Unix(PODMAN_ROOTFUL_SOCKET.into()))
        }
    }
}

/// `DOCKER_CONTEXT`, else the CLI config's `currentContext`: the context's stored
/// docker host. `default` means the default socket. Cheap: two small JSON files.
fn context_host(env: &dyn Env) -> Result<Option<String>, EngineError> {
    let config_dir = match env.var("DOCKER_CONFIG") {
        Some(d) => PathBuf::from(d),
        None => match env.var("HOME") {
            Some(h) => Path::new(&h).join(".docker"),
            None => return Ok(None),
        },
    };
    let name = match env.var("DOCKER_CONTEXT") {
        Some(n) => n,
        None => {
            let Some(raw) = read_small(&config_dir.join("config.json")) else {
                return Ok(None);
            };
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(&raw) else {
                return Ok(None);
            };
            match v.get("currentContext").and_then(|c| c.as_str()) {
                Some(n) => n.to_string(),
                None => return Ok(None),
            }
        }
    };
    if name == "default" {
        return Ok(None);
    }
    // The CLI stores a context under the sha256 of its name.
    let id = crate::image::Digest::sha256_of(name.as_bytes());
    let meta = config_dir
        .join("contexts/meta")
        .join(id.hex())
        .join("meta.json");
    let unknown = || {
        EngineError::Config(format!(
            "docker context {name:?} not found ({})",
            meta.display()
        ))
    };
    let raw = read_small(&meta).ok_or_else(unknown)?;
    let v: serde_json::Value = serde_json::from_slice(&raw).map_err(|_| unknown())?;
    v.pointer("/Endpoints/docker/Host")
        .and_then(|h| h.as_str())
        .map(|h| Some(h.to_string()))
        .ok_or_else(unknown)
}

fn read_small(path: &Path) -> Option<Vec<u8>> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.len() > 1 << 20 {
        return None;
    }
    std::fs::read(path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Vars(HashMap<&'static str, String>);
    impl Env for Vars {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
    }
    fn vars(pairs: &[(&'static str, &str)]) -> Vars {
        Vars(pairs.iter().map(|(k, v)| (*k, v.to_string())).collect())
    }

    #[test]
    fn docker_host_wins_and_defaults_to_the_system_socket() {
        let e = discover(
            EngineKind::Docker,
            &vars(&[("DOCKER_HOST", "unix:///tmp/d.sock")]),
        )
        .unwrap();
        assert_eq!(e, Endpoint::Unix("/tmp/d.sock".into()));
        let e = discover(
            EngineKind::Docker,
            &vars(&[("DOCKER_HOST", "tcp://10.0.0.1")]),
        )
        .unwrap();
        assert_eq!(e, Endpoint::Tcp("10.0.0.1:2375".into()));
        let e = discover(EngineKind::Docker, &vars(&[("HOME", "/nonexistent")])).unwrap();
        assert_eq!(e.address(), "unix:///var/run/docker.sock");
        assert!(discover(
            EngineKind::Docker,
            &vars(&[("DOCKER_HOST", "ssh://me@box")])
        )
        .is_err());
    }

    #[test]
    fn docker_context_reads_the_stored_host() {
        let dir = tempfile::tempdir().unwrap();
        let id = crate::image::Digest::sha256_of(b"other");
        let meta = dir.path().join("contexts/meta").join(id.hex());
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            r#"{"Name":"other","Endpoints":{"docker":{"Host":"unix:///tmp/other.sock"}}}"#,
        )
        .unwrap();
        let cfg = dir.path().display().to_string();
        let env = vars(&[("DOCKER_CONFIG", &cfg), ("DOCKER_CONTEXT", "other")]);
        assert_eq!(
            discover(EngineKind::Docker, &env).unwrap(),
            Endpoint::Unix("/tmp/other.sock".into())
        );
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"currentContext":"other"}"#,
        )
        .unwrap();
        let env = vars(&[("DOCKER_CONFIG", &cfg)]);
        assert_eq!(
            discover(EngineKind::Docker, &env).unwrap(),
            Endpoint::Unix("/tmp/other.sock".into())
        );
        let env = vars(&[("DOCKER_CONFIG", &cfg), ("DOCKER_CONTEXT", "missing")]);
        assert!(discover(EngineKind::Docker, &env).is_err());
    }

    #[test]
    fn podman_prefers_container_host_then_rootless_socket() {
        let e = discover(
            EngineKind::Podman,
            &vars(&[("CONTAINER_HOST", "unix:///x/p.sock")]),
        )
        .unwrap();
        assert_eq!(e, Endpoint::Unix("/x/p.sock".into()));
        let e = discover(
            EngineKind::Podman,
            &vars(&[("XDG_RUNTIME_DIR", "/nonexistent")]),
        )
        .unwrap();
        assert_eq!(e.address(), "unix:///run/podman/podman.sock");
    }
}
