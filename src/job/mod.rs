//! The run's state machine: what one submitted prompt is doing, built only from the
//! messages the server sends and the times the caller stamps them with. No I/O, no clock.

mod expected;
mod node;
mod rate;

pub use expected::Expected;
pub use node::{NodeRun, NodeState};
pub use rate::StepRate;

use crate::comfy::messages::{self, NodeRunState, ServerMessage};
use crate::comfy::outputs::NodeOutput;
use crate::comfy::preview::{ImageFormat, Preview};
use crate::comfy::{NodeId, PromptId, Workflow};
use serde::Serialize;
use std::collections::HashMap;
use std::time::Instant;

/// The stock node whose images arrive only as binary frames, never through `/view`.
const WEBSOCKET_OUTPUT: &str = "SaveImageWebsocket";

/// Messages for an unknown prompt kept while our submission is in flight, in case an old
/// server picked another id than ours (its events can precede the HTTP answer).
const EARLY_MESSAGE_CAP: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Error,
    Interrupted,
    Rejected,
    Lost,
    Timeout,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Error => "error",
            Self::Interrupted => "interrupted",
            Self::Rejected => "rejected",
            Self::Lost => "lost",
            Self::Timeout => "timeout",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    Connecting,
    Submitting,
    /// Accepted by the server and waiting for the worker.
    Queued,
    Running,
    Finished(Outcome),
}

/// The sampler-like progress of the node that reports steps.
#[derive(Debug, Clone, PartialEq)]
pub struct StepProgress {
    pub node: NodeId,
    pub value: f64,
    pub max: f64,
    pub rate: StepRate,
}

/// A terminal `execution_error`, reduced to what a person needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunError {
    pub node_id: Option<NodeId>,
    pub node_type: String,
    pub exception_type: String,
    pub message: String,
    pub traceback: Vec<String>,
}

impl From<&messages::ExecutionError> for RunError {
    fn from(error: &messages::ExecutionError) -> Self {
        Self {
            node_id: error.node_id.clone(),
            node_type: error.node_type.clone().unwrap_or_default(),
            exception_type: error.exception_type.clone(),
            message: error.exception_message.trim_end().to_owned(),
            traceback: error.traceback.clone(),
        }
    }
}

/// Something worth telling the user, returned by the `apply_*` methods.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Started,
    Cached(Vec<NodeId>),
    NodeStarted(NodeId),
    Progress {
        node: NodeId,
        value: f64,
        max: f64,
    },
    Preview {
        node: Option<NodeId>,
        format: ImageFormat,
        bytes: usize,
    },
    Outputs {
        node: NodeId,
        output: NodeOutput,
    },
    /// An output image sent over the socket itself (`SaveImageWebsocket`), the n-th.
    Image {
        node: NodeId,
        format: ImageFormat,
        image: bytes::Bytes,
        index: u64,
    },
    Blocked {
        node: Option<NodeId>,
        message: String,
    },
    Failed(RunError),
    Interrupted {
        node: Option<NodeId>,
    },
    Finished(Outcome),
}

#[derive(Debug, Clone)]
pub struct Job {
    pub prompt_id: PromptId,
    pub number: Option<f64>,
    pub phase: Phase,
    pub nodes: Vec<NodeRun>,
    index: HashMap<NodeId, usize>,
    /// `queue_remaining` from the last `status` (the running prompt counts).
    pub queue_remaining: Option<u64>,
    /// Prompts ahead of ours, from `/queue` (0 = running).
    pub queue_position: Option<usize>,
    pub step: Option<StepProgress>,
    pub outputs: Vec<(NodeId, NodeOutput)>,
    pub error: Option<RunError>,
    pub interrupted_node: Option<NodeId>,
    pub previews: u64,
    pub latest_preview: Option<Preview>,
    /// The node that sent `latest_preview`, when known.
    pub latest_preview_node: Option<NodeId>,
    /// Output images received as binary frames (`SaveImageWebsocket`).
    pub websocket_images: u64,
    pub submitted_at: Option<Instant>,
    /// When the server's answer said it has the prompt (a queue read asked earlier may
    /// not list it yet).
    pub accepted_at: Option<Instant>,
    pub started_at: Option<Instant>,
    pub finished_at: Option<Instant>,
    /// The outcome announced by success/error/interrupt, final at `executing null`, and
    /// when it was announced.
    pending_outcome: Option<(Outcome, Instant)>,
    /// When the server last said anything about our prompt.
    pub last_heard: Option<Instant>,
    /// What earlier runs of this graph's shape took, when it ran before on this server.
    pub expected: Option<Expected>,
    uses_progress_state: bool,
    last_progress_was_ours: bool,
    early: Vec<ServerMessage>,
}

