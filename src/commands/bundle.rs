//! `doctor --bundle FILE.tar.gz`: what WhaTap support asks for, in one archive the operator
//! can attach to a ticket. Everything in it goes through the printer's masking (every license
//! the confs and the ledger hold is a secret, `license=` lines whatever their value), so no
//! full license is anywhere in it; `MANIFEST` lists each entry with its size and what it is.

use crate::apply::ledger::Ledger;
use crate::apply::state::{HISTORY, LEDGER};
use crate::detect::Host;
use crate::edit::marker::MARKER;
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::{KeyValue, Ownership};
use crate::settings::Settings;
use crate::ui::Printer;
use serde::Serialize;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Each log's tail in the bundle, and how many logs at most.
const LOG_TAIL: u64 = 256 << 10;
const MAX_LOGS: usize = 32;
/// A startup file bigger than this is no startup file.
const MAX_SCRIPT: u64 = 1 << 20;
/// The directory every entry is under once extracted.
const TOP: &str = "whatap-support";

/// What the doctor run looked at, for the bundle.
pub struct Gathered<'a> {
    /// The doctor and detect documents, as `--json` prints them.
    pub doctor: String,
    pub detect: String,
    /// The runtimes' directories, whose `bin/` startup files may hold our blocks.
    pub dirs: Vec<PathBuf>,
    /// Every whatap.conf doctor read.
    pub confs: Vec<PathBuf>,
    pub logs: Vec<PathBuf>,
    /// The JVMs doctor inspected.
    pub pids: Vec<u32>,
    pub host: &'a Host,
    /// `runtime version home` of each runtime found.
    pub runtimes: Vec<String>,
}

/// `doctor --json`'s `bundle`: where it went and how many entries it holds.
#[derive(Debug, Serialize)]
pub struct BundleReport {
    pub path: PathBuf,
    pub entries: usize,
}

struct Entry {
    name: String,
    what: String,
    bytes: Vec<u8>,
}

/// Gathers, masks and writes the bundle to `out` (atomically, 0600).
pub fn write(
    settings: &Settings,
    printer: &Printer,
    gathered: &Gathered<'_>,
    out: &Path,
) -> Result<BundleReport> {
    let ledger = settings.state.read_ledger().unwrap_or_default();
    let mut confs = gathered.confs.clone();
    confs.extend(ledger.files.iter().filter_map(|f| match &f.ownership {
        Ownership::Keys { .. } | Ownership::Whole if is_conf(&f.path) => Some(f.path.clone()),
        _ => None,
    }));
    confs.sort();
    confs.dedup();
    for secret in licenses(&confs, &ledger) {
        printer.add_secret(&secret);
    }
    let mut entries = vec![
        Entry::text("doctor.json", msg!("bundle-what-doctor"), &gathered.doctor),
        Entry::text("detect.json", msg!("bundle-what-detect"), &gathered.detect),
        Entry::text(
            "versions.txt",
            msg!("bundle-what-versions"),
            &versions(gathered),
        ),
    ];
    let counter = crate::ui::progress::counter(
        settings,
        &msg!("bundle-progress"),
        (confs.len() + gathered.logs.len().min(MAX_LOGS) + gathered.pids.len() + 2) as u64,
    );
    for (name, what) in [
        (LEDGER, msg!("bundle-what-ledger")),
        (HISTORY, msg!("bundle-what-history")),
    ] {
        if let Ok(Some(bytes)) = settings.state.read_file(name) {
            entries.push(Entry::file(name, what, bytes));
        }
    }
    for conf in &confs {
        counter.step(&conf.display().to_string());
        if let Ok(bytes) = std::fs::read(conf) {
            entries.push(Entry::file(
                &host_path("conf", conf),
                msg!("bundle-what-conf"),
                bytes,
            ));
        }
    }
    for (file, blocks) in startup_blocks(&gathered.dirs, &ledger) {
        entries.push(Entry::text(
            &format!("{}.txt", host_path("blocks", &file)),
            msg!("bundle-what-blocks"),
            &blocks,
        ));
    }
    for log in gathered.logs.iter().take(MAX_LOGS) {
        counter.step(&log.display().to_string());
        if let Some(tail) = tail(log, LOG_TAIL) {
            let what = msg!("bundle-what-log", kib = LOG_TAIL >> 10);
            entries.push(Entry::file(&host_path("logs", log), what, tail));
        }
    }
    for pid in &gathered.pids {
        counter.step(&format!("PID {pid}"));
        if let Some(p) = gathered.host.processes.iter().find(|p| p.pid == *pid) {
            let args: String = p.args.iter().map(|a| format!("{a}\n")).collect();
            let name = format!("jvm/{pid}.txt");
            entries.push(Entry::text(&name, msg!("bundle-what-jvm"), &args));
        }
    }
    counter.step("firewall");
    for (name, bytes) in crate::net::firewall::dumps() {
        entries.push(Entry::file(
            &format!("firewall/{name}"),
            msg!("bundle-what-firewall"),
            bytes,
        ));
    }
    counter.finish();
    for entry in &mut entries {
        let text = String::from_utf8_lossy(&entry.bytes);
        entry.bytes = printer.redact(&text).into_bytes();
    }
    let archive = archive(&entries)?;
    crate::apply::atomic::replace_with_mode(out, &archive, 0o600)?;
    Ok(BundleReport {
        path: out.to_path_buf(),
        entries: entries.len() + 1,
    })
}

impl Entry {
    fn text(name: &str, what: String, text: &str) -> Entry {
        Entry::file(name, what, text.as_bytes().to_vec())
    }

    fn file(name: &str, what: String, bytes: Vec<u8>) -> Entry {
        Entry {
            name: name.to_string(),
            what,
            bytes,
        }
    }
}

