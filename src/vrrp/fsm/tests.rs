//! Event → action tables for the state machine. Each test: a description, the events with the
//! time (ms after start) they arrive at, and the actions and state expected.

use super::*;
use std::net::Ipv4Addr;

const ME: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const LOWER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const HIGHER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));

fn cfg(version: Version, priority: u8) -> Config {
    Config {
        version,
        priority,
        advert_int_cs: 100,
        start_master: false,
        preempt: true,
        preempt_delay: Duration::ZERO,
        primary_ip: ME,
        garp_master_delay: Duration::ZERO,
        garp_master_refresh: Duration::ZERO,
        garp_lower_prio_delay: Duration::ZERO,
        sync_group: false,
    }
}

struct Run {
    fsm: Instance,
    t0: Instant,
}

impl Run {
    fn new(cfg: Config) -> Run {
        Run {
            fsm: Instance::new(cfg),
            t0: Instant::now(),
        }
    }
    fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }
    fn ev(&mut self, ms: u64, e: Event) -> Vec<Action> {
        let now = self.at(ms);
        self.fsm.on_event(e, now)
    }
    /// The actions that are not log lines.
    fn io(&mut self, ms: u64, e: Event) -> Vec<Action> {
        self.ev(ms, e)
            .into_iter()
            .filter(|a| {
                !matches!(
                    a,
                    Action::StateChange { .. } | Action::LowerPriorityMaster { .. }
                )
            })
            .collect()
    }
    fn deadline_ms(&self) -> Option<u64> {
        self.fsm
            .next_deadline()
            .map(|d| d.duration_since(self.t0).as_millis() as u64)
    }
}

fn advert(src: IpAddr, priority: u8) -> Event {
    Event::Advert {
        src,
        priority,
        interval_cs: 100,
    }
}

const BECOME_MASTER: [Action; 3] = [
    Action::AddAddresses,
    Action::Announce,
    Action::SendAdvert { priority: 100 },
];

#[test]
fn skew_and_master_down_interval_follow_each_rfc() {
    // v2, RFC 3768 §6.1: Skew = (256-100)/256 s = 609.375 ms; MDI = 3 s + skew.
    let v2 = Instance::new(cfg(Version::V2, 100));
    assert_eq!(v2.skew_time(), Duration::from_micros(609_375));
    assert_eq!(v2.master_down_interval(), Duration::from_micros(3_609_375));
    // v3, RFC 5798 §6.1: Skew scales with Master_Adver_Interval (here 1 s → same figures);
    // with 50 cs, half of it.
    let mut c = cfg(Version::V3, 100);
    c.advert_int_cs = 50;
    let v3 = Instance::new(c);
    assert_eq!(v3.skew_time(), Duration::from_micros(304_687));
    assert_eq!(v3.master_down_interval(), Duration::from_micros(1_804_687));
    // The owner's skew is the smallest: (256-255)/256 s.
    assert_eq!(
        Instance::new(cfg(Version::V2, 255)).skew_time(),
        Duration::from_micros(3_906)
    );
}

#[test]
fn backup_becomes_master_after_master_down_interval_of_silence() {
    let mut r = Run::new(cfg(Version::V2, 100));
    let start = r.ev(0, Event::Startup);
    assert_eq!(
        start,
        vec![Action::StateChange {
            from: State::Init,
            to: State::Backup,
            reason: Reason::Startup
        }]
    );
    assert_eq!(r.deadline_ms(), Some(3609));
    // A timer event before the deadline changes nothing.
    assert!(r.io(3000, Event::Timer).is_empty());
    assert_eq!(r.fsm.state(), State::Backup);
    let acts = r.ev(3610, Event::Timer);
    assert_eq!(acts[..3], BECOME_MASTER);
    assert_eq!(
        acts[3],
        Action::StateChange {
            from: State::Backup,
            to: State::Master,
            reason: Reason::MasterDown
        }
    );
    // Then one advertisement per Advertisement_Interval.
    assert_eq!(r.deadline_ms(), Some(4610));
    assert_eq!(
        r.io(4610, Event::Timer),
        vec![Action::SendAdvert { priority: 100 }]
    );
    assert_eq!(r.deadline_ms(), Some(5610));
}

