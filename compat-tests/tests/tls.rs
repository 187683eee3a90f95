//! TLS termination (`bind ... ssl crt ...`), real HAProxy 2.6 against rsproxy, same config.
//!
//! Certificates are made for each run with `openssl req` (an ECDSA P-256 one for `a.example`
//! and `*.wild.example`, an RSA-2048 one for `b.example` with its key in a `.key` side file)
//! and written beside each proxy's config. Clients are `curl` (HTTP over TLS, verifying the
//! certificate against the one expected) and `openssl s_client` (which certificate was
//! served for an SNI). Each test plays the same steps against both proxies, asserts what
//! HAProxy does (so the test stays true to the oracle) and that rsproxy answers the same.
//! Every client call is bounded (`--max-time`, `timeout`).

use compat_tests::runtime::{EchoBackend, Proxy, ProxyKind};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// The certificates of a run, in a directory of their own.
struct Certs {
    dir: PathBuf,
}

impl Certs {
    fn make() -> Certs {
        static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rsproxy-tls-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let req = |key: &[&str], name: &str, subject: &str, san: &str| {
            let status = Command::new("openssl")
                .args(["req", "-x509", "-nodes", "-days", "2", "-newkey"])
                .args(key)
                .args([
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.crt"),
                ])
                .args(["-subj", subject])
                .args(if san.is_empty() {
                    vec![]
                } else {
                    vec!["-addext", san]
                })
                .current_dir(&dir)
                .stderr(std::process::Stdio::null())
                .status()
                .expect("openssl runs");
            assert!(status.success(), "openssl req {name}");
        };
        req(
            &["ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
            "a",
            "/CN=a.example",
            "subjectAltName=DNS:a.example,DNS:*.wild.example",
        );
        // CN only: found by its common name.
        req(&["rsa:2048"], "b", "/CN=b.example", "");
        let read = |f: &str| std::fs::read(dir.join(f)).expect("cert file");
        // a.pem: certificate and (PKCS#8) key in one file; b.pem: the certificate, its key
        // beside it in b.pem.key (HAProxy's side file).
        let mut a = read("a.crt");
        a.extend(read("a.key"));
        std::fs::write(dir.join("a.pem"), a).expect("a.pem");
        std::fs::write(dir.join("b.pem"), read("b.crt")).expect("b.pem");
        std::fs::write(dir.join("b.pem.key"), read("b.key")).expect("b.pem.key");
        Certs { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// The configuration with `${CERTS}` as this run's directory.
    fn config(&self, template: &str) -> String {
        template.replace("${CERTS}", &self.dir.display().to_string())
    }
}

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start(kind: ProxyKind, config: &str, backends: &[EchoBackend]) -> Proxy {
    let program = match kind {
        ProxyKind::Haproxy => PathBuf::from("haproxy"),
        ProxyKind::Rsproxy => Proxy::rsproxy_bin(),
    };
    Proxy::start(kind, &program, config, backends, &[]).unwrap_or_else(|e| panic!("{e}"))
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("client runs");
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        s.push_str(&format!(
            "\n[exit {:?}] {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    s
}

/// `curl` over TLS to `name` (resolved to 127.0.0.1), verifying against `ca`: the status,
/// then the body.
fn curl(port: u16, name: &str, ca: &str, path: &str, extra: &[&str]) -> String {
    run(Command::new("curl")
        .args(["-sS", "--max-time", "5", "--cacert", ca])
        .arg("--resolve")
        .arg(format!("{name}:{port}:127.0.0.1"))
        .args(["-w", "\nstatus %{http_code}\n"])
        .args(extra)
        .arg(format!("https://{name}:{port}{path}")))
}

/// The subject of the certificate served for `sni` (`None`: no SNI sent).
fn served_subject(port: u16, sni: Option<&str>) -> String {
    let mut cmd = Command::new("timeout");
    cmd.args(["5", "openssl", "s_client", "-connect"])
        .arg(format!("127.0.0.1:{port}"));
    match sni {
        Some(s) => cmd.args(["-servername", s]),
        None => cmd.arg("-noservername"),
    };
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl s_client runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with("subject="))
        .unwrap_or("no certificate")
        .to_string()
}

/// Plays `steps` against HAProxy then rsproxy on the same configuration; asserts the
/// transcripts are equal and returns HAProxy's.
fn both(
    certs: &Certs,
    template: &str,
    backends: &[EchoBackend],
    steps: impl Fn(&Proxy) -> Vec<String>,
) -> Vec<String> {
    let config = certs.config(template);
    let transcripts: Vec<Vec<String>> = [ProxyKind::Haproxy, ProxyKind::Rsproxy]
        .into_iter()
        .map(|kind| {
            let proxy = start(kind, &config, backends);
            steps(&proxy)
        })
        .collect();
    assert_eq!(
        transcripts[0], transcripts[1],
        "haproxy (left) and rsproxy (right) differ"
    );
    transcripts.into_iter().next().unwrap_or_default()
}

const HTTPS: &str = "
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 2s
frontend fe
    bind 127.0.0.1:${PORT_fe} ssl crt ${CERTS}/a.pem crt ${CERTS}/b.pem
    bind 127.0.0.1:${PORT_plain}
    redirect scheme https if !{ ssl_fc }
    http-request set-header X-Forwarded-Proto https if { ssl_fc }
    http-request set-header X-TLS \"%[ssl_fc_sni]|%[ssl_fc_protocol]|%[ssl_fc_cipher]\"
    default_backend be
backend be
    server s1 ${BACKEND_web}
";

/// What the backend saw of a curl request, without the lines that name ports.
fn backend_view(reply: &str) -> Vec<String> {
    reply
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("host:"))
        .map(str::to_string)
        .collect()
}

#[test]
fn https_get_reaches_the_backend_with_ssl_fetches() {
    let certs = Certs::make();
    let web = EchoBackend::http("web").expect("backend");
    let ca_a = certs.path("a.crt");
    let ca_b = certs.path("b.crt");
    let seen = both(&certs, HTTPS, std::slice::from_ref(&web), |p| {
        let port = p.port("fe").unwrap_or(0);
        let mut out = backend_view(&curl(port, "a.example", &ca_a, "/x", &[]));
        out.extend(backend_view(&curl(
            port,
            "b.example",
            &ca_b,
            "/y",
            &["--tls-max", "1.2"],
        )));
        out
    });
    let text = seen.join("\n");
    assert!(text.contains("x-forwarded-proto: https"), "{text}");
    assert!(
        text.contains("x-tls: a.example|TLSv1.3|TLS_AES_256_GCM_SHA384"),
        "{text}"
    );
    assert!(
        text.contains("x-tls: b.example|TLSv1.2|ECDHE-RSA-AES256-GCM-SHA384"),
        "{text}"
    );
    assert_eq!(text.matches("status 200").count(), 2, "{text}");
}

#[test]
fn plain_port_redirects_to_https() {
    let certs = Certs::make();
    let web = EchoBackend::http("web").expect("backend");
    let seen = both(&certs, HTTPS, std::slice::from_ref(&web), |p| {
        let port = p.port("plain").unwrap_or(0);
        vec![run(Command::new("curl")
            .args(["-sS", "--max-time", "5", "-o", "/dev/null"])
            .args(["-w", "%{http_code} %{redirect_url}"])
            .arg(format!("http://rsproxy.test:{port}/page?q=1"))
            .arg("--resolve")
            .arg(format!("rsproxy.test:{port}:127.0.0.1")))
        .replace(&port.to_string(), "PORT")]
    });
    assert_eq!(seen, ["302 https://rsproxy.test:PORT/page?q=1"]);
    assert!(web.seen().is_empty());
}

#[test]
fn sni_picks_the_certificate_and_an_unknown_name_gets_the_default() {
    let certs = Certs::make();
    let web = EchoBackend::http("web").expect("backend");
    let seen = both(&certs, HTTPS, std::slice::from_ref(&web), |p| {
        let port = p.port("fe").unwrap_or(0);
        [
            Some("a.example"),
            Some("b.example"),
            Some("B.Example"),
            Some("x.wild.example"),
            Some("y.x.wild.example"),
            Some("unknown.example"),
            None,
        ]
        .into_iter()
        .map(|sni| format!("{sni:?} {}", served_subject(port, sni)))
        .collect()
    });
    assert_eq!(
        seen,
        [
            "Some(\"a.example\") subject=CN = a.example",
            "Some(\"b.example\") subject=CN = b.example",
            "Some(\"B.Example\") subject=CN = b.example",
            "Some(\"x.wild.example\") subject=CN = a.example",
            "Some(\"y.x.wild.example\") subject=CN = a.example",
            "Some(\"unknown.example\") subject=CN = a.example",
            "None subject=CN = a.example",
        ]
    );
}

/// An ECDSA and an RSA certificate for the same name: ECDSA for a client that can use it,
/// RSA for a TLS 1.2 client offering only RSA suites.
#[test]
fn ecdsa_and_rsa_certificates_for_one_name() {
    let certs = Certs::make();
    let web = EchoBackend::http("web").expect("backend");
    for (key, name) in [
        (&["rsa:2048"][..], "dr"),
        (&["ec", "-pkeyopt", "ec_paramgen_curve:P-256"], "de"),
    ] {
        let ok = Command::new("openssl")
            .args(["req", "-x509", "-nodes", "-days", "2", "-newkey"])
            .args(key)
            .args([
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.pem"),
            ])
            .args(["-subj", "/CN=dual.example"])
            .current_dir(&certs.dir)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(ok.success());
        let mut pem = std::fs::read(certs.dir.join(format!("{name}.pem"))).expect("pem");
        pem.extend(std::fs::read(certs.dir.join(format!("{name}.key"))).expect("key"));
        std::fs::write(certs.dir.join(format!("{name}.pem")), pem).expect("pem");
    }
    let template = HTTPS.replace(
        "crt ${CERTS}/a.pem crt ${CERTS}/b.pem",
        "crt ${CERTS}/a.pem crt ${CERTS}/dr.pem crt ${CERTS}/de.pem",
    );
    let seen = both(&certs, &template, std::slice::from_ref(&web), |p| {
        let port = p.port("fe").unwrap_or(0);
        ["", "-tls1_2", "-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256"]
            .iter()
            .map(|args| {
                let script = format!(
                    "timeout 5 openssl s_client -connect 127.0.0.1:{port} -servername dual.example {args} </dev/null 2>/dev/null | grep -E '^subject|Server public key' | tr '\\n' ' '"
                );
                format!("[{args}] {}", run(Command::new("sh").arg("-c").arg(script)).trim())
            })
            .collect()
    });
    assert_eq!(
        seen,
        [
            "[] subject=CN = dual.example Server public key is 256 bit",
            "[-tls1_2] subject=CN = dual.example Server public key is 256 bit",
            "[-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256] subject=CN = dual.example Server public key is 2048 bit",
        ]
    );
}

/// `crt DIR`: every certificate in it (side files skipped), the first by name the default.
#[test]
fn a_certificate_directory_loads_every_pem() {
    let certs = Certs::make();
    let web = EchoBackend::http("web").expect("backend");
    let dir = certs.dir.join("dir");
    std::fs::create_dir_all(&dir).expect("dir");
    for f in ["b.pem", "b.pem.key"] {
        std::fs::copy(certs.dir.join(f), dir.join(f.replace('b', "2-b"))).expect("copy");
    }
    std::fs::copy(certs.dir.join("a.pem"), dir.join("1-a.pem")).expect("copy");
    let template = HTTPS.replace("crt ${CERTS}/a.pem crt ${CERTS}/b.pem", "crt ${CERTS}/dir");
    let seen = both(&certs, &template, std::slice::from_ref(&web), |p| {
        let port = p.port("fe").unwrap_or(0);
        vec![
            served_subject(port, Some("b.example")),
            served_subject(port, None),
        ]
    });
    assert_eq!(seen, ["subject=CN = b.example", "subject=CN = a.example"]);
}

/// A client that is not speaking TLS, or stalls in the handshake, is closed (after `timeout
/// client` for the stall) and the proxy keeps serving.
#[test]
fn garbage_and_stalled_handshakes_are_closed() {
    let certs = Certs::make();
    let web = EchoBackend::http("web").expect("backend");
    let template = HTTPS.replace("timeout client 5s", "timeout client 1s");
    let ca_a = certs.path("a.crt");
    let seen = both(&certs, &template, std::slice::from_ref(&web), |p| {
        let port = p.port("fe").unwrap_or(0);
        let mut out = Vec::new();
        // Not TLS.
        if let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            let mut buf = Vec::new();
            let r = c.read_to_end(&mut buf);
            // HAProxy and rsproxy close (an HTTP answer would be a bug); a TLS alert may or
            // may not be written first.
            out.push(format!(
                "garbage: closed={} http={}",
                r.is_ok(),
                buf.starts_with(b"HTTP")
            ));
        }
        // Stalled: nothing sent.
        if let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
            let t = Instant::now();
            let mut buf = Vec::new();
            let r = c.read_to_end(&mut buf);
            let took = t.elapsed();
            out.push(format!(
                "stalled: closed={} within-timeout-window={}",
                r.is_ok(),
                took >= Duration::from_millis(800) && took < Duration::from_millis(3500)
            ));
        }
        let ok = curl(port, "a.example", &ca_a, "/after", &[]);
        out.push(ok.lines().last().unwrap_or("").to_string());
        out
    });
    assert_eq!(
        seen,
        [
            "garbage: closed=true http=false",
            "stalled: closed=true within-timeout-window=true",
            "status 200"
        ]
    );
}

/// `mode tcp` with `ssl`: TLS offload to a TCP backend.
#[test]
fn tls_offload_in_mode_tcp() {
    let certs = Certs::make();
    let echo = EchoBackend::tcp_echo("echo").expect("backend");
    let template = "
defaults
    mode tcp
    timeout client 5s
    timeout server 5s
    timeout connect 2s
listen tcp_tls
    bind 127.0.0.1:${PORT_fe} ssl crt ${CERTS}/a.pem
    server s1 ${BACKEND_echo}
";
    let seen = both(&certs, template, std::slice::from_ref(&echo), |p| {
        let port = p.port("fe").unwrap_or(0);
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "(printf 'hello over tls\\n'; sleep 1) | timeout 5 openssl s_client -quiet -servername a.example -connect 127.0.0.1:{port} 2>/dev/null"
            ))
            .output()
            .expect("openssl runs");
        vec![String::from_utf8_lossy(&out.stdout).into_owned()]
    });
    assert_eq!(seen, ["hello over tls\n"]);
}

