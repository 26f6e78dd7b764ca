//! Tomcat as a Windows service (Procrun's `tomcat9.exe`, the guide's "Configure Tomcat" → Java
//! Options): the JVM options are the `Options` value (`REG_MULTI_SZ`, one option a string) of
//! `...\Procrun 2.0\<service>\Parameters\Java`, in the 64-bit view or, for a 32-bit prunsrv,
//! under WOW6432Node. prunsrv appends `Options9` on Java 9+; that one is Tomcat's own
//! (`--add-opens`), so -javaagent goes into `Options`.

use crate::apply::registry;
use crate::error::{Error, Result};
use crate::msg;
use crate::plan::{RegChange, RegValue};

const ROOTS: [&str; 2] = [
    "HKLM\\SOFTWARE\\Apache Software Foundation\\Procrun 2.0",
    "HKLM\\SOFTWARE\\WOW6432Node\\Apache Software Foundation\\Procrun 2.0",
];

/// The value holding the JVM options.
const OPTIONS: &str = "Options";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    /// `...\<name>\Parameters\Java`.
    pub key: String,
}

impl Service {
    /// The service's JVM options (none when the value is absent or not a `REG_MULTI_SZ`).
    pub fn options(&self) -> Vec<String> {
        registry::read(&self.key, OPTIONS)
            .ok()
            .flatten()
            .and_then(|v| v.strings())
            .unwrap_or_default()
    }

    /// `-D<name>=<value>` among its options.
    pub fn system_property(&self, name: &str) -> Option<String> {
        let prefix = format!("-D{name}=");
        self.options()
            .iter()
            .find_map(|o| o.strip_prefix(&prefix).map(str::to_string))
    }
}

/// Every Procrun service registered on this host (none off Windows).
pub fn services() -> Vec<Service> {
    ROOTS
        .iter()
        .flat_map(|root| {
            registry::subkeys(root)
                .into_iter()
                .map(move |name| Service {
                    key: format!("{root}\\{name}\\Parameters\\Java"),
                    name,
                })
        })
        .collect()
}

/// The service `--service` names (Windows service names ignore case); a usage error listing
/// the services found when there is none by that name.
pub fn find(name: &str) -> Result<Service> {
    if !cfg!(windows) {
        return Err(Error::usage(
            msg!("service-windows-only", name = name),
            msg!("service-windows-only-hint"),
        ));
    }
    let all = services();
    if let Some(service) = all.iter().find(|s| s.name.eq_ignore_ascii_case(name)) {
        return Ok(service.clone());
    }
    let found: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
    Err(Error::usage(
        msg!("service-not-found", name = name),
        if found.is_empty() {
            msg!("service-none-hint")
        } else {
            msg!("service-not-found-hint", services = found.join(", "))
        },
    ))
}

/// The change that adds `options` (-javaagent first) to the service's JVM options, after
/// what is there, in place of what an earlier install added (`ours`: a reinstall with another
/// jar or port); unchanged when they are all there already. Refused when the value is not a
/// `REG_MULTI_SZ`, or holds another WhaTap agent (it would load twice).
pub fn plan_options(service: &Service, options: &[String], ours: &[String]) -> Result<RegChange> {
    let before = registry::read(&service.key, OPTIONS)?;
    let display = format!("{}\\{OPTIONS}", service.key);
    let current = match &before {
        None => Vec::new(),
        Some(value) => value.strings().ok_or_else(|| {
            Error::refused(
                msg!("service-options-type", value = display, kind = value.kind),
                msg!("service-options-type-hint"),
            )
        })?,
    };
    let kept: Vec<String> = current
        .iter()
        .filter(|o| options.contains(o) || !ours.contains(o))
        .cloned()
        .collect();
    if let Some(other) = kept
        .iter()
        .find(|o| o.starts_with("-javaagent:") && o.contains("whatap") && !options.contains(o))
    {
        return Err(Error::refused(
            msg!(
                "agent-set-elsewhere",
                places = format!("{display}: {other}")
            ),
            msg!("agent-set-elsewhere-hint"),
        ));
    }
    let mut wanted = kept.clone();
    wanted.extend(options.iter().filter(|o| !kept.contains(o)).cloned());
    let after = if wanted == current {
        before.clone()
    } else {
        Some(RegValue::multi_sz(&wanted))
    };
    Ok(RegChange {
        key: service.key.clone(),
        name: OPTIONS.to_string(),
        before,
        after,
    })
}
