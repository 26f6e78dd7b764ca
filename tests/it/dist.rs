//! The release artifacts (`scripts/dist.sh` writes them to target/dist, or `WHATAP_DIST_DIR`):
//! static binaries that run in an empty chroot and under qemu, what the tarballs, .deb and
//! .rpm hold and say, SHA256SUMS, and install.sh (POSIX sh, run by dash and busybox) from a
//! directory and over HTTP, refusing a tampered archive. Building the release targets takes
//! minutes, so .ci/run runs dist.sh once before `cargo test` and every test here reads the
//! same artifacts; without them these tests skip loudly (and fail with CI=true).

use crate::common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const X86: &str = "x86_64-unknown-linux-musl";
const ARM: &str = "aarch64-unknown-linux-musl";
/// ELF e_machine of each target.
const EM_X86_64: u16 = 62;
const EM_AARCH64: u16 = 183;

fn dist() -> Option<PathBuf> {
    let dir = std::env::var_os("WHATAP_DIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/dist"));
    let part = format!("{} (built by scripts/dist.sh)", dir.display());
    must_have(&part, dir.join("SHA256SUMS").is_file()).then_some(dir)
}

fn tarball(triple: &str) -> String {
    format!("whatap-{VERSION}-{triple}.tar.gz")
}

/// The tarball of `triple` unpacked: (temp dir, its `whatap-<ver>-<triple>` directory).
fn unpack(dist: &Path, triple: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = fs::File::open(dist.join(tarball(triple))).unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(dir.path())
        .unwrap();
    let top = dir.path().join(format!("whatap-{VERSION}-{triple}"));
    (dir, top)
}

/// e_machine of a 64-bit little-endian ELF file, and whether it asks for a dynamic loader
/// (a PT_INTERP program header): a static binary does not.
fn elf(path: &Path) -> (u16, bool) {
    let b = fs::read(path).unwrap();
    assert_eq!((&b[..4], b[4], b[5]), (&b"\x7fELF"[..], 2, 1), "{path:?}");
    let u16_at = |at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
    let phoff = u64::from_le_bytes(b[32..40].try_into().unwrap()) as usize;
    let (size, count) = (u16_at(54) as usize, u16_at(56) as usize);
    const PT_INTERP: u32 = 3;
    let interp = (0..count).any(|i| {
        let at = phoff + i * size;
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) == PT_INTERP
    });
    (u16_at(18), interp)
}

fn run(cmd: &mut Command) -> Output {
    cmd.env_remove("WHATAP_STATE_DIR").output().unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// `--version` names the version, the target and a commit; returns the commit.
fn version_commit(line: &str, triple: &str) -> String {
    let prefix = format!("whatap {VERSION} ({triple}, commit ");
    assert!(line.starts_with(&prefix) && line.ends_with(")\n"), "{line}");
    line[prefix.len()..line.len() - 2].to_string()
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo())
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    Some(String::from_utf8(out.stdout).unwrap().trim().to_string())
}

/// A release binary's `--version`: the commit is one of this repository's (target/dist may
/// be older than HEAD on a developer's machine; CI builds it from HEAD).
fn assert_version_line(line: &str, triple: &str) {
    let commit = version_commit(line, triple);
    if git(&["rev-parse", "--git-dir"]).is_some() {
        let object = format!("{commit}^{{commit}}");
        assert!(
            git(&["rev-parse", "--verify", "--quiet", &object]).is_some(),
            "{line}: not a commit of this repository"
        );
    }
}

fn assert_detect_json(out: &Output) {
    let report = json(stdout(out).as_bytes());
    assert_eq!(report["command"], "detect", "{report}");
    assert!(report["runtimes"].is_array(), "{report}");
}

#[test]
fn version_names_the_target_and_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    // The target this test (and so the binary under test) was built for.
    let env = if cfg!(target_env = "musl") {
        "musl"
    } else {
        "gnu"
    };
    let triple = format!("{}-unknown-linux-{env}", std::env::consts::ARCH);
    let long = whatap(dir.path()).arg("--version").output().unwrap();
    let commit = version_commit(&stdout(&long), &triple);
    if let Some(head) = git(&["rev-parse", "--short=12", "HEAD"]) {
        assert_eq!(commit, head);
    }
    let short = whatap(dir.path()).arg("-V").output().unwrap();
    assert_eq!(stdout(&short), format!("whatap {VERSION}\n"));
}

