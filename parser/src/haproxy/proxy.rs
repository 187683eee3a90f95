//! `defaults`, `frontend`, `backend` and `listen` sections: one keyword table.
//!
//! Each entry says which side of a proxy it acts on, whether `defaults` may carry it, and
//! whether rsproxy supports it. The dispatcher ([`parse_line`]) only looks up and applies the
//! same rules HAProxy applies: a keyword for the other side of the proxy is ignored with a
//! warning (except `server`, an error), a keyword defaults cannot carry is an error.

use super::kw::{self, Args, Support, TimeUnit};
use super::options::{self, Caps};
use super::{acl, bind, did_you_mean, errorfile, global, httpcheck, logformat, rules, server};
use crate::ir::haproxy::{
    Acl, AclRef, BackendRef, Balance, Condition, Cookie, CookieMode, ErrorDirective, ErrorFile,
    HashFunction, HashMethod, HashType, HttpReuse, Mode, OptionArgs, OptionSetting, PersistRule,
    Proxy, ProxyKind, UseBackend, UseServer,
};
use crate::{Diagnostics, Span, Spanned};

/// Where a line is being parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Defaults { named: bool },
    Proxy(ProxyKind),
}

type Parse = fn(&mut Proxy, Args, &mut Diagnostics);

struct Keyword {
    name: &'static str,
    caps: Caps,
    /// May appear in a `defaults` section.
    defaults: bool,
    support: Support,
    parse: Parse,
}

const fn kw(name: &'static str, caps: Caps, defaults: bool, parse: Parse) -> Keyword {
    Keyword {
        name,
        caps,
        defaults,
        support: Support::Yes,
        parse,
    }
}

const fn no(name: &'static str, caps: Caps, defaults: bool) -> Keyword {
    Keyword {
        name,
        caps,
        defaults,
        support: Support::No,
        parse: |_, _, _| {},
    }
}

const FE: Caps = Caps::FE;
const BE: Caps = Caps::BE;
const ALL: Caps = Caps::BOTH;

