//! The whole-configuration pass over haproxy.cfg, after every line was read: names that
//! refer to other sections, modes of frontends and the backends they switch to, duplicate
//! servers, `default-server` inheritance, and the warnings HAProxy gives for proxies that
//! cannot work as written.

use super::server;
use crate::ir::haproxy::{
    AclRef, BackendRef, Config, ErrorDirective, Mode, OptionName, Proxy, ProxyKind, ServerOptions,
    TimeoutKind, Verify,
};
use crate::{Diagnostic, Diagnostics, Dialect, Span};
use std::collections::HashMap;

pub fn validate(config: &mut Config, diags: &mut Diagnostics) {
    let verify_none = config
        .global
        .ssl_server_verify
        .as_ref()
        .is_some_and(|v| v.node == Verify::None);
    for p in &mut config.proxies {
        inherit_default_server(p, verify_none, diags);
    }
    let config: &Config = config;
    let listening = config
        .proxies
        .iter()
        .any(|p| p.kind.has_frontend() && !p.binds.is_empty() && p.disabled.is_none());
    if !listening {
        // haproxy -c exits non-zero here ("has no error but will not start"); a CI script
        // checking `rsproxy --check` must fail the same way.
        let span = config.proxies.first().map(|p| p.span).unwrap_or_default();
        diags.push(err(
            span,
            "Configuration file has no error but will not start (no listener).",
        ));
    }
    check_proxy_ids(config, diags);
    // Backends by name, built once: each use_backend resolves in O(1), not by a scan.
    let mut backends: HashMap<&str, &Proxy> = HashMap::new();
    for p in config.backends() {
        backends.entry(p.name.node.as_str()).or_insert(p);
    }
    for p in &config.proxies {
        check_userlist_refs(config, p, diags);
        check_switching(&backends, p, diags);
        check_servers(p, diags);
        check_listeners_and_timeouts(p, diags);
        check_http_only_options(p, diags);
        check_http_check_rules(p, diags);
        check_errorfiles_refs(config, p, diags);
    }
}

/// `errorfiles NAME [CODE...]` names an `http-errors` section; a code it lists that the
/// section has no file for is a warning (as HAProxy warns).
fn check_errorfiles_refs(config: &Config, p: &Proxy, diags: &mut Diagnostics) {
    for e in &p.settings.errorfiles {
        let ErrorDirective::Section { name, codes } = &e.node else {
            continue;
        };
        let Some(h) = config.http_errors.iter().find(|h| h.name.node == name.node) else {
            diags.push(err(
                name.span,
                format!(
                    "proxy '{}': unknown http-errors section '{}'.",
                    p.name.node, name.node
                ),
            ));
            continue;
        };
        for code in codes {
            if !h.errorfiles.iter().any(|f| f.node.status == *code) {
                diags.push(Diagnostic::warning(
                    Dialect::Haproxy,
                    name.span,
                    format!(
                        "config: proxy '{}' : status '{code}' not declared in http-errors section '{}'.",
                        p.name.node, name.node
                    ),
                ));
            }
        }
    }
}

fn err(span: Span, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error(Dialect::Haproxy, span, msg)
}

/// `server` options left unsaid take the proxy's `default-server` values. Checks that depend
/// on the result (name resolution under `init-addr`, TLS verification) run on it here.
fn inherit_default_server(p: &mut Proxy, verify_none: bool, diags: &mut Diagnostics) {
    let def = p
        .settings
        .default_server
        .as_ref()
        .map(|d| d.node.clone())
        .unwrap_or_default();
    for s in &mut p.servers {
        let mut effective = s.opts.clone();
        merge(&mut effective, &def);
        if let Some(d) = server::check_server_resolution(s, &effective) {
            diags.push(d);
        }
        for d in server::check_server_tls(s, &effective, verify_none) {
            diags.push(d);
        }
        s.opts = effective;
    }
}

macro_rules! fill {
    ($dst:ident, $src:ident, $($f:ident),* $(,)?) => {
        $( if $dst.$f.is_none() { $dst.$f = $src.$f.clone(); } )*
    };
}

