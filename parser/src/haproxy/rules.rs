//! `http-request`, `http-response` and `redirect` rules.
//!
//! Role: turn the words after `http-request`, `http-response` and `redirect` into the IR's
//! [`HttpRule`] and [`Redirect`], checking them as HAProxy 2.6 does (configuration manual,
//! section 4.2).
//!
//! Tables: [`HTTP_REQUEST_ACTIONS`] and [`HTTP_RESPONSE_ACTIONS`] (action name, parse
//! function, support), in HAProxy's own order so that the "expects ..." list of an unknown
//! action reads the same. The dispatcher only looks up; actions rsproxy does not carry out
//! have no parse function and are reported with [`unsupported`].
//!
//! Messages: rule errors read "error detected while parsing 'http-request deny' rule :
//! ..." (HAProxy also names the proxy: "error detected in frontend 'f' while parsing ...";
//! the caller may add it). [`parse_redirect`] returns the bare message; the `redirect`
//! keyword's caller adds "error detected in frontend 'f' while parsing redirect rule : ".
//!
//! Invariants: every action's arguments are consumed by its parse function; what follows
//! is empty or a condition.

use super::acl::{self, check_regex, parse_condition, parse_sample, SampleContext};
use super::kw::{parse_uint, unsupported, Args, Support};
use super::logformat;
use crate::diag::best_match;
use crate::ir::haproxy::{
    Condition, HttpAction, HttpRule, MatchMethod, Redirect, RedirectKind, ReturnContent, VarScope,
};
use crate::Diagnostic;

/// Parses one action's words; `cur` starts at the word after the action name and is left
/// at the first word the action did not use.
type ActionParser = fn(&Rule, &mut usize) -> Result<HttpAction, Diagnostic>;

/// One `http-request`/`http-response` action.
pub struct ActionDef {
    /// The name; for `prefix` actions, what the word starts with (`set-var` for
    /// `set-var(txn.x)`, `track-sc` for `track-sc0`).
    pub name: &'static str,
    pub prefix: bool,
    /// `None` for actions rsproxy does not carry out.
    pub parse: Option<ActionParser>,
    pub support: Support,
}

const fn yes(name: &'static str, parse: ActionParser) -> ActionDef {
    ActionDef {
        name,
        prefix: false,
        parse: Some(parse),
        support: Support::Yes,
    }
}
const fn yes_prefix(name: &'static str, parse: ActionParser) -> ActionDef {
    ActionDef {
        name,
        prefix: true,
        parse: Some(parse),
        support: Support::Yes,
    }
}
const fn no(name: &'static str) -> ActionDef {
    ActionDef {
        name,
        prefix: false,
        parse: None,
        support: Support::No,
    }
}
const fn no_prefix(name: &'static str) -> ActionDef {
    ActionDef {
        name,
        prefix: true,
        parse: None,
        support: Support::No,
    }
}

/// `http-request` actions, in the order HAProxy 2.6.12 lists them.
pub static HTTP_REQUEST_ACTIONS: &[ActionDef] = &[
    no("wait-for-handshake"),
    no("ot-group"),
    yes("set-log-level", parse_set_log_level),
    no("set-nice"),
    yes("use-service", parse_use_service),
    no_prefix("sc-inc-gpc"),
    no_prefix("sc-inc-gpc0"),
    no_prefix("sc-inc-gpc1"),
    no_prefix("sc-set-gpt"),
    no_prefix("sc-set-gpt0"),
    no("send-spoe-group"),
    no_prefix("do-resolve"),
    no("cache-use"),
    no_prefix("add-acl"),
    yes("add-header", parse_add_header),
    yes("allow", parse_allow),
    yes("auth", parse_auth),
    yes("capture", parse_capture),
    no_prefix("del-acl"),
    yes("del-header", parse_del_header),
    no_prefix("del-map"),
    yes("deny", parse_deny),
    no("disable-l7-retry"),
    no("early-hint"),
    no("normalize-uri"),
    yes("redirect", parse_redirect_action),
    no("reject"),
    yes("replace-header", parse_replace_header),
    yes("replace-path", parse_replace_path),
    no("replace-pathq"),
    yes("replace-uri", parse_replace_uri),
    yes("replace-value", parse_replace_value),
    yes("return", parse_return),
    yes("set-header", parse_set_header),
    no_prefix("set-map"),
    yes("set-method", parse_set_method),
    yes("set-path", parse_set_path),
    yes("set-pathq", parse_set_pathq),
    yes("set-query", parse_set_query),
    yes("set-uri", parse_set_uri),
    no("strict-mode"),
    yes("tarpit", parse_tarpit),
    no_prefix("track-sc"),
    no("set-timeout"),
    no("wait-for-body"),
    no_prefix("set-var-fmt"),
    yes_prefix("set-var", parse_set_var),
    yes_prefix("unset-var", parse_unset_var),
    no("set-dst"),
    no("set-dst-port"),
    no("set-mark"),
    no("set-src"),
    no("set-src-port"),
    no("set-tos"),
    no("silent-drop"),
    no("set-priority-class"),
    no("set-priority-offset"),
    // Lua actions exist only once a Lua file registers them; rsproxy runs no Lua.
    no_prefix("lua."),
];

/// `http-response` actions, in the order HAProxy 2.6.12 lists them.
pub static HTTP_RESPONSE_ACTIONS: &[ActionDef] = &[
    no("ot-group"),
    yes("set-log-level", parse_set_log_level),
    no("set-nice"),
    no_prefix("sc-inc-gpc"),
    no_prefix("sc-inc-gpc0"),
    no_prefix("sc-inc-gpc1"),
    no_prefix("sc-set-gpt"),
    no_prefix("sc-set-gpt0"),
    no("send-spoe-group"),
    no("cache-store"),
    no_prefix("add-acl"),
    yes("add-header", parse_add_header),
    yes("allow", parse_allow),
    yes("capture", parse_capture),
    no_prefix("del-acl"),
    yes("del-header", parse_del_header),
    no_prefix("del-map"),
    yes("deny", parse_deny),
    yes("redirect", parse_redirect_action),
    yes("replace-header", parse_replace_header),
    yes("replace-value", parse_replace_value),
    yes("return", parse_return),
    yes("set-header", parse_set_header),
    no_prefix("set-map"),
    yes("set-status", parse_set_status),
    no("strict-mode"),
    no_prefix("track-sc"),
    no("wait-for-body"),
    no_prefix("set-var-fmt"),
    yes_prefix("set-var", parse_set_var),
    yes_prefix("unset-var", parse_unset_var),
    no("set-mark"),
    no("set-tos"),
    no("silent-drop"),
    no_prefix("lua."),
];

