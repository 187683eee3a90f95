//! `mode http`: HTTP/1.1 with hyper on both sides.
//!
//! Per request: the frontend's then the backend's `http-request` rules (a `return` or `deny`
//! answers at once); otherwise a server is picked, a pooled idle connection to it is reused or
//! a new one made ([`super::connect`]: timeouts, retries, redispatch), the request is sent with
//! HAProxy's header handling (`X-Forwarded-For`, `Connection` per keep-alive mode) and the
//! response streamed back. Bodies are streamed both ways, never buffered whole.
//!
//! Errors answer what HAProxy answers, byte for byte: 503 when no server can be reached, 502
//! when the server's response is unusable, 504 when `timeout server` expires first. An
//! `errorfile` for the status replaces HAProxy's page: the backend's once one is chosen (a
//! `deny` or failure there), then the frontend's (what haproxy 2.6.12 does; a frontend's
//! `deny` only sees the frontend's files).

use super::body::{BoxError, IdleTimedOut, IdleTimeout};
use super::client::Upload;
use super::rules;
use super::{connect, BackendState, KeyNeed, Slot};
use crate::acl::{Ctx, World};
use crate::balance::Key;
use crate::plan::{
    Action, ConnMode, ErrorFiles, ErrorResponse, Forwardfor, Frontend, Persist, Redirect,
    ReturnBody, Rule, Switch,
};
use crate::stats::Counters;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Body as _;
use hyper::body::{Frame, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, UPGRADE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rsproxy_parser::ir::haproxy::HttpReuse;
use rsproxy_parser::ir::haproxy::RedirectKind;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

pub type Body = BoxBody<Bytes, BoxError>;

/// Idle connections to each server of a backend, shared by all client connections, kept
/// as HAProxy keeps them (`http-reuse`): a connection that carried one request waits in the
/// server's *idle* list, one that carried more (proven reusable) in its *safe* list; each
/// list hands out its oldest connection first. A connection goes back as soon as its
/// response head arrived; [`Pools::take`] only hands out one that is ready (its previous
/// response finished), drops closed ones, and leaves busy ones for later — so no task is
/// spawned per request to return a connection.
pub struct Pools {
    servers: Vec<Mutex<ServerPool>>,
}

#[derive(Default)]
struct ServerPool {
    idle: VecDeque<Pooled>,
    safe: VecDeque<Pooled>,
}

/// A server connection and how many requests it carried.
pub struct Pooled {
    sender: SendRequest<Body>,
    uses: u32,
}

impl Pooled {
    fn fresh(sender: SendRequest<Body>) -> Self {
        Pooled { sender, uses: 0 }
    }
}

/// Takes the oldest ready connection of `list`, dropping closed ones on the way.
fn take_ready(list: &mut VecDeque<Pooled>) -> Option<Pooled> {
    list.retain(|p| !p.sender.is_closed());
    let i = list.iter().position(|p| p.sender.is_ready())?;
    list.remove(i)
}

impl Pools {
    pub fn new(servers: usize) -> Self {
        Pools {
            servers: (0..servers)
                .map(|_| Mutex::new(ServerPool::default()))
                .collect(),
        }
    }

    /// An idle connection to `server` for a request, as `http-reuse` allows: a client
    /// connection's first request takes none (`safe`), only a proven one (`aggressive`), or
    /// any (`always`); later requests take a proven one first, then any. `never` shares
    /// nothing (the client connection keeps its own: [`Session`]).
    fn take(&self, server: usize, first: bool, reuse: HttpReuse) -> Option<Pooled> {
        let mut pool = self
            .servers
            .get(server)?
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let ServerPool { idle, safe } = &mut *pool;
        match (reuse, first) {
            (HttpReuse::Never, _) | (HttpReuse::Safe, true) => None,
            (HttpReuse::Aggressive, true) => take_ready(safe),
            _ => take_ready(safe).or_else(|| take_ready(idle)),
        }
    }

    fn put(&self, server: usize, conn: Pooled) {
        if let Some(pool) = self.servers.get(server) {
            let mut pool = pool.lock().unwrap_or_else(|p| p.into_inner());
            // Bounded: a burst does not leave thousands of idle connections behind.
            if pool.idle.len() + pool.safe.len() < 64 {
                if conn.uses > 1 {
                    pool.safe.push_back(conn);
                } else {
                    pool.idle.push_back(conn);
                }
            }
        }
    }
}

/// What one client connection carries from request to request: whether a request was
/// answered yet (the next is not its first), and with `http-reuse never` its own server
/// connections, closed with it.
#[derive(Default)]
pub struct Session {
    pub(super) answered: AtomicBool,
    /// Bytes arrived since the last request was read whole: a request is under way.
    pub(super) partial: AtomicBool,
    /// What few connections need, allocated for those only (an idle connection's memory is
    /// counted in bytes: bench/idle.sh).
    rare: std::sync::OnceLock<Box<Rare>>,
}

#[derive(Default)]
pub(super) struct Rare {
    /// `sess.*` variables.
    pub(super) vars: crate::acl::Vars,
    /// `http-reuse never`: the connection's own server connections.
    private: Mutex<Vec<(usize, Pooled)>>,
    /// An upgrade the server accepted (101): the client connection becomes this tunnel once
    /// the 101 is sent ([`super::client`] carries it out).
    tunnel: Mutex<Option<Tunnel>>,
}

/// The server side of an upgraded connection, and how the tunnel idles out.
pub struct Tunnel {
    pub server: hyper::upgrade::OnUpgrade,
    pub to_server: super::tcp::Idle,
    pub to_client: super::tcp::Idle,
    /// The server's slot, held for the tunnel's life.
    pub slot: Slot,
}

impl Session {
    pub(super) fn rare(&self) -> &Rare {
        self.rare.get_or_init(Box::default)
    }

    /// The tunnel an accepted upgrade left, if any.
    pub(super) fn take_tunnel(&self) -> Option<Tunnel> {
        let rare = self.rare.get()?;
        rare.tunnel.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    fn set_tunnel(&self, t: Tunnel) {
        *self.rare().tunnel.lock().unwrap_or_else(|p| p.into_inner()) = Some(t);
    }

    fn take_private(&self, server: usize) -> Option<Pooled> {
        let rare = self.rare.get()?;
        let mut own = rare.private.lock().unwrap_or_else(|p| p.into_inner());
        own.retain(|(_, p)| !p.sender.is_closed());
        let i = own
            .iter()
            .position(|(s, p)| *s == server && p.sender.is_ready())?;
        Some(own.swap_remove(i).1)
    }

    fn put_private(&self, server: usize, conn: Pooled) {
        let mut own = self
            .rare()
            .private
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // HAProxy keeps a few per client connection (one per server it talks to, here).
        own.retain(|(s, _)| *s != server);
        own.push((server, conn));
    }
}

/// What all frontends share: every backend with its idle server connections, and every
/// frontend's counters; the live counts ACLs read (`nbsrv()`, `be_conn()`, `fe_conn`).
pub struct Shared {
    pub backends: Vec<(Arc<BackendState>, Arc<Pools>)>,
    pub frontends: Vec<Arc<Counters>>,
    /// Backend names, for `use_backend` with a log-format name.
    pub backend_names: std::collections::HashMap<String, usize>,
    /// `proc.*` variables, and whether any rule sets or reads variables.
    pub vars: crate::acl::Vars,
    pub uses_vars: bool,
    /// The proxies in the configuration's order, for the statistics page.
    pub listing: crate::stats::Listing,
}

/// The backend of a request or connection: the first `use_backend` whose condition holds,
/// else the default. A dynamic name that names no backend ends the rules: the default.
pub fn choose_backend(plan: &Frontend, shared: &Shared, ctx: &Ctx<'_>) -> Option<usize> {
    for (c, target) in &plan.switching {
        if !c.as_ref().is_none_or(|c| c.eval(ctx)) {
            continue;
        }
        return match target {
            Switch::Backend(b) => Some(*b),
            Switch::Dynamic(f) => std::str::from_utf8(&f.render(ctx))
                .ok()
                .and_then(|n| shared.backend_names.get(n).copied())
                .or(plan.backend),
        };
    }
    plan.backend
}

impl World for Shared {
    fn nbsrv(&self, b: usize) -> i64 {
        self.backends
            .get(b)
            .map_or(0, |(b, _)| b.usable_servers() as i64)
    }

    fn srv_is_up(&self, b: usize, s: usize) -> bool {
        self.backends
            .get(b)
            .and_then(|(b, _)| b.servers.get(s))
            .is_some_and(|s| s.up.load(Ordering::Relaxed))
    }

    fn be_conn(&self, b: usize) -> i64 {
        self.backends
            .get(b)
            .map_or(0, |(b, _)| i64::from(b.counters.snapshot().scur))
    }

    fn fe_conn(&self, f: usize) -> i64 {
        self.frontends
            .get(f)
            .map_or(0, |c| i64::from(c.snapshot().scur))
    }
}

/// A frontend as the HTTP path sees it.
pub struct HttpFrontend {
    pub plan: Arc<Frontend>,
    /// Its position among the frontends (for `fe_conn`).
    pub index: usize,
    pub shared: Arc<Shared>,
    /// The frontend's counters (shared with the runtime's `show stat` view).
    pub counters: Arc<Counters>,
    /// How long a client has to send a request head: `timeout http-request`, else
    /// `timeout client`, else 30 s (hyper's default, which rsproxy has always applied then).
    pub(super) head_timeout: Duration,
    /// hyper's settings for this frontend's client connections, made once (each client
    /// connection runs many short hyper connections, see [`super::client`]).
    pub(super) builder: hyper::server::conn::http1::Builder,
}

impl HttpFrontend {
    pub fn new(
        plan: Arc<Frontend>,
        index: usize,
        shared: Arc<Shared>,
        counters: Arc<Counters>,
    ) -> Self {
        let head_timeout = plan
            .timeouts
            .http_request
            .or(plan.timeouts.client)
            .unwrap_or(Duration::from_secs(30));
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            // A backend in `httpclose` mode closes after its response (`Connection: close`).
            .keep_alive(plan.conn_mode != ConnMode::Close)
            // A client that ends its sending side after a request still gets the answer, as
            // HAProxy forwards the request and waits. HAProxy 2.6 does so with `option
            // abortonclose` too, for a request it received whole (it does not read the
            // client again until the response): client-abort.scn shows it.
            .half_close(true)
            .auto_date_header(false)
            // The request-head timeout is kept by [`super::client`], across hyper connections.
            .header_read_timeout(None);
        HttpFrontend {
            plan,
            index,
            shared,
            counters,
            head_timeout,
            builder,
        }
    }
}

/// An empty `errorfile` for the status: the connection is closed without an answer (the
/// service's error makes hyper drop it without writing).
#[derive(Debug)]
pub struct NoAnswer;

impl std::fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("closed without an answer (empty errorfile)")
    }
}

