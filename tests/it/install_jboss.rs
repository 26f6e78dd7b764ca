//! JBoss AS 5 (run.conf), EAP 6.4 and WildFly 26 (standalone.conf / domain.conf) and a
//! Windows WildFly tree (.bat + .ps1, CRLF) over fixture trees: golden diffs, byte-identical
//! uninstall, the java command line proved by sourcing the patched conf under a stub `java`
//! (the jboss.modules.system.pkgs merge), and the JBoss doctor rules.

use crate::common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const PKGS: &str = "-Djboss.modules.system.pkgs=";

fn jboss_install(home: &Path, extra: &[&str]) -> Vec<String> {
    runtime_install(home, "jboss", 8080, extra)
}

fn jboss_round_trip(name: &str, extra: &[&str]) -> String {
    fixture_round_trip("jboss", name, "jboss", 8080, extra)
}

#[test]
fn wildfly_standalone_conf() {
    insta::assert_snapshot!(
        "wildfly-standalone",
        jboss_round_trip("wildfly-26.1.3.Final", &[])
    );
}

#[test]
fn wildfly_domain_conf() {
    insta::assert_snapshot!(
        "wildfly-domain",
        jboss_round_trip("wildfly-26.1.3.Final", &["--method", "domain"])
    );
}

#[test]
fn eap6_conf_without_final_newline() {
    insta::assert_snapshot!("eap-6.4", jboss_round_trip("jboss-eap-6.4", &[]));
}

#[test]
fn windows_tree_gets_bat_and_ps1_blocks() {
    let diff = jboss_round_trip("wildfly-windows", &[]);
    assert!(diff.contains("standalone.conf.bat") && diff.contains("standalone.conf.ps1"));
    insta::assert_snapshot!("wildfly-windows", diff);
}

#[test]
fn as5_run_conf() {
    insta::assert_snapshot!("jboss-5.1", jboss_round_trip("jboss-5.1.0.GA", &[]));
}

/// Installs, then sources `conf` the way the start scripts do and runs the stub `java` with
/// JAVA_OPTS: the arguments the real JVM would get.
fn sourced_args(name: &str, conf: &str, extra: &[&str], env_opts: Option<&str>) -> Vec<String> {
    let (dir, home) = product_fixture("jboss", name);
    whatap(&dir.path().join("state"))
        .args(jboss_install(&home, extra))
        .arg("--yes")
        .assert()
        .success();
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        ". \"$1\"; exec \"$JAVA\" $JAVA_OPTS -jar jboss-modules.jar",
        "sh",
    ])
    .arg(home.join("bin").join(conf))
    .env("JAVA", stub_java(dir.path()))
    .env_remove("JBOSS_MODULES_SYSTEM_PKGS");
    match env_opts {
        Some(opts) => cmd.env("JAVA_OPTS", opts),
        None => cmd.env_remove("JAVA_OPTS"),
    };
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The value the JVM uses: the last `-Djboss.modules.system.pkgs=`.
fn effective_pkgs(args: &[String]) -> Option<&str> {
    args.iter().rev().find_map(|a| a.strip_prefix(PKGS))
}

fn agent_count(args: &[String]) -> usize {
    args.iter()
        .filter(|a| a.starts_with("-javaagent:") && a.contains("whatap.agent.tracer-"))
        .count()
}

