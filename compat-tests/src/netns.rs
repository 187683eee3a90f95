//! Network-namespace labs for the VRRP differential tests.
//!
//! A [`Lab`] is a bridge in a namespace of its own and N node namespaces, each with one veth
//! (`eth0` inside the node) plugged into the bridge, and an IPv4 address from a /24 chosen
//! for the lab. Names carry a prefix unique to the test run (process id + a counter), and
//! no address is ever put on the host's own interfaces: every interface is created directly
//! inside its namespace.
//!
//! Dropping the lab kills every process still running in its namespaces (`ip netns pids`,
//! which also finds keepalived's forked children), deletes the namespaces and the lab's
//! temporary directory — on success and on failure (panics unwind through the drop).
//! Every wait is bounded.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static LAB_SEQ: AtomicU32 = AtomicU32::new(0);

/// Why the labs cannot run here (not root, no `ip netns`), for a skip message.
pub fn unavailable() -> Option<String> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("not running as root (network namespaces need it)".into());
    }
    let probe = format!(
        "rsvprobe{}x{}",
        std::process::id(),
        LAB_SEQ.fetch_add(1, Ordering::SeqCst)
    );
    let ok = Command::new("ip")
        .args(["netns", "add", &probe])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        return Some("`ip netns add` does not work here".into());
    }
    let _ = Command::new("ip").args(["netns", "del", &probe]).status();
    None
}

/// Runs `ip ARGS`, failing with its stderr.
pub fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub struct Lab {
    prefix: String,
    /// `10.X.Y` of the lab's /24.
    pub net: String,
    pub bridge: String,
    pub nodes: Vec<String>,
    pub dir: PathBuf,
    children: Vec<Child>,
}

impl Lab {
    /// A bridge namespace (its `br0` gets `NET.254`) and `n` nodes (`NET.1`..`NET.n`).
    pub fn new(n: usize) -> Result<Lab, String> {
        let seq = LAB_SEQ.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let prefix = format!("rsv{}x{}", pid % 100_000, seq);
        // A /24 per lab inside 10.0.0.0/8, from the pid and the counter.
        let net = format!("10.{}.{}", 100 + (pid % 100), (seq * 7 + pid / 100) % 250);
        let dir = std::env::temp_dir().join(&prefix);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut lab = Lab {
            bridge: format!("{prefix}br"),
            nodes: (1..=n).map(|i| format!("{prefix}n{i}")).collect(),
            prefix,
            net,
            dir,
            children: Vec::new(),
        };
        lab.build()?;
        Ok(lab)
    }

    fn build(&mut self) -> Result<(), String> {
        let br = self.bridge.clone();
        ip(&["netns", "add", &br])?;
        no_dad(&br)?;
        ip(&["-n", &br, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &br, "link", "set", "br0", "up"])?;
        ip(&["-n", &br, "link", "set", "lo", "up"])?;
        let br_addr = format!("{}.254/24", self.net);
        ip(&["-n", &br, "addr", "add", &br_addr, "dev", "br0"])?;
        for (i, node) in self.nodes.clone().iter().enumerate() {
            let port = format!("p{}", i + 1);
            ip(&["netns", "add", node])?;
            no_dad(node)?;
            ip(&[
                "link", "add", "eth0", "netns", node, "type", "veth", "peer", "name", &port,
                "netns", &br,
            ])?;
            ip(&["-n", &br, "link", "set", &port, "master", "br0"])?;
            ip(&["-n", &br, "link", "set", &port, "up"])?;
            let addr = format!("{}.{}/24", self.net, i + 1);
            ip(&["-n", node, "addr", "add", &addr, "dev", "eth0"])?;
            ip(&["-n", node, "link", "set", "eth0", "up"])?;
            ip(&["-n", node, "link", "set", "lo", "up"])?;
        }
        Ok(())
    }

    /// The address of node `i` (0-based).
    pub fn node_ip(&self, i: usize) -> String {
        format!("{}.{}", self.net, i + 1)
    }

    /// A floating address in the lab's /24.
    pub fn vip(&self) -> String {
        format!("{}.100", self.net)
    }

    /// Writes `text` into the lab's directory.
    pub fn write(&self, name: &str, text: &str) -> Result<PathBuf, String> {
        let p = self.dir.join(name);
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
        Ok(p)
    }

