//! What every Java runtime shares: the agent jar, the `-javaagent` block, whatap.conf.

use crate::edit::marker::{self, MarkerError};
use crate::edit::{MarkerStyle, template};
use crate::error::{Error, Result};
use crate::settings::InstallSettings;
use std::fs;
use std::path::{Path, PathBuf};

pub const JAR_PREFIX: &str = "whatap.agent.tracer-";

const SH_BLOCK: &str = include_str!("../../templates/java/javaagent.sh");
const SH_LATEST_BLOCK: &str = include_str!("../../templates/java/javaagent-latest.sh");
const BAT_BLOCK: &str = include_str!("../../templates/java/javaagent.bat");
const BAT_LATEST_BLOCK: &str = include_str!("../../templates/java/javaagent-latest.bat");

/// A WHATAP block found in one of a runtime's startup files.
#[derive(Debug, Clone)]
pub struct FoundBlock {
    pub file: PathBuf,
    /// 1-based line of the opening marker.
    pub line: usize,
    pub inner: Vec<String>,
}

pub type BlockScan = std::result::Result<FoundBlock, (PathBuf, MarkerError)>;

/// Reads each existing file and reports its WHATAP block, if any.
pub fn scan_blocks(files: &[PathBuf], style: MarkerStyle) -> Vec<BlockScan> {
    let mut found = Vec::new();
    for file in files {
        let Ok(content) = crate::plan::target::peek(file) else {
            continue;
        };
        match marker::find_block(&content, style) {
            Ok(Some(span)) => found.push(Ok(FoundBlock {
                file: file.clone(),
                line: span.start + 1,
                inner: marker::block_inner(&content, span),
            })),
            Ok(None) => {}
            Err(e) => found.push(Err((file.clone(), e))),
        }
    }
    found
}

/// Is `name` a vendor tracer jar name (`whatap.agent.tracer-X.Y.Z.jar`)?
pub fn is_tracer_jar_name(name: &str) -> bool {
    name.starts_with(JAR_PREFIX) && name.ends_with(".jar")
}

/// Does a `-javaagent:` value point at a WhaTap tracer?
pub fn is_whatap_agent(value: &str) -> bool {
    let path = value.split('=').next().unwrap_or(value);
    Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.to_ascii_lowercase().contains("whatap"))
}

/// The newest tracer jar in `dir`, by version order (2.10 after 2.9).
pub fn newest_jar_in(dir: &Path) -> Option<PathBuf> {
    let mut jars: Vec<PathBuf> = fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_tracer_jar_name)
        })
        .collect();
    jars.sort_by_key(|p| version_key(p.file_name().and_then(|n| n.to_str()).unwrap_or("")));
    jars.pop()
}

fn version_key(name: &str) -> Vec<(u64, String)> {
    name.split(['.', '-'])
        .map(|part| match part.parse::<u64>() {
            Ok(n) => (n, String::new()),
            Err(_) => (0, part.to_string()),
        })
        .collect()
}

/// Checks that `path` is a readable jar (zip) file; the error names `flag`.
pub fn check_jar(flag: &str, path: &Path) -> Result<()> {
    let mut magic = [0u8; 4];
    // Only a regular file is opened: opening a FIFO would block.
    let read = match fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(std::io::Error::other("not a regular file")),
        _ => fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic)),
    };
    match read {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::usage(
            format!("{flag} {}: no such file", path.display()),
            "pass the path of whatap.agent.tracer-X.Y.Z.jar from the agent archive",
        )),
        Ok(()) if &magic == b"PK\x03\x04" => Ok(()),
        _ => Err(Error::usage(
            format!("{flag} {}: not a jar file", path.display()),
            "pass the whatap.agent.tracer-X.Y.Z.jar file itself, not an archive or directory",
        )),
    }
}

/// Characters that survive being pasted into a shell double-quoted string, a `.bat` `set`,
/// and the eval in catalina.sh, unchanged. Anything else is refused, never escaped.
fn is_plain(c: char, allow_backslash: bool) -> bool {
    c.is_alphanumeric()
        || matches!(
            c,
            '_' | '.' | '/' | '-' | '+' | ',' | ':' | '@' | '=' | '{' | '}'
        )
        || (allow_backslash && c == '\\')
}

pub fn check_plain(flag: &str, value: &str, style: MarkerStyle) -> Result<()> {
    let allow_backslash = style == MarkerStyle::Bat;
    if value.is_empty() {
        return Err(Error::usage(
            format!("{flag}: empty value"),
            format!("give {flag} a value"),
        ));
    }
    if let Some(bad) = value.chars().find(|&c| !is_plain(c, allow_backslash)) {
        return Err(Error::usage(
            format!(
                "{flag} {value:?}: the character {bad:?} cannot be written safely into a startup script"
            ),
            format!("use a value of letters, digits and . / - _ + , : @ = {{ }} for {flag}"),
        ));
    }
    if value.contains("{{") {
        return Err(Error::usage(
            format!("{flag} {value:?}: `{{{{` is not allowed"),
            "remove the doubled braces",
        ));
    }
    Ok(())
}

