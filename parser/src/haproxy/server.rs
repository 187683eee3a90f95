//! `server` and `default-server` lines: name, address and server options.
//!
//! Input: the words of one line. Output: a [`Server`] (for `server`) or options merged into a
//! [`ServerOptions`] (for `default-server`), plus diagnostics. Options are looked up in one
//! static table, [`SERVER_KEYWORDS`], which also drives "did you mean" and the README list.
//!
//! Behaviour mirrors `haproxy -c` 2.6 (checked against the installed binary; see the tests).
//! Two checks depend on more than the line, because `default-server` and `global` can change
//! their outcome; the validator calls them once inheritance is done:
//! [`check_server_resolution`] (host names must resolve unless `init-addr` allows otherwise)
//! and [`check_server_tls`] (TLS to a server needs a CA file unless `verify none`, and its
//! `crt` must load).
//! Invariant: parsing a line never resolves a server's host name.

use super::bind::{
    check_ca_file, check_certificate, parse_ip, port_char_error, resolve_host, split_host_port,
    split_prefix, AddrKind, Family,
};
use super::kw::{
    atol, invalid_name_char, parse_duration, parse_duration_lenient, unsupported, Args, Support,
    TimeUnit,
};
use super::optable::{
    force_tls, kw, no, not_default, parse_options, ssl_max_ver, ssl_min_ver, OptCtx, OptKeyword,
    OptLine,
};
use crate::ir::haproxy::{Host, Server, ServerAddress, ServerOptions, ServerPort, Verify};
use crate::ir::Duration;
use crate::{Diagnostic, Diagnostics, Spanned};
use std::net::IpAddr;

// ---------------------------------------------------------------------------------------
// address

/// `server-addr = "/" path | "unix@" path | "abns@" name
///              | [ "ipv4@" | "ipv6@" | "tcp[46]@" ] host [ ":" [ port | "+" N | "-" N ] ]`
///
/// A server's address. Host names are kept as [`Host::Name`], unresolved (see
/// [`check_server_resolution`]). No port, an empty port or port 0 is [`ServerPort::Same`].
/// Errors are HAProxy's messages without the `'server x/y' : ` prefix.
pub fn parse_server_address(s: &str) -> Result<ServerAddress, String> {
    let (family, rest) = match split_prefix(s)? {
        AddrKind::Unix(p) => {
            return Ok(ServerAddress {
                host: Host::Unix(p.to_string()),
                port: ServerPort::Same,
            })
        }
        AddrKind::Abns(n) => {
            return Ok(ServerAddress {
                host: Host::Abns(n.to_string()),
                port: ServerPort::Same,
            })
        }
        AddrKind::Fd(_) => {
            return Err(format!("a file descriptor is not acceptable here in '{s}'"))
        }
        AddrKind::SockPair(n) => {
            return Ok(ServerAddress {
                host: Host::Fd(n.to_string()),
                port: ServerPort::Same,
            })
        }
        AddrKind::Inet(f, rest) => (f, rest),
    };
    let (host, port) = match split_host_port(rest) {
        Some((h, p)) => (h, parse_server_port(p, s)?),
        None => (
            rest.strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(rest),
            ServerPort::Same,
        ),
    };
    let host = match host {
        "" | "*" => Host::Any,
        h => match parse_ip(h, family) {
            Some(ip) => Host::Ip(ip),
            // The IR keeps no family for names: `ipv6@name` resolves like `name`.
            None => Host::Name(h.to_string()),
        },
    };
    Ok(ServerAddress { host, port })
}

/// `port = digits | "+" digits | "-" digits`, read with `atoi` as HAProxy does: trailing
/// garbage is ignored, offsets are not range-checked, ranges are refused.
fn parse_server_port(port: &str, whole: &str) -> Result<ServerPort, String> {
    if port.is_empty() {
        return Ok(ServerPort::Same);
    }
    if let Some(off) = port.strip_prefix('+').or_else(|| port.strip_prefix('-')) {
        let n = atol(off).min(i64::from(i32::MAX)) as i32;
        let n = if port.starts_with('-') { -n } else { n };
        return Ok(if n == 0 {
            ServerPort::Same
        } else {
            ServerPort::Offset(n)
        });
    }
    if let Some(e) = port_char_error(port, whole) {
        return Err(e);
    }
    if port.contains('-') {
        return Err(format!("port range not permitted here in '{whole}'"));
    }
    match atol(port) {
        0 => Ok(ServerPort::Same),
        n @ 1..=65535 => Ok(ServerPort::Fixed(n as u16)),
        _ => Err(format!("invalid port '{port}'")),
    }
}

// ---------------------------------------------------------------------------------------
// options

macro_rules! flag {
    ($field:ident, $value:expr) => {
        |o, _| {
            o.$field = Some($value);
            Ok(())
        }
    };
}

