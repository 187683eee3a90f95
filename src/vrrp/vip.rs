//! Floating addresses through rtnetlink: look up an interface (index, MAC, its own
//! addresses), add and remove each `virtual_ipaddress` on MASTER entry and exit.
//!
//! Synchronous requests on a NETLINK_ROUTE socket (netlink-sys), messages built and read by
//! netlink-packet-route; each request asks for an acknowledgement and waits for it, so an
//! error (address in use, no such device) comes back to the caller with the address named.
//! Adding an address that is already there, or removing one that is gone, is not an error:
//! both leave the interface as wanted.

use netlink_packet_core::{
    NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST,
};
use netlink_packet_route::address::{
    AddressAttribute, AddressHeaderFlags, AddressMessage, AddressScope,
};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use rsproxy_parser::ir::keepalived::{AddrScope, VirtualIp, VirtualRoute};
use std::net::IpAddr;

#[derive(Debug, thiserror::Error)]
pub enum VipError {
    #[error("netlink socket: {0}")]
    Socket(std::io::Error),
    #[error("no interface named {0}")]
    NoInterface(String),
    #[error("cannot add {addr} on {dev}: {error}")]
    Add {
        addr: IpAddr,
        dev: String,
        error: std::io::Error,
    },
    #[error("cannot remove {addr} from {dev}: {error}")]
    Remove {
        addr: IpAddr,
        dev: String,
        error: std::io::Error,
    },
    #[error("cannot add the route to {to}: {error}")]
    AddRoute { to: String, error: std::io::Error },
    #[error("cannot remove the route to {to}: {error}")]
    RemoveRoute { to: String, error: std::io::Error },
    #[error("netlink: {0}")]
    Protocol(String),
}

/// An interface as VRRP needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub name: String,
    pub index: u32,
    pub mac: Option<[u8; 6]>,
    /// Administratively up and running (IFF_UP and IFF_RUNNING), as keepalived judges it.
    pub up: bool,
}

fn link_of(link: LinkMessage) -> Option<Link> {
    let up = link
        .header
        .flags
        .contains(LinkFlags::Up | LinkFlags::Running);
    let mut name = None;
    let mut mac = None;
    for attr in link.attributes {
        match attr {
            LinkAttribute::IfName(n) => name = Some(n),
            LinkAttribute::Address(a) => mac = <[u8; 6]>::try_from(a.as_slice()).ok(),
            _ => {}
        }
    }
    Some(Link {
        name: name?,
        index: link.header.index,
        mac,
        up,
    })
}

/// What the kernel announced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KernelEvent {
    /// A link's state (index, up); a removed link is down.
    Link(u32, bool),
    /// An address was removed from a link (index, address).
    AddressRemoved(u32, IpAddr),
}

/// Link state changes and address removals as the kernel announces them (rtnetlink groups
/// RTNLGRP_LINK and RTNLGRP_IPV4_IFADDR), read without blocking.
pub struct LinkWatch {
    socket: Socket,
    buf: Vec<u8>,
}

const RTNLGRP_LINK: u32 = 1;
const RTNLGRP_IPV4_IFADDR: u32 = 5;

impl LinkWatch {
    pub fn open() -> Result<LinkWatch, VipError> {
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(VipError::Socket)?;
        socket.bind_auto().map_err(VipError::Socket)?;
        socket
            .add_membership(RTNLGRP_LINK)
            .map_err(VipError::Socket)?;
        socket
            .add_membership(RTNLGRP_IPV4_IFADDR)
            .map_err(VipError::Socket)?;
        socket.set_non_blocking(true).map_err(VipError::Socket)?;
        Ok(LinkWatch {
            socket,
            buf: vec![0u8; 64 * 1024],
        })
    }

