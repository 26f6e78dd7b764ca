//! What each PHP on the host is: its binaries and SAPIs (CLI, FPM, CGI, Apache's mod_php),
//! probed once with their own `-i` (run without a shell), and where each SAPI's ini files are.

use crate::detect::Host;
use crate::detect::cache::{self, ProbeCache, Stamp};
use crate::edit::eol::{line_body, split_lines};
use crate::edit::marker::{self, MarkerStyle};
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::target;
use crate::runtimes::instance::{AgentState, Detection};
use crate::runtimes::kind::RuntimeKind;
use crate::settings::TargetSettings;
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub const MODULE_FILE: &str = "whatap.so";
pub const INI_FILE: &str = "whatap.ini";
/// Debian's conf.d name for modules without their own priority (phpenmod's default).
const DEBIAN_LINK: &str = "20-whatap.ini";
/// Per-SAPI keys next to Debian's shared mods-available/whatap.ini.
const DEBIAN_APP_FILE: &str = "20-whatap-app.ini";
/// `php -i` of a healthy PHP takes well under a second; a hung one must not hang us.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// Directories searched for PHP binaries besides PATH (the guide's usual places).
const SEARCH_DIRS: &[&str] = &["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sapi {
    Cli,
    Fpm,
    Cgi,
    Apache,
}

impl Sapi {
    pub fn name(self) -> &'static str {
        match self {
            Sapi::Cli => "cli",
            Sapi::Fpm => "fpm",
            Sapi::Cgi => "cgi",
            Sapi::Apache => "apache2",
        }
    }

    /// The guide's `whatap.app_name`: APHP for Apache, FPHP for PHP-FPM.
    pub fn app_name(self) -> Option<&'static str> {
        match self {
            Sapi::Apache => Some("APHP"),
            Sapi::Fpm => Some("FPHP"),
            Sapi::Cli | Sapi::Cgi => None,
        }
    }

    /// From `Server API => ...` in `-i` output, else from the binary's name.
    fn from_server_api(value: Option<&str>, binary: &Path) -> Sapi {
        let value = value.unwrap_or_default().to_ascii_lowercase();
        let name = file_name(binary);
        if value.starts_with("fpm") || (value.is_empty() && name.starts_with("php-fpm")) {
            Sapi::Fpm
        } else if value.starts_with("cgi") || (value.is_empty() && name.starts_with("php-cgi")) {
            Sapi::Cgi
        } else if value.contains("apache") {
            Sapi::Apache
        } else {
            Sapi::Cli
        }
    }
}

/// What `php -i` tells about one PHP build and SAPI.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PhpInfo {
    pub version: Option<String>,
    pub api: String,
    pub zts: bool,
    pub server_api: Option<String>,
    pub extension_dir: Option<PathBuf>,
    pub ini_file: Option<PathBuf>,
    pub scan_dir: Option<PathBuf>,
}

/// `(none)` and empty values mean "not set".
fn set_value(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty() && value != "(none)" && value != "no value").then(|| value.to_string())
}

/// `key => value` rows of `php -i` (text, or the HTML php-cgi prints), first occurrence wins.
fn info_rows(text: &str) -> BTreeMap<String, String> {
    let mut rows = BTreeMap::new();
    for line in text.lines() {
        let line = if line.contains("<td") {
            // <tr><td class="e">PHP API </td><td class="v">20220829 </td></tr>
            let cells: Vec<String> = line
                .split("<td")
                .skip(1)
                .map(|cell| {
                    let inner = cell.split_once('>').map(|(_, rest)| rest).unwrap_or(cell);
                    strip_tags(inner)
                })
                .collect();
            cells.join(" => ")
        } else {
            line.to_string()
        };
        if let Some((key, rest)) = line.split_once("=>") {
            let key = key.trim().to_string();
            // `extension_dir => local => master`: the local value is what this run uses.
            let value = rest
                .split("=>")
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
            if !key.is_empty() {
                rows.entry(key).or_insert(value);
            }
        }
    }
    rows
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ").trim().to_string()
}

/// Parses `php -i`; None when it has no `PHP API` (not a PHP, or a broken one).
pub fn parse_info(text: &str) -> Option<PhpInfo> {
    let rows = info_rows(text);
    let api = rows.get("PHP API").and_then(|v| set_value(v))?;
    if !api.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let get = |key: &str| rows.get(key).and_then(|v| set_value(v));
    Some(PhpInfo {
        version: get("PHP Version"),
        api,
        zts: get("Thread Safety").is_some_and(|v| v.eq_ignore_ascii_case("enabled")),
        server_api: get("Server API"),
        extension_dir: get("extension_dir").map(PathBuf::from),
        ini_file: get("Loaded Configuration File").map(PathBuf::from),
        scan_dir: get("Scan this dir for additional .ini files").map(PathBuf::from),
    })
}