#[test]
fn state_master_is_immediate_only_for_the_address_owner() {
    // keepalived 2.2: `state MASTER` with priority < 255 starts in BACKUP.
    let mut c = cfg(Version::V2, 100);
    c.start_master = true;
    let mut r = Run::new(c.clone());
    r.ev(0, Event::Startup);
    assert_eq!(r.fsm.state(), State::Backup);

    c.priority = 255;
    let mut r = Run::new(c.clone());
    let acts = r.io(0, Event::Startup);
    assert_eq!(acts[2], Action::SendAdvert { priority: 255 });
    assert_eq!(r.fsm.state(), State::Master);

    // The owner with `state BACKUP` waits like any backup.
    c.start_master = false;
    let mut r = Run::new(c);
    r.ev(0, Event::Startup);
    assert_eq!(r.fsm.state(), State::Backup);
}

#[test]
fn adverts_from_an_equal_or_higher_master_keep_a_backup_waiting() {
    let mut r = Run::new(cfg(Version::V2, 100));
    r.ev(0, Event::Startup);
    for ms in [1000, 2000, 3000, 4000, 5000, 6000] {
        assert!(r.io(ms, advert(LOWER_IP, 100)).is_empty());
        assert!(r.io(ms + 1, Event::Timer).is_empty());
    }
    assert_eq!(r.fsm.state(), State::Backup);
    assert_eq!(r.deadline_ms(), Some(9609));
}

#[test]
fn a_lower_priority_master_is_preempted_at_master_down_interval() {
    let mut r = Run::new(cfg(Version::V2, 100));
    r.ev(0, Event::Startup);
    // The lower adverts are discarded: they do not reset the timer.
    assert!(r.io(1000, advert(HIGHER_IP, 50)).is_empty());
    assert!(r.io(2000, advert(HIGHER_IP, 50)).is_empty());
    assert_eq!(r.deadline_ms(), Some(3609));
    assert_eq!(r.io(3610, Event::Timer)[..], BECOME_MASTER);
}

#[test]
fn nopreempt_leaves_a_lower_priority_master_in_place() {
    let mut c = cfg(Version::V2, 100);
    c.preempt = false;
    let mut r = Run::new(c);
    r.ev(0, Event::Startup);
    for ms in (1000..20_000).step_by(1000) {
        assert!(r.io(ms, advert(HIGHER_IP, 50)).is_empty());
        assert!(r.io(ms + 1, Event::Timer).is_empty());
    }
    assert_eq!(r.fsm.state(), State::Backup);
    // Silence still makes it master.
    assert_eq!(r.io(19_000 + 3610, Event::Timer)[..], BECOME_MASTER);
}

#[test]
fn preempt_delay_waits_from_the_first_lower_advert() {
    let mut c = cfg(Version::V2, 100);
    c.preempt_delay = Duration::from_secs(5);
    let mut r = Run::new(c);
    r.ev(0, Event::Startup);
    // Lower adverts at 1..5 s are accepted (the delay runs until 6 s) ...
    for ms in [1000, 2000, 3000, 4000, 5000] {
        assert!(r.io(ms, advert(HIGHER_IP, 50)).is_empty());
        assert!(r.io(ms + 1, Event::Timer).is_empty());
    }
    // ... from 6 s they are discarded, so the timer set at 5 s fires at 8.609 s.
    assert!(r.io(6000, advert(HIGHER_IP, 50)).is_empty());
    assert!(r.io(7000, advert(HIGHER_IP, 50)).is_empty());
    assert_eq!(r.deadline_ms(), Some(8609));
    assert_eq!(r.io(8610, Event::Timer)[..], BECOME_MASTER);
}

#[test]
fn priority_zero_makes_the_backup_take_over_after_skew_time() {
    let mut r = Run::new(cfg(Version::V2, 100));
    r.ev(0, Event::Startup);
    r.ev(1000, advert(HIGHER_IP, 200));
    assert!(r.io(1500, advert(HIGHER_IP, 0)).is_empty());
    // 1.5 s + 609 ms of skew.
    assert_eq!(r.deadline_ms(), Some(2109));
    let acts = r.ev(2110, Event::Timer);
    assert_eq!(acts[..3], BECOME_MASTER);
    assert!(acts.contains(&Action::StateChange {
        from: State::Backup,
        to: State::Master,
        reason: Reason::MasterStopped
    }));
}

#[test]
fn master_yields_to_higher_priority_and_to_equal_priority_from_a_higher_address() {
    for (src, priority, yields) in [
        (LOWER_IP, 101, true),
        (HIGHER_IP, 100, true),
        (LOWER_IP, 100, false),
        (HIGHER_IP, 99, false),
    ] {
        let mut r = Run::new(cfg(Version::V2, 100));
        r.ev(0, Event::Startup);
        r.ev(3610, Event::Timer);
        assert_eq!(r.fsm.state(), State::Master);
        let acts = r.ev(4000, advert(src, priority));
        if yields {
            assert_eq!(acts[0], Action::RemoveAddresses, "{src} {priority}");
            assert_eq!(r.fsm.state(), State::Backup);
            assert_eq!(r.deadline_ms(), Some(7609));
        } else {
            // keepalived's answer to a lower master: advertise (and announce) at once.
            assert_eq!(
                acts,
                vec![
                    Action::LowerPriorityMaster { src, priority },
                    Action::SendAdvert { priority: 100 },
                    Action::AnnounceLowerPrio
                ],
                "{src} {priority}"
            );
            assert_eq!(r.fsm.state(), State::Master);
        }
    }
}

