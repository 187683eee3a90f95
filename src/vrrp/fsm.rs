//! The VRRP state machine of one `vrrp_instance`: RFC 3768 §6.4 (v2) and RFC 5798 §6.4 (v3).
//!
//! Pure: [`Instance::on_event`] takes an [`Event`] and the current time and returns the
//! [`Action`]s the caller must carry out (send an advertisement, add or remove the floating
//! addresses, announce them); [`Instance::next_deadline`] says when to call it again with
//! [`Event::Timer`]. No I/O, no clock: tests drive it with made-up instants.
//!
//! Where keepalived 2.2 departs from the RFC and a peer can see it, this follows keepalived
//! (the peer we must interoperate with), and says so:
//! - `state MASTER` makes an immediate master only of the address owner (priority 255);
//!   any other instance starts as BACKUP and waits Master_Down_Interval.
//! - A master that hears a lower priority advertises at once (keepalived's "forcing a new
//!   election"), so a second master backs down within one round trip, and announces its
//!   addresses again.
//! - `preempt_delay`: a backup lets a lower-priority master keep its role until the delay has
//!   passed since it first heard it (a higher-priority advertisement resets that).
//!
//! See `LIFECYCLE.md` beside this file for the states and transitions in one picture.

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

pub use super::wire::Version;

/// The priority of the address owner (RFC 5798 §5.2.4).
pub const PRIORITY_OWNER: u8 = 255;
/// The priority a master advertises as it stops (RFC 5798 §6.4.3).
pub const PRIORITY_STOP: u8 = 0;

/// What the state machine needs to know of its instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub version: Version,
    /// 1..=255 (255: address owner).
    pub priority: u8,
    /// Advertisement_Interval in centiseconds (v2: a whole number of seconds ×100).
    pub advert_int_cs: u16,
    /// `state MASTER`.
    pub start_master: bool,
    /// `nopreempt` clears it.
    pub preempt: bool,
    pub preempt_delay: Duration,
    /// The address this instance's advertisements come from: ties between equal priorities
    /// go to the higher one (RFC 5798 §6.4.3).
    pub primary_ip: IpAddr,
    /// `garp_master_delay`: a second gratuitous ARP burst this long after becoming master
    /// (zero: none).
    pub garp_master_delay: Duration,
    /// `garp_master_refresh`: announce again this often while master (zero: never).
    pub garp_master_refresh: Duration,
    /// `garp_lower_prio_delay`: after a lower-priority advertisement reached us as master,
    /// a second burst this long after the first (zero: none).
    pub garp_lower_prio_delay: Duration,
    /// A member of a `vrrp_sync_group`: its Master_Down_Timer running out makes it *want*
    /// MASTER ([`Instance::wants_master`]); the group moves it with [`Event::SyncMaster`].
    pub sync_group: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Init,
    Backup,
    Master,
    Fault,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Init => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
        })
    }
}

/// Why the state changed; logged with each change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Startup as the address owner with `state MASTER`.
    Owner,
    /// Startup, waiting to hear a master.
    Startup,
    /// No advertisement for Master_Down_Interval.
    MasterDown,
    /// The master advertised priority 0 and Skew_Time passed.
    MasterStopped,
    /// An advertisement from a higher priority (or an equal one from a higher address).
    Preempted {
        by: IpAddr,
        priority: u8,
    },
    Shutdown,
    Fault,
    FaultCleared,
    /// Another member of its `vrrp_sync_group` changed state.
    SyncGroup,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Owner => f.write_str("address owner (priority 255) starting as MASTER"),
            Reason::Startup => f.write_str("startup"),
            Reason::MasterDown => f.write_str("no advertisement within Master_Down_Interval"),
            Reason::MasterStopped => {
                f.write_str("the master advertised priority 0 (stopping), Skew_Time passed")
            }
            Reason::Preempted { by, priority } => {
                write!(f, "advertisement from {by} with priority {priority}")
            }
            Reason::Shutdown => f.write_str("shutdown"),
            Reason::Fault => f.write_str("fault"),
            Reason::FaultCleared => f.write_str("fault cleared"),
            Reason::SyncGroup => f.write_str("its sync group"),
        }
    }
}

