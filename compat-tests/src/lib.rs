//! Shared pieces of the fixture tests (`tests/golden.rs`, `compat-tests/tests/*.rs`,
//! `parser/tests/keepalived_golden.rs`):
//!
//! - reading fixture expectations ([`Expect`], [`fixtures`]; the format is described in
//!   `fixtures/README.md`);
//! - running a process with a timeout ([`run`]) and reading `rsproxy --check --format json`
//!   ([`CheckReport`], [`rsproxy_check`]);
//! - comparing rsproxy with an expected verdict ([`disagreement`], [`missing_locations`]);
//! - the mismatch report ([`table`], [`expected_text`], [`truncate`], [`verdict_word`],
//!   [`locations_text`], [`basename`]).

pub mod netns;
pub mod runtime;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A `(file, line)` place in a configuration, as fixtures and diagnostics name it.
pub type Location = (String, u32);

/// What a real tool said about one fixture, plus rsproxy's deliberate differences.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expect {
    pub tool: String,
    pub valid: bool,
    /// `(file name, line)` pairs named by the tool's errors.
    pub error_lines: Vec<(String, u32)>,
    pub env: Vec<(String, String)>,
    pub rsproxy_valid: Option<bool>,
    pub rsproxy_error_lines: Option<Vec<(String, u32)>>,
    pub rsproxy_reason: Option<String>,
    pub output: String,
}

impl Expect {
    /// The verdict rsproxy must give.
    pub fn rsproxy_verdict(&self) -> bool {
        self.rsproxy_valid.unwrap_or(self.valid)
    }
    /// The lines rsproxy must name.
    pub fn rsproxy_lines(&self) -> &[(String, u32)] {
        self.rsproxy_error_lines
            .as_deref()
            .unwrap_or(&self.error_lines)
    }

    pub fn parse(text: &str) -> Result<Expect, String> {
        let mut e = Expect::default();
        let mut verdict = None;
        let mut lines = text.lines();
        for line in lines.by_ref() {
            if line == "--- output" {
                break;
            }
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = line
                .split_once(':')
                .ok_or_else(|| format!("not 'key: value': {line}"))?;
            let value = value.trim();
            match key {
                "tool" => e.tool = value.to_string(),
                "verdict" => verdict = Some(parse_verdict(value)?),
                "error-lines" => e.error_lines = parse_locations(value)?,
                "env" => {
                    let (k, v) = value.split_once('=').ok_or("env: needs NAME=value")?;
                    e.env.push((k.to_string(), v.to_string()));
                }
                "rsproxy-verdict" => e.rsproxy_valid = Some(parse_verdict(value)?),
                "rsproxy-error-lines" => e.rsproxy_error_lines = Some(parse_locations(value)?),
                "rsproxy-reason" => e.rsproxy_reason = Some(value.to_string()),
                other => return Err(format!("unknown key '{other}'")),
            }
        }
        e.output = lines.collect::<Vec<_>>().join("\n");
        e.valid = verdict.ok_or("missing 'verdict:'")?;
        if (e.rsproxy_valid.is_some() || e.rsproxy_error_lines.is_some())
            && e.rsproxy_reason.is_none()
        {
            return Err("rsproxy-* lines need an rsproxy-reason".into());
        }
        Ok(e)
    }
}

fn parse_verdict(v: &str) -> Result<bool, String> {
    match v {
        "valid" => Ok(true),
        "invalid" => Ok(false),
        other => Err(format!("verdict must be valid or invalid, not '{other}'")),
    }
}

fn parse_locations(v: &str) -> Result<Vec<(String, u32)>, String> {
    v.split_whitespace()
        .map(|tok| {
            let (f, l) = tok
                .rsplit_once(':')
                .ok_or_else(|| format!("not FILE:LINE: {tok}"))?;
            let l = l.parse().map_err(|_| format!("bad line number in {tok}"))?;
            Ok((f.to_string(), l))
        })
        .collect()
}