/// Output of a command run directly (never through a shell), with a deadline.
pub struct Ran {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(binary: &Path, args: &[&str], env: &[(&str, &str)]) -> std::result::Result<Ran, String> {
    let mut command = Command::new(binary);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command
        .spawn()
        .map_err(|e| msg!("php-cannot-run", error = e))?;
    let pid = child.id();
    // Read both pipes on threads so a chatty PHP cannot block on a full pipe; wait on a third
    // so the deadline is a channel timeout, not a polling loop.
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let (done, exited) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait());
    });
    let status = match exited.recv_timeout(PROBE_TIMEOUT) {
        Ok(status) => status.map_err(|e| e.to_string())?,
        Err(_) => {
            // PHP is probed on Unix hosts; elsewhere a hung probe is left to its waiter.
            #[cfg(unix)]
            {
                // SAFETY: kill has no memory preconditions; the child is not reaped yet (its
                // waiter still waits), so the pid is still ours.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                let _ = exited.recv();
            }
            #[cfg(windows)]
            let _ = pid;
            return Err(msg!("php-probe-timeout", seconds = PROBE_TIMEOUT.as_secs()));
        }
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    Ok(Ran {
        success: status.success(),
        stdout,
        stderr,
    })
}

/// `<binary> -i`: what this PHP is, and whether it loads `whatap` as configured now (the
/// output lists every loaded module, so one run answers both).
fn probe_listing(binary: &Path) -> std::result::Result<(PhpInfo, bool), String> {
    let ran = run(binary, &["-i"], &[])?;
    match parse_info(&ran.stdout) {
        Some(info) => Ok((info, module_listed(&ran.stdout))),
        None => {
            let said = ran
                .stderr
                .lines()
                .chain(ran.stdout.lines())
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| msg!("php-no-output"));
            Err(if ran.success {
                msg!("php-ran-no-api", binary = binary.display(), said = said)
            } else {
                msg!("php-failed-no-api", binary = binary.display(), said = said)
            })
        }
    }
}

