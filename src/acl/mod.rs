//! ACLs and conditions, compiled once from the IR and evaluated per request.
//!
//! An ACL is a sample fetch (`path`, `hdr(host)`, `src`, ...), converters applied to each
//! sample (`lower`, `map(file)`, ...), and a match method with its patterns (`-m beg /api`).
//! It is true when any sample the fetch yields matches any pattern; a fetch that yields
//! nothing makes it false (so `!acl` is true). A condition (`if`/`unless`) is an OR of ANDs of
//! possibly negated ACLs; a named ACL stands for all its declarations, OR'ed.
//!
//! Compilation ([`Compiler`]) resolves everything a request must not pay for again: patterns
//! parsed (integers, networks), regexes built, map files read, header names typed, backend and
//! server names turned into indices. What the runtime cannot evaluate yet is refused there,
//! with the keyword's location ([`Refused`]); nothing is skipped silently.
//!
//! Evaluation ([`Cond::eval`]) reads a [`Ctx`]: the request (or connection, in `mode tcp`),
//! its addresses, and live counts for `nbsrv()`/`srv_is_up()`/`be_conn()`/`fe_conn`.

use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderName};
use rsproxy_parser::ir::haproxy::{self as ir, AclExpr, AclRef, MatchMethod};
use rsproxy_parser::ir::{parse_ipnet, IpNet};
use rsproxy_parser::Span;
use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

/// One sample: what a fetch yields and converters transform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Smp<'a> {
    Str(Cow<'a, [u8]>),
    Int(i64),
    Ip(IpAddr),
    Bool(bool),
}

impl Smp<'_> {
    fn as_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Smp::Str(s) => Cow::Borrowed(s.as_ref()),
            Smp::Int(i) => Cow::Owned(i.to_string().into_bytes()),
            Smp::Ip(ip) => Cow::Owned(ip.to_string().into_bytes()),
            Smp::Bool(b) => Cow::Owned(if *b { b"1".to_vec() } else { b"0".to_vec() }),
        }
    }

    fn as_int(&self) -> Option<i64> {
        match self {
            Smp::Int(i) => Some(*i),
            Smp::Bool(b) => Some(i64::from(*b)),
            // HAProxy reads a string's leading digits as C's strtoll does.
            Smp::Str(s) => Some(leading_int(s)),
            Smp::Ip(_) => None,
        }
    }

    fn as_ip(&self) -> Option<IpAddr> {
        match self {
            Smp::Ip(ip) => Some(*ip),
            Smp::Str(s) => std::str::from_utf8(s).ok()?.trim().parse().ok(),
            _ => None,
        }
    }
}

/// C's `strtoll` on a byte string: optional blanks and sign, then digits; 0 without any.
fn leading_int(s: &[u8]) -> i64 {
    let s = s.trim_ascii_start();
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for &b in digits.iter().take_while(|b| b.is_ascii_digit()) {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        -v
    } else {
        v
    }
}

/// Variables (`set-var`, `var()`): one store per scope that lives long enough.
#[derive(Debug, Default)]
pub struct Vars {
    /// Full names (`txn.user`) and values; few per store, so a list.
    map: std::sync::Mutex<Vec<(String, Smp<'static>)>>,
}

impl Vars {
    pub fn set(&self, name: &str, v: Smp<'static>) {
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        match m.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = v,
            None => m.push((name.to_string(), v)),
        }
    }

    pub fn unset(&self, name: &str) {
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        m.retain(|(n, _)| n != name);
    }

    fn get(&self, name: &str) -> Option<Smp<'static>> {
        let m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        m.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }
}

/// The variable stores a request sees: its own (`txn`, `req`, `res`), its connection's
/// (`sess`) and the process's (`proc`).
#[derive(Clone, Copy)]
pub struct VarsView<'a> {
    pub txn: &'a Vars,
    pub sess: &'a Vars,
    pub proc: &'a Vars,
}

impl<'a> VarsView<'a> {
    /// The store of a full variable name (`txn.x`), if its scope is known.
    pub fn store(&self, name: &str) -> Option<&'a Vars> {
        match name.split_once('.')?.0 {
            "txn" | "req" | "res" => Some(self.txn),
            "sess" => Some(self.sess),
            "proc" => Some(self.proc),
            _ => None,
        }
    }
}

/// A sample expression (`set-var`'s): a fetch and its converters.
#[derive(Debug, Clone)]
pub struct SampleExpr {
    fetch: Fetch,
    convs: Vec<Conv>,
}

impl SampleExpr {
    pub fn compile(expr: &str, names: &Names<'_>) -> Result<SampleExpr, String> {
        let parsed = rsproxy_parser::haproxy::acl::parse_sample(
            expr,
            rsproxy_parser::haproxy::acl::SampleContext::Expr,
        )?;
        Ok(SampleExpr {
            fetch: compile_fetch(&parsed.sample, names)?,
            convs: parsed
                .sample
                .converters
                .iter()
                .map(compile_conv)
                .collect::<Result<Vec<_>, _>>()?,
        })
    }

    /// The expression's first value for this request, if any.
    pub fn eval(&self, ctx: &Ctx<'_>) -> Option<Smp<'static>> {
        let mut out = None;
        self.fetch.single(ctx, &mut |s| {
            let mut s = s;
            for c in &self.convs {
                match c.apply(s) {
                    Some(n) => s = n,
                    None => return,
                }
            }
            out = Some(owned(s));
        });
        out
    }
}

fn owned(s: Smp<'_>) -> Smp<'static> {
    match s {
        Smp::Str(b) => Smp::Str(Cow::Owned(b.into_owned())),
        Smp::Int(i) => Smp::Int(i),
        Smp::Ip(ip) => Smp::Ip(ip),
        Smp::Bool(b) => Smp::Bool(b),
    }
}

/// Live counts the `nbsrv()`, `srv_is_up()`, `be_conn()` and `fe_conn` fetches read.
pub trait World: Send + Sync {
    /// Usable servers of backend `b`.
    fn nbsrv(&self, b: usize) -> i64;
    fn srv_is_up(&self, b: usize, s: usize) -> bool;
    /// Sessions now on backend `b`.
    fn be_conn(&self, b: usize) -> i64;
    /// Sessions now on frontend `f`.
    fn fe_conn(&self, f: usize) -> i64;
}

/// What a condition is evaluated against.
pub struct Ctx<'a> {
    /// `None` in `mode tcp`: HTTP fetches yield nothing there.
    pub http: Option<HttpCtx<'a>>,
    /// The answer, for `http-response` rules (`status`, `res.hdr()`).
    pub resp: Option<RespCtx<'a>>,
    /// Variables (`var()`); `None` where none can exist (`mode tcp` routing).
    pub vars: Option<VarsView<'a>>,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// The frontend and backend the request is in (for `nbsrv`/`be_conn`/`fe_conn` without
    /// an argument).
    pub frontend: usize,
    pub backend: Option<usize>,
    pub world: &'a dyn World,
    /// What the TLS handshake agreed, on a TLS connection (`ssl_fc*`).
    pub tls: Option<&'a crate::tls::TlsInfo>,
}

/// The answer as the fetches see it.
pub struct RespCtx<'a> {
    pub status: u16,
    pub headers: &'a HeaderMap,
    /// The request's method, which HAProxy keeps for the answer's rules.
    pub method: &'a [u8],
}

