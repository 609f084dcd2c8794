//! The converter reads user files: damaged ones may be refused, never panic. Each case
//! takes a frontend pair and replaces one value somewhere in it with random JSON.

use comfy_tui::convert::{ConvertOptions, convert};
use proptest::prelude::*;
use serde_json::Value;
use std::path::Path;
use std::sync::OnceLock;

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

fn object_info() -> &'static Value {
    static INFO: OnceLock<Value> = OnceLock::new();
    INFO.get_or_init(|| fixture("object_info_full.json"))
}

fn pairs() -> &'static Vec<Value> {
    static PAIRS: OnceLock<Vec<Value>> = OnceLock::new();
    PAIRS.get_or_init(|| {
        [
            "hw_subgraphs",
            "hw_bypass_mute",
            "hw_primitive_reroute",
            "tpl_default",
        ]
        .iter()
        .map(|name| fixture(&format!("ui-to-api/{name}.ui.json")))
        .collect()
    })
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-3i64..30).prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        "[a-z0-9 _.:%{}|/\\\\-]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::hash_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replaces the `target`-th value (in a depth-first walk) with `replacement`.
fn replace_nth(value: &mut Value, target: &mut usize, replacement: &Value) -> bool {
    if *target == 0 {
        *value = replacement.clone();
        return true;
    }
    *target -= 1;
    match value {
        Value::Array(items) => items
            .iter_mut()
            .any(|item| replace_nth(item, target, replacement)),
        Value::Object(map) => map
            .values_mut()
            .any(|item| replace_nth(item, target, replacement)),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn damaged_workflows_are_refused_or_converted_never_a_panic(
        pair in 0usize..4,
        at in 1usize..4000,
        replacement in arb_json(),
        seed in any::<u64>(),
    ) {
        let mut ui = pairs()[pair].clone();
        let mut target = at;
        replace_nth(&mut ui, &mut target, &replacement);
        let options = ConvertOptions::local_now(Some(seed));
        let _ = convert(&ui, object_info(), &options);
    }

    #[test]
    fn random_graphs_are_refused_or_converted_never_a_panic(nodes in arb_json(), links in arb_json()) {
        let ui = serde_json::json!({"nodes": [nodes], "links": links});
        let _ = convert(&ui, object_info(), &ConvertOptions::local_now(Some(1)));
    }
}
