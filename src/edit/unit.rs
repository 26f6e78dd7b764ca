//! systemd unit files as text: the `[Service]` settings of a unit and its drop-ins in reading
//! order (continuation lines joined), and how systemd splits a value into words.

use std::path::PathBuf;

/// One `Key=value` of a `[Service]` section, where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub value: String,
    pub file: PathBuf,
    /// 1-based, the setting's first line.
    pub line: usize,
}

/// Every `[Service]` setting of `files` (a unit, then its drop-ins), in order.
pub fn service_settings(files: &[(PathBuf, Vec<u8>)]) -> Vec<Setting> {
    let mut found = Vec::new();
    for (file, content) in files {
        let text = String::from_utf8_lossy(content);
        let mut in_service = false;
        let mut lines = text.lines().enumerate();
        while let Some((index, line)) = lines.next() {
            let trimmed = line.trim();
            if trimmed.starts_with('[') {
                in_service = trimmed == "[Service]";
                continue;
            }
            if !in_service || trimmed.starts_with(['#', ';']) {
                continue;
            }
            let Some((key, value)) = trimmed.split_once('=') else {
                continue;
            };
            let mut value = value.trim().to_string();
            while value.ends_with('\\') {
                value.pop();
                value.truncate(value.trim_end().len());
                match lines.next() {
                    Some((_, next)) => {
                        value.push(' ');
                        value.push_str(next.trim());
                    }
                    None => break,
                }
            }
            found.push(Setting {
                key: key.trim().to_string(),
                value,
                file: file.clone(),
                line: index + 1,
            });
        }
    }
    found
}

/// The settings of a list-valued `key` in effect (`ExecStart`, `Environment`): each adds to
/// the list, an empty one clears it, as systemd reads them.
pub fn list(files: &[(PathBuf, Vec<u8>)], key: &str) -> Vec<Setting> {
    let mut found: Vec<Setting> = Vec::new();
    for setting in service_settings(files).into_iter().filter(|s| s.key == key) {
        if setting.value.is_empty() {
            found.clear();
        } else {
            found.push(setting);
        }
    }
    found
}

/// The words of a value as systemd splits them: blanks separate, `"..."` and `'...'` quote, a
/// backslash escapes the next character.
pub fn words(value: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut chars = value.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                current.extend(chars.next());
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            (None, c) => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_in_order_with_continuations_and_resets() {
        let unit = (
            PathBuf::from("u"),
            b"[Unit]\nEnvironment=X=1\n[Service]\n# ExecStart=/commented\nExecStart=/usr/bin/node \\\n  a.js\nEnvironment=\"A=1 2\" B='3'\n".to_vec(),
        );
        let dropin = (
            PathBuf::from("d"),
            b"[Service]\nExecStart=\nExecStart=/x\n".to_vec(),
        );
        let starts = list(std::slice::from_ref(&unit), "ExecStart");
        assert_eq!(starts[0].value, "/usr/bin/node a.js");
        assert_eq!(starts[0].line, 5);
        let starts = list(&[unit.clone(), dropin], "ExecStart");
        assert_eq!(
            starts.iter().map(|s| s.value.as_str()).collect::<Vec<_>>(),
            ["/x"]
        );
        let env = list(&[unit], "Environment");
        assert_eq!(env.len(), 1);
        assert_eq!(words(&env[0].value), ["A=1 2", "B=3"]);
    }
}
