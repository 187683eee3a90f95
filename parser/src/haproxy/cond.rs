//! Conditions of `.if` / `.elif` (HAProxy 2.6 configuration manual, section 2.4).
//!
//! Input: the text of a condition, i.e. the words after `.if` once the line has been
//! tokenized (quotes removed, `"$VAR"` expanded), joined by one space as HAProxy does.
//! Output: `true`/`false`, or a [`CondError`] carrying HAProxy's exact message and the byte
//! offset in the text where it points.
//!
//! Grammar (AND binds tighter than OR; both chain to the right):
//!
//! ```text
//! cond      = <empty> | or-expr
//! or-expr   = and-expr [ "||" or-expr ]
//! and-expr  = term [ "&&" and-expr ]
//! term      = { "!" } primary
//! primary   = "(" or-expr ")" | integer | predicate
//! integer   = C strtol(base 0): [+-] ( "0x" hex+ | "0" oct* | dec+ )   ; 0 is false
//! predicate = name [ "(" arg { "," arg } ")" ]
//! name      = defined | feature | streq | strneq | version_atleast | version_before
//! ```
//!
//! Spaces and tabs may separate tokens. Predicate arguments go through a second level of
//! quoting: `"..."` and `'...'` group (so `,` and `)` may be quoted) and `\\`, `\"`, `\'`,
//! `\ `, `\t`, `\n`, `\r` are escapes; `\,` and `\)` are not (checked against haproxy 2.6.12).
//! A bare word that is neither an integer nor a known predicate is an error, not "true".
//!
//! Invariants: never panics; positions are byte offsets in the text, on char boundaries.

use crate::Env;
use std::cmp::Ordering;

/// The HAProxy version rsproxy answers to in `version_atleast()` / `version_before()`.
pub const VERSION: &str = "2.6.12";

/// Build features rsproxy provides, as `feature(NAME)` sees them (HAProxy lists its own with
/// `haproxy -vv`, "Feature list"). Kept minimal and honest: transparent proxying, PCRE2-style
/// regexes and threads. `OPENSSL` is deliberately absent.
pub const FEATURES: &[&str] = &["LINUX_TPROXY", "PCRE2", "THREAD"];

/// A condition that cannot be evaluated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CondError {
    /// Byte offset in the condition text the error points at.
    pub offset: usize,
    /// HAProxy's message, e.g. `unparsable conditional expression 'abc' in '.if' at
    /// position 1`.
    pub message: String,
}

/// Why a sub-expression failed; turned into a message only at the top.
#[derive(Debug)]
enum Fail {
    /// Nothing left to parse (not an error by itself: `.if` alone is false).
    Empty,
    /// `text`: where the quoted excerpt starts; `pos`: where the error points.
    Unparsable {
        text: usize,
        pos: usize,
    },
    ExpectedParen {
        text: usize,
        pos: usize,
    },
    /// `A ||` with nothing after: HAProxy quotes the whole OR chain and points at its first
    /// `||`.
    OrEmpty {
        text: usize,
        pos: usize,
    },
    Predicate {
        detail: String,
        name: &'static str,
        pos: usize,
    },
}

/// The predicates and how many arguments each takes.
const PREDICATES: &[(&str, usize)] = &[
    ("defined", 1),
    ("feature", 1),
    ("streq", 2),
    ("strneq", 2),
    ("version_atleast", 1),
    ("version_before", 1),
];

