//! The HAProxy half of the IR.
//!
//! A [`Config`] is the `global` section, the `defaults` sections, the proxies (`frontend`,
//! `backend`, `listen`) and the auxiliary sections, in file order. After validation each
//! proxy's [`ProxySettings`] already holds what it inherited from its `defaults` section, so
//! the runtime never looks at defaults again.

use super::{Duration, IpNet, Size};
use crate::source::{Span, Spanned};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Config {
    pub global: Global,
    pub defaults: Vec<Defaults>,
    pub proxies: Vec<Proxy>,
    pub userlists: Vec<Userlist>,
    pub http_errors: Vec<HttpErrors>,
}

impl Config {
    pub fn proxy(&self, name: &str, want_backend: bool) -> Option<&Proxy> {
        self.proxies.iter().find(|p| {
            p.name.node == name
                && if want_backend {
                    p.kind.has_backend()
                } else {
                    p.kind.has_frontend()
                }
        })
    }
    pub fn backends(&self) -> impl Iterator<Item = &Proxy> {
        self.proxies.iter().filter(|p| p.kind.has_backend())
    }
    pub fn frontends(&self) -> impl Iterator<Item = &Proxy> {
        self.proxies.iter().filter(|p| p.kind.has_frontend())
    }
}

// ---------------------------------------------------------------------------------------
// global

#[derive(Clone, Debug, Default, Serialize)]
pub struct Global {
    pub daemon: Option<Span>,
    pub master_worker: Option<Span>,
    pub maxconn: Option<Spanned<u32>>,
    pub nbthread: Option<Spanned<u32>>,
    pub user: Option<Spanned<String>>,
    pub group: Option<Spanned<String>>,
    pub uid: Option<Spanned<u32>>,
    pub gid: Option<Spanned<u32>>,
    pub chroot: Option<Spanned<String>>,
    pub pidfile: Option<Spanned<String>>,
    pub logs: Vec<Spanned<LogTarget>>,
    pub log_tag: Option<Spanned<String>>,
    pub log_send_hostname: Option<Spanned<Option<String>>>,
    pub stats_sockets: Vec<Spanned<StatsSocket>>,
    pub stats_timeout: Option<Spanned<Duration>>,
    pub stats_maxconn: Option<Spanned<u32>>,
    pub hard_stop_after: Option<Spanned<Duration>>,
    pub ulimit_n: Option<Spanned<u32>>,
    pub spread_checks: Option<Spanned<u32>>,
    pub max_spread_checks: Option<Spanned<Duration>>,
    pub tune: BTreeMap<String, Spanned<TuneValue>>,
    pub ssl_default_bind_ciphers: Option<Spanned<String>>,
    pub ssl_default_bind_ciphersuites: Option<Spanned<String>>,
    pub ssl_default_bind_options: Vec<Spanned<String>>,
    pub ssl_default_server_ciphers: Option<Spanned<String>>,
    pub ssl_default_server_options: Vec<Spanned<String>>,
    /// `ssl-server-verify none|required`: the default of `verify` on server lines.
    pub ssl_server_verify: Option<Spanned<Verify>>,
    pub ca_base: Option<Spanned<String>>,
    pub crt_base: Option<Spanned<String>>,
    pub node: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub quiet: Option<Span>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum TuneValue {
    Int(u64),
    Size(Size),
    Duration(Duration),
    Word(String),
}

#[derive(Clone, Debug, Serialize)]
pub struct StatsSocket {
    pub addr: SocketAddress,
    pub mode: Option<u32>,
    pub level: StatsLevel,
    pub expose_fd_listeners: bool,
    pub user: Option<String>,
    pub group: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Default)]
pub enum StatsLevel {
    User,
    Operator,
    #[default]
    Admin,
}

