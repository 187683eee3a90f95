//! `option NAME [args]` / `no option NAME` and `timeout KIND VALUE`: one table each.
//!
//! Each entry says which side of a proxy it acts on ([`Caps`]): HAProxy warns and ignores an
//! option set on a proxy without that side (e.g. `option httpchk` in a frontend), and so do
//! we, with the same warning.

use super::did_you_mean;
use super::kw::{self, Args, Support, TimeUnit};
use crate::ir::haproxy::{OptionArgs, OptionName, TimeoutKind};
use crate::ir::parse_ipnet;
use crate::Diagnostic;

/// The sides of a proxy a keyword acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps(u8);

impl Caps {
    pub const FE: Caps = Caps(1);
    pub const BE: Caps = Caps(2);
    pub const BOTH: Caps = Caps(3);

    pub fn frontend(self) -> bool {
        self.0 & 1 != 0
    }
    pub fn backend(self) -> bool {
        self.0 & 2 != 0
    }
}

type ArgParser = fn(Args) -> Result<OptionArgs, Diagnostic>;

#[derive(Debug)]
pub struct OptionDef {
    pub name: &'static str,
    pub id: OptionName,
    pub caps: Caps,
    pub support: Support,
    parse: ArgParser,
}

const fn opt(name: &'static str, id: OptionName, caps: Caps) -> OptionDef {
    OptionDef {
        name,
        id,
        caps,
        support: Support::Yes,
        parse: no_args,
    }
}

const fn opt_args(name: &'static str, id: OptionName, caps: Caps, parse: ArgParser) -> OptionDef {
    OptionDef {
        name,
        id,
        caps,
        support: Support::Yes,
        parse,
    }
}

const fn opt_no(name: &'static str, id: OptionName, caps: Caps) -> OptionDef {
    OptionDef {
        name,
        id,
        caps,
        support: Support::No,
        parse: check_args,
    }
}

use Caps as C;
use OptionName as O;

/// Every `option` HAProxy 2.6 knows.
pub static OPTIONS: &[OptionDef] = &[
    opt("abortonclose", O::AbortOnClose, C::BE),
    opt("allbackups", O::AllBackups, C::BE),
    opt("checkcache", O::CheckCache, C::BE),
    opt("clitcpka", O::Clitcpka, C::FE),
    opt("contstats", O::ContStats, C::FE),
    opt("dontlog-normal", O::DontLogNormal, C::FE),
    opt("dontlognull", O::DontLogNull, C::FE),
    opt_args("forwardfor", O::Forwardfor, C::BOTH, forwardfor),
    opt("http-buffer-request", O::HttpBufferRequest, C::BOTH),
    opt("http-ignore-probes", O::HttpIgnoreProbes, C::FE),
    opt("http-keep-alive", O::HttpKeepAlive, C::BOTH),
    opt("http-no-delay", O::HttpNoDelay, C::BOTH),
    opt("http-pretend-keepalive", O::HttpPretendKeepalive, C::BOTH),
    opt("http-server-close", O::HttpServerClose, C::BOTH),
    opt_args("httpchk", O::Httpchk, C::BE, httpchk),
    opt("httpclose", O::Httpclose, C::BOTH),
    opt_args("httplog", O::Httplog, C::FE, httplog),
    opt_no(
        "http-restrict-req-hdr-names",
        O::HttpRestrictReqHdrNames,
        C::BOTH,
    ),
    opt("independent-streams", O::IndependentStreams, C::BOTH),
    opt_no("ldap-check", O::LdapCheck, C::BE),
    opt("log-health-checks", O::LogHealthChecks, C::BE),
    opt("log-separate-errors", O::LogSeparateErrors, C::FE),
    opt_no("logasap", O::Logasap, C::FE),
    opt_no("mysql-check", O::MysqlCheck, C::BE),
    opt("nolinger", O::Nolinger, C::BOTH),
    opt_args("originalto", O::Originalto, C::BOTH, originalto),
    opt_no("persist", O::PersistOption, C::BE),
    opt_no("pgsql-check", O::PgsqlCheck, C::BE),
    opt("prefer-last-server", O::PreferLastServer, C::BE),
    opt_args("redispatch", O::Redispatch, C::BE, redispatch),
    opt_no("redis-check", O::RedisCheck, C::BE),
    opt_no("smtpchk", O::SmtpChk, C::BE),
    opt("socket-stats", O::SocketStats, C::FE),
    opt("splice-auto", O::SpliceAuto, C::BOTH),
    opt("splice-request", O::SpliceRequest, C::BOTH),
    opt("splice-response", O::SpliceResponse, C::BOTH),
    opt_no("spop-check", O::SpopCheck, C::BE),
    opt_no("ssl-hello-chk", O::SslHelloChk, C::BE),
    opt_no("tcp-check", O::TcpCheck, C::BE),
    opt("tcp-smart-accept", O::TcpSmartAccept, C::FE),
    opt("tcp-smart-connect", O::TcpSmartConnect, C::BE),
    opt("tcpka", O::Tcpka, C::BOTH),
    opt("srvtcpka", O::Srvtcpka, C::BE),
    opt("tcplog", O::Tcplog, C::FE),
    opt_no("transparent", O::Transparent, C::BE),
    opt(
        "accept-invalid-http-request",
        O::AcceptInvalidHttpRequest,
        C::FE,
    ),
    opt(
        "accept-invalid-http-response",
        O::AcceptInvalidHttpResponse,
        C::BE,
    ),
    opt_no(
        "h1-case-adjust-bogus-client",
        O::H1CaseAdjustBogusClient,
        C::FE,
    ),
    opt_no(
        "h1-case-adjust-bogus-server",
        O::H1CaseAdjustBogusServer,
        C::BE,
    ),
    opt("disable-h2-upgrade", O::DisableH2Upgrade, C::FE),
    opt_no("external-check", O::External, C::BE),
    // Accepted by HAProxy 2.6 and without effect there (a leftover of 1.x).
    opt("http-use-proxy-header", O::HttpUseHtx, C::FE),
];

