//! Deriving a group node's sockets, widgets and outputs from its definition, as the
//! editor does: per inner node, its widgets, then its unlinked sockets; widgets converted to
//! inputs last; clashing names prefixed with the node's title (or type).

use crate::convert::ConvertError;
use crate::convert::graph::UiNode;
use crate::convert::schema::{ClassInfo, InputSpec};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};

fn bad(name: &str, problem: impl Into<String>) -> ConvertError {
    ConvertError::BadGroupNode {
        name: name.to_owned(),
        problem: problem.into(),
    }
}

/// `[origin index, origin slot, target index, target slot, …, type]`.
#[derive(Debug, Clone)]
pub(super) struct InnerLink {
    pub(super) from: usize,
    pub(super) from_slot: i64,
    pub(super) to: usize,
    pub(super) to_slot: usize,
}

/// A widget of the group node and the inner widget it feeds.
#[derive(Debug, Clone)]
pub(super) struct GroupWidget {
    pub(super) node: usize,
    pub(super) input: String,
    /// Places it takes in `widgets_values` (1, or 2 with a companion).
    pub(super) places: usize,
}

/// A socket of the group node and the inner socket it feeds.
#[derive(Debug, Clone)]
pub(super) struct GroupInput {
    pub(super) name: String,
    pub(super) kind: String,
    pub(super) node: usize,
    pub(super) input: String,
}

/// What the editor derives from one group definition.
pub(super) struct GroupConfig {
    pub(super) nodes: Vec<UiNode>,
    pub(super) links: Vec<InnerLink>,
    pub(super) widgets: Vec<GroupWidget>,
    pub(super) inputs: Vec<GroupInput>,
    pub(super) outputs: Vec<(usize, i64, String)>,
    pub(super) classes: HashMap<String, ClassInfo>,
    /// Each inner node's stored socket names, in its stored (old) layout.
    pub(super) raw_inputs: Vec<Vec<String>>,
}

/// The inputs and outputs a group gives an inner node (its "definition").
struct InnerDef {
    inputs: Vec<InputSpec>,
    outputs: Vec<String>,
}

fn spec(name: &str, kind: &str, options: Value) -> InputSpec {
    let def = json!({"input": {"required": {name: [kind, options]}}});
    ClassInfo::parse("", &def).inputs.remove(0)
}

struct Builder<'a> {
    data: &'a Map<String, Value>,
    raw_nodes: Vec<&'a Value>,
    links: Vec<InnerLink>,
    link_types: Vec<String>,
    external: HashSet<(usize, i64)>,
    seen: HashMap<String, u32>,
}

