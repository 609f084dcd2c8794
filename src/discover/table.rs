//! The one table layout every discovery command prints: a header row, aligned columns,
//! each cell sanitised (server text never reaches the terminal raw).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use unicode_width::UnicodeWidthStr;

use crate::text::sanitize;

/// How a column lines up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    /// Numbers and sizes.
    Right,
}

/// Columns of text, padded to the widest cell.
#[derive(Debug, Clone)]
pub struct Table {
    columns: Vec<(&'static str, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: &[(&'static str, Align)]) -> Self {
        Self {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are empty, extra cells dropped.
    pub fn row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        let mut row: Vec<String> = cells
            .into_iter()
            .map(|c| sanitize(c.as_ref()).into_owned())
            .take(self.columns.len())
            .collect();
        row.resize(self.columns.len(), String::new());
        self.rows.push(row);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Every line ends with `\n`; no trailing spaces.
    pub fn render(&self) -> String {
        let widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, (title, _))| {
                self.rows
                    .iter()
                    .map(|r| r[i].width())
                    .chain([title.width()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let titles: Vec<String> = self.columns.iter().map(|(t, _)| (*t).to_owned()).collect();
        let mut out = String::new();
        for row in std::iter::once(&titles).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let pad = " ".repeat(widths[i].saturating_sub(cell.width()));
                if i > 0 {
                    line.push_str("  ");
                }
                match self.columns[i].1 {
                    Align::Left => {
                        line.push_str(cell);
                        line.push_str(&pad);
                    }
                    Align::Right => {
                        line.push_str(&pad);
                        line.push_str(cell);
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// `label  value` lines, labels padded to the widest; values sanitised.
pub fn pairs(items: &[(&str, String)]) -> String {
    let width = items.iter().map(|(k, _)| k.width()).max().unwrap_or(0);
    items
        .iter()
        .map(|(k, v)| {
            let line = format!("{k}{}  {}", " ".repeat(width - k.width()), sanitize(v));
            format!("{}\n", line.trim_end())
        })
        .collect()
}

/// A byte count for people, `-` when unknown.
pub fn bytes(n: Option<u64>) -> String {
    n.map_or_else(|| "-".to_owned(), crate::ui::format::bytes)
}

/// `-` for what is unknown.
pub fn or_dash(text: Option<String>) -> String {
    text.filter(|t| !t.is_empty())
        .unwrap_or_else(|| "-".to_owned())
}

/// RFC 3339 in UTC (seconds) from milliseconds since the epoch; `None` for a time that
/// is no real time (humantime formats up to the year 9999).
pub fn rfc3339_ms(ms: Option<u64>) -> Option<String> {
    let time = UNIX_EPOCH.checked_add(Duration::from_millis(ms?))?;
    (time < UNIX_EPOCH + Duration::from_secs(253_402_300_799))
        .then(|| humantime::format_rfc3339_seconds(time).to_string())
}

/// The same time for people: `2025-10-01 12:00:00 UTC`.
pub fn human_time_ms(ms: Option<u64>) -> String {
    rfc3339_ms(ms).map_or_else(
        || "-".to_owned(),
        |t| t.replace('T', " ").replace('Z', " UTC"),
    )
}

/// Now, in milliseconds since the epoch (0 if the clock is before it).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `850ms`, `12.3s`, `4m05s`, `2h03m`.
pub fn duration_ms(ms: Option<u64>) -> String {
    let Some(ms) = ms else {
        return "-".to_owned();
    };
    let secs = ms / 1000;
    if ms < 1000 {
        format!("{ms}ms")
    } else if secs < 60 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if secs < 3600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_cells_are_sanitized() {
        let mut t = Table::new(&[("NAME", Align::Left), ("SIZE", Align::Right)]);
        t.row(["a\u{1b}[31mb", "1"])
            .row(["long name", "1234"])
            .row(["x"]);
        assert_eq!(
            t.render(),
            "NAME       SIZE\nab            1\nlong name  1234\nx\n"
        );
    }

    #[test]
    fn pairs_and_formats() {
        assert_eq!(
            pairs(&[("a", "1".into()), ("bbb", "\u{7}2".into())]),
            "a    1\nbbb  2\n"
        );
        assert_eq!(bytes(None), "-");
        assert_eq!(bytes(Some(2048)), "2.0 KiB");
        assert_eq!(
            rfc3339_ms(Some(1_759_320_000_000)).as_deref(),
            Some("2025-10-01T12:00:00Z")
        );
        assert_eq!(rfc3339_ms(Some(u64::MAX)), None);
        assert_eq!(human_time_ms(None), "-");
        assert_eq!(duration_ms(Some(850)), "850ms");
        assert_eq!(duration_ms(Some(12_345)), "12.3s");
        assert_eq!(duration_ms(Some(245_000)), "4m05s");
        assert_eq!(duration_ms(Some(7_380_000)), "2h03m");
        assert_eq!(or_dash(Some(String::new())), "-");
    }
}
