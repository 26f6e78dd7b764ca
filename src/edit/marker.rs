//! Marker blocks: the guide's `########## WHATAP ############` lines around what we insert.
//!
//! Insertion and removal are exact inverses, byte for byte: a block appended to a file that
//! lacks a final newline is itself written without one, so removing it also removes the line
//! break that was added in front of it.

use super::eol::{Eol, break_after, has_terminator, line_body, split_lines};
use serde::{Deserialize, Serialize};

pub const MARKER: &str = "########## WHATAP ############";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MarkerStyle {
    /// POSIX shell and properties-like files: the marker is a comment line on its own.
    Shell,
    /// Windows batch files: `rem ########## WHATAP ############`.
    Bat,
    /// INI files (php.ini): `; ########## WHATAP ############`.
    Ini,
}

impl MarkerStyle {
    pub fn marker_line(self) -> String {
        match self {
            MarkerStyle::Shell => MARKER.to_string(),
            MarkerStyle::Bat => format!("rem {MARKER}"),
            MarkerStyle::Ini => format!("; {MARKER}"),
        }
    }

    fn is_marker(self, body: &[u8]) -> bool {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        match self {
            MarkerStyle::Shell => text == MARKER,
            MarkerStyle::Bat => {
                let lower = text.to_ascii_lowercase();
                lower
                    .strip_prefix("rem")
                    .or_else(|| lower.strip_prefix("@rem"))
                    .or_else(|| lower.strip_prefix("::"))
                    .is_some_and(|rest| rest.trim() == MARKER.to_ascii_lowercase())
            }
            MarkerStyle::Ini => text
                .strip_prefix(';')
                .is_some_and(|rest| rest.trim() == MARKER),
        }
    }

    /// Lines that belong to a script's opening header (shebang, comments, blanks).
    fn is_header_line(self, body: &[u8], first: bool) -> bool {
        let text = String::from_utf8_lossy(body);
        // A byte order mark belongs to the first line, which stays first.
        let text = if first {
            text.trim_start_matches('\u{feff}')
        } else {
            &text
        };
        let text = text.trim();
        if text.is_empty() {
            return true;
        }
        match self {
            MarkerStyle::Shell => text.starts_with('#') || (first && text.starts_with("#!")),
            MarkerStyle::Bat => {
                let lower = text.to_ascii_lowercase();
                lower == "@echo off"
                    || lower == "rem"
                    || lower.starts_with("rem ")
                    || lower.starts_with("@rem")
                    || lower.starts_with("::")
            }
            MarkerStyle::Ini => text.starts_with(';'),
        }
    }
}

impl MarkerStyle {
    /// A line that ends the script where it stands (`return 0`, `exit`, `exit /b 0`,
    /// `goto :eof`): nothing after it runs.
    fn ends_script(self, body: &[u8]) -> bool {
        let text = String::from_utf8_lossy(body).to_ascii_lowercase();
        let text = text.trim().trim_end_matches(';').trim_start_matches('@');
        let mut words = text.split_whitespace();
        let first = words.next().unwrap_or_default();
        match self {
            MarkerStyle::Shell => matches!(first, "return" | "exit"),
            MarkerStyle::Bat => {
                first == "exit" || (first == "goto" && matches!(words.next(), Some(":eof" | "eof")))
            }
            MarkerStyle::Ini => false,
        }
    }
}

/// Where a block "at the end" goes: after the last line, unless the script's last command
/// returns or exits; a block after that would never run, so it goes right before it.
fn end_index(lines: &[&[u8]], style: MarkerStyle) -> usize {
    let last = lines
        .iter()
        .rposition(|line| !style.is_header_line(line_body(line), false));
    match last {
        Some(i) if style.ends_script(line_body(lines[i])) => i,
        _ => lines.len(),
    }
}

/// Where an existing block sits: 0-based line indexes of its two marker lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockSpan {
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkerError {
    Unclosed { line: usize },
    Duplicate { line: usize, first: usize },
    InHereDocument { line: usize },
}

impl std::fmt::Display for MarkerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&match self {
            MarkerError::Unclosed { line } => crate::msg!("marker-unclosed", line = line),
            MarkerError::Duplicate { line, first } => {
                crate::msg!("marker-duplicate", line = line, first = first)
            }
            MarkerError::InHereDocument { line } => {
                crate::msg!("marker-in-here-document", line = line)
            }
        })
    }
}

impl std::error::Error for MarkerError {}

impl MarkerError {
    /// 1-based line number the error points at.
    pub fn line(&self) -> usize {
        match self {
            MarkerError::Unclosed { line }
            | MarkerError::Duplicate { line, .. }
            | MarkerError::InHereDocument { line } => *line,
        }
    }
}