fn is_conf(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n == "whatap.conf" || n.to_string_lossy().ends_with(".ini"))
}

/// A host file's place in the bundle: `conf/srv/tomcat/whatap/whatap.conf`.
fn host_path(dir: &str, path: &Path) -> String {
    format!(
        "{dir}/{}",
        path.display().to_string().trim_start_matches('/')
    )
}

/// Every license value the confs and the ledger hold.
fn licenses(confs: &[PathBuf], ledger: &Ledger) -> Vec<String> {
    let is_license = |key: &str| key == "license" || key == "whatap.license";
    let mut found: Vec<String> = confs
        .iter()
        .filter_map(|c| std::fs::read(c).ok())
        .flat_map(|bytes| crate::edit::conf::parse(&bytes))
        .filter(|(key, _)| is_license(key))
        .map(|(_, value)| value.trim().trim_matches('"').to_string())
        .collect();
    for file in &ledger.files {
        if let Ownership::Keys { keys } = &file.ownership {
            for key in keys.iter().filter(|k| is_license(&k.key)) {
                // A sealed value (only its hash is kept) holds no license to mask.
                found.extend(key.before.iter().chain(&key.after).filter_map(|v| match v {
                    KeyValue::Text(text) => Some(text.clone()),
                    KeyValue::Sealed { .. } => None,
                }));
            }
        }
    }
    found.retain(|s| !s.is_empty());
    found.sort();
    found.dedup();
    found
}

/// Our marker blocks as they stand in every startup file: the `bin/` files of each runtime's
/// directories, and every file the ledger says holds a block of ours. Per file: each block
/// with its line numbers.
fn startup_blocks(dirs: &[PathBuf], ledger: &Ledger) -> Vec<(PathBuf, String)> {
    let mut files: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| crate::detect::files_in(&d.join("bin"), |_| true))
        .chain(
            ledger
                .files
                .iter()
                .filter(|f| matches!(f.ownership, Ownership::Block { .. }))
                .map(|f| f.path.clone()),
        )
        .filter(|f| std::fs::metadata(f).is_ok_and(|m| m.is_file() && m.len() <= MAX_SCRIPT))
        .collect();
    files.sort();
    files.dedup();
    files
        .into_iter()
        .filter_map(|file| {
            let text = std::fs::read(&file).ok()?;
            let text = String::from_utf8_lossy(&text);
            let mut out = String::new();
            let mut inside = false;
            for (n, line) in text.lines().enumerate() {
                let marker = line.contains(MARKER);
                if marker || inside {
                    out.push_str(&format!("{:>6}  {line}\n", n + 1));
                }
                if marker {
                    inside = !inside;
                    if !inside {
                        out.push('\n');
                    }
                }
            }
            (!out.is_empty()).then_some((file, out))
        })
        .collect()
}

/// The last `cap` bytes of `path`, from the first whole line.
fn tail(path: &Path, cap: u64) -> Option<Vec<u8>> {
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let start = len.saturating_sub(cap);
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut bytes = Vec::with_capacity((len - start) as usize);
    file.take(cap).read_to_end(&mut bytes).ok()?;
    if start > 0 {
        let first = bytes.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
        bytes.drain(..first);
    }
    Some(bytes)
}

/// This tool, the OS, the kernel and every runtime found, with their versions.
fn versions(gathered: &Gathered<'_>) -> String {
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_string())
        })
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut text = format!(
        "whatap {}\nos {os}\nkernel {}\nhost {}\n",
        env!("CARGO_PKG_VERSION"),
        kernel.trim(),
        crate::ui::printer::hostname()
    );
    for runtime in &gathered.runtimes {
        text.push_str(&format!("runtime {runtime}\n"));
    }
    text
}

/// The tar.gz: `MANIFEST` first, then every entry, all under `whatap-support/`, mode 0600.
fn archive(entries: &[Entry]) -> Result<Vec<u8>> {
    let mut manifest = format!(
        "# {}\n# {}\n",
        msg!("bundle-manifest-title"),
        msg!("bundle-manifest-columns")
    );
    for entry in entries {
        manifest.push_str(&format!(
            "{}\t{}\t{}\n",
            entry.name,
            entry.bytes.len(),
            entry.what
        ));
    }
    let internal = |e: std::io::Error| Error::Internal(format!("bundle: {e}"));
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mtime = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut add = |name: &str, bytes: &[u8]| -> std::io::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o600);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, format!("{TOP}/{name}"), bytes)
    };
    add("MANIFEST", manifest.as_bytes()).map_err(internal)?;
    for entry in entries {
        add(&entry.name, &entry.bytes).map_err(internal)?;
    }
    let mut gz = tar.into_inner().map_err(internal)?;
    gz.flush().map_err(internal)?;
    gz.finish().map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tail_starts_at_a_whole_line() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("a.log");
        std::fs::write(&log, "first line\nsecond line\nthird\n").unwrap();
        assert_eq!(tail(&log, 10).unwrap(), b"third\n");
        assert_eq!(
            tail(&log, 1000).unwrap(),
            b"first line\nsecond line\nthird\n"
        );
    }

    #[test]
    fn blocks_with_their_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::fs::write(
            bin.join("setenv.sh"),
            format!("#!/bin/sh\n{MARKER}\nJAVA_OPTS=x\n{MARKER}\necho done\n"),
        )
        .unwrap();
        std::fs::write(bin.join("other.sh"), "echo nothing\n").unwrap();
        let found = startup_blocks(&[dir.path().to_path_buf()], &Ledger::default());
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].1,
            format!("     2  {MARKER}\n     3  JAVA_OPTS=x\n     4  {MARKER}\n\n")
        );
    }
}
