//! Escaping for Markdown that reaches a pull request. Everything that came from an
//! image (paths, commands, names) goes through `md` before it meets a template, so
//! it cannot end a table cell, open a link, inject HTML, mention a user or an issue.

/// One line of inline Markdown, safe inside a table cell.
pub(crate) fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '~' | '|' | '$' | '!' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '#' => out.push_str("&#35;"),
            '@' => out.push_str("&#64;"),
            ':' => out.push_str("&#58;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A fence longer than any backtick run in `body`, so the block cannot be closed
/// from inside.
pub(crate) fn fence_for(body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// A link target for a Markdown comment (`--html-url`): only `http(s)://`, and
/// every character that could end the link or open markup percent-encoded.
pub fn link_url(url: &str) -> Result<String, String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(format!("{url:?} is not an http(s) URL"));
    }
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            ' ' | '(' | ')' | '[' | ']' | '<' | '>' | '"' | '\'' | '`' | '|' | '\\' | '{' | '}' => {
                out.push_str(&format!("%{:02X}", c as u32))
            }
            c if c.is_control() => return Err("the URL holds a control character".into()),
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A link target cannot close the Markdown link or smuggle a scheme.
    #[test]
    fn link_url_encodes_markup_and_refuses_other_schemes() {
        assert_eq!(
            link_url("https://ci.example/run 1/(x)<y>").unwrap(),
            "https://ci.example/run%201/%28x%29%3Cy%3E"
        );
        assert!(link_url("javascript:alert(1)").is_err());
        assert!(link_url("https://x/a%20b").is_ok());
        assert!(link_url("https://x/\u{7}").is_err());
    }

    /// A hostile file name must not break a table row or inject HTML or a link.
    #[test]
    fn md_neutralises_markup() {
        let s = md("/a|b`c<script>[x](http://e)*_\n@me #1");
        assert!(!s.contains('<') && !s.contains('\n'));
        assert!(!s.contains("](") && !s.contains(" |"));
        assert_eq!(
            s,
            "/a\\|b\\`c&lt;script&gt;\\[x\\]\\(http&#58;//e\\)\\*\\_ &#64;me &#35;1"
        );
    }

    /// A history line holding ``` must not close the diff's code block.
    #[test]
    fn fence_outgrows_backticks() {
        assert_eq!(fence_for("a ``` b"), "````");
        assert_eq!(fence_for("plain"), "```");
    }
}
