//! `option httpchk` and `http-check send|expect` → the bytes of a backend's health-check
//! request and what its response must show. Pure.
//!
//! What goes on the wire is what HAProxy 2.6.12 sends, observed byte for byte against a
//! listener (HAProxy builds the request in its internal form and its HTTP/1 layer writes it):
//!
//! - `option httpchk` and `http-check send` each set some of method, URI, version, headers
//!   and body; where both set one, the later line wins. Defaults: `OPTIONS / HTTP/1.0`.
//!   Headers hidden after the version (`HTTP/1.1\r\nHost:\ www`, the deprecated form) are
//!   the `option httpchk` line's headers.
//! - A version that reads `HTTP/x.y` (any case) at 1.1 or above is written `HTTP/1.1`;
//!   any other version is written as given.
//! - Header names are written in lower case, values as given, in order. `Content-Length`
//!   and `Transfer-Encoding` fields are dropped. A body adds `content-length: N`; without
//!   one, methods other than GET, HEAD, OPTIONS and DELETE get `content-length: 0`.
//! - The connection closes after the check: in HTTP/1.1 `connection: close` is added last,
//!   unless the configuration gave a `Connection` field. Its `close`/`keep-alive` tokens
//!   decide the mode (`connection: close` last in 1.1, `connection: keep-alive` last in 1.0
//!   when it differs from the version's default); its other tokens stay in place.

use super::Refusals;
use rsproxy_parser::ir::haproxy::{self as ir, HttpCheckMatch, HttpCheckRule, OptionArgs};
use rsproxy_parser::{Span, Spanned};

/// An HTTP health check: the request to send and what the response must show.
#[derive(Debug, Clone)]
pub struct HttpCheck {
    /// The request, bytes on the wire.
    pub request: bytes::Bytes,
    /// The request is a HEAD: its response has no body.
    pub head: bool,
    pub expect: Expect,
}

/// `http-check expect [!] MATCH PATTERN`, or HAProxy's implicit "2xx or 3xx".
#[derive(Debug, Clone)]
pub struct Expect {
    pub negate: bool,
    pub rule: ExpectRule,
}

#[derive(Debug, Clone)]
pub enum ExpectRule {
    /// No `http-check expect`: a 2xx or 3xx status passes.
    Default,
    /// `status LIST`: inclusive ranges of codes.
    Status(Vec<(u64, u64)>),
    /// `rstatus REGEX`, matched against the three-digit code.
    Rstatus(regex::Regex),
    /// `string TEXT`: the body contains TEXT.
    String(Vec<u8>),
    /// `rstring REGEX` on the body.
    Rstring(BodyRegex),
}

/// A regex on the body with PCRE's meaning of `$` (HAProxy uses PCRE2): outside multi-line
/// mode `$` also matches before a newline that ends the subject, where Rust's `$` matches
/// only at the end. Such a pattern is also tried on the body without that final newline.
#[derive(Debug, Clone)]
pub struct BodyRegex {
    pub re: regex::bytes::Regex,
    pub dollar: bool,
}

impl BodyRegex {
    pub fn is_match(&self, body: &[u8]) -> bool {
        self.re.is_match(body)
            || self.dollar
                && body
                    .strip_suffix(b"\n")
                    .is_some_and(|b| self.re.is_match(b))
    }
}

impl Expect {
    /// Whether the response's status decides alone (no body needed).
    pub fn on_status_only(&self) -> bool {
        !matches!(self.rule, ExpectRule::String(_) | ExpectRule::Rstring(_))
    }

    /// The verdict on a status, for the status rules.
    pub fn status_passes(&self, status: u16) -> bool {
        let found = match &self.rule {
            ExpectRule::Default => return (200..400).contains(&status),
            ExpectRule::Status(ranges) => ranges
                .iter()
                .any(|&(lo, hi)| (lo..=hi).contains(&u64::from(status))),
            ExpectRule::Rstatus(re) => re.is_match(&format!("{status:03}")),
            ExpectRule::String(_) | ExpectRule::Rstring(_) => return false,
        };
        found != self.negate
    }

    /// The verdict on a whole (or bounded) body, for the body rules. An empty body fails
    /// whatever the rule (HAProxy: "HTTP content check could not find a response body").
    pub fn body_passes(&self, body: &[u8]) -> bool {
        if body.is_empty() {
            return false;
        }
        let found = match &self.rule {
            ExpectRule::String(s) => body.windows(s.len()).any(|w| w == s.as_slice()),
            ExpectRule::Rstring(re) => re.is_match(body),
            _ => return false,
        };
        found != self.negate
    }
}

