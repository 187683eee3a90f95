//! Differential VRRP tests: rsproxy and the real keepalived 2.2 as peers on one LAN.
//!
//! Each scenario builds a lab (`compat_tests::netns`): a bridge in its own namespace and two
//! node namespaces on it, with addresses only inside them; everything is removed at the end,
//! on failure too. Pairs are (node 0, node 1) = rsproxy+rsproxy, rsproxy+keepalived,
//! keepalived+rsproxy, and keepalived+keepalived as the reference the others must match.
//! What is checked is what the LAN sees: who holds the floating address (`ip -n NODE addr`),
//! the advertisements on the wire, the neighbour table of a client.
//!
//! Timings are printed (`FIGURE ...`, run with `--nocapture` to see them), never asserted;
//! only generous bounds on how long a wait may last (the RFC's Master_Down_Interval is
//! 3.4-3.6 s here, with `advert_int 1`).
//!
//! Skipped with a message when not root, when `ip netns` does not work, or (for pairs with
//! keepalived) when keepalived is not installed. CI runs as root with keepalived installed.

use compat_tests::netns::{self, wait_for, Lab};
use compat_tests::runtime::Proxy;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Impl {
    Rsproxy,
    Keepalived,
}
use Impl::{Keepalived as Ka, Rsproxy as Rs};

impl Impl {
    fn short(self) -> &'static str {
        match self {
            Rs => "rsproxy",
            Ka => "keepalived",
        }
    }
}

/// Why this scenario cannot run here.
fn skip(impls: &[Impl]) -> Option<String> {
    if let Some(why) = netns::unavailable() {
        return Some(why);
    }
    if impls.contains(&Ka) && Command::new("keepalived").arg("-v").output().is_err() {
        return Some("keepalived is not installed".into());
    }
    if impls.contains(&Rs) && !Proxy::rsproxy_bin().exists() {
        return Some(format!(
            "{} is not built (cargo build first)",
            Proxy::rsproxy_bin().display()
        ));
    }
    None
}

/// The alerts one node sends (`smtp_alert`, to a sink in its namespace) from its start
/// until it is master and then stopped, without their `Date:` header.
fn smtp_alerts(which: Impl) -> Vec<String> {
    let mut lab = Lab::new(1).unwrap();
    let vip = lab.vip();
    let sink = PathBuf::from(env!("CARGO_BIN_EXE_smtp-sink"));
    let ns0 = lab.nodes[0].clone();
    let mut child = lab
        .spawn_piped(&ns0, &sink, &["127.0.0.1:2525", "2", "9"])
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().and_then(Result::ok).as_deref(), Some("ready"));
    let conf = format!(
        "global_defs {{\n    notification_email {{\n        admin@example.com\n        ops@example.com\n    }}\n    \
         notification_email_from keepalived@example.com\n    smtp_server 127.0.0.1 2525\n    \
         smtp_connect_timeout 5\n    router_id LB1\n}}\n{}",
        instance(&vip, 150, "    smtp_alert\n")
    );
    let n0 = start(&mut lab, 0, which, &conf);
    assert!(
        wait_for(ELECTION_LIMIT, || lab.holds(0, &vip)).is_some(),
        "{which:?}: not master\n{}",
        logs(&lab, &[&n0])
    );
    signal(n0.pid, "TERM");
    let got: Vec<String> = lines
        .map_while(Result::ok)
        .map(|m| {
            m.split("\\n")
                .filter(|l| !l.starts_with("Date: "))
                .collect::<Vec<_>>()
                .join("\\n")
        })
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    got
}

/// `smtp_alert`: rsproxy sends the messages keepalived sends (BACKUP at start, MASTER),
/// envelope, headers and body, to every `notification_email`.
#[test]
fn smtp_alerts_are_keepalived_s() {
    if let Some(why) = skip(&[Ka, Rs]) {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let (ka, rs) = std::thread::scope(|s| {
        let ka = s.spawn(|| smtp_alerts(Ka));
        let rs = s.spawn(|| smtp_alerts(Rs));
        (ka.join().unwrap(), rs.join().unwrap())
    });
    assert_eq!(ka.len(), 2, "keepalived sent {ka:?}");
    assert!(ka[1].contains("Entering MASTER state"), "{ka:?}");
    assert_eq!(
        ka, rs,
        "keepalived (left) and rsproxy (right) sent different alerts"
    );
}

macro_rules! skip_unless_able {
    ($impls:expr) => {
        if let Some(why) = skip(&$impls) {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
}

fn instance(vip: &str, priority: u8, extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n    interface eth0\n    state BACKUP\n    virtual_router_id 51\n    \
         priority {priority}\n    advert_int 1\n{extra}    authentication {{\n        auth_type PASS\n        \
         auth_pass secret12\n    }}\n    virtual_ipaddress {{\n        {vip}/24\n    }}\n}}\n"
    )
}

/// A running node: its implementation and the pid to signal.
struct Node {
    which: Impl,
    pid: u32,
    log: String,
}

fn start(lab: &mut Lab, node: usize, which: Impl, conf: &str) -> Node {
    let name = format!("n{node}");
    let path = lab.write(&format!("{name}.conf"), conf).unwrap();
    let conf = path.to_string_lossy().to_string();
    let ns = lab.nodes[node].clone();
    let log = format!("{name}-{}.log", which.short());
    let dir = lab.dir.clone();
    let f = |suffix: &str| {
        dir.join(format!("{name}.{suffix}"))
            .to_string_lossy()
            .to_string()
    };
    let pid = match which {
        Rs => lab
            .spawn(&ns, &Proxy::rsproxy_bin(), &["-k", &conf], &log)
            .unwrap(),
        Ka => {
            let (p, r, c) = (f("pid"), f("vrrp.pid"), f("check.pid"));
            lab.spawn(
                &ns,
                &PathBuf::from("keepalived"),
                &[
                    "-n", "-l", "-D", "-P", "-f", &conf, "-p", &p, "-r", &r, "-c", &c,
                ],
                &log,
            )
            .unwrap()
        }
    };
    Node { which, pid, log }
}

fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status();
}

fn logs(lab: &Lab, nodes: &[&Node]) -> String {
    nodes
        .iter()
        .map(|n| format!("--- {} ({}):\n{}", n.log, n.which.short(), lab.log(&n.log)))
        .collect()
}

const ELECTION_LIMIT: Duration = Duration::from_secs(10);

