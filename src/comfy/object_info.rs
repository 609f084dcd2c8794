//! A typed, read-only view of a server's `GET /object_info` (protocol reference §4.9),
//! tolerant of every shape seen across versions: classic and V3 node schemas, combos as
//! lists or as `"COMBO"` with `options`, comma-joined type unions, `*`, hidden inputs as
//! strings or one-element lists, and option keys that come and go.
//!
//! Parsing never fails on a node class: whatever cannot be read is kept as the closest
//! honest value (`InputType::Other`, an empty list, `None`), because one odd custom node
//! must not make a whole server's catalogue unusable.

use serde_json::{Map, Number, Value};
use std::collections::HashMap;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ObjectInfoError {
    #[error("{source_name} is not valid JSON: {reason}")]
    NotJson { source_name: String, reason: String },
    #[error("{source_name} must be a JSON object of node classes, found {found}")]
    NotObject {
        source_name: String,
        found: &'static str,
    },
}

/// Every node class a server offers, in the order the server listed them.
#[derive(Debug, Clone, Default)]
pub struct ObjectInfo {
    classes: Vec<NodeClass>,
    by_name: HashMap<String, usize>,
}

/// One node class (`/object_info/{class}`).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeClass {
    pub name: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    /// Slash-separated menu path, e.g. `sampling` or `image/video`.
    pub category: Option<String>,
    /// `nodes`, `comfy_extras.…`, `comfy_api_nodes.…` or `custom_nodes.…`.
    pub python_module: Option<String>,
    /// Output nodes are what the server runs a prompt for.
    pub output_node: bool,
    pub deprecated: bool,
    pub experimental: bool,
    pub api_node: bool,
    /// Written with the V3 node API (its info carries every key, `null` where unset).
    pub v3: bool,
    /// Required, then optional, then hidden inputs, each group in `input_order`.
    pub inputs: Vec<InputSpec>,
    pub outputs: Vec<OutputSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputCategory {
    Required,
    Optional,
    /// Filled in by the server (`PROMPT`, `UNIQUE_ID`, …); a prompt never needs them.
    Hidden,
}

impl InputCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Optional => "optional",
            Self::Hidden => "hidden",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct InputSpec {
    pub name: String,
    pub category: InputCategory,
    pub kind: InputType,
    pub options: InputOptions,
}

/// What an input takes.
#[derive(Debug, Clone, PartialEq)]
pub enum InputType {
    Int,
    Float,
    String,
    Boolean,
    /// A choice among values: a classic list or a V3 `"COMBO"`.
    Combo(Combo),
    /// `*`: anything.
    Any,
    /// A single named type that only links carry (`IMAGE`, `MODEL`, a custom type).
    Named(String),
    /// A comma-joined union (`IMAGE,MASK`); a link matches when any member does.
    Union(Vec<String>),
    /// A spec this view does not understand, kept as sent.
    Other(Value),
}

