//! `comfy-tui queue`: the running and pending prompts, everyone's, and which are mine.

use std::collections::HashSet;

use serde_json::{Number, Value, json};

use super::table::{Align, Table};
use super::{Failure, Shown};
use crate::cli::QueueArgs;
use crate::comfy::ids::{ClientId, PromptId};
use crate::comfy::listing::QueueListing;

/// One row: a prompt in the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    pub running: bool,
    /// 0 for the running prompt, then 1, 2, ... in the order the pending ones will run.
    pub position: usize,
    pub number: Number,
    pub prompt_id: PromptId,
    pub client_id: Option<ClientId>,
    pub mine: bool,
    pub nodes: usize,
}

/// The rows of a listing. `is_mine` decides ownership by client id: today the ids given
/// on the command line, later whatever a job store knows.
pub fn rows(listing: &QueueListing, is_mine: &dyn Fn(&ClientId) -> bool) -> Vec<QueueRow> {
    let first_pending = listing.running.len();
    listing
        .items()
        .enumerate()
        .map(|(i, (record, running))| {
            let client_id = record.client_id();
            QueueRow {
                running,
                position: if running { 0 } else { i + 1 - first_pending },
                number: record.number.clone(),
                prompt_id: record.prompt_id.clone(),
                mine: client_id.as_ref().is_some_and(is_mine),
                client_id,
                nodes: record.node_count(),
            }
        })
        .collect()
}

pub async fn run(args: QueueArgs) -> i32 {
    let known: HashSet<ClientId> = args
        .client_ids
        .iter()
        .map(|id| ClientId::from(id.as_str()))
        .collect();
    super::run_with(&args.server, |client| async move {
        let listing = client.queue_listing().await?;
        let rows = rows(&listing, &|id| known.contains(id));
        Ok::<_, Failure>(show(client.server().as_str(), &rows))
    })
    .await
}

pub fn show(server: &str, rows: &[QueueRow]) -> Shown {
    Shown {
        json: to_json(server, rows),
        table: text(server, rows),
    }
}

fn state(row: &QueueRow) -> &'static str {
    if row.running { "running" } else { "pending" }
}

/// `{"server", "running": N, "pending": N, "items": [{"state", "position", "number",
/// "prompt_id", "client_id", "mine", "nodes"}]}`, running first, then in run order.
pub fn to_json(server: &str, rows: &[QueueRow]) -> Value {
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "state": state(r),
                "position": r.position,
                "number": r.number,
                "prompt_id": r.prompt_id,
                "client_id": r.client_id,
                "mine": r.mine,
                "nodes": r.nodes,
            })
        })
        .collect();
    let running = rows.iter().filter(|r| r.running).count();
    json!({
        "server": server,
        "running": running,
        "pending": rows.len() - running,
        "items": items,
    })
}

pub fn text(server: &str, rows: &[QueueRow]) -> String {
    if rows.is_empty() {
        return format!("the queue of {} is empty\n", crate::text::sanitize(server));
    }
    let mut table = Table::new(&[
        ("STATE", Align::Left),
        ("#", Align::Right),
        ("NUMBER", Align::Right),
        ("PROMPT ID", Align::Left),
        ("CLIENT", Align::Left),
        ("MINE", Align::Left),
        ("NODES", Align::Right),
    ]);
    for r in rows {
        table.row([
            state(r).to_owned(),
            r.position.to_string(),
            r.number.to_string(),
            r.prompt_id.to_string(),
            r.client_id
                .as_ref()
                .map_or_else(|| "-".to_owned(), ToString::to_string),
            if r.mine { "yes" } else { "" }.to_owned(),
            r.nodes.to_string(),
        ]);
    }
    let running = rows.iter().filter(|r| r.running).count();
    let mine = rows.iter().filter(|r| r.mine).count();
    let mut out = table.render();
    out.push_str(&format!(
        "{running} running, {} pending, {mine} mine\n",
        rows.len() - running
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing() -> QueueListing {
        QueueListing::from_value(&json!({
            "queue_running": [[7, "run", {"1": {"class_type": "A"}, "2": {"class_type": "B"}}, {"client_id": "me"}, []]],
            "queue_pending": [[9, "later", {}, {"client_id": "them\u{1b}[2J"}, []], [8, "next", {}, {}, []]]
        }))
    }

    #[test]
    fn rows_are_in_run_order_and_mine_comes_from_the_predicate() {
        let rows = rows(&listing(), &|id| id.as_str() == "me");
        let ids: Vec<&str> = rows.iter().map(|r| r.prompt_id.as_str()).collect();
        assert_eq!(ids, ["run", "next", "later"]);
        assert_eq!(
            rows.iter().map(|r| r.position).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert!(rows[0].mine && !rows[1].mine && !rows[2].mine);
        assert_eq!(rows[0].nodes, 2);
        let none = super::rows(&listing(), &|_| false);
        assert!(none.iter().all(|r| !r.mine));
    }

    #[test]
    fn text_and_json() {
        let rows = rows(&listing(), &|id| id.as_str() == "me");
        let text = text("http://h/", &rows);
        assert!(!text.contains('\u{1b}'));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("running  0       7  run"), "{text}");
        assert!(lines[1].contains("  me      yes"), "{text}");
        assert!(lines[2].contains(" - "), "no client id: {text}");
        assert_eq!(lines[4], "1 running, 2 pending, 1 mine");
        let value = to_json("http://h/", &rows);
        assert_eq!(value["items"][0]["mine"], true);
        assert_eq!(value["items"][1]["client_id"], Value::Null);
        assert_eq!(value["items"][2]["number"], 9);
        assert_eq!(value["pending"], 2);
        assert!(super::text("http://h/", &[]).contains("is empty"));
    }
}
