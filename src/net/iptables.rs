//! Firewall rules in iptables' own words: `iptables-legacy-save` / `ip6tables-legacy-save`
//! output (RHEL/CentOS 7 hosts, Debian's legacy backend: rules nftables does not show), ufw's
//! `user.rules` and firewalld's `direct.xml` (rules a person wrote, named by file and line).
//!
//! As for nftables, a rule counts only when every match in it is understood and holds for TCP
//! to the collector: an interface, a state, an owner match... make it not apply, so doctor never
//! blames a rule it cannot read.

use std::net::IpAddr;

/// One `-A CHAIN ...` rule: its chain, its words, and where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub chain: String,
    pub args: Vec<String>,
    /// 1-based line in the text it came from.
    pub line: usize,
    pub text: String,
}

/// The filter table of an iptables-save text: chain policies and rules, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub policies: Vec<(String, String)>,
    pub rules: Vec<Rule>,
}

/// Splits a rule line like a shell would for iptables-save output (double quotes group).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                started = true;
            }
            c if c.is_whitespace() && !quoted => {
                if started {
                    out.push(std::mem::take(&mut current));
                    started = false;
                }
            }
            c => {
                current.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(current);
    }
    out
}

/// The `*filter` table of an iptables-save text (a whole text without `*` lines counts as it:
/// ufw's user.rules fragments).
pub fn parse_filter(text: &str) -> Table {
    let mut table = Table::default();
    let mut in_filter = !text.lines().any(|l| l.starts_with('*'));
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('*') {
            in_filter = name == "filter";
            continue;
        }
        if !in_filter {
            continue;
        }
        if let Some(rest) = line.strip_prefix(':') {
            let mut parts = rest.split_whitespace();
            if let (Some(chain), Some(policy)) = (parts.next(), parts.next()) {
                table.policies.push((chain.to_string(), policy.to_string()));
            }
        } else if line.starts_with("-A ") {
            let mut args = words(line);
            args.remove(0);
            let chain = args.remove(0);
            table.rules.push(Rule {
                chain,
                args,
                line: i + 1,
                text: line.to_string(),
            });
        }
    }
    table
}

/// What a rule does to TCP to `addr:port`: Some(target) when all its matches hold, None when
/// one does not or is not understood.
pub fn rule_target(args: &[String], addr: IpAddr, port: u16) -> Option<String> {
    let mut target = None;
    let mut negate = false;
    let mut i = 0;
    let value = |i: usize| args.get(i + 1).map(String::as_str);
    while i < args.len() {
        let arg = args[i].as_str();
        let holds = match arg {
            "!" => {
                negate = true;
                i += 1;
                continue;
            }
            "-d" | "--destination" | "--dst" => value(i).and_then(|v| in_net(addr, v))?,
            "-p" | "--protocol" => {
                matches!(value(i)?.to_ascii_lowercase().as_str(), "tcp" | "6" | "all")
            }
            "--dport" | "--destination-port" => port_in(value(i)?, port)?,
            "--dports" | "--destination-ports" => value(i)?
                .split(',')
                .map(|p| port_in(p, port))
                .collect::<Option<Vec<bool>>>()?
                .contains(&true),
            "-m" | "--match" => {
                if !matches!(value(i)?, "tcp" | "multiport" | "comment") {
                    return None;
                }
                i += 2;
                continue;
            }
            "--comment" => {
                i += 2;
                continue;
            }
            "-j" | "--jump" | "-g" | "--goto" => {
                target = value(i).map(str::to_string);
                // The target's own options (--reject-with ...) change nothing here.
                break;
            }
            _ => return None,
        };
        if holds == negate {
            return None;
        }
        negate = false;
        i += 2;
    }
    target
}

/// Does `addr` fall in `net` (`1.2.3.4`, `1.2.3.0/24`, `1.2.3.0/255.255.255.0`, `::1/128`)?
/// None when `net` cannot be read.
fn in_net(addr: IpAddr, net: &str) -> Option<bool> {
    let (base, len) = match net.split_once('/') {
        Some((base, mask)) => {
            let base: IpAddr = base.parse().ok()?;
            let len = match mask.parse::<u32>() {
                Ok(len) => len,
                Err(_) => match mask.parse::<IpAddr>().ok()? {
                    IpAddr::V4(m) => u32::from(m).count_ones(),
                    IpAddr::V6(m) => u128::from(m).count_ones(),
                },
            };
            (base, len)
        }
        None => {
            let base: IpAddr = net.parse().ok()?;
            (base, if base.is_ipv4() { 32 } else { 128 })
        }
    };
    Some(in_prefix(addr, base, len))
}

