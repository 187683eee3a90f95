//! `mode http`: HTTP/1.1 with hyper on both sides.
//!
//! Per request: the frontend's then the backend's `http-request` rules (a `return` or `deny`
//! answers at once); otherwise a server is picked, a pooled idle connection to it is reused or
//! a new one made ([`super::connect`]: timeouts, retries, redispatch), the request is sent with
//! HAProxy's header handling (`X-Forwarded-For`, `Connection` per keep-alive mode) and the
//! response streamed back. Bodies are streamed both ways, never buffered whole.
//!
//! The client connection around the requests (idle waits, the request-head timeout, keeping
//! memory low between requests) is [`super::client`]'s.
//!
//! Errors answer what HAProxy answers, byte for byte: 503 when no server can be reached, 502
//! when the server's response is unusable, 504 when `timeout server` expires first.

use super::body::{BoxError, IdleTimeout};
use super::client::Upload;
use super::{connect, BackendState, ConnectError, KeyNeed};
use crate::balance::Key;
use crate::plan::{ConnMode, Forwardfor, Frontend, Rule};
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Body as _;
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub type Body = BoxBody<Bytes, BoxError>;

/// Connections to each server of a backend, for reuse. A connection goes back to the pool as
/// soon as its response head arrived; [`Pools::take`] only hands out one that is ready (its
/// previous response finished), drops closed ones, and leaves busy ones for later — so no
/// task is spawned per request to return a connection.
pub struct Pools {
    servers: Vec<Mutex<Vec<SendRequest<Body>>>>,
}

