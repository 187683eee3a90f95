//! haproxy.cfg text → active lines of words (HAProxy 2.6 configuration manual, sections 2.2
//! "Quoting and escaping", 2.3 "Environment variables", 2.4 "Conditional blocks").
//!
//! Input: one file's text, the environment, a diagnostics list. Output: every line that is
//! active (not skipped by `.if`) and not empty, as words with their line and columns. The
//! `.if`/`.elif`/`.else`/`.endif` and `.diag`/`.notice`/`.warning`/`.alert` lines are
//! consumed here and never returned; their messages become diagnostics.
//!
//! Behaviour follows haproxy 2.6.12 as observed with `haproxy -c` (the manual is wrong or
//! silent on several points; the tests say which cases were checked):
//!
//! * Every line is tokenized, even inside a skipped block, so a bad quote or escape there is
//!   still an error; directives in a skipped block are not evaluated.
//! * A line whose first word is empty (`"" maxconn 10`, `"${UNSET}" ...`) is ignored.
//! * There is no line length limit (2.6 grows its buffer; 20 MB lines are accepted).
//! * Where HAProxy aborts the file (bad condition, `.alert`, unknown directive), rsproxy
//!   reports the same message and goes on, so that every problem is listed: a line with a
//!   problem is reported once and skipped; a condition that cannot be evaluated counts as
//!   false; `.else x` / `.endif x` are reported and still act as `.else` / `.endif`.
//!
//! Invariants: never panics on any input; returned line numbers are 1-based and within the
//! text; word columns are 1-based character columns in the raw line. Numbers inside
//! messages ("at position N") are HAProxy's byte positions, so they match its output.

use super::cond;
use crate::{Diagnostic, Diagnostics, Dialect, Env, FileId, Severity, Span};

/// At most this many words on a line (HAProxy `MAX_LINE_ARGS`).
pub const MAX_LINE_ARGS: usize = 64;

/// Keywords that open a section in HAProxy 2.6, for the `.SECTION` pseudo-variable.
pub const SECTION_KEYWORDS: &[&str] = &[
    "global",
    "defaults",
    "frontend",
    "backend",
    "listen",
    "userlist",
    "peers",
    "mailers",
    "resolvers",
    "program",
    "http-errors",
    "ring",
    "log-forward",
    "cache",
    "fcgi-app",
];

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

/// A place in a raw line: HAProxy's 1-based byte position (shown in messages) and the
/// 1-based character column (used for spans).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub byte: usize,
    pub col: u32,
}

/// Why a line cannot be split into words. `Display` gives HAProxy 2.6.12's message (without
/// the trailing `:` it puts before its own caret line).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LexError {
    #[error("unmatched quote at position {}", .0.byte)]
    UnmatchedQuote(Pos),
    #[error("unmatched brace in environment variable name at position {}", .0.byte)]
    UnmatchedBrace(Pos),
    #[error("forbidden first char in environment variable name at position {}", .0.byte)]
    ForbiddenVariableChar(Pos),
    #[error("truncated or invalid word expansion sequence at position {}", .0.byte)]
    InvalidWordExpansion(Pos),
    #[error("truncated or invalid hexadecimal sequence at position {}", .0.byte)]
    InvalidHex(Pos),
    #[error("Stray NUL character at position {}.", .0.byte)]
    StrayNul(Pos),
    /// `byte` is HAProxy's position of word 64 in its output buffer, `word` its text.
    #[error("too many words, truncating after word {MAX_LINE_ARGS}, position {}: <{word}>.", .at.byte)]
    TooManyWords { at: Pos, word: String },
}

impl LexError {
    /// The 1-based character column the error points at.
    pub fn col(&self) -> u32 {
        match self {
            LexError::UnmatchedQuote(p)
            | LexError::UnmatchedBrace(p)
            | LexError::ForbiddenVariableChar(p)
            | LexError::InvalidWordExpansion(p)
            | LexError::InvalidHex(p)
            | LexError::StrayNul(p) => p.col,
            LexError::TooManyWords { at, .. } => at.col,
        }
    }
}

/// What `"${.FILE}"`, `"${.LINE}"` and `"${.SECTION}"` expand to, and the environment.
#[derive(Clone, Copy, Debug)]
pub struct LineContext<'a> {
    pub env: &'a Env,
    pub file_name: &'a str,
    pub line: u32,
    /// Name of the current section, or its keyword if it has no name; empty before the first.
    pub section: &'a str,
}

/// The words of one line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SplitLine {
    pub words: Vec<Word>,
    /// The line ends with a separator after its last word (or an expansion ending in a
    /// space). HAProxy counts an empty word there: it shows in `.if` messages.
    pub trailing_empty: bool,
}

/// Splits one raw line (without its `\n`) into words.
///
/// ```text
/// line     = { sep } [ word { sep+ word } ] { sep } [ "#" comment | "\r" anything ]
/// sep      = " " | "\t" | "\x0b" | "\x0c"
/// word     = piece+                        ; adjacent pieces concatenate: "a"'b'c -> abc
/// piece    = escape | '"' weak* '"' | "'" strong* "'" | other char
/// escape   = "\" ( " " | "#" | "\" | "'" | '"' )  -> that char
///          | "\r" | "\n" | "\t"                   -> CR, LF, TAB
///          | "\x" hex hex                          -> that byte (else an error)
///          | "\" other                             -> kept as is, both chars (\$ too)
/// weak     = escape | "\$" | "$" variable | char   ; ' and # are plain here
/// strong   = any char but "'"                     ; nothing interpreted, \ included
/// variable = name | "{" name [ "[*]" ] [ "-" default ] "}"
/// name     = [A-Za-z_][A-Za-z0-9_]* | ".FILE" | ".LINE" | ".SECTION"
/// ```
///
/// `$` outside double quotes is a plain character. An unset variable is empty (or its
/// default; an empty but set one keeps its empty value). With `[*]` the value is split on
/// runs of spaces/tabs into several words: each run ends the current word, even if empty.
/// A `\r` anywhere (even quoted) ends the line, as does an unquoted `#`.
pub fn split_line(raw: &str, ctx: &LineContext<'_>) -> Result<SplitLine, LexError> {
    match split_plain(raw) {
        Some(plain) => Ok(plain),
        None => split_general(raw, ctx),
    }
}

