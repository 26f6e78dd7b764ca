//! Detection: running processes and install trees -> what runtimes this host has.

pub mod process;

use crate::runtimes::{Detection, tomcat};

/// Everything `whatap detect` reports, in a stable order.
pub fn detect_all() -> Vec<Detection> {
    let processes = process::java_processes(&process::proc_root());
    tomcat::detect(&processes)
        .iter()
        .map(tomcat::Tomcat::detection)
        .collect()
}
