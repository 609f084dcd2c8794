//! Small text formatters shared by the panels: durations, sizes, rates.

use std::time::Duration;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// `0.4s`, `12.3s`, `2m05s`, `1h02m`: short, fixed style, no jitter in the decimals.
pub fn duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else if secs < 3600.0 {
        let s = d.as_secs();
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        let s = d.as_secs();
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

/// A clock for elapsed time: `0:07`, `12:34`, `1:02:03`.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// `512 B`, `1.5 KiB`, `2.3 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Steps per second, or seconds per step when slower than one a second (as samplers say).
pub fn rate(per_second: f64) -> String {
    if per_second >= 1.0 {
        format!("{per_second:.2} it/s")
    } else {
        format!("{:.2} s/it", 1.0 / per_second)
    }
}

/// A step count without a useless `.0`.
pub fn count(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value:.1}")
    }
}

/// Cuts `text` to `width` characters, ending with `…` when cut.
pub fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// Wraps one line to `width` columns, breaking after spaces when it can (mid-word when a
/// word alone is too long). Leading spaces are kept: they are a traceback's structure.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut current_width = 0;
    // Byte index just after the last space in `current` past its indentation.
    let mut break_at: Option<usize> = None;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if current_width + w > width && !current.is_empty() {
            if c == ' ' {
                // A space at the edge ends the line by itself.
                lines.push(std::mem::take(&mut current));
                current_width = 0;
                break_at = None;
                continue;
            }
            match break_at {
                Some(i) => {
                    let rest = current.split_off(i);
                    lines.push(current.trim_end().to_owned());
                    current = rest;
                }
                None => lines.push(std::mem::take(&mut current)),
            }
            current_width = current.width();
            break_at = None;
        }
        current.push(c);
        current_width += w;
        if c == ' ' && !current.trim().is_empty() {
            break_at = Some(current.len());
        }
    }
    lines.push(current);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(duration(Duration::from_millis(400)), "0.4s");
        assert_eq!(duration(Duration::from_secs(125)), "2m05s");
        assert_eq!(duration(Duration::from_secs(3720)), "1h02m");
        assert_eq!(clock(Duration::from_secs(7)), "0:07");
        assert_eq!(clock(Duration::from_secs(3723)), "1:02:03");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(rate(2.5), "2.50 it/s");
        assert_eq!(rate(0.5), "2.00 s/it");
        assert_eq!(count(20.0), "20");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
        assert_eq!(
            wrap("  File x.py line 3", 10),
            vec!["  File", "x.py line", "3"]
        );
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), vec![""]);
    }
}
