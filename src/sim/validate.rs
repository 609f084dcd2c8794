//! `POST /prompt` validation, mirroring ComfyUI's `validate_prompt` and its error shapes.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::catalog;
use super::pyconv::{convert, py_repr, py_str, py_type};

/// A prompt that passed (at least partly): the outputs to run and per-node errors of the
/// outputs that were dropped (a 200 can still carry `node_errors`).
#[derive(Debug)]
pub struct Validated {
    pub good_outputs: Vec<String>,
    pub node_errors: Map<String, Value>,
}

/// The JSON body of a 400 answer: `{"error": {...}, "node_errors": {...}}`.
pub fn error_body(
    kind: &str,
    message: &str,
    details: &str,
    node_errors: Map<String, Value>,
) -> Value {
    json!({
        "error": {"type": kind, "message": message, "details": details, "extra_info": {}},
        "node_errors": node_errors,
    })
}

/// Validate `prompt` in place (literal values are converted the way ComfyUI converts
/// them, e.g. `"5"` to `5` for an INT input). `input_file_exists` answers `LoadImage`'s
/// own check. `targets` are `partial_execution_targets`.
pub fn validate_prompt(
    prompt: &mut Map<String, Value>,
    targets: Option<&[String]>,
    input_file_exists: &dyn Fn(&str) -> bool,
) -> Result<Validated, Value> {
    for (id, node) in prompt.iter() {
        let Some(class_type) = node.get("class_type").and_then(Value::as_str) else {
            return Err(error_body(
                "invalid_prompt",
                "Cannot execute because a node is missing the class_type property.",
                &format!("Node ID '#{id}'"),
                Map::new(),
            ));
        };
        if catalog::class(class_type).is_none() {
            return Err(error_body(
                "invalid_prompt",
                &format!("Cannot execute because node {class_type} does not exist."),
                &format!("Node ID '#{id}'"),
                Map::new(),
            ));
        }
    }

    let outputs: Vec<String> = prompt
        .iter()
        .filter(|(id, node)| {
            let class_type = node.get("class_type").and_then(Value::as_str).unwrap_or("");
            catalog::is_output_node(class_type)
                && targets.is_none_or(|t| t.iter().any(|x| x == *id))
        })
        .map(|(id, _)| id.clone())
        .collect();
    if outputs.is_empty() {
        return Err(error_body(
            "prompt_no_outputs",
            "Prompt has no outputs",
            "",
            Map::new(),
        ));
    }

    let mut v = Validator {
        prompt,
        input_file_exists,
        memo: HashMap::new(),
        order: Vec::new(),
        visiting: HashSet::new(),
    };
    let mut good = Vec::new();
    let mut failed: Vec<(String, Vec<Value>)> = Vec::new();
    for o in &outputs {
        if v.validate(o) {
            good.push(o.clone());
        } else {
            let own = v.memo.get(o).map(|r| r.1.clone()).unwrap_or_default();
            failed.push((o.clone(), own));
        }
    }

    let mut node_errors = Map::new();
    for (o, _) in &failed {
        let closure = upstream_closure(v.prompt, o);
        for id in &v.order {
            let Some((valid, errors)) = v.memo.get(id) else {
                continue;
            };
            if *valid || errors.is_empty() || !closure.contains(id) {
                continue;
            }
            let class_type = v.prompt[id]["class_type"].clone();
            let entry = node_errors.entry(id.clone()).or_insert_with(
                || json!({"errors": errors, "dependent_outputs": [], "class_type": class_type}),
            );
            if let Some(deps) = entry
                .get_mut("dependent_outputs")
                .and_then(Value::as_array_mut)
            {
                deps.push(Value::from(o.clone()));
            }
        }
    }

    if good.is_empty() {
        let details: Vec<String> = failed
            .iter()
            .flat_map(|(_, errs)| errs.iter())
            .map(|e| format!("{}: {}", text(&e["message"]), text(&e["details"])))
            .collect();
        return Err(error_body(
            "prompt_outputs_failed_validation",
            "Prompt outputs failed validation",
            &details.join("\n"),
            node_errors,
        ));
    }
    Ok(Validated {
        good_outputs: good,
        node_errors,
    })
}

fn text(v: &Value) -> String {
    v.as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| v.to_string())
}

