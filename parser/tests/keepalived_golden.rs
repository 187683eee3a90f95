//! Golden test: every `fixtures/keepalived/NAME.conf` is checked by rsproxy, which must give
//! the verdict stored in `NAME.expect` (its `rsproxy-verdict` if it deliberately differs from
//! keepalived) and, for an invalid config, name at least every expected error line.
//! `SHOW=PREFIX cargo test --test keepalived_golden -- --nocapture` prints rsproxy's diagnostics
//! for the fixtures whose name starts with PREFIX.
//! Plus a property test: the parser never panics and every diagnostic has a line >= 1.
//!
//! The `.expect` reader here is a small copy of `compat_tests::Expect` (format in
//! `fixtures/README.md`) so the parser crate does not depend on compat-tests.

use proptest::prelude::*;
use rsproxy_parser::{check, CheckInput, Env, Severity};
use std::path::{Path, PathBuf};

struct Expect {
    valid: bool,
    lines: Vec<(String, u32)>,
    env: Vec<(String, String)>,
}

fn read_expect(path: &Path) -> Expect {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (mut valid, mut rs_valid, mut lines, mut rs_lines, mut env) =
        (None, None, vec![], None, vec![]);
    let locs = |v: &str| -> Vec<(String, u32)> {
        v.split_whitespace()
            .map(|t| {
                let (f, l) = t.rsplit_once(':').expect("FILE:LINE");
                (f.to_string(), l.parse().expect("line number"))
            })
            .collect()
    };
    for line in text.lines().take_while(|l| *l != "--- output") {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k {
            "verdict" => valid = Some(v == "valid"),
            "rsproxy-verdict" => rs_valid = Some(v == "valid"),
            "error-lines" => lines = locs(v),
            "rsproxy-error-lines" => rs_lines = Some(locs(v)),
            "env" => {
                let (a, b) = v.split_once('=').expect("env: NAME=value");
                env.push((a.to_string(), b.to_string()));
            }
            _ => {}
        }
    }
    Expect {
        valid: rs_valid.or(valid).expect("verdict"),
        lines: rs_lines.unwrap_or(lines),
        env,
    }
}

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/keepalived");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/keepalived")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "conf") && p.is_file())
        .collect();
    out.sort();
    out
}

#[test]
fn every_keepalived_fixture_gets_the_expected_verdict_and_lines() {
    let mut failures = Vec::new();
    let all = fixtures();
    assert!(
        all.len() >= 50,
        "expected at least 50 keepalived fixtures, found {}",
        all.len()
    );
    for path in all {
        let expect = read_expect(&path.with_extension("expect"));
        let mut env = Env::empty();
        for (k, v) in &expect.env {
            env.set(k, v);
        }
        let checked = check(&CheckInput {
            keepalived: Some(path.clone()),
            env,
            ..Default::default()
        });
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let rendered = checked.diagnostics.render(&checked.sources, 0, false);
        if std::env::var("SHOW").is_ok_and(|s| name.starts_with(&s)) {
            eprintln!("{name}:\n{rendered}");
        }
        if checked.is_valid() != expect.valid {
            failures.push(format!(
                "{name}: expected {}, rsproxy says {}\n{rendered}",
                if expect.valid { "valid" } else { "invalid" },
                if checked.is_valid() {
                    "valid"
                } else {
                    "invalid"
                }
            ));
            continue;
        }
        let named: Vec<(String, u32)> = checked
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| {
                let f = checked.sources.name(d.span.file);
                let base = Path::new(&f)
                    .file_name()
                    .map(|b| b.to_string_lossy().to_string())
                    .unwrap_or(f);
                (base, d.span.line)
            })
            .collect();
        if expect.valid {
            continue;
        }
        for (file, line) in &expect.lines {
            if !named.iter().any(|(f, l)| f == file && l == line) {
                failures.push(format!(
                    "{name}: no rsproxy error names {file}:{line}\n{rendered}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary text made of keepalived-ish pieces: no panic, every diagnostic has a line.
    #[test]
    fn parse_file_never_panics_and_diagnostics_have_lines(
        text in r#"([a-z_@$!#{}"' \t\n0-9./:=\\-]|vrrp_instance|interface|virtual_ipaddress|include|track_script|\$X=|\$\{X\}|@\^a){0,200}"#
    ) {
        let dir = std::env::temp_dir().join(format!("rsproxy-kl-prop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("fuzz.conf");
        std::fs::write(&path, &text).unwrap();
        let checked = check(&CheckInput { keepalived: Some(path), ..Default::default() });
        for d in checked.diagnostics.iter() {
            prop_assert!(d.span.line >= 1, "diagnostic without a line: {:?}", d);
        }
    }
}