#[test]
fn pkgs_merge_keeps_what_the_conf_sets() {
    let args = sourced_args("wildfly-26.1.3.Final", "standalone.conf", &[], None);
    assert_eq!(
        effective_pkgs(&args),
        Some("org.jboss.byteman,whatap"),
        "{args:?}"
    );
    assert_eq!(agent_count(&args), 1, "{args:?}");
    assert!(args.iter().any(|a| a == "-Dwhatap.port=8080"));

    let domain = sourced_args(
        "wildfly-26.1.3.Final",
        "domain.conf",
        &["--method", "domain"],
        None,
    );
    assert_eq!(effective_pkgs(&domain), Some("org.jboss.byteman,whatap"));

    // Hand-written packages in JAVA_OPTS survive too.
    let eap = sourced_args("jboss-eap-6.4", "standalone.conf", &[], None);
    assert_eq!(
        effective_pkgs(&eap),
        Some("org.jboss.byteman,com.example.monitor,whatap"),
        "{eap:?}"
    );

    // JAVA_OPTS from the environment: the conf skips its defaults; the variable's value stays.
    let env = sourced_args(
        "wildfly-26.1.3.Final",
        "standalone.conf",
        &[],
        Some("-Xmx1g"),
    );
    assert_eq!(
        effective_pkgs(&env),
        Some("org.jboss.byteman,whatap"),
        "{env:?}"
    );
    assert!(env.iter().any(|a| a == "-Xmx1g"));

    // AS 5 has no jboss-modules: the agent only.
    let as5 = sourced_args("jboss-5.1.0.GA", "run.conf", &[], None);
    assert_eq!(agent_count(&as5), 1, "{as5:?}");
    assert_eq!(effective_pkgs(&as5), None);
}

#[test]
fn the_start_scripts_pass_the_merged_options() {
    for (name, script, main) in [
        (
            "wildfly-26.1.3.Final",
            "standalone.sh",
            "org.jboss.as.standalone",
        ),
        ("jboss-5.1.0.GA", "run.sh", "org.jboss.Main"),
    ] {
        let (dir, home, _) = installed(name);
        let out = Command::new(home.join("bin").join(script))
            .env("JAVA", stub_java(dir.path()))
            .env_remove("JAVA_OPTS")
            .env_remove("JBOSS_MODULES_SYSTEM_PKGS")
            .output()
            .unwrap();
        let args: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(agent_count(&args), 1, "{name}: {args:?}");
        let agent = args
            .iter()
            .position(|a| a.starts_with("-javaagent:"))
            .unwrap();
        let main_at = args.iter().position(|a| a == main).unwrap();
        assert!(agent < main_at, "{name}: {args:?}");
        if name.starts_with("wildfly") {
            assert_eq!(effective_pkgs(&args), Some("org.jboss.byteman,whatap"));
        }
    }
}

#[test]
fn bad_method_is_usage_error() {
    let (dir, home) = product_fixture("jboss", "jboss-5.1.0.GA");
    let out = whatap(&dir.path().join("state"))
        .args(jboss_install(&home, &["--method", "domain"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--method domain") && err.contains("hint:"),
        "{err}"
    );
}

/// A fixture with the agent installed: (temp dir, home, state dir).
fn installed(name: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (dir, home) = product_fixture("jboss", name);
    let state = dir.path().join("state");
    whatap(&state)
        .args(jboss_install(&home, &[]))
        .arg("--yes")
        .assert()
        .success();
    (dir, home, state)
}

/// `line` as the whole of the log `rel` under `home` (its directories made).
fn write_log(home: &Path, rel: &str, line: &str) {
    let path = home.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, format!("{line}\n")).unwrap();
}

/// Asserts a finding's `key` (evidence, fix) says `words`.
fn says(found: &serde_json::Value, key: &str, words: &str) {
    assert!(found[key].as_str().unwrap().contains(words), "{found}");
}

/// `doctor --json --no-network --fix --yes --runtime jboss --home HOME` + `extra`.
fn doctor_fix(state: &Path, home: &Path, extra: &[&str]) -> serde_json::Value {
    let out = whatap(state)
        .args(["doctor", "--json", "--no-network", "--fix", "--yes"])
        .args(extra)
        .args(["--runtime", "jboss", "--home"])
        .arg(home)
        .output()
        .unwrap();
    json(&out.stdout)
}

fn doctor(state: &Path, args: &[&str]) -> serde_json::Value {
    let out = whatap(state)
        .args(["doctor", "--json", "--no-network"])
        .args(args)
        .output()
        .unwrap();
    json(&out.stdout)
}

fn finding<'a>(report: &'a serde_json::Value, id: &str) -> Option<&'a serde_json::Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
}