#[test]
fn the_x86_64_binary_is_static_and_runs_in_an_empty_chroot() {
    let Some(dist) = dist() else { return };
    let chroot = find_tool("chroot");
    if !must_have("root, for chroot", is_root())
        || !must_have("unshare", which("unshare"))
        || !must_have("chroot", chroot.is_some())
    {
        return;
    }
    let (_unpacked, top) = unpack(&dist, X86);
    assert_eq!(elf(&top.join("whatap")), (EM_X86_64, false));
    // The root holds the binary and an empty /proc, where a new PID namespace mounts its own.
    let root = tempfile::tempdir().unwrap();
    fs::copy(top.join("whatap"), root.path().join("whatap")).unwrap();
    fs::create_dir(root.path().join("proc")).unwrap();
    let in_chroot = |args: &[&str]| {
        run(Command::new("unshare")
            .args(["--fork", "--pid"])
            .arg(format!(
                "--mount-proc={}",
                root.path().join("proc").display()
            ))
            .arg(chroot.as_ref().unwrap())
            .arg(root.path())
            .arg("/whatap")
            .args(args)
            .env_clear()
            .env("LANG", "C"))
    };
    assert_version_line(&stdout(&in_chroot(&["--version"])), X86);
    assert_detect_json(&in_chroot(&["detect", "--json"]));
}

#[test]
fn the_aarch64_binary_is_static_and_runs_under_qemu() {
    let Some(dist) = dist() else { return };
    if !must_have("qemu-aarch64-static", which("qemu-aarch64-static")) {
        return;
    }
    let (_unpacked, top) = unpack(&dist, ARM);
    let bin = top.join("whatap");
    assert_eq!(elf(&bin), (EM_AARCH64, false));
    let qemu = |args: &[&str]| run(Command::new("qemu-aarch64-static").arg(&bin).args(args));
    assert_version_line(&stdout(&qemu(&["--version"])), ARM);
    assert_detect_json(&qemu(&["detect", "--json"]));
}

/// Every man page the repository ships (man/*.1), by file name.
fn man_pages() -> Vec<String> {
    let mut pages: Vec<String> = fs::read_dir(repo().join("man"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    assert!(pages.contains(&"whatap.1".to_string()));
    pages
}

#[test]
fn tarballs_hold_the_binary_completions_man_pages_and_licence_notices() {
    let Some(dist) = dist() else { return };
    for triple in [X86, ARM] {
        let file = fs::File::open(dist.join(tarball(triple))).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let mut entries: Vec<(String, u32, u64)> = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let header = entry.header();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            entries.push((path, header.mode().unwrap(), header.uid().unwrap()));
        }
        let top = format!("whatap-{VERSION}-{triple}/");
        let mut expected: Vec<String> = [
            "whatap",
            "README.md",
            "LICENSE",
            "THIRD-PARTY-LICENSES.txt",
            "completions/whatap.bash",
            "completions/_whatap",
            "completions/whatap.fish",
            "completions/_whatap.ps1",
            "completions/whatap.elv",
        ]
        .iter()
        .map(|f| format!("{top}{f}"))
        .collect();
        expected.extend(man_pages().iter().map(|p| format!("{top}man/{p}")));
        for want in &expected {
            assert!(
                entries.iter().any(|(p, _, _)| p == want),
                "{triple}: no {want}"
            );
        }
        for (path, mode, uid) in &entries {
            assert!(path.starts_with(&top), "{path} outside {top}");
            assert_eq!(*uid, 0, "{path} not owned by root");
            let exec = path.ends_with("/whatap") || path.ends_with('/');
            assert_eq!(mode & 0o777, if exec { 0o755 } else { 0o644 }, "{path}");
        }
        let (_unpacked, unpacked) = unpack(&dist, triple);
        let notices = fs::read_to_string(unpacked.join("THIRD-PARTY-LICENSES.txt")).unwrap();
        for crate_ in ["ring ", "rustls ", "reqwest ", "clap "] {
            assert!(
                notices.contains(&format!("\n  {crate_}")),
                "{triple}: {crate_}"
            );
        }
        assert!(notices.contains("musl libc") && notices.contains("Rust Standard Library"));
        // A compile-time-only crate is not in the binary, so not in the notices.
        assert!(
            !notices.contains("\n  syn "),
            "{triple}: proc-macro deps listed"
        );
    }
}

/// Whether a 64-bit little-endian ELF file still has a symbol table (SHT_SYMTAB): a stripped
/// one does not.
fn has_symtab(path: &Path) -> bool {
    let b = fs::read(path).unwrap();
    let shoff = u64::from_le_bytes(b[40..48].try_into().unwrap()) as usize;
    let size = u16::from_le_bytes([b[58], b[59]]) as usize;
    let count = u16::from_le_bytes([b[60], b[61]]) as usize;
    const SHT_SYMTAB: u32 = 2;
    (0..count).any(|i| {
        let at = shoff + i * size + 4;
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) == SHT_SYMTAB
    })
}

