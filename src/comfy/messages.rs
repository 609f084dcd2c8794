//! Typed WebSocket text messages (protocol reference §3.4). Unknown types are kept as
//! `Other`, never an error; a malformed message fails alone and never the stream.

use super::ids::{NodeId, PromptId};
use super::lenient;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// One parsed text frame from `/ws`.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerMessage {
    Status(Status),
    FeatureFlags(Value),
    ExecutionStart(ExecutionStart),
    ExecutionCached(ExecutionCached),
    Executing(Executing),
    Progress(Progress),
    ProgressState(ProgressState),
    Executed(Executed),
    ExecutionSuccess(ExecutionSuccess),
    ExecutionError(ExecutionError),
    ExecutionInterrupted(ExecutionInterrupted),
    Logs(Logs),
    /// A type this client does not know (custom nodes, newer servers). Kept, not an error.
    Other {
        kind: String,
        data: Value,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("not a JSON message object: {0}")]
    Envelope(serde_json::Error),
    #[error("malformed `{kind}` message: {source}")]
    Data {
        kind: String,
        source: serde_json::Error,
    },
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

impl ServerMessage {
    /// Parses one text frame. Tolerates ComfyUI's `NaN`/`Infinity` tokens.
    pub fn parse(text: &str) -> Result<Self, MessageError> {
        match serde_json::from_str::<Envelope>(text) {
            Ok(envelope) => Self::from_envelope(&envelope.kind, envelope.data),
            Err(strict) => {
                let fixed = lenient::replace_non_finite(text);
                if matches!(fixed, std::borrow::Cow::Borrowed(_)) {
                    return Err(MessageError::Envelope(strict));
                }
                let envelope: Envelope =
                    serde_json::from_str(&fixed).map_err(MessageError::Envelope)?;
                Self::from_envelope(&envelope.kind, envelope.data)
            }
        }
    }

    fn from_envelope(kind: &str, data: Option<&RawValue>) -> Result<Self, MessageError> {
        let raw = data.map_or("null", RawValue::get);
        fn typed<T: for<'de> Deserialize<'de>>(kind: &str, raw: &str) -> Result<T, MessageError> {
            serde_json::from_str(raw).map_err(|source| MessageError::Data {
                kind: kind.to_owned(),
                source,
            })
        }
        Ok(match kind {
            "status" => Self::Status(typed(kind, raw)?),
            "feature_flags" => Self::FeatureFlags(typed(kind, raw)?),
            "execution_start" => Self::ExecutionStart(typed(kind, raw)?),
            "execution_cached" => Self::ExecutionCached(typed(kind, raw)?),
            "executing" => Self::Executing(typed(kind, raw)?),
            "progress" => Self::Progress(typed(kind, raw)?),
            "progress_state" => Self::ProgressState(typed(kind, raw)?),
            "executed" => Self::Executed(typed(kind, raw)?),
            "execution_success" => Self::ExecutionSuccess(typed(kind, raw)?),
            "execution_error" => Self::ExecutionError(typed(kind, raw)?),
            "execution_interrupted" => Self::ExecutionInterrupted(typed(kind, raw)?),
            "logs" => Self::Logs(typed(kind, raw)?),
            other => Self::Other {
                kind: other.to_owned(),
                data: serde_json::from_str(raw).unwrap_or(Value::Null),
            },
        })
    }

    /// The prompt this message is about, when it says so.
    pub fn prompt_id(&self) -> Option<&PromptId> {
        match self {
            Self::ExecutionStart(m) => Some(&m.prompt_id),
            Self::ExecutionCached(m) => Some(&m.prompt_id),
            Self::Executing(m) => m.prompt_id.as_ref(),
            Self::Progress(m) => m.prompt_id.as_ref(),
            Self::ProgressState(m) => Some(&m.prompt_id),
            Self::Executed(m) => Some(&m.prompt_id),
            Self::ExecutionSuccess(m) => Some(&m.prompt_id),
            Self::ExecutionError(m) => Some(&m.prompt_id),
            Self::ExecutionInterrupted(m) => Some(&m.prompt_id),
            Self::Status(_) | Self::FeatureFlags(_) | Self::Logs(_) | Self::Other { .. } => None,
        }
    }

