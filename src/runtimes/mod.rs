//! The runtimes this product knows: one folder each (how it is found, where its options live,
//! what block goes there, its own doctor checks) and one registry row. The engine (`edit`,
//! `plan`, `apply`) does the writing; the commands hold `Box<dyn Runtime>` and never name one.
//!
//! A new runtime is a folder, a line in `REGISTRY`, its templates and its messages.

pub mod infra;
pub mod instance;
pub mod java;
pub mod jboss;
pub mod jetty;
pub mod jeus;
pub mod kind;
pub mod nodejs;
pub mod php;
pub mod python;
pub mod resin;
pub mod service;
pub mod springboot;
pub mod systemd;
pub mod tomcat;
pub mod weblogic;
pub mod websphere;

pub use instance::{Detection, Entry, Runtime, Selector};
pub use kind::RuntimeKind;

use crate::detect::Host;
use crate::error::{Error, Result};
use crate::msg;
use crate::settings::TargetSettings;

/// Every runtime, in the order `whatap detect` lists them.
pub const REGISTRY: &[Entry] = &[
    tomcat::ENTRY,
    python::ENTRY,
    infra::ENTRY,
    php::ENTRY,
    jboss::ENTRY,
    jeus::ENTRY,
    resin::ENTRY,
    weblogic::ENTRY,
    websphere::ENTRY,
    springboot::ENTRY,
    jetty::ENTRY,
    nodejs::ENTRY,
];

pub fn entry(kind: RuntimeKind) -> &'static Entry {
    REGISTRY
        .iter()
        .find(|e| e.kind == kind)
        .expect("every kind has a registry row")
}

/// Every instance detection finds, of one kind or of all, in a stable order. A kind's
/// detection runs only when that kind is wanted.
pub fn detect(host: &Host, kind: Option<RuntimeKind>) -> Vec<Box<dyn Runtime>> {
    let defaults = TargetSettings {
        systemd_dir: crate::detect::systemd::UNIT_DIRS[0].into(),
        ..TargetSettings::default()
    };
    detect_unwrapped(host, kind)
        .into_iter()
        .map(|r| service::wrap(r, &defaults))
        .collect()
}

fn detect_unwrapped(host: &Host, kind: Option<RuntimeKind>) -> Vec<Box<dyn Runtime>> {
    REGISTRY
        .iter()
        .filter(|e| kind.is_none_or(|k| k == e.kind))
        .flat_map(|e| (e.detect)(host))
        .collect()
}

/// The runtime a `--home`/`--base`/`--pid` points at when `--runtime` is not given; Tomcat
/// when no other recognises it (its resolve then says what is wrong).
fn guess_kind(target: &TargetSettings) -> RuntimeKind {
    if target.unit.is_some() || target.start_script.is_some() {
        return RuntimeKind::Springboot;
    }
    let recognised = if let Some(pid) = target.pid {
        let process = crate::detect::process::read(&crate::detect::process::proc_root(), pid);
        REGISTRY.iter().find(|e| {
            e.runs_in
                .zip(process.as_ref())
                .is_some_and(|(runs_in, p)| runs_in(p))
        })
    } else {
        let dir = target.home.as_ref().or(target.base.as_ref());
        REGISTRY.iter().find(|e| {
            e.is_home
                .zip(dir)
                .is_some_and(|(is_home, dir)| is_home(dir))
        })
    };
    recognised.map_or(RuntimeKind::Tomcat, |e| e.kind)
}

