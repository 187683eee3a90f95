//! The runtime as a client sees it: rsproxy started on loopback ports with a real config.
//!
//! Each test picks free ports, writes its config, starts `rsproxy -db -c` and kills it when
//! the test ends (a guard, so also on failure). Differential comparisons with the real
//! HAProxy live in compat-tests; these check rsproxy's own contract.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Proxy {
    child: Child,
    dir: PathBuf,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Starts rsproxy on `config` and waits (bounded) until `port` accepts.
fn start(name: &str, config: &str, port: u16) -> Proxy {
    let dir = std::env::temp_dir().join(format!("rsproxy-rt-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("haproxy.cfg"), config).expect("write config");
    let child = Command::new(env!("CARGO_BIN_EXE_rsproxy"))
        .args(["-db", "-c", "haproxy.cfg"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rsproxy");
    let proxy = Proxy { child, dir };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "rsproxy did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    proxy
}

/// One request on a new connection; the whole response as bytes.
fn get(port: u16, path: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

fn body(resp: &[u8]) -> String {
    let text = String::from_utf8_lossy(resp);
    text.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

fn quickstart(port: u16, web1: u16, web2: u16) -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/quickstart/haproxy.cfg"
    ))
    .expect("quickstart")
    .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"))
    .replace("127.0.0.1:8081", &format!("127.0.0.1:{web1}"))
    .replace("127.0.0.1:8082", &format!("127.0.0.1:{web2}"))
}

/// description: the README's quickstart serves "web1", "web2", "web1", ... round-robin.
#[test]
fn quickstart_serves_round_robin() {
    let (p, a, b) = (free_port(), free_port(), free_port());
    let _proxy = start("quickstart", &quickstart(p, a, b), p);
    let seen: Vec<String> = (0..4)
        .map(|_| body(&get(p, "/")).trim().to_string())
        .collect();
    assert_eq!(seen, ["web1", "web2", "web1", "web2"]);
}

/// description: with every server refusing connections, the client gets HAProxy's 503 page,
/// byte for byte, after the retries (with `connection: close`, as haproxy 2.6.12 answers a
/// client that asked to close).
#[test]
fn no_server_answers_haproxy_503() {
    let (p, dead) = (free_port(), free_port());
    let config = format!(
        "defaults\n  mode http\n  timeout connect 200ms\n  timeout client 5s\n  timeout server 5s\n  retries 1\n\
         frontend f\n  bind 127.0.0.1:{p}\n  default_backend b\nbackend b\n  server s 127.0.0.1:{dead}\n"
    );
    let _proxy = start("503", &config, p);
    let resp = get(p, "/");
    assert_eq!(
        String::from_utf8_lossy(&resp),
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\
         connection: close\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"
    );
}

/// description: `http-request deny` answers HAProxy's 403 page without any server.
#[test]
fn deny_answers_haproxy_403() {
    let p = free_port();
    let config = format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend f\n  bind 127.0.0.1:{p}\n  http-request deny\n"
    );
    let _proxy = start("403", &config, p);
    let resp = String::from_utf8_lossy(&get(p, "/")).to_string();
    assert!(
        resp.starts_with("HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\n"),
        "{resp}"
    );
}

/// description: `mode tcp` carries bytes both ways and passes the client's half-close on.
#[test]
fn tcp_mode_relays_bytes_and_half_close() {
    let (p, echo_port) = (free_port(), free_port());
    let echo = TcpListener::bind(("127.0.0.1", echo_port)).expect("echo");
    // Echoes each connection after its half-close (the first is start()'s readiness probe).
    let server = std::thread::spawn(move || {
        for _ in 0..2 {
            let (mut c, _) = echo.accept().expect("accept");
            let mut got = Vec::new();
            c.read_to_end(&mut got).expect("read until half-close");
            c.write_all(&got).expect("echo back");
        }
    });
    let config = format!(
        "defaults\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         listen t\n  mode tcp\n  bind 127.0.0.1:{p}\n  server e 127.0.0.1:{echo_port}\n"
    );
    let _proxy = start("tcp", &config, p);
    let mut s = TcpStream::connect(("127.0.0.1", p)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(b"ping over tcp").expect("send");
    s.shutdown(std::net::Shutdown::Write).expect("half-close");
    let mut back = Vec::new();
    s.read_to_end(&mut back).expect("read");
    assert_eq!(back, b"ping over tcp");
    server.join().expect("echo thread");
}

/// description: a configuration using what the runtime does not carry out yet does not
/// start, and names each such line.
#[test]
fn unsupported_settings_refuse_to_start_with_their_lines() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed-002-bank-paas");
    let out = Command::new(env!("CARGO_BIN_EXE_rsproxy"))
        .args(["-db", "-c", "haproxy.cfg"])
        .current_dir(dir)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    for (line, what) in [(7, "log"), (9, "pidfile"), (15, "stats socket")] {
        let want = format!(
            "parsing [haproxy.cfg:{line}] : '{what}' is not carried out by the rsproxy runtime yet"
        );
        assert!(err.contains(&want), "missing {want:?} in:\n{err}");
    }
    // Each refused line once (inherited settings too: see the plan's unit tests).
    assert_eq!(err.matches("'stats socket'").count(), 1, "{err}");
    // TLS (`bind :443 ssl crt web.pem`, `tune.ssl.default-dh-param`) is carried out now.
    assert!(!err.contains("ssl"), "{err}");
}

/// description: a frontend's `maxconn` is shared by all its binds: with `maxconn 1`, a
/// second client on the other bind is only served once the first one leaves.
#[test]
fn frontend_maxconn_is_shared_by_its_binds() {
    let (a, b, echo_port) = (free_port(), free_port(), free_port());
    let echo = TcpListener::bind(("127.0.0.1", echo_port)).expect("echo");
    std::thread::spawn(move || {
        for conn in echo.incoming().take(8) {
            let Ok(mut c) = conn else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 64];
                while let Ok(n) = c.read(&mut buf) {
                    if n == 0 || c.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    let config = format!(
        "defaults\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         listen t\n  mode tcp\n  maxconn 1\n  bind 127.0.0.1:{a}\n  bind 127.0.0.1:{b}\n  server e 127.0.0.1:{echo_port}\n"
    );
    let proxy = start("maxconn", &config, a);
    // start() probed port a once; give that probe's slot time to be released.
    std::thread::sleep(Duration::from_millis(200));
    let mut first = TcpStream::connect(("127.0.0.1", a)).expect("first");
    first.write_all(b"one").expect("send");
    let mut buf = [0u8; 3];
    first
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    first.read_exact(&mut buf).expect("first is served");
    let mut second = TcpStream::connect(("127.0.0.1", b)).expect("second (queued by the kernel)");
    second.write_all(b"two").expect("send");
    second
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    assert!(
        second.read(&mut buf).is_err(),
        "the second bind must wait for the frontend's slot"
    );
    drop(first);
    second
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    second
        .read_exact(&mut buf)
        .expect("served once the first left");
    assert_eq!(&buf, b"two");
    drop(proxy);
}

/// description: a response that stalls mid-body longer than `timeout server` is ended: the
/// client gets the part that came and the connection closes, instead of hanging on a
/// server that stays silent (here for 10 s).
#[test]
fn a_response_stalled_mid_body_is_ended_by_timeout_server() {
    let (p, server_port) = (free_port(), free_port());
    let server = TcpListener::bind(("127.0.0.1", server_port)).expect("server");
    std::thread::spawn(move || {
        for conn in server.incoming().take(4) {
            let Ok(mut c) = conn else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 1024];
                if c.read(&mut buf).unwrap_or(0) == 0 {
                    return;
                }
                let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
                std::thread::sleep(Duration::from_secs(10));
            });
        }
    });
    let config = format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 300ms\n\
         frontend f\n  bind 127.0.0.1:{p}\n  default_backend b\nbackend b\n  server s 127.0.0.1:{server_port}\n"
    );
    let _proxy = start("stall", &config, p);
    let mut s = TcpStream::connect(("127.0.0.1", p)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(4)))
        .expect("timeout");
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    let mut got = Vec::new();
    let r = s.read_to_end(&mut got);
    assert!(
        r.is_ok()
            || matches!(
                r.as_ref().map_err(|e| e.kind()),
                Err(std::io::ErrorKind::ConnectionReset)
            ),
        "the proxy must close the connection, not leave it hanging: {r:?}"
    );
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("HTTP/1.1 200 OK\r\n") && text.ends_with("abc"),
        "{text:?}"
    );
}

