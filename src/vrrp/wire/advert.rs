//! The VRRP advertisement, versions 2 and 3.
//!
//! VRRPv2 (RFC 3768 §5.1), IPv4 only:
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Auth Type   |   Adver Int   |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         IP Address (1)                        |
//! |                            ...                                |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                     Authentication Data (1)                   |
//! |                     Authentication Data (2)                   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! The v2 checksum covers the VRRP message alone (§5.3.8); Adver Int is in seconds.
//!
//! VRRPv3 (RFC 5798 §5.1), IPv4 or IPv6:
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Version| Type | Virtual Rtr ID|   Priority    |Count IPvX Addr|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |(rsvd) |     Max Adver Int     |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       IPvX Address(es)                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! Max Adver Int is in centiseconds (12 bits); the checksum covers the IPv4 or IPv6
//! pseudo-header then the VRRP message (§5.2.8).
//!
//! The address family is not in the message: it is that of the IP packet carrying it, so
//! [`Advert::new_checked`] takes it.

use super::{internet_checksum, WireError};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IP protocol number of VRRP.
pub const IPPROTO_VRRP: u8 = 112;

mod field {
    pub const VER_TYPE: usize = 0;
    pub const VRID: usize = 1;
    pub const PRIORITY: usize = 2;
    pub const COUNT: usize = 3;
    /// v2: auth type; v3: high nibble reserved, low nibble the top of Max Adver Int.
    pub const AUTH_TYPE: usize = 4;
    /// v2: Adver Int (seconds).
    pub const ADVER_INT: usize = 5;
    /// v3: 4 reserved bits + 12 bits of Max Adver Int.
    pub const MAX_ADVER_INT: std::ops::Range<usize> = 4..6;
    pub const CHECKSUM: std::ops::Range<usize> = 6..8;
    pub const ADDRS: usize = 8;
    /// v2: the authentication data after the addresses.
    pub const AUTH_DATA_LEN: usize = 8;
}

/// The only VRRP packet type (RFC 3768 §5.3.2, RFC 5798 §5.2.2).
pub const TYPE_ADVERTISEMENT: u8 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    V2,
    V3,
}

impl Version {
    fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
    fn addr_len(self) -> usize {
        match self {
            Family::V4 => 4,
            Family::V6 => 16,
        }
    }
}

/// VRRPv2 authentication (RFC 2338 §5.3.6; RFC 3768 keeps only type 0 and leaves the others
/// to old implementations, keepalived among them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Auth {
    /// Type 0.
    None,
    /// Type 1: the password, NUL-padded to 8 bytes.
    Pass([u8; 8]),
    /// Type 2: IPsec AH (recognised; not carried out).
    Ah,
    Unknown(u8),
}

impl Auth {
    /// A simple password as keepalived puts it on the wire: its first 8 bytes, NUL-padded.
    pub fn pass(password: &str) -> Auth {
        let mut data = [0u8; 8];
        for (d, s) in data.iter_mut().zip(password.as_bytes()) {
            *d = *s;
        }
        Auth::Pass(data)
    }
    fn type_number(&self) -> u8 {
        match self {
            Auth::None => 0,
            Auth::Pass(_) => 1,
            Auth::Ah => 2,
            Auth::Unknown(n) => *n,
        }
    }
}

/// A checked view of a VRRP message (the IP payload, without the IP header).
#[derive(Clone, Copy, Debug)]
pub struct Advert<T: AsRef<[u8]>> {
    buffer: T,
    family: Family,
    version: Version,
}

