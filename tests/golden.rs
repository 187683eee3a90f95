//! Golden test: `rsproxy --check` gives every HAProxy fixture the verdict the real haproxy gave
//! it (stored in its `.expect`, see `fixtures/README.md`), and for an invalid configuration names
//! at least every line haproxy's errors name.
//!
//! No external tool is needed: the expectations were captured by `fixtures/capture-haproxy.sh`.
//! All fixtures are checked; the test fails once at the end with a table of every mismatch.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use compat_tests::{fixtures, fixtures_dir, Expect};

/// A fixture whose check takes longer than this is reported as hanging.
const TIMEOUT: Duration = Duration::from_secs(20);

/// What rsproxy said about one fixture.
struct Outcome {
    /// Exit code (`None`: killed by a signal or by the timeout).
    exit: Option<i32>,
    /// `valid` from the JSON report (`None`: no parsable JSON on stdout).
    json_valid: Option<bool>,
    /// `(file, line, message)` of every diagnostic with severity "error".
    errors: Vec<(String, u32, String)>,
    /// The first diagnostic of any severity, or stderr's first line, for the report.
    first: String,
    timed_out: bool,
}

fn run_rsproxy(bin: &Path, dir: &Path, name: &str, expect: &Expect) -> Outcome {
    let mut cmd = Command::new(bin);
    cmd.args(["--check", "--format", "json", "-c", name])
        .current_dir(dir)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd.envs(expect.env.iter().map(|(k, v)| (k, v)));
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    let mut out_pipe = child.stdout.take().expect("stdout is piped");
    let mut err_pipe = child.stderr.take().expect("stderr is piped");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for rsproxy") {
            break Some(status);
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            timed_out = true;
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    let stderr_first = String::from_utf8_lossy(&stderr)
        .lines()
        .find(|l| !l.trim().is_empty())
        .map(|l| format!("stderr: {l}"))
        .unwrap_or_default();

    let mut outcome = Outcome {
        exit: status.and_then(|s| s.code()),
        json_valid: None,
        errors: Vec::new(),
        first: stderr_first,
        timed_out,
    };
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&stdout) else {
        return outcome;
    };
    outcome.json_valid = json.get("valid").and_then(|v| v.as_bool());
    let diagnostics = json
        .get("diagnostics")
        .and_then(|d| d.as_array())
        .cloned()
        .unwrap_or_default();
    for (i, d) in diagnostics.iter().enumerate() {
        let field = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let line = d.get("line").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
        let (severity, file, message) = (field("severity"), field("file"), field("message"));
        if i == 0 {
            outcome.first = format!("{severity}: {file}:{line}: {message}");
        }
        if severity == "error" {
            outcome.errors.push((file, line, message));
        }
    }
    outcome
}

fn basename(file: &str) -> &str {
    Path::new(file)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(file)
}

fn verdict_word(valid: bool) -> &'static str {
    if valid {
        "valid"
    } else {
        "invalid"
    }
}

/// `None` when rsproxy agrees with the expectation, else what it said instead.
fn disagreement(expect: &Expect, got: &Outcome) -> Option<String> {
    let want = expect.rsproxy_verdict();
    if got.timed_out {
        return Some(format!("no answer within {}s", TIMEOUT.as_secs()));
    }
    let exit_verdict = match got.exit {
        Some(0) => Some(true),
        Some(1) => Some(false),
        _ => None,
    };
    let Some(exit_verdict) = exit_verdict else {
        return Some(format!("exit status {:?} (expected 0 or 1)", got.exit));
    };
    let Some(json_valid) = got.json_valid else {
        return Some(format!(
            "{} by exit {}, no JSON report",
            verdict_word(exit_verdict),
            got.exit.unwrap_or(-1)
        ));
    };
    if exit_verdict != json_valid {
        return Some(format!(
            "exit {} but JSON valid={json_valid}",
            got.exit.unwrap_or(-1)
        ));
    }
    if json_valid != want {
        return Some(verdict_word(json_valid).to_string());
    }
    if !want {
        let missing: Vec<String> = expect
            .rsproxy_lines()
            .iter()
            .filter(|(file, line)| {
                !got.errors
                    .iter()
                    .any(|(f, l, _)| l == line && basename(f) == basename(file))
            })
            .map(|(f, l)| format!("{}:{l}", basename(f)))
            .collect();
        if !missing.is_empty() {
            return Some(format!("invalid, no error at {}", missing.join(" ")));
        }
    }
    None
}

fn expected_text(expect: &Expect) -> String {
    let mut s = verdict_word(expect.rsproxy_verdict()).to_string();
    if !expect.rsproxy_verdict() && !expect.rsproxy_lines().is_empty() {
        let lines: Vec<String> = expect
            .rsproxy_lines()
            .iter()
            .map(|(f, l)| format!("{}:{l}", basename(f)))
            .collect();
        s.push_str(&format!(" at {}", lines.join(" ")));
    }
    s
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(max).collect::<String>())
    }
}

fn table(rows: &[[String; 4]]) -> String {
    let header = ["fixture", "expected", "got", "first rsproxy diagnostic"].map(String::from);
    let all: Vec<&[String; 4]> = std::iter::once(&header).chain(rows).collect();
    let width = |c: usize| all.iter().map(|r| r[c].chars().count()).max().unwrap_or(0);
    let widths = [width(0), width(1), width(2)];
    let mut out = String::new();
    for r in all {
        out.push_str(&format!(
            "{:w0$} | {:w1$} | {:w2$} | {}\n",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        ));
    }
    out
}

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
        let got = run_rsproxy(&bin, &dir, name, expect);
        if let Some(what) = disagreement(expect, &got) {
            rows.push([
                name.to_string(),
                truncate(&expected_text(expect), 60),
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
        table(&rows)
    );
}