/// The environment that changes which ini files a PHP reads: part of every cache key.
fn ini_env() -> String {
    ["PHPRC", "PHP_INI_SCAN_DIR"]
        .iter()
        .map(|k| format!("{k}={}", std::env::var(k).unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The files a probe's answer depends on besides the binary: the ini file and scan dir it
/// read and the module it would load. None without a php.ini: where PHP looked for one is not
/// known, so such an answer is not kept.
fn ini_stamps(
    info: &PhpInfo,
    ini_file: Option<&Path>,
    scan_dir: Option<&Path>,
) -> Option<Vec<Stamp>> {
    let mut stamps = vec![cache::stamp(ini_file?)];
    stamps.extend(scan_dir.map(cache::stamp_dir).unwrap_or_default());
    stamps.extend(
        info.extension_dir
            .as_ref()
            .map(|d| cache::stamp(&d.join(MODULE_FILE))),
    );
    Some(stamps)
}

/// `probe_listing`, through the cache.
fn probe_cached(
    binary: &Path,
    cache: &ProbeCache,
) -> (std::result::Result<PhpInfo, String>, Option<bool>) {
    let key = format!("{} -i {}", binary.display(), ini_env());
    if let Some((info, listed)) = cache.get::<(PhpInfo, bool)>(&key) {
        return (Ok(info), Some(listed));
    }
    let before = cache::stamp(binary);
    match probe_listing(binary) {
        Ok((info, listed)) => {
            if let Some(mut stamps) =
                ini_stamps(&info, info.ini_file.as_deref(), info.scan_dir.as_deref())
            {
                stamps.insert(0, before);
                cache.put(&key, stamps, &(&info, listed));
            }
            (Ok(info), Some(listed))
        }
        Err(why) => (Err(why), None),
    }
}

/// One PHP SAPI: the binary probed, what it said, and where its ini files are.
#[derive(Debug, Clone)]
pub struct PhpSapi {
    /// The binary as found (`/usr/bin/php`); for Apache, the CLI of the same PHP.
    pub binary: PathBuf,
    pub sapi: Sapi,
    /// Apache's mod_php: the httpd binary and the module it loads.
    pub server: Option<(PathBuf, PathBuf)>,
    /// Err: the reason there is no PHP API (the guide's "Error: Not found PHP API").
    pub info: std::result::Result<PhpInfo, String>,
    /// The running master (FPM, Apache), if any.
    pub master: Option<u32>,
    /// Whether it loads the `whatap` module as configured, from the first probe that told
    /// (`-i` for a binary; Apache's is asked when first wanted). None: cannot tell.
    pub listed: OnceLock<Option<bool>>,
    /// Where the module check of `doctor` is kept between runs.
    pub cache: Arc<ProbeCache>,
}

/// Where this SAPI's whatap settings go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IniTarget {
    /// `whatap.ini` in the scan dir.
    ScanDir { file: PathBuf },
    /// Debian: `mods-available/whatap.ini`, linked from `conf.d/20-whatap.ini`, plus the
    /// SAPI's own app keys in `conf.d/20-whatap-app.ini`.
    Debian {
        shared: PathBuf,
        link: PathBuf,
        app: PathBuf,
    },
    /// A marked `[whatap]` section at the end of php.ini (no scan dir).
    PhpIni { file: PathBuf },
}

impl IniTarget {
    /// The file holding `extension=whatap.so`.
    pub fn extension_file(&self) -> &Path {
        match self {
            IniTarget::ScanDir { file } | IniTarget::PhpIni { file } => file,
            IniTarget::Debian { shared, .. } => shared,
        }
    }
}

impl PhpSapi {
    /// What names this SAPI: its binary, or Apache's httpd for mod_php.
    pub fn home(&self) -> PathBuf {
        self.server
            .as_ref()
            .map(|(httpd, _)| httpd.clone())
            .unwrap_or_else(|| self.binary.clone())
    }

    pub fn label(&self) -> String {
        match &self.server {
            Some((httpd, _)) => format!("{} (apache2 mod_php)", httpd.display()),
            None => format!("{} ({})", self.binary.display(), self.sapi.name()),
        }
    }

    pub fn info(&self) -> Result<&PhpInfo> {
        self.info.as_ref().map_err(|why| {
            Error::usage(
                msg!("php-api-not-found", label = self.label(), why = why),
                msg!("php-api-not-found-hint"),
            )
        })
    }

    pub fn ini_target(&self) -> Result<IniTarget> {
        let info = self.info()?;
        if let Some(scan) = &info.scan_dir {
            let mods = scan
                .parent()
                .and_then(Path::parent)
                .map(|p| p.join("mods-available"));
            return Ok(match mods {
                Some(mods) if scan.ends_with("conf.d") && mods.is_dir() => IniTarget::Debian {
                    shared: mods.join(INI_FILE),
                    link: scan.join(DEBIAN_LINK),
                    app: scan.join(DEBIAN_APP_FILE),
                },
                _ => IniTarget::ScanDir {
                    file: scan.join(INI_FILE),
                },
            });
        }
        match &info.ini_file {
            Some(file) => Ok(IniTarget::PhpIni { file: file.clone() }),
            None => Err(Error::usage(
                msg!("php-ini-dir-not-found", label = self.label()),
                msg!("php-ini-dir-not-found-hint"),
            )),
        }
    }

    /// The directories whose files this SAPI's install may touch.
    pub fn roots(&self) -> Vec<PathBuf> {
        let Ok(info) = &self.info else {
            return Vec::new();
        };
        let mut dirs: Vec<PathBuf> = Vec::new();
        dirs.extend(info.extension_dir.clone());
        if let Some(scan) = &info.scan_dir {
            dirs.push(scan.clone());
            dirs.extend(
                scan.parent()
                    .and_then(Path::parent)
                    .map(|p| p.join("mods-available")),
            );
        }
        dirs.extend(
            info.ini_file
                .as_deref()
                .and_then(Path::parent)
                .map(Path::to_path_buf),
        );
        let refs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
        target::owned_roots(&refs)
    }

    /// Whether this SAPI loads the `whatap` module as configured when it was probed; None:
    /// cannot tell.
    pub fn loads_whatap(&self) -> Option<bool> {
        *self.listed.get_or_init(|| self.apache_listed())
    }

    /// mod_php cannot be asked: the CLI of the same PHP reads Apache's ini files, with `-m`;
    /// only when the files themselves cannot tell (see `ini_set_listed`).
    fn apache_listed(&self) -> Option<bool> {
        let info = self.info.as_ref().ok()?;
        if let Some(listed) = info
            .ini_file
            .as_deref()
            .and_then(|ini| ini_set_listed(ini, info.scan_dir.as_deref()))
        {
            return Some(listed);
        }
        let mut args = vec!["-m".to_string()];
        if let Some(ini) = &info.ini_file {
            args = vec!["-c".into(), ini.display().to_string(), "-m".into()];
        }
        let scan = info
            .scan_dir
            .as_ref()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        let key = format!(
            "{} {} PHP_INI_SCAN_DIR={scan}",
            self.binary.display(),
            args.join(" ")
        );
        if let Some(listed) = self.cache.get::<bool>(&key) {
            return Some(listed);
        }
        let before = cache::stamp(&self.binary);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let ran = run(&self.binary, &args, &[("PHP_INI_SCAN_DIR", &scan)]).ok()?;
        let listed = module_listed(&ran.stdout);
        if let Some(mut stamps) =
            ini_stamps(info, info.ini_file.as_deref(), info.scan_dir.as_deref())
        {
            stamps.insert(0, before);
            self.cache.put(&key, stamps, &listed);
        }
        Some(listed)
    }

    /// Loads `module` into this PHP with no ini at all; Err is PHP's own complaint.
    pub fn check_module(&self, module: &Path) -> std::result::Result<(), String> {
        if self.server.is_some() && self.info.as_ref().is_ok_and(|i| i.zts) {
            // The NTS CLI cannot load a ZTS module meant for a threaded Apache.
            return Ok(());
        }
        let extension = format!("extension={}", module.display());
        let key = format!("{} -n -d {extension} -m", self.binary.display());
        // Kept as PHP's own words (no message text: the next run may speak another language).
        let complaint = match self.cache.get::<Option<Vec<String>>>(&key) {
            Some(complaint) => complaint,
            None => {
                let stamps = vec![cache::stamp(&self.binary), cache::stamp(module)];
                let ran = run(&self.binary, &["-n", "-d", &extension, "-m"], &[])?;
                let complaint = (!module_listed(&ran.stdout)).then(|| {
                    ran.stdout
                        .lines()
                        .chain(ran.stderr.lines())
                        .map(str::trim)
                        .filter(|l| {
                            l.contains("compiled with")
                                || l.contains("Unable to load")
                                || l.contains("Unable to initialize")
                                || l.contains("Invalid library")
                        })
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                });
                self.cache.put(&key, stamps, &complaint);
                complaint
            }
        };
        match complaint {
            None => Ok(()),
            Some(said) if said.is_empty() => Err(msg!("php-module-not-listed")),
            Some(said) => Err(said.join("; ")),
        }
    }

    pub fn detection(&self) -> Detection {
        let mut details: BTreeMap<String, serde_json::Value> = BTreeMap::new();
        details.insert("sapi".into(), self.sapi.name().into());
        let mut version = None;
        match &self.info {
            Ok(info) => {
                version = info.version.clone();
                let show = |p: &Option<PathBuf>| {
                    p.as_ref()
                        .map(|p| p.display().to_string().into())
                        .unwrap_or(serde_json::Value::Null)
                };
                details.insert("api".into(), info.api.clone().into());
                details.insert("zts".into(), info.zts.into());
                details.insert("extension_dir".into(), show(&info.extension_dir));
                details.insert("ini_file".into(), show(&info.ini_file));
                details.insert("scan_dir".into(), show(&info.scan_dir));
            }
            Err(why) => {
                details.insert("error".into(), why.clone().into());
            }
        }
        if let Some((httpd, module)) = &self.server {
            details.insert("server".into(), httpd.display().to_string().into());
            details.insert("module".into(), module.display().to_string().into());
        }
        let agent = match self.loads_whatap() {
            Some(true) => AgentState::Loaded,
            _ if self.extension_state() == Some(true) => AgentState::Configured,
            _ => AgentState::None,
        };
        Detection {
            runtime: RuntimeKind::Php,
            version,
            home: self.home(),
            base: None,
            pid: self.master,
            user: None,
            agent,
            details,
        }
    }

    /// Some(true): `extension=whatap.so` is active in our file; Some(false): commented out
    /// (paused); None: not installed here.
    pub fn extension_state(&self) -> Option<bool> {
        let target = self.ini_target().ok()?;
        if let IniTarget::Debian { shared, link, .. } = &target {
            // The shared file enables nothing for a SAPI whose conf.d does not link it.
            if fs::read_link(link).ok().as_ref() != Some(shared) {
                return None;
            }
        }
        let content = crate::plan::target::peek(target.extension_file()).ok()?;
        let lines: Vec<String> = match &target {
            IniTarget::PhpIni { .. } => {
                let span = marker::find_block(&content, MarkerStyle::Ini).ok()??;
                marker::block_inner(&content, span)
            }
            _ => split_lines(&content)
                .iter()
                .map(|l| String::from_utf8_lossy(line_body(l)).into_owned())
                .collect(),
        };
        lines.iter().find_map(|l| extension_line(l))
    }
}

/// `whatap` among the modules of `-m`, or of `-i` (its own line as text, a named heading in the
/// HTML php-cgi prints).
fn module_listed(output: &str) -> bool {
    output
        .lines()
        .any(|l| l.trim() == "whatap" || l.contains("name=\"module_whatap\""))
}

/// What `php -c INI -m` with `PHP_INI_SCAN_DIR=SCAN` would say about `whatap`, read from the
/// files instead of starting PHP (the doctor of a host without whatap then starts one PHP fewer):
/// Some(false) when neither php.ini nor a `*.ini` of the scan dir has an active `extension` /
/// `zend_extension` line that could name whatap. None (ask PHP) when one has (only PHP knows
/// whether the module loads), when a value is built from `${...}`, or a file cannot be read.
/// Like PHP, a scan dir entry that is not a regular file (a dangling link) is skipped.
fn ini_set_listed(ini: &Path, scan: Option<&Path>) -> Option<bool> {
    let mut files = vec![ini.to_path_buf()];
    if let Some(scan) = scan {
        files.extend(
            fs::read_dir(scan)
                .ok()?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "ini"))
                .filter(|p| fs::metadata(p).is_ok_and(|m| m.is_file())),
        );
    }
    for file in files {
        let text = fs::read(&file).ok()?;
        let maybe = split_lines(&text).iter().any(|line| {
            let line = String::from_utf8_lossy(line_body(line));
            let Some((key, value)) = line.trim_start().split_once('=') else {
                return false;
            };
            // A commented line's key starts with `;` and matches neither.
            let key = key.trim().to_ascii_lowercase();
            (key == "extension" || key == "zend_extension")
                && (value.to_ascii_lowercase().contains("whatap") || value.contains('$'))
        });
        if maybe {
            return None;
        }
    }
    Some(false)
}

