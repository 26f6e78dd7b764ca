//! The agent every Java server gets: the tracer jar (and the rest of its distribution), the
//! `-javaagent` block in a startup file, whatap.conf beside the jar.

use crate::detect::process::Process;
use crate::edit::marker::{self, InsertAt, MarkerError};
use crate::edit::{MarkerStyle, template};
use crate::error::{Error, Result};
use crate::msg;
use crate::os::MetadataExt;
use crate::plan::target::canonical;
use crate::plan::{DirCreate, Edit, Plan, Validation, edits, target};
use crate::runtimes::instance::AgentState;
use crate::settings::InstallSettings;
use std::fs;
use std::path::{Path, PathBuf};

pub const JAR_PREFIX: &str = "whatap.agent.tracer-";

const SH_BLOCK: &str = include_str!("../../../templates/java/javaagent.sh");
const SH_LATEST_BLOCK: &str = include_str!("../../../templates/java/javaagent-latest.sh");
const BAT_BLOCK: &str = include_str!("../../../templates/java/javaagent.bat");
const BAT_LATEST_BLOCK: &str = include_str!("../../../templates/java/javaagent-latest.bat");

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

/// The newest tracer jar in `dir`, by version order (2.10 after 2.9).
pub fn newest_jar_in(dir: &Path) -> Option<PathBuf> {
    let mut jars = crate::detect::files_in(dir, is_tracer_jar_name);
    jars.sort_by_key(|p| version_key(p.file_name().and_then(|n| n.to_str()).unwrap_or("")));
    jars.pop()
}

fn version_key(name: &str) -> Vec<(u64, String)> {
    let version = name.strip_prefix(JAR_PREFIX).unwrap_or(name);
    version
        .strip_suffix(".jar")
        .unwrap_or(version)
        .split(['.', '-'])
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
            crate::msg!("jar-missing", flag = flag, path = path.display()),
            crate::msg!("jar-missing-hint"),
        )),
        Ok(()) if &magic == b"PK\x03\x04" => Ok(()),
        _ => Err(Error::usage(
            crate::msg!("jar-not-a-jar", flag = flag, path = path.display()),
            crate::msg!("jar-not-a-jar-hint"),
        )),
    }
}

