//! `/ws`: one task pair per socket — a writer that drains the socket's queue (and applies
//! the socket faults) and a reader that handles feature-flag negotiation.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket};
use axum::extract::{Query, State, WebSocketUpgrade};
use axum::response::Response;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::hub::{self, SOCKET_QUEUE};
use super::state::Core;

/// The server's feature flags (`GET /features` and the WS reply), as 0.3.64 sends them.
pub fn server_features() -> Value {
    json!({"supports_preview_metadata": true, "max_upload_size": 104_857_600})
}

/// Frames queued for a socket are written in batches of at most this many per flush.
const BATCH: usize = 64;

pub async fn upgrade(
    State(core): State<Arc<Core>>,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let sid = query
        .get("clientId")
        .filter(|s| !s.is_empty())
        .cloned()
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    // aiohttp's default limit for client messages.
    ws.max_message_size(4 << 20)
        .on_upgrade(move |socket| session(core, socket, sid))
}

async fn session(core: Arc<Core>, socket: WebSocket, sid: String) {
    let (tx, rx) = mpsc::channel(SOCKET_QUEUE);
    let conn = core.hub.register(&sid, tx.clone());
    let _ = tx.send(core.status_message(Some(&sid))).await;
    // Reconnecting while this client's prompt runs: the bare `executing` of the node.
    if let Some(node) = core
        .running()
        .filter(|r| r.client_id.as_deref() == Some(sid.as_str()))
        .and_then(|r| r.node)
    {
        let _ = tx.send(hub::text("executing", json!({"node": node}))).await;
    }
    let (sink, stream) = socket.split();
    tokio::select! {
        _ = writer(&core, sink, rx, &sid, conn) => {}
        _ = reader(&core, stream, tx, &sid, conn) => {}
        _ = core.shutting_down() => {}
    }
    let any = core.faults.get().stale_close_unregisters;
    core.hub.unregister(&sid, conn, any);
    // Dropping the socket halves here ends the TCP connection.
}

async fn writer(
    core: &Core,
    mut sink: SplitSink<WebSocket, Message>,
    mut rx: mpsc::Receiver<Message>,
    sid: &str,
    conn: u64,
) {
    let mut sent: u64 = 0;
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        for msg in batch.drain(..) {
            if core.faults.get().stop_answering {
                // Hold everything already written back too, then go on where we stopped.
                if sink.flush().await.is_err() {
                    return;
                }
                core.faults.wait_answering().await;
            }
            if sink.feed(msg).await.is_err() {
                return;
            }
            sent += 1;
            if let Some(limit) = core.faults.get().drop_ws_after_frames
                && sent >= limit
            {
                let _ = sink.flush().await;
                core.faults.consume_drop(limit);
                // Unregister before the connection ends so a quick reconnect is not
                // removed by this socket's cleanup.
                core.hub.unregister(sid, conn, false);
                return;
            }
        }
        if sink.flush().await.is_err() {
            return;
        }
    }
}

async fn reader(
    core: &Core,
    mut stream: SplitStream<WebSocket>,
    tx: mpsc::Sender<Message>,
    sid: &str,
    conn: u64,
) {
    let mut first_seen = false;
    loop {
        // A server that stopped answering does not read either, so pings go unanswered.
        core.faults.wait_answering().await;
        let Some(Ok(msg)) = stream.next().await else {
            return;
        };
        match msg {
            Message::Text(t) if !first_seen => {
                // Only the first message that parses as JSON counts; later ones are ignored.
                let Ok(v) = serde_json::from_str::<Value>(t.as_str()) else {
                    continue;
                };
                first_seen = true;
                if v.get("type").and_then(Value::as_str) == Some("feature_flags") {
                    let on =
                        v.pointer("/data/supports_preview_metadata") == Some(&Value::Bool(true));
                    core.hub.set_preview_metadata(sid, conn, on);
                    let _ = tx.send(hub::text("feature_flags", server_features())).await;
                }
            }
            Message::Close(_) => return,
            _ => {}
        }
    }
}