#[test]
fn master_answers_priority_zero_with_an_advert() {
    let mut r = Run::new(cfg(Version::V2, 100));
    r.ev(0, Event::Startup);
    r.ev(3610, Event::Timer);
    assert_eq!(
        r.io(4000, advert(HIGHER_IP, 0)),
        vec![Action::SendAdvert { priority: 100 }]
    );
    assert_eq!(r.fsm.state(), State::Master);
    assert_eq!(r.deadline_ms(), Some(5000));
}

#[test]
fn shutdown_of_a_master_sends_priority_zero_then_removes_the_addresses() {
    let mut r = Run::new(cfg(Version::V2, 100));
    r.ev(0, Event::Startup);
    r.ev(3610, Event::Timer);
    assert_eq!(
        r.io(5000, Event::Shutdown),
        vec![Action::SendAdvert { priority: 0 }, Action::RemoveAddresses]
    );
    assert_eq!(r.fsm.state(), State::Init);
    assert_eq!(r.fsm.next_deadline(), None);
    // A backup stops silently.
    let mut r = Run::new(cfg(Version::V2, 100));
    r.ev(0, Event::Startup);
    assert!(r.io(1000, Event::Shutdown).is_empty());
}

#[test]
fn v3_backup_learns_the_masters_interval() {
    let mut r = Run::new(cfg(Version::V3, 100));
    r.ev(0, Event::Startup);
    r.ev(
        1000,
        Event::Advert {
            src: HIGHER_IP,
            priority: 200,
            interval_cs: 50,
        },
    );
    // 3 × 0.5 s + (156 × 0.5 / 256) s = 1.5 s + 304.687 ms.
    assert_eq!(r.deadline_ms(), Some(2804));
    // v2 ignores the advertised interval: its own one counts.
    let mut r = Run::new(cfg(Version::V2, 100));
    r.ev(0, Event::Startup);
    r.ev(
        1000,
        Event::Advert {
            src: HIGHER_IP,
            priority: 200,
            interval_cs: 500,
        },
    );
    assert_eq!(r.deadline_ms(), Some(4609));
}

#[test]
fn garp_master_delay_schedules_a_second_announcement() {
    let mut c = cfg(Version::V2, 100);
    c.garp_master_delay = Duration::from_secs(5);
    let mut r = Run::new(c);
    r.ev(0, Event::Startup);
    r.ev(3610, Event::Timer);
    // Adverts at 4.61, 5.61, 6.61, 7.61 s; the second burst at 8.61 s with the advert.
    for ms in [4610, 5610, 6610, 7610] {
        assert_eq!(
            r.io(ms, Event::Timer),
            vec![Action::SendAdvert { priority: 100 }]
        );
    }
    assert_eq!(
        r.io(8610, Event::Timer),
        vec![Action::SendAdvert { priority: 100 }, Action::Announce]
    );
    assert_eq!(
        r.io(9610, Event::Timer),
        vec![Action::SendAdvert { priority: 100 }]
    );
}

#[test]
fn fault_drops_the_addresses_and_recovery_waits_as_a_backup() {
    let mut r = Run::new(cfg(Version::V2, 100));
    r.ev(0, Event::Startup);
    r.ev(3610, Event::Timer);
    assert_eq!(r.io(4000, Event::Fault), vec![Action::RemoveAddresses]);
    assert_eq!(r.fsm.state(), State::Fault);
    assert_eq!(r.fsm.next_deadline(), None);
    // Adverts and timers are ignored in FAULT.
    assert!(r.io(5000, advert(LOWER_IP, 1)).is_empty());
    r.ev(6000, Event::FaultCleared);
    assert_eq!(r.fsm.state(), State::Backup);
    assert_eq!(r.deadline_ms(), Some(9609));
}

#[test]
fn events_before_startup_do_nothing() {
    let mut r = Run::new(cfg(Version::V2, 100));
    assert!(r.ev(0, Event::Timer).is_empty());
    assert!(r.ev(0, advert(HIGHER_IP, 200)).is_empty());
    assert_eq!(r.fsm.state(), State::Init);
}

