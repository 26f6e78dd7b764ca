//! Flags > environment > defaults, resolved and validated once. Nothing below `commands/`
//! reads clap or `std::env`.

use crate::agent::AgentSource;
use crate::apply::state::StateDir;
use crate::cli::{self, Cli, RuntimeArg};
use crate::error::{Error, Result};
use crate::msg;
use crate::runtimes::kind::RuntimeKind;
use crate::ui::codeset::Codeset;
use crate::ui::i18n::Lang;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Settings {
    pub json: bool,
    pub yes: bool,
    pub dry_run: bool,
    /// `--output FILE`, made absolute: where the JSON document is also written.
    pub output: Option<PathBuf>,
    pub state: StateDir,
    pub lang: Lang,
    /// The terminal's character set: text for a person is written in it.
    pub codeset: Codeset,
    pub quiet: bool,
    pub verbose: bool,
    /// Colour, decided for each stream on its own: a report redirected to a file gets none
    /// while the notes on the terminal keep theirs.
    pub color: Colors,
    /// A person can answer prompts: stdin and stderr are terminals and CI is not set.
    pub interactive: bool,
    /// `install` may ask for what its flags lack: stdin and stdout are terminals, CI is not
    /// set, and neither --json nor --yes asks for no questions.
    pub wizard: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Colors {
    pub stdout: bool,
    pub stderr: bool,
}

#[derive(Debug, Clone, Default)]
pub struct TargetSettings {
    pub runtime: Option<RuntimeKind>,
    pub home: Option<PathBuf>,
    pub base: Option<PathBuf>,
    pub pid: Option<u32>,
    /// PHP binaries given with --php-bin.
    pub php_bins: Vec<PathBuf>,
    pub unit: Option<String>,
    pub start_script: Option<PathBuf>,
    pub systemd_dir: PathBuf,
    /// `--whatap-home`: where install puts the agent; for Python it also names the app,
    /// which is known by its WHATAP_HOME (install, uninstall and doctor alike).
    pub whatap_home: Option<PathBuf>,
    /// `--server NAME`: the servers of a JEUS domain, WebLogic domain or WebSphere cell that
    /// get the agent (none: the managed ones).
    pub servers: Vec<String>,
    /// `--app-dir`: a Node.js app, by the directory of its package.json.
    pub app_dir: Option<PathBuf>,
}

impl TargetSettings {
    /// No flag names an instance: detection must find it.
    pub fn is_empty(&self) -> bool {
        let python_home = self.runtime == Some(RuntimeKind::Python) && self.whatap_home.is_some();
        self.home.is_none()
            && self.base.is_none()
            && self.pid.is_none()
            && self.php_bins.is_empty()
            && self.unit.is_none()
            && self.start_script.is_none()
            && !python_home
            && self.app_dir.is_none()
    }
}

/// `--pause` / `--resume`: switch an installed PHP extension off or on again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toggle {
    Pause,
    Resume,
}

#[derive(Debug, Clone, Default)]
pub struct InstallSettings {
    pub target: TargetSettings,
    pub license: String,
    pub hosts: Vec<String>,
    pub agent_jar: Option<PathBuf>,
    /// `--agent-archive` as given; the command resolves it to the files runtimes install.
    pub agent_source: Option<AgentSource>,
    pub port: Option<u16>,
    pub name: Option<String>,
    pub oname: Option<String>,
    /// whatap.conf keys beyond license and host, in flag order.
    pub conf: Vec<(String, String)>,
    pub method: Option<String>,
    /// `--service`: a Procrun service's registry options instead of a start script.
    pub service: Option<String>,
    pub latest_jar: bool,
    pub sha256: Option<String>,
    pub offline: bool,
    /// `--install-package`: the vendor's package installed first, from `package_repo`.
    pub install_package: bool,
    pub package_repo: String,
    /// `--cacert`: an extra CA bundle (PEM) for downloads.
    pub cacert: Option<PathBuf>,
    /// Load the agent into the running JVM after install (HotSpot attach).
    pub attach: bool,
    /// Only switch what is installed on or off; license and hosts are not needed then.
    pub toggle: Option<Toggle>,
    /// What an earlier install of the same target recorded, per file (from the ledger, filled
    /// by the install command): a reinstall replaces our own parts instead of refusing them.
    pub recorded: Vec<(PathBuf, crate::plan::Ownership)>,
    /// The strings an earlier install of the same target added to registry values (a
    /// service's JVM options): a reinstall replaces them instead of refusing them.
    pub recorded_registry: Vec<String>,
    pub python: PythonSettings,
}

