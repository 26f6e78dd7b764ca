//! Span-preserving XML edits: quick-xml finds where elements and attributes are, byte offsets;
//! the edit is a splice of raw bytes at those offsets. Everything not spliced — comments,
//! attribute order and quoting, indentation, the encoding declaration, CRLF, a missing final
//! newline, bytes in any ASCII-compatible encoding — stays exactly as it was. What we insert is
//! recorded as text fragments, so removing them gives back the original bytes.

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use std::ops::Range;

/// One element: byte offsets of its tags, and the local names of its ancestors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    /// Local names from the root down to the parent.
    pub ancestors: Vec<String>,
    /// `<` of the start tag.
    pub start: usize,
    /// Just after the start tag's `>`.
    pub open_end: usize,
    /// `<` of the end tag (== `open_end` for `<empty/>`).
    pub close_start: usize,
    /// Just after the end tag's `>`.
    pub end: usize,
    pub empty: bool,
}

impl Element {
    pub fn text<'a>(&self, content: &'a [u8]) -> &'a [u8] {
        &content[self.open_end..self.close_start]
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct XmlError {
    pub line: usize,
    pub message: String,
}

fn line_of(content: &[u8], offset: usize) -> usize {
    content[..offset.min(content.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    match name.rsplit_once(':') {
        Some((_, local)) => local.to_string(),
        None => name.into_owned(),
    }
}

/// Every element in document order; an error when the document is not well-formed.
pub fn elements(content: &[u8]) -> Result<Vec<Element>, XmlError> {
    let mut reader = Reader::from_reader(content);
    let config = reader.config_mut();
    config.trim_text(false);
    config.check_end_names = true;
    let mut found: Vec<Element> = Vec::new();
    // Indexes into `found` of the open elements.
    let mut open: Vec<usize> = Vec::new();
    let mut roots = 0;
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| XmlError {
            line: line_of(content, reader.error_position() as usize),
            message: e.to_string(),
        })?;
        let after = reader.buffer_position() as usize;
        let ancestors = || -> Vec<String> { open.iter().map(|&i| found[i].name.clone()).collect() };
        match event {
            Event::Start(ref tag) | Event::Empty(ref tag) => {
                if open.is_empty() {
                    roots += 1;
                }
                let empty = matches!(event, Event::Empty(_));
                found.push(Element {
                    name: local(tag.name().as_ref()),
                    ancestors: ancestors(),
                    start: before,
                    open_end: after,
                    close_start: after,
                    end: after,
                    empty,
                });
                if !empty {
                    open.push(found.len() - 1);
                }
            }
            Event::End(_) => {
                let index = open.pop().expect("quick-xml checks end names");
                found[index].close_start = before;
                found[index].end = after;
            }
            Event::Text(text) if open.is_empty() && !text.iter().all(u8::is_ascii_whitespace) => {
                return Err(XmlError {
                    line: line_of(content, before),
                    message: crate::msg!("xml-text-outside-root"),
                });
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(&index) = open.last() {
        return Err(XmlError {
            line: line_of(content, found[index].start),
            message: crate::msg!("xml-never-closed", name = found[index].name),
        });
    }
    if roots != 1 {
        return Err(XmlError {
            line: 1,
            message: crate::msg!("xml-many-roots", count = roots),
        });
    }
    Ok(found)
}

/// Checks that `content` is a well-formed document.
pub fn check(content: &[u8]) -> Result<(), XmlError> {
    elements(content).map(|_| ())
}

/// The whitespace that starts the line `offset` is on, when only whitespace precedes it there.
pub fn indent_at(content: &[u8], offset: usize) -> Option<&[u8]> {
    let line_start = content[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let prefix = &content[line_start..offset];
    prefix
        .iter()
        .all(|&b| b == b' ' || b == b'\t')
        .then_some(prefix)
}

/// The value span (inside the quotes) of attribute `name` on an element's start tag.
pub fn attribute_value(content: &[u8], element: &Element, name: &str) -> Option<Range<usize>> {
    let tag = &content[element.start..element.open_end];
    // Skip `<name`, then walk `key="value"` pairs by hand: quick-xml gives values, not offsets.
    let mut i = tag.iter().position(|&b| b.is_ascii_whitespace())?;
    while i < tag.len() {
        while i < tag.len() && tag[i].is_ascii_whitespace() {
            i += 1;
        }
        let key_start = i;
        while i < tag.len() && !tag[i].is_ascii_whitespace() && tag[i] != b'=' && tag[i] != b'>' {
            i += 1;
        }
        let key = &tag[key_start..i];
        while i < tag.len() && tag[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= tag.len() || tag[i] != b'=' {
            return None;
        }
        i += 1;
        while i < tag.len() && tag[i].is_ascii_whitespace() {
            i += 1;
        }
        let quote = *tag.get(i)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value_start = i + 1;
        let value_end = value_start + tag[value_start..].iter().position(|&b| b == quote)?;
        if local(key) == name {
            return Some(element.start + value_start..element.start + value_end);
        }
        i = value_end + 1;
    }
    None
}

/// A text to insert at a byte offset; `replace` bytes from there are swapped for it (only to
/// expand a self-closing element `<a/>` into `<a>...</a>`: recorded with the bytes it replaced).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Insertion {
    pub at: usize,
    pub text: String,
    pub replace: usize,
}

/// Inserts every text at its offset (offsets of the original content).
pub fn splice(content: &[u8], insertions: &[Insertion]) -> Vec<u8> {
    let mut sorted: Vec<&Insertion> = insertions.iter().collect();
    sorted.sort_by_key(|i| i.at);
    let mut out = Vec::with_capacity(content.len() + 256);
    let mut from = 0;
    for insertion in sorted {
        out.extend_from_slice(&content[from..insertion.at]);
        out.extend_from_slice(insertion.text.as_bytes());
        from = insertion.at + insertion.replace;
    }
    out.extend_from_slice(&content[from..]);
    out
}

/// A self-closing element we expanded: its bytes before and after.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Swap {
    pub before: String,
    pub after: String,
}

/// Undoes `swaps` (each `after` must be found exactly once), then removes `fragments` as
/// `remove_fragments` does; the texts not found are returned.
pub fn remove_ours(
    content: &[u8],
    fragments: &[String],
    swaps: &[Swap],
) -> Result<(Vec<u8>, Vec<String>), FragmentError> {
    let mut out = content.to_vec();
    let mut missing = Vec::new();
    for swap in swaps {
        let needle = swap.after.as_bytes();
        let hits: Vec<usize> = out
            .windows(needle.len().max(1))
            .enumerate()
            .filter(|(_, w)| *w == needle)
            .map(|(i, _)| i)
            .collect();
        match hits.as_slice() {
            [] => missing.push(swap.after.clone()),
            [at] => {
                let at = *at;
                out.splice(at..at + needle.len(), swap.before.bytes());
            }
            [_, second, ..] => {
                return Err(FragmentError::Ambiguous {
                    line: line_of(&out, *second),
                });
            }
        }
    }
    let (out, more) = remove_fragments(&out, fragments)?;
    missing.extend(more);
    Ok((out, missing))
}

/// Why inserted fragments could not be taken out again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FragmentError {
    Ambiguous { line: usize },
}

impl std::fmt::Display for FragmentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let FragmentError::Ambiguous { line } = self;
        f.write_str(&crate::msg!("xml-fragment-ambiguous", line = line))
    }
}

