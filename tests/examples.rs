//! Every example configuration passes `rsproxy --check`, as it passes the real tools.
//!
//! Runs the built binary from the example's directory (certificates are referenced by
//! relative path, as users write them).

use std::path::Path;
use std::process::Command;

fn check(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rsproxy"))
        .arg("--check")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run rsproxy");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn examples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// description: the quickstart of the README is valid.
#[test]
fn quickstart_is_valid() {
    let (ok, err) = check(&examples().join("quickstart"), &["-c", "haproxy.cfg"]);
    assert!(ok, "{err}");
}

/// description: seed 000 (HA web farm): haproxy.cfg with each node's keepalived.conf.
#[test]
fn seed_000_is_valid_on_both_nodes() {
    for node in ["keepalived-lb1.conf", "keepalived-lb2.conf"] {
        let (ok, err) = check(
            &examples().join("seed-000-webfarm"),
            &["-c", "haproxy.cfg", "-k", node],
        );
        assert!(ok, "{node}: {err}");
        // The seed tracks `killall -0 haproxy`; in one-process mode that finds nothing.
        assert!(
            err.contains("haproxy"),
            "{node}: expected the one-process warning, got: {err}"
        );
    }
}

/// description: seed 002 (bank PaaS): TLS, routing, persistence, keepalived with notifications.
#[test]
fn seed_002_is_valid() {
    let (ok, err) = check(
        &examples().join("seed-002-bank-paas"),
        &["-c", "haproxy.cfg", "-k", "keepalived.conf"],
    );
    assert!(ok, "{err}");
}

/// description: the HAProxy 1.4 config the first seed was written with is rejected, naming
/// each legacy line, as HAProxy 2.6 rejects it.
#[test]
fn seed_000_legacy_config_is_rejected_with_its_lines() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds/reconstructed");
    let file = seeds.join("lb-haproxy-1.4.cfg");
    if !file.exists() {
        eprintln!("skipped: {} not present", file.display());
        return;
    }
    let (ok, err) = check(&seeds, &["-c", "lb-haproxy-1.4.cfg"]);
    assert!(!ok);
    for line in [15, 17, 18, 19, 21] {
        assert!(
            err.contains(&format!("lb-haproxy-1.4.cfg:{line}]")),
            "line {line} not named in:\n{err}"
        );
    }
    assert!(err.contains("Use 'timeout connect'"), "{err}");
}