/// `o` and every node it reaches through links.
fn upstream_closure(prompt: &Map<String, Value>, o: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut stack = vec![o.to_owned()];
    while let Some(id) = stack.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        if let Some(inputs) = prompt
            .get(&id)
            .and_then(|n| n.get("inputs"))
            .and_then(Value::as_object)
        {
            for val in inputs.values() {
                if let Some(src) = link_source(val) {
                    stack.push(src);
                }
            }
        }
    }
    seen
}

/// The source node id of a link input (`["id", slot]`).
pub fn link_source(val: &Value) -> Option<String> {
    match val.as_array()?.as_slice() {
        [Value::String(id), _] => Some(id.clone()),
        _ => None,
    }
}

struct Validator<'a> {
    prompt: &'a mut Map<String, Value>,
    input_file_exists: &'a dyn Fn(&str) -> bool,
    memo: HashMap<String, (bool, Vec<Value>)>,
    order: Vec<String>,
    visiting: HashSet<String>,
}

impl Validator<'_> {
    fn record(&mut self, id: &str, valid: bool, errors: Vec<Value>) -> bool {
        if self.memo.insert(id.to_owned(), (valid, errors)).is_none() {
            self.order.push(id.to_owned());
        }
        valid
    }

    fn validate(&mut self, id: &str) -> bool {
        if let Some((valid, _)) = self.memo.get(id) {
            return *valid;
        }
        if !self.visiting.insert(id.to_owned()) {
            let err = json!({
                "type": "dependency_cycle",
                "message": "Dependency cycle detected",
                "details": format!("Node {id} depends on itself"),
                "extra_info": {"node_id": id},
            });
            return self.record(id, false, vec![err]);
        }
        let class_type = self.prompt[id]["class_type"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let required = catalog::inputs(&class_type, "required");
        let optional = catalog::inputs(&class_type, "optional");
        let mut inputs = self.prompt[id]
            .get("inputs")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut errors = Vec::new();
        let mut valid = true;

        for (name, _) in &required {
            if !inputs.contains_key(name) {
                errors.push(json!({
                    "type": "required_input_missing",
                    "message": "Required input is missing",
                    "details": name,
                    "extra_info": {"input_name": name},
                }));
            }
        }

        for (name, spec) in required.iter().chain(optional.iter()) {
            let Some(val) = inputs.get(name).cloned() else {
                continue;
            };
            let type_input = spec.get(0).cloned().unwrap_or(Value::Null);
            let options = spec.get(1).cloned().unwrap_or(Value::Null);
            if let Value::Array(link) = &val {
                match self.check_link(name, spec, &type_input, link) {
                    LinkCheck::Ok => {}
                    LinkCheck::Error(e) => errors.push(e),
                    LinkCheck::UpstreamInvalid => valid = false,
                }
                continue;
            }
            let val = match &val {
                Value::Object(o) if o.contains_key("__value__") => o["__value__"].clone(),
                _ => val,
            };
            match convert(&type_input, &val) {
                Err(msg) => {
                    errors.push(json!({
                        "type": "invalid_input_type",
                        "message": format!("Failed to convert an input value to a {} value", text(&type_input)),
                        "details": format!("{name}, {}, {msg}", py_str(&val)),
                        "extra_info": {"input_name": name, "input_config": spec, "received_value": val, "exception_message": msg},
                    }));
                    continue;
                }
                Ok(converted) => {
                    if let Some(e) = range_error(name, spec, &options, &converted) {
                        errors.push(e);
                    } else if let Value::Array(choices) = &type_input {
                        if catalog::INPUT_FILE_CLASSES.contains(&class_type.as_str())
                            && name == "image"
                        {
                            let file = converted.as_str().unwrap_or("");
                            if !(self.input_file_exists)(file) {
                                errors.push(json!({
                                    "type": "custom_validation_failed",
                                    "message": "Custom validation failed for node",
                                    "details": format!("{name} - Invalid image file: {file}"),
                                    "extra_info": {"input_name": name, "input_config": spec, "received_value": converted},
                                }));
                            }
                        } else if !choices
                            .iter()
                            .any(|c| crate::check::coerce::py_eq(c, &converted))
                        {
                            errors.push(not_in_list(name, spec, choices, &converted));
                        }
                    }
                    inputs.insert(name.clone(), converted);
                }
            }
        }

        if let Some(node) = self.prompt.get_mut(id).and_then(Value::as_object_mut) {
            node.insert("inputs".to_owned(), Value::Object(inputs));
        }
        self.visiting.remove(id);
        let ok = valid && errors.is_empty();
        self.record(id, ok, errors)
    }

    fn check_link(
        &mut self,
        name: &str,
        spec: &Value,
        type_input: &Value,
        link: &[Value],
    ) -> LinkCheck {
        if link.len() != 2 {
            return LinkCheck::Error(json!({
                "type": "bad_linked_input",
                "message": "Bad linked input, must be a length-2 list of [node_id, slot_index]",
                "details": name,
                "extra_info": {"input_name": name, "input_config": spec, "received_value": link},
            }));
        }
        let inner = |msg: String, exc: &str| {
            LinkCheck::Error(json!({
                "type": "exception_during_inner_validation",
                "message": "Exception when validating inner node",
                "details": msg,
                "extra_info": {
                    "input_name": name, "input_config": spec, "exception_message": msg,
                    "exception_type": exc, "traceback": [], "linked_node": link,
                },
            }))
        };
        // ComfyUI indexes the prompt with the raw id: a missing (or non-string) id is a
        // KeyError whose text is the Python repr of the key.
        let src = match &link[0] {
            Value::String(s) if self.prompt.contains_key(s) => s.clone(),
            Value::String(s) => return inner(format!("'{s}'"), "KeyError"),
            other => return inner(py_str(other), "KeyError"),
        };
        let src_class = self.prompt[&src]["class_type"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let types = catalog::output_types(&src_class);
        // Python indexes the outputs tuple: negative counts from the end, and a bool
        // is an int.
        let count = types.len() as i64;
        let slot = match &link[1] {
            Value::Number(n) if n.is_f64() => {
                return inner(
                    "tuple indices must be integers or slices, not float".to_owned(),
                    "TypeError",
                );
            }
            Value::Number(n) => n
                .as_i64()
                .map(|i| if i < 0 { i + count } else { i })
                .and_then(|i| u64::try_from(i).ok()),
            Value::Bool(b) => Some(u64::from(*b)),
            other => {
                return inner(
                    format!(
                        "tuple indices must be integers or slices, not {}",
                        py_type(other)
                    ),
                    "TypeError",
                );
            }
        };
        let Some(received) = slot.and_then(|s| types.get(s as usize)) else {
            return inner("tuple index out of range".to_owned(), "IndexError");
        };
        if let Some(expected) = type_input.as_str()
            && !types_match(received, expected)
        {
            return LinkCheck::Error(json!({
                "type": "return_type_mismatch",
                "message": "Return type mismatch between linked nodes",
                "details": format!("{name}, received_type({received}) mismatch input_type({expected})"),
                "extra_info": {"input_name": name, "input_config": spec, "received_type": received, "linked_node": link},
            }));
        }
        if self.validate(&src) {
            LinkCheck::Ok
        } else {
            LinkCheck::UpstreamInvalid
        }
    }
}

enum LinkCheck {
    Ok,
    Error(Value),
    UpstreamInvalid,
}

/// ComfyUI's non-strict type check: equal, a wildcard, or overlapping comma lists.
fn types_match(received: &str, expected: &str) -> bool {
    if received == expected || received == "*" || expected == "*" {
        return true;
    }
    let r: HashSet<&str> = received.split(',').map(str::trim).collect();
    expected.split(',').map(str::trim).any(|t| r.contains(t))
}

fn range_error(name: &str, spec: &Value, options: &Value, val: &Value) -> Option<Value> {
    let (Some(v), true) = (val.as_number(), val.is_number()) else {
        return None;
    };
    let below = |bound: &Value| cmp_num(v, bound).is_some_and(|o| o.is_lt());
    let above = |bound: &Value| cmp_num(v, bound).is_some_and(|o| o.is_gt());
    if let Some(min) = options.get("min").filter(|m| below(m)) {
        return Some(json!({
            "type": "value_smaller_than_min",
            "message": format!("Value {} smaller than min of {}", py_str(val), py_str(min)),
            "details": name,
            "extra_info": {"input_name": name, "input_config": spec, "received_value": val},
        }));
    }
    if let Some(max) = options.get("max").filter(|m| above(m)) {
        return Some(json!({
            "type": "value_bigger_than_max",
            "message": format!("Value {} bigger than max of {}", py_str(val), py_str(max)),
            "details": name,
            "extra_info": {"input_name": name, "input_config": spec, "received_value": val},
        }));
    }
    None
}

/// Compare two JSON numbers exactly when both are integers (seeds go up to u64::MAX).
fn cmp_num(a: &serde_json::Number, b: &Value) -> Option<std::cmp::Ordering> {
    let b = b.as_number()?;
    let int = |n: &serde_json::Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (int(a), int(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn not_in_list(name: &str, spec: &Value, choices: &[Value], val: &Value) -> Value {
    // ComfyUI leaves long lists (scanned model files) out of the answer.
    let (list_info, config) = if choices.len() > 20 {
        (format!("(list of length {})", choices.len()), Value::Null)
    } else {
        let items: Vec<String> = choices.iter().map(py_repr).collect();
        (format!("[{}]", items.join(", ")), spec.clone())
    };
    json!({
        "type": "value_not_in_list",
        "message": "Value not in list",
        "details": format!("{name}: '{}' not in {list_info}", py_str(val)),
        "extra_info": {"input_name": name, "input_config": config, "received_value": val},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(prompt: Value) -> Result<Validated, Value> {
        let mut p = prompt.as_object().cloned().unwrap_or_default();
        validate_prompt(&mut p, None, &|_| false)
    }

    #[test]
    fn recorded_invalid_prompt_gives_recorded_errors() {
        let err = run(json!({
            "1": {"class_type": "ProbeSteps", "inputs": {"steps": 0, "step_seconds": 0.1, "width": 64, "height": 64, "fail_at_step": 0, "send_previews": true}},
            "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "invalid"}},
        }))
        .unwrap_err();
        let expected: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/prompt_post_400_node_errors.json"
        ))
        .unwrap();
        assert_eq!(err, expected);
    }

    #[test]
    fn top_level_errors() {
        let e = run(json!({"1": {"class_type": "NoSuchNodeType", "inputs": {}}})).unwrap_err();
        assert_eq!(e["error"]["type"], "invalid_prompt");
        assert_eq!(e["error"]["details"], "Node ID '#1'");
        let e = run(json!({"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}}}))
            .unwrap_err();
        assert_eq!(e["error"]["type"], "prompt_no_outputs");
    }

    #[test]
    fn combo_range_and_links() {
        let e = run(json!({
            "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "nope.safetensors"}},
            "2": {"class_type": "EmptyImage", "inputs": {"width": 99999, "height": 8, "batch_size": 1, "color": 0}},
            "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "x"}},
            "4": {"class_type": "SaveImage", "inputs": {"images": ["99", 0], "filename_prefix": "x"}},
            "5": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}},
        }))
        .unwrap_err();
        let ne = &e["node_errors"];
        assert_eq!(ne["2"]["errors"][0]["type"], "value_bigger_than_max");
        assert_eq!(
            ne["2"]["errors"][0]["message"],
            "Value 99999 bigger than max of 16384"
        );
        assert_eq!(ne["2"]["dependent_outputs"], json!(["3"]));
        assert_eq!(
            ne["4"]["errors"][0]["type"],
            "exception_during_inner_validation"
        );
        assert_eq!(ne["4"]["errors"][0]["details"], "'99'");
        assert_eq!(ne["5"]["errors"][0]["type"], "return_type_mismatch");
        let ok = run(json!({
            "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "nope.safetensors"}},
            "9": {"class_type": "EmptyImage", "inputs": {"width": "64", "height": 8, "batch_size": 1, "color": 0}},
            "3": {"class_type": "SaveImage", "inputs": {"images": ["9", 0], "filename_prefix": "x"}},
        }));
        // Node 1 feeds no output, so it is not validated at all.
        assert_eq!(ok.unwrap().good_outputs, ["3"]);
    }

    /// The pre-flight check refuses exactly what this validator refuses, on the cases
    /// where Python's leniency is easy to get wrong.
    #[test]
    fn agrees_with_the_pre_flight_check() {
        let info =
            crate::comfy::object_info::ObjectInfo::from_map(&catalog::object_info_with_inputs(&[
                "in.png".to_owned(),
            ]));
        let base = || {
            json!({
                "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}},
                "2": {"class_type": "ImageScale", "inputs": {"image": ["1", 0], "upscale_method": "nearest-exact", "width": 8, "height": 8, "crop": "disabled"}},
                "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "x"}},
            })
        };
        let cases: Vec<(&str, Value)> = vec![
            ("plain", base()),
            ("int string", json!({"1": {"inputs": {"width": " 16 "}}})),
            (
                "int underscores",
                json!({"1": {"inputs": {"width": "1_6"}}}),
            ),
            (
                "int float truncates",
                json!({"1": {"inputs": {"width": 16.9}}}),
            ),
            (
                "int float string",
                json!({"1": {"inputs": {"width": "16.0"}}}),
            ),
            ("int word", json!({"1": {"inputs": {"width": "wide"}}})),
            ("int null", json!({"1": {"inputs": {"width": null}}})),
            ("int bool", json!({"1": {"inputs": {"width": true}}})),
            ("below min", json!({"1": {"inputs": {"width": 0}}})),
            ("above max", json!({"1": {"inputs": {"width": 99999}}})),
            (
                "wrapped value",
                json!({"1": {"inputs": {"width": {"__value__": 8}}}}),
            ),
            ("combo miss", json!({"2": {"inputs": {"crop": "middle"}}})),
            ("unknown input", json!({"2": {"inputs": {"cropp": "x"}}})),
            ("missing required", json!({"2": {"inputs": {"crop": null}}})),
            (
                "negative index",
                json!({"3": {"inputs": {"images": ["2", -1]}}}),
            ),
            (
                "bool index",
                json!({"3": {"inputs": {"images": ["2", false]}}}),
            ),
            (
                "index out of range",
                json!({"3": {"inputs": {"images": ["2", 1]}}}),
            ),
            (
                "float index",
                json!({"3": {"inputs": {"images": ["2", 0.0]}}}),
            ),
            (
                "missing node",
                json!({"3": {"inputs": {"images": ["9", 0]}}}),
            ),
            (
                "type mismatch",
                json!({"3": {"inputs": {"images": ["4", 0]}}, "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}}}),
            ),
            (
                "unused bad node",
                json!({"4": {"class_type": "EmptyLatentImage", "inputs": {"width": 0, "height": "x", "batch_size": 1}}}),
            ),
            (
                "cycle",
                json!({"1": {"class_type": "ImageScale", "inputs": {"image": ["2", 0], "upscale_method": "nearest-exact", "width": 8, "height": 8, "crop": "disabled"}}}),
            ),
            ("unknown class", json!({"1": {"class_type": "Nope"}})),
            (
                "image file there",
                json!({"4": {"class_type": "LoadImage", "inputs": {"image": "in.png"}}, "3": {"inputs": {"images": ["4", 0]}}}),
            ),
            (
                "image file missing",
                json!({"4": {"class_type": "LoadImage", "inputs": {"image": "out.png"}}, "3": {"inputs": {"images": ["4", 0]}}}),
            ),
        ];
        for (name, patch) in cases {
            let mut prompt = base();
            for (id, node) in patch.as_object().into_iter().flatten() {
                let entry = &mut prompt[id];
                if entry.is_null() {
                    *entry = node.clone();
                    continue;
                }
                if let Some(class) = node.get("class_type") {
                    entry["class_type"] = class.clone();
                }
                for (k, v) in node
                    .get("inputs")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    if v.is_null() {
                        entry["inputs"].as_object_mut().unwrap().shift_remove(k);
                    } else {
                        entry["inputs"][k] = v.clone();
                    }
                }
            }
            let mut map = prompt.as_object().cloned().unwrap();
            let report = crate::check::check(&map, Some(&info));
            let server = validate_prompt(&mut map, None, &|f| f == "in.png");
            let refused = match &server {
                Err(_) => true,
                Ok(v) => !v.node_errors.is_empty(),
            };
            assert_eq!(
                !report.is_ok(),
                refused,
                "{name}: check {:?} / simulator {server:?}",
                report.problems
            );
        }
    }

    #[test]
    fn not_in_list_and_partial_success() {
        let r = run(json!({
            "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "nope.safetensors"}},
            "2": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
            "3": {"class_type": "VAEDecode", "inputs": {"samples": ["2", 0], "vae": ["1", 2]}},
            "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "x"}},
            "5": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}},
            "6": {"class_type": "PreviewImage", "inputs": {"images": ["5", 0]}},
        }))
        .unwrap();
        assert_eq!(r.good_outputs, ["6"]);
        let err = &r.node_errors["1"]["errors"][0];
        assert_eq!(err["type"], "value_not_in_list");
        assert_eq!(
            err["details"],
            "ckpt_name: 'nope.safetensors' not in ['sd15-demo.safetensors', 'sdxl-base-demo.safetensors', 'flux-schnell-demo.safetensors']"
        );
        assert_eq!(r.node_errors["1"]["dependent_outputs"], json!(["4"]));
    }
}
