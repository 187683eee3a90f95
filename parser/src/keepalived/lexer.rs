//! keepalived.conf lexer: files → one token stream.
//!
//! Input: the main file's path. Output: [`Tok`]s — words (quotes removed, each with the span of
//! its first character), `{`, `}` and end-of-line markers — with every `include` spliced in
//! place. Each included file gets its own `FileId`, so spans name the file the word is in.
//!
//! Per line, in keepalived's order:
//! 1. comments: `#` or `!` outside quotes, to the end of the line;
//! 2. `include`/`includer`/`includem`/`includew`/`includeb`/`includea PATTERN` (before
//!    conditions and substitution, as keepalived does): glob, relative to the including file;
//! 3. `@ID rest` / `@^ID rest` conditional lines: the config id is unset in rsproxy, so `@ID`
//!    lines are dropped and `@^ID` lines kept;
//! 4. `$NAME=VALUE` definitions (a value of `\` starts a multi-line definition whose lines end
//!    in `\`);
//! 5. `$NAME` (followed by whitespace or the end) and `${NAME}` substitution, recursive;
//!    undefined names stay as written; a multi-line value becomes several lines, all with the
//!    span of the line that used it;
//! 6. words: whitespace separates; `{` and `}` are tokens of their own even when attached;
//!    `"..."` and `'...'` quote (with shell-like escapes) and may be glued to unquoted text.
//!
//! Invariant: every span has line >= 1.

use crate::diag::{Diagnostic, Dialect};
use crate::source::{FileId, Span};
use crate::{Diagnostics, SourceMap};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A lexical token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    Word {
        text: String,
        span: Span,
    },
    Open(Span),
    Close(Span),
    /// End of a logical line.
    Eol,
}

/// How deep includes may nest (keepalived has no limit; a loop would never end).
const MAX_INCLUDE_DEPTH: usize = 32;
/// How many substitution rounds a line may take (recursive definitions).
const MAX_EXPANSION_ROUNDS: usize = 32;
/// How long a line may grow by substitution (`$X=${X}${X}` doubles every round).
const MAX_EXPANDED_LEN: usize = 1 << 16;

/// Lexes `path` and everything it includes.
pub fn lex_file(path: &Path, sources: &mut SourceMap, diags: &mut Diagnostics) -> Vec<Tok> {
    let mut lexer = Lexer {
        sources,
        diags,
        defs: HashMap::new(),
        toks: Vec::new(),
        stack: Vec::new(),
        budget: 100_000,
    };
    match lexer.sources.load(path) {
        Ok(id) => {
            lexer
                .stack
                .push(path.canonicalize().unwrap_or_else(|_| path.to_path_buf()));
            lexer.lex(id, 0);
        }
        Err(e) => {
            let id = lexer.sources.add(path, String::new());
            lexer.diags.push(Diagnostic::error(
                Dialect::Keepalived,
                Span::new(id, 1, 1),
                format!("cannot read configuration file '{}': {e}", path.display()),
            ));
        }
    }
    lexer.toks
}

/// Lexes one text as if it were a file called `name` (tests).
pub fn lex_str(
    name: &str,
    text: &str,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Vec<Tok> {
    let id = sources.add(name, text.to_string());
    let mut lexer = Lexer {
        sources,
        diags,
        defs: HashMap::new(),
        toks: Vec::new(),
        stack: Vec::new(),
        budget: 100_000,
    };
    lexer.lex(id, 0);
    lexer.toks
}

struct Lexer<'a> {
    sources: &'a mut SourceMap,
    diags: &'a mut Diagnostics,
    defs: HashMap<String, String>,
    toks: Vec<Tok>,
    /// Canonical paths of the files being read, outermost first (include loops).
    stack: Vec<PathBuf>,
    /// Lines that multi-line definitions may still produce (a self-using definition would
    /// otherwise double the lines at every level).
    budget: usize,
}

