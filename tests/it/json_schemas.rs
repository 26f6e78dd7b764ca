//! Every command's `--json` document validates against its schema in docs/schemas/
//! (detect, install/uninstall = change, doctor, errors), on fixture trees.

use crate::common::*;
use serde_json::Value;
use std::fs;
use std::path::Path;

fn schema(name: &str) -> jsonschema::Validator {
    let path = repo()
        .join("docs/schemas")
        .join(format!("{name}.schema.json"));
    let text = fs::read_to_string(&path).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn assert_valid(name: &str, doc: &Value) {
    let errors: Vec<String> = schema(name)
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:#?}\n{doc:#}");
}

/// Runs the command; the document on stdout, validated by exit code: errors against
/// error.schema.json, anything else against `schema`.
fn check(state: &Path, args: &[&str], schema: &str, exit: i32) -> Value {
    let out = whatap(state).args(args).arg("--json").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(exit),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_valid(schema, &doc);
    doc
}

#[test]
fn every_command_matches_its_schema() {
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let home_s = home.display().to_string();
    let install_args = install_args(&home);
    let install: Vec<&str> = install_args.iter().map(String::as_str).collect();

    check(&state, &["detect"], "detect", 0);
    let plan = check(
        &state,
        &[install.as_slice(), &["--dry-run"]].concat(),
        "change",
        0,
    );
    assert_eq!(plan["dry_run"], true);
    // No --yes and no terminal: the plan is the document, exit 3.
    check(&state, &install, "change", 3);
    let done = check(
        &state,
        &[install.as_slice(), &["--yes"]].concat(),
        "change",
        0,
    );
    assert_eq!(done["changed"], true);

    // A sigar library without exec bits gives doctor --fix something to plan.
    let lib1 = home.join("whatap/lib1");
    fs::create_dir_all(&lib1).unwrap();
    fs::write(lib1.join("libsigar-amd64-linux.so"), b"\x7fELF").unwrap();
    let doctor = ["doctor", "--home", &home_s, "--no-network"];
    let found = check(&state, &doctor, "doctor", 0);
    assert!(!found["findings"].as_array().unwrap().is_empty());
    let fixed = check(
        &state,
        &[doctor.as_slice(), &["--fix", "--dry-run"]].concat(),
        "doctor",
        0,
    );
    let fixes = fixed["fixes"].as_array().unwrap();
    assert!(!fixes.is_empty(), "{fixed:#}");
    for fix in fixes {
        assert_valid("change", fix);
    }
    fs::remove_dir_all(&lib1).unwrap();
    check(&state, &["doctor", "--list-rules"], "doctor", 0);

    check(
        &state,
        &["uninstall", "--home", &home_s, "--yes"],
        "change",
        0,
    );

    // Errors: usage (2) and refused (3).
    check(&state, &["install", "--home", &home_s], "error", 2);
    check(&state, &["doctor", "--log", "/nonexistent/log"], "error", 2);
    let hostile = dir.path().join("hostile.zip");
    let mut zip = zip::ZipWriter::new(fs::File::create(&hostile).unwrap());
    zip.start_file("../escape", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.finish().unwrap();
    let mut refused = install_args_without_agent(&home);
    refused.extend(["--agent-archive".into(), hostile.display().to_string()]);
    let refused: Vec<&str> = refused.iter().map(String::as_str).collect();
    check(&state, &refused, "error", 3);
}

#[test]
fn the_schemas_are_strict() {
    let bad = serde_json::json!({"command": "detect", "runtimes": [{"runtime": "tomcat"}]});
    assert!(!schema("detect").is_valid(&bad));
    let extra = serde_json::json!({"command": "install", "error": {"message": "m", "hint": null, "exit_code": 2}, "more": 1});
    assert!(!schema("error").is_valid(&extra));
    let wrong_code = serde_json::json!({"command": "install", "error": {"message": "m", "hint": null, "exit_code": 0}});
    assert!(!schema("error").is_valid(&wrong_code));
}
