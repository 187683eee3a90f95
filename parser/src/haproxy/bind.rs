//! `bind` lines: listening addresses and bind options.
//!
//! Input: the words of one `bind ADDR[,ADDR...] [option...]` line. Output: a [`Bind`] (or
//! `None` when the addresses are unusable) plus diagnostics. Options are looked up in one
//! static table, [`BIND_KEYWORDS`], which also drives "did you mean" and the README list.
//!
//! Behaviour mirrors `haproxy -c` 2.6 (checked against the installed binary; see the test
//! table at the bottom for the cases): addresses are parsed and host names resolved at check
//! time, certificate and CA files must exist and hold PEM data, and the few checks HAProxy
//! makes after parsing that only concern this line (`ssl` without `crt`, `verify` without
//! `ca-file`, `ssl-min-ver` above `ssl-max-ver`) are made here too, on the same line.
//!
//! The address syntax ([`parse_socket_address`]) is shared with `stats socket`; the lower
//! level pieces (family prefixes, port parsing, resolution) are shared with `server` lines.

use super::kw::{atol, unsupported, Args, Support};
use super::optable::{
    force_tls, kw, no, parse_options, ssl_max_ver, ssl_min_ver, tls_version_suffix, OptCtx,
    OptKeyword, OptLine, Outcome,
};
use crate::ir::haproxy::{Bind, BindOptions, Host, PortRange, SocketAddress, StatsLevel, Verify};
use crate::{Diagnostic, Diagnostics, Span, Spanned};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

// ---------------------------------------------------------------------------------------
// addresses

/// The address family an address prefix (`ipv4@`, `tcp6@`, ...) forces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Any,
    V4,
    V6,
}

