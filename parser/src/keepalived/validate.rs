//! Whole-config checks of a keepalived IR: names resolve, nothing is defined twice, values
//! agree with each other. Runs after every block was parsed; each diagnostic has the span of
//! the offending word.
//!
//! Where keepalived `-t` reports a problem and exits non-zero, rsproxy reports an error
//! (even when the running keepalived would "fix" it by truncating or clearing a setting), so
//! `rsproxy --check` and `keepalived -t` agree in CI.

use crate::diag::{best_match, Diagnostic, Dialect};
use crate::ir::keepalived::{AuthType, Config, VrrpInstance, VrrpState, VrrpVersion};
use crate::source::Span;
use crate::Diagnostics;
use std::collections::{HashMap, HashSet};

pub fn validate(cfg: &Config, diags: &mut Diagnostics) {
    let mut v = Validator { cfg, diags };
    v.scripts();
    v.instances();
    v.sync_groups();
}

struct Validator<'a> {
    cfg: &'a Config,
    diags: &'a mut Diagnostics,
}

impl Validator<'_> {
    fn error(&mut self, span: Span, msg: impl Into<String>) {
        self.diags
            .push(Diagnostic::error(Dialect::Keepalived, span, msg));
    }
    fn error_help(&mut self, span: Span, msg: impl Into<String>, help: impl Into<String>) {
        self.diags
            .push(Diagnostic::error(Dialect::Keepalived, span, msg).with_help(help));
    }
    fn warning_help(&mut self, span: Span, msg: impl Into<String>, help: impl Into<String>) {
        self.diags
            .push(Diagnostic::warning(Dialect::Keepalived, span, msg).with_help(help));
    }

    fn scripts(&mut self) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let cfg = self.cfg;
        for s in &cfg.scripts {
            if let Some(first) = seen.insert(&s.name.node, s.name.span) {
                let _ = first;
                self.error(
                    s.name.span,
                    format!("vrrp_script {} already defined", s.name.node),
                );
            }
            match &s.script {
                None => {
                    self.error(
                        s.name.span,
                        format!("vrrp_script {}: no 'script' given", s.name.node),
                    );
                }
                Some(cmd) => {
                    let words: Vec<&str> = cmd.node.split_whitespace().collect();
                    let prog = words
                        .first()
                        .map(|w| w.rsplit('/').next().unwrap_or(w))
                        .unwrap_or("");
                    let targets_haproxy = words.iter().skip(1).any(|w| *w == "haproxy");
                    if matches!(prog, "killall" | "pidof" | "pgrep") && targets_haproxy {
                        self.warning_help(
                            cmd.span,
                            format!(
                                "vrrp_script {}: '{}' looks for a haproxy process, but in rsproxy's one-process mode the proxy is rsproxy itself, so this check will always fail",
                                s.name.node, cmd.node
                            ), "use 'track_process' on rsproxy, or remove this script: rsproxy already stops VRRP when its proxy is down");
                    }
                }
            }
        }
        let uses_scripts = !cfg.scripts.is_empty()
            || cfg
                .instances
                .iter()
                .any(|i| notify_span(&i.notify).is_some())
            || cfg
                .sync_groups
                .iter()
                .any(|g| notify_span(&g.notify).is_some());
        if uses_scripts && cfg.global_defs.enable_script_security.is_none() {
            let span = cfg
                .scripts
                .first()
                .map(|s| s.name.span)
                .or_else(|| cfg.instances.iter().find_map(|i| notify_span(&i.notify)))
                .or_else(|| cfg.sync_groups.iter().find_map(|g| notify_span(&g.notify)));
            if let Some(span) = span {
                self.warning_help(span, "scripts are run but 'enable_script_security' is not set in global_defs", "keepalived -t exits with status 6 (SECURITY VIOLATION) here; add enable_script_security and script_user to global_defs");
            }
        }
    }

    fn instances(&mut self) {
        let cfg = self.cfg;
        let mut names: HashSet<&str> = HashSet::new();
        let mut vrids: HashMap<(String, u8, bool), &VrrpInstance> = HashMap::new();
        for inst in &cfg.instances {
            let name = inst.name.node.as_str();
            if !names.insert(name) {
                self.error(
                    inst.name.span,
                    format!("vrrp instance {name} already defined"),
                );
            }
            self.instance(inst);
            if let (Some(ifname), Some(vrid)) = (&inst.interface, &inst.virtual_router_id) {
                let key = (ifname.node.clone(), vrid.node, inst.is_ipv6());
                if let Some(other) = vrids.get(&key) {
                    let disjoint_unicast = !inst.unicast_peers.is_empty()
                        && !other.unicast_peers.is_empty()
                        && !inst
                            .unicast_peers
                            .iter()
                            .any(|p| other.unicast_peers.iter().any(|q| q.addr == p.addr));
                    if !disjoint_unicast {
                        self.error(
                            vrid.span,
                            format!(
                                "{} and {name} both use VRID {} with {} on interface {}",
                                other.name.node,
                                vrid.node,
                                if inst.is_ipv6() { "IPv6" } else { "IPv4" },
                                ifname.node
                            ),
                        );
                    }
                } else {
                    vrids.insert(key, inst);
                }
            }
        }
    }

    fn instance(&mut self, inst: &VrrpInstance) {
        let cfg = self.cfg;
        let name = inst.name.node.as_str();
        if inst.interface.is_none() && inst.unicast_peers.is_empty() {
            self.error_help(
                inst.name.span,
                format!("({name}) no 'interface' given"),
                "add 'interface IFNAME' (only unicast instances may omit it)",
            );
        }
        if inst.virtual_router_id.is_none() {
            self.error(
                inst.name.span,
                format!("({name}) the virtual router id must be set"),
            );
        }
        if inst.virtual_ipaddress.is_empty() {
            self.error(
                inst.name.span,
                format!("({name}) no virtual_ipaddress given"),
            );
        }
        // Address family: that of the first VIP.
        let v6 = inst.is_ipv6();
        let family = |v6: bool| if v6 { "IPv6" } else { "IPv4" };
        for vip in &inst.virtual_ipaddress {
            if vip.addr.addr.is_ipv6() != v6 {
                let why = if inst.native_ipv6.is_some() {
                    "native_ipv6 makes it IPv6"
                } else {
                    "set by its first address"
                };
                self.error_help(
                    vip.span,
                    format!("({name}) address family must match the VRRP instance ({}, {why}): {}", family(v6), vip.addr.addr),
                    "all virtual_ipaddress entries must be of one family; put the others in virtual_ipaddress_excluded or a second instance",
                );
            }
        }
        if let Some(src) = &inst.unicast_src_ip {
            if !inst.virtual_ipaddress.is_empty() && src.node.is_ipv6() != v6 {
                self.error(
                    src.span,
                    format!("({name}) unicast_src_ip {} is not {}", src.node, family(v6)),
                );
            }
        }
        for p in &inst.unicast_peers {
            if p.addr.is_ipv6() != v6 {
                self.error(
                    p.span,
                    format!(
                        "({name}) unicast peer {} must be of the same family as the instance ({})",
                        p.addr,
                        family(v6)
                    ),
                );
            }
        }
        if let (Some(b), true) = (inst.unicast_peer_block, inst.unicast_peers.is_empty()) {
            self.error_help(
                b,
                format!("({name}) unicast_peer lists no valid peer"),
                "keepalived silently falls back to multicast here; rsproxy refuses it",
            );
        }
        // Version and advert interval.
        let version = inst
            .version
            .as_ref()
            .map(|v| v.node)
            .or(cfg.global_defs.vrrp_version.as_ref().map(|v| v.node))
            .unwrap_or(VrrpVersion::V2);
        if let Some(adv) = &inst.advert_int {
            if version == VrrpVersion::V2 && !v6 && adv.micros / 1_000_000 * 1_000_000 != adv.micros
            {
                self.error_help(adv.span, format!("({name}) VRRPv2 advertisement interval {adv} must be a whole number of seconds"), "use 'version 3' for sub-second adverts");
            }
        }
        // Authentication.
        if let Some(auth) = &inst.authentication {
            if let Some(t) = &auth.auth_type {
                if t.node == AuthType::Ah {
                    self.error_help(t.span, format!("({name}) auth_type AH (IPsec AH) is recognised but not supported by rsproxy"), "use 'auth_type PASS', or better no authentication (RFC 3768 removed it)");
                }
            }
            match &auth.auth_pass {
                Some(p) if p.node.len() > 8 => {
                    self.error_help(p.span, format!("({name}) auth_pass is longer than 8 characters"), "keepalived truncates it to the first 8 and keepalived -t reports it; shorten it");
                }
                None => {
                    self.error(
                        auth.span,
                        format!("({name}) authentication without auth_pass"),
                    );
                }
                _ => {}
            }
            if auth.auth_type.is_none() {
                self.error(
                    auth.span,
                    format!("({name}) authentication without auth_type"),
                );
            }
        }
        if let (Some(np), Some(state)) = (inst.nopreempt, &inst.state) {
            if state.node == VrrpState::Master {
                self.error_help(np, format!("({name}) nopreempt will not work with initial state MASTER"), "keepalived clears nopreempt here; use 'state BACKUP' on every node with nopreempt");
            }
        }
        if let Some(pd) = &inst.preempt_delay {
            if inst.nopreempt.is_some() {
                self.error(
                    pd.span,
                    format!("({name}) preempt_delay is incompatible with nopreempt"),
                );
            } else if inst
                .state
                .as_ref()
                .is_some_and(|s| s.node == VrrpState::Master)
            {
                self.error_help(
                    pd.span,
                    format!("({name}) preempt_delay will not work with initial state MASTER"),
                    "keepalived clears it here; use 'state BACKUP'",
                );
            }
        }
        // References.
        for r in &inst.track_script {
            self.script_ref(name, r);
        }
        for r in &inst.track_file {
            if !cfg.track_files.iter().any(|f| f.name.node == r.name.node) {
                self.error(
                    r.name.span,
                    format!("({name}) track_file {} not found", r.name.node),
                );
            }
        }
        for r in &inst.track_process {
            if !cfg
                .track_processes
                .iter()
                .any(|p| p.name.node == r.name.node)
            {
                self.error(
                    r.name.span,
                    format!("({name}) track_process {} not found", r.name.node),
                );
            }
        }
        let mut tracked: HashSet<&str> = HashSet::new();
        for r in &inst.track_interface {
            if r.name.node == "lo" {
                self.error(
                    r.name.span,
                    format!("({name}) cannot track a loopback interface"),
                );
            } else if inst
                .interface
                .as_ref()
                .is_some_and(|i| i.node == r.name.node)
            {
                self.error_help(
                    r.name.span,
                    format!("({name}) track_interface {} is the instance's own interface", r.name.node),
                    "the own interface is always tracked (unless dont_track_primary); remove this line",
                );
            }
            if !tracked.insert(&r.name.node) {
                self.error(
                    r.name.span,
                    format!("({name}) duplicate track_interface {}", r.name.node),
                );
            }
        }
    }

    fn script_ref(&mut self, owner: &str, r: &crate::ir::keepalived::TrackRef) {
        let cfg = self.cfg;
        if cfg.script(&r.name.node).is_none() {
            let msg = format!("({owner}) track script {} not found", r.name.node);
            match best_match(
                &r.name.node,
                cfg.scripts.iter().map(|s| s.name.node.as_str()),
            ) {
                Some(m) => self.error_help(r.name.span, msg, format!("did you mean '{m}'?")),
                None => self.error(r.name.span, msg),
            }
        }
    }

    fn sync_groups(&mut self) {
        let cfg = self.cfg;
        let mut in_group: HashMap<&str, &str> = HashMap::new();
        let mut names: HashSet<&str> = HashSet::new();
        for g in &cfg.sync_groups {
            let gname = g.name.node.as_str();
            if !names.insert(gname) {
                self.error(
                    g.name.span,
                    format!("vrrp_sync_group {gname} already defined"),
                );
            }
            let mut valid = 0;
            for m in &g.members {
                if cfg.instance(&m.node).is_none() {
                    let msg = format!(
                        "Virtual router {} specified in sync group {gname} doesn't exist",
                        m.node
                    );
                    match best_match(&m.node, cfg.instances.iter().map(|i| i.name.node.as_str())) {
                        Some(b) => self.error_help(m.span, msg, format!("did you mean '{b}'?")),
                        None => self.error(m.span, msg),
                    }
                    continue;
                }
                valid += 1;
                if let Some(other) = in_group.insert(&m.node, gname) {
                    self.error(
                        m.span,
                        format!("vrrp instance {} is already in sync group {other}", m.node),
                    );
                }
            }
            if g.members.is_empty() {
                self.error(
                    g.name.span,
                    format!("Sync group {gname} has no virtual routers"),
                );
            } else if valid == 1 {
                self.error(g.name.span, format!("Sync group {gname} has only 1 virtual router - this probably isn't what you want"));
            }
            for r in &g.track_script {
                self.script_ref(gname, r);
            }
        }
    }
}