/// The Python runtime's install flags (`--python`, `--app-name`, ...); its `--unit` and
/// `--start-script` are target flags.
#[derive(Debug, Clone, Default)]
pub struct PythonSettings {
    pub interpreter: Option<PathBuf>,
    pub app_name: Option<String>,
    pub app_process_name: Option<String>,
    /// Install whatap-python into a distribution-managed interpreter anyway (PEP 668).
    pub break_system_packages: bool,
}

impl InstallSettings {
    /// Every whatap.conf key this install sets.
    pub fn conf_keys(&self) -> Vec<(String, String)> {
        let mut keys = vec![
            ("license".to_string(), self.license.clone()),
            ("whatap.server.host".to_string(), self.hosts.join("/")),
        ];
        keys.extend(self.conf.iter().cloned());
        keys
    }
}

#[derive(Debug, Clone, Default)]
pub struct DoctorSettings {
    pub target: TargetSettings,
    pub network: bool,
    pub list_rules: bool,
    pub logs: Vec<PathBuf>,
    pub full: bool,
    pub fix: bool,
    /// `--only` / `--skip`, ids known to the catalog.
    pub checks: crate::doctor::checks::Filter,
    pub fail_on: cli::FailOn,
    /// `--bundle FILE`, made absolute: where the support archive goes.
    pub bundle: Option<PathBuf>,
}

/// `whatap report`: the documents to read and where the page goes.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    pub files: Vec<PathBuf>,
    pub html: Option<PathBuf>,
}

/// What a command line clap refused still tells: `--json`, and which command it was for.
pub struct RawArgs {
    pub json: bool,
    pub command: String,
    /// `--lang` as typed, read before clap parses (its `--help` is in that language).
    pub lang: Option<cli::Lang>,
}

impl RawArgs {
    pub fn from_process() -> RawArgs {
        use clap::CommandFactory;
        let args: Vec<String> = std::env::args_os()
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned())
            .take_while(|a| a != "--")
            .collect();
        let names: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect();
        RawArgs {
            json: args.iter().any(|a| a == "--json"),
            lang: args
                .iter()
                .zip(args.iter().skip(1).map(Some).chain([None]))
                .find_map(|(a, next)| match a.strip_prefix("--lang=") {
                    Some(value) => Some(value),
                    None if a == "--lang" => next.map(String::as_str),
                    None => None,
                })
                .map(str::to_string)
                .or_else(|| std::env::var("WHATAP_LANG").ok())
                .and_then(|value| clap::ValueEnum::from_str(&value, true).ok()),
            command: args
                .iter()
                .find(|a| names.contains(a))
                .cloned()
                .unwrap_or_else(|| "whatap".to_string()),
        }
    }
}

pub struct Environment {
    pub ci: bool,
    pub no_color: bool,
    /// CLICOLOR_FORCE set (and not 0): colour even where no terminal is.
    pub force_color: bool,
    /// TERM=dumb or CLICOLOR=0: this terminal shows no colour.
    pub dumb_terminal: bool,
    /// The locale messages follow (LC_ALL, LC_MESSAGES, LANG).
    pub locale: Option<String>,
    /// The locale the terminal's characters follow (LC_ALL, LC_CTYPE, LANG).
    pub ctype_locale: Option<String>,
    pub stdin_tty: bool,
    pub stderr_tty: bool,
    pub stdout_tty: bool,
}

impl Environment {
    pub fn from_process() -> Environment {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        Environment {
            ci: var("CI").is_some_and(|v| v != "false" && v != "0"),
            no_color: var("NO_COLOR").is_some(),
            force_color: var("CLICOLOR_FORCE").is_some_and(|v| v != "0"),
            dumb_terminal: var("TERM").is_some_and(|t| t == "dumb")
                || var("CLICOLOR").is_some_and(|v| v == "0"),
            locale: var("LC_ALL")
                .or_else(|| var("LC_MESSAGES"))
                .or_else(|| var("LANG")),
            ctype_locale: var("LC_ALL")
                .or_else(|| var("LC_CTYPE"))
                .or_else(|| var("LANG")),
            stdin_tty: std::io::stdin().is_terminal(),
            stderr_tty: std::io::stderr().is_terminal(),
            stdout_tty: std::io::stdout().is_terminal(),
        }
    }
}

