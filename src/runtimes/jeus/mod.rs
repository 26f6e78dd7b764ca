//! TmaxSoft JEUS. JEUS 7/8: `domains/<domain>/config/domain.xml`, one more `<jvm-option>` in
//! each server's `<jvm-config>`. JEUS 6: `config/<node>/JEUSMain.xml`, the agent options
//! appended to each engine container's `<command-option>`. XML is edited by splicing bytes
//! (`edit::xml`): every other byte of the file stays as it was.

use crate::detect::Host;
use crate::detect::process::{self, Process};
use crate::edit::xml::{self, Element, Insertion};
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::target::canonical;
use crate::plan::{Validation, edits};
use crate::runtimes::instance::{Entry, InstallPlan, JAVA_SELECTORS, boxed};
use crate::runtimes::java::agent::{self, BlockScan, FoundBlock};
use crate::runtimes::java::{self, Description, JavaServer};
use crate::runtimes::kind::RuntimeKind;
use crate::settings::{InstallSettings, TargetSettings};
use std::fs;
use std::path::{Path, PathBuf};

pub const ENTRY: Entry = Entry {
    kind: RuntimeKind::Jeus,
    detect: |host| boxed(detect(host)),
    resolve: |target, host| Ok(Box::new(resolve(target, host)?)),
    runs_in: Some(|p| from_process(p).is_some()),
    is_home: Some(is_home),
    needs_no_target: false,
    selectors: JAVA_SELECTORS,
};

const SEARCH_DIRS: &[&str] = &["/opt", "/usr/local", "/srv", "/home"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// JEUS 7 and 8: domain.xml.
    Domain,
    /// JEUS 6: JEUSMain.xml.
    Main,
}

#[derive(Debug, Clone)]
pub struct Jeus {
    pub home: PathBuf,
    pub generation: Generation,
    /// The file that holds the JVM options (domain.xml or JEUSMain.xml).
    pub config: PathBuf,
    pub process: Option<Process>,
}

/// Every domain.xml (JEUS 7/8) or JEUSMain.xml (JEUS 6) under a home.
fn config_files(home: &Path) -> Vec<(Generation, PathBuf)> {
    let mut found = Vec::new();
    for (dir, generation, name) in [
        ("domains", Generation::Domain, "config/domain.xml"),
        ("config", Generation::Main, "JEUSMain.xml"),
    ] {
        if let Ok(entries) = fs::read_dir(home.join(dir)) {
            let mut files: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path().join(name))
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            found.extend(files.into_iter().map(|f| (generation, f)));
        }
    }
    found
}

fn is_home(dir: &Path) -> bool {
    !config_files(dir).is_empty()
}

/// The one config the flags or the host name pick: `--base` (a domain or node directory),
/// else the only one, else (JEUS 6) the node named after this host.
fn pick_config(home: &Path, base: Option<&Path>) -> Result<(Generation, PathBuf)> {
    let all = config_files(home);
    if let Some(base) = base {
        let base = canonical(base);
        return all
            .into_iter()
            .find(|(_, f)| canonical(f).starts_with(&base))
            .ok_or_else(|| {
                Error::usage(
                    msg!("jeus-base-empty", path = base.display()),
                    msg!("jeus-base-empty-hint"),
                )
            });
    }
    if all.len() == 1 {
        return Ok(all.into_iter().next().expect("one"));
    }
    let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    if let Some(found) = all.iter().find(|(g, f)| {
        *g == Generation::Main && f.parent().is_some_and(|d| d.ends_with(host.trim()))
    }) {
        return Ok(found.clone());
    }
    let list: Vec<String> = all
        .iter()
        .filter_map(|(_, f)| {
            let dir = if f.ends_with("config/domain.xml") {
                f.parent()?.parent()?
            } else {
                f.parent()?
            };
            Some(format!("--base {}", dir.display()))
        })
        .collect();
    Err(Error::usage(
        msg!(
            "jeus-choose",
            path = home.display(),
            count = all.len(),
            list = list.join(" | ")
        ),
        msg!("jeus-choose-hint"),
    ))
}

