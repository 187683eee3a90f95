//! rsproxy-parser: haproxy.cfg and keepalived.conf → diagnostics + typed IR.
//!
//! Data flows one way: text → words with spans (`haproxy::lexer`, `keepalived::lexer`) →
//! sections/blocks → typed IR (`ir`) → whole-config validation (`validate`). No I/O beyond
//! reading the configuration files; no sockets, no tokio.
//!
//! The entry point is [`check`]: it never stops at the first problem, collects every
//! diagnostic, and returns whatever IR could be built alongside them.
#![forbid(unsafe_code)]

pub mod diag;
pub mod env;
pub mod haproxy;
pub mod ir;
pub mod keepalived;
pub mod source;
pub mod validate;

use std::path::PathBuf;

pub use diag::{Diagnostic, Diagnostics, Dialect, Severity};
pub use env::Env;
pub use source::{FileId, SourceMap, Span, Spanned};

/// What to check: HAProxy files/directories in the order given, and an optional keepalived
/// file.
#[derive(Clone, Debug, Default)]
pub struct CheckInput {
    pub haproxy: Vec<PathBuf>,
    pub keepalived: Option<PathBuf>,
    pub env: Env,
    /// Whether this machine owns an address (the CLI probes it; the parser does no network
    /// I/O). `None`: do not check.
    pub is_local_address: Option<fn(std::net::IpAddr) -> bool>,
}

/// The outcome of a check: every file read, every diagnostic, and the IR of each half that
/// was given (possibly partial when there are errors).
#[derive(Debug)]
pub struct Checked {
    pub sources: SourceMap,
    pub diagnostics: Diagnostics,
    pub haproxy: Option<ir::haproxy::Config>,
    pub keepalived: Option<ir::keepalived::Config>,
}

impl Checked {
    pub fn is_valid(&self) -> bool {
        !self.diagnostics.has_errors()
    }
}

/// Parses and validates everything in `input`.
pub fn check(input: &CheckInput) -> Checked {
    let mut sources = SourceMap::new();
    let mut diagnostics = Diagnostics::new();
    let haproxy = if input.haproxy.is_empty() {
        None
    } else {
        Some(haproxy::parse_paths(
            &input.haproxy,
            &input.env,
            &mut sources,
            &mut diagnostics,
        ))
    };
    let keepalived = input
        .keepalived
        .as_ref()
        .map(|path| keepalived::parse_file(path, &input.env, &mut sources, &mut diagnostics));
    if let (Some(h), Some(k)) = (&haproxy, &keepalived) {
        validate::cross_check(h, k, input.is_local_address, &mut diagnostics);
    }
    Checked {
        sources,
        diagnostics,
        haproxy,
        keepalived,
    }
}
