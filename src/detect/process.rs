//! Running processes from `/proc`: command line, owner, executable. Read directly (not through
//! a process-table crate) so `doctor` stays instant: only `cmdline` and `status` are opened.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub pid: u32,
    pub uid: u32,
    pub gid: u32,
    pub args: Vec<String>,
}

impl Process {
    /// Value of `-Dname=value` on a Java command line (last one wins, as in the JVM).
    pub fn system_property(&self, name: &str) -> Option<&str> {
        java_property(&self.args, name)
    }

    /// Every `-javaagent:` argument, in order.
    pub fn javaagents(&self) -> Vec<&str> {
        javaagents(&self.args)
    }

    /// Whether any `-javaagent:` of this process is a WhaTap tracer.
    pub fn has_whatap_agent(&self) -> bool {
        self.javaagents().iter().any(|a| is_whatap_agent(a))
    }

    pub fn is_java(&self) -> bool {
        self.args
            .first()
            .and_then(|a| Path::new(a).file_name())
            .is_some_and(|name| name == "java" || name == "java.exe")
    }
}

pub fn java_property<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let prefix = format!("-D{name}=");
    args.iter().rev().find_map(|a| a.strip_prefix(&prefix))
}

pub fn javaagents(args: &[String]) -> Vec<&str> {
    args.iter()
        .filter_map(|a| a.strip_prefix("-javaagent:"))
        .collect()
}

/// Does a `-javaagent:` value point at a WhaTap tracer?
pub fn is_whatap_agent(value: &str) -> bool {
    let path = value.split('=').next().unwrap_or(value);
    Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.to_ascii_lowercase().contains("whatap"))
}

/// Whether `p` runs the program `name` (its argv[0]'s file name) with `cwd` as its working
/// directory (`cwd` already canonical): how an agent of one app is told from another's.
pub fn named_in(p: &Process, name: &str, cwd: &Path) -> bool {
    p.args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .is_some_and(|n| n == name)
        && fs::read_link(proc_root().join(p.pid.to_string()).join("cwd")).is_ok_and(|d| d == cwd)
}

/// PIDs of the processes `named_in` picks, from a fresh look at /proc.
pub fn running_in(name: &str, cwd: &Path) -> Vec<u32> {
    let cwd = crate::os::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    all(&proc_root())
        .iter()
        .filter(|p| named_in(p, name, &cwd))
        .map(|p| p.pid)
        .collect()
}

/// Splits a NUL-separated `/proc/PID/cmdline`.
pub fn parse_cmdline(raw: &[u8]) -> Vec<String> {
    raw.split(|&b| b == 0)
        .filter(|part| !part.is_empty())
        .map(|part| String::from_utf8_lossy(part).into_owned())
        .collect()
}

fn parse_ids(status: &str, field: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|effective| effective.parse().ok())
}

/// A /proc file whole. /proc reports no size, so `fs::read` would start from a 32-byte read
/// and grow; one page is enough for nearly every command line and status.
fn read_proc(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::with_capacity(4096);
    fs::File::open(path).ok()?.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

pub fn read(proc_root: &Path, pid: u32) -> Option<Process> {
    let dir = proc_root.join(pid.to_string());
    let args = parse_cmdline(&read_proc(&dir.join("cmdline"))?);
    if args.is_empty() {
        return None;
    }
    let status = String::from_utf8(read_proc(&dir.join("status"))?).ok()?;
    Some(Process {
        pid,
        uid: parse_ids(&status, "Uid:")?,
        gid: parse_ids(&status, "Gid:")?,
        args,
    })
}

/// Every process visible to us, by PID (Windows: from a Toolhelp snapshot, no /proc).
#[cfg(windows)]
pub fn all(_proc_root: &Path) -> Vec<Process> {
    windows::all()
}

/// Every process visible to us, by PID.
#[cfg(unix)]
pub fn all(proc_root: &Path) -> Vec<Process> {
    let Ok(entries) = fs::read_dir(proc_root) else {
        return Vec::new();
    };
    let mut found: Vec<Process> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| read(proc_root, pid))
        .collect();
    found.sort_by_key(|p| p.pid);
    found
}

/// A process's environment (empty when it is another user's and we are not root).
pub fn environ(pid: u32) -> BTreeMap<String, String> {
    let Ok(raw) = fs::read(format!("/proc/{pid}/environ")) else {
        return BTreeMap::new();
    };
    parse_cmdline(&raw)
        .into_iter()
        .filter_map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

pub fn parent_pid(pid: u32) -> Option<u32> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .and_then(|v| v.trim().parse().ok())
}

/// User name for a uid, through NSS: service accounts from LDAP / SSSD / systemd are in no
/// /etc/passwd. (Windows has no uids: no name.)
#[cfg(windows)]
pub fn user_name(_uid: u32) -> Option<String> {
    None
}

/// (uid, gid) of a user name (Windows: none; files keep their ACLs).
#[cfg(windows)]
pub fn user_ids(_name: &str) -> Option<(u32, u32)> {
    None
}

