//! Gratuitous ARP (RFC 5227 §3 "ARP Announcement"; RFC 5798 §6.4.2 asks a new master to
//! send one per IPv4 address it now answers for).
//!
//! The Ethernet frame, as keepalived sends it (an ARP request, broadcast, with the floating
//! address as both sender and target protocol address and the broadcast address as target
//! hardware address):
//! ```text
//! +-------------------+-------------------+--------+
//! | dst ff:ff:ff:ff:ff:ff | src MAC       | 0x0806 |   Ethernet II (14 bytes)
//! +------+------+----+----+--------+-----------+----------+-----------+----------+
//! | HTYPE| PTYPE|HLEN|PLEN|  OPER  |    SHA    |   SPA    |    THA    |   TPA    |
//! |  1   |0x0800|  6 |  4 | 1 (req)|  our MAC  |   VIP    | ff..ff    |   VIP    |
//! +------+------+----+----+--------+-----------+----------+-----------+----------+
//! ```

use std::net::Ipv4Addr;

pub const ETHERTYPE_ARP: u16 = 0x0806;
pub const BROADCAST: [u8; 6] = [0xff; 6];
/// 14 bytes of Ethernet header + 28 of ARP.
pub const FRAME_LEN: usize = 42;

/// The gratuitous ARP frame announcing that `mac` now holds `ip`.
pub fn gratuitous_arp(mac: [u8; 6], ip: Ipv4Addr) -> [u8; FRAME_LEN] {
    let mut f = [0u8; FRAME_LEN];
    let parts: [&[u8]; 11] = [
        &BROADCAST,
        &mac,
        &ETHERTYPE_ARP.to_be_bytes(),
        &1u16.to_be_bytes(),      // HTYPE Ethernet
        &0x0800u16.to_be_bytes(), // PTYPE IPv4
        &[6, 4],                  // HLEN, PLEN
        &1u16.to_be_bytes(),      // OPER request
        &mac,
        &ip.octets(),
        &BROADCAST,
        &ip.octets(),
    ];
    let mut at = 0;
    for p in parts {
        if let Some(dst) = f.get_mut(at..at + p.len()) {
            dst.copy_from_slice(p);
        }
        at += p.len();
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_the_frame_keepalived_sends() {
        // Captured from keepalived 2.2.7 taking over 10.99.0.100 on an interface with
        // MAC b2:46:38:25:45:e3.
        let captured = "ffffffffffffb246382545e308060001080006040001b246382545e3\
                        0a630064ffffffffffff0a630064";
        let want: Vec<u8> = (0..captured.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&captured[i..i + 2], 16).unwrap())
            .collect();
        let frame = gratuitous_arp(
            [0xb2, 0x46, 0x38, 0x25, 0x45, 0xe3],
            Ipv4Addr::new(10, 99, 0, 100),
        );
        assert_eq!(frame.to_vec(), want);
    }
}
