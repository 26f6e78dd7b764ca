//! The doctor catalog end to end: log rules (from the catalog's own real-format examples),
//! agent and server logs found by themselves, tail vs --full, sigar modes and --fix, live JVM
//! options, and the firewall check inside a network namespace with a real nftables rule.

use crate::common::*;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

#[derive(serde::Deserialize)]
struct Catalog {
    rule: Vec<Rule>,
}

#[derive(serde::Deserialize)]
struct Rule {
    id: String,
    #[serde(default)]
    log: Vec<LogPattern>,
}

#[derive(serde::Deserialize)]
struct LogPattern {
    example: String,
}

fn catalog() -> Catalog {
    toml::from_str(&fs::read_to_string(repo().join("rules/catalog.toml")).unwrap()).unwrap()
}

fn doctor_json(state: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let out = whatap(state)
        .arg("doctor")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), report)
}

/// Findings about the given --log files only (the host may have runtimes of its own).
fn log_ids(report: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["target"].as_str().unwrap().starts_with("log "))
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// The finding ids, sorted.
fn ids(report: &serde_json::Value) -> Vec<String> {
    let mut ids = finding_ids(report);
    ids.sort();
    ids
}

#[test]
fn every_log_rule_fires_on_its_real_message_and_stays_quiet_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let mut file = fs::File::create(&log).unwrap();
    let mut expected = Vec::new();
    for rule in catalog().rule.iter().filter(|r| !r.log.is_empty()) {
        for pattern in &rule.log {
            writeln!(
                file,
                "2026-11-27 10:00:00 INFO starting\n{}",
                pattern.example
            )
            .unwrap();
        }
        expected.push(rule.id.clone());
    }
    drop(file);
    let log_arg = log.display().to_string();
    let (code, report) = doctor_json(dir.path(), &["--no-network", "--log", &log_arg]);
    assert_eq!(code, 1);
    expected.sort();
    assert_eq!(log_ids(&report), expected);
    let policy = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "java-policy-permission")
        .unwrap();
    assert!(
        policy["fix"]
            .as_str()
            .unwrap()
            .contains(r#"permission java.io.FilePermission "/whatap/whatap.conf", "read";"#),
        "{policy}"
    );
    let mine: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["target"].as_str().unwrap().starts_with("log "))
        .collect();
    let snapshot = serde_json::to_string_pretty(&mine)
        .unwrap()
        .replace(&dir.path().display().to_string(), "[TMP]");
    insta::assert_snapshot!("log-rules", snapshot);

    let missing = whatap(dir.path())
        .args(["doctor", "--log", "/nonexistent/server.log"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .starts_with("error: --log /nonexistent/server.log")
    );

    fs::write(
        &log,
        "INFO Server startup in 3984 ms\nINFO ClassNotFoundException: com.example.Other\n",
    )
    .unwrap();
    let (_, report) = doctor_json(dir.path(), &["--no-network", "--log", &log_arg]);
    assert_eq!(log_ids(&report), Vec::<String>::new());
}

#[test]
fn agent_and_server_logs_are_found_without_flags() {
    let (_dir, home, state) = installed("tomcat9");
    fs::create_dir_all(home.join("whatap/logs")).unwrap();
    fs::write(
        home.join("whatap/logs/whatap-tomcat-20261127.log"),
        "ok\nwhatap.error java.security.InvalidKeyException: Illegal key size or default parameters\n",
    )
    .unwrap();
    fs::write(
        home.join("logs/catalina.out"),
        "INFO\nINFO\njava.lang.ClassNotFoundException: whatap.agent.trace.TraceMain\n",
    )
    .unwrap();
    let home_arg = home.display().to_string();
    let (_, report) = doctor_json(&state, &["--no-network", "--home", &home_arg]);
    assert_eq!(
        ids(&report),
        ["jboss-modules-system-pkgs", "jce-illegal-key-size"]
    );
    let evidence: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["evidence"].as_str().unwrap())
        .collect();
    assert!(
        evidence.iter().any(|e| e.contains("catalina.out:3:")),
        "{evidence:?}"
    );
    assert!(
        evidence
            .iter()
            .any(|e| e.contains("whatap-tomcat-20261127.log:2:")),
        "{evidence:?}"
    );
}

