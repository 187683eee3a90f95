//! `vrrp_track_process` and `track_process`: whether enough copies of a process run.
//!
//! keepalived 2.2 learns of processes through the kernel's proc connector, which only
//! answers in the initial network namespace (in a container it logs "Failed to set/clear
//! process event listen" and puts the instance in FAULT). rsproxy reads /proc instead — no
//! fork per check — every [`SCAN_INTERVAL`], in one thread for every tracked process.
//!
//! Matching, as keepalived.conf(5) describes it: without parameters (and without
//! `param_match` or `full_command`) the name is compared with the process name of
//! `/proc/PID/status` (the kernel keeps its first 15 bytes); otherwise with the command line:
//! its first word, then the parameters — all of them (default), the first N (`partial`), or
//! the first N with the last one a prefix (`initial`). The process is up while
//! `quorum <= count <= quorum_max`, after the condition has held `fork_delay` (to come up)
//! or `terminate_delay` (to go down).

use super::track::ScriptStatus;
use rsproxy_parser::ir::keepalived::ParamMatch;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub const SCAN_INTERVAL: Duration = Duration::from_millis(100);
/// The kernel's limit on a process name (TASK_COMM_LEN - 1).
const COMM_LEN: usize = 15;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessPlan {
    pub name: String,
    /// The process name (or command), then its parameters.
    pub process: Vec<String>,
    pub param_match: Option<ParamMatch>,
    pub full_command: bool,
    pub quorum: u32,
    pub quorum_max: Option<u32>,
    pub fork_delay: Duration,
    pub terminate_delay: Duration,
}

impl ProcessPlan {
    fn by_command_line(&self) -> bool {
        self.process.len() > 1 || self.param_match.is_some() || self.full_command
    }

    /// Whether a process with this `comm` name and command line is one of ours.
    pub fn matches(&self, comm: &str, cmdline: &[String]) -> bool {
        let Some((want, params)) = self.process.split_first() else {
            return false;
        };
        if !self.by_command_line() {
            let want: String = want.chars().take(COMM_LEN).collect();
            return comm == want;
        }
        let Some((cmd, args)) = cmdline.split_first() else {
            return false;
        };
        if cmd != want {
            return false;
        }
        match self.param_match {
            None => args == params,
            Some(ParamMatch::Partial) => {
                args.len() >= params.len() && args.iter().zip(params).all(|(a, p)| a == p)
            }
            Some(ParamMatch::Initial) => {
                let Some((last, first)) = params.split_last() else {
                    return args.is_empty();
                };
                args.len() >= params.len()
                    && args.iter().zip(first).all(|(a, p)| a == p)
                    && args
                        .get(first.len())
                        .is_some_and(|a| a.starts_with(last.as_str()))
            }
        }
    }

    /// Whether `count` matching processes make the process up.
    pub fn quorum_ok(&self, count: u32) -> bool {
        count >= self.quorum && self.quorum_max.is_none_or(|max| count <= max)
    }
}

