//! The runtime's counters (`show stat` fields) after known traffic, read in-process through
//! `runtime::start`'s state: what an operator's stats tooling will see.

use rsproxy::runtime::{start, Running};
use rsproxy::stats::{RowKind, StatRow};
use rsproxy_parser::haproxy::parse_str;
use rsproxy_parser::Env;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

mod common;
use common::{free_port, ok_server};

fn get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.lines().next().unwrap_or("").to_string()
}

fn run(config: &str) -> Running {
    let (ir, diags, _) = parse_str(config, &Env::empty());
    assert!(!diags.has_errors(), "{diags:?}");
    let plan = rsproxy::plan::build(&ir, true).expect("plan");
    start(plan).expect("runtime starts")
}

fn row<'a>(rows: &'a [StatRow], proxy: &str, name: &str) -> &'a StatRow {
    rows.iter()
        .find(|r| r.proxy == proxy && r.name == name)
        .unwrap_or_else(|| panic!("no row {proxy}/{name} in {rows:#?}"))
}

/// description: after two requests to a live server, two to a dead one (refused, retried
/// once) and one denied, the counters say so: per frontend requests and status classes,
/// per server sessions, selections, connection errors and retries, per backend totals; and
/// no session is left open once the clients are gone.
#[test]
fn counters_follow_the_traffic() {
    let (fe, deny, live, dead) = (free_port(), free_port(), ok_server(), free_port());
    let running = run(&format!(
        "defaults\n  mode http\n  timeout connect 100ms\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind 127.0.0.1:{fe}\n  default_backend app\n\
         frontend guard\n  bind 127.0.0.1:{deny}\n  http-request deny\n\
         backend app\n  retries 1\n  server a 127.0.0.1:{live}\n  server b 127.0.0.1:{dead}\n"
    ));
    let statuses: Vec<String> = (0..4).map(|i| get(fe, &format!("/{i}"))).collect();
    assert_eq!(
        statuses,
        [
            "HTTP/1.1 200 OK",
            "HTTP/1.1 503 Service Unavailable",
            "HTTP/1.1 200 OK",
            "HTTP/1.1 503 Service Unavailable"
        ]
    );
    assert_eq!(get(deny, "/"), "HTTP/1.1 403 Forbidden");

    // Sessions end as the clients' connections close: give the runtime a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    let rows = loop {
        let rows = running.state.stats();
        if rows.iter().all(|r| r.counters.scur == 0) || Instant::now() > deadline {
            break rows;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let f = row(&rows, "fe", "FRONTEND");
    assert_eq!(f.kind, RowKind::Frontend);
    assert_eq!(f.status, "OPEN");
    let c = f.counters;
    assert_eq!((c.scur, c.stot, c.req_tot), (0, 4, 4));
    assert_eq!(c.hrsp, [0, 2, 0, 0, 2, 0]);
    assert!(c.bin > 4 * 30 && c.bout > 2 * 40, "{c:?}");

    let g = row(&rows, "guard", "FRONTEND").counters;
    assert_eq!((g.req_tot, g.dreq, g.hrsp[3]), (1, 1, 1));

    let a = row(&rows, "app", "a");
    assert_eq!(a.status, "no check");
    assert_eq!(
        (a.counters.stot, a.counters.lbtot, a.counters.hrsp[1]),
        (2, 2, 2)
    );
    assert!(a.counters.bin > 0 && a.counters.bout > 0);
    assert_eq!((a.counters.econ, a.counters.wretr), (0, 0));

    let b = row(&rows, "app", "b").counters;
    assert_eq!((b.stot, b.econ, b.wretr, b.hrsp[1]), (2, 2, 2, 0));

    let be = row(&rows, "app", "BACKEND");
    assert_eq!(be.kind, RowKind::Backend);
    assert_eq!(
        (be.status.as_str(), be.act, be.bck, be.weight),
        ("UP", 2, 0, 2)
    );
    let c = be.counters;
    assert_eq!(
        (c.stot, c.req_tot, c.econ, c.wretr, c.scur),
        (4, 4, 2, 2, 0)
    );
    assert_eq!(c.hrsp, [0, 2, 0, 0, 2, 0]);
}

/// description: requests waiting for a server at its maxconn show in `qcur` while they
/// wait and in `qmax` afterwards; `smax` never exceeds the limit.
#[test]
fn queue_counters() {
    // A server that answers after 300 ms, one request at a time per connection.
    let slow = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut s = s;
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = s.read(&mut buf) {
                        if n == 0 {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(300));
                        if s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                            .is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        port
    };
    let fe = free_port();
    let running = run(&format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n  timeout queue 5s\n\
         frontend fe\n  bind 127.0.0.1:{fe}\n  default_backend app\n\
         backend app\n  server s 127.0.0.1:{slow} maxconn 1\n"
    ));
    let clients: Vec<_> = (0..3)
        .map(|i| std::thread::spawn(move || get(fe, &format!("/{i}"))))
        .collect();
    // While the first is served, the two others wait in the backend's queue.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen_waiting = 0;
    while Instant::now() < deadline && seen_waiting < 2 {
        let rows = running.state.stats();
        seen_waiting = seen_waiting.max(row(&rows, "app", "BACKEND").qcur);
        std::thread::sleep(Duration::from_millis(5));
    }
    for c in clients {
        assert_eq!(c.join().expect("client"), "HTTP/1.1 200 OK");
    }
    assert_eq!(seen_waiting, 2);
    let rows = running.state.stats();
    let s = row(&rows, "app", "s");
    assert_eq!(s.slim, Some(1));
    assert_eq!((s.counters.smax, s.counters.stot), (1, 3));
    let be = row(&rows, "app", "BACKEND");
    assert_eq!((be.qcur, be.counters.qmax), (0, 2));
}
