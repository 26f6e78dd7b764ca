//! Spring Boot and any plain `java -jar app.jar`. No server config to edit: the agent goes into
//! JAVA_TOOL_OPTIONS, which every HotSpot JVM reads whatever the command line looks like —
//! through a systemd drop-in (`<unit>.d/whatap.conf`, the unit found from /proc/PID/cgroup or
//! given with `--unit`), or right before the java command of the start script given with
//! `--start-script`. A JAVA_TOOL_OPTIONS the application already has (its unit and drop-ins,
//! else its environment) is kept: ours is appended to it.

use crate::detect::process::{self, Process};
use crate::detect::{Host, systemd};
use crate::edit::marker::{InsertAt, MarkerStyle};
use crate::edit::unit;
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::{Plan, edits, target};
use crate::runtimes::instance::{Entry, InstallPlan, Selector, boxed};
use crate::runtimes::java::agent::{self, AgentSpec, BlockInstall};
use crate::runtimes::java::{self, Description, JavaServer};
use crate::runtimes::kind::RuntimeKind;
use crate::settings::{InstallSettings, TargetSettings};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const ENTRY: Entry = Entry {
    kind: RuntimeKind::Springboot,
    detect: |host| boxed(detect(host)),
    resolve: |target, host| Ok(Box::new(resolve(target, host)?)),
    runs_in: Some(is_candidate),
    is_home: None,
    needs_no_target: false,
    selectors: &[Selector::Pid, Selector::Unit, Selector::StartScript],
};

const TOOL_OPTIONS: &str = "JAVA_TOOL_OPTIONS";
const DROP_IN: &str = "whatap.conf";
/// Launchers of an executable Spring Boot jar run without `-jar`.
const BOOT_LAUNCHERS: &[&str] = &[
    "org.springframework.boot.loader.JarLauncher",
    "org.springframework.boot.loader.launch.JarLauncher",
    "org.springframework.boot.loader.PropertiesLauncher",
    "org.springframework.boot.loader.launch.PropertiesLauncher",
];

/// Where the agent option goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A drop-in for this systemd unit, in this directory (normally /etc/systemd/system).
    Unit {
        unit: String,
        systemd_dir: PathBuf,
    },
    Script(PathBuf),
}

#[derive(Debug, Clone)]
pub struct SpringBoot {
    pub place: Place,
    /// The application jar, when known from a running process.
    pub jar: Option<PathBuf>,
    pub process: Option<Process>,
}

/// The application jar of a `java -jar X` (or Spring Boot launcher) command line.
pub fn app_jar(args: &[String]) -> Option<PathBuf> {
    if let Some(at) = args.iter().position(|a| a == "-jar") {
        let jar = args.get(at + 1)?;
        // The servers' own launchers are other runtimes.
        let name = Path::new(jar).file_name()?.to_str()?;
        if matches!(
            name,
            "start.jar" | "jboss-modules.jar" | "run.jar" | "resin.jar"
        ) {
            return None;
        }
        return Some(PathBuf::from(jar));
    }
    if args.iter().any(|a| BOOT_LAUNCHERS.contains(&a.as_str())) {
        let cp = args.iter().position(|a| a == "-cp" || a == "-classpath")?;
        return args.get(cp + 1).map(PathBuf::from);
    }
    None
}

/// The line (0-based) that runs the JVM in a start script, and where a block must go to reach
/// it: right before the command (before its first line when continued with `\`), so it comes
/// after every assignment that would drop it. None when no line runs `java`.
pub fn java_command_line(content: &[u8]) -> Option<usize> {
    let text = String::from_utf8_lossy(content);
    let lines: Vec<&str> = text.lines().collect();
    let continued = |i: usize| i > 0 && lines[i - 1].trim_end().ends_with('\\');
    let at = (0..lines.len()).find(|&i| !continued(i) && runs_java(lines[i]))?;
    let mut start = at;
    while continued(start) {
        start -= 1;
    }
    Some(start)
}

