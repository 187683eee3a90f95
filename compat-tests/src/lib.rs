//! Shared pieces of the differential tests: reading fixture expectations.
//!
//! The format is described in `fixtures/README.md`.

pub mod runtime;
use std::path::{Path, PathBuf};

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
}
