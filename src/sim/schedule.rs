//! Execution order within a prompt: ComfyUI's staging of output nodes and their
//! dependencies, and its "UX friendly" choice among the nodes ready to run.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::catalog;
use super::validate::link_source;

/// Execution staging like ComfyUI's `ExecutionList`: each output node, then the uncached
/// nodes it needs, found with the same stack walk (so the same order of ready nodes).
#[derive(Default)]
pub struct Plan {
    order: Vec<String>,
    blockers: HashMap<String, Vec<String>>,
    blocking: HashMap<String, Vec<String>>,
}

impl Plan {
    pub fn stage(&mut self, prompt: &Map<String, Value>, root: &str, cached: &HashSet<&String>) {
        let mut stack = vec![root.to_owned()];
        let mut links = Vec::new();
        while let Some(id) = stack.pop() {
            if self.order.contains(&id) {
                continue;
            }
            self.order.push(id.clone());
            self.blockers.entry(id.clone()).or_default();
            let Some(inputs) = prompt
                .get(&id)
                .and_then(|n| n.get("inputs"))
                .and_then(Value::as_object)
            else {
                continue;
            };
            for val in inputs.values() {
                let Some(src) = link_source(val) else {
                    continue;
                };
                if cached.contains(&src) || !prompt.contains_key(&src) {
                    continue;
                }
                stack.push(src.clone());
                links.push((src, id.clone()));
            }
        }
        for (src, id) in links {
            let blocked = self.blocking.entry(src.clone()).or_default();
            if !blocked.contains(&id) {
                blocked.push(id.clone());
                self.blockers.entry(id).or_default().push(src);
            }
        }
    }

    /// ComfyUI's `ux_friendly_pick_node`: an output node, else a node feeding one, else
    /// a node two steps from one, else the first ready node.
    pub fn pick(&self, prompt: &Map<String, Value>, done: &HashSet<String>) -> Option<String> {
        let ready: Vec<&String> = self
            .order
            .iter()
            .filter(|n| !done.contains(*n))
            .filter(|n| {
                self.blockers
                    .get(*n)
                    .is_none_or(|b| b.iter().all(|d| done.contains(d)))
            })
            .collect();
        let is_output = |id: &String| {
            let class = prompt
                .get(id)
                .and_then(|n| n["class_type"].as_str())
                .unwrap_or("");
            catalog::is_output_node(class)
        };
        let blocked = |id: &String| self.blocking.get(id).cloned().unwrap_or_default();
        ready
            .iter()
            .find(|n| is_output(n))
            .or_else(|| ready.iter().find(|n| blocked(n).iter().any(is_output)))
            .or_else(|| {
                ready
                    .iter()
                    .find(|n| blocked(n).iter().any(|b| blocked(b).iter().any(is_output)))
            })
            .or(ready.first())
            .map(|n| (*n).clone())
    }
}