#[test]
fn doctor_pkgs_from_a_hand_written_conf_and_from_the_log() {
    let (dir, home) = product_fixture("jboss", "wildfly-26.1.3.Final");
    let state = dir.path().join("state");
    let home_arg = home.display().to_string();
    // A hand-written agent line the guide's way, without the pkgs.
    let conf = home.join("bin/standalone.conf");
    let mut text = fs::read_to_string(&conf).unwrap();
    text.push_str(
        "JAVA_OPTS=\"$JAVA_OPTS -javaagent:/opt/whatap/whatap.agent.tracer-2.2.0.jar\"\n",
    );
    fs::write(&conf, text).unwrap();
    let report = doctor(&state, &["--home", &home_arg]);
    let pkgs = finding(&report, "jboss-modules-system-pkgs").expect("config finding");
    says(pkgs, "evidence", "standalone.conf:");
    assert_eq!(pkgs["severity"], "error");

    // Installed by whatap (merged): quiet; the server log's ClassNotFoundException still fires.
    let (_dir, home, state) = installed("wildfly-26.1.3.Final");
    let home_arg = home.display().to_string();
    let quiet = doctor(&state, &["--home", &home_arg]);
    assert!(
        finding(&quiet, "jboss-modules-system-pkgs").is_none(),
        "{quiet}"
    );
    write_log(
        &home,
        "standalone/log/server.log",
        "11:38:46,148 ERROR [org.apache.catalina.core.ContainerBase.[jboss.web].[default-host].[/].[default]] (http--0.0.0.0-8080-1) Servlet.service() for servlet default threw exception: java.lang.ClassNotFoundException: whatap.agent.trace.TraceMain from [Module \"javax.servlet.api:main\" from local module loader @67d7d474 (roots: /jboss-as-7.1.1.Final/modules)]",
    );
    let report = doctor(&state, &["--home", &home_arg]);
    let pkgs = finding(&report, "jboss-modules-system-pkgs").expect("log finding");
    says(pkgs, "evidence", "server.log: 11:38:46,148 ERROR");

    // The logmanager error in the agent's log: the fix names the jar found in the tree.
    write_log(
        &home,
        "whatap/logs/whatap-boot-20261127.log",
        "java.lang.IllegalStateException: The LogManager was not properly installed (you must set the \"java.util.logging.manager\" system property to \"org.jboss.logmanager.LogManager\")",
    );
    let report = doctor(&state, &["--home", &home_arg]);
    let logmanager = finding(&report, "jboss-logmanager").expect("logmanager finding");
    says(logmanager, "fix", "-Xbootclasspath/a:");
    says(logmanager, "fix", "jboss-logmanager-2.1.19.Final.jar");
}

#[test]
fn doctor_mbeanserver_on_as5() {
    let (_dir, home, state) = installed("jboss-5.1.0.GA");
    write_log(
        &home,
        "whatap/logs/whatap-jboss-20261127.log",
        "whatap.error java.lang.ClassCastException: org.jboss.mx.server.MBeanServerImpl cannot be cast (javax.management.MBeanServerBuilder)",
    );
    let report = doctor(
        &state,
        &["--runtime", "jboss", "--home", &home.display().to_string()],
    );
    let found = finding(&report, "jboss-mbeanserver").expect("mbeanserver finding");
    says(found, "fix", "-Djboss.platform.mbeanserver=true");
    says(found, "fix", "bin/run.conf");
    let ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids.iter().filter(|i| **i == "jboss-mbeanserver").count(),
        1,
        "one finding per cause: {ids:?}"
    );

    // --fix adds the option to our block in run.conf, recorded: uninstall still restores it.
    let run_conf = home.join("bin/run.conf");
    let fix = || doctor_fix(&state, &home, &[]);
    let fixed = fix();
    assert_eq!(fixed["fixes"][0]["changed"], true, "{fixed}");
    let text = fs::read_to_string(&run_conf).unwrap();
    assert!(
        text.contains("-Djboss.platform.mbeanserver=true "),
        "{text}"
    );
    assert_eq!(
        fix()["fixes"],
        serde_json::json!([]),
        "a second --fix has nothing left to do"
    );
    whatap(&state)
        .args(["uninstall", "--yes"])
        .assert()
        .success();
    assert!(!fs::read_to_string(&run_conf).unwrap().contains("WHATAP"));
}