fn merge(s: &mut ServerOptions, d: &ServerOptions) {
    fill!(
        s,
        d,
        check,
        inter,
        fastinter,
        downinter,
        rise,
        fall,
        port,
        addr,
        cookie,
        weight,
        backup,
        maxconn,
        minconn,
        maxqueue,
        disabled,
        ssl,
        verify,
        ca_file,
        sni,
        alpn,
        check_ssl,
        check_sni,
        send_proxy,
        send_proxy_v2,
        slowstart,
        observe,
        on_error,
        error_limit,
        init_addr,
        resolvers,
        id,
        agent_check,
        track,
        ssl_min_ver,
        ssl_max_ver,
        ciphers,
        crt,
        proto,
        pool_max_conn,
        pool_purge_delay,
        tfo,
    );
}

fn mode(p: &Proxy) -> Mode {
    p.settings
        .mode
        .as_ref()
        .map(|m| m.node)
        .unwrap_or(Mode::Tcp)
}

/// Custom proxy `id`s are unique across all proxies.
fn check_proxy_ids(config: &Config, diags: &mut Diagnostics) {
    let mut seen: std::collections::HashMap<u32, &Proxy> = std::collections::HashMap::new();
    for p in &config.proxies {
        let Some(id) = &p.id else { continue };
        match seen.get(&id.node) {
            Some(prev) => diags.push(err(
                id.span,
                format!(
                    "{} {} reuses same custom id as {} {} (declared at line {}).",
                    p.kind.keyword(),
                    p.name.node,
                    prev.kind.keyword(),
                    prev.name.node,
                    prev.span.line
                ),
            )),
            None => {
                seen.insert(id.node, p);
            }
        }
    }
}

/// Backend references must resolve; HAProxy checks them even where a frontend-only rule was
/// ignored (a `use_backend` in a backend), so rsproxy does too.
fn check_switching(backends: &HashMap<&str, &Proxy>, p: &Proxy, diags: &mut Diagnostics) {
    let mut targets = Vec::new();
    if let Some(db) = &p.default_backend {
        targets.push((db.node.as_str(), db.span, "default_backend"));
    }
    for ub in &p.use_backends {
        if let BackendRef::Name(n) = &ub.backend.node {
            targets.push((n.as_str(), ub.backend.span, "use_backend"));
        }
    }
    for (name, span, what) in targets {
        match backends.get(name).copied() {
            None => diags.push(err(
                span,
                format!(
                    "Proxy '{}': unable to find required {what}: '{name}'.",
                    p.name.node
                ),
            )),
            Some(b) => {
                if p.kind.has_frontend() && mode(p) == Mode::Http && mode(b) == Mode::Tcp {
                    let as_what = if what == "default_backend" {
                        "as its default backend"
                    } else {
                        "in a 'use_backend' rule"
                    };
                    diags.push(err(
                        span,
                        format!(
                            "http frontend '{}' (line {}) tries to use incompatible tcp backend '{}' (line {}) {as_what} (see 'mode').",
                            p.name.node, p.span.line, b.name.node, b.span.line
                        ),
                    ));
                }
            }
        }
    }
}

fn check_servers(p: &Proxy, diags: &mut Diagnostics) {
    for (i, s) in p.servers.iter().enumerate() {
        if let Some(prev) = p.servers[..i].iter().find(|o| o.name.node == s.name.node) {
            diags.push(err(
                s.name.span,
                format!(
                    "{} '{}', another server named '{}' was already defined at line {}, please use distinct names.",
                    if p.kind == ProxyKind::Listen { "proxy" } else { "backend" },
                    p.name.node,
                    s.name.node,
                    prev.name.span.line
                ),
            ));
        }
    }
    for us in &p.use_servers {
        if !p.servers.iter().any(|s| s.name.node == us.server.node) {
            diags.push(err(
                us.server.span,
                format!(
                    "backend '{}' : unable to find server '{}' referenced in a 'use-server' rule.",
                    p.name.node, us.server.node
                ),
            ));
        }
    }
}

