//! `roundrobin`: HAProxy's weighted, dynamic round robin.
//!
//! Each group (actives, backups) runs a window as wide as its total effective weight
//! (`16 × weight` per server). A server due at window position `npos` is served when the
//! window's cursor reaches it, then moves `total / weight` positions further (the remainder
//! carried in `rweight` so that it advances exactly `total` every `weight` turns). Servers
//! wait in three ordered sets: `current` (by position, heavier first on ties), and `init` /
//! `next` (by weight, heavier first) for servers that join or whose next turn falls beyond the
//! window; when `current` runs dry the window restarts and `init` and `next` swap.
//! Servers found full are passed over and requeued as if served.

use super::{Candidate, Group};
use std::collections::BTreeMap;

const WEIGHT_SCALE: u32 = 16;
const EWEIGHT_MAX: u32 = 256 * WEIGHT_SCALE;
const UWEIGHT_RANGE: u32 = 256;

/// Ordered by `(key, stamp)`: equal keys in insertion order.
type Queue = BTreeMap<(u32, u64), usize>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum Place {
    #[default]
    Nowhere,
    Current((u32, u64)),
    Tree(usize, (u32, u64)),
}

#[derive(Clone, Debug, Default)]
struct Server {
    eweight: u32,
    usable: bool,
    group: usize,
    npos: u32,
    rweight: u32,
    place: Place,
}

#[derive(Clone, Debug, Default)]
struct Window {
    current: Queue,
    trees: [Queue; 2],
    /// Which of `trees` is `init`; the other is `next`.
    init: usize,
    curr_weight: u32,
    next_weight: u32,
    curr_pos: u32,
}

#[derive(Clone, Debug, Default)]
pub struct Wrr {
    servers: Vec<Server>,
    windows: [Window; 2],
    stamp: u64,
}

impl Wrr {
    pub fn new(candidates: &[Candidate]) -> Wrr {
        let mut wrr = Wrr::default();
        for c in candidates {
            wrr.servers.push(Server {
                eweight: c.weight.min(256) * WEIGHT_SCALE,
                usable: c.up && c.weight > 0,
                group: usize::from(c.backup),
                ..Server::default()
            });
        }
        for i in 0..wrr.servers.len() {
            if wrr.servers[i].usable {
                let g = wrr.servers[i].group;
                let w = &mut wrr.windows[g];
                w.next_weight += wrr.servers[i].eweight;
                let init = w.init;
                wrr.insert_by_weight(i, init);
            }
        }
        for w in &mut wrr.windows {
            w.curr_weight = w.next_weight;
            w.curr_pos = w.next_weight;
        }
        wrr
    }

    fn next_stamp(&mut self) -> u64 {
        self.stamp += 1;
        self.stamp
    }

    fn insert_by_weight(&mut self, i: usize, tree: usize) {
        let key = (EWEIGHT_MAX - self.servers[i].eweight, self.next_stamp());
        let g = self.servers[i].group;
        self.windows[g].trees[tree].insert(key, i);
        self.servers[i].place = Place::Tree(tree, key);
    }

    fn remove(&mut self, i: usize) {
        let g = self.servers[i].group;
        match std::mem::take(&mut self.servers[i].place) {
            Place::Nowhere => {}
            Place::Current(k) => {
                self.windows[g].current.remove(&k);
            }
            Place::Tree(t, k) => {
                self.windows[g].trees[t].remove(&k);
            }
        }
    }

    /// Puts server `i` back after its turn: into `current` at its next position, or into
    /// `next` when that position is beyond the window.
    fn requeue(&mut self, i: usize) {
        self.remove(i);
        let s = &self.servers[i];
        if !s.usable {
            return;
        }
        let w = &self.windows[s.group];
        if s.eweight == 0
            || s.npos >= w.curr_weight.wrapping_mul(2)
            || s.npos >= w.curr_weight.wrapping_add(w.next_weight)
        {
            let next = 1 - w.init;
            self.servers[i].npos = s.npos.wrapping_sub(w.curr_weight);
            self.insert_by_weight(i, next);
        } else {
            let key = UWEIGHT_RANGE
                .wrapping_mul(s.npos)
                .wrapping_add((EWEIGHT_MAX + s.rweight).saturating_sub(s.eweight) / WEIGHT_SCALE);
            let key = (key, self.next_stamp());
            let g = self.servers[i].group;
            self.windows[g].current.insert(key, i);
            self.servers[i].place = Place::Current(key);
        }
    }