impl std::error::Error for NoAnswer {}

pub(super) async fn handle(
    req: Request<Upload>,
    fe: &HttpFrontend,
    session: &Session,
    first: bool,
    peer: SocketAddr,
    local: SocketAddr,
    tls: Option<&crate::tls::TlsInfo>,
) -> Result<Response<Body>, NoAnswer> {
    fe.counters.request();
    let (resp, backend) = route(req, fe, session, first, peer, local, tls).await;
    // Once a backend is chosen its error files come first, then the frontend's; before, only
    // the frontend's (what haproxy 2.6.12 does).
    let resp = match backend.and_then(|b| fe.shared.backends.get(b)) {
        Some((b, _)) => with_errorfiles(resp, &[&b.plan.errorfiles, &fe.plan.errorfiles]),
        None => with_errorfiles(resp, &[&fe.plan.errorfiles]),
    };
    if let Ok(r) = &resp {
        fe.counters.response(r.status().as_u16());
    }
    resp
}

/// The frontend's rules, redirects and `use_backend` choice, then the backend's.
async fn route(
    req: Request<Upload>,
    fe: &HttpFrontend,
    session: &Session,
    first: bool,
    peer: SocketAddr,
    local: SocketAddr,
    tls: Option<&crate::tls::TlsInfo>,
) -> (Response<Body>, Option<usize>) {
    let plan = &fe.plan;
    let (mut parts, body) = req.into_parts();
    // Variables only where the configuration uses them: no cost per connection otherwise.
    let txn = crate::acl::Vars::default();
    let vars = fe.shared.uses_vars.then(|| crate::acl::VarsView {
        txn: &txn,
        sess: &session.rare().vars,
        proc: &fe.shared.vars,
    });
    let mut env = rules::Env {
        peer,
        local,
        frontend: fe.index,
        backend: None,
        world: &*fe.shared,
        vars,
        tls,
    };
    if let Some(r) = run_request_rules(&plan.rules, &fe.counters, &mut parts, env).await {
        return (r, None);
    }
    // `stats uri`: after the frontend's http-request rules, before its redirects.
    if let Some(r) = plan
        .stats
        .as_ref()
        .and_then(|s| crate::stats::serve::answer(s, &parts, &fe.shared))
    {
        return (r, None);
    }
    let chosen = {
        let t = rules::target(&parts.uri);
        let ctx = rules::ctx(&parts.method, &t, parts.version, &parts.headers, env);
        if let Some(r) = apply_redirects(&plan.redirects, &ctx) {
            return (r, None);
        }
        choose_backend(plan, &fe.shared, &ctx)
    };
    let Some((backend, pools)) = chosen.and_then(|b| fe.shared.backends.get(b)) else {
        return (error_page(StatusCode::SERVICE_UNAVAILABLE), None);
    };
    env.backend = chosen;
    backend.counters.request();
    // `force-persist` / `ignore-persist`: decided once the backend is known, before its own
    // rules run (HAProxy evaluates them with the switching rules).
    let persist = (!backend.plan.persist_rules.is_empty())
        .then(|| {
            let t = rules::target(&parts.uri);
            let ctx = rules::ctx(&parts.method, &t, parts.version, &parts.headers, env);
            persistence(backend, &ctx)
        })
        .flatten();
    let mut early =
        run_request_rules(&backend.plan.rules, &backend.counters, &mut parts, env).await;
    if early.is_none() {
        let t = rules::target(&parts.uri);
        let ctx = rules::ctx(&parts.method, &t, parts.version, &parts.headers, env);
        early = apply_redirects(&backend.plan.redirects, &ctx);
    }
    if let Some(r) = early {
        backend.counters.response(r.status().as_u16());
        return (r, chosen);
    }
    let answer_rules = !backend.plan.response_rules.is_empty() || !plan.response_rules.is_empty();
    // The method is all of the request the answer's rules read (as in HAProxy).
    let method = if answer_rules {
        parts.method.clone()
    } else {
        hyper::Method::GET
    };
    let req = Request::from_parts(parts, body);
    let mut resp = to_backend(req, fe, backend, pools, session, first, env, persist).await;
    // `http-response` rules: the backend's, then the frontend's; not on a page rsproxy made
    // itself for a failed exchange (no server, 502, 504), which HAProxy sends as it is.
    if answer_rules && resp.extensions().get::<Generated>().is_none() {
        let mut status = resp.status();
        let mut reason = None;
        for list in [&backend.plan.response_rules, &plan.response_rules] {
            if let rules::Verdict::Answer(a) = rules::response(
                list,
                &method,
                &mut status,
                &mut reason,
                resp.headers_mut(),
                env,
            ) {
                resp = answer(a, &backend.counters, None);
                break;
            }
            *resp.status_mut() = status;
            if let Some(r) = reason.as_deref() {
                if let Ok(p) = hyper::ext::ReasonPhrase::try_from(r.as_bytes().to_vec()) {
                    resp.extensions_mut().insert(p);
                }
            }
        }
    }
    backend.counters.response(resp.status().as_u16());
    (resp, chosen)
}