    /// Starts `program ARGS` in namespace `ns` (stdout and stderr to `log` in the lab's
    /// directory); the lab kills it at the end if it still runs. Returns its pid.
    pub fn spawn(
        &mut self,
        ns: &str,
        program: &Path,
        args: &[&str],
        log: &str,
    ) -> Result<u32, String> {
        let log_path = self.dir.join(log);
        let out = std::fs::File::create(&log_path).map_err(|e| format!("{log}: {e}"))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("{}: {e}", program.display()))?;
        let pid = child.id();
        self.children.push(child);
        Ok(pid)
    }

    /// Starts a program whose stdout the caller reads.
    pub fn spawn_piped(
        &mut self,
        ns: &str,
        program: &Path,
        args: &[&str],
    ) -> Result<Child, String> {
        Command::new("ip")
            .args(["netns", "exec", ns])
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", program.display()))
    }

    /// Sends `signal` (`TERM`, `KILL`...) to every process in namespace `ns`.
    pub fn signal_all(&self, ns: &str, signal: &str) {
        for pid in pids(ns) {
            let _ = Command::new("kill")
                .args([&format!("-{signal}"), &pid.to_string()])
                .status();
        }
    }

    /// Waits (at most `limit`) until no process runs in `ns`.
    pub fn wait_empty(&mut self, ns: &str, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            self.reap();
            if pids(ns).is_empty() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn reap(&mut self) {
        for c in &mut self.children {
            let _ = c.try_wait();
        }
    }

    /// The IPv4 and IPv6 addresses on `eth0` of `ns`.
    pub fn addrs(&self, ns: &str) -> Vec<String> {
        ip(&["-n", ns, "-o", "addr", "show", "dev", "eth0"])
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let mut words = l.split_whitespace();
                words.find(|w| *w == "inet" || *w == "inet6")?;
                words
                    .next()
                    .map(|a| a.split('/').next().unwrap_or(a).to_string())
            })
            .collect()
    }

    pub fn holds(&self, node: usize, addr: &str) -> bool {
        self.nodes
            .get(node)
            .is_some_and(|ns| self.addrs(ns).iter().any(|a| a == addr))
    }

    /// The log a process wrote (for failure messages).
    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A second LAN: bridge `br` in the bridge namespace (with `NET.254/24`), and in each
    /// node an interface `dev` (`NET.1`.. like `eth0`) plugged into it. `net` is `A.B.C`.
    pub fn add_lan(&self, dev: &str, br: &str, net: &str) -> Result<(), String> {
        let ns = &self.bridge;
        ip(&["-n", ns, "link", "add", br, "type", "bridge"])?;
        ip(&["-n", ns, "link", "set", br, "up"])?;
        ip(&["-n", ns, "addr", "add", &format!("{net}.254/24"), "dev", br])?;
        for (i, node) in self.nodes.iter().enumerate() {
            let port = format!("{br}p{}", i + 1);
            ip(&[
                "link", "add", dev, "netns", node, "type", "veth", "peer", "name", &port, "netns",
                ns,
            ])?;
            ip(&["-n", ns, "link", "set", &port, "master", br])?;
            ip(&["-n", ns, "link", "set", &port, "up"])?;
            ip(&[
                "-n",
                node,
                "addr",
                "add",
                &format!("{net}.{}/24", i + 1),
                "dev",
                dev,
            ])?;
            ip(&["-n", node, "link", "set", dev, "up"])?;
        }
        Ok(())
    }

    /// The IPv4 and IPv6 addresses on `dev` of `ns`.
    pub fn addrs_on(&self, ns: &str, dev: &str) -> Vec<String> {
        ip(&["-n", ns, "-o", "addr", "show", "dev", dev])
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let mut words = l.split_whitespace();
                words.find(|w| *w == "inet" || *w == "inet6")?;
                words
                    .next()
                    .map(|a| a.split('/').next().unwrap_or(a).to_string())
            })
            .collect()
    }
}

/// Polls `cond` every 10 ms until it holds or `limit` passes; how long it took.
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if cond() {
            return Some(start.elapsed());
        }
        if start.elapsed() >= limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// IPv6 addresses of the namespace usable at once (no duplicate address detection), so a
/// test need not wait for link-local addresses. A sysctl of that namespace only.
fn no_dad(ns: &str) -> Result<(), String> {
    for key in [
        "net.ipv6.conf.all.accept_dad=0",
        "net.ipv6.conf.default.accept_dad=0",
    ] {
        ip(&["netns", "exec", ns, "sysctl", "-qw", key])?;
    }
    Ok(())
}

fn pids(ns: &str) -> Vec<u32> {
    ip(&["netns", "pids", ns])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

impl Drop for Lab {
    fn drop(&mut self) {
        let all: Vec<String> = self
            .nodes
            .iter()
            .chain(std::iter::once(&self.bridge))
            .cloned()
            .collect();
        for ns in &all {
            self.signal_all(ns, "KILL");
        }
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in &all {
            let _ = wait_for(Duration::from_secs(2), || pids(ns).is_empty());
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
