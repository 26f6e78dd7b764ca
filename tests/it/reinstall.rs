//! A reinstall with other options replaces our own part instead of refusing it ("uninstall
//! first"), for the runtimes whose options are spliced (JEUS, Resin, WebSphere) or written
//! whole (the Spring Boot drop-in); self-closing parents (`<jvm-config/>`,
//! `<server-default/>`) are expanded. Uninstall after either gives back the original bytes.

use crate::common::*;
use std::fs;
use std::path::Path;

/// Installs with --port 8080, again with --port 9090: `file` holds only the second; a third
/// run changes nothing; uninstall restores every byte of `tree`.
fn replaced(dir: &Path, tree: &Path, install: &[String], uninstall: &[String], file: &Path) {
    let state = dir.join("state");
    let before = tree_bytes(tree);
    let run = |port: &str| {
        let out = whatap(&state)
            .args(with_flag(install.to_vec(), "--port", port))
            .args(["--yes", "--json"])
            .output()
            .unwrap();
        let report = json(&out.stdout);
        assert!(out.status.success(), "{}: {report}", file.display());
        report
    };
    run("8080");
    assert_eq!(run("9090")["changed"], true);
    let text = fs::read_to_string(file).unwrap();
    assert!(
        text.contains("-Dwhatap.port=9090") && !text.contains("-Dwhatap.port=8080"),
        "{text}"
    );
    if file.extension().is_some_and(|e| e == "xml") {
        crate::install_jeus::assert_well_formed(text.as_bytes(), &file.display().to_string());
    }
    assert_eq!(run("9090")["changed"], false);
    whatap(&state)
        .args(uninstall)
        .arg("--yes")
        .assert()
        .success();
    assert_same_tree(&tree_bytes(tree), &before, "after uninstall");
}

fn fixture_replaced(product: &str, name: &str, runtime: &str, extra: &[&str], file: &str) {
    let (dir, home) = product_fixture(product, name);
    replaced(
        dir.path(),
        &home,
        &runtime_install(&home, runtime, 8080, extra),
        &runtime_uninstall(&home, runtime, &[]),
        &home.join(file),
    );
}

#[test]
fn jeus_resin_and_websphere_replace_their_own_options() {
    fixture_replaced(
        "jeus",
        "jeus8",
        "jeus",
        &[],
        "domains/jeus_domain/config/domain.xml",
    );
    fixture_replaced("jeus", "jeus6", "jeus", &[], "config/node1/JEUSMain.xml");
    fixture_replaced(
        "resin",
        "resin-4.0.66",
        "resin",
        &[],
        "conf/resin.properties",
    );
    fixture_replaced(
        "websphere",
        "AppSrv01",
        "websphere",
        &[],
        "config/cells/cell01/nodes/node01/servers/server1/server.xml",
    );
}

#[test]
fn self_closing_parents_are_expanded_and_put_back() {
    // JEUS: a server whose <jvm-config/> is empty.
    let (dir, home) = product_fixture("jeus", "jeus8");
    let config = home.join("domains/jeus_domain/config/domain.xml");
    let text = fs::read_to_string(&config).unwrap();
    let (start, end) = (
        text.rfind("<jvm-config>").unwrap(),
        text.rfind("</jvm-config>").unwrap() + "</jvm-config>".len(),
    );
    fs::write(
        &config,
        format!("{}<jvm-config/>{}", &text[..start], &text[end..]),
    )
    .unwrap();
    replaced(
        dir.path(),
        &home,
        &runtime_install(&home, "jeus", 8080, &[]),
        &runtime_uninstall(&home, "jeus", &[]),
        &config,
    );
    // Resin: <server-default/> with --method xml.
    let (dir, home) = product_fixture("resin", "resin-4.0.66");
    let xml = home.join("conf/resin.xml");
    let text = fs::read_to_string(&xml).unwrap();
    fs::write(
        &xml,
        text.replace(
            "<cluster id=\"app\">\n",
            "<cluster id=\"app\">\n    <server-default/>\n",
        ),
    )
    .unwrap();
    replaced(
        dir.path(),
        &home,
        &runtime_install(&home, "resin", 8080, &["--method", "xml"]),
        &runtime_uninstall(&home, "resin", &[]),
        &xml,
    );
    assert!(
        fs::read_to_string(&xml)
            .unwrap()
            .contains("<server-default/>"),
        "put back as it was"
    );
}

#[test]
fn the_spring_boot_drop_in_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let systemd = dir.path().join("systemd");
    let unit = format!("whatap-test-reinstall-{}", std::process::id());
    let mut install = install_args_for(
        ["--runtime", "springboot", "--unit", &unit, "--systemd-dir"]
            .map(String::from)
            .into_iter()
            .chain([systemd.display().to_string()]),
    );
    install.extend([
        "--whatap-home".to_string(),
        dir.path().join("whatap").display().to_string(),
    ]);
    fs::create_dir_all(&systemd).unwrap();
    let uninstall: Vec<String> = ["uninstall", "--unit", &unit, "--systemd-dir"]
        .map(String::from)
        .into_iter()
        .chain([systemd.display().to_string()])
        .collect();
    replaced(
        dir.path(),
        &systemd,
        &install,
        &uninstall,
        &systemd.join(format!("{unit}.service.d/whatap.conf")),
    );
}
