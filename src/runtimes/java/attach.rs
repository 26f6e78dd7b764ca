//! The HotSpot dynamic attach protocol, natively (no attach.sh, no JDK tools): the guide's
//! "javaagent + onetime attach" loads the agent into the running JVM now, the javaagent
//! option takes over at the next restart.
//!
//! Protocol (Linux HotSpot): if `/tmp/.java_pid<NSPID>` is not there, create
//! `.attach_pid<NSPID>` in the JVM's working directory (or /tmp) and send SIGQUIT; the JVM
//! starts its attach listener and opens the socket. Then send `1\0load\0instrument\0false\0
//! <jar>[=args]\0` and read the status and the agent's return code. Paths go through
//! `/proc/PID/root` and `/proc/PID/cwd` (containers), the pid inside the JVM's namespace is
//! the last `NSpid` of /proc/PID/status, and the socket is spoken to as the JVM's uid/gid (the
//! JVM accepts only its own user or root).

// Windows builds keep the protocol code (and its tests) but never reach it: `open` refuses.
#![cfg_attr(windows, allow(dead_code, unused_imports))]

use crate::error::{Error, Result};
use crate::msg;
use std::fs;
use std::io::{Read, Write};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long the JVM may take to open its attach socket after SIGQUIT.
const LISTENER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long loading the agent may take (its agentmain runs before the reply).
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// A JVM as seen from outside its namespaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jvm {
    pub pid: u32,
    /// The pid inside the JVM's own pid namespace.
    pub ns_pid: u32,
    pub uid: u32,
    pub gid: u32,
    proc_dir: PathBuf,
}

/// Effective uid/gid and the innermost namespace pid from /proc/PID/status text.
fn parse_status(status: &str) -> Option<(u32, u32, u32)> {
    let field = |name: &str| -> Option<Vec<u32>> {
        status.lines().find_map(|l| {
            l.strip_prefix(name).map(|rest| {
                rest.split_whitespace()
                    .filter_map(|v| v.parse().ok())
                    .collect()
            })
        })
    };
    let uid = *field("Uid:")?.get(1)?;
    let gid = *field("Gid:")?.get(1)?;
    let ns_pid = field("NSpid:").and_then(|v| v.last().copied());
    let pid = *field("Pid:")?.first()?;
    Some((uid, gid, ns_pid.unwrap_or(pid)))
}

impl Jvm {
    #[cfg(unix)]
    pub fn open(pid: u32) -> Result<Jvm> {
        Self::open_in(Path::new("/proc"), pid)
    }

    /// The protocol above is Linux HotSpot's: on Windows `--attach` is refused before anything.
    #[cfg(windows)]
    pub fn open(_: u32) -> Result<Jvm> {
        Err(unsupported())
    }

    #[cfg(windows)]
    pub fn load_agent(&self, _: &Path, _: Option<&str>) -> Result<String> {
        Err(unsupported())
    }

    fn open_in(proc_root: &Path, pid: u32) -> Result<Jvm> {
        let proc_dir = proc_root.join(pid.to_string());
        let status = fs::read_to_string(proc_dir.join("status")).map_err(|_| {
            Error::usage(
                msg!("attach-no-process", pid = pid),
                msg!("pid-no-such-process-java-hint"),
            )
        })?;
        let (uid, gid, ns_pid) = parse_status(&status)
            .ok_or_else(|| Error::Internal(format!("/proc/{pid}/status: unexpected format")))?;
        Ok(Jvm {
            pid,
            ns_pid,
            uid,
            gid,
            proc_dir,
        })
    }

    /// The path `path` (as the JVM sees it) has from here.
    fn inside(&self, path: &str) -> PathBuf {
        self.proc_dir
            .join("root")
            .join(path.trim_start_matches('/'))
    }

    fn socket(&self) -> PathBuf {
        self.inside(&format!("/tmp/.java_pid{}", self.ns_pid))
    }

