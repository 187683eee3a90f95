//! VRRP: keepalived's `vrrp_instance`s carried out by rsproxy.
//!
//! - [`wire`]: packet views and emitters (std only).
//! - [`fsm`]: the RFC state machine of one instance, pure.
//! - [`config`]: keepalived IR → instance plans; refuses what is not carried out yet.
//! - [`net`]: the VRRP socket of an instance (raw IP protocol 112) and gratuitous ARP.
//! - [`vip`]: floating addresses through rtnetlink.
//! - [`notify`]: notify_* scripts on transitions.
//! - [`smtp`]: `smtp_alert` e-mails.
//! - [`sync`]: sync groups (`vrrp_sync_group`).
//! - [`process`]: `track_process` through /proc.
//! - [`track`]: `vrrp_script` runs and the effective priority they give.
//! - [`instance`]: one thread per instance driving the state machine and its I/O.

pub mod config;
pub mod firewall;
pub mod fsm;
pub mod garp;
pub mod instance;
pub mod net;
pub mod notify;
pub mod process;
pub mod smtp;
pub mod sync;
mod sys;
pub mod track;
pub mod vip;
pub mod wire;

pub use instance::{start, start_beside, StartError, Vrrp};
