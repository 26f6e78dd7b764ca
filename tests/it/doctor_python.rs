//! Doctor for Python apps and the infra agent: every rule made to fire and kept quiet.
//! Log lines are in the real formats: whatap-hook.log `[%Y-%m-%d  %H:%M:%S] : <id> - <msg>`
//! (whatap/__init__.py), the app's stdout `WHATAP: ...` (whatap_print), the native agent's
//! `whatap-boot-YYYYMMDD.log` `YYYY/MM/DD hh:mm:ss [WAnnn] ...` (captured from whatap_python
//! 2.2.2 against a loopback listener that closes the connection).

use crate::common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const FULL_CONF: &str = "license=x41pl22ek7jhv-z43cebasdv4il7-z62p3l35fj5502\nwhatap.server.host=127.0.0.1\napp_name=demo\napp_process_name=gunicorn\napm_enabled=true\n";

/// Normal output of a healthy start (real lines): must fire nothing.
const QUIET_HOOK: &str = "[2026-11-27  00:42:38] :  - \n _      ____       ______Python-AGENT  \nJust Tap, Always Monitoring\nWhaTap Python Agent version 2.2.2, 20261019\n\nWHATAP_HOME: /tmp/wprun/home\n[2026-11-27  00:42:38] : WA000 - WHATAP AGENT START!\n[2026-11-27  00:42:38] :  - successfully injected logging.handlers as whatap.trace.mod.logging (instrument_logging)\n";
const QUIET_BOOT: &str = "2026/11/27 00:42:38 \n2026/11/27 00:42:38 ## OPEN LOG FILE  boot  20261127 00:42:38.32 ##\n2026/11/27 00:42:38 [WA214] Config: /tmp/wprun/home/whatap.conf\n2026/11/27 00:42:38 [WA001-01] Start agent \n2026/11/27 00:42:38 [WA211-01] Change GC Percent 200\n";

struct Home {
    dir: tempfile::TempDir,
    home: PathBuf,
}

impl Home {
    fn new(conf: &str) -> Home {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("whatap");
        fs::create_dir_all(home.join("logs")).unwrap();
        // A UDP port nobody holds, so the host's own 6600 never decides a test.
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        drop(udp);
        fs::write(
            home.join("whatap.conf"),
            format!("{conf}net_udp_port={port}\n"),
        )
        .unwrap();
        fs::write(home.join("logs/whatap-hook.log"), QUIET_HOOK).unwrap();
        fs::write(home.join("logs/whatap-boot-20261127.log"), QUIET_BOOT).unwrap();
        Home { dir, home }
    }

    fn append(&self, log: &str, line: &str) {
        let path = self.home.join("logs").join(log);
        let mut text = fs::read_to_string(&path).unwrap_or_default();
        text.push_str(line);
        text.push('\n');
        fs::write(path, text).unwrap();
    }

    /// (finding ids, the whole report) of `doctor --runtime python --home H [extra]`.
    fn doctor(&self, extra: &[&str]) -> (Vec<String>, serde_json::Value) {
        doctor_json(
            self.dir.path(),
            &["--runtime", "python", "--home", self.home.to_str().unwrap()],
            extra,
        )
    }
}

fn doctor_json(dir: &Path, target: &[&str], extra: &[&str]) -> (Vec<String>, serde_json::Value) {
    let out = whatap(&dir.join("state"))
        .args(["doctor", "--json", "--no-network"])
        .args(target)
        .args(extra)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (finding_ids(&report), report)
}

fn evidence<'a>(report: &'a serde_json::Value, id: &str) -> &'a str {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .and_then(|f| f["evidence"].as_str())
        .unwrap_or_default()
}

#[test]
fn healthy_logs_and_conf_are_quiet() {
    let home = Home::new(FULL_CONF);
    let (ids, report) = home.doctor(&[]);
    assert!(ids.is_empty(), "{report}");
    assert_eq!(report["ok"], true);
}

#[test]
fn hook_log_errors_fire_with_file_and_line() {
    let home = Home::new(FULL_CONF);
    // whatap_error_log() writes this when the native agent does not come up.
    home.append(
        "whatap-hook.log",
        "[2026-11-27  00:43:01] : WHATAP_AGENT_START_FAILED - WHATAP: native APM startup failed",
    );
    // The guide's wording of the conf read error.
    home.append(
        "whatap-hook.log",
        "[2026-11-27  00:43:02] : WHATAP_AGENT_ERROR - CONF READ ERROR",
    );
    let (ids, report) = home.doctor(&[]);
    assert!(ids.contains(&"python-log-error".to_string()), "{report}");
    assert!(ids.contains(&"python-conf-error".to_string()), "{report}");
    let hook = home.home.join("logs/whatap-hook.log");
    assert_eq!(
        evidence(&report, "python-log-error"),
        format!(
            "{}:9: [2026-11-27  00:43:01] : WHATAP_AGENT_START_FAILED - WHATAP: native APM startup failed",
            hook.display()
        )
    );
    assert_eq!(report["ok"], false);
}

