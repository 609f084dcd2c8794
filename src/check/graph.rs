//! The prompt as a graph: what counts as a link (exactly as the server reads one), where
//! links point, cycles, and which nodes an output depends on. Needs no catalogue.

use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// A link input `[source node id, output index]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link<'a> {
    pub source: &'a str,
    /// Python indexes the source's outputs with it, so negative counts from the end
    /// and `true`/`false` count as 1/0.
    pub index: i64,
}

/// How the server reads one input value.
#[derive(Debug, Clone, PartialEq)]
pub enum Input<'a> {
    Link(Link<'a>),
    /// Any list is taken for a link; this one cannot be followed.
    BadLink(String),
    /// A literal, with `{"__value__": …}` unwrapped.
    Literal(&'a Value),
}

pub fn classify(value: &Value) -> Input<'_> {
    match value {
        Value::Array(parts) => match parts.as_slice() {
            [Value::String(source), index] => match index {
                Value::Number(n) => match n.as_i64() {
                    Some(index) => Input::Link(Link { source, index }),
                    None if n.is_u64() => Input::BadLink("output index is too large".into()),
                    None => Input::BadLink(format!("output index {n} is not a whole number")),
                },
                Value::Bool(b) => Input::Link(Link {
                    source,
                    index: i64::from(*b),
                }),
                _ => Input::BadLink("output index must be a number".into()),
            },
            [Value::Number(n), _] => Input::BadLink(format!(
                "node ids are strings: write [\"{n}\", …] rather than [{n}, …]"
            )),
            [_, _] => Input::BadLink("the first element must be a node id string".into()),
            other => Input::BadLink(format!(
                "a list input is a link and must be [node id, output index]; this one has {} element(s) (wrap a literal list as {{\"__value__\": […]}})",
                other.len()
            )),
        },
        Value::Object(o) if o.contains_key("__value__") => Input::Literal(&o["__value__"]),
        other => Input::Literal(other),
    }
}

/// The inputs object of a node, when it has one.
pub fn inputs(node: &Value) -> Option<&Map<String, Value>> {
    node.get("inputs")?.as_object()
}

/// Every link of `node` that can be followed: (input name, link).
pub fn links(node: &Value) -> impl Iterator<Item = (&str, Link<'_>)> {
    inputs(node)
        .into_iter()
        .flatten()
        .filter_map(|(name, v)| match classify(v) {
            Input::Link(link) => Some((name.as_str(), link)),
            _ => None,
        })
}

/// Each cycle once, in data-flow order and closed: `["5", "6", "5"]` means 5 feeds 6
/// and 6 feeds 5. Nodes are visited in prompt order, so the result is stable.
pub fn cycles(prompt: &Map<String, Value>) -> Vec<Vec<String>> {
    // Edges from a node to the nodes it reads from.
    let deps: HashMap<&str, Vec<&str>> = prompt
        .iter()
        .map(|(id, node)| {
            let mut sources: Vec<&str> = links(node)
                .map(|(_, l)| l.source)
                .filter(|s| prompt.contains_key(*s))
                .collect();
            sources.dedup();
            (id.as_str(), sources)
        })
        .collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnStack,
        Done,
    }
    let mut mark: HashMap<&str, Mark> = prompt.keys().map(|k| (k.as_str(), Mark::New)).collect();
    let mut in_reported: HashSet<&str> = HashSet::new();
    let mut found = Vec::new();
    for root in prompt.keys() {
        if mark[root.as_str()] != Mark::New {
            continue;
        }
        // Iterative depth-first search: a deep chain must not overflow the stack.
        let mut stack: Vec<(&str, usize)> = vec![(root.as_str(), 0)];
        mark.insert(root, Mark::OnStack);
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let Some(&dep) = deps[node].get(*next) else {
                mark.insert(node, Mark::Done);
                stack.pop();
                continue;
            };
            *next += 1;
            match mark[dep] {
                Mark::New => {
                    mark.insert(dep, Mark::OnStack);
                    stack.push((dep, 0));
                }
                Mark::OnStack if !in_reported.contains(dep) => {
                    // The stack from `dep` to `node` reads dep ← … ← node (node reads
                    // from dep): reversed, it is the data flow.
                    let start = stack.iter().position(|(n, _)| *n == dep).unwrap_or(0);
                    let mut path: Vec<String> = stack[start..]
                        .iter()
                        .map(|(n, _)| (*n).to_owned())
                        .collect();
                    path.reverse();
                    path.insert(0, dep.to_owned());
                    in_reported.extend(stack[start..].iter().map(|(n, _)| *n));
                    found.push(path);
                }
                _ => {}
            }
        }
    }
    found
}

