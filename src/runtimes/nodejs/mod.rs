//! Node.js apps with the vendor's `whatap` npm package: the package installed into the app
//! with the app's own npm, whatap.conf in `WHATAP_HOME`, and node started with
//! `--require <app>/node_modules/whatap` (a systemd drop-in's NODE_OPTIONS, a pm2 ecosystem
//! file's `node_args`, a start script's node line). The package then starts its native
//! `whatap_nodejs` daemon from WHATAP_HOME.

mod app;
mod doctor;
mod install;
mod package;
mod start;

use crate::doctor::Inspection;
use crate::error::Result;
use crate::runtimes::instance::{Detection, Entry, InstallPlan, Runtime, Selector, boxed};
use crate::runtimes::kind::RuntimeKind;
use crate::settings::{InstallSettings, TargetSettings};
use app::{Launcher, NodeApp};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const ENTRY: Entry = Entry {
    kind: RuntimeKind::Nodejs,
    detect: |host| boxed(app::detect(host)),
    resolve: |target, host| Ok(Box::new(app::resolve(target, host)?)),
    runs_in: Some(|p| app::node_process(p).is_some()),
    is_home: None,
    needs_no_target: false,
    // The app by its directory or its process, or by how it is started: a unit (or the app of
    // a pm2 ecosystem file) and a start script (or the ecosystem file).
    selectors: &[
        Selector::AppDir,
        Selector::Pid,
        Selector::Unit,
        Selector::StartScript,
    ],
};

impl Runtime for NodeApp {
    fn kind(&self) -> RuntimeKind {
        RuntimeKind::Nodejs
    }

    fn id(&self) -> String {
        format!("{}:{}", RuntimeKind::Nodejs, self.app_dir.display())
    }

    fn target(&self) -> PathBuf {
        self.app_dir.clone()
    }

    fn detection(&self) -> Detection {
        let mut details = BTreeMap::new();
        details.insert(
            "whatap_home".to_string(),
            self.whatap_home.display().to_string().into(),
        );
        let (launcher, value) = match &self.launcher {
            Launcher::Pm2 { ecosystem, name } => {
                details.insert("pm2_app".to_string(), name.clone().into());
                ("pm2", Some(ecosystem.display().to_string()))
            }
            Launcher::Systemd { unit } => ("systemd", Some(unit.clone())),
            Launcher::Script(path) => ("start-script", Some(path.display().to_string())),
            Launcher::Manual => ("manual", None),
        };
        details.insert("launcher".to_string(), launcher.into());
        if let Some(value) = value {
            details.insert("started_by".to_string(), value.into());
        }
        if let Some(entry) = self.process.as_ref().and_then(|p| p.entry.as_ref()) {
            details.insert("entry".to_string(), entry.display().to_string().into());
        }
        Detection::app(
            RuntimeKind::Nodejs,
            self.app_dir.clone(),
            self.process.as_ref().map(|p| &p.process),
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

    fn uninstall_next_steps(&self) -> Vec<String> {
        vec![match &self.launcher {
            // `pm2 restart` keeps node_args a file no longer has: the removed package would
            // still be required.
            Launcher::Pm2 { ecosystem, name } => crate::msg!(
                "nodejs-uninstall-pm2",
                file = ecosystem.display(),
                name = name
            ),
            Launcher::Systemd { unit } => {
                format!("systemctl daemon-reload && systemctl restart {unit}")
            }
            Launcher::Script(path) => crate::msg!("nodejs-uninstall-script", path = path.display()),
            Launcher::Manual => crate::msg!("uninstall-next", runtime = self.kind()),
        }]
    }

    fn selection(&self) -> TargetSettings {
        let (unit, start_script) = match &self.launcher {
            Launcher::Systemd { unit } => (Some(unit.clone()), None),
            Launcher::Pm2 { ecosystem, name } => (Some(name.clone()), Some(ecosystem.clone())),
            Launcher::Script(path) => (None, Some(path.clone())),
            Launcher::Manual => (None, None),
        };
        TargetSettings {
            runtime: Some(RuntimeKind::Nodejs),
            app_dir: Some(self.app_dir.clone()),
            pid: self.process.as_ref().map(|p| p.process.pid),
            unit,
            start_script,
            ..TargetSettings::default()
        }
    }

    fn selector(&self) -> String {
        format!(
            "--runtime {} --app-dir {}",
            RuntimeKind::Nodejs,
            self.app_dir.display()
        )
    }
}
