//! Debian's real tomcat10 (installed by .ci/run) on a private CATALINA_BASE: started with
//! catalina.sh on a free loopback port, stopped by PID.

use super::*;
use std::process::Command;
use std::time::{Duration, Instant};

pub const DEBIAN_HOME: &str = "/usr/share/tomcat10";
pub const DEBIAN_CONF: &str = "/etc/tomcat10";

/// A CATALINA_BASE of our own: Debian's conf, a loopback HTTP port, one page.
pub fn make_base(root: &Path, port: u16) -> PathBuf {
    let base = root.join("base");
    for dir in ["conf", "logs", "temp", "work", "webapps/ROOT"] {
        fs::create_dir_all(base.join(dir)).unwrap();
    }
    for file in [
        "catalina.properties",
        "context.xml",
        "logging.properties",
        "tomcat-users.xml",
        "web.xml",
    ] {
        fs::copy(
            Path::new(DEBIAN_CONF).join(file),
            base.join("conf").join(file),
        )
        .unwrap();
    }
    let server = fs::read_to_string(Path::new(DEBIAN_CONF).join("server.xml")).unwrap();
    let server = server.replace(
        "port=\"8080\"",
        &format!("port=\"{port}\" address=\"127.0.0.1\""),
    );
    fs::write(base.join("conf/server.xml"), server).unwrap();
    fs::write(base.join("webapps/ROOT/index.html"), "hello from tomcat\n").unwrap();
    base
}

pub struct Tomcat {
    pub home: PathBuf,
    pub base: PathBuf,
    pub port: u16,
    pub marker: PathBuf,
}

impl Tomcat {
    pub fn pid_file(&self) -> PathBuf {
        self.base.join("temp/tomcat.pid")
    }

    /// Starts it and waits until it answers; stopped when the `Running` is dropped.
    pub fn start(&self) -> Running<'_> {
        self.start_holding(Some(host::DETECTABLE.shared()))
    }

    /// Started by a test that holds `host::DETECTABLE` exclusively already.
    pub fn start_while_exclusive(&self, _held: &host::Exclusive) -> Running<'_> {
        self.start_holding(None)
    }

    fn start_holding(&self, detectable: Option<host::Shared>) -> Running<'_> {
        let status = Command::new(self.home.join("bin/catalina.sh"))
            .arg("start")
            .env("CATALINA_HOME", &self.home)
            .env("CATALINA_BASE", &self.base)
            .env("CATALINA_PID", self.pid_file())
            .env(
                "JAVA_OPTS",
                format!("-Dwhatap.stub.marker={}", self.marker.display()),
            )
            .status()
            .unwrap();
        assert!(status.success(), "catalina.sh start failed");
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Some(body) = http_ok(self.port) {
                assert!(body.contains("hello from tomcat"), "{body}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "Tomcat did not answer: {}",
                self.catalina_out()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        let pid = fs::read_to_string(self.pid_file())
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        Running {
            tomcat: self,
            pid,
            _detectable: detectable,
        }
    }

    /// Debian's server.xml disables the shutdown port: stop by PID.
    pub fn stop(&self, pid: u32) {
        Command::new("kill").arg(pid.to_string()).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Path::new(&format!("/proc/{pid}")).exists() {
            if Instant::now() > deadline {
                Command::new("kill")
                    .args(["-9", &pid.to_string()])
                    .status()
                    .unwrap();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = fs::remove_file(self.pid_file());
    }

    pub fn catalina_out(&self) -> String {
        fs::read_to_string(self.base.join("logs/catalina.out")).unwrap_or_default()
    }
}

/// Stops Tomcat even when an assertion fails half way. `whatap detect` lists it while it runs.
pub struct Running<'a> {
    tomcat: &'a Tomcat,
    pub pid: u32,
    _detectable: Option<host::Shared>,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.tomcat.stop(self.pid);
    }
}

/// The response to `GET /` when it is a 200 (Tomcat still deploying answers 404).
fn http_ok(port: u16) -> Option<String> {
    http_get(port).filter(|body| body.starts_with("HTTP/1.1 200"))
}

pub fn have_tomcat10() -> bool {
    must_have(
        "tomcat10 (Debian package)",
        Path::new(DEBIAN_HOME).join("bin/catalina.sh").exists(),
    )
}
