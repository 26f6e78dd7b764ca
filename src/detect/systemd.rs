//! systemd units as the host has them: which unit runs a process, the unit file and its
//! drop-ins in the order systemd reads them, `[Service]` settings, and the file-system
//! sandbox they make (`ProtectSystem=`, `ReadWritePaths=`).

use crate::edit::unit::{self, Setting};
use std::fs;
use std::path::{Path, PathBuf};

/// Where systemd finds units, in its order (the first holding a name wins).
pub const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
];

/// `dir` (`--systemd-dir`) first, then systemd's own directories.
pub fn search_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![dir.to_path_buf()];
    for d in UNIT_DIRS.iter().map(PathBuf::from) {
        if !dirs.contains(&d) {
            dirs.push(d);
        }
    }
    dirs
}

/// `app` -> `app.service`, as systemctl reads a name without its type.
pub fn unit_name(unit: &str) -> String {
    if unit.ends_with(".service") {
        unit.to_string()
    } else {
        format!("{unit}.service")
    }
}

/// The systemd service a process runs in, from its /proc/PID/cgroup text; a user's own
/// service manager (`user@1000.service`) is not a unit of this host's.
fn unit_from_cgroup(cgroup: &str) -> Option<String> {
    cgroup.lines().find_map(|line| {
        let path = line.rsplit(':').next()?;
        path.split('/')
            .rev()
            .find(|part| part.ends_with(".service"))
            .filter(|part| !part.starts_with("user@"))
            .map(str::to_string)
    })
}

/// The service a running process belongs to.
pub fn unit_of(pid: u32) -> Option<String> {
    unit_from_cgroup(&fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?)
}

/// The unit file `unit` names: the first of `dirs` that holds it.
pub fn unit_file(unit: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    dirs.iter().map(|d| d.join(unit)).find(|f| f.is_file())
}

/// The drop-ins of `unit` (`<unit>.d/*.conf`, by name; a name in an earlier directory hides
/// the same name in later ones): the order systemd reads them in.
pub fn drop_ins(unit: &str, dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut drop_ins: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        for file in
            crate::detect::files_in(&dir.join(format!("{unit}.d")), |n| n.ends_with(".conf"))
        {
            if !drop_ins.iter().any(|d| d.file_name() == file.file_name()) {
                drop_ins.push(file);
            }
        }
    }
    drop_ins.sort_by_key(|f| f.file_name().map(|n| n.to_os_string()));
    drop_ins
}

/// The unit file, then its drop-ins: the order systemd reads them in.
pub fn unit_files(unit: &str, dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = unit_file(unit, dirs).into_iter().collect();
    files.extend(drop_ins(unit, dirs));
    files
}

/// Service unit files in `dirs` (`*.service`), sorted by name, each name once (the first dir
/// that has it wins, as in systemd).
pub fn services_in(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut seen: Vec<std::ffi::OsString> = Vec::new();
    let mut found = Vec::new();
    for dir in dirs {
        for path in crate::detect::files_in(dir, |n| n.ends_with(".service")) {
            let name = path.file_name().map(|n| n.to_os_string());
            if let Some(name) = name.filter(|n| !seen.contains(n)) {
                seen.push(name);
                found.push(path);
            }
        }
    }
    found.sort_by_key(|p| p.file_name().map(|n| n.to_os_string()));
    found
}

/// The files with their bytes, for `edit::unit` to read (unreadable ones left out).
pub fn read(files: &[PathBuf]) -> Vec<(PathBuf, Vec<u8>)> {
    files
        .iter()
        .filter_map(|f| Some((f.clone(), fs::read(f).ok()?)))
        .collect()
}

/// What a unit's sandbox lets its service write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sandbox {
    /// The last `ProtectSystem=` (strict, full, yes/true), where it was set.
    pub protect: Option<Setting>,
    /// `ReadWritePaths=`, `StateDirectory=` (under /var/lib), `LogsDirectory=` (/var/log),
    /// `CacheDirectory=` (/var/cache): writable even when protected.
    pub writable: Vec<PathBuf>,
    pub user: Option<String>,
}

