//! The pre-flight check of an API prompt: every problem the server would refuse it for,
//! found locally, all at once, each naming the node, its title, class and input.
//!
//! Without a catalogue only the graph is checked (links to missing nodes, malformed
//! links, cycles). With the server's `/object_info` the inputs are checked as ComfyUI's
//! `validate_prompt` checks them. The check never refuses a prompt the server would
//! accept: where it cannot be sure (custom types, dynamic inputs, file pickers that
//! validate themselves, nodes no output depends on) it warns instead.

pub mod coerce;
pub mod command;
pub mod graph;
mod inputs;
pub mod render;
pub mod suggest;

use crate::comfy::object_info::ObjectInfo;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// What kind of problem was found; stable names for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A node that is not an object, has no `class_type`, or whose `inputs` is not an
    /// object.
    MalformedNode,
    UnknownClass,
    MissingInput,
    UnknownInput,
    WrongType,
    NotInList,
    OutOfRange,
    MissingNode,
    MissingOutput,
    MalformedLink,
    TypeMismatch,
    Cycle,
    NoOutputNode,
    /// A warning: this cannot be checked here, and the server may still refuse it.
    Unverified,
}

/// One finding. `node`, `title` and `class_type` are `None` for findings about the
/// whole prompt (no output node).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    pub node: Option<String>,
    pub title: Option<String>,
    pub class_type: Option<String>,
    pub input: Option<String>,
    pub message: String,
    pub suggestions: Vec<String>,
}

impl Problem {
    /// A finding at `node` of `prompt` (its title and class are looked up).
    pub fn at(
        prompt: &Map<String, Value>,
        node: &str,
        kind: ProblemKind,
        input: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        let entry = prompt.get(node);
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        Self {
            kind,
            node: Some(node.to_owned()),
            title: text(
                entry
                    .and_then(|n| n.get("_meta"))
                    .and_then(|m| m.get("title")),
            ),
            class_type: text(entry.and_then(|n| n.get("class_type"))),
            input: input.map(str::to_owned),
            message: message.into(),
            suggestions: Vec::new(),
        }
    }

    pub fn with_suggestions(mut self, suggestions: Vec<String>) -> Self {
        self.suggestions = suggestions;
        self
    }

    /// Every text field made safe to print (names can come from the server).
    pub fn sanitized(&self) -> Self {
        let s = |t: &str| crate::text::sanitize(t).into_owned();
        let o = |t: &Option<String>| t.as_deref().map(s);
        Self {
            kind: self.kind,
            node: o(&self.node),
            title: o(&self.title),
            class_type: o(&self.class_type),
            input: o(&self.input),
            message: s(&self.message),
            suggestions: self.suggestions.iter().map(|t| s(t)).collect(),
        }
    }
}

/// Problems refuse the prompt; warnings do not.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CheckReport {
    pub problems: Vec<Problem>,
    pub warnings: Vec<Problem>,
}

impl CheckReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// `{"ok": bool, "problems": [...], "warnings": [...]}`, text made safe to print.
    pub fn to_json(&self) -> Value {
        let clean = |list: &[Problem]| list.iter().map(Problem::sanitized).collect::<Vec<_>>();
        json!({
            "ok": self.is_ok(),
            "problems": clean(&self.problems),
            "warnings": clean(&self.warnings),
        })
    }
}

/// A finding before it is sorted into problems and warnings.
pub(crate) struct Finding {
    pub problem: Problem,
    pub refuses: bool,
    /// Only matters when some output depends on the node (the server validates
    /// nothing else); unknown classes and nodes without a class matter everywhere.
    pub only_if_used: bool,
}

impl Finding {
    pub fn problem(problem: Problem) -> Self {
        Self {
            problem,
            refuses: true,
            only_if_used: true,
        }
    }

    pub fn warning(problem: Problem) -> Self {
        Self {
            problem,
            refuses: false,
            only_if_used: true,
        }
    }
}

