//! Diagnostics and their renderers.
//!
//! Parsers never stop at the first problem: they push [`Diagnostic`]s into a [`Diagnostics`]
//! list and go on; the caller decides the verdict at the end ([`Diagnostics::has_errors`]).
//! Every diagnostic has a span and knows which tool's file it is about, so it renders in that
//! tool's native style:
//!
//! * haproxy.cfg: `[ALERT]    (PID) : config : parsing [FILE:LINE] : message`
//! * keepalived.conf: `(FILE: Line N) message`
//!
//! plus an optional source line with a caret and a `help:` line. [`Diagnostics::to_json`]
//! gives the same list for machines.

use crate::source::{SourceMap, Span};
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Makes the configuration invalid (`[ALERT]`).
    Error,
    /// Valid, but probably not what was meant (`[WARNING]`).
    Warning,
    /// Information (`[NOTICE]`), e.g. from `.notice`.
    Notice,
}

/// Whose file a diagnostic is about; decides the rendering style.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Haproxy,
    Keepalived,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub dialect: Dialect,
    /// Where; line 0 means the file as a whole (e.g. it could not be read).
    pub span: Span,
    pub message: String,
    /// A hint such as "did you mean 'timeout'?".
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(dialect: Dialect, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            dialect,
            span,
            message: message.into(),
            help: None,
        }
    }
    pub fn warning(dialect: Dialect, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            dialect,
            span,
            message: message.into(),
            help: None,
        }
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// All diagnostics of one check, in the order they were found.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    list: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn push(&mut self, d: Diagnostic) {
        self.list.push(d);
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.list.extend(other.list);
    }
    pub fn has_errors(&self) -> bool {
        self.list.iter().any(|d| d.severity == Severity::Error)
    }
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.list.iter().filter(|d| d.severity == Severity::Error)
    }
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.list.iter()
    }
    pub fn len(&self) -> usize {
        self.list.len()
    }
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Renders every diagnostic in its tool's style, one per line (plus caret and help lines
    /// when `verbose`).
    pub fn render(&self, sources: &SourceMap, pid: u32, verbose: bool) -> String {
        let mut out = String::new();
        for d in &self.list {
            render_one(&mut out, d, sources, pid, verbose);
        }
        out
    }

    /// `{"valid": bool, "errors": N, "warnings": N, "diagnostics": [...]}`.
    pub fn to_json(&self, sources: &SourceMap) -> serde_json::Value {
        let items: Vec<serde_json::Value> = self
            .list
            .iter()
            .map(|d| {
                serde_json::json!({
                    "severity": d.severity,
                    "dialect": d.dialect,
                    "file": sources.name(d.span.file),
                    "line": d.span.line,
                    "col": d.span.col,
                    "message": d.message,
                    "help": d.help,
                })
            })
            .collect();
        serde_json::json!({
            "valid": !self.has_errors(),
            "errors": self.errors().count(),
            "warnings": self.list.iter().filter(|d| d.severity == Severity::Warning).count(),
            "diagnostics": items,
        })
    }
}

fn render_one(out: &mut String, d: &Diagnostic, sources: &SourceMap, pid: u32, verbose: bool) {
    let file = sources.name(d.span.file);
    match d.dialect {
        Dialect::Haproxy => {
            let tag = match d.severity {
                Severity::Error => "[ALERT]   ",
                Severity::Warning => "[WARNING] ",
                Severity::Notice => "[NOTICE]  ",
            };
            if d.span.line == 0 {
                let _ = writeln!(out, "{tag} ({pid}) : config : [{file}] : {}", d.message);
            } else {
                let _ = writeln!(
                    out,
                    "{tag} ({pid}) : config : parsing [{file}:{}] : {}",
                    d.span.line, d.message
                );
            }
        }
        Dialect::Keepalived => {
            let tag = match d.severity {
                Severity::Error => "",
                Severity::Warning => "WARNING - ",
                Severity::Notice => "",
            };
            let _ = writeln!(out, "({file}: Line {}) {tag}{}", d.span.line, d.message);
        }
    }
    if verbose {
        if let Some(line) = sources.line(d.span) {
            let _ = writeln!(out, "    | {line}");
            let col = d.span.col.max(1) as usize - 1;
            let pad: String = line
                .chars()
                .take(col)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(out, "    | {pad}^");
        }
    }
    if let Some(help) = &d.help {
        if verbose || d.dialect == Dialect::Keepalived {
            let _ = writeln!(out, "    help: {help}");
        }
    }
}

/// Finds the candidate closest to `word` (edit distance, at most a third of the
/// word's length, minimum 1), for "did you mean" hints.
pub fn best_match<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance where swapping two adjacent characters costs one edit (optimal string
/// alignment), so `chekc` is one edit from `check`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;

    #[test]
    fn haproxy_style_names_file_and_line() {
        let mut map = SourceMap::new();
        let f = map.add("haproxy.cfg", "global\n  foo\n".into());
        let mut ds = Diagnostics::new();
        ds.push(Diagnostic::error(
            Dialect::Haproxy,
            Span::new(f, 2, 3),
            "unknown keyword 'foo'",
        ));
        let text = ds.render(&map, 42, false);
        assert_eq!(
            text,
            "[ALERT]    (42) : config : parsing [haproxy.cfg:2] : unknown keyword 'foo'\n"
        );
        assert!(ds.has_errors());
    }

    #[test]
    fn keepalived_style_and_caret() {
        let mut map = SourceMap::new();
        let f = map.add("k.conf", "vrrp_instance X {\n  bogus 1\n}\n".into());
        let mut ds = Diagnostics::new();
        ds.push(Diagnostic::warning(
            Dialect::Keepalived,
            Span::new(f, 2, 3),
            "unknown keyword",
        ));
        let text = ds.render(&map, 1, true);
        assert!(text.starts_with("(k.conf: Line 2) WARNING - unknown keyword\n"));
        assert!(text.contains("    |   ^\n"));
        assert!(!ds.has_errors());
    }

    #[test]
    fn best_match_finds_close_keywords_only() {
        let kws = ["timeout", "maxconn", "balance"];
        assert_eq!(best_match("timout", kws), Some("timeout"));
        assert_eq!(best_match("maxcon", kws), Some("maxconn"));
        assert_eq!(best_match("zzzzzzzz", kws), None);
        assert_eq!(best_match("chekc", ["check", "inter"]), Some("check"));
        assert_eq!(best_match("foo", ["log"]), None);
    }
}