/// The request as the fetches see it.
pub struct HttpCtx<'a> {
    pub method: &'a [u8],
    /// The request target as received (origin form, or absolute form).
    pub target: &'a [u8],
    pub version: &'a [u8],
    pub headers: &'a HeaderMap,
}

impl HttpCtx<'_> {
    /// The path: the target without its query, and without scheme and authority in the
    /// absolute form.
    fn path(&self) -> &[u8] {
        let t = self.target;
        let t = match find(t, b"://") {
            Some(i) if !t.starts_with(b"/") => {
                let rest = &t[i + 3..];
                match rest.iter().position(|&b| b == b'/') {
                    Some(j) => &rest[j..],
                    None => b"",
                }
            }
            // The asterisk form (`OPTIONS *`) has no path.
            _ if !t.starts_with(b"/") => b"",
            _ => t,
        };
        match t.iter().position(|&b| b == b'?') {
            Some(q) => &t[..q],
            None => t,
        }
    }

    fn query(&self) -> Option<&[u8]> {
        let t = self.target;
        t.iter().position(|&b| b == b'?').map(|q| &t[q + 1..])
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------------------
// Fetches

#[derive(Debug, Clone)]
enum Fetch {
    /// Never a sample: an ACL on the request in an `http-response` rule.
    Unavailable,
    Path,
    Url,
    Query,
    Base,
    Method,
    Ver,
    ProtoHttp,
    /// All values of a header (comma-split unless `full`), or one occurrence (1 = first,
    /// -1 = last).
    Hdr {
        name: HeaderName,
        occ: Option<i64>,
        full: bool,
    },
    HdrCnt {
        name: Option<HeaderName>,
        full: bool,
    },
    HdrIp {
        name: HeaderName,
        occ: Option<i64>,
    },
    HdrVal {
        name: HeaderName,
        occ: Option<i64>,
    },
    Cook(Option<Bytes>),
    CookCnt(Option<Bytes>),
    CookVal(Option<Bytes>),
    UrlParam {
        name: Option<Bytes>,
        delim: u8,
    },
    Src,
    SrcPort,
    Dst,
    DstPort,
    Always(bool),
    /// `ssl_fc`: the connection came over TLS.
    SslFc,
    /// `ssl_fc_sni`, `ssl_fc_protocol`, `ssl_fc_cipher`, `ssl_fc_alpn`, `ssl_fc_has_sni`: what
    /// the TLS handshake agreed (no sample on a plain connection).
    SslFcSni,
    SslFcProtocol,
    SslFcCipher,
    SslFcAlpn,
    SslFcHasSni,
    /// `req.ssl_sni` (a ClientHello inspected by `tcp-request`, not carried out): never a
    /// sample.
    Nothing,
    NbSrv(Option<usize>),
    SrvIsUp(usize, usize),
    BeConn(Option<usize>),
    FeConn(Option<usize>),
    Str(Bytes),
    Int(i64),
    HttpAuth(std::sync::Arc<Userlist>),
    /// `var(scope.name)`: its full name.
    Var(String),
    HttpAuthGroup(std::sync::Arc<Userlist>),
    Status,
    ResHdr {
        name: HeaderName,
        occ: Option<i64>,
        full: bool,
    },
    ResHdrCnt(HeaderName),
}

/// Names the runtime resolves while compiling.
pub struct Names<'a> {
    pub backends: &'a HashMap<String, usize>,
    pub frontends: &'a HashMap<String, usize>,
    /// Per backend, its servers' names in order.
    pub servers: &'a [Vec<String>],
    pub userlists: &'a HashMap<String, std::sync::Arc<Userlist>>,
    /// Compiling for `http-response` rules: fetches of the request are refused there, as
    /// HAProxy refuses them (the request is gone by then).
    pub response: std::cell::Cell<bool>,
}

/// A `userlist`: users with their passwords and groups.
#[derive(Debug)]
pub struct Userlist {
    pub users: Vec<UserEntry>,
}

#[derive(Debug)]
pub struct UserEntry {
    pub name: String,
    pub password: Password,
    pub groups: Vec<String>,
}

#[derive(Debug)]
pub enum Password {
    Insecure(String),
    /// A crypt(3) hash, checked as glibc checks it.
    Crypt(String),
}

impl Userlist {
    /// The user the request's `Authorization: Basic` credentials name, if the password is
    /// right.
    fn authenticate(&self, headers: &HeaderMap) -> Option<&UserEntry> {
        use base64::Engine;
        let v = headers.get(hyper::header::AUTHORIZATION)?.as_bytes();
        let (scheme, cred) = v.split_at(v.iter().position(|&c| c == b' ')?);
        if !scheme.eq_ignore_ascii_case(b"basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(cred.trim_ascii())
            .ok()?;
        let colon = decoded.iter().position(|&c| c == b':')?;
        let (user, pass) = (&decoded[..colon], &decoded[colon + 1..]);
        let entry = self.users.iter().find(|u| u.name.as_bytes() == user)?;
        let ok = match &entry.password {
            Password::Insecure(p) => p.as_bytes() == pass,
            Password::Crypt(h) => {
                std::str::from_utf8(pass).is_ok_and(|p| pwhash::unix::verify(p, h))
            }
        };
        ok.then_some(entry)
    }
}

/// Whether pwhash checks this crypt(3) hash (the formats glibc's crypt knows but yescrypt).
pub fn crypt_supported(h: &str) -> bool {
    const PREFIXES: &[&str] = &["$1$", "$5$", "$6$", "$2a$", "$2b$", "$2y$", "$sha1$", "_"];
    PREFIXES.iter().any(|p| h.starts_with(p))
        || (h.len() == 13
            && h.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'/'))
}

fn header_name(s: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(s.as_bytes()).map_err(|_| format!("'{s}' is not a valid header name"))
}

/// `hdr(name[,occ])` arguments.
fn hdr_args(args: &[String]) -> Result<(HeaderName, Option<i64>), String> {
    let name = header_name(args.first().map(String::as_str).unwrap_or(""))?;
    let occ = match args.get(1) {
        Some(o) => Some(
            o.trim()
                .parse::<i64>()
                .map_err(|_| format!("bad occurrence '{o}'"))?,
        ),
        None => None,
    };
    Ok((name, occ))
}

