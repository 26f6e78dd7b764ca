//! Log scanning: every catalog log pattern in one streaming pass per file, the way ripgrep
//! searches: one multi-literal search over a large block, line boundaries found only around a
//! hit, no per-line work for lines that cannot match. Each pattern names a literal every match
//! contains; the block is case-folded into a second buffer so the literals can be searched
//! case-blind by a SIMD searcher (Teddy) over bytes; only a line holding a literal meets the
//! regexes. Memory stays constant (one block, its folded copy and one partial line).

use super::Fact;
use super::catalog::{self, Rule};
use aho_corasick::{AhoCorasick, Input, MatchKind};
use memchr::memmem;
use regex::Regex;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const CHUNK: usize = 1 << 20;
/// A line longer than this is cut: a log line of megabytes is not a message worth reading.
const MAX_LINE: usize = 4 << 20;
/// What "recent" means without `--full`: the last bytes of each log.
pub const DEFAULT_TAIL: u64 = 8 << 20;
const EVIDENCE_CHARS: usize = 300;

struct Pattern {
    rule: &'static Rule,
    /// The literal, ASCII lower case: a line that lacks it cannot match.
    literal: memmem::Finder<'static>,
    regex: Regex,
}

struct Matcher {
    /// The literals, lower case, in a case-sensitive automaton: leftmost-first lets it use its
    /// packed SIMD searcher, which a case-insensitive automaton cannot.
    literals: AhoCorasick,
    /// Catalog order: when two patterns of one rule match a line, the first one's captures
    /// are the evidence.
    patterns: Vec<Pattern>,
}

fn matcher() -> &'static Matcher {
    static MATCHER: OnceLock<Matcher> = OnceLock::new();
    MATCHER.get_or_init(|| {
        let mut literals: Vec<String> = Vec::new();
        let mut patterns = Vec::new();
        for rule in catalog::rules() {
            for log in &rule.log {
                let literal = log.literal.to_ascii_lowercase();
                patterns.push(Pattern {
                    rule,
                    literal: memmem::Finder::new(literal.as_bytes()).into_owned(),
                    regex: Regex::new(&log.regex).expect("catalog regexes compile (unit test)"),
                });
                let key = prefilter_key(&literal).to_string();
                if !literals.contains(&key) {
                    literals.push(key);
                }
            }
        }
        Matcher {
            literals: AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostFirst)
                .build(&literals)
                .expect("literals build an automaton"),
            patterns,
        }
    })
}

/// The part of a literal the block search looks for. Agents' own chatter is full of
/// `whatap` (`[WhaTap] whatap.agent.trace: ...`), so a literal that starts with it is searched
/// by what follows; the line is then checked for the whole literal.
fn prefilter_key(literal: &str) -> &str {
    match literal.strip_prefix("whatap") {
        Some(rest) if rest.len() > 5 => rest,
        _ => literal,
    }
}

/// `src` in ASCII lower case into `dst` (a loop the compiler vectorizes; the prefilter is
/// case-blind, a pattern that cares about case says so in its regex).
fn fold_into(src: &[u8], dst: &mut Vec<u8>) {
    dst.clear();
    dst.extend(
        src.iter()
            .map(|&b| b | (u8::from(b.wrapping_sub(b'A') < 26) << 5)),
    );
}

/// The first line that matched a rule in one file (one per distinct capture: each denied
/// permission), and how many lines matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogHit {
    pub rule: &'static str,
    pub file: PathBuf,
    /// 1-based, when known (the whole file was read from the start).
    pub line: Option<u64>,
    pub text: String,
    pub count: u64,
    /// Named captures of the first match (e.g. the denied permission).
    pub captures: BTreeMap<String, String>,
}

impl LogHit {
    pub fn evidence(&self) -> String {
        let place = match self.line {
            Some(line) => format!("{}:{line}", self.file.display()),
            None => format!("{} (recent part)", self.file.display()),
        };
        let times = if self.count > 1 {
            format!(" ({} lines)", self.count)
        } else {
            String::new()
        };
        format!("{place}: {}{times}", self.text)
    }
}