static KEYWORDS: &[Keyword] = &[
    kw("mode", ALL, true, parse_mode),
    kw("bind", FE, false, |p, a, d| {
        if let Some(b) = bind::parse_bind(a, d) {
            p.binds.push(b)
        }
    }),
    kw("server", BE, false, |p, a, d| {
        if let Some(s) = server::parse_server(a, d) {
            p.servers.push(s)
        }
    }),
    kw("default-server", BE, true, |p, a, d| {
        let mut opts = p
            .settings
            .default_server
            .take()
            .map(|s| s.node)
            .unwrap_or_default();
        server::parse_server_options(a, 1, &mut opts, d);
        p.settings.default_server = Some(Spanned::new(opts, a.line_span()));
    }),
    kw("balance", BE, true, parse_balance),
    kw("hash-type", BE, true, parse_hash_type),
    kw("maxconn", FE, true, |p, a, d| {
        p.settings.maxconn = kw::lax_u32(a, 1, d)
    }),
    kw("fullconn", BE, true, |p, a, d| {
        p.settings.fullconn = kw::lax_u32(a, 1, d)
    }),
    kw("backlog", FE, true, |p, a, d| {
        p.settings.backlog = kw::lax_u32(a, 1, d)
    }),
    kw("retries", BE, true, |p, a, d| {
        p.settings.retries = kw::lax_u32(a, 1, d)
    }),
    kw("timeout", ALL, true, |_, _, _| {}),
    kw("option", ALL, true, |_, _, _| {}),
    kw("no", ALL, true, |_, _, _| {}),
    kw("log", ALL, true, |p, a, d| {
        if a.len() == 1 {
            return d.push(a.error(
                0,
                "'log' expects either <address[:port]> and <facility> or 'global' as arguments.",
            ));
        }
        if let Some(t) = global::parse_log(a, d) {
            p.settings.logs.push(t)
        }
    }),
    kw("log-format", FE, true, |p, a, d| {
        if a.len() != 2 {
            return d.push(a.error(
                0,
                "log-format expects only one argument, don't forget to escape spaces!",
            ));
        }
        if let Err(e) = logformat::check(a.at(1)) {
            return d.push(a.error(1, format!("failed to parse log-format : {e}")));
        }
        p.settings.log_format = Some(Spanned::new(a.at(1).to_string(), a.span(1)));
    }),
    kw("log-tag", ALL, true, |p, a, d| match a.get(1) {
        Some(t) => p.settings.log_tag = Some(Spanned::new(t.to_string(), a.span(1))),
        None => d.push(a.error(0, "'log-tag' expects a tag for use in syslog.")),
    }),
    kw("cookie", BE, true, parse_cookie),
    kw("http-check", BE, true, httpcheck::parse),
    kw("errorfile", ALL, true, parse_errorfile),
    kw("errorfiles", ALL, true, parse_errorfiles),
    kw("errorloc", ALL, true, parse_errorloc),
    kw("errorloc302", ALL, true, parse_errorloc),
    kw("errorloc303", ALL, true, parse_errorloc),
    kw("force-persist", BE, false, parse_persist),
    kw("ignore-persist", BE, false, parse_persist),
    kw("http-reuse", BE, true, |p, a, d| {
        let v = match a.at(1) {
            "never" => HttpReuse::Never,
            "safe" => HttpReuse::Safe,
            "aggressive" => HttpReuse::Aggressive,
            "always" => HttpReuse::Always,
            _ => {
                return d.push(a.error(
                    1,
                    "'http-reuse' expects 'never', 'safe', 'aggressive', 'always'",
                ))
            }
        };
        p.settings.http_reuse = Some(Spanned::new(v, a.span(1)));
    }),
    kw("monitor-uri", FE, true, |p, a, d| match a.get(1) {
        Some(u) => p.settings.monitor_uri = Some(Spanned::new(u.to_string(), a.span(1))),
        None => d.push(a.error(0, "'monitor-uri' expects an URI.")),
    }),
    kw("unique-id-format", FE, true, |p, a, d| match a.get(1) {
        Some(u) => p.settings.unique_id_format = Some(Spanned::new(u.to_string(), a.span(1))),
        None => d.push(a.error(0, "'unique-id-format' expects an argument.")),
    }),
    kw("unique-id-header", FE, true, |p, a, d| match a.get(1) {
        Some(u) => p.settings.unique_id_header = Some(Spanned::new(u.to_string(), a.span(1))),
        None => d.push(a.error(0, "'unique-id-header' expects an argument.")),
    }),
    kw("acl", ALL, false, parse_acl),
    kw("use_backend", FE, false, parse_use_backend),
    kw("default_backend", FE, true, |p, a, d| {
        if a.len() != 2 {
            return d.push(a.error(0, format!("'{}' expects a backend name.", a.at(0))));
        }
        p.default_backend = Some(Spanned::new(a.at(1).to_string(), a.span(1)));
    }),
    kw("use-server", BE, false, parse_use_server),
    kw("redirect", ALL, false, parse_redirect),
    kw("http-request", ALL, false, |p, a, d| {
        if let Ok(r) = rules::parse_http_request(a.from(1)).map_err(|e| d.push(e)) {
            check_refs(p, r.cond.as_ref(), a, "http-request", d);
            if !p.redirects.is_empty() {
                d.push(a.warning(0, "a 'http-request' rule placed after a 'redirect' rule will still be processed before."));
            } else if !p.use_backends.is_empty() {
                d.push(a.warning(0, "a 'http-request' rule placed after a 'use_backend' rule will still be processed before."));
            }
            p.http_request.push(r);
        }
    }),
    kw("http-response", ALL, false, |p, a, d| {
        if let Ok(r) = rules::parse_http_response(a.from(1)).map_err(|e| d.push(e)) {
            check_refs(p, r.cond.as_ref(), a, "http-response", d);
            p.http_response.push(r);
        }
    }),
    kw("stats", ALL, true, parse_stats),
    kw("disabled", ALL, true, |p, a, _| {
        p.disabled = Some(a.line_span())
    }),
    kw("enabled", ALL, true, |p, _, _| p.disabled = None),
    kw("description", ALL, false, |p, a, _| {
        let text: Vec<&str> = (1..a.len()).map(|i| a.at(i)).collect();
        p.description = Some(Spanned::new(text.join(" "), a.span(1)));
    }),
    kw("id", ALL, false, |p, a, d| {
        match a.get(1).and_then(kw::parse_uint) {
            Some(n) if n > 0 && n <= i32::MAX as u64 => {
                p.id = Some(Spanned::new(n as u32, a.span(1)))
            }
            _ => d.push(a.error(
                1,
                format!("'id' : custom id has to be > 0 (got '{}')", a.at(1)),
            )),
        }
    }),
    no("stick-table", ALL, false),
    no("stick", BE, false),
    no("tcp-request", ALL, false),
    no("tcp-response", BE, false),
    no("capture", FE, false),
    no("compression", ALL, true),
    no("filter", ALL, false),
    no("http-after-response", ALL, false),
    no("http-error", ALL, true),
    kw("dynamic-cookie-key", BE, true, |p, a, d| match a.get(1) {
        Some(k) => p.settings.dynamic_cookie_key = Some(Spanned::new(k.to_string(), a.span(1))),
        None => d.push(a.error(0, "'dynamic-cookie-key' expects a string as argument.")),
    }),
    no("email-alert", ALL, true),
    no("persist", BE, true),
    no("server-template", BE, false),
    no("server-state-file-name", BE, true),
    no("load-server-state-from-file", BE, true),
    no("source", BE, true),
    no("tcp-check", BE, true),
    no("rate-limit", FE, true),
    no("max-keep-alive-queue", BE, true),
    no("external-check", BE, true),
    no("declare", FE, false),
    no("bind-process", ALL, true),
    no("dispatch", BE, false),
    no("monitor", FE, false),
    no("monitor-net", FE, true),
    no("http-send-name-header", BE, true),
    no("use-fcgi-app", BE, false),
    no("log-format-sd", FE, true),
    no("error-log-format", FE, true),
    no("retry-on", BE, true),
    no("hash-balance-factor", BE, true),
    no("clitcpka-cnt", FE, true),
    no("clitcpka-idle", FE, true),
    no("clitcpka-intvl", FE, true),
    no("srvtcpka-cnt", BE, true),
    no("srvtcpka-idle", BE, true),
    no("srvtcpka-intvl", BE, true),
    no("grace", ALL, true),
    no("guid", ALL, false),
    no("log-steps", ALL, true),
    no("http-request-timeout", ALL, true),
];