/// The server of the first `use-server` rule whose condition holds and whose server is up.
pub fn use_server(backend: &BackendState, ctx: &Ctx<'_>) -> Option<usize> {
    use_server_with(backend, ctx, None)
}

/// [`use_server`]; under `force-persist` the rule's server may also be down or disabled.
fn use_server_with(
    backend: &BackendState,
    ctx: &Ctx<'_>,
    persist: Option<Persist>,
) -> Option<usize> {
    let force = persist == Some(Persist::Force);
    backend
        .plan
        .use_servers
        .iter()
        .find(|(c, i)| (force || backend.is_up(*i)) && c.eval(ctx))
        .map(|(_, i)| *i)
}

/// The first `force-persist` / `ignore-persist` rule whose condition holds.
fn persistence(backend: &BackendState, ctx: &Ctx<'_>) -> Option<Persist> {
    backend
        .plan
        .persist_rules
        .iter()
        .find(|(c, _)| c.eval(ctx))
        .map(|(_, p)| *p)
}

/// Runs a proxy's `http-request` rules on the request; the answer of a final action.
async fn run_request_rules(
    list: &[Rule],
    counters: &Counters,
    parts: &mut hyper::http::request::Parts,
    env: rules::Env<'_>,
) -> Option<Response<Body>> {
    if list.is_empty() {
        return None;
    }
    let mut head = rules::Head {
        method: &mut parts.method,
        uri: &mut parts.uri,
        version: parts.version,
        headers: &mut parts.headers,
    };
    let action = match rules::request(list, &mut head, env) {
        rules::Verdict::Pass => return None,
        rules::Verdict::Answer(a) => a,
    };
    if let Action::Tarpit { status, hold } = action {
        // Held, then denied: a client that hammers waits for each answer.
        tokio::time::sleep(*hold).await;
        counters.denied();
        return Some(error_page(
            StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        ));
    }
    let t = rules::target(&parts.uri);
    let ctx = rules::ctx(&parts.method, &t, parts.version, &parts.headers, env);
    match action {
        Action::Redirect(rd) => redirect_response(rd, &ctx),
        a => Some(answer(a, counters, Some(&ctx))),
    }
}

