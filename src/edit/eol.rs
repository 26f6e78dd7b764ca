//! Line endings: every edit is written in the file's own style so CRLF files stay CRLF.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Eol {
    Lf,
    Crlf,
}

impl Eol {
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            Eol::Lf => b"\n",
            Eol::Crlf => b"\r\n",
        }
    }

    /// The dominant ending of `content`; `fallback` when it has no line break at all.
    pub fn detect(content: &[u8], fallback: Eol) -> Eol {
        let mut crlf = 0usize;
        let mut lf = 0usize;
        for (i, &b) in content.iter().enumerate() {
            if b == b'\n' {
                if i > 0 && content[i - 1] == b'\r' {
                    crlf += 1;
                } else {
                    lf += 1;
                }
            }
        }
        match (crlf, lf) {
            (0, 0) => fallback,
            (c, l) if c > l => Eol::Crlf,
            _ => Eol::Lf,
        }
    }
}

/// Splits into lines that keep their terminators, so joining them gives the input back.
pub fn split_lines(content: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, &b) in content.iter().enumerate() {
        if b == b'\n' {
            lines.push(&content[start..=i]);
            start = i + 1;
        }
    }
    if start < content.len() {
        lines.push(&content[start..]);
    }
    lines
}

/// A line without its `\n` or `\r\n`.
pub fn line_body(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

pub fn has_terminator(line: &[u8]) -> bool {
    line.ends_with(b"\n")
}

/// The line break to add after an unterminated last line before appending lines. A line that
/// ends in a bare `\r` gets `\r\n`: taking one line break back off later (`line_body`) then
/// removes exactly what was added and leaves that `\r` in place.
pub fn break_after(last: &[u8], eol: Eol) -> &'static [u8] {
    if last.ends_with(b"\r") {
        b"\r\n"
    } else {
        eol.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_dominant_ending() {
        assert_eq!(Eol::detect(b"a\r\nb\r\nc\n", Eol::Lf), Eol::Crlf);
        assert_eq!(Eol::detect(b"a\nb\r\n", Eol::Crlf), Eol::Lf);
        assert_eq!(Eol::detect(b"no break", Eol::Crlf), Eol::Crlf);
    }

    #[test]
    fn split_keeps_every_byte() {
        for input in [&b""[..], b"a", b"a\n", b"a\r\nb", b"\n\n", b"x\ry\n"] {
            assert_eq!(split_lines(input).concat(), input);
        }
        assert_eq!(line_body(b"abc\r\n"), b"abc");
        assert_eq!(line_body(b"abc"), b"abc");
    }
}
