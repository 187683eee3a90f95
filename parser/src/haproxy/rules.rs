//! `http-request`, `http-response` and `redirect` rules. (Stub.)
use super::kw::{Args, Support};
use crate::ir::haproxy::{HttpRule, Redirect};
use crate::Diagnostic;

/// Parses the words after `http-request`.
pub fn parse_http_request(args: Args) -> Result<HttpRule, Diagnostic> {
    Err(args.error(0, "http-request is not parsed yet"))
}

/// Parses the words after `http-response`.
pub fn parse_http_response(args: Args) -> Result<HttpRule, Diagnostic> {
    Err(args.error(0, "http-response is not parsed yet"))
}

/// Parses the words after `redirect` (also used by `http-request redirect`).
pub fn parse_redirect(args: Args) -> Result<Redirect, Diagnostic> {
    Err(args.error(0, "redirect is not parsed yet"))
}

/// Every action with its support status, for the README.
pub fn keyword_names() -> Vec<(&'static str, &'static str, Support)> {
    Vec::new()
}