/// Colour on a stream: never with --no-color or NO_COLOR, always with CLICOLOR_FORCE, else
/// only when the stream is a terminal that shows colour.
fn colors(no_color_flag: bool, env: &Environment) -> Colors {
    let on = |tty: bool| {
        !no_color_flag && !env.no_color && (env.force_color || (tty && !env.dumb_terminal))
    };
    Colors {
        stdout: on(env.stdout_tty),
        stderr: on(env.stderr_tty),
    }
}

/// `--lang`, else the locale (`ko*` is Korean), else English; English too where the
/// terminal's codeset cannot show Hangul.
pub fn lang(flag: Option<cli::Lang>, env: &Environment) -> Lang {
    let wanted = match flag {
        Some(cli::Lang::Ko) => Lang::Ko,
        Some(cli::Lang::En) => Lang::En,
        None if env.locale.as_deref().is_some_and(|l| l.starts_with("ko")) => Lang::Ko,
        None => Lang::En,
    };
    match codeset(env).shows_hangul() {
        true => wanted,
        false => Lang::En,
    }
}

pub fn codeset(env: &Environment) -> Codeset {
    Codeset::of_locale(env.ctype_locale.as_deref())
}

pub fn resolve(cli: &Cli, env: &Environment) -> Settings {
    let g = &cli.global;
    Settings {
        json: g.json,
        yes: g.yes,
        dry_run: g.dry_run,
        // Relative to where the command was started; the file is renamed into its directory.
        output: g.output.clone().map(absolute),
        state: StateDir::new(absolute(
            g.state_dir
                .clone()
                .unwrap_or_else(crate::os::default_state_dir),
        )),
        lang: lang(g.lang, env),
        codeset: codeset(env),
        quiet: g.quiet,
        verbose: g.verbose,
        color: colors(g.no_color, env),
        interactive: env.stdin_tty && env.stderr_tty && !env.ci,
        wizard: env.stdin_tty && env.stdout_tty && !env.ci && !g.json && !g.yes,
    }
}

impl RuntimeArg {
    pub fn kind(self) -> RuntimeKind {
        match self {
            RuntimeArg::Tomcat => RuntimeKind::Tomcat,
            RuntimeArg::Jboss | RuntimeArg::Wildfly => RuntimeKind::Jboss,
            RuntimeArg::Weblogic => RuntimeKind::Weblogic,
            RuntimeArg::Websphere => RuntimeKind::Websphere,
            RuntimeArg::Jeus => RuntimeKind::Jeus,
            RuntimeArg::Jetty => RuntimeKind::Jetty,
            RuntimeArg::Resin => RuntimeKind::Resin,
            RuntimeArg::Springboot => RuntimeKind::Springboot,
            RuntimeArg::Php => RuntimeKind::Php,
            RuntimeArg::Python => RuntimeKind::Python,
            RuntimeArg::Infra => RuntimeKind::Infra,
            RuntimeArg::Nodejs => RuntimeKind::Nodejs,
        }
    }
}

pub fn target(args: &cli::TargetArgs) -> TargetSettings {
    TargetSettings {
        runtime: args.runtime.map(RuntimeArg::kind),
        home: args.home.clone(),
        base: args.base.clone(),
        pid: args.pid,
        php_bins: args.php_bin.clone(),
        unit: args.unit.clone(),
        start_script: args.start_script.clone(),
        systemd_dir: args.systemd_dir.clone(),
        whatap_home: args.whatap_home.clone(),
        servers: args.servers.clone(),
        app_dir: args.app_dir.clone(),
    }
}

pub fn doctor(args: &cli::DoctorArgs) -> Result<DoctorSettings> {
    if let Some(missing) = args.logs.iter().find(|l| !l.is_file()) {
        return Err(Error::usage(
            msg!("log-missing", path = missing.display()),
            msg!("log-missing-hint"),
        ));
    }
    if let Some(dir) = args
        .bundle
        .clone()
        .map(absolute)
        .as_deref()
        .and_then(Path::parent)
    {
        if !dir.is_dir() {
            return Err(Error::usage(
                msg!("bundle-dir-missing", path = dir.display()),
                msg!("bundle-dir-missing-hint"),
            ));
        }
    }
    for (flag, ids) in [("--only", &args.only), ("--skip", &args.skip)] {
        if let Some(unknown) = ids
            .iter()
            .find(|id| !crate::doctor::catalog::rules().iter().any(|r| r.id == **id))
        {
            return Err(Error::usage(
                msg!("doctor-unknown-check", flag = flag, id = unknown),
                msg!("doctor-unknown-check-hint"),
            ));
        }
    }
    Ok(DoctorSettings {
        target: target(&args.target),
        network: !args.no_network,
        list_rules: args.list_rules,
        logs: args.logs.clone(),
        full: args.full,
        fix: args.fix,
        checks: crate::doctor::checks::Filter {
            only: args.only.clone(),
            skip: args.skip.clone(),
        },
        fail_on: args.fail_on,
        bundle: args.bundle.clone().map(absolute),
    })
}

