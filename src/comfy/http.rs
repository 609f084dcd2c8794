//! The HTTP routes of a ComfyUI server (protocol reference §4), typed at the boundary.
//! Custom headers ride on every request; no `Origin` is ever sent (the server's origin
//! check answers 403 to a mismatched one).

use super::endpoints::ServerUrl;
use super::ids::{ClientId, NodeId, PromptId};
use super::listing::{HistoryItem, PromptRecord, QueueListing};
use super::messages::Logs;
use super::node_info::NodeInfo;
use super::outputs::{FileRef, NodeOutput};
use super::system::{Features, SystemStats};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Response, StatusCode};
use serde_json::{Map, Value, json};
use std::time::Duration;

mod upload;
pub use upload::{UploadKind, Uploaded};

/// How long a small JSON request may take before the server counts as unresponsive.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot reach the server at {url}: {reason}")]
    Unreachable {
        url: String,
        reason: String,
        /// The request may have reached the server before the failure (it was not a
        /// failure to connect): a prompt may be queued although no answer came.
        maybe_sent: bool,
    },
    #[error("{route} answered HTTP {status}{}", body_suffix(.body))]
    Status {
        route: String,
        status: u16,
        body: String,
    },
    #[error("{route} sent an unexpected body: {reason}")]
    Decode { route: String, reason: String },
    #[error("the server rejected the prompt: {0}")]
    Rejected(Rejection),
    #[error(
        "{route} sent {}, over the limit of {}",
        size.map_or_else(|| format!("more than {}", crate::ui::format::bytes(*limit)), crate::ui::format::bytes),
        crate::ui::format::bytes(*limit)
    )]
    TooLarge {
        route: String,
        /// The announced size, when the server gave one.
        size: Option<u64>,
        limit: u64,
    },
    /// Any 4xx to `POST /upload/image` or `/upload/mask`: nothing was stored. The
    /// message names the local file.
    #[error("{rejection}")]
    UploadRefused {
        /// The local file, as a person should see it.
        file: String,
        /// Boxed: every result of this client carries the error's size.
        rejection: Box<Rejection>,
    },
    /// The local file to upload could not be read (before or while it was sent).
    #[error("cannot read {path}: {reason}")]
    File { path: String, reason: String },
}

fn body_suffix(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        String::new()
    } else {
        let short: String = body.chars().take(200).collect();
        format!(": {short}")
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("header `{header}` must look like `Name: value`")]
pub struct HeaderError {
    pub header: String,
}

/// Parses `--header 'Name: value'` arguments.
pub fn parse_headers(headers: &[String]) -> Result<HeaderMap, HeaderError> {
    let mut map = HeaderMap::new();
    for header in headers {
        let bad = || HeaderError {
            header: header.clone(),
        };
        let (name, value) = header.split_once(':').ok_or_else(bad)?;
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| bad())?;
        let value = HeaderValue::from_str(value.trim()).map_err(|_| bad())?;
        map.append(name, value);
    }
    Ok(map)
}

/// A submitted prompt, as `POST /prompt` answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    pub prompt_id: PromptId,
    pub number: f64,
    /// A 200 can still carry node errors: those outputs will not run.
    pub node_errors: Vec<NodeError>,
}

