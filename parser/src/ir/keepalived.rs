//! The keepalived half of the IR: global_defs, VRRP scripts, instances, sync groups, tracked
//! files and processes.
//!
//! Built by `keepalived::build` from the block tree and checked by `keepalived::validate`.
//! Every item that came from a config line is [`Spanned`]; optional settings are `Option`s so
//! the runtime can tell "not written" (use keepalived's default) from an explicit value.
//! Defaults are documented on each field and applied by the runtime plan, not here.

use super::{Duration, IpNet};
use crate::source::{Span, Spanned};
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A whole keepalived.conf (with its includes).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Config {
    pub global_defs: GlobalDefs,
    pub scripts: Vec<VrrpScript>,
    pub instances: Vec<VrrpInstance>,
    pub sync_groups: Vec<SyncGroup>,
    pub track_files: Vec<TrackFile>,
    pub track_processes: Vec<TrackProcess>,
}

impl Config {
    pub fn script(&self, name: &str) -> Option<&VrrpScript> {
        self.scripts.iter().find(|s| s.name.node == name)
    }
    pub fn instance(&self, name: &str) -> Option<&VrrpInstance> {
        self.instances.iter().find(|i| i.name.node == name)
    }
}

/// `global_defs { ... }`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GlobalDefs {
    /// `notification_email { ADDR ... }`.
    pub notification_email: Vec<Spanned<String>>,
    pub notification_email_from: Option<Spanned<String>>,
    /// `smtp_server HOST [PORT]` (port defaults to 25).
    pub smtp_server: Option<Spanned<SmtpServer>>,
    pub smtp_helo_name: Option<Spanned<String>>,
    /// Default 30s.
    pub smtp_connect_timeout: Option<Spanned<Duration>>,
    /// Default for every instance's and group's `smtp_alert`.
    pub smtp_alert: Option<Spanned<bool>>,
    /// Default: the host name.
    pub router_id: Option<Spanned<String>>,
    /// Default 224.0.0.18.
    pub vrrp_mcast_group4: Option<Spanned<Ipv4Addr>>,
    /// Default ff02::12.
    pub vrrp_mcast_group6: Option<Spanned<Ipv6Addr>>,
    pub enable_script_security: Option<Span>,
    pub script_user: Option<Spanned<ScriptUser>>,
    /// Instance defaults for gratuitous ARP / unsolicited NA.
    pub garp: Garp,
    /// Delay between gratuitous ARPs on one interface (default 0).
    pub vrrp_garp_interval: Option<Spanned<Duration>>,
    /// Delay between unsolicited NAs on one interface (default 0).
    pub vrrp_gna_interval: Option<Spanned<Duration>>,
    /// Default VRRP version (2; IPv6 instances always use 3).
    pub vrrp_version: Option<Spanned<VrrpVersion>>,
    pub vrrp_skip_check_adv_addr: Option<Spanned<bool>>,
    pub vrrp_check_unicast_src: Option<Span>,
    /// Parsed so it can be reported; strict mode is not carried out yet.
    pub vrrp_strict: Option<Span>,
    /// Accepted, no effect in rsproxy (it does not change its scheduling priority).
    pub max_auto_priority: Option<Spanned<i32>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SmtpServer {
    pub host: String,
    pub port: u16,
}

/// `USER [GROUP]` for scripts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScriptUser {
    pub user: String,
    pub group: Option<String>,
}

/// Gratuitous ARP / NA settings, global (`vrrp_garp_*`) or per instance (`garp_*`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Garp {
    /// Delay of the second burst after becoming master (default 5s; 0 = none).
    pub master_delay: Option<Spanned<Duration>>,
    /// Messages per burst after becoming master (default 5).
    pub master_repeat: Option<Spanned<u32>>,
    /// Refresh interval while master (default 0 = none).
    pub master_refresh: Option<Spanned<Duration>>,
    /// Messages per refresh (default 1).
    pub master_refresh_repeat: Option<Spanned<u32>>,
    pub lower_prio_delay: Option<Spanned<Duration>>,
    pub lower_prio_repeat: Option<Spanned<u32>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum VrrpVersion {
    V2,
    V3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum VrrpState {
    Master,
    Backup,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AuthType {
    /// Simple password (RFC 2338 type 1).
    Pass,
    /// IPsec AH (RFC 2338 type 2); recognised, not supported.
    Ah,
}

/// `authentication { auth_type ..; auth_pass .. }`.
#[derive(Clone, Debug, Serialize)]
pub struct Authentication {
    pub auth_type: Option<Spanned<AuthType>>,
    /// At most 8 bytes are used on the wire.
    pub auth_pass: Option<Spanned<String>>,
}

/// A tracking weight: `weight N [reverse|noreverse]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Weight {
    pub value: i32,
    pub reverse: bool,
}

/// A script, possibly with arguments, and who runs it: `notify_master "/x.sh a" [user [group]]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Command {
    /// The command line as written (after quote removal).
    pub command: String,
    pub user: Option<ScriptUser>,
}

