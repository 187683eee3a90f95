//! `vrrp_script` and `track_script`: health scripts and their effect on an instance.
//!
//! - [`RiseFall`]: a script's up/down state from its results (`rise` successes in a row to
//!   go up, `fall` failures in a row to go down), pure.
//! - [`effective_priority`]: an instance's priority from its base priority and the state of
//!   each tracked script, as keepalived.conf(5) defines it, pure.
//! - [`split_command`] and [`ScriptRunner`]: run a script as keepalived does — the command
//!   line split into words and executed directly, without a shell (write
//!   `/bin/sh -c '...'` to get one), stdin/stdout/stderr to /dev/null, killed at its timeout
//!   (a timeout is a failure), exit status 0 = success.
//!
//! One thread per script, shared by every instance tracking it; the result is published in
//! an atomic the instances read on each turn of their loop.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A script's up/down state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiseFall {
    up: bool,
    streak: u32,
    rise: u32,
    fall: u32,
}

impl RiseFall {
    /// Up at first, unless `init_fail`.
    pub fn new(rise: u32, fall: u32, init_fail: bool) -> RiseFall {
        RiseFall {
            up: !init_fail,
            streak: 0,
            rise: rise.max(1),
            fall: fall.max(1),
        }
    }

    pub fn is_up(&self) -> bool {
        self.up
    }

    /// Records one result; `Some(new state)` when it changes the state.
    pub fn record(&mut self, success: bool) -> Option<bool> {
        if success == self.up {
            self.streak = 0;
            return None;
        }
        self.streak += 1;
        let need = if self.up { self.fall } else { self.rise };
        if self.streak >= need {
            self.up = success;
            self.streak = 0;
            Some(self.up)
        } else {
            None
        }
    }
}

/// One tracked object's effect: its weight, `reverse`, and whether it is up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tracked {
    pub weight: i32,
    pub reverse: bool,
    pub up: bool,
}

/// A `track_file`'s effect (keepalived.conf(5), "Track files"): with weight 0 a non-zero
/// value is a fault; otherwise value × weight (negated with `reverse`) is added, and a
/// result below -253 is a fault. `None`: fault.
pub fn file_effect(value: i64, weight: i32, reverse: bool) -> Option<i32> {
    if weight == 0 {
        return (value == 0).then_some(0);
    }
    let mut result = value.saturating_mul(i64::from(weight));
    if reverse {
        result = result.saturating_neg();
    }
    if result < -253 {
        return None;
    }
    Some(i32::try_from(result.min(253)).unwrap_or(253))
}

/// The number a tracked file holds, as keepalived reads it: leading blanks, an optional
/// sign, digits; anything else (or no file) reads as 0.
pub fn parse_file_value(text: &str) -> i64 {
    let t = text.trim_start();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let v: i64 = digits.get(..end).and_then(|d| d.parse().ok()).unwrap_or(0);
    if neg {
        -v
    } else {
        v
    }
}

/// The effective priority, or `None` for FAULT (keepalived.conf(5), track_interface and
/// track_script): weight 0 means FAULT while the object is down (with `reverse`: while up);
/// a positive weight is added while the object is up, a negative one while it is down;
/// `reverse` swaps up and down. The sum is kept within 1..=254; the address owner
/// (priority 255) keeps 255.
pub fn effective_priority(base: u8, tracked: &[Tracked]) -> Option<u8> {
    effective_priority_with(base, tracked, &[])
}

/// [`effective_priority`] with the effects of tracked files ([`file_effect`]) too.
pub fn effective_priority_with(base: u8, tracked: &[Tracked], files: &[Option<i32>]) -> Option<u8> {
    let mut sum: i32 = 0;
    for f in files {
        sum = sum.saturating_add((*f)?);
    }
    for t in tracked {
        let up = t.up != t.reverse;
        match t.weight {
            0 if !up => return None,
            0 => {}
            w if w > 0 && up => sum += w,
            w if w < 0 && !up => sum += w,
            _ => {}
        }
    }
    if base == 255 {
        return Some(255);
    }
    let p = (i32::from(base) + sum).clamp(1, 254);
    Some(u8::try_from(p).unwrap_or(1))
}

/// The words of a `script` line: split on blanks; single or double quotes group words
/// (and are removed); a backslash escapes the next character outside single quotes.
pub fn split_command(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => cur.push(c),
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// What a script thread needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptPlan {
    pub name: String,
    pub argv: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub rise: u32,
    pub fall: u32,
    pub init_fail: bool,
    /// `user USER [GROUP]` of the script, else the global `script_user`; `None`: neither.
    pub user: Option<(String, Option<String>)>,
}