/// Evaluates `text` as the condition of `directive` (`.if` or `.elif`, used in messages).
pub fn eval(text: &str, directive: &str, env: &Env) -> Result<bool, CondError> {
    let mut p = Parser {
        s: text,
        pos: 0,
        env,
    };
    let res = p.or_expr();
    let fail = match res {
        Ok(v) => {
            p.skip_spaces();
            match p.peek() {
                None => return Ok(v),
                Some(c) => {
                    return Err(CondError {
                        offset: p.pos,
                        message: format!(
                            "unexpected character '{c}' at the end of conditional expression \
                             '{text}' in '{directive}' at position {}",
                            p.pos + 1
                        ),
                    })
                }
            }
        }
        Err(f) => f,
    };
    let excerpt = |from: usize| text.get(from..).unwrap_or("");
    let (offset, message) = match fail {
        Fail::Empty if text.is_empty() => return Ok(false),
        // Only blanks (possible with quotes: `.if " "`).
        Fail::Empty => (
            0,
            format!(
                "unparsable conditional sub-expression '{text}' in '{directive}' at position 1"
            ),
        ),
        Fail::Unparsable { text, pos } | Fail::OrEmpty { text, pos } => (
            pos,
            format!(
                "unparsable conditional expression '{}' in '{directive}' at position {}",
                excerpt(text),
                pos + 1
            ),
        ),
        Fail::ExpectedParen { text, pos } => (
            pos,
            format!(
                "expected ')' after conditional expression '{}' in '{directive}' at position {}",
                excerpt(text),
                pos + 1
            ),
        ),
        Fail::Predicate { detail, name, pos } => (
            pos,
            format!(
                "{detail} in argument 1 of predicate '{name}' used in conditional expression \
                 in '{directive}' at position {}",
                pos + 1
            ),
        ),
    };
    Err(CondError { offset, message })
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    env: &'a Env,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.pos..).and_then(|r| r.chars().next())
    }

    fn rest(&self) -> &str {
        self.s.get(self.pos..).unwrap_or("")
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.pos += 1;
        }
    }

    /// `or-expr = and-expr [ "||" or-expr ]`
    fn or_expr(&mut self) -> Result<bool, Fail> {
        let start = self.pos;
        let left = self.and_expr()?;
        self.skip_spaces();
        if !self.rest().starts_with("||") {
            return Ok(left);
        }
        let op = self.pos;
        self.pos += 2;
        match self.or_expr() {
            Ok(right) => Ok(left || right),
            Err(Fail::Empty | Fail::OrEmpty { .. }) => Err(Fail::OrEmpty {
                text: start,
                pos: op,
            }),
            Err(e) => Err(e),
        }
    }

    /// `and-expr = term [ "&&" and-expr ]`
    fn and_expr(&mut self) -> Result<bool, Fail> {
        let left = self.term()?;
        self.skip_spaces();
        if !self.rest().starts_with("&&") {
            return Ok(left);
        }
        let op = self.pos;
        self.pos += 2;
        match self.and_expr() {
            Ok(right) => Ok(left && right),
            Err(Fail::Empty) => Err(Fail::Unparsable { text: op, pos: op }),
            Err(e) => Err(e),
        }
    }

    /// `term = { "!" } primary`; a failed negated term is reported at its first `!`.
    /// Blanks before a term are skipped, except at the very start of the condition (only
    /// possible with quotes): there haproxy 2.6.12 points at position 1 (`" x"` is reported
    /// as `' x'` at position 1), though integers still allow them (`" 1"` is true).
    fn term(&mut self) -> Result<bool, Fail> {
        let raw = self.pos;
        self.skip_spaces();
        let start = if raw == 0 { 0 } else { self.pos };
        if self.peek() != Some('!') {
            return self.primary(start);
        }
        let mut negate = false;
        while self.peek() == Some('!') {
            negate = !negate;
            self.pos += 1;
            self.skip_spaces();
        }
        match self.primary(self.pos) {
            Ok(v) => Ok(v != negate),
            Err(Fail::ExpectedParen { .. }) => Err(Fail::ExpectedParen {
                text: start,
                pos: start,
            }),
            Err(Fail::Predicate { detail, name, pos }) => {
                Err(Fail::Predicate { detail, name, pos })
            }
            Err(_) => Err(Fail::Unparsable {
                text: start,
                pos: start,
            }),
        }
    }

    /// `primary = "(" or-expr ")" | integer | predicate`, at `self.pos`; errors about the
    /// primary itself point at `start`.
    fn primary(&mut self, start: usize) -> Result<bool, Fail> {
        let unparsable = Fail::Unparsable {
            text: start,
            pos: start,
        };
        let Some(c) = self.peek() else {
            return Err(Fail::Empty);
        };
        if c == '(' {
            self.pos += 1;
            let v = match self.or_expr() {
                Ok(v) => v,
                Err(Fail::Empty | Fail::OrEmpty { .. }) => return Err(unparsable),
                Err(e) => return Err(e),
            };
            self.skip_spaces();
            if self.peek() != Some(')') {
                return Err(Fail::ExpectedParen {
                    text: start,
                    pos: start,
                });
            }
            self.pos += 1;
            return Ok(v);
        }
        let rest = self.rest().as_bytes();
        let signed_digit =
            matches!(c, '+' | '-') && rest.get(1).is_some_and(|b| b.is_ascii_digit());
        if c.is_ascii_digit() || signed_digit {
            return Ok(self.integer());
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let len = rest
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            let word = &self.rest()[..len];
            let Some(&(name, arity)) = PREDICATES.iter().find(|(n, _)| *n == word) else {
                return Err(unparsable);
            };
            self.pos += len;
            let args = self.predicate_args(name, arity)?;
            let first = args.first().map(String::as_str).unwrap_or("");
            let second = args.get(1).map(String::as_str).unwrap_or("");
            return Ok(match name {
                "defined" => self.env.get(first).is_some(),
                "feature" => has_feature(first),
                "streq" => first == second,
                "strneq" => first != second,
                "version_atleast" => compare_version(VERSION, first) != Ordering::Less,
                _ => compare_version(VERSION, first) == Ordering::Less,
            });
        }
        Err(unparsable)
    }

    /// C `strtol(text, &end, 0)`: consumes the longest valid prefix; returns "non-zero".
    fn integer(&mut self) -> bool {
        if matches!(self.peek(), Some('+' | '-')) {
            self.pos += 1;
        }
        let rest = self.rest().as_bytes();
        let (skip, radix) = if rest.first() == Some(&b'0')
            && matches!(rest.get(1), Some(b'x' | b'X'))
            && rest.get(2).is_some_and(u8::is_ascii_hexdigit)
        {
            (2, 16)
        } else if rest.first() == Some(&b'0') {
            (0, 8)
        } else {
            (0, 10)
        };
        self.pos += skip;
        let mut nonzero = false;
        while let Some(d) = self.peek().and_then(|c| c.to_digit(radix)) {
            nonzero |= d != 0;
            self.pos += 1;
        }
        nonzero
    }

    /// `[ "(" arg { "," arg } ")" ]` for a predicate taking `arity` arguments.
    fn predicate_args(&mut self, name: &'static str, arity: usize) -> Result<Vec<String>, Fail> {
        let missing = |pos| Fail::Predicate {
            detail: "missing arguments (got 1/2), type 'string' expected".into(),
            name,
            pos,
        };
        if self.peek() != Some('(') {
            return if arity == 1 {
                Ok(vec![String::new()])
            } else {
                Err(missing(self.pos))
            };
        }
        self.pos += 1;
        let mut args = Vec::new();
        loop {
            args.push(self.arg());
            match self.peek() {
                Some(')') => {
                    if args.len() < arity {
                        return Err(missing(self.pos));
                    }
                    self.pos += 1;
                    return Ok(args);
                }
                Some(',') if args.len() < arity => self.pos += 1,
                Some(_) => {
                    return Err(Fail::Predicate {
                        detail: format!("expected ')' before '{}'", self.rest()),
                        name,
                        pos: self.pos,
                    })
                }
                None if args.len() < arity => return Err(missing(self.pos)),
                None => {
                    return Err(Fail::Predicate {
                        detail: "expected ')'".into(),
                        name,
                        pos: self.pos,
                    })
                }
            }
        }
    }

    /// One predicate argument, up to an unquoted `,` or `)` or the end (second level of
    /// quoting, see the module header).
    fn arg(&mut self) -> String {
        let mut out = String::new();
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            match (quote, c) {
                (None, ',' | ')') => break,
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), _) if c == q => quote = None,
                (Some('\''), _) => out.push(c),
                (_, '\\') => {
                    let next = self.rest().chars().nth(1);
                    let esc = match next {
                        Some(n @ ('\\' | '"' | '\'' | ' ')) => Some(n),
                        Some('t') => Some('\t'),
                        Some('n') => Some('\n'),
                        Some('r') => Some('\r'),
                        _ => None,
                    };
                    if let Some(e) = esc {
                        out.push(e);
                        self.pos += 1;
                    } else {
                        out.push('\\');
                    }
                }
                _ => out.push(c),
            }
            self.bump();
        }
        out
    }
}

