//! One node of the graph as the run sees it: its state and when it ran.

use crate::comfy::NodeId;
use serde::Serialize;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeState {
    Pending,
    Cached,
    Running,
    Done,
    Failed,
    Interrupted,
    /// The run succeeded without it (not needed by any output).
    Skipped,
}

impl NodeState {
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Cached => "cached",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Interrupted => "stopped",
            Self::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeRun {
    pub id: NodeId,
    pub class_type: String,
    pub title: Option<String>,
    pub state: NodeState,
    pub started: Option<Instant>,
    pub finished: Option<Instant>,
    /// The node's own progress (from `progress` / `progress_state`).
    pub value: f64,
    pub max: f64,
    /// The nodes whose outputs this one takes (its links).
    pub sources: Vec<NodeId>,
}

impl NodeRun {
    pub fn new(id: NodeId, class_type: &str, title: Option<&str>) -> Self {
        Self {
            id,
            class_type: class_type.to_owned(),
            title: title.map(str::to_owned),
            state: NodeState::Pending,
            started: None,
            finished: None,
            value: 0.0,
            max: 0.0,
            sources: Vec::new(),
        }
    }

    /// The title when the graph gives one, else the class.
    pub fn name(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.class_type)
    }

    pub(crate) fn start(&mut self, at: Instant) {
        if matches!(self.state, NodeState::Pending | NodeState::Cached) {
            self.state = NodeState::Running;
            self.started.get_or_insert(at);
            self.finished = None;
        }
    }

    pub(crate) fn end(&mut self, state: NodeState, at: Instant) {
        self.state = state;
        self.finished.get_or_insert(at);
    }

    pub fn fraction(&self) -> f64 {
        if self.max > 0.0 {
            (self.value / self.max).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }

    pub fn duration(&self) -> Option<Duration> {
        Some(self.finished?.saturating_duration_since(self.started?))
    }

    /// How long it has been running at `now` (or ran, once finished).
    pub fn elapsed(&self, now: Instant) -> Option<Duration> {
        let end = self.finished.unwrap_or(now);
        Some(end.saturating_duration_since(self.started?))
    }
}
