//! The whatap-php agent: the daemon that forwards what the extension sends over UDP to the
//! collectors, run as the `whatap-php` service. An installed whatap-php package keeps its own
//! `/etc/init.d/whatap-php`: its `export` lines get the guide's values. Otherwise the
//! `whatap_php` binary of `--agent-archive` (or one already in the agent's home) gets a service
//! of ours: a systemd unit where systemd runs, else an init.d script run through
//! start-stop-daemon, with the guide's environment. Either is started once the files are in
//! place and stopped by uninstall; without any agent, the guide's package commands are printed.

use crate::edit::marker::MarkerStyle;
use crate::edit::template;
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::{DirCreate, Plan, RunStep, Undo, Validation, edits, target};
use crate::runtimes::java::agent::check_plain;
use std::path::{Path, PathBuf};

/// The agent binary, in the package and in the vendor's archives.
pub const AGENT_BINARY: &str = "whatap_php";
/// The guide's agent home (`/usr/whatap/php`, its logs in `logs/`).
pub const DEFAULT_HOME: &str = "/usr/whatap/php";
/// The package's service script, and ours on hosts without systemd.
pub const SERVICE_SCRIPT: &str = "/etc/init.d/whatap-php";
const SERVICE_UNIT: &str = "/etc/systemd/system/whatap-php.service";
const UNIT_NAME: &str = "whatap-php.service";
/// By absolute path: a plan never finds a program through PATH.
const SYSTEMCTL: &str = "/bin/systemctl";
const PIDFILE: &str = "/run/whatap-php.pid";
/// The first comment line of both our service files: what tells ours from the package's.
const OURS: &str = "# Written by `whatap install --runtime php`";
const INIT_TEMPLATE: &str = include_str!("../../../templates/php/whatap-php.init");
const UNIT_TEMPLATE: &str = include_str!("../../../templates/php/whatap-php.service");

/// The guide's service environment: which PHP, its extension dir, the module, the ini dir.
pub struct ServiceEnv {
    pub php_bin: PathBuf,
    pub ext_home: PathBuf,
    pub ext_src: PathBuf,
    /// `WHATAP_CONFIG_HOME`: the directory of the whatap.ini the agent reads.
    pub config_home: PathBuf,
}

/// What the agent part of an install adds: the steps that start the service (run only when
/// the install changes something) and what the operator is told.
#[derive(Default)]
pub struct AgentPlan {
    pub start: Vec<RunStep>,
    pub next_steps: Vec<String>,
    pub warnings: Vec<String>,
}

/// Is systemd the init of this host (sd_booted: `/run/systemd/system` exists)?
fn systemd_runs() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

pub(super) fn is_ours(path: &Path) -> bool {
    crate::plan::target::peek(path)
        .is_ok_and(|bytes| String::from_utf8_lossy(&bytes).contains(OURS))
}

/// The agent home that `WHATAP_HOME` names in the service files (ours or the package's),
/// else the guide's: where the agent's logs are.
pub fn agent_home() -> PathBuf {
    [Path::new(SERVICE_UNIT), Path::new(SERVICE_SCRIPT)]
        .iter()
        .filter_map(|f| crate::plan::target::peek(f).ok())
        .find_map(|b| crate::edit::wrap::named_home(&String::from_utf8_lossy(&b)))
        .map_or_else(|| PathBuf::from(DEFAULT_HOME), PathBuf::from)
}

/// Plans the agent: `home` is where its binary goes, `env` what its service exports,
/// `agent_ini` a whatap.ini for it when PHP has no scan dir (the guide's
/// `/usr/whatap/php/whatap.ini`).
pub fn plan(
    home: &Path,
    env: &ServiceEnv,
    agent_ini: Option<Vec<u8>>,
    dist: Option<&Path>,
    plan: &mut Plan,
) -> Result<AgentPlan> {
    let mut out = AgentPlan::default();
    let script = Path::new(SERVICE_SCRIPT);
    if script.is_file() && !is_ours(script) {
        package_exports(script, env, plan, &mut out)?;
        out.start = vec![RunStep::new(SERVICE_SCRIPT, &["restart"])];
        plan.undo.push(Undo::Run {
            step: RunStep::new(SERVICE_SCRIPT, &["stop"]).best_effort(),
        });
        return Ok(out);
    }
    let binary = home.join(AGENT_BINARY);
    // The vendor's package layout keeps it in usr/whatap/php/.
    let source = dist.and_then(|d| crate::detect::find_below(d, AGENT_BINARY, 4));
    if source.is_none() && !binary.is_file() {
        out.warnings.push(msg!(
            "php-agent-missing",
            binary = AGENT_BINARY,
            home = home.display()
        ));
        out.next_steps.push(package_commands());
        return Ok(out);
    }
    let values = [
        ("home", home),
        ("php_bin", &env.php_bin),
        ("ext_home", &env.ext_home),
        ("ext_src", &env.ext_src),
        ("config_home", &env.config_home),
    ];
    let mut filled = Vec::new();
    for (key, value) in values {
        let value = value.display().to_string();
        check_plain(key, &value, MarkerStyle::Shell)?;
        filled.push((key, value));
    }
    filled.push(("pidfile", PIDFILE.to_string()));
    let filled: Vec<(&str, &str)> = filled.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (service, text, mode) = if systemd_runs() {
        (SERVICE_UNIT, UNIT_TEMPLATE, 0o644)
    } else {
        (SERVICE_SCRIPT, INIT_TEMPLATE, 0o755)
    };
    let mut bytes = template::render(service, text, &filled)?.join("\n");
    bytes.push('\n');
    let service = Path::new(service);
    let service_dir = service.parent().unwrap_or(Path::new("/"));
    let roots = target::owned_roots(&[home, service_dir]);
    plan.dirs.extend(DirCreate::missing(home, None));
    if let Some(source) = source {
        let mut copy = edits::copy(&source, &binary, &roots)?;
        copy.create_mode = 0o755;
        plan.edits.push(copy);
    }
    if let Some(ini) = agent_ini {
        let edit = edits::whole(&home.join(super::sapi::INI_FILE), &roots, ini, 0o600)?;
        plan.edits.push(edit);
    }
    let mut edit = edits::whole(service, &roots, bytes.into_bytes(), mode)?;
    if mode == 0o755 {
        edit.validation = Validation::Shell;
        out.start = vec![RunStep::new(SERVICE_SCRIPT, &["restart"])];
        plan.undo.push(Undo::Run {
            step: RunStep::new(SERVICE_SCRIPT, &["stop"]).best_effort(),
        });
    } else {
        out.start = vec![
            RunStep::new(SYSTEMCTL, &["daemon-reload"]),
            RunStep::new(SYSTEMCTL, &["enable", "--now", UNIT_NAME]),
        ];
        plan.undo.push(Undo::Run {
            step: RunStep::new(SYSTEMCTL, &["disable", "--now", UNIT_NAME]).best_effort(),
        });
    }
    plan.edits.push(edit);
    Ok(out)
}

