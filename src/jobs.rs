//! `comfy-tui jobs`: the job store, newest first, as a table or as JSON.

use crate::cli::JobsArgs;
use crate::state::StateDir;
use crate::state::jobs::JobRecord;
use crate::text::sanitize;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

/// Lists the recorded jobs; exit 2 when there is no place for state, 4 when the store
/// cannot be read.
pub fn run(args: &JobsArgs) -> i32 {
    let Some(dir) = StateDir::locate() else {
        eprintln!(
            "comfy-tui: no home directory to keep the job store in (set {})",
            crate::state::STATE_DIR_ENV
        );
        return crate::exit::USAGE;
    };
    let store = dir.jobs();
    match store.list() {
        Ok(mut records) => {
            records.truncate(args.limit);
            if args.json {
                println!("{}", to_json(&store.path().display().to_string(), &records));
            } else {
                print!(
                    "{}",
                    table(
                        &store.path().display().to_string(),
                        &records,
                        SystemTime::now()
                    )
                );
            }
            crate::exit::SUCCESS
        }
        Err(e) => {
            eprintln!("comfy-tui: {}", sanitize(&e.to_string()));
            crate::exit::UNREACHABLE
        }
    }
}

/// `{"store", "jobs": [record…]}`, newest first; each record as the store keeps it.
pub fn to_json(store: &str, records: &[JobRecord]) -> Value {
    json!({"store": store, "jobs": records})
}

/// How long ago `time` (RFC 3339) was, shortly: `42s`, `5m`, `3h`, `2d`; `-` when it
/// cannot be read.
fn age(time: &str, now: SystemTime) -> String {
    let Ok(then) = humantime::parse_rfc3339_weak(time) else {
        return "-".into();
    };
    let secs = now.duration_since(then).unwrap_or(Duration::ZERO).as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86_400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// The human table: short id, server, status, age, workflow.
pub fn table(store: &str, records: &[JobRecord], now: SystemTime) -> String {
    if records.is_empty() {
        return format!("no jobs recorded yet (the store is {})\n", sanitize(store));
    }
    let rows: Vec<[String; 5]> = records
        .iter()
        .map(|r| {
            [
                sanitize(r.prompt_id.get(..8).unwrap_or(&r.prompt_id)).into_owned(),
                sanitize(&r.server).into_owned(),
                sanitize(&r.status).into_owned(),
                age(&r.submitted, now),
                sanitize(&r.workflow).into_owned(),
            ]
        })
        .collect();
    let titles = ["ID", "SERVER", "STATUS", "AGE", "WORKFLOW"];
    let widths: Vec<usize> = (0..titles.len())
        .map(|i| {
            rows.iter()
                .map(|r| unicode_width::UnicodeWidthStr::width(r[i].as_str()))
                .chain([titles[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: [&str; 5]| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                let used = unicode_width::UnicodeWidthStr::width(*cell);
                out.push_str(cell);
                out.push_str(&" ".repeat(widths[i].saturating_sub(used) + 2));
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
        out
    };
    let mut out = line(titles);
    for row in &rows {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, status: &str, submitted: &str, workflow: &str) -> JobRecord {
        JobRecord {
            prompt_id: id.into(),
            server: "http://127.0.0.1:8188/".into(),
            client_id: "c".into(),
            workflow: workflow.into(),
            submitted: submitted.into(),
            status: status.into(),
            exit_code: None,
            outputs: 0,
            ended: None,
        }
    }

    #[test]
    fn the_table_aligns_ages_and_sanitizes() {
        let now = humantime::parse_rfc3339("2026-01-02T03:04:05Z").expect("time");
        let records = [
            record(
                "5f0c6a62-8f2b-4c39-9a3e-0d1f7c1e2a11",
                "detached",
                "2026-01-02T03:03:05Z",
                "/w/a.json",
            ),
            record(
                "short",
                "success",
                "2025-12-30T03:04:05Z",
                "x\u{1b}[31m.json",
            ),
            record("bad-time", "error", "yesterday", "-"),
        ];
        let text = table("/s/jobs.jsonl", &records, now);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "ID        SERVER                  STATUS    AGE  WORKFLOW"
        );
        assert_eq!(
            lines[1],
            "5f0c6a62  http://127.0.0.1:8188/  detached  1m   /w/a.json"
        );
        assert!(lines[2].starts_with("short     ") && lines[2].contains("  3d   "));
        assert!(lines[3].contains("  -    -"), "{}", lines[3]);
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(table("/s", &[], now).starts_with("no jobs recorded yet"));
    }
}
