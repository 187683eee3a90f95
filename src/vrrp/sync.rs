//! `vrrp_sync_group`: instances that change state together, as keepalived 2.2 moves them.
//!
//! - A member whose Master_Down_Timer runs out only *wants* MASTER; when every other member
//!   is MASTER or wants it too, all of them become MASTER at once.
//! - A member that leaves MASTER for BACKUP (a higher priority was heard) takes the others
//!   with it.
//! - While any member is in FAULT (its own tracked object), every member is in FAULT.
//!
//! Each member's thread calls [`Group::turn`] once per turn of its loop with its state; the
//! group answers with the event (if any) the member must feed its state machine, and whether
//! the group is in fault. Pure apart from the mutex: [`Members`] holds the rules and is
//! unit-tested without threads.

use super::fsm::{Event, State};
use std::sync::Mutex;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Member {
    state: State,
    wants_master: bool,
    own_fault: bool,
    pending: Option<Event>,
}

/// The members' last published states and the events waiting for them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Members {
    list: Vec<Member>,
}

impl Members {
    pub fn new(n: usize) -> Members {
        Members {
            list: vec![
                Member {
                    state: State::Init,
                    wants_master: false,
                    own_fault: false,
                    pending: None,
                };
                n
            ],
        }
    }

    /// Member `i` publishes its state; the event it must apply, and whether the group is in
    /// fault.
    pub fn turn(
        &mut self,
        i: usize,
        state: State,
        wants_master: bool,
        own_fault: bool,
    ) -> (Option<Event>, bool) {
        let Some(me) = self.list.get_mut(i) else {
            return (None, false);
        };
        let before = me.state;
        me.state = state;
        me.wants_master = wants_master && state == State::Backup;
        me.own_fault = own_fault;
        if before == State::Master && state == State::Backup {
            for (j, m) in self.list.iter_mut().enumerate() {
                if j != i && m.state == State::Master {
                    m.pending = Some(Event::SyncBackup);
                }
            }
        }
        let ready = self
            .list
            .iter()
            .all(|m| m.state == State::Master || m.wants_master);
        if wants_master && state == State::Backup && ready {
            for m in self.list.iter_mut().filter(|m| m.wants_master) {
                m.pending = Some(Event::SyncMaster);
                m.wants_master = false;
            }
        }
        let fault = self.list.iter().any(|m| m.own_fault);
        let pending = self.list.get_mut(i).and_then(|m| m.pending.take());
        (pending, fault)
    }
}

/// A sync group shared by its members' threads.
pub struct Group {
    pub name: String,
    members: Mutex<Members>,
}

impl Group {
    pub fn new(name: String, n: usize) -> Group {
        Group {
            name,
            members: Mutex::new(Members::new(n)),
        }
    }

    /// See [`Members::turn`]. (A member thread that panicked while holding the lock leaves
    /// the data as it was: the group carries on with it.)
    pub fn turn(
        &self,
        i: usize,
        state: State,
        wants_master: bool,
        own_fault: bool,
    ) -> (Option<Event>, bool) {
        let mut m = match self.members.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        m.turn(i, state, wants_master, own_fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::*;

    #[test]
    fn members_become_master_together_when_all_want_it() {
        let mut g = Members::new(2);
        assert_eq!(g.turn(0, Backup, false, false), (None, false));
        assert_eq!(g.turn(1, Backup, false, false), (None, false));
        // Member 0 wants MASTER; member 1 still hears a master: nothing yet.
        assert_eq!(g.turn(0, Backup, true, false), (None, false));
        assert_eq!(g.turn(0, Backup, true, false), (None, false));
        // Member 1 wants it too: both go.
        assert_eq!(
            g.turn(1, Backup, true, false),
            (Some(Event::SyncMaster), false)
        );
        assert_eq!(
            g.turn(0, Backup, false, false),
            (Some(Event::SyncMaster), false)
        );
        assert_eq!(g.turn(0, Master, false, false), (None, false));
        assert_eq!(g.turn(1, Master, false, false), (None, false));
    }

    #[test]
    fn a_member_that_wants_master_joins_a_master_group() {
        let mut g = Members::new(2);
        g.turn(0, Master, false, false);
        assert_eq!(
            g.turn(1, Backup, true, false),
            (Some(Event::SyncMaster), false)
        );
    }

    #[test]
    fn a_member_leaving_master_takes_the_others_to_backup() {
        let mut g = Members::new(3);
        for i in 0..3 {
            g.turn(i, Master, false, false);
        }
        assert_eq!(g.turn(1, Backup, false, false), (None, false));
        assert_eq!(
            g.turn(0, Master, false, false),
            (Some(Event::SyncBackup), false)
        );
        assert_eq!(
            g.turn(2, Master, false, false),
            (Some(Event::SyncBackup), false)
        );
        assert_eq!(g.turn(0, Backup, false, false), (None, false));
    }

    #[test]
    fn one_member_in_fault_puts_the_group_in_fault() {
        let mut g = Members::new(2);
        g.turn(0, Master, false, false);
        assert_eq!(g.turn(1, Fault, false, true), (None, true));
        assert!(g.turn(0, Master, false, false).1);
        assert_eq!(g.turn(1, Backup, false, false), (None, false));
        assert!(!g.turn(0, Fault, false, false).1);
        // Out-of-range members are ignored.
        assert_eq!(g.turn(7, Master, false, true), (None, false));
    }
}