impl Builder<'_> {
    fn links_to(&self, node: usize, slot: usize) -> Option<usize> {
        self.links
            .iter()
            .position(|l| l.to == node && l.to_slot == slot)
    }

    fn links_from(&self, node: usize) -> Vec<usize> {
        (0..self.links.len())
            .filter(|&i| self.links[i].from == node)
            .collect()
    }

    fn title_or_type(&self, node: usize) -> String {
        let raw = self.raw_nodes[node];
        raw.get("title")
            .and_then(Value::as_str)
            .or_else(|| raw.get("type").and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned()
    }

    /// The editor's `getInputConfig` naming: labels and custom names first, then a
    /// title prefix on a clash (and a counter on a second clash).
    fn input_name(&mut self, node: usize, input: &str) -> String {
        let raw = self.raw_nodes[node];
        let custom = self
            .data
            .get("config")
            .and_then(|c| c.get(node.to_string()))
            .and_then(|c| c.get("input"))
            .and_then(|c| c.get(input))
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str);
        let label = raw
            .get("inputs")
            .and_then(Value::as_array)
            .and_then(|list| {
                list.iter()
                    .find(|i| i.get("name").and_then(Value::as_str) == Some(input))
            })
            .and_then(|i| i.get("label"))
            .and_then(Value::as_str);
        let mut name = custom.or(label).unwrap_or(input).to_owned();
        let mut key = name.clone();
        let is_titled_primitive = raw.get("type").and_then(Value::as_str) == Some("PrimitiveNode")
            && raw.get("title").and_then(Value::as_str).is_some();
        if is_titled_primitive || self.seen.contains_key(&name) {
            let prefix = format!("{} ", self.title_or_type(node));
            name = format!("{prefix}{input}");
            key = name.clone();
            if let Some(count) = self.seen.get(&name) {
                name = format!("{prefix}{count} {input}");
            }
        }
        let count = self.seen.get(&key).copied().unwrap_or(1) + 1;
        self.seen.insert(key, count);
        name
    }

    fn hidden_input(&self, node: usize, input: &str) -> bool {
        self.data
            .get("config")
            .and_then(|c| c.get(node.to_string()))
            .and_then(|c| c.get("input"))
            .and_then(|c| c.get(input))
            .and_then(|c| c.get("visible"))
            .and_then(Value::as_bool)
            == Some(false)
    }

    fn output_visible(&self, node: usize, slot: i64, internally_linked: bool) -> bool {
        self.data
            .get("config")
            .and_then(|c| c.get(node.to_string()))
            .and_then(|c| c.get("output"))
            .and_then(|c| c.get(slot.to_string()))
            .and_then(|c| c.get("visible"))
            .and_then(Value::as_bool)
            .unwrap_or(!internally_linked || self.external.contains(&(node, slot)))
    }

    /// The definition an inner node has inside the group, if it takes part at all.
    fn inner_def(
        &self,
        node: usize,
        class: &str,
        classes: &HashMap<String, ClassInfo>,
    ) -> Option<InnerDef> {
        if let Some(info) = classes.get(class) {
            return Some(InnerDef {
                inputs: info.inputs.clone(),
                outputs: info.outputs.clone(),
            });
        }
        let from = self.links_from(node);
        match class {
            "PrimitiveNode" => {
                let first = *from.first()?;
                let kind = self.link_types[first].clone();
                let mut options = json!({});
                if kind == "COMBO" {
                    // The combo's options come from the widget it feeds.
                    let link = &self.links[first];
                    let target = self.raw_nodes[link.to];
                    let target_class = target.get("type").and_then(Value::as_str)?;
                    let widget = target
                        .get("inputs")
                        .and_then(|i| i.get(link.to_slot))
                        .and_then(|i| i.get("widget"))
                        .and_then(|w| w.get("name"))
                        .and_then(Value::as_str)?;
                    let target_spec = classes.get(target_class)?.input(widget)?;
                    options = Value::Object(target_spec.options.clone());
                    if !target_spec.choices.is_empty() {
                        let mut s = spec("value", "COMBO", options);
                        s.choices = target_spec.choices.clone();
                        s.options
                            .insert("control_after_generate".into(), json!(true));
                        return Some(InnerDef {
                            inputs: vec![s],
                            outputs: vec!["COMBO".into()],
                        });
                    }
                }
                if let Value::Object(o) = &mut options {
                    o.insert("control_after_generate".into(), json!(true));
                }
                Some(InnerDef {
                    inputs: vec![spec("value", &kind, options)],
                    outputs: vec![kind],
                })
            }
            "Reroute" => {
                let to = self.links_to(node, 0);
                if to.is_some() && !from.is_empty() && !self.external.contains(&(node, 0)) {
                    // Used only inside the group.
                    return None;
                }
                let kind = match (from.first(), to) {
                    (Some(&first), _) => self.link_types[first].clone(),
                    (None, Some(link)) => self.link_types[link].clone(),
                    (None, None) => "*".to_owned(),
                };
                Some(InnerDef {
                    inputs: vec![spec(&kind, &kind, json!({"forceInput": true}))],
                    outputs: vec![kind],
                })
            }
            _ => None,
        }
    }
}

pub(super) fn widget_capable(input: &InputSpec) -> bool {
    matches!(
        input.kind.as_str(),
        "INT" | "FLOAT" | "STRING" | "BOOLEAN" | "COMBO"
    )
}

fn as_index(value: Option<&Value>) -> Option<usize> {
    value
        .and_then(Value::as_u64)
        .and_then(|v| usize::try_from(v).ok())
}

