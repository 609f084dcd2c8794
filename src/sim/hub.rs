//! The WebSocket registry: client id → socket, feature flags, addressed and broadcast sends.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::ws::Message;
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// Frames waiting for one socket. Bounded so a flood of steps is paced by the slowest
/// reader instead of piling up in memory.
pub const SOCKET_QUEUE: usize = 1024;

struct Client {
    conn: u64,
    tx: mpsc::Sender<Message>,
    preview_metadata: bool,
}

/// Like ComfyUI's `sockets` table: one socket per client id; a newer connection under
/// the same id replaces the older one (which stays open but receives nothing).
#[derive(Default)]
pub struct Hub {
    clients: Mutex<HashMap<String, Client>>,
    next_conn: AtomicU64,
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Client>> {
        // A panic while holding this lock cannot leave the map half-updated (every
        // critical section is a single insert/remove/lookup), so poisoning is ignored.
        self.clients.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Register a socket under `sid`, replacing any previous one; returns its connection id.
    pub fn register(&self, sid: &str, tx: mpsc::Sender<Message>) -> u64 {
        let conn = self.next_conn.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(
            sid.to_owned(),
            Client {
                conn,
                tx,
                preview_metadata: false,
            },
        );
        conn
    }

    /// Remove the registration when connection `conn` ends. With `any` (the real server's
    /// behaviour) whatever socket holds `sid` is removed, even a newer one.
    pub fn unregister(&self, sid: &str, conn: u64, any: bool) {
        let mut clients = self.lock();
        if any || clients.get(sid).is_some_and(|c| c.conn == conn) {
            clients.remove(sid);
        }
    }

    /// Store the client's `supports_preview_metadata` flag (only JSON `true` counts).
    pub fn set_preview_metadata(&self, sid: &str, conn: u64, on: bool) {
        if let Some(c) = self.lock().get_mut(sid).filter(|c| c.conn == conn) {
            c.preview_metadata = on;
        }
    }

    /// Whether previews for this client go out as type 4 (looked up at send time).
    pub fn supports_preview_metadata(&self, sid: &str) -> bool {
        self.lock().get(sid).is_some_and(|c| c.preview_metadata)
    }

    /// Send to the socket registered under `sid` (dropped when there is none).
    pub async fn send_to(&self, sid: &str, msg: Message) {
        let tx = self.lock().get(sid).map(|c| c.tx.clone());
        if let Some(tx) = tx {
            // A closed socket just loses the frame, as on the real server.
            let _ = tx.send(msg).await;
        }
    }

    /// Send to every registered socket.
    pub async fn broadcast(&self, msg: Message) {
        let txs: Vec<_> = self.lock().values().map(|c| c.tx.clone()).collect();
        for tx in txs {
            let _ = tx.send(msg.clone()).await;
        }
    }

    /// `Some(id)` → that client, `None` → everyone (ComfyUI's `send_sync(.., sid=None)`).
    pub async fn send(&self, target: Option<&str>, msg: Message) {
        match target {
            Some(sid) => self.send_to(sid, msg).await,
            None => self.broadcast(msg).await,
        }
    }

    /// Whether a socket is registered under `sid`.
    pub fn has(&self, sid: &str) -> bool {
        self.lock().contains_key(sid)
    }

    pub fn client_count(&self) -> usize {
        self.lock().len()
    }
}

/// A JSON text frame `{"type": .., "data": ..}`.
pub fn text(kind: &str, data: Value) -> Message {
    Message::Text(json!({"type": kind, "data": data}).to_string().into())
}

/// A text frame from an already serialised string.
pub fn raw_text(s: String) -> Message {
    Message::Text(s.into())
}

/// A valid JSON text message of an unknown type, padded to `size` bytes (at least its
/// frame, 30 bytes): what a hostile server floods a client with.
pub fn huge_text(size: u64) -> Message {
    const HEAD: &str = "{\"type\":\"padding\",\"data\":\"";
    const TAIL: &str = "\"}";
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let pad = size.saturating_sub(HEAD.len() + TAIL.len());
    let mut s = String::with_capacity(HEAD.len() + pad + TAIL.len());
    s.push_str(HEAD);
    s.extend(std::iter::repeat_n('x', pad));
    s.push_str(TAIL);
    Message::Text(s.into())
}

/// Binary type 1 (PREVIEW_IMAGE): u32 type, u32 format (1 = JPEG, 2 = PNG), image bytes.
pub fn preview_type1(format: u32, image: &[u8]) -> Message {
    let mut buf = Vec::with_capacity(8 + image.len());
    buf.extend_from_slice(&1u32.to_be_bytes());
    buf.extend_from_slice(&format.to_be_bytes());
    buf.extend_from_slice(image);
    Message::Binary(Bytes::from(buf))
}

/// Binary type 4 (PREVIEW_IMAGE_WITH_METADATA): u32 type, u32 length, JSON, image bytes.
pub fn preview_type4(metadata: &Value, image: &[u8]) -> Message {
    let meta = metadata.to_string();
    let mut buf = Vec::with_capacity(8 + meta.len() + image.len());
    buf.extend_from_slice(&4u32.to_be_bytes());
    buf.extend_from_slice(&(meta.len() as u32).to_be_bytes());
    buf.extend_from_slice(meta.as_bytes());
    buf.extend_from_slice(image);
    Message::Binary(Bytes::from(buf))
}

/// Binary type 3 (TEXT): u32 type, u32 node id length, node id, text.
pub fn text_type3(node_id: &str, text: &str) -> Message {
    let mut buf = Vec::with_capacity(8 + node_id.len() + text.len());
    buf.extend_from_slice(&3u32.to_be_bytes());
    buf.extend_from_slice(&(node_id.len() as u32).to_be_bytes());
    buf.extend_from_slice(node_id.as_bytes());
    buf.extend_from_slice(text.as_bytes());
    Message::Binary(Bytes::from(buf))
}

/// The frames of the `malformed_frames` fault: invalid JSON, an unknown message type, an
/// unknown binary event type and a truncated binary frame (a type 4 header that
/// announces more metadata than follows).
pub fn malformed_frames(prompt_id: &str) -> Vec<Message> {
    let mut truncated = Vec::new();
    truncated.extend_from_slice(&4u32.to_be_bytes());
    truncated.extend_from_slice(&4096u32.to_be_bytes());
    truncated.extend_from_slice(b"{\"node_id\"");
    let mut unknown_bin = Vec::new();
    unknown_bin.extend_from_slice(&99u32.to_be_bytes());
    unknown_bin.extend_from_slice(b"\x00\x01mystery");
    vec![
        Message::Text("{\"type\": \"progress\", \"data\": {\"value\": 1,".into()),
        text(
            "sim_unknown_event",
            json!({"prompt_id": prompt_id, "note": "a message type no client knows"}),
        ),
        Message::Binary(Bytes::from(unknown_bin)),
        Message::Binary(Bytes::from(truncated)),
        Message::Binary(Bytes::from_static(&[0, 0])),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_text_has_the_asked_size_and_is_json() {
        let Message::Text(t) = huge_text(4096) else {
            panic!("not text")
        };
        assert_eq!(t.len(), 4096);
        let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
        assert_eq!(v["type"], "padding");
    }

    #[test]
    fn binary_layouts() {
        let Message::Binary(b) = text_type3("1", "step 1/20") else {
            panic!()
        };
        assert_eq!(&b[..], b"\x00\x00\x00\x03\x00\x00\x00\x011step 1/20");
        let Message::Binary(b) = preview_type1(1, b"\xff\xd8") else {
            panic!()
        };
        assert_eq!(&b[..8], b"\x00\x00\x00\x01\x00\x00\x00\x01");
        let Message::Binary(b) = preview_type4(&json!({"a": 1}), b"IMG") else {
            panic!()
        };
        assert_eq!(&b[..8], b"\x00\x00\x00\x04\x00\x00\x00\x07");
        assert_eq!(&b[8..15], b"{\"a\":1}");
        assert_eq!(&b[15..], b"IMG");
    }

    #[tokio::test]
    async fn newer_socket_replaces_older() {
        let hub = Hub::default();
        let (tx1, mut rx1) = mpsc::channel(4);
        let (tx2, mut rx2) = mpsc::channel(4);
        let c1 = hub.register("a", tx1);
        let c2 = hub.register("a", tx2);
        hub.send_to("a", text("x", json!({}))).await;
        assert!(rx1.try_recv().is_err());
        assert!(rx2.try_recv().is_ok());
        // The older socket closing does not unregister the newer one by default...
        hub.unregister("a", c1, false);
        assert_eq!(hub.client_count(), 1);
        // ...but does with the real server's behaviour.
        hub.unregister("a", c1, true);
        assert_eq!(hub.client_count(), 0);
        hub.unregister("a", c2, false);
    }
}