/// The fixtures directory of the workspace.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// Every fixture of one kind (`"haproxy"` → `*.cfg` files and `*.d` dirs, `"keepalived"` →
/// `*.conf`), sorted, each with its parsed `.expect`.
pub fn fixtures(kind: &str) -> Vec<(PathBuf, Expect)> {
    let dir = fixtures_dir().join(kind);
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return out;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let is_fixture = match kind {
            "haproxy" => name.ends_with(".cfg") || (p.is_dir() && name.ends_with(".d")),
            _ => name.ends_with(".conf"),
        };
        if !is_fixture {
            continue;
        }
        let expect_path = dir.join(format!("{name}.expect"));
        let expect_path = if expect_path.exists() {
            expect_path
        } else {
            p.with_extension("expect")
        };
        let text = std::fs::read_to_string(&expect_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expect_path.display()));
        let expect =
            Expect::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", expect_path.display()));
        out.push((p, expect));
    }
    out
}

/// Output and exit status of one process (see [`run`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Run {
    /// Exit code; `None` when killed by a signal or by the timeout.
    pub exit: Option<i32>,
    /// `Some(limit)` when the process was still running after `limit` and was killed.
    pub timed_out: Option<Duration>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Run {
    /// stderr then stdout, as text (haproxy writes its messages to both).
    pub fn text(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.stderr).into_owned();
        text.push_str(&String::from_utf8_lossy(&self.stdout));
        text
    }
}

/// Runs `program args...` in `dir` with an empty environment except `PATH` and `env` (as
/// `env -i PATH=$PATH NAME=value... program args...` does in the capture scripts) and stdin
/// from `/dev/null`. stdout and stderr are drained on threads while it runs, so a process that
/// writes a lot cannot block on a full pipe; one still running after `timeout` is killed.
///
/// Panics when `program` cannot be started.
pub fn run(
    program: &Path,
    args: &[&str],
    dir: &Path,
    env: &[(String, String)],
    timeout: Duration,
) -> Run {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let out_reader = drain(Box::new(child.stdout.take().expect("stdout is piped")));
    let err_reader = drain(Box::new(child.stderr.take().expect("stderr is piped")));
    let start = Instant::now();
    let mut timed_out = None;
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .unwrap_or_else(|e| panic!("wait for {}: {e}", program.display()))
        {
            break Some(status);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            timed_out = Some(timeout);
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Run {
        exit: status.and_then(|s| s.code()),
        timed_out,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

/// One diagnostic of severity "error": where, and what it says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorAt {
    pub file: String,
    pub line: u32,
    pub message: String,
}

/// What one `rsproxy --check --format json` run said.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Exit code (`None`: killed by a signal or by the timeout).
    pub exit: Option<i32>,
    /// `Some(limit)` when it did not answer within `limit`.
    pub timed_out: Option<Duration>,
    /// `valid` from the JSON report (`None`: no parsable JSON on stdout, or no `valid`).
    pub json_valid: Option<bool>,
    /// Every diagnostic with severity "error", in order.
    pub errors: Vec<ErrorAt>,
    /// The first diagnostic of any severity (`SEVERITY: FILE:LINE: MESSAGE`), else the first
    /// non-blank line of stderr (`stderr: ...`), else empty: for the mismatch report.
    pub first: String,
}

impl CheckReport {
    /// Reads the JSON report on `run`'s stdout (`{"valid": bool, "diagnostics": [{"severity",
    /// "file", "line", "message", ...}]}`).
    pub fn from_run(run: &Run) -> CheckReport {
        let mut report = CheckReport {
            exit: run.exit,
            timed_out: run.timed_out,
            json_valid: None,
            errors: Vec::new(),
            first: String::from_utf8_lossy(&run.stderr)
                .lines()
                .find(|l| !l.trim().is_empty())
                .map(|l| format!("stderr: {l}"))
                .unwrap_or_default(),
        };
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(&run.stdout) else {
            return report;
        };
        report.json_valid = json.get("valid").and_then(|v| v.as_bool());
        let diagnostics = json
            .get("diagnostics")
            .and_then(|d| d.as_array())
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (i, d) in diagnostics.iter().enumerate() {
            let field = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
            let line = d.get("line").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
            let (severity, file, message) = (field("severity"), field("file"), field("message"));
            if i == 0 {
                report.first = format!("{severity}: {file}:{line}: {message}");
            }
            if severity == "error" {
                report.errors.push(ErrorAt {
                    file,
                    line,
                    message,
                });
            }
        }
        report
    }
}

/// Runs `bin --check --format json -c name` in `dir` (see [`run`] for the environment and
/// `timeout`) and reads its report.
pub fn rsproxy_check(
    bin: &Path,
    dir: &Path,
    name: &str,
    env: &[(String, String)],
    timeout: Duration,
) -> CheckReport {
    let r = run(
        bin,
        &["--check", "--format", "json", "-c", name],
        dir,
        env,
        timeout,
    );
    CheckReport::from_run(&r)
}

/// The locations of `expected` that no error of `errors` names, comparing the file's base name
/// (so `d.d/a.cfg:5` and `a.cfg:5` are the same place) and the line.
pub fn missing_locations<'a>(expected: &'a [Location], errors: &[ErrorAt]) -> Vec<&'a Location> {
    expected
        .iter()
        .filter(|(file, line)| {
            !errors
                .iter()
                .any(|e| e.line == *line && basename(&e.file) == basename(file))
        })
        .collect()
}

