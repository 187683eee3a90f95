//! VRRP blocks: `vrrp_script`, `vrrp_instance` (with `authentication` and its address lists),
//! `vrrp_sync_group`, `track_file`, `track_process`. Keyword tables and parse functions.

use super::dispatch::{dispatch, kw, lvs, no_effect, unsupported, Braces, Keyword, MANY};
use super::global::version;
use super::tree::Stmt;
use super::values::{Ctx, PendingRef};
use crate::ir::keepalived::{
    AcceptMode, AddrScope, AuthType, Authentication, Config, InitFile, ParamMatch, SyncGroup,
    TrackFile, TrackProcess, TrackRef, UnicastPeer, VirtualIp, VirtualRoute, VrrpInstance,
    VrrpScript, VrrpState,
};
use crate::source::Spanned;

// ---------------------------------------------------------------------------------------------
// vrrp_script

pub static VRRP_SCRIPT: &[Keyword<VrrpScript>] = &[
    kw("script", 1, 1, Braces::No, |_, st, s| {
        s.script = Some(st.args[0].clone())
    }),
    kw("interval", 1, 1, Braces::No, |c, st, s| {
        s.interval = c.timer(st, 0, 0.000001, 86400.0)
    }),
    kw("timeout", 1, 1, Braces::No, |c, st, s| {
        s.timeout = c.timer(st, 0, 0.000001, 86400.0)
    }),
    kw("weight", 1, 2, Braces::No, |c, st, s| {
        // `weight N [reverse]`: reuse the track-ref parser with a virtual `weight` word.
        let n = c.int(st, 0, -253, 253);
        let reverse = match st.args.get(1).map(|a| a.node.as_str()) {
            None | Some("noreverse" | "no_reverse") => false,
            Some("reverse") => true,
            Some(other) => {
                c.error(
                    st.args[1].span,
                    format!("expected 'reverse', not '{other}'"),
                );
                false
            }
        };
        s.weight = n.map(|n| {
            n.map(|v| crate::ir::keepalived::Weight {
                value: v as i32,
                reverse,
            })
        });
    }),
    kw("rise", 1, 1, Braces::No, |c, st, s| {
        s.rise = c.u32(st, 0, 1, u32::MAX)
    }),
    kw("fall", 1, 1, Braces::No, |c, st, s| {
        s.fall = c.u32(st, 0, 1, u32::MAX)
    }),
    kw("user", 1, 2, Braces::No, |c, st, s| {
        s.user = c.user(st, 0).map(|u| Spanned::new(u, st.args[0].span));
    }),
    kw("init_fail", 0, 0, Braces::No, |_, st, s| {
        s.init_fail = Some(st.keyword.span)
    }),
];

pub fn script(c: &mut Ctx, st: &Stmt, cfg: &mut Config) {
    let mut s = VrrpScript {
        name: st.args[0].clone(),
        script: None,
        interval: None,
        timeout: None,
        weight: None,
        rise: None,
        fall: None,
        user: None,
        init_fail: None,
    };
    if let Some(b) = &st.block {
        dispatch(c, "vrrp_script", VRRP_SCRIPT, &b.stmts, &mut s);
    }
    cfg.scripts.push(s);
}

// ---------------------------------------------------------------------------------------------
// vrrp_instance