/// The user keepalived runs scripts as when none is configured, if it exists.
pub const DEFAULT_SCRIPT_USER: &str = "keepalived_script";

/// `(uid, gid)` of `user` (and `group`, else the user's primary group), from /etc/passwd
/// and /etc/group.
pub fn lookup_user(user: &str, group: Option<&str>) -> Result<(u32, u32), String> {
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| format!("/etc/passwd: {e}"))?;
    let (uid, mut gid) = passwd
        .lines()
        .find_map(|l| {
            let mut f = l.split(':');
            if f.next()? != user {
                return None;
            }
            let _password = f.next()?;
            Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
        })
        .ok_or_else(|| format!("no user {user}"))?;
    if let Some(group) = group {
        let groups =
            std::fs::read_to_string("/etc/group").map_err(|e| format!("/etc/group: {e}"))?;
        gid = groups
            .lines()
            .find_map(|l| {
                let mut f = l.split(':');
                if f.next()? != group {
                    return None;
                }
                let _password = f.next()?;
                f.next()?.parse().ok()
            })
            .ok_or_else(|| format!("no group {group}"))?;
    }
    Ok((uid, gid))
}

/// Runs the command once (as `ids`, uid and gid, if given): `true` if it exited 0 within
/// the timeout.
pub fn run_once(plan: &ScriptPlan, ids: Option<(u32, u32)>) -> bool {
    let Some((program, args)) = plan.argv.split_first() else {
        return false;
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some((uid, gid)) = ids {
        use std::os::unix::process::CommandExt;
        cmd.uid(uid).gid(gid);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("vrrp_script {}: cannot run {program}: {e}", plan.name);
            return false;
        }
    };
    let end = Instant::now() + plan.timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() >= end => {
                tracing::warn!(
                    "vrrp_script {}: timed out after {:?}, killed",
                    plan.name,
                    plan.timeout
                );
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => return false,
        }
    }
}

/// A script's published state: 0 down, 1 up.
#[derive(Clone, Debug)]
pub struct ScriptStatus(Arc<AtomicU8>);

impl ScriptStatus {
    pub fn new(up: bool) -> ScriptStatus {
        ScriptStatus(Arc::new(AtomicU8::new(u8::from(up))))
    }
    pub fn is_up(&self) -> bool {
        self.0.load(Ordering::SeqCst) == 1
    }
    pub(crate) fn set(&self, up: bool) {
        self.0.store(u8::from(up), Ordering::SeqCst);
    }
}

/// A script's thread.
pub struct ScriptRunner {
    pub status: ScriptStatus,
    thread: Option<JoinHandle<()>>,
}

