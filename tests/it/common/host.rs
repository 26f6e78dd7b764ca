//! Host-wide things that tests of different modules touch. When every module was a test binary
//! of its own, cargo ran them one after the other; in the one binary they run at the same time,
//! so these are taken in turn.

use std::sync::{Condvar, Mutex, MutexGuard};

/// The processes `whatap detect` lists (JVMs, Python apps, the infra daemon). Every helper that
/// starts one (`Jvm`, `Reaper`, the real Tomcat and Jetty) holds it shared while the process
/// runs; a test that looks at the host's list twice and needs the same answer (the wizard's
/// step 1, counted first) holds it exclusively.
pub static DETECTABLE: Gate = Gate::new();

/// `/etc/default/jetty9`: real_jetty writes its block there, and Debian's jetty.sh reads it,
/// also when install_jetty runs a copy of that jetty.sh.
pub static ETC_DEFAULT_JETTY9: Mutex<()> = Mutex::new(());

/// What real_php changes on the host: /etc/php/8.2, the module in /usr/lib/php/API, and
/// /etc/init.d/whatap-php, which every PHP install edits while it is there (the install for a
/// private PHP too). Tests that change or compare them hold it exclusively, the other PHP
/// installs shared.
pub static HOST_PHP: Gate = Gate::new();

/// Takes one of the locks here; a test that panicked while holding it does not fail the next.
pub fn hold(lock: &Mutex<()>) -> MutexGuard<'_, ()> {
    lock.lock().unwrap_or_else(|e| e.into_inner())
}

/// Shared or exclusive use of something on the host. Unlike `RwLock`, a shared holder waits
/// only while someone holds it exclusively, never for someone still waiting to: a test may take
/// it shared again while it already is (two JVMs at once) without a deadlock.
pub struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

struct GateState {
    shared: usize,
    exclusive: bool,
}

impl Gate {
    const fn new() -> Gate {
        Gate {
            state: Mutex::new(GateState {
                shared: 0,
                exclusive: false,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait_until(&self, ready: impl Fn(&GateState) -> bool) -> MutexGuard<'_, GateState> {
        self.changed
            .wait_while(self.lock(), |s| !ready(s))
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Released on drop.
    pub fn shared(&'static self) -> Shared {
        self.wait_until(|s| !s.exclusive).shared += 1;
        Shared(self)
    }

    /// Waits until nobody holds it; released on drop.
    pub fn exclusive(&'static self) -> Exclusive {
        self.wait_until(|s| !s.exclusive && s.shared == 0).exclusive = true;
        Exclusive(self)
    }
}

pub struct Shared(&'static Gate);

impl Drop for Shared {
    fn drop(&mut self) {
        self.0.lock().shared -= 1;
        self.0.changed.notify_all();
    }
}

pub struct Exclusive(&'static Gate);

impl Drop for Exclusive {
    fn drop(&mut self) {
        self.0.lock().exclusive = false;
        self.0.changed.notify_all();
    }
}
