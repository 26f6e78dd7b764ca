//! Infra agent checks: its whatap.conf keys (and collectors), and the daemon running.

use super::{Fact, Inspection};
use crate::runtimes::infra::{DAEMON, Infra};

pub fn inspect(infra: &Infra) -> Inspection {
    let mut out = Inspection::default();
    let label = format!("infra {}", infra.home.display());
    super::java::inspect_conf(
        &label,
        &infra.conf(),
        &["license", "whatap.server.host"],
        &mut out,
    );
    if infra.pid.is_none() {
        let why = if infra.installed() {
            format!("no {DAEMON} process")
        } else {
            format!(
                "no {DAEMON} process, and {} is missing (package not installed)",
                infra.home.join(DAEMON).display()
            )
        };
        out.facts.push(Fact::new("infra-not-running", &label, why));
    }
    out
}
