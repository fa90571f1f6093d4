//! The hidden marker that makes a comment sticky: `<!-- layergate:KEY -->` at the top
//! of the body lets a later run find its own comment (and, with a different key, a
//! second comment for a second image) instead of adding one more. The key ends up
//! inside an HTML comment, a file name and a URL-free API search, so it is validated
//! once, when the flag is parsed; the renderer writes and the publishers look for the
//! same text.

use std::fmt;

/// The key used when none is given.
pub const DEFAULT_KEY: &str = "default";

/// A validated comment key and the marker it makes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Marker {
    key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("comment key {key:?}: use 1-64 letters, digits, '-', '_' or '.'")]
pub struct MarkerError {
    pub(crate) key: String,
}

impl Marker {
    /// Keys hold what cannot close an HTML comment or inject Markdown.
    pub fn new(key: &str) -> Result<Marker, MarkerError> {
        let ok = !key.is_empty()
            && key.len() <= 64
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(Marker {
                key: key.to_string(),
            })
        } else {
            Err(MarkerError {
                key: key.to_string(),
            })
        }
    }

    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// `<!-- layergate:KEY -->`
    pub(crate) fn text(&self) -> String {
        format!("<!-- layergate:{} -->", self.key)
    }

    /// Whether `body` carries this marker (and not merely a longer key's).
    pub(crate) fn is_in(&self, body: &str) -> bool {
        body.contains(&self.text())
    }

    /// The body with the marker, added at the top when the renderer (a custom
    /// template) left it out.
    pub(crate) fn stamp(&self, body: &str) -> String {
        if self.is_in(body) {
            body.to_string()
        } else {
            format!("{}\n{body}", self.text())
        }
    }
}

impl Default for Marker {
    fn default() -> Self {
        Marker {
            key: DEFAULT_KEY.to_string(),
        }
    }
}

impl fmt::Display for Marker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl std::str::FromStr for Marker {
    type Err = MarkerError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Marker::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Re-runs must find their own comment: the marker is added exactly once.
    #[test]
    fn marker_is_stamped_once() {
        let m = Marker::new("api").unwrap();
        let once = m.stamp("# Verdict\n");
        assert_eq!(once, "<!-- layergate:api -->\n# Verdict\n");
        assert_eq!(m.stamp(&once), once);
    }

    /// One key's marker never matches another key's comment.
    #[test]
    fn markers_of_different_keys_do_not_overlap() {
        let a = Marker::new("a").unwrap();
        assert!(!a.is_in(&Marker::new("ab").unwrap().text()));
    }

    /// A key could otherwise close the HTML comment and inject Markdown.
    #[test]
    fn keys_are_validated() {
        assert!(Marker::new("web-1.x_y").is_ok());
        assert!(Marker::new("a -->").is_err());
        assert!(Marker::new("").is_err());
        assert!(Marker::new(&"k".repeat(65)).is_err());
        assert_eq!(Marker::default().key(), "default");
    }
}
