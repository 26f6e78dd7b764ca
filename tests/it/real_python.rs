//! End to end with the real parts: whatap-python and gunicorn from PyPI (the venv .ci/run
//! makes). `whatap install` wraps a start script; the script starts a real gunicorn app on a
//! loopback port; the real `whatap_python` agent starts and connects to a loopback collector
//! this test runs; the app still answers HTTP; doctor sees it; uninstall restores the script.

use crate::common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

const APP: &str = "def application(environ, start_response):\n    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [b'hello from gunicorn\\n']\n";

fn doctor_ids(state: &Path, home: &Path) -> Vec<String> {
    let out = whatap(state)
        .args([
            "doctor",
            "--json",
            "--no-network",
            "--runtime",
            "python",
            "--home",
        ])
        .arg(home)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    finding_ids(&report)
}

#[test]
fn gunicorn_through_the_wrapped_start_script() {
    let Some(venv) = python_venv() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app_dir = dir.path().join("app");
    fs::create_dir(&app_dir).unwrap();
    fs::write(app_dir.join("app.py"), APP).unwrap();
    let port = free_port();
    let script = app_dir.join("start.sh");
    let original = format!(
        "#!/bin/sh\n# starts the demo app\ncd \"$(dirname \"$0\")\"\nexec {} -b 127.0.0.1:{port} --workers 1 app:application\n",
        venv.join("bin/gunicorn").display()
    );
    fs::write(&script, &original).unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let home = dir.path().join("whatap");
    let state = dir.path().join("state");
    let (collector_port, accepted) = collector();

    let install = |extra: &[&str]| {
        whatap(&state)
            .args(["install", "--runtime", "python", "--home"])
            .arg(&home)
            .arg("--start-script")
            .arg(&script)
            .args(["--license", LICENSE, "--host", "127.0.0.1"])
            .args(["--set", &format!("whatap.server.port={collector_port}")])
            .args(["--app-name", "demo", "--json"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = install(&["--yes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["changed"], true);
    assert!(
        report.get("run").is_none(),
        "whatap-python is already there"
    );
    let wrapped = fs::read_to_string(&script).unwrap();
    let agent = venv.join("bin/whatap-start-agent");
    assert!(
        wrapped.contains(&format!(
            "exec env WHATAP_HOME={} {} {}",
            home.display(),
            agent.display(),
            venv.join("bin/gunicorn").display()
        )),
        "{wrapped}"
    );
    let conf = fs::read_to_string(home.join("whatap.conf")).unwrap();
    for line in [
        "app_name=demo",
        "app_process_name=gunicorn",
        "apm_enabled=true",
    ] {
        assert!(conf.contains(line), "{conf}");
    }
    // Installing twice changes nothing.
    let again: serde_json::Value = serde_json::from_slice(&install(&["--yes"]).stdout).unwrap();
    assert_eq!(again["changed"], false);

    let mut reaper = Reaper::default();
    reaper.spawn(
        Command::new(&script)
            .current_dir(&app_dir)
            .env_remove("WHATAP_HOME")
            .env_remove("PYTHONPATH")
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    // The agent runs in its own session: record it as soon as it appears.
    let agent_up = wait_for(Duration::from_secs(20), || {
        let agents = pids_named_in("whatap_python", &home);
        agents.iter().for_each(|&pid| reaper.pid(pid));
        !agents.is_empty()
    });
    let answer = wait_for(Duration::from_secs(20), || {
        http_get(port).is_some_and(|r| r.contains("hello from gunicorn"))
    });
    assert!(
        agent_up,
        "no whatap_python process runs from {}",
        home.display()
    );
    assert!(
        answer,
        "gunicorn on 127.0.0.1:{port} does not answer through the wrapper"
    );
    assert!(
        wait_for(Duration::from_secs(20), || accepted.load(Ordering::SeqCst)
            > 0),
        "the agent never connected to the collector on 127.0.0.1:{collector_port}"
    );
    assert!(
        home.join("logs/whatap-hook.log").is_file(),
        "the package writes its hook log under WHATAP_HOME"
    );

    let ids = doctor_ids(&state, &home);
    for quiet in [
        "python-not-wrapped",
        "python-agent-not-running",
        "python-package-missing",
        "conf-missing-key",
    ] {
        assert!(!ids.iter().any(|i| i == quiet), "{quiet} in {ids:?}");
    }
    let detect = whatap(&state).args(["detect", "--json"]).output().unwrap();
    let detect: serde_json::Value = serde_json::from_slice(&detect.stdout).unwrap();
    let found = detect["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["home"].as_str() == Some(home.to_str().unwrap()))
        .unwrap_or_else(|| panic!("detect did not find the app: {detect}"));
    assert_eq!(found["agent"], "loaded");
    assert_eq!(found["details"]["server"], "gunicorn");

    reaper.kill_all();
    assert!(
        wait_for(Duration::from_secs(5), || pids_named_in(
            "whatap_python",
            &home
        )
        .is_empty()),
        "the agent is still running"
    );
    uninstall_runtime(&state, "python", &home);
    assert_eq!(fs::read_to_string(&script).unwrap(), original);
}

/// Real supervisord (PyPI) running gunicorn: `install --pid` finds the program file through
/// supervisord's own config, wraps its `command =`, `supervisorctl update` restarts it through
/// whatap-start-agent, and uninstall restores the file.
#[test]
fn supervisor_program_found_from_the_running_app() {
    let Some(venv) = python_venv() else { return };
    if !must_have(
        "supervisor in the test venv",
        venv.join("bin/supervisord").is_file(),
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let app_dir = root.join("app");
    fs::create_dir_all(root.join("conf.d")).unwrap();
    fs::create_dir(&app_dir).unwrap();
    fs::write(app_dir.join("app.py"), APP).unwrap();
    let port = free_port();
    let main = root.join("supervisord.conf");
    fs::write(
        &main,
        format!(
            "[unix_http_server]\nfile={r}/supervisor.sock\n\n[supervisord]\nlogfile={r}/supervisord.log\npidfile={r}/supervisord.pid\nnodaemon=true\n\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n[supervisorctl]\nserverurl=unix://{r}/supervisor.sock\n\n[include]\nfiles = conf.d/*.conf\n",
            r = root.display()
        ),
    )
    .unwrap();
    let program = root.join("conf.d/demo.conf");
    let original = format!(
        "; the demo app\n[program:demo]\ndirectory = {}\ncommand = {} -b 127.0.0.1:{port} --workers 1 app:application\nstopasgroup = true\nkillasgroup = true\n",
        app_dir.display(),
        venv.join("bin/gunicorn").display()
    );
    fs::write(&program, &original).unwrap();
    let home = root.join("whatap");
    let state = root.join("state");
    let (collector_port, _) = collector();
    let mut reaper = Reaper::default();
    let supervisord = reaper.spawn(
        Command::new(venv.join("bin/supervisord"))
            .arg("-c")
            .arg(&main)
            .env_remove("WHATAP_HOME")
            .env_remove("PYTHONPATH")
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    assert!(
        wait_for(Duration::from_secs(20), || http_get(port).is_some()),
        "gunicorn under supervisord does not answer"
    );
    // The gunicorn master: supervisord's child.
    let master = fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            fs::read_to_string(format!("/proc/{pid}/status"))
                .is_ok_and(|s| s.contains(&format!("PPid:\t{supervisord}\n")))
        })
        .expect("gunicorn master under supervisord");
    reaper.pid(master);
    let out = whatap(&state)
        .args([
            "install",
            "--runtime",
            "python",
            "--pid",
            &master.to_string(),
        ])
        .arg("--whatap-home")
        .arg(&home)
        .args(["--license", LICENSE, "--host", "127.0.0.1"])
        .args(["--set", &format!("whatap.server.port={collector_port}")])
        .arg("--yes")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("supervisorctl update && supervisorctl restart demo"),
        "{stdout}"
    );
    let wrapped = fs::read_to_string(&program).unwrap();
    assert!(
        wrapped.contains(&format!(
            "command = env WHATAP_HOME={} {}",
            home.display(),
            venv.join("bin/whatap-start-agent").display()
        )),
        "{wrapped}"
    );
    let ctl = Command::new(venv.join("bin/supervisorctl"))
        .arg("-c")
        .arg(&main)
        .arg("update")
        .output()
        .unwrap();
    assert!(ctl.status.success(), "{ctl:?}");
    let agent_up = wait_for(Duration::from_secs(20), || {
        let agents = pids_named_in("whatap_python", &home);
        agents.iter().for_each(|&pid| reaper.pid(pid));
        !agents.is_empty()
    });
    assert!(agent_up, "supervisorctl update did not start whatap_python");
    assert!(
        wait_for(Duration::from_secs(20), || {
            http_get(port).is_some_and(|r| r.contains("hello from gunicorn"))
        }),
        "the wrapped app does not answer"
    );
    let ids = doctor_ids(&state, &home);
    assert!(!ids.iter().any(|i| i.starts_with("python-")), "{ids:?}");
    reaper.kill_all();
    uninstall_runtime(&state, "python", &home);
    assert_eq!(fs::read_to_string(&program).unwrap(), original);
}
