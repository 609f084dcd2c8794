//! Save nodes' `filename_prefix` replacements (rule F): `%Node.widget%` from the graph's
//! current widget values and `%date:FORMAT%` from the time passed in. Everything else is
//! left for the server.

use chrono::{Datelike, NaiveDateTime, Timelike};
use serde_json::Value;

/// The classes whose `filename_prefix` the frontend rewrites.
pub const SAVE_CLASSES: [&str; 11] = [
    "SaveImage",
    "SaveAnimatedWEBP",
    "SaveWEBM",
    "SaveAudio",
    "SaveGLB",
    "SaveAnimatedPNG",
    "CLIPSave",
    "VAESave",
    "ModelSave",
    "LoraSave",
    "SaveLatent",
];

/// One node as the lookup sees it: its search name, its title and its widgets.
pub struct Searchable<'a> {
    /// The `Node name for S&R` property (the class name unless edited).
    pub search_name: Option<&'a str>,
    pub title: String,
    pub widgets: Vec<(&'a str, &'a Value)>,
}

/// JavaScript's `String(value)` for the JSON values a widget can hold.
pub fn js_string(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                n.to_string()
            } else {
                match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
                    Some(f) => f.to_string(),
                    None => n.to_string(),
                }
            }
        }
        Value::Array(items) => items.iter().map(js_string).collect::<Vec<_>>().join(","),
        Value::Object(_) => "[object Object]".to_owned(),
    }
}

/// Characters a file name cannot hold become `_`.
fn safe_file_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if matches!(c, '/' | '?' | '<' | '>' | '\\' | ':' | '*' | '|' | '"') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// The frontend's date tokens: `yyyy`, `yy`, `M`/`MM`, `d`/`dd`, `h`/`hh` (24-hour),
/// `m`/`mm`, `s`/`ss`; anything else is copied.
pub fn format_date(format: &str, now: &NaiveDateTime) -> String {
    let chars: Vec<char> = format.chars().collect();
    let mut out = String::new();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        let run = chars[at..].iter().take_while(|&&x| x == c).count();
        let (taken, text) = match c {
            'd' | 'M' | 'h' | 'm' | 's' => {
                let taken = run.min(2);
                let value = match c {
                    'd' => now.day(),
                    'M' => now.month(),
                    'h' => now.hour(),
                    'm' => now.minute(),
                    _ => now.second(),
                };
                (taken, format!("{value:0taken$}"))
            }
            'y' if run >= 2 => {
                let taken = run.min(4);
                let year = now.year().to_string();
                let text = match taken {
                    4 => year,
                    2 => year.chars().skip(2).collect(),
                    _ => "yyy".to_owned(),
                };
                (taken, text)
            }
            _ => (1, c.to_string()),
        };
        out.push_str(&text);
        at += taken;
    }
    out
}

/// Applies `%…%` replacements to `value` against `nodes` (root first, then subgraphs).
pub fn apply(value: &str, nodes: &[Searchable<'_>], now: &NaiveDateTime) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find('%') {
        let after = &rest[start + 1..];
        let Some(len) = after.find('%').filter(|&len| len > 0) else {
            // `%%` or a lone `%`: the regex needs at least one character between.
            let skip = if after.starts_with('%') {
                1
            } else {
                after.len() + 1
            };
            let skip = skip.min(rest.len() - start);
            out.push_str(&rest[..start + skip]);
            rest = &rest[start + skip..];
            continue;
        };
        let text = &after[..len];
        out.push_str(&rest[..start]);
        match replacement(text, nodes, now) {
            Some(replaced) => out.push_str(&replaced),
            None => {
                out.push('%');
                out.push_str(text);
                out.push('%');
            }
        }
        rest = &after[len + 1..];
    }
    out.push_str(rest);
    out
}

fn replacement(text: &str, nodes: &[Searchable<'_>], now: &NaiveDateTime) -> Option<String> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 2 {
        return parts[0]
            .strip_prefix("date:")
            .map(|format| format_date(format, now));
    }
    let (node_name, widget_name) = (parts[0], parts[1]);
    let node = nodes
        .iter()
        .find(|n| n.search_name == Some(node_name))
        .or_else(|| nodes.iter().find(|n| n.title == node_name))?;
    let (_, value) = node.widgets.iter().find(|(name, _)| *name == widget_name)?;
    Some(safe_file_text(&js_string(value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use serde_json::json;

    fn now() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, 7)
            .and_then(|d| d.and_hms_opt(9, 5, 2))
            .expect("date")
    }

    #[test]
    fn dates_use_the_frontend_tokens() {
        assert_eq!(format_date("yyyy-MM-dd", &now()), "2026-03-07");
        assert_eq!(format_date("yy M d h:m:s", &now()), "26 3 7 9:5:2");
        assert_eq!(format_date("hhmmss yyy", &now()), "090502 yyy");
        assert_eq!(
            apply("img/%date:yyyy-MM-dd%_x", &[], &now()),
            "img/2026-03-07_x"
        );
    }

    #[test]
    fn node_widget_lookups_by_search_name_then_title() {
        let width = json!(512);
        let text = json!("a/b:c");
        let nodes = [
            Searchable {
                search_name: Some("EmptyLatentImage"),
                title: "Empty Latent Image".into(),
                widgets: vec![("width", &width)],
            },
            Searchable {
                search_name: Some("CLIPTextEncode"),
                title: "Positive".into(),
                widgets: vec![("text", &text)],
            },
        ];
        assert_eq!(
            apply("%EmptyLatentImage.width%-%Positive.text%", &nodes, &now()),
            "512-a_b_c"
        );
        assert_eq!(
            apply("%width%_%Nope.x%_%Positive.nope%_50%", &nodes, &now()),
            "%width%_%Nope.x%_%Positive.nope%_50%"
        );
    }

    #[test]
    fn js_strings_of_numbers() {
        assert_eq!(js_string(&json!(1.0)), "1");
        assert_eq!(js_string(&json!(0.25)), "0.25");
        assert_eq!(
            js_string(&json!(18446744073709551615u64)),
            "18446744073709551615"
        );
    }
}
