
use builtin;
use str;

set edit:completion:arg-completer[whatap] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'whatap'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'whatap'= {
            cand --output 'Also write the JSON document (the result, or the error) to FILE, atomically'
            cand --state-dir 'Ledger, backups and lock'
            cand --lang 'Message language (default from LANG / LC_ALL)'
            cand --json 'One JSON document on stdout; human text goes to stderr'
            cand -y 'Assume yes; required for changes when stdin is not a TTY or CI=true'
            cand --yes 'Assume yes; required for changes when stdin is not a TTY or CI=true'
            cand --dry-run 'Build and show the plan (a unified diff of every file); change nothing'
            cand -v 'More detail'
            cand --verbose 'More detail'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-color 'No colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand install 'Detect -> plan -> show -> confirm -> apply -> verify'
            cand uninstall 'Reverse what install recorded'
            cand doctor 'Diagnose; exit 1 when any error-level finding'
            cand detect 'List the runtimes found on this host'
            cand report 'Fleet summary of many `doctor --json` files: hosts x findings, what to look at first'
            cand history 'The append-only log of every change this tool applied on this host'
            cand completions 'Print a shell completion script'
            cand man 'Print the man page (roff): `whatap man | man -l -`'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'whatap;install'= {
            cand --runtime 'Runtime kind'
            cand --home 'The runtime''s home (CATALINA_HOME, ...)'
            cand --base 'The instance dir where it differs from home (CATALINA_BASE, ...)'
            cand --pid 'The running process; home/base are read from its command line'
            cand --php-bin 'PHP: a php, php-fpm or php-cgi binary to set up (repeatable; default: every PHP found)'
            cand --unit 'springboot, python, nodejs: the systemd unit that runs the application (a drop-in is written for it)'
            cand --start-script 'springboot, python, nodejs: the script (or supervisor program file, or pm2 ecosystem file) that starts the application'
            cand --systemd-dir 'springboot: where unit drop-ins go'
            cand --whatap-home 'Where the agent jar and whatap.conf go (default: <base>/whatap); python: the app''s WHATAP_HOME, which also picks it for uninstall and doctor; php: where the whatap-php agent goes (default /usr/whatap/php)'
            cand --server 'JEUS, WebLogic, WebSphere: a server that gets the agent (repeatable; default: the managed servers, not the admin server)'
            cand --app-dir 'nodejs: the application''s directory (where its package.json is)'
            cand --config 'Answers file (TOML): keys are the long flag names (`agent-jar = "/opt/x.jar"`, `set = ["profile_sql=true"]`); flags and environment variables win over it'
            cand --license 'Project access key; `-` reads it from stdin (kept out of shell history and `ps`)'
            cand --license-file 'A file holding the project access key (its first line)'
            cand --host 'Collector hosts, `/`-separated as in whatap.conf (commas accepted)'
            cand --agent-jar 'The whatap.agent.tracer-X.Y.Z.jar to install'
            cand --agent-archive 'The agent distribution: a directory, a .zip / .tar.gz, or an http(s) URL to download (Node.js: the npm tarball whatap-X.Y.Z.tgz, or a directory holding it)'
            cand --port '-Dwhatap.port: the service port, when the agent cannot detect it'
            cand --name '-Dwhatap.name: application name pattern, e.g. {type}-{ip2}-{ip3}-{port}'
            cand --oname '-Dwhatap.oname: a fixed application name'
            cand --cypher-level 'whatap.conf cypher_level'
            cand --set 'Any other whatap.conf key (repeatable; WHATAP_SET holds one)'
            cand --method 'Where the option goes: tomcat setenv|catalina, jetty default|jetty-sh|start-ini, jboss standalone|host-xml|domain|run-conf, weblogic start-weblogic|set-domain-env|set-user-overrides, resin properties|xml'
            cand --service 'Tomcat on Windows: the Procrun service (Tomcat9, ...) whose Java Options get the -javaagent option, instead of setenv.bat'
            cand --python 'Python: the app''s interpreter, or its virtualenv directory'
            cand --app-name 'Python, Node.js: whatap.conf app_name; PHP: whatap.app_name (default APHP / FPHP)'
            cand --app-process-name 'Python, Node.js: whatap.conf app_process_name (uwsgi, gunicorn, node, ...); PHP: whatap.app_process_name'
            cand --sha256 'Expected sha256 of --agent-archive (default for a URL: the `<URL>.sha256` file)'
            cand --package-repo 'The vendor''s package repository --install-package uses (a mirror)'
            cand --cacert 'An extra CA (PEM) trusted for downloads, e.g. a TLS-inspecting proxy''s or an internal mirror''s; the OS trust store (or SSL_CERT_FILE / SSL_CERT_DIR) is trusted too'
            cand --output 'Also write the JSON document (the result, or the error) to FILE, atomically'
            cand --state-dir 'Ledger, backups and lock'
            cand --lang 'Message language (default from LANG / LC_ALL)'
            cand --latest-jar 'Pick the newest whatap.agent.tracer-*.jar at each start'
            cand --break-system-packages 'Python: pip-install whatap-python even into a distribution-managed interpreter (PEP 668''s EXTERNALLY-MANAGED); a virtualenv is the better place'
            cand --pause 'PHP: comment out `extension=whatap.so` where it was installed (no license needed)'
            cand --resume 'PHP: uncomment `extension=whatap.so` again after --pause'
            cand --attach 'Also load the agent into the running JVM now (javaagent + onetime attach)'
            cand --offline 'No network: --agent-archive comes from the cache or a local path'
            cand --install-package 'PHP: install the vendor''s whatap-php package first (apt-get / yum, as the guide does; each command is shown before it runs)'
            cand --json 'One JSON document on stdout; human text goes to stderr'
            cand -y 'Assume yes; required for changes when stdin is not a TTY or CI=true'
            cand --yes 'Assume yes; required for changes when stdin is not a TTY or CI=true'
            cand --dry-run 'Build and show the plan (a unified diff of every file); change nothing'
            cand -v 'More detail'
            cand --verbose 'More detail'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-color 'No colour (also NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'whatap;uninstall'= {
            cand --runtime 'Runtime kind'
            cand --home 'The runtime''s home (CATALINA_HOME, ...)'
            cand --base 'The instance dir where it differs from home (CATALINA_BASE, ...)'
            cand --pid 'The running process; home/base are read from its command line'
            cand --php-bin 'PHP: a php, php-fpm or php-cgi binary to set up (repeatable; default: every PHP found)'
            cand --unit 'springboot, python, nodejs: the systemd unit that runs the application (a drop-in is written for it)'
            cand --start-script 'springboot, python, nodejs: the script (or supervisor program file, or pm2 ecosystem file) that starts the application'
            cand --systemd-dir 'springboot: where unit drop-ins go'
            cand --whatap-home 'Where the agent jar and whatap.conf go (default: <base>/whatap); python: the app''s WHATAP_HOME, which also picks it for uninstall and doctor; php: where the whatap-php agent goes (default /usr/whatap/php)'
            cand --server 'JEUS, WebLogic, WebSphere: a server that gets the agent (repeatable; default: the managed servers, not the admin server)'
            cand --app-dir 'nodejs: the application''s directory (where its package.json is)'
            cand --output 'Also write the JSON document (the result, or the error) to FILE, atomically'
            cand --state-dir 'Ledger, backups and lock'
            cand --lang 'Message language (default from LANG / LC_ALL)'
            cand --json 'One JSON document on stdout; human text goes to stderr'
            cand -y 'Assume yes; required for changes when stdin is not a TTY or CI=true'
            cand --yes 'Assume yes; required for changes when stdin is not a TTY or CI=true'
            cand --dry-run 'Build and show the plan (a unified diff of every file); change nothing'
            cand -v 'More detail'
            cand --verbose 'More detail'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-color 'No colour (also NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'whatap;doctor'= {
            cand --runtime 'Runtime kind'
            cand --home 'The runtime''s home (CATALINA_HOME, ...)'
            cand --base 'The instance dir where it differs from home (CATALINA_BASE, ...)'
            cand --pid 'The running process; home/base are read from its command line'
            cand --php-bin 'PHP: a php, php-fpm or php-cgi binary to set up (repeatable; default: every PHP found)'
            cand --unit 'springboot, python, nodejs: the systemd unit that runs the application (a drop-in is written for it)'
            cand --start-script 'springboot, python, nodejs: the script (or supervisor program file, or pm2 ecosystem file) that starts the application'
            cand --systemd-dir 'springboot: where unit drop-ins go'
            cand --whatap-home 'Where the agent jar and whatap.conf go (default: <base>/whatap); python: the app''s WHATAP_HOME, which also picks it for uninstall and doctor; php: where the whatap-php agent goes (default /usr/whatap/php)'
            cand --server 'JEUS, WebLogic, WebSphere: a server that gets the agent (repeatable; default: the managed servers, not the admin server)'
            cand --app-dir 'nodejs: the application''s directory (where its package.json is)'
            cand --log 'Also scan this log file (repeatable)'
            cand --only 'Run only these checks (finding ids, comma-separated or repeated; see --list-rules)'
            cand --skip 'Leave these checks out (finding ids, comma-separated or repeated)'
            cand --fail-on 'Which findings make the exit code 1'
            cand --bundle 'Also write a support archive for WhaTap support: reports, masked confs, our blocks, the ledger, log tails, JVM command lines, firewall rules, versions (no full license)'
            cand --output 'Also write the JSON document (the result, or the error) to FILE, atomically'
            cand --state-dir 'Ledger, backups and lock'
            cand --lang 'Message language (default from LANG / LC_ALL)'
            cand --no-network 'Skip collector and firewall checks'
            cand --list-rules 'Print the catalog of finding ids (what doctor checks) and exit'
            cand --full 'Scan whole logs, not only their last 8 MiB'
            cand --fix 'Turn the safe fixes into a plan: shown, confirmed (or --yes), applied, recorded'
            cand --json 'One JSON document on stdout; human text goes to stderr'
            cand -y 'Assume yes; required for changes when stdin is not a TTY or CI=true'
            cand --yes 'Assume yes; required for changes when stdin is not a TTY or CI=true'
            cand --dry-run 'Build and show the plan (a unified diff of every file); change nothing'
            cand -v 'More detail'
            cand --verbose 'More detail'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-color 'No colour (also NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'whatap;detect'= {
            cand --state-dir 'Ledger, backups and lock'
            cand --output 'Also write the JSON document (the result, or the error) to FILE, atomically'
            cand --lang 'Message language (default from LANG / LC_ALL)'
            cand -y 'Assume yes; required for changes when stdin is not a TTY or CI=true'
            cand --yes 'Assume yes; required for changes when stdin is not a TTY or CI=true'
            cand --dry-run 'Build and show the plan (a unified diff of every file); change nothing'
            cand --json 'One JSON document on stdout; human text goes to stderr'
            cand -v 'More detail'
            cand --verbose 'More detail'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-color 'No colour (also NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'whatap;report'= {
            cand --html 'Also write the summary as one self-contained HTML page'
            cand --state-dir 'Ledger, backups and lock'
            cand --output 'Also write the JSON document (the result, or the error) to FILE, atomically'
            cand --lang 'Message language (default from LANG / LC_ALL)'
            cand -y 'Assume yes; required for changes when stdin is not a TTY or CI=true'
            cand --yes 'Assume yes; required for changes when stdin is not a TTY or CI=true'
            cand --dry-run 'Build and show the plan (a unified diff of every file); change nothing'
            cand --json 'One JSON document on stdout; human text goes to stderr'
            cand -v 'More detail'
            cand --verbose 'More detail'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-color 'No colour (also NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'whatap;history'= {
            cand --output 'Also write the JSON document (the result, or the error) to FILE, atomically'
            cand --state-dir 'Ledger, backups and lock'
            cand --lang 'Message language (default from LANG / LC_ALL)'
            cand -y 'Assume yes; required for changes when stdin is not a TTY or CI=true'
            cand --yes 'Assume yes; required for changes when stdin is not a TTY or CI=true'
            cand --dry-run 'Build and show the plan (a unified diff of every file); change nothing'
            cand --json 'One JSON document on stdout; human text goes to stderr'
            cand -v 'More detail'
            cand --verbose 'More detail'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-color 'No colour (also NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'whatap;completions'= {
            cand --output 'Also write the JSON document (the result, or the error) to FILE, atomically'
            cand --state-dir 'Ledger, backups and lock'
            cand --lang 'Message language (default from LANG / LC_ALL)'
            cand --json 'One JSON document on stdout; human text goes to stderr'
            cand -y 'Assume yes; required for changes when stdin is not a TTY or CI=true'
            cand --yes 'Assume yes; required for changes when stdin is not a TTY or CI=true'
            cand --dry-run 'Build and show the plan (a unified diff of every file); change nothing'
            cand -v 'More detail'
            cand --verbose 'More detail'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-color 'No colour (also NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'whatap;man'= {
            cand --dir 'Write whatap.1 and one page per subcommand into DIR instead'
            cand --output 'Also write the JSON document (the result, or the error) to FILE, atomically'
            cand --state-dir 'Ledger, backups and lock'
            cand --lang 'Message language (default from LANG / LC_ALL)'
            cand --json 'One JSON document on stdout; human text goes to stderr'
            cand -y 'Assume yes; required for changes when stdin is not a TTY or CI=true'
            cand --yes 'Assume yes; required for changes when stdin is not a TTY or CI=true'
            cand --dry-run 'Build and show the plan (a unified diff of every file); change nothing'
            cand -v 'More detail'
            cand --verbose 'More detail'
            cand -q 'Only errors'
            cand --quiet 'Only errors'
            cand --no-color 'No colour (also NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'whatap;help'= {
            cand install 'Detect -> plan -> show -> confirm -> apply -> verify'
            cand uninstall 'Reverse what install recorded'
            cand doctor 'Diagnose; exit 1 when any error-level finding'
            cand detect 'List the runtimes found on this host'
            cand report 'Fleet summary of many `doctor --json` files: hosts x findings, what to look at first'
            cand history 'The append-only log of every change this tool applied on this host'
            cand completions 'Print a shell completion script'
            cand man 'Print the man page (roff): `whatap man | man -l -`'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'whatap;help;install'= {
        }
        &'whatap;help;uninstall'= {
        }
        &'whatap;help;doctor'= {
        }
        &'whatap;help;detect'= {
        }
        &'whatap;help;report'= {
        }
        &'whatap;help;history'= {
        }
        &'whatap;help;completions'= {
        }
        &'whatap;help;man'= {
        }
        &'whatap;help;help'= {
        }
    ]
    $completions[$command]
}
