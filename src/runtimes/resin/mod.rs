//! Caucho Resin 4. The server JVM's options come from `conf/resin.properties` (`jvm_args`,
//! which Resin 4.0.28+ passes to every server) or, in older layouts, from `<jvm-arg>` in
//! `conf/resin.xml`'s `<server-default>`. Both are spliced: an existing `jvm_args` keeps its
//! value and gets ours appended; resin.xml gets one more `<jvm-arg>`.

use crate::detect::Host;
use crate::detect::process::{self, Process};
use crate::edit::eol::{line_body, split_lines};
use crate::edit::xml::{self, Insertion};
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::target::canonical;
use crate::plan::{Validation, edits};
use crate::runtimes::instance::{Entry, InstallPlan, JAVA_SELECTORS, boxed};
use crate::runtimes::java::agent::{self, BlockScan, FoundBlock};
use crate::runtimes::java::{self, Description, JavaServer};
use crate::runtimes::kind::RuntimeKind;
use crate::settings::{InstallSettings, TargetSettings};
use std::path::{Path, PathBuf};

pub const ENTRY: Entry = Entry {
    kind: RuntimeKind::Resin,
    detect: |host| boxed(detect(host)),
    resolve: |target, host| Ok(Box::new(resolve(target, host)?)),
    runs_in: Some(|p| from_process(p).is_some()),
    is_home: Some(is_home),
    needs_no_target: false,
    selectors: JAVA_SELECTORS,
};

const SEARCH_DIRS: &[&str] = &["/opt", "/usr/local", "/srv", "/usr/share"];
const JVM_ARGS: &str = "jvm_args";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Properties,
    Xml,
}

const METHODS: &[(&str, Method)] = &[("properties", Method::Properties), ("xml", Method::Xml)];

#[derive(Debug, Clone)]
pub struct Resin {
    pub home: PathBuf,
    pub process: Option<Process>,
}

impl Resin {
    fn properties(&self) -> PathBuf {
        self.home.join("conf/resin.properties")
    }

    fn xml(&self) -> PathBuf {
        self.home.join("conf/resin.xml")
    }

    fn method(&self, value: Option<&str>) -> Result<(Method, &'static str)> {
        let default = if self.properties().is_file() {
            Method::Properties
        } else {
            Method::Xml
        };
        java::method(METHODS, value, default, |other| {
            Error::usage(
                msg!("resin-method", method = other),
                msg!("resin-method-hint"),
            )
        })
    }

    /// The agent options the config holds, as found blocks for the shared Java checks.
    fn scan(&self) -> Vec<BlockScan> {
        let mut found = Vec::new();
        for file in [self.properties(), self.xml()] {
            let Ok(content) = crate::plan::target::peek(&file) else {
                continue;
            };
            for (i, line) in String::from_utf8_lossy(&content).lines().enumerate() {
                let active = !line.trim_start().starts_with('#') && !line.contains("<!--");
                if active && has_agent(line) {
                    found.push(Ok(FoundBlock {
                        file: file.clone(),
                        line: i + 1,
                        inner: vec![line.trim().to_string()],
                    }));
                }
            }
        }
        found
    }
}

fn has_agent(text: &str) -> bool {
    text.split(|c: char| c.is_whitespace() || c == '<' || c == '>')
        .filter_map(|w| w.strip_prefix("-javaagent:"))
        .any(process::is_whatap_agent)
}

fn is_home(dir: &Path) -> bool {
    dir.join("conf/resin.xml").is_file()
        && (dir.join("lib/resin.jar").exists() || dir.join("bin/resin.sh").exists())
}

fn build(home: &Path, process: Option<Process>) -> Resin {
    Resin {
        home: canonical(home),
        process,
    }
}

/// The Resin server or its watchdog names its home with `-Dresin.home`.
pub fn from_process(p: &Process) -> Option<Resin> {
    let home = p.system_property("resin.home")?;
    p.args
        .iter()
        .any(|a| a.starts_with("com.caucho."))
        .then(|| build(Path::new(home), Some(p.clone())))
}

pub fn detect(host: &Host) -> Vec<Resin> {
    let mut found: Vec<Resin> = Vec::new();
    for resin in host.java_processes().filter_map(from_process) {
        // The watchdog and the server share a home: the server (with the agent) wins.
        match found.iter_mut().find(|r| r.home == resin.home) {
            Some(existing) => {
                let loaded = resin
                    .process
                    .as_ref()
                    .is_some_and(|p| p.args.iter().any(|a| a == "com.caucho.server.resin.Resin"));
                if loaded {
                    *existing = resin;
                }
            }
            None => found.push(resin),
        }
    }
    for home in java::homes_in(SEARCH_DIRS, &["resin"], is_home) {
        let candidate = build(&home, None);
        if !found.iter().any(|r| r.home == candidate.home) {
            found.push(candidate);
        }
    }
    found
}