#[test]
fn app_stdout_errors_fire_through_log_flag() {
    let home = Home::new(FULL_CONF);
    let stdout = home.dir.path().join("app.out");
    // whatap_print() puts these on the app's stdout (hook.log cannot be written then).
    fs::write(
        &stdout,
        "WHATAP: PERMISSION ERROR: [Errno 13] Permission denied: '/srv/app/whatap/whatap.conf'\nWHATAP: Try to execute command. \n  `sudo chmod -R 777 $WHATAP_HOME`\nWHATAP: LOGGING ERROR: [Errno 13] Permission denied: '/srv/app/whatap/logs/whatap-hook.log'\n",
    )
    .unwrap();
    let (quiet, _) = home.doctor(&[]);
    assert!(quiet.is_empty(), "{quiet:?}");
    let (ids, report) = home.doctor(&["--log", stdout.to_str().unwrap()]);
    assert!(ids.contains(&"python-conf-error".to_string()), "{report}");
    assert!(ids.contains(&"python-log-error".to_string()), "{report}");
    assert!(evidence(&report, "python-conf-error").ends_with(
        "app.out:1: WHATAP: PERMISSION ERROR: [Errno 13] Permission denied: '/srv/app/whatap/whatap.conf'"
    ));
}

#[test]
fn license_rejected_in_boot_log() {
    let home = Home::new(FULL_CONF);
    home.append(
        "whatap-boot-20261127.log",
        "2026/11/27 00:52:12 [WA172] invalid license key error.  WA003 Read Error size=1, left=1, elapsed=0, err=EOF,",
    );
    let (ids, report) = home.doctor(&[]);
    assert_eq!(ids, ["license-invalid"], "{report}");
    // Only the newest boot log counts: an older day's error is history.
    let home = Home::new(FULL_CONF);
    fs::write(
        home.home.join("logs/whatap-boot-20261126.log"),
        "2026/11/26 10:00:00 [WA172] invalid license key error.\n",
    )
    .unwrap();
    let (ids, _) = home.doctor(&[]);
    assert!(ids.is_empty(), "{ids:?}");
}

#[test]
fn conf_keys_the_vendor_needs() {
    // app_name missing: the vendor's whatap-doctor requires it too.
    let home = Home::new(&FULL_CONF.replace("app_name=demo\n", ""));
    let (ids, report) = home.doctor(&[]);
    assert_eq!(ids, ["conf-missing-key"], "{report}");
    assert!(
        report["findings"][0]["title"]
            .as_str()
            .unwrap()
            .contains("app_name")
    );
    // apm_enabled missing: whatap-start-agent then starts no agent (the vendor's doctor
    // treats a missing key as on and says nothing).
    let home = Home::new(&FULL_CONF.replace("apm_enabled=true\n", ""));
    let (ids, report) = home.doctor(&[]);
    assert_eq!(ids, ["conf-missing-key"], "{report}");
    assert!(evidence(&report, "conf-missing-key").contains("apm_enabled is not set"));
}

/// A Python "app" process (a real interpreter running a .py file) in its own group.
fn start_app(python: &Path, dir: &Path, env: &[(&str, String)], reaper: &mut Reaper) -> u32 {
    start_app_as(python, dir, env, None, reaper)
}

fn start_app_as(
    python: &Path,
    dir: &Path,
    env: &[(&str, String)],
    uid: Option<u32>,
    reaper: &mut Reaper,
) -> u32 {
    let script = dir.join("app.py");
    fs::write(&script, "import time\ntime.sleep(120)\n").unwrap();
    let mut cmd = Command::new(python);
    cmd.arg(&script)
        .env_remove("PYTHONPATH")
        .env_remove("WHATAP_HOME")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(uid) = uid {
        use std::os::unix::process::CommandExt;
        cmd.uid(uid).gid(uid).current_dir("/");
    }
    let pid = reaper.spawn(&mut cmd);
    // Wait until the interpreter has exec'd (its cmdline shows the script).
    assert!(wait_for(std::time::Duration::from_secs(5), || {
        fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains("app.py"))
    }));
    pid
}

