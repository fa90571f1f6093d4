//! `layergate init`: write a commented starter policy (never over an existing file).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use layergate::Exit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The ecosystem whose caches and package lists the policy forbids.
    #[arg(long, alias = "flavor", value_enum, default_value = "generic")]
    pub flavour: layergate::Flavour,
    /// Where to write the policy.
    #[arg(default_value = ".layergate.yml", value_name = "FILE")]
    pub file: PathBuf,
}

/// `init`: writes the starter policy, refusing to replace any file, and refusing a
/// second policy file where discovery would then find two.
pub fn run(args: &Args) -> Result<Exit> {
    let dir = args
        .file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = args.file.file_name().and_then(|n| n.to_str());
    if name.is_some_and(|n| layergate::DISCOVERED_FILES.contains(&n)) {
        // Discovery refuses two policy files in one directory: do not make a second.
        if let Some(other) = layergate::DISCOVERED_FILES
            .iter()
            .find(|f| Some(**f) != name && dir.join(f).is_file())
        {
            anyhow::bail!(
                "{}: cannot create the policy: {other} is already the policy here",
                args.file.display()
            );
        }
    }
    let text = layergate::starter_policy(args.flavour);
    // An empty file (what an interrupted write leaves) is not a policy: it may be
    // replaced. Anything else is the user's and is never overwritten.
    match std::fs::symlink_metadata(&args.file) {
        Ok(m) if m.is_file() && m.len() == 0 => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        _ => anyhow::bail!(
            "{}: cannot create the policy (init never overwrites a file)",
            args.file.display()
        ),
    }
    layergate::write_file(&args.file, text.as_bytes())
        .with_context(|| format!("{}: cannot create the policy", args.file.display()))?;
    eprintln!(
        "layergate: wrote {} ({} starter policy); edit it, then run `layergate diff BASE HEAD`",
        args.file.display(),
        args.flavour
    );
    Ok(Exit::Pass)
}