/// `None` when rsproxy's report gives the verdict `want` (exit status 0 or 1 and the JSON
/// `valid`, which must agree) and, when `want` is invalid, has an error at every one of
/// `lines` (see [`missing_locations`]); else what rsproxy said instead, for the report.
pub fn disagreement(want: bool, lines: &[Location], got: &CheckReport) -> Option<String> {
    if let Some(limit) = got.timed_out {
        return Some(format!("no answer within {}s", limit.as_secs()));
    }
    let (exit, exit_verdict) = match got.exit {
        Some(0) => (0, true),
        Some(1) => (1, false),
        other => return Some(format!("exit status {other:?} (expected 0 or 1)")),
    };
    let Some(json_valid) = got.json_valid else {
        return Some(format!(
            "{} by exit {exit}, no JSON report",
            verdict_word(exit_verdict)
        ));
    };
    if exit_verdict != json_valid {
        return Some(format!("exit {exit} but JSON valid={json_valid}"));
    }
    if json_valid != want {
        return Some(verdict_word(json_valid).to_string());
    }
    if !want {
        let missing = missing_locations(lines, &got.errors);
        if !missing.is_empty() {
            let missing: Vec<String> = missing
                .iter()
                .map(|(f, l)| format!("{}:{l}", basename(f)))
                .collect();
            return Some(format!("invalid, no error at {}", missing.join(" ")));
        }
    }
    None
}

/// The last component of a path (`d.d/20-b.cfg` -> `20-b.cfg`), or `file` itself when it has
/// none.
pub fn basename(file: &str) -> &str {
    Path::new(file)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(file)
}

/// `"valid"` or `"invalid"`.
pub fn verdict_word(valid: bool) -> &'static str {
    if valid {
        "valid"
    } else {
        "invalid"
    }
}

/// `s` cut to `max` characters, with `...` after it when it was longer.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(max).collect::<String>())
    }
}