/// Options HAProxy 2.6 rejects with a pointer to what replaced them.
fn removed_option(name: &str) -> Option<&'static str> {
    Some(match name {
        "forceclose" => "option 'forceclose' is not supported any more since HAProxy 2.0, please just remove it, or use 'option httpclose' if absolutely needed.",
        "http_proxy" => "option 'http_proxy' is not supported any more since HAProxy 2.5. This option stopped working in HAProxy 1.9 and usually had nasty side effects. It can be more reliably implemented with combinations of 'http-request set-dst' and 'http-request set-uri', and even 'http-request do-resolve' if DNS resolution is desired.",
        "http-tunnel" => "option 'http-tunnel' is not supported any more since HAProxy 2.1. Please remove it.",
        _ => return None,
    })
}

/// Options HAProxy 2.6 refuses after `no` (checked one by one against haproxy -c).
const NOT_NEGATABLE: &[&str] = &[
    "forwardfor",
    "httpchk",
    "httplog",
    "http-restrict-req-hdr-names",
    "ldap-check",
    "mysql-check",
    "originalto",
    "pgsql-check",
    "redis-check",
    "smtpchk",
    "spop-check",
    "ssl-hello-chk",
    "tcp-check",
    "tcpka",
    "tcplog",
    "external-check",
];

/// Looks an option up by name: `Ok(def)`, or the error HAProxy gives.
pub fn lookup(name_args: Args, negated: bool) -> Result<&'static OptionDef, Diagnostic> {
    let name = name_args.at(0);
    if let Some(msg) = removed_option(name) {
        return Err(name_args.error(0, msg));
    }
    match OPTIONS.iter().find(|o| o.name == name) {
        Some(o) if negated && NOT_NEGATABLE.contains(&o.name) => Err(name_args.error(
            0,
            format!("negation/default is not supported for option '{name}'."),
        )),
        Some(o) => Ok(o),
        None if negated => Err(name_args.error(
            0,
            format!("negation/default is not supported for option '{name}'."),
        )),
        None => {
            let mut e = name_args.error(0, format!("unknown option '{name}'."));
            if let Some(h) = did_you_mean(name, OPTIONS.iter().map(|o| o.name)) {
                e.message = format!("{}; {h}", e.message);
            }
            Err(e)
        }
    }
}

impl OptionDef {
    /// Parses the arguments after the option's name (word 0 of `args` is the name).
    pub fn parse_args(&self, args: Args) -> Result<OptionArgs, Diagnostic> {
        (self.parse)(args)
    }
}

fn no_args(a: Args) -> Result<OptionArgs, Diagnostic> {
    if a.len() > 1 {
        return Err(a.error(
            1,
            format!(
                "'option {}' cannot handle unexpected argument '{}'.",
                a.at(0),
                a.at(1)
            ),
        ));
    }
    Ok(OptionArgs::None)
}

fn check_args(a: Args) -> Result<OptionArgs, Diagnostic> {
    Ok(OptionArgs::Check {
        args: (1..a.len()).map(|i| a.at(i).to_string()).collect(),
    })
}

