//! The sockets of one instance: its VRRP socket (raw IPv4, protocol 112) and its gratuitous
//! ARP socket (AF_PACKET); and [`receive`], the checks a received advertisement must pass
//! before the state machine sees it.
//!
//! The VRRP socket is bound to the instance's interface (SO_BINDTODEVICE), sends with TTL 255
//! (RFC 3768 §7.1 / RFC 5798 §5.1.1.3) and TOS 0xc0 (internetwork control, as keepalived), to
//! the multicast group (joined on that interface, loopback off) or to each `unicast_peer`.
//! A raw IPv4 socket receives the IP header with each packet: its TTL and addresses are read
//! from there.

use super::config::InstancePlan;
use super::fsm::Event;
use super::vip::Link;
use super::wire::advert::IPPROTO_VRRP;
use super::wire::ipv4::Ipv4Packet;
use super::wire::{arp, Advert, Auth, Family, Version};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};
use std::io::Read;
use std::net::{IpAddr, SocketAddrV4, SocketAddrV6};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot open the VRRP socket on {interface}: {error}")]
    Open {
        interface: String,
        error: std::io::Error,
    },
    #[error("cannot send an advertisement to {dst}: {error}")]
    Send { dst: IpAddr, error: std::io::Error },
    #[error("cannot receive on {interface}: {error}")]
    Recv {
        interface: String,
        error: std::io::Error,
    },
    #[error("cannot send a gratuitous ARP on {interface}: {error}")]
    Arp {
        interface: String,
        error: std::io::Error,
    },
}

/// A received VRRP packet: the addresses and TTL/hop limit of the IP packet that carried
/// it, and the VRRP message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub ttl: u8,
    pub payload: Vec<u8>,
}

impl Incoming {
    /// From what a raw IPv4 socket returns (the IPv4 header, then the payload).
    pub fn from_ipv4(packet: &[u8]) -> Result<Incoming, super::wire::WireError> {
        let ip = Ipv4Packet::new_checked(packet)?;
        Ok(Incoming {
            src: IpAddr::V4(ip.src()),
            dst: IpAddr::V4(ip.dst()),
            ttl: ip.ttl(),
            payload: ip.payload().to_vec(),
        })
    }
}

pub struct VrrpSocket {
    socket: Socket,
    interface: String,
    family: Family,
    ifindex: u32,
    /// The group (multicast) or our own address (unicast): the destination the IPv6
    /// checksum of a received advert is computed with (an IPv6 raw socket gives no header).
    local_dst: IpAddr,
    dsts: Vec<IpAddr>,
    buf: Vec<u8>,
}

const TOS_INTERNETWORK_CONTROL: u32 = 0xc0;
/// RFC 5798 §5.1.1.3.
pub const VRRP_TTL: u8 = 255;

impl VrrpSocket {
    /// Opens the socket of `plan` on `link`, sending from `src` (whose family is the
    /// instance's).
    pub fn open(plan: &InstancePlan, link: &Link, src: IpAddr) -> Result<VrrpSocket, NetError> {
        let err = |error| NetError::Open {
            interface: link.name.clone(),
            error,
        };
        let family = Family::of(&src);
        let domain = match family {
            Family::V4 => Domain::IPV4,
            Family::V6 => Domain::IPV6,
        };
        let socket = Socket::new(
            domain,
            Type::RAW,
            Some(Protocol::from(i32::from(IPPROTO_VRRP))),
        )
        .map_err(err)?;
        socket
            .bind_device(Some(link.name.as_bytes()))
            .map_err(err)?;
        let multicast = plan.unicast_peers.is_empty();
        let dsts: Vec<IpAddr> = if multicast {
            vec![match family {
                Family::V4 => IpAddr::V4(plan.mcast_group),
                Family::V6 => IpAddr::V6(plan.mcast_group6),
            }]
        } else {
            plan.unicast_peers
                .iter()
                .map(|p| p.addr)
                .filter(|a| Family::of(a) == family)
                .collect()
        };
        match src {
            IpAddr::V4(src4) => {
                if plan.src_ip.is_some() {
                    socket
                        .bind(&SockAddr::from(SocketAddrV4::new(src4, 0)))
                        .map_err(err)?;
                }
                socket.set_ttl(u32::from(VRRP_TTL)).map_err(err)?;
                socket.set_tos(TOS_INTERNETWORK_CONTROL).map_err(err)?;
                if multicast {
                    socket
                        .join_multicast_v4_n(
                            &plan.mcast_group,
                            &InterfaceIndexOrAddress::Index(link.index),
                        )
                        .map_err(err)?;
                    socket.set_multicast_if_v4(&src4).map_err(err)?;
                    socket
                        .set_multicast_ttl_v4(u32::from(VRRP_TTL))
                        .map_err(err)?;
                    socket.set_multicast_loop_v4(false).map_err(err)?;
                }
            }
            IpAddr::V6(src6) => {
                // The link-local address may still be tentative (DAD) at start.
                socket.set_freebind_ipv6(true).map_err(err)?;
                socket
                    .bind(&SockAddr::from(SocketAddrV6::new(src6, 0, 0, link.index)))
                    .map_err(err)?;
                socket
                    .set_unicast_hops_v6(u32::from(VRRP_TTL))
                    .map_err(err)?;
                socket.set_recv_hoplimit_v6(true).map_err(err)?;
                if multicast {
                    socket
                        .join_multicast_v6(&plan.mcast_group6, link.index)
                        .map_err(err)?;
                    socket.set_multicast_if_v6(link.index).map_err(err)?;
                    socket
                        .set_multicast_hops_v6(u32::from(VRRP_TTL))
                        .map_err(err)?;
                    socket.set_multicast_loop_v6(false).map_err(err)?;
                }
            }
        }
        let local_dst = match (multicast, family) {
            (true, Family::V4) => IpAddr::V4(plan.mcast_group),
            (true, Family::V6) => IpAddr::V6(plan.mcast_group6),
            (false, _) => src,
        };
        Ok(VrrpSocket {
            socket,
            interface: link.name.clone(),
            family,
            ifindex: link.index,
            local_dst,
            dsts,
            buf: vec![0u8; 2048],
        })
    }

