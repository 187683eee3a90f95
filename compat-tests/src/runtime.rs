//! Differential runtime tests: the pieces that let one scenario be played against the real
//! HAProxy and against rsproxy, and the two results compared.
//!
//! - [`EchoBackend`]: an HTTP/1.1 (or raw TCP echo) server on 127.0.0.1 that answers with its
//!   name and the exact request head it received, records every request, and can be told to
//!   refuse connections, delay, abort mid-response or fail its health checks.
//! - [`Proxy`]: a `haproxy -db -f FILE` or `rsproxy -db -c FILE` process on a templated config
//!   (`${PORT_x}` → a free port, `${BACKEND_name}` → an echo backend's address), killed and
//!   reaped when dropped.
//! - [`HttpClient`]: a raw-socket HTTP/1.1 client; requests are sent byte for byte.
//! - [`Scenario`] (the `.scn` format of `compat-tests/scenarios/README.md`), [`play`] which runs
//!   one against one proxy into a [`Transcript`], [`Transcript::check`] against the scenario's
//!   own expectations, and [`compare`] between two transcripts.
//!
//! Invariants: everything listens and connects on 127.0.0.1 only; every process and listener
//! this module starts is stopped when its handle drops, also while unwinding from a panic;
//! every wait and every read is bounded in time, every loop in count.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Longest any single read or write may block.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a proxy may take to listen on all its ports.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a `wait-checks` step may wait.
const WAIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest one scenario may run.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest request or response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// The Host header of the requests the harness builds (constant, so transcripts compare).
pub const HOST: &str = "rsproxy.test";

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn eof(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, what.to_string())
}

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// An I/O error as a transcript shows it: stable words, no OS error numbers.
fn describe(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData => e.to_string(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => "timed out".into(),
        io::ErrorKind::ConnectionReset => "connection reset".into(),
        io::ErrorKind::BrokenPipe => "broken pipe".into(),
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        kind => format!("{kind:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 framing shared by the backend and the client

/// A buffered reader that keeps what it read past one message for the next (keep-alive,
/// pipelining).
struct Wire<S> {
    inner: S,
    buf: Vec<u8>,
}

impl<S: Read> Wire<S> {
    fn new(inner: S) -> Self {
        Wire {
            inner,
            buf: Vec::new(),
        }
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut tmp = [0u8; 16384];
        let n = self.inner.read(&mut tmp)?;
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }

    /// A head up to and including its blank line; `None` on a clean close before any byte.
    fn read_head(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                return Ok(Some(self.buf.drain(..i + 4).collect()));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(invalid("head longer than 64 KiB".into()));
            }
            if self.fill()? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(eof("closed inside the head"))
                };
            }
        }
    }

    /// One line without its CRLF.
    fn read_line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n") {
                let mut line: Vec<u8> = self.buf.drain(..i + 2).collect();
                line.truncate(i);
                return Ok(line);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(invalid("line longer than 64 KiB".into()));
            }
            if self.fill()? == 0 {
                return Err(eof("closed inside a chunk header"));
            }
        }
    }

    fn read_n(&mut self, mut n: u64, sink: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        while n > 0 {
            if self.buf.is_empty() && self.fill()? == 0 {
                return Err(eof("closed mid-body"));
            }
            let take = (self.buf.len() as u64).min(n) as usize;
            sink(&self.buf[..take]);
            self.buf.drain(..take);
            n -= take as u64;
        }
        Ok(())
    }

    fn read_to_close(&mut self, sink: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        loop {
            sink(&self.buf);
            self.buf.clear();
            if self.fill()? == 0 {
                return Ok(());
            }
        }
    }

    fn read_chunked(&mut self, sink: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        loop {
            let line = self.read_line()?;
            let text = String::from_utf8_lossy(&line);
            let hex = text.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(hex, 16)
                .map_err(|_| invalid(format!("bad chunk size line {text:?}")))?;
            if size == 0 {
                // Trailers, up to the blank line.
                while !self.read_line()?.is_empty() {}
                return Ok(());
            }
            self.read_n(size, sink)?;
            if !self.read_line()?.is_empty() {
                return Err(invalid("chunk not followed by CRLF".into()));
            }
        }
    }
}

/// How a message's body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

impl Framing {
    fn word(self) -> &'static str {
        match self {
            Framing::None => "none",
            Framing::Length(_) => "content-length",
            Framing::Chunked => "chunked",
            Framing::UntilClose => "close",
        }
    }
}

