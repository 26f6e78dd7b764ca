//! Windows Defender Firewall's outbound rules, as `netsh advfirewall firewall show rule
//! name=all dir=out` lists them. An enabled Block rule wins over any Allow rule there, so one
//! that matches TCP to the collector blocks it. Read only where netsh lists rules in English:
//! a localized or empty listing (wine's netsh lists none) is "not read", never "no rule".
//!
//! As with nftables, a rule counts only when every field it restricts is understood and
//! satisfied: a remote address given as a range or a keyword (`LocalSubnet`), or a program or
//! service restriction, makes the rule not apply, so doctor never blames a rule it cannot read.

use std::net::{IpAddr, Ipv4Addr};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    /// Every `Field: value` line of the rule, by its English field name.
    fields: Vec<(String, String)>,
}

impl Rule {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether this rule blocks TCP from this host to `addr:port`.
    pub fn blocks(&self, addr: IpAddr, port: u16) -> bool {
        let is = |name: &str, value: &str| self.field(name).is_some_and(|v| v == value);
        is("Enabled", "Yes")
            && is("Direction", "Out")
            && is("Action", "Block")
            && self
                .field("Protocol")
                .is_some_and(|p| p == "Any" || p == "TCP")
            && self.field("RemotePort").is_none_or(|p| port_matches(p, port))
            && self.field("RemoteIP").is_none_or(|a| address_matches(a, addr))
            // Per-program and per-service rules are shown only with `verbose`: a listing that
            // names one is a restriction this reading does not follow.
            && self.field("Program").is_none()
            && self.field("Service").is_none()
    }

    /// `netsh advfirewall rule "<name>": Block TCP RemoteIP ... RemotePort ...`.
    pub fn describe(&self) -> String {
        format!(
            "netsh advfirewall rule \"{}\": Block {} RemoteIP {} RemotePort {}",
            self.name,
            self.field("Protocol").unwrap_or("Any"),
            self.field("RemoteIP").unwrap_or("Any"),
            self.field("RemotePort").unwrap_or("Any"),
        )
    }
}

/// `Any`, or comma-separated ports and `a-b` ranges.
fn port_matches(ports: &str, port: u16) -> bool {
    ports.split(',').map(str::trim).any(|p| {
        if p == "Any" {
            return true;
        }
        match p.split_once('-') {
            Some((a, b)) => matches!((a.parse::<u16>(), b.parse::<u16>()), (Ok(a), Ok(b)) if (a..=b).contains(&port)),
            None => p.parse::<u16>() == Ok(port),
        }
    })
}

/// `Any`, or comma-separated addresses and networks, `a/prefix` or `a/dotted mask` (netsh
/// shows a single address as `a/32`, a subnet as `10.0.0.0/255.0.0.0`); a range or a keyword
/// (`LocalSubnet`) is not followed.
fn address_matches(addresses: &str, addr: IpAddr) -> bool {
    addresses.split(',').map(str::trim).any(|a| {
        if a == "Any" {
            return true;
        }
        let (ip, prefix) = match a.split_once('/') {
            Some((ip, prefix)) => match (prefix.parse::<u32>(), prefix.parse::<Ipv4Addr>()) {
                (Ok(bits), _) => (ip, Some(bits)),
                (_, Ok(mask)) => (ip, Some(u32::from(mask).leading_ones())),
                _ => return false,
            },
            None => (a, None),
        };
        match (ip.parse::<IpAddr>(), addr) {
            (Ok(IpAddr::V4(net)), IpAddr::V4(addr)) => {
                let bits = prefix.unwrap_or(32).min(32);
                let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
                u32::from(net) & mask == u32::from(addr) & mask
            }
            (Ok(IpAddr::V6(net)), IpAddr::V6(addr)) => {
                let bits = prefix.unwrap_or(128).min(128);
                let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                u128::from(net) & mask == u128::from(addr) & mask
            }
            _ => false,
        }
    })
}

