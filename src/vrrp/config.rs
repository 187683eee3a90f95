//! keepalived IR → what the VRRP runtime carries out, with keepalived's defaults applied.
//!
//! Pure. Every keyword the IR carries that the runtime does not carry out yet is refused
//! here with a diagnostic naming the keyword at its `file:line` (rendered in keepalived's
//! style), all of them at once: a keyword is never silently ignored.

use super::fsm::Version;
use super::notify::{NotifyCommand, NotifyPlan};
use super::process::ProcessPlan;
use super::smtp::SmtpPlan;
use super::track::{split_command, ScriptPlan};
use super::wire::Auth;
use rsproxy_parser::ir::keepalived::{
    self as ka, AcceptMode, AuthType, UnicastPeer, VirtualIp, VirtualRoute, VrrpState, VrrpVersion,
};
use rsproxy_parser::{Diagnostic, Dialect, Span, Spanned};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// Everything keepalived.conf asks the VRRP runtime to do.
#[derive(Clone, Debug)]
pub struct VrrpPlan {
    pub instances: Vec<InstancePlan>,
    /// The `vrrp_script`s some instance tracks (others are not run, as in keepalived).
    pub scripts: Vec<ScriptPlan>,
    /// `enable_script_security`: refuse scripts a non-root user could change.
    pub script_security: bool,
    /// The `track_file`s some instance tracks.
    pub files: Vec<FilePlan>,
    /// Each `vrrp_sync_group`: its name and the indexes of its members in `instances`.
    pub sync_groups: Vec<(String, Vec<usize>)>,
    /// What keepalived logs and rsproxy prints at start (the run goes on).
    pub warnings: Vec<Diagnostic>,
    /// The `vrrp_track_process`es some instance tracks.
    pub processes: Vec<ProcessPlan>,
}

/// A `track_file` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilePlan {
    pub name: String,
    pub path: String,
    /// `init_file [VALUE] [overwrite]`: (value, overwrite).
    pub init: Option<(i64, bool)>,
}

/// One `track_file` line of an instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileTrackPlan {
    /// Index into [`VrrpPlan::files`].
    pub file: usize,
    pub weight: i32,
    pub reverse: bool,
}

/// One `track_script` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackPlan {
    /// Index into [`VrrpPlan::scripts`].
    pub script: usize,
    pub weight: i32,
    pub reverse: bool,
}

/// An interface whose state counts: the instance's own (weight 0: down = FAULT, unless
/// `dont_track_primary`) and each `track_interface` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkTrackPlan {
    pub interface: String,
    pub weight: i32,
    pub reverse: bool,
}

/// One `vrrp_instance`, ready to run.
#[derive(Clone, Debug)]
pub struct InstancePlan {
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    pub version: Version,
    pub priority: u8,
    pub advert_int_cs: u16,
    pub start_master: bool,
    pub preempt: bool,
    pub preempt_delay: Duration,
    pub auth: Auth,
    /// Advertised and added on MASTER.
    pub vips: Vec<VirtualIp>,
    /// Added on MASTER, not advertised.
    pub excluded: Vec<VirtualIp>,
    /// Added on MASTER (after the addresses), removed on leaving it (before them).
    pub routes: Vec<VirtualRoute>,
    pub mcast_group: Ipv4Addr,
    /// `vrrp_mcast_group6` (IPv6 instances).
    pub mcast_group6: Ipv6Addr,
    /// `unicast_src_ip` or `mcast_src_ip`: the source of our advertisements.
    pub src_ip: Option<IpAddr>,
    pub unicast_peers: Vec<UnicastPeer>,
    /// Accept adverts only from a listed unicast peer.
    pub check_unicast_src: bool,
    pub garp_master_delay: Duration,
    pub garp_master_repeat: u32,
    /// Zero: no refresh.
    pub garp_master_refresh: Duration,
    pub garp_master_refresh_repeat: u32,
    /// After a lower-priority advertisement reached us as master: a burst of this many,
    /// and a second one this long after (zero: none).
    pub garp_lower_prio_delay: Duration,
    pub garp_lower_prio_repeat: u32,
    /// `vrrp_garp_interval` / `vrrp_gna_interval`: the delay between two gratuitous ARPs
    /// (unsolicited NAs) on one interface.
    pub garp_interval: Duration,
    pub gna_interval: Duration,
    /// `no_accept` (below priority 255): while MASTER, traffic to and from the floating
    /// addresses is dropped (`firewall`).
    pub no_accept: bool,
    pub tracks: Vec<TrackPlan>,
    pub track_links: Vec<LinkTrackPlan>,
    pub track_files: Vec<FileTrackPlan>,
    /// `track_process` lines: `script` is an index into [`VrrpPlan::processes`].
    pub track_processes: Vec<TrackPlan>,
    pub notify: NotifyPlan,
    /// `smtp_alert` on, with a `smtp_server`.
    pub smtp: Option<SmtpPlan>,
}

