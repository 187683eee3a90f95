//! Gratuitous ARPs and unsolicited NAs of one instance, on the interface of each floating
//! address (the instance's own, or a `virtual_ipaddress ... dev IFACE`), spaced as
//! `vrrp_garp_interval` / `vrrp_gna_interval` ask.
//!
//! As in keepalived, the spacing is per interface and per family (keepalived shares one
//! interface's timer between all its instances; here each instance has its own): one queue of pending
//! messages for each (interface, ARP or NA). With an interval of zero a burst leaves at
//! once; otherwise see [`Announcer::announce`]. The instance's loop calls
//! [`Announcer::flush`] by [`Announcer::next_due`], so advertisements are never held up
//! by a burst.

use super::net::{ArpSocket, NetError};
use super::vip::Link;
use std::net::IpAddr;
use std::time::{Duration, Instant};

struct Queue {
    /// Index into `Announcer::sockets`.
    socket: usize,
    interval: Duration,
    /// Addresses waiting for their turn, with their place in the instance's list.
    pending: Vec<(usize, IpAddr)>,
    /// When the next message may leave.
    next: Option<Instant>,
}

pub struct Announcer {
    sockets: Vec<ArpSocket>,
    /// Two per socket: ARP (even), NA (odd).
    queues: Vec<Queue>,
}

impl Announcer {
    /// One socket per distinct interface of `links`.
    pub fn open(
        links: &[&Link],
        garp_interval: Duration,
        gna_interval: Duration,
    ) -> Result<Announcer, NetError> {
        let mut sockets: Vec<ArpSocket> = Vec::new();
        let mut queues = Vec::new();
        for link in links {
            if sockets.iter().any(|s| s.link().index == link.index) {
                continue;
            }
            sockets.push(ArpSocket::open(link)?);
            for interval in [garp_interval, gna_interval] {
                queues.push(Queue {
                    socket: sockets.len() - 1,
                    interval,
                    pending: Vec::new(),
                    next: None,
                });
            }
        }
        Ok(Announcer { sockets, queues })
    }

    /// One burst: `repeat` rounds of one message per address (each on the interface with
    /// index `.1`), in the list's order.
    ///
    /// On an interface and family with an interval, keepalived 2.2.7 sends a message only
    /// when the interval since the last one has passed; otherwise the address is marked
    /// pending — once, however many rounds ask for it — and the pending addresses leave
    /// later one per interval, in the list's order. So with an interval a burst is the first
    /// address at once and then each address once (`repeat` 1: each address once): seen on
    /// the wire, and done the same way here.
    pub fn announce(
        &mut self,
        addrs: &[(IpAddr, u32)],
        repeat: u32,
        now: Instant,
    ) -> Result<(), NetError> {
        let mut result = Ok(());
        for _ in 0..repeat {
            for (pos, (addr, index)) in addrs.iter().enumerate() {
                let Some(s) = self.sockets.iter().position(|s| s.link().index == *index) else {
                    continue;
                };
                let Some(q) = self.queues.get_mut(2 * s + usize::from(addr.is_ipv6())) else {
                    continue;
                };
                let due = q.next.is_none_or(|t| t <= now);
                if q.interval.is_zero() || (due && q.pending.is_empty()) {
                    if let Some(s) = self.sockets.get(q.socket) {
                        if let Err(e) = s.send_one(*addr) {
                            result = Err(e);
                        }
                    }
                    if !q.interval.is_zero() {
                        q.next = Some(now + q.interval);
                    }
                } else if !q.pending.iter().any(|(_, a)| a == addr) {
                    q.pending.push((pos, *addr));
                }
            }
        }
        result.and(self.flush(now))
    }

    /// Sends every pending message that is due.
    pub fn flush(&mut self, now: Instant) -> Result<(), NetError> {
        let mut result = Ok(());
        for q in &mut self.queues {
            while q.next.is_none_or(|t| t <= now) {
                let Some(first) = q
                    .pending
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, (pos, _))| *pos)
                    .map(|(i, _)| i)
                else {
                    break;
                };
                let (_, addr) = q.pending.remove(first);
                if let Some(s) = self.sockets.get(q.socket) {
                    if let Err(e) = s.send_one(addr) {
                        result = Err(e);
                    }
                }
                // The interval is a least delay between two messages (never closer, even
                // after a late turn of the loop).
                q.next = Some(now + q.interval);
            }
        }
        result
    }

    /// When [`Announcer::flush`] has something to send next.
    pub fn next_due(&self) -> Option<Instant> {
        self.queues
            .iter()
            .filter(|q| !q.pending.is_empty())
            .filter_map(|q| q.next)
            .min()
    }

    /// Drops every message not sent yet (the addresses are going).
    pub fn clear(&mut self) {
        for q in &mut self.queues {
            q.pending.clear();
        }
    }
}