/// The name (`Name:` of `status`) and command line of every process under `proc_dir`.
pub fn scan(proc_dir: &Path) -> Vec<(String, Vec<String>)> {
    let Ok(entries) = std::fs::read_dir(proc_dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let dir = e.path();
        // A process may end between the listing and the reads: skip it then.
        let Ok(status) = std::fs::read_to_string(dir.join("status")) else {
            continue;
        };
        let comm = status
            .lines()
            .find_map(|l| l.strip_prefix("Name:"))
            .map(|n| n.trim().to_string())
            .unwrap_or_default();
        let cmdline = std::fs::read(dir.join("cmdline"))
            .map(|b| {
                b.split(|c| *c == 0)
                    .filter(|w| !w.is_empty())
                    .map(|w| String::from_utf8_lossy(w).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        out.push((comm, cmdline));
    }
    out
}

/// Up/down with the fork and terminate delays.
#[derive(Clone, Debug)]
struct Debounce {
    up: bool,
    /// Since when the opposite condition has held.
    since: Option<Instant>,
}

impl Debounce {
    fn observe(&mut self, ok: bool, plan: &ProcessPlan, now: Instant) -> Option<bool> {
        if ok == self.up {
            self.since = None;
            return None;
        }
        let since = *self.since.get_or_insert(now);
        let delay = if ok {
            plan.fork_delay
        } else {
            plan.terminate_delay
        };
        if now.duration_since(since) >= delay {
            self.up = ok;
            self.since = None;
            Some(ok)
        } else {
            None
        }
    }
}

/// The thread watching every tracked process, and their published states.
pub struct ProcessWatch {
    pub statuses: Vec<ScriptStatus>,
    thread: Option<JoinHandle<()>>,
}

impl ProcessWatch {
    /// Scans once (the initial states), then every [`SCAN_INTERVAL`] until `stop`.
    pub fn start(plans: Vec<ProcessPlan>, stop: Arc<AtomicBool>) -> std::io::Result<Self> {
        let procs = scan(Path::new("/proc"));
        let count = |p: &ProcessPlan| procs.iter().filter(|(c, l)| p.matches(c, l)).count() as u32;
        let mut states: Vec<Debounce> = plans
            .iter()
            .map(|p| Debounce {
                up: p.quorum_ok(count(p)),
                since: None,
            })
            .collect();
        let statuses: Vec<ScriptStatus> = states.iter().map(|d| ScriptStatus::new(d.up)).collect();
        let published = statuses.clone();
        let thread = if plans.is_empty() {
            None
        } else {
            Some(
                std::thread::Builder::new()
                    .name("vrrp track_process".into())
                    .spawn(move || {
                        while !stop.load(Ordering::SeqCst) {
                            std::thread::sleep(SCAN_INTERVAL);
                            let procs = scan(Path::new("/proc"));
                            let now = Instant::now();
                            for ((plan, state), status) in
                                plans.iter().zip(&mut states).zip(&published)
                            {
                                let n = procs.iter().filter(|(c, l)| plan.matches(c, l)).count();
                                let ok = plan.quorum_ok(n as u32);
                                if let Some(up) = state.observe(ok, plan, now) {
                                    tracing::info!(
                                        "track_process {}: {} ({n} running)",
                                        plan.name,
                                        if up { "up" } else { "down" }
                                    );
                                    status.set(up);
                                }
                            }
                        }
                    })?,
            )
        };
        Ok(ProcessWatch { statuses, thread })
    }

    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(process: &[&str], param_match: Option<ParamMatch>) -> ProcessPlan {
        ProcessPlan {
            name: "p".into(),
            process: process.iter().map(|s| s.to_string()).collect(),
            param_match,
            full_command: false,
            quorum: 1,
            quorum_max: None,
            fork_delay: Duration::ZERO,
            terminate_delay: Duration::ZERO,
        }
    }
    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_bare_name_matches_the_process_name_truncated_as_the_kernel_does() {
        let p = plan(&["haproxy"], None);
        assert!(p.matches("haproxy", &words(&["/usr/sbin/haproxy", "-f", "x"])));
        assert!(!p.matches("haproxy-wrapper", &[]));
        let long = plan(&["a-very-long-process-name"], None);
        assert!(long.matches("a-very-long-pro", &[]));
    }

    #[test]
    fn parameters_match_the_command_line() {
        let exact = plan(&["/usr/sbin/haproxy", "-f", "/etc/h.cfg"], None);
        assert!(exact.matches(
            "haproxy",
            &words(&["/usr/sbin/haproxy", "-f", "/etc/h.cfg"])
        ));
        assert!(!exact.matches(
            "haproxy",
            &words(&["/usr/sbin/haproxy", "-f", "/etc/h.cfg", "-d"])
        ));
        assert!(!exact.matches("haproxy", &words(&["haproxy", "-f", "/etc/h.cfg"])));
        let partial = plan(&["/usr/sbin/haproxy", "-f"], Some(ParamMatch::Partial));
        assert!(partial.matches("", &words(&["/usr/sbin/haproxy", "-f", "/etc/h.cfg"])));
        let initial = plan(
            &["/usr/sbin/haproxy", "-f", "/etc/h"],
            Some(ParamMatch::Initial),
        );
        assert!(initial.matches("", &words(&["/usr/sbin/haproxy", "-f", "/etc/h.cfg"])));
        assert!(!initial.matches("", &words(&["/usr/sbin/haproxy", "-f", "/tmp/h.cfg"])));
        // param_match without parameters: no parameters allowed.
        let none = plan(&["/bin/x"], Some(ParamMatch::Initial));
        assert!(none.matches("", &words(&["/bin/x"])));
        assert!(!none.matches("", &words(&["/bin/x", "a"])));
    }

    #[test]
    fn quorum_bounds_the_count() {
        let mut p = plan(&["x"], None);
        assert!(!p.quorum_ok(0) && p.quorum_ok(1) && p.quorum_ok(9));
        p.quorum = 2;
        p.quorum_max = Some(3);
        assert!(!p.quorum_ok(1) && p.quorum_ok(2) && p.quorum_ok(3) && !p.quorum_ok(4));
        p.quorum = 0;
        p.quorum_max = Some(0);
        assert!(
            p.quorum_ok(0) && !p.quorum_ok(1),
            "quorum_max 0: must not run"
        );
    }

    #[test]
    fn delays_hold_a_change_back() {
        let mut p = plan(&["x"], None);
        p.fork_delay = Duration::from_millis(300);
        let t = Instant::now();
        let mut d = Debounce {
            up: false,
            since: None,
        };
        assert_eq!(d.observe(true, &p, t), None);
        assert_eq!(d.observe(true, &p, t + Duration::from_millis(200)), None);
        assert_eq!(
            d.observe(true, &p, t + Duration::from_millis(300)),
            Some(true)
        );
        // terminate_delay 0: down at once.
        assert_eq!(
            d.observe(false, &p, t + Duration::from_millis(400)),
            Some(false)
        );
    }

    #[test]
    fn scans_a_proc_like_directory() {
        let dir = std::env::temp_dir().join(format!("rsproxy-proc-{}", std::process::id()));
        let pdir = dir.join("42");
        std::fs::create_dir_all(&pdir).unwrap();
        std::fs::create_dir_all(dir.join("self")).unwrap();
        std::fs::write(pdir.join("status"), "Name:\thaproxy\nState:\tS\n").unwrap();
        std::fs::write(pdir.join("cmdline"), b"/usr/sbin/haproxy\0-f\0/etc/h.cfg\0").unwrap();
        let got = scan(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            got,
            [(
                "haproxy".to_string(),
                words(&["/usr/sbin/haproxy", "-f", "/etc/h.cfg"])
            )]
        );
        // The real /proc lists this very process.
        let me = std::fs::read_to_string("/proc/self/status").unwrap();
        let comm = me
            .lines()
            .find_map(|l| l.strip_prefix("Name:"))
            .unwrap()
            .trim()
            .to_string();
        assert!(scan(Path::new("/proc")).iter().any(|(c, _)| *c == comm));
    }
}
