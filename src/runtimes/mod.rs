//! One file per runtime: where its options live and what block goes there. The engine
//! (`edit`, `plan`, `apply`) does the writing.

pub mod java;
pub mod tomcat;

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Whether the WhaTap agent is set up for a runtime: in its startup files, in its process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentState {
    None,
    Configured,
    Loaded,
}

/// One runtime instance found on the host (`whatap detect`).
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    pub runtime: String,
    pub version: Option<String>,
    pub home: PathBuf,
    pub base: Option<PathBuf>,
    pub pid: Option<u32>,
    pub user: Option<String>,
    pub agent: AgentState,
    pub details: BTreeMap<String, String>,
}
