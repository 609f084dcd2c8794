//! The checks that need the server's catalogue: classes, output nodes, and each input
//! against its spec, mirroring ComfyUI's `validate_inputs` (convert with Python's
//! `int()`/`float()`, then range, then the choice list).

use super::coerce::{self, NotConverted, Num};
use super::graph::{self, Input, Link};
use super::{Finding, Problem, ProblemKind, compact, suggest};
use crate::comfy::object_info::{
    Combo, InputCategory, InputSpec, InputType, NodeClass, ObjectInfo,
};
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::HashSet;

/// Adds the catalogue's findings to `out`; returns the nodes some output depends on
/// (the only ones the server validates).
pub(super) fn check_inputs(
    prompt: &Map<String, Value>,
    catalog: &ObjectInfo,
    out: &mut Vec<Finding>,
) -> HashSet<String> {
    let mut outputs: Vec<&str> = Vec::new();
    let mut any_unknown = false;
    for (id, node) in prompt {
        let Some(class_type) = node.get("class_type").and_then(Value::as_str) else {
            continue;
        };
        match catalog.get(class_type) {
            Some(class) => {
                if class.output_node {
                    outputs.push(id);
                }
            }
            None => {
                any_unknown = true;
                // It may be an output node of a package this server lacks.
                outputs.push(id);
                out.push(Finding {
                    only_if_used: false,
                    ..Finding::problem(unknown_class(prompt, id, class_type, catalog))
                });
            }
        }
    }
    if outputs.is_empty() && !any_unknown && !prompt.is_empty() {
        out.push(Finding {
            only_if_used: false,
            ..Finding::problem(Problem {
                kind: ProblemKind::NoOutputNode,
                node: None,
                title: None,
                class_type: None,
                input: None,
                message: "the prompt has no output node (such as SaveImage or PreviewImage), so the server would run nothing".into(),
                suggestions: Vec::new(),
            })
        });
    }
    let used: HashSet<String> = graph::upstream(prompt, outputs)
        .into_iter()
        .map(str::to_owned)
        .collect();
    for (id, node) in prompt {
        let Some(class) = node
            .get("class_type")
            .and_then(Value::as_str)
            .and_then(|c| catalog.get(c))
        else {
            continue;
        };
        NodeCheck {
            prompt,
            catalog,
            id,
            class,
            out: &mut *out,
        }
        .run(graph::inputs(node));
    }
    used
}

fn unknown_class(
    prompt: &Map<String, Value>,
    id: &str,
    class_type: &str,
    catalog: &ObjectInfo,
) -> Problem {
    let mut suggestions: Vec<String> = catalog
        .classes()
        .filter(|c| {
            c.display_name
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case(class_type))
        })
        .map(|c| c.name.clone())
        .collect();
    for name in suggest::closest(class_type, catalog.classes().map(|c| c.name.as_str()), 3) {
        if !suggestions.contains(&name) {
            suggestions.push(name);
        }
    }
    Problem::at(
        prompt,
        id,
        ProblemKind::UnknownClass,
        None,
        format!("this server has no node class `{class_type}`: is a custom node missing?"),
    )
    .with_suggestions(suggestions)
}

struct NodeCheck<'a> {
    prompt: &'a Map<String, Value>,
    catalog: &'a ObjectInfo,
    id: &'a str,
    class: &'a NodeClass,
    out: &'a mut Vec<Finding>,
}

enum Severity {
    Refuse,
    Warn,
}

