//! An HTTP client connection, from accept to close, holding as little as possible while idle.
//! Its states and transitions: `LIFECYCLE.md` beside this file.
//!
//! hyper parses and writes HTTP/1.1 for us, but a hyper connection keeps an 8 KiB read buffer,
//! an 8 KiB write buffer, a slot sized for the request handler's future and the last request's
//! header map for as long as it lives: ~20 KiB per client even when nothing happens. So hyper
//! only runs while a request is being received or answered:
//!
//! ```text
//!            ┌──────────────────────────── readable ───────────────────────────┐
//!            │                                                                 ▼
//!   accept ─► idle: socket and task only, ───── head not received ─────►  hyper serves
//!             waiting for the socket to be       within the timeout        the request
//!             readable (no buffer)               (408 or silent close)          │
//!                ▲                                                              │
//!                └──── exchange finished, all flushed, hyper idle: its parts ───┘
//!                      taken back (unread bytes carried to the next hyper)
//! ```
//!
//! hyper is taken apart only when it is provably idle *and* keeping the connection: the
//! handler read the request body to its end, hyper dropped the response body (it has it
//! all), no write is blocked (every write hyper made was flushed), and hyper still returned
//! `Pending` (had it wanted to close, it would have finished instead). Its state is then
//! "waiting for the next head", which a new hyper connection starts from; hyper's own
//! keep-alive decisions and response headers are untouched (no `graceful_shutdown`, which
//! would add `connection: close`). After a request body the handler gave up on, hyper drains
//! it (or closes) when it next runs, so it is only taken apart after lingering (below).
//!
//! Taking hyper apart and building it again costs ~2,600 instructions, so a client sending
//! requests in a burst (its previous exchange ended less than `LINGER` ago) keeps its hyper
//! until it pauses that long; any other connection gives the memory back at once. Freeing at
//! once matters beyond the few milliseconds saved: memory freed in a burst of connections
//! stays in the process (the allocator keeps it), so what counts is how many connections
//! hold buffers at the same time.
//!
//! The request-head timeout (`timeout http-request`, else `timeout client`) is kept here, not
//! by hyper, as it spans hyper connections: from the moment the connection waits for a head
//! (accepted, or its last exchange over) until one arrives. When no request ever arrived
//! whole, HAProxy answers a raw 408; a kept-alive connection is closed silently.

use super::http::{handle, HttpFrontend, Session, Tunnel};
use super::stream::ClientStream;
use crate::tls::TlsInfo;
use bytes::{Bytes, BytesMut};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

/// HAProxy's answer to a request head not received within `timeout http-request`, as it
/// writes it (raw, not through its HTTP layer: note the header names' case).
const REQUEST_TIMEOUT: &[u8] = b"HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n";

/// How long hyper is kept after an exchange when the client is sending requests in a burst
/// (its previous exchange ended less than this before), or after a request body the handler
/// gave up on. Rebuilding hyper for every request of a busy connection would cost over a
/// tenth of a small keep-alive request's path (bench/instr.sh).
const LINGER: Duration = Duration::from_millis(10);