impl Lexer<'_> {
    fn error(&mut self, span: Span, msg: impl Into<String>) {
        self.diags
            .push(Diagnostic::error(Dialect::Keepalived, span, msg));
    }

    fn lex(&mut self, file: FileId, depth: usize) {
        let (text, dir) = match self.sources.get(file) {
            Some(f) => (
                f.text.clone(),
                f.path.parent().map(Path::to_path_buf).unwrap_or_default(),
            ),
            None => return,
        };
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let lineno = (i + 1) as u32;
            let line = strip_comment(lines[i]);
            i += 1;
            let span = Span::new(file, lineno, first_col(line));
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            // include, before conditions and substitution.
            let mut words = trimmed.split_whitespace();
            let first = words.next().unwrap_or("");
            if matches!(
                first,
                "include" | "includer" | "includem" | "includew" | "includeb" | "includea"
            ) {
                let patterns: Vec<&str> = words.collect();
                if patterns.is_empty() {
                    self.error(span, format!("'{first}' needs a file name"));
                }
                for pat in patterns {
                    self.include(first, pat, &dir, span, depth);
                }
                continue;
            }
            // A multi-line definition: `$NAME= \` then lines ending in `\`.
            let (keep, body) = condition(trimmed);
            if let Some((name, "\\")) = definition(body) {
                let mut value = Vec::new();
                while i < lines.len() {
                    let l = strip_comment(lines[i]).trim();
                    i += 1;
                    match l.strip_suffix('\\') {
                        Some(rest) => value.push(rest.trim_end().to_string()),
                        None => {
                            value.push(l.to_string());
                            break;
                        }
                    }
                }
                if keep {
                    self.defs.insert(name.to_string(), value.join("\n"));
                }
                continue;
            }
            self.line(trimmed, span, &dir, 0);
        }
    }

    /// One logical line (already without its comment): conditions, definitions,
    /// substitution, then words.
    fn line(&mut self, text: &str, span: Span, dir: &Path, depth: usize) {
        let Some(text) = strip_condition(text.trim()) else {
            return;
        };
        if text.is_empty() {
            return;
        }
        if let Some((name, value)) = definition(text) {
            self.defs.insert(name.to_string(), value.to_string());
            return;
        }
        let expanded = self.expand(text, dir);
        if expanded.len() > MAX_EXPANDED_LEN {
            self.error(span, format!("parameter substitution makes this line longer than {MAX_EXPANDED_LEN} bytes (a recursive definition?)"));
            return;
        }
        if expanded.contains('\n') && depth < MAX_EXPANSION_ROUNDS {
            let n = expanded.lines().count();
            if n > self.budget {
                self.budget = 0;
                self.error(
                    span,
                    "multi-line definitions expand to too many lines (a recursive definition?)",
                );
                return;
            }
            self.budget -= n;
            for l in expanded.lines() {
                self.line(l, span, dir, depth + 1);
            }
            return;
        }
        self.words(&expanded, span, text == expanded);
        self.toks.push(Tok::Eol);
    }

    fn expand(&self, text: &str, dir: &Path) -> String {
        let mut cur = text.to_string();
        for _ in 0..MAX_EXPANSION_ROUNDS {
            let next = expand_once(&cur, &self.defs, dir);
            if next == cur {
                break;
            }
            cur = next;
            if cur.len() > MAX_EXPANDED_LEN {
                break;
            }
        }
        cur
    }

    /// Splits a line into words. `exact` says the text is the file's own, so columns are
    /// exact; after substitution every word gets the line's first column.
    fn words(&mut self, text: &str, span: Span, exact: bool) {
        let chars: Vec<char> = text.chars().collect();
        let base = span.col;
        let col_of = |idx: usize| if exact { base + idx as u32 } else { base };
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() {
                i += 1;
                continue;
            }
            if c == '{' || c == '}' {
                let s = Span::new(span.file, span.line, col_of(i));
                self.toks.push(if c == '{' {
                    Tok::Open(s)
                } else {
                    Tok::Close(s)
                });
                i += 1;
                continue;
            }
            let start = i;
            let mut word = String::new();
            while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '{' && chars[i] != '}'
            {
                let c = chars[i];
                if c == '"' || c == '\'' {
                    let open = i;
                    i += 1;
                    let mut closed = false;
                    while i < chars.len() {
                        let q = chars[i];
                        if q == c {
                            closed = true;
                            i += 1;
                            break;
                        }
                        if q == '\\' && c == '"' && i + 1 < chars.len() {
                            i += 1;
                            word.push(unescape(chars[i]));
                            i += 1;
                            continue;
                        }
                        word.push(q);
                        i += 1;
                    }
                    if !closed {
                        self.error(
                            Span::new(span.file, span.line, col_of(open)),
                            format!("unterminated quote {c}"),
                        );
                    }
                    continue;
                }
                word.push(c);
                i += 1;
            }
            self.toks.push(Tok::Word {
                text: word,
                span: Span::new(span.file, span.line, col_of(start)),
            });
        }
    }

    fn include(&mut self, kind: &str, pattern: &str, dir: &Path, span: Span, depth: usize) {
        if depth >= MAX_INCLUDE_DEPTH {
            self.error(
                span,
                format!("includes nested more than {MAX_INCLUDE_DEPTH} deep (an include loop?)"),
            );
            return;
        }
        let full: PathBuf = if Path::new(pattern).is_absolute() {
            PathBuf::from(pattern)
        } else {
            dir.join(pattern)
        };
        let wildcard = pattern.contains(['*', '?', '[']);
        let mut matched: Vec<PathBuf> = match glob::glob(&full.to_string_lossy()) {
            Ok(paths) => paths
                .filter_map(Result::ok)
                .filter(|p| p.is_file())
                .collect(),
            Err(e) => {
                self.error(span, format!("bad include pattern '{pattern}': {e}"));
                return;
            }
        };
        matched.sort();
        if matched.is_empty() {
            if !wildcard || matches!(kind, "includew" | "includea") {
                self.error(span, format!("Config files missing '{pattern}'"));
            }
            return;
        }
        for path in matched {
            let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
            if self.stack.contains(&canonical) {
                self.error(
                    span,
                    format!("'{}' includes itself (an include loop)", path.display()),
                );
                continue;
            }
            match self.sources.load(&path) {
                Ok(id) => {
                    self.stack.push(canonical);
                    self.lex(id, depth + 1);
                    self.stack.pop();
                }
                Err(e) => self.error(
                    span,
                    format!("cannot read included file '{}': {e}", path.display()),
                ),
            }
        }
    }
}