/// Does a shell line run the JVM: its command word (after `exec`, `nohup`, `env`, `VAR=value`
/// prefixes) is `java`, a path ending in `/java`, or `$JAVA`-like?
fn runs_java(line: &str) -> bool {
    let line = line.trim_start();
    if line.starts_with('#') {
        return false;
    }
    let words = line
        .split_whitespace()
        .map(|w| w.trim_matches(|c| c == '"' || c == '\''));
    for word in words {
        if matches!(
            word,
            "exec" | "nohup" | "env" | "setsid" | "then" | "do" | "else"
        ) || (word.contains('=') && !word.starts_with('-') && !word.starts_with('$'))
        {
            continue;
        }
        let name = word.rsplit('/').next().unwrap_or(word);
        return name == "java"
            || matches!(
                word.trim_start_matches('$')
                    .trim_matches(|c| c == '{' || c == '}'),
                "JAVA" | "JAVACMD" | "JAVA_CMD" | "JAVA_EXE" | "JAVA_BIN"
            );
    }
    false
}

/// The unit's own `JAVA_TOOL_OPTIONS`: its file and drop-ins read the way systemd does
/// (the unit, then `<unit>.d/*.conf` by name, later `Environment=` wins, an empty one resets),
/// from every unit directory. `skip` is our own drop-in. The second value is a drop-in that
/// sorts after ours and sets it (it would drop ours).
pub fn unit_tool_options(
    unit: &str,
    dirs: &[PathBuf],
    skip: &Path,
) -> (Option<String>, Option<PathBuf>) {
    let files: Vec<PathBuf> = systemd::unit_files(unit, dirs)
        .into_iter()
        .filter(|f| f != skip)
        .collect();
    let ours = skip.file_name();
    let mut value = None;
    let mut after_ours = None;
    for setting in unit::list(&systemd::read(&files), "Environment") {
        let drop_in = setting
            .file
            .parent()
            .is_some_and(|d| d.ends_with(format!("{unit}.d")));
        let later = drop_in && setting.file.file_name() > ours;
        for assignment in unit::words(&setting.value) {
            if let Some(v) = assignment.strip_prefix(&format!("{TOOL_OPTIONS}=")) {
                value = Some(v.to_string());
                if later {
                    after_ours = Some(setting.file.clone());
                }
            }
        }
    }
    (value.filter(|v| !v.trim().is_empty()), after_ours)
}

impl SpringBoot {
    fn drop_in(&self) -> Option<PathBuf> {
        match &self.place {
            Place::Unit { unit, systemd_dir } => {
                Some(systemd_dir.join(format!("{unit}.d")).join(DROP_IN))
            }
            Place::Script(_) => None,
        }
    }

    fn files(&self) -> Vec<PathBuf> {
        match &self.place {
            Place::Unit { .. } => self.drop_in().into_iter().collect(),
            Place::Script(script) => vec![script.clone()],
        }
    }

    /// The JAVA_TOOL_OPTIONS the application gets without us, to keep: what its unit and
    /// drop-ins set, else what it runs with now (its environment). Refused when a drop-in
    /// read after ours sets it (it would drop the agent).
    fn current_tool_options(&self) -> Result<Option<String>> {
        if let (Place::Unit { unit, systemd_dir }, Some(ours)) = (&self.place, self.drop_in()) {
            let dirs = systemd::search_dirs(systemd_dir);
            let (value, later) = unit_tool_options(unit, &dirs, &ours);
            if let Some(file) = later {
                return Err(Error::refused(
                    msg!(
                        "springboot-drop-in-later",
                        path = file.display(),
                        variable = TOOL_OPTIONS
                    ),
                    msg!("springboot-drop-in-later-hint"),
                ));
            }
            if value.is_some() {
                return Ok(value);
            }
        }
        let Some(process) = self.process.as_ref() else {
            return Ok(None);
        };
        // What an earlier install added (the app runs with it since) is not the app's own.
        let own = process::environ(process.pid).get(TOOL_OPTIONS).map(|v| {
            v.split_whitespace()
                .filter(|w| {
                    !w.starts_with("-Dwhatap.")
                        && !w
                            .strip_prefix("-javaagent:")
                            .is_some_and(crate::detect::process::is_whatap_agent)
                })
                .collect::<Vec<_>>()
                .join(" ")
        });
        Ok(own.filter(|v| !v.trim().is_empty()))
    }
}