/// `alpn http/1.1` is agreed; versions and TLS 1.3 suites follow the bind line.
#[test]
fn alpn_versions_and_ciphersuites() {
    let certs = Certs::make();
    let web = EchoBackend::http("web").expect("backend");
    let template = HTTPS
        .replace(
            "crt ${CERTS}/a.pem crt ${CERTS}/b.pem",
            "crt ${CERTS}/a.pem alpn http/1.1 ciphersuites TLS_CHACHA20_POLY1305_SHA256 ssl-min-ver TLSv1.3",
        )
        .replace("%[ssl_fc_cipher]", "%[ssl_fc_cipher]|%[ssl_fc_alpn]");
    let ca_a = certs.path("a.crt");
    let seen = both(&certs, &template, std::slice::from_ref(&web), |p| {
        let port = p.port("fe").unwrap_or(0);
        let mut out: Vec<String> = curl(port, "a.example", &ca_a, "/", &["--http1.1"])
            .lines()
            .filter(|l| l.starts_with("x-tls") || l.starts_with("status"))
            .map(str::to_string)
            .collect();
        // TLS 1.2 is not offered: the handshake fails.
        let old = curl(port, "a.example", &ca_a, "/", &["--tls-max", "1.2"]);
        out.push(format!("tls1.2 refused={}", !old.contains("status 200")));
        out
    });
    assert_eq!(
        seen,
        [
            "x-tls: a.example|TLSv1.3|TLS_CHACHA20_POLY1305_SHA256|http/1.1",
            "status 200",
            "tls1.2 refused=true"
        ]
    );
}

