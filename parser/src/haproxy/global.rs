//! The `global` section: one table of keywords, each with its parser.
//!
//! Also the `log` target syntax, which proxies share.

use super::kw::{self, Args, Support, TimeUnit};
use super::{bind, did_you_mean};
use crate::ir::haproxy::{
    Facility, Global, LogAddress, LogFormatKind, LogLevel, LogTarget, StatsLevel, StatsSocket,
    TuneValue, Verify,
};
use crate::{Diagnostics, Spanned};

type Parse = fn(&mut Global, Args, &mut Diagnostics);

struct Keyword {
    name: &'static str,
    support: Support,
    parse: Parse,
}

const fn kw(name: &'static str, parse: Parse) -> Keyword {
    Keyword {
        name,
        support: Support::Yes,
        parse,
    }
}

const fn no(name: &'static str) -> Keyword {
    Keyword {
        name,
        support: Support::No,
        parse: |_, _, _| {},
    }
}

/// `global` keywords. The dispatcher only looks up here.
static KEYWORDS: &[Keyword] = &[
    kw("daemon", |g, a, d| flag(&mut g.daemon, a, d)),
    kw("master-worker", |g, a, d| {
        if a.len() > 1 && a.at(1) != "no-exit-on-failure" {
            d.push(a.error(
                1,
                format!(
                    "'master-worker' only supports 'no-exit-on-failure' option (got '{}').",
                    a.at(1)
                ),
            ));
        }
        g.master_worker = Some(a.line_span());
    }),
    kw("quiet", |g, a, d| flag(&mut g.quiet, a, d)),
    kw("maxconn", |g, a, d| g.maxconn = kw::lax_u32(a, 1, d)),
    kw("nbthread", |g, a, d| {
        let Some(v) = kw::lax_u32(a, 1, d) else {
            return;
        };
        if !(1..=64).contains(&v.node) {
            d.push(a.error(
                1,
                format!("'nbthread' value must be between 1 and 64 (was {})", v.node),
            ));
        }
        g.nbthread = Some(v);
    }),
    kw("user", |g, a, d| g.user = word(a, d, "a user name")),
    kw("group", |g, a, d| g.group = word(a, d, "a group name")),
    kw("uid", |g, a, d| g.uid = kw::lax_u32(a, 1, d)),
    kw("gid", |g, a, d| g.gid = kw::lax_u32(a, 1, d)),
    kw("chroot", |g, a, d| {
        g.chroot = word(a, d, "a directory as an argument")
    }),
    kw("pidfile", |g, a, d| {
        g.pidfile = word(a, d, "a file name as an argument")
    }),
    kw("log", |g, a, d| {
        if let Some(t) = parse_log(a, d) {
            if t.node == LogTarget::Global {
                d.push(a.error(1, "'log global' makes no sense in the 'global' section."));
            } else {
                g.logs.push(t);
            }
        }
    }),
    kw("log-tag", |g, a, d| {
        g.log_tag = word(a, d, "a tag for use in syslog")
    }),
    kw("log-send-hostname", |g, a, _| {
        g.log_send_hostname = Some(Spanned::new(a.get(1).map(str::to_string), a.line_span()))
    }),
    kw("stats", parse_stats),
    kw("hard-stop-after", |g, a, d| {
        if let Ok(v) = a
            .duration(1, "hard-stop-after", TimeUnit::Millis)
            .map_err(|e| d.push(e))
        {
            g.hard_stop_after = Some(Spanned::new(v, a.span(1)));
        }
    }),
    kw("ulimit-n", |g, a, d| g.ulimit_n = kw::lax_u32(a, 1, d)),
    kw("spread-checks", |g, a, d| {
        let Some(v) = kw::lax_u32(a, 1, d) else {
            return;
        };
        if v.node > 50 {
            d.push(a.error(
                1,
                "'spread-checks' needs a positive argument between 0 and 50.",
            ));
        }
        g.spread_checks = Some(v);
    }),
    kw("max-spread-checks", |g, a, d| {
        if let Ok(v) = a
            .duration(1, "max-spread-checks", TimeUnit::Millis)
            .map_err(|e| d.push(e))
        {
            g.max_spread_checks = Some(Spanned::new(v, a.span(1)));
        }
    }),
    kw("ssl-default-bind-ciphers", |g, a, d| {
        g.ssl_default_bind_ciphers = word(a, d, "a cipher suite as an argument")
    }),
    kw("ssl-default-bind-ciphersuites", |g, a, d| {
        g.ssl_default_bind_ciphersuites = word(a, d, "a cipher suite as an argument")
    }),
    kw("ssl-default-bind-options", |g, a, d| {
        g.ssl_default_bind_options.extend(ssl_options(a, d, true))
    }),
    kw("ssl-default-server-ciphers", |g, a, d| {
        g.ssl_default_server_ciphers = word(a, d, "a cipher suite as an argument")
    }),
    kw("ssl-default-server-options", |g, a, d| {
        g.ssl_default_server_options
            .extend(ssl_options(a, d, false))
    }),
    kw("ssl-server-verify", |g, a, d| {
        let v = match a.at(1) {
            "none" => Verify::None,
            "required" => Verify::Required,
            other => {
                return d.push(a.error(
                    1,
                    format!(
                    "'ssl-server-verify' expects 'none' or 'required' as argument (got '{other}')."
                ),
                ))
            }
        };
        g.ssl_server_verify = Some(Spanned::new(v, a.span(1)));
    }),
    kw("ca-base", |g, a, d| {
        g.ca_base = word(a, d, "a directory path as an argument")
    }),
    kw("crt-base", |g, a, d| {
        g.crt_base = word(a, d, "a directory path as an argument")
    }),
    kw("node", |g, a, d| g.node = word(a, d, "a name")),
    kw("description", |g, a, _| {
        let text: Vec<&str> = (1..a.len()).map(|i| a.at(i)).collect();
        g.description = Some(Spanned::new(text.join(" "), a.line_span()));
    }),
    no("lua-load"),
    no("lua-load-per-thread"),
    no("lua-prepend-path"),
    no("setenv"),
    no("presetenv"),
    no("unsetenv"),
    no("resetenv"),
    no("server-state-file"),
    no("server-state-base"),
    no("ssl-engine"),
    no("ssl-mode-async"),
    no("ssl-dh-param-file"),
    no("ssl-load-extra-files"),
    no("ssl-load-extra-del-ext"),
    no("ssl-default-server-ciphersuites"),
    no("cpu-map"),
    no("h1-case-adjust"),
    no("h1-case-adjust-file"),
    no("maxsslconn"),
    no("maxconnrate"),
    no("maxsessrate"),
    no("maxsslrate"),
    no("maxcomprate"),
    no("maxcompcpuusage"),
    no("maxpipes"),
    no("maxzlibmem"),
    no("noepoll"),
    no("nopoll"),
    no("nosplice"),
    no("nogetaddrinfo"),
    no("noreuseport"),
    no("busy-polling"),
    no("profiling.tasks"),
    no("insecure-fork-wanted"),
    no("insecure-setuid-wanted"),
    no("set-dumpable"),
    no("expose-experimental-directives"),
    no("localpeer"),
    no("numa-cpu-mapping"),
    no("external-check"),
    no("strict-limits"),
    no("unix-bind"),
    no("pp2-never-send-local"),
    no("issuers-chain-path"),
    no("mworker-max-reloads"),
    no("httpclient.resolvers.id"),
    no("httpclient.ssl.verify"),
    no("cluster-secret"),
    no("default-path"),
    no("fd-hard-limit"),
    no("grace"),
    no("log-send-hostname-len"),
    no("thread-group"),
    no("thread-groups"),
    no("ssl-skip-self-issued-ca"),
    no("ssl-propquery"),
    no("ssl-provider"),
    no("ssl-provider-path"),
    no("anonkey"),
    no("hard-stop-after-close"),
    no("nbproc"),
];