pub fn from_process(p: &Process, systemd_dir: &Path) -> Option<SpringBoot> {
    let jar = app_jar(&p.args)?;
    let unit = systemd::unit_of(p.pid)?;
    Some(SpringBoot {
        place: Place::Unit {
            unit,
            systemd_dir: systemd_dir.to_path_buf(),
        },
        jar: Some(jar),
        process: Some(p.clone()),
    })
}

pub fn detect(host: &Host) -> Vec<SpringBoot> {
    let dir = Path::new("/etc/systemd/system");
    host.java_processes()
        .filter_map(|p| from_process(p, dir))
        .collect()
}

fn is_candidate(p: &Process) -> bool {
    app_jar(&p.args).is_some()
}

pub fn resolve(target: &TargetSettings, host: &Host) -> Result<SpringBoot> {
    let process = match target.pid {
        Some(pid) => Some(java::by_pid(
            host,
            pid,
            |p| is_candidate(p).then(|| p.clone()),
            |pid| {
                Error::usage(
                    msg!("springboot-pid-not-it", pid = pid),
                    msg!("springboot-pid-not-it-hint"),
                )
            },
        )?),
        None => None,
    };
    let jar = process.as_ref().and_then(|p| app_jar(&p.args));
    let place = match (&target.unit, &target.start_script) {
        (Some(unit), None) => Place::Unit {
            unit: normalize_unit(unit)?,
            systemd_dir: target.systemd_dir.clone(),
        },
        (None, Some(script)) => {
            if !script.is_file() {
                return Err(Error::usage(
                    msg!("springboot-script-missing", path = script.display()),
                    msg!("springboot-script-missing-hint"),
                ));
            }
            Place::Script(target::canonical(script))
        }
        (Some(_), Some(_)) => {
            return Err(Error::usage(
                msg!("springboot-unit-and-script"),
                msg!("springboot-unit-and-script-hint"),
            ));
        }
        (None, None) => {
            let found = process
                .as_ref()
                .and_then(|p| from_process(p, &target.systemd_dir));
            return found.ok_or_else(|| {
                Error::usage(
                    match &process {
                        Some(p) => msg!("springboot-not-systemd", pid = p.pid),
                        None => msg!("springboot-no-place"),
                    },
                    msg!("springboot-place-hint"),
                )
            });
        }
    };
    let _ = host;
    Ok(SpringBoot {
        place,
        jar,
        process,
    })
}

fn normalize_unit(unit: &str) -> Result<String> {
    let ok = !unit.is_empty()
        && unit
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@:\\".contains(c))
        && !unit.contains("..");
    if !ok {
        return Err(Error::usage(
            msg!("springboot-bad-unit", unit = format!("{unit:?}")),
            msg!("springboot-bad-unit-hint"),
        ));
    }
    Ok(systemd::unit_name(unit))
}

/// The drop-in: JAVA_TOOL_OPTIONS with what the service already has, then the agent. systemd
/// quotes: the value has no `"` or `\` (checked as plain on the way in).
fn drop_in_text(existing: Option<&str>, agent: &str) -> Result<String> {
    let value = match existing {
        Some(v) => format!("{} {agent}", v.trim()),
        None => agent.to_string(),
    };
    if value.contains(['"', '\\', '\n', '%']) {
        return Err(Error::refused(
            msg!(
                "springboot-unsafe-tool-options",
                variable = TOOL_OPTIONS,
                value = value
            ),
            msg!("springboot-unsafe-tool-options-hint"),
        ));
    }
    Ok(format!(
        "# Added by `whatap install`; remove with `whatap uninstall`.\n[Service]\nEnvironment=\"{TOOL_OPTIONS}={value}\"\n"
    ))
}

