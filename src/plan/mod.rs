//! IR → runtime plan: pure, no I/O except resolving server host names (as HAProxy does at
//! start-up with `init-addr libc`).
//!
//! The plan is what the runtime's tasks read: frontends with their listening addresses and
//! rules, backends with resolved servers, balancing and timeouts, indices instead of names.
//! It is immutable once built.
//!
//! The runtime does not carry out everything the parser accepts yet. Building a plan refuses
//! every setting outside what the runtime implements, with the setting's location: never a
//! silently ignored line. The refusal is exhaustive by construction: each IR structure is
//! checked against a whitelist of its fields ([`Refusals::unlisted`]), so a field added to the
//! IR later is refused until the runtime handles it.

use crate::acl::{Compiler, Cond, Fmt, Names};
use hyper::header::HeaderName;
use rsproxy_parser::ir::haproxy::{
    self as ir, Balance, Host, HttpAction, LogTarget, Mode, OptionArgs, OptionName, ReturnContent,
    ServerPort, TimeoutKind,
};
use rsproxy_parser::ir::{Duration, IpNet};
use rsproxy_parser::{Diagnostic, Diagnostics, Dialect, Span};
use serde::Serialize;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

mod check;
mod errorfile;
pub use check::{BodyRegex, Expect, ExpectRule, HttpCheck};
pub use errorfile::{find as find_errorfile, ErrorFile, ErrorFiles, ErrorResponse};

/// Everything the runtime needs, resolved.
#[derive(Debug)]
pub struct Plan {
    /// Worker threads (`nbthread`, default: the number of CPUs).
    pub nbthread: usize,
    /// Global connection limit (`maxconn`); `None`: unlimited.
    pub maxconn: Option<u32>,
    pub frontends: Vec<Frontend>,
    pub backends: Vec<Arc<Backend>>,
    /// Some rule sets or reads a variable (`set-var`, `var()`).
    pub uses_vars: bool,
    /// Every proxy in the configuration's order, as indices into `frontends` and `backends`
    /// (a `listen` has both): the order of the statistics page's tables and CSV rows.
    pub proxies: Vec<(Option<usize>, Option<usize>)>,
}

#[derive(Debug)]
pub struct Frontend {
    pub name: String,
    pub mode: Mode,
    pub listeners: Vec<Listener>,
    pub maxconn: Option<u32>,
    pub timeouts: Timeouts,
    pub rules: Vec<Rule>,
    pub redirects: Vec<Redirect>,
    pub response_rules: Vec<Rule>,
    pub forwardfor: Option<Forwardfor>,
    pub conn_mode: ConnMode,
    /// `use_backend` rules in order: the first whose condition holds (or that has none)
    /// chooses the backend.
    pub switching: Vec<(Option<Cond>, Switch)>,
    /// The backend when no `use_backend` rule chose one (`default_backend`, else the proxy
    /// itself for a `listen`); `None`: HAProxy answers 503.
    pub backend: Option<usize>,
    /// `errorfile`: HAProxy's own answers replaced by the frontend's files.
    pub errorfiles: ErrorFiles,
    /// `stats enable|uri|...`: the statistics page this frontend answers itself.
    pub stats: Option<StatsPlan>,
}

/// `stats enable|uri|realm|auth|refresh|hide-version|show-legends` on a frontend or listen:
/// the statistics page (HTML, or CSV at `<uri>;csv`) answered after the frontend's
/// `http-request` rules and before its redirects and `use_backend`, as HAProxy 2.6 does.
#[derive(Debug, Clone)]
pub struct StatsPlan {
    /// A GET, HEAD or POST whose URI, from its path on (query included), starts with this is
    /// answered with the page; `stats enable` alone: `/haproxy?stats`.
    pub uri: String,
    /// `stats auth` accounts, user and password; none: no authentication.
    pub auth: Vec<(String, String)>,
    /// The 401's `WWW-Authenticate`: `Basic realm="<stats realm>"` (default realm: `HAProxy
    /// Statistics`).
    pub challenge: hyper::header::HeaderValue,
    /// `stats refresh`: the page's `refresh` header, in seconds.
    pub refresh: Option<u64>,
    pub hide_version: bool,
    /// `stats show-legends`: server addresses and cookies shown (HTML and CSV).
    pub show_legends: bool,
}

/// One listening socket of a frontend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub addr: SocketAddr,
    /// `backlog` on the bind line, else the frontend's, else 1024.
    pub backlog: u32,
    /// `maxconn` on the bind line.
    pub maxconn: Option<u32>,
    /// `v6only` / `v4v6` on an IPv6 bind; `None`: the system's default.
    pub v6only: Option<bool>,
    /// `ssl crt ...`: the handshake and certificates (shared by the line's addresses).
    pub tls: Option<Arc<crate::tls::Terminator>>,
}

#[derive(Debug)]
pub struct Backend {
    pub name: String,
    pub mode: Mode,
    pub servers: Vec<Server>,
    pub balance: Balance,
    pub hash_type: Option<ir::HashType>,
    pub allbackups: bool,
    pub retries: u32,
    pub redispatch: bool,
    pub timeouts: Timeouts,
    pub rules: Vec<Rule>,
    pub redirects: Vec<Redirect>,
    /// `http-response` rules (run before the frontend's).
    pub response_rules: Vec<Rule>,
    pub forwardfor: Option<Forwardfor>,
    pub conn_mode: ConnMode,
    /// `http-reuse`: which idle server connections a request may take (default `safe`).
    pub reuse: ir::HttpReuse,
    /// `cookie`: persistence by cookie.
    pub cookie: Option<CookiePlan>,
    /// `use-server` rules in order: the first whose condition holds and whose server is up
    /// assigns the server.
    pub use_servers: Vec<(Cond, usize)>,
    /// `errorfile`: looked up before the frontend's once this backend is chosen.
    pub errorfiles: ErrorFiles,
    /// `force-persist` / `ignore-persist` rules in order: the first whose condition holds
    /// decides.
    pub persist_rules: Vec<(Cond, Persist)>,
}

/// What a `force-persist` or `ignore-persist` rule does to a request (HAProxy's
/// `SF_FORCE_PRST` / `SF_IGNORE_PRST`), persist.scn shows both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persist {
    /// A cookie or `use-server` rule naming a server that is down or disabled still sends
    /// the request there (and no new cookie is set).
    Force,
    /// The persistence cookie chooses nothing (it is still taken out of the request as
    /// usual), and the answer gets no persistence cookie.
    Ignore,
}

/// A backend's `cookie` line.
#[derive(Debug, Clone)]
pub struct CookiePlan {
    pub name: String,
    pub mode: ir::CookieMode,
    pub indirect: bool,
    pub nocache: bool,
    pub postonly: bool,
    pub preserve: bool,
    /// What follows `NAME=value` in an inserted cookie: `; path=/`, domains, `HttpOnly`,
    /// `Secure`, attributes, in HAProxy's order.
    pub suffix: String,
}

#[derive(Debug, Clone)]
pub struct Server {
    pub name: String,
    /// The numeric id (`id`, or as HAProxy numbers servers without one).
    pub id: u32,
    pub host: IpAddr,
    pub port: ServerPort,
    pub weight: u32,
    pub backup: bool,
    pub disabled: bool,
    pub check: Option<Check>,
    /// `cookie`: the value of the backend's persistence cookie that designates it.
    pub cookie: Option<String>,
    /// `maxconn`: requests (connections in TCP) served at once; more wait in a queue.
    pub maxconn: Option<u32>,
    /// `maxqueue`: requests waiting in this server's own queue at most.
    pub maxqueue: Option<u32>,
}

impl Server {
    /// The address to connect to for a client that reached us on `dst_port`.
    pub fn addr(&self, dst_port: u16) -> SocketAddr {
        let port = match self.port {
            ServerPort::Fixed(p) => p,
            ServerPort::Same => dst_port,
            ServerPort::Offset(o) => (i32::from(dst_port) + o).clamp(0, 65535) as u16,
        };
        SocketAddr::new(self.host, port)
    }
}