#[test]
fn only_the_recent_part_is_read_unless_full() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("big.log");
    let mut file = std::io::BufWriter::new(fs::File::create(&log).unwrap());
    writeln!(
        file,
        "java.lang.UnsatisfiedLinkError: /w/lib1/libsigar-amd64-linux.so: failed to map segment"
    )
    .unwrap();
    let filler = format!("{}\n", "INFO request served ".repeat(10));
    for _ in 0..(10 << 20) / filler.len() {
        file.write_all(filler.as_bytes()).unwrap();
    }
    drop(file);
    let log_arg = log.display().to_string();
    let (_, recent) = doctor_json(dir.path(), &["--no-network", "--log", &log_arg]);
    assert!(
        log_ids(&recent).is_empty(),
        "an old line outside the recent 8 MiB fired"
    );
    let (_, full) = doctor_json(dir.path(), &["--no-network", "--full", "--log", &log_arg]);
    assert_eq!(log_ids(&full), ["sigar-not-executable"]);
    let hit = full["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "sigar-not-executable")
        .unwrap();
    assert!(hit["evidence"].as_str().unwrap().contains("big.log:1:"));
}

#[test]
fn unexecutable_sigar_libraries_are_fixed_recorded_and_uninstalled() {
    let (_dir, home, state) = installed("tomcat9");
    let lib = home.join("whatap/lib1/libsigar-amd64-linux.so");
    fs::create_dir_all(lib.parent().unwrap()).unwrap();
    fs::write(&lib, b"\x7fELF").unwrap();
    fs::set_permissions(&lib, fs::Permissions::from_mode(0o644)).unwrap();
    let home_arg = home.display().to_string();
    let (_, report) = doctor_json(&state, &["--no-network", "--home", &home_arg]);
    assert_eq!(ids(&report), ["sigar-not-executable"]);

    // Without --yes and without a terminal: refused (exit 3), the fix only planned.
    let (code, report) = doctor_json(&state, &["--no-network", "--fix", "--home", &home_arg]);
    assert_eq!(code, 3);
    assert_eq!(report["error"]["kind"], "refused");
    assert!(
        report["plan"]["diff"]
            .as_str()
            .unwrap()
            .contains("mode 0644 -> 0755")
    );
    assert_eq!(
        fs::metadata(&lib).unwrap().permissions().mode() & 0o777,
        0o644
    );

    let (code, report) = doctor_json(
        &state,
        &["--no-network", "--fix", "--yes", "--home", &home_arg],
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["fixes"][0]["changed"], true);
    assert_eq!(
        fs::metadata(&lib).unwrap().permissions().mode() & 0o777,
        0o755
    );
    let (_, report) = doctor_json(&state, &["--no-network", "--home", &home_arg]);
    assert!(ids(&report).is_empty());

    // The fix joined the Tomcat's ledger record: uninstall takes it back with the rest.
    whatap(&state)
        .args(["uninstall", "--yes"])
        .assert()
        .success();
    assert_eq!(
        fs::metadata(&lib).unwrap().permissions().mode() & 0o777,
        0o644
    );
}

#[test]
fn live_jvm_options_and_ports() {
    let (_dir, home, state) = installed("tomcat9");
    let home_arg = home.display().to_string();
    let agent = home.join("whatap/whatap.agent.tracer-0.0.1.jar");
    {
        let _jvm = Jvm::start(
            Some(&home),
            &home.join("marker"),
            &[&agent],
            &["-Dorg.osgi.framework.bootdelegation=com.sun.*"],
        );
        let (_, report) = doctor_json(&state, &["--no-network", "--home", &home_arg]);
        assert_eq!(ids(&report), ["osgi-bootdelegation", "port-not-detected"]);
    }
    let _jvm = Jvm::start(
        Some(&home),
        &home.join("marker"),
        &[&agent],
        &[
            "-Dorg.osgi.framework.bootdelegation=com.sun.*,whatap.*",
            "-Dwhatap.port=8080",
        ],
    );
    let (code, report) = doctor_json(&state, &["--no-network", "--home", &home_arg]);
    assert_eq!((code, ids(&report)), (0, Vec::<String>::new()));
    // The agent names itself with the PID instead of a port: the guide's sign of no port.
    fs::create_dir_all(home.join("whatap/logs")).unwrap();
    fs::write(
        home.join("whatap/logs/whatap-tomcat-20261127.log"),
        format!("20261127 10:00:00.001 ONAME=TOMCAT-10-21-{}\n", _jvm.pid()),
    )
    .unwrap();
    let (_, report) = doctor_json(&state, &["--no-network", "--home", &home_arg]);
    assert_eq!(ids(&report), ["port-not-detected"], "{report}");
}

