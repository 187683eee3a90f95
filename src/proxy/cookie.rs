//! Cookie persistence (`cookie NAME insert|prefix|rewrite`), as HAProxy 2.6 does it
//! (compat-tests/scenarios/cookie.scn holds the oracle's answers):
//!
//! - A request whose cookie designates a usable server goes to it, without balancing. In
//!   `insert` mode the value is the server's `cookie` value; in `prefix` mode it is that value,
//!   `~`, and the application's own value, which the server gets back without the prefix.
//!   `insert indirect` takes the cookie out of the request the server sees.
//! - `insert` adds `Set-Cookie: NAME=value; path=/` (then `domain=`, `HttpOnly`, `Secure`,
//!   attributes) at the end of an answer unless the client already sent a valid cookie for
//!   the server that answered; a same-named cookie the server set is removed first, unless
//!   `preserve` (then the server's stays and none is added). `postonly`: only answers to POST.
//!   `nocache` adds `Cache-Control: private` after it to an answer a cache would keep.
//! - `prefix` prefixes the server's own Set-Cookie NAME value with `value~`; `rewrite`
//!   replaces it with the server's value.
//! - A cookie naming a server that is down, or nothing known, is ignored: the balancer
//!   chooses and the answer carries a new cookie.

use crate::plan::{CookiePlan, Server};
use hyper::header::{
    HeaderMap, HeaderName, HeaderValue, CACHE_CONTROL, COOKIE, EXPIRES, SET_COOKIE,
};
use rsproxy_parser::ir::haproxy::CookieMode;

/// The `NAME=value` pairs of the request's Cookie fields.
fn pairs(v: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    v.split(|&c| c == b';').filter_map(|p| {
        let p = p.trim_ascii();
        if p.is_empty() {
            return None;
        }
        Some(match p.iter().position(|&c| c == b'=') {
            Some(i) => (p[..i].trim_ascii(), p[i + 1..].trim_ascii()),
            None => (p, &b""[..]),
        })
    })
}

/// The server the request's persistence cookie designates, if any: `(index, valid)`, where
/// valid means the cookie names that server (it may be down: the caller decides).
pub fn designated(ck: &CookiePlan, servers: &[Server], headers: &HeaderMap) -> Option<usize> {
    let name = ck.name.as_bytes();
    for v in headers.get_all(COOKIE) {
        for (k, val) in pairs(v.as_bytes()) {
            if k != name {
                continue;
            }
            let key = match ck.mode {
                CookieMode::Prefix => match val.iter().position(|&c| c == b'~') {
                    Some(i) => &val[..i],
                    None => continue,
                },
                _ => val,
            };
            if let Some(i) = servers
                .iter()
                .position(|s| s.cookie.as_deref().map(str::as_bytes) == Some(key))
            {
                return Some(i);
            }
        }
    }
    None
}

/// The request as the server sees it: `insert indirect` takes the cookie out, `prefix`
/// gives the application its own value back.
pub fn strip_request(ck: &CookiePlan, headers: &mut HeaderMap) {
    let remove = ck.mode == CookieMode::Insert && ck.indirect;
    let unprefix = ck.mode == CookieMode::Prefix;
    if !(remove || unprefix) || !headers.contains_key(COOKIE) {
        return;
    }
    let name = ck.name.as_bytes();
    let mut changed = false;
    let new: Vec<Option<HeaderValue>> = headers
        .get_all(COOKIE)
        .iter()
        .map(|v| {
            if !pairs(v.as_bytes()).any(|(k, _)| k == name) {
                return Some(v.clone());
            }
            changed = true;
            let mut out: Vec<u8> = Vec::with_capacity(v.len());
            for (k, val) in pairs(v.as_bytes()) {
                let val = if k == name {
                    if remove {
                        continue;
                    }
                    match val.iter().position(|&c| c == b'~') {
                        Some(i) => &val[i + 1..],
                        None => val,
                    }
                } else {
                    val
                };
                if !out.is_empty() {
                    out.extend_from_slice(b"; ");
                }
                out.extend_from_slice(k);
                out.push(b'=');
                out.extend_from_slice(val);
            }
            if out.is_empty() {
                None
            } else {
                HeaderValue::from_bytes(&out).ok()
            }
        })
        .collect();
    if changed {
        replace_values(headers, &COOKIE, new);
    }
}

/// The name of a Set-Cookie value.
fn set_cookie_name(v: &[u8]) -> &[u8] {
    let end = v
        .iter()
        .position(|&c| c == b'=' || c == b';')
        .unwrap_or(v.len());
    v[..end].trim_ascii()
}

