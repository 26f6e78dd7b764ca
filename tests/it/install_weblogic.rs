//! WebLogic domains: the block after startWebLogic.sh sources setDomainEnv.sh (proved by
//! running the patched script with a stub `java`), setDomainEnv.sh when asked, a Windows
//! domain's startWebLogic.cmd (CRLF, no final newline) with `--server` (a `%SERVER_NAME%`
//! guard, run under wine in windows.rs); golden diffs, byte-identical uninstall.

use crate::common::*;
use std::fs;
use std::path::Path;
use std::process::Command;

fn weblogic_install(home: &Path, extra: &[&str]) -> Vec<String> {
    runtime_install(home, "weblogic", 7001, extra)
}

fn weblogic_round_trip(name: &str, extra: &[&str]) -> String {
    fixture_round_trip("weblogic", name, "weblogic", 7001, extra)
}

#[test]
fn start_weblogic_sh() {
    insta::assert_snapshot!("start-weblogic", weblogic_round_trip("base_domain", &[]));
}

#[test]
fn set_domain_env_when_asked() {
    insta::assert_snapshot!(
        "set-domain-env",
        weblogic_round_trip("base_domain", &["--method", "set-domain-env"])
    );
}

#[test]
fn windows_domain_cmd() {
    insta::assert_snapshot!("windows-cmd", weblogic_round_trip("windows_domain", &[]));
}

#[test]
fn the_server_gets_the_agent_once() {
    for method in ["start-weblogic", "set-domain-env"] {
        let (dir, home) = product_fixture("weblogic", "base_domain");
        whatap(&dir.path().join("state"))
            .args(weblogic_install(&home, &["--method", method, "--yes"]))
            .assert()
            .success();
        let java_home = dir.path().join("jdk");
        fs::create_dir_all(java_home.join("bin")).unwrap();
        fs::rename(stub_java(dir.path()), java_home.join("bin/java")).unwrap();
        let out = Command::new(home.join("bin/startWebLogic.sh"))
            .env("JAVA_HOME", &java_home)
            .env_remove("JAVA_OPTIONS")
            .output()
            .unwrap();
        let args: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        let agents: Vec<usize> = args
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                a.starts_with("-javaagent:") && a.ends_with("whatap.agent.tracer-0.0.1.jar")
            })
            .map(|(i, _)| i)
            .collect();
        assert_eq!(agents.len(), 1, "{method}: {args:?}");
        let main = args.iter().position(|a| a == "weblogic.Server").unwrap();
        assert!(agents[0] < main, "{method}: {args:?}");
        assert!(
            args.iter().any(|a| a == "-Dwhatap.port=7001"),
            "{method}: {args:?}"
        );
    }
}

/// A domain with an admin server and two managed servers (config.xml), a 12c setDomainEnv.sh
/// that sources setUserOverrides.sh, Node Manager without the start scripts.
fn managed_domain() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, home) = product_fixture("weblogic", "base_domain");
    write_managed_config(&home);
    let env = home.join("bin/setDomainEnv.sh");
    let mut text = fs::read_to_string(&env).unwrap();
    text.push_str("\nif [ -f ${DOMAIN_HOME}/bin/setUserOverrides.sh ] ; then\n\t. ${DOMAIN_HOME}/bin/setUserOverrides.sh\nfi\n");
    fs::write(&env, text).unwrap();
    fs::create_dir_all(home.join("nodemanager")).unwrap();
    fs::write(
        home.join("nodemanager/nodemanager.properties"),
        "ListenPort=5556\nStartScriptEnabled=false\n",
    )
    .unwrap();
    (dir, home)
}

