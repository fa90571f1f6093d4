//! Errors of the engine edge: each names the engine's address (what `DOCKER_HOST` or
//! `CONTAINER_HOST` would say) and, where it helps, what to do next, on one line.

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Nothing listens where we looked (no socket, connection refused).
    #[error("no engine at {address} (set {env})")]
    NotRunning { address: String, env: &'static str },
    #[error("permission denied on {address}: add your user to the group that owns the socket, or set {env} to one you can open")]
    PermissionDenied { address: String, env: &'static str },
    #[error("image {name} not in the local engine at {address}; did you mean docker://{suggest}?")]
    NoSuchImage {
        name: String,
        address: String,
        suggest: String,
    },
    #[error("{address}: {what}: HTTP {status}: {message}")]
    Status {
        address: String,
        what: String,
        status: u16,
        message: String,
    },
    #[error("{address}: {what}: {msg}")]
    Transport {
        address: String,
        what: String,
        msg: String,
    },
    /// The export ended (or broke) before it described a whole image: never a smaller image.
    #[error("{address}: export of {name} is truncated or failed half-way: {msg}")]
    Truncated {
        address: String,
        name: String,
        msg: String,
    },
    #[error("{0}")]
    Config(String),
}