/// Some(true) for `extension=whatap.so`, Some(false) for it commented out with `;`.
pub fn extension_line(line: &str) -> Option<bool> {
    let text = line.trim();
    let (active, rest) = match text.strip_prefix(';') {
        Some(rest) => (false, rest.trim_start()),
        None => (true, text),
    };
    let (key, value) = rest.split_once('=')?;
    let value = value.trim().trim_matches('"').trim_matches('\'');
    (key.trim() == "extension" && (value == MODULE_FILE || value == "whatap")).then_some(active)
}

pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `php`, `php8.2`, `php82`, `php-fpm`, `php-fpm8.2`, `php-cgi7.4` (not phpize, php-config).
pub fn is_php_name(name: &str) -> bool {
    let rest = name
        .strip_prefix("php-fpm")
        .or_else(|| name.strip_prefix("php-cgi"))
        .or_else(|| name.strip_prefix("php"));
    rest.is_some_and(|r| r.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

fn executable(path: &Path) -> bool {
    use crate::os::MetadataExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
}

/// Every PHP binary: PATH, the usual dirs, /opt/*/bin, running processes; one per real file.
pub fn find_binaries(host: &Host) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(SEARCH_DIRS.iter().map(PathBuf::from));
    if let Ok(entries) = fs::read_dir("/opt") {
        let mut opt: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        opt.sort();
        for dir in opt {
            dirs.push(dir.join("bin"));
            dirs.push(dir.join("sbin"));
        }
    }
    let mut candidates = Vec::new();
    for dir in dirs {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| is_php_name(&e.file_name().to_string_lossy()))
            .map(|e| e.path())
            .collect();
        names.sort();
        candidates.extend(names);
    }
    for p in &host.processes {
        if let Ok(exe) = fs::read_link(format!("/proc/{}/exe", p.pid)) {
            if is_php_name(&file_name(&exe)) {
                candidates.push(exe);
            }
        }
    }
    let mut seen = Vec::new();
    let mut found = Vec::new();
    for path in candidates {
        // Root runs only a PHP that root owns and no one else can replace (PATH included).
        if !executable(&path) || !crate::apply::atomic::may_run(&path) {
            continue;
        }
        let real = crate::os::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if !seen.contains(&real) {
            seen.push(real);
            found.push(path);
        }
    }
    found
}