/// Keywords HAProxy 2.6 rejects with a pointer to what replaced them.
fn removed_keyword(name: &str) -> Option<String> {
    let new = match name {
        "contimeout" => "timeout connect",
        "clitimeout" => "timeout client",
        "srvtimeout" => "timeout server",
        "redispatch" => {
            return Some("keyword 'redispatch' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'.".into())
        }
        "reqadd" | "reqdel" | "reqrep" | "reqirep" | "reqdeny" | "reqideny" | "reqallow" | "reqiallow"
        | "reqpass" | "reqipass" | "reqtarpit" | "reqitarpit" | "reqsetbe" | "reqisetbe" | "reqidel" => {
            return Some(format!(
                "The '{name}' directive is not supported anymore since HAProxy 2.1. Use 'http-request' instead."
            ))
        }
        "rspadd" | "rspdel" | "rsprep" | "rspirep" | "rspdeny" | "rspideny" | "rspidel" => {
            return Some(format!(
                "The '{name}' directive is not supported anymore since HAProxy 2.1. Use 'http-response' instead."
            ))
        }
        "block" => {
            return Some("The 'block' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' which uses the exact same syntax.".into())
        }
        "appsession" => {
            return Some("'appsession' is not supported anymore since HAProxy 1.6.".into())
        }
        _ => return None,
    };
    Some(format!(
        "the '{name}' directive is not supported anymore since HAProxy 2.1. Use '{new}'."
    ))
}

fn section_name(ctx: Context) -> &'static str {
    match ctx {
        Context::Defaults { .. } => "defaults",
        Context::Proxy(k) => k.keyword(),
    }
}

/// Parses one line of a proxy or defaults section into `p`.
pub fn parse_line(p: &mut Proxy, ctx: Context, args: Args, diags: &mut Diagnostics) {
    let name = args.at(0);
    let Some(k) = KEYWORDS.iter().find(|k| k.name == name) else {
        let msg = removed_keyword(name).unwrap_or_else(|| {
            let mut m = format!(
                "unknown keyword '{name}' in '{}' section",
                section_name(ctx)
            );
            if let Some(h) = did_you_mean(name, KEYWORDS.iter().map(|k| k.name)) {
                m = format!("{m}; {h}");
            }
            m
        });
        return diags.push(args.error(0, msg));
    };
    match ctx {
        Context::Defaults { named } if !k.defaults => {
            let anonymous = if !named && matches!(name, "acl" | "http-request" | "http-response") {
                "anonymous "
            } else {
                ""
            };
            if !anonymous.is_empty() || !matches!(name, "acl" | "http-request" | "http-response") {
                return diags.push(args.error(
                    0,
                    format!("'{name}' not allowed in {anonymous}'defaults' section."),
                ));
            }
            // Rules in named defaults sections are inherited by HAProxy 2.6; not by rsproxy yet.
            return diags.push(kw::unsupported(
                args.span(0),
                &format!("{name}' in a named 'defaults"),
            ));
        }
        Context::Proxy(kind) => {
            let fe_ok = kind.has_frontend() && k.caps.frontend();
            let be_ok = kind.has_backend() && k.caps.backend();
            if !fe_ok && !be_ok {
                let missing = if k.caps.backend() {
                    "backend"
                } else {
                    "frontend"
                };
                let pname = &p.name.node;
                if name == "server" {
                    return diags.push(args.error(
                        0,
                        format!("'server' not allowed because {} '{pname}' has no {missing} capability.", kind.keyword()),
                    ));
                }
                diags.push(args.warning(
                    0,
                    format!(
                        "'{name}' ignored because {} '{pname}' has no {missing} capability.",
                        kind.keyword()
                    ),
                ));
                // HAProxy still resolves the backend these name (and fails on a missing
                // one); the runtime never reads switching rules of a proxy without a frontend.
                if matches!(name, "use_backend" | "default_backend") {
                    (k.parse)(p, args, diags);
                }
                return;
            }
        }
        _ => {}
    }
    if k.support == Support::No {
        return diags.push(kw::unsupported(args.span(0), name));
    }
    match name {
        "timeout" => parse_timeout_line(p, ctx, args, diags),
        "option" => parse_option_line(p, ctx, args, 1, true, diags),
        "no" => match args.at(1) {
            "option" => parse_option_line(p, ctx, args, 2, false, diags),
            "log" => {
                p.settings.no_log = Some(args.line_span());
                p.settings.logs.clear();
            }
            other => diags.push(args.error(
                1,
                format!("'no' only supports 'option' and 'log', not '{other}'."),
            )),
        },
        _ => (k.parse)(p, args, diags),
    }
}

