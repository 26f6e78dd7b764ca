//! PHP: every PHP on the host (`php`, `phpX.Y`, `php-fpm*`, `php-cgi*` and Apache's mod_php),
//! one instance per binary and SAPI. What each PHP is comes from its own `-i` output, run
//! without a shell; the module goes into its extension_dir as `whatap.so` and `whatap.ini` into
//! each SAPI's scan dir (Debian: `mods-available` + a `conf.d` symlink), or a marked `[whatap]`
//! section at the end of php.ini when PHP has no scan dir.

use super::{AgentState, Detection, InstallPlan, Runtime, java};
use crate::detect::Host;
use crate::doctor::{self, Inspection};
use crate::edit::eol::{line_body, split_lines};
use crate::edit::marker::{self, InsertAt, MarkerStyle};
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::{Edit, Link, Plan, edits, target};
use crate::settings::{InstallSettings, TargetSettings, Toggle};
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const NAME: &str = "php";
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
    fn app_name(self) -> Option<&'static str> {
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    // Read both pipes on threads so a chatty PHP cannot block on a full pipe.
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
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > PROBE_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(msg!("php-probe-timeout", seconds = PROBE_TIMEOUT.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(e.to_string()),
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

/// `<binary> -i`, parsed; the error says why there is no PHP API.
pub fn probe(binary: &Path) -> std::result::Result<PhpInfo, String> {
    let ran = run(binary, &["-i"], &[])?;
    parse_info(&ran.stdout).ok_or_else(|| {
        let said = ran
            .stderr
            .lines()
            .chain(ran.stdout.lines())
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| msg!("php-no-output"));
        if ran.success {
            msg!("php-ran-no-api", binary = binary.display(), said = said)
        } else {
            msg!("php-failed-no-api", binary = binary.display(), said = said)
        }
    })
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
    fn roots(&self) -> Vec<PathBuf> {
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

    /// The binary whose `-m` tells what this SAPI loads, with the env that makes it read the
    /// SAPI's ini files (mod_php cannot be asked: the CLI of the same PHP reads Apache's).
    fn module_probe(&self) -> (PathBuf, Vec<String>, Vec<(String, String)>) {
        match (&self.server, &self.info) {
            (Some(_), Ok(info)) => {
                let mut args = vec!["-m".to_string()];
                if let Some(ini) = &info.ini_file {
                    args = vec!["-c".into(), ini.display().to_string(), "-m".into()];
                }
                let scan = info
                    .scan_dir
                    .as_ref()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default();
                (
                    self.binary.clone(),
                    args,
                    vec![("PHP_INI_SCAN_DIR".into(), scan)],
                )
            }
            _ => (self.binary.clone(), vec!["-m".into()], Vec::new()),
        }
    }

    /// Whether this SAPI loads the `whatap` module as configured now; None: cannot tell.
    pub fn loads_whatap(&self) -> Option<bool> {
        self.info.as_ref().ok()?;
        let (binary, args, env) = self.module_probe();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let ran = run(&binary, &args, &env).ok()?;
        Some(module_listed(&ran.stdout))
    }

    /// Loads `module` into this PHP with no ini at all; Err is PHP's own complaint.
    pub fn check_module(&self, module: &Path) -> std::result::Result<(), String> {
        if self.server.is_some() && self.info.as_ref().is_ok_and(|i| i.zts) {
            // The NTS CLI cannot load a ZTS module meant for a threaded Apache.
            return Ok(());
        }
        let extension = format!("extension={}", module.display());
        let ran = run(&self.binary, &["-n", "-d", &extension, "-m"], &[])?;
        if module_listed(&ran.stdout) {
            return Ok(());
        }
        let said: Vec<&str> = ran
            .stdout
            .lines()
            .chain(ran.stderr.lines())
            .map(str::trim)
            .filter(|l| {
                l.contains("compiled with")
                    || l.contains("Unable to load")
                    || l.contains("Unable to initialize")
                    || l.contains("Invalid library")
            })
            .collect();
        Err(if said.is_empty() {
            msg!("php-module-not-listed")
        } else {
            said.join("; ")
        })
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
            runtime: NAME.to_string(),
            version,
            home: self
                .server
                .as_ref()
                .map(|(httpd, _)| httpd.clone())
                .unwrap_or_else(|| self.binary.clone()),
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

fn module_listed(modules: &str) -> bool {
    modules.lines().any(|l| l.trim() == "whatap")
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

/// The same line switched on or off, keeping its indentation and spelling.
fn toggled(line: &str, toggle: Toggle) -> String {
    match (extension_line(line), toggle) {
        (Some(true), Toggle::Pause) => {
            let indent = line.len() - line.trim_start().len();
            format!("{};{}", &line[..indent], &line[indent..])
        }
        (Some(false), Toggle::Resume) => {
            let indent = line.len() - line.trim_start().len();
            let body = line[indent..].strip_prefix(';').unwrap_or(&line[indent..]);
            format!("{}{}", &line[..indent], body.trim_start())
        }
        _ => line.to_string(),
    }
}

fn toggle_bytes(content: &[u8], toggle: Toggle) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 1);
    for line in split_lines(content) {
        let body = line_body(line);
        let text = String::from_utf8_lossy(body);
        out.extend_from_slice(toggled(&text, toggle).as_bytes());
        out.extend_from_slice(&line[body.len()..]);
    }
    out
}

fn file_name(path: &Path) -> String {
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
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
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
        if !executable(&path) {
            continue;
        }
        let real = fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if !seen.contains(&real) {
            seen.push(real);
            found.push(path);
        }
    }
    found
}

/// The running master of `binary` (the oldest process running that file), if any.
fn master_of(binary: &Path, host: &Host) -> Option<u32> {
    let real = fs::canonicalize(binary).ok()?;
    host.processes
        .iter()
        .filter(|p| fs::read_link(format!("/proc/{}/exe", p.pid)).is_ok_and(|e| e == real))
        .map(|p| p.pid)
        .min()
}

/// One SAPI per binary, probed.
pub fn probe_binary(binary: &Path, host: &Host) -> PhpSapi {
    let info = probe(binary);
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
    }
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
        });
    }
    out
}

