//! `no_accept`: while MASTER, the floating addresses are held but no traffic to or from
//! them is accepted (RFC 5798 §6.4.3 Accept_Mode false), enforced as keepalived 2.2.7 does
//! it, with the same nftables table (`keepalived`, seen with `nft list ruleset` beside a
//! running keepalived):
//!
//! ```text
//! table ip keepalived {
//!     set vips { type ipv4_addr }
//!     chain out { type filter hook output priority filter - 1; policy accept;
//!                 ip saddr @vips drop }
//!     chain in  { type filter hook input priority filter - 1; policy accept;
//!                 ip daddr @vips drop }
//! }
//! ```
//!
//! (and `table ip6 keepalived` likewise for IPv6, neighbour discovery let through; each
//! table only when a `no_accept` instance has addresses of its family). An instance puts its addresses into the
//! set on entering MASTER (creating the table the first time, as keepalived: a node that
//! was never master has none) and takes them out on leaving it; the tables go when rsproxy
//! stops. keepalived programs nftables through libnftnl; rsproxy runs the `nft` command
//! (package `nftables`), only at start, on a change of state, and at stop.

use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// The table keepalived uses by default (`nftables` TABLENAME, refused by the parser).
const TABLE: &str = "keepalived";

#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    #[error("no_accept is enforced with nftables, through the `nft` command, which cannot be run ({0}): install the nftables package")]
    NoNft(std::io::Error),
    #[error("nft: {0}")]
    Nft(String),
}

/// Runs `nft -f -` with `script`.
fn nft(script: &str) -> Result<(), FirewallError> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(FirewallError::NoNft)?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| FirewallError::Nft(e.to_string()))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| FirewallError::Nft(e.to_string()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(FirewallError::Nft(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ))
    }
}

fn family(v6: bool) -> (&'static str, &'static str, &'static str) {
    if v6 {
        ("ip6", "ipv6_addr", "ip6")
    } else {
        ("ip", "ipv4_addr", "ip")
    }
}

/// The nft script that (re)creates the empty table of one family. IPv6 as keepalived
/// 2.2.7: neighbour discovery always passes, link-local addresses go to chains of their
/// own (empty: a link-local floating address is not dropped).
pub fn table_script(v6: bool) -> String {
    let (fam, ty, proto) = family(v6);
    let (nd_set, nd_rule, ll_out, ll_in, ll_chains) = if v6 {
        (
            "\tset neighbor-discovery {\n\t\ttype icmpv6_type\n\t\tflags constant\n\t\telements = { nd-neighbor-solicit, nd-neighbor-advert }\n\t}\n",
            "\t\ticmpv6 type @neighbor-discovery accept\n",
            "\t\tip6 saddr fe80::/10 goto out_link_local\n",
            "\t\tip6 daddr fe80::/10 goto in_link_local\n",
            "\tchain in_link_local {\n\t}\n\tchain out_link_local {\n\t}\n",
        )
    } else {
        ("", "", "", "", "")
    };
    format!(
        "add table {fam} {TABLE}\ndelete table {fam} {TABLE}\n\
         table {fam} {TABLE} {{\n\
         \tset vips {{\n\t\ttype {ty}\n\t}}\n{nd_set}\
         \tchain out {{\n\t\ttype filter hook output priority filter - 1; policy accept;\n{nd_rule}{ll_out}\t\t{proto} saddr @vips drop\n\t}}\n\
         \tchain in {{\n\t\ttype filter hook input priority filter - 1; policy accept;\n{nd_rule}{ll_in}\t\t{proto} daddr @vips drop\n\t}}\n{ll_chains}\
         }}\n"
    )
}

/// The tables created so far (IPv4, IPv6).
static CREATED: Mutex<[bool; 2]> = Mutex::new([false, false]);

/// Checks, at start, that `nft` can be run; the tables are created when an instance first
/// becomes MASTER, as keepalived does (a backup has none).
pub fn check() -> Result<(), FirewallError> {
    Command::new("nft")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(FirewallError::NoNft)
        .and_then(|s| {
            if s.success() {
                Ok(())
            } else {
                Err(FirewallError::Nft(format!("nft --version: {s}")))
            }
        })
}

/// Creates the table of each family of `addrs` not created yet (an old one is replaced).
fn ensure(addrs: &[IpAddr]) -> Result<(), FirewallError> {
    let mut created = CREATED.lock().unwrap_or_else(|e| e.into_inner());
    for v6 in [false, true] {
        if !created[usize::from(v6)] && addrs.iter().any(|a| a.is_ipv6() == v6) {
            nft(&table_script(v6))?;
            created[usize::from(v6)] = true;
        }
    }
    Ok(())
}

/// Removes the tables created (at stop).
pub fn teardown() {
    let mut created = CREATED.lock().unwrap_or_else(|e| e.into_inner());
    for v6 in [false, true] {
        if std::mem::take(&mut created[usize::from(v6)]) {
            let (fam, _, _) = family(v6);
            let _ = nft(&format!("delete table {fam} {TABLE}\n"));
        }
    }
}

fn elements(verb: &str, addrs: &[IpAddr]) -> String {
    let mut script = String::new();
    for v6 in [false, true] {
        let list: Vec<String> = addrs
            .iter()
            .filter(|a| a.is_ipv6() == v6)
            .map(|a| a.to_string())
            .collect();
        if !list.is_empty() {
            let (fam, _, _) = family(v6);
            script.push_str(&format!(
                "{verb} element {fam} {TABLE} vips {{ {} }}\n",
                list.join(", ")
            ));
        }
    }
    script
}

/// Traffic to and from `addrs` is dropped from now on.
pub fn drop_traffic(addrs: &[IpAddr]) -> Result<(), FirewallError> {
    ensure(addrs)?;
    let script = elements("add", addrs);
    if script.is_empty() {
        return Ok(());
    }
    nft(&script)
}

/// Traffic to and from `addrs` is no longer dropped (absent already: fine).
pub fn accept_traffic(addrs: &[IpAddr]) -> Result<(), FirewallError> {
    let created = *CREATED.lock().unwrap_or_else(|e| e.into_inner());
    // One command per address: `delete element` of a missing one fails the whole batch.
    let mut result = Ok(());
    for a in addrs.iter().filter(|a| created[usize::from(a.is_ipv6())]) {
        let script = elements("delete", std::slice::from_ref(a));
        if let Err(e) = nft(&script) {
            if !matches!(&e, FirewallError::Nft(m) if m.contains("No such file")) {
                result = Err(e);
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_keepalived_s_table() {
        let t = table_script(false);
        assert!(t.contains("table ip keepalived {"));
        assert!(t.contains("type filter hook input priority filter - 1; policy accept;"));
        assert!(t.contains("ip daddr @vips drop"));
        assert!(t.contains("ip saddr @vips drop"));
        assert!(table_script(true).contains("ip6 daddr @vips drop"));
        let a: Vec<IpAddr> = vec!["192.0.2.1".parse().unwrap(), "fd00::1".parse().unwrap()];
        assert_eq!(
            elements("add", &a),
            "add element ip keepalived vips { 192.0.2.1 }\nadd element ip6 keepalived vips { fd00::1 }\n"
        );
    }
}
