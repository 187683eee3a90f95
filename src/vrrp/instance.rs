//! One thread per `vrrp_instance`: it owns the instance's sockets and state machine, feeds
//! the machine received advertisements and timer ticks, and carries out its actions.
//!
//! Everything that can fail because of the machine (no such interface, no IPv4 address on
//! it, a socket refused) fails in [`start`], before any thread runs, with the instance named.
//! Once running, an I/O error is logged and the loop goes on. Each thread runs inside a panic
//! boundary: a panic is logged, the instance's floating addresses are removed, and the rest
//! of the process (the proxy, other instances) carries on.
//!
//! [`Vrrp::stop`] (SIGTERM/SIGINT) makes each master send a priority-0 advertisement and
//! remove its addresses, then joins the threads.

use super::config::{InstancePlan, VrrpPlan};
use super::fsm::{self, Action, Event, Instance, State};
use super::garp::Announcer;
use super::net::{self, VrrpSocket};
use super::track::{
    effective_priority_with, file_effect, parse_file_value, ScriptRunner, ScriptStatus, Tracked,
};
use super::vip::{KernelEvent, Link, LinkWatch, Netlink, VipError};
use super::wire::{AdvertRepr, WireError};
use std::net::IpAddr;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("vrrp_instance {instance}: {error}")]
    Vip { instance: String, error: VipError },
    #[error("vrrp_instance {instance}: {error}")]
    Net {
        instance: String,
        error: net::NetError,
    },
    #[error("vrrp_instance {instance}: interface {interface} has no address of the instance's family to send advertisements from (IPv6: a link-local one)")]
    NoSource { instance: String, interface: String },
    #[error("no_accept: {0}")]
    Firewall(#[from] super::firewall::FirewallError),
    #[error("vrrp_instance {instance}: cannot start its thread: {error}")]
    Thread {
        instance: String,
        error: std::io::Error,
    },
    #[error("vrrp_script {script}: cannot start its thread: {error}")]
    ScriptThread {
        script: String,
        error: std::io::Error,
    },
    #[error("{script}: {reason} (enable_script_security)")]
    InsecureScript { script: String, reason: String },
    #[error("{script}: cannot run it as {user}: {reason}")]
    ScriptUser {
        script: String,
        user: String,
        reason: String,
    },
    #[error("{script}: enable_script_security is set but neither script_user nor user {default} exists; keepalived 2.2 drops the script and ignores its track_script here: set script_user (e.g. `script_user root`)", default = super::track::DEFAULT_SCRIPT_USER)]
    NoScriptUser { script: String },
}

/// The longest the loop waits before it looks at the stop flag again.
const MAX_WAIT: Duration = Duration::from_millis(20);

/// How much longer than one advertisement interval a stopping master waits for its
/// successor's first advertisement.
const HANDOVER_MARGIN: Duration = Duration::from_millis(250);

/// How long a stopping master keeps its addresses after its successor advertised.
const HANDOVER_LINGER: Duration = Duration::from_millis(50);

/// The running VRRP instances.
pub struct Vrrp {
    stop: Arc<AtomicBool>,
    threads: Vec<(String, JoinHandle<()>)>,
    scripts: Vec<ScriptRunner>,
    processes: Option<super::process::ProcessWatch>,
    /// `no_accept` instances run: their nftables tables are removed at the end.
    firewall: bool,
}

impl Vrrp {
    fn teardown_firewall(&mut self) {
        if std::mem::take(&mut self.firewall) {
            super::firewall::teardown();
        }
    }

    /// Stops every instance (masters advertise priority 0 and remove their addresses) and
    /// waits for them.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for (name, t) in self.threads.drain(..) {
            if t.join().is_err() {
                tracing::error!("({name}) the instance's thread ended in a panic");
            }
        }
        for s in self.scripts.drain(..) {
            s.join();
        }
        if let Some(p) = self.processes.take() {
            p.join();
        }
        self.teardown_firewall();
    }
}