pub static VRRP_INSTANCE: &[Keyword<VrrpInstance>] = &[
    kw("state", 1, 1, Braces::No, |c, st, i| {
        let a = &st.args[0];
        i.state = match a.node.as_str() {
            "MASTER" => Some(Spanned::new(VrrpState::Master, a.span)),
            "BACKUP" => Some(Spanned::new(VrrpState::Backup, a.span)),
            other => {
                c.error(
                    a.span,
                    format!("unknown state '{other}': expected MASTER or BACKUP"),
                );
                None
            }
        };
    }),
    kw("interface", 1, 1, Braces::No, |c, st, i| {
        let a = &st.args[0];
        if a.node == "lo" {
            c.error(
                a.span,
                format!(
                    "({}) cannot use a loopback interface (lo) for vrrp",
                    i.name.node
                ),
            );
        }
        i.interface = Some(a.clone());
    }),
    kw("virtual_router_id", 1, 1, Braces::No, |c, st, i| {
        i.virtual_router_id = c.int(st, 0, 1, 255).map(|n| n.map(|v| v as u8));
    }),
    kw("priority", 1, 1, Braces::No, |c, st, i| {
        i.priority = c.int(st, 0, 1, 255).map(|n| n.map(|v| v as u8));
    }),
    kw("advert_int", 1, 1, Braces::No, |c, st, i| {
        i.advert_int = c.timer(st, 0, 0.01, 255.0)
    }),
    kw("authentication", 0, 0, Braces::Required, |c, st, i| {
        let mut auth = Authentication {
            auth_type: None,
            auth_pass: None,
        };
        if let Some(b) = &st.block {
            dispatch(c, "authentication", AUTHENTICATION, &b.stmts, &mut auth);
        }
        i.authentication = Some(Spanned::new(auth, st.keyword.span));
    }),
    kw("virtual_ipaddress", 0, 0, Braces::Required, |c, st, i| {
        i.virtual_ipaddress.extend(addresses(c, st));
    }),
    kw(
        "virtual_ipaddress_excluded",
        0,
        0,
        Braces::Required,
        |c, st, i| {
            i.virtual_ipaddress_excluded.extend(addresses(c, st));
        },
    ),
    kw("virtual_routes", 0, 0, Braces::Required, |c, st, i| {
        for item in items(st) {
            if let Some(r) = route(c, item) {
                i.virtual_routes.push(r);
            }
        }
    }),
    kw("track_script", 0, 0, Braces::Required, |c, st, i| {
        i.track_script.extend(track_refs(c, st, 253))
    }),
    kw("track_interface", 0, 0, Braces::Required, |c, st, i| {
        i.track_interface.extend(track_refs(c, st, 253));
    }),
    kw("track_file", 0, 0, Braces::Required, |c, st, i| {
        i.track_file.extend(track_refs(c, st, 254))
    }),
    kw("track_process", 0, 0, Braces::Required, |c, st, i| {
        i.track_process.extend(track_refs(c, st, 254))
    }),
    kw("nopreempt", 0, 0, Braces::No, |_, st, i| {
        i.nopreempt = Some(st.keyword.span)
    }),
    kw("preempt", 0, 0, Braces::No, |_, _, i| i.nopreempt = None),
    kw("preempt_delay", 1, 1, Braces::No, |c, st, i| {
        i.preempt_delay = c.timer(st, 0, 0.0, 1000.0)
    }),
    kw("unicast_src_ip", 1, 1, Braces::No, |c, st, i| {
        i.unicast_src_ip = c.ip(st, 0)
    }),
    kw("unicast_peer", 0, 0, Braces::Required, |c, st, i| {
        i.unicast_peer_block = Some(st.keyword.span);
        for item in items(st) {
            if let Some(p) = unicast_peer(c, item, &i.name.node) {
                i.unicast_peers.push(p);
            }
        }
    }),
    kw("mcast_src_ip", 1, 1, Braces::No, |c, st, i| {
        i.mcast_src_ip = c.ip(st, 0)
    }),
    kw("notify_master", 1, 3, Braces::No, |c, st, i| {
        i.notify.master = c.command(st)
    }),
    kw("notify_backup", 1, 3, Braces::No, |c, st, i| {
        i.notify.backup = c.command(st)
    }),
    kw("notify_fault", 1, 3, Braces::No, |c, st, i| {
        i.notify.fault = c.command(st)
    }),
    kw("notify_stop", 1, 3, Braces::No, |c, st, i| {
        i.notify.stop = c.command(st)
    }),
    kw("notify", 1, 3, Braces::No, |c, st, i| {
        i.notify.any = c.command(st)
    }),
    kw("smtp_alert", 0, 1, Braces::No, |c, st, i| {
        i.smtp_alert = Some(c.boolean(st, 0))
    }),
    kw("garp_master_delay", 1, 1, Braces::No, |c, st, i| {
        i.garp.master_delay = c.timer(st, 0, 0.0, 86400.0)
    }),
    kw("garp_master_repeat", 1, 1, Braces::No, |c, st, i| {
        i.garp.master_repeat = c.u32(st, 0, 0, 65535)
    }),
    kw("garp_master_refresh", 1, 1, Braces::No, |c, st, i| {
        i.garp.master_refresh = c.timer(st, 0, 0.0, 86400.0);
    }),
    kw(
        "garp_master_refresh_repeat",
        1,
        1,
        Braces::No,
        |c, st, i| {
            i.garp.master_refresh_repeat = c.u32(st, 0, 0, 65535);
        },
    ),
    kw("garp_lower_prio_delay", 1, 1, Braces::No, |c, st, i| {
        i.garp.lower_prio_delay = c.timer(st, 0, 0.0, 86400.0);
    }),
    kw("garp_lower_prio_repeat", 1, 1, Braces::No, |c, st, i| {
        i.garp.lower_prio_repeat = c.u32(st, 0, 0, 65535);
    }),
    kw("version", 1, 1, Braces::No, |c, st, i| {
        i.version = version(c, st)
    }),
    kw("accept", 0, 0, Braces::No, |_, st, i| {
        i.accept = Some(Spanned::new(AcceptMode::Accept, st.keyword.span))
    }),
    kw("no_accept", 0, 0, Braces::No, |_, st, i| {
        i.accept = Some(Spanned::new(AcceptMode::NoAccept, st.keyword.span));
    }),
    kw("dont_track_primary", 0, 0, Braces::No, |_, st, i| {
        i.dont_track_primary = Some(st.keyword.span)
    }),
    kw("native_ipv6", 0, 0, Braces::No, |_, st, i| {
        i.native_ipv6 = Some(st.keyword.span)
    }),
    kw("skip_check_adv_addr", 0, 1, Braces::No, |c, st, i| {
        i.skip_check_adv_addr = Some(c.boolean(st, 0))
    }),
    kw("check_unicast_src", 0, 0, Braces::No, |_, st, i| {
        i.check_unicast_src = Some(st.keyword.span)
    }),
    no_effect("debug", 0, 1),
    no_effect("linkbeat_use_polling", 0, 0),
    no_effect("kernel_rx_buf_size", 0, MANY),
    lvs("lvs_sync_daemon_interface"),
    unsupported("use_vmac"),
    unsupported("use_vmac_addr"),
    unsupported("vmac_xmit_base"),
    unsupported("use_ipvlan"),
    unsupported("vrf"),
    unsupported("strict_mode"),
    unsupported("virtual_rules"),
    unsupported("track_bfd"),
    unsupported("track_src_ip"),
    unsupported("mcast_dst_ip"),
    unsupported("unicast_fault_no_peer"),
    unsupported("unicast_ttl"),
    unsupported("old_unicast_checksum"),
    unsupported("garp_extra_if"),
    unsupported("down_timer_adverts"),
    unsupported("lower_prio_no_advert"),
    unsupported("higher_prio_send_advert"),
    unsupported("promote_secondaries"),
    unsupported("notify_master_rx_lower_pri"),
    unsupported("notify_deleted"),
    unsupported("notify_priority_changes"),
];

