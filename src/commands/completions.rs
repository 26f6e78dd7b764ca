//! Generated documentation: shell completions (clap_complete) and man pages (clap_mangen),
//! each page with the EXAMPLES of its `--help` and the ENVIRONMENT, FILES and EXIT STATUS
//! every command shares.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

pub fn run(shell: clap_complete::Shell) -> u8 {
    clap_complete::generate(
        shell,
        &mut crate::cli::command(),
        "whatap",
        &mut std::io::stdout(),
    );
    0
}

/// The top page on stdout, or every page (whatap.1, whatap-install.1, ...) into `dir`.
pub fn man(dir: Option<&Path>) -> Result<u8> {
    // The pages are committed and shipped for every target: they name the version only.
    let mut command = crate::cli::command()
        .disable_help_subcommand(true)
        .long_version(None::<&str>);
    // Built, so each subcommand's page is named and titled `whatap-<name>`.
    command.build();
    match dir {
        Some(dir) => {
            let mut pages = vec![command.clone()];
            pages.extend(
                command
                    .get_subcommands()
                    .filter(|s| !s.is_hide_set())
                    .cloned(),
            );
            for page in pages {
                let man = clap_mangen::Man::new(page.clone());
                let path = dir.join(man.get_filename());
                let mut file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
                render(page, &mut file).map_err(|e| Error::io(&path, e))?;
            }
        }
        None => render(command, &mut std::io::stdout()).map_err(|e| Error::io("stdout", e))?,
    }
    Ok(0)
}

/// One page: clap_mangen's sections with the `--help` examples as EXAMPLES (not its untitled
/// EXTRA), then ENVIRONMENT, FILES and EXIT STATUS.
fn render(command: clap::Command, out: &mut dyn Write) -> std::io::Result<()> {
    let examples = command.get_after_help().map(|h| h.to_string());
    let command = command.after_help(None::<&str>);
    clap_mangen::Man::new(command).render(out)?;
    if let Some(examples) = examples {
        writeln!(out, ".SH EXAMPLES\n.nf")?;
        for line in examples.lines().skip_while(|l| l.ends_with(':')) {
            writeln!(out, "{}", roff_line(line))?;
        }
        writeln!(out, ".fi")?;
    }
    out.write_all(SHARED_SECTIONS.as_bytes())
}

/// A line of text as roff shows it as typed: backslashes and minus signs escaped, a leading
/// `.` or `\'` not taken for a request.
fn roff_line(line: &str) -> String {
    let text = line.replace('\\', "\\e").replace('-', "\\-");
    match text.starts_with('.') || text.starts_with('\'') {
        true => format!("\\&{text}"),
        false => text,
    }
}

const SHARED_SECTIONS: &str = r#".SH ENVIRONMENT
.TP
\fBWHATAP_LICENSE\fR, \fBWHATAP_HOST\fR, \fBWHATAP_\fR\fIFLAG\fR
every install flag, e.g. WHATAP_AGENT_JAR for \-\-agent\-jar; a flag wins over its variable, a variable over the \-\-config answers file
.TP
\fBWHATAP_STATE_DIR\fR
the state directory (default /var/lib/whatap)
.TP
\fBWHATAP_LANG\fR, \fBLANG\fR, \fBLC_ALL\fR
the language (en, ko); a Korean EUC\-KR or CP949 locale gets its codeset
.TP
\fBNO_COLOR\fR, \fBCLICOLOR_FORCE\fR, \fBCLICOLOR\fR, \fBTERM\fR
colour: NO_COLOR or TERM=dumb none, CLICOLOR_FORCE always; decided per stream
.TP
\fBHTTPS_PROXY\fR, \fBHTTP_PROXY\fR, \fBALL_PROXY\fR, \fBNO_PROXY\fR
proxies for \-\-agent\-archive downloads
.TP
\fBSSL_CERT_FILE\fR, \fBSSL_CERT_DIR\fR
replace the OS trust store for downloads (\-\-cacert adds a CA)
.TP
\fBCI\fR
CI=true: never ask; changes need \-\-yes
.SH FILES
.TP
\fI/var/lib/whatap/ledger.json\fR
what each install changed, for uninstall
.TP
\fI/var/lib/whatap/backups/\fR
the original bytes of every file an install modified
.TP
\fI/var/lib/whatap/history.jsonl\fR
every change applied on this host (whatap history)
.TP
\fI/var/lib/whatap/cache/agents/\fR
downloaded and unpacked agent archives
.TP
\fI/var/lib/whatap/lock\fR
one whatap at a time per state directory
.SH "EXIT STATUS"
.TP
\fB0\fR
success; doctor found no error
.TP
\fB1\fR
doctor found a finding at or above \-\-fail\-on (default: an error)
.TP
\fB2\fR
bad usage or bad input; nothing changed
.TP
\fB3\fR
refused for safety (a file changed since install, a lock held, a confirmation needed); nothing changed
.TP
\fB4\fR
apply failed and was rolled back
.TP
\fB5\fR
internal error
.TP
\fB130\fR
interrupted at a question (Ctrl\-C); nothing changed
"#;