/// What an address prefix says the rest of the address is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddrKind<'a> {
    /// `host:port` in the given family (no prefix, `ipv4@`, `ipv6@`, `tcp@`, `tcp4@`, `tcp6@`).
    Inet(Family, &'a str),
    /// `/path`, `unix@path`, `uxst@path`.
    Unix(&'a str),
    /// `abns@name`.
    Abns(&'a str),
    /// `fd@N`.
    Fd(&'a str),
    /// `sockpair@N`.
    SockPair(&'a str),
}

/// `addr = "/" path | prefix "@" rest | host ":" port`
///
/// Splits the family prefix off an address. Datagram (`udp@`, `uxdg@`, ...) and QUIC
/// prefixes are errors, with HAProxy's messages: stream listeners and servers cannot use
/// them (and this HAProxy build has no QUIC).
pub fn split_prefix(s: &str) -> Result<AddrKind<'_>, String> {
    if s.starts_with('/') {
        return Ok(AddrKind::Unix(s));
    }
    let Some((prefix, rest)) = s.split_once('@') else {
        return Ok(AddrKind::Inet(Family::Any, s));
    };
    Ok(match prefix {
        "ipv4" | "tcp4" => AddrKind::Inet(Family::V4, rest),
        "ipv6" | "tcp6" => AddrKind::Inet(Family::V6, rest),
        "tcp" => AddrKind::Inet(Family::Any, rest),
        "unix" | "uxst" => AddrKind::Unix(rest),
        "abns" => AddrKind::Abns(rest),
        "fd" => AddrKind::Fd(rest),
        "sockpair" => AddrKind::SockPair(rest),
        "udp" | "udp4" | "udp6" | "uxdg" => {
            return Err(format!("dgram-type address not acceptable in '{s}'"));
        }
        "quic4" | "quic6" => {
            let family = if prefix == "quic4" { 2 } else { 10 };
            return Err(format!(
                "unsupported stream protocol for datagram family {family} address '{s}'; QUIC is not compiled in if this is what you were looking for."
            ));
        }
        // Not a prefix HAProxy knows: the whole string is a host name, which will not resolve.
        _ => AddrKind::Inet(Family::Any, s),
    })
}

/// Splits `host:port` at its last colon; `[v6]` brackets are removed from the host.
/// `None` when there is no colon at all.
pub fn split_host_port(s: &str) -> Option<(&str, &str)> {
    if let Some(rest) = s.strip_prefix('[') {
        if let Some((host, after)) = rest.split_once(']') {
            return after.strip_prefix(':').map(|port| (host, port));
        }
    }
    s.rsplit_once(':')
}

/// The error for a port whose first character is not a digit.
pub fn port_char_error(port: &str, whole: &str) -> Option<String> {
    let c = port.chars().next()?;
    (!c.is_ascii_digit())
        .then(|| format!("invalid character '{c}' in port number '{port}' in '{whole}'"))
}

/// `ports = port [ "-" port ]`, each 1..=65535, first <= last (HAProxy reads each with
/// `atoi`, so trailing garbage after leading digits is ignored).
fn parse_port_range(port: &str, whole: &str) -> Result<PortRange, String> {
    if port.is_empty() {
        return Err(format!("missing port specification in '{whole}'"));
    }
    if port.starts_with('+') || port.starts_with('-') {
        return Err(format!("port offset not permitted here in '{whole}'"));
    }
    if let Some(e) = port_char_error(port, whole) {
        return Err(e);
    }
    let (lo_s, hi_s) = match port.split_once('-') {
        Some((a, b)) => (a, Some(b)),
        None => (port, None),
    };
    let lo = atol(lo_s);
    if !(1..=65535).contains(&lo) {
        return Err(format!("invalid port '{lo_s}'"));
    }
    let hi = match hi_s {
        None => lo,
        Some(h) => {
            let hi = atol(h);
            if h.is_empty() || !(1..=65535).contains(&hi) {
                return Err(format!("invalid port '{h}'"));
            }
            if hi < lo {
                return Err(format!("invalid port range '{lo}-{hi}'"));
            }
            hi
        }
    };
    Ok(PortRange {
        first: lo as u16,
        last: hi as u16,
    })
}

/// Resolves a host name the way `haproxy -c` does at parse time (first address of the
/// wanted family). `localhost` is 127.0.0.1 without asking the resolver; with `ipv6@` it
/// does not resolve (as with HAProxy on a stock Debian `/etc/hosts`).
pub fn resolve_host(name: &str, family: Family) -> Option<IpAddr> {
    if name.is_empty() {
        return None;
    }
    if name == "localhost" {
        return (family != Family::V6).then_some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    (name, 0u16)
        .to_socket_addrs()
        .ok()?
        .map(|sa| sa.ip())
        .find(|ip| match family {
            Family::Any => true,
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        })
}

/// Parses a literal IP address of the wanted family (brackets already removed).
pub fn parse_ip(host: &str, family: Family) -> Option<IpAddr> {
    let ip: IpAddr = host.parse().ok()?;
    match (family, ip) {
        (Family::V4, IpAddr::V6(_)) | (Family::V6, IpAddr::V4(_)) => None,
        _ => Some(ip),
    }
}

/// `listen-addr = "/" path | "unix@" path | "abns@" name | "fd@" N | "sockpair@" N
///              | [ "ipv4@" | "ipv6@" | "tcp[46]@" ] [ host | "*" ] ":" port [ "-" port ]`
///
/// One listening address, as `bind` and `stats socket` take it. Host names are resolved
/// now, as HAProxy does (`localhost` is 127.0.0.1); an empty host or `*` is
/// [`Host::Any`] (IPv4 wildcard) unless `ipv6@` asks for `::`. Errors are HAProxy's
/// messages without the keyword prefix.
pub fn parse_socket_address(s: &str) -> Result<SocketAddress, String> {
    if s.is_empty() {
        return Err("'' resolves to an empty address (environment variable missing?)".to_string());
    }
    let (family, rest) = match split_prefix(s)? {
        AddrKind::Unix(p) => {
            return Ok(SocketAddress {
                host: Host::Unix(p.to_string()),
                ports: None,
            })
        }
        AddrKind::Abns(n) => {
            return Ok(SocketAddress {
                host: Host::Abns(n.to_string()),
                ports: None,
            })
        }
        AddrKind::Fd(n) | AddrKind::SockPair(n) => {
            if parse_fd(n).is_none() {
                return Err(format!(
                    "file descriptor '{n}' is not a valid integer in '{s}'"
                ));
            }
            return Ok(SocketAddress {
                host: Host::Fd(n.to_string()),
                ports: None,
            });
        }
        AddrKind::Inet(f, rest) => (f, rest),
    };
    let Some((host, port)) = split_host_port(rest) else {
        return Err(format!("missing port specification in '{s}'"));
    };
    let ports = parse_port_range(port, s)?;
    let host = match host {
        "" | "*" => match family {
            Family::V6 => Host::Ip(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
            _ => Host::Any,
        },
        h => match parse_ip(h, family) {
            Some(ip) => Host::Ip(ip),
            None if h == "localhost" && family != Family::V6 => {
                Host::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST))
            }
            None => {
                if resolve_host(h, family).is_none() {
                    return Err(format!("invalid address: '{h}' in '{s}'"));
                }
                Host::Name(h.to_string())
            }
        },
    };
    Ok(SocketAddress {
        host,
        ports: Some(ports),
    })
}

/// `fd@N`: a non-negative decimal integer.
fn parse_fd(n: &str) -> Option<u32> {
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

// ---------------------------------------------------------------------------------------
// files HAProxy loads at check time

/// Why a certificate file would not load, in HAProxy's words (`crt` on `bind` and `server`).
/// A directory is accepted (HAProxy loads every certificate in it). A file must hold a PEM
/// certificate and a private key, the key possibly in `FILE.key`.
pub fn check_certificate(path: &str) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| {
        format!(
            "unable to stat SSL certificate from file '{path}' : {}.",
            os_error_text(&e)
        )
    })?;
    if meta.is_dir() {
        return Ok(());
    }
    let text = std::fs::read(path)
        .map_err(|_| format!("unable to load certificate from file '{path}'."))?;
    let text = String::from_utf8_lossy(&text);
    if !text.contains("-----BEGIN CERTIFICATE-----")
        && !text.contains("-----BEGIN TRUSTED CERTIFICATE-----")
    {
        return Err(format!("unable to load certificate from file '{path}'."));
    }
    if !text.contains("PRIVATE KEY-----") {
        let key = format!("{path}.key");
        let has_key = std::fs::read(&key)
            .map(|k| String::from_utf8_lossy(&k).contains("PRIVATE KEY-----"))
            .unwrap_or(false);
        if !has_key {
            return Err(format!("No Private Key found in '{key}'."));
        }
    }
    Ok(())
}

/// Why a CA (or CRL) file would not load: HAProxy's "Couldn't open the ca-file" reasons.
pub fn check_ca_file(path: &str) -> Result<(), String> {
    let data = std::fs::read(path).map_err(|e| {
        format!(
            "Couldn't open the ca-file '{path}' ({}).",
            os_error_text(&e)
        )
    })?;
    let text = String::from_utf8_lossy(&data);
    if !text.contains("-----BEGIN CERTIFICATE-----")
        && !text.contains("-----BEGIN TRUSTED CERTIFICATE-----")
        && !text.contains("-----BEGIN X509 CRL-----")
    {
        return Err(format!(
            "Couldn't open the ca-file '{path}' (no certificate or crl found)."
        ));
    }
    Ok(())
}

/// `strerror` text of an I/O error, without Rust's " (os error N)" suffix.
pub fn os_error_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Whether `name` is in the first column of a `/etc/passwd`-style file.
fn name_in_db(db: &str, name: &str) -> bool {
    std::fs::read_to_string(db)
        .map(|t| t.lines().any(|l| l.split(':').next() == Some(name)))
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------------------
// option values shared with `server`

/// The MUX protocols HAProxy 2.6 registers (`proto` on `bind` and `server`).
pub const MUX_PROTOS: &[&str] = &["h1", "h2", "fcgi", "none"];

// ---------------------------------------------------------------------------------------
// bind options

/// Every bind option HAProxy 2.6 registers (`haproxy -dKcfg`), QUIC ones excluded (not
/// compiled into the reference build, so HAProxy rejects them as unknown too).
pub static BIND_KEYWORDS: &[OptKeyword<BindOptions>] = &[
    kw("ssl", 0, |o, _| {
        o.ssl = true;
        Ok(())
    }),
    kw("crt", 1, |o, c| {
        let path = c.arg("missing certificate location")?;
        check_certificate(path).map_err(|e| c.err_arg(e))?;
        o.crt.push(path.to_string());
        Ok(())
    }),
    kw("crt-list", 1, |o, c| {
        let path = c.arg("missing certificate location")?;
        std::fs::metadata(path).map_err(|e| {
            c.err_arg(format!(
                "'crt-list' : cannot open file '{path}' : {}",
                os_error_text(&e)
            ))
        })?;
        o.crt_list.push(path.to_string());
        Ok(())
    }),
    kw("ca-file", 1, |o, c| {
        let path = c.arg("missing CAfile path")?;
        check_ca_file(path).map_err(|_| c.err_arg(format!("'ca-file' : unable to load {path}")))?;
        o.ca_file = Some(path.to_string());
        Ok(())
    }),
    kw("verify", 1, |o, c| {
        let v = c.arg("missing verify method")?;
        o.verify = Some(match v {
            "none" => Verify::None,
            "optional" => Verify::Optional,
            "required" => Verify::Required,
            _ => {
                return Err(c.err_arg(format!(
                    "'verify' : unknown verify method '{v}', only 'none', 'optional', and 'required' are supported"
                )))
            }
        });
        Ok(())
    }),
    kw("alpn", 1, |o, c| {
        let v = c.arg("missing the comma-delimited ALPN protocol suite")?;
        o.alpn = Some(v.split(',').map(str::to_string).collect());
        Ok(())
    }),
    kw("ciphers", 1, |o, c| {
        o.ciphers = Some(c.arg("missing cipher suite")?.to_string());
        Ok(())
    }),
    kw("ciphersuites", 1, |o, c| {
        o.ciphersuites = Some(c.arg("missing cipher suite")?.to_string());
        Ok(())
    }),
    kw("curves", 1, |o, c| {
        o.curves = Some(c.arg("missing curve suite")?.to_string());
        Ok(())
    }),
    kw("ssl-min-ver", 1, ssl_min_ver),
    kw("ssl-max-ver", 1, ssl_max_ver),
    kw("no-sslv3", 0, no_tls),
    kw("no-tlsv10", 0, no_tls),
    kw("no-tlsv11", 0, no_tls),
    kw("no-tlsv12", 0, no_tls),
    kw("no-tlsv13", 0, no_tls),
    kw("force-sslv3", 0, force_tls),
    kw("force-tlsv10", 0, force_tls),
    kw("force-tlsv11", 0, force_tls),
    kw("force-tlsv12", 0, force_tls),
    kw("force-tlsv13", 0, force_tls),
    kw("strict-sni", 0, |o, _| {
        o.strict_sni = true;
        Ok(())
    }),
    kw("maxconn", 1, |o, c| {
        let n = atol(c.arg("missing value")?);
        if n < 0 {
            return Err(c.err_arg(format!("'maxconn' : invalid value {n}, must be >= 0")));
        }
        o.maxconn = Some(n.min(i64::from(u32::MAX)) as u32);
        Ok(())
    }),
    kw("backlog", 1, |o, c| {
        let n = atol(c.arg("missing value")?);
        if n < 0 {
            return Err(c.err_arg(format!("'backlog' : invalid value {n}, must be > 0")));
        }
        o.backlog = Some(n.min(i64::from(u32::MAX)) as u32);
        Ok(())
    }),
    kw("name", 1, |o, c| {
        o.name = Some(c.arg("missing name")?.to_string());
        Ok(())
    }),
    kw("id", 1, |o, c| {
        o.id = Some(parse_custom_id(c)?);
        Ok(())
    }),
    kw("accept-proxy", 0, |o, _| {
        o.accept_proxy = true;
        Ok(())
    }),
    kw("transparent", 0, |o, _| {
        o.transparent = true;
        Ok(())
    }),
    kw("v4v6", 0, |o, _| {
        o.v4v6 = true;
        Ok(())
    }),
    kw("v6only", 0, |o, _| {
        o.v6only = true;
        Ok(())
    }),
    kw("interface", 1, |o, c| {
        o.interface = Some(c.arg("missing interface name")?.to_string());
        Ok(())
    }),
    kw("defer-accept", 0, |o, _| {
        o.defer_accept = true;
        Ok(())
    }),
    kw("tfo", 0, |o, _| {
        o.tfo = true;
        Ok(())
    }),
    kw("proto", 1, |o, c| {
        let p = c.arg("missing value")?;
        match p {
            "h1" | "h2" => {}
            // Registered, but not usable on a listener (reported after parsing, same line).
            "fcgi" | "none" => {
                return Err(c.err_arg(format!(
                    "MUX protocol '{p}' is not usable for 'bind {}'.",
                    c.name()
                )))
            }
            _ => return Err(c.err_arg(format!("'proto' :  unknown MUX protocol '{p}'"))),
        }
        o.proto = Some(p.to_string());
        Ok(())
    }),
    kw("mode", 1, |o, c| {
        let m = c.args.at(c.i + 1);
        let valid = !m.is_empty() && m.bytes().all(|b| (b'0'..=b'7').contains(&b));
        match valid.then(|| u32::from_str_radix(m, 8).ok()).flatten() {
            Some(n) => o.mode = Some(n),
            None => {
                return Err(c.err_kw(format!(
                    "'mode' : missing or invalid mode '{m}' (octal integer expected)"
                )))
            }
        }
        Ok(())
    }),
    kw("user", 1, |o, c| {
        let u = c.arg("missing user name")?;
        if !name_in_db("/etc/passwd", u) {
            return Err(c.err_arg(format!("'user' : unknown user name '{u}'")));
        }
        o.user = Some(u.to_string());
        Ok(())
    }),
    kw("group", 1, |o, c| {
        let g = c.arg("missing group name")?;
        if !name_in_db("/etc/group", g) {
            return Err(c.err_arg(format!("'group' : unknown group name '{g}'")));
        }
        o.group = Some(g.to_string());
        Ok(())
    }),
    kw("level", 1, |o, c| {
        let l = c.arg("missing level")?;
        o.level = Some(match l {
            "user" => StatsLevel::User,
            "operator" => StatsLevel::Operator,
            "admin" => StatsLevel::Admin,
            _ => {
                return Err(c.err_arg(format!(
                    "'level' only supports 'user', 'operator', and 'admin' (got '{l}')"
                )))
            }
        });
        Ok(())
    }),
    kw("expose-fd", 1, |o, c| {
        let v = c.arg("missing fd type")?;
        if v != "listeners" {
            return Err(c.err_arg(format!("'expose-fd' only supports 'listeners' (got '{v}')")));
        }
        o.expose_fd_listeners = true;
        Ok(())
    }),
    kw("thread", 1, |o, c| {
        let t = c.arg("missing thread number")?;
        if !valid_thread_set(t) {
            return Err(c.err_arg(format!("'{t}' : '{t}' is not a valid number/range.")));
        }
        o.thread = Some(t.to_string());
        Ok(())
    }),
    kw("process", 1, |o, c| {
        let p = c.arg("missing process number")?;
        o.process = Some(p.to_string());
        Ok(())
    }),
    // Carried out by nothing in rsproxy yet.
    no("uid", 1),
    no("gid", 1),
    no("nice", 1),
    no("npn", 1),
    no("allow-0rtt", 0),
    no("ca-ignore-err", 1),
    no("crt-ignore-err", 1),
    no("ca-sign-file", 1),
    no("ca-sign-pass", 1),
    no("ca-verify-file", 1),
    no("crl-file", 1),
    no("ecdhe", 1),
    no("generate-certificates", 0),
    no("no-ca-names", 0),
    no("no-tls-tickets", 0),
    no("prefer-client-ciphers", 0),
    no("tls-ticket-keys", 1),
    no("namespace", 1),
    no("mss", 1),
    no("tcp-ut", 1),
    no("accept-netscaler-cip", 1),
    no("severity-output", 1),
    no("shards", 1),
];

fn no_tls(o: &mut BindOptions, c: &OptCtx) -> Result<(), Diagnostic> {
    if let Some(v) = c.kw().strip_prefix("no-").and_then(tls_version_suffix) {
        if !o.no_tls.contains(&v) {
            o.no_tls.push(v);
        }
    }
    Ok(())
}

/// `id N`: 1..=2147483647 (HAProxy reads it into a signed int).
fn parse_custom_id(c: &OptCtx) -> Result<u32, Diagnostic> {
    let v = c.arg("expects an integer argument")?;
    if !v
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'-' || b == b'+')
        || v.len() > 20
    {
        return Err(c.err_arg(format!("'id' : expects an integer argument, found '{v}'")));
    }
    let n = atol(v);
    if n <= 0 || n > i64::from(i32::MAX) {
        return Err(c.err_arg("'id' : custom id has to be > 0"));
    }
    Ok(n as u32)
}

/// `thread-set = "all" | "odd" | "even" | [ group "/" ] ( N | N "-" M | "all" | "odd" | "even" )`
///
/// One set per word (HAProxy 2.6 rejects comma lists here).
fn valid_thread_set(s: &str) -> bool {
    let set = |t: &str| {
        matches!(t, "all" | "odd" | "even") || {
            let (a, b) = t.split_once('-').unwrap_or((t, t));
            let num =
                |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()) && atol(x) >= 1;
            num(a) && num(b) && atol(a) <= atol(b)
        }
    };
    match s.split_once('/') {
        Some((g, t)) => set(g) && set(t),
        None => set(s),
    }
}

/// Parses a whole `bind ADDR[,ADDR...] [options]` line (word 0 is `bind`).
pub fn parse_bind(args: Args, diags: &mut Diagnostics) -> Option<Bind> {
    let Some(addr_word) = args.get(1) else {
        diags.push(args.error(
            0,
            "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.",
        ));
        return None;
    };
    let mut ok = true;
    let mut addrs = Vec::new();
    let base = args.span(1);
    let mut parts: Vec<(usize, &str)> = Vec::new();
    let mut off = 0;
    for part in addr_word.split(',') {
        parts.push((off, part));
        off += part.len() + 1;
    }
    // A trailing comma is tolerated; any other empty element is an error.
    if parts.len() > 1 && parts.last().is_some_and(|(_, p)| p.is_empty()) {
        parts.pop();
    }
    for (off, part) in parts {
        let span = Span::new(base.file, base.line, base.col + off as u32);
        match parse_socket_address(part) {
            Ok(a) => {
                if let Host::Fd(_) = a.host {
                    let what = part.split('@').next().unwrap_or("fd");
                    diags.push(unsupported(span, &format!("bind {what}@")));
                    ok = false;
                }
                addrs.push(Spanned::new(a, span));
            }
            Err(e) => {
                diags.push(crate::Diagnostic::error(
                    crate::Dialect::Haproxy,
                    span,
                    format!("'bind' : {e}"),
                ));
                ok = false;
            }
        }
    }

    let line = OptLine {
        section: "bind",
        prefix: format!("'bind {addr_word}' : "),
        name: addr_word,
        stop: "",
        unknown_hint: "",
        default_server: false,
    };
    let mut opts = BindOptions::default();
    match parse_options(BIND_KEYWORDS, args, 2, &mut opts, diags, &line) {
        Outcome::Clean => {}
        Outcome::Refused => ok = false,
        Outcome::Stopped => return None,
    }

    // What HAProxy checks once the proxy is complete, reported on this line.
    let first = addr_word.split(',').next().unwrap_or("");
    if opts.ssl {
        if opts.crt.is_empty() && opts.crt_list.is_empty() {
            diags.push(args.error(
                0,
                format!("no SSL certificate specified for bind '{first}' (use 'crt')."),
            ));
            ok = false;
        }
        if matches!(opts.verify, Some(Verify::Optional | Verify::Required))
            && opts.ca_file.is_none()
        {
            diags.push(args.error(
                0,
                format!("verify is enabled but no CA file specified for bind '{first}'."),
            ));
            ok = false;
        }
        if let (Some(min), Some(max)) = (opts.ssl_min_ver, opts.ssl_max_ver) {
            if min > max {
                diags.push(args.error(
                    0,
                    format!("all SSL/TLS versions are disabled for bind '{first}'."),
                ));
                ok = false;
            }
        }
    }
    if let Some(p) = &opts.process {
        diags.push(args.warning(
            0,
            format!(
                "{}'process {p}' on 'bind' lines is deprecated and will be removed in 2.7.",
                line.prefix
            ),
        ));
    }
    ok.then(|| Bind {
        span: args.line_span(),
        addrs,
        opts,
    })
}

/// Every bind option with its support status, for the README.
pub fn keyword_names() -> Vec<(&'static str, &'static str, Support)> {
    super::optable::keyword_names("bind", BIND_KEYWORDS)
}

/// Helpers for the tests of this module and of `server`.
#[cfg(test)]
pub(crate) mod test_util {
    use crate::haproxy::lexer::Word;
    use crate::{Diagnostics, FileId};

    /// Splits a line on whitespace, keeping 1-based columns.
    pub fn words(line: &str) -> Vec<Word> {
        let mut out = Vec::new();
        let mut start = None;
        for (i, c) in line
            .char_indices()
            .chain(std::iter::once((line.len(), ' ')))
        {
            match (c.is_whitespace(), start) {
                (false, None) => start = Some(i),
                (true, Some(s)) => {
                    out.push(Word {
                        text: line[s..i].to_string(),
                        col: s as u32 + 1,
                    });
                    start = None;
                }
                _ => {}
            }
        }
        out
    }

    pub const FILE: FileId = FileId(0);

    /// The index of the word an error points at, and its message.
    pub fn first_error(diags: &Diagnostics, words: &[Word]) -> Option<(usize, String)> {
        let d = diags.errors().next()?;
        let i = words
            .iter()
            .position(|w| w.col == d.span.col)
            .unwrap_or(usize::MAX);
        Some((i, d.message.clone()))
    }

    /// A PEM file with a certificate and a key block (contents are not checked), and one
    /// with only a certificate, in a fresh temporary directory.
    pub fn pem_files() -> (String, String, String) {
        let dir = std::env::temp_dir().join(format!("rsproxy-bind-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let key = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
        let full = dir.join("full.pem");
        let only = dir.join("crtonly.pem");
        let junk = dir.join("junk.txt");
        std::fs::write(&full, format!("{cert}{key}")).unwrap();
        std::fs::write(&only, cert).unwrap();
        std::fs::write(&junk, "hello\n").unwrap();
        let s = |p: std::path::PathBuf| p.to_string_lossy().into_owned();
        (s(full), s(only), s(junk))
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::*;
    use super::*;
    use crate::ir::haproxy::TlsVersion;

    fn parse(line: &str) -> (Option<Bind>, Diagnostics, Vec<crate::haproxy::lexer::Word>) {
        let w = words(line);
        let mut d = Diagnostics::new();
        let b = parse_bind(Args::new(FILE, 7, &w), &mut d);
        (b, d, w)
    }

    fn any(first: u16, last: u16) -> SocketAddress {
        SocketAddress {
            host: Host::Any,
            ports: Some(PortRange { first, last }),
        }
    }

    fn ip(s: &str, port: u16) -> SocketAddress {
        SocketAddress {
            host: Host::Ip(s.parse().unwrap()),
            ports: Some(PortRange {
                first: port,
                last: port,
            }),
        }
    }

    /// Addresses `haproxy -c` 2.6.12 accepts (each checked in a frontend).
    #[test]
    fn addresses_haproxy_accepts() {
        let cases: &[(&str, SocketAddress)] = &[
            (":80", any(80, 80)),
            ("*:80", any(80, 80)),
            ("0.0.0.0:80", ip("0.0.0.0", 80)),
            (
                "127.0.0.1:8080-8089",
                SocketAddress {
                    ports: Some(PortRange {
                        first: 8080,
                        last: 8089,
                    }),
                    ..ip("127.0.0.1", 0)
                },
            ),
            (":::80", ip("::", 80)),
            ("[::]:80", ip("::", 80)),
            ("[::1]:80", ip("::1", 80)),
            ("::1:80", ip("::1", 80)),
            ("ipv4@:80", any(80, 80)),
            ("ipv6@:80", ip("::", 80)),
            ("ipv4@127.0.0.1:80", ip("127.0.0.1", 80)),
            ("tcp@:80", any(80, 80)),
            ("tcp4@:80", any(80, 80)),
            ("tcp6@:80", ip("::", 80)),
            ("localhost:80", ip("127.0.0.1", 80)),
            (":080", any(80, 80)),
            (":1-65535", any(1, 65535)),
            // atoi: trailing garbage after leading digits is ignored.
            (":80a", any(80, 80)),
            (":8a-90", any(8, 90)),
            (
                "unix@/tmp/s",
                SocketAddress {
                    host: Host::Unix("/tmp/s".into()),
                    ports: None,
                },
            ),
            (
                "uxst@/tmp/s",
                SocketAddress {
                    host: Host::Unix("/tmp/s".into()),
                    ports: None,
                },
            ),
            (
                "/tmp/s",
                SocketAddress {
                    host: Host::Unix("/tmp/s".into()),
                    ports: None,
                },
            ),
            (
                "unix@rel",
                SocketAddress {
                    host: Host::Unix("rel".into()),
                    ports: None,
                },
            ),
            (
                "abns@foo",
                SocketAddress {
                    host: Host::Abns("foo".into()),
                    ports: None,
                },
            ),
            (
                "abns@",
                SocketAddress {
                    host: Host::Abns("".into()),
                    ports: None,
                },
            ),
        ];
        for (s, want) in cases {
            assert_eq!(parse_socket_address(s).as_ref(), Ok(want), "{s}");
        }
    }

    /// Addresses `haproxy -c` 2.6.12 rejects, with its messages (after "'bind' : ").
    #[test]
    fn addresses_haproxy_rejects() {
        let cases: &[(&str, &str)] = &[
            ("127.0.0.1", "missing port specification in '127.0.0.1'"),
            ("127.0.0.1:", "missing port specification in '127.0.0.1:'"),
            ("localhost", "missing port specification in 'localhost'"),
            ("rel", "missing port specification in 'rel'"),
            ("./rel", "missing port specification in './rel'"),
            ("*", "missing port specification in '*'"),
            ("[::1]", "missing port specification in '[::1]'"),
            ("::1", "invalid address: ':' in '::1'"),
            (":0", "invalid port '0'"),
            (":65536", "invalid port '65536'"),
            (":90-80", "invalid port range '90-80'"),
            (":80-9a", "invalid port range '80-9'"),
            (":80-", "invalid port ''"),
            (
                ":abc",
                "invalid character 'a' in port number 'abc' in ':abc'",
            ),
            (":+80", "port offset not permitted here in ':+80'"),
            (":-80", "port offset not permitted here in ':-80'"),
            (
                "1.2.3.4.5:80",
                "invalid address: '1.2.3.4.5' in '1.2.3.4.5:80'",
            ),
            (
                "nosuchhost.invalid:80",
                "invalid address: 'nosuchhost.invalid' in 'nosuchhost.invalid:80'",
            ),
            (
                "ipv6@127.0.0.1:80",
                "invalid address: '127.0.0.1' in 'ipv6@127.0.0.1:80'",
            ),
            ("ipv4@::1:80", "invalid address: '::1' in 'ipv4@::1:80'"),
            (
                "ipv6@localhost:80",
                "invalid address: 'localhost' in 'ipv6@localhost:80'",
            ),
            ("foo@:80", "invalid address: 'foo@' in 'foo@:80'"),
            ("udp@:80", "dgram-type address not acceptable in 'udp@:80'"),
            (
                "udp4@:80",
                "dgram-type address not acceptable in 'udp4@:80'",
            ),
            (
                "uxdg@/tmp/x",
                "dgram-type address not acceptable in 'uxdg@/tmp/x'",
            ),
            (
                "fd@abc",
                "file descriptor 'abc' is not a valid integer in 'fd@abc'",
            ),
            (
                "",
                "'' resolves to an empty address (environment variable missing?)",
            ),
        ];
        for (s, want) in cases {
            assert_eq!(parse_socket_address(s), Err(want.to_string()), "{s}");
        }
        assert!(parse_socket_address("quic4@:443")
            .unwrap_err()
            .contains("QUIC is not compiled in"));
    }

    /// Whole lines: (line, expected error as (word index, message substring)) — `None` means
    /// valid. Each verdict checked with `haproxy -c` 2.6.12 (cert paths stand for real PEMs).
    #[test]
    fn bind_lines_follow_haproxy_verdicts() {
        let (full, only, junk) = pem_files();
        let cases: Vec<(String, Option<(usize, &str)>)> = vec![
            ("bind :80".into(), None),
            ("bind :80,:81".into(), None),
            ("bind :80,".into(), None),
            ("bind".into(), Some((0, "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments."))),
            ("bind :80,,:81".into(), Some((usize::MAX, "'' resolves to an empty address"))),
            ("bind ,:80".into(), Some((1, "'' resolves to an empty address"))),
            ("bind :80, :81".into(), Some((2, "'bind :80,' : unknown keyword ':81'."))),
            ("bind :80 :81".into(), Some((2, "unknown keyword ':81'"))),
            ("bind :80 sssl".into(), Some((2, "unknown keyword 'sssl'; did you mean 'ssl' maybe ?"))),
            ("bind fd@3".into(), Some((1, "not supported"))),
            ("bind sockpair@3".into(), Some((1, "not supported"))),
            ("bind :80 npn h2".into(), Some((2, "'bind npn' is recognised but not supported"))),
            // ssl without a certificate: HAProxy's post-parse check, same line.
            ("bind :80 ssl".into(), Some((0, "no SSL certificate specified for bind ':80' (use 'crt')."))),
            (format!("bind :443 ssl crt {full}"), None),
            (format!("bind :443 crt {full}"), None),
            (format!("bind :443 ssl crt {full} crt {full}"), None),
            ("bind :443 ssl crt /etc/ssl/certs/nonexistent-web.pem".into(), Some((4, "unable to stat SSL certificate from file '/etc/ssl/certs/nonexistent-web.pem' : No such file or directory."))),
            (format!("bind :443 ssl crt {junk}"), Some((4, "unable to load certificate from file"))),
            (format!("bind :443 ssl crt {only}"), Some((4, "No Private Key found in"))),
            ("bind :443 ssl crt".into(), Some((3, "'crt' : missing certificate location"))),
            ("bind :443 ssl crt-list /nonexistent".into(), Some((4, "'crt-list' : cannot open file '/nonexistent' : No such file or directory"))),
            ("bind :80 ca-file /nonexistent".into(), Some((3, "'ca-file' : unable to load /nonexistent"))),
            ("bind :80 ca-file".into(), Some((2, "'ca-file' : missing CAfile path"))),
            (format!("bind :443 ssl crt {full} verify required"), Some((0, "verify is enabled but no CA file specified for bind ':443'."))),
            (format!("bind :443 ssl crt {full} verify optional"), Some((0, "verify is enabled but no CA file specified"))),
            (format!("bind :443 ssl crt {full} ca-file {only} verify required"), None),
            ("bind :80 verify required".into(), None),
            ("bind :80 verify bogus".into(), Some((3, "'verify' : unknown verify method 'bogus', only 'none', 'optional', and 'required' are supported"))),
            ("bind :80 verify".into(), Some((2, "'verify' : missing verify method"))),
            ("bind :80 alpn".into(), Some((2, "'alpn' : missing the comma-delimited ALPN protocol suite"))),
            ("bind :80 ciphers".into(), Some((2, "'ciphers' : missing cipher suite"))),
            ("bind :80 curves".into(), Some((2, "'curves' : missing curve suite"))),
            ("bind :80 ssl-min-ver".into(), Some((2, "'ssl-min-ver' : missing the ssl/tls version"))),
            ("bind :80 ssl-min-ver TLSv1.4".into(), Some((3, "'TLSv1.4' : unknown ssl/tls version"))),
            ("bind :80 ssl-min-ver tlsv1.2".into(), Some((3, "'tlsv1.2' : unknown ssl/tls version"))),
            (format!("bind :443 ssl crt {full} ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.2"), Some((0, "all SSL/TLS versions are disabled for bind ':443'."))),
            (format!("bind :443 ssl crt {full} force-tlsv12 strict-sni"), None),
            ("bind :80 no-sslv3 no-tlsv10 no-tlsv11 no-tlsv12 no-tlsv13".into(), None),
            ("bind :80 maxconn abc".into(), None),
            ("bind :80 maxconn 0".into(), None),
            ("bind :80 maxconn 99999999999".into(), None),
            ("bind :80 maxconn".into(), Some((2, "'maxconn' : missing value"))),
            ("bind :80 maxconn -1".into(), Some((3, "'maxconn' : invalid value -1, must be >= 0"))),
            ("bind :80 backlog 0".into(), None),
            ("bind :80 backlog abc".into(), None),
            ("bind :80 backlog -1".into(), Some((3, "'backlog' : invalid value -1, must be > 0"))),
            ("bind :80 backlog".into(), Some((2, "'backlog' : missing value"))),
            ("bind :80 name".into(), Some((2, "'name' : missing name"))),
            ("bind :80 id 5".into(), None),
            ("bind :80 id 0".into(), Some((3, "'id' : custom id has to be > 0"))),
            ("bind :80 id 2147483648".into(), Some((3, "'id' : custom id has to be > 0"))),
            ("bind :80 id abc".into(), Some((3, "'id' : expects an integer argument, found 'abc'"))),
            ("bind :80 id 5abc".into(), Some((3, "'id' : expects an integer argument, found '5abc'"))),
            ("bind :80 id".into(), Some((2, "'id' : expects an integer argument"))),
            ("bind :80 accept-proxy transparent v4v6 v6only defer-accept tfo".into(), None),
            ("bind :80 interface eth0".into(), None),
            ("bind :80 interface".into(), Some((2, "'interface' : missing interface name"))),
            ("bind :80 proto h1".into(), None),
            ("bind :80 proto h2".into(), None),
            ("bind :80 proto".into(), Some((2, "'proto' : missing value"))),
            ("bind :80 proto foo".into(), Some((3, "unknown MUX protocol 'foo'"))),
            ("bind :80 proto fcgi".into(), Some((3, "MUX protocol 'fcgi' is not usable for 'bind :80'"))),
            ("bind :80 proto none".into(), Some((3, "MUX protocol 'none' is not usable"))),
            ("bind :80 mode 600".into(), None),
            ("bind :80 mode 0777".into(), None),
            ("bind :80 mode".into(), Some((2, "'mode' : missing or invalid mode '' (octal integer expected)"))),
            ("bind :80 mode 999".into(), Some((2, "missing or invalid mode '999'"))),
            ("bind :80 mode abc".into(), Some((2, "missing or invalid mode 'abc'"))),
            ("bind :80 user root group root".into(), None),
            ("bind :80 user".into(), Some((2, "'user' : missing user name"))),
            ("bind :80 user nosuchuser".into(), Some((3, "'user' : unknown user name 'nosuchuser'"))),
            ("bind :80 group nosuchgroup".into(), Some((3, "'group' : unknown group name 'nosuchgroup'"))),
            ("bind :80 level admin expose-fd listeners".into(), None),
            ("bind :80 level".into(), Some((2, "'level' : missing level"))),
            ("bind :80 level foo".into(), Some((3, "'level' only supports 'user', 'operator', and 'admin' (got 'foo')"))),
            ("bind :80 expose-fd".into(), Some((2, "'expose-fd' : missing fd type"))),
            ("bind :80 expose-fd foo".into(), Some((3, "'expose-fd' only supports 'listeners' (got 'foo')"))),
            ("bind :80 thread 1".into(), None),
            ("bind :80 thread all".into(), None),
            ("bind :80 thread 1/1".into(), None),
            ("bind :80 thread abc".into(), Some((3, "'abc' : 'abc' is not a valid number/range."))),
            ("bind :80 thread 1-2,odd".into(), Some((3, "is not a valid number/range."))),
            // Valid for HAProxy with a deprecation warning.
            ("bind :80 process 1".into(), None),
        ];
        for (line, want) in cases {
            let (b, d, w) = parse(&line);
            match want {
                None => {
                    assert!(
                        !d.has_errors(),
                        "{line}: {:?}",
                        d.iter().collect::<Vec<_>>()
                    );
                    assert!(b.is_some(), "{line}");
                }
                Some((i, msg)) => {
                    let (at, got) =
                        first_error(&d, &w).unwrap_or_else(|| panic!("{line}: no error"));
                    assert!(got.contains(msg), "{line}: got {got:?}, want {msg:?}");
                    if i != usize::MAX {
                        assert_eq!(at, i, "{line}: error at word {at}, want {i} ({got})");
                    }
                    assert!(b.is_none(), "{line}");
                }
            }
        }
    }

    #[test]
    fn bind_options_land_in_the_ir() {
        let (full, _, _) = pem_files();
        let (b, d, _) = parse(&format!(
            "bind 127.0.0.1:443,:8443 ssl crt {full} alpn h2,http/1.1 ssl-min-ver TLSv1.2 no-tlsv10 maxconn 100 name web id 7 accept-proxy proto h2 thread 1"
        ));
        assert!(!d.has_errors(), "{:?}", d.iter().collect::<Vec<_>>());
        let b = b.unwrap();
        assert_eq!(b.addrs.len(), 2);
        assert_eq!(b.addrs[0].node, ip("127.0.0.1", 443));
        assert_eq!(b.addrs[1].node, any(8443, 8443));
        // The second address's span points inside the word, after the comma.
        assert_eq!(
            b.addrs[1].span.col,
            b.addrs[0].span.col + "127.0.0.1:443,".len() as u32
        );
        let o = b.opts;
        assert!(o.ssl && o.accept_proxy);
        assert_eq!(o.crt, vec![full]);
        assert_eq!(o.alpn, Some(vec!["h2".to_string(), "http/1.1".to_string()]));
        assert_eq!(o.ssl_min_ver, Some(TlsVersion::Tlsv12));
        assert_eq!(o.no_tls, vec![TlsVersion::Tlsv10]);
        assert_eq!(
            (o.maxconn, o.id, o.name.as_deref()),
            (Some(100), Some(7), Some("web"))
        );
        assert_eq!(o.proto.as_deref(), Some("h2"));
        assert_eq!(o.thread.as_deref(), Some("1"));

        let (b, _, _) = parse("bind :80 force-tlsv12 mode 660 level operator");
        let o = b.unwrap().opts;
        assert_eq!(
            (o.ssl_min_ver, o.ssl_max_ver),
            (Some(TlsVersion::Tlsv12), Some(TlsVersion::Tlsv12))
        );
        assert_eq!(o.mode, Some(0o660));
        assert_eq!(o.level, Some(StatsLevel::Operator));
    }

    #[test]
    fn process_is_deprecated_but_valid() {
        let (b, d, _) = parse("bind :80 process 1");
        assert!(b.is_some() && !d.has_errors());
        assert!(d
            .iter()
            .any(|x| x.message.contains("deprecated and will be removed in 2.7")));
    }

    #[test]
    fn keyword_table_has_unique_names_and_feeds_the_readme() {
        let mut names: Vec<_> = BIND_KEYWORDS.iter().map(|k| k.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len(), "duplicate bind keyword");
        let list = keyword_names();
        assert!(list.iter().all(|(cat, _, _)| *cat == "bind"));
        assert!(list.contains(&("bind", "ssl", Support::Yes)));
        assert!(list.contains(&("bind", "npn", Support::No)));
    }
}
