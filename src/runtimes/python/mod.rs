//! Python web apps with the vendor's `whatap-python` package (PyPI): whatap.conf in
//! `WHATAP_HOME`, the start command wrapped with `whatap-start-agent` (a systemd drop-in, a
//! supervisor `command =`, a start script), the package installed into the app's own
//! interpreter with its `-m pip`.

mod app;
mod doctor;
mod embedded;
mod install;

use crate::doctor::Inspection;
use crate::error::Result;
use crate::runtimes::instance::{Detection, Entry, InstallPlan, Runtime, Selector, boxed};
use crate::runtimes::kind::RuntimeKind;
use crate::settings::InstallSettings;
use app::PythonApp;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const ENTRY: Entry = Entry {
    kind: RuntimeKind::Python,
    detect: |host| boxed(app::detect(host)),
    resolve: |target, host| Ok(Box::new(app::resolve(target, host)?)),
    runs_in: None,
    is_home: None,
    needs_no_target: false,
    selectors: &[
        Selector::Home,
        Selector::WhatapHome,
        Selector::Pid,
        Selector::Unit,
        Selector::StartScript,
    ],
};

impl Runtime for PythonApp {
    fn kind(&self) -> RuntimeKind {
        RuntimeKind::Python
    }

    fn id(&self) -> String {
        format!("{}:{}", RuntimeKind::Python, self.whatap_home.display())
    }

    fn target(&self) -> PathBuf {
        self.whatap_home.clone()
    }

    fn detection(&self) -> Detection {
        let mut details = BTreeMap::new();
        if let Some(app) = &self.app {
            details.insert("server".to_string(), app.server.clone().into());
            if let Some(interpreter) = app.interpreter() {
                details.insert(
                    "interpreter".to_string(),
                    interpreter.display().to_string().into(),
                );
            }
            if let Some(unit) = &app.unit {
                details.insert("unit".to_string(), unit.clone().into());
            }
        }
        Detection::app(
            RuntimeKind::Python,
            self.whatap_home.clone(),
            self.app.as_ref().map(|a| &a.process),
            self.agent_state(),
            details,
        )
    }

    fn plan_install(&self, settings: &InstallSettings, _: Option<&Path>) -> Result<InstallPlan> {
        install::plan_install(self, settings)
    }

    fn inspect(&self) -> Inspection {
        doctor::inspect(self)
    }
}