/// Every action and `redirect` option with its support status, for the README.
pub fn keyword_names() -> Vec<(&'static str, &'static str, Support)> {
    let mut out: Vec<_> = HTTP_REQUEST_ACTIONS
        .iter()
        .map(|a| ("http-request", a.name, a.support))
        .collect();
    out.extend(
        HTTP_RESPONSE_ACTIONS
            .iter()
            .map(|a| ("http-response", a.name, a.support)),
    );
    out.extend(
        REDIRECT_OPTIONS
            .iter()
            .map(|(name, s)| ("redirect", *name, *s)),
    );
    out
}

/// The rule being parsed: its words (word 0 is the action) and names for messages.
pub struct Rule<'a> {
    pub args: Args<'a>,
    /// `http-request` or `http-response`.
    pub dir: &'static str,
    /// The action word as written (`deny`, `set-var(txn.x)`).
    pub action: &'a str,
}

impl Rule<'_> {
    fn response(&self) -> bool {
        self.dir == "http-response"
    }

    /// An error at word `i`, in HAProxy's words for this rule.
    fn error(&self, i: usize, msg: impl std::fmt::Display) -> Diagnostic {
        self.args.error(
            i,
            format!(
                "error detected while parsing '{} {}' rule : {msg}",
                self.dir, self.action
            ),
        )
    }

    /// Whether word `i` ends the action's words (end of line or a condition).
    fn at_end(&self, i: usize) -> bool {
        matches!(self.args.get(i), None | Some("if") | Some("unless"))
    }
}

/// Parses the words after `http-request`.
pub fn parse_http_request(args: Args) -> Result<HttpRule, Diagnostic> {
    parse_rule(args, "http-request", HTTP_REQUEST_ACTIONS)
}

/// Parses the words after `http-response`.
pub fn parse_http_response(args: Args) -> Result<HttpRule, Diagnostic> {
    parse_rule(args, "http-response", HTTP_RESPONSE_ACTIONS)
}

/// `rule = action [ args ] [ ("if" | "unless") condition ]`
fn parse_rule(
    args: Args,
    dir: &'static str,
    table: &'static [ActionDef],
) -> Result<HttpRule, Diagnostic> {
    let word = args.at(0);
    let Some(def) = table.iter().find(|a| {
        if a.prefix {
            word.starts_with(a.name)
        } else {
            word == a.name
        }
    }) else {
        let list: Vec<String> = table
            .iter()
            .filter(|a| a.name != "lua.")
            .map(|a| {
                if a.prefix {
                    format!("'{}(*)'", a.name)
                } else {
                    format!("'{}'", a.name)
                }
            })
            .collect();
        let got = if word.is_empty() {
            "'' (missing argument)".to_string()
        } else {
            format!("'{word}'")
        };
        let mut msg = format!("'{dir}' expects {}, but got {got}.", list.join(", "));
        let mut d = args.error(0, msg.clone());
        if let Some(best) =
            best_match(word, table.iter().map(|a| a.name)).filter(|_| !word.is_empty())
        {
            msg.push_str(&format!(" Did you mean '{best}' maybe ?"));
            d = args
                .error(0, msg)
                .with_help(format!("did you mean '{best}'?"));
        }
        return Err(d);
    };
    let rule = Rule {
        args,
        dir,
        action: word,
    };
    let Some(parse) = def.parse else {
        let shown = word.split('(').next().unwrap_or(word);
        return Err(unsupported(args.span(0), &format!("{dir} {shown}")));
    };
    let mut cur = 1;
    let action = parse(&rule, &mut cur)?;
    let cond = parse_rule_condition(&rule, cur)?;
    Ok(HttpRule {
        span: args.span(0),
        action,
        cond,
    })
}

/// The condition after an action's words, if any.
fn parse_rule_condition(rule: &Rule, cur: usize) -> Result<Option<Condition>, Diagnostic> {
    let args = rule.args;
    match args.get(cur) {
        None => Ok(None),
        Some("if" | "unless") => parse_condition(args.from(cur)).map(Some).map_err(|mut d| {
            d.message = format!(
                "error detected while parsing an '{} {}' condition : {}",
                rule.dir, rule.action, d.message
            );
            d
        }),
        Some(other) => Err(args.error(
            cur,
            format!(
                "'{} {}' expects either 'if' or 'unless' followed by a condition but found '{other}'.",
                rule.dir, rule.action
            ),
        )),
    }
}

// ---------------------------------------------------------------------------------------
// actions

fn parse_allow(_: &Rule, _: &mut usize) -> Result<HttpAction, Diagnostic> {
    Ok(HttpAction::Allow)
}

/// `deny [ { status | deny_status } N ] [ reply-options ]`
///
/// The IR's `Deny` has no content type nor headers: a deny whose reply has either is
/// recorded as the `Return` it sends (status 403 unless given).
fn parse_deny(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    let reply = parse_reply(rule, cur, ReplyKind::Deny)?;
    if reply.content_type.is_some() || !reply.headers.is_empty() {
        return Ok(HttpAction::Return {
            status: reply.status.unwrap_or(403),
            content_type: reply.content_type,
            content: reply.content,
            headers: reply.headers,
        });
    }
    Ok(HttpAction::Deny {
        status: reply.status,
        content: reply.content,
    })
}

/// `tarpit [ { status | deny_status } N ]`
fn parse_tarpit(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    let start = *cur;
    let reply = parse_reply(rule, cur, ReplyKind::Deny)?;
    if reply.content.is_some() || !reply.headers.is_empty() {
        return Err(unsupported(
            rule.args.span(start),
            &format!("{} tarpit with a payload", rule.dir),
        ));
    }
    Ok(HttpAction::Tarpit {
        status: reply.status,
    })
}