pub fn report(args: &cli::ReportArgs) -> Result<ReportSettings> {
    let mut files = Vec::new();
    for path in &args.files {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let entries = std::fs::read_dir(path).map_err(|e| Error::io(path, e))?;
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
            .collect();
        if found.is_empty() {
            return Err(Error::usage(
                msg!("report-empty-dir", path = path.display()),
                msg!("report-bad-file-hint"),
            ));
        }
        found.sort();
        files.extend(found);
    }
    Ok(ReportSettings {
        files,
        html: args.html.clone().map(absolute),
    })
}

/// Where an install value came from; the stronger wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Unset,
    AnswersFile,
    Environment,
    Flag,
}

/// The install flags as they count: flags > environment (clap read both) > the `--config`
/// answers file > defaults, and the license read from `--license-file` or stdin
/// (`--license -`). `matches` are the install subcommand's, to tell flags and environment
/// from defaults.
pub fn install_args(
    args: &cli::InstallArgs,
    matches: &clap::ArgMatches,
) -> Result<cli::InstallArgs> {
    let given = |id: &str| match matches.value_source(id) {
        Some(clap::parser::ValueSource::CommandLine) => Source::Flag,
        Some(clap::parser::ValueSource::EnvVariable) => Source::Environment,
        _ => Source::Unset,
    };
    let mut merged = args.clone();
    let answered = match &args.config {
        Some(file) => answers(file, &mut merged, &given)?,
        None => Vec::new(),
    };
    let source = |id: &str| match given(id) {
        Source::Unset if answered.iter().any(|a| a == id) => Source::AnswersFile,
        other => other,
    };
    let (key, file) = (source("license"), source("license_file"));
    if key != Source::Unset && key == file {
        return Err(Error::usage(
            msg!("license-two-sources"),
            msg!("license-two-sources-hint"),
        ));
    }
    if file > key {
        let path = merged.license_file.take().unwrap_or_default();
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::usage(
                msg!("license-file-unreadable", path = path.display(), error = e),
                msg!("license-file-unreadable-hint"),
            )
        })?;
        merged.license = Some(first_line(&text));
    } else if merged.license.as_deref() == Some("-") {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| Error::io("stdin", e))?;
        merged.license = Some(first_line(&line));
    }
    merged.license_file = None;
    Ok(merged)
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default()
        .to_string()
}

