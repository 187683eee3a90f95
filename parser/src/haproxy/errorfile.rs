//! `errorfile CODE FILE`: the file holds a whole HTTP response, which HAProxy reads and checks
//! when it loads its configuration and keeps in memory.
//!
//! Input: the file's bytes. Output: the response split into status line, headers and body
//! ([`ErrorResponse`]), or the message `haproxy -c` gives for the file. An empty file is
//! valid: HAProxy then closes the connection without answering (the manual's
//! `errorfile 408 /dev/null`).
//!
//! The checks are those HAProxy 2.6.12 makes, as observed with `haproxy -c` (offsets count
//! bytes from the start of the file): a status line `HTTP/1.0` or `HTTP/1.1` with a status that is
//! not 1xx, header names made of token characters, a head that ends with an empty line,
//! one Content-Length value matching the body's size, no chunked body, no body on 204/304.

use crate::ir::haproxy::ErrorResponse;

/// Reads and checks an error file; `Ok(None)` for an empty file. Errors read as HAProxy's.
pub fn load(path: &str) -> Result<Option<ErrorResponse>, String> {
    let bytes =
        std::fs::read(path).map_err(|_| format!("errorfile : error opening file '{path}'."))?;
    parse(&bytes).map_err(|m| format!("errorfile : '{path}': {m}"))
}

/// Grammar: `*( [CR] LF ) HTTP/1.x SP+ DIGITS [SP REASON] [CR] LF *( NAME ":" OWS VALUE [CR] LF ) [CR] LF BODY`.
pub fn parse(bytes: &[u8]) -> Result<Option<ErrorResponse>, String> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let offset_err = |at: i64| format!("unable to parse headers (error offset: {at})");
    let mut lines = Lines { bytes, pos: 0 };
    // Empty lines before the status line are skipped.
    let (start, status_line) = loop {
        let at = lines.pos;
        match lines.next() {
            Some([]) => continue,
            Some(l) => break (at, l),
            None => return Err(offset_err(-2)),
        }
    };
    if !status_line.starts_with(b"HTTP/") {
        return Err(offset_err(start as i64));
    }
    let version_end = status_line
        .iter()
        .position(|&b| b == b' ')
        .ok_or_else(|| offset_err((start + status_line.len()) as i64))?;
    let version = &status_line[..version_end];
    let rest = trim_start(&status_line[version_end..]);
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return Err(offset_err((start + status_line.len() - rest.len()) as i64));
    }
    let status: u64 = rest[..digits].iter().fold(0u64, |n, &d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    let reason = match rest.get(digits) {
        None => &[][..],
        Some(b' ') => &rest[digits + 1..],
        Some(_) => {
            return Err(offset_err(
                (start + status_line.len() - rest.len() + digits) as i64,
            ))
        }
    };
    let mut headers = Vec::new();
    let mut content_length: Option<(u64, &[u8])> = None;
    let mut chunked = false;
    loop {
        let at = lines.pos;
        let Some(line) = lines.next() else {
            return Err(offset_err(-2));
        };
        if line.is_empty() {
            break;
        }
        let name_len = line
            .iter()
            .position(|&b| !is_token(b))
            .unwrap_or(line.len());
        if name_len == 0 || line.get(name_len) != Some(&b':') {
            return Err(offset_err((at + name_len) as i64));
        }
        let name = String::from_utf8_lossy(&line[..name_len]).into_owned();
        let value = trim_end(trim_start(&line[name_len + 1..]));
        let value_at = at + (line.len() - trim_start(&line[name_len + 1..]).len());
        if name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(value)
                .ok()
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| offset_err(value_at as i64))?;
            match content_length {
                Some((m, _)) if m != n => return Err(offset_err(value_at as i64)),
                _ => content_length = Some((n, value)),
            }
        }
        if name.eq_ignore_ascii_case("transfer-encoding")
            && value
                .split(|&b| b == b',')
                .any(|t| trim_end(trim_start(t)).eq_ignore_ascii_case(b"chunked"))
        {
            chunked = true;
        }
        headers.push((name, value.to_vec()));
    }
    let body = &bytes[lines.pos..];
    if version != b"HTTP/1.0" && version != b"HTTP/1.1" {
        return Err(format!(
            "invalid http version ({})",
            String::from_utf8_lossy(version)
        ));
    }
    // HAProxy lets odd status lines through ("HTTP/1.1 50 X" is valid) but not 1xx.
    if (100..200).contains(&status) {
        return Err(format!(
            "invalid http status code for an error message ({status})"
        ));
    }
    if chunked {
        return Err("chunk-encoded payload not supported".into());
    }
    if matches!(status, 204 | 304) && !body.is_empty() {
        return Err("message payload not expected".into());
    }
    if let Some((n, _)) = content_length {
        if n != body.len() as u64 {
            return Err(format!(
                "payload size does not match the announced content-length ({} != {n})",
                body.len()
            ));
        }
    }
    Ok(Some(ErrorResponse {
        version: String::from_utf8_lossy(version).into_owned(),
        status: u16::try_from(status).unwrap_or(u16::MAX),
        reason: reason.to_vec(),
        headers,
        body: body.to_vec(),
    }))
}