/// Starts node 0 (priority 150) and node 1 (priority 100) together and waits until node 0
/// alone holds the address, then checks that this lasts. The time it took.
fn elect(lab: &mut Lab, a: Impl, b: Impl, unicast: bool) -> (Node, Node, Duration) {
    let vip = lab.vip();
    // Unicast: each node sends from its address to the other's.
    let extra = |me: usize| {
        if unicast {
            format!(
                "    unicast_src_ip {}\n    unicast_peer {{\n        {}\n    }}\n",
                lab.node_ip(me),
                lab.node_ip(1 - me)
            )
        } else {
            String::new()
        }
    };
    let (c0, c1) = (
        instance(&vip, 150, &extra(0)),
        instance(&vip, 100, &extra(1)),
    );
    let t0 = Instant::now();
    let n0 = start(lab, 0, a, &c0);
    let n1 = start(lab, 1, b, &c1);
    let elected = wait_for(ELECTION_LIMIT, || lab.holds(0, &vip) && !lab.holds(1, &vip));
    assert!(
        elected.is_some(),
        "{a:?}+{b:?}: node 0 (priority 150) does not hold {vip} alone after {ELECTION_LIMIT:?}\n{}",
        logs(lab, &[&n0, &n1])
    );
    let took = t0.elapsed();
    // Stable: one more Master_Down_Interval-ish, no flapping.
    let end = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < end {
        assert!(
            lab.holds(0, &vip) && !lab.holds(1, &vip),
            "{a:?}+{b:?}: the election did not hold\n{}",
            logs(lab, &[&n0, &n1])
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (n0, n1, took)
}

fn mac(lab: &Lab, node: usize) -> String {
    let out = netns::ip(&["-n", &lab.nodes[node], "-o", "link", "show", "eth0"]).unwrap();
    let mut w = out.split_whitespace();
    w.find(|x| *x == "link/ether");
    w.next().unwrap_or_default().to_string()
}

/// The MAC the bridge namespace (a client on the LAN) has for `ip`.
fn neighbour(lab: &Lab, ip: &str) -> Option<String> {
    let out = netns::ip(&["-n", &lab.bridge, "neigh", "show", ip]).ok()?;
    let mut w = out.split_whitespace();
    w.find(|x| *x == "lladdr")?;
    w.next().map(str::to_string)
}

fn graceful(a: Impl, b: Impl) {
    graceful_in(a, b, false)
}

fn unicast_graceful(a: Impl, b: Impl) {
    graceful_in(a, b, true)
}

fn graceful_in(a: Impl, b: Impl, unicast: bool) {
    let mut lab = Lab::new(2).unwrap();
    let vip = lab.vip();
    let (n0, n1, elect_time) = elect(&mut lab, a, b, unicast);
    // A client talks to the floating address: its neighbour entry names node 0.
    // (A datagram from the bridge namespace: the kernel resolves the address by ARP.)
    let _ = Command::new("ip")
        .args(["netns", "exec", &lab.bridge, "bash", "-c"])
        .arg(format!("echo hello > /dev/udp/{vip}/9"))
        .output();
    let mac0 = mac(&lab, 0);
    assert!(
        wait_for(Duration::from_secs(2), || neighbour(&lab, &vip).as_deref()
            == Some(&mac0))
        .is_some(),
        "client's entry for {vip} before failover: {:?}, not node 0's {mac0}",
        neighbour(&lab, &vip)
    );

    let t = Instant::now();
    signal(n0.pid, "TERM");
    let moved = wait_for(Duration::from_secs(5), || lab.holds(1, &vip));
    assert!(
        moved.is_some(),
        "{a:?}+{b:?}: node 1 did not take {vip} within 5 s of SIGTERM to node 0\n{}",
        logs(&lab, &[&n0, &n1])
    );
    let failover = t.elapsed();
    assert!(
        wait_for(Duration::from_secs(3), || !lab.holds(0, &vip)).is_some(),
        "{a:?}+{b:?}: node 0 kept {vip} after SIGTERM\n{}",
        logs(&lab, &[&n0, &n1])
    );
    let ns0 = lab.nodes[0].clone();
    assert!(
        lab.wait_empty(&ns0, Duration::from_secs(5)),
        "node 0 did not exit"
    );
    // The new master's gratuitous ARP updated the client without a new request from it.
    let mac1 = mac(&lab, 1);
    assert!(
        wait_for(Duration::from_secs(2), || neighbour(&lab, &vip).as_deref()
            == Some(&mac1))
        .is_some(),
        "{a:?}+{b:?}: the client's neighbour entry for {vip} is {:?}, not node 1's {mac1}",
        neighbour(&lab, &vip)
    );
    eprintln!(
        "FIGURE pair={}+{}{} elect={:.2}s graceful_failover={:.3}s",
        a.short(),
        b.short(),
        if unicast { " unicast" } else { "" },
        elect_time.as_secs_f64(),
        failover.as_secs_f64()
    );
}

fn hard(a: Impl, b: Impl) {
    let mut lab = Lab::new(2).unwrap();
    let vip = lab.vip();
    let (n0, n1, _) = elect(&mut lab, a, b, false);
    let t = Instant::now();
    let ns0 = lab.nodes[0].clone();
    // Every process of node 0, frozen first then killed: no priority-0 goodbye. (Killing
    // keepalived's parent alone is not enough: its VRRP child gets SIGTERM as the parent
    // dies and says goodbye, a graceful failover.)
    lab.signal_all(&ns0, "STOP");
    lab.signal_all(&ns0, "KILL");
    let moved = wait_for(Duration::from_secs(8), || lab.holds(1, &vip));
    assert!(
        moved.is_some(),
        "{a:?}+{b:?}: node 1 did not take {vip} within 8 s of SIGKILL to node 0\n{}",
        logs(&lab, &[&n0, &n1])
    );
    let failover = t.elapsed();
    // Not before the master could be declared down: its last advertisement came at most
    // 1 s before the kill, and the backup waits 3 × 1 s + skew (0.61 s) after it.
    assert!(
        failover >= Duration::from_millis(2500),
        "{a:?}+{b:?}: node 1 took over after {failover:?}, before Master_Down_Interval"
    );
    eprintln!(
        "FIGURE pair={}+{} hard_failover={:.3}s",
        a.short(),
        b.short(),
        failover.as_secs_f64()
    );
}

/// Node 1 (priority 100) is master alone; then node 0 (priority 150) starts, with `extra`
/// in its instance. Whether node 0 takes the address over within 7 s.
fn join(incumbent: Impl, joiner: Impl, extra: &str) -> (bool, Duration) {
    join_within(incumbent, joiner, extra, Duration::from_secs(7))
}

/// As [`join`], waiting up to `limit`.
fn join_within(incumbent: Impl, joiner: Impl, extra: &str, limit: Duration) -> (bool, Duration) {
    let mut lab = Lab::new(2).unwrap();
    let vip = lab.vip();
    let n1 = start(&mut lab, 1, incumbent, &instance(&vip, 100, extra));
    assert!(
        wait_for(ELECTION_LIMIT, || lab.holds(1, &vip)).is_some(),
        "{incumbent:?} alone did not become master\n{}",
        logs(&lab, &[&n1])
    );
    let t = Instant::now();
    let n0 = start(&mut lab, 0, joiner, &instance(&vip, 150, extra));
    let mut took_over = None;
    let end = Instant::now() + limit;
    while Instant::now() < end {
        let (h0, h1) = (lab.holds(0, &vip), lab.holds(1, &vip));
        if h0 && !h1 {
            took_over = Some(t.elapsed());
            break;
        }
        if extra.contains("nopreempt") {
            assert!(
                !h0 && h1,
                "{incumbent:?}+{joiner:?} nopreempt: node 0 holds {h0}, node 1 holds {h1}\n{}",
                logs(&lab, &[&n0, &n1])
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    match took_over {
        Some(d) => (true, d),
        None => (false, t.elapsed()),
    }
}

fn preempt(incumbent: Impl, joiner: Impl) {
    let (took_over, after) = join(incumbent, joiner, "");
    assert!(
        took_over,
        "{incumbent:?} master, {joiner:?} with higher priority joins: no preemption within 7 s"
    );
    eprintln!(
        "FIGURE incumbent={} joiner={} preempt={:.2}s",
        incumbent.short(),
        joiner.short(),
        after.as_secs_f64()
    );
}

/// `preempt_delay 5`: the higher-priority joiner lets the lower master keep the address for
/// the delay (keepalived counts it from the joiner's start), then takes over.
fn preempt_delay(incumbent: Impl, joiner: Impl) {
    let (took_over, after) = join_within(
        incumbent,
        joiner,
        "    preempt_delay 5\n",
        Duration::from_secs(14),
    );
    assert!(
        took_over,
        "{incumbent:?} master, {joiner:?} with higher priority and preempt_delay 5: no takeover within 14 s"
    );
    // Without the delay the joiner preempts after Master_Down_Interval (3.4-3.6 s here).
    assert!(
        after >= Duration::from_millis(4500),
        "{incumbent:?}+{joiner:?}: preempt_delay 5 but the joiner took over after {after:?}"
    );
    eprintln!(
        "FIGURE incumbent={} joiner={} preempt_delay5={:.2}s",
        incumbent.short(),
        joiner.short(),
        after.as_secs_f64()
    );
}

fn nopreempt(incumbent: Impl, joiner: Impl) {
    let (took_over, _) = join(incumbent, joiner, "    nopreempt\n");
    assert!(
        !took_over,
        "{incumbent:?} master, {joiner:?} with higher priority and nopreempt took over"
    );
}

/// Node 0 and node 1 with different passwords: keepalived discards an advertisement whose
/// authentication does not match, so each one hears no master and both hold the address
/// (a split brain it logs); rsproxy must do the same, not elect across the mismatch.
fn auth_mismatch(a: Impl, b: Impl) {
    let mut lab = Lab::new(2).unwrap();
    let vip = lab.vip();
    let n0 = start(&mut lab, 0, a, &instance(&vip, 150, ""));
    let other = instance(&vip, 100, "").replace("secret12", "other123");
    let n1 = start(&mut lab, 1, b, &other);
    let both = wait_for(ELECTION_LIMIT, || lab.holds(0, &vip) && lab.holds(1, &vip));
    assert!(
        both.is_some(),
        "{a:?}+{b:?} with different passwords: node 0 holds {}, node 1 holds {}\n{}",
        lab.holds(0, &vip),
        lab.holds(1, &vip),
        logs(&lab, &[&n0, &n1])
    );
    // And it lasts: neither backs down.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        lab.holds(0, &vip) && lab.holds(1, &vip),
        "{a:?}+{b:?}: one backed down"
    );
}

/// Both nodes track a script (`test -e FLAG`, weight -60): node 0 (150) is master; its flag
/// removed, it drops to 90 and node 1 (100) takes the address; the flag back, node 0 takes
/// it back. Both moves within 8 s (one script interval, then Master_Down_Interval).
fn track_script(a: Impl, b: Impl) {
    let mut lab = Lab::new(2).unwrap();
    let vip = lab.vip();
    let dir = lab.dir.clone();
    let flag = |i: usize| dir.join(format!("n{i}.ok"));
    let conf = |i: usize, priority: u8| {
        let inst = instance(&vip, priority, "    track_script {\n        chk\n    }\n");
        format!(
            "global_defs {{\n    enable_script_security\n    script_user root\n}}\nvrrp_script chk {{\n    \
             script \"/usr/bin/test -e {}\"\n    interval 1\n    weight -60\n}}\n{inst}",
            flag(i).display()
        )
    };
    std::fs::write(flag(0), "").unwrap();
    std::fs::write(flag(1), "").unwrap();
    let (c0, c1) = (conf(0, 150), conf(1, 100));
    let n0 = start(&mut lab, 0, a, &c0);
    let n1 = start(&mut lab, 1, b, &c1);
    assert!(
        wait_for(ELECTION_LIMIT, || lab.holds(0, &vip) && !lab.holds(1, &vip)).is_some(),
        "{a:?}+{b:?}: node 0 not elected\n{}",
        logs(&lab, &[&n0, &n1])
    );
    std::fs::remove_file(flag(0)).unwrap();
    let t = Instant::now();
    let moved = wait_for(Duration::from_secs(8), || {
        lab.holds(1, &vip) && !lab.holds(0, &vip)
    });
    assert!(
        moved.is_some(),
        "{a:?}+{b:?}: node 0's script failing did not move {vip} to node 1\n{}",
        logs(&lab, &[&n0, &n1])
    );
    let away = t.elapsed();
    std::fs::write(flag(0), "").unwrap();
    let t = Instant::now();
    let back = wait_for(Duration::from_secs(8), || {
        lab.holds(0, &vip) && !lab.holds(1, &vip)
    });
    assert!(
        back.is_some(),
        "{a:?}+{b:?}: node 0's script recovering did not bring {vip} back\n{}",
        logs(&lab, &[&n0, &n1])
    );
    eprintln!(
        "FIGURE pair={}+{} script_fail_move={:.2}s script_recover_move={:.2}s",
        a.short(),
        b.short(),
        away.as_secs_f64(),
        t.elapsed().as_secs_f64()
    );
}

/// The notify scripts node 0 ran through an election and a SIGTERM, with node 1 run by
/// keepalived: (its state scripts' lines, `notify`'s lines), in order.
fn notify_events(which: Impl) -> (Vec<String>, Vec<String>) {
    let mut lab = Lab::new(2).unwrap();
    let vip = lab.vip();
    let dir = lab.dir.clone();
    let script = dir.join("event.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nfile=$1\nshift\necho \"$*\" >> \"$file\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (own, any) = (dir.join("own.log"), dir.join("any.log"));
    let (s, o, a) = (script.display(), own.display(), any.display());
    let notify = format!(
        "    notify_master \"{s} {o} master\"\n    notify_backup \"{s} {o} backup\"\n    \
         notify_fault \"{s} {o} fault\"\n    notify_stop \"{s} {o} stop\"\n    notify \"{s} {a}\"\n"
    );
    let n0 = start(&mut lab, 0, which, &instance(&vip, 150, &notify));
    let n1 = start(&mut lab, 1, Ka, &instance(&vip, 100, ""));
    assert!(
        wait_for(ELECTION_LIMIT, || lab.holds(0, &vip) && !lab.holds(1, &vip)).is_some(),
        "{which:?}: node 0 not elected\n{}",
        logs(&lab, &[&n0, &n1])
    );
    signal(n0.pid, "TERM");
    let ns0 = lab.nodes[0].clone();
    assert!(
        lab.wait_empty(&ns0, Duration::from_secs(5)),
        "node 0 did not stop"
    );
    let read = |p: &PathBuf| -> Vec<String> {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    };
    // The last script may still be writing.
    let _ = wait_for(Duration::from_secs(2), || read(&any).len() >= 3);
    std::thread::sleep(Duration::from_millis(200));
    (read(&own), read(&any))
}

fn notify_scripts_match_keepalived() {
    let ka = notify_events(Ka);
    let rs = notify_events(Rs);
    assert_eq!(
        ka.0,
        ["backup", "master", "stop"],
        "keepalived's own sequence"
    );
    assert_eq!(
        ka, rs,
        "keepalived (left) and rsproxy (right) ran different notify scripts"
    );
}

#[test]
fn notify_scripts_run_as_keepalived_runs_them() {
    skip_unless_able!([Ka, Rs]);
    notify_scripts_match_keepalived();
}

/// Node 0's interface goes down: it enters FAULT and drops the address, node 1 takes it;
/// the interface back up, node 0 (higher priority) takes it back.
fn link_down(a: Impl, b: Impl) {
    let mut lab = Lab::new(2).unwrap();
    let vip = lab.vip();
    let (n0, n1, _) = elect(&mut lab, a, b, false);
    let ns0 = lab.nodes[0].clone();
    netns::ip(&["-n", &ns0, "link", "set", "eth0", "down"]).unwrap();
    let t = Instant::now();
    assert!(
        wait_for(Duration::from_secs(8), || lab.holds(1, &vip)
            && !lab.holds(0, &vip))
        .is_some(),
        "{a:?}+{b:?}: node 0's link down did not move {vip} to node 1\n{}",
        logs(&lab, &[&n0, &n1])
    );
    let away = t.elapsed();
    netns::ip(&["-n", &ns0, "link", "set", "eth0", "up"]).unwrap();
    let t = Instant::now();
    assert!(
        wait_for(Duration::from_secs(10), || lab.holds(0, &vip)
            && !lab.holds(1, &vip))
        .is_some(),
        "{a:?}+{b:?}: node 0's link up did not bring {vip} back\n{}",
        logs(&lab, &[&n0, &n1])
    );
    eprintln!(
        "FIGURE pair={}+{} link_down_move={:.2}s link_up_move={:.2}s",
        a.short(),
        b.short(),
        away.as_secs_f64(),
        t.elapsed().as_secs_f64()
    );
}

/// The floating address removed by hand from the master (node 0) comes back at once (and
/// node 1 does not take it).
fn vip_removed_by_hand(a: Impl, b: Impl) {
    let mut lab = Lab::new(2).unwrap();
    let vip = lab.vip();
    let (n0, n1, _) = elect(&mut lab, a, b, false);
    let ns0 = lab.nodes[0].clone();
    netns::ip(&[
        "-n",
        &ns0,
        "addr",
        "del",
        &format!("{vip}/24"),
        "dev",
        "eth0",
    ])
    .unwrap();
    let t = Instant::now();
    assert!(
        wait_for(Duration::from_secs(3), || lab.holds(0, &vip)).is_some(),
        "{a:?}+{b:?}: {vip} removed from node 0 was not restored within 3 s\n{}",
        logs(&lab, &[&n0, &n1])
    );
    let back = t.elapsed();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        lab.holds(0, &vip) && !lab.holds(1, &vip),
        "{a:?}+{b:?}: after the restore, node 0 holds {}, node 1 holds {}",
        lab.holds(0, &vip),
        lab.holds(1, &vip)
    );
    eprintln!(
        "FIGURE pair={}+{} vip_restored_after={:.3}s",
        a.short(),
        b.short(),
        back.as_secs_f64()
    );
}

#[test]
fn a_floating_address_removed_by_hand_comes_back() {
    for_pairs(vip_removed_by_hand, &[(Ka, Ka), (Rs, Ka)]);
}

/// One HAProxy config per node: a listener on the floating address answering its name.
fn web_config(vip: &str, node: usize) -> String {
    format!(
        "global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 2s\n    \
         timeout client 5s\n    timeout server 5s\nlisten www\n    bind {vip}:8080\n    \
         http-request return status 200 content-type text/plain string \"node{node}\"\n"
    )
}

/// The load balancers serve HTTP on the floating address: rsproxy as one process
/// (`-c haproxy.cfg -k keepalived.conf`), or keepalived + haproxy. A client in the bridge
/// namespace sends a request every ~20 ms while node 0 is stopped gracefully (SIGTERM to
/// rsproxy; to keepalived alone, haproxy keeps running as in a keepalived restart). Both
/// nodes must have answered, node 1 last; the requests lost are printed.
fn serve_through_failover(which: Impl, _same: Impl) {
    serve_through(which, false)
}

/// The same, node 0 killed (every process frozen then SIGKILLed): the requests lost until
/// Master_Down_Interval has passed are printed.
fn serve_through_hard_failover(which: Impl, _same: Impl) {
    serve_through(which, true)
}

fn serve_through(which: Impl, hard: bool) {
    let mut lab = Lab::new(2).unwrap();
    let vip = lab.vip();
    let mut nodes = Vec::new();
    for (i, priority) in [(0usize, 150u8), (1, 100)] {
        let k = lab
            .write(&format!("k{i}.conf"), &instance(&vip, priority, ""))
            .unwrap();
        let h = lab
            .write(&format!("h{i}.cfg"), &web_config(&vip, i))
            .unwrap();
        let (k, h) = (
            k.to_string_lossy().to_string(),
            h.to_string_lossy().to_string(),
        );
        let ns = lab.nodes[i].clone();
        let log = format!("n{i}-{}.log", which.short());
        let pid = match which {
            Rs => lab
                .spawn(
                    &ns,
                    &Proxy::rsproxy_bin(),
                    &["-db", "-c", &h, "-k", &k],
                    &log,
                )
                .unwrap(),
            Ka => {
                // haproxy binds the floating address before holding it, as rsproxy does
                // with IP_FREEBIND (this sysctl is the namespace's own).
                netns::ip(&[
                    "netns",
                    "exec",
                    &ns,
                    "sysctl",
                    "-qw",
                    "net.ipv4.ip_nonlocal_bind=1",
                ])
                .unwrap();
                lab.spawn(
                    &ns,
                    &PathBuf::from("haproxy"),
                    &["-db", "-f", &h],
                    &format!("h{i}.log"),
                )
                .unwrap();
                let d = lab.dir.clone();
                let f = |x: &str| d.join(format!("n{i}.{x}")).to_string_lossy().to_string();
                let (p, r, c) = (f("pid"), f("vrrp.pid"), f("check.pid"));
                lab.spawn(
                    &ns,
                    &PathBuf::from("keepalived"),
                    &["-n", "-l", "-P", "-f", &k, "-p", &p, "-r", &r, "-c", &c],
                    &log,
                )
                .unwrap()
            }
        };
        nodes.push(Node { which, pid, log });
    }
    assert!(
        wait_for(ELECTION_LIMIT, || lab.holds(0, &vip) && !lab.holds(1, &vip)).is_some(),
        "{which:?}: node 0 not elected\n{}",
        logs(&lab, &[&nodes[0], &nodes[1]])
    );
    let client = format!(
        "for i in $(seq 1 {}); do \
           r=$(timeout 0.5 bash -c 'exec 3<>/dev/tcp/{vip}/8080 && printf \"GET / HTTP/1.0\\r\\n\\r\\n\" >&3 && cat <&3' 2>/dev/null | tail -c 5); \
           echo \"${{r:-FAIL}}\"; sleep 0.02; done",
        if hard { 140 } else { 70 }
    );
    let bridge = lab.bridge.clone();
    let mut child = lab
        .spawn_piped(&bridge, &PathBuf::from("bash"), &["-c", &client])
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    if hard {
        let ns0 = lab.nodes[0].clone();
        lab.signal_all(&ns0, "STOP");
        lab.signal_all(&ns0, "KILL");
    } else {
        signal(nodes[0].pid, "TERM");
    }
    let out = BufReader::new(child.stdout.take().unwrap());
    let answers: Vec<String> = out.lines().map_while(Result::ok).collect();
    let _ = child.wait();
    let lost = answers.iter().filter(|a| *a == "FAIL").count();
    assert!(
        answers.iter().any(|a| a == "node0") && answers.last().map(String::as_str) == Some("node1"),
        "{which:?}: answers {answers:?}\n{}",
        logs(&lab, &[&nodes[0], &nodes[1]])
    );
    eprintln!(
        "FIGURE one-process={} {} requests={} lost={lost}",
        match which {
            Rs => "rsproxy",
            Ka => "keepalived+haproxy",
        },
        if hard { "hard" } else { "graceful" },
        answers.len()
    );
}

/// Stops one thread of another process (not its siblings) until the returned sender is
/// dropped: ptrace's SEIZE + INTERRUPT, a ptrace-stop of that thread alone, without the
/// group stop SIGSTOP would cause. The tracer thread detaches when told, or after 60 s.
fn freeze_thread(tid: i32) -> std::sync::mpsc::Sender<()> {
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (ready, frozen) = std::sync::mpsc::channel::<Result<(), String>>();
    std::thread::spawn(move || {
        const PTRACE_SEIZE: libc::c_uint = 0x4206;
        const PTRACE_INTERRUPT: libc::c_uint = 0x4207;
        let fail = |what: &str| Err(format!("{what} {tid}: {}", std::io::Error::last_os_error()));
        // SAFETY: plain syscalls on a thread id; no memory is shared with the tracee.
        let seized = unsafe { libc::ptrace(PTRACE_SEIZE, tid, 0usize, 0usize) };
        if seized != 0 {
            let _ = ready.send(fail("PTRACE_SEIZE"));
            return;
        }
        // SAFETY: as above.
        let interrupted = unsafe { libc::ptrace(PTRACE_INTERRUPT, tid, 0usize, 0usize) };
        if interrupted != 0 {
            let _ = ready.send(fail("PTRACE_INTERRUPT"));
            return;
        }
        let mut status = 0;
        // SAFETY: waits for the traced thread's stop; `status` is a local.
        unsafe { libc::waitpid(tid, &mut status, libc::__WALL) };
        let _ = ready.send(Ok(()));
        let _ = released.recv_timeout(Duration::from_secs(60));
        // SAFETY: as above.
        unsafe { libc::ptrace(libc::PTRACE_DETACH, tid, 0usize, 0usize) };
    });
    match frozen.recv_timeout(Duration::from_secs(5)) {
        Ok(Ok(())) => release,
        Ok(Err(e)) => panic!("cannot freeze thread {tid}: {e}"),
        Err(_) => panic!("freezing thread {tid} timed out"),
    }
}

/// The ids of the threads of `pid` (or of its children: `ip netns exec` may fork) whose
/// name is one of `names`.
fn threads_named(pid: u32, names: &[&str]) -> Vec<i32> {
    let mut pids = vec![pid.to_string()];
    if let Ok(children) = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
        pids.extend(children.split_whitespace().map(str::to_string));
    }
    let mut found = Vec::new();
    for p in pids {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
            if names.contains(&comm.trim()) {
                if let Some(tid) = t.file_name().to_str().and_then(|x| x.parse().ok()) {
                    found.push(tid);
                }
            }
        }
    }
    found
}

/// Fate sharing (`rsproxy -c -k`, one process): node 0's proxy threads are wedged (frozen
/// by ptrace; its VRRP threads and the process itself live on, so `killall -0` would still
/// say all is well). Node 0 must give the floating address up and node 1 take it; once
/// the proxy runs again, node 0 (higher priority, preempting) takes it back and serves.
#[test]
fn a_wedged_proxy_gives_the_floating_address_up() {
    if let Some(why) = skip(&[Rs]) {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let mut lab = Lab::new(2).unwrap();
    let vip = lab.vip();
    let mut nodes = Vec::new();
    for (i, priority) in [(0usize, 150u8), (1, 100)] {
        let k = lab
            .write(&format!("k{i}.conf"), &instance(&vip, priority, ""))
            .unwrap();
        let h = lab
            .write(&format!("h{i}.cfg"), &web_config(&vip, i))
            .unwrap();
        let (k, h) = (
            k.to_string_lossy().to_string(),
            h.to_string_lossy().to_string(),
        );
        let ns = lab.nodes[i].clone();
        let log = format!("n{i}-rsproxy.log");
        let pid = lab
            .spawn(
                &ns,
                &Proxy::rsproxy_bin(),
                &["-db", "-c", &h, "-k", &k],
                &log,
            )
            .unwrap();
        nodes.push(Node {
            which: Rs,
            pid,
            log,
        });
    }
    let get = |lab: &Lab| {
        let script = format!(
            "timeout 1 bash -c 'exec 3<>/dev/tcp/{vip}/8080 && printf \"GET / HTTP/1.0\\r\\n\\r\\n\" >&3 && cat <&3' 2>/dev/null | tail -c 5"
        );
        netns::ip(&["netns", "exec", &lab.bridge, "bash", "-c", &script]).unwrap_or_default()
    };
    assert!(
        wait_for(ELECTION_LIMIT, || lab.holds(0, &vip) && !lab.holds(1, &vip)).is_some(),
        "node 0 not elected\n{}",
        logs(&lab, &[&nodes[0], &nodes[1]])
    );
    assert_eq!(get(&lab).trim(), "node0");
    // The proxy's threads (`rsproxy-worker`: one with `nbthread 1`, a pool otherwise; here
    // the default, one per CPU). All are frozen, as a deadlock or a stuck syscall would do.
    let workers = threads_named(nodes[0].pid, &["rsproxy-worker"]);
    assert!(
        !workers.is_empty(),
        "no proxy thread found in {}: {:?}",
        nodes[0].pid,
        std::fs::read_dir(format!("/proc/{}/task", nodes[0].pid)).map(|d| d
            .flatten()
            .map(|t| std::fs::read_to_string(t.path().join("comm")).unwrap_or_default())
            .collect::<Vec<_>>())
    );
    let t0 = Instant::now();
    let release: Vec<_> = workers.into_iter().map(freeze_thread).collect();
    let moved = wait_for(Duration::from_secs(10), || {
        !lab.holds(0, &vip) && lab.holds(1, &vip)
    });
    assert!(
        moved.is_some(),
        "the wedged node kept the floating address\n{}",
        logs(&lab, &[&nodes[0], &nodes[1]])
    );
    eprintln!("FIGURE wedged-proxy failover={:?}", t0.elapsed());
    assert_eq!(get(&lab).trim(), "node1", "the client is served by node 1");
    assert!(
        lab.log(&nodes[0].log)
            .contains("data plane stopped serving"),
        "node 0 says why it gave the address up\n{}",
        lab.log(&nodes[0].log)
    );
    drop(release);
    let back = wait_for(Duration::from_secs(10), || {
        lab.holds(0, &vip) && !lab.holds(1, &vip)
    });
    assert!(
        back.is_some(),
        "node 0 did not take the address back once its proxy ran again\n{}",
        logs(&lab, &[&nodes[0], &nodes[1]])
    );
    assert!(
        wait_for(Duration::from_secs(3), || get(&lab).trim() == "node0").is_some(),
        "node 0 serves again"
    );
}

#[test]
fn http_on_the_floating_address_through_a_graceful_failover() {
    if Command::new("haproxy").arg("-v").output().is_err() {
        eprintln!("SKIPPED: haproxy is not installed");
        return;
    }
    for_pairs(serve_through_failover, &[(Rs, Rs), (Ka, Ka)]);
}

#[test]
fn http_on_the_floating_address_through_a_hard_failover() {
    if Command::new("haproxy").arg("-v").output().is_err() {
        eprintln!("SKIPPED: haproxy is not installed");
        return;
    }
    for_pairs(serve_through_hard_failover, &[(Rs, Rs), (Ka, Ka)]);
}

/// The seed's own files (examples/seed-000-webfarm), verbatim: LB1 (priority 101) on node 0,
/// LB2 (100) on node 1, both tracking `killall -0 haproxy` (weight 2, the same result on
/// both nodes). LB1 holds 192.0.2.100; stopped, LB2 takes it.
fn seed_000(a: Impl, b: Impl) {
    let mut lab = Lab::new(2).unwrap();
    let vip = "192.0.2.100";
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/seed-000-webfarm");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let (c0, c1) = (read("keepalived-lb1.conf"), read("keepalived-lb2.conf"));
    let n0 = start(&mut lab, 0, a, &c0);
    let n1 = start(&mut lab, 1, b, &c1);
    assert!(
        wait_for(ELECTION_LIMIT, || lab.holds(0, vip) && !lab.holds(1, vip)).is_some(),
        "{a:?}+{b:?}: LB1 does not hold {vip} alone\n{}",
        logs(&lab, &[&n0, &n1])
    );
    signal(n0.pid, "TERM");
    assert!(
        wait_for(Duration::from_secs(5), || lab.holds(1, vip)
            && !lab.holds(0, vip))
        .is_some(),
        "{a:?}+{b:?}: LB2 did not take {vip} over\n{}",
        logs(&lab, &[&n0, &n1])
    );
}

#[test]
fn seed_000_files_elect_and_fail_over() {
    if Command::new("killall").arg("-V").output().is_err() {
        eprintln!("SKIPPED: killall (psmisc) is not installed");
        return;
    }
    for_pairs(seed_000, &FOUR);
}

/// IPv6 (VRRPv3 over IPv6, ff02::12, advertised from the link-local address): node 0
/// (priority 150) holds the floating address alone; stopped, node 1 takes it and its
/// unsolicited neighbour advertisement updates a client's neighbour entry.
fn ipv6_graceful(a: Impl, b: Impl) {
    let mut lab = Lab::new(2).unwrap();
    let prefix = format!(
        "fd00:{:x}:{:x}",
        std::process::id() % 0xffff,
        lab.net.len() * 7919 % 0xffff
    );
    let vip = format!("{prefix}::100");
    let conf = |priority: u8| {
        format!(
            "vrrp_instance VI_6 {{\n    interface eth0\n    state BACKUP\n    virtual_router_id 61\n    \
             priority {priority}\n    advert_int 1\n    virtual_ipaddress {{\n        {vip}/64\n    }}\n}}\n"
        )
    };
    // A client in the bridge namespace, on the floating address' network.
    netns::ip(&[
        "-n",
        &lab.bridge,
        "addr",
        "add",
        &format!("{prefix}::254/64"),
        "dev",
        "br0",
    ])
    .unwrap();
    let t0 = Instant::now();
    let n0 = start(&mut lab, 0, a, &conf(150));
    let n1 = start(&mut lab, 1, b, &conf(100));
    assert!(
        wait_for(ELECTION_LIMIT, || lab.holds(0, &vip) && !lab.holds(1, &vip)).is_some(),
        "{a:?}+{b:?}: node 0 does not hold {vip} alone\n{}",
        logs(&lab, &[&n0, &n1])
    );
    let elect = t0.elapsed();
    let _ = Command::new("ip")
        .args(["netns", "exec", &lab.bridge, "bash", "-c"])
        .arg(format!("echo hello > /dev/udp/{vip}/9"))
        .output();
    let mac0 = mac(&lab, 0);
    assert!(
        wait_for(Duration::from_secs(2), || neighbour(&lab, &vip).as_deref()
            == Some(&mac0))
        .is_some(),
        "client's entry for {vip} before failover: {:?}, not node 0's {mac0}",
        neighbour(&lab, &vip)
    );
    let t = Instant::now();
    signal(n0.pid, "TERM");
    assert!(
        wait_for(Duration::from_secs(5), || lab.holds(1, &vip)
            && !lab.holds(0, &vip))
        .is_some(),
        "{a:?}+{b:?}: node 1 did not take {vip} over\n{}",
        logs(&lab, &[&n0, &n1])
    );
    let failover = t.elapsed();
    let mac1 = mac(&lab, 1);
    assert!(
        wait_for(Duration::from_secs(2), || neighbour(&lab, &vip).as_deref()
            == Some(&mac1))
        .is_some(),
        "{a:?}+{b:?}: the client's entry for {vip} is {:?}, not node 1's {mac1}",
        neighbour(&lab, &vip)
    );
    eprintln!(
        "FIGURE pair={}+{} ipv6 elect={:.2}s graceful_failover={:.3}s",
        a.short(),
        b.short(),
        elect.as_secs_f64(),
        failover.as_secs_f64()
    );
}

#[test]
fn ipv6_election_and_graceful_failover() {
    for_pairs(ipv6_graceful, &FOUR);
}

/// Both nodes track a file (`track_file`, weight 1): node 0 (150) is master; `-60` written
/// to its file, it drops to 90 and node 1 (100) takes the address; `0` written, it takes it
/// back.
fn track_file(a: Impl, b: Impl) {
    let mut lab = Lab::new(2).unwrap();
    let vip = lab.vip();
    let dir = lab.dir.clone();
    let file = |i: usize| dir.join(format!("n{i}.val"));
    let conf = |i: usize, priority: u8| {
        let inst = instance(&vip, priority, "    track_file {\n        tf\n    }\n");
        format!(
            "track_file tf {{\n    file \"{}\"\n    weight 1\n}}\n{inst}",
            file(i).display()
        )
    };
    std::fs::write(file(0), "0\n").unwrap();
    std::fs::write(file(1), "0\n").unwrap();
    let (c0, c1) = (conf(0, 150), conf(1, 100));
    let n0 = start(&mut lab, 0, a, &c0);
    let n1 = start(&mut lab, 1, b, &c1);
    assert!(
        wait_for(ELECTION_LIMIT, || lab.holds(0, &vip) && !lab.holds(1, &vip)).is_some(),
        "{a:?}+{b:?}: node 0 not elected\n{}",
        logs(&lab, &[&n0, &n1])
    );
    std::fs::write(file(0), "-60\n").unwrap();
    let t = Instant::now();
    assert!(
        wait_for(Duration::from_secs(8), || lab.holds(1, &vip)
            && !lab.holds(0, &vip))
        .is_some(),
        "{a:?}+{b:?}: -60 in node 0's file did not move {vip} to node 1\n{}",
        logs(&lab, &[&n0, &n1])
    );
    let away = t.elapsed();
    std::fs::write(file(0), "0\n").unwrap();
    let t = Instant::now();
    assert!(
        wait_for(Duration::from_secs(8), || lab.holds(0, &vip)
            && !lab.holds(1, &vip))
        .is_some(),
        "{a:?}+{b:?}: 0 in node 0's file did not bring {vip} back\n{}",
        logs(&lab, &[&n0, &n1])
    );
    eprintln!(
        "FIGURE pair={}+{} file_fail_move={:.2}s file_recover_move={:.2}s",
        a.short(),
        b.short(),
        away.as_secs_f64(),
        t.elapsed().as_secs_f64()
    );
}

#[test]
fn track_file_moves_the_address() {
    for_pairs(track_file, &FOUR);
}

/// `virtual_routes`: the master has the route, the backup not; after a graceful failover
/// the other way round.
fn virtual_routes(a: Impl, b: Impl) {
    let mut lab = Lab::new(2).unwrap();
    let vip = lab.vip();
    let extra = format!(
        "    virtual_routes {{\n        198.51.100.0/24 via {}.254 dev eth0\n    }}\n",
        lab.net
    );
    let has_route = |lab: &Lab, i: usize| {
        netns::ip(&["-n", &lab.nodes[i], "route", "show", "198.51.100.0/24"])
            .is_ok_and(|o| o.contains("198.51.100.0/24"))
    };
    let n0 = start(&mut lab, 0, a, &instance(&vip, 150, &extra));
    let n1 = start(&mut lab, 1, b, &instance(&vip, 100, &extra));
    assert!(
        wait_for(ELECTION_LIMIT, || lab.holds(0, &vip)
            && has_route(&lab, 0)
            && !has_route(&lab, 1))
        .is_some(),
        "{a:?}+{b:?}: node 0 is not master with the route alone\n{}",
        logs(&lab, &[&n0, &n1])
    );
    signal(n0.pid, "TERM");
    assert!(
        wait_for(Duration::from_secs(5), || has_route(&lab, 1)
            && !has_route(&lab, 0))
        .is_some(),
        "{a:?}+{b:?}: the route did not move to node 1\n{}",
        logs(&lab, &[&n0, &n1])
    );
}

#[test]
fn virtual_routes_follow_the_master() {
    for_pairs(virtual_routes, &FOUR);
}

/// `vrrp_sync_group G { group { VI_1 VI_2 } }` on both nodes, node 0 at 150 for both, node 1
/// at 100; VI_1 of node 0 tracks a file. `-60` in it: node 0's VI_1 drops to 90 and goes
/// BACKUP, and its group takes VI_2 along, so node 1 ends up with both addresses; `0`
/// again: node 0 takes both back.
fn sync_group(a: Impl, b: Impl) {
    let mut lab = Lab::new(2).unwrap();
    let (vip1, vip2) = (lab.vip(), format!("{}.101", lab.net));
    let dir = lab.dir.clone();
    let file = |i: usize| dir.join(format!("n{i}.val"));
    let conf = |i: usize, priority: u8| {
        let inst = |name: &str, vrid: u8, vip: &str, extra: &str| {
            instance(vip, priority, extra)
                .replace("VI_1", name)
                .replace("virtual_router_id 51", &format!("virtual_router_id {vrid}"))
        };
        format!(
            "track_file tf {{\n    file \"{}\"\n    weight 1\n}}\n\
             vrrp_sync_group G {{\n    group {{\n        VI_1\n        VI_2\n    }}\n}}\n{}{}",
            file(i).display(),
            inst("VI_1", 51, &vip1, "    track_file {\n        tf\n    }\n"),
            inst("VI_2", 52, &vip2, "")
        )
    };
    std::fs::write(file(0), "0\n").unwrap();
    std::fs::write(file(1), "0\n").unwrap();
    let (c0, c1) = (conf(0, 150), conf(1, 100));
    let n0 = start(&mut lab, 0, a, &c0);
    let n1 = start(&mut lab, 1, b, &c1);
    let holds_both = |lab: &Lab, i: usize| lab.holds(i, &vip1) && lab.holds(i, &vip2);
    let holds_none = |lab: &Lab, i: usize| !lab.holds(i, &vip1) && !lab.holds(i, &vip2);
    assert!(
        wait_for(ELECTION_LIMIT, || holds_both(&lab, 0)
            && holds_none(&lab, 1))
        .is_some(),
        "{a:?}+{b:?}: node 0 does not hold both addresses alone\n{}",
        logs(&lab, &[&n0, &n1])
    );
    std::fs::write(file(0), "-60\n").unwrap();
    assert!(
        wait_for(Duration::from_secs(12), || holds_both(&lab, 1) && holds_none(&lab, 0))
            .is_some(),
        "{a:?}+{b:?}: node 0's VI_1 at 90 did not move both addresses to node 1: node 0 {:?}, node 1 {:?}\n{}",
        lab.addrs(&lab.nodes[0]),
        lab.addrs(&lab.nodes[1]),
        logs(&lab, &[&n0, &n1])
    );
    // And it stays so (node 0's VI_2, at 150, does not take its address back alone).
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        assert!(
            holds_both(&lab, 1) && holds_none(&lab, 0),
            "{a:?}+{b:?}: the group split: node 0 {:?}, node 1 {:?}\n{}",
            lab.addrs(&lab.nodes[0]),
            lab.addrs(&lab.nodes[1]),
            logs(&lab, &[&n0, &n1])
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::write(file(0), "0\n").unwrap();
    assert!(
        wait_for(Duration::from_secs(12), || holds_both(&lab, 0)
            && holds_none(&lab, 1))
        .is_some(),
        "{a:?}+{b:?}: node 0 did not take both addresses back\n{}",
        logs(&lab, &[&n0, &n1])
    );
}

#[test]
fn sync_group_members_move_together() {
    for_pairs(sync_group, &FOUR);
}

/// Node 0 (rsproxy, 150) tracks a process with a name unique to the test
/// (`vrrp_track_process`, weight -60); node 1 (100) tracks nothing. The process killed,
/// node 1 takes the address; started again, node 0 takes it back. (keepalived 2.2.7 cannot
/// be node 0 here: its proc connector does not work in a network namespace, and it stays in
/// FAULT.)
fn track_process(a: Impl, b: Impl) {
    let mut lab = Lab::new(2).unwrap();
    let vip = lab.vip();
    let name = format!("rz{}", lab.prefix().trim_start_matches("rsv"));
    let exe = lab.dir.join(&name);
    std::fs::copy("/bin/sleep", &exe).unwrap();
    // Killed (by pid) when dropped, on failure too.
    struct Running(std::process::Child);
    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    // (ETXTBSY is retried: a fork in another test thread may briefly hold the copy open.)
    let run = || {
        let mut tries = 0;
        loop {
            match Command::new(&exe).arg("600").spawn() {
                Ok(c) => return Running(c),
                Err(e) if e.raw_os_error() == Some(26) && tries < 100 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("{}: {e}", exe.display()),
            }
        }
    };
    let proc0 = run();
    let c0 = format!(
        "vrrp_track_process p {{\n    process {name}\n    weight -60\n}}\n{}",
        instance(&vip, 150, "    track_process {\n        p\n    }\n")
    );
    let n0 = start(&mut lab, 0, a, &c0);
    let n1 = start(&mut lab, 1, b, &instance(&vip, 100, ""));
    let check = |lab: &Lab, want: usize, what: &str, n0: &Node, n1: &Node| {
        assert!(
            wait_for(Duration::from_secs(10), || lab.holds(want, &vip)
                && !lab.holds(1 - want, &vip))
            .is_some(),
            "{a:?}+{b:?}: {what}: node {want} does not hold {vip} alone\n{}",
            logs(lab, &[n0, n1])
        );
    };
    check(&lab, 0, "process running", &n0, &n1);
    drop(proc0);
    check(&lab, 1, "process killed", &n0, &n1);
    let _again = run();
    check(&lab, 0, "process started again", &n0, &n1);
}

#[test]
fn track_process_moves_the_address() {
    for_pairs(track_process, &[(Rs, Rs), (Rs, Ka)]);
}

/// Runs `scenario` for each pair at once (each in its own lab), then fails with every
/// pair that failed.
fn for_pairs(scenario: fn(Impl, Impl), pairs: &[(Impl, Impl)]) {
    let all: Vec<Impl> = pairs.iter().flat_map(|(a, b)| [*a, *b]).collect();
    if let Some(why) = skip(&all) {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let failed: Vec<String> = std::thread::scope(|s| {
        let runs: Vec<_> = pairs
            .iter()
            .map(|&(a, b)| (a, b, s.spawn(move || scenario(a, b))))
            .collect();
        runs.into_iter()
            .filter_map(|(a, b, h)| {
                let e = h.join().err()?;
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|m| m.to_string()))
                    .unwrap_or_default();
                Some(format!("{a:?}+{b:?}: {msg}"))
            })
            .collect()
    });
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

const FOUR: [(Impl, Impl); 4] = [(Ka, Ka), (Rs, Rs), (Rs, Ka), (Ka, Rs)];

/// Election (node 0, priority 150, holds the address alone), then SIGTERM to it: node 1
/// takes over after Skew_Time and a client's neighbour entry follows.
#[test]
fn election_and_graceful_failover() {
    for_pairs(graceful, &FOUR);
}

#[test]
fn unicast_election_and_graceful_failover() {
    for_pairs(unicast_graceful, &FOUR);
}

/// SIGKILL to the master: node 1 takes over after Master_Down_Interval.
#[test]
fn hard_failover() {
    for_pairs(hard, &FOUR);
}

/// (incumbent, joiner): a higher-priority joiner takes over.
#[test]
fn preemption() {
    for_pairs(preempt, &[(Ka, Rs), (Rs, Ka)]);
}

/// (incumbent, joiner): `preempt_delay` holds the preemption off, in both mixed pairs and
/// with keepalived alone as the reference.
#[test]
fn preempt_delay_holds_preemption_off() {
    for_pairs(preempt_delay, &[(Ka, Ka), (Ka, Rs), (Rs, Ka)]);
}

/// (incumbent, joiner): with `nopreempt` the lower-priority master stays.
#[test]
fn nopreempt_keeps_the_master() {
    for_pairs(nopreempt, &[(Ka, Rs), (Rs, Ka)]);
}

#[test]
fn adverts_with_another_password_are_ignored() {
    for_pairs(auth_mismatch, &[(Ka, Ka), (Ka, Rs), (Rs, Ka)]);
}

#[test]
fn link_down_is_a_fault() {
    for_pairs(link_down, &[(Ka, Ka), (Rs, Rs), (Rs, Ka)]);
}

#[test]
fn track_script_moves_the_address() {
    for_pairs(track_script, &FOUR);
}

/// An advertisement as the bridge namespace receives it.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    ttl: u8,
    tos: u8,
    protocol: u8,
    src: [u8; 4],
    dst: [u8; 4],
    /// The VRRP message, byte for byte.
    vrrp: Vec<u8>,
}

/// The first `count` advertisements node 0 of `lab` sends, run by `which` with `conf`
/// (`VIP` replaced by the lab's floating address); the node is stopped afterwards.
fn adverts(lab: &mut Lab, which: Impl, conf: &str, count: usize) -> Vec<Seen> {
    let listen = PathBuf::from(env!("CARGO_BIN_EXE_vrrp-listen"));
    let br_ip = format!("{}.254", lab.net);
    let bridge = lab.bridge.clone();
    let mut child = lab
        .spawn_piped(
            &bridge,
            &listen,
            &["224.0.0.18", &br_ip, &count.to_string(), "9"],
        )
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    assert_eq!(lines.next().and_then(Result::ok).as_deref(), Some("ready"));
    let conf = conf.replace("VIP", &lab.vip());
    let n0 = start(lab, 0, which, &conf);
    let got: Vec<Vec<u8>> = lines
        .map_while(Result::ok)
        .map(|l| {
            (0..l.len() / 2)
                .filter_map(|i| u8::from_str_radix(&l[2 * i..2 * i + 2], 16).ok())
                .collect()
        })
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    signal(n0.pid, "TERM");
    let ns0 = lab.nodes[0].clone();
    assert!(
        lab.wait_empty(&ns0, Duration::from_secs(5)),
        "{which:?} did not stop"
    );
    assert_eq!(
        got.len(),
        count,
        "{which:?}: {} advertisements seen, {count} expected\n{}",
        got.len(),
        logs(lab, &[&n0])
    );
    got.into_iter()
        .map(|p| {
            let ihl = usize::from(p[0] & 0x0f) * 4;
            Seen {
                ttl: p[8],
                tos: p[1],
                protocol: p[9],
                src: [p[12], p[13], p[14], p[15]],
                dst: [p[16], p[17], p[18], p[19]],
                vrrp: p[ihl..].to_vec(),
            }
        })
        .collect()
}

/// keepalived then rsproxy on the same node with the same `conf`: the same packets.
fn same_adverts(conf: &str) {
    let mut lab = Lab::new(1).unwrap();
    let ka = adverts(&mut lab, Ka, conf, 2);
    let rs = adverts(&mut lab, Rs, conf, 2);
    assert_eq!(ka[0].ttl, 255);
    assert_eq!(ka[0].protocol, 112);
    assert_eq!(ka[0].dst, [224, 0, 0, 18]);
    assert_eq!(
        ka, rs,
        "keepalived (left) and rsproxy (right) advertise differently"
    );
}

#[test]
fn v2_adverts_on_the_wire_equal_keepalived_ones() {
    skip_unless_able!([Ka, Rs]);
    same_adverts(&instance("VIP", 150, "").replace("state BACKUP", "state MASTER"));
}

#[test]
fn v3_adverts_on_the_wire_equal_keepalived_ones() {
    skip_unless_able!([Ka, Rs]);
    let conf = "vrrp_instance VI_1 {\n interface eth0\n state MASTER\n version 3\n virtual_router_id 52\n priority 200\n advert_int 0.5\n virtual_ipaddress {\n  VIP/24\n }\n}\n";
    same_adverts(conf);
}

/// SIGHUP (keepalived's reload signal) does not stop rsproxy: reload is not carried out
/// yet, so it keeps running, still master; SIGTERM then stops it and the address goes.
#[test]
fn sighup_keeps_rsproxy_running() {
    skip_unless_able!([Rs]);
    let mut lab = Lab::new(1).unwrap();
    let vip = lab.vip();
    let n0 = start(&mut lab, 0, Rs, &instance(&vip, 150, ""));
    assert!(
        wait_for(ELECTION_LIMIT, || lab.holds(0, &vip)).is_some(),
        "not master\n{}",
        logs(&lab, &[&n0])
    );
    signal(n0.pid, "HUP");
    std::thread::sleep(Duration::from_millis(1500));
    let ns0 = lab.nodes[0].clone();
    assert!(
        !lab.wait_empty(&ns0, Duration::from_millis(100)),
        "SIGHUP stopped rsproxy"
    );
    assert!(
        lab.holds(0, &vip),
        "SIGHUP dropped {vip}\n{}",
        logs(&lab, &[&n0])
    );
    assert!(lab.log(&n0.log).contains("reload is not carried out yet"));
    signal(n0.pid, "TERM");
    assert!(
        lab.wait_empty(&ns0, Duration::from_secs(5)),
        "SIGTERM did not stop rsproxy"
    );
    assert!(!lab.holds(0, &vip), "{vip} left behind");
}

#[test]
fn keywords_not_carried_out_are_refused_with_their_line() {
    let bin = Proxy::rsproxy_bin();
    if !bin.exists() {
        eprintln!("SKIPPED: {} is not built", bin.display());
        return;
    }
    let dir = std::env::temp_dir().join(format!("rsproxy-vrrp-refuse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("keepalived.conf");
    std::fs::write(
        &conf,
        // (An interface that does not exist: should a keyword below become supported, the
        // run still starts nothing on the host's own interfaces.)
        "vrrp_instance VI_1 {\n    interface rsp-none0\n    state MASTER\n    virtual_router_id 51\n    \
         priority 101\n    virtual_ipaddress {\n        192.0.2.100\n    }\n}\n\
         vrrp_instance VI_2 {\n    interface rsp-none0\n    virtual_router_id 52\n    virtual_ipaddress {\n        192.0.2.101\n    }\n}\n\
         vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n    notify_master /bin/true\n}\n",
    )
    .unwrap();
    let out = Command::new(&bin).arg("-k").arg(&conf).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("keepalived.conf: Line 22) vrrp_sync_group G: `notify_master`"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was started"), "{stderr}");
}

// ---- Gratuitous ARP / NA: what the LAN sees ------------------------------------------

/// Runs `f` on a thread inside network namespace `ns` (the test process itself stays in
/// its own): how the tests capture and inject frames on a lab's bridges.
fn in_netns<T: Send + 'static>(
    ns: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        use std::os::fd::AsRawFd;
        // SAFETY: setns on a valid descriptor; it changes only this thread's namespace.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
        f()
    })
}

/// A gratuitous ARP or unsolicited NA as a client on the LAN sees it.
#[derive(Clone, Debug)]
struct Announce {
    at: Instant,
    /// The bridge it reached.
    dev: String,
    /// The Ethernet source.
    mac: String,
    ip: std::net::IpAddr,
    /// The address as the configuration names it (`VIP`, `VIP2`, or itself).
    name: String,
}

fn mac_str(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Captures, for `secs`, every gratuitous ARP (sender = target address) and unsolicited
/// NA reaching the bridges `devs` of the lab's bridge namespace. Returns once capturing.
fn capture(lab: &Lab, devs: &[&str], secs: f64) -> std::thread::JoinHandle<Vec<Announce>> {
    let devs: Vec<String> = devs.iter().map(|d| d.to_string()).collect();
    let (ready, wait) = std::sync::mpsc::channel();
    let h = in_netns(&lab.bridge, move || {
        let index: Vec<(u32, String)> = devs
            .iter()
            .map(|d| {
                let c = std::ffi::CString::new(d.as_str()).unwrap();
                // SAFETY: a valid C string.
                (unsafe { libc::if_nametoindex(c.as_ptr()) }, d.clone())
            })
            .collect();
        // SAFETY: plain socket calls on a descriptor this thread owns.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW,
                i32::from((libc::ETH_P_ALL as u16).to_be()),
            )
        };
        assert!(
            fd >= 0,
            "packet socket: {}",
            std::io::Error::last_os_error()
        );
        let tv = libc::timeval {
            tv_sec: 0,
            tv_usec: 20_000,
        };
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                &tv as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::timeval>() as u32,
            )
        };
        ready.send(()).unwrap();
        let end = Instant::now() + Duration::from_secs_f64(secs);
        let mut out = Vec::new();
        let mut buf = [0u8; 2048];
        while Instant::now() < end {
            let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            let mut len = std::mem::size_of::<libc::sockaddr_ll>() as u32;
            let n = unsafe {
                libc::recvfrom(
                    fd,
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    0,
                    &mut sll as *mut _ as *mut libc::sockaddr,
                    &mut len,
                )
            };
            if n <= 0 {
                continue;
            }
            let at = Instant::now();
            let Some((_, dev)) = index.iter().find(|(i, _)| *i as i32 == sll.sll_ifindex) else {
                continue;
            };
            let p = &buf[..n as usize];
            if p.len() < 14 {
                continue;
            }
            let ethertype = u16::from_be_bytes([p[12], p[13]]);
            let ip = match ethertype {
                0x0806 if p.len() >= 42 && p[28..32] == p[38..42] => {
                    std::net::IpAddr::from(<[u8; 4]>::try_from(&p[28..32]).unwrap())
                }
                // IPv6, ICMPv6, neighbour advertisement: its target.
                0x86dd if p.len() >= 78 && p[20] == 58 && p[54] == 136 => {
                    std::net::IpAddr::from(<[u8; 16]>::try_from(&p[62..78]).unwrap())
                }
                _ => continue,
            };
            out.push(Announce {
                at,
                dev: dev.clone(),
                mac: mac_str(&p[6..12]),
                ip,
                name: ip.to_string(),
            });
        }
        unsafe { libc::close(fd) };
        out
    });
    wait.recv().unwrap();
    h
}