/// An input of the state machine. Adverts reach it only after the receive checks (TTL,
/// version, vrid, checksum, authentication) passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Startup,
    Shutdown,
    /// A deadline given by [`Instance::next_deadline`] may have passed.
    Timer,
    Advert {
        src: IpAddr,
        priority: u8,
        /// The sender's interval, centiseconds.
        interval_cs: u16,
    },
    /// The effective priority changed (a tracked script's weight): from now on it is the
    /// priority advertised and compared.
    SetPriority(u8),
    /// A tracked object with weight 0 failed (keepalived: FAULT).
    Fault,
    FaultCleared,
    /// Sync group: every member wants MASTER (or is); a backup becomes master.
    SyncMaster,
    /// Sync group: a member left MASTER; a master becomes backup.
    SyncBackup,
}

/// What the caller must do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send an advertisement with this priority.
    SendAdvert { priority: u8 },
    /// Add every floating address.
    AddAddresses,
    /// Remove every floating address.
    RemoveAddresses,
    /// Send gratuitous ARPs / unsolicited NAs for every floating address (one burst).
    Announce,
    /// The periodic refresh of those (`garp_master_refresh_repeat` messages each).
    AnnounceRefresh,
    /// A burst of `garp_lower_prio_repeat` messages each: a lower-priority advertisement
    /// reached us as master (and again `garp_lower_prio_delay` later).
    AnnounceLowerPrio,
    /// Log this change of state.
    StateChange {
        from: State,
        to: State,
        reason: Reason,
    },
    /// Log: an advertisement of lower priority reached us as master.
    LowerPriorityMaster { src: IpAddr, priority: u8 },
}

/// The state machine of one instance.
#[derive(Clone, Debug)]
pub struct Instance {
    cfg: Config,
    state: State,
    /// Master_Adver_Interval (v3: learnt from the master; v2: our own), centiseconds.
    master_adver_int_cs: u16,
    adver_timer: Option<Instant>,
    master_down_timer: Option<Instant>,
    /// When the Master_Down_Timer was last started at its full interval (an advertisement
    /// heard, or entering BACKUP): a new priority, hence a new Skew_Time, moves the deadline
    /// from there, as keepalived does.
    master_down_since: Option<Instant>,
    /// Set by a priority-0 advertisement: the timer then runs Skew_Time only.
    master_stopped: bool,
    garp_timer: Option<Instant>,
    refresh_timer: Option<Instant>,
    /// The second `garp_lower_prio` burst.
    lower_prio_timer: Option<Instant>,
    /// When a lower-priority master may be preempted (`preempt_delay`).
    preempt_at: Option<Instant>,
    /// Sync group member whose Master_Down_Timer ran out.
    wants_master: bool,
}

fn cs(n: u64) -> Duration {
    Duration::from_millis(n * 10)
}

impl Instance {
    pub fn new(cfg: Config) -> Instance {
        Instance {
            master_adver_int_cs: cfg.advert_int_cs,
            cfg,
            state: State::Init,
            adver_timer: None,
            master_down_timer: None,
            master_down_since: None,
            master_stopped: false,
            garp_timer: None,
            refresh_timer: None,
            lower_prio_timer: None,
            preempt_at: None,
            wants_master: false,
        }
    }