    /// Refusals that need no signal: IBM J9/OpenJ9, attach disabled.
    pub fn check_jvm(&self) -> Result<()> {
        if is_j9(self.pid) {
            return Err(Error::refused(
                msg!("attach-ibm-jdk", pid = self.pid),
                msg!("attach-ibm-jdk-hint"),
            ));
        }
        let cmdline = fs::read(self.proc_dir.join("cmdline")).unwrap_or_default();
        let args = crate::detect::process::parse_cmdline(&cmdline);
        if args.iter().any(|a| a == "-XX:+DisableAttachMechanism") {
            return Err(Error::refused(
                msg!("attach-disabled", pid = self.pid),
                msg!("attach-disabled-hint"),
            ));
        }
        Ok(())
    }

    /// The jar must be where the JVM looks: inside its mount namespace.
    fn check_jar(&self, jar: &Path) -> Result<()> {
        if !self.inside(&jar.to_string_lossy()).is_file() {
            return Err(Error::refused(
                msg!("attach-jar-invisible", path = jar.display(), pid = self.pid),
                msg!("attach-jar-invisible-hint"),
            ));
        }
        Ok(())
    }

    /// Loads `jar` as a Java agent (its agentmain runs with `args`); the JVM's reply on success.
    #[cfg(unix)]
    pub fn load_agent(&self, jar: &Path, args: Option<&str>) -> Result<String> {
        self.check_jar(jar)?;
        let _as_jvm_user = Identity::become_user(self.uid, self.gid)?;
        self.start_listener()?;
        let mut stream = UnixStream::connect(self.socket()).map_err(|e| {
            Error::refused(
                msg!("attach-connect-failed", pid = self.pid, error = e),
                msg!("attach-as-jvm-user-hint"),
            )
        })?;
        stream
            .set_read_timeout(Some(REPLY_TIMEOUT))
            .map_err(|e| Error::io(self.socket(), e))?;
        let option = match args {
            Some(a) => format!("{}={a}", jar.display()),
            None => jar.display().to_string(),
        };
        let request = request("load", &["instrument", "false", &option]);
        stream
            .write_all(&request)
            .map_err(|e| Error::io(self.socket(), e))?;
        let mut reply = String::new();
        stream
            .read_to_string(&mut reply)
            .map_err(|e| Error::io(self.socket(), e))?;
        parse_load_reply(&reply).map_err(|message| {
            Error::refused(
                msg!("attach-load-failed", pid = self.pid, message = message),
                msg!("attach-load-failed-hint"),
            )
        })?;
        Ok(reply.trim().to_string())
    }

    /// Opens the attach listener if it is not open yet: attach file + SIGQUIT, then wait.
    #[cfg(unix)]
    fn start_listener(&self) -> Result<()> {
        if self.socket().exists() {
            return Ok(());
        }
        let name = format!(".attach_pid{}", self.ns_pid);
        let trigger = [
            self.proc_dir.join("cwd").join(&name),
            self.inside(&format!("/tmp/{name}")),
        ]
        .into_iter()
        .find(|p| fs::File::create(p).is_ok())
        .ok_or_else(|| {
            Error::refused(
                msg!("attach-file-failed", name = name, pid = self.pid),
                msg!("attach-as-jvm-user-hint"),
            )
        })?;
        // SAFETY: kill(2) with a pid from /proc and a constant signal.
        let sent = unsafe { libc::kill(self.pid as i32, libc::SIGQUIT) };
        let deadline = Instant::now() + LISTENER_TIMEOUT;
        let mut pause = Duration::from_millis(20);
        while sent == 0 && !self.socket().exists() && Instant::now() < deadline {
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(250));
        }
        let _ = fs::remove_file(&trigger);
        if !self.socket().exists() {
            return Err(Error::refused(
                msg!(
                    "attach-listener-timeout",
                    pid = self.pid,
                    seconds = LISTENER_TIMEOUT.as_secs()
                ),
                msg!("attach-listener-timeout-hint"),
            ));
        }
        Ok(())
    }
}

#[cfg(windows)]
fn unsupported() -> Error {
    Error::usage(msg!("attach-windows"), msg!("attach-disabled-hint"))
}

