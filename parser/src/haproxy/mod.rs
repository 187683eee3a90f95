//! haproxy.cfg: lexer, sections, keyword tables, IR builder. (Being written.)
pub mod acl;
pub mod bind;
pub mod kw;
pub mod lexer;
pub mod rules;
pub mod server;

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