    /// Where advertisements go (the group, or each unicast peer).
    pub fn destinations(&self) -> &[IpAddr] {
        &self.dsts
    }

    pub fn send_to(&self, message: &[u8], dst: IpAddr) -> Result<(), NetError> {
        let to = match dst {
            IpAddr::V4(a) => SockAddr::from(SocketAddrV4::new(a, 0)),
            IpAddr::V6(a) => {
                let scope = if a.is_unicast_link_local() || a.is_multicast() {
                    self.ifindex
                } else {
                    0
                };
                SockAddr::from(SocketAddrV6::new(a, 0, 0, scope))
            }
        };
        self.socket
            .send_to(message, &to)
            .map(|_| ())
            .map_err(|error| NetError::Send { dst, error })
    }

    /// Waits up to `timeout` for one packet.
    pub fn recv(&mut self, timeout: Duration) -> Result<Option<Incoming>, NetError> {
        let recv_err = |interface: &str, error| NetError::Recv {
            interface: interface.to_string(),
            error,
        };
        let timeout = timeout.max(Duration::from_millis(1));
        self.socket
            .set_read_timeout(Some(timeout))
            .map_err(|e| recv_err(&self.interface, e))?;
        let got = match self.family {
            Family::V4 => (&self.socket)
                .read(&mut self.buf)
                .map(|n| self.buf.get(..n).and_then(|b| Incoming::from_ipv4(b).ok())),
            Family::V6 => super::sys::recv_with_hop_limit(&self.socket, &mut self.buf).map(|r| {
                let src = r.from.as_socket_ipv6()?;
                Some(Incoming {
                    src: IpAddr::V6(*src.ip()),
                    dst: self.local_dst,
                    ttl: r.hop_limit.unwrap_or(0),
                    payload: self.buf.get(..r.len)?.to_vec(),
                })
            }),
        };
        match got {
            Ok(p) => Ok(p),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(recv_err(&self.interface, e)),
        }
    }
}

/// Why a received packet did not reach the state machine.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Discard {
    #[error("not a VRRP packet: {0}")]
    Malformed(#[from] super::wire::WireError),
    #[error("our own advertisement")]
    Own,
    #[error("for another virtual router ({0})")]
    OtherVrid(u8),
    #[error("from {src}: TTL {ttl}, 255 required")]
    Ttl { src: IpAddr, ttl: u8 },
    #[error("from {src}: VRRP version {got:?}, ours is {want:?}")]
    Version {
        src: IpAddr,
        got: Version,
        want: Version,
    },
    #[error("from {src}: bad checksum")]
    Checksum { src: IpAddr },
    #[error("from {src}: authentication type or password mismatch")]
    Auth { src: IpAddr },
    #[error("from {src}: advertisement interval {got_cs}0 ms, ours is {want_cs}0 ms")]
    Interval {
        src: IpAddr,
        got_cs: u16,
        want_cs: u16,
    },
    #[error("from {src}: not one of the unicast peers")]
    NotAPeer { src: IpAddr },
}