impl Drop for Vrrp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for (_, t) in self.threads.drain(..) {
            let _ = t.join();
        }
        for s in self.scripts.drain(..) {
            s.join();
        }
        if let Some(p) = self.processes.take() {
            p.join();
        }
        self.teardown_firewall();
    }
}

/// Everything one instance's thread owns.
struct Runner {
    plan: InstancePlan,
    src: IpAddr,
    socket: VrrpSocket,
    /// Gratuitous ARPs / NAs, on each floating address's interface.
    announcer: Announcer,
    /// The interface of each floating address (`vips` then `excluded`): its `dev`, else the
    /// instance's.
    vip_links: Vec<Link>,
    netlink: Netlink,
    fsm: Instance,
    /// Each tracked script's published state, weight and `reverse`.
    tracks: Vec<(ScriptStatus, i32, bool)>,
    /// Each tracked interface: index, weight, `reverse`, up.
    links: Vec<(u32, i32, bool, bool)>,
    /// Link state and address removal announcements.
    watch: LinkWatch,
    /// The interface index of each `virtual_routes` line's `dev`.
    route_oifs: Vec<Option<u32>>,
    /// Each tracked file: path, weight, `reverse`, value last read.
    files: Vec<(String, i32, bool, i64)>,
    files_read: Option<Instant>,
    /// The effective priority last given to the state machine (`None`: FAULT).
    effective: Option<u8>,
    /// Its `vrrp_sync_group` and its place in it.
    sync: Option<(Arc<super::sync::Group>, usize)>,
    /// Another member of the group is in FAULT.
    group_fault: bool,
    /// Whether the state machine was told FAULT (own or group).
    faulted: bool,
    /// The proxy's data plane this instance shares its fate with (`rsproxy -c -k`).
    data_plane: Option<crate::runtime::Alive>,
    /// The data plane read as down at the last look.
    proxy_down: bool,
}

/// Checks the scripts, opens every instance's sockets, then starts one thread per script
/// and one per instance.
pub fn start(plan: VrrpPlan) -> Result<Vrrp, StartError> {
    start_beside(plan, None)
}