fn notify_span(n: &crate::ir::keepalived::Notify) -> Option<Span> {
    [&n.master, &n.backup, &n.fault, &n.stop, &n.any]
        .into_iter()
        .flatten()
        .map(|c| c.span)
        .next()
}

#[cfg(test)]
mod tests {
    use crate::{Diagnostics, Severity, SourceMap};

    /// (severity, line, message) of every diagnostic.
    fn check(text: &str) -> Vec<(Severity, u32, String)> {
        let mut map = SourceMap::new();
        let mut d = Diagnostics::new();
        crate::keepalived::parse_str("t.conf", text, &mut map, &mut d);
        d.iter()
            .map(|e| (e.severity, e.span.line, e.message.clone()))
            .collect()
    }

    fn inst(name: &str, vrid: u32, extra: &str, vip: &str) -> String {
        format!("vrrp_instance {name} {{\n interface eth0\n virtual_router_id {vrid}\n{extra}\n virtual_ipaddress {{\n  {vip}\n }}\n}}\n")
    }

    fn error_lines(text: &str) -> Vec<u32> {
        check(text)
            .into_iter()
            .filter(|d| d.0 == Severity::Error)
            .map(|d| d.1)
            .collect()
    }

    #[test]
    fn valid_instance_has_no_diagnostics() {
        assert!(check(&inst("A", 1, "", "192.0.2.1")).is_empty());
    }