/// What rsproxy does not carry out is refused at start, naming the line (`--check` answers
/// HAProxy's verdict, which accepts these).
#[test]
fn unsupported_tls_settings_are_refused_at_their_line() {
    let certs = Certs::make();
    let a = certs.path("a.pem");
    let cases = [
        (
            format!("bind :1443 ssl crt {a} alpn h2,http/1.1"),
            "'alpn h2'",
        ),
        (
            format!("bind :1443 ssl crt {a} ciphersuites TLS_AES_128_CCM_SHA256"),
            "TLS_AES_128_CCM_SHA256",
        ),
        (
            format!("bind :1443 ssl crt {a} ciphers HIGH:!aNULL"),
            "HIGH",
        ),
        (
            format!("bind :1443 ssl crt {a} ssl-min-ver TLSv1.0"),
            "TLSv1.0",
        ),
        (format!("bind :1443 ssl crt {a} strict-sni"), "strict-sni"),
        (format!("bind :1443 ssl crt {a} curves X25519"), "curves"),
    ];
    for (bind, needle) in cases {
        let cfg = certs.dir.join("check.cfg");
        std::fs::write(
            &cfg,
            format!("defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nfrontend fe\n    {bind}\n"),
        )
        .expect("cfg");
        let out = Command::new("timeout")
            .arg("5")
            .arg(Proxy::rsproxy_bin())
            .args(["-db", "-c"])
            .arg(&cfg)
            .output()
            .expect("rsproxy runs");
        let text = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{bind}: accepted\n{text}");
        assert!(
            text.contains(needle) && text.contains("check.cfg:7"),
            "{bind}: {text}"
        );
    }
}