/// A parsed head: the first line and the header fields in order, names as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Head {
    first: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn parse(raw: &[u8]) -> Head {
        let text = String::from_utf8_lossy(raw);
        let mut lines = text.split("\r\n");
        let first = lines.next().unwrap_or("").to_string();
        let headers = lines
            .filter(|l| !l.is_empty())
            .map(|l| match l.split_once(':') {
                Some((n, v)) => (n.to_string(), v.trim().to_string()),
                None => (l.to_string(), String::new()),
            })
            .collect();
        Head { first, headers }
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn has_token(&self, name: &str, token: &str) -> bool {
        self.all(name)
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// Body framing of a request (RFC 9112 §6.3: no length means no body).
    fn request_framing(&self) -> Framing {
        if self.has_token("transfer-encoding", "chunked") {
            Framing::Chunked
        } else if let Some(n) = self.all("content-length").next() {
            n.parse().map(Framing::Length).unwrap_or(Framing::None)
        } else {
            Framing::None
        }
    }

    fn response_framing(&self, status: u16) -> Framing {
        if status < 200 || status == 204 || status == 304 {
            Framing::None
        } else if self.has_token("transfer-encoding", "chunked") {
            Framing::Chunked
        } else if let Some(n) = self.all("content-length").next() {
            n.parse()
                .map(Framing::Length)
                .unwrap_or(Framing::UntilClose)
        } else {
            Framing::UntilClose
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

// ---------------------------------------------------------------------------------------------
// Echo backends

/// What an echo backend speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendMode {
    /// HTTP/1.1: answers every request with `200`, `X-Backend: NAME` and a body echoing the
    /// request head (see [`EchoBackend`]).
    Http,
    /// Raw TCP: writes back every byte it reads, until the peer closes.
    TcpEcho,
}

/// One request (HTTP) or connection carrying data (TCP) as an echo backend saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenRequest {
    /// The request matched the health-check path (see [`EchoBackend::set_health`]).
    pub health_check: bool,
    /// `GET`, `POST`, ...; `TCP` for a raw connection.
    pub method: String,
    pub path: String,
    /// The request head byte for byte (lossy UTF-8), blank line included; empty for TCP.
    pub head: String,
    /// Bytes of request body read (de-chunked), or bytes echoed on a TCP connection.
    pub body_bytes: u64,
    /// `none`, `content-length`, `chunked`; `tcp` for TCP.
    pub body_encoding: String,
    /// The body (de-chunked), kept for health checks only, at most 64 KiB.
    pub body: Vec<u8>,
}

#[derive(Clone, Debug, Default)]
struct Behaviour {
    delay: Duration,
    close_mid_response: bool,
    health: Option<(String, u16)>,
    /// Answer with this many bytes `y` instead of the echo text; chunked if `true`.
    respond: Option<(u64, bool)>,
    /// `Set-Cookie` fields added to every (non health-check) answer.
    set_cookies: Vec<String>,
    /// Other fields (`Name: value`) added to every (non health-check) answer.
    headers: Vec<String>,
    /// TCP: after echoing this many bytes, end the sending side (FIN) and keep reading.
    fin_after: Option<u64>,
    /// TCP: once the peer ended its side, wait this long, send `late\n`, then end ours
    /// (a server slow to close, for `timeout server-fin`).
    late_after_fin: Option<Duration>,
    /// The body of health-check answers; `None`: `NAME health STATUS\n`.
    health_body: Option<Vec<u8>>,
}

struct BackendShared {
    name: String,
    mode: BackendMode,
    behaviour: Mutex<Behaviour>,
    seen: Mutex<Vec<SeenRequest>>,
    listener: Mutex<Option<TcpListener>>,
    /// Clones of accepted connections, shut down by `stop_accepting` and `drop`.
    conns: Mutex<Vec<TcpStream>>,
    stopped: AtomicBool,
    shutdown: AtomicBool,
    health_answered: AtomicU64,
    /// Non-health requests being answered now, and the most there ever were at once.
    in_flight: AtomicU64,
    peak: AtomicU64,
    /// Connections that carried a non-health request so far (numbers them).
    connections: AtomicU64,
    /// See [`EchoBackend::blackhole`]: the listener and the connections filling its queue.
    blackhole: Mutex<Option<(socket2::Socket, Vec<TcpStream>)>>,
    /// Accepting stopped for good (the listener stays open).
    blackholed: AtomicBool,
}

/// Counts a request in flight at a backend while it lives.
struct InFlight<'a>(&'a BackendShared);

impl<'a> InFlight<'a> {
    fn new(shared: &'a BackendShared) -> Self {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.peak.fetch_max(now, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A named server on 127.0.0.1 for the proxy to forward to.
///
/// In [`BackendMode::Http`] every request gets `HTTP/1.1 200 OK`, headers `X-Backend: NAME`,
/// `X-Connection: K` (the connection's number among those that carried a request),
/// `Content-Type: text/plain`, `Content-Length`, and `Connection: close` when the request
/// asked for it (then the connection closes); the body is
///
/// ```text
/// backend: NAME
/// body-bytes: N            (request body bytes read, de-chunked)
/// body-encoding: none|content-length|chunked
/// --- head
/// <the request head exactly as received, CRLFs included>
/// ```
///
/// Keep-alive and pipelining are supported. Requests are recorded before they are answered,
/// so a client holding a response can already see its request in [`EchoBackend::seen`].
pub struct EchoBackend {
    shared: Arc<BackendShared>,
    addr: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
}

impl EchoBackend {
    pub fn http(name: &str) -> io::Result<EchoBackend> {
        EchoBackend::start(name, BackendMode::Http)
    }

    pub fn tcp_echo(name: &str) -> io::Result<EchoBackend> {
        EchoBackend::start(name, BackendMode::TcpEcho)
    }

    pub fn start(name: &str, mode: BackendMode) -> io::Result<EchoBackend> {
        // A port no other backend or proxy of this process gets, even after this one stops
        // listening (a stopped backend must refuse connections, not reach another's).
        // Another test process may take a free port between the check and this bind: try
        // the next one.
        let mut tries = 0;
        let listener = loop {
            let port = listen_port().map_err(io::Error::other)?;
            match TcpListener::bind(("127.0.0.1", port)) {
                Ok(l) => break l,
                Err(e) if e.kind() == io::ErrorKind::AddrInUse && tries < 20 => tries += 1,
                Err(e) => return Err(e),
            }
        };
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(BackendShared {
            name: name.to_string(),
            mode,
            behaviour: Mutex::new(Behaviour::default()),
            seen: Mutex::new(Vec::new()),
            listener: Mutex::new(Some(listener)),
            conns: Mutex::new(Vec::new()),
            stopped: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            health_answered: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            peak: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            blackhole: Mutex::new(None),
            blackholed: AtomicBool::new(false),
        });
        let acceptor = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name(format!("echo-{name}"))
                .spawn(move || accept_loop(&shared))?
        };
        Ok(EchoBackend {
            shared,
            addr,
            acceptor: Some(acceptor),
        })
    }

    pub fn name(&self) -> &str {
        &self.shared.name
    }

    pub fn mode(&self) -> BackendMode {
        self.shared.mode
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Simulates a dead server: closes the listening socket (new connections are refused) and
    /// every open connection.
    pub fn stop_accepting(&self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        drop(lock(&self.shared.listener).take());
        for c in lock(&self.shared.conns).drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }

    /// Listens again on the same address.
    pub fn resume_accepting(&self) -> io::Result<()> {
        let mut slot = lock(&self.shared.listener);
        if slot.is_none() {
            let l = TcpListener::bind(self.addr)?;
            l.set_nonblocking(true)?;
            *slot = Some(l);
        }
        self.shared.stopped.store(false, Ordering::SeqCst);
        Ok(())
    }

    /// Simulates a server that does not answer connection attempts at all (a host that went
    /// away): its address listens with a full accept queue, so the kernel drops new SYNs and
    /// a connect hangs until the client's own timeout.
    pub fn blackhole(&self) -> io::Result<()> {
        use socket2::{Domain, Type};
        // The listener stays (its port is never free for another to take); it stops being
        // accepted from and its backlog shrinks to one connection, which is then filled.
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.shared.blackholed.store(true, Ordering::SeqCst);
        // Let the acceptor see the flag before the queue is filled (it polls every few ms).
        std::thread::sleep(Duration::from_millis(20));
        let s = {
            let guard = lock(&self.shared.listener);
            let l = guard
                .as_ref()
                .ok_or_else(|| io::Error::other("not listening"))?;
            let s = socket2::Socket::from(l.try_clone()?);
            s.listen(0)?;
            s
        };
        let mut fill = Vec::new();
        for _ in 0..2 {
            let c = socket2::Socket::new(Domain::IPV4, Type::STREAM, None)?;
            c.set_nonblocking(true)?;
            let _ = c.connect(&self.addr.into());
            fill.push(TcpStream::from(c));
        }
        std::thread::sleep(Duration::from_millis(50));
        *lock(&self.shared.blackhole) = Some((s, fill));
        Ok(())
    }

    /// Waits this long before answering each (non health-check) request.
    pub fn set_delay(&self, delay: Duration) {
        lock(&self.shared.behaviour).delay = delay;
    }

    /// Sends the head and half the body of each response, then closes the connection.
    pub fn set_close_mid_response(&self, on: bool) {
        lock(&self.shared.behaviour).close_mid_response = on;
    }

    /// Answers each (non health-check) request with `n` bytes `y` instead of the echo text,
    /// with Content-Length, or chunked (64 KiB chunks) if `chunked`.
    pub fn set_respond(&self, n: u64, chunked: bool) {
        lock(&self.shared.behaviour).respond = Some((n, chunked));
    }

    /// Adds `Set-Cookie: COOKIE` to every (non health-check) answer.
    pub fn add_set_cookie(&self, cookie: &str) {
        lock(&self.shared.behaviour)
            .set_cookies
            .push(cookie.to_string());
    }

    /// Answers requests for `path` with `status` and a short body, as a health check.
    pub fn set_health(&self, path: &str, status: u16) {
        lock(&self.shared.behaviour).health = Some((path.to_string(), status));
    }

    /// The body of health-check answers (`None`: `NAME health STATUS\n`).
    pub fn set_health_body(&self, body: Option<Vec<u8>>) {
        lock(&self.shared.behaviour).health_body = body;
    }

    /// Every request seen, health checks included, in arrival order.
    pub fn seen(&self) -> Vec<SeenRequest> {
        lock(&self.shared.seen).clone()
    }

    /// The requests (TCP: connections with data) that were not health checks.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.seen()
            .into_iter()
            .filter(|r| !r.health_check)
            .collect()
    }

    /// Health checks answered so far (counted once the answer is written).
    /// The most non-health requests it was answering at once.
    pub fn peak(&self) -> u64 {
        self.shared.peak.load(Ordering::SeqCst)
    }

    pub fn health_checks_answered(&self) -> u64 {
        self.shared.health_answered.load(Ordering::SeqCst)
    }
}

impl Drop for EchoBackend {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.stop_accepting();
        if let Some(t) = self.acceptor.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(shared: &Arc<BackendShared>) {
    while !shared.shutdown.load(Ordering::SeqCst) {
        if shared.blackholed.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        let accepted = match lock(&shared.listener).as_ref() {
            Some(l) => l.accept().ok(),
            None => None,
        };
        let Some((stream, _)) = accepted else {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        };
        if stream.set_nonblocking(false).is_err() {
            continue;
        }
        if let Ok(c) = stream.try_clone() {
            lock(&shared.conns).push(c);
        }
        let shared = shared.clone();
        let _ = std::thread::Builder::new()
            .name(format!("echo-{}-conn", shared.name))
            .spawn(move || {
                let _ = match shared.mode {
                    BackendMode::Http => serve_http(&shared, stream),
                    BackendMode::TcpEcho => serve_tcp(&shared, stream),
                };
            });
    }
}

/// The `Sec-WebSocket-Accept` answering a `Sec-WebSocket-Key` (RFC 6455 §4.2.2).
fn websocket_accept(key: &str) -> String {
    use base64::Engine;
    let mut h = sha1_smol::Sha1::new();
    h.update(key.as_bytes());
    h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(h.digest().bytes())
}

fn serve_http(shared: &BackendShared, stream: TcpStream) -> io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut wire = Wire::new(stream);
    // This connection's number among those that carried a request, given at its first one.
    let mut number = None;
    loop {
        let Some(raw) = wire.read_head()? else {
            return Ok(());
        };
        if shared.stopped.load(Ordering::SeqCst) {
            return out.shutdown(Shutdown::Both);
        }
        let head = Head::parse(&raw);
        let mut parts = head.first.split(' ');
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let version = parts.next().unwrap_or("");
        let framing = head.request_framing();
        let behaviour = lock(&shared.behaviour).clone();
        let health_status = behaviour
            .health
            .as_ref()
            .filter(|(p, _)| *p == path)
            .map(|(_, s)| *s);
        let mut count = 0u64;
        let mut kept = Vec::new();
        let mut counter = |b: &[u8]| {
            count += b.len() as u64;
            if health_status.is_some() && kept.len() < 65536 {
                kept.extend_from_slice(&b[..b.len().min(65536 - kept.len())]);
            }
        };
        match framing {
            Framing::Length(n) => wire.read_n(n, &mut counter)?,
            Framing::Chunked => wire.read_chunked(&mut counter)?,
            Framing::None | Framing::UntilClose => {}
        }
        let keep_alive = if version == "HTTP/1.0" {
            head.has_token("connection", "keep-alive")
        } else {
            !head.has_token("connection", "close")
        };
        lock(&shared.seen).push(SeenRequest {
            health_check: health_status.is_some(),
            method,
            path,
            head: String::from_utf8_lossy(&raw).into_owned(),
            body_bytes: count,
            body_encoding: framing.word().to_string(),
            body: kept,
        });
        let in_flight = health_status.is_none().then(|| InFlight::new(shared));
        // A protocol upgrade (WebSocket): 101, then every byte is echoed back raw.
        if let (None, Some(proto)) = (health_status, head.all("upgrade").next()) {
            if head.has_token("connection", "upgrade") {
                let n = *number
                    .get_or_insert_with(|| shared.connections.fetch_add(1, Ordering::SeqCst) + 1);
                let mut resp = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nX-Backend: {}\r\nX-Connection: {n}\r\nUpgrade: {proto}\r\nConnection: Upgrade\r\n",
                    shared.name
                );
                // What the proxy passed on of the handshake, for the transcript.
                for name in ["Connection", "Upgrade", "Sec-WebSocket-Key"] {
                    let got: Vec<&str> = head.all(name).collect();
                    resp.push_str(&format!("X-Saw-{name}: {}\r\n", got.join(" | ")));
                }
                if let Some(key) = head.all("sec-websocket-key").next() {
                    resp.push_str(&format!(
                        "Sec-WebSocket-Accept: {}\r\n",
                        websocket_accept(key)
                    ));
                }
                resp.push_str("\r\n");
                out.write_all(resp.as_bytes())?;
                out.write_all(&wire.buf)?;
                let mut buf = [0u8; 16384];
                loop {
                    let n = wire.inner.read(&mut buf)?;
                    if n == 0 {
                        return out.shutdown(Shutdown::Write);
                    }
                    out.write_all(&buf[..n])?;
                }
            }
        }
        let (status, body) = match health_status {
            Some(s) => (
                s,
                match &behaviour.health_body {
                    Some(b) => String::from_utf8_lossy(b).into_owned(),
                    None => format!("{} health {s}\n", shared.name),
                },
            ),
            None => {
                std::thread::sleep(behaviour.delay);
                let body = format!(
                    "backend: {}\nbody-bytes: {count}\nbody-encoding: {}\n--- head\n{}",
                    shared.name,
                    framing.word(),
                    String::from_utf8_lossy(&raw)
                );
                (200, body)
            }
        };
        // Answered from here on: the proxy may send the next request as soon as the answer
        // arrives, before this thread would get to drop the guard after writing it.
        drop(in_flight);
        let mut resp = format!(
            "HTTP/1.1 {status} {}\r\nX-Backend: {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n",
            reason(status),
            shared.name,
            body.len()
        );
        if health_status.is_none() {
            let n = *number
                .get_or_insert_with(|| shared.connections.fetch_add(1, Ordering::SeqCst) + 1);
            resp.push_str(&format!("X-Connection: {n}\r\n"));
            for c in &behaviour.set_cookies {
                resp.push_str(&format!("Set-Cookie: {c}\r\n"));
            }
            for h in &behaviour.headers {
                resp.push_str(&format!("{h}\r\n"));
            }
        }
        if !keep_alive {
            resp.push_str("Connection: close\r\n");
        }
        if let (None, Some((n, chunked))) = (health_status, behaviour.respond) {
            write_filler(&mut out, resp, n, chunked)?;
            if !keep_alive {
                return out.shutdown(Shutdown::Write);
            }
            continue;
        }
        resp.push_str("\r\n");
        let mut bytes = resp.into_bytes();
        if health_status.is_none() && behaviour.close_mid_response {
            bytes.extend_from_slice(&body.as_bytes()[..body.len() / 2]);
            out.write_all(&bytes)?;
            return out.shutdown(Shutdown::Both);
        }
        bytes.extend_from_slice(body.as_bytes());
        out.write_all(&bytes)?;
        if health_status.is_some() {
            shared.health_answered.fetch_add(1, Ordering::SeqCst);
        }
        if !keep_alive {
            return out.shutdown(Shutdown::Write);
        }
    }
}

/// Echoes until the peer closes. A connection is recorded at its first byte (so connect-only
/// health checks are not requests) and its count updated as bytes flow.
fn serve_tcp(shared: &BackendShared, mut stream: TcpStream) -> io::Result<()> {
    let mut buf = [0u8; 16384];
    let mut index = None;
    let mut total = 0u64;
    let fin_after = lock(&shared.behaviour).fin_after;
    let late_after_fin = lock(&shared.behaviour).late_after_fin;
    let mut finished = false;
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            if let Some(wait) = late_after_fin {
                std::thread::sleep(wait);
                // The proxy may have closed this connection meanwhile: that is what the
                // scenario looks at, not an error here.
                let _ = stream.write_all(b"late\n");
            }
            return stream.shutdown(Shutdown::Write);
        }
        total += n as u64;
        {
            let mut seen = lock(&shared.seen);
            let i = *index.get_or_insert_with(|| {
                seen.push(SeenRequest {
                    health_check: false,
                    method: "TCP".into(),
                    path: String::new(),
                    head: String::new(),
                    body_bytes: 0,
                    body_encoding: "tcp".into(),
                    body: Vec::new(),
                });
                seen.len() - 1
            });
            seen[i].body_bytes = total;
        }
        if finished {
            continue;
        }
        stream.write_all(&buf[..n])?;
        if fin_after.is_some_and(|f| total >= f) {
            stream.shutdown(Shutdown::Write)?;
            finished = true;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Proxy processes

/// Which implementation a [`Proxy`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyKind {
    Haproxy,
    Rsproxy,
}

/// A proxy process in the foreground on a rendered config, in its own temporary directory;
/// killed, reaped and its directory removed on drop.
pub struct Proxy {
    kind: ProxyKind,
    child: Child,
    dir: PathBuf,
    ports: BTreeMap<String, u16>,
    config: String,
}

static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

impl Proxy {
    /// `haproxy -db -f FILE` (haproxy from PATH).
    pub fn haproxy(template: &str, backends: &[EchoBackend]) -> Result<Proxy, String> {
        Proxy::start(
            ProxyKind::Haproxy,
            Path::new("haproxy"),
            template,
            backends,
            &[],
        )
    }

    /// `BIN -db -c FILE`.
    pub fn rsproxy(bin: &Path, template: &str, backends: &[EchoBackend]) -> Result<Proxy, String> {
        Proxy::start(ProxyKind::Rsproxy, bin, template, backends, &[])
    }

    /// `RSPROXY_BIN`, else `target/debug/rsproxy` of the workspace (`CARGO_TARGET_DIR` is
    /// honoured).
    pub fn rsproxy_bin() -> PathBuf {
        if let Some(p) = std::env::var_os("RSPROXY_BIN") {
            return PathBuf::from(p);
        }
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace.join("target"));
        target.join("debug/rsproxy")
    }

    /// Starts `program` on the rendered `template` in a directory of its own, which also
    /// holds `files` (name, bytes) for the configuration to name by relative path.
    pub fn start(
        kind: ProxyKind,
        program: &Path,
        template: &str,
        backends: &[EchoBackend],
        files: &[(String, Vec<u8>)],
    ) -> Result<Proxy, String> {
        // A free port found by binding :0 can be taken by someone else before the proxy binds
        // it; that start fails fast and is retried with fresh ports.
        let mut last = String::new();
        for _ in 0..3 {
            let ports = allocate_ports(template)?;
            let config = render(template, &ports, backends)?;
            let dir = std::env::temp_dir().join(format!(
                "rsproxy-rth-{}-{}",
                std::process::id(),
                TEMP_SEQ.fetch_add(1, Ordering::SeqCst)
            ));
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let file = dir.join("haproxy.cfg");
            std::fs::write(&file, &config).map_err(|e| format!("{}: {e}", file.display()))?;
            for (name, bytes) in files {
                let f = dir.join(name);
                std::fs::write(&f, bytes).map_err(|e| format!("{}: {e}", f.display()))?;
            }
            let log = std::fs::File::create(dir.join("output.log")).map_err(|e| e.to_string())?;
            let log2 = log.try_clone().map_err(|e| e.to_string())?;
            let flag = match kind {
                ProxyKind::Haproxy => "-f",
                ProxyKind::Rsproxy => "-c",
            };
            let child = Command::new(program)
                .arg("-db")
                .arg(flag)
                .arg(&file)
                .current_dir(&dir)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(log2)
                .spawn();
            let child = match child {
                Ok(c) => c,
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&dir);
                    return Err(format!("cannot run {}: {e}", program.display()));
                }
            };
            let mut proxy = Proxy {
                kind,
                child,
                dir,
                ports,
                config,
            };
            match proxy.wait_listening() {
                Ok(()) => return Ok(proxy),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn wait_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{:?} exited ({status}) before listening on {:?}\n--- config\n{}\n--- output\n{}",
                    self.kind,
                    self.ports,
                    self.config,
                    self.output()
                ));
            }
            if self.ports.values().all(|p| listening(*p)) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{:?} not listening on {:?} after {START_TIMEOUT:?}\n--- output\n{}",
                    self.kind,
                    self.ports,
                    self.output()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn kind(&self) -> ProxyKind {
        self.kind
    }

    /// The port allocated to `${PORT_name}`.
    pub fn port(&self, name: &str) -> Option<u16> {
        self.ports.get(name).copied()
    }

    pub fn ports(&self) -> &BTreeMap<String, u16> {
        &self.ports
    }

    /// The rendered configuration.
    pub fn config(&self) -> &str {
        &self.config
    }

    /// What the process wrote to stdout and stderr so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.dir.join("output.log")).unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The `NAME`s of the `${PORT_NAME}` placeholders of a template, each with a free port.