/// The request's way through its backend once its rules let it pass: a server slot, the
/// server.
#[allow(clippy::too_many_arguments)]
async fn to_backend(
    req: Request<Upload>,
    fe: &HttpFrontend,
    backend: &Arc<BackendState>,
    pools: &Pools,
    session: &Session,
    first: bool,
    env: rules::Env<'_>,
    persist: Option<Persist>,
) -> Response<Body> {
    let (peer, local) = (env.peer, env.local);
    // The most closing of the two, as HAProxy combines `httpclose` > `http-server-close` >
    // `http-keep-alive`; the backend's `forwardfor` over the frontend's.
    let mode = fe.plan.conn_mode.max(backend.plan.conn_mode);
    let forwardfor = backend
        .plan
        .forwardfor
        .as_ref()
        .or(fe.plan.forwardfor.as_ref());
    // A protocol upgrade (WebSocket): once the server agrees (101), the connection becomes a
    // tunnel.
    let upgrade = wants_upgrade(req.headers()).then_some(Upgrade {
        session,
        client_idle: fe.plan.timeouts.client,
        client_fin: fe.plan.timeouts.client_fin,
    });
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
    // A `use-server` rule, else a persistence cookie, designating a usable server sends the
    // request there.
    let ck = backend.plan.cookie.as_ref();
    let used = (!backend.plan.use_servers.is_empty())
        .then(|| {
            let t = rules::target(req.uri());
            let ctx = rules::ctx(req.method(), &t, req.version(), req.headers(), env);
            use_server_with(backend, &ctx, persist)
        })
        .flatten();
    let by_cookie = ck
        .filter(|_| persist != Some(Persist::Ignore))
        .and_then(|ck| super::cookie::designated(ck, &backend.plan.servers, req.headers()))
        .filter(|&i| persist == Some(Persist::Force) || backend.is_up(i));
    let designated = used.or(by_cookie);
    let post = req.method() == hyper::Method::POST;
    // No server, a full queue, `timeout queue`: HAProxy's 503 for all three.
    let slot = match designated {
        Some(i) => backend.acquire_server(i).await,
        None => backend.acquire(key, None).await,
    };
    let Ok(slot) = slot else {
        return error_page(StatusCode::SERVICE_UNAVAILABLE);
    };
    let mut req = outgoing_request(
        req,
        peer,
        forwardfor,
        mode,
        fe.plan.timeouts.client,
        upgrade.is_some(),
    );
    if let Some(ck) = ck {
        super::cookie::strip_request(ck, req.headers_mut());
    }
    let reuse = Reuse {
        pools,
        session,
        first,
    };
    match forward(req, backend, reuse, slot, local, mode, upgrade).await {
        // The tunnel keeps the server's Connection and Upgrade fields, as HAProxy does.
        Ok((resp, _)) if resp.status() == StatusCode::SWITCHING_PROTOCOLS => resp,
        Ok((mut resp, server)) => {
            clean_connection(resp.headers_mut());
            // Under `ignore-persist` the answer's cookies are left as the server sent them.
            let ck = ck.filter(|_| persist != Some(Persist::Ignore));
            if let (Some(ck), Some(s)) = (ck, backend.plan.servers.get(server)) {
                // A server given by use-server or the cookie needs no new cookie; one the
                // balancer chose does.
                let had_valid = designated == Some(server);
                let status = resp.status().as_u16();
                super::cookie::response(ck, s, had_valid, post, status, resp.headers_mut());
            }
            if mode == ConnMode::Close {
                resp.headers_mut()
                    .insert(CONNECTION, HeaderValue::from_static("close"));
            }
            resp
        }
        Err(failed) => failed.response(),
    }
}

