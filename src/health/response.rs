//! The verdict on an HTTP check's response, from the bytes received so far. Pure.
//!
//! [`evaluate`] is called after every read: `None` while more bytes are needed, then the
//! verdict. A status rule (and HAProxy's default "2xx or 3xx") decides as soon as the
//! response head is complete; a body rule (`string`, `rstring`) waits for the whole body, as
//! HAProxy does, or for as much of it as HAProxy would look at (below), or for the close.
//!
//! HAProxy keeps a check's response in one buffer of `tune.bufsize` (16384) bytes, in its
//! internal form, and a body rule only sees the body bytes that fit. Measured with haproxy
//! 2.6.12 (`Content-Length` responses, a pattern at the end of growing bodies), the room for
//! the body is 16283 bytes, less the version, status code and reason phrase, less each
//! header's name and value plus 8 bytes. rsproxy applies the same bound (chunked bodies are
//! counted de-chunked), so a pattern past it is not found here either.

use crate::plan::HttpCheck;

/// Room for the response head and body in HAProxy's check buffer (`tune.bufsize`).
pub const BUFSIZE: usize = 16384;
/// Room for the body in HAProxy's internal form before the head's share is taken (measured).
const BODY_ROOM: usize = 16283;
/// HAProxy's default `tune.http.maxhdr`.
const MAX_HEADERS: usize = 101;
/// Raw bytes read at most: the bound above plus room for chunked framing.
pub const READ_LIMIT: usize = 2 * BUFSIZE;

/// The verdict on the response in `buf`; `eof`: nothing more will come (the server closed,
/// or [`READ_LIMIT`] is reached).
pub fn evaluate(check: &HttpCheck, buf: &[u8], eof: bool) -> Option<bool> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut fields);
    let head_len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if !eof && buf.len() < BUFSIZE => return None,
        // Cut off, too large, or not HTTP: HAProxy reports an invalid response.
        _ => return Some(false),
    };
    let status = resp.code.unwrap_or(0);
    if check.expect.on_status_only() {
        return Some(check.expect.status_passes(status));
    }
    let mut room = BODY_ROOM.saturating_sub("HTTP/1.x".len() + 3 + resp.reason.map_or(0, str::len));
    let mut length = None;
    let mut chunked = false;
    for h in resp.headers.iter() {
        room = room.saturating_sub(h.name.len() + h.value.len() + 8);
        if h.name.eq_ignore_ascii_case("content-length") {
            length = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok());
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = h
                .value
                .rsplit(|&b| b == b',')
                .next()
                .is_some_and(|t| t.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        }
    }
    let raw = buf.get(head_len..).unwrap_or_default();
    let bodyless = check.head || matches!(status, 100..=199 | 204 | 304);
    let (body, complete) = if bodyless {
        (Vec::new(), true)
    } else if chunked {
        match dechunk(raw) {
            Some(x) => x,
            None => return Some(false),
        }
    } else if let Some(n) = length {
        let have = raw.len().min(n);
        (raw[..have].to_vec(), have == n)
    } else {
        (raw.to_vec(), false)
    };
    let body = &body[..body.len().min(room)];
    if !(complete || eof || body.len() >= room) {
        return None;
    }
    Some(check.expect.body_passes(body))
}