pub(super) fn build(
    name: &str,
    data: &Value,
    object_info: &Map<String, Value>,
) -> Result<GroupConfig, ConvertError> {
    let data = data
        .as_object()
        .ok_or_else(|| bad(name, "its definition is not an object"))?;
    let raw_nodes: Vec<&Value> = data
        .get("nodes")
        .and_then(Value::as_array)
        .ok_or_else(|| bad(name, "its definition has no `nodes` list"))?
        .iter()
        .collect();
    let mut links = Vec::new();
    let mut link_types = Vec::new();
    for (index, link) in data
        .get("links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let parts = link
            .as_array()
            .ok_or_else(|| bad(name, format!("link {index} is not a list")))?;
        // Links leaving the copied nodes have no origin; they do not matter here.
        if parts.first().is_none_or(Value::is_null) {
            continue;
        }
        let (Some(from), Some(from_slot), Some(to), Some(to_slot)) = (
            as_index(parts.first()),
            parts.get(1).and_then(Value::as_i64),
            as_index(parts.get(2)),
            as_index(parts.get(3)),
        ) else {
            return Err(bad(name, format!("link {index} is malformed")));
        };
        if from >= raw_nodes.len() || to >= raw_nodes.len() {
            return Err(bad(
                name,
                format!("link {index} names a node it does not have"),
            ));
        }
        links.push(InnerLink {
            from,
            from_slot,
            to,
            to_slot,
        });
        link_types.push(
            parts
                .get(5)
                .and_then(Value::as_str)
                .unwrap_or("*")
                .to_owned(),
        );
    }
    let external = data
        .get("external")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| Some((as_index(e.get(0))?, e.get(1)?.as_i64()?)))
        .collect();
    let mut classes = HashMap::new();
    let mut nodes = Vec::new();
    for (index, raw) in raw_nodes.iter().enumerate() {
        let class = raw
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(name, format!("inner node {index} has no type")))?;
        if let Some(def) = object_info.get(class) {
            classes
                .entry(class.to_owned())
                .or_insert_with(|| ClassInfo::parse(class, def));
        }
        let object = raw
            .as_object()
            .ok_or_else(|| bad(name, format!("inner node {index} is not an object")))?;
        nodes.push(UiNode {
            id: index.to_string(),
            class: class.to_owned(),
            title: object
                .get("title")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            mode: object.get("mode").and_then(Value::as_i64).unwrap_or(0),
            inputs: Vec::new(),
            outputs: Vec::new(),
            widgets_values: object.get("widgets_values").cloned().unwrap_or(Value::Null),
            properties: object
                .get("properties")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        });
    }
    let mut builder = Builder {
        data,
        raw_nodes,
        links,
        link_types,
        external,
        seen: HashMap::new(),
    };
    let mut widgets = Vec::new();
    let mut inputs = Vec::new();
    let mut outputs = Vec::new();
    let mut converted_later: Vec<(usize, usize, String)> = Vec::new();
    for (index, inner) in nodes.iter().enumerate() {
        let Some(def) = builder.inner_def(index, &inner.class, &classes) else {
            continue;
        };
        let raw_inputs = builder.raw_nodes[index]
            .get("inputs")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut slots = Vec::new();
        let mut converted = Vec::new();
        for input in &def.inputs {
            if !widget_capable(input) {
                slots.push(input.clone());
                continue;
            }
            let converted_at = raw_inputs.iter().position(|i| {
                i.get("name").and_then(Value::as_str) == Some(input.name.as_str())
                    && i.get("widget")
                        .and_then(|w| w.get("name"))
                        .and_then(Value::as_str)
                        == Some(input.name.as_str())
            });
            if let Some(at) = converted_at {
                converted.push((at, input.clone()));
                continue;
            }
            if input.options.get("forceInput").and_then(Value::as_bool) == Some(true) {
                // A socket on the group node that nothing maps to.
                builder.input_name(index, &input.name);
                continue;
            }
            builder.input_name(index, &input.name);
            widgets.push(GroupWidget {
                node: index,
                input: input.name.clone(),
                places: places(input),
            });
        }
        for (slot, input) in slots.iter().enumerate() {
            if builder.links_to(index, slot).is_some() {
                continue;
            }
            let socket = builder.input_name(index, &input.name);
            if builder.hidden_input(index, &input.name) {
                continue;
            }
            inputs.push(GroupInput {
                name: socket,
                kind: input.kind.clone(),
                node: index,
                input: input.name.clone(),
            });
        }
        converted.sort_by_key(|(at, _)| *at);
        for (k, (_, input)) in converted.into_iter().enumerate() {
            converted_later.push((index, slots.len() + k, input.name));
        }
        for (slot, kind) in def.outputs.iter().enumerate() {
            let slot = slot as i64;
            let linked = builder
                .links
                .iter()
                .any(|l| l.from == index && l.from_slot == slot);
            if builder.output_visible(index, slot, linked) {
                outputs.push((index, slot, kind.clone()));
            }
        }
    }
    // Widgets converted to inputs come after every node's own entries.
    for (index, slot, input_name) in converted_later {
        if builder.links_to(index, slot).is_some() {
            continue;
        }
        let socket = builder.input_name(index, &input_name);
        let input = classes
            .get(&nodes[index].class)
            .and_then(|c| c.input(&input_name))
            .cloned();
        let Some(input) = input else { continue };
        widgets.push(GroupWidget {
            node: index,
            input: input_name.clone(),
            places: places(&input),
        });
        inputs.push(GroupInput {
            name: socket,
            kind: input.kind.clone(),
            node: index,
            input: input_name,
        });
    }
    let raw_inputs = builder
        .raw_nodes
        .iter()
        .map(|raw| {
            raw.get("inputs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|i| {
                    i.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        })
        .collect();
    Ok(GroupConfig {
        raw_inputs,
        nodes,
        links: builder.links,
        widgets,
        inputs,
        outputs,
        classes,
    })
}

/// A group's seed widgets always get a control companion; others as their class says.
fn places(input: &InputSpec) -> usize {
    let control = matches!(input.name.as_str(), "seed" | "noise_seed")
        || (matches!(input.kind.as_str(), "INT" | "COMBO")
            && input
                .options
                .get("control_after_generate")
                .is_some_and(|v| v.as_bool() != Some(false) && !v.is_null()));
    let upload = [
        "image_upload",
        "video_upload",
        "audio_upload",
        "animated_image_upload",
    ]
    .iter()
    .any(|key| input.options.get(*key).and_then(Value::as_bool) == Some(true));
    let combo = input.kind == "COMBO";
    1 + usize::from(control) * (1 + usize::from(combo)) + usize::from(upload && combo)
}