/// Marks a response rsproxy made itself with HAProxy's page for a status, so that a
/// configured `errorfile` can replace it.
#[derive(Debug, Clone, Copy)]
struct Generated;

/// The response as it leaves: one of HAProxy's own pages is replaced by the first of `files`
/// that has an `errorfile` for its status (an empty one closes without an answer).
fn with_errorfiles(
    resp: Response<Body>,
    files: &[&ErrorFiles],
) -> Result<Response<Body>, NoAnswer> {
    if resp.extensions().get::<Generated>().is_none() {
        return Ok(resp);
    }
    match crate::plan::find_errorfile(files, resp.status().as_u16()) {
        None => Ok(resp),
        Some(e) => e.response.as_ref().map(errorfile_response).ok_or(NoAnswer),
    }
}

/// An error file's response as HAProxy writes it (see `plan::errorfile`).
fn errorfile_response(e: &ErrorResponse) -> Response<Body> {
    let body = if e.length_known && e.body.is_empty() {
        // hyper writes the file's `content-length: 0` in its place only for a body that
        // does not say it has ended before it is polled.
        UntilClose(None).boxed()
    } else if e.length_known {
        full(e.body.clone())
    } else {
        UntilClose(Some(e.body.clone())).boxed()
    };
    let mut r = Response::new(body);
    *r.status_mut() = e.status;
    *r.version_mut() = if e.http10 {
        hyper::Version::HTTP_10
    } else {
        hyper::Version::HTTP_11
    };
    r.extensions_mut().insert(e.reason.clone());
    let h = r.headers_mut();
    for (name, value) in &e.headers {
        h.append(name.clone(), value.clone());
    }
    match (e.http10, e.close) {
        (false, true) => {
            h.append(CONNECTION, HeaderValue::from_static("close"));
        }
        (true, false) => {
            h.append(CONNECTION, HeaderValue::from_static("keep-alive"));
        }
        _ => {}
    }
    r
}

/// A body hyper must not announce with a length: it ends with the connection (an HTTP/1.0
/// error file without Content-Length). `UntilClose(None)` is an empty body the response's
/// own `content-length: 0` frames (an `errorloc` redirect).
struct UntilClose(Option<Bytes>);

impl hyper::body::Body for UntilClose {
    type Data = Bytes;
    type Error = BoxError;

    fn size_hint(&self) -> hyper::body::SizeHint {
        match &self.0 {
            // Empty: nothing to write whatever the framing.
            None => hyper::body::SizeHint::with_exact(0),
            Some(_) => hyper::body::SizeHint::default(),
        }
    }

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let data = self.get_mut().0.take().filter(|b| !b.is_empty());
        Poll::Ready(data.map(|b| Ok(Frame::data(b))))
    }
}