impl ScriptRunner {
    /// Starts running `plan` (as `ids`) every `interval` until `stop` is set.
    pub fn start(
        plan: ScriptPlan,
        ids: Option<(u32, u32)>,
        stop: Arc<AtomicBool>,
    ) -> std::io::Result<ScriptRunner> {
        let state = RiseFall::new(plan.rise, plan.fall, plan.init_fail);
        let status = ScriptStatus::new(state.is_up());
        let published = status.clone();
        let thread = std::thread::Builder::new()
            .name(format!("vrrp_script {}", plan.name))
            .spawn(move || script_loop(plan, ids, state, published, &stop))?;
        Ok(ScriptRunner {
            status,
            thread: Some(thread),
        })
    }

    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn script_loop(
    plan: ScriptPlan,
    ids: Option<(u32, u32)>,
    mut state: RiseFall,
    status: ScriptStatus,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::SeqCst) {
        let started = Instant::now();
        let ok = run_once(&plan, ids);
        if let Some(up) = state.record(ok) {
            tracing::info!(
                "VRRP_Script({}) {}",
                plan.name,
                if up { "succeeded" } else { "failed" }
            );
            status.set(up);
        }
        let next = started + plan.interval;
        while Instant::now() < next && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(
                next.saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(20)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rise_and_fall_need_that_many_results_in_a_row() {
        let mut s = RiseFall::new(2, 3, false);
        assert!(s.is_up());
        // fall 3: two failures and a success change nothing.
        assert_eq!(s.record(false), None);
        assert_eq!(s.record(false), None);
        assert_eq!(s.record(true), None);
        assert_eq!(s.record(false), None);
        assert_eq!(s.record(false), None);
        assert_eq!(s.record(false), Some(false));
        // rise 2.
        assert_eq!(s.record(true), None);
        assert_eq!(s.record(false), None);
        assert_eq!(s.record(true), None);
        assert_eq!(s.record(true), Some(true));
        // init_fail starts down.
        assert!(!RiseFall::new(1, 1, true).is_up());
    }

    #[test]
    fn effective_priority_follows_weights_as_keepalived_documents() {
        let t = |weight, reverse, up| Tracked {
            weight,
            reverse,
            up,
        };
        // The seeds: weight 2, added while the script succeeds.
        assert_eq!(effective_priority(101, &[t(2, false, true)]), Some(103));
        assert_eq!(effective_priority(101, &[t(2, false, false)]), Some(101));
        // Negative weights count while down.
        assert_eq!(effective_priority(150, &[t(-60, false, false)]), Some(90));
        assert_eq!(effective_priority(150, &[t(-60, false, true)]), Some(150));
        // reverse swaps up and down.
        assert_eq!(effective_priority(100, &[t(10, true, false)]), Some(110));
        assert_eq!(effective_priority(100, &[t(-10, true, true)]), Some(90));
        // weight 0: FAULT while down (reverse: while up).
        assert_eq!(effective_priority(100, &[t(0, false, false)]), None);
        assert_eq!(effective_priority(100, &[t(0, true, true)]), None);
        assert_eq!(effective_priority(100, &[t(0, false, true)]), Some(100));
        // Clamped to 1..=254; the owner keeps 255.
        assert_eq!(effective_priority(250, &[t(100, false, true)]), Some(254));
        assert_eq!(effective_priority(5, &[t(-100, false, false)]), Some(1));
        assert_eq!(effective_priority(255, &[t(-100, false, false)]), Some(255));
    }

    #[test]
    fn tracked_files_count_as_keepalived_documents() {
        // weight 0: non-zero is a fault.
        assert_eq!(file_effect(0, 0, false), Some(0));
        assert_eq!(file_effect(3, 0, false), None);
        // value × weight, reverse negates; below -253 a fault.
        assert_eq!(file_effect(-60, 1, false), Some(-60));
        assert_eq!(file_effect(5, 2, true), Some(-10));
        assert_eq!(file_effect(-254, 1, false), None);
        assert_eq!(file_effect(1000, 1, false), Some(253));
        assert_eq!(effective_priority_with(150, &[], &[Some(-60)]), Some(90));
        assert_eq!(effective_priority_with(150, &[], &[Some(-60), None]), None);
        assert_eq!(parse_file_value("  -60\n"), -60);
        assert_eq!(parse_file_value("+7 apples"), 7);
        assert_eq!(parse_file_value("apples"), 0);
        assert_eq!(parse_file_value(""), 0);
        assert_eq!(parse_file_value("99999999999999999999999"), 0);
    }

    #[test]
    fn commands_are_split_without_a_shell() {
        assert_eq!(
            split_command("killall -0 haproxy"),
            ["killall", "-0", "haproxy"]
        );
        assert_eq!(
            split_command(r#"/bin/sh -c 'test -e "/tmp/a b" && exit 0'"#),
            ["/bin/sh", "-c", r#"test -e "/tmp/a b" && exit 0"#]
        );
        assert_eq!(
            split_command(r#"a "b c"  d\ e ''"#),
            ["a", "b c", "d e", ""]
        );
        assert!(split_command("   ").is_empty());
    }

    fn plan(argv: &[&str], timeout_ms: u64) -> ScriptPlan {
        ScriptPlan {
            name: "t".into(),
            argv: argv.iter().map(|s| s.to_string()).collect(),
            interval: Duration::from_millis(50),
            timeout: Duration::from_millis(timeout_ms),
            rise: 1,
            fall: 1,
            init_fail: false,
            user: None,
        }
    }

    #[test]
    fn users_are_looked_up_in_etc_passwd() {
        assert_eq!(lookup_user("root", None), Ok((0, 0)));
        assert_eq!(lookup_user("root", Some("root")), Ok((0, 0)));
        assert!(lookup_user("no-such-user-here", None).is_err());
        assert!(lookup_user("root", Some("no-such-group-here")).is_err());
    }

    #[test]
    fn exit_status_decides_and_a_hanging_script_is_killed_at_its_timeout() {
        assert!(run_once(&plan(&["/bin/sh", "-c", "exit 0"], 2000), None));
        assert!(!run_once(&plan(&["/bin/sh", "-c", "exit 3"], 2000), None));
        assert!(!run_once(&plan(&["/nonexistent/script"], 2000), None));
        let t = Instant::now();
        assert!(!run_once(&plan(&["/bin/sleep", "5"], 200), None));
        assert!(t.elapsed() < Duration::from_secs(2));
    }
}