/// User name for a uid, through NSS: service accounts from LDAP / SSSD / systemd are in no
/// /etc/passwd.
#[cfg(unix)]
pub fn user_name(uid: u32) -> Option<String> {
    passwd_entry(|entry, buf, found| {
        // SAFETY: every pointer is valid for the call; `buf` is as long as said.
        unsafe { libc::getpwuid_r(uid, entry, buf.as_mut_ptr(), buf.len(), found) }
    })
    .map(|(name, _, _)| name)
}

/// (uid, gid) of a user name, through NSS.
#[cfg(unix)]
pub fn user_ids(name: &str) -> Option<(u32, u32)> {
    let name = std::ffi::CString::new(name).ok()?;
    passwd_entry(|entry, buf, found| {
        // SAFETY: as above; `name` is NUL-terminated and outlives the call.
        unsafe { libc::getpwnam_r(name.as_ptr(), entry, buf.as_mut_ptr(), buf.len(), found) }
    })
    .map(|(_, uid, gid)| (uid, gid))
}

/// One passwd entry from a reentrant NSS lookup: (name, uid, gid); None when there is none
/// or the lookup fails. The buffer grows while the entry does not fit.
#[cfg(unix)]
fn passwd_entry(
    lookup: impl Fn(*mut libc::passwd, &mut [libc::c_char], *mut *mut libc::passwd) -> libc::c_int,
) -> Option<(String, u32, u32)> {
    let mut buf: Vec<libc::c_char> = vec![0; 1024];
    loop {
        // SAFETY: passwd is plain data; all-zero is a valid value to be overwritten.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        match lookup(&mut entry, &mut buf, &mut found) {
            libc::ERANGE if buf.len() < 1 << 20 => buf.resize(buf.len() * 2, 0),
            0 if !found.is_null() && !entry.pw_name.is_null() => {
                // SAFETY: on success pw_name points into `buf`, NUL-terminated.
                let name = unsafe { std::ffi::CStr::from_ptr(entry.pw_name) };
                return Some((
                    name.to_string_lossy().into_owned(),
                    entry.pw_uid,
                    entry.pw_gid,
                ));
            }
            _ => return None,
        }
    }
}

pub fn proc_root() -> PathBuf {
    PathBuf::from("/proc")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_resolve_both_ways() {
        assert_eq!(user_name(0).as_deref(), Some("root"));
        assert_eq!(user_ids("root"), Some((0, 0)));
        assert_eq!(user_ids("no-such-user-here"), None);
        assert_eq!(user_ids("ro\0ot"), None);
    }

    #[test]
    fn recognises_whatap_agents() {
        assert!(is_whatap_agent("/opt/whatap/whatap.agent.tracer-2.2.0.jar"));
        assert!(is_whatap_agent(
            "/opt/whatap/whatap.agent.tracer-2.2.0.jar=opts"
        ));
        assert!(!is_whatap_agent("/opt/other/jolokia.jar"));
    }

    #[test]
    fn parses_java_command_line() {
        let raw = b"/usr/bin/java\0-Dcatalina.base=/a\0-javaagent:/w/whatap.agent.tracer-2.2.jar\0-Dcatalina.base=/b\0org.apache.catalina.startup.Bootstrap\0start\0";
        let args = parse_cmdline(raw);
        assert_eq!(java_property(&args, "catalina.base"), Some("/b"));
        assert_eq!(javaagents(&args), vec!["/w/whatap.agent.tracer-2.2.jar"]);
    }

    #[test]
    fn reads_effective_uid() {
        let status = "Name:\tjava\nUid:\t1000\t997\t997\t997\nGid:\t5\t6\t6\t6\n";
        assert_eq!(parse_ids(status, "Uid:"), Some(997));
        assert_eq!(parse_ids(status, "Gid:"), Some(6));
    }

    #[test]
    fn sees_this_test_process() {
        let me = read(&proc_root(), std::process::id()).expect("own process");
        assert!(!me.args.is_empty());
    }
}