/// The MAC of `dev` in node `node`.
fn mac_of(lab: &Lab, node: usize, dev: &str) -> String {
    let out = netns::ip(&["-n", &lab.nodes[node], "-o", "link", "show", dev]).unwrap();
    let mut w = out.split_whitespace();
    w.find(|x| *x == "link/ether");
    w.next().unwrap_or_default().to_string()
}

/// `A.B.C` of a second LAN for `lab` (namespaces keep labs apart; distinct anyway).
fn second_net(lab: &Lab) -> String {
    let last = lab.net.rsplit('.').next().unwrap_or("0");
    format!("192.168.{last}")
}

/// `virtual_ipaddress { ADDR dev eth1 }`: the address goes on eth1 of the master (not on
/// eth0, where VRRP runs), moves to the new master on a graceful failover, and the new
/// master's gratuitous ARP on eth1 updates a client of that LAN.
fn vip_on_another_interface(a: Impl, b: Impl) {
    let mut lab = Lab::new(2).unwrap();
    let net2 = second_net(&lab);
    lab.add_lan("eth1", "br1", &net2).unwrap();
    let vip = lab.vip();
    let vip2 = format!("{net2}.100");
    let conf = |prio: u8| {
        instance(&vip, prio, "").replace(
            &format!("{vip}/24\n"),
            &format!("{vip}/24\n        {vip2}/24 dev eth1\n"),
        )
    };
    let n0 = start(&mut lab, 0, a, &conf(150));
    let n1 = start(&mut lab, 1, b, &conf(100));
    let on =
        |lab: &Lab, node: usize, dev: &str| lab.addrs_on(&lab.nodes[node], dev).contains(&vip2);
    assert!(
        wait_for(ELECTION_LIMIT, || on(&lab, 0, "eth1") && lab.holds(0, &vip)).is_some(),
        "{a:?}+{b:?}: node 0 does not hold {vip2} on eth1\n{}",
        logs(&lab, &[&n0, &n1])
    );
    assert!(!on(&lab, 0, "eth0") && !on(&lab, 1, "eth1"));
    let _ = Command::new("ip")
        .args(["netns", "exec", &lab.bridge, "bash", "-c"])
        .arg(format!("echo hello > /dev/udp/{vip2}/9"))
        .output();
    let (m0, m1) = (mac_of(&lab, 0, "eth1"), mac_of(&lab, 1, "eth1"));
    assert!(
        wait_for(Duration::from_secs(2), || neighbour(&lab, &vip2).as_deref()
            == Some(&m0))
        .is_some(),
        "client's entry for {vip2}: {:?}, not node 0's eth1 {m0}",
        neighbour(&lab, &vip2)
    );
    signal(n0.pid, "TERM");
    assert!(
        wait_for(Duration::from_secs(5), || on(&lab, 1, "eth1")
            && !on(&lab, 0, "eth1"))
        .is_some(),
        "{a:?}+{b:?}: {vip2} did not move to node 1's eth1\n{}",
        logs(&lab, &[&n0, &n1])
    );
    assert!(
        wait_for(Duration::from_secs(2), || neighbour(&lab, &vip2).as_deref()
            == Some(&m1))
        .is_some(),
        "{a:?}+{b:?}: the client's entry for {vip2} is {:?}, not node 1's eth1 {m1}",
        neighbour(&lab, &vip2)
    );
}