/// `FILE:LINE FILE:LINE ...`, or `-` for none.
pub fn locations_text(locs: &[Location]) -> String {
    if locs.is_empty() {
        "-".to_string()
    } else {
        locs.iter()
            .map(|(f, l)| format!("{f}:{l}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What rsproxy should say, for the report: `valid`, `invalid`, or `invalid at A:1 B:2` (base
/// names) when `lines` names places.
pub fn expected_text(want: bool, lines: &[Location]) -> String {
    if want || lines.is_empty() {
        return verdict_word(want).to_string();
    }
    let lines: Vec<Location> = lines
        .iter()
        .map(|(f, l)| (basename(f).to_string(), *l))
        .collect();
    format!("invalid at {}", locations_text(&lines))
}

/// A text table, one line a row, the first three columns padded to their widest cell and
/// separated by ` | `.
pub fn table(header: [&str; 4], rows: &[[String; 4]]) -> String {
    let header = header.map(String::from);
    let all: Vec<&[String; 4]> = std::iter::once(&header).chain(rows).collect();
    let width = |c: usize| all.iter().map(|r| r[c].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    all.iter()
        .map(|r| format!("{:w0$} | {:w1$} | {:w2$} | {}\n", r[0], r[1], r[2], r[3]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_format() {
        let e = Expect::parse(
            "tool: haproxy 2.6.12\nverdict: invalid\nerror-lines: a.cfg:5 a.cfg:9\nenv: X=1\n\
             rsproxy-verdict: valid\nrsproxy-reason: because\n--- output\n[ALERT] x\n",
        )
        .unwrap();
        assert!(!e.valid);
        assert!(e.rsproxy_verdict());
        assert_eq!(
            e.error_lines,
            vec![("a.cfg".into(), 5), ("a.cfg".into(), 9)]
        );
        assert_eq!(e.env, vec![("X".into(), "1".into())]);
        assert_eq!(e.output, "[ALERT] x");
        assert!(Expect::parse("verdict: valid\nrsproxy-verdict: invalid\n").is_err());
        assert!(Expect::parse("tool: x\n").is_err());
    }

    fn loc(f: &str, l: u32) -> Location {
        (f.to_string(), l)
    }

    fn err(f: &str, l: u32) -> ErrorAt {
        ErrorAt {
            file: f.to_string(),
            line: l,
            message: "m".to_string(),
        }
    }

    /// A report that says `valid` by exit status and JSON, with these errors.
    fn report(valid: bool, errors: Vec<ErrorAt>) -> CheckReport {
        CheckReport {
            exit: Some(if valid { 0 } else { 1 }),
            json_valid: Some(valid),
            errors,
            ..CheckReport::default()
        }
    }

    #[test]
    fn small_text_helpers() {
        assert_eq!(basename("d.d/20-b.cfg"), "20-b.cfg");
        assert_eq!(basename("/etc/a.cfg"), "a.cfg");
        assert_eq!(basename("a.cfg"), "a.cfg");
        assert_eq!(basename(".."), "..");
        assert_eq!(verdict_word(true), "valid");
        assert_eq!(verdict_word(false), "invalid");
        assert_eq!(truncate("abcdef", 6), "abcdef");
        assert_eq!(truncate("abcdef", 3), "abc...");
        assert_eq!(truncate("ééé", 2), "éé...");
        assert_eq!(locations_text(&[]), "-");
        assert_eq!(
            locations_text(&[loc("a.cfg", 5), loc("d.d/b.cfg", 7)]),
            "a.cfg:5 d.d/b.cfg:7"
        );
        assert_eq!(expected_text(true, &[loc("a.cfg", 5)]), "valid");
        assert_eq!(expected_text(false, &[]), "invalid");
        assert_eq!(
            expected_text(false, &[loc("d.d/a.cfg", 5), loc("b.cfg", 1)]),
            "invalid at a.cfg:5 b.cfg:1"
        );
    }

    #[test]
    fn table_pads_the_first_three_columns() {
        let rows = [["long-name".to_string(), "x".into(), "yy".into(), "z".into()]];
        assert_eq!(
            table(["f", "expected", "got", "first"], &rows),
            "f         | expected | got | first\n\
             long-name | x        | yy  | z\n"
        );
        assert_eq!(table(["a", "b", "c", "d"], &[]), "a | b | c | d\n");
    }

    #[test]
    fn reads_the_json_report() {
        let run = Run {
            exit: Some(1),
            stdout: br#"{"valid":false,"diagnostics":[
                {"severity":"warning","file":"a.cfg","line":2,"message":"w"},
                {"severity":"error","file":"d.d/b.cfg","line":7,"message":"bad"}]}"#
                .to_vec(),
            stderr: b"ignored\n".to_vec(),
            ..Run::default()
        };
        let r = CheckReport::from_run(&run);
        assert_eq!(r.exit, Some(1));
        assert_eq!(r.json_valid, Some(false));
        assert_eq!(
            r.errors,
            vec![ErrorAt {
                file: "d.d/b.cfg".into(),
                line: 7,
                message: "bad".into()
            }]
        );
        assert_eq!(r.first, "warning: a.cfg:2: w");

        // No JSON: the first non-blank stderr line stands in for a diagnostic.
        let r = CheckReport::from_run(&Run {
            exit: Some(101),
            stdout: b"not json".to_vec(),
            stderr: b"\n  \nthread 'main' panicked\n".to_vec(),
            ..Run::default()
        });
        assert_eq!(r.json_valid, None);
        assert!(r.errors.is_empty());
        assert_eq!(r.first, "stderr: thread 'main' panicked");

        // Valid JSON without diagnostics and a quiet stderr: nothing to show.
        let r = CheckReport::from_run(&Run {
            exit: Some(0),
            stdout: br#"{"diagnostics":[],"valid":true}"#.to_vec(),
            ..Run::default()
        });
        assert_eq!((r.json_valid, r.first.as_str()), (Some(true), ""));
    }

    #[test]
    fn missing_locations_compare_base_name_and_line() {
        let want = [loc("a.cfg", 5), loc("d.d/b.cfg", 7), loc("a.cfg", 9)];
        let got = [err("/tmp/x/a.cfg", 5), err("b.cfg", 7), err("a.cfg", 8)];
        assert_eq!(missing_locations(&want, &got), vec![&loc("a.cfg", 9)]);
        assert!(missing_locations(&[], &got).is_empty());
    }

    #[test]
    fn disagreement_cases() {
        let lines = [loc("d.d/a.cfg", 5)];
        // Agreement.
        assert_eq!(disagreement(true, &[], &report(true, vec![])), None);
        assert_eq!(
            disagreement(false, &lines, &report(false, vec![err("a.cfg", 5)])),
            None
        );
        // Expected lines only matter for an invalid verdict.
        assert_eq!(disagreement(true, &lines, &report(true, vec![])), None);
        // Wrong verdict.
        assert_eq!(
            disagreement(false, &lines, &report(true, vec![])).as_deref(),
            Some("valid")
        );
        assert_eq!(
            disagreement(true, &[], &report(false, vec![])).as_deref(),
            Some("invalid")
        );
        // Right verdict, a line not named.
        assert_eq!(
            disagreement(false, &lines, &report(false, vec![err("a.cfg", 6)])).as_deref(),
            Some("invalid, no error at a.cfg:5")
        );
        // Exit status and JSON.
        let timed_out = CheckReport {
            timed_out: Some(Duration::from_secs(20)),
            ..CheckReport::default()
        };
        assert_eq!(
            disagreement(true, &[], &timed_out).as_deref(),
            Some("no answer within 20s")
        );
        let crashed = CheckReport {
            exit: Some(101),
            json_valid: Some(true),
            ..CheckReport::default()
        };
        assert_eq!(
            disagreement(true, &[], &crashed).as_deref(),
            Some("exit status Some(101) (expected 0 or 1)")
        );
        let no_json = CheckReport {
            exit: Some(1),
            ..CheckReport::default()
        };
        assert_eq!(
            disagreement(false, &[], &no_json).as_deref(),
            Some("invalid by exit 1, no JSON report")
        );
        let mixed = CheckReport {
            json_valid: Some(false),
            ..report(true, vec![])
        };
        assert_eq!(
            disagreement(false, &[], &mixed).as_deref(),
            Some("exit 0 but JSON valid=false")
        );
    }

    #[test]
    fn run_clears_the_environment_and_keeps_both_streams() {
        let env = [("FIXTURE_VAR".to_string(), "42".to_string())];
        let r = run(
            Path::new("sh"),
            &[
                "-c",
                "echo out $FIXTURE_VAR ${HOME:-nohome}; echo err >&2; exit 3",
            ],
            Path::new("/"),
            &env,
            Duration::from_secs(20),
        );
        assert_eq!(r.exit, Some(3));
        assert_eq!(r.timed_out, None);
        assert_eq!(r.stdout, b"out 42 nohome\n");
        assert_eq!(r.stderr, b"err\n");
        assert_eq!(r.text(), "err\nout 42 nohome\n");
    }

    #[test]
    fn run_kills_a_process_at_the_timeout() {
        let start = Instant::now();
        let r = run(
            Path::new("sh"),
            &["-c", "exec sleep 30"],
            Path::new("/"),
            &[],
            Duration::from_millis(200),
        );
        assert!(start.elapsed() < Duration::from_secs(10));
        assert_eq!(r.exit, None);
        assert_eq!(r.timed_out, Some(Duration::from_millis(200)));
    }
}
