//! Markdown through minijinja templates (embedded from `templates/`; `--template`
//! replaces the `diff`/`check` one). Templates receive the view model unescaped and
//! escape image-derived text with the `md` filter. The `diff` comment is kept under
//! GitHub's comment limit by halving its longest table until it fits.

use minijinja::{AutoEscape, Environment, Value};
use serde::Serialize;

use super::escape;
use super::view::{CheckView, DiffView};

pub(crate) const DIFF_TEMPLATE: &str = include_str!("../../templates/diff.md.j2");
pub(crate) const CHECK_TEMPLATE: &str = include_str!("../../templates/check.md.j2");
pub(crate) const ANALYZE_TEMPLATE: &str = include_str!("../../templates/analyze.md.j2");

/// GitHub refuses comments over 65,536 characters; keep a margin for the publisher.
pub(crate) const COMMENT_LIMIT: usize = 65_000;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
}

/// Instructions one rendering may run: the built-in templates need a few hundred
/// thousand on the largest views; a `--template` with nested loops stops here with
/// an error instead of running for ever.
pub(crate) const TEMPLATE_FUEL: u64 = 50_000_000;

/// Largest text one rendering may produce (the comment is cut far below this; the
/// cap stops a template that would fill memory).
pub(crate) const TEMPLATE_OUTPUT_LIMIT: usize = 64 << 20;

fn env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.add_filter("md", |v: Value| escape::md(&v.to_string()));
    env
}

/// Renders `source` (a template text named `name` in messages) over `ctx`.
pub(crate) fn render_template<T: Serialize>(
    name: &str,
    source: &str,
    ctx: &T,
) -> Result<String, RenderError> {
    let err = |e: minijinja::Error| RenderError::Template {
        name: name.to_string(),
        message: e.to_string().replace('\n', " "),
    };
    let env = env();
    let tmpl = env.template_from_str(source).map_err(err)?;
    let mut out = Capped(Vec::new());
    match tmpl.render_captured_to(ctx, &mut out) {
        Ok(_) => {}
        Err(_) if out.0.len() > TEMPLATE_OUTPUT_LIMIT => {
            return Err(RenderError::Template {
                name: name.to_string(),
                message: format!("renders more than {TEMPLATE_OUTPUT_LIMIT} bytes"),
            })
        }
        Err(e) => return Err(err(e)),
    }
    String::from_utf8(out.0).map_err(|e| RenderError::Template {
        name: name.to_string(),
        message: e.to_string(),
    })
}

/// A buffer that refuses to grow past [`TEMPLATE_OUTPUT_LIMIT`].
struct Capped(Vec<u8>);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > TEMPLATE_OUTPUT_LIMIT {
            // Marks the overflow for the caller, then stops the rendering.
            self.0.resize(TEMPLATE_OUTPUT_LIMIT + 1, 0);
            return Err(std::io::Error::other("output limit"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The `diff` comment, cut to fit `limit` characters: the longest table is halved
/// (with a note saying how many rows were left out) until the text fits.
pub(crate) fn diff_markdown(
    mut view: DiffView,
    template: Option<(&str, &str)>,
    limit: usize,
) -> Result<String, RenderError> {
    let (name, source) = template.unwrap_or(("diff.md.j2", DIFF_TEMPLATE));
    loop {
        let out = render_template(name, source, &view)?;
        if out.chars().count() <= limit {
            return Ok(out);
        }
        if !view.shrink() {
            // Only a custom template can get here: cut the text itself.
            let note = "\n\n_(cut to fit the comment size limit)_\n";
            let keep = limit.saturating_sub(note.chars().count());
            let mut cut: String = out.chars().take(keep).collect();
            cut.push_str(note);
            return Ok(cut);
        }
    }
}

pub(crate) fn check_markdown(
    view: &CheckView,
    template: Option<(&str, &str)>,
) -> Result<String, RenderError> {
    let (name, source) = template.unwrap_or(("check.md.j2", CHECK_TEMPLATE));
    render_template(name, source, view)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nested loops of a hundred thousand run out of fuel (or output) instead of
    /// running for ever; an ordinary template renders.
    #[test]
    fn an_endless_template_is_stopped() {
        let endless = "{% for a in range(100000) %}{% for b in range(100000) %}{{ b }}{% endfor %}{% endfor %}";
        let e = render_template("t.j2", endless, &()).unwrap_err();
        assert!(e.to_string().starts_with("template t.j2: "), "{e}");
        assert_eq!(render_template("t.j2", "{{ 1 + 1 }}", &()).unwrap(), "2");
    }
}
