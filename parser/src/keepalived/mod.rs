//! keepalived.conf: lexer, keyword tree, IR builder, validation.
//!
//! `parse_file` runs the stages in order: [`lexer`] (files, includes, `$VAR`, `@cond`, words)
//! → [`tree`] (blocks) → the keyword tables of [`global`] and [`vrrp`] through the one
//! dispatcher in [`dispatch`] (typed IR) → [`validate`] (names, duplicates, cross-field
//! rules). Every stage reports into the same `Diagnostics` and goes on.
//!
//! rsproxy is deliberately stricter than keepalived in one way: keepalived 2.2 skips an
//! unknown keyword with a log line (and `keepalived -t` exits non-zero), rsproxy reports an
//! error with a "did you mean". Keywords it recognises but does not carry out are errors
//! naming them, never silently ignored.

pub mod dispatch;
pub mod global;
pub mod lexer;
pub mod tree;
pub mod validate;
pub mod values;
pub mod vrrp;

use crate::{ir, Diagnostics, Env, SourceMap};
use dispatch::{dispatch, rows, Support};
use std::path::Path;
use values::Ctx;

/// Reads `path` (and its includes), reports every problem into `diags`, returns the IR.
///
/// `env` is not consulted: keepalived substitutes only its own `$NAME=value` definitions, not
/// environment variables.
pub fn parse_file(
    path: &Path,
    env: &Env,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> ir::keepalived::Config {
    let _ = env;
    let toks = lexer::lex_file(path, sources, diags);
    build(&toks, diags)
}

/// Parses already-lexed tokens into a validated IR.
fn build(toks: &[lexer::Tok], diags: &mut Diagnostics) -> ir::keepalived::Config {
    let stmts = tree::build(toks, diags);
    let mut cfg = ir::keepalived::Config::default();
    let mut ctx = Ctx {
        diags,
        pending: Vec::new(),
    };
    dispatch(&mut ctx, "the top level", global::TOP, &stmts, &mut cfg);
    for r in std::mem::take(&mut ctx.pending) {
        let defined = match r.kind {
            "track script" => cfg.script(&r.name.node).map(|s| s.name.span),
            "track file" => cfg
                .track_files
                .iter()
                .find(|f| f.name.node == r.name.node)
                .map(|f| f.name.span),
            _ => cfg
                .track_processes
                .iter()
                .find(|p| p.name.node == r.name.node)
                .map(|p| p.name.span),
        };
        if let Some(at) = defined {
            let d = ctx
                .error_diag(
                    r.name.span,
                    format!("({}) {} {} is used before it is defined (line {})", r.owner, r.kind, r.name.node, at.line),
                )
                .with_help("keepalived ignores a reference to a later definition; move the definition above its first use");
            ctx.push(d);
        }
    }
    validate::validate(&cfg, diags);
    cfg
}

/// Parses a configuration given as text (tests, fuzzing): `name` is the file name shown.
pub fn parse_str(
    name: &str,
    text: &str,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> ir::keepalived::Config {
    let toks = lexer::lex_str(name, text, sources, diags);
    build(&toks, diags)
}

/// One row of the keyword list: the block it is allowed in, the keyword, what rsproxy does.
#[derive(Clone, Debug, serde::Serialize)]
pub struct KeywordInfo {
    pub block: String,
    pub keyword: &'static str,
    pub support: Support,
}

/// Every keyword of every block, from the same tables the parser dispatches on.
pub fn keyword_table() -> Vec<KeywordInfo> {
    let mut out = Vec::new();
    let mut add = |block: &str, it: &mut dyn Iterator<Item = (&'static str, Support)>| {
        for (keyword, support) in it {
            out.push(KeywordInfo {
                block: block.to_string(),
                keyword,
                support,
            });
        }
    };
    add("", &mut rows(global::TOP));
    add("global_defs", &mut rows(global::GLOBAL_DEFS));
    add("vrrp_script", &mut rows(vrrp::VRRP_SCRIPT));
    add("vrrp_instance", &mut rows(vrrp::VRRP_INSTANCE));
    add(
        "vrrp_instance.authentication",
        &mut rows(vrrp::AUTHENTICATION),
    );
    add("vrrp_sync_group", &mut rows(vrrp::VRRP_SYNC_GROUP));
    add("track_file", &mut rows(vrrp::TRACK_FILE));
    add("track_process", &mut rows(vrrp::TRACK_PROCESS));
    out
}

/// `(block path, keyword, supported)`: the README's keyword list. `supported` is true for
/// keywords rsproxy carries out or accepts with no effect, false for those it refuses.
pub fn keyword_names() -> Vec<(String, &'static str, bool)> {
    keyword_table()
        .into_iter()
        .map(|k| {
            (
                k.block,
                k.keyword,
                matches!(k.support, Support::Supported | Support::NoEffect),
            )
        })
        .collect()
}

/// The keyword list as a Markdown table, for the README.
pub fn keyword_markdown() -> String {
    let mut s = String::from("| block | keyword | rsproxy |\n|---|---|---|\n");
    for k in keyword_table() {
        let block = if k.block.is_empty() {
            "(top level)"
        } else {
            &k.block
        };
        let what = match k.support {
            Support::Supported => "supported",
            Support::NoEffect => "accepted, no effect (warning)",
            Support::Unsupported => "recognised, not supported (error)",
            Support::Lvs => "LVS: recognised, not supported (error)",
        };
        s.push_str(&format!("| {block} | `{}` | {what} |\n", k.keyword));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_tables_have_no_duplicates_and_list_every_block() {
        let table = keyword_table();
        let mut seen = std::collections::HashSet::new();
        for k in &table {
            assert!(
                seen.insert((k.block.clone(), k.keyword)),
                "duplicate {} in {}",
                k.keyword,
                k.block
            );
        }
        let names = keyword_names();
        assert!(names.contains(&("vrrp_instance".to_string(), "virtual_router_id", true)));
        assert!(names.contains(&("".to_string(), "virtual_server", false)));
        assert!(keyword_markdown()
            .contains("| vrrp_instance | `use_vmac` | recognised, not supported (error) |"));
    }

    #[test]
    fn unreadable_file_is_an_error_at_line_one() {
        let mut map = SourceMap::new();
        let mut d = Diagnostics::new();
        parse_file(
            Path::new("/nonexistent/rsproxy/keepalived.conf"),
            &Env::empty(),
            &mut map,
            &mut d,
        );
        let e = d.errors().next().unwrap();
        assert_eq!(e.span.line, 1);
    }
}