/// A network namespace of our own, deleted when the test ends.
struct Netns(String);

impl Netns {
    fn create(name: &str) -> Option<Netns> {
        let name = format!("whatap-{name}-{}", std::process::id());
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
        let ns = Netns(name);
        assert!(
            ns.exec(&["ip", "link", "set", "lo", "up"])
                .status()
                .unwrap()
                .success()
        );
        Some(ns)
    }

    fn exec(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.0]).args(args);
        cmd
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// In a namespace of its own with a collector listening on 127.0.0.1:6600: doctor is clean,
/// then `rules` block the collector and doctor names the rule (`evidence` in its finding),
/// then `undo` and doctor is clean again.
fn firewall_case(name: &str, tools: &[&str], rules: &[&[&str]], undo: &[&str], evidence: &[&str]) {
    let present = tools.iter().all(|t| which(t)) && which("ip") && which("python3");
    if !must_have(
        &format!(
            "{} + iproute2 + python3 (and root for netns)",
            tools.join(" + ")
        ),
        present,
    ) {
        return;
    }
    let Some(ns) = Netns::create(name) else {
        must_have("permission to create a network namespace (root)", false);
        return;
    };
    let (_dir, home, state) = installed("tomcat9");
    // The collector: a listener on 127.0.0.1:6600 inside the namespace.
    let mut listener = ns
        .exec(&[
            "python3",
            "-c",
            "import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('127.0.0.1',6600))\ns.listen(16)\nprint('ready',flush=True)\ntime.sleep(120)",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = [0u8; 5];
    std::io::Read::read_exact(listener.stdout.as_mut().unwrap(), &mut ready).unwrap();
    let whatap_bin = assert_cmd::cargo::cargo_bin("whatap");
    let doctor = |ns: &Netns| -> serde_json::Value {
        let out = ns
            .exec(&[
                whatap_bin.to_str().unwrap(),
                "doctor",
                "--json",
                "--home",
                home.to_str().unwrap(),
            ])
            .env("WHATAP_STATE_DIR", &state)
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let reachable = doctor(&ns);
    assert_eq!(ids(&reachable), Vec::<String>::new(), "{reachable}");
    for rule in rules {
        assert!(ns.exec(rule).status().unwrap().success(), "{rule:?}");
    }
    let blocked = doctor(&ns);
    assert_eq!(
        ids(&blocked),
        ["collector-unreachable", "firewall-blocks-collector"],
        "{blocked}"
    );
    let firewall = blocked["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "firewall-blocks-collector")
        .unwrap();
    let found = firewall["evidence"].as_str().unwrap();
    assert!(evidence.iter().all(|e| found.contains(e)), "{found}");
    assert!(ns.exec(undo).status().unwrap().success());
    assert_eq!(ids(&doctor(&ns)), Vec::<String>::new());
    let _ = listener.kill();
    let _ = listener.wait();
}

#[test]
fn an_nftables_drop_rule_is_named_by_table_and_chain() {
    firewall_case(
        "nft",
        &["nft"],
        &[
            &["nft", "add", "table", "inet", "whatap_test"],
            &[
                "nft",
                "add",
                "chain",
                "inet",
                "whatap_test",
                "out",
                "{ type filter hook output priority 0; policy accept; }",
            ],
            &[
                "nft",
                "add",
                "rule",
                "inet",
                "whatap_test",
                "out",
                "ip",
                "daddr",
                "127.0.0.1",
                "tcp",
                "dport",
                "6600",
                "counter",
                "drop",
            ],
        ],
        &["nft", "delete", "table", "inet", "whatap_test"],
        &["table inet whatap_test chain out", "drop"],
    );
}

/// A RHEL/CentOS 7 style host: the rule lives in the legacy iptables backend, which nftables
/// does not show.
#[test]
fn an_iptables_legacy_drop_rule_is_named() {
    let rule = |op: &'static str| {
        [
            "iptables-legacy",
            op,
            "OUTPUT",
            "-d",
            "127.0.0.1",
            "-p",
            "tcp",
            "--dport",
            "6600",
            "-j",
            "DROP",
        ]
    };
    firewall_case(
        "legacy",
        &["iptables-legacy", "iptables-legacy-save"],
        &[&rule("-A")],
        &rule("-D"),
        &[
            "iptables-legacy-save table filter: -A OUTPUT -d 127.0.0.1/32 -p tcp -m tcp --dport 6600 -j DROP",
        ],
    );
}

#[test]
fn a_plain_java_app_with_the_agent_twice_is_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker");
    let copy = dir.path().join("whatap.agent.tracer-0.0.2.jar");
    fs::copy(stub_jar(), &copy).unwrap();
    let jvm = Jvm::start(None, &marker, &[&stub_jar(), &copy], &[]);
    let (_, report) = doctor_json(dir.path(), &["--no-network"]);
    let label = format!("java PID {}", jvm.pid());
    drop(jvm);
    let mine: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["target"] == label.as_str())
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(mine[0], "agent-duplicate", "{report}");
}

const DENIED: &str = r#"whatap.error java.security.AccessControlException: access denied ("java.io.FilePermission" "/whatap/whatap.conf" "read")"#;

#[test]
fn each_runtimes_own_logs_are_read_without_log_flags() {
    for (product, name, runtime, log) in [
        (
            "tomcat",
            "tomcat9",
            "tomcat",
            "logs/catalina.2026-11-27.log",
        ),
        (
            "jboss",
            "wildfly-26.1.3.Final",
            "jboss",
            "standalone/log/server.log",
        ),
        (
            "jeus",
            "jeus8",
            "jeus",
            "domains/jeus_domain/servers/server1/logs/JeusServer.log",
        ),
        ("resin", "resin-4.0.66", "resin", "log/jvm-app-0.log"),
        (
            "weblogic",
            "base_domain",
            "weblogic",
            "servers/AdminServer/logs/AdminServer.out",
        ),
        (
            "websphere",
            "AppSrv01",
            "websphere",
            "logs/server1/SystemOut.log",
        ),
        (
            "jetty",
            "jetty-9.4-tarball",
            "jetty",
            "logs/2026_11_27.jetty.log",
        ),
    ] {
        let (dir, home) = product_fixture(product, name);
        let file = home.join(log);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, format!("INFO started\n{DENIED}\n")).unwrap();
        let home_arg = home.display().to_string();
        let (_, report) = doctor_json(
            dir.path(),
            &["--no-network", "--runtime", runtime, "--home", &home_arg],
        );
        let found = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == "java-policy-permission")
            .unwrap_or_else(|| panic!("{runtime}: {report}"));
        assert!(
            found["evidence"]
                .as_str()
                .unwrap()
                .contains(&format!("{log}:2:")),
            "{runtime}: {found}"
        );
    }
}

