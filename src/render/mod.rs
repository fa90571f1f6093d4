//! Rendering: reports and comparisons to text (terminals) and Markdown (pull
//! requests). Renderers return strings; writing or posting them is someone else's job.

mod analyze;

pub use analyze::{analyze_markdown, analyze_text};