/// The running master of `binary` (the oldest process running that file), if any.
fn master_of(binary: &Path, host: &Host) -> Option<u32> {
    let real = crate::os::canonicalize(binary).ok()?;
    host.processes
        .iter()
        .filter(|p| fs::read_link(format!("/proc/{}/exe", p.pid)).is_ok_and(|e| e == real))
        .map(|p| p.pid)
        .min()
}

/// One SAPI per binary, probed.
pub fn probe_binary(binary: &Path, host: &Host) -> PhpSapi {
    let (info, listed) = probe_cached(binary, &host.cache);
    let sapi = Sapi::from_server_api(
        info.as_ref().ok().and_then(|i| i.server_api.as_deref()),
        binary,
    );
    PhpSapi {
        binary: binary.to_path_buf(),
        sapi,
        server: None,
        master: if sapi == Sapi::Cli {
            None
        } else {
            master_of(binary, host)
        },
        info,
        listed: OnceLock::from(listed),
        cache: host.cache.clone(),
    }
}

/// Every binary probed at once: each `php -i` is a process start, and they do not wait on
/// each other.
fn probe_all(binaries: &[PathBuf], host: &Host) -> Vec<PhpSapi> {
    std::thread::scope(|scope| {
        let probes: Vec<_> = binaries
            .iter()
            .map(|b| scope.spawn(move || probe_binary(b, host)))
            .collect();
        probes
            .into_iter()
            .map(|p| p.join().expect("a probe does not panic"))
            .collect()
    })
}

