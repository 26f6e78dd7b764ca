//! Network checks: can this host reach the collectors? who holds the agent's UDP port?

pub mod advfirewall;
pub mod collector;
pub mod firewall;
pub mod iptables;
pub mod sockets;
