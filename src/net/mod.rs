//! Network checks: can this host reach the collectors?

pub mod collector;
pub mod firewall;
pub mod sockets;
