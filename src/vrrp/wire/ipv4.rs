//! The IPv4 header (RFC 791 §3.1), as a raw IPv4 socket returns it before each payload.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version|  IHL  |Type of Service|          Total Length         |
//! |         Identification        |Flags|      Fragment Offset    |
//! |  Time to Live |    Protocol   |         Header Checksum       |
//! |                       Source Address                          |
//! |                    Destination Address                        |
//! |                    Options                    |    Padding    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! Only what VRRP's receive checks need is read: TTL (must be 255, RFC 3768 §7.1), protocol,
//! source, destination and where the payload starts and ends.

use super::WireError;
use std::net::Ipv4Addr;

mod field {
    pub const VER_IHL: usize = 0;
    pub const TOTAL_LEN: std::ops::Range<usize> = 2..4;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const SRC: std::ops::Range<usize> = 12..16;
    pub const DST: std::ops::Range<usize> = 16..20;
    pub const MIN_LEN: usize = 20;
}

/// A checked view of an IPv4 header and what follows it.
#[derive(Clone, Copy, Debug)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
    header_len: usize,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Checks the version, that the header (with options) is there, and bounds the payload
    /// by Total Length when that is shorter than the buffer.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let bytes = buffer.as_ref();
        let Some(&ver_ihl) = bytes.get(field::VER_IHL) else {
            return Err(WireError::Truncated {
                len: 0,
                need: field::MIN_LEN,
            });
        };
        if ver_ihl >> 4 != 4 {
            return Err(WireError::NotIpv4(ver_ihl >> 4));
        }
        let header_len = usize::from(ver_ihl & 0x0f) * 4;
        if header_len < field::MIN_LEN {
            return Err(WireError::HeaderLength(header_len));
        }
        if bytes.len() < header_len {
            return Err(WireError::Truncated {
                len: bytes.len(),
                need: header_len,
            });
        }
        Ok(Ipv4Packet { buffer, header_len })
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    fn addr(&self, r: std::ops::Range<usize>) -> Ipv4Addr {
        match self.bytes().get(r) {
            Some(&[a, b, c, d]) => Ipv4Addr::new(a, b, c, d),
            _ => Ipv4Addr::UNSPECIFIED,
        }
    }

    pub fn ttl(&self) -> u8 {
        self.bytes().get(field::TTL).copied().unwrap_or(0)
    }
    pub fn protocol(&self) -> u8 {
        self.bytes().get(field::PROTOCOL).copied().unwrap_or(0)
    }
    pub fn src(&self) -> Ipv4Addr {
        self.addr(field::SRC)
    }
    pub fn dst(&self) -> Ipv4Addr {
        self.addr(field::DST)
    }

    /// The payload: after the header, up to Total Length (or the end of the buffer).
    pub fn payload(&self) -> &[u8] {
        let bytes = self.bytes();
        let total = match bytes.get(field::TOTAL_LEN) {
            Some(&[a, b]) => usize::from(u16::from_be_bytes([a, b])),
            _ => bytes.len(),
        };
        let end = total.clamp(self.header_len, bytes.len());
        bytes.get(self.header_len..end).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_a_keepalived_advert_header() {
        let bytes: Vec<u8> = [
            0x45, 0xc0, 0x00, 0x24, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0xd0, 0x32, 10, 99, 0, 1,
            224, 0, 0, 18, 0x31, 0x34, 0x96, 0x02, 0x00, 0x32, 0x38, 0x11, 10, 99, 0, 100, 10, 99,
            0, 101, 0xee, 0xee,
        ]
        .to_vec();
        let ip = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(ip.ttl(), 255);
        assert_eq!(ip.protocol(), 112);
        assert_eq!(ip.src(), Ipv4Addr::new(10, 99, 0, 1));
        assert_eq!(ip.dst(), Ipv4Addr::new(224, 0, 0, 18));
        // Total Length (36) bounds the payload: the two trailing bytes are not in it.
        assert_eq!(ip.payload().len(), 16);
    }

    #[test]
    fn refuses_what_is_not_a_whole_ipv4_header() {
        assert!(Ipv4Packet::new_checked(&[][..]).is_err());
        assert_eq!(
            Ipv4Packet::new_checked(&[0x60u8; 40][..]).unwrap_err(),
            WireError::NotIpv4(6)
        );
        assert_eq!(
            Ipv4Packet::new_checked(&[0x44u8; 40][..]).unwrap_err(),
            WireError::HeaderLength(16)
        );
        assert_eq!(
            Ipv4Packet::new_checked(&[0x46u8; 20][..]).unwrap_err(),
            WireError::Truncated { len: 20, need: 24 }
        );
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            if let Ok(ip) = Ipv4Packet::new_checked(&bytes[..]) {
                let _ = (ip.ttl(), ip.protocol(), ip.src(), ip.dst());
                prop_assert!(ip.payload().len() <= bytes.len());
            }
        }
    }
}