/// `tune.*` keys rsproxy honours and the kind of value each takes.
static TUNE: &[(&str, TuneKind, Support)] = &[
    ("tune.bufsize", TuneKind::Int, Support::Yes),
    ("tune.maxrewrite", TuneKind::Int, Support::Yes),
    ("tune.http.maxhdr", TuneKind::Int, Support::Yes),
    ("tune.http.cookielen", TuneKind::Int, Support::Yes),
    ("tune.http.logurilen", TuneKind::Int, Support::Yes),
    ("tune.maxaccept", TuneKind::Int, Support::Yes),
    ("tune.ssl.default-dh-param", TuneKind::Int, Support::Yes),
    ("tune.ssl.cachesize", TuneKind::Int, Support::Yes),
    ("tune.ssl.lifetime", TuneKind::Seconds, Support::Yes),
    ("tune.ssl.maxrecord", TuneKind::Int, Support::Yes),
    ("tune.ssl.force-private-cache", TuneKind::Flag, Support::Yes),
    ("tune.idletimer", TuneKind::Millis, Support::Yes),
    ("tune.rcvbuf.client", TuneKind::Size, Support::Yes),
    ("tune.rcvbuf.server", TuneKind::Size, Support::Yes),
    ("tune.sndbuf.client", TuneKind::Size, Support::Yes),
    ("tune.sndbuf.server", TuneKind::Size, Support::Yes),
    ("tune.maxpollevents", TuneKind::Int, Support::No),
    ("tune.recv_enough", TuneKind::Int, Support::No),
    ("tune.pipesize", TuneKind::Size, Support::No),
    ("tune.comp.maxlevel", TuneKind::Int, Support::No),
    ("tune.h2.header-table-size", TuneKind::Int, Support::No),
    ("tune.h2.initial-window-size", TuneKind::Int, Support::No),
    ("tune.h2.max-concurrent-streams", TuneKind::Int, Support::No),
    ("tune.h2.max-frame-size", TuneKind::Int, Support::No),
    ("tune.lua.maxmem", TuneKind::Int, Support::No),
    ("tune.ssl.capture-buffer-size", TuneKind::Int, Support::No),
    ("tune.ssl.ssl-ctx-cache-size", TuneKind::Int, Support::No),
    ("tune.ssl.keylog", TuneKind::Word, Support::No),
    ("tune.vars.global-max-size", TuneKind::Size, Support::No),
    ("tune.vars.txn-max-size", TuneKind::Size, Support::No),
    ("tune.zlib.memlevel", TuneKind::Int, Support::No),
    ("tune.zlib.windowsize", TuneKind::Int, Support::No),
    ("tune.pattern.cache-size", TuneKind::Int, Support::No),
    ("tune.fd.edge-triggered", TuneKind::Word, Support::No),
    ("tune.runqueue-depth", TuneKind::Int, Support::No),
    ("tune.sched.low-latency", TuneKind::Word, Support::No),
    ("tune.listener.multi-queue", TuneKind::Word, Support::No),
    ("tune.buffers.limit", TuneKind::Int, Support::No),
    ("tune.buffers.reserve", TuneKind::Int, Support::No),
    // The rest of HAProxy 2.6's tune.* keywords (QUIC ones excluded: Debian's build has no
    // QUIC, so haproxy -c rejects them as unknown too).
    ("tune.fail-alloc", TuneKind::Word, Support::No),
    ("tune.idle-pool.shared", TuneKind::Word, Support::No),
    ("tune.lua.forced-yield", TuneKind::Word, Support::No),
    ("tune.lua.service-timeout", TuneKind::Word, Support::No),
    ("tune.lua.session-timeout", TuneKind::Word, Support::No),
    ("tune.lua.task-timeout", TuneKind::Word, Support::No),
    (
        "tune.peers.max-updates-at-once",
        TuneKind::Word,
        Support::No,
    ),
    ("tune.pool-high-fd-ratio", TuneKind::Word, Support::No),
    ("tune.pool-low-fd-ratio", TuneKind::Word, Support::No),
    (
        "tune.ssl.capture-cipherlist-size",
        TuneKind::Word,
        Support::No,
    ),
    ("tune.ssl.hard-maxrecord", TuneKind::Word, Support::No),
    ("tune.vars.proc-max-size", TuneKind::Word, Support::No),
    ("tune.vars.reqres-max-size", TuneKind::Word, Support::No),
    ("tune.vars.sess-max-size", TuneKind::Word, Support::No),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TuneKind {
    Int,
    Size,
    Millis,
    Seconds,
    Flag,
    Word,
}

/// Parses one line of the `global` section.
pub fn parse_line(g: &mut Global, args: Args, diags: &mut Diagnostics) {
    let name = args.at(0);
    if name.starts_with("tune.") {
        return parse_tune(g, args, diags);
    }
    match KEYWORDS.iter().find(|k| k.name == name) {
        Some(k) if k.support == Support::Yes => (k.parse)(g, args, diags),
        Some(k) => diags.push(kw::unsupported(args.span(0), k.name)),
        None => {
            let msg = removed_global_keyword(name)
                .unwrap_or_else(|| format!("unknown keyword '{name}' in 'global' section"));
            let mut e = args.error(0, msg);
            if let Some(h) = did_you_mean(name, KEYWORDS.iter().map(|k| k.name)) {
                e.message = format!("{}; {h}", e.message);
            }
            diags.push(e);
        }
    }
}

fn removed_global_keyword(name: &str) -> Option<String> {
    match name {
        "debug" => Some("'debug' option is not supported anymore since HAProxy 2.1.".into()),
        _ => None,
    }
}

fn parse_tune(g: &mut Global, args: Args, diags: &mut Diagnostics) {
    let name = args.at(0);
    let Some((key, kind, support)) = TUNE.iter().find(|(k, _, _)| *k == name) else {
        let mut e = args.error(0, format!("unknown keyword '{name}' in 'global' section"));
        if let Some(h) = did_you_mean(name, TUNE.iter().map(|t| t.0)) {
            e.message = format!("{}; {h}", e.message);
        }
        diags.push(e);
        return;
    };
    if *support == Support::No {
        diags.push(kw::unsupported(args.span(0), key));
        return;
    }
    let value = match kind {
        TuneKind::Flag => TuneValue::Word(String::new()),
        TuneKind::Word => match args.get(1) {
            Some(w) => TuneValue::Word(w.to_string()),
            None => return diags.push(args.error(0, format!("'{key}' expects an argument."))),
        },
        TuneKind::Int => match args.get(1).and_then(kw::parse_uint) {
            Some(n) => TuneValue::Int(n),
            None => {
                return diags.push(args.error(1, format!("'{key}' expects an integer argument.")))
            }
        },
        TuneKind::Size => match args.get(1).and_then(kw::parse_size) {
            Some(n) => TuneValue::Size(n),
            None => return diags.push(args.error(1, format!("'{key}' expects a size argument."))),
        },
        TuneKind::Millis | TuneKind::Seconds => {
            let unit = if *kind == TuneKind::Millis {
                TimeUnit::Millis
            } else {
                TimeUnit::Seconds
            };
            match args.duration(1, key, unit) {
                Ok(d) => TuneValue::Duration(d),
                Err(e) => return diags.push(e),
            }
        }
    };
    if *key == "tune.http.maxhdr" {
        if let TuneValue::Int(n) = value {
            if !(1..=32767).contains(&n) {
                return diags.push(args.error(
                    1,
                    "'tune.http.maxhdr' expects a numeric value between 1 and 32767",
                ));
            }
        }
    }
    if *key == "tune.bufsize" {
        if let TuneValue::Int(n) = value {
            if n == 0 || n > i32::MAX as u64 {
                return diags
                    .push(args.error(1, "'tune.bufsize' expects a positive integer argument."));
            }
        }
    }
    g.tune
        .insert(key.to_string(), Spanned::new(value, args.span(1)));
}

/// `stats socket ADDR [options]`, `stats timeout T`, `stats maxconn N` (global forms).
fn parse_stats(g: &mut Global, a: Args, d: &mut Diagnostics) {
    match a.at(1) {
        "socket" => {
            let Some(addr) = a.get(2) else {
                return d.push(a.error(1, "'stats socket' requires a path or an address"));
            };
            let addr = match bind::parse_socket_address(addr) {
                Ok(x) => x,
                Err(e) => return d.push(a.error(2, format!("'stats socket' : {e}"))),
            };
            let mut s = StatsSocket {
                addr,
                mode: None,
                level: StatsLevel::default(),
                expose_fd_listeners: false,
                user: None,
                group: None,
            };
            let mut i = 3;
            while i < a.len() {
                let opt = a.at(i);
                let val = a.get(i + 1);
                let need = |d: &mut Diagnostics| d.push(a.error(i, format!("'{opt}' : missing value")));
                match opt {
                    "mode" => match val.and_then(|v| u32::from_str_radix(v, 8).ok()) {
                        Some(m) => s.mode = Some(m),
                        None => need(d),
                    },
                    "level" => match val {
                        Some("user") => s.level = StatsLevel::User,
                        Some("operator") => s.level = StatsLevel::Operator,
                        Some("admin") => s.level = StatsLevel::Admin,
                        _ => d.push(a.error(i + 1, "'level' only supports 'user', 'operator', and 'admin'")),
                    },
                    "expose-fd" => {
                        if val != Some("listeners") {
                            d.push(a.error(i + 1, "'expose-fd' only supports 'listeners'"));
                        }
                        s.expose_fd_listeners = true;
                    }
                    "user" | "uid" => s.user = val.map(str::to_string),
                    "group" | "gid" => s.group = val.map(str::to_string),
                    "process" | "thread" | "name" | "maxconn" | "backlog" => {}
                    other => {
                        d.push(a.error(i, format!("'stats socket' : unknown keyword '{other}'.")));
                        return;
                    }
                }
                i += 2;
            }
            g.stats_sockets.push(Spanned::new(s, a.span(2)));
        }
        "timeout" => match a.duration(2, "stats timeout", TimeUnit::Millis) {
            Ok(t) if t.micros == 0 => d.push(a.error(2, "'stats timeout' expects a positive value")),
            Ok(t) => g.stats_timeout = Some(Spanned::new(t, a.span(2))),
            Err(e) => d.push(e),
        },
        "maxconn" => g.stats_maxconn = kw::lax_u32(a, 2, d),
        "bind-process" => d.push(kw::unsupported(a.span(1), "stats bind-process")),
        _ => d.push(a.error(
            1,
            "'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' in 'global' section",
        )),
    }
}

/// The words of `ssl-default-bind-options` / `ssl-default-server-options`, each checked.
fn ssl_options(a: Args, d: &mut Diagnostics, bind: bool) -> Vec<Spanned<String>> {
    const FLAGS: &[&str] = &[
        "no-sslv3",
        "no-tlsv10",
        "no-tlsv11",
        "no-tlsv12",
        "no-tlsv13",
        "force-sslv3",
        "force-tlsv10",
        "force-tlsv11",
        "force-tlsv12",
        "force-tlsv13",
        "no-tls-tickets",
    ];
    let mut out = Vec::new();
    let mut i = 1;
    while i < a.len() {
        let w = a.at(i);
        if w == "ssl-min-ver" || w == "ssl-max-ver" {
            if !matches!(
                a.at(i + 1),
                "SSLv3" | "TLSv1.0" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3"
            ) {
                d.push(a.error(
                    i + 1,
                    format!("'{w}' : unknown ssl/tls version string '{}'.", a.at(i + 1)),
                ));
            }
            out.push(Spanned::new(format!("{w} {}", a.at(i + 1)), a.span(i)));
            i += 2;
            continue;
        }
        if FLAGS.contains(&w) || (bind && w == "prefer-client-ciphers") {
            out.push(Spanned::new(w.to_string(), a.span(i)));
        } else {
            d.push(a.error(
                i,
                format!("unknown option '{w}' on global statement '{}'.", a.at(0)),
            ));
        }
        i += 1;
    }
    out
}

/// A keyword that takes no argument.
fn flag(slot: &mut Option<crate::Span>, a: Args, d: &mut Diagnostics) {
    if a.len() > 1 {
        d.push(a.error(
            1,
            format!(
                "'{}' cannot handle unexpected argument '{}'.",
                a.at(0),
                a.at(1)
            ),
        ));
    }
    *slot = Some(a.line_span());
}

fn word(a: Args, d: &mut Diagnostics, expects: &str) -> Option<Spanned<String>> {
    match a.get(1) {
        Some(w) => Some(Spanned::new(w.to_string(), a.span(1))),
        None => {
            d.push(a.error(0, format!("'{}' expects {expects}.", a.at(0))));
            None
        }
    }
}

/// `log global` | `log TARGET [len N] [format F] [sample R:S] FACILITY [LEVEL [MINLEVEL]]`
pub fn parse_log(a: Args, d: &mut Diagnostics) -> Option<Spanned<LogTarget>> {
    let Some(target) = a.get(1) else {
        d.push(a.error(
            0,
            "'log' expects either <address[:port]> and <facility> or 'global' as arguments.",
        ));
        return None;
    };
    if target == "global" {
        return Some(Spanned::new(LogTarget::Global, a.span(1)));
    }
    let addr = match parse_log_address(target) {
        Ok(x) => x,
        Err(e) => {
            d.push(a.error(1, format!("log : {e}")));
            return None;
        }
    };
    let mut i = 2;
    let mut max_len = None;
    let mut format = LogFormatKind::default();
    loop {
        match a.at(i) {
            "len" => {
                match a.get(i + 1).and_then(kw::parse_uint) {
                    Some(n) if (80..=65535).contains(&n) => max_len = Some(n as u32),
                    _ => {
                        d.push(a.error(i + 1, "log : 'len' expects a value between 80 and 65535"));
                        return None;
                    }
                }
                i += 2;
            }
            "format" => {
                format = match a.at(i + 1) {
                    "rfc3164" => LogFormatKind::Rfc3164,
                    "rfc5424" => LogFormatKind::Rfc5424,
                    "raw" => LogFormatKind::Raw,
                    "short" => LogFormatKind::Short,
                    "timed" => LogFormatKind::Timed,
                    "iso" => LogFormatKind::Iso,
                    "local" => LogFormatKind::Local,
                    "priority" => LogFormatKind::Priority,
                    other => {
                        d.push(a.error(i + 1, format!("log : unknown log format '{other}'")));
                        return None;
                    }
                };
                i += 2;
            }
            "sample" => {
                d.push(kw::unsupported(a.span(i), "log ... sample"));
                return None;
            }
            _ => break,
        }
    }
    let Some(fac) = a.get(i) else {
        d.push(a.error(i, "log : missing facility"));
        return None;
    };
    let Some(facility) = facility(fac) else {
        d.push(a.error(i, format!("log : unknown log facility '{fac}'")));
        return None;
    };
    let mut level = None;
    let mut min_level = None;
    if let Some(l) = a.get(i + 1) {
        match log_level(l) {
            Some(x) => level = Some(x),
            None => {
                d.push(a.error(i + 1, format!("log : unknown optional log level '{l}'")));
                return None;
            }
        }
    }
    if let Some(l) = a.get(i + 2) {
        match log_level(l) {
            Some(x) => min_level = Some(x),
            None => {
                d.push(a.error(
                    i + 2,
                    format!("log : unknown optional minimum log level '{l}'"),
                ));
                return None;
            }
        }
    }
    if a.len() > i + 3 {
        d.push(a.error(
            i + 3,
            format!("log : unexpected argument '{}'", a.at(i + 3)),
        ));
        return None;
    }
    Some(Spanned::new(
        LogTarget::Target {
            addr,
            format,
            max_len,
            facility,
            level,
            min_level,
        },
        a.span(1),
    ))
}

fn parse_log_address(s: &str) -> Result<LogAddress, String> {
    if s == "stdout" {
        return Ok(LogAddress::Stdout);
    }
    if s == "stderr" {
        return Ok(LogAddress::Stderr);
    }
    if s.starts_with('/') {
        return Ok(LogAddress::Unix(s.to_string()));
    }
    if let Some(p) = s.strip_prefix("unix@") {
        return Ok(LogAddress::Unix(p.to_string()));
    }
    if let Some(r) = s.strip_prefix("ring@") {
        return Ok(LogAddress::Ring(r.to_string()));
    }
    if let Some(fd) = s.strip_prefix("fd@") {
        return fd
            .parse()
            .map(LogAddress::Fd)
            .map_err(|_| format!("invalid fd in '{s}'"));
    }
    let (tcp, rest) = if let Some(r) = s
        .strip_prefix("tcp@")
        .or_else(|| s.strip_prefix("tcp4@"))
        .or_else(|| s.strip_prefix("tcp6@"))
    {
        (true, r)
    } else {
        let r = ["udp@", "udp4@", "udp6@", "ipv4@", "ipv6@"]
            .iter()
            .find_map(|p| s.strip_prefix(p))
            .unwrap_or(s);
        (false, r)
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !h.ends_with(':') || h.contains('.') => {
            let port: u16 = p
                .parse()
                .map_err(|_| format!("invalid port '{p}' in '{s}'"))?;
            if port == 0 {
                return Err(format!("invalid port '0' in '{s}'"));
            }
            (h.to_string(), port)
        }
        _ => (rest.to_string(), 514),
    };
    if host.is_empty() {
        return Err(format!("missing address in '{s}'"));
    }
    Ok(if tcp {
        LogAddress::Tcp { host, port }
    } else {
        LogAddress::Udp { host, port }
    })
}

pub(crate) fn facility(s: &str) -> Option<Facility> {
    use Facility::*;
    Some(match s {
        "kern" => Kern,
        "user" => User,
        "mail" => Mail,
        "daemon" => Daemon,
        "auth" => Auth,
        "syslog" => Syslog,
        "lpr" => Lpr,
        "news" => News,
        "uucp" => Uucp,
        "cron" => Cron,
        "auth2" => Auth2,
        "ftp" => Ftp,
        "ntp" => Ntp,
        "audit" => Audit,
        "alert" => Alert,
        "cron2" => Cron2,
        "local0" => Local0,
        "local1" => Local1,
        "local2" => Local2,
        "local3" => Local3,
        "local4" => Local4,
        "local5" => Local5,
        "local6" => Local6,
        "local7" => Local7,
        _ => return None,
    })
}

pub(crate) fn log_level(s: &str) -> Option<LogLevel> {
    use LogLevel::*;
    Some(match s {
        "emerg" => Emerg,
        "alert" => Alert,
        "crit" => Crit,
        "err" => Err,
        "warning" => Warning,
        "notice" => Notice,
        "info" => Info,
        "debug" => Debug,
        _ => return None,
    })
}

/// Every `global` keyword with its support status.
pub fn keyword_names() -> Vec<(&'static str, Support)> {
    KEYWORDS
        .iter()
        .map(|k| (k.name, k.support))
        .chain(TUNE.iter().map(|(n, _, s)| (*n, *s)))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::haproxy::parse_str;
    use crate::ir::haproxy::{Facility, LogAddress, LogTarget};
    use crate::Env;

    /// Parses `text` followed by a listener (a config without one is an error of its own).
    fn errors(text: &str) -> Vec<(u32, String)> {
        let text = format!("{text}listen l\n  bind 127.0.0.1:9\n");
        let (_, d, _) = parse_str(&text, &Env::empty());
        d.errors()
            .map(|e| (e.span.line, e.message.clone()))
            .collect()
    }

    #[test]
    fn seed_global_section_is_typed() {
        let (c, d, _) = parse_str(
            "global\n log /dev/log local0 info\n chroot /var/lib/haproxy\n pidfile /var/run/haproxy.pid\n \
             maxconn 4000\n user haproxy\n group haproxy\n daemon\n stats socket /var/lib/haproxy/stats\n \
             tune.ssl.default-dh-param 2048\nlisten l\n bind 127.0.0.1:9\n",
            &Env::empty(),
        );
        assert!(!d.has_errors(), "{d:?}");
        let g = &c.global;
        assert_eq!(g.maxconn.as_ref().map(|m| m.node), Some(4000));
        assert!(g.daemon.is_some());
        assert_eq!(g.user.as_ref().map(|u| u.node.as_str()), Some("haproxy"));
        match &g.logs[0].node {
            LogTarget::Target { addr, facility, .. } => {
                assert_eq!(addr, &LogAddress::Unix("/dev/log".into()));
                assert_eq!(*facility, Facility::Local0);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(g.stats_sockets.len(), 1);
        assert!(g.tune.contains_key("tune.ssl.default-dh-param"));
    }

    #[test]
    fn log_to_udp_host_defaults_to_port_514() {
        let (c, d, _) = parse_str(
            "global\n log 127.0.0.1 local0\n log 127.0.0.1:1514 local1 notice\nlisten l\n bind :9\n",
            &Env::empty(),
        );
        assert!(!d.has_errors());
        let addrs: Vec<_> = c
            .global
            .logs
            .iter()
            .map(|l| match &l.node {
                LogTarget::Target { addr, .. } => addr.clone(),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            addrs[0],
            LogAddress::Udp {
                host: "127.0.0.1".into(),
                port: 514
            }
        );
        assert_eq!(
            addrs[1],
            LogAddress::Udp {
                host: "127.0.0.1".into(),
                port: 1514
            }
        );
    }

    /// Each case checked against haproxy 2.6.12 `-c`.
    #[test]
    fn global_errors_name_their_line() {
        let cases: &[(&str, u32, &str)] = &[
            (
                "global\n  foo bar\n",
                2,
                "unknown keyword 'foo' in 'global' section",
            ),
            (
                "global\n  nbthread 0\n",
                2,
                "'nbthread' value must be between 1 and 64 (was 0)",
            ),
            (
                "global\n  log /dev/log local9\n",
                2,
                "log : unknown log facility 'local9'",
            ),
            (
                "global\n  daemon 1\n",
                2,
                "'daemon' cannot handle unexpected argument '1'.",
            ),
            (
                "  maxconn 10\n",
                1,
                "unknown keyword 'maxconn' out of section.",
            ),
            (
                "global\n  lua-load x.lua\n",
                2,
                "'lua-load' is recognised but not supported by rsproxy yet",
            ),
            (
                "global\n  maxconm 10\n",
                2,
                "unknown keyword 'maxconm' in 'global' section; did you mean 'maxconn' maybe ?",
            ),
        ];
        for (text, line, msg) in cases {
            assert_eq!(errors(text), vec![(*line, msg.to_string())], "{text}");
        }
    }

    #[test]
    fn lax_integers_warn_but_pass_like_haproxy() {
        let (c, d, _) = parse_str("global\n maxconn abc\nlisten l\n bind :9\n", &Env::empty());
        assert!(!d.has_errors());
        assert_eq!(d.iter().filter(|w| w.span.line == 2).count(), 1, "{d:?}");
        assert_eq!(c.global.maxconn.map(|m| m.node), Some(0));
    }
}