const POINTING: java::Pointing = java::Pointing {
    holds: || msg!("holds-resin"),
    pid_not_it: |pid| {
        Error::usage(
            msg!("resin-pid-not-it", pid = pid),
            msg!("resin-pid-not-it-hint"),
        )
    },
    not_home: |home| {
        Error::usage(
            msg!("resin-not-home", path = home.display()),
            msg!("resin-not-home-hint"),
        )
    },
    home_required: None,
};

pub fn resolve(target: &TargetSettings, host: &Host) -> Result<Resin> {
    // An explicit --home needs only its config (a tree without lib/ is still Resin's).
    let has_config = |dir: &Path| dir.join("conf/resin.xml").is_file();
    let home = match java::pointed(host, target, from_process, has_config, &POINTING)? {
        Ok(running) => return Ok(running),
        Err(home) => home,
    };
    let mut resin = build(home, None);
    resin.process =
        java::running(host, from_process, |r| r.home == resin.home).and_then(|r| r.process);
    Ok(resin)
}

/// `jvm_args` in resin.properties: ours appended to the active value (Resin's properties take
/// `key : value` or `key = value`), or a new line when there is none.
pub fn properties_insertions(content: &[u8], options: &str) -> Result<Vec<Insertion>> {
    let lines = split_lines(content);
    let mut offset = 0;
    let mut last_value: Option<(usize, String)> = None;
    for line in &lines {
        let body = line_body(line);
        let text = String::from_utf8_lossy(body);
        let trimmed = text.trim_start();
        if let Some(rest) = trimmed.strip_prefix(JVM_ARGS) {
            let rest = rest.trim_start();
            if rest.starts_with(':') || rest.starts_with('=') {
                let value_end = offset + text.trim_end().len();
                last_value = Some((value_end, text.to_string()));
            }
        }
        offset += line.len();
    }
    if let Some((at, line)) = last_value {
        if has_agent(&line) {
            if line.contains(options) {
                return Ok(Vec::new());
            }
            return Err(Error::refused(
                msg!("resin-properties-agent-present", line = line.trim()),
                msg!("agent-present-hint"),
            ));
        }
        return Ok(vec![Insertion {
            at,
            text: format!(" {options}"),
            replace: 0,
        }]);
    }
    let eol = xml::newline(content);
    let line = format!("{JVM_ARGS} : {options}");
    let text = if content.is_empty() || content.ends_with(b"\n") {
        format!("{line}{eol}")
    } else {
        format!("{eol}{line}")
    };
    Ok(vec![Insertion {
        at: content.len(),
        text,
        replace: 0,
    }])
}

/// `<jvm-arg>` in every `<server-default>` of resin.xml (after the last one there, else first).
pub fn xml_insertions(content: &[u8], options: &str) -> Result<Vec<Insertion>> {
    let all = xml::elements(content).map_err(|e| {
        Error::refused(
            msg!("xml-not-well-formed", file = "resin.xml", error = e),
            msg!("xml-not-well-formed-hint", runtime = "Resin"),
        )
    })?;
    let defaults: Vec<_> = all.iter().filter(|e| e.name == "server-default").collect();
    if defaults.is_empty() {
        return Err(Error::refused(
            msg!("resin-no-server-default"),
            msg!("resin-no-server-default-hint"),
        ));
    }
    let mut insertions = Vec::new();
    for default in defaults {
        let args = xml::children(&all, default, "jvm-arg");
        let texts: Vec<String> = args
            .iter()
            .map(|a| String::from_utf8_lossy(a.text(content)).trim().to_string())
            .collect();
        if texts.iter().any(|t| has_agent(t)) {
            if options
                .split_whitespace()
                .all(|o| texts.iter().any(|t| t == o))
            {
                continue;
            }
            return Err(Error::refused(
                msg!("resin-xml-agent-present"),
                msg!("agent-present-hint"),
            ));
        }
        // One option per <jvm-arg>: Resin passes each element as one argument.
        let tags: Vec<String> = options
            .split_whitespace()
            .map(|o| format!("<jvm-arg>{}</jvm-arg>", xml::escape(o)))
            .collect();
        insertions.push(match args.last() {
            Some(last) => xml::siblings_after(content, last, &tags),
            None => xml::first_children(content, default, &tags),
        });
    }
    Ok(insertions)
}