/// Every server option HAProxy 2.6 registers (`haproxy -dKcfg`).
pub static SERVER_KEYWORDS: &[OptKeyword<ServerOptions>] = &[
    kw("check", 0, flag!(check, true)),
    kw("no-check", 0, flag!(check, false)),
    kw("inter", 1, |o, c| {
        o.inter = Some(check_delay(c)?);
        Ok(())
    }),
    kw("fastinter", 1, |o, c| {
        o.fastinter = Some(check_delay(c)?);
        Ok(())
    }),
    kw("downinter", 1, |o, c| {
        o.downinter = Some(check_delay(c)?);
        Ok(())
    }),
    kw("rise", 1, |o, c| {
        o.rise = Some(positive_count(c, |k| format!("'{k}' has to be > 0."))?);
        Ok(())
    }),
    kw("fall", 1, |o, c| {
        o.fall = Some(positive_count(c, |k| format!("'{k}' has to be > 0."))?);
        Ok(())
    }),
    kw("error-limit", 1, |o, c| {
        o.error_limit = Some(positive_count(c, |k| format!("{k} has to be > 0."))?);
        Ok(())
    }),
    kw("port", 1, |o, c| {
        let p = c.arg_or(|k| format!("'{k}' expects a port number as argument."))?;
        // HAProxy stores atol() in an int and later truncates it to 16 bits: never an error.
        o.port = Some(atol(p) as u16);
        Ok(())
    }),
    kw("addr", 1, |o, c| {
        let a = c.arg_or(|k| format!("'{k}' expects <ipv4|ipv6> as argument."))?;
        let invalid = || c.err_arg(format!("'addr' : invalid address: '{a}' in '{a}'."));
        let (family, rest) = match split_prefix(a) {
            Ok(AddrKind::Inet(f, rest)) => (f, rest),
            _ => return Err(invalid()),
        };
        let host = match split_host_port(rest) {
            Some((h, _)) if parse_ip(rest, family).is_none() => h,
            _ => rest,
        };
        let ip = parse_ip(host, family)
            .or_else(|| resolve_host(host, family))
            .ok_or_else(invalid)?;
        o.addr = Some(ip);
        Ok(())
    }),
    kw("cookie", 1, |o, c| {
        o.cookie = Some(
            c.arg_or(|k| format!("'{k}' expects <value> as argument."))?
                .to_string(),
        );
        Ok(())
    }),
    kw("weight", 1, |o, c| {
        // atol() of whatever follows, even nothing or the next keyword.
        let w = atol(c.raw());
        if !(0..=256).contains(&w) {
            return Err(c.err_arg(format!(
                "weight of server {} is not within 0 and 256 ({w}).",
                c.name()
            )));
        }
        o.weight = Some(w as u32);
        Ok(())
    }),
    kw("backup", 0, flag!(backup, true)),
    kw("no-backup", 0, flag!(backup, false)),
    kw("maxconn", 1, |o, c| {
        o.maxconn = Some(lenient_u32(c.raw()));
        Ok(())
    }),
    kw("minconn", 1, |o, c| {
        o.minconn = Some(lenient_u32(c.raw()));
        Ok(())
    }),
    kw("maxqueue", 1, |o, c| {
        o.maxqueue = Some(lenient_u32(c.raw()));
        Ok(())
    }),
    kw("disabled", 0, flag!(disabled, true)),
    kw("enabled", 0, flag!(disabled, false)),
    kw("ssl", 0, flag!(ssl, true)),
    kw("no-ssl", 0, flag!(ssl, false)),
    kw("verify", 1, |o, c| {
        let v = c.arg("missing verify method.")?;
        o.verify = Some(match v {
            "none" => Verify::None,
            "required" => Verify::Required,
            _ => {
                return Err(c.err_arg(format!(
                "'verify' : unknown verify method '{v}', only 'none' and 'required' are supported."
            )))
            }
        });
        Ok(())
    }),
    kw("ca-file", 1, |o, c| {
        let path = c.arg("missing CAfile path.")?;
        check_ca_file(path).map_err(|e| c.err_arg(e))?;
        o.ca_file = Some(path.to_string());
        Ok(())
    }),
    kw("sni", 1, |o, c| {
        // A sample expression; its fetch is checked by the ACL/sample layer, not here.
        o.sni = Some(c.arg("missing sni expression.")?.to_string());
        Ok(())
    }),
    kw("alpn", 1, |o, c| {
        let v = c.arg("missing the comma-delimited ALPN protocol suite.")?;
        o.alpn = Some(v.split(',').map(str::to_string).collect());
        Ok(())
    }),
    kw("check-ssl", 0, flag!(check_ssl, true)),
    kw("no-check-ssl", 0, flag!(check_ssl, false)),
    kw("check-sni", 1, |o, c| {
        o.check_sni = Some(c.arg("missing SNI.")?.to_string());
        Ok(())
    }),
    kw("send-proxy", 0, flag!(send_proxy, true)),
    kw("no-send-proxy", 0, flag!(send_proxy, false)),
    kw("send-proxy-v2", 0, flag!(send_proxy_v2, true)),
    kw("no-send-proxy-v2", 0, flag!(send_proxy_v2, false)),
    kw("slowstart", 1, |o, c| {
        let v = c.arg_or(|_| "unexpected character '.".to_string())?;
        o.slowstart = Some(delay(c, v, false)?);
        Ok(())
    }),
    kw("observe", 1, |o, c| {
        let v = c.arg_or(|k| format!("'{k}' expects <mode> as argument."))?;
        if !matches!(v, "none" | "layer4" | "layer7") {
            return Err(c.err_arg(format!(
                "'observe' expects one of 'none', 'layer4', 'layer7' but got '{v}'."
            )));
        }
        o.observe = Some(v.to_string());
        Ok(())
    }),
    kw("on-error", 1, |o, c| {
        let v = c.raw();
        if !matches!(v, "fastinter" | "fail-check" | "sudden-death" | "mark-down") {
            return Err(c.err_arg(format!(
                "'on-error' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but got '{v}'."
            )));
        }
        o.on_error = Some(v.to_string());
        Ok(())
    }),
    kw("init-addr", 1, |o, c| {
        let v = c.raw();
        for m in v.split(',').filter(|m| !m.is_empty()) {
            if !matches!(m, "libc" | "last" | "none") && m.parse::<IpAddr>().is_err() {
                return Err(c.err_arg(format!(
                    "'init-addr' : unknown init-addr method '{m}', supported methods are 'libc', 'last', 'none'."
                )));
            }
        }
        o.init_addr = Some(v.to_string());
        Ok(())
    }),
    not_default(kw("id", 1, |o, c| {
        let v = c.arg("expects an integer argument.")?;
        let n = atol(v);
        if n <= 0 || n > i64::from(i32::MAX) {
            return Err(c.err_arg("'id' : custom id has to be > 0."));
        }
        o.id = Some(n as u32);
        Ok(())
    })),
    kw("track", 1, |o, c| {
        // Whether the target exists is the validator's business (needs the whole config).
        let t = c.arg_or(|k| format!("'{k}' expects [<proxy>/]<server> as argument."))?;
        o.track = Some(t.to_string());
        Ok(())
    }),
    kw("ssl-min-ver", 1, ssl_min_ver),
    kw("ssl-max-ver", 1, ssl_max_ver),
    kw("force-sslv3", 0, force_tls),
    kw("force-tlsv10", 0, force_tls),
    kw("force-tlsv11", 0, force_tls),
    kw("force-tlsv12", 0, force_tls),
    kw("force-tlsv13", 0, force_tls),
    kw("ciphers", 1, |o, c| {
        o.ciphers = Some(c.arg("missing cipher suite.")?.to_string());
        Ok(())
    }),
    kw("crt", 1, |o, c| {
        // HAProxy loads it only when the server uses TLS: see `parse_server`.
        o.crt = Some(c.arg("missing certificate file path.")?.to_string());
        Ok(())
    }),
    kw("proto", 1, |o, c| {
        let p = c.arg("missing value.")?;
        match p {
            "h1" | "h2" => {}
            "none" => {
                return Err(c.err_arg(format!(
                    "MUX protocol 'none' is not usable for server '{}'.",
                    c.name()
                )))
            }
            // Needs an fcgi-app section, which rsproxy does not have.
            "fcgi" => return Err(unsupported(c.args.span(c.i + 1), "server proto fcgi")),
            _ => return Err(c.err_arg(format!("'proto' :  unknown MUX protocol '{p}'."))),
        }
        o.proto = Some(p.to_string());
        Ok(())
    }),
    kw("pool-max-conn", 1, |o, c| {
        let n = atol(c.arg_or(|k| format!("'{k}' expects <value> as argument."))?);
        if n < -1 {
            return Err(c.err_arg("'pool-max-conn' must be >= -1."));
        }
        o.pool_max_conn = Some(n);
        Ok(())
    }),
    kw("pool-purge-delay", 1, |o, c| {
        let v = c.arg_or(|k| format!("'{k}' expects <value> as argument."))?;
        let d = parse_duration(v, TimeUnit::Millis).map_err(|e| {
            match e.strip_prefix("unexpected character ") {
                Some(_) => c.err_arg(format!(
                    "unexpected character '{}' in argument to <pool-purge-delay>.",
                    bad_char(v)
                )),
                None => c.err_arg(format!("'pool-purge-delay' : {e}.")),
            }
        })?;
        o.pool_purge_delay = Some(d);
        Ok(())
    }),
    kw("tfo", 0, flag!(tfo, true)),
    kw("no-tfo", 0, flag!(tfo, false)),
    // Not carried out by rsproxy yet (or no place in the IR for them).
    no("resolvers", 1),
    no("resolve-net", 1),
    no("resolve-opts", 1),
    no("resolve-prefer", 1),
    no("agent-check", 0),
    no("no-agent-check", 0),
    no("agent-addr", 1),
    no("agent-inter", 1),
    no("agent-port", 1),
    no("agent-send", 1),
    no("allow-0rtt", 0),
    no("check-alpn", 1),
    no("check-proto", 1),
    no("check-send-proxy", 0),
    no("no-check-send-proxy", 0),
    no("check-via-socks4", 0),
    no("ciphersuites", 1),
    no("crl-file", 1),
    no("log-proto", 1),
    no("max-reuse", 1),
    no("namespace", 1),
    no("non-stick", 0),
    no("stick", 0),
    no("npn", 1),
    no("on-marked-down", 1),
    no("on-marked-up", 1),
    no("pool-low-conn", 1),
    no("proxy-v2-options", 1),
    no("redir", 1),
    no("send-proxy-v2-ssl", 0),
    no("send-proxy-v2-ssl-cn", 0),
    no("no-send-proxy-v2-ssl", 0),
    no("no-send-proxy-v2-ssl-cn", 0),
    no("socks4", 1),
    no("source", 1),
    no("usesrc", 1),
    no("ssl-reuse", 0),
    no("no-ssl-reuse", 0),
    no("tls-tickets", 0),
    no("no-tls-tickets", 0),
    no("tcp-ut", 1),
    no("verifyhost", 1),
    no("ws", 1),
    not_default(no("no-sslv3", 0)),
    not_default(no("no-tlsv10", 0)),
    not_default(no("no-tlsv11", 0)),
    not_default(no("no-tlsv12", 0)),
    not_default(no("no-tlsv13", 0)),
];

