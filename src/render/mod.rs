//! Rendering: reports and comparisons to text (terminals) and Markdown (pull
//! requests). Renderers return strings; writing or posting them is someone else's job.
//! Markdown goes through minijinja templates over a view model (`view`); whatever
//! came from an image is escaped (`escape`).

mod advice_text;
pub(crate) mod analyze;
pub(crate) mod analyze_md;
mod chart;
mod diff_text;
pub(crate) mod escape;
pub(crate) mod fix_md;
pub(crate) mod format;
pub(crate) mod html;
pub(crate) mod markdown;
pub(crate) mod packages;
pub(crate) mod view;

pub(crate) use analyze::analyze_text;
pub(crate) use diff_text::{check_text, diff_text};
pub(crate) use fix_md::with_fix_section;
pub(crate) use fix_md::FixInput;
pub(crate) use format::{Format, Template};
pub(crate) use markdown::COMMENT_LIMIT;
pub(crate) use markdown::{check_markdown, diff_markdown, RenderError};
pub(crate) use view::{check_view, diff_view, DiffInput};