/// Fills what neither a flag nor the environment set from the answers file `file` (TOML, keys
/// = the install command's long flag names, arrays for repeatable flags); returns the ids it
/// set. Its values go through the same parser as flags.
fn answers(
    file: &Path,
    merged: &mut cli::InstallArgs,
    given: &dyn Fn(&str) -> Source,
) -> Result<Vec<String>> {
    use clap::{CommandFactory, FromArgMatches};
    let bad = |why: String| {
        Error::usage(
            msg!("config-invalid", path = file.display(), why = why),
            msg!("config-invalid-hint"),
        )
    };
    let text = std::fs::read_to_string(file).map_err(|e| bad(e.to_string()))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| bad(e.message().to_string()))?;
    let command = Cli::command();
    let install = command
        .find_subcommand("install")
        .ok_or_else(|| Error::Internal("no install command".into()))?;
    let mut words = vec!["whatap".to_string(), "install".to_string()];
    let mut ids = Vec::new();
    for (key, value) in &table {
        let arg = install
            .get_arguments()
            .find(|a| a.get_long() == Some(key.as_str()) && !a.is_global_set() && key != "config")
            .ok_or_else(|| bad(msg!("config-unknown-key", key = key)))?;
        let flag = format!("--{key}");
        let values = match value {
            toml::Value::Array(items) => items.clone(),
            one => vec![one.clone()],
        };
        for value in values {
            match value {
                toml::Value::Boolean(true) => words.push(flag.clone()),
                toml::Value::Boolean(false) => {}
                toml::Value::String(text) => words.extend([flag.clone(), text]),
                toml::Value::Integer(n) => words.extend([flag.clone(), n.to_string()]),
                _ => return Err(bad(msg!("config-bad-value", key = key))),
            }
        }
        ids.push(arg.get_id().to_string());
    }
    let parsed = command
        .try_get_matches_from(&words)
        .map_err(|e| {
            let text = e.to_string();
            bad(text
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ")
                .to_string())
        })
        .and_then(|m| {
            let (_, sub) = m.subcommand().ok_or_else(|| bad("install".into()))?;
            cli::InstallArgs::from_arg_matches(sub).map_err(|e| bad(e.to_string()))
        })?;
    let from_file = |id: &str| given(id) == Source::Unset && ids.iter().any(|i| i == id);
    macro_rules! take {
        ($($field:ident).+ = $id:literal) => {
            if from_file($id) {
                merged.$($field).+ = parsed.$($field).+.clone();
            }
        };
    }
    take!(target.runtime = "runtime");
    take!(target.home = "home");
    take!(target.base = "base");
    take!(target.pid = "pid");
    take!(target.php_bin = "php_bin");
    take!(target.unit = "unit");
    take!(target.start_script = "start_script");
    take!(target.systemd_dir = "systemd_dir");
    take!(target.whatap_home = "whatap_home");
    take!(target.servers = "servers");
    take!(target.app_dir = "app_dir");
    take!(license = "license");
    take!(license_file = "license_file");
    take!(host = "host");
    take!(agent_jar = "agent_jar");
    take!(agent_archive = "agent_archive");
    take!(port = "port");
    take!(name = "name");
    take!(oname = "oname");
    take!(cypher_level = "cypher_level");
    take!(set = "set");
    take!(method = "method");
    take!(service = "service");
    take!(latest_jar = "latest_jar");
    take!(python = "python");
    take!(app_name = "app_name");
    take!(app_process_name = "app_process_name");
    take!(break_system_packages = "break_system_packages");
    take!(pause = "pause");
    take!(resume = "resume");
    take!(attach = "attach");
    take!(sha256 = "sha256");
    take!(offline = "offline");
    take!(install_package = "install_package");
    take!(package_repo = "package_repo");
    take!(cacert = "cacert");
    Ok(ids
        .into_iter()
        .filter(|id| given(id) == Source::Unset)
        .collect())
}

pub fn install(args: &cli::InstallArgs) -> Result<InstallSettings> {
    install_into(args, target(&args.target))
}

/// The install settings of `args` for a target chosen another way (the wizard's pick).
pub fn install_into(args: &cli::InstallArgs, target: TargetSettings) -> Result<InstallSettings> {
    let toggle = match (args.pause, args.resume) {
        (true, _) => Some(Toggle::Pause),
        (_, true) => Some(Toggle::Resume),
        _ => None,
    };
    if let Some(toggle) = toggle {
        if target.runtime.is_some_and(|r| r != RuntimeKind::Php) {
            return Err(Error::usage(
                msg!("toggle-php-only", flag = toggle.flag()),
                msg!("toggle-php-only-hint"),
            ));
        }
        return Ok(InstallSettings {
            target: TargetSettings {
                runtime: Some(RuntimeKind::Php),
                ..target
            },
            toggle: Some(toggle),
            ..InstallSettings::default()
        });
    }
    let license = match args.license.as_deref().map(str::trim) {
        None | Some("") => {
            return Err(Error::usage(
                msg!("license-required"),
                msg!("license-required-hint"),
            ));
        }
        Some(license) => validate_license(license)?,
    };
    let hosts = match args.host.as_deref().map(str::trim) {
        None | Some("") => {
            return Err(Error::usage(
                msg!("host-required"),
                msg!("host-required-hint"),
            ));
        }
        Some(hosts) => parse_hosts(hosts)?,
    };
    let mut conf = Vec::new();
    if let Some(level) = &args.cypher_level {
        conf.push(("cypher_level".to_string(), level.clone()));
    }
    for pair in &args.set {
        conf.push(parse_set(pair)?);
    }
    if args.port == Some(0) {
        return Err(Error::usage(msg!("port-zero"), msg!("port-zero-hint")));
    }
    refuse_system_dirs(&[
        ("--home", target.home.as_deref()),
        ("--base", target.base.as_deref()),
        ("--whatap-home", args.target.whatap_home.as_deref()),
    ])?;
    for path in [
        &args.agent_jar,
        &args.agent_archive,
        &args.cacert,
        &args.target.whatap_home,
        &args.python,
        &args.target.start_script,
        &args.target.app_dir,
    ]
    .into_iter()
    .flatten()
    {
        if path.as_os_str().is_empty() {
            return Err(Error::usage(msg!("path-empty"), msg!("path-empty-hint")));
        }
    }
    // The wizard's pick names the instance; `--whatap-home` as typed still says where it goes.
    let target = TargetSettings {
        whatap_home: target
            .whatap_home
            .or_else(|| args.target.whatap_home.clone()),
        ..target
    };
    Ok(InstallSettings {
        target,
        license,
        hosts,
        agent_jar: args.agent_jar.clone(),
        agent_source: args.agent_archive.as_deref().map(AgentSource::parse),
        port: args.port,
        name: args.name.clone(),
        oname: args.oname.clone(),
        conf,
        method: args.method.clone(),
        service: args.service.clone(),
        latest_jar: args.latest_jar,
        python: PythonSettings {
            interpreter: args.python.clone(),
            app_name: args.app_name.clone(),
            app_process_name: args.app_process_name.clone(),
            break_system_packages: args.break_system_packages,
        },
        toggle: None,
        attach: args.attach,
        sha256: args.sha256.as_deref().map(parse_sha256).transpose()?,
        offline: args.offline,
        install_package: args.install_package,
        package_repo: args.package_repo.clone(),
        cacert: args.cacert.clone(),
        recorded: Vec::new(),
        recorded_registry: Vec::new(),
    })
}