/// The answer of a final action; a `deny` counts in `counters` (`dreq`). `ctx`: the request,
/// for a log-format body.
fn answer(action: &Action, counters: &Counters, ctx: Option<&Ctx<'_>>) -> Response<Body> {
    match action {
        Action::Return {
            status,
            content_type,
            body,
            fields,
        } => {
            let body = match body {
                ReturnBody::Static(b) => b.clone(),
                ReturnBody::Lf(f) => ctx.map(|c| Bytes::from(f.render(c))).unwrap_or_default(),
            };
            let mut r = Response::new(full(body.clone()));
            *r.status_mut() = StatusCode::from_u16(*status).unwrap_or(StatusCode::OK);
            let h = r.headers_mut();
            // HAProxy writes the `hdr` fields first, and no length in a 204.
            for (name, value) in fields {
                let v = ctx.map(|c| value.render(c)).unwrap_or_default();
                if let Ok(v) = HeaderValue::from_bytes(&v) {
                    h.append(name.clone(), v);
                }
            }
            if *status != 204 {
                h.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
            }
            if let Some(ct) = content_type {
                h.insert(CONTENT_TYPE, ct.clone());
            }
            r
        }
        Action::Deny { status } => {
            counters.denied();
            error_page(StatusCode::from_u16(*status).unwrap_or(StatusCode::FORBIDDEN))
        }
        Action::Auth(challenge) => {
            let mut r = error_page(StatusCode::UNAUTHORIZED);
            r.headers_mut()
                .insert(hyper::header::WWW_AUTHENTICATE, challenge.clone());
            r
        }
        // Not final actions: never given here.
        _ => error_page(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// The answer of the first `redirect` whose condition holds, if any.
fn apply_redirects(rules: &[Redirect], ctx: &Ctx<'_>) -> Option<Response<Body>> {
    let rd = rules
        .iter()
        .find(|r| r.cond.as_ref().is_none_or(|c| c.eval(ctx)))?;
    redirect_response(rd, ctx)
}

/// A redirect's answer for this request.
fn redirect_response(rd: &Redirect, ctx: &Ctx<'_>) -> Option<Response<Body>> {
    let http = ctx.http.as_ref()?;
    let dest = rd.target.render(ctx);
    let target = http.target;
    // The path and query of the request, as the redirect carries them on.
    let (path, query) = match target.iter().position(|&b| b == b'?') {
        Some(q) => (&target[..q], &target[q..]),
        None => (target, &b""[..]),
    };
    let mut loc: Vec<u8> = Vec::new();
    match rd.kind {
        RedirectKind::Location => loc.extend_from_slice(&dest),
        RedirectKind::Prefix | RedirectKind::Scheme => {
            if rd.kind == RedirectKind::Scheme {
                loc.extend_from_slice(&dest);
                loc.extend_from_slice(b"://");
                if let Some(host) = http.headers.get(hyper::header::HOST) {
                    loc.extend_from_slice(host.as_bytes());
                }
            } else if dest != b"/" {
                // `prefix /` keeps the path as it is.
                loc.extend_from_slice(&dest);
            }
            loc.extend_from_slice(path);
            if !rd.drop_query {
                loc.extend_from_slice(query);
            }
            // As HAProxy 2.6: the slash goes after what was carried on, so with the query
            // kept it lands after the query (`/docs?q=1/`); the manual pairs append-slash
            // with drop-query.
            if rd.append_slash && !loc.ends_with(b"/") {
                loc.push(b'/');
            }
        }
    }
    let location = HeaderValue::from_bytes(&loc).ok()?;
    // HAProxy's fields, in its order.
    let mut r = Response::new(ZeroLength.boxed());
    *r.status_mut() = StatusCode::from_u16(rd.code).unwrap_or(StatusCode::FOUND);
    let h = r.headers_mut();
    h.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    h.insert(hyper::header::LOCATION, location);
    // Temporary redirects must not be cached; permanent ones (301, 308) may be.
    if matches!(rd.code, 302 | 303 | 307) {
        h.insert(
            hyper::header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        );
    }
    if let Some(c) = &rd.cookie {
        h.insert(hyper::header::SET_COOKIE, c.clone());
    }
    Some(r)
}

/// An empty body that says so through its length rather than by being over: hyper then
/// writes the `content-length: 0` field where the response has it (for an ended body it
/// would drop it and add its own last, out of HAProxy's order).
struct ZeroLength;

impl hyper::body::Body for ZeroLength {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, BoxError>>> {
        Poll::Ready(None)
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(0)
    }
}

/// The request as the server gets it, as HAProxy 2.6 sends it: `close`/`keep-alive` tokens
/// out of `Connection`, `X-Forwarded-For` added, a `Connection: close` field of its own in the
/// closing modes (none in keep-alive mode, but `Connection: keep-alive` for an HTTP/1.0
/// request, which stays HTTP/1.0). An upgrade keeps its `Connection: upgrade` as it is.
fn outgoing_request(
    req: Request<Upload>,
    peer: SocketAddr,
    ff: Option<&Forwardfor>,
    mode: ConnMode,
    client_timeout: Option<std::time::Duration>,
    upgrade: bool,
) -> Request<Body> {
    let (mut parts, body) = req.into_parts();
    clean_connection(&mut parts.headers);
    if let Some(ff) = ff {
        let excepted = ff.except.is_some_and(|net| net.contains(peer.ip()));
        let present = parts.headers.contains_key(&ff.header);
        if !(excepted || ff.if_none && present) {
            if let Ok(v) = HeaderValue::from_str(&peer.ip().to_string()) {
                parts.headers.append(ff.header.clone(), v);
            }
        }
    }
    if upgrade {
    } else if mode != ConnMode::KeepAlive {
        parts
            .headers
            .append(CONNECTION, HeaderValue::from_static("close"));
    } else if parts.version == hyper::Version::HTTP_10 {
        parts
            .headers
            .append(CONNECTION, HeaderValue::from_static("keep-alive"));
    }
    if parts.version != hyper::Version::HTTP_10 {
        parts.version = hyper::Version::HTTP_11;
    }
    // An upload that stalls longer than `timeout client` is ended, as HAProxy ends it.
    let body = match client_timeout {
        Some(t) if !body.is_end_stream() => IdleTimeout::new(body, t).boxed(),
        _ => body.map_err(BoxError::from).boxed(),
    };
    Request::from_parts(parts, body)
}

/// Takes the `close` and `keep-alive` tokens out of `Connection`, as HAProxy 2.6 does, and
/// drops a field left empty; every other field passes, connection-level ones included (TE,
/// Trailer, Keep-Alive, Proxy-Connection, fields named in Connection): HAProxy forwards them.
/// The fields keep their order.
fn clean_connection(h: &mut hyper::HeaderMap) {
    // Most messages carry no Connection field: one lookup, then done.
    if !h.contains_key(CONNECTION) {
        return;
    }
    // Per value: `None` to drop it, else what it becomes.
    let mut changed = false;
    let new: Vec<Option<HeaderValue>> = h
        .get_all(CONNECTION)
        .iter()
        .map(|v| {
            let Ok(text) = v.to_str() else {
                return Some(v.clone());
            };
            let is_ours =
                |t: &str| t.eq_ignore_ascii_case("close") || t.eq_ignore_ascii_case("keep-alive");
            if !text.split(',').any(|t| is_ours(t.trim())) {
                return Some(v.clone());
            }
            changed = true;
            let tokens: Vec<&str> = text
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty() && !is_ours(t))
                .collect();
            if tokens.is_empty() {
                None
            } else {
                HeaderValue::from_str(&tokens.join(", ")).ok()
            }
        })
        .collect();
    if !changed {
        return;
    }
    super::cookie::replace_values(h, &CONNECTION, new);
}

/// Where a request finds an idle server connection, and where its connection goes after.
struct Reuse<'a> {
    pools: &'a Pools,
    session: &'a Session,
    /// The client connection's first request.
    first: bool,
}

impl Reuse<'_> {
    fn take(&self, server: usize, mode: HttpReuse) -> Option<Pooled> {
        match mode {
            HttpReuse::Never => self.session.take_private(server),
            _ => self.pools.take(server, self.first, mode),
        }
    }

    fn put(&self, server: usize, conn: Pooled, mode: HttpReuse) {
        match mode {
            HttpReuse::Never => self.session.put_private(server, conn),
            _ => self.pools.put(server, conn),
        }
    }
}