fn has_feature(name: &str) -> bool {
    // haproxy 2.6.12 answers true to `feature()` / `feature` without a name; mirrored.
    name.is_empty() || FEATURES.contains(&name)
}

/// A version as `version_*()` compare them: up to four dotted numbers (missing ones are 0),
/// then a suffix: `-devN` < `-rcN` < release `-N` (release `X` equals `X-0`). Anything that
/// does not parse ends the version there (`abc` is 0.0.0.0, `2.6.12a` is 2.6.12).
fn version_key(v: &str) -> ([u64; 4], u8, u64) {
    let b = v.as_bytes();
    let mut i = 0;
    let number = |i: &mut usize| {
        let mut n: u64 = 0;
        while let Some(d) = b.get(*i).filter(|d| d.is_ascii_digit()) {
            n = n.saturating_mul(10).saturating_add(u64::from(d - b'0'));
            *i += 1;
        }
        n
    };
    let mut parts = [0u64; 4];
    for (k, part) in parts.iter_mut().enumerate() {
        if k > 0 {
            if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                i += 1;
            } else {
                break;
            }
        }
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            break;
        }
        *part = number(&mut i);
    }
    let rest = &v[i..];
    let suffix = |tag: &str| {
        rest.strip_prefix(tag)
            .map(|r| r.bytes().take_while(u8::is_ascii_digit))
    };
    if let Some(d) = suffix("-dev") {
        return (parts, 0, digits(d));
    }
    if let Some(d) = suffix("-rc") {
        return (parts, 1, digits(d));
    }
    if let Some(d) = suffix("-") {
        return (parts, 2, digits(d));
    }
    (parts, 2, 0)
}

