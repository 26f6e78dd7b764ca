//! Whole-line rewrites (a start command wrapped in place): swap one line's text for another,
//! keeping every other byte and the line's own ending.

use super::eol::{line_body, split_lines};

/// Replaces the first line whose text is `from` with `to`, for each pair; None when a line
/// is not found (the file was edited there since).
pub fn replace_lines(content: &[u8], swaps: &[(&str, &str)]) -> Option<Vec<u8>> {
    let lines = split_lines(content);
    let mut replaced: Vec<Option<&str>> = vec![None; lines.len()];
    for (from, to) in swaps {
        let index = lines
            .iter()
            .enumerate()
            .position(|(i, l)| replaced[i].is_none() && line_body(l) == from.as_bytes())?;
        replaced[index] = Some(to);
    }
    let mut out = Vec::with_capacity(content.len());
    for (line, swap) in lines.iter().zip(replaced) {
        match swap {
            Some(text) => {
                out.extend_from_slice(text.as_bytes());
                out.extend_from_slice(&line[line_body(line).len()..]);
            }
            None => out.extend_from_slice(line),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_keep_endings_and_other_bytes() {
        let original = b"#!/bin/sh\r\nexec app --x\r\ntail";
        let out = replace_lines(original, &[("exec app --x", "exec wrap app --x")]).unwrap();
        assert_eq!(out, b"#!/bin/sh\r\nexec wrap app --x\r\ntail");
        let back = replace_lines(&out, &[("exec wrap app --x", "exec app --x")]).unwrap();
        assert_eq!(back, original);
        assert!(replace_lines(original, &[("missing", "x")]).is_none());
        assert_eq!(replace_lines(b"a", &[("a", "b")]).unwrap(), b"b");
    }
}
