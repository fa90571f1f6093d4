//! `layergate fix IMAGE --dockerfile FILE`: flags, one call into the library
//! (`fix::plan`, and `fix::prove` with `--prove`), and the printing.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::ValueEnum;

use layergate::load_reports;
use layergate::Engine;
use layergate::Exit;

use crate::flags::image::ImageArgs;
use crate::flags::output::write_output;
use crate::flags::suggest::SuggestArgs;

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum FixFormat {
    /// A unified diff on standard output; notes and refusals on standard error.
    Diff,
    Json,
    /// The "Fix it" section of a pull-request comment.
    Markdown,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum EngineArg {
    /// The docker CLI: BuildKit when it can, else the legacy builder.
    Docker,
    /// The docker CLI's legacy builder only.
    DockerLegacy,
    /// `podman --remote` (the service at CONTAINER_HOST).
    Podman,
    Buildah,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The image built from the Dockerfile: docker-archive:PATH, oci-archive:PATH,
    /// oci:DIR[:TAG], docker://REF, docker-daemon:NAME, podman:NAME, or a path.
    pub image: String,
    /// The Dockerfile the image was built from.
    #[arg(long, value_name = "FILE")]
    pub dockerfile: PathBuf,
    /// Replace the Dockerfile with the rewrite (atomically, keeping its mode).
    #[arg(long)]
    pub write: bool,
    #[arg(long, value_enum, default_value = "diff")]
    pub format: FixFormat,
    /// Also apply edits that change what is installed (`--no-install-recommends`).
    #[arg(long)]
    pub aggressive: bool,
    /// Build the original and the rewrite with the local engine and measure the saving.
    #[arg(long)]
    pub prove: bool,
    /// The engine --prove builds with (default: DOCKER_HOST or the docker socket, else
    /// CONTAINER_HOST, else buildah).
    #[arg(long, value_enum, requires = "prove")]
    pub engine: Option<EngineArg>,
    /// Write the output to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub image_args: ImageArgs,
    /// Suggestions on the pull request's diff.
    #[command(flatten)]
    pub suggest: SuggestArgs,
}

pub fn run(args: Args) -> Result<Exit> {
    let path = &args.dockerfile;
    let text = layergate::read_text_capped(path, layergate::MAX_TEXT_BYTES)
        .with_context(|| format!("{}: cannot read Dockerfile", path.display()))?;
    let opts = args.image_args.open_options()?;
    let run = args.image_args.run_options();
    let loaded = load_reports(&[args.image.as_str()], &opts, &run);
    crate::flags::run::warn_once(&run);
    let report = loaded?.pop().context("internal: no report")?;
    let options = layergate::FixOptions {
        aggressive: args.aggressive,
        key_dir: ".cache-keys".to_string(),
    };
    let plan = layergate::fix_plan(&report, &text, &options);
    let name = path
        .file_name()
        .map_or("Dockerfile".into(), |n| n.to_string_lossy().into_owned());
    let diff = layergate::fix_diff(&name, &text, &plan.text);
    let written = args.write && plan.changed(&text);
    if written {
        layergate::write_file(path, plan.text.as_bytes())
            .with_context(|| format!("{}: cannot write the rewrite", path.display()))?;
    }
    let proof = if args.prove {
        let context = path.parent().filter(|p| !p.as_os_str().is_empty());
        let context = context.unwrap_or(std::path::Path::new("."));
        Some(layergate::prove_fix(
            &layergate::ProveRequest {
                context: context.to_path_buf(),
                original: text.clone(),
                rewritten: plan.text.clone(),
                predicted: plan.predicted_bytes,
                needs_buildkit: plan.needs_buildkit(),
                engine: match args.engine {
                    None => Engine::detect(),
                    Some(EngineArg::Docker) => Engine::Docker,
                    Some(EngineArg::DockerLegacy) => Engine::DockerLegacy,
                    Some(EngineArg::Podman) => Engine::Podman,
                    Some(EngineArg::Buildah) => Engine::Buildah,
                },
            },
            &opts,
        )?)
    } else {
        None
    };
    let body = match args.format {
        FixFormat::Diff => {
            let mut err = std::io::stderr().lock();
            for c in &plan.changes {
                let saving = c.bytes.map_or_else(String::new, |b| {
                    format!(" (saves {})", layergate::human_bytes(b))
                });
                writeln!(
                    err,
                    "layergate: fix: {} line {}: {}{saving}",
                    c.code,
                    lines(&c.lines),
                    c.summary
                )?;
                if let Some(n) = &c.note {
                    writeln!(err, "layergate: fix: note: {n}")?;
                }
            }
            for r in &plan.refused {
                writeln!(
                    err,
                    "layergate: fix: left {} ({}): {}",
                    r.code,
                    layers(&r.layers),
                    r.reason
                )?;
            }
            if written {
                writeln!(err, "layergate: fix: wrote {}", path.display())?;
            }
            if let Some(p) = &proof {
                writeln!(err, "{}", p.summary())?;
            }
            diff.clone()
        }
        FixFormat::Json => {
            let mut v = serde_json::to_value(&plan)?;
            v["dockerfile"] = serde_json::Value::String(path.display().to_string());
            v["image"] = serde_json::Value::String(args.image.clone());
            v["diff"] = serde_json::Value::String(diff.clone());
            v["written"] = serde_json::Value::Bool(written);
            if let Some(p) = &proof {
                v["prove"] = serde_json::to_value(p)?;
            }
            serde_json::to_string_pretty(&v)? + "\n"
        }
        FixFormat::Markdown => {
            let mut md = layergate::fix_markdown(&plan, &name, &diff);
            if let Some(p) = &proof {
                md.push_str(&format!("\n{}\n", p.markdown()));
            }
            md
        }
    };
    write_output(args.output.as_deref(), &body)?;
    if args.suggest.suggest {
        suggest(&args.suggest, path, &text, &plan, &name, &diff)?;
    }
    Ok(Exit::Pass)
}

/// Posts the rewrite as suggestions on the pull request (never fails the run once the
/// settings are valid: what the forge refuses is a warning and the fallback comment).
fn suggest(
    args: &SuggestArgs,
    path: &std::path::Path,
    text: &str,
    plan: &layergate::FixPlan,
    name: &str,
    diff: &str,
) -> Result<()> {
    use layergate::publish;
    let env = publish::Env::from_process();
    let repo_path = match &args.repo_path {
        Some(p) => p.trim_start_matches("./").to_string(),
        None => publish::repo_path(path, &env)?,
    };
    let request = publish::SuggestRequest {
        marker: &args.comment_key,
        path: repo_path,
        original: text,
        plan,
        patch_markdown: layergate::fix_markdown(plan, name, diff),
    };
    crate::flags::suggest::print(&publish::suggest(&args.settings(), &request, &env)?)
}

fn lines(l: &[usize]) -> String {
    l.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn layers(l: &[usize]) -> String {
    l.iter()
        .map(|x| format!("L{x}"))
        .collect::<Vec<_>>()
        .join(", ")
}
