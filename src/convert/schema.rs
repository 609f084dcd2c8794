//! What `/object_info` says about one node class, in the shape the converter needs: the
//! ordered inputs, which of them are widgets (with their companions), defaults, output types
//! and the display name.

use serde_json::{Map, Value};

/// One declared input (required or optional; hidden ones are never listed).
#[derive(Debug, Clone)]
pub struct InputSpec {
    pub name: String,
    /// The declared type; a list of options is `COMBO`.
    pub kind: String,
    pub options: Map<String, Value>,
    /// Combo options when given as a list.
    pub choices: Vec<Value>,
}

impl InputSpec {
    /// Types the frontend gives a widget (everything else is a socket only).
    fn widget_type(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "INT" | "FLOAT" | "STRING" | "BOOLEAN" | "COMBO"
        )
    }

    fn force_input(&self) -> bool {
        self.options.get("forceInput").and_then(Value::as_bool) == Some(true)
    }

    /// True when the frontend adds the "control after generate" companion: an explicit flag,
    /// or an INT named `seed` / `noise_seed` unless the flag is explicitly false (rule C1).
    fn has_control(&self) -> bool {
        match self.options.get("control_after_generate") {
            Some(Value::Bool(flag)) => *flag && matches!(self.kind.as_str(), "INT" | "COMBO"),
            Some(Value::Null) | None => {
                self.kind == "INT" && matches!(self.name.as_str(), "seed" | "noise_seed")
            }
            // Any other value is truthy in JavaScript.
            Some(_) => matches!(self.kind.as_str(), "INT" | "COMBO"),
        }
    }

    /// Upload buttons the frontend inserts after a COMBO (never serialised).
    fn has_upload(&self) -> bool {
        [
            "image_upload",
            "video_upload",
            "audio_upload",
            "animated_image_upload",
        ]
        .iter()
        .any(|key| self.options.get(*key).and_then(Value::as_bool) == Some(true))
    }

    pub fn dynamic_prompts(&self) -> bool {
        self.options.get("dynamicPrompts").and_then(Value::as_bool) == Some(true)
    }

    /// The value a fresh widget holds (rule C2).
    pub fn default_value(&self) -> Value {
        if let Some(value) = self.options.get("default") {
            return value.clone();
        }
        match self.kind.as_str() {
            "COMBO" => self
                .choices
                .first()
                .cloned()
                .or_else(|| {
                    self.options
                        .get("options")
                        .and_then(Value::as_array)
                        .and_then(|o| o.first().cloned())
                })
                .unwrap_or(Value::Null),
            // The number widgets start at 0 without a default, whatever `min` says.
            "INT" | "FLOAT" => Value::from(0),
            "STRING" => Value::from(""),
            "BOOLEAN" => Value::Bool(false),
            _ => Value::Null,
        }
    }
}

/// One entry of a node's widget list: a real widget or a companion that only takes a place
/// in `widgets_values`.
#[derive(Debug, Clone)]
pub enum WidgetSlot {
    /// Index into [`ClassInfo::inputs`].
    Widget(usize),
    /// The companion of the widget before it; never serialised.
    Companion,
}

/// What the converter knows about one class.
#[derive(Debug, Clone)]
pub struct ClassInfo {
    pub name: String,
    pub inputs: Vec<InputSpec>,
    pub outputs: Vec<String>,
    pub display_name: Option<String>,
}