fn build(home: &Path, base: Option<&Path>, process: Option<Process>) -> Result<Jeus> {
    let home = canonical(home);
    let (generation, config) = pick_config(&home, base)?;
    Ok(Jeus {
        home,
        generation,
        config,
        process,
    })
}

/// A JEUS server JVM names its home with `-Djeus.home`, its domain with `-Djeus.domain.name`.
pub fn from_process(p: &Process) -> Option<Jeus> {
    let home = PathBuf::from(p.system_property("jeus.home")?);
    let base = p
        .system_property("jeus.domain.name")
        .map(|d| home.join("domains").join(d));
    build(&home, base.as_deref(), Some(p.clone())).ok()
}

pub fn detect(host: &Host) -> Vec<Jeus> {
    let mut found: Vec<Jeus> = Vec::new();
    for jeus in host.java_processes().filter_map(from_process) {
        if !found.iter().any(|j| j.config == jeus.config) {
            found.push(jeus);
        }
    }
    for home in java::homes_in(SEARCH_DIRS, &["jeus"], is_home) {
        if let Ok(candidate) = build(&home, None, None) {
            if !found.iter().any(|j| j.config == candidate.config) {
                found.push(candidate);
            }
        }
    }
    found
}

const POINTING: java::Pointing = java::Pointing {
    holds: || msg!("holds-jeus"),
    pid_not_it: |pid| {
        Error::usage(
            msg!("jeus-pid-not-it", pid = pid),
            msg!("jeus-pid-not-it-hint"),
        )
    },
    not_home: |home| {
        Error::usage(
            msg!("jeus-not-home", path = home.display()),
            msg!("jeus-not-home-hint"),
        )
    },
    home_required: Some(|| {
        Error::usage(msg!("jeus-home-required"), msg!("jeus-home-required-hint"))
    }),
};

/// `--home JEUS_HOME`, and `--base` for one domain (7/8) or node (6) of it.
pub fn resolve(target: &TargetSettings, host: &Host) -> Result<Jeus> {
    let home = match java::pointed(host, target, from_process, is_home, &POINTING)? {
        Ok(running) => return Ok(running),
        Err(home) => home,
    };
    let mut jeus = build(home, target.base.as_deref(), None)?;
    jeus.process =
        java::running(host, from_process, |j| j.config == jeus.config).and_then(|j| j.process);
    Ok(jeus)
}

fn is_agent_option(text: &[u8]) -> bool {
    let text = String::from_utf8_lossy(text);
    text.split_whitespace()
        .filter_map(|w| w.strip_prefix("-javaagent:"))
        .any(process::is_whatap_agent)
}

fn child_text(content: &[u8], all: &[Element], parent: &Element, name: &str) -> String {
    xml::children(all, parent, name)
        .first()
        .map(|e| String::from_utf8_lossy(e.text(content)).trim().to_string())
        .unwrap_or_default()
}

