//! Golden test: `rsproxy --check` gives every HAProxy fixture the verdict the real haproxy gave
//! it (stored in its `.expect`, see `fixtures/README.md`), and for an invalid configuration names
//! at least every line haproxy's errors name.
//!
//! No external tool is needed: the expectations were captured by `fixtures/capture-haproxy.sh`.
//! All fixtures are checked; the test fails once at the end with a table of every mismatch.

use std::path::PathBuf;
use std::time::Duration;

use compat_tests::{
    disagreement, expected_text, fixtures, fixtures_dir, rsproxy_check, table, truncate,
};

/// A fixture whose check takes longer than this is reported as hanging.
const TIMEOUT: Duration = Duration::from_secs(20);

#[test]
fn rsproxy_matches_haproxy_verdicts() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_rsproxy"));
    let dir = fixtures_dir().join("haproxy");
    let all = fixtures("haproxy");
    assert!(!all.is_empty(), "no fixtures found in {}", dir.display());

    let mut rows = Vec::new();
    for (path, expect) in &all {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("fixture name is UTF-8");
        let got = rsproxy_check(&bin, &dir, name, &expect.env, TIMEOUT);
        let (want, lines) = (expect.rsproxy_verdict(), expect.rsproxy_lines());
        if let Some(what) = disagreement(want, lines, &got) {
            rows.push([
                name.to_string(),
                truncate(&expected_text(want, lines), 60),
                truncate(&what, 60),
                truncate(&got.first, 100),
            ]);
        }
    }
    assert!(
        rows.is_empty(),
        "rsproxy --check disagrees with haproxy on {} of {} fixtures in {}:\n\n{}",
        rows.len(),
        all.len(),
        dir.display(),
        table(
            ["fixture", "expected", "got", "first rsproxy diagnostic"],
            &rows
        )
    );
}