/// The receive checks of RFC 3768 §7.1 / RFC 5798 §7.1 as keepalived applies them: IP TTL
/// 255 (or within a unicast peer's `min_ttl`/`max_ttl`), same version, same vrid, checksum,
/// (v2) same authentication and same advertisement interval, (with `check_unicast_src`) a
/// listed peer. The addresses listed are not compared (keepalived only logs a difference).
pub fn receive(plan: &InstancePlan, own: IpAddr, packet: &Incoming) -> Result<Event, Discard> {
    let src = packet.src;
    if src == own {
        return Err(Discard::Own);
    }
    let advert = Advert::new_checked(&packet.payload[..], Family::of(&src))?;
    if advert.vrid() != plan.vrid {
        return Err(Discard::OtherVrid(advert.vrid()));
    }
    let peer = plan.unicast_peers.iter().find(|p| p.addr == src);
    let ttl = packet.ttl;
    let ttl_ok = match peer {
        Some(p) if p.min_ttl.is_some() || p.max_ttl.is_some() => {
            p.min_ttl.is_none_or(|m| ttl >= m) && p.max_ttl.is_none_or(|m| ttl <= m)
        }
        _ => ttl == VRRP_TTL,
    };
    if !ttl_ok {
        return Err(Discard::Ttl { src, ttl });
    }
    if advert.version() != plan.version {
        return Err(Discard::Version {
            src,
            got: advert.version(),
            want: plan.version,
        });
    }
    if !advert.checksum_ok(src, packet.dst) {
        return Err(Discard::Checksum { src });
    }
    if plan.version == Version::V2 {
        let same = match (advert.auth(), plan.auth) {
            (Auth::None, Auth::None) => true,
            (Auth::Pass(a), Auth::Pass(b)) => a == b,
            _ => false,
        };
        if !same {
            return Err(Discard::Auth { src });
        }
        if advert.interval_cs() != plan.advert_int_cs {
            return Err(Discard::Interval {
                src,
                got_cs: advert.interval_cs(),
                want_cs: plan.advert_int_cs,
            });
        }
    }
    if plan.check_unicast_src && !plan.unicast_peers.is_empty() && peer.is_none() {
        return Err(Discard::NotAPeer { src });
    }
    Ok(Event::Advert {
        src,
        priority: advert.priority(),
        interval_cs: advert.interval_cs(),
    })
}

/// The AF_PACKET socket gratuitous ARPs leave by, and the ICMPv6 socket of unsolicited
/// neighbour advertisements.
pub struct ArpSocket {
    socket: Socket,
    icmp6: Option<Socket>,
    link: Link,
}

/// All-nodes, where unsolicited NAs go (RFC 4861 §7.2.6).
const ALL_NODES: std::net::Ipv6Addr = std::net::Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

fn icmp6_socket(link: &Link) -> std::io::Result<Socket> {
    let s = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
    s.bind_device(Some(link.name.as_bytes()))?;
    s.set_multicast_hops_v6(u32::from(VRRP_TTL))?;
    s.set_multicast_if_v6(link.index)?;
    s.set_multicast_loop_v6(false)?;
    Ok(s)
}

impl ArpSocket {
    pub fn open(link: &Link) -> Result<ArpSocket, NetError> {
        // Protocol 0: a send-only packet socket (it receives nothing).
        let socket =
            Socket::new(Domain::PACKET, Type::RAW, Some(Protocol::from(0))).map_err(|error| {
                NetError::Arp {
                    interface: link.name.clone(),
                    error,
                }
            })?;
        Ok(ArpSocket {
            socket,
            icmp6: icmp6_socket(link).ok(),
            link: link.clone(),
        })
    }

    /// The interface the messages leave by.
    pub fn link(&self) -> &Link {
        &self.link
    }