/// The client side of a requested protocol upgrade.
struct Upgrade<'a> {
    /// Where the tunnel goes for the client connection to carry out after the 101.
    session: &'a Session,
    /// `timeout client`, the client side's idle timeout in the tunnel without `timeout tunnel`,
    /// and `timeout client-fin`.
    client_idle: Option<std::time::Duration>,
    client_fin: Option<std::time::Duration>,
}

/// A request asking to switch protocols: `Connection: upgrade` and an `Upgrade` field.
fn wants_upgrade(h: &hyper::HeaderMap) -> bool {
    h.contains_key(UPGRADE)
        && h.get_all(CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
}

async fn forward(
    req: Request<Body>,
    backend: &Arc<BackendState>,
    reuse: Reuse<'_>,
    slot: Slot,
    local: SocketAddr,
    mode: ConnMode,
    upgrade: Option<Upgrade<'_>>,
) -> Result<(Response<Body>, usize), Failed> {
    // Retries that redispatch pick again without a key (HAProxy too falls back then).
    let key = Key::None;
    let server_timeout = backend.plan.timeouts.server;
    let policy = backend.plan.reuse;
    let picked = slot.server();
    let got = async {
        Ok(match reuse.take(slot.server(), policy) {
            Some(mut c) => {
                // A server may close an idle connection just as we reuse it. A request without a
                // body can be replayed on a fresh connection, as HAProxy does; keep its head.
                let replay = req.body().is_end_stream().then(|| head_of(&req));
                match send(&mut c.sender, req, server_timeout).await {
                    Ok(resp) => (c, slot, resp),
                    Err(Failed::Page(StatusCode::BAD_GATEWAY)) if replay.is_some() => {
                        let req = replay
                            .map(|r| r.map(|()| empty()))
                            .ok_or(StatusCode::BAD_GATEWAY)?;
                        let (mut c, slot) = fresh(backend, slot, key, local).await?;
                        let resp = send(&mut c.sender, req, server_timeout).await?;
                        (c, slot, resp)
                    }
                    Err(status) => return Err(status),
                }
            }
            None => {
                let (mut c, slot) = fresh(backend, slot, key, local).await?;
                let resp = send(&mut c.sender, req, server_timeout).await?;
                (c, slot, resp)
            }
        })
    }
    .await;
    let (mut conn, slot, resp) = match got {
        Ok(x) => x,
        Err(f) => {
            if f == Failed::Page(StatusCode::BAD_GATEWAY) {
                backend.count(picked, Counters::failed_response);
            }
            return Err(f);
        }
    };
    backend
        .server_counters(slot.server())
        .response(resp.status().as_u16());
    if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
        // The server connection becomes the tunnel's: it never goes back to a pool. A 101
        // nobody asked for is not a usable response.
        let Some(up) = upgrade else {
            return Err(Failed::Page(StatusCode::BAD_GATEWAY));
        };
        let mut resp = resp;
        let server = hyper::upgrade::on(&mut resp);
        let t = &backend.plan.timeouts;
        let (to_server, to_client) = match t.tunnel {
            Some(tunnel) => (Some(tunnel), Some(tunnel)),
            None => (up.client_idle, t.server),
        };
        let to_server = super::tcp::Idle::new(to_server, up.client_fin);
        let to_client = super::tcp::Idle::new(to_client, t.server_fin);
        up.session.set_tunnel(Tunnel {
            server,
            to_server,
            to_client,
            slot,
        });
        let (parts, _) = resp.into_parts();
        return Ok((Response::from_parts(parts, empty()), picked));
    }
    if mode == ConnMode::KeepAlive {
        conn.uses += 1;
        reuse.put(slot.server(), conn, policy);
    }
    let (parts, body) = resp.into_parts();
    // A response that stalls longer than `timeout server` is ended, as HAProxy ends it. The
    // server's slot is held until the response is over, as HAProxy counts it.
    let idle = backend
        .plan
        .timeouts
        .server
        .filter(|_| !body.is_end_stream());
    let server = slot.server();
    let body = IdleTimeout::maybe(body, idle).holding(slot).boxed();
    Ok((Response::from_parts(parts, body), server))
}

