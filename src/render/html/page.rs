//! The page around the payload: `page.html` with `page.css` and `page.js` inlined
//! and the payload embedded as JSON in a `<script type="application/json">`.

use super::payload::Payload;

const TEMPLATE: &str = include_str!("page.html");
const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

/// The complete HTML document for `payload`.
pub(crate) fn page(payload: &Payload) -> String {
    let json = serde_json::to_string(payload).unwrap_or_else(|_| "null".to_string());
    // The data goes in last, so nothing in it is ever taken for a placeholder.
    TEMPLATE
        .replacen("/*CSS*/", CSS, 1)
        .replacen("/*JS*/", JS, 1)
        .replacen("/*DATA*/", &script_safe(&json), 1)
}

/// JSON that cannot end its `<script>` element or open a comment inside it: `<`,
/// `>` and `&` become `\u003c`, `\u003e`, `\u0026` (the same string to
/// `JSON.parse`), and so do the line separators JavaScript once rejected.
pub(super) fn script_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file named `</script><script>` must stay inside the JSON string.
    #[test]
    fn script_safe_escapes_markup() {
        let json = serde_json::to_string("</script><script>alert(1)</script>&amp;").unwrap();
        let safe = script_safe(&json);
        assert!(!safe.contains('<') && !safe.contains('>') && !safe.contains('&'));
        let back: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, "</script><script>alert(1)</script>&amp;");
    }
}