/// Every rule of [`split_line`], character by character.
fn split_general(raw: &str, ctx: &LineContext<'_>) -> Result<SplitLine, LexError> {
    let chars: Vec<(usize, char)> = raw.char_indices().collect();
    if let Some(i) = chars.iter().position(|(_, c)| *c == '\0') {
        let byte = chars.get(i).map_or(0, |(b, _)| *b);
        return Err(LexError::StrayNul(Pos {
            byte: byte + 1,
            col: col_of(i),
        }));
    }
    let mut s = Splitter {
        chars,
        i: 0,
        ctx,
        words: Vec::new(),
        cur: None,
        sep_after_word: false,
    };
    s.run()?;
    let trailing_empty = match s.cur.take() {
        Some(cur) if cur.opened_by_split && cur.bytes.is_empty() => true,
        Some(cur) => {
            s.words.push(cur.finish());
            false
        }
        None => s.sep_after_word,
    };
    Ok(SplitLine {
        words: s.words,
        trailing_empty,
    })
}

/// The fast path of [`split_line`] for the common line: printable ASCII with no quote,
/// backslash, `#` or `$`, words separated by spaces and tabs. Such a line means exactly its
/// blank-separated words, so it needs none of the character-by-character machinery (which
/// dominated `--check` time on large configs). `None`: take the general path.
fn split_plain(raw: &str) -> Option<SplitLine> {
    let b = raw.as_bytes();
    if !b
        .iter()
        .all(|&c| c == b' ' || c == b'\t' || (0x21..=0x7e).contains(&c) && !b"\"'\\#$".contains(&c))
    {
        return None;
    }
    let mut words = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' || b[i] == b'\t' {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
            i += 1;
        }
        words.push(Word {
            text: raw[start..i].to_string(),
            col: col_of(start),
        });
    }
    let trailing_empty = !words.is_empty() && matches!(b.last(), Some(b' ' | b'\t'));
    // At the word limit, the general path gives HAProxy's exact message.
    if words.len() + usize::from(trailing_empty) > MAX_LINE_ARGS {
        return None;
    }
    Some(SplitLine {
        words,
        trailing_empty,
    })
}

fn col_of(index: usize) -> u32 {
    u32::try_from(index)
        .unwrap_or(u32::MAX - 1)
        .saturating_add(1)
}

/// A word being built.
struct Cur {
    bytes: Vec<u8>,
    col: u32,
    /// Opened by a `[*]` split and nothing added since.
    opened_by_split: bool,
}