impl<T: AsRef<[u8]>> Advert<T> {
    /// Checks that `buffer` holds a whole advertisement of a known version, carried over
    /// `family`: the fixed header, `count` addresses and (v2) the 8 bytes of authentication
    /// data. Bytes after those are ignored. After this no accessor can panic.
    pub fn new_checked(buffer: T, family: Family) -> Result<Self, WireError> {
        let bytes = buffer.as_ref();
        let len = bytes.len();
        let need = field::ADDRS;
        let (Some(&ver_type), Some(&count)) = (bytes.get(field::VER_TYPE), bytes.get(field::COUNT))
        else {
            return Err(WireError::Truncated { len, need });
        };
        if len < need {
            return Err(WireError::Truncated { len, need });
        }
        let version = match ver_type >> 4 {
            2 => Version::V2,
            3 => Version::V3,
            v => return Err(WireError::Version(v)),
        };
        if ver_type & 0x0f != TYPE_ADVERTISEMENT {
            return Err(WireError::Type(ver_type & 0x0f));
        }
        let auth = match version {
            Version::V2 => field::AUTH_DATA_LEN,
            Version::V3 => 0,
        };
        let need = field::ADDRS + usize::from(count) * family.addr_len() + auth;
        if len < need {
            return Err(WireError::Truncated { len, need });
        }
        Ok(Advert {
            buffer,
            family,
            version,
        })
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    fn byte(&self, i: usize) -> u8 {
        self.bytes().get(i).copied().unwrap_or(0)
    }
    fn word(&self, r: std::ops::Range<usize>) -> u16 {
        match self.bytes().get(r) {
            Some(&[a, b]) => u16::from_be_bytes([a, b]),
            _ => 0,
        }
    }

    pub fn version(&self) -> Version {
        self.version
    }
    pub fn family(&self) -> Family {
        self.family
    }
    pub fn vrid(&self) -> u8 {
        self.byte(field::VRID)
    }
    pub fn priority(&self) -> u8 {
        self.byte(field::PRIORITY)
    }
    pub fn count(&self) -> u8 {
        self.byte(field::COUNT)
    }
    pub fn checksum(&self) -> u16 {
        self.word(field::CHECKSUM)
    }

    /// The advertisement interval in centiseconds: v2's seconds ×100, v3's Max Adver Int.
    pub fn interval_cs(&self) -> u16 {
        match self.version {
            Version::V2 => u16::from(self.byte(field::ADVER_INT)) * 100,
            Version::V3 => self.word(field::MAX_ADVER_INT) & 0x0fff,
        }
    }

    /// v2 authentication (type and data); `Auth::None` for v3, which has none.
    pub fn auth(&self) -> Auth {
        if self.version == Version::V3 {
            return Auth::None;
        }
        match self.byte(field::AUTH_TYPE) {
            0 => Auth::None,
            1 => {
                let start = self.addrs_end();
                let mut data = [0u8; 8];
                if let Some(src) = self.bytes().get(start..start + field::AUTH_DATA_LEN) {
                    data.copy_from_slice(src);
                }
                Auth::Pass(data)
            }
            2 => Auth::Ah,
            n => Auth::Unknown(n),
        }
    }

    fn addrs_end(&self) -> usize {
        field::ADDRS + usize::from(self.count()) * self.family.addr_len()
    }

    /// The message's length as this view reads it (header, addresses, v2 auth data).
    pub fn len(&self) -> usize {
        self.addrs_end()
            + match self.version {
                Version::V2 => field::AUTH_DATA_LEN,
                Version::V3 => 0,
            }
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The virtual addresses listed, in order.
    pub fn addrs(&self) -> impl Iterator<Item = IpAddr> + '_ {
        let alen = self.family.addr_len();
        let list = self
            .bytes()
            .get(field::ADDRS..self.addrs_end())
            .unwrap_or(&[]);
        list.chunks_exact(alen).filter_map(|c| match c.len() {
            4 => <[u8; 4]>::try_from(c).ok().map(IpAddr::from),
            16 => <[u8; 16]>::try_from(c).ok().map(IpAddr::from),
            _ => None,
        })
    }

    /// Whether the checksum is right: v2 over the message, v3 with the pseudo-header of the
    /// carrying packet (`src`, `dst` as they were in its IP header).
    pub fn checksum_ok(&self, src: IpAddr, dst: IpAddr) -> bool {
        let msg = self.bytes().get(..self.len()).unwrap_or(&[]);
        match self.version {
            Version::V2 => internet_checksum(&[msg]) == 0,
            Version::V3 => match pseudo_header(src, dst, msg.len()) {
                Some(ph) => internet_checksum(&[&ph, msg]) == 0,
                None => false,
            },
        }
    }
}

/// The pseudo-header of RFC 5798 §5.2.8 (RFC 768 for IPv4, RFC 8200 §8.1 for IPv6).
/// `None` if the two addresses are not of one family.
fn pseudo_header(src: IpAddr, dst: IpAddr, len: usize) -> Option<Vec<u8>> {
    let mut ph = Vec::with_capacity(40);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            ph.extend_from_slice(&s.octets());
            ph.extend_from_slice(&d.octets());
            ph.push(0);
            ph.push(IPPROTO_VRRP);
            ph.extend_from_slice(&u16::try_from(len).ok()?.to_be_bytes());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            ph.extend_from_slice(&s.octets());
            ph.extend_from_slice(&d.octets());
            ph.extend_from_slice(&u32::try_from(len).ok()?.to_be_bytes());
            ph.extend_from_slice(&[0, 0, 0, IPPROTO_VRRP]);
        }
        _ => return None,
    }
    Some(ph)
}