/// `maxconn`, `minconn`, `maxqueue`: HAProxy takes atol() of anything (even nothing); a
/// negative value wraps to "no limit" there, 0 (no limit) here.
fn lenient_u32(s: &str) -> u32 {
    atol(s).clamp(0, i64::from(u32::MAX)) as u32
}

/// `rise`, `fall`, `error-limit`: atol() > 0 (so `abc` is "has to be > 0").
fn positive_count(c: &OptCtx, not_positive: fn(&str) -> String) -> Result<u32, Diagnostic> {
    let v = c.arg_or(|k| format!("'{k}' expects an integer argument."))?;
    let n = atol(v);
    if n <= 0 {
        return Err(c.err_arg(not_positive(c.kw())));
    }
    // HAProxy truncates to an int; huge values are accepted.
    Ok(n.min(i64::from(u32::MAX)) as u32)
}

/// `inter`, `fastinter`, `downinter`: a delay in ms, not zero.
fn check_delay(c: &OptCtx) -> Result<Duration, Diagnostic> {
    let v = c.arg_or(|k| format!("'{k}' expects a delay as argument."))?;
    delay(c, v, true)
}

fn delay(c: &OptCtx, v: &str, nonzero: bool) -> Result<Duration, Diagnostic> {
    let k = c.kw();
    let (d, warning) = parse_duration_lenient(v, TimeUnit::Millis).map_err(|e| {
        if e.starts_with("timer overflow") {
            c.err_arg(format!(
                "timer overflow in argument <{v}> to <{k}> of server {}, maximum value is 2147483647 ms (~24.8 days).",
                c.name()
            ))
        } else {
            c.err_arg(format!(
                "unexpected character '{}' in '{k}' argument of server {}.",
                bad_char(v),
                c.name()
            ))
        }
    })?;
    if nonzero && d.micros == 0 {
        return Err(c.err_arg(format!(
            "invalid value 0 for argument '{k}' of server {}.",
            c.name()
        )));
    }
    if let Some(w) = warning {
        c.warn(c.err_arg(format!("'server {}' : {w}", c.name())));
    }
    Ok(d)
}

