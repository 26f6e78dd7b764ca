//! `whatap install --runtime nodejs` on apps in temp dirs where the agent package is already
//! installed (no npm run): each start form round-trips byte for byte (a pm2 ecosystem JSON, a
//! start script, a systemd unit given by path); and what is refused with nothing changed: a
//! node older than the package's `engines`, agent sources that are not the whatap tarball, an
//! app without package.json, values that cannot be edited safely.

use crate::common::node::*;
use crate::common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn install_args(target: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["install", "--runtime", "nodejs"]
        .iter()
        .chain(target)
        .map(|s| s.to_string())
        .collect();
    args.extend(["--license", LICENSE, "--host", "127.0.0.1"].map(String::from));
    args
}

/// An app with the agent installed, in a temp dir: (dir, canonical app path).
fn app(name: &str) -> Option<(tempfile::TempDir, PathBuf)> {
    agent_tarball()?;
    let dir = tempfile::tempdir().unwrap();
    let app = fs::canonicalize(dir.path()).unwrap().join(name);
    with_agent_installed(&app, name);
    Some((dir, app))
}

#[test]
fn an_ecosystem_json_round_trips() {
    let Some((dir, app)) = app("api") else { return };
    let ecosystem = app.join("ecosystem.json");
    let original = "{\r\n  \"apps\": [\r\n    {\r\n      \"name\": \"api\",\r\n      \"script\": \"server.js\",\r\n      \"node_args\": [\"--max-old-space-size=512\"],\r\n      \"env\": {}\r\n    },\r\n    {\r\n      \"name\": \"worker\",\r\n      \"script\": \"worker.js\"\r\n    }\r\n  ]\r\n}";
    fs::write(&ecosystem, original).unwrap();
    let ecosystem_s = ecosystem.display().to_string();
    let diff = round_trip(
        dir.path(),
        &app,
        &install_args(&["--start-script", &ecosystem_s, "--unit", "api"]),
        &[
            "uninstall",
            "--runtime",
            "nodejs",
            "--start-script",
            &ecosystem_s,
            "--unit",
            "api",
        ]
        .map(String::from),
        || {
            let text = fs::read_to_string(&ecosystem).unwrap();
            let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
            let agent = app.join("node_modules/whatap").display().to_string();
            assert_eq!(
                parsed["apps"][0]["node_args"],
                serde_json::json!(["--max-old-space-size=512", "--require", agent])
            );
            assert_eq!(
                parsed["apps"][0]["env"]["WHATAP_HOME"],
                app.join("whatap").to_str().unwrap()
            );
            assert!(parsed["apps"][1].get("node_args").is_none());
        },
    );
    insta::assert_snapshot!("nodejs-ecosystem-json", diff);
}

#[test]
fn a_start_script_round_trips() {
    let Some((dir, app)) = app("web") else { return };
    let script = app.join("bin/start.sh");
    fs::create_dir_all(script.parent().unwrap()).unwrap();
    // A node line with prefixes, and no final newline.
    fs::write(
        &script,
        "#!/bin/bash\nset -e\ncd /srv/web\nNODE_ENV=production nohup /usr/bin/node --enable-source-maps server.js >> web.log 2>&1 &",
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o750)).unwrap();
    let script_s = script.display().to_string();
    let app_s = app.display().to_string();
    let diff = round_trip(
        dir.path(),
        &app,
        &install_args(&["--app-dir", &app_s, "--start-script", &script_s]),
        &["uninstall", "--runtime", "nodejs", "--app-dir", &app_s].map(String::from),
        || {
            let mode = fs::metadata(&script).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o750, "the script keeps its mode");
        },
    );
    insta::assert_snapshot!("nodejs-start-script", diff);
}

#[test]
fn a_unit_given_by_path_round_trips() {
    let Some((dir, app)) = app("jobs") else {
        return;
    };
    let units = app.parent().unwrap().join("units");
    fs::create_dir_all(&units).unwrap();
    let unit = units.join("jobs.service");
    fs::write(
        &unit,
        format!(
            "[Service]\nUser=root\nWorkingDirectory={}\nExecStart=/usr/bin/node server.js\n",
            app.display()
        ),
    )
    .unwrap();
    let unit_s = unit.display().to_string();
    let before = tree_bytes(&units);
    let diff = round_trip(
        dir.path(),
        &app,
        &install_args(&["--unit", &unit_s]),
        &["uninstall", "--runtime", "nodejs", "--unit", &unit_s].map(String::from),
        || {
            let dropin = fs::read_to_string(units.join("jobs.service.d/whatap.conf")).unwrap();
            assert!(
                dropin.contains(&format!(
                    "Environment=\"NODE_OPTIONS=--require {}\"",
                    app.join("node_modules/whatap").display()
                )),
                "{dropin}"
            );
        },
    );
    assert!(diff.contains("jobs.service.d/whatap.conf"), "{diff}");
    assert_same_tree(
        &tree_bytes(&units),
        &before,
        "the unit directory after uninstall",
    );
}

/// Refused with exit `code`, naming `says`, and nothing changed (no state dir either).
fn refused(app: &Path, state: &Path, args: &[String], code: i32, says: &str) {
    let before = app_files(app);
    let out = whatap(state).envs(npm_env()).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(stderr.contains(says), "{args:?}: {stderr}");
    assert_same_tree(&app_files(app), &before, "after a refused install");
    assert!(!state.exists(), "{args:?} created the state dir");
}