/// A stand-in for the vendor's native binary: `sleep` under the name `name`, run from `cwd`.
fn start_named(name: &str, cwd: &Path, reaper: &mut Reaper) {
    let binary = cwd.join(name);
    fs::copy("/bin/sleep", &binary).unwrap();
    reaper.spawn(
        Command::new(format!("./{name}"))
            .arg("120")
            .current_dir(cwd),
    );
}

fn bootstrap_dir(venv: &Path) -> String {
    let lib = fs::read_dir(venv.join("lib"))
        .unwrap()
        .flatten()
        .next()
        .unwrap();
    lib.path()
        .join("site-packages/whatap/bootstrap")
        .display()
        .to_string()
}

#[test]
fn app_process_rules() {
    let Some(venv) = python_venv() else { return };
    let python = venv.join("bin/python3");
    let home = Home::new(FULL_CONF);
    let mut reaper = Reaper::default();

    // Started without whatap-start-agent.
    let plain = start_app(&python, home.dir.path(), &[], &mut reaper);
    let pid = plain.to_string();
    let (ids, report) = home.doctor(&["--pid", &pid]);
    assert_eq!(ids, ["python-not-wrapped"], "{report}");

    // Started the way whatap-start-agent starts it, but no whatap_python agent.
    let wrapped_env = [
        ("PYTHONPATH", bootstrap_dir(&venv)),
        ("WHATAP_HOME", home.home.display().to_string()),
    ];
    let app_dir = home.dir.path().join("wrapped");
    fs::create_dir(&app_dir).unwrap();
    let wrapped = start_app(&python, &app_dir, &wrapped_env, &mut reaper);
    let pid = wrapped.to_string();
    let (ids, report) = home.doctor(&["--pid", &pid]);
    assert!(
        ids.contains(&"python-agent-not-running".to_string()),
        "{report}"
    );
    assert!(!ids.contains(&"python-not-wrapped".to_string()), "{report}");

    // With an agent running from WHATAP_HOME, both are quiet.
    start_named("whatap_python", &home.home, &mut reaper);
    assert!(wait_for(std::time::Duration::from_secs(5), || {
        !pids_named_in("whatap_python", &home.home).is_empty()
    }));
    let (ids, report) = home.doctor(&["--pid", &pid]);
    assert!(
        !ids.contains(&"python-agent-not-running".to_string()),
        "{report}"
    );
    assert!(
        !ids.contains(&"python-package-missing".to_string()),
        "{report}"
    );
    reaper.kill_all();
}

#[test]
fn package_missing_in_the_apps_interpreter() {
    let Some(_) = python_venv() else { return };
    let home = Home::new(FULL_CONF);
    let bare = home.dir.path().join("bare");
    assert!(
        Command::new("python3")
            .args(["-m", "venv", "--without-pip"])
            .arg(&bare)
            .status()
            .unwrap()
            .success()
    );
    let mut reaper = Reaper::default();
    let app = start_app(&bare.join("bin/python3"), home.dir.path(), &[], &mut reaper);
    let (ids, report) = home.doctor(&["--pid", &app.to_string()]);
    assert!(
        ids.contains(&"python-package-missing".to_string()),
        "{report}"
    );
    let fix = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "python-package-missing")
        .unwrap()["fix"]
        .as_str()
        .unwrap();
    assert!(
        fix.contains("bin/python3 -m pip install whatap-python"),
        "{fix}"
    );
    reaper.kill_all();
}

#[test]
fn infra_rules() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("infra");
    fs::create_dir_all(home.join("conf")).unwrap();
    let target = ["--runtime", "infra", "--home", home.to_str().unwrap()];
    fs::write(
        home.join("conf/whatap.conf"),
        "whatap.server.host=127.0.0.1\n",
    )
    .unwrap();
    let (ids, report) = doctor_json(dir.path(), &target, &[]);
    assert_eq!(ids, ["conf-missing-key", "infra-not-running"], "{report}");
    fs::write(
        home.join("conf/whatap.conf"),
        format!(
            "license={LICENSE}\nwhatap.server.host=127.0.0.1\ncreatedtime=1764200000000000000\n"
        ),
    )
    .unwrap();
    let mut reaper = Reaper::default();
    start_named("whatap_infrad", &home, &mut reaper);
    assert!(wait_for(std::time::Duration::from_secs(5), || {
        !pids_named_in("whatap_infrad", &home).is_empty()
    }));
    let (ids, report) = doctor_json(dir.path(), &target, &[]);
    assert!(ids.is_empty(), "{report}");
    reaper.kill_all();
}

