//! The Ansible collection `whatap.apm` (ansible/ansible_collections/whatap/apm) run by real
//! ansible-core from PyPI (.ci/run puts it in a venv of its own, `WHATAP_TEST_ANSIBLE`, default
//! /opt/whatap-test/ansible) against localhost with connection local: a sandbox copy of
//! Debian's tomcat10, the stub agent jar, and the binary put on the "host" by the role from a
//! dist tarball this test builds in scripts/dist.sh's layout (`whatap-<ver>-<target>/whatap`
//! plus SHA256SUMS). One playbook run per step.

use crate::common::*;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const DEBIAN_HOME: &str = "/usr/share/tomcat10";
const DEBIAN_CONF: &str = "/etc/tomcat10";

/// The venv with ansible-core, or None (after `must_have`).
fn ansible_venv() -> Option<PathBuf> {
    let venv = std::env::var_os("WHATAP_TEST_ANSIBLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/whatap-test/ansible"));
    let present = venv.join("bin/ansible-playbook").is_file();
    let tomcat = Path::new(DEBIAN_HOME).join("bin/catalina.sh").exists();
    (must_have(
        &format!("ansible-core in a venv at {}", venv.display()),
        present,
    ) && must_have("tomcat10 (Debian package)", tomcat))
    .then_some(venv)
}

