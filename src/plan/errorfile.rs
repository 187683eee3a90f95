//! `errorfile CODE FILE` → the responses that replace HAProxy's own answers. Pure: the parser
//! read and checked the files when it read the configuration, as HAProxy does.
//!
//! HAProxy does not send the file's bytes as they are: it reads the response into its
//! internal form and its HTTP/1 layer writes it again (observed with haproxy 2.6.12). The
//! status line keeps the file's version and reason; header names are written in lower case
//! with their values trimmed, in file order; `Connection` fields are dropped and replaced by
//! the connection's mode, written last. Without a Content-Length the body ends when the
//! connection closes; with one the connection stays open unless the file says
//! `Connection: close`. An HTTP/1.0 response that keeps the connection open gets
//! `connection: keep-alive`; an HTTP/1.1 response that closes it gets `connection: close`.
//!
//! `errorloc CODE URL` / `errorloc302` / `errorloc303` answer the status with a redirect
//! HAProxy builds as a response text and writes like a file: `HTTP/1.1 302 Found` (or `303
//! See Other`), `cache-control: no-cache`, `content-length: 0`, `location: URL`, the
//! connection kept (errorloc.scn).
//!
//! `errorfiles NAME [CODE...]` takes an `http-errors NAME` section's files, all or those for
//! the codes given. A section's files are checked once, at their own lines ([`sections`]).
//!
//! A proxy's answers: its defaults section's lines, then its own, in order; for one status
//! the last line that gives one wins (http-errors.scn). Which proxy's answers apply is
//! decided in `proxy::http`.

use super::Refusals;
use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::StatusCode;
use rsproxy_parser::ir::haproxy as ir;
use rsproxy_parser::Span;
use std::collections::HashMap;
use std::sync::Arc;

/// The `http-errors` sections' files, by section name.
pub type Sections = HashMap<String, Vec<ErrorFile>>;

/// A proxy's error files, one per status.
pub type ErrorFiles = Arc<[ErrorFile]>;

#[derive(Debug, Clone)]
pub struct ErrorFile {
    pub status: u16,
    /// `None`: the file is empty, and HAProxy closes the connection without answering.
    pub response: Option<ErrorResponse>,
}

/// An error file's response, ready to be written.
#[derive(Debug, Clone)]
pub struct ErrorResponse {
    pub http10: bool,
    pub status: StatusCode,
    pub reason: hyper::ext::ReasonPhrase,
    /// Lower-case names, in file order, without `Connection`.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
    /// The file gives a Content-Length; without one the body ends at the close.
    pub length_known: bool,
    /// The connection closes after this answer.
    pub close: bool,
}

/// The error file for `status` among `files`, in the order given (first match wins).
pub fn find<'a>(files: &[&'a ErrorFiles], status: u16) -> Option<&'a ErrorFile> {
    files
        .iter()
        .find_map(|f| f.iter().find(|e| e.status == status))
}

/// Every `http-errors` section's `errorfile` lines → its files (a later line for a status
/// wins, as in HAProxy); what cannot be written as HAProxy writes it is refused at its line,
/// once, whichever proxies use it.
pub fn sections(config: &ir::Config, r: &mut Refusals) -> Sections {
    let mut out = Sections::new();
    for h in &config.http_errors {
        let mut files = Vec::new();
        for e in &h.errorfiles {
            if let Some(f) = file(&e.node, e.span, r) {
                set(&mut files, f);
            }
        }
        out.insert(h.name.node.clone(), files);
    }
    out
}

/// A proxy's `errorfile`, `errorloc*` and `errorfiles` lines, in order → its error files;
/// what cannot be written as HAProxy writes it is refused into `r`.
pub fn errorfiles(s: &ir::ProxySettings, sections: &Sections, r: &mut Refusals) -> ErrorFiles {
    let mut out: Vec<ErrorFile> = Vec::new();
    for e in &s.errorfiles {
        match &e.node {
            ir::ErrorDirective::File(f) => {
                if let Some(f) = file(f, e.span, r) {
                    set(&mut out, f);
                }
            }
            ir::ErrorDirective::Loc {
                status,
                redirect,
                url,
            } => match location(*redirect, url) {
                Some(response) => set(
                    &mut out,
                    ErrorFile {
                        status: *status,
                        response: Some(response),
                    },
                ),
                None => r.refuse(
                    e.span,
                    "errorloc' with a URL that is not a valid header value",
                ),
            },
            // An unknown section is the parser's error.
            ir::ErrorDirective::Section { name, codes } => {
                for f in sections.get(&name.node).into_iter().flatten() {
                    if codes.is_empty() || codes.contains(&f.status) {
                        set(&mut out, f.clone());
                    }
                }
            }
        }
    }
    out.into()
}