fn parse_timeout_line(p: &mut Proxy, ctx: Context, a: Args, d: &mut Diagnostics) {
    match options::parse_timeout(a, d) {
        Ok((kind, caps, value)) => {
            if let Context::Proxy(pk) = ctx {
                if !(pk.has_frontend() && caps.frontend() || pk.has_backend() && caps.backend()) {
                    let missing = if caps.frontend() {
                        "frontend"
                    } else {
                        "backend"
                    };
                    d.push(a.warning(
                        0,
                        format!(
                            "'timeout {}' will be ignored because {} '{}' has no {missing} capability",
                            a.at(1),
                            pk.keyword(),
                            p.name.node
                        ),
                    ));
                    return;
                }
            }
            p.settings
                .timeouts
                .insert(kind, Spanned::new(value, a.span(2)));
        }
        Err(e) => d.push(e),
    }
}

/// `option NAME ...` (`at` = 1) or `no option NAME` (`at` = 2).
fn parse_option_line(
    p: &mut Proxy,
    ctx: Context,
    a: Args,
    at: usize,
    enabled: bool,
    d: &mut Diagnostics,
) {
    if a.get(at).is_none() {
        return d.push(a.error(at - 1, "'option' expects an option name."));
    }
    let oa = a.from(at);
    let def = match options::lookup(oa, !enabled) {
        Ok(o) => o,
        Err(e) => return d.push(e),
    };
    if let Context::Proxy(pk) = ctx {
        let ok = pk.has_frontend() && def.caps.frontend() || pk.has_backend() && def.caps.backend();
        if !ok {
            let msg = if def.name == "httplog" && pk == ProxyKind::Backend {
                format!(
                    "backend '{}' : 'option httplog' directive is ignored in backends.",
                    p.name.node
                )
            } else {
                let missing = if def.caps.backend() {
                    "backend"
                } else {
                    "frontend"
                };
                format!(
                    "'{}' ignored because {} '{}' has no {missing} capability.",
                    def.name,
                    pk.keyword(),
                    p.name.node
                )
            };
            return d.push(a.warning(0, msg));
        }
    }
    if def.support == Support::No {
        return d.push(kw::unsupported(a.span(at), &format!("option {}", def.name)));
    }
    let args = if enabled {
        match def.parse_args(oa) {
            Ok(x) => x,
            Err(e) => return d.push(e),
        }
    } else {
        if oa.len() > 1 {
            return d.push(a.error(
                at + 1,
                format!(
                    "'no option {}' cannot handle unexpected argument '{}'.",
                    def.name,
                    oa.at(1)
                ),
            ));
        }
        Default::default()
    };
    // The three connection modes exclude each other: the last one set wins.
    use crate::ir::haproxy::OptionName as O;
    if enabled && matches!(def.id, O::HttpKeepAlive | O::HttpServerClose | O::Httpclose) {
        for other in [O::HttpKeepAlive, O::HttpServerClose, O::Httpclose] {
            if other != def.id {
                p.settings.options.remove(&other);
            }
        }
    }
    if def.id == O::Httpchk {
        httpcheck::own_rules(p);
        if let OptionArgs::Httpchk {
            version: Some(v), ..
        } = &args
        {
            if v.contains("\r\n") {
                d.push(a.warning(0, "'option httpchk' : hiding headers or body at the end of the version string is deprecated. Please, consider to use 'http-check send' directive instead."));
            }
        }
    }
    p.settings.options.insert(
        def.id,
        Spanned::new(OptionSetting { enabled, args }, a.span(at)),
    );
}

fn parse_mode(p: &mut Proxy, a: Args, d: &mut Diagnostics) {
    let m = match a.at(1) {
        "http" => Mode::Http,
        "tcp" => Mode::Tcp,
        "health" => return d.push(a.error(1, "'mode health' doesn't exist anymore. Please use 'http-request return status 200' instead.")),
        other => return d.push(a.error(1, format!("unknown proxy mode '{other}'."))),
    };
    p.settings.mode = Some(Spanned::new(m, a.span(1)));
}