#[test]
fn virtual_ipaddress_on_another_interface_follows_the_master() {
    for_pairs(vip_on_another_interface, &FOUR);
}

/// The announcements node 0 sends from its start (`conf`, `VIP`/`VIP2`/`NET2` replaced) for
/// `secs`, on br0 and br1 (a second LAN, eth1 in the node), by `which`.
fn announcements(which: Impl, conf: &str, secs: f64) -> (Vec<Announce>, Instant) {
    let mut lab = Lab::new(1).unwrap();
    let net2 = second_net(&lab);
    lab.add_lan("eth1", "br1", &net2).unwrap();
    let conf = conf
        .replace("VIP2", &format!("{net2}.100"))
        .replace("VIP", &lab.vip());
    let cap = capture(&lab, &["br0", "br1"], secs);
    let t0 = Instant::now();
    let n0 = start(&mut lab, 0, which, &conf);
    let mut got = cap.join().unwrap();
    for a in &mut got {
        if a.name == lab.vip() {
            a.name = "VIP".into();
        } else if a.name == format!("{net2}.100") {
            a.name = "VIP2".into();
        }
        let dev = if a.dev == "br0" { "eth0" } else { "eth1" };
        assert_eq!(
            a.mac,
            mac_of(&lab, 0, dev),
            "{which:?}: {a:?} from another MAC"
        );
    }
    assert!(
        lab.holds(0, &lab.vip()),
        "{which:?} is not master\n{}",
        logs(&lab, &[&n0])
    );
    (got, t0)
}

