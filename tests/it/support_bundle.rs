//! `doctor --bundle FILE.tar.gz`: extracted with the real tar, it holds the JSON reports, the
//! masked confs, our blocks, the ledger, capped log tails and the JVM's command line, each
//! listed in MANIFEST, and grep finds the license nowhere in it.

use crate::common::*;
use std::fs;
use std::path::Path;
use std::process::Command;

#[test]
fn the_bundle_holds_the_reports_and_masked_files_and_no_license() {
    let (dir, home, state) = installed("tomcat9");
    // A log that quotes the license in full (an agent's debug line would), bigger than the
    // tail the bundle keeps.
    let log = dir.path().join("app.log");
    let mut text = String::new();
    while text.len() < 600 << 10 {
        text.push_str("2026-12-01 09:00:00 INFO an ordinary line of an application log\n");
    }
    text.push_str(&format!(
        "2026-12-01 09:00:01 DEBUG license={LICENSE} key {LICENSE}\n"
    ));
    text.push_str("2026-12-01 09:00:02 INFO the last line\n");
    fs::write(&log, &text).unwrap();
    // The running Tomcat-shaped JVM, with the license on its command line.
    let license_option = format!("-Dwhatap.license={LICENSE}");
    let _jvm = Jvm::start(
        Some(&home),
        &dir.path().join("agent.marker"),
        &[&stub_jar()],
        &[&license_option],
    );
    let bundle = dir.path().join("support.tar.gz");
    let out = whatap(&state)
        .args(["doctor", "--no-network", "--json", "--home"])
        .arg(&home)
        .arg("--log")
        .arg(&log)
        .arg("--bundle")
        .arg(&bundle)
        .output()
        .unwrap();
    let report = json(&out.stdout);
    assert_eq!(
        report["bundle"]["path"],
        bundle.display().to_string(),
        "{report}"
    );
    assert_eq!(
        fs::metadata(&bundle)
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
            .unwrap(),
        0o600
    );

    let extracted = dir.path().join("extracted");
    fs::create_dir(&extracted).unwrap();
    let tar = Command::new("tar")
        .arg("xzf")
        .arg(&bundle)
        .arg("-C")
        .arg(&extracted)
        .status()
        .unwrap();
    assert!(tar.success());
    let top = extracted.join("whatap-support");
    let read =
        |name: &str| fs::read_to_string(top.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));

    // The reports as --json prints them.
    let doctor = json(read("doctor.json").as_bytes());
    assert_eq!(doctor["command"], "doctor");
    assert!(doctor["checks"].is_array());
    let detect = json(read("detect.json").as_bytes());
    assert_eq!(detect["command"], "detect");
    // The masked conf, our block in setenv.sh, the ledger.
    let conf_path = home.join("whatap/whatap.conf");
    let conf = read(&format!("conf{}", conf_path.display()));
    assert!(
        conf.contains("license=") && conf.contains(LICENSE_TAIL),
        "{conf}"
    );
    let block = read(&format!(
        "blocks{}.txt",
        home.join("bin/setenv.sh").display()
    ));
    assert!(
        block.contains("########## WHATAP") && block.contains("-javaagent:"),
        "{block}"
    );
    assert!(read("ledger.json").contains("setenv.sh"));
    assert!(read("history.jsonl").contains("setenv.sh"));
    assert!(read("versions.txt").contains(&format!("whatap {}", env!("CARGO_PKG_VERSION"))));
    // The log's tail only, whole lines, its last line kept.
    let tail = read(&format!("logs{}", log.display()));
    assert!(tail.len() <= 256 << 10, "{}", tail.len());
    assert!(tail.ends_with("the last line\n"));
    assert!(tail.starts_with("2026-12-01"), "{}", &tail[..80]);
    // The JVM's command line, one argument a line.
    let jvm = read(&format!("jvm/{}.txt", _jvm.pid()));
    assert!(
        jvm.lines().any(|l| l.starts_with("-Dwhatap.license=")),
        "{jvm}"
    );

    // MANIFEST lists every entry, and only what is there.
    let manifest = read("MANIFEST");
    let mut listed: Vec<String> = manifest
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    listed.push("MANIFEST".into());
    listed.sort();
    let mut present: Vec<String> = files_under(&top)
        .into_iter()
        .map(|p| p.strip_prefix(&top).unwrap().display().to_string())
        .collect();
    present.sort();
    assert_eq!(listed, present);

    // No full license anywhere: grep, as support would.
    let grep = Command::new("grep")
        .args(["-rlF", LICENSE])
        .arg(&extracted)
        .output()
        .unwrap();
    assert_eq!(
        grep.status.code(),
        Some(1),
        "the license is in: {}",
        String::from_utf8_lossy(&grep.stdout)
    );
    let masked = Command::new("grep")
        .args(["-rlF", &format!("*{LICENSE_TAIL}")])
        .arg(&extracted)
        .output()
        .unwrap();
    assert!(masked.status.success(), "masked licenses are kept");
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// A directory that does not exist is refused before anything is gathered.
#[test]
fn a_bundle_into_a_missing_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = whatap(dir.path())
        .args(["doctor", "--no-network", "--bundle"])
        .arg(dir.path().join("nowhere/b.tar.gz"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--bundle"));
}