/// An npm tarball of `name` with `engines.node` = `engines`.
fn tarball(dir: &Path, name: &str, engines: &str) -> PathBuf {
    let path = dir.join(format!("{name}-9.0.0.tgz"));
    let gz = flate2::write::GzEncoder::new(
        fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    let body = format!(
        "{{\"name\": \"{name}\", \"version\": \"9.0.0\", \"engines\": {{\"node\": \"{engines}\"}}}}"
    );
    let mut header = tar::Header::new_gnu();
    header.set_size(body.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "package/package.json", body.as_bytes())
        .unwrap();
    tar.into_inner().unwrap().finish().unwrap();
    path
}

#[test]
fn a_node_older_than_the_package_engines_is_refused() {
    if agent_tarball().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let app = fs::canonicalize(dir.path()).unwrap().join("legacy");
    write_app(&app, "legacy");
    let state = dir.path().join("state");
    // A whatap release that needs a node newer than this host's.
    let newer = tarball(dir.path(), "whatap", ">=99");
    let mut args = install_args(&["--app-dir", app.to_str().unwrap()]);
    args.extend([
        "--agent-archive".into(),
        newer.display().to_string(),
        "--yes".into(),
    ]);
    refused(
        &app,
        &state,
        &args,
        2,
        "whatap 9.0.0 supports node >=99 only",
    );
}

#[test]
fn agent_sources_other_than_the_whatap_tarball_are_refused() {
    if agent_tarball().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let app = fs::canonicalize(dir.path()).unwrap().join("shop");
    write_app(&app, "shop");
    let state = dir.path().join("state");
    let base = install_args(&["--app-dir", app.to_str().unwrap()]);
    let with = |flags: &[&str]| {
        let mut args = base.clone();
        args.extend(flags.iter().map(|s| s.to_string()));
        args.push("--yes".into());
        args
    };
    let other = tarball(dir.path(), "lodash", "*");
    let text = dir.path().join("whatap-2.0.6.tgz");
    fs::write(&text, "not a tarball\n").unwrap();
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let tgz = agent_tarball().unwrap();
    for (flags, says) in [
        (
            vec![
                "--agent-archive",
                "https://registry.npmjs.org/whatap/-/whatap-2.0.6.tgz",
            ],
            "is not downloaded by URL",
        ),
        (
            vec!["--agent-archive", other.to_str().unwrap()],
            "the package is lodash, not whatap",
        ),
        (
            vec!["--agent-archive", empty.to_str().unwrap()],
            "no whatap-*.tgz",
        ),
        (
            vec!["--agent-archive", text.to_str().unwrap()],
            "not an npm package tarball",
        ),
        (
            vec![
                "--agent-archive",
                tgz.to_str().unwrap(),
                "--sha256",
                &"0".repeat(64),
            ],
            "sha256",
        ),
        (
            vec!["--method", "pm2"],
            "--method does not apply to Node.js",
        ),
    ] {
        refused(&app, &state, &with(&flags), 2, says);
    }
}

#[test]
fn targets_that_are_not_a_node_app_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let plain = dir.path().join("plain");
    fs::create_dir(&plain).unwrap();
    for (target, says) in [
        (
            vec!["--app-dir", plain.to_str().unwrap()],
            "no package.json there",
        ),
        (
            vec!["--home", plain.to_str().unwrap()],
            "--home does not pick a nodejs instance; nodejs is picked by --app-dir",
        ),
        (
            vec!["--pid", &std::process::id().to_string()],
            "not a Node.js app",
        ),
    ] {
        refused(&plain, &state, &install_args(&target), 2, says);
    }
}

#[test]
fn start_forms_that_cannot_be_edited_safely_are_refused() {
    let Some((dir, app)) = app("api") else { return };
    let state = dir.path().join("state");
    let ecosystem = app.join("ecosystem.config.js");
    fs::write(
        &ecosystem,
        "const flags = ['--max-old-space-size=512'];\nmodule.exports = {\n  apps: [{ name: 'api', script: 'server.js', node_args: flags }],\n};\n",
    )
    .unwrap();
    refused(
        &app,
        &state,
        &install_args(&["--start-script", ecosystem.to_str().unwrap()]),
        3,
        "ecosystem.config.js:3: node_args is not written as a literal",
    );
    // A name that is not in the file is not taken for the one that is.
    refused(
        &app,
        &state,
        &install_args(&[
            "--start-script",
            ecosystem.to_str().unwrap(),
            "--unit",
            "web",
        ]),
        2,
        "which app of the ecosystem file is meant is unclear (apps: api)",
    );
    fs::remove_file(&ecosystem).unwrap();

    // EnvironmentFile= overrides a drop-in's Environment=: its NODE_OPTIONS would win.
    let env_file = app.join("api.env");
    fs::write(&env_file, "NODE_OPTIONS=--max-old-space-size=512\n").unwrap();
    let unit = app.join("api.service");
    fs::write(
        &unit,
        format!(
            "[Service]\nEnvironmentFile=-{}\nWorkingDirectory={}\nExecStart=/usr/bin/node server.js\n",
            env_file.display(),
            app.display()
        ),
    )
    .unwrap();
    refused(
        &app,
        &state,
        &install_args(&["--unit", unit.to_str().unwrap()]),
        3,
        "NODE_OPTIONS comes from EnvironmentFile",
    );

    let script = app.join("start.sh");
    fs::write(&script, "#!/bin/sh\nnode migrate.js\nexec node server.js\n").unwrap();
    refused(
        &app,
        &state,
        &install_args(&[
            "--app-dir",
            app.to_str().unwrap(),
            "--start-script",
            script.to_str().unwrap(),
        ]),
        2,
        "several lines run node (lines 2, 3)",
    );
}