    /// A sync group member in BACKUP that would be MASTER but for its group.
    pub fn wants_master(&self) -> bool {
        self.wants_master
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Skew_Time: v2 (RFC 3768 §6.1) `(256 - Priority) / 256` s; v3 (RFC 5798 §6.1)
    /// `((256 - Priority) * Master_Adver_Interval) / 256` centiseconds.
    pub fn skew_time(&self) -> Duration {
        let weight = 256 - u64::from(self.cfg.priority);
        match self.cfg.version {
            Version::V2 => Duration::from_micros(weight * 1_000_000 / 256),
            Version::V3 => {
                Duration::from_micros(weight * u64::from(self.master_adver_int_cs) * 10_000 / 256)
            }
        }
    }

    /// Master_Down_Interval: `3 * Master_Adver_Interval + Skew_Time` (v2: the instance's own
    /// Advertisement_Interval).
    pub fn master_down_interval(&self) -> Duration {
        cs(3 * u64::from(self.master_adver_int_cs)) + self.skew_time()
    }

    fn advert_interval(&self) -> Duration {
        cs(u64::from(self.cfg.advert_int_cs))
    }

    /// When [`Event::Timer`] is next due, if any timer runs.
    pub fn next_deadline(&self) -> Option<Instant> {
        [
            self.adver_timer,
            self.master_down_timer,
            self.garp_timer,
            self.refresh_timer,
            self.lower_prio_timer,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub fn on_event(&mut self, event: Event, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        match (self.state, event) {
            (_, Event::SetPriority(p)) => self.set_priority(p, now, &mut out),
            // RFC 5798 §6.4.1.
            (State::Init, Event::Startup) => {
                if self.cfg.priority == PRIORITY_OWNER && self.cfg.start_master {
                    self.become_master(now, Reason::Owner, &mut out);
                } else {
                    self.become_backup(now, Reason::Startup, &mut out);
                }
            }
            (State::Init, _) => {}
            (State::Fault, Event::FaultCleared) => {
                self.become_backup(now, Reason::FaultCleared, &mut out);
            }
            (State::Fault, Event::Shutdown) => self.change(State::Init, Reason::Shutdown, &mut out),
            (State::Fault, _) => {}
            (_, Event::Fault) => {
                self.leave_master(&mut out);
                self.clear_timers();
                self.change(State::Fault, Reason::Fault, &mut out);
            }
            (_, Event::Shutdown) => {
                // §6.4.3: a master sends priority 0 so a backup takes over after Skew_Time.
                if self.state == State::Master {
                    out.push(Action::SendAdvert {
                        priority: PRIORITY_STOP,
                    });
                }
                self.leave_master(&mut out);
                self.clear_timers();
                self.change(State::Init, Reason::Shutdown, &mut out);
            }
            (_, Event::FaultCleared) | (_, Event::Startup) => {}
            (State::Backup, Event::Timer) => {
                if self.master_down_timer.is_some_and(|t| t <= now) {
                    if self.cfg.sync_group {
                        // keepalived: a member goes MASTER only with its whole group.
                        self.master_down_timer = None;
                        self.wants_master = true;
                    } else {
                        let reason = if self.master_stopped {
                            Reason::MasterStopped
                        } else {
                            Reason::MasterDown
                        };
                        self.become_master(now, reason, &mut out);
                    }
                }
            }
            (State::Backup, Event::SyncMaster) => {
                self.become_master(now, Reason::SyncGroup, &mut out);
            }
            (State::Master, Event::SyncBackup) => {
                self.leave_master(&mut out);
                self.adver_timer = None;
                self.garp_timer = None;
                self.refresh_timer = None;
                self.lower_prio_timer = None;
                self.master_stopped = false;
                self.start_master_down(now);
                self.change(State::Backup, Reason::SyncGroup, &mut out);
            }
            (_, Event::SyncMaster | Event::SyncBackup) => {}
            (State::Master, Event::Timer) => {
                if self.adver_timer.is_some_and(|t| t <= now) {
                    out.push(Action::SendAdvert {
                        priority: self.cfg.priority,
                    });
                    self.adver_timer = Some(now + self.advert_interval());
                }
                if self.garp_timer.is_some_and(|t| t <= now) {
                    out.push(Action::Announce);
                    self.garp_timer = None;
                }
                if self.refresh_timer.is_some_and(|t| t <= now) {
                    out.push(Action::AnnounceRefresh);
                    self.refresh_timer = Some(now + self.cfg.garp_master_refresh);
                }
                if self.lower_prio_timer.is_some_and(|t| t <= now) {
                    out.push(Action::AnnounceLowerPrio);
                    self.lower_prio_timer = None;
                }
            }
            (
                State::Backup,
                Event::Advert {
                    priority,
                    interval_cs,
                    ..
                },
            ) => self.backup_receives(priority, interval_cs, now),
            (
                State::Master,
                Event::Advert {
                    src,
                    priority,
                    interval_cs,
                },
            ) => self.master_receives(src, priority, interval_cs, now, &mut out),
        }
        out
    }

    /// RFC 5798 §6.4.2, "If an ADVERTISEMENT is received".
    fn backup_receives(&mut self, priority: u8, interval_cs: u16, now: Instant) {
        if priority == PRIORITY_STOP {
            self.master_stopped = true;
            self.wants_master = false;
            self.master_down_timer = Some(now + self.skew_time());
            return;
        }
        let lower = priority < self.cfg.priority;
        if lower && self.cfg.preempt {
            // keepalived's preempt_delay: the lower-priority master keeps its role until the
            // delay since we first heard it has passed.
            if self.cfg.preempt_delay.is_zero() {
                return;
            }
            let at = *self.preempt_at.get_or_insert(now + self.cfg.preempt_delay);
            if now >= at {
                return;
            }
        } else if !lower {
            self.preempt_at = None;
        }
        if self.cfg.version == Version::V3 {
            self.master_adver_int_cs = interval_cs;
        }
        self.master_stopped = false;
        self.start_master_down(now);
    }

    /// Starts the Master_Down_Timer at Master_Down_Interval from `now`.
    fn start_master_down(&mut self, now: Instant) {
        self.wants_master = false;
        self.master_down_since = Some(now);
        self.master_down_timer = Some(now + self.master_down_interval());
    }

    /// RFC 5798 §6.4.3, "If an ADVERTISEMENT is received".
    fn master_receives(
        &mut self,
        src: IpAddr,
        priority: u8,
        interval_cs: u16,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        if priority == PRIORITY_STOP {
            out.push(Action::SendAdvert {
                priority: self.cfg.priority,
            });
            self.adver_timer = Some(now + self.advert_interval());
            return;
        }
        let higher = priority > self.cfg.priority
            || (priority == self.cfg.priority && src > self.cfg.primary_ip);
        if higher {
            if self.cfg.version == Version::V3 {
                self.master_adver_int_cs = interval_cs;
            }
            self.leave_master(out);
            self.adver_timer = None;
            self.garp_timer = None;
            self.refresh_timer = None;
            self.lower_prio_timer = None;
            self.master_stopped = false;
            self.start_master_down(now);
            self.change(State::Backup, Reason::Preempted { by: src, priority }, out);
        } else if src != self.cfg.primary_ip {
            out.push(Action::LowerPriorityMaster { src, priority });
            out.push(Action::SendAdvert {
                priority: self.cfg.priority,
            });
            out.push(Action::AnnounceLowerPrio);
            self.lower_prio_timer = if self.cfg.garp_lower_prio_delay.is_zero() {
                None
            } else {
                Some(now + self.cfg.garp_lower_prio_delay)
            };
            self.adver_timer = Some(now + self.advert_interval());
        }
    }

    fn set_priority(&mut self, priority: u8, now: Instant, out: &mut Vec<Action>) {
        if priority == self.cfg.priority || priority == PRIORITY_STOP {
            return;
        }
        self.cfg.priority = priority;
        // A master tells the backups at once, so one with a now higher priority can preempt
        // without waiting for the next advertisement.
        if self.state == State::Master {
            out.push(Action::SendAdvert { priority });
            self.adver_timer = Some(now + self.advert_interval());
        }
        // A backup's Skew_Time changed: so does its deadline.
        if self.state == State::Backup && !self.master_stopped {
            if let Some(since) = self.master_down_since {
                self.master_down_timer = Some(since + self.master_down_interval());
            }
        }
    }

    /// RFC 5798 §6.4.1/§6.4.2 advertise then announce; the addresses go first here (as in
    /// keepalived), so that when the old master hears our advert and lets go, the addresses
    /// are already ours and announced: no moment in which no one answers for them.
    fn become_master(&mut self, now: Instant, reason: Reason, out: &mut Vec<Action>) {
        out.push(Action::AddAddresses);
        out.push(Action::Announce);
        out.push(Action::SendAdvert {
            priority: self.cfg.priority,
        });
        self.master_down_timer = None;
        self.master_down_since = None;
        self.master_stopped = false;
        self.wants_master = false;
        self.preempt_at = None;
        self.adver_timer = Some(now + self.advert_interval());
        self.garp_timer = if self.cfg.garp_master_delay.is_zero() {
            None
        } else {
            Some(now + self.cfg.garp_master_delay)
        };
        self.refresh_timer = if self.cfg.garp_master_refresh.is_zero() {
            None
        } else {
            Some(now + self.cfg.garp_master_refresh)
        };
        self.change(State::Master, reason, out);
    }

    fn become_backup(&mut self, now: Instant, reason: Reason, out: &mut Vec<Action>) {
        self.master_adver_int_cs = self.cfg.advert_int_cs;
        self.master_stopped = false;
        self.start_master_down(now);
        self.change(State::Backup, reason, out);
    }

    fn leave_master(&mut self, out: &mut Vec<Action>) {
        if self.state == State::Master {
            out.push(Action::RemoveAddresses);
        }
    }

    fn clear_timers(&mut self) {
        self.adver_timer = None;
        self.master_down_timer = None;
        self.master_down_since = None;
        self.garp_timer = None;
        self.refresh_timer = None;
        self.lower_prio_timer = None;
        self.preempt_at = None;
        self.master_stopped = false;
        self.wants_master = false;
    }

    fn change(&mut self, to: State, reason: Reason, out: &mut Vec<Action>) {
        out.push(Action::StateChange {
            from: self.state,
            to,
            reason,
        });
        self.state = to;
    }
}

#[cfg(test)]
mod tests;
