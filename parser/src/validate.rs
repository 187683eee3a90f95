//! Checks across the two halves of a configuration.
//!
//! HAProxy accepts a `bind` on an address the machine does not own (with
//! `ip_nonlocal_bind`, or a floating IP not raised yet). Given the keepalived file too,
//! rsproxy knows which addresses float: a `bind` on a specific address that is neither one of
//! those nor an address of the machine running the check is reported (a warning: `--check`
//! often runs on a CI machine rather than on the load balancer itself).

use crate::ir::haproxy::{self, Host};
use crate::ir::keepalived;
use crate::{Diagnostic, Diagnostics, Dialect};
use std::net::IpAddr;

/// Checks that need both files. `is_local` tells whether this machine owns an address.
pub fn cross_check(
    h: &haproxy::Config,
    k: &keepalived::Config,
    is_local: Option<fn(IpAddr) -> bool>,
    diags: &mut Diagnostics,
) {
    let floating: Vec<(IpAddr, &str)> = k
        .instances
        .iter()
        .flat_map(|i| {
            i.virtual_ipaddress
                .iter()
                .chain(&i.virtual_ipaddress_excluded)
                .map(move |v| (v.node.addr.addr, i.name.node.as_str()))
        })
        .collect();
    for p in h.frontends() {
        for b in &p.binds {
            for a in &b.addrs {
                let Host::Ip(ip) = a.node.host else { continue };
                if ip.is_unspecified() || ip.is_loopback() || floating.iter().any(|(f, _)| *f == ip)
                {
                    continue;
                }
                if is_local.is_some_and(|local| local(ip)) {
                    continue;
                }
                let mut d = Diagnostic::warning(
                    Dialect::Haproxy,
                    a.span,
                    format!(
                        "{} '{}' binds {ip}, which is not a floating IP of the keepalived configuration{}",
                        p.kind.keyword(),
                        p.name.node,
                        if is_local.is_some() { " nor an address of this machine" } else { "" }
                    ),
                );
                if !floating.is_empty() {
                    let list: Vec<String> =
                        floating.iter().map(|(f, i)| format!("{f} ({i})")).collect();
                    d = d.with_help(format!("floating IPs: {}", list.join(", ")));
                }
                diags.push(d);
            }
        }
    }
}