/// config/config.xml with an admin server and two managed servers, ms1 and ms2.
fn write_managed_config(home: &Path) {
    fs::create_dir_all(home.join("config")).unwrap();
    fs::write(
        home.join("config/config.xml"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<domain xmlns=\"http://xmlns.oracle.com/weblogic/domain\">\n  <name>base_domain</name>\n  <server>\n    <name>AdminServer</name>\n  </server>\n  <server>\n    <name>ms1</name>\n    <listen-port>8001</listen-port>\n  </server>\n  <server>\n    <name>ms2</name>\n    <listen-port>8002</listen-port>\n  </server>\n  <admin-server-name>AdminServer</admin-server-name>\n</domain>\n",
    )
    .unwrap();
}

/// The windows_domain fixture at `home` as a 12c Windows domain of AdminServer, ms1 and ms2:
/// DOMAIN_HOME set to `domain_home`, setDomainEnv.cmd defaulting SERVER_NAME to AdminServer
/// and calling setUserOverrides.cmd, and startManagedWebLogic.cmd (`NAME`) as the
/// Configuration Wizard writes it in shape.
pub fn windows_managed_domain(home: &Path, domain_home: &str) {
    copy_tree(&repo().join("fixtures/weblogic/windows_domain"), home);
    write_managed_config(home);
    let start = home.join("bin/startWebLogic.cmd");
    let text = fs::read_to_string(&start).unwrap().replace(
        "C:\\oracle\\user_projects\\domains\\windows_domain",
        domain_home,
    );
    fs::write(&start, text).unwrap();
    let env = home.join("bin/setDomainEnv.cmd");
    let mut text = fs::read_to_string(&env).unwrap();
    text.push_str("if \"%SERVER_NAME%\"==\"\" set SERVER_NAME=AdminServer\r\nif exist %DOMAIN_HOME%\\bin\\setUserOverrides.cmd (\r\n  call %DOMAIN_HOME%\\bin\\setUserOverrides.cmd\r\n)\r\n");
    fs::write(&env, text).unwrap();
    fs::write(
        home.join("bin/startManagedWebLogic.cmd"),
        format!("@ECHO OFF\r\nSETLOCAL\r\nset DOMAIN_HOME={domain_home}\r\nset SERVER_NAME=%1\r\ncall \"%DOMAIN_HOME%\\bin\\startWebLogic.cmd\"\r\nENDLOCAL\r\n"),
    )
    .unwrap();
}

/// JAVA_OPTIONS after sourcing setDomainEnv.sh as server `name` (from a script in bin/, as
/// startWebLogic.sh does: setDomainEnv finds DOMAIN_HOME from `$0`).
fn java_options_for(home: &Path, name: &str) -> String {
    let script = home.join("bin/print-options.sh");
    fs::write(
        &script,
        format!(
            ". {}/bin/setDomainEnv.sh\nprintf %s \"$JAVA_OPTIONS\"\n",
            home.display()
        ),
    )
    .unwrap();
    let out = Command::new("/bin/sh")
        .arg(&script)
        .current_dir(home.join("bin"))
        .env("SERVER_NAME", name)
        .output()
        .unwrap();
    fs::remove_file(&script).unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn set_user_overrides_for_the_managed_servers() {
    let (dir, home) = managed_domain();
    let install = weblogic_install(&home, &["--method", "set-user-overrides"]);
    let state = dir.path().join("state");
    let before = tree_bytes(&home);
    let out = whatap(&state)
        .args(&install)
        .args(["--yes", "--json"])
        .output()
        .unwrap();
    let report = json(&out.stdout);
    assert!(out.status.success(), "{report}");
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("the agent goes to: ms1, ms2")
            && warnings.contains("StartScriptEnabled=false"),
        "{warnings}"
    );
    assert!(java_options_for(&home, "ms1").contains("-javaagent:"));
    assert!(java_options_for(&home, "ms2").contains("-javaagent:"));
    assert!(!java_options_for(&home, "AdminServer").contains("-javaagent:"));
    whatap(&state)
        .args(runtime_uninstall(&home, "weblogic", &["--yes"]))
        .assert()
        .success();
    assert_same_tree(&tree_bytes(&home), &before, "after uninstall");

    // --server names the admin server too; a setDomainEnv.sh that does not source the file
    // (before 12.1.2) is refused.
    whatap(&state)
        .args(&install)
        .args(["--server", "AdminServer", "--yes"])
        .assert()
        .success();
    assert!(java_options_for(&home, "AdminServer").contains("-javaagent:"));
    assert!(!java_options_for(&home, "ms1").contains("-javaagent:"));
    let (dir, home) = product_fixture("weblogic", "base_domain");
    let out = whatap(&dir.path().join("state"))
        .args(weblogic_install(
            &home,
            &["--method", "set-user-overrides", "--yes"],
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}

/// `--server ms1` on a Windows domain: the block in startWebLogic.cmd (or the
/// setUserOverrides.cmd it creates) jumps over itself for any other SERVER_NAME, CRLF kept,
/// uninstall gives back every byte. windows.rs runs the scripts under wine.
#[test]
fn server_flag_on_a_windows_domain() {
    for (method, file) in [
        ("start-weblogic", "startWebLogic.cmd"),
        ("set-user-overrides", "setUserOverrides.cmd"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("wl");
        windows_managed_domain(&home, "C:\\wl");
        let path = home.join("bin").join(file);
        let install = weblogic_install(&home, &["--method", method, "--server", "ms1"]);
        let warnings = plan_warnings(&dir.path().join("state"), &install);
        assert!(warnings.contains("the agent goes to: ms1"), "{warnings}");
        round_trip(
            dir.path(),
            &home,
            &install,
            &runtime_uninstall(&home, "weblogic", &[]),
            || {
                let text = fs::read_to_string(&path).unwrap();
                assert!(
                    text.contains(
                        "\r\nif not \"%SERVER_NAME%\"==\"ms1\" goto whatap_other_server\r\n"
                    ) && text.contains("\r\n:whatap_other_server\r\n"),
                    "{method}: {text}"
                );
                assert!(
                    !text.replace("\r\n", "").contains('\n'),
                    "{method}: CRLF kept"
                );
            },
        );
    }
}

/// A server name that the shell or cmd.exe would read as syntax is not written into a guard:
/// exit 3, nothing touched.
#[test]
fn a_server_name_the_guard_cannot_hold_is_refused() {
    let (dir, home) = managed_domain();
    let config = home.join("config/config.xml");
    let text = fs::read_to_string(&config).unwrap().replace("ms2", "ms*");
    fs::write(&config, text).unwrap();
    let before = tree_bytes(&home);
    let out = whatap(&dir.path().join("state"))
        .args(weblogic_install(&home, &["--server", "ms*", "--yes"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("server ms* of config.xml"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same_tree(&tree_bytes(&home), &before, "unsafe name");
}