/// keepalived's defaults (keepalived.conf(5)).
pub const DEFAULT_PRIORITY: u8 = 100;
pub const DEFAULT_ADVERT_INT_CS: u16 = 100;
pub const DEFAULT_GARP_MASTER_DELAY: Duration = Duration::from_secs(5);
pub const DEFAULT_GARP_MASTER_REPEAT: u32 = 5;

fn to_std(d: &rsproxy_parser::ir::Duration) -> Duration {
    Duration::from_micros(d.micros)
}

struct Refusals(Vec<Diagnostic>);

impl Refusals {
    fn refuse(&mut self, span: Span, keyword: &str, context: &str) {
        self.0.push(
            Diagnostic::error(
                Dialect::Keepalived,
                span,
                format!("{context}: `{keyword}` is not carried out by rsproxy's VRRP runtime yet"),
            )
            .with_help("remove it, or run this instance with keepalived until rsproxy supports it"),
        );
    }
    fn refuse_if<T>(&mut self, item: &Option<Spanned<T>>, keyword: &str, context: &str) {
        if let Some(s) = item {
            self.refuse(s.span, keyword, context);
        }
    }
    fn refuse_tracks(&mut self, list: &[ka::TrackRef], keyword: &str, context: &str) {
        if let Some(t) = list.first() {
            self.refuse(t.name.span, keyword, context);
        }
    }
}

/// Where alerts go; `None` without `smtp_server`. An empty `router_id` is the host name,
/// filled in at start.
fn smtp_plan(g: &ka::GlobalDefs) -> Option<SmtpPlan> {
    let server = g.smtp_server.as_ref()?;
    let router_id = g
        .router_id
        .as_ref()
        .map(|r| r.node.clone())
        .unwrap_or_default();
    Some(SmtpPlan {
        server: server.node.host.clone(),
        port: server.node.port,
        helo: g
            .smtp_helo_name
            .as_ref()
            .map(|h| h.node.clone())
            .unwrap_or_else(|| router_id.clone()),
        from: g
            .notification_email_from
            .as_ref()
            .map(|f| f.node.clone())
            .unwrap_or_default(),
        to: g
            .notification_email
            .iter()
            .map(|e| e.node.clone())
            .collect(),
        router_id,
        connect_timeout: g
            .smtp_connect_timeout
            .as_ref()
            .map(|d| to_std(&d.node))
            .unwrap_or(Duration::from_secs(30)),
    })
}

fn notify_plan(n: &ka::Notify, g: &ka::GlobalDefs) -> NotifyPlan {
    let cmd = |c: &Option<Spanned<ka::Command>>| {
        c.as_ref().map(|c| {
            let user = c
                .node
                .user
                .as_ref()
                .or(g.script_user.as_ref().map(|u| &u.node))
                .map(|u| (u.user.clone(), u.group.clone()));
            NotifyCommand::new(&c.node.command, user)
        })
    };
    NotifyPlan {
        master: cmd(&n.master),
        backup: cmd(&n.backup),
        fault: cmd(&n.fault),
        stop: cmd(&n.stop),
        any: cmd(&n.any),
    }
}

