//! Prompts as the server lists them: the full `/queue` items and a window of
//! `/history?max_items=N` (reference §4.3, §4.5), with what a re-submission needs kept.

use serde_json::{Map, Number, Value};

use super::http::HistoryEntry;
use super::ids::{ClientId, PromptId};

/// One `[number, prompt_id, prompt, extra_data, outputs_to_execute]` record, as `/queue`
/// items and history entries' `prompt` carry it. `prompt` and `extra_data` are kept
/// whole, so the same prompt can be submitted again (moved to the front, re-run).
#[derive(Debug, Clone, PartialEq)]
pub struct PromptRecord {
    /// Integers stay integers; front-of-queue prompts have negative numbers.
    pub number: Number,
    pub prompt_id: PromptId,
    pub prompt: Map<String, Value>,
    /// May hold a client's partner API tokens on 0.3.x servers: never log it.
    pub extra_data: Map<String, Value>,
    pub outputs_to_execute: Vec<String>,
}

impl PromptRecord {
    /// `None` when the item has no prompt id (the one thing a record cannot lack).
    pub fn from_value(item: &Value) -> Option<Self> {
        let items = item.as_array()?;
        let prompt_id = items.get(1)?.as_str()?;
        let number = match items.first() {
            Some(Value::Number(n)) => n.clone(),
            _ => Number::from(0),
        };
        let object = |i: usize| {
            items
                .get(i)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        Some(Self {
            number,
            prompt_id: PromptId::from(prompt_id),
            prompt: object(2),
            extra_data: object(3),
            outputs_to_execute: items
                .get(4)
                .and_then(Value::as_array)
                .map(|ids| {
                    ids.iter()
                        .filter_map(|id| match id {
                            Value::String(s) => Some(s.clone()),
                            Value::Number(n) => Some(n.to_string()),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// `extra_data.client_id`: whose socket hears this prompt's events.
    pub fn client_id(&self) -> Option<ClientId> {
        self.extra_data
            .get("client_id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(ClientId::from)
    }

    /// Nodes in the graph (entries that are node objects; `_meta`-like extras skipped).
    pub fn node_count(&self) -> usize {
        self.prompt
            .values()
            .filter(|node| node.get("class_type").is_some())
            .count()
    }

    /// `extra_data.create_time` (milliseconds since the epoch), on servers that set it.
    pub fn create_time_ms(&self) -> Option<u64> {
        self.extra_data.get("create_time").and_then(Value::as_u64)
    }

    /// The graph's nodes in the server's key order: id, `class_type`, and `_meta.title`
    /// when the editor gave one.
    pub fn nodes(&self) -> impl Iterator<Item = PromptNode<'_>> {
        self.prompt.iter().filter_map(|(id, node)| {
            Some(PromptNode {
                id,
                class_type: node.get("class_type")?.as_str()?,
                title: node
                    .pointer("/_meta/title")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty()),
            })
        })
    }

    fn sort_key(&self) -> f64 {
        self.number.as_f64().unwrap_or(0.0)
    }
}

/// One node of a [`PromptRecord`]'s graph, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromptNode<'a> {
    pub id: &'a str,
    pub class_type: &'a str,
    pub title: Option<&'a str>,
}

/// `GET /queue` with every item whole.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueueListing {
    /// At most one on today's servers; a list because the wire shape is one.
    pub running: Vec<PromptRecord>,
    /// In execution order: sorted by `(number, prompt_id)`, not the heap order sent.
    pub pending: Vec<PromptRecord>,
}

impl QueueListing {
    pub fn from_value(value: &Value) -> Self {
        let records = |key: &str| -> Vec<PromptRecord> {
            value
                .get(key)
                .and_then(Value::as_array)
                .map(|items| items.iter().filter_map(PromptRecord::from_value).collect())
                .unwrap_or_default()
        };
        let mut pending = records("queue_pending");
        pending.sort_by(|a, b| {
            a.sort_key()
                .total_cmp(&b.sort_key())
                .then_with(|| a.prompt_id.cmp(&b.prompt_id))
        });
        Self {
            running: records("queue_running"),
            pending,
        }
    }

    /// Running first, then pending in the order they will run.
    pub fn items(&self) -> impl Iterator<Item = (&PromptRecord, bool)> {
        self.running
            .iter()
            .map(|r| (r, true))
            .chain(self.pending.iter().map(|r| (r, false)))
    }
}

/// How a finished prompt ended (reference §4.5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    Success,
    /// The last recorded message is `execution_interrupted`.
    Interrupted,
    Error,
}

impl Finished {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Interrupted => "interrupted",
            Self::Error => "error",
        }
    }

    fn of(entry: &HistoryEntry) -> Self {
        if entry.status_str == "success" || (entry.status_str.is_empty() && entry.completed) {
            Self::Success
        } else if entry.last_message.as_deref() == Some("execution_interrupted") {
            Self::Interrupted
        } else {
            Self::Error
        }
    }
}

/// One entry of `GET /history?max_items=N`.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryItem {
    pub prompt_id: PromptId,
    /// The entry's `prompt` record, when it has a readable one.
    pub record: Option<PromptRecord>,
    pub finished: Finished,
    /// Milliseconds since the epoch, from the recorded lifecycle messages.
    pub started_ms: Option<u64>,
    pub ended_ms: Option<u64>,
    pub entry: HistoryEntry,
}

impl HistoryItem {
    pub fn from_entry(prompt_id: &str, value: &Value) -> Self {
        let entry = HistoryEntry::from_value(value);
        let messages: Vec<(&str, Option<u64>)> = value
            .pointer("/status/messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|m| {
                let name = m.get(0)?.as_str()?;
                Some((name, m.get(1)?.get("timestamp").and_then(Value::as_u64)))
            })
            .collect();
        let started_ms = messages
            .iter()
            .find(|(name, _)| *name == "execution_start")
            .and_then(|(_, t)| *t);
        let ended_ms = messages.last().and_then(|(_, t)| *t);
        Self {
            prompt_id: PromptId::from(prompt_id),
            record: value.get("prompt").and_then(PromptRecord::from_value),
            finished: Finished::of(&entry),
            started_ms,
            ended_ms,
            entry,
        }
    }

