//! JEUS 7/8 domain.xml and JEUS 6 JEUSMain.xml: golden diffs on fixture trees, and a round
//! trip over every real upstream file in ../shared/corpus/jeus-xml (install: still well-formed,
//! every server has the agent; uninstall: the exact original bytes).

use crate::common::*;
use std::fs;
use std::path::Path;

/// Parses the whole document with quick-xml (end names checked): well-formed or panic.
pub fn assert_well_formed(bytes: &[u8], what: &str) {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut depth = 0i32;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{what}: not well-formed: {e}"),
        }
    }
    assert_eq!(depth, 0, "{what}: unbalanced");
}

/// Install then uninstall on a JEUS tree; returns the diff and the installed bytes of `config`.
fn jeus_round_trip(dir: &Path, home: &Path, config: &Path) -> (String, Vec<u8>) {
    let mut installed = Vec::new();
    let diff = round_trip(
        dir,
        home,
        &runtime_install(home, "jeus", 8088, &[]),
        &runtime_uninstall(home, "jeus", &[]),
        || {
            installed = fs::read(config).unwrap();
            assert_well_formed(&installed, &config.display().to_string());
        },
    );
    (diff, installed)
}

#[test]
fn jeus8_domain_xml_with_crlf_tabs_and_comments() {
    let (dir, home) = product_fixture("jeus", "jeus8");
    let config = home.join("domains/jeus_domain/config/domain.xml");
    let (diff, installed) = jeus_round_trip(dir.path(), &home, &config);
    let text = String::from_utf8(installed).unwrap();
    // The managed server only: adminServer gets it with --server.
    assert_eq!(text.matches("<jvm-option>-javaagent:").count(), 1, "{text}");
    assert!(!text.replace("\r\n", "").contains('\n'), "CRLF kept");
    insta::assert_snapshot!("jeus8-domain", diff);
}

#[test]
fn jeus6_command_option() {
    let (dir, home) = product_fixture("jeus", "jeus6");
    let config = home.join("config/node1/JEUSMain.xml");
    let (diff, installed) = jeus_round_trip(dir.path(), &home, &config);
    assert!(
        String::from_utf8(installed)
            .unwrap()
            .contains("-XX:MaxPermSize=128m -javaagent:")
    );
    insta::assert_snapshot!("jeus6-main", diff);
}

#[test]
fn every_real_jeus_file_round_trips() {
    let files = corpus("jeus-xml");
    assert!(files.len() >= 10, "corpus not found");
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("jeus");
        let config = if name.starts_with("jeus6") {
            home.join("config/node1/JEUSMain.xml")
        } else {
            home.join("domains/d1/config/domain.xml")
        };
        fs::create_dir_all(config.parent().unwrap()).unwrap();
        fs::write(&config, fs::read(&file).unwrap()).unwrap();
        let original = fs::read(&config).unwrap();
        let (_, installed) = jeus_round_trip(dir.path(), &home, &config);
        let text = String::from_utf8_lossy(&installed);
        let servers = String::from_utf8_lossy(&original)
            .matches("<server>")
            .count();
        let agents = text.matches("-javaagent:").count()
            - String::from_utf8_lossy(&original)
                .matches("-javaagent:")
                .count();
        if name.starts_with("jeus6") {
            assert!(agents >= 1, "{name}");
        } else {
            assert!(
                agents >= servers.min(1),
                "{name}: {agents} agents, {servers} servers"
            );
        }
        // Everything before the first insertion is untouched, byte for byte.
        let first = installed
            .iter()
            .zip(&original)
            .position(|(a, b)| a != b)
            .unwrap();
        assert!(
            String::from_utf8_lossy(&installed[first..])
                .trim_start()
                .starts_with("<jvm-option>-javaagent")
                || installed[first..].starts_with(b" -javaagent")
                || String::from_utf8_lossy(&installed[first..])
                    .trim_start()
                    .starts_with("<command-option>"),
            "{name}: first change is not ours"
        );
    }
}

#[test]
fn server_flags_pick_the_servers_and_the_plan_names_them() {
    let (dir, home) = product_fixture("jeus", "jeus8");
    let config = home.join("domains/jeus_domain/config/domain.xml");
    let state = dir.path().join("state");
    let out = whatap(&state)
        .args(runtime_install(
            &home,
            "jeus",
            8088,
            &[
                "--server",
                "adminServer",
                "--server",
                "server1",
                "--yes",
                "--json",
            ],
        ))
        .output()
        .unwrap();
    let report = json(&out.stdout);
    assert!(out.status.success(), "{report}");
    assert!(
        report["warnings"]
            .to_string()
            .contains("the agent goes to: adminServer, server1"),
        "{report}"
    );
    let text = fs::read_to_string(&config).unwrap();
    assert_eq!(text.matches("<jvm-option>-javaagent:").count(), 2, "{text}");
    refuses_unknown_server(
        &state,
        &home,
        &runtime_install(&home, "jeus", 8088, &[]),
        "adminServer, server1",
    );
}

/// A JEUS 6 node from the real quickstart JEUSMain.xml (node `qs`, engine container
/// `container1`), with a second engine container added before `</node>`.
fn jeus6_two_containers() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let real = corpus("jeus-xml")
        .into_iter()
        .find(|f| {
            f.to_string_lossy()
                .contains("quickstart_config_qs-JEUSMain")
        })
        .expect("the quickstart JEUSMain.xml in ../shared/corpus/jeus-xml");
    let text = fs::read_to_string(real).unwrap().replacen(
        "    </node>",
        "        <engine-container>\n            <name>container2</name>\n            <command-option>-Xmx128m</command-option>\n        </engine-container>\n    </node>",
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("jeus6");
    let config = home.join("config/qs/JEUSMain.xml");
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    fs::write(&config, text).unwrap();
    (dir, home, config)
}

#[test]
fn jeus6_server_flag_picks_engine_containers_by_name_or_node_name() {
    let (dir, home, config) = jeus6_two_containers();
    // Default: every engine container, named in the plan.
    let state = dir.path().join("state");
    let install = runtime_install(&home, "jeus", 8088, &[]);
    assert!(
        plan_warnings(&state, &install).contains("engine containers: container1, container2"),
        "default"
    );
    // The JEUS 6 full name `<node>_<container>` picks container2 only; the round trip is exact.
    let original = fs::read_to_string(&config).unwrap();
    round_trip(
        dir.path(),
        &home,
        &runtime_install(&home, "jeus", 8088, &["--server", "qs_container2"]),
        &runtime_uninstall(&home, "jeus", &[]),
        || {
            let installed = fs::read_to_string(&config).unwrap();
            assert_well_formed(installed.as_bytes(), "JEUSMain.xml");
            assert_eq!(installed.matches("-javaagent:").count(), 1, "{installed}");
            assert!(
                installed.contains("<command-option>-Xmx128m -javaagent:"),
                "{installed}"
            );
            let container1 = original
                .lines()
                .find(|l| l.contains("<command-option>"))
                .unwrap();
            assert!(installed.contains(container1), "container1 untouched");
        },
    );
    // The short name works too; an unknown one is exit 2 with the names there are.
    let warnings = plan_warnings(
        &state,
        &with_flag(install.clone(), "--server", "container1"),
    );
    assert!(
        warnings.contains("engine containers: container1 ("),
        "{warnings}"
    );
    refuses_unknown_server(&state, &home, &install, "container1, container2");
}
