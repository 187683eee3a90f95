//! The top level of keepalived.conf and `global_defs`: keyword tables and parse functions.

use super::dispatch::{dispatch, kw, lvs, no_effect, unsupported, Braces, Keyword, MANY};
use super::tree::Stmt;
use super::values::Ctx;
use super::vrrp;
use crate::ir::keepalived::{Config, GlobalDefs, SmtpServer, VrrpVersion};
use crate::source::Spanned;
use std::net::IpAddr;

/// Blocks allowed at the top level.
pub static TOP: &[Keyword<Config>] = &[
    kw("global_defs", 0, 0, Braces::Required, global_defs),
    kw("vrrp_script", 1, 1, Braces::Required, vrrp::script),
    kw("vrrp_instance", 1, 1, Braces::Required, vrrp::instance),
    kw("vrrp_sync_group", 1, 1, Braces::Required, vrrp::sync_group),
    kw("track_file", 1, 1, Braces::Required, vrrp::track_file),
    kw("vrrp_track_file", 1, 1, Braces::Required, vrrp::track_file),
    kw(
        "vrrp_track_process",
        1,
        1,
        Braces::Required,
        vrrp::track_process,
    ),
    lvs("virtual_server"),
    lvs("virtual_server_group"),
    lvs("real_server"),
    lvs("SSL"),
    unsupported("static_ipaddress"),
    unsupported("static_routes"),
    unsupported("static_rules"),
    unsupported("bfd_instance"),
    unsupported("garp_group"),
    unsupported("linkbeat_interfaces"),
    unsupported("track_group"),
    unsupported("interface_up_down_delays"),
    unsupported("net_namespace"),
    unsupported("net_namespace_ipvs"),
    unsupported("namespace_with_ipsets"),
    unsupported("instance"),
    no_effect("use_pid_dir", 0, 0),
    no_effect("linkbeat_use_polling", 0, 0),
    no_effect("child_wait_time", 1, 1),
];

