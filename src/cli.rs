//! The command line, as clap derive structs. No I/O here: `settings` turns this into typed,
//! validated settings once.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// `--version`: the version, the target triple it was built for and the commit (build.rs);
/// `-V` and the man pages say only the version.
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("WHATAP_TARGET"),
    ", commit ",
    env!("WHATAP_COMMIT"),
    ")"
);

/// `--help` headings: flags grouped by what they are about.
const GLOBAL: &str = "Global options";
const TARGET: &str = "Target (which runtime)";
const CONNECTION: &str = "License and collector";
const AGENT_FILES: &str = "Agent files";
const AGENT_OPTIONS: &str = "Agent options";
const PYTHON_PHP: &str = "Python and PHP";
const CHECKS: &str = "Checks";

/// Examples shown after each command's `--help` (and in its man page's EXAMPLES).
pub const EXAMPLES_WHATAP: &str = "\
Examples:
  whatap detect                          # what runs here, and whether the agent is there
  whatap install                         # the wizard (on a terminal)
  whatap doctor                          # why monitoring does not work
  whatap uninstall --yes                 # put every file back";

const EXAMPLES_DETECT: &str = "\
Examples:
  whatap detect
  whatap detect --json | jq '.runtimes[] | {runtime, home, pid}'";

const EXAMPLES_INSTALL: &str = "\
Examples:
  # Tomcat, non-interactive (CI, Ansible): --yes is required without a terminal
  whatap install --home /opt/tomcat --license-file /root/whatap.key \\
    --host 13.124.11.223/13.209.172.35 --agent-jar ./whatap.agent.tracer-2.2.33.jar --yes
  # show the diff of every file, change nothing
  whatap install --home /usr/share/tomcat10 --license \"$KEY\" --host 10.0.0.1 \\
    --agent-jar /tmp/whatap.agent.tracer-2.2.33.jar --dry-run
  # the key on stdin, the rest from an answers file
  cat key.txt | whatap install --license - --config /etc/whatap/answers.toml --yes
  # a Python app run by gunicorn under systemd
  whatap install --runtime python --unit myapp --whatap-home /opt/myapp/whatap \\
    --license \"$KEY\" --host 10.0.0.1 --yes
  # PHP: every PHP found, the agent from the vendor's archive
  whatap install --runtime php --agent-archive ./whatap_php.tar.gz --license \"$KEY\" --host 10.0.0.1 -y";

const EXAMPLES_UNINSTALL: &str = "\
Examples:
  whatap uninstall --yes                 # the only install recorded
  whatap uninstall --home /opt/tomcat --dry-run
  whatap uninstall --runtime python --start-script /opt/myapp/start.sh --yes";

const EXAMPLES_DOCTOR: &str = "\
Examples:
  whatap doctor                          # every runtime found
  whatap doctor --home /opt/tomcat --json --output /tmp/doctor.json
  whatap doctor --only collector-unreachable,firewall-blocks-collector
  whatap doctor --skip udp-port-conflict --fail-on warning
  whatap doctor --fix --dry-run          # the safe fixes as a plan
  whatap doctor --bundle /tmp/whatap-support.tar.gz   # for WhaTap support
  whatap doctor --list-rules";

