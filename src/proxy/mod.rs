//! The data path: listeners hand accepted connections here; [`tcp`] and [`http`] carry them.
//!
//! Fixed phases per connection (DESIGN.md): accept → parse → rules → pick server → connect →
//! forward. Shared, hot state is per backend: each server's health and active-connection count
//! are atomics (read without locks on every request); the balancer's position is behind a
//! short mutex taken once per pick.

pub mod body;
pub mod client;
pub mod cookie;
pub mod http;
pub mod rules;
pub mod stream;
pub mod tcp;

use crate::balance::{Balancer, Candidate, Key, Need};
use crate::plan::{Backend, Server};
use crate::stats::{Counters, RowKind, StatRow};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// A server's live state.
#[derive(Debug)]
pub struct ServerState {
    /// UP as far as health checks know (servers without checks are always UP).
    pub up: AtomicBool,
    /// Requests (HTTP) or connections (TCP) it is serving: each holds one of its `maxconn`
    /// slots, from the server's pick to the end of the response (of the connection in TCP).
    pub served: AtomicU32,
    pub counters: Counters,
    /// Health: consecutive results against the current state (for `UP 1/3`), failed checks,
    /// UP→DOWN transitions, and when the state last changed (seconds since the epoch).
    pub streak: AtomicU32,
    pub checks_failed: AtomicU64,
    pub downs: AtomicU64,
    pub last_change: AtomicU64,
}

/// A backend's plan and live state.
pub struct BackendState {
    pub plan: Arc<Backend>,
    pub servers: Vec<ServerState>,
    /// What each pick needs from the request, asked of the balancer once.
    pub need: KeyNeed,
    /// Some server has a `maxconn`: slots are counted and released under the lock, and
    /// requests may wait in the queues. Without one, a pick never waits.
    limited: bool,
    /// `timeout queue`, else `timeout connect`, as HAProxy falls back.
    queue_timeout: Option<Duration>,
    shared: Mutex<Shared>,
    pub counters: Counters,
    /// When the backend last went up or down (seconds since the epoch).
    pub last_change: AtomicU64,
}

/// What picks and slot releases change together, under one short lock.
struct Shared {
    balancer: Balancer,
    /// A reusable buffer for the candidates the balancer is shown (no allocation per pick).
    candidates: Vec<Candidate>,
    queues: Queues,
}

/// Requests waiting for a server slot, as HAProxy queues them: in the backend's queue when
/// every server was full for the balancer, in a server's own queue when the balancer insists
/// on that server (hash algorithms). A slot freed on a server goes to the oldest request
/// waiting in either of the two queues it serves.
#[derive(Default)]
struct Queues {
    backend: VecDeque<Waiter>,
    servers: Vec<VecDeque<Waiter>>,
    next: u64,
}

struct Waiter {
    seq: u64,
    grant: oneshot::Sender<Grant>,
}

/// What a waiting request is told.
#[derive(Debug)]
enum Grant {
    /// A slot on this server is now its own (already counted in `served`).
    Server(usize),
    /// Its server went down: pick again.
    Repick,
}

/// An owned copy of [`crate::balance::Need`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyNeed {
    Nothing,
    ClientAddress,
    Uri,
    Header(hyper::header::HeaderName),
}

/// Why no server slot was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotError {
    /// No server is usable (all down, or none configured).
    NoServer,
    /// The hashed server's queue is at its `maxqueue`.
    QueueFull,
    /// Waited `timeout queue` in a queue.
    QueueTimeout,
}

