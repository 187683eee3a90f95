//! Load-balancing algorithms: which server of a backend takes the next request.
//!
//! Pure and synchronous: no I/O, no clock, no locks. One [`Balancer`] per backend holds the
//! algorithm's state (round-robin positions, the consistent-hash ring, leastconn's order);
//! the caller owns it (behind its own lock or in its own task) and calls [`Balancer::pick`]
//! with a fresh view of the servers each time.
//!
//! ```text
//! Balancer::new(&balance, hash_type, allbackups)          once per backend (and on reload)
//! balancer.needs()  -> Need::{Nothing, ClientAddress, Uri, UriAndPostBody, Header(name)}
//! balancer.pick(&[Candidate], Key) -> Option<index>       per request / connection
//! ```
//!
//! Inputs: the IR's `balance`, `hash-type` and `option allbackups`; per pick, one
//! [`Candidate`] per server in declaration order (the same order and length every time), and
//! the [`Key`] that [`Balancer::needs`] asked for. Output: the index of the chosen server, or
//! `None` when no server can take it now (the caller queues the request, or answers 503 when
//! no server is up at all).
//!
//! Behaviour is HAProxy 2.6's, checked against the real haproxy's choices recorded by
//! `compat-tests/capture-balance.sh` in `compat-tests/data/balance/` (see the tests here):
//!
//! - Backup servers are considered only when no active server is usable (UP with a weight
//!   above 0). Then the first usable backup takes everything, or all of them share the load
//!   with `option allbackups`. (Map-based algorithms quirk, as HAProxy: without allbackups
//!   the map is `weight of the first backup` slots long but filled from all backups, so
//!   `static-rr` with backups weighted 2 and 3 alternates between them.)
//! - `roundrobin`: HAProxy's weighted, dynamic round robin (positions in a window of the total
//!   weight, with its exact interleaving); `static-rr` and map-based hashing: a table of
//!   `total weight / gcd` slots; `consistent`: a ring of `16 × weight` points per server
//!   placed by server id; `leastconn`: lowest `(connections + 1) / weight`, an idle server
//!   first, ties in the order the servers last changed load; `first`: lowest id not full;
//!   `random(draws)`: random points on the ring, the least loaded of the draws.
//! - A hash algorithm whose key is missing (no header, no parameter) falls back to round
//!   robin over its map (`static-rr`) or to a walk over its ring (consistent).
//!
//! Invariants: `pick` never panics, whatever the candidates; it returns an index into the
//! slice it was given. When the set of usable servers or a weight changes between picks,
//! the dynamic structures are rebuilt from scratch (HAProxy moves a single server instead, so
//! the interleaving right after a change may differ; the proportions do not). Map-based
//! algorithms keep the weights they first saw, as HAProxy ignores weight changes for them.

mod hash;
mod leastconn;
mod map;
mod ring;
mod wrr;

#[cfg(test)]
mod tests;

use rsproxy_parser::ir::haproxy::{Balance, HashFunction, HashMethod, HashType};
use std::net::IpAddr;

/// What the balancer needs to know about one server at pick time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The server's numeric id: orders `first` and places consistent-hash points. HAProxy
    /// gives a server without `id` its position counting from 1, or the next id after it
    /// that no server took (`s1 id 7, s2 id 3, s3` gives s3 the id 4).
    pub id: u32,
    /// Current effective user weight, 0..=256 (0: takes no load-balanced traffic).
    pub weight: u32,
    pub backup: bool,
    /// In the farm: UP (or going down but still checked up), not in maintenance or drain.
    pub up: bool,
    /// Takes no new connection now (at its maxconn, or has a queue). Full servers are
    /// skipped, except by hash algorithms, which queue on the hashed server.
    pub full: bool,
    /// Connections being served plus queued (leastconn, random).
    pub active: u32,
}

/// What the caller must extract for [`Balancer::pick`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need<'a> {
    Nothing,
    ClientAddress,
    /// The request target as received (`uri`, `url_param`).
    Uri,
    /// The request target, and for a POST whose URI lacks the parameter, the start of the
    /// body (`url_param NAME check_post`).
    UriAndPostBody,
    /// The whole value of the first occurrence of this header (case-insensitive name).
    Header(&'a str),
}