fn compile_fetch(s: &ir::Sample, names: &Names<'_>) -> Result<Fetch, String> {
    let f = compile_fetch_any(s, names)?;
    if names.response.get() && f.request_only() {
        return Err(format!(
            "fetch '{}' in an http-response rule (HAProxy refuses it: the request is not available there)",
            s.fetch
        ));
    }
    Ok(f)
}

fn compile_fetch_any(s: &ir::Sample, names: &Names<'_>) -> Result<Fetch, String> {
    let a = &s.args;
    let opt_name = |i: usize| {
        a.get(i)
            .filter(|x| !x.is_empty())
            .map(|x| Bytes::from(x.clone()))
    };
    let backend = |n: &String| {
        names
            .backends
            .get(n)
            .copied()
            .ok_or_else(|| format!("no backend '{n}'"))
    };
    Ok(match s.fetch {
        "path" => Fetch::Path,
        "url" => Fetch::Url,
        "query" => Fetch::Query,
        "base" => Fetch::Base,
        "method" => Fetch::Method,
        "req.ver" | "req_ver" => Fetch::Ver,
        "req.proto_http" | "req_proto_http" => Fetch::ProtoHttp,
        "hdr" | "req.hdr" => {
            let (name, occ) = hdr_args(a)?;
            Fetch::Hdr {
                name,
                occ,
                full: false,
            }
        }
        "req.fhdr" => {
            let (name, occ) = hdr_args(a)?;
            Fetch::Hdr {
                name,
                occ,
                full: true,
            }
        }
        "hdr_cnt" | "req.hdr_cnt" | "req.fhdr_cnt" => Fetch::HdrCnt {
            name: match a.first().filter(|x| !x.is_empty()) {
                Some(n) => Some(header_name(n)?),
                None => None,
            },
            full: s.fetch == "req.fhdr_cnt",
        },
        "hdr_ip" | "req.hdr_ip" => {
            let (name, occ) = hdr_args(a)?;
            Fetch::HdrIp { name, occ }
        }
        "hdr_val" | "req.hdr_val" => {
            let (name, occ) = hdr_args(a)?;
            Fetch::HdrVal { name, occ }
        }
        "cook" | "req.cook" => Fetch::Cook(opt_name(0)),
        "cook_cnt" | "req.cook_cnt" => Fetch::CookCnt(opt_name(0)),
        "cook_val" | "req.cook_val" => Fetch::CookVal(opt_name(0)),
        "url_param" | "urlp" => Fetch::UrlParam {
            name: opt_name(0),
            delim: a.get(1).and_then(|d| d.bytes().next()).unwrap_or(b'&'),
        },
        "src" => Fetch::Src,
        "src_port" => Fetch::SrcPort,
        "dst" => Fetch::Dst,
        "dst_port" => Fetch::DstPort,
        "always_true" => Fetch::Always(true),
        "always_false" => Fetch::Always(false),
        "ssl_fc" => Fetch::SslFc,
        "ssl_fc_sni" => Fetch::SslFcSni,
        "ssl_fc_protocol" => Fetch::SslFcProtocol,
        "ssl_fc_cipher" => Fetch::SslFcCipher,
        "ssl_fc_alpn" => Fetch::SslFcAlpn,
        "ssl_fc_has_sni" => Fetch::SslFcHasSni,
        "req.ssl_sni" | "req_ssl_sni" => Fetch::Nothing,
        "nbsrv" => Fetch::NbSrv(a.first().map(backend).transpose()?),
        "be_conn" => Fetch::BeConn(a.first().map(backend).transpose()?),
        "fe_conn" => Fetch::FeConn(
            a.first()
                .map(|n| {
                    names
                        .frontends
                        .get(n)
                        .copied()
                        .ok_or_else(|| format!("no frontend '{n}'"))
                })
                .transpose()?,
        ),
        "srv_is_up" => {
            let arg = a.first().cloned().unwrap_or_default();
            let (b, srv) = arg
                .split_once('/')
                .ok_or_else(|| format!("'srv_is_up({arg})': expects backend/server"))?;
            let bi = backend(&b.to_string())?;
            let si = names
                .servers
                .get(bi)
                .and_then(|list| list.iter().position(|n| n == srv))
                .ok_or_else(|| format!("no server '{srv}' in backend '{b}'"))?;
            Fetch::SrvIsUp(bi, si)
        }
        "http_auth" | "http_auth_group" => {
            let name = a.first().cloned().unwrap_or_default();
            let list = names
                .userlists
                .get(&name)
                .cloned()
                .ok_or_else(|| format!("no userlist '{name}'"))?;
            if s.fetch == "http_auth" {
                Fetch::HttpAuth(list)
            } else {
                Fetch::HttpAuthGroup(list)
            }
        }
        "var" => {
            let name = a.first().cloned().unwrap_or_default();
            if !matches!(
                name.split_once('.').map(|(s, _)| s),
                Some("proc" | "sess" | "txn" | "req" | "res")
            ) {
                return Err(format!("var({name})"));
            }
            Fetch::Var(name)
        }
        "status" => Fetch::Status,
        "res.hdr" | "shdr" => {
            let (name, occ) = hdr_args(a)?;
            Fetch::ResHdr {
                name,
                occ,
                full: false,
            }
        }
        "res.fhdr" => {
            let (name, occ) = hdr_args(a)?;
            Fetch::ResHdr {
                name,
                occ,
                full: true,
            }
        }
        "res.hdr_cnt" | "shdr_cnt" => Fetch::ResHdrCnt(hdr_args(a)?.0),
        "str" => Fetch::Str(Bytes::from(a.first().cloned().unwrap_or_default())),
        "int" => Fetch::Int(a.first().map_or(0, |x| leading_int(x.as_bytes()))),
        other => return Err(format!("fetch '{other}'")),
    })
}

/// The comma-separated values of a header, trimmed (HAProxy's `hdr()`); whole lines for
/// `full` (`fhdr()`).
fn header_values<'a>(headers: &'a HeaderMap, name: &HeaderName, full: bool) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    for v in headers.get_all(name) {
        let b = v.as_bytes();
        if full {
            out.push(b.trim_ascii());
        } else {
            out.extend(b.split(|&c| c == b',').map(<[u8]>::trim_ascii));
        }
    }
    out
}

fn pick_occurrence<T: Copy>(all: &[T], occ: Option<i64>) -> Vec<T> {
    match occ {
        None | Some(0) => all.to_vec(),
        Some(n) if n > 0 => all.get(n as usize - 1).copied().into_iter().collect(),
        Some(n) => all
            .len()
            .checked_sub(n.unsigned_abs() as usize)
            .and_then(|i| all.get(i))
            .copied()
            .into_iter()
            .collect(),
    }
}

