//! `fix --prove`: the edge that builds the original and the rewritten Dockerfile with a
//! local engine, reads both images back through layergate's own sources, compares them
//! with `compare::compare`, and removes the images it built.
//!
//! Builders, in the order they are tried for `docker`: the CLI with `DOCKER_BUILDKIT=1`
//! (a CLI that needs the missing buildx plugin is skipped for the next one found), then
//! the legacy builder. `podman` builds through `podman --remote` (the service at
//! `CONTAINER_HOST`), `buildah` with `buildah bud` and an OCI archive it pushes. Builds
//! run with `--network host`: an engine without a bridge network builds too.
//!
//! What it reports: the predicted saving against the measured one (stored bytes over
//! all layers, before minus after), and whether the final filesystems are equal apart
//! from the cache, temp and package-list folders a rewrite may drop. Equal means the same
//! paths with the same kinds and sizes. Contents are compared apart (`content.rs`): the
//! files whose bytes differ are listed but do not make the filesystems unequal, since a
//! rebuild of a step that writes random bytes or timestamps never gives the same bytes.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::analyze::RunOptions;
use crate::compare::{compare, CompareOptions};
use crate::human::human_bytes;
use crate::load::load_reports;
use crate::report::Report;
use crate::source::OpenOptions;

/// Which engine builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The docker CLI: BuildKit when it can, else the legacy builder.
    Docker,
    /// The docker CLI with the legacy builder only (`DOCKER_BUILDKIT=0`).
    DockerLegacy,
    Podman,
    Buildah,
}

impl Engine {
    /// The engine the environment points at: `DOCKER_HOST` or a docker socket, else
    /// `CONTAINER_HOST`, else buildah.
    pub fn detect() -> Engine {
        let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
        if std::env::var("DOCKER_BUILDKIT").is_ok_and(|v| v == "0") && set("DOCKER_HOST") {
            Engine::DockerLegacy
        } else if set("DOCKER_HOST") || Path::new("/var/run/docker.sock").exists() {
            Engine::Docker
        } else if set("CONTAINER_HOST") {
            Engine::Podman
        } else {
            Engine::Buildah
        }
    }
}

/// One `--prove` run.
#[derive(Debug, Clone)]
pub struct Request {
    /// The build context (the Dockerfile's folder).
    pub context: PathBuf,
    pub original: String,
    pub rewritten: String,
    pub predicted: u64,
    /// The rewrite uses `COPY --chmod` or `RUN --mount`.
    pub needs_buildkit: bool,
    pub engine: Engine,
}

/// What the rebuild showed.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Proof {
    /// `docker (BuildKit)`, `docker (legacy builder)`, `podman`, `buildah`.
    pub(crate) builder: String,
    pub(crate) predicted_bytes: u64,
    /// Stored bytes (regular files over all layers) of the original build.
    pub(crate) original_bytes: u64,
    pub(crate) rewritten_bytes: u64,
    /// original − rewritten.
    pub(crate) measured_bytes: i64,
    pub(crate) original_layers: u64,
    pub(crate) rewritten_layers: u64,
    /// The final filesystems hold the same paths, kinds and sizes outside caches.
    pub(crate) equal: bool,
    /// Paths that differ outside the cache folders (at most 20).
    pub(crate) differences: Vec<String>,
    /// Files only the original holds in cache, temp and package-list folders.
    pub(crate) dropped_files: usize,
    /// Regular files on both sides, outside those folders, whose bytes differ (at most
    /// 20). Not part of `equal`: a step that writes random bytes or a timestamp gives
    /// other bytes on every build, so this says which files to look at.
    pub(crate) content_differences: Vec<String>,
    /// How many such files there are in all.
    pub(crate) content_differing: usize,
}

/// One build: `file` in `context`, tagged `tag`; `needs_buildkit` when the file uses
/// what only BuildKit builds (heredocs, `--chmod` on COPY).
#[derive(Clone, Copy)]
struct Build<'a> {
    file: &'a Path,
    context: &'a Path,
    tag: &'a str,
    needs_buildkit: bool,
}