/// Every PHP SAPI on the host.
pub fn detect(host: &Host) -> Vec<PhpSapi> {
    let mut sapis: Vec<PhpSapi> = find_binaries(host)
        .iter()
        .map(|b| probe_binary(b, host))
        .collect();
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
    let mut sapis = Vec::new();
    let mut servers = Vec::new();
    for bin in &target.php_bins {
        if !executable(bin) {
            return Err(Error::usage(
                msg!("php-bin-not-executable", path = bin.display()),
                msg!("php-bin-not-executable-hint"),
            ));
        }
        if is_httpd(bin) {
            servers.push(fs::canonicalize(bin).unwrap_or_else(|_| bin.clone()));
        } else {
            sapis.push(probe_binary(bin, host));
        }
    }
    if !servers.is_empty() {
        // mod_php is read through a CLI of the same PHP: the named ones, else the host's.
        let mut clis = sapis.clone();
        if apache_sapis(&clis, host).iter().any(|a| a.info.is_err()) {
            clis.extend(find_binaries(host).iter().map(|b| probe_binary(b, host)));
        }
        let apache: Vec<PhpSapi> = apache_sapis(&clis, host)
            .into_iter()
            .filter(|a| {
                a.server.as_ref().is_some_and(|(httpd, _)| {
                    servers.contains(&fs::canonicalize(httpd).unwrap_or_else(|_| httpd.clone()))
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
    let name = file_name(&fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()));
    name == "apache2" || name == "httpd"
}

/// The module for this PHP from `--agent-archive DIR`: `whatap_<API>.so` or `whatap_zts_<API>.so`.
fn module_source(archive: Option<&Path>, sapi: &PhpSapi) -> Result<PathBuf> {
    let info = sapi.info()?;
    let name = if info.zts {
        format!("whatap_zts_{}.so", info.api)
    } else {
        format!("whatap_{}.so", info.api)
    };
    let Some(archive) = archive else {
        return Err(Error::usage(
            msg!("php-archive-required", module = name, label = sapi.label()),
            msg!("php-archive-required-hint"),
        ));
    };
    if !archive.is_dir() {
        return Err(Error::usage(
            msg!("agent-archive-not-dir", path = archive.display()),
            msg!("php-archive-not-dir-hint"),
        ));
    }
    // The vendor's packages keep the modules in a subdirectory (modules/x64).
    let found = walkdir_find(archive, &name, 3);
    found.ok_or_else(|| {
        let mut others = Vec::new();
        walkdir_collect(archive, 3, &mut others);
        let list = if others.is_empty() {
            msg!("php-modules-none")
        } else {
            others.join(", ")
        };
        Error::usage(
            msg!(
                "php-archive-no-module",
                path = archive.display(),
                module = name,
                label = sapi.label(),
                api = info.api,
                thread = if info.zts { "ZTS" } else { "NTS" },
                list = list
            ),
            msg!("php-archive-no-module-hint"),
        )
    })
}

fn walkdir_find(dir: &Path, name: &str, depth: usize) -> Option<PathBuf> {
    let direct = dir.join(name);
    if direct.is_file() {
        return Some(direct);
    }
    if depth == 0 {
        return None;
    }
    let mut subdirs: Vec<PathBuf> = fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    subdirs
        .iter()
        .find_map(|d| walkdir_find(d, name, depth - 1))
}

fn walkdir_collect(dir: &Path, depth: usize, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let name = file_name(&path);
        if path.is_dir() && depth > 0 {
            walkdir_collect(&path, depth - 1, out);
        } else if name.starts_with("whatap_") && name.ends_with(".so") {
            out.push(name);
        }
    }
}

/// The lines of whatap.ini (or of the php.ini section) for one SAPI.
fn ini_lines(settings: &InstallSettings, sapi: Option<&PhpSapi>, shared: bool) -> Vec<String> {
    let mut lines = vec![
        "; WhaTap PHP agent (written by `whatap install --runtime php`)".to_string(),
        format!("extension={MODULE_FILE}"),
        format!("whatap.license={}", settings.license),
        format!("whatap.server.host={}", settings.hosts.join("/")),
    ];
    if !shared {
        lines.extend(sapi.map(app_lines).unwrap_or_default());
    }
    lines.extend(settings.conf.iter().map(|(k, v)| format!("{k}={v}")));
    lines
}

/// The per-SAPI keys: app name and the process whose memory the agent reports.
fn app_lines(sapi: &PhpSapi) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(name) = sapi.sapi.app_name() {
        lines.push(format!("whatap.app_name={name}"));
        let process = match &sapi.server {
            Some((httpd, _)) => file_name(httpd),
            None => file_name(&sapi.binary),
        };
        lines.push(format!("whatap.app_process_name={process}"));
    }
    lines
}

fn with_newlines(lines: &[String]) -> Vec<u8> {
    let mut text = lines.join("\n");
    text.push('\n');
    text.into_bytes()
}

/// Adds `edit` unless the plan already writes that file; the same file planned twice with
/// different bytes (two SAPIs sharing a scan dir) keeps the first and says so.
fn push_edit(plan: &mut Plan, edit: Edit, warnings: &mut Vec<String>, who: &str) {
    match plan.edits.iter().find(|e| e.path == edit.path) {
        Some(existing) if existing.after != edit.after => warnings.push(msg!(
            "php-shared-file",
            path = edit.path.display(),
            who = who
        )),
        Some(_) => {}
        None => plan.edits.push(edit),
    }
}

fn plan_sapi(
    sapi: &PhpSapi,
    settings: &InstallSettings,
    plan: &mut Plan,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let info = sapi.info()?;
    let target = sapi.ini_target()?;
    let roots = sapi.roots();
    let label = sapi.label();
    let source = module_source(settings.agent_archive.as_deref(), sapi)?;
    sapi.check_module(&source).map_err(|why| {
        Error::usage(
            msg!(
                "php-module-does-not-load",
                path = source.display(),
                label = label,
                api = info.api,
                thread = if info.zts { "ZTS" } else { "NTS" },
                why = why
            ),
            msg!("php-module-does-not-load-hint"),
        )
    })?;
    let extension_dir = info.extension_dir.as_ref().ok_or_else(|| {
        Error::usage(
            msg!("php-no-extension-dir", label = label),
            msg!("php-no-extension-dir-hint"),
        )
    })?;
    if !extension_dir.is_dir() {
        return Err(Error::usage(
            msg!(
                "php-extension-dir-missing",
                label = label,
                path = extension_dir.display()
            ),
            msg!("php-extension-dir-missing-hint"),
        ));
    }
    let dest = extension_dir.join(MODULE_FILE);
    if let Some(other) = plan.edits.iter().find(|e| e.path == dest) {
        if other.after.as_deref() != crate::plan::target::peek(&source).ok().as_deref() {
            return Err(Error::usage(
                msg!("php-extension-dir-shared", path = dest.display()),
                msg!("php-extension-dir-shared-hint"),
            ));
        }
    }
    let stray = stray_extension_lines(sapi, &target);
    if !stray.is_empty() {
        return Err(Error::refused(
            msg!(
                "php-module-enabled-elsewhere",
                label = label,
                module = MODULE_FILE,
                places = stray.join("; ")
            ),
            msg!("php-module-enabled-elsewhere-hint"),
        ));
    }
    let link_dir = match &target {
        IniTarget::Debian { link, .. } => link.parent(),
        _ => None,
    };
    let dirs: Vec<&Path> = [
        Some(extension_dir.as_path()),
        target.extension_file().parent(),
        link_dir,
    ]
    .into_iter()
    .flatten()
    .collect();
    for dir in dirs {
        target::check_dir_writable(dir)?;
    }
    push_edit(plan, edits::copy(&source, &dest, &roots)?, warnings, &label);
    match &target {
        IniTarget::ScanDir { file } => {
            let lines = ini_lines(settings, Some(sapi), false);
            push_edit(
                plan,
                edits::whole(file, &roots, with_newlines(&lines), 0o644)?,
                warnings,
                &label,
            );
        }
        IniTarget::Debian { shared, link, app } => {
            let lines = ini_lines(settings, None, true);
            push_edit(
                plan,
                edits::whole(shared, &roots, with_newlines(&lines), 0o644)?,
                warnings,
                &label,
            );
            plan_link(link, shared, plan)?;
            let app_lines = app_lines(sapi);
            if !app_lines.is_empty() {
                push_edit(
                    plan,
                    edits::whole(app, &roots, with_newlines(&app_lines), 0o644)?,
                    warnings,
                    &label,
                );
            }
        }
        IniTarget::PhpIni { file } => {
            let mut inner = vec!["[whatap]".to_string()];
            inner.extend(ini_lines(settings, Some(sapi), false));
            let edit = edits::block(file, &roots, MarkerStyle::Ini, &inner, InsertAt::End)?;
            push_edit(plan, edit, warnings, &label);
        }
    }
    Ok(())
}

/// Active `extension=whatap.so` lines PHP reads outside the files this install manages
/// (a vendor install.sh's whatap.ini, a hand edit of php.ini): `file:line: text`.
fn stray_extension_lines(sapi: &PhpSapi, target: &IniTarget) -> Vec<String> {
    let Ok(info) = &sapi.info else {
        return Vec::new();
    };
    let ours: Vec<PathBuf> = match target {
        IniTarget::ScanDir { file } => vec![file.clone()],
        IniTarget::Debian { shared, link, app } => vec![shared.clone(), link.clone(), app.clone()],
        IniTarget::PhpIni { .. } => Vec::new(),
    };
    let mut files: Vec<PathBuf> = info.ini_file.iter().cloned().collect();
    if let Some(entries) = info.scan_dir.as_ref().and_then(|d| fs::read_dir(d).ok()) {
        let mut inis: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "ini"))
            .collect();
        inis.sort();
        files.extend(inis);
    }
    let mut found = Vec::new();
    for file in files.iter().filter(|f| !ours.contains(f)) {
        let Ok(content) = crate::plan::target::peek(file) else {
            continue;
        };
        let block = marker::find_block(&content, MarkerStyle::Ini)
            .ok()
            .flatten();
        for (i, line) in split_lines(&content).iter().enumerate() {
            let text = String::from_utf8_lossy(line_body(line));
            let inside = block.is_some_and(|b| i >= b.start && i <= b.end);
            if !inside && extension_line(&text) == Some(true) {
                found.push(format!("{}:{}: {}", file.display(), i + 1, text.trim()));
            }
        }
    }
    found
}

