//! The install wizard in a real pseudo-terminal (rexpect): the full happy path on a fixture
//! Tomcat tree, an invalid license re-prompted, Ctrl-C at a question and at the final
//! confirmation (nothing changed either time), and no questions at all when CI is set.

use crate::common::http::{Server, sha256, zip_with};
use crate::common::tomcat::*;
use crate::common::*;
use rexpect::session::{PtySession, spawn_command};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

fn wizard(state: &Path, home: &Path, ci: bool) -> PtySession {
    let mut cmd = wizard_command(state, ci);
    cmd.arg("--home").arg(home);
    spawn_command(cmd, Some(30_000)).expect("spawn in a pty")
}

/// `whatap install` for a terminal, without a target: step 1 asks for one.
fn wizard_command(state: &Path, ci: bool) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("whatap"));
    cmd.env("WHATAP_STATE_DIR", state)
        .env("TERM", "xterm")
        .env("LANG", "C")
        .env("NO_COLOR", "1")
        .env_remove("WHATAP_LICENSE")
        .env_remove("WHATAP_HOST")
        .env_remove("WHATAP_LANG")
        .env_remove("CI")
        .args(["--no-color", "install"]);
    if ci {
        cmd.env("CI", "true");
    }
    cmd
}

/// Something listening on the collector port, so the live check answers "reachable".
fn collector() -> Option<TcpListener> {
    TcpListener::bind("127.0.0.1:6600").ok()
}

/// One key press, as typed (`send` alone stays in rexpect's buffer).
fn key(p: &mut PtySession, keys: &str) {
    p.send(keys).unwrap();
    p.flush().unwrap();
}

fn exit_code(session: &PtySession) -> i32 {
    match session.process().wait().unwrap() {
        rexpect::process::WaitStatus::Exited(_, code) => code,
        other => panic!("{other:?}"),
    }
}

/// Where the wizard is told the agent comes from.
enum Agent {
    StubJar,
    Url(String),
}

/// Answers every question up to "Apply these changes?"; returns what the terminal showed.
fn answer_until_confirmation(p: &mut PtySession, wrong_license_first: bool) -> String {
    answer_with_agent(p, wrong_license_first, Agent::StubJar)
}

fn answer_with_agent(p: &mut PtySession, wrong_license_first: bool, agent: Agent) -> String {
    let mut seen = p.exp_string("License").unwrap();
    if wrong_license_first {
        p.send_line("not a key").unwrap();
        seen += &p.exp_string("not a license key").unwrap();
    }
    p.send_line(LICENSE).unwrap();
    seen += &p.exp_string("Collector servers").unwrap();
    p.send_line("127.0.0.1").unwrap();
    let (before, status) = p.exp_regex(r"127\.0\.0\.1:6600 (not )?reachable").unwrap();
    seen += &before;
    if status.contains("not") {
        p.exp_string("Install anyway?").unwrap();
        key(p, "y");
    }
    seen += &p
        .exp_string("the newest tracer jar already in the agent directory")
        .unwrap();
    match agent {
        Agent::StubJar => {
            key(p, "\r");
            seen += &p.exp_string("Path of the agent").unwrap();
            p.send_line(stub_jar().to_str().unwrap()).unwrap();
        }
        Agent::Url(url) => {
            key(p, "\x1b[B");
            key(p, "\r");
            seen += &p.exp_string("URL of the agent archive").unwrap();
            p.send_line(&url).unwrap();
            seen += &p.exp_string("sha256").unwrap();
            p.send_line("").unwrap();
        }
    }
    seen += &p.exp_string("Change optional settings").unwrap();
    key(p, "n");
    seen += &p.exp_string("bin/setenv.sh").unwrap();
    seen += &p.exp_string("Apply these changes?").unwrap();
    seen
}

#[test]
fn happy_path_with_a_license_typed_wrong_first() {
    let _collector = collector();
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let mut p = wizard(&state, &home, false);
    let mut seen = answer_until_confirmation(&mut p, true);
    key(&mut p, "y");
    seen += &p.exp_string("Installed").unwrap();
    seen += &p.exp_string("whatap doctor").unwrap();
    seen += &p.exp_string("The same install without questions").unwrap();
    let rest = p.exp_eof().unwrap();
    seen += &rest;
    assert!(
        rest.contains("WHATAP_LICENSE=... whatap install --home"),
        "{rest}"
    );
    assert!(rest.contains("--host 127.0.0.1 --agent-jar"), "{rest}");
    assert_eq!(exit_code(&p), 0, "{seen}");
    assert!(!seen.contains(LICENSE), "the license was shown in full");

    let setenv = std::fs::read_to_string(home.join("bin/setenv.sh")).unwrap();
    assert!(setenv.contains("-javaagent:"), "{setenv}");
    let conf = std::fs::read_to_string(home.join("whatap/whatap.conf")).unwrap();
    assert!(conf.contains(&format!("license={LICENSE}")));
    assert!(conf.contains("whatap.server.host=127.0.0.1"));
}

