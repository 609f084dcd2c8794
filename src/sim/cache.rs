//! ComfyUI's output cache: a node whose class and inputs (through all its upstream nodes)
//! match a node of the previous prompt is not run again.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::catalog;
use super::nodes::SimValue;
use super::validate::link_source;

/// What a node produced, kept for later prompts.
#[derive(Clone, Debug)]
pub struct Entry {
    pub outputs: Vec<SimValue>,
    /// The UI output (`executed.output`), `None` for nodes without one.
    pub ui: Option<Value>,
}

/// Signature → result. Like ComfyUI's default ("classic") cache it keeps only what the
/// current prompt can use: entries of other signatures are dropped when a prompt starts.
#[derive(Default)]
pub struct Cache {
    entries: HashMap<String, Entry>,
}

impl Cache {
    /// Drop every entry not among `keep` (ComfyUI's `clean_unused`).
    pub fn retain(&mut self, keep: &HashSet<&String>) {
        self.entries.retain(|k, _| keep.contains(k));
    }

    pub fn get(&self, sig: &str) -> Option<&Entry> {
        self.entries.get(sig)
    }

    pub fn insert(&mut self, sig: String, entry: Entry) {
        self.entries.insert(sig, entry);
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// The cache signature of every node of `prompt`: its class, its literal inputs (sorted
/// by name), the signatures of the nodes it links to, and its id when the class takes
/// `UNIQUE_ID`. `salt` adds change markers (e.g. an input file's size and mtime).
pub fn signatures(
    prompt: &Map<String, Value>,
    salt: &dyn Fn(&str, &Map<String, Value>) -> String,
) -> HashMap<String, String> {
    let mut memo = HashMap::new();
    for id in prompt.keys() {
        signature(prompt, id, salt, &mut memo, &mut HashSet::new());
    }
    memo
}

fn signature(
    prompt: &Map<String, Value>,
    id: &str,
    salt: &dyn Fn(&str, &Map<String, Value>) -> String,
    memo: &mut HashMap<String, String>,
    visiting: &mut HashSet<String>,
) -> String {
    if let Some(s) = memo.get(id) {
        return s.clone();
    }
    let Some(node) = prompt.get(id) else {
        return format!("missing:{id}");
    };
    if !visiting.insert(id.to_owned()) {
        // Validation rejects cycles; this only keeps a bad prompt from recursing forever.
        return format!("cycle:{id}");
    }
    let class_type = node.get("class_type").and_then(Value::as_str).unwrap_or("");
    let empty = Map::new();
    let inputs = node
        .get("inputs")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut names: Vec<&String> = inputs.keys().collect();
    names.sort();
    let mut parts = vec![class_type.to_owned()];
    if catalog::wants_unique_id(class_type) {
        parts.push(format!("id={id}"));
    }
    for name in names {
        let val = &inputs[name];
        let part = match link_source(val) {
            Some(src) => format!(
                "{name}=<{}>[{}]",
                signature(prompt, &src, salt, memo, visiting),
                val.get(1).map(Value::to_string).unwrap_or_default()
            ),
            None => format!("{name}={val}"),
        };
        parts.push(part);
    }
    parts.push(salt(class_type, inputs));
    visiting.remove(id);
    let sig = parts.join("|");
    memo.insert(id.to_owned(), sig.clone());
    sig
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sigs(p: Value) -> HashMap<String, String> {
        signatures(p.as_object().unwrap(), &|_, _| String::new())
    }

    #[test]
    fn signatures_follow_upstream_changes() {
        let a = sigs(json!({
            "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}},
            "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}},
        }));
        let b = sigs(json!({
            "1": {"class_type": "EmptyImage", "inputs": {"width": 9, "height": 8, "batch_size": 1, "color": 0}},
            "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}},
        }));
        let c = sigs(json!({
            "7": {"class_type": "EmptyImage", "inputs": {"color": 0, "height": 8, "batch_size": 1, "width": 8}},
            "8": {"class_type": "SaveImage", "inputs": {"filename_prefix": "x", "images": ["7", 0]}},
        }));
        assert_ne!(a["2"], b["2"]);
        assert_eq!(a["2"], c["8"], "ids and key order do not matter");
        let d = sigs(json!({"1": {"class_type": "ProbeText", "inputs": {"text": "t"}}}));
        let e = sigs(json!({"2": {"class_type": "ProbeText", "inputs": {"text": "t"}}}));
        assert_ne!(d["1"], e["2"], "UNIQUE_ID nodes are keyed by id too");
    }
}
