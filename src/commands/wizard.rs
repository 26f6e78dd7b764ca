//! `whatap install` on a terminal without --license / --host: asks for what the flags lack,
//! then runs the same install as the flags would (plan -> diff -> confirm -> apply), a doctor
//! pass, and prints the equivalent non-interactive command for CI. Every answer has a flag;
//! answers already given as flags are not asked. Ctrl-C at any question changes nothing.

use crate::cli::InstallArgs;
use crate::detect::Host;
use crate::error::{Error, Result};
use crate::msg;
use crate::net::collector;
use crate::runtimes::{self, Detection, Runtime, RuntimeKind};
use crate::settings::{self, DoctorSettings, Settings, TargetSettings};
use crate::ui::{self, Printer};
use dialoguer::theme::{ColorfulTheme, SimpleTheme, Theme};
use dialoguer::{Confirm, Input, MultiSelect, Password, Select};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The wizard runs when the flags leave the license or the collector hosts open.
pub fn wanted(args: &InstallArgs) -> bool {
    let blank = |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim().is_empty());
    blank(&args.license) || blank(&args.host)
}

fn asked<T>(answer: dialoguer::Result<T>) -> Result<T> {
    answer.map_err(|_| Error::refused(msg!("wizard-interrupted"), msg!("wizard-interrupted-hint")))
}

