//! Local firewall rules that drop outbound TCP to a collector: nftables (`nft -j list
//! ruleset`; on Debian 12 iptables-nft, firewalld and ufw program it), the legacy iptables
//! backend (`iptables-legacy-save`, `ip6tables-legacy-save`; `iptables-save` where it is the
//! legacy one, as on RHEL/CentOS 7), ufw's `user.rules` and firewalld's `direct.xml` (the rule
//! as a person wrote it, by file and line). Programs run by absolute path, never a shell.
//!
//! A rule counts only when every match in it is understood and satisfied: an unknown match
//! (interface, conntrack state, marks...) makes the rule not apply, so doctor never blames a
//! rule it cannot read.

use super::iptables;
use serde_json::Value;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// `inet filter`, as nft names a table.
    pub table: String,
    pub chain: String,
    /// The rule handle, or None when the chain's policy drops.
    pub handle: Option<u64>,
    pub verdict: String,
}

impl Block {
    pub fn describe(&self) -> String {
        match self.handle {
            Some(handle) => format!(
                "nft table {} chain {} rule handle {handle}: {}",
                self.table, self.chain, self.verdict
            ),
            None => format!(
                "nft table {} chain {}: policy {}",
                self.table, self.chain, self.verdict
            ),
        }
    }
}

/// The first of `names` in the sbin directories (absolute paths only: no PATH lookup).
fn program(names: &[&str]) -> Option<PathBuf> {
    names.iter().find_map(|n| crate::os::system_program(n))
}

/// A program's stdout when it succeeds.
fn run(program: &Path, args: &[&str]) -> Option<Vec<u8>> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output.status.success().then_some(output.stdout)
}

/// The ruleset as JSON, or None when nft is not installed or cannot be read.
pub fn read_ruleset() -> Option<Value> {
    let nft = program(&["nft"])?;
    serde_json::from_slice(&run(&nft, &["-j", "list", "ruleset"])?).ok()
}

/// The legacy iptables save program for IPv4 or IPv6: `*tables-legacy-save`, else a plain
/// `*tables-save` that is not the nftables one (whose rules nft already shows).
fn legacy_save(v6: bool) -> Option<PathBuf> {
    let base = if v6 { "ip6tables" } else { "iptables" };
    program(&[&format!("{base}-legacy-save")]).or_else(|| {
        let plain = program(&[&format!("{base}-save")])?;
        let real = crate::os::canonicalize(&plain).ok()?;
        let name = real.file_name()?.to_string_lossy().into_owned();
        (!name.contains("nft")).then_some(plain)
    })
}

/// Every firewall's rules as their own tools print them (for the support bundle): a name and
/// the text, for each firewall this host has.
pub fn dumps() -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    if let Some(out) = program(&["nft"]).and_then(|nft| run(&nft, &["list", "ruleset"])) {
        found.push(("nft-list-ruleset.txt".to_string(), out));
    }
    for v6 in [false, true] {
        if let Some(save) = legacy_save(v6) {
            if let Some(out) = run(&save, &[]) {
                let name = save.file_name().unwrap_or_default().to_string_lossy();
                found.push((format!("{name}.txt"), out));
            }
        }
    }
    for file in [UFW_USER, UFW_USER6, FIREWALLD_DIRECT] {
        if let Ok(bytes) = std::fs::read(file) {
            found.push((file.trim_start_matches('/').replace('/', "_"), bytes));
        }
    }
    found
}

