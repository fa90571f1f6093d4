//! Rendering: reports and comparisons to text (terminals) and Markdown (pull
//! requests). Renderers return strings; writing or posting them is someone else's job.

mod advice_text;
mod analyze;

pub use advice_text::advice_text;
pub use analyze::{analyze_markdown, analyze_text};