/// Reads one response with a Content-Length body from `s`; the response as text.
fn read_response(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => got.push(byte[0]),
            other => panic!("connection ended inside a head: {other:?} after {got:?}"),
        }
    }
    let head = String::from_utf8_lossy(&got).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).expect("body");
    got.extend_from_slice(&body);
    String::from_utf8_lossy(&got).to_string()
}

/// description: a kept-alive client connection is served across pauses, whatever it was
/// doing when it paused: between requests, inside a request head, after a POST whose body
/// the proxy answered without reading, and with a pipelined request waiting. (While a
/// connection pauses, rsproxy holds no HTTP buffers for it: the answers must not change.)
#[test]
fn a_kept_alive_connection_is_served_across_pauses() {
    let p = free_port();
    let config = format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend f\n  bind 127.0.0.1:{p}\n  http-request return status 200 content-type text/plain string \"ok\"\n"
    );
    let _proxy = start("pauses", &config, p);
    let pause = || std::thread::sleep(Duration::from_millis(60));
    let ok = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok";
    let mut s = TcpStream::connect(("127.0.0.1", p)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    pause();
    s.write_all(b"GET /1 HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    assert_eq!(read_response(&mut s), ok);
    pause();
    s.write_all(b"GET /2 HTTP/1.1\r\nHo").expect("send");
    pause();
    s.write_all(b"st: t\r\n\r\n").expect("send");
    assert_eq!(read_response(&mut s), ok);
    pause();
    s.write_all(b"POST /3 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")
        .expect("send");
    assert_eq!(read_response(&mut s), ok);
    pause();
    s.write_all(b"GET /4 HTTP/1.1\r\nHost: t\r\n\r\nGET /5 HTTP/1.1\r\nHost: t\r\n\r\nGET /6 HT")
        .expect("send");
    assert_eq!(read_response(&mut s), ok);
    assert_eq!(read_response(&mut s), ok);
    pause();
    s.write_all(b"TP/1.1\r\nHost: t\r\n\r\n").expect("send");
    assert_eq!(read_response(&mut s), ok);
}

/// description: `timeout http-request` runs from the moment a connection waits for a
/// request head: a new connection that sends nothing gets HAProxy's 408; a kept-alive one
/// that had its answer is closed silently; one that keeps sending requests is never cut.
#[test]
fn request_head_timeout_408_only_before_any_request() {
    let p = free_port();
    let config = format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n  timeout http-request 600ms\n\
         frontend f\n  bind 127.0.0.1:{p}\n  http-request return status 200 content-type text/plain string \"ok\"\n"
    );
    let _proxy = start("head-timeout", &config, p);
    let connect = || {
        let s = TcpStream::connect(("127.0.0.1", p)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        s
    };
    let mut silent = connect();
    let mut kept = connect();
    let mut busy = connect();
    kept.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    assert!(read_response(&mut kept).starts_with("HTTP/1.1 200 OK\r\n"));
    // Each request comes well within the timeout; all of them take longer than it.
    for _ in 0..6 {
        std::thread::sleep(Duration::from_millis(150));
        busy.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            .expect("send");
        assert!(read_response(&mut busy).starts_with("HTTP/1.1 200 OK\r\n"));
    }
    let mut rest = Vec::new();
    let _ = silent.read_to_end(&mut rest);
    assert!(
        String::from_utf8_lossy(&rest).starts_with("HTTP/1.1 408 Request Time-out\r\n"),
        "{rest:?}"
    );
    let mut rest = Vec::new();
    let _ = kept.read_to_end(&mut rest);
    assert_eq!(rest, b"", "a kept-alive connection is closed without a 408");
}
