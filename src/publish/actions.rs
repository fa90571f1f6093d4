//! GitHub Actions' file and stdout protocols: the job summary (appended Markdown),
//! step outputs (`key=value`, heredoc for multi-line values) and workflow-command
//! annotations (`::error::` / `::warning::`) with their data escaped.

use std::path::Path;

use super::{CommentOutcome, Publication, PublishError, Severity};

/// The job summary file is shared by every step of the job: append, never replace.
pub(crate) fn append_summary(path: &Path, markdown: &str) -> Result<(), PublishError> {
    let mut text = markdown.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    append(path, &text)
}

fn append(path: &Path, text: &str) -> Result<(), PublishError> {
    // In one piece: a full disk leaves the file as it was, never half a line.
    crate::write::append_file(path, text.as_bytes()).map_err(|e| PublishError::file(path, e))
}

/// The outputs, in the order the action documents them.
pub(crate) fn outputs(
    publication: &Publication,
    comment: &CommentOutcome,
    extra: Option<(String, String)>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(passed) = publication.passed {
        out.push((
            "verdict".into(),
            if passed { "pass" } else { "fail" }.into(),
        ));
    }
    if !publication.headline.is_empty() {
        out.push(("headline".into(), publication.headline.clone()));
    }
    let count = |s| {
        publication
            .findings
            .iter()
            .filter(|f| f.severity == s)
            .count()
            .to_string()
    };
    out.push(("failures".into(), count(Severity::Fail)));
    out.push(("warnings".into(), count(Severity::Warn)));
    for m in &publication.outputs {
        out.push((m.name.clone(), format_number(m.value)));
    }
    if let Some(kind) = publication.size_kind {
        out.push(("size-kind".into(), kind.as_str().into()));
    }
    if let Some(p) = &publication.report_path {
        out.push(("report-path".into(), p.clone()));
    }
    out.extend(extra);
    if let CommentOutcome::Created { url, id, .. } | CommentOutcome::Updated { url, id, .. } =
        comment
    {
        out.push(("comment-id".into(), id.to_string()));
        out.push(("comment-url".into(), url.clone()));
    }
    out.push(("comment-status".into(), comment.status().into()));
    out
}

pub(crate) fn write_outputs(
    path: &Path,
    publication: &Publication,
    comment: &CommentOutcome,
    extra: Option<(String, String)>,
) -> Result<(), PublishError> {
    let text: String = outputs(publication, comment, extra)
        .iter()
        .map(|(k, v)| output_line(k, v))
        .collect();
    append(path, &text)
}

/// `key=value`, or the heredoc form when the value spans lines, with a delimiter
/// that cannot occur in the value.
pub(crate) fn output_line(key: &str, value: &str) -> String {
    if !value.contains('\n') && !value.contains('\r') {
        return format!("{key}={value}\n");
    }
    let mut delimiter = String::from("LAYERGATE_EOF");
    while value.contains(&delimiter) {
        delimiter.push('_');
    }
    format!("{key}<<{delimiter}\n{value}\n{delimiter}\n")
}

/// Integers print without a fraction: sizes are bytes.
pub(crate) fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// One annotation per finding: failures as errors, warnings as warnings.
pub(crate) fn annotations(publication: &Publication) -> Vec<String> {
    publication
        .findings
        .iter()
        .map(|f| {
            let level = match f.severity {
                Severity::Fail => "error",
                Severity::Warn => "warning",
            };
            let mut message = f.message.clone();
            if let Some(p) = &f.path {
                message.push_str(&format!(" ({p})"));
            }
            format!(
                "::{level} title={}::{}",
                escape_property(&format!("layergate {}", f.code)),
                escape_data(&message)
            )
        })
        .collect()
}

/// Escapes a workflow command's message, so a file name from an image cannot end
/// the line and inject another command.
pub(super) fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (`title=`, `file=`).
pub(super) fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A newline in a path must not start a second workflow command.
    #[test]
    fn annotation_data_is_escaped() {
        assert_eq!(escape_data("a%b\r\n::error::x"), "a%25b%0D%0A::error::x");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }

    /// Multi-line outputs use the heredoc form, with a delimiter absent from the value.
    #[test]
    fn multi_line_outputs_use_a_heredoc() {
        assert_eq!(output_line("k", "v"), "k=v\n");
        assert_eq!(
            output_line("k", "a\nLAYERGATE_EOF\nb"),
            "k<<LAYERGATE_EOF_\na\nLAYERGATE_EOF\nb\nLAYERGATE_EOF_\n"
        );
    }

    /// Sizes are integral bytes; a ratio keeps its fraction.
    #[test]
    fn numbers_print_like_humans_expect() {
        assert_eq!(format_number(1234.0), "1234");
        assert_eq!(format_number(-5.0), "-5");
        assert_eq!(format_number(0.25), "0.25");
    }
}