/// The answer as the client sees it. `server` answered; `had_valid` tells whether the
/// request carried a cookie designating it; `post` whether it was a POST.
pub fn response(
    ck: &CookiePlan,
    server: &Server,
    had_valid: bool,
    post: bool,
    status: u16,
    headers: &mut HeaderMap,
) {
    let name = ck.name.as_bytes();
    let value = server.cookie.as_deref();
    let server_set = headers
        .get_all(SET_COOKIE)
        .iter()
        .any(|v| set_cookie_name(v.as_bytes()) == name);
    match ck.mode {
        CookieMode::Insert => {
            if server_set && !ck.preserve {
                let new = headers
                    .get_all(SET_COOKIE)
                    .iter()
                    .map(|v| (set_cookie_name(v.as_bytes()) != name).then(|| v.clone()))
                    .collect();
                replace_values(headers, &SET_COOKIE, new);
            }
            if had_valid || (ck.postonly && !post) || (server_set && ck.preserve) {
                return;
            }
            let Some(value) = value else {
                // A server without a value: HAProxy tells the client to drop any cookie it
                // holds (an expired one), and does not mark the answer private.
                let cookie = format!(
                    "{}=; Expires=Thu, 01-Jan-1970 00:00:01 GMT{}",
                    ck.name, ck.suffix
                );
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    headers.append(SET_COOKIE, v);
                }
                return;
            };
            let cookie = format!("{}={}{}", ck.name, value, ck.suffix);
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                headers.append(SET_COOKIE, v);
            }
            // `nocache`: an answer a cache would keep must not be, now that it carries a
            // client's cookie.
            if ck.nocache && cacheable(status, headers) {
                headers.append(CACHE_CONTROL, HeaderValue::from_static("private"));
            }
        }
        CookieMode::Prefix | CookieMode::Rewrite => {
            let Some(value) = value else {
                return;
            };
            if !server_set {
                return;
            }
            if let hyper::header::Entry::Occupied(mut e) = headers.entry(SET_COOKIE) {
                for v in e.iter_mut() {
                    let b = v.as_bytes();
                    if set_cookie_name(b) != name {
                        continue;
                    }
                    let Some(eq) = b.iter().position(|&c| c == b'=') else {
                        continue;
                    };
                    let (head, rest) = b.split_at(eq + 1);
                    let attrs_at = rest.iter().position(|&c| c == b';').unwrap_or(rest.len());
                    let mut out = head.to_vec();
                    out.extend_from_slice(value.as_bytes());
                    if ck.mode == CookieMode::Prefix {
                        out.push(b'~');
                        out.extend_from_slice(&rest[..attrs_at]);
                    }
                    out.extend_from_slice(&rest[attrs_at..]);
                    if let Ok(nv) = HeaderValue::from_bytes(&out) {
                        *v = nv;
                    }
                }
            }
        }
    }
}

/// Whether a shared cache could keep this answer, as HAProxy judges it: a cacheable status
/// and explicit freshness (`Cache-Control: public|max-age|s-maxage`, or `Expires`), with no
/// `private`, `no-cache` or `no-store`. (An answer without such fields HAProxy leaves alone:
/// cookie.scn.)
fn cacheable(status: u16, headers: &HeaderMap) -> bool {
    if !matches!(
        status,
        200 | 203 | 204 | 206 | 300 | 301 | 404 | 405 | 410 | 414 | 501
    ) {
        return false;
    }
    let mut fresh = headers.contains_key(EXPIRES);
    for v in headers.get_all(CACHE_CONTROL) {
        for d in v.as_bytes().split(|&c| c == b',') {
            let d = d.trim_ascii();
            let name = d
                .split(|&c| c == b'=')
                .next()
                .unwrap_or(d)
                .to_ascii_lowercase();
            match name.as_slice() {
                b"private" | b"no-cache" | b"no-store" => return false,
                b"public" | b"max-age" | b"s-maxage" => fresh = true,
                _ => {}
            }
        }
    }
    fresh
}

/// Gives field `name` the values `new` (`None`: dropped), keeping every field's place.
/// Removing from a HeaderMap in place would move its last field into the gap, which a server
/// or client would see as a different order.
pub fn replace_values(h: &mut HeaderMap, name: &HeaderName, new: Vec<Option<HeaderValue>>) {
    if new.iter().all(Option::is_some) {
        if let hyper::header::Entry::Occupied(mut e) = h.entry(name) {
            for (slot, v) in e.iter_mut().zip(new.into_iter().flatten()) {
                *slot = v;
            }
        }
        return;
    }
    let mut values = new.into_iter().flatten();
    let mut current = None;
    for (n, v) in std::mem::take(h) {
        if let Some(n) = n {
            current = Some(n);
        }
        let Some(n) = &current else { continue };
        if n == name {
            if let Some(v) = values.next() {
                h.append(n.clone(), v);
            }
        } else {
            h.append(n.clone(), v);
        }
    }
}