/// `whatap-<ver>-<target>.tar.gz` holding the (stripped) binary under test, and its
/// SHA256SUMS, in `dir`.
fn dist(dir: &Path) -> (PathBuf, PathBuf) {
    let name = format!(
        "whatap-{}-{}-unknown-linux-gnu",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH
    );
    let binary = dir.join("whatap");
    let stripped = Command::new("strip")
        .arg("-o")
        .arg(&binary)
        .arg(assert_cmd::cargo::cargo_bin("whatap"))
        .status()
        .unwrap();
    assert!(stripped.success(), "strip");
    let tarball = dir.join(format!("{name}.tar.gz"));
    let gz = flate2::write::GzEncoder::new(
        fs::File::create(&tarball).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    tar.append_path_with_name(&binary, format!("{name}/whatap"))
        .unwrap();
    tar.into_inner().unwrap().finish().unwrap();
    let sums = dir.join("SHA256SUMS");
    let digest = Sha256::digest(fs::read(&tarball).unwrap());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    fs::write(&sums, format!("{hex}  {name}.tar.gz\n")).unwrap();
    (tarball, sums)
}

struct Lab {
    dir: tempfile::TempDir,
    venv: PathBuf,
    home: PathBuf,
    base: PathBuf,
    state: PathBuf,
    bin: PathBuf,
}

impl Lab {
    /// Debian's tomcat10 as CATALINA_HOME (a copy) and a CATALINA_BASE with Debian's conf.
    fn new(venv: PathBuf) -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        copy_tree(Path::new(DEBIAN_HOME), &home);
        let base = dir.path().join("base");
        copy_tree(Path::new(DEBIAN_CONF), &base.join("conf"));
        for sub in ["logs", "temp", "webapps", "work"] {
            fs::create_dir_all(base.join(sub)).unwrap();
        }
        let (tarball, sums) = dist(dir.path());
        let log = dir.path().join("agent.log");
        // The catalog's example of a rejected license: an error finding for doctor.
        fs::write(
            &log,
            "2026/11/27 00:42:50 [WA172] invalid license key error. license=****5502\n",
        )
        .unwrap();
        let lab = Lab {
            state: dir.path().join("state"),
            bin: dir.path().join("bin/whatap"),
            venv,
            home,
            base,
            dir,
        };
        let vars = serde_json::json!({
            "license": LICENSE,
            "home": lab.home, "base": lab.base, "state": lab.state,
            "jar": stub_jar(),
            "built": assert_cmd::cargo::cargo_bin("whatap"),
            "tarball": tarball, "sums": sums,
            "bin": lab.bin, "stage": lab.dir.path().join("stage"),
            "log": log, "out": lab.dir.path().join("doctor.json"),
        });
        fs::write(lab.path("vars.json"), vars.to_string()).unwrap();
        lab
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn ansible(&self, tool: &str) -> Command {
        let mut cmd = Command::new(self.venv.join("bin").join(tool));
        let home = self.path(".ansible");
        cmd.current_dir(self.dir.path())
            .env("ANSIBLE_COLLECTIONS_PATH", repo().join("ansible"))
            .env("ANSIBLE_HOME", &home)
            .env("ANSIBLE_REMOTE_TMP", home.join("remote"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
            .env("LC_ALL", "C.UTF-8")
            .env_remove("WHATAP_LICENSE");
        cmd
    }

    /// Runs `yaml` as a playbook against localhost (`-v`, plus `extra`): (succeeded, output).
    /// The license must never appear in what Ansible prints.
    fn play(&self, name: &str, yaml: &str, extra: &[&str]) -> (bool, String) {
        let book = self.path(&format!("{name}.yml"));
        fs::write(&book, yaml).unwrap();
        let python = self.venv.join("bin/python");
        let out = self
            .ansible("ansible-playbook")
            .args(["-i", "localhost,", "-c", "local", "-v", "-e", "@vars.json"])
            .arg("-e")
            .arg(format!("ansible_python_interpreter={}", python.display()))
            .args(extra)
            .arg(&book)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !text.contains(LICENSE),
            "{name}: the license in Ansible's output"
        );
        (out.status.success(), text)
    }

    /// The "changed=N" of the play recap.
    fn changed(output: &str) -> usize {
        let recap = output
            .lines()
            .find(|l| l.starts_with("localhost") && l.contains("changed="))
            .unwrap_or_else(|| panic!("no recap: {output}"));
        recap
            .split_whitespace()
            .find_map(|w| w.strip_prefix("changed="))
            .unwrap()
            .parse()
            .unwrap()
    }

    fn trees(&self) -> Vec<std::collections::BTreeMap<PathBuf, Vec<u8>>> {
        vec![tree_bytes(&self.home), tree_bytes(&self.base)]
    }
}

const INSTALL: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - whatap.apm.install:
        binary: "{{ built }}"
        state_dir: "{{ state }}"
        home: "{{ home }}"
        base: "{{ base }}"
        license: "{{ license }}"
        host: 127.0.0.1
        agent_jar: "{{ jar }}"
"#;

const ROLE: &str = r#"
- hosts: all
  gather_facts: false
  roles:
    - role: whatap.apm.agent
      whatap_tarball: "{{ tarball }}"
      whatap_sha256sums: "{{ sums }}"
      whatap_bin: "{{ bin }}"
      whatap_stage_dir: "{{ stage }}"
      whatap_state_dir: "{{ state }}"
      whatap_home: "{{ home }}"
      whatap_base: "{{ base }}"
      whatap_license: "{{ license }}"
      whatap_server_host: 127.0.0.1
      whatap_agent_jar: "{{ jar }}"
"#;

const DOCTOR: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: findings are data; fail_on error fails the task
      whatap.apm.doctor:
        binary: "{{ bin }}"
        state_dir: "{{ state }}"
        home: "{{ home }}"
        base: "{{ base }}"
        network: false
        log: ["{{ log }}"]
        fail_on: "{{ item }}"
      loop: [never, error]
      register: doctor
      ignore_errors: true
    - ansible.builtin.copy:
        content: "{{ {'found': doctor.results[0], 'failing': doctor.results[1]} | to_json }}"
        dest: "{{ out }}"
        mode: "0644"
"#;

const UNINSTALL: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - whatap.apm.uninstall:
        binary: "{{ bin }}"
        state_dir: "{{ state }}"
        home: "{{ home }}"
        base: "{{ base }}"
"#;

#[test]
fn collection_installs_checks_diagnoses_and_uninstalls_a_debian_tomcat() {
    let Some(venv) = ansible_venv() else {
        return;
    };
    let lab = Lab::new(venv);
    let original = lab.trees();

    let doc = lab
        .ansible("ansible-doc")
        .args([
            "whatap.apm.install",
            "whatap.apm.uninstall",
            "whatap.apm.doctor",
        ])
        .output()
        .unwrap();
    let doc_text = String::from_utf8_lossy(&doc.stdout);
    assert!(doc.status.success(), "{doc_text}");
    for expected in [
        "MODULE whatap.apm.install",
        "license",
        "fail_on",
        "EXAMPLES",
    ] {
        assert!(doc_text.contains(expected), "ansible-doc: {expected}");
    }
    let role_doc = lab
        .ansible("ansible-doc")
        .args(["-t", "role", "whatap.apm.agent"])
        .output()
        .unwrap();
    assert!(role_doc.status.success(), "ansible-doc -t role");

    // A tarball SHA256SUMS does not vouch for: refused, no binary, no change.
    let forged = lab.path("SHA256SUMS.forged");
    let sums = fs::read_to_string(lab.path("SHA256SUMS")).unwrap();
    fs::write(&forged, format!("{}{}", "0".repeat(64), &sums[64..])).unwrap();
    let forged_var = format!("sums={}", forged.display());
    let (ok, out) = lab.play("role", ROLE, &["-e", &forged_var]);
    assert!(!ok && out.contains("sha256 differs"), "{out}");
    assert!(!lab.bin.exists());

    // Check mode: would change, shows the diff, writes nothing.
    let (ok, out) = lab.play("install", INSTALL, &["--check", "--diff"]);
    assert!(ok, "{out}");
    assert_eq!(Lab::changed(&out), 1, "{out}");
    assert!(out.contains("+########## WHATAP ############"), "{out}");
    assert_eq!(lab.trees(), original, "check mode wrote files");
    assert!(!lab.state.exists(), "check mode created the state dir");

    // The role: the binary from the tarball, then the install; a rerun changes nothing.
    let (ok, out) = lab.play("role", ROLE, &[]);
    assert!(ok, "{out}");
    assert!(Lab::changed(&out) >= 2, "{out}");
    assert!(lab.bin.exists());
    let setenv = fs::read_to_string(lab.base.join("bin/setenv.sh")).unwrap();
    assert!(setenv.contains("-javaagent:"), "{setenv}");
    let (ok, out) = lab.play("role", ROLE, &[]);
    assert!(ok, "{out}");
    assert_eq!(Lab::changed(&out), 0, "{out}");

    // doctor: the findings list; fails the task only with fail_on.
    let (ok, out) = lab.play("doctor", DOCTOR, &[]);
    assert!(ok, "{out}");
    let result: Value = json(&fs::read(lab.path("doctor.json")).unwrap());
    let found = &result["found"];
    assert_eq!(found["failed"], false, "{found:#}");
    assert_eq!(finding_ids(found), ["license-invalid"], "{found:#}");
    // The binary's checks[]: the log rule that found the license failed, the others say why.
    let checks = found["checks"].as_array().unwrap();
    assert!(
        checks
            .iter()
            .any(|c| c["id"] == "license-invalid" && c["status"] == "fail"),
        "{found:#}"
    );
    assert!(checks.iter().all(|c| c["why"].is_string()), "{found:#}");
    assert_eq!(found["document"]["command"], "doctor");
    assert_eq!(result["failing"]["failed"], true, "{result:#}");
    assert!(
        result["failing"]["msg"]
            .as_str()
            .unwrap()
            .contains("license-invalid")
    );

    // uninstall: every byte back.
    let (ok, out) = lab.play("uninstall", UNINSTALL, &["--diff"]);
    assert!(ok, "{out}");
    assert_eq!(Lab::changed(&out), 1, "{out}");
    assert_same_tree(&tree_bytes(&lab.home), &original[0], "home after uninstall");
    assert_same_tree(&tree_bytes(&lab.base), &original[1], "base after uninstall");
}