/// The `-D` options that follow `-javaagent`, from `--port`, `--name`, `--oname`.
pub fn agent_options(settings: &InstallSettings, style: MarkerStyle) -> Result<String> {
    let mut options = String::new();
    if let Some(port) = settings.port {
        options.push_str(&format!(" -Dwhatap.port={port}"));
    }
    if let Some(name) = &settings.name {
        check_plain("--name", name, style)?;
        options.push_str(&format!(" -Dwhatap.name={name}"));
    }
    if let Some(oname) = &settings.oname {
        check_plain("--oname", oname, style)?;
        options.push_str(&format!(" -Dwhatap.oname={oname}"));
    }
    Ok(options)
}

/// The lines between the markers for a `-javaagent` option appended to `var`.
pub fn agent_block(
    style: MarkerStyle,
    var: &str,
    whatap_home: &Path,
    jar_name: &str,
    latest: bool,
    options: &str,
) -> Result<Vec<String>> {
    let home = whatap_home.to_string_lossy();
    // A Windows path (C:\whatap) joins with `\`; a Unix one keeps `/` even in a .bat.
    let separator = if style == MarkerStyle::Bat && home.contains('\\') {
        "\\"
    } else {
        "/"
    };
    let jar = format!("{}{separator}{jar_name}", home.trim_end_matches(separator));
    let (name, text) = match (style, latest) {
        (MarkerStyle::Shell, false) => ("javaagent.sh", SH_BLOCK),
        (MarkerStyle::Shell, true) => ("javaagent-latest.sh", SH_LATEST_BLOCK),
        (MarkerStyle::Bat, false) => ("javaagent.bat", BAT_BLOCK),
        (MarkerStyle::Bat, true) => ("javaagent-latest.bat", BAT_LATEST_BLOCK),
    };
    template::render(
        name,
        text,
        &[
            ("var", var),
            ("jar", &jar),
            ("whatap_home", &home),
            ("options", options),
        ],
    )
}

/// The `-javaagent:` path a block refers to, when it names one directly.
pub fn jar_in_block(lines: &[String]) -> Option<String> {
    let home = lines
        .iter()
        .find_map(|l| {
            l.trim()
                .strip_prefix("WHATAP_HOME=")
                .or_else(|| l.trim().strip_prefix("set WHATAP_HOME="))
        })
        .map(str::to_string);
    lines.iter().find_map(|line| {
        let start = line.find("-javaagent:")? + "-javaagent:".len();
        let rest = &line[start..];
        let end = rest.find([' ', '"']).unwrap_or(rest.len());
        let value = &rest[..end];
        if value.contains("WHATAP_JAR") {
            let home = home.as_ref()?;
            return Some(format!("{home}/{JAR_PREFIX}*.jar"));
        }
        Some(value.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_jar_uses_version_order() {
        let dir = tempfile::tempdir().unwrap();
        for v in ["2.2.9", "2.2.10", "2.1.30"] {
            fs::write(
                dir.path().join(format!("whatap.agent.tracer-{v}.jar")),
                b"PK\x03\x04",
            )
            .unwrap();
        }
        fs::write(dir.path().join("other.jar"), b"").unwrap();
        let newest = newest_jar_in(dir.path()).unwrap();
        assert!(newest.ends_with("whatap.agent.tracer-2.2.10.jar"));
    }

    #[test]
    fn block_names_the_jar() {
        let lines = agent_block(
            MarkerStyle::Shell,
            "JAVA_OPTS",
            Path::new("/w/"),
            "whatap.agent.tracer-1.jar",
            false,
            " -Dwhatap.port=8080",
        )
        .unwrap();
        assert_eq!(
            lines[1],
            "JAVA_OPTS=\"${JAVA_OPTS} -javaagent:/w/whatap.agent.tracer-1.jar -Dwhatap.port=8080 \""
        );
        assert_eq!(
            jar_in_block(&lines).as_deref(),
            Some("/w/whatap.agent.tracer-1.jar")
        );
        let latest = agent_block(
            MarkerStyle::Shell,
            "JAVA_OPTS",
            Path::new("/w"),
            "x.jar",
            true,
            "",
        )
        .unwrap();
        assert_eq!(
            jar_in_block(&latest).as_deref(),
            Some("/w/whatap.agent.tracer-*.jar")
        );
    }

    #[test]
    fn refuses_shell_metacharacters() {
        for bad in ["a b", "a\"b", "$(id)", "`id`", "a;b", "a\nb", "a%b", "a'b"] {
            assert!(
                check_plain("--name", bad, MarkerStyle::Shell).is_err(),
                "{bad:?}"
            );
        }
        assert!(check_plain("--name", "{type}-{ip2}-{port}", MarkerStyle::Shell).is_ok());
        assert!(check_plain("--whatap-home", "C:\\whatap", MarkerStyle::Bat).is_ok());
        assert!(check_plain("--whatap-home", "C:\\whatap", MarkerStyle::Shell).is_err());
    }

    #[test]
    fn recognises_whatap_agents() {
        assert!(is_whatap_agent("/opt/whatap/whatap.agent.tracer-2.2.0.jar"));
        assert!(is_whatap_agent(
            "/opt/whatap/whatap.agent.tracer-2.2.0.jar=opts"
        ));
        assert!(!is_whatap_agent("/opt/other/jolokia.jar"));
    }
}