impl NodeCheck<'_> {
    fn push(
        &mut self,
        severity: Severity,
        kind: ProblemKind,
        input: &str,
        message: String,
        suggestions: Vec<String>,
    ) {
        let problem = Problem::at(self.prompt, self.id, kind, Some(input), message)
            .with_suggestions(suggestions);
        self.out.push(match severity {
            Severity::Refuse => Finding::problem(problem),
            Severity::Warn => Finding::warning(problem),
        });
    }

    /// Refuse, unless the class is a custom node's, whose own validation may accept
    /// what its declared spec does not.
    fn refuse_unless_custom(&self) -> Severity {
        if self.class.is_custom() {
            Severity::Warn
        } else {
            Severity::Refuse
        }
    }

    fn run(mut self, given: Option<&Map<String, Value>>) {
        let empty = Map::new();
        let given = given.unwrap_or(&empty);
        let undeclared: Vec<&str> = given
            .keys()
            .map(String::as_str)
            .filter(|n| self.class.input(n).is_none())
            .collect();
        for spec in self.class.inputs_in(InputCategory::Required) {
            if given.contains_key(&spec.name) {
                continue;
            }
            let near = suggest::closest(&spec.name, undeclared.iter().copied(), 2);
            let mut message = format!("required input `{}` is missing", spec.name);
            if let Some(typo) = near.first() {
                message.push_str(&format!(" (the node has `{typo}`: a misspelling?)"));
            }
            // A lazy input may be left to the node to ask for.
            let severity = if spec.options.lazy {
                Severity::Warn
            } else {
                Severity::Refuse
            };
            self.push(
                severity,
                ProblemKind::MissingInput,
                &spec.name,
                message,
                near,
            );
        }
        for (name, value) in given {
            match self.class.input(name) {
                None => {
                    let declared = self
                        .class
                        .inputs
                        .iter()
                        .filter(|i| i.category != InputCategory::Hidden)
                        .map(|i| i.name.as_str());
                    let near = suggest::closest(name, declared, 3);
                    self.push(
                        Severity::Warn,
                        ProblemKind::UnknownInput,
                        name,
                        format!(
                            "`{name}` is not an input of {}; the server ignores it",
                            self.class.name
                        ),
                        near,
                    );
                }
                Some(spec) if spec.category == InputCategory::Hidden => self.push(
                    Severity::Warn,
                    ProblemKind::UnknownInput,
                    name,
                    format!(
                        "`{name}` is a hidden input the server fills in; this value is ignored"
                    ),
                    Vec::new(),
                ),
                Some(spec) => match graph::classify(value) {
                    Input::Link(link) => self.link(spec, link),
                    Input::Literal(literal) => self.literal(spec, literal),
                    // Reported by the structural check.
                    Input::BadLink(_) => {}
                },
            }
        }
    }

    fn link(&mut self, spec: &InputSpec, link: Link<'_>) {
        let Some(source) = self
            .prompt
            .get(link.source)
            .and_then(|n| n.get("class_type"))
            .and_then(Value::as_str)
            .and_then(|c| self.catalog.get(c))
        else {
            // A missing node or an unknown class: reported already.
            return;
        };
        let count = source.outputs.len() as i64;
        let slot = if link.index < 0 {
            link.index + count
        } else {
            link.index
        };
        if slot < 0 || slot >= count {
            let listed: Vec<String> = source
                .outputs
                .iter()
                .enumerate()
                .map(|(i, o)| format!("{i} {}", output_label(o.kind.as_str(), &o.name)))
                .collect();
            let has = if listed.is_empty() {
                "none".to_owned()
            } else {
                listed.join(", ")
            };
            let matching = self.matching_outputs(spec, source, link.source);
            self.push(
                Severity::Refuse,
                ProblemKind::MissingOutput,
                &spec.name,
                format!(
                    "links to output {} of node {} ({}), which has {count} output(s): {has}",
                    link.index, link.source, source.name
                ),
                matching,
            );
            return;
        }
        if link.index < 0 {
            self.push(
                Severity::Warn,
                ProblemKind::Unverified,
                &spec.name,
                format!(
                    "output index {} counts from the end (output {slot})",
                    link.index
                ),
                Vec::new(),
            );
        }
        let output = &source.outputs[slot as usize];
        let severity = if self.class.is_custom() || source.is_custom() {
            Severity::Warn
        } else {
            Severity::Refuse
        };
        match types_match(&output.kind, &spec.kind) {
            TypeMatch::Yes => {}
            TypeMatch::No => {
                let matching = self.matching_outputs(spec, source, link.source);
                self.push(
                    severity,
                    ProblemKind::TypeMismatch,
                    &spec.name,
                    format!(
                        "expects {}, but output {slot} of node {} ({}) is {}",
                        spec.kind.name(),
                        link.source,
                        source.name,
                        type_text(&output.kind)
                    ),
                    matching,
                );
            }
            TypeMatch::Unsure => self.push(
                Severity::Warn,
                ProblemKind::Unverified,
                &spec.name,
                format!(
                    "cannot tell whether output {slot} of node {} ({}), {}, fits this {} input",
                    link.source,
                    source.name,
                    type_text(&output.kind),
                    spec.kind.name()
                ),
                Vec::new(),
            ),
        }
    }

    /// Outputs of `source` that would fit `spec`, as `["4", 1]` link texts.
    fn matching_outputs(&self, spec: &InputSpec, source: &NodeClass, id: &str) -> Vec<String> {
        source
            .outputs
            .iter()
            .enumerate()
            .filter(|(_, o)| matches!(types_match(&o.kind, &spec.kind), TypeMatch::Yes))
            .map(|(i, o)| {
                format!(
                    "[\"{id}\", {i}] ({})",
                    output_label(o.kind.as_str(), &o.name)
                )
            })
            .collect()
    }

    fn literal(&mut self, spec: &InputSpec, value: &Value) {
        let name = spec.name.as_str();
        let converted = match &spec.kind {
            InputType::Int => Some(("a whole number (INT)", coerce::to_int(value))),
            InputType::Float => Some(("a number (FLOAT)", coerce::to_float(value))),
            _ => None,
        };
        if let Some((wanted, result)) = converted {
            match result {
                Ok(n) => self.range(spec, n),
                Err(NotConverted::Fails(why)) => self.push(
                    Severity::Refuse,
                    ProblemKind::WrongType,
                    name,
                    format!("expects {wanted}, got {}: {why}", compact(value)),
                    Vec::new(),
                ),
                Err(NotConverted::Unsure(why)) => self.push(
                    Severity::Warn,
                    ProblemKind::Unverified,
                    name,
                    format!("expects {wanted}; {why}"),
                    Vec::new(),
                ),
            }
            return;
        }
        match &spec.kind {
            InputType::Boolean if value.is_string() => self.push(
                Severity::Warn,
                ProblemKind::WrongType,
                name,
                format!(
                    "expects true or false, got the string {}; the server reads every non-empty string as true, \"false\" included",
                    compact(value)
                ),
                Vec::new(),
            ),
            InputType::Combo(combo) => self.choice(spec, combo, value),
            InputType::Named(t) => self.push(
                Severity::Warn,
                ProblemKind::Unverified,
                name,
                format!(
                    "expects a link from a {t} output, got the literal {}; the server passes it to the node as it is",
                    compact(value)
                ),
                Vec::new(),
            ),
            _ => {}
        }
    }

    fn range(&mut self, spec: &InputSpec, n: Num) {
        let opts = &spec.options;
        let below = opts
            .min
            .as_ref()
            .filter(|m| n.compare(Num::from_json(m)) == Some(Ordering::Less));
        let above = opts
            .max
            .as_ref()
            .filter(|m| n.compare(Num::from_json(m)) == Some(Ordering::Greater));
        let (message, bound) = match (below, above) {
            (Some(min), _) => (format!("value {n} is below the minimum {min}"), min),
            (None, Some(max)) => (format!("value {n} is above the maximum {max}"), max),
            (None, None) => return,
        };
        // Custom nodes too: the server range-checks their inputs the same way (a
        // recorded refusal of the probe node shows it).
        self.push(
            Severity::Refuse,
            ProblemKind::OutOfRange,
            &spec.name,
            message,
            vec![bound.to_string()],
        );
    }

    fn choice(&mut self, spec: &InputSpec, combo: &Combo, value: &Value) {
        let name = spec.name.as_str();
        let listed = |v: &Value| combo.choices.iter().any(|c| coerce::py_eq(c, v));
        if combo.multiselect {
            let values: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                one => vec![one],
            };
            if !values.iter().all(|v| listed(v)) {
                self.push(
                    Severity::Warn,
                    ProblemKind::Unverified,
                    name,
                    format!(
                        "{} has values that are not among the listed choices",
                        compact(value)
                    ),
                    Vec::new(),
                );
            }
            return;
        }
        if listed(value) {
            return;
        }
        let text = value
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| compact(value));
        let strings: Vec<&str> = combo.choices.iter().filter_map(Value::as_str).collect();
        let near = suggest::closest(&text, strings.iter().copied(), 5);
        // Nothing resembles it: a short list is worth showing whole.
        let listing = if near.is_empty() && !strings.is_empty() && strings.len() <= 8 {
            format!(": {}", strings.join(", "))
        } else {
            String::new()
        };
        let options = &spec.options;
        if combo.remote || combo.from_dict {
            let why = if combo.remote {
                "the editor fetches this list from the server"
            } else {
                "the choices are given as a table"
            };
            self.push(
                Severity::Warn,
                ProblemKind::Unverified,
                name,
                format!("`{text}` is not among the listed choices, but {why}, so it may still be accepted"),
                near,
            );
            return;
        }
        let files = options.upload.is_some() || options.raw.contains_key("image_folder");
        if files
            && [" [input]", " [output]", " [temp]"]
                .iter()
                .any(|a| text.ends_with(a))
        {
            // Annotated names are resolved by the node's own check, not the list.
            self.push(
                Severity::Warn,
                ProblemKind::Unverified,
                name,
                format!("`{text}` names a file this check cannot see; the node looks for it when the prompt is queued"),
                near,
            );
            return;
        }
        let count = combo.choices.len();
        let message = if files {
            format!(
                "`{text}` is not among the server's input files ({count} listed{listing}): upload it first"
            )
        } else if looks_like_file(&text) && count == 0 {
            format!("`{text}` is not installed on this server (it has no files for `{name}`)")
        } else if looks_like_file(&text) {
            format!(
                "`{text}` is not installed on this server ({count} choice(s) for `{name}`{listing})"
            )
        } else if count == 0 {
            format!("`{text}` is not available: the server offers no choices for `{name}`")
        } else {
            format!("`{text}` is not one of the {count} choices{listing}")
        };
        let severity = self.refuse_unless_custom();
        self.push(severity, ProblemKind::NotInList, name, message, near);
    }
}

