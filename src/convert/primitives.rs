//! PrimitiveNodes (rule D5): the first stored value is copied into every widget the node
//! feeds, through legacy reroutes, before anything is serialised. The link itself then
//! resolves to nothing.

use super::flatten::{WidgetKey, widget_key};
use super::graph::{Graph, Workflow};
use super::widgets::Widget;
use serde_json::Value;
use std::collections::HashMap;

/// With this property set, the value goes through the `%Node.widget%` replacements first.
pub const REPLACE_PROPERTY: &str = "Run widget replace on values";

/// One value to copy: into widget `widget` of node `node` in graph level `graph_key`.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub target: WidgetKey,
    pub widget: String,
    pub value: Value,
    pub replace: bool,
}

/// The links a node's first output feeds, with reroute nodes looked through.
fn fed_links(graph: &Graph, node_id: &str, depth: usize) -> Vec<i64> {
    let Some(node) = graph.node(node_id) else {
        return Vec::new();
    };
    let Some(output) = node.outputs.first() else {
        return Vec::new();
    };
    let mut links = Vec::new();
    for link_id in &output.links {
        let Some(link) = graph.links.get(link_id) else {
            continue;
        };
        match graph.node(&link.target_id) {
            Some(target) if target.class == "Reroute" && depth < 64 => {
                links.extend(fed_links(graph, &target.id, depth + 1));
            }
            _ => links.push(*link_id),
        }
    }
    links
}

/// Every assignment the PrimitiveNodes of the workflow make.
pub fn assignments(workflow: &Workflow) -> Vec<Assignment> {
    // File order, so that two primitives feeding one widget always end the same way.
    let levels = std::iter::once((None, &workflow.root)).chain(
        workflow
            .subgraph_order
            .iter()
            .filter_map(|id| workflow.subgraphs.get(id).map(|g| (Some(id.as_str()), g))),
    );
    let mut out = Vec::new();
    for (graph_key, graph) in levels {
        for node in graph.nodes.iter().filter(|n| n.class == "PrimitiveNode") {
            let Some(value) = node.widgets_values.as_array().and_then(|v| v.first()) else {
                continue;
            };
            let replace = node
                .properties
                .get(REPLACE_PROPERTY)
                .and_then(Value::as_bool)
                == Some(true);
            for link_id in fed_links(graph, &node.id, 0) {
                let Some(link) = graph.links.get(&link_id) else {
                    continue;
                };
                let Some(target) = graph.node(&link.target_id) else {
                    continue;
                };
                // The socket is the one holding this link; its widget names the target.
                let Some(input) = target.inputs.iter().find(|i| i.link == Some(link_id)) else {
                    continue;
                };
                out.push(Assignment {
                    target: widget_key(graph_key, &target.id),
                    widget: input.widget.clone().unwrap_or_else(|| input.name.clone()),
                    value: value.clone(),
                    replace,
                });
            }
        }
    }
    out
}

/// Applies assignments; a target without such a widget is left alone, as in the editor.
pub fn apply(widgets: &mut HashMap<WidgetKey, Vec<Widget>>, assignment: &Assignment) {
    if let Some(widget) = widgets
        .get_mut(&assignment.target)
        .and_then(|list| list.iter_mut().find(|w| w.name == assignment.widget))
    {
        widget.value = assignment.value.clone();
    }
}