/// The release profile (Cargo.toml, README "Release builds"): stripped, at most 10 MB.
#[test]
fn release_binaries_are_stripped_and_at_most_10_mb() {
    let Some(dist) = dist() else { return };
    for triple in [X86, ARM] {
        let (_unpacked, top) = unpack(&dist, triple);
        let bin = top.join("whatap");
        let size = fs::metadata(&bin).unwrap().len();
        assert!(size <= 10_000_000, "{triple}: {size} bytes");
        assert!(!has_symtab(&bin), "{triple}: not stripped");
    }
}

/// `rpm --qf` of a package file.
fn rpm_query(file: &Path, format: &str) -> String {
    stdout(&run(Command::new("rpm")
        .args(["-qp", "--nosignature", "--qf", format])
        .arg(file)))
}

#[test]
fn deb_packages_put_the_binary_man_pages_and_completions_where_debian_expects_them() {
    let Some(dist) = dist() else { return };
    for (arch, machine) in [("amd64", EM_X86_64), ("arm64", EM_AARCH64)] {
        let deb = dist.join(format!("whatap_{VERSION}-1_{arch}.deb"));
        let fields = stdout(&run(Command::new("dpkg-deb").arg("-f").arg(&deb).args([
            "Package",
            "Version",
            "Architecture",
        ])));
        assert_eq!(
            fields,
            format!("Package: whatap\nVersion: {VERSION}-1\nArchitecture: {arch}\n")
        );
        let listing = stdout(&run(Command::new("dpkg-deb").arg("-c").arg(&deb)));
        let line = |path: &str| {
            listing
                .lines()
                .find(|l| l.ends_with(&format!(" {path}")))
                .unwrap_or_else(|| panic!("{arch}: no {path} in\n{listing}"))
                .to_string()
        };
        assert!(line("./usr/bin/whatap").starts_with("-rwxr-xr-x root/root"));
        for path in [
            "./usr/share/bash-completion/completions/whatap",
            "./usr/share/zsh/vendor-completions/_whatap",
            "./usr/share/fish/vendor_completions.d/whatap.fish",
            "./usr/share/doc/whatap/copyright",
        ] {
            assert!(line(path).starts_with("-rw-r--r-- root/root"), "{path}");
        }
        for page in man_pages() {
            line(&format!("./usr/share/man/man1/{page}.gz"));
        }
        let root = tempfile::tempdir().unwrap();
        stdout(&run(Command::new("dpkg-deb")
            .arg("-x")
            .arg(&deb)
            .arg(root.path())));
        assert_eq!(elf(&root.path().join("usr/bin/whatap")), (machine, false));
    }
}

#[test]
fn the_binary_from_the_deb_installs_runs_and_removes_with_dpkg() {
    let Some(dist) = dist() else { return };
    if !must_have("root, for dpkg --root", is_root()) {
        return;
    }
    // A private dpkg database: the host's packages are not touched.
    let root = tempfile::tempdir().unwrap();
    for dir in ["var/lib/dpkg/info", "var/lib/dpkg/updates"] {
        fs::create_dir_all(root.path().join(dir)).unwrap();
    }
    fs::write(root.path().join("var/lib/dpkg/status"), "").unwrap();
    let dpkg = |args: &[&str]| {
        let mut cmd = Command::new("dpkg");
        cmd.arg(format!("--root={}", root.path().display()))
            .args(["--force-not-root", "--log=/dev/null"])
            .args(args);
        run(&mut cmd)
    };
    let deb = dist.join(format!("whatap_{VERSION}-1_amd64.deb"));
    stdout(&dpkg(&["--install", deb.to_str().unwrap()]));
    let bin = root.path().join("usr/bin/whatap");
    assert_version_line(&stdout(&run(Command::new(&bin).arg("--version"))), X86);
    assert!(root.path().join("usr/share/man/man1/whatap.1.gz").is_file());
    stdout(&dpkg(&["--remove", "whatap"]));
    assert!(!bin.exists());
}

