//! A license key is never shown in full: all but its last 4 characters are masked.

pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let keep = if chars.len() > 8 { 4 } else { 0 };
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("{}{tail}", "*".repeat(chars.len() - keep))
}

/// Whether a whatap.conf (or whatap.ini) key holds a secret: `license`, `whatap.license`.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key == "license" || key.ends_with(".license")
}

/// A `license=VALUE` anywhere: whatap.conf lines, `whatap.license=` (PHP's whatap.ini),
/// `-Dwhatap.license=`, a log line quoting one. A value that starts with `*` is masked already;
/// a backslash ends one (a license has none, and JSON text escapes line breaks with one); one
/// shorter than a license (8 characters) is a placeholder (`WHATAP_LICENSE=...`).
fn license_values() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r#"(?i)(license\s*=\s*["']?)([^\s*\\\u{240d}"',;&<>][^\s\\\u{240d}"',;&<>]{7,})"#,
        )
        .expect("valid regex")
    })
}

/// `text` with every `license=` value replaced by `with(value)`.
pub fn replace_license_values(text: &str, with: impl Fn(&str) -> String) -> String {
    license_values()
        .replace_all(text, |caps: &regex::Captures<'_>| {
            format!("{}{}", &caps[1], with(&caps[2]))
        })
        .into_owned()
}

/// Replaces every occurrence of each secret in `text`, and any `license=` value, by its
/// masked form.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = replace_license_values(text, mask);
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), &mask(secret));
        }
    }
    out
}

/// Text quoted from outside (log lines, command lines, paths) made safe for a terminal:
/// control characters other than tab, and the bidirectional overrides, are shown as escapes
/// (`\x1b`, `\u{202e}`) instead of being emitted raw.
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| {
        (c.is_control() && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !hidden(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    std::borrow::Cow::Owned(out)
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

    #[test]
    fn license_values_are_masked_anywhere_in_a_line() {
        assert_eq!(
            redact(
                "12:00 INFO conf loaded: LICENSE=zyxwvutsrq9876, host=x",
                &[]
            ),
            "12:00 INFO conf loaded: LICENSE=**********9876, host=x"
        );
        assert_eq!(
            redact("-Dwhatap.license=\"zyxwvutsrq9876\"", &[]),
            "-Dwhatap.license=\"**********9876\""
        );
        // Masked already by the agent, or a placeholder: left as it is.
        assert_eq!(redact("license=****5502", &[]), "license=****5502");
        assert_eq!(
            redact("WHATAP_LICENSE=... whatap", &[]),
            "WHATAP_LICENSE=... whatap"
        );
    }

    #[test]
    fn control_characters_are_made_visible() {
        assert_eq!(visible("plain\ttext"), "plain\ttext");
        assert_eq!(
            visible("a\x1b[2Jb\rc\u{9b}d\u{202e}e\n"),
            "a\\x1b[2Jb\\x0dc\\u{9b}d\\u{202e}e\\x0a"
        );
    }
}
