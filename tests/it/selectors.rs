//! Every runtime × every target flag install accepts: `uninstall` and `doctor` take the same
//! flags and find the same instance. Each case installs with the selector (plus what install
//! needs besides), runs `doctor` with the selector alone (a report, never a usage or internal
//! error), then `uninstall` with the selector alone, which must give every byte back.

use crate::common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One row: the runtime, the selector flags, what install needs beyond them, the tree that
/// must come back byte for byte.
struct Case {
    runtime: &'static str,
    selector: Vec<String>,
    install_extra: Vec<String>,
    tree: PathBuf,
}

fn words<const N: usize>(items: [&str; N]) -> Vec<String> {
    items.map(String::from).to_vec()
}

fn path_arg(flag: &str, path: &Path) -> Vec<String> {
    vec![flag.to_string(), path.display().to_string()]
}

fn check(state: &Path, case: &Case) {
    let what = format!("{} {:?}", case.runtime, case.selector);
    let before = tree_bytes(&case.tree);
    let mut install = vec![
        "install".to_string(),
        "--runtime".into(),
        case.runtime.into(),
    ];
    install.extend(case.selector.iter().cloned());
    install.extend(case.install_extra.iter().cloned());
    install.extend(LICENSED_YES_JSON.map(String::from));
    json_ok(whatap(state).args(&install), &format!("{what}: install"));
    assert_ne!(
        tree_bytes(&case.tree),
        before,
        "{what}: install changed nothing"
    );

    let doctor = whatap(state)
        .args([
            "doctor",
            "--runtime",
            case.runtime,
            "--no-network",
            "--json",
        ])
        .args(&case.selector)
        .output()
        .unwrap();
    assert!(
        matches!(doctor.status.code(), Some(0 | 1)),
        "{what}: doctor refused the selector: {}",
        String::from_utf8_lossy(&doctor.stdout)
    );
    let report = json(&doctor.stdout);
    assert!(report["findings"].is_array(), "{what}: {report}");

    let report = json_ok(
        whatap(state)
            .args(["uninstall", "--runtime", case.runtime, "--yes", "--json"])
            .args(&case.selector),
        &format!("{what}: uninstall"),
    );
    assert_eq!(report["changed"], true, "{what}: nothing removed");
    assert_same_tree(&tree_bytes(&case.tree), &before, &what);
}

/// Each (selector, install extra) of `runtime` checked on `tree`, each with its own state dir
/// `<root>/<name><i>`.
fn check_each(
    root: &Path,
    name: &str,
    runtime: &'static str,
    tree: &Path,
    cases: Vec<(Vec<String>, Vec<String>)>,
) {
    for (i, (selector, install_extra)) in cases.into_iter().enumerate() {
        check(
            &root.join(format!("{name}{i}")),
            &Case {
                runtime,
                selector,
                install_extra,
                tree: tree.to_path_buf(),
            },
        );
    }
}

/// The Java servers: `--home` and `--base` from a fixture tree.
#[test]
fn java_servers_by_home_and_base() {
    for (runtime, product, name) in [
        ("tomcat", "tomcat", "tomcat9"),
        ("jboss", "jboss", "wildfly-26.1.3.Final"),
        ("jetty", "jetty", "jetty-9.4-tarball"),
        ("jeus", "jeus", "jeus8"),
        ("resin", "resin", "resin-4.0.66"),
        ("weblogic", "weblogic", "base_domain"),
        ("websphere", "websphere", "AppSrv01"),
    ] {
        for flag in ["--home", "--base"] {
            // JEUS and WebSphere are named by their home; --base picks a domain or server.
            if flag == "--base" && matches!(runtime, "jeus" | "websphere") {
                continue;
            }
            let (dir, home) = product_fixture(product, name);
            let case = Case {
                runtime,
                selector: path_arg(flag, &home),
                install_extra: vec!["--agent-jar".into(), stub_jar().display().to_string()],
                tree: home,
            };
            check(&dir.path().join("state"), &case);
        }
    }
}