/// Does `addr` fall in `net/len` (both of one family)?
pub fn in_prefix(addr: IpAddr, net: IpAddr, len: u32) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if len <= 32 => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if len <= 128 => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// `6600` or `6000:7000` (iptables' range form).
fn port_in(spec: &str, port: u16) -> Option<bool> {
    match spec.split_once(':') {
        Some((lo, hi)) => {
            let lo: u16 = if lo.is_empty() { 0 } else { lo.parse().ok()? };
            let hi: u16 = if hi.is_empty() {
                u16::MAX
            } else {
                hi.parse().ok()?
            };
            Some((lo..=hi).contains(&port))
        }
        None => Some(spec.parse::<u16>().ok()? == port),
    }
}

/// The verdict `chain` of `table` gives TCP to `addr:port` (following jumps into user chains),
/// with the rule that gave it; None when no rule decided (the caller applies the policy).
pub fn decide<'a>(
    table: &'a Table,
    chain: &str,
    addr: IpAddr,
    port: u16,
    depth: usize,
) -> Option<(String, &'a Rule)> {
    if depth > 16 {
        return None;
    }
    for rule in table.rules.iter().filter(|r| r.chain == chain) {
        let Some(target) = rule_target(&rule.args, addr, port) else {
            continue;
        };
        match target.as_str() {
            "ACCEPT" | "DROP" | "REJECT" => return Some((target, rule)),
            "RETURN" => return None,
            other if table.rules.iter().any(|r| r.chain == other) => {
                if let Some(found) = decide(table, other, addr, port, depth + 1) {
                    return Some(found);
                }
            }
            // LOG, MARK, an empty user chain...: the packet goes on.
            _ => {}
        }
    }
    None
}

/// A drop in `table` for TCP to `addr:port` from `chain`, described; the chain's policy
/// counts when `policy` is given (a base chain).
pub fn blocked<'a>(
    table: &'a Table,
    chain: &str,
    addr: IpAddr,
    port: u16,
    policy: Option<&str>,
) -> Option<Result<&'a Rule, String>> {
    match decide(table, chain, addr, port, 0) {
        Some((verdict, rule)) if verdict != "ACCEPT" => Some(Ok(rule)),
        Some(_) => None,
        None => {
            let policy = policy.map(str::to_string).or_else(|| {
                table
                    .policies
                    .iter()
                    .find(|(c, _)| c == chain)
                    .map(|(_, p)| p.clone())
            })?;
            matches!(policy.as_str(), "DROP" | "REJECT").then_some(Err(policy))
        }
    }
}

/// ufw: `DEFAULT_OUTPUT_POLICY` from /etc/default/ufw, `ENABLED` from ufw.conf.
pub fn ufw_setting(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let value = l.trim().strip_prefix(key)?.strip_prefix('=')?;
        Some(value.trim().trim_matches('"').to_string())
    })
}