/// Puts `f` in `files`, replacing the one for the same status.
fn set(files: &mut Vec<ErrorFile>, f: ErrorFile) {
    files.retain(|x| x.status != f.status);
    files.push(f);
}

/// One `errorfile` line's response, or its refusal.
fn file(e: &ir::ErrorFile, span: Span, r: &mut Refusals) -> Option<ErrorFile> {
    // HAProxy answers a malformed request with its own 400 whatever the file says
    // (observed: like the 408, it is written below its HTTP layer), except that an empty
    // file closes silently; rsproxy's HTTP layer (hyper) answers those itself.
    if e.status == 400 && e.response.is_none() {
        r.refuse(
            span,
            "errorfile 400' with an empty file (malformed requests are answered by rsproxy's HTTP layer",
        );
        return None;
    }
    let response = match &e.response {
        None => None,
        Some(resp) => match response(resp) {
            Ok(x) => Some(x),
            Err(why) => {
                r.refuse(span, &format!("errorfile' {why}"));
                return None;
            }
        },
    };
    Some(ErrorFile {
        status: e.status,
        response,
    })
}

/// The redirect of `errorloc` (302) or `errorloc303` (303) to `url`, as haproxy 2.6.12 writes
/// it; `None` if `url` cannot be a header value.
fn location(redirect: u16, url: &str) -> Option<ErrorResponse> {
    let (status, reason) = if redirect == 303 {
        (StatusCode::SEE_OTHER, &b"See Other"[..])
    } else {
        (StatusCode::FOUND, &b"Found"[..])
    };
    let location = HeaderValue::from_str(url).ok()?;
    Some(ErrorResponse {
        http10: false,
        status,
        reason: hyper::ext::ReasonPhrase::from_static(reason),
        headers: vec![
            (
                hyper::header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache"),
            ),
            (hyper::header::CONTENT_LENGTH, HeaderValue::from_static("0")),
            (hyper::header::LOCATION, location),
        ],
        body: Bytes::new(),
        length_known: true,
        close: false,
    })
}

