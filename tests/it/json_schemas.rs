//! Every command's `--json` document validates against its schema in docs/schemas/
//! (detect, install/uninstall = change, doctor, report, errors) and carries the metadata, on
//! fixture trees; every failure (exit 2 to 5) is an error document.

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
    check_env(state, args, &[], schema, exit)
}

fn check_env(state: &Path, args: &[&str], env: &[(&str, &str)], schema: &str, exit: i32) -> Value {
    let out = whatap(state)
        .args(args)
        .arg("--json")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(exit),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_valid(schema, &doc);
    assert_eq!(doc["schema_version"], 2, "{doc:#}");
    assert_eq!(doc["whatap_version"], env!("CARGO_PKG_VERSION"));
    if exit >= 2 {
        assert_eq!(doc["error"]["exit_code"], exit, "{doc:#}");
        assert!(doc.get("changed").is_none(), "a success shape: {doc:#}");
    }
    doc
}

/// The metadata of `parent` added to `item`: a nested report (doctor's `fixes`) has none of
/// its own.
fn with_metadata(item: &Value, parent: &Value) -> Value {
    let mut item = item.clone();
    for key in ["schema_version", "whatap_version", "host", "generated_at"] {
        item[key] = parent[key].clone();
    }
    item
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
    assert_eq!(plan["changed"], true, "a dry run says what it would change");
    // No --yes and no terminal: refused (exit 3), an error document with the plan.
    let refused = check(&state, &install, "error", 3);
    assert_eq!(refused["error"]["kind"], "refused");
    assert!(!refused["plan"]["files"].as_array().unwrap().is_empty());
    // A write in the state dir fails (the backups, written first), or apply fails once they
    // are written: both are rolled back (exit 4).
    let yes = [install.as_slice(), &["--yes"]].concat();
    for (step, exit, kind) in [("1", 4, "rolled-back"), ("5", 4, "rolled-back")] {
        let failed = check_env(
            &state,
            &yes,
            &[("WHATAP_TEST_FAIL_STEP", step)],
            "error",
            exit,
        );
        assert_eq!(failed["error"]["kind"], kind);
    }
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
        assert_valid("change", &with_metadata(fix, &fixed));
        assert_eq!(fix["changed"], true, "would change: {fix:#}");
    }
    // --fix without --yes and no terminal: refused like install.
    let refused = check(
        &state,
        &[doctor.as_slice(), &["--fix"]].concat(),
        "error",
        3,
    );
    assert!(!refused["plan"]["diff"].as_str().unwrap().is_empty());
    // The same document, also written to --output; the report of many hosts' documents.
    let saved = dir.path().join("doctor-web-01.json");
    let out = check(
        &state,
        &[doctor.as_slice(), &["--output", saved.to_str().unwrap()]].concat(),
        "doctor",
        0,
    );
    assert_eq!(json(&fs::read(&saved).unwrap()), out);
    let report = check(&state, &["report", saved.to_str().unwrap()], "report", 0);
    assert_eq!(report["hosts"][0]["host"], out["host"]);
    fs::remove_dir_all(&lib1).unwrap();
    check(&state, &["doctor", "--list-rules"], "doctor", 0);

    check(
        &state,
        &["uninstall", "--home", &home_s, "--yes"],
        "change",
        0,
    );
    let history = check(&state, &["history"], "history", 0);
    let results: Vec<&str> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["result"].as_str().unwrap())
        .collect();
    assert!(
        results.contains(&"rolled-back") && results.contains(&"applied"),
        "{history:#}"
    );

    // Errors: usage (2), refused (3), internal (5).
    check(&state, &["install", "--home", &home_s], "error", 2);
    check(&state, &["doctor", "--log", "/nonexistent/log"], "error", 2);
    let unparsed = check(&state, &["install", "--no-such-flag"], "error", 2);
    assert_eq!(unparsed["command"], "install");
    assert_eq!(unparsed["error"]["kind"], "bad-input");
    check(&state, &["report", "/nonexistent/doctor.json"], "error", 2);
    let unwritable = check(
        &state,
        &["detect", "--output", "/nonexistent/dir/detect.json"],
        "error",
        5,
    );
    assert_eq!(unwritable["error"]["kind"], "internal");
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
fn the_schemas_pin_the_shape_and_allow_more_keys() {
    let meta = serde_json::json!({"schema_version": 2, "whatap_version": "0.1.0",
        "host": "web-01", "generated_at": "2026-12-01T09:30:00Z"});
    let doc = |body: Value| {
        let mut doc = meta.clone();
        doc.as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        doc
    };
    let bad = doc(serde_json::json!({"command": "detect", "runtimes": [{"runtime": "tomcat"}]}));
    assert!(!schema("detect").is_valid(&bad));
    let error = serde_json::json!({"command": "install",
        "error": {"kind": "bad-input", "message": "m", "hint": null, "exit_code": 2}});
    assert!(schema("error").is_valid(&doc(error.clone())));
    // The contract allows extra keys; it requires the metadata.
    let mut extra = doc(error.clone());
    extra["more"] = 1.into();
    extra["error"]["more"] = 1.into();
    assert!(schema("error").is_valid(&extra));
    assert!(!schema("error").is_valid(&error), "no metadata");
    let mut wrong_code = doc(error.clone());
    wrong_code["error"]["exit_code"] = 0.into();
    assert!(!schema("error").is_valid(&wrong_code));
    let mut wrong_kind = doc(error);
    wrong_kind["error"]["kind"] = "oops".into();
    assert!(!schema("error").is_valid(&wrong_kind));
}

/// A Node.js app's documents: detect lists it with its details, the install, doctor and
/// uninstall reports, and the error document of a flag Node.js is not picked by.
#[test]
fn nodejs_documents_match_their_schemas() {
    if node::agent_tarball().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let app = fs::canonicalize(dir.path()).unwrap().join("shop");
    node::with_agent_installed(&app, "shop");
    let state = dir.path().join("state");
    let mut reaper = Reaper::default();
    reaper.spawn(
        std::process::Command::new("node")
            .arg("server.js")
            .env("PORT", free_port().to_string())
            .current_dir(&app),
    );
    let app_s = app.display().to_string();
    let found = check(&state, &["detect"], "detect", 0);
    let entry = found["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["runtime"] == "nodejs" && r["home"] == app_s.as_str())
        .unwrap_or_else(|| panic!("{app_s} not detected: {found:#}"))
        .clone();
    assert_eq!(entry["details"]["launcher"], "manual", "{entry:#}");
    let target = ["--runtime", "nodejs", "--app-dir", app_s.as_str()];
    let licensed = ["--license", LICENSE, "--host", "127.0.0.1", "--yes"];
    let install = check(
        &state,
        &[&["install"], &target[..], &licensed[..]].concat(),
        "change",
        0,
    );
    assert_eq!(install["changed"], true);
    // Running without the agent until it is restarted: an error finding, exit 1.
    let doctor = check(
        &state,
        &[&["doctor"], &target[..], &["--no-network"]].concat(),
        "doctor",
        1,
    );
    assert!(
        finding_ids(&doctor).contains(&"nodejs-agent-not-loaded".to_string()),
        "{doctor:#}"
    );
    check(
        &state,
        &[&["uninstall"], &target[..], &["--yes"]].concat(),
        "change",
        0,
    );
    let refused = check(
        &state,
        &["doctor", "--runtime", "nodejs", "--home", &app_s],
        "error",
        2,
    );
    assert_eq!(refused["error"]["kind"], "bad-input", "{refused:#}");
}