impl BackendState {
    pub fn new(plan: Arc<Backend>) -> Self {
        let servers: Vec<ServerState> = plan
            .servers
            .iter()
            .map(|s| ServerState {
                up: AtomicBool::new(!s.disabled),
                served: AtomicU32::new(0),
                counters: Counters::default(),
                streak: AtomicU32::new(0),
                checks_failed: AtomicU64::new(0),
                downs: AtomicU64::new(0),
                last_change: AtomicU64::new(now_secs()),
            })
            .collect();
        let balancer = Balancer::new(&plan.balance, plan.hash_type.as_ref(), plan.allbackups);
        let need = match balancer.needs() {
            Need::Nothing => KeyNeed::Nothing,
            Need::ClientAddress => KeyNeed::ClientAddress,
            // `check_post` is refused by the plan, so the URI is all there is to read.
            Need::Uri | Need::UriAndPostBody => KeyNeed::Uri,
            // A name no request can carry (not a valid header name) means the key is always
            // absent, exactly as for a header a request lacks: the balancer's fallback.
            Need::Header(h) => match hyper::header::HeaderName::from_bytes(h.as_bytes()) {
                Ok(name) => KeyNeed::Header(name),
                Err(_) => KeyNeed::Nothing,
            },
        };
        let shared = Shared {
            candidates: Vec::with_capacity(plan.servers.len()),
            balancer,
            queues: Queues {
                servers: plan.servers.iter().map(|_| VecDeque::new()).collect(),
                ..Queues::default()
            },
        };
        BackendState {
            limited: plan.servers.iter().any(|s| s.maxconn.is_some()),
            queue_timeout: plan.timeouts.queue.or(plan.timeouts.connect),
            plan,
            servers,
            need,
            shared: Mutex::new(shared),
            counters: Counters::default(),
            last_change: AtomicU64::new(now_secs()),
        }
    }

    /// The counters of server `i` (a shared empty set for an index out of range).
    pub fn server_counters(&self, i: usize) -> &Counters {
        static NONE: Counters = Counters::new_const();
        self.servers.get(i).map_or(&NONE, |s| &s.counters)
    }

    /// Usable servers, as HAProxy's `nbsrv()` counts them: the active ones if any is up,
    /// else the backups in use (all of them with `option allbackups`, else the first).
    pub fn usable_servers(&self) -> usize {
        let usable = |backup: bool| {
            (0..self.servers.len())
                .filter(|&i| {
                    self.usable(i) && self.plan.servers.get(i).is_some_and(|s| s.backup == backup)
                })
                .count()
        };
        match usable(false) {
            0 if self.plan.allbackups => usable(true),
            0 => usable(true).min(1),
            n => n,
        }
    }

    /// This backend's lines of `show stat`: each server, then the backend's total.
    pub fn stat_rows(&self, now: u64) -> Vec<StatRow> {
        let g = self.lock();
        let mut rows = Vec::with_capacity(self.servers.len() + 1);
        let (mut act, mut bck, mut weight, mut bck_weight) = (0, 0, 0, 0);
        for (i, (p, s)) in self.plan.servers.iter().zip(&self.servers).enumerate() {
            let up = s.up.load(Ordering::Relaxed);
            let streak = s.streak.load(Ordering::Relaxed);
            let status = match (&p.check, p.disabled, up) {
                (_, true, _) => "MAINT".to_string(),
                (None, _, _) => "no check".to_string(),
                (Some(c), _, true) if streak > 0 => format!("UP {streak}/{}", c.fall),
                (Some(c), _, false) if streak > 0 => format!("DOWN {streak}/{}", c.rise),
                (Some(_), _, true) => "UP".to_string(),
                (Some(_), _, false) => "DOWN".to_string(),
            };
            if self.usable(i) {
                if p.backup {
                    bck += 1;
                    bck_weight += p.weight;
                } else {
                    act += 1;
                    weight += p.weight;
                }
            }
            rows.push(StatRow {
                proxy: self.plan.name.clone(),
                name: p.name.clone(),
                kind: RowKind::Server,
                counters: s.counters.snapshot(),
                qcur: g.queues.servers.get(i).map_or(0, VecDeque::len) as u32,
                slim: p.maxconn,
                status,
                weight: p.weight,
                act: u32::from(!p.backup),
                bck: u32::from(p.backup),
                chkfail: s.checks_failed.load(Ordering::Relaxed),
                chkdown: s.downs.load(Ordering::Relaxed),
                lastchg: now.saturating_sub(s.last_change.load(Ordering::Relaxed)),
            });
        }
        // A backend without servers is UP for HAProxy (a `listen` serving only its stats page).
        let up = act + bck > 0 || self.plan.servers.is_empty();
        rows.push(StatRow {
            proxy: self.plan.name.clone(),
            name: "BACKEND".into(),
            kind: RowKind::Backend,
            counters: self.counters.snapshot(),
            qcur: g.queues.backend.len() as u32,
            slim: None,
            status: if up { "UP" } else { "DOWN" }.into(),
            weight: if act > 0 { weight } else { bck_weight },
            act,
            bck,
            chkfail: 0,
            chkdown: 0,
            lastchg: now.saturating_sub(self.last_change.load(Ordering::Relaxed)),
        });
        rows
    }