/// The text before a `#` or `!` that is outside quotes.
pub fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match quote {
            Some(q) => {
                if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '#' | '!' => return &line[..i],
                _ => {}
            },
        }
    }
    line
}

fn first_col(line: &str) -> u32 {
    line.chars().take_while(|c| c.is_whitespace()).count() as u32 + 1
}

/// `@ID rest` → None (config id unset, so no match); `@^ID rest` → Some(rest); other lines
/// unchanged.
fn strip_condition(text: &str) -> Option<&str> {
    let (keep, body) = condition(text);
    keep.then_some(body)
}

/// Whether a line is kept under its condition (if any), and the line without it.
fn condition(text: &str) -> (bool, &str) {
    let Some(rest) = text.strip_prefix('@') else {
        return (true, text);
    };
    let (negated, rest) = match rest.strip_prefix('^') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let after = rest
        .find(char::is_whitespace)
        .map(|i| &rest[i..])
        .unwrap_or("");
    (negated, after.trim_start())
}

/// `$NAME=VALUE` → (NAME, VALUE trimmed).
fn definition(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix('$')?;
    let eq = rest.find('=')?;
    let name = &rest[..eq];
    let mut chars = name.chars();
    let first = chars.next()?;
    if !(first.is_ascii_alphabetic() || first == '_')
        || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return None;
    }
    Some((name, rest[eq + 1..].trim()))
}

fn predefined(name: &str, dir: &Path) -> Option<String> {
    match name {
        "_PWD" => Some(dir.display().to_string()),
        "_HASH" => Some("#".into()),
        "_BANG" => Some("!".into()),
        _ => None,
    }
}

