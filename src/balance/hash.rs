//! Hash functions and key extraction for the hash-based algorithms (`source`, `uri`,
//! `url_param`, `hdr`), as `hash-type` selects them.
//!
//! Inputs: the request bytes the caller extracted ([`super::Key`]); outputs: a 32-bit hash.
//! The functions are the published ones (SDBM, Bernstein's DJB2, CRC-32/IEEE, Bob Jenkins'
//! 32-bit integer mix for `avalanche`) plus HAProxy's WT6, written from their definitions
//! and checked against the real haproxy's choices (compat-tests/data/balance/).

use rsproxy_parser::ir::haproxy::HashFunction;
use std::net::IpAddr;

/// SDBM: `h = c + (h << 6) + (h << 16) - h`.
pub fn sdbm(key: &[u8]) -> u32 {
    key.iter().fold(0u32, |h, &c| {
        u32::from(c)
            .wrapping_add(h << 6)
            .wrapping_add(h << 16)
            .wrapping_sub(h)
    })
}

/// DJB2: `h = h * 33 + c`, starting from 5381.
pub fn djb2(key: &[u8]) -> u32 {
    key.iter().fold(5381u32, |h, &c| {
        h.wrapping_mul(33).wrapping_add(u32::from(c))
    })
}

/// WT6: two 32-bit lanes, complemented, added and rotated by amounts taken from the data.
pub fn wt6(key: &[u8]) -> u32 {
    let (mut h0, mut h1) = (0xa53c_965au32, 0x5ca6_953au32);
    let (mut step0, mut step1) = (6u32, 18u32);
    for &c in key {
        let c = u32::from(c);
        h0 = !(h0 ^ c);
        h1 = !(h1.wrapping_add(c));
        let rotated0 = h1.rotate_left(step0);
        h1 = h0.rotate_left(step1);
        h0 = rotated0;
        let t = ((h0 >> 16) ^ h1) & 0xffff;
        step0 = t & 0x1f;
        step1 = t >> 11;
    }
    h0 ^ h1
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as in Ethernet, gzip and PNG.
pub fn crc32(key: &[u8]) -> u32 {
    let mut h = !0u32;
    for &c in key {
        h ^= u32::from(c);
        for _ in 0..8 {
            h = (h >> 1) ^ if h & 1 == 1 { 0xedb8_8320 } else { 0 };
        }
    }
    !h
}

/// The `avalanche` modifier: Bob Jenkins' 6-step integer mix, then a multiplication by the
/// prime 3221225473 that spreads values over the whole 32-bit ring. The consistent-hash ring
/// places server points with it too.
pub fn avalanche(a: u32) -> u32 {
    let mut a = a;
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    a.wrapping_mul(3_221_225_473)
}

/// The configured function over `key`.
pub fn hash(function: HashFunction, key: &[u8]) -> u32 {
    match function {
        HashFunction::Sdbm => sdbm(key),
        HashFunction::Djb2 => djb2(key),
        HashFunction::Wt6 => wt6(key),
        HashFunction::Crc32 => crc32(key),
    }
}

/// `balance source`: the address's 32-bit big-endian words XORed together. The hash-type
/// function is *not* applied (only `avalanche` is), as HAProxy does.
pub fn source(addr: IpAddr) -> u32 {
    match addr {
        IpAddr::V4(a) => u32::from(a),
        IpAddr::V6(a) => a
            .octets()
            .chunks(4)
            .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
            .fold(0, |h, w| h ^ w),
    }
}

/// `balance uri [len N] [depth N] [whole] [path-only]`: the part of the request target that
/// is hashed. `path-only` starts at the path of an absolute URI (the query stays part of
/// it); `len` truncates first; then the key stops at the `depth+1`-th slash and, unless
/// `whole`, at the first `?`.
pub fn uri_key(
    target: &[u8],
    len: Option<u32>,
    depth: Option<u32>,
    whole: bool,
    path_only: bool,
) -> &[u8] {
    let mut uri = if path_only { path_of(target) } else { target };
    if let Some(len) = len.filter(|&l| l > 0) {
        uri = &uri[..uri.len().min(len as usize)];
    }
    let stop_at_slash = depth.map_or(0, |d| d.saturating_add(1));
    let mut slashes = 0;
    for (i, &c) in uri.iter().enumerate() {
        if c == b'/' {
            slashes += 1;
            if slashes == stop_at_slash {
                return &uri[..i];
            }
        } else if c == b'?' && !whole {
            return &uri[..i];
        }
    }
    uri
}

/// The path (with its query) of a request target: origin-form as is; absolute-form from the
/// first `/` after `scheme://authority`, or empty; `*` and authority-form give empty.
fn path_of(target: &[u8]) -> &[u8] {
    if target.first() == Some(&b'/') {
        return target;
    }
    let Some(scheme_end) = target.windows(3).position(|w| w == b"://") else {
        return &[];
    };
    let rest = &target[scheme_end + 3..];
    match rest.iter().position(|&c| c == b'/') {
        Some(p) => &rest[p..],
        None => &[],
    }
}

/// `balance url_param NAME`: the value of the first `NAME=` parameter in the query string
/// (everything after the first `?`), up to the next `&`. Names are case-sensitive; a
/// parameter without `=` does not match. `None` when absent: round robin applies.
pub fn url_param<'a>(target: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let q = target.iter().position(|&c| c == b'?')?;
    params_value(&target[q + 1..], name)
}