impl Toggle {
    pub fn flag(self) -> &'static str {
        match self {
            Toggle::Pause => "pause",
            Toggle::Resume => "resume",
        }
    }
}

fn parse_sha256(raw: &str) -> Result<String> {
    crate::agent::parse_sha256_text(raw)
        .filter(|sha| sha.len() == raw.trim().len())
        .ok_or_else(|| {
            Error::usage(
                msg!("sha256-invalid", value = format!("{raw:?}")),
                msg!("sha256-invalid-hint"),
            )
        })
}

/// License keys are opaque tokens: letters, digits and `-_+/=.`; never echoed back in full.
pub fn validate_license(license: &str) -> Result<String> {
    let ok_chars = license
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '/' | '=' | '.'));
    if !ok_chars || license.len() < 8 || license.len() > 256 {
        return Err(Error::usage(
            msg!("license-invalid", masked = crate::ui::mask::mask(license)),
            msg!("license-invalid-hint"),
        ));
    }
    Ok(license.to_string())
}

/// `1.2.3.4/5.6.7.8` or `a.example,b.example`: hosts only (the port is whatap.server.port).
pub fn parse_hosts(raw: &str) -> Result<Vec<String>> {
    let mut hosts = Vec::new();
    for part in raw.split(['/', ',']).map(str::trim) {
        if part.is_empty() {
            if raw.contains("://") {
                return Err(bad_host(raw, msg!("host-why-url")));
            }
            continue;
        }
        if !is_host(part) {
            return Err(bad_host(part, msg!("host-why-name")));
        }
        hosts.push(part.to_string());
    }
    if hosts.is_empty() {
        return Err(bad_host(raw, msg!("host-why-empty")));
    }
    Ok(hosts)
}

fn bad_host(value: &str, why: String) -> Error {
    Error::usage(
        msg!("host-invalid", value = format!("{value:?}"), why = why),
        msg!("host-invalid-hint"),
    )
}

