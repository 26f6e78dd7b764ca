
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'whatap' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'whatap'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'whatap' {
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Also write the JSON document (the result, or the error) to FILE, atomically')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Ledger, backups and lock')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'Message language (default from LANG / LC_ALL)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON document on stdout; human text goes to stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Assume yes; required for changes when stdin is not a TTY or CI=true')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Assume yes; required for changes when stdin is not a TTY or CI=true')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Build and show the plan (a unified diff of every file); change nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Detect -> plan -> show -> confirm -> apply -> verify')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Reverse what install recorded')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Diagnose; exit 1 when any error-level finding')
            [CompletionResult]::new('detect', 'detect', [CompletionResultType]::ParameterValue, 'List the runtimes found on this host')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Fleet summary of many `doctor --json` files: hosts x findings, what to look at first')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'The append-only log of every change this tool applied on this host')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff): `whatap man | man -l -`')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'whatap;install' {
            [CompletionResult]::new('--runtime', '--runtime', [CompletionResultType]::ParameterName, 'Runtime kind')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The runtime''s home (CATALINA_HOME, ...)')
            [CompletionResult]::new('--base', '--base', [CompletionResultType]::ParameterName, 'The instance dir where it differs from home (CATALINA_BASE, ...)')
            [CompletionResult]::new('--pid', '--pid', [CompletionResultType]::ParameterName, 'The running process; home/base are read from its command line')
            [CompletionResult]::new('--php-bin', '--php-bin', [CompletionResultType]::ParameterName, 'PHP: a php, php-fpm or php-cgi binary to set up (repeatable; default: every PHP found)')
            [CompletionResult]::new('--unit', '--unit', [CompletionResultType]::ParameterName, 'springboot, python, nodejs: the systemd unit that runs the application (a drop-in is written for it)')
            [CompletionResult]::new('--start-script', '--start-script', [CompletionResultType]::ParameterName, 'springboot, python, nodejs: the script (or supervisor program file, or pm2 ecosystem file) that starts the application')
            [CompletionResult]::new('--systemd-dir', '--systemd-dir', [CompletionResultType]::ParameterName, 'springboot: where unit drop-ins go')
            [CompletionResult]::new('--whatap-home', '--whatap-home', [CompletionResultType]::ParameterName, 'Where the agent jar and whatap.conf go (default: <base>/whatap); python: the app''s WHATAP_HOME, which also picks it for uninstall and doctor; php: where the whatap-php agent goes (default /usr/whatap/php)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'JEUS, WebLogic, WebSphere: a server that gets the agent (repeatable; default: the managed servers, not the admin server)')
            [CompletionResult]::new('--app-dir', '--app-dir', [CompletionResultType]::ParameterName, 'nodejs: the application''s directory (where its package.json is)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Answers file (TOML): keys are the long flag names (`agent-jar = "/opt/x.jar"`, `set = ["profile_sql=true"]`); flags and environment variables win over it')
            [CompletionResult]::new('--license', '--license', [CompletionResultType]::ParameterName, 'Project access key; `-` reads it from stdin (kept out of shell history and `ps`)')
            [CompletionResult]::new('--license-file', '--license-file', [CompletionResultType]::ParameterName, 'A file holding the project access key (its first line)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Collector hosts, `/`-separated as in whatap.conf (commas accepted)')
            [CompletionResult]::new('--agent-jar', '--agent-jar', [CompletionResultType]::ParameterName, 'The whatap.agent.tracer-X.Y.Z.jar to install')
            [CompletionResult]::new('--agent-archive', '--agent-archive', [CompletionResultType]::ParameterName, 'The agent distribution: a directory, a .zip / .tar.gz, or an http(s) URL to download (Node.js: the npm tarball whatap-X.Y.Z.tgz, or a directory holding it)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, '-Dwhatap.port: the service port, when the agent cannot detect it')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, '-Dwhatap.name: application name pattern, e.g. {type}-{ip2}-{ip3}-{port}')
            [CompletionResult]::new('--oname', '--oname', [CompletionResultType]::ParameterName, '-Dwhatap.oname: a fixed application name')
            [CompletionResult]::new('--cypher-level', '--cypher-level', [CompletionResultType]::ParameterName, 'whatap.conf cypher_level')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Any other whatap.conf key (repeatable; WHATAP_SET holds one)')
            [CompletionResult]::new('--method', '--method', [CompletionResultType]::ParameterName, 'Where the option goes: tomcat setenv|catalina, jetty default|jetty-sh|start-ini, jboss standalone|host-xml|domain|run-conf, weblogic start-weblogic|set-domain-env|set-user-overrides, resin properties|xml')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Tomcat on Windows: the Procrun service (Tomcat9, ...) whose Java Options get the -javaagent option, instead of setenv.bat')
            [CompletionResult]::new('--python', '--python', [CompletionResultType]::ParameterName, 'Python: the app''s interpreter, or its virtualenv directory')
            [CompletionResult]::new('--app-name', '--app-name', [CompletionResultType]::ParameterName, 'Python, Node.js: whatap.conf app_name; PHP: whatap.app_name (default APHP / FPHP)')
            [CompletionResult]::new('--app-process-name', '--app-process-name', [CompletionResultType]::ParameterName, 'Python, Node.js: whatap.conf app_process_name (uwsgi, gunicorn, node, ...); PHP: whatap.app_process_name')
            [CompletionResult]::new('--sha256', '--sha256', [CompletionResultType]::ParameterName, 'Expected sha256 of --agent-archive (default for a URL: the `<URL>.sha256` file)')
            [CompletionResult]::new('--package-repo', '--package-repo', [CompletionResultType]::ParameterName, 'The vendor''s package repository --install-package uses (a mirror)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'An extra CA (PEM) trusted for downloads, e.g. a TLS-inspecting proxy''s or an internal mirror''s; the OS trust store (or SSL_CERT_FILE / SSL_CERT_DIR) is trusted too')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Also write the JSON document (the result, or the error) to FILE, atomically')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Ledger, backups and lock')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'Message language (default from LANG / LC_ALL)')
            [CompletionResult]::new('--latest-jar', '--latest-jar', [CompletionResultType]::ParameterName, 'Pick the newest whatap.agent.tracer-*.jar at each start')
            [CompletionResult]::new('--break-system-packages', '--break-system-packages', [CompletionResultType]::ParameterName, 'Python: pip-install whatap-python even into a distribution-managed interpreter (PEP 668''s EXTERNALLY-MANAGED); a virtualenv is the better place')
            [CompletionResult]::new('--pause', '--pause', [CompletionResultType]::ParameterName, 'PHP: comment out `extension=whatap.so` where it was installed (no license needed)')
            [CompletionResult]::new('--resume', '--resume', [CompletionResultType]::ParameterName, 'PHP: uncomment `extension=whatap.so` again after --pause')
            [CompletionResult]::new('--attach', '--attach', [CompletionResultType]::ParameterName, 'Also load the agent into the running JVM now (javaagent + onetime attach)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'No network: --agent-archive comes from the cache or a local path')
            [CompletionResult]::new('--install-package', '--install-package', [CompletionResultType]::ParameterName, 'PHP: install the vendor''s whatap-php package first (apt-get / yum, as the guide does; each command is shown before it runs)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON document on stdout; human text goes to stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Assume yes; required for changes when stdin is not a TTY or CI=true')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Assume yes; required for changes when stdin is not a TTY or CI=true')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Build and show the plan (a unified diff of every file); change nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'whatap;uninstall' {
            [CompletionResult]::new('--runtime', '--runtime', [CompletionResultType]::ParameterName, 'Runtime kind')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The runtime''s home (CATALINA_HOME, ...)')
            [CompletionResult]::new('--base', '--base', [CompletionResultType]::ParameterName, 'The instance dir where it differs from home (CATALINA_BASE, ...)')
            [CompletionResult]::new('--pid', '--pid', [CompletionResultType]::ParameterName, 'The running process; home/base are read from its command line')
            [CompletionResult]::new('--php-bin', '--php-bin', [CompletionResultType]::ParameterName, 'PHP: a php, php-fpm or php-cgi binary to set up (repeatable; default: every PHP found)')
            [CompletionResult]::new('--unit', '--unit', [CompletionResultType]::ParameterName, 'springboot, python, nodejs: the systemd unit that runs the application (a drop-in is written for it)')
            [CompletionResult]::new('--start-script', '--start-script', [CompletionResultType]::ParameterName, 'springboot, python, nodejs: the script (or supervisor program file, or pm2 ecosystem file) that starts the application')
            [CompletionResult]::new('--systemd-dir', '--systemd-dir', [CompletionResultType]::ParameterName, 'springboot: where unit drop-ins go')
            [CompletionResult]::new('--whatap-home', '--whatap-home', [CompletionResultType]::ParameterName, 'Where the agent jar and whatap.conf go (default: <base>/whatap); python: the app''s WHATAP_HOME, which also picks it for uninstall and doctor; php: where the whatap-php agent goes (default /usr/whatap/php)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'JEUS, WebLogic, WebSphere: a server that gets the agent (repeatable; default: the managed servers, not the admin server)')
            [CompletionResult]::new('--app-dir', '--app-dir', [CompletionResultType]::ParameterName, 'nodejs: the application''s directory (where its package.json is)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Also write the JSON document (the result, or the error) to FILE, atomically')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Ledger, backups and lock')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'Message language (default from LANG / LC_ALL)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON document on stdout; human text goes to stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Assume yes; required for changes when stdin is not a TTY or CI=true')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Assume yes; required for changes when stdin is not a TTY or CI=true')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Build and show the plan (a unified diff of every file); change nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'whatap;doctor' {
            [CompletionResult]::new('--runtime', '--runtime', [CompletionResultType]::ParameterName, 'Runtime kind')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'The runtime''s home (CATALINA_HOME, ...)')
            [CompletionResult]::new('--base', '--base', [CompletionResultType]::ParameterName, 'The instance dir where it differs from home (CATALINA_BASE, ...)')
            [CompletionResult]::new('--pid', '--pid', [CompletionResultType]::ParameterName, 'The running process; home/base are read from its command line')
            [CompletionResult]::new('--php-bin', '--php-bin', [CompletionResultType]::ParameterName, 'PHP: a php, php-fpm or php-cgi binary to set up (repeatable; default: every PHP found)')
            [CompletionResult]::new('--unit', '--unit', [CompletionResultType]::ParameterName, 'springboot, python, nodejs: the systemd unit that runs the application (a drop-in is written for it)')
            [CompletionResult]::new('--start-script', '--start-script', [CompletionResultType]::ParameterName, 'springboot, python, nodejs: the script (or supervisor program file, or pm2 ecosystem file) that starts the application')
            [CompletionResult]::new('--systemd-dir', '--systemd-dir', [CompletionResultType]::ParameterName, 'springboot: where unit drop-ins go')
            [CompletionResult]::new('--whatap-home', '--whatap-home', [CompletionResultType]::ParameterName, 'Where the agent jar and whatap.conf go (default: <base>/whatap); python: the app''s WHATAP_HOME, which also picks it for uninstall and doctor; php: where the whatap-php agent goes (default /usr/whatap/php)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'JEUS, WebLogic, WebSphere: a server that gets the agent (repeatable; default: the managed servers, not the admin server)')
            [CompletionResult]::new('--app-dir', '--app-dir', [CompletionResultType]::ParameterName, 'nodejs: the application''s directory (where its package.json is)')
            [CompletionResult]::new('--log', '--log', [CompletionResultType]::ParameterName, 'Also scan this log file (repeatable)')
            [CompletionResult]::new('--only', '--only', [CompletionResultType]::ParameterName, 'Run only these checks (finding ids, comma-separated or repeated; see --list-rules)')
            [CompletionResult]::new('--skip', '--skip', [CompletionResultType]::ParameterName, 'Leave these checks out (finding ids, comma-separated or repeated)')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Which findings make the exit code 1')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Also write a support archive for WhaTap support: reports, masked confs, our blocks, the ledger, log tails, JVM command lines, firewall rules, versions (no full license)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Also write the JSON document (the result, or the error) to FILE, atomically')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Ledger, backups and lock')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'Message language (default from LANG / LC_ALL)')
            [CompletionResult]::new('--no-network', '--no-network', [CompletionResultType]::ParameterName, 'Skip collector and firewall checks')
            [CompletionResult]::new('--list-rules', '--list-rules', [CompletionResultType]::ParameterName, 'Print the catalog of finding ids (what doctor checks) and exit')
            [CompletionResult]::new('--full', '--full', [CompletionResultType]::ParameterName, 'Scan whole logs, not only their last 8 MiB')
            [CompletionResult]::new('--fix', '--fix', [CompletionResultType]::ParameterName, 'Turn the safe fixes into a plan: shown, confirmed (or --yes), applied, recorded')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON document on stdout; human text goes to stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Assume yes; required for changes when stdin is not a TTY or CI=true')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Assume yes; required for changes when stdin is not a TTY or CI=true')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Build and show the plan (a unified diff of every file); change nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'whatap;detect' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Ledger, backups and lock')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Also write the JSON document (the result, or the error) to FILE, atomically')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'Message language (default from LANG / LC_ALL)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Assume yes; required for changes when stdin is not a TTY or CI=true')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Assume yes; required for changes when stdin is not a TTY or CI=true')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Build and show the plan (a unified diff of every file); change nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON document on stdout; human text goes to stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'whatap;report' {
            [CompletionResult]::new('--html', '--html', [CompletionResultType]::ParameterName, 'Also write the summary as one self-contained HTML page')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Ledger, backups and lock')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Also write the JSON document (the result, or the error) to FILE, atomically')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'Message language (default from LANG / LC_ALL)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Assume yes; required for changes when stdin is not a TTY or CI=true')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Assume yes; required for changes when stdin is not a TTY or CI=true')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Build and show the plan (a unified diff of every file); change nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON document on stdout; human text goes to stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'whatap;history' {
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Also write the JSON document (the result, or the error) to FILE, atomically')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Ledger, backups and lock')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'Message language (default from LANG / LC_ALL)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Assume yes; required for changes when stdin is not a TTY or CI=true')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Assume yes; required for changes when stdin is not a TTY or CI=true')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Build and show the plan (a unified diff of every file); change nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON document on stdout; human text goes to stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'whatap;completions' {
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Also write the JSON document (the result, or the error) to FILE, atomically')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Ledger, backups and lock')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'Message language (default from LANG / LC_ALL)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON document on stdout; human text goes to stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Assume yes; required for changes when stdin is not a TTY or CI=true')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Assume yes; required for changes when stdin is not a TTY or CI=true')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Build and show the plan (a unified diff of every file); change nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'whatap;man' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Write whatap.1 and one page per subcommand into DIR instead')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Also write the JSON document (the result, or the error) to FILE, atomically')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Ledger, backups and lock')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'Message language (default from LANG / LC_ALL)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON document on stdout; human text goes to stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Assume yes; required for changes when stdin is not a TTY or CI=true')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Assume yes; required for changes when stdin is not a TTY or CI=true')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Build and show the plan (a unified diff of every file); change nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'whatap;help' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Detect -> plan -> show -> confirm -> apply -> verify')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Reverse what install recorded')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Diagnose; exit 1 when any error-level finding')
            [CompletionResult]::new('detect', 'detect', [CompletionResultType]::ParameterValue, 'List the runtimes found on this host')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Fleet summary of many `doctor --json` files: hosts x findings, what to look at first')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'The append-only log of every change this tool applied on this host')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff): `whatap man | man -l -`')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'whatap;help;install' {
            break
        }
        'whatap;help;uninstall' {
            break
        }
        'whatap;help;doctor' {
            break
        }
        'whatap;help;detect' {
            break
        }
        'whatap;help;report' {
            break
        }
        'whatap;help;history' {
            break
        }
        'whatap;help;completions' {
            break
        }
        'whatap;help;man' {
            break
        }
        'whatap;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