/// A real JVM with WildFly's command-line shape (the stub's idle main), the agent loaded, and
/// a pkgs value without whatap: doctor reads it from the process.
#[test]
fn doctor_pkgs_from_the_running_process() {
    let (dir, home) = product_fixture("jboss", "wildfly-26.1.3.Final");
    let state = dir.path().join("state");
    let marker: PathBuf = dir.path().join("marker");
    let jvm = Jvm::spawn(
        Command::new("java")
            .arg("-D[Standalone]")
            .arg(format!("-Dwhatap.stub.marker={}", marker.display()))
            .arg(format!("-javaagent:{}", stub_jar().display()))
            .arg(format!("{PKGS}org.jboss.byteman"))
            .arg("-cp")
            .arg(stub_app_jar())
            .arg("IdleMain")
            .arg("org.jboss.as.standalone")
            .arg(format!("-Djboss.home.dir={}", home.display())),
    );
    wait_for_marker(&marker, 1);
    let pid = jvm.pid().to_string();
    let report = doctor(&state, &["--pid", &pid]);
    let pkgs = finding(&report, "jboss-modules-system-pkgs").expect("process finding");
    says(
        pkgs,
        "evidence",
        &format!("PID {pid}: {PKGS}org.jboss.byteman"),
    );
    // detect sees it as a running JBoss with the agent loaded.
    let detect = json(
        &whatap(&state)
            .args(["detect", "--json"])
            .output()
            .unwrap()
            .stdout,
    );
    let entry = detect["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["pid"].as_u64() == Some(u64::from(jvm.pid())))
        .unwrap_or_else(|| panic!("{detect}"))
        .clone();
    assert_eq!(entry["runtime"], "jboss");
    assert_eq!(entry["agent"], "loaded");
    assert_eq!(entry["details"]["flavor"], "modular");
}

/// The guide's own block at the top of standalone.sh (`WHATAP_JAR=... | sort | tail -1`).
fn guide_block(whatap_home: &Path) -> String {
    format!(
        "########## WHATAP ############\nWHATAP_HOME={}\nWHATAP_JAR=`ls ${{WHATAP_HOME}}/whatap.agent.tracer-*.jar | sort | tail -1`\nJAVA_OPTS=\"${{JAVA_OPTS}} -javaagent:${{WHATAP_JAR}} -Djboss.modules.system.pkgs=whatap \"\n########## WHATAP ############\n",
        whatap_home.display()
    )
}

fn with_guide_block(home: &Path, whatap_home: &Path) {
    let script = home.join("bin/standalone.sh");
    let text = fs::read_to_string(&script).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    fs::write(
        &script,
        format!("{first}\n{}{rest}", guide_block(whatap_home)),
    )
    .unwrap();
}

#[test]
fn the_guides_block_in_standalone_sh_is_seen() {
    let (dir, home) = product_fixture("jboss", "wildfly-26.1.3.Final");
    let state = dir.path().join("state");
    let whatap_home = dir.path().join("whatap");
    fs::create_dir_all(&whatap_home).unwrap();
    fs::copy(
        stub_jar(),
        whatap_home.join("whatap.agent.tracer-0.0.1.jar"),
    )
    .unwrap();
    with_guide_block(&home, &whatap_home);
    // A second agent is refused, naming the guide's block by file and line.
    let before = tree_bytes(&home);
    let out = whatap(&state)
        .args(jboss_install(&home, &[]))
        .arg("--yes")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bin/standalone.sh:2"), "{err}");
    assert_same_tree(&tree_bytes(&home), &before, "refused install");
    // Installed first, the guide's block added later: doctor says the next start loads two.
    let (dir, home, state) = installed("wildfly-26.1.3.Final");
    let home_arg = home.display().to_string();
    let report = doctor(&state, &["--runtime", "jboss", "--home", &home_arg]);
    assert!(finding(&report, "agent-duplicate").is_none(), "{report}");
    with_guide_block(&home, &dir.path().join("whatap"));
    let report = doctor(&state, &["--runtime", "jboss", "--home", &home_arg]);
    let duplicate = finding(&report, "agent-duplicate").unwrap_or_else(|| panic!("{report}"));
    let evidence = duplicate["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("standalone.sh:2") && evidence.contains("standalone.conf:"),
        "{evidence}"
    );
    assert_eq!(report["ok"], false);
}

/// A domain's host.xml as WildFly ships it (trimmed to what matters here): the host-level
/// `<jvm name="default">` the servers refer to.
const HOST_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>

<host xmlns="urn:jboss:domain:19.0" name="primary">
    <!-- the JVMs the servers below refer to -->
    <jvms>
        <jvm name="default">
            <heap size="64m" max-size="256m"/>
            <jvm-options>
                <option value="-server"/>
                <option value="-XX:MetaspaceSize=96m"/>
                <option value="-XX:MaxMetaspaceSize=256m"/>
            </jvm-options>
        </jvm>
        <jvm name="small">
            <heap size="32m" max-size="64m"/>
        </jvm>
    </jvms>
    <servers>
        <server name="server-one" group="main-server-group"/>
        <server name="server-two" group="main-server-group" auto-start="true">
            <jvm name="small"/>
            <socket-bindings port-offset="150"/>
        </server>
    </servers>
</host>
"#;

#[test]
fn domain_servers_get_the_agent_from_host_xml() {
    let (dir, home) = product_fixture("jboss", "wildfly-26.1.3.Final");
    let xml = home.join("domain/configuration/host.xml");
    fs::create_dir_all(xml.parent().unwrap()).unwrap();
    fs::write(&xml, HOST_XML.replace("-XX:MaxMetaspaceSize=256m\"/>", "-XX:MaxMetaspaceSize=256m\"/>\n                <option value=\"-Djboss.modules.system.pkgs=org.jboss.byteman\"/>")).unwrap();
    let install = jboss_install(&home, &["--method", "host-xml"]);
    let agent = format!(
        "-javaagent:{}/whatap/whatap.agent.tracer-0.0.1.jar",
        home.display()
    );
    round_trip(
        dir.path(),
        &home,
        &install,
        &runtime_uninstall(&home, "jboss", &[]),
        || {
            let text = fs::read_to_string(&xml).unwrap();
            assert!(
                text.contains(&format!(
                    "<option value=\"-Djboss.modules.system.pkgs=org.jboss.byteman,whatap\"/>\n                <option value=\"{agent}\"/>\n                <option value=\"-Dwhatap.port=8080\"/>\n            </jvm-options>"
                )),
                "{text}"
            );
            // A <jvm> without options gets a <jvm-options> of its own.
            assert!(
                text.contains(&format!(
                    "<heap size=\"32m\" max-size=\"64m\"/>\n            <jvm-options>\n                <option value=\"{agent}\"/>"
                )) || text.contains(&format!("<jvm name=\"small\">\n            <jvm-options>\n                <option value=\"{agent}\"/>")),
                "{text}"
            );
            assert_eq!(text.matches("-javaagent:").count(), 2, "{text}");
        },
    );
}

#[test]
fn the_mbeanserver_fix_is_offered_when_the_error_came_from_a_log_flag() {
    let (dir, home, state) = installed("jboss-5.1.0.GA");
    // The server's console log somewhere else, given with --log.
    let log = dir.path().join("console.log");
    fs::write(
        &log,
        "javax.management.JMRuntimeException: Failed to load MBeanServerBuilder class org.jboss.mx.server.MBeanServerBuilderImpl\n",
    )
    .unwrap();
    let report = doctor_fix(&state, &home, &["--log", &log.display().to_string()]);
    assert_eq!(report["fixes"][0]["changed"], true, "{report}");
    assert!(
        fs::read_to_string(home.join("bin/run.conf"))
            .unwrap()
            .contains("-Djboss.platform.mbeanserver=true "),
    );
}