/// An advertisement as plain values: what [`Advert`] reads and what [`AdvertRepr::emit`]
/// writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdvertRepr {
    pub version: Version,
    pub vrid: u8,
    pub priority: u8,
    /// Centiseconds; v2 carries whole seconds (rounded down, at least 1).
    pub interval_cs: u16,
    pub addrs: Vec<IpAddr>,
    /// v2 only; ignored for v3.
    pub auth: Auth,
}

impl AdvertRepr {
    pub fn parse<T: AsRef<[u8]>>(advert: &Advert<T>) -> AdvertRepr {
        AdvertRepr {
            version: advert.version(),
            vrid: advert.vrid(),
            priority: advert.priority(),
            interval_cs: advert.interval_cs(),
            addrs: advert.addrs().collect(),
            auth: advert.auth(),
        }
    }

    fn family(&self, src: &IpAddr) -> Family {
        Family::of(src)
    }

    /// Bytes of the message for a packet sent from `src`.
    pub fn buffer_len(&self, family: Family) -> usize {
        field::ADDRS
            + self.addrs.len() * family.addr_len()
            + match self.version {
                Version::V2 => field::AUTH_DATA_LEN,
                Version::V3 => 0,
            }
    }

    /// The message, checksummed for a packet from `src` to `dst`. Every address must be of
    /// the family of `src`; at most 255 of them.
    pub fn emit(&self, src: IpAddr, dst: IpAddr) -> Result<Vec<u8>, WireError> {
        let family = self.family(&src);
        let count = u8::try_from(self.addrs.len())
            .map_err(|_| WireError::TooManyAddresses(self.addrs.len()))?;
        let mut out = Vec::with_capacity(self.buffer_len(family));
        out.push((self.version.number() << 4) | TYPE_ADVERTISEMENT);
        out.push(self.vrid);
        out.push(self.priority);
        out.push(count);
        match self.version {
            Version::V2 => {
                out.push(self.auth.type_number());
                out.push(u8::try_from((self.interval_cs / 100).max(1)).unwrap_or(u8::MAX));
            }
            Version::V3 => {
                out.extend_from_slice(&(self.interval_cs & 0x0fff).to_be_bytes());
            }
        }
        out.extend_from_slice(&[0, 0]);
        for addr in &self.addrs {
            match (family, addr) {
                (Family::V4, IpAddr::V4(a)) => out.extend_from_slice(&a.octets()),
                (Family::V6, IpAddr::V6(a)) => out.extend_from_slice(&a.octets()),
                _ => return Err(WireError::MixedFamily(*addr)),
            }
        }
        let checksum = match self.version {
            Version::V2 => {
                match self.auth {
                    Auth::Pass(data) => out.extend_from_slice(&data),
                    _ => out.extend_from_slice(&[0u8; 8]),
                }
                internet_checksum(&[&out])
            }
            Version::V3 => {
                let ph = pseudo_header(src, dst, out.len()).ok_or(WireError::MixedFamily(dst))?;
                internet_checksum(&[&ph, &out])
            }
        };
        if let Some(c) = out.get_mut(field::CHECKSUM) {
            c.copy_from_slice(&checksum.to_be_bytes());
        }
        Ok(out)
    }
}