/// JEUS 7/8: a `<jvm-option>` after the last one of each chosen server (`--server`, else
/// every server but the admin server: `<admin-server-name>`, by default `adminServer`).
/// Servers whose options already hold exactly ours are left alone; a different WhaTap agent
/// there is a refusal. Returns the insertions and the servers chosen.
pub fn domain_insertions(
    content: &[u8],
    option: &str,
    wanted: &[String],
) -> Result<(Vec<Insertion>, Vec<String>)> {
    let all = xml::elements(content).map_err(|e| bad_xml(&e))?;
    let mut insertions = Vec::new();
    let servers: Vec<&Element> = all
        .iter()
        .filter(|e| e.name == "server" && e.ancestors.last().is_some_and(|p| p == "servers"))
        .collect();
    if servers.is_empty() {
        return Err(Error::refused(
            msg!("jeus-no-servers"),
            msg!("jeus-no-servers-hint"),
        ));
    }
    let admin = all
        .iter()
        .find(|e| e.name == "admin-server-name")
        .map(|e| String::from_utf8_lossy(e.text(content)).trim().to_string())
        .unwrap_or_else(|| "adminServer".to_string());
    let names: Vec<String> = servers
        .iter()
        .map(|s| child_text(content, &all, s, "name"))
        .collect();
    let chosen = java::chosen_servers(&names, Some(&admin), wanted)?;
    for (server, name) in servers.into_iter().zip(names) {
        if !chosen.contains(&name) {
            continue;
        }
        let Some(config) = xml::children(&all, server, "jvm-config").into_iter().next() else {
            return Err(Error::refused(
                msg!("jeus-no-jvm-config", server = name),
                msg!("jeus-no-jvm-config-hint"),
            ));
        };
        let options = xml::children(&all, config, "jvm-option");
        if let Some(existing) = options.iter().find(|o| is_agent_option(o.text(content))) {
            if String::from_utf8_lossy(existing.text(content)).trim() == option {
                continue;
            }
            return Err(already_set(&name, existing.text(content)));
        }
        insertions.push(match options.last() {
            Some(last) => xml::sibling_after(content, last, "jvm-option", option),
            None => xml::first_children(
                content,
                config,
                &[format!("<jvm-option>{}</jvm-option>", xml::escape(option))],
            ),
        });
    }
    Ok((insertions, chosen))
}

/// The engine containers `--server` picks, by `<name>` or by the `<node>_<name>` form JEUS 6
/// itself uses (jeusadmin, container logs); every container when none is named.
fn chosen_containers(names: &[(String, String)], wanted: &[String]) -> Result<Vec<String>> {
    let short: Vec<String> = names.iter().map(|(_, name)| name.clone()).collect();
    let mut picked: Vec<String> = Vec::new();
    for w in wanted {
        let name = names
            .iter()
            .find(|(node, name)| w == name || *w == format!("{node}_{name}"))
            .map_or_else(|| w.clone(), |(_, name)| name.clone());
        if !picked.contains(&name) {
            picked.push(name);
        }
    }
    java::chosen_servers(&short, None, &picked)
}

/// JEUS 6: the options appended to the `<command-option>` of each chosen engine container
/// (`--server`, else all of them). Returns the insertions and the containers chosen.
pub fn main_insertions(
    content: &[u8],
    option: &str,
    wanted: &[String],
) -> Result<(Vec<Insertion>, Vec<String>)> {
    let all = xml::elements(content).map_err(|e| bad_xml(&e))?;
    let containers: Vec<&Element> = all
        .iter()
        .filter(|e| e.name == "engine-container")
        .collect();
    if containers.is_empty() {
        return Err(Error::refused(
            msg!("jeus-no-engine-container"),
            msg!("jeus-no-engine-container-hint"),
        ));
    }
    let names: Vec<(String, String)> = containers
        .iter()
        .map(|c| {
            let node = all
                .iter()
                .find(|n| n.name == "node" && n.start < c.start && c.end <= n.end)
                .map(|n| child_text(content, &all, n, "name"))
                .unwrap_or_default();
            (node, child_text(content, &all, c, "name"))
        })
        .collect();
    let chosen = chosen_containers(&names, wanted)?;
    let mut insertions = Vec::new();
    for (container, (_, name)) in containers.into_iter().zip(names) {
        if !chosen.contains(&name) {
            continue;
        }
        match xml::children(&all, container, "command-option").first() {
            Some(command) if command.empty => {
                return Err(Error::refused(
                    msg!("jeus-empty-command-option", container = name),
                    msg!("jeus-empty-command-option-hint"),
                ));
            }
            Some(command) => {
                let text = command.text(content);
                if is_agent_option(text) {
                    if String::from_utf8_lossy(text).contains(option) {
                        continue;
                    }
                    return Err(already_set(&name, text));
                }
                // Before trailing whitespace, so the value keeps its layout.
                let trimmed = text.len()
                    - text
                        .iter()
                        .rev()
                        .take_while(|b| b.is_ascii_whitespace())
                        .count();
                insertions.push(Insertion {
                    at: command.open_end + trimmed,
                    text: format!(" {}", xml::escape(option)),
                    replace: 0,
                });
            }
            None => {
                let Some(name_element) = xml::children(&all, container, "name").into_iter().next()
                else {
                    return Err(Error::refused(
                        msg!("jeus-container-no-name"),
                        msg!("jeus-container-no-name-hint"),
                    ));
                };
                insertions.push(xml::sibling_after(
                    content,
                    name_element,
                    "command-option",
                    option,
                ));
            }
        }
    }
    Ok((insertions, chosen))
}