    /// A `/history` answer (oldest first on the wire), newest first.
    pub fn list_from_value(value: &Value) -> Vec<Self> {
        let Some(entries) = value.as_object() else {
            return Vec::new();
        };
        entries
            .iter()
            .rev()
            .map(|(id, entry)| Self::from_entry(id, entry))
            .collect()
    }

    pub fn client_id(&self) -> Option<ClientId> {
        self.record.as_ref().and_then(PromptRecord::client_id)
    }

    pub fn node_count(&self) -> usize {
        self.record.as_ref().map_or(0, PromptRecord::node_count)
    }

    /// Files and text items the prompt produced.
    pub fn output_count(&self) -> usize {
        self.entry
            .outputs
            .iter()
            .map(|(_, out)| out.files.len() + out.texts.len())
            .sum()
    }

    /// Run time in milliseconds, when both ends were recorded.
    pub fn duration_ms(&self) -> Option<u64> {
        Some(self.ended_ms?.saturating_sub(self.started_ms?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn queue_items_keep_prompt_and_extra_data_in_order() {
        let q = QueueListing::from_value(&json!({
            "queue_running": [[5, "r", {"1": {"class_type": "A", "inputs": {}}}, {"client_id": "c1"}, ["1"]]],
            "queue_pending": [
                [9, "b", {}, {}, []], [-1, "f", {}, {"client_id": ""}, []],
                [9, "a", {}, {"client_id": "c2", "create_time": 17}, [3]],
                ["bad"], [1], "junk"
            ]
        }));
        assert_eq!(q.running[0].node_count(), 1);
        assert_eq!(q.running[0].client_id(), Some("c1".into()));
        let nodes: Vec<PromptNode<'_>> = q.running[0].nodes().collect();
        assert_eq!(
            nodes,
            [PromptNode {
                id: "1",
                class_type: "A",
                title: None
            }]
        );
        let ids: Vec<&str> = q.pending.iter().map(|r| r.prompt_id.as_str()).collect();
        assert_eq!(ids, ["f", "a", "b"]);
        assert_eq!(q.pending[0].client_id(), None, "an empty id is no id");
        assert_eq!(q.pending[1].create_time_ms(), Some(17));
        assert_eq!(q.pending[1].outputs_to_execute, ["3"]);
        assert_eq!(q.pending[0].number, Number::from(-1));
        assert_eq!(q.items().filter(|(_, running)| *running).count(), 1);
        assert_eq!(
            QueueListing::from_value(&json!(null)),
            QueueListing::default()
        );
    }

    #[test]
    fn history_is_newest_first_with_outcome_and_times() {
        let items = HistoryItem::list_from_value(&json!({
            "old": {"prompt": [1, "old", {}, {"client_id": "x"}, []],
                    "status": {"status_str": "error", "completed": false, "messages": [
                        ["execution_start", {"timestamp": 10}],
                        ["execution_interrupted", {"timestamp": 25}]]},
                    "outputs": {}},
            "new": {"prompt": [2, "new", {}, {}, []],
                    "status": {"status_str": "success", "completed": true, "messages": []},
                    "outputs": {"9": {"images": [{"filename": "a.png", "subfolder": "", "type": "output"}],
                                      "text": ["hi"]}}},
            "broken": {"prompt": "nope", "status": {"status_str": "error", "messages": [["execution_error", {}]]}}
        }));
        let ids: Vec<&str> = items.iter().map(|i| i.prompt_id.as_str()).collect();
        assert_eq!(ids, ["broken", "new", "old"]);
        assert_eq!(items[0].finished, Finished::Error);
        assert_eq!(items[0].record, None);
        assert_eq!(items[1].finished, Finished::Success);
        assert_eq!(items[1].output_count(), 2);
        assert_eq!(items[2].finished, Finished::Interrupted);
        assert_eq!(items[2].duration_ms(), Some(15));
        assert_eq!(items[2].client_id(), Some("x".into()));
    }
}
