//! No input makes the haproxy.cfg parser panic, and every diagnostic it gives has a location
//! inside the text.
//!
//! Two generators: arbitrary text (including invalid UTF-8 read lossily), and lines built from
//! HAProxy's own vocabulary so that the generated configs reach deep into the keyword parsers.

use proptest::prelude::*;
use rsproxy_parser::haproxy::parse_str;
use rsproxy_parser::Env;

const WORDS: &[&str] = &[
    "global",
    "defaults",
    "frontend",
    "backend",
    "listen",
    "userlist",
    "http-errors",
    "peers",
    "f",
    "b",
    "l",
    "from",
    "mode",
    "http",
    "tcp",
    "bind",
    ":80",
    "*:8080",
    "127.0.0.1:81-82",
    ":::90",
    "unix@/tmp/x",
    "ssl",
    "crt",
    "server",
    "s1",
    "127.0.0.1:80",
    "localhost:+1",
    "check",
    "inter",
    "rise",
    "fall",
    "weight",
    "backup",
    "cookie",
    "insert",
    "prefix",
    "indirect",
    "nocache",
    "balance",
    "roundrobin",
    "uri",
    "len",
    "hdr(host)",
    "timeout",
    "connect",
    "client",
    "server",
    "5s",
    "10",
    "0",
    "-1",
    "99999999999",
    "option",
    "no",
    "httplog",
    "forwardfor",
    "except",
    "127.0.0.0/8",
    "header",
    "httpchk",
    "redispatch",
    "acl",
    "a",
    "path_beg",
    "/x",
    "hdr_beg(host)",
    "-i",
    "-m",
    "str",
    "-f",
    "use_backend",
    "default_backend",
    "if",
    "unless",
    "!",
    "!a",
    "||",
    "or",
    "{",
    "}",
    "ssl_fc",
    "redirect",
    "scheme",
    "https",
    "location",
    "code",
    "301",
    "http-request",
    "set-header",
    "deny",
    "deny_status",
    "return",
    "status",
    "200",
    "string",
    "auth",
    "realm",
    "http-response",
    "stats",
    "enable",
    "uri",
    "admin",
    "log",
    "global",
    "/dev/log",
    "local0",
    "info",
    "maxconn",
    "nbthread",
    "daemon",
    "user",
    "group",
    "tune.bufsize",
    "default-server",
    "errorfile",
    "503",
    "user",
    "password",
    "insecure-password",
    "\"quoted word\"",
    "'strong'",
    "\\ ",
    "\\x41",
    "${HOME}",
    "\"${X[*]}\"",
    ".if",
    ".else",
    ".endif",
    ".elif",
    "defined(X)",
    "version_atleast(2.4)",
    ".notice",
    ".alert",
    "#",
    "",
    // Multi-byte characters next to the characters parsers slice at.
    "é",
    "%é",
    "\"%[src,regsub(é,ü)]\"",
    "\"%{+Q}é\"",
    "$é:80",
    "${é}:80",
    "é:8é",
    "[é]:80",
    "hdr(é)",
    "log-format",
    "unique-id-format",
    "\"%ci %[req.hdr(host),lower]\"",
    "\"%[\"",
    "set-var(txn.é)",
    "http_auth(é)",
    "-m",
    "reg",
    "(é",
    "\\x",
    "'é'",
    "\"${X-é}\"",
];

fn vocab_line() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 0..8).prop_map(|w| w.join(" "))
}

fn vocab_config() -> impl Strategy<Value = String> {
    prop::collection::vec(vocab_line(), 0..40).prop_map(|l| l.join("\n"))
}

fn assert_sound(text: &str) {
    let (_, diags, _) = parse_str(text, &Env::empty().with("X", "a b"));
    let lines = text.lines().count() as u32 + 1;
    for d in diags.iter() {
        assert!(d.span.line <= lines, "diagnostic past the end: {d:?}");
        assert!(!d.message.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        assert_sound(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn vocabulary_configs_never_panic(text in vocab_config()) {
        assert_sound(&text);
    }
}