/// The backend's HTTP check from its settings, or `None` for a TCP check (no `option
/// httpchk`: HAProxy then ignores `http-check` rules, with a warning). What is not carried
/// out is refused into `r`.
pub fn http_check(s: &ir::ProxySettings, r: &mut Refusals) -> Option<HttpCheck> {
    let opt = s
        .options
        .get(&ir::OptionName::Httpchk)
        .filter(|o| o.enabled)?;
    let mut req = RequestParts::default();
    let mut expects = Vec::new();
    // The option's and the send rule's fields, in file order: the later one wins.
    let mut setters: Vec<(Span, Fields)> = Vec::new();
    match option_fields(&opt.args) {
        Ok(f) => setters.push((opt.span, f)),
        Err(why) => r.refuse(opt.span, why),
    }
    for rule in &s.http_check {
        match &rule.node {
            HttpCheckRule::Send {
                method,
                uri,
                version,
                headers,
                body,
                others,
            } => {
                for (kw, _) in others {
                    r.refuse(rule.span, &format!("http-check send {kw}"));
                }
                if let Some((n, _)) = headers.iter().find(|(_, v)| v.contains(['%', '\r', '\n'])) {
                    r.refuse(
                        rule.span,
                        &format!("http-check send hdr {n}' with a log-format value"),
                    );
                }
                setters.push((
                    rule.span,
                    Fields {
                        method: method.clone(),
                        uri: uri.clone(),
                        version: version.clone(),
                        headers: (!headers.is_empty()).then(|| headers.clone()),
                        body: body.clone(),
                    },
                ));
            }
            HttpCheckRule::Expect { .. } => expects.push(rule),
            HttpCheckRule::Connect { .. } => r.refuse(rule.span, "http-check connect"),
            HttpCheckRule::DisableOn404 => r.refuse(rule.span, "http-check disable-on-404"),
            HttpCheckRule::SendState => r.refuse(rule.span, "http-check send-state"),
        }
    }
    setters.sort_by_key(|(span, _)| *span);
    for (_, f) in setters {
        req.apply(f);
    }
    if let Some(second) = expects.get(1) {
        r.refuse(
            second.span,
            "http-check expect' after another 'http-check expect",
        );
    }
    let expect = match expects.first() {
        None => Expect {
            negate: false,
            rule: ExpectRule::Default,
        },
        Some(rule) => expect(rule, r)?,
    };
    let head = req.method() == "HEAD";
    Some(HttpCheck {
        request: bytes::Bytes::from(req.wire()),
        head,
        expect,
    })
}

fn expect(rule: &Spanned<HttpCheckRule>, r: &mut Refusals) -> Option<Expect> {
    let HttpCheckRule::Expect {
        negate,
        matcher,
        pattern,
        options,
    } = &rule.node
    else {
        return None;
    };
    for (kw, _) in options {
        r.refuse(rule.span, &format!("http-check expect {kw}"));
    }
    let cannot = |r: &mut Refusals, m: &str| {
        r.refuse(
            rule.span,
            &format!("http-check expect {m}' with a regex rsproxy cannot compile"),
        );
        None
    };
    let rule_of = match matcher {
        HttpCheckMatch::Status => ExpectRule::Status(
            rsproxy_parser::haproxy::httpcheck::status_ranges(pattern).unwrap_or_default(),
        ),
        HttpCheckMatch::Rstatus => match regex::Regex::new(pattern) {
            Ok(re) => ExpectRule::Rstatus(re),
            Err(_) => return cannot(r, "rstatus"),
        },
        HttpCheckMatch::String => ExpectRule::String(pattern.as_bytes().to_vec()),
        HttpCheckMatch::Rstring => {
            // PCRE2 without UTF mode matches bytes: so does a bytes regex without Unicode.
            match regex::bytes::RegexBuilder::new(pattern)
                .unicode(false)
                .build()
            {
                Ok(re) => ExpectRule::Rstring(BodyRegex {
                    re,
                    dollar: has_dollar(pattern),
                }),
                Err(_) => return cannot(r, "rstring"),
            }
        }
        HttpCheckMatch::StringLf | HttpCheckMatch::Hdr | HttpCheckMatch::Fhdr => {
            let name = match matcher {
                HttpCheckMatch::StringLf => "string-lf",
                HttpCheckMatch::Hdr => "hdr",
                _ => "fhdr",
            };
            r.refuse(rule.span, &format!("http-check expect {name}"));
            return None;
        }
    };
    Some(Expect {
        negate: *negate,
        rule: rule_of,
    })
}

