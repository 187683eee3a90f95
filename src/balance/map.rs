//! The static map behind `static-rr` and map-based hashing (`hash-type map-based`).
//!
//! Weights are divided by their greatest common divisor (over all servers, backups
//! included, as first seen: HAProxy ignores later weight changes for static algorithms);
//! the map has one slot per unit of the group's total weight. Slots are dealt by a score:
//! each server adds its weight at every slot, the highest score (first declared on ties) takes
//! the slot and pays the total. `static-rr` walks the map; a hash picks `map[hash % total]`.

use super::{Candidate, Group};

#[derive(Clone, Debug, Default)]
pub struct Map {
    /// Weights divided by their gcd, frozen at the first build.
    weights: Vec<u32>,
    /// Server index per slot; its length is the group's total weight.
    slots: Vec<usize>,
    /// The next slot `static-rr` looks at.
    rr_index: usize,
}

impl Map {
    /// Recomputes the map for the servers usable now (the round-robin index is kept).
    pub fn rebuild(&mut self, group: Group, servers: &[Candidate]) {
        if self.weights.len() != servers.len() {
            let gcd = servers
                .iter()
                .map(|s| s.weight)
                .filter(|&w| w > 0)
                .fold(0, gcd);
            self.weights = servers.iter().map(|s| s.weight / gcd.max(1)).collect();
        }
        let members: Vec<usize> = (0..servers.len())
            .filter(|&i| group.has(&servers[i]) && self.weights[i] > 0)
            .collect();
        let total: i64 = match group {
            Group::Nobody => 0,
            // the first usable backup's weight, but the slots are dealt among all backups
            Group::OnlyBackup(i) => i64::from(self.weights[i]),
            Group::Active | Group::Backups => {
                members.iter().map(|&i| i64::from(self.weights[i])).sum()
            }
        };
        self.slots.clear();
        if total == 1 {
            self.slots.extend(members.first());
            return;
        }
        let mut score = vec![0i64; servers.len()];
        for _ in 0..total {
            let mut best: Option<(usize, i64)> = None;
            for &i in &members {
                score[i] += i64::from(self.weights[i]);
                let v = (score[i] + total) / total;
                if best.is_none_or(|(_, max)| v > max) {
                    best = Some((i, v));
                }
            }
            if let Some((i, _)) = best {
                score[i] -= total;
                self.slots.push(i);
            }
        }
    }

    /// `map[hash % total]`.
    pub fn at(&self, hash: u32) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        self.slots.get(hash as usize % self.slots.len()).copied()
    }

    /// The next slot whose server is not full, round robin.
    pub fn next(&mut self, servers: &[Candidate]) -> Option<usize> {
        let total = self.slots.len();
        if total == 0 {
            return None;
        }
        if self.rr_index >= total {
            self.rr_index = 0;
        }
        let start = self.rr_index;
        let mut index = start;
        loop {
            let server = self.slots[index];
            index += 1;
            if !servers.get(server).is_none_or(|s| s.full) {
                self.rr_index = index;
                return Some(server);
            }
            if index == total {
                index = 0;
            }
            if index == start {
                return None;
            }
        }
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}
