//! keepalived.conf: lexer, keyword tree, IR builder. (Being written.)
use crate::{ir, Diagnostics, Env, SourceMap};
use std::path::Path;

/// Reads `path` (and its includes), reports every problem into `diags`, returns the IR.
pub fn parse_file(
    path: &Path,
    env: &Env,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> ir::keepalived::Config {
    let _ = (path, env, sources, diags);
    ir::keepalived::Config::default()
}

/// Every keyword with the block it belongs to and whether rsproxy supports it.
pub fn keyword_names() -> Vec<(String, &'static str, bool)> {
    Vec::new()
}
