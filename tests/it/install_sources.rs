//! Where install's values come from: `WHATAP_*` for every install flag, the license from a
//! file or stdin, a `--config` answers file; flags > environment > answers file > defaults.
//! Each run is a `--dry-run --json`: the planned whatap.conf shows which value won (the
//! license by its last four characters, the only ones ever shown).

use crate::common::*;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

/// Licenses that differ in their shown tail, one per source.
const FROM_FLAG: &str = "flagflagflag-1111";
const FROM_ENV: &str = "envenvenvenv-2222";
const FROM_FILE: &str = "filefilefile-3333";
const FROM_CONFIG: &str = "confconfconf-4444";

fn planned(cmd: &mut assert_cmd::Command) -> serde_json::Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out.stdout)
}

fn diff(report: &serde_json::Value) -> String {
    report["diff"].as_str().unwrap().to_string()
}

fn dry_run(state: &Path, home: &Path) -> assert_cmd::Command {
    let mut cmd = whatap(state);
    cmd.args(["install", "--dry-run", "--json", "--home"])
        .arg(home);
    cmd
}

#[test]
fn every_install_flag_has_an_environment_variable() {
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let report = planned(
        dry_run(&state, &home)
            .env("WHATAP_LICENSE", FROM_ENV)
            .env("WHATAP_HOST", "10.1.1.1")
            .env("WHATAP_AGENT_JAR", stub_jar())
            .env("WHATAP_PORT", "8181")
            .env("WHATAP_CYPHER_LEVEL", "256")
            .env("WHATAP_SET", "profile_sql=true")
            .env("WHATAP_LATEST_JAR", "true"),
    );
    let planned_diff = diff(&report);
    for expected in [
        "whatap.server.host=10.1.1.1",
        "2222",
        "-Dwhatap.port=8181",
        "cypher_level=256",
        "profile_sql=true",
        "whatap.agent.tracer-*.jar",
    ] {
        assert!(
            planned_diff.contains(expected),
            "{expected}: {planned_diff}"
        );
    }
    // A flag wins over its variable.
    let report = planned(
        dry_run(&state, &home)
            .args(["--license", FROM_FLAG, "--agent-jar"])
            .arg(stub_jar())
            .env("WHATAP_LICENSE", FROM_ENV)
            .env("WHATAP_HOST", "10.1.1.1")
            .args(["--host", "10.2.2.2"]),
    );
    let diff = diff(&report);
    assert!(
        diff.contains("whatap.server.host=10.2.2.2") && diff.contains("1111"),
        "{diff}"
    );
}

#[test]
fn the_license_from_a_file_or_stdin_never_on_the_command_line() {
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let file = dir.path().join("license.txt");
    std::fs::write(&file, format!("\n{FROM_FILE}\n")).unwrap();
    let report = planned(
        dry_run(&state, &home)
            .arg("--license-file")
            .arg(&file)
            .args(["--host", "10.1.1.1", "--agent-jar"])
            .arg(stub_jar()),
    );
    assert!(diff(&report).contains("3333"), "{report}");
    // The file wins over the environment (a flag over a variable).
    let report = planned(
        dry_run(&state, &home)
            .env("WHATAP_LICENSE", FROM_ENV)
            .arg("--license-file")
            .arg(&file)
            .args(["--host", "10.1.1.1", "--agent-jar"])
            .arg(stub_jar()),
    );
    assert!(diff(&report).contains("3333"), "{report}");

    // `--license -`: the key on stdin.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("whatap"))
        .env("WHATAP_STATE_DIR", &state)
        .env_remove("WHATAP_LICENSE")
        .env("LANG", "C")
        .args([
            "install",
            "--dry-run",
            "--json",
            "--license",
            "-",
            "--host",
            "10.1.1.1",
        ])
        .arg("--home")
        .arg(&home)
        .arg("--agent-jar")
        .arg(stub_jar())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{FROM_FLAG}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(diff(&json(&out.stdout)).contains("1111"));

    // Two ways at once on the command line: refused, nothing read.
    let out = whatap(&state)
        .args(["install", "--license", FROM_FLAG, "--license-file"])
        .arg(&file)
        .args(["--host", "10.1.1.1", "--home"])
        .arg(&home)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--license-file"));
    let out = whatap(&state)
        .args(["install", "--host", "10.1.1.1", "--license-file"])
        .arg(dir.path().join("missing.txt"))
        .arg("--home")
        .arg(&home)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.txt"));
}

#[test]
fn an_answers_file_fills_what_flags_and_environment_leave_open() {
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let answers = dir.path().join("answers.toml");
    std::fs::write(
        &answers,
        format!(
            "home = {home:?}\nlicense = {FROM_CONFIG:?}\nhost = \"10.4.4.4\"\nagent-jar = {jar:?}\n\
             port = 8282\nlatest-jar = true\nset = [\"profile_sql=true\", \"trace_user_enabled=false\"]\n",
            home = home.display().to_string(),
            jar = stub_jar().display().to_string(),
        ),
    )
    .unwrap();
    let run = |extra: &[&str], env: &[(&str, &str)]| {
        let mut cmd = whatap(&state);
        cmd.args(["install", "--dry-run", "--json", "--config"])
            .arg(&answers)
            .args(extra);
        for (k, v) in env {
            cmd.env(k, v);
        }
        diff(&planned(&mut cmd))
    };
    let all = run(&[], &[]);
    for expected in [
        "4444",
        "whatap.server.host=10.4.4.4",
        "-Dwhatap.port=8282",
        "whatap.agent.tracer-*.jar",
        "profile_sql=true",
        "trace_user_enabled=false",
    ] {
        assert!(all.contains(expected), "{expected}: {all}");
    }
    // The environment wins over the file, a flag over both.
    let env = run(
        &[],
        &[("WHATAP_HOST", "10.5.5.5"), ("WHATAP_LICENSE", FROM_ENV)],
    );
    assert!(
        env.contains("whatap.server.host=10.5.5.5") && env.contains("2222"),
        "{env}"
    );
    let flag = run(&["--host", "10.6.6.6"], &[("WHATAP_HOST", "10.5.5.5")]);
    assert!(flag.contains("whatap.server.host=10.6.6.6"), "{flag}");

    // A key that is no install flag, or a value of the wrong kind: exit 2 naming it.
    for (text, named) in [
        ("licence = \"x\"\n", "--licence"),
        ("port = \"not a port\"\n", "--port"),
        ("runtime = \"tomcat\"\nhost = [1.5]\n", "host"),
    ] {
        std::fs::write(&answers, text).unwrap();
        let out = whatap(&state)
            .args(["install", "--config"])
            .arg(&answers)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("answers.toml") && err.contains(named), "{err}");
    }
}
