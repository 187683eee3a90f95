//! VRRP: keepalived's `vrrp_instance`s carried out by rsproxy.
//!
//! - [`wire`]: packet views and emitters (std only).
//! - [`fsm`]: the RFC state machine of one instance, pure.
pub mod fsm;
pub mod wire;