    /// Everything announced since the last call.
    pub fn changes(&mut self) -> Vec<KernelEvent> {
        let mut out = Vec::new();
        while let Ok(n) = self.socket.recv(&mut &mut self.buf[..], 0) {
            for msg in split_messages(self.buf.get(..n).unwrap_or(&[])) {
                match msg.payload {
                    NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(l)) => {
                        if let Some(link) = link_of(l) {
                            out.push(KernelEvent::Link(link.index, link.up));
                        }
                    }
                    NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(l)) => {
                        out.push(KernelEvent::Link(l.header.index, false));
                    }
                    NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelAddress(a)) => {
                        let local = a.attributes.iter().find_map(|at| match at {
                            AddressAttribute::Local(ip) => Some(*ip),
                            _ => None,
                        });
                        if let Some(ip) = local {
                            out.push(KernelEvent::AddressRemoved(a.header.index, ip));
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }
}

/// The netlink messages in one datagram (those that do not parse are skipped).
fn split_messages(mut bytes: &[u8]) -> Vec<NetlinkMessage<RouteNetlinkMessage>> {
    let mut out = Vec::new();
    while let Some(len) = bytes
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(|b| u32::from_ne_bytes(b) as usize)
    {
        let Some(one) = bytes.get(..len).filter(|_| len >= 16) else {
            break;
        };
        if let Ok(m) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(one) {
            out.push(m);
        }
        bytes = bytes.get((len + 3) & !3..).unwrap_or(&[]);
    }
    out
}

/// A NETLINK_ROUTE socket that sends one request at a time.
pub struct Netlink {
    socket: Socket,
    seq: u32,
}

const EEXIST: i32 = 17;
const EADDRNOTAVAIL: i32 = 99;
const ENODEV: i32 = 19;
const ESRCH: i32 = 3;

impl Netlink {
    pub fn open() -> Result<Netlink, VipError> {
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(VipError::Socket)?;
        socket.bind_auto().map_err(VipError::Socket)?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(VipError::Socket)?;
        Ok(Netlink { socket, seq: 0 })
    }

    /// Sends `msg` with `flags` and collects the answers until the ACK (or the end of a
    /// dump). An error answer becomes `Err(errno)`.
    fn request(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Result<Vec<RouteNetlinkMessage>, i32>, VipError> {
        self.seq = self.seq.wrapping_add(1);
        let mut nl = NetlinkMessage::from(msg);
        nl.header.flags = flags;
        nl.header.sequence_number = self.seq;
        nl.finalize();
        let mut buf = vec![0u8; nl.buffer_len()];
        nl.serialize(&mut buf);
        self.socket.send(&buf, 0).map_err(VipError::Socket)?;
        let mut answers = Vec::new();
        let mut rx = vec![0u8; 64 * 1024];
        loop {
            let n = self
                .socket
                .recv(&mut &mut rx[..], 0)
                .map_err(VipError::Socket)?;
            let mut at = 0usize;
            while at < n {
                let Some(len) = rx
                    .get(at..at + 4)
                    .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    .map(|b| u32::from_ne_bytes(b) as usize)
                else {
                    break;
                };
                if len < 16 || at + len > n {
                    return Err(VipError::Protocol(format!("bad message length {len}")));
                }
                let Some(one) = rx.get(at..at + len) else {
                    break;
                };
                at += (len + 3) & !3;
                let parsed = NetlinkMessage::<RouteNetlinkMessage>::deserialize(one)
                    .map_err(|e| VipError::Protocol(e.to_string()))?;
                if parsed.header.sequence_number != self.seq {
                    continue;
                }
                match parsed.payload {
                    NetlinkPayload::Error(e) => {
                        return Ok(match e.code {
                            None => Ok(answers),
                            Some(code) => Err(-code.get()),
                        })
                    }
                    NetlinkPayload::Done(_) => return Ok(Ok(answers)),
                    NetlinkPayload::InnerMessage(m) => answers.push(m),
                    _ => {}
                }
            }
        }
    }

    /// Every interface with its index and MAC address.
    pub fn links(&mut self) -> Result<Vec<Link>, VipError> {
        let answers = self
            .request(
                RouteNetlinkMessage::GetLink(LinkMessage::default()),
                NLM_F_REQUEST | NLM_F_DUMP,
            )?
            .map_err(|e| VipError::Protocol(format!("link dump failed: errno {e}")))?;
        Ok(answers
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(link) => link_of(link),
                _ => None,
            })
            .collect())
    }

    pub fn link(&mut self, name: &str) -> Result<Link, VipError> {
        self.links()?
            .into_iter()
            .find(|l| l.name == name)
            .ok_or_else(|| VipError::NoInterface(name.to_string()))
    }

    /// The addresses on interface `index`, in the kernel's order (the primary first).
    pub fn addresses(&mut self, index: u32) -> Result<Vec<(IpAddr, u8)>, VipError> {
        let answers = self
            .request(
                RouteNetlinkMessage::GetAddress(AddressMessage::default()),
                NLM_F_REQUEST | NLM_F_DUMP,
            )?
            .map_err(|e| VipError::Protocol(format!("address dump failed: errno {e}")))?;
        let mut out = Vec::new();
        for m in answers {
            let RouteNetlinkMessage::NewAddress(a) = m else {
                continue;
            };
            if a.header.index != index {
                continue;
            }
            let local = a.attributes.iter().find_map(|at| match at {
                AddressAttribute::Local(ip) => Some(*ip),
                _ => None,
            });
            let address = a.attributes.iter().find_map(|at| match at {
                AddressAttribute::Address(ip) => Some(*ip),
                _ => None,
            });
            if let Some(ip) = local.or(address) {
                out.push((ip, a.header.prefix_len));
            }
        }
        Ok(out)
    }

    fn addr_message(vip: &VirtualIp, index: u32) -> AddressMessage {
        let mut msg = AddressMessage::default();
        msg.header.family = match vip.addr.addr {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        };
        msg.header.prefix_len = vip.addr.prefix;
        msg.header.index = index;
        if vip.addr.addr.is_ipv6() {
            // Usable at once, as keepalived adds it: no duplicate address detection (the
            // backup does not hold it, and waiting would delay the takeover).
            msg.header.flags = AddressHeaderFlags::Nodad;
        }
        msg.header.scope = match vip.scope {
            None | Some(AddrScope::Global) => AddressScope::Universe,
            Some(AddrScope::Site) => AddressScope::Site,
            Some(AddrScope::Link) => AddressScope::Link,
            Some(AddrScope::Host) => AddressScope::Host,
            Some(AddrScope::Nowhere) => AddressScope::Nowhere,
        };
        msg.attributes.push(AddressAttribute::Local(vip.addr.addr));
        msg.attributes.push(AddressAttribute::Address(
            vip.peer.map(|p| p.addr).unwrap_or(vip.addr.addr),
        ));
        if let Some(IpAddr::V4(b)) = vip.brd {
            msg.attributes.push(AddressAttribute::Broadcast(b));
        }
        if let Some(label) = &vip.label {
            msg.attributes.push(AddressAttribute::Label(label.clone()));
        }
        msg
    }

    /// The RTM_NEWROUTE/RTM_DELROUTE body of `route` (`oif`: the index of its `dev`).
    fn route_message(route: &VirtualRoute, oif: Option<u32>) -> RouteMessage {
        let mut msg = RouteMessage::default();
        msg.header.address_family = match route.to.addr {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        };
        msg.header.destination_prefix_length = route.to.prefix;
        msg.header.protocol = RouteProtocol::Static;
        msg.header.kind = if route.blackhole {
            RouteType::BlackHole
        } else {
            RouteType::Unicast
        };
        msg.header.scope = match route.scope {
            Some(AddrScope::Link) => RouteScope::Link,
            Some(AddrScope::Host) => RouteScope::Host,
            Some(AddrScope::Site) => RouteScope::Site,
            Some(AddrScope::Nowhere) => RouteScope::NoWhere,
            Some(AddrScope::Global) => RouteScope::Universe,
            // As `ip route`: a route with neither gateway nor blackhole is on-link.
            None if route.via.is_none() && !route.blackhole => RouteScope::Link,
            None => RouteScope::Universe,
        };
        let table = route.table.unwrap_or(u32::from(RouteHeader::RT_TABLE_MAIN));
        msg.header.table = u8::try_from(table).unwrap_or(RouteHeader::RT_TABLE_UNSPEC);
        msg.attributes.push(RouteAttribute::Table(table));
        msg.attributes
            .push(RouteAttribute::Destination(RouteAddress::from(
                route.to.addr,
            )));
        if let Some(via) = route.via {
            msg.attributes
                .push(RouteAttribute::Gateway(RouteAddress::from(via)));
        }
        if let Some(src) = route.src {
            msg.attributes
                .push(RouteAttribute::PrefSource(RouteAddress::from(src)));
        }
        if let Some(metric) = route.metric {
            msg.attributes.push(RouteAttribute::Priority(metric));
        }
        if let Some(oif) = oif {
            msg.attributes.push(RouteAttribute::Oif(oif));
        }
        msg
    }

    fn route_name(route: &VirtualRoute) -> String {
        format!("{}/{}", route.to.addr, route.to.prefix)
    }

    /// Adds `route` (present already: fine).
    pub fn add_route(&mut self, route: &VirtualRoute, oif: Option<u32>) -> Result<(), VipError> {
        match self.request(
            RouteNetlinkMessage::NewRoute(Self::route_message(route, oif)),
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        )? {
            Ok(_) | Err(EEXIST) => Ok(()),
            Err(errno) => Err(VipError::AddRoute {
                to: Self::route_name(route),
                error: std::io::Error::from_raw_os_error(errno),
            }),
        }
    }

    /// Removes `route` (absent already: fine).
    pub fn remove_route(&mut self, route: &VirtualRoute, oif: Option<u32>) -> Result<(), VipError> {
        match self.request(
            RouteNetlinkMessage::DelRoute(Self::route_message(route, oif)),
            NLM_F_REQUEST | NLM_F_ACK,
        )? {
            Ok(_) | Err(ESRCH) | Err(ENODEV) => Ok(()),
            Err(errno) => Err(VipError::RemoveRoute {
                to: Self::route_name(route),
                error: std::io::Error::from_raw_os_error(errno),
            }),
        }
    }

    /// Adds `vip` on `link` (present already: fine).
    pub fn add(&mut self, vip: &VirtualIp, link: &Link) -> Result<(), VipError> {
        let msg = Self::addr_message(vip, link.index);
        match self.request(
            RouteNetlinkMessage::NewAddress(msg),
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        )? {
            Ok(_) => Ok(()),
            Err(EEXIST) => Ok(()),
            Err(errno) => Err(VipError::Add {
                addr: vip.addr.addr,
                dev: link.name.clone(),
                error: std::io::Error::from_raw_os_error(errno),
            }),
        }
    }

    /// Removes `vip` from `link` (absent already: fine).
    pub fn remove(&mut self, vip: &VirtualIp, link: &Link) -> Result<(), VipError> {
        let msg = Self::addr_message(vip, link.index);
        match self.request(
            RouteNetlinkMessage::DelAddress(msg),
            NLM_F_REQUEST | NLM_F_ACK,
        )? {
            Ok(_) => Ok(()),
            Err(EADDRNOTAVAIL) | Err(ENODEV) => Ok(()),
            Err(errno) => Err(VipError::Remove {
                addr: vip.addr.addr,
                dev: link.name.clone(),
                error: std::io::Error::from_raw_os_error(errno),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsproxy_parser::ir::IpNet;

    #[test]
    fn route_messages_carry_gateway_table_metric_and_type() {
        let route = VirtualRoute {
            to: IpNet {
                addr: "198.51.100.0".parse().unwrap(),
                prefix: 24,
            },
            src: Some("192.0.2.100".parse().unwrap()),
            via: Some("192.0.2.254".parse().unwrap()),
            dev: Some("eth0".into()),
            table: Some(100),
            metric: Some(5),
            scope: None,
            blackhole: false,
            no_track: false,
        };
        let msg = Netlink::route_message(&route, Some(3));
        assert_eq!(msg.header.destination_prefix_length, 24);
        assert_eq!(msg.header.kind, RouteType::Unicast);
        assert_eq!(msg.header.scope, RouteScope::Universe);
        assert_eq!(msg.header.table, 100);
        for a in [
            RouteAttribute::Table(100),
            RouteAttribute::Gateway(RouteAddress::Inet("192.0.2.254".parse().unwrap())),
            RouteAttribute::PrefSource(RouteAddress::Inet("192.0.2.100".parse().unwrap())),
            RouteAttribute::Priority(5),
            RouteAttribute::Oif(3),
        ] {
            assert!(msg.attributes.contains(&a), "{a:?}");
        }
        let hole = VirtualRoute {
            via: None,
            blackhole: true,
            ..route
        };
        assert_eq!(
            Netlink::route_message(&hole, None).header.kind,
            RouteType::BlackHole
        );
    }

    #[test]
    fn address_messages_carry_prefix_scope_label_and_broadcast() {
        let vip = VirtualIp {
            addr: IpNet {
                addr: "192.0.2.100".parse().unwrap(),
                prefix: 24,
            },
            brd: Some("192.0.2.255".parse().unwrap()),
            dev: None,
            scope: Some(AddrScope::Link),
            label: Some("eth0:vip".into()),
            peer: None,
            no_track: false,
        };
        let msg = Netlink::addr_message(&vip, 7);
        assert_eq!(msg.header.index, 7);
        assert_eq!(msg.header.prefix_len, 24);
        assert_eq!(msg.header.scope, AddressScope::Link);
        assert!(msg
            .attributes
            .contains(&AddressAttribute::Broadcast("192.0.2.255".parse().unwrap())));
        assert!(msg
            .attributes
            .contains(&AddressAttribute::Label("eth0:vip".into())));
        assert!(msg
            .attributes
            .contains(&AddressAttribute::Local("192.0.2.100".parse().unwrap())));
    }
}
