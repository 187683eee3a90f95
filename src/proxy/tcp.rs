//! `mode tcp`: one server connection per client connection, bytes copied both ways.
//!
//! Each direction is its own pump with its own idle timeout (`timeout client` for what the
//! client sends, `timeout server` for what the server sends; `timeout tunnel` replaces both
//! when set). End of stream on one side is passed on as a half-close (shutdown of the write
//! side), so protocols that half-close keep working; the connection ends when both directions
//! have ended or one side errs or idles out.

use super::{connect, BackendState};
use crate::balance::Key;
use crate::plan::Frontend;
use crate::stats::Counters;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Carries one accepted client connection to a server of `backend`.
pub async fn serve<S: super::stream::ClientStream>(
    client: S,
    peer: SocketAddr,
    local: SocketAddr,
    fe: &Frontend,
    backend: Option<Arc<BackendState>>,
    server: Option<usize>,
    counters: &Arc<Counters>,
) {
    let Some(backend) = backend else { return };
    let key = match backend.need {
        super::KeyNeed::ClientAddress => Key::Source(peer.ip()),
        _ => Key::None,
    };
    // No server, a full queue or `timeout queue`, or no connection after the retries:
    // HAProxy closes the client connection.
    // A `use-server` rule's server, else the balancer's choice.
    let slot = match server {
        Some(i) => backend.acquire_server(i).await,
        None => backend.acquire(key, None).await,
    };
    let Ok(slot) = slot else {
        return client.close().await;
    };
    let Some((server, _slot)) = connect(&backend, slot, key, local.port()).await else {
        return client.close().await;
    };
    let t = &backend.plan.timeouts;
    let (to_server_idle, to_client_idle) = match t.tunnel {
        Some(tunnel) => (Some(tunnel), Some(tunnel)),
        None => (fe.timeouts.client, t.server),
    };
    let sink = super::ServerSink {
        backend: Arc::clone(&backend),
        server: _slot.server(),
    };
    splice(
        super::Counted::new(client, Arc::clone(counters)),
        super::Counted::new(server, sink),
        Idle::new(to_server_idle, fe.timeouts.client_fin),
        Idle::new(to_client_idle, t.server_fin),
    )
    .await;
}

// A client connection that never reached a server is closed with a FIN, as HAProxy does:
// what the client sent meanwhile is read first (`ClientStream::close`).

/// Copies both ways between `a` and `b` until both directions ended (or one failed or idled
/// out), as one HAProxy stream. `a_idle`/`b_idle`: how long each side may stay silent
/// (`timeout client`/`timeout server`, or `timeout tunnel`); `a_fin`/`b_fin`: the same once
/// the other direction has ended and that side is the one expected to close
/// (`timeout client-fin`/`timeout server-fin`).
pub async fn splice<A, B>(a: A, b: B, a_idle: Idle, b_idle: Idle)
where
    A: AsyncRead + AsyncWrite,
    B: AsyncRead + AsyncWrite,
{
    let (ar, aw) = tokio::io::split(a);
    let (br, bw) = tokio::io::split(b);
    let (a_done, a_ended) = tokio::sync::oneshot::channel();
    let (b_done, b_ended) = tokio::sync::oneshot::channel();
    let up = pump(ar, bw, a_idle, Some(b_ended), Some(a_done));
    let down = pump(br, aw, b_idle, Some(a_ended), Some(b_done));
    let _ = tokio::join!(up, down);
}

/// How long the side a pump reads from may stay silent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Idle {
    pub idle: Option<Duration>,
    /// Replaces `idle` once the other direction has ended (its write side was shut down).
    pub fin: Option<Duration>,
}

impl Idle {
    pub fn new(idle: Option<Duration>, fin: Option<Duration>) -> Self {
        Idle { idle, fin }
    }
}

/// Copies `from` into `to` until end of stream, an error, or the idle timeout without data;
/// then shuts `to`'s write side down and says so on `done`. When `other_ended` fires, the
/// idle timeout becomes `fin` (if set), counted from then.
pub async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    timeouts: Idle,
    other_ended: Option<tokio::sync::oneshot::Receiver<()>>,
    done: Option<tokio::sync::oneshot::Sender<()>>,
) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut total = 0u64;
    let mut idle = timeouts.idle;
    let mut other_ended = other_ended;
    let timed_out = || std::io::Error::new(std::io::ErrorKind::TimedOut, "idle timeout");
    let result = loop {
        let read = from.read(&mut buf);
        let sleep = async {
            match idle {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        let ended = async {
            match other_ended.as_mut() {
                Some(rx) => {
                    let _ = rx.await;
                }
                None => std::future::pending().await,
            }
        };
        let read = tokio::select! {
            r = read => r,
            () = sleep => break Err(timed_out()),
            () = ended => {
                other_ended = None;
                if let Some(fin) = timeouts.fin {
                    idle = Some(fin);
                }
                continue;
            }
        };
        match read {
            Ok(0) => break Ok(total),
            Ok(n) => {
                if let Err(e) = to.write_all(&buf[..n]).await {
                    break Err(e);
                }
                total += n as u64;
            }
            Err(e) => break Err(e),
        }
    };
    let _ = to.shutdown().await;
    if let Some(done) = done {
        let _ = done.send(());
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// description: a pump copies everything, then half-closes its output.
    #[tokio::test]
    async fn pump_copies_and_half_closes() {
        let (mut a, b) = tokio::io::duplex(64);
        let (c, mut d) = tokio::io::duplex(64);
        let task = tokio::spawn(async move { pump(b, c, Idle::default(), None, None).await });
        a.write_all(b"hello, server").await.unwrap();
        a.shutdown().await.unwrap();
        let mut got = Vec::new();
        d.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"hello, server");
        assert_eq!(task.await.unwrap().unwrap(), 13);
    }

    /// description: once the server ended its side, a client that does not close is dropped
    /// after `timeout client-fin` instead of `timeout client`; without client-fin it is kept
    /// for the whole `timeout client`.
    #[tokio::test(start_paused = true)]
    async fn client_fin_replaces_client_timeout_after_the_server_ends() {
        for (fin, ends_within_2s) in [(Some(Duration::from_secs(1)), true), (None, false)] {
            let (mut client, proxy_client) = tokio::io::duplex(64);
            let (proxy_server, mut server) = tokio::io::duplex(64);
            let task = tokio::spawn(splice(
                proxy_client,
                proxy_server,
                Idle::new(Some(Duration::from_secs(100)), fin),
                Idle::new(Some(Duration::from_secs(100)), None),
            ));
            server.write_all(b"bye").await.unwrap();
            server.shutdown().await.unwrap();
            let mut got = Vec::new();
            client.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, b"bye");
            let ended = tokio::time::timeout(Duration::from_secs(2), task).await;
            assert_eq!(ended.is_ok(), ends_within_2s, "client-fin {fin:?}");
        }
    }

    /// description: a pump gives up after its idle timeout.
    #[tokio::test]
    async fn pump_idles_out() {
        let (_a, b) = tokio::io::duplex(64);
        let (c, _d) = tokio::io::duplex(64);
        let r = pump(
            b,
            c,
            Idle::new(Some(Duration::from_millis(20)), None),
            None,
            None,
        )
        .await;
        assert_eq!(r.unwrap_err().kind(), std::io::ErrorKind::TimedOut);
    }
}