/// The first character of a time value that is not part of `digits [unit]`.
fn bad_char(v: &str) -> char {
    let rest = v.trim_start_matches(|c: char| c.is_ascii_digit());
    let unit_len = ["us", "ms", "s", "m", "h", "d"]
        .iter()
        .find(|u| rest.starts_with(*u) && rest.len() > u.len())
        .map(|u| u.len())
        .unwrap_or(0);
    rest[unit_len..].chars().next().unwrap_or(' ')
}

/// Parses options from word `start` on into `opts` (for `server` and `default-server`;
/// word 0 says which). Stops at an unknown keyword, as HAProxy does.
pub fn parse_server_options(
    args: Args,
    start: usize,
    opts: &mut ServerOptions,
    diags: &mut Diagnostics,
) {
    let default_server = args.at(0) == "default-server";
    let (name, prefix) = if default_server {
        ("default-server", String::new())
    } else {
        (args.at(1), format!("'server {}' : ", args.at(1)))
    };
    let line = OptLine {
        section: "server",
        prefix,
        name,
        stop: ".",
        unknown_hint: if default_server {
            " Hint: no address was expected for this server."
        } else {
            ""
        },
        // HAProxy prints an alert for a server-only option but accepts the configuration.
        default_server,
    };
    parse_options(SERVER_KEYWORDS, args, start, opts, diags, &line);
}

/// Parses a whole `server NAME ADDR [options]` line (word 0 is `server`).
pub fn parse_server(args: Args, diags: &mut Diagnostics) -> Option<Server> {
    if args.len() < 3 {
        diags.push(args.error(
            args.len().min(2),
            "'server' expects <name> and <addr>[:<port>] as arguments.",
        ));
        return None;
    }
    let name = args.at(1);
    let before = diags.errors().count();
    if let Some(c) = invalid_name_char(name) {
        diags.push(args.error(
            1,
            format!("character '{c}' is not permitted in server name '{name}'."),
        ));
        return None;
    }
    let addr_word = args.at(2);
    let addr = match parse_server_address(addr_word) {
        Ok(a) => {
            if let Host::Fd(_) = a.host {
                diags.push(unsupported(args.span(2), "server sockpair@"));
            }
            Some(a)
        }
        Err(e) => {
            diags.push(args.error(2, format!("'server {name}' : {e}")));
            None
        }
    };
    let mut opts = ServerOptions::default();
    parse_server_options(args, 3, &mut opts, diags);
    // HAProxy loads a server's client certificate only when the server line enables TLS.
    if opts.ssl == Some(true) || opts.check_ssl == Some(true) {
        if let Some(crt) = &opts.crt {
            if let Err(e) = check_certificate(crt) {
                let i = args
                    .words
                    .iter()
                    .rposition(|w| w.text == "crt")
                    .map_or(0, |k| k + 1);
                diags.push(args.error(i, format!("'server {name}' : {e}")));
            }
        }
    }
    if diags.errors().count() > before {
        return None;
    }
    Some(Server {
        name: Spanned::new(name.to_string(), args.span(1)),
        addr: Spanned::new(addr?, args.span(2)),
        span: args.line_span(),
        opts,
    })
}

/// Whether HAProxy could give `server` an address at start-up. It resolves host names
/// then; `init-addr` (from the server or its `default-server`, passed in `effective`)
/// decides what a failure means: with `none` or a literal IP in the list it is at most a
/// warning, otherwise an error. (`ipv4@`/`ipv6@` are not kept for names by the IR, so any
/// family is accepted here.)
pub fn check_server_resolution(server: &Server, effective: &ServerOptions) -> Option<Diagnostic> {
    let Host::Name(host) = &server.addr.host else {
        return None;
    };
    if resolve_host(host, Family::Any).is_some() {
        return None;
    }
    let init_addr = effective
        .init_addr
        .as_deref()
        .filter(|v| !v.is_empty())
        .unwrap_or("last,libc");
    let name = &server.name.node;
    let warn = |what: &str| {
        Some(Diagnostic::warning(
            crate::Dialect::Haproxy,
            server.addr.span,
            format!("'server {name}' : could not resolve address '{host}', {what}."),
        ))
    };
    // Methods are tried in order; `last` needs a server-state file, which rsproxy has not.
    let mut tried_libc = false;
    for m in init_addr.split(',') {
        match m {
            "libc" => tried_libc = true,
            "none" if tried_libc => return warn("disabling server"),
            "none" => return None,
            _ if m.parse::<IpAddr>().is_ok() && tried_libc => {
                return warn("falling back to configured address")
            }
            _ if m.parse::<IpAddr>().is_ok() => return None,
            _ => {}
        }
    }
    Some(Diagnostic::error(
        crate::Dialect::Haproxy,
        server.addr.span,
        format!("'server {name}' : could not resolve address '{host}'."),
    ))
}

/// HAProxy's TLS checks on a server once `default-server` is applied (`effective`):
/// with `ssl` or `check-ssl` on and `verify` not `none`, a `ca-file` is required unless
/// `global` says `ssl-server-verify none` (`global_verify_none`); and a `crt` must load when
/// TLS comes from `default-server` (when the line itself enables TLS, [`parse_server`]
/// already checked it).
pub fn check_server_tls(
    server: &Server,
    effective: &ServerOptions,
    global_verify_none: bool,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let on = |o: &ServerOptions| o.ssl == Some(true) || o.check_ssl == Some(true);
    if !on(effective) {
        return out;
    }
    let name = &server.name.node;
    if !on(&server.opts) {
        if let Some(crt) = &effective.crt {
            if let Err(e) = check_certificate(crt) {
                out.push(Diagnostic::error(
                    crate::Dialect::Haproxy,
                    server.span,
                    format!("'server {name}' : {e}"),
                ));
            }
        }
    }
    let verify = match effective.verify {
        Some(v) => v != Verify::None,
        None => !global_verify_none,
    };
    if verify && effective.ca_file.is_none() {
        out.push(Diagnostic::error(
            crate::Dialect::Haproxy,
            server.span,
            format!(
                "'server {name}' : verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default."
            ),
        ));
    }
    out
}

