//! Checks across the two halves of a configuration.
use crate::ir;
use crate::Diagnostics;

/// Checks that need both files, e.g. a `bind` on an address only a floating IP provides.
pub fn cross_check(h: &ir::haproxy::Config, k: &ir::keepalived::Config, diags: &mut Diagnostics) {
    let _ = (h, k, diags);
}