fn bad_xml(e: &xml::XmlError) -> Error {
    Error::refused(
        msg!("jeus-xml-not-well-formed", error = e),
        msg!("xml-not-well-formed-hint", runtime = "JEUS"),
    )
}

fn already_set(server: &str, text: &[u8]) -> Error {
    Error::refused(
        msg!(
            "jeus-agent-present",
            server = server,
            current = String::from_utf8_lossy(text).trim()
        ),
        msg!("agent-present-hint"),
    )
}

impl Jeus {
    /// The agent options a config holds, as found blocks for the shared Java doctor checks.
    fn scan(&self) -> Vec<BlockScan> {
        let Ok(content) = crate::plan::target::peek(&self.config) else {
            return Vec::new();
        };
        let Ok(all) = xml::elements(&content) else {
            return Vec::new();
        };
        all.iter()
            .filter(|e| e.name == "jvm-option" || e.name == "command-option")
            .filter(|e| is_agent_option(e.text(&content)))
            .map(|e| {
                Ok(FoundBlock {
                    file: self.config.clone(),
                    line: content[..e.start].iter().filter(|&&b| b == b'\n').count() + 1,
                    inner: vec![String::from_utf8_lossy(e.text(&content)).trim().to_string()],
                })
            })
            .collect()
    }
}

impl JavaServer for Jeus {
    const KIND: RuntimeKind = RuntimeKind::Jeus;

    fn target(&self) -> PathBuf {
        self.config.clone()
    }

    fn process(&self) -> Option<&Process> {
        self.process.as_ref()
    }

    fn describe(&self) -> Description {
        let version = match self.generation {
            Generation::Domain => "7+",
            Generation::Main => "6",
        };
        Description {
            base: self.config.parent().map(Path::to_path_buf),
            version: Some(version.to_string()),
            details: [("config".to_string(), self.config.display().to_string())].into(),
            ..Description::home(&self.home)
        }
    }

    fn scan_blocks(&self) -> Vec<BlockScan> {
        self.scan()
    }

    /// JEUS 7/8: `domains/<d>/servers/*/logs/JeusServer*.log`; JEUS 6: `logs/<node>/`.
    fn log_files(&self) -> Vec<PathBuf> {
        let dir = match self.generation {
            Generation::Domain => self
                .config
                .parent()
                .and_then(Path::parent)
                .map(|d| d.join("servers/*/logs")),
            Generation::Main => Some(self.home.join("logs/*")),
        };
        java::logs_in(&dir.into_iter().collect::<Vec<_>>(), |n| {
            n.starts_with("JeusServer") && n.ends_with(".log")
        })
    }

    fn restart_hint(&self) -> String {
        let how = match self.generation {
            Generation::Domain => msg!("jeus-restart-servers"),
            Generation::Main => msg!("jeus-restart-node"),
        };
        match &self.process {
            Some(p) => msg!("jeus-restart", pid = p.pid, how = how),
            None => msg!("jeus-start", how = how),
        }
    }

