//! `comfy-tui workflows`: the workflows saved on the server, as a table or as JSON.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::cli::WorkflowsArgs;
use crate::comfy::http::{ComfyClient, UserFile};
use crate::source::saved;
use crate::text::sanitize;

/// Lists the saved workflows; exit 2 for bad arguments, 4 when the server fails.
pub async fn run(args: WorkflowsArgs) -> i32 {
    let client = match client(&args) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("comfy-tui: {}", sanitize(&e));
            return crate::exit::USAGE;
        }
    };
    match client.list_userdata(saved::FOLDER).await {
        Ok(files) => {
            let files = saved::workflows(files);
            if args.json {
                println!("{}", to_json(client.server().as_str(), &files));
            } else {
                print!("{}", table(client.server().as_str(), &files));
            }
            crate::exit::SUCCESS
        }
        Err(e) => {
            eprintln!("comfy-tui: {}", sanitize(&e.to_string()));
            crate::exit::UNREACHABLE
        }
    }
}

fn client(args: &WorkflowsArgs) -> Result<ComfyClient, String> {
    let (server, headers) =
        crate::launch::connection_for(&args.server, &args.headers).map_err(|e| e.0)?;
    ComfyClient::new(server, headers).map_err(|e| e.to_string())
}

/// RFC 3339 in UTC, `None` for a time that is no time.
fn timestamp(seconds: Option<f64>) -> Option<String> {
    let seconds = seconds.filter(|s| s.is_finite() && *s >= 0.0)?;
    let time = UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(seconds).ok()?)?;
    // humantime formats up to the year 9999; later times are not real file times.
    (time < SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799))
        .then(|| humantime::format_rfc3339_seconds(time).to_string())
}

/// `{"server", "workflows": [{"name", "path", "size", "modified"}]}`; `name` is what
/// `run @NAME` takes, `modified` RFC 3339 in UTC.
pub fn to_json(server: &str, files: &[UserFile]) -> Value {
    let workflows: Vec<Value> = files
        .iter()
        .map(|f| {
            json!({
                "name": saved::display_name(&f.path),
                "path": f.path,
                "size": f.size,
                "modified": timestamp(f.modified),
            })
        })
        .collect();
    json!({"server": server, "workflows": workflows})
}

/// The human table: path, size, modification time, and how to run one.
pub fn table(server: &str, files: &[UserFile]) -> String {
    if files.is_empty() {
        return format!(
            "no saved workflows on {} (the web UI saves them in the user folder's workflows/)\n",
            sanitize(server)
        );
    }
    let rows: Vec<[String; 3]> = files
        .iter()
        .map(|f| {
            [
                sanitize(&f.path).into_owned(),
                f.size
                    .map_or_else(|| "-".to_owned(), crate::ui::format::bytes),
                timestamp(f.modified).map_or_else(
                    || "-".to_owned(),
                    |t| t.replace('T', " ").replace('Z', " UTC"),
                ),
            ]
        })
        .collect();
    let width = |i: usize, title: &str| {
        rows.iter()
            .map(|r| unicode_width::UnicodeWidthStr::width(r[i].as_str()))
            .chain([title.len()])
            .max()
            .unwrap_or(0)
    };
    let (path_w, size_w) = (width(0, "PATH"), width(1, "SIZE"));
    let pad = |text: &str, w: usize| {
        let used = unicode_width::UnicodeWidthStr::width(text);
        " ".repeat(w.saturating_sub(used))
    };
    let mut out = format!(
        "PATH{}  {}SIZE  MODIFIED\n",
        pad("PATH", path_w),
        pad("SIZE", size_w)
    );
    for [path, size, modified] in &rows {
        out.push_str(&format!(
            "{path}{}  {}{size}  {modified}\n",
            pad(path, path_w),
            pad(size, size_w)
        ));
    }
    let example = sanitize(saved::display_name(&files[0].path)).into_owned();
    out.push_str(&format!(
        "{} saved workflow(s); run one with: comfy-tui run @{example}\n",
        files.len()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<UserFile> {
        vec![
            UserFile {
                path: "examples/demo.json".into(),
                size: Some(2048),
                modified: Some(1_759_320_000.0),
            },
            UserFile {
                path: "x\u{1b}[31m.json".into(),
                size: None,
                modified: None,
            },
        ]
    }

    #[test]
    fn the_table_aligns_and_sanitizes() {
        let text = table("http://h/", &files());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], format!("PATH{}SIZE  MODIFIED", " ".repeat(19)));
        assert_eq!(
            lines[1],
            "examples/demo.json  2.0 KiB  2025-10-01 12:00:00 UTC"
        );
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(lines[3].contains("comfy-tui run @examples/demo"), "{text}");
        assert!(table("http://h/", &[]).starts_with("no saved workflows on http://h/"));
    }

    #[test]
    fn json_gives_name_path_size_and_time() {
        let value = to_json("http://h/", &files());
        assert_eq!(value["workflows"][0]["name"], "examples/demo");
        assert_eq!(value["workflows"][0]["path"], "examples/demo.json");
        assert_eq!(value["workflows"][0]["size"], 2048);
        assert_eq!(value["workflows"][0]["modified"], "2025-10-01T12:00:00Z");
        assert_eq!(value["workflows"][1]["modified"], Value::Null);
        assert_eq!(timestamp(Some(f64::NAN)), None);
        assert_eq!(timestamp(Some(1e300)), None);
    }
}
