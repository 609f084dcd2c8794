//! Loading an API-format workflow and applying `--set` / `--seed` overrides. Everything
//! here fails before anything reaches the server, with the file and the problem named.

use super::ids::NodeId;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WorkflowError {
    #[error("cannot read workflow {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("workflow {path} is not valid JSON: {reason}")]
    NotJson { path: PathBuf, reason: String },
    #[error("workflow {path} must be a JSON object of nodes, found {found}")]
    NotObject { path: PathBuf, found: &'static str },
    #[error(
        "workflow {path} is in the editor's UI format; export it with \"Export (API)\" in ComfyUI and run that file"
    )]
    UiFormat { path: PathBuf },
    #[error("workflow {path} has no nodes")]
    Empty { path: PathBuf },
    #[error("workflow {path}: node {node} {problem}")]
    BadNode {
        path: PathBuf,
        node: String,
        problem: String,
    },
    #[error("--set {spec}: {problem}")]
    BadSet { spec: String, problem: String },
}

/// An API-format graph (`{id: {class_type, inputs, _meta}}`), as `POST /prompt` takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    nodes: Map<String, Value>,
}

/// "a string", "an array"…: what a JSON value is, for error messages.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A link input is `[source node id, output index]`.
fn link_source(value: &Value) -> Option<&str> {
    match value.as_array()?.as_slice() {
        [Value::String(source), index] if index.is_u64() => Some(source),
        _ => None,
    }
}

impl Workflow {
    /// Reads an API-format JSON file (`crate::source` reads every other kind of source).
    pub fn load(path: &Path) -> Result<Self, WorkflowError> {
        let read_error = |reason: String| WorkflowError::Read {
            path: path.to_owned(),
            reason,
        };
        // Refused from its size, before a huge file is read whole.
        let size = std::fs::metadata(path)
            .map_err(|e| read_error(e.to_string()))?
            .len();
        crate::source::limit::check(size, crate::source::limit::JSON_LIMIT)
            .map_err(|over| read_error(format!("it {over}")))?;
        let text = std::fs::read_to_string(path).map_err(|e| read_error(e.to_string()))?;
        Self::parse(&text, path)
    }

    /// Parses workflow text; `path` only names the source in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, WorkflowError> {
        let value: Value = super::lenient::from_str(text).map_err(|e| WorkflowError::NotJson {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Self::checked(value, path)
    }

    /// A workflow from JSON already read (stdin, a picture, the server's saved
    /// workflows), with every check [`parse`](Self::parse) makes; `origin` names the
    /// source in errors (`stdin`, `@portraits/flux-dev`, `out.png (prompt)`).
    pub fn from_value(value: Value, origin: &str) -> Result<Self, WorkflowError> {
        Self::checked(value, Path::new(origin))
    }

    fn checked(value: Value, path: &Path) -> Result<Self, WorkflowError> {
        let Value::Object(mut object) = value else {
            return Err(WorkflowError::NotObject {
                path: path.to_owned(),
                found: json_kind(&value),
            });
        };
        if object.get("nodes").is_some_and(Value::is_array) && object.contains_key("links") {
            return Err(WorkflowError::UiFormat {
                path: path.to_owned(),
            });
        }
        // Also accept a saved `POST /prompt` body.
        if let Some(Value::Object(prompt)) = object.get("prompt")
            && prompt.values().all(Value::is_object)
            && !object.contains_key("class_type")
        {
            object = prompt.clone();
        }
        if object.is_empty() {
            return Err(WorkflowError::Empty {
                path: path.to_owned(),
            });
        }
        let bad = |node: &str, problem: String| WorkflowError::BadNode {
            path: path.to_owned(),
            node: node.to_owned(),
            problem,
        };
        for (id, node) in &object {
            let Value::Object(node) = node else {
                return Err(bad(
                    id,
                    format!("must be an object, found {}", json_kind(node)),
                ));
            };
            match node.get("class_type") {
                Some(Value::String(class)) if !class.is_empty() => {}
                _ => return Err(bad(id, "has no `class_type` string".into())),
            }
            match node.get("inputs") {
                Some(Value::Object(_)) | None => {}
                Some(other) => {
                    return Err(bad(
                        id,
                        format!("has `inputs` that is {}, not an object", json_kind(other)),
                    ));
                }
            }
        }
        Ok(Self { nodes: object })
    }

    pub fn nodes(&self) -> &Map<String, Value> {
        &self.nodes
    }

    /// The nodes to change in place: the names an upload was stored under.
    pub fn nodes_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.nodes
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn class_type(&self, id: &str) -> Option<&str> {
        self.nodes.get(id)?.get("class_type")?.as_str()
    }

    pub fn title(&self, id: &str) -> Option<&str> {
        self.nodes.get(id)?.get("_meta")?.get("title")?.as_str()
    }

    fn inputs(&self, id: &str) -> Option<&Map<String, Value>> {
        self.nodes.get(id)?.get("inputs")?.as_object()
    }

    /// Node ids in an order the server could run them: dependencies first, ties by the
    /// order in the file. Nodes in a cycle (the server rejects those) come last.
    pub fn execution_order(&self) -> Vec<NodeId> {
        let ids: Vec<&str> = self.nodes.keys().map(String::as_str).collect();
        let mut deps: HashMap<&str, HashSet<&str>> = HashMap::new();
        for id in &ids {
            let sources = self
                .inputs(id)
                .map(|inputs| {
                    inputs
                        .values()
                        .filter_map(link_source)
                        .filter(|s| self.nodes.contains_key(*s))
                        .collect()
                })
                .unwrap_or_default();
            deps.insert(id, sources);
        }
        let mut order = Vec::with_capacity(ids.len());
        let mut placed: HashSet<&str> = HashSet::new();
        loop {
            let before = order.len();
            for id in &ids {
                if !placed.contains(id) && deps[id].iter().all(|d| placed.contains(d)) {
                    placed.insert(id);
                    order.push(NodeId::from(*id));
                }
            }
            if order.len() == before {
                break;
            }
        }
        order.extend(
            ids.iter()
                .filter(|id| !placed.contains(*id))
                .map(|id| NodeId::from(*id)),
        );
        order
    }

    /// Finds a node by id, by `_meta.title`, or by a class_type unique in the graph.
    pub fn resolve_node(&self, reference: &str) -> Result<String, String> {
        if self.nodes.contains_key(reference) {
            return Ok(reference.to_owned());
        }
        let by_title: Vec<&String> = self
            .nodes
            .keys()
            .filter(|id| self.title(id) == Some(reference))
            .collect();
        match by_title.as_slice() {
            [one] => return Ok((*one).clone()),
            [] => {}
            many => {
                return Err(format!(
                    "title `{reference}` names {} nodes ({}); use a node id",
                    many.len(),
                    join_ids(many)
                ));
            }
        }
        let by_class: Vec<&String> = self
            .nodes
            .keys()
            .filter(|id| self.class_type(id) == Some(reference))
            .collect();
        match by_class.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(format!("no node has the id, title or class `{reference}`")),
            many => Err(format!(
                "class `{reference}` is used by {} nodes ({}); use a node id or title",
                many.len(),
                join_ids(many)
            )),
        }
    }