#[test]
fn rpm_packages_put_the_binary_man_pages_and_completions_where_rhel_expects_them() {
    let Some(dist) = dist() else { return };
    if !must_have("rpm", which("rpm")) {
        return;
    }
    for arch in ["x86_64", "aarch64"] {
        let rpm = dist.join(format!("whatap-{VERSION}-1.{arch}.rpm"));
        assert_eq!(
            rpm_query(
                &rpm,
                "%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{PAYLOADCOMPRESSOR}"
            ),
            format!("whatap {VERSION} 1 {arch} xz")
        );
        let files = rpm_query(&rpm, "[%{FILEMODES:perms} %{FILEUSERNAME} %{FILENAMES}\n]");
        let line = |path: &str| {
            files
                .lines()
                .find(|l| l.ends_with(&format!(" {path}")))
                .unwrap_or_else(|| panic!("{arch}: no {path} in\n{files}"))
                .to_string()
        };
        assert!(line("/usr/bin/whatap").starts_with("-rwxr-xr-x root"));
        for path in [
            "/usr/share/bash-completion/completions/whatap",
            "/usr/share/zsh/site-functions/_whatap",
            "/usr/share/fish/vendor_completions.d/whatap.fish",
            "/usr/share/licenses/whatap/LICENSE",
            "/usr/share/licenses/whatap/THIRD-PARTY-LICENSES.txt",
        ] {
            assert!(line(path).starts_with("-rw-r--r-- root"), "{path}");
        }
        for page in man_pages() {
            line(&format!("/usr/share/man/man1/{page}.gz"));
        }
        // Static: nothing required but rpm's own features (RHEL 7's rpm 4.11 has them all).
        let requires = stdout(&run(Command::new("rpm")
            .args(["-qpR", "--nosignature"])
            .arg(&rpm)));
        assert!(
            requires.lines().all(|r| r.starts_with("rpmlib(")),
            "{requires}"
        );
    }
}

#[test]
fn sha256sums_cover_every_artifact_the_contract_names() {
    let Some(dist) = dist() else { return };
    let sums = fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    let mut listed: Vec<&str> = Vec::new();
    for line in sums.lines() {
        let (sum, name) = line.split_once("  ").unwrap();
        let bytes = fs::read(dist.join(name)).unwrap();
        assert_eq!(sum, crate::common::http::sha256(&bytes), "{name}");
        listed.push(name);
    }
    let mut present: Vec<String> = fs::read_dir(&dist)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "SHA256SUMS")
        .collect();
    present.sort();
    assert_eq!(listed, present);
    for name in [
        tarball(X86),
        tarball(ARM),
        format!("whatap_{VERSION}-1_amd64.deb"),
        format!("whatap_{VERSION}-1_arm64.deb"),
        format!("whatap-{VERSION}-1.x86_64.rpm"),
        format!("whatap-{VERSION}-1.aarch64.rpm"),
        format!("whatap-{VERSION}-x86_64-pc-windows-gnu.zip"),
        "install.sh".to_string(),
    ] {
        assert!(listed.contains(&name.as_str()), "{name} not in SHA256SUMS");
    }
}

#[test]
fn install_sh_is_posix_sh() {
    let script = repo().join("scripts/install.sh");
    for shell in ["sh", "dash"] {
        stdout(&run(Command::new(shell).arg("-n").arg(&script)));
    }
    if must_have("busybox", which("busybox")) {
        stdout(&run(Command::new("busybox")
            .args(["sh", "-n"])
            .arg(&script)));
    }
    if must_have("shellcheck", which("shellcheck")) {
        stdout(&run(Command::new("shellcheck")
            .args(["--shell=sh", "--severity=info"])
            .arg(&script)));
    }
}