/// `--pid` of a running JVM shaped like each server (the stub agent's idle main with the
/// server's command line after it), for every Java server.
#[test]
fn java_servers_by_pid() {
    let java = |props: Vec<String>, rest: Vec<String>| {
        let mut cmd = Command::new("java");
        cmd.args(props)
            .arg("-cp")
            .arg(stub_jar())
            .arg("WhatapStub")
            .args(rest);
        Jvm::spawn(&mut cmd)
    };
    for (runtime, product, name) in [
        ("tomcat", "tomcat", "tomcat9"),
        ("jetty", "jetty", "jetty-9.4-tarball"),
        ("jboss", "jboss", "wildfly-26.1.3.Final"),
        ("jeus", "jeus", "jeus8"),
        ("resin", "resin", "resin-4.0.66"),
        ("weblogic", "weblogic", "base_domain"),
        ("websphere", "websphere", "AppSrv01"),
    ] {
        let (dir, home) = product_fixture(product, name);
        let h = home.display().to_string();
        // The command lines of runtimes::tests::every_runtime_is_detected_from_its_command_line.
        let (props, rest): (Vec<String>, Vec<String>) = match runtime {
            "tomcat" => (
                vec![
                    format!("-Dcatalina.home={h}"),
                    format!("-Dcatalina.base={h}"),
                ],
                words(["org.apache.catalina.startup.Bootstrap", "start"]),
            ),
            "jetty" => (
                vec![format!("-Djetty.home={h}")],
                vec!["-jar".into(), format!("{h}/start.jar")],
            ),
            "jboss" => (
                Vec::new(),
                vec![
                    "-jar".into(),
                    format!("{h}/jboss-modules.jar"),
                    "org.jboss.as.standalone".into(),
                ],
            ),
            "jeus" => (
                vec![
                    format!("-Djeus.home={h}"),
                    "-Djeus.domain.name=jeus_domain".into(),
                ],
                words(["jeus.server.Server"]),
            ),
            "resin" => (
                vec![format!("-Dresin.home={h}")],
                words(["com.caucho.server.resin.Resin"]),
            ),
            "weblogic" => (
                vec![format!("-Ddomain.home={h}")],
                words(["weblogic.Server"]),
            ),
            _ => (
                vec![format!("-Duser.install.root={h}")],
                words([
                    "com.ibm.ws.runtime.WsServer",
                    "config",
                    "cell01",
                    "node01",
                    "server1",
                ]),
            ),
        };
        let jvm = java(props, rest);
        let case = Case {
            runtime,
            selector: vec!["--pid".into(), jvm.pid().to_string()],
            install_extra: vec!["--agent-jar".into(), stub_jar().display().to_string()],
            tree: home,
        };
        check(&dir.path().join("state"), &case);
    }
}

/// Spring Boot: `--start-script`, `--unit` (with `--systemd-dir`), and `--pid` with its unit.
#[test]
fn springboot_by_start_script_unit_and_pid() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    fs::create_dir(&app).unwrap();
    let jar = app.join("app.jar");
    fs::copy(stub_jar(), &jar).unwrap();
    let script = app.join("start.sh");
    fs::write(
        &script,
        format!("#!/bin/sh\nexec java -jar {}\n", jar.display()),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let jar_flag = vec!["--agent-jar".into(), stub_jar().display().to_string()];
    check(
        &dir.path().join("state1"),
        &Case {
            runtime: "springboot",
            selector: path_arg("--start-script", &script),
            install_extra: jar_flag.clone(),
            tree: app.clone(),
        },
    );
    let systemd = dir.path().join("systemd");
    fs::create_dir(&systemd).unwrap();
    let mut unit = words(["--unit", "orders"]);
    unit.extend(path_arg("--systemd-dir", &systemd));
    check(
        &dir.path().join("state2"),
        &Case {
            runtime: "springboot",
            selector: unit.clone(),
            install_extra: [
                jar_flag.clone(),
                path_arg("--whatap-home", &app.join("whatap")),
            ]
            .concat(),
            tree: systemd.clone(),
        },
    );
    let jvm = Jvm::spawn(Command::new("java").arg("-jar").arg(&jar));
    let mut by_pid = vec!["--pid".to_string(), jvm.pid().to_string()];
    by_pid.extend(unit);
    check(
        &dir.path().join("state3"),
        &Case {
            runtime: "springboot",
            selector: by_pid,
            install_extra: jar_flag,
            tree: systemd,
        },
    );
}

