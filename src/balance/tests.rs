//! Replays of the real HAProxy's decisions (compat-tests/data/balance/, captured by
//! compat-tests/capture-balance.sh; the format is described there): each scenario's config
//! lines build a [`Balancer`], each request line is picked again and must give the same
//! server. Then the properties of `random`, which HAProxy cannot reproduce.

use super::*;
use rsproxy_parser::ir::haproxy::{Balance, HashFunction, HashMethod, HashType};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("compat-tests/data/balance")
}

/// A server line of a scenario: `# server NAME [weight N] [backup] [maxconn N] [id N]`.
struct ServerLine {
    name: String,
    weight: u32,
    backup: bool,
    maxconn: Option<u32>,
    id: Option<u32>,
}

struct Scenario {
    kind: String,
    balance: Balance,
    hash_type: Option<HashType>,
    allbackups: bool,
    servers: Vec<ServerLine>,
    /// `(key or operation, expected server name)`.
    lines: Vec<(String, String)>,
}

fn num(words: &[&str], at: usize) -> u32 {
    words[at].parse().expect("a number")
}

/// The few config lines the scenarios use, read as HAProxy reads them.
fn parse_balance(words: &[&str]) -> Balance {
    let algo = words[1];
    let flag = |f: &str| words.contains(&f);
    let arg = |f: &str| {
        words
            .iter()
            .position(|w| *w == f)
            .map(|i| num(words, i + 1))
    };
    match algo {
        "roundrobin" => Balance::RoundRobin,
        "static-rr" => Balance::StaticRr,
        "leastconn" => Balance::LeastConn,
        "first" => Balance::First,
        "source" => Balance::Source,
        "random" => Balance::Random { draws: 2 },
        "uri" => Balance::Uri {
            len: arg("len"),
            depth: arg("depth"),
            whole: flag("whole"),
            path_only: flag("path-only"),
        },
        "url_param" => Balance::UrlParam {
            param: words[2].to_string(),
            check_post: flag("check_post").then_some(0),
        },
        _ => Balance::Hdr {
            name: algo["hdr(".len()..algo.len() - 1].to_string(),
            use_domain_only: flag("use_domain_only"),
        },
    }
}

fn parse_hash_type(words: &[&str]) -> HashType {
    let method = match words[1] {
        "consistent" => HashMethod::Consistent,
        _ => HashMethod::MapBased,
    };
    let function = match words.get(2).copied() {
        Some("djb2") => HashFunction::Djb2,
        Some("wt6") => HashFunction::Wt6,
        Some("crc32") => HashFunction::Crc32,
        _ => HashFunction::Sdbm,
    };
    // HAProxy: `hash-type consistent` without a function means `consistent sdbm avalanche`
    let avalanche =
        words.contains(&"avalanche") || (words.len() == 2 && method == HashMethod::Consistent);
    HashType {
        method,
        function,
        avalanche,
    }
}

fn load(name: &str) -> Scenario {
    let text = std::fs::read_to_string(data_dir().join(format!("{name}.txt"))).expect(name);
    let mut s = Scenario {
        kind: String::new(),
        balance: Balance::RoundRobin,
        hash_type: None,
        allbackups: false,
        servers: Vec::new(),
        lines: Vec::new(),
    };
    for line in text.lines() {
        let Some(comment) = line.strip_prefix("# ") else {
            let (key, server) = line.split_once('\t').unwrap_or(("", line));
            s.lines.push((key.to_string(), server.to_string()));
            continue;
        };
        let words: Vec<&str> = comment.split_whitespace().collect();
        match words.first().copied() {
            Some("scenario:") => {
                s.kind = words[2]
                    .trim_matches(|c| c == '(' || c == ')' || c == ',')
                    .to_string()
            }
            Some("balance") => s.balance = parse_balance(&words),
            Some("hash-type") => s.hash_type = Some(parse_hash_type(&words)),
            Some("option") if words[1] == "allbackups" => s.allbackups = true,
            Some("server") => {
                let opt = |f: &str| {
                    words
                        .iter()
                        .position(|w| *w == f)
                        .map(|i| num(&words, i + 1))
                };
                s.servers.push(ServerLine {
                    name: words[1].to_string(),
                    weight: opt("weight").unwrap_or(1),
                    backup: words.contains(&"backup"),
                    maxconn: opt("maxconn"),
                    id: opt("id"),
                });
            }
            _ => {}
        }
    }
    s
}

