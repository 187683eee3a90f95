//! VRRP on the wire: checked zero-copy views over received bytes, and emitters.
//!
//! - [`advert`]: the VRRP advertisement, version 2 (RFC 3768 §5) and 3 (RFC 5798 §5), with
//!   its checksum (v3 over an IPv4/IPv6 pseudo-header) and v2's simple-password data.
//! - [`ipv4`]: the IPv4 header a raw IPv4 socket hands back with each packet (TTL, source).
//! - [`arp`]: the gratuitous ARP frame a new master sends for each IPv4 floating address.
//! - [`nd`]: the unsolicited neighbour advertisement it sends for each IPv6 one.
//!
//! Invariants: a view is built only through `new_checked`/`parse`, which check every length
//! the accessors rely on, so no accessor can panic whatever the bytes; unknown field values
//! are kept as `Unknown(raw)`. std only, no `unsafe`.

pub mod advert;
pub mod arp;
pub mod ipv4;
pub mod nd;

pub use advert::{Advert, AdvertRepr, Auth, Family, Version};

/// Why bytes are not a packet of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("packet too short: {len} bytes, at least {need} needed")]
    Truncated { len: usize, need: usize },
    #[error("unsupported VRRP version {0}")]
    Version(u8),
    #[error("unknown VRRP packet type {0} (only 1, advertisement, exists)")]
    Type(u8),
    #[error("not an IPv4 header (version {0})")]
    NotIpv4(u8),
    #[error("IPv4 header length {0} is invalid")]
    HeaderLength(usize),
    #[error("too many addresses for one advertisement: {0} (at most 255)")]
    TooManyAddresses(usize),
    #[error("an address of the other family in the advertisement: {0}")]
    MixedFamily(std::net::IpAddr),
}

/// The Internet checksum (RFC 1071): one's complement of the one's complement sum of the
/// 16-bit words of `chunks`, concatenated (an odd last byte is padded with zero).
pub fn internet_checksum(chunks: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut carry_byte: Option<u8> = None;
    for chunk in chunks {
        for &b in *chunk {
            match carry_byte.take() {
                Some(hi) => sum += u32::from(u16::from_be_bytes([hi, b])),
                None => carry_byte = Some(b),
            }
        }
    }
    if let Some(hi) = carry_byte {
        sum += u32::from(u16::from_be_bytes([hi, 0]));
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_rfc1071_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2, whose complement is 220d.
        assert_eq!(
            internet_checksum(&[&[0x00, 0x01, 0xf2, 0x03], &[0xf4, 0xf5, 0xf6, 0xf7]]),
            0x220d
        );
        // Splitting a word across chunks changes nothing.
        assert_eq!(
            internet_checksum(&[&[0x00, 0x01, 0xf2], &[0x03, 0xf4, 0xf5, 0xf6, 0xf7]]),
            0x220d
        );
    }
}