#[derive(Debug, Clone)]
pub struct Check {
    pub addr: Option<IpAddr>,
    pub port: Option<u16>,
    pub inter: std::time::Duration,
    pub fastinter: std::time::Duration,
    pub downinter: std::time::Duration,
    pub rise: u32,
    pub fall: u32,
    pub timeout: Option<std::time::Duration>,
    /// `option httpchk` (with `http-check send|expect`); `None`: a TCP connect check.
    pub http: Option<HttpCheck>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Timeouts {
    pub client: Option<std::time::Duration>,
    pub server: Option<std::time::Duration>,
    pub connect: Option<std::time::Duration>,
    pub http_request: Option<std::time::Duration>,
    pub http_keep_alive: Option<std::time::Duration>,
    pub tunnel: Option<std::time::Duration>,
    pub check: Option<std::time::Duration>,
    pub queue: Option<std::time::Duration>,
    pub client_fin: Option<std::time::Duration>,
    pub server_fin: Option<std::time::Duration>,
    pub tarpit: Option<std::time::Duration>,
}

/// How HTTP connections are kept (`option http-keep-alive`, `http-server-close`, `httpclose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConnMode {
    KeepAlive,
    ServerClose,
    Close,
}

#[derive(Debug, Clone)]
pub struct Forwardfor {
    pub except: Option<IpNet>,
    pub header: hyper::header::HeaderName,
    pub if_none: bool,
}

/// An `http-request` rule: its action when its condition holds (or it has none).
#[derive(Debug, Clone)]
pub struct Rule {
    pub cond: Option<Cond>,
    pub action: Action,
}

/// A `use_backend` target.
#[derive(Debug, Clone)]
pub enum Switch {
    Backend(usize),
    /// A log-format name resolved per request; a name no backend has ends the rules and
    /// the default backend applies.
    Dynamic(Fmt),
}

/// A `redirect` rule.
#[derive(Debug, Clone)]
pub struct Redirect {
    pub cond: Option<Cond>,
    pub kind: ir::RedirectKind,
    /// A log-format string, as in HAProxy.
    pub target: Fmt,
    pub code: u16,
    pub drop_query: bool,
    pub append_slash: bool,
    /// `set-cookie`/`clear-cookie`: the Set-Cookie field it adds, as HAProxy writes it.
    pub cookie: Option<hyper::header::HeaderValue>,
}

/// The body of an `http-request return`.
#[derive(Debug, Clone)]
pub enum ReturnBody {
    Static(bytes::Bytes),
    /// `lf-string`: rendered per request.
    Lf(Fmt),
}

/// The `http-request` actions the runtime carries out.
#[derive(Debug, Clone)]
pub enum Action {
    Return {
        status: u16,
        content_type: Option<hyper::header::HeaderValue>,
        body: ReturnBody,
        /// `hdr NAME VALUE`: fields with log-format values, before the others.
        fields: Vec<(hyper::header::HeaderName, Fmt)>,
    },
    /// `http-request tarpit`: the request is held this long, then denied with `status`.
    Tarpit {
        status: u16,
        hold: std::time::Duration,
    },
    Deny {
        status: u16,
    },
    /// Stops this proxy's rules of the same kind; the request or answer goes on.
    Allow,
    SetHeader(HeaderName, Fmt),
    AddHeader(HeaderName, Fmt),
    DelHeader(HeaderName),
    /// The whole value of each field (`replace-header`) or each comma-separated value
    /// (`replace-value`).
    Replace {
        name: HeaderName,
        re: crate::re::Re,
        with: Fmt,
        each_value: bool,
    },
    SetPath(Fmt),
    SetQuery(Fmt),
    SetUri(Fmt),
    SetMethod(Fmt),
    ReplacePath {
        re: crate::re::Re,
        with: Fmt,
    },
    SetStatus {
        status: u16,
        reason: Option<String>,
    },
    /// `http-request redirect`: answers like a `redirect` rule.
    Redirect(Redirect),
    /// `http-request auth`: HAProxy's 401 with `WWW-Authenticate: Basic realm="..."`.
    Auth(hyper::header::HeaderValue),
    /// `set-var(scope.name) expr` / `unset-var(scope.name)`: the full name.
    SetVar {
        name: String,
        expr: crate::acl::SampleExpr,
    },
    UnsetVar {
        name: String,
    },
}

/// Builds the plan, or says what in the configuration the runtime does not carry out yet.
pub fn build(config: &ir::Config, foreground: bool) -> Result<Plan, Diagnostics> {
    let mut r = Refusals::default();
    let g = &config.global;
    r.unlisted(
        g,
        &[
            "daemon",
            "master_worker",
            "maxconn",
            "nbthread",
            "quiet",
            "description",
            "node",
            // TLS defaults of bind lines: read by `tls::terminator`.
            "ssl_default_bind_ciphers",
            "ssl_default_bind_ciphersuites",
            "ssl_default_bind_options",
            "tune",
        ],
        "",
        Span::default(),
    );
    // `tune.*`: the TLS session cache size is carried out (`tls::terminator`); the DH
    // parameter size has no object (rustls has no DHE suites). The rest is refused.
    for (key, value) in &g.tune {
        if !matches!(
            key.as_str(),
            "tune.ssl.cachesize" | "tune.ssl.default-dh-param"
        ) {
            r.refuse(value.span, key);
        }
    }
    if let Some(span) = g.daemon {
        if !foreground {
            r.push(Diagnostic::error(
                Dialect::Haproxy,
                span,
                "'daemon' is not carried out by the rsproxy runtime yet: run it in the foreground with -db",
            ));
        }
    }
    if let Some(span) = g.master_worker {
        r.refuse(span, "master-worker");
    }
    let userlists = userlists(config, &mut r);
    let http_errors = errorfile::sections(config, &mut r);

    // Names the ACLs may refer to (`nbsrv(b)`, `srv_is_up(b/s)`, `fe_conn(f)`), as indices.
    let backend_index: std::collections::HashMap<String, usize> = config
        .backends()
        .enumerate()
        .map(|(i, p)| (p.name.node.clone(), i))
        .collect();
    let frontend_index: std::collections::HashMap<String, usize> = config
        .frontends()
        .enumerate()
        .map(|(i, p)| (p.name.node.clone(), i))
        .collect();
    let servers: Vec<Vec<String>> = config
        .backends()
        .map(|p| p.servers.iter().map(|s| s.name.node.clone()).collect())
        .collect();
    let names = Names {
        backends: &backend_index,
        frontends: &frontend_index,
        servers: &servers,
        userlists: &userlists,
        response: std::cell::Cell::new(false),
    };
    let mut backends: Vec<Arc<Backend>> = Vec::new();
    for p in config.backends() {
        let b = backend(p, &names, &http_errors, &mut r);
        backends.push(Arc::new(b));
    }
    let mut frontends = Vec::new();
    for p in config.frontends() {
        frontends.push(frontend(p, &names, &http_errors, g, &mut r));
    }
    if !r.found.is_empty() {
        return Err(r.into_diagnostics());
    }
    let nbthread = g
        .nbthread
        .as_ref()
        .map(|n| n.node as usize)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
    // Variables exist only if some rule sets one (`var()` alone would read nothing).
    let uses_vars = config.proxies.iter().any(|p| {
        p.http_request.iter().chain(&p.http_response).any(|r| {
            matches!(
                r.action,
                HttpAction::SetVar { .. } | HttpAction::UnsetVar { .. }
            )
        })
    });
    let (mut fe, mut be) = (0, 0);
    let proxies = config
        .proxies
        .iter()
        .map(|p| {
            let f = p.kind.has_frontend().then(|| {
                fe += 1;
                fe - 1
            });
            let b = p.kind.has_backend().then(|| {
                be += 1;
                be - 1
            });
            (f, b)
        })
        .collect();
    Ok(Plan {
        nbthread,
        maxconn: g.maxconn.as_ref().map(|m| m.node),
        frontends,
        backends,
        uses_vars,
        proxies,
    })
}