/// Lines ending in LF or CRLF (without their ending); the last one must be terminated.
struct Lines<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.bytes.get(self.pos..)?;
        let lf = rest.iter().position(|&b| b == b'\n')?;
        self.pos += lf + 1;
        let line = &rest[..lf];
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
    &b[n..]
}

fn trim_end(b: &[u8]) -> &[u8] {
    let n = b
        .iter()
        .rev()
        .take_while(|&&c| c == b' ' || c == b'\t')
        .count();
    &b[..b.len() - n]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// description: the files and verdicts `haproxy -c` 2.6.12 gave for them.
    #[test]
    fn files_as_haproxy_checks_them() {
        let table: &[(&[u8], Option<&str>)] = &[
            (b"HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html></html>\n", None),
            (b"HTTP/1.1 503 Service Unavailable\nContent-Length: 7\n\nbody-g\n", None),
            (b"HTTP/1.1 503\r\nContent-Length: 7\r\n\r\nbody-i\n", None),
            (b"\r\nHTTP/1.1 503 X\r\n\r\n", None),
            (b"HTTP/1.1  503 X\r\n\r\n", None),
            (b"HTTP/1.1 503 X\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab", None),
            (b"garbage\r\n\r\n", Some("unable to parse headers (error offset: 0)")),
            (b"http/1.1 503 X\r\n\r\n", Some("unable to parse headers (error offset: 0)")),
            (b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 7\r\n", Some("unable to parse headers (error offset: -2)")),
            (b"HTTP/1.1 503 X\r\nA: b\r\n\r", Some("unable to parse headers (error offset: -2)")),
            (b"HTTP/1.1 503 X\r\nBadHeader\r\n\r\n", Some("unable to parse headers (error offset: 25)")),
            (b"HTTP/1.1 503 X\r\nGood: a\r\nBad Header: b\r\n\r\n", Some("unable to parse headers (error offset: 28)")),
            (b"HTTP/1.1 503 X\r\n folded: v\r\n\r\n", Some("unable to parse headers (error offset: 16)")),
            (b"HTTP/1.1 503 X\r\nContent-Length: abc\r\n\r\n", Some("unable to parse headers (error offset: 32)")),
            (b"HTTP/1.1 503 X\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", Some("unable to parse headers (error offset: 51)")),
            (b"HTTP/2 503 X\r\n\r\n", Some("invalid http version (HTTP/2)")),
            (b"HTTP/1.1 100 Continue\r\n\r\n", Some("invalid http status code for an error message (100)")),
            (b"HTTP/1.1 503 S\r\nContent-Length: 3\r\n\r\nbody-f\n", Some("payload size does not match the announced content-length (7 != 3)")),
            (b"HTTP/1.1 503 S\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", Some("chunk-encoded payload not supported")),
            (b"HTTP/1.1 204 X\r\nContent-Length: 3\r\n\r\nabc", Some("message payload not expected")),
        ];
        for (file, want) in table {
            let got = parse(file).err();
            assert_eq!(got.as_deref(), *want, "{}", String::from_utf8_lossy(file));
        }
    }

    /// description: a valid file is split into what is sent: version, status, reason as
    /// written, header values trimmed, the body after the empty line; empty file: no answer.
    #[test]
    fn a_valid_file_is_split() {
        let r = parse(b"HTTP/1.0 503 Service  Unavailable\r\nX-A:   v  \r\nContent-Type: text/html\r\n\r\nbody\n")
            .unwrap()
            .unwrap();
        assert_eq!((r.version.as_str(), r.status), ("HTTP/1.0", 503));
        assert_eq!(r.reason, b"Service  Unavailable");
        assert_eq!(r.headers[0], ("X-A".to_string(), b"v".to_vec()));
        assert_eq!(r.body, b"body\n");
        assert_eq!(parse(b"").unwrap(), None);
    }

    /// description: `errorfiles NAME CODE...` keeps its codes; `errorloc*` and `errorfile`
    /// lines keep their order among them; `force-persist`/`ignore-persist` need a condition
    /// and a backend; messages and lines as `haproxy -c` 2.6.12 gave them.
    #[test]
    fn error_directives_and_persist_rules() {
        use crate::haproxy::parse_str;
        use crate::ir::haproxy::ErrorDirective;
        use crate::{Diagnostic, Env};
        let text = "http-errors site\n  errorfile 503 /dev/null\n\
            defaults\n  mode http\n  errorloc303 403 /d\n\
            frontend f\n  bind :80\n  errorfiles site 503 404\n  errorloc 503 http://e.example/x\n\
              errorfiles site\n  errorloc302 500 /y\n  force-persist if TRUE\n  default_backend b\n\
            backend b\n  force-persist if { path_beg /a }\n  ignore-persist unless TRUE\n  server s 127.0.0.1:1\n";
        let (config, diags, _) = parse_str(text, &Env::empty());
        let of = |sev: crate::diag::Severity| -> Vec<(u32, String)> {
            diags
                .iter()
                .filter(|d: &&Diagnostic| d.severity == sev)
                .map(|d| (d.span.line, d.message.clone()))
                .collect()
        };
        assert!(of(crate::diag::Severity::Error).is_empty(), "{diags:?}");
        let warnings = of(crate::diag::Severity::Warning);
        assert!(
            warnings.iter().any(|(l, m)| *l == 8
                && m.contains("status '404' not declared in http-errors section 'site'")),
            "{warnings:?}"
        );
        assert!(
            warnings
                .iter()
                .any(|(l, m)| *l == 12 && m.contains("'force-persist'")),
            "{warnings:?}"
        );
        let f = &config.proxies[0];
        let got: Vec<String> = f
            .settings
            .errorfiles
            .iter()
            .map(|e| match &e.node {
                ErrorDirective::File(f) => format!("file {}", f.status),
                ErrorDirective::Loc {
                    status,
                    redirect,
                    url,
                } => format!("loc {status} {redirect} {url}"),
                ErrorDirective::Section { name, codes } => {
                    format!("section {} {codes:?}", name.node)
                }
            })
            .collect();
        assert_eq!(
            got,
            [
                "loc 403 303 /d",
                "section site [503, 404]",
                "loc 503 302 http://e.example/x",
                "section site []",
                "loc 500 302 /y",
            ]
        );
        assert!(f.persist_rules.is_empty(), "a frontend has no persistence");
        let b = &config.proxies[1];
        let kinds: Vec<(bool, u32)> = b
            .persist_rules
            .iter()
            .map(|r| (r.force, r.span.line))
            .collect();
        assert_eq!(kinds, [(true, 15), (false, 16)]);

        let table: &[(&str, u32, &str)] = &[
            (
                "frontend f\n  bind :80\n  errorfiles site 999\n",
                3,
                "errorfiles : status code '999' not handled.",
            ),
            (
                "frontend f\n  bind :80\n  errorloc 503\n",
                3,
                "errorloc : expects <status_code> and <url> as arguments.",
            ),
            (
                "frontend f\n  bind :80\n  errorloc303 302 /x\n",
                3,
                "errorloc303 : status code '302' not handled.",
            ),
            (
                "backend b\n  force-persist\n",
                2,
                "'force-persist' requires either 'if' or 'unless' followed by a condition.",
            ),
            (
                "backend b\n  ignore-persist foo\n",
                2,
                "'ignore-persist' requires either 'if' or 'unless' followed by a condition.",
            ),
            (
                "defaults\n  force-persist if TRUE\n",
                2,
                "'force-persist' not allowed in 'defaults' section",
            ),
            (
                "http-errors x\n  errorfile 302 /dev/null\n",
                2,
                "status code '302' not handled.",
            ),
            (
                "frontend f\n  bind :80\n  errorfiles nosuch 503\n",
                3,
                "unknown http-errors section 'nosuch'",
            ),
        ];
        for (text, line, want) in table {
            let (_, diags, _) = parse_str(text, &Env::empty());
            assert!(
                diags
                    .iter()
                    .any(|d| d.severity == crate::diag::Severity::Error
                        && d.span.line == *line
                        && d.message.contains(want)),
                "{text}: {diags:?}"
            );
        }
    }
}