    /// Applies `NODE.INPUT=VALUE`; VALUE is JSON when it parses, else a string.
    pub fn apply_set(&mut self, spec: &str) -> Result<(), WorkflowError> {
        let bad = |problem: String| WorkflowError::BadSet {
            spec: spec.to_owned(),
            problem,
        };
        let (target, raw_value) = spec
            .split_once('=')
            .ok_or_else(|| bad("expected NODE.INPUT=VALUE".into()))?;
        // Titles may hold dots; input names do not, so the last dot separates them.
        let (node_ref, input) = target
            .rsplit_once('.')
            .filter(|(n, i)| !n.is_empty() && !i.is_empty())
            .ok_or_else(|| bad("expected NODE.INPUT=VALUE".into()))?;
        let id = self.resolve_node(node_ref).map_err(bad)?;
        let value = serde_json::from_str::<Value>(raw_value)
            .unwrap_or_else(|_| Value::String(raw_value.to_owned()));
        let inputs = self
            .nodes
            .get_mut(&id)
            .and_then(Value::as_object_mut)
            .and_then(|node| node.get_mut("inputs"))
            .and_then(Value::as_object_mut)
            .ok_or_else(|| bad(format!("node {id} has no inputs")))?;
        match inputs.get_mut(input) {
            Some(slot) => {
                *slot = value;
                Ok(())
            }
            None => {
                let known: Vec<&str> = inputs.keys().map(String::as_str).collect();
                Err(bad(format!(
                    "node {id} has no input `{input}` (it has: {})",
                    known.join(", ")
                )))
            }
        }
    }

    /// Sets every literal `seed` / `noise_seed` input; returns how many were set.
    pub fn apply_seed(&mut self, mut next_seed: impl FnMut() -> u64) -> usize {
        let mut count = 0;
        for node in self.nodes.values_mut() {
            let Some(inputs) = node.get_mut("inputs").and_then(Value::as_object_mut) else {
                continue;
            };
            for (name, value) in inputs.iter_mut() {
                if matches!(name.as_str(), "seed" | "noise_seed") && value.is_number() {
                    *value = Value::from(next_seed());
                    count += 1;
                }
            }
        }
        count
    }

    /// The nodes this one takes links from, once each, in input order.
    pub fn sources(&self, id: &str) -> Vec<NodeId> {
        let mut sources: Vec<NodeId> = Vec::new();
        for source in self
            .inputs(id)
            .into_iter()
            .flatten()
            .filter_map(|(_, v)| link_source(v))
        {
            if self.nodes.contains_key(source) && !sources.iter().any(|s| s.as_str() == source) {
                sources.push(NodeId::from(source));
            }
        }
        sources
    }

