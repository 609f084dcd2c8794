//! The `progress_state` snapshot of one run, serialised incrementally so a flood of
//! steps does not re-encode every node each time.

use axum::extract::ws::Message;
use serde_json::{Value, json};

struct Entry {
    node_id: String,
    /// This node's serialised `"id":{...}` member, rebuilt only when it changes.
    json: String,
}

/// All nodes touched so far in a run, in the order they were first touched.
pub struct Progress {
    prompt_id: String,
    entries: Vec<Entry>,
}

impl Progress {
    pub fn new(prompt_id: &str) -> Self {
        Self {
            prompt_id: prompt_id.to_owned(),
            entries: Vec::new(),
        }
    }

    fn set(&mut self, node_id: &str, value: Value, max: Value, state: &str) {
        let body = json!({
            "value": value, "max": max, "state": state, "node_id": node_id,
            "prompt_id": self.prompt_id, "display_node_id": node_id,
            "parent_node_id": null, "real_node_id": node_id,
        });
        let json = format!("{}:{}", Value::from(node_id), body);
        match self.entries.iter_mut().find(|e| e.node_id == node_id) {
            Some(e) => e.json = json,
            None => self.entries.push(Entry {
                node_id: node_id.to_owned(),
                json,
            }),
        }
    }

    /// A node starts: value 0.0 of 1.0 (floats, as ComfyUI sends them).
    pub fn start(&mut self, node_id: &str) {
        self.set(node_id, json!(0.0), json!(1.0), "running");
    }

    /// A step was reported (integers).
    pub fn step(&mut self, node_id: &str, value: u64, max: u64) {
        self.set(node_id, json!(value), json!(max), "running");
    }

    /// A started node finished: value = max, keeping max's number type. `max` is the
    /// last reported maximum (steps), or `None` for a node that reported none (1.0).
    pub fn finish(&mut self, node_id: &str, max: Option<u64>) {
        match max {
            Some(m) => self.set(node_id, json!(m), json!(m), "finished"),
            None => self.set(node_id, json!(1.0), json!(1.0), "finished"),
        }
    }

    /// A cached output node was replayed: it never started, so ComfyUI reports the
    /// default integers 1 of 1.
    pub fn finish_cached(&mut self, node_id: &str) {
        self.set(node_id, json!(1), json!(1), "finished");
    }

    /// The current snapshot as a `progress_state` frame.
    pub fn message(&self) -> Message {
        let mut s = String::with_capacity(
            64 + self.entries.iter().map(|e| e.json.len() + 1).sum::<usize>(),
        );
        s.push_str("{\"type\":\"progress_state\",\"data\":{\"prompt_id\":");
        s.push_str(&Value::from(self.prompt_id.as_str()).to_string());
        s.push_str(",\"nodes\":{");
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(&e.json);
        }
        s.push_str("}}}");
        Message::Text(s.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_shape() {
        let mut p = Progress::new("p");
        p.start("1");
        p.step("1", 3, 20);
        p.finish("1", Some(20));
        p.start("2");
        let Message::Text(t) = p.message() else {
            panic!()
        };
        let v: Value = serde_json::from_str(&t).unwrap();
        assert_eq!(v["type"], "progress_state");
        let nodes = v["data"]["nodes"].as_object().unwrap();
        assert_eq!(nodes.keys().collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(nodes["1"]["value"], json!(20));
        assert_eq!(nodes["1"]["state"], "finished");
        assert!(nodes["2"]["value"].is_f64());
        assert!(t.contains("\"value\":0.0,\"max\":1.0,\"state\":\"running\""));
        assert_eq!(
            nodes["2"].as_object().unwrap().keys().collect::<Vec<_>>(),
            [
                "value",
                "max",
                "state",
                "node_id",
                "prompt_id",
                "display_node_id",
                "parent_node_id",
                "real_node_id"
            ]
        );
    }
}
