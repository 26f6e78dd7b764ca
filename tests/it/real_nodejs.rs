//! End to end with the real parts: Debian's node and npm, the real `whatap` npm package
//! (installed offline: from npm's cache of the registry, or from the tarball `.ci/run`
//! packed), a real HTTP app, pm2 from npm. After
//! install the app answers, the real `whatap_nodejs` daemon runs from WHATAP_HOME and connects
//! to a loopback collector this test runs, doctor on the app's PID says the agent is loaded;
//! uninstall gives every byte of the app back.

use crate::common::node::*;
use crate::common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// `doctor --json` for the flags given; the report.
fn doctor(state: &Path, flags: &[&str]) -> serde_json::Value {
    let out = whatap(state)
        .args(["doctor", "--json", "--no-network", "--runtime", "nodejs"])
        .args(flags)
        .output()
        .unwrap();
    json(&out.stdout)
}

fn nodejs_findings(report: &serde_json::Value) -> Vec<String> {
    finding_ids(report)
        .into_iter()
        .filter(|id| id.starts_with("nodejs-") || id == "conf-missing-key")
        .collect()
}

/// `whatap detect`'s entry for the app.
fn detected(state: &Path, app: &Path) -> serde_json::Value {
    let out = whatap(state).args(["detect", "--json"]).output().unwrap();
    let report = json(&out.stdout);
    report["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["runtime"] == "nodejs" && r["home"].as_str() == Some(app.to_str().unwrap()))
        .cloned()
        .unwrap_or_else(|| panic!("detect did not list {}: {report}", app.display()))
}

/// Waits for the app on `port` and for the daemon from `home` (recorded in `reaper`, so it
/// goes too), and for the daemon to reach the collector.
fn wait_for_agent(
    reaper: &mut Reaper,
    port: u16,
    home: &Path,
    accepted: &std::sync::atomic::AtomicUsize,
) {
    let answered = wait_for(Duration::from_secs(30), || {
        http_get(port).is_some_and(|r| r.contains("hello from node"))
    });
    assert!(answered, "the app does not answer on 127.0.0.1:{port}");
    let daemon = wait_for(Duration::from_secs(30), || {
        let daemons = pids_named_in("whatap_nodejs", home);
        daemons.iter().for_each(|&pid| reaper.pid(pid));
        !daemons.is_empty()
    });
    assert!(daemon, "no whatap_nodejs runs from {}", home.display());
    assert!(
        wait_for(Duration::from_secs(30), || accepted.load(Ordering::SeqCst)
            > 0),
        "the daemon never connected to the loopback collector"
    );
}

/// `install --runtime nodejs` for `target`, with the collector on `collector_port` and the
/// agent from `tarball` (offline), or from the registry by default.
fn install(
    state: &Path,
    target: &[&str],
    tarball: Option<&Path>,
    collector_port: u16,
) -> serde_json::Value {
    let mut cmd = whatap(state);
    cmd.envs(npm_env())
        .args(["install", "--runtime", "nodejs"])
        .args(target)
        .args(LICENSED_YES_JSON)
        .args(["--set", &format!("whatap.server.port={collector_port}")]);
    if let Some(tarball) = tarball {
        cmd.arg("--agent-archive").arg(tarball).arg("--offline");
    }
    json_ok(&mut cmd, "install")
}

fn uninstall(state: &Path, app: &Path) {
    whatap(state)
        .envs(npm_env())
        .args(["uninstall", "--runtime", "nodejs", "--app-dir"])
        .arg(app)
        .arg("--yes")
        .assert()
        .success();
}

/// The package from the registry, as by default (npm's cache `.ci/run` filled from the
/// registry stands in for it: npm is offline).
#[test]
fn a_real_app_through_its_start_script() {
    let Some(tarball) = agent_tarball() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = fs::canonicalize(dir.path()).unwrap().join("shop");
    write_app(&app, "shop");
    npm_install(&app);
    let script = app.join("start.sh");
    let original = "#!/bin/sh\n# starts the shop\ncd \"$(dirname \"$0\")\"\nexec node server.js\n";
    fs::write(&script, original).unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let before = app_files(&app);
    let state = dir.path().join("state");
    let home = app.join("whatap");
    let (collector_port, accepted) = collector();
    let target = [
        "--app-dir",
        app.to_str().unwrap(),
        "--start-script",
        script.to_str().unwrap(),
    ];

    let report = install(&state, &target, Some(&tarball), collector_port);
    assert_eq!(report["changed"], true);
    assert!(
        report["run"][0]
            .as_str()
            .unwrap()
            .contains(" install --prefix "),
        "{report}"
    );
    let manifest = fs::read_to_string(app.join("package.json")).unwrap();
    assert!(manifest.contains("\"whatap\""), "{manifest}");
    assert!(app.join("node_modules/whatap/package.json").is_file());
    let wrapped = fs::read_to_string(&script).unwrap();
    assert!(
        wrapped.contains(&format!(
            "exec env WHATAP_HOME={} node --require {} server.js\n",
            home.display(),
            app.join("node_modules/whatap").display()
        )),
        "{wrapped}"
    );
    let conf = home.join("whatap.conf");
    assert_eq!(
        fs::metadata(&conf).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = fs::read_to_string(&conf).unwrap();
    for line in [
        "whatap.server.host=127.0.0.1",
        "app_name=shop",
        "app_process_name=node",
    ] {
        assert!(text.contains(line), "{text}");
    }
    // A second install changes nothing and runs nothing.
    let again = install(&state, &target, None, collector_port);
    assert_eq!(again["changed"], false, "{again}");
    assert!(again.get("run").is_none(), "{again}");

    let mut reaper = Reaper::default();
    let port = free_port();
    let pid = reaper.spawn(
        Command::new(&script)
            .env("PORT", port.to_string())
            .env("WHATAP_LOCK_FILE", port_lock(dir.path()))
            .env_remove("WHATAP_HOME")
            .env_remove("NODE_OPTIONS")
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_for_agent(&mut reaper, port, &home, &accepted);
    assert!(
        fs::read_dir(home.join("logs"))
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("whatap-hook-")),
        "the package writes its hook log under WHATAP_HOME"
    );
    // The script execs node: its PID is the app's.
    let report = doctor(&state, &["--pid", &pid.to_string()]);
    assert!(nodejs_findings(&report).is_empty(), "{report}");
    let found = detected(&state, &app);
    assert_eq!(found["agent"], "loaded", "{found}");
    assert_eq!(found["pid"], pid);
    assert_eq!(
        found["details"]["entry"],
        app.join("server.js").to_str().unwrap()
    );

    reaper.kill_all();
    assert!(
        wait_for(Duration::from_secs(5), || pids_named_in(
            "whatap_nodejs",
            &home
        )
        .is_empty()),
        "the daemon is still running"
    );
    uninstall(&state, &app);
    assert!(!app.join("node_modules/whatap").exists());
    assert_same_tree(&app_files(&app), &before, "the app after uninstall");
}

/// A pm2 of the test's own (`PM2_HOME` in the temp dir): `pm2 kill` when dropped, which stops
/// its apps; the agent daemons are the caller's reaper's.
struct Pm2 {
    bin: PathBuf,
    home: PathBuf,
    lock: PathBuf,
}

impl Pm2 {
    fn run(&self, app: &Path, args: &[&str]) {
        let status = Command::new(&self.bin)
            .env("PM2_HOME", &self.home)
            .env("WHATAP_LOCK_FILE", &self.lock)
            .env_remove("WHATAP_HOME")
            .env_remove("NODE_OPTIONS")
            .current_dir(app)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pm2 {args:?}");
    }

    /// The PID pm2 runs the app with, once it is up.
    fn pid(&self, name: &str, not: Option<u32>) -> u32 {
        let file = self.home.join(format!("pids/{name}-0.pid"));
        let mut pid = None;
        let up = wait_for(Duration::from_secs(30), || {
            pid = fs::read_to_string(&file)
                .ok()
                .and_then(|t| t.trim().parse().ok())
                .filter(|p| Some(*p) != not);
            pid.is_some()
        });
        assert!(up, "pm2 wrote no new {}", file.display());
        pid.unwrap()
    }
}

impl Drop for Pm2 {
    fn drop(&mut self) {
        let _ = Command::new(&self.bin)
            .env("PM2_HOME", &self.home)
            .arg("kill")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[test]
fn a_real_pm2_app_from_its_ecosystem_file() {
    let Some(tarball) = agent_tarball() else {
        return;
    };
    let Some(bin) = pm2() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = fs::canonicalize(dir.path()).unwrap().join("orders");
    write_app(&app, "orders");
    npm_install(&app);
    let port = free_port();
    let ecosystem = app.join("ecosystem.config.js");
    fs::write(
        &ecosystem,
        format!(
            "// pm2 ecosystem of the orders service\nmodule.exports = {{\n  apps: [\n    {{\n      name: 'orders',\n      script: './server.js',\n      env: {{\n        PORT: {port},\n      }},\n    }},\n  ],\n}};\n"
        ),
    )
    .unwrap();
    let before = app_files(&app);
    let state = dir.path().join("state");
    let home = app.join("whatap");
    let (collector_port, accepted) = collector();
    let _detectable = host::DETECTABLE.shared();
    let mut reaper = Reaper::default();
    let pm2 = Pm2 {
        bin,
        home: dir.path().join("pm2"),
        lock: port_lock(dir.path()),
    };
    pm2.run(&app, &["start", "ecosystem.config.js"]);
    let first = pm2.pid("orders", None);
    if let Ok(god) = fs::read_to_string(pm2.home.join("pm2.pid")) {
        reaper.pid(god.trim().parse().unwrap());
    }
    let found = detected(&state, &app);
    assert_eq!(found["details"]["launcher"], "pm2", "{found}");
    assert_eq!(found["details"]["pm2_app"], "orders");
    assert_eq!(found["agent"], "none");

    // The running app names everything: its ecosystem file is found from its pm2 app.
    let report = install(
        &state,
        &["--pid", &first.to_string()],
        Some(&tarball),
        collector_port,
    );
    assert_eq!(report["changed"], true);
    let next = report["next_steps"].to_string();
    assert!(
        next.contains("pm2 restart ")
            && next.contains(&format!(
                "PID {first} runs without the agent until it is restarted"
            )),
        "{next}"
    );
    let edited = fs::read_to_string(&ecosystem).unwrap();
    assert!(
        edited.contains(&format!(
            "      node_args: '--require {}',\n      name: 'orders',",
            app.join("node_modules/whatap").display()
        )),
        "{edited}"
    );
    assert!(
        edited.contains(&format!(
            "      env: {{\n        WHATAP_HOME: '{}',\n",
            home.display()
        )),
        "{edited}"
    );
    let report = doctor(&state, &["--pid", &first.to_string()]);
    assert_eq!(
        nodejs_findings(&report),
        ["nodejs-agent-not-loaded"],
        "{report}"
    );

    pm2.run(
        &app,
        &["restart", "ecosystem.config.js", "--only", "orders"],
    );
    let second = pm2.pid("orders", Some(first));
    wait_for_agent(&mut reaper, port, &home, &accepted);
    let report = doctor(&state, &["--pid", &second.to_string()]);
    assert!(nodejs_findings(&report).is_empty(), "{report}");
    assert_eq!(detected(&state, &app)["agent"], "loaded");

    let uninstalled = json_ok(
        whatap(&state)
            .envs(npm_env())
            .args(["uninstall", "--runtime", "nodejs", "--app-dir"])
            .arg(&app)
            .args(["--yes", "--json"]),
        "uninstall",
    );
    let next = uninstalled["next_steps"][0].as_str().unwrap().to_string();
    assert!(
        next.starts_with("pm2 delete orders && pm2 start "),
        "{next}"
    );
    assert_same_tree(&app_files(&app), &before, "the app after uninstall");
    // As the next step says (a plain restart would keep the old node_args): the app runs
    // again from the restored file, without the agent.
    pm2.run(&app, &["delete", "orders"]);
    pm2.run(&app, &["start", "ecosystem.config.js", "--only", "orders"]);
    let third = pm2.pid("orders", Some(second));
    assert!(wait_for(Duration::from_secs(30), || http_get(port).is_some()));
    assert_eq!(detected(&state, &app)["pid"], third);
    drop(pm2);
    reaper.kill_all();
}

/// The unit's Environment= lines, in the order systemd reads the unit and its drop-ins: what
/// systemd would start ExecStart with (the test's own small reading, to run the app as the
/// unit would without a systemd).
fn unit_environment(files: &[PathBuf]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    for file in files {
        for line in fs::read_to_string(file).unwrap().lines() {
            let Some(value) = line.strip_prefix("Environment=") else {
                continue;
            };
            // One assignment a line in these files, quoted whole or not at all.
            let (key, value) = value.trim_matches('"').split_once('=').unwrap();
            env.retain(|(k, _)| k != key);
            env.push((key.to_string(), value.to_string()));
        }
    }
    env
}

#[test]
fn a_systemd_drop_in_that_systemd_analyze_accepts() {
    if !must_have(
        "systemd-analyze",
        Path::new("/usr/bin/systemd-analyze").is_file(),
    ) {
        return;
    }
    if agent_tarball().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = fs::canonicalize(dir.path()).unwrap();
    let app = root.join("billing");
    with_agent_installed(&app, "billing");
    let port = free_port();
    let units = root.join("units");
    let unit = units.join("billing.service");
    fs::create_dir_all(units.join("billing.service.d")).unwrap();
    let unit_text = format!(
        "[Unit]\nDescription=billing\n\n[Service]\nWorkingDirectory={}\nEnvironment=NODE_OPTIONS=--max-old-space-size=256\nEnvironment=PORT={port}\nExecStart=/usr/bin/node server.js\n\n[Install]\nWantedBy=multi-user.target\n",
        app.display()
    );
    fs::write(&unit, &unit_text).unwrap();
    // An operator's drop-in read before ours: its NODE_OPTIONS is the one in effect.
    let limits = units.join("billing.service.d/10-limits.conf");
    fs::write(
        &limits,
        "[Service]\nEnvironment=NODE_OPTIONS=--max-old-space-size=512\n",
    )
    .unwrap();
    let before_app = app_files(&app);
    let state = root.join("state");
    let home = app.join("whatap");
    let (collector_port, accepted) = collector();

    let unit_flag = unit.to_str().unwrap().to_string();
    let report = install(&state, &["--unit", &unit_flag], None, collector_port);
    assert!(
        report.get("run").is_none(),
        "the package is there: no npm {report}"
    );
    let dropin = units.join("billing.service.d/whatap.conf");
    let text = fs::read_to_string(&dropin).unwrap();
    assert!(
        text.ends_with(&format!(
            "[Service]\nEnvironment=WHATAP_HOME={}\nEnvironment=\"NODE_OPTIONS=--max-old-space-size=512 --require {}\"\n",
            home.display(),
            app.join("node_modules/whatap").display()
        )),
        "{text}"
    );
    let verify = Command::new("systemd-analyze")
        .args(["verify", "--man=no", "billing.service"])
        .env("SYSTEMD_UNIT_PATH", format!("{}:", units.display()))
        .output()
        .unwrap();
    let complaints = String::from_utf8_lossy(&verify.stderr);
    assert!(verify.status.success(), "{complaints}");
    assert!(!complaints.contains("billing.service"), "{complaints}");

    // Started as the unit says, with what its drop-ins set, the app loads the agent.
    let mut reaper = Reaper::default();
    let env = unit_environment(&[unit.clone(), limits.clone(), dropin.clone()]);
    let pid = reaper.spawn(
        Command::new("/usr/bin/node")
            .arg("server.js")
            .current_dir(&app)
            .env_remove("WHATAP_HOME")
            .env_remove("NODE_OPTIONS")
            .envs(env)
            .env("WHATAP_LOCK_FILE", port_lock(&root))
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_for_agent(&mut reaper, port, &home, &accepted);
    let report = doctor(&state, &["--pid", &pid.to_string(), "--unit", &unit_flag]);
    assert!(nodejs_findings(&report).is_empty(), "{report}");
    reaper.kill_all();

    whatap(&state)
        .args([
            "uninstall",
            "--runtime",
            "nodejs",
            "--unit",
            &unit_flag,
            "--yes",
        ])
        .assert()
        .success();
    assert!(!dropin.exists());
    assert_eq!(fs::read_to_string(&unit).unwrap(), unit_text);
    assert!(limits.is_file());
    assert_same_tree(&app_files(&app), &before_app, "the app after uninstall");
}

/// A unit in /etc/systemd/system that runs node is listed by detect (not running), with its
/// app, and picked by `--unit NAME` alone.
#[test]
fn a_node_unit_in_the_systemd_directory_is_detected() {
    let etc = Path::new("/etc/systemd/system");
    if !must_have("/etc/systemd/system (systemd)", etc.is_dir()) {
        return;
    }
    let Some(tarball) = agent_tarball() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = fs::canonicalize(dir.path()).unwrap().join("reports");
    write_app(&app, "reports");
    let name = format!("whatap-it-{}.service", fastrand::u32(..));
    struct Unit(PathBuf);
    impl Drop for Unit {
        fn drop(&mut self) {
            let _ = fs::remove_file(&self.0);
        }
    }
    // detect lists it while it exists, as it lists running apps.
    let _detectable = host::DETECTABLE.shared();
    let unit = Unit(etc.join(&name));
    fs::write(
        &unit.0,
        format!(
            "[Service]\nWorkingDirectory={}\nExecStart=/usr/bin/env node --enable-source-maps server.js\n",
            app.display()
        ),
    )
    .unwrap();
    let state = dir.path().join("state");
    let found = detected(&state, &app);
    assert_eq!(found["details"]["launcher"], "systemd", "{found}");
    assert_eq!(found["details"]["started_by"], name.as_str());
    assert_eq!(found["pid"], serde_json::Value::Null);
    let out = whatap(&state)
        .args([
            "install",
            "--runtime",
            "nodejs",
            "--unit",
            &name,
            "--dry-run",
            "--json",
        ])
        .args(["--license", LICENSE, "--host", "127.0.0.1"])
        .arg("--agent-archive")
        .arg(&tarball)
        .output()
        .unwrap();
    let report = json(&out.stdout);
    assert_eq!(report["target"], app.to_str().unwrap(), "{report}");
    assert!(
        report["diff"]
            .as_str()
            .unwrap()
            .contains(&format!("+++ b/etc/systemd/system/{name}.d/whatap.conf")),
        "{report}"
    );
}
