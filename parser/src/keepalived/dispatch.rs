//! Keyword tables and the one dispatcher that uses them.
//!
//! Each keepalived block has one static `&[Keyword<T>]` table (in `global.rs` and `vrrp.rs`):
//! name, argument count, whether it takes a `{ }` block, whether rsproxy carries it out, and
//! the function that parses it into the block's IR value `T`. [`dispatch`] only looks
//! keywords up; the same tables give "did you mean" hints and the README's keyword list
//! ([`crate::keepalived::keyword_table`]).

use super::tree::Stmt;
use super::values::Ctx;
use crate::diag::best_match;

/// What rsproxy does with a keyword it recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Support {
    /// Parsed into the IR and carried out.
    Supported,
    /// Parsed and checked, but has no effect in rsproxy (process tuning): a warning.
    NoEffect,
    /// Recognised, not carried out (yet): an error naming it.
    Unsupported,
    /// An LVS (IPVS) block: recognised, skipped, an error; rsproxy is not an LVS director.
    Lvs,
}

/// Whether a keyword is followed by a `{ }` block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Braces {
    No,
    Required,
    /// Unsupported keywords: whatever is there is skipped.
    Any,
}

/// Unlimited arguments.
pub const MANY: u8 = u8::MAX;

/// One row of a keyword table.
pub struct Keyword<T: 'static> {
    pub name: &'static str,
    pub min_args: u8,
    pub max_args: u8,
    pub braces: Braces,
    pub support: Support,
    pub parse: fn(&mut Ctx, &Stmt, &mut T),
}

/// A supported keyword.
pub const fn kw<T>(
    name: &'static str,
    min_args: u8,
    max_args: u8,
    braces: Braces,
    parse: fn(&mut Ctx, &Stmt, &mut T),
) -> Keyword<T> {
    Keyword {
        name,
        min_args,
        max_args,
        braces,
        support: Support::Supported,
        parse,
    }
}

/// A keyword accepted with a warning that it has no effect.
pub const fn no_effect<T>(name: &'static str, min_args: u8, max_args: u8) -> Keyword<T> {
    Keyword {
        name,
        min_args,
        max_args,
        braces: Braces::No,
        support: Support::NoEffect,
        parse: skip,
    }
}

/// A keyword recognised but not carried out: an error.
pub const fn unsupported<T>(name: &'static str) -> Keyword<T> {
    Keyword {
        name,
        min_args: 0,
        max_args: MANY,
        braces: Braces::Any,
        support: Support::Unsupported,
        parse: skip,
    }
}

/// An LVS block: recognised, skipped, an error.
pub const fn lvs<T>(name: &'static str) -> Keyword<T> {
    Keyword {
        name,
        min_args: 0,
        max_args: MANY,
        braces: Braces::Any,
        support: Support::Lvs,
        parse: skip,
    }
}

pub fn skip<T>(_: &mut Ctx, _: &Stmt, _: &mut T) {}

/// Parses every statement of one block through its table.
pub fn dispatch<T>(
    ctx: &mut Ctx,
    block: &str,
    table: &[Keyword<T>],
    stmts: &[Stmt],
    target: &mut T,
) {
    for st in stmts {
        let name = st.keyword.node.as_str();
        let Some(kw) = table.iter().find(|k| k.name == name) else {
            let mut d = ctx.error_diag(
                st.keyword.span,
                format!("Unknown keyword '{name}' in {block}"),
            );
            if let Some(m) = best_match(name, table.iter().map(|k| k.name)) {
                d = d.with_help(format!("did you mean '{m}'?"));
            } else {
                d = d.with_help("keepalived 2.2 skips unknown keywords with a log line; rsproxy refuses them so typos are not silently lost");
            }
            ctx.push(d);
            continue;
        };
        match kw.support {
            Support::Unsupported => {
                ctx.error(
                    st.keyword.span,
                    format!("'{name}' is recognised but not supported by rsproxy yet"),
                );
                continue;
            }
            Support::Lvs => {
                ctx.error(
                    st.keyword.span,
                    format!("'{name}' (LVS) is recognised but not supported by rsproxy"),
                );
                continue;
            }
            Support::NoEffect => {
                ctx.warning(
                    st.keyword.span,
                    format!("'{name}' is accepted but has no effect in rsproxy"),
                );
            }
            Support::Supported => {}
        }
        if st.args.len() < kw.min_args as usize {
            ctx.error(
                st.keyword.span,
                format!(
                    "'{name}' is missing a parameter (needs at least {})",
                    kw.min_args
                ),
            );
            continue;
        }
        if kw.max_args != MANY && st.args.len() > kw.max_args as usize {
            ctx.warning(
                st.args[kw.max_args as usize].span,
                format!("extra parameters after '{name}' are ignored"),
            );
        }
        match (kw.braces, &st.block) {
            (Braces::Required, None) => {
                ctx.error(st.keyword.span, format!("'{name}' needs a {{ }} block"));
                continue;
            }
            (Braces::No, Some(b)) => {
                ctx.error(b.open, format!("'{name}' does not take a {{ }} block"));
            }
            _ => {}
        }
        (kw.parse)(ctx, st, target);
    }
}

/// `(keyword, support)` for every row of a table.
pub fn rows<T>(table: &[Keyword<T>]) -> impl Iterator<Item = (&'static str, Support)> + '_ {
    table.iter().map(|k| (k.name, k.support))
}
