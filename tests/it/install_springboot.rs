//! Spring Boot / plain `java -jar`: a real JVM (`java -jar app.jar`, the stub's idle main) found
//! by PID; the systemd drop-in keeps the JAVA_TOOL_OPTIONS the application already runs with and
//! adds the agent (proved by starting a JVM with the drop-in's environment: premain runs);
//! `--start-script` gets JAVA_TOOL_OPTIONS right before its java command (proved by running
//! the script). Uninstall removes the drop-in and its directory, and restores the script byte
//! for byte.

use crate::common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn app(dir: &Path) -> PathBuf {
    let jar = dir.join("app/app.jar");
    fs::create_dir_all(jar.parent().unwrap()).unwrap();
    fs::copy(stub_jar(), &jar).unwrap();
    jar
}

#[test]
fn systemd_drop_in_keeps_existing_tool_options() {
    let dir = tempfile::tempdir().unwrap();
    let jar = app(dir.path());
    let app_jvm = Jvm::spawn(
        Command::new("java")
            .arg("-jar")
            .arg(&jar)
            .env("JAVA_TOOL_OPTIONS", "-Dfile.encoding=UTF-8"),
    );
    let pid = app_jvm.pid().to_string();
    std::thread::sleep(Duration::from_millis(300));
    let systemd = dir.path().join("systemd");
    let whatap_home = dir.path().join("whatap");
    let mut install = install_args_for(
        ["--pid", &pid, "--unit", "orders", "--systemd-dir"]
            .map(String::from)
            .into_iter()
            .chain([systemd.display().to_string()]),
    );
    install.extend([
        "--whatap-home".to_string(),
        whatap_home.display().to_string(),
    ]);
    install.extend(["--port".to_string(), "8081".to_string()]);
    let state = dir.path().join("state");
    let out = whatap(&state)
        .args(&install)
        .args(["--yes", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report = json(&out.stdout);
    assert_eq!(report["runtime"], "springboot");
    assert!(
        report["next_steps"]
            .to_string()
            .contains("systemctl daemon-reload && systemctl restart orders.service")
    );
    let drop_in = systemd.join("orders.service.d/whatap.conf");
    let text = fs::read_to_string(&drop_in).unwrap();
    insta::assert_snapshot!(
        "drop-in",
        text.replace(&dir.path().display().to_string(), "[TMP]")
    );
    // The drop-in's environment, given to a new JVM the way systemd would: the agent loads.
    let value = text
        .lines()
        .find_map(|l| l.strip_prefix("Environment=\"JAVA_TOOL_OPTIONS="))
        .unwrap()
        .trim_end_matches('"')
        .to_string();
    assert!(
        value.starts_with("-Dfile.encoding=UTF-8 -javaagent:"),
        "{value}"
    );
    let marker = dir.path().join("marker");
    let restarted = Jvm::spawn(Command::new("java").arg("-jar").arg(&jar).env(
        "JAVA_TOOL_OPTIONS",
        format!("{value} -Dwhatap.stub.marker={}", marker.display()),
    ));
    assert!(wait_for_marker(&marker, 1).starts_with("pid="));
    drop(restarted);
    drop(app_jvm);

    whatap(&state)
        .args(["uninstall", "--yes", "--unit", "orders", "--systemd-dir"])
        .arg(&systemd)
        .assert()
        .success();
    assert!(!drop_in.exists());
    assert!(
        !drop_in.parent().unwrap().exists(),
        "the .d directory we created is gone"
    );
}

#[test]
fn start_script_gets_tool_options_before_its_java_command() {
    let dir = tempfile::tempdir().unwrap();
    let jar = app(dir.path());
    let script = dir.path().join("app/start.sh");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\n# starts the orders service\nexec java -jar {}",
            jar.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let original = fs::read(&script).unwrap();
    let state = dir.path().join("state");
    let install = install_args_for(["--start-script".to_string(), script.display().to_string()]);
    whatap(&state)
        .args(&install)
        .arg("--yes")
        .assert()
        .success();
    // What the application already had in JAVA_TOOL_OPTIONS stays in front of the agent.
    let marker = dir.path().join("marker");
    let jvm = Jvm::spawn(Command::new(&script).env(
        "JAVA_TOOL_OPTIONS",
        format!("-Dwhatap.stub.marker={}", marker.display()),
    ));
    assert!(wait_for_marker(&marker, 1).starts_with("pid="));
    drop(jvm);
    whatap(&state)
        .args(["uninstall", "--yes", "--start-script"])
        .arg(&script)
        .assert()
        .success();
    assert_eq!(fs::read(&script).unwrap(), original);
}

#[test]
fn pid_outside_any_service_needs_unit_or_script() {
    let cgroup = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    if cgroup.contains(".service") {
        eprintln!("SKIPPED: this test runs inside a systemd service");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let jar = app(dir.path());
    let jvm = Jvm::spawn(Command::new("java").arg("-jar").arg(&jar));
    std::thread::sleep(Duration::from_millis(300));
    let install = install_args_for(["--pid".to_string(), jvm.pid().to_string()]);
    let out = whatap(&dir.path().join("state"))
        .args(&install)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not run by a systemd service") && err.contains("--unit"),
        "{err}"
    );
}

#[test]
fn a_later_assignment_in_the_script_does_not_drop_the_agent() {
    let dir = tempfile::tempdir().unwrap();
    let jar = app(dir.path());
    let marker = dir.path().join("marker");
    let script = dir.path().join("app/start.sh");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\n# starts the orders service\nJAVA_TOOL_OPTIONS=\"-Dwhatap.stub.marker={}\"\nexport JAVA_TOOL_OPTIONS\ncd \"$(dirname \"$0\")\"\nexec java \\\n  -jar {}\n",
            marker.display(),
            jar.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let state = dir.path().join("state");
    let install = install_args_for(["--start-script".to_string(), script.display().to_string()]);
    whatap(&state)
        .args(&install)
        .arg("--yes")
        .assert()
        .success();
    let text = fs::read_to_string(&script).unwrap();
    let block = text.find("########## WHATAP").unwrap();
    assert!(
        text.find("export JAVA_TOOL_OPTIONS\n").unwrap() < block
            && block < text.find("exec java").unwrap(),
        "{text}"
    );
    let jvm = Jvm::spawn(&mut Command::new(&script));
    assert!(wait_for_marker(&marker, 1).starts_with("pid="));
    drop(jvm);
}

#[test]
fn a_script_that_runs_no_java_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("start.sh");
    fs::write(
        &script,
        "#!/bin/sh\n# java -jar app.jar is in run.sh\nexec ./run.sh\n",
    )
    .unwrap();
    let before = tree_bytes(dir.path());
    let out = whatap(&dir.path().join("state"))
        .args(install_args_for([
            "--start-script".to_string(),
            script.display().to_string(),
        ]))
        .arg("--yes")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("start.sh: no line runs `java`"), "{err}");
    assert_same_tree(&tree_bytes(dir.path()), &before, "refused install");
}