/// Cookie values named `name` in the request's Cookie fields (all of them if `name` is
/// `None`).
fn cookies<'a>(headers: &'a HeaderMap, name: Option<&[u8]>) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    for v in headers.get_all(hyper::header::COOKIE) {
        for pair in v.as_bytes().split(|&c| c == b';') {
            let pair = pair.trim_ascii();
            let (k, val) = match pair.iter().position(|&c| c == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            if name.is_none_or(|n| n == k.trim_ascii()) {
                out.push(val.trim_ascii());
            }
        }
    }
    out
}

impl Fetch {
    /// Reads the request (its line, fields or credentials), which HAProxy no longer has when
    /// the answer comes; the method it keeps (`method` works in `http-response` rules).
    fn request_only(&self) -> bool {
        matches!(
            self,
            Fetch::Path
                | Fetch::Url
                | Fetch::Query
                | Fetch::Base
                | Fetch::Ver
                | Fetch::Hdr { .. }
                | Fetch::HdrCnt { .. }
                | Fetch::HdrIp { .. }
                | Fetch::HdrVal { .. }
                | Fetch::Cook(_)
                | Fetch::CookCnt(_)
                | Fetch::CookVal(_)
                | Fetch::UrlParam { .. }
                | Fetch::HttpAuth(_)
                | Fetch::HttpAuthGroup(_)
        )
    }