/// The request's key, as [`Balancer::needs`] asked. `Key::None` when it is absent (no such
/// header, not an HTTP request): hash algorithms then fall back to round robin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key<'a> {
    None,
    Source(IpAddr),
    Uri(&'a [u8]),
    UriAndBody { uri: &'a [u8], body: &'a [u8] },
    Header(&'a [u8]),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Algo {
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    Random {
        draws: u32,
    },
    Source,
    Uri {
        len: Option<u32>,
        depth: Option<u32>,
        whole: bool,
        path_only: bool,
    },
    UrlParam {
        name: Vec<u8>,
        check_post: bool,
    },
    Hdr {
        name: String,
        domain_only: bool,
    },
    /// `rdp-cookie`: rsproxy does not read RDP cookies, so it always falls back.
    KeyNeverPresent,
}

/// The servers eligible at a pick: HAProxy's active group, its first usable backup alone,
/// or all its backups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Group {
    Active,
    Backups,
    OnlyBackup(usize),
    Nobody,
}

impl Group {
    fn of(servers: &[Candidate], allbackups: bool) -> Group {
        let usable = |s: &&Candidate| s.up && s.weight > 0;
        if servers.iter().filter(usable).any(|s| !s.backup) {
            return Group::Active;
        }
        match servers.iter().position(|s| usable(&s) && s.backup) {
            None => Group::Nobody,
            Some(_) if allbackups => Group::Backups,
            Some(i) => Group::OnlyBackup(i),
        }
    }

    /// Whether server `s` belongs to the pool this group balances over.
    fn has(self, s: &Candidate) -> bool {
        s.up && s.weight > 0
            && match self {
                Group::Active => !s.backup,
                Group::Backups | Group::OnlyBackup(_) => s.backup,
                Group::Nobody => false,
            }
    }

    fn size(self, servers: &[Candidate]) -> usize {
        match self {
            Group::OnlyBackup(_) => 1,
            _ => servers.iter().filter(|s| self.has(s)).count(),
        }
    }
}

/// One backend's load-balancing state. See the module header.
#[derive(Clone, Debug)]
pub struct Balancer {
    algo: Algo,
    method: HashMethod,
    function: HashFunction,
    avalanche: bool,
    allbackups: bool,
    /// `(id, weight, backup, up)` of every server when the structures below were built.
    farm: Vec<(u32, u32, bool, bool)>,
    wrr: wrr::Wrr,
    map: map::Map,
    ring: ring::Ring,
    leastconn: leastconn::LeastConn,
    rng: u64,
}

impl Balancer {
    /// `hash_type` is the backend's `hash-type` (default `map-based sdbm`). Note that HAProxy
    /// reads `hash-type consistent` with no function as `consistent sdbm avalanche`.
    pub fn new(balance: &Balance, hash_type: Option<&HashType>, allbackups: bool) -> Self {
        let algo = match balance {
            Balance::RoundRobin => Algo::RoundRobin,
            Balance::StaticRr => Algo::StaticRr,
            Balance::LeastConn => Algo::LeastConn,
            Balance::First => Algo::First,
            Balance::Source => Algo::Source,
            Balance::Random { draws } => Algo::Random {
                draws: (*draws).max(1),
            },
            Balance::Uri {
                len,
                depth,
                whole,
                path_only,
            } => Algo::Uri {
                len: *len,
                depth: *depth,
                whole: *whole,
                path_only: *path_only,
            },
            Balance::UrlParam { param, check_post } => Algo::UrlParam {
                name: param.as_bytes().to_vec(),
                check_post: check_post.is_some(),
            },
            Balance::Hdr {
                name,
                use_domain_only,
            } => Algo::Hdr {
                name: name.clone(),
                domain_only: *use_domain_only,
            },
            Balance::RdpCookie { .. } => Algo::KeyNeverPresent,
        };
        let h = hash_type.copied().unwrap_or(HashType {
            method: HashMethod::MapBased,
            function: HashFunction::Sdbm,
            avalanche: false,
        });
        let seed = {
            use std::hash::{BuildHasher, Hasher};
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u64(0x5eed);
            hasher.finish()
        };
        Balancer {
            algo,
            method: h.method,
            function: h.function,
            avalanche: h.avalanche,
            allbackups,
            farm: Vec::new(),
            wrr: wrr::Wrr::default(),
            map: map::Map::default(),
            ring: ring::Ring::default(),
            leastconn: leastconn::LeastConn::default(),
            rng: seed,
        }
    }

