//! The unsolicited Neighbor Advertisement (RFC 4861 §4.4, §7.2.6) a new master sends for each
//! IPv6 floating address (RFC 5798 §6.4.2), to ff02::1 with hop limit 255.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Type (136)   |     Code      |          Checksum             |
//! |R|S|O|                     Reserved                            |
//! |                       Target Address (16)                     |
//! |  Type (2)     |  Length (1)   |   Link-Layer Address (6) ...  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! The checksum is left zero: a raw ICMPv6 socket has the kernel compute it (RFC 3542 §3.1).

use std::net::Ipv6Addr;

pub const LEN: usize = 32;
const TYPE_NEIGHBOR_ADVERTISEMENT: u8 = 136;
const FLAG_OVERRIDE: u8 = 0x20;
const OPTION_TARGET_LINK_LAYER: u8 = 2;

/// The advertisement that `target` is now at `mac` (Override set, not solicited).
pub fn unsolicited_na(target: Ipv6Addr, mac: [u8; 6]) -> [u8; LEN] {
    let mut m = [0u8; LEN];
    let parts: [&[u8]; 7] = [
        &[TYPE_NEIGHBOR_ADVERTISEMENT, 0],
        &[0, 0],
        &[FLAG_OVERRIDE, 0, 0, 0],
        &target.octets(),
        &[OPTION_TARGET_LINK_LAYER, 1],
        &mac,
        &[],
    ];
    let mut at = 0;
    for p in parts {
        if let Some(dst) = m.get_mut(at..at + p.len()) {
            dst.copy_from_slice(p);
        }
        at += p.len();
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_of_an_unsolicited_na() {
        let na = unsolicited_na("2001:db8::1".parse().unwrap(), [2, 0, 0, 0, 0, 1]);
        assert_eq!(na[0], 136);
        assert_eq!(na[4], 0x20, "Override only: not solicited, not a router");
        assert_eq!(
            &na[8..24],
            &"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets()
        );
        assert_eq!(&na[24..26], &[2, 1]);
        assert_eq!(&na[26..32], &[2, 0, 0, 0, 0, 1]);
    }
}