/// Server ids as HAProxy assigns them: a server without `id` takes its position (from 1),
/// or the next free id after it (`s1 id 7, s2 id 3, s3` gives s3 the id 4, not 1).
fn ids(servers: &[ServerLine]) -> Vec<u32> {
    let mut used: BTreeSet<u32> = servers.iter().filter_map(|s| s.id).collect();
    let mut next = 0;
    let mut ids = Vec::new();
    for s in servers {
        next += 1;
        if let Some(id) = s.id {
            ids.push(id);
            continue;
        }
        while used.contains(&next) {
            next += 1;
        }
        used.insert(next);
        ids.push(next);
    }
    ids
}

/// Replays scenario `name` and asserts every decision.
fn replay(name: &str) {
    let s = load(name);
    let ids = ids(&s.servers);
    let mut active = vec![0u32; s.servers.len()];
    let mut held: Vec<Option<usize>> = Vec::new();
    let mut balancer = Balancer::new(&s.balance, s.hash_type.as_ref(), s.allbackups);
    for (n, (key, expected)) in s.lines.iter().enumerate() {
        let candidates: Vec<Candidate> = s
            .servers
            .iter()
            .enumerate()
            .map(|(i, srv)| Candidate {
                id: ids[i],
                weight: srv.weight,
                backup: srv.backup,
                up: true,
                full: srv.maxconn.is_some_and(|m| active[i] >= m),
                active: active[i],
            })
            .collect();
        if let Some(k) = key.strip_prefix("close ") {
            let k: usize = k.parse().expect("close K");
            if let Some(i) = held[k - 1] {
                active[i] -= 1;
            }
            continue;
        }
        let request = match s.kind.as_str() {
            "uri" => Key::Uri(key.as_bytes()),
            "hdr" if key == "-" => Key::None,
            "hdr" => Key::Header(key.as_bytes()),
            "src" => Key::Source(key.parse().expect("an address")),
            _ => Key::None,
        };
        let got = balancer.pick(&candidates, request);
        let got_name = got.map_or("?", |i| s.servers[i].name.as_str());
        assert_eq!(
            got_name,
            expected,
            "{name}: request {} (key {key:?})",
            n + 1
        );
        if s.kind == "held" {
            held.push(got);
            if let Some(i) = got {
                active[i] += 1;
            }
        }
    }
}

macro_rules! scenarios {
    ($($test:ident => $file:literal,)*) => {
        $( #[test] fn $test() { replay($file) } )*
        const SCENARIOS: &[&str] = &[$($file),*];
    };
}

// Every captured scenario: HAProxy 2.6.12's choice for each request, reproduced exactly.
scenarios! {
    first_held => "first-held",
    first_seq => "first-seq",
    hdr_consistent => "hdr-consistent",
    hdr_domain_crc32 => "hdr-domain-crc32",
    hdr_domain => "hdr-domain",
    hdr_sdbm => "hdr-sdbm",
    lc_held_3 => "lc-held-3",
    lc_held => "lc-held",
    lc_seq => "lc-seq",
    param_consistent => "param-consistent",
    param_fallback_consistent => "param-fallback-consistent",
    param_fallback_weights => "param-fallback-weights",
    param_sdbm => "param-sdbm",
    rr_1_1_2 => "rr-1-1-2",
    rr_1_1 => "rr-1-1",
    rr_10_7_1_1 => "rr-10-7-1-1",
    rr_2_3 => "rr-2-3",
    rr_256_1 => "rr-256-1",
    rr_3_1 => "rr-3-1",
    rr_5_3_2 => "rr-5-3-2",
    rr_held_maxconn => "rr-held-maxconn",
    rr_allbackups => "rr-allbackups",
    rr_backup_unused => "rr-backup-unused",
    rr_backup => "rr-backup",
    rr_default => "rr-default",
    rr_w0 => "rr-w0",
    src_consistent_ids => "src-consistent-ids",
    src_consistent_sdbm => "src-consistent-sdbm",
    src_consistent => "src-consistent",
    src_map_avalanche => "src-map-avalanche",
    src_map_weights => "src-map-weights",
    src_map => "src-map",
    srr_1_1_2 => "srr-1-1-2",
    srr_1_1 => "srr-1-1",
    srr_2_3 => "srr-2-3",
    srr_3_1 => "srr-3-1",
    srr_4_6 => "srr-4-6",
    srr_5_3_2 => "srr-5-3-2",
    srr_held_maxconn => "srr-held-maxconn",
    srr_allbackups => "srr-allbackups",
    srr_backup => "srr-backup",
    srr_w0 => "srr-w0",
    uri_consistent_crc32 => "uri-consistent-crc32",
    uri_consistent_djb2 => "uri-consistent-djb2",
    uri_consistent_wt6_avalanche => "uri-consistent-wt6-avalanche",
    uri_consistent => "uri-consistent",
    uri_crc32 => "uri-crc32",
    uri_depth_len => "uri-depth-len",
    uri_depth => "uri-depth",
    uri_djb2 => "uri-djb2",
    uri_len => "uri-len",
    uri_path_only_whole => "uri-path-only-whole",
    uri_path_only => "uri-path-only",
    uri_sdbm_avalanche => "uri-sdbm-avalanche",
    uri_sdbm => "uri-sdbm",
    uri_weights => "uri-weights",
    uri_whole => "uri-whole",
    uri_wt6 => "uri-wt6",
}

// Every data file has its test above.
#[test]
fn every_capture_is_replayed() {
    let mut files: Vec<String> = std::fs::read_dir(data_dir())
        .expect("compat-tests/data/balance")
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".txt")
                .map(str::to_string)
        })
        .collect();
    files.sort();
    let mut listed: Vec<&str> = SCENARIOS.to_vec();
    listed.sort();
    assert_eq!(files, listed);
}

