//! The runtimes this product knows, one name each (`--runtime`, the ledger, `detect --json`).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeKind {
    Tomcat,
    /// JBoss AS, EAP and WildFly (`--runtime wildfly` names it too).
    Jboss,
    Weblogic,
    Websphere,
    Jeus,
    Jetty,
    Resin,
    Springboot,
    Php,
    Python,
    Infra,
    Nodejs,
}

const ALL: [RuntimeKind; 11] = [
    RuntimeKind::Tomcat,
    RuntimeKind::Jboss,
    RuntimeKind::Weblogic,
    RuntimeKind::Websphere,
    RuntimeKind::Jeus,
    RuntimeKind::Jetty,
    RuntimeKind::Resin,
    RuntimeKind::Springboot,
    RuntimeKind::Php,
    RuntimeKind::Python,
    RuntimeKind::Infra,
];

impl RuntimeKind {
    /// Whether install copies agent files the operator supplies (a tracer jar, a PHP module);
    /// the Python and infra agents come as packages.
    pub fn takes_agent_files(self) -> bool {
        !matches!(
            self,
            RuntimeKind::Python | RuntimeKind::Infra | RuntimeKind::Nodejs
        )
    }

    /// Whether `--agent-archive` goes to the runtime as given, not unpacked into the cache (an
    /// npm tarball is installed by npm itself).
    pub fn takes_archive_as_is(self) -> bool {
        self == RuntimeKind::Nodejs
    }

    /// A Java server (the doctor catalog's `runtimes = ["java"]`).
    pub fn is_java(self) -> bool {
        matches!(
            self,
            RuntimeKind::Tomcat
                | RuntimeKind::Jboss
                | RuntimeKind::Weblogic
                | RuntimeKind::Websphere
                | RuntimeKind::Jeus
                | RuntimeKind::Jetty
                | RuntimeKind::Resin
                | RuntimeKind::Springboot
        )
    }

    /// The kind a ledger record names.
    pub fn from_name(name: &str) -> Option<RuntimeKind> {
        ALL.iter().copied().find(|k| k.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            RuntimeKind::Tomcat => "tomcat",
            RuntimeKind::Jboss => "jboss",
            RuntimeKind::Weblogic => "weblogic",
            RuntimeKind::Websphere => "websphere",
            RuntimeKind::Jeus => "jeus",
            RuntimeKind::Jetty => "jetty",
            RuntimeKind::Resin => "resin",
            RuntimeKind::Springboot => "springboot",
            RuntimeKind::Php => "php",
            RuntimeKind::Python => "python",
            RuntimeKind::Infra => "infra",
            RuntimeKind::Nodejs => "nodejs",
        }
    }
}

impl std::fmt::Display for RuntimeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