/// The guide's package commands for this distribution (Debian/Ubuntu or RHEL/CentOS).
fn package_commands() -> String {
    if Path::new("/etc/redhat-release").exists() || Path::new("/etc/system-release").exists() {
        msg!("php-agent-package-rhel")
    } else {
        msg!("php-agent-package-debian")
    }
}

/// Fills `export WHATAP_PHP_BIN=` / `WHATAP_PHP_EXT_HOME=` / `WHATAP_PHP_EXT_SRC=` /
/// `WHATAP_CONFIG_HOME=` in the package's service script; lines it lacks are not appended
/// (after the script's `case` they would never run).
fn package_exports(
    script: &Path,
    env: &ServiceEnv,
    plan: &mut Plan,
    out: &mut AgentPlan,
) -> Result<()> {
    let values = [
        ("export WHATAP_PHP_BIN", &env.php_bin),
        ("export WHATAP_PHP_EXT_HOME", &env.ext_home),
        ("export WHATAP_PHP_EXT_SRC", &env.ext_src),
        ("export WHATAP_CONFIG_HOME", &env.config_home),
    ];
    let roots = target::owned_roots(&[script.parent().unwrap_or(Path::new("/"))]);
    let existing = crate::edit::conf::parse(
        &crate::plan::target::peek(script).map_err(|e| Error::io(script, e))?,
    );
    let mut keys = Vec::new();
    for (key, value) in values {
        if existing.contains_key(key) {
            let value = value.display().to_string();
            check_plain(key, &value, MarkerStyle::Shell)?;
            keys.push((key.to_string(), value));
        } else {
            out.warnings.push(msg!(
                "php-service-no-key",
                script = SERVICE_SCRIPT,
                key = key
            ));
        }
    }
    if !keys.is_empty() {
        let mut edit = edits::keys(script, &roots, &keys, 0o755)?;
        edit.validation = Validation::Shell;
        plan.edits.push(edit);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// Both service files come out of their templates whole, and the unit passes
    /// `systemd-analyze verify` where that tool exists.
    #[test]
    fn service_files_render_and_the_unit_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("agent");
        fs::create_dir(&home).unwrap();
        let binary = home.join(AGENT_BINARY);
        fs::write(&binary, "#!/bin/sh\nexec sleep 1000\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&binary, fs::Permissions::from_mode(0o755)).unwrap();
        let home_text = home.display().to_string();
        let values = [
            ("home", home_text.as_str()),
            ("php_bin", "/usr/bin/php8.2"),
            ("ext_home", "/usr/lib/php/20220829"),
            ("ext_src", "/usr/whatap/php/modules/whatap_20220829.so"),
            ("config_home", "/etc/php/8.2/mods-available"),
            ("pidfile", PIDFILE),
        ];
        let init = template::render("init", INIT_TEMPLATE, &values).unwrap();
        assert!(init.contains(&format!("export WHATAP_HOME={home_text}")));
        let unit = template::render("unit", UNIT_TEMPLATE, &values[..5]).unwrap();
        assert!(unit.contains(&format!("ExecStart={home_text}/whatap_php")));
        let unit_file = dir.path().join(UNIT_NAME);
        fs::write(&unit_file, unit.join("\n") + "\n").unwrap();
        let verify = std::process::Command::new("systemd-analyze")
            .arg("verify")
            .arg(&unit_file)
            .output();
        let Ok(verify) = verify else {
            eprintln!("SKIPPED: no systemd-analyze on this host");
            return;
        };
        let said = String::from_utf8_lossy(&verify.stderr);
        assert!(
            verify.status.success() && !said.contains(UNIT_NAME),
            "systemd-analyze verify: {said}"
        );
    }
}
