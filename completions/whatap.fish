# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_whatap_global_optspecs
    string join \n json y/yes dry-run output= state-dir= lang= v/verbose q/quiet no-color h/help V/version
end

function __fish_whatap_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_whatap_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_whatap_using_subcommand
    set -l cmd (__fish_whatap_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c whatap -n "__fish_whatap_needs_command" -l output -d 'Also write the JSON document (the result, or the error) to FILE, atomically' -r -F
complete -c whatap -n "__fish_whatap_needs_command" -l state-dir -d 'Ledger, backups and lock' -r -F
complete -c whatap -n "__fish_whatap_needs_command" -l lang -d 'Message language (default from LANG / LC_ALL)' -r -f -a "en\t''
ko\t''"
complete -c whatap -n "__fish_whatap_needs_command" -l json -d 'One JSON document on stdout; human text goes to stderr'
complete -c whatap -n "__fish_whatap_needs_command" -s y -l yes -d 'Assume yes; required for changes when stdin is not a TTY or CI=true'
complete -c whatap -n "__fish_whatap_needs_command" -l dry-run -d 'Build and show the plan (a unified diff of every file); change nothing'
complete -c whatap -n "__fish_whatap_needs_command" -s v -l verbose -d 'More detail'
complete -c whatap -n "__fish_whatap_needs_command" -s q -l quiet -d 'Only errors'
complete -c whatap -n "__fish_whatap_needs_command" -l no-color -d 'No colour (also NO_COLOR)'
complete -c whatap -n "__fish_whatap_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c whatap -n "__fish_whatap_needs_command" -s V -l version -d 'Print version'
complete -c whatap -n "__fish_whatap_needs_command" -f -a "install" -d 'Detect -> plan -> show -> confirm -> apply -> verify'
complete -c whatap -n "__fish_whatap_needs_command" -f -a "uninstall" -d 'Reverse what install recorded'
complete -c whatap -n "__fish_whatap_needs_command" -f -a "doctor" -d 'Diagnose; exit 1 when any error-level finding'
complete -c whatap -n "__fish_whatap_needs_command" -f -a "detect" -d 'List the runtimes found on this host'
complete -c whatap -n "__fish_whatap_needs_command" -f -a "report" -d 'Fleet summary of many `doctor --json` files: hosts x findings, what to look at first'
complete -c whatap -n "__fish_whatap_needs_command" -f -a "history" -d 'The append-only log of every change this tool applied on this host'
complete -c whatap -n "__fish_whatap_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c whatap -n "__fish_whatap_needs_command" -f -a "man" -d 'Print the man page (roff): `whatap man | man -l -`'
complete -c whatap -n "__fish_whatap_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c whatap -n "__fish_whatap_using_subcommand install" -l runtime -d 'Runtime kind' -r -f -a "tomcat\t''
jboss\t''
wildfly\t''
weblogic\t''
websphere\t''
jeus\t''
jetty\t''
resin\t''
springboot\t''
php\t''
python\t''
infra\t''
nodejs\t''"
complete -c whatap -n "__fish_whatap_using_subcommand install" -l home -d 'The runtime\'s home (CATALINA_HOME, ...)' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand install" -l base -d 'The instance dir where it differs from home (CATALINA_BASE, ...)' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand install" -l pid -d 'The running process; home/base are read from its command line' -r
complete -c whatap -n "__fish_whatap_using_subcommand install" -l php-bin -d 'PHP: a php, php-fpm or php-cgi binary to set up (repeatable; default: every PHP found)' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand install" -l unit -d 'springboot, python, nodejs: the systemd unit that runs the application (a drop-in is written for it)' -r
complete -c whatap -n "__fish_whatap_using_subcommand install" -l start-script -d 'springboot, python, nodejs: the script (or supervisor program file, or pm2 ecosystem file) that starts the application' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand install" -l systemd-dir -d 'springboot: where unit drop-ins go' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand install" -l whatap-home -d 'Where the agent jar and whatap.conf go (default: <base>/whatap); python: the app\'s WHATAP_HOME, which also picks it for uninstall and doctor; php: where the whatap-php agent goes (default /usr/whatap/php)' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand install" -l server -d 'JEUS, WebLogic, WebSphere: a server that gets the agent (repeatable; default: the managed servers, not the admin server)' -r
complete -c whatap -n "__fish_whatap_using_subcommand install" -l app-dir -d 'nodejs: the application\'s directory (where its package.json is)' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand install" -l config -d 'Answers file (TOML): keys are the long flag names (`agent-jar = "/opt/x.jar"`, `set = ["profile_sql=true"]`); flags and environment variables win over it' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand install" -l license -d 'Project access key; `-` reads it from stdin (kept out of shell history and `ps`)' -r
complete -c whatap -n "__fish_whatap_using_subcommand install" -l license-file -d 'A file holding the project access key (its first line)' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand install" -l host -d 'Collector hosts, `/`-separated as in whatap.conf (commas accepted)' -r
complete -c whatap -n "__fish_whatap_using_subcommand install" -l agent-jar -d 'The whatap.agent.tracer-X.Y.Z.jar to install' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand install" -l agent-archive -d 'The agent distribution: a directory, a .zip / .tar.gz, or an http(s) URL to download (Node.js: the npm tarball whatap-X.Y.Z.tgz, or a directory holding it)' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand install" -l port -d '-Dwhatap.port: the service port, when the agent cannot detect it' -r
complete -c whatap -n "__fish_whatap_using_subcommand install" -l name -d '-Dwhatap.name: application name pattern, e.g. {type}-{ip2}-{ip3}-{port}' -r
complete -c whatap -n "__fish_whatap_using_subcommand install" -l oname -d '-Dwhatap.oname: a fixed application name' -r
complete -c whatap -n "__fish_whatap_using_subcommand install" -l cypher-level -d 'whatap.conf cypher_level' -r -f -a "128\t''
256\t''"
complete -c whatap -n "__fish_whatap_using_subcommand install" -l set -d 'Any other whatap.conf key (repeatable; WHATAP_SET holds one)' -r
complete -c whatap -n "__fish_whatap_using_subcommand install" -l method -d 'Where the option goes: tomcat setenv|catalina, jetty default|jetty-sh|start-ini, jboss standalone|host-xml|domain|run-conf, weblogic start-weblogic|set-domain-env|set-user-overrides, resin properties|xml' -r
complete -c whatap -n "__fish_whatap_using_subcommand install" -l service -d 'Tomcat on Windows: the Procrun service (Tomcat9, ...) whose Java Options get the -javaagent option, instead of setenv.bat' -r
complete -c whatap -n "__fish_whatap_using_subcommand install" -l python -d 'Python: the app\'s interpreter, or its virtualenv directory' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand install" -l app-name -d 'Python, Node.js: whatap.conf app_name; PHP: whatap.app_name (default APHP / FPHP)' -r
complete -c whatap -n "__fish_whatap_using_subcommand install" -l app-process-name -d 'Python, Node.js: whatap.conf app_process_name (uwsgi, gunicorn, node, ...); PHP: whatap.app_process_name' -r
complete -c whatap -n "__fish_whatap_using_subcommand install" -l sha256 -d 'Expected sha256 of --agent-archive (default for a URL: the `<URL>.sha256` file)' -r
complete -c whatap -n "__fish_whatap_using_subcommand install" -l package-repo -d 'The vendor\'s package repository --install-package uses (a mirror)' -r
complete -c whatap -n "__fish_whatap_using_subcommand install" -l cacert -d 'An extra CA (PEM) trusted for downloads, e.g. a TLS-inspecting proxy\'s or an internal mirror\'s; the OS trust store (or SSL_CERT_FILE / SSL_CERT_DIR) is trusted too' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand install" -l output -d 'Also write the JSON document (the result, or the error) to FILE, atomically' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand install" -l state-dir -d 'Ledger, backups and lock' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand install" -l lang -d 'Message language (default from LANG / LC_ALL)' -r -f -a "en\t''
ko\t''"
complete -c whatap -n "__fish_whatap_using_subcommand install" -l latest-jar -d 'Pick the newest whatap.agent.tracer-*.jar at each start'
complete -c whatap -n "__fish_whatap_using_subcommand install" -l break-system-packages -d 'Python: pip-install whatap-python even into a distribution-managed interpreter (PEP 668\'s EXTERNALLY-MANAGED); a virtualenv is the better place'
complete -c whatap -n "__fish_whatap_using_subcommand install" -l pause -d 'PHP: comment out `extension=whatap.so` where it was installed (no license needed)'
complete -c whatap -n "__fish_whatap_using_subcommand install" -l resume -d 'PHP: uncomment `extension=whatap.so` again after --pause'
complete -c whatap -n "__fish_whatap_using_subcommand install" -l attach -d 'Also load the agent into the running JVM now (javaagent + onetime attach)'
complete -c whatap -n "__fish_whatap_using_subcommand install" -l offline -d 'No network: --agent-archive comes from the cache or a local path'
complete -c whatap -n "__fish_whatap_using_subcommand install" -l install-package -d 'PHP: install the vendor\'s whatap-php package first (apt-get / yum, as the guide does; each command is shown before it runs)'
complete -c whatap -n "__fish_whatap_using_subcommand install" -l json -d 'One JSON document on stdout; human text goes to stderr'
complete -c whatap -n "__fish_whatap_using_subcommand install" -s y -l yes -d 'Assume yes; required for changes when stdin is not a TTY or CI=true'
complete -c whatap -n "__fish_whatap_using_subcommand install" -l dry-run -d 'Build and show the plan (a unified diff of every file); change nothing'
complete -c whatap -n "__fish_whatap_using_subcommand install" -s v -l verbose -d 'More detail'
complete -c whatap -n "__fish_whatap_using_subcommand install" -s q -l quiet -d 'Only errors'
complete -c whatap -n "__fish_whatap_using_subcommand install" -l no-color -d 'No colour (also NO_COLOR)'
complete -c whatap -n "__fish_whatap_using_subcommand install" -s h -l help -d 'Print help'
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -l runtime -d 'Runtime kind' -r -f -a "tomcat\t''
jboss\t''
wildfly\t''
weblogic\t''
websphere\t''
jeus\t''
jetty\t''
resin\t''
springboot\t''
php\t''
python\t''
infra\t''
nodejs\t''"
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -l home -d 'The runtime\'s home (CATALINA_HOME, ...)' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -l base -d 'The instance dir where it differs from home (CATALINA_BASE, ...)' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -l pid -d 'The running process; home/base are read from its command line' -r
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -l php-bin -d 'PHP: a php, php-fpm or php-cgi binary to set up (repeatable; default: every PHP found)' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -l unit -d 'springboot, python, nodejs: the systemd unit that runs the application (a drop-in is written for it)' -r
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -l start-script -d 'springboot, python, nodejs: the script (or supervisor program file, or pm2 ecosystem file) that starts the application' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -l systemd-dir -d 'springboot: where unit drop-ins go' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -l whatap-home -d 'Where the agent jar and whatap.conf go (default: <base>/whatap); python: the app\'s WHATAP_HOME, which also picks it for uninstall and doctor; php: where the whatap-php agent goes (default /usr/whatap/php)' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -l server -d 'JEUS, WebLogic, WebSphere: a server that gets the agent (repeatable; default: the managed servers, not the admin server)' -r
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -l app-dir -d 'nodejs: the application\'s directory (where its package.json is)' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -l output -d 'Also write the JSON document (the result, or the error) to FILE, atomically' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -l state-dir -d 'Ledger, backups and lock' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -l lang -d 'Message language (default from LANG / LC_ALL)' -r -f -a "en\t''
ko\t''"
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -l json -d 'One JSON document on stdout; human text goes to stderr'
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -s y -l yes -d 'Assume yes; required for changes when stdin is not a TTY or CI=true'
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -l dry-run -d 'Build and show the plan (a unified diff of every file); change nothing'
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -s v -l verbose -d 'More detail'
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -s q -l quiet -d 'Only errors'
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -l no-color -d 'No colour (also NO_COLOR)'
complete -c whatap -n "__fish_whatap_using_subcommand uninstall" -s h -l help -d 'Print help'
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l runtime -d 'Runtime kind' -r -f -a "tomcat\t''
jboss\t''
wildfly\t''
weblogic\t''
websphere\t''
jeus\t''
jetty\t''
resin\t''
springboot\t''
php\t''
python\t''
infra\t''
nodejs\t''"
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l home -d 'The runtime\'s home (CATALINA_HOME, ...)' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l base -d 'The instance dir where it differs from home (CATALINA_BASE, ...)' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l pid -d 'The running process; home/base are read from its command line' -r
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l php-bin -d 'PHP: a php, php-fpm or php-cgi binary to set up (repeatable; default: every PHP found)' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l unit -d 'springboot, python, nodejs: the systemd unit that runs the application (a drop-in is written for it)' -r
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l start-script -d 'springboot, python, nodejs: the script (or supervisor program file, or pm2 ecosystem file) that starts the application' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l systemd-dir -d 'springboot: where unit drop-ins go' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l whatap-home -d 'Where the agent jar and whatap.conf go (default: <base>/whatap); python: the app\'s WHATAP_HOME, which also picks it for uninstall and doctor; php: where the whatap-php agent goes (default /usr/whatap/php)' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l server -d 'JEUS, WebLogic, WebSphere: a server that gets the agent (repeatable; default: the managed servers, not the admin server)' -r
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l app-dir -d 'nodejs: the application\'s directory (where its package.json is)' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l log -d 'Also scan this log file (repeatable)' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l only -d 'Run only these checks (finding ids, comma-separated or repeated; see --list-rules)' -r
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l skip -d 'Leave these checks out (finding ids, comma-separated or repeated)' -r
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l fail-on -d 'Which findings make the exit code 1' -r -f -a "error\t''
warning\t''
never\t''"
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l bundle -d 'Also write a support archive for WhaTap support: reports, masked confs, our blocks, the ledger, log tails, JVM command lines, firewall rules, versions (no full license)' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l output -d 'Also write the JSON document (the result, or the error) to FILE, atomically' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l state-dir -d 'Ledger, backups and lock' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l lang -d 'Message language (default from LANG / LC_ALL)' -r -f -a "en\t''
ko\t''"
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l no-network -d 'Skip collector and firewall checks'
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l list-rules -d 'Print the catalog of finding ids (what doctor checks) and exit'
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l full -d 'Scan whole logs, not only their last 8 MiB'
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l fix -d 'Turn the safe fixes into a plan: shown, confirmed (or --yes), applied, recorded'
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l json -d 'One JSON document on stdout; human text goes to stderr'
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -s y -l yes -d 'Assume yes; required for changes when stdin is not a TTY or CI=true'
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l dry-run -d 'Build and show the plan (a unified diff of every file); change nothing'
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -s v -l verbose -d 'More detail'
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -s q -l quiet -d 'Only errors'
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -l no-color -d 'No colour (also NO_COLOR)'
complete -c whatap -n "__fish_whatap_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c whatap -n "__fish_whatap_using_subcommand detect" -l state-dir -d 'Ledger, backups and lock' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand detect" -l output -d 'Also write the JSON document (the result, or the error) to FILE, atomically' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand detect" -l lang -d 'Message language (default from LANG / LC_ALL)' -r -f -a "en\t''
ko\t''"
complete -c whatap -n "__fish_whatap_using_subcommand detect" -s y -l yes -d 'Assume yes; required for changes when stdin is not a TTY or CI=true'
complete -c whatap -n "__fish_whatap_using_subcommand detect" -l dry-run -d 'Build and show the plan (a unified diff of every file); change nothing'
complete -c whatap -n "__fish_whatap_using_subcommand detect" -l json -d 'One JSON document on stdout; human text goes to stderr'
complete -c whatap -n "__fish_whatap_using_subcommand detect" -s v -l verbose -d 'More detail'
complete -c whatap -n "__fish_whatap_using_subcommand detect" -s q -l quiet -d 'Only errors'
complete -c whatap -n "__fish_whatap_using_subcommand detect" -l no-color -d 'No colour (also NO_COLOR)'
complete -c whatap -n "__fish_whatap_using_subcommand detect" -s h -l help -d 'Print help'
complete -c whatap -n "__fish_whatap_using_subcommand report" -l html -d 'Also write the summary as one self-contained HTML page' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand report" -l state-dir -d 'Ledger, backups and lock' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand report" -l output -d 'Also write the JSON document (the result, or the error) to FILE, atomically' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand report" -l lang -d 'Message language (default from LANG / LC_ALL)' -r -f -a "en\t''
ko\t''"
complete -c whatap -n "__fish_whatap_using_subcommand report" -s y -l yes -d 'Assume yes; required for changes when stdin is not a TTY or CI=true'
complete -c whatap -n "__fish_whatap_using_subcommand report" -l dry-run -d 'Build and show the plan (a unified diff of every file); change nothing'
complete -c whatap -n "__fish_whatap_using_subcommand report" -l json -d 'One JSON document on stdout; human text goes to stderr'
complete -c whatap -n "__fish_whatap_using_subcommand report" -s v -l verbose -d 'More detail'
complete -c whatap -n "__fish_whatap_using_subcommand report" -s q -l quiet -d 'Only errors'
complete -c whatap -n "__fish_whatap_using_subcommand report" -l no-color -d 'No colour (also NO_COLOR)'
complete -c whatap -n "__fish_whatap_using_subcommand report" -s h -l help -d 'Print help'
complete -c whatap -n "__fish_whatap_using_subcommand history" -l output -d 'Also write the JSON document (the result, or the error) to FILE, atomically' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand history" -l state-dir -d 'Ledger, backups and lock' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand history" -l lang -d 'Message language (default from LANG / LC_ALL)' -r -f -a "en\t''
ko\t''"
complete -c whatap -n "__fish_whatap_using_subcommand history" -s y -l yes -d 'Assume yes; required for changes when stdin is not a TTY or CI=true'
complete -c whatap -n "__fish_whatap_using_subcommand history" -l dry-run -d 'Build and show the plan (a unified diff of every file); change nothing'
complete -c whatap -n "__fish_whatap_using_subcommand history" -l json -d 'One JSON document on stdout; human text goes to stderr'
complete -c whatap -n "__fish_whatap_using_subcommand history" -s v -l verbose -d 'More detail'
complete -c whatap -n "__fish_whatap_using_subcommand history" -s q -l quiet -d 'Only errors'
complete -c whatap -n "__fish_whatap_using_subcommand history" -l no-color -d 'No colour (also NO_COLOR)'
complete -c whatap -n "__fish_whatap_using_subcommand history" -s h -l help -d 'Print help'
complete -c whatap -n "__fish_whatap_using_subcommand completions" -l output -d 'Also write the JSON document (the result, or the error) to FILE, atomically' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand completions" -l state-dir -d 'Ledger, backups and lock' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand completions" -l lang -d 'Message language (default from LANG / LC_ALL)' -r -f -a "en\t''
ko\t''"
complete -c whatap -n "__fish_whatap_using_subcommand completions" -l json -d 'One JSON document on stdout; human text goes to stderr'
complete -c whatap -n "__fish_whatap_using_subcommand completions" -s y -l yes -d 'Assume yes; required for changes when stdin is not a TTY or CI=true'
complete -c whatap -n "__fish_whatap_using_subcommand completions" -l dry-run -d 'Build and show the plan (a unified diff of every file); change nothing'
complete -c whatap -n "__fish_whatap_using_subcommand completions" -s v -l verbose -d 'More detail'
complete -c whatap -n "__fish_whatap_using_subcommand completions" -s q -l quiet -d 'Only errors'
complete -c whatap -n "__fish_whatap_using_subcommand completions" -l no-color -d 'No colour (also NO_COLOR)'
complete -c whatap -n "__fish_whatap_using_subcommand completions" -s h -l help -d 'Print help'
complete -c whatap -n "__fish_whatap_using_subcommand man" -l dir -d 'Write whatap.1 and one page per subcommand into DIR instead' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand man" -l output -d 'Also write the JSON document (the result, or the error) to FILE, atomically' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand man" -l state-dir -d 'Ledger, backups and lock' -r -F
complete -c whatap -n "__fish_whatap_using_subcommand man" -l lang -d 'Message language (default from LANG / LC_ALL)' -r -f -a "en\t''
ko\t''"
complete -c whatap -n "__fish_whatap_using_subcommand man" -l json -d 'One JSON document on stdout; human text goes to stderr'
complete -c whatap -n "__fish_whatap_using_subcommand man" -s y -l yes -d 'Assume yes; required for changes when stdin is not a TTY or CI=true'
complete -c whatap -n "__fish_whatap_using_subcommand man" -l dry-run -d 'Build and show the plan (a unified diff of every file); change nothing'
complete -c whatap -n "__fish_whatap_using_subcommand man" -s v -l verbose -d 'More detail'
complete -c whatap -n "__fish_whatap_using_subcommand man" -s q -l quiet -d 'Only errors'
complete -c whatap -n "__fish_whatap_using_subcommand man" -l no-color -d 'No colour (also NO_COLOR)'
complete -c whatap -n "__fish_whatap_using_subcommand man" -s h -l help -d 'Print help'
complete -c whatap -n "__fish_whatap_using_subcommand help; and not __fish_seen_subcommand_from install uninstall doctor detect report history completions man help" -f -a "install" -d 'Detect -> plan -> show -> confirm -> apply -> verify'
complete -c whatap -n "__fish_whatap_using_subcommand help; and not __fish_seen_subcommand_from install uninstall doctor detect report history completions man help" -f -a "uninstall" -d 'Reverse what install recorded'
complete -c whatap -n "__fish_whatap_using_subcommand help; and not __fish_seen_subcommand_from install uninstall doctor detect report history completions man help" -f -a "doctor" -d 'Diagnose; exit 1 when any error-level finding'
complete -c whatap -n "__fish_whatap_using_subcommand help; and not __fish_seen_subcommand_from install uninstall doctor detect report history completions man help" -f -a "detect" -d 'List the runtimes found on this host'
complete -c whatap -n "__fish_whatap_using_subcommand help; and not __fish_seen_subcommand_from install uninstall doctor detect report history completions man help" -f -a "report" -d 'Fleet summary of many `doctor --json` files: hosts x findings, what to look at first'
complete -c whatap -n "__fish_whatap_using_subcommand help; and not __fish_seen_subcommand_from install uninstall doctor detect report history completions man help" -f -a "history" -d 'The append-only log of every change this tool applied on this host'
complete -c whatap -n "__fish_whatap_using_subcommand help; and not __fish_seen_subcommand_from install uninstall doctor detect report history completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c whatap -n "__fish_whatap_using_subcommand help; and not __fish_seen_subcommand_from install uninstall doctor detect report history completions man help" -f -a "man" -d 'Print the man page (roff): `whatap man | man -l -`'
complete -c whatap -n "__fish_whatap_using_subcommand help; and not __fish_seen_subcommand_from install uninstall doctor detect report history completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
