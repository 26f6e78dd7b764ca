//! The guide's other Python start forms, each with its real server: a Debian-style init.d
//! script whose do_start runs gunicorn through start-stop-daemon (`--exec $DAEMON`), a real
//! uWSGI (Debian's uwsgi-core + uwsgi-plugin-python3) started with `--ini`, and a real Apache
//! with mod_wsgi (Debian's libapache2-mod-wsgi-py3) serving a WSGI app. Each: install, the app
//! answers, the real whatap_python agent runs from WHATAP_HOME, doctor is clean, uninstall
//! stops the agent and gives every byte back.

use crate::common::*;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const APP: &str = "def application(environ, start_response):\n    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [b'hello from the app\\n']\n";

fn answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.contains("hello from the app")
}

/// A temp dir every user can traverse (Apache's children run as www-data).
fn open_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// `root/app/app.py`, the demo WSGI app; returns `root/app`.
fn app_in(root: &Path) -> std::path::PathBuf {
    let app = root.join("app");
    fs::create_dir(&app).unwrap();
    fs::write(app.join("app.py"), APP).unwrap();
    app
}

fn write_exec(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// `whatap ARGS --yes` for python with the license and a loopback collector; must succeed.
fn install(state: &Path, target: &[&str], extra: &[&str]) -> serde_json::Value {
    json_ok(
        whatap(state)
            .args(["install", "--runtime", "python"])
            .args(target)
            .args(extra)
            .args(LICENSED_YES_JSON),
        &format!("install {target:?}"),
    )
}

/// Doctor with the selector: its finding ids (no network).
fn doctor(state: &Path, target: &[&str]) -> Vec<String> {
    let out = whatap(state)
        .args(["doctor", "--runtime", "python", "--no-network", "--json"])
        .args(target)
        .output()
        .unwrap();
    finding_ids(&json(&out.stdout))
}

fn uninstall(state: &Path, target: &[&str]) -> serde_json::Value {
    json_ok(
        whatap(state)
            .args(["uninstall", "--runtime", "python", "--yes", "--json"])
            .args(target),
        &format!("uninstall {target:?}"),
    )
}

/// Waits for the agent to run from `home`, recording it with the reaper.
fn agent_runs(reaper: &mut Reaper, home: &Path) -> bool {
    wait_for(Duration::from_secs(30), || {
        let agents = pids_named_in("whatap_python", home);
        agents.iter().for_each(|&pid| reaper.pid(pid));
        !agents.is_empty()
    })
}

fn agent_gone(home: &Path) -> bool {
    wait_for(Duration::from_secs(10), || {
        pids_named_in("whatap_python", home).is_empty()
    })
}

/// Debian's init.d skeleton running gunicorn through start-stop-daemon: the `--exec $DAEMON`
/// line gets `env WHATAP_HOME=` and `--startas whatap-start-agent`; `script start` runs the
/// app through the agent; uninstall (by `--start-script` alone) stops the agent and restores
/// the script.
#[test]
fn init_d_script_through_start_stop_daemon() {
    let Some(venv) = python_venv() else { return };
    if !must_have(
        "start-stop-daemon (dpkg)",
        Path::new("/usr/sbin/start-stop-daemon").exists()
            || Path::new("/sbin/start-stop-daemon").exists(),
    ) {
        return;
    }
    let dir = open_dir();
    let root = dir.path();
    let app = app_in(root);
    let port = free_port();
    let script = root.join("gunicorn-app");
    let original = format!(
        "#!/bin/sh\n### BEGIN INIT INFO\n# Provides:          gunicorn-app\n### END INIT INFO\n\
         NAME=\"gunicorn\"\nPATH=/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\n\
         DAEMON={gunicorn}\nDAEMON_ARGS=\"-b 127.0.0.1:{port} --workers 1 --chdir {app} app:application\"\n\
         PIDFILE={root}/gunicorn.pid\n\n\
         do_start()\n{{\n\
         \tstart-stop-daemon --start --quiet --pidfile $PIDFILE --exec $DAEMON --test > /dev/null \\\n\t\t|| return 1\n\
         \tstart-stop-daemon --start --quiet --background --make-pidfile --pidfile $PIDFILE --exec $DAEMON -- \\\n\
         \t\t$DAEMON_ARGS \\\n\t\t|| return 2\n}}\n\n\
         do_stop()\n{{\n\tstart-stop-daemon --stop --quiet --retry TERM/5/KILL/5 --pidfile $PIDFILE --remove-pidfile\n}}\n\n\
         case \"$1\" in\n  start) do_start ;;\n  stop) do_stop ;;\nesac\n",
        gunicorn = venv.join("bin/gunicorn").display(),
        app = app.display(),
        root = root.display(),
    );
    write_exec(&script, &original);
    let home = root.join("whatap");
    let state = root.join("state");
    let s = script.display().to_string();
    let h = home.display().to_string();
    install(&state, &["--start-script", &s, "--whatap-home", &h], &[]);
    let wrapped = fs::read_to_string(&script).unwrap();
    assert!(
        wrapped.contains(&format!(
            "\tenv WHATAP_HOME={h} start-stop-daemon --start --quiet --background --make-pidfile --pidfile $PIDFILE --exec $DAEMON --startas {} -- $DAEMON \\\n",
            venv.join("bin/whatap-start-agent").display()
        )),
        "{wrapped}"
    );
    // Installing again changes nothing.
    let again = install(&state, &["--start-script", &s, "--whatap-home", &h], &[]);
    assert_eq!(again["changed"], false);

    let mut reaper = Reaper::default();
    // The script daemonises gunicorn, so the reaper did not spawn it: `whatap detect` lists it
    // while it runs.
    let _detectable = host::DETECTABLE.shared();
    let started = Command::new(&script)
        .arg("start")
        .env_remove("WHATAP_HOME")
        .env_remove("PYTHONPATH")
        .status()
        .unwrap();
    assert!(started.success());
    let pid: u32 = wait_for(Duration::from_secs(10), || {
        root.join("gunicorn.pid").exists()
    })
    .then(|| fs::read_to_string(root.join("gunicorn.pid")).unwrap())
    .and_then(|p| p.trim().parse().ok())
    .expect("start-stop-daemon wrote no pidfile");
    reaper.pid(pid);
    assert!(agent_runs(&mut reaper, &home), "no whatap_python from {h}");
    assert!(
        wait_for(Duration::from_secs(20), || answers(port)),
        "gunicorn does not answer"
    );
    let ids = doctor(&state, &["--start-script", &s]);
    assert!(!ids.iter().any(|i| i.starts_with("python-")), "{ids:?}");
    assert!(
        Command::new(&script)
            .arg("stop")
            .status()
            .unwrap()
            .success()
    );
    // The agent outlives the app it was started with: uninstall is what stops it.
    std::thread::sleep(Duration::from_millis(500));
    assert!(!pids_named_in("whatap_python", &home).is_empty());

    let report = uninstall(&state, &["--start-script", &s]);
    assert_eq!(report["changed"], true);
    assert!(agent_gone(&home), "uninstall left the agent running");
    assert_eq!(fs::read_to_string(&script).unwrap(), original);
}

/// A real uWSGI started with `--ini`: the ini gets `env = WHATAP_HOME=` and the bootstrap on
/// `PYTHONPATH` after its `[uwsgi]` line, whatap.conf `whatap_code_start=true`; the app's own
/// interpreter starts the agent.
#[test]
fn uwsgi_ini_with_the_agent_started_by_the_app() {
    let Some(venv) = python_venv() else { return };
    let uwsgi = Path::new("/usr/bin/uwsgi");
    if !must_have(
        "uwsgi-core + uwsgi-plugin-python3",
        uwsgi.exists() && Path::new("/usr/lib/uwsgi/plugins/python3_plugin.so").exists(),
    ) {
        return;
    }
    let dir = open_dir();
    let root = dir.path();
    let app = app_in(root);
    let port = free_port();
    let ini = root.join("app.ini");
    let original = format!(
        "; the demo app\n[uwsgi]\nplugin = python3\nhttp-socket = 127.0.0.1:{port}\nchdir = {}\nmodule = app:application\nmaster = true\nprocesses = 1\nvirtualenv = {}\n",
        app.display(),
        venv.display()
    );
    fs::write(&ini, &original).unwrap();
    let home = root.join("whatap");
    let state = root.join("state");
    let i = ini.display().to_string();
    let h = home.display().to_string();
    let report = install(&state, &["--start-script", &i, "--whatap-home", &h], &[]);
    assert!(report.get("run").is_none(), "the venv has whatap-python");
    let text = fs::read_to_string(&ini).unwrap();
    assert!(
        text.starts_with(&format!(
            "; the demo app\n[uwsgi]\n; ########## WHATAP ############\nenv = WHATAP_HOME={h}\nenv = PYTHONPATH="
        )),
        "{text}"
    );
    let conf = fs::read_to_string(home.join("whatap.conf")).unwrap();
    assert!(conf.contains("whatap_code_start=true"), "{conf}");
    assert!(conf.contains("app_process_name=uwsgi"), "{conf}");

    let mut reaper = Reaper::default();
    reaper.spawn(
        Command::new(uwsgi)
            .arg("--ini")
            .arg(&ini)
            .env_remove("WHATAP_HOME")
            .env_remove("PYTHONPATH")
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    assert!(
        wait_for(Duration::from_secs(20), || answers(port)),
        "uwsgi does not answer"
    );
    assert!(agent_runs(&mut reaper, &home), "no whatap_python from {h}");
    let ids = doctor(&state, &["--start-script", &i]);
    assert!(!ids.iter().any(|i| i.starts_with("python-")), "{ids:?}");
    // Found from the running uWSGI too: its WHATAP_HOME is in its ini's env options.
    let ids = doctor(&state, &["--whatap-home", &h]);
    assert!(!ids.iter().any(|i| i.starts_with("python-")), "{ids:?}");

    // An agent a uWSGI worker started late on a busy machine could still rewrite whatap.conf
    // (whatap-python writes its UDP port there) while uninstall removes it: reaped too.
    for pid in pids_named_in("whatap_python", &home) {
        reaper.pid(pid);
    }
    reaper.kill_all();
    assert!(agent_gone(&home), "an agent from {h} still runs");
    let report = uninstall(&state, &["--start-script", &i]);
    assert_eq!(fs::read_to_string(&ini).unwrap(), original);
    assert!(
        !home.join("whatap.conf").exists(),
        "{report:#}\n{}",
        fs::read_to_string(home.join("whatap.conf")).unwrap_or_default()
    );
}

/// A real Apache with mod_wsgi: its conf gets the guide's `SetEnv WHATAP_HOME` before the WSGI
/// directives, the script that starts Apache is wrapped so the agent runs beside it (and
/// mod_wsgi's interpreter gets the bootstrap); both files come back byte for byte from one
/// uninstall of the WHATAP_HOME.
#[test]
fn apache_mod_wsgi_with_the_agent_beside_it() {
    let Some(venv) = python_venv() else { return };
    let modules = Path::new("/usr/lib/apache2/modules");
    if !must_have(
        "apache2 + libapache2-mod-wsgi-py3",
        Path::new("/usr/sbin/apache2").exists() && modules.join("mod_wsgi.so").exists(),
    ) {
        return;
    }
    let dir = open_dir();
    let root = dir.path();
    let run = root.join("run");
    fs::create_dir(&run).unwrap();
    let wsgi = root.join("app.wsgi");
    fs::write(&wsgi, APP).unwrap();
    fs::set_permissions(&wsgi, fs::Permissions::from_mode(0o644)).unwrap();
    let port = free_port();
    let conf = root.join("httpd.conf");
    let m = modules.display();
    let original_conf = format!(
        "ServerRoot {r}\nDefaultRuntimeDir {r}\nMutex file:{r}\nPidFile {r}/httpd.pid\nErrorLog {r}/error.log\n\
         Listen 127.0.0.1:{port}\nServerName 127.0.0.1\n\
         LoadModule mpm_prefork_module {m}/mod_mpm_prefork.so\nLoadModule authz_core_module {m}/mod_authz_core.so\n\
         LoadModule env_module {m}/mod_env.so\nLoadModule wsgi_module {m}/mod_wsgi.so\n\
         User www-data\nGroup www-data\nStartServers 1\nMinSpareServers 1\nMaxSpareServers 2\n\
         <VirtualHost 127.0.0.1:{port}>\n    WSGIDaemonProcess demo processes=1 threads=2 python-home={venv}\n    WSGIProcessGroup demo\n\
         \x20   WSGIScriptAlias / {wsgi}\n    <Directory {d}>\n        Require all granted\n    </Directory>\n</VirtualHost>\n",
        r = run.display(),
        venv = venv.display(),
        wsgi = wsgi.display(),
        d = root.display(),
    );
    fs::write(&conf, &original_conf).unwrap();
    let start = root.join("start-apache.sh");
    let original_start = format!(
        "#!/bin/sh\n# the demo site\nexec /usr/sbin/apache2 -DFOREGROUND -f {}\n",
        conf.display()
    );
    write_exec(&start, &original_start);
    let home = root.join("whatap");
    let state = root.join("state");
    let h = home.display().to_string();
    let c = conf.display().to_string();
    let st = start.display().to_string();
    let report = install(&state, &["--start-script", &c, "--whatap-home", &h], &[]);
    assert!(
        report["next_steps"]
            .to_string()
            .contains("whatap-start-agent"),
        "{report}"
    );
    let text = fs::read_to_string(&conf).unwrap();
    assert!(
        text.contains(&format!(
            "<VirtualHost 127.0.0.1:{port}>\n########## WHATAP ############\n    SetEnv WHATAP_HOME {h}\n########## WHATAP ############\n    WSGIDaemonProcess"
        )),
        "{text}"
    );
    let python = venv.display().to_string();
    install(
        &state,
        &["--start-script", &st, "--whatap-home", &h],
        &["--python", &python],
    );
    let wrapped = fs::read_to_string(&start).unwrap();
    assert!(
        wrapped.contains(&format!("exec env WHATAP_HOME={h} ")),
        "{wrapped}"
    );
    let check = Command::new("/usr/sbin/apache2")
        .args(["-t", "-f"])
        .arg(&conf)
        .output()
        .unwrap();
    assert!(check.status.success(), "apache2 -t: {check:?}");

    let mut reaper = Reaper::default();
    reaper.spawn(
        Command::new(&start)
            .env_remove("WHATAP_HOME")
            .env_remove("PYTHONPATH")
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    assert!(
        wait_for(Duration::from_secs(30), || answers(port)),
        "mod_wsgi does not answer: {}",
        fs::read_to_string(run.join("error.log")).unwrap_or_default()
    );
    assert!(agent_runs(&mut reaper, &home), "no whatap_python from {h}");
    let ids = doctor(&state, &["--start-script", &c]);
    assert!(!ids.iter().any(|i| i.starts_with("python-")), "{ids:?}");

    reaper.kill_all();
    uninstall(&state, &["--whatap-home", &h]);
    assert_eq!(fs::read_to_string(&conf).unwrap(), original_conf);
    assert_eq!(fs::read_to_string(&start).unwrap(), original_start);
}

/// PEP 668: Debian's system python3 carries EXTERNALLY-MANAGED; pip into it is refused
/// (exit 3, nothing written) unless --break-system-packages says so, which pip is then told.
#[test]
fn the_distributions_python_is_refused_for_pip() {
    let python = Path::new("/usr/bin/python3");
    let marker = Command::new(python)
        .args([
            "-c",
            "import sysconfig, os; print(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED'))",
        ])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if !must_have(
        "Debian's python3 with its EXTERNALLY-MANAGED marker",
        marker.as_ref().is_some_and(|m| m.is_file()),
    ) {
        return;
    }
    let has_whatap = Command::new(python)
        .args(["-c", "import whatap"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if has_whatap {
        eprintln!("SKIPPED: whatap is importable from the system python3");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("start.sh");
    let original = "#!/bin/sh\nexec gunicorn app:application\n";
    write_exec(&script, original);
    let home = dir.path().join("whatap");
    let state = dir.path().join("state");
    let args = |extra: &[&str]| {
        let mut cmd = whatap(&state);
        cmd.args(["install", "--runtime", "python", "--start-script"])
            .arg(&script)
            .arg("--whatap-home")
            .arg(&home)
            .args(["--python", "/usr/bin/python3"])
            .args(["--license", LICENSE, "--host", "127.0.0.1"])
            .args(extra);
        cmd
    };
    let out = args(&["--yes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("PEP 668"), "{stderr}");
    assert!(stderr.contains("--break-system-packages"), "{stderr}");
    assert_eq!(fs::read_to_string(&script).unwrap(), original);
    assert!(!home.exists() && !state.join("ledger.json").exists());
    let out = args(&["--break-system-packages", "--dry-run", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let report = json(&out.stdout);
    assert!(
        report["run"][0]
            .as_str()
            .unwrap()
            .ends_with("-m pip install --break-system-packages whatap-python"),
        "{report}"
    );
}