/// Debian's conf.d symlink to mods-available, as phpenmod makes it.
fn plan_link(link: &Path, target_file: &Path, plan: &mut Plan) -> Result<()> {
    let wanted = Link {
        path: link.to_path_buf(),
        target: target_file.to_path_buf(),
    };
    if wanted.is_in_place() || plan.links.contains(&wanted) {
        return Ok(());
    }
    if fs::symlink_metadata(link).is_ok() {
        return Err(Error::refused(
            msg!(
                "php-link-foreign",
                path = link.display(),
                target = target_file.display()
            ),
            msg!("php-link-foreign-hint"),
        ));
    }
    plan.links.push(wanted);
    Ok(())
}

fn plan_toggle(
    sapi: &PhpSapi,
    toggle: Toggle,
    plan: &mut Plan,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let target = sapi.ini_target()?;
    let roots = sapi.roots();
    let roots = roots.as_slice();
    let file = target.extension_file();
    let not_installed = || {
        Error::usage(
            msg!(
                "php-toggle-not-installed",
                flag = toggle.flag(),
                label = sapi.label(),
                module = MODULE_FILE,
                path = file.display()
            ),
            msg!("php-toggle-not-installed-hint"),
        )
    };
    if sapi.extension_state().is_none() {
        return Err(not_installed());
    }
    let edit = match &target {
        IniTarget::PhpIni { file } => {
            let content = crate::plan::target::peek(file).map_err(|e| Error::io(file, e))?;
            let span = marker::find_block(&content, MarkerStyle::Ini)
                .map_err(|e| edits::broken_block(file, &e))?
                .ok_or_else(not_installed)?;
            let inner: Vec<String> = marker::block_inner(&content, span)
                .iter()
                .map(|l| toggled(l, toggle))
                .collect();
            edits::block(file, roots, MarkerStyle::Ini, &inner, InsertAt::End)?
        }
        _ => {
            let content = crate::plan::target::peek(file).map_err(|e| Error::io(file, e))?;
            edits::whole(file, roots, toggle_bytes(&content, toggle), 0o644)?
        }
    };
    push_edit(plan, edit, warnings, &sapi.label());
    Ok(())
}

