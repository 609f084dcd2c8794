//! Following a link to the node that really produces its value (rule D): through legacy
//! reroutes, bypassed nodes (by type), muted nodes (kept, then dropped) and subgraph
//! boundaries in both directions.

use super::ConvertError;
use super::flatten::{Flat, Kind, widget_key};
use super::graph::{SUBGRAPH_INPUT_NODE, SUBGRAPH_OUTPUT_NODE};
use serde_json::Value;
use std::collections::HashSet;

/// Where an input's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// An output of a node: `[id, slot]`.
    Link(String, i64),
    /// A subgraph instance's promoted widget value.
    Value(Value),
}

/// Guards against cycles: (node index, output side, slot).
type Visited = HashSet<(usize, bool, i64)>;

/// LiteGraph's `isValidConnection`: equal ignoring case, either side any (`*` or empty),
/// or comma-separated lists that share a member.
pub fn compatible(a: &str, b: &str) -> bool {
    let any = |t: &str| t.is_empty() || t == "*";
    if any(a) || any(b) || a == b {
        return true;
    }
    let (a, b) = (a.to_lowercase(), b.to_lowercase());
    if !a.contains(',') && !b.contains(',') {
        return a == b;
    }
    a.split(',')
        .any(|x| b.split(',').any(|y| compatible_single(x, y)))
}

fn compatible_single(a: &str, b: &str) -> bool {
    a.is_empty() || a == "*" || b.is_empty() || b == "*" || a == b
}

fn bad_link(flat: &Flat<'_>, exec: usize, problem: String) -> ConvertError {
    let node = &flat.execs[exec];
    ConvertError::BadLink {
        link: format!("into node {} ({})", node.id, node.title()),
        problem,
    }
}