impl Proof {
    /// One line for the terminal.
    pub fn summary(&self) -> String {
        format!(
            "layergate: fix: proved with {}: predicted {}, measured {} ({} → {} stored, {} → {} layers); final filesystems {}",
            self.builder,
            human_bytes(self.predicted_bytes),
            signed(self.measured_bytes),
            human_bytes(self.original_bytes),
            human_bytes(self.rewritten_bytes),
            self.original_layers,
            self.rewritten_layers,
            if self.equal {
                format!("equal apart from {} dropped cache files", self.dropped_files)
            } else {
                format!("differ: {}", self.differences.join(", "))
            }
        ) + &match self.content_differing {
            0 => "; same content in every file".to_string(),
            n => format!(
                "; {n} file(s) with other bytes (a step writing random bytes or a time differs on every build): {}",
                self.content_differences.join(", ")
            ),
        }
    }

    pub fn markdown(&self) -> String {
        format!(
            "**Proven by a rebuild** ({}): predicted {}, measured **{}** ({} → {} stored in layers). \
             Final filesystems {}.",
            self.builder,
            human_bytes(self.predicted_bytes),
            signed(self.measured_bytes),
            human_bytes(self.original_bytes),
            human_bytes(self.rewritten_bytes),
            if self.equal {
                "equal apart from the dropped caches".to_string()
            } else {
                format!("differ in {} paths", self.differences.len())
            }
        ) + &match self.content_differing {
            0 => " Every file has the same bytes.".to_string(),
            n => format!(
                " {n} file(s) hold other bytes (steps writing random bytes or a time differ on every build)."
            ),
        }
    }
}