/// The guide's service script, which reads these `export` lines to find PHP and the module.
const SERVICE_SCRIPT: &str = "/etc/init.d/whatap-php";

/// Fills `export WHATAP_PHP_BIN=` / `WHATAP_PHP_EXT_HOME=` / `WHATAP_PHP_EXT_SRC=` in the
/// whatap-php service script when it is installed; lines it lacks are not appended (after
/// the script's `case` they would never run).
fn plan_service_env(
    group: &PhpGroup,
    settings: &InstallSettings,
    plan: &mut Plan,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let script = Path::new(SERVICE_SCRIPT);
    if !script.is_file() {
        return Ok(());
    }
    let Some(cli) = group
        .sapis
        .iter()
        .find(|s| s.sapi == Sapi::Cli && s.server.is_none())
    else {
        warnings.push(msg!("php-service-no-cli", script = SERVICE_SCRIPT));
        return Ok(());
    };
    let info = cli.info()?;
    let source = module_source(settings.agent_archive.as_deref(), cli)?;
    let values = [
        ("export WHATAP_PHP_BIN", Some(cli.binary.clone())),
        ("export WHATAP_PHP_EXT_HOME", info.extension_dir.clone()),
        ("export WHATAP_PHP_EXT_SRC", Some(source)),
    ];
    let roots = target::owned_roots(&[script.parent().unwrap_or(Path::new("/"))]);
    let existing = crate::edit::conf::parse(
        &crate::plan::target::peek(script).map_err(|e| Error::io(script, e))?,
    );
    let mut keys = Vec::new();
    for (key, value) in values {
        match value {
            Some(value) if existing.contains_key(key) => {
                let value = value.display().to_string();
                java::check_plain(key, &value, MarkerStyle::Shell)?;
                keys.push((key.to_string(), value));
            }
            _ => warnings.push(msg!(
                "php-service-no-key",
                script = SERVICE_SCRIPT,
                key = key
            )),
        }
    }
    if !keys.is_empty() {
        let mut edit = edits::keys(script, &roots, &keys, 0o755)?;
        edit.validation = crate::plan::Validation::Shell;
        plan.edits.push(edit);
    }
    Ok(())
}