/// `balance ALGO [args]`
fn parse_balance(p: &mut Proxy, a: Args, d: &mut Diagnostics) {
    let algo = a.at(1);
    let err = |d: &mut Diagnostics| {
        d.push(a.error(1, "balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options."))
    };
    let b = match algo {
        "roundrobin" => Balance::RoundRobin,
        "static-rr" => Balance::StaticRr,
        "leastconn" => Balance::LeastConn,
        "first" => Balance::First,
        "source" => Balance::Source,
        "random" => {
            let draws = match a.at(2).strip_prefix("random(") {
                _ if a.len() == 2 => 2,
                _ => 2,
            };
            Balance::Random { draws }
        }
        "uri" => {
            let (mut len, mut depth, mut whole, mut path_only) = (None, None, false, false);
            let mut i = 2;
            while i < a.len() {
                match a.at(i) {
                    "len" | "depth" => {
                        let Some(n) = a.get(i + 1).and_then(kw::parse_uint) else {
                            return d.push(a.error(i, format!("'balance uri {}' expects a positive integer (got '{}').", a.at(i), a.at(i + 1))));
                        };
                        if a.at(i) == "len" {
                            len = Some(n as u32)
                        } else {
                            depth = Some(n as u32)
                        }
                        i += 2;
                    }
                    "whole" => {
                        whole = true;
                        i += 1;
                    }
                    "path-only" => {
                        path_only = true;
                        i += 1;
                    }
                    other => {
                        return d.push(a.error(i, format!("'balance uri' only accepts parameters 'len', 'depth', 'path-only' and 'whole' (got '{other}').")))
                    }
                }
            }
            Balance::Uri {
                len,
                depth,
                whole,
                path_only,
            }
        }
        "url_param" => {
            let Some(param) = a.get(2) else {
                return d.push(a.error(1, "'balance url_param' requires an URL parameter name."));
            };
            let check_post = if a.at(3) == "check_post" {
                a.get(4)
                    .and_then(kw::parse_uint)
                    .map(|n| n as u32)
                    .or(Some(0))
            } else {
                None
            };
            Balance::UrlParam {
                param: param.to_string(),
                check_post,
            }
        }
        _ if algo.starts_with("hdr(") => {
            let Some(name) = algo
                .strip_prefix("hdr(")
                .and_then(|r| r.strip_suffix(')'))
                .filter(|n| !n.is_empty())
            else {
                return d.push(a.error(1, "hdr requires an http header field name."));
            };
            let use_domain_only = a.at(2) == "use_domain_only";
            Balance::Hdr {
                name: name.to_string(),
                use_domain_only,
            }
        }
        _ if algo == "rdp-cookie" || algo.starts_with("rdp-cookie(") => {
            let name = algo
                .strip_prefix("rdp-cookie(")
                .and_then(|r| r.strip_suffix(')'))
                .map(str::to_string);
            let _ = name;
            return d.push(kw::unsupported(a.span(1), "balance rdp-cookie"));
        }
        _ if algo.starts_with("random(") => {
            let n = algo
                .strip_prefix("random(")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(kw::parse_uint);
            match n {
                Some(n) if n >= 1 => Balance::Random { draws: n as u32 },
                _ => {
                    return d
                        .push(a.error(1, "'balance random' expects a positive number of draws."))
                }
            }
        }
        _ => return err(d),
    };
    p.settings.balance = Some(Spanned::new(b, a.span(1)));
}

/// `hash-type map-based|consistent [sdbm|djb2|wt6|crc32] [avalanche]`
fn parse_hash_type(p: &mut Proxy, a: Args, d: &mut Diagnostics) {
    let method = match a.at(1) {
        "map-based" => HashMethod::MapBased,
        "consistent" => HashMethod::Consistent,
        "avalanche" => return d.push(a.error(1, "'hash-type avalanche' is not supported anymore. Use 'hash-type map-based avalanche' instead.")),
        _ => return d.push(a.error(1, "'hash-type' expects 'map-based' or 'consistent'.")),
    };
    // `hash-type METHOD [FUNCTION [avalanche]]`. Without a function, HAProxy uses sdbm, and
    // for `consistent` applies avalanche too (checked against its choices).
    let (function, avalanche) =
        match a.get(2) {
            None => (HashFunction::Sdbm, method == HashMethod::Consistent),
            Some(f) => {
                let function = match f {
                "sdbm" => HashFunction::Sdbm,
                "djb2" => HashFunction::Djb2,
                "wt6" => HashFunction::Wt6,
                "crc32" => HashFunction::Crc32,
                _ => return d.push(a.error(
                    2,
                    "'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions.",
                )),
            };
                match a.get(3) {
                    None => (function, false),
                    Some("avalanche") => (function, true),
                    Some(_) => return d.push(a.error(
                        3,
                        "'hash-type' only supports 'avalanche' as a modifier for hash functions.",
                    )),
                }
            }
        };
    p.settings.hash_type = Some(Spanned::new(
        HashType {
            method,
            function,
            avalanche,
        },
        a.span(1),
    ));
}

