//! systemd sandboxing: a service with `ProtectSystem=strict` cannot write a WhaTap home its
//! `ReadWritePaths=` do not cover. Debian's real tomcat10 unit (install offers the drop-in),
//! and a unit written here for a fixture Tomcat: install with `--unit` adds the drop-in, doctor
//! names the line and `--fix` writes it, uninstall takes it away.

use crate::common::*;
use std::fs;
use std::path::Path;

#[test]
fn debian_tomcat10_unit_gets_read_write_paths_for_the_home() {
    let unit = Path::new("/lib/systemd/system/tomcat10.service");
    if !must_have("Debian's tomcat10 package (its unit file)", unit.is_file()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let systemd = dir.path().join("systemd");
    let out = whatap(&dir.path().join("state"))
        .args(install_args(Path::new("/usr/share/tomcat10")))
        .arg("--systemd-dir")
        .arg(&systemd)
        .args(["--dry-run", "--json"])
        .output()
        .unwrap();
    let report = json(&out.stdout);
    assert!(out.status.success(), "{report}");
    let diff = report["diff"].as_str().unwrap();
    assert!(
        diff.contains("tomcat10.service.d/whatap-paths.conf")
            && diff.contains("+ReadWritePaths=-/var/lib/tomcat10/whatap"),
        "{diff}"
    );
    assert!(
        report["warnings"]
            .to_string()
            .contains("ProtectSystem=strict"),
        "{report}"
    );
    assert!(!systemd.exists(), "a dry run writes nothing");
}

/// `doctor --json --no-network` of the fixture Tomcat `home` run by the unit `service` names.
fn doctor(state: &Path, home: &Path, service: &[String], extra: &[&str]) -> serde_json::Value {
    let out = whatap(state)
        .args([
            "doctor",
            "--json",
            "--no-network",
            "--runtime",
            "tomcat",
            "--home",
        ])
        .arg(home)
        .args(service)
        .args(extra)
        .output()
        .unwrap();
    json(&out.stdout)
}

fn unit(dir: &Path, name: &str, home: &Path) -> std::path::PathBuf {
    let systemd = dir.join("systemd");
    fs::create_dir_all(&systemd).unwrap();
    fs::write(
        systemd.join(format!("{name}.service")),
        format!(
            "[Unit]\nDescription=tomcat\n\n[Service]\nUser=tomcat\nProtectSystem=strict\nReadWritePaths={}/logs/\nExecStart=/bin/sh {}/bin/catalina.sh run\n",
            home.display(),
            home.display()
        ),
    )
    .unwrap();
    systemd
}

#[test]
fn install_adds_the_drop_in_doctor_names_it_and_fix_writes_it() {
    let name = format!("whatap-test-tomcat-{}", std::process::id());
    // Install with --unit: the drop-in is part of the plan, recorded, and undone.
    let (dir, home) = fixture("tomcat9");
    let systemd = unit(dir.path(), &name, &home);
    let before = tree_bytes(&systemd);
    let state = dir.path().join("state");
    let service = [
        "--unit".to_string(),
        name.clone(),
        "--systemd-dir".to_string(),
        systemd.display().to_string(),
    ];
    whatap(&state)
        .args(install_args(&home))
        .args(["--runtime", "tomcat"])
        .args(&service)
        .arg("--yes")
        .assert()
        .success();
    let drop_in = systemd.join(format!("{name}.service.d/whatap-paths.conf"));
    assert!(
        fs::read_to_string(&drop_in)
            .unwrap()
            .contains(&format!("ReadWritePaths=-{}/whatap\n", home.display()))
    );
    assert_eq!(
        finding_ids(&doctor(&state, &home, &service, &[])),
        Vec::<String>::new()
    );
    whatap(&state)
        .args(["uninstall", "--yes"])
        .assert()
        .success();
    assert_same_tree(
        &tree_bytes(&systemd),
        &before,
        "systemd dir after uninstall",
    );

    // Installed without it: doctor names the unit's line, --fix writes the drop-in.
    let (dir, home, state) = installed("tomcat9");
    let systemd = unit(dir.path(), &name, &home);
    let service = [
        "--unit".to_string(),
        name.clone(),
        "--systemd-dir".to_string(),
        systemd.display().to_string(),
    ];
    let report = doctor(&state, &home, &service, &[]);
    assert_eq!(finding_ids(&report), ["systemd-read-only-home"], "{report}");
    let evidence = report["findings"][0]["evidence"].as_str().unwrap();
    assert!(
        evidence.contains(&format!("{name}.service:6: ProtectSystem=strict")),
        "{evidence}"
    );
    let fixed = doctor(&state, &home, &service, &["--fix", "--yes"]);
    assert_eq!(fixed["fixes"][0]["changed"], true, "{fixed}");
    assert_eq!(
        finding_ids(&doctor(&state, &home, &service, &[])),
        Vec::<String>::new()
    );
    whatap(&state)
        .args(["uninstall", "--yes"])
        .assert()
        .success();
    assert!(!systemd.join(format!("{name}.service.d")).exists());
}
