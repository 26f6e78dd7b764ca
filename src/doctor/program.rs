//! Agents' own check programs, run directly (never through a shell) under a deadline.

use super::{Fact, ProgramCheck};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs every check; each one that fails (non-zero exit, cannot start, too slow) is a fact
/// whose evidence is the command line and the last thing it said, secrets masked.
pub fn run(checks: &[ProgramCheck], timeout: Duration) -> Vec<Fact> {
    checks
        .iter()
        .filter_map(|check| {
            let said = match outcome(check, timeout) {
                Ok(()) => return None,
                Err(said) => said,
            };
            let mask = |text: &str| {
                if check.secret.is_empty() {
                    text.to_string()
                } else {
                    text.replace(&check.secret, &crate::ui::mask::mask(&check.secret))
                }
            };
            let mut command = vec![check.program.display().to_string()];
            command.extend(check.args.iter().cloned());
            Some(
                Fact::new(
                    check.id,
                    &check.target,
                    mask(&format!("`{}`: {said}", command.join(" "))),
                )
                .with("program", check.program.display().to_string()),
            )
        })
        .collect()
}

fn outcome(check: &ProgramCheck, timeout: Duration) -> Result<(), String> {
    let mut child = Command::new(&check.program)
        .args(&check.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer within {} s", timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    };
    // It exited: what it wrote is in the pipes (small: a check's few lines).
    let mut text = String::new();
    for pipe in [
        child.stdout.take().map(|p| Box::new(p) as Box<dyn Read>),
        child.stderr.take().map(|p| Box::new(p) as Box<dyn Read>),
    ]
    .into_iter()
    .flatten()
    {
        let mut buf = String::new();
        let _ = pipe.take(64 * 1024).read_to_string(&mut buf);
        text.push_str(&buf);
    }
    if status.success() {
        return Ok(());
    }
    let last = text
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("no output");
    Err(format!("{status}: {last}"))
}
