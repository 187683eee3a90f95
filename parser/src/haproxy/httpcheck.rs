//! `http-check send|expect|connect|disable-on-404|send-state` lines, and how a proxy's own
//! health-check lines replace the ones of its defaults section.
//!
//! HAProxy 2.6 keeps a proxy's HTTP check as one rule set: the request of `option httpchk`
//! and the `http-check` rules. A proxy inherits its defaults section's set until its first
//! own `http-check` or `option httpchk` line, which starts an empty set: the inherited rules
//! are dropped, and so are the inherited `option httpchk` method, URI and version (observed
//! with haproxy 2.6.12: the request goes back to `OPTIONS / HTTP/1.0`). [`own_rules`] does
//! that; the messages are HAProxy's.

use super::acl::check_regex;
use super::kw::{self, Args};
use super::logformat;
use crate::ir::haproxy::{HttpCheckMatch, HttpCheckRule, OptionArgs, OptionName, Proxy};
use crate::{Diagnostics, Spanned};

/// Called before a proxy's own `http-check` or `option httpchk` line is stored: drops what
/// came from the defaults section (everything placed before the proxy's own first line).
pub fn own_rules(p: &mut Proxy) {
    let start = p.span;
    if p.settings.http_check.iter().any(|r| r.span < start) {
        p.settings.http_check.clear();
    }
    if let Some(o) = p.settings.options.get_mut(&OptionName::Httpchk) {
        if o.span < start {
            o.node.args = OptionArgs::Httpchk {
                method: None,
                uri: None,
                version: None,
            };
        }
    }
}

/// `http-check send|expect|connect|disable-on-404|send-state ...`
pub fn parse(p: &mut Proxy, a: Args, d: &mut Diagnostics) {
    let rule = match a.at(1) {
        "disable-on-404" => HttpCheckRule::DisableOn404,
        "send-state" => HttpCheckRule::SendState,
        "connect" => HttpCheckRule::Connect {
            args: (2..a.len()).map(|i| a.at(i).to_string()).collect(),
        },
        "send" => match parse_send(a) {
            Ok(r) => r,
            Err(m) => return d.push(a.error(1, format!("'http-check send' : {m}"))),
        },
        "expect" => match parse_expect(a) {
            Ok(r) => r,
            Err(m) => return d.push(a.error(1, format!("'http-check expect' : {m}"))),
        },
        "comment" | "set-var" | "unset-var" => {
            return d.push(kw::unsupported(
                a.span(1),
                &format!("http-check {}", a.at(1)),
            ))
        }
        other => {
            return d.push(a.error(
                1,
                format!("'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var' and 'unset-var' (got '{other}')."),
            ))
        }
    };
    own_rules(p);
    if matches!(rule, HttpCheckRule::Send { .. }) {
        // A request is sent on a connection: after a `send` or an `expect`, the next `send`
        // needs a `connect` first.
        let rules = &p.settings.http_check;
        let since_connect = rules
            .iter()
            .rposition(|r| matches!(r.node, HttpCheckRule::Connect { .. }))
            .map_or(0, |c| c + 1);
        if rules[since_connect..].iter().any(|r| {
            matches!(
                r.node,
                HttpCheckRule::Send { .. } | HttpCheckRule::Expect { .. }
            )
        }) {
            return d.push(a.error(
                1,
                format!(
                    "'http-check send' : unable to add http-check send rule at step {} (missing connect rule)..",
                    rules.len() + 1
                ),
            ));
        }
    }
    p.settings.http_check.push(Spanned::new(rule, a.span(1)));
}

