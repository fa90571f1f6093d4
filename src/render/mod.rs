//! Rendering: reports and comparisons to text (terminals) and Markdown (pull
//! requests). Renderers return strings; writing or posting them is someone else's job.
//! Markdown goes through minijinja templates over a view model (`view`); whatever
//! came from an image is escaped (`escape`).

mod advice_text;
mod analyze;
mod analyze_md;
mod chart;
mod diff_text;
pub mod escape;
mod fix_md;
mod format;
pub mod html;
pub mod markdown;
pub mod packages;
pub mod view;

pub use analyze::analyze_text;
pub use analyze_md::analyze_markdown;
pub use diff_text::{check_text, diff_text};
pub use fix_md::{fix_markdown, with_fix_section, FixInput};
pub use format::{Format, Template};
pub use markdown::{check_markdown, diff_markdown, RenderError, COMMENT_LIMIT};
pub use view::{check_view, diff_view, DiffInput};