/// The VRRP multicast groups (RFC 5798 §5.1.1.2, §5.1.2.2).
pub const MCAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
pub const MCAST_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Captured from keepalived 2.2.7 (IPv4 header then VRRP), config:
    /// `virtual_router_id 51; priority 101; advert_int 1; auth_type PASS; auth_pass secret12;
    /// virtual_ipaddress { 10.99.0.100/24 10.99.0.101 }`, interface address 10.99.0.1.
    const KEEPALIVED_V2: &str = "45c0002c00010000ff70d02a0a630001e0000012\
                                 213365020101f5bb0a6300640a6300657365637265743132";
    /// The same instance's advertisement on SIGTERM: priority 0.
    const KEEPALIVED_V2_STOP: &str = "45c0002c00060000ff70d0250a630001e0000012\
                                      2133000201015abc0a6300640a6300657365637265743132";
    /// keepalived 2.2.7, `version 3; virtual_router_id 52; priority 150; advert_int 0.5`,
    /// same addresses, no authentication.
    const KEEPALIVED_V3: &str = "45c0002400010000ff70d0320a630001e0000012\
                                 31349602003238110a6300640a630065";
    const KEEPALIVED_V3_STOP: &str = "45c0002400060000ff70d02d0a630001e0000012\
                                      313400020032ce110a6300640a630065";

    const SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 1));
    const DST: IpAddr = IpAddr::V4(MCAST_V4);
    const VIPS: [IpAddr; 2] = [
        IpAddr::V4(Ipv4Addr::new(10, 99, 0, 100)),
        IpAddr::V4(Ipv4Addr::new(10, 99, 0, 101)),
    ];

    fn vrrp_part(captured: &str) -> Vec<u8> {
        hex(captured)[20..].to_vec()
    }

    #[test]
    fn keepalived_v2_advert_reads_and_reemits_byte_for_byte() {
        for (captured, priority) in [(KEEPALIVED_V2, 101), (KEEPALIVED_V2_STOP, 0)] {
            let bytes = vrrp_part(captured);
            let advert = Advert::new_checked(&bytes[..], Family::V4).unwrap();
            assert!(advert.checksum_ok(SRC, DST));
            let repr = AdvertRepr::parse(&advert);
            assert_eq!(
                repr,
                AdvertRepr {
                    version: Version::V2,
                    vrid: 51,
                    priority,
                    interval_cs: 100,
                    addrs: VIPS.to_vec(),
                    auth: Auth::pass("secret12"),
                }
            );
            assert_eq!(repr.emit(SRC, DST).unwrap(), bytes);
        }
    }

    #[test]
    fn keepalived_v3_advert_reads_and_reemits_byte_for_byte() {
        for (captured, priority) in [(KEEPALIVED_V3, 150), (KEEPALIVED_V3_STOP, 0)] {
            let bytes = vrrp_part(captured);
            let advert = Advert::new_checked(&bytes[..], Family::V4).unwrap();
            assert!(advert.checksum_ok(SRC, DST));
            // The pseudo-header counts: another destination fails the check.
            assert!(!advert.checksum_ok(SRC, IpAddr::V4(Ipv4Addr::new(10, 99, 0, 2))));
            let repr = AdvertRepr::parse(&advert);
            assert_eq!(repr.version, Version::V3);
            assert_eq!(
                (repr.vrid, repr.priority, repr.interval_cs),
                (52, priority, 50)
            );
            assert_eq!(repr.addrs, VIPS.to_vec());
            assert_eq!(repr.emit(SRC, DST).unwrap(), bytes);
        }
    }

    #[test]
    fn v3_over_ipv6_round_trips_with_its_pseudo_header() {
        let src: IpAddr = "fe80::1".parse().unwrap();
        let dst = IpAddr::V6(MCAST_V6);
        let repr = AdvertRepr {
            version: Version::V3,
            vrid: 7,
            priority: 255,
            interval_cs: 100,
            addrs: vec!["2001:db8::1".parse().unwrap()],
            auth: Auth::None,
        };
        let bytes = repr.emit(src, dst).unwrap();
        assert_eq!(bytes.len(), 8 + 16);
        let advert = Advert::new_checked(&bytes[..], Family::V6).unwrap();
        assert!(advert.checksum_ok(src, dst));
        assert_eq!(AdvertRepr::parse(&advert), repr);
        // An IPv4 address in an IPv6 advertisement is refused, not written.
        let mixed = AdvertRepr {
            addrs: vec![VIPS[0]],
            ..repr
        };
        assert!(matches!(
            mixed.emit(src, dst),
            Err(WireError::MixedFamily(_))
        ));
    }

    #[test]
    fn a_corrupted_byte_fails_the_checksum() {
        let mut bytes = vrrp_part(KEEPALIVED_V2);
        bytes[2] ^= 0x01;
        let advert = Advert::new_checked(&bytes[..], Family::V4).unwrap();
        assert!(!advert.checksum_ok(SRC, DST));
    }

    #[test]
    fn malformed_messages_are_refused_with_the_reason() {
        let good = vrrp_part(KEEPALIVED_V2);
        assert_eq!(
            Advert::new_checked(&good[..3], Family::V4).unwrap_err(),
            WireError::Truncated { len: 3, need: 8 }
        );
        // Two addresses announced, one present, no auth data.
        assert_eq!(
            Advert::new_checked(&good[..12], Family::V4).unwrap_err(),
            WireError::Truncated { len: 12, need: 24 }
        );
        let mut v4 = good.clone();
        v4[0] = 0x41;
        assert_eq!(
            Advert::new_checked(&v4[..], Family::V4).unwrap_err(),
            WireError::Version(4)
        );
        let mut t2 = good.clone();
        t2[0] = 0x22;
        assert_eq!(
            Advert::new_checked(&t2[..], Family::V4).unwrap_err(),
            WireError::Type(2)
        );
    }

    #[test]
    fn auth_types_are_read_and_unknown_ones_kept() {
        let mut bytes = vrrp_part(KEEPALIVED_V2);
        for (t, want) in [(0, Auth::None), (2, Auth::Ah), (9, Auth::Unknown(9))] {
            bytes[4] = t;
            let advert = Advert::new_checked(&bytes[..], Family::V4).unwrap();
            assert_eq!(advert.auth(), want);
        }
        assert_eq!(Auth::pass("longer-than-8"), Auth::Pass(*b"longer-t"));
        assert_eq!(Auth::pass("ab"), Auth::Pass(*b"ab\0\0\0\0\0\0"));
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600),
                                    v6 in any::<bool>()) {
            let family = if v6 { Family::V6 } else { Family::V4 };
            if let Ok(a) = Advert::new_checked(&bytes[..], family) {
                let repr = AdvertRepr::parse(&a);
                prop_assert_eq!(repr.addrs.len(), usize::from(a.count()));
                let _ = a.checksum_ok(SRC, DST);
                prop_assert!(a.len() <= bytes.len());
            }
        }

        #[test]
        fn emitted_adverts_parse_back(vrid in any::<u8>(), priority in any::<u8>(),
                                      interval_cs in 0u16..4096, v3 in any::<bool>(),
                                      addrs in proptest::collection::vec(any::<[u8; 4]>(), 0..20)) {
            let repr = AdvertRepr {
                version: if v3 { Version::V3 } else { Version::V2 },
                vrid, priority,
                interval_cs: if v3 { interval_cs } else { (interval_cs / 100).max(1) * 100 },
                addrs: addrs.into_iter().map(IpAddr::from).collect(),
                auth: if v3 { Auth::None } else { Auth::pass("pw") },
            };
            let bytes = repr.emit(SRC, DST).unwrap();
            let advert = Advert::new_checked(&bytes[..], Family::V4).unwrap();
            prop_assert!(advert.checksum_ok(SRC, DST));
            prop_assert_eq!(AdvertRepr::parse(&advert), repr);
        }
    }
}
