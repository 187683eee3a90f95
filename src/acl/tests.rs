use super::*;
use rsproxy_parser::haproxy::parse_str;
use rsproxy_parser::Env;

struct FakeWorld;

impl World for FakeWorld {
    fn nbsrv(&self, b: usize) -> i64 {
        [2, 0][b.min(1)]
    }
    fn srv_is_up(&self, _b: usize, s: usize) -> bool {
        s == 0
    }
    fn be_conn(&self, _b: usize) -> i64 {
        7
    }
    fn fe_conn(&self, _f: usize) -> i64 {
        3
    }
}

/// The conditions of every `use_backend` of frontend `fe` in `cfg`, compiled.
fn conds(cfg: &str) -> (Vec<Cond>, Vec<Refused>) {
    let text = format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n\
         frontend fe\n  bind :8000\n{cfg}\n  default_backend b\n\
         backend b\n  server s1 127.0.0.1:1\n  server s2 127.0.0.1:2\nbackend empty\n"
    );
    let (config, diags, _) = parse_str(&text, &Env::empty());
    assert!(!diags.has_errors(), "{diags:?}");
    let fe = config
        .proxies
        .iter()
        .find(|p| p.name.node == "fe")
        .expect("fe");
    let backends: HashMap<String, usize> = [("b".to_string(), 0), ("empty".to_string(), 1)].into();
    let frontends: HashMap<String, usize> = [("fe".to_string(), 0)].into();
    let servers = vec![vec!["s1".to_string(), "s2".to_string()], vec![]];
    let userlists = HashMap::new();
    let names = Names {
        backends: &backends,
        frontends: &frontends,
        servers: &servers,
        userlists: &userlists,
        response: std::cell::Cell::new(false),
    };
    let mut c = Compiler::new(&fe.acls, &names);
    let out = fe
        .use_backends
        .iter()
        .filter_map(|u| u.cond.as_ref().and_then(|cond| c.cond(cond)))
        .collect();
    (out, c.refused)
}

struct Req {
    method: &'static str,
    target: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    src: &'static str,
}

fn req(target: &'static str) -> Req {
    Req {
        method: "GET",
        target,
        headers: vec![("host", "www.example.com")],
        src: "192.168.1.10:40000",
    }
}

impl Req {
    fn hdr(mut self, n: &'static str, v: &'static str) -> Self {
        self.headers.push((n, v));
        self
    }
    fn method(mut self, m: &'static str) -> Self {
        self.method = m;
        self
    }
    fn src(mut self, s: &'static str) -> Self {
        self.src = s;
        self
    }
    fn eval(&self, c: &Cond) -> bool {
        let mut h = HeaderMap::new();
        for (n, v) in &self.headers {
            h.append(
                HeaderName::from_static(n),
                hyper::header::HeaderValue::from_static(v),
            );
        }
        let ctx = Ctx {
            http: Some(HttpCtx {
                method: self.method.as_bytes(),
                target: self.target.as_bytes(),
                version: b"1.1",
                headers: &h,
            }),
            resp: None,
            vars: None,
            src: self.src.parse().expect("src"),
            dst: "10.0.0.1:80".parse().expect("dst"),
            frontend: 0,
            backend: Some(0),
            world: &FakeWorld,
            tls: None,
        };
        c.eval(&ctx)
    }
}

fn one(cfg: &str) -> Cond {
    let (mut c, refused) = conds(cfg);
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!(c.len(), 1);
    c.remove(0)
}

/// description: path and Host matching as in seed 002 (`path_beg`, `hdr_beg(host)`, `||`).
#[test]
fn path_and_host_rules() {
    let c = one("  acl is_test1 path_beg /test1\n  acl is_host1 hdr_beg(host) www.test1.com\n  use_backend b if is_test1 || is_host1");
    assert!(req("/test1/x").eval(&c));
    assert!(req("/test1?q=1").eval(&c));
    assert!(!req("/test2").eval(&c));
    assert!(!req("/x/test1").eval(&c));
    let mut r = req("/");
    r.headers = vec![("host", "www.test1.com")];
    assert!(r.eval(&c));
    r.headers = vec![("host", "WWW.TEST1.COM")];
    assert!(!r.eval(&c), "case-sensitive without -i");
}

/// description: `-i`, negation, implicit AND, OR, `unless`, anonymous ACLs.
#[test]
fn operators() {
    let c = one("  acl h hdr(host) -i WWW.Example.COM\n  acl g method GET\n  use_backend b if h !g || { path_end .php }");
    assert!(req("/a").method("POST").eval(&c));
    assert!(!req("/a").eval(&c));
    assert!(req("/index.php").eval(&c));
    let c = one("  use_backend b unless { path_beg /static }");
    assert!(req("/app").eval(&c));
    assert!(!req("/static/x.css").eval(&c));
}

/// description: addresses (`src` with networks, IPv4-mapped IPv6), predefined ACLs.
#[test]
fn addresses_and_predefined() {
    let c = one("  acl nets src 10.0.0.0/8 192.168.1.0/24\n  use_backend b if nets");
    assert!(req("/").eval(&c));
    assert!(req("/").src("[::ffff:10.1.2.3]:5").eval(&c));
    assert!(!req("/").src("172.16.0.1:5").eval(&c));
    let c = one("  use_backend b if LOCALHOST METH_GET");
    assert!(req("/").src("127.0.0.1:1").eval(&c));
    assert!(req("/").src("127.0.0.1:1").method("HEAD").eval(&c));
    assert!(!req("/").src("127.0.0.1:1").method("POST").eval(&c));
    assert!(!req("/").eval(&c));
}