// ---- random: HAProxy draws from its own generator, so only properties are checked -------

fn farm(weights: &[u32]) -> Vec<Candidate> {
    (0..weights.len())
        .map(|i| Candidate {
            id: i as u32 + 1,
            weight: weights[i],
            backup: false,
            up: true,
            full: false,
            active: 0,
        })
        .collect()
}

/// The share of `picks` picks that went to each server.
fn shares(balancer: &mut Balancer, servers: &[Candidate], picks: u32) -> Vec<f64> {
    let mut counts = vec![0u32; servers.len()];
    for _ in 0..picks {
        counts[balancer.pick(servers, Key::None).expect("a server")] += 1;
    }
    counts
        .iter()
        .map(|&c| f64::from(c) / f64::from(picks))
        .collect()
}

// The same seed gives the same picks.
#[test]
fn random_is_reproducible_with_a_seed() {
    let servers = farm(&[1, 2, 3]);
    let mut a = Balancer::new(&Balance::Random { draws: 2 }, None, false).with_seed(7);
    let mut b = Balancer::new(&Balance::Random { draws: 2 }, None, false).with_seed(7);
    let picks = |x: &mut Balancer| {
        (0..200)
            .map(|_| x.pick(&servers, Key::None))
            .collect::<Vec<_>>()
    };
    assert_eq!(picks(&mut a), picks(&mut b));
}

// One draw, idle servers: shares follow the weights (1:3), roughly (the ring is not smooth).
#[test]
fn random_follows_weights() {
    let servers = farm(&[1, 3]);
    let mut balancer = Balancer::new(&Balance::Random { draws: 1 }, None, false).with_seed(1);
    let s = shares(&mut balancer, &servers, 20_000);
    assert!((0.6..0.9).contains(&s[1]), "{s:?}");
}

// A loaded server among 4 equal ones: 1 draw hits it about 1/4 of the time, 2 draws about
// 1/16 (both draws must land on it).
#[test]
fn random_draws_avoid_the_loaded_server() {
    let mut servers = farm(&[1, 1, 1, 1]);
    servers[0].active = 100;
    let mut one = Balancer::new(&Balance::Random { draws: 1 }, None, false).with_seed(3);
    let mut two = Balancer::new(&Balance::Random { draws: 2 }, None, false).with_seed(3);
    let (s1, s2) = (
        shares(&mut one, &servers, 20_000),
        shares(&mut two, &servers, 20_000),
    );
    assert!(s1[0] > 0.12, "{s1:?}");
    assert!(s2[0] < 0.12 && s2[0] < s1[0] / 2.0, "{s2:?}");
}

// The chosen server is full: no server (the request waits in the backend's queue).
#[test]
fn random_full_server_gives_none() {
    let mut servers = farm(&[1]);
    servers[0].full = true;
    let mut balancer = Balancer::new(&Balance::Random { draws: 2 }, None, false);
    assert_eq!(balancer.pick(&servers, Key::None), None);
}

// ---- edge cases -------------------------------------------------------------------------

// No usable server (down, or weight 0): None for every algorithm.
#[test]
fn nobody_usable() {
    let mut servers = farm(&[1, 0]);
    servers[0].up = false;
    for balance in [
        Balance::RoundRobin,
        Balance::StaticRr,
        Balance::LeastConn,
        Balance::First,
        Balance::Source,
    ] {
        let mut b = Balancer::new(&balance, None, false);
        assert_eq!(
            b.pick(&servers, Key::Source([127, 0, 0, 1].into())),
            None,
            "{balance:?}"
        );
    }
}

