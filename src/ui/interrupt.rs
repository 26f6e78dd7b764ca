//! Ctrl-C: while the wizard asks, it ends the process with the terminal restored (echo,
//! cooked mode, cursor) and nothing changed; while a plan is applied it is held off, so an
//! apply is never cut in half.

#[cfg(unix)]
pub use unix::*;
#[cfg(windows)]
pub use windows::*;

#[cfg(unix)]
mod unix {
    use std::sync::OnceLock;

    static MESSAGE: OnceLock<Vec<u8>> = OnceLock::new();
    static TERMIOS: OnceLock<Option<libc::termios>> = OnceLock::new();

    extern "C" fn restore_and_exit(_: libc::c_int) {
        // Only async-signal-safe calls here: tcsetattr, write, _exit.
        // SAFETY: the statics were set before the handler was installed; the fds are ours.
        unsafe {
            if let Some(Some(termios)) = TERMIOS.get() {
                libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, termios);
            }
            if let Some(message) = MESSAGE.get() {
                libc::write(libc::STDERR_FILENO, message.as_ptr().cast(), message.len());
            }
            libc::_exit(130);
        }
    }

    /// From now on Ctrl-C restores the terminal as it is now, prints `message` and exits 130.
    pub fn exit_cleanly_on_interrupt(message: &str) {
        let _ = MESSAGE.set(format!("\x1b[?25h\n{message}\n").into_bytes());
        let _ = TERMIOS.get_or_init(|| {
            // SAFETY: tcgetattr fills a zeroed termios for a valid fd or fails.
            unsafe {
                let mut termios: libc::termios = std::mem::zeroed();
                (libc::tcgetattr(libc::STDIN_FILENO, &mut termios) == 0).then_some(termios)
            }
        });
        // SAFETY: installing a handler that only makes async-signal-safe calls.
        unsafe {
            libc::signal(
                libc::SIGINT,
                restore_and_exit as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    }

    /// Ctrl-C ends the process the ordinary way again (once something has changed, "nothing
    /// was changed" would be wrong).
    pub fn default_on_interrupt() {
        // SAFETY: restoring the default disposition.
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
        }
    }

    /// Ignores Ctrl-C until dropped, then puts back what was there.
    pub struct Held(libc::sighandler_t);

    pub fn hold() -> Held {
        // SAFETY: swapping the disposition of SIGINT; restored on drop.
        Held(unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) })
    }

    impl Drop for Held {
        fn drop(&mut self) {
            // SAFETY: restores the disposition `hold` replaced.
            unsafe {
                libc::signal(libc::SIGINT, self.0);
            }
        }
    }
}

/// Windows: Ctrl-C ends the process (there is no terminal mode to restore); while a plan is
/// applied the console's Ctrl-C is ignored the same way.
#[cfg(windows)]
mod windows {
    use windows_sys::Win32::System::Console::SetConsoleCtrlHandler;

    pub fn exit_cleanly_on_interrupt(_: &str) {}

    pub fn default_on_interrupt() {}

    pub struct Held;

    pub fn hold() -> Held {
        // SAFETY: a null handler with TRUE makes this process ignore Ctrl-C until undone.
        unsafe { SetConsoleCtrlHandler(None, 1) };
        Held
    }

    impl Drop for Held {
        fn drop(&mut self) {
            // SAFETY: undoes `hold`.
            unsafe { SetConsoleCtrlHandler(None, 0) };
        }
    }
}
