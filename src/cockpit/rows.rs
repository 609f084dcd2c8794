//! The cockpit's job rows: the queue and a window of history merged into one list, each
//! row with its owner, state, times and counts.

use std::collections::HashSet;
use std::time::Duration;

use crate::comfy::ids::{ClientId, PromptId};
use crate::comfy::listing::{Finished, HistoryItem, PromptRecord, QueueListing};

/// Whose prompt a row is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// Submitted by this machine's comfy-tui (the caller's `is_mine` said so).
    Mine,
    Client(ClientId),
    /// The record names no client (submitted without a socket, or no readable record).
    Unknown,
}

/// Where a prompt is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowState {
    Running,
    /// 1-based, in the order the pending prompts will run.
    Pending {
        position: usize,
    },
    Finished(Finished),
}

impl RowState {
    /// The word the table shows (and the filter matches): the run view's words for an
    /// outcome, so that both screens say the same.
    pub fn word(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Pending { .. } => "pending",
            Self::Finished(Finished::Success) => "done",
            Self::Finished(Finished::Error) => "failed",
            Self::Finished(Finished::Interrupted) => "interrupted",
        }
    }
}

/// One line of the jobs table.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    pub prompt_id: PromptId,
    pub owner: Owner,
    pub nodes: usize,
    pub state: RowState,
    /// 0..=1, for the running job when the caller knows it (from the socket's progress).
    pub progress: Option<f64>,
    /// Milliseconds since the epoch, each when known.
    pub created_ms: Option<u64>,
    pub started_ms: Option<u64>,
    pub ended_ms: Option<u64>,
    /// Files and texts produced; 0 until the prompt has finished.
    pub outputs: usize,
}

impl JobRow {
    /// Running: time since it started (or, not knowing that, since it was created);
    /// pending: its age; finished: how long it ran. `None` when the times are unknown.
    pub fn age_or_duration(&self, now_ms: u64) -> Option<Duration> {
        let ms = match self.state {
            RowState::Running => now_ms.saturating_sub(self.started_ms.or(self.created_ms)?),
            RowState::Pending { .. } => now_ms.saturating_sub(self.created_ms?),
            RowState::Finished(_) => self.ended_ms?.saturating_sub(self.started_ms?),
        };
        Some(Duration::from_millis(ms))
    }

    pub fn is_mine(&self) -> bool {
        self.owner == Owner::Mine
    }

    fn queued(record: &PromptRecord, state: RowState, owner: Owner) -> Self {
        Self {
            prompt_id: record.prompt_id.clone(),
            owner,
            nodes: record.node_count(),
            state,
            progress: None,
            created_ms: record.create_time_ms(),
            started_ms: None,
            ended_ms: None,
            outputs: 0,
        }
    }
}