/// `LoadModule php_module /usr/lib/apache2/modules/libphp8.2.so` lines Apache will read,
/// with whether its MPM runs threads.
fn apache_php_modules() -> Vec<(PathBuf, PathBuf, bool)> {
    let layouts = [
        (
            "/usr/sbin/apache2",
            "/etc/apache2",
            "/etc/apache2/mods-enabled",
        ),
        ("/usr/sbin/httpd", "/etc/httpd", "/etc/httpd/conf.modules.d"),
    ];
    let mut found = Vec::new();
    for (httpd, root, dir) in layouts {
        let Ok(entries) = fs::read_dir(dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        let mut modules = Vec::new();
        let mut threaded = false;
        for file in files {
            let Ok(text) = fs::read_to_string(&file) else {
                continue;
            };
            for line in text.lines() {
                let words: Vec<&str> = line.split_whitespace().collect();
                if let ["LoadModule", name, path] = words.as_slice() {
                    if name.starts_with("php") {
                        let path = Path::new(root).join(path.trim_matches('"'));
                        modules.push(path);
                    } else if name.starts_with("mpm_") && !name.starts_with("mpm_prefork") {
                        threaded = true;
                    }
                }
            }
        }
        for module in modules {
            found.push((PathBuf::from(httpd), module, threaded));
        }
    }
    found
}

/// `libphp8.2.so` -> `8.2`.
fn module_version(module: &Path) -> Option<String> {
    let name = file_name(module);
    let version = name.strip_prefix("libphp")?.strip_suffix(".so")?;
    (!version.is_empty()).then(|| version.to_string())
}

/// Apache's mod_php seen through the CLI of the same PHP; Debian keeps its ini files in
/// `/etc/php/X.Y/apache2`.
fn apache_sapis(clis: &[PhpSapi], host: &Host) -> Vec<PhpSapi> {
    let mut out = Vec::new();
    for (httpd, module, threaded) in apache_php_modules() {
        let version = module_version(&module);
        let same_php = |c: &&PhpSapi| {
            c.sapi == Sapi::Cli
                && c.info.as_ref().is_ok_and(|i| {
                    version.as_ref().is_none_or(|v| {
                        i.version
                            .as_ref()
                            .is_some_and(|iv| iv == v || iv.starts_with(&format!("{v}.")))
                    })
                })
        };
        // Prefer the distribution's CLI (Debian: scan dir /etc/php/X.Y/cli/conf.d) over
        // wrappers and private builds of the same version.
        let packaged = |c: &&PhpSapi| {
            version.as_ref().is_some_and(|v| {
                c.info.as_ref().is_ok_and(|i| {
                    i.scan_dir.as_deref() == Some(Path::new(&format!("/etc/php/{v}/cli/conf.d")))
                })
            })
        };
        let cli = clis
            .iter()
            .filter(same_php)
            .find(packaged)
            .or_else(|| clis.iter().find(same_php));
        let info = match cli {
            Some(cli) => {
                let mut info = cli.info.clone().expect("filtered on Ok");
                info.zts = threaded;
                info.server_api = Some("Apache 2.0 Handler".into());
                if let Some(v) = &version {
                    let dir = PathBuf::from(format!("/etc/php/{v}/apache2"));
                    if dir.is_dir() {
                        info.ini_file = Some(dir.join("php.ini")).filter(|f| f.is_file());
                        info.scan_dir = Some(dir.join("conf.d")).filter(|d| d.is_dir());
                    }
                }
                Ok(info)
            }
            None => Err(msg!("php-apache-no-cli", module = module.display())),
        };
        out.push(PhpSapi {
            binary: cli.map(|c| c.binary.clone()).unwrap_or_default(),
            sapi: Sapi::Apache,
            master: master_of(&httpd, host),
            server: Some((httpd, module)),
            info,
            listed: OnceLock::new(),
            cache: host.cache.clone(),
        });
    }
    out
}

/// Every PHP SAPI on the host.
pub fn detect(host: &Host) -> Vec<PhpSapi> {
    let mut sapis = probe_all(&find_binaries(host), host);
    let apache = apache_sapis(&sapis, host);
    sapis.extend(apache);
    sapis
}

/// The PHP instances an install, uninstall or doctor works on: `--php-bin` ones, else all.
pub fn resolve(target: &TargetSettings, host: &Host) -> Result<PhpGroup> {
    if target.home.is_some() || target.base.is_some() || target.pid.is_some() {
        return Err(Error::usage(
            msg!("php-target-flags"),
            msg!("php-target-flags-hint"),
        ));
    }
    if target.php_bins.is_empty() {
        let sapis = detect(host);
        if sapis.is_empty() {
            return Err(Error::usage(
                msg!("php-none-found"),
                msg!("php-none-found-hint"),
            ));
        }
        return Ok(PhpGroup { sapis });
    }
    let mut binaries = Vec::new();
    let mut servers = Vec::new();
    for bin in &target.php_bins {
        if !executable(bin) {
            return Err(Error::usage(
                msg!("php-bin-not-executable", path = bin.display()),
                msg!("php-bin-not-executable-hint"),
            ));
        }
        if is_httpd(bin) {
            servers.push(crate::os::canonicalize(bin).unwrap_or_else(|_| bin.clone()));
        } else {
            binaries.push(bin.clone());
        }
    }
    let mut sapis = probe_all(&binaries, host);
    if !servers.is_empty() {
        // mod_php is read through a CLI of the same PHP: the named ones, else the host's.
        let mut clis = sapis.clone();
        if apache_sapis(&clis, host).iter().any(|a| a.info.is_err()) {
            clis.extend(probe_all(&find_binaries(host), host));
        }
        let apache: Vec<PhpSapi> = apache_sapis(&clis, host)
            .into_iter()
            .filter(|a| {
                a.server.as_ref().is_some_and(|(httpd, _)| {
                    servers
                        .contains(&crate::os::canonicalize(httpd).unwrap_or_else(|_| httpd.clone()))
                })
            })
            .collect();
        if apache.is_empty() {
            return Err(Error::usage(
                msg!("php-apache-no-module", path = servers[0].display()),
                msg!("php-apache-no-module-hint"),
            ));
        }
        sapis.extend(apache);
    }
    Ok(PhpGroup { sapis })
}

/// `apache2`, `httpd`: `--php-bin` names Apache to mean its mod_php.
fn is_httpd(path: &Path) -> bool {
    let name = file_name(&crate::os::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()));
    name == "apache2" || name == "httpd"
}