impl Cur {
    fn finish(self) -> Word {
        let text = match String::from_utf8(self.bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        Word {
            text,
            col: self.col,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    Weak,
    Strong,
}

struct Splitter<'a> {
    chars: Vec<(usize, char)>,
    i: usize,
    ctx: &'a LineContext<'a>,
    words: Vec<Word>,
    cur: Option<Cur>,
    sep_after_word: bool,
}

fn is_sep(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0b' | '\x0c')
}

impl Splitter<'_> {
    fn peek_at(&self, i: usize) -> Option<char> {
        self.chars.get(i).map(|(_, c)| *c)
    }

    fn pos(&self, i: usize) -> Pos {
        let byte = match self.chars.get(i) {
            Some((b, _)) => *b,
            None => self.chars.last().map_or(0, |(b, c)| b + c.len_utf8()),
        };
        Pos {
            byte: byte + 1,
            col: col_of(i),
        }
    }

    /// The word being built, opened at char index `i` if there is none.
    fn word(&mut self, i: usize) -> &mut Cur {
        self.sep_after_word = false;
        self.cur.get_or_insert(Cur {
            bytes: Vec::new(),
            col: col_of(i),
            opened_by_split: false,
        })
    }

    fn push_char(&mut self, c: char, at: usize) {
        let cur = self.word(at);
        cur.opened_by_split = false;
        let mut buf = [0u8; 4];
        cur.bytes
            .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }

    fn push_bytes(&mut self, b: &[u8], at: usize) {
        let cur = self.word(at);
        cur.opened_by_split = false;
        cur.bytes.extend_from_slice(b);
    }

    /// Ends the current word because a separator follows; HAProxy then counts one more
    /// word, which is where it enforces [`MAX_LINE_ARGS`].
    fn close_word(&mut self) -> Result<(), LexError> {
        if let Some(cur) = self.cur.take() {
            self.words.push(cur.finish());
            if self.words.len() >= MAX_LINE_ARGS {
                return Err(self.too_many());
            }
        }
        Ok(())
    }

    fn too_many(&self) -> LexError {
        let last = MAX_LINE_ARGS - 1;
        let byte = self
            .words
            .iter()
            .take(last)
            .map(|w| w.text.len() + 1)
            .sum::<usize>()
            + 1;
        let (word, col) = self
            .words
            .get(last)
            .map_or((String::new(), 1), |w| (w.text.clone(), w.col));
        LexError::TooManyWords {
            at: Pos { byte, col },
            word,
        }
    }

    fn run(&mut self) -> Result<(), LexError> {
        let mut quote: Option<(Quote, usize)> = None;
        while let Some(c) = self.peek_at(self.i) {
            let i = self.i;
            if c == '\r' {
                break;
            }
            match quote {
                None => match c {
                    '#' => break,
                    c if is_sep(c) => {
                        if self.cur.is_some() {
                            self.close_word()?;
                            self.sep_after_word = true;
                        }
                        self.i += 1;
                    }
                    '"' => {
                        self.word(i);
                        quote = Some((Quote::Weak, i));
                        self.i += 1;
                    }
                    '\'' => {
                        self.word(i);
                        quote = Some((Quote::Strong, i));
                        self.i += 1;
                    }
                    '\\' => self.escape(false)?,
                    c => {
                        self.push_char(c, i);
                        self.i += 1;
                    }
                },
                Some((Quote::Strong, _)) => {
                    if c == '\'' {
                        quote = None;
                    } else {
                        self.push_char(c, i);
                    }
                    self.i += 1;
                }
                Some((Quote::Weak, _)) => match c {
                    '"' => {
                        quote = None;
                        self.i += 1;
                    }
                    '\\' => self.escape(true)?,
                    '$' => self.variable()?,
                    c => {
                        self.push_char(c, i);
                        self.i += 1;
                    }
                },
            }
        }
        match quote {
            Some((_, at)) => Err(LexError::UnmatchedQuote(self.pos(at))),
            None => Ok(()),
        }
    }

    /// At a `\`, outside quotes or inside double quotes (`weak`).
    fn escape(&mut self, weak: bool) -> Result<(), LexError> {
        let i = self.i;
        let simple = match self.peek_at(i + 1) {
            Some(c @ (' ' | '#' | '\\' | '\'' | '"')) => Some(c),
            Some('$') if weak => Some('$'),
            Some('r') => Some('\r'),
            Some('n') => Some('\n'),
            Some('t') => Some('\t'),
            Some('x') => {
                let hex = |k| self.peek_at(k).and_then(|c: char| c.to_digit(16));
                let (Some(hi), Some(lo)) = (hex(i + 2), hex(i + 3)) else {
                    return Err(LexError::InvalidHex(self.pos(i)));
                };
                // Both digits are < 16, so the byte cannot overflow.
                let byte = u8::try_from(hi * 16 + lo).unwrap_or(0);
                self.push_bytes(&[byte], i);
                self.i += 4;
                return Ok(());
            }
            _ => None,
        };
        match simple {
            Some(c) => {
                self.push_char(c, i);
                self.i += 2;
            }
            None => {
                // Not an escape: the backslash stays, the next char is read normally.
                self.push_char('\\', i);
                self.i += 1;
            }
        }
        Ok(())
    }

    /// At a `$` inside double quotes.
    fn variable(&mut self) -> Result<(), LexError> {
        let dollar = self.i;
        let mut i = dollar + 1;
        let brace = (self.peek_at(i) == Some('{')).then_some(i);
        if brace.is_some() {
            i += 1;
        }
        let name_start = i;
        let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
        match self.peek_at(i) {
            Some('.') => i += 1,
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
            _ => return Err(LexError::ForbiddenVariableChar(self.pos(name_start))),
        }
        while self.peek_at(i).is_some_and(ident) {
            i += 1;
        }
        let name: String = self.chars[name_start..i].iter().map(|(_, c)| *c).collect();
        let line_number;
        let value: Option<&str> = match name.as_str() {
            ".FILE" => Some(self.ctx.file_name),
            ".LINE" => {
                line_number = self.ctx.line.to_string();
                Some(line_number.as_str())
            }
            ".SECTION" => Some(self.ctx.section),
            n if n.starts_with('.') => {
                return Err(LexError::ForbiddenVariableChar(self.pos(name_start)))
            }
            n => self.ctx.env.get(n),
        };
        let mut split = false;
        let mut default: Option<String> = None;
        if let Some(brace) = brace {
            if self.peek_at(i) == Some('[') {
                let star = self.peek_at(i + 1) == Some('*') && self.peek_at(i + 2) == Some(']');
                if !star {
                    return Err(LexError::InvalidWordExpansion(self.pos(i)));
                }
                split = true;
                i += 3;
            }
            if self.peek_at(i) == Some('-') {
                i += 1;
                let start = i;
                while self.peek_at(i).is_some_and(|c| c != '}' && c != '\r') {
                    i += 1;
                }
                default = Some(self.chars[start..i].iter().map(|(_, c)| *c).collect());
            }
            if self.peek_at(i) != Some('}') {
                return Err(LexError::UnmatchedBrace(self.pos(brace)));
            }
            i += 1;
        }
        let value = value.map(str::to_string).or(default).unwrap_or_default();
        self.i = i;
        if !split {
            self.push_bytes(value.as_bytes(), dollar);
            return Ok(());
        }
        // Make sure a word is open (an empty `"${X[*]}"` still gives one empty word).
        self.word(dollar);
        let mut in_run = false;
        for c in value.chars() {
            if c == ' ' || c == '\t' {
                if !in_run {
                    self.close_word()?;
                    self.cur = Some(Cur {
                        bytes: Vec::new(),
                        col: col_of(dollar),
                        opened_by_split: true,
                    });
                }
                in_run = true;
            } else {
                in_run = false;
                self.push_char(c, dollar);
            }
        }
        Ok(())
    }
}

/// Where a block of `.if` stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Branch {
    /// The lines of the current branch are used.
    Active,
    /// No branch taken yet; a later `.elif`/`.else` may be.
    Pending,
    /// A branch was taken; the rest of the block is skipped.
    Done,
    /// Inside a skipped block: nothing in this block is evaluated.
    Dead,
}

#[derive(Clone, Copy)]
struct Block {
    line: u32,
    branch: Branch,
    has_else: bool,
}

/// Tokenizes a whole haproxy.cfg; `.FILE` expands to the empty string (see
/// [`tokenize_file`]).
pub fn tokenize(file: FileId, text: &str, env: &Env, diags: &mut Diagnostics) -> Vec<Line> {
    tokenize_file(file, "", text, env, diags)
}

/// Tokenizes a whole haproxy.cfg whose name (as HAProxy would show it, for `"${.FILE}"`) is
/// `file_name`. Lines are separated by LF; a CR ends a line's content, so CRLF works.
pub fn tokenize_file(
    file: FileId,
    file_name: &str,
    text: &str,
    env: &Env,
    diags: &mut Diagnostics,
) -> Vec<Line> {
    let mut t = Tokenizer {
        file,
        diags,
        blocks: Vec::new(),
    };
    let mut out = Vec::new();
    let mut section = String::new();
    // HAProxy 2.6 refuses a file whose last line has no line feed (it may be truncated).
    if !text.is_empty() && !text.ends_with('\n') {
        let last = text.split('\n').count() as u32;
        let position = text.rsplit('\n').next().map(|l| l.len() + 1).unwrap_or(1);
        t.error(
            last,
            1,
            format!(
                "Missing LF on last line, file might have been truncated at position {position}."
            ),
        );
    }
    for (index, raw) in text.split('\n').enumerate() {
        let line = col_of(index);
        let ctx = LineContext {
            env,
            file_name,
            line,
            section: &section,
        };
        let split = match split_line(raw, &ctx) {
            Ok(s) => s,
            Err(e) => {
                t.error(line, e.col(), e.to_string());
                continue;
            }
        };
        let Some(first) = split.words.first() else {
            continue;
        };
        if first.text.is_empty() {
            continue;
        }
        if first.text.starts_with('.') {
            t.directive(line, &split, env);
            continue;
        }
        if !t.active() {
            continue;
        }
        if SECTION_KEYWORDS.contains(&first.text.as_str()) {
            section = match split.words.get(1) {
                Some(name) if !name.text.is_empty() => name.text.clone(),
                _ => first.text.clone(),
            };
        }
        out.push(Line {
            line,
            words: split.words,
        });
    }
    // HAProxy reports an unclosed block once, at the file's last line; the help names the
    // '.if' lines left open.
    let open = std::mem::take(&mut t.blocks);
    if !open.is_empty() {
        let last = text.lines().count().max(1) as u32;
        let lines: Vec<String> = open.iter().map(|b| b.line.to_string()).collect();
        t.diags.push(
            Diagnostic::error(
                Dialect::Haproxy,
                Span::new(file, last, 1),
                "non-terminated '.if' block.",
            )
            .with_help(format!(
                "no '.endif' closes the '.if' at line {}",
                lines.join(", ")
            )),
        );
    }
    out
}

