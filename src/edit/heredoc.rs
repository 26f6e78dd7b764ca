//! Which lines of a shell script are here-document bodies (`cat <<EOF` ... `EOF`), so a marker
//! line the script merely prints is never mistaken for our block.
//!
//! A line-by-line scan, not a shell parser: `<<` counts outside quotes, comments and `$((...))`,
//! followed by a word (`EOF`, `'EOF'`, `"EOF"`, `\EOF`, `-EOF` for tab-stripped bodies).
//! It errs towards seeing a here-document, which makes the caller refuse, never edit wrongly.

use super::eol::line_body;

struct Pending {
    word: Vec<u8>,
    strip_tabs: bool,
}

/// For each line: is it inside a here-document body (its closing line included)?
pub fn body_lines(lines: &[&[u8]]) -> Vec<bool> {
    let mut inside = vec![false; lines.len()];
    let mut pending: Vec<Pending> = Vec::new();
    for (i, raw) in lines.iter().enumerate() {
        let body = line_body(raw);
        if let Some(current) = pending.first() {
            inside[i] = true;
            let text = if current.strip_tabs {
                trim_leading_tabs(body)
            } else {
                body
            };
            if text == current.word.as_slice() {
                pending.remove(0);
            }
            continue;
        }
        pending = starts(body);
    }
    inside
}

fn trim_leading_tabs(text: &[u8]) -> &[u8] {
    let start = text.iter().position(|&b| b != b'\t').unwrap_or(text.len());
    &text[start..]
}

/// The here-documents a command line opens, in order.
fn starts(line: &[u8]) -> Vec<Pending> {
    let mut found = Vec::new();
    let mut quote: Option<u8> = None;
    let mut arithmetic = 0usize;
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        match (quote, b) {
            (Some(b'\''), b'\'') => quote = None,
            (Some(b'\''), _) => {}
            (_, b'\\') => i += 1,
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'\'' | b'"' | b'`') => quote = Some(b),
            (None, b'#') if i == 0 || line[i - 1].is_ascii_whitespace() => break,
            (None, b'(') if line.get(i + 1) == Some(&b'(') => {
                arithmetic += 1;
                i += 1;
            }
            (None, b')') if arithmetic > 0 && line.get(i + 1) == Some(&b')') => {
                arithmetic -= 1;
                i += 1;
            }
            (None, b'<') if arithmetic == 0 && line.get(i + 1) == Some(&b'<') => {
                if line.get(i + 2) == Some(&b'<') {
                    i += 3; // a here-string, `<<<`
                    continue;
                }
                let (pending, next) = delimiter(line, i + 2);
                found.extend(pending);
                i = next;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Reads the delimiter word after `<<` at `start`; returns it and where scanning resumes.
fn delimiter(line: &[u8], mut i: usize) -> (Option<Pending>, usize) {
    let strip_tabs = line.get(i) == Some(&b'-');
    if strip_tabs {
        i += 1;
    }
    while line.get(i).is_some_and(|b| *b == b' ' || *b == b'\t') {
        i += 1;
    }
    let mut word = Vec::new();
    let mut quote: Option<u8> = None;
    while let Some(&b) = line.get(i) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => word.push(b),
            (None, b'\'' | b'"') => quote = Some(b),
            (None, b'\\') => {}
            (None, _) if b.is_ascii_whitespace() || b";|&<>()".contains(&b) => break,
            (None, _) => word.push(b),
        }
        i += 1;
    }
    let looks_like_word =
        !word.is_empty() && !word.iter().all(u8::is_ascii_digit) && !word.starts_with(b"$");
    let pending = looks_like_word.then_some(Pending { word, strip_tabs });
    (pending, i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::eol::split_lines;

    fn inside(text: &str) -> Vec<bool> {
        body_lines(&split_lines(text.as_bytes()))
    }

    #[test]
    fn finds_bodies_and_their_ends() {
        assert_eq!(inside("cat <<EOF\na\nEOF\nb\n"), [false, true, true, false]);
        assert_eq!(
            inside("cat <<-'X' <<\"Y\"\n\tx\n\tX\ny\nY\nz\n"),
            [false, true, true, true, true, false]
        );
        assert_eq!(inside("cat <<< word\na\n"), [false, false]);
        assert_eq!(inside("echo $((1 << 2)) '<<A'\na\n"), [false, false]);
        assert_eq!(inside("# cat <<EOF\na\n"), [false, false]);
    }
}