/// The rows of one server: running first, then pending in queue order, then the history
/// newest first. A prompt both queued and in the history is listed once, as the queue
/// has it: the two answers are read at different moments, and the queue is the later
/// word on a prompt that is being re-run or has just been listed as done.
///
/// `is_mine` is asked with the prompt id and its client id, so that a job store can claim
/// prompts by either.
pub fn rows(
    queue: Option<&QueueListing>,
    history: &[HistoryItem],
    is_mine: impl Fn(&PromptId, Option<&ClientId>) -> bool,
) -> Vec<JobRow> {
    let owner = |id: &PromptId, client: Option<ClientId>| {
        if is_mine(id, client.as_ref()) {
            Owner::Mine
        } else {
            client.map_or(Owner::Unknown, Owner::Client)
        }
    };
    let mut seen: HashSet<&PromptId> = HashSet::new();
    let mut out = Vec::new();
    if let Some(queue) = queue {
        for record in &queue.running {
            if seen.insert(&record.prompt_id) {
                let who = owner(&record.prompt_id, record.client_id());
                out.push(JobRow::queued(record, RowState::Running, who));
            }
        }
        let mut position = 0;
        for record in &queue.pending {
            if seen.insert(&record.prompt_id) {
                position += 1;
                let who = owner(&record.prompt_id, record.client_id());
                out.push(JobRow::queued(record, RowState::Pending { position }, who));
            }
        }
    }
    for item in history {
        if !seen.insert(&item.prompt_id) {
            continue;
        }
        out.push(JobRow {
            prompt_id: item.prompt_id.clone(),
            owner: owner(&item.prompt_id, item.client_id()),
            nodes: item.node_count(),
            state: RowState::Finished(item.finished),
            progress: None,
            created_ms: item.record.as_ref().and_then(PromptRecord::create_time_ms),
            started_ms: item.started_ms,
            ended_ms: item.ended_ms,
            outputs: item.output_count(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn queue() -> QueueListing {
        QueueListing::from_value(&json!({
            "queue_running": [[3, "run", {"1": {"class_type": "A", "inputs": {}},
                                          "2": {"class_type": "B", "inputs": {}}},
                               {"client_id": "me", "create_time": 1_000}, ["2"]]],
            "queue_pending": [
                [6, "p-late", {}, {"client_id": "other", "create_time": 4_000}, []],
                [4, "p-first", {"1": {"class_type": "A", "inputs": {}}},
                    {"client_id": "other", "create_time": 2_000}, []],
                [5, "p-nobody", {}, {}, []],
                [-1, "p-front", {}, {"client_id": "me"}, []]
            ]
        }))
    }

    fn history() -> Vec<HistoryItem> {
        HistoryItem::list_from_value(&json!({
            "h-old": {"prompt": [1, "h-old", {}, {"client_id": "other"}, []],
                      "status": {"status_str": "error", "completed": false, "messages": [
                          ["execution_start", {"timestamp": 100}],
                          ["execution_interrupted", {"timestamp": 2_600}]]},
                      "outputs": {}},
            "p-late": {"prompt": [6, "p-late", {}, {"client_id": "other"}, []],
                       "status": {"status_str": "success", "completed": true, "messages": []},
                       "outputs": {}},
            "h-new": {"prompt": [2, "h-new", {"1": {"class_type": "A", "inputs": {}}},
                                 {"client_id": "me", "create_time": 50}, []],
                      "status": {"status_str": "success", "completed": true, "messages": [
                          ["execution_start", {"timestamp": 5_000}],
                          ["execution_success", {"timestamp": 130_000}]]},
                      "outputs": {"9": {"images": [{"filename": "a.png"}, {"filename": "b.png"}]}}}
        }))
    }

    fn mine(_: &PromptId, client: Option<&ClientId>) -> bool {
        client.is_some_and(|c| c.as_str() == "me")
    }

    fn ids(rows: &[JobRow]) -> Vec<&str> {
        rows.iter().map(|r| r.prompt_id.as_str()).collect()
    }

    #[test]
    fn running_then_pending_in_queue_order_then_history_newest_first() {
        let rows = rows(Some(&queue()), &history(), mine);
        assert_eq!(
            ids(&rows),
            [
                "run", "p-front", "p-first", "p-nobody", "p-late", "h-new", "h-old"
            ]
        );
        let positions: Vec<RowState> = rows[1..5].iter().map(|r| r.state).collect();
        assert_eq!(
            positions,
            (1..=4)
                .map(|position| RowState::Pending { position })
                .collect::<Vec<_>>()
        );
        assert_eq!(rows[0].state, RowState::Running);
        assert_eq!(rows[0].nodes, 2);
        assert_eq!(rows[5].state, RowState::Finished(Finished::Success));
        assert_eq!(rows[5].outputs, 2);
        assert_eq!(rows[6].state, RowState::Finished(Finished::Interrupted));
    }

    #[test]
    fn a_prompt_in_queue_and_history_is_listed_once_as_queued() {
        let rows = rows(Some(&queue()), &history(), mine);
        let late: Vec<&JobRow> = rows
            .iter()
            .filter(|r| r.prompt_id.as_str() == "p-late")
            .collect();
        assert_eq!(late.len(), 1);
        assert_eq!(late[0].state, RowState::Pending { position: 4 });
        // Without the queue the history has it.
        let rows = super::rows(None, &history(), mine);
        assert_eq!(ids(&rows), ["h-new", "p-late", "h-old"]);
        assert_eq!(rows[1].state, RowState::Finished(Finished::Success));
    }

    #[test]
    fn ownership_by_client_or_prompt_id() {
        let rows = rows(Some(&queue()), &history(), mine);
        assert_eq!(rows[0].owner, Owner::Mine);
        assert_eq!(rows[2].owner, Owner::Client("other".into()));
        assert_eq!(rows[3].owner, Owner::Unknown);
        assert!(rows[5].is_mine());
        // A job store may know a prompt by its id alone.
        let by_id = super::rows(Some(&queue()), &[], |id, _| id.as_str() == "p-nobody");
        assert_eq!(by_id[3].owner, Owner::Mine);
        assert_eq!(by_id[0].owner, Owner::Client("me".into()));
    }

    #[test]
    fn ages_and_durations() {
        let mut rows = rows(Some(&queue()), &history(), mine);
        let now = 10_000;
        // Running, start unknown: since creation; then since the start once known.
        assert_eq!(rows[0].age_or_duration(now), Some(Duration::from_secs(9)));
        rows[0].started_ms = Some(7_500);
        assert_eq!(
            rows[0].age_or_duration(now),
            Some(Duration::from_millis(2_500))
        );
        assert_eq!(rows[2].age_or_duration(now), Some(Duration::from_secs(8)));
        // Pending without a creation time: unknown.
        assert_eq!(rows[3].age_or_duration(now), None);
        // Finished: its run time, whatever the clock says.
        assert_eq!(rows[5].age_or_duration(now), Some(Duration::from_secs(125)));
        assert_eq!(rows[5].age_or_duration(0), Some(Duration::from_secs(125)));
        assert_eq!(
            rows[6].age_or_duration(now),
            Some(Duration::from_millis(2_500))
        );
        // A clock behind the server's: no underflow.
        assert_eq!(rows[2].age_or_duration(0), Some(Duration::ZERO));
    }

    #[test]
    fn a_running_prompt_also_pending_is_listed_once() {
        let queue = QueueListing::from_value(&json!({
            "queue_running": [[1, "x", {}, {}, []]],
            "queue_pending": [[2, "x", {}, {}, []], [3, "y", {}, {}, []]]
        }));
        let rows = rows(Some(&queue), &[], |_, _| false);
        assert_eq!(ids(&rows), ["x", "y"]);
        assert_eq!(rows[1].state, RowState::Pending { position: 1 });
    }

    #[test]
    fn state_words() {
        assert_eq!(RowState::Running.word(), "running");
        assert_eq!(RowState::Pending { position: 2 }.word(), "pending");
        assert_eq!(RowState::Finished(Finished::Error).word(), "failed");
    }
}