/// As [`start`], sharing fate with the proxy's data plane: while `data_plane` reads as
/// down, every instance is in FAULT (a master gives its addresses up), so a wedged proxy
/// does not hold the floating address it cannot serve.
pub fn start_beside(
    plan: VrrpPlan,
    data_plane: Option<crate::runtime::Alive>,
) -> Result<Vrrp, StartError> {
    if plan.script_security {
        for script in &plan.scripts {
            script_is_secure(&format!("vrrp_script {}", script.name), &script.argv)?;
        }
    }
    for f in &plan.files {
        init_file(f);
    }
    let groups: Vec<(Arc<super::sync::Group>, Vec<usize>)> = plan
        .sync_groups
        .iter()
        .map(|(name, members)| {
            (
                Arc::new(super::sync::Group::new(name.clone(), members.len())),
                members.clone(),
            )
        })
        .collect();
    let firewall = plan.instances.iter().any(|i| i.no_accept);
    let mut runners = Vec::new();
    for (k, mut instance) in plan.instances.into_iter().enumerate() {
        let name = format!("notify of vrrp_instance {}", instance.name);
        for c in instance.notify.commands_mut() {
            if plan.script_security {
                script_is_secure(&name, &c.argv)?;
            }
            c.ids = script_ids(&name, c.user.as_ref(), plan.script_security)?;
        }
        let sync = groups.iter().find_map(|(g, members)| {
            let at = members.iter().position(|m| *m == k)?;
            Some((Arc::clone(g), at))
        });
        if let Some(smtp) = &mut instance.smtp {
            if smtp.router_id.is_empty() {
                // keepalived's default router_id: the host name.
                smtp.router_id = std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .map(|h| h.trim().to_string())
                    .unwrap_or_default();
                if smtp.helo.is_empty() {
                    smtp.helo = smtp.router_id.clone();
                }
            }
        }
        let mut runner = prepare(instance, sync.is_some())?;
        runner.sync = sync;
        runner.data_plane = data_plane.clone();
        runners.push(runner);
    }
    // Once every instance's interfaces and sockets are there: a configuration that cannot
    // run leaves no table behind.
    if firewall {
        super::firewall::check()?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut vrrp = Vrrp {
        stop: Arc::clone(&stop),
        threads: Vec::new(),
        scripts: Vec::new(),
        processes: None,
        firewall,
    };
    for script in plan.scripts {
        let name = format!("vrrp_script {}", script.name);
        let ids = script_ids(&script.name, script.user.as_ref(), plan.script_security)?;
        let runner = ScriptRunner::start(script, ids, Arc::clone(&stop)).map_err(|error| {
            StartError::ScriptThread {
                script: name,
                error,
            }
        })?;
        vrrp.scripts.push(runner);
    }
    let watch = super::process::ProcessWatch::start(plan.processes, Arc::clone(&stop)).map_err(
        |error| StartError::ScriptThread {
            script: "track_process".into(),
            error,
        },
    )?;
    let process_statuses = watch.statuses.clone();
    vrrp.processes = Some(watch);
    for mut runner in runners {
        runner.files = runner
            .plan
            .track_files
            .iter()
            .filter_map(|t| {
                let f = plan.files.get(t.file)?;
                Some((f.path.clone(), t.weight, t.reverse, 0))
            })
            .collect();
        runner.tracks = runner
            .plan
            .tracks
            .iter()
            .filter_map(|t| {
                let s = vrrp.scripts.get(t.script)?;
                Some((s.status.clone(), t.weight, t.reverse))
            })
            .chain(runner.plan.track_processes.iter().filter_map(|t| {
                let s = process_statuses.get(t.script)?;
                Some((s.clone(), t.weight, t.reverse))
            }))
            .collect();
        let name = runner.plan.name.clone();
        let stop = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name(format!("vrrp {name}"))
            .spawn(move || guarded(runner, &stop))
            .map_err(|error| StartError::Thread {
                instance: name.clone(),
                error,
            })?;
        vrrp.threads.push((name, thread));
    }
    Ok(vrrp)
}

/// `init_file VALUE [overwrite]`: writes the value if the file is missing (or always).
fn init_file(f: &super::config::FilePlan) {
    let Some((value, overwrite)) = f.init else {
        return;
    };
    if overwrite || !std::path::Path::new(&f.path).exists() {
        if let Err(e) = std::fs::write(&f.path, format!("{value}\n")) {
            tracing::warn!("track_file {}: cannot write {}: {e}", f.name, f.path);
        }
    }
}

/// How often tracked files are read again.
const FILE_POLL: Duration = Duration::from_millis(100);

/// Who runs `script`: its `user` or `script_user`; else `keepalived_script` if that user
/// exists; else, without `enable_script_security`, rsproxy's own user (`None`).
fn script_ids(
    name: &str,
    user: Option<&(String, Option<String>)>,
    security: bool,
) -> Result<Option<(u32, u32)>, StartError> {
    match user {
        Some((user, group)) => super::track::lookup_user(user, group.as_deref())
            .map(Some)
            .map_err(|reason| StartError::ScriptUser {
                script: name.to_string(),
                user: user.clone(),
                reason,
            }),
        None => match super::track::lookup_user(super::track::DEFAULT_SCRIPT_USER, None) {
            Ok(ids) => Ok(Some(ids)),
            Err(_) if security => Err(StartError::NoScriptUser {
                script: name.to_string(),
            }),
            Err(_) => Ok(None),
        },
    }
}

/// keepalived's `enable_script_security` rule, run as root: the script's program and every
/// directory above it must belong to root and be writable by no one else.
fn script_is_secure(name: &str, argv: &[String]) -> Result<(), StartError> {
    use std::os::unix::fs::MetadataExt;
    let insecure = |reason: String| StartError::InsecureScript {
        script: name.to_string(),
        reason,
    };
    let running_as_root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if !running_as_root {
        return Ok(());
    }
    let Some(program) = argv.first() else {
        return Err(insecure("no command".into()));
    };
    let path = if program.contains('/') {
        std::path::PathBuf::from(program)
    } else {
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|d| d.join(program))
            .find(|p| p.is_file())
            .ok_or_else(|| insecure(format!("{program} is not found on PATH")))?
    };
    let path = path
        .canonicalize()
        .map_err(|e| insecure(format!("{}: {e}", path.display())))?;
    for p in path.ancestors() {
        let m = std::fs::metadata(p).map_err(|e| insecure(format!("{}: {e}", p.display())))?;
        if m.uid() != 0 || m.mode() & 0o022 != 0 {
            return Err(insecure(format!(
                "{} can be changed by a user other than root",
                p.display()
            )));
        }
    }
    Ok(())
}

