//! The host names a certificate answers for, read from its DER: the subject's common names
//! and the DNS names of its subjectAltName extension (RFC 5280 §4.1, §4.2.1.6). HAProxy
//! indexes both for SNI; so does [`super::store`].
//!
//! Only the few fields needed are walked, with a bounds-checked TLV reader: a malformed
//! certificate yields fewer (or no) names, never a panic.
//!
//! ```text
//! Certificate  ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
//! TBSCertificate ::= SEQUENCE {
//!     [0] version OPTIONAL, serialNumber, signature, issuer Name, validity,
//!     subject Name, subjectPublicKeyInfo, [1] OPTIONAL, [2] OPTIONAL,
//!     [3] EXPLICIT Extensions OPTIONAL }
//! Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }
//! Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
//! GeneralNames ::= SEQUENCE OF GeneralName   -- dNSName is [2] IMPLICIT IA5String
//! ```

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const OCTET_STRING: u8 = 0x04;
const EXTENSIONS: u8 = 0xa3;
const DNS_NAME: u8 = 0x82;
/// 2.5.4.3 (id-at-commonName).
const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
/// 2.5.29.17 (id-ce-subjectAltName).
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];

/// One TLV: its tag, its contents, and what follows it.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The TLVs of a constructed value's contents, in order (stops at the first malformed one).
fn items(mut input: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    std::iter::from_fn(move || {
        let (tag, body, rest) = tlv(input)?;
        input = rest;
        Some((tag, body))
    })
}

/// The certificate's host names: subjectAltName DNS names first, then common names, as
/// written (not lowercased), duplicates kept.
pub fn host_names(der: &[u8]) -> Vec<String> {
    let mut sans = Vec::new();
    let mut cns = Vec::new();
    let Some((SEQUENCE, cert, _)) = tlv(der) else {
        return sans;
    };
    let Some((SEQUENCE, tbs, _)) = tlv(cert) else {
        return sans;
    };
    let mut fields = items(tbs).peekable();
    // The optional version.
    if fields.peek().is_some_and(|&(tag, _)| tag == 0xa0) {
        fields.next();
    }
    // serialNumber, signature, issuer, validity: then the subject.
    let mut fields = fields.skip(4);
    if let Some((SEQUENCE, subject)) = fields.next() {
        for (tag, rdn) in items(subject) {
            if tag != SET {
                continue;
            }
            for (tag, atv) in items(rdn) {
                if tag != SEQUENCE {
                    continue;
                }
                let mut parts = items(atv);
                if let (Some((OID, COMMON_NAME)), Some((_, value))) = (parts.next(), parts.next()) {
                    cns.push(String::from_utf8_lossy(value).into_owned());
                }
            }
        }
    }
    for (tag, body) in fields {
        if tag != EXTENSIONS {
            continue;
        }
        let Some((SEQUENCE, list, _)) = tlv(body) else {
            continue;
        };
        for (tag, ext) in items(list) {
            if tag != SEQUENCE {
                continue;
            }
            let mut parts = items(ext);
            if parts.next() != Some((OID, SUBJECT_ALT_NAME)) {
                continue;
            }
            let Some((_, value)) = parts.find(|&(tag, _)| tag == OCTET_STRING) else {
                continue;
            };
            let Some((SEQUENCE, names, _)) = tlv(value) else {
                continue;
            };
            for (tag, name) in items(names) {
                if tag == DNS_NAME {
                    sans.push(String::from_utf8_lossy(name).into_owned());
                }
            }
        }
    }
    sans.extend(cns);
    sans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_yields_no_names() {
        for bad in [
            &b""[..],
            b"\x30",
            b"\x30\x84\xff\xff\xff\xff",
            b"\x30\x03\x30\x01",
        ] {
            assert!(host_names(bad).is_empty());
        }
    }

    /// `openssl req -subj /O=Test/CN=cn.example -addext
    /// subjectAltName=DNS:a.example,DNS:*.w.example,IP:127.0.0.1` (an EC P-256 key).
    const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIByTCCAW6gAwIBAgIUFGqTBoUY9lYrgdHOvClcdVuspvowCgYIKoZIzj0EAwIw
JDENMAsGA1UECgwEVGVzdDETMBEGA1UEAwwKY24uZXhhbXBsZTAgFw0yNjExMjUx
MTA1MjhaGA8yMTI2MTEwMTExMDUyOFowJDENMAsGA1UECgwEVGVzdDETMBEGA1UE
AwwKY24uZXhhbXBsZTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABP0dsea1LoRk
zMVqy1HBGNiH0fpMYbYWTCnLtLVRrdQxQ39tZd3hRIpjAMD2rDYuWCrxKEKSErP6
EJS+x48eQvCjfDB6MB0GA1UdDgQWBBSvSUAZs0zx1gecQJLRWAQmRb4UmTAfBgNV
HSMEGDAWgBSvSUAZs0zx1gecQJLRWAQmRb4UmTAPBgNVHRMBAf8EBTADAQH/MCcG
A1UdEQQgMB6CCWEuZXhhbXBsZYILKi53LmV4YW1wbGWHBH8AAAEwCgYIKoZIzj0E
AwIDSQAwRgIhAJyIeBFDwzjanOGUJ5huXo8Z0DNNEpINjW/x1nndi2DUAiEA9L1l
3OQDBs2lw0VKzI2doeukeqxXlFg0CEhFIo0/HYc=
-----END CERTIFICATE-----
";

    #[test]
    fn san_dns_names_then_common_name() {
        use rustls_pki_types::pem::PemObject;
        let der = rustls_pki_types::CertificateDer::from_pem_slice(CERT.as_bytes())
            .expect("test certificate");
        assert_eq!(
            host_names(der.as_ref()),
            ["a.example", "*.w.example", "cn.example"]
        );
        // Cut anywhere: never a panic.
        for n in 0..der.len() {
            let _ = host_names(&der[..n]);
        }
    }

    #[test]
    fn truncated_lengths_are_refused() {
        assert_eq!(tlv(b"\x04\x05abc"), None);
        assert_eq!(tlv(b"\x04\x81\x03abc"), Some((4, &b"abc"[..], &b""[..])));
    }
}
