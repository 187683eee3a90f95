//! Answering the statistics page: whether a request asks for it, `stats auth`, and the
//! page (HTML, or CSV at `<stats uri>;csv`) from the live counters.
//!
//! HAProxy 2.6 (`http_stats_check_uri`, `http_handle_stats`): a GET, HEAD or POST whose URI,
//! from its path on (the whole URI if the configured one does not start with `/`), begins
//! with the `stats uri` is the page's. What follows the prefix may hold options anywhere:
//! `;csv` (the export), `;up` (hide servers that are not up), `;norefresh` (no `refresh`
//! header). `;json`, `;typed` and `;json-schema` are not carried out: they get a 501 rather
//! than a page in another format than asked. With `stats auth`, a request without valid
//! Basic credentials gets HAProxy's 401 with `WWW-Authenticate: Basic realm="..."`.
//!
//! A POST is an admin action: without `stats admin` (not carried out) HAProxy answers 303 to
//! `<uri>;st=DENY`, and so does rsproxy.
//!
//! Input: the frontend's [`StatsPlan`] and the runtime's shared state; output: a response, or
//! `None` when the request is not the page's.

use super::{csv, page, Line, RowKind, StatRow};
use crate::plan::StatsPlan;
use crate::proxy::http::{error_page, Body, Shared};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Response, StatusCode};
use rsproxy_parser::ir::haproxy::{Balance, Mode, ServerPort};

/// What the URI after the prefix asks for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub csv: bool,
    /// `;up`: servers that are not up are left out.
    pub hide_down: bool,
    pub no_refresh: bool,
    /// `;json`, `;typed`, `;json-schema`.
    pub unsupported: bool,
    /// `;st=DENY`: where a refused admin action (a POST) was sent.
    pub denied: bool,
}

/// The options in `rest` (the URI after the stats prefix), found anywhere in it as HAProxy
/// finds them.
pub fn options(rest: &str) -> Options {
    Options {
        csv: rest.contains(";csv"),
        hide_down: rest.contains(";up"),
        no_refresh: rest.contains(";norefresh"),
        unsupported: rest.contains(";json") || rest.contains(";typed"),
        denied: rest.contains(";st=DENY"),
    }
}

/// The part of the request's URI after the stats prefix, if the request is the page's.
pub fn matches(plan: &StatsPlan, method: &Method, uri: &hyper::Uri) -> Option<String> {
    if !matches!(*method, Method::GET | Method::HEAD | Method::POST) {
        return None;
    }
    let rest = if plan.uri.starts_with('/') {
        let target = uri.path_and_query().map_or("/", |p| p.as_str());
        target.strip_prefix(plan.uri.as_str())?.to_string()
    } else {
        // Compared with the whole URI as the client sent it (absolute form).
        uri.to_string().strip_prefix(plan.uri.as_str())?.to_string()
    };
    Some(rest)
}