/// `forwardfor [except NET] [header NAME] [if-none]`
fn forwardfor(a: Args) -> Result<OptionArgs, Diagnostic> {
    let (mut except, mut header, mut if_none) = (None, None, false);
    let mut i = 1;
    while i < a.len() {
        match a.at(i) {
            "except" => {
                let net = a.get(i + 1).and_then(parse_ipnet).ok_or_else(|| {
                    a.error(i + 1, "'option forwardfor' 'except' requires a network mask.")
                })?;
                except = Some(net);
                i += 2;
            }
            "header" => {
                let h = a.get(i + 1).filter(|h| !h.is_empty()).ok_or_else(|| {
                    a.error(i + 1, "'option forwardfor' 'header' requires a header name.")
                })?;
                header = Some(h.to_string());
                i += 2;
            }
            "if-none" => {
                if_none = true;
                i += 1;
            }
            _ => {
                return Err(a.error(
                    i,
                    "'option forwardfor' only supports optional values: 'except', 'header' and 'if-none'.",
                ))
            }
        }
    }
    Ok(OptionArgs::Forwardfor {
        except,
        header,
        if_none,
    })
}

/// `originalto [except NET] [header NAME]`
fn originalto(a: Args) -> Result<OptionArgs, Diagnostic> {
    let (mut except, mut header) = (None, None);
    let mut i = 1;
    while i < a.len() {
        match a.at(i) {
            "except" => {
                except = Some(a.get(i + 1).and_then(parse_ipnet).ok_or_else(|| {
                    a.error(
                        i + 1,
                        "'option originalto' 'except' requires a network mask.",
                    )
                })?);
                i += 2;
            }
            "header" => {
                header = Some(
                    a.get(i + 1)
                        .ok_or_else(|| {
                            a.error(
                                i + 1,
                                "'option originalto' 'header' requires a header name.",
                            )
                        })?
                        .to_string(),
                );
                i += 2;
            }
            _ => {
                return Err(a.error(
                    i,
                    "'option originalto' only supports optional values: 'except' and 'header'.",
                ))
            }
        }
    }
    Ok(OptionArgs::Originalto { except, header })
}

/// `httpchk [METHOD] [URI] [VERSION]` — one argument is the URI.
fn httpchk(a: Args) -> Result<OptionArgs, Diagnostic> {
    let w = |i: usize| a.get(i).map(str::to_string);
    Ok(match a.len() {
        1 => OptionArgs::Httpchk {
            method: None,
            uri: None,
            version: None,
        },
        2 => OptionArgs::Httpchk {
            method: None,
            uri: w(1),
            version: None,
        },
        3 => OptionArgs::Httpchk {
            method: w(1),
            uri: w(2),
            version: None,
        },
        4 => OptionArgs::Httpchk {
            method: w(1),
            uri: w(2),
            version: w(3),
        },
        _ => return Err(a.error(4, "'option httpchk' expects at most 3 arguments.")),
    })
}

/// `httplog [clf]`
fn httplog(a: Args) -> Result<OptionArgs, Diagnostic> {
    match a.get(1) {
        None => Ok(OptionArgs::Httplog { clf: false }),
        Some("clf") if a.len() == 2 => Ok(OptionArgs::Httplog { clf: true }),
        Some("clf") => Err(a.error(
            2,
            format!(
                "'option httplog' cannot handle unexpected argument '{}'.",
                a.at(2)
            ),
        )),
        Some(_) => Err(a.error(1, "keyword 'httplog' only supports option 'clf'.")),
    }
}

/// `redispatch [INTERVAL]`
fn redispatch(a: Args) -> Result<OptionArgs, Diagnostic> {
    match a.get(1) {
        None => Ok(OptionArgs::Redispatch { interval: None }),
        Some(v) => {
            let n: i32 = v.parse().unwrap_or(0);
            Ok(OptionArgs::Redispatch { interval: Some(n) })
        }
    }
}

/// `timeout KIND VALUE`: which side of the proxy it needs, and its name in messages.
pub static TIMEOUTS: &[(&str, TimeoutKind, Caps)] = &[
    ("client", TimeoutKind::Client, C::FE),
    ("server", TimeoutKind::Server, C::BE),
    ("connect", TimeoutKind::Connect, C::BE),
    ("check", TimeoutKind::Check, C::BE),
    ("queue", TimeoutKind::Queue, C::BE),
    ("http-keep-alive", TimeoutKind::HttpKeepAlive, C::BOTH),
    ("http-request", TimeoutKind::HttpRequest, C::BOTH),
    ("tunnel", TimeoutKind::Tunnel, C::BE),
    ("tarpit", TimeoutKind::Tarpit, C::BOTH),
    ("client-fin", TimeoutKind::ClientFin, C::FE),
    ("server-fin", TimeoutKind::ServerFin, C::BE),
];