    /// Seeds `random`'s generator, for reproducible tests.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = seed;
        self
    }

    /// What [`Balancer::pick`] wants as its key.
    pub fn needs(&self) -> Need<'_> {
        match &self.algo {
            Algo::Source => Need::ClientAddress,
            Algo::Uri { .. }
            | Algo::UrlParam {
                check_post: false, ..
            } => Need::Uri,
            Algo::UrlParam {
                check_post: true, ..
            } => Need::UriAndPostBody,
            Algo::Hdr { name, .. } => Need::Header(name),
            _ => Need::Nothing,
        }
    }

    /// The server for the next request, as an index into `servers`; `None` when none can
    /// take it now. `servers` lists every server of the backend in declaration order.
    pub fn pick(&mut self, servers: &[Candidate], key: Key<'_>) -> Option<usize> {
        self.refresh(servers);
        let group = Group::of(servers, self.allbackups);
        let consistent = self.method == HashMethod::Consistent;
        match &self.algo {
            Algo::RoundRobin => match group {
                Group::OnlyBackup(i) => Some(i),
                _ => self.wrr.pick(group, servers),
            },
            Algo::StaticRr => self.map.next(servers),
            Algo::LeastConn => self.leastconn.pick(group, servers),
            Algo::First => leastconn::first(group, servers),
            Algo::Random { draws } => {
                let draws = *draws;
                let rng = &mut self.rng;
                self.ring
                    .random(group, servers, draws, || (splitmix64(rng) >> 32) as u32)
            }
            _ => {
                let hash = if group.size(servers) == 1 {
                    // HAProxy does not hash when a single server is left
                    Some(0)
                } else {
                    self.hash_key(key)
                };
                match (hash, consistent) {
                    (Some(h), true) => self.ring.lookup(group, h),
                    (Some(h), false) => self.map.at(h),
                    (None, true) => self.ring.walk(group, servers),
                    (None, false) => self.map.next(servers),
                }
            }
        }
    }

    /// The hash of the request's key, `None` when the key is absent.
    fn hash_key(&self, key: Key<'_>) -> Option<u32> {
        let raw = match (&self.algo, key) {
            (Algo::Source, Key::Source(addr)) => hash::source(addr),
            (
                Algo::Uri {
                    len,
                    depth,
                    whole,
                    path_only,
                },
                Key::Uri(uri) | Key::UriAndBody { uri, .. },
            ) => hash::hash(
                self.function,
                hash::uri_key(uri, *len, *depth, *whole, *path_only),
            ),
            (Algo::UrlParam { name, check_post }, Key::Uri(uri) | Key::UriAndBody { uri, .. }) => {
                let body = match key {
                    Key::UriAndBody { body, .. } if *check_post => Some(body),
                    _ => None,
                };
                let value = hash::url_param(uri, name)
                    .or_else(|| body.and_then(|b| hash::post_param(b, name)))?;
                hash::hash(self.function, value)
            }
            (Algo::Hdr { domain_only, .. }, Key::Header(value)) => {
                let value = hash::header_first_value(value);
                if value.is_empty() {
                    return None;
                }
                let value = if *domain_only {
                    hash::domain_only(value)
                } else {
                    value
                };
                hash::hash(self.function, value)
            }
            _ => return None,
        };
        Some(if self.avalanche {
            hash::avalanche(raw)
        } else {
            raw
        })
    }

    /// Whether the farm is the same but for which servers are up.
    fn only_states_changed(&self, servers: &[Candidate]) -> bool {
        self.farm.len() == servers.len()
            && self
                .farm
                .iter()
                .zip(servers)
                .all(|(&(id, w, b, _), s)| (id, w, b) == (s.id, s.weight, s.backup))
    }

    /// Rebuilds the structures when the farm changed since the last pick.
    fn refresh(&mut self, servers: &[Candidate]) {
        let farm_changed = self.farm.len() != servers.len()
            || self
                .farm
                .iter()
                .zip(servers)
                .any(|(&(id, w, b, up), s)| (id, w, b, up) != (s.id, s.weight, s.backup, s.up));
        if farm_changed && self.algo == Algo::RoundRobin && self.only_states_changed(servers) {
            // A server going down or coming back moves the rotation on from where it is,
            // as HAProxy's does; a rebuild would start it over.
            for (i, s) in servers.iter().enumerate() {
                if self.farm[i].3 != s.up {
                    if s.up {
                        self.wrr.set_up(i);
                    } else {
                        self.wrr.set_down(i);
                    }
                }
            }
            self.farm = servers
                .iter()
                .map(|s| (s.id, s.weight, s.backup, s.up))
                .collect();
            return;
        }
        if farm_changed {
            self.farm = servers
                .iter()
                .map(|s| (s.id, s.weight, s.backup, s.up))
                .collect();
            let group = Group::of(servers, self.allbackups);
            match self.algo {
                Algo::RoundRobin => self.wrr = wrr::Wrr::new(servers),
                Algo::LeastConn | Algo::First => {}
                Algo::Random { .. } => self.ring = ring::Ring::new(group, servers),
                _ if self.method == HashMethod::Consistent => {
                    self.ring = ring::Ring::new(group, servers)
                }
                _ => self.map.rebuild(group, servers),
            }
        }
    }
}

/// SplitMix64: a small, fast, well-mixed generator for `random`'s draws.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