/// The userlists, users with passwords and groups (from `group ... users` and `user ...
/// groups` both); a crypt hash rsproxy cannot check is refused at its line.
fn userlists(
    config: &ir::Config,
    r: &mut Refusals,
) -> std::collections::HashMap<String, Arc<crate::acl::Userlist>> {
    use crate::acl::{Password, UserEntry, Userlist};
    let mut out = std::collections::HashMap::new();
    for ul in &config.userlists {
        let mut users = Vec::new();
        for u in &ul.users {
            let password = match &u.node.password {
                ir::Password::Insecure(p) => Password::Insecure(p.clone()),
                ir::Password::Crypt(h) if crate::acl::crypt_supported(h) => {
                    Password::Crypt(h.clone())
                }
                ir::Password::Crypt(_) => {
                    r.refuse(
                        u.span,
                        "user ... password' with this crypt(3) format (yescrypt?)",
                    );
                    continue;
                }
            };
            let mut groups = u.node.groups.clone();
            for g in &ul.groups {
                if g.node.users.contains(&u.node.name) && !groups.contains(&g.node.name) {
                    groups.push(g.node.name.clone());
                }
            }
            users.push(UserEntry {
                name: u.node.name.clone(),
                password,
                groups,
            });
        }
        out.insert(ul.name.node.clone(), Arc::new(Userlist { users }));
    }
    out
}

fn mode(p: &ir::Proxy) -> Mode {
    p.settings
        .mode
        .as_ref()
        .map(|m| m.node)
        .unwrap_or(Mode::Tcp)
}

fn std_duration(d: &Duration) -> std::time::Duration {
    d.to_std()
}

fn timeouts(s: &ir::ProxySettings) -> Timeouts {
    let t = |k: TimeoutKind| {
        s.timeouts
            .get(&k)
            .map(|d| std_duration(&d.node))
            .filter(|d| !d.is_zero())
    };
    Timeouts {
        client: t(TimeoutKind::Client),
        server: t(TimeoutKind::Server),
        connect: t(TimeoutKind::Connect),
        http_request: t(TimeoutKind::HttpRequest),
        http_keep_alive: t(TimeoutKind::HttpKeepAlive),
        tunnel: t(TimeoutKind::Tunnel),
        check: t(TimeoutKind::Check),
        queue: t(TimeoutKind::Queue),
        client_fin: t(TimeoutKind::ClientFin),
        server_fin: t(TimeoutKind::ServerFin),
        tarpit: t(TimeoutKind::Tarpit),
    }
}

/// The options the runtime carries out, on the side(s) of a proxy they act on.
const OPTIONS: &[OptionName] = &[
    OptionName::Forwardfor,
    OptionName::HttpKeepAlive,
    OptionName::HttpServerClose,
    OptionName::Httpclose,
    OptionName::Redispatch,
    OptionName::AllBackups,
    OptionName::Httpchk,
    // HAProxy 2.6 does not read a client again once its request arrived whole, so a close
    // aborts nothing that rsproxy would carry on (client-abort.scn): same behaviour.
    OptionName::AbortOnClose,
    // Without a `log` target these only choose a format nobody receives (HAProxy warns
    // "log format ignored" then); `log` itself is refused below, so they have no effect.
    OptionName::Httplog,
    OptionName::Tcplog,
    OptionName::DontLogNull,
    OptionName::DontLogNormal,
    OptionName::LogSeparateErrors,
    // Kernel-level tuning with no visible effect on traffic.
    OptionName::SpliceAuto,
    OptionName::SpliceRequest,
    OptionName::SpliceResponse,
    OptionName::TcpSmartAccept,
    OptionName::TcpSmartConnect,
];

fn settings(p: &ir::Proxy, r: &mut Refusals) {
    let s = &p.settings;
    r.unlisted(
        s,
        &[
            "mode",
            "balance",
            "hash_type",
            "maxconn",
            "backlog",
            "retries",
            "timeouts",
            "options",
            "default_server",
            "http_reuse",
            "logs",
            "no_log",
            "cookie",
            "dynamic_cookie_key",
            "http_check",
            "errorfiles",
        ],
        "",
        p.span,
    );
    for l in &s.logs {
        if l.node != LogTarget::Global {
            r.refuse(l.span, "log");
        }
    }
    // `log global` forwards to the global targets, which are refused at their own lines.
    for (name, o) in &s.options {
        if !OPTIONS.contains(name) {
            r.refuse(o.span, &format!("option {}", option_name(*name)));
        }
    }
    // hyper has one timer for a request's head, which also runs while a kept-alive
    // connection waits for the next request: `timeout http-keep-alive` is carried out when it
    // equals the timeout for a request's head (`http-request`, else `client`), as in both
    // seed setups; otherwise it is refused rather than approximated.
    if let Some(ka) = s.timeouts.get(&TimeoutKind::HttpKeepAlive) {
        let head = s
            .timeouts
            .get(&TimeoutKind::HttpRequest)
            .or(s.timeouts.get(&TimeoutKind::Client));
        if head.map(|h| h.node) != Some(ka.node) {
            r.refuse(
                ka.span,
                "timeout http-keep-alive' different from 'timeout http-request",
            );
        }
    }
}

