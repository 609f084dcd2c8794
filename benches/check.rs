//! The pre-flight check: the largest API prompt the frontend made (tests/fixtures/ui-to-api)
//! checked against the full `/object_info` of a real ComfyUI 0.3.64, and the cost of
//! reading that catalogue (it is fetched once per run).

use comfy_tui::check::check;
use comfy_tui::comfy::object_info::ObjectInfo;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value};
use std::hint::black_box;
use std::path::Path;

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The prompt with the most nodes (ties: the longest file).
fn largest_prompt() -> (String, Map<String, Value>) {
    let mut best: Option<(usize, usize, String, Map<String, Value>)> = None;
    let dir = fixtures().join("ui-to-api");
    for entry in std::fs::read_dir(&dir).expect("ui-to-api fixtures") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_owned();
        if !name.ends_with(".api.json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        let prompt: Map<String, Value> = serde_json::from_str(&text).expect("json");
        let key = (prompt.len(), text.len());
        if best.as_ref().is_none_or(|b| (b.0, b.1) < key) {
            best = Some((key.0, key.1, name, prompt));
        }
    }
    let (_, _, name, prompt) = best.expect("some prompt");
    (name, prompt)
}

fn bench(c: &mut Criterion) {
    let text =
        std::fs::read_to_string(fixtures().join("object_info_full.json")).expect("catalogue");
    let catalog = ObjectInfo::parse(&text, "object_info_full.json").expect("parses");
    let (name, prompt) = largest_prompt();
    eprintln!(
        "checking {name} ({} nodes) against {} classes",
        prompt.len(),
        catalog.len()
    );
    c.bench_function("check largest ui-to-api prompt", |b| {
        b.iter(|| check(black_box(&prompt), Some(black_box(&catalog))))
    });
    c.bench_function("structural check only", |b| {
        b.iter(|| check(black_box(&prompt), None))
    });
    c.bench_function("parse object_info_full.json", |b| {
        b.iter(|| ObjectInfo::parse(black_box(&text), "object_info_full.json"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