/// Whether a regex uses `$` as an end anchor: unescaped and outside a class. `\z` (end
/// only) turns the PCRE emulation off, so that it keeps its meaning.
fn has_dollar(pattern: &str) -> bool {
    let mut in_class = false;
    let mut chars = pattern.chars();
    let (mut dollar, mut end_only) = (false, false);
    while let Some(c) = chars.next() {
        match c {
            '\\' => end_only |= chars.next() == Some('z'),
            '[' => in_class = true,
            ']' => in_class = false,
            '$' if !in_class => dollar = true,
            _ => {}
        }
    }
    dollar && !end_only
}

/// What one `option httpchk` or `http-check send` line sets.
#[derive(Default)]
struct Fields {
    method: Option<String>,
    uri: Option<String>,
    version: Option<String>,
    headers: Option<Vec<(String, String)>>,
    body: Option<String>,
}

/// `option httpchk [METHOD] [URI] [VERSION]`; a version may hide header lines and a body
/// after a CRLF (deprecated, still honoured by HAProxy).
fn option_fields(args: &OptionArgs) -> Result<Fields, &'static str> {
    let OptionArgs::Httpchk {
        method,
        uri,
        version,
    } = args
    else {
        return Ok(Fields::default());
    };
    let mut f = Fields {
        method: method.clone(),
        uri: uri.clone(),
        ..Fields::default()
    };
    let Some(v) = version else {
        return Ok(f);
    };
    let Some((v, hidden)) = v.split_once("\r\n") else {
        f.version = Some(v.clone());
        return Ok(f);
    };
    f.version = Some(v.to_string());
    let (head, body) = hidden.split_once("\r\n\r\n").unwrap_or((hidden, ""));
    let mut headers = Vec::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        let (n, v) = line
            .split_once(':')
            .ok_or("option httpchk' with a malformed header after the version")?;
        headers.push((n.trim().to_string(), v.trim().to_string()));
    }
    f.headers = (!headers.is_empty()).then_some(headers);
    f.body = (!body.is_empty()).then(|| body.to_string());
    Ok(f)
}

#[derive(Default)]
struct RequestParts {
    method: Option<String>,
    uri: Option<String>,
    version: Option<String>,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

impl RequestParts {
    fn apply(&mut self, f: Fields) {
        self.method = f.method.or(self.method.take());
        self.uri = f.uri.or(self.uri.take());
        self.version = f.version.or(self.version.take());
        if let Some(h) = f.headers {
            self.headers = h;
        }
        self.body = f.body.or(self.body.take());
    }

    fn method(&self) -> &str {
        self.method.as_deref().unwrap_or("OPTIONS")
    }

    /// The request as HAProxy writes it (see the module's header).
    fn wire(&self) -> Vec<u8> {
        let version = self.version.as_deref().unwrap_or("HTTP/1.0");
        let http11 = is_http11(version);
        let mut out = format!(
            "{} {} {}\r\n",
            self.method(),
            self.uri.as_deref().unwrap_or("/"),
            if http11 { "HTTP/1.1" } else { version }
        );
        let mut close = !http11;
        let mut connection_given = false;
        for (name, value) in &self.headers {
            let lower = name.to_ascii_lowercase();
            match lower.as_str() {
                "content-length" | "transfer-encoding" => {}
                "connection" => {
                    connection_given = true;
                    let mut kept = Vec::new();
                    for token in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                        if token.eq_ignore_ascii_case("close") {
                            close = true;
                        } else if token.eq_ignore_ascii_case("keep-alive") {
                            close = false;
                        } else {
                            kept.push(token);
                        }
                    }
                    if !kept.is_empty() {
                        out.push_str(&format!("connection: {}\r\n", kept.join(", ")));
                    }
                }
                _ => out.push_str(&format!("{lower}: {value}\r\n")),
            }
        }
        if !connection_given {
            close = true;
        }
        let body = self.body.as_deref().unwrap_or("");
        if !body.is_empty() {
            out.push_str(&format!("content-length: {}\r\n", body.len()));
        } else if !matches!(self.method(), "GET" | "HEAD" | "OPTIONS" | "DELETE") {
            out.push_str("content-length: 0\r\n");
        }
        match (http11, close) {
            (true, true) => out.push_str("connection: close\r\n"),
            (false, false) => out.push_str("connection: keep-alive\r\n"),
            _ => {}
        }
        out.push_str("\r\n");
        out.push_str(body);
        out.into_bytes()
    }
}