struct Tokenizer<'d> {
    file: FileId,
    diags: &'d mut Diagnostics,
    blocks: Vec<Block>,
}

impl Tokenizer<'_> {
    fn active(&self) -> bool {
        !matches!(self.blocks.last(), Some(b) if b.branch != Branch::Active)
    }

    fn error(&mut self, line: u32, col: u32, message: impl Into<String>) {
        self.emit(Severity::Error, line, col, message.into());
    }

    fn emit(&mut self, severity: Severity, line: u32, col: u32, message: String) {
        self.diags.push(Diagnostic {
            severity,
            dialect: Dialect::Haproxy,
            span: Span::new(self.file, line, col),
            message,
            help: None,
        });
    }

    /// `.if`, `.elif`, `.else`, `.endif` (always tracked); `.diag`, `.notice`, `.warning`,
    /// `.alert` and unknown directives (only in an active block).
    fn directive(&mut self, line: u32, split: &SplitLine, env: &Env) {
        let words = &split.words;
        let Some(first) = words.first() else { return };
        let name = first.text.as_str();
        let col = first.col;
        match name {
            ".if" => {
                let branch = if self.active() {
                    if self.condition(line, split, env) {
                        Branch::Active
                    } else {
                        Branch::Pending
                    }
                } else {
                    Branch::Dead
                };
                self.blocks.push(Block {
                    line,
                    branch,
                    has_else: false,
                });
            }
            ".elif" => {
                let Some(&Block {
                    branch, has_else, ..
                }) = self.blocks.last()
                else {
                    return self.error(line, col, "lone '.elif' with no matching '.if'.");
                };
                if has_else {
                    return self.error(line, col, "'.elif' after '.else' is not permitted.");
                }
                let branch = match branch {
                    Branch::Active | Branch::Done => Branch::Done,
                    Branch::Dead => Branch::Dead,
                    Branch::Pending if self.condition(line, split, env) => Branch::Active,
                    Branch::Pending => Branch::Pending,
                };
                if let Some(top) = self.blocks.last_mut() {
                    top.branch = branch;
                }
            }
            ".else" | ".endif" => {
                if self.blocks.is_empty() {
                    let msg = format!("lone '{name}' with no matching '.if'.");
                    return self.error(line, col, msg);
                }
                if let Some(extra) = words.get(1).filter(|w| !w.text.is_empty()) {
                    let msg = format!("Unexpected argument '{}' for '{name}'.", extra.text);
                    self.error(line, extra.col, msg);
                }
                if name == ".endif" {
                    self.blocks.pop();
                    return;
                }
                let Some(top) = self.blocks.last_mut() else {
                    return;
                };
                if top.has_else {
                    return self.error(line, col, "'.else' after '.else' is not permitted.");
                }
                top.has_else = true;
                top.branch = match top.branch {
                    Branch::Pending => Branch::Active,
                    Branch::Active | Branch::Done => Branch::Done,
                    Branch::Dead => Branch::Dead,
                };
            }
            _ if !self.active() => {}
            ".diag" | ".notice" | ".warning" | ".alert" => {
                // HAProxy only looks at the word after the message, and only if not empty.
                if let Some(extra) = words.get(2).filter(|w| !w.text.is_empty()) {
                    let msg = format!(
                        "Unexpected argument '{}' for '{name}'. Use quotes if the message \
                         should contain spaces.",
                        extra.text
                    );
                    return self.error(line, extra.col, msg);
                }
                let text = words.get(1).map_or("", |w| w.text.as_str());
                let col = words.get(1).map_or(col, |w| w.col);
                let severity = match name {
                    ".notice" => Severity::Notice,
                    ".warning" => Severity::Warning,
                    ".alert" => Severity::Error,
                    // `.diag` only prints with `haproxy -dD`; it is validated, not shown.
                    _ => return,
                };
                self.emit(severity, line, col, format!("'{text}'."));
            }
            _ => self.error(line, col, format!("unknown directive '{name}'.")),
        }
    }

    /// Evaluates the condition of `.if`/`.elif`: its words joined by one space (plus the
    /// trailing empty word HAProxy counts after trailing blanks). An error counts as false.
    fn condition(&mut self, line: u32, split: &SplitLine, env: &Env) -> bool {
        let words = &split.words;
        let directive = words.first().map_or(".if", |w| w.text.as_str());
        let mut parts: Vec<&Word> = words.iter().skip(1).collect();
        let trailing = Word {
            text: String::new(),
            col: 0,
        };
        if split.trailing_empty {
            parts.push(&trailing);
        }
        let text = parts
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        match cond::eval(&text, directive, env) {
            Ok(v) => v,
            Err(e) => {
                let col = condition_col(&parts, &text, e.offset)
                    .or_else(|| words.first().map(|w| w.col))
                    .unwrap_or(1);
                self.error(line, col, e.message);
                false
            }
        }
    }
}