/// A new connection to the slot's server (with HAProxy's retries), HTTP/1.1 handshake done.
async fn fresh(
    backend: &Arc<BackendState>,
    slot: Slot,
    key: Key<'_>,
    local: SocketAddr,
) -> Result<(Pooled, Slot), StatusCode> {
    let (stream, slot) = connect(backend, slot, key, local.port())
        .await
        .ok_or(StatusCode::SERVICE_UNAVAILABLE)?;
    let sink = super::ServerSink {
        backend: Arc::clone(backend),
        server: slot.server(),
    };
    let stream = super::Counted::new(stream, sink);
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|_| StatusCode::BAD_GATEWAY)?;
    tokio::spawn(async move {
        let _ = conn.with_upgrades().await;
    });
    Ok((Pooled::fresh(sender), slot))
}

/// Sends `req` and waits for the response head: 504 past `timeout server`, 502 when the
/// server fails to answer.
async fn send(
    sender: &mut SendRequest<Body>,
    req: Request<Body>,
    timeout: Option<std::time::Duration>,
) -> Result<Response<Incoming>, Failed> {
    let fut = sender.send_request(req);
    match timeout {
        Some(t) => tokio::time::timeout(t, fut)
            .await
            .map_err(|_| StatusCode::GATEWAY_TIMEOUT)?,
        None => fut.await,
    }
    .map_err(|e| {
        // The client stopped sending its request body for longer than `timeout client`.
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(c) = cause {
            if c.is::<IdleTimedOut>() {
                return Failed::ClientStalled;
            }
            cause = c.source();
        }
        Failed::Page(StatusCode::BAD_GATEWAY)
    })
}

/// Why a request got no response from a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failed {
    /// Answer with HAProxy's page for this status.
    Page(StatusCode),
    /// The client's upload stalled past `timeout client` before the server answered: HAProxy
    /// answers its 504 page and closes the client connection.
    ClientStalled,
}

impl From<StatusCode> for Failed {
    fn from(s: StatusCode) -> Self {
        Failed::Page(s)
    }
}

impl Failed {
    fn response(self) -> Response<Body> {
        match self {
            Failed::Page(status) => error_page(status),
            Failed::ClientStalled => {
                let mut r = error_page(StatusCode::GATEWAY_TIMEOUT);
                r.headers_mut()
                    .insert(CONNECTION, HeaderValue::from_static("close"));
                r
            }
        }
    }
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
    let mut r = haproxy_page(status);
    r.extensions_mut().insert(Generated);
    r
}

fn haproxy_page(status: StatusCode) -> Response<Body> {
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