/// The instance the target flags name, or the only one detection finds.
pub fn resolve(target: &TargetSettings, host: &Host) -> Result<Box<dyn Runtime>> {
    // `--php-bin` alone means PHP, `--app-dir` alone Node.js.
    let kind = target
        .runtime
        .or_else(|| (!target.php_bins.is_empty()).then_some(RuntimeKind::Php))
        .or_else(|| target.app_dir.is_some().then_some(RuntimeKind::Nodejs));
    if target.is_empty() && !kind.is_some_and(|k| entry(k).needs_no_target) {
        return pick_one(detect(host, kind));
    }
    let kind = kind.unwrap_or_else(|| guess_kind(target));
    let entry = entry(kind);
    // Flags that say something about the instance without picking it: `--whatap-home` (where
    // the agent goes, except for Python), `--unit` for a server a systemd unit runs (its
    // sandbox).
    let qualifies = |s: &Selector| {
        !entry.selectors.contains(s)
            && (*s == Selector::WhatapHome
                || (*s == Selector::Unit && service::runs_under_unit(kind)))
    };
    let picks: Vec<Selector> = given(target)
        .into_iter()
        .filter(|s| !qualifies(s))
        .collect();
    if let Some(flag) = picks.iter().find(|s| !entry.selectors.contains(s)) {
        let accepted: Vec<&str> = entry.selectors.iter().map(|s| s.flag()).collect();
        return Err(Error::usage(
            msg!(
                "selector-not-for-runtime",
                flag = flag.flag(),
                runtime = kind,
                accepted = accepted.join(", ")
            ),
            msg!("selector-not-for-runtime-hint"),
        ));
    }
    let found = if picks.is_empty() && !entry.needs_no_target {
        pick_one(detect_unwrapped(host, Some(kind)))?
    } else {
        (entry.resolve)(target, host)?
    };
    Ok(service::wrap(found, target))
}

/// The selector flags `target` gives.
fn given(target: &TargetSettings) -> Vec<Selector> {
    [
        (Selector::Home, target.home.is_some()),
        (Selector::Base, target.base.is_some()),
        (Selector::Pid, target.pid.is_some()),
        (Selector::PhpBin, !target.php_bins.is_empty()),
        (Selector::Unit, target.unit.is_some()),
        (Selector::StartScript, target.start_script.is_some()),
        (Selector::WhatapHome, target.whatap_home.is_some()),
        (Selector::AppDir, target.app_dir.is_some()),
    ]
    .into_iter()
    .filter_map(|(s, on)| on.then_some(s))
    .collect()
}

/// The selectors of `target` a runtime of `kind` takes, as the ledger keeps them
/// (`--start-script=/abs/path`): paths absolute and resolved, `--pid` left out (it changes
/// with every restart). `uninstall` finds an install by any of them.
pub fn selector_words(target: &TargetSettings, kind: RuntimeKind) -> Vec<String> {
    let takes = |s: Selector| entry(kind).selectors.contains(&s);
    let path = |p: &std::path::Path| {
        let absolute = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        crate::plan::target::canonical_lenient(&absolute)
            .display()
            .to_string()
    };
    let mut words = Vec::new();
    let mut add = |s: Selector, value: String| {
        if takes(s) {
            words.push(format!("{}={value}", s.flag()));
        }
    };
    // Python knows the app by its WHATAP_HOME, which `--home` names too: kept as `--home`.
    let home = target.home.as_ref().or(target
        .whatap_home
        .as_ref()
        .filter(|_| takes(Selector::WhatapHome)));
    for (s, value) in [
        (Selector::Home, home),
        (Selector::Base, target.base.as_ref()),
        (Selector::StartScript, target.start_script.as_ref()),
        (Selector::AppDir, target.app_dir.as_ref()),
    ] {
        if let Some(value) = value {
            add(s, path(value));
        }
    }
    for bin in &target.php_bins {
        add(Selector::PhpBin, path(bin));
    }
    if let Some(unit) = &target.unit {
        let unit = if unit.contains('/') {
            path(std::path::Path::new(unit))
        } else {
            crate::detect::systemd::unit_name(unit)
        };
        add(Selector::Unit, unit);
    }
    words.sort();
    words.dedup();
    words
}