/// `cookie NAME [rewrite|insert|prefix] [indirect] [nocache] [postonly] [preserve] [httponly]
/// [secure] [domain D]* [maxidle T] [maxlife T] [dynamic] [attr A]*`
fn parse_cookie(p: &mut Proxy, a: Args, d: &mut Diagnostics) {
    let Some(name) = a.get(1) else {
        return d.push(a.error(0, "'cookie' expects <cookie_name> as argument."));
    };
    let mut c = Cookie {
        name: name.to_string(),
        mode: CookieMode::Rewrite,
        indirect: false,
        nocache: false,
        postonly: false,
        preserve: false,
        httponly: false,
        secure: false,
        domains: Vec::new(),
        maxidle: None,
        maxlife: None,
        dynamic: false,
        attrs: Vec::new(),
    };
    let mut modes = 0;
    let mut i = 2;
    while i < a.len() {
        match a.at(i) {
            "rewrite" => {
                c.mode = CookieMode::Rewrite;
                modes += 1
            }
            "insert" => {
                c.mode = CookieMode::Insert;
                modes += 1
            }
            "prefix" => {
                c.mode = CookieMode::Prefix;
                modes += 1
            }
            "indirect" => c.indirect = true,
            "nocache" => c.nocache = true,
            "postonly" => c.postonly = true,
            "preserve" => c.preserve = true,
            "httponly" => c.httponly = true,
            "secure" => c.secure = true,
            "dynamic" => c.dynamic = true,
            "domain" => {
                let Some(dom) = a.get(i + 1) else {
                    return d.push(a.error(i, "'cookie' : 'domain' expects <domain> as argument."));
                };
                c.domains.push(dom.to_string());
                i += 1;
            }
            "attr" => {
                let Some(at) = a.get(i + 1) else {
                    return d.push(a.error(i, "'cookie' : 'attr' expects <value> as argument."));
                };
                c.attrs.push(at.to_string());
                i += 1;
            }
            "maxidle" | "maxlife" => {
                let t = match a.duration(i + 1, &format!("cookie {}", a.at(i)), TimeUnit::Seconds) {
                    Ok(t) => t,
                    Err(e) => return d.push(e),
                };
                if a.at(i) == "maxidle" {
                    c.maxidle = Some(t)
                } else {
                    c.maxlife = Some(t)
                }
                i += 1;
            }
            other => {
                return d.push(a.error(
                    i,
                    format!("'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'dynamic', 'attr' and 'maxlife' options (got '{other}')."),
                ))
            }
        }
        i += 1;
    }
    if modes > 1 {
        return d.push(a.error(
            0,
            "'cookie' supports only one of 'rewrite', 'insert' or 'prefix'.",
        ));
    }
    // HAProxy accepts 'nocache' and 'postonly' whatever the mode (they act with insert).
    p.settings.cookie = Some(Spanned::new(c, a.span(1)));
}

/// HTTP status codes `errorfile` may replace.
pub(super) const ERRORFILE_CODES: &[u16] = &[
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
];

/// `errorfile CODE FILE` — HAProxy reads and checks the file at start-up ([`errorfile`]).
fn parse_errorfile(p: &mut Proxy, a: Args, d: &mut Diagnostics) {
    let (Some(code), Some(path)) = (a.get(1), a.get(2)) else {
        return d.push(a.error(
            0,
            "'errorfile' expects <status_code> and <file> as arguments.",
        ));
    };
    let status = code
        .parse::<u16>()
        .ok()
        .filter(|c| ERRORFILE_CODES.contains(c));
    let Some(status) = status else {
        return d.push(a.error(1, format!("status code '{code}' not handled.")));
    };
    let response = match errorfile::load(path) {
        Ok(r) => r,
        Err(m) => return d.push(a.error(2, m)),
    };
    p.settings.errorfiles.push(Spanned::new(
        ErrorDirective::File(ErrorFile {
            status,
            path: path.to_string(),
            response,
        }),
        a.span(2),
    ));
}

/// `errorfiles NAME [CODE...]` — the section is looked up once the whole file is read.
fn parse_errorfiles(p: &mut Proxy, a: Args, d: &mut Diagnostics) {
    let Some(name) = a.get(1) else {
        return d.push(a.error(0, "'errorfiles' expects <name> as argument."));
    };
    let mut codes = Vec::new();
    for i in 2..a.len() {
        // HAProxy reads the code with atol(): what does not parse is 0, never handled.
        let code = a.at(i);
        match code.parse::<u16>() {
            Ok(c) if ERRORFILE_CODES.contains(&c) => codes.push(c),
            _ => {
                return d
                    .push(a.error(i, format!("errorfiles : status code '{code}' not handled.")))
            }
        }
    }
    p.settings.errorfiles.push(Spanned::new(
        ErrorDirective::Section {
            name: Spanned::new(name.to_string(), a.span(1)),
            codes,
        },
        a.span(1),
    ));
}

