//! A runtime run by a systemd service whose sandbox (`ProtectSystem=`) leaves the WhaTap home
//! read-only: Debian's tomcat10 unit (`ProtectSystem=strict`, writable only webapps/, logs,
//! Catalina/) cannot write `/var/lib/tomcat10/whatap`, so the agent cannot write its logs.
//! `InService` wraps any runtime whose unit is known: doctor says so
//! (`systemd-read-only-home`, with the drop-in as its `--fix`) and install adds the drop-in
//! `<unit>.d/whatap-paths.conf` with `ReadWritePaths=` for the home to its plan (recorded in the
//! ledger like every file, so uninstall removes it).

use super::instance::{Detection, InstallPlan, Runtime};
use super::kind::RuntimeKind;
use crate::detect::systemd::{self, Sandbox};
use crate::doctor::{Fact, Inspection, Remedy};
use crate::error::Result;
use crate::msg;
use crate::plan::{DirCreate, Edit, edits, target};
use crate::settings::{InstallSettings, TargetSettings};
use std::path::{Path, PathBuf};

const DROP_IN: &str = "whatap-paths.conf";

pub struct InService {
    inner: Box<dyn Runtime>,
    unit: String,
    /// Where units are read from (`--systemd-dir` first) and where the drop-in goes.
    dirs: Vec<PathBuf>,
}

/// Whether a systemd unit's sandbox can stand between this kind and its WhaTap home: the Java
/// servers (Spring Boot's, Python's and Node.js's drop-in is their install itself, `--unit`
/// picks the app). For them `--unit` names that unit.
pub fn runs_under_unit(kind: RuntimeKind) -> bool {
    !matches!(
        kind,
        RuntimeKind::Springboot
            | RuntimeKind::Php
            | RuntimeKind::Python
            | RuntimeKind::Infra
            | RuntimeKind::Nodejs
    )
}

/// `runtime` wrapped when a systemd unit runs it: `--unit`, else the unit of its process, else
/// the one its layout names (Debian's tomcatN / jettyN).
pub fn wrap(runtime: Box<dyn Runtime>, target: &TargetSettings) -> Box<dyn Runtime> {
    if !runs_under_unit(runtime.kind()) {
        return runtime;
    }
    let dirs = systemd::search_dirs(&target.systemd_dir);
    let detection = runtime.detection();
    let unit = target
        .unit
        .as_ref()
        .map(|u| systemd::unit_name(u))
        .or_else(|| detection.pid.and_then(systemd::unit_of))
        .or_else(|| debian_unit(&detection.home, detection.base.as_deref(), &dirs));
    match unit {
        Some(unit) => Box::new(InService {
            inner: runtime,
            unit,
            dirs,
        }),
        None => runtime,
    }
}

/// `/usr/share/tomcat10` with its base `/var/lib/tomcat10` is run by `tomcat10.service`
/// when that unit exists (a private base beside the package's home is not).
fn debian_unit(home: &Path, base: Option<&Path>, dirs: &[PathBuf]) -> Option<String> {
    if home.parent() != Some(Path::new("/usr/share")) {
        return None;
    }
    let name = home.file_name()?.to_str()?;
    let packaged = Path::new("/var/lib").join(name);
    if base.is_some_and(|b| b != home && b != packaged) {
        return None;
    }
    let unit = format!("{name}.service");
    dirs.iter().any(|d| d.join(&unit).is_file()).then_some(unit)
}

impl InService {
    fn drop_in(&self) -> PathBuf {
        self.dirs[0].join(format!("{}.d", self.unit)).join(DROP_IN)
    }

    fn sandbox(&self) -> Sandbox {
        Sandbox::of(&systemd::unit_files(&self.unit, &self.dirs))
    }

    /// The drop-in that lets the service write `home`.
    fn opening(&self, home: &Path) -> Result<(Vec<DirCreate>, Edit)> {
        let drop_in = self.drop_in();
        let dir = drop_in.parent().expect("drop-in dir").to_path_buf();
        let roots = target::owned_roots(&[&dir]);
        let text = format!(
            "# Added by `whatap install`; remove with `whatap uninstall`.\n# The agent writes its logs in its home: the unit's sandbox must let it.\n[Service]\nReadWritePaths=-{}\n",
            home.display()
        );
        let edit = edits::whole(&drop_in, &roots, text.into_bytes(), 0o644)?;
        Ok((DirCreate::missing(&dir, None), edit))
    }
}

impl Runtime for InService {
    fn kind(&self) -> RuntimeKind {
        self.inner.kind()
    }

    fn id(&self) -> String {
        self.inner.id()
    }

    fn target(&self) -> PathBuf {
        self.inner.target()
    }

    fn detection(&self) -> Detection {
        let mut d = self.inner.detection();
        d.details.insert("unit".into(), self.unit.clone().into());
        d
    }

    fn plan_install(&self, settings: &InstallSettings, dist: Option<&Path>) -> Result<InstallPlan> {
        let mut install = self.inner.plan_install(settings, dist)?;
        let home = install
            .plan
            .edits
            .iter()
            .find(|e| e.path.file_name().is_some_and(|n| n == "whatap.conf"))
            .and_then(|e| e.path.parent().map(Path::to_path_buf));
        let sandbox = self.sandbox();
        if let Some((home, why)) = home.and_then(|h| sandbox.read_only(&h).map(|w| (h, w))) {
            let (dirs, edit) = self.opening(&home)?;
            install.warnings.push(msg!(
                "systemd-home-opened",
                unit = self.unit,
                path = home.display(),
                file = why.file.display(),
                line = why.line,
                value = why.value
            ));
            install.plan.dirs.extend(dirs);
            install.plan.edits.push(edit);
            install
                .next_steps
                .insert(0, "systemctl daemon-reload".to_string());
        }
        Ok(install)
    }

    fn inspect(&self) -> Inspection {
        let mut out = self.inner.inspect();
        let sandbox = self.sandbox();
        let mut homes: Vec<PathBuf> = out
            .collectors
            .iter()
            .filter_map(|c| c.conf.parent().map(Path::to_path_buf))
            .collect();
        homes.sort();
        homes.dedup();
        let label = out
            .facts
            .first()
            .map(|f| f.target.clone())
            .unwrap_or_else(|| format!("{} {}", self.kind(), self.target().display()));
        for home in homes {
            let Some(why) = sandbox.read_only(&home) else {
                continue;
            };
            let mut fact = Fact::new(
                "systemd-read-only-home",
                &label,
                crate::msg!(
                    "evidence-protect-system",
                    file = why.file.display(),
                    line = why.line,
                    value = why.value,
                    home = home.display()
                ),
            )
            .with("unit", self.unit.clone())
            .with("path", home.display().to_string())
            .with("file", self.drop_in().display().to_string());
            if let Ok((_, edit)) = self.opening(&home) {
                fact.remedy = Some(Remedy::Edit(Box::new(edit)));
            }
            out.facts.push(fact);
        }
        out
    }

    fn remedy_for(&self, id: &str) -> Option<Remedy> {
        self.inner.remedy_for(id)
    }

    fn uninstall_next_steps(&self) -> Vec<String> {
        self.inner.uninstall_next_steps()
    }

    fn selection(&self) -> TargetSettings {
        self.inner.selection()
    }

    fn selector(&self) -> String {
        self.inner.selector()
    }
}