fn looks_like_file(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && (2..=12).contains(&ext.len()))
}

fn output_label(kind: Option<&str>, name: &str) -> String {
    match kind {
        Some(k) if k == name || name.is_empty() => k.to_owned(),
        Some(k) => format!("{name}: {k}"),
        None => "a list of choices".to_owned(),
    }
}

fn type_text(kind: &Value) -> String {
    match kind {
        Value::String(s) => s.clone(),
        _ => "a list of choices".to_owned(),
    }
}

enum TypeMatch {
    Yes,
    No,
    Unsure,
}

/// ComfyUI's non-strict `validate_node_input`: equal, a `*` on either side, or comma
/// lists that share a member. Combo links and odd specs cannot be judged from here.
fn types_match(received: &Value, expected: &InputType) -> TypeMatch {
    let Some(received) = received.as_str() else {
        // A node that outputs a list of choices (a combo source).
        return match expected {
            InputType::Any => TypeMatch::Yes,
            _ => TypeMatch::Unsure,
        };
    };
    let got: HashSet<&str> = received.split(',').map(str::trim).collect();
    if got.contains("*") {
        return TypeMatch::Yes;
    }
    let wanted: Vec<String> = match expected {
        InputType::Any => return TypeMatch::Yes,
        InputType::Combo(c) if c.v3 => vec!["COMBO".into()],
        InputType::Combo(_) | InputType::Other(_) => return TypeMatch::Unsure,
        InputType::Union(members) => members.clone(),
        other => vec![other.name()],
    };
    if wanted.iter().any(|w| w == "*" || got.contains(w.as_str())) {
        TypeMatch::Yes
    } else {
        TypeMatch::No
    }
}