fn allocate_ports(template: &str) -> Result<BTreeMap<String, u16>, String> {
    let mut ports = BTreeMap::new();
    for name in placeholders(template) {
        if let Some(port) = name.strip_prefix("PORT_") {
            if !ports.contains_key(port) {
                ports.insert(port.to_string(), listen_port()?);
            }
        }
    }
    Ok(ports)
}

/// A port for a proxy or an echo backend to listen on that no other of this process was
/// given.
///
/// Scenarios run in parallel and proxies bind their ports some time after they were chosen.
/// A port the kernel handed out for `127.0.0.1:0` and that was released again could be handed
/// out again meanwhile (HAProxy binds with SO_REUSEPORT, so two of them would share it and
/// one would answer the other's clients). So ports come from below the kernel's ephemeral
/// range (where echo backends and clients get theirs), each given out once per process.
fn listen_port() -> Result<u16, String> {
    use std::sync::atomic::AtomicU16;
    const FIRST: u16 = 20_000;
    const LAST: u16 = 32_000;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    // Start at an offset of this process, so two test processes rarely meet.
    let _ = NEXT.compare_exchange(
        0,
        FIRST + (std::process::id() % 40) as u16 * 200,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    for _ in 0..(LAST - FIRST) {
        let p = NEXT.fetch_add(1, Ordering::SeqCst);
        let p = FIRST + (p.saturating_sub(FIRST)) % (LAST - FIRST);
        // Free right now (nothing else on this machine listens there).
        if TcpListener::bind(("127.0.0.1", p)).is_ok() {
            return Ok(p);
        }
    }
    Err("no free port between 20000 and 32000".into())
}

/// The insides of every `${...}` of a text.
fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        match after.find('}') {
            Some(j) => {
                out.push(after[..j].to_string());
                rest = &after[j + 1..];
            }
            None => break,
        }
    }
    out
}

