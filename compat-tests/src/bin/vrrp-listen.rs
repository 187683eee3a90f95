//! `vrrp-listen GROUP LOCAL_IP COUNT TIMEOUT_SECS`: prints, one hex line each, the first
//! COUNT IPv4 packets of protocol 112 (VRRP) that reach this namespace, IP header included,
//! after joining multicast GROUP on the interface that has LOCAL_IP; stops after
//! TIMEOUT_SECS whatever it got. The VRRP tests run it in a lab's bridge namespace to see
//! the advertisements as a peer sees them.

use socket2::{Domain, Protocol, Socket, Type};
use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let parsed = (
        args.get(1).and_then(|a| a.parse::<Ipv4Addr>().ok()),
        args.get(2).and_then(|a| a.parse::<Ipv4Addr>().ok()),
        args.get(3).and_then(|a| a.parse::<usize>().ok()),
        args.get(4).and_then(|a| a.parse::<f64>().ok()),
    );
    let (Some(group), Some(local), Some(count), Some(secs)) = parsed else {
        eprintln!("usage: vrrp-listen GROUP LOCAL_IP COUNT TIMEOUT_SECS");
        std::process::exit(2);
    };
    let socket = match Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112))) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("vrrp-listen: raw socket: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = socket.join_multicast_v4(&group, &local) {
        eprintln!("vrrp-listen: join {group}: {e}");
        std::process::exit(1);
    }
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut buf = [0u8; 2048];
    let mut got = 0;
    let mut out = std::io::stdout();
    // Ready: the caller may start the speakers now.
    let _ = writeln!(out, "ready");
    let _ = out.flush();
    while got < count {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let _ = socket.set_read_timeout(Some(left));
        match (&socket).read(&mut buf) {
            Ok(n) => {
                let hex: String = buf.iter().take(n).map(|b| format!("{b:02x}")).collect();
                let _ = writeln!(out, "{hex}");
                let _ = out.flush();
                got += 1;
            }
            Err(_) => break,
        }
    }
}
