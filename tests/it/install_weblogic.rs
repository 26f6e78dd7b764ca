//! WebLogic domains: the block after startWebLogic.sh sources setDomainEnv.sh (proved by
//! running the patched script with a stub `java`), setDomainEnv.sh when asked, a Windows
//! domain's startWebLogic.cmd (CRLF, no final newline); golden diffs, byte-identical uninstall.

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
