//! The JSON contract in the tests: every JSON line or object a test reads from comfy-tui
//! is checked against the schema `comfy-tui schema` prints, so the schema cannot drift
//! from the code unnoticed.

#![allow(dead_code)]

use serde_json::Value;
use std::sync::OnceLock;

/// The schema as the binary embeds it.
pub fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA
        .get_or_init(|| serde_json::from_str(comfy_tui::schema::TEXT).expect("the schema is JSON"))
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::draft202012::new(schema())
            .unwrap_or_else(|e| panic!("the schema compiles: {e}"))
    })
}

/// A validator for one `$defs` entry alone (compiled only to explain a failure).
fn def_validator(name: &str) -> jsonschema::Validator {
    let mut one = schema().clone();
    if let Value::Object(map) = &mut one {
        for key in ["if", "then", "else"] {
            map.remove(key);
        }
        map.insert("$ref".into(), Value::String(format!("#/$defs/{name}")));
    }
    jsonschema::draft202012::new(&one).unwrap_or_else(|e| panic!("$defs/{name} compiles: {e}"))
}

fn errors(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|e| {
            format!(
                "{e} (at `{}`, schema `{}`)",
                e.instance_path(),
                e.schema_path()
            )
        })
        .collect()
}

/// What is wrong with `value` against the whole schema (nothing when it matches).
pub fn problems(value: &Value) -> Vec<String> {
    errors(validator(), value)
}

/// What is wrong with `value` against one `$defs` entry (`queue`, `done`, ...).
pub fn problems_against(name: &str, value: &Value) -> Vec<String> {
    assert!(
        schema()["$defs"].get(name).is_some(),
        "no $defs/{name} in the schema"
    );
    errors(&def_validator(name), value)
}

/// Panics, naming the value and what is wrong with it, unless it matches the schema.
pub fn check(value: &Value) {
    let whole = problems(value);
    if whole.is_empty() {
        return;
    }
    // `oneOf` says only that no branch matched: say what is wrong against the branch
    // that was meant (the event's own definition; for a command, the closest one).
    let detail = match value.get("event").and_then(Value::as_str) {
        Some(event) if schema()["$defs"].get(event).is_some() => {
            format!(
                "against $defs/{event}:\n  {}",
                errors(&def_validator(event), value).join("\n  ")
            )
        }
        Some(event) => format!("no event `{event}` in the schema"),
        None => {
            let branches = schema()["$defs"]["command"]["oneOf"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let closest = branches
                .iter()
                .filter_map(|b| {
                    b["$ref"]
                        .as_str()?
                        .strip_prefix("#/$defs/")
                        .map(str::to_owned)
                })
                .map(|name| {
                    let found = errors(&def_validator(&name), value);
                    (found.len(), name, found)
                })
                .min();
            match closest {
                Some((_, name, found)) => format!(
                    "against $defs/{name} (the closest):\n  {}",
                    found.join("\n  ")
                ),
                None => String::new(),
            }
        }
    };
    panic!(
        "printed JSON does not match schema/comfy-tui.schema.json:\n{value}\n{}\n{detail}",
        whole.join("\n")
    );
}

/// Parses one printed line and checks it.
pub fn parse(line: &str) -> Value {
    let value: Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    check(&value);
    value
}
