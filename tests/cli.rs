//! The command-line contract of DESIGN.md, as a user sees it: exit codes, the text and JSON
//! diagnostics, --dump-ir, and the checks across haproxy.cfg and keepalived.conf.

use std::path::PathBuf;
use std::process::{Command, Output};

fn rsproxy(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rsproxy"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run rsproxy")
}

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("rsproxy-cli-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&p).expect("mkdir");
        Scratch(p)
    }
    fn file(&self, name: &str, text: &str) -> &Self {
        std::fs::write(self.0.join(name), text).expect("write");
        self
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const GOOD: &str =
    "defaults\n  mode http\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\n\
                    frontend www\n  bind 192.0.2.100:80\n  default_backend app\n\
                    backend app\n  server a 127.0.0.1:8081 check\n";

const KEEPALIVED: &str =
    "vrrp_instance VI_1 {\n  interface eth0\n  state BACKUP\n  virtual_router_id 51\n  \
                          priority 100\n  virtual_ipaddress {\n    192.0.2.100\n  }\n}\n";

/// description: a valid file exits 0 and says so; an invalid one exits 1 with every error,
/// each naming FILE:LINE in HAProxy's style.
#[test]
fn exit_codes_and_haproxy_style_errors() {
    let s = Scratch::new("exit");
    s.file("good.cfg", GOOD).file(
        "bad.cfg",
        "global\n  maxconm 10\n  nbthread 0\nlisten l\n  bind :80\n",
    );
    let ok = rsproxy(&["--check", "-c", "good.cfg"], &s.0);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("Configuration file is valid"));

    let bad = rsproxy(&["--check", "-c", "bad.cfg"], &s.0);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("parsing [bad.cfg:2] : unknown keyword 'maxconm' in 'global' section; did you mean 'maxconn' maybe ?"), "{err}");
    assert!(
        err.contains("parsing [bad.cfg:3] : 'nbthread' value must be between 1 and 64 (was 0)"),
        "{err}"
    );

    let usage = rsproxy(&["--check"], &s.0);
    assert_eq!(usage.status.code(), Some(2));
}

/// description: --format json gives the same diagnostics for machines.
#[test]
fn json_diagnostics() {
    let s = Scratch::new("json");
    s.file("bad.cfg", "listen l\n  bind :80\n  balance nope\n");
    let out = rsproxy(&["--check", "--format", "json", "-c", "bad.cfg"], &s.0);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(v["valid"], false);
    let d = &v["diagnostics"].as_array().expect("array")[0];
    assert_eq!(
        (
            d["severity"].as_str(),
            d["line"].as_u64(),
            d["col"].as_u64()
        ),
        (Some("error"), Some(3), Some(11))
    );
    assert_eq!(d["file"], "bad.cfg");
    assert_eq!(d["dialect"], "haproxy");
}

/// description: -V shows the source line with a caret under the faulty word.
#[test]
fn verbose_shows_a_caret() {
    let s = Scratch::new("caret");
    s.file("bad.cfg", "listen l\n  bind :80\n  balance nope\n");
    let out = rsproxy(&["--check", "-V", "-c", "bad.cfg"], &s.0);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("    |   balance nope\n    |           ^\n"),
        "{err}"
    );
}

/// description: --dump-ir prints the typed configuration with defaults inherited.
#[test]
fn dump_ir_is_typed_and_inherits_defaults() {
    let s = Scratch::new("ir");
    s.file("good.cfg", GOOD);
    let out = rsproxy(&["--dump-ir", "-c", "good.cfg"], &s.0);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let proxies = v["haproxy"]["proxies"].as_array().expect("proxies");
    let app = proxies
        .iter()
        .find(|p| p["name"]["node"] == "app")
        .expect("backend app");
    assert_eq!(
        app["settings"]["mode"]["node"], "Http",
        "mode inherited from defaults"
    );
    assert_eq!(
        app["settings"]["timeouts"]["Connect"]["node"]["micros"],
        5_000_000
    );
    assert_eq!(app["servers"][0]["opts"]["check"], true);
}

/// description: with both files, a bind on the floating IP is fine; a bind on an address
/// that is neither floating nor local is a warning that names the floating IPs.
#[test]
fn binds_are_checked_against_floating_ips() {
    let s = Scratch::new("vip");
    s.file("haproxy.cfg", GOOD)
        .file("keepalived.conf", KEEPALIVED);
    s.file("other.cfg", &GOOD.replace("192.0.2.100:80", "192.0.2.7:80"));
    let out = rsproxy(
        &["--check", "-c", "haproxy.cfg", "-k", "keepalived.conf"],
        &s.0,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("not a floating IP"), "{err}");

    let out = rsproxy(
        &["--check", "-V", "-c", "other.cfg", "-k", "keepalived.conf"],
        &s.0,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "a warning, not an error: {err}");
    assert!(
        err.contains(
            "parsing [other.cfg:7] : frontend 'www' binds 192.0.2.7, which is not a floating IP"
        ),
        "{err}"
    );
    assert!(err.contains("floating IPs: 192.0.2.100 (VI_1)"), "{err}");
}

/// description: keepalived diagnostics are in keepalived's style and name FILE: Line N.
#[test]
fn keepalived_style_errors() {
    let s = Scratch::new("kl");
    s.file(
        "k.conf",
        &KEEPALIVED.replace("priority 100", "priority 300"),
    );
    let out = rsproxy(&["--check", "-k", "k.conf"], &s.0);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("(k.conf: Line 5)"), "{err}");
}

/// description: running VRRP on an interface that does not exist fails at start, naming the
/// instance and the interface, instead of running without the floating IP.
#[test]
fn running_with_vrrp_on_a_missing_interface_fails_naming_it() {
    // (An interface that does not exist: this test must never run VRRP on the host's own
    // interfaces. The VRRP runtime is tested in network namespaces, compat-tests/tests/vrrp.rs.)
    let s = Scratch::new("run");
    s.file(
        "keepalived.conf",
        &KEEPALIVED.replace("interface eth0", "interface rsp-none0"),
    );
    let out = rsproxy(&["-k", "keepalived.conf"], &s.0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("vrrp_instance VI_1: no interface named rsp-none0"),
        "{stderr}"
    );
}
