//! `whatap install --runtime python` / `--runtime infra` on files in temp dirs: supervisor
//! `command =`, a systemd unit's drop-in, the pip step for an interpreter without
//! whatap-python, the infra whatap.conf; each reversed byte for byte by uninstall.

use crate::common::*;
use std::fs;
use std::path::{Path, PathBuf};

fn python_install(state: &Path, home: &Path, venv: &Path) -> assert_cmd::Command {
    let mut cmd = whatap(state);
    cmd.args(["install", "--runtime", "python", "--home"])
        .arg(home)
        .arg("--python")
        .arg(venv)
        .args(["--license", LICENSE, "--host", "127.0.0.1/127.0.0.2"]);
    cmd
}

#[test]
fn supervisor_program_command_is_wrapped_and_restored() {
    let Some(venv) = python_venv() else { return };
    let dir = tempfile::tempdir().unwrap();
    let conf_dir = dir.path().join("supervisor");
    fs::create_dir(&conf_dir).unwrap();
    let program = conf_dir.join("app.conf");
    // The guide's supervisor example, CRLF and no final newline: both must survive.
    let original = "[program:app-uwsgi]\r\nenvironment = LANG=C\r\ncommand = /usr/local/bin/uwsgi --ini /home/blog/backend/config/uwsgi.ini\r\n\r\n[program:nginx-app]\r\ncommand = /usr/sbin/nginx";
    fs::write(&program, original).unwrap();
    let home = dir.path().join("whatap");
    let state = dir.path().join("state");
    let out = python_install(&state, &home, &venv)
        .arg("--start-script")
        .arg(&program)
        .args(["--dry-run"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8_lossy(&out.stdout)
        .replace(&dir.path().display().to_string(), "[TMP]")
        .replace(&venv.display().to_string(), "[VENV]");
    insta::assert_snapshot!("supervisor-dry-run", shown);
    assert_eq!(fs::read_to_string(&program).unwrap(), original);

    python_install(&state, &home, &venv)
        .arg("--start-script")
        .arg(&program)
        .arg("--yes")
        .assert()
        .success();
    let wrapped = fs::read_to_string(&program).unwrap();
    assert!(wrapped.contains(&format!(
        "command = env WHATAP_HOME={} {}/bin/whatap-start-agent /usr/local/bin/uwsgi --ini",
        home.display(),
        venv.display()
    )));
    assert!(
        wrapped.ends_with("command = /usr/sbin/nginx"),
        "{wrapped:?}"
    );
    assert_eq!(
        wrapped.matches("\r\n").count(),
        original.matches("\r\n").count()
    );
    uninstall_runtime(&state, "python", &home);
    assert_eq!(fs::read_to_string(&program).unwrap(), original);
    assert!(
        !home.exists(),
        "the WHATAP_HOME this install created is gone again"
    );
}

#[test]
fn systemd_unit_gets_a_dropin_that_uninstall_removes() {
    let Some(venv) = python_venv() else { return };
    let dir = tempfile::tempdir().unwrap();
    let units = dir.path().join("system");
    fs::create_dir(&units).unwrap();
    let unit = units.join("myapp.service");
    let original = "[Unit]\nDescription=My app\n\n[Service]\nUser=www-data\nWorkingDirectory=/srv/myapp\nExecStart=-/srv/myapp/venv/bin/gunicorn \\\n    --bind 127.0.0.1:8000 myapp.wsgi\n\n[Install]\nWantedBy=multi-user.target\n";
    fs::write(&unit, original).unwrap();
    let before = tree_bytes(dir.path());
    let home = dir.path().join("whatap");
    let state = dir.path().join("state");
    python_install(&state, &home, &venv)
        .arg("--unit")
        .arg(&unit)
        .arg("--yes")
        .assert()
        .success()
        .stdout(predicates::str::contains("systemctl daemon-reload"));
    assert_eq!(
        fs::read_to_string(&unit).unwrap(),
        original,
        "the unit itself is not edited"
    );
    // WHATAP_HOME belongs to the unit's User=: the agent writes its logs there.
    let www_data = fs::read_to_string("/etc/passwd")
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("www-data:x:")?
                .split(':')
                .next()?
                .parse::<u32>()
                .ok()
        });
    // SAFETY: geteuid() has no preconditions.
    if let (Some(uid), 0) = (www_data, unsafe { libc::geteuid() }) {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(fs::metadata(&home).unwrap().uid(), uid);
    }
    let dropin = fs::read_to_string(units.join("myapp.service.d/whatap.conf")).unwrap();
    assert!(dropin.contains(&format!("Environment=WHATAP_HOME={}\n", home.display())));
    assert!(dropin.contains("\nExecStart=\n"));
    assert!(dropin.contains(&format!(
        "\nExecStart=-{}/bin/whatap-start-agent /srv/myapp/venv/bin/gunicorn --bind 127.0.0.1:8000 myapp.wsgi\n",
        venv.display()
    )));
    // Reinstall: our own drop-in is not read back as the unit's ExecStart.
    python_install(&state, &home, &venv)
        .arg("--unit")
        .arg(&unit)
        .args(["--json", "--yes"])
        .assert()
        .success()
        .stdout(predicates::str::contains("\"changed\": false"));
    uninstall_runtime(&state, "python", &home);
    let mut after = tree_bytes(dir.path());
    after.retain(|p, _| !p.starts_with("state"));
    assert_same_tree(&after, &before, "after uninstall");
}