/// Scans one file; `tail` limits it to its last bytes (None: the whole file).
pub fn scan_file(path: &Path, tail: Option<u64>) -> std::io::Result<Vec<LogHit>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let start = tail.map_or(0, |t| len.saturating_sub(t));
    let mut skip_partial = start > 0;
    if start > 0 {
        file.seek(SeekFrom::Start(start))?;
    }
    let matcher = matcher();
    let mut hits: BTreeMap<(&'static str, String), LogHit> = BTreeMap::new();
    let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK * 2);
    let mut folded: Vec<u8> = Vec::with_capacity(CHUNK * 2);
    let mut line_no: u64 = 0;
    let count_lines = start == 0;
    loop {
        // Into the spare capacity: no zeroing of a block about to be overwritten.
        let read = (&mut file).take(CHUNK as u64).read_to_end(&mut buffer)?;
        let eof = read == 0;
        if skip_partial {
            // Starting mid-file: the first (partial) line is not a whole message.
            match memchr::memchr(b'\n', &buffer) {
                Some(i) => {
                    buffer.drain(..=i);
                    skip_partial = false;
                }
                None if eof => break,
                None => {
                    buffer.clear();
                    continue;
                }
            }
        }
        let complete = if eof {
            buffer.len()
        } else {
            match memchr::memrchr(b'\n', &buffer) {
                Some(i) => i + 1,
                None if buffer.len() > MAX_LINE => buffer.len(),
                None => continue,
            }
        };
        scan_chunk(
            &buffer[..complete],
            &mut folded,
            matcher,
            path,
            count_lines,
            &mut line_no,
            &mut hits,
        );
        buffer.drain(..complete);
        if eof {
            break;
        }
    }
    Ok(hits.into_values().collect())
}

