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

/// What `recvmsg` gave on an IPv6 raw socket with IPV6_RECVHOPLIMIT set.
pub struct Received6 {
    pub len: usize,
    pub from: SockAddr,
    /// The hop limit the packet arrived with (IPV6_HOPLIMIT ancillary data), if present.
    pub hop_limit: Option<u8>,
}

/// `recvmsg` into `buf`, reading the hop limit from the ancillary data.
pub fn recv_with_hop_limit(socket: &socket2::Socket, buf: &mut [u8]) -> std::io::Result<Received6> {
    use socket2::{MaybeUninitSlice, MsgHdrMut};
    use std::mem::MaybeUninit;
    let mut from = SockAddr::from(std::net::SocketAddrV6::new(
        std::net::Ipv6Addr::UNSPECIFIED,
        0,
        0,
        0,
    ));
    let mut control = [0u8; 64];
    // SAFETY: u8 and MaybeUninit<u8> have the same layout; recvmsg only writes initialised
    // bytes into these buffers, so they stay valid `[u8]`.
    let data: &mut [MaybeUninit<u8>] =
        unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
    let ctrl: &mut [MaybeUninit<u8>] =
        unsafe { &mut *(&mut control[..] as *mut [u8] as *mut [MaybeUninit<u8>]) };
    let mut bufs = [MaybeUninitSlice::new(data)];
    let mut msg = MsgHdrMut::new()
        .with_addr(&mut from)
        .with_buffers(&mut bufs)
        .with_control(ctrl);
    let len = socket.recvmsg(&mut msg, 0)?;
    let control_len = msg.control_len();
    Ok(Received6 {
        len,
        from,
        hop_limit: hop_limit(control.get(..control_len).unwrap_or(&[])),
    })
}

/// Finds IPV6_HOPLIMIT in ancillary data: `cmsghdr { len: usize, level: i32, type: i32 }`,
/// then the data, each message aligned to `usize`. Plain byte parsing, bounds-checked.
fn hop_limit(mut control: &[u8]) -> Option<u8> {
    const HDR: usize = std::mem::size_of::<libc::cmsghdr>();
    const ALIGN: usize = std::mem::size_of::<usize>();
    while control.len() >= HDR {
        let len = usize::from_ne_bytes(control.get(..ALIGN)?.try_into().ok()?);
        let level = i32::from_ne_bytes(control.get(ALIGN..ALIGN + 4)?.try_into().ok()?);
        let kind = i32::from_ne_bytes(control.get(ALIGN + 4..ALIGN + 8)?.try_into().ok()?);
        if len < HDR {
            return None;
        }
        if level == libc::IPPROTO_IPV6 && kind == libc::IPV6_HOPLIMIT {
            let v = i32::from_ne_bytes(control.get(HDR..HDR + 4)?.try_into().ok()?);
            return u8::try_from(v).ok();
        }
        let next = (len + ALIGN - 1) & !(ALIGN - 1);
        control = control.get(next..)?;
    }
    None
}

#[cfg(test)]
mod hop_limit_tests {
    use super::*;

    #[test]
    fn reads_the_hop_limit_from_ancillary_data() {
        let mut c = Vec::new();
        let hdr = std::mem::size_of::<libc::cmsghdr>();
        // A message of another kind first, then IPV6_HOPLIMIT = 255.
        for (kind, value) in [(libc::IPV6_PKTINFO, 7i32), (libc::IPV6_HOPLIMIT, 255)] {
            c.extend_from_slice(&(hdr + 4).to_ne_bytes());
            c.extend_from_slice(&libc::IPPROTO_IPV6.to_ne_bytes());
            c.extend_from_slice(&kind.to_ne_bytes());
            c.extend_from_slice(&value.to_ne_bytes());
            while c.len() % std::mem::size_of::<usize>() != 0 {
                c.push(0);
            }
        }
        assert_eq!(hop_limit(&c), Some(255));
        assert_eq!(hop_limit(&c[..hdr + 4]), None);
        assert_eq!(hop_limit(&[1, 2, 3]), None);
        // A length shorter than the header stops the walk.
        let mut bad = c.clone();
        bad[..8].copy_from_slice(&1usize.to_ne_bytes());
        assert_eq!(hop_limit(&bad), None);
    }
}