/// Serves one client connection until it closes; `permits` (its `maxconn` slots) are
/// released then. `tls`: what the TLS handshake agreed, on a TLS bind line.
///
/// Not an `async fn`: its arguments would be stored in the task twice (once as arguments,
/// once moved into the body), for every idle connection. The block below keeps each in place.
pub fn serve<S: ClientStream>(
    client: S,
    peer: SocketAddr,
    local: SocketAddr,
    fe: Arc<HttpFrontend>,
    permits: Vec<OwnedSemaphorePermit>,
    tls: Option<Box<TlsInfo>>,
) -> impl Future<Output = ()> + Send {
    let head_timeout = fe.head_timeout;
    let exchange = Arc::new(Exchange {
        fe,
        peer,
        local,
        tls,
        session: Session::default(),
        state: AtomicU32::new(0),
        write_blocked: AtomicBool::new(false),
        nothing_read: AtomicBool::new(false),
        waiter: Mutex::new(None),
    });
    let mut service = {
        let exchange = Arc::clone(&exchange);
        hyper::service::service_fn(move |req: Request<Incoming>| {
            let seq = exchange.begin(req.body().is_end_stream());
            let req = req.map(|body| Upload::new(body, &exchange, seq));
            let exchange = Arc::clone(&exchange);
            async move {
                let session = &exchange.session;
                let first = !session.answered.swap(true, Ordering::Relaxed);
                session.partial.store(false, Ordering::Relaxed);
                let resp = handle(
                    req,
                    &exchange.fe,
                    session,
                    first,
                    exchange.peer,
                    exchange.local,
                    exchange.tls.as_deref(),
                )
                .await;
                // The request's body was read meanwhile: those bytes were not a next request.
                session.partial.store(false, Ordering::Relaxed);
                // An empty errorfile: hyper closes the connection without an answer.
                resp.map(|r| {
                    r.map(|body| Answer {
                        body,
                        exchange: Arc::clone(&exchange),
                    })
                })
            }
        })
    };
    let mut client = client;
    async move {
        let _slots = &permits;
        let _fe_session = exchange.fe.counters.session();
        client.set_nodelay();
        // Bytes hyper read past the last request it handled (a pipelined request), for the next.
        let mut unread = Bytes::new();
        // One timer for the connection's life: the request-head deadline, and the end of hyper's
        // lingering after an exchange, whichever comes first.
        let mut head_deadline = Instant::now() + head_timeout;
        let mut timer = pin!(tokio::time::sleep_until(head_deadline));
        // When the connection's last exchange ended.
        let mut last_end: Option<Instant> = None;
        loop {
            timer.as_mut().reset(head_deadline);
            if unread.is_empty() {
                let woke = poll_fn(|cx| {
                    if let Poll::Ready(r) = client.poll_read_ready(cx) {
                        return Poll::Ready(r.is_ok());
                    }
                    timer.as_mut().poll(cx).map(|()| false)
                })
                .await;
                if !woke {
                    // Timed out, or the socket failed.
                    return request_timeout(&mut client, &exchange, head_deadline).await;
                }
            }
            let io = ClientIo {
                stream: &mut client,
                unread: std::mem::take(&mut unread),
                exchange: &exchange,
                fed: false,
            };
            exchange.nothing_read.store(false, Ordering::Relaxed);
            // Boxed: the task itself stays small while idle; hyper's state only exists in here.
            let mut conn = Box::new(
                exchange
                    .fe
                    .builder
                    .serve_connection(TokioIo::new(io), service),
            );
            // The exchange after which a request head is awaited (None while one is under way),
            // and until when hyper lingers after it.
            let mut waiting = Some(exchange.seq());
            let mut linger: Option<Instant> = None;
            let end = poll_fn(|cx| loop {
                if let Poll::Ready(r) = Pin::new(&mut *conn).poll(cx) {
                    // A request that could not be read counts as a request error (`ereq`).
                    if r.is_err_and(|e| e.is_parse() || e.is_parse_too_large()) {
                        exchange.fe.counters.failed_request();
                    }
                    return Poll::Ready(End::Closed);
                }
                let state = exchange.state();
                let seq = state >> SEQ_SHIFT;
                if waiting.is_some_and(|w| w != seq) {
                    (waiting, linger) = (None, None);
                }
                if waiting.is_none() {
                    // An exchange is under way: over once hyper has the whole response and sent
                    // it (a blocked write wakes hyper, and so this task, when it can go on), and
                    // the handler read the request body or gave up on it. The body may be read
                    // in another task (the server connection's), which wakes this one then.
                    if state & RESPONDED == 0
                        || exchange.write_blocked.load(Ordering::Relaxed)
                        || !exchange.request_over(cx)
                    {
                        return Poll::Pending;
                    }
                    let now = Instant::now();
                    head_deadline = now + head_timeout;
                    waiting = Some(seq);
                    let burst = last_end.is_some_and(|t| now - t < LINGER);
                    last_end = Some(now);
                    // A body given up on is drained (or the connection closed) by hyper when it
                    // next runs: only after that may hyper be taken apart, so it lingers too.
                    let clean = exchange.state() & RECEIVED != 0;
                    if clean && !burst {
                        return Poll::Ready(End::Idle);
                    }
                    linger = Some(now + LINGER);
                    timer.as_mut().reset((now + LINGER).min(head_deadline));
                }
                // A socket can be reported readable with nothing to read (a new connection is, at
                // first): hyper found nothing, so it holds nothing worth keeping yet.
                if linger.is_none() && exchange.nothing_read.load(Ordering::Relaxed) {
                    return Poll::Ready(End::Idle);
                }
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                let now = Instant::now();
                if now >= head_deadline {
                    return Poll::Ready(End::TimedOut);
                }
                if let Some(l) = linger.filter(|&l| now >= l) {
                    if !exchange.write_blocked.load(Ordering::Relaxed) {
                        return Poll::Ready(End::Idle);
                    }
                    // Still sending the last response: linger on.
                    linger = Some(l.max(now) + LINGER);
                }
                let next = linger.map_or(head_deadline, |l| l.min(head_deadline));
                timer.as_mut().reset(next);
            })
            .await;
            match end {
                End::Idle => {
                    let parts = conn.into_parts();
                    service = parts.service;
                    let rest = parts.io.into_inner().unread;
                    // Copied out (rarely anything): even empty, hyper's read buffer would keep
                    // its 8 KiB alive.
                    unread = match (parts.read_buf.is_empty(), rest.is_empty()) {
                        (true, _) => rest,
                        (false, true) => Bytes::copy_from_slice(&parts.read_buf),
                        (false, false) => {
                            let mut both = BytesMut::from(&parts.read_buf[..]);
                            both.extend_from_slice(&rest);
                            both.freeze()
                        }
                    };
                }
                End::TimedOut => {
                    drop(conn);
                    return request_timeout(&mut client, &exchange, head_deadline).await;
                }
                End::Closed => {
                    // An upgrade the server accepted: hyper sent the 101 and let go of the
                    // connection, which now carries the tunnel (with what the client sent
                    // after its request, which hyper had read).
                    let Some(tunnel) = exchange.session.take_tunnel() else {
                        return;
                    };
                    let early = {
                        let parts = conn.into_parts();
                        let mut early = BytesMut::from(&parts.read_buf[..]);
                        early.extend_from_slice(&parts.io.into_inner().unread);
                        early.freeze()
                    };
                    // A task of its own (with the connection's maxconn slots and a session in
                    // the frontend's count): the tunnel's state must not make every idle
                    // connection's task larger.
                    let counters = Arc::clone(&exchange.fe.counters);
                    tokio::spawn(async move {
                        let _slots = permits;
                        let _session = counters.session();
                        carry_tunnel(client, early, tunnel).await;
                    });
                    return;
                }
            }
        }
    }
}

