//! The supervisor: starts the tokio runtime, binds every listener, spawns the accept loops
//! and health checks, and stops on SIGINT/SIGTERM/SIGUSR1.
//!
//! Listeners are bound before anything is served, so a configuration whose address cannot be
//! bound fails at start with the address named. Binding uses IP_FREEBIND, so a backup load
//! balancer can bind the floating IP before it holds it, without the `ip_nonlocal_bind`
//! sysctl. `maxconn` (global and per frontend) is a semaphore taken before `accept`: at the
//! limit, accepting pauses (no busy loop) until a connection ends.

use crate::plan::{Frontend, Listener, Plan};
use crate::proxy::http::{HttpFrontend, Pools};
use crate::proxy::{tcp, BackendState};
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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(plan.nbthread.max(1))
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    rt.block_on(serve(plan))
}

async fn serve(plan: Plan) -> Result<(), RunError> {
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
    for fe in plan.frontends {
        let fe = Arc::new(fe);
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
            listeners.push((Arc::clone(&fe), socket, limits));
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
                    if let Some(state) = b.servers.get(i) {
                        crate::health::run(s, check, state, b.plan.name.clone()).await;
                    }
                });
            }
        }
    }
    for (fe, socket, limits) in listeners {
        let backend = fe.backend.and_then(|i| backends.get(i).cloned());
        tokio::spawn(accept_loop(fe, socket, backend, limits));
    }
    wait_for_stop().await;
    Ok(())
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
    fe: Arc<Frontend>,
    listener: TcpListener,
    backend: Option<(Arc<BackendState>, Arc<Pools>)>,
    limits: Vec<Arc<Semaphore>>,
) {
    let http = Arc::new(HttpFrontend::new(Arc::clone(&fe), backend.clone()));
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
        // One task type per mode: a task is as large as its future, and an idle HTTP client
        // should not carry the room a TCP relay needs.
        match fe.mode {
            Mode::Tcp => {
                let fe = Arc::clone(&fe);
                let backend = backend.as_ref().map(|(b, _)| Arc::clone(b));
                tokio::spawn(async move {
                    let _permits = permits;
                    tcp::serve(stream, peer, local, &fe, backend).await
                });
            }
            Mode::Http => {
                let http = Arc::clone(&http);
                tokio::spawn(crate::proxy::client::serve(
                    stream, peer, local, http, permits,
                ));
            }
        }
    }
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
