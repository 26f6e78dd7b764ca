//! `whatap doctor` on Node.js apps, each rule made to fire (the healthy app with the real agent,
//! where none fires, is in real_nodejs): whatap.conf keys, the package's own error lines in
//! WHATAP_HOME/logs, another process on `net_udp_port`, node told to require a package that is
//! not there, a running app without the agent, a node older than the installed package wants,
//! and the agent's log held open with no daemon (a small node script stands in for the agent
//! there: what is checked is what the process holds, not what it does).

use crate::common::node::*;
use crate::common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn doctor(state: &Path, flags: &[&str], lang: &str) -> serde_json::Value {
    let out = whatap(state)
        .args([
            "--lang",
            lang,
            "doctor",
            "--json",
            "--no-network",
            "--runtime",
            "nodejs",
        ])
        .args(flags)
        .output()
        .unwrap();
    json(&out.stdout)
}

fn finding<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id}: {report}"))
}

fn node_available() -> bool {
    must_have("node", Path::new("/usr/bin/node").is_file())
}

/// `node SCRIPT` in the app, with `env`, no NODE_OPTIONS or WHATAP_HOME of the test's own.
fn run_node(reaper: &mut Reaper, app: &Path, script: &str, env: &[(&str, &str)]) -> u32 {
    reaper.spawn(
        Command::new("/usr/bin/node")
            .arg(script)
            .current_dir(app)
            .env_remove("NODE_OPTIONS")
            .env_remove("WHATAP_HOME")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
}

#[test]
fn conf_keys_logged_errors_and_the_udp_port() {
    let dir = tempfile::tempdir().unwrap();
    let app = fs::canonicalize(dir.path()).unwrap().join("shop");
    write_app(&app, "shop");
    let home = app.join("whatap");
    fs::create_dir_all(home.join("logs")).unwrap();
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    fs::write(
        home.join("whatap.conf"),
        format!("license={LICENSE}\nwhatap.server.host=127.0.0.1\n\n\nnet_udp_port={port}\n"),
    )
    .unwrap();
    let log = home.join("logs/whatap-hook-20261201.log");
    fs::write(
        &log,
        "20261201 22:11:33[WHATAP-110] <30957> Start initialize WhaTap Agent... Root[/srv/shop]\n\
         20261201 22:11:33[WHATAP-216] <30957> Failed to spawn agent process: spawn /srv/shop/whatap/whatap_nodejs EACCES\n",
    )
    .unwrap();
    let state = dir.path().join("state");
    let app_s = app.to_str().unwrap();
    let report = doctor(&state, &["--app-dir", app_s], "en");
    assert_eq!(report["ok"], false);
    assert!(
        finding(&report, "conf-missing-key")["evidence"]
            .as_str()
            .unwrap()
            .contains("no app_name="),
        "{report}"
    );
    let error = finding(&report, "nodejs-log-error");
    assert_eq!(
        error["evidence"].as_str().unwrap(),
        format!(
            "{}:2: 20261201 22:11:33[WHATAP-216] <30957> Failed to spawn agent process: spawn /srv/shop/whatap/whatap_nodejs EACCES",
            log.display()
        )
    );
    assert!(
        finding(&report, "udp-port-conflict")["evidence"]
            .as_str()
            .unwrap()
            .contains(&format!("UDP {port} held by PID {}", std::process::id())),
        "{report}"
    );
    let korean = doctor(&state, &["--app-dir", app_s], "ko");
    assert_eq!(
        finding(&korean, "nodejs-log-error")["title"],
        "whatap Node.js 에이전트 로그에 오류가 있습니다"
    );
    drop(socket);
}

#[test]
fn node_told_to_require_a_package_that_is_not_there() {
    let dir = tempfile::tempdir().unwrap();
    let app = fs::canonicalize(dir.path()).unwrap().join("shop");
    write_app(&app, "shop");
    let script = app.join("start.sh");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec env WHATAP_HOME={0}/whatap node --require {0}/node_modules/whatap server.js\n",
            app.display()
        ),
    )
    .unwrap();
    let state = dir.path().join("state");
    let report = doctor(
        &state,
        &[
            "--app-dir",
            app.to_str().unwrap(),
            "--start-script",
            script.to_str().unwrap(),
        ],
        "en",
    );
    assert!(
        finding(&report, "nodejs-package-missing")["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("`npm install whatap` in {}", app.display())),
        "{report}"
    );
}