/// The value of `name` in an `a=1&b=2` list (a query string, or a POST body for
/// `check_post`).
pub fn params_value<'a>(mut params: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let plen = name.len();
    while params.len() > plen {
        if params[plen] == b'=' && &params[..plen] == name {
            let value = &params[plen + 1..];
            let end = value.iter().position(|&c| c == b'&').unwrap_or(value.len());
            return Some(&value[..end]);
        }
        let amp = params.iter().position(|&c| c == b'&')?;
        params = &params[amp + 1..];
    }
    None
}

/// `check_post`: the parameter in a URL-encoded POST body. A value holding a character that
/// cannot appear in a token ends the search (binary data is not a parameter list), except
/// white space, which ends the value.
pub fn post_param<'a>(body: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let v = params_value(body, name)?;
    match v.iter().position(|&c| !is_token(c)) {
        None => Some(v),
        Some(i) if matches!(v[i], b' ' | b'\t' | b'\r' | b'\n') => Some(&v[..i]),
        Some(_) => None,
    }
}

fn is_token(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// `balance hdr(NAME)`: the header's first comma-separated value, without surrounding
/// spaces and tabs. The caller passes the whole value of the header's first occurrence.
pub fn header_first_value(value: &[u8]) -> &[u8] {
    let end = value.iter().position(|&c| c == b',').unwrap_or(value.len());
    trim(&value[..end])
}

fn trim(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// `use_domain_only`: the label before the last dot (`haproxy.1wt.eu` → `1wt`,
/// `example.com` → `example`); a value without a dot is kept whole.
pub fn domain_only(value: &[u8]) -> &[u8] {
    let Some(last_dot) = value.iter().rposition(|&c| c == b'.') else {
        return value;
    };
    let start = value[..last_dot]
        .iter()
        .rposition(|&c| c == b'.')
        .map_or(0, |p| p + 1);
    &value[start..last_dot]
}

#[cfg(test)]
mod tests {
    use super::*;

    // Published check values: CRC-32 of "123456789" is 0xCBF43926; DJB2 of "" is 5381.
    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }
    #[test]
    fn djb2_empty() {
        assert_eq!(djb2(b""), 5381);
    }
    #[test]
    fn sdbm_one_byte() {
        assert_eq!(sdbm(b"a"), 97);
    }
    #[test]
    fn avalanche_zero() {
        assert_ne!(avalanche(0), 0);
    }

    // uri_key: target, len, depth, whole, path-only → key
    #[test]
    fn uri_keys() {
        for (target, len, depth, whole, path_only, key) in [
            ("/a/b?x", None, None, false, false, "/a/b"),
            ("/a/b?x", None, None, true, false, "/a/b?x"),
            ("/a/b/c", None, Some(2), false, false, "/a/b"),
            ("/a/b/c", Some(3), None, false, false, "/a/"),
            ("http://h/a/b?x", None, None, false, true, "/a/b"),
            ("http://h/a/b?x", None, None, true, true, "/a/b?x"),
            ("http://h", None, None, false, true, ""),
        ] {
            assert_eq!(
                uri_key(target.as_bytes(), len, depth, whole, path_only),
                key.as_bytes(),
                "{target}"
            );
        }
    }

    // url_param: query, name → value
    #[test]
    fn url_params() {
        for (target, value) in [
            ("/?id=1", Some("1")),
            ("/x?a=1&id=42", Some("42")),
            ("/x?id=", Some("")),
            ("/x?ID=5", None),
            ("/x?xid=5", None),
            ("/x?id=abc&id=def", Some("abc")),
            ("/", None),
        ] {
            assert_eq!(
                url_param(target.as_bytes(), b"id"),
                value.map(str::as_bytes),
                "{target}"
            );
        }
    }

    // use_domain_only: value → hashed part
    #[test]
    fn domains() {
        for (value, part) in [
            ("haproxy.1wt.eu", "1wt"),
            ("example.com", "example"),
            ("localhost", "localhost"),
            ("a.b.c.d", "c"),
        ] {
            assert_eq!(domain_only(value.as_bytes()), part.as_bytes());
        }
    }
}