/// Per bridge: the addresses announced in order, and the smallest and largest gap between
/// two announcements of one family there.
fn shape(got: &[Announce]) -> Vec<(String, Vec<String>, Duration, Duration)> {
    let mut out = Vec::new();
    for dev in ["br0", "br1"] {
        for v6 in [false, true] {
            let seq: Vec<&Announce> = got
                .iter()
                .filter(|a| a.dev == dev && a.ip.is_ipv6() == v6)
                .collect();
            if seq.is_empty() {
                continue;
            }
            let gaps: Vec<Duration> = seq.windows(2).map(|w| w[1].at - w[0].at).collect();
            out.push((
                format!("{dev}{}", if v6 { " NA" } else { " ARP" }),
                seq.iter().map(|a| a.name.clone()).collect(),
                gaps.iter().min().copied().unwrap_or_default(),
                gaps.iter().max().copied().unwrap_or_default(),
            ));
        }
    }
    out
}

/// `vrrp_garp_interval` / `vrrp_gna_interval`: rsproxy's bursts (two VIPs on eth0, one on
/// eth1, an excluded IPv6 one on eth0; the first burst and the second `garp_master_delay`
/// later) carry the same addresses in the same order as keepalived's, on the same
/// interfaces, spaced by the interval of their interface and family — as keepalived's are.
/// (keepalived 2.2.7 with an interval: the first address at once, then each address once,
/// whatever `garp_master_repeat` says.)
#[test]
fn garp_and_gna_intervals_space_the_bursts_as_keepalived() {
    skip_unless_able!([Ka, Rs]);
    let conf = "global_defs {\n    vrrp_garp_interval 0.1\n    vrrp_gna_interval 0.15\n}\n\
        vrrp_instance VI_1 {\n    interface eth0\n    state MASTER\n    virtual_router_id 51\n    \
        priority 150\n    advert_int 1\n    garp_master_repeat 3\n    garp_master_delay 2\n    \
        virtual_ipaddress {\n        VIP/24\n        VIP2/24 dev eth1\n        10.9.9.9/24\n    }\n    \
        virtual_ipaddress_excluded {\n        fd00:5::100/64\n    }\n}\n";
    let (ka, ka0) = std::thread::scope(|s| {
        let ka = s.spawn(|| announcements(Ka, conf, 9.0));
        let rs = s.spawn(|| announcements(Rs, conf, 9.0));
        (ka.join().unwrap(), rs.join().unwrap())
    });
    let (ka, rs) = ((ka.0, ka.1), (ka0.0, ka0.1));
    for (name, (got, t0)) in [("keepalived", &ka), ("rsproxy", &rs)] {
        for a in got {
            eprintln!("{name} {:?} {} {} {}", a.at - *t0, a.dev, a.mac, a.ip);
        }
    }
    let (ks, rss) = (shape(&ka.0), shape(&rs.0));
    eprintln!("keepalived: {ks:?}\nrsproxy:    {rss:?}");
    assert!(!ks.is_empty(), "keepalived sent nothing");
    assert_eq!(
        ks.iter().map(|s| (&s.0, &s.1)).collect::<Vec<_>>(),
        rss.iter().map(|s| (&s.0, &s.1)).collect::<Vec<_>>(),
        "keepalived (left) and rsproxy (right) announce differently"
    );
    for (k, r) in ks.iter().zip(&rss) {
        let interval = if k.0.ends_with("NA") { 150 } else { 100 };
        // Never closer than the interval (less scheduling slack), never far slower than
        // keepalived.
        assert!(
            r.2 >= Duration::from_millis(interval - 15),
            "{}: rsproxy's smallest gap {:?}",
            r.0,
            r.2
        );
        assert!(
            r.3 <= k.3.max(Duration::from_millis(interval)) + Duration::from_millis(60),
            "{}: rsproxy's largest gap {:?}, keepalived's {:?}",
            r.0,
            r.3,
            k.3
        );
    }
}

