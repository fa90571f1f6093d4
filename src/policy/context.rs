//! What both halves of phase two share: the context that collects every problem with
//! its position, and how a value is named in a message. Its own file, so that the
//! `packages:` section's loader and the main loader both use it without importing
//! each other.

use globset::GlobBuilder;

use super::units::{parse_percent, parse_size};
use super::yaml::{Key, Node, Value};
use super::{PathGlob, Policy, PolicyErrors, Problem, Severity};

pub(super) struct Ctx {
    pub(super) source: String,
    problems: Vec<Problem>,
}

impl Ctx {
    pub(super) fn new(source: &str) -> Ctx {
        Ctx {
            source: source.to_string(),
            problems: Vec::new(),
        }
    }

    pub(super) fn source(&self) -> &str {
        &self.source
    }

    pub(super) fn err(&mut self, node_pos: super::yaml::Pos, message: impl Into<String>) {
        self.problems.push(Problem {
            line: node_pos.line.max(1),
            column: node_pos.column.max(1),
            message: message.into(),
        });
    }

    pub(super) fn finish(mut self, policy: Policy) -> Result<Policy, PolicyErrors> {
        if self.problems.is_empty() {
            return Ok(policy);
        }
        self.problems
            .sort_by_key(|p| (p.line, p.column, p.message.clone()));
        Err(PolicyErrors {
            source_name: self.source,
            problems: self.problems,
        })
    }

    /// The entries of a mapping with only `allowed` keys; reports a non-mapping,
    /// unknown keys and duplicate keys. `Null` (an empty section) is an empty map.
    pub(super) fn map<'a>(
        &mut self,
        node: &'a Node,
        what: &str,
        allowed: &[&str],
    ) -> Vec<(&'a Key, &'a Node)> {
        let entries = match &node.value {
            Value::Map(m) => m,
            Value::Null => return Vec::new(),
            other => {
                self.err(
                    node.pos,
                    format!("{what}: expected a mapping, found {}", other.kind()),
                );
                return Vec::new();
            }
        };
        let mut out: Vec<(&Key, &Node)> = Vec::new();
        for (k, v) in entries {
            if let Some((first, _)) = out.iter().find(|(f, _)| f.name == k.name) {
                let msg = format!(
                    "duplicate key `{}` in {what} (first at line {})",
                    k.name, first.pos.line
                );
                self.err(k.pos, msg);
                continue;
            }
            if !allowed.is_empty() && !allowed.contains(&k.name.as_str()) {
                self.err(
                    k.pos,
                    format!(
                        "unknown key `{}` in {what} (expected one of: {})",
                        k.name,
                        allowed.join(", ")
                    ),
                );
                continue;
            }
            out.push((k, v));
        }
        out
    }

    pub(super) fn size(&mut self, node: &Node, what: &str) -> Option<u64> {
        match &node.value {
            Value::Int(i) if *i >= 0 => Some(*i as u64),
            _ => self.written(node, what, parse_size, "a size like `20MB` or `20MiB`"),
        }
    }

    pub(super) fn percent(&mut self, node: &Node, what: &str) -> Option<f64> {
        self.written(node, what, parse_percent, "a percent like `5%`")
    }

    /// A figure written as a string (`20MB`, `5%`), parsed by `parse`; anything
    /// else is one problem saying what was expected (`like`).
    fn written<T, E: std::fmt::Display>(
        &mut self,
        node: &Node,
        what: &str,
        parse: impl Fn(&str) -> Result<T, E>,
        like: &str,
    ) -> Option<T> {
        let found = match &node.value {
            Value::Str(s) => match parse(s) {
                Ok(v) => return Some(v),
                Err(e) => format!("{what}: {e}"),
            },
            other => format!("{what}: expected {like}, found {}", describe(other)),
        };
        self.err(node.pos, found);
        None
    }

    pub(super) fn count(&mut self, node: &Node, what: &str) -> Option<u64> {
        match &node.value {
            Value::Int(i) if *i >= 0 => Some(*i as u64),
            other => {
                self.err(
                    node.pos,
                    format!("{what}: expected a whole number, found {}", describe(other)),
                );
                None
            }
        }
    }

    pub(super) fn severity(&mut self, node: &Node, what: &str) -> Option<Severity> {
        match &node.value {
            Value::Str(s) if s == "fail" => Some(Severity::Fail),
            Value::Str(s) if s == "warn" => Some(Severity::Warn),
            other => {
                self.err(
                    node.pos,
                    format!(
                        "{what}: bad severity {}: expected `fail` or `warn`",
                        describe(other)
                    ),
                );
                None
            }
        }
    }

    pub(super) fn string<'a>(&mut self, node: &'a Node, what: &str) -> Option<&'a str> {
        match &node.value {
            Value::Str(s) => Some(s),
            other => {
                self.err(
                    node.pos,
                    format!("{what}: expected a string, found {}", describe(other)),
                );
                None
            }
        }
    }

    pub(super) fn glob(&mut self, node: &Node, what: &str) -> Option<PathGlob> {
        let s = self.string(node, what)?;
        if !s.starts_with('/') && !s.starts_with("**") {
            self.err(
                node.pos,
                format!("{what}: bad glob `{s}`: paths are absolute, start it with `/` or `**`"),
            );
            return None;
        }
        match GlobBuilder::new(s).literal_separator(true).build() {
            Ok(g) => Some(PathGlob {
                glob: s.to_string(),
                matcher: g.compile_matcher(),
            }),
            Err(e) => {
                self.err(node.pos, format!("{what}: bad glob `{s}`: {}", e.kind()));
                None
            }
        }
    }

    pub(super) fn list<'a>(&mut self, node: &'a Node, what: &str) -> &'a [Node] {
        match &node.value {
            Value::Seq(items) => items,
            Value::Null => &[],
            other => {
                self.err(
                    node.pos,
                    format!("{what}: expected a list, found {}", other.kind()),
                );
                &[]
            }
        }
    }
}

/// A value as a message shows it: strings quoted, others by kind.
pub(super) fn describe(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("`{s}`"),
        Value::Int(i) => format!("`{i}`"),
        Value::Float(f) => format!("`{f}`"),
        Value::Bool(b) => format!("`{b}`"),
        other => other.kind().to_string(),
    }
}
