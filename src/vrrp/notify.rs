//! `notify_master`, `notify_backup`, `notify_fault`, `notify_stop` and `notify`: the
//! scripts keepalived runs on an instance's transitions.
//!
//! On entering MASTER, BACKUP or FAULT, and on stopping, the state's own script runs (its
//! command line split as `vrrp_script`s are, no shell), then `notify` with keepalived's four
//! extra arguments: `INSTANCE`, the instance's name, the new state (`MASTER`, `BACKUP`,
//! `FAULT`, `STOP`) and its priority. Scripts are started and not waited for (a reaper thread
//! collects them), so a slow script never delays VRRP.

use super::fsm::State;
use super::track::split_command;
use std::process::{Command, Stdio};

/// A command line to start and who runs it (uid, gid).
pub type Invocation = (Vec<String>, Option<(u32, u32)>);

/// One notify script: its words and who runs it (uid, gid; `None`: rsproxy's user).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotifyCommand {
    pub argv: Vec<String>,
    /// Names as configured (`notify_master CMD USER [GROUP]`, else `script_user`).
    pub user: Option<(String, Option<String>)>,
    /// Resolved at start.
    pub ids: Option<(u32, u32)>,
}

impl NotifyCommand {
    pub fn new(command: &str, user: Option<(String, Option<String>)>) -> NotifyCommand {
        NotifyCommand {
            argv: split_command(command),
            user,
            ids: None,
        }
    }
}

/// An instance's notify scripts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotifyPlan {
    pub master: Option<NotifyCommand>,
    pub backup: Option<NotifyCommand>,
    pub fault: Option<NotifyCommand>,
    pub stop: Option<NotifyCommand>,
    pub any: Option<NotifyCommand>,
}

impl NotifyPlan {
    pub fn is_empty(&self) -> bool {
        self.commands().next().is_none()
    }

    pub fn commands(&self) -> impl Iterator<Item = &NotifyCommand> {
        [
            &self.master,
            &self.backup,
            &self.fault,
            &self.stop,
            &self.any,
        ]
        .into_iter()
        .flatten()
    }

    pub fn commands_mut(&mut self) -> impl Iterator<Item = &mut NotifyCommand> {
        [
            &mut self.master,
            &mut self.backup,
            &mut self.fault,
            &mut self.stop,
            &mut self.any,
        ]
        .into_iter()
        .flatten()
    }

    /// The command lines to run, in order, for `instance` entering `to` (`Init` = stopping)
    /// with `priority`.
    pub fn for_transition(&self, instance: &str, to: State, priority: u8) -> Vec<Invocation> {
        let (own, word) = match to {
            State::Master => (&self.master, "MASTER"),
            State::Backup => (&self.backup, "BACKUP"),
            State::Fault => (&self.fault, "FAULT"),
            State::Init => (&self.stop, "STOP"),
        };
        let mut out = Vec::new();
        if let Some(c) = own {
            out.push((c.argv.clone(), c.ids));
        }
        if let Some(c) = &self.any {
            let mut argv = c.argv.clone();
            argv.extend([
                "INSTANCE".to_string(),
                instance.to_string(),
                word.to_string(),
                priority.to_string(),
            ]);
            out.push((argv, c.ids));
        }
        out
    }
}

/// Starts each command and leaves a thread to reap it.
pub fn run(commands: Vec<Invocation>) {
    let mut children = Vec::new();
    for (argv, ids) in commands {
        let Some((program, args)) = argv.split_first() else {
            continue;
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
        match cmd.spawn() {
            Ok(c) => children.push(c),
            Err(e) => tracing::warn!("notify: cannot run {program}: {e}"),
        }
    }
    if !children.is_empty() {
        let _ = std::thread::Builder::new()
            .name("vrrp notify".into())
            .spawn(move || {
                for mut c in children {
                    let _ = c.wait();
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_transition_runs_its_script_then_notify_with_keepalived_arguments() {
        let plan = NotifyPlan {
            master: Some(NotifyCommand::new("/etc/k/master.sh a", None)),
            stop: Some(NotifyCommand::new("/etc/k/stop.sh", None)),
            any: Some(NotifyCommand::new("\"/etc/k/any.sh\" x", None)),
            ..NotifyPlan::default()
        };
        let words =
            |v: Vec<Invocation>| v.into_iter().map(|(a, _)| a.join(" ")).collect::<Vec<_>>();
        assert_eq!(
            words(plan.for_transition("VI_1", State::Master, 150)),
            [
                "/etc/k/master.sh a",
                "/etc/k/any.sh x INSTANCE VI_1 MASTER 150"
            ]
        );
        assert_eq!(
            words(plan.for_transition("VI_1", State::Backup, 90)),
            ["/etc/k/any.sh x INSTANCE VI_1 BACKUP 90"]
        );
        assert_eq!(
            words(plan.for_transition("VI_1", State::Init, 150)),
            ["/etc/k/stop.sh", "/etc/k/any.sh x INSTANCE VI_1 STOP 150"]
        );
        assert!(NotifyPlan::default().is_empty());
        assert!(!plan.is_empty());
    }
}