/// Replaces `${PORT_x}` with a port and `${BACKEND_name}` with `127.0.0.1:port`; any other
/// `${...}` (HAProxy's own environment variables) is left alone.
pub fn render(
    template: &str,
    ports: &BTreeMap<String, u16>,
    backends: &[EchoBackend],
) -> Result<String, String> {
    let mut out = template.to_string();
    for name in placeholders(template) {
        let value = if let Some(p) = name.strip_prefix("PORT_") {
            ports[p].to_string()
        } else if let Some(b) = name.strip_prefix("BACKEND_") {
            backends
                .iter()
                .find(|e| e.name() == b)
                .ok_or_else(|| format!("${{{name}}}: no backend named {b}"))?
                .addr()
                .to_string()
        } else {
            continue;
        };
        out = out.replace(&format!("${{{name}}}"), &value);
    }
    Ok(out)
}

/// Whether something listens on 127.0.0.1:`port` (or the wildcard address), read from
/// `/proc/net/tcp` so that probing opens no connection the proxy would forward; where that
/// file is missing, by connecting.
fn listening(port: u16) -> bool {
    match std::fs::read_to_string("/proc/net/tcp") {
        Ok(table) => table.lines().skip(1).any(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            f.len() > 3
                && f[3] == "0A"
                && (f[1] == format!("0100007F:{port:04X}")
                    || f[1] == format!("00000000:{port:04X}"))
        }),
        Err(_) => TcpStream::connect_timeout(
            &SocketAddr::from(([127, 0, 0, 1], port)),
            Duration::from_millis(200),
        )
        .is_ok(),
    }
}

// ---------------------------------------------------------------------------------------------
// The client

/// One HTTP response as the client received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub version: String,
    pub status: u16,
    pub reason: String,
    /// Header fields in order, names as received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Set when the body ended early (the body holds what arrived).
    pub error: Option<String>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `X-Backend` that answered.
    pub fn backend(&self) -> Option<&str> {
        self.header("x-backend")
    }

    /// The request head an echo backend reports in its body.
    pub fn seen_head(&self) -> Option<String> {
        let body = String::from_utf8_lossy(&self.body);
        body.split_once("\n--- head\n").map(|(_, h)| h.to_string())
    }

    /// A `key: value` line of an echo backend's body (`body-bytes`, `body-encoding`).
    pub fn echo_field(&self, key: &str) -> Option<String> {
        let body = String::from_utf8_lossy(&self.body);
        let (fields, _) = body.split_once("\n--- head\n")?;
        fields
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(": ").map(str::to_string))
    }
}

/// A raw HTTP/1.1 client connection: what is sent is exactly the bytes given.
pub struct HttpClient {
    out: TcpStream,
    wire: Wire<TcpStream>,
}

impl HttpClient {
    pub fn connect(addr: SocketAddr) -> io::Result<HttpClient> {
        let s = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
        s.set_read_timeout(Some(IO_TIMEOUT))?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        s.set_nodelay(true)?;
        Ok(HttpClient {
            out: s.try_clone()?,
            wire: Wire::new(s),
        })
    }

    /// Ends the sending side (a FIN), keeping the connection open for the answer.
    pub fn shutdown_write(&mut self) -> io::Result<()> {
        self.out.shutdown(Shutdown::Write)
    }

    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }

    /// Reads one response (not to a HEAD request): the body by Content-Length, chunked, or
    /// until close. `Err` when no complete head arrived.
    pub fn read_response(&mut self) -> Result<Response, String> {
        let raw = match self.wire.read_head() {
            Ok(Some(raw)) => raw,
            Ok(None) => return Err("closed before the response".into()),
            Err(e) => return Err(describe(&e)),
        };
        let head = Head::parse(&raw);
        let mut parts = head.first.splitn(3, ' ');
        let version = parts.next().unwrap_or("").to_string();
        let status = parts.next().unwrap_or("").parse().unwrap_or(0);
        let reason = parts.next().unwrap_or("").to_string();
        let mut body = Vec::new();
        let mut sink = |b: &[u8]| body.extend_from_slice(b);
        let result = match head.response_framing(status) {
            Framing::None => Ok(()),
            Framing::Length(n) => self.wire.read_n(n, &mut sink),
            Framing::Chunked => self.wire.read_chunked(&mut sink),
            Framing::UntilClose => self.wire.read_to_close(&mut sink),
        };
        Ok(Response {
            version,
            status,
            reason,
            headers: head.headers,
            body,
            error: result.err().map(|e| describe(&e)),
        })
    }

    /// Reads exactly `n` bytes; on a close or error, what arrived and why it stopped.
    pub fn read_bytes(&mut self, n: u64) -> (Vec<u8>, Option<String>) {
        let mut got = Vec::new();
        let r = self.wire.read_n(n, &mut |b| got.extend_from_slice(b));
        (got, r.err().map(|e| describe(&e)))
    }

    /// Reads until the peer closes.
    pub fn read_to_close(&mut self) -> (Vec<u8>, Option<String>) {
        let mut got = Vec::new();
        let r = self.wire.read_to_close(&mut |b| got.extend_from_slice(b));
        (got, r.err().map(|e| describe(&e)))
    }
}

// ---------------------------------------------------------------------------------------------
// Scenario files

/// An echo backend a scenario starts (`backend NAME http|tcp [options]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendSpec {
    pub name: String,
    pub mode: BackendMode,
    pub down: bool,
    pub delay: Duration,
    pub close_mid_response: bool,
    pub health: Option<(String, u16)>,
    pub respond: Option<(u64, bool)>,
    pub blackhole: bool,
    pub set_cookies: Vec<String>,
    pub headers: Vec<String>,
    pub fin_after: Option<u64>,
    pub late_after_fin: Option<Duration>,
}

/// One action of a scenario's `--- steps`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Connect {
        conn: String,
        port: String,
    },
    Send {
        conn: String,
        bytes: Vec<u8>,
    },
    SendFill {
        conn: String,
        n: u64,
    },
    SendChunked {
        conn: String,
        total: u64,
        size: u64,
    },
    Recv {
        conn: String,
    },
    RecvBytes {
        conn: String,
        n: u64,
    },
    RecvClose {
        conn: String,
    },
    Close {
        conn: String,
    },
    Get {
        port: String,
        path: String,
    },
    Repeat {
        n: u32,
        step: Box<Step>,
    },
    Stop {
        backend: String,
    },
    Start {
        backend: String,
    },
    /// `set-health B STATUS ["BODY"]`: B's health path answers STATUS (with BODY).
    SetHealth {
        backend: String,
        status: u16,
        body: Option<Vec<u8>>,
    },
    WaitChecks {
        backend: String,
        n: u64,
    },
    Shutdown {
        conn: String,
    },
    Sleep {
        ms: u64,
    },
}

/// One line of a scenario's `--- expect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expectation {
    /// The `X-Backend` of every reply in order (`-`: none).
    Backends(Vec<String>),
    /// The status of every reply in order (`-`: not an HTTP response).
    Statuses(Vec<String>),
    /// Non-health requests (TCP: connections with data) each backend saw, at the end.
    Seen {
        backend: String,
        n: usize,
    },
    /// The most requests an HTTP backend was answering at once.
    Peak {
        backend: String,
        n: u64,
    },
    Reply {
        n: usize,
        check: ReplyCheck,
    },
    /// Every health check the backend answered was this request, head and body, byte for
    /// byte (and there was at least one).
    HealthRequest {
        backend: String,
        bytes: Vec<u8>,
    },
}

/// What `reply N ...` asserts about the N-th reply (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplyCheck {
    Status(u16),
    Header(String, String),
    NoHeader(String),
    Body(Vec<u8>),
    BodyContains(Vec<u8>),
    /// The echo backend saw this request line.
    SawLine(String),
    /// The echo backend saw a header field with this value (one of possibly several).
    Saw(String, String),
    /// The echo backend saw no such header field.
    SawNo(String),
    /// How many header fields of this name the echo backend saw.
    SawCount(String, usize),
    SawBodyBytes(u64),
    /// Raw bytes read (`recv-bytes`, `recv-close`).
    Bytes(Vec<u8>),
    /// The reply ended early with an error containing this text.
    Error(String),
    /// The reply ended normally.
    Complete,
}

/// A parsed `.scn` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub backends: Vec<BackendSpec>,
    /// Response header names left out of transcripts (lowercase).
    pub ignore_headers: Vec<String>,
    /// `stats-body`: statistics pages are compared by their shape, not their numbers (see
    /// [`stats_body_lines`]).
    pub stats_body: bool,
    /// `rsproxy-pending: REASON`: the scenario needs something rsproxy's runtime does not carry
    /// out yet; rsproxy must refuse to start on it (never run it differently), and the reason
    /// is reported.
    pub rsproxy_pending: Option<String>,
    pub config: String,
    /// `--- file NAME` sections: files written beside the configuration (which names them
    /// by relative path), bytes exactly as given.
    pub files: Vec<(String, Vec<u8>)>,
    /// Steps with their line numbers.
    pub steps: Vec<(usize, String, Step)>,
    pub expects: Vec<(usize, Expectation)>,
}

/// Splits a line into words; `"..."` is one word with escapes `\r \n \t \\ \" \xNN`; `#`
/// outside quotes starts a comment.
fn words(line: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&c) = chars.peek() else { break };
        if c == '#' {
            break;
        }
        let mut word = Vec::new();
        if c == '"' {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err("unterminated string".into()),
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some('r') => word.push(b'\r'),
                        Some('n') => word.push(b'\n'),
                        Some('t') => word.push(b'\t'),
                        Some('\\') => word.push(b'\\'),
                        Some('"') => word.push(b'"'),
                        Some('x') => {
                            let hex: String = chars.by_ref().take(2).collect();
                            let b = u8::from_str_radix(&hex, 16)
                                .map_err(|_| format!("bad escape \\x{hex}"))?;
                            word.push(b);
                        }
                        other => return Err(format!("bad escape \\{other:?}")),
                    },
                    Some(ch) => word.extend_from_slice(ch.to_string().as_bytes()),
                }
            }
        } else {
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() {
                    break;
                }
                word.extend_from_slice(ch.to_string().as_bytes());
                chars.next();
            }
        }
        out.push(word);
    }
    Ok(out)
}