pub static AUTHENTICATION: &[Keyword<Authentication>] = &[
    kw("auth_type", 1, 1, Braces::No, |c, st, a| {
        let w = &st.args[0];
        a.auth_type = match w.node.as_str() {
            "PASS" => Some(Spanned::new(AuthType::Pass, w.span)),
            "AH" => Some(Spanned::new(AuthType::Ah, w.span)),
            other => {
                c.error(
                    w.span,
                    format!("unknown auth_type '{other}': expected PASS or AH"),
                );
                None
            }
        };
    }),
    kw("auth_pass", 1, 1, Braces::No, |_, st, a| {
        a.auth_pass = Some(st.args[0].clone())
    }),
];

pub fn instance(c: &mut Ctx, st: &Stmt, cfg: &mut Config) {
    let mut inst = VrrpInstance::new(st.args[0].clone());
    if let Some(b) = &st.block {
        dispatch(c, "vrrp_instance", VRRP_INSTANCE, &b.stmts, &mut inst);
    }
    let owner = &inst.name.node;
    unresolved(
        c,
        cfg,
        owner,
        &inst.track_script,
        &inst.track_file,
        &inst.track_process,
    );
    cfg.instances.push(inst);
}

/// Records references not defined so far (see [`Ctx::pending`]).
fn unresolved(
    c: &mut Ctx,
    cfg: &Config,
    owner: &str,
    scripts: &[TrackRef],
    files: &[TrackRef],
    procs: &[TrackRef],
) {
    for r in scripts
        .iter()
        .filter(|r| cfg.script(&r.name.node).is_none())
    {
        c.pending.push(PendingRef {
            kind: "track script",
            name: r.name.clone(),
            owner: owner.to_string(),
        });
    }
    for r in files
        .iter()
        .filter(|r| !cfg.track_files.iter().any(|f| f.name.node == r.name.node))
    {
        c.pending.push(PendingRef {
            kind: "track file",
            name: r.name.clone(),
            owner: owner.to_string(),
        });
    }
    for r in procs.iter().filter(|r| {
        !cfg.track_processes
            .iter()
            .any(|p| p.name.node == r.name.node)
    }) {
        c.pending.push(PendingRef {
            kind: "track process",
            name: r.name.clone(),
            owner: owner.to_string(),
        });
    }
}

