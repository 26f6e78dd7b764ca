//! The command line, as clap derive structs. No I/O here: `settings` turns this into typed,
//! validated settings once.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "whatap",
    version,
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
    #[arg(long, global = true)]
    pub json: bool,
    /// Assume yes; required for changes when stdin is not a TTY or CI=true
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
    /// Build and show the plan (a unified diff of every file); change nothing
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Also write the JSON document (the result, or the error) to FILE, atomically
    #[arg(long, global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Ledger, backups and lock
    #[arg(long, global = true, env = "WHATAP_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Message language (default from LANG / LC_ALL)
    #[arg(long, global = true, env = "WHATAP_LANG", value_enum)]
    pub lang: Option<Lang>,
    /// More detail
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Only errors
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// No colour (also NO_COLOR)
    #[arg(long, global = true)]
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
    Detect,
    /// Detect -> plan -> show -> confirm -> apply -> verify
    Install(Box<InstallArgs>),
    /// Reverse what install recorded
    Uninstall(TargetArgs),
    /// Diagnose; exit 1 when any error-level finding
    Doctor(DoctorArgs),
    /// Fleet summary of many `doctor --json` files: hosts x findings, what to look at first
    Report(ReportArgs),
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `whatap man | man -l -`
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

#[derive(Debug, Clone, Args)]
pub struct InstallArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Project access key
    #[arg(long, env = "WHATAP_LICENSE", hide_env_values = true)]
    pub license: Option<String>,
    /// Collector hosts, `/`-separated as in whatap.conf (commas accepted)
    #[arg(long, env = "WHATAP_HOST", value_name = "H1/H2")]
    pub host: Option<String>,
    /// The whatap.agent.tracer-X.Y.Z.jar to install
    #[arg(long, value_name = "PATH")]
    pub agent_jar: Option<PathBuf>,
    /// The agent distribution: a directory, a .zip / .tar.gz, or an http(s) URL to download
    /// (Node.js: the npm tarball whatap-X.Y.Z.tgz, or a directory holding it)
    #[arg(long, value_name = "PATH|URL")]
    pub agent_archive: Option<PathBuf>,
    /// -Dwhatap.port: the service port, when the agent cannot detect it
    #[arg(long)]
    pub port: Option<u16>,
    /// -Dwhatap.name: application name pattern, e.g. {type}-{ip2}-{ip3}-{port}
    #[arg(long, value_name = "PATTERN")]
    pub name: Option<String>,
    /// -Dwhatap.oname: a fixed application name
    #[arg(long, value_name = "NAME")]
    pub oname: Option<String>,
    /// whatap.conf cypher_level
    #[arg(long, value_parser = ["128", "256"])]
    pub cypher_level: Option<String>,
    /// Any other whatap.conf key (repeatable)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Where the option goes: tomcat setenv|catalina, jetty default|jetty-sh|start-ini, jboss
    /// standalone|host-xml|domain|run-conf, weblogic
    /// start-weblogic|set-domain-env|set-user-overrides, resin properties|xml
    #[arg(long, value_name = "NAME")]
    pub method: Option<String>,
    /// Pick the newest whatap.agent.tracer-*.jar at each start
    #[arg(long)]
    pub latest_jar: bool,
    /// Python: the app's interpreter, or its virtualenv directory
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Python, Node.js: whatap.conf app_name; PHP: whatap.app_name (default APHP / FPHP)
    #[arg(long, value_name = "NAME")]
    pub app_name: Option<String>,
    /// Python, Node.js: whatap.conf app_process_name (uwsgi, gunicorn, node, ...); PHP:
    /// whatap.app_process_name
    #[arg(long, value_name = "NAME")]
    pub app_process_name: Option<String>,
    /// Python: pip-install whatap-python even into a distribution-managed interpreter
    /// (PEP 668's EXTERNALLY-MANAGED); a virtualenv is the better place
    #[arg(long)]
    pub break_system_packages: bool,
    /// PHP: comment out `extension=whatap.so` where it was installed (no license needed)
    #[arg(long, conflicts_with = "resume")]
    pub pause: bool,
    /// PHP: uncomment `extension=whatap.so` again after --pause
    #[arg(long)]
    pub resume: bool,
    /// Also load the agent into the running JVM now (javaagent + onetime attach)
    #[arg(long)]
    pub attach: bool,
    /// Expected sha256 of --agent-archive (default for a URL: the `<URL>.sha256` file)
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    /// No network: --agent-archive comes from the cache or a local path
    #[arg(long)]
    pub offline: bool,
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
    #[command(flatten)]
    pub target: TargetArgs,
    /// Skip collector and firewall checks
    #[arg(long)]
    pub no_network: bool,
    /// Print the catalog of finding ids (what doctor checks) and exit
    #[arg(long)]
    pub list_rules: bool,
    /// Also scan this log file (repeatable)
    #[arg(long = "log", value_name = "FILE")]
    pub logs: Vec<PathBuf>,
    /// Scan whole logs, not only their last 8 MiB
    #[arg(long)]
    pub full: bool,
    /// Turn the safe fixes into a plan: shown, confirmed (or --yes), applied, recorded
    #[arg(long)]
    pub fix: bool,
}