// Active servers all full: the request queues (None); backups are not used for it.
#[test]
fn full_actives_do_not_spill_to_backups() {
    let mut servers = farm(&[1, 1]);
    servers[0].full = true;
    servers[1].backup = true;
    let mut b = Balancer::new(&Balance::RoundRobin, None, false);
    assert_eq!(b.pick(&servers, Key::None), None);
}

// An active server coming back takes over from the backups at once.
#[test]
fn active_back_up_takes_over() {
    let mut servers = farm(&[1, 1]);
    servers[1].backup = true;
    servers[0].up = false;
    let mut b = Balancer::new(&Balance::RoundRobin, None, false);
    assert_eq!(b.pick(&servers, Key::None), Some(1));
    servers[0].up = true;
    assert_eq!(b.pick(&servers, Key::None), Some(0));
}

// The key needed per algorithm.
#[test]
fn needs() {
    let hdr = Balance::Hdr {
        name: "Host".into(),
        use_domain_only: false,
    };
    assert_eq!(
        Balancer::new(&hdr, None, false).needs(),
        Need::Header("Host")
    );
    assert_eq!(
        Balancer::new(&Balance::Source, None, false).needs(),
        Need::ClientAddress
    );
    assert_eq!(
        Balancer::new(&Balance::RoundRobin, None, false).needs(),
        Need::Nothing
    );
}

// ---- no panic, whatever the farm --------------------------------------------------------

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn balance() -> impl Strategy<Value = Balance> {
        prop_oneof![
            Just(Balance::RoundRobin),
            Just(Balance::StaticRr),
            Just(Balance::LeastConn),
            Just(Balance::First),
            Just(Balance::Source),
            (0u32..4).prop_map(|draws| Balance::Random { draws }),
            (
                proptest::option::of(0u32..8),
                proptest::option::of(0u32..4),
                any::<bool>(),
                any::<bool>()
            )
                .prop_map(|(len, depth, whole, path_only)| Balance::Uri {
                    len,
                    depth,
                    whole,
                    path_only
                }),
            Just(Balance::UrlParam {
                param: "id".into(),
                check_post: Some(0)
            }),
            any::<bool>().prop_map(|d| Balance::Hdr {
                name: "Host".into(),
                use_domain_only: d
            }),
        ]
    }

    fn candidate() -> impl Strategy<Value = Candidate> {
        (
            0u32..6,
            0u32..300,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            0u32..5,
        )
            .prop_map(|(id, weight, backup, up, full, active)| Candidate {
                id,
                weight,
                backup,
                up,
                full,
                active,
            })
    }

    proptest! {
        // Picks stay in range while the farm changes under the balancer.
        #[test]
        fn pick_in_range(
            balance in balance(),
            consistent in any::<bool>(),
            allbackups in any::<bool>(),
            farms in proptest::collection::vec(proptest::collection::vec(candidate(), 0..6), 1..8),
            key in proptest::collection::vec(any::<u8>(), 0..12),
        ) {
            let hash_type = HashType {
                method: if consistent { HashMethod::Consistent } else { HashMethod::MapBased },
                function: HashFunction::Wt6,
                avalanche: consistent,
            };
            let mut b = Balancer::new(&balance, Some(&hash_type), allbackups).with_seed(1);
            for servers in &farms {
                for k in [Key::None, Key::Uri(&key), Key::Header(&key), Key::Source([10, 0, 0, key.len() as u8].into()),
                          Key::UriAndBody { uri: &key, body: &key }] {
                    if let Some(i) = b.pick(servers, k) {
                        prop_assert!(i < servers.len());
                    }
                }
            }
        }
    }
}

// ---- roundrobin across a server going down and coming back ------------------------------

/// HAProxy 2.6.12's own order (compat-tests/scenarios/roundrobin-down-up.scn, where the
/// same farm is played against the real one): weights 2, 1, 1; five picks; the second
/// server down for six; back for eight. The rotation goes on where it was, and the server
/// coming back enters it part-way instead of at once.
#[test]
fn roundrobin_goes_on_across_a_server_down_and_up() {
    let mut servers = farm(&[2, 1, 1]);
    let mut b = Balancer::new(&Balance::RoundRobin, None, false);
    let mut order = Vec::new();
    let mut run = |b: &mut Balancer, servers: &[Candidate], n: usize| {
        for _ in 0..n {
            order.push(b.pick(servers, Key::None).expect("a server") + 1);
        }
    };
    run(&mut b, &servers, 5);
    servers[1].up = false;
    run(&mut b, &servers, 6);
    servers[1].up = true;
    run(&mut b, &servers, 8);
    assert_eq!(
        order,
        [1, 2, 1, 3, 1, 1, 3, 1, 1, 3, 1, 1, 3, 1, 2, 1, 3, 1, 2]
    );
}