/// The data of a chunked body received so far, and whether its last chunk arrived; `None`
/// when the framing is broken.
fn dechunk(mut raw: &[u8]) -> Option<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") else {
            return Some((out, false));
        };
        let size_text = raw[..eol].split(|&b| b == b';').next().unwrap_or_default();
        let size = std::str::from_utf8(size_text)
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())?;
        raw = &raw[eol + 2..];
        if size == 0 {
            return Some((out, true));
        }
        let have = raw.len().min(size);
        out.extend_from_slice(&raw[..have]);
        if have < size || raw.len() < size + 2 {
            return Some((out, false));
        }
        raw = &raw[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Expect, ExpectRule};

    fn check(rule: ExpectRule, negate: bool) -> HttpCheck {
        HttpCheck {
            request: bytes::Bytes::new(),
            head: false,
            expect: Expect { negate, rule },
        }
    }

    fn string(s: &str) -> HttpCheck {
        check(ExpectRule::String(s.as_bytes().to_vec()), false)
    }

    /// description: (response bytes so far, closed) → verdict, for the default rule.
    #[test]
    fn status_decides_once_the_head_is_complete() {
        let c = check(ExpectRule::Default, false);
        let table: &[(&[u8], bool, Option<bool>)] = &[
            (b"HTTP/1.0 200 OK\r\n\r\n", false, Some(true)),
            (
                b"HTTP/1.1 302 Found\r\nLocation: /\r\n\r\n",
                false,
                Some(true),
            ),
            (b"HTTP/1.0 200\r\n\r\n", false, Some(true)),
            (
                b"HTTP/1.1 503 Service Unavailable\r\n\r\n",
                false,
                Some(false),
            ),
            (b"HTTP/1.1 200 OK\r\nX-A: b", false, None),
            (b"HTTP/1.1 200 OK\r\nX-A: b", true, Some(false)),
            (b"http/1.0 200 OK\r\n\r\n", false, Some(false)),
            (b"garbage alive\r\n\r\n", false, Some(false)),
            (b"", true, Some(false)),
        ];
        for (bytes, eof, want) in table {
            assert_eq!(
                evaluate(&c, bytes, *eof),
                *want,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    /// description: a body rule waits for the whole body (Content-Length, chunked, or the
    /// close) and looks at the body only, de-chunked, whatever the status.
    #[test]
    fn body_rules_wait_for_the_body() {
        let c = string("alive");
        let table: &[(&[u8], bool, Option<bool>)] = &[
            (b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 9\r\n\r\nalive-yes", false, Some(true)),
            (b"HTTP/1.0 200 OK\r\nContent-Length: 9\r\n\r\nalive", false, None),
            (b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nxxxxxalive", false, Some(false)),
            (b"HTTP/1.0 200 OK\r\nX-A: alive\r\nContent-Length: 5\r\n\r\nxxxxx", false, Some(false)),
            (b"HTTP/1.0 200 OK\r\n\r\nalive", false, None),
            (b"HTTP/1.0 200 OK\r\n\r\nalive", true, Some(true)),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nali\r\n3\r\nve!\r\n0\r\n\r\n", false, Some(true)),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nali\r\n", false, None),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nali\r\n", false, Some(false)),
            (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false, Some(false)),
        ];
        for (bytes, eof, want) in table {
            assert_eq!(
                evaluate(&c, bytes, *eof),
                *want,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        let negated = check(ExpectRule::String(b"alive".to_vec()), true);
        assert_eq!(
            evaluate(
                &negated,
                b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\ndead",
                false
            ),
            Some(true)
        );
        assert_eq!(
            evaluate(
                &negated,
                b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
                false
            ),
            Some(false)
        );
    }

    /// description: the body bytes a rule sees stop where HAProxy's buffer is full: with
    /// `Content-Length: 16243` only, a pattern ending the body is found at 16243 bytes and
    /// not at 16244 (haproxy 2.6.12); a longer reason or another header takes from it.
    #[test]
    fn body_is_bounded_as_haproxy_bounds_it() {
        let c = string("alive");
        let resp = |reason: &str, extra: &str, n: usize| {
            let mut r =
                format!("HTTP/1.0 200 {reason}\r\n{extra}Content-Length: {n}\r\n\r\n").into_bytes();
            r.extend(std::iter::repeat_n(b'x', n - 5));
            r.extend_from_slice(b"alive");
            r
        };
        let table = [
            ("OK", "", 16243, true),
            ("OK", "", 16244, false),
            ("OKOKOKOKOK", "", 16235, true),
            ("OKOKOKOKOK", "", 16236, false),
            ("OK", "A: a\r\nB: bb\r\n", 16222, true),
            ("OK", "A: a\r\nB: bb\r\n", 16223, false),
            (
                "OK",
                "X-Pad: 0123456789012345678901234567890123456789\r\n",
                16190,
                true,
            ),
            (
                "OK",
                "X-Pad: 0123456789012345678901234567890123456789\r\n",
                16191,
                false,
            ),
        ];
        for (reason, extra, n, want) in table {
            let bytes = resp(reason, extra, n);
            let bytes = &bytes[..bytes.len().min(READ_LIMIT)];
            assert_eq!(
                evaluate(&c, bytes, false),
                Some(want),
                "{reason} {extra:?} {n}"
            );
        }
    }
}
