//! Argument parsers shared by the keyword tables: numbers in a range, timers (decimal
//! seconds), booleans, addresses, weights, users and commands. Each reports a problem at the
//! span of the offending word and returns `None`.

use super::tree::Stmt;
use crate::diag::{Diagnostic, Dialect};
use crate::ir::keepalived::{Command, ScriptUser, Weight};
use crate::ir::{parse_ipnet, Duration, IpNet};
use crate::source::{Span, Spanned};
use crate::Diagnostics;
use std::net::IpAddr;

/// Where parse functions report.
pub struct Ctx<'a> {
    pub diags: &'a mut Diagnostics,
    /// References to a vrrp_script / track_file / vrrp_track_process not defined (yet) where
    /// they are used: keepalived resolves them at that point, so a later definition does not
    /// count. Checked once the whole file is read.
    pub pending: Vec<PendingRef>,
}

/// A track reference not resolved when its block was read.
pub struct PendingRef {
    /// "track script", "track file", "track process".
    pub kind: &'static str,
    pub name: Spanned<String>,
    pub owner: String,
}

impl Ctx<'_> {
    pub fn error_diag(&self, span: Span, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::error(Dialect::Keepalived, span, msg)
    }
    pub fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }
    pub fn error(&mut self, span: Span, msg: impl Into<String>) {
        self.diags
            .push(Diagnostic::error(Dialect::Keepalived, span, msg));
    }
    pub fn warning(&mut self, span: Span, msg: impl Into<String>) {
        self.diags
            .push(Diagnostic::warning(Dialect::Keepalived, span, msg));
    }

    /// Argument `i` as an integer in `lo..=hi`.
    pub fn int(&mut self, st: &Stmt, i: usize, lo: i64, hi: i64) -> Option<Spanned<i64>> {
        let arg = st.args.get(i)?;
        match arg.node.parse::<i64>() {
            Ok(n) if (lo..=hi).contains(&n) => Some(Spanned::new(n, arg.span)),
            Ok(_) => {
                self.error(
                    arg.span,
                    format!(
                        "'{}' {} is outside the range [{lo}, {hi}]",
                        st.keyword.node, arg.node
                    ),
                );
                None
            }
            Err(_) => {
                self.error(
                    arg.span,
                    format!(
                        "'{}' expects an integer, not '{}'",
                        st.keyword.node, arg.node
                    ),
                );
                None
            }
        }
    }

    pub fn u32(&mut self, st: &Stmt, i: usize, lo: u32, hi: u32) -> Option<Spanned<u32>> {
        self.int(st, i, lo.into(), hi.into())
            .map(|s| s.map(|n| n as u32))
    }

    /// Argument `i` as decimal seconds (microsecond resolution) in `lo..=hi` seconds.
    pub fn timer(&mut self, st: &Stmt, i: usize, lo: f64, hi: f64) -> Option<Spanned<Duration>> {
        let arg = st.args.get(i)?;
        match parse_seconds(&arg.node) {
            Some(us) if (lo * 1e6..=hi * 1e6).contains(&(us as f64)) => {
                Some(Spanned::new(Duration::from_micros(us), arg.span))
            }
            Some(_) => {
                self.error(
                    arg.span,
                    format!(
                        "'{}' {} is outside the range [{lo}, {hi}] seconds",
                        st.keyword.node, arg.node
                    ),
                );
                None
            }
            None => {
                self.error(
                    arg.span,
                    format!(
                        "'{}' expects a number of seconds, not '{}'",
                        st.keyword.node, arg.node
                    ),
                );
                None
            }
        }
    }

    /// Optional boolean argument `i` (absent means true).
    pub fn boolean(&mut self, st: &Stmt, i: usize) -> Spanned<bool> {
        let Some(arg) = st.args.get(i) else {
            return Spanned::new(true, st.keyword.span);
        };
        match arg.node.to_ascii_lowercase().as_str() {
            "on" | "true" | "yes" => Spanned::new(true, arg.span),
            "off" | "false" | "no" => Spanned::new(false, arg.span),
            _ => {
                self.error(
                    arg.span,
                    format!(
                        "'{}' expects on|off|true|false|yes|no, not '{}'",
                        st.keyword.node, arg.node
                    ),
                );
                Spanned::new(true, arg.span)
            }
        }
    }

    pub fn ip(&mut self, st: &Stmt, i: usize) -> Option<Spanned<IpAddr>> {
        let arg = st.args.get(i)?;
        match arg.node.parse::<IpAddr>() {
            Ok(a) => Some(Spanned::new(a, arg.span)),
            Err(_) => {
                self.error(
                    arg.span,
                    format!("'{}': invalid IP address '{}'", st.keyword.node, arg.node),
                );
                None
            }
        }
    }

    /// An address with an optional prefix (`10.0.0.1/24`).
    pub fn ipnet(&mut self, what: &str, word: &Spanned<String>) -> Option<IpNet> {
        let net = parse_ipnet(&word.node);
        if net.is_none() {
            self.error(
                word.span,
                format!("{what}: invalid IP address '{}'", word.node),
            );
        }
        net
    }

    /// `weight N [reverse|noreverse|no_reverse]` starting at argument `i` (the word `weight`
    /// itself is at `i`).
    pub fn weight(&mut self, st: &Stmt, i: usize, lo: i64, hi: i64) -> Option<Spanned<Weight>> {
        let n = self.int(st, i + 1, lo, hi)?;
        let reverse = match st.args.get(i + 2).map(|a| a.node.as_str()) {
            None | Some("noreverse" | "no_reverse") => false,
            Some("reverse") => true,
            Some(other) => {
                self.error(
                    st.args[i + 2].span,
                    format!("expected 'reverse' or 'noreverse', not '{other}'"),
                );
                false
            }
        };
        Some(Spanned::new(
            Weight {
                value: n.node as i32,
                reverse,
            },
            st.arg_span(i),
        ))
    }

    /// `USER [GROUP]` from argument `i`.
    pub fn user(&mut self, st: &Stmt, i: usize) -> Option<ScriptUser> {
        let user = st.args.get(i)?.node.clone();
        let group = st.args.get(i + 1).map(|g| g.node.clone());
        Some(ScriptUser { user, group })
    }

    /// `COMMAND [USER [GROUP]]`.
    pub fn command(&mut self, st: &Stmt) -> Option<Spanned<Command>> {
        let cmd = st.args.first()?;
        Some(Spanned::new(
            Command {
                command: cmd.node.clone(),
                user: self.user(st, 1),
            },
            cmd.span,
        ))
    }
}

/// Decimal seconds (`2`, `0.5`, `2.71828`) → microseconds.
pub fn parse_seconds(s: &str) -> Option<u64> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut micros = 0u64;
    for (k, c) in frac.chars().take(6).enumerate() {
        micros += u64::from(c.to_digit(10)?) * 10u64.pow(5 - k as u32);
    }
    whole.checked_mul(1_000_000)?.checked_add(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_have_microsecond_resolution() {
        assert_eq!(parse_seconds("2"), Some(2_000_000));
        assert_eq!(parse_seconds("0.5"), Some(500_000));
        assert_eq!(parse_seconds("2.71828"), Some(2_718_280));
        assert_eq!(parse_seconds(".25"), Some(250_000));
        assert_eq!(parse_seconds("-1"), None);
        assert_eq!(parse_seconds("abc"), None);
        assert_eq!(parse_seconds("."), None);
    }
}
