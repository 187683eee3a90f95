//! `leastconn` and `first`.
//!
//! leastconn orders the group's servers by a load key, `0` when idle, else
//! `(connections + 1) × 4096 / (16 × weight)`, and takes the first that is not full. Servers
//! with equal keys are taken in the order their key last changed (HAProxy's tree keeps
//! duplicates first-in first-out), which makes sequential short requests round robin.
//! The caller's `active` counts must include the connections this balancer handed out.
//!
//! `first` takes the usable server with the lowest id that is not full.

use super::{Candidate, Group};

#[derive(Clone, Copy, Debug, Default)]
struct Place {
    queued: bool,
    key: u32,
    /// When the key last changed: orders equal keys.
    stamp: u64,
}

#[derive(Clone, Debug, Default)]
pub struct LeastConn {
    places: Vec<Place>,
    clock: u64,
}

fn load_key(active: u32, weight: u32) -> u32 {
    if active == 0 || weight == 0 {
        return 0;
    }
    let key = (u64::from(active) + 1) * 4096 / (u64::from(weight) * 16);
    u32::try_from(key).unwrap_or(u32::MAX)
}

impl LeastConn {
    fn requeue(&mut self, i: usize, active: u32, weight: u32) {
        let key = load_key(active, weight);
        let place = &mut self.places[i];
        if !place.queued || place.key != key {
            self.clock += 1;
            *place = Place {
                queued: true,
                key,
                stamp: self.clock,
            };
        }
    }

    pub fn pick(&mut self, group: Group, servers: &[Candidate]) -> Option<usize> {
        if self.places.len() != servers.len() {
            self.places = vec![Place::default(); servers.len()];
        }
        for (i, s) in servers.iter().enumerate() {
            if s.up && s.weight > 0 {
                self.requeue(i, s.active, s.weight);
            } else {
                self.places[i].queued = false;
            }
        }
        let chosen = match group {
            Group::OnlyBackup(i) => Some(i),
            Group::Nobody => None,
            Group::Active | Group::Backups => (0..servers.len())
                .filter(|&i| group.has(&servers[i]) && !servers[i].full)
                .min_by_key(|&i| (self.places[i].key, self.places[i].stamp)),
        }?;
        let s = &servers[chosen];
        if self.places[chosen].queued {
            self.requeue(chosen, s.active.saturating_add(1), s.weight);
        }
        Some(chosen)
    }
}

/// `balance first`.
pub fn first(group: Group, servers: &[Candidate]) -> Option<usize> {
    match group {
        Group::OnlyBackup(i) => Some(i),
        _ => (0..servers.len())
            .filter(|&i| group.has(&servers[i]) && !servers[i].full)
            .min_by_key(|&i| servers[i].id),
    }
}