    /// One gratuitous ARP for an IPv4 address, one unsolicited NA for an IPv6 one. Without
    /// a MAC address (not an Ethernet link) nothing is sent.
    pub fn send_one(&self, addr: IpAddr) -> Result<(), NetError> {
        let Some(mac) = self.link.mac else {
            return Ok(());
        };
        let sent = match (addr, &self.icmp6) {
            (IpAddr::V4(v4), _) => {
                let dst = super::sys::link_layer_addr(
                    self.link.index,
                    arp::ETHERTYPE_ARP,
                    arp::BROADCAST,
                );
                self.socket.send_to(&arp::gratuitous_arp(mac, v4), &dst)
            }
            (IpAddr::V6(v6), Some(icmp6)) => icmp6.send_to(
                &super::wire::nd::unsolicited_na(v6, mac),
                &SockAddr::from(SocketAddrV6::new(ALL_NODES, 0, 0, self.link.index)),
            ),
            (IpAddr::V6(_), None) => return Ok(()),
        };
        sent.map(|_| ()).map_err(|error| NetError::Arp {
            interface: self.link.name.clone(),
            error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsproxy_parser::ir::keepalived::UnicastPeer;
    use std::net::Ipv4Addr;

    fn receive(plan: &InstancePlan, own: Ipv4Addr, bytes: &[u8]) -> Result<Event, Discard> {
        super::receive(plan, IpAddr::V4(own), &Incoming::from_ipv4(bytes)?)
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// keepalived 2.2.7: vrid 51, priority 101, advert_int 1, PASS "secret12", from 10.99.0.1.
    const KEEPALIVED_V2: &str = "45c0002c00010000ff70d02a0a630001e0000012\
                                 213365020101f5bb0a6300640a6300657365637265743132";

    fn plan() -> InstancePlan {
        InstancePlan {
            name: "VI_1".into(),
            interface: "eth0".into(),
            vrid: 51,
            version: Version::V2,
            priority: 100,
            advert_int_cs: 100,
            start_master: false,
            preempt: true,
            preempt_delay: Duration::ZERO,
            auth: Auth::pass("secret12"),
            vips: vec![],
            excluded: vec![],
            routes: vec![],
            mcast_group: Ipv4Addr::new(224, 0, 0, 18),
            mcast_group6: super::super::wire::advert::MCAST_V6,
            src_ip: None,
            unicast_peers: vec![],
            check_unicast_src: false,
            garp_master_delay: Duration::ZERO,
            garp_master_repeat: 1,
            garp_master_refresh: Duration::ZERO,
            garp_master_refresh_repeat: 1,
            garp_lower_prio_delay: Duration::ZERO,
            garp_lower_prio_repeat: 0,
            garp_interval: Duration::ZERO,
            gna_interval: Duration::ZERO,
            no_accept: false,
            tracks: vec![],
            track_links: vec![],
            track_files: vec![],
            track_processes: vec![],
            notify: Default::default(),
            smtp: None,
        }
    }
    const OWN: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 2);

    #[test]
    fn a_keepalived_advert_passes_the_checks() {
        assert_eq!(
            receive(&plan(), OWN, &hex(KEEPALIVED_V2)),
            Ok(Event::Advert {
                src: "10.99.0.1".parse().unwrap(),
                priority: 101,
                interval_cs: 100
            })
        );
    }

    #[test]
    fn each_check_discards_with_its_reason() {
        let src = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 1));
        let src4 = Ipv4Addr::new(10, 99, 0, 1);
        let good = hex(KEEPALIVED_V2);
        assert_eq!(receive(&plan(), src4, &good), Err(Discard::Own));
        let mut p = plan();
        p.vrid = 52;
        assert_eq!(receive(&p, OWN, &good), Err(Discard::OtherVrid(51)));
        let mut ttl = good.clone();
        ttl[8] = 254;
        assert_eq!(
            receive(&plan(), OWN, &ttl),
            Err(Discard::Ttl { src, ttl: 254 })
        );
        let mut p = plan();
        p.version = Version::V3;
        assert!(matches!(
            receive(&p, OWN, &good),
            Err(Discard::Version { .. })
        ));
        let mut sum = good.clone();
        sum[22] ^= 1;
        assert_eq!(receive(&plan(), OWN, &sum), Err(Discard::Checksum { src }));
        let mut p = plan();
        p.auth = Auth::pass("other");
        assert_eq!(receive(&p, OWN, &good), Err(Discard::Auth { src }));
        p.auth = Auth::None;
        assert_eq!(receive(&p, OWN, &good), Err(Discard::Auth { src }));
        let mut p = plan();
        p.advert_int_cs = 200;
        assert!(matches!(
            receive(&p, OWN, &good),
            Err(Discard::Interval { .. })
        ));
        let mut p = plan();
        p.unicast_peers = vec![UnicastPeer {
            addr: "10.99.0.9".parse().unwrap(),
            min_ttl: None,
            max_ttl: None,
        }];
        assert!(receive(&p, OWN, &good).is_ok());
        p.check_unicast_src = true;
        assert_eq!(receive(&p, OWN, &good), Err(Discard::NotAPeer { src }));
        assert!(matches!(
            receive(&plan(), OWN, &good[..30]),
            Err(Discard::Malformed(_))
        ));
    }

    #[test]
    fn unicast_peer_ttl_range_replaces_the_255_rule() {
        let mut ttl = hex(KEEPALIVED_V2);
        ttl[8] = 250;
        // (The IP header checksum is not checked: the kernel did.)
        let mut p = plan();
        p.unicast_peers = vec![UnicastPeer {
            addr: "10.99.0.1".parse().unwrap(),
            min_ttl: Some(240),
            max_ttl: Some(255),
        }];
        assert!(receive(&p, OWN, &ttl).is_ok());
        p.unicast_peers[0].min_ttl = Some(251);
        assert!(matches!(receive(&p, OWN, &ttl), Err(Discard::Ttl { .. })));
    }
}
