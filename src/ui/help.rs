//! `--help` in Korean: the command line's about lines, flag helps and headings replaced from
//! `messages/help-ko.toml` (the English stays in the derive's doc comments).

use std::collections::BTreeMap;

#[derive(serde::Deserialize)]
struct HelpKo {
    headings: BTreeMap<String, String>,
    about: BTreeMap<String, String>,
    args: BTreeMap<String, String>,
}

fn texts() -> &'static HelpKo {
    static TEXTS: std::sync::OnceLock<HelpKo> = std::sync::OnceLock::new();
    TEXTS.get_or_init(|| {
        toml::from_str(include_str!("../../messages/help-ko.toml")).expect("help-ko.toml parses")
    })
}

/// `command` and its subcommands with Korean about lines, flag helps and headings.
pub fn korean(command: clap::Command) -> clap::Command {
    let texts = texts();
    let names: Vec<String> = command
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    let command = names.iter().fold(command, |command, name| {
        command.mut_subcommand(name, korean_args)
    });
    let command = korean_args(command);
    match texts.about.get("whatap") {
        Some(about) => command.about(about).long_about(about),
        None => command,
    }
}

/// One command's about line and the help and heading of each of its flags.
fn korean_args(command: clap::Command) -> clap::Command {
    let texts = texts();
    let ids: Vec<String> = command
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    let command = match texts.about.get(command.get_name()) {
        Some(about) => command.about(about),
        None => command,
    };
    ids.iter().fold(command, |command, id| {
        command.mut_arg(id, |arg| {
            let heading = arg
                .get_help_heading()
                .and_then(|h| texts.headings.get(h))
                .map(String::as_str);
            let arg = match heading {
                Some(heading) => arg.help_heading(heading),
                None => arg,
            };
            match texts.args.get(id.as_str()) {
                Some(help) => arg.help(help),
                None => arg,
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command and flag with English help has its Korean, no Korean line is left over
    /// from a flag that is gone, and the Korean keeps the house style.
    #[test]
    fn every_help_has_its_korean() {
        use clap::CommandFactory;
        let texts = texts();
        let top = crate::cli::Cli::command();
        let mut commands = vec![top.clone()];
        commands.extend(top.get_subcommands().cloned());
        let mut missing = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut style = Vec::new();
        for command in &commands {
            let name = command.get_name();
            seen.insert(format!("about.{name}"));
            if !texts.about.contains_key(name) {
                missing.push(format!("about.{name}"));
            }
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                seen.insert(format!("args.{id}"));
                match (arg.get_help(), texts.args.get(id)) {
                    (Some(_), None) => missing.push(format!("args.{id}")),
                    (Some(en), Some(ko)) => style.extend(
                        crate::ui::korean_style::problems(&en.to_string(), ko)
                            .into_iter()
                            .map(|p| format!("args.{id}: {p}")),
                    ),
                    _ => {}
                }
                if let Some(heading) = arg.get_help_heading() {
                    if !texts.headings.contains_key(heading) {
                        missing.push(format!("headings.{heading}"));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "no Korean for: {missing:?}");
        let keys = texts
            .about
            .keys()
            .map(|k| format!("about.{k}"))
            .chain(texts.args.keys().map(|k| format!("args.{k}")));
        let stale: Vec<String> = keys.filter(|k| !seen.contains(k)).collect();
        assert!(stale.is_empty(), "Korean for nothing: {stale:?}");
        assert!(style.is_empty(), "{}", style.join("\n"));
    }
}
