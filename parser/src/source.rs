//! Source map and spans.
//!
//! Every configuration file read (including files pulled in by keepalived's `include`) gets a
//! [`FileId`] in one [`SourceMap`]. A [`Span`] is a file, a 1-based line and a 1-based column:
//! small and `Copy`, so every IR item can carry one. Renderers in `diag.rs` turn a span back
//! into `file:line` through the map.

use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize)]
pub struct FileId(pub u32);

/// A position in a configuration file: 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize)]
pub struct Span {
    pub file: FileId,
    pub line: u32,
    pub col: u32,
}

impl Span {
    pub fn new(file: FileId, line: u32, col: u32) -> Self {
        Span { file, line, col }
    }
}

/// A value and the place in the configuration it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned {
            node: f(self.node),
            span: self.span,
        }
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.node
    }
}

impl<T: fmt::Display> fmt::Display for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)
    }
}

/// One file's name (as the user gave it) and text.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

/// Every file read for one configuration.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file's text under the name diagnostics will show.
    pub fn add(&mut self, path: impl Into<PathBuf>, text: String) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(SourceFile {
            path: path.into(),
            text,
        });
        id
    }

    /// Reads a file from disk and adds it. Invalid UTF-8 is replaced, not rejected: HAProxy
    /// reads bytes, and a stray Latin-1 byte in a comment must not make a config unreadable.
    pub fn load(&mut self, path: &Path) -> std::io::Result<FileId> {
        let bytes = std::fs::read(path)?;
        let text = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        Ok(self.add(path, text))
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// The name a diagnostic shows for this file.
    pub fn name(&self, id: FileId) -> String {
        self.get(id)
            .map(|f| f.path.display().to_string())
            .unwrap_or_else(|| "?".into())
    }

    /// The text of one line (1-based), without its line ending.
    pub fn line(&self, span: Span) -> Option<&str> {
        let file = self.get(span.file)?;
        file.text.lines().nth(span.line.checked_sub(1)? as usize)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_lookup_is_one_based_and_bounded() {
        let mut map = SourceMap::new();
        let id = map.add("a.cfg", "first\nsecond\n".into());
        assert_eq!(map.line(Span::new(id, 2, 1)), Some("second"));
        assert_eq!(map.line(Span::new(id, 0, 1)), None);
        assert_eq!(map.line(Span::new(id, 9, 1)), None);
        assert_eq!(map.name(FileId(7)), "?");
    }
}