/// Every PHP instance chosen for one command: planned, recorded and removed together.
pub struct PhpGroup {
    pub sapis: Vec<PhpSapi>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLI_I: &str = "phpinfo()\nPHP Version => 8.2.36\n\nSystem => Linux\nServer API => Command Line Interface\nConfiguration File (php.ini) Path => /etc/php/8.2/cli\nLoaded Configuration File => /etc/php/8.2/cli/php.ini\nScan this dir for additional .ini files => /etc/php/8.2/cli/conf.d\nPHP API => 20220829\nThread Safety => disabled\nextension_dir => /usr/lib/php/20220829 => /usr/lib/php/20220829\nPHP Version => 9.9.9\n";

    #[test]
    fn parses_cli_info() {
        let info = parse_info(CLI_I).unwrap();
        assert_eq!(info.api, "20220829");
        assert!(!info.zts);
        assert_eq!(info.version.as_deref(), Some("8.2.36"));
        assert_eq!(
            info.extension_dir,
            Some(PathBuf::from("/usr/lib/php/20220829"))
        );
        assert_eq!(
            info.ini_file,
            Some(PathBuf::from("/etc/php/8.2/cli/php.ini"))
        );
        assert_eq!(
            info.scan_dir,
            Some(PathBuf::from("/etc/php/8.2/cli/conf.d"))
        );
    }

