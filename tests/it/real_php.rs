//! End to end on Debian's real PHP 8.2 (CLI, FPM, Apache mod_php) with a real `whatap`
//! extension built by phpize from tests/php-ext (the stand-in for the proprietary whatap.so).
//! The tests that change the host's /etc/php hold `host::HOST_PHP` exclusively and restore it
//! with a Drop guard, the other installs hold it shared; PHP-FPM and Apache are private
//! instances on free loopback ports, never the system services.

use crate::common::{
    LICENSE, LICENSE_TAIL, assert_same_tree, finding_ids, free_port, host, must_have, php_api,
    php_stub_agent, php_stub_archive, php_stub_archive_with_agent, php_stub_module, repo,
    tree_bytes, whatap,
};
use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PHP: &str = "/usr/bin/php8.2";
const FPM: &str = "/usr/sbin/php-fpm8.2";
const APACHE: &str = "/usr/sbin/apache2";
const MOD_PHP: &str = "/usr/lib/apache2/modules/libphp8.2.so";
const ETC_PHP: &str = "/etc/php/8.2";

fn have_php() -> bool {
    must_have(
        "php8.2-cli + php8.2-dev (phpize)",
        Path::new(PHP).exists() && Path::new("/usr/bin/phpize8.2").exists(),
    )
}

fn install_args(archive: &Path) -> Vec<String> {
    vec![
        "install".into(),
        "--runtime".into(),
        "php".into(),
        "--license".into(),
        LICENSE.into(),
        "--host".into(),
        "127.0.0.1".into(),
        "--agent-archive".into(),
        archive.display().to_string(),
        "--yes".into(),
        "--json".into(),
    ]
}

fn json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not listen on {port}");
}

/// A server process that is stopped when the test ends, whatever happens.
struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        // SAFETY: signalling our own child by its id.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The probe page both servers run: is whatap loaded, with which app name, in which SAPI.
const PROBE: &str = "<?php echo json_encode(['loaded' => extension_loaded('whatap'), 'app' => ini_get('whatap.app_name'), 'sapi' => PHP_SAPI]);\n";

/// Web root readable by www-data (Apache's children).
fn web_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(dir.path().join("probe.php"), PROBE).unwrap();
    fs::set_permissions(
        dir.path().join("probe.php"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    dir
}

/// A private PHP-FPM master with one pool on a loopback port; reads Debian's fpm ini files.
fn start_fpm(dir: &Path, port: u16) -> Server {
    let conf = dir.join("fpm.conf");
    fs::write(
        &conf,
        format!(
            "[global]\npid = {d}/fpm.pid\nerror_log = {d}/fpm.log\ndaemonize = no\n\
             [probe]\nuser = www-data\ngroup = www-data\nlisten = 127.0.0.1:{port}\n\
             pm = static\npm.max_children = 1\n",
            d = dir.display()
        ),
    )
    .unwrap();
    spawn_server(
        Command::new(FPM).arg("-F").arg("-y").arg(&conf),
        port,
        "php-fpm",
    )
}

/// Starts a server in its own process group (prefork signals its whole group on shutdown)
/// and waits until it listens on `port`.
fn spawn_server(command: &mut Command, port: u16, what: &str) -> Server {
    let mut child = command
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port, &mut child, what);
    Server { child }
}

/// A private Apache (prefork + mod_php) on a loopback port; reads Debian's apache2 ini files.
fn start_apache(dir: &Path, root: &Path, port: u16) -> Server {
    let modules = "/usr/lib/apache2/modules";
    let conf = dir.join("httpd.conf");
    fs::write(
        &conf,
        format!(
            "ServerRoot {d}\nDefaultRuntimeDir {d}\nMutex file:{d}\nPidFile {d}/httpd.pid\n\
             ErrorLog {d}/error.log\nListen 127.0.0.1:{port}\nServerName 127.0.0.1\n\
             LoadModule mpm_prefork_module {modules}/mod_mpm_prefork.so\n\
             LoadModule authz_core_module {modules}/mod_authz_core.so\n\
             LoadModule php_module {MOD_PHP}\n\
             User www-data\nGroup www-data\nStartServers 1\nMinSpareServers 1\nMaxSpareServers 2\n\
             DocumentRoot {r}\n<Directory {r}>\n  Require all granted\n</Directory>\n\
             <FilesMatch \"\\.php$\">\n  SetHandler application/x-httpd-php\n</FilesMatch>\n",
            d = dir.display(),
            r = root.display(),
        ),
    )
    .unwrap();
    spawn_server(
        Command::new(APACHE)
            .arg("-DFOREGROUND")
            .arg("-f")
            .arg(&conf),
        port,
        "apache2",
    )
}

fn http_get(port: u16, path: &str) -> String {
    // A freshly started Apache may reset its first connections while its children come up
    // (seen once in CI): the request is retried for a while, then the last error fails.
    let deadline = Instant::now() + Duration::from_secs(15);
    let response = loop {
        match http_request(port, path) {
            Ok(response) => break response,
            Err(e) if Instant::now() < deadline => {
                eprintln!("GET {path} on {port}: {e}; retrying");
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("GET {path} on {port}: {e}"),
        }
    };
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
        "{response}"
    );
    body.to_string()
}