fn is_host(value: &str) -> bool {
    if let Ok(ip) = value.parse::<std::net::IpAddr>() {
        // An agent cannot send to "any address", a broadcast or a multicast group.
        let broadcast = matches!(ip, std::net::IpAddr::V4(v4) if v4.is_broadcast());
        return !(ip.is_unspecified() || ip.is_multicast() || broadcast);
    }
    // Dotted digits that did not parse as an address (1.2.3.999, 10.1) are a typo, not a name.
    if value
        .split('.')
        .all(|l| l.chars().all(|c| c.is_ascii_digit()))
    {
        return false;
    }
    value.len() <= 253
        && value.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

fn parse_set(pair: &str) -> Result<(String, String)> {
    let hint = || msg!("set-hint");
    let Some((key, value)) = pair.split_once('=') else {
        return Err(Error::usage(
            msg!("set-missing-equals", pair = format!("{pair:?}")),
            hint(),
        ));
    };
    let key = key.trim();
    if key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(Error::usage(
            msg!(
                "set-bad-key",
                pair = format!("{pair:?}"),
                key = format!("{key:?}")
            ),
            hint(),
        ));
    }
    if matches!(key, "license" | "whatap.server.host") {
        return Err(Error::usage(
            msg!("set-reserved-key", key = key),
            msg!("set-reserved-key-hint"),
        ));
    }
    if value.contains(['\n', '\r', '\0']) {
        return Err(Error::usage(msg!("set-line-break", key = key), hint()));
    }
    let value = value.trim();
    check_properties_value(key, value)?;
    Ok((key.to_string(), value.to_string()))
}

/// whatap.conf is read as Java properties: a value ending in an odd number of backslashes
/// continues onto the next line (it would swallow the key after it, the license say), `\u`
/// needs four hex digits, and control characters have no place in one.
fn check_properties_value(key: &str, value: &str) -> Result<()> {
    let bad = |why: String| {
        Error::usage(
            msg!("set-bad-value", key = key, why = why),
            msg!("set-bad-value-hint"),
        )
    };
    if value.chars().any(char::is_control) {
        return Err(bad(msg!("set-why-control")));
    }
    let chars: Vec<char> = value.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '\\' {
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            None => return Err(bad(msg!("set-why-trailing-backslash"))),
            Some('u') => {
                let hex = chars.get(i + 2..i + 6);
                if !hex.is_some_and(|h| h.iter().all(char::is_ascii_hexdigit)) {
                    return Err(bad(msg!("set-why-unicode-escape")));
                }
                i += 6;
            }
            Some(_) => i += 2,
        }
    }
    Ok(())
}

/// `path` made absolute against the working directory (without touching the disk): the state
/// dir is the same one whatever directory a later command runs from, and reports say which.
fn absolute(path: PathBuf) -> PathBuf {
    std::path::absolute(&path).unwrap_or(path)
}

/// Directories of the operating system itself: installing "into" one would scatter the agent
/// and its startup edits over the system (and uninstalling could remove its directories).
const SYSTEM_DIRS: &[&str] = &[
    "/",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/media",
    "/mnt",
    "/opt",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/srv",
    "/sys",
    "/tmp",
    "/usr",
    "/usr/bin",
    "/usr/include",
    "/usr/lib",
    "/usr/lib64",
    "/usr/libexec",
    "/usr/local",
    "/usr/local/bin",
    "/usr/local/lib",
    "/usr/local/sbin",
    "/usr/local/share",
    "/usr/sbin",
    "/usr/share",
    "/usr/src",
    "/var",
    "/var/cache",
    "/var/lib",
    "/var/log",
    "/var/opt",
    "/var/spool",
    "/var/tmp",
];

/// Refuses (exit 2) a `--home`, `--base` or `--whatap-home` that is a system directory, as
/// typed or once `..` and symlinks are resolved.
/// A network share (`\\server\share\...`, or `\\?\UNC\...`): only Windows paths have one.
/// Refused where an install writes: the atomic replace, the directory identity and the locks
/// apply relies on are those of a local volume, and a share's root has no parent to lock.
fn is_unc(path: &std::path::Path) -> bool {
    use std::path::{Component, Prefix};
    matches!(
        path.components().next(),
        Some(Component::Prefix(p)) if matches!(p.kind(), Prefix::UNC(..) | Prefix::VerbatimUNC(..))
    )
}