    #[test]
    fn duplicates_are_reported_on_the_second() {
        let two = format!(
            "{}{}",
            inst("A", 1, "", "192.0.2.1"),
            inst("A", 2, "", "192.0.2.2")
        );
        assert_eq!(error_lines(&two), vec![9]);
        let vrid = format!(
            "{}{}",
            inst("A", 1, "", "192.0.2.1"),
            inst("B", 1, "", "192.0.2.2")
        );
        assert_eq!(error_lines(&vrid), vec![11]);
        let other_family = format!(
            "{}{}",
            inst("A", 1, "", "192.0.2.1"),
            inst("B", 1, "", "2001:db8::1")
        );
        assert!(error_lines(&other_family).is_empty());
    }

    #[test]
    fn references_must_resolve_and_come_first() {
        let unknown = inst("A", 1, " track_script {\n  nope\n }", "192.0.2.1");
        assert_eq!(error_lines(&unknown), vec![5]);
        let later = format!(
            "global_defs {{\n enable_script_security\n}}\n{}vrrp_script s {{\n script /bin/true\n}}\n",
            inst("A", 1, " track_script {\n  s\n }", "192.0.2.1")
        );
        assert_eq!(error_lines(&later), vec![8]);
        let group = format!(
            "vrrp_sync_group G {{\n group {{\n  A\n  B\n }}\n}}\n{}",
            inst("A", 1, "", "192.0.2.1")
        );
        assert_eq!(error_lines(&group), vec![4, 1]);
    }