/// One round of `$NAME ` / `${NAME}` substitution.
fn expand_once(text: &str, defs: &HashMap<String, String>, dir: &Path) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(inner) = after.strip_prefix('{') {
            if let Some(end) = inner.find('}') {
                let name = &inner[..end];
                let value = defs.get(name).cloned().or_else(|| predefined(name, dir));
                if let Some(v) = value {
                    out.push_str(&v);
                    rest = &inner[end + 1..];
                    continue;
                }
            }
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            let name = &after[..len];
            let followed_ok = match after[len..].chars().next() {
                None => true,
                Some(c) => c.is_whitespace(),
            };
            if len > 0 && followed_ok {
                if let Some(v) = defs.get(name).cloned().or_else(|| predefined(name, dir)) {
                    out.push_str(&v);
                    rest = &after[len..];
                    continue;
                }
            }
        }
        out.push('$');
        rest = after;
    }
    out.push_str(rest);
    out
}

fn unescape(c: char) -> char {
    match c {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        'a' => '\x07',
        'b' => '\x08',
        'f' => '\x0c',
        'v' => '\x0b',
        'E' => '\x1b',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let mut map = SourceMap::new();
        let mut d = Diagnostics::new();
        lex_str("t.conf", text, &mut map, &mut d)
            .into_iter()
            .map(|t| match t {
                Tok::Word { text, .. } => text,
                Tok::Open(_) => "{".into(),
                Tok::Close(_) => "}".into(),
                Tok::Eol => ";".into(),
            })
            .collect()
    }

    #[test]
    fn braces_are_tokens_even_when_attached() {
        assert_eq!(words("a b{\n c}\n"), ["a", "b", "{", ";", "c", "}", ";"]);
    }

    #[test]
    fn comments_hash_and_bang_outside_quotes() {
        assert_eq!(
            words("a 1 # x\nb 2! y\nc \"# not\"\n"),
            ["a", "1", ";", "b", "2", ";", "c", "# not", ";"]
        );
    }

    #[test]
    fn quotes_glue_and_escape() {
        assert_eq!(
            words(r#"x abcd" efg "h 'i j' "a\"b""#),
            ["x", "abcd efg h", "i j", "a\"b", ";"]
        );
    }

    #[test]
    fn definitions_and_substitution() {
        assert_eq!(
            words("$A=10.${B}\n$B=2\nx $A ${A}.1 $UNDEF \"${UNDEF}\"\n"),
            ["x", "10.2", "10.2.1", "$UNDEF", "${UNDEF}", ";"]
        );
    }

    #[test]
    fn multiline_definitions_expand_to_lines() {
        assert_eq!(
            words("$M= \\\na 1 \\\nb ${N}\n$N=7\n$M\n"),
            ["a", "1", ";", "b", "7", ";"]
        );
    }

    #[test]
    fn conditions_with_unset_config_id() {
        assert_eq!(words("@main a 1\n@^main b 2\n"), ["b", "2", ";"]);
    }

    #[test]
    fn spans_point_at_words() {
        let mut map = SourceMap::new();
        let mut d = Diagnostics::new();
        let toks = lex_str("t.conf", "\n  key  val\n", &mut map, &mut d);
        let Tok::Word { span, .. } = &toks[1] else {
            panic!()
        };
        assert_eq!((span.line, span.col), (2, 8));
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        let mut map = SourceMap::new();
        let mut d = Diagnostics::new();
        lex_str("t.conf", "script \"abc\n", &mut map, &mut d);
        assert_eq!(d.errors().next().unwrap().span.line, 1);
    }

    #[test]
    fn exponential_definitions_are_cut_short() {
        let mut map = SourceMap::new();
        let mut d = Diagnostics::new();
        lex_str(
            "t.conf",
            "$X=a\n$X=${X}${X}\n$Y=${X}${X}\nk ${Y}\n$X=${X}${X}${X}\n$Z=${Z}${Z}\nk ${Z}\n",
            &mut map,
            &mut d,
        );
        let mut d = Diagnostics::new();
        lex_str("t.conf", "$Z=${Z}${Z}x\nk $Z\n", &mut map, &mut d);
        assert!(d.has_errors());
    }

    #[test]
    fn missing_include_is_an_error_but_empty_glob_is_not() {
        let mut map = SourceMap::new();
        let mut d = Diagnostics::new();
        lex_str(
            "t.conf",
            "include /nonexistent/rsproxy/x.conf\ninclude /nonexistent/*.conf\n",
            &mut map,
            &mut d,
        );
        assert_eq!(d.errors().count(), 1);
    }
}