fn option_name(n: OptionName) -> String {
    serde_json::to_value(n)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn forwardfor(s: &ir::ProxySettings, r: &mut Refusals) -> Option<Forwardfor> {
    let o = s
        .options
        .get(&OptionName::Forwardfor)
        .filter(|o| o.enabled)?;
    let (except, header, if_none) = match &o.args {
        OptionArgs::Forwardfor {
            except,
            header,
            if_none,
        } => (*except, header.as_deref(), *if_none),
        _ => (None, None, false),
    };
    let name = header.unwrap_or("X-Forwarded-For");
    match hyper::header::HeaderName::from_bytes(name.as_bytes()) {
        Ok(header) => Some(Forwardfor {
            except,
            header,
            if_none,
        }),
        Err(_) => {
            r.refuse(
                o.span,
                &format!("option forwardfor header {name}' (not a valid header name"),
            );
            None
        }
    }
}

fn use_servers(p: &ir::Proxy, acls: &mut Compiler<'_>, r: &mut Refusals) -> Vec<(Cond, usize)> {
    let mut out = Vec::new();
    for u in &p.use_servers {
        let Some(i) = p.servers.iter().position(|s| s.name.node == u.server.node) else {
            // Not a server name: a log-format string, resolved per request by HAProxy.
            r.refuse(u.server.span, "use-server' with a log-format server name");
            continue;
        };
        // The parser requires a condition; a refused one is reported by `cond`.
        if let Ok(Some(c)) = cond(u.cond.as_ref(), acls, r) {
            out.push((c, i));
        }
    }
    out
}

/// `force-persist` / `ignore-persist` rules, for an HTTP backend (HAProxy's `mode tcp` effect
/// on `use-server` is not carried out: refused at the rule's line).
fn persist_rules(p: &ir::Proxy, acls: &mut Compiler<'_>, r: &mut Refusals) -> Vec<(Cond, Persist)> {
    let mut out = Vec::new();
    for rule in &p.persist_rules {
        let kw = if rule.force {
            "force-persist"
        } else {
            "ignore-persist"
        };
        if mode(p) != Mode::Http {
            r.refuse(rule.span, &format!("{kw}' in a 'mode tcp' backend"));
            continue;
        }
        if let Ok(Some(c)) = cond(Some(&rule.cond), acls, r) {
            let what = if rule.force {
                Persist::Force
            } else {
                Persist::Ignore
            };
            out.push((c, what));
        }
    }
    out
}

/// `cookie ... dynamic`: the value of a server without a `cookie` of its own, as HAProxy 2.6
/// derives it (found against it): XXH64 (seed 0) of the key, the address's bytes and the
/// port as a 32-bit big-endian number, in 16 lowercase hex digits. Without
/// `dynamic-cookie-key` a server has no value, as in HAProxy.
fn dynamic_cookie(key: &str, host: IpAddr, port: &ir::ServerPort) -> String {
    let mut buf = key.as_bytes().to_vec();
    match host {
        IpAddr::V4(a) => buf.extend_from_slice(&a.octets()),
        IpAddr::V6(a) => buf.extend_from_slice(&a.octets()),
    }
    let port = match port {
        ir::ServerPort::Fixed(p) => u32::from(*p),
        _ => 0,
    };
    buf.extend_from_slice(&port.to_be_bytes());
    format!("{:016x}", xxhash_rust::xxh64::xxh64(&buf, 0))
}

fn cookie_plan(s: &ir::ProxySettings, r: &mut Refusals) -> Option<CookiePlan> {
    let c = s.cookie.as_ref()?;
    let ck = &c.node;
    if ck.maxidle.is_some() || ck.maxlife.is_some() {
        r.refuse(c.span, "cookie ... maxidle/maxlife");
        return None;
    }
    let mut suffix = String::from("; path=/");
    for d in &ck.domains {
        suffix.push_str("; domain=");
        suffix.push_str(d);
    }
    if ck.httponly {
        suffix.push_str("; HttpOnly");
    }
    if ck.secure {
        suffix.push_str("; Secure");
    }
    for a in &ck.attrs {
        suffix.push_str("; ");
        suffix.push_str(a);
    }
    Some(CookiePlan {
        name: ck.name.clone(),
        mode: ck.mode,
        indirect: ck.indirect,
        nocache: ck.nocache,
        postonly: ck.postonly,
        preserve: ck.preserve,
        suffix,
    })
}

fn conn_mode(s: &ir::ProxySettings) -> ConnMode {
    let on = |n: OptionName| s.options.get(&n).is_some_and(|o| o.enabled);
    if on(OptionName::Httpclose) {
        ConnMode::Close
    } else if on(OptionName::HttpServerClose) {
        ConnMode::ServerClose
    } else {
        ConnMode::KeepAlive
    }
}

/// Compiles a condition, refusing what the ACL engine cannot evaluate (at its location).
fn cond(
    c: Option<&ir::Condition>,
    acls: &mut Compiler<'_>,
    r: &mut Refusals,
) -> Result<Option<Cond>, ()> {
    let Some(c) = c else { return Ok(None) };
    let compiled = acls.cond(c);
    for refused in acls.refused.drain(..) {
        r.refuse(refused.span, &refused.what);
    }
    compiled.map(Some).ok_or(())
}

/// The Set-Cookie field of `redirect ... set-cookie NAME=value` (`NAME=value; path=/;`) or
/// `clear-cookie NAME` (`NAME; path=/; Max-Age=0;`), as haproxy 2.6 writes them.
fn redirect_cookie(
    set: Option<&String>,
    clear: Option<&String>,
) -> Result<Option<hyper::header::HeaderValue>, ()> {
    let text = match (set, clear) {
        (Some(s), _) => format!("{s}; path=/;"),
        (None, Some(c)) => format!("{c}; path=/; Max-Age=0;"),
        (None, None) => return Ok(None),
    };
    hyper::header::HeaderValue::from_str(&text)
        .map(Some)
        .map_err(|_| ())
}

fn var_scope(s: ir::VarScope) -> &'static str {
    match s {
        ir::VarScope::Proc => "proc",
        ir::VarScope::Sess => "sess",
        ir::VarScope::Txn => "txn",
        ir::VarScope::Req => "req",
        ir::VarScope::Res => "res",
    }
}

fn redirects(p: &ir::Proxy, acls: &mut Compiler<'_>, r: &mut Refusals) -> Vec<Redirect> {
    let mut out = Vec::new();
    for rd in &p.redirects {
        let Ok(cookie) =
            redirect_cookie(rd.node.set_cookie.as_ref(), rd.node.clear_cookie.as_ref())
        else {
            r.refuse(
                rd.span,
                "redirect ... set-cookie' with a value that is not a valid header value",
            );
            continue;
        };
        let Ok(c) = cond(rd.node.cond.as_ref(), acls, r) else {
            continue;
        };
        let target = match Fmt::compile(&rd.node.target, acls.names()) {
            Ok(t) => t,
            Err(what) => {
                r.refuse(rd.span, &what);
                continue;
            }
        };
        out.push(Redirect {
            cond: c,
            kind: rd.node.kind,
            target,
            code: rd.node.code,
            drop_query: rd.node.drop_query,
            append_slash: rd.node.append_slash,
            cookie,
        });
    }
    out
}

fn rules(p: &ir::Proxy, acls: &mut Compiler<'_>, r: &mut Refusals) -> Vec<Rule> {
    rule_list(&p.http_request, "http-request", p, acls, r)
}

fn response_rules(p: &ir::Proxy, acls: &mut Compiler<'_>, r: &mut Refusals) -> Vec<Rule> {
    rule_list(&p.http_response, "http-response", p, acls, r)
}

/// A header action's name and log-format value, or the refusal.
fn header_action(
    rule: &ir::HttpRule,
    kind: &str,
    name: &str,
    value: Option<&str>,
    acls: &Compiler<'_>,
    r: &mut Refusals,
) -> Option<(HeaderName, Option<Fmt>)> {
    let Ok(n) = HeaderName::from_bytes(name.as_bytes()) else {
        r.refuse(
            rule.span,
            &format!("{kind}' with a header name that is not valid"),
        );
        return None;
    };
    let fmt = match value.map(|v| Fmt::compile(v, acls.names())) {
        None => None,
        Some(Ok(f)) => Some(f),
        Some(Err(what)) => {
            r.refuse(rule.span, &what);
            return None;
        }
    };
    Some((n, fmt))
}

