//! `install --attach`: the HotSpot attach protocol spoken natively against real JVMs (the stub
//! jar's idle main with Tomcat's command-line shape): the stub's agentmain runs in the running
//! JVM; the same as another user (the JVM runs as `nobody`, whatap as root); refusals before
//! anything is written for -XX:+DisableAttachMechanism.

use crate::common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A JVM shaped like Tomcat on `home`, running the stub's idle main (no agent), optionally
/// through a command prefix (`setpriv ...` to run it as another user).
fn start(home: &Path, marker: &Path, prefix: &[&str], extra: &[&str]) -> Jvm {
    let (program, mut args): (String, Vec<String>) = match prefix.split_first() {
        Some((first, rest)) => (
            first.to_string(),
            rest.iter()
                .map(|s| s.to_string())
                .chain(["java".to_string()])
                .collect(),
        ),
        None => ("java".to_string(), Vec::new()),
    };
    args.extend([
        format!("-Dcatalina.home={}", home.display()),
        format!("-Dcatalina.base={}", home.display()),
        format!("-Dwhatap.stub.marker={}", marker.display()),
    ]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["-cp".to_string(), stub_app_jar().display().to_string()]);
    args.extend(["IdleMain", "org.apache.catalina.startup.Bootstrap", "start"].map(String::from));
    let jvm = Jvm::spawn(Command::new(program).args(args).current_dir(home));
    // Until the JVM is up (its cmdline shows the main class).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let cmdline = fs::read(format!("/proc/{}/cmdline", jvm.pid())).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains("IdleMain") {
            break;
        }
        assert!(Instant::now() < deadline, "JVM did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    jvm
}

fn java_pid(jvm: &Jvm) -> u32 {
    // setpriv execs java: same pid.
    jvm.pid()
}

fn wait_for_agentmain(marker: &Path, pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = fs::read_to_string(marker).unwrap_or_default();
        if text.contains(&format!("agentmain pid={pid}")) {
            return;
        }
        assert!(Instant::now() < deadline, "agentmain never ran: {text:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn install_attach(state: &Path, home: &Path) -> std::process::Output {
    whatap(state)
        .args(install_args(home))
        .args(["--attach", "--yes", "--json"])
        .output()
        .unwrap()
}

#[test]
fn attach_loads_agentmain_into_a_running_jvm() {
    let (dir, home) = fixture("tomcat9");
    let marker = dir.path().join("marker");
    let jvm = start(&home, &marker, &[], &[]);
    let pid = java_pid(&jvm);
    let out = install_attach(&dir.path().join("state"), &home);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report = json(&out.stdout);
    assert_eq!(report["attach"]["ok"], true, "{report}");
    assert_eq!(report["attach"]["pid"], pid);
    wait_for_agentmain(&marker, pid);
    // The javaagent option for the next restart is installed too.
    assert!(
        fs::read_to_string(home.join("bin/setenv.sh"))
            .unwrap()
            .contains("-javaagent:")
    );
    // The attached agent is not on the command line, yet doctor and detect see it loaded.
    let state = dir.path().join("state");
    let home_arg = home.display().to_string();
    let doctor = |state: &Path| {
        let out = whatap(state)
            .args(["doctor", "--json", "--no-network", "--home", &home_arg])
            .output()
            .unwrap();
        (out.status.code(), finding_ids(&json(&out.stdout)))
    };
    let (code, ids) = doctor(&state);
    assert!(!ids.contains(&"agent-not-loaded".to_string()), "{ids:?}");
    assert_eq!(code, Some(0), "{ids:?}");
    let detect = json(
        &whatap(&state)
            .args(["detect", "--json"])
            .output()
            .unwrap()
            .stdout,
    );
    let me = detect["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["pid"] == pid)
        .unwrap_or_else(|| panic!("{detect}"));
    assert_eq!(me["agent"], "loaded", "{me}");
    // Uninstalled: still attached now, but gone after a restart: said so.
    whatap(&state)
        .args(["uninstall", "--yes", "--home", &home_arg])
        .assert()
        .success();
    let (_, ids) = doctor(&state);
    assert!(ids.contains(&"agent-attached-only".to_string()), "{ids:?}");
}

#[test]
fn attach_as_the_jvms_user() {
    let setpriv = Path::new("/usr/bin/setpriv");
    if !setpriv.exists() || unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: needs root and setpriv to run the JVM as another user");
        return;
    }
    let (dir, home) = fixture("tomcat9");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let run = dir.path().join("run");
    fs::create_dir_all(&run).unwrap();
    fs::set_permissions(&run, fs::Permissions::from_mode(0o777)).unwrap();
    let marker = run.join("marker");
    let jvm = start(
        &home,
        &marker,
        &[
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
        ],
        &[],
    );
    let pid = java_pid(&jvm);
    let out = install_attach(&dir.path().join("state"), &home);
    let report = json(&out.stdout);
    assert_eq!(report["attach"]["ok"], true, "{report}");
    wait_for_agentmain(&marker, pid);
    // No root-owned attach file left in the JVM's directories.
    assert!(!home.join(format!(".attach_pid{pid}")).exists());
}

#[test]
fn disabled_attach_is_refused_before_anything_is_written() {
    let (dir, home) = fixture("tomcat9");
    let marker = dir.path().join("marker");
    let _jvm = start(&home, &marker, &[], &["-XX:+DisableAttachMechanism"]);
    let before = tree_bytes(&home);
    let out = whatap(&dir.path().join("state"))
        .args(install_args(&home))
        .args(["--attach", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("DisableAttachMechanism") && err.contains("hint:"),
        "{err}"
    );
    assert_same_tree(&tree_bytes(&home), &before, "refused attach");
}