fn text(w: &[u8]) -> String {
    String::from_utf8_lossy(w).into_owned()
}

fn num<T: std::str::FromStr>(w: Option<&Vec<u8>>, what: &str) -> Result<T, String> {
    let w = w.ok_or_else(|| format!("missing {what}"))?;
    text(w)
        .parse()
        .map_err(|_| format!("{what}: not a number: {}", text(w)))
}

fn arg(w: &[Vec<u8>], i: usize, what: &str) -> Result<String, String> {
    w.get(i)
        .map(|w| text(w))
        .ok_or_else(|| format!("missing {what}"))
}

fn parse_step(w: &[Vec<u8>]) -> Result<Step, String> {
    let verb = arg(w, 0, "step")?;
    let a = |i, what| arg(w, i, what);
    Ok(match verb.as_str() {
        "connect" => Step::Connect {
            conn: a(1, "connection")?,
            port: a(2, "port name")?,
        },
        "send" => Step::Send {
            conn: a(1, "connection")?,
            bytes: w.get(2).cloned().ok_or("missing bytes")?,
        },
        "send-fill" => Step::SendFill {
            conn: a(1, "connection")?,
            n: num(w.get(2), "byte count")?,
        },
        "send-chunked" => Step::SendChunked {
            conn: a(1, "connection")?,
            total: num(w.get(2), "total")?,
            size: num::<u64>(w.get(3), "chunk size")?.max(1),
        },
        "recv" => Step::Recv {
            conn: a(1, "connection")?,
        },
        "recv-bytes" => Step::RecvBytes {
            conn: a(1, "connection")?,
            n: num(w.get(2), "byte count")?,
        },
        "recv-close" => Step::RecvClose {
            conn: a(1, "connection")?,
        },
        "close" => Step::Close {
            conn: a(1, "connection")?,
        },
        "shutdown" => Step::Shutdown {
            conn: a(1, "connection")?,
        },
        "get" => Step::Get {
            port: a(1, "port name")?,
            path: a(2, "path")?,
        },
        "repeat" => {
            let n: u32 = num(w.get(1), "count")?;
            if n > 10_000 {
                return Err("repeat: at most 10000".into());
            }
            Step::Repeat {
                n,
                step: Box::new(parse_step(&w[2..])?),
            }
        }
        "stop" => Step::Stop {
            backend: a(1, "backend")?,
        },
        "start" => Step::Start {
            backend: a(1, "backend")?,
        },
        "set-health" => Step::SetHealth {
            backend: a(1, "backend")?,
            status: num(w.get(2), "status")?,
            body: w.get(3).cloned(),
        },
        "wait-checks" => Step::WaitChecks {
            backend: a(1, "backend")?,
            n: num(w.get(2), "count")?,
        },
        "sleep" => {
            let ms: u64 = num(w.get(1), "milliseconds")?;
            if ms > 10_000 {
                return Err("sleep: at most 10000 ms".into());
            }
            Step::Sleep { ms }
        }
        other => return Err(format!("unknown step '{other}'")),
    })
}

fn parse_expect(w: &[Vec<u8>]) -> Result<Expectation, String> {
    let verb = arg(w, 0, "expectation")?;
    let rest = || w[1..].iter().map(|x| text(x)).collect::<Vec<_>>();
    Ok(match verb.as_str() {
        "backends" => Expectation::Backends(rest()),
        "statuses" => Expectation::Statuses(rest()),
        "seen" => Expectation::Seen {
            backend: arg(w, 1, "backend")?,
            n: num(w.get(2), "count")?,
        },
        "peak" => Expectation::Peak {
            backend: arg(w, 1, "backend")?,
            n: num(w.get(2), "count")?,
        },
        "health-request" => Expectation::HealthRequest {
            backend: arg(w, 1, "backend")?,
            bytes: w.get(2).cloned().ok_or("health-request: missing bytes")?,
        },
        "reply" => {
            let n: usize = num(w.get(1), "reply number")?;
            let what = arg(w, 2, "what to check")?;
            let raw = |i| {
                w.get(i)
                    .cloned()
                    .ok_or_else(|| format!("{what}: missing value"))
            };
            let check = match what.as_str() {
                "status" => ReplyCheck::Status(num(w.get(3), "status")?),
                "header" => ReplyCheck::Header(arg(w, 3, "name")?, arg(w, 4, "value")?),
                "no-header" => ReplyCheck::NoHeader(arg(w, 3, "name")?),
                "body" => ReplyCheck::Body(raw(3)?),
                "body-contains" => ReplyCheck::BodyContains(raw(3)?),
                "saw-line" => ReplyCheck::SawLine(arg(w, 3, "request line")?),
                "saw" => ReplyCheck::Saw(arg(w, 3, "name")?, arg(w, 4, "value")?),
                "saw-no" => ReplyCheck::SawNo(arg(w, 3, "name")?),
                "saw-count" => ReplyCheck::SawCount(arg(w, 3, "name")?, num(w.get(4), "count")?),
                "saw-body-bytes" => ReplyCheck::SawBodyBytes(num(w.get(3), "count")?),
                "bytes" => ReplyCheck::Bytes(raw(3)?),
                "error" => ReplyCheck::Error(arg(w, 3, "text")?),
                "complete" => ReplyCheck::Complete,
                other => return Err(format!("unknown reply check '{other}'")),
            };
            Expectation::Reply { n, check }
        }
        other => return Err(format!("unknown expectation '{other}'")),
    })
}

fn parse_backend(w: &[Vec<u8>]) -> Result<BackendSpec, String> {
    let mut b = BackendSpec {
        name: arg(w, 1, "backend name")?,
        mode: match arg(w, 2, "mode (http or tcp)")?.as_str() {
            "http" => BackendMode::Http,
            "tcp" => BackendMode::TcpEcho,
            other => return Err(format!("mode must be http or tcp, not '{other}'")),
        },
        down: false,
        delay: Duration::ZERO,
        close_mid_response: false,
        health: None,
        respond: None,
        blackhole: false,
        set_cookies: Vec::new(),
        headers: Vec::new(),
        fin_after: None,
        late_after_fin: None,
    };
    for opt in &w[3..] {
        let opt = text(opt);
        match opt.split_once('=') {
            None if opt == "down" => b.down = true,
            None if opt == "blackhole" => b.blackhole = true,
            None if opt == "close-mid-response" => b.close_mid_response = true,
            Some(("set-cookie", v)) => b.set_cookies.push(v.to_string()),
            Some(("late-after-fin-ms", v)) => {
                b.late_after_fin = Some(Duration::from_millis(
                    v.parse().map_err(|_| format!("bad {opt}"))?,
                ))
            }
            Some(("fin-after", v)) => {
                b.fin_after = Some(v.parse().map_err(|_| format!("bad {opt}"))?)
            }
            Some(("header", v)) if v.contains(':') => b.headers.push(v.to_string()),
            Some(("respond", v)) => {
                b.respond = Some((v.parse().map_err(|_| format!("bad {opt}"))?, false))
            }
            Some(("respond-chunked", v)) => {
                b.respond = Some((v.parse().map_err(|_| format!("bad {opt}"))?, true))
            }
            Some(("delay-ms", v)) => {
                b.delay = Duration::from_millis(v.parse().map_err(|_| format!("bad {opt}"))?)
            }
            Some(("health", v)) => {
                let (path, status) = v
                    .rsplit_once(':')
                    .ok_or_else(|| format!("health=PATH:STATUS, not {opt}"))?;
                let status = status.parse().map_err(|_| format!("bad status in {opt}"))?;
                b.health = Some((path.to_string(), status));
            }
            _ => return Err(format!("unknown backend option '{opt}'")),
        }
    }
    Ok(b)
}

impl Scenario {
    /// Parses the `.scn` format (see `compat-tests/scenarios/README.md`).
    pub fn parse(name: &str, source: &str) -> Result<Scenario, String> {
        let mut scn = Scenario {
            name: name.to_string(),
            description: String::new(),
            rsproxy_pending: None,
            backends: Vec::new(),
            ignore_headers: Vec::new(),
            stats_body: false,
            config: String::new(),
            files: Vec::new(),
            steps: Vec::new(),
            expects: Vec::new(),
        };
        let mut section = "header";
        for (i, line) in source.lines().enumerate() {
            let lineno = i + 1;
            let at = |e: String| format!("{name}:{lineno}: {e}");
            if let Some(s) = line.strip_prefix("--- ") {
                section = match s.trim() {
                    "config" => "config",
                    "steps" => "steps",
                    "expect" => "expect",
                    f if f.starts_with("file ") => {
                        let file = f["file ".len()..].trim();
                        if file.is_empty() || file.contains('/') || file == "haproxy.cfg" {
                            return Err(at(format!("bad file name '{file}'")));
                        }
                        scn.files.push((file.to_string(), Vec::new()));
                        "file"
                    }
                    other => return Err(at(format!("unknown section '{other}'"))),
                };
                continue;
            }
            if section == "config" {
                scn.config.push_str(line);
                scn.config.push('\n');
                continue;
            }
            let w = words(line).map_err(at)?;
            if w.is_empty() {
                continue;
            }
            match section {
                "file" => {
                    if let Some((_, bytes)) = scn.files.last_mut() {
                        bytes.extend(w.concat());
                    }
                }
                "header" => match text(&w[0]).as_str() {
                    "description:" => {
                        let d = line.split_once(':').map(|x| x.1).unwrap_or("").trim();
                        if !scn.description.is_empty() {
                            scn.description.push(' ');
                        }
                        scn.description.push_str(d);
                    }
                    "backend" => scn.backends.push(parse_backend(&w).map_err(at)?),
                    "ignore-header" => scn
                        .ignore_headers
                        .extend(w[1..].iter().map(|h| text(h).to_ascii_lowercase())),
                    "stats-body" => scn.stats_body = true,
                    "rsproxy-pending:" => {
                        let reason = line.split_once(':').map(|x| x.1).unwrap_or("").trim();
                        scn.rsproxy_pending = Some(reason.to_string());
                    }
                    other => return Err(at(format!("unknown header line '{other}'"))),
                },
                "steps" => {
                    let step = parse_step(&w).map_err(at)?;
                    scn.steps.push((lineno, line.trim().to_string(), step));
                }
                _ => scn.expects.push((lineno, parse_expect(&w).map_err(at)?)),
            }
        }
        if scn.description.is_empty() {
            return Err(format!("{name}: missing 'description:'"));
        }
        if scn.config.trim().is_empty() || scn.steps.is_empty() || scn.expects.is_empty() {
            return Err(format!(
                "{name}: needs '--- config', '--- steps' and '--- expect' sections"
            ));
        }
        Ok(scn)
    }

