//! The consistent-hash ring (`hash-type consistent`, and `random`).
//!
//! Each usable server of the group owns `16 × weight` points; point `n` of the server with
//! id `id` sits at `avalanche(id × 4096 + n)`. A hash goes to the nearer of the points
//! around it (the one before on a tie). Without a key, requests walk the ring point by point.

use super::{hash::avalanche, Candidate, Group};

const POINTS_PER_WEIGHT: u32 = 16;
const ID_STRIDE: u32 = 256 * POINTS_PER_WEIGHT;

#[derive(Clone, Debug, Default)]
pub struct Ring {
    /// `(position, server index)`, sorted by position, equal positions in insertion order.
    points: Vec<(u32, usize)>,
    /// The last point the key-less walk used.
    last: Option<usize>,
}

impl Ring {
    pub fn new(group: Group, servers: &[Candidate]) -> Ring {
        let mut points = Vec::new();
        if matches!(group, Group::Active | Group::Backups) {
            for (i, s) in servers.iter().enumerate().filter(|(_, s)| group.has(s)) {
                let base = s.id.wrapping_mul(ID_STRIDE);
                for n in 0..s.weight.min(256) * POINTS_PER_WEIGHT {
                    points.push((avalanche(base.wrapping_add(n)), i));
                }
            }
        }
        points.sort_by_key(|&(position, _)| position); // stable: ties keep insertion order
        Ring { points, last: None }
    }

    /// The server owning the point nearest to `hash`.
    pub fn lookup(&self, group: Group, hash: u32) -> Option<usize> {
        if let Group::OnlyBackup(i) = group {
            return Some(i);
        }
        let n = self.points.len();
        if n == 0 {
            return None;
        }
        let next = self.points.partition_point(|&(p, _)| p < hash) % n;
        let prev = (next + n - 1) % n;
        let (next_pos, next_srv) = self.points[next];
        let (prev_pos, prev_srv) = self.points[prev];
        let to_prev = hash.wrapping_sub(prev_pos);
        let to_next = next_pos.wrapping_sub(hash);
        Some(if to_prev <= to_next {
            prev_srv
        } else {
            next_srv
        })
    }

    /// The key-less fallback: the next point after the last one used whose server is not
    /// full. A walk that starts afresh looks at the first point only.
    pub fn walk(&mut self, group: Group, servers: &[Candidate]) -> Option<usize> {
        if let Group::OnlyBackup(i) = group {
            return Some(i);
        }
        let n = self.points.len();
        if n == 0 {
            return None;
        }
        let mut stop = self.last.filter(|&l| l < n);
        let mut node = stop;
        for _ in 0..n {
            let next = match node {
                Some(p) if p + 1 < n => p + 1,
                _ => 0,
            };
            node = Some(next);
            self.last = node;
            if stop.is_none() {
                stop = node;
            }
            let server = self.points[next].1;
            if !servers.get(server).is_none_or(|s| s.full) {
                return Some(server);
            }
            if node == stop {
                break;
            }
        }
        None
    }

    /// `random(draws)`: `draws` random points; the least loaded (connections / weight) of
    /// their servers, the earlier draw on ties; `None` if it is full.
    pub fn random(
        &self,
        group: Group,
        servers: &[Candidate],
        draws: u32,
        mut next_u32: impl FnMut() -> u32,
    ) -> Option<usize> {
        let mut best: Option<usize> = None;
        for _ in 0..draws.max(1) {
            let drawn = self.lookup(group, next_u32())?;
            best = match best {
                Some(prev) if prev != drawn => {
                    let (p, c) = (&servers[prev], &servers[drawn]);
                    let more_loaded = u64::from(c.active) * u64::from(p.weight)
                        > u64::from(p.active) * u64::from(c.weight);
                    Some(if more_loaded { prev } else { drawn })
                }
                _ => Some(drawn),
            };
        }
        best.filter(|&i| !servers[i].full)
    }
}