/// `errorloc CODE URL`, `errorloc302 CODE URL`, `errorloc303 CODE URL` — HAProxy answers the
/// status with a 302 (303 for `errorloc303`) to URL.
fn parse_errorloc(p: &mut Proxy, a: Args, d: &mut Diagnostics) {
    let kw = a.at(0);
    let (Some(code), Some(url)) = (a.get(1), a.get(2)) else {
        return d.push(a.error(
            0,
            format!("{kw} : expects <status_code> and <url> as arguments."),
        ));
    };
    let status = code
        .parse::<u16>()
        .ok()
        .filter(|c| ERRORFILE_CODES.contains(c));
    let Some(status) = status else {
        return d.push(a.error(1, format!("{kw} : status code '{code}' not handled.")));
    };
    p.settings.errorfiles.push(Spanned::new(
        ErrorDirective::Loc {
            status,
            redirect: if kw == "errorloc303" { 303 } else { 302 },
            url: url.to_string(),
        },
        a.span(2),
    ));
}

/// `force-persist { if | unless } COND`, `ignore-persist { if | unless } COND`
fn parse_persist(p: &mut Proxy, a: Args, d: &mut Diagnostics) {
    let kw = a.at(0);
    if !matches!(a.get(1), Some("if" | "unless")) {
        return d.push(a.error(
            0,
            format!("'{kw}' requires either 'if' or 'unless' followed by a condition."),
        ));
    }
    let Ok(Some(cond)) = parse_condition_tail(a, 1, d) else {
        return;
    };
    check_refs(p, Some(&cond), a, kw, d);
    p.persist_rules.push(PersistRule {
        span: a.line_span(),
        force: kw == "force-persist",
        cond,
    });
}

/// `acl NAME EXPR...`
fn parse_acl(p: &mut Proxy, a: Args, d: &mut Diagnostics) {
    let Some(name) = a.get(1) else {
        return d.push(a.error(0, "'acl' expects an ACL name."));
    };
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
    {
        return d.push(a.error(
            1,
            format!("character '{c}' is not permitted in acl name '{name}'."),
        ));
    }
    if a.len() < 3 {
        return d.push(a.error(
            2,
            format!("missing fetch method in ACL expression '{name}'."),
        ));
    }
    match acl::parse_acl_expr(a.from(2)) {
        Ok(expr) => p.acls.push(Acl {
            name: Spanned::new(name.to_string(), a.span(1)),
            span: a.line_span(),
            expr,
        }),
        Err(e) => {
            // HAProxy accepted this ACL, so its users must not fail again on its name; an
            // invalid ACL is another matter: HAProxy reports its users too.
            if kw::is_unsupported(&e) {
                p.rejected_acls.push(name.to_string());
            }
            d.push(e);
        }
    }
}

/// Checks that every named ACL in `cond` was declared before (HAProxy resolves them as it
/// reads) or is predefined.
fn check_refs(p: &Proxy, cond: Option<&Condition>, a: Args, what: &str, d: &mut Diagnostics) {
    let Some(cond) = cond else { return };
    for term in cond.any_of.iter().flatten() {
        if let AclRef::Named(n) = &term.acl {
            if !acl::is_predefined_acl(&n.node)
                && !p.acls.iter().any(|x| x.name.node == n.node)
                && !p.rejected_acls.contains(&n.node)
            {
                d.push(crate::Diagnostic::error(
                    crate::Dialect::Haproxy,
                    Span {
                        line: a.line,
                        ..n.span
                    },
                    format!(
                        "error detected while parsing {what} rule : no such ACL : '{}'.",
                        n.node
                    ),
                ));
            }
        }
    }
}

fn parse_condition_tail(
    a: Args,
    from: usize,
    d: &mut Diagnostics,
) -> Result<Option<Condition>, ()> {
    if a.len() <= from {
        return Ok(None);
    }
    match a.at(from) {
        "if" | "unless" => acl::parse_condition(a.from(from))
            .map(Some)
            .map_err(|e| d.push(e)),
        other => {
            d.push(a.error(
                from,
                format!(
                    "unexpected keyword '{other}' after '{}', expects 'if' or 'unless'.",
                    a.at(0)
                ),
            ));
            Err(())
        }
    }
}

/// `use_backend NAME [if|unless COND]`
fn parse_use_backend(p: &mut Proxy, a: Args, d: &mut Diagnostics) {
    let Some(name) = a.get(1) else {
        return d.push(a.error(0, "'use_backend' expects a backend name."));
    };
    let Ok(cond) = parse_condition_tail(a, 2, d) else {
        return;
    };
    check_refs(p, cond.as_ref(), a, "switching", d);
    let backend = if name.contains("%[") {
        BackendRef::Dynamic(name.to_string())
    } else {
        BackendRef::Name(name.to_string())
    };
    p.use_backends.push(UseBackend {
        span: a.line_span(),
        backend: Spanned::new(backend, a.span(1)),
        cond,
    });
}