/// Notification scripts of an instance or a sync group.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Notify {
    pub master: Option<Spanned<Command>>,
    pub backup: Option<Spanned<Command>>,
    pub fault: Option<Spanned<Command>>,
    pub stop: Option<Spanned<Command>>,
    /// `notify`: called on every transition with 4 extra arguments.
    pub any: Option<Spanned<Command>>,
}

/// `vrrp_script NAME { ... }`.
#[derive(Clone, Debug, Serialize)]
pub struct VrrpScript {
    pub name: Spanned<String>,
    pub script: Option<Spanned<String>>,
    /// Default 1s.
    pub interval: Option<Spanned<Duration>>,
    /// Default: the interval.
    pub timeout: Option<Spanned<Duration>>,
    /// Default 0 (failure means FAULT).
    pub weight: Option<Spanned<Weight>>,
    /// Default 1.
    pub rise: Option<Spanned<u32>>,
    /// Default 1.
    pub fall: Option<Spanned<u32>>,
    pub user: Option<Spanned<ScriptUser>>,
    pub init_fail: Option<Span>,
}

/// A reference to a tracked object by name, with an optional weight override
/// (`track_script`, `track_file`, `track_process`) — or an interface (`track_interface`).
#[derive(Clone, Debug, Serialize)]
pub struct TrackRef {
    pub name: Spanned<String>,
    pub weight: Option<Spanned<Weight>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AddrScope {
    Global,
    Site,
    Link,
    Host,
    Nowhere,
}

/// One line of `virtual_ipaddress` / `virtual_ipaddress_excluded`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VirtualIp {
    pub addr: IpNet,
    pub brd: Option<IpAddr>,
    pub dev: Option<String>,
    pub scope: Option<AddrScope>,
    pub label: Option<String>,
    pub peer: Option<IpNet>,
    /// The instance does not leave MASTER if this address is removed.
    pub no_track: bool,
}

/// One line of `virtual_routes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VirtualRoute {
    pub to: IpNet,
    pub src: Option<IpAddr>,
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    pub table: Option<u32>,
    pub metric: Option<u32>,
    pub scope: Option<AddrScope>,
    pub blackhole: bool,
    pub no_track: bool,
}

/// One line of `unicast_peer`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnicastPeer {
    pub addr: IpAddr,
    pub min_ttl: Option<u8>,
    pub max_ttl: Option<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AcceptMode {
    Accept,
    NoAccept,
}

/// `vrrp_instance NAME { ... }`.
#[derive(Clone, Debug, Serialize)]
pub struct VrrpInstance {
    pub name: Spanned<String>,
    /// Default BACKUP.
    pub state: Option<Spanned<VrrpState>>,
    pub interface: Option<Spanned<String>>,
    pub virtual_router_id: Option<Spanned<u8>>,
    /// 1..=255, default 100.
    pub priority: Option<Spanned<u8>>,
    /// Default 1s; 0.01s..=255s.
    pub advert_int: Option<Spanned<Duration>>,
    pub authentication: Option<Spanned<Authentication>>,
    pub virtual_ipaddress: Vec<Spanned<VirtualIp>>,
    pub virtual_ipaddress_excluded: Vec<Spanned<VirtualIp>>,
    pub virtual_routes: Vec<Spanned<VirtualRoute>>,
    pub track_script: Vec<TrackRef>,
    pub track_interface: Vec<TrackRef>,
    pub track_file: Vec<TrackRef>,
    pub track_process: Vec<TrackRef>,
    pub nopreempt: Option<Span>,
    /// 0..=1000s.
    pub preempt_delay: Option<Spanned<Duration>>,
    pub unicast_src_ip: Option<Spanned<IpAddr>>,
    pub unicast_peers: Vec<Spanned<UnicastPeer>>,
    /// Where `unicast_peer` was written (even if it lists no valid peer).
    pub unicast_peer_block: Option<Span>,
    pub mcast_src_ip: Option<Spanned<IpAddr>>,
    pub notify: Notify,
    pub smtp_alert: Option<Spanned<bool>>,
    pub garp: Garp,
    pub version: Option<Spanned<VrrpVersion>>,
    pub accept: Option<Spanned<AcceptMode>>,
    pub dont_track_primary: Option<Span>,
    pub native_ipv6: Option<Span>,
    pub skip_check_adv_addr: Option<Spanned<bool>>,
    pub check_unicast_src: Option<Span>,
}