impl std::error::Error for FragmentError {}

/// Removes the fragments: a text inserted k times must be found k times (fewer: the rest
/// were removed or edited by someone, returned so the caller can say so; more: someone copied
/// it, and which ones are ours is unknown).
pub fn remove_fragments(
    content: &[u8],
    fragments: &[String],
) -> Result<(Vec<u8>, Vec<String>), FragmentError> {
    let mut out = content.to_vec();
    let mut missing = Vec::new();
    let mut distinct: Vec<&String> = fragments.iter().filter(|f| !f.is_empty()).collect();
    distinct.sort();
    distinct.dedup();
    for fragment in distinct {
        let inserted = fragments.iter().filter(|f| *f == fragment).count();
        let needle = fragment.as_bytes();
        let mut hits = Vec::new();
        let mut from = 0;
        while let Some(i) = out[from..].windows(needle.len()).position(|w| w == needle) {
            hits.push(from + i);
            from += i + needle.len();
        }
        if hits.len() > inserted {
            return Err(FragmentError::Ambiguous {
                line: line_of(&out, hits[inserted]),
            });
        }
        for _ in hits.len()..inserted {
            missing.push(fragment.clone());
        }
        for at in hits.into_iter().rev() {
            out.drain(at..at + needle.len());
        }
    }
    Ok((out, missing))
}