#[test]
fn a_new_effective_priority_is_advertised_at_once_by_a_master() {
    let mut r = Run::new(cfg(Version::V2, 100));
    r.ev(0, Event::Startup);
    r.ev(3610, Event::Timer);
    assert_eq!(
        r.io(4000, Event::SetPriority(40)),
        vec![Action::SendAdvert { priority: 40 }]
    );
    assert_eq!(
        r.io(5000, Event::Timer),
        vec![Action::SendAdvert { priority: 40 }]
    );
    // Now a peer at 50 is higher: the master yields.
    assert_eq!(r.io(5100, advert(LOWER_IP, 50))[0], Action::RemoveAddresses);
    // A backup only changes what it compares and its skew: (256-200)/256 s.
    r.ev(5200, Event::SetPriority(200));
    assert_eq!(r.fsm.skew_time(), Duration::from_micros(218_750));
    // As a backup at 200 it discards the adverts at 50: the timer started when it yielded
    // runs out, with the new skew: 5.1 s + 3 s + (256-200)/256 s.
    assert!(r.io(6000, advert(LOWER_IP, 50)).is_empty());
    assert_eq!(r.deadline_ms(), Some(8318));
}

#[test]
fn garp_master_refresh_announces_again_while_master_only() {
    let mut c = cfg(Version::V2, 100);
    c.garp_master_refresh = Duration::from_millis(2500);
    let mut r = Run::new(c);
    r.ev(0, Event::Startup);
    r.ev(3610, Event::Timer);
    assert_eq!(
        r.io(4610, Event::Timer),
        vec![Action::SendAdvert { priority: 100 }]
    );
    assert_eq!(
        r.io(5610, Event::Timer),
        vec![Action::SendAdvert { priority: 100 }]
    );
    assert_eq!(
        r.io(6110, Event::Timer),
        vec![Action::AnnounceRefresh],
        "2.5 s after becoming master"
    );
    // Leaving MASTER stops it.
    r.ev(6200, advert(HIGHER_IP, 200));
    assert_eq!(r.deadline_ms(), Some(9809));
}

#[test]
fn a_sync_group_member_waits_for_its_group_to_become_master() {
    let mut c = cfg(Version::V2, 100);
    c.sync_group = true;
    let mut r = Run::new(c);
    r.ev(0, Event::Startup);
    // Its timer runs out: it wants MASTER but stays BACKUP, with no timer left.
    assert!(r.io(3610, Event::Timer).is_empty());
    assert_eq!(r.fsm.state(), State::Backup);
    assert!(r.fsm.wants_master());
    assert_eq!(r.fsm.next_deadline(), None);
    // An advert from a master cancels the wish.
    r.ev(4000, advert(HIGHER_IP, 200));
    assert!(!r.fsm.wants_master());
    r.ev(7610, Event::Timer);
    assert!(r.fsm.wants_master());
    // The group moves it.
    let acts = r.ev(7700, Event::SyncMaster);
    assert_eq!(acts[..3], BECOME_MASTER);
    assert!(acts.contains(&Action::StateChange {
        from: State::Backup,
        to: State::Master,
        reason: Reason::SyncGroup
    }));
    // And back.
    let acts = r.io(8000, Event::SyncBackup);
    assert_eq!(acts, vec![Action::RemoveAddresses]);
    assert_eq!(r.fsm.state(), State::Backup);
    assert_eq!(r.deadline_ms(), Some(11609));
    // A SyncBackup to a backup, a SyncMaster to a master: nothing.
    assert!(r.io(8100, Event::SyncBackup).is_empty());
}

#[test]
fn garp_lower_prio_delay_schedules_a_second_burst_after_a_lower_advert() {
    let mut c = cfg(Version::V2, 100);
    c.garp_lower_prio_delay = Duration::from_millis(2500);
    let mut r = Run::new(c);
    r.ev(0, Event::Startup);
    r.ev(3610, Event::Timer);
    assert_eq!(r.fsm.state(), State::Master);
    let acts = r.ev(4000, advert(LOWER_IP, 50));
    assert_eq!(acts.last(), Some(&Action::AnnounceLowerPrio));
    // Adverts at 5.0 and 6.0 s; the second burst at 6.5 s.
    for ms in [5000, 6000] {
        assert_eq!(
            r.io(ms, Event::Timer),
            vec![Action::SendAdvert { priority: 100 }]
        );
    }
    assert_eq!(r.io(6500, Event::Timer), vec![Action::AnnounceLowerPrio]);
    assert_eq!(
        r.io(7000, Event::Timer),
        vec![Action::SendAdvert { priority: 100 }]
    );
}