/// `HTTP/x.y` (any case) at version 1.1 or above.
fn is_http11(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 8
        && b[..5].eq_ignore_ascii_case(b"HTTP/")
        && b[5].is_ascii_digit()
        && b[6] == b'.'
        && b[7].is_ascii_digit()
        && (b[5], b[7]) >= (b'1', b'1')
}

#[cfg(test)]
mod tests {
    use super::super::{build, Plan};
    use super::*;
    use rsproxy_parser::haproxy::parse_str;
    use rsproxy_parser::Env;

    fn plan(backend: &str) -> Result<Plan, Vec<(u32, String)>> {
        let text = format!(
            "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\nlisten l\n  bind :80\n{backend}  server s 127.0.0.1:1 check\n"
        );
        let (config, diags, _) = parse_str(&text, &Env::empty());
        assert!(!diags.has_errors(), "{diags:?}");
        build(&config, true)
            .map_err(|d| d.iter().map(|d| (d.span.line, d.message.clone())).collect())
    }

    fn check_of(backend: &str) -> HttpCheck {
        let p = plan(backend).unwrap_or_else(|e| panic!("{backend}: {e:?}"));
        let c = p.backends[0].servers[0].check.clone();
        c.and_then(|c| c.http).expect("an HTTP check")
    }

    fn wire(backend: &str) -> String {
        String::from_utf8(check_of(backend).request.to_vec()).unwrap_or_default()
    }

    /// description: lines of a backend → the request bytes haproxy 2.6.12 sent for them
    /// (captured with a listener printing what it received).
    #[test]
    fn requests_as_haproxy_sends_them() {
        let table = [
            ("  option httpchk\n", "OPTIONS / HTTP/1.0\r\n\r\n"),
            ("  option httpchk /only-uri\n", "OPTIONS /only-uri HTTP/1.0\r\n\r\n"),
            ("  option httpchk GET /x HTTP/1.1\n", "GET /x HTTP/1.1\r\nconnection: close\r\n\r\n"),
            ("  option httpchk\n  http-check send hdr Host x\n", "OPTIONS / HTTP/1.0\r\nhost: x\r\n\r\n"),
            (
                "  option httpchk GET /x HTTP/1.1\n  http-check send uri /y hdr Host h body hello\n",
                "GET /y HTTP/1.1\r\nhost: h\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello",
            ),
            ("  option httpchk GET /x HTTP/1.1\n  http-check send hdr Connection keep-alive\n", "GET /x HTTP/1.1\r\n\r\n"),
            ("  option httpchk GET /x\n  http-check send body hi\n", "GET /x HTTP/1.0\r\ncontent-length: 2\r\n\r\nhi"),
            (
                "  option httpchk GET /x HTTP/1.1\n  http-check send hdr Content-Length 7 hdr X-A \"a b\" hdr host H2\n",
                "GET /x HTTP/1.1\r\nx-a: a b\r\nhost: H2\r\nconnection: close\r\n\r\n",
            ),
            (
                "  option httpchk\n  http-check send meth POST ver HTTP/1.1 body abc hdr transfer-encoding chunked\n",
                "POST / HTTP/1.1\r\ncontent-length: 3\r\nconnection: close\r\n\r\nabc",
            ),
            ("  option httpchk\n  http-check send ver HTTP/2.0\n", "OPTIONS / HTTP/1.1\r\nconnection: close\r\n\r\n"),
            ("  option httpchk get /lower http/1.1\n", "get /lower HTTP/1.1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"),
            ("  option httpchk POST /x HTTP/1.0\n", "POST /x HTTP/1.0\r\ncontent-length: 0\r\n\r\n"),
            ("  option httpchk GET /x http/1.0\n", "GET /x http/1.0\r\n\r\n"),
            ("  option httpchk GET /x HTTP/3\n", "GET /x HTTP/3\r\n\r\n"),
            ("  option httpchk FOO /x foo\n", "FOO /x foo\r\ncontent-length: 0\r\n\r\n"),
            ("  option httpchk DELETE /x HTTP/1.1\n", "DELETE /x HTTP/1.1\r\nconnection: close\r\n\r\n"),
            ("  option httpchk GET /x HTTP/1.0\n  http-check send hdr Connection close\n", "GET /x HTTP/1.0\r\n\r\n"),
            ("  option httpchk GET /x HTTP/1.0\n  http-check send hdr Connection keep-alive\n", "GET /x HTTP/1.0\r\nconnection: keep-alive\r\n\r\n"),
            (
                "  option httpchk GET /x HTTP/1.1\n  http-check send hdr Connection upgrade hdr upgrade foo\n",
                "GET /x HTTP/1.1\r\nconnection: upgrade\r\nupgrade: foo\r\n\r\n",
            ),
            (
                "  option httpchk GET /x HTTP/1.1\n  http-check send hdr Connection \"close, x-a\" hdr x-a 1\n",
                "GET /x HTTP/1.1\r\nconnection: x-a\r\nx-a: 1\r\nconnection: close\r\n\r\n",
            ),
            ("  option httpchk GET /x HTTP/1.1\n  http-check send hdr X-A \"  sp  \"\n", "GET /x HTTP/1.1\r\nx-a:   sp  \r\nconnection: close\r\n\r\n"),
            // The later line wins, field by field.
            (
                "  http-check send hdr X-A a uri /u\n  option httpchk GET /d HTTP/1.1\n",
                "GET /d HTTP/1.1\r\nx-a: a\r\nconnection: close\r\n\r\n",
            ),
            ("  http-check send uri /u\n  option httpchk\n", "OPTIONS /u HTTP/1.0\r\n\r\n"),
            // Headers hidden after the version (deprecated).
            (
                "  option httpchk GET /x HTTP/1.1\\r\\nHost:\\ foo\\r\\nX-B:\\ b\n",
                "GET /x HTTP/1.1\r\nhost: foo\r\nx-b: b\r\nconnection: close\r\n\r\n",
            ),
            (
                "  option httpchk GET /x HTTP/1.1\\r\\nHost:\\ foo\n  http-check send uri /y\n",
                "GET /y HTTP/1.1\r\nhost: foo\r\nconnection: close\r\n\r\n",
            ),
            (
                "  option httpchk GET /x HTTP/1.1\\r\\nHost:\\ foo\n  http-check send hdr X-A a\n",
                "GET /x HTTP/1.1\r\nx-a: a\r\nconnection: close\r\n\r\n",
            ),
            (
                "  option httpchk GET /x HTTP/1.0\\r\\nHost:foo\\r\\n\\r\\nbody\n",
                "GET /x HTTP/1.0\r\nhost: foo\r\ncontent-length: 4\r\n\r\nbody",
            ),
        ];
        for (lines, want) in table {
            assert_eq!(wire(lines), want, "{lines}");
        }
    }

