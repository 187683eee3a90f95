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
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Carries one accepted client connection to a server of `backend`.
pub async fn serve(
    client: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    fe: &Frontend,
    backend: Option<Arc<BackendState>>,
) {
    let Some(backend) = backend else { return };
    let key = match backend.need {
        super::KeyNeed::ClientAddress => Key::Source(peer.ip()),
        _ => Key::None,
    };
    // No server, a full queue or `timeout queue`, or no connection after the retries:
    // HAProxy closes the client connection.
    let Ok(slot) = backend.acquire(key, None).await else {
        return close(client).await;
    };
    let Some((server, _slot)) = connect(&backend, slot, key, local.port()).await else {
        return close(client).await;
    };
    let t = &backend.plan.timeouts;
    let (to_server_idle, to_client_idle) = match t.tunnel {
        Some(tunnel) => (Some(tunnel), Some(tunnel)),
        None => (fe.timeouts.client, t.server),
    };
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let up = pump(cr, sw, to_server_idle);
    let down = pump(sr, cw, to_client_idle);
    let _ = tokio::join!(up, down);
}

/// Closes a client connection that never reached a server with a FIN, as HAProxy does: what
/// the client sent meanwhile is read first (HAProxy had buffered it), since closing a socket
/// with unread data would reset the connection instead.
async fn close(mut client: TcpStream) {
    let mut buf = [0u8; 4096];
    // Bounded: at most 64 KiB that are already there; nothing is waited for.
    for _ in 0..16 {
        match client.try_read(&mut buf) {
            Ok(n) if n > 0 => continue,
            _ => break,
        }
    }
    let _ = client.shutdown().await;
}

/// Copies `from` into `to` until end of stream, an error, or `idle` without data; then shuts
/// `to`'s write side down.
pub async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    idle: Option<Duration>,
) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut total = 0u64;
    let result = loop {
        let read = match idle {
            Some(d) => match tokio::time::timeout(d, from.read(&mut buf)).await {
                Ok(r) => r,
                Err(_) => {
                    break Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "idle timeout",
                    ))
                }
            },
            None => from.read(&mut buf).await,
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
        let task = tokio::spawn(async move { pump(b, c, None).await });
        a.write_all(b"hello, server").await.unwrap();
        a.shutdown().await.unwrap();
        let mut got = Vec::new();
        d.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"hello, server");
        assert_eq!(task.await.unwrap().unwrap(), 13);
    }

    /// description: a pump gives up after its idle timeout.
    #[tokio::test]
    async fn pump_idles_out() {
        let (_a, b) = tokio::io::duplex(64);
        let (c, _d) = tokio::io::duplex(64);
        let r = pump(b, c, Some(Duration::from_millis(20))).await;
        assert_eq!(r.unwrap_err().kind(), std::io::ErrorKind::TimedOut);
    }
}