fn rule_list(
    list: &[ir::HttpRule],
    kind: &str,
    p: &ir::Proxy,
    acls: &mut Compiler<'_>,
    r: &mut Refusals,
) -> Vec<Rule> {
    let proxy_name = p.name.node.as_str();
    // Answer rules may not read the request (see `Names::response`).
    acls.names().response.set(kind == "http-response");
    // `timeout tarpit`, else `timeout connect`, as HAProxy falls back (0 when neither).
    let t = timeouts(&p.settings);
    let tarpit = t.tarpit.or(t.connect).unwrap_or_default();
    let mut out = Vec::new();
    let fmt = |v: &str, acls: &Compiler<'_>, r: &mut Refusals, span: Span| match Fmt::compile(
        v,
        acls.names(),
    ) {
        Ok(f) => Some(f),
        Err(what) => {
            r.refuse(span, &what);
            None
        }
    };
    // PCRE's reach: look-around and back-references too (see `crate::re`).
    let regex = |re: &str, r: &mut Refusals, span: Span| match crate::re::Re::new(re, false) {
        Ok(re) => Some(re),
        Err(what) => {
            r.refuse(span, &what);
            None
        }
    };
    for rule in list {
        let Ok(c) = cond(rule.cond.as_ref(), acls, r) else {
            continue;
        };
        match &rule.action {
            HttpAction::Return {
                status,
                content_type,
                content,
                headers,
            } => {
                let mut fields = Vec::new();
                for (name, value) in headers {
                    let Ok(n) = hyper::header::HeaderName::from_bytes(name.as_bytes()) else {
                        r.refuse(
                            rule.span,
                            "http-request return' with a field name that is not valid",
                        );
                        break;
                    };
                    match fmt(value, acls, r, rule.span) {
                        Some(f) => fields.push((n, f)),
                        None => break,
                    }
                }
                if fields.len() != headers.len() {
                    continue;
                }
                let body = match content {
                    None => ReturnBody::Static(bytes::Bytes::new()),
                    Some(ReturnContent::String(s)) => {
                        ReturnBody::Static(bytes::Bytes::from(s.clone()))
                    }
                    Some(ReturnContent::LfString(s)) if kind == "http-request" => {
                        match fmt(s, acls, r, rule.span) {
                            Some(f) => ReturnBody::Lf(f),
                            None => continue,
                        }
                    }
                    // Read once at start-up and evaluated per request.
                    Some(ReturnContent::LfFile(path)) if kind == "http-request" => {
                        let text = match std::fs::read(path) {
                            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                            Err(e) => {
                                r.push(Diagnostic::error(
                                    Dialect::Haproxy,
                                    rule.span,
                                    format!("http-request return: cannot read '{path}': {e}"),
                                ));
                                continue;
                            }
                        };
                        match fmt(&text, acls, r, rule.span) {
                            Some(f) => ReturnBody::Lf(f),
                            None => continue,
                        }
                    }
                    // Read once at start-up, as HAProxy reads it.
                    Some(ReturnContent::File(path)) => match std::fs::read(path) {
                        Ok(b) => ReturnBody::Static(bytes::Bytes::from(b)),
                        Err(e) => {
                            r.push(Diagnostic::error(
                                Dialect::Haproxy,
                                rule.span,
                                format!("http-request return: cannot read '{path}': {e}"),
                            ));
                            continue;
                        }
                    },
                    Some(_) => {
                        r.refuse(
                            rule.span,
                            "http-request return' with a log-format file or an errorfile body",
                        );
                        continue;
                    }
                };
                let content_type = match content_type
                    .as_deref()
                    .map(hyper::header::HeaderValue::from_str)
                {
                    None => None,
                    Some(Ok(v)) => Some(v),
                    Some(Err(_)) => {
                        r.refuse(rule.span, "http-request return' with a content-type that is not a valid header value");
                        continue;
                    }
                };
                out.push(Rule {
                    cond: c,
                    action: Action::Return {
                        status: *status,
                        content_type,
                        body,
                        fields,
                    },
                });
            }
            HttpAction::Deny {
                status,
                content: None,
            } => out.push(Rule {
                cond: c,
                action: Action::Deny {
                    // An answer denied is replaced by HAProxy's 502.
                    status: status.unwrap_or(if kind == "http-response" { 502 } else { 403 }),
                },
            }),
            HttpAction::Allow => out.push(Rule {
                cond: c,
                action: Action::Allow,
            }),
            HttpAction::SetVar { scope, name, expr } => {
                let full = format!("{}.{name}", var_scope(*scope));
                match crate::acl::SampleExpr::compile(expr, acls.names()) {
                    Ok(expr) => out.push(Rule {
                        cond: c,
                        action: Action::SetVar { name: full, expr },
                    }),
                    Err(what) => r.refuse(rule.span, &what),
                }
            }
            HttpAction::UnsetVar { scope, name } => out.push(Rule {
                cond: c,
                action: Action::UnsetVar {
                    name: format!("{}.{name}", var_scope(*scope)),
                },
            }),
            HttpAction::Tarpit { status } if kind == "http-request" => out.push(Rule {
                cond: c,
                action: Action::Tarpit {
                    status: status.unwrap_or(500),
                    hold: tarpit,
                },
            }),
            HttpAction::Auth { realm } if kind == "http-request" => {
                // The realm defaults to the proxy's name.
                let realm = realm.clone().unwrap_or_else(|| proxy_name.to_string());
                let Ok(v) =
                    hyper::header::HeaderValue::from_str(&format!("Basic realm=\"{realm}\""))
                else {
                    r.refuse(
                        rule.span,
                        "http-request auth' with a realm that is not a valid header value",
                    );
                    continue;
                };
                out.push(Rule {
                    cond: c,
                    action: Action::Auth(v),
                });
            }
            HttpAction::Redirect(rd) if kind == "http-request" => {
                let Ok(cookie) = redirect_cookie(rd.set_cookie.as_ref(), rd.clear_cookie.as_ref())
                else {
                    r.refuse(
                        rule.span,
                        "redirect ... set-cookie' with a value that is not a valid header value",
                    );
                    continue;
                };
                let Some(target) = fmt(&rd.target, acls, r, rule.span) else {
                    continue;
                };
                out.push(Rule {
                    cond: c,
                    action: Action::Redirect(Redirect {
                        cond: None,
                        kind: rd.kind,
                        target,
                        code: rd.code,
                        drop_query: rd.drop_query,
                        append_slash: rd.append_slash,
                        cookie,
                    }),
                })
            }
            HttpAction::SetHeader { name, value } | HttpAction::AddHeader { name, value } => {
                let Some((n, Some(v))) = header_action(rule, kind, name, Some(value), acls, r)
                else {
                    continue;
                };
                let action = if matches!(rule.action, HttpAction::SetHeader { .. }) {
                    Action::SetHeader(n, v)
                } else {
                    Action::AddHeader(n, v)
                };
                out.push(Rule { cond: c, action });
            }
            HttpAction::DelHeader { name, method: None } => {
                let Some((n, _)) = header_action(rule, kind, name, None, acls, r) else {
                    continue;
                };
                out.push(Rule {
                    cond: c,
                    action: Action::DelHeader(n),
                });
            }
            HttpAction::ReplaceHeader {
                name,
                regex: re,
                replacement,
            }
            | HttpAction::ReplaceValue {
                name,
                regex: re,
                replacement,
            } => {
                let Some((n, Some(with))) =
                    header_action(rule, kind, name, Some(replacement), acls, r)
                else {
                    continue;
                };
                let Some(re) = regex(re, r, rule.span) else {
                    continue;
                };
                out.push(Rule {
                    cond: c,
                    action: Action::Replace {
                        name: n,
                        re,
                        with,
                        each_value: matches!(rule.action, HttpAction::ReplaceValue { .. }),
                    },
                });
            }
            HttpAction::SetPath(v)
            | HttpAction::SetQuery(v)
            | HttpAction::SetUri(v)
            | HttpAction::SetMethod(v)
                if kind == "http-request" =>
            {
                let Some(f) = fmt(v, acls, r, rule.span) else {
                    continue;
                };
                let action = match &rule.action {
                    HttpAction::SetPath(_) => Action::SetPath(f),
                    HttpAction::SetQuery(_) => Action::SetQuery(f),
                    HttpAction::SetUri(_) => Action::SetUri(f),
                    _ => Action::SetMethod(f),
                };
                out.push(Rule { cond: c, action });
            }
            HttpAction::ReplacePath {
                regex: re,
                replacement,
            } if kind == "http-request" => {
                let (Some(re), Some(with)) = (
                    regex(re, r, rule.span),
                    fmt(replacement, acls, r, rule.span),
                ) else {
                    continue;
                };
                out.push(Rule {
                    cond: c,
                    action: Action::ReplacePath { re, with },
                });
            }
            HttpAction::SetStatus { status, reason } if kind == "http-response" => out.push(Rule {
                cond: c,
                action: Action::SetStatus {
                    status: *status,
                    reason: reason.clone(),
                },
            }),
            HttpAction::Deny {
                content: Some(_), ..
            } => r.refuse(
                rule.span,
                &format!(
                    "{kind} deny' with an answer of its own (errorfile, errorfiles, string, file"
                ),
            ),
            _ => r.refuse(rule.span, &format!("{kind}' action")),
        }
    }
    acls.names().response.set(false);
    out
}

