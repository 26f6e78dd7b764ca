//! Node.js parts `.ci/run` puts on the machine: Debian's node and npm, the real `whatap` npm
//! package in an npm cache (from the registry, with its dependencies) and as the tarball
//! `npm pack` wrote, both installed offline; pm2 in a prefix of its own; and a small HTTP app.

use super::must_have;
use std::fs;
use std::path::{Path, PathBuf};

/// Where `.ci/run` puts the npm parts (`WHATAP_TEST_NPM` overrides it).
fn npm_dir() -> PathBuf {
    std::env::var_os("WHATAP_TEST_NPM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/whatap-test/npm"))
}

pub const AGENT_VERSION: &str = "2.0.6";

/// The real agent tarball, None (after `must_have`) when node, npm or it is missing.
pub fn agent_tarball() -> Option<PathBuf> {
    let tarball = npm_dir().join(format!("whatap-{AGENT_VERSION}.tgz"));
    let ready = tarball.is_file()
        && npm_dir().join("cache").is_dir()
        && Path::new("/usr/bin/node").is_file()
        && Path::new("/usr/bin/npm").exists();
    must_have(
        &format!(
            "node, npm and the whatap npm package (npm pack) in {}",
            npm_dir().display()
        ),
        ready,
    )
    .then_some(tarball)
}

/// The package as `.ci/run` installed it once (`<npm>/warm/node_modules/whatap`), for tests
/// about what surrounds an installed package rather than about installing it.
pub fn installed_agent() -> PathBuf {
    npm_dir().join("warm/node_modules/whatap")
}

/// pm2 from npm, in the prefix `.ci/run` installed it into.
pub fn pm2() -> Option<PathBuf> {
    let pm2 = std::env::var_os("WHATAP_TEST_PM2")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/whatap-test/pm2"))
        .join("bin/pm2");
    must_have(&format!("pm2 at {}", pm2.display()), pm2.is_file()).then_some(pm2)
}

/// npm's settings for the tests (`cmd.envs(npm_env())`): the cache `.ci/run` filled, never the
/// network.
pub fn npm_env() -> Vec<(&'static str, std::ffi::OsString)> {
    vec![
        ("npm_config_cache", npm_dir().join("cache").into_os_string()),
        ("npm_config_offline", "true".into()),
        ("npm_config_update_notifier", "false".into()),
    ]
}

/// An HTTP app answering `hello from node` on `PORT`, with its package.json (a dependency on
/// a package of its own tree, so node_modules exists before the agent comes, as in any app).
pub fn write_app(dir: &Path, name: &str) {
    fs::create_dir_all(dir.join("lib/greet")).unwrap();
    fs::write(
        dir.join("package.json"),
        format!(
            "{{\n  \"name\": \"{name}\",\n  \"version\": \"1.0.0\",\n  \"private\": true,\n  \"main\": \"server.js\",\n  \"dependencies\": {{\n    \"greet\": \"file:lib/greet\"\n  }}\n}}\n"
        ),
    )
    .unwrap();
    fs::write(
        dir.join("lib/greet/package.json"),
        "{\"name\": \"greet\", \"version\": \"1.0.0\", \"main\": \"index.js\"}\n",
    )
    .unwrap();
    fs::write(
        dir.join("lib/greet/index.js"),
        "module.exports = () => 'hello from node\\n';\n",
    )
    .unwrap();
    fs::write(
        dir.join("server.js"),
        "const http = require('http');\nconst greet = require('greet');\nconst port = Number(process.env.PORT);\n\
         http.createServer((req, res) => res.end(greet())).listen(port, '127.0.0.1');\n",
    )
    .unwrap();
}

/// npm's own install of the app's dependencies (its `file:` package only: no network).
pub fn npm_install(dir: &Path) {
    let status = std::process::Command::new("npm")
        .envs(npm_env())
        .args(["install", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "npm install in {}", dir.display());
}

/// Every file of the app but its WhaTap home (which the agent fills with logs and pid files).
pub fn app_files(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = super::tree_bytes(dir);
    files.retain(|path, _| !path.starts_with("whatap"));
    files
}

/// A lock file for the agent's UDP port allocation (`WHATAP_LOCK_FILE`; the package's default
/// is host-wide `/tmp/whatap-nodejs.lock`) that makes it pick a free port: it takes the one
/// after the highest it finds there.
pub fn port_lock(dir: &Path) -> PathBuf {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    let lock = dir.join("whatap-nodejs.lock");
    fs::write(&lock, format!("{}\tseed\n", port - 1)).unwrap();
    lock
}

/// The app's package.json lists the agent and node_modules has it (a link to the package as
/// `.ci/run` installed it), and its own dependency linked as npm does: an app where the agent
/// is already installed, without running npm.
pub fn with_agent_installed(dir: &Path, name: &str) {
    write_app(dir, name);
    fs::write(
        dir.join("package.json"),
        format!(
            "{{\n  \"name\": \"{name}\",\n  \"version\": \"1.0.0\",\n  \"dependencies\": {{\n    \"greet\": \"file:lib/greet\",\n    \"whatap\": \"^{AGENT_VERSION}\"\n  }}\n}}\n"
        ),
    )
    .unwrap();
    fs::create_dir_all(dir.join("node_modules")).unwrap();
    std::os::unix::fs::symlink("../lib/greet", dir.join("node_modules/greet")).unwrap();
    std::os::unix::fs::symlink(installed_agent(), dir.join("node_modules/whatap")).unwrap();
}
