//! Differential check of configuration verdicts, with the real HAProxy (needs `haproxy` on
//! PATH; CI installs it):
//!
//! - `haproxy_still_agrees_with_fixtures` re-runs `haproxy -c -f NAME` on every fixture of
//!   `fixtures/haproxy/` exactly as `fixtures/capture-haproxy.sh` does and asserts its verdict and
//!   error lines are still the stored ones (oracle drift: a new haproxy build, a changed fixture).
//! - `rsproxy_agrees_with_haproxy` runs `rsproxy --check --format json` (the binary at
//!   `RSPROXY_BIN`, else `target/debug/rsproxy` of the workspace: build it first) on the same
//!   fixtures and compares its verdict and error lines with what haproxy says now, minus the
//!   deliberate differences recorded in the `.expect` (`rsproxy-*` lines).
//!
//! Both check every fixture and fail once at the end with a table of the mismatches.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use compat_tests::{
    disagreement, expected_text, fixtures, fixtures_dir, locations_text, rsproxy_check, run, table,
    truncate, verdict_word, Expect, Location,
};

/// A check that takes longer than this is reported as hanging.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Every `[FILE:LINE]` in the `[ALERT]` lines of haproxy's output, in order, without repeats:
/// the same rule as `grep '^\[ALERT\]' | grep -oE '\[[^] []+:[0-9]+\]'` in the capture script.
fn alert_locations(output: &str) -> Vec<Location> {
    let mut found: Vec<Location> = Vec::new();
    for line in output.lines().filter(|l| l.starts_with("[ALERT]")) {
        let mut rest = line;
        while let Some(open) = rest.find('[') {
            let after = &rest[open + 1..];
            let end = after.find([']', '[', ' ']).unwrap_or(after.len());
            if after[end..].starts_with(']') {
                if let Some((file, num)) = after[..end].rsplit_once(':') {
                    if !file.is_empty()
                        && !num.is_empty()
                        && num.bytes().all(|b| b.is_ascii_digit())
                    {
                        if let Ok(n) = num.parse() {
                            let loc = (file.to_string(), n);
                            if !found.contains(&loc) {
                                found.push(loc);
                            }
                        }
                    }
                }
                rest = &after[end + 1..];
            } else {
                rest = after;
            }
        }
    }
    found
}

/// Runs `f` on every fixture on a few threads; results in fixture order.
fn par_map<T: Send>(
    all: &[(PathBuf, Expect)],
    f: impl Fn(&str, &Expect) -> T + Sync,
) -> Vec<(String, T)> {
    let names: Vec<String> = all
        .iter()
        .map(|(p, _)| {
            p.file_name()
                .and_then(|n| n.to_str())
                .expect("UTF-8 name")
                .to_string()
        })
        .collect();
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..all.len()).map(|_| None).collect());
    let next = Mutex::new(0usize);
    let threads = std::thread::available_parallelism()
        .map_or(4, |n| n.get())
        .min(8);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().unwrap();
                    let i = *n;
                    *n += 1;
                    i
                };
                if i >= all.len() {
                    break;
                }
                let r = f(&names[i], &all[i].1);
                results.lock().unwrap()[i] = Some(r);
            });
        }
    });
    let results = results.into_inner().unwrap();
    names
        .into_iter()
        .zip(results.into_iter().map(|r| r.expect("every fixture ran")))
        .collect()
}

/// The haproxy to run, after checking it is installed.
fn haproxy() -> (PathBuf, String) {
    let bin = PathBuf::from(std::env::var_os("HAPROXY").unwrap_or_else(|| "haproxy".into()));
    let out = Command::new(&bin).arg("-v").output().unwrap_or_else(|e| {
        panic!(
            "cannot run `{} -v` ({e}). These tests need the real HAProxy 2.6: install it \
             (Debian/Ubuntu: `apt-get install haproxy`) and run `cargo test -p compat-tests` \
             again, as CI does; `fixtures/README.md` describes the fixtures. `HAPROXY` may \
             name another binary.",
            bin.display()
        )
    });
    // "HAProxy version 2.6.12-1+deb12u4 2026/..." -> "2.6.12"
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text
        .split_whitespace()
        .nth(2)
        .map(|v| {
            v.chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect()
        })
        .unwrap_or_default();
    (bin, version)
}

/// What haproxy says about one fixture now.
struct Verdict {
    valid: bool,
    lines: Vec<Location>,
    summary: String,
}