fn restart_hint(sapi: &PhpSapi) -> Option<String> {
    let name = match &sapi.server {
        Some((httpd, _)) => file_name(httpd),
        None => file_name(&sapi.binary),
    };
    match sapi.sapi {
        Sapi::Cli | Sapi::Cgi => None,
        Sapi::Fpm => {
            let unit = name.strip_prefix("php-fpm").map(|v| format!("php{v}-fpm"));
            Some(msg!(
                "php-restart-fpm",
                binary = sapi.binary.display(),
                unit = unit.unwrap_or(name)
            ))
        }
        Sapi::Apache => Some(msg!("php-restart-apache", name = name)),
    }
}

/// Every PHP instance chosen for one command: planned, recorded and removed together.
pub struct PhpGroup {
    pub sapis: Vec<PhpSapi>,
}

impl Runtime for PhpGroup {
    fn kind(&self) -> &'static str {
        NAME
    }

    /// One ledger record for all PHP on the host: `--pause`/`--resume` and reinstalls with
    /// another `--php-bin` set update it, and `uninstall --runtime php` reverses everything.
    fn id(&self) -> String {
        NAME.to_string()
    }

    fn target(&self) -> PathBuf {
        self.sapis
            .first()
            .map(|s| s.detection().home)
            .unwrap_or_default()
    }

    fn detection(&self) -> Detection {
        self.sapis
            .first()
            .map(PhpSapi::detection)
            .expect("a PHP group is never empty")
    }

    fn plan_install(&self, settings: &InstallSettings) -> Result<InstallPlan> {
        let mut plan = Plan::default();
        let mut warnings = Vec::new();
        match settings.toggle {
            None => {
                // A broken PHP among the chosen ones stops everything before anything is written.
                for sapi in &self.sapis {
                    sapi.info()?;
                }
                for sapi in &self.sapis {
                    plan_sapi(sapi, settings, &mut plan, &mut warnings)?;
                }
                plan_service_env(self, settings, &mut plan, &mut warnings)?;
            }
            Some(toggle) => {
                // Switching the agent off must work even when another PHP is broken or was
                // never set up: those are skipped with a warning.
                let mut first_error = None;
                for sapi in &self.sapis {
                    if let Err(error) = plan_toggle(sapi, toggle, &mut plan, &mut warnings) {
                        warnings.push(msg!(
                            "php-sapi-skipped",
                            label = sapi.label(),
                            error = error
                        ));
                        first_error.get_or_insert(error);
                    }
                }
                if plan.edits.is_empty() {
                    if let Some(error) = first_error {
                        return Err(error);
                    }
                }
            }
        }
        let mut next_steps: Vec<String> = self.sapis.iter().filter_map(restart_hint).collect();
        next_steps.dedup();
        if settings.toggle.is_none() && Path::new("/etc/init.d/whatap-php").exists() {
            next_steps.push(msg!("php-restart-service"));
        }
        Ok(InstallPlan {
            plan,
            method: settings
                .toggle
                .map(|t| t.flag().to_string())
                .unwrap_or_else(|| "ini".to_string()),
            next_steps,
            warnings,
        })
    }

    fn inspect(&self) -> Inspection {
        let mut out = Inspection::default();
        for sapi in &self.sapis {
            let found = doctor::php::inspect(sapi);
            out.facts.extend(found.facts);
            out.udp_ports.extend(found.udp_ports);
        }
        // Every SAPI talks to the same agent: one port, checked once.
        out.udp_ports.dedup_by(|a, b| a.1 == b.1);
        out
    }

    fn selector(&self) -> String {
        "--runtime php".to_string()
    }
}