    fn plan_install(&self, settings: &InstallSettings, dist: Option<&Path>) -> Result<InstallPlan> {
        if settings.method.is_some() {
            return Err(Error::usage(msg!("jeus-method"), msg!("drop-method-hint")));
        }
        let owner = agent::runtime_owner(self.process.as_ref(), std::slice::from_ref(&self.config));
        let (_, option, roots, mut plan) =
            agent::fixed_agent_plan(settings, dist, &self.home, owner)?;
        let generation = self.generation;
        let mut chosen = Vec::new();
        plan.edits.push(edits::splice(
            &self.config,
            &roots,
            &settings.recorded,
            |content| match generation {
                Generation::Domain => {
                    let (insertions, servers) =
                        domain_insertions(content, &option, &settings.target.servers)?;
                    chosen = servers;
                    Ok(insertions)
                }
                Generation::Main => {
                    let (insertions, containers) =
                        main_insertions(content, &option, &settings.target.servers)?;
                    chosen = containers;
                    Ok(insertions)
                }
            },
            Validation::Xml,
        )?);
        let mut warnings = Vec::new();
        if !chosen.is_empty() {
            warnings.push(match generation {
                Generation::Domain => msg!("servers-chosen", servers = chosen.join(", ")),
                Generation::Main => msg!("jeus-containers-chosen", containers = chosen.join(", ")),
            });
        }
        Ok(InstallPlan {
            plan,
            method: match generation {
                Generation::Domain => "domain-xml",
                Generation::Main => "jeusmain-xml",
            }
            .to_string(),
            next_steps: vec![self.restart_hint()],
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jvm_option_per_server_after_the_last_one() {
        let doc = b"<domain>\n\t<servers>\n\t\t<server>\n\t\t\t<name>a</name>\n\t\t\t<jvm-config>\n\t\t\t\t<jvm-option>-Xmx1g</jvm-option>\n\t\t\t</jvm-config>\n\t\t</server>\n\t\t<server>\n\t\t\t<name>b</name>\n\t\t\t<jvm-config>\n\t\t\t</jvm-config>\n\t\t</server>\n\t</servers>\n</domain>\n";
        let (insertions, _) =
            domain_insertions(doc, "-javaagent:/w/whatap.agent.tracer-1.jar", &[]).unwrap();
        let out = xml::splice(doc, &insertions);
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.contains("<jvm-option>-Xmx1g</jvm-option>\n\t\t\t\t<jvm-option>-javaagent:/w/whatap.agent.tracer-1.jar</jvm-option>\n"), "{text}");
        assert!(text.contains("<jvm-config>\n\t\t\t\t<jvm-option>-javaagent:/w/whatap.agent.tracer-1.jar</jvm-option>\n\t\t\t</jvm-config>"), "{text}");
        // Installed again: nothing more.
        assert!(
            domain_insertions(&out, "-javaagent:/w/whatap.agent.tracer-1.jar", &[])
                .unwrap()
                .0
                .is_empty()
        );
        assert!(domain_insertions(&out, "-javaagent:/w/whatap.agent.tracer-2.jar", &[]).is_err());
    }

    #[test]
    fn command_option_gets_the_agent_appended() {
        let doc = b"<jeus-system><node><engine-container><name>c1</name><command-option>-Xmx256m\n  </command-option></engine-container><engine-container><name>c2</name></engine-container></node></jeus-system>";
        let option = "-javaagent:/w/whatap.agent.tracer-1.jar";
        let out = xml::splice(doc, &main_insertions(doc, option, &[]).unwrap().0);
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.contains("<command-option>-Xmx256m -javaagent:/w/whatap.agent.tracer-1.jar\n  </command-option>"), "{text}");
        assert!(text.contains("<name>c2</name>\n<command-option>-javaagent:/w/whatap.agent.tracer-1.jar</command-option>"), "{text}");
        assert!(main_insertions(&out, option, &[]).unwrap().0.is_empty());
    }

    #[test]
    fn detects_a_jeus8_server_command_line() {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/jeus/jeus8");
        let p = Process {
            pid: 7,
            uid: 0,
            gid: 0,
            args: vec![
                "/usr/bin/java".into(),
                "-server".into(),
                format!("-Djeus.home={}", fixture.display()),
                "-Djeus.domain.name=jeus_domain".into(),
                "-Djeus.server=server1".into(),
                "jeus.server.Server".into(),
            ],
        };
        let jeus = from_process(&p).expect("a JEUS");
        assert_eq!(jeus.generation, Generation::Domain);
        assert!(
            jeus.config
                .ends_with("domains/jeus_domain/config/domain.xml")
        );
    }
}
