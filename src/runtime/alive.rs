//! Fate sharing between the proxy and the VRRP instances beside it: the data plane is alive
//! while every accept loop runs and the runtime's scheduler keeps turning. A VRRP instance
//! that reads [`Alive::is_alive`] as false goes to FAULT, so a wedged proxy gives the
//! floating address up instead of holding it and dropping the traffic — the failure that
//! keepalived's `killall -0 haproxy` cannot see (the process exists, nothing is served).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the runtime proves it turns.
pub const BEAT: Duration = Duration::from_millis(100);

/// How long the data plane may stay silent before it counts as down: ten beats. A scheduler
/// that cannot run a timer task for this long serves no one either.
pub const SILENCE: Duration = Duration::from_millis(1000);

/// The data plane's liveness, shared by the runtime (which writes it) and any reader.
#[derive(Clone, Debug)]
pub struct Alive(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    origin: Instant,
    /// Milliseconds after `origin` of the last beat.
    beat: AtomicU64,
    /// Accept loops running now, and how many were started.
    running: AtomicUsize,
    started: AtomicUsize,
}

impl Default for Alive {
    fn default() -> Self {
        Self::new()
    }
}

impl Alive {
    pub fn new() -> Alive {
        Alive(Arc::new(Inner {
            origin: Instant::now(),
            beat: AtomicU64::new(0),
            running: AtomicUsize::new(0),
            started: AtomicUsize::new(0),
        }))
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.0.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether the data plane beat within [`SILENCE`].
    pub fn is_alive(&self) -> bool {
        let last = self.0.beat.load(Ordering::Acquire);
        self.now_ms().saturating_sub(last) <= SILENCE.as_millis() as u64
    }

    /// Records a beat, but only while every accept loop that was started still runs: a
    /// listener whose loop ended serves no one.
    pub fn beat(&self) {
        if self.0.running.load(Ordering::Acquire) == self.0.started.load(Ordering::Acquire) {
            self.0.beat.store(self.now_ms(), Ordering::Release);
        }
    }

    /// Marks an accept loop as running until the guard is dropped (the loop ended, or its
    /// task panicked or was aborted).
    pub fn accept_loop(&self) -> LoopGuard {
        self.0.started.fetch_add(1, Ordering::AcqRel);
        self.0.running.fetch_add(1, Ordering::AcqRel);
        LoopGuard(self.clone())
    }

    /// Beats every [`BEAT`] on the runtime it is spawned on, for ever.
    pub async fn heartbeat(self) {
        let mut tick = tokio::time::interval(BEAT);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.beat();
        }
    }
}

/// Held by a running accept loop.
#[derive(Debug)]
pub struct LoopGuard(Alive);

impl Drop for LoopGuard {
    fn drop(&mut self) {
        (self.0).0.running.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocked_scheduler_is_seen_as_down_and_up_again_once_it_turns() {
        let alive = Alive::new();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let a = alive.clone();
        let thread = std::thread::spawn(move || {
            rt.block_on(async move {
                let _loop = a.accept_loop();
                tokio::spawn(a.clone().heartbeat());
                tokio::time::sleep(Duration::from_millis(300)).await;
                // A task that never yields wedges the single-threaded scheduler.
                std::thread::sleep(SILENCE + Duration::from_millis(700));
                tokio::time::sleep(Duration::from_millis(400)).await;
            })
        });
        std::thread::sleep(Duration::from_millis(250));
        assert!(alive.is_alive(), "a turning runtime is alive");
        std::thread::sleep(SILENCE + Duration::from_millis(400));
        assert!(!alive.is_alive(), "a wedged runtime is down");
        std::thread::sleep(Duration::from_millis(600));
        assert!(alive.is_alive(), "it is alive again once it turns");
        thread.join().expect("runtime thread");
    }

    #[test]
    fn an_ended_accept_loop_stops_the_beats() {
        let alive = Alive::new();
        let first = alive.accept_loop();
        let _second = alive.accept_loop();
        alive.beat();
        assert!(alive.is_alive());
        drop(first);
        // Age the last beat past the silence, then beat: the beat must not count.
        alive.0.beat.store(0, Ordering::Release);
        std::thread::sleep(SILENCE + Duration::from_millis(50));
        alive.beat();
        assert!(!alive.is_alive(), "one listener of two no longer accepts");
    }
}
