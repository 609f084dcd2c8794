//! Building the prompt (rules A and B): one entry per active real node, widgets first, then
//! resolved links, then links to nodes that were left out removed. Widget values go through
//! the serialisers the frontend attaches: dynamic prompts (E) and save prefixes (F).

use super::flatten::{Exec, Flat, Kind, flatten, widget_key};
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

/// Nodes of unknown classes: refused when they would be sent, noted when they would not.
fn check_classes(flat: &Flat<'_>, warnings: &mut Vec<String>) -> Result<(), ConvertError> {
    let mut missing = Vec::new();
    for exec in flat
        .execs
        .iter()
        .filter(|e| matches!(e.kind, Kind::Unknown))
    {
        if exec.is_active() {
            missing.push(MissingNode {
                id: exec.id.clone(),
                title: exec.title(),
                class_type: exec.node.class.clone(),
            });
        } else {
            let state = if exec.node.mode == 2 {
                "muted"
            } else {
                "bypassed"
            };
            warnings.push(format!(
                "node {} is of type `{}`, which the server does not have; it is {state} and so not sent",
                exec.id, exec.node.class
            ));
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ConvertError::MissingClasses(missing))
    }
}

/// What the widget serialisers need: the random source, the picks made so far, and the
/// nodes and time that `filename_prefix` replacements read.
struct Serialisers<'a> {
    rng: StdRng,
    picks: Vec<DynamicPick>,
    nodes: Vec<Searchable<'a>>,
    now: chrono::NaiveDateTime,
}

impl Serialisers<'_> {
    /// Runs the serialisers the frontend attaches to a widget (rules E and F).
    fn serialise(
        &mut self,
        exec: &Exec<'_>,
        class: &ClassInfo,
        name: &str,
        value: &mut Value,
    ) -> Result<(), ConvertError> {
        if class.input(name).is_some_and(|s| s.dynamic_prompts())
            && let Value::String(template) = value
        {
            let result = dynamic::expand(template, &mut self.rng);
            if dynamic::has_choice(template) {
                self.picks.push(DynamicPick {
                    node: exec.id.clone(),
                    input: name.to_owned(),
                    template: template.clone(),
                    result: result.clone(),
                });
            }
            *value = Value::String(result);
        }
        if name == "filename_prefix" && SAVE_CLASSES.contains(&class.name.as_str()) {
            let Value::String(text) = value else {
                // The frontend throws here too: it cannot queue such a graph.
                return Err(ConvertError::BadNode {
                    node: format!("{} ({})", exec.id, exec.title()),
                    problem: format!("filename_prefix must be text, found {value}"),
                });
            };
            *value = Value::String(replace::apply(text, &self.nodes, &self.now));
        }
        Ok(())
    }
}

/// One node's `inputs`: widgets first, then resolved links, which replace a widget of the
/// same name (rule B). Only values still coming from a widget are serialised.
fn node_inputs(
    flat: &Flat<'_>,
    index: usize,
    class: &ClassInfo,
    serialisers: &mut Serialisers<'_>,
) -> Result<Map<String, Value>, ConvertError> {
    let exec = &flat.execs[index];
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
        if let Some(value) = inputs.get_mut(&name) {
            serialisers.serialise(exec, class, &name, value)?;
        }
    }
    Ok(inputs)
}

pub fn emit(
    workflow: &Workflow,
    object_info: &Map<String, Value>,
    options: &ConvertOptions,
) -> Result<Converted, ConvertError> {
    let classes = used_classes(workflow, object_info);
    let mut flat = flatten(workflow, &classes)?;
    let mut warnings = Vec::new();
    check_classes(&flat, &mut warnings)?;

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

    let mut serialisers = Serialisers {
        rng: StdRng::seed_from_u64(options.seed.unwrap_or_else(rand::random)),
        picks: Vec::new(),
        nodes: searchables(&flat, &classes),
        now: options.now,
    };
    let mut prompt = Map::new();
    for (index, exec) in flat.execs.iter().enumerate() {
        let Kind::Real(class) = exec.kind else {
            continue;
        };
        if !exec.is_active() {
            continue;
        }
        let inputs = node_inputs(&flat, index, class, &mut serialisers)?;
        let mut entry = Map::new();
        entry.insert("inputs".into(), Value::Object(inputs));
        entry.insert("class_type".into(), Value::String(class.name.clone()));
        entry.insert("_meta".into(), json!({"title": exec.title()}));
        prompt.insert(exec.id.clone(), Value::Object(entry));
    }
    drop_links_to_absent(&mut prompt);
    Ok(Converted {
        prompt,
        picks: serialisers.picks,
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
