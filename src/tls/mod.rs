//! TLS termination on `bind ... ssl crt ...` lines: the only user of rustls.
//!
//! Input: a bind line's TLS options and the global `ssl-default-bind-*` settings, as the
//! parser carried them. Output: a [`Terminator`] per bind line, built at start (every error
//! names the file or option at fault, for a located diagnostic), which turns an accepted TCP
//! stream into a TLS stream and the [`TlsInfo`] the `ssl_fc*` fetches read.
//!
//! Crypto provider: aws-lc-rs, measured against *ring* with `bench/tls.sh` (2026-11-25, CPU
//! time per full TLS 1.3 handshake, one pinned thread): RSA-2048 ~445 µs with aws-lc-rs
//! against ~785 µs with *ring* (HAProxy with OpenSSL 3: ~680 µs); ECDSA P-256 about equal
//! (~225-240 µs; HAProxy ~430 µs). aws-lc-sys builds here with the C compiler alone (its cc
//! builder: no cmake, no clang), in under two minutes. Switching back is this `use` and one
//! feature in Cargo.toml.
//!
//! What HAProxy 2.6 (with OpenSSL 3) does by default and this mirrors: TLS 1.2 and 1.3
//! offered, the server's cipher order (OpenSSL's default order), no ALPN unless `alpn` is
//! set, session tickets on. What rustls cannot do is refused at start: TLS below 1.2, CBC or
//! DHE suites named alone, cipher expressions (`HIGH:!aNULL`).

mod names;
mod store;

use rsproxy_parser::ir::haproxy::{BindOptions, Global, TlsVersion, TuneValue};
use rustls::crypto::aws_lc_rs as provider;
use rustls::{CipherSuite, ProtocolVersion, ServerConfig, SupportedCipherSuite};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
pub use store::CertStore;
use store::Resolver;
use tokio::io::{AsyncRead, AsyncWrite};
pub use tokio_rustls::server::TlsStream;

/// Why a bind line's TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("unable to load SSL certificate from file '{}' : {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("unable to load SSL certificate from file '{}' : {reason}", path.display())]
    Pem { path: PathBuf, reason: String },
    #[error("unable to load SSL certificate from file '{}' : no certificate in it", path.display())]
    NoCertificate { path: PathBuf },
    #[error("No Private Key found in '{}'", path.display())]
    NoKey { path: PathBuf },
    #[error("unable to load the private key of '{}' : {reason}", path.display())]
    Key { path: PathBuf, reason: String },
    #[error("inconsistencies between private key and certificate loaded from PEM file '{}'", path.display())]
    KeyMismatch { path: PathBuf },
    #[error("{0}")]
    Option(String),
}

/// What a TLS connection tells the fetches (`ssl_fc_*`).
#[derive(Debug, Clone, Default)]
pub struct TlsInfo {
    /// The SNI the client sent.
    pub sni: Option<Box<str>>,
    /// `TLSv1.2` / `TLSv1.3`, as OpenSSL names them.
    pub protocol: &'static str,
    /// The suite's OpenSSL name (`TLS_AES_256_GCM_SHA384`, `ECDHE-RSA-AES128-GCM-SHA256`).
    pub cipher: &'static str,
    /// The ALPN protocol agreed, if any.
    pub alpn: Option<Box<[u8]>>,
}

/// A bind line's TLS: its rustls configuration and certificate store.
pub struct Terminator {
    acceptor: tokio_rustls::TlsAcceptor,
    resolver: Arc<Resolver>,
}

impl std::fmt::Debug for Terminator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminator")
            .field("certificates", &self.resolver.store.load().len())
            .finish()
    }
}

/// Two bind lines' TLS are the same when they are the same object (a plan compares its
/// listeners; certificates are not compared by content).
impl PartialEq for Terminator {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for Terminator {}

impl Terminator {
    /// Performs the handshake within `timeout`. `None`: the client went away, sent something
    /// else than TLS, failed the handshake or stalled (the connection is dropped, closing it).
    pub async fn accept<IO>(&self, io: IO, timeout: Duration) -> Option<(TlsStream<IO>, TlsInfo)>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let stream = tokio::time::timeout(timeout, self.acceptor.accept(io))
            .await
            .ok()?
            .ok()?;
        let info = info(stream.get_ref().1);
        Some((stream, info))
    }

    /// Gives the listener a new set of certificates (for a reload); handshakes under way
    /// keep the one they chose.
    pub fn swap_certificates(&self, store: CertStore) {
        self.resolver.store.store(Arc::new(store));
    }
}