#[test]
fn the_units_own_tool_options_are_kept_and_a_later_drop_in_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let systemd = dir.path().join("systemd");
    let unit = format!("whatap-test-orders-{}", std::process::id());
    fs::create_dir_all(systemd.join(format!("{unit}.service.d"))).unwrap();
    fs::write(
        systemd.join(format!("{unit}.service")),
        "[Unit]\nDescription=orders\n\n[Service]\nEnvironment=\"JAVA_TOOL_OPTIONS=-Xmx1g\" LANG=C\nExecStart=/usr/bin/java -jar /srv/orders/app.jar\n",
    )
    .unwrap();
    // A drop-in read before ours adds to it; ours must keep what it makes.
    fs::write(
        systemd.join(format!("{unit}.service.d/10-heap.conf")),
        "[Service]\nEnvironment=JAVA_TOOL_OPTIONS=-Xmx2g\n",
    )
    .unwrap();
    let mut install = install_args_for(
        ["--unit", &unit, "--systemd-dir"]
            .map(String::from)
            .into_iter()
            .chain([systemd.display().to_string()]),
    );
    install.extend([
        "--whatap-home".to_string(),
        dir.path().join("whatap").display().to_string(),
    ]);
    let state = dir.path().join("state");
    whatap(&state)
        .args(&install)
        .arg("--yes")
        .assert()
        .success();
    let drop_in = systemd.join(format!("{unit}.service.d/whatap.conf"));
    let text = fs::read_to_string(&drop_in).unwrap();
    assert!(
        text.contains("Environment=\"JAVA_TOOL_OPTIONS=-Xmx2g -javaagent:"),
        "{text}"
    );
    whatap(&state)
        .args(["uninstall", "--yes", "--unit", &unit, "--systemd-dir"])
        .arg(&systemd)
        .assert()
        .success();
    // A drop-in read after ours would replace the agent's value: refused, nothing written.
    fs::write(
        systemd.join(format!("{unit}.service.d/zz-local.conf")),
        "[Service]\nEnvironment=JAVA_TOOL_OPTIONS=-Xms1g\n",
    )
    .unwrap();
    let out = whatap(&state).args(&install).arg("--yes").output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("zz-local.conf"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!drop_in.exists());
}
