//! Health checks: one task per checked server.
//!
//! A check is a TCP connect, or with `option httpchk` an HTTP request (built by the plan from
//! `option httpchk` and `http-check send`) whose response must meet `http-check expect`
//! (default: a 2xx or 3xx status); [`response`] judges the response. The result feeds HAProxy's counting: a server
//! starts UP; `fall` consecutive failures take it DOWN, then `rise` consecutive successes
//! bring it back. Checks run every `inter`, every `fastinter` while the server is changing
//! state, and every `downinter` while it is DOWN. The state is published in the server's
//! atomic, which the balancer reads on every pick.
//!
//! [`Health::on_result`] is the pure state machine; [`run`] does the I/O.

mod response;

use crate::plan::{Check, Server};
use crate::proxy::BackendState;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server's check counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub up: bool,
    /// Consecutive results against the current state (failures while UP, successes while
    /// DOWN).
    pub streak: u32,
}

impl Health {
    pub fn new() -> Self {
        Health {
            up: true,
            streak: 0,
        }
    }

    /// Counts one check result; returns whether the state changed.
    pub fn on_result(&mut self, ok: bool, check: &Check) -> bool {
        if ok == self.up {
            self.streak = 0;
            return false;
        }
        self.streak += 1;
        let needed = if self.up { check.fall } else { check.rise };
        if self.streak >= needed {
            self.up = !self.up;
            self.streak = 0;
            return true;
        }
        false
    }

    /// How long to wait before the next check.
    pub fn interval(&self, check: &Check) -> Duration {
        match (self.up, self.streak) {
            (_, s) if s > 0 => check.fastinter,
            (true, _) => check.inter,
            (false, _) => check.downinter,
        }
    }
}

impl Default for Health {
    fn default() -> Self {
        Self::new()
    }
}

/// Checks server `index` of `backend` forever, publishing its state there.
pub async fn run(server: Server, check: Check, backend: &BackendState, index: usize) {
    let mut health = Health::new();
    loop {
        tokio::time::sleep(health.interval(&check)).await;
        let ok = probe(&server, &check).await;
        let was_up = health.up;
        let changed = health.on_result(ok, &check);
        if let Some(s) = backend.servers.get(index) {
            // `chkfail`, as HAProxy counts it: failed checks of a server that was up (those
            // of a server already down change nothing).
            if !ok && was_up {
                s.checks_failed.fetch_add(1, Ordering::Relaxed);
            }
            s.streak.store(health.streak, Ordering::Relaxed);
        }
        if changed {
            backend.set_up(index, health.up);
            eprintln!(
                "[WARNING]  ({}) : Server {}/{} is {}.",
                std::process::id(),
                backend.plan.name,
                server.name,
                if health.up { "UP" } else { "DOWN" }
            );
        }
    }
}

async fn probe(server: &Server, check: &Check) -> bool {
    let mut addr = server.addr(0);
    if let Some(ip) = check.addr {
        addr.set_ip(ip);
    }
    if let Some(p) = check.port {
        addr.set_port(p);
    }
    let timeout = check.timeout.unwrap_or(check.inter);
    let attempt = async {
        let mut s = TcpStream::connect(addr).await.ok()?;
        let Some(http) = &check.http else {
            return Some(true);
        };
        s.write_all(&http.request).await.ok()?;
        // Read until the response decides, bounded (see `response`): a server that sends
        // more than HAProxy would look at is judged on what HAProxy would see.
        let mut buf = Vec::with_capacity(4096);
        loop {
            let eof = buf.len() >= response::READ_LIMIT
                || match s.read_buf(&mut buf).await {
                    Ok(0) | Err(_) => true,
                    Ok(_) => false,
                };
            let room = response::READ_LIMIT.saturating_sub(buf.len());
            buf.reserve(room.min(16384));
            if let Some(verdict) = response::evaluate(http, &buf, eof) {
                return Some(verdict);
            }
            if eof {
                return Some(false);
            }
        }
    };
    matches!(tokio::time::timeout(timeout, attempt).await, Ok(Some(true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(rise: u32, fall: u32) -> Check {
        Check {
            addr: None,
            port: None,
            inter: Duration::from_secs(2),
            fastinter: Duration::from_millis(500),
            downinter: Duration::from_secs(5),
            rise,
            fall,
            timeout: None,
            http: None,
        }
    }

    /// description: results → (state, interval) as HAProxy counts them with rise 2, fall 3.
    #[test]
    fn rise_and_fall_counting() {
        let c = check(2, 3);
        let mut h = Health::new();
        let table: &[(bool, bool, u64)] = &[
            // (result, UP after it, next interval ms)
            (false, true, 500),
            (false, true, 500),
            (false, false, 5000), // third failure: DOWN
            (true, false, 500),
            (false, false, 5000), // streak broken
            (true, false, 500),
            (true, true, 2000), // second success: UP
        ];
        for (i, (ok, up, next)) in table.iter().enumerate() {
            h.on_result(*ok, &c);
            assert_eq!(
                (h.up, h.interval(&c).as_millis() as u64),
                (*up, *next),
                "step {i}"
            );
        }
    }
}
