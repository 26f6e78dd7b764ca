//! The named steps of apply. Tests drive debug builds through them: fail the Nth step (as a
//! full disk would), or slow every step so a SIGKILL at a random time lands on a random step.
//! A release build compiles `step` to `Ok(())`.
//!
//! Debug-build hooks, read from the environment once per thread:
//! - `WHATAP_TEST_FAIL_STEP=N`: the Nth step reached (1-based) returns an I/O error;
//! - `WHATAP_TEST_STEP_DELAY_US=U`: every step sleeps U microseconds;
//! - `WHATAP_TEST_STEP_LOG=FILE`: every step's name is appended to FILE when it is reached.

use crate::error::Result;

/// Marks a step; in debug builds it may fail or pause there (see the module doc).
pub fn step(name: &str) -> Result<()> {
    #[cfg(debug_assertions)]
    {
        hooks::step(name)
    }
    #[cfg(not(debug_assertions))]
    {
        let _ = name;
        Ok(())
    }
}

/// Unit tests: fail the Nth step from now on this thread (None: never).
#[cfg(test)]
pub fn fail_at(n: Option<usize>) {
    hooks::HOOKS.with(|h| {
        let mut h = h.borrow_mut();
        h.fail_at = n;
        h.reached = 0;
    });
}

#[cfg(debug_assertions)]
mod hooks {
    use crate::error::{Error, Result};
    use std::cell::RefCell;
    use std::io::Write;
    use std::path::PathBuf;
    use std::time::Duration;

    pub struct Hooks {
        pub fail_at: Option<usize>,
        pub reached: usize,
        delay: Option<Duration>,
        log: Option<PathBuf>,
    }

    impl Hooks {
        fn from_env() -> Hooks {
            let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
            Hooks {
                fail_at: var("WHATAP_TEST_FAIL_STEP").and_then(|v| v.parse().ok()),
                reached: 0,
                delay: var("WHATAP_TEST_STEP_DELAY_US")
                    .and_then(|v| v.parse().ok())
                    .map(Duration::from_micros),
                log: var("WHATAP_TEST_STEP_LOG").map(PathBuf::from),
            }
        }
    }

    thread_local! {
        pub static HOOKS: RefCell<Hooks> = RefCell::new(Hooks::from_env());
    }

    pub fn step(name: &str) -> Result<()> {
        let (n, fail, delay, log) = HOOKS.with(|h| {
            let mut h = h.borrow_mut();
            h.reached += 1;
            (
                h.reached,
                h.fail_at == Some(h.reached),
                h.delay,
                h.log.clone(),
            )
        });
        if let Some(log) = log {
            if let Ok(mut file) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
            {
                let _ = writeln!(file, "{n} {name}");
            }
        }
        if let Some(delay) = delay {
            std::thread::sleep(delay);
        }
        if fail {
            return Err(Error::io(
                format!("step {n} ({name})"),
                std::io::Error::other("injected failure"),
            ));
        }
        Ok(())
    }
}