/// A VRRPv2 advertisement for vrid 51, `priority`, advert_int 1, PASS `secret12`, `vip`.
fn v2_advert(priority: u8, vip: std::net::Ipv4Addr) -> Vec<u8> {
    let mut m = vec![0x21, 51, priority, 1, 1, 1, 0, 0];
    m.extend_from_slice(&vip.octets());
    m.extend_from_slice(b"secret12");
    let mut sum: u32 = m
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let ck = !(sum as u16);
    m[6..8].copy_from_slice(&ck.to_be_bytes());
    m
}

/// Node 0 (`which`, priority 150, `extra` in its instance) is master; a router of lower
/// priority (priority 50, from the bridge namespace) advertises once. The times, from that
/// advertisement, of the gratuitous ARPs node 0 sends in the next 3 s.
fn lower_prio_burst(which: Impl, global: &str, extra: &str) -> Vec<Duration> {
    let mut lab = Lab::new(1).unwrap();
    let vip = lab.vip();
    let conf = format!("global_defs {{\n{global}}}\n{}", instance(&vip, 150, extra));
    let n0 = start(&mut lab, 0, which, &conf);
    assert!(
        wait_for(ELECTION_LIMIT, || lab.holds(0, &vip)).is_some(),
        "{which:?} is not master\n{}",
        logs(&lab, &[&n0])
    );
    // Past the bursts of the takeover.
    std::thread::sleep(Duration::from_millis(1500));
    let cap = capture(&lab, &["br0"], 4.0);
    let br_ip: std::net::Ipv4Addr = format!("{}.254", lab.net).parse().unwrap();
    let advert = v2_advert(50, vip.parse().unwrap());
    let sent = in_netns(&lab.bridge, move || {
        use socket2::{Domain, Protocol, Socket, Type};
        let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112))).unwrap();
        s.set_multicast_ttl_v4(255).unwrap();
        s.set_multicast_if_v4(&br_ip).unwrap();
        let dst = std::net::SocketAddrV4::new(std::net::Ipv4Addr::new(224, 0, 0, 18), 0);
        // Before sending: the answer may be captured before send_to returns.
        let at = Instant::now();
        s.send_to(&advert, &dst.into()).unwrap();
        at
    })
    .join()
    .unwrap();
    let got = cap.join().unwrap();
    assert!(
        lab.holds(0, &vip),
        "{which:?} gave {vip} up\n{}",
        logs(&lab, &[&n0])
    );
    got.iter()
        .filter(|a| a.name == vip && a.at >= sent)
        .map(|a| a.at - sent)
        .collect()
}

