//! Network checks: can this host reach the collectors?

pub mod collector;