/// `roots` and every node they read from, directly or not.
pub fn upstream<'a>(
    prompt: &'a Map<String, Value>,
    roots: impl IntoIterator<Item = &'a str>,
) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    let mut stack: Vec<&str> = roots.into_iter().collect();
    while let Some(id) = stack.pop() {
        let Some((key, node)) = prompt.get_key_value(id) else {
            continue;
        };
        if !seen.insert(key.as_str()) {
            continue;
        }
        stack.extend(links(node).map(|(_, l)| l.source));
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prompt(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn links_are_read_as_the_server_reads_them() {
        assert_eq!(
            classify(&json!(["4", 1])),
            Input::Link(Link {
                source: "4",
                index: 1
            })
        );
        assert_eq!(
            classify(&json!(["4", -1])),
            Input::Link(Link {
                source: "4",
                index: -1
            })
        );
        assert!(matches!(classify(&json!(["4", 1.5])), Input::BadLink(_)));
        assert!(matches!(classify(&json!(["4"])), Input::BadLink(m) if m.contains("__value__")));
        assert!(matches!(classify(&json!([4, 0])), Input::BadLink(m) if m.contains("[\"4\"")));
        assert!(matches!(classify(&json!(["4", "0"])), Input::BadLink(_)));
        assert_eq!(
            classify(&json!({"__value__": [1, 2]})),
            Input::Literal(&json!([1, 2]))
        );
        assert_eq!(classify(&json!("x")), Input::Literal(&json!("x")));
    }

    #[test]
    fn cycles_are_found_once_with_their_path() {
        let p = prompt(json!({
            "1": {"class_type": "A", "inputs": {}},
            "5": {"class_type": "I", "inputs": {"image": ["6", 0]}},
            "6": {"class_type": "I", "inputs": {"image": ["5", 0], "x": ["1", 0]}},
            "7": {"class_type": "I", "inputs": {"image": ["7", 0]}},
            "8": {"class_type": "S", "inputs": {"images": ["6", 0]}}
        }));
        assert_eq!(cycles(&p), vec![vec!["5", "6", "5"], vec!["7", "7"]]);
        let three = prompt(json!({
            "a": {"inputs": {"x": ["c", 0]}},
            "b": {"inputs": {"x": ["a", 0]}},
            "c": {"inputs": {"x": ["b", 0]}}
        }));
        assert_eq!(cycles(&three), vec![vec!["a", "b", "c", "a"]]);
        let dag = prompt(json!({
            "a": {"inputs": {}},
            "b": {"inputs": {"x": ["a", 0], "y": ["a", 1]}},
            "c": {"inputs": {"x": ["b", 0], "y": ["a", 0], "z": ["missing", 0]}}
        }));
        assert!(cycles(&dag).is_empty());
    }

    #[test]
    fn a_long_chain_does_not_overflow() {
        let mut p = Map::new();
        p.insert("0".into(), json!({"inputs": {}}));
        for i in 1..20_000 {
            p.insert(
                i.to_string(),
                json!({"inputs": {"x": [(i - 1).to_string(), 0]}}),
            );
        }
        assert!(cycles(&p).is_empty());
        assert_eq!(upstream(&p, ["19999"]).len(), 20_000);
    }

    #[test]
    fn upstream_follows_links_and_skips_missing_nodes() {
        let p = prompt(json!({
            "a": {"inputs": {}},
            "b": {"inputs": {"x": ["a", 0], "y": ["zz", 0]}},
            "c": {"inputs": {}}
        }));
        let up = upstream(&p, ["b"]);
        assert!(up.contains("a") && up.contains("b") && !up.contains("c"));
    }
}