/// install.sh of the release in `from`, run by `shell` (a program and its arguments).
fn install_sh(shell: &[&str], from: &Path) -> Command {
    let mut cmd = Command::new(shell[0]);
    cmd.args(&shell[1..])
        .arg(from.join("install.sh"))
        .env("LANG", "C")
        .env_remove("LC_ALL")
        .env_remove("WHATAP_LANG");
    cmd
}

/// A release directory with only what install.sh needs for x86_64, to tamper with.
fn x86_release() -> Option<tempfile::TempDir> {
    let dist = dist()?;
    let copy = tempfile::tempdir().unwrap();
    for name in ["install.sh", "SHA256SUMS", &tarball(X86)] {
        fs::copy(dist.join(name), copy.path().join(name)).unwrap();
    }
    Some(copy)
}

fn assert_installed(prefix: &Path, dist: &Path) {
    let (_unpacked, top) = unpack(dist, X86);
    assert_eq!(
        fs::read(prefix.join("bin/whatap")).unwrap(),
        fs::read(top.join("whatap")).unwrap()
    );
    let out = run(Command::new(prefix.join("bin/whatap")).arg("--version"));
    assert_version_line(&stdout(&out), X86);
    for page in man_pages() {
        assert!(
            prefix.join("share/man/man1").join(&page).is_file(),
            "{page}"
        );
    }
    for path in [
        "share/bash-completion/completions/whatap",
        "share/zsh/site-functions/_whatap",
        "share/fish/vendor_completions.d/whatap.fish",
    ] {
        assert!(prefix.join(path).is_file(), "{path}");
    }
}

#[test]
fn install_sh_installs_from_a_verified_directory_changes_nothing_twice_and_uninstalls() {
    let Some(dist) = dist() else { return };
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("usr-local");
    // Someone else's files under the prefix stay as they are.
    fs::create_dir_all(prefix.join("share/man/man1")).unwrap();
    fs::write(prefix.join("share/man/man1/other.1"), ".TH other 1\n").unwrap();
    let before = tree_bytes(&prefix);

    // No --from: the directory install.sh is in.
    let out = run(install_sh(&["dash"], &dist).arg("--prefix").arg(&prefix));
    stdout(&out);
    assert!(
        stderr(&out).contains("matches SHA256SUMS"),
        "{}",
        stderr(&out)
    );
    assert_installed(&prefix, &dist);

    let bytes = tree_bytes(&prefix);
    let mtimes = tree_mtimes(&prefix);
    let again = run(install_sh(&["dash"], &dist)
        .arg("--from")
        .arg(&dist)
        .arg("--prefix")
        .arg(&prefix)
        .env("LANG", "ko_KR.UTF-8"));
    stdout(&again);
    assert!(stderr(&again).contains("이미"), "{}", stderr(&again));
    assert_same_tree(&tree_bytes(&prefix), &bytes, "second install");
    assert_eq!(tree_mtimes(&prefix), mtimes, "second install rewrote files");

    let removed = run(install_sh(&["dash"], &dist)
        .arg("--uninstall")
        .arg("--prefix")
        .arg(&prefix));
    stdout(&removed);
    assert_same_tree(&tree_bytes(&prefix), &before, "after --uninstall");
    let twice = run(install_sh(&["dash"], &dist)
        .arg("--uninstall")
        .arg("--prefix")
        .arg(&prefix));
    assert!(
        stderr(&twice).contains("installed nothing"),
        "{}",
        stderr(&twice)
    );
}

#[test]
fn install_sh_refuses_a_tampered_archive_and_installs_nothing() {
    let Some(release) = x86_release() else { return };
    let archive = release.path().join(tarball(X86));
    let mut bytes = fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    fs::write(&archive, bytes).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("prefix");
    let busybox = find_tool("busybox");
    let mut shells = vec![vec!["dash"]];
    if must_have("busybox", busybox.is_some()) {
        shells.push(vec![busybox.as_ref().unwrap().to_str().unwrap(), "sh"]);
    }
    for shell in shells {
        let out = run(install_sh(&shell, release.path())
            .arg("--from")
            .arg(release.path())
            .arg("--prefix")
            .arg(&prefix));
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("does not match SHA256SUMS")
                && stderr(&out).contains("nothing was installed"),
            "{}",
            stderr(&out)
        );
        assert!(!prefix.exists(), "{shell:?}: the prefix was created");
    }
    // An archive SHA256SUMS does not list is refused the same way.
    fs::write(release.path().join("SHA256SUMS"), "").unwrap();
    let out = run(install_sh(&["dash"], release.path())
        .arg("--prefix")
        .arg(&prefix));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!prefix.exists());
}