    /// description: a defaults section's request and rules are inherited until the
    /// backend's own first line (then `OPTIONS / HTTP/1.0` plus its own rules).
    #[test]
    fn inherited_request_is_replaced_by_own_lines() {
        let text = "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n  \
            option httpchk GET /d HTTP/1.1\n  http-check send hdr A a\nlisten keeps\n  bind :80\n  server s 127.0.0.1:1 check\n\
            listen own\n  bind :81\n  http-check send hdr B b\n  server s 127.0.0.1:1 check\n";
        let (config, diags, _) = parse_str(text, &Env::empty());
        assert!(!diags.has_errors(), "{diags:?}");
        let p = build(&config, true).expect("plan");
        let req = |i: usize| {
            let c = p.backends[i].servers[0].check.clone().and_then(|c| c.http);
            String::from_utf8(c.map(|h| h.request.to_vec()).unwrap_or_default()).unwrap_or_default()
        };
        assert_eq!(
            req(0),
            "GET /d HTTP/1.1\r\na: a\r\nconnection: close\r\n\r\n"
        );
        assert_eq!(req(1), "OPTIONS / HTTP/1.0\r\nb: b\r\n\r\n");
    }

    /// description: status → verdict for each status rule, negated or not.
    #[test]
    fn status_rules() {
        let table: &[(&str, &[(u16, bool)])] = &[
            (
                "",
                &[
                    (200, true),
                    (302, true),
                    (399, true),
                    (404, false),
                    (503, false),
                ],
            ),
            (
                "  http-check expect status 200\n",
                &[(200, true), (201, false)],
            ),
            (
                "  http-check expect status 200,201,300-310\n",
                &[(201, true), (305, true), (311, false)],
            ),
            (
                "  http-check expect ! status 200\n",
                &[(200, false), (503, true)],
            ),
            (
                "  http-check expect status -200\n",
                &[(100, true), (200, true), (201, false)],
            ),
            (
                "  http-check expect rstatus ^5\n",
                &[(503, true), (200, false)],
            ),
            (
                "  http-check expect ! rstatus ^5\n",
                &[(503, false), (200, true)],
            ),
            (
                "  http-check expect rstatus 0$\n",
                &[(200, true), (201, false)],
            ),
        ];
        for (lines, cases) in table {
            let c = check_of(&format!("  option httpchk\n{lines}"));
            assert!(c.expect.on_status_only());
            for &(status, ok) in *cases {
                assert_eq!(c.expect.status_passes(status), ok, "{lines} on {status}");
            }
        }
    }

