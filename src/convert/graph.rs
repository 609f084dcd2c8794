//! Reading the editor's graph (schema 0.4 and 1, subgraph definitions) into one shape:
//! nodes with their sockets and stored widget values, and links by id. Native reroutes
//! (`extra.reroutes`, top-level `reroutes`, a link's `parentId`) only change how links are
//! drawn, so they are not read at all (rule D1).

use super::ConvertError;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The id of a subgraph's input node; links from it continue outside (rule D6).
pub const SUBGRAPH_INPUT_NODE: &str = "-10";
/// The id of a subgraph's output node.
pub const SUBGRAPH_OUTPUT_NODE: &str = "-20";

#[derive(Debug, Clone)]
pub struct InputSlot {
    pub name: String,
    pub kind: String,
    pub link: Option<i64>,
    /// Set when the socket belongs to a widget (the widget's name).
    pub widget: Option<String>,
}

#[derive(Debug, Clone)]
pub struct OutputSlot {
    pub kind: String,
    pub links: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct UiNode {
    pub id: String,
    pub class: String,
    pub title: Option<String>,
    pub mode: i64,
    pub inputs: Vec<InputSlot>,
    pub outputs: Vec<OutputSlot>,
    pub widgets_values: Value,
    pub properties: Map<String, Value>,
}

#[derive(Debug, Clone)]
pub struct Link {
    pub id: i64,
    pub origin_id: String,
    pub origin_slot: i64,
    pub target_id: String,
}

/// One input or output of a subgraph definition.
#[derive(Debug, Clone)]
pub struct SubgraphPort {
    pub name: String,
    pub kind: String,
    pub link_ids: Vec<i64>,
}

/// One graph level: the root graph or a subgraph definition.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub nodes: Vec<UiNode>,
    pub by_id: HashMap<String, usize>,
    pub links: HashMap<i64, Link>,
    pub inputs: Vec<SubgraphPort>,
    pub outputs: Vec<SubgraphPort>,
    pub name: String,
    /// Made from an old group node: no promoted widgets, and bypass matches types exactly.
    pub group: bool,
}

impl Graph {
    pub fn node(&self, id: &str) -> Option<&UiNode> {
        self.by_id.get(id).map(|&i| &self.nodes[i])
    }
}

/// The whole file: the root graph and the subgraph definitions by id.
#[derive(Debug, Clone, Default)]
pub struct Workflow {
    pub root: Graph,
    pub subgraphs: HashMap<String, Graph>,
    /// Subgraph ids in file order, for lookups that take the first match.
    pub subgraph_order: Vec<String>,
}

/// Node and link ids may be numbers or strings; they are compared as text.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn as_int(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn kind_text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        // A type may be a number (LiteGraph's event slots) or missing: treat as any.
        Some(Value::Number(n)) => n.to_string(),
        _ => "*".to_owned(),
    }
}

fn bad_node(node: &str, problem: impl Into<String>) -> ConvertError {
    ConvertError::BadNode {
        node: node.to_owned(),
        problem: problem.into(),
    }
}

fn bad_link(link: &str, problem: impl Into<String>) -> ConvertError {
    ConvertError::BadLink {
        link: link.to_owned(),
        problem: problem.into(),
    }
}