/// The rules of a listing; None when it holds none in English (`Rule Name:`), which is also
/// what "No rules match the specified criteria." gives.
pub fn parse(listing: &str) -> Option<Vec<Rule>> {
    let mut rules: Vec<Rule> = Vec::new();
    for line in listing.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        if key == "Rule Name" {
            rules.push(Rule {
                name: value.to_string(),
                fields: Vec::new(),
            });
        } else if let Some(rule) = rules.last_mut() {
            rule.fields.push((key.to_string(), value.to_string()));
        }
    }
    (!rules.is_empty()).then_some(rules)
}

/// The outbound rules of this host (Windows: `%SystemRoot%\System32\netsh.exe`, run by its
/// absolute path); None when they cannot be read.
pub fn read() -> Option<Vec<Rule>> {
    if !cfg!(windows) {
        return None;
    }
    let root = std::env::var_os("SystemRoot")?;
    let netsh = std::path::Path::new(&root)
        .join("System32")
        .join("netsh.exe");
    let out = std::process::Command::new(netsh)
        .args([
            "advfirewall",
            "firewall",
            "show",
            "rule",
            "name=all",
            "dir=out",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    parse(&String::from_utf8_lossy(&out.stdout))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As Windows Server 2019's netsh prints them (English), one blocking and two not.
    const LISTING: &str = "\r
Rule Name:                            Block WhaTap collector\r
----------------------------------------------------------------------\r
Enabled:                              Yes\r
Direction:                            Out\r
Profiles:                             Domain,Private,Public\r
Grouping:                             \r
LocalIP:                              Any\r
RemoteIP:                             10.0.0.0/255.0.0.0\r
Protocol:                             TCP\r
LocalPort:                            Any\r
RemotePort:                           6600-6610\r
Edge traversal:                       No\r
Action:                               Block\r
\r
Rule Name:                            Core Networking - DNS (UDP-Out)\r
----------------------------------------------------------------------\r
Enabled:                              Yes\r
Direction:                            Out\r
Profiles:                             Domain,Private,Public\r
Grouping:                             Core Networking\r
LocalIP:                              Any\r
RemoteIP:                             Any\r
Protocol:                             UDP\r
LocalPort:                            Any\r
RemotePort:                           53\r
Edge traversal:                       No\r
Action:                               Allow\r
\r
Rule Name:                            Block all 6600, off\r
----------------------------------------------------------------------\r
Enabled:                              No\r
Direction:                            Out\r
RemoteIP:                             Any\r
Protocol:                             Any\r
RemotePort:                           6600\r
Action:                               Block\r
Ok.\r
";

    #[test]
    fn an_enabled_outbound_block_rule_for_the_port_blocks() {
        let rules = parse(LISTING).unwrap();
        assert_eq!(rules.len(), 3);
        let blocking: Vec<String> = rules
            .iter()
            .filter(|r| r.blocks("10.1.2.3".parse().unwrap(), 6600))
            .map(Rule::describe)
            .collect();
        assert_eq!(
            blocking,
            [
                "netsh advfirewall rule \"Block WhaTap collector\": Block TCP RemoteIP 10.0.0.0/255.0.0.0 RemotePort 6600-6610"
            ]
        );
        assert!(
            rules
                .iter()
                .all(|r| !r.blocks("11.1.2.3".parse().unwrap(), 6600))
        );
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        assert!(address_matches("10.0.0.0/8", ip) && address_matches("10.1.2.3/32", ip));
        assert!(!address_matches("10.1.2.4/32", ip));
        assert!(!address_matches("LocalSubnet", ip) && !address_matches("10.1.2.1-10.1.2.9", ip));
        assert!(port_matches("80,6600", 6600) && !port_matches("6601-6610", 6600));
    }

    #[test]
    fn a_listing_without_english_rules_is_not_read() {
        assert_eq!(parse(""), None);
        assert_eq!(parse("No rules match the specified criteria.\r\n"), None);
        assert_eq!(parse("규칙 이름:    WhaTap 차단\r\n사용:    예\r\n"), None);
    }
}