    /// Calls `f` with the one sample a sample expression (a log-format value, `set-var`)
    /// reads: HAProxy's header and cookie fetches without an occurrence give the last one
    /// there (an ACL tries them all), the others their first.
    fn single(&self, ctx: &Ctx<'_>, f: &mut dyn FnMut(Smp<'_>)) {
        let last = matches!(
            self,
            Fetch::Hdr { occ: None, .. }
                | Fetch::ResHdr { occ: None, .. }
                | Fetch::HdrIp { occ: None, .. }
                | Fetch::HdrVal { occ: None, .. }
                | Fetch::Cook(_)
                | Fetch::CookVal(_)
        );
        let mut one = None;
        self.each(ctx, &mut |s| {
            one = Some(owned(s));
            !last
        });
        if let Some(s) = one {
            f(s);
        }
    }

    /// Calls `f` with each sample until it returns true; returns whether one did.
    fn each(&self, ctx: &Ctx<'_>, f: &mut dyn FnMut(Smp<'_>) -> bool) -> bool {
        let http = ctx.http.as_ref();
        let one = |s: Option<Smp<'_>>, f: &mut dyn FnMut(Smp<'_>) -> bool| s.is_some_and(f);
        match self {
            Fetch::Unavailable => false,
            Fetch::Path => one(http.map(|h| Smp::Str(Cow::Borrowed(h.path()))), f),
            Fetch::Url => one(http.map(|h| Smp::Str(Cow::Borrowed(h.target))), f),
            Fetch::Query => one(
                http.and_then(|h| h.query())
                    .map(|q| Smp::Str(Cow::Borrowed(q))),
                f,
            ),
            Fetch::Base => one(
                http.and_then(|h| {
                    let host = h.headers.get(hyper::header::HOST)?.as_bytes();
                    let mut v = host.to_vec();
                    v.extend_from_slice(h.path());
                    Some(Smp::Str(Cow::Owned(v)))
                }),
                f,
            ),
            Fetch::Method => one(
                http.map(|h| h.method)
                    .or(ctx.resp.as_ref().map(|r| r.method))
                    .map(|m| Smp::Str(Cow::Borrowed(m))),
                f,
            ),
            Fetch::Ver => one(http.map(|h| Smp::Str(Cow::Borrowed(h.version))), f),
            Fetch::ProtoHttp => one(Some(Smp::Bool(http.is_some())), f),
            Fetch::Hdr { name, occ, full } => {
                let Some(h) = http else { return false };
                let all = header_values(h.headers, name, *full);
                pick_occurrence(&all, *occ)
                    .into_iter()
                    .any(|v| f(Smp::Str(Cow::Borrowed(v))))
            }
            Fetch::HdrCnt { name, full } => {
                let Some(h) = http else { return false };
                let n = match name {
                    Some(name) => header_values(h.headers, name, *full).len(),
                    None => h.headers.len(),
                };
                f(Smp::Int(n as i64))
            }
            Fetch::HdrIp { name, occ } => {
                let Some(h) = http else { return false };
                let all = header_values(h.headers, name, false);
                pick_occurrence(&all, *occ).into_iter().any(|v| {
                    Smp::Str(Cow::Borrowed(v))
                        .as_ip()
                        .is_some_and(|ip| f(Smp::Ip(ip)))
                })
            }
            Fetch::HdrVal { name, occ } => {
                let Some(h) = http else { return false };
                let all = header_values(h.headers, name, false);
                pick_occurrence(&all, *occ)
                    .into_iter()
                    .any(|v| f(Smp::Int(leading_int(v))))
            }
            Fetch::Cook(name) => {
                let Some(h) = http else { return false };
                cookies(h.headers, name.as_deref())
                    .into_iter()
                    .any(|v| f(Smp::Str(Cow::Borrowed(v))))
            }
            Fetch::CookCnt(name) => {
                let Some(h) = http else { return false };
                f(Smp::Int(cookies(h.headers, name.as_deref()).len() as i64))
            }
            Fetch::CookVal(name) => {
                let Some(h) = http else { return false };
                cookies(h.headers, name.as_deref())
                    .into_iter()
                    .any(|v| f(Smp::Int(leading_int(v))))
            }
            Fetch::UrlParam { name, delim } => {
                let Some(q) = http.and_then(|h| h.query()) else {
                    return false;
                };
                q.split(|c| c == delim).any(|pair| {
                    let (k, v) = match pair.iter().position(|&c| c == b'=') {
                        Some(i) => (&pair[..i], &pair[i + 1..]),
                        None => (pair, &b""[..]),
                    };
                    name.as_deref().is_none_or(|n| n == k) && f(Smp::Str(Cow::Borrowed(v)))
                })
            }
            Fetch::Src => f(Smp::Ip(canonical(ctx.src.ip()))),
            Fetch::SrcPort => f(Smp::Int(i64::from(ctx.src.port()))),
            Fetch::Dst => f(Smp::Ip(canonical(ctx.dst.ip()))),
            Fetch::DstPort => f(Smp::Int(i64::from(ctx.dst.port()))),
            Fetch::Always(b) => f(Smp::Bool(*b)),
            Fetch::SslFc => f(Smp::Bool(ctx.tls.is_some())),
            Fetch::SslFcSni => one(
                ctx.tls
                    .and_then(|t| t.sni.as_deref())
                    .map(|s| Smp::Str(Cow::Borrowed(s.as_bytes()))),
                f,
            ),
            Fetch::SslFcProtocol => one(
                ctx.tls
                    .map(|t| Smp::Str(Cow::Borrowed(t.protocol.as_bytes()))),
                f,
            ),
            Fetch::SslFcCipher => one(
                ctx.tls
                    .map(|t| Smp::Str(Cow::Borrowed(t.cipher.as_bytes()))),
                f,
            ),
            Fetch::SslFcAlpn => one(
                ctx.tls
                    .and_then(|t| t.alpn.as_deref())
                    .map(|a| Smp::Str(Cow::Borrowed(a))),
                f,
            ),
            Fetch::SslFcHasSni => f(Smp::Bool(ctx.tls.is_some_and(|t| t.sni.is_some()))),
            Fetch::Nothing => false,
            Fetch::NbSrv(b) => match b.or(ctx.backend) {
                Some(b) => f(Smp::Int(ctx.world.nbsrv(b))),
                None => false,
            },
            Fetch::SrvIsUp(b, s) => f(Smp::Bool(ctx.world.srv_is_up(*b, *s))),
            Fetch::BeConn(b) => match b.or(ctx.backend) {
                Some(b) => f(Smp::Int(ctx.world.be_conn(b))),
                None => false,
            },
            Fetch::FeConn(fe) => f(Smp::Int(ctx.world.fe_conn(fe.unwrap_or(ctx.frontend)))),
            Fetch::Str(s) => f(Smp::Str(Cow::Borrowed(s))),
            Fetch::Int(i) => f(Smp::Int(*i)),
            Fetch::Var(name) => {
                match ctx
                    .vars
                    .and_then(|v| v.store(name))
                    .and_then(|s| s.get(name))
                {
                    Some(v) => f(v),
                    None => false,
                }
            }
            Fetch::HttpAuth(list) => {
                let ok = http.is_some_and(|h| list.authenticate(h.headers).is_some());
                f(Smp::Bool(ok))
            }
            Fetch::HttpAuthGroup(list) => {
                let Some(user) = http.and_then(|h| list.authenticate(h.headers)) else {
                    return false;
                };
                user.groups
                    .iter()
                    .any(|g| f(Smp::Str(Cow::Borrowed(g.as_bytes()))))
            }
            Fetch::Status => match &ctx.resp {
                Some(r) => f(Smp::Int(i64::from(r.status))),
                None => false,
            },
            Fetch::ResHdr { name, occ, full } => {
                let Some(r) = &ctx.resp else { return false };
                let all = header_values(r.headers, name, *full);
                pick_occurrence(&all, *occ)
                    .into_iter()
                    .any(|v| f(Smp::Str(Cow::Borrowed(v))))
            }
            Fetch::ResHdrCnt(name) => {
                let Some(r) = &ctx.resp else { return false };
                f(Smp::Int(header_values(r.headers, name, false).len() as i64))
            }
        }
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it carries (HAProxy matches those
/// against IPv4 patterns).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

// ---------------------------------------------------------------------------------------
// Converters

#[derive(Debug, Clone)]
enum Conv {
    Lower,
    Upper,
    Map {
        kind: MapKind,
        entries: Vec<(MapKey, Bytes)>,
        default: Option<Bytes>,
        /// `map_*_int`: the value is an integer.
        int: bool,
    },
    Regsub {
        re: crate::re::Re,
        with: Vec<u8>,
        global: bool,
    },
    Field {
        index: i64,
        delims: Vec<u8>,
        count: i64,
        words: bool,
    },
    IpMask {
        v4: u8,
        v6: u8,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MapKind {
    Str,
    Beg,
    Sub,
    End,
    Dom,
    Dir,
    Reg,
    Ip,
    Int,
}

#[derive(Debug, Clone)]
enum MapKey {
    Bytes(Vec<u8>),
    Re(crate::re::Re),
    Net(IpNet),
    Int(i64),
}

fn compile_conv(c: &ir::Converter) -> Result<Conv, String> {
    let a = &c.args;
    Ok(match c.name {
        "lower" => Conv::Lower,
        "upper" => Conv::Upper,
        name if name.starts_with("map") => {
            let (kind_name, int) = match name.strip_suffix("_int") {
                Some(k) => (k, true),
                None => (name, false),
            };
            if name.ends_with("_ip") && name != "map_ip" {
                return Err(format!("converter '{name}'"));
            }
            let kind = match kind_name {
                "map" | "map_str" => MapKind::Str,
                "map_beg" => MapKind::Beg,
                "map_sub" => MapKind::Sub,
                "map_end" => MapKind::End,
                "map_dom" => MapKind::Dom,
                "map_dir" => MapKind::Dir,
                "map_reg" | "map_regm" => MapKind::Reg,
                "map_ip" => MapKind::Ip,
                "map_int" => MapKind::Int,
                _ => return Err(format!("converter '{name}'")),
            };
            let file = a.first().cloned().unwrap_or_default();
            let lines = rsproxy_parser::haproxy::acl::read_pattern_file(&file)?;
            let mut entries = Vec::with_capacity(lines.len());
            for (_, line) in lines {
                let (k, v) = match line.find([' ', '\t']) {
                    Some(i) => (&line[..i], line[i..].trim()),
                    None => (line.as_str(), ""),
                };
                let key = match kind {
                    MapKind::Reg => MapKey::Re(crate::re::Re::new(k, false)?),
                    MapKind::Ip => MapKey::Net(
                        parse_ipnet(k)
                            .ok_or_else(|| format!("map_ip key '{k}' is not an address"))?,
                    ),
                    MapKind::Int => MapKey::Int(leading_int(k.as_bytes())),
                    _ => MapKey::Bytes(k.as_bytes().to_vec()),
                };
                entries.push((key, Bytes::from(v.to_string())));
            }
            if kind == MapKind::Ip {
                // HAProxy looks addresses up in a prefix tree: the most specific network
                // wins, wherever it stands in the file (a stable sort keeps file order
                // between equal prefixes).
                entries.sort_by_key(|(k, _)| match k {
                    MapKey::Net(n) => std::cmp::Reverse(n.prefix),
                    _ => std::cmp::Reverse(0),
                });
            }
            Conv::Map {
                kind,
                entries,
                default: a.get(1).map(|d| Bytes::from(d.clone())),
                int,
            }
        }
        "regsub" => {
            let pattern = a.first().cloned().unwrap_or_default();
            let flags = a.get(2).cloned().unwrap_or_default();
            let re = crate::re::Re::new(&pattern, flags.contains('i'))?;
            Conv::Regsub {
                re,
                with: substitution(a.get(1).map(String::as_str).unwrap_or("")),
                global: flags.contains('g'),
            }
        }
        "field" | "word" => Conv::Field {
            index: a.first().map_or(1, |x| leading_int(x.as_bytes())),
            delims: a.get(1).cloned().unwrap_or_default().into_bytes(),
            count: a.get(2).map_or(1, |x| leading_int(x.as_bytes())),
            words: c.name == "word",
        },
        "ipmask" => {
            let v4 = a
                .first()
                .and_then(|m| mask_bits(m, 32))
                .ok_or("ipmask: bad IPv4 mask")?;
            let v6 = match a.get(1) {
                Some(m) => mask_bits(m, 128).ok_or("ipmask: bad IPv6 mask")?,
                None => 128,
            };
            Conv::IpMask { v4, v6 }
        }
        other => return Err(format!("converter '{other}'")),
    })
}

/// A mask as a prefix length: `24` or `255.255.255.0`.
fn mask_bits(m: &str, max: u8) -> Option<u8> {
    if let Ok(n) = m.parse::<u8>() {
        return (n <= max).then_some(n);
    }
    let v4: std::net::Ipv4Addr = m.parse().ok()?;
    let bits = u32::from(v4);
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0 && max == 32).then_some(ones as u8)
}

/// HAProxy's `\1` references as the regex crate's `${1}`; a literal `$` escaped.
fn substitution(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if i + 1 < b.len() && b[i + 1].is_ascii_digit() => {
                out.extend_from_slice(format!("${{{}}}", b[i + 1] - b'0').as_bytes());
                i += 2;
            }
            b'$' => {
                out.extend_from_slice(b"$$");
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn mask_ip(ip: IpAddr, v4: u8, v6: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let m = if v4 == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(v4))
            };
            IpAddr::V4((u32::from(a) & m).into())
        }
        IpAddr::V6(a) => {
            let m = if v6 == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(v6))
            };
            IpAddr::V6((u128::from(a) & m).into())
        }
    }
}