    /// Reads and parses one file; its name is the file stem.
    pub fn load(path: &Path) -> Result<Scenario, String> {
        let source =
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("?")
            .to_string();
        Scenario::parse(&name, &source)
    }
}

/// `compat-tests/scenarios/`.
pub fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Every `*.scn` of `dir`, sorted by name.
/// The scenarios named in `SCENARIOS` (comma-separated file stems), or all of them.
pub fn selected(all: Vec<Scenario>) -> Vec<Scenario> {
    match std::env::var("SCENARIOS") {
        Ok(names) if !names.trim().is_empty() => {
            let names: Vec<&str> = names.split(',').map(str::trim).collect();
            all.into_iter()
                .filter(|s| names.contains(&s.name.as_str()))
                .collect()
        }
        _ => all,
    }
}

pub fn load_scenarios(dir: &Path) -> Result<Vec<Scenario>, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "scn"))
        .collect();
    paths.sort();
    paths.iter().map(|p| Scenario::load(p)).collect()
}

// ---------------------------------------------------------------------------------------------
// Playing a scenario

/// What one reply-producing step got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Http(Response),
    /// Raw bytes, and why reading stopped early if it did.
    Bytes(Vec<u8>, Option<String>),
    /// Nothing usable arrived (no response head, connect or send failed).
    Failed(String),
}

/// One reply, with the step that produced it (`line 12: recv c1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub step: String,
    pub outcome: Outcome,
}

/// Everything clients and backends saw while one scenario ran against one proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transcript {
    pub scenario: String,
    pub proxy: ProxyKind,
    pub replies: Vec<Reply>,
    /// Non-health requests per backend, in the scenario's backend order.
    pub seen: Vec<(String, usize)>,
    /// Per HTTP backend, the most requests it answered at once.
    pub peaks: Vec<(String, u64)>,
    /// The health-check requests each backend received (head and body), in order. Not
    /// rendered: how many checks run is a matter of timing.
    pub health_requests: Vec<(String, Vec<Vec<u8>>)>,
    ignore_headers: Vec<String>,
    stats_body: bool,
    /// Allocated addresses and their placeholder names, replaced when rendering.
    names: Vec<(String, String)>,
}

/// The proxy a scenario is played against.
#[derive(Clone, Debug)]
pub enum Target {
    Haproxy,
    Rsproxy(PathBuf),
}

struct Player<'a> {
    proxy: &'a Proxy,
    backends: &'a [EchoBackend],
    conns: BTreeMap<String, HttpClient>,
    replies: Vec<Reply>,
}