#[test]
fn newest_logs_first_within_the_tail_unless_full() {
    let (_dir, home, state) = installed("tomcat9");
    let old = home.join("logs/catalina.2026-11-20.log");
    fs::write(&old, format!("{DENIED}\n")).unwrap();
    assert!(
        Command::new("touch")
            .args(["-d", "2026-11-20 10:00"])
            .arg(&old)
            .status()
            .unwrap()
            .success()
    );
    // The newest log alone fills the recent budget.
    let mut newest =
        std::io::BufWriter::new(fs::File::create(home.join("logs/catalina.out")).unwrap());
    let filler = format!("{}\n", "INFO request served ".repeat(10));
    for _ in 0..(9 << 20) / filler.len() {
        newest.write_all(filler.as_bytes()).unwrap();
    }
    drop(newest);
    let home_arg = home.display().to_string();
    let (_, recent) = doctor_json(&state, &["--no-network", "--home", &home_arg]);
    assert!(
        !ids(&recent).contains(&"java-policy-permission".to_string()),
        "{recent}"
    );
    let (_, full) = doctor_json(&state, &["--no-network", "--full", "--home", &home_arg]);
    assert!(
        ids(&full).contains(&"java-policy-permission".to_string()),
        "{full}"
    );
}

/// What the vendor's own checker, whatap-doctor (whatap-python's whatap/doctor.py, from PyPI in
/// the test venv), prints for the guide's errors, run for real and read with `--log`: a
/// whatap.conf without the license and host, no whatap.conf, and an interpreter without the
/// package.
#[test]
fn the_vendor_whatap_doctor_output_is_matched() {
    let Some(venv) = python_venv() else { return };
    let doctor_py = fs::read_dir(venv.join("lib"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("site-packages/whatap/doctor.py"))
        .find(|p| p.is_file());
    if !must_have(
        "whatap-doctor (whatap/doctor.py) in the venv's whatap-python",
        doctor_py.is_some(),
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("app");
    fs::create_dir(&home).unwrap();
    let run = |program: &Path, args: &[&Path], log: &str| {
        let out = Command::new(program)
            .args(args)
            .current_dir(&home)
            .env("WHATAP_HOME", &home)
            .env("NO_COLOR", "1")
            .env("PYTHONIOENCODING", "utf-8")
            .output()
            .unwrap();
        let path = dir.path().join(log);
        fs::write(&path, [out.stdout, out.stderr].concat()).unwrap();
        path
    };
    fs::write(home.join("whatap.conf"), "app_name=shop\n").unwrap();
    let missing_keys = run(&venv.join("bin/whatap-doctor"), &[], "keys.log");
    fs::remove_file(home.join("whatap.conf")).unwrap();
    let no_conf = run(&venv.join("bin/whatap-doctor"), &[], "noconf.log");
    // The system's python3, isolated: no whatap package to import.
    let python = Path::new("/usr/bin/python3");
    let no_package = run(
        python,
        &[
            Path::new("-I"),
            Path::new("-S"),
            doctor_py.as_deref().unwrap(),
        ],
        "nopkg.log",
    );
    for (log, id, says) in [
        (
            &missing_keys,
            "conf-missing-key",
            "license, whatap.server.host",
        ),
        (&no_conf, "python-conf-error", "whatap.conf: 없음"),
        (
            &no_package,
            "python-package-missing",
            "whatap-python: 미설치",
        ),
    ] {
        let text = fs::read_to_string(log).unwrap();
        assert!(text.contains(says), "whatap-doctor said: {text}");
        let (_, report) = doctor_json(
            dir.path(),
            &["--no-network", "--log", &log.display().to_string()],
        );
        assert!(
            log_ids(&report).contains(&id.to_string()),
            "{id}: {text}\n{report}"
        );
    }
}

/// A real JVM given a `-javaagent` whose premain class is newer than it (a whatap/agent class
/// file stamped version 99): what it prints is `agent-java-unsupported`.
#[test]
fn a_jvm_too_old_for_the_agent_jar_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src/whatap/agent");
    fs::create_dir_all(&src).unwrap();
    fs::write(
        src.join("Premain.java"),
        "package whatap.agent;\npublic class Premain { public static void premain(String a) {} }\n",
    )
    .unwrap();
    let classes = dir.path().join("classes");
    assert!(
        Command::new("javac")
            .arg("-d")
            .arg(&classes)
            .arg(src.join("Premain.java"))
            .status()
            .unwrap()
            .success()
    );
    // The class file's major version (bytes 6-7) out of every JVM's reach.
    let class = classes.join("whatap/agent/Premain.class");
    let mut bytes = fs::read(&class).unwrap();
    bytes[6..8].copy_from_slice(&99u16.to_be_bytes());
    fs::write(&class, bytes).unwrap();
    let manifest = dir.path().join("manifest.txt");
    fs::write(&manifest, "Premain-Class: whatap.agent.Premain\n").unwrap();
    let jar = dir.path().join("whatap.agent.tracer-9.9.9.jar");
    assert!(
        Command::new("jar")
            .arg("cfm")
            .arg(&jar)
            .arg(&manifest)
            .arg("-C")
            .arg(&classes)
            .arg(".")
            .status()
            .unwrap()
            .success()
    );
    let out = Command::new("java")
        .arg(format!("-javaagent:{}", jar.display()))
        .arg("-version")
        .output()
        .unwrap();
    let log = dir.path().join("catalina.out");
    fs::write(&log, [out.stdout, out.stderr].concat()).unwrap();
    let (_, report) = doctor_json(
        dir.path(),
        &["--no-network", "--log", &log.display().to_string()],
    );
    assert_eq!(
        log_ids(&report),
        ["agent-java-unsupported"],
        "{}\n{report}",
        fs::read_to_string(&log).unwrap()
    );
}