    #[test]
    fn address_rules() {
        assert_eq!(
            error_lines(&inst("A", 1, "", "192.0.2.1\n  2001:db8::1")),
            vec![7]
        );
        let peer = inst("A", 1, " unicast_peer {\n  192.0.2.300\n }", "192.0.2.1");
        assert_eq!(error_lines(&peer), vec![5, 4]);
        assert_eq!(
            error_lines(&inst("A", 1, " native_ipv6", "192.0.2.1")),
            vec![6]
        );
        assert_eq!(
            error_lines(&inst("A", 1, " interface lo", "192.0.2.1")),
            vec![4]
        );
    }

    #[test]
    fn authentication_and_preemption_rules() {
        let long = inst(
            "A",
            1,
            " authentication {\n  auth_type PASS\n  auth_pass 123456789\n }",
            "192.0.2.1",
        );
        assert_eq!(error_lines(&long), vec![6]);
        let ah = inst(
            "A",
            1,
            " authentication {\n  auth_type AH\n  auth_pass 1234\n }",
            "192.0.2.1",
        );
        assert_eq!(error_lines(&ah), vec![5]);
        assert_eq!(
            error_lines(&inst("A", 1, " state MASTER\n nopreempt", "192.0.2.1")),
            vec![5]
        );
        assert_eq!(
            error_lines(&inst("A", 1, " advert_int 0.5", "192.0.2.1")),
            vec![4]
        );
        assert!(error_lines(&inst("A", 1, " version 3\n advert_int 0.5", "192.0.2.1")).is_empty());
    }

    #[test]
    fn haproxy_process_checks_warn() {
        let text = format!(
            "global_defs {{\n enable_script_security\n}}\nvrrp_script chk {{\n script \"killall -0 haproxy\"\n}}\n{}",
            inst("A", 1, " track_script {\n  chk\n }", "192.0.2.1")
        );
        let ds = check(&text);
        assert!(ds.iter().all(|d| d.0 == Severity::Warning));
        assert!(
            ds.iter()
                .any(|d| d.1 == 5 && d.2.contains("rsproxy itself")),
            "{ds:?}"
        );
    }

    #[test]
    fn scripts_without_script_security_warn() {
        let text = format!(
            "vrrp_script chk {{\n script /bin/true\n}}\n{}",
            inst("A", 1, "", "192.0.2.1")
        );
        let ds = check(&text);
        assert_eq!(ds.len(), 1);
        assert_eq!((ds[0].0, ds[0].1), (Severity::Warning, 1));
    }
}
