//! The oracle: every UI-format file made by the real frontend converts to exactly the API
//! prompt the frontend made from it (compared as JSON values: numbers by value, key order
//! ignored). Frontend-only widgets (rule B4) may be absent on our side.

use comfy_tui::convert::{ConvertOptions, convert, is_ui_format};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn pair_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures().join("ui-to-api"))
        .expect("pairs dir")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".ui.json"))
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

/// Inputs that only a frontend extension adds; the server ignores them.
fn frontend_only(class: &str, input: &str) -> bool {
    matches!(
        (class, input),
        ("PreviewAny", "preview")
            | (
                "LoadAudio" | "SaveAudio" | "SaveAudioMP3" | "SaveAudioOpus",
                "audioUI"
            )
            | ("Preview3D" | "SaveGLB", "image")
    )
}

/// Equal as JSON values, with numbers compared by value.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                return x == y;
            }
            if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                return x == y;
            }
            x.as_f64() == y.as_f64()
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn differences(ours: &Value, theirs: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let (Some(ours), Some(theirs)) = (ours.as_object(), theirs.as_object()) else {
        return vec!["not objects".into()];
    };
    for id in theirs.keys().filter(|k| !ours.contains_key(*k)) {
        problems.push(format!("missing node {id}"));
    }
    for id in ours.keys().filter(|k| !theirs.contains_key(*k)) {
        problems.push(format!("extra node {id}"));
    }
    for (id, expected) in theirs {
        let Some(got) = ours.get(id) else { continue };
        let class = expected["class_type"].as_str().unwrap_or_default();
        if !same(&got["class_type"], &expected["class_type"]) {
            problems.push(format!(
                "{id}: class {} vs {}",
                got["class_type"], expected["class_type"]
            ));
        }
        if !same(&got["_meta"], &expected["_meta"]) {
            problems.push(format!(
                "{id}: _meta {} vs {}",
                got["_meta"], expected["_meta"]
            ));
        }
        let empty = serde_json::Map::new();
        let got_inputs = got["inputs"].as_object().unwrap_or(&empty);
        let want_inputs = expected["inputs"].as_object().unwrap_or(&empty);
        for (name, want) in want_inputs {
            match got_inputs.get(name) {
                None if frontend_only(class, name) => {}
                None => problems.push(format!("{id}.{name}: missing, want {want}")),
                Some(have) if !same(have, want) => {
                    problems.push(format!("{id}.{name}: {have} vs {want}"))
                }
                Some(_) => {}
            }
        }
        for name in got_inputs.keys().filter(|k| !want_inputs.contains_key(*k)) {
            problems.push(format!("{id}.{name}: extra {}", got_inputs[name]));
        }
    }
    problems
}

#[test]
fn every_pair_converts_equal() {
    let object_info = read_json(&fixtures().join("object_info_full.json"));
    let names = pair_names();
    assert_eq!(names.len(), 13, "all 13 pairs are present: {names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let dir = fixtures().join("ui-to-api");
        let ui = read_json(&dir.join(format!("{name}.ui.json")));
        let api = read_json(&dir.join(format!("{name}.api.json")));
        assert!(is_ui_format(&ui), "{name} is UI format");
        assert!(!is_ui_format(&api), "{name}'s prompt is not");
        let options = ConvertOptions::local_now(Some(1));
        match convert(&ui, &object_info, &options) {
            Ok(converted) => {
                let problems = differences(&Value::Object(converted.prompt), &api);
                if !problems.is_empty() {
                    failures.push(format!("{name}:\n  {}", problems.join("\n  ")));
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_comparison_itself_can_fail() {
    let api = read_json(&fixtures().join("ui-to-api/tpl_default.api.json"));
    let mut changed = api.clone();
    changed["3"]["inputs"]["cfg"] = Value::from(20);
    assert!(!differences(&changed, &api).is_empty());
    let mut as_float = api.clone();
    as_float["3"]["inputs"]["steps"] = serde_json::json!(20.0);
    assert!(
        differences(&as_float, &api).is_empty(),
        "numbers compare by value"
    );
}
