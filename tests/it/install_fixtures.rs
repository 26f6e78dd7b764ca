//! Install / uninstall over fixture trees of tarball layouts (Tomcat 7 to 11, LF), a Windows
//! tree (.bat, CRLF), an existing setenv.sh without a final newline. Golden diffs via insta.

use crate::common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const TARBALLS: &[&str] = &["tomcat7", "tomcat8.5", "tomcat9", "tomcat10.1", "tomcat11"];

/// The plan's diff with temp paths replaced, for golden files.
fn planned_diff(dir: &Path, home: &Path, extra: &[&str]) -> String {
    let state = dir.join("state");
    let out = whatap(&state)
        .args(install_args(home))
        .args(extra)
        .args(["--dry-run", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let diff = json(&out.stdout)["diff"].as_str().unwrap().to_string();
    diff.replace(&dir.display().to_string(), "[TMP]")
}

fn install_then_uninstall_restores(name: &str, extra: &[&str]) -> String {
    let (dir, home) = fixture(name);
    let state = dir.path().join("state");
    let before = tree_bytes(&home);
    let diff = planned_diff(dir.path(), &home, extra);
    whatap(&state)
        .args(install_args(&home))
        .args(extra)
        .arg("--yes")
        .assert()
        .success();
    assert_ne!(tree_bytes(&home), before, "{name}: install changed nothing");
    whatap(&state)
        .args(["uninstall", "--yes", "--home"])
        .arg(&home)
        .assert()
        .success();
    assert_eq!(
        tree_bytes(&home),
        before,
        "{name}: uninstall did not restore every byte"
    );
    diff
}

#[test]
fn setenv_method_on_every_tarball_layout() {
    for name in TARBALLS {
        let diff = install_then_uninstall_restores(name, &[]);
        insta::assert_snapshot!(format!("setenv-{name}"), diff);
    }
}

#[test]
fn catalina_method_on_every_tarball_layout() {
    for name in TARBALLS {
        let diff = install_then_uninstall_restores(name, &["--method", "catalina"]);
        insta::assert_snapshot!(format!("catalina-{name}"), diff);
    }
}

#[test]
fn latest_jar_and_jvm_options() {
    let diff = install_then_uninstall_restores(
        "tomcat9",
        &[
            "--latest-jar",
            "--port",
            "8080",
            "--name",
            "{type}-{ip2}-{ip3}-{port}",
            "--cypher-level",
            "256",
        ],
    );
    insta::assert_snapshot!("latest-jar-options", diff);
}

#[test]
fn windows_tree_gets_crlf_bat_blocks() {
    for method in ["setenv", "catalina"] {
        let diff = install_then_uninstall_restores("tomcat9-windows", &["--method", method]);
        insta::assert_snapshot!(format!("windows-{method}"), diff);
    }
    let (dir, home) = fixture("tomcat9-windows");
    whatap(&dir.path().join("state"))
        .args(install_args(&home))
        .arg("--yes")
        .assert()
        .success();
    let setenv = fs::read(home.join("bin/setenv.bat")).unwrap();
    let lone_lf =
        setenv.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r') || setenv.first() == Some(&b'\n');
    assert!(
        !lone_lf,
        "setenv.bat has a bare LF: {}",
        String::from_utf8_lossy(&setenv)
    );
    assert!(String::from_utf8_lossy(&setenv).contains("if x%JAVA_OPTS:whatap=%==x%JAVA_OPTS% ("));
}

#[test]
fn setenv_without_final_newline_round_trips() {
    let diff = install_then_uninstall_restores("tomcat9-setenv-no-newline", &[]);
    insta::assert_snapshot!("setenv-no-newline", diff);
    let (_dir, home) = fixture("tomcat9-setenv-no-newline");
    assert!(
        !fs::read(home.join("bin/setenv.sh"))
            .unwrap()
            .ends_with(b"\n")
    );
}

#[test]
fn second_install_changes_nothing() {
    let (_dir, home, state) = installed("tomcat10.1");
    let bytes = tree_bytes(&home);
    let mtimes = tree_mtimes(&home);
    let ledger = fs::read(state.join("ledger.json")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = whatap(&state)
        .args(install_args(&home))
        .args(["--yes", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let report = json(&out.stdout);
    assert_eq!(report["changed"], false);
    for file in report["files"].as_array().unwrap() {
        assert_eq!(file["action"], "unchanged", "{file}");
    }
    assert_eq!(tree_bytes(&home), bytes);
    assert_eq!(tree_mtimes(&home), mtimes, "a file was rewritten");
    assert_eq!(fs::read(state.join("ledger.json")).unwrap(), ledger);
}

#[test]
fn dry_run_writes_nothing() {
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let bytes = tree_bytes(&home);
    let mtimes = tree_mtimes(&home);
    let out = whatap(&state)
        .args(install_args(&home))
        .args(["--dry-run", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("+++ b") && text.contains("########## WHATAP ############"),
        "{text}"
    );
    assert_eq!(tree_bytes(&home), bytes);
    assert_eq!(tree_mtimes(&home), mtimes);
    assert!(!state.exists(), "the state dir was created by a dry run");
}

#[test]
fn uninstall_keeps_edits_made_after_install() {
    let (dir, home) = fixture("tomcat9-setenv-no-newline");
    let state = dir.path().join("state");
    let original = fs::read(home.join("bin/setenv.sh")).unwrap();
    whatap(&state)
        .args(install_args(&home))
        .arg("--yes")
        .assert()
        .success();
    let mut edited = fs::read(home.join("bin/setenv.sh")).unwrap();
    edited.splice(0..0, b"# added by a person after install\n".iter().copied());
    fs::write(home.join("bin/setenv.sh"), &edited).unwrap();
    // A person also tuned whatap.conf: their key stays, ours goes.
    let conf = home.join("whatap/whatap.conf");
    let mut conf_text = fs::read_to_string(&conf).unwrap();
    conf_text.push_str("hook_method_patterns=com.example.*\n");
    fs::write(&conf, conf_text).unwrap();
    whatap(&state)
        .args(["uninstall", "--yes"])
        .assert()
        .success();
    let mut expected = b"# added by a person after install\n".to_vec();
    expected.extend_from_slice(&original);
    assert_eq!(fs::read(home.join("bin/setenv.sh")).unwrap(), expected);
    assert_eq!(
        fs::read_to_string(&conf).unwrap(),
        "hook_method_patterns=com.example.*\n"
    );
}

#[test]
fn uninstall_refuses_an_altered_block() {
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    whatap(&state)
        .args(install_args(&home))
        .args(["--yes", "--method", "catalina"])
        .assert()
        .success();
    let catalina = home.join("bin/catalina.sh");
    let text = fs::read_to_string(&catalina).unwrap();
    let altered = text.replace("-javaagent:", "-Xmx1g -javaagent:");
    fs::write(&catalina, &altered).unwrap();
    let line = altered.lines().position(|l| l.contains("-Xmx1g")).unwrap() + 1;
    let tree = tree_bytes(&home);
    let out = whatap(&state)
        .args(["uninstall", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:{line}:", catalina.display())),
        "{stderr}"
    );
    assert_eq!(tree_bytes(&home), tree, "a refused uninstall touched files");
}

#[test]
fn read_only_target_is_refused_untouched() {
    let (dir, home) = fixture("tomcat9-setenv-no-newline");
    let setenv = home.join("bin/setenv.sh");
    fs::set_permissions(&setenv, fs::Permissions::from_mode(0o444)).unwrap();
    let tree = tree_bytes(&home);
    let out = whatap(&dir.path().join("state"))
        .args(install_args(&home))
        .arg("--yes")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("setenv.sh") && stderr.contains("read-only"),
        "{stderr}"
    );
    assert_eq!(tree_bytes(&home), tree);
}

#[test]
fn symlinked_setenv_edits_the_target_inside_the_tree() {
    let (dir, home) = fixture("tomcat9");
    let real = home.join("conf/setenv-real.sh");
    fs::write(&real, "# real\n").unwrap();
    std::os::unix::fs::symlink("../conf/setenv-real.sh", home.join("bin/setenv.sh")).unwrap();
    let state = dir.path().join("state");
    whatap(&state)
        .args(install_args(&home))
        .arg("--yes")
        .assert()
        .success();
    assert!(
        fs::symlink_metadata(home.join("bin/setenv.sh"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(fs::read_to_string(&real).unwrap().contains("WHATAP"));
    whatap(&state)
        .args(["uninstall", "--yes"])
        .assert()
        .success();
    assert_eq!(fs::read_to_string(&real).unwrap(), "# real\n");
}

#[test]
fn symlink_out_of_the_tree_and_hard_links_are_refused() {
    let (dir, home) = fixture("tomcat9");
    let outside = dir.path().join("passwd");
    fs::write(&outside, "root:x:0:0::/root:/bin/sh\n").unwrap();
    std::os::unix::fs::symlink(&outside, home.join("bin/setenv.sh")).unwrap();
    let out = whatap(&dir.path().join("state"))
        .args(install_args(&home))
        .arg("--yes")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside the runtime"));
    assert_eq!(
        fs::read_to_string(&outside).unwrap(),
        "root:x:0:0::/root:/bin/sh\n"
    );

    let (dir, home) = fixture("tomcat9");
    fs::write(home.join("bin/setenv.sh"), "# shared\n").unwrap();
    fs::hard_link(home.join("bin/setenv.sh"), dir.path().join("other-link")).unwrap();
    let out = whatap(&dir.path().join("state"))
        .args(install_args(&home))
        .arg("--yes")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hard links"));
    assert_eq!(
        fs::read_to_string(home.join("bin/setenv.sh")).unwrap(),
        "# shared\n"
    );
}

#[test]
fn bad_input_is_one_line_exit_2_and_touches_nothing() {
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let not_a_jar = dir.path().join("whatap.agent.tracer-9.9.9.jar");
    fs::write(&not_a_jar, "this is text").unwrap();
    // The standard install with one flag left out, changed or added.
    let good = install_args(&home);
    let with = |flag: &str, value: &str| with_flag(good.clone(), flag, value);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (without_flag(good.clone(), "--license"), "--license"),
        (with("--host", "https://x.example"), "--host"),
        (with("--host", "1.2.3.4;reboot"), "--host"),
        (with("--home", "/nonexistent/tomcat"), "--home"),
        (
            with("--agent-jar", not_a_jar.to_str().unwrap()),
            "--agent-jar",
        ),
        (with("--license", "bad key\""), "--license"),
        (with("--name", "$(reboot)"), "--name"),
        (with("--method", "nope"), "--method"),
        (with("--whatap-home", "/tmp/a b"), "--whatap-home"),
    ];
    let tree = tree_bytes(&home);
    for (args, flag) in cases {
        let out = whatap(&state).args(&args).arg("--yes").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        let first = stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error: ") && first.contains(flag),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains(LICENSE), "license leaked: {stderr}");
        assert_eq!(tree_bytes(&home), tree, "{args:?} touched the tree");
        assert!(!state.exists(), "{args:?} created the state dir");
    }
}

#[test]
fn license_is_never_printed_in_full() {
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let runs: Vec<Vec<&str>> = vec![
        vec!["--dry-run"],
        vec!["--dry-run", "--json"],
        vec!["--yes", "-v"],
        vec!["--yes", "--json"],
    ];
    for extra in runs {
        let out = whatap(&state)
            .args(install_args(&home))
            .args(&extra)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(LICENSE), "{extra:?}: {all}");
        if extra.contains(&"--dry-run") {
            assert!(
                all.contains(&format!("****{LICENSE_TAIL}")),
                "{extra:?}: {all}"
            );
        }
    }
    for extra in [vec!["--dry-run", "-v"], vec!["--yes", "-v", "--json"]] {
        let out = whatap(&state)
            .arg("uninstall")
            .args(&extra)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{all}");
        assert!(!all.contains(LICENSE), "uninstall {extra:?}: {all}");
    }
}

#[test]
fn without_yes_and_without_a_terminal_the_plan_is_shown_and_exit_is_3() {
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let tree = tree_bytes(&home);
    let out = whatap(&state)
        .args(install_args(&home))
        .env("CI", "true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("+++ b") && stdout.contains("-javaagent:"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert_eq!(tree_bytes(&home), tree);
    let out = whatap(&state)
        .args(install_args(&home))
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    // The error document with the plan, never the install report.
    let report = json(&out.stdout);
    assert_eq!(report["error"]["exit_code"], 3);
    assert!(report.get("changed").is_none(), "{report}");
    assert!(report["plan"]["diff"].as_str().unwrap().contains("WHATAP"));
    assert_eq!(tree_bytes(&home), tree);
}

#[test]
fn a_held_lock_refuses_a_second_writer() {
    use std::os::unix::io::AsRawFd;
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    fs::create_dir_all(&state).unwrap();
    let lock = fs::File::create(state.join("lock")).unwrap();
    // SAFETY: flock on our own descriptor.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    let tree = tree_bytes(&home);
    let out = whatap(&state)
        .args(install_args(&home))
        .arg("--yes")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("lock held"));
    assert_eq!(tree_bytes(&home), tree);
}

#[test]
fn setenv_in_home_is_used_when_the_base_has_none() {
    // catalina.sh sources $CATALINA_BASE/bin/setenv.sh, else $CATALINA_HOME/bin/setenv.sh:
    // creating one in the base would silently hide the home's.
    let (dir, home) = fixture("tomcat9-setenv-no-newline");
    let base = dir.path().join("base");
    fs::create_dir_all(base.join("logs")).unwrap();
    let state = dir.path().join("state");
    whatap(&state)
        .args(install_args(&home))
        .arg("--base")
        .arg(&base)
        .arg("--yes")
        .assert()
        .success();
    assert!(!base.join("bin/setenv.sh").exists());
    assert!(
        fs::read_to_string(home.join("bin/setenv.sh"))
            .unwrap()
            .contains("WHATAP")
    );
    assert!(
        base.join("whatap/whatap.conf").exists(),
        "whatap home defaults to <base>/whatap"
    );
}

#[test]
fn an_agent_set_elsewhere_is_not_added_twice() {
    let (dir, home) = fixture("tomcat9");
    let catalina = home.join("bin/catalina.sh");
    let mut text = fs::read_to_string(&catalina).unwrap();
    text = text.replace(
        "cygwin=false\n",
        "cygwin=false\nJAVA_OPTS=\"$JAVA_OPTS -javaagent:/opt/whatap/whatap.agent.tracer-2.2.0.jar\"\n",
    );
    fs::write(&catalina, &text).unwrap();
    let out = whatap(&dir.path().join("state"))
        .args(install_args(&home))
        .arg("--yes")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("catalina.sh:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!home.join("bin/setenv.sh").exists());
}

#[test]
fn whatap_conf_is_private_and_merged() {
    let (dir, _home, conf, install) = fixture_with_whatap_conf(
        "# site comment\r\nlicense=old-license-key-0000\r\nprofile_sql=true\r\n",
    );
    fs::set_permissions(&conf, fs::Permissions::from_mode(0o640)).unwrap();
    let state = dir.path().join("state");
    whatap(&state)
        .args(install)
        .args(["--set", "whatap.server.port=6601", "--yes"])
        .assert()
        .success();
    assert_eq!(
        fs::read_to_string(&conf).unwrap(),
        format!(
            "# site comment\r\nlicense={LICENSE}\r\nprofile_sql=true\r\nwhatap.server.host=127.0.0.1\r\nwhatap.server.port=6601\r\n"
        )
    );
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        fs::metadata(&conf).unwrap().mode() & 0o777,
        0o640,
        "an existing file keeps its mode"
    );
    whatap(&state)
        .args(["uninstall", "--yes"])
        .assert()
        .success();
    assert_eq!(
        fs::read_to_string(&conf).unwrap(),
        "# site comment\r\nlicense=old-license-key-0000\r\nprofile_sql=true\r\n"
    );

    let (dir, home) = fixture("tomcat9");
    whatap(&dir.path().join("state"))
        .args(install_args(&home))
        .arg("--yes")
        .assert()
        .success();
    let created = home.join("whatap/whatap.conf");
    assert_eq!(fs::metadata(&created).unwrap().mode() & 0o777, 0o600);
    assert_eq!(
        fs::metadata(dir.path().join("state")).unwrap().mode() & 0o777,
        0o700
    );
}

#[test]
fn reinstall_with_new_options_still_uninstalls_to_the_original() {
    let (dir, home) = fixture("tomcat9-setenv-no-newline");
    let state = dir.path().join("state");
    let before = tree_bytes(&home);
    whatap(&state)
        .args(install_args(&home))
        .arg("--yes")
        .assert()
        .success();
    let out = whatap(&state)
        .args(install_args(&home))
        .args(["--port", "8080", "--cypher-level", "256", "--yes", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["changed"], true);
    assert!(
        fs::read_to_string(home.join("bin/setenv.sh"))
            .unwrap()
            .contains("-Dwhatap.port=8080")
    );
    whatap(&state)
        .args(["uninstall", "--yes"])
        .assert()
        .success();
    assert_same_tree(&tree_bytes(&home), &before, "after reinstall + uninstall");
    assert!(
        !state.join("ledger.json").exists()
            || fs::read_to_string(state.join("ledger.json"))
                .unwrap()
                .contains("\"installs\": []")
    );
    assert_eq!(
        fs::read_dir(state.join("backups"))
            .map(|d| d.count())
            .unwrap_or(0),
        0,
        "stale backups left"
    );
}

#[test]
fn catalina_method_on_a_home_with_its_own_base_warns_that_every_base_shares_it() {
    let (dir, home) = fixture("tomcat9");
    let base = dir.path().join("base1");
    fs::create_dir_all(base.join("conf")).unwrap();
    let install = with_flag(
        with_flag(install_args(&home), "--base", &base.display().to_string()),
        "--method",
        "catalina",
    );
    let warnings = plan_warnings(&dir.path().join("state"), &install);
    assert!(
        warnings.contains("shared by every CATALINA_BASE"),
        "{warnings}"
    );
}
