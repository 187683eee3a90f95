//! haproxy.cfg lines → words. (Stub: plain whitespace split; the full section 2.2 lexer is
//! being written.)
use crate::{Diagnostics, Env, FileId};

/// One word of a line after quoting, escaping and variable expansion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    /// 1-based column where the word starts in the raw line.
    pub col: u32,
}

/// One active (not skipped by `.if`) non-empty line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub line: u32,
    pub words: Vec<Word>,
}

pub fn tokenize(file: FileId, text: &str, env: &Env, diags: &mut Diagnostics) -> Vec<Line> {
    let _ = (file, env, diags);
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let raw = raw.split('#').next().unwrap_or("");
        let mut words = Vec::new();
        let mut col = 0;
        for w in raw.split_whitespace() {
            let off = raw[col..].find(w).map(|o| o + col).unwrap_or(col);
            col = off + w.len();
            words.push(Word {
                text: w.to_string(),
                col: off as u32 + 1,
            });
        }
        if !words.is_empty() {
            out.push(Line {
                line: i as u32 + 1,
                words,
            });
        }
    }
    out
}