/// Windows processes: the PIDs of a Toolhelp snapshot, each one's command line read from its
/// PEB, split as the C runtime splits it (`CommandLineToArgvW`).
/// A process we may not open (another user's, when not elevated) is left out, as /proc's are.
#[cfg(windows)]
mod windows {
    use super::Process;
    use windows_sys::Wdk::System::Threading::{NtQueryInformationProcess, ProcessBasicInformation};
    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, INVALID_HANDLE_VALUE, LocalFree};
    use windows_sys::Win32::System::Diagnostics::Debug::ReadProcessMemory;
    use windows_sys::Win32::System::Diagnostics::ToolHelp::{
        CreateToolhelp32Snapshot, PROCESSENTRY32W, Process32FirstW, Process32NextW,
        TH32CS_SNAPPROCESS,
    };
    use windows_sys::Win32::System::Threading::{
        OpenProcess, PROCESS_QUERY_INFORMATION, PROCESS_VM_READ,
    };
    use windows_sys::Win32::UI::Shell::CommandLineToArgvW;

    /// A handle closed when dropped.
    struct Handle(HANDLE);

    impl Drop for Handle {
        fn drop(&mut self) {
            // SAFETY: an open handle of ours, closed once.
            unsafe { CloseHandle(self.0) };
        }
    }

    pub fn all() -> Vec<Process> {
        // SAFETY: no pointers; the handle is checked before use.
        let snapshot = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0) };
        if snapshot == INVALID_HANDLE_VALUE {
            return Vec::new();
        }
        let snapshot = Handle(snapshot);
        let mut pids = Vec::new();
        let mut entry = PROCESSENTRY32W {
            dwSize: std::mem::size_of::<PROCESSENTRY32W>() as u32,
            ..Default::default()
        };
        // SAFETY: `entry` is a PROCESSENTRY32W with dwSize set, as both calls require.
        let mut more = unsafe { Process32FirstW(snapshot.0, &mut entry) } != 0;
        while more {
            pids.push(entry.th32ProcessID);
            // SAFETY: as above.
            more = unsafe { Process32NextW(snapshot.0, &mut entry) } != 0;
        }
        let mut found: Vec<Process> = pids
            .into_iter()
            .filter_map(|pid| {
                let args = command_line(pid).map(|line| split(&line))?;
                (!args.is_empty()).then_some(Process {
                    pid,
                    uid: 0,
                    gid: 0,
                    args,
                })
            })
            .collect();
        found.sort_by_key(|p| p.pid);
        found
    }

    /// PROCESS_BASIC_INFORMATION (x64): what is read of it is the PEB's address.
    #[repr(C)]
    #[derive(Default)]
    struct BasicInformation {
        exit_status: i32,
        peb: usize,
        affinity_mask: usize,
        base_priority: i32,
        pid: usize,
        parent_pid: usize,
    }

    /// x64 offsets: PEB.ProcessParameters, RTL_USER_PROCESS_PARAMETERS.CommandLine.
    const PEB_PARAMETERS: usize = 0x20;
    const PARAMETERS_COMMAND_LINE: usize = 0x70;

    /// `len` bytes at `address` in `process`.
    fn read_memory(process: &Handle, address: usize, len: usize) -> Option<Vec<u8>> {
        let mut bytes = vec![0u8; len];
        let mut read = 0usize;
        // SAFETY: `bytes` holds `len` bytes; the address is only read by the kernel.
        let ok = unsafe {
            ReadProcessMemory(
                process.0,
                address as *const _,
                bytes.as_mut_ptr().cast(),
                len,
                &mut read,
            )
        };
        (ok != 0 && read == len).then_some(bytes)
    }

    fn usize_at(bytes: &[u8], at: usize) -> Option<usize> {
        Some(usize::from_le_bytes(
            bytes.get(at..at + 8)?.try_into().ok()?,
        ))
    }

    /// The process's command line (what `GetCommandLineW` returns inside it), UTF-16 and
    /// NUL-terminated: read from its PEB, which every Windows version (and wine) has, where
    /// `ProcessCommandLineInformation` needs Windows 8.1 and is missing in wine 8.
    fn command_line(pid: u32) -> Option<Vec<u16>> {
        // SAFETY: no pointers; a null handle is checked.
        let process = unsafe { OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, 0, pid) };
        if process.is_null() {
            return None;
        }
        let process = Handle(process);
        let mut basic = BasicInformation::default();
        let mut len = 0u32;
        // SAFETY: `basic` is a PROCESS_BASIC_INFORMATION-sized buffer of ours.
        let status = unsafe {
            NtQueryInformationProcess(
                process.0,
                ProcessBasicInformation,
                (&mut basic as *mut BasicInformation).cast(),
                std::mem::size_of::<BasicInformation>() as u32,
                &mut len,
            )
        };
        if status < 0 || basic.peb == 0 {
            return None;
        }
        let parameters = usize_at(&read_memory(&process, basic.peb + PEB_PARAMETERS, 8)?, 0)?;
        // UNICODE_STRING: Length (bytes, u16), MaximumLength, padding, Buffer.
        let string = read_memory(&process, parameters + PARAMETERS_COMMAND_LINE, 16)?;
        let bytes = u16::from_le_bytes([string[0], string[1]]) as usize;
        let text = read_memory(&process, usize_at(&string, 8)?, bytes)?;
        Some(
            text.chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .chain([0])
                .collect(),
        )
    }

    /// `line` (NUL-terminated) split into arguments as the C runtime does.
    fn split(line: &[u16]) -> Vec<String> {
        let mut count = 0;
        // SAFETY: `line` is NUL-terminated; the array returned is freed once with LocalFree.
        unsafe {
            let argv = CommandLineToArgvW(line.as_ptr(), &mut count);
            if argv.is_null() {
                return Vec::new();
            }
            let args = (0..count.max(0) as usize)
                .map(|i| {
                    let arg = *argv.add(i);
                    let len = (0..).take_while(|&n| *arg.add(n) != 0).count();
                    String::from_utf16_lossy(std::slice::from_raw_parts(arg, len))
                })
                .collect();
            LocalFree(argv.cast());
            args
        }
    }
}