/// A running app with whatap.conf but started without the agent, whose installed package
/// wants a node newer than this one.
#[test]
fn a_running_app_without_the_agent_on_a_node_too_old_for_the_package() {
    if !node_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let app = fs::canonicalize(dir.path()).unwrap().join("shop");
    write_app(&app, "shop");
    fs::create_dir_all(app.join("node_modules/whatap")).unwrap();
    std::os::unix::fs::symlink("../lib/greet", app.join("node_modules/greet")).unwrap();
    fs::write(
        app.join("node_modules/whatap/package.json"),
        "{\"name\": \"whatap\", \"version\": \"9.0.0\", \"engines\": {\"node\": \">=99\"}}\n",
    )
    .unwrap();
    fs::create_dir(app.join("whatap")).unwrap();
    fs::write(
        app.join("whatap/whatap.conf"),
        format!("license={LICENSE}\nwhatap.server.host=127.0.0.1\napp_name=shop\n"),
    )
    .unwrap();
    let port = free_port();
    let mut reaper = Reaper::default();
    let port_text = port.to_string();
    let pid = run_node(&mut reaper, &app, "server.js", &[("PORT", &port_text)]);
    assert!(wait_for(Duration::from_secs(20), || http_get(port).is_some()));
    let state = dir.path().join("state");
    // A state dir: `node --version` is kept in its probe cache and the second run reuses it.
    fs::create_dir(&state).unwrap();
    fs::set_permissions(&state, fs::Permissions::from_mode(0o700)).unwrap();
    let report = doctor(&state, &["--pid", &pid.to_string()], "en");
    let cached = fs::read_to_string(state.join("cache/probes.json")).unwrap();
    assert!(cached.contains(" --version"), "{cached}");
    let again = doctor(&state, &["--pid", &pid.to_string()], "en");
    assert_eq!(
        finding(&again, "nodejs-version-unsupported"),
        finding(&report, "nodejs-version-unsupported")
    );
    assert!(
        finding(&report, "nodejs-agent-not-loaded")["evidence"]
            .as_str()
            .unwrap()
            .contains("NODE_OPTIONS is not set"),
        "{report}"
    );
    assert_eq!(
        finding(&report, "nodejs-version-unsupported")["fix"],
        "Run the app on a node that satisfies >=99 (the package's engines.node)."
    );
}

/// The agent's log held open by the app (as the loaded package does), no whatap_nodejs.
#[test]
fn a_loaded_agent_without_its_daemon() {
    if !node_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let app = fs::canonicalize(dir.path()).unwrap().join("shop");
    write_app(&app, "shop");
    let home = app.join("whatap");
    fs::create_dir_all(home.join("logs")).unwrap();
    fs::write(
        home.join("whatap.conf"),
        format!("license={LICENSE}\nwhatap.server.host=127.0.0.1\napp_name=shop\n"),
    )
    .unwrap();
    let ready = app.join("ready");
    fs::write(
        app.join("held.js"),
        "const fs = require('fs');\nconst path = require('path');\n\
         fs.openSync(path.join(process.env.WHATAP_HOME, 'logs', 'whatap-hook-20261201.log'), 'a');\n\
         fs.writeFileSync('ready', '');\nsetInterval(() => {}, 1000);\n",
    )
    .unwrap();
    let mut reaper = Reaper::default();
    let home_text = home.display().to_string();
    let pid = run_node(&mut reaper, &app, "held.js", &[("WHATAP_HOME", &home_text)]);
    assert!(wait_for(Duration::from_secs(20), || ready.exists()));
    let state = dir.path().join("state");
    let report = doctor(&state, &["--pid", &pid.to_string()], "en");
    assert!(
        finding(&report, "nodejs-agent-not-running")["evidence"]
            .as_str()
            .unwrap()
            .contains(&format!("no whatap_nodejs runs from {}", home.display())),
        "{report}"
    );
    let ids = finding_ids(&report);
    assert!(
        !ids.iter().any(|i| i == "nodejs-agent-not-loaded"),
        "{ids:?}"
    );
}