impl JavaServer for Resin {
    const KIND: RuntimeKind = RuntimeKind::Resin;

    fn target(&self) -> PathBuf {
        self.home.clone()
    }

    fn process(&self) -> Option<&Process> {
        self.process.as_ref()
    }

    fn describe(&self) -> Description {
        Description::home(&self.home)
    }

    fn scan_blocks(&self) -> Vec<BlockScan> {
        self.scan()
    }

    /// `log/jvm-<server>.log`: the server JVM's stdout, where the agent prints.
    fn log_files(&self) -> Vec<PathBuf> {
        java::logs_in(&[self.home.join("log")], |n| {
            n.starts_with("jvm-") && n.ends_with(".log")
        })
    }

    fn restart_hint(&self) -> String {
        let how = format!("{}/bin/resin.sh restart", self.home.display());
        match &self.process {
            Some(p) => msg!("runtime-restart", runtime = "Resin", pid = p.pid, how = how),
            None => msg!("runtime-start", runtime = "Resin", how = how),
        }
    }

    fn plan_install(&self, settings: &InstallSettings, dist: Option<&Path>) -> Result<InstallPlan> {
        let (method, method_name) = self.method(settings.method.as_deref())?;
        let owner = agent::runtime_owner(
            self.process.as_ref(),
            &[self.home.join("log"), self.home.clone()],
        );
        let (_, options, roots, mut plan) =
            agent::fixed_agent_plan(settings, dist, &self.home, owner)?;
        let edit = match method {
            Method::Properties => edits::splice(
                &self.properties(),
                &roots,
                &settings.recorded,
                |c| properties_insertions(c, &options),
                Validation::None,
            )?,
            Method::Xml => edits::splice(
                &self.xml(),
                &roots,
                &settings.recorded,
                |c| xml_insertions(c, &options),
                Validation::Xml,
            )?,
        };
        plan.edits.push(edit);
        Ok(InstallPlan {
            plan,
            method: method_name.to_string(),
            next_steps: vec![self.restart_hint()],
            warnings: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jvm_args_value_is_extended_in_place() {
        let props = b"# jvm_args  : -Xmx2048m\r\njvm_args  : -Xmx512m  \r\nother : 1\r\n";
        let ins = properties_insertions(props, "-javaagent:/w/whatap.agent.tracer-1.jar").unwrap();
        let out = xml::splice(props, &ins);
        assert_eq!(
            out,
            b"# jvm_args  : -Xmx2048m\r\njvm_args  : -Xmx512m -javaagent:/w/whatap.agent.tracer-1.jar  \r\nother : 1\r\n"
        );
        assert!(
            properties_insertions(&out, "-javaagent:/w/whatap.agent.tracer-1.jar")
                .unwrap()
                .is_empty()
        );
        let none = b"# jvm_args : -Xmx1g";
        let out = xml::splice(
            none,
            &properties_insertions(none, "-javaagent:/w/a.jar").unwrap(),
        );
        assert_eq!(out, b"# jvm_args : -Xmx1g\njvm_args : -javaagent:/w/a.jar");
    }

    #[test]
    fn jvm_arg_per_option_in_server_default() {
        let doc = b"<resin>\n  <cluster id=\"app\">\n    <server-default>\n      <jvm-arg>-Xmx512m</jvm-arg>\n    </server-default>\n  </cluster>\n</resin>\n";
        let out = xml::splice(
            doc,
            &xml_insertions(doc, "-javaagent:/w/a.jar -Dwhatap.port=8080").unwrap(),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<resin>\n  <cluster id=\"app\">\n    <server-default>\n      <jvm-arg>-Xmx512m</jvm-arg>\n      <jvm-arg>-javaagent:/w/a.jar</jvm-arg>\n      <jvm-arg>-Dwhatap.port=8080</jvm-arg>\n    </server-default>\n  </cluster>\n</resin>\n"
        );
    }

    #[test]
    fn detects_the_resin_server_jvm() {
        let p = Process {
            pid: 9,
            uid: 0,
            gid: 0,
            args: vec![
                "java".into(),
                "-Dresin.home=/opt/resin-4.0.66".into(),
                "com.caucho.server.resin.Resin".into(),
                "--server".into(),
                "app-0".into(),
            ],
        };
        assert_eq!(
            from_process(&p).unwrap().home,
            Path::new("/opt/resin-4.0.66")
        );
    }
}