#[test]
fn pip_step_is_shown_and_runs_only_on_apply() {
    let Some(_) = python_venv() else { return };
    let dir = tempfile::tempdir().unwrap();
    // A venv without pip and without whatap-python: the plan must install it with its own pip.
    let bare = dir.path().join("bare");
    let made = std::process::Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&bare)
        .status()
        .unwrap();
    assert!(made.success());
    let script = dir.path().join("start.sh");
    let original = "#!/bin/sh\nexec python3 manage.py runserver 127.0.0.1:8000\n";
    fs::write(&script, original).unwrap();
    let home = dir.path().join("whatap");
    let state = dir.path().join("state");
    let out = python_install(&state, &home, &bare)
        .arg("--start-script")
        .arg(&script)
        .args(["--dry-run", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let python = bare.join("bin/python3");
    assert_eq!(
        report["run"][0],
        format!("{} -m pip install whatap-python", python.display())
    );
    assert!(report["diff"].as_str().unwrap().starts_with("run: "));
    // Apply: pip is missing in that venv, so the step fails and no file is touched.
    let out = python_install(&state, &home, &bare)
        .arg("--start-script")
        .arg(&script)
        .arg("--yes")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("-m pip install whatap-python"));
    assert_eq!(fs::read_to_string(&script).unwrap(), original);
    assert!(!home.exists());
}

#[test]
fn bad_python_flags_are_refused_with_nothing_touched() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("start.sh");
    fs::write(&script, "#!/bin/sh\necho no app here\n").unwrap();
    let state = dir.path().join("state");
    let home = dir.path().join("whatap");
    for (args, needle) in [
        (
            vec!["--python", "/nonexistent/python3"],
            "--python /nonexistent/python3",
        ),
        (
            vec!["--unit", "no-such-unit-xyz"],
            "--unit no-such-unit-xyz",
        ),
        (vec!["--app-name", "a b"], "--app-name"),
    ] {
        let out = whatap(&state)
            .args(["install", "--runtime", "python", "--home"])
            .arg(&home)
            .args([
                "--license",
                LICENSE,
                "--host",
                "127.0.0.1",
                "--start-script",
            ])
            .arg(&script)
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(needle) || stderr.contains("--start-script"),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains("hint:"), "{stderr}");
    }
    let out = whatap(&state)
        .args(["install", "--runtime", "python", "--home"])
        .arg(&home)
        .args(["--license", LICENSE, "--host", "127.0.0.1"])
        .args([
            "--start-script",
            "/nonexistent/start.sh",
            "--python",
            "python3",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--start-script /nonexistent/start.sh"),
        "{stderr}"
    );
    assert!(!home.exists() && !state.exists());
}

fn infra_install(state: &Path, home: &Path) -> assert_cmd::Command {
    let mut cmd = whatap(state);
    cmd.args(["install", "--runtime", "infra", "--home"])
        .arg(home)
        .args(["--license", LICENSE, "--host", "127.0.0.1"]);
    cmd
}

fn conf_value(path: &PathBuf, key: &str) -> Option<String> {
    fs::read_to_string(path)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_string))
}

#[test]
fn infra_conf_is_merged_with_createdtime_and_restored() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("usr/whatap/infra");
    fs::create_dir_all(home.join("conf")).unwrap();
    let conf = home.join("conf/whatap.conf");
    let original = "# kept\nlicense=old-license-key\nhostname_alias=web01\n";
    fs::write(&conf, original).unwrap();
    let state = dir.path().join("state");
    let before_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    infra_install(&state, &home)
        .arg("--yes")
        .assert()
        .success()
        .stdout(predicates::str::contains("apt-get install whatap-infra"))
        .stdout(predicates::str::contains("service whatap-infra restart"));
    let text = fs::read_to_string(&conf).unwrap();
    assert!(text.starts_with("# kept\nlicense=x41pl22ek7jhv"), "{text}");
    assert!(text.contains("hostname_alias=web01\n"));
    assert_eq!(
        conf_value(&conf, "whatap.server.host").as_deref(),
        Some("127.0.0.1")
    );
    let created: u128 = conf_value(&conf, "createdtime").unwrap().parse().unwrap();
    assert!(
        created >= before_ns,
        "createdtime is `date +%s%N` (nanoseconds)"
    );
    // A second install keeps createdtime and changes nothing.
    infra_install(&state, &home)
        .args(["--json", "--yes"])
        .assert()
        .success()
        .stdout(predicates::str::contains("\"changed\": false"));
    uninstall_runtime(&state, "infra", &home);
    assert_eq!(fs::read_to_string(&conf).unwrap(), original);
}