fn refuse_system_dirs(flags: &[(&str, Option<&std::path::Path>)]) -> Result<()> {
    for (flag, path) in flags {
        let Some(path) = path else { continue };
        if is_unc(path) {
            return Err(Error::usage(
                msg!("path-unc", flag = flag, path = path.display()),
                msg!("path-unc-hint", flag = flag),
            ));
        }
        let typed = absolute(path.to_path_buf());
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| typed.clone());
        let lexical: PathBuf = typed.components().collect();
        if [&typed, &real, &lexical]
            .iter()
            .any(|p| SYSTEM_DIRS.iter().any(|s| p.as_os_str() == *s))
        {
            return Err(Error::usage(
                msg!("path-system-dir", flag = flag, path = real.display()),
                msg!("path-system-dir-hint", flag = flag),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(stdout_tty: bool, stderr_tty: bool) -> Environment {
        Environment {
            ci: false,
            no_color: false,
            force_color: false,
            dumb_terminal: false,
            locale: None,
            ctype_locale: None,
            stdin_tty: true,
            stderr_tty,
            stdout_tty,
        }
    }

    #[test]
    fn colour_is_decided_per_stream() {
        // `whatap doctor > report.txt` from a terminal: the file gets none, the notes do.
        let redirected = colors(false, &env(false, true));
        assert_eq!(
            redirected,
            Colors {
                stdout: false,
                stderr: true
            }
        );
        assert_eq!(colors(true, &env(true, true)), Colors::default());
        let dumb = Environment {
            dumb_terminal: true,
            ..env(true, true)
        };
        assert_eq!(colors(false, &dumb), Colors::default());
        let no_color = Environment {
            no_color: true,
            force_color: true,
            ..env(true, true)
        };
        assert_eq!(colors(false, &no_color), Colors::default());
        let forced = Environment {
            force_color: true,
            ..env(false, false)
        };
        assert_eq!(
            colors(false, &forced),
            Colors {
                stdout: true,
                stderr: true
            }
        );
    }

    #[test]
    fn hosts_accept_slashes_and_commas() {
        assert_eq!(
            parse_hosts("1.2.3.4/5.6.7.8").unwrap(),
            ["1.2.3.4", "5.6.7.8"]
        );
        assert_eq!(
            parse_hosts("a.example, b.example").unwrap(),
            ["a.example", "b.example"]
        );
        assert_eq!(parse_hosts("::1").unwrap(), ["::1"]);
    }

    #[test]
    fn hosts_refuse_urls_and_injection() {
        for bad in ["https://x.example", "x;rm -rf /", "a b", "$(id)", "", "/"] {
            assert!(parse_hosts(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn license_shape() {
        assert!(validate_license("x41pl22ek7jhv-z43cebasdv4il7-z62p3l35fj5502").is_ok());
        for bad in [
            "short",
            "has space in it",
            "quote\"inside-key",
            "new\nline-key",
        ] {
            assert!(validate_license(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hosts_that_cannot_be_collectors_are_refused() {
        for bad in [
            "0.0.0.0",
            "::",
            "255.255.255.255",
            "224.0.0.1",
            "1.2.3.999",
            "10.1",
        ] {
            assert!(parse_hosts(bad).is_err(), "{bad:?}");
        }
        assert!(parse_hosts("collector1.example/10.0.0.1").is_ok());
    }

    #[test]
    fn set_values_are_java_properties_values() {
        for bad in [
            "k=v\\",
            "k=a\\\\\\",
            "k=\\u12",
            "k=\\uzzzz",
            "k=a\tb",
            "k=\u{1b}[2J",
        ] {
            assert!(parse_set(bad).is_err(), "{bad:?}");
        }
        for good in ["k=C:\\\\whatap", "k=\\u0041", "k=a\\ b", "k=x=y"] {
            assert!(parse_set(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn system_directories_are_refused() {
        for dir in ["/", "/etc", "/etc/", "/usr/local", "/var/lib/..", "/tmp/./"] {
            let refused = refuse_system_dirs(&[("--base", Some(std::path::Path::new(dir)))]);
            assert!(matches!(refused, Err(Error::Usage { .. })), "{dir}");
        }
        assert!(
            refuse_system_dirs(&[("--home", Some(std::path::Path::new("/opt/tomcat")))]).is_ok()
        );
    }

    #[test]
    fn set_pairs() {
        assert_eq!(
            parse_set("a.b=c").unwrap(),
            ("a.b".to_string(), "c".to_string())
        );
        assert!(parse_set("license=x").is_err());
        assert!(parse_set("novalue").is_err());
    }

    /// Every install flag can come from the answers file: each has its line in `answers`.
    #[test]
    fn the_answers_file_takes_every_install_flag() {
        use clap::CommandFactory;
        let source = include_str!("settings.rs");
        let command = Cli::command();
        let install = command.find_subcommand("install").unwrap();
        for arg in install.get_arguments().filter(|a| !a.is_global_set()) {
            let id = arg.get_id().as_str();
            if id == "config" {
                continue;
            }
            assert!(
                source.contains(&format!("= \"{id}\");")),
                "answers() does not take {id}"
            );
        }
    }
}