/// `global_defs { ... }`.
pub static GLOBAL_DEFS: &[Keyword<GlobalDefs>] = &[
    kw(
        "notification_email",
        0,
        0,
        Braces::Required,
        notification_email,
    ),
    kw("notification_email_from", 1, 1, Braces::No, |_, st, g| {
        g.notification_email_from = Some(st.args[0].clone());
    }),
    kw("smtp_server", 1, 2, Braces::No, smtp_server),
    kw("smtp_helo_name", 1, 1, Braces::No, |_, st, g| {
        g.smtp_helo_name = Some(st.args[0].clone())
    }),
    kw("smtp_connect_timeout", 1, 1, Braces::No, |c, st, g| {
        g.smtp_connect_timeout = c.timer(st, 0, 1.0, 3600.0);
    }),
    kw("smtp_alert", 0, 1, Braces::No, |c, st, g| {
        g.smtp_alert = Some(c.boolean(st, 0))
    }),
    kw("smtp_alert_vrrp", 0, 1, Braces::No, |c, st, g| {
        g.smtp_alert = Some(c.boolean(st, 0))
    }),
    kw("router_id", 1, 1, Braces::No, |_, st, g| {
        g.router_id = Some(st.args[0].clone())
    }),
    kw("vrrp_mcast_group4", 1, 1, Braces::No, |c, st, g| {
        if let Some(ip) = c.ip(st, 0) {
            match ip.node {
                IpAddr::V4(v4) if v4.is_multicast() => {
                    g.vrrp_mcast_group4 = Some(Spanned::new(v4, ip.span))
                }
                _ => c.error(
                    ip.span,
                    format!(
                        "vrrp_mcast_group4 {} is not an IPv4 multicast address",
                        ip.node
                    ),
                ),
            }
        }
    }),
    kw("vrrp_mcast_group6", 1, 1, Braces::No, |c, st, g| {
        if let Some(ip) = c.ip(st, 0) {
            match ip.node {
                IpAddr::V6(v6) if v6.is_multicast() => {
                    g.vrrp_mcast_group6 = Some(Spanned::new(v6, ip.span))
                }
                _ => c.error(
                    ip.span,
                    format!(
                        "vrrp_mcast_group6 {} is not an IPv6 multicast address",
                        ip.node
                    ),
                ),
            }
        }
    }),
    kw("enable_script_security", 0, 0, Braces::No, |_, st, g| {
        g.enable_script_security = Some(st.keyword.span);
    }),
    kw("script_user", 1, 2, Braces::No, |c, st, g| {
        g.script_user = c.user(st, 0).map(|u| Spanned::new(u, st.args[0].span));
    }),
    kw("vrrp_garp_master_delay", 1, 1, Braces::No, |c, st, g| {
        g.garp.master_delay = c.timer(st, 0, 0.0, 86400.0);
    }),
    kw("vrrp_garp_master_repeat", 1, 1, Braces::No, |c, st, g| {
        g.garp.master_repeat = c.u32(st, 0, 0, 65535);
    }),
    kw("vrrp_garp_master_refresh", 1, 1, Braces::No, |c, st, g| {
        g.garp.master_refresh = c.timer(st, 0, 0.0, 86400.0);
    }),
    kw(
        "vrrp_garp_master_refresh_repeat",
        1,
        1,
        Braces::No,
        |c, st, g| {
            g.garp.master_refresh_repeat = c.u32(st, 0, 0, 65535);
        },
    ),
    kw(
        "vrrp_garp_lower_prio_delay",
        1,
        1,
        Braces::No,
        |c, st, g| {
            g.garp.lower_prio_delay = c.timer(st, 0, 0.0, 86400.0);
        },
    ),
    kw(
        "vrrp_garp_lower_prio_repeat",
        1,
        1,
        Braces::No,
        |c, st, g| {
            g.garp.lower_prio_repeat = c.u32(st, 0, 0, 65535);
        },
    ),
    kw("vrrp_garp_interval", 1, 1, Braces::No, |c, st, g| {
        g.vrrp_garp_interval = c.timer(st, 0, 0.0, 1.0);
    }),
    kw("vrrp_gna_interval", 1, 1, Braces::No, |c, st, g| {
        g.vrrp_gna_interval = c.timer(st, 0, 0.0, 1.0);
    }),
    kw("vrrp_version", 1, 1, Braces::No, |c, st, g| {
        g.vrrp_version = version(c, st)
    }),
    kw("vrrp_skip_check_adv_addr", 0, 1, Braces::No, |c, st, g| {
        g.vrrp_skip_check_adv_addr = Some(c.boolean(st, 0));
    }),
    kw("vrrp_check_unicast_src", 0, 0, Braces::No, |_, st, g| {
        g.vrrp_check_unicast_src = Some(st.keyword.span);
    }),
    Keyword {
        name: "vrrp_strict",
        min_args: 0,
        max_args: 0,
        braces: Braces::No,
        support: super::dispatch::Support::Unsupported,
        parse: |_, st, g| g.vrrp_strict = Some(st.keyword.span),
    },
    Keyword {
        name: "max_auto_priority",
        min_args: 0,
        max_args: 1,
        braces: Braces::No,
        support: super::dispatch::Support::NoEffect,
        parse: |c, st, g| {
            g.max_auto_priority = match st.args.first() {
                None => Some(Spanned::new(99, st.keyword.span)),
                Some(_) => c.int(st, 0, -1, 99).map(|n| n.map(|n| n as i32)),
            };
        },
    },
    no_effect("min_auto_priority_delay", 1, 1),
    no_effect("vrrp_priority", 1, 1),
    no_effect("checker_priority", 1, 1),
    no_effect("bfd_priority", 1, 1),
    no_effect("vrrp_no_swap", 0, 0),
    no_effect("checker_no_swap", 0, 0),
    no_effect("bfd_no_swap", 0, 0),
    no_effect("vrrp_rt_priority", 1, 1),
    no_effect("checker_rt_priority", 1, 1),
    no_effect("bfd_rt_priority", 1, 1),
    no_effect("vrrp_rlimit_rttime", 1, 1),
    no_effect("checker_rlimit_rttime", 1, 1),
    no_effect("bfd_rlimit_rttime", 1, 1),
    no_effect("vrrp_cpu_affinity", 1, MANY),
    no_effect("checker_cpu_affinity", 1, MANY),
    no_effect("bfd_cpu_affinity", 1, MANY),
    no_effect("process_names", 0, 0),
    no_effect("process_name", 1, 1),
    no_effect("vrrp_process_name", 1, 1),
    no_effect("checker_process_name", 1, 1),
    no_effect("bfd_process_name", 1, 1),
    no_effect("tmp_config_directory", 1, 1),
    no_effect("config_save_dir", 1, 1),
    no_effect("linkbeat_use_polling", 0, 0),
    no_effect("vrrp_netlink_cmd_rcv_bufs", 1, 1),
    no_effect("vrrp_netlink_cmd_rcv_bufs_force", 0, 1),
    no_effect("vrrp_netlink_monitor_rcv_bufs", 1, 1),
    no_effect("vrrp_netlink_monitor_rcv_bufs_force", 0, 1),
    no_effect("process_monitor_rcv_bufs", 1, 1),
    no_effect("process_monitor_rcv_bufs_force", 0, 1),
    no_effect("data_use_instance", 0, 1),
    no_effect("checker_log_all_failures", 0, 1),
    no_effect("no_checker_emails", 0, 0),
    no_effect("smtp_alert_checker", 0, 1),
    unsupported("startup_script"),
    unsupported("startup_script_timeout"),
    unsupported("shutdown_script"),
    unsupported("shutdown_script_timeout"),
    unsupported("no_email_faults"),
    unsupported("default_interface"),
    unsupported("lvs_sync_daemon"),
    unsupported("lvs_timeouts"),
    unsupported("lvs_flush"),
    unsupported("lvs_flush_on_stop"),
    unsupported("vrrp_down_timer_adverts"),
    unsupported("vrrp_min_garp"),
    unsupported("vrrp_garp_extra_if"),
    unsupported("vrrp_lower_prio_no_advert"),
    unsupported("vrrp_higher_prio_send_advert"),
    unsupported("nftables"),
    unsupported("nftables_priority"),
    unsupported("nftables_counters"),
    unsupported("nftables_ifindex"),
    unsupported("vrrp_iptables"),
    unsupported("vrrp_ipsets"),
    unsupported("disable_local_igmp"),
    unsupported("vrrp_notify_priority_changes"),
    unsupported("snmp_socket"),
    unsupported("enable_snmp_vrrp"),
    unsupported("enable_snmp_checker"),
    unsupported("enable_snmp_rfc"),
    unsupported("enable_snmp_rfcv2"),
    unsupported("enable_snmp_rfcv3"),
    unsupported("enable_traps"),
    unsupported("enable_dbus"),
    unsupported("dbus_service_name"),
    unsupported("notify_fifo"),
    unsupported("notify_fifo_script"),
    unsupported("vrrp_notify_fifo"),
    unsupported("vrrp_notify_fifo_script"),
    unsupported("lvs_notify_fifo"),
    unsupported("lvs_notify_fifo_script"),
    unsupported("fifo_write_vrrp_states_on_reload"),
    unsupported("dynamic_interfaces"),
    unsupported("vrrp_rx_bufs_policy"),
    unsupported("vrrp_rx_bufs_multiplier"),
    unsupported("rs_init_notifies"),
    unsupported("umask"),
    unsupported("vrrp_startup_delay"),
    unsupported("log_unknown_vrids"),
    unsupported("vmac_prefix"),
    unsupported("vmac_addr_prefix"),
    unsupported("random_seed"),
    unsupported("reload_check_config"),
    unsupported("include_check"),
    unsupported("reload_time_file"),
    unsupported("reload_repeat"),
    unsupported("reload_file"),
];

