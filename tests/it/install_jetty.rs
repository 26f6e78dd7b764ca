//! Jetty install / uninstall over fixture trees (a 9.4 tarball with bin/jetty.sh and a
//! start.ini without a final newline; a Jetty 12 home + base with a CRLF start.d), golden
//! diffs, and the command line jetty.sh builds (the fixture's and a copy of Debian's real
//! jetty.sh) proved with a stub `java`.

use crate::common::*;
use std::path::Path;
use std::process::Command;

fn jetty_install(home: &Path, extra: &[&str]) -> Vec<String> {
    runtime_install(home, "jetty", 8080, extra)
}

/// Install, reinstall (no change), uninstall (every byte back); `extra` may hold --base.
fn jetty_round_trip(dir: &Path, home: &Path, tree: &Path, extra: &[&str]) -> String {
    let base: Vec<&str> = extra
        .iter()
        .position(|a| *a == "--base")
        .map(|i| vec!["--base", extra[i + 1]])
        .unwrap_or_default();
    round_trip(
        dir,
        tree,
        &jetty_install(home, extra),
        &runtime_uninstall(home, "jetty", &base),
        || {},
    )
}

/// What jetty.sh would exec, one argument a line, with `java` replaced by a printer.
fn jetty_sh_command(home: &Path, java: &Path) -> Vec<String> {
    let out = Command::new("bash")
        .arg(home.join("bin/jetty.sh"))
        .arg("run")
        .env("JAVA", java)
        .env("JETTY_HOME", home)
        .env("JETTY_STATE", home.join("jetty.state"))
        .env("JETTY_RUN", home)
        .env_remove("JAVA_OPTIONS")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn assert_agent_before_jar(args: &[String]) {
    let agent = args
        .iter()
        .position(|a| a.starts_with("-javaagent:") && a.ends_with("whatap.agent.tracer-0.0.1.jar"))
        .unwrap_or_else(|| panic!("no -javaagent: {args:?}"));
    let jar = args.iter().position(|a| a == "-jar").expect("-jar");
    assert!(agent < jar, "{args:?}");
    assert_eq!(
        args.iter().filter(|a| a.starts_with("-javaagent:")).count(),
        1,
        "{args:?}"
    );
    assert!(args.iter().any(|a| a == "-Dwhatap.port=8080"), "{args:?}");
}

#[test]
fn jetty_sh_method_on_a_tarball() {
    let (dir, home) = product_fixture("jetty", "jetty-9.4-tarball");
    let diff = jetty_round_trip(dir.path(), &home, &home, &[]);
    insta::assert_snapshot!("jetty-sh-tarball", diff);

    whatap(&dir.path().join("state2"))
        .args(jetty_install(&home, &[]))
        .arg("--yes")
        .assert()
        .success();
    let args = jetty_sh_command(&home, &stub_java(dir.path()));
    assert_agent_before_jar(&args);
}

#[test]
fn start_ini_method_keeps_a_missing_final_newline() {
    let (dir, home) = product_fixture("jetty", "jetty-9.4-tarball");
    let diff = jetty_round_trip(dir.path(), &home, &home, &["--method", "start-ini"]);
    insta::assert_snapshot!("start-ini-no-final-newline", diff);
}

#[test]
fn separate_base_gets_its_own_start_d_file() {
    let (dir, root) = product_fixture("jetty", "jetty-12");
    let home = root.join("home");
    let base = root.join("base");
    let base_arg = base.display().to_string();
    let diff = jetty_round_trip(dir.path(), &home, &root, &["--base", &base_arg]);
    insta::assert_snapshot!("start-d-jetty12", diff);
}

#[test]
fn refusals_name_the_flag() {
    let (dir, home) = product_fixture("jetty", "jetty-9.4-tarball");
    let state = dir.path().join("state");
    let before = tree_bytes(&home);
    let out = whatap(&state)
        .args(jetty_install(&home, &["--method", "catalina"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--method catalina") && err.contains("hint:"),
        "{err}"
    );
    let out = whatap(&state)
        .args(jetty_install(
            &home,
            &["--method", "start-ini", "--latest-jar", "--yes"],
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--latest-jar"));
    assert_same_tree(&tree_bytes(&home), &before, "after refusals");
}

#[test]
fn jetty_sh_method_on_a_copy_of_debians_real_jetty_sh() {
    let real = Path::new("/usr/share/jetty9");
    if !must_have(
        "jetty9 (Debian package)",
        real.join("bin/jetty.sh").exists(),
    ) {
        return;
    }
    // That jetty.sh also reads /etc/default/jetty9, where real_jetty writes its block.
    let _etc = host::hold(&host::ETC_DEFAULT_JETTY9);
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("jetty9");
    copy_tree(real, &home);
    let before = tree_bytes(&home);
    let state = dir.path().join("state");
    whatap(&state)
        .args(jetty_install(&home, &["--method", "jetty-sh"]))
        .arg("--yes")
        .assert()
        .success();
    let args = jetty_sh_command(&home, &stub_java(dir.path()));
    assert_agent_before_jar(&args);
    uninstall_runtime(&state, "jetty", &home);
    assert_same_tree(&tree_bytes(&home), &before, "after uninstall");
}