/// The line break a file uses (CRLF when its first line ends so).
pub fn newline(content: &[u8]) -> &'static str {
    match content.iter().position(|&b| b == b'\n') {
        Some(i) if i > 0 && content[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// Escapes text for element content or a double-quoted attribute.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A new element inserted after `after` (a sibling), on its own line with its indentation.
pub fn sibling_after(content: &[u8], after: &Element, name: &str, text: &str) -> Insertion {
    sibling_tag_after(
        content,
        after,
        &format!("<{name}>{}</{name}>", escape(text)),
    )
}

/// `tag` (a whole element, already escaped) after `after`, on its own line, same indentation.
pub fn sibling_tag_after(content: &[u8], after: &Element, tag: &str) -> Insertion {
    let indent = indent_at(content, after.start).unwrap_or_default();
    Insertion {
        at: after.end,
        text: format!(
            "{}{}{tag}",
            newline(content),
            String::from_utf8_lossy(indent)
        ),
        replace: 0,
    }
}

/// `tags` (whole elements, escaped) after `after`, each on its own line, same indentation.
pub fn siblings_after(content: &[u8], after: &Element, tags: &[String]) -> Insertion {
    let indent = String::from_utf8_lossy(indent_at(content, after.start).unwrap_or_default());
    let eol = newline(content);
    Insertion {
        at: after.end,
        text: tags.iter().map(|t| format!("{eol}{indent}{t}")).collect(),
        replace: 0,
    }
}

/// The indentation step a file uses under `element` (a tab or 4 spaces) and the element's own.
pub fn indentation(content: &[u8], element: &Element) -> (String, &'static str) {
    let indent = String::from_utf8_lossy(indent_at(content, element.start).unwrap_or_default());
    let step = if indent.contains('\t') { "\t" } else { "    " };
    (indent.into_owned(), step)
}

/// `tags` (whole elements, escaped) as the first children of `parent`, each on its own line
/// one level deeper (4 spaces, or a tab when the file indents with tabs). A self-closing
/// parent (`<jvm-config/>`) is expanded into `<jvm-config>...</jvm-config>`.
pub fn first_children(content: &[u8], parent: &Element, tags: &[String]) -> Insertion {
    let (indent, step) = indentation(content, parent);
    let eol = newline(content);
    let children: String = tags
        .iter()
        .map(|tag| format!("{eol}{indent}{step}{tag}"))
        .collect();
    if !parent.empty {
        return Insertion {
            at: parent.open_end,
            text: children,
            replace: 0,
        };
    }
    let raw = String::from_utf8_lossy(&content[parent.start..parent.end]);
    let open = raw.trim_end_matches('>').trim_end_matches('/').trim_end();
    let name: String = open[1..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '/' && *c != '>')
        .collect();
    Insertion {
        at: parent.start,
        text: format!("{open}>{children}{eol}{indent}</{name}>"),
        replace: parent.end - parent.start,
    }
}

/// The direct children of `parent` named `name`.
pub fn children<'a>(all: &'a [Element], parent: &Element, name: &str) -> Vec<&'a Element> {
    all.iter()
        .filter(|e| {
            e.name == name
                && e.start > parent.start
                && e.end <= parent.end
                && e.ancestors.len() == parent.ancestors.len() + 1
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &[u8] = b"<?xml version=\"1.0\" encoding=\"EUC-KR\"?>\r\n<!-- c <x> -->\r\n<a xmlns=\"u\" k='v' z=\"1\">\r\n  <b>one</b>\r\n  <b/>\r\n  <c:b xmlns:c=\"n\">two</c:b>\r\n</a>";

    #[test]
    fn finds_elements_with_exact_spans() {
        let found = elements(DOC).unwrap();
        let names: Vec<&str> = found.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "b", "b"]);
        let first = &found[1];
        assert_eq!(&DOC[first.start..first.end], b"<b>one</b>");
        assert_eq!(first.text(DOC), b"one");
        assert!(found[2].empty);
        assert_eq!(&DOC[found[2].start..found[2].end], b"<b/>");
        assert_eq!(found[3].text(DOC), b"two");
        assert_eq!(found[3].ancestors, ["a"]);
        assert_eq!(indent_at(DOC, first.start), Some(&b"  "[..]));
    }

    #[test]
    fn attribute_values_by_offset() {
        let found = elements(DOC).unwrap();
        let root = &found[0];
        let k = attribute_value(DOC, root, "k").unwrap();
        assert_eq!(&DOC[k], b"v");
        let z = attribute_value(DOC, root, "z").unwrap();
        assert_eq!(&DOC[z], b"1");
        assert!(attribute_value(DOC, root, "missing").is_none());
    }

    #[test]
    fn splice_then_remove_is_identity() {
        let found = elements(DOC).unwrap();
        let insertion = sibling_after(DOC, &found[1], "b", "-javaagent:/w/x.jar");
        assert_eq!(insertion.text, "\r\n  <b>-javaagent:/w/x.jar</b>");
        let out = splice(DOC, std::slice::from_ref(&insertion));
        check(&out).unwrap();
        let (back, missing) =
            remove_fragments(&out, std::slice::from_ref(&insertion.text)).unwrap();
        assert_eq!(back, DOC);
        assert!(missing.is_empty());
        // The same text inserted twice comes out twice; a third copy is someone else's.
        let second = sibling_after(DOC, &found[3], "b", "-javaagent:/w/x.jar");
        let twice = splice(DOC, &[insertion.clone(), second.clone()]);
        let both = [insertion.text.clone(), second.text.clone()];
        assert_eq!(remove_fragments(&twice, &both).unwrap().0, DOC);
        assert!(remove_fragments(&twice, &both[..1]).is_err());
        let (partial, missing) = remove_fragments(DOC, &both).unwrap();
        assert_eq!((partial.as_slice(), missing.len()), (DOC, 2));
    }

    #[test]
    fn refuses_broken_documents() {
        assert!(check(b"<a><b></a>").is_err());
        assert!(check(b"<a>").is_err());
        assert!(check(b"<a/><b/>").is_err());
        assert_eq!(check(b"<a>\n<b>\n</c></a>").unwrap_err().line, 3);
    }
}