fn prepare(plan: InstancePlan, sync_group: bool) -> Result<Runner, StartError> {
    let instance = plan.name.clone();
    let vip_err = |error| StartError::Vip {
        instance: instance.clone(),
        error,
    };
    let mut netlink = Netlink::open().map_err(vip_err)?;
    let link = netlink.link(&plan.interface).map_err(vip_err)?;
    let v6 = plan.vips.first().is_some_and(|v| v.addr.addr.is_ipv6());
    let src = match plan.src_ip {
        Some(ip) => Some(ip),
        None => {
            let floating: Vec<IpAddr> = plan
                .vips
                .iter()
                .chain(&plan.excluded)
                .map(|v| v.addr.addr)
                .collect();
            netlink
                .addresses(link.index)
                .map_err(vip_err)?
                .into_iter()
                .map(|(ip, _)| ip)
                .find(|ip| {
                    !floating.contains(ip)
                        && match ip {
                            IpAddr::V4(_) => !v6,
                            // keepalived advertises from the link-local address.
                            IpAddr::V6(a) => v6 && a.is_unicast_link_local(),
                        }
                })
        }
    };
    let Some(src) = src else {
        return Err(StartError::NoSource {
            instance,
            interface: plan.interface.clone(),
        });
    };
    let net_err = |error| StartError::Net {
        instance: instance.clone(),
        error,
    };
    let mut links = Vec::new();
    let watch = LinkWatch::open().map_err(vip_err)?;
    let mut route_oifs = Vec::new();
    if !plan.routes.is_empty() {
        let all = netlink.links().map_err(vip_err)?;
        for r in &plan.routes {
            route_oifs.push(match &r.dev {
                Some(dev) => Some(
                    all.iter()
                        .find(|l| &l.name == dev)
                        .map(|l| l.index)
                        .ok_or_else(|| vip_err(VipError::NoInterface(dev.clone())))?,
                ),
                None => None,
            });
        }
    }
    if !plan.track_links.is_empty() {
        let all = netlink.links().map_err(vip_err)?;
        for t in &plan.track_links {
            let l = all
                .iter()
                .find(|l| l.name == t.interface)
                .ok_or_else(|| vip_err(VipError::NoInterface(t.interface.clone())))?;
            links.push((l.index, t.weight, t.reverse, l.up));
        }
    }
    let mut vip_links = Vec::new();
    let floating = plan.vips.iter().chain(&plan.excluded);
    if floating.clone().any(|v| v.dev.is_some()) {
        let all = netlink.links().map_err(vip_err)?;
        for v in floating {
            vip_links.push(match &v.dev {
                Some(dev) => all
                    .iter()
                    .find(|l| &l.name == dev)
                    .cloned()
                    .ok_or_else(|| vip_err(VipError::NoInterface(dev.clone())))?,
                None => link.clone(),
            });
        }
    } else {
        vip_links = floating.map(|_| link.clone()).collect();
    }
    let socket = VrrpSocket::open(&plan, &link, src).map_err(net_err)?;
    let announcer = Announcer::open(
        &std::iter::once(&link).chain(&vip_links).collect::<Vec<_>>(),
        plan.garp_interval,
        plan.gna_interval,
    )
    .map_err(net_err)?;
    let fsm = Instance::new(fsm::Config {
        version: plan.version,
        priority: plan.priority,
        advert_int_cs: plan.advert_int_cs,
        start_master: plan.start_master,
        preempt: plan.preempt,
        preempt_delay: plan.preempt_delay,
        primary_ip: src,
        garp_master_delay: plan.garp_master_delay,
        garp_master_refresh: plan.garp_master_refresh,
        garp_lower_prio_delay: plan.garp_lower_prio_delay,
        sync_group,
    });
    Ok(Runner {
        plan,
        src,
        socket,
        announcer,
        vip_links,
        netlink,
        fsm,
        tracks: Vec::new(),
        links,
        watch,
        route_oifs,
        files: Vec::new(),
        files_read: None,
        sync: None,
        group_fault: false,
        faulted: false,
        effective: None,
        data_plane: None,
        proxy_down: false,
    })
}

