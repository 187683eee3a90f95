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
//! A proxy's files: its defaults section's, then its own (a later line for the same status
//! wins). Which proxy's file answers is decided in `proxy::http`.

use super::Refusals;
use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::StatusCode;
use rsproxy_parser::ir::haproxy as ir;
use std::sync::Arc;

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

/// A proxy's `errorfile` lines → its error files; what cannot be written as HAProxy writes
/// it is refused into `r`.
pub fn errorfiles(s: &ir::ProxySettings, r: &mut Refusals) -> ErrorFiles {
    let mut out: Vec<ErrorFile> = Vec::new();
    for e in &s.errorfiles {
        // HAProxy answers a malformed request with its own 400 whatever the file says
        // (observed: like the 408, it is written below its HTTP layer), except that an empty
        // file closes silently; rsproxy's HTTP layer (hyper) answers those itself.
        if e.node.status == 400 && e.node.response.is_none() {
            r.refuse(
                e.span,
                "errorfile 400' with an empty file (malformed requests are answered by rsproxy's HTTP layer",
            );
            continue;
        }
        let response = match &e.node.response {
            None => None,
            Some(resp) => match response(resp) {
                Ok(x) => Some(x),
                Err(why) => {
                    r.refuse(e.span, &format!("errorfile' {why}"));
                    continue;
                }
            },
        };
        out.retain(|f| f.status != e.node.status);
        out.push(ErrorFile {
            status: e.node.status,
            response,
        });
    }
    out.into()
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
}