/// A client that kept its session resumes it (tickets by default), with TLS 1.2 and 1.3.
#[test]
fn sessions_resume() {
    let certs = Certs::make();
    let web = EchoBackend::http("web").expect("backend");
    let seen = both(&certs, HTTPS, std::slice::from_ref(&web), |p| {
        let port = p.port("fe").unwrap_or(0);
        let dir = certs.dir.display().to_string();
        ["1_2", "1_3"]
            .iter()
            .map(|v| {
                let script = format!(
                    "rm -f {dir}/sess.pem; \
                     (printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'; sleep 0.5) | timeout 5 openssl s_client -tls{v} -connect 127.0.0.1:{port} -servername a.example -sess_out {dir}/sess.pem >/dev/null 2>&1; \
                     timeout 5 openssl s_client -tls{v} -connect 127.0.0.1:{port} -servername a.example -sess_in {dir}/sess.pem </dev/null 2>/dev/null | grep -E '^(Reused|New),' | head -1"
                );
                run(Command::new("sh").arg("-c").arg(script)).trim().to_string()
            })
            .collect()
    });
    assert_eq!(
        seen,
        [
            "Reused, TLSv1.2, Cipher is ECDHE-ECDSA-AES256-GCM-SHA384",
            "Reused, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384"
        ]
    );
}