const EXAMPLES_REPORT: &str = "\
Examples:
  whatap report doctor/*.json
  whatap report doctor/ --html fleet.html";

const EXAMPLES_HISTORY: &str = "\
Examples:
  whatap history
  whatap history --json | jq '.entries[] | select(.result != \"applied\")'";

const EXAMPLES_COMPLETIONS: &str = "\
Examples:
  whatap completions bash > /etc/bash_completion.d/whatap
  whatap completions zsh > \"${fpath[1]}/_whatap\"";

const EXAMPLES_MAN: &str = "\
Examples:
  whatap man | man -l -
  whatap man --dir /usr/local/share/man/man1";

const ALL_GLOBALS: &[&str] = &[
    "json",
    "yes",
    "dry_run",
    "output",
    "state_dir",
    "lang",
    "verbose",
    "quiet",
    "no_color",
];

/// Global flags that mean nothing for a command: hidden from its `--help` and man page, still
/// accepted (a script that passes them keeps working).
const IRRELEVANT_GLOBALS: [(&str, &[&str]); 5] = [
    ("detect", &["yes", "dry_run", "state_dir"]),
    ("report", &["yes", "dry_run", "state_dir"]),
    ("history", &["yes", "dry_run"]),
    ("completions", ALL_GLOBALS),
    ("man", ALL_GLOBALS),
];

/// The command line as it is parsed and documented: the derive's, with the global flags that
/// mean nothing for a command hidden there; its help in Korean when `korean`.
pub fn command_in(korean: bool) -> clap::Command {
    match korean {
        true => crate::ui::help::korean(command()),
        false => command(),
    }
}

/// The command line in English (completions, man pages, the answers file).
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let mut command = Cli::command();
    let globals: Vec<clap::Arg> = command.get_arguments().cloned().collect();
    for (name, hidden) in IRRELEVANT_GLOBALS {
        // A subcommand that has the flag already gets no copy of the global one: give it a
        // hidden copy, still global, so its value still reaches the top.
        command = command.mut_subcommand(name, |sub| {
            globals
                .iter()
                .filter(|arg| hidden.contains(&arg.get_id().as_str()))
                .fold(sub, |sub, arg| sub.arg(arg.clone().hide(true)))
        });
    }
    command
}

#[derive(Debug, Parser)]
#[command(
    after_help = EXAMPLES_WHATAP,
    name = "whatap",
    version,
    long_version = LONG_VERSION,
    about = "Install WhaTap APM agents safely and find out why monitoring does not work",
    long_about = "Install WhaTap APM agents safely and find out why monitoring does not work.\n\n\
        Every change is a plan: shown as a diff (--dry-run), confirmed (or --yes), applied \
        atomically with a backup and a ledger, and reversible with `whatap uninstall`."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// One JSON document on stdout; human text goes to stderr
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub json: bool,
    /// Assume yes; required for changes when stdin is not a TTY or CI=true
    #[arg(short = 'y', long, global = true, help_heading = GLOBAL)]
    pub yes: bool,
    /// Build and show the plan (a unified diff of every file); change nothing
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub dry_run: bool,
    /// Also write the JSON document (the result, or the error) to FILE, atomically
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Ledger, backups and lock
    #[arg(long, global = true, help_heading = GLOBAL, env = "WHATAP_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Message language (default from LANG / LC_ALL)
    #[arg(long, global = true, help_heading = GLOBAL, env = "WHATAP_LANG", value_enum)]
    pub lang: Option<Lang>,
    /// More detail
    #[arg(short, long, global = true, help_heading = GLOBAL, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Only errors
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub quiet: bool,
    /// No colour (also NO_COLOR)
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub no_color: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    En,
    Ko,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the runtimes found on this host
    #[command(after_help = EXAMPLES_DETECT)]
    Detect,
    /// Detect -> plan -> show -> confirm -> apply -> verify
    #[command(after_help = EXAMPLES_INSTALL)]
    Install(Box<InstallArgs>),
    /// Reverse what install recorded
    #[command(after_help = EXAMPLES_UNINSTALL)]
    Uninstall(TargetArgs),
    /// Diagnose; exit 1 when any error-level finding
    #[command(after_help = EXAMPLES_DOCTOR)]
    Doctor(DoctorArgs),
    /// Fleet summary of many `doctor --json` files: hosts x findings, what to look at first
    #[command(after_help = EXAMPLES_REPORT)]
    Report(ReportArgs),
    /// The append-only log of every change this tool applied on this host
    #[command(after_help = EXAMPLES_HISTORY)]
    History,
    /// Print a shell completion script
    #[command(after_help = EXAMPLES_COMPLETIONS)]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `whatap man | man -l -`
    #[command(after_help = EXAMPLES_MAN)]
    Man {
        /// Write whatap.1 and one page per subcommand into DIR instead
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Args, Default)]
pub struct TargetArgs {
    /// Runtime kind
    #[arg(long, value_enum)]
    pub runtime: Option<RuntimeArg>,
    /// The runtime's home (CATALINA_HOME, ...)
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// The instance dir where it differs from home (CATALINA_BASE, ...)
    #[arg(long, value_name = "DIR")]
    pub base: Option<PathBuf>,
    /// The running process; home/base are read from its command line
    #[arg(long)]
    pub pid: Option<u32>,
    /// PHP: a php, php-fpm or php-cgi binary to set up (repeatable; default: every PHP found)
    #[arg(long = "php-bin", value_name = "PATH")]
    pub php_bin: Vec<PathBuf>,
    /// springboot, python, nodejs: the systemd unit that runs the application (a drop-in is written for it)
    #[arg(long, value_name = "NAME")]
    pub unit: Option<String>,
    /// springboot, python, nodejs: the script (or supervisor program file, or pm2 ecosystem file) that starts the application
    #[arg(long, value_name = "PATH")]
    pub start_script: Option<PathBuf>,
    /// springboot: where unit drop-ins go
    #[arg(long, value_name = "DIR", default_value = "/etc/systemd/system")]
    pub systemd_dir: PathBuf,
    /// Where the agent jar and whatap.conf go (default: <base>/whatap); python: the app's
    /// WHATAP_HOME, which also picks it for uninstall and doctor; php: where the whatap-php
    /// agent goes (default /usr/whatap/php)
    #[arg(long, value_name = "DIR")]
    pub whatap_home: Option<PathBuf>,
    /// JEUS, WebLogic, WebSphere: a server that gets the agent (repeatable; default: the
    /// managed servers, not the admin server)
    #[arg(long = "server", value_name = "NAME")]
    pub servers: Vec<String>,
    /// nodejs: the application's directory (where its package.json is)
    #[arg(long, value_name = "DIR")]
    pub app_dir: Option<PathBuf>,
}

/// `--runtime` as typed; `settings` maps it to the runtime it names (wildfly is jboss).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuntimeArg {
    Tomcat,
    Jboss,
    Wildfly,
    Weblogic,
    Websphere,
    Jeus,
    Jetty,
    Resin,
    Springboot,
    Php,
    Python,
    Infra,
    Nodejs,
}

/// Every install flag also has an environment variable, `WHATAP_` and its long name
/// (`--agent-jar` = `WHATAP_AGENT_JAR`); target flags have none (a stray `WHATAP_HOME`, the
/// Python agent's own variable, must never pick what gets changed). `--config FILE` answers
/// the rest: flags > environment > answers file > defaults (`settings::install_args`).
#[derive(Debug, Clone, Args, Default)]
pub struct InstallArgs {
    #[command(flatten, next_help_heading = TARGET)]
    pub target: TargetArgs,
    /// Answers file (TOML): keys are the long flag names (`agent-jar = "/opt/x.jar"`,
    /// `set = ["profile_sql=true"]`); flags and environment variables win over it
    #[arg(long, value_name = "FILE", help_heading = CONNECTION)]
    pub config: Option<PathBuf>,
    /// Project access key; `-` reads it from stdin (kept out of shell history and `ps`)
    #[arg(long, env = "WHATAP_LICENSE", hide_env_values = true, help_heading = CONNECTION)]
    pub license: Option<String>,
    /// A file holding the project access key (its first line)
    #[arg(long, env = "WHATAP_LICENSE_FILE", value_name = "FILE", help_heading = CONNECTION)]
    pub license_file: Option<PathBuf>,
    /// Collector hosts, `/`-separated as in whatap.conf (commas accepted)
    #[arg(long, env = "WHATAP_HOST", value_name = "H1/H2", help_heading = CONNECTION)]
    pub host: Option<String>,
    /// The whatap.agent.tracer-X.Y.Z.jar to install
    #[arg(long, env = "WHATAP_AGENT_JAR", value_name = "PATH", help_heading = AGENT_FILES)]
    pub agent_jar: Option<PathBuf>,
    /// The agent distribution: a directory, a .zip / .tar.gz, or an http(s) URL to download
    /// (Node.js: the npm tarball whatap-X.Y.Z.tgz, or a directory holding it)
    #[arg(long, env = "WHATAP_AGENT_ARCHIVE", value_name = "PATH|URL", help_heading = AGENT_FILES)]
    pub agent_archive: Option<PathBuf>,
    /// -Dwhatap.port: the service port, when the agent cannot detect it
    #[arg(long, env = "WHATAP_PORT", help_heading = AGENT_OPTIONS)]
    pub port: Option<u16>,
    /// -Dwhatap.name: application name pattern, e.g. {type}-{ip2}-{ip3}-{port}
    #[arg(long, env = "WHATAP_NAME", value_name = "PATTERN", help_heading = AGENT_OPTIONS)]
    pub name: Option<String>,
    /// -Dwhatap.oname: a fixed application name
    #[arg(long, env = "WHATAP_ONAME", value_name = "NAME", help_heading = AGENT_OPTIONS)]
    pub oname: Option<String>,
    /// whatap.conf cypher_level
    #[arg(long, env = "WHATAP_CYPHER_LEVEL", value_parser = ["128", "256"], help_heading = AGENT_OPTIONS)]
    pub cypher_level: Option<String>,
    /// Any other whatap.conf key (repeatable; WHATAP_SET holds one)
    #[arg(long = "set", env = "WHATAP_SET", value_name = "KEY=VALUE", help_heading = AGENT_OPTIONS)]
    pub set: Vec<String>,
    /// Where the option goes: tomcat setenv|catalina, jetty default|jetty-sh|start-ini, jboss
    /// standalone|host-xml|domain|run-conf, weblogic
    /// start-weblogic|set-domain-env|set-user-overrides, resin properties|xml
    #[arg(long, env = "WHATAP_METHOD", value_name = "NAME", help_heading = AGENT_OPTIONS)]
    pub method: Option<String>,
    /// Tomcat on Windows: the Procrun service (Tomcat9, ...) whose Java Options get the
    /// -javaagent option, instead of setenv.bat
    #[arg(long, env = "WHATAP_SERVICE", value_name = "NAME", help_heading = AGENT_OPTIONS)]
    pub service: Option<String>,
    /// Pick the newest whatap.agent.tracer-*.jar at each start
    #[arg(long, env = "WHATAP_LATEST_JAR", help_heading = AGENT_FILES)]
    pub latest_jar: bool,
    /// Python: the app's interpreter, or its virtualenv directory
    #[arg(long, env = "WHATAP_PYTHON", value_name = "PATH", help_heading = PYTHON_PHP)]
    pub python: Option<PathBuf>,
    /// Python, Node.js: whatap.conf app_name; PHP: whatap.app_name (default APHP / FPHP)
    #[arg(long, env = "WHATAP_APP_NAME", value_name = "NAME", help_heading = PYTHON_PHP)]
    pub app_name: Option<String>,
    /// Python, Node.js: whatap.conf app_process_name (uwsgi, gunicorn, node, ...); PHP:
    /// whatap.app_process_name
    #[arg(long, env = "WHATAP_APP_PROCESS_NAME", value_name = "NAME", help_heading = PYTHON_PHP)]
    pub app_process_name: Option<String>,
    /// Python: pip-install whatap-python even into a distribution-managed interpreter
    /// (PEP 668's EXTERNALLY-MANAGED); a virtualenv is the better place
    #[arg(long, env = "WHATAP_BREAK_SYSTEM_PACKAGES", help_heading = PYTHON_PHP)]
    pub break_system_packages: bool,
    /// PHP: comment out `extension=whatap.so` where it was installed (no license needed)
    #[arg(long, env = "WHATAP_PAUSE", conflicts_with = "resume", help_heading = PYTHON_PHP)]
    pub pause: bool,
    /// PHP: uncomment `extension=whatap.so` again after --pause
    #[arg(long, env = "WHATAP_RESUME", help_heading = PYTHON_PHP)]
    pub resume: bool,
    /// Also load the agent into the running JVM now (javaagent + onetime attach)
    #[arg(long, env = "WHATAP_ATTACH", help_heading = AGENT_OPTIONS)]
    pub attach: bool,
    /// Expected sha256 of --agent-archive (default for a URL: the `<URL>.sha256` file)
    #[arg(long, env = "WHATAP_SHA256", value_name = "HEX", help_heading = AGENT_FILES)]
    pub sha256: Option<String>,
    /// No network: --agent-archive comes from the cache or a local path
    #[arg(long, env = "WHATAP_OFFLINE", help_heading = AGENT_FILES)]
    pub offline: bool,
    /// PHP: install the vendor's whatap-php package first (apt-get / yum, as the guide does;
    /// each command is shown before it runs)
    #[arg(long, env = "WHATAP_INSTALL_PACKAGE", conflicts_with = "agent_archive", help_heading = AGENT_FILES)]
    pub install_package: bool,
    /// The vendor's package repository --install-package uses (a mirror)
    #[arg(long, env = "WHATAP_PACKAGE_REPO", value_name = "URL", default_value = "http://repo.whatap.io", help_heading = AGENT_FILES)]
    pub package_repo: String,
    /// An extra CA (PEM) trusted for downloads, e.g. a TLS-inspecting proxy's or an internal
    /// mirror's; the OS trust store (or SSL_CERT_FILE / SSL_CERT_DIR) is trusted too
    #[arg(long, env = "WHATAP_CACERT", value_name = "FILE", help_heading = AGENT_FILES)]
    pub cacert: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// `doctor --json` documents, one per host (a directory: every *.json file in it)
    #[arg(required = true, value_name = "FILES")]
    pub files: Vec<PathBuf>,
    /// Also write the summary as one self-contained HTML page
    #[arg(long, value_name = "OUT")]
    pub html: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten, next_help_heading = TARGET)]
    pub target: TargetArgs,
    /// Skip collector and firewall checks
    #[arg(long, help_heading = CHECKS)]
    pub no_network: bool,
    /// Print the catalog of finding ids (what doctor checks) and exit
    #[arg(long, help_heading = CHECKS)]
    pub list_rules: bool,
    /// Also scan this log file (repeatable)
    #[arg(long = "log", value_name = "FILE", help_heading = CHECKS)]
    pub logs: Vec<PathBuf>,
    /// Scan whole logs, not only their last 8 MiB
    #[arg(long, help_heading = CHECKS)]
    pub full: bool,
    /// Turn the safe fixes into a plan: shown, confirmed (or --yes), applied, recorded
    #[arg(long, help_heading = CHECKS)]
    pub fix: bool,
    /// Run only these checks (finding ids, comma-separated or repeated; see --list-rules)
    #[arg(long, value_name = "IDS", value_delimiter = ',', help_heading = CHECKS)]
    pub only: Vec<String>,
    /// Leave these checks out (finding ids, comma-separated or repeated)
    #[arg(long, value_name = "IDS", value_delimiter = ',', help_heading = CHECKS)]
    pub skip: Vec<String>,
    /// Which findings make the exit code 1
    #[arg(long, value_enum, value_name = "LEVEL", default_value = "error", help_heading = CHECKS)]
    pub fail_on: FailOn,
    /// Also write a support archive for WhaTap support: reports, masked confs, our blocks,
    /// the ledger, log tails, JVM command lines, firewall rules, versions (no full license)
    #[arg(long, value_name = "FILE.tar.gz", help_heading = CHECKS)]
    pub bundle: Option<PathBuf>,
}

/// `doctor --fail-on`: the lowest severity that makes the exit code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum FailOn {
    #[default]
    Error,
    Warning,
    Never,
}
