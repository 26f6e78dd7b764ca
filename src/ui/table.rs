//! Columns padded by the width a terminal gives each character (Hangul takes two cells), so
//! Korean and English lines line up alike.

use console::measure_text_width;

/// `text` followed by spaces up to `width` terminal cells (colour codes take none).
pub fn pad(text: &str, width: usize) -> String {
    let used = measure_text_width(text);
    format!("{text}{}", " ".repeat(width.saturating_sub(used)))
}

/// Every row as one line, each column but the last padded to its widest cell, joined by two
/// spaces; empty cells at the end of a row leave no trailing spaces.
pub fn align(rows: &[Vec<String>]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| measure_text_width(cell))
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(c, cell)| match c + 1 == row.len() {
                    true => cell.clone(),
                    false => pad(cell, widths[c]),
                })
                .collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hangul_takes_two_cells() {
        assert_eq!(pad("생성", 6), "생성  ");
        assert_eq!(pad("\u{1b}[1mab\u{1b}[0m", 3), "\u{1b}[1mab\u{1b}[0m ");
        let lines = align(&[
            vec!["생성함".into(), "/a".into()],
            vec!["created".into(), "/b".into()],
        ]);
        assert_eq!(lines, ["생성함   /a", "created  /b"]);
    }
}