impl JavaServer for SpringBoot {
    const KIND: RuntimeKind = RuntimeKind::Springboot;

    fn target(&self) -> PathBuf {
        match &self.place {
            Place::Unit { .. } => self.drop_in().expect("unit place"),
            Place::Script(script) => script.clone(),
        }
    }

    /// Known by its unit (or start script), not by the drop-in file.
    fn label(&self) -> String {
        match &self.place {
            Place::Unit { unit, .. } => format!("{} {unit}", Self::KIND),
            Place::Script(script) => format!("{} {}", Self::KIND, script.display()),
        }
    }

    fn process(&self) -> Option<&Process> {
        self.process.as_ref()
    }

    fn describe(&self) -> Description {
        let mut details = BTreeMap::new();
        if let Place::Unit { unit, .. } = &self.place {
            details.insert("unit".to_string(), unit.clone());
        }
        let home = self.jar.clone().unwrap_or_else(|| JavaServer::target(self));
        Description {
            details,
            ..Description::home(&home)
        }
    }

    fn startup_chain(&self) -> agent::Chain {
        self.files()
            .into_iter()
            .map(|f| (f, MarkerStyle::Shell))
            .collect()
    }

    fn restart_hint(&self) -> String {
        match &self.place {
            Place::Unit { unit, .. } => {
                format!("systemctl daemon-reload && systemctl restart {unit}")
            }
            Place::Script(script) => {
                msg!("springboot-restart-script", path = script.display())
            }
        }
    }

    fn plan_install(&self, settings: &InstallSettings, dist: Option<&Path>) -> Result<InstallPlan> {
        if settings.method.is_some() {
            return Err(Error::usage(
                msg!("springboot-method"),
                msg!("drop-method-hint"),
            ));
        }
        let owner = self
            .process
            .as_ref()
            .map(|p| (p.uid, p.gid))
            .unwrap_or((0, 0));
        match &self.place {
            Place::Unit { .. } => {
                let home = self
                    .jar
                    .as_ref()
                    .and_then(|j| j.parent())
                    .map(Path::to_path_buf)
                    .filter(|d| d.is_absolute())
                    .unwrap_or_else(|| PathBuf::from("/opt"));
                if settings.target.whatap_home.is_none() && self.jar.is_none() {
                    return Err(Error::usage(
                        msg!("springboot-unit-no-home"),
                        msg!("springboot-unit-no-home-hint"),
                    ));
                }
                let (_, agent, _, mut plan) =
                    agent::fixed_agent_plan(settings, dist, &home, owner)?;
                let drop_in = self.drop_in().expect("unit place");
                let dir = drop_in.parent().expect("drop-in dir").to_path_buf();
                let roots = target::owned_roots(&[&dir]);
                let text = drop_in_text(self.current_tool_options()?.as_deref(), &agent)?;
                let file = target::read(&drop_in, &roots)?;
                // Our own drop-in from an earlier install is replaced (other options); a
                // file someone else wrote there is not.
                let ours = settings
                    .recorded
                    .iter()
                    .any(|(p, o)| *p == file.real && *o == crate::plan::Ownership::Whole);
                if let Some(content) = file.content.as_ref().filter(|_| !ours) {
                    if content != text.as_bytes() {
                        return Err(Error::refused(
                            msg!("springboot-drop-in-exists", path = drop_in.display()),
                            msg!("springboot-drop-in-exists-hint"),
                        ));
                    }
                }
                plan.dirs
                    .extend(crate::plan::DirCreate::missing(&dir, None));
                plan.edits
                    .push(edits::whole(&drop_in, &roots, text.into_bytes(), 0o644)?);
                Ok(InstallPlan {
                    plan,
                    method: "systemd".to_string(),
                    next_steps: vec![self.restart_hint()],
                    warnings: Vec::new(),
                })
            }
            Place::Script(script) => {
                let dir = script.parent().unwrap_or(Path::new("/"));
                let content = target::peek(script).map_err(|e| Error::io(script, e))?;
                let Some(java_line) = java_command_line(&content) else {
                    return Err(Error::refused(
                        msg!("springboot-script-no-java", path = script.display()),
                        msg!("springboot-script-no-java-hint"),
                    ));
                };
                let spec =
                    AgentSpec::resolve(settings, dist, &dir.join("whatap"), MarkerStyle::Shell)?;
                let chain = vec![(script.clone(), MarkerStyle::Shell)];
                let install = BlockInstall {
                    script: script.clone(),
                    chain: &chain,
                    style: MarkerStyle::Shell,
                    // Right before the java command: after anything that resets the variable.
                    at: InsertAt::BeforeLine(java_line),
                    dirs: &[dir],
                    owner,
                    shell: true,
                };
                let plan: Plan =
                    agent::plan_block_install(&install, &spec, settings, dist, |spec| {
                        let mut lines = agent::agent_block(
                            MarkerStyle::Shell,
                            TOOL_OPTIONS,
                            &spec.whatap_home,
                            &spec.jar_name,
                            settings.latest_jar,
                            &spec.options,
                        )?;
                        lines.push(format!("export {TOOL_OPTIONS}"));
                        Ok(lines)
                    })?;
                Ok(InstallPlan {
                    plan,
                    method: "start-script".to_string(),
                    next_steps: vec![self.restart_hint()],
                    warnings: Vec::new(),
                })
            }
        }
    }