/// Python: `--home`, `--whatap-home`, `--start-script`, `--unit` and `--pid`. Uninstall and
/// doctor with only `--start-script` or `--unit` find the app by the WHATAP_HOME the wrapped
/// file names (this was "internal error: resolve without a target", exit 5).
#[test]
fn python_by_every_selector() {
    let Some(venv) = python_venv() else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let app = root.join("app");
    fs::create_dir(&app).unwrap();
    let home = app.join("whatap");
    let python = path_arg("--python", &venv);
    let gunicorn = venv.join("bin/gunicorn");
    let script = app.join("start.sh");
    fs::write(
        &script,
        format!("#!/bin/sh\nexec {} app:application\n", gunicorn.display()),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let unit = app.join("app.service");
    fs::write(
        &unit,
        format!(
            "[Service]\nExecStart={} -b 127.0.0.1:8000 app:application\n",
            gunicorn.display()
        ),
    )
    .unwrap();
    let with_home = |mut extra: Vec<String>| {
        extra.extend(path_arg("--whatap-home", &home));
        extra.extend(python.clone());
        extra
    };
    let cases = vec![
        (path_arg("--home", &home), python.clone()),
        (path_arg("--whatap-home", &home), python.clone()),
        (path_arg("--start-script", &script), with_home(Vec::new())),
        (path_arg("--unit", &unit), with_home(Vec::new())),
    ];
    check_each(root, "state", "python", &app, cases);
    // A running app (`python app.py`), its WHATAP_HOME the default `whatap/` in its cwd.
    fs::write(app.join("app.py"), "import time\ntime.sleep(600)\n").unwrap();
    let mut reaper = Reaper::default();
    let pid = reaper.spawn(
        Command::new(venv.join("bin/python3"))
            .arg("app.py")
            .current_dir(&app),
    );
    let by_pid = vec![(vec!["--pid".into(), pid.to_string()], Vec::new())];
    check_each(root, "state-pid", "python", &app, by_pid);
}

/// Node.js: `--app-dir`, `--start-script` (a start script, or a pm2 ecosystem file with
/// `--unit` naming its app), `--unit` (a unit file's path) and `--pid` of the running app, on an
/// app whose package.json already lists the agent (no npm run).
#[test]
fn nodejs_by_every_selector() {
    if node::agent_tarball().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = fs::canonicalize(dir.path()).unwrap();
    let app = root.join("shop");
    node::with_agent_installed(&app, "shop");
    let script = app.join("start.sh");
    fs::write(
        &script,
        "#!/bin/sh\ncd \"$(dirname \"$0\")\"\nexec node server.js\n",
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let ecosystem = app.join("ecosystem.json");
    fs::write(
        &ecosystem,
        "{\"apps\": [{\"name\": \"shop\", \"script\": \"server.js\"}, {\"name\": \"mail\", \"script\": \"mail.js\"}]}\n",
    )
    .unwrap();
    let unit = app.join("deploy/shop.service");
    fs::create_dir_all(unit.parent().unwrap()).unwrap();
    fs::write(
        &unit,
        format!(
            "[Service]\nWorkingDirectory={}\nExecStart=/usr/bin/node server.js\n",
            app.display()
        ),
    )
    .unwrap();
    let cases = vec![
        (
            path_arg("--app-dir", &app),
            path_arg("--start-script", &script),
        ),
        (path_arg("--start-script", &script), Vec::new()),
        (
            [
                path_arg("--start-script", &ecosystem),
                words(["--unit", "shop"]),
            ]
            .concat(),
            Vec::new(),
        ),
        (path_arg("--unit", &unit), Vec::new()),
    ];
    check_each(&root, "state", "nodejs", &app, cases);
    let mut reaper = Reaper::default();
    let pid = reaper.spawn(
        Command::new("node")
            .arg("server.js")
            .env("PORT", free_port().to_string())
            .current_dir(&app),
    );
    let by_pid = vec![(vec!["--pid".into(), pid.to_string()], Vec::new())];
    check_each(&root, "state-pid", "nodejs", &app, by_pid);
}

/// PHP's `--php-bin` (a private PHP with its own php.ini) and infra's `--home`.
#[test]
fn php_by_php_bin_and_infra_by_home() {
    let dir = tempfile::tempdir().unwrap();
    let infra = dir.path().join("infra");
    fs::create_dir(&infra).unwrap();
    check(
        &dir.path().join("state-infra"),
        &Case {
            runtime: "infra",
            selector: path_arg("--home", &infra),
            install_extra: Vec::new(),
            tree: infra,
        },
    );
    let php = Path::new("/usr/bin/php8.2");
    if !must_have("php8.2-cli + php8.2-dev (phpize)", php.exists()) {
        return;
    }
    let _php = host::HOST_PHP.shared();
    let private = dir.path().join("php");
    fs::create_dir_all(private.join("ext")).unwrap();
    fs::write(private.join("php.ini"), "[PHP]\n").unwrap();
    let wrapper = private.join("php");
    fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nPHP_INI_SCAN_DIR= exec {} -c {p}/php.ini -d extension_dir={p}/ext \"$@\"\n",
            php.display(),
            p = private.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).unwrap();
    let archive = php_stub_archive();
    check(
        &dir.path().join("state-php"),
        &Case {
            runtime: "php",
            selector: path_arg("--php-bin", &wrapper),
            install_extra: path_arg("--agent-archive", archive.path()),
            tree: private,
        },
    );
}

/// A flag that picks nothing of a runtime is refused as bad usage (it was an internal error).
#[test]
fn a_selector_the_runtime_does_not_take_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (runtime, flag) in [
        ("tomcat", "--php-bin"),
        ("jetty", "--start-script"),
        ("php", "--home"),
        ("infra", "--pid"),
        ("nodejs", "--home"),
        ("python", "--app-dir"),
    ] {
        for command in ["uninstall", "doctor"] {
            let out = whatap(&dir.path().join("state"))
                .args([command, "--runtime", runtime, flag, "1"])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{command} {runtime} {flag}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains(&format!("{flag} does not pick a {runtime}")),
                "{stderr}"
            );
        }
    }
}
