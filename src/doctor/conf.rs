//! whatap.conf, whichever agent reads it: required keys, and the collectors it names.

use super::{CollectorRef, Fact, Inspection};
use crate::edit::conf;
use crate::net::collector::DEFAULT_PORT;
use std::path::Path;

/// whatap.conf: each `required` key set; its collectors for the network probe.
pub fn inspect_conf(label: &str, path: &Path, required: &[&str], out: &mut Inspection) {
    let keys = match crate::plan::target::peek(path) {
        Ok(bytes) => conf::parse(&bytes),
        Err(e) => {
            for &key in required {
                out.facts.push(
                    Fact::new(
                        "conf-missing-key",
                        label,
                        format!("{}: {e}", path.display()),
                    )
                    .with("key", key)
                    .with("file", path.display().to_string()),
                );
            }
            return;
        }
    };
    out.secrets.extend(
        keys.iter()
            .filter(|(key, value)| crate::ui::mask::is_secret_key(key) && value.len() >= 8)
            .map(|(_, value)| value.trim().to_string()),
    );
    for &key in required {
        if keys.get(key).is_none_or(|v| v.trim().is_empty()) {
            out.facts.push(
                Fact::new(
                    "conf-missing-key",
                    label,
                    crate::msg!(
                        "evidence-conf-key-missing",
                        file = path.display(),
                        key = key
                    ),
                )
                .with("key", key)
                .with("file", path.display().to_string()),
            );
        }
    }
    let port = keys
        .get("whatap.server.port")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(DEFAULT_PORT);
    if let Some(hosts) = keys.get("whatap.server.host") {
        for host in hosts
            .split(['/', ','])
            .map(str::trim)
            .filter(|h| !h.is_empty())
        {
            out.collectors.push(CollectorRef {
                target: label.to_string(),
                conf: path.to_path_buf(),
                host: host.to_string(),
                port,
            });
        }
    }
}
