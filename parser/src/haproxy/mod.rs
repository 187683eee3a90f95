//! haproxy.cfg: lexer, sections, keyword tables, IR builder. (Being written.)
pub mod cond;
pub mod lexer;

use crate::{ir, Diagnostics, Env, SourceMap};
use std::path::PathBuf;

pub fn parse_paths(
    paths: &[PathBuf],
    env: &Env,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> ir::haproxy::Config {
    let _ = (paths, env, sources, diags);
    ir::haproxy::Config::default()
}
