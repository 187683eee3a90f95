//! The data path: listeners hand accepted connections here; [`tcp`] and [`http`] carry them.
//!
//! Fixed phases per connection (DESIGN.md): accept → parse → rules → pick server → connect →
//! forward. Shared, hot state is per backend: each server's health and active-connection count
//! are atomics (read without locks on every request); the balancer's position is behind a
//! short mutex taken once per pick.

pub mod body;
pub mod client;
pub mod http;
pub mod tcp;

use crate::balance::{Balancer, Candidate, Key, Need};
use crate::plan::{Backend, Server};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;

/// A server's live state.
#[derive(Debug)]
pub struct ServerState {
    /// UP as far as health checks know (servers without checks are always UP).
    pub up: AtomicBool,
    /// Connections currently open to it.
    pub active: AtomicU32,
}

/// A backend's plan and live state.
pub struct BackendState {
    pub plan: Arc<Backend>,
    pub servers: Vec<ServerState>,
    /// What each pick needs from the request, asked of the balancer once.
    pub need: KeyNeed,
    balancer: Mutex<Picker>,
}

/// The balancer and a reusable buffer for the candidates it is shown (no allocation per
/// pick).
struct Picker {
    balancer: Balancer,
    candidates: Vec<Candidate>,
}

/// An owned copy of [`crate::balance::Need`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyNeed {
    Nothing,
    ClientAddress,
    Uri,
    Header(hyper::header::HeaderName),
}

impl BackendState {
    pub fn new(plan: Arc<Backend>) -> Self {
        let servers: Vec<ServerState> = plan
            .servers
            .iter()
            .map(|s| ServerState {
                up: AtomicBool::new(!s.disabled),
                active: AtomicU32::new(0),
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
        let picker = Picker {
            candidates: Vec::with_capacity(plan.servers.len()),
            balancer,
        };
        BackendState {
            plan,
            servers,
            need,
            balancer: Mutex::new(picker),
        }
    }

    /// Chooses a server for a new connection or request, avoiding `exclude` (a server that
    /// just failed, when redispatching) if another is usable.
    pub fn pick(&self, key: Key, exclude: Option<usize>) -> Option<usize> {
        let mut guard = self
            .balancer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Picker {
            balancer,
            candidates,
        } = &mut *guard;
        fill_candidates(candidates, &self.plan, &self.servers, exclude);
        balancer
            .pick(candidates, key)
            .or_else(|| exclude.filter(|&i| self.usable(i)))
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

    /// Marks a connection to server `i` open for as long as the guard lives.
    pub fn track(self: &Arc<Self>, i: usize) -> ActiveGuard {
        if let Some(s) = self.servers.get(i) {
            s.active.fetch_add(1, Ordering::Relaxed);
        }
        ActiveGuard {
            backend: Arc::clone(self),
            server: i,
        }
    }
}

fn fill_candidates(
    out: &mut Vec<Candidate>,
    plan: &Backend,
    servers: &[ServerState],
    exclude: Option<usize>,
) {
    out.clear();
    out.extend(
        plan.servers
            .iter()
            .zip(servers)
            .enumerate()
            .map(|(i, (p, s))| Candidate {
                id: p.id,
                weight: p.weight,
                backup: p.backup,
                up: !p.disabled && s.up.load(Ordering::Relaxed) && Some(i) != exclude,
                // No per-server maxconn yet (the plan refuses it), so no server is ever full.
                full: false,
                active: s.active.load(Ordering::Relaxed),
            }),
    );
}

/// Decrements a server's active-connection count when dropped.
pub struct ActiveGuard {
    backend: Arc<BackendState>,
    server: usize,
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        if let Some(s) = self.backend.servers.get(self.server) {
            s.active.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Why no connection to a server could be made.
#[derive(Debug)]
pub enum ConnectError {
    /// No server is usable (all down, or none configured): HAProxy answers 503.
    NoServer,
    /// Every attempt failed (refused or timed out).
    Failed,
}

/// Connects to a server of `backend`, as HAProxy does: `timeout connect` per attempt, up to
/// `retries` more attempts on the same server, moving to another one on the last retry with
/// `option redispatch`; after an immediate failure HAProxy waits before retrying (one second,
/// or `timeout connect` if shorter), and so do we.
///
/// `chosen` is the server already picked for this request, if any (one pick per request).
pub async fn connect(
    backend: &Arc<BackendState>,
    key: Key<'_>,
    dst_port: u16,
    chosen: Option<usize>,
) -> Result<(TcpStream, usize, ActiveGuard), ConnectError> {
    let plan = &backend.plan;
    let mut server = match chosen {
        Some(s) => s,
        None => backend.pick(key, None).ok_or(ConnectError::NoServer)?,
    };
    let attempts = plan.retries.saturating_add(1);
    for attempt in 0..attempts {
        let Some(s) = plan.servers.get(server) else {
            return Err(ConnectError::NoServer);
        };
        let guard = backend.track(server);
        let started = tokio::time::Instant::now();
        match connect_one(s, dst_port, plan.timeouts.connect).await {
            Ok(stream) => return Ok((stream, server, guard)),
            Err(_) => {
                drop(guard);
                if attempt + 1 == attempts {
                    break;
                }
                let turnaround = plan
                    .timeouts
                    .connect
                    .unwrap_or(Duration::from_secs(1))
                    .min(Duration::from_secs(1));
                if started.elapsed() < turnaround {
                    tokio::time::sleep(turnaround - started.elapsed()).await;
                }
                if plan.redispatch && attempt + 2 == attempts {
                    server = backend.pick(key, Some(server)).unwrap_or(server);
                }
            }
        }
    }
    Err(ConnectError::Failed)
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