/// Field `index` (1-based; negative from the end) of `s` split on any of `delims`, with
/// `count` fields (0: to the end); `words` skips empty fields.
fn field(s: &[u8], index: i64, delims: &[u8], count: i64, words: bool) -> Option<Vec<u8>> {
    let parts: Vec<&[u8]> = s
        .split(|c| delims.contains(c))
        .filter(|p| !words || !p.is_empty())
        .collect();
    let n = parts.len() as i64;
    let start = if index > 0 { index - 1 } else { n + index };
    if index == 0 || start < 0 || start >= n {
        return None;
    }
    let end = if count <= 0 {
        n
    } else {
        (start + count).min(n)
    };
    let sep = delims.first().copied().unwrap_or(b' ');
    Some(parts[start as usize..end as usize].join(&sep))
}

fn dom_match(hay: &[u8], pat: &[u8], sep: &[u8]) -> bool {
    // A delimited portion of `hay` equals `pat`: `pat` found with a delimiter (or an end)
    // on each side.
    if pat.is_empty() || pat.len() > hay.len() {
        return false;
    }
    let mut i = 0;
    while i + pat.len() <= hay.len() {
        if &hay[i..i + pat.len()] == pat {
            let left = i == 0 || sep.contains(&hay[i - 1]);
            let right = i + pat.len() == hay.len() || sep.contains(&hay[i + pat.len()]);
            if left && right {
                return true;
            }
        }
        i += 1;
    }
    false
}

