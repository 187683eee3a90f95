//! THE typed IR: what a validated configuration means, as plain data.
//!
//! Two halves, one per tool: [`haproxy`] (global settings, proxies, servers, rules) and
//! [`keepalived`] (global_defs, VRRP scripts, instances, sync groups). Every item that came
//! from a config line carries a [`Span`](crate::source::Span). No strings where an enum belongs;
//! durations, sizes and addresses are typed here, once, for both halves.
//!
//! Invariants: a value in the IR was accepted by the parser and the validator; the runtime
//! plan may rely on names resolving (a `use_backend` target exists, a `track_script` names a
//! `vrrp_script`) and on ranges holding (ports 1..=65535 where a port is required, vrid
//! 1..=255).

pub mod haproxy;
pub mod keepalived;

use serde::Serialize;
use std::fmt;
use std::net::IpAddr;

/// A time span. HAProxy writes them as an integer with an optional unit (`us`, `ms`, `s`,
/// `m`, `h`, `d`); the unit defaults to milliseconds unless the keyword says otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Duration {
    /// Microseconds, so `us` values survive.
    pub micros: u64,
}

impl Duration {
    pub const fn from_millis(ms: u64) -> Self {
        Duration {
            micros: ms.saturating_mul(1000),
        }
    }
    pub const fn from_secs(s: u64) -> Self {
        Duration {
            micros: s.saturating_mul(1_000_000),
        }
    }
    pub const fn from_micros(us: u64) -> Self {
        Duration { micros: us }
    }
    pub fn as_millis(&self) -> u64 {
        self.micros / 1000
    }
    pub fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_micros(self.micros)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.micros.is_multiple_of(1000) {
            write!(f, "{}us", self.micros)
        } else if !self.micros.is_multiple_of(1_000_000) || self.micros == 0 {
            write!(f, "{}ms", self.micros / 1000)
        } else {
            write!(f, "{}s", self.micros / 1_000_000)
        }
    }
}

/// A byte size (`k`, `m`, `g` suffixes are powers of 1024, as HAProxy reads them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Size(pub u64);

/// An IPv4 or IPv6 network: address and prefix length (`10.0.0.0/8`, `::1/128`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct IpNet {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpNet {
    pub fn host(addr: IpAddr) -> Self {
        let prefix = if addr.is_ipv4() { 32 } else { 128 };
        IpNet { addr, prefix }
    }

    /// Whether `ip` lies inside this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let bits = u32::from(self.prefix.min(32));
                let mask = if bits == 0 {
                    0
                } else {
                    u32::MAX << (32 - bits)
                };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let bits = u32::from(self.prefix.min(128));
                let mask = if bits == 0 {
                    0
                } else {
                    u128::MAX << (128 - bits)
                };
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Parses `ADDR` or `ADDR/PREFIX` (IPv4 dotted masks such as `/255.0.0.0` too).
pub fn parse_ipnet(s: &str) -> Option<IpNet> {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => max,
        Some(p) => match p.parse::<u8>() {
            Ok(n) if n <= max => n,
            Ok(_) => return None,
            Err(_) => {
                let mask: std::net::Ipv4Addr = p.parse().ok()?;
                if !addr.is_ipv4() {
                    return None;
                }
                let m = u32::from(mask);
                if m.leading_ones() + m.trailing_zeros() != 32 {
                    return None;
                }
                m.leading_ones() as u8
            }
        },
    };
    Some(IpNet { addr, prefix })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipnet_parses_prefixes_and_masks() {
        let n = parse_ipnet("127.0.0.0/8").unwrap();
        assert!(n.contains("127.1.2.3".parse().unwrap()));
        assert!(!n.contains("128.0.0.1".parse().unwrap()));
        assert_eq!(parse_ipnet("10.0.0.0/255.255.0.0").unwrap().prefix, 16);
        assert!(parse_ipnet("10.0.0.0/255.0.255.0").is_none());
        assert!(parse_ipnet("10.0.0.0/33").is_none());
        assert_eq!(parse_ipnet("::1").unwrap().prefix, 128);
        assert!(parse_ipnet("nope").is_none());
    }

    #[test]
    fn duration_display_picks_the_largest_exact_unit() {
        assert_eq!(Duration::from_millis(5000).to_string(), "5s");
        assert_eq!(Duration::from_millis(1500).to_string(), "1500ms");
        assert_eq!(Duration::from_micros(7).to_string(), "7us");
    }
}