/// Finds the single WHATAP block, if any. A marker line in a shell here-document is data the
/// script prints, not our block: refused rather than edited.
pub fn find_block(content: &[u8], style: MarkerStyle) -> Result<Option<BlockSpan>, MarkerError> {
    let lines = split_lines(content);
    let markers: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| style.is_marker(line_body(line)))
        .map(|(i, _)| i)
        .collect();
    if style == MarkerStyle::Shell && !markers.is_empty() {
        let in_heredoc = super::heredoc::body_lines(&lines);
        if let Some(&line) = markers.iter().find(|&&i| in_heredoc[i]) {
            return Err(MarkerError::InHereDocument { line: line + 1 });
        }
    }
    match markers.as_slice() {
        [] => Ok(None),
        [only] => Err(MarkerError::Unclosed { line: only + 1 }),
        [start, end] => Ok(Some(BlockSpan {
            start: *start,
            end: *end,
        })),
        [first, _, third, ..] => Err(MarkerError::Duplicate {
            line: third + 1,
            first: first + 1,
        }),
    }
}

/// The lines between the markers, as text without terminators.
pub fn block_inner(content: &[u8], span: BlockSpan) -> Vec<String> {
    split_lines(content)[span.start + 1..span.end]
        .iter()
        .map(|line| String::from_utf8_lossy(line_body(line)).into_owned())
        .collect()
}