impl Flat<'_> {
    /// Resolves input `slot` of node `exec`. `None`: nothing usable is connected.
    pub fn resolve_input(
        &self,
        exec: usize,
        slot: usize,
        visited: &mut Visited,
        kind: Option<&str>,
    ) -> Result<Option<Resolved>, ConvertError> {
        if !visited.insert((exec, false, slot as i64)) {
            return Err(self.cycle(exec));
        }
        let node = &self.execs[exec];
        let Some(input) = node.inputs.get(slot) else {
            return Err(bad_link(self, exec, format!("input {slot} does not exist")));
        };
        let Some(link_id) = input.link else {
            return Ok(None);
        };
        let Some(link) = node.graph.links.get(&link_id) else {
            return Err(bad_link(
                self,
                exec,
                format!(
                    "input `{}` names link {link_id}, which the graph does not have",
                    input.name
                ),
            ));
        };
        // A link from the subgraph's input node continues at the instance (rule D6).
        if link.origin_id == SUBGRAPH_INPUT_NODE
            && let Some(parent) = node.parent.as_deref()
        {
            return self.resolve_from_instance(exec, parent, link.origin_slot, visited);
        }
        let origin_id = match node.parent.as_deref() {
            Some(parent) => format!("{parent}:{}", link.origin_id),
            None => link.origin_id.clone(),
        };
        let Some(&origin) = self.by_id.get(&origin_id) else {
            return Err(bad_link(
                self,
                exec,
                format!(
                    "link {link_id} comes from node {}, which does not exist",
                    link.origin_id
                ),
            ));
        };
        let kind = kind.unwrap_or(&input.kind).to_owned();
        self.resolve_output(origin, link.origin_slot, &kind, visited)
    }

    fn resolve_from_instance(
        &self,
        exec: usize,
        parent: &str,
        port: i64,
        visited: &mut Visited,
    ) -> Result<Option<Resolved>, ConvertError> {
        let Some(&instance) = self.by_id.get(parent) else {
            return Err(bad_link(
                self,
                exec,
                format!("instance {parent} is missing"),
            ));
        };
        let outer = &self.execs[instance];
        let port_index = usize::try_from(port).ok();
        let Some(outer_input) = port_index.and_then(|p| outer.inputs.get(p)) else {
            return Err(bad_link(
                self,
                exec,
                format!("the subgraph has no input {port}"),
            ));
        };
        if outer_input.link.is_some() {
            return self.resolve_input(instance, port as usize, visited, None);
        }
        // Unlinked: the instance's promoted widget, if this input is one.
        let widgets = self
            .widgets
            .get(&widget_key(outer.graph_key, &outer.node.id));
        Ok(widgets
            .and_then(|w| w.iter().find(|w| w.name == outer_input.name))
            .map(|w| Resolved::Value(w.value.clone())))
    }

    /// Resolves output `slot` of node `exec` for a consumer input of type `kind`.
    pub fn resolve_output(
        &self,
        exec: usize,
        slot: i64,
        kind: &str,
        visited: &mut Visited,
    ) -> Result<Option<Resolved>, ConvertError> {
        if !visited.insert((exec, true, slot)) {
            return Err(self.cycle(exec));
        }
        let node = &self.execs[exec];
        if node.node.mode == 4 {
            return match self.bypass_slot(exec, slot, kind) {
                Some(index) => self.resolve_input(exec, index, visited, None),
                None => Ok(None),
            };
        }
        match node.kind {
            Kind::Instance(subgraph_id) => {
                let subgraph = &self.workflow.subgraphs[subgraph_id];
                let Some(port) = usize::try_from(slot)
                    .ok()
                    .and_then(|s| subgraph.outputs.get(s))
                else {
                    return Err(bad_link(
                        self,
                        exec,
                        format!("subgraph instance {} has no output {slot}", node.id),
                    ));
                };
                let Some(link) = port.link_ids.iter().find_map(|id| subgraph.links.get(id)) else {
                    return Ok(None);
                };
                if link.origin_id == SUBGRAPH_INPUT_NODE || link.origin_id == SUBGRAPH_OUTPUT_NODE {
                    return Err(ConvertError::BadSubgraph {
                        id: subgraph.name.clone(),
                        problem: format!(
                            "output `{}` is wired straight from a subgraph input; the editor cannot queue this either",
                            port.name
                        ),
                    });
                }
                let inner_id = format!("{}:{}", node.id, link.origin_id);
                let Some(&inner) = self.by_id.get(&inner_id) else {
                    return Err(ConvertError::BadSubgraph {
                        id: subgraph.name.clone(),
                        problem: format!(
                            "output `{}` comes from node {}, which does not exist",
                            port.name, link.origin_id
                        ),
                    });
                };
                self.resolve_output(inner, link.origin_slot, kind, visited)
            }
            // Legacy reroutes pass their input on, with the consumer's type (rule D1).
            Kind::Virtual => match usize::try_from(slot) {
                Ok(s) if s < node.inputs.len() => self.resolve_input(exec, s, visited, Some(kind)),
                _ => Ok(None),
            },
            _ => Ok(Some(Resolved::Link(node.id.clone(), slot))),
        }
    }

    /// Which input of a bypassed node stands in for output `slot` (rule D2).
    fn bypass_slot(&self, exec: usize, slot: i64, kind: &str) -> Option<usize> {
        let node = &self.execs[exec];
        let inputs = &node.inputs;
        let slot_index = usize::try_from(slot).ok()?;
        if let Kind::Instance(id) = node.kind
            && self.workflow.subgraphs[id].group
        {
            // Group nodes: the same slot, else the first input, of exactly this type.
            return std::iter::once(slot_index)
                .chain(0..inputs.len())
                .find(|&i| inputs.get(i).is_some_and(|input| input.kind == kind));
        }
        if kind == "*" || kind.is_empty() {
            return Some(if inputs.len() > slot_index {
                slot_index
            } else {
                0
            })
            .filter(|&i| i < inputs.len());
        }
        let output_kind = node.output_type(slot_index);
        if let Some(opposite) = inputs.get(slot_index)
            && compatible(&opposite.kind, &output_kind)
            && compatible(&opposite.kind, kind)
        {
            return Some(slot_index);
        }
        if let Some(exact) = inputs.iter().position(|i| i.kind == kind) {
            return Some(exact);
        }
        inputs
            .iter()
            .position(|i| compatible(&i.kind, &output_kind) && compatible(&i.kind, kind))
    }

    fn cycle(&self, exec: usize) -> ConvertError {
        let node = &self.execs[exec];
        ConvertError::Cycle {
            node: format!("{} ({})", node.id, node.title()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::compatible;

    #[test]
    fn type_compatibility_follows_litegraph() {
        assert!(compatible("IMAGE", "IMAGE"));
        assert!(compatible("image", "IMAGE"));
        assert!(compatible("*", "LATENT"));
        assert!(compatible("", "LATENT"));
        assert!(compatible("INT,FLOAT", "float"));
        assert!(!compatible("IMAGE", "MASK"));
        assert!(!compatible("INT,FLOAT", "STRING"));
    }
}