#[test]
fn infra_conf_created_from_nothing_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("infra");
    let state = dir.path().join("state");
    infra_install(&state, &home).arg("--yes").assert().success();
    let conf = home.join("conf/whatap.conf");
    assert!(conf_value(&conf, "createdtime").is_some());
    uninstall_runtime(&state, "infra", &home);
    assert!(!home.exists(), "{:?}", tree_bytes(dir.path()));
}

#[test]
fn script_edited_after_install_loses_only_our_wrapping() {
    let Some(venv) = python_venv() else { return };
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("start.sh");
    let original = "#!/bin/sh\nexport LANG=C\nnohup gunicorn -b 127.0.0.1:8000 app:application &\n";
    fs::write(&script, original).unwrap();
    let home = dir.path().join("whatap");
    let state = dir.path().join("state");
    let install = || {
        python_install(&state, &home, &venv)
            .arg("--start-script")
            .arg(&script)
            .arg("--yes")
            .assert()
            .success();
    };
    install();
    let wrapped = fs::read_to_string(&script).unwrap();
    assert!(wrapped.contains("\nnohup env WHATAP_HOME="), "{wrapped}");
    // A person adds a line; a reinstall keeps it and does not wrap twice.
    fs::write(&script, format!("{wrapped}echo started\n")).unwrap();
    install();
    let again = fs::read_to_string(&script).unwrap();
    assert_eq!(again.matches("whatap-start-agent").count(), 1, "{again}");
    uninstall_runtime(&state, "python", &home);
    assert_eq!(
        fs::read_to_string(&script).unwrap(),
        format!("{original}echo started\n")
    );
}

/// A wheel named whatap-python (a stand-in with an empty `whatap` package), made by hand so
/// pip can install it with no index: `PIP_NO_INDEX=1 PIP_FIND_LINKS=<dir>`.
fn fake_whatap_wheel(dir: &Path) {
    let made = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, zipfile\n\
             name = 'whatap_python-0.0.1'\n\
             files = {'whatap/__init__.py': '', name + '.dist-info/METADATA': 'Metadata-Version: 2.1\\nName: whatap-python\\nVersion: 0.0.1\\n',\n\
             name + '.dist-info/WHEEL': 'Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n'}\n\
             files[name + '.dist-info/RECORD'] = ''.join(p + ',,\\n' for p in list(files) + [name + '.dist-info/RECORD'])\n\
             with zipfile.ZipFile(sys.argv[1] + '/' + name + '-py3-none-any.whl', 'w') as z:\n\
             \x20   [z.writestr(p, t) for p, t in files.items()]\n",
        )
        .arg(dir)
        .status()
        .unwrap();
    assert!(made.success());
}

/// Uninstall removes whatap-python only when install added it: a fresh venv gets it from pip
/// (the recorded `pip uninstall -y` takes it out again); a venv that already had it keeps it.
#[test]
fn uninstall_removes_the_package_only_if_install_added_it() {
    let Some(_) = python_venv() else { return };
    let dir = tempfile::tempdir().unwrap();
    let wheels = dir.path().join("wheels");
    fs::create_dir(&wheels).unwrap();
    fake_whatap_wheel(&wheels);
    let venv = dir.path().join("venv");
    let made = std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(made.success());
    let python = venv.join("bin/python3");
    let imports = || {
        std::process::Command::new(&python)
            .args(["-c", "import whatap"])
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap()
            .success()
    };
    let script = dir.path().join("start.sh");
    let original = "#!/bin/sh\nexec gunicorn app:application\n";
    fs::write(&script, original).unwrap();
    let run = |home: &Path, state: &Path| {
        python_install(state, home, &venv)
            .arg("--start-script")
            .arg(&script)
            .env("PIP_NO_INDEX", "1")
            .env("PIP_FIND_LINKS", &wheels)
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .arg("--yes")
            .assert()
            .success();
    };
    assert!(!imports());
    let (home, state) = (dir.path().join("whatap"), dir.path().join("state"));
    run(&home, &state);
    assert!(imports(), "pip did not install the package");
    uninstall_runtime(&state, "python", &home);
    assert!(!imports(), "uninstall left the package it added");
    assert_eq!(fs::read_to_string(&script).unwrap(), original);

    // Installed by the operator before: kept.
    let pip = std::process::Command::new(&python)
        .args(["-m", "pip", "install", "-q", "--no-index", "--find-links"])
        .arg(&wheels)
        .arg("whatap-python")
        .status()
        .unwrap();
    assert!(pip.success());
    let (home, state) = (dir.path().join("whatap2"), dir.path().join("state2"));
    run(&home, &state);
    uninstall_runtime(&state, "python", &home);
    assert!(imports(), "uninstall removed a package install did not add");
}