fn info(conn: &rustls::ServerConnection) -> TlsInfo {
    TlsInfo {
        sni: conn.server_name().map(Into::into),
        protocol: match conn.protocol_version() {
            Some(ProtocolVersion::TLSv1_3) => "TLSv1.3",
            Some(ProtocolVersion::TLSv1_2) => "TLSv1.2",
            _ => "",
        },
        cipher: conn
            .negotiated_cipher_suite()
            .and_then(|s| openssl_name(s.suite()))
            .unwrap_or(""),
        alpn: conn.alpn_protocol().map(Into::into),
    }
}

/// The suites rustls offers, with their OpenSSL names, in OpenSSL 3's default order of
/// preference (HAProxy enforces the server's order, so this order decides the suite).
const SUITES: &[(&str, CipherSuite)] = &[
    (
        "TLS_AES_256_GCM_SHA384",
        CipherSuite::TLS13_AES_256_GCM_SHA384,
    ),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    ),
    (
        "TLS_AES_128_GCM_SHA256",
        CipherSuite::TLS13_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ),
];

fn openssl_name(suite: CipherSuite) -> Option<&'static str> {
    SUITES.iter().find(|(_, s)| *s == suite).map(|(n, _)| *n)
}

fn supported(suite: CipherSuite) -> Option<SupportedCipherSuite> {
    provider::ALL_CIPHER_SUITES
        .iter()
        .find(|s| s.suite() == suite)
        .copied()
}

/// The TLS settings of one bind line, the global defaults applied.
#[derive(Debug, Default)]
struct Settings {
    min: Option<TlsVersion>,
    max: Option<TlsVersion>,
    no: Vec<TlsVersion>,
    ciphers: Option<String>,
    ciphersuites: Option<String>,
    tickets: bool,
    client_order: bool,
}

fn version_name(v: TlsVersion) -> &'static str {
    match v {
        TlsVersion::Sslv3 => "SSLv3",
        TlsVersion::Tlsv10 => "TLSv1.0",
        TlsVersion::Tlsv11 => "TLSv1.1",
        TlsVersion::Tlsv12 => "TLSv1.2",
        TlsVersion::Tlsv13 => "TLSv1.3",
    }
}

fn parse_version(s: &str) -> Option<TlsVersion> {
    Some(match s {
        "SSLv3" => TlsVersion::Sslv3,
        "TLSv1.0" => TlsVersion::Tlsv10,
        "TLSv1.1" => TlsVersion::Tlsv11,
        "TLSv1.2" => TlsVersion::Tlsv12,
        "TLSv1.3" => TlsVersion::Tlsv13,
        _ => return None,
    })
}

impl Settings {
    fn new(opts: &BindOptions, global: &Global) -> Self {
        let mut s = Settings {
            tickets: true,
            ..Settings::default()
        };
        for o in &global.ssl_default_bind_options {
            let mut words = o.node.split_whitespace();
            match (words.next(), words.next()) {
                (Some("ssl-min-ver"), Some(v)) => s.min = parse_version(v),
                (Some("ssl-max-ver"), Some(v)) => s.max = parse_version(v),
                (Some("no-tls-tickets"), _) => s.tickets = false,
                (Some("prefer-client-ciphers"), _) => s.client_order = true,
                (Some(w), _) => {
                    let v = w
                        .strip_prefix("no-")
                        .map(|v| (false, v))
                        .or_else(|| w.strip_prefix("force-").map(|v| (true, v)));
                    let version = |v: &str| {
                        Some(match v {
                            "sslv3" => TlsVersion::Sslv3,
                            "tlsv10" => TlsVersion::Tlsv10,
                            "tlsv11" => TlsVersion::Tlsv11,
                            "tlsv12" => TlsVersion::Tlsv12,
                            "tlsv13" => TlsVersion::Tlsv13,
                            _ => return None,
                        })
                    };
                    match v {
                        Some((false, v)) => s.no.extend(version(v)),
                        Some((true, v)) => {
                            s.min = version(v);
                            s.max = s.min;
                        }
                        None => {}
                    }
                }
                _ => {}
            }
        }
        s.ciphers = global
            .ssl_default_bind_ciphers
            .as_ref()
            .map(|c| c.node.clone());
        s.ciphersuites = global
            .ssl_default_bind_ciphersuites
            .as_ref()
            .map(|c| c.node.clone());
        // The bind line's own options come over the global ones, each bound on its own.
        if opts.ssl_min_ver.is_some() {
            s.min = opts.ssl_min_ver;
        }
        if opts.ssl_max_ver.is_some() {
            s.max = opts.ssl_max_ver;
        }
        s.no.extend(opts.no_tls.iter().copied());
        if opts.ciphers.is_some() {
            s.ciphers = opts.ciphers.clone();
        }
        if opts.ciphersuites.is_some() {
            s.ciphersuites = opts.ciphersuites.clone();
        }
        s
    }