/// The panic boundary around one instance.
fn guarded(runner: Runner, stop: &AtomicBool) {
    let name = runner.plan.name.clone();
    let floating: Vec<_> = runner
        .plan
        .vips
        .iter()
        .chain(&runner.plan.excluded)
        .cloned()
        .zip(runner.vip_links.clone())
        .collect();
    if std::panic::catch_unwind(AssertUnwindSafe(move || runner.run(stop))).is_err() {
        tracing::error!(
            "({name}) VRRP instance stopped by an internal error (panic); removing its addresses"
        );
        if let Ok(mut nl) = Netlink::open() {
            for (vip, link) in &floating {
                let _ = nl.remove(vip, link);
            }
        }
    }
}

impl Runner {
    fn run(mut self, stop: &AtomicBool) {
        // As keepalived: no floating address of ours is left over from an earlier run.
        self.remove_addresses();
        self.effective = Some(self.plan.priority);
        self.track(false);
        let actions = self.fsm.on_event(Event::Startup, Instant::now());
        self.apply(actions);
        self.update_fault();
        loop {
            self.track(true);
            self.update_fault();
            self.sync_turn();
            if stop.load(Ordering::SeqCst) {
                self.shutdown();
                tracing::info!("({}) stopped", self.plan.name);
                return;
            }
            let now = Instant::now();
            if let Err(e) = self.announcer.flush(now) {
                tracing::error!("({}) {e}", self.plan.name);
            }
            let wait = self
                .fsm
                .next_deadline()
                .into_iter()
                .chain(self.announcer.next_due())
                .min()
                .map(|d| d.saturating_duration_since(now))
                .unwrap_or(MAX_WAIT)
                .min(MAX_WAIT);
            match self.socket.recv(wait) {
                Ok(Some(packet)) => match net::receive(&self.plan, self.src, &packet) {
                    Ok(event) => {
                        let actions = self.fsm.on_event(event, Instant::now());
                        self.apply(actions);
                    }
                    Err(net::Discard::Own | net::Discard::OtherVrid(_)) => {}
                    Err(why) => tracing::warn!("({}) advertisement ignored: {why}", self.plan.name),
                },
                Ok(None) => {}
                Err(e) => {
                    tracing::error!("({}) {e}", self.plan.name);
                    std::thread::sleep(MAX_WAIT);
                }
            }
            if self
                .fsm
                .next_deadline()
                .is_some_and(|d| d <= Instant::now())
            {
                let actions = self.fsm.on_event(Event::Timer, Instant::now());
                self.apply(actions);
            }
        }
    }

    /// Stops the instance. A master advertises priority 0 at once but keeps its addresses
    /// (and the proxy beside it keeps serving) until a new master advertises — a backup
    /// takes over after its Skew_Time, at most one advertisement interval — or that interval
    /// and a margin have passed: clients are handed over without a gap in which no one holds
    /// the address. (RFC 5798 §6.4.3 removes them at once; keepalived does, and its clients
    /// see that gap.)
    fn shutdown(&mut self) {
        let was_master = self.fsm.state() == State::Master;
        let actions = self.fsm.on_event(Event::Shutdown, Instant::now());
        for action in actions {
            if was_master && action == Action::RemoveAddresses {
                self.await_new_master();
            }
            self.apply(vec![action]);
        }
    }