fn backend(
    p: &ir::Proxy,
    names: &Names<'_>,
    http_errors: &errorfile::Sections,
    r: &mut Refusals,
) -> Backend {
    settings(p, r);
    // A `listen` is checked whole on its frontend side.
    if p.kind == ir::ProxyKind::Backend {
        r.unlisted(
            p,
            &[
                "kind",
                "name",
                "from",
                "span",
                "settings",
                "servers",
                "http_request",
                "http_response",
                "acls",
                "rejected_acls",
                "redirects",
                "use_servers",
                "persist_rules",
                "description",
                "id",
            ],
            "",
            p.span,
        );
    }
    let mut acls = Compiler::new(&p.acls, names);
    for refused in acls.refused.drain(..) {
        r.refuse(refused.span, &refused.what);
    }
    let s = &p.settings;
    // Built once for all servers, and only if one is checked: unused check lines are inert.
    let http_check = p
        .servers
        .iter()
        .any(|srv| srv.opts.check == Some(true))
        .then(|| check::http_check(s, r))
        .flatten();
    let mut servers = Vec::new();
    for srv in &p.servers {
        r.unlisted(
            &srv.opts,
            &[
                "check",
                "inter",
                "fastinter",
                "downinter",
                "rise",
                "fall",
                "port",
                "addr",
                "weight",
                "backup",
                "disabled",
                "id",
                "maxconn",
                "maxqueue",
                "cookie",
            ],
            "server ",
            srv.span,
        );
        let host = match &srv.addr.node.host {
            Host::Ip(ip) => Some(*ip),
            Host::Name(n) => (n.as_str(), 0)
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .map(|a| a.ip()),
            _ => {
                r.refuse(srv.addr.span, "server' on a non-IP address");
                None
            }
        };
        let Some(host) = host else {
            r.push(Diagnostic::error(
                Dialect::Haproxy,
                srv.addr.span,
                format!("'server {}' : could not resolve address", srv.name.node),
            ));
            continue;
        };
        let o = &srv.opts;
        let check = o.check.unwrap_or(false).then(|| {
            let inter = o
                .inter
                .map(|d| d.to_std())
                .unwrap_or(std::time::Duration::from_secs(2));
            let http = http_check.clone();
            Check {
                addr: o.addr,
                port: o.port,
                inter,
                fastinter: o.fastinter.map(|d| d.to_std()).unwrap_or(inter),
                downinter: o.downinter.map(|d| d.to_std()).unwrap_or(inter),
                rise: o.rise.unwrap_or(2).max(1),
                fall: o.fall.unwrap_or(3).max(1),
                timeout: timeouts(s).check,
                http,
            }
        });
        servers.push(Server {
            name: srv.name.node.clone(),
            id: 0,
            host,
            port: srv.addr.node.port,
            weight: o.weight.unwrap_or(1),
            backup: o.backup.unwrap_or(false),
            disabled: o.disabled.unwrap_or(false),
            check,
            // 0 means no limit, for both.
            cookie: o.cookie.clone(),
            maxconn: o.maxconn.filter(|&m| m > 0),
            maxqueue: o.maxqueue.filter(|&m| m > 0),
        });
    }

    if let (Some(c), Some(key)) = (&s.cookie, &s.dynamic_cookie_key) {
        if c.node.dynamic {
            for srv in servers.iter_mut().filter(|s| s.cookie.is_none()) {
                srv.cookie = Some(dynamic_cookie(&key.node, srv.host, &srv.port));
            }
        }
    }
    assign_ids(&mut servers, &p.servers);
    if let Some(b) = &s.balance {
        if matches!(
            b.node,
            Balance::UrlParam {
                check_post: Some(_),
                ..
            }
        ) {
            r.refuse(b.span, "balance url_param ... check_post");
        }
    }
    Backend {
        name: p.name.node.clone(),
        mode: mode(p),
        servers,
        balance: s
            .balance
            .as_ref()
            .map(|b| b.node.clone())
            .unwrap_or(Balance::RoundRobin),
        hash_type: s.hash_type.as_ref().map(|h| h.node),
        allbackups: s
            .options
            .get(&OptionName::AllBackups)
            .is_some_and(|o| o.enabled),
        retries: s.retries.as_ref().map(|r| r.node).unwrap_or(3),
        redispatch: s
            .options
            .get(&OptionName::Redispatch)
            .is_some_and(|o| o.enabled),
        timeouts: timeouts(s),
        // A `listen`'s rules run once, on its frontend side.
        rules: if p.kind == ir::ProxyKind::Backend {
            rules(p, &mut acls, r)
        } else {
            Vec::new()
        },
        redirects: if p.kind == ir::ProxyKind::Backend {
            redirects(p, &mut acls, r)
        } else {
            Vec::new()
        },
        response_rules: if p.kind == ir::ProxyKind::Backend {
            response_rules(p, &mut acls, r)
        } else {
            Vec::new()
        },
        forwardfor: forwardfor(s, r),
        conn_mode: conn_mode(s),
        cookie: cookie_plan(s, r),
        use_servers: use_servers(p, &mut acls, r),
        reuse: s
            .http_reuse
            .as_ref()
            .map(|h| h.node)
            .unwrap_or(ir::HttpReuse::Safe),
        errorfiles: errorfile::errorfiles(s, http_errors, r),
        persist_rules: persist_rules(p, &mut acls, r),
    }
}

/// The `stats` keywords of a frontend or listen, and whether the runtime carries each out
/// (the others are refused at their line). The README's keyword table lists them.
pub const STATS_KEYWORDS: &[(&str, bool)] = &[
    ("admin", false),
    ("auth", true),
    ("bind-process", false),
    ("enable", true),
    ("hide-version", true),
    ("http-request", false),
    ("realm", true),
    ("refresh", true),
    ("scope", false),
    ("show-desc", false),
    ("show-legends", true),
    ("show-modules", false),
    ("show-node", false),
    ("uri", true),
];

/// A frontend's `stats` lines as a [`StatsPlan`]; what the page does not carry out
/// (`stats admin`, `show-node`, `show-desc`, `scope`) is refused at its line.
fn stats_plan(p: &ir::Proxy, r: &mut Refusals) -> Option<StatsPlan> {
    let s = &p.stats;
    r.unlisted(
        s,
        &[
            "enable",
            "uri",
            "realm",
            "auths",
            "refresh",
            "hide_version",
            "show_legends",
        ],
        "stats ",
        p.span,
    );
    let enable = s.enable?;
    if mode(p) != Mode::Http {
        r.refuse(enable, "stats' in a proxy not in 'mode http'");
        return None;
    }
    let realm = s.realm.as_ref().map_or("HAProxy Statistics", |r| &r.node);
    let Ok(challenge) = hyper::header::HeaderValue::from_str(&format!("Basic realm=\"{realm}\""))
    else {
        r.refuse(
            s.realm.as_ref().map_or(enable, |r| r.span),
            "stats realm' that is not a valid header value",
        );
        return None;
    };
    Some(StatsPlan {
        uri: s
            .uri
            .as_ref()
            .map_or_else(|| "/haproxy?stats".to_string(), |u| u.node.clone()),
        auth: s.auths.iter().map(|a| a.node.clone()).collect(),
        challenge,
        refresh: s
            .refresh
            .as_ref()
            .map(|d| d.node.micros.div_ceil(1_000_000)),
        hide_version: s.hide_version.is_some(),
        show_legends: s.show_legends.is_some(),
    })
}

/// Server ids as HAProxy gives them: an explicit `id`, else the server's position counting
/// from 1, or the next id after it that no server has taken.
fn assign_ids(servers: &mut [Server], ir_servers: &[ir::Server]) {
    let explicit: Vec<u32> = ir_servers.iter().filter_map(|s| s.opts.id).collect();
    let mut taken: std::collections::HashSet<u32> = explicit.into_iter().collect();
    for (pos, (s, irs)) in servers.iter_mut().zip(ir_servers).enumerate() {
        s.id = match irs.opts.id {
            Some(id) => id,
            None => {
                let mut id = pos as u32 + 1;
                while taken.contains(&id) {
                    id += 1;
                }
                taken.insert(id);
                id
            }
        };
    }
}

