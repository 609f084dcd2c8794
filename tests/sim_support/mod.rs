//! Helpers shared by the simulator's integration tests: start an instance, talk HTTP
//! and WebSocket to it with a timeout around every await, normalise message sequences.

#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use comfy_tui::sim::{self, SimConfig, SimHandle};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// Upper bound for any single await in these tests.
pub const T: Duration = Duration::from_secs(10);

pub async fn within<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(T, f).await.expect("timed out")
}

/// A config with a quick pace for tests.
pub fn fast() -> SimConfig {
    SimConfig {
        step_delay: Duration::from_millis(1),
        ..SimConfig::default()
    }
}

pub async fn start(config: SimConfig) -> SimHandle {
    let listener = within(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .await
        .unwrap();
    within(sim::start(listener, config)).await.unwrap()
}

thread_local! {
    // Building a client is slow (TLS roots); each test runs on its own thread and
    // runtime, so one client per thread is shared by that test only.
    static CLIENT: reqwest::Client = reqwest::Client::builder().timeout(T).build().unwrap();
}

pub fn http() -> reqwest::Client {
    CLIENT.with(Clone::clone)
}

pub async fn get_json(sim: &SimHandle, path: &str) -> (u16, Value) {
    let r = within(http().get(format!("{}{path}", sim.url())).send())
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body = within(r.bytes()).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

pub async fn post_json(sim: &SimHandle, path: &str, body: &Value) -> (u16, Value) {
    let r = within(
        http()
            .post(format!("{}{path}", sim.url()))
            .json(body)
            .send(),
    )
    .await
    .unwrap();
    let status = r.status().as_u16();
    let body = within(r.bytes()).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// POST /prompt and return the prompt id (panics on anything but 200).
pub async fn queue_prompt(sim: &SimHandle, prompt: &Value, client_id: Option<&str>) -> String {
    let mut body = json!({"prompt": prompt});
    if let Some(c) = client_id {
        body["client_id"] = json!(c);
    }
    let (status, resp) = post_json(sim, "/prompt", &body).await;
    assert_eq!(status, 200, "{resp}");
    resp["prompt_id"].as_str().unwrap().to_owned()
}

#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Text(Value),
    /// A text frame that is not JSON.
    BadText(String),
    Binary(Vec<u8>),
}

impl Frame {
    pub fn kind(&self) -> String {
        match self {
            Frame::Text(v) => v["type"].as_str().unwrap_or("?").to_owned(),
            Frame::BadText(_) => "bad-text".to_owned(),
            Frame::Binary(b) => format!("bin{}", b.get(3).copied().unwrap_or(0)),
        }
    }

    pub fn data(&self) -> &Value {
        match self {
            Frame::Text(v) => &v["data"],
            _ => &Value::Null,
        }
    }
}

pub type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Ws {
    pub stream: WsStream,
}

impl Ws {
    pub async fn connect(sim: &SimHandle, client_id: Option<&str>) -> Ws {
        let url = match client_id {
            Some(c) => format!("{}?clientId={c}", sim.ws_url()),
            None => sim.ws_url(),
        };
        let (stream, _) = within(tokio_tungstenite::connect_async(url)).await.unwrap();
        Ws { stream }
    }

    /// The next frame, `None` when the connection ended.
    pub async fn next(&mut self) -> Option<Frame> {
        loop {
            match within(self.stream.next()).await {
                Some(Ok(Message::Text(t))) => {
                    return Some(match serde_json::from_str(t.as_str()) {
                        Ok(v) => Frame::Text(v),
                        Err(_) => Frame::BadText(t.to_string()),
                    });
                }
                Some(Ok(Message::Binary(b))) => return Some(Frame::Binary(b.to_vec())),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Wait up to `d` for a frame; `Err(())` on timeout.
    pub async fn next_within(&mut self, d: Duration) -> Result<Option<Frame>, ()> {
        match tokio::time::timeout(d, self.stream.next()).await {
            Err(_) => Err(()),
            Ok(Some(Ok(Message::Text(t)))) => Ok(Some(Frame::Text(
                serde_json::from_str(t.as_str()).unwrap_or(Value::Null),
            ))),
            Ok(Some(Ok(Message::Binary(b)))) => Ok(Some(Frame::Binary(b.to_vec()))),
            Ok(_) => Ok(None),
        }
    }

    pub async fn send_json(&mut self, v: &Value) {
        within(self.stream.send(Message::Text(v.to_string().into())))
            .await
            .unwrap();
    }

    pub async fn send_feature_flags(&mut self) {
        self.send_json(&json!({"type": "feature_flags", "data": {"supports_preview_metadata": true, "supports_manager_v4_ui": true}}))
            .await;
    }

    /// Collect frames until `executing {node: null}` for `prompt_id` (inclusive).
    pub async fn until_done(&mut self, prompt_id: &str) -> Vec<Frame> {
        let mut frames = Vec::new();
        while let Some(f) = self.next().await {
            let done = f.kind() == "executing"
                && f.data()["node"].is_null()
                && f.data()["prompt_id"] == prompt_id;
            frames.push(f);
            if done {
                return frames;
            }
        }
        panic!(
            "socket closed before the prompt finished: {:?}",
            frames.iter().map(Frame::kind).collect::<Vec<_>>()
        );
    }

    /// Collect frames until one of the given kind arrives (inclusive).
    pub async fn until_kind(&mut self, kind: &str) -> Vec<Frame> {
        let mut frames = Vec::new();
        while let Some(f) = self.next().await {
            let hit = f.kind() == kind;
            frames.push(f);
            if hit {
                return frames;
            }
        }
        panic!("socket closed before a {kind} frame");
    }
}

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A transcript's events.
pub fn transcript(name: &str) -> Vec<Value> {
    fixture(name)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The request body of the first POST /prompt in a transcript.
pub fn transcript_request(events: &[Value]) -> Value {
    events
        .iter()
        .find(|e| e["ev"] == "http" && e["method"] == "POST" && e["path"] == "/prompt")
        .map(|e| e["request_json"].clone())
        .unwrap()
}

/// The structure of a JSON value: key names in order, value types (int vs float),
/// no values. Map keys that are node ids (`progress_state.nodes`) become `*`.
pub fn shape(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(n) if n.is_f64() => "float".into(),
        Value::Number(_) => "int".into(),
        Value::String(_) => "str".into(),
        Value::Array(a) => format!("[{}]", a.first().map(shape).unwrap_or_default()),
        Value::Object(o) => {
            let inner: Vec<String> = o.iter().map(|(k, v)| format!("{k}:{}", shape(v))).collect();
            format!("{{{}}}", inner.join(","))
        }
    }
}

fn token_of_text(msg: &Value) -> String {
    let kind = msg["type"].as_str().unwrap_or("?");
    let mut data = msg["data"].clone();
    match kind {
        "progress_state" => {
            if let Some(nodes) = data["nodes"].as_object() {
                let inner: Vec<String> =
                    nodes.values().map(|n| format!("*:{}", shape(n))).collect();
                data["nodes"] = Value::String(format!("{{{}}}", inner.join(",")));
            }
        }
        // Output contents differ per node; they are compared per node id instead.
        "executed" => data["output"] = Value::String("output".into()),
        _ => {}
    }
    format!("{kind}:{}", shape(&data))
}

/// Normalised tokens of a transcript's received frames on connection `conn`.
pub fn transcript_tokens(events: &[Value], conn: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["ev"] == "ws_recv" && e["conn"] == conn)
        .map(|e| {
            if e["frame"] == "text" {
                token_of_text(&e["msg"])
            } else {
                match e["event_type"].as_u64() {
                    Some(4) => format!("bin4:{}", shape(&e["metadata"])),
                    Some(t) => format!("bin{t}"),
                    None => "bin?".into(),
                }
            }
        })
        .collect()
}

/// Normalised tokens of frames received from the simulator.
pub fn frame_tokens(frames: &[Frame]) -> Vec<String> {
    frames
        .iter()
        .map(|f| match f {
            Frame::Text(v) => token_of_text(v),
            Frame::BadText(_) => "bad-text".into(),
            Frame::Binary(b) => {
                let t = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                if t == 4 {
                    let n = u32::from_be_bytes([b[4], b[5], b[6], b[7]]) as usize;
                    let meta: Value = serde_json::from_slice(&b[8..8 + n]).unwrap();
                    format!("bin4:{}", shape(&meta))
                } else {
                    format!("bin{t}")
                }
            }
        })
        .collect()
}

/// node id → shape of its `executed.output`, from parsed messages.
pub fn executed_outputs<'a>(msgs: impl Iterator<Item = &'a Value>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = msgs
        .filter(|m| m["type"] == "executed")
        .map(|m| {
            (
                m["data"]["node"].as_str().unwrap().to_owned(),
                shape(&m["data"]["output"]),
            )
        })
        .collect();
    out.sort();
    out
}

/// For each node id, the kinds of the messages about it (executing/executed/progress),
/// in order: per-node subsequences do not depend on the order of independent nodes.
pub fn per_node<'a>(msgs: impl Iterator<Item = &'a Value>) -> Vec<(String, Vec<String>)> {
    let mut map: Vec<(String, Vec<String>)> = Vec::new();
    for m in msgs {
        let kind = m["type"].as_str().unwrap_or("");
        if !matches!(kind, "executing" | "executed" | "progress") {
            continue;
        }
        let Some(node) = m["data"]["node"].as_str() else {
            continue;
        };
        match map.iter_mut().find(|(n, _)| n == node) {
            Some((_, v)) => v.push(kind.to_owned()),
            None => map.push((node.to_owned(), vec![kind.to_owned()])),
        }
    }
    map.sort();
    map
}

pub fn transcript_texts<'a>(events: &'a [Value], conn: &'a str) -> impl Iterator<Item = &'a Value> {
    events
        .iter()
        .filter(move |e| e["ev"] == "ws_recv" && e["conn"] == conn && e["frame"] == "text")
        .map(|e| &e["msg"])
}

pub fn frame_texts(frames: &[Frame]) -> impl Iterator<Item = &Value> {
    frames.iter().filter_map(|f| match f {
        Frame::Text(v) => Some(v),
        _ => None,
    })
}

/// A small valid workflow: EmptyImage → SaveImage.
pub fn empty_image_prompt(prefix: &str, color: u32) -> Value {
    json!({
        "1": {"class_type": "EmptyImage", "inputs": {"width": 16, "height": 8, "batch_size": 1, "color": color}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": prefix}},
    })
}

/// ProbeSteps → SaveImage with `steps` steps.
pub fn probe_prompt(steps: u64, seed: u64, previews: bool) -> Value {
    json!({
        "1": {"class_type": "ProbeSteps", "inputs": {"steps": steps, "step_seconds": 0.0, "seed": seed, "width": 64, "height": 64, "fail_at_step": 0, "send_previews": previews}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "probe"}},
    })
}