    /// The versions offered: `ssl-min-ver` (TLSv1.2 by default, as in HAProxy 2.6) up to
    /// `ssl-max-ver`, without the `no-*` ones.
    fn versions(&self, errors: &mut Vec<String>) -> Vec<&'static rustls::SupportedProtocolVersion> {
        let min = self.min.unwrap_or(TlsVersion::Tlsv12);
        let max = self.max.unwrap_or(TlsVersion::Tlsv13);
        let wanted: Vec<TlsVersion> = [
            TlsVersion::Sslv3,
            TlsVersion::Tlsv10,
            TlsVersion::Tlsv11,
            TlsVersion::Tlsv12,
            TlsVersion::Tlsv13,
        ]
        .into_iter()
        .filter(|v| (min..=max).contains(v) && !self.no.contains(v))
        .collect();
        if let Some(old) = wanted.iter().find(|&&v| v < TlsVersion::Tlsv12) {
            errors.push(format!(
                "'{}' is not carried out by the rsproxy runtime: it speaks TLSv1.2 and TLSv1.3 only (set 'ssl-min-ver TLSv1.2')",
                version_name(*old)
            ));
        }
        let mut out = Vec::new();
        if wanted.contains(&TlsVersion::Tlsv13) {
            out.push(&rustls::version::TLS13);
        }
        if wanted.contains(&TlsVersion::Tlsv12) {
            out.push(&rustls::version::TLS12);
        }
        if out.is_empty() && errors.is_empty() {
            errors.push(
                "no TLS version left to offer (check ssl-min-ver, ssl-max-ver and no-tlsv*)".into(),
            );
        }
        out
    }

    /// The suites offered, in order: `ciphersuites` (TLS 1.3) then `ciphers` (TLS 1.2), each
    /// a colon-separated list of OpenSSL names, else the defaults.
    fn suites(&self, errors: &mut Vec<String>) -> Vec<SupportedCipherSuite> {
        let default13 = || SUITES.iter().take(3).map(|(_, s)| *s).collect::<Vec<_>>();
        let default12 = || SUITES.iter().skip(3).map(|(_, s)| *s).collect::<Vec<_>>();
        let list13 = match &self.ciphersuites {
            None => default13(),
            Some(list) => map_names(list, "ciphersuites", true, errors),
        };
        let list12 = match &self.ciphers {
            None => default12(),
            Some(list) => map_names(list, "ciphers", false, errors),
        };
        list13
            .into_iter()
            .chain(list12)
            .filter_map(supported)
            .collect()
    }
}

/// OpenSSL names of suites HAProxy accepts that rustls does not offer: skipped from a
/// `ciphers` list that names others too (OpenSSL would offer them; rsproxy cannot).
fn known_elsewhere(name: &str) -> bool {
    name.starts_with("DHE-")
        || name.starts_with("ECDHE-")
        || name.starts_with("AES")
        || name.starts_with("TLS_AES_128_CCM")
}

fn map_names(list: &str, what: &str, tls13: bool, errors: &mut Vec<String>) -> Vec<CipherSuite> {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for name in list.split(':').filter(|n| !n.is_empty()) {
        let found = SUITES.iter().find(|(n, s)| {
            *n == name && tls13 == name.starts_with("TLS_") && supported(*s).is_some()
        });
        match found {
            Some((_, s)) => out.push(*s),
            None if !tls13 && known_elsewhere(name) && !name.contains(['!', '+', '@']) => {
                skipped.push(name)
            }
            None => errors.push(format!(
                "'{what}' : '{name}' is not carried out by the rsproxy runtime yet (it takes a list of suite names: {})",
                SUITES
                    .iter()
                    .filter(|(n, _)| tls13 == n.starts_with("TLS_"))
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(":")
            )),
        }
    }
    if out.is_empty() && !skipped.is_empty() {
        errors.push(format!(
            "'{what}' : none of '{}' is carried out by the rsproxy runtime (rustls offers AEAD suites with ECDHE only)",
            skipped.join(":")
        ));
    }
    out
}

