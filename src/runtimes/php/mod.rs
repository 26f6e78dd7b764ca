//! PHP: every PHP on the host (`php`, `phpX.Y`, `php-fpm*`, `php-cgi*` and Apache's mod_php),
//! one instance per binary and SAPI. What each PHP is comes from its own `-i` output, run
//! without a shell; the module goes into its extension_dir as `whatap.so` and `whatap.ini` into
//! each SAPI's scan dir (Debian: `mods-available` + a `conf.d` symlink), or a marked `[whatap]`
//! section at the end of php.ini when PHP has no scan dir.

mod agent;
mod doctor;
mod install;
mod package;
pub mod sapi;

use crate::doctor::Inspection;
use crate::error::Result;
use crate::runtimes::instance::{
    Detection, Entry, InstallPlan, Prepared, Runtime, Selector, boxed,
};
use crate::runtimes::kind::RuntimeKind;
use crate::settings::{InstallSettings, TargetSettings};
use sapi::{PhpGroup, PhpSapi};
use std::path::{Path, PathBuf};

/// Every PHP is set up together: no target flag is needed (`--php-bin` narrows it).
pub const ENTRY: Entry = Entry {
    kind: RuntimeKind::Php,
    detect: |host| boxed(sapi::detect(host)),
    resolve: |target, host| Ok(Box::new(sapi::resolve(target, host)?)),
    runs_in: None,
    is_home: None,
    needs_no_target: true,
    selectors: &[Selector::PhpBin],
};

impl Runtime for PhpGroup {
    fn kind(&self) -> RuntimeKind {
        RuntimeKind::Php
    }

    /// One ledger record for all PHP on the host: `--pause`/`--resume` and reinstalls with
    /// another `--php-bin` set update it, and `uninstall --runtime php` reverses everything.
    fn id(&self) -> String {
        RuntimeKind::Php.to_string()
    }

    fn target(&self) -> PathBuf {
        self.sapis.first().map(PhpSapi::home).unwrap_or_default()
    }

    fn detection(&self) -> Detection {
        self.sapis
            .first()
            .map(PhpSapi::detection)
            .expect("a PHP group is never empty")
    }

    fn plan_install(&self, settings: &InstallSettings, dist: Option<&Path>) -> Result<InstallPlan> {
        install::plan(&self.sapis, settings, dist)
    }

    fn prepare_install(
        &self,
        settings: &InstallSettings,
        cache: &Path,
    ) -> Result<Option<Prepared>> {
        package::prepare(settings, cache)
    }

    fn inspect(&self) -> Inspection {
        let mut out = Inspection::default();
        for sapi in &self.sapis {
            let found = doctor::inspect(sapi);
            out.facts.extend(found.facts);
            out.udp_ports.extend(found.udp_ports);
        }
        // Every SAPI talks to the same agent: one port, checked once.
        out.udp_ports.dedup_by(|a, b| a.1 == b.1);
        out
    }

    fn selector(&self) -> String {
        "--runtime php".to_string()
    }

    fn selection(&self) -> TargetSettings {
        php_bins(self.sapis.iter())
    }
}

impl Runtime for PhpSapi {
    fn kind(&self) -> RuntimeKind {
        RuntimeKind::Php
    }

    fn id(&self) -> String {
        RuntimeKind::Php.to_string()
    }

    fn target(&self) -> PathBuf {
        self.home()
    }

    fn detection(&self) -> Detection {
        PhpSapi::detection(self)
    }

    fn plan_install(&self, settings: &InstallSettings, dist: Option<&Path>) -> Result<InstallPlan> {
        install::plan(std::slice::from_ref(self), settings, dist)
    }

    fn prepare_install(
        &self,
        settings: &InstallSettings,
        cache: &Path,
    ) -> Result<Option<Prepared>> {
        package::prepare(settings, cache)
    }

    fn inspect(&self) -> Inspection {
        doctor::inspect(self)
    }

    fn selector(&self) -> String {
        "--runtime php".to_string()
    }

    fn selection(&self) -> TargetSettings {
        php_bins(std::iter::once(self))
    }
}

/// `--runtime php --php-bin ...` naming each SAPI's binary (Apache: the httpd).
fn php_bins<'a>(sapis: impl Iterator<Item = &'a PhpSapi>) -> TargetSettings {
    TargetSettings {
        runtime: Some(RuntimeKind::Php),
        php_bins: sapis.map(PhpSapi::home).collect(),
        ..TargetSettings::default()
    }
}