/// Maps a byte offset in a joined condition back to a raw column (exact for words without
/// quotes or escapes, at the right word otherwise).
fn condition_col(parts: &[&Word], text: &str, offset: usize) -> Option<u32> {
    let mut start = 0;
    let mut best = None;
    for w in parts {
        if w.col == 0 {
            break;
        }
        if start > offset {
            break;
        }
        let within = text
            .get(start..offset.min(start + w.text.len()))
            .map_or(0, |s| s.chars().count());
        best = Some(w.col.saturating_add(u32::try_from(within).unwrap_or(0)));
        start += w.text.len() + 1;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env::empty()
            .with("HOME", "/root")
            .with("A1_x", "val")
            .with("L", "one two  three")
            .with("E", "")
            .with("S", "  sp  ")
            .with("T", " g")
            .with("U", "i ")
            .with("W", "a\tb")
            .with("P", "a b")
    }

    fn split(raw: &str) -> Result<Vec<String>, String> {
        let env = env();
        let ctx = LineContext {
            env: &env,
            file_name: "x.cfg",
            line: 7,
            section: "web",
        };
        split_line(raw, &ctx)
            .map(|s| s.words.into_iter().map(|w| w.text).collect())
            .map_err(|e| e.to_string())
    }

    /// Raw line → words. Rows marked (h) were checked against haproxy 2.6.12, most through
    /// `.notice <word>` (prints the word) and its "Unexpected argument" error (prints the
    /// next one) with the environment of [`env`].
    #[test]
    fn words() {
        let table: &[(&str, &[&str])] = &[
            ("", &[]),
            ("   \t ", &[]),
            ("# only a comment", &[]),
            ("  bind :80   # comment", &["bind", ":80"]),
            ("a#b", &["a"]),                           // (h) '#' mid-word
            ("a\tb\x0bc\x0cd", &["a", "b", "c", "d"]), // (h) \f, \v separate
            ("a\\ b", &["a b"]),                       // (h)
            (
                "a\\#b \\\\ \\'q\\' \\\"d\\\"",
                &["a#b", "\\", "'q'", "\"d\""],
            ), // (h)
            ("a\\qb", &["a\\qb"]),                     // (h) unknown escape kept
            ("a\\$b", &["a\\$b"]),                     // (h) \$ kept outside quotes
            ("\"a\\$b\"", &["a$b"]),                   // (h)
            ("a\\\tb", &["a\\", "b"]),                 // (h) \<TAB> is no escape
            ("\"a\\\tb\"", &["a\\\tb"]),               // (h)
            ("a\\tb a\\rb a\\nb", &["a\tb", "a\rb", "a\nb"]), // (h)
            ("\\x41\\x4a\\x4A", &["AJJ"]),             // (h)
            ("\"\\x41\"", &["A"]),                     // (h)
            ("'\\x41'", &["\\x41"]),                   // (h)
            ("\\xc3\\xa9", &["é"]),                    // bytes, then UTF-8
            ("a\\", &["a\\"]),                         // (h) trailing backslash
            ("'\\\\'", &["\\\\"]),                     // (h) nothing in '...'
            ("'$HOME'", &["$HOME"]),                   // (h)
            ("a'b'\"c\"d", &["abcd"]),                 // (h)
            ("\"\"", &[""]),                           // (h)
            ("\"\"''", &[""]),                         // (h)
            ("x \"\" y", &["x", "", "y"]),             // (h) "maxconn "" 10"
            ("'a\"b'", &["a\"b"]),                     // (h)
            ("\"a'b\"", &["a'b"]),                     // (h)
            ("'a\\'", &["a\\"]),                       // (h)
            ("\"a#b\" c", &["a#b", "c"]),
            ("crlf\r", &["crlf"]),         // (h)
            ("a\rb", &["a"]),              // (h) CR ends the line
            ("a\\\rb", &["a\\"]),          // (h)
            ("$HOME", &["$HOME"]),         // (h) not expanded unquoted
            ("x${A1_x}y", &["x${A1_x}y"]), // (h)
            ("\"$HOME\"", &["/root"]),
            ("\"$A1_x.y\"", &["val.y"]),               // (h)
            ("\"${A1_x}y\"", &["valy"]),               // (h)
            ("\"a$b\"", &["a"]),                       // (h) unset → empty
            ("\"<${L}>\"", &["<one two  three>"]),     // (h)
            ("\"${L-x}\"", &["one two  three"]),       // (h)
            ("\"${E-x}\"", &[""]),                     // (h) set-but-empty kept
            ("\"${NOPE-def}\"", &["def"]),             // (h) from line 2 on, see below
            ("\"x${NOPE-d}y\"", &["xdy"]),             // (h)
            ("\"${NOPE-a b}\"", &["a b"]),             // (h)
            ("\"${NOPE-}\"", &[""]),                   // (h)
            ("\"${NOPE-a\\\"b}\"", &["a\\\"b"]),       // (h) default is raw
            ("\"${NOPE-a$HOME}\"", &["a$HOME"]),       // (h)
            ("\"${NOPE-a'b}\"", &["a'b"]),             // (h)
            ("\"${NOPE-a{b}c}\"", &["a{bc}"]),         // (h) ends at first }
            ("\"$HOME-x\"", &["/root-x"]),             // (h)
            ("\"${HOME[*]-x}\"", &["/root"]),          // (h)
            ("\"${L-d[*]}\"", &["one two  three"]),    // (h)
            ("\"${L[*]}\"", &["one", "two", "three"]), // (h) runs collapse
            ("\"${P[*]}\"z", &["a", "bz"]),            // (h)
            ("\"x${L[*]}y\"", &["xone", "two", "threey"]),
            ("\"${T[*]}\"", &["", "g"]),         // (h) leading space
            ("\"${U[*]}\"", &["i"]),             // (h) trailing space
            ("\"${U[*]}\" b", &["i", "", "b"]),  // (h)
            ("\"${U[*]}b\"", &["i", "b"]),       // (h)
            ("\"${S[*]}\"", &["", "sp"]),        // (h)
            ("\"${W[*]}\"", &["a", "b"]),        // (h) tab splits too
            ("\"${E[*]}\" x", &["", "x"]),       // (h) still one word
            ("\"${NOPE[*]}\" x", &["", "x"]),    // (h)
            ("\"${NOPE[*]-a b}\"", &["a", "b"]), // (h) default splits
            ("\"${NOPE[*]- b}\"", &["", "b"]),   // (h)
            ("\"${NOPE[*]-b #}\" x", &["b", "#", "x"]), // (h)
            ("\"30${NOPE[*]-b}\" x", &["30b", "x"]), // (h)
            ("\"${A1_x[*]}\"z", &["valz"]),      // (h)
            ("\"${.LINE}\" \"$.LINE\"", &["7", "7"]), // (h)
            ("\"${.FILE}\"", &["x.cfg"]),        // (h)
            ("\"${.SECTION}\"", &["web"]),
            ("\"${.LINE-x}\"", &["7"]), // (h)
        ];
        for (raw, want) in table {
            let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            assert_eq!(split(raw), Ok(want), "line {raw:?}");
        }
    }

    /// Raw line → HAProxy's error message. All checked against haproxy 2.6.12 (its message
    /// ends with ':' and a caret line, which rsproxy's renderer draws itself).
    #[test]
    fn errors() {
        let table: &[(&str, &str)] = &[
            (".notice \"", "unmatched quote at position 9"),
            (".notice '", "unmatched quote at position 9"),
            (".notice \"a\\\"", "unmatched quote at position 9"),
            (".notice  \"x", "unmatched quote at position 10"),
            (".notice \\x41\\x41 \"", "unmatched quote at position 18"),
            (".notice \"a\rb\"", "unmatched quote at position 9"),
            (".notice 'a\rb'", "unmatched quote at position 9"),
            (".notice \"${A}", "unmatched quote at position 9"),
            (
                ".notice \\xZZ",
                "truncated or invalid hexadecimal sequence at position 9",
            ),
            (
                ".notice \\x4",
                "truncated or invalid hexadecimal sequence at position 9",
            ),
            (
                ".notice \\x",
                "truncated or invalid hexadecimal sequence at position 9",
            ),
            (
                ".notice \"\\x4\"",
                "truncated or invalid hexadecimal sequence at position 10",
            ),
            (
                "  .notice  \\x4g",
                "truncated or invalid hexadecimal sequence at position 12",
            ),
            (
                ".notice \"\\\\\\\\\\\\\\\\\" \"\\xZ\"",
                "truncated or invalid hexadecimal sequence at position 21",
            ),
            (
                ".notice \"${A",
                "unmatched brace in environment variable name at position 11",
            ),
            (
                ".notice \"${A B}\"",
                "unmatched brace in environment variable name at position 11",
            ),
            (
                ".notice \"${L[*]x}\"",
                "unmatched brace in environment variable name at position 11",
            ),
            (
                ".notice \"${NOPE[*]-b\" x",
                "unmatched brace in environment variable name at position 11",
            ),
            (
                ".notice  \\x41\\x41  \"${A",
                "unmatched brace in environment variable name at position 22",
            ),
            (
                ".notice \"${L[ *]}\"",
                "truncated or invalid word expansion sequence at position 13",
            ),
            (
                ".notice \"a$ b\"",
                "forbidden first char in environment variable name at position 12",
            ),
            (
                ".notice \"$\"",
                "forbidden first char in environment variable name at position 11",
            ),
            (
                ".notice \"a$-b\"",
                "forbidden first char in environment variable name at position 12",
            ),
            (
                ".notice \"${}\"",
                "forbidden first char in environment variable name at position 12",
            ),
            (
                ".notice \"$1A\"",
                "forbidden first char in environment variable name at position 11",
            ),
            (
                ".notice \"${1A}\"",
                "forbidden first char in environment variable name at position 12",
            ),
            (
                "\t.notice \"a\" \"${1}\"",
                "forbidden first char in environment variable name at position 17",
            ),
            (
                ".notice \"14<$.FOO>\"",
                "forbidden first char in environment variable name at position 14",
            ),
            (".notice \0a", "Stray NUL character at position 9."),
        ];
        for (raw, want) in table {
            assert_eq!(split(raw), Err(want.to_string()), "line {raw:?}");
        }
    }

    /// haproxy 2.6.12 allows 64 words; a separator after the 64th already counts as a 65th.
    /// The position is that of word 64 in HAProxy's output buffer (words + NULs).
    #[test]
    fn too_many_words() {
        let words = |n: usize, w: &str| vec![w; n].join(" ");
        let cases: Vec<(String, Result<usize, String>)> = vec![
            (format!(".notice {}", words(63, "x")), Ok(64)),
            (
                format!(".notice {}", words(62, "q")) + " \"${E[*]}\"",
                Ok(64),
            ),
            (
                format!(".notice {}", words(64, "x")),
                Err("too many words, truncating after word 64, position 133: <x>.".into()),
            ),
            (
                format!(".notice {} ", words(63, "x")),
                Err("too many words, truncating after word 64, position 133: <x>.".into()),
            ),
            (
                format!(".notice {} # c", words(63, "z")),
                Err("too many words, truncating after word 64, position 133: <z>.".into()),
            ),
            (
                format!(".notice {}\t", words(63, "u")),
                Err("too many words, truncating after word 64, position 133: <u>.".into()),
            ),
            (
                format!(".notice {} \"a b\"\\ c d", words(62, "x")),
                Err("too many words, truncating after word 64, position 133: <a b c>.".into()),
            ),
            (
                format!(".notice {}  \\x41\\x42 d", words(62, "x")),
                Err("too many words, truncating after word 64, position 133: <AB>.".into()),
            ),
            (
                format!(".notice {} \"${{U[*]}}\"", words(62, "r")),
                Err("too many words, truncating after word 64, position 133: <i>.".into()),
            ),
            (
                (1..=69)
                    .map(|i| format!("w{i}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                Err("too many words, truncating after word 64, position 244: <w64>.".into()),
            ),
        ];
        for (raw, want) in cases {
            let got = split(&raw).map(|w| w.len());
            assert_eq!(got, want, "line {raw:?}");
        }
    }

    #[test]
    fn columns_are_char_columns_of_word_starts() {
        let env = env();
        let ctx = LineContext {
            env: &env,
            file_name: "",
            line: 1,
            section: "",
        };
        let s = split_line("  é \"a b\"  'c'd \\ e", &ctx).unwrap_or_default();
        let cols: Vec<u32> = s.words.iter().map(|w| w.col).collect();
        assert_eq!(cols, vec![3, 5, 12, 17]);
        let e = split_line("é \"x", &ctx).err();
        assert_eq!(e.as_ref().map(LexError::col), Some(3));
        // HAProxy's position counts bytes: é is two.
        assert_eq!(
            e.map(|e| e.to_string()),
            Some("unmatched quote at position 4".to_string())
        );
    }

    /// Result of [`tokenize`]: lines as "N: w1|w2", diagnostics as "N:col severity message".
    fn run(text: &str) -> (Vec<String>, Vec<String>) {
        let mut diags = Diagnostics::new();
        let lines = tokenize_file(FileId(0), "x.cfg", text, &env(), &mut diags);
        let lines = lines
            .iter()
            .map(|l| {
                let words: Vec<&str> = l.words.iter().map(|w| w.text.as_str()).collect();
                format!("{}: {}", l.line, words.join("|"))
            })
            .collect();
        let diags = diags
            .iter()
            .map(|d| {
                format!(
                    "{}:{} {:?} {}",
                    d.span.line, d.span.col, d.severity, d.message
                )
            })
            .collect();
        (lines, diags)
    }

    /// File → returned lines and diagnostics. Rows marked (h) were checked against haproxy
    /// 2.6.12 (same messages; HAProxy stops at some of them where rsproxy goes on).
    #[test]
    fn files() {
        type Row = (
            &'static str,
            &'static [&'static str],
            &'static [&'static str],
        );
        let table: &[Row] = &[
            ("global\n  maxconn 10\r\n", &["1: global", "2: maxconn|10"], &[]),
            ("global\n\"\" maxconn 10\n\"${E}\" x\n\"\"\n", &["1: global"], &[]), // (h)
            // (h) unmatched quote in a skipped block is still an error
            (".if 0\n\"\n.notice \"${1}\"\n.endif\n", &[], &[
                "2:1 Error unmatched quote at position 1",
                "3:12 Error forbidden first char in environment variable name at position 12",
            ]),
            // a bad line is skipped, the next ones are used
            ("a \"\nb\n", &["2: b"], &["1:3 Error unmatched quote at position 3"]),
            (".if 1\na\n.else\nb\n.endif\nc\n", &["2: a", "6: c"], &[]),
            (".if 0\na\n.else\nb\n.endif\n", &["4: b"], &[]),
            // (h)
            (".if 0\n.elif 1\n.notice \"elif\"\n.elif 1\n.notice \"elif2\"\n.else\n.notice \"else\"\n.endif\n",
                &[], &["3:9 Notice 'elif'."]),
            (".if 1\n.elif abc\n.endif\n", &[], &[]), // (h) not evaluated after a taken branch
            (".if 0\n.elif 1\n.elif abc\n.endif\n", &[], &[]), // (h)
            // (h) nothing in a skipped block is evaluated, but nesting is tracked
            (".if 0\n.if abc\n.bogus\n.notice \"x\" y\n.endif\n.notice \"in\"\n.endif\n.notice \"after\"\n",
                &[], &["8:9 Notice 'after'."]),
            (".if 1\n  .if 0\n  x\n  .endif\n  y\n.endif\n", &["5: y"], &[]),
            // (h) messages
            (".endif\n", &[], &["1:1 Error lone '.endif' with no matching '.if'."]),
            (".elif 1\n", &[], &["1:1 Error lone '.elif' with no matching '.if'."]),
            (".else\n", &[], &["1:1 Error lone '.else' with no matching '.if'."]),
            (".endif \"\" x\n", &[], &["1:1 Error lone '.endif' with no matching '.if'."]),
            (".if 1\n.else\n.else\n.endif\n", &[], &["3:1 Error '.else' after '.else' is not permitted."]),
            (".if 1\n.else\n.elif 1\n.endif\n", &[], &["3:1 Error '.elif' after '.else' is not permitted."]),
            (".if 0\n.if 1\n.else\n.else\n.endif\n.endif\n", &[],
                &["4:1 Error '.else' after '.else' is not permitted."]),
            (".if 0\n.if 1\n.else x\n.endif\n.endif\n", &[], &["3:7 Error Unexpected argument 'x' for '.else'."]),
            (".if 1\n.endif x\n", &[], &["2:8 Error Unexpected argument 'x' for '.endif'."]),
            (".if 1\n.else \"\" x\n.endif \"\" y\n", &[], &[]),
            (".if 1\nx\n", &["2: x"], &["2:1 Error non-terminated '.if' block."]),
            (".if 1\n.if 0\n", &[], &["2:1 Error non-terminated '.if' block."]),
            // conditions
            (".if abc\nx\n.else\ny\n.endif\n", &["4: y"],
                &["1:5 Error unparsable conditional expression 'abc' in '.if' at position 1"]),
            (".if 0\n.elif 1 0\n.endif\n", &[],
                &["2:9 Error unexpected character '0' at the end of conditional expression '1 0' in '.elif' at position 3"]),
            (".if 1 || \n.endif\n", &[],
                &["1:7 Error unparsable conditional expression '1 || ' in '.if' at position 3"]),
            (".if 1 &&  \n.endif\n", &[],
                &["1:7 Error unparsable conditional expression '&& ' in '.if' at position 3"]),
            (".if \"(\" 1\n.endif\n", &[],
                &["1:5 Error expected ')' after conditional expression '( 1' in '.if' at position 1"]),
            (".if streq(\"a)\",b)\n.endif\n", &[],
                &["1:12 Error missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in conditional expression in '.if' at position 8"]),
            (".if streq(\"$HOME\",/root)\nyes\n.endif\n", &["2: yes"], &[]),   // (h)
            (".if streq('$HOME',/root)\nyes\n.endif\n", &[], &[]),             // (h)
            (".if streq($HOME,/root)\nyes\n.endif\n", &[], &[]),               // (h)
            (".if streq(\"a b\",a\\ b)\nyes\n.endif\n", &["2: yes"], &[]),     // (h)
            (".if streq(x  y,x y)\nyes\n.endif\n", &["2: yes"], &[]),          // (h) joined by one space
            (".if streq(\"x  y\",\"x y\")\nyes\n.endif\n", &[], &[]),          // (h)
            (".if streq(\"'x'\",x)\nyes\n.endif\n", &["2: yes"], &[]),         // (h)
            (".if streq(\"\\\"x\\\"\",x)\nyes\n.endif\n", &["2: yes"], &[]),   // (h)
            (".if\nyes\n.endif\n.if \"\"\nyes\n.endif\n.if \"${E}\"\nyes\n.endif\n", &[], &[]), // (h)
            (".if \"${L}\"\n.endif\n", &[],
                &["1:5 Error unparsable conditional expression 'one two  three' in '.if' at position 1"]),
            (".if defined(HOME) && !defined(NOPE) && version_atleast(2.6)\nyes\n.endif\n", &["2: yes"], &[]),
            (".if feature(LINUX_TPROXY) && !feature(OPENSSL)\nyes\n.endif\n", &["2: yes"], &[]),
            // tokenizing error on the .if line: the line is skipped, so .else is lone (h)
            (".if 'streq(\\'x\\',x)'\n.notice \"yes\"\n.else\n", &[],
                &["1:20 Error unmatched quote at position 20", "2:9 Notice 'yes'.", "3:1 Error lone '.else' with no matching '.if'."]),
            // messages (h)
            (".notice \"hello\"\n.warning \"w\"\n.alert \"a\"\n.diag \"d\"\n", &[],
                &["1:9 Notice 'hello'.", "2:10 Warning 'w'.", "3:8 Error 'a'."]),
            (".notice\n.warning\n.alert\n.diag\n", &[],
                &["1:1 Notice ''.", "2:1 Warning ''.", "3:1 Error ''."]),
            (".notice hello $HOME\n", &[],
                &["1:15 Error Unexpected argument '$HOME' for '.notice'. Use quotes if the message should contain spaces."]),
            (".diag a b\n.warning a b\n", &[], &[
                "1:9 Error Unexpected argument 'b' for '.diag'. Use quotes if the message should contain spaces.",
                "2:12 Error Unexpected argument 'b' for '.warning'. Use quotes if the message should contain spaces.",
            ]),
            (".notice a \"\" b\n", &[], &["1:9 Notice 'a'."]),
            (".notice \"${L[*]}\"\n", &[],
                &["1:10 Error Unexpected argument 'two' for '.notice'. Use quotes if the message should contain spaces."]),
            (".notice \"${U[*]}\" b\n", &[], &["1:9 Notice 'i'."]),
            ("\".notice\" \"q\"\n", &[], &["1:11 Notice 'q'."]),
            ("  .if 1\n\t.notice \"indented\"\n  .endif\n", &[], &["2:10 Notice 'indented'."]),
            (".if 1 #c\n.notice \"a\" # c\n.endif #x\n", &[], &["2:9 Notice 'a'."]),
            (".bogus\n.NOTICE \"q\"\n. if 1\n.\n", &[], &[
                "1:1 Error unknown directive '.bogus'.",
                "2:1 Error unknown directive '.NOTICE'.",
                "3:1 Error unknown directive '.'.",
                "4:1 Error unknown directive '.'.",
            ]),
            // pseudo-variables (h)
            (".notice \"1<${.SECTION}>\"\nglobal\n.notice \"3<${.SECTION}>\"\ndefaults\n.notice \"5<${.SECTION}>\"\n\
              defaults dname\nbackend \"b${.SECTION}\"\n.notice \"8<${.SECTION}>\"\n.notice \"${.LINE}:${.FILE}\"\n",
                &["2: global", "4: defaults", "6: defaults|dname", "7: backend|bdname"],
                &["1:9 Notice '1<>'.", "3:9 Notice '3<global>'.", "5:9 Notice '5<defaults>'.",
                  "8:9 Notice '8<bdname>'.", "9:9 Notice '9:x.cfg'."]),
            (".if 0\n  global\n.endif\n.notice \"${.SECTION}\"\n", &[], &["4:9 Notice ''."]),
        ];
        for (text, want_lines, want_diags) in table {
            let (lines, diags) = run(text);
            assert_eq!(lines, *want_lines, "lines of {text:?}");
            assert_eq!(diags, *want_diags, "diagnostics of {text:?}");
        }
    }

    #[test]
    fn plain_tokenize_has_no_file_name() {
        let mut diags = Diagnostics::new();
        let lines = tokenize(FileId(3), "x \"${.FILE}\" y\n", &Env::empty(), &mut diags);
        assert_eq!(lines.len(), 1);
        assert_eq!(
            lines[0]
                .words
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>(),
            ["x", "", "y"]
        );
        assert!(diags.is_empty());
    }

    #[test]
    fn diagnostics_carry_the_file() {
        let mut diags = Diagnostics::new();
        tokenize(FileId(5), "\n\n  .if\n", &Env::empty(), &mut diags);
        let d: Vec<_> = diags.iter().map(|d| d.span).collect();
        assert_eq!(d, vec![Span::new(FileId(5), 3, 1)]);
    }

    proptest::proptest! {
        #[test]
        fn tokenize_never_panics_on_text(text in "(?s).{0,300}") {
            check_invariants(&text);
        }

        #[test]
        fn tokenize_never_panics_on_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            check_invariants(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn tokenize_never_panics_on_config_soup(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    " ", "\t", "\n", "\r\n", "#", "\"", "'", "\\", "\\x", "4", "g", "$", "${", "}",
                    "[*]", "-", "L", "U", "HOME", ".if ", ".elif ", ".else", ".endif", ".notice ",
                    ".alert ", "!", "(", ")", "&&", "||", "streq(", ",", "0", "1", "é", "\0",
                ]),
                0..60,
            )
        ) {
            check_invariants(&parts.concat());
        }
    }

    fn check_invariants(text: &str) {
        let mut diags = Diagnostics::new();
        let lines = tokenize_file(FileId(0), "f", text, &env(), &mut diags);
        let max_line = text.split('\n').count() as u32;
        let mut prev = 0;
        for l in &lines {
            assert!(
                l.line >= 1 && l.line <= max_line,
                "line {} of {max_line}",
                l.line
            );
            assert!(l.line > prev, "lines in order");
            prev = l.line;
            assert!(!l.words.is_empty() && !l.words[0].text.is_empty());
            assert!(l.words.len() <= MAX_LINE_ARGS);
            assert!(l.words.iter().all(|w| w.col >= 1));
        }
        for d in diags.iter() {
            assert!(d.span.line >= 1 && d.span.line <= max_line);
            assert!(d.span.col >= 1);
        }
    }
    proptest::proptest! {
        /// The fast path gives exactly what the general path gives, on every line it takes.
        #[test]
        fn plain_fast_path_equals_the_general_path(raw in "[a-z0-9:./ \t-]{0,120}") {
            let env = Env::empty();
            let ctx = LineContext { env: &env, file_name: "t.cfg", line: 1, section: "" };
            if let Some(fast) = split_plain(&raw) {
                let slow = split_general(&raw, &ctx).expect("plain lines are valid");
                proptest::prop_assert_eq!(fast.words, slow.words);
                proptest::prop_assert_eq!(fast.trailing_empty, slow.trailing_empty);
            }
        }
    }
}
