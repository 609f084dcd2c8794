//! Flattening: every node of the root graph and, recursively, of each subgraph instance,
//! under its execution id (`12`, `10:3`, `14:21:1`), with the input sockets it has once
//! loaded (rule A1), and the widget values each node holds.

use super::ConvertError;
use super::graph::{Graph, UiNode, Workflow};
use super::schema::ClassInfo;
use super::widgets::{Widget, widget_values};
use serde_json::Value;
use std::collections::HashMap;

/// Frontend-only node types: never sent, links through them are followed or dropped.
const VIRTUAL: [&str; 4] = ["Note", "MarkdownNote", "PrimitiveNode", "Reroute"];

#[derive(Debug, Clone, Copy)]
pub enum Kind<'a> {
    Real(&'a ClassInfo),
    /// An instance of the subgraph definition with this id.
    Instance(&'a str),
    Virtual,
    /// A type neither the server nor the file defines (a missing custom node).
    Unknown,
}

/// An input socket as the loaded node has it.
#[derive(Debug, Clone)]
pub struct LiveInput {
    pub name: String,
    pub kind: String,
    pub link: Option<i64>,
}

/// One node in the flattened network.
#[derive(Debug, Clone)]
pub struct Exec<'a> {
    pub id: String,
    pub node: &'a UiNode,
    pub graph: &'a Graph,
    /// The subgraph definition the node lives in; `None` at the root.
    pub graph_key: Option<&'a str>,
    /// Execution id of the instance that contains the node.
    pub parent: Option<String>,
    pub kind: Kind<'a>,
    pub inputs: Vec<LiveInput>,
}

impl Exec<'_> {
    pub fn output_type(&self, slot: usize) -> String {
        if let Some(output) = self.node.outputs.get(slot) {
            return output.kind.clone();
        }
        match self.kind {
            Kind::Real(class) => class.outputs.get(slot).cloned(),
            _ => None,
        }
        .unwrap_or_else(|| "*".to_owned())
    }

    /// Muted (2) and bypassed (4) nodes are not sent.
    pub fn is_active(&self) -> bool {
        !matches!(self.node.mode, 2 | 4)
    }

    /// The title the node shows (rule A4).
    pub fn title(&self) -> String {
        if let Some(title) = &self.node.title {
            return title.clone();
        }
        match self.kind {
            Kind::Real(class) => class.display_title(),
            _ => self.node.class.clone(),
        }
    }
}

/// Where a node's widget values live: per node of a graph level, shared by every instance
/// of a subgraph (the definition's nodes are one set of objects in the editor).
pub type WidgetKey = (Option<String>, String);

pub fn widget_key(graph_key: Option<&str>, node: &str) -> WidgetKey {
    (graph_key.map(str::to_owned), node.to_owned())
}

pub struct Flat<'a> {
    pub execs: Vec<Exec<'a>>,
    pub by_id: HashMap<String, usize>,
    pub workflow: &'a Workflow,
    /// Current widget values of real nodes and promoted widgets of instances.
    pub widgets: HashMap<WidgetKey, Vec<Widget>>,
}

pub fn classify<'a>(
    node: &'a UiNode,
    workflow: &'a Workflow,
    classes: &'a HashMap<String, ClassInfo>,
) -> Kind<'a> {
    if let Some((id, _)) = workflow.subgraphs.get_key_value(node.class.as_str()) {
        return Kind::Instance(id.as_str());
    }
    if VIRTUAL.contains(&node.class.as_str()) {
        return Kind::Virtual;
    }
    match classes.get(&node.class) {
        Some(class) => Kind::Real(class),
        None => Kind::Unknown,
    }
}

/// The subgraph inputs that are promoted widgets: wired to a widget socket inside (C1).
pub fn promoted_ports(
    subgraph: &Graph,
    workflow: &Workflow,
    classes: &HashMap<String, ClassInfo>,
) -> Vec<usize> {
    let mut promoted = Vec::new();
    if subgraph.group {
        return promoted;
    }
    for (index, port) in subgraph.inputs.iter().enumerate() {
        let is_widget = port.link_ids.iter().any(|link_id| {
            let Some(link) = subgraph.links.get(link_id) else {
                return false;
            };
            let Some(target) = subgraph.node(&link.target_id) else {
                return false;
            };
            let Some(input) = target.inputs.iter().find(|i| i.link == Some(*link_id)) else {
                return false;
            };
            input.widget.is_some()
                || match classify(target, workflow, classes) {
                    Kind::Real(class) => class.is_widget(&input.name),
                    _ => false,
                }
        });
        if is_widget {
            promoted.push(index);
        }
    }
    promoted
}

fn live_inputs(node: &UiNode, kind: Kind<'_>, workflow: &Workflow) -> Vec<LiveInput> {
    let serialized = |name: &str| node.inputs.iter().find(|i| i.name == name);
    match kind {
        // Once loaded, a node has a socket for every declared input, in declaration order;
        // the file may list only the linked ones (rule C6: names decide, not slots).
        Kind::Real(class) => {
            let mut inputs: Vec<LiveInput> = class
                .inputs
                .iter()
                .map(|spec| LiveInput {
                    name: spec.name.clone(),
                    kind: spec.kind.clone(),
                    link: serialized(&spec.name).and_then(|i| i.link),
                })
                .collect();
            for extra in &node.inputs {
                if class.input(&extra.name).is_none() {
                    inputs.push(LiveInput {
                        name: extra.name.clone(),
                        kind: extra.kind.clone(),
                        link: extra.link,
                    });
                }
            }
            inputs
        }
        Kind::Instance(id) => workflow.subgraphs[id]
            .inputs
            .iter()
            .map(|port| LiveInput {
                name: port.name.clone(),
                kind: port.kind.clone(),
                link: serialized(&port.name).and_then(|i| i.link),
            })
            .collect(),
        Kind::Virtual | Kind::Unknown => node
            .inputs
            .iter()
            .map(|i| LiveInput {
                name: i.name.clone(),
                kind: i.kind.clone(),
                link: i.link,
            })
            .collect(),
    }
}