impl Sandbox {
    pub fn of(files: &[PathBuf]) -> Sandbox {
        let sources = read(files);
        let protect = unit::service_settings(&sources)
            .into_iter()
            .rfind(|s| s.key == "ProtectSystem");
        let mut writable = Vec::new();
        for (key, under) in [
            ("ReadWritePaths", "/"),
            ("StateDirectory", "/var/lib"),
            ("LogsDirectory", "/var/log"),
            ("CacheDirectory", "/var/cache"),
        ] {
            for setting in unit::list(&sources, key) {
                for word in setting.value.split_whitespace() {
                    let path = word.trim_start_matches(['-', '+']).trim_start_matches('/');
                    writable.push(Path::new(under).join(path));
                }
            }
        }
        Sandbox {
            protect,
            writable,
            user: crate::edit::wrap::unit_user(&sources),
        }
    }

    /// Why the service cannot write `path`: the `ProtectSystem=` line that makes it read-only,
    /// when no writable path covers it. None when it can.
    pub fn read_only(&self, path: &Path) -> Option<&Setting> {
        let protect = self.protect.as_ref()?;
        let protected: &[&str] = match protect.value.as_str() {
            "strict" => &["/"],
            "full" => &["/usr", "/boot", "/efi", "/etc"],
            "yes" | "true" | "on" | "1" => &["/usr", "/boot", "/efi"],
            _ => return None,
        };
        // The API file systems stay writable under strict (a private /tmp would not show the
        // home to the service at all).
        let always = ["/dev", "/proc", "/sys"];
        let covered = protected.iter().any(|p| path.starts_with(p))
            && !always.iter().any(|p| path.starts_with(p))
            && !self.writable.iter().any(|w| path.starts_with(w));
        covered.then_some(protect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_tomcat10_unit_makes_the_base_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let unit = dir.path().join("tomcat10.service");
        fs::write(
            &unit,
            "[Unit]\nDescription=x\n\n[Service]\nUser=tomcat\nCacheDirectory=tomcat10\nProtectSystem=strict\nReadWritePaths=/etc/tomcat10/Catalina/\nReadWritePaths=/var/lib/tomcat10/webapps/\nReadWritePaths=/var/log/tomcat10/\n",
        )
        .unwrap();
        let files = unit_files("tomcat10.service", &[dir.path().to_path_buf()]);
        let sandbox = Sandbox::of(&files);
        assert_eq!(sandbox.user.as_deref(), Some("tomcat"));
        let why = sandbox
            .read_only(Path::new("/var/lib/tomcat10/whatap"))
            .unwrap();
        assert_eq!((why.line, why.value.as_str()), (7, "strict"));
        assert!(
            sandbox
                .read_only(Path::new("/var/lib/tomcat10/webapps/whatap"))
                .is_none()
        );
        assert!(
            sandbox
                .read_only(Path::new("/var/cache/tomcat10/whatap"))
                .is_none()
        );
        // A drop-in that opens the home.
        fs::create_dir_all(dir.path().join("tomcat10.service.d")).unwrap();
        fs::write(
            dir.path().join("tomcat10.service.d/whatap-paths.conf"),
            "[Service]\nReadWritePaths=-/var/lib/tomcat10/whatap\n",
        )
        .unwrap();
        let files = unit_files("tomcat10.service", &[dir.path().to_path_buf()]);
        assert!(
            Sandbox::of(&files)
                .read_only(Path::new("/var/lib/tomcat10/whatap/logs"))
                .is_none()
        );
        let full = Sandbox {
            protect: Some(Setting {
                key: "ProtectSystem".into(),
                file: unit,
                line: 1,
                value: "full".into(),
            }),
            ..Sandbox::default()
        };
        assert!(
            full.read_only(Path::new("/usr/share/tomcat10/whatap"))
                .is_some()
        );
        assert!(
            full.read_only(Path::new("/var/lib/tomcat10/whatap"))
                .is_none()
        );
    }

    #[test]
    fn unit_from_cgroup_v1_and_v2() {
        assert_eq!(
            unit_from_cgroup("0::/system.slice/orders.service\n").as_deref(),
            Some("orders.service")
        );
        assert_eq!(
            unit_from_cgroup("12:pids:/\n1:name=systemd:/system.slice/app@2.service\n").as_deref(),
            Some("app@2.service")
        );
        assert_eq!(unit_from_cgroup("0::/"), None);
        // A process of a user's own service manager runs in no unit of the host's.
        assert_eq!(
            unit_from_cgroup("0::/user.slice/user-1000.slice/user@1000.service/init.scope\n"),
            None
        );
    }
}