/// description: integers with operators and ranges; header counts and values; `found`,
/// `len`, `-m reg`.
#[test]
fn integers_and_methods() {
    let c = one("  use_backend b if { req.hdr_cnt(host) gt 1 }");
    assert!(!req("/").eval(&c));
    assert!(req("/").hdr("host", "other").eval(&c));
    let c = one("  use_backend b if { hdr_val(x-n) 10:20 }");
    assert!(req("/").hdr("x-n", "15").eval(&c));
    assert!(!req("/").hdr("x-n", "21").eval(&c));
    assert!(!req("/").eval(&c));
    let c = one("  use_backend b if { hdr(x-token) -m found }");
    assert!(req("/").hdr("x-token", "").eval(&c));
    assert!(!req("/").eval(&c));
    let c = one("  use_backend b if { path_len gt 5 }");
    assert!(req("/abcdef").eval(&c));
    assert!(!req("/abc").eval(&c));
    let c = one("  use_backend b if { path_reg ^/api/v[0-9]+/ }");
    assert!(req("/api/v2/users").eval(&c));
    assert!(!req("/api/vX/users").eval(&c));
}

/// description: a header's comma-separated values are matched one by one, and an
/// occurrence picks one.
#[test]
fn header_values_and_occurrences() {
    let c = one("  use_backend b if { hdr(x-f) beta }");
    assert!(req("/").hdr("x-f", "alpha, beta").eval(&c));
    let c = one("  use_backend b if { hdr(x-f,-1) alpha }");
    assert!(!req("/").hdr("x-f", "alpha, beta").eval(&c));
    assert!(req("/").hdr("x-f", "beta, alpha").eval(&c));
    let c = one("  use_backend b if { req.fhdr(x-f) -m sub a, b }");
    assert!(req("/").hdr("x-f", "xa, by").eval(&c));
}

/// description: query string fetches, cookies, `dir` and `dom`, `base`.
#[test]
fn query_cookies_dir_dom() {
    let c = one("  use_backend b if { url_param(user) bob }");
    assert!(req("/p?x=1&user=bob").eval(&c));
    assert!(!req("/p?x=1&user=bobby").eval(&c));
    assert!(!req("/p").eval(&c));
    let c = one("  use_backend b if { req.cook(SRV) web2 }");
    assert!(req("/").hdr("cookie", "a=1; SRV=web2").eval(&c));
    assert!(!req("/").hdr("cookie", "SRV=web1").eval(&c));
    let c = one("  use_backend b if { path_dir img }");
    assert!(req("/static/img/a.png").eval(&c));
    assert!(!req("/static/images/a.png").eval(&c));
    let c = one("  use_backend b if { hdr_dom(host) example }");
    assert!(req("/").eval(&c));
    let c = one("  use_backend b if { base www.example.com/a }");
    assert!(req("/a?z").eval(&c));
    let c = one("  use_backend b if { query -m beg x= }");
    assert!(req("/?x=1").eval(&c));
    assert!(!req("/").eval(&c));
}

/// description: converters: lower, field, word, regsub, ipmask, and a map file.
#[test]
fn converters() {
    let c = one("  use_backend b if { hdr(x-a),lower -m str mixed }");
    assert!(req("/").hdr("x-a", "MiXeD").eval(&c));
    let c = one("  use_backend b if { hdr(x-a),field(2,:) two }");
    assert!(req("/").hdr("x-a", "one:two:three").eval(&c));
    let c = one("  use_backend b if { hdr(x-a),word(-1,/) last }");
    assert!(req("/").hdr("x-a", "/a//last").eval(&c));
    let c = one("  use_backend b if { path,regsub(^/v[0-9]+,) /users }");
    assert!(req("/v12/users").eval(&c));
    let c = one("  use_backend b if { src,ipmask(16) 192.168.0.0 }");
    assert!(req("/").eval(&c));
    let dir = std::env::temp_dir().join(format!("rsproxy-acl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let map = dir.join("hosts.map");
    std::fs::write(
        &map,
        "# comment\nwww.example.com blue\napi.example.com green\n",
    )
    .expect("map");
    let c = one(&format!(
        "  use_backend b if {{ hdr(host),map({},none) blue }}",
        map.display()
    ));
    assert!(req("/").eval(&c));
    let mut r = req("/");
    r.headers = vec![("host", "other")];
    assert!(!r.eval(&c));
    std::fs::remove_dir_all(&dir).ok();
}

/// description: live counts: `nbsrv()`, `srv_is_up()`, `be_conn()`, `fe_conn`.
#[test]
fn live_counts() {
    let c = one("  use_backend b if { nbsrv(b) ge 1 } !{ nbsrv(empty) gt 0 }");
    assert!(req("/").eval(&c));
    let c = one("  use_backend b if { srv_is_up(b/s1) } !{ srv_is_up(b/s2) }");
    assert!(req("/").eval(&c));
    let c = one("  use_backend b if { be_conn gt 5 } { fe_conn eq 3 }");
    assert!(req("/").eval(&c));
}

/// description: what cannot be evaluated is refused with its location, not ignored.
#[test]
fn unsupported_fetches_are_refused() {
    let (c, refused) = conds("  acl t req.body -m found\n  use_backend b if t");
    assert!(c.is_empty());
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].span.line, 8);
    assert!(refused[0].what.contains("req.body"), "{refused:?}");
}