/// A 400 from `POST /prompt`: the prompt was not queued.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rejection {
    pub kind: String,
    pub message: String,
    pub details: String,
    pub node_errors: Vec<NodeError>,
    /// The HTTP status the refusal came with (400 for validation errors).
    pub http_status: u16,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if !self.details.is_empty() {
            write!(f, " ({})", self.details)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeError {
    pub node_id: NodeId,
    pub class_type: String,
    pub errors: Vec<NodeErrorItem>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeErrorItem {
    pub kind: String,
    pub message: String,
    pub details: String,
    pub input_name: Option<String>,
}

fn str_field(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

impl Rejection {
    /// Reads a 400 body; tolerates old servers' string `error` and list `node_errors`.
    pub fn from_body(body: &Value) -> Self {
        let error = body.get("error").unwrap_or(&Value::Null);
        let (kind, message, details) = match error {
            Value::String(text) => (String::new(), text.clone(), String::new()),
            Value::Object(_) => (
                str_field(error, "type"),
                str_field(error, "message"),
                str_field(error, "details"),
            ),
            _ => (String::new(), "prompt rejected".to_owned(), String::new()),
        };
        Self {
            kind,
            message,
            details,
            node_errors: parse_node_errors(body.get("node_errors")),
            http_status: 400,
        }
    }
}

fn parse_node_errors(value: Option<&Value>) -> Vec<NodeError> {
    let Some(Value::Object(map)) = value else {
        return Vec::new();
    };
    map.iter()
        .map(|(node_id, entry)| NodeError {
            node_id: NodeId::from(node_id.as_str()),
            class_type: str_field(entry, "class_type"),
            errors: entry
                .get("errors")
                .and_then(Value::as_array)
                .map(|errors| {
                    errors
                        .iter()
                        .map(|e| NodeErrorItem {
                            kind: str_field(e, "type"),
                            message: str_field(e, "message"),
                            details: str_field(e, "details"),
                            input_name: e
                                .get("extra_info")
                                .and_then(|x| x.get("input_name"))
                                .and_then(Value::as_str)
                                .map(str::to_owned),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

/// One finished prompt from `/history/{id}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistoryEntry {
    /// Outputs per node of the submitted graph (`meta` maps ephemeral ids back).
    pub outputs: Vec<(NodeId, NodeOutput)>,
    pub status_str: String,
    pub completed: bool,
    /// The name of the last lifecycle message: tells an interrupt from an error.
    pub last_message: Option<String>,
    /// The recorded `execution_error`, for a run that failed while we were away.
    pub error: Option<super::messages::ExecutionError>,
    /// Nodes the recorded `execution_cached` message named.
    pub cached: Vec<NodeId>,
}

impl HistoryEntry {
    pub fn from_value(entry: &Value) -> Self {
        let meta = entry.get("meta");
        let outputs = entry
            .get("outputs")
            .and_then(Value::as_object)
            .map(|outputs| {
                outputs
                    .iter()
                    .map(|(node, output)| {
                        let display = meta
                            .and_then(|m| m.get(node))
                            .and_then(|m| m.get("display_node"))
                            .and_then(Value::as_str)
                            .unwrap_or(node);
                        (NodeId::from(display), NodeOutput::from_value(output))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let status = entry.get("status").unwrap_or(&Value::Null);
        Self {
            outputs,
            status_str: str_field(status, "status_str"),
            completed: status
                .get("completed")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            last_message: status
                .get("messages")
                .and_then(Value::as_array)
                .and_then(|m| m.last())
                .and_then(|m| m.get(0))
                .and_then(Value::as_str)
                .map(str::to_owned),
            error: status
                .get("messages")
                .and_then(Value::as_array)
                .and_then(|messages| {
                    messages
                        .iter()
                        .find(|m| m.get(0).and_then(Value::as_str) == Some("execution_error"))
                })
                .and_then(|m| m.get(1))
                .and_then(|data| serde_json::from_value(data.clone()).ok()),
            cached: status
                .get("messages")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|m| m.get(0).and_then(Value::as_str) == Some("execution_cached"))
                .filter_map(|m| m.get(1)?.get("nodes")?.as_array())
                .flatten()
                .filter_map(Value::as_str)
                .map(NodeId::from)
                .collect(),
        }
    }

    pub fn files(&self) -> impl Iterator<Item = (&NodeId, &FileRef)> {
        self.outputs
            .iter()
            .flat_map(|(node, out)| out.files.iter().map(move |f| (node, f)))
    }
}

/// `GET /queue`, reduced to what a client needs: which prompts run and wait.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueueSnapshot {
    pub running: Vec<PromptId>,
    /// In execution order (sorted by `(number, prompt_id)`, not the heap order sent).
    pub pending: Vec<PromptId>,
    /// When the client asked (set by whoever asked): an answer to a question asked before
    /// a prompt reached the server says nothing of that prompt.
    pub asked: Option<std::time::Instant>,
}

impl QueueSnapshot {
    pub fn from_value(value: &Value) -> Self {
        fn items(value: &Value, key: &str) -> Vec<(f64, PromptId)> {
            value
                .get(key)
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|item| {
                            let number = item.get(0)?.as_f64()?;
                            let id = item.get(1)?.as_str()?;
                            Some((number, PromptId::from(id)))
                        })
                        .collect()
                })
                .unwrap_or_default()
        }
        let mut pending = items(value, "queue_pending");
        pending.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        Self {
            asked: None,
            running: items(value, "queue_running")
                .into_iter()
                .map(|(_, id)| id)
                .collect(),
            pending: pending.into_iter().map(|(_, id)| id).collect(),
        }
    }

    /// 0 when running, n when n prompts run or wait ahead of it, None when absent.
    pub fn position(&self, prompt: &PromptId) -> Option<usize> {
        if self.running.contains(prompt) {
            return Some(0);
        }
        self.pending
            .iter()
            .position(|p| p == prompt)
            .map(|i| i + self.running.len())
    }
}

/// One file under the server's user directory (`GET /userdata`), e.g. a saved workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct UserFile {
    /// Relative to the listed folder, `/`-separated (`portraits/flux-dev.json`).
    pub path: String,
    pub size: Option<u64>,
    /// Seconds since the Unix epoch.
    pub modified: Option<f64>,
}

/// Times above this are milliseconds: as seconds it would be the year 5138.
const MILLISECONDS_FROM: f64 = 1e11;

impl UserFile {
    /// Reads a listing in any of its shapes: path strings (no `full_info`), `full_info`
    /// objects (times in float seconds on 0.3.x servers, integer milliseconds on newer
    /// ones), or `/v2/userdata` entries (directories are skipped).
    pub fn list_from_value(value: &Value) -> Vec<Self> {
        let Some(items) = value.as_array() else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| match item {
                Value::String(path) => Some(Self {
                    path: path.clone(),
                    size: None,
                    modified: None,
                }),
                Value::Object(entry) => {
                    if entry.get("type").and_then(Value::as_str) == Some("directory") {
                        return None;
                    }
                    let path = entry.get("path").and_then(Value::as_str)?;
                    let modified = entry
                        .get("modified")
                        .and_then(Value::as_f64)
                        .map(|t| if t > MILLISECONDS_FROM { t / 1000.0 } else { t });
                    Some(Self {
                        path: path.to_owned(),
                        size: entry.get("size").and_then(Value::as_u64),
                        modified,
                    })
                }
                _ => None,
            })
            .collect()
    }
}

fn expect_shape(
    route: &str,
    body: &Value,
    ok: impl Fn(&Value) -> bool,
    wanted: &str,
) -> Result<(), HttpError> {
    if ok(body) {
        Ok(())
    } else {
        Err(HttpError::Decode {
            route: route.to_owned(),
            reason: format!("expected {wanted}"),
        })
    }
}

/// A JSON list of names; numbers are taken as their text, other items skipped.
fn string_list(route: &str, body: &Value) -> Result<Vec<String>, HttpError> {
    expect_shape(route, body, Value::is_array, "a list of names")?;
    Ok(body
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| match item {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect())
}

/// What to submit with `POST /prompt`.
#[derive(Debug, Clone)]
pub struct SubmitRequest<'a> {
    pub prompt: &'a Map<String, Value>,
    pub client_id: &'a ClientId,
    pub prompt_id: &'a PromptId,
    pub preview_method: Option<&'a str>,
    /// The editable graph the prompt was made from, sent as the web UI sends it
    /// (`extra_pnginfo.workflow`), so that the server's PNGs carry it.
    pub workflow: Option<&'a Value>,
    /// Ahead of everything pending (`front: true`).
    pub front: bool,
}

impl SubmitRequest<'_> {
    pub fn body(&self) -> Value {
        let mut extra_data = Map::new();
        if let Some(method) = self.preview_method {
            extra_data.insert("preview_method".into(), json!(method));
        }
        if let Some(workflow) = self.workflow {
            extra_data.insert("extra_pnginfo".into(), json!({ "workflow": workflow }));
        }
        let mut body = json!({
            "prompt": self.prompt,
            "client_id": self.client_id,
            "prompt_id": self.prompt_id,
            "extra_data": extra_data,
        });
        if self.front {
            body["front"] = json!(true);
        }
        body
    }
}

/// The body that submits a listed prompt again (`f` moves it to the front, `r` re-runs
/// it): its graph and its `extra_data` exactly as the server listed them, under a new
/// id. The client id inside `extra_data` is sent at the top level too, as the web UI
/// does; the server copies that one over `extra_data`'s, so they must agree.
/// `front` makes the server give it a negative number: it runs before every prompt
/// queued without `front` (§4.1).
pub fn resubmit_body(record: &PromptRecord, prompt_id: &PromptId, front: bool) -> Value {
    let mut body = Map::new();
    body.insert("prompt".into(), Value::Object(record.prompt.clone()));
    if let Some(client_id) = record.extra_data.get("client_id") {
        body.insert("client_id".into(), client_id.clone());
    }
    body.insert("prompt_id".into(), json!(prompt_id));
    body.insert(
        "extra_data".into(),
        Value::Object(record.extra_data.clone()),
    );
    if front {
        body.insert("front".into(), Value::Bool(true));
    }
    Value::Object(body)
}

/// What a refusal of `POST /prompt` (any 4xx) says, from its status and body text.
/// A 400 with a JSON body is ComfyUI's own validation answer; anything else (413 for a
/// body over the server's limit, 403 from a proxy, a 400 without JSON) is labelled
/// with its status so that the reader knows it did not come from validation.
fn refusal(status: StatusCode, text: &str) -> Rejection {
    let body: Value = super::lenient::from_str(text).unwrap_or(Value::Null);
    let mut rejection = Rejection::from_body(&body);
    if status != StatusCode::BAD_REQUEST || body.is_null() {
        let reason = if body.is_null() {
            body_suffix(text).trim_start_matches(": ").to_owned()
        } else {
            rejection.message.clone()
        };
        let label = format!(
            "HTTP {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        );
        rejection.message = if reason.is_empty() {
            format!("the server refused the prompt ({})", label.trim_end())
        } else {
            format!(
                "the server refused the prompt ({}): {reason}",
                label.trim_end()
            )
        };
        if rejection.kind.is_empty() {
            rejection.kind = format!("http_{}", status.as_u16());
        }
    }
    rejection.http_status = status.as_u16();
    rejection
}

/// A client for one server. Cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct ComfyClient {
    http: reqwest::Client,
    server: ServerUrl,
}

impl ComfyClient {
    pub fn new(server: ServerUrl, headers: HeaderMap) -> Result<Self, HttpError> {
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("comfy-tui/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Unreachable {
                url: server.as_str().to_owned(),
                reason: e.to_string(),
                maybe_sent: false,
            })?;
        Ok(Self { http, server })
    }

    pub fn server(&self) -> &ServerUrl {
        &self.server
    }

    fn unreachable(&self, error: reqwest::Error) -> HttpError {
        let mut reason = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(inner) = source {
            reason = format!("{reason}: {inner}");
            source = inner.source();
        }
        HttpError::Unreachable {
            url: self.server.as_str().to_owned(),
            reason,
            maybe_sent: !error.is_connect() && !error.is_builder(),
        }
    }

    async fn send(
        &self,
        route: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Response, HttpError> {
        let _ = route;
        request.send().await.map_err(|e| self.unreachable(e))
    }

    async fn expect_ok(&self, route: &str, response: Response) -> Result<Response, HttpError> {
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        Err(HttpError::Status {
            route: route.to_owned(),
            status,
            body,
        })
    }

    async fn json(&self, route: &str, response: Response) -> Result<Value, HttpError> {
        let response = self.expect_ok(route, response).await?;
        let text = response.text().await.map_err(|e| self.unreachable(e))?;
        super::lenient::from_str(&text).map_err(|e| HttpError::Decode {
            route: route.to_owned(),
            reason: e.to_string(),
        })
    }

    async fn get_json(&self, route: &str) -> Result<Value, HttpError> {
        let request = self
            .http
            .get(self.server.route(route))
            .timeout(REQUEST_TIMEOUT);
        let response = self.send(route, request).await?;
        self.json(route, response).await
    }

    async fn post_json(&self, route: &str, body: &Value) -> Result<Response, HttpError> {
        let request = self
            .http
            .post(self.server.route(route))
            .json(body)
            .timeout(REQUEST_TIMEOUT);
        self.send(route, request).await
    }

    /// `POST /prompt`. A 400 becomes [`HttpError::Rejected`] with every node error.
    pub async fn submit(&self, request: &SubmitRequest<'_>) -> Result<Submitted, HttpError> {
        self.post_prompt(&request.body(), request.prompt_id).await
    }

    /// `POST /prompt` with a listed prompt's graph and `extra_data` as they are, under the
    /// new id `prompt_id`, at the front of the queue when `front` (see [`resubmit_body`]).
    /// The listed prompt itself is left alone: moving it means deleting it too. Refusals
    /// are those of [`submit`](Self::submit).
    pub async fn resubmit(
        &self,
        record: &PromptRecord,
        prompt_id: &PromptId,
        front: bool,
    ) -> Result<Submitted, HttpError> {
        self.post_prompt(&resubmit_body(record, prompt_id, front), prompt_id)
            .await
    }

    /// Sends a `POST /prompt` body; `sent_id` is the id it carries, taken as the
    /// prompt's when the server's answer names none.
    async fn post_prompt(&self, body: &Value, sent_id: &PromptId) -> Result<Submitted, HttpError> {
        let response = self.post_json("prompt", body).await?;
        let status = response.status();
        // Any refusal (400 with node errors, 413 for a body over the server's limit, 403
        // from a proxy...) means the prompt was not queued: a rejection, not a lost server.
        if status.is_client_error() {
            let text = response.text().await.map_err(|e| self.unreachable(e))?;
            return Err(HttpError::Rejected(refusal(status, &text)));
        }
        let body = self.json("prompt", response).await?;
        let prompt_id = body
            .get("prompt_id")
            .and_then(Value::as_str)
            .map(PromptId::from)
            // Servers before 2025-07 pick their own id; older ones may omit it.
            .unwrap_or_else(|| sent_id.clone());
        Ok(Submitted {
            prompt_id,
            number: body.get("number").and_then(Value::as_f64).unwrap_or(0.0),
            node_errors: parse_node_errors(body.get("node_errors")),
        })
    }

    /// `GET /history/{id}`: `None` while the prompt is pending or running, or unknown.
    pub async fn history(&self, prompt: &PromptId) -> Result<Option<HistoryEntry>, HttpError> {
        let body = self.get_json(&format!("history/{prompt}")).await?;
        Ok(body.get(prompt.as_str()).map(HistoryEntry::from_value))
    }

    pub async fn queue(&self) -> Result<QueueSnapshot, HttpError> {
        Ok(QueueSnapshot::from_value(&self.get_json("queue").await?))
    }

    /// `POST /interrupt {"prompt_id"}`: stops only our prompt on servers since 2025-09.
    pub async fn interrupt(&self, prompt: &PromptId) -> Result<(), HttpError> {
        let response = self
            .post_json("interrupt", &json!({ "prompt_id": prompt }))
            .await?;
        self.expect_ok("interrupt", response).await.map(drop)
    }

    /// `POST /queue {"delete": [...]}`: removes pending prompts (not the running one).
    pub async fn delete_from_queue(&self, prompts: &[PromptId]) -> Result<(), HttpError> {
        let response = self
            .post_json("queue", &json!({ "delete": prompts }))
            .await?;
        self.expect_ok("queue", response).await.map(drop)
    }

    /// `POST /queue {"clear": true}`: removes every pending prompt, anyone's.
    pub async fn clear_queue(&self) -> Result<(), HttpError> {
        let response = self.post_json("queue", &json!({ "clear": true })).await?;
        self.expect_ok("queue", response).await.map(drop)
    }

    /// `GET /prompt`: the cheapest route, used as a liveness probe.
    pub async fn queue_remaining(&self) -> Result<u64, HttpError> {
        let body = self.get_json("prompt").await?;
        Ok(body
            .pointer("/exec_info/queue_remaining")
            .and_then(Value::as_u64)
            .unwrap_or(0))
    }

    pub async fn system_stats(&self) -> Result<Value, HttpError> {
        self.get_json("system_stats").await
    }

    /// `GET /features`; `None` on servers older than 2025-07 (404).
    pub async fn features(&self) -> Result<Option<Value>, HttpError> {
        match self.get_json("features").await {
            Ok(v) => Ok(Some(v)),
            Err(HttpError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /object_info` or `/object_info/{class}` (`{}` for an unknown class).
    pub async fn object_info(&self, class: Option<&str>) -> Result<Value, HttpError> {
        match class {
            Some(class) => self.get_json(&format!("object_info/{class}")).await,
            None => self.get_json("object_info").await,
        }
    }

    /// `GET /system_stats`, typed: memory, devices, versions.
    pub async fn stats(&self) -> Result<SystemStats, HttpError> {
        let body = self.get_json("system_stats").await?;
        expect_shape("system_stats", &body, Value::is_object, "an object")?;
        Ok(SystemStats::from_value(&body))
    }

    /// `GET /queue` with every item whole (prompt and `extra_data` kept).
    /// `GET /history/{id}` as a listing item (with the prompt record), `None` when unknown.
    pub async fn history_item(
        &self,
        prompt: &PromptId,
    ) -> Result<Option<super::listing::PromptRecord>, HttpError> {
        let body = self.get_json(&format!("history/{prompt}")).await?;
        Ok(body.get(prompt.as_str()).and_then(|entry| {
            super::listing::HistoryItem::from_entry(prompt.as_str(), entry).record
        }))
    }

    pub async fn queue_listing(&self) -> Result<QueueListing, HttpError> {
        let body = self.get_json("queue").await?;
        expect_shape("queue", &body, Value::is_object, "an object")?;
        Ok(QueueListing::from_value(&body))
    }

    /// `GET /history?max_items=N`: the newest `max_items` finished prompts, newest first
    /// (never the whole history, which can hold 10 000 entries).
    pub async fn recent_history(&self, max_items: usize) -> Result<Vec<HistoryItem>, HttpError> {
        let route = "history";
        let request = self
            .http
            .get(self.server.route(route))
            .query(&[("max_items", max_items)])
            .timeout(REQUEST_TIMEOUT);
        let response = self.send(route, request).await?;
        let body = self.json(route, response).await?;
        expect_shape(route, &body, Value::is_object, "an object")?;
        Ok(HistoryItem::list_from_value(&body))
    }

    /// `GET /models`: the model folder kinds (`checkpoints`, `loras`, ...).
    pub async fn model_folders(&self) -> Result<Vec<String>, HttpError> {
        let body = self.get_json("models").await?;
        string_list("models", &body)
    }

    /// `GET /models/{folder}`: the files loader nodes accept, as the server spells them;
    /// `None` when the folder is not one the server knows (404).
    pub async fn models(&self, folder: &str) -> Result<Option<Vec<String>>, HttpError> {
        let route = format!("models/{}", super::endpoints::path_segment(folder));
        match self.get_json(&route).await {
            Ok(body) => string_list(&route, &body).map(Some),
            Err(HttpError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /embeddings`: names without their extension.
    pub async fn embeddings(&self) -> Result<Vec<String>, HttpError> {
        let body = self.get_json("embeddings").await?;
        string_list("embeddings", &body)
    }

    /// `GET /features`, typed; an older server without the route gets its defaults.
    pub async fn feature_set(&self) -> Result<Features, HttpError> {
        Ok(Features::from_value(self.features().await?.as_ref()))
    }

    /// `/object_info` (every class, sorted) or one class (empty when unknown).
    pub async fn node_infos(&self, class: Option<&str>) -> Result<Vec<NodeInfo>, HttpError> {
        let body = match class {
            Some(class) => {
                self.object_info(Some(&super::endpoints::path_segment(class)))
                    .await?
            }
            None => self.object_info(None).await?,
        };
        expect_shape("object_info", &body, Value::is_object, "an object")?;
        Ok(NodeInfo::list_from_value(&body))
    }

    /// `POST /free {unload_models, free_memory}`. The server applies it when idle or
    /// right after the running prompt; `free_memory` also drops its execution cache.
    pub async fn free(&self, unload_models: bool, free_memory: bool) -> Result<(), HttpError> {
        let body = json!({"unload_models": unload_models, "free_memory": free_memory});
        let response = self.post_json("free", &body).await?;
        self.expect_ok("free", response).await.map(drop)
    }

    /// `PATCH /internal/logs/subscribe {clientId, enabled}`: the server log then arrives
    /// as `logs` messages on the socket registered under `client`. The route has no
    /// `/api` alias and is marked unstable upstream.
    pub async fn subscribe_logs(&self, client: &ClientId, enabled: bool) -> Result<(), HttpError> {
        let route = "internal/logs/subscribe";
        let request = self
            .http
            .patch(self.server.root_route(route))
            .json(&json!({"clientId": client, "enabled": enabled}))
            .timeout(REQUEST_TIMEOUT);
        let response = self.send(route, request).await?;
        self.expect_ok(route, response).await.map(drop)
    }

    /// `GET /internal/logs/raw`: the server's log backlog (its last few hundred chunks)
    /// and terminal size.
    pub async fn logs_raw(&self) -> Result<Logs, HttpError> {
        let route = "internal/logs/raw";
        let request = self
            .http
            .get(self.server.root_route(route))
            .timeout(REQUEST_TIMEOUT);
        let response = self.send(route, request).await?;
        let body = self.json(route, response).await?;
        expect_shape(route, &body, Value::is_object, "an object")?;
        serde_json::from_value(body).map_err(|e| HttpError::Decode {
            route: route.to_owned(),
            reason: e.to_string(),
        })
    }

    /// `GET /userdata?dir=…&recurse=true&full_info=true`: every file under `dir` of the
    /// user directory. A folder that does not exist (404) lists as empty.
    pub async fn list_userdata(&self, dir: &str) -> Result<Vec<UserFile>, HttpError> {
        let route = "userdata";
        let request = self
            .http
            .get(self.server.route(route))
            .query(&[("dir", dir), ("recurse", "true"), ("full_info", "true")])
            .timeout(REQUEST_TIMEOUT);
        let response = self.send(route, request).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        let body = self.json(route, response).await?;
        if !body.is_array() {
            return Err(HttpError::Decode {
                route: route.to_owned(),
                reason: "expected a list of files".to_owned(),
            });
        }
        Ok(UserFile::list_from_value(&body))
    }

    /// `GET /userdata/{file}` (the path is one segment, `/` sent as `%2F`); `None` when
    /// the server has no such file (404). A body over `limit` bytes is refused as soon as
    /// its size shows, so a huge file is never held whole.
    pub async fn userdata_file(
        &self,
        path: &str,
        limit: u64,
    ) -> Result<Option<Vec<u8>>, HttpError> {
        let route = format!("userdata/{}", super::endpoints::path_segment(path));
        let request = self
            .http
            .get(self.server.route(&route))
            .timeout(REQUEST_TIMEOUT);
        let response = self.send(&route, request).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let mut response = self.expect_ok(&route, response).await?;
        let too_large = |size| HttpError::TooLarge {
            route: route.clone(),
            size,
            limit,
        };
        if let Some(size) = response.content_length().filter(|n| *n > limit) {
            return Err(too_large(Some(size)));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.unreachable(e))? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large(None));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Some(body))
    }

    /// `GET /view` for one output file. The body is left unread so the caller can stream
    /// it to disk; it is never buffered whole here.
    pub async fn view(&self, file: &FileRef) -> Result<Response, HttpError> {
        let request = self.http.get(self.server.route("view")).query(&[
            ("filename", file.filename.as_str()),
            ("subfolder", file.subfolder.as_str()),
            ("type", file.folder_type.as_str()),
        ]);
        let response = self.send("view", request).await?;
        self.expect_ok("view", response).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_server_rejection_shapes_are_tolerated() {
        let r = Rejection::from_body(&json!({"error": "no prompt", "node_errors": []}));
        assert_eq!(r.message, "no prompt");
        assert!(r.node_errors.is_empty());
    }

    #[test]
    fn headers_parse_and_reject_garbage() {
        let map = parse_headers(&["Authorization: Bearer x".into(), "X-A:b".into()])
            .expect("valid headers");
        assert_eq!(map["authorization"], "Bearer x");
        assert_eq!(map["x-a"], "b");
        assert!(parse_headers(&["no colon".into()]).is_err());
        assert!(parse_headers(&["bad name: v".into()]).is_err());
    }

    #[test]
    fn queue_pending_is_sorted_by_number_then_id() {
        let q = QueueSnapshot::from_value(&json!({
            "queue_running": [[5, "r", {}, {}, []]],
            "queue_pending": [[9, "b", {}, {}, []], [-1, "f", {}, {}, []], [9, "a", {}, {}, []]]
        }));
        assert_eq!(q.pending, vec!["f".into(), "a".into(), "b".into()]);
        assert_eq!(q.position(&"r".into()), Some(0));
        assert_eq!(q.position(&"a".into()), Some(2));
        assert_eq!(q.position(&"zz".into()), None);
    }

    #[test]
    fn user_file_listings_of_every_shape_parse() {
        let old = UserFile::list_from_value(&json!([
            {"path": "a.json", "size": 10, "modified": 1_759_000_000.5},
            {"path": "sub/b.json", "size": 20, "modified": 1_759_000_000_123_i64, "created": 1}
        ]));
        assert_eq!(old[0].modified, Some(1_759_000_000.5));
        assert_eq!(old[1].path, "sub/b.json");
        assert_eq!(old[1].size, Some(20));
        assert_eq!(old[1].modified, Some(1_759_000_000.123));
        let plain = UserFile::list_from_value(&json!(["x.json"]));
        assert_eq!(plain[0].path, "x.json");
        assert_eq!(plain[0].size, None);
        let v2 = UserFile::list_from_value(&json!([
            {"name": "sub", "path": "workflows/sub", "type": "directory"},
            {"name": "c.json", "path": "workflows/c.json", "type": "file", "size": 3, "modified": 1.0}
        ]));
        assert_eq!(v2.len(), 1);
        assert_eq!(v2[0].path, "workflows/c.json");
        assert!(UserFile::list_from_value(&json!({"not": "a list"})).is_empty());
    }

    #[test]
    fn resubmit_body_keeps_prompt_and_extra_data_under_a_new_id() {
        let record = PromptRecord::from_value(&json!([
            -3, "old", {"1": {"class_type": "A", "inputs": {"x": 1}}},
            {"client_id": "them", "extra_pnginfo": {"workflow": {"id": "w"}}, "create_time": 5},
            ["1"]
        ]))
        .expect("a record");
        let body = resubmit_body(&record, &"new".into(), true);
        assert_eq!(
            body["prompt"],
            json!({"1": {"class_type": "A", "inputs": {"x": 1}}})
        );
        assert_eq!(
            body["extra_data"],
            json!({"client_id": "them", "extra_pnginfo": {"workflow": {"id": "w"}}, "create_time": 5})
        );
        assert_eq!(body["client_id"], "them");
        assert_eq!(body["prompt_id"], "new");
        assert_eq!(body["front"], true);
        assert!(
            body.get("number").is_none(),
            "a number would override front"
        );

        let anonymous = PromptRecord::from_value(&json!([1, "old", {}, {}, []])).expect("record");
        let body = resubmit_body(&anonymous, &"new".into(), false);
        assert!(body.get("client_id").is_none(), "no client id to copy");
        assert!(body.get("front").is_none());
        assert_eq!(body["extra_data"], json!({}));
    }

    #[test]
    fn refusals_say_where_they_came_from() {
        let validation = refusal(
            StatusCode::BAD_REQUEST,
            r#"{"error": {"type": "prompt_no_outputs", "message": "Prompt has no outputs", "details": ""}, "node_errors": {}}"#,
        );
        assert_eq!(validation.kind, "prompt_no_outputs");
        assert_eq!(validation.message, "Prompt has no outputs");
        assert_eq!(validation.http_status, 400);
        let too_big = refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Maximum request body size 10 exceeded",
        );
        assert_eq!(too_big.kind, "http_413");
        assert_eq!(
            too_big.message,
            "the server refused the prompt (HTTP 413 Payload Too Large): Maximum request body size 10 exceeded"
        );
        let bare = refusal(StatusCode::FORBIDDEN, "");
        assert_eq!(
            bare.message,
            "the server refused the prompt (HTTP 403 Forbidden)"
        );
        assert_eq!(bare.http_status, 403);
    }

    #[test]
    fn submit_body_carries_ids_and_preview_method() {
        let prompt = Map::new();
        let body = SubmitRequest {
            prompt: &prompt,
            client_id: &"c".into(),
            prompt_id: &"p".into(),
            preview_method: Some("auto"),
            workflow: None,
            front: false,
        }
        .body();
        assert_eq!(body["client_id"], "c");
        assert_eq!(body["prompt_id"], "p");
        assert_eq!(body["extra_data"]["preview_method"], "auto");
    }
}