/// Subgraphs nest; a definition that contains itself would never end.
const MAX_DEPTH: usize = 32;

#[allow(clippy::too_many_arguments)]
fn add_level<'a>(
    flat: &mut Flat<'a>,
    graph: &'a Graph,
    graph_key: Option<&'a str>,
    path: &[String],
    classes: &'a HashMap<String, ClassInfo>,
) -> Result<(), ConvertError> {
    if path.len() > MAX_DEPTH {
        return Err(ConvertError::BadSubgraph {
            id: graph_key.unwrap_or("root").to_owned(),
            problem: format!("nests deeper than {MAX_DEPTH} levels (does it contain itself?)"),
        });
    }
    for node in &graph.nodes {
        let kind = classify(node, flat.workflow, classes);
        let mut id_path = path.to_vec();
        id_path.push(node.id.clone());
        let id = id_path.join(":");
        if let Kind::Instance(subgraph_id) = kind {
            let subgraph = &flat.workflow.subgraphs[subgraph_id];
            add_level(flat, subgraph, Some(subgraph_id), &id_path, classes)?;
        }
        let exec = Exec {
            id: id.clone(),
            node,
            graph,
            graph_key,
            parent: (!path.is_empty()).then(|| path.join(":")),
            kind,
            inputs: live_inputs(node, kind, flat.workflow),
        };
        flat.by_id.insert(id, flat.execs.len());
        flat.execs.push(exec);
    }
    Ok(())
}

/// The widget values of every real node and the promoted values of every instance, per
/// graph level (so shared between instances of a definition).
fn initial_widgets(
    workflow: &Workflow,
    classes: &HashMap<String, ClassInfo>,
) -> HashMap<WidgetKey, Vec<Widget>> {
    let mut widgets = HashMap::new();
    let levels = std::iter::once((None, &workflow.root)).chain(
        workflow
            .subgraphs
            .iter()
            .map(|(id, graph)| (Some(id.as_str()), graph)),
    );
    for (graph_key, graph) in levels {
        for node in &graph.nodes {
            let values = match classify(node, workflow, classes) {
                Kind::Real(class) => widget_values(class, &node.widgets_values),
                Kind::Instance(id) => promoted_values(node, id, workflow, classes, 0),
                _ => continue,
            };
            widgets.insert(widget_key(graph_key, &node.id), values);
        }
    }
    widgets
}

/// An instance stores one value per promoted widget, in subgraph-input order, with no
/// control companion (rule C1). A missing value falls back to the inner widget's own.
fn promoted_values(
    node: &UiNode,
    subgraph_id: &str,
    workflow: &Workflow,
    classes: &HashMap<String, ClassInfo>,
    depth: usize,
) -> Vec<Widget> {
    let subgraph = &workflow.subgraphs[subgraph_id];
    let stored = node.widgets_values.as_array();
    promoted_ports(subgraph, workflow, classes)
        .into_iter()
        .enumerate()
        .map(|(position, port_index)| {
            let port = &subgraph.inputs[port_index];
            let value = stored
                .and_then(|values| values.get(position).cloned())
                .or_else(|| inner_widget_value(subgraph, port_index, workflow, classes, depth))
                .unwrap_or(Value::Null);
            Widget {
                name: port.name.clone(),
                value,
            }
        })
        .collect()
}

fn inner_widget_value(
    subgraph: &Graph,
    port_index: usize,
    workflow: &Workflow,
    classes: &HashMap<String, ClassInfo>,
    depth: usize,
) -> Option<Value> {
    // A definition that contains itself is refused later; here it just has no value.
    if depth > MAX_DEPTH {
        return None;
    }
    let port = subgraph.inputs.get(port_index)?;
    port.link_ids.iter().find_map(|link_id| {
        let link = subgraph.links.get(link_id)?;
        let target = subgraph.node(&link.target_id)?;
        let input = target.inputs.iter().find(|i| i.link == Some(*link_id))?;
        let name = input.widget.as_deref().unwrap_or(&input.name);
        let widgets = match classify(target, workflow, classes) {
            Kind::Real(class) => widget_values(class, &target.widgets_values),
            // A nested instance's promoted widget was copied from further in.
            Kind::Instance(id) => promoted_values(target, id, workflow, classes, depth + 1),
            _ => return None,
        };
        widgets
            .into_iter()
            .find(|w| w.name == name)
            .map(|w| w.value)
    })
}

pub fn flatten<'a>(
    workflow: &'a Workflow,
    classes: &'a HashMap<String, ClassInfo>,
) -> Result<Flat<'a>, ConvertError> {
    let mut flat = Flat {
        execs: Vec::new(),
        by_id: HashMap::new(),
        workflow,
        widgets: initial_widgets(workflow, classes),
    };
    add_level(&mut flat, &workflow.root, None, &[], classes)?;
    Ok(flat)
}