/// `garp_lower_prio_repeat` / `garp_lower_prio_delay`, and their defaults: the gratuitous
/// ARPs a master sends when a lower-priority advertisement reaches it are as many as
/// keepalived's, at the same times. (keepalived 2.2.7: by default the *global*
/// `vrrp_garp_master_repeat` / `vrrp_garp_master_delay`, 5 and 5 s, not the instance's
/// `garp_master_*`.)
#[test]
fn garp_after_a_lower_priority_advert_as_keepalived() {
    skip_unless_able!([Ka, Rs]);
    for (global, extra) in [
        ("", "    garp_master_repeat 1\n    garp_master_delay 0\n    garp_lower_prio_repeat 2\n    garp_lower_prio_delay 1\n"),
        ("    vrrp_garp_master_repeat 2\n    vrrp_garp_master_delay 2\n", "    garp_master_repeat 3\n    garp_master_delay 1\n"),
        ("    vrrp_garp_lower_prio_repeat 1\n    vrrp_garp_lower_prio_delay 3\n", "    garp_master_repeat 3\n    garp_master_delay 1\n"),
        ("", "    garp_lower_prio_repeat 0\n"),
    ] {
        let extra = &format!("{global}{extra}");
        let (ka, rs) = std::thread::scope(|s| {
            let ka = s.spawn(|| lower_prio_burst(Ka, global, extra.split_at(global.len()).1));
            let rs = s.spawn(|| lower_prio_burst(Rs, global, extra.split_at(global.len()).1));
            (ka.join().unwrap(), rs.join().unwrap())
        });
        eprintln!("{extra:?}\nkeepalived: {ka:?}\nrsproxy:    {rs:?}");
        assert_eq!(ka.len(), rs.len(), "{extra:?}: keepalived {ka:?}, rsproxy {rs:?}");
        for (k, r) in ka.iter().zip(&rs) {
            assert!(
                k.abs_diff(*r) < Duration::from_millis(150),
                "{extra:?}: keepalived {ka:?}, rsproxy {rs:?}"
            );
        }
    }
}

