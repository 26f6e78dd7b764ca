//! A license key is never shown in full: all but its last 4 characters are masked.

pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let keep = if chars.len() > 8 { 4 } else { 0 };
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("{}{tail}", "*".repeat(chars.len() - keep))
}

/// `license=VALUE` lines (whatap.conf) and `whatap.license=VALUE` (PHP's whatap.ini) shown
/// in diffs, whatever the license is.
fn license_lines() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"(?m)^([-+ ]?\s*(?:whatap\.)?license\s*=\s*)([^\s\u{240d}]+)")
            .expect("valid regex")
    })
}

/// Replaces every occurrence of each secret in `text`, and any `license=` value, by its
/// masked form.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = license_lines()
        .replace_all(text, |caps: &regex::Captures<'_>| {
            format!("{}{}", &caps[1], mask(&caps[2]))
        })
        .into_owned();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), &mask(secret));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_last_four() {
        assert_eq!(mask("abcdefghij1234"), "**********1234");
        assert_eq!(mask("short"), "*****");
        assert_eq!(
            redact("license=abcdefghij1234\n", &["abcdefghij1234".into()]),
            "license=**********1234\n"
        );
        assert_eq!(
            redact("-license = zyxwvutsrq9876\u{240d}\n", &[]),
            "-license = **********9876\u{240d}\n"
        );
        assert_eq!(
            redact("+whatap.license=zyxwvutsrq9876\n", &[]),
            "+whatap.license=**********9876\n"
        );
    }
}
