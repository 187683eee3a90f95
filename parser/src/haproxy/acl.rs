//! ACL expressions, samples (fetch + converters) and `if`/`unless` conditions. (Stub.)
use super::kw::{Args, Support};
use crate::ir::haproxy::{AclExpr, Condition};
use crate::Diagnostic;

/// Parses the words after an ACL's name: `fetch[(args)][,conv(args)...] [flags] [patterns]`.
pub fn parse_acl_expr(args: Args) -> Result<AclExpr, Diagnostic> {
    Err(args.error(0, "ACLs are not parsed yet"))
}

/// Parses a condition starting at the `if`/`unless` word.
pub fn parse_condition(args: Args) -> Result<Condition, Diagnostic> {
    Err(args.error(0, "conditions are not parsed yet"))
}

/// Splits a rule at its first `if`/`unless`: the words before, and the condition's words.
pub fn split_condition(args: Args) -> (Args, Option<Args>) {
    match args
        .words
        .iter()
        .position(|w| w.text == "if" || w.text == "unless")
    {
        Some(i) => (
            Args {
                words: &args.words[..i],
                ..args
            },
            Some(args.from(i)),
        ),
        None => (args, None),
    }
}

/// The predefined ACL names (`TRUE`, `HTTP`, `METH_GET`, ...).
pub fn is_predefined_acl(name: &str) -> bool {
    let _ = name;
    false
}

/// Every fetch and converter with its support status, for the README.
pub fn keyword_names() -> Vec<(&'static str, &'static str, Support)> {
    Vec::new()
}