impl Pools {
    pub fn new(servers: usize) -> Self {
        Pools {
            servers: (0..servers).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    fn take(&self, server: usize) -> Option<SendRequest<Body>> {
        let mut pool = self
            .servers
            .get(server)?
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        pool.retain(|s| !s.is_closed());
        let ready = pool.iter().rposition(|s| s.is_ready())?;
        Some(pool.swap_remove(ready))
    }

    fn put(&self, server: usize, sender: SendRequest<Body>) {
        if let Some(pool) = self.servers.get(server) {
            let mut pool = pool.lock().unwrap_or_else(|p| p.into_inner());
            // Bounded: a burst does not leave thousands of idle connections behind.
            if pool.len() < 64 {
                pool.push(sender);
            }
        }
    }
}

/// A frontend as the HTTP path sees it, with what is fixed for all its requests worked out
/// once: the keep-alive mode of the frontend/backend pair, and which `forwardfor` applies.
pub struct HttpFrontend {
    pub plan: Arc<Frontend>,
    pub backend: Option<(Arc<BackendState>, Arc<Pools>)>,
    mode: ConnMode,
    forwardfor: Option<Forwardfor>,
    /// How long a client has to send a request head: `timeout http-request`, else
    /// `timeout client`, else 30 s (hyper's default, which rsproxy has always applied then).
    pub(super) head_timeout: Duration,
    /// hyper's settings for this frontend's client connections, made once (each client
    /// connection runs many short hyper connections, see [`super::client`]).
    pub(super) builder: hyper::server::conn::http1::Builder,
}

impl HttpFrontend {
    pub fn new(plan: Arc<Frontend>, backend: Option<(Arc<BackendState>, Arc<Pools>)>) -> Self {
        let be = backend.as_ref().map(|(b, _)| &b.plan);
        // The most closing of the two, as HAProxy combines `httpclose` > `http-server-close`
        // > `http-keep-alive`; the backend's `forwardfor` over the frontend's.
        let mode = plan
            .conn_mode
            .max(be.map(|b| b.conn_mode).unwrap_or(ConnMode::KeepAlive));
        let forwardfor = be
            .and_then(|b| b.forwardfor.clone())
            .or_else(|| plan.forwardfor.clone());
        let head_timeout = plan
            .timeouts
            .http_request
            .or(plan.timeouts.client)
            .unwrap_or(Duration::from_secs(30));
        let mut builder = hyper::server::conn::http1::Builder::new();
        // The request-head timeout is kept by [`super::client`], across hyper connections.
        builder
            .keep_alive(mode != ConnMode::Close)
            .auto_date_header(false)
            .header_read_timeout(None);
        HttpFrontend {
            plan,
            backend,
            mode,
            forwardfor,
            head_timeout,
            builder,
        }
    }
}

pub(super) async fn handle(
    req: Request<Upload>,
    fe: &HttpFrontend,
    peer: SocketAddr,
    local: SocketAddr,
) -> Response<Body> {
    if let Some(r) = apply_rules(&fe.plan.rules) {
        return r;
    }
    let Some((backend, pools)) = &fe.backend else {
        return error_page(StatusCode::SERVICE_UNAVAILABLE);
    };
    if let Some(r) = apply_rules(&backend.plan.rules) {
        return r;
    }
    let mode = fe.mode;
    // One pick per request, with the key the balancer asked for, before the request is
    // rebuilt for the server.
    let key = match &backend.need {
        KeyNeed::Nothing => Key::None,
        KeyNeed::ClientAddress => Key::Source(peer.ip()),
        KeyNeed::Uri => req
            .uri()
            .path_and_query()
            .map(|p| Key::Uri(p.as_str().as_bytes()))
            .unwrap_or(Key::None),
        KeyNeed::Header(h) => req
            .headers()
            .get(h)
            .map(|v| Key::Header(v.as_bytes()))
            .unwrap_or(Key::None),
    };
    let Some(server) = backend.pick(key, None) else {
        return error_page(StatusCode::SERVICE_UNAVAILABLE);
    };
    let req = outgoing_request(
        req,
        peer,
        fe.forwardfor.as_ref(),
        mode,
        fe.plan.timeouts.client,
    );
    match forward(req, backend, pools, server, local, mode).await {
        Ok(mut resp) => {
            strip_hop_by_hop(resp.headers_mut());
            if mode == ConnMode::Close {
                resp.headers_mut()
                    .insert(CONNECTION, HeaderValue::from_static("close"));
            }
            resp
        }
        Err(status) => error_page(status),
    }
}

fn apply_rules(rules: &[Rule]) -> Option<Response<Body>> {
    let rule = rules.first()?;
    Some(match rule {
        Rule::Return {
            status,
            content_type,
            body,
        } => {
            let mut r = Response::new(full(body.clone()));
            *r.status_mut() = StatusCode::from_u16(*status).unwrap_or(StatusCode::OK);
            let h = r.headers_mut();
            h.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
            if let Some(ct) = content_type {
                h.insert(CONTENT_TYPE, ct.clone());
            }
            r
        }
        Rule::Deny { status } => {
            error_page(StatusCode::from_u16(*status).unwrap_or(StatusCode::FORBIDDEN))
        }
    })
}

/// The request as the server gets it: hop-by-hop headers removed, `X-Forwarded-For` added,
/// `Connection: close` in the closing modes (HAProxy 2.6 sends nothing in keep-alive mode).
fn outgoing_request(
    req: Request<Upload>,
    peer: SocketAddr,
    ff: Option<&Forwardfor>,
    mode: ConnMode,
    client_timeout: Option<std::time::Duration>,
) -> Request<Body> {
    let (mut parts, body) = req.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    if let Some(ff) = ff {
        let excepted = ff.except.is_some_and(|net| net.contains(peer.ip()));
        let present = parts.headers.contains_key(&ff.header);
        if !(excepted || ff.if_none && present) {
            if let Ok(v) = HeaderValue::from_str(&peer.ip().to_string()) {
                parts.headers.append(ff.header.clone(), v);
            }
        }
    }
    if mode != ConnMode::KeepAlive {
        parts
            .headers
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    parts.version = hyper::Version::HTTP_11;
    // An upload that stalls longer than `timeout client` is ended, as HAProxy ends it.
    let body = match client_timeout {
        Some(t) if !body.is_end_stream() => IdleTimeout::new(body, t).boxed(),
        _ => body.map_err(BoxError::from).boxed(),
    };
    Request::from_parts(parts, body)
}

/// The hop-by-hop headers, as prebuilt names: looking a `&str` up parses it every time,
/// which showed in the per-request profile.
const HOP_BY_HOP: [HeaderName; 6] = [
    CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    hyper::header::TE,
    hyper::header::TRAILER,
    hyper::header::UPGRADE,
];

fn strip_hop_by_hop(h: &mut hyper::HeaderMap) {
    // Most messages carry none: one pass over their few names, no hashing, then done.
    if !h.keys().any(|n| HOP_BY_HOP.contains(n)) {
        return;
    }
    // Headers named by Connection are hop-by-hop too.
    if h.contains_key(CONNECTION) {
        let named: Vec<HeaderName> = h
            .get_all(CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
            .collect();
        for n in named {
            h.remove(n);
        }
    }
    for n in &HOP_BY_HOP {
        h.remove(n);
    }
}

async fn forward(
    req: Request<Body>,
    backend: &Arc<BackendState>,
    pools: &Arc<Pools>,
    pick: usize,
    local: SocketAddr,
    mode: ConnMode,
) -> Result<Response<Body>, StatusCode> {
    // Retries that redispatch pick again without a key (HAProxy too falls back then).
    let key = Key::None;
    let server_timeout = backend.plan.timeouts.server;
    let (sender, server, guard, resp) = match pools.take(pick) {
        Some(mut c) => {
            // A server may close an idle connection just as we reuse it. A request without a
            // body can be replayed on a fresh connection, as HAProxy does; keep its head.
            let replay = req.body().is_end_stream().then(|| head_of(&req));
            match send(&mut c, req, server_timeout).await {
                Ok(resp) => (c, pick, backend.track(pick), resp),
                Err(StatusCode::BAD_GATEWAY) if replay.is_some() => {
                    let req = replay
                        .map(|r| r.map(|()| empty()))
                        .ok_or(StatusCode::BAD_GATEWAY)?;
                    let (mut c, server, guard) = fresh(backend, key, local, pick).await?;
                    let resp = send(&mut c, req, server_timeout).await?;
                    (c, server, guard, resp)
                }
                Err(status) => return Err(status),
            }
        }
        None => {
            let (mut c, server, guard) = fresh(backend, key, local, pick).await?;
            let resp = send(&mut c, req, server_timeout).await?;
            (c, server, guard, resp)
        }
    };
    if mode == ConnMode::KeepAlive {
        pools.put(server, sender);
    }
    drop(guard);
    let (parts, body) = resp.into_parts();
    // A response that stalls longer than `timeout server` is ended, as HAProxy ends it.
    let body = match backend.plan.timeouts.server {
        Some(t) if !body.is_end_stream() => IdleTimeout::new(body, t).boxed(),
        _ => body.map_err(BoxError::from).boxed(),
    };
    Ok(Response::from_parts(parts, body))
}

/// A new connection to `server` (with HAProxy's retries), HTTP/1.1 handshake done.
async fn fresh(
    backend: &Arc<BackendState>,
    key: Key<'_>,
    local: SocketAddr,
    server: usize,
) -> Result<(SendRequest<Body>, usize, super::ActiveGuard), StatusCode> {
    let (stream, server, guard) = connect(backend, key, local.port(), Some(server))
        .await
        .map_err(|e| match e {
            ConnectError::NoServer | ConnectError::Failed => StatusCode::SERVICE_UNAVAILABLE,
        })?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|_| StatusCode::BAD_GATEWAY)?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok((sender, server, guard))
}

/// Sends `req` and waits for the response head: 504 past `timeout server`, 502 when the
/// server fails to answer.
async fn send(
    sender: &mut SendRequest<Body>,
    req: Request<Body>,
    timeout: Option<std::time::Duration>,
) -> Result<Response<Incoming>, StatusCode> {
    let fut = sender.send_request(req);
    match timeout {
        Some(t) => tokio::time::timeout(t, fut)
            .await
            .map_err(|_| StatusCode::GATEWAY_TIMEOUT)?,
        None => fut.await,
    }
    .map_err(|_| StatusCode::BAD_GATEWAY)
}

/// The head of a request, to replay it without its (empty) body.
fn head_of<B>(req: &Request<B>) -> Request<()> {
    let mut r = Request::new(());
    *r.method_mut() = req.method().clone();
    *r.uri_mut() = req.uri().clone();
    *r.version_mut() = req.version();
    *r.headers_mut() = req.headers().clone();
    r
}

fn empty() -> Body {
    full(Bytes::new())
}

fn full(b: Bytes) -> Body {
    Full::new(b).map_err(|never| match never {}).boxed()
}

/// HAProxy 2.6's built-in responses, captured from haproxy 2.6.12 (`http-request deny
/// deny_status N` for every status it has a page for): status, reason phrase, whether it adds
/// `connection: close`, body.
const PAGES: &[(u16, &str, bool, &str)] = &[
    (200, "OK", false, "<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n"),
    (400, "Bad request", true, "<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n"),
    (401, "Unauthorized", false, "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n"),
    (403, "Forbidden", false, "<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n"),
    (404, "Not Found", false, "<html><body><h1>404 Not Found</h1>\nThe resource could not be found.\n</body></html>\n"),
    (405, "Method Not Allowed", false, "<html><body><h1>405 Method Not Allowed</h1>\nA request was made of a resource using a request method not supported by that resource\n</body></html>\n"),
    (407, "Unauthorized", false, "<html><body><h1>407 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n"),
    (408, "Request Time-out", true, "<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n"),
    (410, "Gone", false, "<html><body><h1>410 Gone</h1>\nThe resource is no longer available and will not be available again.\n</body></html>\n"),
    (413, "Payload Too Large", false, "<html><body><h1>413 Payload Too Large</h1>\nThe request entity exceeds the maximum allowed.\n</body></html>\n"),
    (425, "Too Early", false, "<html><body><h1>425 Too Early</h1>\nYour browser sent early data.\n</body></html>\n"),
    (429, "Too Many Requests", false, "<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n"),
    (500, "Internal Server Error", false, "<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n</body></html>\n"),
    (501, "Not Implemented", false, "<html><body><h1>501 Not Implemented</h1>\n.The server does not support the functionality required to fulfill the request.\n</body></html>\n"),
    (502, "Bad Gateway", false, "<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n"),
    (503, "Service Unavailable", false, "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"),
    (504, "Gateway Time-out", false, "<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n"),
];

/// HAProxy's built-in response for `status` (its 503 page for a status it has none for),
/// headers in its order, lowercase, as it sends them.
pub fn error_page(status: StatusCode) -> Response<Body> {
    let (code, reason, close, text) = PAGES
        .iter()
        .copied()
        .find(|p| p.0 == status.as_u16())
        .or_else(|| PAGES.iter().copied().find(|p| p.0 == 503))
        .unwrap_or((503, "Service Unavailable", false, ""));
    let mut r = Response::new(full(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    if r.status().canonical_reason() != Some(reason) {
        r.extensions_mut()
            .insert(hyper::ext::ReasonPhrase::from_static(reason.as_bytes()));
    }
    let h = r.headers_mut();
    h.insert(CONTENT_LENGTH, HeaderValue::from(text.len()));
    h.insert(
        hyper::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
    if close {
        h.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// description: the 503 page is HAProxy's, byte for byte (content-length 107 as haproxy
    /// 2.6.12 sends it).
    #[test]
    fn error_pages_match_haproxy() {
        let r = error_page(StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[CONTENT_LENGTH], "107");
        let r = error_page(StatusCode::FORBIDDEN);
        assert_eq!(r.headers()[CONTENT_LENGTH], "93");
        let names: Vec<&str> = r.headers().keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["content-length", "cache-control", "content-type"]);
    }
}
