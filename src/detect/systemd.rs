//! systemd units as the host has them: which unit runs a process, the unit file and its
//! drop-ins in the order systemd reads them, `[Service]` settings, and the file-system
//! sandbox they make (`ProtectSystem=`, `ReadWritePaths=`).

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

/// The systemd service a process runs in, from its /proc/PID/cgroup text.
pub fn unit_from_cgroup(cgroup: &str) -> Option<String> {
    cgroup.lines().find_map(|line| {
        let path = line.rsplit(':').next()?;
        path.split('/')
            .rev()
            .find(|part| part.ends_with(".service"))
            .map(str::to_string)
    })
}

/// The service a running process belongs to.
pub fn unit_of(pid: u32) -> Option<String> {
    unit_from_cgroup(&fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?)
}

/// The unit file, then its drop-ins (`<unit>.d/*.conf`, by name; a name in an earlier
/// directory hides the same name in later ones): the order systemd reads them in.
pub fn unit_files(unit: &str, dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = dirs
        .iter()
        .map(|d| d.join(unit))
        .find(|f| f.is_file())
        .into_iter()
        .collect();
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
    files.extend(drop_ins);
    files
}

/// A `[Service]` setting as read: its file, 1-based line and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub file: PathBuf,
    pub line: usize,
    pub value: String,
}

/// Every `key=` of the `[Service]` sections of `files`, in reading order.
pub fn service_values(files: &[PathBuf], key: &str) -> Vec<Setting> {
    let mut found = Vec::new();
    for file in files {
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        let mut in_service = false;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.starts_with('[') {
                in_service = line == "[Service]";
                continue;
            }
            let value = line
                .strip_prefix(key)
                .and_then(|rest| rest.trim_start().strip_prefix('='));
            if let (true, Some(value)) = (in_service, value) {
                found.push(Setting {
                    file: file.clone(),
                    line: i + 1,
                    value: value.trim().to_string(),
                });
            }
        }
    }
    found
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
        let protect = service_values(files, "ProtectSystem").pop();
        let mut writable = Vec::new();
        for (key, under) in [
            ("ReadWritePaths", "/"),
            ("StateDirectory", "/var/lib"),
            ("LogsDirectory", "/var/log"),
            ("CacheDirectory", "/var/cache"),
        ] {
            let mut paths: Vec<PathBuf> = Vec::new();
            for setting in service_values(files, key) {
                if setting.value.is_empty() {
                    // An empty assignment resets the list.
                    paths.clear();
                }
                for word in setting.value.split_whitespace() {
                    let path = word.trim_start_matches(['-', '+']).trim_start_matches('/');
                    paths.push(Path::new(under).join(path));
                }
            }
            writable.extend(paths);
        }
        Sandbox {
            protect,
            writable,
            user: service_values(files, "User").pop().map(|s| s.value),
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
    }
}