/// The lines of a list block.
fn items(st: &Stmt) -> impl Iterator<Item = &Stmt> {
    st.block.iter().flat_map(|b| &b.stmts)
}

/// `virtual_ipaddress { ADDR[/P] [brd X] [dev IF] [scope S] [label L] [peer P] [no_track] }`.
fn addresses(c: &mut Ctx, st: &Stmt) -> Vec<Spanned<VirtualIp>> {
    let mut out = Vec::new();
    for item in items(st) {
        let Some(addr) = c.ipnet(&st.keyword.node, &item.keyword) else {
            continue;
        };
        let mut vip = VirtualIp {
            addr,
            brd: None,
            dev: None,
            scope: None,
            label: None,
            peer: None,
            no_track: false,
        };
        let mut k = 0;
        let mut ok = true;
        while k < item.args.len() {
            let opt = &item.args[k];
            let value = item.args.get(k + 1);
            let needs_value = matches!(
                opt.node.as_str(),
                "brd" | "dev" | "scope" | "label" | "peer"
            );
            if needs_value && value.is_none() {
                c.error(opt.span, format!("'{}' needs a value", opt.node));
                ok = false;
                break;
            }
            match opt.node.as_str() {
                "brd" => {
                    let Some(v) = value else { break };
                    match v.node.as_str() {
                        "+" | "-" => {}
                        s => match s.parse() {
                            Ok(ip) => vip.brd = Some(ip),
                            Err(_) => {
                                c.error(v.span, format!("invalid broadcast address '{s}'"));
                                ok = false;
                            }
                        },
                    }
                    k += 2;
                }
                "dev" => {
                    let Some(v) = value else { break };
                    vip.dev = Some(v.node.clone());
                    k += 2;
                }
                "label" => {
                    let Some(v) = value else { break };
                    vip.label = Some(v.node.clone());
                    k += 2;
                }
                "scope" => {
                    let Some(v) = value else { break };
                    vip.scope = scope(c, v);
                    ok &= vip.scope.is_some();
                    k += 2;
                }
                "peer" => {
                    let Some(v) = value else { break };
                    vip.peer = c.ipnet("peer", v);
                    ok &= vip.peer.is_some();
                    k += 2;
                }
                "no_track" => {
                    vip.no_track = true;
                    k += 1;
                }
                "home" | "-nodad" | "mngtmpaddr" | "noprefixroute" | "autojoin" | "use_vmac"
                | "preferred_lft" | "track_group" => {
                    c.error(
                        opt.span,
                        format!(
                            "address option '{}' is recognised but not supported by rsproxy yet",
                            opt.node
                        ),
                    );
                    ok = false;
                    k += if matches!(opt.node.as_str(), "preferred_lft" | "track_group") {
                        2
                    } else {
                        1
                    };
                }
                other => {
                    c.error(
                        opt.span,
                        format!("Unknown configuration entry '{other}' for ip address"),
                    );
                    ok = false;
                    k += 1;
                }
            }
        }
        if ok {
            out.push(Spanned::new(vip, item.keyword.span));
        }
    }
    out
}

fn scope(c: &mut Ctx, w: &Spanned<String>) -> Option<AddrScope> {
    match w.node.as_str() {
        "global" => Some(AddrScope::Global),
        "site" => Some(AddrScope::Site),
        "link" => Some(AddrScope::Link),
        "host" => Some(AddrScope::Host),
        "nowhere" => Some(AddrScope::Nowhere),
        other => {
            c.error(
                w.span,
                format!("unknown scope '{other}': expected global, site, link, host or nowhere"),
            );
            None
        }
    }
}