enum End {
    /// hyper finished an exchange and waits for the next head: its parts can be taken back.
    Idle,
    /// No head arrived in time.
    TimedOut,
    /// hyper closed the connection (or failed).
    Closed,
}

/// No request head arrived whole in time: HAProxy answers 408 when none ever did on this
/// connection, or part of the next one arrived; a kept-alive connection that got nothing
/// more is closed silently. An empty `errorfile 408` closes without a word; HAProxy does not
/// use a non-empty one here (it still sends its own 408, observed with haproxy 2.6.12).
/// (Also called when the socket failed while idle, which writes nothing.)
async fn request_timeout<S: ClientStream>(client: &mut S, exchange: &Exchange, deadline: Instant) {
    let partial = exchange.session.partial.load(Ordering::Relaxed);
    if (exchange.seq() == 0 || partial) && Instant::now() >= deadline {
        exchange.fe.counters.failed_request();
        let silent = crate::plan::find_errorfile(&[&exchange.fe.plan.errorfiles], 408)
            .is_some_and(|e| e.response.is_none());
        if !silent {
            let _ = client.write_all(REQUEST_TIMEOUT).await;
        }
        let _ = client.shutdown().await;
    }
}

/// Carries an upgraded connection: bytes both ways between the client and the server until
/// both directions ended, each side idling out as in `mode tcp`; the server's slot is held as
/// long.
async fn carry_tunnel<S: ClientStream>(client: S, early: Bytes, tunnel: Tunnel) {
    let Tunnel {
        server,
        to_server,
        to_client,
        slot,
    } = tunnel;
    let Ok(server) = server.await else { return };
    let client = Prefixed {
        early,
        stream: client,
    };
    super::tcp::splice(client, TokioIo::new(server), to_server, to_client).await;
    drop(slot);
}

