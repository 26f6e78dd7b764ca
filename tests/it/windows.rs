//! whatap.exe (x86_64-pc-windows-gnu, built with Debian's mingw-w64) under Debian's wine64,
//! against the real Windows start scripts in ../shared/corpus: what install writes is what
//! wine's cmd.exe hands to java.exe (a stub built with mingw that records its command line),
//! and uninstall gives back every byte.
//!
//! One wine prefix for the module, created once under target/windows/ and reused by later
//! runs (wineboot takes seconds); each test works in its own directories of its C: drive.

use crate::common::{self, LICENSE};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const WINE: &str = "/usr/lib/wine/wine64";
const TARGET: &str = "x86_64-pc-windows-gnu";
const MINGW: &str = "x86_64-w64-mingw32-gcc";

struct Wine {
    prefix: PathBuf,
    exe: PathBuf,
    java: PathBuf,
}

impl Wine {
    fn drive_c(&self) -> PathBuf {
        self.prefix.join("drive_c")
    }

    /// A program run by wine in the module's prefix, with no debug chatter.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(WINE);
        cmd.arg(program)
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("LANG", "C")
            .env("NO_COLOR", "1")
            .env_remove("WHATAP_LICENSE")
            .env_remove("WHATAP_HOST")
            .env_remove("WHATAP_LANG")
            .env_remove("WHATAP_STATE_DIR");
        cmd
    }

    fn whatap(&self) -> Command {
        self.command(&self.exe.to_string_lossy())
    }

    /// `dir` of drive C: (`C:\dir`), emptied.
    fn fresh_dir(&self, dir: &str) -> PathBuf {
        let path = self.drive_c().join(dir);
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        path
    }

    /// A JRE at `C:\<dir>` whose bin\java.exe appends its command line to `C:\<dir>\cmdline.txt`.
    fn stub_jre(&self, dir: &str) -> PathBuf {
        let jre = self.fresh_dir(dir);
        fs::create_dir(jre.join("bin")).unwrap();
        fs::copy(&self.java, jre.join("bin/java.exe")).unwrap();
        jre
    }

    /// whatap.exe `args` with the state dir `state` (a Windows path), which must succeed: its
    /// JSON.
    fn run_whatap<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(
        &self,
        state: &str,
        args: &[S],
    ) -> serde_json::Value {
        let out = self
            .whatap()
            .env("WHATAP_STATE_DIR", state)
            .args(args)
            .output()
            .unwrap();
        ok(&out, &format!("{args:?}"))
    }

    /// The stub agent as `C:\<dir>\whatap.agent.tracer-0.0.1.jar` (`dir` emptied first): that
    /// path, for `--agent-jar`.
    fn stub_agent(&self, dir: &str) -> String {
        fs::copy(
            common::stub_jar(),
            self.fresh_dir(dir).join("whatap.agent.tracer-0.0.1.jar"),
        )
        .unwrap();
        format!("C:\\{dir}\\whatap.agent.tracer-0.0.1.jar")
    }

    /// `cmd /c <script> <args>` under wine, started in `C:\<bin>` (as a person would: Tomcat's
    /// scripts find their home from there), with the stub JRE `jre` as JAVA_HOME and JRE_HOME;
    /// the command lines java.exe was started with.
    fn run_script(&self, jre: &str, bin: &str, script: &str, args: &[&str]) -> String {
        let log = self.drive_c().join(jre).join("cmdline.txt");
        let _ = fs::remove_file(&log);
        let out = self
            .command("cmd")
            .args(["/c", script])
            .args(args)
            .current_dir(self.drive_c().join(bin))
            .env("JAVA_HOME", format!("C:\\{jre}"))
            .env("JRE_HOME", format!("C:\\{jre}"))
            .env("WHATAP_STUB_JAVA_OUT", format!("C:\\{jre}\\cmdline.txt"))
            .env("NOPAUSE", "true")
            .output()
            .unwrap();
        fs::read_to_string(&log).unwrap_or_else(|e| {
            panic!(
                "{script} never started java.exe ({e}): {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }
}

fn ok(out: &Output, what: &str) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    common::json(&out.stdout)
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn target_installed() -> bool {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    Path::new(&sysroot)
        .join("lib/rustlib")
        .join(TARGET)
        .is_dir()
}

fn on_path(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok()
}

/// The module's wine: whatap.exe built, the stubs compiled, the prefix booted; None (after a
/// loud SKIPPED) where wine64, mingw-w64 or the Rust target is missing and CI is not set.
fn wine() -> Option<&'static Wine> {
    static WINE_SETUP: OnceLock<Option<Wine>> = OnceLock::new();
    WINE_SETUP
        .get_or_init(|| {
            let present = Path::new(WINE).exists() && on_path(MINGW) && target_installed();
            if !common::must_have(
                "wine64 + mingw-w64 + the x86_64-pc-windows-gnu Rust target",
                present,
            ) {
                return None;
            }
            let out = common::repo().join("target/windows");
            fs::create_dir_all(&out).unwrap();
            // Its own target dir: the test run's cargo keeps the main one locked.
            run(
                Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
                    .args(["build", "--quiet", "--target", TARGET, "--target-dir"])
                    .arg(out.join("build"))
                    .current_dir(common::repo()),
            );
            let exe = out.join("build").join(TARGET).join("debug/whatap.exe");
            let sources = common::repo().join("tests/windows");
            let java = out.join("java.exe");
            run(Command::new(MINGW)
                .args(["-O2", "-Wall", "-o"])
                .arg(&java)
                .arg(sources.join("java.c")));
            let prng = out.join("bcryptprimitives.dll");
            run(Command::new(MINGW)
                .args(["-O2", "-Wall", "-shared", "-o"])
                .arg(&prng)
                .arg(sources.join("bcryptprimitives.c"))
                .arg(sources.join("bcryptprimitives.def"))
                .arg("-ladvapi32"));
            let prefix = out.join("prefix");
            if !prefix.join("system.reg").is_file() {
                // Booted under a temp name and renamed: a killed boot is never taken as done.
                let booting = out.join("prefix.booting");
                let _ = fs::remove_dir_all(&booting);
                run(Command::new(WINE)
                    .args(["wineboot", "--init"])
                    .env("WINEPREFIX", &booting)
                    .env("WINEDEBUG", "-all")
                    // No Mono/Gecko installer prompts: neither is needed.
                    .env("WINEDLLOVERRIDES", "mscoree,mshtml="));
                run(Command::new("/usr/lib/wine/wineserver")
                    .arg("--wait")
                    .env("WINEPREFIX", &booting));
                let _ = fs::remove_dir_all(&prefix);
                fs::rename(&booting, &prefix).unwrap();
            }
            fs::copy(
                &prng,
                prefix.join("drive_c/windows/system32/bcryptprimitives.dll"),
            )
            .unwrap();
            Some(Wine { prefix, exe, java })
        })
        .as_ref()
}

#[test]
fn whatap_exe_runs_under_wine() {
    let Some(wine) = wine() else { return };
    let out = wine.whatap().arg("--version").output().unwrap();
    assert!(out.status.success());
    let line = String::from_utf8_lossy(&out.stdout);
    let prefix = format!("whatap {} ({TARGET}, commit ", env!("CARGO_PKG_VERSION"));
    assert!(line.starts_with(&prefix), "{line}");
}

/// scripts/dist.sh's Windows zip (built by .ci/run into target/dist, or `WHATAP_DIST_DIR`):
/// listed in SHA256SUMS with its sum, `whatap-<ver>-<target>/whatap.exe` with the man pages,
/// completions and licenses beside it, and that whatap.exe runs under wine.
#[test]
fn the_dist_zip_holds_a_whatap_exe_that_runs() {
    let Some(wine) = wine() else { return };
    let dist = std::env::var_os("WHATAP_DIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::repo().join("target/dist"));
    let name = format!("whatap-{}-{TARGET}", env!("CARGO_PKG_VERSION"));
    let zip_path = dist.join(format!("{name}.zip"));
    if !common::must_have(
        &format!("{} (built by scripts/dist.sh)", zip_path.display()),
        zip_path.is_file(),
    ) {
        return;
    }
    let bytes = fs::read(&zip_path).unwrap();
    let sums = fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    let line = format!("{}  {name}.zip", common::http::sha256(&bytes));
    assert!(
        sums.lines().any(|l| l == line),
        "{line} not in SHA256SUMS:\n{sums}"
    );
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    for file in [
        "whatap.exe",
        "README.md",
        "LICENSE",
        "THIRD-PARTY-LICENSES.txt",
    ] {
        assert!(
            names.contains(&format!("{name}/{file}")),
            "{file}: {names:?}"
        );
    }
    assert!(
        names.iter().any(|n| n.ends_with(".1")),
        "no man page: {names:?}"
    );
    let dir = wine.fresh_dir("dist-zip");
    let mut exe = Vec::new();
    std::io::Read::read_to_end(
        &mut zip.by_name(&format!("{name}/whatap.exe")).unwrap(),
        &mut exe,
    )
    .unwrap();
    fs::write(dir.join("whatap.exe"), exe).unwrap();
    let out = wine
        .command("C:\\dist-zip\\whatap.exe")
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && version.contains(TARGET),
        "{version}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Windows paths as operators type them: `C:\\...` is absolute, a relative home and one with a
/// space (java.exe would get half a path from the unquoted JAVA_OPTS) are refused with exit 2,
/// naming the flag, nothing written; so is a UNC path (`\\\\server\\share\\...`) for
/// `--home` or `--whatap-home`.
#[test]
fn windows_paths_are_checked() {
    let Some(wine) = wine() else { return };
    let tree = server_tree(wine, "tc-paths", "tomcat-win/9.0.98", &[]);
    let agent = wine.stub_agent("tc-paths-agent");
    let before = common::tree_bytes(&tree);
    for (flag, tomcat, home, says) in [
        (
            "--whatap-home",
            "C:\\tc-paths",
            "C:\\Program Files\\whatap",
            "cannot be written safely",
        ),
        ("--whatap-home", "C:\\tc-paths", "whatap", "C:\\whatap"),
        // A network share, either way it is spelled, for the home or the agent's directory.
        (
            "--whatap-home",
            "C:\\tc-paths",
            "\\\\server\\share\\whatap",
            "network share",
        ),
        (
            "--home",
            "\\\\server\\share\\tc",
            "C:\\whatap",
            "network share",
        ),
        (
            "--home",
            "\\\\?\\UNC\\server\\share\\tc",
            "C:\\whatap",
            "network share",
        ),
    ] {
        let out = wine
            .whatap()
            .args(["install", "--runtime", "tomcat", "--home", tomcat])
            .args([
                "--whatap-home",
                home,
                "--license",
                LICENSE,
                "--host",
                "127.0.0.1",
            ])
            .args(["--agent-jar", &agent])
            .arg("--yes")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{tomcat} {home}: {stderr}");
        assert!(stderr.contains(flag) && stderr.contains(says), "{stderr}");
    }
    common::assert_same_tree(&common::tree_bytes(&tree), &before, "after refusals");
}

/// A server tree at `C:\<name>` copied from ../shared/corpus/<corpus> (made writable, as an
/// unpacked release is), with `extra` empty files added, and a stub JRE at `C:\<name>-jre`.
fn server_tree(wine: &Wine, name: &str, corpus: &str, extra: &[&str]) -> PathBuf {
    let tree = wine.fresh_dir(name);
    common::copy_tree(&common::repo().join("../shared/corpus").join(corpus), &tree);
    for file in common::tree_bytes(&tree).keys() {
        let path = tree.join(file);
        let mut perms = fs::metadata(&path).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        fs::set_permissions(&path, perms).unwrap();
    }
    for file in extra {
        let path = tree.join(file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, b"").unwrap();
    }
    wine.stub_jre(&format!("{name}-jre"));
    tree
}

/// install (the stub agent from `C:\<name>-agent`, the WhaTap home `whatap_home`, `--yes
/// --json`), `check` on the installed tree, `<script> <args>` run from `C:\<name>\bin`: the
/// java.exe command lines it gave; then the same install (changes nothing), uninstall (every
/// byte back, the WhaTap home gone) and the script again (no -javaagent any more).
struct Server<'a> {
    /// `C:\<name>`, the tree.
    name: &'a str,
    runtime: &'a str,
    whatap_home: &'a str,
    /// The start script run from `C:\<name>\bin`, and its arguments.
    script: (&'a str, &'a [&'a str]),
    /// `WHATAP_STATE_DIR`; None: the default (%ProgramData%\whatap).
    state: Option<&'a str>,
    /// More install flags.
    extra: &'a [&'a str],
}

fn round_trip(wine: &Wine, server: &Server<'_>, check: impl FnOnce(&Path)) -> String {
    let Server {
        name,
        runtime,
        whatap_home,
        script: (script, args),
        state,
        extra,
    } = *server;
    let tree = wine.drive_c().join(name);
    let home_dir = wine.drive_c().join(whatap_home.trim_start_matches("C:\\"));
    let _ = fs::remove_dir_all(&home_dir);
    let jar = wine.stub_agent(&format!("{name}-agent"));
    let before = common::tree_bytes(&tree);
    let home = format!("C:\\{name}");
    let install = [
        "install",
        "--runtime",
        runtime,
        "--home",
        &home,
        "--whatap-home",
        whatap_home,
        "--agent-jar",
        &jar,
    ]
    .into_iter()
    .chain(common::LICENSED_YES_JSON)
    .chain(extra.iter().copied())
    .collect::<Vec<_>>();
    let whatap = || {
        let mut cmd = wine.whatap();
        if let Some(state) = state {
            cmd.env("WHATAP_STATE_DIR", state);
        }
        cmd
    };
    let report = ok(&whatap().args(&install).output().unwrap(), "install");
    assert_eq!(report["changed"], true, "{report}");
    check(&tree);
    let jre = format!("{name}-jre");
    let bin = format!("{name}/bin");
    let java = wine.run_script(&jre, &bin, script, args);
    let again = ok(&whatap().args(&install).output().unwrap(), "again");
    assert_eq!(again["changed"], false, "{again}");
    let uninstall = [
        "uninstall",
        "--runtime",
        runtime,
        "--home",
        &home,
        "--yes",
        "--json",
    ];
    ok(&whatap().args(uninstall).output().unwrap(), "uninstall");
    common::assert_same_tree(&common::tree_bytes(&tree), &before, "after uninstall");
    assert!(!home_dir.exists(), "{whatap_home} left behind");
    let plain = wine.run_script(&jre, &bin, script, args);
    assert!(!plain.contains("javaagent"), "after uninstall: {plain}");
    java
}

/// The real Tomcat 9 Windows bin/ tree at C:\tc: install writes the guide's block into
/// setenv.bat (CRLF), `catalina.bat run` hands -javaagent:C:\whatap\... to java.exe (with
/// JAVA_OPTS unset, as on a stock machine), a second install changes nothing, uninstall gives
/// back every byte; the ledger lives in %ProgramData%\whatap.
#[test]
fn tomcat_bat_reaches_java_exe() {
    let Some(wine) = wine() else { return };
    server_tree(
        wine,
        "tc",
        "tomcat-win/9.0.98",
        &["lib/.keep", "logs/.keep", "temp/.keep", "work/.keep"],
    );
    let state = wine.drive_c().join("ProgramData/whatap");
    // Nothing listens there: doctor reports the collector and that no firewall was read.
    let port = common::free_port();
    let _ = fs::remove_dir_all(&state);
    let server = Server {
        name: "tc",
        runtime: "tomcat",
        whatap_home: "C:\\whatap",
        script: ("catalina.bat", &["run"]),
        state: None,
        extra: &["--set", &format!("whatap.server.port={port}")],
    };
    let java = round_trip(wine, &server, |tc| {
        assert_eq!(
            fs::read_to_string(tc.join("bin/setenv.bat")).unwrap(),
            "rem ########## WHATAP ############\r\n\
                 rem Added by `whatap install`; remove with `whatap uninstall`.\r\n\
                 rem cmd.exe breaks the guard below when JAVA_OPTS is unset, so it is defined first.\r\n\
                 if not defined JAVA_OPTS set \"JAVA_OPTS= \"\r\n\
                 if x%JAVA_OPTS:whatap=%==x%JAVA_OPTS% (\r\n\
                 \x20 set JAVA_OPTS=%JAVA_OPTS% -javaagent:C:\\whatap\\whatap.agent.tracer-0.0.1.jar\r\n\
                 )\r\n\
                 rem ########## WHATAP ############\r\n"
        );
        assert!(
            state.join("ledger.json").is_file(),
            "no ledger in %ProgramData%\\whatap"
        );
        let doctor = wine
            .whatap()
            .args(["doctor", "--home", "C:\\tc", "--json"])
            .output()
            .unwrap();
        let report = common::json(&doctor.stdout);
        assert_eq!(doctor.status.code(), Some(1), "{report}");
        let ids = common::finding_ids(&report);
        assert!(
            ids.contains(&"collector-unreachable".to_string())
                && ids.contains(&"firewall-not-checked".to_string()),
            "{report}"
        );
    });
    assert!(
        java.contains(" -javaagent:C:\\whatap\\whatap.agent.tracer-0.0.1.jar ")
            && java.contains("org.apache.catalina.startup.Bootstrap"),
        "java.exe got: {java}"
    );
}

/// WildFly 29's Windows scripts at C:\wildfly: the block at the end of standalone.conf.bat
/// (with `whatap` added to JBOSS_MODULES_SYSTEM_PKGS) reaches java.exe. standalone.bat itself
/// cannot run under wine 8, whose cmd.exe runs both sides of `a | b && c || d` (it stops at its
/// -Djava.security.manager check), so a driver does what standalone.bat does with the conf:
/// calls it, then starts java with JAVA_OPTS.
#[test]
fn wildfly_standalone_conf_bat_reaches_java_exe() {
    let Some(wine) = wine() else { return };
    server_tree(
        wine,
        "wildfly",
        "wildfly-win/29.0.1.Final",
        &["jboss-modules.jar"],
    );
    fs::write(
        wine.drive_c().join("wildfly-jre/start.bat"),
        "@echo off\r\n\
         call \"C:\\wildfly\\bin\\standalone.conf.bat\"\r\n\
         \"%JAVA_HOME%\\bin\\java.exe\" %JAVA_OPTS% -jar \"C:\\wildfly\\jboss-modules.jar\"\r\n",
    )
    .unwrap();
    let server = Server {
        name: "wildfly",
        runtime: "jboss",
        whatap_home: "C:\\whatap-wf",
        script: ("C:\\wildfly-jre\\start.bat", &[]),
        state: Some("C:\\wildfly-state"),
        extra: &[],
    };
    let java = round_trip(wine, &server, |_| {});
    assert!(
        java.contains(" -javaagent:C:\\whatap-wf\\whatap.agent.tracer-0.0.1.jar")
            && java.contains("-Djboss.modules.system.pkgs=org.jboss.byteman,whatap")
            && java.contains("-Xmx512M"),
        "java.exe got: {java}"
    );
}

const PROCRUN: &str = "HKLM\\SOFTWARE\\Apache Software Foundation\\Procrun 2.0";

impl Wine {
    /// `wine reg <args>` in the module's prefix; its output, or None when it failed.
    fn reg(&self, args: &[&str]) -> Option<String> {
        let out = self.command("reg").args(args).output().unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `key` exported by `reg export`: its values' types and bytes, exactly (hex).
    fn reg_export(&self, key: &str, file: &str) -> String {
        self.reg(&["export", key, &format!("C:\\{file}"), "/y"])
            .unwrap_or_else(|| panic!("reg export {key}"));
        let bytes = fs::read(self.drive_c().join(file)).unwrap();
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    }

    /// A Procrun service `name` registered afresh, its `Parameters\Java` key (under `root`)
    /// holding `Options` (REG_MULTI_SZ, `\0` between options) when given.
    fn procrun_service(&self, root: &str, name: &str, options: Option<&str>) -> String {
        let _ = self.reg(&["delete", &format!("{root}\\{name}"), "/f"]);
        let key = format!("{root}\\{name}\\Parameters\\Java");
        let mut args = vec!["add", key.as_str(), "/f"];
        if let Some(options) = options {
            args.extend(["/v", "Options", "/t", "REG_MULTI_SZ", "/d", options]);
        }
        self.reg(&args)
            .unwrap_or_else(|| panic!("reg add {key} failed"));
        key
    }
}

/// The install arguments for the Tomcat tree at `C:\<name>` (the stub agent from
/// `C:\<name>-agent`) as the Procrun service `service`.
fn service_install(wine: &Wine, name: &str, service: &str) -> Vec<String> {
    server_tree(wine, name, "tomcat-win/9.0.98", &[]);
    let jar = wine.stub_agent(&format!("{name}-agent"));
    let _ = fs::remove_dir_all(wine.drive_c().join(format!("{name}-whatap")));
    let _ = fs::remove_dir_all(wine.drive_c().join(format!("{name}-state")));
    [
        "install",
        "--runtime",
        "tomcat",
        "--home",
        &format!("C:\\{name}"),
        "--whatap-home",
        &format!("C:\\{name}-whatap"),
        "--agent-jar",
        &jar,
        "--service",
        service,
    ]
    .into_iter()
    .map(str::to_string)
    .chain(common::LICENSED_YES_JSON.iter().map(|s| s.to_string()))
    .collect()
}

/// Tomcat as a Windows service (Procrun): `--service` puts -javaagent at the end of the
/// service's Java Options in wine's registry (REG_MULTI_SZ, one option a string), shown as a
/// diff by --dry-run first; detect names the service; a second install changes nothing;
/// uninstall gives back the value's exact type and bytes. A wrong name lists the services.
#[test]
fn tomcat_service_java_options_round_trip() {
    let Some(wine) = wine() else { return };
    let key = wine.procrun_service(
        PROCRUN,
        "Tomcat9",
        Some("-Dcatalina.home=C:\\tc-svc\\0-Dcatalina.base=C:\\tc-svc\\0-Xss4m"),
    );
    let before = wine.reg_export(&key, "tc-svc-before.reg");
    let install = service_install(wine, "tc-svc", "tomcat9");
    let state = ("WHATAP_STATE_DIR", "C:\\tc-svc-state");
    let jar = "-javaagent:C:\\tc-svc-whatap\\whatap.agent.tracer-0.0.1.jar";

    let mut dry = install.clone();
    dry.push("--dry-run".into());
    let report = wine.run_whatap(state.1, &dry);
    let diff = report["diff"].as_str().unwrap();
    assert!(
        diff.contains("Procrun 2.0\\Tomcat9\\Parameters\\Java\\Options\n")
            && diff.contains(" -Xss4m\n")
            && diff.contains(&format!("+{jar}\n")),
        "{diff}"
    );
    assert_eq!(wine.reg_export(&key, "tc-svc-now.reg"), before, "dry run");

    let detect = ok(
        &wine.whatap().args(["detect", "--json"]).output().unwrap(),
        "detect",
    );
    assert!(
        detect.to_string().contains("\"service\":\"Tomcat9\""),
        "{detect}"
    );

    let report = wine.run_whatap(state.1, &install);
    assert_eq!(report["changed"], true, "{report}");
    let value = wine.reg(&["query", &key, "/v", "Options"]).unwrap();
    assert!(
        value.contains(&format!(
            "REG_MULTI_SZ    -Dcatalina.home=C:\\tc-svc\\0-Dcatalina.base=C:\\tc-svc\\0-Xss4m\\0{jar}"
        )),
        "{value}"
    );
    assert!(!wine.drive_c().join("tc-svc/bin/setenv.bat").exists());
    let again = wine.run_whatap(state.1, &install);
    assert_eq!(again["changed"], false, "{again}");
    // A reinstall with other options replaces what the last one added, keeps the rest.
    for port in ["8080", "9090"] {
        let other = [&install[..], &["--port".to_string(), port.to_string()]].concat();
        wine.run_whatap(state.1, &other);
        let value = wine.reg(&["query", &key, "/v", "Options"]).unwrap();
        let line = value.lines().find(|l| l.contains("REG_MULTI_SZ")).unwrap();
        assert!(
            line.trim_end().ends_with(&format!(
                "REG_MULTI_SZ    -Dcatalina.home=C:\\tc-svc\\0-Dcatalina.base=C:\\tc-svc\\0-Xss4m\\0{jar}\\0-Dwhatap.port={port}"
            )),
            "{value}"
        );
    }

    let uninstall = ["uninstall", "--runtime", "tomcat", "--home", "C:\\tc-svc"];
    wine.run_whatap(state.1, &[&uninstall[..], &["--yes", "--json"]].concat());
    assert_eq!(wine.reg_export(&key, "tc-svc-after.reg"), before);
    let history = wine.run_whatap(state.1, &["history", "--json"]);
    let options = format!("{key}\\Options");
    let entries = history["entries"].as_array().unwrap();
    assert!(
        entries.len() == 4
            && entries.iter().all(|e| e["files"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["path"] == options.as_str())),
        "{history}"
    );
    assert!(!wine.drive_c().join("tc-svc-whatap").exists());

    let mut wrong = install.clone();
    let at = wrong.iter().position(|a| a == "tomcat9").unwrap();
    wrong[at] = "Tomcat7".into();
    let out = wine
        .whatap()
        .env(state.0, state.1)
        .args(&wrong)
        .output()
        .unwrap();
    let report = common::json(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{report}");
    let error = &report["error"];
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("--service Tomcat7")
            && error["hint"].as_str().unwrap().contains("Tomcat9"),
        "{report}"
    );
}

/// A 32-bit prunsrv's service (under WOW6432Node) with no Options value yet: install creates
/// it, uninstall deletes it again.
#[test]
fn tomcat_service_absent_options_come_back_absent() {
    let Some(wine) = wine() else { return };
    let wow = PROCRUN.replace("SOFTWARE\\", "SOFTWARE\\WOW6432Node\\");
    let key = wine.procrun_service(&wow, "TomcatWow", None);
    let install = service_install(wine, "tc-wow", "TomcatWow");
    let state = ("WHATAP_STATE_DIR", "C:\\tc-wow-state");
    wine.run_whatap(state.1, &install);
    let value = wine.reg(&["query", &key, "/v", "Options"]).unwrap();
    assert!(
        value.contains(
            "REG_MULTI_SZ    -javaagent:C:\\tc-wow-whatap\\whatap.agent.tracer-0.0.1.jar"
        ),
        "{value}"
    );
    let uninstall = [
        "uninstall",
        "--runtime",
        "tomcat",
        "--home",
        "C:\\tc-wow",
        "--yes",
    ];
    wine.run_whatap(state.1, &[&uninstall[..], &["--json"]].concat());
    assert_eq!(
        wine.reg(&["query", &key, "/v", "Options"]),
        None,
        "not deleted"
    );
}

/// Off Windows `--service` is a one-line usage error naming the flag; nothing is written.
#[test]
fn service_is_refused_off_windows() {
    let tree = tempfile::tempdir().unwrap();
    common::copy_tree(
        &common::repo().join("../shared/corpus/tomcat-win/9.0.98"),
        tree.path(),
    );
    let state = tempfile::tempdir().unwrap();
    let jar = common::stub_jar();
    let out = common::whatap(state.path())
        .args(["install", "--runtime", "tomcat", "--home"])
        .arg(tree.path())
        .arg("--agent-jar")
        .arg(&jar)
        .args(["--service", "Tomcat9"])
        .args(&common::LICENSED_YES_JSON[..5])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--service Tomcat9") && stderr.contains("Windows"),
        "{stderr}"
    );
    assert!(!tree.path().join("bin/setenv.bat").exists());
    assert!(!tree.path().join("whatap").exists());
}

/// A Tomcat JVM running under wine (the stub java.exe staying up, started before install, so
/// without the agent): detect finds it from Windows' process list (its command line read from
/// its PEB), and doctor says the installed agent is not loaded in it.
#[test]
fn a_running_windows_jvm_is_seen_by_detect_and_doctor() {
    let Some(wine) = wine() else { return };
    server_tree(wine, "tc-ps", "tomcat-win/9.0.98", &[]);
    let jar = wine.stub_agent("tc-ps-agent");
    let _ = fs::remove_dir_all(wine.drive_c().join("tc-ps-state"));
    let state = ("WHATAP_STATE_DIR", "C:\\tc-ps-state");
    let started = wine.drive_c().join("tc-ps-jre/cmdline.txt");
    let mut jvm = wine
        .command("C:\\tc-ps-jre\\bin\\java.exe")
        .args(["-Dcatalina.home=C:\\tc-ps", "-Dcatalina.base=C:\\tc-ps"])
        .args(["-classpath", "C:\\tc-ps\\bin\\bootstrap.jar"])
        .args(["org.apache.catalina.startup.Bootstrap", "start"])
        .env("WHATAP_STUB_JAVA_OUT", "C:\\tc-ps-jre\\cmdline.txt")
        .env("WHATAP_STUB_JAVA_SECONDS", "300")
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !started.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "java.exe never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let result = std::panic::catch_unwind(|| {
        let detect = ok(
            &wine.whatap().args(["detect", "--json"]).output().unwrap(),
            "detect",
        );
        let found = detect["runtimes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["home"] == "C:\\tc-ps")
            .unwrap_or_else(|| panic!("{detect}"))
            .clone();
        assert!(found["pid"].is_u64(), "{found}");
        let install = [
            &["install", "--runtime", "tomcat", "--home", "C:\\tc-ps"][..],
            &["--whatap-home", "C:\\tc-ps-whatap", "--agent-jar"],
            &[jar.as_str()],
            &common::LICENSED_YES_JSON,
        ]
        .concat();
        wine.run_whatap(state.1, &install);
        let doctor = wine
            .whatap()
            .env(state.0, state.1)
            .args(["doctor", "--home", "C:\\tc-ps", "--json"])
            .output()
            .unwrap();
        let report = common::json(&doctor.stdout);
        assert!(
            common::finding_ids(&report).contains(&"agent-not-loaded".to_string()),
            "{report}"
        );
    });
    let _ = jvm.kill();
    let _ = jvm.wait();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// Other trees the guide covers on Windows, by whatap.exe with Windows paths, their files in
/// CRLF: WebLogic's `startWebLogic.cmd` domain, Jetty's `start.ini` and the infra agent's
/// `conf\whatap.conf`. Each: the file written keeps CRLF and names `C:\...` paths, a second
/// install changes nothing, uninstall gives back every byte.
#[test]
fn weblogic_jetty_and_infra_trees_round_trip() {
    let Some(wine) = wine() else { return };
    let crlf = |text: &[u8]| {
        String::from_utf8_lossy(text)
            .replace("\r\n", "\n")
            .replace('\n', "\r\n")
            .into_bytes()
    };
    // WebLogic: the domain's bin\ scripts as they are on Windows (CRLF).
    let weblogic = wine.fresh_dir("wl-domain");
    common::copy_tree(
        &common::repo().join("fixtures/weblogic/windows_domain"),
        &weblogic,
    );
    // Jetty 9.4: start.jar and start.ini, the ini in CRLF as a Windows editor saves it.
    let jetty = wine.fresh_dir("jetty-win");
    common::copy_tree(
        &common::repo().join("fixtures/jetty/jetty-9.4-tarball"),
        &jetty,
    );
    let ini = fs::read(jetty.join("start.ini")).unwrap();
    fs::write(jetty.join("start.ini"), crlf(&ini)).unwrap();
    // The infra agent's home with its conf (CRLF, a key of the operator's).
    let infra = wine.fresh_dir("WhatapInfra");
    fs::create_dir(infra.join("conf")).unwrap();
    fs::write(
        infra.join("conf/whatap.conf"),
        b"# infra\r\nnet_udp_port=6600\r\n",
    )
    .unwrap();
    let jar = &wine.stub_agent("trees-agent");
    let cases: [(&str, &Path, &[&str], &str, &str); 3] = [
        (
            "weblogic",
            &weblogic,
            &["--whatap-home", "C:\\wl-whatap", "--agent-jar", jar],
            "bin/startWebLogic.cmd",
            "-javaagent:C:\\wl-whatap\\whatap.agent.tracer-0.0.1.jar",
        ),
        (
            "jetty",
            &jetty,
            &[
                "--whatap-home",
                "C:\\jetty-whatap",
                "--agent-jar",
                jar,
                "--method",
                "start-ini",
            ],
            "start.ini",
            "-javaagent:C:\\jetty-whatap\\whatap.agent.tracer-0.0.1.jar",
        ),
        ("infra", &infra, &[], "conf/whatap.conf", "license="),
    ];
    for (runtime, tree, extra, file, says) in cases {
        let home = format!("C:\\{}", tree.file_name().unwrap().to_string_lossy());
        let state = format!("C:\\{runtime}-trees-state");
        let _ = fs::remove_dir_all(wine.drive_c().join(&state[3..]));
        let before = common::tree_bytes(tree);
        let target = ["--runtime", runtime, "--home", &home];
        let install = || {
            let args = [&["install"][..], &target, extra, &common::LICENSED_YES_JSON].concat();
            wine.run_whatap(&state, &args)
        };
        assert_eq!(install()["changed"], true, "{runtime}");
        let written = fs::read_to_string(tree.join(file)).unwrap();
        assert!(written.contains(says), "{runtime}: {written}");
        assert!(
            !written.replace("\r\n", "").contains('\n'),
            "{runtime}: {file} lost its CRLF: {written:?}"
        );
        assert_eq!(install()["changed"], false, "{runtime}");
        let uninstall = [&["uninstall"][..], &target, &["--yes", "--json"]].concat();
        wine.run_whatap(&state, &uninstall);
        common::assert_same_tree(
            &common::tree_bytes(tree),
            &before,
            &format!("{runtime} after uninstall"),
        );
    }
}

/// A Windows WebLogic domain at C:\wl (AdminServer, ms1, ms2) with `--server ms1`, by
/// startWebLogic.cmd and by setUserOverrides.cmd: wine's cmd.exe gives java.exe the agent when
/// startManagedWebLogic.cmd starts ms1, not for ms2 nor for the admin server; uninstall gives
/// back every byte.
#[test]
fn weblogic_cmd_server_guard_picks_the_server() {
    let Some(wine) = wine() else { return };
    let agent = wine.stub_agent("wl-agent");
    wine.stub_jre("wl-jre");
    for method in ["start-weblogic", "set-user-overrides"] {
        let tree = wine.fresh_dir("wl");
        crate::install_weblogic::windows_managed_domain(&tree, "C:\\wl");
        let before = common::tree_bytes(&tree);
        let whatap = |args: &[&str]| wine.run_whatap("C:\\wl-state", args);
        whatap(
            &[
                "install",
                "--runtime",
                "weblogic",
                "--home",
                "C:\\wl",
                "--whatap-home",
                "C:\\whatap-wl",
                "--agent-jar",
                &agent,
                "--method",
                method,
                "--server",
                "ms1",
            ]
            .into_iter()
            .chain(common::LICENSED_YES_JSON)
            .collect::<Vec<_>>(),
        );
        let java = |script: &str, args: &[&str]| wine.run_script("wl-jre", "wl/bin", script, args);
        let ms1 = java("startManagedWebLogic.cmd", &["ms1"]);
        assert!(
            ms1.contains(" -javaagent:C:\\whatap-wl\\whatap.agent.tracer-0.0.1.jar ")
                && ms1.contains("-Dweblogic.Name=ms1 "),
            "{method}: ms1's java.exe got: {ms1}"
        );
        let ms2 = java("startManagedWebLogic.cmd", &["ms2"]);
        assert!(
            ms2.contains("-Dweblogic.Name=ms2 ") && !ms2.contains("javaagent"),
            "{method}: ms2's java.exe got: {ms2}"
        );
        let admin = java("startWebLogic.cmd", &[]);
        assert!(
            admin.contains("-Dweblogic.Name=AdminServer ") && !admin.contains("javaagent"),
            "{method}: the admin server's java.exe got: {admin}"
        );
        whatap(&[
            "uninstall",
            "--runtime",
            "weblogic",
            "--home",
            "C:\\wl",
            "--yes",
            "--json",
        ]);
        common::assert_same_tree(&common::tree_bytes(&tree), &before, method);
    }
}

/// The guide's newest-jar `.bat` block (`--latest-jar`) run by wine's cmd.exe: with the
/// tracers 0.0.1, 2.2.9 and 2.2.33 in the WhaTap home, `catalina.bat run` hands java.exe
/// 2.2.33, the newest by version (by name, 2.2.9 sorts last).
#[test]
fn the_latest_jar_bat_block_picks_the_newest_version() {
    let Some(wine) = wine() else { return };
    let tree = server_tree(
        wine,
        "tc-latest",
        "tomcat-win/9.0.98",
        &["lib/.keep", "logs/.keep", "temp/.keep", "work/.keep"],
    );
    let agent = wine.stub_agent("tc-latest-agent");
    let home = wine.drive_c().join("whatap-latest");
    let _ = fs::remove_dir_all(&home);
    let before = common::tree_bytes(&tree);
    let whatap = |args: &[&str]| wine.run_whatap("C:\\tc-latest-state", args);
    whatap(
        &[
            "install",
            "--runtime",
            "tomcat",
            "--home",
            "C:\\tc-latest",
            "--whatap-home",
            "C:\\whatap-latest",
            "--agent-jar",
            &agent,
            "--latest-jar",
        ]
        .into_iter()
        .chain(common::LICENSED_YES_JSON)
        .collect::<Vec<_>>(),
    );
    let newer = [
        "whatap.agent.tracer-2.2.9.jar",
        "whatap.agent.tracer-2.2.33.jar",
    ];
    for jar in newer {
        fs::copy(common::stub_jar(), home.join(jar)).unwrap();
    }
    let java = wine.run_script("tc-latest-jre", "tc-latest/bin", "catalina.bat", &["run"]);
    assert!(
        java.contains(" -javaagent:C:\\whatap-latest\\whatap.agent.tracer-2.2.33.jar ")
            && java.matches("-javaagent:").count() == 1,
        "java.exe got: {java}"
    );
    for jar in newer {
        fs::remove_file(home.join(jar)).unwrap();
    }
    whatap(&[
        "uninstall",
        "--runtime",
        "tomcat",
        "--home",
        "C:\\tc-latest",
        "--yes",
        "--json",
    ]);
    common::assert_same_tree(&common::tree_bytes(&tree), &before, "after uninstall");
}
