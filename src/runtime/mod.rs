//! The supervisor: starts the tokio runtime, binds every listener, spawns the accept loops
//! and health checks, and stops on SIGINT/SIGTERM/SIGUSR1.
//!
//! Listeners are bound before anything is served, so a configuration whose address cannot be
//! bound fails at start with the address named. Binding uses IP_FREEBIND, so a backup load
//! balancer can bind the floating IP before it holds it, without the `ip_nonlocal_bind`
//! sysctl. `maxconn` (global and per frontend) is a semaphore taken before `accept`: at the
//! limit, accepting pauses (no busy loop) until a connection ends.

pub mod alive;

use crate::plan::{Frontend, Listener, Plan};
use crate::proxy::http::{HttpFrontend, Pools, Shared};
use crate::proxy::{tcp, BackendState};
use crate::stats::{Counters, RowKind, StatRow};
use crate::tls::{Terminator, TlsInfo};
pub use alive::Alive;
use rsproxy_parser::ir::haproxy::Mode;
use socket2::{Domain, Protocol, Socket, Type};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Why the runtime could not start.
#[derive(Debug)]
pub enum RunError {
    Runtime(std::io::Error),
    Bind {
        frontend: String,
        addr: SocketAddr,
        error: std::io::Error,
    },
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Runtime(e) => write!(f, "cannot start the runtime: {e}"),
            RunError::Bind {
                frontend,
                addr,
                error,
            } => {
                write!(
                    f,
                    "Starting frontend {frontend}: cannot bind socket ({error}) [{addr}]"
                )
            }
        }
    }
}

/// Runs `plan` until a stop signal.
pub fn run(plan: Plan) -> Result<(), RunError> {
    start(plan)?.wait_for_stop();
    Ok(())
}

/// A started runtime: its worker threads carry the traffic until this is dropped.
pub struct Running {
    handle: tokio::runtime::Handle,
    pub state: Arc<State>,
    workers: Workers,
}

/// What carries the tasks: with one thread, a single-threaded scheduler on a thread of its
/// own (no work-stealing machinery between a request's tasks, as with HAProxy's one thread);
/// with more, tokio's work-stealing pool.
enum Workers {
    One {
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        thread: Option<std::thread::JoinHandle<()>>,
    },
    Pool(Option<tokio::runtime::Runtime>),
}

impl Drop for Running {
    fn drop(&mut self) {
        match &mut self.workers {
            Workers::One { stop, thread } => {
                if let Some(s) = stop.take() {
                    let _ = s.send(());
                }
                if let Some(t) = thread.take() {
                    let _ = t.join();
                }
            }
            Workers::Pool(rt) => {
                if let Some(rt) = rt.take() {
                    rt.shutdown_background();
                }
            }
        }
    }
}

/// What the runtime's tasks share, for the stats and runtime API to read.
pub struct State {
    pub frontends: Vec<(Arc<Frontend>, Arc<Counters>)>,
    pub backends: Vec<Arc<BackendState>>,
    /// Whether the data plane serves: the VRRP instances beside the proxy read it.
    pub alive: Alive,
}

impl State {
    /// One row per line of HAProxy's `show stat`: each frontend, then each backend's servers
    /// and its total.
    pub fn stats(&self) -> Vec<StatRow> {
        let now = crate::proxy::now_secs();
        let mut rows = Vec::new();
        for (fe, counters) in &self.frontends {
            rows.push(StatRow {
                proxy: fe.name.clone(),
                name: "FRONTEND".into(),
                kind: RowKind::Frontend,
                counters: counters.snapshot(),
                qcur: 0,
                slim: fe.maxconn,
                status: "OPEN".into(),
                weight: 0,
                act: 0,
                bck: 0,
                chkfail: 0,
                chkdown: 0,
                lastchg: 0,
            });
        }
        for b in &self.backends {
            rows.extend(b.stat_rows(now));
        }
        rows
    }
}

impl Running {
    /// Serves until SIGINT, SIGTERM or SIGUSR1.
    pub fn wait_for_stop(self) {
        self.handle.block_on(wait_for_stop());
    }
}

