use super::{ChangeReport, confirm_and_apply, finish};
use crate::apply::ledger::{InstallRecord, Ledger};
use crate::detect::Host;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::plan::reverse::{self, Reversal};
use crate::runtimes::{self, Runtime, RuntimeKind};
use crate::settings::{Settings, TargetSettings};
use crate::ui::Printer;

pub fn run(settings: &Settings, target: &TargetSettings, printer: &Printer) -> Result<u8> {
    // The target resolved on the host, once, when the ledger does not name it by its flags.
    let mut resolved: Option<Box<dyn Runtime>> = None;
    // Which install and its reversal, from the ledger: planned again under the locks. No
    // state dir means nothing was ever installed; none is created to find that out.
    let (mut transaction, chosen) = settings.state.transaction(
        settings.dry_run,
        |ledger| choose(ledger, target, &mut resolved, settings),
        |chosen| chosen.as_ref().map(|(_, reversal)| &reversal.plan),
    )?;
    let Some((install, reversal)) = chosen else {
        let report = ChangeReport::new(
            "uninstall",
            target.runtime.map(RuntimeKind::name).unwrap_or_default(),
            Default::default(),
            settings,
            &Plan::default(),
            printer,
        );
        printer.note(&crate::msg!(
            "uninstall-nothing",
            state = settings.state.path().display()
        ));
        printer.document(&report);
        return Ok(0);
    };
    let mut report = ChangeReport::new(
        "uninstall",
        &install.runtime,
        install.target.clone(),
        settings,
        &reversal.plan,
        printer,
    );
    report.warnings = reversal.warnings;
    // The instance's own next steps (how it restarts) when it still resolves; a record found
    // by its selectors alone is resolved only for that, so an app that is gone is no error.
    let runtime = match resolved {
        Some(runtime) => Some(runtime),
        None if !target.is_empty() => runtimes::resolve(target, &Host::scan()).ok(),
        None => None,
    };
    report.next_steps = match runtime.filter(|r| r.id() == install.id) {
        Some(runtime) => runtime.uninstall_next_steps(),
        // A JVM is 재기동 in Korean, a service or an interpreter 재시작: two sentences.
        None if RuntimeKind::from_name(&install.runtime).is_some_and(|k| k.is_java()) => {
            vec![crate::msg!("uninstall-next", runtime = install.runtime)]
        }
        None => vec![crate::msg!(
            "uninstall-next-service",
            runtime = install.runtime
        )],
    };
    if !reversal.plan.changes_anything() && !settings.dry_run {
        // Every file is already back to its original: just forget the record.
        transaction.forget(&install.id)?;
    }
    let outcome = confirm_and_apply(settings, printer, &reversal.plan, report, |plan| {
        // Forgetting the install is the commit: if it fails, the files are put back too.
        transaction.apply_forgetting(plan, &install.id)
    });
    finish(outcome, printer)
}

/// The install to remove (the only one recorded, the one its recorded target flags name, or
/// the instance the flags resolve to) and its reversal.
fn choose(
    ledger: &Ledger,
    target: &TargetSettings,
    resolved: &mut Option<Box<dyn Runtime>>,
    settings: &Settings,
) -> Result<Option<(InstallRecord, Reversal)>> {
    let id = if target.is_empty() && target.runtime != Some(RuntimeKind::Php) {
        let wanted = target.runtime.map(RuntimeKind::name);
        let recorded: Vec<_> = ledger
            .installs
            .iter()
            .filter(|i| wanted.is_none_or(|w| i.runtime == w))
            .collect();
        only_one(&recorded)?
    } else {
        match recorded_by_selectors(ledger, target)? {
            Some(id) => Some(id),
            None => {
                if resolved.is_none() {
                    *resolved = Some(runtimes::resolve(target, &Host::scan())?);
                }
                resolved.as_ref().map(|runtime| runtime.id())
            }
        }
    };
    let Some(install) = id.as_deref().and_then(|id| ledger.install(id)).cloned() else {
        return Ok(None);
    };
    let reversal = reverse::plan_uninstall(ledger, &install, &settings.state)?;
    Ok(Some((install, reversal)))
}

/// The one record among `recorded`; None when there is none, a usage error listing them when
/// several match.
fn only_one(recorded: &[&InstallRecord]) -> Result<Option<String>> {
    match recorded {
        [] => Ok(None),
        [only] => Ok(Some(only.id.clone())),
        many => {
            let list: Vec<String> = many
                .iter()
                .map(|i| format!("--base {}", i.target.display()))
                .collect();
            Err(Error::usage(
                crate::msg!(
                    "uninstall-choose",
                    count = many.len(),
                    list = list.join(" | ")
                ),
                crate::msg!("uninstall-choose-hint"),
            ))
        }
    }
}

/// The install whose recorded target flags include every one given (`--start-script S`,
/// `--unit U`, a Python app's `--home`): found without the app running or resolving.
fn recorded_by_selectors(ledger: &Ledger, target: &TargetSettings) -> Result<Option<String>> {
    let matching: Vec<&InstallRecord> = ledger
        .installs
        .iter()
        .filter(|record| {
            let Some(kind) = RuntimeKind::from_name(&record.runtime) else {
                return false;
            };
            let words = runtimes::selector_words(target, kind);
            target.runtime.is_none_or(|k| k == kind)
                && !words.is_empty()
                && words.iter().all(|w| record.selectors.contains(w))
        })
        .collect();
    only_one(&matching)
}