/// A directory of busybox applet links: with only it on PATH, install.sh runs with busybox's
/// sh, tar, sha256sum and wget (no curl), as on a minimal server.
fn busybox_path(dir: &Path, busybox: &Path) -> PathBuf {
    let bin = dir.join("busybox-bin");
    fs::create_dir(&bin).unwrap();
    for applet in [
        "sh",
        "uname",
        "mktemp",
        "rm",
        "cp",
        "mv",
        "mkdir",
        "rmdir",
        "chmod",
        "cmp",
        "find",
        "sed",
        "awk",
        "grep",
        "cut",
        "tr",
        "gzip",
        "tar",
        "sha256sum",
        "wget",
        "dirname",
        "cat",
    ] {
        std::os::unix::fs::symlink(busybox, bin.join(applet)).unwrap();
    }
    bin
}

#[test]
fn install_sh_downloads_over_http_with_curl_and_with_busybox_wget() {
    let Some(release) = x86_release() else { return };
    let server = http::Server::start();
    for name in ["SHA256SUMS", &tarball(X86)] {
        server.put(
            &format!("/releases/{name}"),
            &fs::read(release.path().join(name)).unwrap(),
            None,
        );
    }
    let url = server.url("/releases/");
    let dir = tempfile::tempdir().unwrap();

    let with_curl = dir.path().join("with-curl");
    stdout(&run(install_sh(&["dash"], release.path())
        .args(["--from", &url, "--prefix"])
        .arg(&with_curl)));
    assert_installed(&with_curl, release.path());

    let busybox = find_tool("busybox");
    if must_have("busybox", busybox.is_some()) {
        let busybox = busybox.unwrap();
        let with_wget = dir.path().join("with-wget");
        let out = run(
            install_sh(&[busybox.to_str().unwrap(), "sh"], release.path())
                .args(["--from", &url, "--prefix"])
                .arg(&with_wget)
                .env("PATH", busybox_path(dir.path(), &busybox)),
        );
        stdout(&out);
        assert_installed(&with_wget, release.path());
    }
    let fetched = server.requests();
    let archive = format!("/releases/{}", tarball(X86));
    assert!(fetched.iter().filter(|(path, _)| *path == archive).count() >= 2);
}

/// A PATH whose `uname` says Linux on `machine`, the rest as the host has it.
fn fake_machine(dir: &Path, machine: &str) -> std::ffi::OsString {
    let bin = dir.join(format!("uname-{machine}"));
    fs::create_dir(&bin).unwrap();
    let uname = bin.join("uname");
    fs::write(
        &uname,
        format!("#!/bin/sh\ncase $1 in -m) echo {machine} ;; *) echo Linux ;; esac\n"),
    )
    .unwrap();
    fs::set_permissions(&uname, fs::Permissions::from_mode(0o755)).unwrap();
    let mut paths = vec![bin];
    paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap()));
    std::env::join_paths(paths).unwrap()
}

#[test]
fn install_sh_picks_the_archive_of_the_machine_it_runs_on() {
    let Some(dist) = dist() else { return };
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("prefix");
    let out = run(install_sh(&["dash"], &dist)
        .arg("--prefix")
        .arg(&prefix)
        .env("PATH", fake_machine(dir.path(), "mips64")));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("unsupported architecture mips64"));
    assert!(!prefix.exists());

    // aarch64 (arm64 as macOS and some distros say): the aarch64 archive is verified; it then
    // installs only if this host runs aarch64 binaries (qemu registered with binfmt_misc).
    let out = run(install_sh(&["dash"], &dist)
        .arg("--prefix")
        .arg(&prefix)
        .env("PATH", fake_machine(dir.path(), "arm64")));
    assert!(
        stderr(&out).contains(&format!("{} matches SHA256SUMS", tarball(ARM))),
        "{}",
        stderr(&out)
    );
    if out.status.success() {
        assert_eq!(elf(&prefix.join("bin/whatap")), (EM_AARCH64, false));
    } else {
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        assert!(stderr(&out).contains("does not run on this host"));
        assert!(!prefix.exists());
    }
}