fn signed(n: i64) -> String {
    if n < 0 {
        format!("-{}", human_bytes(n.unsigned_abs()))
    } else {
        human_bytes(n as u64)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    #[error("--prove: {0}")]
    Io(String),
    #[error("--prove: {builder} could not build the {which} Dockerfile: {message}")]
    Build {
        builder: String,
        which: &'static str,
        message: String,
    },
    #[error("--prove: the rewrite needs BuildKit (COPY --chmod or RUN --mount) and the legacy builder rejects it; build with BuildKit, buildah or podman")]
    NeedsBuildKit,
    #[error("--prove: reading the built images: {0}")]
    Load(#[from] crate::load::LoadError),
}

/// Builds both files, compares the images, removes them.
pub fn prove(request: &Request, open: &OpenOptions) -> Result<Proof, ProveError> {
    let dir = tempfile::Builder::new()
        .prefix("layergate-prove")
        .tempdir()
        .map_err(|e| ProveError::Io(e.to_string()))?;
    let files = [
        (
            "original",
            dir.path().join("Dockerfile.original"),
            &request.original,
        ),
        (
            "rewritten",
            dir.path().join("Dockerfile.rewritten"),
            &request.rewritten,
        ),
    ];
    for (_, path, text) in &files {
        std::fs::write(path, text)
            .map_err(|e| ProveError::Io(format!("{}: {e}", path.display())))?;
    }
    let tag = |which: &str| format!("localhost/layergate-prove-{}:{which}", std::process::id());
    let mut builder = Builder::new(request.engine, dir.path());
    if builder.legacy_only() && request.needs_buildkit {
        return Err(ProveError::NeedsBuildKit);
    }
    let mut built: Vec<String> = Vec::new();
    let mut refs: Vec<String> = Vec::new();
    let mut result = Ok(());
    for (which, path, _) in &files {
        match builder.build(&Build {
            file: path,
            context: &request.context,
            tag: &tag(which),
            needs_buildkit: request.needs_buildkit,
        }) {
            Ok(reference) => {
                built.push(tag(which));
                refs.push(reference);
            }
            Err(message) => {
                result = Err(ProveError::Build {
                    builder: builder.name(),
                    which,
                    message,
                });
                break;
            }
        }
    }
    let reports = match result {
        Ok(()) => {
            let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
            load_reports(&refs, open, &RunOptions::default()).map_err(ProveError::from)
        }
        Err(e) => Err(e),
    };
    // The contents, read before the images are removed.
    let contents = match &reports {
        Ok(_) => refs
            .iter()
            .map(|r| super::content::live_contents(r, open))
            .collect::<Result<Vec<_>, String>>()
            .map_err(ProveError::Io),
        Err(_) => Ok(Vec::new()),
    };
    builder.remove(&built);
    let reports = reports?;
    let contents = contents?;
    let ([original, rewritten], [a, b]) = (reports.as_slice(), contents.as_slice()) else {
        return Err(ProveError::Io("expected two images".to_string()));
    };
    let mut proof = measure(builder.name(), request.predicted, original, rewritten);
    let mut differing =
        super::content::differing(a, b, |p| crate::advice::caches::location(p).is_some());
    proof.content_differing = differing.len();
    differing.truncate(20);
    proof.content_differences = differing;
    Ok(proof)
}

/// The proof from the two built images.
pub(crate) fn measure(
    builder: String,
    predicted: u64,
    original: &Report,
    rewritten: &Report,
) -> Proof {
    let c = compare(
        original,
        rewritten,
        &CompareOptions {
            top: usize::MAX,
            ..CompareOptions::default()
        },
    );
    let is_cache = |p: &str| crate::advice::caches::location(p).is_some();
    let mut differences = Vec::new();
    let mut dropped = 0;
    for f in c.files.removed.iter() {
        if is_cache(&f.path) {
            dropped += 1;
        } else {
            differences.push(f.path.clone());
        }
    }
    for f in c
        .files
        .added
        .iter()
        .chain(&c.files.grown)
        .chain(&c.files.shrunk)
    {
        if !is_cache(&f.path) {
            differences.push(f.path.clone());
        }
    }
    // Kinds: a path that is a file on one side and a link on the other.
    let kinds = |r: &Report| -> std::collections::BTreeMap<String, crate::report::FileKind> {
        r.files.iter().map(|f| (f.path.clone(), f.kind)).collect()
    };
    let (ka, kb) = (kinds(original), kinds(rewritten));
    for (p, k) in &ka {
        if kb.get(p).is_some_and(|k2| k2 != k) && !is_cache(p) && !differences.contains(p) {
            differences.push(p.clone());
        }
    }
    let equal = differences.is_empty();
    differences.truncate(20);
    let stored = |r: &Report| r.totals.uncompressed_bytes.unwrap_or(0);
    Proof {
        builder,
        predicted_bytes: predicted,
        original_bytes: stored(original),
        rewritten_bytes: stored(rewritten),
        measured_bytes: crate::compare::signed_delta(stored(rewritten), stored(original)),
        original_layers: original.totals.layers,
        rewritten_layers: rewritten.totals.layers,
        equal,
        differences,
        dropped_files: dropped,
        content_differences: Vec::new(),
        content_differing: 0,
    }
}

/// One engine's build, read-back and clean-up commands.
struct Builder<'a> {
    engine: Engine,
    dir: &'a Path,
    /// The docker CLI that builds (the first that can use BuildKit, else the legacy one).
    docker: Option<(PathBuf, bool)>,
}

impl<'a> Builder<'a> {
    fn new(engine: Engine, dir: &'a Path) -> Builder<'a> {
        Builder {
            engine,
            dir,
            docker: None,
        }
    }

    fn legacy_only(&self) -> bool {
        self.engine == Engine::DockerLegacy
    }

    fn name(&self) -> String {
        match (self.engine, &self.docker) {
            (Engine::Docker | Engine::DockerLegacy, Some((_, true))) => "docker (BuildKit)".into(),
            (Engine::Docker | Engine::DockerLegacy, _) => "docker (legacy builder)".into(),
            (Engine::Podman, _) => "podman".into(),
            (Engine::Buildah, _) => "buildah".into(),
        }
    }

    /// Builds `file` in `context` as `tag`; the reference layergate reads it back by.
    fn build(&mut self, job: &Build<'_>) -> Result<String, String> {
        let Build {
            file, context, tag, ..
        } = *job;
        match self.engine {
            Engine::Docker | Engine::DockerLegacy => self.docker_build(job),
            Engine::Podman => {
                run(build_command(
                    "podman",
                    &["--remote", "build"],
                    file,
                    tag,
                    context,
                ))?;
                Ok(format!("podman:{tag}"))
            }
            Engine::Buildah => {
                run(build_command(
                    "buildah",
                    &["bud", "--layers"],
                    file,
                    tag,
                    context,
                ))?;
                let archive = self
                    .dir
                    .join(format!("{}.tar", tag.rsplit(':').next().unwrap_or("image")));
                let mut push = Command::new("buildah");
                push.args(["push", tag])
                    .arg(format!("oci-archive:{}", archive.display()));
                run(push)?;
                Ok(format!("oci-archive:{}", archive.display()))
            }
        }
    }

    fn docker_build(&mut self, job: &Build<'_>) -> Result<String, String> {
        let Build {
            file,
            context,
            tag,
            needs_buildkit,
        } = *job;
        let attempt = |cli: &Path, buildkit: bool| {
            let mut cmd = Command::new(cli);
            cmd.env("DOCKER_BUILDKIT", if buildkit { "1" } else { "0" })
                .args(["build", "--network", "host", "-f"])
                .arg(file)
                .args(["-t", tag])
                .arg(context);
            run(cmd)
        };
        if let Some((cli, buildkit)) = self.docker.clone() {
            attempt(&cli, buildkit)?;
            return Ok(format!("docker-daemon:{tag}"));
        }
        let mut clis: Vec<PathBuf> = Vec::new();
        if let Some(c) = std::env::var_os("LAYERGATE_DOCKER_CLI") {
            clis.push(PathBuf::from(c));
        }
        clis.push(PathBuf::from("docker"));
        clis.push(PathBuf::from("/usr/bin/docker"));
        let mut last = String::from("no docker CLI found");
        if self.engine == Engine::Docker {
            for cli in &clis {
                match attempt(cli, true) {
                    Ok(_) => {
                        self.docker = Some((cli.clone(), true));
                        return Ok(format!("docker-daemon:{tag}"));
                    }
                    // A CLI that needs the buildx plugin (or is missing): try the next.
                    Err(e)
                        if e.contains("buildx")
                            || e.contains("not found")
                            || e.contains("No such file") =>
                    {
                        last = e
                    }
                    Err(e) => return Err(e),
                }
            }
            if needs_buildkit {
                return Err(format!(
                    "no docker CLI here builds with BuildKit ({last}), and the rewrite needs it"
                ));
            }
        }
        for cli in &clis {
            match attempt(cli, false) {
                Ok(_) => {
                    self.docker = Some((cli.clone(), false));
                    return Ok(format!("docker-daemon:{tag}"));
                }
                Err(e) if e.contains("not found") || e.contains("No such file") => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// Removes what was built; a failure here leaves an image behind, never an error.
    fn remove(&self, tags: &[String]) {
        if tags.is_empty() {
            return;
        }
        let mut cmd = match self.engine {
            Engine::Docker | Engine::DockerLegacy => {
                let cli = self
                    .docker
                    .as_ref()
                    .map_or(PathBuf::from("docker"), |d| d.0.clone());
                let mut c = Command::new(cli);
                c.arg("rmi");
                c
            }
            Engine::Podman => {
                let mut c = Command::new("podman");
                c.args(["--remote", "rmi"]);
                c
            }
            Engine::Buildah => {
                let mut c = Command::new("buildah");
                c.arg("rmi");
                c
            }
        };
        cmd.args(tags);
        let _ = cmd.output();
    }
}

/// Runs a build command; `Err` holds the last lines of its output.
fn run(mut cmd: Command) -> Result<(), String> {
    match cmd.output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            Err(lines[lines.len().saturating_sub(3)..].join(" | "))
        }
        Err(e) => Err(format!("{}: {e}", cmd.get_program().to_string_lossy())),
    }
}

/// `PROGRAM VERB… --network host -f FILE -t TAG CONTEXT`: podman and buildah take a
/// Dockerfile alike (host network: the test engines run without a bridge).
fn build_command(program: &str, verb: &[&str], file: &Path, tag: &str, context: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(verb)
        .args(["--network", "host", "-f"])
        .arg(file)
        .args(["-t", tag])
        .arg(context);
    cmd
}
