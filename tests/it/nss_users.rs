//! The user of a process comes from NSS, not from parsing /etc/passwd: a service account that
//! only a directory service knows (LDAP / SSSD here stood in for by Debian's
//! libnss-extrausers, in a private mount namespace whose nsswitch.conf names it) is named in
//! `detect`.

use crate::common::*;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

const EXTRAUSERS: &str = "/usr/lib/libnss_extrausers.so.2";
const UID: u32 = 4242;

#[test]
fn a_process_user_known_only_to_nss_is_named() {
    if !must_have(
        "root and libnss-extrausers",
        is_root() && Path::new(EXTRAUSERS).exists(),
    ) {
        return;
    }
    let (dir, home) = fixture("tomcat9");
    let nss = dir.path().join("nsswitch.conf");
    std::fs::write(&nss, "passwd: files extrausers\ngroup: files extrausers\n").unwrap();
    let extra = dir.path().join("extrausers");
    std::fs::create_dir(&extra).unwrap();
    std::fs::write(
        extra.join("passwd"),
        format!("ldapsvc:x:{UID}:{UID}:directory service account:/nonexistent:/usr/sbin/nologin\n"),
    )
    .unwrap();
    std::fs::write(extra.join("group"), format!("ldapsvc:x:{UID}:\n")).unwrap();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    assert!(
        !passwd
            .lines()
            .any(|l| l.split(':').nth(2) == Some(&UID.to_string())),
        "uid {UID} is in /etc/passwd: the test needs one only NSS knows"
    );

    // A Tomcat-shaped command line (`java -Dcatalina.home=... Bootstrap start`) run by the
    // service account; the shell waits on its stdin, killed on drop.
    let home_flag = format!("-Dcatalina.home={}", home.display());
    let base_flag = format!("-Dcatalina.base={}", home.display());
    let tomcat = Jvm::spawn(
        Command::new("/bin/bash")
            .arg0("java")
            .args(["-c", "read -r _", &home_flag, &base_flag])
            .args(["org.apache.catalina.startup.Bootstrap", "start"])
            .uid(UID)
            .gid(UID)
            .stdin(Stdio::piped()),
    );

    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg(r#"mount --bind "$1" /etc/nsswitch.conf && mount --bind "$2" /var/lib/extrausers && shift 2 && exec "$@""#)
        .arg("sh")
        .arg(&nss)
        .arg(&extra)
        .arg(env!("CARGO_BIN_EXE_whatap"))
        .args(["detect", "--json"])
        .env("WHATAP_STATE_DIR", dir.path().join("state"))
        .env("LANG", "C")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out.stdout);
    let found = report["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["pid"] == tomcat.pid())
        .unwrap_or_else(|| panic!("the Tomcat process was not detected: {report:#}"));
    assert_eq!(found["user"], "ldapsvc", "{found:#}");
}