/// What a client of the bridge namespace gets connecting to `ip` port 9 (nothing listens).
fn tcp_probe(lab: &Lab, ip: &str) -> &'static str {
    let out = Command::new("ip")
        .args(["netns", "exec", &lab.bridge, "timeout", "1", "bash", "-c"])
        .arg(format!("</dev/tcp/{ip}/9"))
        .output()
        .unwrap();
    match out.status.code() {
        Some(124) => "dropped",
        Some(1) if String::from_utf8_lossy(&out.stderr).contains("refused") => "refused",
        _ => "other",
    }
}

/// `nft list ruleset` in node `node`, the floating address written `VIP`.
fn ruleset(lab: &Lab, node: usize) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", &lab.nodes[node], "nft", "list", "ruleset"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).replace(&lab.vip(), "VIP")
}

/// Two nodes of `which` with `no_accept` (and an excluded IPv6 address): what the firewall
/// of each holds and what a client gets from the floating address, elected, then after a
/// graceful failover, then once the first is back and has preempted the second.
fn no_accept_views(which: Impl) -> Vec<String> {
    let mut lab = Lab::new(2).unwrap();
    let vip = lab.vip();
    let extra = "    no_accept\n    virtual_ipaddress_excluded {\n        fd00:5::100/64\n    }\n";
    let n0 = start(&mut lab, 0, which, &instance(&vip, 150, extra));
    let n1 = start(&mut lab, 1, which, &instance(&vip, 100, extra));
    assert!(
        wait_for(ELECTION_LIMIT, || lab.holds(0, &vip) && !lab.holds(1, &vip)).is_some(),
        "{which:?}: no election\n{}",
        logs(&lab, &[&n0, &n1])
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut views = vec![
        format!("master's firewall:\n{}", ruleset(&lab, 0)),
        format!("backup's firewall:\n{}", ruleset(&lab, 1)),
        format!("VIP: {}", tcp_probe(&lab, &vip)),
        format!("master's own address: {}", tcp_probe(&lab, &lab.node_ip(0))),
    ];
    signal(n0.pid, "TERM");
    assert!(
        wait_for(Duration::from_secs(5), || lab.holds(1, &vip)).is_some(),
        "{which:?}: no failover\n{}",
        logs(&lab, &[&n0, &n1])
    );
    let ns0 = lab.nodes[0].clone();
    assert!(lab.wait_empty(&ns0, Duration::from_secs(5)));
    std::thread::sleep(Duration::from_millis(300));
    views.push(format!("stopped node's firewall:\n{}", ruleset(&lab, 0)));
    views.push(format!("new master's firewall:\n{}", ruleset(&lab, 1)));
    views.push(format!("VIP after failover: {}", tcp_probe(&lab, &vip)));
    // Node 0 back: it preempts, node 1 is a backup again.
    let n0 = start(&mut lab, 0, which, &instance(&vip, 150, extra));
    assert!(
        wait_for(ELECTION_LIMIT, || lab.holds(0, &vip) && !lab.holds(1, &vip)).is_some(),
        "{which:?}: no preemption\n{}",
        logs(&lab, &[&n0, &n1])
    );
    std::thread::sleep(Duration::from_millis(300));
    views.push(format!(
        "preempted backup's firewall:\n{}",
        ruleset(&lab, 1)
    ));
    views
}

/// `no_accept`: as keepalived 2.2.7 does it, the same nftables table (`keepalived`: a set
/// of the floating addresses, dropped on input and output) holding the addresses on the
/// master only, the table removed at stop, and a client's connection to the floating
/// address dropped while the master's own address answers.
#[test]
fn no_accept_drops_traffic_to_the_floating_address_as_keepalived() {
    skip_unless_able!([Ka, Rs]);
    if Command::new("nft").arg("--version").output().is_err() {
        eprintln!("SKIPPED: nft is not installed");
        return;
    }
    let (ka, rs) = std::thread::scope(|s| {
        let ka = s.spawn(|| no_accept_views(Ka));
        let rs = s.spawn(|| no_accept_views(Rs));
        (ka.join().unwrap(), rs.join().unwrap())
    });
    assert_eq!(ka[2], "VIP: dropped", "{ka:#?}");
    assert_eq!(ka, rs, "keepalived (left) and rsproxy (right) differ");
}

/// `garp_master_refresh` / `garp_master_refresh_repeat`: while MASTER, the refreshes come
/// as many and at the same times (from the first announcement) as keepalived's.
#[test]
fn garp_master_refresh_as_keepalived() {
    skip_unless_able!([Ka, Rs]);
    let conf = "vrrp_instance VI_1 {\n    interface eth0\n    state MASTER\n    virtual_router_id 51\n    \
        priority 150\n    advert_int 1\n    garp_master_repeat 1\n    garp_master_delay 0\n    \
        garp_master_refresh 2\n    garp_master_refresh_repeat 2\n    \
        virtual_ipaddress {\n        VIP/24\n    }\n}\n";
    let (ka, rs) = std::thread::scope(|s| {
        let ka = s.spawn(|| announcements(Ka, conf, 8.8));
        let rs = s.spawn(|| announcements(Rs, conf, 8.8));
        (ka.join().unwrap(), rs.join().unwrap())
    });
    let times = |got: &[Announce]| -> Vec<Duration> {
        let first = got.first().map(|a| a.at).unwrap_or_else(Instant::now);
        got.iter().map(|a| a.at - first).collect()
    };
    let (k, r) = (times(&ka.0), times(&rs.0));
    eprintln!("keepalived: {k:?}\nrsproxy:    {r:?}");
    assert!(k.len() >= 5, "keepalived: {k:?}");
    assert_eq!(k.len(), r.len(), "keepalived {k:?}, rsproxy {r:?}");
    for (a, b) in k.iter().zip(&r) {
        assert!(
            a.abs_diff(*b) < Duration::from_millis(150),
            "keepalived {k:?}, rsproxy {r:?}"
        );
    }
}