/// `return [ status N ] [ content-type T ] [ payload ] [ hdr NAME VALUE ]*`
fn parse_return(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    let reply = parse_reply(rule, cur, ReplyKind::Return)?;
    Ok(HttpAction::Return {
        status: reply.status.unwrap_or(200),
        content_type: reply.content_type,
        content: reply.content,
        headers: reply.headers,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ReplyKind {
    Deny,
    Return,
}

struct Reply {
    status: Option<u16>,
    content_type: Option<String>,
    content: Option<ReturnContent>,
    headers: Vec<(String, String)>,
}

/// Statuses HAProxy has a built-in error page for (what `deny` without a payload sends).
const DEFAULT_ERROR_STATUSES: &[u16] = &[
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
];

/// The reply options shared by `deny`, `tarpit` and `return` (HAProxy's "http reply").
fn parse_reply(rule: &Rule, cur: &mut usize, kind: ReplyKind) -> Result<Reply, Diagnostic> {
    let args = rule.args;
    let mut reply = Reply {
        status: None,
        content_type: None,
        content: None,
        headers: Vec::new(),
    };
    let mut status_at = 0;
    let mut content_at = 0;
    while !rule.at_end(*cur) {
        let w = args.at(*cur);
        match w {
            "status" | "deny_status" if w == "status" || kind == ReplyKind::Deny => {
                let Some(v) = args.get(*cur + 1).filter(|_| !rule.at_end(*cur + 1)) else {
                    return Err(rule.error(*cur, "'status' expects <status_code> as argument."));
                };
                match parse_uint(v) {
                    Some(n) if (200..=599).contains(&n) => reply.status = Some(n as u16),
                    _ => return Err(rule.error(*cur + 1, format!("Unexpected status code '{v}'."))),
                }
                status_at = *cur + 1;
                *cur += 2;
            }
            "content-type" => {
                let Some(v) = args.get(*cur + 1) else {
                    return Err(rule.error(*cur, "'content-type' expects <type> as argument."));
                };
                reply.content_type = Some(v.to_string());
                *cur += 2;
            }
            "string" | "lf-string" | "file" | "lf-file" | "errorfile" | "errorfiles" => {
                if reply.content.is_some() {
                    let prev = args.at(content_at);
                    return Err(rule.error(
                        *cur,
                        format!("unexpected '{w}' argument, '{prev}' already defined."),
                    ));
                }
                let Some(v) = args.get(*cur + 1) else {
                    return Err(rule.error(
                        *cur,
                        format!(
                            "'{w}' expects <{}> as argument.",
                            if w.contains("file") { "file" } else { "fmt" }
                        ),
                    ));
                };
                let v = v.to_string();
                match w {
                    "file" | "lf-file" if std::fs::read(&v).is_err() => {
                        return Err(rule.error(*cur + 1, format!("error opening file '{v}'.")));
                    }
                    "errorfile" => match std::fs::read(&v) {
                        Err(_) => {
                            return Err(rule.error(*cur + 1, format!("error opening file '{v}'..")))
                        }
                        Ok(b) if !b.starts_with(b"HTTP/") => {
                            return Err(rule.error(
                                *cur + 1,
                                format!("'{v}': unable to parse headers (error offset: 0)."),
                            ))
                        }
                        Ok(_) => {}
                    },
                    "lf-string" => logformat::check(&v).map_err(|m| rule.error(*cur + 1, m))?,
                    _ => {}
                }
                reply.content = Some(match w {
                    "string" => ReturnContent::String(v),
                    "lf-string" => ReturnContent::LfString(v),
                    "file" => ReturnContent::File(v),
                    "lf-file" => ReturnContent::LfFile(v),
                    "errorfile" => ReturnContent::ErrorFile(v),
                    _ => ReturnContent::ErrorFiles(v),
                });
                content_at = *cur;
                *cur += 2;
            }
            "hdr" => {
                let (Some(n), Some(v)) = (args.get(*cur + 1), args.get(*cur + 2)) else {
                    return Err(rule.error(*cur, "'hdr' expects <name> and <value> as arguments."));
                };
                logformat::check(v).map_err(|m| rule.error(*cur + 2, m))?;
                reply.headers.push((n.to_string(), v.to_string()));
                *cur += 3;
            }
            _ => break,
        }
    }
    let has_body = matches!(
        reply.content,
        Some(
            ReturnContent::String(_)
                | ReturnContent::LfString(_)
                | ReturnContent::File(_)
                | ReturnContent::LfFile(_)
        )
    );
    if has_body && reply.content_type.is_none() {
        return Err(rule.error(
            content_at,
            "a content type must be defined when non-empty payload is configured.",
        ));
    }
    if has_body && reply.status == Some(204) {
        return Err(rule.error(status_at, "No body expected for 204 responses."));
    }
    if kind == ReplyKind::Deny && reply.content.is_none() {
        if let Some(s) = reply.status.filter(|s| !DEFAULT_ERROR_STATUSES.contains(s)) {
            return Err(rule.error(
                status_at,
                format!(
                    "status code '{s}' not handled by default with 'default-errorfiles' argument.."
                ),
            ));
        }
    }
    Ok(reply)
}

/// `auth [ realm REALM ]`
fn parse_auth(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    if rule.args.get(*cur) != Some("realm") {
        return Ok(HttpAction::Auth { realm: None });
    }
    match rule.args.get(*cur + 1) {
        Some(r) => {
            *cur += 2;
            Ok(HttpAction::Auth {
                realm: Some(r.to_string()),
            })
        }
        None => Err(rule.error(*cur, "missing realm value.")),
    }
}

/// `redirect ...`: see [`parse_redirect`]; the condition belongs to the rule.
fn parse_redirect_action(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    let redirect = parse_redirect_words(rule.args, cur).map_err(|mut d| {
        d.message = format!(
            "error detected while parsing '{} redirect' rule : {}",
            rule.dir, d.message
        );
        d
    })?;
    Ok(HttpAction::Redirect(Box::new(redirect)))
}

/// Takes exactly `n` words (HAProxy: "expects exactly N arguments").
fn take<'a>(
    rule: &Rule<'a>,
    cur: &mut usize,
    n: usize,
    msg: &str,
) -> Result<Vec<&'a str>, Diagnostic> {
    let words: Vec<&str> = (0..n).map_while(|k| rule.args.get(*cur + k)).collect();
    if words.len() < n {
        return Err(rule.error(*cur + words.len(), msg));
    }
    *cur += n;
    Ok(words)
}

fn header_pair(rule: &Rule, cur: &mut usize) -> Result<(String, String), Diagnostic> {
    let w = take(rule, cur, 2, "expects exactly 2 arguments.")?;
    logformat::check(w[1]).map_err(|m| rule.error(*cur - 1, m))?;
    Ok((w[0].to_string(), w[1].to_string()))
}

/// `set-header NAME FMT`
fn parse_set_header(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    let (name, value) = header_pair(rule, cur)?;
    Ok(HttpAction::SetHeader { name, value })
}

/// `add-header NAME FMT`
fn parse_add_header(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    let (name, value) = header_pair(rule, cur)?;
    Ok(HttpAction::AddHeader { name, value })
}

/// `del-header NAME [ -m str|beg|end|sub|reg ]`
fn parse_del_header(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    let name = take(rule, cur, 1, "expects at least 1 argument.")?[0].to_string();
    let mut method = None;
    if rule.args.get(*cur) == Some("-m") {
        let Some(m) = rule.args.get(*cur + 1) else {
            return Err(rule.error(*cur, "-m flag expects exactly 1 argument."));
        };
        method = Some(match m {
            "str" => MatchMethod::Str,
            "beg" => MatchMethod::Beg,
            "end" => MatchMethod::End,
            "sub" => MatchMethod::Sub,
            "reg" => MatchMethod::Reg,
            _ => {
                return Err(rule.error(
                    *cur + 1,
                    format!("-m with unsupported matching method '{m}'."),
                ))
            }
        });
        *cur += 2;
    }
    Ok(HttpAction::DelHeader { name, method })
}

fn header_regex(rule: &Rule, cur: &mut usize) -> Result<(String, String, String), Diagnostic> {
    let w = take(rule, cur, 3, "expects exactly 3 arguments.")?;
    check_regex(w[1]).map_err(|m| rule.error(*cur - 2, format!("{m}.")))?;
    logformat::check(w[2]).map_err(|m| rule.error(*cur - 1, m))?;
    Ok((w[0].to_string(), w[1].to_string(), w[2].to_string()))
}

/// `replace-header NAME REGEX FMT`
fn parse_replace_header(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    let (name, regex, replacement) = header_regex(rule, cur)?;
    Ok(HttpAction::ReplaceHeader {
        name,
        regex,
        replacement,
    })
}

/// `replace-value NAME REGEX FMT`
fn parse_replace_value(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    let (name, regex, replacement) = header_regex(rule, cur)?;
    Ok(HttpAction::ReplaceValue {
        name,
        regex,
        replacement,
    })
}

/// One log-format argument and nothing else before the condition.
fn one_format(rule: &Rule, cur: &mut usize) -> Result<String, Diagnostic> {
    const MSG: &str = "expects exactly 1 argument <format>.";
    if rule.at_end(*cur) && rule.args.get(*cur).is_none() {
        return Err(rule.error(*cur, MSG));
    }
    let v = take(rule, cur, 1, MSG)?[0];
    if !rule.at_end(*cur) {
        return Err(rule.error(*cur, MSG));
    }
    logformat::check(v).map_err(|m| rule.error(*cur - 1, m))?;
    Ok(v.to_string())
}

fn parse_set_path(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    one_format(rule, cur).map(HttpAction::SetPath)
}
fn parse_set_pathq(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    one_format(rule, cur).map(HttpAction::SetPathq)
}
fn parse_set_query(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    one_format(rule, cur).map(HttpAction::SetQuery)
}
fn parse_set_uri(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    one_format(rule, cur).map(HttpAction::SetUri)
}
fn parse_set_method(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    one_format(rule, cur).map(HttpAction::SetMethod)
}

fn regex_and_format(rule: &Rule, cur: &mut usize) -> Result<(String, String), Diagnostic> {
    const MSG: &str = "expects exactly 2 arguments <match-regex> and <replace-format>.";
    let w = take(rule, cur, 2, MSG)?;
    check_regex(w[0])
        .map_err(|m| rule.error(*cur - 2, format!("failed to parse the regex : {m}.")))?;
    logformat::check(w[1]).map_err(|m| rule.error(*cur - 1, m))?;
    Ok((w[0].to_string(), w[1].to_string()))
}

/// `replace-path REGEX FMT`
fn parse_replace_path(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    let (regex, replacement) = regex_and_format(rule, cur)?;
    Ok(HttpAction::ReplacePath { regex, replacement })
}

/// `replace-uri REGEX FMT`
fn parse_replace_uri(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    let (regex, replacement) = regex_and_format(rule, cur)?;
    Ok(HttpAction::ReplaceUri { regex, replacement })
}

/// `set-status CODE [ reason FMT ]` (responses only)
fn parse_set_status(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    let Some(code) = rule.args.get(*cur) else {
        return Err(rule.error(
            *cur,
            "expects 1 argument: <status>; or 3 arguments: <status> reason <fmt>.",
        ));
    };
    let status = match parse_uint(code) {
        Some(n) if (100..=999).contains(&n) => n as u16,
        _ => return Err(rule.error(*cur, "expects an integer status code between 100 and 999.")),
    };
    *cur += 1;
    let mut reason = None;
    if rule.args.get(*cur) == Some("reason") {
        let Some(r) = rule.args.get(*cur + 1) else {
            return Err(rule.error(
                *cur,
                "expects 1 argument: <status>; or 3 arguments: <status> reason <fmt>.",
            ));
        };
        reason = Some(r.to_string());
        *cur += 2;
    }
    Ok(HttpAction::SetStatus { status, reason })
}

/// The `(scope.name)` of `set-var(...)`/`unset-var(...)`.
fn var_name(rule: &Rule, base: &str) -> Result<(VarScope, String), Diagnostic> {
    let expects =
        "Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'.";
    let word = rule.action;
    let Some(inner) = word.strip_prefix(base).and_then(|r| r.strip_prefix('(')) else {
        return Err(rule.error(
            0,
            format!("invalid or incomplete action '{word}'. {expects}"),
        ));
    };
    let Some(name) = inner.strip_suffix(')') else {
        return Err(rule.error(
            0,
            format!("incomplete argument after action '{word}'. {expects}"),
        ));
    };
    acl::check_var_name(name).map_err(|m| rule.error(0, format!("{m}.")))?;
    let (scope, rest) = name.split_once('.').unwrap_or((name, ""));
    let scope = match scope {
        "proc" => VarScope::Proc,
        "sess" => VarScope::Sess,
        "txn" => VarScope::Txn,
        "req" => VarScope::Req,
        "res" => VarScope::Res,
        _ => {
            return Err(unsupported(
                rule.args.span(0),
                &format!("{} {word} (scope '{scope}')", rule.dir),
            ))
        }
    };
    Ok((scope, rest.to_string()))
}

/// `set-var(scope.name) EXPR`
fn parse_set_var(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    let (scope, name) = var_name(rule, "set-var")?;
    let expr = rule.args.at(*cur);
    let parsed =
        parse_sample(expr, SampleContext::Expr).map_err(|m| rule.error(*cur, format!("{m}.")))?;
    if let Some(what) = parsed.unsupported.first() {
        return Err(unsupported(rule.args.span(*cur), what));
    }
    *cur += 1;
    Ok(HttpAction::SetVar {
        scope,
        name,
        expr: expr.to_string(),
    })
}

/// `unset-var(scope.name)`
fn parse_unset_var(rule: &Rule, _: &mut usize) -> Result<HttpAction, Diagnostic> {
    let (scope, name) = var_name(rule, "unset-var")?;
    Ok(HttpAction::UnsetVar { scope, name })
}

/// `capture EXPR len N` | `capture EXPR id N` (responses: `id` only)
fn parse_capture(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    let args = rule.args;
    let usage = "expects <expression> [ 'len' <length> | id <idx> ].";
    if args.get(*cur).is_none() {
        return Err(rule.error(*cur, usage));
    }
    let expr = args.at(*cur);
    let parsed =
        parse_sample(expr, SampleContext::Expr).map_err(|m| rule.error(*cur, format!("{m}.")))?;
    if let Some(what) = parsed.unsupported.first() {
        return Err(unsupported(args.span(*cur), what));
    }
    *cur += 1;
    let (Some(kw), Some(v)) = (args.get(*cur), args.get(*cur + 1)) else {
        return Err(rule.error(*cur, usage));
    };
    let (mut len, mut id) = (None, None);
    match kw {
        "id" => {
            id = Some(
                parse_uint(v)
                    .filter(|n| *n <= u32::MAX as u64)
                    .ok_or_else(|| {
                        rule.error(*cur + 1, format!("'id' expects an integer, not '{v}'."))
                    })? as u32,
            )
        }
        "len" if !rule.response() => {
            len = Some(
                parse_uint(v)
                    .filter(|n| *n > 0 && *n <= u32::MAX as u64)
                    .ok_or_else(|| rule.error(*cur + 1, "length must be > 0."))?
                    as u32,
            )
        }
        _ if rule.response() => {
            return Err(rule.error(*cur, format!("expects 'id', found '{kw}'.")))
        }
        _ => return Err(rule.error(*cur, format!("expects 'len' or 'id', found '{kw}'."))),
    }
    *cur += 2;
    Ok(HttpAction::Capture {
        sample: expr.to_string(),
        len,
        id,
    })
}

/// The levels `set-log-level` accepts.
const LOG_LEVELS: &[&str] = &[
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "silent",
];

/// `set-log-level LEVEL`
fn parse_set_log_level(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    match rule.args.get(*cur) {
        Some(l) if LOG_LEVELS.contains(&l) => {
            *cur += 1;
            Ok(HttpAction::SetLogLevel(l.to_string()))
        }
        _ => Err(rule.error(
            *cur,
            "expects exactly 1 argument (log level name or 'silent').",
        )),
    }
}

/// `use-service prometheus-exporter` (the only built-in service).
fn parse_use_service(rule: &Rule, cur: &mut usize) -> Result<HttpAction, Diagnostic> {
    let name = rule.args.at(*cur);
    if name == "prometheus-exporter" {
        *cur += 1;
        return Ok(HttpAction::UseService(name.to_string()));
    }
    if name.starts_with("lua.") {
        return Err(unsupported(
            rule.args.span(*cur),
            &format!("{} use-service {name}", rule.dir),
        ));
    }
    Err(rule.error(*cur, format!("'{name}' unknown service name..")))
}

// ---------------------------------------------------------------------------------------
// redirect

/// The `redirect` options after the type and target, with their support.
pub static REDIRECT_OPTIONS: &[(&str, Support)] = &[
    ("code", Support::Yes),
    ("drop-query", Support::Yes),
    ("append-slash", Support::Yes),
    ("set-cookie", Support::Yes),
    ("clear-cookie", Support::Yes),
    ("ignore-empty", Support::No),
];

/// Parses the words after `redirect` (also used by `http-request redirect`).
///
/// `redirect = ("location" | "prefix" | "scheme") target { option } [ cond ]`,
/// `option = "code" (301|302|303|307|308) | "drop-query" | "append-slash"
///         | "set-cookie" NAME["=" VALUE] | "clear-cookie" NAME["="] | "ignore-empty"`.
/// The code defaults to 302. Errors carry HAProxy's bare message (the caller adds "error
/// detected in frontend 'f' while parsing redirect rule : ").
pub fn parse_redirect(args: Args) -> Result<Redirect, Diagnostic> {
    let mut cur = 0;
    let mut redirect = parse_redirect_words(args, &mut cur)?;
    if args.get(cur).is_some() {
        redirect.cond = Some(parse_condition(args.from(cur)).map_err(|mut d| {
            d.message = format!("error in condition: {}", d.message);
            d
        })?);
    }
    Ok(redirect)
}

/// The words of a redirect up to its condition; `cur` is left on `if`/`unless` or the end.
fn parse_redirect_words(args: Args, cur: &mut usize) -> Result<Redirect, Diagnostic> {
    let mut kind = None;
    let mut target = String::new();
    let mut code = 302;
    let (mut drop_query, mut append_slash) = (false, false);
    let (mut set_cookie, mut clear_cookie) = (None, None);
    let missing = |i: usize, w: &str| args.error(i, format!("missing argument for '{w}'."));
    while let Some(w) = args.get(*cur) {
        if w == "if" || w == "unless" {
            break;
        }
        match w {
            "location" | "prefix" | "scheme" => {
                let t = args.get(*cur + 1).ok_or_else(|| missing(*cur, w))?;
                kind = Some(match w {
                    "location" => RedirectKind::Location,
                    "prefix" => RedirectKind::Prefix,
                    _ => RedirectKind::Scheme,
                });
                target = t.to_string();
                *cur += 2;
            }
            "code" => {
                let c = args.get(*cur + 1).ok_or_else(|| missing(*cur, w))?;
                code = match parse_uint(c) {
                    Some(n @ (301 | 302 | 303 | 307 | 308)) => n as u16,
                    _ => {
                        return Err(args.error(
                            *cur + 1,
                            format!("'code': unsupported HTTP code '{c}' (must be one of 301, 302, 303, 307 or 308)."),
                        ))
                    }
                };
                *cur += 2;
            }
            "set-cookie" | "clear-cookie" => {
                let c = args
                    .get(*cur + 1)
                    .ok_or_else(|| missing(*cur, w))?
                    .to_string();
                if w == "set-cookie" {
                    set_cookie = Some(c);
                } else {
                    clear_cookie = Some(c);
                }
                *cur += 2;
            }
            "drop-query" => {
                drop_query = true;
                *cur += 1;
            }
            "append-slash" => {
                append_slash = true;
                *cur += 1;
            }
            "ignore-empty" => return Err(unsupported(args.span(*cur), "redirect ignore-empty")),
            _ => {
                let mut d = args.error(
                    *cur,
                    format!(
                        "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', \
                         'drop-query', 'ignore-empty' or 'append-slash' (was '{w}')."
                    ),
                );
                let names = [
                    "code",
                    "prefix",
                    "location",
                    "scheme",
                    "set-cookie",
                    "clear-cookie",
                    "drop-query",
                    "ignore-empty",
                    "append-slash",
                ];
                if let Some(best) = best_match(w, names) {
                    d = d.with_help(format!("did you mean '{best}'?"));
                }
                return Err(d);
            }
        }
    }
    let Some(kind) = kind else {
        return Err(args.error(
            *cur,
            "redirection type expected ('prefix', 'location', or 'scheme').",
        ));
    };
    Ok(Redirect {
        kind,
        target,
        code,
        drop_query,
        append_slash,
        set_cookie,
        clear_cookie,
        cond: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::haproxy::acl::tests::words;
    use crate::FileId;

    /// Parses `http-request ...`, `http-response ...` or `redirect ...`; errors give the
    /// index of the offending word in the whole line and the message.
    fn rule(line: &str) -> Result<HttpRule, (usize, String)> {
        let ws = words(line);
        let args = Args::new(FileId(0), 1, &ws);
        let r = match ws[0].text.as_str() {
            "http-request" => parse_http_request(args.from(1)),
            "http-response" => parse_http_response(args.from(1)),
            "redirect" => parse_redirect(args.from(1)).map(|r| HttpRule {
                span: args.span(0),
                action: HttpAction::Redirect(Box::new(r)),
                cond: None,
            }),
            other => panic!("not a rule: {other}"),
        };
        r.map_err(|d| {
            (
                ws.iter()
                    .position(|w| w.col == d.span.col)
                    .unwrap_or(ws.len()),
                d.message,
            )
        })
    }

    fn action(line: &str) -> HttpAction {
        rule(line)
            .unwrap_or_else(|e| panic!("{line}: {e:?}"))
            .action
    }

    // Every verdict below was checked with `haproxy -c` 2.6.12 (the line in a frontend with
    // `mode http`).
    #[test]
    fn valid_rules_give_actions() {
        let cases: &[&str] = &[
            "http-request allow",
            "http-request allow if TRUE",
            "http-request deny",
            "http-request deny deny_status 403",
            "http-request deny status 200",
            "http-request deny deny_status 403 content-type text/plain string hello",
            "http-request tarpit deny_status 500",
            "http-request auth",
            "http-request auth realm foo",
            "http-request return",
            "http-request return status 200 content-type text/plain string ok hdr X-A b",
            "http-request return status 599",
            "http-request return status 200 content-type a/b file /etc/hostname",
            "http-request return status 403 content-type text/html lf-string <h1>%[path]</h1>",
            "http-request set-header X y",
            "http-request set-header X-Real-IP %[src]",
            "http-request set-header X %[path,lower]x%%y",
            "http-request set-header X %{+Q}[path]",
            "http-request add-header X y if TRUE",
            "http-request del-header X -m beg",
            "http-request del-header X -m reg",
            "http-request replace-header X a b",
            "http-request replace-value X a b",
            "http-request set-path /x",
            "http-request set-pathq /x",
            "http-request set-query x",
            "http-request set-uri %[url,regsub(^/a,/b)]",
            "http-request set-method GET",
            "http-request replace-path a b",
            "http-request replace-uri ^/old/(.*) /new/\\1",
            "http-request set-var(txn.foo) str(x),lower",
            "http-request set-var(sess.x) int(1) if TRUE",
            "http-request unset-var(txn.foo)",
            "http-request capture req.hdr(host) len 10",
            "http-request set-log-level silent",
            "http-request use-service prometheus-exporter",
            "http-request redirect scheme https code 301 if !{ ssl_fc }",
            "http-request allow if",
            "http-response set-status 200",
            "http-response set-status 503 reason Down",
            "http-response capture res.hdr(x) id 0",
            "http-response replace-header Set-Cookie (.*) \\1;Secure",
            "redirect location /x code 308 drop-query append-slash set-cookie A=b",
            "redirect scheme https if !{ ssl_fc }",
            "redirect location /x if",
        ];
        for line in cases {
            rule(line).unwrap_or_else(|e| panic!("{line}: {e:?}"));
        }
    }

    #[test]
    fn actions_carry_their_arguments() {
        assert!(matches!(
            action("http-request deny deny_status 429"),
            HttpAction::Deny {
                status: Some(429),
                content: None
            }
        ));
        assert!(matches!(
            action("http-request deny content-type text/plain string no"),
            HttpAction::Return {
                status: 403,
                content: Some(ReturnContent::String(_)),
                ..
            }
        ));
        let HttpAction::Return {
            status,
            content_type,
            headers,
            ..
        } = action("http-request return status 201 content-type a/b string ok hdr X-A b hdr X-B c")
        else {
            panic!()
        };
        assert_eq!((status, content_type.as_deref()), (201, Some("a/b")));
        assert_eq!(
            headers,
            vec![("X-A".into(), "b".into()), ("X-B".into(), "c".into())]
        );
        let HttpAction::SetVar { scope, name, expr } =
            action("http-request set-var(txn.a.b) req.hdr(host),lower")
        else {
            panic!()
        };
        assert_eq!(
            (scope, name.as_str(), expr.as_str()),
            (VarScope::Txn, "a.b", "req.hdr(host),lower")
        );
        assert!(matches!(
            action("http-request del-header X -m sub"),
            HttpAction::DelHeader {
                method: Some(MatchMethod::Sub),
                ..
            }
        ));
        assert!(matches!(
            action("http-request capture path len 64"),
            HttpAction::Capture {
                len: Some(64),
                id: None,
                ..
            }
        ));
        let HttpAction::Redirect(r) = action("redirect prefix /p code 301 drop-query if TRUE")
        else {
            panic!()
        };
        assert_eq!(
            (r.kind, r.target.as_str(), r.code, r.drop_query),
            (RedirectKind::Prefix, "/p", 301, true)
        );
        assert!(r.cond.is_some());
        let r = rule("http-request redirect location /x if TRUE").unwrap();
        assert!(r.cond.is_some(), "the condition belongs to the rule");
        let HttpAction::Redirect(r) = r.action else {
            panic!()
        };
        assert_eq!(r.code, 302);
    }

    #[test]
    fn invalid_rules_fail_at_the_right_word() {
        const R: &str = "error detected while parsing 'http-request";
        let cases: &[(&str, usize, String)] = &[
            ("http-request allow foo", 2, "'http-request allow' expects either 'if' or 'unless' followed by a condition but found 'foo'.".into()),
            ("http-request deny deny_status 999", 3, format!("{R} deny' rule : Unexpected status code '999'.")),
            ("http-request deny deny_status 199", 3, format!("{R} deny' rule : Unexpected status code '199'.")),
            ("http-request deny deny_status 599", 3, format!("{R} deny' rule : status code '599' not handled by default with 'default-errorfiles' argument..")),
            ("http-request deny deny_status", 2, format!("{R} deny' rule : 'status' expects <status_code> as argument.")),
            ("http-request deny string hello", 2, format!("{R} deny' rule : a content type must be defined when non-empty payload is configured.")),
            ("http-request auth realm", 2, format!("{R} auth' rule : missing realm value.")),
            ("http-request auth foo", 2, "'http-request auth' expects either 'if' or 'unless' followed by a condition but found 'foo'.".into()),
            ("http-request return status 99", 3, format!("{R} return' rule : Unexpected status code '99'.")),
            ("http-request return status 204 content-type t/p string x", 3, format!("{R} return' rule : No body expected for 204 responses.")),
            ("http-request return status 200 content-type t/p file /nonexistent", 7, format!("{R} return' rule : error opening file '/nonexistent'.")),
            ("http-request return status 200 content-type a/b string x string y", 8, format!("{R} return' rule : unexpected 'string' argument, 'string' already defined.")),
            ("http-request return status 200 hdr X", 4, format!("{R} return' rule : 'hdr' expects <name> and <value> as arguments.")),
            ("http-request set-header X", 3, format!("{R} set-header' rule : expects exactly 2 arguments.")),
            ("http-request set-header X y z", 4, "'http-request set-header' expects either 'if' or 'unless' followed by a condition but found 'z'.".into()),
            ("http-request set-header X %[nope]", 3, format!("{R} set-header' rule : failed to parse sample expression <nope]> : unknown fetch method 'nope'.")),
            ("http-request set-header X %[path_beg]", 3, format!("{R} set-header' rule : failed to parse sample expression <path_beg]> : unknown fetch method 'path_beg'.")),
            ("http-request set-header X %[req.hdr(", 3, format!("{R} set-header' rule : failed to parse sample expression <req.hdr(> : fetch method 'req.hdr' : expected ')'.")),
            ("http-request set-header X %[path", 3, format!("{R} set-header' rule : missing ']' after 'path'.")),
            ("http-request del-header", 2, format!("{R} del-header' rule : expects at least 1 argument.")),
            ("http-request del-header X -m dom", 4, format!("{R} del-header' rule : -m with unsupported matching method 'dom'.")),
            ("http-request del-header X -m", 3, format!("{R} del-header' rule : -m flag expects exactly 1 argument.")),
            ("http-request replace-header X a", 4, format!("{R} replace-header' rule : expects exactly 3 arguments.")),
            ("http-request replace-header X (a b", 3, format!("{R} replace-header' rule : regex '(a' is invalid (error=missing closing parenthesis, erroffset=2).")),
            ("http-request set-path", 2, format!("{R} set-path' rule : expects exactly 1 argument <format>.")),
            ("http-request set-path /x y", 3, format!("{R} set-path' rule : expects exactly 1 argument <format>.")),
            ("http-request replace-path a", 3, format!("{R} replace-path' rule : expects exactly 2 arguments <match-regex> and <replace-format>.")),
            ("http-request replace-uri (a b", 2, format!("{R} replace-uri' rule : failed to parse the regex : regex '(a' is invalid (error=missing closing parenthesis, erroffset=2).")),
            ("http-request set-var(txn.foo) nope", 2, format!("{R} set-var(txn.foo)' rule : unknown fetch method 'nope'.")),
            ("http-request set-var(txn.foo)", 2, format!("{R} set-var(txn.foo)' rule : missing fetch method.")),
            ("http-request set-var(foo) str(x)", 1, format!("{R} set-var(foo)' rule : invalid variable name 'foo'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'.")),
            ("http-request set-var(txn.foo str(x)", 1, format!("{R} set-var(txn.foo' rule : incomplete argument after action 'set-var(txn.foo'. Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'.")),
            ("http-request set-var txn.foo", 1, format!("{R} set-var' rule : invalid or incomplete action 'set-var'. Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'.")),
            ("http-request set-var(txn.x) path foo", 3, "'http-request set-var(txn.x)' expects either 'if' or 'unless' followed by a condition but found 'foo'.".into()),
            ("http-request capture req.hdr(host)", 3, format!("{R} capture' rule : expects <expression> [ 'len' <length> | id <idx> ].")),
            ("http-request capture req.hdr(host) len x", 4, format!("{R} capture' rule : length must be > 0.")),
            ("http-request capture nope len 10", 2, format!("{R} capture' rule : unknown fetch method 'nope'.")),
            ("http-request capture path foo 10", 3, format!("{R} capture' rule : expects 'len' or 'id', found 'foo'.")),
            ("http-request capture path id 1 len 3", 5, "'http-request capture' expects either 'if' or 'unless' followed by a condition but found 'len'.".into()),
            ("http-response capture res.hdr(x) len 10", 3, "error detected while parsing 'http-response capture' rule : expects 'id', found 'len'.".into()),
            ("http-request set-log-level foo", 2, format!("{R} set-log-level' rule : expects exactly 1 argument (log level name or 'silent').")),
            ("http-request use-service foo", 2, format!("{R} use-service' rule : 'foo' unknown service name..")),
            ("http-response set-status 99", 2, "error detected while parsing 'http-response set-status' rule : expects an integer status code between 100 and 999.".into()),
            ("http-response set-status", 2, "error detected while parsing 'http-response set-status' rule : expects 1 argument: <status>; or 3 arguments: <status> reason <fmt>.".into()),
            ("http-request deny if { xyz }", 4, "error detected while parsing an 'http-request deny' condition : unknown fetch method 'xyz' in ACL expression 'xyz'.".into()),
            ("http-request deny if {", 3, "error detected while parsing an 'http-request deny' condition : missing closing '}' in condition.".into()),
            ("http-request redirect location /x code 305", 5, format!("{R} redirect' rule : 'code': unsupported HTTP code '305' (must be one of 301, 302, 303, 307 or 308).")),
            ("http-request redirect", 2, format!("{R} redirect' rule : redirection type expected ('prefix', 'location', or 'scheme').")),
            ("redirect", 0, "redirection type expected ('prefix', 'location', or 'scheme').".into()),
            ("redirect location", 1, "missing argument for 'location'.".into()),
            ("redirect location /x code", 3, "missing argument for 'code'.".into()),
            ("redirect location /x code abc", 4, "'code': unsupported HTTP code 'abc' (must be one of 301, 302, 303, 307 or 308).".into()),
            ("redirect location /x set-cookie", 3, "missing argument for 'set-cookie'.".into()),
            ("redirect foo /x", 1, "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was 'foo').".into()),
            ("redirect location /x keep-query", 3, "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was 'keep-query').".into()),
            ("redirect location /x if { xyz }", 5, "error in condition: unknown fetch method 'xyz' in ACL expression 'xyz'.".into()),
            // rsproxy's own: recognised actions and options it does not carry out.
            ("http-request track-sc0 src", 1, "'http-request track-sc0' is recognised but not supported by rsproxy yet".into()),
            ("http-request sc-inc-gpc0(0)", 1, "'http-request sc-inc-gpc0' is recognised but not supported by rsproxy yet".into()),
            ("http-request lua.foo", 1, "'http-request lua.foo' is recognised but not supported by rsproxy yet".into()),
            ("http-response cache-store c", 1, "'http-response cache-store' is recognised but not supported by rsproxy yet".into()),
            ("redirect location /x ignore-empty", 3, "'redirect ignore-empty' is recognised but not supported by rsproxy yet".into()),
        ];
        for (line, at, msg) in cases {
            assert_eq!(rule(line).err(), Some((*at, msg.clone())), "{line}");
        }
    }

    #[test]
    fn unknown_actions_list_the_table_and_suggest() {
        let (at, msg) = rule("http-request alow").unwrap_err();
        assert_eq!(at, 1);
        assert!(
            msg.starts_with(
                "'http-request' expects 'wait-for-handshake', 'ot-group', 'set-log-level',"
            ),
            "{msg}"
        );
        assert!(
            msg.ends_with(", 'set-priority-offset', but got 'alow'. Did you mean 'allow' maybe ?"),
            "{msg}"
        );
        assert!(
            msg.contains("'track-sc(*)'") && !msg.contains("lua."),
            "{msg}"
        );
        // Nothing after the keyword: `Args::from` of an empty tail keeps no position, so the
        // span falls back to column 1 (the line's start, still the right line).
        let (at, msg) = rule("http-request").unwrap_err();
        assert_eq!(at, 0);
        assert!(msg.ends_with("but got '' (missing argument)."), "{msg}");
        let (_, msg) = rule("http-response bogus").unwrap_err();
        assert!(
            msg.starts_with("'http-response' expects 'ot-group', 'set-log-level', 'set-nice', "),
            "{msg}"
        );
        assert!(
            msg.ends_with("'set-mark', 'set-tos', 'silent-drop', but got 'bogus'."),
            "{msg}"
        );
        // set-status is a response action only.
        // (HAProxy also suggests 'set-dst' here; `best_match` finds nothing that close.)
        let (_, msg) = rule("http-request set-status 200").unwrap_err();
        assert!(msg.contains("but got 'set-status'."), "{msg}");
    }

    #[test]
    fn tables_are_unique() {
        for table in [HTTP_REQUEST_ACTIONS, HTTP_RESPONSE_ACTIONS] {
            let mut names: Vec<_> = table.iter().map(|a| a.name).collect();
            let n = names.len();
            names.sort();
            names.dedup();
            assert_eq!(n, names.len());
            assert!(table
                .iter()
                .all(|a| a.parse.is_some() == (a.support == Support::Yes)));
        }
    }
}