    #[test]
    fn none_values_and_zts() {
        let text = "PHP API => 20100412\nThread Safety => enabled\nLoaded Configuration File => (none)\nScan this dir for additional .ini files => (none)\r\n";
        let info = parse_info(text).unwrap();
        assert!(info.zts);
        assert_eq!(info.ini_file, None);
        assert_eq!(info.scan_dir, None);
    }

    #[test]
    fn parses_cgi_html() {
        let html = "<tr><td class=\"e\">PHP API </td><td class=\"v\">20220829 </td></tr>\n<tr><td class=\"e\">Scan this dir for additional .ini files </td><td class=\"v\">/etc/php/8.2/cgi/conf.d </td></tr>\n<tr><td class=\"e\">extension_dir</td><td class=\"v\">/usr/lib/php/20220829</td><td class=\"v\">/usr/lib/php/20220829</td></tr>";
        let info = parse_info(html).unwrap();
        assert_eq!(info.api, "20220829");
        assert_eq!(
            info.scan_dir,
            Some(PathBuf::from("/etc/php/8.2/cgi/conf.d"))
        );
        assert_eq!(
            info.extension_dir,
            Some(PathBuf::from("/usr/lib/php/20220829"))
        );
    }

    #[test]
    fn garbage_has_no_api() {
        assert_eq!(parse_info(""), None);
        assert_eq!(parse_info("Segmentation fault\n"), None);
        assert_eq!(parse_info("PHP API => unknown\n"), None);
    }

    #[test]
    fn php_binary_names() {
        for ok in [
            "php",
            "php8.2",
            "php82",
            "php-fpm",
            "php-fpm8.2",
            "php-cgi7.4",
        ] {
            assert!(is_php_name(ok), "{ok}");
        }
        for bad in [
            "phpize",
            "php-config8.2",
            "phpdismod",
            "php-fpm.conf",
            "phpunit",
        ] {
            assert!(!is_php_name(bad), "{bad}");
        }
    }

    #[test]
    fn ini_set_without_an_active_whatap_line_needs_no_php() {
        let dir = tempfile::tempdir().unwrap();
        let ini = dir.path().join("php.ini");
        let scan = dir.path().join("conf.d");
        fs::create_dir(&scan).unwrap();
        fs::write(&ini, "[PHP]\nextension=opcache\n;extension=whatap.so\n").unwrap();
        fs::write(scan.join("20-pdo.ini"), "extension = pdo.so\n").unwrap();
        // Not `*.ini`, or a dangling link: PHP reads neither.
        fs::write(scan.join("whatap.ini.dpkg-old"), "extension=whatap.so\n").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("gone.ini"), scan.join("20-whatap.ini"))
            .unwrap();
        assert_eq!(ini_set_listed(&ini, Some(&scan)), Some(false));
        assert_eq!(ini_set_listed(&ini, None), Some(false));

        // Only PHP knows whether an active line's module loads, or where `${X}` points.
        for line in [
            "extension=whatap.so",
            " Extension = \"WhaTap\" ; ours",
            "zend_extension=/opt/whatap/whatap.so",
            "extension=${PHP_EXT}",
        ] {
            fs::write(scan.join("30-x.ini"), format!("{line}\r\n")).unwrap();
            assert_eq!(ini_set_listed(&ini, Some(&scan)), None, "{line}");
        }
        fs::write(scan.join("30-x.ini"), "whatap.license=x\n").unwrap();
        assert_eq!(ini_set_listed(&ini, Some(&scan)), Some(false));
        // Unreadable or missing: ask PHP.
        assert_eq!(ini_set_listed(&dir.path().join("none.ini"), None), None);
        assert_eq!(ini_set_listed(&ini, Some(&dir.path().join("none"))), None);
    }

    #[test]
    fn extension_lines() {
        assert_eq!(extension_line("extension=whatap.so"), Some(true));
        assert_eq!(extension_line(" ; extension = whatap"), Some(false));
        assert_eq!(extension_line("extension=opcache.so"), None);
        assert_eq!(extension_line(";; comment"), None);
    }
}
