//! `http-request` and `http-response` rules, in HAProxy's order: each rule whose condition
//! holds acts on the message in turn (header and URI actions change it and evaluation goes
//! on; `allow` ends this proxy's list; `deny` and `return` answer at once). Conditions and
//! log-format values see the message as the rules before them left it.

use super::cookie::replace_values;
use crate::acl::{replacement, Ctx, HttpCtx, RespCtx, Smp, VarsView, World};
use crate::plan::{Action, Rule};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, StatusCode, Uri};
use std::borrow::Cow;
use std::net::SocketAddr;

/// Where a message is: addresses, the frontend and backend, the live counts.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub peer: SocketAddr,
    pub local: SocketAddr,
    pub frontend: usize,
    pub backend: Option<usize>,
    pub world: &'a dyn World,
    pub vars: Option<VarsView<'a>>,
    /// What the TLS handshake agreed, on a TLS connection.
    pub tls: Option<&'a crate::tls::TlsInfo>,
}

/// A request's line and fields as rules see and change them.
pub struct Head<'a> {
    pub method: &'a mut Method,
    pub uri: &'a mut Uri,
    pub version: hyper::Version,
    pub headers: &'a mut HeaderMap,
}

/// The request target as received (absolute form kept).
pub fn target(uri: &Uri) -> Cow<'_, str> {
    if uri.scheme().is_some() {
        Cow::Owned(uri.to_string())
    } else {
        Cow::Borrowed(uri.path_and_query().map_or("/", |p| p.as_str()))
    }
}

pub fn version_bytes(v: hyper::Version) -> &'static [u8] {
    if v == hyper::Version::HTTP_10 {
        b"1.0"
    } else {
        b"1.1"
    }
}

/// The context conditions and log-format strings read for a request.
pub fn ctx<'a>(
    method: &'a Method,
    target: &'a str,
    version: hyper::Version,
    headers: &'a HeaderMap,
    env: Env<'a>,
) -> Ctx<'a> {
    Ctx {
        http: Some(HttpCtx {
            method: method.as_str().as_bytes(),
            target: target.as_bytes(),
            version: version_bytes(version),
            headers,
        }),
        resp: None,
        vars: env.vars,
        src: env.peer,
        dst: env.local,
        frontend: env.frontend,
        backend: env.backend,
        world: env.world,
        tls: env.tls,
    }
}

/// What the rules decided for a request.
pub enum Verdict<'r> {
    /// Go on (after the changes made).
    Pass,
    /// Answer with this final action.
    Answer(&'r Action),
}

/// Runs `rules` on a request.
pub fn request<'r>(rules: &'r [Rule], head: &mut Head<'_>, env: Env<'_>) -> Verdict<'r> {
    for rule in rules {
        // The rule's condition and values see the request as it is now.
        let (holds, rendered, value) = {
            let t = target(head.uri);
            let c = ctx(head.method, &t, head.version, head.headers, env);
            evaluate(rule, &c)
        };
        if !holds || set_var(&rule.action, value, env) {
            continue;
        }
        match &rule.action {
            Action::Return { .. }
            | Action::Deny { .. }
            | Action::Redirect(_)
            | Action::Auth(_)
            | Action::Tarpit { .. } => return Verdict::Answer(&rule.action),
            Action::Allow => return Verdict::Pass,
            Action::SetPath(_) => {
                if let Some(v) = rendered {
                    set_uri_part(head.uri, UriPart::Path, &v);
                }
            }
            Action::SetQuery(_) => {
                if let Some(v) = rendered {
                    set_uri_part(head.uri, UriPart::Query, &v);
                }
            }
            Action::SetUri(_) => {
                if let Some(Ok(u)) = rendered.map(|v| Uri::try_from(v.as_slice())) {
                    // An absolute URI's authority becomes the Host, as HAProxy keeps them
                    // in step.
                    if let Some(a) = u.authority() {
                        if let (true, Ok(v)) = (
                            head.headers.contains_key(hyper::header::HOST),
                            HeaderValue::from_str(a.as_str()),
                        ) {
                            head.headers.insert(hyper::header::HOST, v);
                        }
                    }
                    *head.uri = u;
                }
            }
            Action::SetMethod(_) => {
                if let Some(Ok(m)) = rendered.map(|v| Method::from_bytes(&v)) {
                    *head.method = m;
                }
            }
            Action::ReplacePath { re, .. } => {
                if let Some(with) = rendered {
                    let path = head.uri.path().as_bytes().to_vec();
                    if let Some(new) = whole(re, &path, &replacement(&with)) {
                        set_uri_part(head.uri, UriPart::Path, &new);
                    }
                }
            }
            other => headers(other, rendered, head.headers),
        }
    }
    Verdict::Pass
}

/// Runs `rules` on an answer. As in HAProxy, they read the answer (`status`, `res.hdr()`),
/// the addresses and live counts, not the request. A final action (`deny`) gives the answer
/// to send instead.
pub fn response<'r>(
    rules: &'r [Rule],
    method: &Method,
    status: &mut StatusCode,
    reason: &mut Option<String>,
    h: &mut HeaderMap,
    env: Env<'_>,
) -> Verdict<'r> {
    for rule in rules {
        let (holds, rendered, value) = {
            let c = Ctx {
                http: None,
                resp: Some(RespCtx {
                    status: status.as_u16(),
                    headers: h,
                    method: method.as_str().as_bytes(),
                }),
                vars: env.vars,
                src: env.peer,
                dst: env.local,
                frontend: env.frontend,
                backend: env.backend,
                world: env.world,
                tls: env.tls,
            };
            evaluate(rule, &c)
        };
        if !holds || set_var(&rule.action, value, env) {
            continue;
        }
        match &rule.action {
            Action::Return { .. } | Action::Deny { .. } => return Verdict::Answer(&rule.action),
            Action::Allow => return Verdict::Pass,
            Action::SetStatus {
                status: s,
                reason: r,
            } => {
                if let Ok(s) = StatusCode::from_u16(*s) {
                    *status = s;
                    *reason = r.clone();
                }
            }
            other => headers(other, rendered, h),
        }
    }
    Verdict::Pass
}