impl ClassInfo {
    pub fn parse(name: &str, def: &Value) -> Self {
        let empty = Map::new();
        let input = def
            .get("input")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let order = def.get("input_order").and_then(Value::as_object);
        let mut inputs = Vec::new();
        for section in ["required", "optional"] {
            let Some(specs) = input.get(section).and_then(Value::as_object) else {
                continue;
            };
            let names: Vec<&str> =
                match order.and_then(|o| o.get(section)).and_then(Value::as_array) {
                    Some(list) => list.iter().filter_map(Value::as_str).collect(),
                    None => specs.keys().map(String::as_str).collect(),
                };
            for input_name in names {
                if let Some(spec) = specs.get(input_name) {
                    inputs.push(parse_input(input_name, spec));
                }
            }
        }
        let outputs = def
            .get("output")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|t| match t {
                        Value::String(s) => s.clone(),
                        Value::Array(_) => "COMBO".to_owned(),
                        _ => "*".to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let display_name = def
            .get("display_name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        ClassInfo {
            name: name.to_owned(),
            inputs,
            outputs,
            display_name,
        }
    }

    pub fn input(&self, name: &str) -> Option<&InputSpec> {
        self.inputs.iter().find(|i| i.name == name)
    }

    /// The widget list as the frontend builds it (rule C1). With `legacy`, `forceInput`
    /// inputs hold a place too, as in files saved before they lost their widgets (rule C4).
    pub fn widget_slots(&self, legacy: bool) -> Vec<(WidgetSlot, bool)> {
        let mut slots = Vec::new();
        for (index, input) in self.inputs.iter().enumerate() {
            if !input.widget_type() {
                continue;
            }
            let forced = input.force_input();
            if forced && !legacy {
                continue;
            }
            // The bool marks places that only exist in the legacy layout.
            slots.push((WidgetSlot::Widget(index), forced));
            if input.has_control() {
                slots.push((WidgetSlot::Companion, forced));
                // A combo's control also brings its filter-list widget.
                if input.kind == "COMBO" {
                    slots.push((WidgetSlot::Companion, forced));
                }
            }
            if input.kind == "COMBO" && input.has_upload() {
                slots.push((WidgetSlot::Companion, forced));
            }
        }
        slots
    }

    /// The names of the inputs that are widgets (not `forceInput`).
    pub fn is_widget(&self, name: &str) -> bool {
        self.input(name)
            .is_some_and(|i| i.widget_type() && !i.force_input())
    }

    /// The title an untitled node shows (rule A4).
    pub fn display_title(&self) -> String {
        if let Some(name) = &self.display_name {
            return name.clone();
        }
        builtin_english_name(&self.name)
            .map(str::to_owned)
            .unwrap_or_else(|| self.name.clone())
    }
}

fn parse_input(name: &str, spec: &Value) -> InputSpec {
    let (kind_value, options) = match spec {
        Value::Array(parts) => (
            parts.first().cloned().unwrap_or(Value::Null),
            parts
                .get(1)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        ),
        other => (other.clone(), Map::new()),
    };
    let (kind, choices) = match kind_value {
        Value::String(s) => (s, Vec::new()),
        Value::Array(list) => ("COMBO".to_owned(), list),
        _ => ("*".to_owned(), Vec::new()),
    };
    InputSpec {
        name: name.to_owned(),
        kind,
        options,
        choices,
    }
}

/// English names the frontend ships for stock classes whose `display_name` is null.
fn builtin_english_name(class: &str) -> Option<&'static str> {
    Some(match class {
        "ImageBlur" => "Image Blur",
        "ImageBlend" => "Image Blend",
        "ImageQuantize" => "Image Quantize",
        "ImageSharpen" => "Image Sharpen",
        "ImageScaleToTotalPixels" => "Scale Image to Total Pixels",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seeds_get_a_control_companion_unless_declared_false() {
        let def = json!({"input": {"required": {
            "seed": ["INT", {"default": 0}],
            "noise_seed": ["INT", {"control_after_generate": false}],
            "steps": ["INT", {"control_after_generate": true}],
            "mode": [["a", "b"], {"control_after_generate": true}],
            "image": [["a.png"], {"image_upload": true}],
            "model": ["MODEL"],
            "text": ["STRING", {"forceInput": true}]
        }}});
        let info = ClassInfo::parse("X", &def);
        let slots = info.widget_slots(false);
        let shape: Vec<&str> = slots
            .iter()
            .map(|(s, _)| match s {
                WidgetSlot::Widget(i) => info.inputs[*i].name.as_str(),
                WidgetSlot::Companion => "+",
            })
            .collect();
        assert_eq!(
            shape,
            [
                "seed",
                "+",
                "noise_seed",
                "steps",
                "+",
                "mode",
                "+",
                "+",
                "image",
                "+"
            ]
        );
        assert_eq!(info.widget_slots(true).len(), 11);
    }

    #[test]
    fn display_title_falls_back_to_builtin_names_then_class() {
        let blur = ClassInfo::parse("ImageBlur", &json!({"display_name": null}));
        assert_eq!(blur.display_title(), "Image Blur");
        let other = ClassInfo::parse("CFGNorm", &json!({}));
        assert_eq!(other.display_title(), "CFGNorm");
    }
}