// ---------------------------------------------------------------------------------------
// logging

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum LogTarget {
    /// `log global`: use the global section's targets.
    Global,
    Target {
        addr: LogAddress,
        format: LogFormatKind,
        max_len: Option<u32>,
        facility: Facility,
        level: Option<LogLevel>,
        min_level: Option<LogLevel>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum LogAddress {
    /// A unix datagram socket such as `/dev/log`.
    Unix(String),
    /// `udp@host:port`, `host:port` or `host` (port 514).
    Udp {
        host: String,
        port: u16,
    },
    Tcp {
        host: String,
        port: u16,
    },
    Stdout,
    Stderr,
    Ring(String),
    Fd(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Default)]
pub enum LogFormatKind {
    #[default]
    Rfc3164,
    Rfc5424,
    Raw,
    Short,
    Timed,
    Iso,
    Local,
    Priority,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Facility {
    Kern,
    User,
    Mail,
    Daemon,
    Auth,
    Syslog,
    Lpr,
    News,
    Uucp,
    Cron,
    Auth2,
    Ftp,
    Ntp,
    Audit,
    Alert,
    Cron2,
    Local0,
    Local1,
    Local2,
    Local3,
    Local4,
    Local5,
    Local6,
    Local7,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum LogLevel {
    Emerg,
    Alert,
    Crit,
    Err,
    Warning,
    Notice,
    Info,
    Debug,
}

// ---------------------------------------------------------------------------------------
// addresses

/// What a `bind`, `server`, `stats socket` or `log` address names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Host {
    /// No address, `*` or `0.0.0.0`/`::` with an explicit family: every local address.
    Any,
    Ip(IpAddr),
    /// A host name, resolved at start-up.
    Name(String),
    Unix(String),
    Abns(String),
    Fd(String),
}

/// A bind address: host and a port range (`:80`, `*:8080-8089`, `127.0.0.1:80`, `unix@/x`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SocketAddress {
    pub host: Host,
    /// `None` for addresses without ports (unix sockets).
    pub ports: Option<PortRange>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

/// A server's port: absent (same as the client's destination port), fixed, or an offset
/// (`+N`/`-N`) from the client's destination port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ServerPort {
    Same,
    Fixed(u16),
    Offset(i32),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServerAddress {
    pub host: Host,
    pub port: ServerPort,
}

// ---------------------------------------------------------------------------------------
// defaults and proxies

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ProxyKind {
    Frontend,
    Backend,
    Listen,
}

impl ProxyKind {
    pub fn has_frontend(self) -> bool {
        matches!(self, ProxyKind::Frontend | ProxyKind::Listen)
    }
    pub fn has_backend(self) -> bool {
        matches!(self, ProxyKind::Backend | ProxyKind::Listen)
    }
    pub fn keyword(self) -> &'static str {
        match self {
            ProxyKind::Frontend => "frontend",
            ProxyKind::Backend => "backend",
            ProxyKind::Listen => "listen",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Defaults {
    pub name: Option<Spanned<String>>,
    pub from: Option<Spanned<String>>,
    pub span: Span,
    pub settings: ProxySettings,
}

#[derive(Clone, Debug, Serialize)]
pub struct Proxy {
    pub kind: ProxyKind,
    pub name: Spanned<String>,
    /// The `defaults` section this proxy inherits from (by name, or the last unnamed one).
    pub from: Option<Spanned<String>>,
    pub span: Span,
    pub settings: ProxySettings,
    pub binds: Vec<Bind>,
    pub servers: Vec<Server>,
    pub acls: Vec<Acl>,
    /// Names of ACLs rejected only as not supported by rsproxy (that error is reported): a
    /// rule naming one is not reported again as "no such ACL".
    #[serde(skip)]
    pub rejected_acls: Vec<String>,
    pub use_backends: Vec<UseBackend>,
    pub default_backend: Option<Spanned<String>>,
    pub use_servers: Vec<UseServer>,
    /// `force-persist` / `ignore-persist` rules, in order (the first that matches decides).
    pub persist_rules: Vec<PersistRule>,
    pub redirects: Vec<Spanned<Redirect>>,
    pub http_request: Vec<HttpRule>,
    pub http_response: Vec<HttpRule>,
    pub stats: Stats,
    pub disabled: Option<Span>,
    pub description: Option<Spanned<String>>,
    pub id: Option<Spanned<u32>>,
}

/// Everything a `defaults` section can set and a proxy can override. Unset fields take
/// HAProxy's built-in defaults at runtime.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ProxySettings {
    pub mode: Option<Spanned<Mode>>,
    pub balance: Option<Spanned<Balance>>,
    pub hash_type: Option<Spanned<HashType>>,
    pub maxconn: Option<Spanned<u32>>,
    pub fullconn: Option<Spanned<u32>>,
    pub backlog: Option<Spanned<u32>>,
    pub retries: Option<Spanned<u32>>,
    pub timeouts: BTreeMap<TimeoutKind, Spanned<Duration>>,
    pub options: BTreeMap<OptionName, Spanned<OptionSetting>>,
    pub logs: Vec<Spanned<LogTarget>>,
    pub no_log: Option<Span>,
    pub log_format: Option<Spanned<String>>,
    pub log_tag: Option<Spanned<String>>,
    pub cookie: Option<Spanned<Cookie>>,
    /// `dynamic-cookie-key KEY`: the secret `cookie ... dynamic` derives server values from.
    pub dynamic_cookie_key: Option<Spanned<String>>,
    pub http_check: Vec<Spanned<HttpCheckRule>>,
    pub default_server: Option<Spanned<ServerOptions>>,
    /// `errorfile`, `errorloc*` and `errorfiles` lines, in configuration order (a
    /// `defaults` section's first): for one status the last line that gives one wins.
    pub errorfiles: Vec<Spanned<ErrorDirective>>,
    pub http_reuse: Option<Spanned<HttpReuse>>,
    pub monitor_uri: Option<Spanned<String>>,
    pub unique_id_format: Option<Spanned<String>>,
    pub unique_id_header: Option<Spanned<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Mode {
    Tcp,
    Http,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Balance {
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    Source,
    Uri {
        len: Option<u32>,
        depth: Option<u32>,
        whole: bool,
        path_only: bool,
    },
    UrlParam {
        param: String,
        check_post: Option<u32>,
    },
    Hdr {
        name: String,
        use_domain_only: bool,
    },
    Random {
        draws: u32,
    },
    RdpCookie {
        name: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum HashMethod {
    MapBased,
    Consistent,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum HashFunction {
    Sdbm,
    Djb2,
    Wt6,
    Crc32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct HashType {
    pub method: HashMethod,
    pub function: HashFunction,
    pub avalanche: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum TimeoutKind {
    Client,
    ClientFin,
    Server,
    ServerFin,
    Connect,
    Queue,
    Tunnel,
    HttpRequest,
    HttpKeepAlive,
    Check,
    Tarpit,
}

/// The proxy options rsproxy knows (`option NAME ...` / `no option NAME`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum OptionName {
    AbortOnClose,
    AllBackups,
    CheckCache,
    ClfLog,
    ContStats,
    DontLogNormal,
    DontLogNull,
    Forwardfor,
    HttpBufferRequest,
    HttpIgnoreProbes,
    HttpKeepAlive,
    HttpNoDelay,
    HttpPretendKeepalive,
    HttpServerClose,
    HttpUseHtx,
    Httpchk,
    Httpclose,
    Httplog,
    HttpRestrictReqHdrNames,
    IndependentStreams,
    LdapCheck,
    LogHealthChecks,
    LogSeparateErrors,
    Logasap,
    MysqlCheck,
    Nolinger,
    Originalto,
    PersistOption,
    PgsqlCheck,
    PreferLastServer,
    Redispatch,
    RedisCheck,
    SmtpChk,
    SocketStats,
    SpliceAuto,
    SpliceRequest,
    SpliceResponse,
    SpopCheck,
    SslHelloChk,
    TcpCheck,
    TcpSmartAccept,
    TcpSmartConnect,
    Tcpka,
    Clitcpka,
    Srvtcpka,
    Tcplog,
    Transparent,
    AcceptInvalidHttpRequest,
    AcceptInvalidHttpResponse,
    H1CaseAdjustBogusClient,
    H1CaseAdjustBogusServer,
    DisableH2Upgrade,
    External,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OptionSetting {
    /// `false` for `no option NAME`.
    pub enabled: bool,
    pub args: OptionArgs,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Default)]
pub enum OptionArgs {
    #[default]
    None,
    Forwardfor {
        except: Option<IpNet>,
        header: Option<String>,
        if_none: bool,
    },
    Originalto {
        except: Option<IpNet>,
        header: Option<String>,
    },
    Httpchk {
        method: Option<String>,
        uri: Option<String>,
        version: Option<String>,
    },
    Httplog {
        clf: bool,
    },
    Redispatch {
        interval: Option<i32>,
    },
    SmtpChk {
        hello: Option<String>,
        domain: Option<String>,
    },
    Check {
        args: Vec<String>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum HttpReuse {
    Never,
    Safe,
    Aggressive,
    Always,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cookie {
    pub name: String,
    pub mode: CookieMode,
    pub indirect: bool,
    pub nocache: bool,
    pub postonly: bool,
    pub preserve: bool,
    pub httponly: bool,
    pub secure: bool,
    pub domains: Vec<String>,
    pub maxidle: Option<Duration>,
    pub maxlife: Option<Duration>,
    pub dynamic: bool,
    pub attrs: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CookieMode {
    Rewrite,
    Insert,
    Prefix,
}

/// One `http-check` line. A proxy's first `http-check` or `option httpchk` line replaces
/// the rules (and the `option httpchk` request) it inherited from its defaults section, as in
/// HAProxy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum HttpCheckRule {
    Send {
        method: Option<String>,
        uri: Option<String>,
        version: Option<String>,
        /// `hdr NAME VALUE`, in order (VALUE is a log-format string).
        headers: Vec<(String, String)>,
        body: Option<String>,
        /// `uri-lf`, `body-lf` and `comment` with their values, as written.
        others: Vec<(String, String)>,
    },
    Expect {
        negate: bool,
        matcher: HttpCheckMatch,
        /// The pattern; for `hdr`/`fhdr` every word of the match, space-separated.
        pattern: String,
        /// `min-recv`, `comment`, `ok-status`, ... with their values, as written.
        options: Vec<(String, String)>,
    },
    Connect {
        args: Vec<String>,
    },
    DisableOn404,
    SendState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum HttpCheckMatch {
    Status,
    Rstatus,
    String,
    Rstring,
    StringLf,
    Hdr,
    Fhdr,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorFile {
    pub status: u16,
    pub path: String,
    /// The file's response, read and checked when the configuration is read (as HAProxy
    /// does); `None`: the file is empty, and HAProxy closes the connection without answering.
    #[serde(skip)]
    pub response: Option<ErrorResponse>,
}

/// One line that gives a proxy answers for error statuses.
#[derive(Clone, Debug, Serialize)]
pub enum ErrorDirective {
    /// `errorfile CODE FILE`
    File(ErrorFile),
    /// `errorloc CODE URL` / `errorloc302 ...` (`redirect` 302) / `errorloc303 ...` (303).
    Loc {
        status: u16,
        redirect: u16,
        url: String,
    },
    /// `errorfiles NAME [CODE...]`: the `http-errors NAME` section's files, all or only
    /// those for the codes given.
    Section {
        name: Spanned<String>,
        codes: Vec<u16>,
    },
}

/// An error file's HTTP response as written in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorResponse {
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: String,
    pub status: u16,
    /// The reason phrase as written (may be empty).
    pub reason: Vec<u8>,
    /// In file order, names as written, values without surrounding blanks.
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

// ---------------------------------------------------------------------------------------
// bind and server

#[derive(Clone, Debug, Serialize)]
pub struct Bind {
    pub span: Span,
    pub addrs: Vec<Spanned<SocketAddress>>,
    pub opts: BindOptions,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BindOptions {
    pub ssl: bool,
    pub crt: Vec<String>,
    pub crt_list: Vec<String>,
    pub ca_file: Option<String>,
    pub verify: Option<Verify>,
    pub alpn: Option<Vec<String>>,
    pub ciphers: Option<String>,
    pub ciphersuites: Option<String>,
    pub curves: Option<String>,
    pub ssl_min_ver: Option<TlsVersion>,
    pub ssl_max_ver: Option<TlsVersion>,
    pub no_tls: Vec<TlsVersion>,
    pub strict_sni: bool,
    pub maxconn: Option<u32>,
    pub backlog: Option<u32>,
    pub name: Option<String>,
    pub id: Option<u32>,
    pub accept_proxy: bool,
    pub transparent: bool,
    pub v4v6: bool,
    pub v6only: bool,
    pub interface: Option<String>,
    pub defer_accept: bool,
    pub tfo: bool,
    pub proto: Option<String>,
    pub mode: Option<u32>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub level: Option<StatsLevel>,
    pub expose_fd_listeners: bool,
    pub thread: Option<String>,
    pub process: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Verify {
    None,
    Optional,
    Required,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum TlsVersion {
    Sslv3,
    Tlsv10,
    Tlsv11,
    Tlsv12,
    Tlsv13,
}

#[derive(Clone, Debug, Serialize)]
pub struct Server {
    pub name: Spanned<String>,
    pub addr: Spanned<ServerAddress>,
    pub span: Span,
    pub opts: ServerOptions,
}

/// `server` and `default-server` options. `None`/`false` means "not said here": inheritance
/// from `default-server` fills them in during validation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ServerOptions {
    pub check: Option<bool>,
    pub inter: Option<Duration>,
    pub fastinter: Option<Duration>,
    pub downinter: Option<Duration>,
    pub rise: Option<u32>,
    pub fall: Option<u32>,
    pub port: Option<u16>,
    pub addr: Option<IpAddr>,
    pub cookie: Option<String>,
    pub weight: Option<u32>,
    pub backup: Option<bool>,
    pub maxconn: Option<u32>,
    pub minconn: Option<u32>,
    pub maxqueue: Option<u32>,
    pub disabled: Option<bool>,
    pub ssl: Option<bool>,
    pub verify: Option<Verify>,
    pub ca_file: Option<String>,
    pub sni: Option<String>,
    pub alpn: Option<Vec<String>>,
    pub check_ssl: Option<bool>,
    pub check_sni: Option<String>,
    pub send_proxy: Option<bool>,
    pub send_proxy_v2: Option<bool>,
    pub slowstart: Option<Duration>,
    pub observe: Option<String>,
    pub on_error: Option<String>,
    pub error_limit: Option<u32>,
    pub init_addr: Option<String>,
    pub resolvers: Option<String>,
    pub id: Option<u32>,
    pub agent_check: Option<bool>,
    pub track: Option<String>,
    pub ssl_min_ver: Option<TlsVersion>,
    pub ssl_max_ver: Option<TlsVersion>,
    pub ciphers: Option<String>,
    pub crt: Option<String>,
    pub proto: Option<String>,
    pub pool_max_conn: Option<i64>,
    pub pool_purge_delay: Option<Duration>,
    pub tfo: Option<bool>,
}

// ---------------------------------------------------------------------------------------
// ACLs, conditions, rules

/// `fetch(args),converter(args),...`
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sample {
    pub fetch: &'static str,
    pub args: Vec<String>,
    pub converters: Vec<Converter>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Converter {
    pub name: &'static str,
    pub args: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum MatchMethod {
    Found,
    Bool,
    Int,
    Ip,
    Bin,
    Len,
    Str,
    Sub,
    Reg,
    Beg,
    End,
    Dir,
    Dom,
}

/// One ACL expression: a sample, how to match it, and the patterns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AclExpr {
    pub sample: Sample,
    pub method: MatchMethod,
    pub ignore_case: bool,
    pub pattern_files: Vec<String>,
    pub patterns: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Acl {
    pub name: Spanned<String>,
    pub span: Span,
    pub expr: AclExpr,
}

/// `if`/`unless` followed by terms: an OR of ANDs of (possibly negated) ACLs.
#[derive(Clone, Debug, Serialize)]
pub struct Condition {
    pub unless: bool,
    pub any_of: Vec<Vec<CondTerm>>,
    pub span: Span,
}

#[derive(Clone, Debug, Serialize)]
pub struct CondTerm {
    pub negated: bool,
    pub acl: AclRef,
}

#[derive(Clone, Debug, Serialize)]
pub enum AclRef {
    /// A named ACL of the proxy (all its declarations OR'ed) or a predefined one.
    Named(Spanned<String>),
    /// `{ fetch pattern ... }`
    Anonymous(Spanned<AclExpr>),
}

#[derive(Clone, Debug, Serialize)]
pub struct UseBackend {
    pub span: Span,
    /// A backend name, or a log-format expression (`%[...]`) resolved per request.
    pub backend: Spanned<BackendRef>,
    pub cond: Option<Condition>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum BackendRef {
    Name(String),
    Dynamic(String),
}

#[derive(Clone, Debug, Serialize)]
pub struct UseServer {
    pub span: Span,
    pub server: Spanned<String>,
    pub cond: Option<Condition>,
}

/// `force-persist { if | unless } COND` (`force`) or `ignore-persist { if | unless } COND`.
#[derive(Clone, Debug, Serialize)]
pub struct PersistRule {
    pub span: Span,
    pub force: bool,
    pub cond: Condition,
}

#[derive(Clone, Debug, Serialize)]
pub struct Redirect {
    pub kind: RedirectKind,
    pub target: String,
    pub code: u16,
    pub drop_query: bool,
    pub append_slash: bool,
    pub set_cookie: Option<String>,
    pub clear_cookie: Option<String>,
    pub cond: Option<Condition>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum RedirectKind {
    Location,
    Prefix,
    Scheme,
}

#[derive(Clone, Debug, Serialize)]
pub struct HttpRule {
    pub span: Span,
    pub action: HttpAction,
    pub cond: Option<Condition>,
}

#[derive(Clone, Debug, Serialize)]
pub enum HttpAction {
    Allow,
    Deny {
        status: Option<u16>,
        content: Option<ReturnContent>,
    },
    Tarpit {
        status: Option<u16>,
    },
    Auth {
        realm: Option<String>,
    },
    Redirect(Box<Redirect>),
    Return {
        status: u16,
        content_type: Option<String>,
        content: Option<ReturnContent>,
        headers: Vec<(String, String)>,
    },
    SetHeader {
        name: String,
        value: String,
    },
    AddHeader {
        name: String,
        value: String,
    },
    DelHeader {
        name: String,
        method: Option<MatchMethod>,
    },
    ReplaceHeader {
        name: String,
        regex: String,
        replacement: String,
    },
    ReplaceValue {
        name: String,
        regex: String,
        replacement: String,
    },
    SetPath(String),
    SetPathq(String),
    SetQuery(String),
    SetUri(String),
    SetMethod(String),
    SetStatus {
        status: u16,
        reason: Option<String>,
    },
    ReplacePath {
        regex: String,
        replacement: String,
    },
    ReplaceUri {
        regex: String,
        replacement: String,
    },
    SetVar {
        scope: VarScope,
        name: String,
        expr: String,
    },
    UnsetVar {
        scope: VarScope,
        name: String,
    },
    Capture {
        sample: String,
        len: Option<u32>,
        id: Option<u32>,
    },
    SetLogLevel(String),
    UseService(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ReturnContent {
    String(String),
    LfString(String),
    File(String),
    LfFile(String),
    ErrorFile(String),
    ErrorFiles(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum VarScope {
    Proc,
    Sess,
    Txn,
    Req,
    Res,
}

// ---------------------------------------------------------------------------------------
// stats page

#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub enable: Option<Span>,
    pub uri: Option<Spanned<String>>,
    pub realm: Option<Spanned<String>>,
    pub auths: Vec<Spanned<(String, String)>>,
    pub refresh: Option<Spanned<Duration>>,
    pub admin: Vec<Condition>,
    pub hide_version: Option<Span>,
    pub show_legends: Option<Span>,
    pub show_node: Option<Spanned<Option<String>>>,
    pub show_desc: Option<Spanned<Option<String>>>,
    pub scope: Vec<Spanned<String>>,
}

// ---------------------------------------------------------------------------------------
// auxiliary sections

#[derive(Clone, Debug, Serialize)]
pub struct Userlist {
    pub name: Spanned<String>,
    pub groups: Vec<Spanned<UserGroup>>,
    pub users: Vec<Spanned<User>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct UserGroup {
    pub name: String,
    pub users: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct User {
    pub name: String,
    pub password: Password,
    pub groups: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub enum Password {
    Insecure(String),
    Crypt(String),
}

#[derive(Clone, Debug, Serialize)]
pub struct HttpErrors {
    pub name: Spanned<String>,
    pub errorfiles: Vec<Spanned<ErrorFile>>,
}