/// Every firewall this host has, read once per doctor run.
#[derive(Default)]
pub struct Firewalls {
    nft: Option<Value>,
    /// (program, its filter table) for IPv4 and IPv6.
    legacy: Vec<(PathBuf, bool, iptables::Table)>,
    /// (file, v6, table, the chain to start from, its policy).
    files: Vec<(PathBuf, bool, iptables::Table, &'static str, String)>,
    /// Windows Defender Firewall's outbound rules, when netsh listed them.
    windows: Option<Vec<super::advfirewall::Rule>>,
}

const UFW_USER: &str = "/etc/ufw/user.rules";
const UFW_USER6: &str = "/etc/ufw/user6.rules";
const FIREWALLD_DIRECT: &str = "/etc/firewalld/direct.xml";

impl Firewalls {
    pub fn read() -> Firewalls {
        if cfg!(windows) {
            // None of the programs and files below exist there.
            return Firewalls {
                windows: super::advfirewall::read(),
                ..Firewalls::default()
            };
        }
        let mut found = Firewalls {
            nft: read_ruleset(),
            ..Firewalls::default()
        };
        for v6 in [false, true] {
            if let Some(save) = legacy_save(v6) {
                if let Some(out) = run(&save, &["-t", "filter"]) {
                    let table = iptables::parse_filter(&String::from_utf8_lossy(&out));
                    found.legacy.push((save, v6, table));
                }
            }
        }
        let ufw_conf = std::fs::read_to_string("/etc/ufw/ufw.conf").unwrap_or_default();
        if iptables::ufw_setting(&ufw_conf, "ENABLED").as_deref() == Some("yes") {
            let defaults = std::fs::read_to_string("/etc/default/ufw").unwrap_or_default();
            let policy = iptables::ufw_setting(&defaults, "DEFAULT_OUTPUT_POLICY")
                .unwrap_or_else(|| "ACCEPT".to_string());
            for (file, v6) in [(UFW_USER, false), (UFW_USER6, true)] {
                if let Ok(text) = std::fs::read_to_string(file) {
                    let table = iptables::parse_filter(&text);
                    found
                        .files
                        .push((file.into(), v6, table, "ufw-user-output", policy.clone()));
                }
            }
        }
        if let Ok(content) = std::fs::read(FIREWALLD_DIRECT) {
            for (v6, ipv) in [(false, "ipv4"), (true, "ipv6")] {
                let table = iptables::firewalld_direct(&content, ipv);
                found.files.push((
                    FIREWALLD_DIRECT.into(),
                    v6,
                    table,
                    "OUTPUT",
                    "ACCEPT".into(),
                ));
            }
        }
        found
    }

    /// Whether the host's firewall could be read: always off Windows (each of Linux's is read
    /// where present), on Windows when netsh listed its rules.
    pub fn checked(&self) -> bool {
        !cfg!(windows) || self.windows.is_some()
    }

