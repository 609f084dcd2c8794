//! The server log as ComfyUI's terminal service serves it: a bounded backlog
//! (`/internal/logs/raw`), subscriptions by client id, and the `logs` messages.

use std::collections::{BTreeSet, VecDeque};
use std::time::SystemTime;

use serde_json::{Value, json};

/// ComfyUI's log ring keeps this many chunks.
pub const BACKLOG: usize = 300;

/// The size the simulated server terminal reports.
const TERMINAL: (u32, u32) = (80, 24);

/// What the simulated server printed while it started.
pub const STARTUP: &[&str] = &[
    "Total VRAM 24564 MB, total RAM 32768 MB\n",
    "pytorch version: 2.15.0+cu132\n",
    "Set vram state to: NORMAL_VRAM\n",
    "Device: cuda:0 NVIDIA GeForce RTX 4090 (simulated) : cudaMallocAsync\n",
    "Python version: 3.11.7 (comfy-tui simulator)\n",
    "ComfyUI version: 0.3.64\n",
    "\nStarting server\n\n",
];

#[derive(Debug, Default)]
pub struct LogState {
    entries: VecDeque<Value>,
    subscribers: BTreeSet<String>,
    /// The terminal size goes out once (the server sends it only when it changed, and
    /// it has not changed since it was first reported).
    size_reported: bool,
}

/// `datetime.now().isoformat()` as ComfyUI stamps entries (no zone, microseconds).
fn timestamp(now: SystemTime) -> String {
    let text = humantime::format_rfc3339_micros(now).to_string();
    text.trim_end_matches('Z').to_owned()
}

fn size() -> Value {
    json!({"cols": TERMINAL.0, "rows": TERMINAL.1})
}

impl LogState {
    pub fn with_startup() -> Self {
        let mut state = Self::default();
        for line in STARTUP {
            state.push(line, SystemTime::now());
        }
        state
    }

    /// Appends one chunk and returns its entry `{t, m}`.
    pub fn push(&mut self, text: &str, now: SystemTime) -> Value {
        let entry = json!({"t": timestamp(now), "m": text});
        self.entries.push_back(entry.clone());
        while self.entries.len() > BACKLOG {
            self.entries.pop_front();
        }
        entry
    }

    pub fn set_subscribed(&mut self, client_id: &str, enabled: bool) {
        if enabled {
            self.subscribers.insert(client_id.to_owned());
        } else {
            self.subscribers.remove(client_id);
        }
    }

    pub fn subscribers(&self) -> Vec<String> {
        self.subscribers.iter().cloned().collect()
    }

    /// The `logs` message data for these entries; the size only the first time.
    pub fn message_data(&mut self, entries: Vec<Value>) -> Value {
        let size = if self.size_reported {
            Value::Null
        } else {
            self.size_reported = true;
            size()
        };
        json!({"entries": entries, "size": size})
    }

    /// `GET /internal/logs/raw`: the backlog and the terminal size.
    pub fn raw(&mut self) -> Value {
        self.size_reported = true;
        json!({"entries": self.entries, "size": size()})
    }

    /// `GET /internal/logs`: the backlog as one string.
    pub fn joined(&self) -> String {
        self.entries
            .iter()
            .filter_map(|e| e.get("m").and_then(Value::as_str))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn backlog_is_bounded_and_size_goes_once() {
        let mut logs = LogState::default();
        let t = UNIX_EPOCH + Duration::from_micros(1_764_536_994_472_511);
        let entry = logs.push("got prompt\n", t);
        assert_eq!(
            entry,
            json!({"t": "2025-11-30T21:09:54.472511", "m": "got prompt\n"})
        );
        for i in 0..BACKLOG {
            logs.push(&format!("{i}\n"), t);
        }
        let raw = logs.raw();
        assert_eq!(raw["entries"].as_array().map(Vec::len), Some(BACKLOG));
        assert_eq!(raw["entries"][0]["m"], "0\n");
        assert_eq!(raw["size"], json!({"cols": 80, "rows": 24}));
        assert_eq!(logs.message_data(vec![])["size"], Value::Null);
        let mut fresh = LogState::with_startup();
        assert_eq!(fresh.message_data(vec![])["size"]["cols"], 80);
        assert!(fresh.joined().contains("Starting server"));
        fresh.set_subscribed("a", true);
        fresh.set_subscribed("b", true);
        fresh.set_subscribed("a", false);
        assert_eq!(fresh.subscribers(), ["b"]);
    }
}
