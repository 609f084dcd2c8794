//! Old group nodes (`workflow>Name` types defined in `extra.groupNodes`): each instance is
//! rewritten into a subgraph of its own, so the subgraph machinery resolves its links. Inner
//! ids are the node's index in the group definition (`7:0`, `7:1`; rule A1).
//!
//! The group node's `widgets_values` are positional over the widget list `config` derives.

mod config;

use super::ConvertError;
use super::graph::{
    Graph, InputSlot, Link, OutputSlot, SUBGRAPH_INPUT_NODE, SubgraphPort, UiNode, Workflow,
};
use super::schema::InputSpec;
use super::widgets::widget_values;
use config::{GroupConfig, build, widget_capable};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// Current and old separators between the prefix and the group's name.
const PREFIXES: [&str; 2] = ["workflow>", "workflow/"];

impl GroupConfig {
    /// The subgraph one instance stands for, with the instance's widget values pushed into
    /// its inner nodes (the editor's `updateInnerWidgets`).
    fn instantiate(&self, instance: &UiNode, name: &str) -> Graph {
        let mut nodes = self.nodes.clone();
        // Inner widget values as name → value, so the group's values can replace them.
        let mut values: Vec<Option<Map<String, Value>>> = nodes
            .iter()
            .map(|node| {
                self.classes.get(&node.class).map(|class| {
                    widget_values(class, &node.widgets_values)
                        .into_iter()
                        .map(|w| (w.name, w.value))
                        .collect()
                })
            })
            .collect();
        let stored = instance.widgets_values.as_array();
        let mut place = 0;
        for widget in &self.widgets {
            if let Some(value) = stored.and_then(|v| v.get(place)) {
                match values[widget.node].as_mut() {
                    Some(map) => {
                        map.insert(widget.input.clone(), value.clone());
                    }
                    // A PrimitiveNode: its value is what it copies into its targets.
                    None => nodes[widget.node].widgets_values = json!([value.clone()]),
                }
            }
            place += widget.places;
        }
        for (node, map) in nodes.iter_mut().zip(values) {
            if let Some(map) = map {
                node.widgets_values = Value::Object(map);
            }
        }
        let mut graph = Graph {
            name: name.to_owned(),
            group: true,
            ..Graph::default()
        };
        let mut next_link = 1;
        let mut add_link = |graph: &mut Graph, origin: String, slot: i64, target: String| {
            let id = next_link;
            next_link += 1;
            graph.links.insert(
                id,
                Link {
                    id,
                    origin_id: origin,
                    origin_slot: slot,
                    target_id: target,
                },
            );
            id
        };
        // Inner sockets: the ones linked inside the group, then the group's own inputs.
        let mut inner_inputs: Vec<Vec<InputSlot>> = vec![Vec::new(); nodes.len()];
        for link in &self.links {
            let raw_input = self.input_name_at(link.to, link.to_slot);
            let id = add_link(
                &mut graph,
                link.from.to_string(),
                link.from_slot,
                link.to.to_string(),
            );
            inner_inputs[link.to].push(InputSlot {
                name: raw_input.clone(),
                kind: "*".to_owned(),
                link: Some(id),
                widget: Some(raw_input),
            });
        }
        for (port, input) in self.inputs.iter().enumerate() {
            let id = add_link(
                &mut graph,
                SUBGRAPH_INPUT_NODE.to_owned(),
                port as i64,
                input.node.to_string(),
            );
            inner_inputs[input.node].push(InputSlot {
                name: input.input.clone(),
                kind: input.kind.clone(),
                link: Some(id),
                widget: None,
            });
            graph.inputs.push(SubgraphPort {
                name: input.name.clone(),
                kind: input.kind.clone(),
                link_ids: vec![id],
            });
        }
        for (node, slot, kind) in &self.outputs {
            let id = add_link(&mut graph, node.to_string(), *slot, "-20".to_owned());
            graph.outputs.push(SubgraphPort {
                name: kind.clone(),
                kind: kind.clone(),
                link_ids: vec![id],
            });
        }
        for (node, inputs) in nodes.iter_mut().zip(inner_inputs) {
            node.inputs = inputs;
            node.outputs = Vec::<OutputSlot>::new();
        }
        // PrimitiveNodes find their targets through their output links.
        let mut outputs: HashMap<usize, Vec<i64>> = HashMap::new();
        for (id, link) in &graph.links {
            if let Ok(from) = link.origin_id.parse::<usize>()
                && link.origin_slot == 0
            {
                outputs.entry(from).or_default().push(*id);
            }
        }
        for (index, node) in nodes.iter_mut().enumerate() {
            let mut links = outputs.remove(&index).unwrap_or_default();
            links.sort_unstable();
            node.outputs.push(OutputSlot {
                kind: "*".to_owned(),
                links,
            });
        }
        for node in nodes {
            graph.by_id.insert(node.id.clone(), graph.nodes.len());
            graph.nodes.push(node);
        }
        graph
    }

    /// The name of an inner node's socket at `slot` of its stored (old) layout.
    fn input_name_at(&self, node: usize, slot: usize) -> String {
        if let Some(name) = self.raw_inputs.get(node).and_then(|names| names.get(slot)) {
            return name.clone();
        }
        let inner = &self.nodes[node];
        if let Some(class) = self.classes.get(&inner.class) {
            // Old layout: the sockets in declaration order, then converted widgets.
            let sockets: Vec<&InputSpec> =
                class.inputs.iter().filter(|i| !widget_capable(i)).collect();
            if let Some(input) = sockets.get(slot) {
                return input.name.clone();
            }
        }
        slot.to_string()
    }
}

/// Rewrites every group-node instance of the root graph into its own subgraph.
pub fn expand(
    workflow: &mut Workflow,
    ui: &Value,
    object_info: &Map<String, Value>,
) -> Result<(), ConvertError> {
    let Some(groups) = ui
        .get("extra")
        .and_then(|e| e.get("groupNodes"))
        .and_then(Value::as_object)
    else {
        return Ok(());
    };
    let mut configs: HashMap<String, GroupConfig> = HashMap::new();
    for index in 0..workflow.root.nodes.len() {
        let class = workflow.root.nodes[index].class.clone();
        let Some(name) = PREFIXES.iter().find_map(|p| class.strip_prefix(p)) else {
            continue;
        };
        let Some(data) = groups.get(name) else {
            continue;
        };
        if !configs.contains_key(name) {
            configs.insert(name.to_owned(), build(name, data, object_info)?);
        }
        let instance = &workflow.root.nodes[index];
        let key = format!("{class}#{}", instance.id);
        let graph = configs[name].instantiate(instance, name);
        workflow.subgraph_order.push(key.clone());
        workflow.subgraphs.insert(key.clone(), graph);
        workflow.root.nodes[index].class = key;
    }
    Ok(())
}
