//! `server` and `default-server` lines: address and options. (Stub.)
use super::kw::{Args, Support};
use crate::ir::haproxy::{Server, ServerOptions};
use crate::Diagnostics;

/// Parses a whole `server NAME ADDR [options]` line (word 0 is `server`).
pub fn parse_server(args: Args, diags: &mut Diagnostics) -> Option<Server> {
    diags.push(args.error(0, "server is not parsed yet"));
    None
}

/// Parses options from word `start` on into `opts` (for `server` and `default-server`).
pub fn parse_server_options(
    args: Args,
    start: usize,
    opts: &mut ServerOptions,
    diags: &mut Diagnostics,
) {
    let _ = (args, start, opts, diags);
}

/// Every server option with its support status, for the README.
pub fn keyword_names() -> Vec<(&'static str, &'static str, Support)> {
    Vec::new()
}