/// Checks `prompt` (an API-format graph) against `catalog`, a server's `/object_info`;
/// with `None`, only the graph's structure.
pub fn check(prompt: &Map<String, Value>, catalog: Option<&ObjectInfo>) -> CheckReport {
    let mut findings = structure(prompt);
    let used = catalog.map(|catalog| inputs::check_inputs(prompt, catalog, &mut findings));
    let mut report = CheckReport::default();
    for finding in findings {
        let Finding {
            mut problem,
            refuses,
            only_if_used,
        } = finding;
        let unused = only_if_used
            && used
                .as_ref()
                .is_some_and(|used| problem.node.as_deref().is_some_and(|n| !used.contains(n)));
        if refuses && unused {
            problem
                .message
                .push_str(" (no output depends on this node, so the server does not check it)");
            report.warnings.push(problem);
        } else if refuses {
            report.problems.push(problem);
        } else {
            report.warnings.push(problem);
        }
    }
    report
}

/// The checks that need no catalogue: node shape, links, cycles.
fn structure(prompt: &Map<String, Value>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (id, node) in prompt {
        let at = |kind, input: Option<&str>, message: String| {
            Problem::at(prompt, id, kind, input, message)
        };
        let Value::Object(fields) = node else {
            out.push(Finding {
                only_if_used: false,
                ..Finding::problem(at(
                    ProblemKind::MalformedNode,
                    None,
                    "a node must be an object with `class_type` and `inputs`".into(),
                ))
            });
            continue;
        };
        if !fields.get("class_type").is_some_and(Value::is_string) {
            out.push(Finding {
                only_if_used: false,
                ..Finding::problem(at(
                    ProblemKind::MalformedNode,
                    None,
                    "the node has no `class_type` string".into(),
                ))
            });
        }
        match fields.get("inputs") {
            Some(Value::Object(_)) => {}
            // The server reads `inputs` of every node an output depends on, and of no
            // other: without knowing which those are, this cannot refuse.
            None => out.push(Finding::warning(at(
                ProblemKind::MalformedNode,
                None,
                "the node has no `inputs` object; the server fails on it if an output depends on it (use {} for none)".into(),
            ))),
            Some(_) => out.push(Finding::problem(at(
                ProblemKind::MalformedNode,
                None,
                "`inputs` must be an object".into(),
            ))),
        }
        for (name, value) in graph::inputs(node).into_iter().flatten() {
            match graph::classify(value) {
                graph::Input::BadLink(reason) => out.push(Finding::problem(at(
                    ProblemKind::MalformedLink,
                    Some(name),
                    format!("bad link {}: {reason}", compact(value)),
                ))),
                graph::Input::Link(link) if !prompt.contains_key(link.source) => {
                    out.push(Finding::problem(
                        at(
                            ProblemKind::MissingNode,
                            Some(name),
                            format!("links to node {}, which is not in the prompt", link.source),
                        )
                        .with_suggestions(suggest::closest(
                            link.source,
                            prompt.keys().map(String::as_str),
                            3,
                        )),
                    ));
                }
                _ => {}
            }
        }
    }
    for cycle in graph::cycles(prompt) {
        // Closed paths: `[5, 6, 5]`, or `[7, 7]` for a node fed by itself.
        let feeder = cycle.len().checked_sub(2).and_then(|i| cycle.get(i));
        let (Some(first), Some(feeder)) = (cycle.first(), feeder) else {
            continue;
        };
        // The input of the first node that closes the cycle.
        let input = prompt
            .get(first)
            .and_then(|n| graph::links(n).find(|(_, l)| l.source == feeder))
            .map(|(name, _)| name.to_owned());
        out.push(Finding::problem(Problem::at(
            prompt,
            first,
            ProblemKind::Cycle,
            input.as_deref(),
            format!(
                "the nodes form a cycle: {} (a node cannot depend on its own output)",
                cycle.join(" → ")
            ),
        )));
    }
    out
}

/// A value for a message, cut short when long.
pub(crate) fn compact(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests;