/// Scans whole lines (`chunk` starts at a line start); `folded` is scratch space.
fn scan_chunk(
    chunk: &[u8],
    folded: &mut Vec<u8>,
    matcher: &Matcher,
    path: &Path,
    count_lines: bool,
    line_no: &mut u64,
    hits: &mut BTreeMap<(&'static str, String), LogHit>,
) {
    fold_into(chunk, folded);
    // `at` is always a line start: the search resumes after the line a hit was in.
    let mut at = 0usize;
    while at < folded.len() {
        let Some(found) = matcher
            .literals
            .find(Input::new(&folded[..]).span(at..folded.len()))
        else {
            break;
        };
        let line_start =
            memchr::memrchr(b'\n', &folded[at..found.start()]).map_or(at, |i| at + i + 1);
        let line_end =
            memchr::memchr(b'\n', &folded[found.end()..]).map_or(folded.len(), |i| found.end() + i);
        if count_lines {
            *line_no += memchr::memchr_iter(b'\n', &folded[at..line_start]).count() as u64;
        }
        scan_line(
            &chunk[line_start..line_end],
            &folded[line_start..line_end],
            matcher,
            path,
            count_lines.then_some(*line_no + 1),
            hits,
        );
        if line_end < folded.len() {
            *line_no += 1;
        }
        at = line_end + 1;
    }
    if count_lines && at < folded.len() {
        *line_no += memchr::memchr_iter(b'\n', &folded[at..]).count() as u64;
    }
}

/// One line that holds at least one literal: every pattern whose literal it holds meets its
/// regex; a rule counts once per line.
fn scan_line(
    raw: &[u8],
    folded: &[u8],
    matcher: &Matcher,
    path: &Path,
    line: Option<u64>,
    hits: &mut BTreeMap<(&'static str, String), LogHit>,
) {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim_end_matches('\r');
    let mut seen: Vec<&str> = Vec::new();
    for pattern in &matcher.patterns {
        let rule = pattern.rule.id.as_str();
        if seen.contains(&rule) || pattern.literal.find(folded).is_none() {
            continue;
        }
        let Some(caps) = pattern.regex.captures(text) else {
            continue;
        };
        seen.push(rule);
        let captures: BTreeMap<String, String> = pattern
            .regex
            .capture_names()
            .flatten()
            .filter_map(|name| Some((name.to_string(), caps.name(name)?.as_str().to_string())))
            .collect();
        // One hit per rule, or per distinct capture (each denied permission is a fix).
        let distinct: Vec<&str> = captures.values().map(String::as_str).collect();
        let entry = hits
            .entry((rule, distinct.join("\0")))
            .or_insert_with(|| LogHit {
                rule,
                file: path.to_path_buf(),
                line,
                text: text.trim().chars().take(EVIDENCE_CHARS).collect(),
                count: 0,
                captures,
            });
        entry.count += 1;
    }
}

/// Scans every `(target, file)` in parallel and turns hits into facts; unreadable files are
/// skipped (doctor reports what it can see), a file listed twice is read once.
pub fn facts(files: &[(String, PathBuf)], tail: Option<u64>) -> Vec<Fact> {
    let mut unique: Vec<&(String, PathBuf)> = Vec::new();
    for entry in files {
        if !unique.iter().any(|u| u.1 == entry.1) {
            unique.push(entry);
        }
    }
    // Newest first within a directory (the runtimes list them so): the `tail` budget of each
    // (target, directory) goes to the newest files; older ones are read only with --full.
    let mut spent: Vec<((&str, Option<&Path>), u64)> = Vec::new();
    let planned: Vec<(&String, &PathBuf, Option<u64>)> = unique
        .iter()
        .filter_map(|(target, file)| {
            let Some(tail) = tail else {
                return Some((target, file, None));
            };
            let key = (target.as_str(), file.parent());
            let used = match spent.iter_mut().find(|(k, _)| *k == key) {
                Some((_, used)) => used,
                None => {
                    spent.push((key, 0));
                    &mut spent.last_mut().expect("just pushed").1
                }
            };
            let left = tail.saturating_sub(*used);
            if left == 0 {
                return None;
            }
            let size = std::fs::metadata(file).map_or(0, |m| m.len());
            *used += size.min(left);
            Some((target, file, Some(left)))
        })
        .collect();
    let scanned: Vec<(&String, Vec<LogHit>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = planned
            .into_iter()
            .map(|(target, file, tail)| (target, scope.spawn(move || scan_file(file, tail))))
            .collect();
        handles
            .into_iter()
            .filter_map(|(target, h)| Some((target, h.join().ok()?.ok()?)))
            .collect()
    });
    scanned
        .into_iter()
        .flat_map(|(target, hits)| hits.into_iter().map(move |hit| fact(target, hit)))
        .collect()
}

fn fact(target: &str, hit: LogHit) -> Fact {
    let mut fact = Fact::new(hit.rule, target, hit.evidence());
    fact.details.extend(hit.captures.clone());
    if let Some(permission) = hit.captures.get("permission") {
        fact.details
            .insert("line".into(), policy_line(permission, &hit.captures));
    }
    fact
}

/// The java.policy line that grants exactly what was denied.
fn policy_line(permission: &str, captures: &BTreeMap<String, String>) -> String {
    if permission == "java.security.AllPermission" {
        return "permission java.security.AllPermission;".into();
    }
    let target = captures
        .get("target")
        .map(String::as_str)
        .unwrap_or_default();
    match captures.get("action") {
        Some(action) => format!("permission {permission} \"{target}\", \"{action}\";"),
        None => format!("permission {permission} \"{target}\";"),
    }
}

/// Log files newest first (by modification time): the recent ones are read first, and the
/// log engine's tail budget is spent on them.
pub fn newest_first(mut logs: Vec<PathBuf>) -> Vec<PathBuf> {
    logs.sort_by_key(|l| {
        std::cmp::Reverse(
            std::fs::metadata(l)
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH),
        )
    });
    logs.dedup();
    logs
}

/// The files whose name `keep` accepts in each of `dirs` (`dir/*` patterns: a `*` directory
/// component stands for every subdirectory, as in `servers/*/logs`).
pub fn logs_in(dirs: &[PathBuf], keep: impl Fn(&str) -> bool + Copy) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in dirs {
        found.extend(
            expand(dir)
                .iter()
                .flat_map(|d| crate::detect::files_in(d, keep)),
        );
    }
    found
}

/// `a/*/b` as every existing `a/X/b`.
fn expand(pattern: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::new()];
    for part in pattern.components() {
        if part.as_os_str() == "*" {
            dirs = dirs
                .iter()
                .flat_map(|d| {
                    let mut subs: Vec<PathBuf> = std::fs::read_dir(d)
                        .map(|e| {
                            e.flatten()
                                .map(|e| e.path())
                                .filter(|p| p.is_dir())
                                .collect()
                        })
                        .unwrap_or_default();
                    subs.sort();
                    subs
                })
                .collect();
        } else {
            for d in &mut dirs {
                d.push(part);
            }
        }
    }
    dirs
}