fn read_node(value: &Value, place: &str) -> Result<UiNode, ConvertError> {
    let object = value
        .as_object()
        .ok_or_else(|| bad_node(place, "is not an object"))?;
    let id = object
        .get("id")
        .and_then(id_text)
        .ok_or_else(|| bad_node(place, "has no id"))?;
    let class = object
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| bad_node(&id, "has no type"))?
        .to_owned();
    let mode = object.get("mode").and_then(as_int).unwrap_or(0);
    let title = object
        .get("title")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    let mut inputs = Vec::new();
    if let Some(list) = object.get("inputs") {
        let list = list
            .as_array()
            .ok_or_else(|| bad_node(&id, "has `inputs` that is not a list"))?;
        for (index, input) in list.iter().enumerate() {
            let input = input
                .as_object()
                .ok_or_else(|| bad_node(&id, format!("input {index} is not an object")))?;
            inputs.push(InputSlot {
                name: input
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                kind: kind_text(input.get("type")),
                link: input.get("link").and_then(as_int),
                widget: input
                    .get("widget")
                    .and_then(|w| w.get("name"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            });
        }
    }
    let mut outputs = Vec::new();
    if let Some(list) = object.get("outputs") {
        let list = list
            .as_array()
            .ok_or_else(|| bad_node(&id, "has `outputs` that is not a list"))?;
        for output in list {
            outputs.push(OutputSlot {
                kind: kind_text(output.get("type")),
                links: output
                    .get("links")
                    .and_then(Value::as_array)
                    .map(|l| l.iter().filter_map(as_int).collect())
                    .unwrap_or_default(),
            });
        }
    }
    Ok(UiNode {
        id,
        class,
        title,
        mode,
        inputs,
        outputs,
        widgets_values: object.get("widgets_values").cloned().unwrap_or(Value::Null),
        properties: object
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    })
}

/// A link is `[id, origin, origin_slot, target, target_slot, type]` (schema 0.4) or an
/// object with those fields (schema 1 and subgraph definitions).
fn read_link(value: &Value, place: &str) -> Result<Link, ConvertError> {
    let (id, origin, origin_slot, target) = match value {
        Value::Array(parts) => (parts.first(), parts.get(1), parts.get(2), parts.get(3)),
        Value::Object(o) => (
            o.get("id"),
            o.get("origin_id"),
            o.get("origin_slot"),
            o.get("target_id"),
        ),
        _ => return Err(bad_link(place, "is neither a list nor an object")),
    };
    let id = id
        .and_then(as_int)
        .ok_or_else(|| bad_link(place, "has no numeric id"))?;
    let name = id.to_string();
    Ok(Link {
        id,
        origin_id: origin
            .and_then(id_text)
            .ok_or_else(|| bad_link(&name, "has no origin node"))?,
        origin_slot: origin_slot
            .and_then(as_int)
            .ok_or_else(|| bad_link(&name, "has no origin slot"))?,
        target_id: target
            .and_then(id_text)
            .ok_or_else(|| bad_link(&name, "has no target node"))?,
    })
}

fn read_ports(value: Option<&Value>) -> Vec<SubgraphPort> {
    value
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|port| SubgraphPort {
                    name: port
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    kind: kind_text(port.get("type")),
                    link_ids: port
                        .get("linkIds")
                        .and_then(Value::as_array)
                        .map(|l| l.iter().filter_map(as_int).collect())
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Reads one graph level (`nodes` and `links` of the root or of a subgraph definition).
pub fn read_graph(object: &Map<String, Value>, place: &str) -> Result<Graph, ConvertError> {
    let mut graph = Graph {
        name: object
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(place)
            .to_owned(),
        ..Graph::default()
    };
    let nodes = object
        .get("nodes")
        .and_then(Value::as_array)
        .ok_or_else(|| bad_node(place, "`nodes` is missing or not a list"))?;
    for (index, value) in nodes.iter().enumerate() {
        let node = read_node(value, &format!("{place} #{index}"))?;
        if graph.by_id.contains_key(&node.id) {
            return Err(bad_node(&node.id, format!("appears twice in {place}")));
        }
        graph.by_id.insert(node.id.clone(), graph.nodes.len());
        graph.nodes.push(node);
    }
    match object.get("links") {
        None | Some(Value::Null) => {}
        Some(Value::Array(links)) => {
            for (index, value) in links.iter().enumerate() {
                // Deleted links are sometimes left behind as null.
                if value.is_null() {
                    continue;
                }
                let link = read_link(value, &format!("{place} #{index}"))?;
                graph.links.insert(link.id, link);
            }
        }
        // Very old files keep links as an object keyed by id.
        Some(Value::Object(links)) => {
            for (key, value) in links {
                if value.is_null() {
                    continue;
                }
                let link = read_link(value, key)?;
                graph.links.insert(link.id, link);
            }
        }
        Some(_) => return Err(bad_link(place, "`links` is not a list")),
    }
    graph.inputs = read_ports(object.get("inputs"));
    graph.outputs = read_ports(object.get("outputs"));
    Ok(graph)
}

/// Reads the root graph and every subgraph definition.
pub fn read_workflow(ui: &Value) -> Result<Workflow, ConvertError> {
    let object = ui.as_object().ok_or(ConvertError::NotUiFormat)?;
    let root = read_graph(object, "the root graph")?;
    let mut subgraphs = HashMap::new();
    let mut subgraph_order = Vec::new();
    if let Some(list) = object
        .get("definitions")
        .and_then(|d| d.get("subgraphs"))
        .and_then(Value::as_array)
    {
        for definition in list {
            let definition = definition
                .as_object()
                .ok_or_else(|| ConvertError::BadSubgraph {
                    id: "?".to_owned(),
                    problem: "is not an object".to_owned(),
                })?;
            let id = definition
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| ConvertError::BadSubgraph {
                    id: "?".to_owned(),
                    problem: "has no id".to_owned(),
                })?
                .to_owned();
            let graph = read_graph(definition, &format!("subgraph {id}"))?;
            subgraph_order.push(id.clone());
            subgraphs.insert(id, graph);
        }
    }
    Ok(Workflow {
        root,
        subgraphs,
        subgraph_order,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_1_links_are_objects_and_reroute_parents_are_ignored() {
        let ui = json!({
            "version": 1,
            "nodes": [
                {"id": 1, "type": "A", "outputs": [{"type": "IMAGE", "links": [5]}]},
                {"id": 2, "type": "B", "inputs": [{"name": "image", "type": "IMAGE", "link": 5}]}
            ],
            "links": [{"id": 5, "origin_id": 1, "origin_slot": 0, "target_id": 2,
                       "target_slot": 0, "type": "IMAGE", "parentId": 3}],
            "reroutes": [{"id": 3, "pos": [0, 0], "linkIds": [5]}]
        });
        let workflow = read_workflow(&ui).expect("reads");
        let link = &workflow.root.links[&5];
        assert_eq!((link.origin_id.as_str(), link.origin_slot), ("1", 0));
        assert_eq!(
            workflow.root.node("2").expect("node").inputs[0].link,
            Some(5)
        );
    }

    #[test]
    fn a_malformed_link_is_named() {
        let ui = json!({"nodes": [], "links": [[7, 1]]});
        let error = read_workflow(&ui).expect_err("bad link");
        assert!(error.to_string().contains("link 7"), "{error}");
    }
}
