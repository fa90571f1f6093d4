//! When the sticky comment is written (`--comment-on`): on every run, only when
//! something a reviewer reads changed, or only when the gate fails. The decision is
//! made against the comment already there (found by its marker), from a hidden state
//! line the previous run stamped into it: the verdict and a digest of the headline,
//! whose figures are the ones reviewers compare. Never a new comment per push: when
//! the decision is to write, the existing comment is updated as always.

/// `--comment-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CommentOn {
    /// Create or update on every run.
    #[default]
    Always,
    /// Only when the verdict or the headline changed since the comment (or there is none).
    Change,
    /// Only when the gate fails; a comment already there is updated either way, so a
    /// failure that is fixed says so.
    Failure,
}

/// What this run would stamp into its comment, and when it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    pub on: CommentOn,
    /// The verdict; `None` for a prepared body (`layergate comment`), always written.
    pub passed: Option<bool>,
    /// `<!-- layergate-state: … -->`, stamped into the body unless `on` is `Always`.
    pub state: Option<String>,
}

const STATE_PREFIX: &str = "<!-- layergate-state: ";

impl Rule {
    pub(super) fn new(on: CommentOn, passed: Option<bool>, headline: &str) -> Rule {
        let state = match (on, passed) {
            (CommentOn::Always, _) | (_, None) => None,
            (_, Some(passed)) => {
                let digest = blake3::hash(headline.as_bytes()).to_hex();
                let verdict = if passed { "pass" } else { "fail" };
                Some(format!("{STATE_PREFIX}{verdict} {} -->", &digest[..16]))
            }
        };
        Rule { on, passed, state }
    }

    /// The body as posted: with the state line when there is one.
    pub(super) fn stamp(&self, body: &str) -> String {
        match &self.state {
            Some(state) => format!("{}\n{state}\n", body.trim_end()),
            None => body.to_string(),
        }
    }

    /// Whether to write, given the body of the comment already there (if any).
    pub(super) fn writes(&self, existing: Option<&str>) -> bool {
        match (self.on, self.passed, existing) {
            (CommentOn::Always, _, _) | (_, None, _) => true,
            (CommentOn::Failure, Some(passed), None) => !passed,
            (CommentOn::Change, Some(_), None) => true,
            // Something to say only when the state differs (or the comment has none).
            (_, Some(_), Some(body)) => self.state.as_deref().is_none_or(|s| !body.contains(s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(rule: &Rule) -> String {
        rule.stamp("body\n<!-- layergate:default -->\n")
    }

    /// `change`: a rerun with the same verdict and headline leaves the comment alone;
    /// a new figure in the headline or a new verdict writes.
    #[test]
    fn change_writes_only_when_the_verdict_or_headline_changed() {
        let before = Rule::new(CommentOn::Change, Some(false), "grew by 24 KB");
        let body = posted(&before);
        assert!(before.writes(None));
        assert!(!Rule::new(CommentOn::Change, Some(false), "grew by 24 KB").writes(Some(&body)));
        assert!(Rule::new(CommentOn::Change, Some(false), "grew by 25 KB").writes(Some(&body)));
        assert!(Rule::new(CommentOn::Change, Some(true), "grew by 24 KB").writes(Some(&body)));
        // A comment written by an `always` run carries no state: write once.
        assert!(before.writes(Some("body\n<!-- layergate:default -->\n")));
    }

    /// `failure`: no comment while passing; a failure posts; the fix updates it.
    #[test]
    fn failure_posts_on_failure_and_updates_when_fixed() {
        let pass = Rule::new(CommentOn::Failure, Some(true), "no change");
        assert!(!pass.writes(None));
        let fail = Rule::new(CommentOn::Failure, Some(false), "grew");
        assert!(fail.writes(None));
        let body = posted(&fail);
        assert!(pass.writes(Some(&body)));
        assert!(!Rule::new(CommentOn::Failure, Some(false), "grew").writes(Some(&body)));
        assert!(!pass.writes(Some(&posted(&pass))));
    }

    /// `always` and prepared bodies stamp nothing and always write.
    #[test]
    fn always_and_prepared_bodies_always_write() {
        let always = Rule::new(CommentOn::Always, Some(true), "x");
        assert_eq!(always.stamp("b"), "b");
        assert!(always.writes(Some("b")));
        let prepared = Rule::new(CommentOn::Change, None, "");
        assert_eq!(prepared.state, None);
        assert!(prepared.writes(Some("b")));
    }
}