fn response(f: &ir::ErrorResponse) -> Result<ErrorResponse, &'static str> {
    let status =
        StatusCode::from_u16(f.status).map_err(|_| "with a status rsproxy cannot write")?;
    let reason = hyper::ext::ReasonPhrase::try_from(f.reason.clone())
        .map_err(|_| "with a reason phrase rsproxy cannot write")?;
    let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
    let mut length_known = false;
    let mut close = false;
    for (name, value) in &f.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| "with a header name rsproxy cannot write")?;
        if name == hyper::header::CONNECTION {
            for token in value.split(|&b| b == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if !token.eq_ignore_ascii_case(b"keep-alive") {
                    return Err("with a Connection field other than close or keep-alive");
                }
            }
            continue;
        }
        if name == hyper::header::TRANSFER_ENCODING {
            return Err("with a Transfer-Encoding field");
        }
        if name == hyper::header::CONTENT_LENGTH {
            if length_known {
                // The parser checked that the values agree; one is written.
                continue;
            }
            length_known = true;
        }
        // hyper writes the fields of one name together: a name that comes back after
        // another one could not keep its place.
        if headers.iter().any(|(n, _)| *n == name)
            && headers.last().is_some_and(|(n, _)| *n != name)
        {
            return Err("with a header name repeated after other fields");
        }
        let value = HeaderValue::from_bytes(value)
            .map_err(|_| "with a header value rsproxy cannot write")?;
        headers.push((name, value));
    }
    let http10 = f.version == "HTTP/1.0";
    if !http10 && !length_known {
        // HAProxy writes it with its body ended by the close; hyper would chunk it.
        return Err("with an HTTP/1.1 response without Content-Length");
    }
    Ok(ErrorResponse {
        http10,
        status,
        reason,
        headers,
        body: Bytes::from(f.body.clone()),
        length_known,
        close: close || !length_known,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{build, Plan};
    use rsproxy_parser::haproxy::parse_str;
    use rsproxy_parser::Env;

    fn plan(
        files: &[(&str, &[u8])],
        lines: &str,
    ) -> (Result<Plan, Vec<(u32, String)>>, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "rsproxy-errorfile-{}-{}",
            std::process::id(),
            lines.len()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        for (name, bytes) in files {
            std::fs::write(dir.join(name), bytes).expect("write");
        }
        let text = format!(
            "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n{}",
            lines.replace("DIR", &dir.display().to_string())
        );
        let (config, diags, _) = parse_str(&text, &Env::empty());
        assert!(!diags.has_errors(), "{diags:?}");
        let p = build(&config, true)
            .map_err(|d| d.iter().map(|d| (d.span.line, d.message.clone())).collect());
        (p, dir)
    }

    /// description: the files of a proxy: defaults' then its own (the later wins); what
    /// a file says about the connection; an empty file means no answer.
    #[test]
    fn files_become_responses() {
        let (p, dir) = plan(
            &[
                ("a.http", b"HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\nsorry\n"),
                ("b.http", b"HTTP/1.1 503 Busy\r\nContent-Length: 3\r\n\r\nbe\n"),
                ("c.http", b"HTTP/1.0 403 Forbidden\r\nContent-Length: 2\r\n\r\nno"),
            ],
            "  errorfile 503 DIR/a.http\n  errorfile 403 DIR/c.http\nfrontend f\n  bind :80\n  default_backend b\n  errorfile 408 /dev/null\n\
             backend b\n  errorfile 503 DIR/b.http\n  server s 127.0.0.1:1\n",
        );
        let _ = std::fs::remove_dir_all(dir);
        let p = p.expect("plan");
        let fe = &p.frontends[0].errorfiles;
        let a = super::find(&[fe], 503)
            .and_then(|e| e.response.as_ref())
            .expect("fe 503");
        assert!(a.http10 && a.close && !a.length_known);
        let names: Vec<&str> = a.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["cache-control", "content-type"]);
        let c = super::find(&[fe], 403)
            .and_then(|e| e.response.as_ref())
            .expect("fe 403");
        assert!(c.http10 && !c.close && c.length_known);
        assert!(super::find(&[fe], 408).is_some_and(|e| e.response.is_none()));
        let be = &p.backends[0].errorfiles;
        let b = super::find(&[be, fe], 503)
            .and_then(|e| e.response.as_ref())
            .expect("be 503");
        assert_eq!((b.reason.as_bytes(), b.close), (&b"Busy"[..], false));
        assert!(
            super::find(&[be, fe], 403).is_some(),
            "the backend inherits defaults' 403"
        );
    }

    /// description: files rsproxy cannot write as HAProxy does are refused at their line.
    #[test]
    fn unwritable_files_are_refused() {
        let table: &[(&[u8], &str)] = &[
            (
                b"HTTP/1.1 503 X\r\nContent-Type: text/plain\r\n\r\nbody",
                "without Content-Length",
            ),
            (
                b"HTTP/1.1 503 X\r\nContent-Length: 2\r\nConnection: upgrade\r\n\r\nab",
                "Connection field",
            ),
            (
                b"HTTP/1.1 503 X\r\nContent-Length: 2\r\nTransfer-Encoding: gzip\r\n\r\nab",
                "Transfer-Encoding",
            ),
            (
                b"HTTP/1.1 503 X\r\nA: 1\r\nB: 2\r\nA: 3\r\nContent-Length: 2\r\n\r\nab",
                "repeated",
            ),
        ];
        for (file, why) in table {
            let (p, dir) = plan(
                &[("x.http", file)],
                "listen l\n  bind :80\n  errorfile 503 DIR/x.http\n",
            );
            let _ = std::fs::remove_dir_all(dir);
            let err = p.expect_err(why);
            assert!(
                err.iter()
                    .any(|(l, m)| *l == 8 && m.starts_with("'errorfile' with") && m.contains(why)),
                "{why}: {err:?}"
            );
        }
        let (p, dir) = plan(
            &[("x.http", b"")],
            "listen l\n  bind :80\n  errorfile 400 DIR/x.http\n",
        );
        let _ = std::fs::remove_dir_all(dir);
        assert!(p
            .expect_err("400")
            .iter()
            .any(|(l, m)| *l == 8 && m.starts_with("'errorfile 400' with an empty file")));
    }

    /// description: `errorfiles NAME [CODE...]`, `errorloc*` and `errorfile` lines in
    /// order, the last for a status winning; an errorloc is HAProxy's redirect.
    #[test]
    fn sections_and_locations_in_order() {
        let (p, dir) = plan(
            &[
                ("s503.http", b"HTTP/1.1 503 Site\r\nContent-Length: 2\r\n\r\ns\n"),
                ("s403.http", b"HTTP/1.1 403 Site\r\nContent-Length: 2\r\n\r\ns\n"),
                ("own.http", b"HTTP/1.1 403 Own\r\nContent-Length: 2\r\n\r\no\n"),
            ],
            "frontend some\n  bind :80\n  errorfiles site 403\n  default_backend b\n\
             frontend later\n  bind :81\n  errorfile 403 DIR/own.http\n  errorfiles site\n  errorloc303 503 https://e.example/\n  default_backend b\n\
             backend b\n  errorfiles site\n  errorfile 403 DIR/own.http\n  server s 127.0.0.1:1\n\
             http-errors site\n  errorfile 503 DIR/s503.http\n  errorfile 403 DIR/s403.http\n",
        );
        let _ = std::fs::remove_dir_all(dir);
        let p = p.expect("plan");
        let reason = |files: &super::ErrorFiles, status: u16| {
            super::find(&[files], status)
                .and_then(|e| e.response.as_ref())
                .map(|r| {
                    (
                        r.status.as_u16(),
                        String::from_utf8_lossy(r.reason.as_bytes()).into_owned(),
                    )
                })
        };
        let (some, later, b) = (
            &p.frontends[0].errorfiles,
            &p.frontends[1].errorfiles,
            &p.backends[0].errorfiles,
        );
        assert_eq!(reason(some, 403), Some((403, "Site".into())));
        assert_eq!(reason(some, 503), None, "only the codes named");
        assert_eq!(reason(later, 403), Some((403, "Site".into())));
        assert_eq!(reason(later, 503), Some((303, "See Other".into())));
        assert_eq!(reason(b, 403), Some((403, "Own".into())));
        assert_eq!(reason(b, 503), Some((503, "Site".into())));
        let loc = super::find(&[later], 503)
            .and_then(|e| e.response.as_ref())
            .expect("loc");
        let fields: Vec<(&str, &[u8])> = loc
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .collect();
        assert_eq!(
            fields,
            [
                ("cache-control", &b"no-cache"[..]),
                ("content-length", b"0"),
                ("location", b"https://e.example/")
            ]
        );
        assert!(loc.length_known && !loc.close && !loc.http10);
    }

    /// description: what stays refused, at its line: a section file rsproxy cannot write
    /// (once, at its line in the section), `deny`/`return` with `errorfile(s)` bodies,
    /// persistence rules in a `mode tcp` backend.
    #[test]
    fn refused_at_their_lines() {
        let (p, dir) = plan(
            &[("bad.http", b"HTTP/1.1 503 X\r\nContent-Type: text/plain\r\n\r\nbody")],
            "frontend f\n  bind :80\n  errorfiles site\n  http-request deny errorfiles site if { path_beg /a }\n  default_backend b\n\
             backend b\n  errorfiles site\n  server s 127.0.0.1:1\n\
             backend t\n  mode tcp\n  force-persist if TRUE\n  server s 127.0.0.1:1\n\
             http-errors site\n  errorfile 503 DIR/bad.http\n",
        );
        let _ = std::fs::remove_dir_all(dir);
        let err = p.expect_err("refused");
        let at = |line: u32, text: &str| {
            err.iter()
                .filter(|(l, m)| *l == line && m.contains(text))
                .count()
        };
        assert_eq!(
            at(
                19,
                "'errorfile' with an HTTP/1.1 response without Content-Length"
            ),
            1,
            "{err:?}"
        );
        assert_eq!(
            at(9, "'http-request deny' with an answer of its own"),
            1,
            "{err:?}"
        );
        assert_eq!(
            at(16, "'force-persist' in a 'mode tcp' backend"),
            1,
            "{err:?}"
        );
        assert_eq!(err.len(), 3, "{err:?}");
    }
}
