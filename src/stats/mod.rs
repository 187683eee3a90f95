//! Traffic counters, kept as HAProxy keeps them for `show stat`: one [`Counters`] per
//! frontend, backend and server, updated with relaxed atomics on the data path (no lock, no
//! allocation), read by [`crate::runtime::State::stats`] as one [`StatRow`] per line of
//! HAProxy's `show stat`, in its order.
//!
//! What each field counts, as HAProxy 2.6 counts it (management guide, section 9.1):
//!
//! - `scur`/`smax`/`stot`: sessions now, at most, in total. For a frontend a session is a
//!   client connection; for a backend and a server it is one stream (one request in HTTP,
//!   one connection in TCP) that was given a server slot.
//! - `bin`/`bout`: bytes received from / sent to the clients (frontend), and sent to / received
//!   from the servers (backend, server). HAProxy counts the backend's bytes on the client side
//!   of each stream; rsproxy counts what crossed the server connections, so a header it adds
//!   (`X-Forwarded-For`) is included.
//! - `dreq`: requests denied by `http-request deny`; `ereq`: requests that could not be read
//!   (malformed, or `timeout http-request`).
//! - `econ`: requests that found no connection to a server after the retries; `eresp`: server
//!   responses that could not be used; `wretr`/`wredis`: retries and redispatches.
//! - `req_tot` and `hrsp_1xx`..`hrsp_other`: HTTP requests, and responses by status class.
//! - `lbtot`: times a server was chosen (by the balancer, a redispatch or the queue).
//! - `qcur`/`qmax`: requests waiting in the queue now, at most.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

pub mod csv;
pub mod page;
pub mod serve;

/// The counters of one frontend, backend or server.
#[derive(Debug, Default)]
pub struct Counters {
    cur: AtomicU32,
    max: AtomicU32,
    total: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    denied: AtomicU64,
    failed_requests: AtomicU64,
    failed_connections: AtomicU64,
    failed_responses: AtomicU64,
    retries: AtomicU64,
    redispatches: AtomicU64,
    requests: AtomicU64,
    /// Responses by status class: 1xx, 2xx, 3xx, 4xx, 5xx, other.
    responses: [AtomicU64; 6],
    selected: AtomicU64,
    queue_max: AtomicU32,
}

/// Leaves its session when dropped (also when the task carrying it is cancelled).
pub struct SessionGuard<'a>(&'a Counters);

impl Drop for SessionGuard<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// A copy of [`Counters`] at one moment, in `show stat`'s terms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub scur: u32,
    pub smax: u32,
    pub stot: u64,
    pub bin: u64,
    pub bout: u64,
    pub dreq: u64,
    pub ereq: u64,
    pub econ: u64,
    pub eresp: u64,
    pub wretr: u64,
    pub wredis: u64,
    pub req_tot: u64,
    /// `hrsp_1xx`, `hrsp_2xx`, `hrsp_3xx`, `hrsp_4xx`, `hrsp_5xx`, `hrsp_other`.
    pub hrsp: [u64; 6],
    pub lbtot: u64,
    pub qmax: u32,
}

impl Counters {
    /// All zero, usable in a `static`.
    pub const fn new_const() -> Self {
        Counters {
            cur: AtomicU32::new(0),
            max: AtomicU32::new(0),
            total: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            denied: AtomicU64::new(0),
            failed_requests: AtomicU64::new(0),
            failed_connections: AtomicU64::new(0),
            failed_responses: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            redispatches: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            responses: [
                AtomicU64::new(0),
                AtomicU64::new(0),
                AtomicU64::new(0),
                AtomicU64::new(0),
                AtomicU64::new(0),
                AtomicU64::new(0),
            ],
            selected: AtomicU64::new(0),
            queue_max: AtomicU32::new(0),
        }
    }

    /// A session starts (see the module documentation for what a session is where).
    pub fn enter(&self) {
        let now = self.cur.fetch_add(1, Relaxed).saturating_add(1);
        self.max.fetch_max(now, Relaxed);
        self.total.fetch_add(1, Relaxed);
    }