fn frontend(
    p: &ir::Proxy,
    names: &Names<'_>,
    http_errors: &errorfile::Sections,
    g: &ir::Global,
    r: &mut Refusals,
) -> Frontend {
    if p.kind == ir::ProxyKind::Frontend {
        settings(p, r);
    }
    let backends = names.backends;
    let mut acls = Compiler::new(&p.acls, names);
    for refused in acls.refused.drain(..) {
        r.refuse(refused.span, &refused.what);
    }
    r.unlisted(
        p,
        &[
            "kind",
            "name",
            "from",
            "span",
            "settings",
            "binds",
            "servers",
            "default_backend",
            "use_backends",
            "http_request",
            "http_response",
            "acls",
            "rejected_acls",
            "redirects",
            "use_servers",
            "persist_rules",
            "description",
            "id",
            "stats",
        ],
        "",
        p.span,
    );
    let stats = stats_plan(p, r);
    let mut listeners = Vec::new();
    for b in &p.binds {
        // TLS (`ssl crt`): the options `tls::terminator` carries out; `crt-list`, client
        // certificates (`ca-file`, `verify`), `curves` and `strict-sni` stay refused.
        r.unlisted(
            &b.opts,
            &[
                "name",
                "backlog",
                "maxconn",
                "id",
                "v4v6",
                "v6only",
                "ssl",
                "crt",
                "alpn",
                "ciphers",
                "ciphersuites",
                "ssl_min_ver",
                "ssl_max_ver",
                "no_tls",
            ],
            "bind ",
            b.span,
        );
        let tls = if b.opts.ssl {
            match crate::tls::terminator(&b.opts, g, mode(p) == Mode::Http) {
                Ok(t) => Some(Arc::new(t)),
                Err(messages) => {
                    for m in messages {
                        r.push(Diagnostic::error(Dialect::Haproxy, b.span, m));
                    }
                    None
                }
            }
        } else {
            None
        };
        for a in &b.addrs {
            let Some(ports) = a.node.ports else {
                r.refuse(a.span, "bind' on a unix socket");
                continue;
            };
            let ips: Vec<IpAddr> = match &a.node.host {
                // `:80` / `*:80` listen on IPv4 only, as in HAProxy (`:::80` is IPv6).
                Host::Any => vec![IpAddr::from([0u8; 4])],
                Host::Ip(ip) => vec![*ip],
                Host::Name(n) => (n.as_str(), 0)
                    .to_socket_addrs()
                    .map(|i| i.map(|s| s.ip()).collect())
                    .unwrap_or_default(),
                _ => {
                    r.refuse(a.span, "bind' on this address family");
                    continue;
                }
            };
            let v6only = match (b.opts.v6only, b.opts.v4v6) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let backlog = b
                .opts
                .backlog
                .or(p.settings.backlog.as_ref().map(|b| b.node))
                .or(p.settings.maxconn.as_ref().map(|m| m.node))
                .unwrap_or(1024);
            for ip in ips {
                for port in ports.first..=ports.last {
                    listeners.push(Listener {
                        addr: SocketAddr::new(ip, port),
                        backlog,
                        maxconn: b.opts.maxconn,
                        v6only,
                        tls: tls.clone(),
                    });
                }
            }
        }
    }
    // The rules in HAProxy's order: http-request, then redirect, then use_backend.
    let rules = rules(p, &mut acls, r);
    let redirects = redirects(p, &mut acls, r);
    let response_rules = response_rules(p, &mut acls, r);
    let mut switching = Vec::new();
    for ub in &p.use_backends {
        let Ok(c) = cond(ub.cond.as_ref(), &mut acls, r) else {
            continue;
        };
        match &ub.backend.node {
            ir::BackendRef::Name(n) => {
                if let Some(&b) = backends.get(n) {
                    switching.push((c, Switch::Backend(b)));
                }
            }
            ir::BackendRef::Dynamic(f) => match Fmt::compile(f, names) {
                Ok(f) => switching.push((c, Switch::Dynamic(f))),
                Err(what) => r.refuse(ub.backend.span, &what),
            },
        }
    }
    let target = None
        .or_else(|| {
            p.default_backend
                .as_ref()
                .and_then(|d| backends.get(&d.node).copied())
        })
        .or_else(|| {
            (p.kind == ir::ProxyKind::Listen)
                .then(|| backends.get(&p.name.node).copied())
                .flatten()
        });
    let s = &p.settings;
    Frontend {
        name: p.name.node.clone(),
        mode: mode(p),
        listeners,
        maxconn: s.maxconn.as_ref().map(|m| m.node),
        timeouts: timeouts(s),
        rules,
        redirects,
        response_rules,
        forwardfor: forwardfor(s, r),
        conn_mode: conn_mode(s),
        switching,
        backend: target,
        errorfiles: errorfile::errorfiles(s, http_errors, r),
        stats,
    }
}

/// The settings refused so far: each once (a setting inherited from `defaults` is refused
/// at its line, not once per proxy), in file order.
#[derive(Default)]
struct Refusals {
    found: std::collections::BTreeMap<(Span, String), Diagnostic>,
}

impl Refusals {
    fn refuse(&mut self, span: Span, what: &str) {
        self.push(Diagnostic::error(
            Dialect::Haproxy,
            span,
            format!("'{what}' is not carried out by the rsproxy runtime yet"),
        ));
    }

    fn push(&mut self, d: Diagnostic) {
        self.found.entry((d.span, d.message.clone())).or_insert(d);
    }

    fn into_diagnostics(self) -> Diagnostics {
        let mut out = Diagnostics::new();
        for d in self.found.into_values() {
            out.push(d);
        }
        out
    }

    /// Refuses every field of `value` that is set and not in `allowed`, at the span recorded
    /// with it (or `fallback`). "Set" means not null, false, zero-length or an empty map.
    fn unlisted(&mut self, value: &impl Serialize, allowed: &[&str], prefix: &str, fallback: Span) {
        let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(value) else {
            return;
        };
        for (name, v) in fields {
            if allowed.contains(&name.as_str()) || is_unset(&v) {
                continue;
            }
            let span = find_span(&v).unwrap_or(fallback);
            self.refuse(span, &format!("{prefix}{}", keyword_of_field(&name)));
        }
    }
}

/// The configuration keyword behind an IR field name.
fn keyword_of_field(field: &str) -> String {
    match field {
        "acls" => "acl".into(),
        "redirects" => "redirect".into(),
        "use_servers" => "use-server".into(),
        "logs" => "log".into(),
        "tune" => "tune.*".into(),
        "stats_sockets" => "stats socket".into(),
        "errorfiles" => "errorfile".into(),
        other => other.replace('_', "-"),
    }
}

fn is_unset(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null | serde_json::Value::Bool(false) => true,
        serde_json::Value::Array(a) => a.is_empty(),
        serde_json::Value::Object(o) => o.values().all(is_unset),
        _ => false,
    }
}

