//! What a verdict command is asked to draw: the `--format` of its body, and a
//! replacement Markdown template. Plain values the binary fills from its flags and
//! every run (`gate`, `fleet`) takes, so no run depends on another for them.

/// What `--format` asks a command to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
    /// A self-contained HTML page with a treemap (`render::html`).
    Html,
}

/// A replacement Markdown template: its name (for messages) and its text.
#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    pub text: String,
}

impl Template {
    /// As the renderers take it: (name, text).
    pub(crate) fn as_pair(&self) -> (&str, &str) {
        (self.name.as_str(), self.text.as_str())
    }
}
