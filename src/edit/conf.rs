//! whatap.conf: `key=value` lines, `#` comments. Merging sets keys in place (last occurrence,
//! the one the agent uses) and appends new keys; every other byte stays as it was.

use super::eol::{Eol, break_after, has_terminator, line_body, split_lines};
use std::collections::BTreeMap;

/// One key's place in the file.
struct Entry {
    line: usize,
    /// Byte offset where the value starts inside the line.
    value_start: usize,
}

fn key_of(body: &[u8]) -> Option<(String, usize)> {
    let text = std::str::from_utf8(body).ok()?;
    let trimmed = text.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
        return None;
    }
    let eq = text.find('=')?;
    let key = text[..eq].trim();
    if key.is_empty() {
        return None;
    }
    let after = &text[eq + 1..];
    let value_start = eq + 1 + (after.len() - after.trim_start().len());
    Some((key.to_string(), value_start))
}

fn entries(lines: &[&[u8]]) -> BTreeMap<String, Entry> {
    let mut map = BTreeMap::new();
    for (line, raw) in lines.iter().enumerate() {
        if let Some((key, value_start)) = key_of(line_body(raw)) {
            map.insert(key, Entry { line, value_start });
        }
    }
    map
}

/// Reads every key (last occurrence wins, as in the agent).
pub fn parse(content: &[u8]) -> BTreeMap<String, String> {
    parse_raw(content)
        .into_iter()
        .map(|(key, value)| (key, value.trim_end().to_string()))
        .collect()
}

/// Every key with its value exactly as written (trailing blanks included): what `merge` must
/// write back to restore the line byte for byte. Key lines are valid UTF-8 (see `key_of`).
pub fn parse_raw(content: &[u8]) -> BTreeMap<String, String> {
    let lines = split_lines(content);
    entries(&lines)
        .into_iter()
        .map(|(key, entry)| {
            let body = line_body(lines[entry.line]);
            let value = String::from_utf8_lossy(&body[entry.value_start..]).into_owned();
            (key, value)
        })
        .collect()
}

/// A change to one key; `None` removes the key's line.
pub type KeyChange<'a> = (&'a str, Option<&'a str>);

/// Applies key changes, keeping comments, order, spacing and line endings.
pub fn merge(content: &[u8], changes: &[KeyChange<'_>]) -> Vec<u8> {
    let eol = Eol::detect(content, Eol::Lf);
    let lines = split_lines(content);
    let found = entries(&lines);
    let mut replaced: BTreeMap<usize, Option<Vec<u8>>> = BTreeMap::new();
    let mut appended = Vec::new();
    for (key, value) in changes {
        match (found.get(*key), value) {
            (Some(entry), Some(value)) => {
                let raw = lines[entry.line];
                let body = line_body(raw);
                let mut line = body[..entry.value_start].to_vec();
                line.extend_from_slice(value.as_bytes());
                line.extend_from_slice(&raw[body.len()..]);
                replaced.insert(entry.line, Some(line));
            }
            (Some(entry), None) => {
                replaced.insert(entry.line, None);
            }
            (None, Some(value)) => appended.push(format!("{key}={value}")),
            (None, None) => {}
        }
    }
    let mut out = Vec::with_capacity(content.len() + 64);
    for (i, raw) in lines.iter().enumerate() {
        match replaced.get(&i) {
            Some(Some(line)) => out.extend_from_slice(line),
            Some(None) => {
                // A removed last line without terminator leaves the previous line's break: drop it.
                if !has_terminator(raw) && i + 1 == lines.len() {
                    trim_one_eol(&mut out);
                }
            }
            None => out.extend_from_slice(raw),
        }
    }
    if !appended.is_empty() {
        // A file without a final line break keeps lacking one: the break goes in front of
        // each appended line, so removing them later gives the original bytes back.
        let unterminated = !out.is_empty() && !out.ends_with(b"\n");
        for line in appended {
            if unterminated {
                let last = split_lines(&out).last().copied().unwrap_or_default();
                let sep = break_after(last, eol);
                out.extend_from_slice(sep);
                out.extend_from_slice(line.as_bytes());
            } else {
                out.extend_from_slice(line.as_bytes());
                out.extend_from_slice(eol.as_bytes());
            }
        }
    }
    out
}

fn trim_one_eol(out: &mut Vec<u8>) {
    if out.ends_with(b"\r\n") {
        out.truncate(out.len() - 2);
    } else if out.ends_with(b"\n") {
        out.truncate(out.len() - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_in_place_and_appends() {
        let original = b"# comment\r\nlicense = old\r\nfoo=bar\r\n";
        let out = merge(
            original,
            &[
                ("license", Some("NEW")),
                ("whatap.server.host", Some("1.2.3.4")),
            ],
        );
        assert_eq!(
            out,
            b"# comment\r\nlicense = NEW\r\nfoo=bar\r\nwhatap.server.host=1.2.3.4\r\n"
        );
        let map = parse(&out);
        assert_eq!(map["license"], "NEW");
        assert_eq!(map["foo"], "bar");
    }

    #[test]
    fn last_occurrence_wins() {
        let out = merge(b"a=1\na=2\n", &[("a", Some("3"))]);
        assert_eq!(out, b"a=1\na=3\n");
        assert_eq!(parse(b"a=1\na=2\n")["a"], "2");
    }

    #[test]
    fn no_final_newline_and_empty() {
        assert_eq!(merge(b"a=1", &[("b", Some("2"))]), b"a=1\nb=2");
        assert_eq!(merge(b"", &[("b", Some("2"))]), b"b=2\n");
        assert_eq!(merge(b"a=1\nb=2", &[("b", None)]), b"a=1");
    }

    /// Uninstall's half of a key change: put every key back to its `before`.
    fn restore(installed: &[u8], before: &BTreeMap<String, String>, keys: &[&str]) -> Vec<u8> {
        let changes: Vec<KeyChange<'_>> = keys
            .iter()
            .map(|k| (*k, before.get(*k).map(String::as_str)))
            .collect();
        merge(installed, &changes)
    }

    #[test]
    fn appending_to_a_file_without_final_newline_round_trips() {
        for original in [&b"a=1"[..], b"a=1\r\nb=2", b"x\r", b"# c"] {
            let installed = merge(original, &[("k", Some("v")), ("j", Some("w"))]);
            let before = parse_raw(original);
            assert_eq!(restore(&installed, &before, &["k", "j"]), original);
        }
    }

    #[test]
    fn values_come_back_with_their_spacing() {
        let original = b"license = old  \t\nhost=a # comment\n";
        let before = parse_raw(original);
        let installed = merge(original, &[("license", Some("NEW")), ("host", Some("b"))]);
        assert_eq!(installed, b"license = NEW\nhost=b\n");
        assert_eq!(restore(&installed, &before, &["license", "host"]), original);
    }

    #[test]
    fn unchanged_when_values_match() {
        let original = b"license=x\n";
        assert_eq!(merge(original, &[("license", Some("x"))]), original);
    }
}