impl VrrpInstance {
    pub fn new(name: Spanned<String>) -> Self {
        VrrpInstance {
            name,
            state: None,
            interface: None,
            virtual_router_id: None,
            priority: None,
            advert_int: None,
            authentication: None,
            virtual_ipaddress: Vec::new(),
            virtual_ipaddress_excluded: Vec::new(),
            virtual_routes: Vec::new(),
            track_script: Vec::new(),
            track_interface: Vec::new(),
            track_file: Vec::new(),
            track_process: Vec::new(),
            nopreempt: None,
            preempt_delay: None,
            unicast_src_ip: None,
            unicast_peers: Vec::new(),
            unicast_peer_block: None,
            mcast_src_ip: None,
            notify: Notify::default(),
            smtp_alert: None,
            garp: Garp::default(),
            version: None,
            accept: None,
            dont_track_primary: None,
            native_ipv6: None,
            skip_check_adv_addr: None,
            check_unicast_src: None,
        }
    }

    /// The address family of the instance: IPv6 with `native_ipv6`, else that of its first
    /// virtual address (IPv4 if none).
    pub fn is_ipv6(&self) -> bool {
        self.native_ipv6.is_some()
            || self
                .virtual_ipaddress
                .first()
                .is_some_and(|vip| vip.addr.addr.is_ipv6())
    }
}

/// `vrrp_sync_group NAME { ... }`.
#[derive(Clone, Debug, Serialize)]
pub struct SyncGroup {
    pub name: Spanned<String>,
    /// `group { INSTANCE ... }`.
    pub members: Vec<Spanned<String>>,
    pub track_script: Vec<TrackRef>,
    pub track_interface: Vec<TrackRef>,
    pub track_file: Vec<TrackRef>,
    pub track_process: Vec<TrackRef>,
    pub notify: Notify,
    pub smtp_alert: Option<Spanned<bool>>,
}

impl SyncGroup {
    pub fn new(name: Spanned<String>) -> Self {
        SyncGroup {
            name,
            members: Vec::new(),
            track_script: Vec::new(),
            track_interface: Vec::new(),
            track_file: Vec::new(),
            track_process: Vec::new(),
            notify: Notify::default(),
            smtp_alert: None,
        }
    }
}

/// `track_file NAME { ... }` (`vrrp_track_file` is the old name).
#[derive(Clone, Debug, Serialize)]
pub struct TrackFile {
    pub name: Spanned<String>,
    pub file: Option<Spanned<String>>,
    /// Default 1.
    pub weight: Option<Spanned<Weight>>,
    pub init_file: Option<Spanned<InitFile>>,
}

/// `init_file [VALUE] [overwrite]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct InitFile {
    pub value: i64,
    pub overwrite: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ParamMatch {
    Initial,
    Partial,
}

/// `track_process NAME { ... }` (`vrrp_track_process` too).
#[derive(Clone, Debug, Serialize)]
pub struct TrackProcess {
    pub name: Spanned<String>,
    /// Process name then parameters.
    pub process: Option<Spanned<Vec<String>>>,
    pub param_match: Option<Spanned<ParamMatch>>,
    /// Default 1.
    pub weight: Option<Spanned<Weight>>,
    /// Default 1.
    pub quorum: Option<Spanned<u32>>,
    pub quorum_max: Option<Spanned<u32>>,
    pub fork_delay: Option<Spanned<Duration>>,
    pub terminate_delay: Option<Spanned<Duration>>,
    pub full_command: Option<Span>,
}