/// firewalld's direct rules (`<rule ipv="ipv4" table="filter" chain="OUTPUT">args</rule>`,
/// `<passthrough ipv="ipv4">-A OUTPUT ...</passthrough>`) as an iptables table for `ipv`.
pub fn firewalld_direct(content: &[u8], ipv: &str) -> Table {
    let mut table = Table::default();
    let Ok(all) = crate::edit::xml::elements(content) else {
        return table;
    };
    for element in &all {
        let attr = |name: &str| {
            crate::edit::xml::attribute_value(content, element, name)
                .map(|span| String::from_utf8_lossy(&content[span]).into_owned())
        };
        if attr("ipv").as_deref() != Some(ipv) {
            continue;
        }
        let text = String::from_utf8_lossy(element.text(content))
            .trim()
            .to_string();
        let line = content[..element.start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        let mut args = words(&text);
        let chain = match element.name.as_str() {
            "rule" if attr("table").as_deref().unwrap_or("filter") == "filter" => attr("chain"),
            "passthrough" if args.first().is_some_and(|a| a == "-A" || a == "-I") => {
                args.remove(0);
                Some(args.remove(0))
            }
            _ => None,
        };
        if let Some(chain) = chain {
            table.rules.push(Rule {
                chain,
                args,
                line,
                text,
            });
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAVE: &str = "# Generated by iptables-save v1.4.21\n*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -d 10.1.2.3/32 -j DNAT --to-destination 1.1.1.1\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [5:300]\n:WHATAP - [0:0]\n-A OUTPUT -o eth9 -p tcp --dport 6600 -j DROP\n-A OUTPUT -m comment --comment \"to the collectors\" -j WHATAP\n-A WHATAP -d 10.1.0.0/255.255.0.0 -p tcp -m multiport --dports 6600,7000:7010 -j REJECT --reject-with icmp-port-unreachable\nCOMMIT\n";

    fn v4(a: &str) -> IpAddr {
        a.parse().unwrap()
    }

    #[test]
    fn a_jump_to_a_user_chain_that_rejects_is_found() {
        let table = parse_filter(SAVE);
        let rule = blocked(&table, "OUTPUT", v4("10.1.2.3"), 6600, None)
            .unwrap()
            .unwrap();
        assert_eq!((rule.chain.as_str(), rule.line), ("WHATAP", 12));
        assert!(blocked(&table, "OUTPUT", v4("10.1.2.3"), 7005, None).is_some());
        // Another port, another network: allowed; the -o rule is not understood, not blamed.
        assert!(blocked(&table, "OUTPUT", v4("10.1.2.3"), 6601, None).is_none());
        assert!(blocked(&table, "OUTPUT", v4("10.2.0.1"), 6600, None).is_none());
    }

    #[test]
    fn negation_accept_first_and_policies() {
        let table = parse_filter(
            "*filter\n:OUTPUT DROP [0:0]\n-A OUTPUT ! -d 10.0.0.0/8 -j ACCEPT\n-A OUTPUT -p tcp --dport 6600 -d 10.9.9.9 -j ACCEPT\n",
        );
        assert!(blocked(&table, "OUTPUT", v4("8.8.8.8"), 6600, None).is_none());
        assert!(blocked(&table, "OUTPUT", v4("10.9.9.9"), 6600, None).is_none());
        assert_eq!(
            blocked(&table, "OUTPUT", v4("10.1.1.1"), 6600, None),
            Some(Err("DROP".to_string()))
        );
    }

    #[test]
    fn ufw_and_firewalld_files() {
        let user = parse_filter(
            "*filter\n:ufw-user-output - [0:0]\n### tuple ### deny tcp 6600 0.0.0.0/0 any 10.1.2.3 out\n-A ufw-user-output -p tcp -d 10.1.2.3 --dport 6600 -j DROP\nCOMMIT\n",
        );
        let rule = blocked(
            &user,
            "ufw-user-output",
            v4("10.1.2.3"),
            6600,
            Some("ACCEPT"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(rule.line, 4);
        assert_eq!(
            ufw_setting(
                "# comment\nDEFAULT_OUTPUT_POLICY=\"DROP\"\n",
                "DEFAULT_OUTPUT_POLICY"
            )
            .as_deref(),
            Some("DROP")
        );
        let direct = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<direct>\n  <rule priority=\"0\" table=\"filter\" ipv=\"ipv4\" chain=\"OUTPUT\">-p tcp -d 10.1.2.3 --dport 6600 -j DROP</rule>\n  <passthrough ipv=\"ipv6\">-A OUTPUT -p tcp --dport 6600 -j REJECT</passthrough>\n</direct>\n";
        let table = firewalld_direct(direct, "ipv4");
        assert_eq!(
            blocked(&table, "OUTPUT", v4("10.1.2.3"), 6600, Some("ACCEPT"))
                .unwrap()
                .unwrap()
                .line,
            3
        );
        let six = firewalld_direct(direct, "ipv6");
        assert!(blocked(&six, "OUTPUT", "::1".parse().unwrap(), 6600, Some("ACCEPT")).is_some());
    }
}