    /// [`Counters::enter`], and [`Counters::leave`] when the guard is dropped.
    pub fn session(&self) -> SessionGuard<'_> {
        self.enter();
        SessionGuard(self)
    }

    /// A session [`Counters::enter`]ed ends.
    pub fn leave(&self) {
        // Never below zero, whatever the order of updates.
        let _ = self
            .cur
            .fetch_update(Relaxed, Relaxed, |c| Some(c.saturating_sub(1)));
    }

    pub fn bytes(&self, received: u64, sent: u64) {
        if received > 0 {
            self.bytes_in.fetch_add(received, Relaxed);
        }
        if sent > 0 {
            self.bytes_out.fetch_add(sent, Relaxed);
        }
    }

    pub fn denied(&self) {
        self.denied.fetch_add(1, Relaxed);
    }

    pub fn failed_request(&self) {
        self.failed_requests.fetch_add(1, Relaxed);
    }

    pub fn failed_connection(&self) {
        self.failed_connections.fetch_add(1, Relaxed);
    }

    pub fn failed_response(&self) {
        self.failed_responses.fetch_add(1, Relaxed);
    }

    pub fn retry(&self) {
        self.retries.fetch_add(1, Relaxed);
    }

    pub fn redispatch(&self) {
        self.redispatches.fetch_add(1, Relaxed);
    }

    pub fn request(&self) {
        self.requests.fetch_add(1, Relaxed);
    }

    /// A response with this status went (frontend, backend) or came (server).
    pub fn response(&self, status: u16) {
        let class = match status {
            100..=199 => 0,
            200..=299 => 1,
            300..=399 => 2,
            400..=499 => 3,
            500..=599 => 4,
            _ => 5,
        };
        self.responses[class].fetch_add(1, Relaxed);
    }

    pub fn selected(&self) {
        self.selected.fetch_add(1, Relaxed);
    }

    /// A queue now holds `len` requests.
    pub fn queued(&self, len: usize) {
        self.queue_max
            .fetch_max(u32::try_from(len).unwrap_or(u32::MAX), Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        let r = |a: &AtomicU64| a.load(Relaxed);
        Snapshot {
            scur: self.cur.load(Relaxed),
            smax: self.max.load(Relaxed),
            stot: r(&self.total),
            bin: r(&self.bytes_in),
            bout: r(&self.bytes_out),
            dreq: r(&self.denied),
            ereq: r(&self.failed_requests),
            econ: r(&self.failed_connections),
            eresp: r(&self.failed_responses),
            wretr: r(&self.retries),
            wredis: r(&self.redispatches),
            req_tot: r(&self.requests),
            hrsp: std::array::from_fn(|i| r(&self.responses[i])),
            lbtot: r(&self.selected),
            qmax: self.queue_max.load(Relaxed),
        }
    }
}

/// What a row of `show stat` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Frontend,
    Backend,
    Server,
}

/// One line of HAProxy's `show stat`: a frontend, a server, or a backend's total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatRow {
    /// `pxname`: the proxy's name.
    pub proxy: String,
    /// `svname`: `FRONTEND`, `BACKEND` or the server's name.
    pub name: String,
    pub kind: RowKind,
    pub counters: Snapshot,
    /// `qcur`: requests waiting now (servers and backends).
    pub qcur: u32,
    /// `slim`: the session limit (`maxconn`), if any.
    pub slim: Option<u32>,
    /// `status`: `OPEN` (frontend); `UP`, `DOWN`, `UP 1/3` (going down), `DOWN 1/2` (going
    /// up), `MAINT`, `no check` (servers); `UP`/`DOWN` (backends).
    pub status: String,
    /// `weight`: the server's; for a backend, the sum of its active servers' (or, with none
    /// up, of the backups in use).
    pub weight: u32,
    /// `act`/`bck`: whether the server is active or backup; for a backend, how many of each
    /// are up.
    pub act: u32,
    pub bck: u32,
    /// `chkfail`: failed health checks; `chkdown`: UP→DOWN transitions.
    pub chkfail: u64,
    pub chkdown: u64,
    /// `lastchg`: seconds since the last UP/DOWN change (or since start).
    pub lastchg: u64,
}

impl StatRow {
    /// A frontend's row: always `OPEN`, no queue, no weight.
    pub fn frontend(name: &str, maxconn: Option<u32>, counters: Snapshot) -> Self {
        StatRow {
            proxy: name.to_string(),
            name: "FRONTEND".into(),
            kind: RowKind::Frontend,
            counters,
            qcur: 0,
            slim: maxconn,
            status: "OPEN".into(),
            weight: 0,
            act: 0,
            bck: 0,
            chkfail: 0,
            chkdown: 0,
            lastchg: 0,
        }
    }
}

/// A [`StatRow`] with what the plan says about its proxy or server, for the statistics page
/// (HTML and CSV).
#[derive(Debug, Clone)]
pub struct Line {
    pub row: StatRow,
    /// `mode http` (else tcp).
    pub http: bool,
    /// A backend's `balance` algorithm, as HAProxy names it.
    pub algo: Option<&'static str>,
    /// The server's id; 0 for a frontend or backend.
    pub sid: u32,
    /// The server's address.
    pub addr: Option<String>,
    /// The server's `cookie` value.
    pub cookie: Option<String>,
    /// A checked server's `rise` and `fall`.
    pub check: Option<(u32, u32)>,
    /// The server's `maxqueue`.
    pub qlimit: Option<u32>,
    pub backup: bool,
}

/// Every proxy in the configuration's order, where the statistics page finds its
/// frontends' plans (the counters and backends are in [`crate::proxy::http::Shared`]).
#[derive(Debug, Default)]
pub struct Listing {
    /// Indices into the frontends and backends (a `listen` has both).
    pub proxies: Vec<(Option<usize>, Option<usize>)>,
    pub frontends: Vec<std::sync::Arc<crate::plan::Frontend>>,
    /// When the runtime started (seconds, as [`crate::proxy::now_secs`]).
    pub started: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// description: sessions count now / at most / in total; responses by class.
    #[test]
    fn sessions_and_status_classes() {
        let c = Counters::default();
        c.enter();
        c.enter();
        c.leave();
        c.enter();
        c.leave();
        c.leave();
        c.leave(); // one too many: stays at zero
        for s in [200, 204, 301, 404, 503, 503, 42] {
            c.response(s);
        }
        let s = c.snapshot();
        assert_eq!((s.scur, s.smax, s.stot), (0, 2, 3));
        assert_eq!(s.hrsp, [0, 2, 1, 1, 2, 1]);
    }
}