fn global_defs(c: &mut Ctx, st: &Stmt, cfg: &mut Config) {
    if let Some(b) = &st.block {
        dispatch(
            c,
            "global_defs",
            GLOBAL_DEFS,
            &b.stmts,
            &mut cfg.global_defs,
        );
    }
}

fn notification_email(c: &mut Ctx, st: &Stmt, g: &mut GlobalDefs) {
    for item in st.block.iter().flat_map(|b| &b.stmts) {
        if item.block.is_some() || !item.args.is_empty() {
            c.error(
                item.keyword.span,
                "notification_email: one address per line",
            );
        }
        g.notification_email.push(item.keyword.clone());
    }
}

fn smtp_server(c: &mut Ctx, st: &Stmt, g: &mut GlobalDefs) {
    let port = match st.args.get(1) {
        Some(_) => match c.int(st, 1, 1, 65535) {
            Some(p) => p.node as u16,
            None => return,
        },
        None => 25,
    };
    let host = st.args[0].node.clone();
    g.smtp_server = Some(Spanned::new(SmtpServer { host, port }, st.args[0].span));
}

/// `2` or `3`.
pub fn version(c: &mut Ctx, st: &Stmt) -> Option<Spanned<VrrpVersion>> {
    let v = c.int(st, 0, 2, 3)?;
    Some(v.map(|n| {
        if n == 2 {
            VrrpVersion::V2
        } else {
            VrrpVersion::V3
        }
    }))
}
