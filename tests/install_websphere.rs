//! WebSphere traditional: genericJvmArguments edited in place in server.xml (CRLF, every other
//! attribute kept), the grant block in server.policy, the wsadmin command printed; golden diff
//! and byte-identical uninstall. The node agent's server.xml is not touched.

mod common;

use common::*;

fn json(output: &[u8]) -> serde_json::Value {
    serde_json::from_slice(output)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(output)))
}

#[test]
fn generic_jvm_arguments_and_policy() {
    let (dir, home) = product_fixture("websphere", "AppSrv01");
    let state = dir.path().join("state");
    let before = tree_bytes(&home);
    let mut args = install_args(&home);
    args.extend(["--runtime", "websphere", "--port", "9080"].map(String::from));
    let out = whatap(&state)
        .args(&args)
        .args(["--yes", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out.stdout);
    let steps = report["next_steps"].to_string();
    assert!(
        steps.contains("wsadmin.sh -lang jython")
            && steps.contains("/Cell:cell01/Node:node01/Server:server1/")
            && steps.contains("-Xquickstart -Dcom.ibm.xml.xlxp.jaxb.opti.level=3 -javaagent:"),
        "{steps}"
    );
    let diff = report["diff"]
        .as_str()
        .unwrap()
        .replace(&dir.path().display().to_string(), "[TMP]");
    insta::assert_snapshot!("appsrv01", diff);
    let nodeagent = "config/cells/cell01/nodes/node01/servers/nodeagent/server.xml";
    assert_eq!(
        std::fs::read(home.join(nodeagent)).unwrap(),
        before[&std::path::PathBuf::from(nodeagent)]
    );
    let again = whatap(&state)
        .args(&args)
        .args(["--yes", "--json"])
        .output()
        .unwrap();
    assert_eq!(json(&again.stdout)["changed"], false);
    whatap(&state)
        .args(["uninstall", "--yes", "--runtime", "websphere", "--home"])
        .arg(&home)
        .assert()
        .success();
    assert_same_tree(&tree_bytes(&home), &before, "after uninstall");
}