/// Every server option with its support status, for the README.
pub fn keyword_names() -> Vec<(&'static str, &'static str, Support)> {
    super::optable::keyword_names("server", SERVER_KEYWORDS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::haproxy::bind::test_util::*;
    use crate::haproxy::lexer::Word;

    fn parse(line: &str) -> (Option<Server>, Diagnostics, Vec<Word>) {
        let w = words(line);
        let mut d = Diagnostics::new();
        let s = parse_server(Args::new(FILE, 7, &w), &mut d);
        (s, d, w)
    }

    fn addr(host: Host, port: ServerPort) -> ServerAddress {
        ServerAddress { host, port }
    }

    fn ip(s: &str) -> Host {
        Host::Ip(s.parse().unwrap())
    }

    /// Server addresses `haproxy -c` 2.6.12 accepts (in a `listen` with a bind).
    #[test]
    fn server_addresses_haproxy_accepts() {
        let cases: &[(&str, ServerAddress)] = &[
            ("127.0.0.1", addr(ip("127.0.0.1"), ServerPort::Same)),
            ("127.0.0.1:80", addr(ip("127.0.0.1"), ServerPort::Fixed(80))),
            ("127.0.0.1:0", addr(ip("127.0.0.1"), ServerPort::Same)),
            ("127.0.0.1:", addr(ip("127.0.0.1"), ServerPort::Same)),
            (
                "127.0.0.1:+10",
                addr(ip("127.0.0.1"), ServerPort::Offset(10)),
            ),
            (
                "127.0.0.1:-10",
                addr(ip("127.0.0.1"), ServerPort::Offset(-10)),
            ),
            ("127.0.0.1:+0", addr(ip("127.0.0.1"), ServerPort::Same)),
            (
                "127.0.0.1:+70000",
                addr(ip("127.0.0.1"), ServerPort::Offset(70000)),
            ),
            ("127.0.0.1:+abc", addr(ip("127.0.0.1"), ServerPort::Same)),
            ("127.0.0.1:-a", addr(ip("127.0.0.1"), ServerPort::Same)),
            ("127.0.0.1:8a0", addr(ip("127.0.0.1"), ServerPort::Fixed(8))),
            (
                "ipv4@127.0.0.1:80",
                addr(ip("127.0.0.1"), ServerPort::Fixed(80)),
            ),
            ("ipv6@::1:80", addr(ip("::1"), ServerPort::Fixed(80))),
            ("[::1]:80", addr(ip("::1"), ServerPort::Fixed(80))),
            (":80", addr(Host::Any, ServerPort::Fixed(80))),
            ("*:80", addr(Host::Any, ServerPort::Fixed(80))),
            ("0.0.0.0", addr(ip("0.0.0.0"), ServerPort::Same)),
            (
                "localhost:80",
                addr(Host::Name("localhost".into()), ServerPort::Fixed(80)),
            ),
            (
                "host1:80",
                addr(Host::Name("host1".into()), ServerPort::Fixed(80)),
            ),
            // Resolved later: HAProxy fails on it then ("could not resolve address ':'").
            ("::1", addr(Host::Name(":".into()), ServerPort::Fixed(1))),
            (
                "unix@/tmp/x",
                addr(Host::Unix("/tmp/x".into()), ServerPort::Same),
            ),
            (
                "/tmp/x",
                addr(Host::Unix("/tmp/x".into()), ServerPort::Same),
            ),
            ("abns@x", addr(Host::Abns("x".into()), ServerPort::Same)),
        ];
        for (s, want) in cases {
            assert_eq!(parse_server_address(s).as_ref(), Ok(want), "{s}");
        }
    }

    #[test]
    fn server_addresses_haproxy_rejects() {
        let cases: &[(&str, &str)] = &[
            ("127.0.0.1:65536", "invalid port '65536'"),
            ("127.0.0.1:99999a", "invalid port '99999a'"),
            (
                "127.0.0.1:80-90",
                "port range not permitted here in '127.0.0.1:80-90'",
            ),
            (
                "127.0.0.1:abc",
                "invalid character 'a' in port number 'abc' in '127.0.0.1:abc'",
            ),
            (
                "127.0.0.1:a80",
                "invalid character 'a' in port number 'a80' in '127.0.0.1:a80'",
            ),
            ("fd@3", "a file descriptor is not acceptable here in 'fd@3'"),
            (
                "udp@1.2.3.4:80",
                "dgram-type address not acceptable in 'udp@1.2.3.4:80'",
            ),
        ];
        for (s, want) in cases {
            assert_eq!(parse_server_address(s), Err(want.to_string()), "{s}");
        }
    }

    /// Whole lines: (line, expected error as (word index, message substring)); `None` means
    /// valid. Each verdict checked with `haproxy -c` 2.6.12 in a `listen` with a bind.
    #[test]
    fn server_lines_follow_haproxy_verdicts() {
        let (full, _, junk) = pem_files();
        let cases: Vec<(String, Option<(usize, &str)>)> = vec![
            ("server".into(), Some((1, "'server' expects <name> and <addr>[:<port>] as arguments."))),
            ("server s1".into(), Some((2, "'server' expects <name> and <addr>[:<port>] as arguments."))),
            ("server web1 host1:80 check inter 3s rise 1 fall 2".into(), None),
            ("server web1 10.230.150.68:80 check cookie web1".into(), None),
            ("server s/1 127.0.0.1:80".into(), Some((1, "character '/' is not permitted in server name 's/1'."))),
            ("server s@1 127.0.0.1:80".into(), Some((1, "character '@' is not permitted in server name 's@1'."))),
            ("server 1 127.0.0.1:80".into(), None),
            ("server s:1.-_ 127.0.0.1:80".into(), None),
            ("server s1 127.0.0.1:65536".into(), Some((2, "'server s1' : invalid port '65536'"))),
            ("server s1 sockpair@3".into(), Some((2, "not supported"))),
            ("server s1 127.0.0.1:80 inter 0".into(), Some((4, "invalid value 0 for argument 'inter' of server s1."))),
            ("server s1 127.0.0.1:80 fastinter 0".into(), Some((4, "invalid value 0 for argument 'fastinter'"))),
            ("server s1 127.0.0.1:80 downinter 0".into(), Some((4, "invalid value 0 for argument 'downinter'"))),
            ("server s1 127.0.0.1:80 inter".into(), Some((3, "'inter' expects a delay as argument."))),
            ("server s1 127.0.0.1:80 inter abc".into(), Some((4, "unexpected character 'a' in 'inter' argument of server s1."))),
            ("server s1 127.0.0.1:80 inter 5x".into(), Some((4, "unexpected character 'x'"))),
            ("server s1 127.0.0.1:80 inter 30d".into(), Some((4, "timer overflow in argument <30d> to <inter> of server s1"))),
            ("server s1 127.0.0.1:80 inter 500us".into(), None),
            ("server s1 127.0.0.1:80 rise 0".into(), Some((4, "'rise' has to be > 0."))),
            ("server s1 127.0.0.1:80 rise -1".into(), Some((4, "'rise' has to be > 0."))),
            ("server s1 127.0.0.1:80 rise abc".into(), Some((4, "'rise' has to be > 0."))),
            ("server s1 127.0.0.1:80 rise".into(), Some((3, "'rise' expects an integer argument."))),
            ("server s1 127.0.0.1:80 fall 0".into(), Some((4, "'fall' has to be > 0."))),
            ("server s1 127.0.0.1:80 fall 99999999999".into(), None),
            ("server s1 127.0.0.1:80 weight 256".into(), None),
            ("server s1 127.0.0.1:80 weight 0".into(), None),
            ("server s1 127.0.0.1:80 weight abc".into(), None),
            ("server s1 127.0.0.1:80 weight".into(), None),
            ("server s1 127.0.0.1:80 weight check".into(), None),
            ("server s1 127.0.0.1:80 weight 257".into(), Some((4, "weight of server s1 is not within 0 and 256 (257)."))),
            ("server s1 127.0.0.1:80 weight -1".into(), Some((4, "is not within 0 and 256 (-1)."))),
            ("server s1 127.0.0.1:80 port 0".into(), None),
            ("server s1 127.0.0.1:80 port 65536".into(), None),
            ("server s1 127.0.0.1:80 port abc".into(), None),
            ("server s1 127.0.0.1:80 port".into(), Some((3, "'port' expects a port number as argument."))),
            ("server s1 127.0.0.1:80 addr 1.2.3.4".into(), None),
            ("server s1 127.0.0.1:80 addr 1.2.3.4:80".into(), None),
            ("server s1 127.0.0.1:80 addr localhost".into(), None),
            ("server s1 127.0.0.1:80 addr nosuch.invalid".into(), Some((4, "'addr' : invalid address: 'nosuch.invalid' in 'nosuch.invalid'."))),
            ("server s1 127.0.0.1:80 addr".into(), Some((3, "'addr' expects <ipv4|ipv6> as argument."))),
            ("server s1 127.0.0.1:80 cookie".into(), Some((3, "'cookie' expects <value> as argument."))),
            ("server s1 127.0.0.1:80 cookie a b".into(), Some((5, "'server s1' : unknown keyword 'b'."))),
            ("server s1 127.0.0.1:80 maxconn".into(), None),
            ("server s1 127.0.0.1:80 maxconn abc minconn -1 maxqueue -1".into(), None),
            ("server s1 127.0.0.1:80 verify bogus".into(), Some((4, "'verify' : unknown verify method 'bogus', only 'none' and 'required' are supported."))),
            ("server s1 127.0.0.1:80 verify optional".into(), Some((4, "only 'none' and 'required'"))),
            ("server s1 127.0.0.1:80 verify required".into(), None),
            ("server s1 127.0.0.1:80 ca-file /nonexist".into(), Some((4, "Couldn't open the ca-file '/nonexist' (No such file or directory)."))),
            (format!("server s1 127.0.0.1:80 ca-file {junk}"), Some((4, "(no certificate or crl found)."))),
            ("server s1 127.0.0.1:80 sni".into(), Some((3, "'sni' : missing sni expression."))),
            ("server s1 127.0.0.1:80 sni req.hdr(host)".into(), None),
            ("server s1 127.0.0.1:80 alpn".into(), Some((3, "'alpn' : missing the comma-delimited ALPN protocol suite."))),
            ("server s1 127.0.0.1:80 check-sni".into(), Some((3, "'check-sni' : missing SNI."))),
            ("server s1 127.0.0.1:80 slowstart".into(), Some((3, "unexpected character"))),
            ("server s1 127.0.0.1:80 slowstart 0".into(), None),
            ("server s1 127.0.0.1:80 slowstart abc".into(), Some((4, "unexpected character 'a' in 'slowstart' argument of server s1."))),
            ("server s1 127.0.0.1:80 observe".into(), Some((3, "'observe' expects <mode> as argument."))),
            ("server s1 127.0.0.1:80 observe foo".into(), Some((4, "'observe' expects one of 'none', 'layer4', 'layer7' but got 'foo'."))),
            ("server s1 127.0.0.1:80 observe layer7 on-error mark-down error-limit 5".into(), None),
            ("server s1 127.0.0.1:80 on-error foo".into(), Some((4, "but got 'foo'."))),
            ("server s1 127.0.0.1:80 on-error".into(), Some((4, "but got ''."))),
            ("server s1 127.0.0.1:80 error-limit 0".into(), Some((4, "error-limit has to be > 0."))),
            ("server s1 127.0.0.1:80 error-limit".into(), Some((3, "'error-limit' expects an integer argument."))),
            ("server s1 127.0.0.1:80 init-addr".into(), None),
            ("server s1 127.0.0.1:80 init-addr none,libc".into(), None),
            ("server s1 127.0.0.1:80 init-addr 1.2.3.4".into(), None),
            ("server s1 127.0.0.1:80 init-addr foo".into(), Some((4, "'init-addr' : unknown init-addr method 'foo', supported methods are 'libc', 'last', 'none'."))),
            ("server s1 127.0.0.1:80 resolvers foo".into(), Some((3, "'server resolvers' is recognised but not supported"))),
            ("server s1 127.0.0.1:80 id 3".into(), None),
            ("server s1 127.0.0.1:80 id 0".into(), Some((4, "'id' : custom id has to be > 0."))),
            ("server s1 127.0.0.1:80 id abc".into(), Some((4, "'id' : custom id has to be > 0."))),
            ("server s1 127.0.0.1:80 id 2147483648".into(), Some((4, "'id' : custom id has to be > 0."))),
            ("server s1 127.0.0.1:80 id".into(), Some((3, "'id' : expects an integer argument."))),
            ("server s1 127.0.0.1:80 track".into(), Some((3, "'track' expects [<proxy>/]<server> as argument."))),
            ("server s1 127.0.0.1:80 foo".into(), Some((3, "'server s1' : unknown keyword 'foo'"))),
            ("server s1 127.0.0.1:80 chekc".into(), Some((3, "unknown keyword 'chekc'; did you mean 'check' maybe ?"))),
            ("server s1 127.0.0.1:80 ssl-min-ver TLSv1.4".into(), Some((4, "'TLSv1.4' : unknown ssl/tls version."))),
            ("server s1 127.0.0.1:80 ssl-min-ver".into(), Some((3, "'ssl-min-ver' : missing the ssl/tls version."))),
            ("server s1 127.0.0.1:80 ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.2".into(), None),
            // The client certificate is loaded only when TLS is on.
            ("server s1 127.0.0.1:80 crt /nonexistent".into(), None),
            ("server s1 127.0.0.1:80 ssl verify none crt /nonexistent".into(), Some((7, "unable to stat SSL certificate from file '/nonexistent' : No such file or directory."))),
            (format!("server s1 127.0.0.1:80 ssl verify none crt {junk}"), Some((7, "unable to load certificate from file"))),
            (format!("server s1 127.0.0.1:80 ssl verify none crt {full}"), None),
            ("server s1 127.0.0.1:80 crt".into(), Some((3, "'crt' : missing certificate file path."))),
            ("server s1 127.0.0.1:80 proto h2".into(), None),
            ("server s1 127.0.0.1:80 proto".into(), Some((3, "'proto' : missing value."))),
            ("server s1 127.0.0.1:80 proto foo".into(), Some((4, "unknown MUX protocol 'foo'."))),
            ("server s1 127.0.0.1:80 proto none".into(), Some((4, "MUX protocol 'none' is not usable for server 's1'."))),
            ("server s1 127.0.0.1:80 pool-max-conn -1".into(), None),
            ("server s1 127.0.0.1:80 pool-max-conn abc".into(), None),
            ("server s1 127.0.0.1:80 pool-max-conn -2".into(), Some((4, "'pool-max-conn' must be >= -1."))),
            ("server s1 127.0.0.1:80 pool-max-conn".into(), Some((3, "'pool-max-conn' expects <value> as argument."))),
            ("server s1 127.0.0.1:80 pool-purge-delay 0".into(), None),
            ("server s1 127.0.0.1:80 pool-purge-delay abc".into(), Some((4, "unexpected character 'a' in argument to <pool-purge-delay>."))),
            ("server s1 127.0.0.1:80 ciphers".into(), Some((3, "'ciphers' : missing cipher suite."))),
            ("server s1 127.0.0.1:80 tfo backup no-backup disabled enabled check no-check send-proxy".into(), None),
            ("server s1 127.0.0.1:80 agent-check agent-port 80".into(), Some((3, "not supported"))),
            ("server s1 127.0.0.1:80 npn http/1.1".into(), Some((3, "not supported"))),
        ];
        for (line, want) in cases {
            let (s, d, w) = parse(&line);
            match want {
                None => {
                    assert!(
                        !d.has_errors(),
                        "{line}: {:?}",
                        d.iter().collect::<Vec<_>>()
                    );
                    assert!(s.is_some(), "{line}");
                }
                Some((i, msg)) => {
                    let (at, got) =
                        first_error(&d, &w).unwrap_or_else(|| panic!("{line}: no error"));
                    assert!(got.contains(msg), "{line}: got {got:?}, want {msg:?}");
                    if at != usize::MAX || i < w.len() {
                        assert_eq!(at, i, "{line}: error at word {at}, want {i} ({got})");
                    }
                    assert!(s.is_none(), "{line}");
                }
            }
        }
    }

    #[test]
    fn server_options_land_in_the_ir() {
        let (s, d, _) = parse(
            "server web1 10.0.0.1:8080 check inter 3s fastinter 1s rise 1 fall 2 weight 50 backup cookie w1 \
             maxconn 100 ssl verify none sni str(x) alpn h2,http/1.1 send-proxy-v2 slowstart 10s id 4 \
             init-addr none track b/s2 force-tlsv12 pool-max-conn -1 port 9000 addr 10.0.0.2",
        );
        assert!(!d.has_errors(), "{:?}", d.iter().collect::<Vec<_>>());
        let s = s.unwrap();
        assert_eq!(s.name.node, "web1");
        assert_eq!(s.addr.node, addr(ip("10.0.0.1"), ServerPort::Fixed(8080)));
        let o = s.opts;
        assert_eq!(o.check, Some(true));
        assert_eq!(o.inter, Some(Duration::from_secs(3)));
        assert_eq!(o.fastinter, Some(Duration::from_secs(1)));
        assert_eq!((o.rise, o.fall, o.weight), (Some(1), Some(2), Some(50)));
        assert_eq!(o.backup, Some(true));
        assert_eq!(o.cookie.as_deref(), Some("w1"));
        assert_eq!(
            (o.maxconn, o.ssl, o.verify),
            (Some(100), Some(true), Some(Verify::None))
        );
        assert_eq!(o.alpn, Some(vec!["h2".to_string(), "http/1.1".to_string()]));
        assert_eq!((o.send_proxy_v2, o.id), (Some(true), Some(4)));
        assert_eq!(o.slowstart, Some(Duration::from_secs(10)));
        assert_eq!(o.track.as_deref(), Some("b/s2"));
        assert_eq!(o.ssl_min_ver, o.ssl_max_ver);
        assert_eq!((o.pool_max_conn, o.port), (Some(-1), Some(9000)));
        assert_eq!(o.addr, Some("10.0.0.2".parse().unwrap()));
    }

    /// `default-server`: no name or address; `id` and `no-tlsv*` draw an alert from
    /// HAProxy but the configuration stays valid (exit 0), so they are warnings here.
    #[test]
    fn default_server_lines() {
        let run = |line: &str| {
            let w = words(line);
            let mut d = Diagnostics::new();
            let mut o = ServerOptions::default();
            parse_server_options(Args::new(FILE, 7, &w), 1, &mut o, &mut d);
            (o, d, w)
        };
        let (o, d, _) = run("default-server check inter 3s init-addr none");
        assert!(d.is_empty());
        assert_eq!(
            (o.check, o.init_addr.as_deref()),
            (Some(true), Some("none"))
        );

        for line in [
            "default-server id 3 check",
            "default-server no-tlsv10 check",
            "default-server id",
        ] {
            let (o, d, _) = run(line);
            assert!(!d.has_errors(), "{line}");
            assert!(d.iter().any(|x| x
                .message
                .contains("option is not accepted in default-server sections")));
            assert_eq!(o.id, None);
        }
        let (_, d, w) = run("default-server id 3 chekc");
        assert_eq!(
            first_error(&d, &w),
            Some((3, "unknown keyword 'chekc'; did you mean 'check' maybe ? Hint: no address was expected for this server.".into()))
        );
        let (_, d, w) = run("default-server 1.2.3.4:80");
        assert_eq!(first_error(&d, &w).map(|e| e.0), Some(1));
        let (_, d, w) = run("default-server inter x");
        assert_eq!(
            first_error(&d, &w),
            Some((
                2,
                "unexpected character 'x' in 'inter' argument of server default-server.".into()
            ))
        );
    }

    #[test]
    fn unresolvable_names_depend_on_init_addr() {
        let (s, _, _) = parse("server s1 nosuch.invalid:80");
        let s = s.unwrap();
        let with = |v: Option<&str>| ServerOptions {
            init_addr: v.map(str::to_string),
            ..Default::default()
        };
        let err = check_server_resolution(&s, &with(None)).unwrap();
        assert_eq!(err.severity, crate::Severity::Error);
        assert_eq!(
            err.message,
            "'server s1' : could not resolve address 'nosuch.invalid'."
        );
        assert!(
            check_server_resolution(&s, &with(Some("last,libc")))
                .unwrap()
                .severity
                == crate::Severity::Error
        );
        assert!(check_server_resolution(&s, &with(Some("none"))).is_none());
        assert!(check_server_resolution(&s, &with(Some("none,libc"))).is_none());
        assert!(check_server_resolution(&s, &with(Some("1.2.3.4"))).is_none());
        let w = check_server_resolution(&s, &with(Some("last,libc,none"))).unwrap();
        assert_eq!(w.severity, crate::Severity::Warning);
        assert!(w.message.ends_with("disabling server."));
        let w = check_server_resolution(&s, &with(Some("libc,1.2.3.4"))).unwrap();
        assert!(w.message.ends_with("falling back to configured address."));

        let (s, _, _) = parse("server s1 localhost:80");
        assert!(check_server_resolution(&s.unwrap(), &with(None)).is_none());
        let (s, _, _) = parse("server s1 ::1");
        assert!(check_server_resolution(&s.unwrap(), &with(None))
            .unwrap()
            .message
            .contains("address ':'"));
    }

    #[test]
    fn tls_to_servers_needs_a_ca_file_unless_verify_none() {
        let (s, _, _) = parse("server s1 127.0.0.1:443 ssl");
        let s = s.unwrap();
        let e = check_server_tls(&s, &s.opts, false).pop().unwrap();
        assert!(e
            .message
            .contains("verify is enabled by default but no CA file specified."));
        assert!(check_server_tls(&s, &s.opts, true).is_empty());
        let o = ServerOptions {
            verify: Some(Verify::None),
            ..s.opts.clone()
        };
        assert!(check_server_tls(&s, &o, false).is_empty());
        let o = ServerOptions {
            ca_file: Some("/x".into()),
            ..s.opts.clone()
        };
        assert!(check_server_tls(&s, &o, false).is_empty());
        let o = ServerOptions {
            ssl: None,
            check_ssl: Some(true),
            ..s.opts.clone()
        };
        assert!(!check_server_tls(&s, &o, false).is_empty());
        let (s, _, _) = parse("server s1 127.0.0.1:80");
        let s = s.unwrap();
        assert!(check_server_tls(&s, &s.opts, false).is_empty());
    }

    /// `default-server ssl verify none` + `server s1 127.0.0.1:443 crt /nonexistent`:
    /// HAProxy loads the certificate (TLS is inherited) and fails on line of the server.
    #[test]
    fn inherited_tls_loads_the_servers_certificate() {
        let (s, d, _) = parse("server s1 127.0.0.1:443 crt /nonexistent");
        assert!(!d.has_errors());
        let s = s.unwrap();
        let eff = ServerOptions {
            ssl: Some(true),
            verify: Some(Verify::None),
            ..s.opts.clone()
        };
        let errs = check_server_tls(&s, &eff, false);
        assert_eq!(errs.len(), 1);
        assert!(errs[0]
            .message
            .contains("unable to stat SSL certificate from file '/nonexistent'"));
    }

    #[test]
    fn keyword_table_has_unique_names_and_feeds_the_readme() {
        let mut names: Vec<_> = SERVER_KEYWORDS.iter().map(|k| k.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len(), "duplicate server keyword");
        let list = keyword_names();
        assert!(list.contains(&("server", "check", Support::Yes)));
        assert!(list.contains(&("server", "resolvers", Support::No)));
    }
}