/// `send [meth M] [uri U | uri-lf FMT] [ver V] [hdr NAME FMT]* [body S | body-lf FMT] [comment MSG]`
fn parse_send(a: Args) -> Result<HttpCheckRule, String> {
    let (mut method, mut uri, mut version, mut body) = (None, None, None, None);
    let mut headers = Vec::new();
    let mut others = Vec::new();
    let mut i = 2;
    while i < a.len() {
        let w = a.at(i);
        if w == "hdr" {
            let (Some(n), Some(v)) = (a.get(i + 1), a.get(i + 2)) else {
                return Err("'hdr' expects <name> and <value> as arguments.".into());
            };
            if n.is_empty() || v.is_empty() {
                return Err("'hdr' expects <name> and <value> as arguments.".into());
            }
            logformat::check(v)?;
            headers.push((n.to_string(), v.to_string()));
            i += 3;
            continue;
        }
        if !matches!(
            w,
            "meth" | "uri" | "uri-lf" | "ver" | "body" | "body-lf" | "comment"
        ) {
            return Err(format!("expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' but got '{w}' as argument.."));
        }
        let v = match a.get(i + 1) {
            Some(v) if !v.is_empty() => v.to_string(),
            _ => return Err(format!("'{w}' expects a string as argument..")),
        };
        match w {
            "meth" => method = Some(v),
            "uri" => uri = Some(v),
            "ver" => version = Some(v),
            "body" => body = Some(v),
            _ => {
                if w != "comment" {
                    logformat::check(&v)?;
                }
                others.push((w.to_string(), v));
            }
        }
        i += 2;
    }
    Ok(HttpCheckRule::Send {
        method,
        uri,
        version,
        headers,
        body,
        others,
    })
}

const EXPECT_WORDS: &str = "'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment";

/// `expect [OPTION VALUE]* [!] MATCH PATTERN [OPTION VALUE]*`, OPTION one of `min-recv`,
/// `comment`, `ok-status`, `error-status`, `tout-status`, `on-success`, `on-error`,
/// `status-code`; `!` may be glued to MATCH or stand alone.
fn parse_expect(a: Args) -> Result<HttpCheckRule, String> {
    let mut options = Vec::new();
    let mut negate = false;
    let mut found: Option<(HttpCheckMatch, String)> = None;
    let mut i = 2;
    while i < a.len() || negate && found.is_none() {
        let mut w = a.get(i).unwrap_or("");
        if w.starts_with('!') {
            negate = true;
            w = w.trim_start_matches('!');
            if w.is_empty() {
                i += 1;
                w = a.get(i).unwrap_or("");
            }
        }
        let matcher = match w {
            "min-recv" | "comment" | "ok-status" | "error-status" | "tout-status"
            | "on-success" | "on-error" | "status-code" => {
                let v = match a.get(i + 1) {
                    Some(v) if !v.is_empty() => v,
                    _ if w == "min-recv" => {
                        return Err("'min-recv' expects a integer as argument.".into())
                    }
                    _ => return Err(format!("'{w}' expects a string as argument.")),
                };
                options.push((w.to_string(), v.to_string()));
                i += 2;
                continue;
            }
            "status" => HttpCheckMatch::Status,
            "rstatus" => HttpCheckMatch::Rstatus,
            "string" => HttpCheckMatch::String,
            "rstring" => HttpCheckMatch::Rstring,
            "string-lf" => HttpCheckMatch::StringLf,
            "hdr" => HttpCheckMatch::Hdr,
            "fhdr" => HttpCheckMatch::Fhdr,
            other => return Err(format!("{EXPECT_WORDS} but got '{other}' as argument..")),
        };
        if found.is_some() {
            return Err("only on pattern expected.".into());
        }
        let pattern = if matches!(matcher, HttpCheckMatch::Hdr | HttpCheckMatch::Fhdr) {
            let (pattern, next) = header_match(a, i + 1).ok_or_else(|| {
                format!(
                    "'{w}' expects at the name keyword as first argument followed by a pattern."
                )
            })?;
            i = next;
            pattern
        } else {
            let pattern = match a.get(i + 1) {
                Some(p) if !p.is_empty() => p.to_string(),
                _ => return Err(format!("'{w}' expects a <pattern> as argument.")),
            };
            check_pattern(matcher, &pattern)?;
            i += 2;
            pattern
        };
        found = Some((matcher, pattern));
    }
    let Some((matcher, pattern)) = found else {
        return Err(format!("{EXPECT_WORDS} but got '' as argument.."));
    };
    Ok(HttpCheckRule::Expect {
        negate,
        matcher,
        pattern,
        options,
    })
}