/// The first `{file, line, col}` object inside `v` (how a [`Span`] serialises).
fn find_span(v: &serde_json::Value) -> Option<Span> {
    match v {
        serde_json::Value::Object(o) => {
            if let (Some(line), Some(col)) = (
                o.get("line").and_then(|l| l.as_u64()),
                o.get("col").and_then(|c| c.as_u64()),
            ) {
                if let Some(file) = o.get("file").and_then(|f| f.as_u64()) {
                    return Some(Span::new(
                        rsproxy_parser::FileId(file as u32),
                        line as u32,
                        col as u32,
                    ));
                }
            }
            o.values().find_map(find_span)
        }
        serde_json::Value::Array(a) => a.iter().find_map(find_span),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsproxy_parser::haproxy::parse_str;
    use rsproxy_parser::Env;

    fn plan(text: &str) -> Result<Plan, Vec<(u32, String)>> {
        let (config, diags, _) = parse_str(text, &Env::empty());
        assert!(!diags.has_errors(), "{diags:?}");
        build(&config, true)
            .map_err(|d| d.iter().map(|d| (d.span.line, d.message.clone())).collect())
    }

    const BASE: &str =
        "defaults\n  mode http\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\n";

    /// description: `cookie ... dynamic` values equal the ones haproxy 2.6.12 sent for the
    /// same key, address and port (taken from its Set-Cookie answers).
    #[test]
    fn dynamic_cookies_equal_haproxy_s() {
        let v4 = |a: &str| a.parse::<IpAddr>().unwrap();
        let fixed = ir::ServerPort::Fixed;
        assert_eq!(
            dynamic_cookie("mykey", v4("127.0.0.1"), &fixed(18182)),
            "38dee15686638495"
        );
        assert_eq!(
            dynamic_cookie("mykey", v4("127.0.0.1"), &fixed(18183)),
            "af7e14d3725d848d"
        );
        assert_eq!(
            dynamic_cookie("s3cr3t key", v4("127.0.0.1"), &fixed(18182)),
            "9a2305422f3b4537"
        );
        let p = plan(&format!(
            "{BASE}frontend f\n  bind :80\n  default_backend b\nbackend b\n  dynamic-cookie-key mykey\n  \
             cookie SRV insert dynamic\n  server a 127.0.0.1:18182\n  server c 127.0.0.1:18183 cookie own\n"
        ))
        .unwrap();
        let cookies: Vec<_> = p.backends[0]
            .servers
            .iter()
            .map(|s| s.cookie.clone())
            .collect();
        assert_eq!(
            cookies,
            [Some("38dee15686638495".into()), Some("own".into())]
        );
    }

    /// description: frontends resolve their backend; servers take defaults and checks.
    #[test]
    fn builds_frontends_backends_and_checks() {
        let p = plan(&format!(
            "{BASE}frontend www\n  bind 127.0.0.1:8080,127.0.0.1:8090-8091\n  option forwardfor except 127.0.0.0/8\n  \
             default_backend app\nbackend app\n  balance leastconn\n  option httpchk HEAD /check.txt HTTP/1.0\n  \
             server a 127.0.0.1:81 check inter 3s rise 1 fall 2\n  server b 127.0.0.1:82 backup\n"
        ))
        .unwrap();
        assert_eq!(p.frontends[0].listeners.len(), 3);
        assert_eq!(p.frontends[0].backend, Some(0));
        assert!(p.frontends[0]
            .forwardfor
            .as_ref()
            .is_some_and(|f| f.except.is_some()));
        let app = &p.backends[0];
        assert_eq!(app.balance, Balance::LeastConn);
        let c = app.servers[0].check.as_ref().unwrap();
        assert_eq!((c.inter.as_secs(), c.rise, c.fall), (3, 1, 2));
        assert_eq!(
            c.http.as_ref().map(|h| &h.request[..]),
            Some(&b"HEAD /check.txt HTTP/1.0\r\n\r\n"[..])
        );
        assert!(app.servers[1].backup && app.servers[1].check.is_none());
    }

    /// description: what the runtime does not carry out is refused at its line, once, in
    /// file order — including settings inherited from defaults.
    #[test]
    fn refusals_are_located_and_deduplicated() {
        let err = plan(&format!(
            "{BASE}  timeout http-keep-alive 1m\nfrontend f\n  bind :80\n  default_backend b\nbackend b\n  cookie S insert maxidle 1h\n  \
             server a 127.0.0.1:81 slowstart 10s\nbackend c\n  server z 127.0.0.1:82 minconn 10\n"
        ))
        .unwrap_err();
        let lines: Vec<u32> = err.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [6, 11, 12, 14], "{err:?}");
        assert!(err[0]
            .1
            .starts_with("'timeout http-keep-alive' different from"));
        assert!(err[1].1.starts_with("'cookie ... maxidle/maxlife'"));
        assert!(err[2].1.starts_with("'server slowstart'"));
        assert!(err[3].1.starts_with("'server minconn'"));
    }

    /// description: each `stats` keyword the README lists as carried out builds a page, each
    /// other one is refused at its line (by the plan, or by the parser); `stats enable`
    /// alone serves `/haproxy?stats` with HAProxy's default realm; `stats` in a backend or a
    /// tcp proxy is refused.
    #[test]
    fn stats_keywords_are_served_or_refused() {
        for &(kw, served) in STATS_KEYWORDS {
            let args = match kw {
                "admin" => "admin if TRUE",
                "auth" => "auth a:b",
                "realm" => "realm Ops",
                "refresh" => "refresh 5s",
                "scope" => "scope st",
                "show-desc" => "show-desc hello",
                "uri" => "uri /s",
                "http-request" => "http-request deny",
                other => other,
            };
            let text =
                format!("{BASE}listen st\n  bind 127.0.0.1:8080\n  stats enable\n  stats {args}\n");
            let (config, diags, _) = parse_str(&text, &Env::empty());
            if diags.has_errors() {
                assert!(!served, "stats {kw}: {diags:?}");
                continue;
            }
            match build(&config, true) {
                Ok(p) => assert!(served && p.frontends[0].stats.is_some(), "stats {kw}"),
                Err(d) => {
                    assert!(!served, "stats {kw}: {d:?}");
                    assert!(d.iter().any(|d| d.span.line == 9), "stats {kw}: {d:?}");
                }
            }
        }
        let p = plan(&format!(
            "{BASE}frontend f\n  bind 127.0.0.1:8080\n  stats enable\n"
        ))
        .unwrap();
        let s = p.frontends[0].stats.as_ref().unwrap();
        assert_eq!(s.uri, "/haproxy?stats");
        assert_eq!(s.challenge, "Basic realm=\"HAProxy Statistics\"");
        assert!(s.auth.is_empty() && s.refresh.is_none());
        for (text, line) in [
            (
                format!(
                    "{BASE}backend b\n  stats enable\n  server a 127.0.0.1:80\n\
                     frontend f\n  bind 127.0.0.1:8081\n  default_backend b\n"
                ),
                7,
            ),
            (
                format!("{BASE}listen t\n  mode tcp\n  bind 127.0.0.1:8080\n  stats enable\n"),
                9,
            ),
        ] {
            let e = plan(&text).unwrap_err();
            assert!(
                e.iter().any(|(l, m)| *l == line && m.contains("stats")),
                "{e:?}"
            );
        }
    }

    /// description: an answer rule that reads the request (HAProxy refuses the configuration)
    /// is refused at its line rather than run with nothing to read.
    #[test]
    fn answer_rules_may_not_read_the_request() {
        // As HAProxy 2.6: a log-format value reading the request is an error in an answer
        // rule; an ACL on the request is accepted there (it never matches), and the method
        // may be read.
        let err = plan(&format!(
            "{BASE}frontend f\n  bind :80\n  acl p path /x\n  http-response set-header X %[path]\n  \
             http-response del-header Y if p\n  http-response set-header Z %[status]\n  \
             http-response set-header M %[method] if !{{ hdr(host) -m found }}\n  default_backend b\n\
             backend b\n  server a 127.0.0.1:81\n"
        ))
        .unwrap_err();
        let lines: Vec<u32> = err.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [9], "{err:?}");
        assert!(
            err.iter()
                .all(|(_, m)| m.contains("in an http-response rule")),
            "{err:?}"
        );
    }

    /// description: `daemon` runs only in the foreground (-db) until daemon mode exists.
    #[test]
    fn daemon_needs_foreground() {
        let (config, _, _) = parse_str(
            &format!("global\n  daemon\n{BASE}listen l\n  bind :80\n"),
            &Env::empty(),
        );
        assert!(build(&config, true).is_ok());
        let err = build(&config, false).unwrap_err();
        assert!(err
            .iter()
            .any(|d| d.span.line == 2 && d.message.contains("-db")));
    }

    /// description: bind options are carried to the listeners; `:80` is IPv4 as in HAProxy.
    #[test]
    fn bind_options_reach_the_listeners() {
        let p = plan(&format!(
            "{BASE}frontend f\n  maxconn 50\n  bind :8080\n  bind :::8081 v6only backlog 7 maxconn 3\n"
        ))
        .unwrap();
        let l = &p.frontends[0].listeners;
        assert_eq!(l[0].addr, "0.0.0.0:8080".parse().unwrap());
        assert_eq!((l[0].backlog, l[0].maxconn, l[0].v6only), (50, None, None));
        assert_eq!(l[1].addr, "[::]:8081".parse().unwrap());
        assert_eq!(
            (l[1].backlog, l[1].maxconn, l[1].v6only),
            (7, Some(3), Some(true))
        );
    }

    /// description: `timeout http-keep-alive` is carried out when it equals the request-head
    /// timeout (one timer in hyper), refused otherwise; a `disabled` proxy is refused.
    #[test]
    fn keep_alive_timeout_and_disabled_proxy() {
        let ok = format!("{BASE}  timeout http-request 10s\n  timeout http-keep-alive 10s\nlisten l\n  bind :80\n");
        assert!(plan(&ok).is_ok());
        let err = plan(&format!("{BASE}  timeout http-request 10s\n  timeout http-keep-alive 2s\nlisten l\n  bind :80\n"))
            .unwrap_err();
        assert_eq!(err[0].0, 7);
        assert!(
            err[0].1.starts_with("'timeout http-keep-alive' different"),
            "{err:?}"
        );
        let err = plan(&format!(
            "{BASE}listen l\n  bind :80\n  disabled\nlisten m\n  bind :81\n"
        ))
        .unwrap_err();
        assert_eq!(
            err[0],
            (
                8,
                "'disabled' is not carried out by the rsproxy runtime yet".to_string()
            )
        );
    }
}
