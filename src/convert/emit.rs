//! Building the prompt (rules A and B): one entry per active real node, widgets first, then
//! resolved links, then links to nodes that were left out removed. Widget values go through
//! the serialisers the frontend attaches: dynamic prompts (E) and save prefixes (F).

use super::flatten::{Flat, Kind, flatten, widget_key};
use super::graph::Workflow;
use super::primitives;
use super::replace::{self, SAVE_CLASSES, Searchable};
use super::resolve::Resolved;
use super::schema::ClassInfo;
use super::{ConvertError, ConvertOptions, Converted, DynamicPick, MissingNode, dynamic};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};

/// Parses only the classes the workflow uses: `/object_info` can hold thousands.
fn used_classes(
    workflow: &Workflow,
    object_info: &Map<String, Value>,
) -> HashMap<String, ClassInfo> {
    let mut classes = HashMap::new();
    let levels = std::iter::once(&workflow.root).chain(workflow.subgraphs.values());
    for graph in levels {
        for node in &graph.nodes {
            if classes.contains_key(&node.class) {
                continue;
            }
            if let Some(def) = object_info.get(&node.class) {
                classes.insert(node.class.clone(), ClassInfo::parse(&node.class, def));
            }
        }
    }
    classes
}

/// Every node with its current widgets, root first, for `%Node.widget%` lookups.
fn searchables<'a>(
    flat: &'a Flat<'a>,
    classes: &'a HashMap<String, ClassInfo>,
) -> Vec<Searchable<'a>> {
    let workflow = flat.workflow;
    let levels = std::iter::once((None, &workflow.root)).chain(
        workflow
            .subgraph_order
            .iter()
            .filter_map(|id| workflow.subgraphs.get(id).map(|g| (Some(id.as_str()), g))),
    );
    let mut out = Vec::new();
    for (graph_key, graph) in levels {
        for node in &graph.nodes {
            let class = classes.get(&node.class);
            let search_name = node
                .properties
                .get("Node name for S&R")
                .and_then(Value::as_str)
                .or(class.map(|c| c.name.as_str()));
            let title = match (&node.title, class) {
                (Some(title), _) => title.clone(),
                (None, Some(class)) => class.display_title(),
                (None, None) => node.class.clone(),
            };
            let widgets = flat
                .widgets
                .get(&widget_key(graph_key, &node.id))
                .map(|list| list.iter().map(|w| (w.name.as_str(), &w.value)).collect())
                .unwrap_or_default();
            out.push(Searchable {
                search_name,
                title,
                widgets,
            });
        }
    }
    out
}

pub fn emit(
    workflow: &Workflow,
    object_info: &Map<String, Value>,
    options: &ConvertOptions,
) -> Result<Converted, ConvertError> {
    let classes = used_classes(workflow, object_info);
    let mut flat = flatten(workflow, &classes)?;
    let mut warnings = Vec::new();

    let mut missing = Vec::new();
    for exec in &flat.execs {
        if !matches!(exec.kind, Kind::Unknown) {
            continue;
        }
        if exec.is_active() {
            missing.push(MissingNode {
                id: exec.id.clone(),
                title: exec.title(),
                class_type: exec.node.class.clone(),
            });
        } else {
            warnings.push(format!(
                "node {} is of type `{}`, which the server does not have; it is {} and so not sent",
                exec.id,
                exec.node.class,
                if exec.node.mode == 2 {
                    "muted"
                } else {
                    "bypassed"
                }
            ));
        }
    }
    if !missing.is_empty() {
        return Err(ConvertError::MissingClasses(missing));
    }

    for mut assignment in primitives::assignments(workflow) {
        if assignment.replace
            && let Value::String(text) = &assignment.value
            && !text.is_empty()
        {
            let nodes = searchables(&flat, &classes);
            assignment.value = Value::String(replace::apply(text, &nodes, &options.now));
        }
        primitives::apply(&mut flat.widgets, &assignment);
    }

    let mut rng = StdRng::seed_from_u64(options.seed.unwrap_or_else(rand::random));
    let mut prompt = Map::new();
    let mut picks = Vec::new();
    let nodes_for_replace = searchables(&flat, &classes);
    for (index, exec) in flat.execs.iter().enumerate() {
        let Kind::Real(class) = exec.kind else {
            continue;
        };
        if !exec.is_active() {
            continue;
        }
        let mut inputs = Map::new();
        let mut from_widget: Vec<String> = Vec::new();
        if let Some(widgets) = flat.widgets.get(&widget_key(exec.graph_key, &exec.node.id)) {
            for widget in widgets {
                inputs.insert(widget.name.clone(), wrap(widget.value.clone()));
                from_widget.push(widget.name.clone());
            }
        }
        for (slot, input) in exec.inputs.iter().enumerate() {
            match flat.resolve_input(index, slot, &mut HashSet::new(), None)? {
                None => continue,
                Some(Resolved::Value(value)) => {
                    inputs.insert(input.name.clone(), wrap(value));
                }
                Some(Resolved::Link(id, origin_slot)) => {
                    inputs.insert(input.name.clone(), json!([id, origin_slot]));
                }
            }
            from_widget.retain(|name| *name != input.name);
        }
        for name in from_widget {
            let Some(value) = inputs.get_mut(&name) else {
                continue;
            };
            let spec = class.input(&name);
            if spec.is_some_and(|s| s.dynamic_prompts())
                && let Value::String(template) = value
            {
                let result = dynamic::expand(template, &mut rng);
                if dynamic::has_choice(template) {
                    picks.push(DynamicPick {
                        node: exec.id.clone(),
                        input: name.clone(),
                        template: template.clone(),
                        result: result.clone(),
                    });
                }
                *value = Value::String(result);
            }
            if name == "filename_prefix" && SAVE_CLASSES.contains(&class.name.as_str()) {
                match value {
                    Value::String(text) => {
                        *value =
                            Value::String(replace::apply(text, &nodes_for_replace, &options.now));
                    }
                    other => {
                        return Err(ConvertError::BadNode {
                            node: format!("{} ({})", exec.id, exec.title()),
                            problem: format!("filename_prefix must be text, found {other}"),
                        });
                    }
                }
            }
        }
        let mut entry = Map::new();
        entry.insert("inputs".into(), Value::Object(inputs));
        entry.insert("class_type".into(), Value::String(class.name.clone()));
        entry.insert("_meta".into(), json!({"title": exec.title()}));
        prompt.insert(exec.id.clone(), Value::Object(entry));
    }
    drop_links_to_absent(&mut prompt);
    Ok(Converted {
        prompt,
        picks,
        warnings,
    })
}

/// Arrays are links in the API format; an array value travels wrapped (rule B1).
fn wrap(value: Value) -> Value {
    match value {
        Value::Array(items) => json!({"__value__": items}),
        other => other,
    }
}

/// Links to nodes that were left out (muted ones) are removed (rule B3).
fn drop_links_to_absent(prompt: &mut Map<String, Value>) {
    let present: HashSet<String> = prompt.keys().cloned().collect();
    for entry in prompt.values_mut() {
        let Some(inputs) = entry.get_mut("inputs").and_then(Value::as_object_mut) else {
            continue;
        };
        inputs.retain(|_, value| match value.as_array().map(Vec::as_slice) {
            Some([Value::String(id), _]) => present.contains(id),
            _ => true,
        });
    }
}