/// `{name|name-lf} [-m METH] NAME [{value|value-lf} [-m METH] VALUE]` from word `i`: the
/// words joined, and the index after them.
fn header_match(a: Args, mut i: usize) -> Option<(String, usize)> {
    let mut words = Vec::new();
    for (n, keys) in [["name", "name-lf"], ["value", "value-lf"]]
        .iter()
        .enumerate()
    {
        let w = match a.get(i) {
            Some(w) => w,
            None if n == 0 => return None,
            None => break,
        };
        if !keys.contains(&w) {
            if n == 0 {
                return None;
            }
            break;
        }
        words.push(w);
        i += 1;
        if a.get(i) == Some("-m") {
            words.extend([a.get(i)?, a.get(i + 1)?]);
            i += 2;
        }
        words.push(a.get(i).filter(|v| !v.is_empty())?);
        i += 1;
    }
    Some((words.join(" "), i))
}

fn check_pattern(matcher: HttpCheckMatch, pattern: &str) -> Result<(), String> {
    match matcher {
        HttpCheckMatch::Status => status_ranges(pattern).map(|_| ()),
        HttpCheckMatch::Rstatus | HttpCheckMatch::Rstring => {
            check_regex(pattern).map_err(|m| format!("{m}."))
        }
        HttpCheckMatch::StringLf => logformat::check(pattern)
            .map_err(|m| format!("'{pattern}' invalid log-format string ({m}).")),
        _ => Ok(()),
    }
}