/// Whether `headers` carry `Authorization: Basic` credentials of one of `accounts`.
pub fn authorized(accounts: &[(String, String)], headers: &hyper::HeaderMap) -> bool {
    use base64::Engine;
    let Some(v) = headers.get(hyper::header::AUTHORIZATION) else {
        return false;
    };
    let v = v.as_bytes();
    let Some(sp) = v.iter().position(|&c| c == b' ') else {
        return false;
    };
    let (scheme, cred) = v.split_at(sp);
    if !scheme.eq_ignore_ascii_case(b"basic") {
        return false;
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(cred.trim_ascii()) else {
        return false;
    };
    let Some(colon) = decoded.iter().position(|&c| c == b':') else {
        return false;
    };
    let (user, pass) = (&decoded[..colon], &decoded[colon + 1..]);
    accounts
        .iter()
        .any(|(u, p)| u.as_bytes() == user && p.as_bytes() == pass)
}

/// The answer to a request for the page, or `None` if it is not one (it goes on to the
/// frontend's redirects and `use_backend`).
pub fn answer(
    plan: &StatsPlan,
    parts: &hyper::http::request::Parts,
    shared: &Shared,
) -> Option<Response<Body>> {
    let rest = matches(plan, &parts.method, &parts.uri)?;
    if !plan.auth.is_empty() && !authorized(&plan.auth, &parts.headers) {
        let mut r = error_page(StatusCode::UNAUTHORIZED);
        r.headers_mut()
            .insert(hyper::header::WWW_AUTHENTICATE, plan.challenge.clone());
        return Some(r);
    }
    let opts = options(&rest);
    let prefix = &plan.uri;
    if parts.method == Method::POST {
        // An admin action, and `stats admin` is not carried out: HAProxy's answer to a POST
        // without admin rights, a 303 to the page with its "denied" status.
        let mut r = Response::new(Full::new(Bytes::new()).map_err(|n| match n {}).boxed());
        *r.status_mut() = StatusCode::SEE_OTHER;
        let h = r.headers_mut();
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        h.insert(CONTENT_LENGTH, HeaderValue::from(0));
        if let Ok(v) = HeaderValue::from_str(&format!("{prefix};st=DENY")) {
            h.insert(hyper::header::LOCATION, v);
        }
        return Some(r);
    }
    if opts.unsupported {
        return Some(error_page(StatusCode::NOT_IMPLEMENTED));
    }
    let tables = tables(shared, opts.hide_down);
    let (body, content_type) = if opts.csv {
        let lines = tables.iter().flat_map(|t| &t.lines);
        (csv::render(lines, plan.show_legends), "text/plain")
    } else {
        let now = crate::proxy::now_secs();
        let view = page::View {
            uri: prefix,
            hide_version: plan.hide_version,
            show_legends: plan.show_legends,
            refresh: plan.refresh.filter(|_| !opts.no_refresh),
            hide_down: opts.hide_down,
            denied: opts.denied,
            uptime: now.saturating_sub(shared.listing.started),
            pid: std::process::id(),
        };
        (page::render(&tables, &view), "text/html")
    };
    let body = Bytes::from(body);
    let mut r = Response::new(Full::new(body.clone()).map_err(|n| match n {}).boxed());
    let h = r.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(s) = plan.refresh.filter(|_| !opts.no_refresh) {
        h.insert("refresh", HeaderValue::from(s));
    }
    h.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    Some(r)
}

/// One proxy's part of the page: its frontend row, servers, backend row.
#[derive(Debug)]
pub struct Table {
    pub name: String,
    /// `frontend`, `backend` or `proxy` (a listen), as HAProxy's page says.
    pub cap: &'static str,
    pub http: bool,
    pub lines: Vec<Line>,
}

/// Every proxy's rows, in the configuration's order.
pub fn tables(shared: &Shared, hide_down: bool) -> Vec<Table> {
    let now = crate::proxy::now_secs();
    let mut out = Vec::new();
    for &(fe, be) in &shared.listing.proxies {
        let fe_plan = fe.and_then(|f| shared.listing.frontends.get(f));
        let be_state = be.and_then(|b| shared.backends.get(b)).map(|(b, _)| b);
        let (name, mode) = match (fe_plan, be_state) {
            (Some(f), _) => (f.name.clone(), f.mode),
            (None, Some(b)) => (b.plan.name.clone(), b.plan.mode),
            (None, None) => continue,
        };
        let http = mode == Mode::Http;
        let mut lines = Vec::new();
        let plain = |row: StatRow| Line {
            row,
            http,
            algo: None,
            sid: 0,
            addr: None,
            cookie: None,
            check: None,
            qlimit: None,
            backup: false,
        };
        if let (Some(f), Some(counters)) = (fe_plan, fe.and_then(|f| shared.frontends.get(f))) {
            lines.push(plain(StatRow::frontend(
                &f.name,
                f.maxconn,
                counters.snapshot(),
            )));
        }
        if let Some(b) = be_state {
            for row in b.stat_rows(now) {
                let server = b.plan.servers.iter().find(|s| s.name == row.name);
                let mut line = plain(row);
                match (line.row.kind, server) {
                    (RowKind::Server, Some(s)) => {
                        let down = line.row.status.starts_with("DOWN")
                            || line.row.status.starts_with("MAINT");
                        if hide_down && down {
                            continue;
                        }
                        line.sid = s.id;
                        line.addr = Some(match s.port {
                            ServerPort::Fixed(p) => {
                                std::net::SocketAddr::new(s.host, p).to_string()
                            }
                            ServerPort::Same => std::net::SocketAddr::new(s.host, 0).to_string(),
                            ServerPort::Offset(o) => format!("{}:{o:+}", s.host),
                        });
                        line.cookie = s.cookie.clone();
                        line.check = s.check.as_ref().map(|c| (c.rise, c.fall));
                        line.qlimit = s.maxqueue;
                        line.backup = s.backup;
                    }
                    _ => line.algo = Some(algo(&b.plan.balance)),
                }
                lines.push(line);
            }
        }
        let cap = match (fe_plan.is_some(), be_state.is_some()) {
            (true, true) => "proxy",
            (true, false) => "frontend",
            _ => "backend",
        };
        out.push(Table {
            name,
            cap,
            http,
            lines,
        });
    }
    out
}

/// HAProxy's name of a `balance` algorithm (`backend_lb_algo_str`).
fn algo(b: &Balance) -> &'static str {
    match b {
        Balance::RoundRobin => "roundrobin",
        Balance::StaticRr => "static-rr",
        Balance::LeastConn => "leastconn",
        Balance::First => "first",
        Balance::Source => "source",
        Balance::Uri { .. } => "uri",
        Balance::UrlParam { .. } => "url_param",
        Balance::Hdr { .. } => "hdr",
        Balance::Random { .. } => "random",
        Balance::RdpCookie { .. } => "rdp-cookie",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(uri: &str) -> StatsPlan {
        StatsPlan {
            uri: uri.into(),
            auth: vec![("admin".into(), "pw".into())],
            challenge: HeaderValue::from_static("Basic realm=\"HAProxy Statistics\""),
            refresh: None,
            hide_version: false,
            show_legends: false,
        }
    }

    /// description: the stats uri is a prefix of the URI from its path on, query included;
    /// only GET, HEAD and POST.
    #[test]
    fn uri_prefix_matching() {
        let p = plan("/haproxy?stats");
        let m = |method: Method, u: &str| {
            let uri: hyper::Uri = u.parse().unwrap_or_default();
            matches(&p, &method, &uri)
        };
        assert_eq!(m(Method::GET, "/haproxy?stats"), Some(String::new()));
        assert_eq!(m(Method::GET, "/haproxy?stats;csv"), Some(";csv".into()));
        assert_eq!(m(Method::HEAD, "/haproxy?statsX"), Some("X".into()));
        assert_eq!(
            m(Method::GET, "http://h/haproxy?stats;up"),
            Some(";up".into())
        );
        assert_eq!(m(Method::GET, "/haproxy"), None);
        assert_eq!(m(Method::PUT, "/haproxy?stats"), None);
        assert!(options(";csv;norefresh").csv);
        assert!(options(";json").unsupported);
        assert!(options("x;up").hide_down);
    }

    /// description: Basic credentials of a `stats auth` account, and nothing else, pass.
    #[test]
    fn basic_auth() {
        let p = plan("/");
        let with = |v: &str| {
            let mut h = hyper::HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(v) {
                h.insert(hyper::header::AUTHORIZATION, v);
            }
            authorized(&p.auth, &h)
        };
        assert!(with("Basic YWRtaW46cHc=")); // admin:pw
        assert!(with("basic  YWRtaW46cHc="));
        assert!(!with("Basic YWRtaW46cHd4")); // admin:pwx
        assert!(!with("Bearer YWRtaW46cHc="));
        assert!(!with("Basic !!!"));
        assert!(!with(""));
    }
}