pub fn run(settings: &Settings, args: &InstallArgs, printer: &Printer) -> Result<u8> {
    // dialoguer writes its prompts as UTF-8 itself: on another codeset they are asked in
    // English, which every terminal shows.
    if settings.codeset != ui::codeset::Codeset::Utf8 {
        ui::i18n::set_lang(ui::i18n::Lang::En);
    }
    let interrupted = msg!("wizard-interrupted");
    ui::interrupt::exit_cleanly_on_interrupt(&interrupted);
    let colorful = ColorfulTheme::default();
    // dialoguer draws on stderr.
    let theme: &dyn Theme = if settings.color.stderr {
        &colorful
    } else {
        &SimpleTheme
    };
    printer.note(&printer.bold(&msg!("wizard-title")));
    let mut answers = args.clone();

    // 1. Where.
    let targets = choose_targets(theme, args, printer)?;
    // 2. License, collectors, agent.
    if wanted_value(&answers.license) {
        printer.note(&printer.dim(&msg!("wizard-license-help")));
        let license = asked(
            Password::with_theme(theme)
                .with_prompt(msg!("wizard-license"))
                .validate_with(|key: &String| {
                    settings::validate_license(key.trim())
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
                .interact(),
        )?;
        answers.license = Some(license.trim().to_string());
    }
    if let Some(license) = &answers.license {
        printer.add_secret(license.trim());
    }
    if wanted_value(&answers.host) {
        printer.note(&printer.dim(&msg!("wizard-hosts-help")));
        answers.host = ask_text(theme, msg!("wizard-hosts"), false, |raw| {
            settings::parse_hosts(raw).err().map(|e| e.to_string())
        })?;
    }
    check_collectors(theme, &answers, printer)?;
    let takes_agent_files = targets
        .iter()
        .any(|t| t.runtime.is_none_or(RuntimeKind::takes_agent_files));
    if takes_agent_files && answers.agent_jar.is_none() && answers.agent_archive.is_none() {
        choose_agent(theme, &mut answers, printer)?;
    }
    // 3. Optional settings.
    if answers.name.is_none() && answers.port.is_none() && answers.cypher_level.is_none() {
        optional_settings(theme, &mut answers, printer)?;
    }

    // 4-7. The same install as the flags: diff, confirm, apply, next steps; then doctor.
    let mut code = 0;
    for target in targets {
        let install = settings::install_into(&answers, target.clone())?;
        // Until the confirmation is answered nothing has changed; from then on Ctrl-C is
        // held off during apply and is an ordinary interrupt afterwards.
        ui::interrupt::exit_cleanly_on_interrupt(&interrupted);
        let installed = super::install::run(settings, &install, printer);
        ui::interrupt::default_on_interrupt();
        let installed = installed?;
        code = code.max(installed);
        if installed == 0 && !settings.dry_run {
            printer.note(&format!("\n{}", printer.bold(&msg!("wizard-doctor"))));
            let doctor = DoctorSettings {
                target: install.target.clone(),
                network: true,
                ..DoctorSettings::default()
            };
            super::doctor::run(settings, &doctor, printer)?;
        }
        printer.note(&format!(
            "\n{}\n  {}",
            printer.bold(&msg!("wizard-equivalent")),
            equivalent_command(&answers, &target)
        ));
    }
    Ok(code)
}

/// A line of text, asked again while `problem` names one; blank only when `optional` (None).
fn ask_text(
    theme: &dyn Theme,
    prompt: String,
    optional: bool,
    problem: impl Fn(&str) -> Option<String>,
) -> Result<Option<String>> {
    let answer: String = asked(
        Input::with_theme(theme)
            .with_prompt(prompt)
            .allow_empty(optional)
            .validate_with(|raw: &String| match raw.trim() {
                "" if optional => Ok(()),
                raw => problem(raw).map_or(Ok(()), Err),
            })
            .interact_text(),
    )?;
    let answer = answer.trim().to_string();
    Ok((!answer.is_empty()).then_some(answer))
}

fn wanted_value(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(|v| v.trim().is_empty())
}

/// The targets given as flags, or picked from what detection found (each with its kind), or a
/// typed path.
fn choose_targets(
    theme: &dyn Theme,
    args: &InstallArgs,
    printer: &Printer,
) -> Result<Vec<TargetSettings>> {
    let given = settings::target(&args.target);
    if !given.is_empty() {
        return Ok(vec![given]);
    }
    let found: Vec<Box<dyn Runtime>> = runtimes::detect(&Host::scan(), given.runtime);
    let mut picked = Vec::new();
    if found.is_empty() {
        printer.note(&msg!("wizard-nothing-detected"));
    } else {
        let detections: Vec<_> = found.iter().map(|r| r.detection()).collect();
        let rows: Vec<Vec<String>> = detections
            .iter()
            .map(|d| super::detect::columns(printer, d))
            .collect();
        printer.note(&printer.dim(&msg!("wizard-pick-help")));
        let chosen = asked(
            MultiSelect::with_theme(theme)
                .with_prompt(msg!("wizard-pick-targets"))
                .items(ui::table::align(&rows))
                .defaults(&preselected(&detections))
                .interact(),
        )?;
        picked = merge_php(
            chosen
                .into_iter()
                .map(|i| TargetSettings {
                    systemd_dir: given.systemd_dir.clone(),
                    ..found[i].selection()
                })
                .collect(),
        );
    }
    if picked.is_empty() {
        let home = ask_text(theme, msg!("wizard-target-path"), false, |raw| {
            (!Path::new(raw).is_dir()).then(|| msg!("wizard-not-a-directory"))
        })?;
        picked.push(TargetSettings {
            home: home.map(PathBuf::from),
            ..given
        });
    }
    Ok(picked)
}

/// What Enter alone installs into: every running instance, else the only one found.
fn preselected(found: &[Detection]) -> Vec<bool> {
    let running: Vec<bool> = found.iter().map(|d| d.pid.is_some()).collect();
    if running.contains(&true) {
        running
    } else {
        vec![found.len() == 1; found.len()]
    }
}

/// PHP is installed for every chosen PHP at once (one ledger record): one target naming each.
fn merge_php(targets: Vec<TargetSettings>) -> Vec<TargetSettings> {
    let mut merged: Vec<TargetSettings> = Vec::new();
    for target in targets {
        let php = target.runtime == Some(RuntimeKind::Php);
        match merged
            .iter_mut()
            .find(|m| php && m.runtime == Some(RuntimeKind::Php))
        {
            Some(group) => group.php_bins.extend(target.php_bins),
            None => merged.push(target),
        }
    }
    merged
}

/// A live TCP connect to every collector, with a spinner; unreachable ones are not fatal
/// (the network may open later) but the user decides.
fn check_collectors(theme: &dyn Theme, answers: &InstallArgs, printer: &Printer) -> Result<()> {
    let hosts = settings::parse_hosts(answers.host.as_deref().unwrap_or_default())?;
    let port = answers
        .set
        .iter()
        .find_map(|pair| pair.strip_prefix("whatap.server.port="))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(collector::DEFAULT_PORT);
    let spinner = ui::progress::spinner(&msg!("wizard-checking", port = port));
    let targets: Vec<(String, u16)> = hosts.iter().map(|h| (h.clone(), port)).collect();
    let probes = collector::probe_all(&targets, Duration::from_secs(3));
    spinner.finish();
    for probe in &probes {
        let line = match &probe.error {
            None => printer.green(&msg!("wizard-reachable", host = probe.host, port = port)),
            Some(why) => printer.yellow(&msg!(
                "wizard-unreachable",
                host = probe.host,
                port = port,
                why = why
            )),
        };
        printer.note(&format!("  {line}"));
    }
    if probes.iter().all(|p| p.error.is_some()) {
        let go_on = asked(
            Confirm::with_theme(theme)
                .with_prompt(msg!("wizard-continue-unreachable"))
                .default(false)
                .interact(),
        )?;
        if !go_on {
            return Err(Error::refused(
                msg!("wizard-stopped"),
                msg!("wizard-unreachable-hint"),
            ));
        }
    }
    Ok(())
}

fn choose_agent(theme: &dyn Theme, answers: &mut InstallArgs, printer: &Printer) -> Result<()> {
    let items = [
        msg!("wizard-agent-path"),
        msg!("wizard-agent-url"),
        msg!("wizard-agent-existing"),
    ];
    let choice = asked(
        Select::with_theme(theme)
            .with_prompt(msg!("wizard-agent"))
            .items(&items)
            .default(0)
            .interact(),
    )?;
    match choice {
        0 => {
            let path = ask_text(theme, msg!("wizard-agent-path-prompt"), false, |raw| {
                (!Path::new(raw).exists()).then(|| msg!("wizard-no-such-path"))
            })?;
            let path = PathBuf::from(path.unwrap_or_default());
            if path.extension().is_some_and(|e| e == "jar") {
                answers.agent_jar = Some(path);
            } else {
                answers.agent_archive = Some(path);
            }
        }
        1 => {
            let url = ask_text(theme, msg!("wizard-agent-url-prompt"), false, |raw| {
                let web = raw.starts_with("https://") || raw.starts_with("http://");
                (!web).then(|| msg!("wizard-not-a-url"))
            })?;
            printer.note(&printer.dim(&msg!("wizard-sha256-help")));
            answers.sha256 = ask_text(theme, "sha256".into(), true, |raw| {
                let hex = raw.len() == 64 && raw.chars().all(|c| c.is_ascii_hexdigit());
                (!hex).then(|| msg!("sha256-invalid", value = raw))
            })?;
            answers.agent_archive = url.map(PathBuf::from);
        }
        _ => {}
    }
    Ok(())
}

fn optional_settings(
    theme: &dyn Theme,
    answers: &mut InstallArgs,
    printer: &Printer,
) -> Result<()> {
    let change = asked(
        Confirm::with_theme(theme)
            .with_prompt(msg!("wizard-optional"))
            .default(false)
            .interact(),
    )?;
    if !change {
        return Ok(());
    }
    printer.note(&printer.dim(&msg!("wizard-name-help")));
    answers.name = ask_text(theme, "-Dwhatap.name".into(), true, |_| None)?;
    printer.note(&printer.dim(&msg!("wizard-port-help")));
    let port = ask_text(theme, "-Dwhatap.port".into(), true, |raw| {
        (!raw.parse::<u16>().is_ok_and(|p| p > 0)).then(|| msg!("wizard-not-a-port"))
    })?;
    answers.port = port.and_then(|p| p.parse().ok());
    printer.note(&printer.dim(&msg!("wizard-cypher-help")));
    let levels = [msg!("wizard-cypher-default"), "128".into(), "256".into()];
    let level = asked(
        Select::with_theme(theme)
            .with_prompt("cypher_level")
            .items(&levels)
            .default(0)
            .interact(),
    )?;
    answers.cypher_level = (level > 0).then(|| levels[level].clone());
    Ok(())
}

/// The command that does the same without questions; the license stays in the environment.
fn equivalent_command(answers: &InstallArgs, target: &TargetSettings) -> String {
    let mut words: Vec<String> = vec!["whatap".into(), "install".into()];
    let mut flag = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            words.push(name.into());
            words.push(value);
        }
    };
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    flag("--runtime", target.runtime.map(|k| k.name().to_string()));
    flag("--home", path(&target.home));
    flag("--base", path(&target.base));
    for bin in &target.php_bins {
        flag("--php-bin", Some(bin.display().to_string()));
    }
    flag("--unit", target.unit.clone());
    flag("--start-script", path(&target.start_script));
    flag("--app-dir", path(&target.app_dir));
    // A PID changes with every restart: only when nothing else names the instance.
    let named = target.home.is_some()
        || !target.php_bins.is_empty()
        || target.unit.is_some()
        || target.app_dir.is_some();
    flag(
        "--pid",
        target.pid.filter(|_| !named).map(|p| p.to_string()),
    );
    flag("--host", answers.host.clone());
    flag("--agent-jar", path(&answers.agent_jar));
    flag("--agent-archive", path(&answers.agent_archive));
    flag("--sha256", answers.sha256.clone());
    flag("--whatap-home", path(&answers.target.whatap_home));
    flag("--port", answers.port.map(|p| p.to_string()));
    flag("--name", answers.name.clone());
    flag("--oname", answers.oname.clone());
    flag("--cypher-level", answers.cypher_level.clone());
    flag("--method", answers.method.clone());
    for pair in &answers.set {
        flag("--set", Some(pair.clone()));
    }
    let mut line = String::from("WHATAP_LICENSE=... ");
    line.push_str(
        &words
            .iter()
            .map(|w| shell_word(w))
            .collect::<Vec<_>>()
            .join(" "),
    );
    if answers.latest_jar {
        line.push_str(" --latest-jar");
    }
    if answers.offline {
        line.push_str(" --offline");
    }
    line.push_str(" --yes");
    line
}

