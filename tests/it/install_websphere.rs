//! WebSphere traditional: genericJvmArguments edited in place in server.xml (CRLF, every other
//! attribute kept), the grant block in server.policy, the wsadmin command printed; golden diff
//! and byte-identical uninstall. The node agent's server.xml is not touched.

use crate::common::*;

#[test]
fn generic_jvm_arguments_and_policy() {
    let (dir, home) = product_fixture("websphere", "AppSrv01");
    let install = runtime_install(&home, "websphere", 9080, &[]);
    let nodeagent = home.join("config/cells/cell01/nodes/node01/servers/nodeagent/server.xml");
    let nodeagent_before = std::fs::read(&nodeagent).unwrap();
    let plan = whatap(&dir.path().join("plan-state"))
        .args(&install)
        .args(["--dry-run", "--json"])
        .output()
        .unwrap();
    let steps = json(&plan.stdout)["next_steps"].to_string();
    assert!(
        steps.contains("wsadmin.sh -lang jython")
            && steps.contains("/Cell:cell01/Node:node01/Server:server1/")
            && steps.contains("-Xquickstart -Dcom.ibm.xml.xlxp.jaxb.opti.level=3 -javaagent:"),
        "{steps}"
    );
    let diff = round_trip(
        dir.path(),
        &home,
        &install,
        &runtime_uninstall(&home, "websphere", &[]),
        || assert_eq!(std::fs::read(&nodeagent).unwrap(), nodeagent_before),
    );
    insta::assert_snapshot!("appsrv01", diff);
}

#[test]
fn next_steps_name_the_servers_and_the_node_sync() {
    let (dir, home) = product_fixture("websphere", "AppSrv01");
    let out = whatap(&dir.path().join("state"))
        .args(runtime_install(
            &home,
            "websphere",
            9080,
            &["--dry-run", "--json"],
        ))
        .output()
        .unwrap();
    let report = json(&out.stdout);
    let steps = report["next_steps"].to_string();
    assert!(
        steps.contains("bin/stopServer.sh server1 && ")
            && steps.contains("bin/startServer.sh server1")
            && !steps.contains(" NAME"),
        "{steps}"
    );
    // node01 has a node agent: a deployment manager owns the configuration.
    assert!(
        report["warnings"]
            .to_string()
            .contains("node synchronization"),
        "{report}"
    );
    refuses_unknown_server(
        &dir.path().join("state"),
        &home,
        &runtime_install(&home, "websphere", 9080, &[]),
        "server1",
    );
}