    /// description: body → verdict for string and rstring rules; an empty body fails
    /// even a negated rule; `$` matches before a final newline, as in PCRE.
    #[test]
    fn body_rules() {
        type Cases<'a> = &'a [(&'a [u8], bool)];
        let table: &[(&str, Cases)] = &[
            (
                "string alive",
                &[(b"I am alive\n", true), (b"dead", false), (b"", false)],
            ),
            (
                "! string alive",
                &[(b"alive", false), (b"dead", true), (b"", false)],
            ),
            (
                "string SQL\\ Error",
                &[(b"x SQL Error y", true), (b"SQL", false)],
            ),
            (
                "rstring ^alive$",
                &[(b"alive\n", true), (b"alive", true), (b"alive\n\n", false)],
            ),
            ("rstring ^b", &[(b"a\nb", false), (b"b", true)]),
            (
                "rstring alive\\\\z",
                &[(b"alive\n", false), (b"alive", true)],
            ),
            (
                "rstring tag:[0-9a-f]*--></html>",
                &[(b"<!--tag:1f--></html>", true)],
            ),
            // `\\xff` in the file is the regex escape `\xff`: one byte, as in PCRE.
            (
                "rstring \\\\xff",
                &[(b"\xff", true), ("\u{ff}".as_bytes(), false)],
            ),
        ];
        for (rule, cases) in table {
            let c = check_of(&format!("  option httpchk\n  http-check expect {rule}\n"));
            assert!(!c.expect.on_status_only());
            for &(body, ok) in *cases {
                assert_eq!(c.expect.body_passes(body), ok, "{rule} on {body:?}");
            }
        }
    }

    /// description: what the runtime does not carry out is refused at its line, with its
    /// keyword; `http-check` rules without `option httpchk` are ignored, as HAProxy does.
    #[test]
    fn unsupported_http_check_lines_are_refused() {
        // (backend lines from line 8, the refused line, what is refused)
        let table = [
            (
                "  option httpchk\n  http-check connect\n  http-check send\n",
                9,
                "http-check connect",
            ),
            (
                "  option httpchk\n  http-check disable-on-404\n",
                9,
                "http-check disable-on-404",
            ),
            (
                "  option httpchk\n  http-check send-state\n",
                9,
                "http-check send-state",
            ),
            (
                "  option httpchk\n  http-check expect hdr name x\n",
                9,
                "http-check expect hdr",
            ),
            (
                "  option httpchk\n  http-check expect string-lf x\n",
                9,
                "http-check expect string-lf",
            ),
            (
                "  option httpchk\n  http-check expect min-recv 5 string x\n",
                9,
                "http-check expect min-recv",
            ),
            (
                "  option httpchk\n  http-check expect status 200\n  http-check expect string ok\n",
                10,
                "http-check expect' after another",
            ),
            (
                "  option httpchk\n  http-check send uri-lf /%[src]\n",
                9,
                "http-check send uri-lf",
            ),
            (
                "  option httpchk\n  http-check send comment hello\n",
                9,
                "http-check send comment",
            ),
            (
                "  option httpchk\n  http-check send hdr X %[src]\n",
                9,
                "http-check send hdr X' with a log-format value",
            ),
            (
                "  option httpchk\n  http-check expect rstring a(?=b)\n",
                9,
                "http-check expect rstring' with a regex rsproxy cannot compile",
            ),
        ];
        for (lines, line, what) in table {
            let err = plan(lines).expect_err(lines);
            assert!(
                err.iter().any(|(l, m)| *l == line
                    && m.starts_with(&format!("'{what}"))
                    && m.contains("is not carried out")),
                "{lines}: {err:?}"
            );
        }
        let p = plan("  http-check expect status 200\n").expect("ignored rules");
        assert!(p.backends[0].servers[0]
            .check
            .as_ref()
            .is_some_and(|c| c.http.is_none()));
    }
}