/// `use-server NAME if|unless COND`
fn parse_use_server(p: &mut Proxy, a: Args, d: &mut Diagnostics) {
    let Some(name) = a.get(1) else {
        return d.push(a.error(0, "'use-server' expects a server name."));
    };
    if a.len() < 3 {
        return d.push(a.error(
            0,
            "'use-server' requires either 'if' or 'unless' followed by a condition.",
        ));
    }
    let Ok(cond) = parse_condition_tail(a, 2, d) else {
        return;
    };
    check_refs(p, cond.as_ref(), a, "server", d);
    p.use_servers.push(UseServer {
        span: a.line_span(),
        server: Spanned::new(name.to_string(), a.span(1)),
        cond,
    });
}

fn parse_redirect(p: &mut Proxy, a: Args, d: &mut Diagnostics) {
    match rules::parse_redirect(a.from(1)) {
        Ok(r) => {
            check_refs(p, r.cond.as_ref(), a, "redirect", d);
            if !p.use_backends.is_empty() {
                d.push(a.warning(0, "a 'redirect' rule placed after a 'use_backend' rule will still be processed before."));
            }
            p.redirects.push(Spanned::new(r, a.line_span()));
        }
        Err(e) => d.push(e),
    }
}

/// The proxy forms of `stats`.
fn parse_stats(p: &mut Proxy, a: Args, d: &mut Diagnostics) {
    let s = &mut p.stats;
    let sub = a.at(1);
    match sub {
        "enable" => s.enable = Some(a.line_span()),
        "uri" => match a.get(2) {
            Some(u) => {
                s.uri = Some(Spanned::new(u.to_string(), a.span(2)));
                s.enable.get_or_insert(a.line_span());
            }
            None => d.push(a.error(1, "'uri' needs an URI prefix.")),
        },
        "realm" => match a.get(2) {
            Some(r) => {
                s.realm = Some(Spanned::new(r.to_string(), a.span(2)));
                s.enable.get_or_insert(a.line_span());
            }
            None => d.push(a.error(1, "'realm' needs an realm name.")),
        },
        "auth" => match a.get(2) {
            Some(cred) => {
                // HAProxy accepts a user without ':' (and an empty password); so do we, warning.
                let (u, pw) = cred.split_once(':').unwrap_or_else(|| {
                    d.push(a.warning(2, format!("'stats auth {cred}' has no ':password'; the password is empty.")));
                    (cred, "")
                });
                s.auths.push(Spanned::new((u.to_string(), pw.to_string()), a.span(2)));
                s.enable.get_or_insert(a.line_span());
            }
            None => d.push(a.error(1, "'auth' needs a user:password account.")),
        },
        "refresh" => match a.duration(2, "stats refresh", TimeUnit::Seconds) {
            Ok(t) => {
                s.refresh = Some(Spanned::new(t, a.span(2)));
                s.enable.get_or_insert(a.line_span());
            }
            Err(_) => d.push(a.error(1, "'refresh' needs a positive interval.")),
        },
        "admin" => {
            if !matches!(a.at(2), "if" | "unless") {
                return d.push(a.error(2, "'stats admin' requires either 'if' or 'unless' followed by a condition."));
            }
            match acl::parse_condition(a.from(2)) {
                Ok(c) => {
                    let pc = p.clone();
                    check_refs(&pc, Some(&c), a, "stats admin", d);
                    p.stats.admin.push(c);
                }
                Err(e) => d.push(e),
            }
        }
        "hide-version" => s.hide_version = Some(a.line_span()),
        "show-legends" => s.show_legends = Some(a.line_span()),
        "show-node" => s.show_node = Some(Spanned::new(a.get(2).map(str::to_string), a.line_span())),
        "show-desc" => s.show_desc = Some(Spanned::new(a.get(2).map(str::to_string), a.line_span())),
        "scope" => match a.get(2) {
            Some(n) => s.scope.push(Spanned::new(n.to_string(), a.span(2))),
            None => d.push(a.error(1, "'scope' needs a proxy name.")),
        },
        "http-request" | "show-modules" | "bind-process" => {
            d.push(kw::unsupported(a.span(1), &format!("stats {sub}")))
        }
        "socket" | "timeout" | "maxconn" => {
            d.push(a.error(1, format!("'stats {sub}' is only allowed in 'global' section")))
        }
        _ => d.push(a.error(
            1,
            "'stats' expects 'admin', 'auth', 'enable', 'hide-version', 'http-request', 'realm', 'refresh', 'scope', 'show-desc', 'show-legends', 'show-modules', 'show-node' or 'uri'.",
        )),
    }
}

/// Every proxy keyword with its support status, for the README.
pub fn keyword_names() -> Vec<(&'static str, Support)> {
    KEYWORDS
        .iter()
        .filter(|k| !matches!(k.name, "no" | "option" | "timeout"))
        .map(|k| (k.name, k.support))
        .collect()
}