impl Conv {
    fn apply<'a>(&self, s: Smp<'a>) -> Option<Smp<'a>> {
        match self {
            Conv::Lower => Some(Smp::Str(Cow::Owned(s.as_bytes().to_ascii_lowercase()))),
            Conv::Upper => Some(Smp::Str(Cow::Owned(s.as_bytes().to_ascii_uppercase()))),
            Conv::Map {
                kind,
                entries,
                default,
                int,
            } => {
                let key = s.as_bytes();
                let ip = s.as_ip();
                let hit = entries.iter().find(|(k, _)| match (k, kind) {
                    (MapKey::Bytes(p), MapKind::Str) => key.as_ref() == p.as_slice(),
                    (MapKey::Bytes(p), MapKind::Beg) => key.starts_with(p),
                    (MapKey::Bytes(p), MapKind::End) => key.ends_with(p),
                    (MapKey::Bytes(p), MapKind::Sub) => find(&key, p).is_some() || p.is_empty(),
                    (MapKey::Bytes(p), MapKind::Dom) => dom_match(&key, p, b"./"),
                    (MapKey::Bytes(p), MapKind::Dir) => dom_match(&key, p, b"/"),
                    (MapKey::Re(re), _) => re.is_match(&key),
                    (MapKey::Net(n), _) => ip.is_some_and(|ip| n.contains(canonical(ip))),
                    (MapKey::Int(i), _) => s.as_int() == Some(*i),
                    _ => false,
                });
                let value = hit.map(|(_, v)| v).or(default.as_ref())?;
                Some(if *int {
                    Smp::Int(leading_int(value))
                } else {
                    Smp::Str(Cow::Owned(value.to_vec()))
                })
            }
            Conv::Regsub { re, with, global } => Some(Smp::Str(Cow::Owned(re.replace(
                &s.as_bytes(),
                with,
                *global,
            )))),
            Conv::Field {
                index,
                delims,
                count,
                words,
            } => field(&s.as_bytes(), *index, delims, *count, *words)
                .map(|v| Smp::Str(Cow::Owned(v))),
            Conv::IpMask { v4, v6 } => s
                .as_ip()
                .map(|ip| Smp::Ip(mask_ip(canonical(ip), *v4, *v6))),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Matchers

#[derive(Debug, Clone)]
enum Matcher {
    Found,
    Bool,
    Int(Vec<(i64, i64)>),
    Len(Vec<(i64, i64)>),
    Ip(Vec<IpNet>),
    Str {
        pats: Vec<Vec<u8>>,
        icase: bool,
    },
    Beg {
        pats: Vec<Vec<u8>>,
        icase: bool,
    },
    End {
        pats: Vec<Vec<u8>>,
        icase: bool,
    },
    Sub {
        pats: Vec<Vec<u8>>,
        icase: bool,
    },
    Dir {
        pats: Vec<Vec<u8>>,
        icase: bool,
    },
    Dom {
        pats: Vec<Vec<u8>>,
        icase: bool,
    },
    /// All patterns in one linear-time set, or one by one when some need PCRE features.
    Reg(regex::bytes::RegexSet),
    RegEach(Vec<crate::re::Re>),
}

/// Integer patterns: `N`, `N:M`, `:M`, `N:`, and `eq|ne|lt|le|gt|ge N`, as inclusive ranges
/// (`ne N` as two).
fn int_ranges(patterns: &[String]) -> Result<Vec<(i64, i64)>, String> {
    let mut out = Vec::new();
    let mut it = patterns.iter();
    while let Some(p) = it.next() {
        let num = |s: &str| -> Result<i64, String> {
            s.trim()
                .parse::<i64>()
                .map_err(|_| format!("'{s}' is not a number"))
        };
        let op = p.as_str();
        if matches!(op, "eq" | "ne" | "lt" | "le" | "gt" | "ge") {
            let n = num(it.next().ok_or("missing number after operator")?)?;
            match op {
                "eq" => out.push((n, n)),
                "ne" => {
                    out.push((i64::MIN, n.saturating_sub(1)));
                    out.push((n.saturating_add(1), i64::MAX));
                }
                "lt" => out.push((i64::MIN, n.saturating_sub(1))),
                "le" => out.push((i64::MIN, n)),
                "gt" => out.push((n.saturating_add(1), i64::MAX)),
                _ => out.push((n, i64::MAX)),
            }
        } else if let Some((a, b)) = op.split_once(':') {
            let lo = if a.is_empty() { i64::MIN } else { num(a)? };
            let hi = if b.is_empty() { i64::MAX } else { num(b)? };
            out.push((lo, hi));
        } else {
            let n = num(op)?;
            out.push((n, n));
        }
    }
    Ok(out)
}

fn compile_matcher(e: &AclExpr, patterns: Vec<String>) -> Result<Matcher, String> {
    let icase = e.ignore_case;
    let bytes = |v: &[String]| -> Vec<Vec<u8>> {
        v.iter()
            .map(|p| {
                if icase {
                    p.to_ascii_lowercase().into_bytes()
                } else {
                    p.clone().into_bytes()
                }
            })
            .collect()
    };
    Ok(match e.method {
        MatchMethod::Found => Matcher::Found,
        MatchMethod::Bool => Matcher::Bool,
        MatchMethod::Int => Matcher::Int(int_ranges(&patterns)?),
        MatchMethod::Len => Matcher::Len(int_ranges(&patterns)?),
        MatchMethod::Ip => Matcher::Ip(
            patterns
                .iter()
                .map(|p| parse_ipnet(p).ok_or_else(|| format!("'{p}' is not an address")))
                .collect::<Result<_, _>>()?,
        ),
        MatchMethod::Str | MatchMethod::Bin => Matcher::Str {
            pats: bytes(&patterns),
            icase,
        },
        MatchMethod::Beg => Matcher::Beg {
            pats: bytes(&patterns),
            icase,
        },
        MatchMethod::End => Matcher::End {
            pats: bytes(&patterns),
            icase,
        },
        MatchMethod::Sub => Matcher::Sub {
            pats: bytes(&patterns),
            icase,
        },
        MatchMethod::Dir => Matcher::Dir {
            pats: bytes(&patterns),
            icase,
        },
        MatchMethod::Dom => Matcher::Dom {
            pats: bytes(&patterns),
            icase,
        },
        MatchMethod::Reg => match regex::bytes::RegexSetBuilder::new(&patterns)
            .case_insensitive(icase)
            .build()
        {
            Ok(set) => Matcher::Reg(set),
            Err(_) => Matcher::RegEach(
                patterns
                    .iter()
                    .map(|p| crate::re::Re::new(p, icase))
                    .collect::<Result<_, _>>()?,
            ),
        },
    })
}

impl Matcher {
    fn matches(&self, s: &Smp<'_>) -> bool {
        let in_ranges = |r: &[(i64, i64)], v: i64| r.iter().any(|&(lo, hi)| lo <= v && v <= hi);
        let text = |icase: bool| {
            let b = s.as_bytes();
            if icase {
                Cow::Owned(b.to_ascii_lowercase())
            } else {
                b
            }
        };
        match self {
            Matcher::Found => true,
            Matcher::Bool => s.as_int().is_some_and(|v| v != 0),
            Matcher::Int(r) => s.as_int().is_some_and(|v| in_ranges(r, v)),
            Matcher::Len(r) => in_ranges(r, s.as_bytes().len() as i64),
            Matcher::Ip(nets) => s
                .as_ip()
                .map(canonical)
                .is_some_and(|ip| nets.iter().any(|n| n.contains(ip))),
            Matcher::Str { pats, icase } => {
                let t = text(*icase);
                pats.iter().any(|p| p.as_slice() == t.as_ref())
            }
            Matcher::Beg { pats, icase } => {
                let t = text(*icase);
                pats.iter().any(|p| t.starts_with(p))
            }
            Matcher::End { pats, icase } => {
                let t = text(*icase);
                pats.iter().any(|p| t.ends_with(p))
            }
            Matcher::Sub { pats, icase } => {
                let t = text(*icase);
                pats.iter().any(|p| p.is_empty() || find(&t, p).is_some())
            }
            Matcher::Dir { pats, icase } => {
                let t = text(*icase);
                pats.iter().any(|p| dom_match(&t, p, b"/?"))
            }
            Matcher::Dom { pats, icase } => {
                let t = text(*icase);
                pats.iter().any(|p| dom_match(&t, p, b"./?"))
            }
            Matcher::Reg(set) => set.is_match(&s.as_bytes()),
            Matcher::RegEach(list) => {
                let b = s.as_bytes();
                list.iter().any(|r| r.is_match(&b))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// ACLs and conditions

#[derive(Debug, Clone)]
struct Expr {
    fetch: Fetch,
    convs: Vec<Conv>,
    matcher: Matcher,
}

impl Expr {
    fn eval(&self, ctx: &Ctx<'_>) -> bool {
        self.fetch.each(ctx, &mut |s| {
            let mut s = s;
            for c in &self.convs {
                match c.apply(s) {
                    Some(next) => s = next,
                    None => return false,
                }
            }
            self.matcher.matches(&s)
        })
    }
}

/// A compiled `if`/`unless` condition: an OR of ANDs of (negated?, ACL), each ACL the
/// expressions of its declarations, OR'ed.
#[derive(Debug, Clone)]
pub struct Cond {
    unless: bool,
    any_of: Vec<Vec<(bool, Vec<Expr>)>>,
}

impl Cond {
    pub fn eval(&self, ctx: &Ctx<'_>) -> bool {
        let v = self.any_of.iter().any(|all| {
            all.iter()
                .all(|(neg, exprs)| exprs.iter().any(|e| e.eval(ctx)) != *neg)
        });
        v != self.unless
    }
}

/// What could not be compiled: the location and the keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub span: Span,
    pub what: String,
}

/// Compiles a proxy's ACLs and the conditions that use them.
pub struct Compiler<'a> {
    names: &'a Names<'a>,
    /// Named ACL → its declarations, compiled.
    named: HashMap<String, Vec<Expr>>,
    /// Named ACLs whose compilation failed (refused once, at their declaration).
    failed: HashMap<String, Span>,
    pub refused: Vec<Refused>,
}

impl<'a> Compiler<'a> {
    pub fn new(acls: &[ir::Acl], names: &'a Names<'a>) -> Self {
        let mut c = Compiler {
            names,
            named: HashMap::new(),
            failed: HashMap::new(),
            refused: Vec::new(),
        };
        for acl in acls {
            match c.expr(&acl.expr) {
                Ok(e) => c.named.entry(acl.name.node.clone()).or_default().push(e),
                Err(what) => {
                    c.failed.insert(acl.name.node.clone(), acl.span);
                    c.refused.push(Refused {
                        span: acl.span,
                        what,
                    });
                }
            }
        }
        c
    }

    /// The names conditions and log-format strings resolve.
    pub fn names(&self) -> &Names<'a> {
        self.names
    }

    /// An ACL as a condition of the rules being compiled: in `http-response` rules, an ACL
    /// on the request never matches (its fetch gives no sample there), as in HAProxy, which
    /// accepts it with a warning ("acl will never match"); a log-format value reading the
    /// request is an error there, in both.
    fn in_context(&self, mut e: Expr) -> Expr {
        if self.names.response.get() && e.fetch.request_only() {
            e.fetch = Fetch::Unavailable;
        }
        e
    }

    fn cond_expr(&self, e: &AclExpr) -> Result<Expr, String> {
        let response = self.names.response.replace(false);
        let compiled = self.expr(e);
        self.names.response.set(response);
        compiled.map(|e| self.in_context(e))
    }

    fn expr(&self, e: &AclExpr) -> Result<Expr, String> {
        let fetch = compile_fetch(&e.sample, self.names)?;
        let convs = e
            .sample
            .converters
            .iter()
            .map(compile_conv)
            .collect::<Result<Vec<_>, _>>()?;
        let mut patterns = e.patterns.clone();
        for f in &e.pattern_files {
            let lines = rsproxy_parser::haproxy::acl::read_pattern_file(f)?;
            patterns.extend(lines.into_iter().map(|(_, l)| l));
        }
        let matcher = compile_matcher(e, patterns)?;
        Ok(Expr {
            fetch,
            convs,
            matcher,
        })
    }

    /// Compiles a condition; `None` (and a refusal recorded) if part of it cannot be.
    pub fn cond(&mut self, c: &ir::Condition) -> Option<Cond> {
        let mut any_of = Vec::new();
        let mut ok = true;
        for all in &c.any_of {
            let mut terms = Vec::new();
            for t in all {
                let compiled = match &t.acl {
                    AclRef::Named(name) => {
                        if let Some(exprs) = self.named.get(&name.node) {
                            Ok(exprs.iter().map(|e| self.in_context(e.clone())).collect())
                        } else if self.failed.contains_key(&name.node) {
                            // Refused at its declaration already.
                            ok = false;
                            continue;
                        } else if let Some(e) =
                            rsproxy_parser::haproxy::acl::predefined_acl(&name.node)
                        {
                            self.cond_expr(&e)
                                .map(|e| vec![e])
                                .map_err(|w| (name.span, w))
                        } else {
                            Err((name.span, format!("acl '{}'", name.node)))
                        }
                    }
                    AclRef::Anonymous(e) => self
                        .cond_expr(&e.node)
                        .map(|e| vec![e])
                        .map_err(|w| (e.span, w)),
                };
                match compiled {
                    Ok(exprs) => terms.push((t.negated, exprs)),
                    Err((span, what)) => {
                        self.refused.push(Refused { span, what });
                        ok = false;
                    }
                }
            }
            any_of.push(terms);
        }
        ok.then_some(Cond {
            unless: c.unless,
            any_of,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Log-format strings (header values, paths: `%[hdr(host),lower]`, `%ci`)

/// A compiled log-format string.
#[derive(Debug, Clone)]
pub struct Fmt {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Lit(Vec<u8>),
    Sample(Fetch, Vec<Conv>),
    ClientIp,
    ClientPort,
    FrontendIp,
    FrontendPort,
}

impl Fmt {
    /// Compiles `s`; what the runtime cannot render yet (other `%` variables, `%{...}`
    /// flags, unknown fetches) is an error naming it.
    pub fn compile(s: &str, names: &Names<'_>) -> Result<Fmt, String> {
        let b = s.as_bytes();
        let mut parts = Vec::new();
        let mut lit = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'%' {
                lit.push(b[i]);
                i += 1;
                continue;
            }
            match b.get(i + 1) {
                Some(b'%') => {
                    lit.push(b'%');
                    i += 2;
                    continue;
                }
                Some(b'{') => return Err(format!("log-format flags in '{s}'")),
                _ => {}
            }
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
            }
            if b.get(i + 1) == Some(&b'[') {
                let inner = &s[i + 2..];
                let end = rsproxy_parser::haproxy::logformat::sample_end(inner)
                    .ok_or_else(|| format!("missing ']' in '{s}'"))?;
                let parsed = rsproxy_parser::haproxy::acl::parse_sample(
                    &inner[..end],
                    rsproxy_parser::haproxy::acl::SampleContext::Expr,
                )?;
                let fetch = compile_fetch(&parsed.sample, names)?;
                let convs = parsed
                    .sample
                    .converters
                    .iter()
                    .map(compile_conv)
                    .collect::<Result<Vec<_>, _>>()?;
                parts.push(Part::Sample(fetch, convs));
                i += 2 + end + 1;
                continue;
            }
            let start = i + 1;
            let mut j = start;
            while j < b.len() && b[j].is_ascii_alphabetic() {
                j += 1;
            }
            parts.push(match &s[start..j] {
                "ci" => Part::ClientIp,
                "cp" => Part::ClientPort,
                "fi" => Part::FrontendIp,
                "fp" => Part::FrontendPort,
                other => return Err(format!("log-format variable '%{other}'")),
            });
            i = j;
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Fmt { parts })
    }

    /// The string for this request: each sample's first value after its converters (nothing
    /// when there is none).
    pub fn render(&self, ctx: &Ctx<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        for p in &self.parts {
            match p {
                Part::Lit(l) => out.extend_from_slice(l),
                Part::Sample(fetch, convs) => {
                    fetch.single(ctx, &mut |s| {
                        let mut s = s;
                        for c in convs {
                            match c.apply(s) {
                                Some(n) => s = n,
                                None => return,
                            }
                        }
                        out.extend_from_slice(&s.as_bytes());
                    });
                }
                Part::ClientIp => {
                    out.extend_from_slice(canonical(ctx.src.ip()).to_string().as_bytes())
                }
                Part::ClientPort => out.extend_from_slice(ctx.src.port().to_string().as_bytes()),
                Part::FrontendIp => {
                    out.extend_from_slice(canonical(ctx.dst.ip()).to_string().as_bytes())
                }
                Part::FrontendPort => out.extend_from_slice(ctx.dst.port().to_string().as_bytes()),
            }
        }
        out
    }
}

/// A regex replacement template with HAProxy's `\1` references, for the regex crate.
pub fn replacement(rendered: &[u8]) -> Vec<u8> {
    substitution(&String::from_utf8_lossy(rendered))
}

#[cfg(test)]
mod tests;