/// WhaTap tracer jars loaded into a running JVM without being on its command line: an agent
/// attached to it (attach.sh, `install --attach`) stays open in `/proc/PID/fd` (its jar is on
/// the system class path from then on) and, on JDK 8, mapped in `/proc/PID/maps`. Canonical
/// paths, sorted, each once; none when /proc cannot be read (another user's JVM, not root).
pub fn open_tracer_jars(pid: u32) -> Vec<PathBuf> {
    open_tracer_jars_in(Path::new("/proc"), pid)
}

fn open_tracer_jars_in(proc_root: &Path, pid: u32) -> Vec<PathBuf> {
    let dir = proc_root.join(pid.to_string());
    let mut found: Vec<PathBuf> = fs::read_dir(dir.join("fd"))
        .map(|fds| {
            fds.flatten()
                .filter_map(|fd| fs::read_link(fd.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    if let Ok(maps) = fs::read_to_string(dir.join("maps")) {
        found.extend(
            maps.lines()
                .filter_map(|l| l.find(" /").map(|at| PathBuf::from(l[at + 1..].trim_end()))),
        );
    }
    // A jar deleted since (an uninstall) still runs in the JVM: the kernel marks it so.
    let found =
        found.into_iter().map(
            |p| match p.to_str().and_then(|s| s.strip_suffix(" (deleted)")) {
                Some(live) => PathBuf::from(live),
                None => p,
            },
        );
    let mut jars: Vec<PathBuf> = found
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_tracer_file)
        })
        .collect();
    jars.sort();
    jars.dedup();
    jars
}

/// A WhaTap agent jar by its file name (`whatap.agent.tracer-2.2.33.jar`, `whatap.agent.jar`).
fn is_tracer_file(name: &str) -> bool {
    name.starts_with("whatap.agent") && name.ends_with(".jar")
}

/// Is the process an IBM J9 / OpenJ9 JVM (its J9 libraries are mapped)?
pub fn is_j9(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/maps")).is_ok_and(|maps| j9_maps(&maps))
}

fn j9_maps(maps: &str) -> bool {
    maps.lines()
        .any(|l| l.contains("/libj9vm") || l.contains("/libj9prt") || l.contains("/libj9thr"))
}

/// `<protocol>\0<command>\0<arg>\0<arg>\0<arg>\0`: always three arguments.
fn request(command: &str, args: &[&str]) -> Vec<u8> {
    let mut out = b"1\0".to_vec();
    out.extend_from_slice(command.as_bytes());
    out.push(0);
    for i in 0..3 {
        out.extend_from_slice(args.get(i).unwrap_or(&"").as_bytes());
        out.push(0);
    }
    out
}

/// The reply to `load`: a status line (0: the command ran), then the agent's return code as
/// `return code: N` (JDK 9+) or `N` (JDK 8). Anything else is the JVM's error text.
fn parse_load_reply(reply: &str) -> std::result::Result<(), String> {
    let mut lines = reply.lines();
    let status = lines.next().unwrap_or("").trim();
    if status != "0" {
        let rest: Vec<&str> = lines.collect();
        return Err(format!("status {status}: {}", rest.join(" ").trim()));
    }
    let code_line = lines.next().unwrap_or("").trim();
    let code = code_line
        .strip_prefix("return code:")
        .unwrap_or(code_line)
        .trim();
    match code.parse::<i32>() {
        Ok(0) => Ok(()),
        Ok(n) => Err(msg!("attach-agent-failed", code = n)),
        Err(_) => Err(if code_line.is_empty() {
            msg!("attach-no-reply")
        } else {
            code_line.to_string()
        }),
    }
}

/// Effective uid/gid switched to the JVM's user while attaching (root only), switched back on
/// drop: the JVM accepts attach files and socket peers of its own user (or root), and a root
/// whatap must not leave root-owned files in the JVM's directories.
#[cfg(unix)]
struct Identity {
    restore: Option<(u32, u32)>,
}

#[cfg(unix)]
impl Identity {
    fn become_user(uid: u32, gid: u32) -> Result<Identity> {
        // SAFETY: plain getters.
        let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
        if euid != 0 || (uid == euid && gid == egid) {
            return Ok(Identity { restore: None });
        }
        // SAFETY: setegid/seteuid with ids read from /proc; checked, and undone on drop.
        let ok = unsafe { libc::setegid(gid) == 0 && libc::seteuid(uid) == 0 };
        if !ok {
            // SAFETY: back to root for whatever part succeeded.
            unsafe {
                libc::seteuid(euid);
                libc::setegid(egid);
            }
            return Err(Error::refused(
                msg!("attach-switch-user", uid = uid, gid = gid),
                msg!("attach-as-jvm-user-hint"),
            ));
        }
        Ok(Identity {
            restore: Some((euid, egid)),
        })
    }
}

#[cfg(unix)]
impl Drop for Identity {
    fn drop(&mut self) {
        if let Some((euid, egid)) = self.restore {
            // SAFETY: back to the ids we had; uid first so the gid change is allowed.
            unsafe {
                libc::seteuid(euid);
                libc::setegid(egid);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_gives_effective_ids_and_namespace_pid() {
        let status = "Name:\tjava\nPid:\t4242\nUid:\t1000\t997\t997\t997\nGid:\t1000\t996\t996\t996\nNSpid:\t4242\t7\n";
        assert_eq!(parse_status(status), Some((997, 996, 7)));
        let old_kernel = "Pid:\t10\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n";
        assert_eq!(parse_status(old_kernel), Some((0, 0, 10)));
    }

    #[test]
    fn j9_is_told_by_its_libraries() {
        let hotspot = "7f00-7f01 r-xp 0 08:01 1 /usr/lib/jvm/java-17/lib/server/libjvm.so\n";
        let openj9 = "7f00-7f01 r-xp 0 08:01 1 /opt/ibm/java/lib/default/libj9vm29.so\n";
        assert!(!j9_maps(hotspot));
        assert!(j9_maps(openj9));
    }

    #[test]
    fn request_always_has_three_arguments() {
        assert_eq!(
            request("load", &["instrument", "false", "/w/a.jar"]),
            b"1\0load\0instrument\0false\0/w/a.jar\0"
        );
        assert_eq!(request("properties", &[]), b"1\0properties\0\0\0\0");
    }

    #[test]
    fn load_replies_of_jdk8_and_jdk9() {
        assert!(parse_load_reply("0\nreturn code: 0\n").is_ok());
        assert!(parse_load_reply("0\n0\n").is_ok());
        assert!(
            parse_load_reply("0\nreturn code: 100\n")
                .unwrap_err()
                .contains("100")
        );
        assert!(parse_load_reply("101\n").is_err());
        assert!(parse_load_reply("0\ncom.sun.tools.attach.AgentLoadException: x\n").is_err());
    }

    #[test]
    fn open_tracer_jars_come_from_fds_and_maps() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("7");
        fs::create_dir_all(dir.join("fd")).unwrap();
        let jar = root.path().join("whatap.agent.tracer-2.2.33.jar");
        fs::write(&jar, b"PK").unwrap();
        std::os::unix::fs::symlink(&jar, dir.join("fd/3")).unwrap();
        std::os::unix::fs::symlink("/dev/null", dir.join("fd/4")).unwrap();
        fs::write(
            dir.join("maps"),
            "7f00-7f01 r--s 0 08:01 1 /w/whatap.agent.tracer-2.2.9.jar\n7f02-7f03 r-xp 0 08:01 2 /usr/lib/jvm/lib/libjava.so\n7f04-7f05 rw-p 0 0 0 \n",
        )
        .unwrap();
        assert_eq!(
            open_tracer_jars_in(root.path(), 7),
            [jar, PathBuf::from("/w/whatap.agent.tracer-2.2.9.jar")]
        );
        assert!(open_tracer_jars_in(root.path(), 8).is_empty());
    }

    #[test]
    fn sees_itself() {
        let me = Jvm::open(std::process::id()).unwrap();
        assert_eq!(me.pid, std::process::id());
        assert!(
            me.socket()
                .to_string_lossy()
                .contains("/root/tmp/.java_pid")
        );
    }
}