/// The newest `whatap-boot-YYYYMMDD.log` in `dir` (the native agents start one a day; the
/// name sorts by date).
pub fn newest_boot_log(dir: &Path) -> Option<PathBuf> {
    newest_dated_log(dir, "whatap-boot-")
}

/// The newest `<prefix>YYYYMMDD.log` in `dir`.
pub fn newest_dated_log(dir: &Path, prefix: &str) -> Option<PathBuf> {
    crate::detect::files_in(dir, |n| n.starts_with(prefix) && n.ends_with(".log")).pop()
}

/// Each line, alone in a log, matches exactly the rule given (or none).
#[cfg(test)]
pub fn assert_rules_of_lines(cases: &[(&str, Option<&str>)]) {
    use std::io::Write;
    for (line, rule) in cases {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "{line}").unwrap();
        let hits = scan_file(file.path(), None).unwrap();
        let found: Vec<&str> = hits.iter().map(|h| h.rule).collect();
        assert_eq!(found, rule.iter().copied().collect::<Vec<_>>(), "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// What the engine means, spelled plainly: every line, every pattern whose literal the
    /// line holds (ASCII case aside), its regex; a rule counts once per line. The fast engine
    /// must agree with it on every input.
    fn reference(bytes: &[u8], path: &Path, tail: Option<u64>) -> Vec<LogHit> {
        let start = tail.map_or(0, |t| (bytes.len() as u64).saturating_sub(t)) as usize;
        let mut text = &bytes[start..];
        if start > 0 {
            text = match memchr::memchr(b'\n', text) {
                Some(i) => &text[i + 1..],
                None => &[],
            };
        }
        static PATTERNS: OnceLock<Vec<(&'static Rule, String, Regex)>> = OnceLock::new();
        let patterns = PATTERNS.get_or_init(|| {
            catalog::rules()
                .iter()
                .flat_map(|r| r.log.iter().map(move |l| (r, l)))
                .map(|(r, l)| {
                    (
                        r,
                        l.literal.to_ascii_lowercase(),
                        Regex::new(&l.regex).unwrap(),
                    )
                })
                .collect()
        });
        let mut hits: BTreeMap<(&'static str, String), LogHit> = BTreeMap::new();
        for (index, raw) in text.split(|b| *b == b'\n').enumerate() {
            let line = String::from_utf8_lossy(raw);
            let line = line.trim_end_matches('\r');
            let folded = line.to_ascii_lowercase();
            let mut seen: Vec<&str> = Vec::new();
            for (rule, literal, regex) in patterns {
                if seen.contains(&rule.id.as_str()) || !folded.contains(literal.as_str()) {
                    continue;
                }
                let Some(caps) = regex.captures(line) else {
                    continue;
                };
                seen.push(rule.id.as_str());
                let captures: BTreeMap<String, String> = regex
                    .capture_names()
                    .flatten()
                    .filter_map(|n| Some((n.to_string(), caps.name(n)?.as_str().into())))
                    .collect();
                let key = captures.values().cloned().collect::<Vec<_>>().join("\0");
                let entry = hits
                    .entry((rule.id.as_str(), key))
                    .or_insert_with(|| LogHit {
                        rule: rule.id.as_str(),
                        file: path.to_path_buf(),
                        line: (start == 0).then_some(index as u64 + 1),
                        text: line.trim().chars().take(EVIDENCE_CHARS).collect(),
                        count: 0,
                        captures,
                    });
                entry.count += 1;
            }
        }
        hits.into_values().collect()
    }

    /// Log noise as servers write it (words that share the literals' first letters, stack
    /// traces, the agent's own chatter), the catalog's examples as written, in other case,
    /// cut short, two on one line, behind CRLF and invalid UTF-8.
    fn generated_log(seed: u64, lines: usize) -> Vec<u8> {
        let mut rng = fastrand::Rng::with_seed(seed);
        let noise: &[&[u8]] = &[
            b"2026-11-27 10:00:00.123 INFO  [http-nio-8080-exec-7] o.a.c.c.StandardWrapperValve request served in 12 ms",
            b"\tat org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:197)",
            b"\tat sun.reflect.NativeMethodAccessorImpl.invoke0(Native Method)",
            b"27-Nov-2026 10:00:01.001 INFO [main] org.apache.catalina.startup.Catalina.start Server startup in [812] milliseconds",
            b"2026/11/27 10:00:02 [WhaTap] whatap.agent.trace: connected to whatap.server.host 10.0.0.1:6600",
            b"[2026-11-27 10:00:03] : WHATAP_AGENT - heartbeat ok",
            b"WARNING: An illegal reflective access operation has occurred (Permission check)",
            b"ERROR LogManager: configuration reloaded; License check ok; access granted",
            b"",
            b"\xff\xfe\x00 binary junk \xc3\x28 between lines",
            b"[pool www] child 4242 said into stderr: \"PHP Warning:  Undefined variable $x\"",
        ];
        let mut examples: Vec<String> = Vec::new();
        for rule in catalog::rules() {
            for log in &rule.log {
                let e = &log.example;
                examples.push(e.clone());
                examples.push(e.to_ascii_lowercase());
                examples.push(e.to_ascii_uppercase());
                // Half of it, cut on a character boundary (some examples are Korean).
                let half = (0..=e.len() / 2).rev().find(|&i| e.is_char_boundary(i));
                examples.push(e[..half.unwrap_or(0)].to_string());
                examples.push(e.replace(&log.literal, &log.literal[1..]));
                examples.push(format!("prefix {e} suffix"));
            }
        }
        let mut out = Vec::new();
        for _ in 0..lines {
            match rng.u8(..100) {
                0..=2 => out.extend_from_slice(examples[rng.usize(..examples.len())].as_bytes()),
                3 => {
                    let a = &examples[rng.usize(..examples.len())];
                    let b = &examples[rng.usize(..examples.len())];
                    out.extend_from_slice(format!("{a} | {b}").as_bytes());
                }
                4 if rng.u8(..20) == 0 => {
                    out.extend(std::iter::repeat_n(b'x', rng.usize(..300_000)))
                }
                _ => out.extend_from_slice(noise[rng.usize(..noise.len())]),
            }
            if rng.u8(..10) == 0 {
                out.push(b'\r');
            }
            out.push(b'\n');
        }
        if rng.bool() {
            out.extend_from_slice(examples[rng.usize(..examples.len())].as_bytes());
        }
        out
    }

    fn assert_same_as_reference(bytes: &[u8], what: &str) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        for tail in [None, Some(bytes.len() as u64 / 3), Some(DEFAULT_TAIL)] {
            let got = scan_file(file.path(), tail).unwrap();
            let want = reference(bytes, file.path(), tail);
            assert_eq!(got, want, "{what}, tail {tail:?}");
        }
    }

    #[test]
    fn generated_logs_give_the_same_findings_lines_and_counts_as_the_plain_reading() {
        for seed in 0..4 {
            let log = generated_log(seed, 25_000);
            assert_same_as_reference(&log, &format!("seed {seed}"));
        }
    }

    #[test]
    fn the_shared_corpus_gives_the_same_findings_as_the_plain_reading() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        let mut dirs = vec![root];
        let mut files = 0;
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    let bytes = std::fs::read(&path).unwrap();
                    assert_same_as_reference(&bytes, &path.display().to_string());
                    // The same file with the catalog's examples between its lines.
                    let mut examples = catalog::rules().iter().flat_map(|r| &r.log).cycle();
                    let mut mixed = Vec::new();
                    for (i, line) in bytes.split_inclusive(|b| *b == b'\n').enumerate() {
                        mixed.extend_from_slice(line);
                        if i % 7 == 3 {
                            let example = examples.next().unwrap();
                            mixed.extend_from_slice(example.example.as_bytes());
                            mixed.push(b'\n');
                        }
                    }
                    assert_same_as_reference(&mixed, &format!("{} + examples", path.display()));
                    files += 1;
                }
            }
        }
        assert!(files > 100, "the shared corpus is there ({files} files)");
    }

    #[test]
    fn the_newest_boot_log_is_scanned() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(newest_boot_log(dir.path()), None);
        for name in [
            "whatap-boot-20261125.log",
            "whatap-boot-20261127.log",
            "whatap-install-20261128.log",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        assert_eq!(
            newest_boot_log(dir.path()),
            Some(dir.path().join("whatap-boot-20261127.log"))
        );
    }

    #[test]
    fn every_example_fires_its_own_rule_and_nothing_else() {
        for rule in catalog::rules() {
            for log in &rule.log {
                assert!(
                    log.example.contains(&log.literal),
                    "{}: example lacks literal",
                    rule.id
                );
                let mut file = tempfile::NamedTempFile::new().unwrap();
                writeln!(file, "INFO quiet line\n{}\nINFO after", log.example).unwrap();
                let hits = scan_file(file.path(), None).unwrap();
                let ids: Vec<&str> = hits.iter().map(|h| h.rule).collect();
                assert_eq!(ids, [rule.id.as_str()], "example of {}", rule.id);
                assert_eq!(hits[0].line, Some(2));
            }
        }
    }

    #[test]
    fn findings_from_a_log_alone_leave_no_placeholder_unfilled() {
        let placeholder = Regex::new(r"\{[a-z_]+\}").unwrap();
        for rule in catalog::rules() {
            for log in &rule.log {
                let mut file = tempfile::NamedTempFile::new().unwrap();
                writeln!(file, "{}", log.example).unwrap();
                let targets = [("log".to_string(), file.path().to_path_buf())];
                for fact in facts(&targets, None) {
                    for lang in [crate::ui::i18n::Lang::En, crate::ui::i18n::Lang::Ko] {
                        let finding = fact.clone().into_finding(lang);
                        assert!(
                            !placeholder.is_match(&finding.fix),
                            "{}: {}",
                            rule.id,
                            finding.fix
                        );
                        assert!(
                            !placeholder.is_match(&finding.title),
                            "{}: {}",
                            rule.id,
                            finding.title
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn counts_lines_across_chunks_and_reads_only_the_tail() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        let filler = "x".repeat(100);
        for _ in 0..30_000 {
            writeln!(file, "{filler}").unwrap();
        }
        writeln!(
            file,
            "java.lang.ClassNotFoundException: whatap.agent.trace.TraceMain from [Module]"
        )
        .unwrap();
        for _ in 0..30_000 {
            writeln!(file, "{filler}").unwrap();
        }
        let hits = scan_file(file.path(), None).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].line, Some(30_001));
        assert!(
            scan_file(file.path(), Some(1000)).unwrap().is_empty(),
            "the hit is not in the tail"
        );
    }

    #[test]
    fn policy_lines_name_the_exact_permission() {
        let caps = |t: &str, a: Option<&str>| {
            let mut m = BTreeMap::new();
            m.insert("target".to_string(), t.to_string());
            if let Some(a) = a {
                m.insert("action".to_string(), a.to_string());
            }
            m
        };
        assert_eq!(
            policy_line(
                "java.io.FilePermission",
                &caps("/whatap/whatap.conf", Some("read"))
            ),
            "permission java.io.FilePermission \"/whatap/whatap.conf\", \"read\";"
        );
        assert_eq!(
            policy_line(
                "java.security.AllPermission",
                &caps("<all permissions>", Some("<all actions>"))
            ),
            "permission java.security.AllPermission;"
        );
        assert_eq!(
            policy_line("java.lang.RuntimePermission", &caps("getClassLoader", None)),
            "permission java.lang.RuntimePermission \"getClassLoader\";"
        );
    }

    #[test]
    fn every_distinct_denial_is_its_own_hit() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        for (permission, target) in [
            ("java.io.FilePermission\" \"/whatap/whatap.conf", "read"),
            ("java.util.PropertyPermission\" \"whatap.home", "read"),
            ("java.io.FilePermission\" \"/whatap/whatap.conf", "read"),
        ] {
            writeln!(
                file,
                "whatap.error java.security.AccessControlException: access denied (\"{permission}\" \"{target}\")"
            )
            .unwrap();
        }
        let hits = scan_file(file.path(), None).unwrap();
        let found: Vec<(Option<u64>, u64)> = hits.iter().map(|h| (h.line, h.count)).collect();
        assert_eq!(found, [(Some(1), 2), (Some(2), 1)], "{hits:?}");
    }

    #[test]
    fn crlf_and_invalid_utf8_lines_still_match() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(
            b"\xff\xfe junk\r\nERROR ClassNotFoundException: whatap.agent.trace.TraceMain \xc0\r\n",
        )
        .unwrap();
        let hits = scan_file(file.path(), None).unwrap();
        assert_eq!(hits.len(), 1);
        assert!(!hits[0].text.ends_with('\r'));
    }
}
