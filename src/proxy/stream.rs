//! What the client side of a connection needs from its stream, plain TCP or TLS: the
//! client path ([`super::client::serve`], [`super::tcp::serve`]) is generic over it, so the
//! plain path is compiled for `TcpStream` alone (no dynamic dispatch).

use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

pub trait ClientStream: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// Ready once a read would make progress (bytes, the end, or an error), without reading.
    fn poll_read_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>>;

    fn set_nodelay(&self);

    /// Closes a connection that never reached a server, as HAProxy does (see `tcp::close`).
    fn close(self) -> impl std::future::Future<Output = ()> + Send;
}

impl ClientStream for TcpStream {
    fn poll_read_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        TcpStream::poll_read_ready(self, cx)
    }

    fn set_nodelay(&self) {
        let _ = TcpStream::set_nodelay(self, true);
    }

    async fn close(mut self) {
        let mut buf = [0u8; 4096];
        // Bounded: at most 64 KiB that are already there; nothing is waited for. Closing a
        // socket with unread data would reset the connection instead of a FIN.
        for _ in 0..16 {
            match self.try_read(&mut buf) {
                Ok(n) if n > 0 => continue,
                _ => break,
            }
        }
        let _ = self.shutdown().await;
    }
}

impl ClientStream for crate::tls::TlsStream<TcpStream> {
    /// Decrypted bytes may already wait inside rustls (they came with the handshake's last
    /// flight, or with a record read earlier): then a read is ready whatever the socket says.
    fn poll_read_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let (io, conn) = self.get_mut();
        match conn.process_new_packets() {
            Ok(state) if state.plaintext_bytes_to_read() == 0 && !state.peer_has_closed() => {
                io.poll_read_ready(cx)
            }
            // Plaintext waits, the peer closed, or the session failed: the read says which.
            _ => Poll::Ready(Ok(())),
        }
    }

    fn set_nodelay(&self) {
        let _ = self.get_ref().0.set_nodelay(true);
    }

    async fn close(mut self) {
        // A close_notify, then the FIN.
        let _ = self.shutdown().await;
    }
}