#[test]
fn udp_port_held_by_another_process() {
    let home = Home::new(FULL_CONF);
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    let conf = home.home.join("whatap.conf");
    let text = fs::read_to_string(&conf).unwrap();
    fs::write(&conf, format!("{text}net_udp_port={port}\n")).unwrap();
    // Another test of this process may be forking: until its child execs, it holds a copy of
    // the socket too. Such a holder lives for milliseconds; ours stays.
    let ours = format!("UDP {port} held by PID {}", std::process::id());
    let mut last = Default::default();
    let held = wait_for(Duration::from_secs(10), || {
        last = home.doctor(&[]);
        last.0 == ["udp-port-conflict"] && evidence(&last.1, "udp-port-conflict").starts_with(&ours)
    });
    assert!(held, "{}", last.1);
    drop(socket);
    let freed = wait_for(Duration::from_secs(10), || {
        last = home.doctor(&[]);
        last.0.is_empty()
    });
    assert!(freed, "{}", last.1);
}

#[test]
fn permission_denied_for_the_apps_user() {
    // Debian's interpreter: one the unprivileged app user can run (a venv may link into /root).
    let python = Path::new("/usr/bin/python3");
    if !must_have("/usr/bin/python3", python.is_file()) {
        return;
    }
    // SAFETY: geteuid() has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: needs root to start the app as another user");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path, mode: u32| {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap()
    };
    let home = Home::new(FULL_CONF);
    mode(home.dir.path(), 0o755);
    mode(&home.home, 0o755);
    mode(&home.home.join("logs"), 0o755);
    let mut reaper = Reaper::default();
    // The app runs as nobody (65534): root owns WHATAP_HOME, as after a careless `sudo`.
    let pid = start_app_as(python, home.dir.path(), &[], Some(65534), &mut reaper).to_string();
    let (ids, report) = home.doctor(&["--pid", &pid]);
    assert!(ids.contains(&"python-log-error".to_string()), "{report}");
    assert!(
        evidence(&report, "python-log-error").contains("not writable as the app's user (uid 65534")
    );
    assert!(!ids.contains(&"python-conf-error".to_string()), "{report}");
    mode(&home.home.join("whatap.conf"), 0o600);
    let (ids, report) = home.doctor(&["--pid", &pid]);
    assert!(ids.contains(&"python-conf-error".to_string()), "{report}");
    // The guide's fix (chmod) makes both quiet.
    mode(&home.home.join("whatap.conf"), 0o644);
    mode(&home.home.join("logs"), 0o777);
    let (ids, report) = home.doctor(&["--pid", &pid]);
    assert!(
        !ids.iter()
            .any(|i| i == "python-log-error" || i == "python-conf-error"),
        "{report}"
    );
}

/// The guide's infra troubleshooting, `whatap_infrad --whatapip IP --license KEY test`, run by
/// doctor when the binary is there (with the network checks: it may reach the collector). A
/// stub binary records its arguments and fails as the agent does on a wrong key.
#[test]
fn infra_config_test_runs_when_the_binary_is_present() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("infra");
    fs::create_dir_all(home.join("conf")).unwrap();
    fs::write(
        home.join("conf/whatap.conf"),
        format!("license={LICENSE}\nwhatap.server.host=127.0.0.1/127.0.0.2\n"),
    )
    .unwrap();
    let args_file = dir.path().join("args");
    let binary = home.join("whatap_infrad");
    let stub = |exit: u8| {
        fs::write(
            &binary,
            format!(
                "#!/bin/sh\necho \"$@\" > {}\necho \"license={LICENSE}\"\necho 'license or whatap.server.host error'\nexit {exit}\n",
                args_file.display()
            ),
        )
        .unwrap();
        let mut perms = fs::metadata(&binary).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        fs::set_permissions(&binary, perms).unwrap();
    };
    stub(1);
    let target = ["--runtime", "infra", "--home", home.to_str().unwrap()];
    let doctor = |extra: &[&str]| {
        let out = whatap(&dir.path().join("state"))
            .args(["doctor", "--json"])
            .args(target)
            .args(extra)
            .output()
            .unwrap();
        json(&out.stdout)
    };
    // --no-network: not run.
    doctor(&["--no-network"]);
    assert!(!args_file.exists());
    let report = doctor(&[]);
    assert_eq!(
        fs::read_to_string(&args_file).unwrap(),
        format!("--whatapip 127.0.0.1 --license {LICENSE} test\n")
    );
    let found = evidence(&report, "infra-config-test-failed");
    assert!(
        found.contains("license or whatap.server.host error"),
        "{found}"
    );
    assert!(
        !report.to_string().contains(LICENSE),
        "license shown: {report}"
    );
    assert!(report.to_string().contains(LICENSE_TAIL));
    stub(0);
    let report = doctor(&[]);
    assert!(
        !finding_ids(&report).contains(&"infra-config-test-failed".to_string()),
        "{report}"
    );
}