impl Job {
    /// A job for `workflow`, to be submitted as `prompt_id`.
    pub fn new(workflow: &Workflow, prompt_id: PromptId) -> Self {
        let nodes: Vec<NodeRun> = workflow
            .execution_order()
            .into_iter()
            .map(|id| {
                let mut node = NodeRun::new(
                    id.clone(),
                    workflow.class_type(id.as_str()).unwrap_or_default(),
                    workflow.title(id.as_str()),
                );
                node.sources = workflow.sources(id.as_str());
                node
            })
            .collect();
        let index = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.clone(), i))
            .collect();
        Self {
            prompt_id,
            number: None,
            phase: Phase::Connecting,
            nodes,
            index,
            queue_remaining: None,
            queue_position: None,
            step: None,
            outputs: Vec::new(),
            error: None,
            interrupted_node: None,
            previews: 0,
            latest_preview: None,
            latest_preview_node: None,
            websocket_images: 0,
            submitted_at: None,
            accepted_at: None,
            started_at: None,
            finished_at: None,
            pending_outcome: None,
            last_heard: None,
            expected: None,
            uses_progress_state: false,
            last_progress_was_ours: false,
            early: Vec::new(),
        }
    }

    pub fn node(&self, id: &NodeId) -> Option<&NodeRun> {
        self.index.get(id).map(|&i| &self.nodes[i])
    }

    fn node_mut(&mut self, id: &NodeId) -> Option<&mut NodeRun> {
        self.index.get(id).map(|&i| &mut self.nodes[i])
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Finished(_))
    }

    pub fn outcome(&self) -> Option<Outcome> {
        match self.phase {
            Phase::Finished(outcome) => Some(outcome),
            _ => None,
        }
    }

    /// A terminal message came (at the given time) but not yet the final `executing null`.
    pub fn awaiting_end(&self) -> Option<(Outcome, Instant)> {
        if self.is_finished() {
            None
        } else {
            self.pending_outcome
        }
    }

    /// Ends the run with another outcome than the server's words imply (an interrupt we
    /// sent because time ran out is a timeout).
    pub fn reclassify(&mut self, outcome: Outcome) {
        if self.is_finished() {
            self.phase = Phase::Finished(outcome);
        }
    }

    /// The POST is about to go out.
    pub fn submitting(&mut self, at: Instant) {
        self.phase = Phase::Submitting;
        self.submitted_at = Some(at);
    }

    /// The server accepted the prompt. Replays messages that arrived before the answer
    /// when the server chose another id than ours.
    pub fn submitted(&mut self, prompt_id: PromptId, number: f64, at: Instant) -> Vec<Notice> {
        self.number = Some(number);
        self.accepted_at = Some(at);
        if self.phase == Phase::Submitting || self.phase == Phase::Connecting {
            self.phase = Phase::Queued;
        }
        let early = std::mem::take(&mut self.early);
        if prompt_id == self.prompt_id {
            return Vec::new();
        }
        self.prompt_id = prompt_id;
        early
            .iter()
            .filter_map(|message| self.apply(message, at))
            .collect()
    }

    /// What the server's history says ran, for a run whose socket missed it (a drop, or
    /// another client on our id): nodes with outputs and everything they were made from
    /// ran, cached nodes came from the cache. So no node that made an output is ever
    /// called skipped.
    pub fn absorb_history(&mut self, produced: &[NodeId], cached: &[NodeId], at: Instant) {
        for id in cached {
            if let Some(node) = self.index.get(id).map(|&i| &mut self.nodes[i])
                && node.state == NodeState::Pending
            {
                node.state = NodeState::Cached;
            }
        }
        let mut ran: Vec<NodeId> = produced.to_vec();
        let mut seen: std::collections::HashSet<NodeId> = std::collections::HashSet::new();
        while let Some(id) = ran.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            let Some(&i) = self.index.get(&id) else {
                continue;
            };
            let node = &mut self.nodes[i];
            if matches!(node.state, NodeState::Pending | NodeState::Running) {
                node.end(NodeState::Done, at);
            }
            ran.extend(node.sources.iter().cloned());
        }
    }

    /// Ends the run for a reason the server did not send (rejected, lost, timeout).
    pub fn finish(&mut self, outcome: Outcome, at: Instant) -> Option<Notice> {
        if self.is_finished() {
            return None;
        }
        self.close_nodes(outcome, at);
        self.phase = Phase::Finished(outcome);
        self.finished_at = Some(at);
        Some(Notice::Finished(outcome))
    }

    /// Nodes done or cached, out of the nodes that will run.
    pub fn graph_counts(&self) -> (usize, usize) {
        let total = self
            .nodes
            .iter()
            .filter(|n| n.state != NodeState::Skipped)
            .count();
        let done = self
            .nodes
            .iter()
            .filter(|n| matches!(n.state, NodeState::Done | NodeState::Cached))
            .count();
        (done, total)
    }

    /// Nodes whose results came from the server's cache.
    pub fn cached_count(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| n.state == NodeState::Cached)
            .count()
    }

    /// The whole graph's progress in 0..=1, counting the partial progress of the nodes
    /// that ran but did not finish.
    pub fn graph_fraction(&self) -> f64 {
        if self.outcome() == Some(Outcome::Success) {
            return 1.0;
        }
        let (done, total) = self.graph_counts();
        if total == 0 {
            return 0.0;
        }
        // A node that was stopped or failed keeps the steps it made: the bar must not
        // go back when a run is interrupted.
        let partial: f64 = self
            .nodes
            .iter()
            .filter(|n| {
                matches!(
                    n.state,
                    NodeState::Running | NodeState::Interrupted | NodeState::Failed
                )
            })
            .map(NodeRun::fraction)
            .sum();
        ((done as f64 + partial) / total as f64).clamp(0.0, 1.0)
    }

    /// Is this message about our prompt? Messages without a prompt id are judged by kind.
    fn is_ours(&self, message: &ServerMessage) -> bool {
        match message.prompt_id() {
            Some(id) => *id == self.prompt_id,
            None => true,
        }
    }

    /// Absorbs one text message stamped with the time it arrived.
    pub fn apply(&mut self, message: &ServerMessage, at: Instant) -> Option<Notice> {
        if !self.is_ours(message) {
            if let ServerMessage::Progress(_) = message {
                self.last_progress_was_ours = false;
            }
            if self.phase == Phase::Submitting && self.early.len() < EARLY_MESSAGE_CAP {
                self.early.push(message.clone());
            }
            return None;
        }
        if message.prompt_id().is_some() {
            self.last_heard = Some(at);
        }
        if self.is_finished() {
            if let ServerMessage::Status(status) = message {
                self.queue_remaining = status.queue_remaining().or(self.queue_remaining);
            }
            return None;
        }
        match message {
            ServerMessage::Status(status) => {
                self.queue_remaining = status.queue_remaining().or(self.queue_remaining);
                None
            }
            ServerMessage::ExecutionStart(_) => {
                self.begin(at);
                Some(Notice::Started)
            }
            ServerMessage::ExecutionCached(cached) => {
                self.begin(at);
                let mut ours = Vec::new();
                for id in &cached.nodes {
                    if let Some(node) = self.node_mut(id) {
                        node.state = NodeState::Cached;
                        ours.push(id.clone());
                    }
                }
                Some(Notice::Cached(ours))
            }
            ServerMessage::Executing(executing) => self.on_executing(executing, at),
            ServerMessage::Progress(progress) => self.on_progress(progress, at),
            ServerMessage::ProgressState(state) => {
                self.on_progress_state(state, at);
                None
            }
            ServerMessage::Executed(executed) => self.on_executed(executed, at),
            ServerMessage::ExecutionSuccess(_) => {
                self.pending_outcome = Some((Outcome::Success, at));
                None
            }
            ServerMessage::ExecutionError(error) => self.on_error(error, at),
            ServerMessage::ExecutionInterrupted(interrupted) => {
                self.pending_outcome = Some((Outcome::Interrupted, at));
                self.interrupted_node = interrupted.node_id.clone();
                if let Some(node) = interrupted
                    .node_id
                    .as_ref()
                    .and_then(|id| self.node_mut(id))
                {
                    node.end(NodeState::Interrupted, at);
                }
                Some(Notice::Interrupted {
                    node: interrupted.node_id.clone(),
                })
            }
            ServerMessage::FeatureFlags(_)
            | ServerMessage::Logs(_)
            | ServerMessage::Other { .. } => None,
        }
    }

    fn begin(&mut self, at: Instant) {
        if matches!(
            self.phase,
            Phase::Connecting | Phase::Submitting | Phase::Queued
        ) {
            self.phase = Phase::Running;
            self.queue_position = Some(0);
        }
        self.started_at.get_or_insert(at);
    }

    fn on_executing(&mut self, executing: &messages::Executing, at: Instant) -> Option<Notice> {
        let Some(node_id) = executing.graph_node().cloned() else {
            // `node: null` is the definitive end (after the history entry exists). A bare
            // one without our prompt id would be someone else's.
            executing.prompt_id.as_ref()?;
            let outcome = self
                .pending_outcome
                .map(|(o, _)| o)
                .unwrap_or(if self.error.is_some() {
                    Outcome::Error
                } else {
                    Outcome::Success
                });
            return self.finish(outcome, at);
        };
        // The reconnect variant has no prompt id: it is ours only if ours is running.
        if executing.prompt_id.is_none() && self.phase != Phase::Running {
            return None;
        }
        self.begin(at);
        if !self.uses_progress_state {
            // Without progress_state, the start of a node ends the previous one.
            for node in &mut self.nodes {
                if node.state == NodeState::Running && node.id != node_id {
                    node.end(NodeState::Done, at);
                }
            }
        }
        let node = self.node_mut(&node_id)?;
        node.start(at);
        if self.step.as_ref().is_some_and(|s| s.node != node_id) {
            self.step = None;
        }
        Some(Notice::NodeStarted(node_id))
    }

    fn on_progress(&mut self, progress: &messages::Progress, at: Instant) -> Option<Notice> {
        let node_id = progress
            .node
            .clone()
            .or_else(|| self.step.as_ref().map(|s| s.node.clone()))?;
        // Ephemeral ids (`12.0.0.3`) are not in the graph: keep the step under that id.
        self.last_progress_was_ours = true;
        self.begin(at);
        let (value, max) = (progress.value, progress.max);
        let step = match self.step.as_mut() {
            Some(step) if step.node == node_id => step,
            _ => self.step.insert(StepProgress {
                node: node_id.clone(),
                value,
                max,
                rate: StepRate::default(),
            }),
        };
        if step.max != max {
            step.rate = StepRate::default();
        }
        step.value = value;
        step.max = max;
        step.rate.observe(value, at);
        if let Some(node) = self.node_mut(&node_id) {
            node.start(at);
            node.value = value;
            node.max = max;
        }
        Some(Notice::Progress {
            node: node_id,
            value,
            max,
        })
    }

    fn on_progress_state(&mut self, state: &messages::ProgressState, at: Instant) {
        self.uses_progress_state = true;
        self.begin(at);
        for entry in &state.nodes {
            let id = entry.graph_node();
            let Some(node) = self.node_mut(id) else {
                continue;
            };
            match entry.state {
                NodeRunState::Finished if node.state != NodeState::Cached => {
                    node.start(at);
                    node.end(NodeState::Done, at);
                }
                NodeRunState::Running if node.state == NodeState::Pending => node.start(at),
                _ => {}
            }
            if node.state == NodeState::Running
                && let (Some(value), Some(max)) = (entry.value, entry.max)
            {
                node.value = value;
                node.max = max;
            }
        }
    }

    fn on_executed(&mut self, executed: &messages::Executed, at: Instant) -> Option<Notice> {
        let node_id = executed.graph_node().clone();
        if !self.uses_progress_state
            && let Some(node) = self.node_mut(&node_id)
            && node.state == NodeState::Running
        {
            node.end(NodeState::Done, at);
        }
        let output = NodeOutput::from_value(executed.output.as_ref()?);
        if output.is_empty() {
            return None;
        }
        match self.outputs.iter_mut().find(|(id, _)| *id == node_id) {
            Some((_, existing)) => {
                for file in &output.files {
                    if !existing.files.contains(file) {
                        existing.files.push(file.clone());
                    }
                }
                existing.texts.extend(output.texts.iter().cloned());
            }
            None => self.outputs.push((node_id.clone(), output.clone())),
        }
        Some(Notice::Outputs {
            node: node_id,
            output,
        })
    }

    fn on_error(&mut self, error: &messages::ExecutionError, at: Instant) -> Option<Notice> {
        if !error.is_terminal() {
            return Some(Notice::Blocked {
                node: error.node_id.clone(),
                message: error.exception_message.clone(),
            });
        }
        let run_error = RunError::from(error);
        if let Some(node) = error.node_id.as_ref().and_then(|id| self.node_mut(id)) {
            node.start(at);
            node.end(NodeState::Failed, at);
        }
        self.pending_outcome = Some((Outcome::Error, at));
        self.error = Some(run_error.clone());
        Some(Notice::Failed(run_error))
    }

    /// Closes what is still open when the run ends.
    fn close_nodes(&mut self, outcome: Outcome, at: Instant) {
        for node in &mut self.nodes {
            match (node.state, outcome) {
                (NodeState::Running, Outcome::Success) => node.end(NodeState::Done, at),
                (NodeState::Running, Outcome::Error) => node.end(NodeState::Failed, at),
                (NodeState::Running, _) => node.end(NodeState::Interrupted, at),
                // A successful run never needed the nodes it did not reach.
                (NodeState::Pending, Outcome::Success) => node.state = NodeState::Skipped,
                _ => {}
            }
        }
        if outcome == Outcome::Success
            && let Some(step) = &mut self.step
        {
            step.value = step.max;
        }
    }

    /// Absorbs a binary preview. Type-4 frames name their prompt; type-1 frames belong to
    /// the most recent `progress` on the socket.
    pub fn apply_preview(&mut self, preview: &Preview, at: Instant) -> Option<Notice> {
        if self.is_finished() {
            return None;
        }
        let node = match &preview.meta {
            Some(meta) => {
                if meta.prompt_id.as_ref() != Some(&self.prompt_id) {
                    return None;
                }
                meta.display_node_id
                    .clone()
                    .or_else(|| meta.node_id.clone())
            }
            None => {
                if !self.last_progress_was_ours || self.phase != Phase::Running {
                    return None;
                }
                self.step.as_ref().map(|s| s.node.clone())
            }
        };
        self.begin(at);
        self.last_heard = Some(at);
        self.latest_preview = Some(preview.clone());
        self.latest_preview_node = node.clone();
        // `SaveImageWebsocket` sends its results only as these frames: they are outputs.
        if let Some(id) = node.as_ref()
            && self
                .node(id)
                .is_some_and(|n| n.class_type == WEBSOCKET_OUTPUT)
        {
            self.websocket_images += 1;
            return Some(Notice::Image {
                node: id.clone(),
                format: preview.format,
                image: preview.image.clone(),
                index: self.websocket_images,
            });
        }
        self.previews += 1;
        Some(Notice::Preview {
            node,
            format: preview.format,
            bytes: preview.image.len(),
        })
    }

    /// Whether the latest preview is the last its node will send: the node no longer runs,
    /// or the run is over. A view that skips previews to save bytes must still show it.
    pub fn preview_is_final(&self) -> bool {
        self.is_finished()
            || self
                .latest_preview_node
                .as_ref()
                .is_some_and(|id| self.node(id).is_none_or(|n| n.state != NodeState::Running))
    }

    /// How long the whole graph is expected to take, when its shape ran before.
    pub fn expected_total(&self) -> Option<std::time::Duration> {
        Some(self.expected.as_ref()?.total(&self.nodes))
    }

    /// The expected time left while the run goes on, when its shape ran before.
    pub fn expected_remaining(&self, now: Instant) -> Option<std::time::Duration> {
        let expected = self.expected.as_ref()?;
        (self.phase == Phase::Running).then(|| expected.remaining(&self.nodes, now))
    }

    /// Per-node durations of the nodes that ran, in graph order.
    pub fn durations(&self) -> impl Iterator<Item = (&NodeRun, std::time::Duration)> {
        self.nodes
            .iter()
            .filter_map(|n| n.duration().map(|d| (n, d)))
    }

    /// All files announced so far, with the node that made them.
    pub fn files(&self) -> impl Iterator<Item = (&NodeId, &crate::comfy::FileRef)> {
        self.outputs
            .iter()
            .flat_map(|(node, out)| out.files.iter().map(move |f| (node, f)))
    }
}

#[cfg(test)]
mod tests;
