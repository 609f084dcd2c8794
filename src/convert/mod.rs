//! Converting the editor's UI format to the API prompt, as the web frontend's
//! `graphToPrompt()` does, against the target server's `/object_info`. The rules (A–G) are
//! those observed in frontend 1.27; each module names the ones it implements.
//!
//! The function is pure: randomness comes from `ConvertOptions::seed` and the time for
//! `%date:…%` from `ConvertOptions::now`.

mod dynamic;
mod emit;
mod flatten;
mod graph;
mod groupnode;
mod primitives;
mod replace;
mod resolve;
mod schema;
mod widgets;

use crate::text::sanitize;
use serde_json::{Map, Value};
use std::fmt;

pub use chrono::NaiveDateTime;

/// What the caller decides for one conversion.
#[derive(Debug, Clone)]
pub struct ConvertOptions {
    /// Drives the dynamic-prompt picks; a fresh random seed when `None`.
    pub seed: Option<u64>,
    /// The local time `%date:…%` expands to.
    pub now: NaiveDateTime,
}

impl ConvertOptions {
    /// Options for now, in local time, with the given seed.
    pub fn local_now(seed: Option<u64>) -> Self {
        ConvertOptions {
            seed,
            now: chrono::Local::now().naive_local(),
        }
    }
}

/// One dynamic-prompt choice made during the conversion.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DynamicPick {
    pub node: String,
    pub input: String,
    pub template: String,
    pub result: String,
}

/// The result: the API prompt plus what the user should be told about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    pub prompt: Map<String, Value>,
    pub picks: Vec<DynamicPick>,
    pub warnings: Vec<String>,
}

/// A node whose class the server does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingNode {
    pub id: String,
    pub title: String,
    pub class_type: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConvertError {
    #[error("this is not a workflow in the editor's UI format (no `nodes` list)")]
    NotUiFormat,
    #[error("the server's /object_info is not an object of node classes")]
    BadObjectInfo,
    #[error("{}", missing_message(.0))]
    MissingClasses(Vec<MissingNode>),
    #[error("node {}: {}", sanitize(.node), sanitize(.problem))]
    BadNode { node: String, problem: String },
    #[error("link {}: {}", sanitize(.link), sanitize(.problem))]
    BadLink { link: String, problem: String },
    #[error("subgraph {}: {}", sanitize(.id), sanitize(.problem))]
    BadSubgraph { id: String, problem: String },
    #[error("group node {}: {}", sanitize(.name), sanitize(.problem))]
    BadGroupNode { name: String, problem: String },
    #[error("links form a cycle through node {}", sanitize(.node))]
    Cycle { node: String },
}

fn missing_message(missing: &[MissingNode]) -> String {
    let mut classes: Vec<(&str, Vec<&MissingNode>)> = Vec::new();
    for node in missing {
        match classes.iter_mut().find(|(c, _)| *c == node.class_type) {
            Some((_, nodes)) => nodes.push(node),
            None => classes.push((&node.class_type, vec![node])),
        }
    }
    let mut text = format!(
        "{} node type{} the server does not have (is a custom node missing?):",
        classes.len(),
        if classes.len() == 1 { "" } else { "s" }
    );
    for (class, nodes) in classes {
        let places: Vec<String> = nodes
            .iter()
            .map(|n| {
                if n.title.is_empty() || n.title == n.class_type {
                    format!("node {}", sanitize(&n.id))
                } else {
                    format!("node {} \"{}\"", sanitize(&n.id), sanitize(&n.title))
                }
            })
            .collect();
        text.push_str(&format!("\n  {}: {}", sanitize(class), places.join(", ")));
    }
    text
}

impl fmt::Display for DynamicPick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "node {} {}: {:?} → {:?}",
            sanitize(&self.node),
            sanitize(&self.input),
            self.template,
            self.result
        )
    }
}

/// True for the editor's format (a `nodes` list), false for an API prompt.
pub fn is_ui_format(value: &Value) -> bool {
    value.get("nodes").is_some_and(Value::is_array)
}

/// Converts a UI-format workflow to the API prompt that `POST /prompt` takes.
pub fn convert(
    ui: &Value,
    object_info: &Value,
    options: &ConvertOptions,
) -> Result<Converted, ConvertError> {
    if !is_ui_format(ui) {
        return Err(ConvertError::NotUiFormat);
    }
    let object_info = object_info.as_object().ok_or(ConvertError::BadObjectInfo)?;
    let mut workflow = graph::read_workflow(ui)?;
    groupnode::expand(&mut workflow, ui, object_info)?;
    emit::emit(&workflow, object_info, options)
}
