//! Differential test: the real `keepalived -t -f NAME.conf` on every keepalived fixture.
//!
//! Asserts that the stored `.expect` is still what keepalived says (verdict and the lines its
//! messages name) and that rsproxy agrees with keepalived, unless the fixture records a
//! deliberate difference (`rsproxy-reason`). Skipped, with a message, when keepalived is not
//! installed (CI installs it). keepalived needs root for `-t`; CI runs as root.

use compat_tests::{basename, fixtures, verdict_word, Expect, Location};
use rsproxy_parser::{check, CheckInput, Env};
use std::path::Path;
use std::process::Command;

fn keepalived_available() -> bool {
    Command::new("keepalived").arg("-v").output().is_ok()
}

/// Runs keepalived as capture.sh does: (valid, lines named as (basename, line), output).
fn run_keepalived(path: &Path, expect: &Expect) -> (bool, Vec<Location>, String) {
    let dir = path.parent().unwrap();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let mut cmd = Command::new("keepalived");
    cmd.args(["-t", "-f", &name]).current_dir(dir);
    for (k, v) in &expect.env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run keepalived");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<Location> = Vec::new();
    for l in text.lines() {
        let Some(rest) = l.strip_prefix('(') else {
            continue;
        };
        let Some(end) = rest.find(')') else { continue };
        let inner = &rest[..end];
        let (file, num) = match inner.rsplit_once(": Line ") {
            Some((f, n)) => (basename(f).to_string(), n),
            None => match inner.strip_prefix("Line ") {
                Some(n) => (name.clone(), n),
                None => continue,
            },
        };
        if let Ok(n) = num.parse() {
            if !lines.contains(&(file.clone(), n)) {
                lines.push((file, n));
            }
        }
    }
    (out.status.success(), lines, text)
}

#[test]
fn keepalived_still_agrees_with_the_fixtures_and_rsproxy_with_keepalived() {
    if !keepalived_available() {
        eprintln!("SKIPPED: keepalived is not installed; install keepalived 2.2 to run this test");
        return;
    }
    let mut failures = Vec::new();
    for (path, expect) in fixtures("keepalived") {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let (valid, mut lines, text) = run_keepalived(&path, &expect);
        let mut stored = expect.error_lines.clone();
        lines.sort();
        stored.sort();
        if valid != expect.valid || lines != stored {
            failures.push(format!(
                "{name}: keepalived now says {} {lines:?}, the .expect says {} {stored:?} \
                 (re-run fixtures/keepalived/capture.sh?)\n{text}",
                verdict_word(valid),
                verdict_word(expect.valid),
            ));
        }
        let mut env = Env::empty();
        for (k, v) in &expect.env {
            env.set(k, v);
        }
        let checked = check(&CheckInput {
            keepalived: Some(path.clone()),
            env,
            ..Default::default()
        });
        if checked.is_valid() != valid && expect.rsproxy_reason.is_none() {
            failures.push(format!(
                "{name}: keepalived says {}, rsproxy says {} and the fixture gives no rsproxy-reason\n{}",
                verdict_word(valid),
                verdict_word(checked.is_valid()),
                checked.diagnostics.render(&checked.sources, 0, false)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}
