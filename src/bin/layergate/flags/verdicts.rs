//! The JSON verdict files `merge` and `history append` read, and the CI variables
//! they fall back on.

use std::path::PathBuf;

use anyhow::{Context, Result};
use layergate::fleet::input::{self, Input};
use layergate::fleet::FleetError;

/// The first of these environment variables that is set and not empty.
pub fn env_first(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
}

const MAX_VERDICT_BYTES: u64 = 256 << 20;

pub fn read_inputs(paths: &[PathBuf]) -> Result<Vec<Input>> {
    if paths.is_empty() {
        return Err(FleetError::NoInputs.into());
    }
    let mut inputs = Vec::new();
    for p in paths {
        let name = p.display().to_string();
        let bytes = layergate::read_capped(p, MAX_VERDICT_BYTES).with_context(|| name.clone())?;
        inputs.push(input::parse(&name, &bytes)?);
    }
    input::check_labels(&inputs)?;
    Ok(inputs)
}
