//! `bind` lines: addresses and options. (Stub.)
use super::kw::{Args, Support};
use crate::ir::haproxy::{Bind, SocketAddress};
use crate::Diagnostics;

/// Parses a whole `bind ADDR[,ADDR...] [options]` line (word 0 is `bind`).
pub fn parse_bind(args: Args, diags: &mut Diagnostics) -> Option<Bind> {
    diags.push(args.error(0, "bind is not parsed yet"));
    None
}

/// Parses one listening address (`:80`, `*:80`, `1.2.3.4:80-89`, `ipv6@:::80`, `unix@/x`,
/// `/path`), as `bind` and `stats socket` take it.
pub fn parse_socket_address(s: &str) -> Result<SocketAddress, String> {
    Err(format!("cannot parse '{s}' yet"))
}

/// Every bind option with its support status, for the README.
pub fn keyword_names() -> Vec<(&'static str, &'static str, Support)> {
    Vec::new()
}