/// A stream with bytes already read from it served first.
struct Prefixed<S> {
    early: Bytes,
    stream: S,
}

impl<S: ClientStream> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if !self.early.is_empty() {
            let n = self.early.len().min(buf.remaining());
            buf.put_slice(&self.early.split_to(n));
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: ClientStream> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// A client connection's frontend and addresses, and how far its current exchange (request
/// and response) got, shared by the connection's task, its hyper service, and the bodies
/// hyper reads and writes (one allocation per connection). The request body may be read by
/// another task (the server connection's), after hyper moved on: its signal names the
/// exchange it belongs to, and wakes the connection's task.
struct Exchange {
    fe: Arc<HttpFrontend>,
    /// What the requests of the connection carry from one to the next (first request, a
    /// partly received head, private server connections, an accepted upgrade).
    session: Session,
    /// The client's address, and the one it connected to.
    peer: SocketAddr,
    local: SocketAddr,
    /// What the TLS handshake agreed (`None` on a plain connection).
    tls: Option<Box<TlsInfo>>,
    /// The exchange's number (from 1; 0 before the first head) shifted left by
    /// [`SEQ_SHIFT`], with [`RECEIVED`], [`ABANDONED`] and [`RESPONDED`].
    state: AtomicU32,
    /// The last write to the client returned `Pending`: hyper still holds bytes to send.
    write_blocked: AtomicBool,
    /// The current hyper connection found nothing to read: it got no byte, and waits.
    nothing_read: AtomicBool,
    /// The connection's task, while it waits for the request body's end.
    waiter: Mutex<Option<Waker>>,
}

/// The request, body included, was read whole.
const RECEIVED: u32 = 1;
/// The handler dropped the request body before its end (hyper drains or closes).
const ABANDONED: u32 = 2;
/// hyper dropped the response body: it has all of the response.
const RESPONDED: u32 = 4;
const SEQ_SHIFT: u32 = 3;

impl Exchange {
    fn state(&self) -> u32 {
        self.state.load(Ordering::Acquire)
    }

    fn seq(&self) -> u32 {
        self.state() >> SEQ_SHIFT
    }

    /// A request head arrived: a new exchange, already received if it has no body.
    fn begin(&self, no_body: bool) -> u32 {
        let seq = self.seq().wrapping_add(1) & (u32::MAX >> SEQ_SHIFT);
        let received = if no_body { RECEIVED } else { 0 };
        self.state
            .store(seq << SEQ_SHIFT | received, Ordering::Release);
        seq
    }