impl InputType {
    /// The type as the server names it in messages (`INT`, `COMBO`, `IMAGE,MASK`).
    pub fn name(&self) -> String {
        match self {
            Self::Int => "INT".into(),
            Self::Float => "FLOAT".into(),
            Self::String => "STRING".into(),
            Self::Boolean => "BOOLEAN".into(),
            Self::Combo(_) => "COMBO".into(),
            Self::Any => "*".into(),
            Self::Named(n) => n.clone(),
            Self::Union(members) => members.join(","),
            Self::Other(v) => v.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Combo {
    /// The values the server accepts, as sent (usually strings, sometimes numbers).
    pub choices: Vec<Value>,
    /// Given as `"COMBO"` with `options.options` (V3) rather than as a bare list.
    pub v3: bool,
    /// V3 `multiselect: true`: the value is a list of choices.
    pub multiselect: bool,
    /// The frontend fetches the choices from a route (`remote`); the list may be stale
    /// or empty here.
    pub remote: bool,
    /// The choices were given as an object (label → value) rather than a list: its
    /// keys and values are both kept in `choices`, since which one the server compares
    /// against depends on the node.
    pub from_dict: bool,
}

/// The options object of an input spec. The common keys are typed; every key, known
/// or not, stays in `raw`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InputOptions {
    pub default: Option<Value>,
    pub min: Option<Number>,
    pub max: Option<Number>,
    pub step: Option<Number>,
    pub round: Option<Value>,
    pub tooltip: Option<String>,
    /// Shown as a socket only in the editor; a literal value still works in a prompt.
    pub force_input: bool,
    /// Evaluated only when the node asks for it.
    pub lazy: bool,
    pub multiline: bool,
    pub dynamic_prompts: bool,
    /// `true`, `false` or absent; the frontend adds a control widget when true.
    pub control_after_generate: Option<bool>,
    pub raw_link: bool,
    /// `image_upload`, `video_upload`, `audio_upload`, `file_upload`: the value names a
    /// file in the server's input folder, which the node checks itself.
    pub upload: Option<String>,
    pub raw: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutputSpec {
    /// Usually a type name; a list when a node outputs combo choices.
    pub kind: Value,
    pub name: String,
    pub is_list: bool,
}

impl OutputSpec {
    pub fn type_name(&self) -> Option<&str> {
        self.kind.as_str()
    }
}

impl ObjectInfo {
    /// Parses `/object_info` text (Python's `NaN`/`Infinity` tokens allowed);
    /// `source_name` only names the source in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, ObjectInfoError> {
        let value = super::lenient::from_str(text).map_err(|e| ObjectInfoError::NotJson {
            source_name: source_name.to_owned(),
            reason: e.to_string(),
        })?;
        Self::from_value(&value, source_name)
    }

    pub fn from_value(value: &Value, source_name: &str) -> Result<Self, ObjectInfoError> {
        let Value::Object(map) = value else {
            return Err(ObjectInfoError::NotObject {
                source_name: source_name.to_owned(),
                found: super::workflow::json_kind(value),
            });
        };
        Ok(Self::from_map(map))
    }

    /// Every entry that is an object becomes a class; anything else is skipped (a
    /// server skips classes whose info fails, so a partial catalogue is normal).
    pub fn from_map(map: &Map<String, Value>) -> Self {
        let mut info = Self::default();
        for (name, entry) in map {
            if let Value::Object(entry) = entry {
                info.insert(NodeClass::from_entry(name, entry));
            }
        }
        info
    }

    /// The view one prompt needs: its own classes read in full, every other class by its
    /// names only (all that suggestions use). Most of a large catalogue is never looked at,
    /// and reading it all would cost a run more than the check itself.
    pub fn for_prompt(map: &Map<String, Value>, prompt: &Map<String, Value>) -> Self {
        let wanted: std::collections::HashSet<&str> = prompt
            .values()
            .filter_map(|node| node.get("class_type")?.as_str())
            .collect();
        let empty = Map::new();
        let mut info = Self::default();
        for (name, entry) in map {
            let Value::Object(entry) = entry else {
                continue;
            };
            if wanted.contains(name.as_str()) {
                info.insert(NodeClass::from_entry(name, entry));
            } else {
                let mut class = NodeClass::from_entry(name, &empty);
                class.display_name = string(entry, "display_name");
                info.insert(class);
            }
        }
        info
    }

    fn insert(&mut self, class: NodeClass) {
        self.by_name.insert(class.name.clone(), self.classes.len());
        self.classes.push(class);
    }

    pub fn get(&self, name: &str) -> Option<&NodeClass> {
        self.by_name.get(name).map(|&i| &self.classes[i])
    }

    pub fn classes(&self) -> impl Iterator<Item = &NodeClass> {
        self.classes.iter()
    }

    pub fn len(&self) -> usize {
        self.classes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }
}

fn string(entry: &Map<String, Value>, key: &str) -> Option<String> {
    entry.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn truthy(entry: &Map<String, Value>, key: &str) -> bool {
    entry.get(key).and_then(Value::as_bool).unwrap_or(false)
}

impl NodeClass {
    /// Reads one class entry; `name` is its key (the `name` field can be missing on
    /// old servers).
    pub fn from_entry(name: &str, entry: &Map<String, Value>) -> Self {
        let empty = Map::new();
        let input = entry
            .get("input")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let order = entry.get("input_order").and_then(Value::as_object);
        let mut inputs = Vec::new();
        for category in [
            InputCategory::Required,
            InputCategory::Optional,
            InputCategory::Hidden,
        ] {
            let Some(group) = input.get(category.as_str()).and_then(Value::as_object) else {
                continue;
            };
            for input_name in ordered_names(group, order.and_then(|o| o.get(category.as_str()))) {
                let spec = &group[input_name];
                inputs.push(InputSpec::from_spec(input_name, category, spec));
            }
        }
        let list = |key: &str| -> Vec<Value> {
            entry
                .get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let kinds = list("output");
        let names = list("output_name");
        let is_list = list("output_is_list");
        let outputs = kinds
            .into_iter()
            .enumerate()
            .map(|(i, kind)| OutputSpec {
                name: names
                    .get(i)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| kind.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                is_list: is_list.get(i).and_then(Value::as_bool).unwrap_or(false),
                kind,
            })
            .collect();
        Self {
            name: name.to_owned(),
            display_name: string(entry, "display_name"),
            description: string(entry, "description"),
            category: string(entry, "category"),
            python_module: string(entry, "python_module"),
            output_node: truthy(entry, "output_node"),
            deprecated: truthy(entry, "deprecated"),
            experimental: truthy(entry, "experimental"),
            api_node: truthy(entry, "api_node"),
            // Classic nodes leave `deprecated`/`experimental` out unless true; V3 nodes
            // always send them.
            v3: entry.contains_key("deprecated") && entry.contains_key("experimental"),
            inputs,
            outputs,
        }
    }

    pub fn input(&self, name: &str) -> Option<&InputSpec> {
        self.inputs.iter().find(|i| i.name == name)
    }

    pub fn inputs_in(&self, category: InputCategory) -> impl Iterator<Item = &InputSpec> {
        self.inputs.iter().filter(move |i| i.category == category)
    }

    /// Declared in a custom node package (its types and checks are its own business).
    /// A class that does not say where it comes from counts as custom.
    pub fn is_custom(&self) -> bool {
        self.python_module
            .as_deref()
            .is_none_or(|m| m == "custom_nodes" || m.starts_with("custom_nodes."))
    }
}

/// The group's names in `input_order` where given, then any the order missed.
fn ordered_names<'a>(group: &'a Map<String, Value>, order: Option<&'a Value>) -> Vec<&'a str> {
    let mut names: Vec<&str> = order
        .and_then(Value::as_array)
        .map(|o| {
            o.iter()
                .filter_map(Value::as_str)
                .filter(|n| group.contains_key(*n))
                .collect()
        })
        .unwrap_or_default();
    for key in group.keys() {
        if !names.contains(&key.as_str()) {
            names.push(key);
        }
    }
    names
}

impl InputSpec {
    /// Reads `[type, options]`, `[type]`, or (hidden inputs of classic nodes) a bare type
    /// string.
    pub fn from_spec(name: &str, category: InputCategory, spec: &Value) -> Self {
        let (type_value, options) = match spec {
            Value::Array(parts) => (
                parts.first().cloned().unwrap_or(Value::Null),
                parts.get(1).and_then(Value::as_object).cloned(),
            ),
            other => (other.clone(), None),
        };
        let options = options.unwrap_or_default();
        let kind = InputType::from_parts(&type_value, &options);
        Self {
            name: name.to_owned(),
            category,
            kind,
            options: InputOptions::from_map(options),
        }
    }
}

impl InputType {
    fn from_parts(type_value: &Value, options: &Map<String, Value>) -> Self {
        match type_value {
            Value::Array(choices) => Self::Combo(Combo {
                choices: choices.clone(),
                multiselect: truthy(options, "multiselect"),
                remote: options.contains_key("remote"),
                ..Combo::default()
            }),
            Value::Object(dict) => Self::Combo(Combo {
                choices: dict_choices(dict),
                from_dict: true,
                ..Combo::default()
            }),
            Value::String(s) => match s.trim() {
                "INT" => Self::Int,
                "FLOAT" => Self::Float,
                "STRING" => Self::String,
                "BOOLEAN" => Self::Boolean,
                "*" => Self::Any,
                "COMBO" => {
                    let (choices, from_dict) = match options.get("options") {
                        Some(Value::Array(list)) => (list.clone(), false),
                        Some(Value::Object(dict)) => (dict_choices(dict), true),
                        _ => (Vec::new(), false),
                    };
                    Self::Combo(Combo {
                        choices,
                        v3: true,
                        multiselect: truthy(options, "multiselect"),
                        remote: options.contains_key("remote")
                            || options.contains_key("remote_combo"),
                        from_dict,
                    })
                }
                t if t.contains(',') => {
                    Self::Union(t.split(',').map(|m| m.trim().to_owned()).collect())
                }
                t => Self::Named(t.to_owned()),
            },
            other => Self::Other(other.clone()),
        }
    }
}

fn dict_choices(dict: &Map<String, Value>) -> Vec<Value> {
    dict.keys()
        .map(|k| Value::String(k.clone()))
        .chain(dict.values().cloned())
        .collect()
}

impl InputOptions {
    fn from_map(raw: Map<String, Value>) -> Self {
        let number = |key: &str| raw.get(key).and_then(Value::as_number).cloned();
        let flag = |key: &str| truthy(&raw, key);
        let upload = raw
            .iter()
            .find(|(k, v)| k.ends_with("_upload") && v.as_bool() == Some(true))
            .map(|(k, _)| k.clone());
        Self {
            default: raw.get("default").cloned(),
            min: number("min"),
            max: number("max"),
            step: number("step"),
            round: raw.get("round").cloned(),
            tooltip: string(&raw, "tooltip"),
            force_input: flag("forceInput"),
            lazy: flag("lazy"),
            multiline: flag("multiline"),
            dynamic_prompts: flag("dynamicPrompts"),
            control_after_generate: raw.get("control_after_generate").and_then(Value::as_bool),
            raw_link: flag("rawLink"),
            upload,
            raw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn class(entry: Value) -> NodeClass {
        NodeClass::from_entry("X", entry.as_object().expect("object"))
    }

    #[test]
    fn classic_node_inputs_in_order_with_options() {
        let c = class(json!({
            "input": {
                "required": {
                    "b": ["INT", {"default": 20, "min": 1, "max": 18446744073709551615u64, "step": 1, "control_after_generate": true}],
                    "a": [["euler", "heun"], {"tooltip": "t"}],
                    "m": ["MODEL"]
                },
                "optional": {"mask": ["IMAGE,MASK", {"forceInput": true, "lazy": true}]},
                "hidden": {"prompt": "PROMPT", "uid": ["UNIQUE_ID"]}
            },
            "input_order": {"required": ["m", "a", "b"], "optional": ["mask"], "hidden": ["uid", "prompt"]},
            "output": ["LATENT", ["x", "y"]],
            "output_name": ["LATENT"],
            "output_is_list": [false, true],
            "python_module": "nodes",
            "category": "sampling",
            "display_name": "Sampler",
            "output_node": false
        }));
        let names: Vec<&str> = c.inputs.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["m", "a", "b", "mask", "uid", "prompt"]);
        let b = c.input("b").expect("b");
        assert_eq!(b.kind, InputType::Int);
        assert_eq!(
            b.options.max.as_ref().and_then(Number::as_u64),
            Some(u64::MAX)
        );
        assert_eq!(b.options.control_after_generate, Some(true));
        let InputType::Combo(combo) = &c.input("a").expect("a").kind else {
            panic!("combo")
        };
        assert_eq!(combo.choices, [json!("euler"), json!("heun")]);
        assert!(!combo.v3);
        assert_eq!(
            c.input("m").expect("m").kind,
            InputType::Named("MODEL".into())
        );
        let mask = c.input("mask").expect("mask");
        assert_eq!(
            mask.kind,
            InputType::Union(vec!["IMAGE".into(), "MASK".into()])
        );
        assert!(mask.options.force_input && mask.options.lazy);
        assert_eq!(mask.category, InputCategory::Optional);
        assert_eq!(
            c.input("uid").expect("uid").kind,
            InputType::Named("UNIQUE_ID".into())
        );
        assert_eq!(
            c.input("prompt").expect("p").category,
            InputCategory::Hidden
        );
        assert_eq!(c.outputs.len(), 2);
        assert_eq!(c.outputs[0].type_name(), Some("LATENT"));
        assert_eq!(c.outputs[1].name, "");
        assert!(c.outputs[1].is_list);
        assert!(!c.is_custom() && !c.v3);
        assert_eq!(c.display_name.as_deref(), Some("Sampler"));
    }

    #[test]
    fn v3_combo_remote_multiselect_and_dict_options() {
        let c = class(json!({
            "input": {"required": {
                "file": ["COMBO", {"multiselect": false, "options": ["a.mp4"], "video_upload": true}],
                "tags": ["COMBO", {"multiselect": true, "options": ["x", "y"]}],
                "out": ["COMBO", {"remote": {"route": "/r"}}],
                "mode": ["COMBO", {"options": {"Fast": "fast"}}],
                "any": ["*", {}]
            }},
            "output": [], "deprecated": false, "experimental": false,
            "python_module": "custom_nodes.pack"
        }));
        assert!(c.v3 && c.is_custom());
        let combo = |n: &str| match &c.input(n).expect(n).kind {
            InputType::Combo(k) => k.clone(),
            other => panic!("{other:?}"),
        };
        assert!(combo("file").v3 && !combo("file").multiselect);
        assert_eq!(
            c.input("file").expect("file").options.upload.as_deref(),
            Some("video_upload")
        );
        assert!(combo("tags").multiselect);
        assert!(combo("out").remote && combo("out").choices.is_empty());
        assert!(combo("mode").from_dict);
        assert_eq!(combo("mode").choices, [json!("Fast"), json!("fast")]);
        assert_eq!(c.input("any").expect("any").kind, InputType::Any);
    }

    #[test]
    fn odd_shapes_are_tolerated() {
        let info = ObjectInfo::from_value(
            &json!({
                "Bare": {},
                "Junk": 5,
                "Weird": {"input": {"required": {"x": [7], "y": "STRING", "z": []}}, "output": "nope"}
            }),
            "test",
        )
        .expect("object");
        assert_eq!(info.len(), 2);
        let bare = info.get("Bare").expect("bare");
        assert!(bare.inputs.is_empty() && bare.outputs.is_empty() && bare.is_custom());
        let weird = info.get("Weird").expect("weird");
        assert_eq!(
            weird.input("x").expect("x").kind,
            InputType::Other(json!(7))
        );
        assert_eq!(weird.input("y").expect("y").kind, InputType::String);
        assert_eq!(
            weird.input("z").expect("z").kind,
            InputType::Other(Value::Null)
        );
        assert!(matches!(
            ObjectInfo::parse("[1]", "f.json"),
            Err(ObjectInfoError::NotObject {
                found: "an array",
                ..
            })
        ));
        let err = ObjectInfo::parse("{", "f.json").expect_err("bad json");
        assert!(err.to_string().contains("f.json"), "{err}");
    }

    #[test]
    fn the_recorded_full_object_info_parses() {
        let info = ObjectInfo::parse(
            include_str!("../../tests/fixtures/object_info_full.json"),
            "object_info_full.json",
        )
        .expect("parses");
        assert_eq!(info.len(), 500);
        let k = info.get("KSampler").expect("KSampler");
        assert_eq!(k.inputs_in(InputCategory::Required).count(), 10);
        assert!(info.get("SaveImage").expect("SaveImage").output_node);
        let video = info.get("LoadVideo").expect("LoadVideo");
        assert!(video.v3);
        assert!(matches!(&video.inputs[0].kind, InputType::Combo(c) if c.v3));
    }

    #[test]
    fn a_prompt_view_reads_its_own_classes_in_full_and_the_rest_by_name() {
        let text = include_str!("../../tests/fixtures/object_info_full.json");
        let Value::Object(map) = serde_json::from_str::<Value>(text).expect("json") else {
            panic!("an object");
        };
        let prompt = json!({"3": {"class_type": "KSampler", "inputs": {}}});
        let view = ObjectInfo::for_prompt(&map, prompt.as_object().expect("object"));
        let full = ObjectInfo::from_map(&map);
        assert_eq!(
            view.len(),
            full.len(),
            "every name is there for suggestions"
        );
        assert_eq!(view.get("KSampler"), full.get("KSampler"));
        let other = view.get("SaveImage").expect("by name");
        assert!(other.inputs.is_empty());
        assert_eq!(
            other.display_name,
            full.get("SaveImage").expect("full").display_name
        );
    }
}