    /// The message's `type` string as the server sent it.
    pub fn kind(&self) -> &str {
        match self {
            Self::Status(_) => "status",
            Self::FeatureFlags(_) => "feature_flags",
            Self::ExecutionStart(_) => "execution_start",
            Self::ExecutionCached(_) => "execution_cached",
            Self::Executing(_) => "executing",
            Self::Progress(_) => "progress",
            Self::ProgressState(_) => "progress_state",
            Self::Executed(_) => "executed",
            Self::ExecutionSuccess(_) => "execution_success",
            Self::ExecutionError(_) => "execution_error",
            Self::ExecutionInterrupted(_) => "execution_interrupted",
            Self::Logs(_) => "logs",
            Self::Other { kind, .. } => kind,
        }
    }
}

/// Timestamps are integer milliseconds, but any number is accepted.
pub type Millis = f64;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Status {
    #[serde(default)]
    pub status: Option<StatusBody>,
    /// Our effective client id; only in the first status after connecting.
    #[serde(default)]
    pub sid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StatusBody {
    #[serde(default)]
    pub exec_info: Option<ExecInfo>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ExecInfo {
    #[serde(default)]
    pub queue_remaining: Option<f64>,
}

impl Status {
    pub fn queue_remaining(&self) -> Option<u64> {
        let remaining = self.status.as_ref()?.exec_info.as_ref()?.queue_remaining?;
        (remaining.is_finite() && remaining >= 0.0).then_some(remaining as u64)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ExecutionStart {
    pub prompt_id: PromptId,
    #[serde(default)]
    pub timestamp: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ExecutionCached {
    pub prompt_id: PromptId,
    #[serde(default)]
    pub nodes: Vec<NodeId>,
    #[serde(default)]
    pub timestamp: Option<Millis>,
}

/// `executing`: a node started, or (with `node: null`) the prompt is completely done.
/// After a reconnect the server sends a bare `{node}` with no prompt id.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Executing {
    #[serde(default)]
    pub node: Option<NodeId>,
    #[serde(default)]
    pub display_node: Option<NodeId>,
    #[serde(default)]
    pub prompt_id: Option<PromptId>,
}

impl Executing {
    /// The node of the submitted graph to highlight (`display_node` when given).
    pub fn graph_node(&self) -> Option<&NodeId> {
        self.display_node.as_ref().or(self.node.as_ref())
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Progress {
    pub value: f64,
    pub max: f64,
    #[serde(default)]
    pub prompt_id: Option<PromptId>,
    #[serde(default)]
    pub node: Option<NodeId>,
}

/// A snapshot of every node touched so far in the prompt, re-sent on every step: the
/// hottest message of a big graph, so only what the client reads is kept.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProgressState {
    pub prompt_id: PromptId,
    #[serde(default, deserialize_with = "nodes_in_order")]
    pub nodes: Vec<NodeProgress>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeRunState {
    Running,
    Finished,
    /// `pending` and `error` are defined upstream but never sent; anything else too.
    #[default]
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeProgress {
    /// The key in the snapshot (the node's unique, possibly ephemeral, id).
    pub key: NodeId,
    pub value: Option<f64>,
    pub max: Option<f64>,
    pub state: NodeRunState,
    /// The node of the submitted graph this progress belongs to.
    pub display_node_id: Option<NodeId>,
}

impl NodeProgress {
    pub fn graph_node(&self) -> &NodeId {
        self.display_node_id.as_ref().unwrap_or(&self.key)
    }
}

#[derive(Deserialize)]
struct NodeProgressBody {
    #[serde(default)]
    value: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    state: NodeRunState,
    #[serde(default)]
    display_node_id: Option<NodeId>,
}

/// Reads the snapshot's `{id: progress}` object into a list, in the order sent.
fn nodes_in_order<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<NodeProgress>, D::Error> {
    struct Nodes;
    impl<'de> serde::de::Visitor<'de> for Nodes {
        type Value = Vec<NodeProgress>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object of node progress")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut nodes = Vec::with_capacity(map.size_hint().unwrap_or(8));
            while let Some((key, body)) = map.next_entry::<String, NodeProgressBody>()? {
                nodes.push(NodeProgress {
                    key: NodeId(key),
                    value: body.value,
                    max: body.max,
                    state: body.state,
                    display_node_id: body.display_node_id,
                });
            }
            Ok(nodes)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(Nodes)
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Executed {
    pub node: NodeId,
    #[serde(default)]
    pub display_node: Option<NodeId>,
    /// `null` for a cached output node without UI output.
    #[serde(default)]
    pub output: Option<Value>,
    pub prompt_id: PromptId,
}

impl Executed {
    pub fn graph_node(&self) -> &NodeId {
        self.display_node.as_ref().unwrap_or(&self.node)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ExecutionSuccess {
    pub prompt_id: PromptId,
    #[serde(default)]
    pub timestamp: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ExecutionError {
    pub prompt_id: PromptId,
    #[serde(default)]
    pub node_id: Option<NodeId>,
    #[serde(default)]
    pub node_type: Option<String>,
    #[serde(default)]
    pub executed: Vec<NodeId>,
    #[serde(default)]
    pub exception_message: String,
    #[serde(default)]
    pub exception_type: String,
    #[serde(default)]
    pub traceback: Vec<String>,
    /// `{}` or `[]` depending on when the failure happened; kept as sent.
    #[serde(default)]
    pub current_inputs: Value,
    #[serde(default)]
    pub timestamp: Option<Millis>,
}

impl ExecutionError {
    /// An execution blocker reports an error but the run goes on (§3.6.5): it has no
    /// timestamp and the type `ExecutionBlocked`.
    pub fn is_terminal(&self) -> bool {
        !(self.exception_type == "ExecutionBlocked" && self.timestamp.is_none())
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ExecutionInterrupted {
    pub prompt_id: PromptId,
    #[serde(default)]
    pub node_id: Option<NodeId>,
    #[serde(default)]
    pub node_type: Option<String>,
    #[serde(default)]
    pub executed: Vec<NodeId>,
    #[serde(default)]
    pub timestamp: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Logs {
    #[serde(default)]
    pub entries: Vec<LogEntry>,
    /// The server terminal's size: set only when it changed (and in `/internal/logs/raw`).
    #[serde(default)]
    pub size: Option<TermSize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct TermSize {
    #[serde(default)]
    pub cols: u32,
    #[serde(default)]
    pub rows: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LogEntry {
    #[serde(default)]
    pub t: String,
    #[serde(default)]
    pub m: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_type_is_kept_not_an_error() {
        let m = ServerMessage::parse(r#"{"type":"crystools.monitor","data":{"cpu":3}}"#)
            .expect("parses");
        assert_eq!(m.kind(), "crystools.monitor");
        assert!(matches!(m, ServerMessage::Other { .. }));
    }

    #[test]
    fn bare_executing_after_reconnect_has_no_prompt() {
        let m = ServerMessage::parse(r#"{"type":"executing","data":{"node":"1"}}"#).expect("ok");
        let ServerMessage::Executing(e) = m else {
            panic!("wrong variant")
        };
        assert_eq!(e.graph_node(), Some(&NodeId::from("1")));
        assert!(e.prompt_id.is_none());
    }

    #[test]
    fn nan_inside_a_known_message_is_tolerated() {
        let text = r#"{"type":"execution_error","data":{"prompt_id":"p","node_id":"1","node_type":"X","executed":[],"exception_message":"m","exception_type":"E","traceback":[],"current_inputs":{"cfg":[NaN]},"current_outputs":[],"timestamp":1}}"#;
        let m = ServerMessage::parse(text).expect("lenient");
        assert!(matches!(m, ServerMessage::ExecutionError(ref e) if e.is_terminal()));
    }

    #[test]
    fn a_malformed_known_message_is_an_error_naming_its_type() {
        let err = ServerMessage::parse(r#"{"type":"progress","data":{"value":"x"}}"#)
            .expect_err("bad progress");
        assert!(err.to_string().contains("progress"), "{err}");
    }

    #[test]
    fn blocker_errors_are_not_terminal() {
        let text = r#"{"type":"execution_error","data":{"prompt_id":"p","node_id":"1","node_type":"X","executed":[],"exception_message":"Execution Blocked: no","exception_type":"ExecutionBlocked","traceback":[],"current_inputs":[],"current_outputs":[]}}"#;
        let ServerMessage::ExecutionError(e) = ServerMessage::parse(text).expect("ok") else {
            panic!("wrong variant")
        };
        assert!(!e.is_terminal());
    }
}