/// The rest of an agent distribution (lib1/, extensions, scripts) copied into `whatap_home`
/// through the plan: every plain file except the tracer jars (the runtime copies the one it
/// uses) and whatap.conf (written key by key, so the user's keys survive).
pub fn distribution_edits(
    dist: &Path,
    whatap_home: &Path,
    roots: &[PathBuf],
    owner: (u32, u32),
) -> Result<(Vec<DirCreate>, Vec<Edit>)> {
    let mut dirs = Vec::new();
    let mut copies = Vec::new();
    let mut pending = vec![PathBuf::new()];
    let mut entries_seen = 0;
    let mut bytes = 0;
    while let Some(rel) = pending.pop() {
        let mut entries: Vec<_> = fs::read_dir(dist.join(&rel))
            .map_err(|e| Error::io(dist.join(&rel), e))?
            .flatten()
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            // The same bounds as an unpacked archive: a directory given by mistake (a home
            // or download folder) is refused instead of copied.
            entries_seen += 1;
            bytes += entry.metadata().map_or(0, |m| m.len());
            let limits = crate::agent::unpack::LIMITS;
            if entries_seen > limits.entries || bytes > limits.total_bytes {
                return Err(Error::usage(
                    crate::msg!("agent-dir-too-large", path = dist.display()),
                    crate::msg!("agent-not-archive-hint"),
                ));
            }
            let rel = rel.join(entry.file_name());
            let name = entry.file_name().to_string_lossy().into_owned();
            let top = rel.parent() == Some(Path::new(""));
            let dest = whatap_home.join(&rel);
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if !dest.exists() {
                    dirs.push(DirCreate {
                        path: dest,
                        mode: 0o755,
                        owner: Some(owner),
                    });
                }
                pending.push(rel);
            } else if kind.is_file()
                && !(top && (is_tracer_jar_name(&name) || name == "whatap.conf"))
            {
                let executable = entry.metadata().is_ok_and(|m| m.mode() & 0o111 != 0);
                let mut copy = edits::copy(&entry.path(), &dest, roots)?;
                copy.create_mode = if executable { 0o755 } else { 0o644 };
                copy.create_owner = Some(owner);
                copies.push(copy);
            }
        }
    }
    Ok((dirs, copies))
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
            crate::msg!("value-empty", flag = flag),
            crate::msg!("value-empty-hint", flag = flag),
        ));
    }
    if let Some(bad) = value.chars().find(|&c| !is_plain(c, allow_backslash)) {
        return Err(Error::usage(
            crate::msg!(
                "value-unsafe-char",
                flag = flag,
                value = format!("{value:?}"),
                bad = format!("{bad:?}")
            ),
            crate::msg!("value-unsafe-char-hint", flag = flag),
        ));
    }
    if value.contains("{{") {
        return Err(Error::usage(
            crate::msg!(
                "value-double-brace",
                flag = flag,
                value = format!("{value:?}")
            ),
            crate::msg!("value-double-brace-hint"),
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
        (MarkerStyle::Bat, false) => ("javaagent.bat", BAT_BLOCK),
        (MarkerStyle::Bat, true) => ("javaagent-latest.bat", BAT_LATEST_BLOCK),
        (_, false) => ("javaagent.sh", SH_BLOCK),
        (_, true) => ("javaagent-latest.sh", SH_LATEST_BLOCK),
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

/// The user a JVM runs as: the live process, else the owner of the first path that exists.
pub fn runtime_owner(process: Option<&Process>, candidates: &[PathBuf]) -> (u32, u32) {
    if let Some(p) = process {
        return (p.uid, p.gid);
    }
    candidates
        .iter()
        .find_map(|p| fs::metadata(p).ok())
        .map(|m| (m.uid(), m.gid()))
        .unwrap_or((0, 0))
}

/// Loaded when the JVM has our `-javaagent` or an attached tracer jar, configured when a
/// startup file has our block.
pub fn agent_state(process: Option<&Process>, scans: &[BlockScan]) -> AgentState {
    let attached = |p: &Process| !super::attach::open_tracer_jars(p.pid).is_empty();
    if process.is_some_and(|p| p.has_whatap_agent() || attached(p)) {
        AgentState::Loaded
    } else if scans.iter().any(|s| s.is_ok()) {
        AgentState::Configured
    } else {
        AgentState::None
    }
}

/// The agent files an install puts in place, validated before anything is planned.
#[derive(Debug, Clone)]
pub struct AgentSpec {
    pub whatap_home: PathBuf,
    /// The jar to copy into whatap-home.
    pub source: PathBuf,
    pub jar_name: String,
    /// The `-D` options after `-javaagent` (leading space each).
    pub options: String,
}

impl AgentSpec {
    /// Validates `--whatap-home` (default `default_home`), the jar and the `-D` options for a
    /// file written in `style`.
    pub fn resolve(
        settings: &InstallSettings,
        dist: Option<&Path>,
        default_home: &Path,
        style: MarkerStyle,
    ) -> Result<AgentSpec> {
        let whatap_home = match &settings.target.whatap_home {
            Some(dir) if dir.is_relative() => {
                return Err(Error::usage(
                    msg!("whatap-home-relative", path = dir.display()),
                    if cfg!(windows) {
                        msg!("whatap-home-relative-hint-windows")
                    } else {
                        msg!("whatap-home-relative-hint")
                    },
                ));
            }
            Some(dir) => dir.clone(),
            None => default_home.to_path_buf(),
        };
        if whatap_home.exists() && !whatap_home.is_dir() {
            return Err(Error::usage(
                msg!("whatap-home-not-dir", path = whatap_home.display()),
                msg!("whatap-home-not-dir-hint"),
            ));
        }
        check_plain("--whatap-home", &whatap_home.to_string_lossy(), style)?;
        let source = agent_jar_source(settings, dist, &whatap_home)?;
        let jar_name = source
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if settings.latest_jar && !is_tracer_jar_name(&jar_name) {
            return Err(Error::usage(
                msg!("latest-jar-bad-name", jar = jar_name),
                msg!("latest-jar-bad-name-hint"),
            ));
        }
        check_plain("--agent-jar", &jar_name, style)?;
        let options = agent_options(settings, style)?;
        Ok(AgentSpec {
            whatap_home,
            source,
            jar_name,
            options,
        })
    }

    /// The installed jar's full path as the JVM will see it.
    pub fn jar(&self) -> PathBuf {
        self.whatap_home.join(&self.jar_name)
    }

    /// Adds whatap-home (owned by the JVM's user), the jar copy, the rest of the agent
    /// distribution `dist` and whatap.conf to `plan`.
    pub fn plan_files(
        &self,
        settings: &InstallSettings,
        dist: Option<&Path>,
        roots: &[PathBuf],
        owner: (u32, u32),
        plan: &mut Plan,
    ) -> Result<()> {
        plan.dirs
            .extend(DirCreate::missing(&self.whatap_home, Some(owner)));
        let dest = self.jar();
        if canonical(&self.source) != canonical(&dest) {
            let mut copy = edits::copy(&self.source, &dest, roots)?;
            copy.create_owner = Some(owner);
            plan.edits.push(copy);
        }
        // The rest of an agent distribution (lib1/, scripts) comes along with the jar.
        if let Some(dist) = dist {
            let (dirs, copies) = distribution_edits(dist, &self.whatap_home, roots, owner)?;
            plan.dirs.extend(dirs);
            plan.edits.extend(copies);
        }
        let mut conf = edits::keys(
            &self.whatap_home.join("whatap.conf"),
            roots,
            &settings.conf_keys(),
            0o600,
        )?;
        conf.create_owner = Some(owner);
        plan.edits.push(conf);
        Ok(())
    }
}

/// The agent jar to install: --agent-jar, else the newest in --agent-archive, else the newest
/// already in whatap-home.
fn agent_jar_source(
    settings: &InstallSettings,
    dist: Option<&Path>,
    whatap_home: &Path,
) -> Result<PathBuf> {
    if let Some(jar) = &settings.agent_jar {
        check_jar("--agent-jar", jar)?;
        return Ok(jar.clone());
    }
    if let Some(archive) = dist {
        if !archive.is_dir() {
            return Err(Error::usage(
                msg!("agent-archive-not-dir", path = archive.display()),
                msg!("agent-archive-not-dir-hint"),
            ));
        }
        let jar = newest_jar_in(archive).ok_or_else(|| {
            Error::usage(
                msg!("agent-archive-no-jar", path = archive.display()),
                msg!("agent-archive-no-jar-hint"),
            )
        })?;
        check_jar("--agent-archive", &jar)?;
        return Ok(jar);
    }
    let jar = newest_jar_in(whatap_home).ok_or_else(|| {
        Error::usage(
            msg!("agent-jar-none", path = whatap_home.display()),
            msg!("agent-jar-none-hint"),
        )
    })?;
    check_jar("--whatap-home", &jar)?;
    Ok(jar)
}

/// The files a server's start reads JVM options from, in the order it reads them (start
/// script, its conf, setenv), each with how it is written.
pub type Chain = Vec<(PathBuf, MarkerStyle)>;

/// Every WHATAP block in the chain, or why one is broken.
pub fn scan_chain(chain: &[(PathBuf, MarkerStyle)]) -> Vec<BlockScan> {
    chain
        .iter()
        .flat_map(|(file, style)| scan_blocks(std::slice::from_ref(file), *style))
        .collect()
}

/// One place in a startup file that adds a WhaTap `-javaagent`: a WHATAP block (counted once,
/// whoever wrote it: ours or the guide's own), or an active line outside any block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSetting {
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    pub text: String,
    pub block: bool,
}

impl AgentSetting {
    pub fn describe(&self) -> String {
        if self.block {
            msg!("stray-block", path = self.file.display(), line = self.line)
        } else {
            format!("{}:{}: {}", self.file.display(), self.line, self.text)
        }
    }
}

/// Every `-javaagent` for WhaTap the chain sets: each is one more agent in the JVM.
pub fn agent_settings(chain: &[(PathBuf, MarkerStyle)]) -> Vec<AgentSetting> {
    let mut found = Vec::new();
    for (file, style) in chain {
        let Ok(content) = crate::plan::target::peek(file) else {
            continue;
        };
        let span = marker::find_block(&content, *style).ok().flatten();
        if let Some(span) = span {
            let inner = marker::block_inner(&content, span);
            if inner.iter().any(|l| l.contains("-javaagent")) {
                found.push(AgentSetting {
                    file: file.clone(),
                    line: span.start + 1,
                    text: String::new(),
                    block: true,
                });
            }
        }
        for (i, line) in String::from_utf8_lossy(&content).lines().enumerate() {
            let inside = span.is_some_and(|s| i >= s.start && i <= s.end);
            let lower = line.trim_start().to_ascii_lowercase();
            let comment = lower.starts_with('#')
                || lower.starts_with("rem ")
                || lower == "rem"
                || lower.starts_with("::");
            if !inside && !comment && line.contains("-javaagent:") && lower.contains("whatap") {
                found.push(AgentSetting {
                    file: file.clone(),
                    line: i + 1,
                    text: line.trim().to_string(),
                    block: false,
                });
            }
        }
    }
    found
}

/// Another `-javaagent` for WhaTap in the chain, outside the block we manage in `managed`,
/// would load the agent twice.
pub fn stray_agent_lines(chain: &[(PathBuf, MarkerStyle)], managed: &Path) -> Result<Vec<String>> {
    for scan in scan_chain(chain) {
        scan.map_err(|(file, e)| edits::broken_block(&file, &e))?;
    }
    Ok(agent_settings(chain)
        .iter()
        .filter(|s| !(s.block && s.file == managed))
        .map(AgentSetting::describe)
        .collect())
}

/// For runtimes whose options live in XML or properties (no shell, so no `--latest-jar`):
/// the validated agent, the roots edits may touch, and a plan holding the agent's files.
/// Returns the `-javaagent:... -D...` text to splice.
pub fn fixed_agent_plan(
    settings: &InstallSettings,
    dist: Option<&Path>,
    home: &Path,
    owner: (u32, u32),
) -> Result<(AgentSpec, String, Vec<PathBuf>, Plan)> {
    if settings.latest_jar {
        return Err(Error::usage(
            msg!("latest-jar-fixed-path"),
            msg!("latest-jar-fixed-path-hint"),
        ));
    }
    let spec = AgentSpec::resolve(settings, dist, &home.join("whatap"), MarkerStyle::Shell)?;
    let agent = format!("-javaagent:{}{}", spec.jar().display(), spec.options);
    let roots = target::owned_roots(&[home, &spec.whatap_home]);
    let mut plan = Plan::default();
    spec.plan_files(settings, dist, &roots, owner, &mut plan)?;
    Ok((spec, agent, roots, plan))
}

/// Where a runtime's WHATAP block goes and what it reads: everything but the block's words.
pub struct BlockInstall<'a> {
    /// The file that gets the block.
    pub script: PathBuf,
    /// Every file the runtime reads JVM options from (checked for a second agent).
    pub chain: &'a [(PathBuf, MarkerStyle)],
    pub style: MarkerStyle,
    pub at: InsertAt,
    /// The runtime's own directories: files outside them (after symlinks) are refused.
    pub dirs: &'a [&'a Path],
    /// The user the JVM runs as: owner of whatap-home and the files created in it.
    pub owner: (u32, u32),
    /// Whether `sh -n` can check the file (a shell script, not an ini or .ps1).
    pub shell: bool,
}