/// Binds every listener and starts serving `plan` on a new tokio runtime (`nbthread`
/// workers); fails before serving anything if an address cannot be bound.
pub fn start(plan: Plan) -> Result<Running, RunError> {
    if plan.nbthread > 1 {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(plan.nbthread)
            .thread_name("rsproxy-worker")
            .enable_all()
            .build()
            .map_err(RunError::Runtime)?;
        let state = rt.block_on(serve(plan))?;
        return Ok(Running {
            handle: rt.handle().clone(),
            state,
            workers: Workers::Pool(Some(rt)),
        });
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    // Binds and spawns; the tasks start once the worker thread drives the runtime.
    let state = rt.block_on(serve(plan))?;
    let handle = rt.handle().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("rsproxy-worker".into())
        .spawn(move || {
            rt.block_on(async {
                let _ = stopped.await;
            });
        })
        .map_err(RunError::Runtime)?;
    Ok(Running {
        handle,
        state,
        workers: Workers::One {
            stop: Some(stop),
            thread: Some(thread),
        },
    })
}

async fn serve(plan: Plan) -> Result<Arc<State>, RunError> {
    let backends: Vec<(Arc<BackendState>, Arc<Pools>)> = plan
        .backends
        .iter()
        .map(|b| {
            (
                Arc::new(BackendState::new(Arc::clone(b))),
                Arc::new(Pools::new(b.servers.len())),
            )
        })
        .collect();
    let global = plan.maxconn.map(|m| Arc::new(Semaphore::new(m as usize)));

    // Bind everything first: fail before serving anything. Limits: the global maxconn, the
    // frontend's (shared by all its listeners), and a bind line's own.
    let mut listeners = Vec::new();
    let mut frontends = Vec::new();
    let proxies = plan.proxies;
    for (index, fe) in plan.frontends.into_iter().enumerate() {
        let fe = Arc::new(fe);
        let counters = Arc::new(Counters::default());
        frontends.push((Arc::clone(&fe), Arc::clone(&counters)));
        let fe_limit = fe.maxconn.map(|m| Arc::new(Semaphore::new(m as usize)));
        for l in &fe.listeners {
            let socket = bind(l).map_err(|error| RunError::Bind {
                frontend: fe.name.clone(),
                addr: l.addr,
                error,
            })?;
            let limits: Vec<Arc<Semaphore>> = [
                global.clone(),
                fe_limit.clone(),
                l.maxconn.map(|m| Arc::new(Semaphore::new(m as usize))),
            ]
            .into_iter()
            .flatten()
            .collect();
            listeners.push((
                Arc::clone(&fe),
                index,
                Arc::clone(&counters),
                socket,
                limits,
                l.tls.clone(),
            ));
        }
    }
    for (b, _) in &backends {
        for (i, s) in b.plan.servers.iter().enumerate() {
            // A disabled server is in maintenance: no traffic and no checks (a check must not
            // bring it back).
            if s.disabled {
                continue;
            }
            if let Some(check) = s.check.clone() {
                let (b, s) = (Arc::clone(b), s.clone());
                tokio::spawn(async move {
                    crate::health::run(s, check, &b, i).await;
                });
            }
        }
    }
    let backend_names = backends
        .iter()
        .enumerate()
        .map(|(i, (b, _))| (b.plan.name.clone(), i))
        .collect();
    let shared = Arc::new(Shared {
        vars: crate::acl::Vars::default(),
        uses_vars: plan.uses_vars,
        backend_names,
        backends,
        frontends: frontends.iter().map(|(_, c)| Arc::clone(c)).collect(),
        listing: crate::stats::Listing {
            proxies,
            frontends: frontends.iter().map(|(f, _)| Arc::clone(f)).collect(),
            started: crate::proxy::now_secs(),
        },
    });
    let alive = Alive::new();
    for (fe, index, counters, socket, limits, tls) in listeners {
        let http = Arc::new(HttpFrontend::new(fe, index, Arc::clone(&shared), counters));
        let running = alive.accept_loop();
        tokio::spawn(async move {
            let _running = running;
            accept_loop(http, socket, limits, tls).await
        });
    }
    tokio::spawn(alive.clone().heartbeat());
    Ok(Arc::new(State {
        alive,
        frontends,
        backends: shared.backends.iter().map(|(b, _)| Arc::clone(b)).collect(),
    }))
}

fn bind(l: &Listener) -> std::io::Result<TcpListener> {
    let addr = l.addr;
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        if let Some(v6only) = l.v6only {
            socket.set_only_v6(v6only)?;
        }
        let _ = socket.set_freebind_ipv6(true);
    } else {
        let _ = socket.set_freebind(true);
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(l.backlog.clamp(1, i32::MAX as u32) as i32)?;
    TcpListener::from_std(socket.into())
}

async fn accept_loop(
    fe: Arc<HttpFrontend>,
    listener: TcpListener,
    limits: Vec<Arc<Semaphore>>,
    tls: Option<Arc<Terminator>>,
) {
    loop {
        // At a limit, accepting pauses until a connection ends. The slot is not held while
        // idle in accept: a listener waiting for clients must not starve another listener of
        // the same frontend (they share its maxconn).
        for s in &limits {
            drop(s.acquire().await);
        }
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(_) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let mut permits = Vec::with_capacity(limits.len());
        for s in &limits {
            if let Ok(p) = Arc::clone(s).acquire_owned().await {
                permits.push(p);
            }
        }
        let local = stream.local_addr().unwrap_or(peer);
        if let Some(tls) = &tls {
            tokio::spawn(serve_tls(
                Arc::clone(&fe),
                Arc::clone(tls),
                stream,
                peer,
                local,
                permits,
            ));
            continue;
        }
        // One task type per mode: a task is as large as its future, and an idle HTTP client
        // should not carry the room a TCP relay needs.
        match fe.plan.mode {
            Mode::Tcp => {
                let fe = Arc::clone(&fe);
                tokio::spawn(async move {
                    let _permits = permits;
                    let counters = Arc::clone(&fe.counters);
                    let _session = counters.session();
                    let (backend, server) = tcp_backend(&fe, peer, local, None).unzip();
                    tcp::serve(
                        stream,
                        peer,
                        local,
                        &fe.plan,
                        backend,
                        server.flatten(),
                        &counters,
                    )
                    .await
                });
            }
            Mode::Http => {
                tokio::spawn(crate::proxy::client::serve(
                    stream,
                    peer,
                    local,
                    Arc::clone(&fe),
                    permits,
                    None,
                ));
            }
        }
    }
}

/// A connection to a TLS bind line: the handshake, within the request-head timeout (`timeout
/// http-request`, else `timeout client`) so that a client that stalls in it cannot hold a
/// slot, then the same client path as a plain connection, over TLS.
async fn serve_tls(
    fe: Arc<HttpFrontend>,
    tls: Arc<Terminator>,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    permits: Vec<tokio::sync::OwnedSemaphorePermit>,
) {
    let timeout = fe
        .plan
        .timeouts
        .http_request
        .or(fe.plan.timeouts.client)
        .unwrap_or(std::time::Duration::from_secs(30));
    let Some((stream, info)) = tls.accept(stream, timeout).await else {
        // Not TLS, failed, or too slow: closed (HAProxy counts these as connection errors,
        // not requests).
        return;
    };
    drop(tls);
    match fe.plan.mode {
        Mode::Tcp => {
            let counters = Arc::clone(&fe.counters);
            let _session = counters.session();
            let (backend, server) = tcp_backend(&fe, peer, local, Some(&info)).unzip();
            tcp::serve(
                stream,
                peer,
                local,
                &fe.plan,
                backend,
                server.flatten(),
                &counters,
            )
            .await;
            drop(permits);
        }
        Mode::Http => {
            crate::proxy::client::serve(stream, peer, local, fe, permits, Some(Box::new(info)))
                .await
        }
    }
}

/// The backend of a `mode tcp` connection: the first `use_backend` whose condition holds on
/// the connection's addresses (HTTP fetches yield nothing here), else the default.
fn tcp_backend(
    fe: &HttpFrontend,
    peer: SocketAddr,
    local: SocketAddr,
    tls: Option<&TlsInfo>,
) -> Option<(Arc<BackendState>, Option<usize>)> {
    let ctx = crate::acl::Ctx {
        http: None,
        resp: None,
        vars: None,
        src: peer,
        dst: local,
        frontend: fe.index,
        backend: None,
        world: &*fe.shared,
        tls,
    };
    let index = crate::proxy::http::choose_backend(&fe.plan, &fe.shared, &ctx)?;
    let (b, _) = fe.shared.backends.get(index)?;
    let ctx = crate::acl::Ctx {
        backend: Some(index),
        ..ctx
    };
    let server = crate::proxy::http::use_server(b, &ctx);
    Some((Arc::clone(b), server))
}

async fn wait_for_stop() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int), Ok(mut usr1)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::user_defined1()),
    ) else {
        // Without signal handling, run until killed.
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = usr1.recv() => {}
    }
}