    fn selection(&self) -> Option<TargetSettings> {
        let (unit, start_script, systemd_dir) = match &self.place {
            Place::Unit { unit, systemd_dir } => (Some(unit.clone()), None, systemd_dir.clone()),
            Place::Script(script) => (None, Some(script.clone()), PathBuf::new()),
        };
        Some(TargetSettings {
            runtime: Some(Self::KIND),
            pid: self.process.as_ref().map(|p| p.pid),
            unit,
            start_script,
            systemd_dir,
            ..TargetSettings::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn app_jar_from_command_lines() {
        assert_eq!(
            app_jar(&args(&[
                "java",
                "-Xmx1g",
                "-jar",
                "/srv/app/app.jar",
                "--server.port=8081"
            ])),
            Some(PathBuf::from("/srv/app/app.jar"))
        );
        assert_eq!(
            app_jar(&args(&[
                "java",
                "-cp",
                "/srv/app",
                "org.springframework.boot.loader.launch.JarLauncher"
            ])),
            Some(PathBuf::from("/srv/app"))
        );
        assert_eq!(
            app_jar(&args(&["java", "-jar", "/opt/jetty/start.jar"])),
            None
        );
        assert_eq!(
            app_jar(&args(&["java", "org.apache.catalina.startup.Bootstrap"])),
            None
        );
    }

    #[test]
    fn the_java_command_line_of_a_script() {
        let script = b"#!/bin/sh\nJAVA=/opt/jdk/bin/java\nif [ -n \"$X\" ]; then\n  nohup env A=1 \"$JAVA\" \\\n    -jar app.jar &\nfi\n";
        assert_eq!(java_command_line(script), Some(3));
        assert_eq!(
            java_command_line(b"exec /usr/bin/java -jar a.jar\n"),
            Some(0)
        );
        assert_eq!(
            java_command_line(b"# java -jar a.jar\nexec ./run.sh\n"),
            None
        );
    }

    #[test]
    fn drop_in_keeps_existing_tool_options() {
        let text = drop_in_text(Some("-Dfile.encoding=UTF-8"), "-javaagent:/w/a.jar").unwrap();
        assert!(text.contains(
            "Environment=\"JAVA_TOOL_OPTIONS=-Dfile.encoding=UTF-8 -javaagent:/w/a.jar\"\n"
        ));
        assert!(drop_in_text(Some("-Dx=\"y\""), "-javaagent:/w/a.jar").is_err());
        assert_eq!(normalize_unit("orders").unwrap(), "orders.service");
        assert!(normalize_unit("../etc").is_err());
    }
}
