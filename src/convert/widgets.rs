//! From a node's stored `widgets_values` to its widget values (rules C1–C4): positional
//! against the class's widget list, companions skipped, defaults for missing places, no
//! coercion, and the loader's few fixes.

use super::schema::{ClassInfo, WidgetSlot};
use serde_json::Value;

/// One serialisable widget and its current value.
#[derive(Debug, Clone, PartialEq)]
pub struct Widget {
    pub name: String,
    pub value: Value,
}

/// The widget values of a node of a known class.
pub fn widget_values(class: &ClassInfo, stored: &Value) -> Vec<Widget> {
    // Some custom nodes store a name → value object instead of a list.
    if let Value::Object(by_name) = stored {
        return class
            .widget_slots(false)
            .into_iter()
            .filter_map(|(slot, _)| match slot {
                WidgetSlot::Widget(i) => Some(&class.inputs[i]),
                WidgetSlot::Companion => None,
            })
            .map(|input| Widget {
                name: input.name.clone(),
                value: fix(
                    class,
                    &input.name,
                    by_name
                        .get(&input.name)
                        .cloned()
                        .unwrap_or_else(|| input.default_value()),
                ),
            })
            .collect();
    }
    let values: &[Value] = stored.as_array().map(Vec::as_slice).unwrap_or(&[]);
    let current = class.widget_slots(false);
    let legacy = class.widget_slots(true);
    // Files from before `forceInput` inputs lost their widgets still hold their values
    // (rule C4): when the count matches that layout exactly, read it that way.
    let slots = if legacy.len() != current.len() && values.len() == legacy.len() {
        legacy
    } else {
        current
    };
    let mut widgets = Vec::new();
    for (position, (slot, legacy_only)) in slots.iter().enumerate() {
        let WidgetSlot::Widget(index) = slot else {
            continue;
        };
        if *legacy_only {
            continue;
        }
        let input = &class.inputs[*index];
        let value = values
            .get(position)
            .cloned()
            .unwrap_or_else(|| input.default_value());
        widgets.push(Widget {
            name: input.name.clone(),
            value: fix(class, &input.name, value),
        });
    }
    widgets
}

/// The loader's fix-ups of stored values (rule C4).
fn fix(class: &ClassInfo, name: &str, value: Value) -> Value {
    if name == "sampler_name"
        && matches!(class.name.as_str(), "KSampler" | "KSamplerAdvanced")
        && let Value::String(text) = &value
        && let Some(rest) = text.strip_prefix("sample_")
    {
        return Value::String(rest.to_owned());
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ksampler() -> ClassInfo {
        ClassInfo::parse(
            "KSampler",
            &json!({"input": {"required": {
                "model": ["MODEL"],
                "seed": ["INT", {"default": 0, "control_after_generate": true}],
                "steps": ["INT", {"default": 20}],
                "cfg": ["FLOAT", {"default": 8.0}],
                "sampler_name": [["euler", "euler_ancestral"]],
                "scheduler": [["normal", "karras"]],
                "positive": ["CONDITIONING"],
                "denoise": ["FLOAT", {"default": 1.0}]
            }}}),
        )
    }

    fn names_and_values(widgets: &[Widget]) -> Vec<(String, Value)> {
        widgets
            .iter()
            .map(|w| (w.name.clone(), w.value.clone()))
            .collect()
    }

    #[test]
    fn control_values_take_a_place_but_are_not_widgets() {
        let widgets = widget_values(
            &ksampler(),
            &json!([5, true, 30, 6.5, "sample_euler_ancestral", "karras", 0.5]),
        );
        assert_eq!(
            names_and_values(&widgets),
            vec![
                ("seed".into(), json!(5)),
                ("steps".into(), json!(30)),
                ("cfg".into(), json!(6.5)),
                ("sampler_name".into(), json!("euler_ancestral")),
                ("scheduler".into(), json!("karras")),
                ("denoise".into(), json!(0.5)),
            ]
        );
    }

    #[test]
    fn too_few_values_take_defaults_and_nothing_is_coerced() {
        let widgets = widget_values(&ksampler(), &json!(["randomize", "fixed", "64"]));
        assert_eq!(widgets[0].value, json!("randomize"));
        assert_eq!(widgets[1].value, json!("64"));
        assert_eq!(widgets[2].value, json!(8.0));
        assert_eq!(widgets[3].value, json!("euler"));
    }

    #[test]
    fn big_integers_are_kept_exactly() {
        let text = r#"[18446744073709551615, "fixed", 9007199254740993]"#;
        let stored: Value = serde_json::from_str(text).expect("json");
        let widgets = widget_values(&ksampler(), &stored);
        assert_eq!(
            serde_json::to_string(&widgets[0].value).expect("text"),
            "18446744073709551615"
        );
        assert_eq!(
            serde_json::to_string(&widgets[1].value).expect("text"),
            "9007199254740993"
        );
    }

    #[test]
    fn legacy_force_input_layouts_drop_their_values() {
        let class = ClassInfo::parse(
            "X",
            &json!({"input": {"required": {
                "text": ["STRING", {"forceInput": true}],
                "count": ["INT", {"default": 1}]
            }}}),
        );
        assert_eq!(
            names_and_values(&widget_values(&class, &json!(["old text", 4]))),
            vec![("count".into(), json!(4))]
        );
        assert_eq!(
            names_and_values(&widget_values(&class, &json!([7]))),
            vec![("count".into(), json!(7))]
        );
    }
}
