//! Message bodies on the HTTP path.
//!
//! [`IdleTimeout`] ends a streamed body that stays silent longer than its side's timeout
//! (`timeout client` for what the client uploads, `timeout server` for what the server
//! sends), as HAProxy's inactivity timeouts do during a transfer. The timer only exists once
//! the body had to wait: a body whose frames are ready costs no timer at all.
//!
//! The wrapper passes the inner body's size hint and end-of-stream through unchanged, so a
//! message keeps its framing (Content-Length or chunked) exactly as received.

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The error a body ends with when its side stayed silent too long.
#[derive(Debug)]
pub struct IdleTimedOut(pub Duration);

impl std::fmt::Display for IdleTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no data for {:?} while streaming a body", self.0)
    }
}

impl std::error::Error for IdleTimedOut {}

/// A body with an optional idle timeout, holding `H` (a server slot) for as long as the body
/// lives.
pub struct IdleTimeout<B, H = ()> {
    inner: B,
    idle: Option<Duration>,
    sleep: Option<Pin<Box<Sleep>>>,
    _held: H,
}

impl<B> IdleTimeout<B> {
    pub fn new(inner: B, idle: Duration) -> Self {
        Self::maybe(inner, Some(idle))
    }

    /// `None`: no timeout, the body is passed through as it comes.
    pub fn maybe(inner: B, idle: Option<Duration>) -> Self {
        IdleTimeout {
            inner,
            idle,
            sleep: None,
            _held: (),
        }
    }

    /// Keeps `held` until the body is dropped (hyper drops it once it is sent or abandoned).
    pub fn holding<H>(self, held: H) -> IdleTimeout<B, H> {
        IdleTimeout {
            inner: self.inner,
            idle: self.idle,
            sleep: self.sleep,
            _held: held,
        }
    }
}

impl<B, H> Body for IdleTimeout<B, H>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
    H: Unpin,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                // Progress: the next wait starts afresh.
                if let (Some(s), Some(idle)) = (this.sleep.as_mut(), this.idle) {
                    s.as_mut().reset(Instant::now() + idle);
                }
                Poll::Ready(frame.map(|r| r.map_err(Into::into)))
            }
            Poll::Pending => {
                let Some(idle) = this.idle else {
                    return Poll::Pending;
                };
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(IdleTimedOut(idle))))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// A body that yields `chunks` with `gap` between them, then ends.
    struct Slow {
        chunks: Vec<&'static [u8]>,
        gap: Duration,
        sleep: Option<Pin<Box<Sleep>>>,
    }

    impl Body for Slow {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            let this = &mut *self;
            if this.chunks.is_empty() {
                return Poll::Ready(None);
            }
            let gap = this.gap;
            let s = this
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(gap)));
            match s.as_mut().poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(()) => {
                    this.sleep = None;
                    Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(
                        this.chunks.remove(0),
                    )))))
                }
            }
        }
    }

    /// description: a body with gaps shorter than the timeout arrives whole, however long
    /// it takes in total; a gap longer than the timeout ends it with an error.
    #[tokio::test(start_paused = true)]
    async fn gaps_shorter_than_the_timeout_pass_and_a_longer_one_fails() {
        let slow = Slow {
            chunks: vec![b"a", b"b", b"c", b"d"],
            gap: Duration::from_secs(3),
            sleep: None,
        };
        let body = IdleTimeout::new(slow, Duration::from_secs(5))
            .collect()
            .await
            .expect("whole body");
        assert_eq!(body.to_bytes(), Bytes::from_static(b"abcd"));

        let stalled = Slow {
            chunks: vec![b"a"],
            gap: Duration::from_secs(10),
            sleep: None,
        };
        let err = IdleTimeout::new(stalled, Duration::from_secs(5))
            .collect()
            .await
            .map(|_| ())
            .expect_err("timed out");
        assert!(err.is::<IdleTimedOut>(), "{err}");
    }

    /// description: framing information passes through unchanged.
    #[test]
    fn size_hint_and_end_pass_through() {
        let full = http_body_util::Full::new(Bytes::from_static(b"12345"));
        let b = IdleTimeout::new(full, Duration::from_secs(1));
        assert_eq!(b.size_hint().exact(), Some(5));
        let empty = http_body_util::Empty::<Bytes>::new();
        assert!(IdleTimeout::new(empty, Duration::from_secs(1)).is_end_stream());
    }
}