    /// The request body of exchange `seq` ended (`RECEIVED`) or was given up (`ABANDONED`).
    fn request_done(&self, seq: u32, how: u32) {
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                (s >> SEQ_SHIFT == seq).then_some(s | how)
            });
        let waiter = self.waiter.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(w) = waiter {
            w.wake();
        }
    }

    /// Whether the current request was read or given up; if not yet, the task is woken
    /// when it is.
    fn request_over(&self, cx: &mut Context<'_>) -> bool {
        const OVER: u32 = RECEIVED | ABANDONED;
        if self.state() & OVER != 0 {
            return true;
        }
        *self.waiter.lock().unwrap_or_else(|p| p.into_inner()) = Some(cx.waker().clone());
        // Checked again: the body may have ended before the waker was in place.
        self.state() & OVER != 0
    }

    fn responded(&self) {
        self.state.fetch_or(RESPONDED, Ordering::Release);
    }
}

/// A request body as the handler sees it: unchanged, but it tells its exchange when it was
/// read to its end, or dropped before (then hyper still has to drain it, or close).
pub struct Upload {
    inner: Incoming,
    /// Set until the end is seen (and only for a request that has a body).
    signal: Option<(Arc<Exchange>, u32)>,
}

impl Upload {
    fn new(inner: Incoming, exchange: &Arc<Exchange>, seq: u32) -> Self {
        let signal = (!inner.is_end_stream()).then(|| (Arc::clone(exchange), seq));
        Upload { inner, signal }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if let Some((exchange, seq)) = self.signal.take() {
            exchange.request_done(seq, ABANDONED);
        }
    }
}

impl Body for Upload {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        let frame = Pin::new(&mut this.inner).poll_frame(cx);
        let ended = match &frame {
            Poll::Ready(None) => true,
            Poll::Ready(Some(Ok(_))) => this.inner.is_end_stream(),
            _ => false,
        };
        if ended {
            if let Some((exchange, seq)) = this.signal.take() {
                exchange.request_done(seq, RECEIVED);
            }
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body as hyper gets it: unchanged, but its exchange learns when hyper is done
/// with it (hyper drops it once it has the last frame, or never needed it).
pub struct Answer {
    body: super::http::Body,
    exchange: Arc<Exchange>,
}

impl Drop for Answer {
    fn drop(&mut self) {
        self.exchange.responded();
    }
}

impl Body for Answer {
    type Data = Bytes;
    type Error = super::body::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The client connection as one hyper connection sees it: the socket, borrowed (the task
/// keeps it between hyper connections), with the bytes an earlier hyper read but did not use
/// served first. Writes that block are noted for [`serve`].
struct ClientIo<'a, S> {
    stream: &'a mut S,
    unread: Bytes,
    exchange: &'a Exchange,
    /// Bytes were handed to hyper (or the end of the stream).
    fed: bool,
}

impl<S> ClientIo<'_, S> {
    fn note<T>(&self, p: Poll<T>) -> Poll<T> {
        self.exchange
            .write_blocked
            .store(p.is_pending(), Ordering::Relaxed);
        p
    }
}

impl<S: ClientStream> AsyncRead for ClientIo<'_, S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if !self.unread.is_empty() {
            let n = self.unread.len().min(buf.remaining());
            buf.put_slice(&self.unread.split_to(n));
            self.exchange.session.partial.store(true, Ordering::Relaxed);
            self.fed = true;
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let p = Pin::new(&mut *self.stream).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        if n > 0 {
            self.exchange.fe.counters.bytes(n as u64, 0);
            self.exchange.session.partial.store(true, Ordering::Relaxed);
        }
        if !self.fed {
            self.fed = p.is_ready();
            self.exchange
                .nothing_read
                .store(p.is_pending(), Ordering::Relaxed);
        }
        p
    }
}

impl<S: ClientStream> AsyncWrite for ClientIo<'_, S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let p = Pin::new(&mut *self.stream).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &p {
            self.exchange.fe.counters.bytes(0, *n as u64);
        }
        self.note(p)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let p = Pin::new(&mut *self.stream).poll_flush(cx);
        self.note(p)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let p = Pin::new(&mut *self.stream).poll_shutdown(cx);
        self.note(p)
    }
}