    /// The first server of `current` if its turn has come, else one joining from `init`,
    /// else whatever `current` holds.
    fn candidate(&mut self, g: usize) -> Option<usize> {
        let w = &self.windows[g];
        let first = w.current.values().next().copied();
        if let Some(i) = first {
            let s = &self.servers[i];
            if s.eweight > 0 && s.npos <= w.curr_pos {
                return Some(i);
            }
        }
        if let Some(&j) = w.trees[w.init].values().next() {
            if self.servers[j].eweight > 0 {
                self.remove(j);
                self.servers[j].npos = 0;
                self.servers[j].rweight = 0;
                return Some(j);
            }
        }
        first
    }

    fn advance(&mut self, g: usize, i: usize) {
        let (curr_pos, next_weight) = (self.windows[g].curr_pos, self.windows[g].next_weight);
        let s = &mut self.servers[i];
        if s.eweight == 0 {
            return;
        }
        if s.npos == 0 {
            s.npos = curr_pos;
        }
        s.npos = s.npos.wrapping_add(next_weight / s.eweight);
        s.rweight += next_weight % s.eweight;
        if s.rweight >= s.eweight {
            s.rweight -= s.eweight;
            s.npos = s.npos.wrapping_add(1);
        }
    }

    /// Server `i` leaves the farm (down by its checks, in maintenance): it is taken out of
    /// the sets and its group's next window no longer counts its weight. The others keep
    /// their places, as in HAProxy, so the rotation goes on where it was.
    pub fn set_down(&mut self, i: usize) {
        let Some(s) = self.servers.get(i) else { return };
        if !s.usable {
            return;
        }
        let (g, eweight) = (s.group, s.eweight);
        self.remove(i);
        self.servers[i].usable = false;
        let w = &mut self.windows[g];
        w.next_weight = w.next_weight.saturating_sub(eweight);
    }

    /// Server `i` joins the farm again: its group's next window counts it, and it enters the
    /// current one at the share of the window still ahead that its weight gives it, as in
    /// HAProxy (a server coming back is not served at once, nor last).
    pub fn set_up(&mut self, i: usize) {
        let Some(s) = self.servers.get(i) else { return };
        if s.usable || s.eweight == 0 {
            return;
        }
        let (g, eweight) = (s.group, s.eweight);
        self.servers[i].usable = true;
        let w = &mut self.windows[g];
        w.next_weight += eweight;
        let ahead = w
            .next_weight
            .wrapping_add(w.curr_weight)
            .wrapping_sub(w.curr_pos);
        self.servers[i].npos = w.curr_pos.wrapping_add(ahead / eweight);
        self.servers[i].rweight = 0;
        self.requeue(i);
    }

    pub fn pick(&mut self, group: Group, candidates: &[Candidate]) -> Option<usize> {
        let g = match group {
            Group::Active => 0,
            Group::Backups => 1,
            Group::OnlyBackup(i) => return Some(i),
            Group::Nobody => return None,
        };
        let is_full = |i: usize| candidates.get(i).is_none_or(|c| c.full);
        let mut switched = false;
        let mut passed_over = Vec::new();
        let mut chosen = None;
        // each turn removes one server from the sets, so this ends; the bound is a guard
        for _ in 0..=2 * self.servers.len() + 2 {
            let w = &mut self.windows[g];
            if w.curr_weight == 0 {
                w.curr_weight = w.next_weight;
                w.curr_pos = w.next_weight;
            }
            let found = loop {
                if let Some(i) = self.candidate(g) {
                    break Some(i);
                }
                if switched {
                    break None;
                }
                switched = true;
                let w = &mut self.windows[g];
                w.init = 1 - w.init;
                w.curr_weight = w.next_weight;
                w.curr_pos = w.curr_weight;
            };
            let Some(i) = found else { break };
            self.advance(g, i);
            self.remove(i);
            let w = &mut self.windows[g];
            w.curr_pos = w.curr_pos.wrapping_add(1);
            if !is_full(i) {
                chosen = Some(i);
                break;
            }
            passed_over.push(i);
        }
        if let Some(i) = chosen {
            self.requeue(i);
        }
        for i in passed_over {
            if switched {
                let init = self.windows[g].init;
                self.insert_by_weight(i, init);
            } else {
                self.requeue(i);
            }
        }
        chosen
    }
}