    /// Every rule (or policy) here that drops TCP to `addr:port`, described.
    pub fn blocks(&self, addr: IpAddr, port: u16) -> Vec<String> {
        let mut found: Vec<String> = self
            .nft
            .as_ref()
            .map(|r| blocks(r, addr, port).iter().map(Block::describe).collect())
            .unwrap_or_default();
        found.extend(
            self.windows
                .iter()
                .flatten()
                .filter(|r| r.blocks(addr, port))
                .map(super::advfirewall::Rule::describe),
        );
        for (save, v6, table) in &self.legacy {
            if *v6 != addr.is_ipv6() {
                continue;
            }
            let name = save.file_name().unwrap_or_default().to_string_lossy();
            match iptables::blocked(table, "OUTPUT", addr, port, None) {
                Some(Ok(rule)) => found.push(format!("{name} table filter: {}", rule.text)),
                Some(Err(policy)) => {
                    found.push(format!("{name} table filter chain OUTPUT: policy {policy}"))
                }
                None => {}
            }
        }
        for (file, v6, table, chain, policy) in &self.files {
            if *v6 != addr.is_ipv6() {
                continue;
            }
            match iptables::blocked(table, chain, addr, port, Some(policy)) {
                Some(Ok(rule)) => {
                    found.push(format!("{}:{}: {}", file.display(), rule.line, rule.text))
                }
                Some(Err(policy)) => found.push(format!(
                    "{}: chain {chain}: default outgoing policy {policy}",
                    file.display()
                )),
                None => {}
            }
        }
        found
    }
}

/// What drops TCP from this host to `addr:port`, per output base chain.
pub fn blocks(ruleset: &Value, addr: IpAddr, port: u16) -> Vec<Block> {
    let Some(items) = ruleset.get("nftables").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for item in items {
        let Some(chain) = item.get("chain") else {
            continue;
        };
        if chain.get("hook").and_then(Value::as_str) != Some("output")
            || chain.get("type").and_then(Value::as_str) != Some("filter")
        {
            continue;
        }
        let family = chain
            .get("family")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !family_carries(family, addr) {
            continue;
        }
        let table = chain
            .get("table")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = chain
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let rules = items.iter().filter_map(|i| i.get("rule")).filter(|r| {
            r.get("family").and_then(Value::as_str) == Some(family)
                && r.get("table").and_then(Value::as_str) == Some(table)
                && r.get("chain").and_then(Value::as_str) == Some(name)
        });
        let mut verdict = None;
        for rule in rules {
            let exprs = rule
                .get("expr")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            if let Some(v) = rule_verdict(exprs, addr, port) {
                verdict = Some((v, rule.get("handle").and_then(Value::as_u64)));
                break;
            }
        }
        let table = format!("{family} {table}");
        match verdict {
            Some((v, handle)) if v == "drop" || v == "reject" => found.push(Block {
                table,
                chain: name.to_string(),
                handle,
                verdict: v,
            }),
            Some(_) => {}
            None => {
                let policy = chain
                    .get("policy")
                    .and_then(Value::as_str)
                    .unwrap_or("accept");
                if policy == "drop" {
                    found.push(Block {
                        table,
                        chain: name.to_string(),
                        handle: None,
                        verdict: policy.to_string(),
                    });
                }
            }
        }
    }
    found
}

fn family_carries(family: &str, addr: IpAddr) -> bool {
    match family {
        "inet" => true,
        "ip" => addr.is_ipv4(),
        "ip6" => addr.is_ipv6(),
        _ => false,
    }
}

/// The verdict of a rule whose matches all hold for TCP to `addr:port`; None otherwise.
fn rule_verdict(exprs: &[Value], addr: IpAddr, port: u16) -> Option<String> {
    let mut verdict = None;
    for expr in exprs {
        if let Some(m) = expr.get("match") {
            if !match_holds(m, addr, port)? {
                return None;
            }
        } else if let Some(key) = ["drop", "reject", "accept"]
            .iter()
            .find(|k| expr.get(**k).is_some())
        {
            verdict = Some(key.to_string());
        } else if expr.get("counter").is_some()
            || expr.get("log").is_some()
            || expr.get("limit").is_some()
        {
            continue;
        } else {
            // jump, goto, queue, set updates...: not a verdict we can follow.
            return None;
        }
    }
    verdict
}

/// Some(true/false) when the match is understood, None when it is not.
fn match_holds(m: &Value, addr: IpAddr, port: u16) -> Option<bool> {
    let op = m.get("op").and_then(Value::as_str).unwrap_or("==");
    let left = m.get("left")?;
    let right = m.get("right")?;
    let positive = match op {
        "==" | "in" => true,
        "!=" => false,
        _ => return None,
    };
    let holds = if let Some(payload) = left.get("payload") {
        let protocol = payload.get("protocol").and_then(Value::as_str)?;
        let field = payload.get("field").and_then(Value::as_str)?;
        match (protocol, field) {
            ("tcp" | "th", "dport") => value_contains(
                right,
                &|v| v.as_u64() == Some(u64::from(port)),
                &|lo, hi| {
                    (lo.as_u64()?..=hi.as_u64()?)
                        .contains(&u64::from(port))
                        .into()
                },
            )?,
            ("ip" | "ip6", "daddr") => {
                if (protocol == "ip") != addr.is_ipv4() {
                    false
                } else {
                    value_contains(right, &|v| addr_matches(v, addr), &|_, _| None)?
                }
            }
            _ => return None,
        }
    } else if let Some(meta) = left.get("meta") {
        match meta.get("key").and_then(Value::as_str)? {
            "l4proto" => value_contains(
                right,
                &|v| v.as_str() == Some("tcp") || v.as_u64() == Some(6),
                &|_, _| None,
            )?,
            "nfproto" => value_contains(
                right,
                &|v| v.as_str() == Some(if addr.is_ipv4() { "ipv4" } else { "ipv6" }),
                &|_, _| None,
            )?,
            _ => return None,
        }
    } else {
        return None;
    };
    Some(holds == positive)
}

/// Does `right` (a value, a set or a range) contain what `is` recognises?
fn value_contains(
    right: &Value,
    is: &dyn Fn(&Value) -> bool,
    in_range: &dyn Fn(&Value, &Value) -> Option<bool>,
) -> Option<bool> {
    if let Some(set) = right.get("set").and_then(Value::as_array) {
        let mut any = false;
        for element in set {
            any |= value_contains(element, is, in_range)?;
        }
        return Some(any);
    }
    if let Some(range) = right.get("range").and_then(Value::as_array) {
        return in_range(range.first()?, range.get(1)?);
    }
    if right.get("prefix").is_some() {
        return Some(is(right));
    }
    if right.is_object() {
        // A named set (`@blocked`) or an expression: not followed.
        return None;
    }
    Some(is(right))
}

fn addr_matches(value: &Value, addr: IpAddr) -> bool {
    if let Some(prefix) = value.get("prefix") {
        let (Some(net), Some(len)) = (
            prefix
                .get("addr")
                .and_then(Value::as_str)
                .and_then(|a| a.parse::<IpAddr>().ok()),
            prefix.get("len").and_then(Value::as_u64),
        ) else {
            return false;
        };
        return iptables::in_prefix(addr, net, len as u32);
    }
    value.as_str().and_then(|a| a.parse::<IpAddr>().ok()) == Some(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ruleset(rules: &str, policy: &str) -> Value {
        serde_json::from_str(&format!(
            r#"{{"nftables":[{{"chain":{{"family":"inet","table":"t","name":"out","type":"filter","hook":"output","prio":0,"policy":"{policy}"}}}}{rules}]}}"#
        ))
        .unwrap()
    }

    fn rule(handle: u64, exprs: &str) -> String {
        format!(
            r#",{{"rule":{{"family":"inet","table":"t","chain":"out","handle":{handle},"expr":[{exprs}]}}}}"#
        )
    }

    const DPORT_SET: &str = r#"{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":{"set":[6600,7000]}}}"#;
    const DADDR_NET: &str = r#"{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":{"prefix":{"addr":"10.1.0.0","len":16}}}}"#;
    const IIF: &str = r#"{"match":{"op":"==","left":{"meta":{"key":"oifname"}},"right":"eth9"}}"#;

    #[test]
    fn finds_drop_rules_by_port_and_address() {
        let addr: IpAddr = "10.1.2.3".parse().unwrap();
        let set = ruleset(
            &rule(
                3,
                &format!(r#"{DADDR_NET},{DPORT_SET},{{"counter":null}},{{"drop":null}}"#),
            ),
            "accept",
        );
        assert_eq!(
            blocks(&set, addr, 6600)[0].describe(),
            "nft table inet t chain out rule handle 3: drop"
        );
        assert!(blocks(&set, addr, 6601).is_empty());
        assert!(blocks(&set, "10.2.0.1".parse().unwrap(), 6600).is_empty());
    }

    #[test]
    fn accept_before_drop_wins_and_policy_drop_counts() {
        let addr: IpAddr = "10.1.2.3".parse().unwrap();
        let accept_first = ruleset(
            &format!(
                "{}{}",
                rule(2, &format!(r#"{DPORT_SET},{{"accept":null}}"#)),
                rule(3, r#"{"drop":null}"#)
            ),
            "drop",
        );
        assert!(blocks(&accept_first, addr, 6600).is_empty());
        let policy = ruleset("", "drop");
        assert_eq!(blocks(&policy, addr, 6600)[0].handle, None);
    }

    #[test]
    fn rules_it_cannot_read_are_not_blamed() {
        let set = ruleset(
            &rule(5, &format!(r#"{IIF},{DPORT_SET},{{"drop":null}}"#)),
            "accept",
        );
        assert!(blocks(&set, "10.1.2.3".parse().unwrap(), 6600).is_empty());
    }
}