/// Whether the rule's condition holds on `c`, and if so its rendered log-format value and
/// its `set-var` value (both read before the rule changes anything).
fn evaluate(rule: &Rule, c: &Ctx<'_>) -> (bool, Option<Vec<u8>>, Option<Smp<'static>>) {
    if rule.cond.as_ref().is_none_or(|cond| cond.eval(c)) {
        (true, render(&rule.action, c), var_value(&rule.action, c))
    } else {
        (false, None, None)
    }
}

/// A `set-var`'s value for this message (`None` when the expression yields nothing).
fn var_value(a: &Action, c: &Ctx<'_>) -> Option<Smp<'static>> {
    match a {
        Action::SetVar { expr, .. } => expr.eval(c),
        _ => None,
    }
}

/// Carries out `set-var`/`unset-var`; false for any other action. An expression that
/// yields nothing leaves the variable as it was.
fn set_var(a: &Action, value: Option<Smp<'static>>, env: Env<'_>) -> bool {
    let (name, unset) = match a {
        Action::SetVar { name, .. } => (name, false),
        Action::UnsetVar { name } => (name, true),
        _ => return false,
    };
    if let Some(store) = env.vars.and_then(|v| v.store(name)) {
        match (unset, value) {
            (true, _) => store.unset(name),
            (false, Some(v)) => store.set(name, v),
            (false, None) => {}
        }
    }
    true
}

/// The log-format value of an action, rendered.
fn render(a: &Action, c: &Ctx<'_>) -> Option<Vec<u8>> {
    match a {
        Action::SetHeader(_, f)
        | Action::AddHeader(_, f)
        | Action::SetPath(f)
        | Action::SetQuery(f)
        | Action::SetUri(f)
        | Action::SetMethod(f)
        | Action::Replace { with: f, .. }
        | Action::ReplacePath { with: f, .. } => Some(f.render(c)),
        _ => None,
    }
}

/// The header actions, the same on requests and answers.
fn headers(a: &Action, rendered: Option<Vec<u8>>, h: &mut HeaderMap) {
    match a {
        Action::SetHeader(n, _) => {
            // HAProxy deletes the field, then adds it last.
            delete(h, n);
            if let Some(Ok(v)) = rendered.map(HeaderValue::from_maybe_shared) {
                h.append(n.clone(), v);
            }
        }
        Action::AddHeader(n, _) => {
            if let Some(Ok(v)) = rendered.map(HeaderValue::from_maybe_shared) {
                h.append(n.clone(), v);
            }
        }
        Action::DelHeader(n) => delete(h, n),
        Action::Replace {
            name,
            re,
            each_value,
            ..
        } => {
            let Some(with) = rendered.map(|w| replacement(&w)) else {
                return;
            };
            let new: Vec<Option<HeaderValue>> = h
                .get_all(name)
                .iter()
                .map(|v| {
                    let b = v.as_bytes();
                    let out = if *each_value {
                        // A value (blanks around it left out) that matches is replaced
                        // whole, its blanks going with it; the others stay as they were,
                        // separators included.
                        let parts: Vec<Vec<u8>> = b
                            .split(|&c| c == b',')
                            .map(|p| whole(re, p.trim_ascii(), &with).unwrap_or_else(|| p.to_vec()))
                            .collect();
                        parts.join(&b","[..])
                    } else {
                        whole(re, b, &with).unwrap_or_else(|| b.to_vec())
                    };
                    HeaderValue::from_bytes(&out)
                        .ok()
                        .or_else(|| Some(v.clone()))
                })
                .collect();
            if !new.is_empty() {
                replace_values(h, name, new);
            }
        }
        _ => {}
    }
}

/// HAProxy's regex replacement: when `re` matches `v`, the result is the template with its
/// references filled in, in place of the whole of `v` (not only of the matched part).
fn whole(re: &crate::re::Re, v: &[u8], template: &[u8]) -> Option<Vec<u8>> {
    re.expand_whole(v, template)
}

fn delete(h: &mut HeaderMap, n: &HeaderName) {
    let count = h.get_all(n).iter().count();
    if count > 0 {
        replace_values(h, n, vec![None; count]);
    }
}

enum UriPart {
    Path,
    Query,
}

/// Replaces the path (the query stays) or the query (an empty one keeps a `?` the URI had,
/// and adds none, as HAProxy does).
fn set_uri_part(uri: &mut Uri, part: UriPart, v: &[u8]) {
    let path = uri.path().as_bytes().to_vec();
    let query = uri.query().map(|q| q.as_bytes().to_vec());
    let (path, query) = match part {
        UriPart::Path => (v.to_vec(), query),
        UriPart::Query => {
            let q = (!v.is_empty() || query.is_some()).then(|| v.to_vec());
            (path, q)
        }
    };
    let mut pq = path;
    if let Some(q) = query {
        pq.push(b'?');
        pq.extend_from_slice(&q);
    }
    let mut parts = uri.clone().into_parts();
    if let Ok(p) = hyper::http::uri::PathAndQuery::try_from(pq.as_slice()) {
        parts.path_and_query = Some(p);
        if let Ok(u) = Uri::from_parts(parts) {
            *uri = u;
        }
    }
}
