//! The certificates of one TLS bind line, loaded from HAProxy's PEM files, and the choice of
//! one per handshake by SNI.
//!
//! Files, as HAProxy reads them (`crt` on a `bind` line):
//! - a PEM file holds the certificate, then its chain, and the private key (RSA or EC; PKCS#1,
//!   PKCS#8 or SEC1); with no key in it, the key is read from `FILE.key`;
//! - a directory: every file in it in name order, except the side files (`.key`, `.issuer`,
//!   `.ocsp`, `.sctl`) and dot files;
//! - several `crt` on one line add up; the first certificate loaded is the default.
//!
//! Choice: the SNI (lowercased) is looked up among the certificates' names (subjectAltName
//! DNS names and subject common names), exactly first, then as a wildcard (`*.example.com`
//! for `www.example.com`, one label only); among several certificates for a name, the first
//! whose key can sign with an algorithm the client offers (ECDSA before RSA, as HAProxy
//! prefers it). No SNI, or no match: the default certificate.
//!
//! The store is swapped whole (`ArcSwap`) so that a reload can give a listener new
//! certificates without touching its connections.

use super::TlsError;
use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::SignatureAlgorithm;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The certificates of a bind line, indexed by name.
#[derive(Debug)]
pub struct CertStore {
    /// In load order; the first is the default.
    certs: Vec<Arc<CertifiedKey>>,
    /// Lowercased exact names → indexes into `certs`, in load order.
    exact: HashMap<String, Vec<usize>>,
    /// Wildcard names without their `*` (`.example.com`) → indexes.
    wildcard: HashMap<String, Vec<usize>>,
}

impl CertStore {
    /// Loads every `crt` of a bind line (files or directories), in order.
    pub fn load(paths: &[PathBuf], provider: &CryptoProvider) -> Result<Self, TlsError> {
        let mut store = CertStore {
            certs: Vec::new(),
            exact: HashMap::new(),
            wildcard: HashMap::new(),
        };
        for path in paths {
            let meta = std::fs::metadata(path).map_err(|e| TlsError::Read {
                path: path.clone(),
                error: e,
            })?;
            if meta.is_dir() {
                let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                    .map_err(|e| TlsError::Read {
                        path: path.clone(),
                        error: e,
                    })?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file() && !is_side_file(p))
                    .collect();
                files.sort();
                for f in files {
                    store.add(load_file(&f, provider)?);
                }
            } else {
                store.add(load_file(path, provider)?);
            }
        }
        if store.certs.is_empty() {
            return Err(TlsError::NoCertificate {
                path: paths.first().cloned().unwrap_or_default(),
            });
        }
        Ok(store)
    }

    fn add(&mut self, (key, names): (Arc<CertifiedKey>, Vec<String>)) {
        let index = self.certs.len();
        self.certs.push(key);
        for name in names {
            let name = name.to_ascii_lowercase();
            let (map, name) = match name.strip_prefix('*') {
                Some(rest) if rest.starts_with('.') => (&mut self.wildcard, rest.to_string()),
                _ => (&mut self.exact, name),
            };
            let list = map.entry(name).or_default();
            if !list.contains(&index) {
                list.push(index);
            }
        }
    }

    /// The certificate for a handshake: by SNI, else the default.
    fn choose(&self, hello: &ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        if let Some(sni) = hello.server_name() {
            let sni = sni.to_ascii_lowercase();
            let wildcard = sni.find('.').map(|dot| &sni[dot..]);
            let found = self
                .exact
                .get(&sni)
                .or_else(|| wildcard.and_then(|w| self.wildcard.get(w)));
            if let Some(list) = found {
                let schemes = hello.signature_schemes();
                let usable = |i: &&usize| {
                    self.certs
                        .get(**i)
                        .is_some_and(|c| c.key.choose_scheme(schemes).is_some())
                };
                let ecdsa = list
                    .iter()
                    .filter(usable)
                    .find(|&&i| self.certs[i].key.algorithm() == SignatureAlgorithm::ECDSA);
                if let Some(&i) = ecdsa.or_else(|| list.iter().find(usable)) {
                    return Some(Arc::clone(&self.certs[i]));
                }
            }
        }
        self.certs.first().cloned()
    }

    /// How many certificates were loaded.
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }
}

/// HAProxy's side files, which are not certificates of their own in a `crt` directory.
fn is_side_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with('.')
        || [".key", ".issuer", ".ocsp", ".sctl"]
            .iter()
            .any(|s| name.ends_with(s))
}

/// One PEM file: its certificate and chain, its key (or `FILE.key`'s), and the names the
/// certificate answers for.
fn load_file(
    path: &Path,
    provider: &CryptoProvider,
) -> Result<(Arc<CertifiedKey>, Vec<String>), TlsError> {
    let pem = std::fs::read(path).map_err(|e| TlsError::Read {
        path: path.to_path_buf(),
        error: e,
    })?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Pem {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let Some(leaf) = chain.first() else {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    };
    let names = super::names::host_names(leaf.as_ref());
    let key = match PrivateKeyDer::from_pem_slice(&pem) {
        Ok(k) => k,
        Err(rustls_pki_types::pem::Error::NoItemsFound) => {
            let mut side = path.as_os_str().to_owned();
            side.push(".key");
            let side = PathBuf::from(side);
            let text = std::fs::read(&side).map_err(|_| TlsError::NoKey { path: side.clone() })?;
            PrivateKeyDer::from_pem_slice(&text).map_err(|_| TlsError::NoKey { path: side })?
        }
        Err(e) => {
            return Err(TlsError::Pem {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })
        }
    };
    let key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| TlsError::Key {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let certified = CertifiedKey::new(chain, key);
    certified.keys_match().map_err(|_| TlsError::KeyMismatch {
        path: path.to_path_buf(),
    })?;
    Ok((Arc::new(certified), names))
}

/// What rustls asks for a certificate: the current store's choice.
#[derive(Debug)]
pub struct Resolver {
    pub store: ArcSwap<CertStore>,
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.store.load().choose(&hello)
    }
}