fn http_request(port: u16, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

fn fcgi_record(kind: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![1, kind, 0, 1];
    out.extend_from_slice(&(content.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(content);
    out
}

fn fcgi_length(out: &mut Vec<u8>, len: usize) {
    if len < 128 {
        out.push(len as u8);
    } else {
        out.extend_from_slice(&((len as u32) | 0x8000_0000).to_be_bytes());
    }
}

/// A minimal FastCGI client: one GET of `script`, returns what PHP wrote to stdout.
fn fcgi_get(port: u16, script: &Path) -> String {
    let mut params = Vec::new();
    let script_name = format!("/{}", script.file_name().unwrap().to_string_lossy());
    for (key, value) in [
        ("SCRIPT_FILENAME", script.display().to_string()),
        ("SCRIPT_NAME", script_name.clone()),
        ("REQUEST_URI", script_name),
        ("REQUEST_METHOD", "GET".to_string()),
        ("SERVER_PROTOCOL", "HTTP/1.1".to_string()),
        ("GATEWAY_INTERFACE", "CGI/1.1".to_string()),
    ] {
        fcgi_length(&mut params, key.len());
        fcgi_length(&mut params, value.len());
        params.extend_from_slice(key.as_bytes());
        params.extend_from_slice(value.as_bytes());
    }
    let mut request = fcgi_record(1, &[0, 1, 0, 0, 0, 0, 0, 0]); // BEGIN_REQUEST, responder
    request.extend(fcgi_record(4, &params));
    request.extend(fcgi_record(4, &[]));
    request.extend(fcgi_record(5, &[]));
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(&request).unwrap();
    let mut stdout = Vec::new();
    loop {
        let mut header = [0u8; 8];
        stream.read_exact(&mut header).unwrap();
        let len = u16::from_be_bytes([header[4], header[5]]) as usize;
        let mut content = vec![0u8; len + header[6] as usize];
        stream.read_exact(&mut content).unwrap();
        match header[1] {
            6 => stdout.extend_from_slice(&content[..len]),
            3 => break,
            _ => {}
        }
    }
    let text = String::from_utf8_lossy(&stdout).into_owned();
    text.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or(text)
}

fn probe_json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("probe said {body:?}: {e}"))
}

fn cli_modules() -> String {
    let out = Command::new(PHP).arg("-m").output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn lists_whatap(modules: &str) -> bool {
    modules.lines().any(|l| l.trim() == "whatap")
}

/// Puts /etc/php/8.2 and the module dir back as they were, even when the test fails.
struct HostPhpGuard {
    etc: BTreeMap<PathBuf, Vec<u8>>,
    module: PathBuf,
    module_before: Option<Vec<u8>>,
}

impl HostPhpGuard {
    fn new() -> HostPhpGuard {
        let module = PathBuf::from(format!("/usr/lib/php/{}/whatap.so", php_api()));
        HostPhpGuard {
            etc: tree_bytes(Path::new(ETC_PHP)),
            module_before: fs::read(&module).ok(),
            module,
        }
    }
}

impl Drop for HostPhpGuard {
    fn drop(&mut self) {
        let root = Path::new(ETC_PHP);
        let now = tree_bytes(root);
        for (rel, bytes) in &now {
            if self.etc.get(rel) != Some(bytes) && !rel.as_os_str().to_string_lossy().ends_with('/')
            {
                let _ = fs::remove_file(root.join(rel));
            }
        }
        for (rel, bytes) in &self.etc {
            let path = root.join(rel);
            if now.get(rel) == Some(bytes) || rel.as_os_str().to_string_lossy().ends_with('/') {
                continue;
            }
            // tree_bytes keeps a symlink as its target text; everything under /etc/php that
            // links, links into mods-available.
            if path.parent().is_some_and(|p| p.ends_with("conf.d")) {
                let _ = std::os::unix::fs::symlink(String::from_utf8_lossy(bytes).as_ref(), &path);
            } else {
                let _ = fs::write(&path, bytes);
            }
        }
        match &self.module_before {
            Some(bytes) => {
                let _ = fs::write(&self.module, bytes);
            }
            None => {
                let _ = fs::remove_file(&self.module);
            }
        }
    }
}

fn have_servers() -> bool {
    must_have("php8.2-fpm", Path::new(FPM).exists())
        && must_have(
            "apache2 + libapache2-mod-php8.2",
            Path::new(APACHE).exists() && Path::new(MOD_PHP).exists(),
        )
}

struct Servers {
    _fpm: Server,
    _apache: Server,
    fpm_port: u16,
    apache_port: u16,
}

fn start_servers(run: &Path, www: &Path) -> Servers {
    let fpm_port = free_port();
    let apache_port = free_port();
    Servers {
        _fpm: start_fpm(run, fpm_port),
        _apache: start_apache(run, www, apache_port),
        fpm_port,
        apache_port,
    }
}

/// (cli, fpm, apache) probe results: loaded, app name.
fn loaded_everywhere(run: &Path, www: &Path) -> [(bool, String); 3] {
    let servers = start_servers(run, www);
    let fpm = probe_json(&fcgi_get(servers.fpm_port, &www.join("probe.php")));
    let apache = probe_json(&http_get(servers.apache_port, "/probe.php"));
    assert_eq!(fpm["sapi"], "fpm-fcgi");
    assert_eq!(apache["sapi"], "apache2handler");
    let pick = |v: &serde_json::Value| {
        (
            v["loaded"].as_bool().unwrap(),
            v["app"].as_str().unwrap_or_default().to_string(),
        )
    };
    [
        (lists_whatap(&cli_modules()), String::new()),
        pick(&fpm),
        pick(&apache),
    ]
}

/// Whether Apache's mod_php loads whatap, three ways that must agree: `whatap detect` without a
/// state dir (nothing cached: it reads Apache's ini files itself and asks PHP only when they
/// cannot tell), the CLI reading those files (`-c` + `PHP_INI_SCAN_DIR`), and the real Apache
/// (`served`, from its probe page).
fn assert_apache_seen_alike(served: bool) {
    let none = tempfile::tempdir().unwrap();
    let report = whatap_ok(&none.path().join("none"), ["detect"]);
    let apache = report["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["details"]["sapi"] == "apache2")
        .unwrap_or_else(|| panic!("no mod_php in {report}"));
    let cli = Command::new(PHP)
        .args(["-c", &format!("{ETC_PHP}/apache2/php.ini"), "-m"])
        .env("PHP_INI_SCAN_DIR", format!("{ETC_PHP}/apache2/conf.d"))
        .output()
        .unwrap();
    let cli = lists_whatap(&String::from_utf8_lossy(&cli.stdout));
    assert_eq!(
        (apache["agent"] == "loaded", cli),
        (served, served),
        "detect's mod_php {apache}, the CLI with Apache's ini files and Apache itself disagree"
    );
}

/// `whatap ARGS` with a private state dir.
fn whatap_run<S: AsRef<std::ffi::OsStr>>(
    state: &Path,
    args: impl IntoIterator<Item = S>,
) -> std::process::Output {
    whatap(state).args(args).output().unwrap()
}

/// `whatap ARGS --json`, which must succeed: its JSON document.
fn whatap_ok<S: AsRef<std::ffi::OsStr>>(
    state: &Path,
    args: impl IntoIterator<Item = S>,
) -> serde_json::Value {
    let mut args: Vec<std::ffi::OsString> =
        args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    if !args.iter().any(|a| a == "--json") {
        args.push("--json".into());
    }
    let out = whatap_run(state, &args);
    assert!(
        out.status.success(),
        "whatap {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out)
}

/// A private PHP's install touches only its own temp dir, never the host's /etc/php.
fn assert_files_under(report: &serde_json::Value, dir: &Path) {
    for file in report["files"].as_array().unwrap() {
        let path = PathBuf::from(file["path"].as_str().unwrap());
        assert!(
            path.starts_with(dir),
            "{} is outside {}",
            path.display(),
            dir.display()
        );
    }
}

fn php_args<'a>(first: &'a [&'a str], bins: &'a [&'a str]) -> Vec<&'a str> {
    first.iter().chain(bins).copied().collect()
}

/// The whatap-php agent our service runs: its PID from the service's pidfile, if it runs (its
/// binary may be gone already: `/proc/PID/exe` then ends in " (deleted)").
fn agent_pid(home: &Path) -> Option<u32> {
    let pid: u32 = fs::read_to_string("/run/whatap-php.pid")
        .ok()?
        .trim()
        .parse()
        .ok()?;
    runs(pid, &home.join("whatap_php")).then_some(pid)
}

/// Whether process `pid` runs the program `exe`.
fn runs(pid: u32, exe: &Path) -> bool {
    fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|link| {
        let link = link.to_string_lossy();
        Path::new(link.strip_suffix(" (deleted)").unwrap_or(&link)) == exe
    })
}

/// The agent service a test's install sets up. Dropped, even when the test fails, it stops the
/// service as uninstall would (the undo step the ledger recorded: `whatap-php stop`), kills
/// any stub daemon still running from the test's agent home (by the pidfile or the PID the test
/// saw), and removes the service script: a daemon left running would break the next PHP test.
struct AgentService {
    script: PathBuf,
    home: PathBuf,
    seen: std::cell::Cell<Option<u32>>,
}

impl AgentService {
    fn new(home: &Path) -> AgentService {
        AgentService {
            script: PathBuf::from("/etc/init.d/whatap-php"),
            home: home.to_path_buf(),
            seen: std::cell::Cell::new(None),
        }
    }

    /// The running agent (remembered for Drop).
    fn running(&self) -> Option<u32> {
        let pid = agent_pid(&self.home);
        if pid.is_some() {
            self.seen.set(pid);
        }
        pid
    }

    /// The agent a service start just launched: start-stop-daemon --background returns before
    /// the daemon has exec'd (its pidfile may name start-stop-daemon's child for a moment).
    fn started(&self) -> Option<u32> {
        crate::common::wait_for(Duration::from_secs(10), || self.running().is_some());
        self.running()
    }
}

impl Drop for AgentService {
    fn drop(&mut self) {
        let ours = fs::read_to_string(&self.script)
            .is_ok_and(|t| t.contains(&format!("WHATAP_HOME={}\n", self.home.display())));
        if ours {
            let _ = Command::new(&self.script)
                .arg("stop")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let exe = self.home.join("whatap_php");
        for pid in [agent_pid(&self.home), self.seen.get()]
            .into_iter()
            .flatten()
        {
            if runs(pid, &exe) {
                // SAFETY: kill(2) on the stub daemon this test's install started.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            }
        }
        let _ = fs::remove_file(&self.script);
        let _ = fs::remove_file("/run/whatap-php.pid");
    }
}

/// A UDP port nobody holds right now (the agent's net_udp_port, never the shared 6600).
fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Debian's PHP CLI, FPM and Apache with the stub extension and the stub agent daemon: the
/// install writes the guide's whatap.ini keys, sets up the whatap-php service (an init.d script
/// run through start-stop-daemon on this host) and starts the agent; the app answers with the
/// module loaded in every SAPI, the agent listens, doctor is clean (and says
/// php-agent-not-running when the agent is stopped); pause/resume; uninstall stops the agent and
/// gives every byte back.
#[test]
fn cli_fpm_and_apache_install_pause_resume_uninstall() {
    if !have_php() || !have_servers() {
        return;
    }
    let _serial = host::HOST_PHP.exclusive();
    let guard = HostPhpGuard::new();
    let before = guard.etc.clone();
    let archive = php_stub_archive_with_agent();
    let state = tempfile::tempdir().unwrap();
    let state = state.path();
    let run = web_root();
    let www = web_root();
    let agent_dir = tempfile::tempdir().unwrap();
    let agent_home = agent_dir.path().join("php");
    let service = AgentService::new(&agent_home);
    assert!(
        !service.script.exists(),
        "a whatap-php service script is already installed"
    );
    let udp = free_udp_port();
    let bins = ["--php-bin", PHP, "--php-bin", FPM, "--php-bin", APACHE];
    let install_for = |bins: &[&str]| -> Vec<String> {
        install_args(archive.path())
            .into_iter()
            .chain(bins.iter().map(|b| b.to_string()))
            .chain([
                "--whatap-home".to_string(),
                agent_home.display().to_string(),
            ])
            .chain(["--set".to_string(), format!("net_udp_port={udp}")])
            .collect()
    };
    let install = install_for(&bins);
    let loaded = || loaded_everywhere(run.path(), www.path());
    let none = |found: &[(bool, String); 3]| found.iter().all(|(loaded, _)| !loaded);

    assert!(none(&loaded()), "whatap loaded before install");
    assert_apache_seen_alike(false);

    // The CLI and Apache first: FPM does not load it, and doctor says so.
    let first = whatap_ok(state, install_for(&["--php-bin", PHP, "--php-bin", APACHE])).to_string();
    assert!(!first.contains(LICENSE) && first.contains(LICENSE_TAIL));
    let script = fs::read_to_string(&service.script).unwrap();
    for line in [
        format!("export WHATAP_HOME={}", agent_home.display()),
        format!("export WHATAP_PHP_BIN={PHP}"),
        format!("export WHATAP_PHP_EXT_HOME=/usr/lib/php/{}", php_api()),
        format!("export WHATAP_CONFIG_HOME={ETC_PHP}/mods-available"),
    ] {
        assert!(
            script.contains(&format!("{line}\n")),
            "{line} not in {script}"
        );
    }
    let agent = service
        .started()
        .expect("the service started no whatap_php");
    let boot = crate::common::wait_for(Duration::from_secs(10), || {
        fs::read_dir(agent_home.join("logs"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                fs::read_to_string(e.path())
                    .is_ok_and(|t| t.contains(&format!("Net UDP: Listener localhost:{udp}")))
            })
    });
    assert!(boot, "the agent (PID {agent}) did not listen on UDP {udp}");
    let (code, ids) = doctor_php(state, Path::new(FPM));
    assert_eq!(
        (code, ids),
        (Some(1), vec!["php-module-not-loaded".to_string()])
    );

    // A running FPM master older than the install: doctor says restart.
    let old_fpm = start_fpm(run.path(), free_port());
    // Start times from /proc are exact to a second; make "older" unambiguous.
    std::thread::sleep(Duration::from_millis(1500));
    let report = whatap_ok(state, &install);
    assert_eq!(report["changed"], true);
    assert!(!report.to_string().contains(LICENSE));
    let shared = PathBuf::from(format!("{ETC_PHP}/mods-available/whatap.ini"));
    let ini = fs::read_to_string(&shared).unwrap();
    for key in [
        "whatap.ext.error_enabled=true",
        "whatap.ext.exception_enabled=true",
        "whatap.trace_user_enabled=true",
        "whatap.trace_user_using_ip=false",
        &format!("whatap.net_udp_port={udp}"),
    ] {
        assert!(ini.contains(key), "{key} not in {ini}");
    }
    for sapi in ["cli", "fpm", "apache2"] {
        let link = PathBuf::from(format!("{ETC_PHP}/{sapi}/conf.d/20-whatap.ini"));
        assert_eq!(fs::read_link(&link).unwrap(), shared);
    }
    let (_, ids) = doctor_php(state, Path::new(FPM));
    assert_eq!(ids, ["php-restart-needed"]);
    drop(old_fpm);

    let again = whatap_ok(state, &install);
    assert_eq!(again["changed"], false, "second install changed something");
    assert!(service.running().is_some(), "the agent stopped");

    let [cli, fpm, apache] = loaded();
    assert!(cli.0, "php -m does not list whatap after install");
    assert_eq!(fpm, (true, "FPHP".to_string()));
    assert_eq!(apache, (true, "APHP".to_string()));
    assert_apache_seen_alike(true);
    let doctor_all = || {
        finding_ids(&json(&whatap_run(
            state,
            php_args(
                &["doctor", "--runtime", "php", "--no-network", "--json"],
                &bins,
            ),
        )))
    };
    assert_eq!(doctor_all(), Vec::<String>::new());

    // The agent stopped: one finding for every SAPI; started again: clean.
    let stop = Command::new(&service.script).arg("stop").status().unwrap();
    assert!(stop.success());
    assert!(crate::common::wait_for(Duration::from_secs(10), || {
        agent_pid(&agent_home).is_none()
    }));
    assert_eq!(doctor_all(), ["php-agent-not-running"]);
    let start = Command::new(&service.script).arg("start").status().unwrap();
    assert!(start.success());
    assert!(crate::common::wait_for(Duration::from_secs(10), || {
        service.running().is_some()
    }));
    assert_eq!(doctor_all(), Vec::<String>::new());

    whatap_ok(
        state,
        php_args(&["install", "--runtime", "php", "--pause", "--yes"], &bins),
    );
    assert!(none(&loaded()), "still loaded after --pause");
    assert_apache_seen_alike(false);
    whatap_ok(
        state,
        php_args(&["install", "--runtime", "php", "--resume", "--yes"], &bins),
    );
    assert!(
        loaded().iter().all(|(l, _)| *l),
        "not loaded after --resume"
    );

    let agent = service.running();
    whatap_ok(state, ["uninstall", "--runtime", "php", "--yes"]);
    assert!(
        !service.script.exists(),
        "the service script is left behind"
    );
    assert!(
        crate::common::wait_for(Duration::from_secs(10), || {
            agent.is_none_or(|pid| {
                fs::read(format!("/proc/{pid}/cmdline")).map_or(true, |c| c.is_empty())
            })
        }),
        "uninstall did not stop the agent"
    );
    assert!(!agent_home.join("whatap_php").exists());
    assert_same_tree(
        &tree_bytes(Path::new(ETC_PHP)),
        &before,
        "/etc/php/8.2 after uninstall",
    );
    assert_eq!(
        fs::read(&guard.module).ok(),
        guard.module_before,
        "whatap.so left behind"
    );
    assert!(!lists_whatap(&cli_modules()));
}

/// The vendor's package tree: the agent's home usr/whatap/php with the stub daemon and the stub
/// module (modules/x64/whatap_<API>.so), its template.ini, and a /usr/bin link to the daemon
/// (packages hold links; the install leaves them out).
fn package_tree(root: &Path) {
    let home = root.join("usr/whatap/php");
    let modules = home.join("modules/x64");
    fs::create_dir_all(&modules).unwrap();
    fs::copy(php_stub_agent(), home.join("whatap_php")).unwrap();
    let module = php_stub_module();
    fs::copy(&module, modules.join(module.file_name().unwrap())).unwrap();
    fs::write(home.join("template.ini"), "whatap.license=\n").unwrap();
    fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::os::unix::fs::symlink("../whatap/php/whatap_php", root.join("usr/bin/whatap_php"))
        .unwrap();
}

fn run_ok(command: &mut Command) {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A real whatap-php .deb built by `dpkg-deb --build` (data.tar.xz, dpkg's default).
fn whatap_php_deb(dir: &Path) -> PathBuf {
    let root = dir.join("deb");
    package_tree(&root);
    fs::create_dir_all(root.join("DEBIAN")).unwrap();
    fs::write(
        root.join("DEBIAN/control"),
        "Package: whatap-php\nVersion: 2.7.0\nArchitecture: amd64\nMaintainer: Test <test@example.com>\nDescription: stand-in for the WhaTap PHP agent\n",
    )
    .unwrap();
    let deb = dir.join("whatap-php_2.7.0_amd64.deb");
    run_ok(
        Command::new("dpkg-deb")
            .args(["--root-owner-group", "-Zxz", "--build"])
            .arg(&root)
            .arg(&deb),
    );
    deb
}

/// A real whatap-php .rpm built by `rpmbuild` with a zstd payload (Debian's rpm writes gzip
/// unless told; RHEL's and Fedora's write xz or zstd).
fn whatap_php_rpm(dir: &Path) -> PathBuf {
    let tree = dir.join("rpm-tree");
    package_tree(&tree);
    let spec = dir.join("whatap-php.spec");
    fs::write(
        &spec,
        format!(
            "Name: whatap-php\nVersion: 2.7.0\nRelease: 1\nSummary: stand-in\nLicense: Proprietary\n\
             %define debug_package %{{nil}}\n%define __os_install_post %{{nil}}\n\
             %description\nstand-in for the WhaTap PHP agent\n\
             %install\ncp -a {}/. %{{buildroot}}/\n\
             %files\n/usr/whatap/php\n/usr/bin/whatap_php\n",
            tree.display()
        ),
    )
    .unwrap();
    let top = dir.join("rpmbuild");
    run_ok(
        Command::new("rpmbuild")
            .args(["-bb", "--nodeps", "--quiet", "--define"])
            .arg(format!("_topdir {}", top.display()))
            .args(["--define", "_binary_payload w19.zstdio"])
            .arg(&spec),
    );
    let rpms = top.join("RPMS");
    let arch = fs::read_dir(&rpms).unwrap().next().unwrap().unwrap().path();
    fs::read_dir(arch).unwrap().next().unwrap().unwrap().path()
}

/// The vendor's whatap-php .deb and .rpm, real packages built by dpkg-deb and rpmbuild, given
/// as `--agent-archive` to an install on Debian's PHP CLI and FPM: the module and the agent
/// daemon come out of the package (xz and zstd payloads), the agent runs, both SAPIs load the
/// module, doctor is clean; uninstall stops the agent and gives every byte back.
#[test]
fn vendor_deb_and_rpm_packages_install_the_module_and_the_agent() {
    if !have_php()
        || !have_servers()
        || !must_have(
            "dpkg-deb + rpmbuild (dpkg, rpm) + xz + zstd",
            [
                "/usr/bin/dpkg-deb",
                "/usr/bin/rpmbuild",
                "/usr/bin/xz",
                "/usr/bin/zstd",
            ]
            .iter()
            .all(|p| Path::new(p).exists()),
        )
    {
        return;
    }
    let _serial = host::HOST_PHP.exclusive();
    let guard = HostPhpGuard::new();
    let before = guard.etc.clone();
    let packages = tempfile::tempdir().unwrap();
    let run = web_root();
    let www = web_root();
    for package in [
        whatap_php_deb(packages.path()),
        whatap_php_rpm(packages.path()),
    ] {
        let what = package.file_name().unwrap().to_string_lossy().into_owned();
        let state = tempfile::tempdir().unwrap();
        let state = state.path();
        let agent_dir = tempfile::tempdir().unwrap();
        let agent_home = agent_dir.path().join("php");
        let service = AgentService::new(&agent_home);
        assert!(
            !service.script.exists(),
            "a whatap-php service is installed"
        );
        let bins = ["--php-bin", PHP, "--php-bin", FPM];
        let install: Vec<String> = install_args(&package)
            .into_iter()
            .chain(bins.iter().map(|b| b.to_string()))
            .chain(["--whatap-home".into(), agent_home.display().to_string()])
            .chain(["--set".into(), format!("net_udp_port={}", free_udp_port())])
            .collect();
        whatap_ok(state, &install);
        assert!(service.started().is_some(), "{what}: no whatap_php runs");
        assert_eq!(
            fs::read(agent_home.join("whatap_php")).unwrap(),
            fs::read(php_stub_agent()).unwrap(),
            "{what}: the agent daemon is not the package's"
        );
        assert_eq!(
            fs::read(&guard.module).unwrap(),
            fs::read(php_stub_module()).unwrap(),
            "{what}: whatap.so is not the package's"
        );
        assert!(lists_whatap(&cli_modules()), "{what}: php -m");
        let servers = start_servers(run.path(), www.path());
        let fpm = probe_json(&fcgi_get(servers.fpm_port, &www.path().join("probe.php")));
        assert_eq!(fpm["loaded"], true, "{what}: FPM did not load whatap");
        drop(servers);
        let doctor = whatap_run(
            state,
            php_args(
                &["doctor", "--runtime", "php", "--no-network", "--json"],
                &bins,
            ),
        );
        assert_eq!(finding_ids(&json(&doctor)), Vec::<String>::new(), "{what}");
        assert_eq!(
            whatap_ok(state, &install)["changed"],
            false,
            "{what}: twice"
        );

        let agent = service.running();
        whatap_ok(state, ["uninstall", "--runtime", "php", "--yes"]);
        assert!(
            crate::common::wait_for(Duration::from_secs(10), || {
                agent.is_none_or(|pid| !runs(pid, &agent_home.join("whatap_php")))
            }),
            "{what}: uninstall did not stop the agent"
        );
        assert!(!service.script.exists(), "{what}: service script left");
        assert_same_tree(
            &tree_bytes(Path::new(ETC_PHP)),
            &before,
            &format!("/etc/php/8.2 after uninstalling {what}"),
        );
        assert_eq!(fs::read(&guard.module).ok(), guard.module_before, "{what}");
    }
}

/// The guide's whatap-php service script as the package installs it: empty `export` lines that
/// install fills, the agent run by start-stop-daemon from /usr/whatap/php.
const PACKAGE_SERVICE_SCRIPT: &str = "#!/bin/sh
export WHATAP_HOME=/usr/whatap/php
export WHATAP_PHP_BIN=
export WHATAP_PHP_EXT_HOME=
export WHATAP_PHP_EXT_SRC=
export WHATAP_CONFIG_HOME=
DAEMON=$WHATAP_HOME/whatap_php
PIDFILE=/run/whatap-php.pid
case \"$1\" in
  start) start-stop-daemon --start --quiet --oknodo --background --make-pidfile --pidfile $PIDFILE --chdir $WHATAP_HOME --exec $DAEMON ;;
  stop) start-stop-daemon --stop --quiet --oknodo --retry TERM/5/KILL/5 --pidfile $PIDFILE --exec $DAEMON; rm -f $PIDFILE ;;
  restart) \"$0\" stop && \"$0\" start ;;
esac
";

/// A signed apt repository in the vendor's layout (`<root>/debian/release.gpg`, the flat
/// `debian/unstable/` with InRelease, Packages and the .debs), served on 127.0.0.1.
fn apt_repository(dir: &Path, debs: &[PathBuf]) -> crate::common::http::Server {
    let gnupg = dir.join("gnupg");
    fs::create_dir_all(&gnupg).unwrap();
    fs::set_permissions(&gnupg, fs::Permissions::from_mode(0o700)).unwrap();
    let gpg = |args: &[&str]| {
        let out = Command::new("gpg")
            .env("GNUPGHOME", &gnupg)
            .args(["--batch", "--quiet", "--yes", "--passphrase", ""])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    gpg(&[
        "--quick-gen-key",
        "whatap test <test@example.com>",
        "ed25519",
        "sign",
        "never",
    ]);
    let suite = dir.join("debian/unstable");
    fs::create_dir_all(&suite).unwrap();
    for deb in debs {
        fs::copy(deb, suite.join(deb.file_name().unwrap())).unwrap();
    }
    let scan = Command::new("dpkg-scanpackages")
        .args(["unstable", "/dev/null"])
        .current_dir(dir.join("debian"))
        .output()
        .unwrap();
    assert!(scan.status.success());
    let packages = scan.stdout;
    let release = format!(
        "Origin: test\nSuite: unstable\nDate: Thu, 01 Jan 2026 00:00:00 UTC\nSHA256:\n {} {} Packages\n",
        crate::common::http::sha256(&packages),
        packages.len()
    );
    fs::write(suite.join("Release"), &release).unwrap();
    gpg(&[
        "--clearsign",
        "-o",
        "debian/unstable/InRelease",
        "debian/unstable/Release",
    ]);
    let server = crate::common::http::Server::start();
    server.put("/debian/release.gpg", &gpg(&["--armor", "--export"]), None);
    server.put(
        "/debian/unstable/InRelease",
        &fs::read(suite.join("InRelease")).unwrap(),
        None,
    );
    server.put("/debian/unstable/Packages", &packages, None);
    for deb in debs {
        let name = deb.file_name().unwrap().to_string_lossy();
        server.put(
            &format!("/debian/unstable/{name}"),
            &fs::read(deb).unwrap(),
            None,
        );
    }
    server
}

/// Purges the whatap-php package a test left installed (the one it installed by hand, or
/// uninstall's when the test failed before it) and the agent home it leaves (logs).
struct PackageGuard;

impl Drop for PackageGuard {
    fn drop(&mut self) {
        let _ = Command::new("dpkg")
            .args(["--purge", "whatap-php"])
            .output();
        let _ = fs::remove_dir_all("/usr/whatap/php");
        let _ = fs::remove_dir("/usr/whatap");
    }
}

/// dpkg knows whatap-php as installed.
fn package_installed() -> bool {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Status}", "whatap-php"])
        .output()
        .unwrap();
    out.status.success() && out.stdout == b"installed"
}

/// `--install-package` on Debian: the vendor's repository (a real signed apt repository on
/// 127.0.0.1 through `--package-repo`) gives whatap-php to a real `apt-get`, run as the
/// commands the install showed, with the sources list, key and package lists in the state dir
/// only (the host's apt configuration is the same after). A repository without the package
/// stops at that command with apt's own words (exit 4, nothing written). With the package, the
/// install fills its service script's exports, the agent runs, the CLI loads the module,
/// doctor is clean; uninstall (its dry run shows the purge and runs nothing) stops the agent,
/// gives /etc/php and the script back byte for byte, then purges the package with the same
/// apt options: dpkg no longer has it, none of its files is left (only the agent's own logs),
/// /etc/apt is unchanged. A package that was installed before `--install-package` stays.
#[test]
fn install_package_runs_apt_get_against_the_vendor_repository() {
    if !have_php()
        || !must_have(
            "dpkg-deb + dpkg-scanpackages (dpkg-dev) + gpg + apt-get",
            [
                "/usr/bin/dpkg-deb",
                "/usr/bin/dpkg-scanpackages",
                "/usr/bin/gpg",
                "/usr/bin/apt-get",
            ]
            .iter()
            .all(|p| Path::new(p).exists()),
        )
    {
        return;
    }
    let _serial = host::HOST_PHP.exclusive();
    let installed = Command::new("dpkg")
        .args(["-s", "whatap-php"])
        .output()
        .unwrap();
    if installed.status.success() || Path::new("/usr/whatap/php").exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "whatap-php is installed on this host"
        );
        eprintln!("SKIPPED: whatap-php is installed on this host");
        return;
    }
    let guard = HostPhpGuard::new();
    let before = guard.etc.clone();
    let apt_before = tree_bytes(Path::new("/etc/apt"));
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("deb");
    package_tree(&root);
    fs::create_dir_all(root.join("etc/init.d")).unwrap();
    fs::write(root.join("etc/init.d/whatap-php"), PACKAGE_SERVICE_SCRIPT).unwrap();
    fs::set_permissions(
        root.join("etc/init.d/whatap-php"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    fs::create_dir_all(root.join("DEBIAN")).unwrap();
    fs::write(
        root.join("DEBIAN/control"),
        "Package: whatap-php\nVersion: 2.7.0\nArchitecture: all\nMaintainer: Test <test@example.com>\nDescription: stand-in for the WhaTap PHP agent\n",
    )
    .unwrap();
    let deb = dir.path().join("whatap-php_2.7.0_all.deb");
    run_ok(
        Command::new("dpkg-deb")
            .args(["--root-owner-group", "--build"])
            .arg(&root)
            .arg(&deb),
    );
    let state = dir.path().join("state");
    let udp = free_udp_port();
    let install = |repo: &str| -> Vec<String> {
        [
            "install",
            "--runtime",
            "php",
            "--license",
            LICENSE,
            "--host",
            "127.0.0.1",
            "--php-bin",
            PHP,
            "--install-package",
            "--package-repo",
            repo,
            "--yes",
            "--json",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain(["--set".to_string(), format!("net_udp_port={udp}")])
        .collect()
    };

    // A repository without the package: apt-get install fails, and says why.
    let empty = apt_repository(&dir.path().join("empty"), &[]);
    let out = whatap_run(&state, install(&empty.url("")));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(
        text.contains("install whatap-php") && text.contains("Unable to locate package whatap-php"),
        "{text}"
    );
    assert_same_tree(
        &tree_bytes(Path::new(ETC_PHP)),
        &before,
        "/etc/php/8.2 after a failed package install",
    );

    let _package = PackageGuard;
    let service = AgentService::new(Path::new("/usr/whatap/php"));
    let repo = apt_repository(&dir.path().join("repo"), std::slice::from_ref(&deb));
    let dry = whatap_run(
        &state,
        install(&repo.url(""))
            .into_iter()
            .chain(["--dry-run".to_string()]),
    );
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let steps = json(&dry)["package_steps"].to_string();
    assert!(
        steps.contains("DEBIAN_FRONTEND=noninteractive /usr/bin/apt-get -q -y"),
        "{steps}"
    );
    assert!(
        !Path::new("/usr/whatap/php").exists(),
        "a dry run installed the package"
    );

    let report = whatap_ok(&state, install(&repo.url("")));
    assert_eq!(report["changed"], true);
    let script = fs::read_to_string(&service.script).unwrap();
    assert!(
        script.contains(&format!("export WHATAP_PHP_BIN={PHP}\n")),
        "{script}"
    );
    assert!(
        service.started().is_some(),
        "the package's service started no agent"
    );
    assert!(lists_whatap(&cli_modules()), "php -m does not list whatap");
    let doctor = whatap_run(
        &state,
        [
            "doctor",
            "--runtime",
            "php",
            "--no-network",
            "--json",
            "--php-bin",
            PHP,
        ],
    );
    assert_eq!(finding_ids(&json(&doctor)), Vec::<String>::new());
    // Installed: a second run installs nothing and changes nothing.
    assert_eq!(whatap_ok(&state, install(&repo.url("")))["changed"], false);

    let uninstall = ["uninstall", "--runtime", "php", "--yes", "--json"];
    let dry = whatap_ok(&state, uninstall.iter().chain(&["--dry-run"]));
    let purge = "DEBIAN_FRONTEND=noninteractive /usr/bin/apt-get -q -y -o Dir::Etc::SourceList=";
    let run = dry["run"].to_string();
    assert!(
        run.contains(purge) && run.contains("purge whatap-php"),
        "{run}"
    );
    assert!(package_installed(), "a dry run removed the package");

    let agent = service.running();
    let report = whatap_ok(&state, uninstall);
    assert!(
        report["run"].to_string().contains("purge whatap-php"),
        "{report}"
    );
    assert!(
        crate::common::wait_for(Duration::from_secs(10), || {
            agent.is_none_or(|pid| !runs(pid, Path::new("/usr/whatap/php/whatap_php")))
        }),
        "uninstall did not stop the agent"
    );
    assert!(!package_installed(), "uninstall left whatap-php installed");
    assert!(!service.script.exists(), "the package's script is left");
    assert!(fs::symlink_metadata("/usr/bin/whatap_php").is_err());
    // The agent's logs are its own, not the package's: dpkg keeps them, so does uninstall.
    let left = tree_bytes(Path::new("/usr/whatap/php"));
    let left: Vec<&PathBuf> = left.keys().filter(|p| !p.starts_with("logs")).collect();
    assert_eq!(left, Vec::<&PathBuf>::new(), "package files left");
    assert!(!Path::new("/usr/whatap/php/modules").exists());
    assert_same_tree(
        &tree_bytes(Path::new(ETC_PHP)),
        &before,
        "/etc/php/8.2 after uninstall",
    );
    assert_same_tree(&tree_bytes(Path::new("/etc/apt")), &apt_before, "/etc/apt");

    // Installed before (by hand): the install runs no apt and uninstall leaves the package.
    run_ok(Command::new("dpkg").arg("-i").arg(&deb));
    let state = dir.path().join("state-preinstalled");
    let report = whatap_ok(&state, install(&repo.url("")));
    assert_eq!(report["changed"], true);
    let dry = whatap_ok(&state, uninstall.iter().chain(&["--dry-run"]));
    assert!(!dry["run"].to_string().contains("purge"), "{dry}");
    let report = whatap_ok(&state, uninstall);
    assert!(!report["run"].to_string().contains("purge"), "{report}");
    assert!(
        package_installed(),
        "uninstall removed a package it did not install"
    );
    assert_eq!(
        fs::read_to_string(&service.script).unwrap(),
        PACKAGE_SERVICE_SCRIPT
    );
    assert_same_tree(
        &tree_bytes(Path::new(ETC_PHP)),
        &before,
        "/etc/php/8.2 after the second uninstall",
    );
}

/// A test that fails with the stub agent daemon running must not leave it behind for the next
/// PHP test: the AgentService guard stops it, also when its binary is already gone (a failed
/// uninstall's half) and its pidfile too.
#[test]
fn a_failed_test_leaves_no_agent_daemon_behind() {
    if !have_php() {
        return;
    }
    let _serial = host::HOST_PHP.exclusive();
    let _guard = HostPhpGuard::new();
    let dir = tempfile::tempdir().unwrap();
    let (_, php) = php_with_ini(dir.path(), "[PHP]\n");
    let archive = php_stub_archive_with_agent();
    let state = tempfile::tempdir().unwrap();
    let agent_home = dir.path().join("agent");
    let mut pid = None;
    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let service = AgentService::new(&agent_home);
        let mut install = install_args(archive.path());
        install.extend([
            "--php-bin".into(),
            php.display().to_string(),
            "--whatap-home".into(),
            agent_home.display().to_string(),
            "--set".into(),
            format!("net_udp_port={}", free_udp_port()),
        ]);
        whatap_ok(state.path(), &install);
        pid = service.started();
        assert!(pid.is_some(), "the install started no agent");
        fs::remove_file(agent_home.join("whatap_php")).unwrap();
        fs::remove_file("/run/whatap-php.pid").unwrap();
        panic!("the test fails here, with the agent running");
    }));
    assert!(failed.is_err());
    let pid = pid.expect("no agent was started");
    let exe = agent_home.join("whatap_php");
    assert!(
        crate::common::wait_for(Duration::from_secs(10), || !runs(pid, &exe)),
        "the stub daemon {pid} outlived the failed test"
    );
}

/// An installed whatap-php package keeps its own service script: install fills the guide's
/// export lines (WHATAP_CONFIG_HOME included) and restarts it; uninstall stops it and gives the
/// script back byte for byte.
#[test]
fn the_package_service_script_gets_the_guides_exports() {
    if !have_php() {
        return;
    }
    let _serial = host::HOST_PHP.exclusive();
    let dir = tempfile::tempdir().unwrap();
    let (_, php) = php_with_ini(dir.path(), "[PHP]\n");
    let calls = dir.path().join("calls");
    let service = AgentService::new(&dir.path().join("none"));
    assert!(!service.script.exists());
    let original = format!(
        "#!/bin/sh\nexport WHATAP_PHP_BIN=\nexport WHATAP_PHP_EXT_HOME=\nexport WHATAP_PHP_EXT_SRC=\nexport WHATAP_CONFIG_HOME=\ncase \"$1\" in\n  *) echo \"$1 $WHATAP_PHP_BIN\" >> {} ;;\nesac\n",
        calls.display()
    );
    fs::write(&service.script, &original).unwrap();
    fs::set_permissions(&service.script, fs::Permissions::from_mode(0o755)).unwrap();
    let archive = php_stub_archive();
    let state = tempfile::tempdir().unwrap();
    let out = install_php(state.path(), archive.path(), &php);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let script = fs::read_to_string(&service.script).unwrap();
    for line in [
        format!("export WHATAP_PHP_BIN={}", php.display()),
        format!(
            "export WHATAP_PHP_EXT_HOME={}",
            dir.path().join("ext").display()
        ),
        // No scan dir: the agent reads the whatap.ini written into its home.
        "export WHATAP_CONFIG_HOME=/usr/whatap/php".to_string(),
    ] {
        assert!(
            script.contains(&format!("{line}\n")),
            "{line} not in {script}"
        );
    }
    assert_eq!(
        fs::read_to_string(&calls).unwrap(),
        format!("restart {}\n", php.display())
    );
    whatap_ok(
        state.path(),
        [
            "uninstall".as_ref(),
            "--runtime".as_ref(),
            "php".as_ref(),
            "--yes".as_ref(),
            "--php-bin".as_ref(),
            php.as_os_str(),
        ],
    );
    assert_eq!(fs::read_to_string(&service.script).unwrap(), original);
    assert!(
        fs::read_to_string(&calls)
            .unwrap()
            .ends_with(&format!("stop {}\n", php.display()))
    );
}

/// Without any agent the guide's package commands are printed; flags that mean nothing for
/// PHP are refused instead of ignored; `--cypher-level` is `whatap.cypher_level`.
#[test]
fn no_agent_prints_the_package_commands_and_java_flags_are_refused() {
    if !have_php() {
        return;
    }
    let _php = host::HOST_PHP.shared();
    let dir = tempfile::tempdir().unwrap();
    let (ini, php) = php_with_ini(dir.path(), "[PHP]\n");
    let archive = php_stub_archive();
    let state = tempfile::tempdir().unwrap();
    let before = tree_bytes(dir.path());
    for flag in [
        &["--port", "8080"][..],
        &["--oname", "x"],
        &["--latest-jar"],
        &["--python", "/usr/bin/python3"],
    ] {
        let mut args: Vec<std::ffi::OsString> = install_args(archive.path())
            .into_iter()
            .map(Into::into)
            .collect();
        args.extend(["--php-bin".into(), php.as_os_str().to_owned()]);
        args.extend(flag.iter().map(Into::into));
        let text = assert_refused(
            &whatap_run(state.path(), args),
            2,
            &format!("{} means nothing for PHP", flag[0]),
        );
        assert!(text.contains("--set KEY=VALUE"), "{text}");
    }
    assert_same_tree(&tree_bytes(dir.path()), &before, "after refusals");
    if Path::new("/etc/init.d/whatap-php").exists() {
        eprintln!("SKIPPED: a whatap-php service is installed on this host");
        return;
    }
    let mut args: Vec<std::ffi::OsString> = install_args(archive.path())
        .into_iter()
        .map(Into::into)
        .collect();
    args.extend(["--php-bin".into(), php.as_os_str().to_owned()]);
    args.extend(["--cypher-level".into(), "256".into()]);
    let report = whatap_ok(state.path(), args);
    let next = report["next_steps"].to_string();
    assert!(next.contains("sudo apt-get install whatap-php"), "{next}");
    assert!(
        report["warnings"]
            .to_string()
            .contains("no whatap-php agent")
    );
    let text = fs::read_to_string(&ini).unwrap();
    assert!(text.contains("\nwhatap.cypher_level=256\n"), "{text}");
    assert!(!text.contains("\ncypher_level"), "{text}");
}

/// A PHP that reads only `dir/php.ini` (no scan dir) with its own extension_dir.
fn private_php(dir: &Path, ini_args: &str) -> PathBuf {
    let ext = dir.join("ext");
    fs::create_dir_all(&ext).unwrap();
    let wrapper = dir.join("php");
    fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nPHP_INI_SCAN_DIR= exec {PHP} {ini_args} -d extension_dir={} \"$@\"\n",
            ext.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).unwrap();
    wrapper
}

/// A private PHP reading `dir/php.ini`, written with `text` first: (php.ini, the PHP).
fn php_with_ini(dir: &Path, text: impl AsRef<[u8]>) -> (PathBuf, PathBuf) {
    let ini = dir.join("php.ini");
    fs::write(&ini, text).unwrap();
    let php = private_php(dir, &format!("-c {}", ini.display()));
    (ini, php)
}

/// Whether PHP 8.2 itself accepts this php.ini (5.x/7.x files set directives 8.x removed).
fn php_accepts(php: &Path) -> bool {
    Command::new(php)
        .args(["-r", ""])
        .output()
        .is_ok_and(|o| o.status.success() && !String::from_utf8_lossy(&o.stderr).contains("Fatal"))
}

/// Every corpus php.ini through the binary, with the real PHP 8.2 reading it (no scan dir):
/// install appends a [whatap] section PHP loads the module from, install twice == once,
/// pause/resume switch it, uninstall gives the original bytes back. A file PHP 8.2 refuses
/// to start with is refused as "Not found PHP API" with nothing written. (The edit engine's
/// round trip of every corpus file, with no PHP involved, is a unit test in runtimes::php.)
#[test]
fn every_corpus_php_ini_round_trips_without_a_scan_dir() {
    if !have_php() {
        return;
    }
    let _php = host::HOST_PHP.shared();
    let archive = php_stub_archive();
    let corpus = repo().join("../shared/corpus/php-ini");
    if !must_have(
        "the php.ini corpus (../shared/corpus/php-ini)",
        corpus.is_dir(),
    ) {
        return;
    }
    let mut files: Vec<PathBuf> = fs::read_dir(&corpus)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let mut accepted = 0;
    for original in &files {
        let dir = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let state = state.path();
        let bytes = fs::read(original).unwrap();
        let (ini, php) = php_with_ini(dir.path(), &bytes);
        let name = original.file_name().unwrap().to_string_lossy().into_owned();
        let bins = ["--php-bin", php.to_str().unwrap()];
        let install: Vec<String> = install_args(archive.path())
            .into_iter()
            .chain(bins.map(String::from))
            .collect();
        let loads = || {
            let modules = Command::new(&php).arg("-m").output().unwrap();
            lists_whatap(&String::from_utf8_lossy(&modules.stdout))
        };

        if !php_accepts(&php) {
            assert_refused(&whatap_run(state, &install), 2, "Error: Not found PHP API");
            assert_eq!(fs::read(&ini).unwrap(), bytes, "{name}: touched on refusal");
            assert!(!dir.path().join("ext/whatap.so").exists(), "{name}");
            continue;
        }
        accepted += 1;
        assert_files_under(&whatap_ok(state, &install), dir.path());
        let installed = fs::read(&ini).unwrap();
        assert!(
            installed.starts_with(&bytes),
            "{name}: original bytes not kept in front"
        );
        let tail = String::from_utf8_lossy(&installed[bytes.len()..]).into_owned();
        assert!(
            tail.contains("[whatap]") && tail.contains("extension=whatap.so"),
            "{name}"
        );
        assert!(loads(), "{name}: not loaded");
        whatap_ok(
            state,
            php_args(&["install", "--runtime", "php", "--pause", "--yes"], &bins),
        );
        assert!(!loads(), "{name}: loaded after --pause");
        whatap_ok(
            state,
            php_args(&["install", "--runtime", "php", "--resume", "--yes"], &bins),
        );
        assert!(loads(), "{name}: not loaded after --resume");
        assert_eq!(
            fs::read(&ini).unwrap(),
            installed,
            "{name}: resume != install"
        );

        let again = whatap_ok(state, &install);
        assert_eq!(
            again["changed"], false,
            "{name}: second install changed something"
        );
        assert_eq!(
            fs::read(&ini).unwrap(),
            installed,
            "{name}: install twice != once"
        );

        whatap_ok(
            state,
            php_args(&["uninstall", "--runtime", "php", "--yes"], &bins),
        );
        assert_eq!(
            fs::read(&ini).unwrap(),
            bytes,
            "{name}: not byte-identical after uninstall"
        );
        assert!(
            !dir.path().join("ext/whatap.so").exists(),
            "{name}: module left behind"
        );
    }
    assert!(accepted > 0, "PHP 8.2 accepted none of the corpus files");
}

/// Refused with `code`, saying `says` and a hint (in the JSON error document on stdout).
fn assert_refused(out: &std::process::Output, code: i32, says: &str) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(code), "{text}");
    assert!(text.contains(says), "expected {says:?} in: {text}");
    assert!(text.contains("\"hint\": \""), "no hint: {text}");
    text
}

/// `whatap doctor` for one PHP binary: exit code and finding ids.
fn doctor_php(state: &Path, php: &Path) -> (Option<i32>, Vec<String>) {
    let out = whatap_run(
        state,
        [
            "doctor".as_ref(),
            "--runtime".as_ref(),
            "php".as_ref(),
            "--no-network".as_ref(),
            "--json".as_ref(),
            "--php-bin".as_ref(),
            php.as_os_str(),
        ],
    );
    (out.status.code(), finding_ids(&json(&out)))
}

/// `install` with the stub archive `archive` for the PHP binary `php`.
fn install_php(state: &Path, archive: &Path, php: &Path) -> std::process::Output {
    let mut args: Vec<std::ffi::OsString> =
        install_args(archive).into_iter().map(Into::into).collect();
    args.extend(["--php-bin".into(), php.as_os_str().to_owned()]);
    whatap_run(state, args)
}

#[test]
fn broken_php_on_path_is_refused_and_diagnosed() {
    if !have_php() {
        return;
    }
    let archive = php_stub_archive();
    let state = tempfile::tempdir().unwrap();
    let state = state.path();
    let bin = tempfile::tempdir().unwrap();
    let broken = bin.path().join("php");
    fs::write(
        &broken,
        "#!/bin/sh\necho 'Segmentation fault' >&2\nexit 139\n",
    )
    .unwrap();
    fs::set_permissions(&broken, fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let _serial = host::HOST_PHP.exclusive();
    let etc_before = tree_bytes(Path::new("/etc/php"));

    // Every PHP found, one of them broken: nothing is written anywhere.
    let out = whatap(state)
        .env("PATH", &path)
        .args(install_args(archive.path()))
        .output()
        .unwrap();
    let text = assert_refused(&out, 2, "Error: Not found PHP API");
    assert!(text.contains(&broken.display().to_string()), "{text}");
    assert!(
        !state.join("ledger.json").exists(),
        "ledger written on refusal"
    );
    assert_same_tree(&tree_bytes(Path::new("/etc/php")), &etc_before, "/etc/php");

    let (code, ids) = doctor_php(state, &broken);
    assert_eq!(code, Some(1));
    assert_eq!(ids, ["php-api-not-found"]);
}

#[test]
fn module_for_another_api_is_refused_and_nothing_is_written() {
    if !have_php() {
        return;
    }
    let _php = host::HOST_PHP.shared();
    let dir = tempfile::tempdir().unwrap();
    let (_, php) = php_with_ini(dir.path(), "[PHP]\nmemory_limit = 64M\n");
    let state = tempfile::tempdir().unwrap();
    let state = state.path();
    let before = tree_bytes(dir.path());

    // Only modules for another API or thread safety in the archive.
    let other = tempfile::tempdir().unwrap();
    fs::copy(php_stub_module(), other.path().join("whatap_20210902.so")).unwrap();
    fs::copy(
        php_stub_module(),
        other.path().join("whatap_zts_20220829.so"),
    )
    .unwrap();
    let out = install_php(state, other.path(), &php);
    let text = assert_refused(&out, 2, &format!("no whatap_{}.so", php_api()));
    assert!(text.contains("whatap_20210902.so"), "{text}");

    // A file named for this API that PHP cannot load.
    let fake = tempfile::tempdir().unwrap();
    fs::write(
        fake.path().join(format!("whatap_{}.so", php_api())),
        b"not a module",
    )
    .unwrap();
    assert_refused(
        &install_php(state, fake.path(), &php),
        2,
        "does not load into",
    );
    assert_same_tree(
        &tree_bytes(dir.path()),
        &before,
        "private PHP after refusals",
    );
    assert!(!state.join("ledger.json").exists());

    // A whatap.so already in extension_dir that this PHP cannot load: doctor names it.
    fs::write(dir.path().join("ext/whatap.so"), b"not a module").unwrap();
    let (code, ids) = doctor_php(state, &php);
    assert_eq!(code, Some(1));
    assert!(ids.contains(&"php-api-mismatch".to_string()), "{ids:?}");
}

#[test]
fn php_without_any_ini_is_refused_and_diagnosed() {
    if !have_php() {
        return;
    }
    let _php = host::HOST_PHP.shared();
    let dir = tempfile::tempdir().unwrap();
    let php = private_php(dir.path(), "-n");
    let state = tempfile::tempdir().unwrap();
    let archive = php_stub_archive();
    let out = install_php(state.path(), archive.path(), &php);
    assert_refused(&out, 2, "Error: Not found PHP ini directory");
    assert!(!dir.path().join("ext/whatap.so").exists());
    let (code, ids) = doctor_php(state.path(), &php);
    assert_eq!(code, Some(1));
    assert_eq!(ids, ["php-ini-dir-not-found"]);
}

#[test]
fn udp_6600_held_by_another_process_is_reported() {
    if !have_php() {
        return;
    }
    let _php = host::HOST_PHP.shared();
    let dir = tempfile::tempdir().unwrap();
    let (_, php) = php_with_ini(dir.path(), "[PHP]\n");
    let state = tempfile::tempdir().unwrap();
    let archive = php_stub_archive();
    let installed = install_php(state.path(), archive.path(), &php);
    assert!(installed.status.success());
    assert_files_under(&json(&installed), dir.path());
    // The archive has no agent daemon: PHP loads whatap.so with nothing to take its data.
    let not_running = "php-agent-not-running".to_string();
    assert_eq!(
        doctor_php(state.path(), &php),
        (Some(1), vec![not_running.clone()])
    );
    // This test process stands in for whatever took the whatap-php agent's port.
    let Ok(_taken) = std::net::UdpSocket::bind("127.0.0.1:6600") else {
        eprintln!("SKIPPED: UDP 6600 is already taken on this host");
        return;
    };
    let (_, ids) = doctor_php(state.path(), &php);
    assert_eq!(ids, [not_running, "udp-port-conflict".to_string()]);
}

#[test]
fn whatap_enabled_by_hand_elsewhere_is_refused() {
    if !have_php() {
        return;
    }
    let _php = host::HOST_PHP.shared();
    let dir = tempfile::tempdir().unwrap();
    let (ini, php) = php_with_ini(dir.path(), "[PHP]\nextension = \"whatap.so\"\n");
    let state = tempfile::tempdir().unwrap();
    let archive = php_stub_archive();
    let before = tree_bytes(dir.path());
    let out = install_php(state.path(), archive.path(), &php);
    let text = assert_refused(&out, 3, "it would load twice");
    assert!(text.contains(&format!("{}:2:", ini.display())), "{text}");
    assert_same_tree(
        &tree_bytes(dir.path()),
        &before,
        "private PHP after refusal",
    );
}

/// The plan shown by `--dry-run`: the guide's whatap.ini keys in a php.ini section (no scan
/// dir), and Debian's mods-available file with one conf.d link per SAPI.
#[test]
fn dry_run_diffs() {
    if !have_php() || !have_servers() {
        return;
    }
    // Both plans read the host: the service script, then /etc/php compared after.
    let _serial = host::HOST_PHP.exclusive();
    let archive = php_stub_archive();
    let state = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_, php) = php_with_ini(dir.path(), "[PHP]\nmemory_limit = 64M\n");
    let dry = |bins: &[&str]| {
        let mut args: Vec<String> = install_args(archive.path());
        args.push("--dry-run".into());
        args.extend(bins.iter().map(|b| b.to_string()));
        let report = whatap_ok(state.path(), &args);
        // A dry run says what the real run would change.
        assert_eq!(report["changed"], true);
        report["diff"]
            .as_str()
            .unwrap()
            .replace(&dir.path().display().to_string(), "<dir>")
            .replace(&php_api(), "<API>")
    };
    insta::assert_snapshot!(
        "php-ini-section",
        dry(&["--php-bin", php.to_str().unwrap()])
    );

    let before = tree_bytes(Path::new(ETC_PHP));
    let diff = dry(&["--php-bin", PHP, "--php-bin", FPM, "--php-bin", APACHE]);
    insta::assert_snapshot!("debian-cli-fpm-apache", diff);
    assert_same_tree(
        &tree_bytes(Path::new(ETC_PHP)),
        &before,
        "/etc/php after --dry-run",
    );
    assert!(!state.path().exists() || !state.path().join("ledger.json").exists());
}

/// `doctor` probes each PHP once (`-i` lists the modules too) and keeps the answer in the
/// state dir: a second run starts no PHP and says the same; a changed php.ini is probed
/// again; without a state dir nothing is kept and none is created; `--runtime tomcat` never
/// starts a PHP at all.
#[test]
fn php_probes_run_once_are_cached_in_the_state_dir_and_invalidated() {
    if !have_php() {
        return;
    }
    let _php = host::HOST_PHP.shared();
    let dir = tempfile::tempdir().unwrap();
    let (ini, php) = php_with_ini(dir.path(), "[PHP]\nmemory_limit = 64M\n");
    // The private PHP, logging each start: named `php` in its own dir, for PATH below.
    let bin = dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    let calls = dir.path().join("calls");
    let logged = bin.join("php");
    fs::write(
        &logged,
        format!(
            "#!/bin/sh\necho \"$*\" >> {}\nexec {} \"$@\"\n",
            calls.display(),
            php.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&logged, fs::Permissions::from_mode(0o755)).unwrap();
    let started = || fs::read_to_string(&calls).unwrap_or_default();
    let state = tempfile::tempdir().unwrap();

    let first = doctor_php(state.path(), &logged);
    assert_eq!(started(), "-i\n", "one probe, `-i` only");
    assert!(state.path().join("cache/probes.json").exists());
    assert_eq!(doctor_php(state.path(), &logged), first, "cached answer");
    assert_eq!(started(), "-i\n", "the second run started no PHP");

    fs::write(&ini, "[PHP]\nmemory_limit = 96M\n").unwrap();
    assert_eq!(doctor_php(state.path(), &logged), first);
    assert_eq!(started(), "-i\n-i\n", "a changed php.ini is probed again");

    let absent = dir.path().join("no-state");
    assert_eq!(doctor_php(&absent, &logged), first);
    assert_eq!(doctor_php(&absent, &logged), first);
    assert_eq!(started(), "-i\n".repeat(4), "no state dir: no cache");
    assert!(!absent.exists(), "a read-only doctor created the state dir");

    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = whatap(&absent)
        .env("PATH", &path)
        .args(["doctor", "--runtime", "tomcat", "--no-network", "--json"])
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
    assert_eq!(
        started(),
        "-i\n".repeat(4),
        "--runtime tomcat started a PHP"
    );
}
