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
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot open the VRRP socket on {interface}: {error}")]
    Open {
        interface: String,
        error: std::io::Error,
    },
    #[error("cannot send an advertisement to {dst}: {error}")]
    Send {
        dst: Ipv4Addr,
        error: std::io::Error,
    },
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

/// A received IPv4 packet of protocol 112, as the raw socket gave it.
pub type Packet = Vec<u8>;

pub struct VrrpSocket {
    socket: Socket,
    interface: String,
    dsts: Vec<Ipv4Addr>,
    buf: Vec<u8>,
}

const TOS_INTERNETWORK_CONTROL: u32 = 0xc0;
/// RFC 5798 §5.1.1.3.
pub const VRRP_TTL: u8 = 255;

impl VrrpSocket {
    /// Opens the socket of `plan` on `link`, sending from `src`.
    pub fn open(plan: &InstancePlan, link: &Link, src: Ipv4Addr) -> Result<VrrpSocket, NetError> {
        let err = |error| NetError::Open {
            interface: link.name.clone(),
            error,
        };
        let socket = Socket::new(
            Domain::IPV4,
            Type::RAW,
            Some(Protocol::from(i32::from(IPPROTO_VRRP))),
        )
        .map_err(err)?;
        socket
            .bind_device(Some(link.name.as_bytes()))
            .map_err(err)?;
        if plan.src_ip.is_some() {
            socket
                .bind(&SockAddr::from(SocketAddrV4::new(src, 0)))
                .map_err(err)?;
        }
        socket.set_ttl(u32::from(VRRP_TTL)).map_err(err)?;
        socket.set_tos(TOS_INTERNETWORK_CONTROL).map_err(err)?;
        let dsts = if plan.unicast_peers.is_empty() {
            socket
                .join_multicast_v4_n(
                    &plan.mcast_group,
                    &InterfaceIndexOrAddress::Index(link.index),
                )
                .map_err(err)?;
            socket.set_multicast_if_v4(&src).map_err(err)?;
            socket
                .set_multicast_ttl_v4(u32::from(VRRP_TTL))
                .map_err(err)?;
            socket.set_multicast_loop_v4(false).map_err(err)?;
            vec![plan.mcast_group]
        } else {
            plan.unicast_peers
                .iter()
                .filter_map(|p| match p.addr {
                    IpAddr::V4(a) => Some(a),
                    IpAddr::V6(_) => None,
                })
                .collect()
        };
        Ok(VrrpSocket {
            socket,
            interface: link.name.clone(),
            dsts,
            buf: vec![0u8; 2048],
        })
    }

    /// Where advertisements go (the group, or each unicast peer).
    pub fn destinations(&self) -> &[Ipv4Addr] {
        &self.dsts
    }

    pub fn send_to(&self, message: &[u8], dst: Ipv4Addr) -> Result<(), NetError> {
        self.socket
            .send_to(message, &SockAddr::from(SocketAddrV4::new(dst, 0)))
            .map(|_| ())
            .map_err(|error| NetError::Send { dst, error })
    }

    /// Waits up to `timeout` for one packet.
    pub fn recv(&mut self, timeout: Duration) -> Result<Option<&[u8]>, NetError> {
        let timeout = timeout.max(Duration::from_millis(1));
        self.socket
            .set_read_timeout(Some(timeout))
            .map_err(|error| NetError::Recv {
                interface: self.interface.clone(),
                error,
            })?;
        match (&self.socket).read(&mut self.buf) {
            Ok(n) => Ok(self.buf.get(..n)),
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
            Err(error) => Err(NetError::Recv {
                interface: self.interface.clone(),
                error,
            }),
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
    Ttl { src: Ipv4Addr, ttl: u8 },
    #[error("from {src}: VRRP version {got:?}, ours is {want:?}")]
    Version {
        src: Ipv4Addr,
        got: Version,
        want: Version,
    },
    #[error("from {src}: bad checksum")]
    Checksum { src: Ipv4Addr },
    #[error("from {src}: authentication type or password mismatch")]
    Auth { src: Ipv4Addr },
    #[error("from {src}: advertisement interval {got_cs}0 ms, ours is {want_cs}0 ms")]
    Interval {
        src: Ipv4Addr,
        got_cs: u16,
        want_cs: u16,
    },
    #[error("from {src}: not one of the unicast peers")]
    NotAPeer { src: Ipv4Addr },
}

/// The receive checks of RFC 3768 §7.1 / RFC 5798 §7.1 as keepalived applies them: IP TTL
/// 255 (or within a unicast peer's `min_ttl`/`max_ttl`), same version, same vrid, checksum,
/// (v2) same authentication and same advertisement interval, (with `check_unicast_src`) a
/// listed peer. The addresses listed are not compared (keepalived only logs a difference).
pub fn receive(plan: &InstancePlan, own: Ipv4Addr, packet: &[u8]) -> Result<Event, Discard> {
    let ip = Ipv4Packet::new_checked(packet)?;
    let src = ip.src();
    if src == own {
        return Err(Discard::Own);
    }
    let advert = Advert::new_checked(ip.payload(), Family::V4)?;
    if advert.vrid() != plan.vrid {
        return Err(Discard::OtherVrid(advert.vrid()));
    }
    let peer = plan
        .unicast_peers
        .iter()
        .find(|p| p.addr == IpAddr::V4(src));
    let ttl = ip.ttl();
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
    if !advert.checksum_ok(IpAddr::V4(src), IpAddr::V4(ip.dst())) {
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
        src: IpAddr::V4(src),
        priority: advert.priority(),
        interval_cs: advert.interval_cs(),
    })
}

/// The AF_PACKET socket gratuitous ARPs leave by.
pub struct ArpSocket {
    socket: Socket,
    link: Link,
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
            link: link.clone(),
        })
    }

    /// One burst: `repeat` rounds of one gratuitous ARP per IPv4 address, as keepalived
    /// sends them. Without a MAC address (not an Ethernet link) nothing is sent.
    pub fn announce(&self, addrs: &[IpAddr], repeat: u32) -> Result<(), NetError> {
        let Some(mac) = self.link.mac else {
            return Ok(());
        };
        let dst = super::sys::link_layer_addr(self.link.index, arp::ETHERTYPE_ARP, arp::BROADCAST);
        for _ in 0..repeat {
            for addr in addrs {
                if let IpAddr::V4(v4) = addr {
                    let frame = arp::gratuitous_arp(mac, *v4);
                    self.socket
                        .send_to(&frame, &dst)
                        .map_err(|error| NetError::Arp {
                            interface: self.link.name.clone(),
                            error,
                        })?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsproxy_parser::ir::keepalived::UnicastPeer;

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
            mcast_group: Ipv4Addr::new(224, 0, 0, 18),
            src_ip: None,
            unicast_peers: vec![],
            check_unicast_src: false,
            garp_master_delay: Duration::ZERO,
            garp_master_repeat: 1,
            tracks: vec![],
            track_links: vec![],
            notify: Default::default(),
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
        let src = Ipv4Addr::new(10, 99, 0, 1);
        let good = hex(KEEPALIVED_V2);
        assert_eq!(receive(&plan(), src, &good), Err(Discard::Own));
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