/// Builds the TLS of a bind line (`ssl` set), or says why it cannot: each message for a
/// located diagnostic at the bind line.
pub fn terminator(
    opts: &BindOptions,
    global: &Global,
    mode_http: bool,
) -> Result<Terminator, Vec<String>> {
    let mut errors = Vec::new();
    let settings = Settings::new(opts, global);
    let versions = settings.versions(&mut errors);
    let suites = settings.suites(&mut errors);
    let mut alpn = Vec::new();
    for p in opts.alpn.iter().flatten() {
        match p.as_str() {
            "h2" if mode_http => errors.push(
                "'alpn h2' (HTTP/2) is not carried out by the rsproxy runtime yet: use 'alpn http/1.1'".into(),
            ),
            "" => {}
            p => alpn.push(p.as_bytes().to_vec()),
        }
    }
    let provider = Arc::new(rustls::crypto::CryptoProvider {
        cipher_suites: suites,
        ..provider::default_provider()
    });
    let crt: Vec<PathBuf> = opts.crt.iter().map(PathBuf::from).collect();
    let store = match CertStore::load(&crt, &provider) {
        Ok(s) => Some(s),
        Err(e) => {
            errors.push(e.to_string());
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(store) = store else {
        return Err(errors);
    };
    let resolver = Arc::new(Resolver {
        store: arc_swap::ArcSwap::from_pointee(store),
    });
    let builder = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| vec![format!("TLS settings refused by rustls: {e}")])?;
    let mut config = builder
        .with_no_client_auth()
        .with_cert_resolver(Arc::clone(&resolver) as Arc<dyn rustls::server::ResolvesServerCert>);
    config.ignore_client_order = !settings.client_order;
    config.alpn_protocols = alpn;
    // Resumption as OpenSSL does it for HAProxy: tickets (stateless) unless `no-tls-tickets`,
    // else session IDs and TLS 1.3 stateful tickets from a cache of `tune.ssl.cachesize`
    // sessions (20000 by default, as HAProxy's); `tune.ssl.cachesize 0` with `no-tls-tickets`
    // turns resumption off.
    if settings.tickets {
        match provider::Ticketer::new() {
            Ok(t) => config.ticketer = t,
            Err(e) => return Err(vec![format!("cannot set up TLS session tickets: {e}")]),
        }
    }
    let cache = match global.tune.get("tune.ssl.cachesize").map(|v| &v.node) {
        Some(TuneValue::Int(n)) => usize::try_from(*n).unwrap_or(usize::MAX),
        _ => 20_000,
    };
    if cache == 0 {
        config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        if !settings.tickets {
            config.send_tls13_tickets = 0;
        }
    } else {
        config.session_storage = rustls::server::ServerSessionMemoryCache::new(cache);
    }
    Ok(Terminator {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        resolver,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(s: Settings) -> (Vec<ProtocolVersion>, Vec<String>) {
        let mut errors = Vec::new();
        let v = s.versions(&mut errors).iter().map(|v| v.version).collect();
        (v, errors)
    }

    #[test]
    fn versions_default_to_tls12_and_13_and_refuse_older() {
        let (v, e) = versions(Settings::default());
        assert_eq!(v, [ProtocolVersion::TLSv1_3, ProtocolVersion::TLSv1_2]);
        assert!(e.is_empty());
        let (v, _) = versions(Settings {
            no: vec![TlsVersion::Tlsv13],
            ..Settings::default()
        });
        assert_eq!(v, [ProtocolVersion::TLSv1_2]);
        let (_, e) = versions(Settings {
            min: Some(TlsVersion::Tlsv10),
            ..Settings::default()
        });
        assert!(e[0].contains("'TLSv1.0' is not carried out"), "{e:?}");
        let (_, e) = versions(Settings {
            min: Some(TlsVersion::Tlsv13),
            no: vec![TlsVersion::Tlsv13],
            ..Settings::default()
        });
        assert!(e[0].contains("no TLS version left"), "{e:?}");
    }

    #[test]
    fn cipher_lists_map_openssl_names() {
        let mut errors = Vec::new();
        // Mozilla's intermediate list: the DHE suites are skipped.
        let list =
            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256";
        assert_eq!(
            map_names(list, "ciphers", false, &mut errors),
            [
                CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
            ]
        );
        assert!(errors.is_empty());
        map_names("DHE-RSA-AES128-GCM-SHA256", "ciphers", false, &mut errors);
        map_names("HIGH:!aNULL", "ciphers", false, &mut errors);
        map_names("TLS_AES_128_CCM_SHA256", "ciphersuites", true, &mut errors);
        // A TLS 1.2 name where TLS 1.3 suites go.
        map_names(
            "ECDHE-RSA-AES128-GCM-SHA256",
            "ciphersuites",
            true,
            &mut errors,
        );
        assert_eq!(errors.len(), 5, "{errors:?}");
        assert_eq!(
            map_names(
                "TLS_CHACHA20_POLY1305_SHA256",
                "ciphersuites",
                true,
                &mut errors
            ),
            [CipherSuite::TLS13_CHACHA20_POLY1305_SHA256]
        );
    }

    #[test]
    fn every_suite_has_an_implementation() {
        for (name, suite) in SUITES {
            assert!(supported(*suite).is_some(), "{name}");
        }
    }
}