    /// Every literal `seed` / `noise_seed` input, in file order: what a run will use, so
    /// that a good picture can be made again.
    pub fn seeds(&self) -> Vec<Seed> {
        let mut seeds = Vec::new();
        for (id, node) in &self.nodes {
            let Some(inputs) = node.get("inputs").and_then(Value::as_object) else {
                continue;
            };
            for (name, value) in inputs {
                if matches!(name.as_str(), "seed" | "noise_seed")
                    && let Some(number) = value.as_number()
                {
                    seeds.push(Seed {
                        node: NodeId::from(id.as_str()),
                        input: name.clone(),
                        value: number.clone(),
                    });
                }
            }
        }
        seeds
    }
}

/// One seed input of the graph and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Seed {
    pub node: NodeId,
    pub input: String,
    pub value: serde_json::Number,
}

fn join_ids(ids: &[&String]) -> String {
    ids.iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wf(text: &str) -> Result<Workflow, WorkflowError> {
        Workflow::parse(text, Path::new("w.json"))
    }

    const GRAPH: &str = r#"{
        "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20, "model": ["4", 0]}, "_meta": {"title": "Sampler"}},
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "a"}},
        "9": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "x"}},
        "10": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "y"}}
    }"#;

    #[test]
    fn bad_files_name_the_file_and_problem() {
        assert!(matches!(wf("{"), Err(WorkflowError::NotJson { .. })));
        assert!(matches!(
            wf("[1]"),
            Err(WorkflowError::NotObject {
                found: "an array",
                ..
            })
        ));
        assert!(matches!(
            wf(r#"{"nodes": [], "links": []}"#),
            Err(WorkflowError::UiFormat { .. })
        ));
        let err = wf(r#"{"1": {"inputs": {}}}"#).expect_err("no class");
        assert!(err.to_string().contains("w.json") && err.to_string().contains("node 1"));
    }

    #[test]
    fn execution_order_puts_dependencies_first() {
        let order = wf(GRAPH).expect("valid").execution_order();
        let pos = |id: &str| order.iter().position(|n| n.as_str() == id).expect(id);
        assert!(pos("4") < pos("3") && pos("3") < pos("9") && pos("3") < pos("10"));
    }

    #[test]
    fn set_resolves_id_title_and_unique_class() {
        let mut w = wf(GRAPH).expect("valid");
        w.apply_set("3.steps=30").expect("by id");
        w.apply_set("Sampler.seed=7").expect("by title");
        w.apply_set("CheckpointLoaderSimple.ckpt_name=b.safetensors")
            .expect("by class");
        assert_eq!(w.nodes()["3"]["inputs"]["steps"], 30);
        assert_eq!(w.nodes()["3"]["inputs"]["seed"], 7);
        assert_eq!(w.nodes()["4"]["inputs"]["ckpt_name"], "b.safetensors");
        let ambiguous = w.apply_set("SaveImage.filename_prefix=z").expect_err("two");
        assert!(ambiguous.to_string().contains("2 nodes"), "{ambiguous}");
        assert!(w.apply_set("3.nope=1").is_err());
        assert!(w.apply_set("nothing.steps=1").is_err());
        assert!(w.apply_set("3steps").is_err());
    }

    #[test]
    fn seed_sets_only_literal_seeds() {
        let mut w = wf(GRAPH).expect("valid");
        assert_eq!(w.apply_seed(|| 99), 1);
        assert_eq!(w.nodes()["3"]["inputs"]["seed"], 99);
        let seeds = w.seeds();
        assert_eq!(seeds.len(), 1);
        assert_eq!(
            (seeds[0].node.as_str(), seeds[0].input.as_str()),
            ("3", "seed")
        );
        assert_eq!(seeds[0].value.as_u64(), Some(99));
    }

    #[test]
    fn from_value_makes_the_same_checks_naming_the_origin() {
        let ok: Value = serde_json::from_str(GRAPH).expect("json");
        assert_eq!(Workflow::from_value(ok, "stdin").expect("valid").len(), 4);
        let ui = serde_json::json!({"nodes": [], "links": []});
        let err = Workflow::from_value(ui, "a.png (workflow)").expect_err("ui");
        assert!(matches!(err, WorkflowError::UiFormat { .. }));
        assert!(err.to_string().contains("a.png (workflow)"), "{err}");
        let err = Workflow::from_value(serde_json::json!({"1": 2}), "@x").expect_err("bad");
        assert!(err.to_string().contains("@x") && err.to_string().contains("node 1"));
        assert!(matches!(
            Workflow::from_value(serde_json::json!("x"), "stdin"),
            Err(WorkflowError::NotObject {
                found: "a string",
                ..
            })
        ));
    }

    #[test]
    fn load_refuses_an_oversize_file_from_its_size() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("big.json");
        let file = std::fs::File::create(&path).expect("create");
        file.set_len(crate::source::limit::JSON_LIMIT + 1)
            .expect("sparse");
        let err = Workflow::load(&path).expect_err("too large").to_string();
        assert!(
            err.contains("big.json") && err.contains("over the limit of 100.0 MiB"),
            "{err}"
        );
    }

    #[test]
    fn a_saved_prompt_body_is_accepted() {
        let w = wf(r#"{"prompt": {"1": {"class_type": "A", "inputs": {}}}, "client_id": "x"}"#)
            .expect("body form");
        assert_eq!(w.len(), 1);
    }
}