/// Quoted for pasting into sh when it holds anything but plain characters.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn the_equivalent_command_parses_back_to_the_same_answers() {
        let cli = crate::cli::Cli::parse_from([
            "whatap",
            "install",
            "--home",
            "/opt/tomcat dir",
            "--host",
            "1.2.3.4/5.6.7.8",
            "--agent-jar",
            "/tmp/a.jar",
            "--name",
            "{type}-{ip2}",
            "--port",
            "8080",
        ]);
        let crate::cli::Command::Install(args) = cli.command else {
            unreachable!()
        };
        let line = equivalent_command(&args, &settings::target(&args.target));
        assert_eq!(
            line,
            "WHATAP_LICENSE=... whatap install --home '/opt/tomcat dir' --host 1.2.3.4/5.6.7.8 \
             --agent-jar /tmp/a.jar --port 8080 --name '{type}-{ip2}' --yes"
        );
        assert!(!line.contains("--license"));
    }

    #[test]
    fn running_instances_are_preselected() {
        let found = |pids: &[Option<u32>]| -> Vec<Detection> {
            pids.iter()
                .map(|&pid| Detection {
                    runtime: RuntimeKind::Tomcat,
                    version: None,
                    home: "/opt/tomcat".into(),
                    base: None,
                    pid,
                    user: None,
                    agent: crate::runtimes::instance::AgentState::None,
                    details: Default::default(),
                })
                .collect()
        };
        // The operator's case: Debian's tomcat10 installed but stopped, one Tomcat running.
        assert_eq!(preselected(&found(&[None, Some(42)])), [false, true]);
        assert_eq!(preselected(&found(&[Some(1), Some(2)])), [true, true]);
        assert_eq!(preselected(&found(&[None])), [true]);
        assert_eq!(preselected(&found(&[None, None])), [false, false]);
    }

    #[test]
    fn single_quotes_survive() {
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