impl Player<'_> {
    fn backend(&self, name: &str) -> Result<&EchoBackend, String> {
        self.backends
            .iter()
            .find(|b| b.name() == name)
            .ok_or_else(|| format!("no backend named {name}"))
    }

    fn conn(&mut self, name: &str) -> Result<&mut HttpClient, String> {
        self.conns
            .get_mut(name)
            .ok_or_else(|| format!("no open connection named {name}"))
    }

    fn addr(&self, port: &str) -> Result<SocketAddr, String> {
        let p = self
            .proxy
            .port(port)
            .ok_or_else(|| format!("no ${{PORT_{port}}} in the config"))?;
        Ok(SocketAddr::from(([127, 0, 0, 1], p)))
    }

    fn reply(&mut self, step: &str, outcome: Outcome) {
        self.replies.push(Reply {
            step: step.to_string(),
            outcome,
        });
    }

    /// Sends on a connection; a failure becomes a reply (the proxy may have closed).
    fn send(&mut self, label: &str, conn: &str, bytes: &[u8]) -> Result<(), String> {
        if let Err(e) = self.conn(conn)?.send(bytes) {
            self.reply(label, Outcome::Failed(format!("send: {}", describe(&e))));
        }
        Ok(())
    }

    fn run(&mut self, label: &str, step: &Step) -> Result<(), String> {
        match step {
            Step::Connect { conn, port } => match HttpClient::connect(self.addr(port)?) {
                Ok(c) => {
                    self.conns.insert(conn.clone(), c);
                }
                Err(e) => self.reply(label, Outcome::Failed(format!("connect: {}", describe(&e)))),
            },
            Step::Send { conn, bytes } => self.send(label, conn, bytes)?,
            Step::SendFill { conn, n } => {
                let block = vec![b'x'; 65536];
                let mut left = *n;
                while left > 0 {
                    let k = left.min(block.len() as u64) as usize;
                    self.send(label, conn, &block[..k])?;
                    left -= k as u64;
                }
            }
            Step::SendChunked { conn, total, size } => {
                let mut left = *total;
                while left > 0 {
                    let k = left.min(*size);
                    let mut chunk = format!("{k:x}\r\n").into_bytes();
                    chunk.resize(chunk.len() + k as usize, b'x');
                    chunk.extend_from_slice(b"\r\n");
                    self.send(label, conn, &chunk)?;
                    left -= k;
                }
                self.send(label, conn, b"0\r\n\r\n")?;
            }
            Step::Recv { conn } => {
                let outcome = match self.conn(conn)?.read_response() {
                    Ok(r) => Outcome::Http(r),
                    Err(e) => Outcome::Failed(e),
                };
                self.reply(label, outcome);
            }
            Step::RecvBytes { conn, n } => {
                let (bytes, err) = self.conn(conn)?.read_bytes(*n);
                self.reply(label, Outcome::Bytes(bytes, err));
            }
            Step::RecvClose { conn } => {
                let (bytes, err) = self.conn(conn)?.read_to_close();
                self.reply(label, Outcome::Bytes(bytes, err));
            }
            Step::Close { conn } => {
                self.conns.remove(conn);
            }
            Step::Shutdown { conn } => {
                let c = self
                    .conns
                    .get_mut(conn)
                    .ok_or_else(|| format!("no connection {conn}"))?;
                if let Err(e) = c.shutdown_write() {
                    return Err(format!("shutdown {conn}: {e}"));
                }
            }
            Step::Get { port, path } => {
                let request = format!("GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n");
                let outcome = match HttpClient::connect(self.addr(port)?) {
                    Err(e) => Outcome::Failed(format!("connect: {}", describe(&e))),
                    Ok(mut c) => match c.send(request.as_bytes()) {
                        Err(e) => Outcome::Failed(format!("send: {}", describe(&e))),
                        Ok(()) => match c.read_response() {
                            Ok(r) => Outcome::Http(r),
                            Err(e) => Outcome::Failed(e),
                        },
                    },
                };
                self.reply(label, outcome);
            }
            Step::Repeat { n, step } => {
                for _ in 0..*n {
                    self.run(label, step)?;
                }
            }
            Step::Stop { backend } => self.backend(backend)?.stop_accepting(),
            Step::Sleep { ms } => std::thread::sleep(Duration::from_millis(*ms)),
            Step::Start { backend } => self
                .backend(backend)?
                .resume_accepting()
                .map_err(|e| format!("restart {backend}: {e}"))?,
            Step::SetHealth {
                backend,
                status,
                body,
            } => {
                let b = self.backend(backend)?;
                let path = lock(&b.shared.behaviour)
                    .health
                    .as_ref()
                    .map(|h| h.0.clone())
                    .ok_or_else(|| format!("{backend} has no health=PATH:STATUS"))?;
                b.set_health(&path, *status);
                b.set_health_body(body.clone());
            }
            Step::WaitChecks { backend, n } => {
                let b = self.backend(backend)?;
                let target = b.health_checks_answered() + n;
                let deadline = Instant::now() + WAIT_TIMEOUT;
                while b.health_checks_answered() < target {
                    if Instant::now() > deadline {
                        return Err(format!(
                            "{backend} answered {} of {target} health checks in {WAIT_TIMEOUT:?}",
                            b.health_checks_answered()
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
        Ok(())
    }
}

/// Finishes a response head (`head`: status line and common fields) for a body of `n` bytes
/// `y`, and sends head and body.
fn write_filler(out: &mut TcpStream, mut head: String, n: u64, chunked: bool) -> io::Result<()> {
    // The head says Content-Length of the echo text: replace it.
    if let Some(i) = head.find("Content-Length: ") {
        if let Some(j) = head[i..].find("\r\n") {
            head.replace_range(i..i + j + 2, "");
        }
    }
    if chunked {
        head.push_str("Transfer-Encoding: chunked\r\n\r\n");
    } else {
        head.push_str(&format!("Content-Length: {n}\r\n\r\n"));
    }
    out.write_all(head.as_bytes())?;
    let piece = vec![b'y'; 64 * 1024];
    let mut left = n;
    while left > 0 {
        let k = left.min(piece.len() as u64) as usize;
        if chunked {
            out.write_all(format!("{k:x}\r\n").as_bytes())?;
        }
        out.write_all(&piece[..k])?;
        if chunked {
            out.write_all(b"\r\n")?;
        }
        left -= k as u64;
    }
    if chunked {
        out.write_all(b"0\r\n\r\n")?;
    }
    Ok(())
}

/// Starts the scenario's backends and the proxy, runs the steps, and returns what was seen.
/// `Err` is a harness failure (bad step, proxy did not start, a wait ran out), with the
/// proxy's output.
pub fn play(scn: &Scenario, target: &Target) -> Result<Transcript, String> {
    let mut backends = Vec::new();
    for spec in &scn.backends {
        let b = EchoBackend::start(&spec.name, spec.mode)
            .map_err(|e| format!("backend {}: {e}", spec.name))?;
        b.set_delay(spec.delay);
        b.set_close_mid_response(spec.close_mid_response);
        if let Some((n, chunked)) = spec.respond {
            b.set_respond(n, chunked);
        }
        for c in &spec.set_cookies {
            b.add_set_cookie(c);
        }
        for h in &spec.headers {
            lock(&b.shared.behaviour).headers.push(h.clone());
        }
        lock(&b.shared.behaviour).fin_after = spec.fin_after;
        lock(&b.shared.behaviour).late_after_fin = spec.late_after_fin;
        if let Some((path, status)) = &spec.health {
            b.set_health(path, *status);
        }
        if spec.down {
            b.stop_accepting();
        }
        if spec.blackhole {
            b.blackhole()
                .map_err(|e| format!("backend {}: blackhole: {e}", spec.name))?;
        }
        backends.push(b);
    }
    let proxy = match target {
        Target::Haproxy => Proxy::start(
            ProxyKind::Haproxy,
            Path::new("haproxy"),
            &scn.config,
            &backends,
            &scn.files,
        )?,
        Target::Rsproxy(bin) => {
            Proxy::start(ProxyKind::Rsproxy, bin, &scn.config, &backends, &scn.files)?
        }
    };
    let mut player = Player {
        proxy: &proxy,
        backends: &backends,
        conns: BTreeMap::new(),
        replies: Vec::new(),
    };
    let deadline = Instant::now() + SCENARIO_TIMEOUT;
    for (lineno, source, step) in &scn.steps {
        let label = format!("line {lineno}: {source}");
        player.run(&label, step).map_err(|e| {
            format!(
                "{}: {label}: {e}\n--- {:?} output\n{}",
                scn.name,
                proxy.kind(),
                proxy.output()
            )
        })?;
        if Instant::now() > deadline {
            return Err(format!("{}: longer than {SCENARIO_TIMEOUT:?}", scn.name));
        }
    }
    let replies = std::mem::take(&mut player.replies);
    drop(player);
    let mut names: Vec<(String, String)> = backends
        .iter()
        .map(|b| (b.addr().to_string(), format!("${{BACKEND_{}}}", b.name())))
        .collect();
    names.extend(
        proxy
            .ports()
            .iter()
            .map(|(n, p)| (format!("127.0.0.1:{p}"), format!("${{PORT_{n}}}"))),
    );
    Ok(Transcript {
        scenario: scn.name.clone(),
        proxy: proxy.kind(),
        replies,
        seen: backends
            .iter()
            .map(|b| (b.name().to_string(), b.requests().len()))
            .collect(),
        peaks: backends
            .iter()
            .filter(|b| b.mode() == BackendMode::Http)
            .map(|b| (b.name().to_string(), b.peak()))
            .collect(),
        health_requests: backends
            .iter()
            .map(|b| {
                let checks = b.seen().into_iter().filter(|r| r.health_check);
                let raw = checks.map(|r| [r.head.into_bytes(), r.body].concat());
                (b.name().to_string(), raw.collect())
            })
            .collect(),
        ignore_headers: scn.ignore_headers.clone(),
        stats_body: scn.stats_body,
        names,
    })
}

// ---------------------------------------------------------------------------------------------
// Transcripts: rendering, expectations, comparison

fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

/// Bytes as lines ending after each `\n`; long runs of one byte (request bodies) collapsed.
fn body_lines(prefix: &str, bytes: &[u8], out: &mut Vec<String>) {
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        if line.len() > 64 && line.iter().all(|&b| b == line[0]) {
            out.push(format!("{prefix}{} x {}", escape(&line[..1]), line.len()));
        } else {
            out.push(format!("{prefix}{}", escape(line)));
        }
    }
}

/// A statistics page's body by its shape, for a `stats-body` scenario: the counters,
/// process id and times differ between any two runs, the layout must not. A CSV export
/// (a body starting with `# `) shows its header line verbatim, then per row its proxy and
/// server names and its number of fields; an HTML page (a 200 `text/html` answer) only that
/// it is one. Returns false for any other body (rendered as usual).
fn stats_body_lines(resp: &Response, out: &mut Vec<String>) -> bool {
    let body = String::from_utf8_lossy(&resp.body);
    if let Some(csv) = body.strip_prefix("# ") {
        let mut lines = csv.lines();
        out.push(format!("  | csv header: {}", lines.next().unwrap_or("")));
        for row in lines {
            let mut fields = row.split(',');
            let px = fields.next().unwrap_or("");
            let sv = fields.next().unwrap_or("");
            // Quoted strings are not expected in these rows; a plain count is enough.
            out.push(format!(
                "  | csv row {px}/{sv}: {} fields",
                row.split(',').count()
            ));
        }
        return true;
    }
    let html = resp.status == 200
        && resp
            .headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("content-type") && v.starts_with("text/html"));
    if html {
        out.push("  | (an HTML statistics page: not compared)".into());
    }
    html
}

impl Transcript {
    /// The transcript as lines: what [`compare`] compares and failures print. Header names
    /// are lowercased (HTTP/1 names are case-insensitive), ignored headers left out, and
    /// allocated addresses replaced by their placeholders.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, r) in self.replies.iter().enumerate() {
            out.push(format!("reply {} ({})", i + 1, r.step));
            match &r.outcome {
                Outcome::Http(resp) => {
                    out.push(format!(
                        "  {} {} {}",
                        resp.version, resp.status, resp.reason
                    ));
                    for (n, v) in &resp.headers {
                        let n = n.to_ascii_lowercase();
                        if !self.ignore_headers.contains(&n) {
                            out.push(format!("  {n}: {v}"));
                        }
                    }
                    if !(self.stats_body && stats_body_lines(resp, &mut out)) {
                        body_lines("  | ", &resp.body, &mut out);
                    }
                    if let Some(e) = &resp.error {
                        out.push(format!("  ended early: {e}"));
                    }
                }
                Outcome::Bytes(b, err) => {
                    body_lines("  | ", b, &mut out);
                    if let Some(e) = err {
                        out.push(format!("  ended early: {e}"));
                    }
                }
                Outcome::Failed(e) => out.push(format!("  failed: {e}")),
            }
        }
        for (b, n) in &self.seen {
            out.push(format!("backend {b} saw {n} requests"));
        }
        for (b, n) in &self.peaks {
            out.push(format!("backend {b} answered at most {n} at once"));
        }
        for line in &mut out {
            for (addr, name) in &self.names {
                if line.contains(addr.as_str()) {
                    *line = line.replace(addr.as_str(), name);
                }
            }
        }
        out
    }

    /// Checks every expectation of the scenario; `Err` lists each unmet one, then the
    /// transcript.
    pub fn check(&self, scn: &Scenario) -> Result<(), String> {
        let mut failures = Vec::new();
        for (lineno, e) in &scn.expects {
            if let Err(msg) = self.meets(e) {
                failures.push(format!("{}:{lineno}: {msg}", scn.name));
            }
        }
        if failures.is_empty() {
            return Ok(());
        }
        Err(format!(
            "{} on {:?}:\n{}\n--- transcript\n{}",
            scn.name,
            self.proxy,
            failures.join("\n"),
            self.lines().join("\n")
        ))
    }

    fn meets(&self, e: &Expectation) -> Result<(), String> {
        let http = |r: &Reply| match &r.outcome {
            Outcome::Http(resp) => Some(resp.clone()),
            _ => None,
        };
        match e {
            Expectation::Backends(want) => {
                let got: Vec<String> = self
                    .replies
                    .iter()
                    .map(|r| {
                        http(r)
                            .and_then(|h| h.backend().map(str::to_string))
                            .unwrap_or_else(|| "-".into())
                    })
                    .collect();
                if &got != want {
                    return Err(format!("backends: want {want:?}, got {got:?}"));
                }
            }
            Expectation::Statuses(want) => {
                let got: Vec<String> = self
                    .replies
                    .iter()
                    .map(|r| http(r).map_or("-".into(), |h| h.status.to_string()))
                    .collect();
                if &got != want {
                    return Err(format!("statuses: want {want:?}, got {got:?}"));
                }
            }
            Expectation::Seen { backend, n } => {
                let got = self.seen.iter().find(|(b, _)| b == backend).map(|x| x.1);
                if got != Some(*n) {
                    return Err(format!("seen {backend}: want {n}, got {got:?}"));
                }
            }
            Expectation::Peak { backend, n } => {
                let got = self.peaks.iter().find(|(b, _)| b == backend).map(|x| x.1);
                if got != Some(*n) {
                    return Err(format!("peak {backend}: want {n}, got {got:?}"));
                }
            }
            Expectation::Reply { n, check } => {
                let r = n
                    .checked_sub(1)
                    .and_then(|i| self.replies.get(i))
                    .ok_or_else(|| format!("no reply {n} ({} replies)", self.replies.len()))?;
                meets_reply(r, check).map_err(|m| format!("reply {n} ({}): {m}", r.step))?;
            }
            Expectation::HealthRequest { backend, bytes } => {
                let got = self
                    .health_requests
                    .iter()
                    .find(|(b, _)| b == backend)
                    .map(|(_, r)| r.as_slice())
                    .unwrap_or_default();
                if got.is_empty() {
                    return Err(format!("health-request {backend}: no health check seen"));
                }
                if let Some(other) = got.iter().find(|r| *r != bytes) {
                    return Err(format!(
                        "health-request {backend}: want \"{}\", got \"{}\"",
                        escape(bytes),
                        escape(other)
                    ));
                }
            }
        }
        Ok(())
    }
}

fn meets_reply(r: &Reply, check: &ReplyCheck) -> Result<(), String> {
    let (body, error) = match &r.outcome {
        Outcome::Http(resp) => (resp.body.clone(), resp.error.clone()),
        Outcome::Bytes(b, e) => (b.clone(), e.clone()),
        Outcome::Failed(e) => (Vec::new(), Some(e.clone())),
    };
    if let ReplyCheck::Bytes(want) = check {
        return if &body == want {
            Ok(())
        } else {
            Err(format!(
                "bytes: want {}, got {}",
                escape(want),
                escape(&body)
            ))
        };
    }
    match check {
        ReplyCheck::Error(want) => {
            return match &error {
                Some(e) if e.contains(want.as_str()) => Ok(()),
                _ => Err(format!("want an error containing {want:?}, got {error:?}")),
            }
        }
        ReplyCheck::Complete => {
            return match &error {
                None => Ok(()),
                Some(e) => Err(format!("ended early: {e}")),
            }
        }
        _ => {}
    }
    let Outcome::Http(resp) = &r.outcome else {
        return Err(format!("not an HTTP response: {:?}", r.outcome));
    };
    let seen = resp.seen_head().map(|h| Head::parse(h.as_bytes()));
    let seen = || seen.clone().ok_or("the body is not an echo backend's");
    match check {
        ReplyCheck::Status(s) if resp.status != *s => {
            Err(format!("status: want {s}, got {}", resp.status))
        }
        ReplyCheck::Header(n, v) if resp.header(n) != Some(v.as_str()) => {
            Err(format!("header {n}: want {v:?}, got {:?}", resp.header(n)))
        }
        ReplyCheck::NoHeader(n) if resp.header(n).is_some() => {
            Err(format!("header {n}: want none, got {:?}", resp.header(n)))
        }
        ReplyCheck::Body(b) if &resp.body != b => Err(format!(
            "body: want {}, got {}",
            escape(b),
            escape(&resp.body)
        )),
        ReplyCheck::BodyContains(b) if find(&resp.body, b).is_none() => Err(format!(
            "body does not contain {}: {}",
            escape(b),
            escape(&resp.body)
        )),
        ReplyCheck::SawLine(l) => {
            let h = seen()?;
            if &h.first == l {
                Ok(())
            } else {
                Err(format!("backend saw {:?}, want {l:?}", h.first))
            }
        }
        ReplyCheck::Saw(n, v) => {
            let h = seen()?;
            let got: Vec<&str> = h.all(n).collect();
            if got.contains(&v.as_str()) {
                Ok(())
            } else {
                Err(format!("backend saw {n}: {got:?}, want {v:?}"))
            }
        }
        ReplyCheck::SawNo(n) => {
            let h = seen()?;
            let got: Vec<&str> = h.all(n).collect();
            if got.is_empty() {
                Ok(())
            } else {
                Err(format!("backend saw {n}: {got:?}, want none"))
            }
        }
        ReplyCheck::SawCount(n, c) => {
            let h = seen()?;
            let got = h.all(n).count();
            if got == *c {
                Ok(())
            } else {
                Err(format!("backend saw {got} {n} fields, want {c}"))
            }
        }
        ReplyCheck::SawBodyBytes(n) => {
            let got = resp.echo_field("body-bytes");
            if got.as_deref() == Some(n.to_string().as_str()) {
                Ok(())
            } else {
                Err(format!("backend read {got:?} body bytes, want {n}"))
            }
        }
        _ => Ok(()),
    }
}

/// Compares two transcripts of one scenario line by line; `Err` names the first differing
/// line with its reply and context from both sides.
pub fn compare(haproxy: &Transcript, rsproxy: &Transcript) -> Result<(), String> {
    let a = haproxy.lines();
    let b = rsproxy.lines();
    let Some(i) = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)) else {
        return Ok(());
    };
    let reply = a[..i.min(a.len())]
        .iter()
        .rev()
        .find(|l| l.starts_with("reply "))
        .cloned()
        .unwrap_or_else(|| "(before any reply)".into());
    let show = |side: &[String]| {
        side.get(i.saturating_sub(3)..(i + 4).min(side.len()))
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .map(|(k, l)| {
                let n = i.saturating_sub(3) + k;
                format!("{} {l}", if n == i { ">" } else { " " })
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    Err(format!(
        "{}: first difference at transcript line {} in {reply}\n  {:?}: {}\n  {:?}: {}\n\
         --- {:?} around it\n{}\n--- {:?} around it\n{}",
        haproxy.scenario,
        i + 1,
        haproxy.proxy,
        a.get(i).map_or("(end)", |s| s.as_str()),
        rsproxy.proxy,
        b.get(i).map_or("(end)", |s| s.as_str()),
        haproxy.proxy,
        show(&a),
        rsproxy.proxy,
        show(&b),
    ) + &later_differences(&a, &b, i))
}

/// The next few lines that differ after the first (same line numbers on both sides), so one
/// run shows more than the first symptom.
fn later_differences(a: &[String], b: &[String], first: usize) -> String {
    let more: Vec<String> = (first + 1..a.len().max(b.len()))
        .filter(|&i| a.get(i) != b.get(i))
        .take(6)
        .map(|i| {
            format!(
                "\n  line {}: {:?} / {:?}",
                i + 1,
                a.get(i).map_or("(end)", |s| s.as_str()),
                b.get(i).map_or("(end)", |s| s.as_str())
            )
        })
        .collect();
    if more.is_empty() {
        String::new()
    } else {
        format!(
            "\n--- later differences (haproxy / rsproxy){}",
            more.concat()
        )
    }
}

#[cfg(test)]
mod tests {
    /// description: the RFC 6455 example key gives the RFC's accept value.
    #[test]
    fn websocket_accept_matches_the_rfc_example() {
        assert_eq!(
            super::websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    use super::*;

    #[test]
    fn words_split_quote_and_escape() {
        let w = words(r#"send c1 "GET / HTTP/1.1\r\nX: \"y\"\x41" # comment"#).unwrap();
        assert_eq!(w.len(), 3);
        assert_eq!(w[2], b"GET / HTTP/1.1\r\nX: \"y\"A");
        assert!(words(r#"send "open"#).is_err());
    }

    #[test]
    fn render_fills_ports_and_backends_and_leaves_env_vars() {
        let b = EchoBackend::http("web1").unwrap();
        let ports = allocate_ports("bind :${PORT_fe} ${PORT_fe} ${PORT_x}").unwrap();
        assert_eq!(ports.len(), 2);
        let out = render(
            "bind 127.0.0.1:${PORT_fe}\nserver s ${BACKEND_web1}\nx ${HOME}",
            &ports,
            std::slice::from_ref(&b),
        )
        .unwrap();
        assert!(out.contains(&format!("127.0.0.1:{}", ports["fe"])));
        assert!(out.contains(&b.addr().to_string()));
        assert!(out.contains("${HOME}"));
        assert!(render("${BACKEND_nope}", &ports, &[]).is_err());
    }

    #[test]
    fn echo_backend_answers_keep_alive_chunked_and_health() {
        let b = EchoBackend::http("web1").unwrap();
        b.set_health("/h", 503);
        let mut c = HttpClient::connect(b.addr()).unwrap();
        c.send(b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
            .unwrap();
        let r = c.read_response().unwrap();
        assert_eq!((r.status, r.backend()), (200, Some("web1")));
        assert_eq!(r.echo_field("body-bytes").as_deref(), Some("5"));
        assert_eq!(r.echo_field("body-encoding").as_deref(), Some("chunked"));
        assert!(r.seen_head().unwrap().starts_with("POST /a HTTP/1.1\r\n"));
        c.send(b"GET /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let r = c.read_response().unwrap();
        assert_eq!(r.status, 503);
        assert_eq!(r.header("connection"), Some("close"));
        assert_eq!(b.requests().len(), 1);
        assert_eq!(b.seen().len(), 2);
        b.stop_accepting();
        // Refused now. (In a parallel test run another test's listener may be handed the
        // freed port, so what is asserted is that this backend serves nothing more.)
        if let Ok(mut c) = HttpClient::connect(b.addr()) {
            let _ = c.send(b"GET /after-stop HTTP/1.1\r\nHost: x\r\n\r\n");
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(b.seen().len(), 2);
        b.resume_accepting().unwrap();
        assert!(HttpClient::connect(b.addr()).is_ok());
    }

    #[test]
    fn tcp_echo_echoes_and_counts() {
        let b = EchoBackend::tcp_echo("t").unwrap();
        let mut c = HttpClient::connect(b.addr()).unwrap();
        c.send(b"hello").unwrap();
        assert_eq!(c.read_bytes(5), (b"hello".to_vec(), None));
        assert_eq!(b.requests()[0].body_bytes, 5);
    }

    #[test]
    fn a_proxy_that_fails_to_start_reports_its_output() {
        let e = match Proxy::haproxy(
            "frontend fe\n    bind 127.0.0.1:${PORT_fe}\n    bogus\n",
            &[],
        ) {
            Ok(_) => panic!("haproxy started on a bad config"),
            Err(e) => e,
        };
        assert!(e.contains("exited") && e.contains("bogus"), "{e}");
    }

    #[test]
    fn every_scenario_file_parses() {
        let all = load_scenarios(&scenarios_dir()).unwrap();
        assert!(all.len() >= 8, "{} scenarios", all.len());
    }

    #[test]
    fn compare_names_the_first_difference() {
        let t = |status| Transcript {
            scenario: "s".into(),
            proxy: ProxyKind::Haproxy,
            replies: vec![Reply {
                step: "line 3: get fe /".into(),
                outcome: Outcome::Http(Response {
                    version: "HTTP/1.1".into(),
                    status,
                    reason: "x".into(),
                    headers: vec![],
                    body: vec![],
                    error: None,
                }),
            }],
            seen: vec![],
            peaks: vec![],
            health_requests: vec![],
            ignore_headers: vec![],
            stats_body: false,
            names: vec![],
        };
        assert!(compare(&t(200), &t(200)).is_ok());
        let e = compare(&t(200), &t(503)).unwrap_err();
        assert!(
            e.contains("line 2") && e.contains("reply 1 (line 3: get fe /)"),
            "{e}"
        );
    }
}