#[test]
fn ctrl_c_at_a_question_changes_nothing() {
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let before = tree_bytes(&home);
    let mut p = wizard(&state, &home, false);
    p.exp_string("License").unwrap();
    p.send_line(LICENSE).unwrap();
    p.exp_string("Collector servers").unwrap();
    key(&mut p, "10.0");
    p.send_control('c').unwrap();
    p.exp_string("interrupted; nothing was changed").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 130);
    assert_same_tree(&tree_bytes(&home), &before, "after Ctrl-C");
    assert!(!state.exists(), "the state dir was created");
}

#[test]
fn ctrl_c_at_the_confirmation_changes_nothing() {
    let _collector = collector();
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let before = tree_bytes(&home);
    let mut p = wizard(&state, &home, false);
    answer_until_confirmation(&mut p, false);
    p.send_control('c').unwrap();
    p.exp_eof().unwrap();
    assert_ne!(exit_code(&p), 0);
    assert_same_tree(
        &tree_bytes(&home),
        &before,
        "after Ctrl-C at the confirmation",
    );
}

#[test]
fn no_questions_when_ci_is_set() {
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let mut p = wizard(&state, &home, true);
    let out = p.exp_eof().unwrap();
    assert!(out.contains("--license is required"), "{out}");
    assert_eq!(exit_code(&p), 2);
}

/// Step 1 without --home: whatever detection lists is unpicked and a path is typed.
/// The run stops at the confirmation, after the diff showed the typed tree's files.
#[test]
fn a_typed_path_when_no_detected_runtime_is_picked() {
    // What detection lists is counted here and listed again by the wizard: no test may start
    // or stop a JVM or an app in between.
    let _unchanged = host::DETECTABLE.exclusive();
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let detected = whatap(&state).args(["detect", "--json"]).output().unwrap();
    let detected: serde_json::Value = serde_json::from_slice(&detected.stdout).unwrap();
    let detected = detected["runtimes"].as_array().unwrap().clone();
    let before = tree_bytes(&home);

    let mut p = spawn_command(wizard_command(&state, false), Some(30_000)).unwrap();
    if !detected.is_empty() {
        p.exp_string("Install the agent into").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        // What runs is preselected (or the only one found): unpick each, row by row.
        let running = detected.iter().any(|r| r["pid"].is_u64());
        for runtime in &detected {
            if runtime["pid"].is_u64() || (!running && detected.len() == 1) {
                key(&mut p, " ");
            }
            key(&mut p, "\x1b[B");
        }
        key(&mut p, "\r");
    }
    p.exp_string("Path of the runtime's home").unwrap();
    p.send_line(home.to_str().unwrap()).unwrap();
    let seen = answer_until_confirmation(&mut p, false);
    // The diff's file headers name the typed tree (answer_until_confirmation stops at its
    // bin/setenv.sh).
    assert!(
        seen.contains(&format!("+++ b{}/", home.display())),
        "{seen}"
    );
    p.send_control('c').unwrap();
    p.exp_eof().unwrap();
    assert_same_tree(&tree_bytes(&home), &before, "stopped at the confirmation");
}

/// The download choice: the archive comes from a URL (its `.sha256` beside it), is unpacked
/// through the cache and installed; the equivalent command names the URL.
#[test]
fn the_agent_downloaded_from_a_url() {
    let _collector = collector();
    let server = Server::start();
    let archive = zip_with(
        "whatap/whatap.agent.tracer-2.2.0.jar",
        &std::fs::read(stub_jar()).unwrap(),
    );
    server.put("/whatap.zip", &archive, None);
    server.put_sum("/whatap.zip", &sha256(&archive));
    let url = server.url("/whatap.zip");
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let mut p = wizard(&state, &home, false);
    answer_with_agent(&mut p, false, Agent::Url(url.clone()));
    key(&mut p, "y");
    p.exp_string("Installed").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains(&format!("--agent-archive {url}")), "{rest}");
    assert_eq!(exit_code(&p), 0);
    assert!(home.join("whatap/whatap.agent.tracer-2.2.0.jar").is_file());
}

/// rexpect reads the terminal byte by byte as chars: UTF-8 text arrives one char per byte.
fn bytes_as_read(text: &str) -> String {
    text.bytes().map(char::from).collect()
}

