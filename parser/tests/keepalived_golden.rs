//! Golden test: every `fixtures/keepalived/NAME.conf` is checked by rsproxy, which must give
//! the verdict stored in `NAME.expect` (its `rsproxy-verdict` if it deliberately differs from
//! keepalived) and, for an invalid config, name at least every expected error line.
//! `SHOW=PREFIX cargo test --test keepalived_golden -- --nocapture` prints rsproxy's diagnostics
//! for the fixtures whose name starts with PREFIX.
//! Plus a property test: the parser never panics and every diagnostic has a line >= 1.
//!
//! Fixtures and their `.expect` (format in `fixtures/README.md`) are read with `compat_tests`,
//! a dev-dependency (compat-tests only dev-depends on this crate, so there is no cycle in what
//! gets built).

use compat_tests::{fixtures, missing_locations, verdict_word, ErrorAt};
use proptest::prelude::*;
use rsproxy_parser::{check, CheckInput, Env, Severity};

#[test]
fn every_keepalived_fixture_gets_the_expected_verdict_and_lines() {
    let mut failures = Vec::new();
    let all = fixtures("keepalived");
    assert!(
        all.len() >= 50,
        "expected at least 50 keepalived fixtures, found {}",
        all.len()
    );
    for (path, expect) in all {
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
        let want = expect.rsproxy_verdict();
        if checked.is_valid() != want {
            failures.push(format!(
                "{name}: expected {}, rsproxy says {}\n{rendered}",
                verdict_word(want),
                verdict_word(checked.is_valid())
            ));
            continue;
        }
        if want {
            continue;
        }
        let errors: Vec<ErrorAt> = checked
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| ErrorAt {
                file: checked.sources.name(d.span.file),
                line: d.span.line,
                message: d.message.clone(),
            })
            .collect();
        for (file, line) in missing_locations(expect.rsproxy_lines(), &errors) {
            failures.push(format!(
                "{name}: no rsproxy error names {file}:{line}\n{rendered}"
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