/// `[src IP] [to] DEST via|gw IP [dev IF] [scope S] [table N] [metric N] [no_track]`, or
/// `blackhole DEST`.
fn route(c: &mut Ctx, item: &Stmt) -> Option<Spanned<VirtualRoute>> {
    let words: Vec<&Spanned<String>> = std::iter::once(&item.keyword).chain(&item.args).collect();
    let mut r = VirtualRoute {
        to: crate::ir::IpNet::host(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
        src: None,
        via: None,
        dev: None,
        table: None,
        metric: None,
        scope: None,
        blackhole: false,
        no_track: false,
    };
    let mut dest = None;
    let mut k = 0;
    let ip = |c: &mut Ctx, w: Option<&&Spanned<String>>, what: &str| -> Option<std::net::IpAddr> {
        let w = w?;
        let v = w.node.parse().ok();
        if v.is_none() {
            c.error(
                w.span,
                format!("virtual_routes: invalid {what} address '{}'", w.node),
            );
        }
        v
    };
    while k < words.len() {
        let w = words[k];
        let next = words.get(k + 1);
        match w.node.as_str() {
            "src" => {
                r.src = Some(ip(c, next, "src")?);
                k += 2;
            }
            "to" => k += 1,
            "via" | "gw" => {
                r.via = Some(ip(c, next, "gateway")?);
                k += 2;
            }
            "dev" => {
                r.dev = Some(next?.node.clone());
                k += 2;
            }
            "scope" => {
                r.scope = Some(scope(c, next?)?);
                k += 2;
            }
            "table" | "metric" | "priority" | "preference" => {
                let n = next?;
                let v: u32 = match n.node.parse() {
                    Ok(v) => v,
                    Err(_) => {
                        c.error(
                            n.span,
                            format!(
                                "virtual_routes: '{}' expects a number, not '{}'",
                                w.node, n.node
                            ),
                        );
                        return None;
                    }
                };
                if w.node == "table" {
                    r.table = Some(v);
                } else {
                    r.metric = Some(v);
                }
                k += 2;
            }
            "blackhole" => {
                r.blackhole = true;
                k += 1;
            }
            "no_track" => {
                r.no_track = true;
                k += 1;
            }
            _ if dest.is_none()
                && w.node
                    .chars()
                    .next()
                    .is_some_and(|ch| ch.is_ascii_hexdigit() || ch == ':') =>
            {
                dest = Some(c.ipnet("virtual_routes", w)?);
                k += 1;
            }
            other => {
                c.error(
                    w.span,
                    format!("virtual_routes: option '{other}' is not supported by rsproxy yet"),
                );
                return None;
            }
        }
    }
    if r.dev.is_none() && !r.no_track {
        c.error(
            item.keyword.span,
            "virtual_routes: cannot track a route with no 'dev' (add 'dev IF' or 'no_track')",
        );
        return None;
    }
    match dest {
        Some(d) => {
            r.to = d;
            Some(Spanned::new(r, item.keyword.span))
        }
        None => {
            c.error(item.keyword.span, "virtual_routes: no destination");
            None
        }
    }
}

/// `NAME [weight N [reverse|noreverse]]` lines.
fn track_refs(c: &mut Ctx, st: &Stmt, limit: i64) -> Vec<TrackRef> {
    let mut out = Vec::new();
    for item in items(st) {
        let weight = match item.args.first().map(|a| a.node.as_str()) {
            None => None,
            Some("weight") => {
                if item.args.len() < 2 {
                    c.error(item.args[0].span, "'weight' needs a value");
                    continue;
                }
                match c.weight(item, 0, -limit, limit) {
                    Some(w) => Some(w),
                    None => continue,
                }
            }
            Some(other) => {
                c.error(
                    item.args[0].span,
                    format!("{}: expected 'weight', not '{other}'", st.keyword.node),
                );
                continue;
            }
        };
        out.push(TrackRef {
            name: item.keyword.clone(),
            weight,
        });
    }
    out
}

/// `ADDR [min_ttl N] [max_ttl N]`.
fn unicast_peer(c: &mut Ctx, item: &Stmt, inst: &str) -> Option<Spanned<UnicastPeer>> {
    let Ok(addr) = item.keyword.node.parse() else {
        c.push(
            c.error_diag(
                item.keyword.span,
                format!("({inst}) malformed unicast peer address '{}'", item.keyword.node),
            )
            .with_help("keepalived skips it and may fall back to multicast; rsproxy refuses the configuration"),
        );
        return None;
    };
    let mut peer = UnicastPeer {
        addr,
        min_ttl: None,
        max_ttl: None,
    };
    let mut k = 0;
    while k < item.args.len() {
        let opt = item.args[k].node.as_str();
        if !matches!(opt, "min_ttl" | "max_ttl") {
            c.error(
                item.args[k].span,
                format!("unicast_peer: unknown option '{opt}'"),
            );
            return None;
        }
        let v = c.int(item, k + 1, 0, 255).map(|v| v.node as u8);
        if v.is_none() && item.args.get(k + 1).is_none() {
            c.error(item.args[k].span, format!("'{opt}' needs a value"));
        }
        if opt == "min_ttl" {
            peer.min_ttl = v;
        } else {
            peer.max_ttl = v;
        }
        k += 2;
    }
    Some(Spanned::new(peer, item.keyword.span))
}

// ---------------------------------------------------------------------------------------------
// vrrp_sync_group

pub static VRRP_SYNC_GROUP: &[Keyword<SyncGroup>] = &[
    kw("group", 0, 0, Braces::Required, |c, st, g| {
        for item in items(st) {
            if !item.args.is_empty() {
                c.error(item.args[0].span, "group: one vrrp_instance name per line");
            }
            g.members.push(item.keyword.clone());
        }
    }),
    kw("track_script", 0, 0, Braces::Required, |c, st, g| {
        g.track_script.extend(track_refs(c, st, 253))
    }),
    kw("track_interface", 0, 0, Braces::Required, |c, st, g| {
        g.track_interface.extend(track_refs(c, st, 253));
    }),
    kw("track_file", 0, 0, Braces::Required, |c, st, g| {
        g.track_file.extend(track_refs(c, st, 254))
    }),
    kw("track_process", 0, 0, Braces::Required, |c, st, g| {
        g.track_process.extend(track_refs(c, st, 254))
    }),
    kw("notify_master", 1, 3, Braces::No, |c, st, g| {
        g.notify.master = c.command(st)
    }),
    kw("notify_backup", 1, 3, Braces::No, |c, st, g| {
        g.notify.backup = c.command(st)
    }),
    kw("notify_fault", 1, 3, Braces::No, |c, st, g| {
        g.notify.fault = c.command(st)
    }),
    kw("notify_stop", 1, 3, Braces::No, |c, st, g| {
        g.notify.stop = c.command(st)
    }),
    kw("notify", 1, 3, Braces::No, |c, st, g| {
        g.notify.any = c.command(st)
    }),
    kw("smtp_alert", 0, 1, Braces::No, |c, st, g| {
        g.smtp_alert = Some(c.boolean(st, 0))
    }),
    unsupported("track_bfd"),
    unsupported("notify_deleted"),
    unsupported("notify_priority_changes"),
    unsupported("global_tracking"),
    unsupported("sync_group_tracking_weight"),
];

pub fn sync_group(c: &mut Ctx, st: &Stmt, cfg: &mut Config) {
    let mut g = SyncGroup::new(st.args[0].clone());
    if let Some(b) = &st.block {
        dispatch(c, "vrrp_sync_group", VRRP_SYNC_GROUP, &b.stmts, &mut g);
    }
    unresolved(
        c,
        cfg,
        &g.name.node,
        &g.track_script,
        &g.track_file,
        &g.track_process,
    );
    cfg.sync_groups.push(g);
}

// ---------------------------------------------------------------------------------------------
// track_file

pub static TRACK_FILE: &[Keyword<TrackFile>] = &[
    kw("file", 1, 1, Braces::No, |_, st, f| {
        f.file = Some(st.args[0].clone())
    }),
    kw("weight", 1, 2, Braces::No, |c, st, f| {
        f.weight = bare_weight(c, st, 2_147_483_647)
    }),
    kw("init_file", 0, 2, Braces::No, |c, st, f| {
        let mut init = InitFile {
            value: 0,
            overwrite: false,
        };
        for (k, a) in st.args.iter().enumerate() {
            if a.node == "overwrite" {
                init.overwrite = true;
            } else if let Some(v) = c.int(st, k, i64::from(i32::MIN), i64::from(i32::MAX)) {
                init.value = v.node;
            }
        }
        f.init_file = Some(Spanned::new(init, st.keyword.span));
    }),
];

pub fn track_file(c: &mut Ctx, st: &Stmt, cfg: &mut Config) {
    let mut f = TrackFile {
        name: st.args[0].clone(),
        file: None,
        weight: None,
        init_file: None,
    };
    if let Some(b) = &st.block {
        dispatch(c, "track_file", TRACK_FILE, &b.stmts, &mut f);
    }
    if f.file.is_none() {
        c.error(
            f.name.span,
            format!("track_file {}: no 'file' given", f.name.node),
        );
    }
    cfg.track_files.push(f);
}

/// `weight N [reverse]` as the keyword itself.
fn bare_weight(
    c: &mut Ctx,
    st: &Stmt,
    limit: i64,
) -> Option<Spanned<crate::ir::keepalived::Weight>> {
    let n = c.int(st, 0, -limit, limit)?;
    let reverse = match st.args.get(1).map(|a| a.node.as_str()) {
        None | Some("noreverse" | "no_reverse") => false,
        Some("reverse") => true,
        Some(other) => {
            c.error(
                st.args[1].span,
                format!("expected 'reverse', not '{other}'"),
            );
            false
        }
    };
    Some(n.map(|v| crate::ir::keepalived::Weight {
        value: v as i32,
        reverse,
    }))
}

// ---------------------------------------------------------------------------------------------
// track_process

pub static TRACK_PROCESS: &[Keyword<TrackProcess>] = &[
    kw("process", 1, MANY, Braces::No, |_, st, p| {
        let words = st.args.iter().map(|a| a.node.clone()).collect();
        p.process = Some(Spanned::new(words, st.args[0].span));
    }),
    kw("param_match", 1, 1, Braces::No, |c, st, p| {
        let a = &st.args[0];
        p.param_match = match a.node.as_str() {
            "initial" => Some(Spanned::new(ParamMatch::Initial, a.span)),
            "partial" => Some(Spanned::new(ParamMatch::Partial, a.span)),
            other => {
                c.error(
                    a.span,
                    format!("param_match: expected initial or partial, not '{other}'"),
                );
                None
            }
        };
    }),
    kw("weight", 1, 2, Braces::No, |c, st, p| {
        p.weight = bare_weight(c, st, 254)
    }),
    kw("quorum", 1, 1, Braces::No, |c, st, p| {
        p.quorum = c.u32(st, 0, 1, 65535)
    }),
    kw("quorum_max", 1, 1, Braces::No, |c, st, p| {
        p.quorum_max = c.u32(st, 0, 0, 65535)
    }),
    kw("fork_delay", 1, 1, Braces::No, |c, st, p| {
        p.fork_delay = c.timer(st, 0, 0.0, 3600.0)
    }),
    kw("terminate_delay", 1, 1, Braces::No, |c, st, p| {
        p.terminate_delay = c.timer(st, 0, 0.0, 3600.0)
    }),
    kw("delay", 1, 1, Braces::No, |c, st, p| {
        p.fork_delay = c.timer(st, 0, 0.0, 3600.0);
        p.terminate_delay = p.fork_delay.clone();
    }),
    kw("full_command", 0, 0, Braces::No, |_, st, p| {
        p.full_command = Some(st.keyword.span)
    }),
];

pub fn track_process(c: &mut Ctx, st: &Stmt, cfg: &mut Config) {
    let mut p = TrackProcess {
        name: st.args[0].clone(),
        process: None,
        param_match: None,
        weight: None,
        quorum: None,
        quorum_max: None,
        fork_delay: None,
        terminate_delay: None,
        full_command: None,
    };
    if let Some(b) = &st.block {
        dispatch(c, "track_process", TRACK_PROCESS, &b.stmts, &mut p);
    }
    if p.process.is_none() {
        c.error(
            p.name.span,
            format!("track_process {}: no 'process' given", p.name.node),
        );
    }
    cfg.track_processes.push(p);
}

#[cfg(test)]
mod tests {
    use crate::ir::keepalived::{AcceptMode, AddrScope, AuthType, Config, VrrpState, VrrpVersion};
    use crate::{Diagnostics, SourceMap};

    fn parse(text: &str) -> (Config, Diagnostics) {
        let mut map = SourceMap::new();
        let mut d = Diagnostics::new();
        let cfg = crate::keepalived::parse_str("t.conf", text, &mut map, &mut d);
        (cfg, d)
    }

    fn errors(d: &Diagnostics) -> Vec<(u32, String)> {
        d.errors()
            .map(|e| (e.span.line, e.message.clone()))
            .collect()
    }

    const BASE: &str = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  192.0.2.1\n }\n";

    #[test]
    fn instance_keywords_fill_the_ir() {
        let (cfg, d) = parse(&format!(
            "{BASE} state MASTER\n priority 150\n advert_int 2\n authentication {{\n  auth_type PASS\n  auth_pass abc\n }}\n \
             version 3\n no_accept\n unicast_src_ip 192.0.2.9\n unicast_peer {{\n  192.0.2.10 min_ttl 2\n }}\n \
             garp_master_delay 3\n notify_master \"/bin/x a\" root\n smtp_alert off\n}}\n"
        ));
        assert!(errors(&d).is_empty(), "{:?}", errors(&d));
        let i = &cfg.instances[0];
        assert_eq!(i.name.node, "VI_1");
        assert_eq!(i.state.as_ref().unwrap().node, VrrpState::Master);
        assert_eq!(i.virtual_router_id.as_ref().unwrap().node, 51);
        assert_eq!(i.priority.as_ref().unwrap().node, 150);
        assert_eq!(i.advert_int.as_ref().unwrap().node.as_millis(), 2000);
        let auth = i.authentication.as_ref().unwrap();
        assert_eq!(auth.auth_type.as_ref().unwrap().node, AuthType::Pass);
        assert_eq!(i.version.as_ref().unwrap().node, VrrpVersion::V3);
        assert_eq!(i.accept.as_ref().unwrap().node, AcceptMode::NoAccept);
        assert_eq!(i.unicast_peers[0].min_ttl, Some(2));
        assert_eq!(i.garp.master_delay.as_ref().unwrap().node.as_millis(), 3000);
        let n = i.notify.master.as_ref().unwrap();
        assert_eq!(n.command, "/bin/x a");
        assert_eq!(n.user.as_ref().unwrap().user, "root");
        assert!(!i.smtp_alert.as_ref().unwrap().node);
    }

    #[test]
    fn virtual_address_options() {
        let (cfg, d) = parse(
            "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  192.0.2.1/24 brd 192.0.2.255 dev eth0 scope link label eth0:1 no_track\n }\n}\n",
        );
        assert!(errors(&d).is_empty());
        let vip = &cfg.instances[0].virtual_ipaddress[0];
        assert_eq!(vip.addr.prefix, 24);
        assert_eq!(vip.scope, Some(AddrScope::Link));
        assert_eq!(vip.label.as_deref(), Some("eth0:1"));
        assert!(vip.no_track);
        assert_eq!(vip.span.line, 5);
    }

    #[test]
    fn script_track_file_and_process_blocks() {
        let (cfg, d) = parse(
            "global_defs {\n enable_script_security\n}\nvrrp_script s {\n script \"/bin/true\"\n interval 1.5\n weight -10 reverse\n rise 2\n fall 3\n init_fail\n}\n\
             track_file f {\n file /tmp/x\n weight 5\n init_file 3 overwrite\n}\n\
             vrrp_track_process p {\n process rsproxy -c x\n quorum 2\n delay 0.5\n}\n",
        );
        assert!(errors(&d).is_empty(), "{:?}", errors(&d));
        let s = &cfg.scripts[0];
        assert_eq!(s.interval.as_ref().unwrap().node.micros, 1_500_000);
        let w = s.weight.as_ref().unwrap();
        assert_eq!((w.value, w.reverse), (-10, true));
        assert!(s.init_fail.is_some());
        assert_eq!(cfg.track_files[0].init_file.as_ref().unwrap().node.value, 3);
        let p = &cfg.track_processes[0];
        assert_eq!(p.process.as_ref().unwrap().node, vec!["rsproxy", "-c", "x"]);
        assert_eq!(p.terminate_delay.as_ref().unwrap().node.micros, 500_000);
    }

    #[test]
    fn ranges_are_checked_at_the_word() {
        let (_, d) = parse(&format!(
            "{BASE} priority 256\n advert_int 0\n preempt_delay 1001\n}}\n"
        ));
        let lines: Vec<u32> = errors(&d).iter().map(|e| e.0).collect();
        assert_eq!(lines, vec![7, 8, 9]);
    }

    #[test]
    fn unknown_keyword_suggests_the_closest() {
        let (_, d) = parse(&format!("{BASE} priorty 100\n}}\n"));
        let e = d.errors().next().unwrap();
        assert_eq!(e.span.line, 7);
        assert_eq!(e.help.as_deref(), Some("did you mean 'priority'?"));
    }

    #[test]
    fn unsupported_and_lvs_keywords_are_errors_naming_them() {
        let (_, d) = parse(&format!(
            "{BASE} use_vmac\n}}\nvirtual_server 192.0.2.1 80 {{\n lb_algo rr\n}}\n"
        ));
        let msgs: Vec<String> = errors(&d).into_iter().map(|e| e.1).collect();
        assert_eq!(
            msgs[0],
            "'use_vmac' is recognised but not supported by rsproxy yet"
        );
        assert_eq!(
            msgs[1],
            "'virtual_server' (LVS) is recognised but not supported by rsproxy"
        );
    }
}