/// Renders a complete block (markers included) without a final line break.
pub fn render_block(style: MarkerStyle, inner: &[String], eol: Eol) -> Vec<u8> {
    let marker = style.marker_line();
    let mut out = Vec::new();
    for (i, line) in std::iter::once(&marker)
        .chain(inner.iter())
        .chain(std::iter::once(&marker))
        .enumerate()
    {
        if i > 0 {
            out.extend_from_slice(eol.as_bytes());
        }
        out.extend_from_slice(line.as_bytes());
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertAt {
    /// After the last line.
    End,
    /// After the leading shebang/comment/blank lines, before the first command and the comment
    /// paragraph that describes it (a block between them would split the two).
    AfterHeader,
    /// Before this 0-based line (the one that consumes the options); past the end: `End`.
    BeforeLine(usize),
}

/// Inserts a block; the caller has checked that the file has none.
pub fn insert_block(content: &[u8], style: MarkerStyle, inner: &[String], at: InsertAt) -> Vec<u8> {
    let eol = Eol::detect(content, Eol::Lf);
    let block = render_block(style, inner, eol);
    let lines = split_lines(content);
    let index = match at {
        InsertAt::End => end_index(&lines, style),
        InsertAt::AfterHeader => {
            let code = lines
                .iter()
                .enumerate()
                .position(|(i, line)| !style.is_header_line(line_body(line), i == 0))
                .unwrap_or(lines.len());
            // Back over the comment lines right above the code (its own comment), not past
            // the first line (a shebang or `@echo off` stays first).
            let blank = |i: usize| {
                String::from_utf8_lossy(line_body(lines[i]))
                    .trim()
                    .is_empty()
            };
            let mut at = code;
            if code < lines.len() {
                while at > 1 && !blank(at - 1) {
                    at -= 1;
                }
            }
            at
        }
        InsertAt::BeforeLine(index) => index.min(lines.len()),
    };
    let mut out = Vec::with_capacity(content.len() + block.len() + 4);
    if index == lines.len() {
        out.extend_from_slice(content);
        match lines.last() {
            None => {
                out.extend_from_slice(&block);
                out.extend_from_slice(eol.as_bytes());
            }
            Some(last) if has_terminator(last) => {
                out.extend_from_slice(&block);
                out.extend_from_slice(eol.as_bytes());
            }
            // No final newline: add one in front and leave the block without one (see module doc).
            Some(last) => {
                out.extend_from_slice(break_after(last, eol));
                out.extend_from_slice(&block);
            }
        }
    } else {
        for line in &lines[..index] {
            out.extend_from_slice(line);
        }
        out.extend_from_slice(&block);
        out.extend_from_slice(eol.as_bytes());
        for line in &lines[index..] {
            out.extend_from_slice(line);
        }
    }
    out
}

/// Replaces the block at `span` with one holding `inner`, keeping its position and ending.
pub fn replace_block(
    content: &[u8],
    span: BlockSpan,
    style: MarkerStyle,
    inner: &[String],
) -> Vec<u8> {
    let lines = split_lines(content);
    // The block keeps its own line ending: re-rendering it in the file's dominant one could
    // change which one dominates, and a second install would then change it again.
    let eol = if lines[span.start].ends_with(b"\r\n") {
        Eol::Crlf
    } else {
        Eol::Lf
    };
    let mut out = Vec::with_capacity(content.len());
    for line in &lines[..span.start] {
        out.extend_from_slice(line);
    }
    out.extend_from_slice(&render_block(style, inner, eol));
    let closing = lines[span.end];
    if has_terminator(closing) {
        out.extend_from_slice(&closing[line_body(closing).len()..]);
    }
    for line in &lines[span.end + 1..] {
        out.extend_from_slice(line);
    }
    out
}

/// Removes the block at `span`: the exact inverse of `insert_block`.
pub fn remove_block(content: &[u8], span: BlockSpan) -> Vec<u8> {
    let lines = split_lines(content);
    let closing_terminated = has_terminator(lines[span.end]);
    let mut out = Vec::with_capacity(content.len());
    for (i, line) in lines[..span.start].iter().enumerate() {
        let is_last_kept = i + 1 == span.start;
        if is_last_kept && !closing_terminated && span.end + 1 == lines.len() {
            out.extend_from_slice(line_body(line));
        } else {
            out.extend_from_slice(line);
        }
    }
    for line in &lines[span.end + 1..] {
        out.extend_from_slice(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inner() -> Vec<String> {
        vec!["JAVA_OPTS=\"${JAVA_OPTS} -javaagent:/w/a.jar \"".to_string()]
    }

    fn round_trip(original: &[u8], style: MarkerStyle, at: InsertAt) {
        let installed = insert_block(original, style, &inner(), at);
        let span = find_block(&installed, style)
            .unwrap()
            .expect("block present");
        assert_eq!(block_inner(&installed, span), inner());
        assert_eq!(
            remove_block(&installed, span),
            original,
            "{:?}",
            String::from_utf8_lossy(original)
        );
        let replaced = replace_block(&installed, span, style, &inner());
        assert_eq!(replaced, installed);
    }

    #[test]
    fn insert_then_remove_is_identity() {
        let samples: [&[u8]; 9] = [
            b"",
            b"\n",
            b"#!/bin/sh\n# c\n\nA=1\n",
            b"#!/bin/sh\nA=1",
            b"# only comments\n",
            b"# only comments",
            b"@echo off\r\nrem x\r\nsetlocal\r\n",
            b"@echo off\r\nrem x\r\nsetlocal",
            b"mixed\r\nends\nhere",
        ];
        for sample in samples {
            for style in [MarkerStyle::Shell, MarkerStyle::Bat, MarkerStyle::Ini] {
                for at in [
                    InsertAt::End,
                    InsertAt::AfterHeader,
                    InsertAt::BeforeLine(1),
                ] {
                    round_trip(sample, style, at);
                }
            }
        }
    }

    #[test]
    fn a_block_at_the_end_goes_before_a_final_return_or_exit() {
        for (script, style) in [
            (&b"#!/bin/sh\nA=1\nreturn 0\n"[..], MarkerStyle::Shell),
            (b"A=1\nexit\n\n# end\n", MarkerStyle::Shell),
            (b"A=1\n  exit $?;\n", MarkerStyle::Shell),
            (b"@echo off\r\nset A=1\r\nexit /b 0\r\n", MarkerStyle::Bat),
            (b"set A=1\r\nGOTO :EOF", MarkerStyle::Bat),
        ] {
            let out = insert_block(script, style, &inner(), InsertAt::End);
            let text = String::from_utf8_lossy(&out).to_ascii_lowercase();
            let block = text.rfind("whatap").unwrap();
            let exit = text
                .rfind("exit")
                .or_else(|| text.rfind("return"))
                .or_else(|| text.rfind("goto"))
                .unwrap();
            assert!(block < exit, "{text}");
            round_trip(script, style, InsertAt::End);
        }
        // An exit inside an `if` is not the end of the script.
        let out = insert_block(
            b"if x; then\n  exit 1\nfi\n",
            MarkerStyle::Shell,
            &inner(),
            InsertAt::End,
        );
        assert!(String::from_utf8_lossy(&out).ends_with("############\n"));
    }

    #[test]
    fn header_insertion_lands_before_first_command() {
        let out = insert_block(
            b"#!/bin/sh\n# doc\n\ncygwin=false\n",
            MarkerStyle::Shell,
            &inner(),
            InsertAt::AfterHeader,
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("#!/bin/sh\n# doc\n\n########## WHATAP"));
        assert!(text.ends_with("############\ncygwin=false\n"));
    }

    #[test]
    fn crlf_files_get_crlf_blocks() {
        let out = insert_block(
            b"@echo off\r\nsetlocal\r\n",
            MarkerStyle::Bat,
            &inner(),
            InsertAt::AfterHeader,
        );
        assert!(
            !String::from_utf8(out.clone())
                .unwrap()
                .replace("\r\n", "")
                .contains('\n')
        );
        assert!(out.starts_with(b"@echo off\r\nrem ########## WHATAP ############\r\n"));
    }

    #[test]
    fn reports_broken_markers_by_line() {
        let one = format!("a\n{MARKER}\nb\n");
        assert_eq!(
            find_block(one.as_bytes(), MarkerStyle::Shell),
            Err(MarkerError::Unclosed { line: 2 })
        );
        let three = format!("{MARKER}\n{MARKER}\n{MARKER}\n");
        assert_eq!(
            find_block(three.as_bytes(), MarkerStyle::Shell)
                .unwrap_err()
                .line(),
            3
        );
    }

    #[test]
    fn ini_marker_is_a_semicolon_comment() {
        let text = format!("[PHP]\n;{MARKER}\n[whatap]\n;  {MARKER}\n");
        assert_eq!(
            find_block(text.as_bytes(), MarkerStyle::Ini).unwrap(),
            Some(BlockSpan { start: 1, end: 3 })
        );
        assert_eq!(
            find_block(text.as_bytes(), MarkerStyle::Shell).unwrap(),
            None
        );
    }

    #[test]
    fn a_final_bare_carriage_return_survives_the_round_trip() {
        for sample in [&b"a\r"[..], b"x\ny\r", b"a\r\nb\r", b"\r"] {
            for style in [MarkerStyle::Shell, MarkerStyle::Bat] {
                round_trip(sample, style, InsertAt::End);
            }
        }
    }

    #[test]
    fn replacing_a_block_in_a_mixed_ending_file_is_stable() {
        // Found by the round-trip property: a LF block in a mostly CRLF file.
        let text = format!("a\r\nb\r\nc\r\n{MARKER}\nold\nold\n{MARKER}\r\nd\r\n");
        let span = find_block(text.as_bytes(), MarkerStyle::Shell)
            .unwrap()
            .unwrap();
        let once = replace_block(text.as_bytes(), span, MarkerStyle::Shell, &inner());
        let span = find_block(&once, MarkerStyle::Shell).unwrap().unwrap();
        let twice = replace_block(&once, span, MarkerStyle::Shell, &inner());
        assert_eq!(once, twice);
    }

    #[test]
    fn a_byte_order_mark_stays_first() {
        let out = insert_block(
            b"\xef\xbb\xbf@echo off\r\nsetlocal\r\n",
            MarkerStyle::Bat,
            &inner(),
            InsertAt::AfterHeader,
        );
        assert!(out.starts_with(b"\xef\xbb\xbf@echo off\r\nrem ####"));
        round_trip(
            b"\xef\xbb\xbf#!/bin/sh\nA=1\n",
            MarkerStyle::Shell,
            InsertAt::AfterHeader,
        );
    }

    #[test]
    fn markers_inside_a_here_document_are_refused_not_taken_as_ours() {
        let text = format!("cat <<'EOF' > x\n{MARKER}\nA=1\n{MARKER}\nEOF\nB=2\n");
        assert_eq!(
            find_block(text.as_bytes(), MarkerStyle::Shell),
            Err(MarkerError::InHereDocument { line: 2 })
        );
        let tabbed = format!("f() {{\n\tcat <<-END\n\t{MARKER}\n\tEND\n}}\n");
        assert_eq!(
            find_block(tabbed.as_bytes(), MarkerStyle::Shell),
            Err(MarkerError::InHereDocument { line: 3 })
        );
        // After the here-document ends, a real block is found as usual.
        let after = format!("cat <<EOF\nhello\nEOF\n{MARKER}\nA=1\n{MARKER}\n");
        assert_eq!(
            find_block(after.as_bytes(), MarkerStyle::Shell),
            Ok(Some(BlockSpan { start: 3, end: 5 }))
        );
        // `<<` inside quotes or a comment, or an arithmetic shift, starts nothing.
        let quoted = format!("echo \"<<EOF\" # <<X\nY=$((1<<2))\n{MARKER}\nA=1\n{MARKER}\n");
        assert_eq!(
            find_block(quoted.as_bytes(), MarkerStyle::Shell),
            Ok(Some(BlockSpan { start: 2, end: 4 }))
        );
    }

    #[test]
    fn bat_marker_is_case_insensitive() {
        let text = format!("REM {MARKER}\r\nx\r\n@rem {MARKER}\r\n");
        assert_eq!(
            find_block(text.as_bytes(), MarkerStyle::Bat).unwrap(),
            Some(BlockSpan { start: 0, end: 2 })
        );
    }
}
