//! `comfy-tui history [-n N]`: the newest finished prompts, newest first.

use serde_json::{Value, json};

use super::table::{self, Align, Table};
use super::{Failure, Shown};
use crate::cli::HistoryArgs;
use crate::comfy::listing::HistoryItem;

pub async fn run(args: HistoryArgs) -> i32 {
    let max_items = args.max_items as usize;
    super::run_with(&args.server, |client| async move {
        let items = client.recent_history(max_items).await?;
        Ok::<_, Failure>(show(client.server().as_str(), &items))
    })
    .await
}

pub fn show(server: &str, items: &[HistoryItem]) -> Shown {
    Shown {
        json: to_json(server, items),
        table: text(server, items),
    }
}

/// `{"server", "items": [{"prompt_id", "number", "status", "client_id", "nodes",
/// "outputs", "started", "ended", "duration_seconds"}]}`, newest first; times RFC 3339.
pub fn to_json(server: &str, items: &[HistoryItem]) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|item| {
            json!({
                "prompt_id": item.prompt_id,
                "number": item.record.as_ref().map(|r| r.number.clone()),
                "status": item.finished.as_str(),
                "client_id": item.client_id(),
                "nodes": item.node_count(),
                "outputs": item.output_count(),
                "started": table::rfc3339_ms(item.started_ms),
                "ended": table::rfc3339_ms(item.ended_ms),
                "duration_seconds": item.duration_ms().map(|ms| ms as f64 / 1000.0),
            })
        })
        .collect();
    json!({"server": server, "items": items})
}

pub fn text(server: &str, items: &[HistoryItem]) -> String {
    if items.is_empty() {
        return format!("no history on {}\n", crate::text::sanitize(server));
    }
    let mut table = Table::new(&[
        ("PROMPT ID", Align::Left),
        ("NUMBER", Align::Right),
        ("STATUS", Align::Left),
        ("CLIENT", Align::Left),
        ("NODES", Align::Right),
        ("OUTPUTS", Align::Right),
        ("TOOK", Align::Right),
        ("ENDED", Align::Left),
    ]);
    for item in items {
        table.row([
            item.prompt_id.to_string(),
            item.record
                .as_ref()
                .map_or_else(|| "-".to_owned(), |r| r.number.to_string()),
            item.finished.as_str().to_owned(),
            item.client_id()
                .map_or_else(|| "-".to_owned(), |c| c.to_string()),
            item.node_count().to_string(),
            item.output_count().to_string(),
            table::duration_ms(item.duration_ms()),
            table::human_time_ms(item.ended_ms),
        ]);
    }
    table.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_show_outcome_duration_and_end() {
        let items = HistoryItem::list_from_value(&json!({
            "a": {"prompt": [3, "a", {"1": {"class_type": "X"}}, {"client_id": "c"}, ["1"]],
                  "status": {"status_str": "success", "completed": true, "messages": [
                      ["execution_start", {"timestamp": 1_759_320_000_000u64}],
                      ["execution_success", {"timestamp": 1_759_320_002_500u64}]]},
                  "outputs": {"1": {"images": [{"filename": "f.png", "subfolder": "", "type": "output"}]}}}
        }));
        let text = text("http://h/", &items);
        let row = text.lines().nth(1).unwrap_or_default();
        assert_eq!(
            row,
            "a               3  success  c           1        1  2.5s  2025-10-01 12:00:02 UTC"
        );
        let value = to_json("http://h/", &items);
        assert_eq!(value["items"][0]["duration_seconds"], 2.5);
        assert_eq!(value["items"][0]["ended"], "2025-10-01T12:00:02Z");
        assert_eq!(value["items"][0]["number"], 3);
        assert!(super::text("http://h/", &[]).starts_with("no history"));
    }
}