fn check_listeners_and_timeouts(p: &Proxy, diags: &mut Diagnostics) {
    if p.disabled.is_some() {
        return;
    }
    if p.kind.has_frontend() && p.binds.is_empty() {
        let what = if p.kind == ProxyKind::Listen {
            "proxy"
        } else {
            "frontend"
        };
        diags.push(Diagnostic::warning(
            Dialect::Haproxy,
            p.name.span,
            format!("{what} '{}' has no 'bind' directive. Please declare it as a backend if this was intended.", p.name.node),
        ));
    }
    let t = &p.settings.timeouts;
    let missing_fe = p.kind.has_frontend() && !t.contains_key(&TimeoutKind::Client);
    let missing_be = p.kind.has_backend()
        && (!t.contains_key(&TimeoutKind::Connect) || !t.contains_key(&TimeoutKind::Server));
    // HAProxy does not warn about a tcp backend with no server: it carries no traffic.
    let carries_traffic = p.kind.has_frontend() || mode(p) != Mode::Tcp || !p.servers.is_empty();
    if carries_traffic && (missing_fe || missing_be) {
        diags.push(Diagnostic::warning(
            Dialect::Haproxy,
            p.name.span,
            format!(
                "missing timeouts for {} '{}'. While not properly invalid, you will certainly encounter various problems with such a configuration. To fix this, please ensure that all following timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
                p.kind.keyword(),
                p.name.node
            ),
        ));
    }
}

/// `http-check` rules do nothing without `option httpchk`: HAProxy ignores them with a warning.
fn check_http_check_rules(p: &Proxy, diags: &mut Diagnostics) {
    let httpchk = p
        .settings
        .options
        .get(&OptionName::Httpchk)
        .is_some_and(|o| o.node.enabled);
    if p.kind.has_backend() && !httpchk && !p.settings.http_check.is_empty() {
        diags.push(Diagnostic::warning(
            Dialect::Haproxy,
            p.name.span,
            format!(
                "proxy '{}' uses http-check rules without 'option httpchk', so the rules are ignored.",
                p.name.node
            ),
        ));
    }
}

/// HTTP-only options on a tcp proxy: HAProxy ignores them with a warning, and so do we.
fn check_http_only_options(p: &Proxy, diags: &mut Diagnostics) {
    if mode(p) != Mode::Tcp {
        return;
    }
    let opts = &p.settings.options;
    if let Some(o) = opts
        .get(&OptionName::Httplog)
        .filter(|o| o.enabled && p.kind.has_frontend())
    {
        diags.push(Diagnostic::warning(
            Dialect::Haproxy,
            o.span,
            format!("'option httplog' not usable with proxy '{}' (needs 'mode http'). Falling back to 'option tcplog'.", p.name.node),
        ));
    }
    if let Some(o) = opts.get(&OptionName::Forwardfor).filter(|o| o.enabled) {
        diags.push(Diagnostic::warning(
            Dialect::Haproxy,
            o.span,
            format!(
                "'option forwardfor' ignored for proxy '{}' as it requires HTTP mode.",
                p.name.node
            ),
        ));
    }
}

/// `http_auth(USERLIST)` / `http_auth_group(USERLIST)` name a `userlist` section.
fn check_userlist_refs(config: &Config, p: &Proxy, diags: &mut Diagnostics) {
    let named = p.acls.iter().map(|a| (&a.expr, a.span));
    let rules = p
        .http_request
        .iter()
        .chain(&p.http_response)
        .filter_map(|r| r.cond.as_ref().map(|c| (c, r.span)));
    let switching = p
        .use_backends
        .iter()
        .filter_map(|u| u.cond.as_ref().map(|c| (c, u.span)));
    let mut anonymous = Vec::new();
    for (cond, span) in rules.chain(switching) {
        for term in cond.any_of.iter().flatten() {
            if let AclRef::Anonymous(e) = &term.acl {
                anonymous.push((&e.node, span));
            }
        }
    }
    for (expr, span) in named.chain(anonymous) {
        let fetch = expr.sample.fetch;
        if !matches!(fetch, "http_auth" | "http_auth_group") {
            continue;
        }
        let Some(list) = expr.sample.args.first() else {
            continue;
        };
        if !config.userlists.iter().any(|u| &u.name.node == list) {
            diags.push(err(
                span,
                format!(
                    "unable to find userlist '{list}' referenced in arg 1 of ACL keyword '{fetch}' in proxy '{}'.",
                    p.name.node
                ),
            ));
        }
    }
}
