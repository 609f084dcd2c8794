//! A node class as `/object_info` describes it (reference §4.9): inputs with their
//! types, defaults, ranges and options, then outputs. Classic and V3 shapes alike.

use serde::Serialize;
use serde_json::{Map, Value};

/// Which part of `input` an input comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Section {
    Required,
    Optional,
    Hidden,
}

impl Section {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Optional => "optional",
            Self::Hidden => "hidden",
        }
    }
}

/// One input. Numbers are kept as sent (a seed's `max` is 2^64-1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputInfo {
    pub name: String,
    pub section: Section,
    /// `INT`, `FLOAT`, `STRING`, `IMAGE`, `IMAGE,MASK`, ...; `COMBO` for a choice.
    #[serde(rename = "type")]
    pub kind: String,
    /// The choices of a combo (classic list or V3 `options.options`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tooltip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputInfo {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub is_list: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tooltip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeInfo {
    pub class: String,
    pub display_name: String,
    pub category: String,
    pub description: String,
    pub python_module: String,
    pub output_node: bool,
    pub deprecated: bool,
    pub experimental: bool,
    pub inputs: Vec<InputInfo>,
    pub outputs: Vec<OutputInfo>,
}

fn text(value: Option<&Value>) -> String {
    value.and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn flag(value: Option<&Value>) -> bool {
    value.and_then(Value::as_bool).unwrap_or(false)
}

impl NodeInfo {
    /// Reads one class's entry; a shape that is not an object gives an empty node.
    pub fn from_value(class: &str, info: &Value) -> Self {
        let display = text(info.get("display_name"));
        Self {
            class: class.to_owned(),
            display_name: if display.is_empty() {
                class.to_owned()
            } else {
                display
            },
            category: text(info.get("category")),
            description: text(info.get("description")),
            python_module: text(info.get("python_module")),
            output_node: flag(info.get("output_node")),
            deprecated: flag(info.get("deprecated")),
            experimental: flag(info.get("experimental")),
            inputs: inputs(info),
            outputs: outputs(info),
        }
    }

    /// Every class of an `/object_info` answer, sorted by class name.
    pub fn list_from_value(value: &Value) -> Vec<Self> {
        let Some(classes) = value.as_object() else {
            return Vec::new();
        };
        let mut nodes: Vec<Self> = classes
            .iter()
            .map(|(class, info)| Self::from_value(class, info))
            .collect();
        nodes.sort_by(|a, b| a.class.cmp(&b.class));
        nodes
    }

    /// Case-insensitive match on the class, display name or category.
    pub fn matches(&self, needle: &str) -> bool {
        let needle = needle.to_lowercase();
        [&self.class, &self.display_name, &self.category]
            .iter()
            .any(|field| field.to_lowercase().contains(&needle))
    }
}

fn inputs(info: &Value) -> Vec<InputInfo> {
    let input = info.get("input");
    let order = info.get("input_order");
    let mut out = Vec::new();
    for section in [Section::Required, Section::Optional, Section::Hidden] {
        let Some(specs) = input
            .and_then(|i| i.get(section.as_str()))
            .and_then(Value::as_object)
        else {
            continue;
        };
        // `input_order` gives the declared order; names it misses still come, after.
        let mut names: Vec<&str> = order
            .and_then(|o| o.get(section.as_str()))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|name| specs.contains_key(*name))
            .collect();
        for name in specs.keys() {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        for name in names {
            out.push(input_info(name, section, &specs[name]));
        }
    }
    out
}

fn input_info(name: &str, section: Section, spec: &Value) -> InputInfo {
    // `[type, options]`, `[type]`, or (hidden inputs of classic nodes) a bare string.
    let (head, options) = match spec {
        Value::Array(items) => (
            items.first().cloned().unwrap_or(Value::Null),
            items.get(1).and_then(Value::as_object).cloned(),
        ),
        other => (other.clone(), None),
    };
    let options = options.unwrap_or_else(Map::new);
    let (kind, choices) = match head {
        Value::String(kind) if kind == "COMBO" => (
            kind,
            options
                .get("options")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        ),
        Value::String(kind) => (kind, Vec::new()),
        Value::Array(choices) => ("COMBO".to_owned(), choices),
        _ => ("*".to_owned(), Vec::new()),
    };
    let number = |key: &str| options.get(key).filter(|v| v.is_number()).cloned();
    InputInfo {
        name: name.to_owned(),
        section,
        kind,
        options: choices,
        default: options.get("default").cloned(),
        min: number("min"),
        max: number("max"),
        step: number("step"),
        tooltip: options
            .get("tooltip")
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

fn outputs(info: &Value) -> Vec<OutputInfo> {
    let list = |key: &str| -> &[Value] {
        info.get(key)
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    };
    let (kinds, names, is_list, tips) = (
        list("output"),
        list("output_name"),
        list("output_is_list"),
        list("output_tooltips"),
    );
    kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            // An output type can itself be a combo list (a node passing choices on).
            let kind = match kind {
                Value::String(s) => s.clone(),
                Value::Array(_) => "COMBO".to_owned(),
                other => other.to_string(),
            };
            OutputInfo {
                name: names
                    .get(i)
                    .and_then(Value::as_str)
                    .map_or_else(|| kind.clone(), str::to_owned),
                kind,
                is_list: is_list.get(i).and_then(Value::as_bool).unwrap_or(false),
                tooltip: tips.get(i).and_then(Value::as_str).map(str::to_owned),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classic_and_v3_inputs_read_alike() {
        let node = NodeInfo::from_value(
            "X",
            &json!({
                "input": {
                    "required": {
                        "b": [["one", "two"], {"default": "two"}],
                        "a": ["INT", {"default": 3, "min": 0, "max": 18446744073709551615u64, "step": 1}],
                        "c": ["COMBO", {"options": ["p", "q"], "multiselect": false}]
                    },
                    "optional": {"m": ["MODEL"]},
                    "hidden": {"p": "PROMPT", "u": ["UNIQUE_ID"]}
                },
                "input_order": {"required": ["a", "b"]},
                "output": ["IMAGE", ["x"]], "output_name": ["out"], "output_is_list": [true],
                "category": "image/test", "output_node": true
            }),
        );
        let names: Vec<&str> = node.inputs.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "m", "p", "u"]);
        assert_eq!(node.inputs[0].max, Some(json!(u64::MAX)));
        assert_eq!(node.inputs[1].kind, "COMBO");
        assert_eq!(node.inputs[1].options, [json!("one"), json!("two")]);
        assert_eq!(node.inputs[2].options.len(), 2);
        assert_eq!(node.inputs[3].section, Section::Optional);
        assert_eq!(node.inputs[4].kind, "PROMPT");
        assert_eq!(node.inputs[5].kind, "UNIQUE_ID");
        assert_eq!(node.outputs[0].name, "out");
        assert!(node.outputs[0].is_list);
        assert_eq!(node.outputs[1].kind, "COMBO");
        assert_eq!(node.display_name, "X");
        assert!(node.matches("IMAGE/T") && !node.matches("audio"));
    }

    #[test]
    fn junk_does_not_panic() {
        let node = NodeInfo::from_value(
            "J",
            &json!({"input": {"required": {"x": 5}}, "output": "no"}),
        );
        assert_eq!(node.inputs[0].kind, "*");
        assert!(node.outputs.is_empty());
        assert!(NodeInfo::list_from_value(&json!([1])).is_empty());
    }
}