fn digits(d: impl Iterator<Item = u8>) -> u64 {
    d.fold(0u64, |n, c| {
        n.saturating_mul(10).saturating_add(u64::from(c - b'0'))
    })
}

/// Orders version `a` against version `b` (see [`version_key`]).
pub fn compare_version(a: &str, b: &str) -> Ordering {
    version_key(a).cmp(&version_key(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env::empty().with("HOME", "/root").with("EMPTY", "")
    }

    /// Condition text → value. Every row was checked against haproxy 2.6.12 (`.if <cond>`
    /// followed by `.notice`), except the `feature()` rows, which follow [`FEATURES`].
    #[test]
    fn values() {
        let table: &[(&str, bool)] = &[
            ("", false),
            ("1", true),
            ("2", true),
            ("-1", true),
            ("+1", true),
            ("0", false),
            ("00", false),
            ("-0", false),
            ("0x0", false),
            ("0x10", true),
            ("010", true),
            ("!0", true),
            ("!!1", true),
            ("! 1", false),
            ("(1)", true),
            ("( 1 )", true),
            (" 1", true),
            ("\t1", true),
            ("   1", true),
            ("( 1)", true),
            ("(1) ", true),
            ("1 && 1", true),
            ("!(0)", true),
            ("!(1||0)", false),
            ("0 || 1 && 0", false),
            ("1 || 0 && 0", true),
            ("1 && 0 || 1", true),
            ("1&&1", true),
            ("1||0", true),
            ("defined(HOME)", true),
            ("defined(EMPTY)", true),
            ("defined(NOPE)", false),
            ("defined()", false),
            ("defined", false),
            ("defined(HOME )", false),
            ("!defined(NOPE)", true),
            ("streq(a,a)", true),
            ("streq(a, a)", false),
            ("streq( a,a)", false),
            ("streq(a b,a b)", true),
            ("streq(a,)", false),
            ("streq(,)", true),
            ("strneq(a,b)", true),
            ("streq(a,b)||1", true),
            ("streq(\"a\",a)", true),
            ("streq(\"a\"b,ab)", true),
            ("streq(a\"b,c\"d,a\"b,c\"d)", true),
            ("streq('x',x)", true),
            ("streq(\\\"x\\\",x)", false),
            ("streq(a\\tb,a\tb)", true),
            ("streq(a\\\\b,a\\b)", true),
            ("streq(a\\qb,a\\qb)", true),
            ("streq(a\\qb,aqb)", false),
            ("streq(a\\,b)", false),
            ("streq(a\\x41,aA)", false),
            ("streq((a,(a)", true),
            ("feature(LINUX_TPROXY)", true),
            ("feature(OPENSSL)", false),
            ("feature(linux_tproxy)", false),
            ("feature()", true),
            ("feature", true),
            ("version_atleast(2.6)", true),
            ("version_atleast(2.6.12)", true),
            ("version_atleast(2.6.13)", false),
            ("version_atleast(2.6.9)", true),
            ("version_atleast(2)", true),
            ("version_before(2.6.13)", true),
            ("version_before(2.6.12)", false),
            ("version_before(3)", true),
            ("version_before(10)", true),
            ("version_before(2.10)", true),
            ("version_atleast(2.4-dev19)", true),
            ("version_atleast(2.6-dev1)", true),
            ("version_atleast(2.6.12-dev5)", true),
            ("version_atleast(2.6.12-rc1)", true),
            ("version_before(2.6.12-rc1)", false),
            ("version_atleast(2.6.12-1)", false),
            ("version_before(2.6.12-1)", true),
            ("version_before(2.6.12-0)", false),
            ("version_atleast(2.6.12.1)", false),
            ("version_before(2.6.12.1)", true),
            ("version_atleast(2.6.12+)", true),
            ("version_before(2.6.12a)", false),
            ("version_before(2.7-dev0)", true),
            ("version_atleast(abc)", true),
            ("version_atleast()", true),
            ("version_before(x)", false),
            ("version_before()", false),
        ];
        for (text, want) in table {
            assert_eq!(eval(text, ".if", &env()), Ok(*want), "condition {text:?}");
        }
    }

    /// Condition text → HAProxy's message (after "parsing [file:line]: ") and offset.
    /// Every row was checked against haproxy 2.6.12.
    #[test]
    fn errors() {
        let table: &[(&str, &str)] = &[
            ("abc", "unparsable conditional expression 'abc' in '.if' at position 1"),
            ("nope(1)", "unparsable conditional expression 'nope(1)' in '.if' at position 1"),
            ("Streq(a,a)", "unparsable conditional expression 'Streq(a,a)' in '.if' at position 1"),
            ("definedx", "unparsable conditional expression 'definedx' in '.if' at position 1"),
            ("1a", "unexpected character 'a' at the end of conditional expression '1a' in '.if' at position 2"),
            ("0xg", "unexpected character 'x' at the end of conditional expression '0xg' in '.if' at position 2"),
            ("08", "unexpected character '8' at the end of conditional expression '08' in '.if' at position 2"),
            ("1 0", "unexpected character '0' at the end of conditional expression '1 0' in '.if' at position 3"),
            ("1 & 1", "unexpected character '&' at the end of conditional expression '1 & 1' in '.if' at position 3"),
            ("1)", "unexpected character ')' at the end of conditional expression '1)' in '.if' at position 2"),
            ("(1)(1)", "unexpected character '(' at the end of conditional expression '(1)(1)' in '.if' at position 4"),
            ("defined(HOME) x", "unexpected character 'x' at the end of conditional expression 'defined(HOME) x' in '.if' at position 15"),
            ("1 &&", "unparsable conditional expression '&&' in '.if' at position 3"),
            ("1 && ", "unparsable conditional expression '&& ' in '.if' at position 3"),
            ("&& 1", "unparsable conditional expression '&& 1' in '.if' at position 1"),
            ("0 ||", "unparsable conditional expression '0 ||' in '.if' at position 3"),
            ("1 || ", "unparsable conditional expression '1 || ' in '.if' at position 3"),
            ("0 || 0 ||", "unparsable conditional expression '0 || 0 ||' in '.if' at position 3"),
            ("1 && 1 ||", "unparsable conditional expression '1 && 1 ||' in '.if' at position 8"),
            ("1 || 1 &&", "unparsable conditional expression '&&' in '.if' at position 8"),
            ("1 || abc", "unparsable conditional expression 'abc' in '.if' at position 6"),
            ("0 || 0 || abc", "unparsable conditional expression 'abc' in '.if' at position 11"),
            ("1 &&& 1", "unparsable conditional expression '& 1' in '.if' at position 5"),
            ("1 ||| 1", "unparsable conditional expression '| 1' in '.if' at position 5"),
            ("1 && |", "unparsable conditional expression '|' in '.if' at position 6"),
            ("1 && && 1", "unparsable conditional expression '&& 1' in '.if' at position 6"),
            ("(", "unparsable conditional expression '(' in '.if' at position 1"),
            ("()", "unparsable conditional expression ')' in '.if' at position 2"),
            ("( )", "unparsable conditional expression ')' in '.if' at position 3"),
            ("(abc)", "unparsable conditional expression 'abc)' in '.if' at position 2"),
            ("(1 &&)", "unparsable conditional expression ')' in '.if' at position 6"),
            ("(1 ||)", "unparsable conditional expression ')' in '.if' at position 6"),
            ("(1 || ", "unparsable conditional expression '(1 || ' in '.if' at position 1"),
            ("1 && (0 || ", "unparsable conditional expression '(0 || ' in '.if' at position 6"),
            ("1 || (", "unparsable conditional expression '(' in '.if' at position 6"),
            ("!", "unparsable conditional expression '!' in '.if' at position 1"),
            ("!!", "unparsable conditional expression '!!' in '.if' at position 1"),
            ("!abc", "unparsable conditional expression '!abc' in '.if' at position 1"),
            ("1 && !", "unparsable conditional expression '!' in '.if' at position 6"),
            ("1 && !abc", "unparsable conditional expression '!abc' in '.if' at position 6"),
            ("!(0 ||", "unparsable conditional expression '!(0 ||' in '.if' at position 1"),
            ("(1", "expected ')' after conditional expression '(1' in '.if' at position 1"),
            ("( 1", "expected ')' after conditional expression '( 1' in '.if' at position 1"),
            ("1 && (1", "expected ')' after conditional expression '(1' in '.if' at position 6"),
            ("!(1", "expected ')' after conditional expression '!(1' in '.if' at position 1"),
            ("1 || !(0", "expected ')' after conditional expression '!(0' in '.if' at position 6"),
            ("streq(a)", "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in conditional expression in '.if' at position 8"),
            ("streq()", "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in conditional expression in '.if' at position 7"),
            ("streq", "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in conditional expression in '.if' at position 6"),
            ("streq(", "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in conditional expression in '.if' at position 7"),
            ("streq(a", "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in conditional expression in '.if' at position 8"),
            ("streq (a,a)", "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in conditional expression in '.if' at position 6"),
            ("streq(a)b", "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in conditional expression in '.if' at position 8"),
            ("strneq(a)", "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'strneq' used in conditional expression in '.if' at position 9"),
            ("!streq(a)", "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in conditional expression in '.if' at position 9"),
            ("streq(a\\),a\\))", "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in conditional expression in '.if' at position 9"),
            ("streq(a,b,c)", "expected ')' before ',c)' in argument 1 of predicate 'streq' used in conditional expression in '.if' at position 10"),
            ("streq(a,b,", "expected ')' before ',' in argument 1 of predicate 'streq' used in conditional expression in '.if' at position 10"),
            ("streq(a\\,b,a\\,b)", "expected ')' before ',a\\,b)' in argument 1 of predicate 'streq' used in conditional expression in '.if' at position 11"),
            (" ", "unparsable conditional sub-expression ' ' in '.if' at position 1"),
            ("  ", "unparsable conditional sub-expression '  ' in '.if' at position 1"),
            (" THREAD", "unparsable conditional expression ' THREAD' in '.if' at position 1"),
            (" !abc", "unparsable conditional expression ' !abc' in '.if' at position 1"),
            (" &&", "unparsable conditional expression ' &&' in '.if' at position 1"),
            (" x ||", "unparsable conditional expression ' x ||' in '.if' at position 1"),
            (" (1", "expected ')' after conditional expression ' (1' in '.if' at position 1"),
            (" (abc)", "unparsable conditional expression 'abc)' in '.if' at position 3"),
            ("( abc)", "unparsable conditional expression 'abc)' in '.if' at position 3"),
            (" 0 ||", "unparsable conditional expression ' 0 ||' in '.if' at position 4"),
            ("!  ", "unparsable conditional expression '!  ' in '.if' at position 1"),
            ("(  ", "unparsable conditional expression '(  ' in '.if' at position 1"),
            ("1 &&  abc", "unparsable conditional expression 'abc' in '.if' at position 7"),
            (" streq(a)", "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in conditional expression in '.if' at position 9"),
            ("defined(HOME,x)", "expected ')' before ',x)' in argument 1 of predicate 'defined' used in conditional expression in '.if' at position 13"),
            ("version_atleast(1,2)", "expected ')' before ',2)' in argument 1 of predicate 'version_atleast' used in conditional expression in '.if' at position 18"),
            ("streq(a,b", "expected ')' in argument 1 of predicate 'streq' used in conditional expression in '.if' at position 10"),
            ("streq(,", "expected ')' in argument 1 of predicate 'streq' used in conditional expression in '.if' at position 8"),
            ("defined(", "expected ')' in argument 1 of predicate 'defined' used in conditional expression in '.if' at position 9"),
            ("defined(HOME", "expected ')' in argument 1 of predicate 'defined' used in conditional expression in '.if' at position 13"),
        ];
        for (text, want) in table {
            match eval(text, ".if", &env()) {
                Err(e) => {
                    assert_eq!(e.message, *want, "condition {text:?}");
                    let pos: usize = want
                        .rsplit(' ')
                        .next()
                        .and_then(|p| p.parse().ok())
                        .unwrap_or(0);
                    assert_eq!(e.offset + 1, pos, "offset of {text:?}");
                }
                Ok(v) => panic!("condition {text:?} evaluated to {v}, expected error {want:?}"),
            }
        }
    }

    #[test]
    fn directive_name_is_in_message() {
        let e = eval("abc", ".elif", &env()).unwrap_err();
        assert_eq!(
            e.message,
            "unparsable conditional expression 'abc' in '.elif' at position 1"
        );
    }

    #[test]
    fn version_order() {
        use Ordering::*;
        let table: &[(&str, &str, Ordering)] = &[
            ("2.6.12", "2.6.12", Equal),
            ("2.6.12", "2.6.12-0", Equal),
            ("2.6.12", "2.6", Greater),
            ("2.6.12-dev1", "2.6.12-rc1", Less),
            ("2.6.12-rc9", "2.6.12", Less),
            ("2.6.12", "2.6.12-1", Less),
            ("2.10", "2.9", Greater),
            ("99999999999999999999999", "1", Greater),
        ];
        for (a, b, want) in table {
            assert_eq!(compare_version(a, b), *want, "{a} vs {b}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in ".{0,40}") {
            let _ = eval(&text, ".if", &env());
        }

        #[test]
        fn never_panics_on_grammar_soup(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "(", ")", "!", "&&", "||", " ", "0", "1", "0x", "-", ",", "\"", "'", "\\",
                    "streq(", "defined(", "feature", "version_before(", "é", "a",
                ]),
                0..16,
            )
        ) {
            let text: String = parts.concat();
            let _ = eval(&text, ".if", &env());
        }
    }
}