/// `http-check expect status` codes: a comma-separated list of `CODE` or `LOW-HIGH` (an
/// empty bound reads as 0, an empty item is skipped), as inclusive ranges.
pub fn status_ranges(list: &str) -> Result<Vec<(u64, u64)>, String> {
    let mut out = Vec::new();
    for item in list.split(',') {
        if item.is_empty() {
            continue;
        }
        let number = |s: &str| -> Result<u64, String> {
            match s.chars().find(|c| !c.is_ascii_digit()) {
                Some(c) => Err(format!(
                    "invalid character '{c}' in the list of status codes."
                )),
                None => Ok(s.bytes().fold(0u64, |n, d| {
                    n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                })),
            }
        };
        let (lo, hi) = match item.split_once('-') {
            None => {
                let n = number(item)?;
                (n, n)
            }
            Some((l, h)) => (number(l)?, number(h)?),
        };
        if hi < lo {
            return Err(format!("invalid range of status codes '{item}'."));
        }
        out.push((lo, hi));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::haproxy::parse_str;
    use crate::ir::haproxy::{HttpCheckMatch, HttpCheckRule, OptionArgs, OptionName};
    use crate::Env;

    const HEAD: &str =
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n";

    fn errors(body: &str) -> Vec<String> {
        let (_, d, _) = parse_str(
            &format!("{HEAD}listen l\n  bind :80\n  option httpchk\n{body}"),
            &Env::empty(),
        );
        d.iter()
            .filter(|d| d.severity == crate::Severity::Error)
            .map(|d| d.message.clone())
            .collect()
    }

    /// description: `http-check expect` lines and what haproxy -c 2.6.12 says about each
    /// (empty: valid).
    #[test]
    fn expect_lines_as_haproxy_reads_them() {
        let table = [
            ("status 200,201,300-310", ""),
            ("status -200", ""),
            ("status 200,,201", ""),
            ("! string foo", ""),
            ("!string foo", ""),
            ("!! status 200", ""),
            ("status 200 comment hi", ""),
            ("min-recv 10 string x", ""),
            ("hdr name x value y", ""),
            ("hdr name -m beg x", ""),
            ("fhdr name x value -m sub y comment c", ""),
            ("string-lf x", ""),
            (
                "status 2xx",
                "invalid character 'x' in the list of status codes.",
            ),
            (
                "status 1-2-3",
                "invalid character '-' in the list of status codes.",
            ),
            ("status 200-", "invalid range of status codes '200-'."),
            ("status 300-200", "invalid range of status codes '300-200'."),
            ("status 200 201", "but got '201' as argument.."),
            ("status 200 string x", "only on pattern expected."),
            ("status 200 !", "but got '' as argument.."),
            ("string", "'string' expects a <pattern> as argument."),
            (
                "rstatus (",
                "regex '(' is invalid (error=missing closing parenthesis, erroffset=1).",
            ),
            (
                "hdr name",
                "'hdr' expects at the name keyword as first argument followed by a pattern.",
            ),
            ("min-recv", "'min-recv' expects a integer as argument."),
            ("code 200", "but got 'code' as argument.."),
        ];
        for (line, want) in table {
            let e = errors(&format!("  http-check expect {line}\n"));
            if want.is_empty() {
                assert!(e.is_empty(), "{line}: {e:?}");
            } else {
                assert!(
                    e.len() == 1
                        && e[0].starts_with("'http-check expect' : ")
                        && e[0].ends_with(want),
                    "{line}: {e:?}"
                );
            }
        }
    }

    /// description: `http-check send` lines and what haproxy -c 2.6.12 says about each.
    #[test]
    fn send_lines_as_haproxy_reads_them() {
        let table = [
            ("send meth GET uri /x ver HTTP/1.1 hdr Host h body b", ""),
            ("send uri /a uri-lf /b", ""),
            ("send meth", "'meth' expects a string as argument.."),
            ("send body \"\"", "'body' expects a string as argument.."),
            (
                "send hdr X",
                "'hdr' expects <name> and <value> as arguments.",
            ),
            (
                "send hdr X \"\"",
                "'hdr' expects <name> and <value> as arguments.",
            ),
            ("send method GET", "but got 'method' as argument.."),
            (
                "send hdr A a\n  http-check send hdr B b",
                "at step 2 (missing connect rule)..",
            ),
            (
                "send hdr A a\n  http-check expect status 200\n  http-check send",
                "at step 3 (missing connect rule)..",
            ),
            (
                "send\n  http-check expect status 200\n  http-check connect\n  http-check send",
                "",
            ),
        ];
        for (line, want) in table {
            let e = errors(&format!("  http-check {line}\n"));
            if want.is_empty() {
                assert!(e.is_empty(), "{line}: {e:?}");
            } else {
                assert!(e.len() == 1 && e[0].ends_with(want), "{line}: {e:?}");
            }
        }
    }

    /// description: a proxy's first own `http-check` or `option httpchk` line drops the
    /// rules and the `option httpchk` request of its defaults section (haproxy 2.6.12 then
    /// sends `OPTIONS / HTTP/1.0` with the proxy's own rules only); without one it keeps them.
    #[test]
    fn own_lines_replace_inherited_ones() {
        let d = "  option httpchk GET /d HTTP/1.1\n  http-check send hdr A a\n  http-check expect status 200\n";
        let (c, diags, _) = parse_str(
            &format!("{HEAD}{d}frontend f\n  bind :80\nbackend keeps\nbackend sends\n  http-check send hdr B b\nbackend opts\n  option httpchk HEAD /l\n"),
            &Env::empty(),
        );
        assert!(!diags.has_errors(), "{diags:?}");
        let rules = |i: usize| &c.proxies[i + 1].settings.http_check;
        let args = |i: usize| {
            c.proxies[i + 1].settings.options[&OptionName::Httpchk]
                .node
                .args
                .clone()
        };
        assert_eq!(rules(0).len(), 2);
        assert!(matches!(args(0), OptionArgs::Httpchk { method: Some(m), .. } if m == "GET"));
        assert_eq!(rules(1).len(), 1);
        assert!(
            matches!(&rules(1)[0].node, HttpCheckRule::Send { headers, .. } if headers[0].0 == "B")
        );
        assert_eq!(
            args(1),
            OptionArgs::Httpchk {
                method: None,
                uri: None,
                version: None
            }
        );
        assert!(rules(2).is_empty());
        assert!(matches!(args(2), OptionArgs::Httpchk { method: Some(m), .. } if m == "HEAD"));
    }

    #[test]
    fn expect_options_and_negation_are_kept() {
        let (c, _, _) = parse_str(
            &format!("{HEAD}backend b\n  option httpchk\n  http-check expect min-recv 5 ! rstring ^ok comment c\n"),
            &Env::empty(),
        );
        let HttpCheckRule::Expect {
            negate,
            matcher,
            pattern,
            options,
        } = &c.proxies[0].settings.http_check[0].node
        else {
            panic!("not an expect rule");
        };
        assert!(*negate && *matcher == HttpCheckMatch::Rstring && pattern == "^ok");
        assert_eq!(options.len(), 2);
    }

    #[test]
    fn status_ranges_are_inclusive() {
        assert_eq!(
            super::status_ranges("200,300-310").unwrap(),
            [(200, 200), (300, 310)]
        );
        assert_eq!(super::status_ranges("-").unwrap(), [(0, 0)]);
        assert!(super::status_ranges("").unwrap().is_empty());
    }
}
