//! Regular expressions with the reach of HAProxy's PCRE2.
//!
//! The `regex` crate runs in linear time but cannot express look-around or back-references;
//! PCRE2 can, and HAProxy configurations use them. A pattern is compiled with `regex` when it
//! can be (the common case: no extra cost), else with `fancy-regex`, a backtracking engine
//! with PCRE's syntax for those features. Never is a pattern's meaning changed or dropped: one
//! neither engine takes is refused when the plan is built, naming it.
//!
//! `fancy-regex` works on text: bytes that are not UTF-8 are read lossily (replaced by
//! U+FFFD) on that path only. HTTP heads are ASCII in practice.

use std::borrow::Cow;

#[derive(Debug, Clone)]
pub enum Re {
    Fast(regex::bytes::Regex),
    Fancy(fancy_regex::Regex),
}

fn text(b: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(b)
}

impl Re {
    /// Compiles `pattern` (case-insensitively with `icase`), with `regex` if it can.
    pub fn new(pattern: &str, icase: bool) -> Result<Re, String> {
        match regex::bytes::RegexBuilder::new(pattern)
            .case_insensitive(icase)
            .build()
        {
            Ok(r) => Ok(Re::Fast(r)),
            Err(_) => {
                let p = if icase {
                    format!("(?i){pattern}")
                } else {
                    pattern.to_string()
                };
                fancy_regex::Regex::new(&p)
                    .map(Re::Fancy)
                    .map_err(|e| format!("regular expression '{pattern}' ({e})"))
            }
        }
    }

    /// Whether the pattern needed the backtracking engine.
    pub fn is_fancy(&self) -> bool {
        matches!(self, Re::Fancy(_))
    }

    pub fn is_match(&self, v: &[u8]) -> bool {
        match self {
            Re::Fast(r) => r.is_match(v),
            // An engine error (backtracking limit) counts as no match, as PCRE's does.
            Re::Fancy(r) => r.is_match(&text(v)).unwrap_or(false),
        }
    }

    /// HAProxy's replacement: when the pattern matches `v`, the template (`$1`, `${1}`
    /// references) with the captures filled in, in place of the whole of `v`.
    pub fn expand_whole(&self, v: &[u8], template: &[u8]) -> Option<Vec<u8>> {
        match self {
            Re::Fast(r) => {
                let caps = r.captures(v)?;
                let mut out = Vec::new();
                caps.expand(template, &mut out);
                Some(out)
            }
            Re::Fancy(r) => {
                let t = text(v);
                let caps = r.captures(&t).ok()??;
                let mut out = String::new();
                caps.expand(&text(template), &mut out);
                Some(out.into_bytes())
            }
        }
    }

    /// `v` with the first (or every, `global`) match replaced by the template, as `regsub`.
    pub fn replace(&self, v: &[u8], template: &[u8], global: bool) -> Vec<u8> {
        match self {
            Re::Fast(r) => {
                if global {
                    r.replace_all(v, template).into_owned()
                } else {
                    r.replace(v, template).into_owned()
                }
            }
            Re::Fancy(r) => {
                let t = text(v);
                let tpl = text(template);
                let out = if global {
                    r.try_replacen(&t, 0, tpl.as_ref())
                } else {
                    r.try_replacen(&t, 1, tpl.as_ref())
                };
                match out {
                    Ok(s) => s.into_owned().into_bytes(),
                    Err(_) => v.to_vec(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// description: a look-ahead and a back-reference (beyond the `regex` crate) still match
    /// as PCRE would; a plain pattern stays on the linear-time engine.
    #[test]
    fn pcre_features_work() {
        let ahead = Re::new("^/api/(?!internal)", false).expect("look-ahead");
        assert!(ahead.is_fancy());
        assert!(ahead.is_match(b"/api/users"));
        assert!(!ahead.is_match(b"/api/internal/x"));
        let twice = Re::new(r"^(\w+)-\1$", false).expect("back-reference");
        assert!(twice.is_match(b"abc-abc") && !twice.is_match(b"abc-abd"));
        assert_eq!(
            twice.expand_whole(b"ab-ab", b"[$1]").as_deref(),
            Some(&b"[ab]"[..])
        );
        let plain = Re::new("^/v[0-9]+/", true).expect("plain");
        assert!(!plain.is_fancy() && plain.is_match(b"/V2/x"));
        assert!(Re::new("(unclosed", false).is_err());
    }
}