    /// Waits (bounded) for an advertisement from another router with a priority above 0.
    fn await_new_master(&mut self) {
        let end = Instant::now()
            + Duration::from_millis(u64::from(self.plan.advert_int_cs) * 10)
            + HANDOVER_MARGIN;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::info!("({}) no new master heard; leaving anyway", self.plan.name);
                return;
            }
            if let Ok(Some(packet)) = self.socket.recv(left.min(MAX_WAIT)) {
                if let Ok(Event::Advert { src, priority, .. }) =
                    net::receive(&self.plan, self.src, &packet)
                {
                    if priority > 0 {
                        tracing::info!(
                            "({}) {src} now advertises as master: handing the addresses over",
                            self.plan.name
                        );
                        // It holds and has announced the addresses already; requests that
                        // reached us just before finish here.
                        std::thread::sleep(HANDOVER_LINGER);
                        return;
                    }
                }
            }
        }
    }

    /// Reads the tracked scripts and interfaces; tells the state machine a new effective
    /// priority, or a fault (`started`: it runs; before that only the priority is set).
    fn track(&mut self, started: bool) {
        let mut removed = Vec::new();
        for event in self.watch.changes() {
            match event {
                KernelEvent::Link(index, up) => {
                    for l in self.links.iter_mut().filter(|l| l.0 == index) {
                        if l.3 != up {
                            tracing::info!(
                                "({}) interface index {index} is {}",
                                self.plan.name,
                                if up { "up" } else { "down" }
                            );
                        }
                        l.3 = up;
                    }
                }
                KernelEvent::AddressRemoved(index, ip) => removed.push((index, ip)),
            }
        }
        if !removed.is_empty() && self.fsm.state() == State::Master {
            self.restore(&removed);
        }
        if self.tracks.is_empty() && self.links.is_empty() && self.files.is_empty() {
            return;
        }
        if !self.files.is_empty() && self.files_read.is_none_or(|t| t.elapsed() >= FILE_POLL) {
            self.files_read = Some(Instant::now());
            for f in &mut self.files {
                let value = std::fs::read_to_string(&f.0)
                    .map(|t| parse_file_value(&t))
                    .unwrap_or(0);
                if value != f.3 {
                    tracing::info!("({}) track_file {}: {value}", self.plan.name, f.0);
                }
                f.3 = value;
            }
        }
        let file_effects: Vec<Option<i32>> = self
            .files
            .iter()
            .map(|(_, weight, reverse, value)| file_effect(*value, *weight, *reverse))
            .collect();
        let tracked: Vec<Tracked> = self
            .tracks
            .iter()
            .map(|(status, weight, reverse)| Tracked {
                weight: *weight,
                reverse: *reverse,
                up: status.is_up(),
            })
            .chain(self.links.iter().map(|(_, weight, reverse, up)| Tracked {
                weight: *weight,
                reverse: *reverse,
                up: *up,
            }))
            .collect();
        let now = effective_priority_with(self.plan.priority, &tracked, &file_effects);
        if now != self.effective {
            let before = self.effective;
            self.effective = now;
            match now {
                None => tracing::info!(
                    "({}) a tracked script, interface or file puts the instance in FAULT",
                    self.plan.name
                ),
                Some(p) => {
                    match before {
                        Some(old) => {
                            tracing::info!("({}) effective priority {old} -> {p}", self.plan.name)
                        }
                        None => tracing::info!(
                            "({}) tracked objects recovered, priority {p}",
                            self.plan.name
                        ),
                    }
                    let actions = self.fsm.on_event(Event::SetPriority(p), Instant::now());
                    self.apply(actions);
                }
            }
        }
        if started {
            self.update_fault();
        }
    }

    /// Tells the state machine FAULT or its end when the instance's own tracking or its
    /// sync group changes its mind.
    fn update_fault(&mut self) {
        let proxy_down = self.data_plane.as_ref().is_some_and(|a| !a.is_alive());
        if proxy_down != self.proxy_down {
            self.proxy_down = proxy_down;
            if proxy_down {
                // Unlike a failed track_script (keepalived lets the backup wait for
                // Master_Down_Interval), nothing serves here: a priority-0 advert hands the
                // address over after Skew_Time.
                if self.fsm.state() == State::Master {
                    if let Err(e) = self.send_advert(0) {
                        tracing::error!("({}) {e}", self.plan.name);
                    }
                }
                tracing::warn!(
                    "({}) the proxy's data plane stopped serving (no accept loop or scheduler turn for {} ms): FAULT",
                    self.plan.name,
                    crate::runtime::alive::SILENCE.as_millis()
                );
            } else {
                tracing::info!("({}) the proxy's data plane serves again", self.plan.name);
            }
        }
        let fault = self.effective.is_none() || self.group_fault || self.proxy_down;
        if fault != self.faulted {
            self.faulted = fault;
            let event = if fault {
                Event::Fault
            } else {
                Event::FaultCleared
            };
            let actions = self.fsm.on_event(event, Instant::now());
            self.apply(actions);
        }
    }

    /// One turn with the sync group, if any: publish our state, apply what the group says.
    fn sync_turn(&mut self) {
        let Some((group, at)) = self.sync.clone() else {
            return;
        };
        let (event, group_fault) = group.turn(
            at,
            self.fsm.state(),
            self.fsm.wants_master(),
            self.effective.is_none() || self.proxy_down,
        );
        if group_fault != self.group_fault {
            self.group_fault = group_fault;
            if group_fault {
                tracing::info!("({}) sync group {} is in FAULT", self.plan.name, group.name);
            }
            self.update_fault();
        }
        if let Some(event) = event {
            tracing::info!("({}) sync group {}: {event:?}", self.plan.name, group.name);
            let actions = self.fsm.on_event(event, Instant::now());
            self.apply(actions);
        }
    }

    fn apply(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::SendAdvert { priority } => {
                    if let Err(e) = self.send_advert(priority) {
                        tracing::error!("({}) {e}", self.plan.name);
                    }
                }
                Action::AddAddresses => {
                    if self.plan.no_accept {
                        tracing::info!("({}) setting firewall drop rule", self.plan.name);
                        if let Err(e) = super::firewall::drop_traffic(&self.floating()) {
                            tracing::error!("({}) {e}", self.plan.name);
                        }
                    }
                    tracing::info!("({}) setting VIPs", self.plan.name);
                    for (vip, link) in self
                        .plan
                        .vips
                        .iter()
                        .chain(&self.plan.excluded)
                        .zip(&self.vip_links)
                    {
                        if let Err(e) = self.netlink.add(vip, link) {
                            tracing::error!("({}) {e}", self.plan.name);
                        }
                    }
                    for (route, oif) in self.plan.routes.iter().zip(&self.route_oifs) {
                        if let Err(e) = self.netlink.add_route(route, *oif) {
                            tracing::error!("({}) {e}", self.plan.name);
                        }
                    }
                }
                Action::RemoveAddresses => {
                    tracing::info!("({}) removing VIPs", self.plan.name);
                    self.remove_addresses();
                }
                Action::Announce | Action::AnnounceRefresh | Action::AnnounceLowerPrio => {
                    let repeat = match action {
                        Action::Announce => self.plan.garp_master_repeat,
                        Action::AnnounceRefresh => self.plan.garp_master_refresh_repeat,
                        _ => self.plan.garp_lower_prio_repeat,
                    };
                    let addrs: Vec<(IpAddr, u32)> = self
                        .plan
                        .vips
                        .iter()
                        .chain(&self.plan.excluded)
                        .zip(&self.vip_links)
                        .map(|(v, l)| (v.addr.addr, l.index))
                        .collect();
                    if let Err(e) = self.announcer.announce(&addrs, repeat, Instant::now()) {
                        tracing::error!("({}) {e}", self.plan.name);
                    }
                }
                Action::StateChange { from, to, reason } => {
                    tracing::info!(
                        "({}) Entering {to} STATE (was {from}): {reason}",
                        self.plan.name
                    );
                    let priority = self.fsm.config().priority;
                    super::notify::run(self.plan.notify.for_transition(
                        &self.plan.name,
                        to,
                        priority,
                    ));
                    if let Some(smtp) = &self.plan.smtp {
                        super::smtp::alert(smtp, &self.plan.name, to);
                    }
                }
                Action::LowerPriorityMaster { src, priority } => {
                    tracing::warn!(
                        "({}) received an advertisement from {src} with lower priority {priority}, ours {}: advertising at once",
                        self.plan.name,
                        self.plan.priority
                    );
                }
            }
        }
    }

    /// While MASTER, a floating address removed by someone else (a network manager, a
    /// person) is added again at once and announced again.
    fn restore(&mut self, removed: &[(u32, IpAddr)]) {
        let gone: Vec<_> = self
            .plan
            .vips
            .iter()
            .chain(&self.plan.excluded)
            .zip(&self.vip_links)
            .filter(|(v, l)| removed.contains(&(l.index, v.addr.addr)))
            .map(|(v, l)| (v.clone(), l.clone()))
            .collect();
        for (vip, link) in &gone {
            tracing::warn!(
                "({}) {} was removed from {} by another tool while MASTER: adding it again",
                self.plan.name,
                vip.addr.addr,
                link.name
            );
            if let Err(e) = self.netlink.add(vip, link) {
                tracing::error!("({}) {e}", self.plan.name);
            }
        }
        if !gone.is_empty() {
            let addrs: Vec<(IpAddr, u32)> =
                gone.iter().map(|(v, l)| (v.addr.addr, l.index)).collect();
            if let Err(e) =
                self.announcer
                    .announce(&addrs, self.plan.garp_master_repeat, Instant::now())
            {
                tracing::error!("({}) {e}", self.plan.name);
            }
        }
    }

    fn floating(&self) -> Vec<IpAddr> {
        self.plan
            .vips
            .iter()
            .chain(&self.plan.excluded)
            .map(|v| v.addr.addr)
            .collect()
    }

    fn remove_addresses(&mut self) {
        for (route, oif) in self.plan.routes.iter().zip(&self.route_oifs) {
            if let Err(e) = self.netlink.remove_route(route, *oif) {
                tracing::error!("({}) {e}", self.plan.name);
            }
        }
        self.announcer.clear();
        for (vip, link) in self
            .plan
            .vips
            .iter()
            .chain(&self.plan.excluded)
            .zip(&self.vip_links)
        {
            if let Err(e) = self.netlink.remove(vip, link) {
                tracing::error!("({}) {e}", self.plan.name);
            }
        }
        if self.plan.no_accept {
            if let Err(e) = super::firewall::accept_traffic(&self.floating()) {
                tracing::error!("({}) {e}", self.plan.name);
            }
        }
    }

    fn send_advert(&self, priority: u8) -> Result<(), SendError> {
        let repr = AdvertRepr {
            version: self.plan.version,
            vrid: self.plan.vrid,
            priority,
            interval_cs: self.plan.advert_int_cs,
            addrs: self.plan.vips.iter().map(|v| v.addr.addr).collect(),
            auth: self.plan.auth,
        };
        for dst in self.socket.destinations() {
            let message = repr.emit(self.src, *dst)?;
            self.socket.send_to(&message, *dst)?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
enum SendError {
    #[error("cannot build an advertisement: {0}")]
    Wire(#[from] WireError),
    #[error(transparent)]
    Net(#[from] net::NetError),
}