fn pick_one(mut found: Vec<Box<dyn Runtime>>) -> Result<Box<dyn Runtime>> {
    match found.len() {
        0 => Err(Error::usage(
            msg!("no-runtime-found"),
            msg!("no-runtime-found-hint"),
        )),
        1 => Ok(found.remove(0)),
        _ => {
            let mut list: Vec<String> = Vec::new();
            for selector in found.iter().map(|r| r.selector()) {
                if !list.contains(&selector) {
                    list.push(selector);
                }
            }
            Err(Error::usage(
                msg!(
                    "runtimes-choose",
                    count = found.len(),
                    list = list.join(" | ")
                ),
                msg!("runtimes-choose-hint"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::process::Process;

    fn fixture(path: &str) -> String {
        format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))
    }

    fn process(pid: u32, args: Vec<String>) -> Process {
        Process {
            pid,
            uid: 0,
            gid: 0,
            args,
        }
    }

    /// One fake `/proc` command line per Java server, on the fixture trees.
    fn fake_host() -> Host {
        let java = || "/usr/lib/jvm/java-17-openjdk-amd64/bin/java".to_string();
        Host {
            processes: vec![
                process(
                    101,
                    vec![
                        java(),
                        format!("-Dcatalina.home={}", fixture("tomcat/tomcat9")),
                        "org.apache.catalina.startup.Bootstrap".into(),
                        "start".into(),
                    ],
                ),
                process(
                    102,
                    vec![
                        java(),
                        format!("-Djetty.home={}", fixture("jetty/jetty-9.4-tarball")),
                        "-jar".into(),
                        format!("{}/start.jar", fixture("jetty/jetty-9.4-tarball")),
                    ],
                ),
                process(
                    103,
                    vec![
                        java(),
                        "-jar".into(),
                        format!(
                            "{}/jboss-modules.jar",
                            fixture("jboss/wildfly-26.1.3.Final")
                        ),
                        "org.jboss.as.standalone".into(),
                    ],
                ),
                process(
                    104,
                    vec![
                        java(),
                        format!("-Djeus.home={}", fixture("jeus/jeus8")),
                        "-Djeus.domain.name=jeus_domain".into(),
                        "jeus.server.Server".into(),
                    ],
                ),
                process(
                    105,
                    vec![
                        java(),
                        format!("-Dresin.home={}", fixture("resin/resin-4.0.66")),
                        "com.caucho.server.resin.Resin".into(),
                    ],
                ),
                process(
                    106,
                    vec![
                        java(),
                        format!("-Ddomain.home={}", fixture("weblogic/base_domain")),
                        "weblogic.Server".into(),
                    ],
                ),
                process(
                    107,
                    vec![
                        java(),
                        format!("-Duser.install.root={}", fixture("websphere/AppSrv01")),
                        "com.ibm.ws.runtime.WsServer".into(),
                        "config".into(),
                        "cell01".into(),
                        "node01".into(),
                        "server1".into(),
                    ],
                ),
            ],
            cache: Default::default(),
        }
    }

    /// Detection takes the process list as data: one fake `/proc` command line per runtime.
    #[test]
    fn every_runtime_is_detected_from_its_command_line() {
        let host = fake_host();
        let mut found: Vec<(u32, RuntimeKind)> = detect(&host, None)
            .iter()
            .filter_map(|r| Some((r.detection().pid?, r.kind())))
            .collect();
        found.sort();
        assert_eq!(
            found,
            [
                (101, RuntimeKind::Tomcat),
                (102, RuntimeKind::Jetty),
                (103, RuntimeKind::Jboss),
                (104, RuntimeKind::Jeus),
                (105, RuntimeKind::Resin),
                (106, RuntimeKind::Weblogic),
                (107, RuntimeKind::Websphere),
            ]
        );
    }

    /// The wizard installs into what it lists by the flags `selection` gives: every instance
    /// detection finds (running or installed), of every kind, resolves back to itself.
    #[test]
    fn every_detected_instance_is_picked_again_by_its_selection() {
        let host = fake_host();
        let found = detect(&host, None);
        assert!(found.len() >= 7);
        for runtime in &found {
            let selection = runtime.selection();
            let again = resolve(&selection, &host)
                .unwrap_or_else(|e| panic!("{} {selection:?}: {e}", runtime.id()));
            assert_eq!(again.id(), runtime.id(), "{selection:?}");
            assert_eq!(again.kind(), runtime.kind());
        }
    }

    /// The doctor catalog's `runtimes` name kinds (or `java`, every Java server).
    #[test]
    fn catalog_runtimes_are_kinds_or_java() {
        for rule in crate::doctor::catalog::rules() {
            for name in &rule.runtimes {
                assert!(
                    name == "java" || RuntimeKind::from_name(name).is_some(),
                    "{}: {name}",
                    rule.id
                );
            }
        }
    }
}
