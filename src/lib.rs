//! rsproxy: the runtime behind the `rsproxy` binary.
//!
//! Data flows one way (see DESIGN.md): the parser crate gives a validated IR; [`plan`] turns
//! it into an immutable runtime plan; the runtime's tasks read the plan. [`balance`] holds
//! the load-balancing algorithms: pure, synchronous, unit-tested.
// Unsafe code is denied everywhere but `vrrp::sys`, which builds the one socket address
// (AF_PACKET's sockaddr_ll) no safe API offers.
#![deny(unsafe_code)]

pub mod acl;
pub mod balance;
pub mod health;
pub mod plan;
pub mod proxy;
pub mod re;
pub mod runtime;
pub mod stats;
pub mod tls;
pub mod vrrp;
