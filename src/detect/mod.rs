//! Detection: running processes and install trees -> what runtimes this host has.

pub mod process;

use process::Process;

/// One look at the host, taken once per command and shared by every runtime's detection.
pub struct Host {
    pub processes: Vec<Process>,
}

impl Host {
    pub fn scan() -> Host {
        Host {
            processes: process::all(&process::proc_root()),
        }
    }

    pub fn java_processes(&self) -> impl Iterator<Item = &Process> {
        self.processes.iter().filter(|p| p.is_java())
    }
}