#[test]
fn questions_in_korean() {
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let mut cmd = wizard_command(&state, false);
    cmd.env("WHATAP_LANG", "ko").arg("--home").arg(&home);
    let mut p = spawn_command(cmd, Some(30_000)).unwrap();
    p.exp_string(&bytes_as_read("라이선스")).unwrap();
    p.send_line("짧음").unwrap();
    p.exp_string(&bytes_as_read("라이선스 키 형식이 아닙니다"))
        .unwrap();
    p.send_line(LICENSE).unwrap();
    p.exp_string(&bytes_as_read("수집 서버")).unwrap();
    p.send_control('c').unwrap();
    p.exp_string(&bytes_as_read("중단했습니다. 아무것도 바꾸지 않았습니다"))
        .unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 130);
}

/// The wizard on this host's own runtimes (`--runtime KIND`, no path): step 1's list shows what
/// detection found, and the entry whose line holds `entry` (its home, its PID) is picked —
/// Enter alone when it came preselected (the only one found), else moved to and selected. The
/// questions are answered (the agent source only when the kind takes agent files), and the
/// plan shown before "Apply these changes?" names `planned`: the detected kind's own file, so
/// the pick reached install with its kind. Answering no changes nothing (exit 3).
fn install_the_detected(kind: &str, entry: &str, agent: Option<&Path>, planned: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let mut cmd = wizard_command(&state, false);
    cmd.args(["--runtime", kind]);
    let mut p = spawn_command(cmd, Some(60_000)).unwrap();
    let mut seen = p.exp_string("Install the agent into").unwrap();
    // Every item is drawn as `[ ] text` (or `[x]`, preselected): ours is the last one drawn
    // before its text appears.
    let list = p.exp_string(entry).unwrap();
    seen += &list;
    let index = list.matches("] ").count().saturating_sub(1);
    let preselected = list
        .rfind('[')
        .is_some_and(|at| list[at..].starts_with("[x]"));
    if !preselected {
        for _ in 0..index {
            key(&mut p, "\x1b[B");
        }
        key(&mut p, " ");
    }
    key(&mut p, "\r");
    seen += &p.exp_string("License").unwrap();
    p.send_line(LICENSE).unwrap();
    seen += &p.exp_string("Collector servers").unwrap();
    p.send_line("127.0.0.1").unwrap();
    let (before, status) = p.exp_regex(r"127\.0\.0\.1:6600 (not )?reachable").unwrap();
    seen += &before;
    if status.contains("not") {
        p.exp_string("Install anyway?").unwrap();
        key(&mut p, "y");
    }
    if let Some(agent) = agent {
        seen += &p
            .exp_string("the newest tracer jar already in the agent directory")
            .unwrap();
        key(&mut p, "\r");
        seen += &p.exp_string("Path of the agent").unwrap();
        p.send_line(agent.to_str().unwrap()).unwrap();
    }
    seen += &p.exp_string("Change optional settings").unwrap();
    key(&mut p, "n");
    seen += &p.exp_string(planned).unwrap();
    seen += &p.exp_string("Apply these changes?").unwrap();
    key(&mut p, "n");
    seen += &p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 3, "{seen}");
    assert!(
        !seen.contains("Path of the runtime's home"),
        "the detected entry was not taken: {seen}"
    );
    assert!(!state.join("ledger.json").exists(), "{seen}");
    seen
}

/// A process `whatap detect` lists, started while this test holds `host::DETECTABLE`
/// exclusively (so it cannot go through `Reaper`, which takes it shared); its process group is
/// killed when dropped.
struct Detectable(std::process::Child);

impl Detectable {
    fn spawn(cmd: &mut Command) -> Detectable {
        use std::os::unix::process::CommandExt;
        Detectable(cmd.process_group(0).spawn().unwrap())
    }
}