/// Parses `timeout KIND VALUE` (word 0 is `timeout`).
pub fn parse_timeout(
    a: Args,
    d: &mut crate::Diagnostics,
) -> Result<(TimeoutKind, Caps, crate::ir::Duration), Diagnostic> {
    let name = a.at(1);
    let Some((_, kind, caps)) = TIMEOUTS.iter().find(|t| t.0 == name) else {
        if name == "appsession" {
            return Err(a.error(
                1,
                "'timeout appsession' is not supported anymore since HAProxy 1.6.",
            ));
        }
        return Err(a.error(
            1,
            format!(
                "'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '{name}')"
            ),
        ));
    };
    let Some(v) = a.get(2) else {
        return Err(a.error(
            2,
            format!("'timeout {name}' expects an integer value (in milliseconds)"),
        ));
    };
    let (value, warning) = kw::parse_duration_lenient(v, TimeUnit::Millis).map_err(|e| {
        if let Some(rest) = e.strip_prefix("unexpected character ") {
            let ch = rest.split(" in ").next().unwrap_or("");
            a.error(2, format!("unexpected character {ch} in 'timeout {name}'"))
        } else {
            a.error(2, format!("'timeout {name}': {e}"))
        }
    })?;
    if a.len() > 3 {
        return Err(a.error(
            3,
            format!(
                "'timeout {name}' cannot handle unexpected argument '{}'.",
                a.at(3)
            ),
        ));
    }
    if let Some(w) = warning {
        d.push(a.warning(2, w));
    }
    Ok((*kind, *caps, value))
}

/// Every option and timeout with its support status, for the README.
pub fn keyword_names() -> Vec<(&'static str, &'static str, Support)> {
    let mut v: Vec<_> = OPTIONS
        .iter()
        .map(|o| ("option", o.name, o.support))
        .collect();
    v.extend(TIMEOUTS.iter().map(|t| ("timeout", t.0, Support::Yes)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::haproxy::lexer::Word;
    use crate::FileId;

    fn words(s: &str) -> Vec<Word> {
        s.split_whitespace()
            .enumerate()
            .map(|(i, w)| Word {
                text: w.into(),
                col: i as u32 + 1,
            })
            .collect()
    }

    #[test]
    fn forwardfor_arguments() {
        let w = words("forwardfor except 127.0.0.0/8 header X-Real-IP if-none");
        let got = lookup(Args::new(FileId(0), 1, &w), false)
            .unwrap()
            .parse_args(Args::new(FileId(0), 1, &w));
        match got {
            Ok(OptionArgs::Forwardfor {
                except: Some(n),
                header: Some(h),
                if_none: true,
            }) => {
                assert_eq!(n.prefix, 8);
                assert_eq!(h, "X-Real-IP");
            }
            other => panic!("{other:?}"),
        }
        let w = words("forwardfor bogus");
        let e = forwardfor(Args::new(FileId(0), 1, &w)).unwrap_err();
        assert_eq!(e.span.col, 2);
    }

    #[test]
    fn timeouts_and_their_errors() {
        let w = words("timeout connect 5s");
        let (k, _, d) =
            parse_timeout(Args::new(FileId(0), 1, &w), &mut crate::Diagnostics::new()).unwrap();
        assert_eq!(k, TimeoutKind::Connect);
        assert_eq!(d.as_millis(), 5000);
        // Checked against haproxy 2.6.12.
        let w = words("timeout connect 5x");
        let e =
            parse_timeout(Args::new(FileId(0), 1, &w), &mut crate::Diagnostics::new()).unwrap_err();
        assert_eq!(e.message, "unexpected character 'x' in 'timeout connect'");
        let w = words("timeout client");
        let e =
            parse_timeout(Args::new(FileId(0), 1, &w), &mut crate::Diagnostics::new()).unwrap_err();
        assert_eq!(
            e.message,
            "'timeout client' expects an integer value (in milliseconds)"
        );
    }

    #[test]
    fn removed_and_unknown_options() {
        let w = words("forceclose");
        assert!(lookup(Args::new(FileId(0), 1, &w), false)
            .unwrap_err()
            .message
            .contains("since HAProxy 2.0"));
        let w = words("bogus");
        assert_eq!(
            lookup(Args::new(FileId(0), 1, &w), false)
                .unwrap_err()
                .message,
            "unknown option 'bogus'."
        );
        assert_eq!(
            lookup(Args::new(FileId(0), 1, &w), true)
                .unwrap_err()
                .message,
            "negation/default is not supported for option 'bogus'."
        );
    }
}