impl Runtime for PhpSapi {
    fn kind(&self) -> &'static str {
        NAME
    }

    fn id(&self) -> String {
        NAME.to_string()
    }

    fn target(&self) -> PathBuf {
        self.detection().home
    }

    fn detection(&self) -> Detection {
        PhpSapi::detection(self)
    }

    fn plan_install(&self, settings: &InstallSettings) -> Result<InstallPlan> {
        PhpGroup {
            sapis: vec![self.clone()],
        }
        .plan_install(settings)
    }

    fn inspect(&self) -> Inspection {
        doctor::php::inspect(self)
    }

    fn selector(&self) -> String {
        "--runtime php".to_string()
    }
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
    fn pause_and_resume_are_inverses() {
        let original =
            b"; c\r\nextension=whatap.so\r\nwhatap.license=x\r\n  extension = \"whatap.so\"";
        let paused = toggle_bytes(original, Toggle::Pause);
        assert_eq!(
            paused,
            b"; c\r\n;extension=whatap.so\r\nwhatap.license=x\r\n  ;extension = \"whatap.so\""
        );
        assert_eq!(toggle_bytes(&paused, Toggle::Pause), paused);
        assert_eq!(toggle_bytes(&paused, Toggle::Resume), original);
        assert_eq!(toggle_bytes(original, Toggle::Resume), original);
    }

    #[test]
    fn extension_lines() {
        assert_eq!(extension_line("extension=whatap.so"), Some(true));
        assert_eq!(extension_line(" ; extension = whatap"), Some(false));
        assert_eq!(extension_line("extension=opcache.so"), None);
        assert_eq!(extension_line(";; comment"), None);
    }

    /// Every upstream php.ini in the shared corpus: the [whatap] section inserted, replaced,
    /// paused, resumed and removed gives back the exact bytes.
    #[test]
    fn corpus_php_ini_round_trips() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/php-ini");
        let Ok(entries) = fs::read_dir(&corpus) else {
            eprintln!("SKIPPED: no php.ini corpus at {}", corpus.display());
            return;
        };
        let inner: Vec<String> = [
            "[whatap]",
            "extension=whatap.so",
            "whatap.license=x41pl22ek7jhv",
            "whatap.server.host=127.0.0.1",
        ]
        .map(String::from)
        .to_vec();
        let mut checked = 0;
        for entry in entries.flatten() {
            let original = fs::read(entry.path()).unwrap();
            let name = entry.file_name();
            let installed =
                marker::insert_block(&original, MarkerStyle::Ini, &inner, InsertAt::End);
            let span = marker::find_block(&installed, MarkerStyle::Ini)
                .unwrap()
                .expect("block");
            assert_eq!(
                marker::replace_block(&installed, span, MarkerStyle::Ini, &inner),
                installed,
                "{name:?}: install twice != once"
            );
            let paused: Vec<String> = marker::block_inner(&installed, span)
                .iter()
                .map(|l| toggled(l, Toggle::Pause))
                .collect();
            assert!(paused.contains(&";extension=whatap.so".to_string()));
            let resumed: Vec<String> = paused.iter().map(|l| toggled(l, Toggle::Resume)).collect();
            assert_eq!(resumed, inner, "{name:?}: resume != install");
            assert_eq!(
                marker::remove_block(&installed, span),
                original,
                "{name:?}: not byte-identical"
            );
            checked += 1;
        }
        assert!(checked > 0);
    }
}