/// Runs haproxy as the capture script does: in the fixture's directory, with an empty
/// environment except PATH and the fixture's `env:` lines (`env -i PATH=$PATH ...`).
fn haproxy_verdict(bin: &Path, dir: &Path, name: &str, expect: &Expect) -> Verdict {
    let r = run(bin, &["-c", "-f", name], dir, &expect.env, TIMEOUT);
    let text = r.text();
    let first_alert = text
        .lines()
        .find(|l| l.starts_with("[ALERT]"))
        .map(|l| l.split_once(" : ").map_or(l, |(_, rest)| rest).to_string());
    let summary = match r.timed_out {
        Some(limit) => format!("no answer within {}s", limit.as_secs()),
        None => first_alert.unwrap_or_else(|| format!("exit {:?}", r.exit)),
    };
    Verdict {
        valid: r.exit == Some(0),
        lines: alert_locations(&text),
        summary,
    }
}

#[test]
fn haproxy_still_agrees_with_fixtures() {
    let (bin, version) = haproxy();
    let dir = fixtures_dir().join("haproxy");
    let all = fixtures("haproxy");
    assert!(!all.is_empty(), "no fixtures found in {}", dir.display());

    let results = par_map(&all, |name, expect| {
        haproxy_verdict(&bin, &dir, name, expect)
    });
    let mut rows = Vec::new();
    let mut tools = Vec::new();
    for ((name, now), (_, expect)) in results.iter().zip(&all) {
        if now.valid != expect.valid || now.lines != expect.error_lines {
            rows.push([
                name.clone(),
                truncate(
                    &format!(
                        "{} {}",
                        verdict_word(expect.valid),
                        locations_text(&expect.error_lines)
                    ),
                    70,
                ),
                truncate(
                    &format!("{} {}", verdict_word(now.valid), locations_text(&now.lines)),
                    70,
                ),
                truncate(&now.summary, 120),
            ]);
            if !tools.contains(&expect.tool) {
                tools.push(expect.tool.clone());
            }
        }
    }
    assert!(
        rows.is_empty(),
        "haproxy {version} ({}) no longer says what {} of {} .expect files in {} say \
         (captured with: {}). If the fixture or haproxy changed on purpose, re-run \
         fixtures/capture-haproxy.sh and review the diff.\n\n{}",
        bin.display(),
        rows.len(),
        all.len(),
        dir.display(),
        tools.join(", "),
        table(
            ["fixture", "stored", "haproxy now", "haproxy's first alert"],
            &rows
        )
    );
}

/// The rsproxy binary to test.
fn rsproxy() -> PathBuf {
    let bin = match std::env::var_os("RSPROXY_BIN") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/rsproxy"),
    };
    assert!(
        bin.is_file(),
        "no rsproxy binary at {}: build it first (`cargo build -p rsproxy`) or set RSPROXY_BIN",
        bin.display()
    );
    bin
}

#[test]
fn rsproxy_agrees_with_haproxy() {
    let (haproxy_bin, _) = haproxy();
    let rsproxy_bin = rsproxy();
    let dir = fixtures_dir().join("haproxy");
    let all = fixtures("haproxy");
    assert!(!all.is_empty(), "no fixtures found in {}", dir.display());

    let results = par_map(&all, |name, expect| {
        let now = haproxy_verdict(&haproxy_bin, &dir, name, expect);
        let got = rsproxy_check(&rsproxy_bin, &dir, name, &expect.env, TIMEOUT);
        (now, got)
    });
    let mut rows = Vec::new();
    for ((name, (now, got)), (_, expect)) in results.iter().zip(&all) {
        // haproxy's word now, except where rsproxy deliberately differs.
        let want = expect.rsproxy_valid.unwrap_or(now.valid);
        let lines = expect.rsproxy_error_lines.as_deref().unwrap_or(&now.lines);
        if let Some(what) = disagreement(want, lines, got) {
            rows.push([
                name.clone(),
                truncate(&expected_text(want, lines), 60),
                truncate(&what, 60),
                truncate(&got.first, 100),
            ]);
        }
    }
    assert!(
        rows.is_empty(),
        "rsproxy ({}) disagrees with haproxy on {} of {} fixtures in {}:\n\n{}",
        rsproxy_bin.display(),
        rows.len(),
        all.len(),
        dir.display(),
        table(
            ["fixture", "expected", "rsproxy", "first rsproxy diagnostic"],
            &rows
        )
    );
}

#[test]
fn alert_locations_follow_the_capture_script() {
    let out = "[NOTICE]   (1) : haproxy version is 2.6.12\n\
               [ALERT]    (1) : config : parsing [a.cfg:5] : unknown keyword 'x'\n\
               [ALERT]    (1) : config : [d.d/20-b.cfg:7] : 'server' ... [a.cfg:5] again\n\
               [ALERT]    (1) : config : http frontend 'f' (a.cfg:3) uses [not a location]\n\
               [WARNING]  (1) : config : parsing [a.cfg:9] : only a warning\n";
    assert_eq!(
        alert_locations(out),
        vec![("a.cfg".to_string(), 5), ("d.d/20-b.cfg".to_string(), 7)]
    );
}
