//! The CI variables `merge` and `history append` fall back on.

/// The first of these environment variables that is set and not empty.
pub fn env_first(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
}
