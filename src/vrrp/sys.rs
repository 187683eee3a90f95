//! The one system call argument VRRP needs that no safe API builds: the link-layer address
//! (`sockaddr_ll`) an AF_PACKET socket sends a gratuitous ARP frame to.
//!
//! This is the crate's only `unsafe`, isolated here: `lib.rs` denies unsafe code everywhere
//! else.
#![allow(unsafe_code)]

use socket2::SockAddr;

/// `sockaddr_ll` for sending a frame of EtherType `protocol` out of interface `ifindex` to
/// hardware address `dst`.
pub fn link_layer_addr(ifindex: u32, protocol: u16, dst: [u8; 6]) -> SockAddr {
    // SAFETY: sockaddr_storage is plain old data, valid when zeroed.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    // SAFETY: sockaddr_storage is at least as large and as aligned as any sockaddr, so
    // sockaddr_ll fits in it at offset 0; the reference does not outlive `storage`.
    let ll =
        unsafe { &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_ll>() };
    ll.sll_family = libc::AF_PACKET as u16;
    ll.sll_protocol = protocol.to_be();
    ll.sll_ifindex = i32::try_from(ifindex).unwrap_or(0);
    ll.sll_halen = 6;
    for (d, s) in ll.sll_addr.iter_mut().zip(dst) {
        *d = s;
    }
    let len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: `storage` holds an initialised sockaddr_ll of length `len`.
    unsafe { SockAddr::new(storage, len) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_packet_address() {
        let a = link_layer_addr(3, 0x0806, [0xff; 6]);
        assert_eq!(i32::from(a.family()), libc::AF_PACKET);
        assert_eq!(a.len() as usize, std::mem::size_of::<libc::sockaddr_ll>());
    }
}