    /// Counts a failed connection, a retry or a redispatch on the backend and server `i`.
    pub fn count(&self, i: usize, f: fn(&Counters)) {
        f(&self.counters);
        f(self.server_counters(i));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot on a server for one request (HTTP) or connection (TCP): the balancer's choice,
    /// avoiding `exclude` (a server that just failed, when redispatching) if another is
    /// usable. When the chosen servers are full the request waits in a queue, up to `timeout
    /// queue`.
    pub async fn acquire(
        self: &Arc<Self>,
        key: Key<'_>,
        exclude: Option<usize>,
    ) -> Result<Slot, SlotError> {
        self.acquire_on(key, exclude, None).await
    }

    /// A slot on server `i`, for a request that persistence sends there (a cookie): no
    /// balancing; it waits in the server's own queue if the server is full, and goes back to
    /// the balancer if the server goes down meanwhile.
    pub async fn acquire_server(self: &Arc<Self>, i: usize) -> Result<Slot, SlotError> {
        self.acquire_on(Key::None, None, Some(i)).await
    }

    async fn acquire_on(
        self: &Arc<Self>,
        key: Key<'_>,
        exclude: Option<usize>,
        mut forced: Option<usize>,
    ) -> Result<Slot, SlotError> {
        loop {
            let mut waiting = {
                let mut g = self.lock();
                let Shared {
                    balancer,
                    candidates,
                    queues,
                } = &mut *g;
                self.fill_candidates(candidates, queues, exclude);
                let pick = match forced {
                    Some(i) => Some(i),
                    None => balancer.pick(candidates, key).or_else(|| {
                        exclude.filter(|&i| {
                            candidates.get(i).is_some_and(|c| !c.full) && self.usable(i)
                        })
                    }),
                };
                match pick {
                    Some(i) if !candidates.get(i).is_some_and(|c| c.full) => {
                        return Ok(self.take_slot(i));
                    }
                    Some(i) => {
                        let limit = self.plan.servers.get(i).and_then(|s| s.maxqueue);
                        let queue = queues.servers.get_mut(i).ok_or(SlotError::NoServer)?;
                        if limit.is_some_and(|m| queue.len() >= m as usize) {
                            return Err(SlotError::QueueFull);
                        }
                        let (tx, rx) = oneshot::channel();
                        let seq = queues.next;
                        queues.next += 1;
                        queue.push_back(Waiter { seq, grant: tx });
                        self.server_counters(i).queued(queue.len());
                        (seq, rx)
                    }
                    None => {
                        if !(0..self.servers.len()).any(|i| self.usable(i)) {
                            return Err(SlotError::NoServer);
                        }
                        let (tx, rx) = oneshot::channel();
                        let seq = queues.next;
                        queues.next += 1;
                        queues.backend.push_back(Waiter { seq, grant: tx });
                        self.counters.queued(queues.backend.len());
                        (seq, rx)
                    }
                }
            };
            let granted = match self.queue_timeout {
                Some(t) => tokio::time::timeout(t, &mut waiting.1).await.ok(),
                None => Some((&mut waiting.1).await),
            };
            match granted {
                Some(Ok(Grant::Server(i))) => return Ok(Slot::new(Arc::clone(self), i)),
                Some(Ok(Grant::Repick)) => {
                    forced = None;
                    continue;
                }
                // The sender went away without a word: cannot happen while the backend
                // lives; pick again rather than wait forever.
                Some(Err(_)) => continue,
                None => {
                    // Timed out; a grant may have raced in before we took the lock.
                    let mut g = self.lock();
                    let q = &mut g.queues;
                    q.backend.retain(|w| w.seq != waiting.0);
                    for s in &mut q.servers {
                        s.retain(|w| w.seq != waiting.0);
                    }
                    drop(g);
                    return match waiting.1.try_recv() {
                        Ok(Grant::Server(i)) => Ok(Slot::new(Arc::clone(self), i)),
                        _ => Err(SlotError::QueueTimeout),
                    };
                }
            }
        }
    }

    /// Counts a new slot on server `i` (the caller holds the lock, or no server is limited).
    fn take_slot(self: &Arc<Self>, i: usize) -> Slot {
        if let Some(s) = self.servers.get(i) {
            s.served.fetch_add(1, Ordering::Relaxed);
        }
        Slot::new(Arc::clone(self), i)
    }

    fn usable(&self, i: usize) -> bool {
        self.servers
            .get(i)
            .is_some_and(|s| s.up.load(Ordering::Relaxed))
            && self
                .plan
                .servers
                .get(i)
                .is_some_and(|s| !s.disabled && s.weight > 0)
    }

    /// UP and not in maintenance (a cookie may still send requests to a server of weight 0).
    pub fn is_up(&self, i: usize) -> bool {
        self.servers
            .get(i)
            .is_some_and(|s| s.up.load(Ordering::Relaxed))
            && self.plan.servers.get(i).is_some_and(|s| !s.disabled)
    }

    /// Whether server `i` can take one more request now (its queue served first).
    fn has_room(&self, i: usize) -> bool {
        let served = self
            .servers
            .get(i)
            .map_or(0, |s| s.served.load(Ordering::Relaxed));
        self.plan
            .servers
            .get(i)
            .is_some_and(|s| s.maxconn.is_none_or(|m| served < m))
    }

    fn fill_candidates(&self, out: &mut Vec<Candidate>, queues: &Queues, exclude: Option<usize>) {
        out.clear();
        out.extend(
            self.plan
                .servers
                .iter()
                .zip(&self.servers)
                .enumerate()
                .map(|(i, (p, s))| {
                    let queued = queues.servers.get(i).map_or(0, VecDeque::len) as u32;
                    let served = s.served.load(Ordering::Relaxed);
                    Candidate {
                        id: p.id,
                        weight: p.weight,
                        backup: p.backup,
                        up: !p.disabled && s.up.load(Ordering::Relaxed) && Some(i) != exclude,
                        full: p.maxconn.is_some_and(|m| served >= m || queued > 0),
                        active: served + queued,
                    }
                }),
        );
    }

    /// Publishes a health-check verdict. A server coming UP takes requests waiting in the
    /// backend's queue; one going DOWN sends those waiting in its own queue back to the
    /// balancer (HAProxy redistributes them the same way).
    pub fn set_up(&self, i: usize, up: bool) {
        let Some(s) = self.servers.get(i) else { return };
        let mut g = self.lock();
        let was_up = (0..self.servers.len()).any(|j| self.usable(j));
        s.up.store(up, Ordering::Relaxed);
        s.last_change.store(now_secs(), Ordering::Relaxed);
        if !up {
            s.downs.fetch_add(1, Ordering::Relaxed);
        }
        if was_up != (0..self.servers.len()).any(|j| self.usable(j)) {
            self.last_change.store(now_secs(), Ordering::Relaxed);
        }
        if up {
            self.dequeue(i, &mut g.queues);
        } else if let Some(q) = g.queues.servers.get_mut(i) {
            for w in q.drain(..) {
                let _ = w.grant.send(Grant::Repick);
            }
        }
    }

    /// Gives server `i`'s free slots to the oldest waiting requests it can serve.
    fn dequeue(&self, i: usize, queues: &mut Queues) {
        while self.usable(i) && self.has_room(i) {
            let own = queues.servers.get(i).and_then(|q| q.front()).map(|w| w.seq);
            let shared = queues.backend.front().map(|w| w.seq);
            let waiter = match (own, shared) {
                (Some(a), Some(b)) if b < a => queues.backend.pop_front(),
                (Some(_), _) => queues.servers.get_mut(i).and_then(VecDeque::pop_front),
                (None, Some(_)) => queues.backend.pop_front(),
                (None, None) => None,
            };
            let Some(w) = waiter else { break };
            if let Some(s) = self.servers.get(i) {
                s.served.fetch_add(1, Ordering::Relaxed);
            }
            // A request that gave up (client gone, timed out) returns the slot at once.
            if w.grant.send(Grant::Server(i)).is_err() {
                if let Some(s) = self.servers.get(i) {
                    s.served.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
    }

    fn release(&self, i: usize) {
        let Some(s) = self.servers.get(i) else { return };
        if !self.limited {
            s.served.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let mut g = self.lock();
        s.served.fetch_sub(1, Ordering::Relaxed);
        self.dequeue(i, &mut g.queues);
    }
}

/// One of a server's slots, held for a request (HTTP, until its response ends) or a
/// connection (TCP); dropping it frees the slot for the next waiting request.
pub struct Slot {
    backend: Arc<BackendState>,
    server: usize,
}

impl Slot {
    fn new(backend: Arc<BackendState>, server: usize) -> Self {
        for c in [&backend.counters, backend.server_counters(server)] {
            c.enter();
            c.selected();
        }
        Slot { backend, server }
    }

    pub fn server(&self) -> usize {
        self.server
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.backend.counters.leave();
        self.backend.server_counters(self.server).leave();
        self.backend.release(self.server);
    }
}

/// Seconds since the epoch, for `lastchg`.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("server", &self.server)
            .finish()
    }
}

/// Connects to the server `slot` is on, as HAProxy does: `timeout connect` per attempt, up
/// to `retries` more attempts on the same server, moving to another one on the last retry with
/// `option redispatch`; after an immediate failure HAProxy waits before retrying (one second,
/// or `timeout connect` if shorter), and so do we. The slot is kept across retries and
/// exchanged for one on the new server when redispatching. `None`: every attempt failed.
pub async fn connect(
    backend: &Arc<BackendState>,
    mut slot: Slot,
    key: Key<'_>,
    dst_port: u16,
) -> Option<(TcpStream, Slot)> {
    let plan = &backend.plan;
    let attempts = plan.retries.saturating_add(1);
    for attempt in 0..attempts {
        let s = plan.servers.get(slot.server())?;
        let started = tokio::time::Instant::now();
        if let Ok(stream) = connect_one(s, dst_port, plan.timeouts.connect).await {
            return Some((stream, slot));
        }
        if attempt + 1 == attempts {
            backend.count(slot.server(), Counters::failed_connection);
            break;
        }
        backend.count(slot.server(), Counters::retry);
        let turnaround = plan
            .timeouts
            .connect
            .unwrap_or(Duration::from_secs(1))
            .min(Duration::from_secs(1));
        if started.elapsed() < turnaround {
            tokio::time::sleep(turnaround - started.elapsed()).await;
        }
        if plan.redispatch && attempt + 2 == attempts {
            let failed = slot.server();
            drop(slot);
            slot = backend.acquire(key, Some(failed)).await.ok()?;
            backend.count(slot.server(), Counters::redispatch);
        }
    }
    None
}

async fn connect_one(
    s: &Server,
    dst_port: u16,
    timeout: Option<Duration>,
) -> std::io::Result<TcpStream> {
    let addr: SocketAddr = s.addr(dst_port);
    let fut = TcpStream::connect(addr);
    let stream = match timeout {
        Some(t) => tokio::time::timeout(t, fut)
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timeout"))??,
        None => fut.await?,
    };
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Where [`Counted`] adds the bytes it sees: `received` from the stream it wraps, `sent` to it.
pub trait CountSink {
    fn count(&self, received: u64, sent: u64);
}

/// A client connection counts in its frontend: received is `bin`, sent is `bout`.
impl CountSink for Arc<Counters> {
    fn count(&self, received: u64, sent: u64) {
        self.bytes(received, sent);
    }
}

/// A server connection counts in its backend and server: what is sent to the server is their
/// `bin` (request bytes), what is received from it their `bout`.
pub struct ServerSink {
    pub backend: Arc<BackendState>,
    pub server: usize,
}

impl CountSink for ServerSink {
    fn count(&self, received: u64, sent: u64) {
        self.backend.counters.bytes(sent, received);
        self.backend
            .server_counters(self.server)
            .bytes(sent, received);
    }
}

/// A stream whose bytes are counted as they pass (one relaxed add per read or write).
pub struct Counted<S, C> {
    inner: S,
    sink: C,
}

impl<S, C> Counted<S, C> {
    pub fn new(inner: S, sink: C) -> Self {
        Counted { inner, sink }
    }
}

impl<S: tokio::io::AsyncRead + Unpin, C: CountSink + Unpin> tokio::io::AsyncRead for Counted<S, C> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before) as u64;
        if n > 0 {
            self.sink.count(n, 0);
        }
        r
    }
}

impl<S: tokio::io::AsyncWrite + Unpin, C: CountSink + Unpin> tokio::io::AsyncWrite
    for Counted<S, C>
{
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if let std::task::Poll::Ready(Ok(n)) = &r {
            self.sink.count(0, *n as u64);
        }
        r
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let std::task::Poll::Ready(Ok(n)) = &r {
            self.sink.count(0, *n as u64);
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