/// The plan of `cfg`, or every refusal.
pub fn plan(cfg: &ka::Config) -> Result<VrrpPlan, Vec<Diagnostic>> {
    let mut r = Refusals(Vec::new());
    let g = &cfg.global_defs;
    let global = "global_defs";
    if let Some(s) = g.vrrp_strict {
        r.refuse(s, "vrrp_strict", global);
    }
    let mut sync_groups = Vec::new();
    for sg in &cfg.sync_groups {
        let ctx = format!("vrrp_sync_group {}", sg.name.node);
        r.refuse_tracks(&sg.track_script, "track_script", &ctx);
        r.refuse_tracks(&sg.track_interface, "track_interface", &ctx);
        r.refuse_tracks(&sg.track_file, "track_file", &ctx);
        r.refuse_tracks(&sg.track_process, "track_process", &ctx);
        for (c, kw) in [
            (&sg.notify.master, "notify_master"),
            (&sg.notify.backup, "notify_backup"),
            (&sg.notify.fault, "notify_fault"),
            (&sg.notify.stop, "notify_stop"),
            (&sg.notify.any, "notify"),
        ] {
            r.refuse_if(c, kw, &ctx);
        }
        if let Some(s) = &sg.smtp_alert {
            if s.node {
                r.refuse(s.span, "smtp_alert", &ctx);
            }
        }
        let members: Vec<usize> = sg
            .members
            .iter()
            .filter_map(|m| cfg.instances.iter().position(|i| i.name.node == m.node))
            .collect();
        sync_groups.push((sg.name.node.clone(), members));
    }

    let mut scripts: Vec<ScriptPlan> = Vec::new();
    let mut files: Vec<FilePlan> = Vec::new();
    let mut processes: Vec<ProcessPlan> = Vec::new();
    let mut warnings = Vec::new();
    let in_sync_group = |name: &str| {
        cfg.sync_groups
            .iter()
            .any(|g| g.members.iter().any(|m| m.node == name))
    };
    let mut plans = Vec::new();
    for inst in &cfg.instances {
        let ctx = format!("vrrp_instance {}", inst.name.node);
        let mut tracks = Vec::new();
        for t in &inst.track_script {
            let Some(script) = cfg.script(&t.name.node) else {
                // The parser reports an unknown script; nothing to run.
                continue;
            };
            let index = match scripts.iter().position(|s| s.name == script.name.node) {
                Some(i) => i,
                None => {
                    let interval = script
                        .interval
                        .as_ref()
                        .map(|d| to_std(&d.node))
                        .unwrap_or(Duration::from_secs(1));
                    scripts.push(ScriptPlan {
                        name: script.name.node.clone(),
                        argv: script
                            .script
                            .as_ref()
                            .map(|c| split_command(&c.node))
                            .unwrap_or_default(),
                        interval,
                        timeout: script
                            .timeout
                            .as_ref()
                            .map(|d| to_std(&d.node))
                            .unwrap_or(interval),
                        rise: script.rise.as_ref().map(|n| n.node).unwrap_or(1),
                        fall: script.fall.as_ref().map(|n| n.node).unwrap_or(1),
                        init_fail: script.init_fail.is_some(),
                        user: script
                            .user
                            .as_ref()
                            .or(g.script_user.as_ref())
                            .map(|u| (u.node.user.clone(), u.node.group.clone())),
                    });
                    scripts.len() - 1
                }
            };
            let weight = t
                .weight
                .as_ref()
                .or(script.weight.as_ref())
                .map(|w| w.node)
                .unwrap_or(ka::Weight {
                    value: 0,
                    reverse: false,
                });
            tracks.push(TrackPlan {
                script: index,
                weight: weight.value,
                reverse: weight.reverse,
            });
        }
        let mut track_files = Vec::new();
        for t in &inst.track_file {
            let Some(tf) = cfg.track_files.iter().find(|f| f.name.node == t.name.node) else {
                continue;
            };
            let Some(path) = &tf.file else {
                continue;
            };
            let index = match files.iter().position(|f: &FilePlan| f.name == tf.name.node) {
                Some(i) => i,
                None => {
                    files.push(FilePlan {
                        name: tf.name.node.clone(),
                        path: path.node.clone(),
                        init: tf
                            .init_file
                            .as_ref()
                            .map(|i| (i.node.value, i.node.overwrite)),
                    });
                    files.len() - 1
                }
            };
            // The line's weight, else the file's, else 1.
            let weight = t.weight.as_ref().or(tf.weight.as_ref()).map(|w| w.node);
            track_files.push(FileTrackPlan {
                file: index,
                weight: weight.map(|w| w.value).unwrap_or(1),
                reverse: weight.is_some_and(|w| w.reverse),
            });
        }
        let mut track_processes = Vec::new();
        for t in &inst.track_process {
            let Some(tp) = cfg
                .track_processes
                .iter()
                .find(|p| p.name.node == t.name.node)
            else {
                continue;
            };
            let Some(process) = &tp.process else {
                continue;
            };
            let index = match processes
                .iter()
                .position(|p: &ProcessPlan| p.name == tp.name.node)
            {
                Some(i) => i,
                None => {
                    let secs = |d: &Option<Spanned<rsproxy_parser::ir::Duration>>| {
                        d.as_ref()
                            .map(|d| to_std(&d.node))
                            .unwrap_or(Duration::ZERO)
                    };
                    processes.push(ProcessPlan {
                        name: tp.name.node.clone(),
                        process: process.node.clone(),
                        param_match: tp.param_match.as_ref().map(|m| m.node),
                        full_command: tp.full_command.is_some(),
                        quorum: tp.quorum.as_ref().map(|q| q.node).unwrap_or(1),
                        quorum_max: tp.quorum_max.as_ref().map(|q| q.node),
                        fork_delay: secs(&tp.fork_delay),
                        terminate_delay: secs(&tp.terminate_delay),
                    });
                    processes.len() - 1
                }
            };
            let weight = t.weight.as_ref().or(tp.weight.as_ref()).map(|w| w.node);
            track_processes.push(TrackPlan {
                script: index,
                weight: weight.map(|w| w.value).unwrap_or(1),
                reverse: weight.is_some_and(|w| w.reverse),
            });
        }
        // smtp_alert: the instance's setting, else the global one (default off).
        let smtp = inst
            .smtp_alert
            .as_ref()
            .or(g.smtp_alert.as_ref())
            .is_some_and(|a| a.node)
            .then(|| smtp_plan(g))
            .flatten();
        for vip in &inst.virtual_ipaddress {
            // Advertised addresses are of the instance's family (excluded ones may be of
            // either).
            if vip.addr.addr.is_ipv6() != inst.is_ipv6() {
                r.refuse(
                    vip.span,
                    "virtual_ipaddress of both families in one instance (use virtual_ipaddress_excluded)",
                    &ctx,
                );
            }
        }
        let auth = match inst
            .authentication
            .as_ref()
            .and_then(|a| a.auth_type.as_ref())
        {
            Some(t) if t.node == AuthType::Ah => {
                r.refuse(t.span, "auth_type AH", &ctx);
                Auth::None
            }
            Some(_) => inst
                .authentication
                .as_ref()
                .and_then(|a| a.auth_pass.as_ref())
                .map(|p| Auth::pass(&p.node))
                .unwrap_or(Auth::None),
            None => Auth::None,
        };
        let Some(interface) = &inst.interface else {
            r.refuse(inst.name.span, "vrrp_instance without interface", &ctx);
            continue;
        };
        let Some(vrid) = &inst.virtual_router_id else {
            r.refuse(
                inst.name.span,
                "vrrp_instance without virtual_router_id",
                &ctx,
            );
            continue;
        };
        let version = match inst.version.as_ref().or(g.vrrp_version.as_ref()) {
            // IPv6 is VRRPv3 only (RFC 5798), as keepalived runs it.
            _ if inst.is_ipv6() => Version::V3,
            Some(v) if v.node == VrrpVersion::V3 => Version::V3,
            _ => Version::V2,
        };
        let advert_int_cs = match &inst.advert_int {
            Some(d) => {
                let cs = u16::try_from(d.node.micros / 10_000).unwrap_or(u16::MAX);
                match version {
                    // v2 carries whole seconds.
                    Version::V2 => (cs / 100).max(1) * 100,
                    Version::V3 => cs.clamp(1, 4095),
                }
            }
            None => DEFAULT_ADVERT_INT_CS,
        };
        let garp_master_delay = inst
            .garp
            .master_delay
            .as_ref()
            .or(g.garp.master_delay.as_ref())
            .map(|d| to_std(&d.node))
            .unwrap_or(DEFAULT_GARP_MASTER_DELAY);
        let garp_master_repeat = inst
            .garp
            .master_repeat
            .as_ref()
            .or(g.garp.master_repeat.as_ref())
            .map(|d| d.node)
            .unwrap_or(DEFAULT_GARP_MASTER_REPEAT);
        // keepalived 2.2: "ignoring weight from tracked ... due to SYNC group. specify
        // weight 0": in a sync group every tracked object counts with weight 0 (down =
        // FAULT, for the whole group).
        let mut track_links: Vec<LinkTrackPlan> = inst
            .dont_track_primary
            .is_none()
            .then(|| LinkTrackPlan {
                interface: interface.node.clone(),
                weight: 0,
                reverse: false,
            })
            .into_iter()
            .chain(inst.track_interface.iter().map(|t| {
                let w = t.weight.as_ref().map(|w| w.node);
                LinkTrackPlan {
                    interface: t.name.node.clone(),
                    weight: w.map(|w| w.value).unwrap_or(0),
                    reverse: w.is_some_and(|w| w.reverse),
                }
            }))
            .collect();
        if in_sync_group(&inst.name.node) {
            let mut warn = |what: &str, name: &str, span: Span| {
                warnings.push(Diagnostic::warning(
                    Dialect::Keepalived,
                    span,
                    format!(
                        "({}) ignoring weight from tracked {what} {name} due to SYNC group. specify weight 0",
                        inst.name.node
                    ),
                ));
            };
            for (t, r) in tracks.iter_mut().zip(&inst.track_script) {
                if t.weight != 0 {
                    warn("script", &r.name.node, r.name.span);
                    t.weight = 0;
                }
            }
            for (t, r) in track_files.iter_mut().zip(&inst.track_file) {
                if t.weight != 0 {
                    warn("file", &r.name.node, r.name.span);
                    t.weight = 0;
                }
            }
            for (t, r) in track_processes.iter_mut().zip(&inst.track_process) {
                if t.weight != 0 {
                    warn("process", &r.name.node, r.name.span);
                    t.weight = 0;
                }
            }
            for r in inst
                .track_interface
                .iter()
                .filter(|r| r.weight.as_ref().is_some_and(|w| w.node.value != 0))
            {
                warn("interface", &r.name.node, r.name.span);
            }
            for t in track_links.iter_mut() {
                t.weight = 0;
            }
        }
        let garp_master_refresh = inst
            .garp
            .master_refresh
            .as_ref()
            .or(g.garp.master_refresh.as_ref())
            .map(|d| to_std(&d.node))
            .unwrap_or(Duration::ZERO);
        let garp_master_refresh_repeat = inst
            .garp
            .master_refresh_repeat
            .as_ref()
            .or(g.garp.master_refresh_repeat.as_ref())
            .map(|d| d.node)
            .unwrap_or(1);
        // The lower-priority burst defaults to the *global* vrrp_garp_master_* (as
        // keepalived.conf(5) says, and as keepalived 2.2.7 does: an instance's own
        // garp_master_* do not count here).
        let garp_lower_prio_delay = inst
            .garp
            .lower_prio_delay
            .as_ref()
            .or(g.garp.lower_prio_delay.as_ref())
            .or(g.garp.master_delay.as_ref())
            .map(|d| to_std(&d.node))
            .unwrap_or(DEFAULT_GARP_MASTER_DELAY);
        let garp_lower_prio_repeat = inst
            .garp
            .lower_prio_repeat
            .as_ref()
            .or(g.garp.lower_prio_repeat.as_ref())
            .or(g.garp.master_repeat.as_ref())
            .map(|d| d.node)
            .unwrap_or(DEFAULT_GARP_MASTER_REPEAT);
        let interval = |d: &Option<Spanned<rsproxy_parser::ir::Duration>>| {
            d.as_ref()
                .map(|d| to_std(&d.node))
                .unwrap_or(Duration::ZERO)
        };
        plans.push(InstancePlan {
            name: inst.name.node.clone(),
            interface: interface.node.clone(),
            vrid: vrid.node,
            version,
            priority: inst
                .priority
                .as_ref()
                .map(|p| p.node)
                .unwrap_or(DEFAULT_PRIORITY),
            advert_int_cs,
            start_master: inst
                .state
                .as_ref()
                .is_some_and(|s| s.node == VrrpState::Master),
            preempt: inst.nopreempt.is_none(),
            preempt_delay: inst
                .preempt_delay
                .as_ref()
                .map(|d| to_std(&d.node))
                .unwrap_or(Duration::ZERO),
            auth,
            vips: inst
                .virtual_ipaddress
                .iter()
                .map(|v| v.node.clone())
                .collect(),
            excluded: inst
                .virtual_ipaddress_excluded
                .iter()
                .map(|v| v.node.clone())
                .collect(),
            routes: inst.virtual_routes.iter().map(|v| v.node.clone()).collect(),
            mcast_group: g
                .vrrp_mcast_group4
                .as_ref()
                .map(|m| m.node)
                .unwrap_or(super::wire::advert::MCAST_V4),
            mcast_group6: g
                .vrrp_mcast_group6
                .as_ref()
                .map(|m| m.node)
                .unwrap_or(super::wire::advert::MCAST_V6),
            src_ip: inst
                .unicast_src_ip
                .as_ref()
                .or(inst.mcast_src_ip.as_ref())
                .map(|s| s.node),
            unicast_peers: inst.unicast_peers.iter().map(|p| p.node.clone()).collect(),
            check_unicast_src: inst.check_unicast_src.is_some()
                || g.vrrp_check_unicast_src.is_some(),
            garp_master_delay,
            garp_master_repeat,
            garp_master_refresh,
            garp_master_refresh_repeat,
            garp_lower_prio_delay,
            garp_lower_prio_repeat,
            garp_interval: interval(&g.vrrp_garp_interval),
            gna_interval: interval(&g.vrrp_gna_interval),
            no_accept: inst
                .accept
                .as_ref()
                .is_some_and(|a| a.node == AcceptMode::NoAccept)
                && inst.priority.as_ref().map(|p| p.node) != Some(255),
            tracks,
            track_files,
            track_processes,
            track_links,
            notify: notify_plan(&inst.notify, g),
            smtp,
        });
    }
    if r.0.is_empty() {
        Ok(VrrpPlan {
            instances: plans,
            scripts,
            script_security: g.enable_script_security.is_some(),
            files,
            sync_groups,
            warnings,
            processes,
        })
    } else {
        Err(r.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsproxy_parser::{check, CheckInput, Env, SourceMap};

    fn checked(text: &str) -> (Result<VrrpPlan, Vec<Diagnostic>>, SourceMap) {
        let dir = std::env::temp_dir().join(format!(
            "rsproxy-vrrp-plan-{}-{}",
            std::process::id(),
            text.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keepalived.conf");
        std::fs::write(&path, text).unwrap();
        let c = check(&CheckInput {
            haproxy: vec![],
            keepalived: Some(path),
            env: Env::default(),
            is_local_address: None,
        });
        let _ = std::fs::remove_dir_all(&dir);
        assert!(c.is_valid(), "{:?}", c.diagnostics);
        let plan = plan(c.keepalived.as_ref().unwrap());
        (plan, c.sources)
    }

    #[test]
    fn defaults_are_keepalived_ones() {
        let (p, _) = checked(
            "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  192.0.2.100\n }\n}\n",
        );
        let p = p.unwrap().instances;
        let i = &p[0];
        assert_eq!((i.vrid, i.priority, i.advert_int_cs), (51, 100, 100));
        assert_eq!(i.version, Version::V2);
        assert!(i.preempt && !i.start_master);
        assert_eq!(i.auth, Auth::None);
        assert_eq!(i.mcast_group, Ipv4Addr::new(224, 0, 0, 18));
        // Its own interface is tracked: down means FAULT.
        assert_eq!(
            i.track_links,
            [LinkTrackPlan {
                interface: "eth0".into(),
                weight: 0,
                reverse: false
            }]
        );
        assert_eq!(
            (i.garp_master_delay, i.garp_master_repeat),
            (Duration::from_secs(5), 5)
        );
    }

    #[test]
    fn settings_are_carried() {
        let (p, _) = checked(
            "global_defs {\n vrrp_version 3\n vrrp_garp_master_repeat 2\n}\n\
             vrrp_instance VI_1 {\n state BACKUP\n interface eth0\n virtual_router_id 7\n priority 200\n advert_int 0.5\n nopreempt\n garp_master_delay 1\n authentication {\n  auth_type PASS\n  auth_pass s3cret\n }\n virtual_ipaddress {\n  192.0.2.100/24 label eth0:1\n }\n}\n",
        );
        let i = &p.unwrap().instances[0];
        assert_eq!(i.version, Version::V3);
        assert_eq!((i.priority, i.advert_int_cs), (200, 50));
        assert!(!i.start_master && !i.preempt);
        assert_eq!(
            (i.garp_master_delay, i.garp_master_repeat),
            (Duration::from_secs(1), 2)
        );
        assert_eq!(i.auth, Auth::pass("s3cret"));
        assert_eq!(i.vips[0].label.as_deref(), Some("eth0:1"));
    }

    #[test]
    fn garp_settings_dev_and_their_defaults_are_carried() {
        let (p, _) = checked(
            "global_defs {\n vrrp_garp_interval 0.2\n vrrp_gna_interval 0.05\n vrrp_garp_master_delay 3\n vrrp_garp_lower_prio_repeat 2\n}\n\
             vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n garp_master_repeat 4\n garp_master_refresh 10\n virtual_ipaddress {\n  192.0.2.100/24 dev eth1\n }\n}\n\
             vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 8\n garp_lower_prio_delay 1\n virtual_ipaddress {\n  192.0.2.101/24\n }\n}\n\
             vrrp_instance VI_3 {\n interface eth0\n virtual_router_id 9\n garp_master_delay 1\n virtual_ipaddress {\n  192.0.2.102/24\n }\n}\n",
        );
        let p = p.unwrap().instances;
        let (a, b) = (&p[0], &p[1]);
        assert_eq!(a.vips[0].dev.as_deref(), Some("eth1"));
        assert_eq!(
            (a.garp_interval, a.gna_interval),
            (Duration::from_millis(200), Duration::from_millis(50))
        );
        assert_eq!(
            (a.garp_master_refresh, a.garp_master_refresh_repeat),
            (Duration::from_secs(10), 1)
        );
        // Lower-priority burst: the global repeat, the global master delay by default.
        assert_eq!(
            (a.garp_lower_prio_delay, a.garp_lower_prio_repeat),
            (Duration::from_secs(3), 2)
        );
        assert_eq!(
            (b.garp_lower_prio_delay, b.garp_lower_prio_repeat),
            (Duration::from_secs(1), 2)
        );
        // Not the instance's garp_master_delay: the global vrrp_garp_master_delay.
        assert_eq!(p[2].garp_lower_prio_delay, Duration::from_secs(3));
    }

    #[test]
    fn unsupported_keywords_are_refused_at_their_line() {
        let text = "vrrp_sync_group G {\n group {\n  VI_1\n  VI_2\n }\n notify_master /bin/true\n}\n\
                    vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  192.0.2.100\n }\n}\n\
                    vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 52\n virtual_ipaddress {\n  192.0.2.101\n }\n}\n";
        let (p, sources) = checked(text);
        let diags = p.unwrap_err();
        let found: Vec<(u32, String)> = diags
            .iter()
            .map(|d| (d.span.line, d.message.clone()))
            .collect();
        let line_of = |who: &str, kw: &str| {
            found
                .iter()
                .find(|(_, m)| m.contains(&format!("{who}: `{kw}`")))
                .map(|(l, _)| *l)
        };
        assert_eq!(line_of("vrrp_sync_group G", "notify_master"), Some(6));
        assert_eq!(found.len(), 1, "{found:?}");
        // Rendered as keepalived renders its own messages: (FILE: Line N).
        let mut all = rsproxy_parser::Diagnostics::new();
        for d in diags {
            all.push(d);
        }
        let text = all.render(&sources, 1, false);
        assert!(
            text.contains("keepalived.conf: Line 6) vrrp_sync_group G: `notify_master`"),
            "{text}"
        );
    }

    #[test]
    fn state_master_and_preempt_delay_are_carried() {
        let (p, _) = checked(
            "vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 7\n virtual_ipaddress {\n  192.0.2.100\n }\n}\n\
             vrrp_instance VI_2 {\n state BACKUP\n interface eth0\n virtual_router_id 8\n preempt_delay 10\n virtual_ipaddress {\n  192.0.2.101\n }\n}\n",
        );
        let p = p.unwrap().instances;
        assert!(p[0].start_master && p[0].preempt);
        assert!(!p[1].start_master && p[1].preempt);
        assert_eq!(p[1].preempt_delay, Duration::from_secs(10));
    }

    #[test]
    fn track_files_with_their_weights() {
        let (p, _) = checked(
            "track_file tf {\n file /run/tf\n weight 2\n init_file 5 overwrite\n}\n\
             vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 9\n virtual_ipaddress {\n  192.0.2.1\n }\n track_file {\n  tf\n  tf weight -3 reverse\n }\n}\n",
        );
        let p = p.unwrap();
        assert_eq!(
            p.files,
            [FilePlan {
                name: "tf".into(),
                path: "/run/tf".into(),
                init: Some((5, true))
            }]
        );
        assert_eq!(
            p.instances[0].track_files,
            [
                FileTrackPlan {
                    file: 0,
                    weight: 2,
                    reverse: false
                },
                FileTrackPlan {
                    file: 0,
                    weight: -3,
                    reverse: true
                }
            ]
        );
    }

    #[test]
    fn sync_group_members_track_with_weight_0_as_keepalived_does() {
        let (p, _) = checked(
            "track_file tf {\n file /run/tf\n weight 1\n}\n\
             vrrp_sync_group G {\n group {\n  VI_1\n  VI_2\n }\n}\n\
             vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  192.0.2.1\n }\n track_file {\n  tf\n }\n}\n\
             vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 2\n virtual_ipaddress {\n  192.0.2.2\n }\n}\n",
        );
        let p = p.unwrap();
        assert_eq!(p.sync_groups, [("G".to_string(), vec![0, 1])]);
        assert_eq!(p.instances[0].track_files[0].weight, 0);
        assert_eq!(p.warnings.len(), 1);
        assert!(p.warnings[0]
            .message
            .contains("ignoring weight from tracked file tf due to SYNC group"));
        assert_eq!(p.warnings[0].span.line, 18);
    }

    #[test]
    fn ipv6_instances_run_version_3() {
        let (p, _) = checked(
            "vrrp_instance V6 {\n interface eth0\n virtual_router_id 9\n virtual_ipaddress {\n  2001:db8::100/64\n }\n virtual_ipaddress_excluded {\n  192.0.2.9\n }\n}\n",
        );
        let i = &p.unwrap().instances[0];
        assert_eq!(i.version, Version::V3);
        assert_eq!(i.mcast_group6, "ff02::12".parse::<Ipv6Addr>().unwrap());
        assert_eq!(
            i.excluded[0].addr.addr,
            "192.0.2.9".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn seed_configs_track_their_script_with_its_weight() {
        let seed = "vrrp_script chk_haproxy {\n script \"killall -0 haproxy\"\n interval 2\n weight 2\n}\n\
                    vrrp_script unused {\n script /bin/false\n}\n\
                    vrrp_instance VI_1 {\n interface eth0\n state MASTER\n virtual_router_id 51\n priority 101\n virtual_ipaddress {\n  192.0.2.100\n }\n track_script {\n  chk_haproxy\n  chk_haproxy weight -5 reverse\n }\n}\n";
        let (p, _) = checked(seed);
        let p = p.unwrap();
        assert_eq!(p.scripts.len(), 1, "only tracked scripts run");
        let s = &p.scripts[0];
        assert_eq!(s.argv, ["killall", "-0", "haproxy"]);
        assert_eq!(
            (s.interval, s.timeout),
            (Duration::from_secs(2), Duration::from_secs(2))
        );
        assert_eq!((s.rise, s.fall, s.init_fail), (1, 1, false));
        assert_eq!(
            p.instances[0].tracks,
            [
                TrackPlan {
                    script: 0,
                    weight: 2,
                    reverse: false
                },
                TrackPlan {
                    script: 0,
                    weight: -5,
                    reverse: true
                }
            ]
        );
        assert!(!p.script_security);
    }
}