/// The whole install plan for a block-in-a-startup-file runtime: agent files, then the block
/// `render` builds from the validated agent spec.
pub fn plan_block_install(
    install: &BlockInstall<'_>,
    spec: &AgentSpec,
    settings: &InstallSettings,
    dist: Option<&Path>,
    render: impl FnOnce(&AgentSpec) -> Result<Vec<String>>,
) -> Result<Plan> {
    let stray = stray_agent_lines(install.chain, &install.script)?;
    if !stray.is_empty() {
        return Err(Error::refused(
            msg!("agent-set-elsewhere", places = stray.join("; ")),
            msg!("agent-set-elsewhere-hint"),
        ));
    }
    let mut dirs = install.dirs.to_vec();
    dirs.push(&spec.whatap_home);
    let roots = target::owned_roots(&dirs);
    let mut plan = Plan::default();
    spec.plan_files(settings, dist, &roots, install.owner, &mut plan)?;
    if let Some(parent) = install.script.parent() {
        plan.dirs.extend(DirCreate::missing(parent, None));
    }
    let inner = render(spec)?;
    for path in [&install.script, &spec.whatap_home] {
        if let Some(dir) = path.ancestors().find(|d| d.is_dir()) {
            target::check_dir_writable(dir)?;
        }
    }
    let mut block = edits::block(&install.script, &roots, install.style, &inner, install.at)?;
    if !install.shell {
        block.validation = Validation::None;
        block.create_mode = 0o644;
    }
    plan.edits.push(block);
    Ok(plan)
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

    /// The `--latest-jar` shell block, run by `sh` (dash on Debian) over several jar sets:
    /// the newest version wins, not the last name in byte order.
    #[test]
    fn latest_jar_block_picks_the_newest_version_under_sh() {
        for (jars, newest) in [
            (&["2.2.9", "2.2.33", "2.2.10"][..], "2.2.33"),
            (&["2.10.1", "2.9.99", "2.2.33"][..], "2.10.1"),
            (&["2.2.4", "2.2.33", "2.2.100"][..], "2.2.100"),
            (&["3.0.0", "2.99.999"][..], "3.0.0"),
            (&["2.2.33"][..], "2.2.33"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            for v in jars {
                fs::write(dir.path().join(format!("{JAR_PREFIX}{v}.jar")), b"PK").unwrap();
            }
            let lines = agent_block(
                MarkerStyle::Shell,
                "JAVA_OPTS",
                dir.path(),
                "x.jar",
                true,
                " -Dwhatap.port=1",
            )
            .unwrap();
            let script = format!(
                "JAVA_OPTS=-Xmx1g\n{}\nprintf %s \"$JAVA_OPTS\"\n",
                lines.join("\n")
            );
            let out = std::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(&script)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                format!(
                    "-Xmx1g -javaagent:{}/{JAR_PREFIX}{newest}.jar -Dwhatap.port=1 ",
                    dir.path().display()
                ),
                "{jars:?}"
            );
            let by_rust = newest_jar_in(dir.path()).unwrap();
            assert!(
                by_rust.ends_with(format!("{JAR_PREFIX}{newest}.jar")),
                "{jars:?}"
            );
        }
    }

    /// The `.bat` form, golden: cmd.exe has no version sort, so each X.Y.Z becomes
    /// X*1000000+Y*1000+Z and the highest wins (run under wine by the Windows issue).
    #[test]
    fn latest_jar_block_bat_form() {
        let lines = agent_block(
            MarkerStyle::Bat,
            "JAVA_OPTS",
            Path::new("C:\\whatap"),
            "x.jar",
            true,
            "",
        )
        .unwrap();
        assert_eq!(
            lines[6],
            "for /f \"delims=\" %%f in ('dir /b \"%WHATAP_HOME%\\whatap.agent.tracer-*.jar\" 2^>nul') do call :whatap_newer \"%%f\""
        );
        assert_eq!(
            lines[10],
            "for /f \"tokens=4-6 delims=.-\" %%a in (\"%~1\") do set /a WHATAP_KEY=%%a*1000000+%%b*1000+%%c 2>nul"
        );
        assert_eq!(lines[1], "set WHATAP_HOME=C:\\whatap");
        assert_eq!(
            lines[18],
            "  set JAVA_OPTS=%JAVA_OPTS% -javaagent:%WHATAP_HOME%\\%WHATAP_JAR%"
        );
        assert!(
            !lines.iter().any(|l| l.contains("/on")),
            "name order is gone"
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
}