impl Drop for Detectable {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the process group this test created.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

#[test]
fn the_detected_debian_tomcat_is_picked() {
    let tomcat10 = Path::new("/usr/share/tomcat10/bin/catalina.sh").is_file()
        && Path::new("/var/lib/tomcat10/conf").is_dir();
    if !must_have("Debian's tomcat10", tomcat10) {
        return;
    }
    let _alone = host::DETECTABLE.exclusive();
    install_the_detected(
        "tomcat",
        "home: /usr/share/tomcat10",
        Some(&stub_jar()),
        "/var/lib/tomcat10/bin/setenv.sh",
    );
}

/// The operator's case from the field: one Tomcat runs (Debian's tomcat10 on a private
/// CATALINA_BASE) while Debian's own tree is installed and stopped. The running one comes
/// preselected, so Enter alone goes on with it: the plan is for its base.
#[test]
fn enter_goes_on_with_the_one_running_tomcat() {
    if !have_tomcat10() {
        return;
    }
    let alone = host::DETECTABLE.exclusive();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let tomcat = Tomcat {
        home: DEBIAN_HOME.into(),
        base: make_base(dir.path(), port),
        port,
        marker: dir.path().join("agent.marker"),
    };
    let running = tomcat.start_while_exclusive(&alone);
    let seen = install_the_detected(
        "tomcat",
        &format!("PID {}", running.pid),
        Some(&stub_jar()),
        &format!("{}/bin/setenv.sh", tomcat.base.display()),
    );
    assert!(
        seen.contains("[x] tomcat") && seen.contains(&format!("PID {}", running.pid)),
        "{seen}"
    );
    drop(running);
}

#[test]
fn the_detected_debian_jetty_is_picked() {
    if !must_have(
        "Debian's jetty9",
        Path::new("/usr/share/jetty9/start.jar").is_file(),
    ) {
        return;
    }
    let _alone = host::DETECTABLE.exclusive();
    let _default_file = host::hold(&host::ETC_DEFAULT_JETTY9);
    install_the_detected(
        "jetty",
        "/usr/share/jetty9  ",
        Some(&stub_jar()),
        "/etc/default/jetty9",
    );
}

#[test]
fn a_detected_php_is_picked() {
    let php = Path::new("/usr/bin/php8.2").exists() && Path::new("/usr/bin/phpize8.2").exists();
    if !must_have("php8.2-cli + php8.2-dev (phpize)", php) {
        return;
    }
    let archive = php_stub_archive();
    let _host_php = host::HOST_PHP.shared();
    // The CLI (`php` or `php8.2`, whichever PATH lists first).
    let seen = install_the_detected("php", "/usr/bin/php", Some(archive.path()), "whatap.ini");
    assert!(seen.contains("whatap.so"), "{seen}");
}

#[test]
fn a_detected_python_app_is_picked() {
    let Some(venv) = python_venv() else { return };
    let _alone = host::DETECTABLE.exclusive();
    let app = tempfile::tempdir().unwrap();
    std::fs::write(
        app.path().join("app.py"),
        "def application(environ, start_response):\n    start_response('200 OK', [])\n    return [b'ok']\n",
    )
    .unwrap();
    let port = free_port();
    let gunicorn = Detectable::spawn(
        Command::new(venv.join("bin/gunicorn"))
            .args(["-b", &format!("127.0.0.1:{port}"), "app:application"])
            .current_dir(app.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
    );
    let listening = wait_for(std::time::Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(listening, "gunicorn did not start");
    // No agent question: whatap-python comes from PyPI into the app's interpreter.
    let home = std::fs::canonicalize(app.path()).unwrap().join("whatap");
    let seen = install_the_detected(
        "python",
        &format!("PID {}", gunicorn.0.id()),
        None,
        &format!("{}/whatap.conf", home.display()),
    );
    assert!(!seen.contains("Path of the agent"), "{seen}");
}

#[test]
fn the_detected_infra_agent_is_picked() {
    let _alone = host::DETECTABLE.exclusive();
    if !must_have(
        "no infra agent installed on this host (its conf would be changed)",
        !Path::new("/usr/whatap/infra").exists(),
    ) {
        return;
    }
    // The daemon is found by its name: a copy of sleep called whatap_infrad stands in.
    let bin = tempfile::tempdir().unwrap();
    let daemon = bin.path().join("whatap_infrad");
    std::fs::copy("/bin/sleep", &daemon).unwrap();
    let daemon = Detectable::spawn(Command::new(&daemon).arg("300"));
    let seen = install_the_detected(
        "infra",
        &format!("PID {}", daemon.0.id()),
        None,
        "/usr/whatap/infra/conf/whatap.conf",
    );
    assert!(!seen.contains("Path of the agent"), "{seen}");
    assert!(!Path::new("/usr/whatap/infra").exists());
}

#[test]
fn a_detected_node_app_is_picked() {
    if node::agent_tarball().is_none() {
        return;
    }
    let _alone = host::DETECTABLE.exclusive();
    let dir = tempfile::tempdir().unwrap();
    let app = std::fs::canonicalize(dir.path()).unwrap().join("shop");
    node::with_agent_installed(&app, "shop");
    let port = free_port();
    let _node = Detectable::spawn(
        Command::new("/usr/bin/node")
            .arg("server.js")
            .current_dir(&app)
            .env("PORT", port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
    );
    let listening = wait_for(std::time::Duration::from_secs(20), || {
        http_get(port).is_some()
    });
    assert!(listening, "the node app did not start");
    // No agent question: the package comes with npm (here it is already in the app).
    let seen = install_the_detected(
        "nodejs",
        &format!("{}  running", app.display()),
        None,
        &format!("{}/whatap/whatap.conf", app.display()),
    );
    assert!(!seen.contains("Path of the agent"), "{seen}");
}
